/*
 * cmd_timing.c - `duet timing`: core 1's loop-timing histogram (GET /api/timing) as a
 * text histogram, as JSON, or refreshed every few seconds; `--reset` asks core 1 to
 * clear it (POST /api/timing/reset, token). docs/cli.md, docs/timing.md.
 * Exit: 0 ok, 1 usage, 3 no connection / bad answer, 4 refused by the device.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jsonp.h"

#define BAR_WIDTH 40

typedef struct {
    const char *url, *token;
    bool json, watch, reset;
    double every;   /* seconds between refreshes with --watch */
    unsigned count; /* refreshes with --watch, 0 = until interrupted */
} opts_t;

static int url_of(char *out, size_t cap, const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    return snprintf(out, cap, "%.*s%s", (int)n, base, path) < (int)cap ? 0 : -1;
}

static void usage(void)
{
    printf("usage: duet timing [--url URL] [--json] [--watch [SEC]] [--count N]\n"
           "       duet timing --reset [--url URL] [--token T]\n"
           "  --url URL      device base URL (default $DUET_URL or http://127.0.0.1:8080)\n"
           "  --json         print the API answer (GET /api/timing) as it is\n"
           "  --watch [SEC]  refresh every SEC seconds (default 1) until interrupted\n"
           "  --count N      with --watch: stop after N refreshes\n"
           "  --reset        ask core 1 to clear the histogram (needs the token)\n"
           "  --token T      bearer token for --reset (default $DUET_TOKEN)\n"
           "exit: 0 ok, 1 usage, 3 no connection or bad answer, 4 refused by the device\n");
}

static int parse(int argc, char **argv, opts_t *o)
{
    enum { O_URL = 256, O_JSON, O_WATCH, O_COUNT, O_RESET, O_TOKEN };
    static const struct option lo[] = {{"url", 1, 0, O_URL},     {"json", 0, 0, O_JSON},
                                       {"watch", 0, 0, O_WATCH}, {"count", 1, 0, O_COUNT},
                                       {"reset", 0, 0, O_RESET}, {"token", 1, 0, O_TOKEN},
                                       {"help", 0, 0, 'h'},      {0, 0, 0, 0}};
    int c;
    uint32_t n;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_URL:
            o->url = optarg;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_TOKEN:
            o->token = optarg;
            break;
        case O_RESET:
            o->reset = true;
            break;
        case O_WATCH:
            o->watch = true;
            /* optional value: the next word, if it is a number */
            if (optind < argc && argv[optind][0] != '-') {
                char *end;
                double s = strtod(argv[optind], &end);
                if (*end != '\0' || !(s >= 0.05 && s <= 3600))
                    return cli_fail("timing", CLI_USAGE, "--watch takes 0.05..3600 seconds");
                o->every = s;
                optind++;
            }
            break;
        case O_COUNT:
            if (!cli_parse_u32(optarg, &n) || n == 0)
                return cli_fail("timing", CLI_USAGE, "--count needs a positive number");
            o->count = n;
            break;
        case 'h':
            usage();
            return -1;
        default:
            return cli_fail("timing", CLI_USAGE, "bad option (see duet timing --help)");
        }
    }
    if (optind != argc)
        return cli_fail("timing", CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (o->reset && (o->watch || o->json))
        return cli_fail("timing", CLI_USAGE, "--reset goes alone");
    o->url = cli_base_url(o->url);
    if (!o->token)
        o->token = getenv("DUET_TOKEN");
    return CLI_OK;
}

/* A figure as microseconds when the device knows its cycle rate, else as cycles. */
static void figure(char *out, size_t cap, const jp_node_t *j, const char *name)
{
    char kc[32], ku[32];
    snprintf(kc, sizeof(kc), "%s_cycles", name);
    snprintf(ku, sizeof(ku), "%s_us", name);
    const jp_node_t *us = jp_get(j, ku);
    if (us && us->type == JP_NUM)
        snprintf(out, cap, "%s us", us->str);
    else
        snprintf(out, cap, "%.0f cyc", jp_num(j, kc, 0));
}

static void print_text(const jp_node_t *j, const char *url)
{
    char a[40], b[40], c[40], d[40], e[40], f[40];
    if (!jp_bool(j, "available", false)) {
        printf("%s: no loop timing yet (no program has run)\n", url);
        return;
    }
    const jp_node_t *cpu = jp_get(j, "cycles_per_us");
    printf("loop timing  %s  epoch %.0f  %s%s\n", url, jp_num(j, "epoch", 0),
           cpu && cpu->type == JP_NUM ? cpu->str : "unknown", " cycles/us");
    double count = jp_num(j, "count", 0);
    if (count == 0) {
        printf("no intervals yet: the program has not called duet_rt_loop_mark() twice\n");
        return;
    }
    figure(a, sizeof(a), j, "period");
    printf("intervals  %.0f   period %s   misses %.0f%s%s\n", count,
           jp_num(j, "period_cycles", 0) > 0 ? a : "none", jp_num(j, "misses", 0),
           jp_bool(j, "wrapped", false) ? "   (a bucket wrapped: reset)" : "",
           jp_bool(j, "reset_pending", false) ? "   (reset pending)" : "");
    figure(a, sizeof(a), j, "min");
    figure(b, sizeof(b), j, "mean");
    figure(c, sizeof(c), j, "p50");
    figure(d, sizeof(d), j, "p99");
    figure(e, sizeof(e), j, "p999");
    figure(f, sizeof(f), j, "max");
    printf("min %s   mean %s   p50 %s\np99 %s   p99.9 %s   max %s\n", a, b, c, d, e, f);

    const jp_node_t *bk = jp_get(j, "buckets");
    double most = 0;
    for (const jp_node_t *x = bk ? bk->child : NULL; x; x = x->next)
        if (jp_num(x, "count", 0) > most)
            most = jp_num(x, "count", 0);
    const jp_node_t *first = bk ? bk->child : NULL;
    const jp_node_t *lo_us = first ? jp_get(first, "lo_us") : NULL;
    bool us = lo_us && lo_us->type == JP_NUM;
    printf("%-28s %10s\n", us ? "interval (us)" : "interval (cycles)", "count");
    for (const jp_node_t *x = bk ? bk->child : NULL; x; x = x->next) {
        double n = jp_num(x, "count", 0);
        int w = most > 0 ? (int)(n * BAR_WIDTH / most + 0.5) : 0;
        if (n > 0 && w == 0)
            w = 1; /* a rare spike still shows */
        char bar[BAR_WIDTH + 1];
        memset(bar, '#', (size_t)w);
        bar[w] = '\0';
        if (us)
            printf("[%12s, %12s) %10.0f %s\n", jp_get(x, "lo_us")->str, jp_get(x, "hi_us")->str, n,
                   bar);
        else
            printf("[%12.0f, %12.0f) %10.0f %s\n", jp_num(x, "lo", 0), jp_num(x, "hi", 0), n, bar);
    }
}

/* One GET and print. Returns a CLI exit code. */
static int show(const opts_t *o, const char *full)
{
    cli_http_t r;
    int rc = CLI_OK;
    if (cli_http_get(full, &r) != 0) {
        rc = cli_fail("timing", CLI_IO, "%s: %s", o->url, r.err);
        cli_http_free(&r);
        return rc;
    }
    if (r.status != 200) {
        rc = cli_http_fail("timing", &r);
        cli_http_free(&r);
        return rc;
    }
    char err[128];
    jp_node_t *j = jp_parse(r.body, r.len, err, sizeof(err));
    if (!j)
        rc = cli_fail("timing", CLI_IO, "bad answer from %s: %s", o->url, err);
    else if (o->json)
        printf("%s\n", r.body);
    else
        print_text(j, o->url);
    jp_free(j);
    cli_http_free(&r);
    fflush(stdout);
    return rc;
}

static int reset(const opts_t *o)
{
    char full[2048];
    cli_http_t r;
    if (url_of(full, sizeof(full), o->url, "/api/timing/reset") != 0)
        return cli_fail("timing", CLI_USAGE, "URL too long");
    if (cli_http_post(full, o->token, (const uint8_t *)"", 0, false, &r) != 0) {
        int rc = cli_fail("timing", CLI_IO, "%s: %s", o->url, r.err);
        cli_http_free(&r);
        return rc;
    }
    int rc = r.status == 200 ? CLI_OK : cli_http_fail("timing", &r);
    if (rc == CLI_OK)
        printf("timing: reset requested (core 1 clears the histogram at its next mark)\n");
    cli_http_free(&r);
    return rc;
}

int cmd_timing(int argc, char **argv)
{
    opts_t o = {NULL, NULL, false, false, false, 1.0, 0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (o.reset)
        return reset(&o);
    char full[2048];
    if (url_of(full, sizeof(full), o.url, "/api/timing") != 0)
        return cli_fail("timing", CLI_USAGE, "URL too long");
    if (!o.watch)
        return show(&o, full);
    bool tty = isatty(1) && !o.json;
    for (unsigned i = 0; o.count == 0 || i < o.count; i++) {
        if (i > 0) {
            struct timespec ts = {(time_t)o.every,
                                  (long)((o.every - (double)(time_t)o.every) * 1e9)};
            nanosleep(&ts, NULL);
        }
        if (tty)
            printf("\033[H\033[2J"); /* redraw in place */
        else if (i > 0 && !o.json)
            printf("\n");
        rc = show(&o, full);
        if (rc == CLI_USAGE || rc == CLI_REFUSED)
            return rc; /* a connection error may pass (device rebooting): keep watching */
    }
    return rc;
}
