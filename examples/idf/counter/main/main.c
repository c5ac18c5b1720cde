/*
 * examples/idf/counter - the original "Part 1" scenario: the counter program (examples/
 * counter, built with the duet SDK and packed with `duet pack`) sits in flash slot A;
 * duet verifies it, loads it into the SRAM window and starts it on core 1. Core 0 prints
 * the counter the program increments in the shared control block (sc_user[0]) once a
 * second, with the supervisor's view of core 1.
 */
#include <inttypes.h>

#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "duet_esp.h"

static const char *TAG = "counter";

void app_main(void)
{
    duet_err_t e = duet_esp_start(NULL); /* defaults from menuconfig */
    if (e != DUET_OK)
        ESP_LOGE(TAG, "duet_esp_start: %s (flash a program with `duet flash`, see README)", duet_err_str(e));
    for (;;) {
        vTaskDelay(pdMS_TO_TICKS(1000));
        volatile duet_shm_ctrl_t *c = duet_esp_ctrl();
        duet_sup_status_t st;
        if (c == NULL || duet_esp_status(&st) != DUET_OK)
            continue;
        ESP_LOGI(TAG, "counter=%" PRIu32 " state=%s heartbeat=%" PRIu32 " epoch=%" PRIu32, c->sc_user[0],
                 duet_sup_state_name(st.state), st.heartbeat, st.epoch);
    }
}
