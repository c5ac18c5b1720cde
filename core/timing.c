/*
 * timing.c - core 0's side of the loop-timing histogram (duet/timing.h): a consistent
 * copy of the block core 1 writes, the bucket edges, percentiles and the summary.
 *
 * The block is input from the other core: every value is used as a number only (no
 * index or pointer is derived from it), so a hostile or half-written block yields odd
 * figures, never an out-of-bounds access. Portable C11, no OS headers.
 */
#include "duet/timing.h"

static uint32_t ld(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

uint64_t duet_timing_bucket_lo(unsigned i)
{
    if (i == 0u || i >= DUET_TIMING_BUCKETS)
        return i == 0u ? 0u : (uint64_t)1 << 32;
    unsigned k = i / 2u;
    /* even: 2^(k+6); odd: 3 * 2^(k+5) */
    return (i & 1u) ? (uint64_t)3u << (k + DUET_TIMING_FIRST_OCTAVE - 1u)
                    : (uint64_t)1u << (k + DUET_TIMING_FIRST_OCTAVE);
}

uint64_t duet_timing_bucket_hi(unsigned i)
{
    return duet_timing_bucket_lo(i + 1u);
}

duet_err_t duet_timing_read(const duet_timing_t *t, duet_timing_snap_t *out, unsigned tries)
{
    if (t == NULL || out == NULL || tries == 0u)
        return DUET_ERR_INVAL;
    while (tries-- > 0u) {
        uint32_t s1 = __atomic_load_n(&t->tm_seq, __ATOMIC_ACQUIRE);
        if (s1 & 1u)
            continue; /* core 1 is in the middle of an update */
        out->seq = s1;
        out->period = ld(&t->tm_period);
        out->count = (uint64_t)ld(&t->tm_count_hi) << 32 | ld(&t->tm_count_lo);
        out->sum = (uint64_t)ld(&t->tm_sum_hi) << 32 | ld(&t->tm_sum_lo);
        out->min = ld(&t->tm_min);
        out->max = ld(&t->tm_max);
        out->misses = ld(&t->tm_misses);
        out->reset_pending = ld(&t->tm_reset_req) != ld(&t->tm_reset_ack);
        for (unsigned i = 0; i < DUET_TIMING_BUCKETS; i++)
            out->bucket[i] = ld(&t->tm_bucket[i]);
        /* Orders the copy before the second read: if any word above came from a later
         * update, this read sees that update's odd (or a later) sequence number. */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (ld(&t->tm_seq) == s1) {
            if (out->count == 0u)
                out->min = out->max = 0u; /* fresh block: min is only meaningful with data */
            return DUET_OK;
        }
    }
    return DUET_ERR_BUSY;
}

void duet_timing_request_reset(duet_timing_t *t)
{
    if (t == NULL)
        return;
    /* Core 0's only word in the block; callers are serialised by the API lock, and two
     * racing requests still end in (at least) one reset. */
    uint32_t r = __atomic_load_n(&t->tm_reset_req, __ATOMIC_RELAXED);
    __atomic_store_n(&t->tm_reset_req, r + 1u, __ATOMIC_RELEASE);
}

static uint64_t bucket_total(const duet_timing_snap_t *s)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < DUET_TIMING_BUCKETS; i++)
        n += s->bucket[i];
    return n;
}

uint32_t duet_timing_percentile(const duet_timing_snap_t *s, uint32_t q_per_100k)
{
    uint64_t total = bucket_total(s);
    if (total == 0u)
        return 0u;
    if (q_per_100k > 100000u)
        q_per_100k = 100000u;
    /* rank = ceil(q * total), at least 1: the rank-th shortest interval (total < 2^38,
     * so the product fits easily in 64 bits) */
    uint64_t rank = (total * q_per_100k + 99999u) / 100000u;
    if (rank == 0u)
        rank = 1u;
    uint64_t seen = 0;
    unsigned i = 0;
    for (; i < DUET_TIMING_BUCKETS; i++) {
        seen += s->bucket[i];
        if (seen >= rank)
            break;
    }
    uint64_t edge = duet_timing_bucket_hi(i); /* exclusive edge: values are below it */
    uint64_t v = edge - 1u;
    if (v > s->max)
        v = s->max;
    if (v < s->min)
        v = s->min;
    return (uint32_t)v;
}

void duet_timing_stats(const duet_timing_snap_t *s, duet_timing_stats_t *st)
{
    st->count = s->count;
    st->total = bucket_total(s);
    st->misses = s->misses;
    st->period = s->period;
    /* Buckets are 32-bit: once one wraps, their sum no longer matches the 64-bit count
     * (which does not wrap in practice: 2^64 marks). */
    st->wrapped = st->total != s->count;
    if (s->count == 0u) {
        st->min = st->max = st->mean = st->p50 = st->p99 = st->p999 = 0u;
        return;
    }
    st->min = s->min;
    st->max = s->max;
    uint64_t mean = s->sum / s->count;
    st->mean = mean > UINT32_MAX ? UINT32_MAX : (uint32_t)mean;
    st->p50 = duet_timing_percentile(s, 50000u);
    st->p99 = duet_timing_percentile(s, 99000u);
    st->p999 = duet_timing_percentile(s, 99900u);
}

uint64_t duet_timing_cycles_to_ns(uint64_t cycles, uint32_t hz)
{
    if (hz == 0u)
        return 0u;
    /* cycles <= 2^32 here, so cycles * 1e9 < 2^62 */
    return (cycles * 1000000000u + hz / 2u) / hz;
}
