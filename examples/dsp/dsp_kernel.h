/*
 * dsp_kernel.h - the core-1 side of the dsp example: the chain of dsp_chain.h over
 * interleaved stereo blocks, written for speed (block-wise sections with the state in
 * locals, a contiguous FIR line, folded symmetric taps). Freestanding C11 (<stdint.h>,
 * <string.h> only): it builds for the PC, the ESP32-S3 and the lx106 CI check.
 */
#ifndef DUET_EXAMPLE_DSP_KERNEL_H
#define DUET_EXAMPLE_DSP_KERNEL_H

#include <stdint.h>

#include "dsp_chain.h"

typedef struct {
    int32_t bq[DSP_BIQUADS][5]; /* x[n-1], x[n-2], y[n-1], y[n-2], e[n-1] per section */
    /* FIR input, oldest first: DSP_FIR_TAPS - 1 samples of history, then the block. */
    int32_t line[DSP_FIR_TAPS - 1 + DSP_MAX_FRAMES];
} dsp_kernel_chan_t;

typedef struct {
    dsp_kernel_chan_t ch[DSP_CHANNELS];
} dsp_kernel_t;

/** Zero all filter state (a new stream). */
void dsp_kernel_reset(dsp_kernel_t *k);
/** Run the chain over 'frames' interleaved stereo frames (1..DSP_MAX_FRAMES; others are
 *  ignored). in and out may be the same buffer. */
void dsp_kernel_run(dsp_kernel_t *k, const int16_t *in, int16_t *out, unsigned frames);

#endif /* DUET_EXAMPLE_DSP_KERNEL_H */
