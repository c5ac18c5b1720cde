/*
 * jitter_loop.h - the measured loop of examples/idf/jitter and its histogram, plain C with
 * no OS and no libc: the SAME source runs as a duet core-1 program and as a FreeRTOS
 * task pinned to core 1, so the two histograms differ only in what interrupts the loop.
 *
 * Each iteration runs a fixed amount of arithmetic (jit_body) and records the CCOUNT
 * cycles since the previous iteration's mark into a histogram: buckets 0..15 hold one
 * value each, above that 8 buckets per power of two (12.5 % wide), up to 2^32.
 */
#ifndef JITTER_LOOP_H
#define JITTER_LOOP_H

#include <stddef.h>
#include <stdint.h>

#define JIT_BUCKETS 240u

typedef struct {
    uint32_t n, min, max;
    uint64_t sum;
    uint32_t bucket[JIT_BUCKETS];
} jit_hist_t;

/** The CPU cycle counter of the calling core (Xtensa CCOUNT). */
static inline uint32_t jit_ccount(void)
{
    uint32_t c;
    __asm__ volatile("rsr.ccount %0" : "=a"(c));
    return c;
}

void jit_hist_reset(jit_hist_t *h);
void jit_hist_add(jit_hist_t *h, uint32_t cycles);
/** Bucket i holds the values [jit_bucket_lo(i), jit_bucket_hi(i)] (inclusive). */
uint32_t jit_bucket_lo(unsigned i);
uint32_t jit_bucket_hi(unsigned i);
/** Upper edge of the bucket that holds the q-th quantile (q = num/den), clamped to the
 *  maximum seen; 0 when empty. */
uint32_t jit_hist_quantile(const jit_hist_t *h, uint32_t num, uint32_t den);

/** The measured loop: 'iters' iterations of jit_body(work) into h. 'hook' (may be NULL)
 *  runs every 1024 iterations outside the measured time (core 1's heartbeat). Returns
 *  the arithmetic's result, so the compiler keeps it. */
uint32_t jit_run(jit_hist_t *h, uint32_t iters, uint32_t work, void (*hook)(void));

/** The hand-over with core 0 through two shared 32-bit words, then the measurement:
 *  calibrate (256 iterations) and publish in *park_cycles how long the run will take
 *  (CCOUNT cycles, with a margin), state = JIT_S_READY; wait for JIT_S_GO from core 0
 *  (calling hook meanwhile); 64 unrecorded iterations; the measured run; JIT_S_DONE. */
enum { JIT_S_IDLE = 0, JIT_S_READY = 1, JIT_S_GO = 2, JIT_S_DONE = 3 };
uint32_t jit_measure(jit_hist_t *h, volatile uint32_t *state, volatile uint32_t *park_cycles,
                     uint32_t iters, uint32_t work, void (*hook)(void));

/** Report lines, the same text on both builds ("JIT <mode> ..."), into buf (NUL-ended).
 *  Summary: n, min, max, mean, p50, p99, p99.9 in cycles. Bucket i: lo, hi, count
 *  (call only for non-empty buckets). */
void jit_format_summary(const jit_hist_t *h, const char *mode, char *buf, size_t cap);
void jit_format_bucket(const jit_hist_t *h, const char *mode, unsigned i, char *buf, size_t cap);

#endif /* JITTER_LOOP_H */
