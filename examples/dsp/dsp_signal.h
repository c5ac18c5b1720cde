/*
 * dsp_signal.h - the test signal core 0 feeds the pipeline: deterministic, integer-only
 * (the same samples on the PC and on the chip's core 0, from the same seed).
 *
 *   L: sine sweep 20 Hz -> 20 kHz over 10 s (linear, then again), half scale
 *   R: the same sweep downwards
 *   both: + white noise from a xorshift32 PRNG (fixed seed, -24 dBFS)
 *         + every 2 s a 100 ms full-scale square burst (input clips, the +6 dB section
 *           saturates, the output saturates: the saturation paths run too)
 */
#ifndef DUET_EXAMPLE_DSP_SIGNAL_H
#define DUET_EXAMPLE_DSP_SIGNAL_H

#include <stdint.h>

typedef struct {
    uint32_t rng;      /* xorshift32 state, never 0 */
    uint32_t phase[2]; /* sweep phase per channel (2^32 = one cycle) */
    uint32_t frame;    /* frames generated so far (wraps after ~24 h) */
} dsp_signal_t;

#define DSP_SIGNAL_SEED 0x2545F491u

void dsp_signal_init(dsp_signal_t *g, uint32_t seed);
/** Next 'frames' interleaved stereo frames. */
void dsp_signal_block(dsp_signal_t *g, int16_t *out, unsigned frames);

#endif /* DUET_EXAMPLE_DSP_SIGNAL_H */
