/*
 * duet_esp_fleet.h - fleet updates on ESP-IDF (docs/fleet.md): core 0 pulls signed
 * releases of the core-1 program from any HTTPS server, and (optionally) listens on an
 * MQTT broker for "check now" while publishing a retained status document.
 *
 * The decisions are the portable ones of duet/fleet.h (the simulator runs the same
 * code). This port supplies:
 *   transport   esp_http_client over TLS (mbedTLS), trusting the firmware's CA bundle
 *               (esp_crt_bundle) or one PEM given here; If-None-Match/ETag; "Range:
 *               bytes=N-" after a dropped connection
 *   memory      NVS namespace "duet": "fleet_seq" (u32, last accepted sequence) and
 *               "fleet_id" (string, device id; provisioned by the factory, else the
 *               Kconfig id, else the MAC address in hex)
 *   trigger     a task that checks every period and on duet_esp_fleet_check_now()
 *   MQTT        ESP-IDF's mqtt component: <prefix>/<id>/check and <prefix>/all/check
 *               trigger a check; <prefix>/<id>/status is retained (QoS 1), with a will
 *               that says offline
 * The image streams into the inactive slot through the same OTA session type as the
 * HTTP push (an upload at the same time gets BUSY; the pull retries at the next check).
 */
#ifndef DUET_ESP_FLEET_H
#define DUET_ESP_FLEET_H

#include <stdint.h>

#include "duet/err.h"
#include "duet/fleet_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *manifest_url; /* https://host/path/name.json (copied) */
    const char *device_id;    /* NULL: NVS "fleet_id", else the MAC address (copied) */
    const char *ca_pem;       /* NULL: the CA bundle (esp_crt_bundle); else this PEM (kept) */
    uint32_t period_s;        /* 0 = only on demand */
    uint32_t retries;         /* resumes per image download */
    uint32_t timeout_ms;      /* per network operation */
    uint32_t stack;           /* task stack (bytes) */
    const char *mqtt_uri;     /* NULL or "": no MQTT; else mqtt://host:port or mqtts:// */
    const char *mqtt_prefix;  /* topic prefix (default "duet") */
    uint32_t mqtt_status_s;   /* republish the status at least this often; 0 = on change */
} duet_esp_fleet_config_t;

/** The CONFIG_DUET_FLEET_* defaults of menuconfig. */
void duet_esp_fleet_config_default(duet_esp_fleet_config_t *cfg);

/** Start the fleet task (first check right away) and MQTT when configured. Call after
 *  duet_esp_start() and once the network is up (the TLS handshake needs the time of
 *  day only if the certificates say so: mbedTLS checks validity dates when the clock
 *  is set). cfg NULL = the defaults.
 *  @return DUET_OK, DUET_ERR_STATE (duet not started, or fleet already running),
 *          DUET_ERR_INVAL (no manifest URL, bad device id), DUET_ERR_NOMEM,
 *          DUET_ERR_IO (NVS or MQTT client). */
duet_err_t duet_esp_fleet_start(const duet_esp_fleet_config_t *cfg);

/** Ask for a check now (any task; coalesces with one already pending). */
void duet_esp_fleet_check_now(void);

/** What the last checks did.
 *  @return DUET_OK, DUET_ERR_STATE (not started). */
duet_err_t duet_esp_fleet_status(duet_fleet_status_t *st);

#ifdef __cplusplus
}
#endif
#endif /* DUET_ESP_FLEET_H */
