/*
 * duet_esp_sys.c - time and log for the portable core on ESP-IDF.
 * esp_timer_get_time (esp_timer/include/esp_timer.h): microseconds since boot, 64-bit,
 * monotonic. Logs go to ESP_LOG with the caller's tag ("duet" or "core1").
 */
#include <stdarg.h>
#include <stdio.h>

#include "esp_log.h"
#include "esp_timer.h"

#include "duet/port.h"
#include "duet_esp_priv.h"

uint64_t duet_port_now_us(void)
{
    return (uint64_t)esp_timer_get_time();
}

void duet_port_log(duet_plog_t level, const char *tag, const char *fmt, ...)
{
    char line[192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (tag == NULL)
        tag = DUET_ESP_TAG;
    switch (level) {
    case DUET_PLOG_ERROR:
        ESP_LOGE(tag, "%s", line);
        break;
    case DUET_PLOG_WARN:
        ESP_LOGW(tag, "%s", line);
        break;
    case DUET_PLOG_INFO:
        ESP_LOGI(tag, "%s", line);
        break;
    default:
        ESP_LOGD(tag, "%s", line);
        break;
    }
}
