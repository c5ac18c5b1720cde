/*
 * timer_irq - a hardware-timer interrupt on core 1: timer TIMER_NUM of timer group
 * TIMER_GROUP (ESP-IDF's hal/timer_ll.h) counts at 1 MHz (APB 80 MHz / 80) and raises
 * its alarm every TIMER_PERIOD_US with auto-reload; the core-1 half of the interrupt
 * matrix routes ETS_TGn_Tm_LEVEL_INTR_SOURCE to level-1 CPU interrupt TIMER_INUM
 * (duet/xt_intr.h); the handler counts into sc_user[0].
 *
 * Core 0 must have claimed the timer first: duet_esp_claim_timer(TIMER_GROUP, TIMER_NUM)
 * enables the group's bus clock and releases its reset (SYSTEM registers, core 0 only)
 * (examples/idf/peripherals). ESP32-S3 only.
 */
#include "duet/app.h"
#include "duet/xt_intr.h"
#include "hal/timer_ll.h"
#include "soc/interrupt_core1_reg.h"
#include "soc/interrupts.h"

#ifndef TIMER_GROUP
#define TIMER_GROUP 1
#endif
#ifndef TIMER_NUM
#define TIMER_NUM 0
#endif
#ifndef TIMER_PERIOD_US
#define TIMER_PERIOD_US 1000u
#endif
#ifndef TIMER_INUM
#define TIMER_INUM 13 /* level 1, level-triggered (esp_cpu_intr.c); 17 is the doorbell */
#endif

#define TIMER_SOURCE                                                                               \
    (TIMER_GROUP == 0 ? ETS_TG0_T0_LEVEL_INTR_SOURCE + TIMER_NUM                                   \
                      : ETS_TG1_T0_LEVEL_INTR_SOURCE + TIMER_NUM)
/* The source numbers against the core-1 map registers of interrupt_core1_reg.h (+0x800 + 4n). */
_Static_assert(ETS_TG1_T0_LEVEL_INTR_SOURCE ==
                   (INTERRUPT_CORE1_TG1_T0_INT_MAP_REG - DR_REG_INTERRUPT_CORE1_BASE - 0x800) / 4,
               "TG1_T0 source number");
_Static_assert(ETS_TG0_T0_LEVEL_INTR_SOURCE ==
                   (INTERRUPT_CORE1_TG_T0_INT_MAP_REG - DR_REG_INTERRUPT_CORE1_BASE - 0x800) / 4,
               "TG0_T0 source number");

static volatile uint32_t s_count;

static void on_alarm(void *arg)
{
    timg_dev_t *hw = (timg_dev_t *)arg;
    timer_ll_clear_intr_status(hw, TIMER_LL_EVENT_ALARM(TIMER_NUM));
    timer_ll_enable_alarm(hw, TIMER_NUM, true); /* the alarm disarms itself when it fires */
    s_count = s_count + 1u;
    __atomic_store_n(&duet_rt_ctrl()->sc_user[0], s_count, __ATOMIC_RELEASE);
}

void duet_main(void)
{
    timg_dev_t *hw = TIMER_LL_GET_HW(TIMER_GROUP);
    timer_ll_enable_counter(hw, TIMER_NUM, false);
    timer_ll_enable_alarm(hw, TIMER_NUM, false);
    timer_ll_set_clock_prescale(hw, TIMER_NUM, 80); /* APB 80 MHz (reset default) -> 1 MHz */
    timer_ll_set_count_direction(hw, TIMER_NUM, GPTIMER_COUNT_UP);
    timer_ll_set_reload_value(hw, TIMER_NUM, 0);
    timer_ll_trigger_soft_reload(hw, TIMER_NUM);
    timer_ll_set_alarm_value(hw, TIMER_NUM, TIMER_PERIOD_US);
    timer_ll_enable_auto_reload(hw, TIMER_NUM, true);
    timer_ll_clear_intr_status(hw, TIMER_LL_EVENT_ALARM(TIMER_NUM));
    /* INT_ENA is shared with the group's watchdog (core 0): one read-modify-write here,
     * at start, while core 0's watchdog set-up is long done. */
    timer_ll_enable_intr(hw, TIMER_LL_EVENT_ALARM(TIMER_NUM), true);

    DUET_ASSERT(duet_xt_intr_route(TIMER_SOURCE, TIMER_INUM) == DUET_OK);
    DUET_ASSERT(duet_xt_intr_attach(TIMER_INUM, on_alarm, hw) == DUET_OK);
    DUET_ASSERT(duet_xt_intr_enable(TIMER_INUM) == DUET_OK);
    timer_ll_enable_alarm(hw, TIMER_NUM, true);
    timer_ll_enable_counter(hw, TIMER_NUM, true);
    DUET_LOGI("timer_irq: group %d timer %d, %u us period, source %d -> CPU interrupt %d",
              TIMER_GROUP, TIMER_NUM, (unsigned)TIMER_PERIOD_US, (int)TIMER_SOURCE, TIMER_INUM);

    uint64_t next_log = duet_rt_time_us() + 1000000u;
    while (!duet_rt_should_stop()) {
        duet_rt_heartbeat();
        if (duet_rt_time_us() >= next_log) {
            DUET_LOGI("timer_irq: %u interrupts", (unsigned)s_count);
            next_log += 1000000u;
        }
        (void)duet_rt_doorbell_wait(10000);
    }
    (void)duet_xt_intr_disable(TIMER_INUM);
    timer_ll_enable_intr(hw, TIMER_LL_EVENT_ALARM(TIMER_NUM), false);
    timer_ll_enable_counter(hw, TIMER_NUM, false);
}
