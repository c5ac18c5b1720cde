/*
 * sup_slots.c - A/B slot decisions of the supervisor: which slot boots, trial boots of
 * a PENDING slot, confirmation, revert, install (from OTA), explicit rollback, and the
 * verification policy. The journal itself is core/slot.c.
 *
 * Rules:
 *  - A slot boots only if it verifies NOW (hash + signature + policy, straight from
 *    flash) and the journal calls it CONFIRMED or PENDING. The journal alone never
 *    makes garbage bootable, and a verified image alone never becomes selectable
 *    (an interrupted upload leaves its slot EMPTY in the journal).
 *  - Fresh journal (blank or fully corrupt STATE area, e.g. a factory-flashed device):
 *    the first slot that verifies is adopted as CONFIRMED and made active, at the first
 *    start or the first update (whichever comes first), so an update never replaces
 *    the factory image while it is the only rollback target.
 *  - The slot an update goes to is never the one running, nor (when nothing runs) the
 *    one a start would boot.
 *  - Security counter (anti-rollback): sr_min_security rises to the image's counter when
 *    a slot is CONFIRMED (MCUboot-like: a PENDING image on trial must not lock out the
 *    image it may have to revert to). Uploads and boots below it fail with
 *    DUET_ERR_IMG_DOWNGRADE. It never goes down.
 *  - A PENDING slot gets crash_loop_limit starts (sr_boots counts them in the journal,
 *    so the count survives core-0 resets); when the budget is spent and the other slot
 *    is a verified CONFIRMED image, it becomes BAD and the other slot boots.
 *  - The journal is written only on these transitions (install, trial start, confirm,
 *    revert, rollback, fall-back), never per heartbeat: every store erases a block.
 */
#include <string.h>

#include "sup_int.h"

duet_err_t duet_sup_policy(const duet_sup_t *s, duet_img_policy_t *pol)
{
    if (s == NULL || pol == NULL)
        return DUET_ERR_INVAL;
    memset(pol, 0, sizeof(*pol));
    DUET_TRY(duet_port_window(&pol->regions, &pol->region_count, &pol->chip, &pol->abi));
    duet_port_xip_window(&pol->xip); /* XIP images: where the firmware lets them map */
    uint32_t a, b;
    duet_err_t ea = duet_port_flash_info(DUET_AREA_SLOT_A, &a, NULL);
    duet_err_t eb = duet_port_flash_info(DUET_AREA_SLOT_B, &b, NULL);
    if (ea == DUET_OK && eb == DUET_OK)
        pol->max_image_size = a < b ? a : b;
    else if (ea == DUET_ERR_NOT_FOUND && eb == DUET_ERR_NOT_FOUND)
        pol->max_image_size = 0; /* no slots (a linked program): its caller sets the size */
    else
        return ea != DUET_OK ? ea : eb;
    pol->shm_version = DUET_SHM_LAYOUT_VERSION;
    pol->min_security_counter = s->rec.sr_min_security;
    pol->require_signature = s->cfg.require_signature;
    pol->key_count = s->cfg.key_count;
    memcpy(pol->keys, s->cfg.keys, sizeof(pol->keys));
    pol->known_count = s->auth_n < DUET_POLICY_MAX_KNOWN ? s->auth_n : DUET_POLICY_MAX_KNOWN;
    memcpy(pol->known, s->auth, sizeof(pol->known));
    return DUET_OK;
}

void sup_slots_remember(duet_sup_t *s, const duet_img_info_t *info)
{
    if (!info->signed_ok)
        return;
    for (unsigned i = 0; i < DUET_POLICY_MAX_KNOWN && i < s->auth_n; i++)
        if (memcmp(s->auth[i].head_sha256, info->sha256, DUET_IMG_HASH_LEN) == 0 &&
            memcmp(s->auth[i].sig, info->sig, DUET_IMG_SIG_LEN) == 0)
            return;
    duet_img_known_t *k = &s->auth[s->auth_n % DUET_POLICY_MAX_KNOWN];
    memcpy(k->head_sha256, info->sha256, DUET_IMG_HASH_LEN);
    memcpy(k->sig, info->sig, DUET_IMG_SIG_LEN);
    s->auth_n++;
}

static bool valid_slot(int slot)
{
    return slot >= 0 && slot < (int)DUET_SLOT_COUNT;
}

duet_err_t sup_slots_store(duet_sup_t *s, const duet_slot_rec_t *next)
{
    duet_slot_rec_t r = *next;
    duet_err_t e = duet_slot_store(&r);
    if (e != DUET_OK) {
        duet_port_log(DUET_PLOG_ERROR, "duet", "slot journal: store failed: %s", duet_err_str(e));
        return e;
    }
    s->rec = r;
    s->rec_loaded = true;
    s->rec_fresh = false;
    return DUET_OK;
}

/* One line per slot whenever its verification result changes: why a slot cannot boot
 * (empty, or which rule refused it) is the first thing someone looking at the console
 * needs. An erased slot reads as 0xFF bytes, i.e. a bad magic. */
static void log_verify(duet_sup_t *s, int slot, duet_err_t e)
{
    if (s->slot_err_seen[slot] && e == s->slot_err[slot])
        return;
    s->slot_err_seen[slot] = true;
    s->slot_err[slot] = e;
    if (e == DUET_OK)
        duet_port_log(DUET_PLOG_INFO, "duet", "slot %c: verified", 'A' + slot);
    else if (e == DUET_ERR_IMG_BAD_MAGIC)
        duet_port_log(DUET_PLOG_INFO, "duet", "slot %c: empty (no duet image)", 'A' + slot);
    else
        duet_port_log(DUET_PLOG_ERROR, "duet", "slot %c: image refused: %s", 'A' + slot,
                      duet_err_str(e));
}

static bool verify(duet_sup_t *s, int slot)
{
    if (s->ota_owner != NULL && s->ota_slot == slot) {
        s->slot_valid[slot] = false; /* being written */
        return false;
    }
    duet_img_policy_t pol;
    duet_img_info_t info;
    duet_err_t e = duet_sup_policy(s, &pol);
    if (e == DUET_OK)
        e = loader_verify_slot(slot, &pol, &info);
    log_verify(s, slot, e);
    bool ok = e == DUET_OK;
    s->slot_valid[slot] = ok;
    if (ok) {
        s->slot_info[slot] = info;
        sup_slots_remember(s, &info);
    }
    return ok;
}

duet_err_t sup_slots_mark_writing(duet_sup_t *s, int slot)
{
    if (!valid_slot(slot) || slot == s->running_slot)
        return DUET_ERR_STATE;
    duet_slot_rec_t next = s->rec;
    next.sr_magic = DUET_SLOT_MAGIC;
    next.sr_status[slot] = DUET_SLOT_WRITING;
    next.sr_boots[slot] = 0;
    DUET_TRY(sup_slots_store(s, &next));
    s->slot_valid[slot] = false;
    duet_port_log(DUET_PLOG_INFO, "duet", "slot %c: WRITING (old image being erased)", 'A' + slot);
    return DUET_OK;
}

void sup_slots_mark_empty(duet_sup_t *s, int slot)
{
    if (!valid_slot(slot) || s->rec.sr_status[slot] != DUET_SLOT_WRITING)
        return;
    duet_slot_rec_t next = s->rec;
    next.sr_status[slot] = DUET_SLOT_EMPTY;
    (void)sup_slots_store(s, &next); /* logs its own failure */
}

void sup_slots_reverify(duet_sup_t *s, int slot)
{
    if (valid_slot(slot))
        (void)verify(s, slot); /* result kept in slot_valid */
}

static bool bootable(const duet_sup_t *s, int slot);

duet_err_t sup_slots_refresh(duet_sup_t *s)
{
    return sup_slots_refresh_ex(s, true);
}

duet_err_t sup_slots_refresh_ex(duet_sup_t *s, bool both)
{
    duet_slot_rec_t r;
    bool fresh = false;
    duet_err_t e = duet_slot_load(&r, &fresh);
    if (e != DUET_OK) {
        s->rec_loaded = false;
        for (unsigned i = 0; i < DUET_SLOT_COUNT; i++)
            s->slot_valid[i] = false;
        return e;
    }
    s->rec = r;
    s->rec_loaded = true;
    s->rec_fresh = fresh;
    int a = r.sr_active < DUET_SLOT_COUNT ? r.sr_active : 0;
    (void)verify(s, a); /* result kept in slot_valid */
    /* The other slot: every time, or when the active one cannot boot (fall-back). Its
     * last result stays otherwise (its flash changes only through an upload, which
     * verifies it), and anything that relies on it verifies it itself first
     * (is_target, rollback). */
    if (both || fresh || !bootable(s, a))
        (void)verify(s, 1 - a);
    return DUET_OK;
}

static bool bootable(const duet_sup_t *s, int slot)
{
    uint8_t st = s->rec.sr_status[slot];
    return s->slot_valid[slot] && (st == DUET_SLOT_CONFIRMED || st == DUET_SLOT_PENDING);
}

static void adopt(duet_sup_t *s)
{
    duet_slot_rec_t next = s->rec;
    int first = -1;
    for (int i = 0; i < (int)DUET_SLOT_COUNT; i++) {
        if (!s->slot_valid[i])
            continue;
        if (first < 0) {
            first = i;
            next.sr_active = (uint8_t)i;
            next.sr_min_security = s->slot_info[i].hdr.ih_security_counter;
        }
        if (s->slot_info[i].hdr.ih_security_counter >= next.sr_min_security)
            next.sr_status[i] = DUET_SLOT_CONFIRMED;
    }
    if (first < 0)
        return;
    duet_port_log(DUET_PLOG_INFO, "duet", "no slot journal: adopting slot %c", 'A' + first);
    if (sup_slots_store(s, &next) != DUET_OK)
        s->rec = next; /* boot it anyway; the journal is written at the next change */
    for (int i = 0; i < (int)DUET_SLOT_COUNT; i++)
        if (s->slot_valid[i] && s->slot_info[i].hdr.ih_security_counter < next.sr_min_security)
            s->slot_valid[i] = false;
}

void sup_slots_adopt_fresh(duet_sup_t *s)
{
    if (s->rec_loaded && s->rec_fresh)
        adopt(s);
}

duet_err_t sup_slots_select(duet_sup_t *s, int *slot)
{
    *slot = -1;
    if (!s->rec_loaded)
        return DUET_ERR_SLOT_CORRUPT;
    if (s->rec_fresh)
        adopt(s);
    int a = s->rec.sr_active;
    if (bootable(s, a)) {
        *slot = a;
        return DUET_OK;
    }
    int o = 1 - a;
    if (!bootable(s, o))
        return DUET_ERR_NO_IMAGE;
    duet_port_log(DUET_PLOG_WARN, "duet", "slot %c not bootable, falling back to slot %c", 'A' + a,
                  'A' + o);
    duet_slot_rec_t next = s->rec;
    next.sr_active = (uint8_t)o;
    if (sup_slots_store(s, &next) != DUET_OK)
        s->rec.sr_active = (uint8_t)o; /* boot it anyway */
    sup_emit_simple(s, DUET_EV_ROLLBACK, o, DUET_OK);
    *slot = o;
    return DUET_OK;
}

bool sup_slots_is_target(duet_sup_t *s, int slot)
{
    return valid_slot(slot) && s->rec.sr_status[slot] == DUET_SLOT_CONFIRMED && verify(s, slot);
}

duet_err_t sup_slots_revert(duet_sup_t *s, int bad, int to)
{
    duet_slot_rec_t next = s->rec;
    next.sr_status[bad] = DUET_SLOT_BAD;
    next.sr_active = (uint8_t)to;
    DUET_TRY(sup_slots_store(s, &next));
    duet_port_log(DUET_PLOG_WARN, "duet", "slot %c marked BAD, reverting to slot %c", 'A' + bad,
                  'A' + to);
    sup_emit_simple(s, DUET_EV_ROLLBACK, to, DUET_OK);
    return DUET_OK;
}

duet_err_t sup_slots_before_boot(duet_sup_t *s, int slot)
{
    if (s->rec.sr_status[slot] != DUET_SLOT_PENDING)
        return DUET_OK;
    if (s->rec.sr_boots[slot] >= s->cfg.crash_loop_limit) {
        int other = 1 - slot;
        if (sup_slots_is_target(s, other)) {
            DUET_TRY(sup_slots_revert(s, slot, other));
            return DUET_ERR_CRASH_LOOP; /* caller selects again */
        }
        /* Nothing to revert to: keep trying the only image there is. */
    }
    duet_slot_rec_t next = s->rec;
    if (next.sr_boots[slot] != UINT32_MAX)
        next.sr_boots[slot]++;
    if (sup_slots_store(s, &next) != DUET_OK)
        s->rec = next; /* counted in RAM at least; flash trouble is logged */
    return DUET_OK;
}

duet_err_t sup_slots_confirm(duet_sup_t *s)
{
    int slot = s->running_slot;
    duet_slot_rec_t next = s->rec;
    next.sr_status[slot] = DUET_SLOT_CONFIRMED;
    uint32_t sc = s->run_info.hdr.ih_security_counter;
    if (sc > next.sr_min_security)
        next.sr_min_security = sc;
    DUET_TRY(sup_slots_store(s, &next));
    int other = 1 - slot;
    if (s->slot_valid[other] && s->slot_info[other].hdr.ih_security_counter < next.sr_min_security)
        s->slot_valid[other] = false; /* would now be a downgrade */
    duet_port_log(DUET_PLOG_INFO, "duet", "slot %c confirmed (min security %u)", 'A' + slot,
                  (unsigned)next.sr_min_security);
    sup_emit_simple(s, DUET_EV_CONFIRMED, slot, DUET_OK);
    return DUET_OK;
}

int duet_sup_inactive_slot(const duet_sup_t *s)
{
    if (s == NULL || !s->initialised)
        return -1;
    if (valid_slot(s->running_slot))
        return 1 - s->running_slot;
    /* Nothing from a slot runs: keep the slot a start would boot. If the journal's
     * active slot no longer verifies, that is the other one, and overwriting it would
     * leave no bootable image at all. */
    int base = s->rec.sr_active;
    if (!bootable(s, base) && bootable(s, 1 - base))
        base = 1 - base;
    return 1 - base;
}

duet_err_t duet_sup_install(duet_sup_t *s, int slot, const duet_img_info_t *info, bool activate)
{
    if (s == NULL || !s->initialised || !valid_slot(slot) || info == NULL)
        return DUET_ERR_INVAL;
    if (slot == s->running_slot && (s->state == DUET_SUP_LOADING || s->state == DUET_SUP_RUNNING))
        return DUET_ERR_STATE; /* never replace what runs */
    if (!s->rec_loaded)
        DUET_TRY(sup_slots_refresh(s)); /* the record written below starts from it */
    /* A blank journal first adopts the other slot's verified image (as start would):
     * it stays a CONFIRMED rollback target and its counter sets the floor. */
    sup_slots_adopt_fresh(s);
    if (info->hdr.ih_security_counter < s->rec.sr_min_security)
        return DUET_ERR_IMG_DOWNGRADE;
    duet_slot_rec_t next = s->rec;
    next.sr_magic = DUET_SLOT_MAGIC;
    next.sr_status[slot] = DUET_SLOT_PENDING;
    next.sr_boots[slot] = 0;
    next.sr_active = (uint8_t)slot;
    DUET_TRY(sup_slots_store(s, &next));
    s->slot_valid[slot] = true;
    s->slot_info[slot] = *info;
    duet_port_log(DUET_PLOG_INFO, "duet", "slot %c: installed \"%s\" v%u.%u.%u (PENDING)",
                  'A' + slot, info->name, info->hdr.ih_ver_major, info->hdr.ih_ver_minor,
                  info->hdr.ih_ver_patch);
    sup_emit_simple(s, DUET_EV_UPDATED, slot, DUET_OK);
    if (!activate)
        return DUET_OK;
    s->linked = false;
    sup_recover_reset(s);
    return sup_boot(s);
}

duet_err_t duet_sup_rollback(duet_sup_t *s)
{
    if (s == NULL || !s->initialised)
        return DUET_ERR_INVAL;
    if (s->ota_owner != NULL)
        return DUET_ERR_BUSY; /* the other slot is being written */
    if (!s->rec_loaded)
        DUET_TRY(sup_slots_refresh(s));
    int cur = valid_slot(s->running_slot) ? s->running_slot : s->rec.sr_active;
    int other = 1 - cur;
    uint8_t st = s->rec.sr_status[other];
    if (st != DUET_SLOT_CONFIRMED && st != DUET_SLOT_PENDING)
        return DUET_ERR_NO_IMAGE;
    duet_img_policy_t pol;
    duet_img_info_t info;
    DUET_TRY(duet_sup_policy(s, &pol));
    duet_err_t e = loader_verify_slot(other, &pol, &info);
    if (e != DUET_OK) {
        s->slot_valid[other] = false;
        return e;
    }
    duet_slot_rec_t next = s->rec;
    if (next.sr_status[cur] == DUET_SLOT_PENDING)
        next.sr_status[cur] = DUET_SLOT_BAD;
    next.sr_active = (uint8_t)other;
    DUET_TRY(sup_slots_store(s, &next));
    s->slot_valid[other] = true;
    s->slot_info[other] = info;
    duet_port_log(DUET_PLOG_INFO, "duet", "rollback to slot %c", 'A' + other);
    sup_emit_simple(s, DUET_EV_ROLLBACK, other, DUET_OK);
    s->linked = false;
    sup_recover_reset(s);
    return sup_boot(s);
}
