/*
 * test_timing_threads.c - core 1 marks on one thread while core 0 copies the block on
 * another (as the API does while a program runs). The writer's intervals cycle through
 * 1000, 2000 and 3000 cycles, which land in three different buckets, so every consistent
 * copy satisfies count == the three bucket counts and sum == their weighted total, and
 * min/max belong to the same moment. The declared period (2500) makes every 3000 a miss,
 * so the mark's rare path (mark_edges, which closes the update itself) runs on every
 * third mark and misses == the 3000 bucket. A copy that mixed two updates breaks one of these;
 * duet_timing_read must never return one. Also built with ThreadSanitizer
 * (test_timing_threads_tsan): every shared word is accessed atomically.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "duet/timing.h"
#include "fake_rt.h"

#define MARKS 4000000u

static int s_done; /* writer finished (atomic) */

static void *writer(void *arg)
{
    (void)arg;
    static const uint32_t step[3] = {1000u, 2000u, 3000u};
    uint32_t now = 0;
    for (uint32_t i = 0; i < MARKS; i++) {
        now += step[i % 3u];
        g_cycles = now; /* only this thread reads it (duet_arch_cycles) */
        duet_rt_loop_mark();
    }
    __atomic_store_n(&s_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_copies_are_consistent(void **state)
{
    (void)state;
    pthread_t th;
    const unsigned b1 = duet_timing_bucket(1000), b2 = duet_timing_bucket(2000),
                   b3 = duet_timing_bucket(3000);
    assert_true(b1 != b2 && b2 != b3 && b1 != b3);
    duet_rt_loop_period_cycles(2500u);
    assert_int_equal(pthread_create(&th, NULL, writer, NULL), 0);
    unsigned copies = 0, busy = 0;
    uint64_t last_count = 0;
    while (!__atomic_load_n(&s_done, __ATOMIC_ACQUIRE) || copies == 0) {
        duet_timing_snap_t s;
        duet_err_t e = duet_timing_read(&g_ctrl.sc_timing, &s, 4);
        if (e == DUET_ERR_BUSY) {
            busy++;
            continue;
        }
        assert_int_equal(e, DUET_OK);
        copies++;
        uint64_t n1 = s.bucket[b1], n2 = s.bucket[b2], n3 = s.bucket[b3];
        assert_true(s.count == n1 + n2 + n3);
        assert_true(s.sum == 1000u * n1 + 2000u * n2 + 3000u * n3);
        assert_true(s.misses == n3);
        assert_true(s.count >= last_count); /* no reset here: the count only grows */
        last_count = s.count;
        if (s.count > 0) {
            assert_int_equal(s.min, n1 ? 1000 : n3 ? 3000 : 2000);
            assert_int_equal(s.max, n3 ? 3000 : n2 ? 2000 : 1000);
        }
    }
    pthread_join(th, NULL);
    duet_timing_snap_t s;
    assert_int_equal(duet_timing_read(&g_ctrl.sc_timing, &s, 1), DUET_OK);
    assert_true(s.count == MARKS - 1u); /* the first mark only starts the clock */
    print_message("%u consistent copies, %u reads gave up (BUSY) while the writer marked\n", copies,
                  busy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_are_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
