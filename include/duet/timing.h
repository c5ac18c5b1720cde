/*
 * duet/timing.h - the loop-timing histogram core 1 keeps in shared memory, and the
 * core-0 maths that turns it into figures (core/timing.c). docs/timing.md explains it.
 *
 * A core-1 program calls duet_rt_loop_mark() (duet/app.h) once per loop iteration; each
 * mark adds the cycle count since the previous mark ("interval") to this block, which
 * lives in the control block (duet_shm_ctrl_t.sc_timing, 256 bytes at offset 768).
 *
 * Buckets (fixed, log-linear: two per octave, in cycles):
 *   bucket 0            [0, 96)
 *   bucket 2k   (k>=1)  [2^(k+6), 3*2^(k+5))      lower half of octave k+6
 *   bucket 2k+1 (k>=0)  [3*2^(k+5), 2^(k+7))      upper half
 *   bucket 51           [3*2^30, 2^32)
 * so every interval a 32-bit counter can hold has a bucket, and a bucket's upper edge is
 * at most 1.5 times its lower edge. A percentile is reported as the largest value the
 * bucket holding its rank can contain (upper edge - 1), clamped to [min, max]: never
 * below the true value and less than 1.5 times it (bucket 0: below 96 cycles). min, max,
 * mean, count and misses are exact.
 *
 * Consistency (core 1 writes, core 0 reads, no lock): a sequence counter. Core 1 makes
 * tm_seq odd, release fence, updates the fields, then stores tm_seq + 2 (even) with
 * release. Core 0 copies the block between two reads of tm_seq and keeps the copy only
 * if both reads are equal and even (acquire load, relaxed copy, acquire fence, relaxed
 * load): a copy that overlapped an update is retried, so min/max/count/buckets always
 * come from one moment. Every field is an aligned 32-bit word accessed atomically; the
 * 64-bit totals are two words updated inside the same sequence window.
 *
 * Reset: duet_shm_init zeroes the block at every start, and the program's first mark
 * resets it again (there is no interval before it). Core 0 asks for a reset by
 * incrementing tm_reset_req; core 1 honours it at its next mark (clears the figures,
 * sets tm_reset_ack = tm_reset_req, does not count that interval). Only core 1 ever
 * writes the figures, so a reset can never race a mark.
 */
#ifndef DUET_TIMING_H
#define DUET_TIMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_TIMING_BUCKETS      52u
#define DUET_TIMING_FIRST_OCTAVE 6u /* bucket 0 holds everything below 1.5 * 2^6 */
#define DUET_TIMING_SIZE         256u

/** The block in shared memory (256 B). [c1] = written by core 1 only, [c0] by core 0. */
typedef struct {
    uint32_t tm_seq;                         /* 0  [c1] odd while core 1 updates the block */
    uint32_t tm_period;                      /* 4  [c1] declared loop period in cycles, 0 = none */
    uint32_t tm_count_lo;                    /* 8  [c1] intervals recorded (64-bit, low word) */
    uint32_t tm_count_hi;                    /* 12 [c1] */
    uint32_t tm_sum_lo;                      /* 16 [c1] sum of the intervals in cycles (64-bit) */
    uint32_t tm_sum_hi;                      /* 20 [c1] */
    uint32_t tm_min;                         /* 24 [c1] shortest interval (valid when count > 0) */
    uint32_t tm_max;                         /* 28 [c1] longest interval */
    uint32_t tm_misses;                      /* 32 [c1] intervals longer than tm_period */
    uint32_t tm_reset_req;                   /* 36 [c0] incremented to ask core 1 for a reset */
    uint32_t tm_reset_ack;                   /* 40 [c1] the tm_reset_req core 1 last honoured */
    uint32_t tm_pad;                         /* 44 0 */
    uint32_t tm_bucket[DUET_TIMING_BUCKETS]; /* 48 intervals per bucket (mod 2^32) */
} duet_timing_t;

_Static_assert(sizeof(duet_timing_t) == DUET_TIMING_SIZE, "timing block size");
_Static_assert(offsetof(duet_timing_t, tm_reset_req) == 36, "timing reset request offset");
_Static_assert(offsetof(duet_timing_t, tm_bucket) == 48, "timing buckets offset");

/** Bucket of an interval of 'cycles' (see the table above). Used by core 1 on every
 *  mark: a clamp (MAXU on the ESP32-S3), a count of leading zeros (NSAU), two shifts.
 *  With z leading zeros the octave is e = 31 - z, and cycles << z has its top two bits
 *  at 31 and 30: 2 or 3 after >> 30 is 2 + the half-octave bit, so the bucket
 *  2 (e - 6) + bit = 48 + ((cycles << z) >> 30) - 2 z. */
static inline unsigned duet_timing_bucket(uint32_t cycles)
{
    if (cycles < (1u << DUET_TIMING_FIRST_OCTAVE))
        cycles = 1u << DUET_TIMING_FIRST_OCTAVE; /* [0, 64) shares bucket 0 with [64, 96) */
    unsigned z = (unsigned)__builtin_clz(cycles);
    return 2u * (30u - DUET_TIMING_FIRST_OCTAVE) + ((cycles << z) >> 30) - 2u * z;
}

/** Lower edge of bucket i in cycles (0 for bucket 0). */
uint64_t duet_timing_bucket_lo(unsigned i);
/** Upper edge (exclusive) of bucket i in cycles; 2^32 for the last bucket. */
uint64_t duet_timing_bucket_hi(unsigned i);

/** A consistent copy of the block, widened (core 0 side). */
typedef struct {
    uint32_t seq;
    uint32_t period;   /* cycles, 0 = none declared */
    uint64_t count;    /* intervals */
    uint64_t sum;      /* cycles */
    uint32_t min, max; /* cycles; 0 when count == 0 */
    uint32_t misses;
    bool reset_pending; /* core 0 asked for a reset core 1 has not done yet */
    uint32_t bucket[DUET_TIMING_BUCKETS];
} duet_timing_snap_t;

/** Copy the block consistently (sequence counter, up to 'tries' attempts, >= 1).
 *  @return DUET_OK, DUET_ERR_INVAL (NULL), DUET_ERR_BUSY (every attempt overlapped an
 *          update: core 1 marks faster than we copy, or stopped in the middle of one). */
duet_err_t duet_timing_read(const duet_timing_t *t, duet_timing_snap_t *out, unsigned tries);

/** Ask core 1 to reset the figures at its next mark (core 0; never touches them). */
void duet_timing_request_reset(duet_timing_t *t);

/** What core 0 shows. Cycle figures; the percentile resolution is the bucket's. */
typedef struct {
    uint64_t count;          /* intervals (the 64-bit counter) */
    uint64_t total;          /* sum of the bucket counts; != count once a bucket wrapped */
    uint32_t min, max, mean; /* mean rounded down; 0 when empty */
    uint32_t p50, p99, p999; /* bucket bounds clamped to [min, max]; 0 when empty */
    uint32_t misses, period;
    bool wrapped; /* a bucket count wrapped past 2^32: percentiles are unreliable */
} duet_timing_stats_t;

/** Percentile (parts per 100000: 99000 = p99, 99900 = p99.9) of a snapshot: the largest
 *  value of the bucket that holds the ceil(q * total)-th interval, clamped to
 *  [min, max]. 0 when the histogram is empty. */
uint32_t duet_timing_percentile(const duet_timing_snap_t *s, uint32_t q_per_100k);

/** All the figures of a snapshot. */
void duet_timing_stats(const duet_timing_snap_t *s, duet_timing_stats_t *st);

/** Cycles to nanoseconds at hz (0 if hz == 0: the rate is unknown). */
uint64_t duet_timing_cycles_to_ns(uint64_t cycles, uint32_t hz);

#ifdef __cplusplus
}
#endif
#endif /* DUET_TIMING_H */
