/*
 * dsp_ref.h - the PC reference of the chain in dsp_chain.h: one sample at a time,
 * written straight from the specification and deliberately sharing no code with the
 * core-1 kernel (dsp_kernel.c). Core 0 (the simulator side, the tests) computes the
 * expected output of every block with it.
 */
#ifndef DUET_EXAMPLE_DSP_REF_H
#define DUET_EXAMPLE_DSP_REF_H

#include <stdint.h>

#include "dsp_chain.h"

typedef struct {
    int64_t x[DSP_BIQUADS][3]; /* x[n], x[n-1], x[n-2] of each section */
    int64_t y[DSP_BIQUADS][3]; /* y[n], y[n-1], y[n-2] */
    int64_t e[DSP_BIQUADS];    /* quantisation remainder carried to the next sample */
    int64_t fir[DSP_FIR_TAPS]; /* fir[k] = FIR input at n-k */
} dsp_ref_chan_t;

typedef struct {
    dsp_ref_chan_t ch[DSP_CHANNELS];
} dsp_ref_t;

void dsp_ref_reset(dsp_ref_t *r);
/** One sample of one channel through the whole chain. */
int16_t dsp_ref_sample(dsp_ref_chan_t *c, int16_t in);
/** Interleaved stereo frames, any count. */
void dsp_ref_block(dsp_ref_t *r, const int16_t *in, int16_t *out, unsigned frames);

#endif /* DUET_EXAMPLE_DSP_REF_H */
