/*
 * examples/idf/peripherals - core 0 hands peripherals to core 1 and watches them work.
 *
 * 1. duet_esp_claim_gpio(4, output): IO MUX + GPIO matrix + ESP-IDF's GPIO reservation
 *    (a second claim is refused); slot A's gpio_wave toggles the pin at 1 kHz through
 *    hal/gpio_ll.h; core 0 reads the GPIO_OUT register and the edge count core 1
 *    publishes, then duet_esp_stop() releases the pin.
 * 2. duet_esp_claim_timer(1, 0): the group's bus clock and reset; the linked timer_irq
 *    program routes TG1 timer 0's alarm (1 ms) to its own interrupt; core 0 reports the
 *    interrupt rate against esp_timer's clock.
 * Lines starting with "PERIPH" are what scripts/target-sc-periph.sh judges.
 */
#include <inttypes.h>
#include <stdio.h>

#include "esp_rom_sys.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "soc/gpio_reg.h"
#include "soc/soc.h"

#include "duet_esp.h"
#include "duet_esp_claim.h"

#define WAVE_GPIO 4

extern const uint8_t _binary_duet_linked_image_start[];
extern const uint8_t _binary_duet_linked_image_end[];

static void show_claims(const char *when)
{
    char s[96];
    duet_esp_claims_str(s, sizeof s);
    printf("PERIPH claims %s: %s\n", when, s);
}

static uint32_t user0(void)
{
    return duet_esp_ctrl()->sc_user[0];
}

/* sc_user[0] per second of esp_timer time, over 'ms'. */
static uint32_t rate_per_s(uint32_t ms, uint32_t *delta)
{
    uint32_t a = user0();
    int64_t t0 = esp_timer_get_time();
    vTaskDelay(pdMS_TO_TICKS(ms));
    uint32_t b = user0();
    int64_t us = esp_timer_get_time() - t0;
    *delta = b - a;
    return (uint32_t)((uint64_t)(b - a) * 1000000u / (uint64_t)us);
}

static void gpio_demo(void)
{
    duet_err_t e = duet_esp_claim_gpio(WAVE_GPIO, DUET_ESP_GPIO_OUTPUT);
    printf("PERIPH claim gpio %d: %s\n", WAVE_GPIO, duet_err_str(e));
    e = duet_esp_claim_gpio(WAVE_GPIO, DUET_ESP_GPIO_OUTPUT);
    printf("PERIPH second claim gpio %d: %s\n", WAVE_GPIO, duet_err_str(e));
    show_claims("running");
    if ((e = duet_esp_start(NULL)) != DUET_OK) {
        printf("PERIPH gpio_wave not started: %s\n", duet_err_str(e));
        return;
    }
    vTaskDelay(pdMS_TO_TICKS(500));
    /* The pin's bit of GPIO_OUT, sampled every 50 us for 20 ms: a 1 kHz wave changes it
     * about 40 times. */
    unsigned changes = 0, ones = 0;
    uint32_t prev = (REG_READ(GPIO_OUT_REG) >> WAVE_GPIO) & 1u;
    for (int i = 0; i < 400; i++) {
        esp_rom_delay_us(50);
        uint32_t v = (REG_READ(GPIO_OUT_REG) >> WAVE_GPIO) & 1u;
        changes += v != prev;
        ones += v;
        prev = v;
    }
    uint32_t delta, rate = rate_per_s(1000, &delta);
    printf("PERIPH gpio out_changes=%u of 400 samples (high %u) edges_per_s=%" PRIu32 "\n", changes,
           ones, rate);
    e = duet_esp_stop();
    printf("PERIPH stop: %s\n", duet_err_str(e));
    show_claims("after stop");
}

static void timer_demo(void)
{
    duet_err_t e = duet_esp_claim_timer(1, 0);
    printf("PERIPH claim timer 1.0: %s\n", duet_err_str(e));
    show_claims("running");
    size_t len = (size_t)(_binary_duet_linked_image_end - _binary_duet_linked_image_start);
    if ((e = duet_esp_start_linked(NULL, _binary_duet_linked_image_start, len)) != DUET_OK) {
        printf("PERIPH timer_irq not started: %s\n", duet_err_str(e));
        return;
    }
    vTaskDelay(pdMS_TO_TICKS(500));
    for (int i = 0; i < 3; i++) {
        uint32_t delta, rate = rate_per_s(1000, &delta);
        printf("PERIPH timer irqs=%" PRIu32 " per_s=%" PRIu32 "\n", delta, rate);
    }
    e = duet_esp_stop();
    printf("PERIPH stop: %s\n", duet_err_str(e));
    show_claims("after stop");
}

void app_main(void)
{
    gpio_demo();
    timer_demo();
    printf("PERIPH done\n");
    for (;;)
        vTaskDelay(pdMS_TO_TICKS(1000));
}
