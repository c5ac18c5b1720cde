/*
 * test_sim_programs.c - the example programs doing their jobs as real child processes:
 * counter advances its shared counter (and logs with its version), pingpong echoes with
 * a measured round trip, a hot swap keeps the counter going, and no message crosses an
 * epoch in either direction. (The dsp pipeline has its own tests: tests/dsp.)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "duet/port.h"
#include "duet/ring.h"
#include "sim_util.h"

/* ---- core 0's ends of a channel ---------------------------------------------------- */

typedef struct {
    duet_ring_t tx; /* core 0 -> core 1 (we produce) */
    duet_ring_t rx; /* core 1 -> core 0 (we consume) */
} c0_chan_t;

static duet_err_t c0_open(sim_fixture_t *f, const char *name, c0_chan_t *ch)
{
    size_t size = 0;
    duet_shm_ctrl_t *c = duet_sim_ctrl(f->sim, &size);
    duet_sup_status_t st;
    duet_sim_status(f->sim, &st);
    void *a, *b;
    size_t fa, fb;
    DUET_TRY(duet_shm_chan_ring(c, size, name, 1, &a, &fa));
    DUET_TRY(duet_shm_chan_ring(c, size, name, 0, &b, &fb));
    DUET_TRY(duet_ring_attach_producer(&ch->tx, a, fa, st.epoch));
    return duet_ring_attach_consumer(&ch->rx, b, fb, st.epoch);
}

/* Receive one message, waiting on the doorbell (and polling) up to timeout_ms. */
static duet_err_t c0_recv(c0_chan_t *ch, void *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    uint64_t end = duet_port_now_us() + (uint64_t)timeout_ms * 1000u;
    for (;;) {
        duet_err_t e = duet_ring_recv(&ch->rx, buf, cap, len);
        if (e != DUET_ERR_RING_EMPTY || duet_port_now_us() >= end)
            return e;
        (void)duet_port_doorbell_wait(1000);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- counter ----------------------------------------------------------------------- */

static void test_counter_advances_shared_counter(void **state)
{
    (void)state;
    sim_fixture_t f;
    duet_sim_config_t cfg;
    sim_test_config(&cfg);
    assert_int_equal(sim_fixture_open(&f, &cfg, "counter"), 0);
    assert_int_equal(duet_sim_start(f.sim), DUET_OK);
    assert_true(sim_wait_heartbeats(&f, 2, 5000));
    duet_shm_ctrl_t *c = duet_sim_ctrl(f.sim, NULL);
    uint32_t a = __atomic_load_n(&c->sc_user[0], __ATOMIC_ACQUIRE);
    duet_sim_run_for(f.sim, 1300);
    uint32_t b = __atomic_load_n(&c->sc_user[0], __ATOMIC_ACQUIRE);
    /* 10 ticks a second, step 1: well over 5 in 1.3 s even on a loaded machine. */
    assert_true(b > a + 5);
    duet_sup_status_t st;
    duet_sim_status(f.sim, &st);
    assert_int_equal(st.state, DUET_SUP_RUNNING);
    assert_int_equal(st.progress, b >= st.progress ? st.progress : b); /* progress = count */
    assert_true(st.progress >= a);
    assert_true(f.ev.logs >= 2); /* "up" line and at least one per-second line */
    assert_non_null(strstr(f.ev.last_log, "counter v1.0.0"));
    sim_fixture_close(&f);
}

static void test_hot_swap_continues_counter(void **state)
{
    (void)state;
    sim_fixture_t f;
    duet_sim_config_t cfg;
    sim_test_config(&cfg);
    assert_int_equal(sim_fixture_open(&f, &cfg, "counter"), 0);
    assert_int_equal(duet_sim_start(f.sim), DUET_OK);
    assert_true(sim_wait_heartbeats(&f, 3, 5000));
    duet_shm_ctrl_t *c = duet_sim_ctrl(f.sim, NULL);
    duet_img_info_t info;
    assert_int_equal(duet_sim_install_file(f.sim, img_path("counter_v2"), true, &info), DUET_OK);
    assert_int_equal(info.hdr.ih_ver_major, 2);
    uint32_t at_swap = __atomic_load_n(&c->sc_user[0], __ATOMIC_ACQUIRE);
    assert_true(sim_wait_heartbeats(&f, 3, 5000));
    duet_sup_status_t st;
    duet_sim_status(f.sim, &st);
    assert_int_equal(st.active_slot, 1);
    assert_int_equal(st.slot_hdr[1].ih_ver_major, 2);
    assert_true(st.first_heartbeat_us >= st.run_start_us);
    /* v2 continues from where v1 stopped, 10 at a time. */
    uint32_t now = __atomic_load_n(&c->sc_user[0], __ATOMIC_ACQUIRE);
    assert_true(now >= at_swap + 20);
    assert_int_equal((now - at_swap) % 10, 0);
    sim_fixture_close(&f);
}

/* ---- pingpong ---------------------------------------------------------------------- */

/* pingpong running with its "ping" channel, and core 0's end of that channel. */
static void start_pingpong(sim_fixture_t *f, c0_chan_t *ch)
{
    duet_sim_config_t cfg;
    sim_test_config(&cfg);
    duet_sim_config_channel(&cfg, "ping", 4096);
    assert_int_equal(sim_fixture_open(f, &cfg, "pingpong"), 0);
    assert_int_equal(duet_sim_start(f->sim), DUET_OK);
    assert_true(sim_wait_heartbeats(f, 1, 5000));
    assert_int_equal(c0_open(f, "ping", ch), DUET_OK);
}

static void test_pingpong_round_trip(void **state)
{
    (void)state;
    sim_fixture_t f;
    c0_chan_t ch;
    start_pingpong(&f, &ch);
    enum { N = 200 };
    static uint64_t rtt[N];
    for (unsigned i = 0; i < N; i++) {
        char msg[64], back[64];
        int n = snprintf(msg, sizeof msg, "ping %u %s", i, i % 2 ? "odd" : "even");
        size_t len = 0;
        uint64_t t0 = duet_port_now_us();
        assert_int_equal(duet_ring_send(&ch.tx, msg, (size_t)n), DUET_OK);
        duet_port_doorbell_ring();
        assert_int_equal(c0_recv(&ch, back, sizeof back, &len, 2000), DUET_OK);
        rtt[i] = duet_port_now_us() - t0;
        assert_int_equal(len, (size_t)n);
        assert_memory_equal(back, msg, len);
        if (i % 50 == 0)
            duet_sim_run_for(f.sim, 1); /* let the supervisor see the heartbeats */
    }
    qsort(rtt, N, sizeof rtt[0], cmp_u64);
    printf("pingpong: %d round trips, median %llu us, p90 %llu us\n", N,
           (unsigned long long)rtt[N / 2], (unsigned long long)rtt[N * 9 / 10]);
    duet_sup_status_t st;
    duet_sim_status(f.sim, &st);
    assert_int_equal(st.state, DUET_SUP_RUNNING);
    sim_fixture_close(&f);
}

/* A message never crosses an epoch: not core 1's last echo to the new core-0 view,
 * not core 0's unread message to the new program. */
static void test_stale_epoch_message_never_delivered(void **state)
{
    (void)state;
    sim_fixture_t f;
    c0_chan_t old;
    start_pingpong(&f, &old);

    /* Old run: one echo left unread in core 1 -> core 0 ... */
    assert_int_equal(duet_ring_send(&old.tx, "old-echo", 8), DUET_OK);
    duet_port_doorbell_ring();
    duet_sim_run_for(f.sim, 100);
    assert_true(duet_ring_used(&old.rx) > 0);
    /* ... and one message core 1 never reads (stopped first). */
    assert_int_equal(duet_sim_stop(f.sim), DUET_OK);
    assert_int_equal(duet_ring_send(&old.tx, "old-request", 11), DUET_OK);

    assert_int_equal(duet_sim_restart(f.sim), DUET_OK);
    assert_true(sim_wait_heartbeats(&f, 1, 5000));

    /* The old handles are dead: nothing from before is delivered through them. */
    char buf[64];
    size_t len = 0;
    assert_int_equal(duet_ring_recv(&old.rx, buf, sizeof buf, &len), DUET_ERR_RING_STALE);
    assert_int_equal(duet_ring_send(&old.tx, "late", 4), DUET_ERR_RING_STALE);

    /* A fresh view of the new epoch is empty in both directions: the new program did
     * not see "old-request" (it would have echoed it). */
    c0_chan_t cur;
    assert_int_equal(c0_open(&f, "ping", &cur), DUET_OK);
    duet_sim_run_for(f.sim, 200);
    assert_int_equal(duet_ring_recv(&cur.rx, buf, sizeof buf, &len), DUET_ERR_RING_EMPTY);
    /* And the new run works: exactly our new message comes back. */
    assert_int_equal(duet_ring_send(&cur.tx, "new", 3), DUET_OK);
    duet_port_doorbell_ring();
    assert_int_equal(c0_recv(&cur, buf, sizeof buf, &len, 2000), DUET_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "new", 3);
    duet_sim_run_for(f.sim, 100);
    assert_int_equal(duet_ring_recv(&cur.rx, buf, sizeof buf, &len), DUET_ERR_RING_EMPTY);
    duet_sup_status_t st;
    duet_sim_status(f.sim, &st);
    assert_int_equal(st.progress, 1); /* the new run echoed one message in total */
    sim_fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_advances_shared_counter),
        cmocka_unit_test(test_hot_swap_continues_counter),
        cmocka_unit_test(test_pingpong_round_trip),
        cmocka_unit_test(test_stale_epoch_message_never_delivered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
