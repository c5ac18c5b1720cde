/*
 * dsp_chain.h - the signal chain of the dsp example, as a SPECIFICATION the program
 * implements and the test re-implements independently:
 *
 *   x (int16) -> biquad (direct form I) -> y1 (int16, saturated) -> FIR -> out (int16)
 *
 * Biquad: acc = b0*x[n] + b1*x[n-1] + b2*x[n-2] - a1*y[n-1] - a2*y[n-2]   (64-bit)
 *         y[n] = sat16((acc + 2^13) >> 14)  (coefficients Q2.14, arithmetic shift)
 * FIR:    acc = sum_{k=0}^{15} h[k] * y1[n-k]   (64-bit), out = sat16((acc + 2^14) >> 15)
 *         (taps Q1.15; history starts at zero)
 * State (x/y history, FIR delay line) carries over from block to block; a new run
 * starts from zero. Blocks are 1..DSP_MAX_BLOCK samples, one message each way.
 */
#ifndef DUET_EXAMPLE_DSP_CHAIN_H
#define DUET_EXAMPLE_DSP_CHAIN_H

#include <stdint.h>

#define DSP_MAX_BLOCK 256
#define DSP_FIR_TAPS 16

/* Biquad: 2nd-order low-pass, fc ~ fs/8, Q ~ 0.707 (RBJ cookbook), rounded to Q2.14. */
static const int32_t k_dsp_bq_b[3] = {1600, 3199, 1600};
static const int32_t k_dsp_bq_a[2] = {-15447, 5461}; /* a1, a2 (a0 = 1) */

/* FIR: 16-tap Hamming-windowed sinc low-pass, fc = fs/8, Q1.15 (taps sum to 32768). */
static const int32_t k_dsp_fir[DSP_FIR_TAPS] = {
    -42, -177, -406, -352, 669, 2961, 5846, 7885,
    7885, 5846, 2961, 669, -352, -406, -177, -42,
};

#endif /* DUET_EXAMPLE_DSP_CHAIN_H */
