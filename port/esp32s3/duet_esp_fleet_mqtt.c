/*
 * duet_esp_fleet_mqtt.c - the MQTT side of fleet updates on ESP-IDF (mqtt component):
 * "check now" requests in, the retained status document out (docs/fleet.md, Topics).
 *
 * The client runs in the mqtt component's task; its event handler only reads topics and
 * wakes the fleet task. A small task of ours builds and publishes the status (it takes
 * the supervisor lock, which an event handler should not wait for).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "mqtt_client.h"

#include "duet/api.h"
#include "duet/fleet.h"
#include "duet_esp.h"
#include "duet_esp_fleet.h"
#include "duet_esp_fleet_priv.h"
#include "duet_esp_priv.h"

static const char *TAG = "duet_mqtt";

#define DOC_MAX 6144
#define API_MAX 4096

typedef struct {
    esp_mqtt_client_handle_t client;
    TaskHandle_t task;
    uint32_t status_s;
    volatile bool connected;
    char t_check[128], t_all[128], t_status[128];
    char offline[128];
    duet_api_t *own_api; /* without the HTTP API: one for duet_api_status_json only */
    char api_json[API_MAX];
    char doc[DOC_MAX];
} mqtt_t;

static mqtt_t *s_mqtt;

static bool topic_is(const esp_mqtt_event_t *ev, const char *t)
{
    return ev->topic_len >= 0 && (size_t)ev->topic_len == strlen(t) &&
           memcmp(ev->topic, t, (size_t)ev->topic_len) == 0;
}

static void on_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    mqtt_t *m = arg;
    esp_mqtt_event_t *ev = data;
    (void)base;
    switch ((esp_mqtt_event_id_t)id) {
    case MQTT_EVENT_CONNECTED:
        /* Subscribed on every connect: a clean session forgets subscriptions. */
        esp_mqtt_client_subscribe_single(m->client, m->t_check, 1);
        esp_mqtt_client_subscribe_single(m->client, m->t_all, 1);
        m->connected = true;
        ESP_LOGI(TAG, "connected, listening on %s and %s", m->t_check, m->t_all);
        duet_esp_fleet_mqtt_poke();
        break;
    case MQTT_EVENT_DISCONNECTED:
        m->connected = false;
        break;
    case MQTT_EVENT_DATA:
        /* Only a message's first fragment names its topic. An old retained "check" is
         * not a request made now. */
        if (ev->topic_len > 0 && !ev->retain &&
            (topic_is(ev, m->t_check) || topic_is(ev, m->t_all))) {
            ESP_LOGI(TAG, "check requested on %.*s", ev->topic_len, ev->topic);
            duet_esp_fleet_check_now();
        }
        break;
    default:
        break;
    }
}

/* The HTTP API's own object when it runs, so the document carries exactly what
 * GET /api/status says (upload and token figures included); otherwise a private one,
 * made on first use (about 15 KiB: firmware without the HTTP API only). */
static duet_api_t *status_api(mqtt_t *m)
{
    duet_api_t *a = duet_esp_api();
    if (a != NULL)
        return a;
    if (m->own_api == NULL) {
        duet_api_t *own = calloc(1, sizeof *own);
        if (own == NULL || duet_api_init(own, duet_esp_sup(), NULL, 0) != DUET_OK) {
            free(own);
            return NULL;
        }
        m->own_api = own;
    }
    return m->own_api;
}

static void publish_status(mqtt_t *m)
{
    size_t n = 0;
    duet_esp_lock();
    duet_api_t *api = status_api(m);
    duet_err_t e = api != NULL ? duet_api_status_json(api, m->api_json, sizeof m->api_json, &n)
                               : DUET_ERR_NOMEM;
    duet_esp_unlock();
    duet_fleet_status_t fs;
    bool have_fs = duet_esp_fleet_status(&fs) == DUET_OK;
    size_t len = 0;
    if (duet_fleet_status_doc(m->doc, sizeof m->doc, fs.device_id, true, have_fs ? &fs : NULL,
                              e == DUET_OK ? m->api_json : NULL, &len) != DUET_OK) {
        ESP_LOGE(TAG, "status document larger than %u bytes", (unsigned)sizeof m->doc);
        return;
    }
    if (esp_mqtt_client_publish(m->client, m->t_status, m->doc, (int)len, 1, 1) < 0)
        ESP_LOGW(TAG, "status not published (queue full or not connected)");
}

static void status_task(void *arg)
{
    mqtt_t *m = arg;
    for (;;) {
        TickType_t wait = m->status_s != 0 ? pdMS_TO_TICKS(m->status_s * 1000u) : portMAX_DELAY;
        (void)ulTaskNotifyTake(pdTRUE, wait);
        if (m->connected)
            publish_status(m);
    }
}

duet_err_t duet_esp_fleet_mqtt_start(const char *uri, const char *prefix, const char *device,
                                     uint32_t status_s)
{
    if (s_mqtt != NULL)
        return DUET_ERR_STATE;
    if (prefix == NULL || prefix[0] == '\0')
        prefix = "duet";
    mqtt_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return DUET_ERR_NOMEM;
    m->status_s = status_s;
    snprintf(m->t_check, sizeof m->t_check, "%s/%s/check", prefix, device);
    snprintf(m->t_all, sizeof m->t_all, "%s/all/check", prefix);
    snprintf(m->t_status, sizeof m->t_status, "%s/%s/status", prefix, device);
    size_t wn = 0;
    duet_err_t e =
        duet_fleet_status_doc(m->offline, sizeof m->offline, device, false, NULL, NULL, &wn);
    if (e != DUET_OK) {
        free(m);
        return e;
    }
    char client_id[96];
    snprintf(client_id, sizeof client_id, "duet-%s", device);
    esp_mqtt_client_config_t c = {
        .broker.address.uri = uri,
        .credentials.client_id = client_id, /* copied by esp_mqtt_client_init */
        .session.last_will =
            {
                .topic = m->t_status,
                .msg = m->offline,
                .msg_len = (int)wn,
                .qos = 1,
                .retain = 1,
            },
    };
    m->client = esp_mqtt_client_init(&c);
    if (m->client == NULL) {
        free(m);
        return DUET_ERR_IO;
    }
    if (xTaskCreate(status_task, "duet_mqtt", 4096, m, 2, &m->task) != pdPASS) {
        esp_mqtt_client_destroy(m->client);
        free(m);
        return DUET_ERR_NOMEM;
    }
    s_mqtt = m;
    esp_mqtt_client_register_event(m->client, MQTT_EVENT_ANY, on_event, m);
    if (esp_mqtt_client_start(m->client) != ESP_OK)
        return DUET_ERR_IO; /* the task stays: nothing to publish without a client */
    ESP_LOGI(TAG, "broker %s, status on %s", uri, m->t_status);
    return DUET_OK;
}

void duet_esp_fleet_mqtt_poke(void)
{
    mqtt_t *m = s_mqtt;
    if (m != NULL)
        xTaskNotifyGive(m->task);
}
