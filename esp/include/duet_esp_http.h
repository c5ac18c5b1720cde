/*
 * duet_esp_http.h - the duet HTTP API and web page on ESP-IDF's esp_http_server.
 *
 * One wildcard handler serves "/" and every /api/... route (include/duet/api.h), with
 * uploads streamed from httpd_req_recv straight into the inactive slot. Writes need
 * "Authorization: Bearer <token>". The network itself (Wi-Fi, Ethernet) is the
 * application's (examples/idf/ota uses protocol_examples_common).
 */
#ifndef DUET_ESP_HTTP_H
#define DUET_ESP_HTTP_H

#include <stdint.h>

#include "esp_http_server.h"

#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Start an HTTP server on 'port' serving the API (duet_esp_start must have run).
 *  *out (may be NULL) receives the server handle.
 *  @return DUET_OK, DUET_ERR_STATE (not started / already serving), DUET_ERR_NOMEM, DUET_ERR_IO. */
duet_err_t duet_esp_http_start(uint16_t port, const char *token, httpd_handle_t *out);

/** Add the API to a server the application already runs (registers the wildcard URI "/" "*" for GET and
 *  POST, so register your own URIs first; they match before the wildcard). */
duet_err_t duet_esp_http_register(httpd_handle_t server, const char *token);

#ifdef __cplusplus
}
#endif
#endif /* DUET_ESP_HTTP_H */
