/*
 * jitter_core1.c - examples/idf/jitter (a): the measured loop as a duet program on core 1.
 * No interrupt is enabled on core 1 (duet's boot leaves INTENABLE = 0), so nothing but
 * the loop itself runs between two marks. Hand-over words: sc_user[1] (state) and
 * sc_user[2] (park cycles). The histogram is reported through the log ring, one line at
 * a time with a pause so core 0 drains it.
 */
#include "../../jitter/jitter_loop.h"
#include "duet/app.h"

static jit_hist_t s_h;

static void hb(void)
{
    duet_rt_heartbeat();
}

static void line(const char *s)
{
    DUET_LOGI("%s", s);
    for (int i = 0; i < 5; i++) { /* 5 ms per line: the log ring stays far from full */
        duet_rt_heartbeat();
        duet_rt_delay_us(1000);
    }
}

static void report(const char *mode)
{
    char buf[112];
    jit_format_summary(&s_h, mode, buf, sizeof buf);
    line(buf);
    for (unsigned i = 0; i < JIT_BUCKETS; i++) {
        if (s_h.bucket[i] != 0) {
            jit_format_bucket(&s_h, mode, i, buf, sizeof buf);
            line(buf);
        }
    }
}

void duet_main(void)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    DUET_LOGI("jitter: %u iterations, %u rounds each", (unsigned)JIT_ITERS, (unsigned)JIT_WORK);
    /* With the park (emulator): first core 0 parked ("duet"), then core 0 running
     * ("duet-live"); without: one run with core 0 running ("duet"). */
    for (int run = 0; run < 1 + JIT_PARK; run++) {
        while (run > 0 && __atomic_load_n(&c->sc_user[1], __ATOMIC_ACQUIRE) != JIT_S_IDLE)
            hb();
        uint32_t x = jit_measure(&s_h, &c->sc_user[1], &c->sc_user[2], JIT_ITERS, JIT_WORK, hb);
        const char *mode = run == 0 ? "duet" : "duet-live";
        report(mode);
        DUET_LOGI("JIT %s result=%u", mode, (unsigned)x);
        DUET_LOGI("JIT %s end", mode);
    }
    while (!duet_rt_should_stop()) {
        duet_rt_heartbeat();
        (void)duet_rt_doorbell_wait(100000);
    }
}
