/*
 * duet/ring.h - lock-free single-producer/single-consumer byte rings in shared memory.
 *
 * One ring carries variable-length messages in one direction (core 0 -> core 1 or
 * core 1 -> core 0). The ring lives entirely in shared memory: a 192-byte header
 * followed by a power-of-two data area. No pointers are stored in shared memory, so
 * the same ring works at different addresses on each side (host processes map the
 * area at different addresses).
 *
 *   PRODUCER                                  CONSUMER
 *   reserve(len) -> ptr into data area
 *   write payload
 *   commit()   -- release store rh_head -->   peek() -- acquire load rh_head
 *                                             read payload
 *              <-- release store rh_tail --   release()
 *
 * Rules:
 *  - Only aligned 32-bit loads/stores with acquire/release ordering touch the indices
 *    (the ESP32-S3 has no 64-bit atomics across cores). Indices are free-running
 *    uint32_t counters; used = head - tail (mod 2^32).
 *  - Producer-owned and consumer-owned words live on separate 64-byte lines.
 *  - Every message carries a record header with its length and the low bits of the
 *    ring epoch; a message never wraps (a padding record fills the end instead).
 *  - Each handle remembers the epoch it attached to. If rh_epoch changes (core 1 was
 *    restarted and core 0 re-initialised the ring), every call on the old handle
 *    returns DUET_ERR_RING_STALE: data from before a restart is never delivered.
 *  - Indices or record headers read from shared memory are input: a value that is
 *    out of range yields DUET_ERR_RING_CORRUPT, never an out-of-bounds access.
 *
 * Record encoding (one little-endian uint32_t in front of every message, 4-byte aligned):
 *
 *   bit 31      DUET_RING_REC_PAD: padding record, carries no message; the consumer
 *               skips its header and 'length' bytes (a multiple of 4, never past the end
 *               of the data area; ending exactly there means the next record is at 0)
 *   bits 30..20 epoch tag: the low 11 bits of the ring epoch the producer attached to
 *   bits 19..0  length: payload bytes (<= rh_max_msg); for a padding record the bytes
 *               it skips after its header
 *
 * A record occupies DUET_RING_REC_HDR + len rounded up to 4 bytes, so every header is an
 * aligned 32-bit word and rh_head/rh_tail are always multiples of 4. A message never
 * wraps: a padding record fills the end instead. The producer also uses padding to start
 * the payload of a message of >= DUET_RING_ALIGN_MIN bytes on a DUET_RING_PAYLOAD_ALIGN
 * (cache-line) boundary. At most one padding record precedes a message, and it
 * is published together with that message (never alone). The data area is filled with
 * 0xFF at init: such a word can never decode as a valid record.
 * rh_max_msg = min(rh_size / 2 - DUET_RING_REC_HDR, DUET_RING_REC_LEN_MASK): a message of
 * that size always fits once the ring drains, wherever the indices stand.
 * Full protocol in prose: docs/shm-protocol.md.
 *
 * Freestanding C11 (<stdatomic.h>, <string.h> memcpy/memset): compiled for core 1 as well.
 */
#ifndef DUET_RING_H
#define DUET_RING_H

#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_RING_MAGIC 0x474e4952u /* "RING" */
#define DUET_RING_HDR_SIZE 192u
#define DUET_RING_MIN_SIZE 64u

#define DUET_RING_MAX_SIZE 0x80000000u /* data bytes: indices are mod 2^32 */

/* Record header word (see the encoding above). */
#define DUET_RING_REC_HDR 4u
#define DUET_RING_REC_PAD 0x80000000u
#define DUET_RING_REC_TAG_SHIFT 20u
#define DUET_RING_REC_TAG_MASK 0x7ffu
#define DUET_RING_REC_LEN_MASK 0x000fffffu
/* Producer placement policy (the consumer accepts any valid padding): payloads of at
 * least ALIGN_MIN bytes start on a PAYLOAD_ALIGN boundary when that fits. */
#define DUET_RING_ALIGN_MIN 256u
#define DUET_RING_PAYLOAD_ALIGN 64u
/** Record header word for 'len' payload bytes in a ring of 'epoch' (pad: 0 or REC_PAD). */
#define DUET_RING_REC_WORD(len, epoch, pad)                                                        \
    ((uint32_t)(pad) | (((uint32_t)(epoch)&DUET_RING_REC_TAG_MASK) << DUET_RING_REC_TAG_SHIFT) |   \
     ((uint32_t)(len)&DUET_RING_REC_LEN_MASK))

/** Ring header in shared memory. Writer of each field in brackets. */
typedef struct {
    /* line 0: written once by the initialiser (core 0) before the peer starts */
    uint32_t rh_magic;    /* 0   [init] DUET_RING_MAGIC */
    uint32_t rh_size;     /* 4   [init] data bytes, power of two >= 64 */
    uint32_t rh_epoch;    /* 8   [init] epoch this ring belongs to */
    uint32_t rh_max_msg;  /* 12  [init] largest payload accepted */
    uint32_t rh_data_off; /* 16  [init] data offset from this header (= 192) */
    uint32_t rh_pad0[11]; /* 20 */
    /* line 1: producer-owned */
    uint32_t rh_head;     /* 64  [producer] bytes ever committed */
    uint32_t rh_pad1[15]; /* 68 */
    /* line 2: consumer-owned */
    uint32_t rh_tail;     /* 128 [consumer] bytes ever released */
    uint32_t rh_pad2[15]; /* 132 */
} duet_ring_hdr_t;

_Static_assert(sizeof(duet_ring_hdr_t) == DUET_RING_HDR_SIZE, "ring header size");
_Static_assert(offsetof(duet_ring_hdr_t, rh_head) == 64, "head on its own line");
_Static_assert(offsetof(duet_ring_hdr_t, rh_tail) == 128, "tail on its own line");

/** Bytes of shared memory a ring with 'data_size' data bytes needs. */
#define DUET_RING_FOOTPRINT(data_size) (DUET_RING_HDR_SIZE + (data_size))

/** Local (per-side, not shared) handle. Plain data; see ring.c for fields' meaning. */
typedef struct {
    duet_ring_hdr_t *hdr;
    uint8_t *data;
    uint32_t size, mask, epoch, max_msg;
    uint32_t cached_head;  /* consumer: last view of rh_head; producer: padding before the
                              reserved record */
    uint32_t cached_tail;  /* producer: last view of rh_tail; consumer: last value it
                              published to rh_tail (releases are batched) */
    uint32_t pending;      /* reserved-but-uncommitted (producer) / peeked (consumer) bytes */
    uint32_t local;        /* this side's own index (head for producer, tail for consumer) */
} duet_ring_t;

/** Initialise a ring in 'mem' (footprint bytes, 4-aligned). Only the owner of the
 *  shared area (core 0) does this, while the peer is stopped.
 *  footprint - DUET_RING_HDR_SIZE must be a power of two in [DUET_RING_MIN_SIZE,
 *  DUET_RING_MAX_SIZE]. Indices start at 0, the data area is filled with 0xFF.
 *  @return DUET_OK or DUET_ERR_INVAL. */
duet_err_t duet_ring_init(void *mem, size_t footprint, uint32_t epoch);

/** Attach a handle to an initialised ring as producer or consumer. The header is read
 *  once and checked (magic, size, data offset, max_msg, indices); the handle keeps its
 *  own copy of size and mask, so a later change of rh_size cannot widen any access.
 *  @return DUET_OK, DUET_ERR_INVAL (NULL, misaligned, footprint < header),
 *          DUET_ERR_RING_CORRUPT (bad magic/size/offset/max_msg/indices),
 *          DUET_ERR_RING_STALE (rh_epoch != expected_epoch). */
duet_err_t duet_ring_attach_producer(duet_ring_t *r, void *mem, size_t footprint,
                                     uint32_t expected_epoch);
duet_err_t duet_ring_attach_consumer(duet_ring_t *r, void *mem, size_t footprint,
                                     uint32_t expected_epoch);

/* Producer. Every producer call first compares rh_epoch with the handle's epoch.
 * Common returns: DUET_ERR_INVAL (NULL arguments), DUET_ERR_RING_STALE (the ring was
 * re-initialised for another epoch: re-attach), DUET_ERR_RING_CORRUPT (rh_tail moved
 * outside [head - size, head] or is misaligned). */
/** Copy one message of 'len' bytes (0 allowed) into the ring.
 *  @return DUET_OK, DUET_ERR_RING_FULL (nothing written; retry later),
 *          DUET_ERR_RING_TOO_BIG (len > max_msg), DUET_ERR_STATE (a reservation is open),
 *          or a common error. */
duet_err_t duet_ring_send(duet_ring_t *r, const void *msg, size_t len);
/** Zero-copy: get space for 'len' bytes at *ptr (4-byte aligned); write them; then
 *  commit. Same returns as send. Nothing is visible to the consumer before commit. */
duet_err_t duet_ring_reserve(duet_ring_t *r, size_t len, void **ptr);
/** Publish the reserved message with its final length (<= the reserved length).
 *  @return DUET_OK, DUET_ERR_STATE (no reservation), DUET_ERR_INVAL (len too long),
 *          DUET_ERR_RING_STALE (the reservation is dropped). */
duet_err_t duet_ring_commit(duet_ring_t *r, size_t len);

/* Consumer. Common returns: DUET_ERR_INVAL, DUET_ERR_RING_EMPTY, DUET_ERR_RING_STALE
 * (handle or record from another epoch: the message is NOT delivered and stays; the
 * ring is unusable until re-initialised), DUET_ERR_RING_CORRUPT (rh_head outside
 * [tail, tail + size] or misaligned, or a record header that does not describe a record
 * inside the published bytes; nothing is consumed). */
/** Copy the next message into buf (cap bytes), *len = its length. RING_TOO_BIG leaves it
 *  queued and sets *len to the length needed. */
duet_err_t duet_ring_recv(duet_ring_t *r, void *buf, size_t cap, size_t *len);
/** Zero-copy: look at the next message in place (valid until release); then release it.
 *  Peeking again before release returns the same message. */
duet_err_t duet_ring_peek(duet_ring_t *r, const void **ptr, size_t *len);
/** @return DUET_OK, DUET_ERR_STATE (nothing peeked), DUET_ERR_RING_STALE. */
duet_err_t duet_ring_release(duet_ring_t *r);

/** Bytes a message of 'len' occupies (record header + padding); 0 if len cannot be
 *  encoded (> DUET_RING_REC_LEN_MASK). */
size_t duet_ring_record_size(size_t len);
/** Largest payload this ring accepts (the handle's copy of rh_max_msg). */
uint32_t duet_ring_max_msg(const duet_ring_t *r);
/** Approximate bytes used / free (for status and flow control), read from the shared
 *  indices; clamped to [0, size] if they are corrupted. */
uint32_t duet_ring_used(const duet_ring_t *r);
uint32_t duet_ring_free(const duet_ring_t *r);

#ifdef __cplusplus
}
#endif
#endif /* DUET_RING_H */
