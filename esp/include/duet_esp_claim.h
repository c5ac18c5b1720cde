/*
 * duet_esp_claim.h - peripherals core 1 drives itself: core 0 prepares what only it may
 * touch (bus clock and reset in the shared SYSTEM registers, IO MUX and GPIO matrix) and
 * records that core 1 owns them, so core 0's drivers do not fight it.
 *
 * Call before duet_esp_start(); claims stay across automatic restarts of the program and
 * are released by duet_esp_stop() (or duet_esp_release_all()). A second claim of the same
 * resource is refused. On core 1 the program then uses ESP-IDF's register-level headers
 * (hal/gpio_ll.h, hal/timer_ll.h, ...; docs/core1-programs.md "Peripherals").
 *
 * GPIO: reserved with ESP-IDF's GPIO reservation, which ESP-IDF v5.5's LEDC, UART, I2C,
 * I2S, RMT and TWAI drivers check when they take a pin (they log "GPIO n is not usable,
 * maybe conflict with others"); a pin ESP-IDF reserved itself (flash, PSRAM) is refused.
 * Timer: ESP-IDF has no reservation for a timer-group timer: do not create a gptimer on
 * core 0 while core 1 owns one (gptimer takes group 0 before group 1: claim group 1).
 */
#ifndef DUET_ESP_CLAIM_H
#define DUET_ESP_CLAIM_H

#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DUET_ESP_GPIO_OUTPUT = 0, /* IO MUX -> GPIO function, matrix -> plain GPIO out, driver on */
    DUET_ESP_GPIO_INPUT = 1,  /* IO MUX -> GPIO function, input enabled, output off */
} duet_esp_gpio_mode_t;

/** Hand GPIO 'gpio' to core 1 (core 1 then drives it with GPIO_OUT_W1TS/W1TC, e.g.
 *  gpio_ll_set_level, or reads GPIO_IN). @return DUET_OK; DUET_ERR_INVAL (no such pin);
 *  DUET_ERR_BUSY (already claimed, or reserved by ESP-IDF or a core-0 driver). */
duet_err_t duet_esp_claim_gpio(int gpio, duet_esp_gpio_mode_t mode);

/** Hand timer 'timer' (0, 1) of timer group 'group' (0, 1) to core 1: enables the group's
 *  bus clock and releases its reset (reference-counted with ESP-IDF's own users of the
 *  group: the task and interrupt watchdogs). Core 1 configures the timer and routes its
 *  interrupt (ETS_TGn_Tm_LEVEL_INTR_SOURCE) to itself. @return DUET_OK, DUET_ERR_INVAL,
 *  DUET_ERR_BUSY (already claimed). */
duet_err_t duet_esp_claim_timer(int group, int timer);

/** Give everything back: GPIOs reset to inputs (gpio_reset_pin) and unreserved; timers
 *  stopped with their interrupt disabled, group clock reference dropped. Called by
 *  duet_esp_stop(); call it yourself only while core 1 is stopped. */
void duet_esp_release_all(void);

/** What core 1 owns: GPIO bit mask (bit n = GPIO n) and timer mask (bit 2*group+timer). */
typedef struct {
    uint64_t gpio_mask;
    uint32_t timer_mask;
} duet_esp_claims_t;
void duet_esp_claims(duet_esp_claims_t *out);

/** The claims as text, e.g. "gpio 4; timer 1.0" ("none" without any); NUL-terminated. */
void duet_esp_claims_str(char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* DUET_ESP_CLAIM_H */
