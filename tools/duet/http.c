/*
 * http.c - the CLI's HTTP client (libcurl): GET, POST with an upload progress bar,
 * and the mapping of error answers ({"error":NAME,"message":...}) to one line.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jsonp.h"

#define DEFAULT_URL "http://127.0.0.1:8080"
#define MAX_ANSWER (4u * 1024u * 1024u)

const char *cli_base_url(const char *opt)
{
    if (opt && *opt)
        return opt;
    const char *env = getenv("DUET_URL");
    return (env && *env) ? env : DEFAULT_URL;
}

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    cli_http_t *r = ud;
    size_t add = sz * n;
    if (r->len + add > MAX_ANSWER)
        return 0; /* makes curl fail: no device answers this much */
    char *nb = realloc(r->body, r->len + add + 1);
    if (!nb)
        return 0;
    r->body = nb;
    memcpy(r->body + r->len, p, add);
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

typedef struct {
    const uint8_t *data;
    size_t len, pos;
} src_t;

static size_t on_read(char *buf, size_t sz, size_t n, void *ud)
{
    src_t *s = ud;
    size_t want = sz * n, left = s->len - s->pos;
    if (want > left)
        want = left;
    memcpy(buf, s->data + s->pos, want);
    s->pos += want;
    return want;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    int *last = ud;
    if (ultotal <= 0)
        return 0;
    int pct = (int)(ulnow * 100 / ultotal);
    if (pct == *last)
        return 0;
    *last = pct;
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[40] = '\0';
    fprintf(stderr, "\rupload [%s] %3d%% %lld/%lld bytes", bar, pct, (long long)ulnow,
            (long long)ultotal);
    if (pct == 100)
        fputc('\n', stderr);
    return 0;
}

static int perform(CURL *c, cli_http_t *out)
{
    char err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "duet-cli");
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        if (!out->body) {
            out->body = calloc(1, 1);
            if (!out->body)
                return -1;
        }
        return 0;
    }
    out->status = 0;
    snprintf(out->err, sizeof(out->err), "%s", err[0] ? err : curl_easy_strerror(rc));
    return -1;
}

int cli_http_get(const char *url, cli_http_t *out)
{
    memset(out, 0, sizeof(*out));
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(out->err, sizeof(out->err), "cannot initialise libcurl");
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    int r = perform(c, out);
    curl_easy_cleanup(c);
    return r;
}

int cli_http_post(const char *url, const char *token, const uint8_t *body, size_t len,
                  bool progress, cli_http_t *out)
{
    memset(out, 0, sizeof(*out));
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(out->err, sizeof(out->err), "cannot initialise libcurl");
        return -1;
    }
    struct curl_slist *h = NULL;
    char auth[1024];
    h = curl_slist_append(h, "Content-Type: application/octet-stream");
    if (token && *token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    src_t src = {body, len, 0};
    int last = -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &src);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    if (progress) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &last);
    }
    int r = perform(c, out);
    if (progress && last >= 0 && last < 100)
        fputc('\n', stderr);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

void cli_http_free(cli_http_t *r)
{
    free(r->body);
    r->body = NULL;
}

int cli_http_fail(const char *verb, const cli_http_t *r)
{
    jp_node_t *j = r->body ? jp_parse(r->body, r->len, NULL, 0) : NULL;
    int code;
    if (j && jp_get(j, "error"))
        code = cli_fail(verb, CLI_REFUSED, "refused (%ld %s): %s", r->status,
                        jp_str(j, "error", "?"), jp_str(j, "message", ""));
    else
        code = cli_fail(verb, CLI_REFUSED, "refused (HTTP %ld)", r->status);
    jp_free(j);
    return code;
}
