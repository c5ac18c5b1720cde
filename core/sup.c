/*
 * sup.c - the supervisor's state machine: init, start/stop/restart, poll dispatch,
 * status and events (duet/sup.h). Portable: reaches the world only via duet/port.h.
 *
 *   OFFLINE/STOPPED --start--> LOADING (core 1 stopped, slot verified + copied with a
 *                              second hash, epoch++, shm init, core 1 released)
 *   LOADING --core 1 acks: c1_state RUNNING && c1_epoch == epoch--> RUNNING
 *   LOADING --boot deadline--> HUNG
 *   LOADING/RUNNING --crash record of THIS epoch (or port: core 1 died)--> CRASHED
 *   RUNNING --no heartbeat change for heartbeat_timeout--> HUNG
 *   RUNNING --c1_state EXITED--> STOPPED (the program returned from duet_main)
 *   CRASHED/HUNG --policy (sup_recover.c)--> RECOVERING --backoff--> LOADING
 *   CRASHED/HUNG --recovery off / once spent / crash loop with nothing to revert--> stay
 *   any --stop--> STOPPED
 *
 * Other files: sup_slots.c (A/B), sup_health.c (deadlines, confirm), sup_recover.c
 * (policy, backoff, revert), sup_log.c (log drain); see sup_int.h.
 * What must not change: a new epoch (never 0) before every release of core 1, and the
 * shared area initialised while core 1 is stopped (both sides rely on it, duet/shm.h).
 */
#include <string.h>

#include "sup_int.h"

void duet_sup_config_default(duet_sup_config_t *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->heartbeat_timeout_ms = 1000;
    cfg->boot_timeout_ms = 2000;
    cfg->recovery = DUET_RECOVERY_ON;
    cfg->backoff_initial_ms = 100;
    cfg->backoff_max_ms = 5000;
    cfg->crash_loop_limit = 3;
    cfg->crash_loop_window_ms = 30000;
    cfg->confirm_heartbeats = 5;
    cfg->shm.log_ring_size = 4096;
    cfg->require_signature = true; /* secure default; the simulator may turn it off */
}

const char *duet_sup_state_name(duet_sup_state_t st)
{
    switch (st) {
    case DUET_SUP_OFFLINE: return "OFFLINE";
    case DUET_SUP_LOADING: return "LOADING";
    case DUET_SUP_RUNNING: return "RUNNING";
    case DUET_SUP_CRASHED: return "CRASHED";
    case DUET_SUP_HUNG: return "HUNG";
    case DUET_SUP_RECOVERING: return "RECOVERING";
    case DUET_SUP_STOPPED: return "STOPPED";
    }
    return "UNKNOWN";
}

void sup_emit(duet_sup_t *s, const duet_sup_event_t *ev)
{
    if (s->cfg.on_event != NULL)
        s->cfg.on_event(s->cfg.user, ev);
}

void sup_emit_simple(duet_sup_t *s, duet_sup_event_type_t type, int slot, duet_err_t err)
{
    duet_sup_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.from = ev.to = s->state;
    ev.slot = slot;
    ev.err = err;
    sup_emit(s, &ev);
}

void sup_set_state(duet_sup_t *s, duet_sup_state_t to)
{
    s->state_since_us = duet_port_now_us();
    if (s->state == to)
        return;
    duet_sup_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = DUET_EV_STATE;
    ev.from = s->state;
    ev.to = to;
    ev.slot = s->running_slot;
    ev.err = s->last_err;
    s->state = to;
    duet_port_log(DUET_PLOG_INFO, "duet", "core 1: %s -> %s", duet_sup_state_name(ev.from),
                  duet_sup_state_name(to));
    sup_emit(s, &ev);
}

duet_err_t duet_sup_init(duet_sup_t *s, const duet_sup_config_t *cfg)
{
    if (s == NULL || cfg == NULL || cfg->heartbeat_timeout_ms == 0 || cfg->boot_timeout_ms == 0 ||
        cfg->backoff_initial_ms == 0 || cfg->backoff_max_ms < cfg->backoff_initial_ms ||
        cfg->crash_loop_limit == 0 || (unsigned)cfg->recovery > DUET_RECOVERY_ONCE ||
        cfg->key_count > DUET_POLICY_MAX_KEYS)
        return DUET_ERR_INVAL;
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    if (s->cfg.crash_loop_limit > DUET_SUP_CRASH_HISTORY)
        s->cfg.crash_loop_limit = DUET_SUP_CRASH_HISTORY;
    s->shm = duet_port_shm(&s->shm_size);
    if (s->shm == NULL || s->shm_size < sizeof(duet_shm_ctrl_t))
        return DUET_ERR_STATE;
    /* Epochs continue across a core-0 restart when the shared area survived it (the
     * chip keeps it in a no-init window): a late message from before the restart then
     * still carries an older epoch and is rejected. */
    const duet_shm_ctrl_t *c = sup_ctrl(s);
    if (sup_ld(&c->sc_magic) == DUET_SHM_MAGIC)
        s->epoch = sup_ld(&c->sc_epoch);
    s->running_slot = -1;
    s->state = DUET_SUP_OFFLINE;
    s->initialised = true;
    /* Status can show the slots before anything starts; a broken STATE area or empty
     * slots are not an init error (start() reports them). */
    s->last_err = sup_slots_refresh(s);
    return DUET_OK;
}

static uint32_t next_epoch(duet_sup_t *s)
{
    uint32_t e = s->epoch + 1u;
    if (e == 0)
        e = 1; /* 0 means "no epoch" to core 1 and the rings */
    return e;
}

/* Verify + copy the selected slot. Retries the selection once if the copy pass finds
 * the flash changed under it (the slot is then treated as invalid). */
static duet_err_t load_slot(duet_sup_t *s, duet_img_info_t *info, int *slot_out)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int slot;
        DUET_TRY(sup_slots_select(s, &slot));
        duet_err_t e = sup_slots_before_boot(s, slot);
        if (e == DUET_ERR_CRASH_LOOP)
            continue; /* trial exhausted and reverted: select again */
        DUET_TRY(e);
        *info = s->slot_info[slot];
        e = loader_copy_slot(slot, info);
        if (e == DUET_OK) {
            *slot_out = slot;
            return DUET_OK;
        }
        duet_port_log(DUET_PLOG_ERROR, "duet", "slot %c: load failed: %s", 'A' + slot,
                      duet_err_str(e));
        s->slot_valid[slot] = false;
        if (e != DUET_ERR_IMG_BAD_HASH)
            return e;
    }
    return DUET_ERR_NO_IMAGE;
}

duet_err_t sup_boot(duet_sup_t *s)
{
    sup_log_drain(s); /* last lines of a run being replaced */
    s->log_ok = false;
    sup_set_state(s, DUET_SUP_LOADING);
    duet_err_t e = duet_port_core1_stop();
    duet_img_info_t info;
    int slot = DUET_SUP_LINKED_SLOT;
    if (e == DUET_OK) {
        if (s->linked)
            info = s->run_info;
        else
            e = load_slot(s, &info, &slot);
    }
    uint32_t epoch = next_epoch(s);
    if (e == DUET_OK)
        e = duet_shm_init(s->shm, s->shm_size, &s->cfg.shm, epoch);
    if (e == DUET_OK) {
        /* shm init keeps the last crash record: it describes an earlier run. A record
         * claiming this epoch or a later one (serial arithmetic) cannot: core 1 can
         * write that memory, and a scribbled one would fail the new run at its first
         * poll. Drop it before core 1 is released. */
        duet_crash_t *cr = &sup_ctrl(s)->sc_crash;
        if (sup_ld(&cr->cr_magic) == DUET_CRASH_MAGIC &&
            (uint32_t)(sup_ld(&cr->cr_epoch) - epoch) < 0x80000000u)
            sup_st(&cr->cr_magic, 0);
    }
    if (e == DUET_OK) {
        s->epoch = epoch;
        s->running_slot = slot;
        s->run_info = info;
        sup_log_attach(s);
        sup_health_reset(s, duet_port_now_us());
        e = duet_port_core1_start(&info);
    }
    if (e != DUET_OK) {
        s->last_err = e;
        s->log_ok = false;
        (void)duet_port_core1_stop(); /* best effort: never leave a half-started core */
        duet_port_log(DUET_PLOG_ERROR, "duet", "start failed: %s", duet_err_str(e));
        sup_set_state(s, DUET_SUP_OFFLINE);
        return e;
    }
    s->last_err = DUET_OK;
    duet_port_log(DUET_PLOG_INFO, "duet", "core 1 released: %s%c \"%s\" v%u.%u.%u epoch %u",
                  slot == DUET_SUP_LINKED_SLOT ? "linked" : "slot ",
                  slot == DUET_SUP_LINKED_SLOT ? ' ' : 'A' + slot, info.name,
                  info.hdr.ih_ver_major, info.hdr.ih_ver_minor, info.hdr.ih_ver_patch,
                  (unsigned)s->epoch);
    return DUET_OK;
}

static bool can_start(const duet_sup_t *s)
{
    return s->state != DUET_SUP_LOADING && s->state != DUET_SUP_RUNNING;
}

static void reset_counters(duet_sup_t *s)
{
    s->restarts = 0;
    s->crashes = 0;
    sup_recover_reset(s);
}

duet_err_t duet_sup_start(duet_sup_t *s)
{
    if (s == NULL || !s->initialised)
        return DUET_ERR_INVAL;
    if (!can_start(s))
        return DUET_ERR_STATE;
    reset_counters(s);
    s->linked = false;
    duet_err_t e = sup_slots_refresh(s);
    if (e != DUET_OK) {
        s->last_err = e;
        return e;
    }
    return sup_boot(s);
}

duet_err_t duet_sup_start_linked(duet_sup_t *s, const duet_img_info_t *info)
{
    if (s == NULL || !s->initialised || info == NULL)
        return DUET_ERR_INVAL;
    if (!can_start(s))
        return DUET_ERR_STATE;
    reset_counters(s);
    s->linked = true;
    s->run_info = *info;
    return sup_boot(s);
}

duet_err_t duet_sup_stop(duet_sup_t *s)
{
    if (s == NULL || !s->initialised)
        return DUET_ERR_INVAL;
    sup_log_drain(s); /* last words of the program */
    duet_err_t e = duet_port_core1_stop();
    if (e != DUET_OK) {
        s->last_err = e;
        return e;
    }
    sup_set_state(s, DUET_SUP_STOPPED);
    return DUET_OK;
}

duet_err_t duet_sup_restart(duet_sup_t *s)
{
    if (s == NULL || !s->initialised)
        return DUET_ERR_INVAL;
    if (s->running_slot < 0 && !s->linked && s->state == DUET_SUP_OFFLINE)
        return duet_sup_start(s);
    sup_log_drain(s);
    sup_recover_reset(s); /* an operator restart gets a fresh crash budget */
    if (!s->linked)
        DUET_TRY(sup_slots_refresh_ex(s, false)); /* the other slot did not change */
    return sup_boot(s);
}

duet_err_t duet_sup_poll(duet_sup_t *s)
{
    if (s == NULL || !s->initialised)
        return DUET_ERR_INVAL;
    uint64_t now = duet_port_now_us();
    sup_log_drain(s);
    switch (s->state) {
    case DUET_SUP_LOADING:
    case DUET_SUP_RUNNING:
        sup_health_poll(s, now);
        break;
    case DUET_SUP_RECOVERING:
        sup_recover_poll(s, now);
        break;
    default:
        break;
    }
    return DUET_OK;
}

void duet_sup_get_status(const duet_sup_t *s, duet_sup_status_t *st)
{
    if (st == NULL)
        return;
    memset(st, 0, sizeof(*st));
    if (s == NULL || !s->initialised) {
        st->active_slot = -1;
        return;
    }
    st->state = s->state;
    st->active_slot = s->running_slot;
    st->slots = s->rec;
    for (unsigned i = 0; i < DUET_SLOT_COUNT; i++) {
        st->slot_valid[i] = s->slot_valid[i];
        if (s->slot_valid[i]) {
            st->slot_hdr[i] = s->slot_info[i].hdr;
            memcpy(st->slot_name[i], s->slot_info[i].name, sizeof(st->slot_name[i]) - 1);
        }
    }
    st->epoch = s->epoch;
    const duet_shm_ctrl_t *c = sup_ctrl(s);
    if (sup_ld(&c->sc_magic) == DUET_SHM_MAGIC && sup_ld(&c->sc_epoch) == s->epoch) {
        st->heartbeat = sup_ld(&c->sc_heartbeat);
        st->progress = sup_ld(&c->sc_progress);
    }
    st->restarts = s->restarts;
    st->crashes = s->crashes;
    st->run_start_us = s->run_start_us;
    st->last_heartbeat_us = s->last_hb_us;
    st->first_heartbeat_us = s->first_hb_us;
    st->has_crash = s->has_crash;
    st->last_crash = s->last_crash;
    st->last_err = s->last_err;
}
