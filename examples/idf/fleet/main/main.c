/*
 * examples/idf/fleet - core 1 updated from an HTTPS server the device polls, and on an
 * MQTT "check now" message (docs/fleet.md). protocol_examples_common brings up Wi-Fi or
 * Ethernet (menuconfig: Example Connection Configuration); duet starts core 1 from its
 * active slot; the fleet task polls CONFIG_DUET_FLEET_MANIFEST_URL every
 * CONFIG_DUET_FLEET_PERIOD_S and, with CONFIG_DUET_FLEET_MQTT_URI, listens on
 * duet/<id>/check and publishes duet/<id>/status (retained).
 *
 * Publish a release for it on the PC:
 *   duet publish counter-2.0.0.img --key release.pem -o www/   (then upload www/ to any
 *   static HTTPS host: the image first, the manifest last)
 */
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"

#include "duet_esp.h"
#include "duet_esp_fleet.h"

static const char *TAG = "duet_fleet_example";

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

    duet_err_t e = duet_esp_start(NULL);
    if (e != DUET_OK)
        ESP_LOGW(TAG, "core 1 not running yet (%s): the fleet pull installs the first release",
                 duet_err_str(e));
    e = duet_esp_fleet_start(NULL); /* CONFIG_DUET_FLEET_* */
    if (e != DUET_OK)
        ESP_LOGE(TAG, "fleet updates not started: %s", duet_err_str(e));
}
