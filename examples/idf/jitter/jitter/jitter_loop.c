/*
 * jitter_loop.c - see jitter_loop.h. No libc: the core-1 build has none, so the report
 * lines are formatted here (decimal only).
 */
#include "jitter_loop.h"

void jit_hist_reset(jit_hist_t *h)
{
    h->n = 0;
    h->min = UINT32_MAX;
    h->max = 0;
    h->sum = 0;
    for (unsigned i = 0; i < JIT_BUCKETS; i++)
        h->bucket[i] = 0;
}

static unsigned bucket_of(uint32_t v)
{
    if (v < 16u)
        return v;
    unsigned o = 31u - (unsigned)__builtin_clz(v); /* 4..31 */
    return 16u + (o - 4u) * 8u + ((v >> (o - 3u)) & 7u);
}

uint32_t jit_bucket_lo(unsigned i)
{
    if (i < 16u)
        return i;
    unsigned o = 4u + (i - 16u) / 8u, sub = (i - 16u) % 8u;
    return (1u << o) + (sub << (o - 3u));
}

uint32_t jit_bucket_hi(unsigned i)
{
    if (i < 16u)
        return i;
    unsigned o = 4u + (i - 16u) / 8u;
    return jit_bucket_lo(i) + ((1u << (o - 3u)) - 1u);
}

void jit_hist_add(jit_hist_t *h, uint32_t cycles)
{
    h->n++;
    h->sum += cycles;
    if (cycles < h->min)
        h->min = cycles;
    if (cycles > h->max)
        h->max = cycles;
    h->bucket[bucket_of(cycles)]++;
}

uint32_t jit_hist_quantile(const jit_hist_t *h, uint32_t num, uint32_t den)
{
    if (h->n == 0)
        return 0;
    uint64_t want = ((uint64_t)h->n * num + den - 1u) / den, cum = 0;
    for (unsigned i = 0; i < JIT_BUCKETS; i++) {
        cum += h->bucket[i];
        if (cum >= want && h->bucket[i] != 0) {
            uint32_t hi = jit_bucket_hi(i);
            return hi < h->max ? hi : h->max;
        }
    }
    return h->max;
}

/* Fixed work per iteration: xorshift rounds, no memory access, no branch on data. A
 * do-while (work >= 1), so both builds' flag sets lay the loop out alike. */
static uint32_t jit_body(uint32_t x, uint32_t work)
{
    uint32_t k = 0;
    do {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x += k;
    } while (++k < work);
    return x;
}

uint32_t jit_run(jit_hist_t *h, uint32_t iters, uint32_t work, void (*hook)(void))
{
    uint32_t x = 1u;
    uint32_t prev = jit_ccount();
    for (uint32_t i = 0; i < iters; i++) {
        x = jit_body(x, work);
        uint32_t now = jit_ccount();
        jit_hist_add(h, now - prev);
        if ((i & 1023u) == 1023u && hook != NULL) {
            hook();
            now = jit_ccount(); /* the hook is not part of any iteration */
        }
        prev = now;
    }
    return x;
}

uint32_t jit_measure(jit_hist_t *h, volatile uint32_t *state, volatile uint32_t *park_cycles,
                     uint32_t iters, uint32_t work, void (*hook)(void))
{
    jit_hist_reset(h);
    uint32_t t0 = jit_ccount();
    uint32_t x = jit_run(h, 256u, work, NULL);
    uint64_t est = (uint64_t)(jit_ccount() - t0) * iters / 256u;
    est += est / 4u + 1000000u; /* 25 % + 1M cycles: core 0 wakes after core 1 is done */
    __atomic_store_n(park_cycles, est > 0x7FFFFFFFu ? 0x7FFFFFFFu : (uint32_t)est,
                     __ATOMIC_RELAXED);
    __atomic_store_n(state, (uint32_t)JIT_S_READY, __ATOMIC_RELEASE);
    while (__atomic_load_n(state, __ATOMIC_ACQUIRE) != JIT_S_GO)
        if (hook != NULL)
            hook();
    x += jit_run(h, 64u, work, NULL); /* the first iterations after the hand-over */
    jit_hist_reset(h);
    x += jit_run(h, iters, work, hook);
    __atomic_store_n(state, (uint32_t)JIT_S_DONE, __ATOMIC_RELEASE);
    return x;
}

/* ---- report lines --------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t cap, len;
} out_t;

static void put_s(out_t *o, const char *s)
{
    for (; *s != '\0'; s++)
        if (o->len + 1u < o->cap)
            o->buf[o->len++] = *s;
    o->buf[o->len] = '\0';
}

static void put_u(out_t *o, const char *key, uint32_t v)
{
    char d[11];
    unsigned n = 0;
    do {
        d[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    char s[12];
    for (unsigned i = 0; i < n; i++)
        s[i] = d[n - 1u - i];
    s[n] = '\0';
    put_s(o, key);
    put_s(o, s);
}

void jit_format_summary(const jit_hist_t *h, const char *mode, char *buf, size_t cap)
{
    out_t o = {buf, cap, 0};
    buf[0] = '\0';
    put_s(&o, "JIT ");
    put_s(&o, mode);
    put_u(&o, " summary n=", h->n);
    put_u(&o, " min=", h->n != 0 ? h->min : 0);
    put_u(&o, " max=", h->max);
    put_u(&o, " mean=", h->n != 0 ? (uint32_t)(h->sum / h->n) : 0);
    put_u(&o, " p50=", jit_hist_quantile(h, 1, 2));
    put_u(&o, " p99=", jit_hist_quantile(h, 99, 100));
    put_u(&o, " p999=", jit_hist_quantile(h, 999, 1000));
}

void jit_format_bucket(const jit_hist_t *h, const char *mode, unsigned i, char *buf, size_t cap)
{
    out_t o = {buf, cap, 0};
    buf[0] = '\0';
    put_s(&o, "JIT ");
    put_s(&o, mode);
    put_u(&o, " bucket lo=", jit_bucket_lo(i));
    put_u(&o, " hi=", jit_bucket_hi(i));
    put_u(&o, " n=", h->bucket[i]);
}
