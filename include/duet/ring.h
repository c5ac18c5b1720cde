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
 * Freestanding C11 (<stdatomic.h> only): compiled for core 1 as well.
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
    uint32_t cached_head;  /* consumer's last view of rh_head */
    uint32_t cached_tail;  /* producer's last view of rh_tail */
    uint32_t pending;      /* reserved-but-uncommitted (producer) / peeked (consumer) bytes */
    uint32_t local;        /* this side's own index (head for producer, tail for consumer) */
} duet_ring_t;

/** Initialise a ring in 'mem' (footprint bytes, 4-aligned). Only the owner of the
 *  shared area (core 0) does this, while the peer is stopped. */
duet_err_t duet_ring_init(void *mem, size_t footprint, uint32_t epoch);

/** Attach a handle to an initialised ring as producer or consumer.
 *  @return DUET_OK, DUET_ERR_INVAL, DUET_ERR_RING_CORRUPT (bad magic/size),
 *          DUET_ERR_RING_STALE (epoch != expected_epoch). */
duet_err_t duet_ring_attach_producer(duet_ring_t *r, void *mem, size_t footprint,
                                     uint32_t expected_epoch);
duet_err_t duet_ring_attach_consumer(duet_ring_t *r, void *mem, size_t footprint,
                                     uint32_t expected_epoch);

/* Producer. */
duet_err_t duet_ring_send(duet_ring_t *r, const void *msg, size_t len);
/** Zero-copy: get space for 'len' bytes; write them; then commit (len may shrink). */
duet_err_t duet_ring_reserve(duet_ring_t *r, size_t len, void **ptr);
duet_err_t duet_ring_commit(duet_ring_t *r, size_t len);

/* Consumer. */
/** Copy the next message into buf (cap bytes). RING_TOO_BIG leaves it queued. */
duet_err_t duet_ring_recv(duet_ring_t *r, void *buf, size_t cap, size_t *len);
/** Zero-copy: look at the next message in place; then release it. */
duet_err_t duet_ring_peek(duet_ring_t *r, const void **ptr, size_t *len);
duet_err_t duet_ring_release(duet_ring_t *r);

/** Bytes a message of 'len' occupies (record header + padding). */
size_t duet_ring_record_size(size_t len);
/** Approximate bytes used / free (for status and flow control). */
uint32_t duet_ring_used(const duet_ring_t *r);
uint32_t duet_ring_free(const duet_ring_t *r);

#ifdef __cplusplus
}
#endif
#endif /* DUET_RING_H */
