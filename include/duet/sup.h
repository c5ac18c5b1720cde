/*
 * duet/sup.h - the core-0 supervisor of core 1 (portable: same code in the simulator
 * and on the ESP32-S3; it reaches the world only through duet/port.h).
 *
 * States:
 *   OFFLINE --start--> LOADING (verified, copied, released) --core 1 acks the epoch--> RUNNING
 *   LOADING --boot deadline--> HUNG
 *   LOADING/RUNNING --crash record of this epoch--> CRASHED --policy--> RECOVERING
 *   RECOVERING --backoff--> LOADING
 *   RUNNING --heartbeat deadline--> HUNG --policy--> RECOVERING
 *   RUNNING --program returned from duet_main--> STOPPED
 *   any --stop--> STOPPED ;  CRASHED/HUNG with recovery off (or limit hit) stays there.
 * (docs/supervisor.md has the full rules: backoff, crash loop, A/B, security counter.)
 *
 * The application calls duet_sup_poll() periodically (a FreeRTOS task on the chip, the
 * simulator's main loop on the PC); all deadlines, recovery, log draining and A/B
 * confirm/revert happen there. Nothing here blocks for long.
 */
#ifndef DUET_SUP_H
#define DUET_SUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/image.h"
#include "duet/shm.h"
#include "duet/slot.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DUET_SUP_OFFLINE = 0,
    DUET_SUP_LOADING,
    DUET_SUP_RUNNING,
    DUET_SUP_CRASHED,
    DUET_SUP_HUNG,
    DUET_SUP_RECOVERING,
    DUET_SUP_STOPPED,
} duet_sup_state_t;

typedef enum {
    DUET_RECOVERY_OFF = 0,  /* stay CRASHED/HUNG (debugging) */
    DUET_RECOVERY_ON = 1,   /* restart with backoff up to the crash-loop limit */
    DUET_RECOVERY_ONCE = 2, /* restart once, then stay down */
} duet_recovery_t;

typedef enum {
    DUET_EV_STATE = 1,   /* state changed (from, to) */
    DUET_EV_CRASH,       /* crash record captured (crash) */
    DUET_EV_HANG,        /* heartbeat deadline missed */
    DUET_EV_CONFIRMED,   /* PENDING slot confirmed (slot) */
    DUET_EV_ROLLBACK,    /* reverted to the other slot (slot = new active) */
    DUET_EV_UPDATED,     /* a new image was installed (slot) */
    DUET_EV_LOG,         /* a core-1 log line (level, text) */
    DUET_EV_GAVE_UP,     /* crash-loop limit reached with nothing to roll back to */
} duet_sup_event_type_t;

typedef struct {
    duet_sup_event_type_t type;
    duet_sup_state_t from, to;
    int slot;
    duet_err_t err;
    const duet_crash_t *crash;
    int level;
    const char *text;
    size_t text_len;
} duet_sup_event_t;

typedef void (*duet_sup_event_fn)(void *user, const duet_sup_event_t *ev);

typedef struct {
    uint32_t heartbeat_timeout_ms; /* no heartbeat change for this long -> HUNG */
    uint32_t boot_timeout_ms;      /* core 1 must reach RUNNING within this */
    duet_recovery_t recovery;
    uint32_t backoff_initial_ms;   /* first restart delay; doubles per consecutive crash */
    uint32_t backoff_max_ms;
    uint32_t crash_loop_limit;     /* this many crashes within the window = crash loop */
    uint32_t crash_loop_window_ms;
    uint32_t confirm_heartbeats;   /* heartbeats that confirm a PENDING slot */
    duet_shm_config_t shm;         /* log ring and channels laid out at every start */
    bool require_signature;
    unsigned key_count;
    uint8_t keys[DUET_POLICY_MAX_KEYS][DUET_IMG_PUBKEY_LEN];
    duet_sup_event_fn on_event;
    void *user;
} duet_sup_config_t;

/** Fill cfg with sane defaults (heartbeat 1 s, boot 2 s, recovery ON, backoff
 *  100 ms..5 s, crash loop 3 in 30 s, confirm after 5 heartbeats, 4 KiB log ring,
 *  require_signature = true, no keys). */
void duet_sup_config_default(duet_sup_config_t *cfg);

typedef struct {
    duet_sup_state_t state;
    int active_slot;               /* -1 = none, 2 = linked program */
    duet_slot_rec_t slots;         /* slot record as last loaded/stored */
    bool slot_valid[DUET_SLOT_COUNT];
    duet_img_hdr_t slot_hdr[DUET_SLOT_COUNT]; /* headers of verified slots */
    char slot_name[DUET_SLOT_COUNT][32];
    uint32_t epoch;
    uint32_t heartbeat;
    uint32_t progress;
    uint32_t restarts;             /* automatic restarts since start() */
    uint32_t crashes;              /* crashes + hangs since start() */
    uint64_t run_start_us;         /* when the current run was released */
    uint64_t last_heartbeat_us;
    uint64_t first_heartbeat_us;   /* first heartbeat of the current run (0 = none yet) */
    bool has_crash;
    duet_crash_t last_crash;
    duet_err_t last_err;
} duet_sup_status_t;

typedef struct duet_sup duet_sup_t; /* defined below: allocate statically or on the heap */

duet_err_t duet_sup_init(duet_sup_t *s, const duet_sup_config_t *cfg);
/** Load the active slot (falling back to the other CONFIRMED/PENDING one), verify, start. */
duet_err_t duet_sup_start(duet_sup_t *s);
/** Start a program linked into the firmware (no slot, no flash): info describes it. */
duet_err_t duet_sup_start_linked(duet_sup_t *s, const duet_img_info_t *info);
duet_err_t duet_sup_stop(duet_sup_t *s);
duet_err_t duet_sup_restart(duet_sup_t *s);
/** Make the other slot active (it must hold a valid image) and restart. */
duet_err_t duet_sup_rollback(duet_sup_t *s);
/** Drive deadlines, recovery, log draining, confirm/revert. Call every 10-50 ms. */
duet_err_t duet_sup_poll(duet_sup_t *s);
void duet_sup_get_status(const duet_sup_t *s, duet_sup_status_t *st);
const char *duet_sup_state_name(duet_sup_state_t st);
/** The slot an update should be written to (never the running one). */
int duet_sup_inactive_slot(const duet_sup_t *s);
/** Called by the OTA session: slot now holds a verified image; mark it PENDING, make it
 *  active and (if activate) restart into it. */
duet_err_t duet_sup_install(duet_sup_t *s, int slot, const duet_img_info_t *info, bool activate);
/** Verification policy for this chip and the configured keys (window from the port).
 *  max_image_size = the smaller slot; 0 (no limit) when the firmware has no slots. */
duet_err_t duet_sup_policy(const duet_sup_t *s, duet_img_policy_t *pol);

#ifdef __cplusplus
}
#endif

#include "duet/sup_priv.h" /* struct duet_sup: fields are private to core/sup*.c */

#endif /* DUET_SUP_H */
