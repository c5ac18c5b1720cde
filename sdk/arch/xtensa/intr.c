/*
 * intr.c - level-1 interrupts on core 1: the core-1 half of the interrupt matrix, the
 * handler table and the C dispatcher that vectors.S calls (after it saved the
 * interrupted context and, windowed, spilled the register windows).
 *
 * Must not change: only level-1, level-triggered CPU interrupts are accepted (the
 * assembly handles level 1 only; higher levels are fatal vectors).
 */
#include <stddef.h>
#include <stdint.h>

#include "duet/xt_intr.h"
#include "xt_priv.h"

static struct {
    duet_xt_isr_t fn;
    void *arg;
} s_isr[32];

/* Level-1 interrupts dispatched here: the matrix-routable ones and core-internal timer 0. */
#define DISPATCH_MASK (DUET_S3_LEVEL1_INUM_MASK | (1u << DUET_S3_TIMER0_INUM))

static int level1_ok(unsigned inum)
{
    return inum < 32u && ((DUET_S3_LEVEL1_INUM_MASK >> inum) & 1u) != 0;
}

/* enable/disable also take the internal timer (routing to it is what is refused) */
static int dispatched(unsigned inum)
{
    return inum < 32u && ((DISPATCH_MASK >> inum) & 1u) != 0;
}

static uint32_t irq_off(void)
{
    uint32_t ps;
    __asm__ volatile("rsil %0, 15" : "=a"(ps)::"memory");
    return ps;
}

static void irq_restore(uint32_t ps)
{
    __asm__ volatile("wsr %0, ps\n\trsync" ::"a"(ps) : "memory");
}

static inline __attribute__((always_inline)) uint32_t intenable_get(void)
{
    uint32_t v;
    __asm__ volatile("rsr %0, intenable" : "=a"(v));
    return v;
}

static inline __attribute__((always_inline)) void intenable_set(uint32_t v)
{
    __asm__ volatile("wsr %0, intenable\n\trsync" ::"a"(v) : "memory");
}

void duet_xt_intr_init(void)
{
    intenable_set(0);
    /* Core 1's matrix is never cleared by ESP-IDF in unicore builds (call_start_cpu1
     * does it only in dual-core mode): unroute everything, as core_intr_matrix_clear. */
    for (unsigned s = 0; s < DUET_S3_INTR_SRC_COUNT; s++)
        XT_REG(DUET_S3_INTR_CORE1_MAP_REG(s)) = DUET_S3_INTR_INVALID_INUM;
    for (unsigned i = 0; i < 32u; i++) {
        s_isr[i].fn = NULL;
        s_isr[i].arg = NULL;
    }
}

duet_err_t duet_xt_intr_route(unsigned source, unsigned inum)
{
    if (source >= DUET_S3_INTR_SRC_COUNT || !level1_ok(inum))
        return DUET_ERR_INVAL;
    XT_REG(DUET_S3_INTR_CORE1_MAP_REG(source)) = inum;
    return DUET_OK;
}

duet_err_t duet_xt_intr_unroute(unsigned source)
{
    if (source >= DUET_S3_INTR_SRC_COUNT)
        return DUET_ERR_INVAL;
    XT_REG(DUET_S3_INTR_CORE1_MAP_REG(source)) = DUET_S3_INTR_INVALID_INUM;
    return DUET_OK;
}

duet_err_t duet_xt_intr_attach(unsigned inum, duet_xt_isr_t fn, void *arg)
{
    if (!level1_ok(inum))
        return DUET_ERR_INVAL;
    uint32_t ps = irq_off();
    s_isr[inum].fn = fn;
    s_isr[inum].arg = arg;
    irq_restore(ps);
    return DUET_OK;
}

void duet_xt_intr_attach_internal(unsigned inum, duet_xt_isr_t fn, void *arg)
{
    uint32_t ps = irq_off();
    s_isr[inum & 31u].fn = fn;
    s_isr[inum & 31u].arg = arg;
    irq_restore(ps);
}

duet_err_t duet_xt_intr_enable(unsigned inum)
{
    if (!dispatched(inum))
        return DUET_ERR_INVAL;
    uint32_t ps = irq_off();
    intenable_set(intenable_get() | (1u << inum));
    irq_restore(ps);
    return DUET_OK;
}

duet_err_t duet_xt_intr_disable(unsigned inum)
{
    if (!dispatched(inum))
        return DUET_ERR_INVAL;
    uint32_t ps = irq_off();
    intenable_set(intenable_get() & ~(1u << inum));
    irq_restore(ps);
    return DUET_OK;
}

/* RAM-resident (XT_RAM): the path to the park loop of the XIP flash lockout. */
void XT_RAM("intr_dispatch") duet_xt_intr_dispatch(void)
{
    uint32_t pending;
    __asm__ volatile("rsr %0, interrupt" : "=a"(pending));
    pending &= intenable_get() & DISPATCH_MASK;
    while (pending != 0) {
        unsigned i = (unsigned)__builtin_ctz(pending);
        pending &= pending - 1u;
        if (s_isr[i].fn != NULL)
            s_isr[i].fn(s_isr[i].arg);
        else /* nobody owns it: a level source would re-enter forever */
            intenable_set(intenable_get() & ~(1u << i));
    }
}
