/*
 * duet/slot.h - A/B slot state for core-1 images, kept in the STATE flash area.
 *
 * The state is a small record written as a journal of two copies (copy 0 at offset 0,
 * copy 1 at one erase block further). Each write goes to the copy NOT holding the newest
 * valid record, with seq+1 and a CRC-32, so a power cut at any byte leaves the other copy
 * intact: load() picks the valid record with the highest seq (wrap-safe comparison).
 *
 * Slot life cycle (like ESP-IDF OTA's NEW -> PENDING_VERIFY -> VALID and MCUboot's
 * test/confirm/revert):
 *   EMPTY --upload verified--> PENDING --N healthy heartbeats--> CONFIRMED
 *   PENDING --crash loop--> BAD (supervisor reverts to the other CONFIRMED slot)
 *   any --an upload's first erase--> WRITING --upload installed--> PENDING
 *                                    WRITING --upload refused/aborted--> EMPTY
 * WRITING is stored BEFORE the first erase, so a slot whose old image an upload began
 * to destroy never reads as CONFIRMED; an upload killed mid-way leaves it WRITING.
 */
#ifndef DUET_SLOT_H
#define DUET_SLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_SLOT_MAGIC 0x544f4c53u /* "SLOT" */
#define DUET_SLOT_COUNT 2u

typedef enum {
    DUET_SLOT_EMPTY = 0,     /* nothing (or nothing verified) */
    DUET_SLOT_PENDING = 1,   /* verified, on trial, not yet confirmed */
    DUET_SLOT_CONFIRMED = 2, /* ran healthy; a rollback target */
    DUET_SLOT_BAD = 3,       /* failed its trial or was superseded by a revert */
    DUET_SLOT_WRITING = 4,   /* an upload erased it: old image gone, new one not installed */
} duet_slot_status_t;
#define DUET_SLOT_STATUS_MAX DUET_SLOT_WRITING

/** On-flash record (32 B, little-endian). */
typedef struct {
    uint32_t sr_magic;        /* 0  DUET_SLOT_MAGIC */
    uint32_t sr_seq;          /* 4  incremented on every write */
    uint8_t sr_active;        /* 8  slot to boot: 0 = A, 1 = B */
    uint8_t sr_status[2];     /* 9  duet_slot_status_t per slot */
    uint8_t sr_pad0;          /* 11 */
    uint32_t sr_min_security; /* 12 lowest security counter still accepted */
    uint32_t sr_boots[2];     /* 16 starts of each slot since it was written (diagnostics) */
    uint32_t sr_pad1;         /* 24 */
    uint32_t sr_crc;          /* 28 CRC-32 (IEEE) of bytes 0..27 */
} duet_slot_rec_t;
_Static_assert(sizeof(duet_slot_rec_t) == 32, "slot record size");

/** Load the newest valid record. A blank or fully corrupt STATE area yields a fresh
 *  default (active 0, both EMPTY, min_security 0) and DUET_OK with *fresh = true. */
duet_err_t duet_slot_load(duet_slot_rec_t *rec, bool *fresh);
/** Write rec (seq is set by this call) to the older copy; rec->sr_seq is updated.
 *  sr_min_security is raised to the newest stored record's if lower (never goes down);
 *  rec is updated to what was stored. @return DUET_OK, DUET_ERR_INVAL, DUET_ERR_IO
 *  (incl. a read-back mismatch: the old record is still the newest), flash errors. */
duet_err_t duet_slot_store(duet_slot_rec_t *rec);

#ifdef __cplusplus
}
#endif
#endif /* DUET_SLOT_H */
