/*
 * slot.c - the A/B slot-state journal in the STATE flash area (see duet/slot.h).
 *
 * Two copies of one 32-byte record: copy 0 at offset 0, copy 1 at one erase block.
 * store() always rewrites the copy that does NOT hold the newest valid record (erase
 * its block, program the record with seq = newest + 1), so at every instant of a store
 * the newest valid record stays untouched in the other copy. A power cut leaves the
 * target copy erased, torn or complete: torn copies fail the CRC (the CRC is the last
 * field programmed), complete ones win by seq. load() takes the valid copy with the
 * higher seq (serial-number arithmetic, so a wrap from 0xFFFFFFFF to 0 still orders).
 * store() never lowers sr_min_security below the newest valid record's (anti-rollback)
 * and reads the record back before reporting success.
 *
 * Organisation: encode/decode (explicit little-endian), validity check,
 * load/store. What must not change: the copy offsets and the record layout (on flash).
 */
#include <string.h>

#include "duet/crc32.h"
#include "duet/port.h"
#include "duet/slot.h"

#define REC_SIZE 32u
#define CRC_COVER 28u

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void encode(const duet_slot_rec_t *r, uint8_t b[REC_SIZE])
{
    memset(b, 0, REC_SIZE);
    put32(b + 0, r->sr_magic);
    put32(b + 4, r->sr_seq);
    b[8] = r->sr_active;
    b[9] = r->sr_status[0];
    b[10] = r->sr_status[1];
    put32(b + 12, r->sr_min_security);
    put32(b + 16, r->sr_boots[0]);
    put32(b + 20, r->sr_boots[1]);
    put32(b + 28, duet_crc32(b, CRC_COVER));
}

/* Decode and check one copy: magic, CRC, and that every field is in range (a record
 * with a good CRC but impossible contents came from a bug, not from us: refuse it). */
static bool decode(const uint8_t b[REC_SIZE], duet_slot_rec_t *r)
{
    if (get32(b) != DUET_SLOT_MAGIC || get32(b + 28) != duet_crc32(b, CRC_COVER))
        return false;
    memset(r, 0, sizeof(*r));
    r->sr_magic = get32(b + 0);
    r->sr_seq = get32(b + 4);
    r->sr_active = b[8];
    r->sr_status[0] = b[9];
    r->sr_status[1] = b[10];
    r->sr_min_security = get32(b + 12);
    r->sr_boots[0] = get32(b + 16);
    r->sr_boots[1] = get32(b + 20);
    r->sr_crc = get32(b + 28);
    if (r->sr_active >= DUET_SLOT_COUNT || r->sr_status[0] > DUET_SLOT_STATUS_MAX ||
        r->sr_status[1] > DUET_SLOT_STATUS_MAX)
        return false;
    return true;
}

static duet_err_t geometry(uint32_t *erase)
{
    uint32_t size;
    DUET_TRY(duet_port_flash_info(DUET_AREA_STATE, &size, erase));
    if (*erase == 0 || *erase < REC_SIZE || size / 2u < *erase)
        return DUET_ERR_SLOT_CORRUPT; /* the area cannot hold two copies */
    return DUET_OK;
}

/* Read both copies; *newest = index of the newest valid one or -1. */
static duet_err_t read_copies(uint32_t erase, duet_slot_rec_t rec[2], bool ok[2], int *newest)
{
    for (unsigned i = 0; i < 2; i++) {
        uint8_t b[REC_SIZE];
        DUET_TRY(duet_port_flash_read(DUET_AREA_STATE, i * erase, b, sizeof(b)));
        ok[i] = decode(b, &rec[i]);
    }
    if (ok[0] && ok[1])
        *newest = (int32_t)(rec[1].sr_seq - rec[0].sr_seq) > 0 ? 1 : 0;
    else if (ok[0] || ok[1])
        *newest = ok[0] ? 0 : 1;
    else
        *newest = -1;
    return DUET_OK;
}

duet_err_t duet_slot_load(duet_slot_rec_t *rec, bool *fresh)
{
    if (rec == NULL)
        return DUET_ERR_INVAL;
    uint32_t erase;
    DUET_TRY(geometry(&erase));
    duet_slot_rec_t copies[2];
    bool ok[2];
    int newest;
    DUET_TRY(read_copies(erase, copies, ok, &newest));
    if (fresh != NULL)
        *fresh = newest < 0;
    if (newest < 0) {
        memset(rec, 0, sizeof(*rec));
        rec->sr_magic = DUET_SLOT_MAGIC;
        return DUET_OK;
    }
    *rec = copies[newest];
    return DUET_OK;
}

duet_err_t duet_slot_store(duet_slot_rec_t *rec)
{
    if (rec == NULL || rec->sr_active >= DUET_SLOT_COUNT ||
        rec->sr_status[0] > DUET_SLOT_STATUS_MAX || rec->sr_status[1] > DUET_SLOT_STATUS_MAX)
        return DUET_ERR_INVAL;
    uint32_t erase;
    DUET_TRY(geometry(&erase));
    duet_slot_rec_t copies[2];
    bool ok[2];
    int newest;
    /* The flash decides seq and target, not the caller's copy: a caller holding a
     * stale record must still never overwrite the newest one. */
    DUET_TRY(read_copies(erase, copies, ok, &newest));
    unsigned target = newest == 0 ? 1u : 0u;
    duet_slot_rec_t r = *rec;
    r.sr_magic = DUET_SLOT_MAGIC;
    r.sr_seq = newest < 0 ? 1u : copies[newest].sr_seq + 1u;
    /* Anti-rollback floor: never lower than what flash already holds, whatever the
     * caller's copy says (the supervisor only raises it; this makes it structural). */
    if (newest >= 0 && r.sr_min_security < copies[newest].sr_min_security)
        r.sr_min_security = copies[newest].sr_min_security;
    r.sr_pad0 = 0;
    r.sr_pad1 = 0;
    uint8_t b[REC_SIZE];
    encode(&r, b);
    r.sr_crc = get32(b + 28);
    DUET_TRY(duet_port_flash_erase(DUET_AREA_STATE, target * erase, erase));
    DUET_TRY(duet_port_flash_write(DUET_AREA_STATE, target * erase, b, sizeof(b)));
    /* Read back: a write that "succeeded" but did not stick must not be reported as
     * stored (the old record is still the newest, so nothing is lost). */
    uint8_t v[REC_SIZE];
    DUET_TRY(duet_port_flash_read(DUET_AREA_STATE, target * erase, v, sizeof(v)));
    if (memcmp(v, b, sizeof(b)) != 0)
        return DUET_ERR_IO;
    *rec = r;
    return DUET_OK;
}
