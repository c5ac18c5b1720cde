/*
 * sim_mqtt.h - the simulator's MQTT side of fleet updates (libmosquitto, Debian's
 * libmosquitto-dev; docs/fleet.md has the topic layout):
 *
 *   <prefix>/<device_id>/check    subscribed: any message = "check the manifest now"
 *   <prefix>/all/check            subscribed: the same for the whole fleet
 *   <prefix>/<device_id>/status   published, retained, QoS 1: {"device","online",
 *                                 "fleet":{...},"status":<GET /api/status>}, after every
 *                                 fleet check and every status_ms; the broker's will
 *                                 publishes {"device":..,"online":false} if we vanish
 *
 * One thread runs the client (mosquitto_loop): every libmosquitto call happens on it,
 * so the library needs no locking of ours; other threads only set an atomic flag.
 * A lost broker is reconnected with back-off; the simulator runs on regardless.
 */
#ifndef DUET_SIM_MQTT_H
#define DUET_SIM_MQTT_H

#include <stdbool.h>
#include <stdint.h>

#include "duet/err.h"
#include "sim.h"
#include "sim_fleet.h"

typedef struct {
    const char *host;      /* broker, e.g. 127.0.0.1 */
    uint16_t port;         /* default 1883 (8883 with ca_file) */
    const char *ca_file;   /* PEM: TLS to the broker; NULL = plain MQTT */
    const char *prefix;    /* topic prefix, default "duet" */
    const char *device_id; /* the fleet's device id */
    uint32_t status_ms;    /* periodic status (default 5000; 0 = only after checks) */
    bool print;            /* narrate on stdout ("mqtt: ...") */
} duet_sim_mqtt_config_t;

typedef struct duet_sim_mqtt duet_sim_mqtt_t;

/** Start the client thread (fleet may be NULL: status only, no trigger).
 *  @return DUET_OK, DUET_ERR_INVAL, DUET_ERR_NOMEM, DUET_ERR_IO (library set-up). */
duet_err_t duet_sim_mqtt_start(duet_sim_t *sim, duet_sim_fleet_t *fleet,
                               const duet_sim_mqtt_config_t *cfg, duet_sim_mqtt_t **out);
/** Ask for a status publish soon (any thread). */
void duet_sim_mqtt_poke(duet_sim_mqtt_t *m);
/** Publish offline, disconnect, stop the thread, free. NULL is fine. */
void duet_sim_mqtt_stop(duet_sim_mqtt_t *m);

#endif /* DUET_SIM_MQTT_H */
