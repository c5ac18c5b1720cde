/*
 * duet/http_server.h - the simulator's small HTTP/1.1 server (host only, POSIX).
 *
 * It parses requests itself and hands each one to a handler with the transport-free
 * request/response shape of duet/api.h (normally duet_api_handle). Built for one local
 * user, not for the internet, but robust against garbage and against slow or hostile
 * clients:
 *   - listens on 127.0.0.1 by default (port 0 = pick a free port, see duet_http_port);
 *   - hard limits: request line and each header line <= DUET_HTTP_MAX_LINE bytes
 *     (414 / 431), at most DUET_HTTP_MAX_HEADERS headers (431), Content-Length must be a
 *     plain decimal < 2^32 (400 / 413); Transfer-Encoding (chunked) is refused (411)
 *     because uploads need their size up front; header lines with a NUL byte are
 *     refused (400); one request per connection ("Connection: close");
 *   - one thread per connection, at most max_conns connections; beyond that a
 *     connection is answered 503 at once and closed (duet_http_refused counts them).
 *     A slow client holds only its own connection, never another client's request;
 *   - deadlines, each counted on its own connection: nothing sent within
 *     idle_timeout_ms of the accept -> closed without an answer; the request line and
 *     headers not complete within header_timeout_ms of the accept -> 408, however
 *     slowly they trickle; each body read and each write waits at most io_timeout_ms;
 *     and a body must average min_body_rate bytes/s once body_grace_ms have passed
 *     (each min_body_rate bytes received buy one more second). A body that stalls or
 *     falls behind makes the handler's recv() return -(int)DUET_ERR_TIMEOUT, which the
 *     API answers 408 TIMEOUT (docs/http-api.md);
 *   - after the answer the server half-closes and swallows what the client still sends
 *     (an unread body) for at most 2 s in total, so the answer is not lost to a reset;
 *   - bodies are streamed: the handler's recv() reads straight from the socket, never
 *     past Content-Length; "Expect: 100-continue" is answered only when the handler
 *     starts reading, so a refused upload (401/411/413) is refused before it is sent.
 *
 * Threading contract: the handler runs on the connection threads, several at once, and
 * concurrently with the thread that calls duet_sup_poll(). With duet_api_handle, all
 * of them share one mutex: the poll loop holds it around every duet_sup_poll() (and
 * anything else touching the supervisor), and the API takes the same mutex around its
 * supervisor/OTA calls via duet_api_set_lock(api, duet_http_mutex_lock,
 * duet_http_mutex_unlock, &mutex). With the lock set the API serves requests
 * concurrently (reads during an upload; one upload at a time) and never holds the lock
 * while waiting on the network, so a slow client delays neither heartbeat/crash
 * detection nor other clients. A custom handler must be thread-safe itself.
 * duet_http_stop() wakes every waiting connection (an upload in progress is cut and
 * aborted), joins all threads, and must not be called from the handler.
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
#define DUET_HTTP_DEFAULT_MAX_CONNS 16u
#define DUET_HTTP_DEFAULT_MIN_RATE 4096u     /* body bytes/s, after the grace period */
#define DUET_HTTP_NO_MIN_RATE UINT32_MAX     /* min_body_rate: no minimum rate */

/** Request handler: same shape as duet_api_handle. */
typedef duet_err_t (*duet_http_handler_fn)(void *ctx, const duet_api_req_t *req,
                                           const duet_api_resp_t *resp);

typedef struct {
    const char *host;              /* bind address, NULL = "127.0.0.1" */
    uint16_t port;                 /* 0 = any free port */
    duet_api_t *api;               /* used when handler is NULL */
    duet_http_handler_fn handler;  /* custom handler (tests), or NULL */
    void *handler_ctx;
    uint32_t io_timeout_ms;        /* one body read or answer write; 0 = DUET_HTTP_DEFAULT_TIMEOUT_MS */
    /* ---- appended (zero = the default) ---------------------------------------------- */
    uint32_t header_timeout_ms;    /* request line + headers, from the accept; 0 = io_timeout_ms */
    uint32_t idle_timeout_ms;      /* first byte, from the accept (<= header_timeout_ms);
                                      0 = header_timeout_ms */
    uint32_t min_body_rate;        /* bytes/s; 0 = DUET_HTTP_DEFAULT_MIN_RATE,
                                      DUET_HTTP_NO_MIN_RATE = none */
    uint32_t body_grace_ms;        /* before the rate counts; 0 = io_timeout_ms */
    uint32_t max_conns;            /* connections at once; 0 = DUET_HTTP_DEFAULT_MAX_CONNS */
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
/** Connections refused with 503 because max_conns were open (diagnostics, tests). */
uint32_t duet_http_refused(const duet_http_server_t *srv);
/** Connections being served right now (diagnostics, tests). */
uint32_t duet_http_connections(const duet_http_server_t *srv);
/** Stop accepting, wake and join every connection thread (requests still waiting on
 *  their client are cut: an upload is aborted) and free everything. NULL is ok. */
void duet_http_stop(duet_http_server_t *srv);

/** Adapters for duet_api_set_lock() with a pthread_mutex_t *. */
void duet_http_mutex_lock(void *pthread_mutex);
void duet_http_mutex_unlock(void *pthread_mutex);

#ifdef __cplusplus
}
#endif
#endif /* DUET_HTTP_SERVER_H */
