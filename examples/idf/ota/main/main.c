/*
 * examples/idf/ota - core 1 updated over the network: ESP-IDF's protocol_examples_common
 * brings up Wi-Fi station or Ethernet (menuconfig: Example Connection Configuration),
 * then duet starts core 1 from its active slot and serves the HTTP API and web page
 * (CONFIG_DUET_HTTP_API=y in sdkconfig.defaults): http://<ip>/ shows status, uploads a
 * new image into the inactive slot (streamed, verified before it can run) and shows the
 * last crash. Writes need "Authorization: Bearer <CONFIG_DUET_HTTP_TOKEN>".
 */
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"

#include "duet_esp.h"

static const char *TAG = "duet_ota";

void app_main(void)
{
    esp_err_t r = nvs_flash_init();
    if (r == ESP_ERR_NVS_NO_FREE_PAGES || r == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        r = nvs_flash_init();
    }
    ESP_ERROR_CHECK(r);
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(example_connect());

    /* Starts core 1 (if a slot holds a good image) and the HTTP API; with empty slots the
     * API still comes up so the first image can be pushed. */
    duet_err_t e = duet_esp_start(NULL);
    if (e != DUET_OK)
        ESP_LOGW(TAG, "core 1 not running yet (%s): push an image with `duet push`", duet_err_str(e));
}
