/*
 * sim_fleet.c - the simulator's fleet pull (sim_fleet.h): the thread, the state file and
 * the ops (libcurl transport) of the portable check in core/fleet.c.
 *
 * Locks: f->lock guards the status and the trigger flag (read by other threads); the
 * sim lock is taken around every supervisor/OTA call only, never while waiting on the
 * network (the HTTP server's contract, sim.h). The OTA session is the check's own
 * duet_ota_t: an HTTP push at the same time gets BUSY, and so does a pull during a push
 * (retried at the next check).
 */
#include "sim_fleet.h"

#include <errno.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duet/fleet.h"
#include "sim_fleet_fetch.h"

struct duet_sim_fleet {
    duet_sim_t *sim;
    duet_sim_fleet_config_t cfg;
    pthread_t thread;
    pthread_mutex_t lock; /* the status inside 'fleet' and 'triggered' */
    pthread_cond_t cond;
    bool triggered; /* guarded by lock */
    atomic_int stop;
    fleet_fetch_opts_t fo;
    duet_fleet_t fleet; /* the portable check (core/fleet.c) */
};

/* ---- state file: "device_id ID\nsequence N\n" ------------------------------------- */

static duet_err_t state_load(duet_sim_fleet_t *f, char *id, size_t cap, uint32_t *seq)
{
    FILE *fp = fopen(f->cfg.state_path, "r");
    id[0] = '\0';
    *seq = 0;
    if (fp == NULL)
        return errno == ENOENT ? DUET_OK : DUET_ERR_IO;
    char line[160], v[80];
    unsigned long n;
    while (fgets(line, sizeof line, fp) != NULL) {
        if (sscanf(line, "device_id %79s", v) == 1 && strlen(v) < cap)
            memcpy(id, v, strlen(v) + 1);
        else if (sscanf(line, "sequence %lu", &n) == 1 && n <= UINT32_MAX)
            *seq = (uint32_t)n;
    }
    fclose(fp);
    return DUET_OK;
}

/* Atomic replace: a crash mid-write leaves the old state, never a torn one. */
static duet_err_t state_store(duet_sim_fleet_t *f, const char *id, uint32_t seq)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->cfg.state_path);
    FILE *fp = fopen(tmp, "w");
    if (fp == NULL)
        return DUET_ERR_IO;
    int bad = fprintf(fp, "device_id %s\nsequence %lu\n", id, (unsigned long)seq) < 0;
    bad |= fflush(fp) != 0;
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, f->cfg.state_path) != 0)
        return DUET_ERR_IO;
    return DUET_OK;
}

static duet_err_t new_device_id(char *id, size_t cap)
{
    unsigned char b[8];
    FILE *r = fopen("/dev/urandom", "rb");
    if (r == NULL)
        return DUET_ERR_IO;
    size_t n = fread(b, 1, sizeof b, r);
    fclose(r);
    if (n != sizeof b || cap < 2 * sizeof b + 1)
        return DUET_ERR_IO;
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
    return DUET_OK;
}

/* ---- the ops of the portable check (duet/fleet.h) ----------------------------------- */

static void say(void *ctx, const char *line)
{
    duet_sim_fleet_t *f = ctx;
    if (f->cfg.print) {
        printf("fleet: %s\n", line); /* one call: lines of threads never interleave */
        fflush(stdout);
    }
}

static duet_err_t op_get_manifest(void *ctx, const char *etag, char *body, size_t cap, size_t *len,
                                  long *status, char etag_out[DUET_FLEET_ETAG_MAX])
{
    duet_sim_fleet_t *f = ctx;
    return fleet_get_manifest(&f->fo, f->cfg.manifest_url, etag, body, cap, len, status, etag_out);
}

static duet_err_t op_get_image(void *ctx, const char *url, uint32_t size, duet_fleet_sink_fn sink,
                               void *sink_ctx, uint32_t *resumes)
{
    duet_sim_fleet_t *f = ctx;
    return fleet_get_image(&f->fo, url, size, sink, sink_ctx, resumes);
}

static duet_err_t op_store(void *ctx, const char *id, uint32_t seq)
{
    return state_store(ctx, id, seq);
}

static void op_sup_lock(void *ctx)
{
    duet_sim_lock(((duet_sim_fleet_t *)ctx)->sim);
}

static void op_sup_unlock(void *ctx)
{
    duet_sim_unlock(((duet_sim_fleet_t *)ctx)->sim);
}

static void op_st_lock(void *ctx)
{
    pthread_mutex_lock(&((duet_sim_fleet_t *)ctx)->lock);
}

static void op_st_unlock(void *ctx)
{
    pthread_mutex_unlock(&((duet_sim_fleet_t *)ctx)->lock);
}

static const duet_fleet_ops_t ops = {
    .get_manifest = op_get_manifest,
    .get_image = op_get_image,
    .store = op_store,
    .sup_lock = op_sup_lock,
    .sup_unlock = op_sup_unlock,
    .st_lock = op_st_lock,
    .st_unlock = op_st_unlock,
    .say = say,
};

/* ---- thread ------------------------------------------------------------------------- */

static void *run(void *arg)
{
    duet_sim_fleet_t *f = arg;
    for (;;) {
        duet_fleet_check(&f->fleet);
        if (f->cfg.on_check != NULL)
            f->cfg.on_check(f->cfg.user);
        pthread_mutex_lock(&f->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)f->cfg.period_ms * 1000000u;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        while (!f->triggered && !atomic_load(&f->stop)) {
            int rc = f->cfg.period_ms != 0 ? pthread_cond_timedwait(&f->cond, &f->lock, &until)
                                           : pthread_cond_wait(&f->cond, &f->lock);
            if (rc != 0)
                break; /* the period is over */
        }
        f->triggered = false;
        pthread_mutex_unlock(&f->lock);
        if (atomic_load(&f->stop))
            return NULL;
    }
}

duet_err_t duet_sim_fleet_start(duet_sim_t *sim, const duet_sim_fleet_config_t *cfg,
                                duet_sim_fleet_t **out)
{
    if (sim == NULL || cfg == NULL || out == NULL || cfg->manifest_url == NULL ||
        cfg->state_path == NULL)
        return DUET_ERR_INVAL;
    duet_sim_fleet_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return DUET_ERR_NOMEM;
    f->sim = sim;
    f->cfg = *cfg;
    if (f->cfg.retries == 0)
        f->cfg.retries = 5;
    if (f->cfg.timeout_ms == 0)
        f->cfg.timeout_ms = 10000;
    char id[DUET_FLEET_ID_MAX + 1];
    uint32_t seq = 0;
    duet_err_t e = state_load(f, id, sizeof id, &seq);
    if (e == DUET_OK && cfg->device_id != NULL)
        snprintf(id, sizeof id, "%s", cfg->device_id);
    else if (e == DUET_OK && id[0] == '\0')
        e = new_device_id(id, sizeof id);
    if (e == DUET_OK)
        e = state_store(f, id, seq); /* fails early if the place is not writable */
    if (e != DUET_OK) {
        free(f);
        return e;
    }
    f->fo = (fleet_fetch_opts_t){f->cfg.ca_file, f->cfg.timeout_ms, f->cfg.retries, &f->stop};
    e = duet_fleet_init(&f->fleet, duet_sim_sup(sim), &ops, f, f->cfg.manifest_url, id, seq);
    if (e != DUET_OK) {
        free(f);
        return e;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT); /* thread-safe since 7.84; once is enough */
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&f->thread, NULL, run, f) != 0) {
        pthread_cond_destroy(&f->cond);
        pthread_mutex_destroy(&f->lock);
        free(f);
        return DUET_ERR_NOMEM;
    }
    *out = f;
    return DUET_OK;
}

void duet_sim_fleet_trigger(duet_sim_fleet_t *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->triggered = true;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

void duet_sim_fleet_status(duet_sim_fleet_t *f, duet_sim_fleet_status_t *st)
{
    duet_fleet_status(&f->fleet, st);
}

void duet_sim_fleet_stop(duet_sim_fleet_t *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    atomic_store(&f->stop, 1);
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
