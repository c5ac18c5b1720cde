/*
 * sup_recover.c - what happens after core 1 crashed or hung.
 *
 *   OFF   stay CRASHED/HUNG (debugging: the crash record stays as it is)
 *   ONCE  one restart (after backoff_initial), then stay down
 *   ON    restart after a backoff that doubles with every crash inside the crash-loop
 *         window (initial, 2x, 4x ... capped at backoff_max). When crash_loop_limit
 *         crashes fall inside the window it is a crash loop:
 *           - running a PENDING slot and the other slot is a verified CONFIRMED image:
 *             the PENDING slot becomes BAD, the other one active (journal stored),
 *             DUET_EV_ROLLBACK, restart after backoff_initial with a fresh budget;
 *           - otherwise DUET_EV_GAVE_UP and the state stays CRASHED/HUNG
 *             (last_err = DUET_ERR_CRASH_LOOP). A CONFIRMED image is never reverted
 *             automatically: it has proven itself once, the operator decides.
 * Nothing here blocks: the restart itself happens in sup_recover_poll() once the
 * deadline has passed. All time math is by unsigned difference (wrap-safe).
 */
#include "sup_int.h"

void sup_recover_reset(duet_sup_t *s)
{
    s->crash_n = 0;
    s->once_used = false;
}

static uint32_t crashes_in_window(const duet_sup_t *s, uint64_t now)
{
    uint32_t kept = s->crash_n < DUET_SUP_CRASH_HISTORY ? s->crash_n : DUET_SUP_CRASH_HISTORY;
    uint64_t window = sup_ms(s->cfg.crash_loop_window_ms);
    uint32_t n = 0;
    for (uint32_t i = 0; i < kept; i++) {
        uint64_t t = s->crash_at[(s->crash_n - 1u - i) % DUET_SUP_CRASH_HISTORY];
        if (now - t <= window)
            n++;
    }
    return n;
}

static uint64_t backoff_us(const duet_sup_t *s, uint32_t n)
{
    uint64_t d = sup_ms(s->cfg.backoff_initial_ms), max = sup_ms(s->cfg.backoff_max_ms);
    for (uint32_t i = 1; i < n && d < max; i++)
        d *= 2u;
    return d < max ? d : max;
}

static void schedule(duet_sup_t *s, uint64_t now, uint64_t delay)
{
    s->recover_at_us = now + delay;
    duet_port_log(DUET_PLOG_INFO, "duet", "restarting core 1 in %u ms",
                  (unsigned)(delay / 1000u));
    sup_set_state(s, DUET_SUP_RECOVERING);
}

/* Crash loop: revert a PENDING slot if there is something to revert to. */
static bool try_revert(duet_sup_t *s, uint64_t now)
{
    int slot = s->running_slot;
    if (slot < 0 || slot >= (int)DUET_SLOT_COUNT || s->rec.sr_status[slot] != DUET_SLOT_PENDING)
        return false;
    int other = 1 - slot;
    if (!sup_slots_is_target(s, other))
        return false;
    if (sup_slots_revert(s, slot, other) != DUET_OK)
        return false; /* journal not written: nothing changed, give up instead */
    sup_recover_reset(s);
    schedule(s, now, sup_ms(s->cfg.backoff_initial_ms));
    return true;
}

void sup_recover_on_failure(duet_sup_t *s, uint64_t now)
{
    s->crash_at[s->crash_n % DUET_SUP_CRASH_HISTORY] = now;
    s->crash_n++;
    switch (s->cfg.recovery) {
    case DUET_RECOVERY_OFF:
        return;
    case DUET_RECOVERY_ONCE:
        if (s->once_used)
            return;
        s->once_used = true;
        schedule(s, now, sup_ms(s->cfg.backoff_initial_ms));
        return;
    case DUET_RECOVERY_ON:
        break;
    }
    uint32_t n = crashes_in_window(s, now);
    if (n >= s->cfg.crash_loop_limit) {
        duet_port_log(DUET_PLOG_ERROR, "duet", "crash loop: %u crashes in %u ms", (unsigned)n,
                      (unsigned)s->cfg.crash_loop_window_ms);
        if (try_revert(s, now))
            return;
        s->last_err = DUET_ERR_CRASH_LOOP;
        sup_emit_simple(s, DUET_EV_GAVE_UP, s->running_slot, DUET_ERR_CRASH_LOOP);
        return;
    }
    schedule(s, now, backoff_us(s, n));
}

void sup_recover_poll(duet_sup_t *s, uint64_t now)
{
    /* Not yet? Compared by difference, not by '<': the port's clock starts at an
     * arbitrary value, so now + delay may have wrapped past 2^64. */
    if (now - s->recover_at_us >= (UINT64_C(1) << 63))
        return;
    s->restarts++;
    duet_err_t e = s->linked ? DUET_OK : sup_slots_refresh_ex(s, false);
    if (e != DUET_OK) {
        s->last_err = e;
        sup_set_state(s, DUET_SUP_OFFLINE);
        return;
    }
    (void)sup_boot(s); /* a failure is recorded in last_err, state OFFLINE */
}
