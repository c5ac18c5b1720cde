/*
 * sim_ext.c - duet-sim's fleet options and the glue that starts the fleet pull and the
 * MQTT client (sim_ext.h). Option values are kept as given (argv outlives the run).
 */
#include "sim_ext.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fleet.h"
#include "sim_mqtt.h"

static struct {
    const char *manifest, *ca, *state, *device_id, *mqtt, *mqtt_prefix, *mqtt_ca;
    uint32_t period_ms, status_ms;
    bool have_period, have_status;
} o;

static duet_sim_fleet_t *s_fleet;
static duet_sim_mqtt_t *s_mqtt; /* guarded by s_lock: the fleet thread pokes it */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static char s_state[4096], s_host[256];

static bool num(const char *v, uint32_t *out)
{
    char *end = NULL;
    unsigned long n = strtoul(v, &end, 10);
    if (end == v || *end != '\0' || n > UINT32_MAX)
        return false;
    *out = (uint32_t)n;
    return true;
}

int sim_ext_option(const char *a, const char *v)
{
    static const char *const with_value[] = {
        "--fleet-manifest", "--fleet-ca",    "--fleet-period-ms", "--fleet-state",    "--device-id",
        "--mqtt",           "--mqtt-prefix", "--mqtt-ca",         "--mqtt-status-ms",
    };
    size_t k = 0;
    for (; k < sizeof with_value / sizeof with_value[0]; k++)
        if (strcmp(a, with_value[k]) == 0)
            break;
    if (k == sizeof with_value / sizeof with_value[0])
        return 0;
    if (v == NULL) {
        fprintf(stderr, "duet-sim: %s needs a value\n", a);
        return -1;
    }
    bool ok = true;
    switch (k) {
    case 0:
        o.manifest = v;
        break;
    case 1:
        o.ca = v;
        break;
    case 2:
        ok = num(v, &o.period_ms), o.have_period = true;
        break;
    case 3:
        o.state = v;
        break;
    case 4:
        o.device_id = v;
        break;
    case 5:
        o.mqtt = v;
        break;
    case 6:
        o.mqtt_prefix = v;
        break;
    case 7:
        o.mqtt_ca = v;
        break;
    case 8:
        ok = num(v, &o.status_ms), o.have_status = true;
        break;
    }
    if (!ok) {
        fprintf(stderr, "duet-sim: %s: not a number: %s\n", a, v);
        return -1;
    }
    return 2;
}

const char *sim_ext_usage(void)
{
    return "                [--fleet-manifest URL] [--fleet-ca FILE] [--fleet-period-ms N]\n"
           "                [--fleet-state FILE] [--device-id ID] [--mqtt HOST[:PORT]]\n"
           "                [--mqtt-prefix P] [--mqtt-ca FILE] [--mqtt-status-ms N]\n";
}

static void on_check(void *user)
{
    (void)user;
    pthread_mutex_lock(&s_lock);
    duet_sim_mqtt_poke(s_mqtt);
    pthread_mutex_unlock(&s_lock);
}

int sim_ext_start(duet_sim_t *sim, const char *flash_path, bool print)
{
    if (o.manifest == NULL && o.mqtt == NULL)
        return 0;
    if (o.manifest == NULL) {
        fprintf(stderr, "duet-sim: --mqtt needs --fleet-manifest (what would it trigger?)\n");
        return -1;
    }
    duet_sim_fleet_config_t fc;
    memset(&fc, 0, sizeof fc);
    fc.manifest_url = o.manifest;
    fc.ca_file = o.ca;
    fc.device_id = o.device_id;
    snprintf(s_state, sizeof s_state, "%s.fleet", flash_path);
    fc.state_path = o.state != NULL ? o.state : s_state;
    fc.period_ms = o.have_period ? o.period_ms : 60000;
    fc.print = print;
    fc.on_check = on_check;
    duet_err_t e = duet_sim_fleet_start(sim, &fc, &s_fleet);
    if (e != DUET_OK) {
        fprintf(stderr, "duet-sim: fleet: %s (state %s)\n", duet_err_str(e), fc.state_path);
        return -1;
    }
    duet_sim_fleet_status_t fs;
    duet_sim_fleet_status(s_fleet, &fs);
    printf("duet-sim: fleet: device %s polls %s every %u ms (last accepted sequence %u)\n",
           fs.device_id, o.manifest, (unsigned)fc.period_ms, (unsigned)fs.last_sequence);
    if (o.mqtt == NULL)
        return 0;
    duet_sim_mqtt_config_t mc;
    memset(&mc, 0, sizeof mc);
    snprintf(s_host, sizeof s_host, "%s", o.mqtt);
    char *colon = strrchr(s_host, ':');
    uint32_t port = 0;
    if (colon != NULL) {
        *colon = '\0';
        if (!num(colon + 1, &port) || port == 0 || port > 65535) {
            fprintf(stderr, "duet-sim: --mqtt HOST[:PORT]: bad port\n");
            return -1;
        }
    }
    mc.host = s_host;
    mc.port = (uint16_t)port;
    mc.ca_file = o.mqtt_ca;
    mc.prefix = o.mqtt_prefix;
    mc.device_id = fs.device_id; /* copied by the client */
    mc.status_ms = o.have_status ? o.status_ms : 5000;
    mc.print = print;
    duet_sim_mqtt_t *m = NULL;
    e = duet_sim_mqtt_start(sim, s_fleet, &mc, &m);
    if (e != DUET_OK) {
        fprintf(stderr, "duet-sim: mqtt: %s\n", duet_err_str(e));
        return -1;
    }
    pthread_mutex_lock(&s_lock);
    s_mqtt = m;
    pthread_mutex_unlock(&s_lock);
    printf("duet-sim: mqtt: %s:%u, topics %s/%s/{check,status} and %s/all/check\n", mc.host,
           (unsigned)(mc.port != 0 ? mc.port : 1883), mc.prefix != NULL ? mc.prefix : "duet",
           fs.device_id, mc.prefix != NULL ? mc.prefix : "duet");
    fflush(stdout);
    return 0;
}

void sim_ext_stop(void)
{
    /* The client first (it triggers the fleet); the fleet's on_check finds NULL. */
    pthread_mutex_lock(&s_lock);
    duet_sim_mqtt_t *m = s_mqtt;
    s_mqtt = NULL;
    pthread_mutex_unlock(&s_lock);
    duet_sim_mqtt_stop(m);
    duet_sim_fleet_stop(s_fleet);
    s_fleet = NULL;
}
