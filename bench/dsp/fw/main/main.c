/*
 * main.c - the DSP kernel's cost on the ESP32-S3 model, core 0, interrupts off.
 *
 * -icount shift=3 and the model's 40 MHz CCOUNT make one tick 3.125 instructions
 * (docs/benchmarks.md, "How the model keeps time"); the same calibration loop as
 * bench/target (bench_proto.h) is measured first and its ratio used. Then 100 blocks of
 * 64 stereo frames of the generated signal through each kernel build, one CCOUNT pair
 * per block; every output is compared with the PC reference run here too.
 *
 *   DSPBENCH calib insn=N ticks=T insn_per_tick=R
 *   DSPBENCH kernel-Os samples=S ticks=T insn_per_sample=X min_block_insn=B mismatches=M
 *   DSPBENCH done
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench_proto.h"
#include "dsp_kernel.h"
#include "dsp_ref.h"
#include "dsp_signal.h"

#define BLOCKS 100
#define FRAMES DSP_BLOCK_FRAMES
#define N      (BLOCKS * FRAMES * DSP_CHANNELS)

void dsp_kernel_reset_o2(dsp_kernel_t *k);
void dsp_kernel_run_o2(dsp_kernel_t *k, const int16_t *in, int16_t *out, unsigned frames);

typedef void (*run_fn)(dsp_kernel_t *, const int16_t *, int16_t *, unsigned);
typedef void (*reset_fn)(dsp_kernel_t *);

static int16_t s_in[N], s_out[N], s_want[N];
static dsp_kernel_t s_k;
static dsp_ref_t s_ref;

static inline uint32_t ccount(void)
{
    uint32_t c;
    __asm__ volatile("rsr %0, ccount" : "=a"(c));
    return c;
}

static void measure(const char *name, reset_fn reset, run_fn run, double ipt)
{
    uint32_t total = 0, best = UINT32_MAX, ps;
    reset(&s_k);
    memset(s_out, 0, sizeof s_out);
    __asm__ volatile("rsil %0, 15" : "=a"(ps) : : "memory");
    for (unsigned b = 0; b < BLOCKS; b++) {
        const unsigned o = b * FRAMES * DSP_CHANNELS;
        uint32_t t0 = ccount();
        run(&s_k, &s_in[o], &s_out[o], FRAMES);
        uint32_t t = ccount() - t0;
        total += t;
        best = t < best ? t : best;
    }
    __asm__ volatile("wsr %0, ps\n\trsync" : : "a"(ps) : "memory");
    unsigned bad = 0;
    for (unsigned i = 0; i < N; i++)
        bad += s_out[i] != s_want[i];
    printf("DSPBENCH kernel%s samples=%u ticks=%u insn_per_sample=%.1f min_block_insn=%.0f "
           "mismatches=%u\n",
           name, (unsigned)N, (unsigned)total, total * ipt / N, best * ipt, bad);
}

void app_main(void)
{
    const uint32_t loops = 1000000;
    uint32_t ticks = bench_calib_loop(loops);
    double ipt = (2.0 * loops + 1) / ticks;
    printf("DSPBENCH calib insn=%u ticks=%u insn_per_tick=%.4f\n", (unsigned)(2 * loops + 1),
           (unsigned)ticks, ipt);
    dsp_signal_t g;
    dsp_signal_init(&g, DSP_SIGNAL_SEED);
    dsp_signal_block(&g, s_in, BLOCKS * FRAMES);
    dsp_ref_reset(&s_ref);
    dsp_ref_block(&s_ref, s_in, s_want, BLOCKS * FRAMES);
    measure("-Os", dsp_kernel_reset, dsp_kernel_run, ipt);
    measure("-O2", dsp_kernel_reset_o2, dsp_kernel_run_o2, ipt);
    printf("DSPBENCH done\n");
    fflush(stdout);
}
