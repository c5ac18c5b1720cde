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
    s_rt.t = NULL;
    s_rt.last = 0;
    s_rt.ack = 0;
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
    /* the next mark of a restarted writer closes it again */
    mark_at(200);
    assert_int_equal(duet_timing_read(blk(), &s, 1), DUET_OK);
    assert_true(s.count == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_index),
        cmocka_unit_test(test_bucket_edges),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_one_sample),
        cmocka_unit_test(test_percentile_ranks),
        cmocka_unit_test(test_all_in_last_bucket),
        cmocka_unit_test(test_bucket_wrap_detected),
        cmocka_unit_test(test_cycles_to_ns),
        cmocka_unit_test_setup(test_first_mark_only_primes, fresh),
        cmocka_unit_test_setup(test_marks_record_intervals, fresh),
        cmocka_unit_test_setup(test_cycle_counter_wraps, fresh),
        cmocka_unit_test_setup(test_count_and_sum_carry, fresh),
        cmocka_unit_test_setup(test_reset_request, fresh),
        cmocka_unit_test_setup(test_period_us, fresh),
        cmocka_unit_test_setup(test_read_refuses_torn_copy, fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
