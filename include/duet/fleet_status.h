/*
 * duet/fleet_status.h - what a device's fleet checks did (duet/fleet.h), on its own so
 * firmware headers can show it without pulling in the crypto and OTA headers.
 */
#ifndef DUET_FLEET_STATUS_H
#define DUET_FLEET_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "duet/err.h"

#define DUET_FLEET_ID_MAX 64u /* device id characters, without the NUL */

/* What the last checks did. */
typedef struct {
    uint32_t checks;        /* checks done */
    uint32_t not_modified;  /* answered 304 */
    uint32_t updates;       /* releases installed */
    uint32_t refusals;      /* manifests or images refused */
    uint32_t resumes;       /* Range requests after a dropped connection */
    uint32_t last_sequence; /* last accepted sequence (persisted) */
    duet_err_t last_err;    /* result of the last check */
    char last_action[16];   /* updated|unchanged|current|seen|not-selected|refused|failed */
    char last_version[24];  /* manifest version of the last check, "" before one */
    bool selected;          /* the last manifest's rollout took this device */
    uint32_t bucket;        /* its rollout bucket (millionths) */
    char device_id[DUET_FLEET_ID_MAX + 1];
} duet_fleet_status_t;

#endif /* DUET_FLEET_STATUS_H */
