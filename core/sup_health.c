/*
 * sup_health.c - is core 1 alive? Boot acknowledgement, heartbeat deadline, crash and
 * hang capture, and the confirmation of a PENDING slot after N heartbeats.
 *
 * Everything read here comes from shared memory written by core 1 (or from a dead
 * core 1): it is input. A crash record counts only if cr_magic is valid AND cr_epoch is
 * this run's epoch: shm init keeps the previous record on purpose (it describes the
 * last run), and a record of an older epoch must never crash the new run.
 * A hang is written by core 0 itself as a DUET_CRASH_HANG record (after stopping core 1,
 * so a late fault handler cannot interleave with it).
 */
#include <string.h>

#include "sup_int.h"

void sup_health_reset(duet_sup_t *s, uint64_t now)
{
    s->run_start_us = now;
    s->last_hb_us = now;
    s->first_hb_us = 0;
    s->last_hb = sup_ld(&sup_ctrl(s)->sc_heartbeat);
    s->hb_at_boot = s->last_hb;
    s->hb_changes = 0;
}

/* Copy the shared record (cr_magic already checked with acquire) and sanitise it. */
static void capture(duet_sup_t *s, const duet_crash_t *src)
{
    memcpy(&s->last_crash, src, sizeof(s->last_crash));
    duet_crash_t *c = &s->last_crash;
    c->cr_msg[DUET_CRASH_MSG_LEN - 1] = '\0';
    if (c->cr_bt_count > DUET_CRASH_BT)
        c->cr_bt_count = DUET_CRASH_BT;
    if (c->cr_build_id_len > sizeof(c->cr_build_id))
        c->cr_build_id_len = sizeof(c->cr_build_id);
    s->has_crash = true;
}

/* Write a core-0 crash record (hang, or a crash core 1 could not describe) into
 * shared memory, so every reader (status, HTTP, CLI) sees one format. */
static void write_record(duet_sup_t *s, uint32_t reason, const char *msg, uint64_t now)
{
    duet_shm_ctrl_t *ctrl = sup_ctrl(s);
    duet_crash_t *cr = &ctrl->sc_crash;
    sup_st(&cr->cr_magic, 0);
    memset((uint8_t *)cr + sizeof(uint32_t), 0, sizeof(*cr) - sizeof(uint32_t));
    cr->cr_epoch = s->epoch;
    cr->cr_reason = reason;
    cr->cr_uptime_us = (uint32_t)(now - s->run_start_us);
    uint32_t idlen = ctrl->sc_build_id_len;
    if (idlen > sizeof(cr->cr_build_id))
        idlen = sizeof(cr->cr_build_id);
    memcpy(cr->cr_build_id, ctrl->sc_build_id, idlen);
    cr->cr_build_id_len = (uint8_t)idlen;
    strncpy(cr->cr_msg, msg, sizeof(cr->cr_msg) - 1);
    sup_st(&cr->cr_magic, DUET_CRASH_MAGIC);
}

static void on_crash(duet_sup_t *s, uint64_t now)
{
    (void)duet_port_core1_stop(); /* it is halted or gone; make the port agree */
    sup_log_drain(s);             /* its last lines, before the state event */
    capture(s, &sup_ctrl(s)->sc_crash);
    s->crashes++;
    duet_port_log(DUET_PLOG_ERROR, "duet", "core 1 crashed: reason %u pc 0x%08x addr 0x%08x %s",
                  (unsigned)s->last_crash.cr_reason, (unsigned)s->last_crash.cr_pc,
                  (unsigned)s->last_crash.cr_excvaddr, s->last_crash.cr_msg);
    sup_set_state(s, DUET_SUP_CRASHED);
    duet_sup_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = DUET_EV_CRASH;
    ev.from = ev.to = DUET_SUP_CRASHED;
    ev.slot = s->running_slot;
    ev.crash = &s->last_crash;
    sup_emit(s, &ev);
    sup_recover_on_failure(s, now);
}

static void on_hang(duet_sup_t *s, uint64_t now, const char *why)
{
    (void)duet_port_core1_stop(); /* must stop it: it may still be running */
    sup_log_drain(s);
    write_record(s, DUET_CRASH_HANG, why, now);
    capture(s, &sup_ctrl(s)->sc_crash);
    s->crashes++;
    duet_port_log(DUET_PLOG_ERROR, "duet", "core 1 hung: %s", why);
    sup_set_state(s, DUET_SUP_HUNG);
    duet_sup_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = DUET_EV_HANG;
    ev.from = ev.to = DUET_SUP_HUNG;
    ev.slot = s->running_slot;
    ev.crash = &s->last_crash;
    sup_emit(s, &ev);
    sup_recover_on_failure(s, now);
}

/* True if core 1 failed in this epoch (crash record, crashed state, or the port saw
 * it die); makes sure a record of this epoch is in shared memory. */
static bool failed(duet_sup_t *s, uint64_t now)
{
    duet_shm_ctrl_t *c = sup_ctrl(s);
    bool gone = duet_port_core1_poll() != DUET_OK;
    /* The port may have written a KILLED record during poll: read the record after. */
    if (sup_ld(&c->sc_crash.cr_magic) == DUET_CRASH_MAGIC &&
        sup_ld(&c->sc_crash.cr_epoch) == s->epoch)
        return true;
    bool crashed_state = sup_ld(&c->sc_c1_epoch) == s->epoch &&
                         sup_ld(&c->sc_c1_state) == DUET_C1_CRASHED;
    if (crashed_state || gone) {
        /* Core 1 went down without a record of this epoch: describe it ourselves. */
        write_record(s, gone ? DUET_CRASH_KILLED : DUET_CRASH_EXCEPTION,
                     gone ? "core 1 gone without a crash record" : "no crash record", now);
        return true;
    }
    return false;
}

void sup_health_poll(duet_sup_t *s, uint64_t now)
{
    duet_shm_ctrl_t *c = sup_ctrl(s);
    if (failed(s, now)) {
        on_crash(s, now);
        return;
    }
    uint32_t c1_epoch = sup_ld(&c->sc_c1_epoch);
    uint32_t c1_state = sup_ld(&c->sc_c1_state);
    if (c1_epoch == s->epoch && c1_state == DUET_C1_EXITED) {
        duet_port_log(DUET_PLOG_INFO, "duet", "core-1 program returned from duet_main");
        (void)duet_port_core1_stop(); /* halted already; make the port agree */
        sup_log_drain(s);
        sup_set_state(s, DUET_SUP_STOPPED);
        return;
    }
    if (s->state == DUET_SUP_LOADING) {
        if (c1_epoch == s->epoch &&
            (c1_state == DUET_C1_RUNNING || c1_state == DUET_C1_PARKED)) {
            s->last_hb_us = now; /* the heartbeat deadline starts at the ack */
            sup_set_state(s, DUET_SUP_RUNNING);
        } else if (now - s->run_start_us > sup_ms(s->cfg.boot_timeout_ms)) {
            on_hang(s, now, "boot timeout: no ack of the epoch");
            return;
        } else {
            return;
        }
    }
    uint32_t hb = sup_ld(&c->sc_heartbeat);
    if (hb != s->last_hb) {
        s->last_hb = hb;
        s->last_hb_us = now;
        if (s->hb_changes != UINT32_MAX)
            s->hb_changes++;
        if (s->first_hb_us == 0)
            s->first_hb_us = now;
    } else if (now - s->last_hb_us > sup_ms(s->cfg.heartbeat_timeout_ms)) {
        on_hang(s, now, "heartbeat timeout");
        return;
    }
    /* Confirm only after N heartbeats seen on N separate polls: a program that writes a
     * large value into sc_heartbeat once must not confirm itself. */
    int slot = s->running_slot;
    if (slot >= 0 && slot < (int)DUET_SLOT_COUNT && s->rec.sr_status[slot] == DUET_SLOT_PENDING &&
        hb - s->hb_at_boot >= s->cfg.confirm_heartbeats &&
        s->hb_changes >= s->cfg.confirm_heartbeats && s->first_hb_us != 0) {
        duet_err_t e = sup_slots_confirm(s);
        if (e != DUET_OK)
            s->last_err = e; /* retried on the next poll */
    }
}
