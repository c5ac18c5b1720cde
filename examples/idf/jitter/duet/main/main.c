/*
 * examples/idf/jitter/duet - core 0 of the jitter comparison (a): start the loop on
 * core 1 with duet, hand over (and, on the emulator, park core 0 while it measures:
 * CONFIG_JITTER_PARK_CORE0, followed by a second run with core 0 running), then keep
 * core 0 running while core 1 reports.
 */
#include <stdio.h>

#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "duet_esp.h"
#include "jitter_core0.h"

#ifndef CONFIG_JITTER_PARK_CORE0
#define CONFIG_JITTER_PARK_CORE0 0
#endif

void app_main(void)
{
    volatile duet_shm_ctrl_t *c;
    duet_err_t e = duet_esp_start(NULL);
    if (e != DUET_OK || (c = duet_esp_ctrl()) == NULL) {
        ESP_LOGE("jitter", "duet_esp_start: %s", duet_err_str(e));
        return;
    }
    if (jit_core0_run("duet", &c->sc_user[1], &c->sc_user[2], CONFIG_JITTER_PARK_CORE0, 60000) &&
        CONFIG_JITTER_PARK_CORE0) /* then once more with core 0 running: "duet-live" */
        jit_core0_run("duet-live", &c->sc_user[1], &c->sc_user[2], false, 60000);
    for (;;)
        vTaskDelay(pdMS_TO_TICKS(1000));
}
