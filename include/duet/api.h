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
 *   GET  /api/timing       JSON: core 1's loop-timing histogram (duet/timing.h)
 *   POST /api/timing/reset ask core 1 to clear it                          [token]
 *
 * Writes need "Authorization: Bearer <token>". Errors are JSON {"error":NAME,"message":..}
 * with a fitting HTTP status. A refused upload changes nothing.
 */
#ifndef DUET_API_H
#define DUET_API_H

#include <stdbool.h>
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
    /* ---- appended (keep the fields above in place) ------------------------------ */
    /* Optional lock shared with the thread/task that calls duet_sup_poll(): the handler
     * takes it around every supervisor/OTA call and around the log/status snapshot,
     * and never while waiting for the network. NULL = caller serialises everything. */
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    void *lock_ctx;
    bool busy;                  /* a request is being handled (handler is not reentrant) */
    bool upload_active;         /* an /api/image upload is streaming into api->ota */
    uint32_t upload_total;      /* Content-Length of the current/last upload */
    uint32_t upload_received;   /* bytes of it handed to duet_ota_write so far */
    duet_err_t upload_err;      /* result of the last upload (DUET_OK if none) */
    uint32_t uploads_ok;        /* uploads installed since init */
    uint32_t uploads_refused;   /* uploads refused since init */
    char scratch[4096];         /* JSON answers and upload chunks (no big stack frames) */
    /* failed-token limiter (core/api_priv.h), per API: a second API object in the same
     * process (the chip's MQTT status) neither shares nor resets it */
    uint32_t auth_max_failures, auth_window_ms, auth_lockout_ms; /* 0 failures = no limit */
    uint32_t auth_failures;        /* within the current window */
    uint64_t auth_window_start_us; /* first failure of the window */
    uint64_t auth_locked_until_us; /* != 0: token routes answer 429 until then */
} duet_api_t;

duet_err_t duet_api_init(duet_api_t *api, duet_sup_t *sup, const char *token, uint32_t max_upload);
/** Handle one request completely (reads the whole body, writes the whole answer). */
duet_err_t duet_api_handle(duet_api_t *api, const duet_api_req_t *req, const duet_api_resp_t *resp);
/** Remember a core-1 log line for GET /api/log (call from the supervisor event callback). */
void duet_api_log_line(duet_api_t *api, int level, const char *text, size_t len);
/** Write the status JSON into buf (NUL-terminated). Returns bytes or DUET_ERR_NOMEM.
 *  Call with the lock held (or from the thread that polls the supervisor). */
duet_err_t duet_api_status_json(duet_api_t *api, char *buf, size_t cap, size_t *len);
/** Set the lock described at duet_api_t.lock (call before serving requests). */
void duet_api_set_lock(duet_api_t *api, void (*lock)(void *), void (*unlock)(void *), void *ctx);
/** The HTTP status duet_api_handle answers for an error code (e.g. 422 for IMG_*). */
int duet_api_http_status(duet_err_t e);
/** Reason phrase for an HTTP status code ("Error" for codes duet does not use). */
const char *duet_api_reason_phrase(int status);
/** Write the last crash as JSON ({"valid":false,...} fields if none). Lock as above. */
duet_err_t duet_api_crash_json(duet_api_t *api, char *buf, size_t cap, size_t *len);

/** The embedded web page (web/index.html), generated at build time. */
extern const char duet_web_index_html[];
extern const size_t duet_web_index_html_len;

#ifdef __cplusplus
}
#endif
#endif /* DUET_API_H */
