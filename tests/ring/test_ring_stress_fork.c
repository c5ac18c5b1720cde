/*
 * test_ring_stress_fork.c - two processes share a MAP_SHARED|MAP_ANONYMOUS area holding two
 * rings (one per direction, like core 0 and core 1) and each sends millions of checked
 * messages to the other while receiving. The child maps the same pages a second time at
 * another address (mremap with old size 0) and uses only that view, proving the rings hold
 * no pointers. ThreadSanitizer cannot see across processes: in the TSan build this test
 * runs (fewer messages) but checks only the bytes; test_ring_stress_threads is the real
 * TSan check of the ordering.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "stress_common.h"

#define RING_DATA 8192u
#define RING_FP DUET_RING_FOOTPRINT(RING_DATA)
#define AREA (2u * 4096u + 2u * RING_FP)
#define EPOCH 0x1234u

/* Pump both directions until both are done. Returns 0 or -1 (error text in *err). */
static int pump(void *area, int parent, uint32_t count, char *err, size_t errlen)
{
    uint8_t *a = area, *b = (uint8_t *)area + 4096 + RING_FP; /* a: parent->child */
    stress_end_t tx = {.total = count}, rx = {.total = count};
    duet_err_t e1 = duet_ring_attach_producer(&tx.ring, parent ? a : b, RING_FP, EPOCH);
    duet_err_t e2 = duet_ring_attach_consumer(&rx.ring, parent ? b : a, RING_FP, EPOCH);
    if (e1 != DUET_OK || e2 != DUET_OK) {
        snprintf(err, errlen, "attach: %s / %s", duet_err_name(e1), duet_err_name(e2));
        return -1;
    }
    tx.max = rx.max = duet_ring_max_msg(&tx.ring);
    unsigned idle = 0;
    while (tx.next < count || rx.next < count) {
        int s = tx.next < count ? stress_send_one(&tx) : 0;
        int r = rx.next < count ? stress_recv_one(&rx) : 0;
        if (s < 0 || r < 0) {
            snprintf(err, errlen, "%s: %s", parent ? "parent" : "child", s < 0 ? tx.error : rx.error);
            return -1;
        }
        idle = (s > 0 || r > 0) ? 0 : idle + 1;
        stress_backoff(idle);
    }
    return 0;
}

static void test_ring_processes_exchange_every_byte(void **state)
{
    (void)state;
    uint32_t count = stress_count(1500000, 1000000);
    void *area = mmap(NULL, AREA, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(area != MAP_FAILED);
    assert_int_equal(duet_ring_init(area, RING_FP, EPOCH), DUET_OK);
    assert_int_equal(duet_ring_init((uint8_t *)area + 4096 + RING_FP, RING_FP, EPOCH), DUET_OK);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(300);
        void *view = mremap(area, 0, AREA, MREMAP_MAYMOVE); /* second view, same pages */
        if (view == MAP_FAILED || view == area)
            _exit(3);
        char err[200];
        if (pump(view, 0, count, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s\n", err);
            _exit(2);
        }
        _exit(0);
    }
    char err[200] = "";
    int rc = pump(area, 1, count, err, sizeof(err));
    if (rc != 0)
        kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (rc != 0)
        fail_msg("%s", err);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    print_message("%u messages each way checked across two processes\n", count);
    munmap(area, AREA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_processes_exchange_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
