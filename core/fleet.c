/*
 * fleet.c - one fleet check's decisions, the OTA sink and the status (duet/fleet.h).
 *
 * The port's transport and persistence come in through duet_fleet_ops_t; everything a
 * device decides (verify, replay, rollout, "installed before", which failures are
 * retried) lives here once, so the simulator and the chip cannot drift apart.
 */
#include "duet/fleet.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------------------ */

static void say(duet_fleet_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(duet_fleet_t *f, const char *fmt, ...)
{
    if (f->ops->say == NULL)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    f->ops->say(f->ctx, line);
}

static void st_lock(duet_fleet_t *f)
{
    if (f->ops->st_lock != NULL)
        f->ops->st_lock(f->ctx);
}

static void st_unlock(duet_fleet_t *f)
{
    if (f->ops->st_unlock != NULL)
        f->ops->st_unlock(f->ctx);
}

static void record(duet_fleet_t *f, const char *action, duet_err_t e)
{
    st_lock(f);
    snprintf(f->st.last_action, sizeof f->st.last_action, "%s", action);
    f->st.last_err = e;
    if (strcmp(action, "refused") == 0)
        f->st.refusals++;
    st_unlock(f);
}

static bool id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > DUET_FLEET_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false; /* the id becomes part of MQTT topics: no '/', '+', '#' */
    }
    return true;
}

duet_err_t duet_fleet_init(duet_fleet_t *f, duet_sup_t *sup, const duet_fleet_ops_t *ops, void *ctx,
                           const char *manifest_url, const char *device_id, uint32_t last_sequence)
{
    if (f == NULL || sup == NULL || ops == NULL || manifest_url == NULL || device_id == NULL ||
        ops->get_manifest == NULL || ops->get_image == NULL || ops->store == NULL ||
        ops->sup_lock == NULL || ops->sup_unlock == NULL || !id_ok(device_id))
        return DUET_ERR_INVAL;
    memset(f, 0, sizeof *f);
    f->sup = sup;
    f->ops = ops;
    f->ctx = ctx;
    f->manifest_url = manifest_url;
    memcpy(f->st.device_id, device_id, strlen(device_id) + 1);
    f->st.last_sequence = last_sequence;
    return DUET_OK;
}

void duet_fleet_status(duet_fleet_t *f, duet_fleet_status_t *st)
{
    st_lock(f);
    *st = f->st;
    st_unlock(f);
}

void duet_fleet_status_json(const duet_fleet_status_t *fs, duet_json_t *j, const char *key)
{
    duet_json_obj_begin(j, key);
    duet_json_u64(j, "checks", fs->checks);
    duet_json_u64(j, "not_modified", fs->not_modified);
    duet_json_u64(j, "updates", fs->updates);
    duet_json_u64(j, "refusals", fs->refusals);
    duet_json_u64(j, "resumes", fs->resumes);
    duet_json_u64(j, "sequence", fs->last_sequence);
    duet_json_str(j, "last_action", fs->last_action);
    duet_json_str(j, "last_error", duet_err_name(fs->last_err));
    duet_json_str(j, "release", fs->last_version);
    duet_json_bool(j, "selected", fs->selected);
    duet_json_u64(j, "bucket", fs->bucket);
    duet_json_obj_end(j);
}

duet_err_t duet_fleet_status_doc(char *buf, size_t cap, const char *device, bool online,
                                 const duet_fleet_status_t *fs, const char *api_json, size_t *len)
{
    if (buf == NULL || device == NULL || len == NULL)
        return DUET_ERR_INVAL;
    duet_json_t j;
    duet_json_init(&j, buf, cap);
    duet_json_obj_begin(&j, NULL);
    duet_json_str(&j, "device", device);
    duet_json_bool(&j, "online", online);
    if (online && fs != NULL)
        duet_fleet_status_json(fs, &j, "fleet");
    duet_json_obj_end(&j);
    size_t n = 0;
    DUET_TRY(duet_json_finish(&j, &n));
    if (!online)
        return *len = n, DUET_OK;
    /* Splice the API's own status object in before the closing brace. */
    const char *api = api_json != NULL ? api_json : "null";
    size_t an = strlen(api);
    static const char key[] = ",\"status\":";
    if (n < 1 || n - 1 + (sizeof key - 1) + an + 2 > cap)
        return DUET_ERR_NOMEM;
    n--;
    memcpy(buf + n, key, sizeof key - 1);
    n += sizeof key - 1;
    memcpy(buf + n, api, an);
    n += an;
    buf[n++] = '}';
    buf[n] = '\0';
    *len = n;
    return DUET_OK;
}

duet_err_t duet_fleet_hex_id(const uint8_t *bytes, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    if (bytes == NULL || out == NULL || cap < 2 * n + 1)
        return DUET_ERR_INVAL;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15u];
    }
    out[2 * n] = '\0';
    return DUET_OK;
}

/* ---- one check ---------------------------------------------------------------------- */

static duet_err_t ota_sink(void *ctx, const void *data, size_t len)
{
    duet_fleet_t *f = ctx;
    DUET_TRY(duet_crypto_sha256_update(&f->sha, data, len));
    f->ops->sup_lock(f->ctx);
    duet_err_t e = duet_ota_write(&f->ota, data, len);
    f->ops->sup_unlock(f->ctx);
    return e;
}

/* Download into the inactive slot and install. The session is always closed after. */
static duet_err_t pull(duet_fleet_t *f, const duet_manifest_t *m)
{
    f->ops->sup_lock(f->ctx);
    duet_err_t e = duet_ota_begin(&f->ota, f->sup, m->size);
    f->ops->sup_unlock(f->ctx);
    if (e != DUET_OK)
        return e;
    uint32_t resumes = 0;
    e = duet_crypto_sha256_init(&f->sha);
    if (e == DUET_OK) {
        e = f->ops->get_image(f->ctx, f->url, m->size, ota_sink, f, &resumes);
        uint8_t got[DUET_IMG_HASH_LEN];
        duet_err_t he = duet_crypto_sha256_finish(&f->sha, got);
        if (e == DUET_OK)
            e = he;
        /* The file the manifest signed, byte for byte, before anything is installed. */
        if (e == DUET_OK && memcmp(got, m->sha256, sizeof got) != 0)
            e = DUET_ERR_IMG_BAD_HASH;
    }
    st_lock(f);
    f->st.resumes += resumes;
    st_unlock(f);
    duet_img_info_t info;
    f->ops->sup_lock(f->ctx);
    if (e == DUET_OK)
        e = duet_ota_finish(&f->ota, true, &info);
    if (e != DUET_OK)
        duet_ota_abort(&f->ota);
    f->ops->sup_unlock(f->ctx);
    if (e == DUET_OK &&
        (strcmp(info.name, m->name) != 0 || info.hdr.ih_security_counter != m->security_counter))
        say(f, "warning: installed image is \"%s\" counter %u, manifest said \"%s\" %u", info.name,
            (unsigned)info.hdr.ih_security_counter, m->name, (unsigned)m->security_counter);
    return e;
}

/* Is this release the one core 1 runs now? */
static bool running(duet_fleet_t *f, const duet_manifest_t *m)
{
    duet_sup_status_t st;
    f->ops->sup_lock(f->ctx);
    duet_sup_get_status(f->sup, &st);
    f->ops->sup_unlock(f->ctx);
    int a = st.active_slot;
    if (a < 0 || a >= (int)DUET_SLOT_COUNT || !st.slot_valid[a])
        return false;
    const duet_img_hdr_t *h = &st.slot_hdr[a];
    return strcmp(st.slot_name[a], m->name) == 0 && h->ih_ver_major == m->ver_major &&
           h->ih_ver_minor == m->ver_minor && h->ih_ver_patch == m->ver_patch &&
           h->ih_security_counter == m->security_counter;
}

static void accept_sequence(duet_fleet_t *f, uint32_t seq)
{
    st_lock(f);
    bool newer = seq > f->st.last_sequence;
    if (newer)
        f->st.last_sequence = seq;
    st_unlock(f);
    if (newer && f->ops->store(f->ctx, f->st.device_id, seq) != DUET_OK)
        say(f, "cannot store sequence %u: a restart forgets it", (unsigned)seq);
}

/* The manifest as it stands is handled: do not fetch it in full again until it changes. */
static void done(duet_fleet_t *f, const char *etag, const char *action, duet_err_t e)
{
    memcpy(f->etag, etag, sizeof f->etag);
    record(f, action, e);
}

void duet_fleet_check(duet_fleet_t *f)
{
    char etag[DUET_FLEET_ETAG_MAX] = "";
    size_t len = 0;
    long status = 0;
    st_lock(f);
    f->st.checks++;
    uint32_t last = f->st.last_sequence;
    st_unlock(f);
    duet_err_t e =
        f->ops->get_manifest(f->ctx, f->etag, f->manifest, sizeof f->manifest, &len, &status, etag);
    if (e != DUET_OK) {
        say(f, "manifest %s: %s (HTTP %ld)", f->manifest_url, duet_err_str(e), status);
        record(f, "failed", e);
        return;
    }
    if (status == 304) {
        st_lock(f);
        f->st.not_modified++;
        st_unlock(f);
        record(f, "unchanged", DUET_OK);
        return;
    }
    duet_manifest_t m;
    duet_img_policy_t pol;
    e = duet_manifest_parse(f->manifest, len, &m);
    if (e == DUET_OK) {
        f->ops->sup_lock(f->ctx);
        e = duet_sup_policy(f->sup, &pol);
        f->ops->sup_unlock(f->ctx);
    }
    if (e == DUET_OK)
        e = duet_manifest_verify(&m, &pol, last);
    uint32_t bucket = 0;
    if (e == DUET_OK)
        e = duet_manifest_bucket(&m, f->st.device_id, &bucket);
    bool selected = e == DUET_OK && bucket < m.rollout_ppm;
    st_lock(f);
    snprintf(f->st.last_version, sizeof f->st.last_version, "%s", e == DUET_OK ? m.version : "");
    f->st.selected = selected;
    f->st.bucket = bucket;
    st_unlock(f);
    if (e != DUET_OK) {
        say(f, "manifest refused: %s (%s)", duet_err_name(e), duet_err_str(e));
        done(f, etag, "refused", e);
        return;
    }
    if (running(f, &m)) {
        say(f, "%s %s (sequence %u) is the running release", m.name, m.version,
            (unsigned)m.sequence);
        accept_sequence(f, m.sequence);
        done(f, etag, "current", DUET_OK);
        return;
    }
    if (m.sequence == last && last != 0) {
        /* Installed before and no longer running (rolled back after a crash loop, or
         * the operator's rollback): never pull the same release again and again. */
        say(f, "%s %s (sequence %u) was installed before; not pulled again", m.name, m.version,
            (unsigned)m.sequence);
        done(f, etag, "seen", DUET_OK);
        return;
    }
    if (!selected) {
        say(f, "%s %s not for this device (rollout %u.%06u, bucket 0.%06u)", m.name, m.version,
            (unsigned)(m.rollout_ppm / 1000000u), (unsigned)(m.rollout_ppm % 1000000u),
            (unsigned)bucket);
        done(f, etag, "not-selected", DUET_OK);
        return;
    }
    e = duet_fleet_resolve_url(f->manifest_url, m.url, f->url, sizeof f->url);
    if (e != DUET_OK) {
        say(f, "image URL %s: cannot resolve", m.url);
        done(f, etag, "refused", e);
        return;
    }
    say(f, "pulling %s %s (sequence %u, %u bytes) from %s", m.name, m.version, (unsigned)m.sequence,
        (unsigned)m.size, f->url);
    e = pull(f, &m);
    if (e == DUET_OK) {
        accept_sequence(f, m.sequence);
        st_lock(f);
        f->st.updates++;
        st_unlock(f);
        say(f, "installed %s %s, core 1 restarted into it", m.name, m.version);
        done(f, etag, "updated", DUET_OK);
    } else if (e == DUET_ERR_FETCH || e == DUET_ERR_BUSY || e == DUET_ERR_STATE) {
        /* Transient (network, an upload or a trial running): try again next check. */
        say(f, "pull of %s %s not finished: %s", m.name, m.version, duet_err_str(e));
        record(f, "failed", e);
    } else {
        say(f, "image refused: %s (%s); the running program carries on", duet_err_name(e),
            duet_err_str(e));
        done(f, etag, "refused", e);
    }
}
