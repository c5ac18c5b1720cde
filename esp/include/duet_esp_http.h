/*
 * duet_esp_http.h - the duet HTTP API and web page on ESP-IDF's esp_http_server.
 *
 * One wildcard handler serves "/" and every /api/... route (include/duet/api.h), with
 * uploads streamed from httpd_req_recv straight into the inactive slot (in a task of
 * their own with CONFIG_DUET_HTTP_ASYNC_UPLOAD, so reads are answered meanwhile). Writes
 * need "Authorization: Bearer <token>"; failed tokens are rate limited (429). The token
 * is the NVS string "duet"/"http_token" when provisioned there
 * (CONFIG_DUET_HTTP_TOKEN_NVS), else the 'token' argument; it is never logged. Slow
 * clients: CONFIG_DUET_HTTP_TIMEOUT_S, _MAX_SOCKETS, _MIN_UPLOAD_RATE (docs/http-api.md,
 * "Slow and hostile clients", also for what esp_http_server cannot bound). The network
 * itself (Wi-Fi, Ethernet) is the application's (examples/idf/ota uses
 * protocol_examples_common).
 */
#ifndef DUET_ESP_HTTP_H
#define DUET_ESP_HTTP_H

#include <stdint.h>

#include "esp_http_server.h"

#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Start an HTTP server on 'port' serving the API (duet_esp_start must have run), with
 *  duet's socket cap, timeouts and LRU purge (Kconfig). 'token' is used unless NVS holds
 *  one (above); NULL or "" with none in NVS refuses every write (403).
 *  *out (may be NULL) receives the server handle.
 *  @return DUET_OK, DUET_ERR_STATE (not started / already serving), DUET_ERR_NOMEM, DUET_ERR_IO. */
duet_err_t duet_esp_http_start(uint16_t port, const char *token, httpd_handle_t *out);

/** Add the API to a server the application already runs (registers the wildcard URI "/" "*" for GET and
 *  POST, so register your own URIs first; they match before the wildcard). The server's
 *  own httpd_config_t then decides sockets, timeouts and LRU purge; the minimum upload
 *  rate, the 408s, the drain of unread bodies and the upload task apply as with
 *  duet_esp_http_start. 'token' as there. */
duet_err_t duet_esp_http_register(httpd_handle_t server, const char *token);

#ifdef __cplusplus
}
#endif
#endif /* DUET_ESP_HTTP_H */
