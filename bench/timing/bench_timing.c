/*
 * bench_timing.c - what duet_rt_loop_mark() costs: host nanoseconds per mark next to a
 * plain read of the cycle counter it starts with (the simulator's duet_rt_cycles:
 * CLOCK_MONOTONIC), and the instruction count of the mark's usual path in an Xtensa
 * build (xt_mark.h, counted by xt_count.sh at build time).
 *
 * The mark is compiled in from sdk/src/rt_timing.c with the same cycle source as the
 * simulator's runtime (sdk/arch/host/arch.c) and a control block in this process.
 * Output: a table, then "MARK_NS <ns>", "READ_NS <ns>" and "XTENSA_MARK_INSNS <n>".
 * Usage: bench_timing [marks per repetition (default 2000000)]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "duet/app.h"
#include "duet/timing.h"
#include "xt_mark.h"

static duet_shm_ctrl_t g_ctrl __attribute__((aligned(64)));

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

duet_shm_ctrl_t *duet_rt_ctrl(void)
{
    return &g_ctrl;
}

/* As sdk/arch/host/arch.c: the simulator's cycles are nanoseconds. */
uint32_t duet_arch_cycles(void)
{
    return (uint32_t)now_ns();
}

#include "../../sdk/src/rt_timing.c"

static volatile uint32_t g_sink;

static double ns_per(void (*fn)(uint32_t), uint32_t n)
{
    uint64_t t0 = now_ns();
    fn(n);
    return (double)(now_ns() - t0) / n;
}

static void run_reads(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        g_sink = duet_arch_cycles();
}

static void run_marks(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        duet_rt_loop_mark();
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 2000000u;
    enum { REPS = 7 };
    double rd[REPS], mk[REPS];
    if (n == 0)
        n = 1;
    duet_rt_loop_period_cycles(1000u);
    run_marks(1000); /* warm up, prime the first mark */
    for (int r = 0; r < REPS; r++) {
        rd[r] = ns_per(run_reads, n);
        mk[r] = ns_per(run_marks, n);
    }
    qsort(rd, REPS, sizeof(rd[0]), cmp);
    qsort(mk, REPS, sizeof(mk[0]), cmp);
    duet_timing_snap_t s;
    if (duet_timing_read(&g_ctrl.sc_timing, &s, 4) != DUET_OK ||
        s.count != (uint64_t)REPS * n + 999u) {
        fprintf(stderr, "bench_timing: the histogram did not count every mark\n");
        return 1;
    }
    printf("host, median of %d x %u calls (min..max):\n", REPS, (unsigned)n);
    printf("  %-44s %6.1f ns  (%.1f..%.1f)\n", "cycle read (duet_rt_cycles, CLOCK_MONOTONIC)",
           rd[REPS / 2], rd[0], rd[REPS - 1]);
    printf("  %-44s %6.1f ns  (%.1f..%.1f)\n", "duet_rt_loop_mark()", mk[REPS / 2], mk[0],
           mk[REPS - 1]);
    printf("  %-44s %6.1f ns\n", "  of which histogram update", mk[REPS / 2] - rd[REPS / 2]);
    if (XT_MARK_TOOL != 0)
        printf("xtensa (%s):\n  duet_rt_loop_mark usual path: %d instructions (%d MEMW, "
               "incl. entry/return), function %d\n",
               (const char *)XT_MARK_TOOL, XT_MARK_PATH, XT_MARK_MEMW, XT_MARK_TOTAL);
    else
        printf("xtensa: no cross compiler on PATH, instruction count skipped\n");
    printf("READ_NS %.1f\nMARK_NS %.1f\nXTENSA_MARK_INSNS %d\n", rd[REPS / 2], mk[REPS / 2],
           XT_MARK_PATH);
    return 0;
}
