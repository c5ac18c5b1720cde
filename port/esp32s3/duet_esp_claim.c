/*
 * duet_esp_claim.c - peripherals handed to core 1 (esp/include/duet_esp_claim.h).
 *
 * Core 0 does what only it may: the IO MUX function and GPIO matrix of a pin, the bus
 * clock / reset bits in the SYSTEM block (shared registers, read-modify-written under
 * ESP-IDF's own lock: periph_module_enable), and ESP-IDF's GPIO reservation. Core 1 then
 * touches only the claimed peripheral's own registers. The masks are the record; a
 * critical section keeps their updates whole, the ESP-IDF calls run outside it.
 */
#include "duet_esp_claim.h"

#include <stdio.h>
#include <string.h>

#include "esp_log.h"
#include "esp_private/esp_gpio_reserve.h"
#include "esp_private/periph_ctrl.h"
#include "esp_rom_gpio.h"
#include "freertos/FreeRTOS.h"
#include "hal/gpio_ll.h"
#include "hal/timer_ll.h"
#include "soc/gpio_sig_map.h"
#include "soc/io_mux_reg.h"
#include "soc/soc_caps.h"

#include "duet_esp_priv.h"

static portMUX_TYPE s_mux = portMUX_INITIALIZER_UNLOCKED;
static uint64_t s_gpio;  /* claimed by core 1 */
static uint32_t s_timer; /* bit 2*group+timer */

/* Take 'bit' in *mask unless it is set already. */
static bool take64(uint64_t *mask, uint64_t bit)
{
    taskENTER_CRITICAL(&s_mux);
    bool ok = (*mask & bit) == 0;
    *mask |= bit;
    taskEXIT_CRITICAL(&s_mux);
    return ok;
}

duet_err_t duet_esp_claim_gpio(int gpio, duet_esp_gpio_mode_t mode)
{
    if (gpio < 0 || gpio >= SOC_GPIO_PIN_COUNT ||
        ((SOC_GPIO_VALID_OUTPUT_GPIO_MASK >> gpio) & 1u) == 0 ||
        (mode != DUET_ESP_GPIO_OUTPUT && mode != DUET_ESP_GPIO_INPUT))
        return DUET_ERR_INVAL;
    uint64_t bit = 1ULL << gpio;
    if (!take64(&s_gpio, bit))
        return DUET_ERR_BUSY;
    if (esp_gpio_reserve(bit) & bit) { /* ESP-IDF or a core-0 driver has it */
        taskENTER_CRITICAL(&s_mux);
        s_gpio &= ~bit;
        taskEXIT_CRITICAL(&s_mux);
        ESP_LOGE(DUET_ESP_TAG, "claim gpio %d: reserved by ESP-IDF or a core-0 driver", gpio);
        return DUET_ERR_BUSY;
    }
    gpio_ll_pullup_dis(&GPIO, (uint32_t)gpio);
    gpio_ll_pulldown_dis(&GPIO, (uint32_t)gpio);
    gpio_ll_func_sel(&GPIO, (uint8_t)gpio, PIN_FUNC_GPIO);
    if (mode == DUET_ESP_GPIO_OUTPUT) {
        gpio_ll_od_disable(&GPIO, (uint32_t)gpio);
        esp_rom_gpio_connect_out_signal((uint32_t)gpio, SIG_GPIO_OUT_IDX, false, false);
        gpio_ll_output_enable(&GPIO, (uint32_t)gpio);
    } else {
        gpio_ll_output_disable(&GPIO, (uint32_t)gpio);
    }
    gpio_ll_input_enable(&GPIO, (uint32_t)gpio);
    ESP_LOGI(DUET_ESP_TAG, "claim: gpio %d (%s) for core 1", gpio,
             mode == DUET_ESP_GPIO_OUTPUT ? "output" : "input");
    return DUET_OK;
}

static periph_module_t timg_module(int group)
{
    return group == 0 ? PERIPH_TIMG0_MODULE : PERIPH_TIMG1_MODULE;
}

duet_err_t duet_esp_claim_timer(int group, int timer)
{
    if (group < 0 || group > 1 || timer < 0 || timer > 1)
        return DUET_ERR_INVAL;
    uint32_t bit = 1u << (2 * group + timer);
    taskENTER_CRITICAL(&s_mux);
    bool ok = (s_timer & bit) == 0;
    s_timer |= bit;
    taskEXIT_CRITICAL(&s_mux);
    if (!ok)
        return DUET_ERR_BUSY;
    periph_module_enable(timg_module(group)); /* reference-counted: reset only if first */
    ESP_LOGI(DUET_ESP_TAG, "claim: timer group %d timer %d for core 1", group, timer);
    return DUET_OK;
}

void duet_esp_release_all(void)
{
    taskENTER_CRITICAL(&s_mux);
    uint64_t g = s_gpio;
    uint32_t t = s_timer;
    s_gpio = 0;
    s_timer = 0;
    taskEXIT_CRITICAL(&s_mux);
    for (int n = 0; n < SOC_GPIO_PIN_COUNT; n++) {
        if ((g >> n) & 1u) {
            gpio_ll_output_disable(&GPIO, (uint32_t)n); /* stop driving it */
            gpio_ll_input_enable(&GPIO, (uint32_t)n);
            esp_gpio_revoke(1ULL << n);
        }
    }
    for (int b = 0; b < 4; b++) {
        if ((t >> b) & 1u) {
            int group = b / 2, timer = b % 2;
            timg_dev_t *hw = TIMER_LL_GET_HW(group);
            timer_ll_enable_counter(hw, (uint32_t)timer, false);
            timer_ll_enable_alarm(hw, (uint32_t)timer, false);
            /* int_ena is shared with the group's watchdog: core 1 is stopped, so core 0's
             * read-modify-write here races with nothing of duet's. */
            timer_ll_enable_intr(hw, TIMER_LL_EVENT_ALARM(timer), false);
            timer_ll_clear_intr_status(hw, TIMER_LL_EVENT_ALARM(timer));
            periph_module_disable(timg_module(group));
        }
    }
    if (g != 0 || t != 0)
        ESP_LOGI(DUET_ESP_TAG, "claims released (gpio mask 0x%llx, timer mask 0x%lx)",
                 (unsigned long long)g, (unsigned long)t);
}

void duet_esp_claims(duet_esp_claims_t *out)
{
    taskENTER_CRITICAL(&s_mux);
    out->gpio_mask = s_gpio;
    out->timer_mask = s_timer;
    taskEXIT_CRITICAL(&s_mux);
}

void duet_esp_claims_str(char *buf, size_t cap)
{
    duet_esp_claims_t c;
    duet_esp_claims(&c);
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < 64 && n < cap; i++)
        if ((c.gpio_mask >> i) & 1u)
            n += (size_t)snprintf(buf + n, cap - n, "%sgpio %d", n ? "; " : "", i);
    for (int b = 0; b < 4 && n < cap; b++)
        if ((c.timer_mask >> b) & 1u)
            n += (size_t)snprintf(buf + n, cap - n, "%stimer %d.%d", n ? "; " : "", b / 2, b % 2);
    if (n == 0)
        snprintf(buf, cap, "none");
}

/* duet/port.h: the claims as the status shows them ("" instead of "none"). */
void duet_port_core1_owns(char *buf, size_t cap)
{
    duet_esp_claims_str(buf, cap);
    if (strcmp(buf, "none") == 0)
        buf[0] = '\0';
}
