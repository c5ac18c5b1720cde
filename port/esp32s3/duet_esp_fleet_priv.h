/*
 * duet_esp_fleet_priv.h - between the fleet pull (duet_esp_fleet.c) and its MQTT side
 * (duet_esp_fleet_mqtt.c).
 */
#ifndef DUET_ESP_FLEET_PRIV_H
#define DUET_ESP_FLEET_PRIV_H

#include <stdint.h>

#include "duet/err.h"

/** Connect to the broker (in the mqtt component's own task), subscribe to the check
 *  topics, publish the retained status. The strings must outlive the client. */
duet_err_t duet_esp_fleet_mqtt_start(const char *uri, const char *prefix, const char *device,
                                     uint32_t status_s);
/** Publish the status soon (after a check, a state change). No-op without MQTT. */
void duet_esp_fleet_mqtt_poke(void);

#endif /* DUET_ESP_FLEET_PRIV_H */
