/*
 * dsp_chain.h - the signal chain of the dsp example, as a SPECIFICATION: the core-1
 * kernel (dsp_kernel.c, block-wise, tuned) and the PC reference (dsp_ref.c, one sample
 * at a time, written plainly) implement it independently, and core 0 compares their
 * outputs bit for bit.
 *
 * Audio: 48 kHz, 16-bit, stereo, interleaved frames (L, R). Both channels run the same
 * chain with their own state:
 *
 *   in (int16) -> s = in * 2^8 (24-bit working range, 8 bits of headroom/precision)
 *      -> HP 40 Hz -> peak +6 dB 250 Hz -> peak -4 dB 3 kHz -> LP 15 kHz  (biquads)
 *      -> 32-tap FIR low-pass 16 kHz -> out (int16)
 *
 * Biquad k (direct form I with first-order error feedback; coefficients b0 b1 b2 a1 a2
 * in Q4.28, a0 = 1; e = the section's quantisation remainder, 0 <= e < 2^28):
 *   acc  = b0*x[n] + b1*x[n-1] + b2*x[n-2] - a1*y[n-1] - a2*y[n-2] + e[n-1]  (exact)
 *   q    = floor(acc / 2^28),  e[n] = acc - q * 2^28,  y[n] = sat24(q)
 *   x[] of section k+1 is y[] of section k. sat24 clamps to [-2^23, 2^23 - 1].
 *   Why the remainder is carried: the 40 Hz high-pass has its poles next to z = 1
 *   (1 + a1 + a2 = 2.7e-5), so plain rounding leaves a DC offset of up to ~70 LSB at
 *   the output; with the remainder fed back the quantisation error has a zero at DC and
 *   a step input settles to exactly 0.
 * FIR (taps Q1.15, h[0] applies to the newest sample; sum of taps = 2^15):
 *   acc  = sum_{k=0}^{31} h[k] * y4[n-k]                                (exact, 64-bit)
 *   out  = sat16(floor((acc + 2^22) / 2^23))      (Q15 taps and the 2^8 scale undone)
 * Bounds: |x|, |y| <= 2^23, |coef| < 2^31, e < 2^28 keep every biquad sum below 2^57, the
 * FIR sum below 2^43, so no intermediate overflows int64 in any order of summation.
 * State (x/y histories, remainders, the FIR line) starts at zero and carries over from block
 * to block; "floor" is mathematical floor (C's / truncates, >> of a negative number is
 * implementation-defined: both implementations avoid relying on either).
 *
 * Coefficients: RBJ audio-EQ cookbook designs (Q 0.7071, 1.0, 2.0, 0.7071 for the four
 * sections) and a Hamming-windowed sinc FIR, computed in double precision and rounded
 * once; the integers below ARE the chain (nothing is recomputed at run time).
 */
#ifndef DUET_EXAMPLE_DSP_CHAIN_H
#define DUET_EXAMPLE_DSP_CHAIN_H

#include <stdint.h>

#define DSP_RATE_HZ      48000
#define DSP_CHANNELS     2   /* interleaved L, R */
#define DSP_BLOCK_FRAMES 64  /* the pipeline's block: 64 / 48000 s = 1.333 ms */
#define DSP_MAX_FRAMES   128 /* largest block the kernel accepts */
#define DSP_BIQUADS      4
#define DSP_FIR_TAPS     32
#define DSP_IN_SHIFT     8  /* int16 -> 24-bit working samples */
#define DSP_BQ_SHIFT     28 /* biquad coefficients Q4.28 */
#define DSP_FIR_SHIFT    23 /* 15 (taps) + 8 (DSP_IN_SHIFT) */
#define DSP_S24_MAX      8388607
#define DSP_S24_MIN      (-8388608)

/* {b0, b1, b2, a1, a2} per section, Q4.28. */
static const int32_t k_dsp_biquad[DSP_BIQUADS][5] = {
    {267443428, -534886856, 267443428, -534883190, 266455066}, /* high-pass 40 Hz */
    {271494232, -530440083, 259230008, -530440083, 262288784}, /* peak 250 Hz +6 dB */
    {257786512, -442685866, 221373217, -442685866, 210724273}, /* peak 3 kHz -4 dB */
    {112249443, 224498886, 112249443, 124268509, 56293807},    /* low-pass 15 kHz */
};

/* Low-pass 16 kHz (fs / 3: every third tap is zero), linear phase, sum = 32768. */
static const int16_t k_dsp_fir[DSP_FIR_TAPS] = {
    47,    -56,  0, 117,   -175, 0, 361,  -499, 0, 910,  -1218, 0, 2292, -3401, 0, 18006, 18006, 0,
    -3401, 2292, 0, -1218, 910,  0, -499, 361,  0, -175, 117,   0, -56,  47,
};

#endif /* DUET_EXAMPLE_DSP_CHAIN_H */
