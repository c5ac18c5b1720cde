/*
 * rt_timing.c - duet_rt_loop_mark(): core 1's writer of the loop-timing histogram
 * (duet/timing.h has the block, the buckets and the sequence protocol).
 *
 * The mark is the only code here on the loop's path, so it is kept short: the cycle
 * counter read inline on Xtensa (CCOUNT), one branch to the rare slow path (first mark
 * of the run, or a reset core 0 asked for), then straight-line updates of words only
 * core 1 writes (loads and stores; no read-modify-write atomics, which the call0 lx106
 * build lacks) between two fences, with min, max and misses behind one private range
 * test. bench/timing counts it (42 instructions on the ESP32-S3); docs/timing.md
 * ("Cost") says where they go.
 */
#include "duet/app.h"
#include "duet/timing.h"
#include "rt_priv.h"

/* Until the first mark primes the real block, s_rt.t points here, a zeroed block (bss)
 * whose reset request (0) differs from s_rt's initial ack (1): the mark's one reset test
 * also catches "not primed yet", with no separate NULL test. Never written. */
static duet_timing_t s_unprimed;

/* Core 1's private state, one struct so the mark reaches it through one base address. */
static struct {
    duet_timing_t *t; /* the block once the first mark primed it; &s_unprimed before */
    uint32_t last;    /* cycle count at the previous mark */
    uint32_t ack;     /* the reset request last honoured (1 until primed: see above) */
    uint32_t limit;   /* intervals above this are misses (UINT32_MAX: no period) */
    /* The mark's filter: an interval d with d - lo < span (mod 2^32) needs no update of
     * min, max or misses. Kept conservative: [lo, lo + span) lies inside
     * [tm_min, min(tm_max, limit)], so a filtered interval can never be a new min, a
     * new max or a miss; span 0 (empty) sends every interval to mark_edges. */
    uint32_t lo;
    uint32_t span;
} s_rt = {&s_unprimed, 0u, 1u, UINT32_MAX, 0u, 0u};

static inline uint32_t cycles_now(void)
{
#if defined(__XTENSA__)
    uint32_t v;
    __asm__ volatile("rsr %0, ccount" : "=a"(v)); /* what duet_arch_cycles reads, inline */
    return v;
#else
    return duet_arch_cycles();
#endif
}

#if defined(__XTENSA__)
/* Plain word accesses: an aligned 32-bit load or store is one instruction and atomic in
 * hardware, and core 1 is the only writer of these words. GCC for Xtensa puts a MEMW
 * before every __atomic access, even a relaxed one (-mserialize-volatile): 20 of them
 * per mark. Ordering comes from the two explicit MEMWs at the sequence points instead
 * (FENCE below), which also stop the compiler from moving accesses across them. */
static inline uint32_t ld(const uint32_t *p)
{
    return *p;
}
static inline void st(uint32_t *p, uint32_t v)
{
    *p = v;
}
#define FENCE() __asm__ volatile("memw" ::: "memory")
/* Reload core 0's words on every call, even if the mark is inlined into a loop (LTO). */
#define RELOAD() __asm__ volatile("" ::: "memory")
#else
/* Host: relaxed atomics, so ThreadSanitizer checks the protocol (tests/timing). */
static inline uint32_t ld(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline void st(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
#define FENCE()  __atomic_thread_fence(__ATOMIC_RELEASE)
#define RELOAD() ((void)0)
#endif

/* Open an update: tm_seq odd, and nothing below may become visible before it. */
static inline uint32_t seq_begin(duet_timing_t *t)
{
    uint32_t seq = ld(&t->tm_seq) | 1u; /* odd even if a previous run stopped mid-update */
    st(&t->tm_seq, seq);
    FENCE();
    return seq;
}

/* Close it: every update above is visible before the even tm_seq. */
static inline void seq_end(duet_timing_t *t, uint32_t seq)
{
    FENCE();
    st(&t->tm_seq, seq + 1u);
}

static duet_timing_t *block(void)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    return c != NULL ? &c->sc_timing : NULL;
}

/* First mark of the run or a reset request: clear the figures and start the clock. */
__attribute__((noinline)) static void mark_slow(uint32_t now)
{
    duet_timing_t *t = block();
    if (t == NULL)
        return; /* no control block (cannot happen after boot): nothing to record */
    uint32_t seq = seq_begin(t);
    st(&t->tm_count_lo, 0u);
    st(&t->tm_count_hi, 0u);
    st(&t->tm_sum_lo, 0u);
    st(&t->tm_sum_hi, 0u);
    st(&t->tm_min, UINT32_MAX);
    st(&t->tm_max, 0u);
    st(&t->tm_misses, 0u);
    for (unsigned i = 0; i < DUET_TIMING_BUCKETS; i++)
        st(&t->tm_bucket[i], 0u);
    st(&t->tm_period, s_rt.limit == UINT32_MAX ? 0u : s_rt.limit);
    s_rt.ack = __atomic_load_n(&t->tm_reset_req, __ATOMIC_ACQUIRE);
    st(&t->tm_reset_ack, s_rt.ack);
    seq_end(t, seq);
    s_rt.last = now;
    s_rt.span = 0u; /* no min or max yet */
    s_rt.t = t;
}

/* An interval the filter let through: update min, max and misses exactly, narrow the
 * filter to the values that need none of them, and close the mark's sequence window
 * (so nothing of the mark stays live across this call). */
__attribute__((noinline)) static void mark_edges(duet_timing_t *t, uint32_t d, uint32_t seq)
{
    uint32_t lo = ld(&t->tm_min), hi = ld(&t->tm_max);
    if (d < lo)
        st(&t->tm_min, lo = d);
    if (d > hi)
        st(&t->tm_max, hi = d);
    if (d > s_rt.limit)
        st(&t->tm_misses, ld(&t->tm_misses) + 1u);
    if (hi > s_rt.limit)
        hi = s_rt.limit;
    s_rt.lo = lo;
    /* [lo, hi] as lo + [0, span); a full range loses its last value (still conservative) */
    s_rt.span = hi < lo ? 0u : hi - lo == UINT32_MAX ? UINT32_MAX : hi - lo + 1u;
    seq_end(t, seq);
}

void duet_rt_loop_mark(void)
{
    uint32_t now = cycles_now();
    duet_timing_t *t = s_rt.t;
    RELOAD();
    if (__builtin_expect(ld(&t->tm_reset_req) != s_rt.ack, 0)) {
        mark_slow(now); /* first mark (t is s_unprimed) or a reset request */
        return;
    }
    uint32_t d = now - s_rt.last; /* modulo 2^32: right across a counter wrap */
    s_rt.last = now;
    /* tm_seq is even here: the slow path primed it even and every update ends even. */
    uint32_t seq = ld(&t->tm_seq) + 1u;
    st(&t->tm_seq, seq);
    FENCE();
    uint32_t *b = &t->tm_bucket[duet_timing_bucket(d)];
    st(b, ld(b) + 1u);
    uint32_t n = ld(&t->tm_count_lo) + 1u;
    st(&t->tm_count_lo, n);
    if (__builtin_expect(n == 0u, 0))
        st(&t->tm_count_hi, ld(&t->tm_count_hi) + 1u);
    uint32_t sum = ld(&t->tm_sum_lo) + d;
    st(&t->tm_sum_lo, sum);
    if (sum < d) /* carry */
        st(&t->tm_sum_hi, ld(&t->tm_sum_hi) + 1u);
    if (__builtin_expect(d - s_rt.lo >= s_rt.span, 0)) {
        mark_edges(t, d, seq); /* a new min or max, or a miss (or the filter is empty) */
        return;
    }
    seq_end(t, seq);
}

void duet_rt_loop_period_cycles(uint32_t cycles)
{
    s_rt.limit = cycles == 0u ? UINT32_MAX : cycles;
    s_rt.span = 0u; /* the next mark re-derives the filter with the new limit */
    duet_timing_t *t = block();
    if (t == NULL)
        return;
    uint32_t seq = seq_begin(t);
    st(&t->tm_period, cycles);
    seq_end(t, seq);
}

void duet_rt_loop_period_us(uint32_t us)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    uint32_t hz = c != NULL ? ld(&c->sc_c1_cpu_hz) : 0u;
    if (hz == 0u)
        hz = 240000000u; /* not measured: the ESP32-S3's default CPU clock */
    uint64_t cyc = (uint64_t)us * hz / 1000000u;
    duet_rt_loop_period_cycles(cyc > UINT32_MAX ? UINT32_MAX : (uint32_t)cyc);
}
