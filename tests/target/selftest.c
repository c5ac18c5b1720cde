/*
 * selftest - the core-1 program of `make target-test` (scripts/target-test.sh): what a
 * real program leans on, checked on the chip model with the real vectors.
 *
 *   sc_user[0]  loop counter, bumped on every pass (core 0 checks it never stalls)
 *   sc_user[1]  deep-recursion passes whose result matched (window overflow/underflow)
 *   sc_user[2]  recursion mismatches (must stay 0)
 *   sc_user[3]  doorbell interrupts taken (core 0 -> core 1, level 1 via the matrix)
 *   sc_user[4]  timer interrupts taken (CCOMPARE0, core-internal, level 1)
 *   sc_user[5]  interrupts that found a corrupted register window (must stay 0)
 *   sc_user[6]  deepest recursion depth of one pass
 *
 * The recursion runs with both interrupts live, so spills and refills happen with
 * interrupts landing in the middle of them. Xtensa only: on the PC build the interrupt
 * parts are absent and the counters say so (sc_user[3..4] stay 0).
 */
#include <stdint.h>

#include "duet/app.h"
#if defined(__XTENSA__)
#include "duet/xt_intr.h"
#endif

/* GCC would turn the accumulating recursion into a loop (tail-recursion elimination)
 * and no window would ever overflow; clang has no such attribute and needs none here. */
#if defined(__GNUC__) && !defined(__clang__)
#define KEEP_RECURSION __attribute__((noinline, optimize("no-optimize-sibling-calls")))
#else
#define KEEP_RECURSION __attribute__((noinline))
#endif

#define DEPTH        48u     /* > 16 call8 frames: many overflows per pass */
#define TIMER_CYCLES 240000u /* 1 ms at 240 MHz */

static duet_shm_ctrl_t *s_c;

static void bump(unsigned i)
{
    __atomic_store_n(&s_c->sc_user[i], __atomic_load_n(&s_c->sc_user[i], __ATOMIC_RELAXED) + 1u,
                     __ATOMIC_RELEASE);
}

/* Each level keeps values live across the call (so they sit in the window being
 * spilled) and mixes them into the result: a lost or swapped register changes it. */
KEEP_RECURSION static uint32_t deep(uint32_t n, uint32_t a, uint32_t b)
{
    volatile uint32_t pad[4] = {a, b, n, a ^ b}; /* stack use per frame */
    if (n == 0)
        return a * 3u + b;
    uint32_t r = deep(n - 1u, a + n, b ^ (n * 0x9E3779B9u));
    return r + pad[0] - pad[1] + (pad[2] << 1) + (pad[3] & 0xFFu);
}

/* The same recursion computed with a loop (the reference). */
static uint32_t deep_ref(uint32_t n, uint32_t a, uint32_t b)
{
    uint32_t as[DEPTH + 1], bs[DEPTH + 1];
    for (uint32_t k = n;; k--) {
        as[n - k] = a;
        bs[n - k] = b;
        if (k == 0)
            break;
        a += k;
        b ^= k * 0x9E3779B9u;
    }
    uint32_t r = as[n] * 3u + bs[n];
    for (uint32_t i = n; i-- > 0;) {
        uint32_t k = n - i;
        r = r + as[i] - bs[i] + (k << 1) + ((as[i] ^ bs[i]) & 0xFFu);
    }
    return r;
}

#if defined(__XTENSA__)
/* An interrupt handler that itself calls a few levels deep: the interrupted code's
 * windows must be spilled before C runs (vectors.S), and come back intact. */
KEEP_RECURSION static uint32_t isr_chain(uint32_t n)
{
    return n == 0 ? 7u : isr_chain(n - 1u) * 3u + n;
}

static uint32_t s_isr_chain_ref6, s_isr_chain_ref5;

static void on_doorbell(void *arg)
{
    (void)arg;
    if (isr_chain(6) != s_isr_chain_ref6)
        bump(5);
    bump(3);
}

static void on_timer(void *arg)
{
    (void)arg;
    if (isr_chain(5) != s_isr_chain_ref5)
        bump(5);
    bump(4);
}
#endif

void duet_main(void)
{
    s_c = duet_rt_ctrl();
    for (unsigned i = 0; i < 7; i++)
        __atomic_store_n(&s_c->sc_user[i], 0u, __ATOMIC_RELAXED);
#if defined(__XTENSA__)
    s_isr_chain_ref6 = isr_chain(6);
    s_isr_chain_ref5 = isr_chain(5);
    if (duet_xt_doorbell_irq_enable(on_doorbell, NULL) != DUET_OK)
        DUET_LOGE("selftest: doorbell interrupt refused");
    if (duet_xt_timer_start(TIMER_CYCLES, on_timer, NULL) != DUET_OK)
        DUET_LOGE("selftest: timer refused");
#endif
    __atomic_store_n(&s_c->sc_user[6], DEPTH, __ATOMIC_RELAXED);
    DUET_LOGI("selftest up (epoch %u): recursion depth %u, timer every %u cycles",
              (unsigned)duet_rt_epoch(), (unsigned)DEPTH, (unsigned)TIMER_CYCLES);
    uint32_t seed = duet_rt_epoch();
    uint64_t next_log = duet_rt_time_us() + 1000000u;
    while (!duet_rt_should_stop()) {
        bump(0);
        seed = seed * 1664525u + 1013904223u;
        uint32_t want = deep_ref(DEPTH, seed, seed >> 7);
        uint32_t got = deep(DEPTH, seed, seed >> 7);
        bump(got == want ? 1 : 2);
        duet_rt_heartbeat();
        duet_rt_progress(s_c->sc_user[0]);
        uint64_t now = duet_rt_time_us();
        if (now >= next_log) {
            DUET_LOGI("selftest: loops %u ok %u bad %u doorbell %u timer %u badwin %u",
                      (unsigned)s_c->sc_user[0], (unsigned)s_c->sc_user[1],
                      (unsigned)s_c->sc_user[2], (unsigned)s_c->sc_user[3],
                      (unsigned)s_c->sc_user[4], (unsigned)s_c->sc_user[5]);
            next_log = now + 1000000u;
        }
    }
#if defined(__XTENSA__)
    duet_xt_timer_stop();
#endif
    DUET_LOGI("selftest: stop requested after %u loops", (unsigned)s_c->sc_user[0]);
}
