/*
 * bench_ring.c - duet SPSC ring vs Concurrency Kit ck_ring, same machine, same run.
 *
 *   throughput  one producer thread and one consumer thread, pinned to two different
 *               CPUs, move N messages of 16 B, 64 B and 1 KiB; messages/s and MB/s.
 *   latency     ping-pong of 16-byte messages over two rings (one per direction);
 *               round-trip p50 / p99 in ns.
 *
 * Fairness rules (keep them when changing this file):
 *  - same bytes copied: duet_ring_send/recv (copy API) vs ck_ring's type-specialised SPSC
 *    functions (CK_RING_PROTOTYPE) on a struct of the message size;
 *  - same capacity: 64 KiB of ring for throughput, 4 KiB per direction for latency;
 *  - same loop shape: the loops are generated from one macro per size, so both get the
 *    message size as a compile-time constant (ck through its struct type, duet through
 *    the length argument), and both spin with the same cpu_relax() (x86 PAUSE) while the
 *    ring is full/empty. The consumer checks the sequence number in every message (duet's
 *    also checks the length it is told).
 * Every configuration runs REPS times (fixed counts) after one untimed warm-up run each,
 * duet and ck interleaved and alternating which goes first; the table shows the median
 * and the min..max over the reps. The last lines are "RATIO <name> <duet/ck>" (ratio of
 * the medians) for scripts: throughput >= 1.0 and latency <= 1.0 are the targets.
 * Results and the command: docs/benchmarks.md.
 *
 * Usage: bench_ring [reps]   (default 9; env DUET_BENCH_SCALE=0.1 shortens the counts)
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ck_ring.h>

#include "duet/ring.h"

#define RING_BYTES 65536u
#define LAT_ROUNDS 200000u
#define LAT_WARMUP 20000u
#define MAX_REPS 31
#define DEFAULT_REPS 9

struct m16 {
    uint8_t b[16];
};
struct m64 {
    uint8_t b[64];
};
struct m1k {
    uint8_t b[1024];
};
CK_RING_PROTOTYPE(m16, m16)
CK_RING_PROTOTYPE(m64, m64)
CK_RING_PROTOTYPE(m1k, m1k)

static int g_cpu[2];

/* The same spin-wait hint in every wait loop of both implementations. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int which)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(g_cpu[which], &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
        fprintf(stderr, "warning: cannot pin to CPU %d\n", g_cpu[which]);
}

static void *xalloc(size_t n)
{
    void *p = aligned_alloc(64, (n + 63u) & ~(size_t)63u);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memset(p, 0, n);
    return p;
}

/* ------------------------------------------------------------------ throughput */

typedef struct {
    int impl;         /* 0 duet, 1 ck */
    uint32_t size;    /* message bytes */
    uint64_t count;   /* messages */
    void *duet_mem;   /* duet ring area */
    ck_ring_t *ck;    /* ck ring + its slot buffer */
    void *ck_buf;
    atomic_int ready; /* both threads pinned and attached */
    atomic_int go;
    int bad;          /* consumer saw a wrong sequence number */
} tput_t;

static void wait_go(tput_t *t)
{
    atomic_fetch_add(&t->ready, 1);
    while (!atomic_load_explicit(&t->go, memory_order_acquire))
        cpu_relax();
}

/*
 * Producer and consumer loops for one message type T of SZ bytes, for both rings. The
 * two implementations differ only in the one call inside the wait loop.
 */
#define TPUT_LOOPS(T, SZ)                                                                          \
    static void prod_duet_##T(tput_t *t, duet_ring_t *r, uint8_t *msg)                             \
    {                                                                                              \
        for (uint64_t i = 0; i < t->count; i++) {                                                  \
            memcpy(msg, &i, sizeof(i));                                                            \
            while (duet_ring_send(r, msg, SZ) != DUET_OK)                                          \
                cpu_relax();                                                                       \
        }                                                                                          \
    }                                                                                              \
    static void prod_ck_##T(tput_t *t, uint8_t *msg)                                               \
    {                                                                                              \
        for (uint64_t i = 0; i < t->count; i++) {                                                  \
            memcpy(msg, &i, sizeof(i));                                                            \
            while (!ck_ring_enqueue_spsc_##T(t->ck, t->ck_buf, (struct T *)(void *)msg))          \
                cpu_relax();                                                                       \
        }                                                                                          \
    }                                                                                              \
    static int cons_duet_##T(tput_t *t, duet_ring_t *r, uint8_t *msg)                              \
    {                                                                                              \
        int bad = 0;                                                                               \
        size_t n;                                                                                  \
        for (uint64_t i = 0; i < t->count; i++) {                                                  \
            while (duet_ring_recv(r, msg, SZ, &n) != DUET_OK)                                      \
                cpu_relax();                                                                       \
            uint64_t seq;                                                                          \
            memcpy(&seq, msg, sizeof(seq));                                                        \
            bad |= (seq != i) | (n != SZ);                                                         \
        }                                                                                          \
        return bad;                                                                                \
    }                                                                                              \
    static int cons_ck_##T(tput_t *t, uint8_t *msg)                                                \
    {                                                                                              \
        int bad = 0;                                                                               \
        for (uint64_t i = 0; i < t->count; i++) {                                                  \
            while (!ck_ring_dequeue_spsc_##T(t->ck, t->ck_buf, (struct T *)(void *)msg))          \
                cpu_relax();                                                                       \
            uint64_t seq;                                                                          \
            memcpy(&seq, msg, sizeof(seq));                                                        \
            bad |= seq != i;                                                                       \
        }                                                                                          \
        return bad;                                                                                \
    }
TPUT_LOOPS(m16, 16)
TPUT_LOOPS(m64, 64)
TPUT_LOOPS(m1k, 1024)

static void *tput_producer(void *arg)
{
    tput_t *t = arg;
    pin(0);
    _Alignas(64) uint8_t msg[1024];
    memset(msg, 0x5a, sizeof(msg));
    duet_ring_t r;
    if (t->impl == 0 && duet_ring_attach_producer(&r, t->duet_mem, DUET_RING_FOOTPRINT(RING_BYTES),
                                                  1) != DUET_OK)
        abort();
    wait_go(t);
    if (t->impl == 0)
        t->size == 16 ? prod_duet_m16(t, &r, msg)
        : t->size == 64 ? prod_duet_m64(t, &r, msg)
                        : prod_duet_m1k(t, &r, msg);
    else
        t->size == 16 ? prod_ck_m16(t, msg) : t->size == 64 ? prod_ck_m64(t, msg) : prod_ck_m1k(t, msg);
    return NULL;
}

static void *tput_consumer(void *arg)
{
    tput_t *t = arg;
    pin(1);
    _Alignas(64) uint8_t msg[1024];
    duet_ring_t r;
    if (t->impl == 0 && duet_ring_attach_consumer(&r, t->duet_mem, DUET_RING_FOOTPRINT(RING_BYTES),
                                                  1) != DUET_OK)
        abort();
    wait_go(t);
    if (t->impl == 0)
        t->bad = t->size == 16   ? cons_duet_m16(t, &r, msg)
                 : t->size == 64 ? cons_duet_m64(t, &r, msg)
                                 : cons_duet_m1k(t, &r, msg);
    else
        t->bad = t->size == 16   ? cons_ck_m16(t, msg)
                 : t->size == 64 ? cons_ck_m64(t, msg)
                                 : cons_ck_m1k(t, msg);
    return NULL;
}

/* One throughput run; returns messages per second. */
static double tput_run(int impl, uint32_t size, uint64_t count)
{
    tput_t t = {.impl = impl, .size = size, .count = count};
    if (impl == 0) {
        t.duet_mem = xalloc(DUET_RING_FOOTPRINT(RING_BYTES));
        if (duet_ring_init(t.duet_mem, DUET_RING_FOOTPRINT(RING_BYTES), 1) != DUET_OK)
            abort();
    } else {
        unsigned slots = RING_BYTES / size;
        t.ck = xalloc(sizeof(ck_ring_t));
        t.ck_buf = xalloc((size_t)slots * size);
        ck_ring_init(t.ck, slots);
    }
    pthread_t pt, ct;
    pthread_create(&ct, NULL, tput_consumer, &t);
    pthread_create(&pt, NULL, tput_producer, &t);
    while (atomic_load(&t.ready) != 2)
        cpu_relax();
    uint64_t t0 = now_ns();
    atomic_store_explicit(&t.go, 1, memory_order_release);
    pthread_join(ct, NULL);
    uint64_t t1 = now_ns();
    pthread_join(pt, NULL);
    if (t.bad) {
        fprintf(stderr, "%s: messages out of order\n", impl == 0 ? "duet" : "ck");
        exit(1);
    }
    free(t.duet_mem);
    free(t.ck);
    free(t.ck_buf);
    return (double)count * 1e9 / (double)(t1 - t0);
}

/* ------------------------------------------------------------------ latency */

typedef struct {
    int impl;
    void *duet_mem[2]; /* [0] ping A->B, [1] pong B->A */
    ck_ring_t *ck[2];
    struct m16 *ck_buf[2];
    uint64_t *samples;
    atomic_int ready;
    atomic_int go;
} lat_t;

static void *lat_echo(void *arg)
{
    lat_t *t = arg;
    pin(1);
    struct m16 m;
    size_t n;
    duet_ring_t in, out;
    if (t->impl == 0 &&
        (duet_ring_attach_consumer(&in, t->duet_mem[0], DUET_RING_FOOTPRINT(4096), 1) != DUET_OK ||
         duet_ring_attach_producer(&out, t->duet_mem[1], DUET_RING_FOOTPRINT(4096), 1) != DUET_OK))
        abort();
    atomic_fetch_add(&t->ready, 1);
    for (uint32_t i = 0; i < LAT_WARMUP + LAT_ROUNDS; i++) {
        if (t->impl == 0) {
            while (duet_ring_recv(&in, &m, sizeof(m), &n) != DUET_OK)
                cpu_relax();
            while (duet_ring_send(&out, &m, sizeof(m)) != DUET_OK)
                cpu_relax();
        } else {
            while (!ck_ring_dequeue_spsc_m16(t->ck[0], t->ck_buf[0], &m))
                cpu_relax();
            while (!ck_ring_enqueue_spsc_m16(t->ck[1], t->ck_buf[1], &m))
                cpu_relax();
        }
    }
    return NULL;
}

static void *lat_ping(void *arg)
{
    lat_t *t = arg;
    pin(0);
    struct m16 m;
    memset(&m, 0x33, sizeof(m));
    size_t n;
    duet_ring_t out, in;
    if (t->impl == 0 &&
        (duet_ring_attach_producer(&out, t->duet_mem[0], DUET_RING_FOOTPRINT(4096), 1) != DUET_OK ||
         duet_ring_attach_consumer(&in, t->duet_mem[1], DUET_RING_FOOTPRINT(4096), 1) != DUET_OK))
        abort();
    atomic_fetch_add(&t->ready, 1);
    while (atomic_load(&t->ready) != 2)
        cpu_relax();
    for (uint32_t i = 0; i < LAT_WARMUP + LAT_ROUNDS; i++) {
        uint64_t t0 = now_ns();
        if (t->impl == 0) {
            while (duet_ring_send(&out, &m, sizeof(m)) != DUET_OK)
                cpu_relax();
            while (duet_ring_recv(&in, &m, sizeof(m), &n) != DUET_OK)
                cpu_relax();
        } else {
            while (!ck_ring_enqueue_spsc_m16(t->ck[0], t->ck_buf[0], &m))
                cpu_relax();
            while (!ck_ring_dequeue_spsc_m16(t->ck[1], t->ck_buf[1], &m))
                cpu_relax();
        }
        uint64_t t1 = now_ns();
        if (i >= LAT_WARMUP)
            t->samples[i - LAT_WARMUP] = t1 - t0;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void lat_run(int impl, double *p50, double *p99)
{
    lat_t t = {.impl = impl};
    t.samples = xalloc(sizeof(uint64_t) * LAT_ROUNDS);
    for (int d = 0; d < 2; d++) {
        if (impl == 0) {
            t.duet_mem[d] = xalloc(DUET_RING_FOOTPRINT(4096));
            if (duet_ring_init(t.duet_mem[d], DUET_RING_FOOTPRINT(4096), 1) != DUET_OK)
                abort();
        } else {
            t.ck[d] = xalloc(sizeof(ck_ring_t));
            t.ck_buf[d] = xalloc(256 * sizeof(struct m16));
            ck_ring_init(t.ck[d], 256);
        }
    }
    pthread_t a, b;
    pthread_create(&b, NULL, lat_echo, &t);
    pthread_create(&a, NULL, lat_ping, &t);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    qsort(t.samples, LAT_ROUNDS, sizeof(uint64_t), cmp_u64);
    *p50 = (double)t.samples[LAT_ROUNDS / 2];
    *p99 = (double)t.samples[(uint64_t)LAT_ROUNDS * 99 / 100];
    for (int d = 0; d < 2; d++) {
        free(t.duet_mem[d]);
        free(t.ck[d]);
        free(t.ck_buf[d]);
    }
    free(t.samples);
}

/* ------------------------------------------------------------------ main */

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static void pick_cpus(void)
{
    cpu_set_t set;
    int found = 0;
    g_cpu[0] = 0;
    g_cpu[1] = 1;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
            if (CPU_ISSET(c, &set))
                g_cpu[found++] = c;
    if (found < 2)
        fprintf(stderr, "warning: fewer than 2 CPUs available; results are meaningless\n");
}

/* Median and min..max of n values (sorts v). */
typedef struct {
    double med, min, max;
} stat_t;

static stat_t stats(double *v, int n)
{
    stat_t st;
    st.med = median(v, n);
    st.min = v[0];
    st.max = v[n - 1];
    return st;
}

static void row(const char *name, stat_t d, stat_t c, double scale, const char *fmt)
{
    char dcol[64], ccol[64];
    char f[32];
    snprintf(f, sizeof(f), "%s (%s..%s)", fmt, fmt, fmt);
    snprintf(dcol, sizeof(dcol), f, d.med * scale, d.min * scale, d.max * scale);
    snprintf(ccol, sizeof(ccol), f, c.med * scale, c.min * scale, c.max * scale);
    printf("%-16s %24s %24s %8.2f\n", name, dcol, ccol, d.med / c.med);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : DEFAULT_REPS;
    if (reps < 1 || reps > MAX_REPS)
        reps = DEFAULT_REPS;
    const char *sc = getenv("DUET_BENCH_SCALE");
    double scale = sc != NULL ? atof(sc) : 1.0;
    if (scale <= 0.0)
        scale = 1.0;
    pick_cpus();
    static const struct {
        uint32_t size;
        uint64_t count;
        const char *name;
    } sizes[] = {{16, 20000000, "16B"}, {64, 10000000, "64B"}, {1024, 2000000, "1KiB"}};

    printf("ring benchmark: duet vs ck_ring, threads pinned to CPUs %d and %d, %d reps; "
           "median (min..max)\n",
           g_cpu[0], g_cpu[1], reps);
    printf("%-16s %24s %24s %8s\n", "test", "duet", "ck_ring", "duet/ck");
    double ratio[5];
    for (int s = 0; s < 3; s++) {
        uint64_t count = (uint64_t)((double)sizes[s].count * scale);
        if (count < 1000)
            count = 1000;
        for (int impl = 0; impl < 2; impl++) /* warm-up, untimed */
            (void)tput_run(impl, sizes[s].size, count / 10 + 1000);
        double v[2][MAX_REPS];
        for (int r = 0; r < reps; r++)
            for (int k = 0; k < 2; k++) { /* interleaved, alternating: drifts hit both */
                int impl = (k + r) & 1;
                v[impl][r] = tput_run(impl, sizes[s].size, count);
            }
        stat_t d = stats(v[0], reps), c = stats(v[1], reps);
        ratio[s] = d.med / c.med;
        char name[40];
        snprintf(name, sizeof(name), "tput %s Mmsg/s", sizes[s].name);
        row(name, d, c, 1e-6, "%.2f");
        snprintf(name, sizeof(name), "tput %s MB/s", sizes[s].name);
        row(name, d, c, sizes[s].size * 1e-6, "%.0f");
        fflush(stdout);
    }
    double p50[2][MAX_REPS], p99[2][MAX_REPS];
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < 2; k++) {
            int impl = (k + r) & 1;
            lat_run(impl, &p50[impl][r], &p99[impl][r]);
        }
    stat_t d50 = stats(p50[0], reps), c50 = stats(p50[1], reps);
    stat_t d99 = stats(p99[0], reps), c99 = stats(p99[1], reps);
    ratio[3] = d50.med / c50.med;
    ratio[4] = d99.med / c99.med;
    row("rtt 16B p50 ns", d50, c50, 1.0, "%.0f");
    row("rtt 16B p99 ns", d99, c99, 1.0, "%.0f");
    printf("RATIO ring_tput_16B %.3f\n", ratio[0]);
    printf("RATIO ring_tput_64B %.3f\n", ratio[1]);
    printf("RATIO ring_tput_1KiB %.3f\n", ratio[2]);
    printf("RATIO ring_rtt_p50 %.3f\n", ratio[3]);
    printf("RATIO ring_rtt_p99 %.3f\n", ratio[4]);
    return 0;
}
