/*
 * sim_fleet.c - the simulator's fleet pull (sim_fleet.h): the thread, one check's
 * decisions, the OTA sink and the state file.
 *
 * Locks: f->lock guards the status, the trigger flag and the ETag (read by other
 * threads); the sim lock is taken around every supervisor/OTA call only, never while
 * waiting on the network (the HTTP server's contract, sim.h). The OTA session is this
 * module's own duet_ota_t: an HTTP push at the same time gets BUSY, and so does a pull
 * during a push (retried at the next check).
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

#include "duet/crypto.h"
#include "duet/manifest.h"
#include "duet/ota.h"
#include "sim_fleet_fetch.h"

struct duet_sim_fleet {
    duet_sim_t *sim;
    duet_sim_fleet_config_t cfg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool triggered; /* guarded by lock */
    atomic_int stop;
    duet_sim_fleet_status_t st; /* guarded by lock */
    char etag[FLEET_ETAG_MAX];  /* ETag of the last manifest fully handled (thread only) */
    duet_ota_t ota;             /* sim lock held around every call */
    duet_sha256_t sha;          /* of the image file as it streams (thread only) */
    char manifest[DUET_MANIFEST_MAX + 1];
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

/* ---- one check ---------------------------------------------------------------------- */

static void say(duet_sim_fleet_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(duet_sim_fleet_t *f, const char *fmt, ...)
{
    if (!f->cfg.print)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("fleet: %s\n", line); /* one call: lines of threads never interleave */
    fflush(stdout);
}

static void record(duet_sim_fleet_t *f, const char *action, duet_err_t e)
{
    pthread_mutex_lock(&f->lock);
    snprintf(f->st.last_action, sizeof f->st.last_action, "%s", action);
    f->st.last_err = e;
    if (strcmp(action, "refused") == 0)
        f->st.refusals++;
    pthread_mutex_unlock(&f->lock);
}

static duet_err_t ota_sink(void *ctx, const void *data, size_t len)
{
    duet_sim_fleet_t *f = ctx;
    DUET_TRY(duet_crypto_sha256_update(&f->sha, data, len));
    duet_sim_lock(f->sim);
    duet_err_t e = duet_ota_write(&f->ota, data, len);
    duet_sim_unlock(f->sim);
    return e;
}

/* Download into the inactive slot and install. The session is always closed after. */
static duet_err_t pull(duet_sim_fleet_t *f, const duet_manifest_t *m, const char *url,
                       const fleet_fetch_opts_t *fo)
{
    duet_sim_lock(f->sim);
    duet_err_t e = duet_ota_begin(&f->ota, duet_sim_sup(f->sim), m->size);
    duet_sim_unlock(f->sim);
    if (e != DUET_OK)
        return e;
    uint32_t resumes = 0;
    e = duet_crypto_sha256_init(&f->sha);
    if (e == DUET_OK) {
        e = fleet_get_image(fo, url, m->size, ota_sink, f, &resumes);
        uint8_t got[DUET_IMG_HASH_LEN];
        duet_err_t he = duet_crypto_sha256_finish(&f->sha, got);
        if (e == DUET_OK)
            e = he;
        /* The file the manifest signed, byte for byte, before anything is installed. */
        if (e == DUET_OK && memcmp(got, m->sha256, sizeof got) != 0)
            e = DUET_ERR_IMG_BAD_HASH;
    }
    pthread_mutex_lock(&f->lock);
    f->st.resumes += resumes;
    pthread_mutex_unlock(&f->lock);
    duet_img_info_t info;
    duet_sim_lock(f->sim);
    if (e == DUET_OK)
        e = duet_ota_finish(&f->ota, true, &info);
    if (e != DUET_OK)
        duet_ota_abort(&f->ota);
    duet_sim_unlock(f->sim);
    if (e == DUET_OK &&
        (strcmp(info.name, m->name) != 0 || info.hdr.ih_security_counter != m->security_counter))
        say(f, "warning: installed image is \"%s\" counter %u, manifest said \"%s\" %u", info.name,
            (unsigned)info.hdr.ih_security_counter, m->name, (unsigned)m->security_counter);
    return e;
}

/* Is this release the one core 1 runs now? */
static bool running(duet_sim_fleet_t *f, const duet_manifest_t *m)
{
    duet_sup_status_t st;
    duet_sim_status(f->sim, &st);
    int a = st.active_slot;
    if (a < 0 || a >= (int)DUET_SLOT_COUNT || !st.slot_valid[a])
        return false;
    const duet_img_hdr_t *h = &st.slot_hdr[a];
    return strcmp(st.slot_name[a], m->name) == 0 && h->ih_ver_major == m->ver_major &&
           h->ih_ver_minor == m->ver_minor && h->ih_ver_patch == m->ver_patch &&
           h->ih_security_counter == m->security_counter;
}

static void accept_sequence(duet_sim_fleet_t *f, uint32_t seq)
{
    pthread_mutex_lock(&f->lock);
    char id[sizeof f->st.device_id];
    memcpy(id, f->st.device_id, sizeof id);
    bool newer = seq > f->st.last_sequence;
    if (newer)
        f->st.last_sequence = seq;
    pthread_mutex_unlock(&f->lock);
    if (newer && state_store(f, id, seq) != DUET_OK)
        say(f, "cannot write %s: a restart forgets sequence %u", f->cfg.state_path, (unsigned)seq);
}

static void check(duet_sim_fleet_t *f)
{
    fleet_fetch_opts_t fo = {f->cfg.ca_file, f->cfg.timeout_ms, f->cfg.retries, &f->stop};
    char etag[FLEET_ETAG_MAX];
    size_t len = 0;
    long status = 0;
    pthread_mutex_lock(&f->lock);
    f->st.checks++;
    uint32_t last = f->st.last_sequence;
    char id[sizeof f->st.device_id];
    memcpy(id, f->st.device_id, sizeof id);
    pthread_mutex_unlock(&f->lock);
    duet_err_t e = fleet_get_manifest(&fo, f->cfg.manifest_url, f->etag, f->manifest,
                                      sizeof f->manifest, &len, &status, etag);
    if (e != DUET_OK) {
        say(f, "manifest %s: %s (HTTP %ld)", f->cfg.manifest_url, duet_err_str(e), status);
        record(f, "failed", e);
        return;
    }
    if (status == 304) {
        pthread_mutex_lock(&f->lock);
        f->st.not_modified++;
        pthread_mutex_unlock(&f->lock);
        record(f, "unchanged", DUET_OK);
        return;
    }
    duet_manifest_t m;
    duet_img_policy_t pol;
    e = duet_manifest_parse(f->manifest, len, &m);
    if (e == DUET_OK) {
        duet_sim_lock(f->sim);
        e = duet_sup_policy(duet_sim_sup(f->sim), &pol);
        duet_sim_unlock(f->sim);
    }
    if (e == DUET_OK)
        e = duet_manifest_verify(&m, &pol, last);
    bool selected = false;
    uint32_t bucket = 0;
    if (e == DUET_OK)
        e = duet_manifest_bucket(&m, id, &bucket);
    pthread_mutex_lock(&f->lock);
    snprintf(f->st.last_version, sizeof f->st.last_version, "%s", e == DUET_OK ? m.version : "");
    selected = e == DUET_OK && bucket < m.rollout_ppm;
    f->st.selected = selected;
    f->st.bucket = bucket;
    pthread_mutex_unlock(&f->lock);
    if (e != DUET_OK) {
        /* Refused as it stands: remember its ETag, so it is not fetched in full again
         * until the publisher changes it. */
        say(f, "manifest refused: %s (%s)", duet_err_name(e), duet_err_str(e));
        memcpy(f->etag, etag, sizeof etag);
        record(f, "refused", e);
        return;
    }
    if (running(f, &m)) {
        say(f, "%s %s (sequence %u) is the running release", m.name, m.version,
            (unsigned)m.sequence);
        accept_sequence(f, m.sequence);
        memcpy(f->etag, etag, sizeof etag);
        record(f, "current", DUET_OK);
        return;
    }
    if (m.sequence == last && last != 0) {
        /* Installed before and no longer running (rolled back after a crash loop, or
         * the operator's rollback): never pull the same release again and again. */
        say(f, "%s %s (sequence %u) was installed before; not pulled again", m.name, m.version,
            (unsigned)m.sequence);
        memcpy(f->etag, etag, sizeof etag);
        record(f, "seen", DUET_OK);
        return;
    }
    if (!selected) {
        say(f, "%s %s not for this device (rollout %u.%06u, bucket 0.%06u)", m.name, m.version,
            (unsigned)(m.rollout_ppm / 1000000u), (unsigned)(m.rollout_ppm % 1000000u),
            (unsigned)bucket);
        memcpy(f->etag, etag, sizeof etag);
        record(f, "not-selected", DUET_OK);
        return;
    }
    char url[DUET_MANIFEST_URL_MAX + 1024];
    e = fleet_resolve_url(f->cfg.manifest_url, m.url, url, sizeof url);
    if (e != DUET_OK) {
        say(f, "image URL %s: cannot resolve", m.url);
        memcpy(f->etag, etag, sizeof etag);
        record(f, "refused", e);
        return;
    }
    say(f, "pulling %s %s (sequence %u, %u bytes) from %s", m.name, m.version, (unsigned)m.sequence,
        (unsigned)m.size, url);
    e = pull(f, &m, url, &fo);
    if (e == DUET_OK) {
        accept_sequence(f, m.sequence);
        memcpy(f->etag, etag, sizeof etag);
        pthread_mutex_lock(&f->lock);
        f->st.updates++;
        pthread_mutex_unlock(&f->lock);
        say(f, "installed %s %s, core 1 restarted into it", m.name, m.version);
        record(f, "updated", DUET_OK);
    } else if (e == DUET_ERR_FETCH || e == DUET_ERR_BUSY || e == DUET_ERR_STATE) {
        /* Transient (network, an upload or a trial running): try again next check. */
        say(f, "pull of %s %s not finished: %s", m.name, m.version, duet_err_str(e));
        record(f, "failed", e);
    } else {
        say(f, "image refused: %s (%s); the running program carries on", duet_err_name(e),
            duet_err_str(e));
        memcpy(f->etag, etag, sizeof etag);
        record(f, "refused", e);
    }
}

/* ---- thread ------------------------------------------------------------------------- */

static void *run(void *arg)
{
    duet_sim_fleet_t *f = arg;
    for (;;) {
        check(f);
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
    char id[sizeof f->st.device_id];
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
    memcpy(f->st.device_id, id, sizeof id);
    f->st.last_sequence = seq;
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
    pthread_mutex_lock(&f->lock);
    *st = f->st;
    pthread_mutex_unlock(&f->lock);
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
