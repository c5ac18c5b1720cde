/*
 * examples/idf/linked - the original "Part 0": the core-1 program is part of the
 * firmware. It is built from the same SDK sources as a slot program and linked into the
 * app as data (an ESP-IDF app cannot place RAM segments inside the window: the 2nd-stage
 * bootloader refuses segments over its own load area, bootloader_support/src/
 * esp_image_format.c verify_load_addresses). duet_esp_start_linked() verifies it, and
 * every start - including automatic restarts after a crash or hang - copies it into the
 * window again and re-enters the same entry with fresh data.
 * Core 0 prints the shared counter once a second and restarts core 1 every 20 s.
 */
#include <inttypes.h>
#include <stdint.h>

#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "duet_esp.h"

extern const uint8_t _binary_duet_linked_image_start[];
extern const uint8_t _binary_duet_linked_image_end[];

static const char *TAG = "linked";

void app_main(void)
{
    size_t len = (size_t)(_binary_duet_linked_image_end - _binary_duet_linked_image_start);
    duet_err_t e = duet_esp_start_linked(NULL, _binary_duet_linked_image_start, len);
    if (e != DUET_OK) {
        ESP_LOGE(TAG, "duet_esp_start_linked: %s", duet_err_str(e));
        return;
    }
    for (unsigned s = 1;; s++) {
        vTaskDelay(pdMS_TO_TICKS(1000));
        volatile duet_shm_ctrl_t *c = duet_esp_ctrl();
        duet_sup_status_t st;
        if (c == NULL || duet_esp_status(&st) != DUET_OK)
            continue;
        ESP_LOGI(TAG, "counter=%" PRIu32 " state=%s epoch=%" PRIu32, c->sc_user[0], duet_sup_state_name(st.state),
                 st.epoch);
        if (s % 20 == 0) {
            ESP_LOGI(TAG, "restarting core 1 (same entry, new epoch)");
            e = duet_esp_restart();
            if (e != DUET_OK)
                ESP_LOGE(TAG, "restart: %s", duet_err_str(e));
        }
    }
}
