/*
 * test_timing.c - the loop-timing histogram: bucket index and edges, percentiles and
 * summary (core/timing.c), and core 1's writer (sdk/src/rt_timing.c, with a fake cycle
 * counter) read back through duet_timing_read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "duet/timing.h"
#include "fake_rt.h"

static duet_timing_t *blk(void)
{
    return &g_ctrl.sc_timing;
}

/* Back to a program that has not marked yet, in a freshly initialised block. */
static int fresh(void **state)
{
    (void)state;
    memset(&g_ctrl, 0, sizeof(g_ctrl));
    memset(&s_rt, 0, sizeof(s_rt)); /* as the program starts: see rt_timing.c */
    s_rt.t = &s_unprimed;
    s_rt.ack = 1;
    s_rt.limit = UINT32_MAX;
    g_cycles = 0;
    return 0;
}

static void mark_at(uint32_t cycles)
{
    g_cycles = cycles;
    duet_rt_loop_mark();
}

static duet_timing_snap_t snap(void)
{
    duet_timing_snap_t s;
    assert_int_equal(duet_timing_read(blk(), &s, 1), DUET_OK);
    return s;
}

/* ---- buckets ---------------------------------------------------------------------- */

static void test_bucket_index(void **state)
{
    (void)state;
    assert_int_equal(duet_timing_bucket(0), 0);
    assert_int_equal(duet_timing_bucket(63), 0);
    assert_int_equal(duet_timing_bucket(64), 0);
    assert_int_equal(duet_timing_bucket(95), 0);
    assert_int_equal(duet_timing_bucket(96), 1);
    assert_int_equal(duet_timing_bucket(127), 1);
    assert_int_equal(duet_timing_bucket(128), 2);
    assert_int_equal(duet_timing_bucket(191), 2);
    assert_int_equal(duet_timing_bucket(192), 3);
    assert_int_equal(duet_timing_bucket(1000), 7); /* [768, 1024) */
    assert_int_equal(duet_timing_bucket(0x80000000u), 50);
    assert_int_equal(duet_timing_bucket(0xBFFFFFFFu), 50);
    assert_int_equal(duet_timing_bucket(0xC0000000u), 51);
    assert_int_equal(duet_timing_bucket(UINT32_MAX), 51);
}

/* The bucket as the table defines it (octave e, then the bit below the top one), the
 * slow way: the header's shift-only form must agree everywhere. */
static unsigned ref_bucket(uint32_t c)
{
    if (c < 96u)
        return 0u;
    unsigned e = 31u;
    while (!(c >> e))
        e--;
    return 2u * (e - 6u) + ((c >> (e - 1u)) & 1u);
}

static void test_bucket_matches_table(void **state)
{
    (void)state;
    for (uint32_t c = 0; c < 70000u; c++)
        assert_int_equal(duet_timing_bucket(c), ref_bucket(c));
    for (unsigned e = 6; e < 32; e++) /* around every power of two and 3 * 2^k */
        for (int d = -2; d <= 2; d++) {
            uint32_t p = (uint32_t)((1ull << e) + (uint64_t)(int64_t)d);
            uint32_t q = (uint32_t)((3ull << (e - 1u)) + (uint64_t)(int64_t)d);
            assert_int_equal(duet_timing_bucket(p), ref_bucket(p));
            assert_int_equal(duet_timing_bucket(q), ref_bucket(q));
        }
    uint32_t x = 2463534242u; /* xorshift32 sweep of the whole range */
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        assert_int_equal(duet_timing_bucket(x), ref_bucket(x));
    }
}

static void test_bucket_edges(void **state)
{
    (void)state;
    assert_true(duet_timing_bucket_lo(0) == 0);
    assert_true(duet_timing_bucket_hi(0) == 96);
    assert_true(duet_timing_bucket_lo(1) == 96);
    assert_true(duet_timing_bucket_hi(1) == 128);
    assert_true(duet_timing_bucket_hi(DUET_TIMING_BUCKETS - 1) == (uint64_t)1 << 32);
    for (unsigned i = 0; i < DUET_TIMING_BUCKETS; i++) {
        uint64_t lo = duet_timing_bucket_lo(i), hi = duet_timing_bucket_hi(i);
        assert_true(lo < hi);
        assert_int_equal(duet_timing_bucket((uint32_t)lo), i);
        assert_int_equal(duet_timing_bucket((uint32_t)(hi - 1u)), i);
        if (i > 0) /* the stated resolution: upper edge <= 1.5 x lower edge */
            assert_true(2u * hi <= 3u * lo);
    }
}

/* ---- percentiles and summary on hand-made snapshots -------------------------------- */

static void test_empty(void **state)
{
    (void)state;
    duet_timing_snap_t s;
    memset(&s, 0, sizeof(s));
    duet_timing_stats_t st;
    duet_timing_stats(&s, &st);
    assert_true(st.count == 0 && st.total == 0);
    assert_int_equal(st.min, 0);
    assert_int_equal(st.max, 0);
    assert_int_equal(st.mean, 0);
    assert_int_equal(st.p99, 0);
    assert_int_equal(st.p999, 0);
    assert_false(st.wrapped);
    assert_int_equal(duet_timing_percentile(&s, 99000), 0);
}

static void test_one_sample(void **state)
{
    (void)state;
    duet_timing_snap_t s;
    memset(&s, 0, sizeof(s));
    s.count = 1;
    s.sum = 1000;
    s.min = s.max = 1000;
    s.bucket[duet_timing_bucket(1000)] = 1;
    duet_timing_stats_t st;
    duet_timing_stats(&s, &st);
    /* the bucket says [768, 1024); clamped to [min, max] it is exact */
    assert_int_equal(st.mean, 1000);
    assert_int_equal(st.p50, 1000);
    assert_int_equal(st.p99, 1000);
    assert_int_equal(st.p999, 1000);
    assert_false(st.wrapped);
}

static void test_percentile_ranks(void **state)
{
    (void)state;
    duet_timing_snap_t s;
    memset(&s, 0, sizeof(s));
    /* 990 intervals of 100 cycles, 9 of 10000, one of 20000 */
    s.bucket[duet_timing_bucket(100)] = 990;
    s.bucket[duet_timing_bucket(10000)] = 9;
    s.bucket[duet_timing_bucket(20000)] = 1;
    s.count = 1000;
    s.sum = 990u * 100u + 9u * 10000u + 20000u;
    s.min = 100;
    s.max = 20000;
    /* rank 990 is the last of the 100s: bucket [96, 128) -> 127 */
    assert_int_equal(duet_timing_percentile(&s, 99000), 127);
    /* rank 999 is the last 10000: bucket [8192, 12288) -> 12287 (< 1.5 x the truth) */
    assert_int_equal(duet_timing_percentile(&s, 99900), 12287);
    /* rank 1000: the bucket of the max, [16384, 24576), clamped to max */
    assert_int_equal(duet_timing_percentile(&s, 100000), 20000);
    /* rank 991: the first 10000 */
    assert_int_equal(duet_timing_percentile(&s, 99010), 12287);
    assert_int_equal(duet_timing_percentile(&s, 0), 127); /* rank 1 at least */
    duet_timing_stats_t st;
    duet_timing_stats(&s, &st);
    assert_int_equal(st.mean, 209);
    assert_int_equal(st.p50, 127);
}

static void test_all_in_last_bucket(void **state)
{
    (void)state;
    duet_timing_snap_t s;
    memset(&s, 0, sizeof(s));
    s.bucket[DUET_TIMING_BUCKETS - 1] = 3;
    s.count = 3;
    s.sum = 3ull * 0xF0000000u;
    s.min = 0xE0000000u;
    s.max = 0xFFFFFFF0u;
    duet_timing_stats_t st;
    duet_timing_stats(&s, &st);
    assert_int_equal(st.p99, 0xFFFFFFF0u); /* edge 2^32 - 1, clamped to max */
    assert_int_equal(st.p50, 0xFFFFFFF0u);
    assert_int_equal(st.mean, 0xF0000000u);
}

static void test_bucket_wrap_detected(void **state)
{
    (void)state;
    duet_timing_snap_t s;
    memset(&s, 0, sizeof(s));
    /* 2^32 + 5 intervals of ~1000 cycles: the 64-bit count holds them, the bucket wrapped */
    s.count = ((uint64_t)1 << 32) + 5u;
    s.bucket[duet_timing_bucket(1000)] = 5;
    s.sum = s.count * 1000u;
    s.min = s.max = 1000;
    duet_timing_stats_t st;
    duet_timing_stats(&s, &st);
    assert_true(st.wrapped);
    assert_true(st.total == 5);
    assert_int_equal(st.mean, 1000); /* mean uses the 64-bit count and sum */
}

static void test_cycles_to_ns(void **state)
{
    (void)state;
    assert_true(duet_timing_cycles_to_ns(240, 240000000u) == 1000u);
    assert_true(duet_timing_cycles_to_ns((uint64_t)1 << 32, 240000000u) == 17895697067u);
    assert_true(duet_timing_cycles_to_ns(123, 1000000000u) == 123u);
    assert_true(duet_timing_cycles_to_ns(123, 0) == 0u);
}

/* ---- core 1's writer, read back through core 0's copy ------------------------------- */

static void test_first_mark_only_primes(void **state)
{
    (void)state;
    g_ctrl.sc_timing.tm_min = 0; /* zeroed block, as duet_shm_init leaves it */
    mark_at(5000);
    duet_timing_snap_t s = snap();
    assert_true(s.count == 0);
    assert_int_equal(s.seq, 2); /* one update: odd, then even */
    duet_timing_stats_t st;
    duet_timing_stats(&s, &st);
    assert_int_equal(st.min, 0);
    assert_int_equal(st.p99, 0);
}

/* A run that stopped in the middle of a mark left tm_seq odd: the first mark of the next
 * run (the slow path) makes it even again, and the usual path keeps it even. The
 * unprimed placeholder the mark starts with is never written. */
static void test_odd_seq_from_a_crash(void **state)
{
    (void)state;
    g_ctrl.sc_timing.tm_seq = 7;
    mark_at(100);
    assert_int_equal(g_ctrl.sc_timing.tm_seq, 8);
    mark_at(300);
    mark_at(600);
    assert_int_equal(g_ctrl.sc_timing.tm_seq, 12);
    assert_true(snap().count == 2);
    assert_int_equal(s_unprimed.tm_seq, 0);
    assert_int_equal(s_unprimed.tm_reset_req, 0);
    assert_true(s_unprimed.tm_count_lo == 0 && s_unprimed.tm_bucket[0] == 0);
}

static void test_marks_record_intervals(void **state)
{
    (void)state;
    duet_rt_loop_period_cycles(1500);
    mark_at(1000);
    mark_at(2000); /* 1000 */
    mark_at(4000); /* 2000: a miss */
    mark_at(4100); /* 100 */
    mark_at(5600); /* 1500: not a miss (not longer than the period) */
    duet_timing_snap_t s = snap();
    assert_true(s.count == 4);
    assert_true(s.sum == 4600);
    assert_int_equal(s.min, 100);
    assert_int_equal(s.max, 2000);
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.period, 1500);
    assert_int_equal(s.bucket[duet_timing_bucket(1000)], 1);
    assert_int_equal(s.bucket[duet_timing_bucket(2000)], 1);
    assert_int_equal(s.bucket[duet_timing_bucket(100)], 1);
    assert_int_equal(s.bucket[duet_timing_bucket(1500)], 1);
    assert_int_equal(s.seq % 2u, 0);
    duet_timing_stats_t st;
    duet_timing_stats(&s, &st);
    assert_int_equal(st.mean, 1150);
    assert_false(st.wrapped);
}

static void test_cycle_counter_wraps(void **state)
{
    (void)state;
    mark_at(0xFFFFFF00u);
    mark_at(0x00000100u); /* 0x200 cycles later, across the 32-bit wrap */
    duet_timing_snap_t s = snap();
    assert_true(s.count == 1);
    assert_int_equal(s.min, 0x200);
    assert_int_equal(s.max, 0x200);
}

static void test_count_and_sum_carry(void **state)
{
    (void)state;
    mark_at(0);
    mark_at(10);
    /* as if 2^32 - 1 intervals had passed, summing to just below 2^32 */
    g_ctrl.sc_timing.tm_count_lo = UINT32_MAX;
    g_ctrl.sc_timing.tm_sum_lo = UINT32_MAX - 5u;
    mark_at(20);
    duet_timing_snap_t s = snap();
    assert_true(s.count == (uint64_t)1 << 32);
    assert_true(s.sum == (uint64_t)UINT32_MAX - 5u + 10u);
    assert_int_equal(g_ctrl.sc_timing.tm_count_lo, 0);
    assert_int_equal(g_ctrl.sc_timing.tm_count_hi, 1);
    assert_int_equal(g_ctrl.sc_timing.tm_sum_hi, 1);
    duet_timing_stats_t st;
    duet_timing_stats(&s, &st);
    assert_true(st.wrapped); /* buckets hold 2, the count says 2^32 */
}

static void test_reset_request(void **state)
{
    (void)state;
    mark_at(0);
    mark_at(1000);
    mark_at(3000);
    duet_timing_request_reset(blk());
    duet_timing_snap_t s = snap();
    assert_true(s.reset_pending);
    assert_true(s.count == 2); /* core 0 itself never touches the figures */
    mark_at(3500);             /* honours the request: clears, restarts the clock, no interval */
    s = snap();
    assert_false(s.reset_pending);
    assert_true(s.count == 0);
    assert_int_equal(s.bucket[duet_timing_bucket(1000)], 0);
    mark_at(3600);
    s = snap();
    assert_true(s.count == 1);
    assert_int_equal(s.min, 100);
    assert_int_equal(s.max, 100);
}

/* The mark skips the min/max/miss updates for intervals its private filter says cannot
 * change them: against a plain model of every figure, over random intervals (clustered,
 * with outliers, 0 and 2^32 - 1) and period changes and resets in the middle, every
 * figure must stay exact after every mark. */
static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void test_random_against_model(void **state)
{
    (void)state;
    uint32_t x = 0x9E3779B9u, now = 12345u, period = 0;
    uint64_t n = 0, sum = 0;
    uint32_t mn = 0, mx = 0, misses = 0, bucket[DUET_TIMING_BUCKETS] = {0};
    mark_at(now);
    for (int i = 0; i < 300000; i++) {
        uint32_t r = rnd(&x), d;
        switch (r % 16u) {
        case 0:
            d = 0;
            break;
        case 1:
            d = UINT32_MAX;
            break;
        case 2:
            d = rnd(&x);
            break; /* anywhere */
        case 3:
            d = 5000u + rnd(&x) % 50000u;
            break; /* wider */
        default:
            d = 20000u + rnd(&x) % 300u;
            break; /* the usual cluster */
        }
        if (r % 997u == 0u) { /* a new period (sometimes none) */
            period = (r >> 8) % 3u == 0u ? 0u : 19000u + rnd(&x) % 4000u;
            duet_rt_loop_period_cycles(period);
        }
        if (r % 4999u == 0u) { /* a reset: the next mark clears and only restarts the clock */
            duet_timing_request_reset(blk());
            now += d;
            mark_at(now);
            n = sum = 0;
            mn = mx = misses = 0;
            memset(bucket, 0, sizeof(bucket));
            continue;
        }
        now += d;
        mark_at(now);
        mn = n == 0 || d < mn ? d : mn;
        mx = n == 0 || d > mx ? d : mx;
        n++;
        sum += d;
        misses += period != 0u && d > period;
        bucket[duet_timing_bucket(d)]++;
        duet_timing_snap_t s = snap();
        assert_true(s.count == n);
        assert_true(s.sum == sum);
        assert_int_equal(s.min, mn);
        assert_int_equal(s.max, mx);
        assert_int_equal(s.misses, misses);
        if (i % 64 == 0)
            assert_memory_equal(s.bucket, bucket, sizeof(bucket));
    }
}

static void test_period_us(void **state)
{
    (void)state;
    g_ctrl.sc_c1_cpu_hz = 1000000000u; /* the simulator: cycles are nanoseconds */
    duet_rt_loop_period_us(110000);
    assert_int_equal(g_ctrl.sc_timing.tm_period, 110000000u);
    g_ctrl.sc_c1_cpu_hz = 0; /* chip without CPU_HZ: 240 MHz assumed */
    duet_rt_loop_period_us(20);
    assert_int_equal(g_ctrl.sc_timing.tm_period, 4800);
    duet_rt_loop_period_us(60000000u); /* 60 s does not fit in 32 bits: saturates */
    assert_int_equal(g_ctrl.sc_timing.tm_period, UINT32_MAX);
    duet_rt_loop_period_cycles(0);
    mark_at(0);
    mark_at(UINT32_MAX); /* no period: never a miss */
    assert_int_equal(snap().misses, 0);
}

static void test_read_refuses_torn_copy(void **state)
{
    (void)state;
    duet_timing_snap_t s;
    mark_at(0);
    mark_at(100);
    g_ctrl.sc_timing.tm_seq |= 1u; /* core 1 stopped in the middle of an update */
    assert_int_equal(duet_timing_read(blk(), &s, 8), DUET_ERR_BUSY);
    assert_int_equal(duet_timing_read(NULL, &s, 8), DUET_ERR_INVAL);
    assert_int_equal(duet_timing_read(blk(), &s, 0), DUET_ERR_INVAL);
    /* a restarted writer (its state fresh again) closes it at its first mark, which
     * only primes the clock */
    s_rt.t = &s_unprimed;
    s_rt.ack = 1;
    mark_at(200);
    assert_int_equal(duet_timing_read(blk(), &s, 1), DUET_OK);
    assert_true(s.count == 0);
    mark_at(300);
    assert_int_equal(duet_timing_read(blk(), &s, 1), DUET_OK);
    assert_true(s.count == 1 && s.min == 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_index),
        cmocka_unit_test(test_bucket_matches_table),
        cmocka_unit_test(test_bucket_edges),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_one_sample),
        cmocka_unit_test(test_percentile_ranks),
        cmocka_unit_test(test_all_in_last_bucket),
        cmocka_unit_test(test_bucket_wrap_detected),
        cmocka_unit_test(test_cycles_to_ns),
        cmocka_unit_test_setup(test_first_mark_only_primes, fresh),
        cmocka_unit_test_setup(test_odd_seq_from_a_crash, fresh),
        cmocka_unit_test_setup(test_marks_record_intervals, fresh),
        cmocka_unit_test_setup(test_cycle_counter_wraps, fresh),
        cmocka_unit_test_setup(test_count_and_sum_carry, fresh),
        cmocka_unit_test_setup(test_reset_request, fresh),
        cmocka_unit_test_setup(test_random_against_model, fresh),
        cmocka_unit_test_setup(test_period_us, fresh),
        cmocka_unit_test_setup(test_read_refuses_torn_copy, fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
