/*
 * time.c - core-1 time on the ESP32-S3: SYSTIMER counter 0 (16 MHz, shared with core 0,
 * read-only here) and CCOUNT. Never ets_delay_us (mis-scaled on core 1 in unicore
 * builds, facts §6).
 *
 * The snapshot registers of counter 0 are shared with core 0 (esp_timer reads them
 * too): core 0 may take a new snapshot between our HI and LO reads, so read HI, LO, HI
 * and retry when HI moved. Only the UPDATE bit is written (the other bits of the OP
 * register are read-only), never SYSTIMER_CONF.
 */
#include <stdint.h>

#include "duet/app.h"
#include "duet/rt_arch.h"
#include "xt_priv.h"

uint32_t duet_xt_ccount(void)
{
    uint32_t v;
    __asm__ volatile("rsr %0, ccount" : "=a"(v));
    return v;
}

uint32_t duet_arch_cycles(void)
{
    return duet_xt_ccount();
}

static uint64_t s_last_ticks;

static uint64_t systimer_ticks(void)
{
    for (;;) {
        XT_REG(DUET_S3_SYSTIMER_UNIT0_OP_REG) = DUET_S3_SYSTIMER_UNIT0_UPDATE;
        /* VALID is set a few APB cycles after UPDATE; bounded so a stuck bit (clock
         * gated by core 0) cannot hang core 1: the last value is used instead. */
        for (unsigned spin = 0; spin < 256u; spin++)
            if (XT_REG(DUET_S3_SYSTIMER_UNIT0_OP_REG) & DUET_S3_SYSTIMER_UNIT0_VALUE_VALID)
                break;
        uint32_t hi = XT_REG(DUET_S3_SYSTIMER_UNIT0_VALUE_HI_REG) & DUET_S3_SYSTIMER_VALUE_HI_MASK;
        uint32_t lo = XT_REG(DUET_S3_SYSTIMER_UNIT0_VALUE_LO_REG);
        uint32_t hi2 = XT_REG(DUET_S3_SYSTIMER_UNIT0_VALUE_HI_REG) & DUET_S3_SYSTIMER_VALUE_HI_MASK;
        if (hi == hi2) {
            uint64_t t = ((uint64_t)hi << 32) | lo;
            /* Two snapshots taken by different cores may interleave: never go back. The
             * 64-bit s_last_ticks is two words: with interrupts on, an ISR reading the
             * time between them could pair halves of two values (a jump of 2^32 ticks). */
            uint32_t ps;
            __asm__ volatile("rsil %0, 15" : "=a"(ps)::"memory");
            if (t < s_last_ticks)
                t = s_last_ticks;
            s_last_ticks = t;
            __asm__ volatile("wsr %0, ps\n\trsync" ::"a"(ps) : "memory");
            return t;
        }
    }
}

uint64_t duet_arch_time_us(void)
{
    return systimer_ticks() / DUET_S3_SYSTIMER_TICKS_PER_US;
}

#if DUET_XT_MEASURE_CPU_HZ
/* CCOUNT rate over 500 us of SYSTIMER: the CPU clock core 0 left us (DFS may change it
 * later; facts §6), published for core 0 and for cycle-to-time conversions. Opt-in
 * (duet_add_program(... CPU_HZ)) because it costs 500 us of start-up; without it
 * sc_c1_cpu_hz stays 0 ("not measured"). */
void duet_xt_publish_cpu_hz(void)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    if (c == NULL)
        return;
    uint64_t t0 = duet_arch_time_us();
    uint32_t c0 = duet_xt_ccount();
    while (duet_arch_time_us() - t0 < 500u) {
    }
    __atomic_store_n(&c->sc_c1_cpu_hz, (duet_xt_ccount() - c0) * 2000u, __ATOMIC_RELEASE);
}
#endif
