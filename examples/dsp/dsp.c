/*
 * dsp - core 1 as a signal processor: core 0 streams 48 kHz 16-bit stereo blocks on
 * channel "audio" (dsp_proto.h), core 1 runs the biquad chain + FIR of dsp_chain.h in
 * fixed point (dsp_kernel.c) and sends each processed block back on the same channel,
 * zero-copy both ways (reads the input in the rx ring, writes into the tx ring).
 *
 * It measures the kernel with the cycle counter (chip: CCOUNT; PC: nanoseconds), puts
 * the cycles into each answer's header and cycles per sample x100 into
 * sc_user[DSP_CPS_WORD], and logs once a second; progress = blocks processed.
 * Portable: only duet/app.h.
 */
#include "dsp_kernel.h"
#include "dsp_proto.h"
#include "duet/app.h"

static dsp_kernel_t s_kernel; /* static: ~1.3 KiB, far from the stack guard */

/* Wait for room for the answer; 0 if asked to stop meanwhile. */
static int reserve_out(duet_chan_t *ch, size_t len, void **out)
{
    duet_err_t e;
    while ((e = duet_rt_chan_reserve(ch, len, out)) == DUET_ERR_RING_FULL) {
        duet_rt_heartbeat(); /* core 0 has not collected the previous results yet */
        if (duet_rt_should_stop())
            return 0;
    }
    if (e != DUET_OK)
        duet_rt_panic("dsp: cannot reserve output");
    return 1;
}

void duet_main(void)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    duet_chan_t ch;
    duet_err_t e = duet_rt_chan_open(DSP_CHANNEL, &ch);
    if (e != DUET_OK) {
        DUET_LOGE("dsp: no channel \"" DSP_CHANNEL "\": %s", duet_err_name(e));
        duet_rt_panic("dsp needs channel 'audio'");
    }
    dsp_kernel_reset(&s_kernel);
    DUET_LOGI("dsp up (epoch %u): %d biquads + %d-tap FIR, stereo blocks up to %d frames",
              (unsigned)duet_rt_epoch(), DSP_BIQUADS, DSP_FIR_TAPS, DSP_MAX_FRAMES);
    uint32_t blocks = 0;
    uint64_t next_log = duet_rt_time_us() + 1000000u;
    while (!duet_rt_should_stop()) {
        const void *msg = NULL;
        size_t len = 0;
        e = duet_rt_chan_peek(&ch, &msg, &len);
        if (e == DUET_ERR_RING_EMPTY) {
            duet_rt_heartbeat();
            (void)duet_rt_doorbell_wait(10000u); /* timeout = look again */
            continue;
        }
        if (e != DUET_OK)
            duet_rt_panic("dsp: channel broken");
        const dsp_msg_hdr_t *in = msg;
        if (len < sizeof *in || in->dm_frames == 0 || in->dm_frames > DSP_MAX_FRAMES ||
            len != DSP_MSG_BYTES(in->dm_frames)) {
            DUET_LOGW("dsp: dropped a malformed block of %u bytes", (unsigned)len);
            (void)duet_rt_chan_release(&ch); /* only fails on a stale ring: seen next peek */
            continue;
        }
        void *o = NULL;
        if (!reserve_out(&ch, len, &o))
            return;
        dsp_msg_hdr_t *out = o;
        unsigned n = in->dm_frames;
        if (in->dm_flags & DSP_MSG_RESET)
            dsp_kernel_reset(&s_kernel);
        uint32_t t0 = duet_rt_cycles();
        dsp_kernel_run(&s_kernel, (const int16_t *)(in + 1), (int16_t *)(out + 1), n);
        uint32_t cycles = duet_rt_cycles() - t0;
        out->dm_seq = in->dm_seq;
        out->dm_frames = n;
        out->dm_flags = 0;
        out->dm_cycles = cycles;
        (void)duet_rt_chan_commit(&ch, len); /* the reservation above is this length */
        (void)duet_rt_chan_release(&ch);     /* only fails on a stale ring: seen next peek */
        duet_rt_doorbell_ring();
        uint32_t cps100 = (uint32_t)((uint64_t)cycles * 100u / (n * DSP_CHANNELS));
        __atomic_store_n(&c->sc_user[DSP_CPS_WORD], cps100, __ATOMIC_RELEASE);
        __atomic_store_n(&c->sc_user[DSP_BLOCKS_WORD], ++blocks, __ATOMIC_RELEASE);
        duet_rt_progress(blocks);
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
