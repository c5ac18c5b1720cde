/*
 * duet/sup_priv.h - the definition of struct duet_sup, so applications can allocate a
 * supervisor statically (no heap on the chip). Included by duet/sup.h.
 *
 * PRIVATE: only core/sup*.c, core/loader.c and core/ota.c touch these fields. Everyone
 * else reads state through duet_sup_get_status(). Fields may change between versions.
 */
#ifndef DUET_SUP_PRIV_H
#define DUET_SUP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/image.h"
#include "duet/ring.h"
#include "duet/shm.h"
#include "duet/slot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DUET_CONFIG: crash timestamps kept for the crash-loop window; a configured
 * crash_loop_limit above this is clamped to it. */
#define DUET_SUP_CRASH_HISTORY 16u
/* DUET_CONFIG: log records drained per duet_sup_poll() call (bounds poll time). */
#define DUET_SUP_LOG_BATCH 32u
#define DUET_SUP_LINKED_SLOT 2

struct duet_sup {
    duet_sup_config_t cfg;
    bool initialised;
    duet_sup_state_t state;

    /* shared memory (from the port) */
    void *shm;
    size_t shm_size;
    uint32_t epoch; /* epoch of the current/last run; next start uses epoch + 1 */

    /* what runs */
    int running_slot;          /* 0/1, DUET_SUP_LINKED_SLOT, -1 = none */
    duet_img_info_t run_info;  /* verified info of the program loaded last */
    bool linked;               /* started with duet_sup_start_linked() */

    /* slot journal and the verified view of both slots */
    duet_slot_rec_t rec;
    bool rec_loaded;
    bool rec_fresh;            /* STATE area held no valid record at the last load */
    bool slot_valid[DUET_SLOT_COUNT];
    duet_err_t slot_err[DUET_SLOT_COUNT]; /* last verification result, logged on change */
    bool slot_err_seen[DUET_SLOT_COUNT];
    duet_img_info_t slot_info[DUET_SLOT_COUNT];
    /* heads whose signature verified under cfg.keys (ring, newest at auth_n - 1): a
     * restart of an unchanged slot then costs hashes, not an ECDSA verification */
    duet_img_known_t auth[DUET_POLICY_MAX_KNOWN];
    unsigned auth_n;

    /* liveness of the current run */
    uint64_t state_since_us;   /* when the current state was entered */
    uint64_t run_start_us;     /* release of core 1 */
    uint64_t last_hb_us;       /* last heartbeat change seen (or boot ack) */
    uint64_t first_hb_us;
    uint32_t last_hb;          /* sc_heartbeat at the last change */
    uint32_t hb_at_boot;       /* sc_heartbeat when core 1 acked the epoch */
    uint32_t hb_changes;       /* polls that saw the heartbeat move in this run */
    uint32_t progress;

    /* recovery */
    uint32_t restarts;
    uint32_t crashes;
    uint64_t crash_at[DUET_SUP_CRASH_HISTORY]; /* ring of crash times (us) */
    uint32_t crash_n;          /* crashes recorded in crash_at (total, ring index) */
    uint64_t recover_at_us;    /* RECOVERING: when to restart */
    bool once_used;            /* DUET_RECOVERY_ONCE spent */

    /* diagnostics */
    bool has_crash;
    duet_crash_t last_crash;
    duet_err_t last_err;

    /* log drain */
    duet_ring_t log;
    bool log_ok;
    uint32_t log_epoch;

    /* OTA session owning the inactive slot (at most one) */
    const void *ota_owner;
    int ota_slot;
};

#ifdef __cplusplus
}
#endif
#endif /* DUET_SUP_PRIV_H */
