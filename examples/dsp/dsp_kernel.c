/*
 * dsp_kernel.c - see dsp_kernel.h. Organised for the core-1 loop, not for reading: the
 * plain version of the same arithmetic is dsp_ref.c, and the tests hold the two equal.
 *
 * Per channel: the block is widened into the work area at the end of the FIR line,
 * each biquad then runs over the whole block with its coefficients and history in
 * locals (written back once), and the FIR folds its symmetric taps (h[k] == h[31-k]:
 * one multiply per pair; tests/dsp checks the symmetry) before sliding the line.
 * Floor division by 2^s is a shift of acc + 2^62 as an unsigned value (>> of a negative
 * number is implementation-defined); |acc| < 2^57 (dsp_chain.h) keeps that positive.
 */
#include "dsp_kernel.h"

#include <string.h>

#define BIAS ((uint64_t)1 << 62)

static inline int32_t round_sat(int64_t acc, unsigned sh, int32_t lo, int32_t hi)
{
    uint64_t u = (uint64_t)acc + BIAS + ((uint64_t)1 << (sh - 1));
    int64_t v = (int64_t)(u >> sh) - (int64_t)(BIAS >> sh);
    return v > hi ? hi : v < lo ? lo : (int32_t)v;
}

void dsp_kernel_reset(dsp_kernel_t *k)
{
    memset(k, 0, sizeof *k);
}

static void biquad(int32_t st[5], const int32_t c[5], int32_t *w, unsigned n)
{
    const int32_t b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[3], a2 = c[4];
    const uint64_t frac = ((uint64_t)1 << DSP_BQ_SHIFT) - 1u;
    int32_t x1 = st[0], x2 = st[1], y1 = st[2], y2 = st[3];
    uint32_t e = (uint32_t)st[4];
    for (unsigned i = 0; i < n; i++) {
        int32_t x0 = w[i];
        int64_t acc = (int64_t)b0 * x0 + (int64_t)b1 * x1 + (int64_t)b2 * x2 - (int64_t)a1 * y1 -
                      (int64_t)a2 * y2;
        /* BIAS is a multiple of 2^28: the low bits of u are acc's remainder mod 2^28. */
        uint64_t u = (uint64_t)acc + BIAS + e;
        e = (uint32_t)(u & frac);
        int64_t q = (int64_t)(u >> DSP_BQ_SHIFT) - (int64_t)(BIAS >> DSP_BQ_SHIFT);
        int32_t y0 = q > DSP_S24_MAX ? DSP_S24_MAX : q < DSP_S24_MIN ? DSP_S24_MIN : (int32_t)q;
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
        out[i * DSP_CHANNELS] = (int16_t)round_sat(acc, DSP_FIR_SHIFT, INT16_MIN, INT16_MAX);
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
        for (unsigned b = 0; b < DSP_BIQUADS; b++)
            biquad(s->bq[b], k_dsp_biquad[b], w, frames);
        fir(s->line, &out[c], frames);
        memmove(s->line, &s->line[frames], (DSP_FIR_TAPS - 1) * sizeof s->line[0]);
    }
}
