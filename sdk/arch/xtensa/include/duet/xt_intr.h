/*
 * duet/xt_intr.h - interrupts on core 1 of the ESP32-S3 (Xtensa SDK only; the host
 * simulator has no equivalent). A program routes a peripheral source through the
 * core-1 half of the interrupt matrix to a level-1 CPU interrupt, attaches a C handler
 * and enables it:
 *
 *     duet_xt_intr_route(source, 17);          // ETS_*_SOURCE number, level-1 CPU int
 *     duet_xt_intr_attach(17, my_isr, &state); // runs in interrupt context
 *     duet_xt_intr_enable(17);
 *
 * Only level-1, level-triggered CPU interrupts are offered (0-5, 8, 9, 12, 13, 17, 18;
 * esp_cpu_intr.c): higher levels are fatal vectors in duet. A handler must clear its
 * source before returning (level-triggered) and must not use floating point (the FPU
 * registers are not saved on interrupt entry). Handlers do not nest.
 */
#ifndef DUET_XT_INTR_H
#define DUET_XT_INTR_H

#include <stdint.h>

#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*duet_xt_isr_t)(void *arg);

/** Route interrupt source 'source' (ETS_*_SOURCE, < 99) to CPU interrupt 'inum' on
 *  core 1. @return DUET_OK, DUET_ERR_INVAL (source or inum out of range/not level 1). */
duet_err_t duet_xt_intr_route(unsigned source, unsigned inum);
/** Unroute a source (map it to CPU interrupt 6, as ESP-IDF does). */
duet_err_t duet_xt_intr_unroute(unsigned source);
/** Attach a handler to a level-1 CPU interrupt (NULL detaches). @return DUET_OK,
 *  DUET_ERR_INVAL. */
duet_err_t duet_xt_intr_attach(unsigned inum, duet_xt_isr_t fn, void *arg);
/** Enable / disable a CPU interrupt (INTENABLE bit; a routable level-1 one or timer 0).
 *  ISR-safe. */
duet_err_t duet_xt_intr_enable(unsigned inum);
duet_err_t duet_xt_intr_disable(unsigned inum);

/** Periodic interrupt from core 1's own timer (CCOMPARE0, CPU interrupt 6, level 1):
 *  no peripheral, nothing core 0 owns. 'fn' runs in interrupt context every
 *  'period_cycles' CPU cycles (>= 1000; the next deadline is re-armed from the previous
 *  one, so the period does not drift with handler latency). @return DUET_OK,
 *  DUET_ERR_INVAL (period too short or fn NULL). */
duet_err_t duet_xt_timer_start(uint32_t period_cycles, duet_xt_isr_t fn, void *arg);
/** Stop the timer interrupt (idempotent). */
void duet_xt_timer_stop(void);
/** Timer interrupts handled since duet_xt_timer_start. */
uint32_t duet_xt_timer_count(void);

/** Take core 0's doorbell as an interrupt: route FROM_CPU_INTR (core 0 -> core 1) to
 *  DUET_S3_DOORBELL_INUM; the handler clears it, latches it for duet_rt_doorbell_wait
 *  and calls 'cb' (may be NULL) in interrupt context. */
duet_err_t duet_xt_doorbell_irq_enable(duet_xt_isr_t cb, void *arg);

#ifdef __cplusplus
}
#endif
#endif /* DUET_XT_INTR_H */
