/*
 * sim_fleet_fetch.c - libcurl transfers of the simulator's fleet pull (sim_fleet_fetch.h).
 *
 * Organisation: common handle set-up (TLS, timeouts, stop flag), the header callback
 * (ETag, Content-Range, one set per response), the manifest GET, the image GET with
 * resume, URL resolution. Nothing here knows the supervisor: image bytes go to a sink.
 * Each response's bytes are delivered at most once: a 206 must start exactly where the
 * delivered bytes end, a 200 to a Range request is skipped up to there.
 */
#include "sim_fleet_fetch.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct {
    long range_start;          /* Content-Range start of this response, -1 if none */
    char etag[FLEET_ETAG_MAX]; /* ETag of this response, "" if none */
} resp_hdr_t;

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    atomic_int *stop = ud;
    return stop != NULL && atomic_load(stop) ? 1 : 0; /* non-zero aborts the transfer */
}

/* "Name: value\r\n" -> value without spaces and CRLF, if the name matches. */
static bool header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return false;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t len = (size_t)(end - v);
    if (len >= cap)
        return false; /* an absurd value is ignored, not truncated */
    memcpy(out, v, len);
    out[len] = '\0';
    return true;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    resp_hdr_t *h = ud;
    size_t len = sz * n;
    char v[FLEET_ETAG_MAX];
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (redirects too) */
        h->range_start = -1;
        h->etag[0] = '\0';
    } else if (header_value(p, len, "etag", v, sizeof v)) {
        memcpy(h->etag, v, sizeof v);
    } else if (header_value(p, len, "content-range", v, sizeof v)) {
        unsigned long s = 0;
        if (sscanf(v, "bytes %lu-", &s) == 1)
            h->range_start = (long)s;
    }
    return len;
}

static CURL *handle(const fleet_fetch_opts_t *o, const char *url, resp_hdr_t *h)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        return NULL;
    long secs = o->timeout_ms >= 1000 ? (long)(o->timeout_ms / 1000) : 1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L); /* CDNs and object stores redirect */
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);    /* threads: no SIGALRM */
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L); /* 4xx/5xx bodies never reach a sink */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L); /* stalled: under 1 B/s for secs */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, secs);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)o->stop);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "duet-sim fleet");
    if (o->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    h->range_start = -1;
    h->etag[0] = '\0';
    return c;
}

/* ---- manifest ----------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t cap, len;
    bool too_long;
} membuf_t;

static size_t on_manifest(char *p, size_t sz, size_t n, void *ud)
{
    membuf_t *m = ud;
    size_t len = sz * n;
    if (len >= m->cap - m->len) {
        m->too_long = true;
        return 0;
    }
    memcpy(m->buf + m->len, p, len);
    m->len += len;
    m->buf[m->len] = '\0';
    return len;
}

duet_err_t fleet_get_manifest(const fleet_fetch_opts_t *o, const char *url, const char *etag,
                              char *body, size_t cap, size_t *len, long *status,
                              char etag_out[FLEET_ETAG_MAX])
{
    resp_hdr_t h;
    *status = 0;
    if (cap == 0)
        return DUET_ERR_INVAL;
    CURL *c = handle(o, url, &h);
    if (c == NULL)
        return DUET_ERR_NOMEM;
    membuf_t m = {body, cap, 0, false};
    body[0] = '\0';
    struct curl_slist *hdrs = NULL;
    char inm[FLEET_ETAG_MAX + 32];
    if (etag != NULL && etag[0] != '\0') {
        snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
        hdrs = curl_slist_append(hdrs, inm);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_manifest);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    if (m.too_long)
        return DUET_ERR_MANIFEST;
    if (rc != CURLE_OK || (*status != 200 && *status != 304))
        return DUET_ERR_FETCH;
    *len = m.len;
    memcpy(etag_out, h.etag, FLEET_ETAG_MAX);
    return DUET_OK;
}

/* ---- image -------------------------------------------------------------------------- */

typedef struct {
    CURL *c;
    resp_hdr_t *h;
    fleet_sink_fn sink;
    void *ctx;
    uint32_t size, have; /* have: bytes delivered to the sink */
    uint32_t skip;       /* bytes of this response already delivered before */
    bool started;        /* this response's status was looked at */
    duet_err_t err;      /* set when a callback ended the transfer */
} dl_t;

/* First bytes of a response: where do they start in the file? */
static bool begin_response(dl_t *d)
{
    long st = 0;
    curl_easy_getinfo(d->c, CURLINFO_RESPONSE_CODE, &st);
    d->started = true;
    d->skip = 0;
    if (st == 200) {
        d->skip = d->have; /* the server ignored Range: drop what we have */
        return true;
    }
    if (st == 206 && d->h->range_start == (long)d->have)
        return true;
    d->err = DUET_ERR_FETCH; /* another status, or a range we did not ask for */
    return false;
}

static size_t on_image(char *p, size_t sz, size_t n, void *ud)
{
    dl_t *d = ud;
    size_t len = sz * n, off = 0;
    if (!d->started && !begin_response(d))
        return 0;
    if (d->skip > 0) {
        off = len < d->skip ? len : d->skip;
        d->skip -= (uint32_t)off;
    }
    if (len - off > (size_t)(d->size - d->have)) {
        d->err = DUET_ERR_IMG_TOO_BIG; /* more bytes than the signed manifest says */
        return 0;
    }
    if (len > off) {
        duet_err_t e = d->sink(d->ctx, p + off, len - off);
        if (e != DUET_OK) {
            d->err = e;
            return 0;
        }
        d->have += (uint32_t)(len - off);
    }
    return len;
}

static void pause_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

duet_err_t fleet_get_image(const fleet_fetch_opts_t *o, const char *url, uint32_t size,
                           fleet_sink_fn sink, void *ctx, uint32_t *resumes)
{
    resp_hdr_t h;
    dl_t d = {NULL, &h, sink, ctx, size, 0, 0, false, DUET_OK};
    for (uint32_t attempt = 0;; attempt++) {
        d.c = handle(o, url, &h);
        if (d.c == NULL)
            return DUET_ERR_NOMEM;
        char range[32];
        if (d.have > 0) {
            snprintf(range, sizeof range, "%lu-", (unsigned long)d.have);
            curl_easy_setopt(d.c, CURLOPT_RANGE, range);
        }
        curl_easy_setopt(d.c, CURLOPT_WRITEFUNCTION, on_image);
        curl_easy_setopt(d.c, CURLOPT_WRITEDATA, &d);
        d.started = false;
        CURLcode rc = curl_easy_perform(d.c);
        curl_easy_cleanup(d.c);
        if (d.err != DUET_OK)
            return d.err;
        if (d.have == size && (rc == CURLE_OK || rc == CURLE_PARTIAL_FILE))
            return DUET_OK;
        if (rc == CURLE_OK)
            return DUET_ERR_IMG_TRUNCATED; /* the server's whole file is shorter */
        if (rc == CURLE_HTTP_RETURNED_ERROR || rc == CURLE_ABORTED_BY_CALLBACK ||
            rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_PEER_FAILED_VERIFICATION ||
            attempt >= o->retries || atomic_load(o->stop))
            return DUET_ERR_FETCH;
        /* Dropped mid-image: ask for the rest. The OTA session stays open meanwhile. */
        (*resumes)++;
        pause_ms(100u << (attempt < 5 ? attempt : 5));
    }
}
