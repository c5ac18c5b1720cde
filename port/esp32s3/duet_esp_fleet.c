/*
 * duet_esp_fleet.c - fleet pull on ESP-IDF (duet_esp_fleet.h): the task, NVS memory and
 * the esp_http_client transport of the portable check (core/fleet.c).
 *
 * Locks: the supervisor lock (duet_esp_lock) is taken by the check around every
 * supervisor/OTA call only, never while waiting on the network; s_st guards the status
 * other tasks read (MQTT, the application).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_crt_bundle.h"
#include "esp_http_client.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "nvs.h"
#include "sdkconfig.h"

#include "duet/fleet.h"
#include "duet_esp.h"
#include "duet_esp_fleet.h"
#include "duet_esp_fleet_priv.h"

static const char *TAG = "duet_fleet";

#define NVS_NS "duet"
#define NVS_SEQ "fleet_seq"
#define NVS_ID "fleet_id"
#define IMG_CHUNK 2048

typedef struct {
    duet_esp_fleet_config_t cfg;
    char url[DUET_MANIFEST_URL_MAX + 1];
    char id[DUET_FLEET_ID_MAX + 1];
    duet_fleet_t fleet;
    TaskHandle_t task;
    SemaphoreHandle_t st;
    char hdr_etag[DUET_FLEET_ETAG_MAX]; /* of the response being read */
    long range_start;                   /* its Content-Range start, -1 without */
    uint8_t chunk[IMG_CHUNK];
} fleet_t;

static fleet_t *s_fleet;

/* ---- NVS -------------------------------------------------------------------------- */

static void nvs_load(char *id, size_t cap, uint32_t *seq)
{
    nvs_handle_t h;
    *seq = 0;
    if (nvs_open(NVS_NS, NVS_READONLY, &h) != ESP_OK)
        return; /* nothing stored yet */
    (void)nvs_get_u32(h, NVS_SEQ, seq);
    size_t n = cap;
    if (id[0] == '\0' && nvs_get_str(h, NVS_ID, id, &n) != ESP_OK)
        id[0] = '\0';
    nvs_close(h);
}

static duet_err_t op_store(void *ctx, const char *id, uint32_t seq)
{
    (void)ctx;
    (void)id; /* the id is provisioned or derived, never made up: nothing to keep */
    nvs_handle_t h;
    if (nvs_open(NVS_NS, NVS_READWRITE, &h) != ESP_OK)
        return DUET_ERR_IO;
    esp_err_t r = nvs_set_u32(h, NVS_SEQ, seq);
    if (r == ESP_OK)
        r = nvs_commit(h);
    nvs_close(h);
    return r == ESP_OK ? DUET_OK : DUET_ERR_IO;
}

/* ---- HTTPS (esp_http_client) -------------------------------------------------------- */

static esp_err_t on_event(esp_http_client_event_t *ev)
{
    fleet_t *f = ev->user_data;
    if (ev->event_id != HTTP_EVENT_ON_HEADER || ev->header_key == NULL || ev->header_value == NULL)
        return ESP_OK;
    if (strcasecmp(ev->header_key, "ETag") == 0) {
        size_t n = strlen(ev->header_value);
        if (n < sizeof f->hdr_etag) /* longer: treated as none (never a cut one) */
            memcpy(f->hdr_etag, ev->header_value, n + 1);
    } else if (strcasecmp(ev->header_key, "Content-Range") == 0) {
        unsigned long a = 0;
        if (sscanf(ev->header_value, "bytes %lu-", &a) == 1)
            f->range_start = (long)a;
    }
    return ESP_OK;
}

/* A GET with the headers read. Returns the handle (close + cleanup by the caller) or
 * NULL on a transport error. */
static esp_http_client_handle_t get(fleet_t *f, const char *url, const char *etag,
                                    uint32_t from, int *status)
{
    esp_http_client_config_t c = {
        .url = url,
        .event_handler = on_event,
        .user_data = f,
        .timeout_ms = (int)f->cfg.timeout_ms,
        .buffer_size = 1024,
        .keep_alive_enable = false,
    };
    if (f->cfg.ca_pem != NULL)
        c.cert_pem = f->cfg.ca_pem;
    else
        c.crt_bundle_attach = esp_crt_bundle_attach;
    f->hdr_etag[0] = '\0';
    f->range_start = -1;
    esp_http_client_handle_t h = esp_http_client_init(&c);
    if (h == NULL)
        return NULL;
    char range[32];
    if (etag != NULL && etag[0] != '\0')
        esp_http_client_set_header(h, "If-None-Match", etag);
    if (from > 0) {
        snprintf(range, sizeof range, "bytes=%lu-", (unsigned long)from);
        esp_http_client_set_header(h, "Range", range);
    }
    if (esp_http_client_open(h, 0) != ESP_OK || esp_http_client_fetch_headers(h) < 0) {
        esp_http_client_cleanup(h);
        return NULL;
    }
    *status = esp_http_client_get_status_code(h);
    return h;
}

static void done_with(esp_http_client_handle_t h)
{
    esp_http_client_close(h);
    esp_http_client_cleanup(h);
}

static duet_err_t op_get_manifest(void *ctx, const char *etag, char *body, size_t cap,
                                  size_t *len, long *status, char etag_out[DUET_FLEET_ETAG_MAX])
{
    fleet_t *f = ctx;
    int st = 0;
    *status = 0;
    esp_http_client_handle_t h = get(f, f->url, etag, 0, &st);
    if (h == NULL)
        return DUET_ERR_FETCH;
    *status = st;
    duet_err_t e = DUET_OK;
    size_t n = 0;
    if (st == 200) {
        for (;;) {
            if (n >= cap - 1) {
                e = DUET_ERR_MANIFEST; /* longer than any manifest may be */
                break;
            }
            int r = esp_http_client_read(h, body + n, (int)(cap - 1 - n));
            if (r < 0) {
                e = DUET_ERR_FETCH;
                break;
            }
            if (r == 0)
                break;
            n += (size_t)r;
        }
        if (e == DUET_OK && !esp_http_client_is_complete_data_received(h))
            e = DUET_ERR_FETCH; /* cut: never parse half a manifest */
        body[n] = '\0';
        *len = n;
        memcpy(etag_out, f->hdr_etag, DUET_FLEET_ETAG_MAX);
    } else if (st != 304) {
        e = DUET_ERR_FETCH;
    }
    done_with(h);
    return e;
}

static duet_err_t op_get_image(void *ctx, const char *url, uint32_t size, duet_fleet_sink_fn sink,
                               void *sink_ctx, uint32_t *resumes)
{
    fleet_t *f = ctx;
    uint32_t have = 0;
    for (uint32_t attempt = 0;; attempt++) {
        int st = 0;
        esp_http_client_handle_t h = get(f, url, NULL, have, &st);
        duet_err_t e = DUET_OK;
        bool cut = h == NULL;
        if (h != NULL) {
            uint32_t skip = 0;
            if (st == 200)
                skip = have; /* the server ignored Range: drop what we have */
            else if (!(st == 206 && f->range_start == (long)have))
                e = DUET_ERR_FETCH; /* another status, or a range we did not ask for */
            while (e == DUET_OK) {
                int r = esp_http_client_read(h, (char *)f->chunk, sizeof f->chunk);
                if (r <= 0) {
                    cut = r < 0 || !esp_http_client_is_complete_data_received(h);
                    break;
                }
                uint32_t off = (uint32_t)r < skip ? (uint32_t)r : skip;
                skip -= off;
                if ((uint32_t)r - off > size - have) {
                    e = DUET_ERR_IMG_TOO_BIG; /* more bytes than the signed manifest says */
                    break;
                }
                if ((uint32_t)r > off) {
                    e = sink(sink_ctx, f->chunk + off, (size_t)r - off);
                    have += (uint32_t)r - off;
                }
            }
            done_with(h);
        }
        if (e != DUET_OK)
            return e;
        if (have == size)
            return DUET_OK;
        if (!cut)
            return DUET_ERR_IMG_TRUNCATED; /* the server's whole file is shorter */
        if (attempt >= f->cfg.retries)
            return DUET_ERR_FETCH;
        /* Dropped mid-image: ask for the rest. The OTA session stays open meanwhile. */
        (*resumes)++;
        ESP_LOGW(TAG, "image connection dropped at %lu of %lu bytes: resuming",
                 (unsigned long)have, (unsigned long)size);
        vTaskDelay(pdMS_TO_TICKS(100u << (attempt < 5 ? attempt : 5)));
    }
}

/* ---- locks, narration ----------------------------------------------------------------- */

static void op_sup_lock(void *ctx)
{
    (void)ctx;
    duet_esp_lock();
}

static void op_sup_unlock(void *ctx)
{
    (void)ctx;
    duet_esp_unlock();
}

static void op_st_lock(void *ctx)
{
    (void)xSemaphoreTake(((fleet_t *)ctx)->st, portMAX_DELAY); /* cannot time out */
}

static void op_st_unlock(void *ctx)
{
    (void)xSemaphoreGive(((fleet_t *)ctx)->st);
}

static void op_say(void *ctx, const char *line)
{
    (void)ctx;
    ESP_LOGI(TAG, "%s", line);
}

static const duet_fleet_ops_t s_ops = {
    .get_manifest = op_get_manifest,
    .get_image = op_get_image,
    .store = op_store,
    .sup_lock = op_sup_lock,
    .sup_unlock = op_sup_unlock,
    .st_lock = op_st_lock,
    .st_unlock = op_st_unlock,
    .say = op_say,
};

/* ---- task, public API ----------------------------------------------------------------- */

static void fleet_task(void *arg)
{
    fleet_t *f = arg;
    for (;;) {
        duet_fleet_check(&f->fleet);
        duet_esp_fleet_mqtt_poke();
        TickType_t wait = f->cfg.period_s != 0 ? pdMS_TO_TICKS(f->cfg.period_s * 1000u)
                                               : portMAX_DELAY;
        (void)ulTaskNotifyTake(pdTRUE, wait); /* a trigger or the period */
    }
}

void duet_esp_fleet_config_default(duet_esp_fleet_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
#ifdef CONFIG_DUET_FLEET
    cfg->manifest_url = CONFIG_DUET_FLEET_MANIFEST_URL;
    cfg->device_id = CONFIG_DUET_FLEET_DEVICE_ID[0] != '\0' ? CONFIG_DUET_FLEET_DEVICE_ID : NULL;
    cfg->period_s = CONFIG_DUET_FLEET_PERIOD_S;
    cfg->retries = CONFIG_DUET_FLEET_RETRIES;
    cfg->timeout_ms = CONFIG_DUET_FLEET_TIMEOUT_MS;
    cfg->stack = CONFIG_DUET_FLEET_STACK;
    cfg->mqtt_uri = CONFIG_DUET_FLEET_MQTT_URI;
    cfg->mqtt_prefix = CONFIG_DUET_FLEET_MQTT_PREFIX;
    cfg->mqtt_status_s = CONFIG_DUET_FLEET_MQTT_STATUS_S;
#else
    cfg->period_s = 3600;
    cfg->retries = 5;
    cfg->timeout_ms = 10000;
    cfg->stack = 8192;
    cfg->mqtt_prefix = "duet";
    cfg->mqtt_status_s = 60;
#endif
}

duet_err_t duet_esp_fleet_start(const duet_esp_fleet_config_t *cfg_in)
{
    duet_esp_fleet_config_t cfg;
    if (cfg_in == NULL)
        duet_esp_fleet_config_default(&cfg);
    else
        cfg = *cfg_in;
    if (s_fleet != NULL || duet_esp_sup() == NULL)
        return DUET_ERR_STATE;
    if (cfg.manifest_url == NULL || cfg.manifest_url[0] == '\0' ||
        strlen(cfg.manifest_url) > DUET_MANIFEST_URL_MAX)
        return DUET_ERR_INVAL;
    fleet_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return DUET_ERR_NOMEM;
    f->cfg = cfg;
    memcpy(f->url, cfg.manifest_url, strlen(cfg.manifest_url) + 1);
    f->cfg.manifest_url = f->url;
    if (cfg.device_id != NULL)
        snprintf(f->id, sizeof f->id, "%s", cfg.device_id);
    uint32_t seq = 0;
    nvs_load(f->id, sizeof f->id, &seq);
    if (f->id[0] == '\0') {
        uint8_t mac[6];
        if (esp_efuse_mac_get_default(mac) != ESP_OK ||
            duet_fleet_hex_id(mac, sizeof mac, f->id, sizeof f->id) != DUET_OK) {
            free(f);
            return DUET_ERR_IO;
        }
    }
    f->cfg.device_id = f->id;
    f->st = xSemaphoreCreateMutex();
    duet_err_t e = f->st != NULL ? DUET_OK : DUET_ERR_NOMEM;
    if (e == DUET_OK)
        e = duet_fleet_init(&f->fleet, duet_esp_sup(), &s_ops, f, f->url, f->id, seq);
    if (e != DUET_OK) {
        if (f->st != NULL)
            vSemaphoreDelete(f->st);
        free(f);
        return e;
    }
    ESP_LOGI(TAG, "device %s, last sequence %lu, manifest %s, every %lu s", f->id,
             (unsigned long)seq, f->url, (unsigned long)cfg.period_s);
    s_fleet = f;
    if (cfg.mqtt_uri != NULL && cfg.mqtt_uri[0] != '\0') {
        e = duet_esp_fleet_mqtt_start(cfg.mqtt_uri, cfg.mqtt_prefix, f->id, cfg.mqtt_status_s);
        if (e != DUET_OK)
            ESP_LOGE(TAG, "MQTT not started (%s): polling only", duet_err_str(e));
    }
    if (xTaskCreate(fleet_task, "duet_fleet", cfg.stack, f, CONFIG_DUET_TASK_PRIORITY - 1,
                    &f->task) != pdPASS) {
        s_fleet = NULL; /* MQTT may hold the id: the fleet block stays allocated */
        return DUET_ERR_NOMEM;
    }
    return DUET_OK;
}

void duet_esp_fleet_check_now(void)
{
    fleet_t *f = s_fleet;
    if (f != NULL && f->task != NULL)
        xTaskNotifyGive(f->task);
}

duet_err_t duet_esp_fleet_status(duet_fleet_status_t *st)
{
    if (s_fleet == NULL || st == NULL)
        return DUET_ERR_STATE;
    duet_fleet_status(&s_fleet->fleet, st);
    return DUET_OK;
}
