/*
 * duet/api.h - the HTTP API of the supervisor, as transport-independent handler logic.
 *
 * The simulator's small HTTP server (port/host) and ESP-IDF's esp_http_server
 * (port/esp32s3) both parse the request line and headers themselves and hand the request
 * to duet_api_handle(), which reads the body through a callback and answers through
 * callbacks. Routes:
 *
 *   GET  /                 web page (status, upload with progress, crash view)
 *   GET  /api/status       JSON: state, slot(s), versions, epoch, heartbeat, restarts, crash
 *   POST /api/image        body = image, streamed into the inactive slot   [token]
 *   POST /api/start|stop|restart|rollback                                  [token]
 *   GET  /api/crash        JSON: last crash record (decoded)
 *   GET  /api/log          text: recent core-1 log lines
 *
 * Writes need "Authorization: Bearer <token>". Errors are JSON {"error":NAME,"message":..}
 * with a fitting HTTP status. A refused upload changes nothing.
 */
#ifndef DUET_API_H
#define DUET_API_H

#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/ota.h"
#include "duet/sup.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *method;         /* "GET", "POST", ... */
    const char *path;           /* without query string */
    const char *authorization;  /* value of the Authorization header, or NULL */
    uint32_t content_length;    /* body bytes announced (0 if none) */
    /** Read up to cap body bytes. Returns bytes read, 0 at end, < 0 on error. */
    int (*recv)(void *ctx, void *buf, size_t cap);
    void *ctx;
} duet_api_req_t;

typedef struct {
    /** Send status line + headers. len < 0: unknown length (chunked or close). */
    int (*start)(void *ctx, int status, const char *content_type, long len);
    /** Send body bytes. Returns 0 on success. */
    int (*write)(void *ctx, const void *data, size_t len);
    void *ctx;
} duet_api_resp_t;

#define DUET_API_LOG_LINES 64
#define DUET_API_LOG_LINE_LEN 160

typedef struct {
    duet_sup_t *sup;
    const char *token;          /* required bearer token; NULL or "" refuses all writes */
    uint32_t max_upload;        /* largest body accepted for /api/image */
    duet_ota_t ota;             /* one upload at a time */
    /* recent core-1 log lines for GET /api/log (fed by duet_api_log_line) */
    char log[DUET_API_LOG_LINES][DUET_API_LOG_LINE_LEN];
    uint32_t log_head;          /* lines ever added */
} duet_api_t;

duet_err_t duet_api_init(duet_api_t *api, duet_sup_t *sup, const char *token, uint32_t max_upload);
/** Handle one request completely (reads the whole body, writes the whole answer). */
duet_err_t duet_api_handle(duet_api_t *api, const duet_api_req_t *req, const duet_api_resp_t *resp);
/** Remember a core-1 log line for GET /api/log (call from the supervisor event callback). */
void duet_api_log_line(duet_api_t *api, int level, const char *text, size_t len);
/** Write the status JSON into buf (NUL-terminated). Returns bytes or DUET_ERR_NOMEM. */
duet_err_t duet_api_status_json(duet_api_t *api, char *buf, size_t cap, size_t *len);

/** The embedded web page (web/index.html), generated at build time. */
extern const char duet_web_index_html[];
extern const size_t duet_web_index_html_len;

#ifdef __cplusplus
}
#endif
#endif /* DUET_API_H */
