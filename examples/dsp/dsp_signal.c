/*
 * dsp_signal.c - see dsp_signal.h. The sine is a parabola per half cycle (within 6 % of
 * a sine; a test signal needs determinism, not purity), computed on unsigned values so
 * no shift touches a negative number.
 */
#include "dsp_signal.h"

#include "dsp_chain.h"

#define SWEEP_FRAMES (10u * DSP_RATE_HZ)
#define INC_20HZ     1789570u    /* 20 / 48000 * 2^32 */
#define INC_20KHZ    1789569707u /* 20000 / 48000 * 2^32 */
#define BURST_EVERY  (2u * DSP_RATE_HZ)
#define BURST_LEN    (DSP_RATE_HZ / 10u)

void dsp_signal_init(dsp_signal_t *g, uint32_t seed)
{
    g->rng = seed != 0 ? seed : 1u;
    g->phase[0] = 0;
    g->phase[1] = 0x40000000u;
    g->frame = 0;
}

/* amplitude * sin(2 pi phase / 2^32), amplitude <= 32767 */
static int32_t psine(uint32_t phase, uint32_t amplitude)
{
    uint32_t t = (phase >> 16) & 0x7FFFu;       /* position in the half cycle, Q15 */
    uint32_t s = (4u * t * (32768u - t)) >> 15; /* 4 t (1 - t), 0..32768 */
    int32_t m = (int32_t)((s * amplitude) >> 15);
    return (phase & 0x80000000u) != 0 ? -m : m;
}

static int32_t noise(dsp_signal_t *g)
{
    uint32_t r = g->rng;
    r ^= r << 13;
    r ^= r >> 17;
    r ^= r << 5;
    g->rng = r;
    return (int32_t)(r >> 20) - 2048;
}

static int16_t clip16(int32_t v)
{
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

void dsp_signal_block(dsp_signal_t *g, int16_t *out, unsigned frames)
{
    const uint32_t span = INC_20KHZ - INC_20HZ;
    for (unsigned i = 0; i < frames; i++, g->frame++) {
        uint32_t pos = g->frame % SWEEP_FRAMES;
        /* increment = 20 Hz + span * pos / SWEEP_FRAMES, in 64 bits (span * pos > 2^32) */
        uint32_t up = INC_20HZ + (uint32_t)((uint64_t)span * pos / SWEEP_FRAMES);
        uint32_t down =
            INC_20HZ + (uint32_t)((uint64_t)span * (SWEEP_FRAMES - 1u - pos) / SWEEP_FRAMES);
        g->phase[0] += up;
        g->phase[1] += down;
        int32_t burst = 0;
        if (g->frame % BURST_EVERY < BURST_LEN)
            burst = (g->frame / 24u) % 2u != 0 ? 32767 : -32767; /* 1 kHz square */
        out[2 * i] = clip16(psine(g->phase[0], 16384) + noise(g) + burst);
        out[2 * i + 1] = clip16(psine(g->phase[1], 16384) + noise(g) + burst);
    }
}
