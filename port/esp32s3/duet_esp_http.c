/*
 * duet_esp_http.c - esp_http_server glue for the portable HTTP API (include/duet/api.h).
 *
 * One wildcard handler (URI "/" + "*", HTTP_ANY, httpd_uri_match_wildcard) turns an httpd_req_t
 * into duet_api_req_t/duet_api_resp_t and calls duet_api_handle(), which does routing,
 * the token check, JSON and the streamed upload (core/api*.c). Request bodies are read
 * with httpd_req_recv as the handler asks for them, so an image upload goes from the
 * socket into the inactive slot in small pieces, never whole into RAM. Answers are sent
 * chunked (httpd_resp_send_chunk), so no length is needed up front.
 * Locking: the API object takes the supervisor lock (duet_esp_lock) around supervisor
 * and OTA calls only, never while it waits for the network (duet_api_set_lock).
 * APIs: esp_http_server/include/esp_http_server.h and http_parser/http_parser.h
 * (http_method_str), v5.3-v5.5.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp_http_server.h"
#include "esp_log.h"
#include "http_parser.h"

#include "duet/api.h"
#include "duet_esp.h"
#include "duet_esp_http.h"
#include "duet_esp_priv.h"

#define RECV_TIMEOUT_RETRIES 3 /* recv_wait_timeout (5 s default) each */
/* "Bearer " + token + NUL. The header itself must also fit CONFIG_HTTPD_MAX_REQ_HDR_LEN
 * (the whole request header block), which the OTA example raises to 1024. */
#define AUTH_MAX 256
#ifdef CONFIG_DUET_HTTP_TOKEN
_Static_assert(sizeof("Bearer " CONFIG_DUET_HTTP_TOKEN) <= AUTH_MAX,
               "duet: CONFIG_DUET_HTTP_TOKEN is too long for the Authorization buffer (max 248 characters)");
#endif

static duet_api_t *s_api;
static httpd_handle_t s_server;

typedef struct {
    httpd_req_t *r;
    bool started;
    bool failed;
} conn_t;

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

static int body_recv(void *ctx, void *buf, size_t cap)
{
    conn_t *c = ctx;
    for (int tries = 0; tries < RECV_TIMEOUT_RETRIES; tries++) {
        int n = httpd_req_recv(c->r, buf, cap);
        if (n == HTTPD_SOCK_ERR_TIMEOUT)
            continue;
        if (n < 0)
            c->failed = true;
        return n; /* > 0 bytes, 0 = end of body, < 0 = error */
    }
    c->failed = true;
    return -1;
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

static esp_err_t handler(httpd_req_t *r)
{
    duet_api_t *api = r->user_ctx;
    char path[CONFIG_HTTPD_MAX_URI_LEN + 1];
    size_t plen = strcspn(r->uri, "?#");
    if (plen >= sizeof path)
        plen = sizeof path - 1;
    memcpy(path, r->uri, plen);
    path[plen] = '\0';

    char auth[AUTH_MAX];
    const char *authp = NULL;
    size_t alen = httpd_req_get_hdr_value_len(r, "Authorization");
    if (alen >= sizeof auth) /* would be a silent 401: say why */
        ESP_LOGW(DUET_ESP_TAG, "Authorization header of %u bytes ignored (limit %u)", (unsigned)alen,
                 (unsigned)(sizeof auth - 1));
    else if (alen > 0 && httpd_req_get_hdr_value_str(r, "Authorization", auth, sizeof auth) == ESP_OK)
        authp = auth;

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
    return httpd_resp_send_chunk(r, NULL, 0); /* end of the chunked answer */
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
    duet_err_t e = duet_api_init(api, sup, token, duet_esp_flash_slot_size());
    if (e != DUET_OK) {
        free(api);
        return e;
    }
    duet_api_set_lock(api, api_lock, api_unlock, NULL);
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
    cfg.lru_purge_enable = true;
#ifdef CONFIG_DUET_HTTP_STACK
    cfg.stack_size = CONFIG_DUET_HTTP_STACK;
#else
    cfg.stack_size = 8192;
#endif
    httpd_handle_t h = NULL;
    esp_err_t r = httpd_start(&h, &cfg);
    if (r != ESP_OK) {
        ESP_LOGE(DUET_ESP_TAG, "httpd_start(port %u): %s", (unsigned)port, esp_err_to_name(r));
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
