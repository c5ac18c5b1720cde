/*
 * sim_fleet.h - fleet updates for the simulator: pull signed releases from an HTTPS
 * server with libcurl (docs/fleet.md; the manifest is duet/manifest.h).
 *
 * One thread per simulator. Each check:
 *   GET manifest (If-None-Match: last ETag) -> 304: done (one small request)
 *   parse + verify under the supervisor's policy and the last accepted sequence
 *   already running that release -> sequence stored, done
 *   rollout bucket of the device id not selected -> done
 *   GET image -> bytes straight into duet_ota_write (the same session type the HTTP push
 *   uses, sim lock held per chunk only), SHA-256 and size against the manifest;
 *   a dropped connection resumes with "Range: bytes=N-" (up to 'retries' times)
 *   duet_ota_finish(activate) -> core 1 restarted into it; sequence stored
 * Any refusal aborts the session: the running program never stops. Checks run every
 * period_ms and whenever duet_sim_fleet_trigger() is called (MQTT "check now").
 *
 * State (device id, last accepted sequence) lives in a small text file next to the
 * flash file, written atomically, so a restarted simulator still refuses a replay.
 */
#ifndef DUET_SIM_FLEET_H
#define DUET_SIM_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/fleet.h"
#include "sim.h"

typedef struct {
    const char *manifest_url; /* https://host/path/name.json */
    const char *ca_file;      /* PEM bundle to trust; NULL = the system's */
    const char *device_id;    /* NULL = the one in the state file (made on first use) */
    const char *state_path;   /* required: device id + last accepted sequence */
    uint32_t period_ms;       /* 0 = only when triggered */
    uint32_t retries;         /* resumes per image download (default 5) */
    uint32_t timeout_ms;      /* per request without progress (default 10000) */
    bool print;               /* narrate checks on stdout ("fleet: ...") */
    /* called after every check, from the fleet thread, without the sim lock */
    void (*on_check)(void *user);
    void *user;
} duet_sim_fleet_config_t;

/* What the last checks did (duet/fleet.h; copied out under the fleet's own lock). */
typedef duet_fleet_status_t duet_sim_fleet_status_t;

typedef struct duet_sim_fleet duet_sim_fleet_t;

/** Start the fleet thread (first check right away).
 *  @return DUET_OK, DUET_ERR_INVAL (no URL or state path), DUET_ERR_IO (state file),
 *          DUET_ERR_NOMEM. */
duet_err_t duet_sim_fleet_start(duet_sim_t *sim, const duet_sim_fleet_config_t *cfg,
                                duet_sim_fleet_t **out);
/** Ask for a check now (any thread; coalesces with one already pending). */
void duet_sim_fleet_trigger(duet_sim_fleet_t *f);
void duet_sim_fleet_status(duet_sim_fleet_t *f, duet_sim_fleet_status_t *st);
/** Stop (a running download is cut and its session aborted) and free. NULL is fine. */
void duet_sim_fleet_stop(duet_sim_fleet_t *f);

#endif /* DUET_SIM_FLEET_H */
