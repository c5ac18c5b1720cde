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
 *
 * The same doorbell carries core 0's park request of the XIP flash lockout
 * (port/esp32s3/duet_esp_flash_guard.c, duet/shm.h sc_park_*): before a flash operation
 * disables the cache, core 0 makes sc_park_req odd and rings; the ISR (RAM-resident, as
 * the vectors and the dispatcher: XT_RAM) acks and spins in RAM until the request is
 * released, so an XIP program is never fetching from flash while the cache is off. An
 * interrupt is what reaches a core that is in the middle of flash-resident code. XIP
 * programs get the ISR routed at boot (duet_xt_park_init); a program that masks
 * interrupts past core 0's timeout is frozen by the hardware stall instead.
 */
#include <stdint.h>

#include "duet/app.h"
#include "duet/rt_arch.h"
#include "duet/shm.h"
#include "duet/xt_intr.h"
#include "rt_priv.h"
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

static inline uint32_t ccount(void)
{
    uint32_t v;
    __asm__ volatile("rsr %0, ccount" : "=a"(v));
    return v;
}

void XT_RAM("park") duet_xt_park_check(void)
{
    /* Through an integer the compiler cannot see into: from the char[] symbol itself GCC
     * assumes byte alignment and splits every word into four byte accesses, which would
     * tear the words core 0 writes concurrently. */
    uintptr_t a = (uintptr_t)_duet_shm_base;
    __asm__("" : "+r"(a));
    volatile duet_shm_ctrl_t *c = (volatile duet_shm_ctrl_t *)a;
    uint32_t req = c->sc_park_req;
    if ((req & 1u) == 0 || c->sc_park_ack == req)
        return; /* no request, or already answered */
    /* The program's park hook (duet/xip.h, DUET_RAM), fetched before the ack: until
     * then the cache is still on, wherever the accessor lives. */
    void (*hook)(void) = duet_rt_priv_park_hook();
    uint32_t t0 = ccount();
    c->sc_park_ack = req;
    while (c->sc_park_req == req) {
        /* spin in RAM: core 0 has (or is about to have) the flash cache off */
        if (hook != NULL)
            hook();
    }
    uint32_t dt = ccount() - t0;
    c->sc_park_count = c->sc_park_count + 1u;
    c->sc_park_last = dt;
    c->sc_park_total = c->sc_park_total + dt;
    if (dt > c->sc_park_max)
        c->sc_park_max = dt;
}

static int take(void)
{
    duet_xt_park_check(); /* a poller with the doorbell interrupt off still parks */
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

static void XT_RAM("doorbell_isr") doorbell_isr(void *arg)
{
    (void)arg;
    XT_REG(TO_C1_REG) = 0; /* level source: clear before return or it re-enters */
    duet_xt_park_check();  /* before any program code: that may be in flash */
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

void duet_xt_park_init(void)
{
    /* XIP program: duet_main is on the instruction bus of the flash mapping
     * (DUET_S3_IBUS_LO..HI); RAM programs are never parked and keep their doorbell
     * interrupt off until they ask for it. */
    uintptr_t m = (uintptr_t)&duet_main;
    if (m >= DUET_S3_IBUS_LO && m < DUET_S3_IBUS_HI)
        (void)duet_xt_doorbell_irq_enable(NULL, NULL);
}
