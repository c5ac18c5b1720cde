/*
 * sim_mqtt.c - MQTT trigger and retained status of the simulator (sim_mqtt.h).
 *
 * Organisation: the status document, libmosquitto callbacks (run inside
 * mosquitto_loop on our thread), the thread with connect/reconnect, start/stop.
 * Only the thread touches the mosquitto handle; poke() and the fleet's on_check
 * only set 'dirty'.
 */
#include "sim_mqtt.h"

#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duet/fleet.h"
#include "duet/port.h"

#define STATUS_MAX 8192

struct duet_sim_mqtt {
    duet_sim_t *sim;
    duet_sim_fleet_t *fleet;
    duet_sim_mqtt_config_t cfg;
    char prefix[64], device[72];
    char t_check[160], t_all[160], t_status[160];
    struct mosquitto *mq;
    pthread_t thread;
    atomic_int stop;
    atomic_int dirty; /* publish the status soon */
    bool connected;   /* thread only */
    char json[STATUS_MAX];
    char api[STATUS_MAX - 1024];
};

static void say(duet_sim_mqtt_t *m, const char *what, const char *detail)
{
    if (m->cfg.print) {
        printf("mqtt: %s%s%s\n", what, detail != NULL ? " " : "", detail != NULL ? detail : "");
        fflush(stdout);
    }
}

/* {"device":..,"online":true,"fleet":{..},"status":<the HTTP API's status>} */
static int status_doc(duet_sim_mqtt_t *m)
{
    size_t n = 0;
    duet_sim_lock(m->sim);
    duet_err_t e = duet_api_status_json(duet_sim_api(m->sim), m->api, sizeof m->api, &n);
    duet_sim_unlock(m->sim);
    duet_sim_fleet_status_t fs;
    if (m->fleet != NULL)
        duet_sim_fleet_status(m->fleet, &fs);
    size_t len = 0;
    if (duet_fleet_status_doc(m->json, sizeof m->json, m->device, true,
                              m->fleet != NULL ? &fs : NULL, e == DUET_OK ? m->api : NULL,
                              &len) != DUET_OK)
        return -1;
    return (int)len;
}

static void publish_status(duet_sim_mqtt_t *m)
{
    int len = status_doc(m);
    if (len > 0 &&
        mosquitto_publish(m->mq, NULL, m->t_status, len, m->json, 1, true) == MOSQ_ERR_SUCCESS)
        atomic_store(&m->dirty, 0);
}

static void on_connect(struct mosquitto *mq, void *ud, int rc)
{
    duet_sim_mqtt_t *m = ud;
    if (rc != 0) {
        say(m, "broker refused the connection:", mosquitto_connack_string(rc));
        return;
    }
    /* Subscribed on every connect: a clean session forgets subscriptions. */
    mosquitto_subscribe(mq, NULL, m->t_check, 1);
    mosquitto_subscribe(mq, NULL, m->t_all, 1);
    m->connected = true;
    atomic_store(&m->dirty, 1);
    say(m, "connected, listening on", m->t_check);
}

static void on_message(struct mosquitto *mq, void *ud, const struct mosquitto_message *msg)
{
    (void)mq;
    duet_sim_mqtt_t *m = ud;
    if (strcmp(msg->topic, m->t_check) != 0 && strcmp(msg->topic, m->t_all) != 0)
        return;
    if (msg->retain)
        return; /* an old retained "check" is not a request made now */
    say(m, "check requested on", msg->topic);
    duet_sim_fleet_trigger(m->fleet);
}

static uint64_t now_ms(void)
{
    return duet_port_now_us() / 1000u;
}

static void *run(void *arg)
{
    duet_sim_mqtt_t *m = arg;
    uint64_t next_status = 0, next_try = 0;
    uint32_t backoff = 500;
    while (!atomic_load(&m->stop)) {
        uint64_t t = now_ms();
        if (!m->connected) {
            if (t < next_try) {
                struct timespec ts = {0, 50 * 1000000L};
                nanosleep(&ts, NULL);
                continue;
            }
            int rc = mosquitto_connect(m->mq, m->cfg.host, m->cfg.port, 30);
            if (rc != MOSQ_ERR_SUCCESS) {
                say(m, "cannot reach the broker:", mosquitto_strerror(rc));
                next_try = t + backoff;
                backoff = backoff < 16000 ? backoff * 2 : backoff;
                continue;
            }
            backoff = 500;
            m->connected = true; /* on_connect confirms; loop errors below reset it */
        }
        int rc = mosquitto_loop(m->mq, 100, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            m->connected = false;
            say(m, "connection lost:", mosquitto_strerror(rc));
            next_try = now_ms() + backoff;
            continue;
        }
        t = now_ms();
        if (atomic_load(&m->dirty) || (m->cfg.status_ms != 0 && t >= next_status)) {
            publish_status(m);
            next_status = t + m->cfg.status_ms;
        }
    }
    if (m->connected) {
        /* Gone on purpose: say so (the will only covers vanishing). */
        char off[160];
        size_t n = 0;
        if (duet_fleet_status_doc(off, sizeof off, m->device, false, NULL, NULL, &n) == DUET_OK)
            mosquitto_publish(m->mq, NULL, m->t_status, (int)n, off, 1, true);
        for (int i = 0; i < 5; i++)
            (void)mosquitto_loop(m->mq, 20, 1); /* flush; best effort on the way out */
        mosquitto_disconnect(m->mq);
    }
    return NULL;
}

duet_err_t duet_sim_mqtt_start(duet_sim_t *sim, duet_sim_fleet_t *fleet,
                               const duet_sim_mqtt_config_t *cfg, duet_sim_mqtt_t **out)
{
    if (sim == NULL || cfg == NULL || out == NULL || cfg->host == NULL || cfg->device_id == NULL)
        return DUET_ERR_INVAL;
    duet_sim_mqtt_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return DUET_ERR_NOMEM;
    m->sim = sim;
    m->fleet = fleet;
    m->cfg = *cfg;
    if (m->cfg.port == 0)
        m->cfg.port = cfg->ca_file != NULL ? 8883 : 1883;
    snprintf(m->prefix, sizeof m->prefix, "%s", cfg->prefix != NULL ? cfg->prefix : "duet");
    snprintf(m->device, sizeof m->device, "%s", cfg->device_id);
    snprintf(m->t_check, sizeof m->t_check, "%s/%s/check", m->prefix, m->device);
    snprintf(m->t_all, sizeof m->t_all, "%s/all/check", m->prefix);
    snprintf(m->t_status, sizeof m->t_status, "%s/%s/status", m->prefix, m->device);
    mosquitto_lib_init(); /* process-wide; the simulator has one client */
    char client_id[96];
    snprintf(client_id, sizeof client_id, "duet-%s", m->device);
    m->mq = mosquitto_new(client_id, true, m);
    if (m->mq == NULL) {
        free(m);
        return DUET_ERR_NOMEM;
    }
    char will[160];
    size_t wn = 0;
    int rc = duet_fleet_status_doc(will, sizeof will, m->device, false, NULL, NULL, &wn) == DUET_OK
                 ? mosquitto_will_set(m->mq, m->t_status, (int)wn, will, 1, true)
                 : MOSQ_ERR_INVAL;
    if (rc == MOSQ_ERR_SUCCESS && cfg->ca_file != NULL)
        rc = mosquitto_tls_set(m->mq, cfg->ca_file, NULL, NULL, NULL, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(m->mq);
        free(m);
        return DUET_ERR_IO;
    }
    mosquitto_connect_callback_set(m->mq, on_connect);
    mosquitto_message_callback_set(m->mq, on_message);
    if (pthread_create(&m->thread, NULL, run, m) != 0) {
        mosquitto_destroy(m->mq);
        free(m);
        return DUET_ERR_NOMEM;
    }
    *out = m;
    return DUET_OK;
}

void duet_sim_mqtt_poke(duet_sim_mqtt_t *m)
{
    if (m != NULL)
        atomic_store(&m->dirty, 1);
}

void duet_sim_mqtt_stop(duet_sim_mqtt_t *m)
{
    if (m == NULL)
        return;
    atomic_store(&m->stop, 1);
    pthread_join(m->thread, NULL);
    mosquitto_destroy(m->mq);
    free(m);
}
