/*
 * test_dsp_sim.c - the dsp pipeline end to end in the simulator: the real supervisor,
 * the dsp program as a child process (examples/dsp), core 0 = this test feeding the
 * generated signal (dsp_feed.h) and checking every answer bit for bit against the PC
 * reference. 5 s of 48 kHz stereo in 64-frame blocks, then a new stream (reset flag)
 * in 128-frame blocks on the same running program: no block dropped or mismatched.
 * Not paced (as fast as the pipeline goes): timing is the soak run's business
 * (scripts/dsp-soak.sh), not a unit test's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dsp_feed.h"
#include "dsp_proto.h"
#include "sim_util.h"

static void run_stream(sim_fixture_t *f, unsigned frames, double seconds)
{
    dsp_feed_config_t fc = {
        .frames = frames,
        .blocks = (uint64_t)(seconds * DSP_RATE_HZ / frames),
        .realtime = 0,
    };
    dsp_feed_stats_t st;
    assert_int_equal(dsp_feed_run(f->sim, &fc, &st), DUET_OK);
    printf("dsp sim: %u-frame blocks: sent %llu, processed %llu, dropped %llu, mismatched %llu "
           "(%llu samples at full scale), worst latency %llu us\n",
           frames, (unsigned long long)st.sent, (unsigned long long)st.processed,
           (unsigned long long)st.dropped, (unsigned long long)st.mismatched,
           (unsigned long long)st.clipped, (unsigned long long)(st.worst_latency_ns / 1000u));
    assert_int_equal(st.sent, fc.blocks);
    assert_int_equal(st.processed, fc.blocks);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.mismatched, 0);
    uint64_t samples = fc.blocks * frames * DSP_CHANNELS;
    assert_true(st.nonzero > samples / 2); /* not two silences compared */
    assert_true(st.clipped > 0);           /* the saturation paths ran */
}

/* The dsp program running in a simulator with its "audio" channel. */
static void start_dsp(sim_fixture_t *f)
{
    duet_sim_config_t cfg;
    sim_test_config(&cfg);
    duet_sim_config_channel(&cfg, DSP_CHANNEL, 16384);
    assert_int_equal(sim_fixture_open(f, &cfg, "dsp"), 0);
    assert_int_equal(duet_sim_start(f->sim), DUET_OK);
    assert_true(sim_wait_heartbeats(f, 1, 5000));
}

static void test_pipeline_bit_exact_in_simulator(void **state)
{
    (void)state;
    sim_fixture_t f;
    start_dsp(&f);

    run_stream(&f, DSP_BLOCK_FRAMES, 5.0);
    run_stream(&f, DSP_MAX_FRAMES, 1.0); /* seq 0 again: core 1 resets its state */

    duet_shm_ctrl_t *c = duet_sim_ctrl(f.sim, NULL);
    uint32_t blocks = 48000 * 5 / DSP_BLOCK_FRAMES + 48000 / DSP_MAX_FRAMES;
    assert_int_equal(__atomic_load_n(&c->sc_user[DSP_BLOCKS_WORD], __ATOMIC_ACQUIRE), blocks);
    assert_true(__atomic_load_n(&c->sc_user[DSP_CPS_WORD], __ATOMIC_ACQUIRE) > 0);
    duet_sup_status_t st;
    duet_sim_status(f.sim, &st);
    assert_int_equal(st.state, DUET_SUP_RUNNING);
    assert_int_equal(st.restarts, 0);
    sim_fixture_close(&f);
}

/* A malformed block is dropped by core 1 with a warning; the stream goes on. */
static void test_program_refuses_malformed_block(void **state)
{
    (void)state;
    sim_fixture_t f;
    start_dsp(&f);
    size_t size = 0;
    duet_shm_ctrl_t *c = duet_sim_ctrl(f.sim, &size);
    duet_sup_status_t s;
    duet_sim_status(f.sim, &s);
    void *mem;
    size_t fp;
    duet_ring_t tx;
    assert_int_equal(duet_shm_chan_ring(c, size, DSP_CHANNEL, 1, &mem, &fp), DUET_OK);
    assert_int_equal(duet_ring_attach_producer(&tx, mem, fp, s.epoch), DUET_OK);
    /* header says 64 frames, only 10 follow */
    uint8_t bad[sizeof(dsp_msg_hdr_t) + 40] = {0};
    dsp_msg_hdr_t h = {.dm_seq = 7, .dm_frames = 64};
    memcpy(bad, &h, sizeof h);
    assert_int_equal(duet_ring_send(&tx, bad, sizeof bad), DUET_OK);
    duet_port_doorbell_ring();
    unsigned logs = f.ev.logs;
    duet_sim_run_for(f.sim, 300);
    assert_true(f.ev.logs > logs);
    assert_non_null(strstr(f.ev.last_log, "malformed"));
    run_stream(&f, DSP_BLOCK_FRAMES, 0.5); /* and the pipeline still works */
    sim_fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_bit_exact_in_simulator),
        cmocka_unit_test(test_program_refuses_malformed_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
