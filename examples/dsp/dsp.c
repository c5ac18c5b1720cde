/*
 * dsp - core 1 as a signal processor: core 0 streams blocks of int16 samples on channel
 * "audio", core 1 runs the biquad + FIR chain of dsp_chain.h in fixed point and sends
 * each processed block back on the same channel.
 *
 * It measures its own cost with the cycle counter (chip: CCOUNT; PC: nanoseconds) and
 * reports cycles per sample x100 in sc_user[DSP_CPS_WORD] and in a log line every
 * second; progress = blocks processed. Portable: only duet/app.h.
 */
#include "dsp_chain.h"
#include "duet/app.h"

#define DSP_CPS_WORD 2 /* sc_user index: last block's cycles per sample x 100 */

static int32_t s_x1, s_x2, s_y1, s_y2; /* biquad history */
static int16_t s_fir[DSP_FIR_TAPS];    /* FIR delay line, s_fir[0] = newest */

static int16_t sat16(int64_t v)
{
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* Arithmetic right shift with rounding, defined for negative values too (C leaves >>
 * of a negative number implementation-defined: divide by hand instead). */
static int64_t round_shift(int64_t v, unsigned sh)
{
    int64_t add = (int64_t)1 << (sh - 1);
    int64_t t = v + add;
    int64_t d = (int64_t)1 << sh;
    return t >= 0 ? t / d : -((-t + d - 1) / d);
}

static void process(const int16_t *in, int16_t *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        int32_t x = in[i];
        int64_t acc = (int64_t)k_dsp_bq_b[0] * x + (int64_t)k_dsp_bq_b[1] * s_x1 +
                      (int64_t)k_dsp_bq_b[2] * s_x2 - (int64_t)k_dsp_bq_a[0] * s_y1 -
                      (int64_t)k_dsp_bq_a[1] * s_y2;
        int16_t y = sat16(round_shift(acc, 14));
        s_x2 = s_x1;
        s_x1 = x;
        s_y2 = s_y1;
        s_y1 = y;
        for (unsigned k = DSP_FIR_TAPS - 1; k > 0; k--)
            s_fir[k] = s_fir[k - 1];
        s_fir[0] = y;
        int64_t f = 0;
        for (unsigned k = 0; k < DSP_FIR_TAPS; k++)
            f += (int64_t)k_dsp_fir[k] * s_fir[k];
        out[i] = sat16(round_shift(f, 15));
    }
}

void duet_main(void)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    duet_chan_t ch;
    duet_err_t e = duet_rt_chan_open("audio", &ch);
    if (e != DUET_OK) {
        DUET_LOGE("dsp: no channel \"audio\": %s", duet_err_name(e));
        duet_rt_panic("dsp needs channel 'audio'");
    }
    DUET_LOGI("dsp up (epoch %u): biquad + %d-tap FIR, blocks up to %d samples",
              (unsigned)duet_rt_epoch(), DSP_FIR_TAPS, DSP_MAX_BLOCK);
    uint32_t blocks = 0;
    uint64_t next_log = duet_rt_time_us() + 1000000u;
    uint32_t cps100 = 0;
    while (!duet_rt_should_stop()) {
        const void *msg = NULL;
        size_t len = 0;
        e = duet_rt_chan_peek(&ch, &msg, &len);
        if (e == DUET_ERR_RING_EMPTY) {
            duet_rt_heartbeat();
            (void)duet_rt_doorbell_wait(10000u);
            continue;
        }
        if (e != DUET_OK)
            duet_rt_panic("dsp: channel broken");
        unsigned n = (unsigned)(len / sizeof(int16_t));
        if (n == 0 || n > DSP_MAX_BLOCK || len % sizeof(int16_t) != 0) {
            DUET_LOGW("dsp: dropped a malformed block of %u bytes", (unsigned)len);
            (void)duet_rt_chan_release(&ch);
            continue;
        }
        void *out = NULL;
        while ((e = duet_rt_chan_reserve(&ch, len, &out)) == DUET_ERR_RING_FULL) {
            duet_rt_heartbeat(); /* core 0 has not collected the previous results yet */
            if (duet_rt_should_stop())
                return;
        }
        if (e != DUET_OK)
            duet_rt_panic("dsp: cannot reserve output");
        /* Zero-copy both ways: read the input in the rx ring, write into the tx ring. */
        uint32_t t0 = duet_rt_cycles();
        process(msg, out, n);
        uint32_t cycles = duet_rt_cycles() - t0;
        (void)duet_rt_chan_commit(&ch, len);
        (void)duet_rt_chan_release(&ch);
        duet_rt_doorbell_ring();
        cps100 = (uint32_t)((uint64_t)cycles * 100u / n);
        __atomic_store_n(&c->sc_user[DSP_CPS_WORD], cps100, __ATOMIC_RELEASE);
        duet_rt_progress(++blocks);
        duet_rt_heartbeat();
        uint64_t now = duet_rt_time_us();
        if (now >= next_log) {
            DUET_LOGI("dsp: %u blocks, %u.%02u cycles/sample (cycle rate %u Hz)", (unsigned)blocks,
                      (unsigned)(cps100 / 100u), (unsigned)(cps100 % 100u),
                      (unsigned)c->sc_c1_cpu_hz);
            next_log = now + 1000000u;
        }
    }
}
