/*
 * duet/http_server.h - the simulator's small HTTP/1.1 server (host only, POSIX).
 *
 * It parses requests itself and hands each one to a handler with the transport-free
 * request/response shape of duet/api.h (normally duet_api_handle). Built for one local
 * user, not for the internet, but robust against garbage:
 *   - listens on 127.0.0.1 by default (port 0 = pick a free port, see duet_http_port);
 *   - hard limits: request line and each header line <= DUET_HTTP_MAX_LINE bytes
 *     (414 / 431), at most DUET_HTTP_MAX_HEADERS headers (431), Content-Length must be a
 *     plain decimal < 2^32 (400 / 413); Transfer-Encoding (chunked) is refused (411)
 *     because uploads need their size up front;
 *   - the request line and headers must arrive within io_timeout_ms in total (else
 *     408 or a silent close), however slowly they trickle; every body read and every
 *     write has its own io_timeout_ms; after the answer the server half-closes and
 *     swallows what the client still sends (an unread body) for at most 2 s in total,
 *     so the answer is not lost to a connection reset; header lines with a NUL byte
 *     are refused (400); one connection per request ("Connection: close"). A client
 *     that keeps a body upload trickling holds the one server thread for as long as
 *     it does (a simulator limit);
 *   - bodies are streamed: the handler's recv() reads straight from the socket, never
 *     past Content-Length; "Expect: 100-continue" is answered only when the handler
 *     starts reading, so a refused upload (401/411/413) is refused before it is sent.
 *
 * Threading contract: duet_http_start() runs ONE server thread; requests are handled one
 * at a time on it. The handler therefore runs concurrently with the thread that calls
 * duet_sup_poll(). Both must share one mutex: the poll loop holds it around every
 * duet_sup_poll() (and anything else touching the supervisor), and the API takes the
 * same mutex around its supervisor/OTA calls via duet_api_set_lock(api,
 * duet_http_mutex_lock, duet_http_mutex_unlock, &mutex). The API never holds it while
 * waiting on the network, so a slow upload does not delay heartbeat/crash detection.
 * duet_http_stop() must not be called from the handler.
 */
#ifndef DUET_HTTP_SERVER_H
#define DUET_HTTP_SERVER_H

#include <stdint.h>

#include "duet/api.h"
#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_HTTP_MAX_LINE 2048u   /* request line / header line, bytes incl. CRLF */
#define DUET_HTTP_MAX_HEADERS 32u  /* header lines per request */
#define DUET_HTTP_DEFAULT_TIMEOUT_MS 5000u

/** Request handler: same shape as duet_api_handle. */
typedef duet_err_t (*duet_http_handler_fn)(void *ctx, const duet_api_req_t *req,
                                           const duet_api_resp_t *resp);

typedef struct {
    const char *host;              /* bind address, NULL = "127.0.0.1" */
    uint16_t port;                 /* 0 = any free port */
    duet_api_t *api;               /* used when handler is NULL */
    duet_http_handler_fn handler;  /* custom handler (tests), or NULL */
    void *handler_ctx;
    uint32_t io_timeout_ms;        /* 0 = DUET_HTTP_DEFAULT_TIMEOUT_MS */
} duet_http_config_t;

typedef struct duet_http_server duet_http_server_t;

/** Bind, listen and start the server thread.
 *  @return DUET_OK, DUET_ERR_INVAL (bad config), DUET_ERR_IO (bind/listen failed, e.g.
 *          port in use), DUET_ERR_NOMEM. */
duet_err_t duet_http_start(const duet_http_config_t *cfg, duet_http_server_t **out);
/** The port actually bound (useful with port 0). */
uint16_t duet_http_port(const duet_http_server_t *srv);
/** Requests handled so far (diagnostics, tests). */
uint32_t duet_http_requests(const duet_http_server_t *srv);
/** Stop the thread (finishing the request in progress) and free everything. NULL is ok. */
void duet_http_stop(duet_http_server_t *srv);

/** Adapters for duet_api_set_lock() with a pthread_mutex_t *. */
void duet_http_mutex_lock(void *pthread_mutex);
void duet_http_mutex_unlock(void *pthread_mutex);

#ifdef __cplusplus
}
#endif
#endif /* DUET_HTTP_SERVER_H */
