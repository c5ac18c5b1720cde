/*
 * examples/idf/jitter/freertos - the jitter comparison (b): the same jitter_loop.c as the
 * duet program, run by a FreeRTOS task pinned to core 1 at the highest priority in a
 * dual-core build. Core 1 still takes its own tick (CONFIG_FREERTOS_HZ) and whatever
 * else ESP-IDF routes to it; the histogram shows those as spikes.
 */
#include <stdio.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "jitter_core0.h"
#include "jitter_loop.h"

#ifndef CONFIG_JITTER_PARK_CORE0
#define CONFIG_JITTER_PARK_CORE0 0
#endif

static jit_hist_t s_h[2];
static volatile uint32_t s_state, s_park;

/* With the park (emulator): first core 0 parked ("freertos"), then core 0 running
 * ("freertos-live"); without: one run with core 0 running. */
static void loop_task(void *arg)
{
    (void)arg;
    for (int run = 0; run < 1 + CONFIG_JITTER_PARK_CORE0; run++) {
        while (run > 0 && __atomic_load_n(&s_state, __ATOMIC_ACQUIRE) != JIT_S_IDLE)
            ;
        uint32_t x = jit_measure(&s_h[run], &s_state, &s_park, CONFIG_JITTER_ITERATIONS,
                                 CONFIG_JITTER_WORK, NULL);
        printf("JIT freertos%s result=%lu\n", run ? "-live" : "", (unsigned long)x);
    }
    vTaskDelete(NULL);
}

static void report(const jit_hist_t *h, const char *mode)
{
    char buf[112];
    jit_format_summary(h, mode, buf, sizeof buf);
    printf("%s\n", buf);
    for (unsigned i = 0; i < JIT_BUCKETS; i++) {
        if (h->bucket[i] != 0) {
            jit_format_bucket(h, mode, i, buf, sizeof buf);
            printf("%s\n", buf);
        }
    }
    printf("JIT %s end\n", mode);
}

void app_main(void)
{
    printf("jitter: %d iterations, %d rounds each, task on core 1\n", CONFIG_JITTER_ITERATIONS,
           CONFIG_JITTER_WORK);
    xTaskCreatePinnedToCore(loop_task, "jitter", 4096, NULL, configMAX_PRIORITIES - 1, NULL, 1);
    if (!jit_core0_run("freertos", &s_state, &s_park, CONFIG_JITTER_PARK_CORE0, 60000))
        return;
    report(&s_h[0], "freertos");
    if (CONFIG_JITTER_PARK_CORE0 && jit_core0_run("freertos-live", &s_state, &s_park, false, 60000))
        report(&s_h[1], "freertos-live");
}
