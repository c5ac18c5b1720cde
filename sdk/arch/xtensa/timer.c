/*
 * timer.c - core 1's own periodic interrupt: CCOMPARE0 (CPU interrupt 6, level 1).
 *
 * Core-internal, so nothing on core 0 can own or reconfigure it (a SYSTIMER or TIMG
 * alarm would have to be claimed from core 0). Writing CCOMPARE0 clears the interrupt;
 * the next deadline is the previous one plus the period, or now plus the period when the
 * handler ran so late that it would already be past (no burst of catch-up interrupts).
 */
#include <stddef.h>
#include <stdint.h>

#include "xt_priv.h"

static struct {
    uint32_t period;
    uint32_t next;
    duet_xt_isr_t fn;
    void *arg;
    volatile uint32_t count;
} s_tmr;

static void ccompare0_set(uint32_t v)
{
    __asm__ volatile("wsr %0, ccompare0\n\trsync" ::"a"(v) : "memory");
}

static void timer_isr(void *arg)
{
    (void)arg;
    uint32_t next = s_tmr.next + s_tmr.period;
    uint32_t now = duet_xt_ccount();
    /* Modular distance: 'next' already behind 'now' (or too close to be armed in time)? */
    if ((int32_t)(next - now) < 64)
        next = now + s_tmr.period;
    s_tmr.next = next;
    ccompare0_set(next); /* also clears the pending interrupt */
    s_tmr.count = s_tmr.count + 1u;
    if (s_tmr.fn != NULL)
        s_tmr.fn(s_tmr.arg);
}

duet_err_t duet_xt_timer_start(uint32_t period_cycles, duet_xt_isr_t fn, void *arg)
{
    if (period_cycles < 1000u || fn == NULL)
        return DUET_ERR_INVAL;
    duet_xt_timer_stop();
    s_tmr.period = period_cycles;
    s_tmr.fn = fn;
    s_tmr.arg = arg;
    s_tmr.count = 0;
    duet_xt_intr_attach_internal(DUET_S3_TIMER0_INUM, timer_isr, NULL);
    s_tmr.next = duet_xt_ccount() + period_cycles;
    ccompare0_set(s_tmr.next);
    return duet_xt_intr_enable(DUET_S3_TIMER0_INUM);
}

void duet_xt_timer_stop(void)
{
    (void)duet_xt_intr_disable(DUET_S3_TIMER0_INUM);
    ccompare0_set(duet_xt_ccount() - 1u); /* far away and not pending */
    duet_xt_intr_attach_internal(DUET_S3_TIMER0_INUM, NULL, NULL);
}

uint32_t duet_xt_timer_count(void)
{
    return s_tmr.count;
}
