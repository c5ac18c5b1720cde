/*
 * sim.c - one simulator instance (see sim.h): wiring of host flash, supervisor, OTA
 * session, HTTP API and server around one lock.
 *
 * Organisation: config helpers, open/close, install (local OTA), supervisor wrappers,
 * the stepping loop. Nothing here knows a program: the host port does the process work.
 */
#include "sim.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet/host_port.h"
#include "duet/http_server.h"
#include "duet/ota.h"
#include "duet/port.h"
#include "duet/slot.h"

struct duet_sim {
    duet_sim_config_t cfg;
    pthread_mutex_t lock;
    duet_sup_t sup;
    duet_api_t api;
    duet_ota_t ota; /* local installs (HTTP uploads use api.ota) */
    duet_http_server_t *http;
};

void duet_sim_config_default(duet_sim_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    duet_sup_config_default(&cfg->sup);
    cfg->sup.require_signature = false; /* the simulator accepts unsigned images */
    cfg->sup.shm.log_ring_size = 8192;
    duet_host_flash_geom_t g = DUET_HOST_FLASH_GEOM_DEFAULT;
    g.slot_size = DUET_SIM_SLOT_SIZE;
    cfg->geom = g;
    cfg->max_upload = DUET_SIM_MAX_UPLOAD;
    cfg->log_level = DUET_PLOG_WARN;
}

duet_err_t duet_sim_config_channel(duet_sim_config_t *cfg, const char *name, uint32_t ring_size)
{
    duet_shm_config_t *s = &cfg->sup.shm;
    if (name == NULL || s->chan_count >= DUET_SHM_MAX_CHANNELS)
        return DUET_ERR_INVAL;
    s->chans[s->chan_count].name = name;
    s->chans[s->chan_count].ring_size = ring_size;
    s->chan_count++;
    return DUET_OK;
}

/* Supervisor events: keep log lines for GET /api/log, then the user's observer. */
static void on_event(void *user, const duet_sup_event_t *ev)
{
    duet_sim_t *sim = user;
    if (ev->type == DUET_EV_LOG && ev->text != NULL)
        duet_api_log_line(&sim->api, ev->level, ev->text, ev->text_len);
    if (sim->cfg.on_event != NULL)
        sim->cfg.on_event(sim->cfg.user, ev);
}

duet_err_t duet_sim_open(const duet_sim_config_t *cfg, duet_sim_t **out)
{
    if (cfg == NULL || out == NULL || cfg->flash_path == NULL)
        return DUET_ERR_INVAL;
    duet_sim_t *sim = calloc(1, sizeof *sim);
    if (sim == NULL)
        return DUET_ERR_NOMEM;
    sim->cfg = *cfg;
    duet_host_log_set_level(cfg->log_level != 0 ? cfg->log_level : DUET_PLOG_ERROR);
    pthread_mutex_init(&sim->lock, NULL);
    duet_err_t e = duet_host_flash_open(cfg->flash_path, &cfg->geom);
    if (e != DUET_OK) {
        free(sim);
        return e;
    }
    duet_sup_config_t sc = cfg->sup;
    sc.on_event = on_event;
    sc.user = sim;
    e = duet_sup_init(&sim->sup, &sc);
    if (e == DUET_OK)
        e = duet_api_init(&sim->api, &sim->sup, cfg->token,
                          cfg->max_upload != 0 ? cfg->max_upload : DUET_SIM_MAX_UPLOAD);
    if (e == DUET_OK) {
        duet_api_set_lock(&sim->api, duet_http_mutex_lock, duet_http_mutex_unlock, &sim->lock);
        if (cfg->http) {
            duet_http_config_t hc;
            memset(&hc, 0, sizeof hc);
            hc.host = cfg->http_host;
            hc.port = cfg->http_port;
            hc.api = &sim->api;
            e = duet_http_start(&hc, &sim->http);
        }
    }
    if (e != DUET_OK) {
        duet_host_flash_close();
        pthread_mutex_destroy(&sim->lock);
        free(sim);
        return e;
    }
    *out = sim;
    return DUET_OK;
}

void duet_sim_close(duet_sim_t *sim)
{
    if (sim == NULL)
        return;
    duet_http_stop(sim->http); /* first: no request may touch the supervisor after */
    pthread_mutex_lock(&sim->lock);
    (void)duet_sup_stop(&sim->sup); /* result irrelevant: the port stop below is final */
    (void)duet_port_core1_stop();
    pthread_mutex_unlock(&sim->lock);
    duet_host_flash_close();
    pthread_mutex_destroy(&sim->lock);
    free(sim);
}

duet_err_t duet_sim_install_buf(duet_sim_t *sim, const void *img, size_t len, bool activate,
                                duet_img_info_t *info)
{
    if (sim == NULL || img == NULL || len == 0 || len > UINT32_MAX)
        return DUET_ERR_INVAL;
    pthread_mutex_lock(&sim->lock);
    duet_err_t e = duet_ota_begin(&sim->ota, &sim->sup, (uint32_t)len);
    /* Feed in upload-sized chunks, like the HTTP path does. */
    for (size_t off = 0; e == DUET_OK && off < len; off += 4096)
        e = duet_ota_write(&sim->ota, (const uint8_t *)img + off, len - off < 4096 ? len - off : 4096);
    if (e == DUET_OK)
        e = duet_ota_finish(&sim->ota, activate, info);
    if (e != DUET_OK)
        duet_ota_abort(&sim->ota);
    pthread_mutex_unlock(&sim->lock);
    return e;
}

static duet_err_t read_file(const char *path, uint8_t **out, size_t *out_len)
{
    FILE *f = path != NULL ? fopen(path, "rb") : NULL;
    if (f == NULL)
        return DUET_ERR_IO;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (cap - len < 65536) {
            uint8_t *nb = realloc(buf, cap + (1u << 20));
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return DUET_ERR_NOMEM;
            }
            buf = nb;
            cap += 1u << 20;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return DUET_ERR_IO;
    }
    *out = buf;
    *out_len = len;
    return DUET_OK;
}

duet_err_t duet_sim_install_file(duet_sim_t *sim, const char *path, bool activate,
                                 duet_img_info_t *info)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    DUET_TRY(read_file(path, &buf, &len));
    duet_err_t e = duet_sim_install_buf(sim, buf, len, activate, info);
    free(buf);
    return e;
}

static duet_err_t provision_locked(duet_sim_t *sim, int slot, const void *img, size_t len)
{
    duet_sup_status_t st;
    duet_sup_get_status(&sim->sup, &st);
    if (st.state == DUET_SUP_LOADING || st.state == DUET_SUP_RUNNING)
        return DUET_ERR_STATE;
    duet_img_policy_t pol;
    DUET_TRY(duet_sup_policy(&sim->sup, &pol));
    duet_img_info_t info;
    DUET_TRY(duet_img_verify_buf(img, len, &pol, &info));
    uint32_t size = 0, erase = 0;
    DUET_TRY(duet_port_flash_info((duet_area_t)slot, &size, &erase));
    DUET_TRY(duet_port_flash_erase((duet_area_t)slot, 0, size));
    DUET_TRY(duet_port_flash_write((duet_area_t)slot, 0, img, len));
    duet_slot_rec_t rec;
    bool fresh = false;
    DUET_TRY(duet_slot_load(&rec, &fresh));
    rec.sr_magic = DUET_SLOT_MAGIC;
    rec.sr_active = (uint8_t)slot;
    rec.sr_status[slot] = DUET_SLOT_CONFIRMED;
    rec.sr_boots[slot] = 0;
    /* A confirmed image sets the anti-rollback floor, as a confirmation does. */
    if (info.hdr.ih_security_counter > rec.sr_min_security)
        rec.sr_min_security = info.hdr.ih_security_counter;
    return duet_slot_store(&rec);
}

duet_err_t duet_sim_provision_buf(duet_sim_t *sim, int slot, const void *img, size_t len)
{
    if (sim == NULL || img == NULL || len == 0 || slot < 0 || slot >= (int)DUET_SLOT_COUNT)
        return DUET_ERR_INVAL;
    pthread_mutex_lock(&sim->lock);
    duet_err_t e = provision_locked(sim, slot, img, len);
    pthread_mutex_unlock(&sim->lock);
    return e;
}

duet_err_t duet_sim_provision_file(duet_sim_t *sim, int slot, const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    DUET_TRY(read_file(path, &buf, &len));
    duet_err_t e = duet_sim_provision_buf(sim, slot, buf, len);
    free(buf);
    return e;
}

#define LOCKED(sim, call)                                                                     \
    do {                                                                                      \
        if ((sim) == NULL)                                                                    \
            return DUET_ERR_INVAL;                                                            \
        pthread_mutex_lock(&(sim)->lock);                                                     \
        duet_err_t e_ = (call);                                                               \
        pthread_mutex_unlock(&(sim)->lock);                                                   \
        return e_;                                                                            \
    } while (0)

duet_err_t duet_sim_start(duet_sim_t *sim)
{
    LOCKED(sim, duet_sup_start(&sim->sup));
}

duet_err_t duet_sim_stop(duet_sim_t *sim)
{
    LOCKED(sim, duet_sup_stop(&sim->sup));
}

duet_err_t duet_sim_restart(duet_sim_t *sim)
{
    LOCKED(sim, duet_sup_restart(&sim->sup));
}

duet_err_t duet_sim_rollback(duet_sim_t *sim)
{
    LOCKED(sim, duet_sup_rollback(&sim->sup));
}

void duet_sim_status(duet_sim_t *sim, duet_sup_status_t *st)
{
    pthread_mutex_lock(&sim->lock);
    duet_sup_get_status(&sim->sup, st);
    pthread_mutex_unlock(&sim->lock);
}

duet_err_t duet_sim_step(duet_sim_t *sim, uint32_t wait_us)
{
    if (sim == NULL)
        return DUET_ERR_INVAL;
    /* The doorbell only shortens the wait: the poll below looks at everything anyway. */
    (void)duet_port_doorbell_wait(wait_us);
    LOCKED(sim, duet_sup_poll(&sim->sup));
}

void duet_sim_run_for(duet_sim_t *sim, uint32_t ms)
{
    uint64_t end = duet_port_now_us() + (uint64_t)ms * 1000u;
    while (duet_port_now_us() < end)
        (void)duet_sim_step(sim, 10000);
}

bool duet_sim_run_until(duet_sim_t *sim, bool (*pred)(duet_sim_t *, void *), void *ctx,
                        uint32_t timeout_ms)
{
    uint64_t end = duet_port_now_us() + (uint64_t)timeout_ms * 1000u;
    for (;;) {
        pthread_mutex_lock(&sim->lock);
        bool ok = pred(sim, ctx);
        pthread_mutex_unlock(&sim->lock);
        if (ok)
            return true;
        if (duet_port_now_us() >= end)
            return false;
        (void)duet_sim_step(sim, 5000);
    }
}

void duet_sim_lock(duet_sim_t *sim)
{
    pthread_mutex_lock(&sim->lock);
}

void duet_sim_unlock(duet_sim_t *sim)
{
    pthread_mutex_unlock(&sim->lock);
}

duet_sup_t *duet_sim_sup(duet_sim_t *sim)
{
    return &sim->sup;
}

duet_api_t *duet_sim_api(duet_sim_t *sim)
{
    return &sim->api;
}

duet_shm_ctrl_t *duet_sim_ctrl(duet_sim_t *sim, size_t *size)
{
    (void)sim;
    return duet_port_shm(size);
}

uint16_t duet_sim_http_port(const duet_sim_t *sim)
{
    return sim != NULL && sim->http != NULL ? duet_http_port(sim->http) : 0;
}
