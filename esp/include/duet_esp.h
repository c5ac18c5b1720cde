/*
 * duet_esp.h - ESP-IDF API of duet: run a verified, supervised bare-metal program on
 * core 1 of the ESP32-S3 while ESP-IDF (CONFIG_FREERTOS_UNICORE=y) runs on core 0.
 *
 * One supervisor per firmware. duet_esp_start() checks the memory reservation, finds
 * the partitions (esp/partitions_duet.csv), allocates the doorbell, starts a FreeRTOS
 * task that runs duet_sup_poll() (heartbeat deadline, recovery, A/B confirm/revert, log
 * drain to ESP_LOG tag "core1", crash records printed with build-id) and starts core 1
 * from the active slot. Everything is configured in menuconfig (Component config ->
 * duet); duet_esp_config_default() reads it.
 *
 * Thread safety: every function here takes the supervisor lock; call them from any
 * task (not from ISRs). Event callbacks run in the supervisor task with the lock held
 * and may call these functions (the lock is recursive).
 *
 * Errors are duet_err_t (duet/err.h); duet_esp_err() maps one to an esp_err_t in the
 * range ESP_ERR_DUET_BASE + code.
 */
#ifndef DUET_ESP_H
#define DUET_ESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"

#include "duet/err.h"
#include "duet/image.h"
#include "duet/shm.h"
#include "duet/sup.h"

#ifdef __cplusplus
extern "C" {
#endif

/** esp_err_t base of duet codes (unused by ESP-IDF v5.x, whose bases stop at 0xF000). */
#define ESP_ERR_DUET_BASE 0x1D000

typedef struct {
    duet_sup_config_t sup;       /* supervisor policy (Kconfig defaults); sup.on_event is
                                    the application's event callback (may be NULL) */
    bool start_core1;            /* start the program (false: only init + HTTP) */
    bool http;                   /* start esp_http_server with the duet API */
    uint16_t http_port;
    const char *http_token;      /* bearer token for writes; NULL/"" refuses writes */
    uint32_t poll_period_ms;
    uint32_t task_stack;
    unsigned task_priority;
} duet_esp_config_t;

/** Fill cfg from menuconfig (CONFIG_DUET_*). */
void duet_esp_config_default(duet_esp_config_t *cfg);

/** Init (once) and start core 1 from the active slot (falls back to the other good one).
 *  cfg NULL = duet_esp_config_default().
 *  @return DUET_OK; DUET_ERR_STATE (window not reserved / heap overlaps it, or already
 *  running); DUET_ERR_NOT_FOUND (partitions missing); DUET_ERR_NO_IMAGE; DUET_ERR_NOMEM;
 *  DUET_ERR_BUSY (doorbell interrupt unavailable); DUET_ERR_IMG_* (image refused). */
duet_err_t duet_esp_start(const duet_esp_config_t *cfg);

/** Linked mode: start a program that is part of the firmware (an image embedded with
 *  EMBED_FILES / target_add_binary_data, see examples/idf/linked). It is verified like a
 *  slot image, needs no partition, and every (re)start reloads it from the firmware, so
 *  a restart re-enters the same entry with fresh data. 'image' must stay valid (flash
 *  rodata). Same errors as duet_esp_start (no NOT_FOUND/NO_IMAGE). */
duet_err_t duet_esp_start_linked(const duet_esp_config_t *cfg, const uint8_t *image, size_t len);

/** Stop core 1 (reset + stall); the supervisor goes STOPPED. */
duet_err_t duet_esp_stop(void);
/** Stop and start the same program again (new epoch). */
duet_err_t duet_esp_restart(void);
/** Make the other slot active (it must hold a verified image) and restart. */
duet_err_t duet_esp_rollback(void);
/** Snapshot of the supervisor. DUET_ERR_STATE before the first start. */
duet_err_t duet_esp_status(duet_sup_status_t *st);

/** Write a whole image from RAM into the inactive slot, verify it (hash, signature,
 *  security counter, window), mark it PENDING and, with activate, restart into it.
 *  Nothing selectable changes if it is refused. */
duet_err_t duet_esp_install(const void *image, size_t len, bool activate, duet_img_info_t *info);

/** The shared control block (e.g. sc_user words), or NULL before init. Read its fields
 *  with 32-bit loads only (duet/shm.h). */
volatile duet_shm_ctrl_t *duet_esp_ctrl(void);

/** Flash lockout of XIP programs (CONFIG_DUET_LOAD_XIP), core 0's view: how often core 1
 *  was parked around a cache-disabling flash operation, how often the hardware stall
 *  had to do it (no ack within CONFIG_DUET_XIP_PARK_TIMEOUT_US), core 0's wait for the
 *  ack, and how long core 1 was held (ack or stall to release: the cache-off window),
 *  in core-0 CPU cycles (CCOUNT). Core 1's own count of parked cycles is in the control
 *  block (sc_park_count/last/max/total). All zero in RAM mode: nothing is parked. */
typedef struct {
    uint32_t parks;
    uint32_t stalls;
    uint32_t ack_last_cycles;
    uint32_t ack_max_cycles;
    uint32_t held_last_cycles;
    uint32_t held_max_cycles;
    uint32_t held_total_cycles; /* wraps; differences of two readings are exact */
} duet_esp_park_stats_t;
void duet_esp_park_stats(duet_esp_park_stats_t *out);

/** The supervisor and its lock, for applications that call duet_sup_* or open channels
 *  themselves (hold the lock around such calls). */
duet_sup_t *duet_esp_sup(void);
void duet_esp_lock(void);
void duet_esp_unlock(void);

/** Map a duet error to esp_err_t (DUET_OK -> ESP_OK). */
esp_err_t duet_esp_err(duet_err_t e);

#ifdef __cplusplus
}
#endif
#endif /* DUET_ESP_H */
