/*
 * doorbell.c - cross-core doorbells on the ESP32-S3 (FROM_CPU_INTR, facts §6).
 *
 *   CORE 1                                   CORE 0
 *   ring: FROM_CPU(TO_C0) = 1  ------------>  IRAM ISR clears it, wakes the supervisor
 *   wait: poll FROM_CPU(TO_C1) or the  <----  FROM_CPU(TO_C1) = 1
 *         ISR latch; clear it (receiver clears, as IDF's crosscore ISR does)
 *
 * Doorbells coalesce: two rings before a wait are one wake-up. They are hints; the
 * data is in the rings, which the woken side always re-checks.
 */
#include <stdint.h>

#include "duet/rt_arch.h"
#include "duet/xt_intr.h"
#include "xt_priv.h"

#define TO_C0_REG DUET_S3_CPU_INTR_FROM_CPU_REG(DUET_S3_DOORBELL_TO_C0)
#define TO_C1_REG DUET_S3_CPU_INTR_FROM_CPU_REG(DUET_S3_DOORBELL_TO_C1)

static volatile uint32_t s_latched; /* set by the ISR, taken by wait */
static duet_xt_isr_t s_cb;
static void *s_cb_arg;

void duet_arch_doorbell_ring(void)
{
    XT_REG(TO_C0_REG) = DUET_S3_CPU_INTR_FROM_CPU_BIT;
}

static int take(void)
{
    if (s_latched) {
        s_latched = 0;
        return 1;
    }
    if (XT_REG(TO_C1_REG) & DUET_S3_CPU_INTR_FROM_CPU_BIT) {
        XT_REG(TO_C1_REG) = 0;
        return 1;
    }
    return 0;
}

int duet_arch_doorbell_wait(uint32_t timeout_us)
{
    /* One loop for both cases: timeout 0 takes once and stops (elapsed < 0 is false). */
    uint64_t start = duet_arch_time_us();
    do {
        if (take())
            return 1;
    } while (duet_arch_time_us() - start < timeout_us);
    return 0;
}

static void doorbell_isr(void *arg)
{
    (void)arg;
    XT_REG(TO_C1_REG) = 0; /* level source: clear before return or it re-enters */
    s_latched = 1;
    if (s_cb != NULL)
        s_cb(s_cb_arg);
}

duet_err_t duet_xt_doorbell_irq_enable(duet_xt_isr_t cb, void *arg)
{
    s_cb = cb;
    s_cb_arg = arg;
    DUET_TRY(duet_xt_intr_attach(DUET_S3_DOORBELL_INUM, doorbell_isr, NULL));
    DUET_TRY(duet_xt_intr_route(DUET_S3_INTR_SRC_FROM_CPU(DUET_S3_DOORBELL_TO_C1),
                                DUET_S3_DOORBELL_INUM));
    return duet_xt_intr_enable(DUET_S3_DOORBELL_INUM);
}
