/*
 * bench_dsp - cost of the dsp example's core-1 kernel (examples/dsp/dsp_kernel.c:
 * 4 biquads + 32-tap FIR per channel, 48 kHz stereo, 64-frame blocks).
 *
 *   host:   ns per sample (median of the repetitions over 10 s of the generated
 *           signal) for the kernel and the plain reference, outputs compared;
 *           instructions per sample from callgrind (valgrind on PATH; deterministic)
 *   Xtensa: bench_dsp_xtensa.sh (ESP32-S3 tools on PATH: `source /opt/idf-env.sh`)
 *           builds bench/dsp/fw and counts instructions on the QEMU esp32s3 model;
 *           without the tools one line says so.
 *
 * "Sample" = one channel's sample (a stereo frame is two). Usage: bench_dsp [reps].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dsp_kernel.h"
#include "dsp_ref.h"
#include "dsp_signal.h"

#define FRAMES    (10 * DSP_RATE_HZ)
#define SAMPLES   (FRAMES * DSP_CHANNELS)
#define CG_FRAMES DSP_RATE_HZ /* 1 s under callgrind */

static dsp_kernel_t s_k;
static dsp_ref_t s_r;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void run_kernel(const int16_t *in, int16_t *out, unsigned frames)
{
    dsp_kernel_reset(&s_k);
    for (unsigned i = 0; i < frames; i += DSP_BLOCK_FRAMES)
        dsp_kernel_run(&s_k, &in[i * DSP_CHANNELS], &out[i * DSP_CHANNELS], DSP_BLOCK_FRAMES);
}

static void run_ref(const int16_t *in, int16_t *out, unsigned frames)
{
    dsp_ref_reset(&s_r);
    for (unsigned i = 0; i < frames; i += DSP_BLOCK_FRAMES)
        dsp_ref_block(&s_r, &in[i * DSP_CHANNELS], &out[i * DSP_CHANNELS], DSP_BLOCK_FRAMES);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef void (*runner_t)(const int16_t *, int16_t *, unsigned);

/* Median and minimum ns per sample over 'reps' passes over the whole signal. */
static void ns_per_sample(runner_t run, const int16_t *in, int16_t *out, unsigned reps,
                          double *median, double *min)
{
    uint64_t t[64];
    reps = reps > 64 ? 64 : reps;
    for (unsigned r = 0; r < reps; r++) {
        uint64_t t0 = now_ns();
        run(in, out, FRAMES);
        t[r] = now_ns() - t0;
    }
    qsort(t, reps, sizeof t[0], cmp_u64);
    *median = (double)t[reps / 2] / SAMPLES;
    *min = (double)t[0] / SAMPLES;
}

/* Instructions inside dsp_kernel_run (callgrind --toggle-collect) for CG_FRAMES frames;
 * 0 if valgrind is missing or failed. */
static uint64_t callgrind_insn(const char *self)
{
    if (system("command -v valgrind >/dev/null 2>&1") != 0)
        return 0;
    char out[] = "/tmp/bench_dsp_cg_XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0)
        return 0;
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=callgrind --callgrind-out-file=%s --toggle-collect=dsp_kernel_run "
             "%s --callgrind-child >/dev/null 2>&1",
             out, self);
    uint64_t insn = 0;
    if (system(cmd) == 0) {
        FILE *f = fopen(out, "r");
        char line[256];
        unsigned long long v = 0;
        while (f != NULL && fgets(line, sizeof line, f) != NULL)
            if (sscanf(line, "totals: %llu", &v) == 1 || sscanf(line, "summary: %llu", &v) == 1) {
                insn = v;
                break;
            }
        if (f != NULL)
            fclose(f);
    }
    unlink(out);
    return insn;
}

static void xtensa_figure(void)
{
    if (system("command -v xtensa-esp32s3-elf-gcc >/dev/null 2>&1 && "
               "command -v qemu-system-xtensa >/dev/null 2>&1 && "
               "command -v idf.py >/dev/null 2>&1") != 0) {
        printf("xtensa: the ESP32-S3 figure needs xtensa-esp32s3-elf-gcc, qemu-system-xtensa "
               "(esp32s3) and idf.py on PATH (source /opt/idf-env.sh, or ESP-IDF's export.sh); "
               "not measured\n");
        return;
    }
    fflush(stdout);
    if (system("bash " DUET_ROOT "/bench/dsp/bench_dsp_xtensa.sh " BENCH_DIR) != 0)
        printf("xtensa: bench_dsp_xtensa.sh failed (logs in " BENCH_DIR "/logs)\n");
}

int main(int argc, char **argv)
{
    static int16_t in[SAMPLES], out[SAMPLES], want[SAMPLES];
    dsp_signal_t g;
    dsp_signal_init(&g, DSP_SIGNAL_SEED);
    dsp_signal_block(&g, in, FRAMES);
    if (argc > 1 && strcmp(argv[1], "--callgrind-child") == 0) {
        run_kernel(in, out, CG_FRAMES);
        return 0;
    }
    unsigned reps = argc > 1 ? (unsigned)atoi(argv[1]) : 9;
    reps = reps == 0 ? 9 : reps;
    run_kernel(in, out, FRAMES); /* warm-up, and the outputs to compare */
    run_ref(in, want, FRAMES);
    if (memcmp(out, want, sizeof out) != 0) {
        printf("dsp: MISMATCH between the kernel and the reference\n");
        return 1;
    }
    double k, kmin, r, rmin;
    ns_per_sample(run_kernel, in, out, reps, &k, &kmin);
    ns_per_sample(run_ref, in, want, reps < 3 ? reps : 3, &r, &rmin);
    uint64_t insn = callgrind_insn(argv[0]);
    printf("dsp kernel: 4 biquads + %d-tap FIR, 48 kHz stereo, %d-frame blocks, %u reps over "
           "10 s of signal; outputs identical\n",
           DSP_FIR_TAPS, DSP_BLOCK_FRAMES, reps);
    printf("host kernel     %8.2f ns/sample (median; min %.2f) = %.2f %% of one CPU for 48 kHz "
           "stereo\n",
           k, kmin, k * 2 * DSP_RATE_HZ / 1e7);
    printf("host reference  %8.2f ns/sample (median of %u; min %.2f)\n", r, reps < 3 ? reps : 3,
           rmin);
    if (insn != 0)
        printf("host kernel     %8.1f instructions/sample (callgrind, %d samples)\n",
               (double)insn / (CG_FRAMES * DSP_CHANNELS), CG_FRAMES * DSP_CHANNELS);
    else
        printf("host kernel     instructions/sample: needs valgrind on PATH (callgrind)\n");
    printf("RATIO dsp_kernel_vs_reference_time %.3f\n", k / r);
    xtensa_figure();
    return 0;
}
