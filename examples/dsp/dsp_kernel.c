/*
 * dsp_kernel.c - see dsp_kernel.h. Organised for the core-1 loop, not for reading: the
 * plain version of the same arithmetic is dsp_ref.c, and the tests hold the two equal.
 *
 * Per channel: the block is widened into the work area at the end of the FIR line,
 * each biquad then runs over the whole block with its coefficients and history in
 * locals (written back once) and its shape's shared coefficients folded (high-/low-
 * pass: b0 (x0 + k x1 + x2); peak: a1 (x1 - y1)), and the FIR folds its symmetric taps
 * (h[k] == h[31-k]: one multiply per pair; tests/dsp checks both) before sliding the line.
 * Floor division by 2^s is a shift of acc + 2^62 as an unsigned value (>> of a negative
 * number is implementation-defined); |acc| < 2^57 (dsp_chain.h) keeps that positive.
 */
#include "dsp_kernel.h"

#include <string.h>

#define BIAS ((uint64_t)1 << 62)

/* (int32_t)v without the implementation-defined conversion of values above INT32_MAX
 * (compilers turn this into nothing). */
static inline int32_t as_signed(uint32_t v)
{
    return v <= (uint32_t)INT32_MAX ? (int32_t)v : -(int32_t)~v - 1;
}

/* floor(acc / 2^sh) from u = acc + BIAS, for |acc| < 2^(sh + 31): the low 32 bits of
 * u >> sh (BIAS >> sh is a multiple of 2^32 for sh <= 30), so the saturation after it
 * runs on 32-bit words (Xtensa: one MIN and one MAX). */
static inline int32_t floor_shift(uint64_t u, unsigned sh)
{
    return as_signed((uint32_t)(u >> sh));
}

/* Round half up by 2^sh and saturate to 16 bits, in 64 bits (cheaper here than the
 * 32-bit form: the FIR loop keeps its registers). */
static inline int32_t round_sat16(int64_t acc, unsigned sh)
{
    uint64_t u = (uint64_t)acc + BIAS + ((uint64_t)1 << (sh - 1));
    int64_t v = (int64_t)(u >> sh) - (int64_t)(BIAS >> sh);
    return v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : (int32_t)v;
}

/* Quantise acc (floor by 2^28, remainder kept in *e) and saturate to 24 bits. BIAS is a
 * multiple of 2^28, so the low bits of u are acc's remainder mod 2^28. */
static inline int32_t quantise(int64_t acc, uint32_t *e)
{
    uint64_t u = (uint64_t)acc + BIAS + *e;
    *e = (uint32_t)u & ((1u << DSP_BQ_SHIFT) - 1u);
    int32_t q = floor_shift(u, DSP_BQ_SHIFT);
    return q > DSP_S24_MAX ? DSP_S24_MAX : q < DSP_S24_MIN ? DSP_S24_MIN : q;
}

void dsp_kernel_reset(dsp_kernel_t *k)
{
    memset(k, 0, sizeof *k);
}

/* High-pass / low-pass shape: b2 == b0 and b1 == k * b0 with k = -2 or 2 (exact integer
 * identities of the coefficients, tests/dsp checks them), so the three feed-forward
 * products are one: b0 * (x0 + k x1 + x2). Fewer products and fewer live registers. */
static void biquad_sym(int32_t st[5], const int32_t c[5], int32_t *w, unsigned n)
{
    const int32_t b0 = c[0], k = c[1] < 0 ? -2 : 2, a1 = c[3], a2 = c[4];
    int32_t x1 = st[0], x2 = st[1], y1 = st[2], y2 = st[3];
    uint32_t e = (uint32_t)st[4];
    for (unsigned i = 0; i < n; i++) {
        int32_t x0 = w[i];
        int64_t acc = (int64_t)b0 * (x0 + k * x1 + x2) - (int64_t)a1 * y1 - (int64_t)a2 * y2;
        int32_t y0 = quantise(acc, &e);
        x2 = x1;
        x1 = x0;
        y2 = y1;
        y1 = y0;
        w[i] = y0;
    }
    st[0] = x1;
    st[1] = x2;
    st[2] = y1;
    st[3] = y2;
    st[4] = (int32_t)e;
}

/* Peaking shape: b1 == a1 (RBJ peaking EQ), so b1 x1 - a1 y1 = a1 (x1 - y1). */
static void biquad_peak(int32_t st[5], const int32_t c[5], int32_t *w, unsigned n)
{
    const int32_t b0 = c[0], b2 = c[2], a1 = c[3], a2 = c[4];
    int32_t x1 = st[0], x2 = st[1], y1 = st[2], y2 = st[3];
    uint32_t e = (uint32_t)st[4];
    for (unsigned i = 0; i < n; i++) {
        int32_t x0 = w[i];
        int64_t acc =
            (int64_t)b0 * x0 + (int64_t)b2 * x2 + (int64_t)a1 * (x1 - y1) - (int64_t)a2 * y2;
        int32_t y0 = quantise(acc, &e);
        x2 = x1;
        x1 = x0;
        y2 = y1;
        y1 = y0;
        w[i] = y0;
    }
    st[0] = x1;
    st[1] = x2;
    st[2] = y1;
    st[3] = y2;
    st[4] = (int32_t)e;
}

static void fir(const int32_t *line, int16_t *out, unsigned n)
{
    enum { T = DSP_FIR_TAPS, H = DSP_FIR_TAPS / 2 };
    for (unsigned i = 0; i < n; i++) {
        const int32_t *p = &line[i]; /* p[T - 1] is the newest sample, weight h[0] */
        int64_t acc = 0;
        for (unsigned j = 0; j < H; j++)
            acc += (int64_t)k_dsp_fir[j] * (p[T - 1 - j] + p[j]);
        out[i * DSP_CHANNELS] = (int16_t)round_sat16(acc, DSP_FIR_SHIFT);
    }
}

void dsp_kernel_run(dsp_kernel_t *k, const int16_t *in, int16_t *out, unsigned frames)
{
    if (frames == 0 || frames > DSP_MAX_FRAMES)
        return;
    for (unsigned c = 0; c < DSP_CHANNELS; c++) {
        dsp_kernel_chan_t *s = &k->ch[c];
        int32_t *w = &s->line[DSP_FIR_TAPS - 1];
        for (unsigned i = 0; i < frames; i++)
            w[i] = in[i * DSP_CHANNELS + c] * (1 << DSP_IN_SHIFT); /* no << of negatives */
        biquad_sym(s->bq[0], k_dsp_biquad[0], w, frames);          /* high-pass */
        biquad_peak(s->bq[1], k_dsp_biquad[1], w, frames);         /* peak */
        biquad_peak(s->bq[2], k_dsp_biquad[2], w, frames);         /* peak */
        biquad_sym(s->bq[3], k_dsp_biquad[3], w, frames);          /* low-pass */
        fir(s->line, &out[c], frames);
        memmove(s->line, &s->line[frames], (DSP_FIR_TAPS - 1) * sizeof s->line[0]);
    }
}
