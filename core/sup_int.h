/*
 * sup_int.h - internals shared by core/sup*.c, core/loader.c and core/ota.c.
 * Not a public header. Names carry the module prefix of the file that defines them
 * (sup_ = sup*.c, loader_ = loader.c) and hidden visibility (Lua's LUAI_FUNC idea).
 *
 * Files of the supervisor, by purpose:
 *   sup.c         state machine: init, start/stop/restart, poll dispatch, status, events
 *   sup_slots.c   A/B selection, journal updates, install, rollback, verify policy
 *   sup_health.c  boot ack, heartbeat deadline, crash/hang detection, PENDING confirm
 *   sup_recover.c recovery policy, backoff, crash-loop limit, revert / give up
 *   sup_log.c     log ring drain -> DUET_EV_LOG + duet_port_log
 *   loader.c      verify a slot from flash, copy it into core-1 memory (re-hashing)
 */
#ifndef DUET_SUP_INT_H
#define DUET_SUP_INT_H

#include <stdatomic.h>

#include "duet/port.h"
#include "duet/sup.h"

#if defined(__GNUC__) && !defined(_WIN32)
#define DUET_INTERNAL __attribute__((visibility("hidden")))
#else
#define DUET_INTERNAL
#endif

/* Shared-memory words: aligned 32-bit atomics only (duet/shm.h rules). */
typedef _Atomic uint32_t sup_atomic_u32;
_Static_assert(sizeof(sup_atomic_u32) == sizeof(uint32_t), "atomic u32 has the plain layout");

static inline uint32_t sup_ld(const uint32_t *p)
{
    return atomic_load_explicit((sup_atomic_u32 *)(uintptr_t)p, memory_order_acquire);
}

static inline void sup_st(uint32_t *p, uint32_t v)
{
    atomic_store_explicit((sup_atomic_u32 *)p, v, memory_order_release);
}

static inline duet_shm_ctrl_t *sup_ctrl(const duet_sup_t *s)
{
    return (duet_shm_ctrl_t *)s->shm;
}

static inline uint64_t sup_ms(uint32_t ms)
{
    return (uint64_t)ms * 1000u;
}

/* ---- sup.c ---- */
DUET_INTERNAL void sup_set_state(duet_sup_t *s, duet_sup_state_t to);
DUET_INTERNAL void sup_emit(duet_sup_t *s, const duet_sup_event_t *ev);
DUET_INTERNAL void sup_emit_simple(duet_sup_t *s, duet_sup_event_type_t type, int slot,
                                   duet_err_t err);
/* Stop core 1 and boot what is selected (slot or linked program); LOADING on success,
 * OFFLINE/CRASHED-free failure state on error. Counts nothing. */
DUET_INTERNAL duet_err_t sup_boot(duet_sup_t *s);

/* ---- sup_slots.c ---- */
/* Reload the journal and verify both slots (fills slot_valid / slot_info). */
DUET_INTERNAL duet_err_t sup_slots_refresh(duet_sup_t *s);
/** Same; both = false verifies only the journal's active slot unless it cannot boot:
 *  restarts (operator, crash recovery) of a program whose other slot did not change. */
DUET_INTERNAL duet_err_t sup_slots_refresh_ex(duet_sup_t *s, bool both);
/* Pick the slot to boot (active, else the other CONFIRMED/PENDING one), fixing the
 * journal if it has to fall back. *slot = -1 with DUET_ERR_NO_IMAGE if none. */
DUET_INTERNAL duet_err_t sup_slots_select(duet_sup_t *s, int *slot);
/* Blank journal (factory state): adopt the first verified slot as CONFIRMED, active,
 * its counter the floor (what select does before the first boot). No-op otherwise. */
DUET_INTERNAL void sup_slots_adopt_fresh(duet_sup_t *s);
/* Bookkeeping before a PENDING slot is started (trial boot counter). */
DUET_INTERNAL duet_err_t sup_slots_before_boot(duet_sup_t *s, int slot);
/* The running PENDING slot proved healthy: CONFIRMED, min security raised, stored. */
DUET_INTERNAL duet_err_t sup_slots_confirm(duet_sup_t *s);
/* Mark 'bad' BAD and make 'to' active; stored. */
DUET_INTERNAL duet_err_t sup_slots_revert(duet_sup_t *s, int bad, int to);
/* True if slot holds a verified image whose journal status makes it a revert target. */
DUET_INTERNAL bool sup_slots_is_target(duet_sup_t *s, int slot);
/* Verify one slot again (e.g. after an OTA session that did not touch it). */
DUET_INTERNAL void sup_slots_reverify(duet_sup_t *s, int slot);
DUET_INTERNAL duet_err_t sup_slots_store(duet_sup_t *s, const duet_slot_rec_t *next);
/** An upload is about to erase 'slot': journal it as WRITING first (never the running
 *  or active slot). Error = journal not written: do not erase. */
DUET_INTERNAL duet_err_t sup_slots_mark_writing(duet_sup_t *s, int slot);
/** A refused or aborted upload had erased 'slot': journal it EMPTY (best effort; it
 *  stays WRITING if this store fails, which is just as unbootable). */
DUET_INTERNAL void sup_slots_mark_empty(duet_sup_t *s, int slot);
/** A head whose signature verified: later verifications of it skip the ECDSA math. */
DUET_INTERNAL void sup_slots_remember(duet_sup_t *s, const duet_img_info_t *info);

/* ---- sup_health.c ---- */
DUET_INTERNAL void sup_health_reset(duet_sup_t *s, uint64_t now);
DUET_INTERNAL void sup_health_poll(duet_sup_t *s, uint64_t now);

/* ---- sup_recover.c ---- */
/* Core 1 failed (crash record captured or hang written): decide what happens next. */
DUET_INTERNAL void sup_recover_on_failure(duet_sup_t *s, uint64_t now);
DUET_INTERNAL void sup_recover_poll(duet_sup_t *s, uint64_t now);
DUET_INTERNAL void sup_recover_reset(duet_sup_t *s);

/* ---- sup_log.c ---- */
DUET_INTERNAL void sup_log_attach(duet_sup_t *s);
DUET_INTERNAL void sup_log_drain(duet_sup_t *s);

/* ---- loader.c ---- */
/* Verify the image in a slot straight from flash (hash + signature + policy). */
DUET_INTERNAL duet_err_t loader_verify_slot(int slot, const duet_img_policy_t *pol,
                                            duet_img_info_t *info);
/* Copy a verified slot image into core-1 memory (core 1 stopped). Every byte is
 * hashed again while it is copied; a digest different from info->sha256 (flash changed
 * after verification) fails with DUET_ERR_IMG_BAD_HASH and core 1 must not start. */
DUET_INTERNAL duet_err_t loader_copy_slot(int slot, const duet_img_info_t *info);

#endif /* DUET_SUP_INT_H */
