/*
 * jitter_core0.c - see jitter_core0.h. The park uses core 0's internal timer 0
 * (CCOMPARE0, CPU interrupt 6, level 1): ESP-IDF on the ESP32-S3 ticks from SYSTIMER, so
 * it is free, and esp_intr_alloc hands it out as ETS_INTERNAL_TIMER0_INTR_SOURCE.
 */
#include "jitter_core0.h"

#include <stdio.h>

#include "esp_cpu.h"
#include "esp_intr_alloc.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "jitter_loop.h"

static volatile bool s_woke;

static void ccompare0_set(uint32_t v)
{
    __asm__ volatile("wsr %0, ccompare0\n\trsync" ::"a"(v) : "memory");
}

static void park_isr(void *arg)
{
    (void)arg;
    ccompare0_set(jit_ccount() - 1u); /* clears the interrupt; next match ~2^32 away */
    s_woke = true;
}

/* Sleep 'cycles' CCOUNT cycles with every other interrupt of this core masked. */
static bool park_core0(uint32_t cycles, volatile uint32_t *state)
{
    static intr_handle_t h;
    if (h == NULL && esp_intr_alloc(ETS_INTERNAL_TIMER0_INTR_SOURCE,
                                    ESP_INTR_FLAG_LEVEL1 | ESP_INTR_FLAG_INTRDISABLED, park_isr,
                                    NULL, &h) != ESP_OK)
        return false;
    uint32_t bit = 1u << esp_intr_get_intno(h);
    uint32_t en = esp_cpu_intr_get_enabled_mask();
    esp_cpu_intr_disable(en & ~bit);
    s_woke = false;
    ccompare0_set(jit_ccount() + cycles);
    esp_cpu_intr_enable(bit);
    __atomic_store_n(state, (uint32_t)JIT_S_GO, __ATOMIC_RELEASE);
    while (!s_woke)
        esp_cpu_wait_for_intr();
    esp_cpu_intr_disable(bit);
    esp_cpu_intr_enable(en & ~bit);
    return true;
}

bool jit_core0_run(const char *mode, volatile uint32_t *state, volatile uint32_t *park_cycles,
                   bool park, uint32_t timeout_ms)
{
    TickType_t t0 = xTaskGetTickCount();
    while (__atomic_load_n(state, __ATOMIC_ACQUIRE) != JIT_S_READY) {
        if ((xTaskGetTickCount() - t0) > pdMS_TO_TICKS(timeout_ms)) {
            printf("JIT %s core0 timeout waiting for core 1\n", mode);
            return false;
        }
        vTaskDelay(1);
    }
    uint32_t cycles = __atomic_load_n(park_cycles, __ATOMIC_RELAXED);
    bool parked = park && park_core0(cycles, state);
    if (!parked)
        __atomic_store_n(state, (uint32_t)JIT_S_GO, __ATOMIC_RELEASE);
    bool covered = __atomic_load_n(state, __ATOMIC_ACQUIRE) == JIT_S_DONE;
    while (__atomic_load_n(state, __ATOMIC_ACQUIRE) != JIT_S_DONE) {
        if ((xTaskGetTickCount() - t0) > pdMS_TO_TICKS(timeout_ms)) {
            printf("JIT %s core0 timeout waiting for the end of the run\n", mode);
            return false;
        }
        vTaskDelay(pdMS_TO_TICKS(10));
    }
    printf("JIT %s core0 parked=%d covered=%d park_cycles=%lu\n", mode, parked ? 1 : 0,
           covered ? 1 : 0, (unsigned long)cycles);
    __atomic_store_n(state, (uint32_t)JIT_S_IDLE, __ATOMIC_RELEASE); /* ready for another run */
    return true;
}
