/*
 * sim.h - one simulator instance: the portable supervisor + OTA + HTTP API running on
 * the host port (flash = a file, core 1 = a child process). Used by duet-sim, the
 * simulator tests (tests/sim) and the hot-swap benchmark (bench/hotswap).
 *
 * Threads: the caller's thread drives the supervisor (duet_sim_step in a loop); the
 * optional HTTP server runs an accept thread and one thread per connection (reads are
 * answered while an upload streams). All take the instance lock around every
 * supervisor call (duet_http_server.h's contract), so anything else that touches the
 * supervisor or the shared area between steps must hold it too (duet_sim_lock).
 * The host port is process-global: one instance per process.
 */
#ifndef DUET_SIM_H
#define DUET_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/api.h"
#include "duet/host_flash.h"
#include "duet/port.h"
#include "duet/shm.h"
#include "duet/sup.h"

/* Simulator defaults: slots large enough for a PC executable with debug info. */
#define DUET_SIM_SLOT_SIZE (4u << 20)
#define DUET_SIM_MAX_UPLOAD DUET_SIM_SLOT_SIZE

typedef struct {
    const char *flash_path;       /* flash file (created if missing) */
    duet_host_flash_geom_t geom;  /* default: DUET_SIM_SLOT_SIZE slots, 8 KiB STATE */
    duet_sup_config_t sup;        /* supervisor policy and shared-memory layout */
    bool http;                    /* serve the HTTP API */
    const char *http_host;        /* NULL = 127.0.0.1 */
    uint16_t http_port;           /* 0 = any free port (see duet_sim_http_port) */
    const char *token;            /* bearer token for writes (NULL/"" = writes refused) */
    uint32_t max_upload;          /* largest upload, default DUET_SIM_MAX_UPLOAD */
    duet_plog_t log_level;        /* port log lines shown on stderr (0 = errors only) */
    duet_sup_event_fn on_event;   /* extra observer, called with the lock held */
    void *user;
} duet_sim_config_t;

typedef struct duet_sim duet_sim_t;

/** Defaults: supervisor defaults without signature requirement, an 8 KiB log ring, no
 *  channels, no HTTP. */
void duet_sim_config_default(duet_sim_config_t *cfg);
/** Add a channel to cfg->sup.shm (name must outlive the simulator). */
duet_err_t duet_sim_config_channel(duet_sim_config_t *cfg, const char *name, uint32_t ring_size);

/** Open the flash, initialise the supervisor and (if asked) start the HTTP server.
 *  Does not start core 1 (duet_sim_start). */
duet_err_t duet_sim_open(const duet_sim_config_t *cfg, duet_sim_t **out);
/** Stop core 1 and the server, close the flash, free. NULL is fine. */
void duet_sim_close(duet_sim_t *sim);

/** Install an image through the same OTA session the HTTP upload uses (verified into
 *  the inactive slot, PENDING, activated and restarted into if 'activate'). */
duet_err_t duet_sim_install_buf(duet_sim_t *sim, const void *img, size_t len, bool activate,
                                duet_img_info_t *info);
duet_err_t duet_sim_install_file(duet_sim_t *sim, const char *path, bool activate,
                                 duet_img_info_t *info);

/** Factory provisioning (what `duet flash` does to a device): verify the image against
 *  this simulator's policy, write it straight into 'slot' and make that slot active and
 *  CONFIRMED. For a fresh flash before the first start; refuses while core 1 runs. */
duet_err_t duet_sim_provision_buf(duet_sim_t *sim, int slot, const void *img, size_t len);
duet_err_t duet_sim_provision_file(duet_sim_t *sim, int slot, const char *path);

/** Lock-taking wrappers of the supervisor calls. */
duet_err_t duet_sim_start(duet_sim_t *sim);
duet_err_t duet_sim_stop(duet_sim_t *sim);
duet_err_t duet_sim_restart(duet_sim_t *sim);
duet_err_t duet_sim_rollback(duet_sim_t *sim);
void duet_sim_status(duet_sim_t *sim, duet_sup_status_t *st);

/** Wait up to wait_us for core 1's doorbell, then run one supervisor poll. */
duet_err_t duet_sim_step(duet_sim_t *sim, uint32_t wait_us);
/** Step for ms milliseconds (10 ms polls). */
void duet_sim_run_for(duet_sim_t *sim, uint32_t ms);
/** Step until pred(sim, ctx) is true (checked with the lock held) or timeout_ms passes.
 *  @return true if pred became true. */
bool duet_sim_run_until(duet_sim_t *sim, bool (*pred)(duet_sim_t *, void *), void *ctx,
                        uint32_t timeout_ms);

void duet_sim_lock(duet_sim_t *sim);
void duet_sim_unlock(duet_sim_t *sim);
duet_sup_t *duet_sim_sup(duet_sim_t *sim);
duet_api_t *duet_sim_api(duet_sim_t *sim);
/** The shared area's control block (read it with the lock held or with atomics). */
duet_shm_ctrl_t *duet_sim_ctrl(duet_sim_t *sim, size_t *size);
/** HTTP port bound, 0 without HTTP. */
uint16_t duet_sim_http_port(const duet_sim_t *sim);

#endif /* DUET_SIM_H */
