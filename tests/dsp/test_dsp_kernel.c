/*
 * test_dsp_kernel.c - the core-1 DSP kernel (examples/dsp/dsp_kernel.c) against the
 * plain PC reference (dsp_ref.c) on unit vectors: impulse (both signs), step, full-scale
 * square (saturation), silence, the generated test signal in blocks of every size
 * 1..128, in place. The first 40 samples of both impulse responses also come from a
 * third implementation of dsp_chain.h (Python integers, floor division), so a spec
 * mistake shared by kernel and reference shows too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "dsp_kernel.h"
#include "dsp_ref.h"
#include "dsp_signal.h"

#define MAXN 48000 /* frames per vector: 1 s */

static int16_t s_in[MAXN * DSP_CHANNELS], s_ker[MAXN * DSP_CHANNELS], s_ref[MAXN * DSP_CHANNELS];
static dsp_kernel_t s_k;
static dsp_ref_t s_r;

/* Both implementations over s_in[0..frames), the kernel in blocks of 'block' frames. */
static void run_both(unsigned frames, unsigned block)
{
    dsp_kernel_reset(&s_k);
    dsp_ref_reset(&s_r);
    for (unsigned i = 0; i < frames; i += block) {
        unsigned n = frames - i < block ? frames - i : block;
        dsp_kernel_run(&s_k, &s_in[i * DSP_CHANNELS], &s_ker[i * DSP_CHANNELS], n);
    }
    dsp_ref_block(&s_r, s_in, s_ref, frames);
}

static unsigned count_full_scale(const int16_t *v, unsigned n)
{
    unsigned c = 0;
    for (unsigned i = 0; i < n; i++)
        c += v[i] == INT16_MAX || v[i] == INT16_MIN;
    return c;
}

static void test_fir_taps_are_symmetric(void **state)
{
    (void)state;
    /* The kernel folds tap pairs (h[k] == h[31-k]); the reference does not. */
    long sum = 0;
    for (unsigned k = 0; k < DSP_FIR_TAPS; k++) {
        assert_int_equal(k_dsp_fir[k], k_dsp_fir[DSP_FIR_TAPS - 1 - k]);
        sum += k_dsp_fir[k];
    }
    assert_int_equal(sum, 32768);
}

static void test_biquad_shapes_the_kernel_folds(void **state)
{
    (void)state;
    /* dsp_kernel.c folds shared coefficients: sections 0 and 3 (high-/low-pass) have
     * b2 == b0 and b1 == -2 b0 / +2 b0, sections 1 and 2 (peaks) b1 == a1. */
    for (unsigned s = 0; s < DSP_BIQUADS; s += 3) {
        const int32_t *c = k_dsp_biquad[s];
        assert_int_equal(c[2], c[0]);
        assert_true((int64_t)c[1] == 2 * (int64_t)c[0] || (int64_t)c[1] == -2 * (int64_t)c[0]);
    }
    assert_int_equal(k_dsp_biquad[0][1], -2 * k_dsp_biquad[0][0]); /* high-pass */
    assert_int_equal(k_dsp_biquad[3][1], 2 * k_dsp_biquad[3][0]);  /* low-pass */
    assert_int_equal(k_dsp_biquad[1][1], k_dsp_biquad[1][3]);
    assert_int_equal(k_dsp_biquad[2][1], k_dsp_biquad[2][3]);
}

static void test_impulse_matches_golden_both_signs(void **state)
{
    (void)state;
    static const int16_t pos[40] = {19,    5,     -34,   40,    11,    -109,  128,   52,
                                    -314,  311,   160,   -772,  782,   265,   -2140, 6893,
                                    18616, 9913,  -5256, -3474, 2300,  -129,  -954,  792,
                                    -340,  -1282, -1078, -1898, -2610, -2762, -3184, -3493,
                                    -3553, -3667, -3739, -3745, -3772, -3814, -3874, -3962};
    static const int16_t neg[40] = {
        -19,  -5,    34,     -40,   -11,  109,  -128,  -52,  314,  -311, -160, 772,  -782, -265,
        2140, -6893, -18616, -9911, 5258, 3477, -2296, 134,  960,  -785, 347,  1290, 1087, 1908,
        2620, 2774,  3196,   3506,  3566, 3681, 3754,  3760, 3788, 3830, 3890, 3979};
    memset(s_in, 0, sizeof s_in);
    s_in[0] = 32767;  /* L: positive impulse */
    s_in[1] = -32768; /* R: negative impulse (floor rounding is not symmetric) */
    run_both(4096, DSP_BLOCK_FRAMES);
    for (unsigned i = 0; i < 40; i++) {
        assert_int_equal(s_ref[2 * i], pos[i]);
        assert_int_equal(s_ref[2 * i + 1], neg[i]);
    }
    assert_memory_equal(s_ker, s_ref, 4096 * DSP_CHANNELS * sizeof s_ker[0]);
}

static void test_step_settles_to_zero(void **state)
{
    (void)state;
    for (unsigned i = 0; i < MAXN; i++) {
        s_in[2 * i] = 20000;
        s_in[2 * i + 1] = -20000;
    }
    run_both(MAXN, DSP_BLOCK_FRAMES);
    assert_memory_equal(s_ker, s_ref, sizeof s_ker);
    /* The 40 Hz high-pass removes DC, and with the remainder fed back no offset is
     * left (plain rounding would leave ~70 LSB, dsp_chain.h): exactly 0 after 0.1 s. */
    for (unsigned i = MAXN / 10; i < MAXN; i++) {
        assert_int_equal(s_ref[2 * i], 0);
        assert_int_equal(s_ref[2 * i + 1], 0);
    }
    assert_true(s_ref[2 * 40] > 10000); /* and it did pass the edge */
}

static void test_full_scale_square_saturates_identically(void **state)
{
    (void)state;
    /* 250 Hz full-scale square: the +6 dB section overshoots 24 bits, the output clips. */
    for (unsigned i = 0; i < MAXN; i++) {
        int16_t v = (i / 96) % 2 == 0 ? INT16_MAX : INT16_MIN;
        s_in[2 * i] = v;
        s_in[2 * i + 1] = (int16_t)(v == INT16_MAX ? INT16_MIN : INT16_MAX);
    }
    run_both(MAXN, DSP_BLOCK_FRAMES);
    assert_memory_equal(s_ker, s_ref, sizeof s_ker);
    assert_true(count_full_scale(s_ref, MAXN * DSP_CHANNELS) > 1000);
}

static void test_silence_stays_silent(void **state)
{
    (void)state;
    memset(s_in, 0, sizeof s_in);
    memset(s_ker, 0x55, sizeof s_ker);
    run_both(MAXN, DSP_BLOCK_FRAMES);
    for (unsigned i = 0; i < MAXN * DSP_CHANNELS; i++)
        assert_int_equal(s_ker[i], 0);
    assert_memory_equal(s_ker, s_ref, sizeof s_ker);
}

static void test_signal_every_block_size_and_in_place(void **state)
{
    (void)state;
    dsp_signal_t g;
    dsp_signal_init(&g, DSP_SIGNAL_SEED);
    dsp_signal_block(&g, s_in, MAXN);
    unsigned frames = 0;
    dsp_kernel_reset(&s_k);
    memcpy(s_ker, s_in, sizeof s_in);
    for (unsigned n = 1; frames + n <= MAXN && n <= DSP_MAX_FRAMES; n++) { /* in place */
        dsp_kernel_run(&s_k, &s_ker[frames * DSP_CHANNELS], &s_ker[frames * DSP_CHANNELS], n);
        frames += n;
    }
    dsp_ref_reset(&s_r);
    dsp_ref_block(&s_r, s_in, s_ref, frames);
    assert_memory_equal(s_ker, s_ref, frames * DSP_CHANNELS * sizeof s_ker[0]);
    /* Out-of-range block sizes are refused without touching anything. */
    int16_t guard[2 * (DSP_MAX_FRAMES + 1)] = {0};
    memset(guard, 0x7F, sizeof guard);
    dsp_kernel_run(&s_k, guard, guard, 0);
    dsp_kernel_run(&s_k, guard, guard, DSP_MAX_FRAMES + 1);
    for (unsigned i = 0; i < sizeof guard / sizeof guard[0]; i++)
        assert_int_equal((uint16_t)guard[i], 0x7F7F);
}

static void test_signal_is_deterministic_and_clips(void **state)
{
    (void)state;
    dsp_signal_t a, b;
    dsp_signal_init(&a, DSP_SIGNAL_SEED);
    dsp_signal_init(&b, DSP_SIGNAL_SEED);
    dsp_signal_block(&a, s_in, 1000);
    for (unsigned i = 0; i < 1000; i += 10)
        dsp_signal_block(&b, &s_ker[i * DSP_CHANNELS], 10);
    assert_memory_equal(s_in, s_ker, 1000 * DSP_CHANNELS * sizeof s_in[0]);
    /* 2 s in: the first burst (starts at frame 0) clips the input. */
    assert_true(count_full_scale(s_in, 1000 * DSP_CHANNELS) > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fir_taps_are_symmetric),
        cmocka_unit_test(test_biquad_shapes_the_kernel_folds),
        cmocka_unit_test(test_impulse_matches_golden_both_signs),
        cmocka_unit_test(test_step_settles_to_zero),
        cmocka_unit_test(test_full_scale_square_saturates_identically),
        cmocka_unit_test(test_silence_stays_silent),
        cmocka_unit_test(test_signal_every_block_size_and_in_place),
        cmocka_unit_test(test_signal_is_deterministic_and_clips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
