/*
 * test_ring_stress_threads.c - one producer thread and one consumer thread move millions
 * of variable-length messages through a ring; the consumer checks every byte
 * (stress_common.c). This is the ThreadSanitizer check of the ring's memory ordering:
 * built in build-tsan, it runs as test_ring_stress_threads_tsan (fewer messages there,
 * TSan is ~10x slower; DUET_STRESS_MSGS overrides the count).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "stress_common.h"

static atomic_int g_abort; /* one side failed: the other must not wait forever */

static void *producer(void *arg)
{
    stress_end_t *e = arg;
    unsigned idle = 0;
    while (e->next < e->total && !atomic_load(&g_abort)) {
        int r = stress_send_one(e);
        if (r < 0) {
            atomic_store(&g_abort, 1);
            return e;
        }
        idle = r ? 0 : idle + 1;
        stress_backoff(idle);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    stress_end_t *e = arg;
    unsigned idle = 0;
    while (e->next < e->total && !atomic_load(&g_abort)) {
        int r = stress_recv_one(e);
        if (r < 0) {
            atomic_store(&g_abort, 1);
            return e;
        }
        idle = r ? 0 : idle + 1;
        stress_backoff(idle);
    }
    return NULL;
}

static void run(uint32_t data_size, uint32_t count)
{
    size_t fp = DUET_RING_FOOTPRINT(data_size);
    void *mem = aligned_alloc(64, fp);
    assert_non_null(mem);
    assert_int_equal(duet_ring_init(mem, fp, 42), DUET_OK);
    static stress_end_t tx, rx;
    tx = (stress_end_t){.total = count};
    rx = (stress_end_t){.total = count};
    assert_int_equal(duet_ring_attach_producer(&tx.ring, mem, fp, 42), DUET_OK);
    assert_int_equal(duet_ring_attach_consumer(&rx.ring, mem, fp, 42), DUET_OK);
    tx.max = rx.max = duet_ring_max_msg(&tx.ring);
    atomic_store(&g_abort, 0);

    pthread_t pt, ct;
    assert_int_equal(pthread_create(&ct, NULL, consumer, &rx), 0);
    assert_int_equal(pthread_create(&pt, NULL, producer, &tx), 0);
    void *pr, *cr;
    pthread_join(pt, &pr);
    pthread_join(ct, &cr);
    if (pr != NULL)
        fail_msg("producer: %s", tx.error);
    if (cr != NULL)
        fail_msg("consumer: %s", rx.error);
    assert_int_equal(rx.next, count);
    assert_true(rx.bytes == tx.bytes);
    size_t n;
    uint8_t b[8];
    assert_int_equal(duet_ring_recv(&rx.ring, b, sizeof(b), &n), DUET_ERR_RING_EMPTY);
    print_message("ring %u B: %u messages, %llu payload bytes checked (full %llu, empty %llu)\n",
                  data_size, count, (unsigned long long)rx.bytes, (unsigned long long)tx.waits,
                  (unsigned long long)rx.waits);
    free(mem);
}

static void test_ring_threads_4k_ring_delivers_every_byte(void **state)
{
    (void)state;
    run(4096, stress_count(2000000, 1000000));
}

static void test_ring_threads_tiny_ring_wraps_constantly(void **state)
{
    (void)state;
    run(64, stress_count(2000000, 1000000) / 2); /* max_msg 28: full and wrap all the time */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_threads_4k_ring_delivers_every_byte),
        cmocka_unit_test(test_ring_threads_tiny_ring_wraps_constantly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
