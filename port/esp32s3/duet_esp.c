/*
 * duet_esp.c - the ESP-IDF face of duet (esp/include/duet_esp.h): initialisation, the
 * supervisor task, the lock, events to the console, linked mode, install from RAM.
 *
 * Organisation: config defaults from Kconfig; one-time init (memory check, partitions,
 * core-1 control, doorbell, supervisor, task); start variants; thin locked wrappers
 * around duet_sup_*; the event callback; optional auto-start.
 * The portable supervisor is single-threaded (include/duet/port.h): every call into it
 * holds s_lock, a recursive FreeRTOS mutex shared with the HTTP glue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"

#include "duet/api.h"
#include "duet/crash_fmt.h"
#include "duet/ota.h"
#include "duet/port.h"
#include "duet/sup.h"
#include "duet_esp.h"
#include "duet_esp_claim.h"
#include "duet_esp_http.h"
#include "duet_esp_priv.h"

_Static_assert(sizeof(size_t) == sizeof(uint32_t),
               "the S3 has 32-bit sizes (OTA lengths are uint32_t)");

static duet_sup_t s_sup;
static SemaphoreHandle_t s_lock;
static bool s_ready;
static TaskHandle_t s_task;
static uint32_t s_poll_ms = CONFIG_DUET_POLL_PERIOD_MS;
static duet_sup_event_fn s_user_cb;
static void *s_user;
static duet_api_t *s_api;
static duet_ota_t s_ota;
static char s_crash_text[1024];

/* ---- config ----------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool parse_pubkey(const char *hex, uint8_t out[DUET_IMG_PUBKEY_LEN])
{
    if (strlen(hex) != 2 * DUET_IMG_PUBKEY_LEN)
        return false;
    for (unsigned i = 0; i < DUET_IMG_PUBKEY_LEN; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return out[0] == 0x04;
}

void duet_esp_config_default(duet_esp_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    duet_sup_config_default(&cfg->sup);
    cfg->sup.heartbeat_timeout_ms = CONFIG_DUET_HEARTBEAT_TIMEOUT_MS;
    cfg->sup.boot_timeout_ms = CONFIG_DUET_BOOT_TIMEOUT_MS;
#if CONFIG_DUET_RECOVERY_OFF
    cfg->sup.recovery = DUET_RECOVERY_OFF;
#elif CONFIG_DUET_RECOVERY_ONCE
    cfg->sup.recovery = DUET_RECOVERY_ONCE;
#else
    cfg->sup.recovery = DUET_RECOVERY_ON;
#endif
    cfg->sup.backoff_initial_ms = CONFIG_DUET_BACKOFF_INITIAL_MS;
    cfg->sup.backoff_max_ms = CONFIG_DUET_BACKOFF_MAX_MS;
    cfg->sup.crash_loop_limit = CONFIG_DUET_CRASH_LOOP_LIMIT;
    cfg->sup.crash_loop_window_ms = CONFIG_DUET_CRASH_LOOP_WINDOW_MS;
    cfg->sup.confirm_heartbeats = CONFIG_DUET_CONFIRM_HEARTBEATS;
    cfg->sup.shm.log_ring_size = CONFIG_DUET_LOG_RING_SIZE;
    /* Both ways: duet_sup_config_default() starts from the secure default (true). */
#if CONFIG_DUET_REQUIRE_SIGNATURE
    cfg->sup.require_signature = true;
#else
    cfg->sup.require_signature = false;
#endif
    if (parse_pubkey(CONFIG_DUET_PUBKEY_HEX, cfg->sup.keys[0]))
        cfg->sup.key_count = 1;
    else if (CONFIG_DUET_PUBKEY_HEX[0] != '\0')
        ESP_LOGE(DUET_ESP_TAG,
                 "CONFIG_DUET_PUBKEY_HEX is not 130 hex digits starting with 04: ignored");
    cfg->start_core1 = true;
#if CONFIG_DUET_HTTP_API
    cfg->http = true;
    cfg->http_port = CONFIG_DUET_HTTP_PORT;
    cfg->http_token = CONFIG_DUET_HTTP_TOKEN;
#endif
    cfg->poll_period_ms = CONFIG_DUET_POLL_PERIOD_MS;
    cfg->task_stack = CONFIG_DUET_TASK_STACK;
    cfg->task_priority = CONFIG_DUET_TASK_PRIORITY;
}

/* ---- lock ------------------------------------------------------------------------- */

void duet_esp_lock(void)
{
    if (s_lock != NULL)
        (void)xSemaphoreTakeRecursive(s_lock, portMAX_DELAY); /* cannot time out */
}

void duet_esp_unlock(void)
{
    if (s_lock != NULL)
        (void)xSemaphoreGiveRecursive(s_lock); /* held by this task: cannot fail */
}

/* ---- events ----------------------------------------------------------------------- */

static void print_crash(const duet_crash_t *c)
{
    duet_crash_fmt_opts_t o = {.chip = DUET_CHIP_ESP32S3};
    size_t len = 0;
    /* Truncation (DUET_ERR_NOMEM) still leaves a NUL-terminated, useful prefix. */
    (void)duet_crash_format(c, &o, s_crash_text, sizeof s_crash_text, &len);
    char *line = s_crash_text;
    while (line != NULL && *line != '\0') {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        ESP_LOGE(DUET_ESP_TAG_C1, "%s", line);
        line = nl != NULL ? nl + 1 : NULL;
    }
}

static void on_event(void *user, const duet_sup_event_t *ev)
{
    (void)user;
    switch (ev->type) {
    case DUET_EV_LOG:
        if (s_api != NULL && ev->text != NULL)
            duet_api_log_line(s_api, ev->level, ev->text, ev->text_len);
        break; /* the supervisor already printed it with tag "core1" */
    case DUET_EV_CRASH:
        if (ev->crash != NULL)
            print_crash(ev->crash);
        break;
    case DUET_EV_HANG:
        ESP_LOGE(DUET_ESP_TAG, "core 1 missed its heartbeat deadline");
        break;
    case DUET_EV_CONFIRMED:
        ESP_LOGI(DUET_ESP_TAG, "slot %c confirmed", 'A' + ev->slot);
        break;
    case DUET_EV_ROLLBACK:
        ESP_LOGW(DUET_ESP_TAG, "rolled back to slot %c", 'A' + ev->slot);
        break;
    case DUET_EV_UPDATED:
        ESP_LOGI(DUET_ESP_TAG, "new image installed in slot %c", 'A' + ev->slot);
        break;
    case DUET_EV_GAVE_UP:
        ESP_LOGE(DUET_ESP_TAG, "crash loop: core 1 stays down (%s)", duet_err_str(ev->err));
        break;
    default:
        break;
    }
    if (s_user_cb != NULL)
        s_user_cb(s_user, ev);
}

/* ---- supervisor task -------------------------------------------------------------- */

static void sup_task(void *arg)
{
    (void)arg;
    for (;;) {
        duet_esp_lock();
        /* Errors of a poll are reported through events and the log; the next poll
         * retries, so there is nothing more to do with the code here. */
        (void)duet_sup_poll(&s_sup);
        duet_esp_unlock();
        /* Sleep until the period ends or core 1 rings (crash, log burst). */
        (void)duet_port_doorbell_wait(s_poll_ms * 1000u);
    }
}

/* ---- init and start --------------------------------------------------------------- */

static duet_err_t init_once(const duet_esp_config_t *cfg, bool need_partitions)
{
    if (s_lock == NULL) {
        s_lock = xSemaphoreCreateRecursiveMutex();
        if (s_lock == NULL)
            return DUET_ERR_NOMEM;
    }
    duet_esp_lock();
    duet_err_t e = DUET_OK;
    if (need_partitions)
        e = duet_esp_flash_init();
    if (e == DUET_OK && !s_ready) {
        e = duet_esp_mem_check();
        if (e == DUET_OK)
            e = duet_esp_core1_init();
        if (e == DUET_OK)
            e = duet_esp_doorbell_init();
        if (e == DUET_OK) {
            duet_sup_config_t sc = cfg->sup;
            s_user_cb = sc.on_event;
            s_user = sc.user;
            sc.on_event = on_event;
            sc.user = NULL;
            e = duet_sup_init(&s_sup, &sc);
        }
        if (e == DUET_OK) {
            s_poll_ms = cfg->poll_period_ms ? cfg->poll_period_ms : CONFIG_DUET_POLL_PERIOD_MS;
            if (xTaskCreate(sup_task, "duet_sup", cfg->task_stack, NULL, cfg->task_priority,
                            &s_task) != pdPASS)
                e = DUET_ERR_NOMEM;
        }
        if (e == DUET_OK)
            s_ready = true;
    }
    duet_esp_unlock();
#if CONFIG_DUET_HTTP_API
    /* Compiled only with the option, so a firmware without it links no HTTP server (an
     * application may still call duet_esp_http_start() itself). */
    if (e == DUET_OK && cfg->http) {
        duet_err_t h = duet_esp_http_start(cfg->http_port, cfg->http_token, NULL);
        if (h != DUET_OK && h != DUET_ERR_STATE) /* STATE: already serving */
            ESP_LOGE(DUET_ESP_TAG, "HTTP API not started: %s", duet_err_str(h));
    }
#else
    if (e == DUET_OK && cfg->http)
        ESP_LOGW(DUET_ESP_TAG,
                 "cfg.http ignored: built without CONFIG_DUET_HTTP_API (call duet_esp_http_start)");
#endif
    if (e != DUET_OK)
        ESP_LOGE(DUET_ESP_TAG, "init failed: %s", duet_err_str(e));
    return e;
}

duet_err_t duet_esp_start(const duet_esp_config_t *cfg)
{
    duet_esp_config_t def;
    if (cfg == NULL) {
        duet_esp_config_default(&def);
        cfg = &def;
    }
    DUET_TRY(init_once(cfg, true));
    if (!cfg->start_core1)
        return DUET_OK;
    duet_esp_lock();
    duet_esp_core1_set_linked(NULL, 0, NULL);
    duet_err_t e = duet_sup_start(&s_sup);
    duet_esp_unlock();
    if (e != DUET_OK)
        ESP_LOGE(DUET_ESP_TAG, "core 1 not started: %s", duet_err_str(e));
    return e;
}

duet_err_t duet_esp_start_linked(const duet_esp_config_t *cfg, const uint8_t *image, size_t len)
{
    duet_esp_config_t def;
    if (image == NULL || len == 0)
        return DUET_ERR_INVAL;
    if (cfg == NULL) {
        duet_esp_config_default(&def);
        cfg = &def;
    }
    DUET_TRY(init_once(cfg, false));
    duet_esp_lock();
    duet_img_policy_t pol;
    duet_img_info_t info;
    duet_err_t e = duet_sup_policy(&s_sup, &pol);
    if (e == DUET_OK) {
        pol.max_image_size = (uint32_t)len;
        e = duet_img_verify_buf(image, len, &pol, &info);
    }
    if (e == DUET_OK) {
        duet_esp_core1_set_linked(image, len, &info);
        e = duet_sup_start_linked(&s_sup, &info);
    }
    if (e != DUET_OK)
        duet_esp_core1_set_linked(NULL, 0, NULL);
    duet_esp_unlock();
    if (e != DUET_OK)
        ESP_LOGE(DUET_ESP_TAG, "linked program not started: %s", duet_err_str(e));
    return e;
}

static duet_err_t locked(duet_err_t (*fn)(duet_sup_t *))
{
    if (!s_ready)
        return DUET_ERR_STATE;
    duet_esp_lock();
    duet_err_t e = fn(&s_sup);
    duet_esp_unlock();
    return e;
}

duet_err_t duet_esp_stop(void)
{
    duet_err_t e = locked(duet_sup_stop);
    if (e == DUET_OK)
        duet_esp_release_all(); /* core 1 no longer drives what it claimed */
    return e;
}

duet_err_t duet_esp_restart(void)
{
    return locked(duet_sup_restart);
}

duet_err_t duet_esp_rollback(void)
{
    return locked(duet_sup_rollback);
}

duet_err_t duet_esp_status(duet_sup_status_t *st)
{
    if (st == NULL)
        return DUET_ERR_INVAL;
    if (!s_ready)
        return DUET_ERR_STATE;
    duet_esp_lock();
    duet_sup_get_status(&s_sup, st);
    duet_esp_unlock();
    return DUET_OK;
}

duet_err_t duet_esp_install(const void *image, size_t len, bool activate, duet_img_info_t *info)
{
    if (image == NULL || len == 0)
        return DUET_ERR_INVAL;
    if (!s_ready)
        return DUET_ERR_STATE;
    duet_esp_lock();
    duet_err_t e = duet_ota_begin(&s_ota, &s_sup, (uint32_t)len);
    /* Feed in pieces so the flash writes interleave with nothing long on the lock. */
    const uint8_t *p = image;
    for (size_t off = 0; e == DUET_OK && off < len; off += 4096u) {
        size_t n = len - off < 4096u ? len - off : 4096u;
        e = duet_ota_write(&s_ota, p + off, n);
    }
    if (e == DUET_OK)
        e = duet_ota_finish(&s_ota, activate, info);
    else
        duet_ota_abort(&s_ota);
    duet_esp_unlock();
    return e;
}

volatile duet_shm_ctrl_t *duet_esp_ctrl(void)
{
    if (!s_ready)
        return NULL;
    return (volatile duet_shm_ctrl_t *)duet_port_shm(NULL);
}

duet_sup_t *duet_esp_sup(void)
{
    return s_ready ? &s_sup : NULL;
}

bool duet_esp_ready(void)
{
    return s_ready;
}

void duet_esp_set_api(void *api)
{
    s_api = api;
}

void *duet_esp_api(void)
{
    return s_api;
}

esp_err_t duet_esp_err(duet_err_t e)
{
    return e == DUET_OK ? ESP_OK : (esp_err_t)(ESP_ERR_DUET_BASE + (int)e);
}

/* ---- auto-start ------------------------------------------------------------------- */
#if CONFIG_DUET_AUTOSTART
static void autostart_task(void *arg)
{
    (void)arg;
    duet_esp_config_t cfg;
    duet_esp_config_default(&cfg);
    /* This task runs before app_main, so before the application initialised esp_netif /
     * lwIP: httpd_start() here would open a socket on an uninitialised TCP/IP stack.
     * With CONFIG_DUET_HTTP_API the application calls duet_esp_http_start() once its
     * network is up (Kconfig help of DUET_AUTOSTART). */
    cfg.http = false;
    /* Errors are logged by duet_esp_start; the application can retry. */
    (void)duet_esp_start(&cfg);
    vTaskDelete(NULL);
}

/* Runs from IDF's do_global_ctors() on core 0, before the scheduler starts: creating a
 * task there is allowed by FreeRTOS; the task runs once the scheduler is up. */
__attribute__((constructor)) static void duet_autostart(void)
{
    (void)xTaskCreate(autostart_task, "duet_autostart", CONFIG_DUET_TASK_STACK, NULL,
                      CONFIG_DUET_TASK_PRIORITY,
                      NULL); /* failure (no heap this early) = no auto-start */
}
#endif
