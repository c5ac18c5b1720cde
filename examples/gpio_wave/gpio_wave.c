/*
 * gpio_wave - a square wave on a GPIO, driven from core 1 through ESP-IDF's register-
 * level header hal/gpio_ll.h (no OS, no driver: gpio_ll_set_level writes GPIO_OUT_W1TS /
 * W1TC, which set or clear only this pin, so core 0's writes to other pins never race).
 *
 * Core 0 must have claimed the pin first: duet_esp_claim_gpio(WAVE_GPIO,
 * DUET_ESP_GPIO_OUTPUT) routes it (IO MUX + GPIO matrix) and reserves it
 * (examples/idf/peripherals). Edges are timed on SYSTIMER (duet_rt_time_us), busy-
 * waiting between them; sc_user[0] counts edges, sc_user[1] holds the level.
 * ESP32-S3 only (built by duet_core1_program with ESP-IDF's include path).
 */
#include "duet/app.h"
#include "hal/gpio_ll.h"

#ifndef WAVE_GPIO
#define WAVE_GPIO 4
#endif
#ifndef WAVE_HALF_PERIOD_US
#define WAVE_HALF_PERIOD_US 500u /* 1 kHz */
#endif

void duet_main(void)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    uint32_t edges = 0, level = 0;
    DUET_LOGI("gpio_wave: GPIO %d, %u us per half period", WAVE_GPIO,
              (unsigned)WAVE_HALF_PERIOD_US);
    uint64_t next = duet_rt_time_us() + WAVE_HALF_PERIOD_US, next_log = next + 1000000u;
    while (!duet_rt_should_stop()) {
        while (duet_rt_time_us() < next)
            ;
        level ^= 1u;
        gpio_ll_set_level(&GPIO, WAVE_GPIO, level);
        edges++;
        __atomic_store_n(&c->sc_user[1], level, __ATOMIC_RELAXED);
        __atomic_store_n(&c->sc_user[0], edges, __ATOMIC_RELEASE);
        duet_rt_heartbeat();
        next += WAVE_HALF_PERIOD_US;
        if (next >= next_log) {
            DUET_LOGI("gpio_wave: %u edges", (unsigned)edges);
            next_log += 1000000u;
        }
    }
    gpio_ll_set_level(&GPIO, WAVE_GPIO, 0);
}
