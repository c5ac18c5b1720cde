/*
 * ota.c - a streaming update of the inactive slot (duet/ota.h).
 *
 *   begin   claim the inactive slot (one session per supervisor: DUET_ERR_BUSY); checks
 *           the announced size. Nothing is erased yet.
 *   write   feed the streaming verifier FIRST, then program flash: a chunk the verifier
 *           already refused is never written. The head of the image (header, segment
 *           table, TLVs, trailer: at most DUET_OTA_HEAD_MAX bytes) is held in RAM until
 *           the verifier has authenticated it (format 2: the signed head carries the
 *           payload's digest), and blocks are erased just before the write pointer
 *           enters them (no multi-second erase of the whole slot up front). So an upload
 *           refused by anything in its head (bad magic, wrong chip/ABI, downgrade, too
 *           big, window, overlap, TLVs, no or a forged signature, unknown key) is
 *           refused before anything is erased, however its bytes were chunked, and the
 *           inactive slot keeps its old image (still a rollback target). Only a payload
 *           that does not match the signed digest, or a truncated one, costs the old
 *           content: the journal marks the slot WRITING before the first erase and
 *           EMPTY after such a refusal, so it is never shown or selected as the image
 *           it was.
 *   finish  the verifier's end checks (hash, signature, counter, chip, window), then a
 *           read-back verification of the slot from flash (what will boot is what was
 *           checked, not what was received), then duet_sup_install(): the journal write
 *           is the single step that makes the image selectable.
 * Any error ends the session (FAILED: later calls return it) and releases the slot;
 * nothing selectable changed and the running program never stopped.
 */
#include <string.h>

#include "duet/ota.h"
#include "sup_int.h"

static duet_img_stream_t *stream(duet_ota_t *o)
{
    return (duet_img_stream_t *)(void *)o->stream.bytes;
}

static void release(duet_ota_t *o)
{
    if (o->sup != NULL && o->sup->ota_owner == o)
        o->sup->ota_owner = NULL;
}

/* After a refusal or an abort: an untouched slot still holds its old image (verify it
 * again); an erased one is journaled EMPTY instead of WRITING. */
static void settle(duet_ota_t *o)
{
    if (o->sup == NULL)
        return;
    if (o->erased_to == 0)
        sup_slots_reverify(o->sup, o->slot);
    else
        sup_slots_mark_empty(o->sup, o->slot);
}

static duet_err_t fail(duet_ota_t *o, duet_err_t e)
{
    if (o->phase == DUET_OTA_ACTIVE)
        duet_img_stream_free(stream(o));
    release(o);
    settle(o);
    o->phase = DUET_OTA_FAILED;
    o->err = e;
    duet_port_log(DUET_PLOG_WARN, "duet", "update refused after %u bytes: %s",
                  (unsigned)o->received, duet_err_str(e));
    return e;
}

duet_err_t duet_ota_begin(duet_ota_t *o, duet_sup_t *s, uint32_t total_size)
{
    if (o == NULL || s == NULL || !s->initialised)
        return DUET_ERR_INVAL;
    if (s->ota_owner != NULL || o->phase == DUET_OTA_ACTIVE)
        return DUET_ERR_BUSY;
    if (duet_img_stream_ctx_size() > sizeof(o->stream.bytes))
        return DUET_ERR_NOMEM;
    if (!s->rec_loaded)
        DUET_TRY(sup_slots_refresh(s));
    /* Blank journal (nothing started yet on a factory-flashed device): adopt the
     * verified image first, so it is the rollback target the upload must not
     * replace, and its security counter is the floor the upload is checked against. */
    sup_slots_adopt_fresh(s);
    int slot = duet_sup_inactive_slot(s);
    if (slot < 0)
        return DUET_ERR_STATE;
    int cur = 1 - slot;
    /* Like esp_ota_begin with rollback enabled: while the running image is still on
     * trial, its rollback target must not be overwritten. Confirm or roll back first. */
    if (s->rec.sr_status[cur] == DUET_SLOT_PENDING && s->rec.sr_active == cur &&
        s->rec.sr_status[slot] == DUET_SLOT_CONFIRMED && s->slot_valid[slot])
        return DUET_ERR_STATE;
    uint32_t size, erase;
    DUET_TRY(duet_port_flash_info((duet_area_t)slot, &size, &erase));
    if (erase == 0)
        return DUET_ERR_STATE; /* port bug; would stall the erase-ahead loop */
    if (total_size > size)
        return DUET_ERR_IMG_TOO_BIG;
    memset(o, 0, sizeof(*o));
    o->sup = s;
    o->slot = slot;
    o->slot_size = size;
    o->erase_size = erase;
    o->total = total_size;
    DUET_TRY(duet_sup_policy(s, &o->pol));
    o->pol.max_image_size = size;
    DUET_TRY(duet_img_stream_init(stream(o), &o->pol));
    s->ota_owner = o;
    s->ota_slot = slot;
    s->slot_valid[slot] = false; /* its old content may be going away */
    o->phase = DUET_OTA_ACTIVE;
    duet_port_log(DUET_PLOG_INFO, "duet", "update into slot %c (%u bytes announced)", 'A' + slot,
                  (unsigned)total_size);
    return DUET_OK;
}

/* Erase the blocks [off, off+len) reaches (just ahead of the write pointer), then
 * program the bytes. Before the very first erase the journal says WRITING, so the
 * slot never claims an image it no longer holds (not even after a power cut). */
static duet_err_t program(duet_ota_t *o, uint32_t off, const void *data, size_t len)
{
    uint32_t end = off + (uint32_t)len;
    if (o->erased_to == 0 && end > 0)
        DUET_TRY(sup_slots_mark_writing(o->sup, o->slot));
    while (o->erased_to < end) {
        uint32_t n = o->slot_size - o->erased_to < o->erase_size ? o->slot_size - o->erased_to
                                                                 : o->erase_size;
        DUET_TRY(duet_port_flash_erase((duet_area_t)o->slot, o->erased_to, n));
        o->erased_to += n;
    }
    return duet_port_flash_write((duet_area_t)o->slot, off, data, len);
}

duet_err_t duet_ota_write(duet_ota_t *o, const void *data, size_t len)
{
    if (o == NULL)
        return DUET_ERR_INVAL;
    if (o->phase == DUET_OTA_FAILED)
        return o->err;
    if (o->phase != DUET_OTA_ACTIVE)
        return DUET_ERR_OTA_STATE;
    if (len == 0)
        return DUET_OK;
    if (data == NULL)
        return fail(o, DUET_ERR_INVAL);
    uint32_t limit = o->total != 0 ? o->total : o->slot_size;
    if (len > (size_t)(limit - o->received))
        return fail(o, DUET_ERR_IMG_TOO_BIG); /* more than announced or than the slot */
    duet_err_t e = duet_img_stream_feed(stream(o), data, len);
    if (e != DUET_OK)
        return fail(o, e);
    if (o->erased_to == 0) {
        /* Nothing on flash yet. Until the verifier has authenticated the head, keep
         * the bytes in RAM: a refusal by header, table, TLVs or signature must not
         * erase the slot's old image, whatever the chunking (a slow client may send
         * the head one byte at a time). Before the head is complete at most
         * DUET_OTA_HEAD_MAX bytes can have arrived. */
        if (!duet_img_stream_authenticated(stream(o))) {
            if (len > sizeof(o->head) - o->received)
                return fail(o, DUET_ERR_IMG_BAD_HDR_SIZE); /* unreachable: see above */
            memcpy(o->head + o->received, data, len);
            o->received += (uint32_t)len;
            return DUET_OK;
        }
        if (o->received > 0) {
            e = program(o, 0, o->head, o->received);
            if (e != DUET_OK)
                return fail(o, e);
        }
    }
    e = program(o, o->received, data, len);
    if (e != DUET_OK)
        return fail(o, e);
    o->received += (uint32_t)len;
    return DUET_OK;
}

duet_err_t duet_ota_finish(duet_ota_t *o, bool activate, duet_img_info_t *info)
{
    if (o == NULL)
        return DUET_ERR_INVAL;
    if (o->phase == DUET_OTA_FAILED)
        return o->err;
    if (o->phase != DUET_OTA_ACTIVE)
        return DUET_ERR_OTA_STATE;
    if (o->total != 0 && o->received != o->total)
        return fail(o, DUET_ERR_IMG_TRUNCATED);
    duet_img_info_t streamed, stored;
    duet_err_t e = duet_img_stream_finish(stream(o), &streamed);
    duet_img_stream_free(stream(o));
    o->phase = DUET_OTA_FAILED; /* stream consumed; becomes IDLE on success below */
    if (e != DUET_OK)
        return fail(o, e);
    /* Read back: flash must hold exactly what was verified. The signature of this head
     * was just checked: the read-back skips that computation, not the hashes. */
    sup_slots_remember(o->sup, &streamed);
    e = duet_sup_policy(o->sup, &o->pol);
    o->pol.max_image_size = o->slot_size;
    if (e == DUET_OK)
        e = loader_verify_slot(o->slot, &o->pol, &stored);
    if (e == DUET_OK && memcmp(stored.sha256, streamed.sha256, sizeof(stored.sha256)) != 0)
        e = DUET_ERR_IMG_BAD_HASH;
    if (e != DUET_OK)
        return fail(o, e);
    duet_sup_t *s = o->sup;
    release(o); /* install may restart core 1 into the slot: no longer ours */
    e = duet_sup_install(s, o->slot, &stored, activate);
    if (e != DUET_OK && !(s->rec.sr_active == o->slot &&
                          s->rec.sr_status[o->slot] == DUET_SLOT_PENDING)) {
        o->phase = DUET_OTA_FAILED;
        o->err = e;
        return e; /* journal not written: nothing changed */
    }
    o->phase = DUET_OTA_IDLE;
    if (info != NULL)
        *info = stored;
    /* Installed. A failed restart into it is a start error, reported as such. */
    return e;
}

void duet_ota_abort(duet_ota_t *o)
{
    if (o == NULL)
        return;
    bool was_active = o->phase == DUET_OTA_ACTIVE;
    if (was_active)
        duet_img_stream_free(stream(o));
    release(o);
    if (was_active)
        settle(o);
    o->phase = DUET_OTA_IDLE;
    o->err = DUET_OK;
}

uint32_t duet_ota_received(const duet_ota_t *o)
{
    return o != NULL ? o->received : 0;
}
