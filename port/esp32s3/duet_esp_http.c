/*
 * duet_esp_http.c - esp_http_server glue for the portable HTTP API (include/duet/api.h).
 *
 * One wildcard handler (URI "/" + "*", HTTP_ANY, httpd_uri_match_wildcard) turns an httpd_req_t
 * into duet_api_req_t/duet_api_resp_t and calls duet_api_handle(), which does routing,
 * the token check and its failed-attempt limiter, JSON and the streamed upload
 * (core/api*.c). Request bodies are read with httpd_req_recv as the handler asks for
 * them, so an image upload goes from the socket into the inactive slot in small pieces,
 * never whole into RAM. Answers are sent chunked (httpd_resp_send_chunk), so no length
 * is needed up front.
 *
 * Organisation: configuration fallbacks, the transport adapters (body reads with the
 * stall and minimum-rate deadlines, answers), the bounded drain of an unread body, one
 * request served (serve_req), the upload task (async handlers), the token (NVS or
 * Kconfig), registration and start.
 *
 * Slow clients. esp_http_server is one task around select(): idle connections cost a
 * socket, not the task; reading a request's head and body blocks the task. What is used:
 * recv_wait_timeout/send_wait_timeout (CONFIG_DUET_HTTP_TIMEOUT_S) bound each read and
 * write; max_open_sockets (CONFIG_DUET_HTTP_MAX_SOCKETS) with lru_purge_enable closes the
 * least recently used connection when a new one arrives at the cap; an upload body that
 * stalls for one timeout or averages less than CONFIG_DUET_HTTP_MIN_UPLOAD_RATE after a
 * grace of one timeout is cut with 408 (recv() says -(int)DUET_ERR_TIMEOUT to the API);
 * an unread body (refused upload) is swallowed for at most DRAIN_MS and then the
 * connection is closed, instead of esp_http_server reading all of it in its own task;
 * with CONFIG_DUET_HTTP_ASYNC_UPLOAD an upload runs in its own task
 * (httpd_req_async_handler_begin), so the server task keeps answering reads meanwhile.
 * What esp_http_server cannot do: see docs/http-api.md "On the chip".
 *
 * Locking: the API object takes the supervisor lock (duet_esp_lock, recursive) around
 * supervisor and OTA calls only, never while it waits for the network
 * (duet_api_set_lock); with it set, the server task and the upload task may both be in
 * duet_api_handle.
 * APIs: esp_http_server/include/esp_http_server.h and http_parser/http_parser.h
 * (http_method_str), nvs_flash/include/nvs.h, v5.3-v5.5.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_http_server.h"
#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/task.h"
#include "http_parser.h"
#if __has_include("nvs.h")
#include "nvs.h" /* the component needs nvs_flash among its requirements for this */
#define DUET_HTTP_HAVE_NVS 1
#endif

#include "duet/api.h"
#include "duet/port.h"
#include "duet_esp.h"
#include "duet_esp_http.h"
#include "duet_esp_priv.h"

/* ---- configuration (Kconfig; fallbacks when the HTTP options are not in sdkconfig) ---- */
#ifndef CONFIG_DUET_HTTP_STACK
#define CONFIG_DUET_HTTP_STACK 8192
#endif
#ifndef CONFIG_DUET_HTTP_TIMEOUT_S
#define CONFIG_DUET_HTTP_TIMEOUT_S 5
#endif
#ifndef CONFIG_DUET_HTTP_MAX_SOCKETS
#define CONFIG_DUET_HTTP_MAX_SOCKETS 7
#endif
#ifndef CONFIG_DUET_HTTP_MIN_UPLOAD_RATE
#define CONFIG_DUET_HTTP_MIN_UPLOAD_RATE 4096
#endif

/* An unread request body (a refused upload) is swallowed for at most this long, then
 * the connection is closed: esp_http_server would otherwise read all of it, however
 * slowly it comes, in its one task. */
#define DRAIN_MS 1000u
#define TIMEOUT_US ((uint64_t)CONFIG_DUET_HTTP_TIMEOUT_S * 1000000u)

/* "Bearer " + token + NUL. The header itself must also fit CONFIG_HTTPD_MAX_REQ_HDR_LEN
 * (the whole request header block), which the OTA example raises to 1024. */
#define AUTH_MAX 256
#define TOKEN_MAX (AUTH_MAX - sizeof("Bearer ") + 1) /* characters + NUL */
#ifdef CONFIG_DUET_HTTP_TOKEN
_Static_assert(sizeof("Bearer " CONFIG_DUET_HTTP_TOKEN) <= AUTH_MAX,
               "duet: CONFIG_DUET_HTTP_TOKEN is too long for the Authorization buffer (max 248 characters)");
#endif
/* Provisioned token: NVS namespace / key (docs/http-api.md). */
#define TOKEN_NVS_NAMESPACE "duet"
#define TOKEN_NVS_KEY "http_token"

static duet_api_t *s_api;
static httpd_handle_t s_server;
#if defined(CONFIG_DUET_HTTP_TOKEN_NVS) && defined(DUET_HTTP_HAVE_NVS)
static char s_token[TOKEN_MAX]; /* the token read from NVS (never logged) */
#endif
#ifdef CONFIG_DUET_HTTP_ASYNC_UPLOAD
static QueueHandle_t s_uploads; /* req_job_t *, to the upload task */
static bool s_upload_busy;      /* a job is queued or running (duet_esp_lock) */
#endif

typedef struct {
    httpd_req_t *r;
    bool started;
    bool failed;            /* the socket is broken */
    bool timed_out;         /* the body stalled or was too slow: cut (408) */
    uint32_t body_read;     /* body bytes read so far (API and drain) */
    uint64_t body_start_us; /* the API's first body read (0 = not yet) */
} conn_t;

/* What the handler reads from a request before serving it: the path and the
 * Authorization header. On the heap, not on the server task's stack (an upload's
 * signature check runs deep below the handler's frame); an upload hands it, with the
 * async copy of its request, to the upload task. */
typedef struct {
    httpd_req_t *r; /* the async copy (upload task only) */
    char path[CONFIG_HTTPD_MAX_URI_LEN + 1];
    char auth[AUTH_MAX];
    bool has_auth;
} req_job_t;

static void api_lock(void *ctx)
{
    (void)ctx;
    duet_esp_lock();
}

static void api_unlock(void *ctx)
{
    (void)ctx;
    duet_esp_unlock();
}

static void wipe(void *p, size_t n)
{
    for (volatile char *v = p; n > 0; n--) /* volatile: a secret, not optimised out */
        *v++ = 0;
}

static const char *status_line(int status)
{
    /* httpd_resp_set_status keeps the pointer until the answer is sent: static strings. */
    switch (status) {
    case 200: return "200 OK";
    case 201: return "201 Created";
    case 202: return "202 Accepted";
    case 204: return "204 No Content";
    case 400: return "400 Bad Request";
    case 401: return "401 Unauthorized";
    case 403: return "403 Forbidden";
    case 404: return "404 Not Found";
    case 405: return "405 Method Not Allowed";
    case 408: return "408 Request Timeout";
    case 409: return "409 Conflict";
    case 411: return "411 Length Required";
    case 413: return "413 Payload Too Large";
    case 415: return "415 Unsupported Media Type";
    case 422: return "422 Unprocessable Entity";
    case 423: return "423 Locked";
    case 429: return "429 Too Many Requests";
    case 501: return "501 Not Implemented";
    case 503: return "503 Service Unavailable";
    case 507: return "507 Insufficient Storage";
    default: return "500 Internal Server Error";
    }
}

/* ---- transport adapters ---------------------------------------------------------------- */

/* Body bytes for the API. A read that waits recv_wait_timeout without a byte (a stalled
 * client), or bytes that arrive later than the minimum rate allows (after a grace of one
 * timeout, every CONFIG_DUET_HTTP_MIN_UPLOAD_RATE bytes buy one more second: a client
 * trickling a byte now and then is cut too), end the upload with 408. */
static int body_recv(void *ctx, void *buf, size_t cap)
{
    conn_t *c = ctx;
    if (c->body_start_us == 0)
        c->body_start_us = duet_port_now_us();
    int n = httpd_req_recv(c->r, buf, cap);
    if (n == HTTPD_SOCK_ERR_TIMEOUT) {
        c->timed_out = true;
        return -(int)DUET_ERR_TIMEOUT;
    }
    if (n < 0) {
        c->failed = true;
        return n;
    }
#if CONFIG_DUET_HTTP_MIN_UPLOAD_RATE > 0
    uint64_t due = c->body_start_us + TIMEOUT_US +
                   (uint64_t)c->body_read * 1000000u / CONFIG_DUET_HTTP_MIN_UPLOAD_RATE;
    if (n > 0 && duet_port_now_us() > due) {
        c->timed_out = true;
        return -(int)DUET_ERR_TIMEOUT;
    }
#endif
    c->body_read += (uint32_t)n;
    return n; /* > 0 bytes, 0 = end of body */
}

static int resp_start(void *ctx, int status, const char *content_type, long len)
{
    (void)len; /* always chunked */
    conn_t *c = ctx;
    if (c->started)
        return -1;
    c->started = true;
    if (httpd_resp_set_status(c->r, status_line(status)) != ESP_OK)
        return -1;
    if (content_type != NULL && httpd_resp_set_type(c->r, content_type) != ESP_OK)
        return -1;
    if (httpd_resp_set_hdr(c->r, "Cache-Control", "no-store") != ESP_OK)
        return -1;
    return 0;
}

static int resp_write(void *ctx, const void *data, size_t len)
{
    conn_t *c = ctx;
    if (len == 0)
        return 0; /* a zero-length chunk would end the answer */
    if (len > (size_t)INT32_MAX)
        return -1;
    if (httpd_resp_send_chunk(c->r, data, (ssize_t)len) != ESP_OK) {
        c->failed = true;
        return -1;
    }
    return 0;
}

/* Swallow what is left of the body for at most DRAIN_MS (each read waits at most one
 * timeout). Returns true when all of it was read: the connection may then stay open.
 * Out of line: its buffer must not sit in serve_req's frame during the API call (an
 * upload's signature check runs deep on this stack). */
static __attribute__((noinline)) bool drain(conn_t *c)
{
    char tmp[256];
    uint64_t end = duet_port_now_us() + (uint64_t)DRAIN_MS * 1000u;
    if (c->failed || c->timed_out)
        return false;
    while ((size_t)c->body_read < c->r->content_len) {
        if (duet_port_now_us() >= end)
            return false;
        size_t left = c->r->content_len - c->body_read;
        int n = httpd_req_recv(c->r, tmp, left < sizeof tmp ? left : sizeof tmp);
        if (n <= 0)
            return false;
        c->body_read += (uint32_t)n;
    }
    return true;
}

/* ---- one request ------------------------------------------------------------------------ */

/* Serve r with the API. ESP_OK: the connection may carry another request; ESP_FAIL: it
 * must be closed (socket broken, or body left unread: see drain). */
static esp_err_t serve_req(httpd_req_t *r, const char *path, const char *authp)
{
    duet_api_t *api = s_api;
    conn_t c = { .r = r };
    duet_api_req_t req = {
        .method = http_method_str((enum http_method)r->method),
        .path = path,
        .authorization = authp,
        .content_length = (uint32_t)r->content_len, /* size_t is 32-bit on the S3 */
        .recv = body_recv,
        .ctx = &c,
    };
    duet_api_resp_t resp = { .start = resp_start, .write = resp_write, .ctx = &c };
    duet_err_t e = duet_api_handle(api, &req, &resp);
    if (c.failed)
        return ESP_FAIL; /* socket broken: let httpd close it */
    if (!c.started) {
        ESP_LOGW(DUET_ESP_TAG, "%s %s: no answer (%s)", req.method, path, duet_err_str(e));
        if (resp_start(&c, duet_api_http_status(e), "application/json", -1) != 0)
            return ESP_FAIL;
    }
    if (httpd_resp_send_chunk(r, NULL, 0) != ESP_OK) /* end of the chunked answer */
        return ESP_FAIL;
    return drain(&c) ? ESP_OK : ESP_FAIL;
}

/* Path without query, and the Authorization header (NULL if absent or too long). */
static const char *request_head(httpd_req_t *r, char *path, size_t path_cap, char *auth,
                                size_t auth_cap)
{
    size_t plen = strcspn(r->uri, "?#");
    if (plen >= path_cap)
        plen = path_cap - 1;
    memcpy(path, r->uri, plen);
    path[plen] = '\0';
    size_t alen = httpd_req_get_hdr_value_len(r, "Authorization");
    if (alen >= auth_cap) { /* would be a silent 401: say why (the length only) */
        ESP_LOGW(DUET_ESP_TAG, "Authorization header of %u bytes ignored (limit %u)", (unsigned)alen,
                 (unsigned)(auth_cap - 1));
        return NULL;
    }
    if (alen > 0 && httpd_req_get_hdr_value_str(r, "Authorization", auth, auth_cap) == ESP_OK)
        return auth;
    return NULL;
}

/* ---- the upload task ------------------------------------------------------------------------ */
#ifdef CONFIG_DUET_HTTP_ASYNC_UPLOAD

static void wake_server(void *arg)
{
    (void)arg; /* nothing to do: being run makes the server task select() again */
}

/* Uploads, one at a time, on the async copy of their request: the server task goes on
 * answering other connections (status, crash, log) meanwhile. */
static void upload_task(void *arg)
{
    (void)arg;
    for (;;) {
        req_job_t *job = NULL;
        if (xQueueReceive(s_uploads, &job, portMAX_DELAY) != pdTRUE || job == NULL)
            continue;
        httpd_req_t *r = job->r;
        httpd_handle_t hd = r->handle;
        int fd = httpd_req_to_sockfd(r);
        esp_err_t res = serve_req(r, job->path, job->has_auth ? job->auth : NULL);
        /* Close first (queued to the server task), then hand the socket back: after the
         * hand-back the server may read from it again. */
        if (res != ESP_OK && fd >= 0)
            (void)httpd_sess_trigger_close(hd, fd); /* fails only if already gone */
        (void)httpd_req_async_handler_complete(r); /* frees the copy; cannot fail here */
        /* v5.3 does not wake the server's select() when an async request completes */
        (void)httpd_queue_work(hd, wake_server, NULL); /* best effort: the next event wakes it */
        wipe(job->auth, sizeof job->auth);
        free(job);
        duet_esp_lock();
        s_upload_busy = false;
        duet_esp_unlock();
    }
}

/* Hand an upload (and its job) to the upload task. false: serve it here, the job stays
 * the caller's (an upload is already running, or no memory). */
static bool upload_async(httpd_req_t *r, req_job_t *job)
{
    if (s_uploads == NULL)
        return false;
    duet_esp_lock();
    bool busy = s_upload_busy;
    s_upload_busy = true;
    duet_esp_unlock();
    if (busy)
        return false; /* an upload is running: the API answers this one 409 at once */
    if (httpd_req_async_handler_begin(r, &job->r) == ESP_OK) {
        if (xQueueSend(s_uploads, &job, 0) == pdTRUE)
            return true;
        (void)httpd_req_async_handler_complete(job->r); /* undo; served here */
        job->r = NULL;
    }
    duet_esp_lock();
    s_upload_busy = false;
    duet_esp_unlock();
    return false;
}
#endif /* CONFIG_DUET_HTTP_ASYNC_UPLOAD */

static esp_err_t handler(httpd_req_t *r)
{
    req_job_t *job = calloc(1, sizeof *job);
    if (job == NULL) {
        ESP_LOGE(DUET_ESP_TAG, "no memory for a request: connection closed");
        return ESP_FAIL;
    }
    job->has_auth = request_head(r, job->path, sizeof job->path, job->auth, sizeof job->auth) != NULL;
#ifdef CONFIG_DUET_HTTP_ASYNC_UPLOAD
    if (r->method == HTTP_POST && strcmp(job->path, "/api/image") == 0 && upload_async(r, job))
        return ESP_OK; /* the upload task answers it and frees the job */
#endif
    esp_err_t res = serve_req(r, job->path, job->has_auth ? job->auth : NULL);
    wipe(job->auth, sizeof job->auth);
    free(job);
    return res;
}

/* ---- token, registration, start ------------------------------------------------------------- */

/* The write token: the NVS string TOKEN_NVS_NAMESPACE/TOKEN_NVS_KEY when it is present
 * and not empty (set at provisioning), else 'given' (CONFIG_DUET_HTTP_TOKEN through
 * duet_esp_start, or the application's). Only its source is logged, never the token. */
static const char *resolve_token(const char *given)
{
#ifdef CONFIG_DUET_HTTP_TOKEN_NVS
#ifdef DUET_HTTP_HAVE_NVS
    nvs_handle_t h;
    if (nvs_open(TOKEN_NVS_NAMESPACE, NVS_READONLY, &h) == ESP_OK) {
        size_t len = sizeof s_token;
        esp_err_t r = nvs_get_str(h, TOKEN_NVS_KEY, s_token, &len);
        nvs_close(h);
        if (r == ESP_OK && s_token[0] != '\0') {
            ESP_LOGI(DUET_ESP_TAG, "HTTP token: from NVS %s/%s", TOKEN_NVS_NAMESPACE, TOKEN_NVS_KEY);
            return s_token;
        }
        wipe(s_token, sizeof s_token);
        if (r == ESP_ERR_NVS_INVALID_LENGTH)
            ESP_LOGW(DUET_ESP_TAG, "HTTP token in NVS longer than %u characters: ignored",
                     (unsigned)(TOKEN_MAX - 1));
    }
#else
    ESP_LOGI(DUET_ESP_TAG, "HTTP token: built without nvs_flash, no NVS token read");
#endif
#endif
    ESP_LOGI(DUET_ESP_TAG, "HTTP token: %s", given != NULL && given[0] != '\0'
                                                 ? "from the configuration"
                                                 : "none (writes refused)");
    return given;
}

static duet_err_t api_make(const char *token)
{
    if (s_api != NULL)
        return DUET_OK;
    duet_sup_t *sup = duet_esp_sup();
    if (sup == NULL)
        return DUET_ERR_STATE;
    duet_api_t *api = calloc(1, sizeof *api);
    if (api == NULL)
        return DUET_ERR_NOMEM;
    duet_err_t e = duet_api_init(api, sup, resolve_token(token), duet_esp_flash_slot_size());
    if (e != DUET_OK) {
        free(api);
        return e;
    }
    duet_api_set_lock(api, api_lock, api_unlock, NULL);
#ifdef CONFIG_DUET_HTTP_ASYNC_UPLOAD
    s_uploads = xQueueCreate(1, sizeof(req_job_t *));
    if (s_uploads != NULL &&
        xTaskCreate(upload_task, "duet_upload", CONFIG_DUET_HTTP_STACK, NULL,
                    tskIDLE_PRIORITY + 5, NULL) != pdPASS) {
        vQueueDelete(s_uploads);
        s_uploads = NULL;
    }
    if (s_uploads == NULL) /* uploads then run in the server task, as without the option */
        ESP_LOGW(DUET_ESP_TAG, "no memory for the upload task: uploads block the HTTP server");
#endif
    s_api = api;
    duet_esp_set_api(api);
    return DUET_OK;
}

duet_err_t duet_esp_http_register(httpd_handle_t server, const char *token)
{
    if (server == NULL)
        return DUET_ERR_INVAL;
    DUET_TRY(api_make(token));
    httpd_uri_t u = {
        .uri = "/*",
        .method = HTTP_ANY,
        .handler = handler,
        .user_ctx = s_api,
    };
    esp_err_t r = httpd_register_uri_handler(server, &u);
    if (r != ESP_OK) {
        ESP_LOGE(DUET_ESP_TAG, "httpd_register_uri_handler: %s", esp_err_to_name(r));
        return r == ESP_ERR_HTTPD_HANDLER_EXISTS ? DUET_ERR_STATE : DUET_ERR_NOMEM;
    }
    return DUET_OK;
}

duet_err_t duet_esp_http_start(uint16_t port, const char *token, httpd_handle_t *out)
{
    if (s_server != NULL)
        return DUET_ERR_STATE;
    if (!duet_esp_ready())
        return DUET_ERR_STATE;
    httpd_config_t cfg = HTTPD_DEFAULT_CONFIG();
    cfg.server_port = port;
    cfg.uri_match_fn = httpd_uri_match_wildcard;
    cfg.stack_size = CONFIG_DUET_HTTP_STACK;
    /* at the socket cap a new connection closes the least recently used one */
    cfg.max_open_sockets = CONFIG_DUET_HTTP_MAX_SOCKETS;
    cfg.lru_purge_enable = true;
    cfg.recv_wait_timeout = CONFIG_DUET_HTTP_TIMEOUT_S;
    cfg.send_wait_timeout = CONFIG_DUET_HTTP_TIMEOUT_S;
    httpd_handle_t h = NULL;
    esp_err_t r = httpd_start(&h, &cfg);
    if (r != ESP_OK) {
        ESP_LOGE(DUET_ESP_TAG, "httpd_start(port %u, %u sockets): %s", (unsigned)port,
                 (unsigned)cfg.max_open_sockets, esp_err_to_name(r));
        return DUET_ERR_IO;
    }
    duet_err_t e = duet_esp_http_register(h, token);
    if (e != DUET_OK) {
        (void)httpd_stop(h); /* undo; the registration error is what matters */
        return e;
    }
    s_server = h;
    if (out != NULL)
        *out = h;
    ESP_LOGI(DUET_ESP_TAG, "HTTP API on port %u", (unsigned)port);
    return DUET_OK;
}
