/*
 * api.c - the supervisor's HTTP API as transport-independent handler logic (duet/api.h).
 *
 * Organisation: init/lock, error mapping and answer helpers, bearer-token check and the
 * failed-token limiter, the log buffer, control routes (start/stop/restart/rollback),
 * then duet_api_handle(), the router. Status/crash JSON live in api_status.c, the
 * streamed upload in api_upload.c.
 *
 * Threading. With a lock set (duet_api_set_lock) requests may be handled concurrently,
 * from several threads/tasks and alongside duet_sup_poll(): every supervisor, OTA,
 * limiter and log-buffer access below is bracketed by api_lock/api_unlock, the lock is
 * never held while sending or receiving (a slow client cannot stall the supervisor or
 * another client), reads build their answers in their own buffers, and the one upload
 * that claimed api->upload_active owns api->ota and api->scratch. Without a lock the
 * caller serialises everything, so a request arriving while one is handled (from a
 * callback) is refused with 503 (api->busy).
 *
 * Tokens: compared as SHA-256 digests in constant time (neither the position of the
 * first difference nor the lengths show in the timing); repeated failures lock the
 * token routes for a while (429); no token, given or configured, is ever logged or
 * echoed in an answer.
 *
 * Portable: no OS headers; compiles for ESP-IDF unchanged.
 */
#include "duet/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"
#include "duet/crypto.h"
#include "duet/json.h"
#include "duet/port.h"

#define DEFAULT_MAX_UPLOAD (1024u * 1024u)


duet_err_t duet_api_init(duet_api_t *api, duet_sup_t *sup, const char *token, uint32_t max_upload)
{
    if (!api || !sup)
        return DUET_ERR_INVAL;
    memset(api, 0, sizeof(*api));
    api->sup = sup;
    api->token = token;
    if (max_upload == 0) {
        /* default: the slot size, the largest image that could ever be installed */
        uint32_t size = 0, erase = 0;
        if (duet_port_flash_info(DUET_AREA_SLOT_A, &size, &erase) == DUET_OK && size > 0)
            max_upload = size;
        else
            max_upload = DEFAULT_MAX_UPLOAD;
    }
    api->max_upload = max_upload;
    api->upload_err = DUET_OK;
    api->auth_max_failures = DUET_API_AUTH_MAX_FAILURES;
    api->auth_window_ms = DUET_API_AUTH_WINDOW_MS;
    api->auth_lockout_ms = DUET_API_AUTH_LOCKOUT_MS; /* counters: zero from the memset */
    return DUET_OK;
}

void duet_api_set_lock(duet_api_t *api, void (*lock)(void *), void (*unlock)(void *), void *ctx)
{
    api->lock = lock;
    api->unlock = unlock;
    api->lock_ctx = ctx;
}

int duet_api_http_status(duet_err_t e)
{
    if (e == DUET_OK)
        return 200;
    /* Every IMG_* code: the rules were appended in three runs (err.h keeps numbers). */
    if ((e >= DUET_ERR_IMG_TRUNCATED && e <= DUET_ERR_IMG_STACK_OVERLAP) ||
        (e >= DUET_ERR_IMG_XIP_DISABLED && e <= DUET_ERR_IMG_XIP_SLOT)) {
        if (e == DUET_ERR_IMG_TOO_BIG)
            return 413;
        return 422; /* well-formed request, unacceptable image */
    }
    switch (e) {
    case DUET_ERR_INVAL:
        return 400;
    case DUET_ERR_AUTH:
        return 401;
    case DUET_ERR_NOT_FOUND:
    case DUET_ERR_NO_IMAGE:
        return 404;
    case DUET_ERR_TIMEOUT:
        return 408;
    case DUET_ERR_STATE:
    case DUET_ERR_BUSY:
    case DUET_ERR_OTA_STATE:
    case DUET_ERR_CRASH_LOOP:
        return 409;
    case DUET_ERR_NOMEM:
        return 507;
    case DUET_ERR_UNSUPPORTED:
        return 501;
    default:
        return 500;
    }
}

const char *duet_api_reason_phrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Error";
    }
}

int duet_api_send(const duet_api_resp_t *resp, int status, const char *type, const void *body,
                  size_t len)
{
    if (resp->start(resp->ctx, status, type, (long)len) != 0)
        return -1;
    if (len > 0 && resp->write(resp->ctx, body, len) != 0)
        return -1;
    return 0;
}

duet_err_t duet_api_send_error(duet_api_t *api, const duet_api_resp_t *resp, int status,
                               duet_err_t e, const char *message)
{
    /* a small local buffer: errors can be sent while api->scratch holds an upload chunk */
    char buf[320];
    duet_json_t j;
    size_t len;
    if (status == 0)
        status = duet_api_http_status(e);
    duet_json_init(&j, buf, sizeof(buf));
    duet_json_obj_begin(&j, NULL);
    duet_json_str(&j, "error", duet_err_name(e));
    duet_json_u64(&j, "code", (uint64_t)e);
    duet_json_u64(&j, "status", (uint64_t)status);
    duet_json_str(&j, "reason", duet_api_reason_phrase(status));
    duet_json_str(&j, "message", message ? message : duet_err_str(e));
    duet_json_obj_end(&j);
    if (duet_json_finish(&j, &len) != DUET_OK) {
        static const char fallback[] = "{\"error\":\"NOMEM\"}";
        duet_api_send(resp, status, "application/json", fallback, sizeof(fallback) - 1);
        return e;
    }
    (void)api;
    duet_api_send(resp, status, "application/json", buf, len); /* peer may be gone: nothing to do */
    return e;
}

/* ---- bearer token ------------------------------------------------------------------ */

/* Compare the SHA-256 digests of both tokens in constant time: the time depends neither
 * on where the first difference is nor on the configured token's length, so the token
 * cannot be guessed byte by byte (or its length learned) from timing. */
static bool token_equal(const char *given, size_t glen, const char *want)
{
    uint8_t hg[DUET_CRYPTO_SHA256_LEN] = {0}, hw[DUET_CRYPTO_SHA256_LEN] = {0};
    bool ok = duet_crypto_sha256(given, glen, hg) == DUET_OK &&
              duet_crypto_sha256(want, strlen(want), hw) == DUET_OK;
    volatile unsigned char diff = (unsigned char)!ok;
    for (size_t i = 0; i < sizeof(hg); i++)
        diff |= (unsigned char)(hg[i] ^ hw[i]);
    /* digests of a secret: do not leave them on the stack (volatile: not optimised out) */
    for (volatile uint8_t *a = hg, *b = hw; a < hg + sizeof(hg); a++, b++)
        *a = *b = 0;
    return diff == 0;
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* DUET_OK if the Authorization header carries the configured token. */
static duet_err_t check_auth(const duet_api_t *api, const char *authz, int *status,
                             const char **msg)
{
    static const char scheme[] = "bearer";
    if (!api->token || !api->token[0]) {
        *status = 403;
        *msg = "writes are disabled: no API token is configured";
        return DUET_ERR_AUTH;
    }
    *status = 401;
    *msg = "missing or wrong bearer token";
    if (!authz)
        return DUET_ERR_AUTH;
    for (size_t i = 0; i < sizeof(scheme) - 1; i++)
        if (lower((unsigned char)authz[i]) != scheme[i]) /* stops at NUL: it never matches */
            return DUET_ERR_AUTH;
    const char *p = authz + sizeof(scheme) - 1;
    if (*p != ' ' && *p != '\t')
        return DUET_ERR_AUTH;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t glen = strlen(p);
    while (glen > 0 && (p[glen - 1] == ' ' || p[glen - 1] == '\t'))
        glen--;
    if (!token_equal(p, glen, api->token))
        return DUET_ERR_AUTH;
    return DUET_OK;
}

void duet_api_auth_limit_set(duet_api_t *api, const duet_api_auth_limit_t *limit)
{
    static const duet_api_auth_limit_t defaults = {
        DUET_API_AUTH_MAX_FAILURES, DUET_API_AUTH_WINDOW_MS, DUET_API_AUTH_LOCKOUT_MS};
    const duet_api_auth_limit_t *l = limit ? limit : &defaults;
    api_lock(api);
    api->auth_max_failures = l->max_failures;
    api->auth_window_ms = l->window_ms;
    api->auth_lockout_ms = l->lockout_ms;
    api->auth_failures = 0;
    api->auth_window_start_us = 0;
    api->auth_locked_until_us = 0;
    api_unlock(api);
}

uint32_t duet_api_auth_locked_ms(const duet_api_t *api)
{
    uint64_t now = duet_port_now_us();
    if (api->auth_locked_until_us <= now)
        return 0;
    uint64_t left = (api->auth_locked_until_us - now + 999u) / 1000u;
    return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

/* The token check with the limiter around it. Lock held by the caller. Returns DUET_OK,
 * or DUET_ERR_AUTH with the status (401/403/429) and message to answer. */
static duet_err_t auth_locked(duet_api_t *api, const char *authz, int *status,
                              const char **msg)
{
    uint64_t now = duet_port_now_us();
    if (api->auth_locked_until_us > now) {
        *status = 429;
        /* a fixed text: no buffer on this path (it runs on the chip's HTTP task stack) */
        *msg = "too many failed token attempts: token routes locked for a while "
               "(auth_locked_ms in /api/status)";
        return DUET_ERR_AUTH;
    }
    api->auth_locked_until_us = 0;
    duet_err_t e = check_auth(api, authz, status, msg);
    if (e != DUET_OK && *status == 401 && api->auth_max_failures != 0) {
        if (api->auth_failures == 0 ||
            now - api->auth_window_start_us >= (uint64_t)api->auth_window_ms * 1000u) {
            api->auth_failures = 0; /* a new window starts with this failure */
            api->auth_window_start_us = now;
        }
        if (++api->auth_failures >= api->auth_max_failures) {
            api->auth_locked_until_us = now + (uint64_t)api->auth_lockout_ms * 1000u;
            api->auth_failures = 0;
        }
    }
    return e;
}

/* ---- log buffer -------------------------------------------------------------------- */

void duet_api_log_line(duet_api_t *api, int level, const char *text, size_t len)
{
    static const char lv[] = "?EWID";
    char *line = api->log[api->log_head % DUET_API_LOG_LINES];
    size_t room = DUET_API_LOG_LINE_LEN - 3; /* "X " prefix and NUL */
    if (!text)
        len = 0;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    if (len > room)
        len = room;
    line[0] = (level >= 1 && level <= 4) ? lv[level] : lv[0];
    line[1] = ' ';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        /* one record = one line: fold control characters (the text is core-1 input) */
        line[2 + i] = (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
    }
    line[2 + len] = '\0';
    api->log_head++;
}

static duet_err_t send_log(duet_api_t *api, const duet_api_resp_t *resp)
{
    char line[DUET_API_LOG_LINE_LEN + 1];
    api_lock(api);
    uint32_t head = api->log_head;
    api_unlock(api);
    uint32_t first = head > DUET_API_LOG_LINES ? head - DUET_API_LOG_LINES : 0;
    if (resp->start(resp->ctx, 200, "text/plain; charset=utf-8", -1) != 0)
        return DUET_ERR_IO;
    for (uint32_t seq = first; seq != head; seq++) {
        bool ok = false;
        api_lock(api);
        /* lines can be overwritten between copies: skip those that were */
        if (api->log_head - seq <= DUET_API_LOG_LINES) {
            memcpy(line, api->log[seq % DUET_API_LOG_LINES], DUET_API_LOG_LINE_LEN);
            ok = true;
        }
        api_unlock(api);
        if (!ok)
            continue;
        line[DUET_API_LOG_LINE_LEN - 1] = '\0';
        size_t n = strlen(line);
        line[n++] = '\n';
        if (resp->write(resp->ctx, line, n) != 0)
            return DUET_ERR_IO;
    }
    return DUET_OK;
}

/* ---- control ----------------------------------------------------------------------- */

static duet_err_t control(duet_api_t *api, const char *what, const duet_api_resp_t *resp)
{
    duet_err_t e;
    duet_sup_status_t st;
    api_lock(api);
    if (api->upload_active) {
        e = DUET_ERR_BUSY; /* the inactive slot is being written: no slot changes now */
    } else if (strcmp(what, "start") == 0) {
        e = duet_sup_start(api->sup);
    } else if (strcmp(what, "stop") == 0) {
        e = duet_sup_stop(api->sup);
    } else if (strcmp(what, "restart") == 0) {
        e = duet_sup_restart(api->sup);
    } else {
        e = duet_sup_rollback(api->sup);
    }
    duet_sup_get_status(api->sup, &st);
    api_unlock(api);
    if (e != DUET_OK)
        return duet_api_send_error(api, resp, 0, e,
                                   e == DUET_ERR_BUSY ? "an upload is in progress" : NULL);
    char buf[160];
    duet_json_t j;
    size_t len;
    duet_json_init(&j, buf, sizeof(buf));
    duet_json_obj_begin(&j, NULL);
    duet_json_bool(&j, "ok", true);
    duet_json_str(&j, "action", what);
    duet_json_str(&j, "state", duet_sup_state_name(st.state));
    duet_json_i64(&j, "active_slot", st.active_slot);
    duet_json_u64(&j, "epoch", st.epoch);
    duet_json_obj_end(&j);
    (void)duet_json_finish(&j, &len); /* 160 bytes always fit these fields */
    return duet_api_send(resp, 200, "application/json", buf, len) == 0 ? DUET_OK : DUET_ERR_IO;
}

/* ---- router ------------------------------------------------------------------------ */

static duet_err_t send_json_from(duet_api_t *api, const duet_api_resp_t *resp,
                                 duet_err_t (*fn)(duet_api_t *, char *, size_t, size_t *))
{
    /* Its own buffer: reads may run while an upload fills api->scratch, and alongside
     * each other (api.c header). */
    char *buf = malloc(DUET_API_JSON_CAP);
    size_t len = 0;
    if (!buf)
        return duet_api_send_error(api, resp, 507, DUET_ERR_NOMEM, "no memory for the answer");
    api_lock(api);
    duet_err_t e = fn(api, buf, DUET_API_JSON_CAP, &len);
    api_unlock(api);
    if (e != DUET_OK) {
        free(buf);
        return duet_api_send_error(api, resp, 500, e, "answer does not fit");
    }
    e = duet_api_send(resp, 200, "application/json", buf, len) == 0 ? DUET_OK : DUET_ERR_IO;
    free(buf);
    return e;
}

static duet_err_t route(duet_api_t *api, const duet_api_req_t *req, const duet_api_resp_t *resp)
{
    const char *m = req->method, *p = req->path;
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    bool post = strcmp(m, "POST") == 0;
    static const char *const actions[] = {"start", "stop", "restart", "rollback"};

    if (strcmp(p, "/") == 0 || strcmp(p, "/index.html") == 0) {
        if (!get)
            return duet_api_send_error(api, resp, 405, DUET_ERR_INVAL, "use GET");
        return duet_api_send(resp, 200, "text/html; charset=utf-8", duet_web_index_html,
                             duet_web_index_html_len) == 0
                   ? DUET_OK
                   : DUET_ERR_IO;
    }
    if (strcmp(p, "/api/status") == 0) {
        if (!get)
            return duet_api_send_error(api, resp, 405, DUET_ERR_INVAL, "use GET");
        return send_json_from(api, resp, duet_api_status_json);
    }
    if (strcmp(p, "/api/crash") == 0) {
        if (!get)
            return duet_api_send_error(api, resp, 405, DUET_ERR_INVAL, "use GET");
        return send_json_from(api, resp, duet_api_crash_json);
    }
    if (strcmp(p, "/api/timing") == 0) {
        if (!get)
            return duet_api_send_error(api, resp, 405, DUET_ERR_INVAL, "use GET");
        return duet_api_send_timing(api, resp);
    }
    if (strcmp(p, "/api/log") == 0) {
        if (!get)
            return duet_api_send_error(api, resp, 405, DUET_ERR_INVAL, "use GET");
        return send_log(api, resp);
    }
    bool is_image = strcmp(p, "/api/image") == 0;
    bool is_timing_reset = strcmp(p, "/api/timing/reset") == 0;
    const char *action = NULL;
    if (strncmp(p, "/api/", 5) == 0)
        for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
            if (strcmp(p + 5, actions[i]) == 0)
                action = actions[i];
    if (!is_image && !is_timing_reset && !action)
        return duet_api_send_error(api, resp, 404, DUET_ERR_NOT_FOUND, "no such route");
    if (!post)
        return duet_api_send_error(api, resp, 405, DUET_ERR_INVAL, "use POST");

    int status = 401;
    const char *msg = NULL;
    api_lock(api);
    duet_err_t auth = auth_locked(api, req->authorization, &status, &msg);
    if (auth != DUET_OK && is_image)
        api->uploads_refused++;
    api_unlock(api);
    if (auth != DUET_OK)
        return duet_api_send_error(api, resp, status, DUET_ERR_AUTH, msg);
    if (is_image)
        return duet_api_upload(api, req, resp);
    if (is_timing_reset)
        return duet_api_timing_reset(api, resp);
    return control(api, action, resp);
}

duet_err_t duet_api_handle(duet_api_t *api, const duet_api_req_t *req, const duet_api_resp_t *resp)
{
    if (!api || !req || !resp || !req->method || !req->path || !resp->start || !resp->write)
        return DUET_ERR_INVAL;
    /* Without a lock nothing makes concurrent use safe: one request at a time. */
    bool serial = api->lock == NULL;
    if (serial) {
        if (api->busy)
            return duet_api_send_error(api, resp, 503, DUET_ERR_BUSY, "another request is running");
        api->busy = true;
    }
    duet_err_t e = route(api, req, resp);
    if (serial)
        api->busy = false;
    return e;
}
