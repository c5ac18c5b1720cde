/*
 * dsp_ref.c - see dsp_ref.h. Plain on purpose: histories shifted by hand, floor division
 * with an explicit correction (C's / truncates toward zero), clamps written out.
 */
#include "dsp_ref.h"

#include <string.h>

static int64_t floor_div(int64_t a, int64_t d)
{
    int64_t q = a / d;
    if (a % d != 0 && a < 0)
        q = q - 1;
    return q;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return v;
}

void dsp_ref_reset(dsp_ref_t *r)
{
    memset(r, 0, sizeof *r);
}

int16_t dsp_ref_sample(dsp_ref_chan_t *c, int16_t in)
{
    int64_t s = (int64_t)in * 256; /* 2^DSP_IN_SHIFT */
    for (int k = 0; k < DSP_BIQUADS; k++) {
        const int32_t *q = k_dsp_biquad[k];
        c->x[k][2] = c->x[k][1];
        c->x[k][1] = c->x[k][0];
        c->x[k][0] = s;
        c->y[k][2] = c->y[k][1];
        c->y[k][1] = c->y[k][0];
        int64_t acc = q[0] * c->x[k][0] + q[1] * c->x[k][1] + q[2] * c->x[k][2] -
                      q[3] * c->y[k][1] - q[4] * c->y[k][2] + c->e[k];
        int64_t y = floor_div(acc, 268435456); /* 2^28 */
        c->e[k] = acc - y * 268435456;
        c->y[k][0] = clamp(y, -8388608, 8388607);
        s = c->y[k][0];
    }
    for (int k = DSP_FIR_TAPS - 1; k > 0; k--)
        c->fir[k] = c->fir[k - 1];
    c->fir[0] = s;
    int64_t acc = 0;
    for (int k = 0; k < DSP_FIR_TAPS; k++)
        acc = acc + k_dsp_fir[k] * c->fir[k];
    return (int16_t)clamp(floor_div(acc + 4194304, 8388608), -32768, 32767); /* 2^22, 2^23 */
}

void dsp_ref_block(dsp_ref_t *r, const int16_t *in, int16_t *out, unsigned frames)
{
    for (unsigned i = 0; i < frames; i++)
        for (int ch = 0; ch < DSP_CHANNELS; ch++)
            out[i * DSP_CHANNELS + ch] = dsp_ref_sample(&r->ch[ch], in[i * DSP_CHANNELS + ch]);
}
