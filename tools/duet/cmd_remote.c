/*
 * cmd_remote.c - verbs that talk to a device or the simulator over HTTP (libcurl):
 * `duet push`, `duet status`, `duet start|stop|restart|rollback`, and `duet sim`,
 * which runs the simulator binary that sits next to this one.
 * Exit: 0 ok, 3 no connection / I/O, 4 the device refused (HTTP error answer).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jsonp.h"

static int remote_opts(const char *verb, int argc, char **argv, const char **url,
                       const char **token, bool *json, bool *progress, const char *usage)
{
    enum { O_URL = 256, O_TOKEN, O_JSON, O_NOPROG, O_PROG };
    static const struct option lo[] = {{"url", 1, 0, O_URL},       {"token", 1, 0, O_TOKEN},
                                       {"json", 0, 0, O_JSON},     {"no-progress", 0, 0, O_NOPROG},
                                       {"progress", 0, 0, O_PROG}, {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_URL: *url = optarg; break;
        case O_TOKEN: *token = optarg; break;
        case O_JSON: *json = true; break;
        case O_NOPROG: *progress = false; break;
        case O_PROG: *progress = true; break;
        case 'h':
            printf("usage: duet %s %s\n"
                   "  --url URL      device base URL (default $DUET_URL or http://127.0.0.1:8080)\n"
                   "  --token T      bearer token for writes (default $DUET_TOKEN)\n"
                   "exit: 0 ok, 3 no connection, 4 refused by the device\n",
                   verb, usage);
            return -1;
        default: return cli_fail(verb, CLI_USAGE, "bad option (see duet %s --help)", verb);
        }
    }
    *url = cli_base_url(*url);
    if (!*token)
        *token = getenv("DUET_TOKEN");
    return CLI_OK;
}

static int join(char *out, size_t cap, const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    return snprintf(out, cap, "%.*s%s", (int)n, base, path) < (int)cap ? 0 : -1;
}

int cmd_push(int argc, char **argv)
{
    const char *url = NULL, *token = NULL;
    bool json = false, progress = isatty(2);
    int rc = remote_opts("push", argc, argv, &url, &token, &json, &progress,
                         "[--url URL] [--token T] [--no-progress] IMAGE");
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (optind != argc - 1)
        return cli_fail("push", CLI_USAGE, "need exactly one image file");
    const char *path = argv[optind];
    uint8_t *img;
    size_t len;
    char full[2048];
    if ((rc = cli_read_image("push", path, &img, &len)) != CLI_OK)
        return rc;
    if (join(full, sizeof(full), url, "/api/image") != 0) {
        free(img);
        return cli_fail("push", CLI_USAGE, "URL too long");
    }
    cli_http_t r;
    if (cli_http_post(full, token, img, len, progress, &r) != 0) {
        free(img);
        rc = cli_fail("push", CLI_IO, "%s: %s", url, r.err);
        cli_http_free(&r);
        return rc;
    }
    free(img);
    if (r.status != 200) {
        rc = cli_http_fail("push", &r);
        cli_http_free(&r);
        return rc;
    }
    jp_node_t *j = jp_parse(r.body, r.len, NULL, 0);
    if (json)
        printf("%s\n", r.body);
    else if (j)
        printf("installed %s %s (%zu bytes, security counter %.0f%s) into slot %s, state %s\n",
               jp_str(j, "name", "?"), jp_str(j, "version", "?"), len,
               jp_num(j, "security_counter", 0), jp_bool(j, "signed", false) ? ", signed" : "",
               jp_num(j, "slot", -1) == 0 ? "A" : jp_num(j, "slot", -1) == 1 ? "B" : "?",
               jp_str(j, "state", "?"));
    else
        printf("installed (%zu bytes)\n", len);
    jp_free(j);
    cli_http_free(&r);
    return CLI_OK;
}

static void print_status(const jp_node_t *s)
{
    printf("state      %s\n", jp_str(s, "state", "?"));
    const char *ver = jp_str(s, "version", NULL);
    printf("program    %s %s (slot %s, %s)\n", jp_str(s, "name", "-"), ver ? ver : "-",
           jp_num(s, "active_slot", -1) == 0   ? "A"
           : jp_num(s, "active_slot", -1) == 1 ? "B"
                                               : "none",
           jp_str(s, "chip", "?"));
    printf("epoch      %.0f   heartbeat %.0f   progress %.0f\n", jp_num(s, "epoch", 0),
           jp_num(s, "heartbeat", 0), jp_num(s, "progress", 0));
    printf("uptime     %.1f s   restarts %.0f   crashes %.0f\n", jp_num(s, "uptime_ms", 0) / 1000,
           jp_num(s, "restarts", 0), jp_num(s, "crashes", 0));
    const jp_node_t *slots = jp_get(s, "slots");
    for (const jp_node_t *sl = slots ? slots->child : NULL; sl; sl = sl->next) {
        const char *v = jp_str(sl, "version", NULL);
        printf("slot %s%s    %-9s %s %s%s", jp_str(sl, "slot", "?"),
               jp_bool(sl, "active", false) ? "*" : " ", jp_str(sl, "status", "?"),
               jp_str(sl, "name", "-"), v ? v : "-", "");
        if (v)
            printf(" (security counter %.0f)", jp_num(sl, "security_counter", 0));
        printf("\n");
    }
    const jp_node_t *lc = jp_get(s, "last_crash");
    printf("last crash %s\n", lc && lc->type == JP_OBJ ? jp_str(lc, "summary", "?") : "none");
}

int cmd_status(int argc, char **argv)
{
    const char *url = NULL, *token = NULL;
    bool json = false, progress = false;
    int rc = remote_opts("status", argc, argv, &url, &token, &json, &progress, "[--url URL] [--json]");
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (optind != argc)
        return cli_fail("status", CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    char full[2048];
    cli_http_t r;
    if (join(full, sizeof(full), url, "/api/status") != 0)
        return cli_fail("status", CLI_USAGE, "URL too long");
    if (cli_http_get(full, &r) != 0) {
        rc = cli_fail("status", CLI_IO, "%s: %s", url, r.err);
        cli_http_free(&r);
        return rc;
    }
    if (r.status != 200) {
        rc = cli_http_fail("status", &r);
        cli_http_free(&r);
        return rc;
    }
    char err[128];
    jp_node_t *j = jp_parse(r.body, r.len, err, sizeof(err));
    if (!j) {
        rc = cli_fail("status", CLI_IO, "bad answer from %s: %s", url, err);
    } else if (json) {
        printf("%s\n", r.body);
    } else {
        print_status(j);
    }
    jp_free(j);
    cli_http_free(&r);
    return rc;
}

int cmd_control(int argc, char **argv)
{
    const char *verb = argv[0];
    const char *url = NULL, *token = NULL;
    bool json = false, progress = false;
    int rc = remote_opts(verb, argc, argv, &url, &token, &json, &progress, "[--url URL] [--token T]");
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    char path[64], full[2048];
    snprintf(path, sizeof(path), "/api/%s", verb);
    if (join(full, sizeof(full), url, path) != 0)
        return cli_fail(verb, CLI_USAGE, "URL too long");
    cli_http_t r;
    if (cli_http_post(full, token, (const uint8_t *)"", 0, false, &r) != 0) {
        rc = cli_fail(verb, CLI_IO, "%s: %s", url, r.err);
        cli_http_free(&r);
        return rc;
    }
    if (r.status != 200) {
        rc = cli_http_fail(verb, &r);
        cli_http_free(&r);
        return rc;
    }
    jp_node_t *j = jp_parse(r.body, r.len, NULL, 0);
    if (json)
        printf("%s\n", r.body);
    else
        printf("%s: ok, state %s, epoch %.0f\n", verb, jp_str(j, "state", "?"), jp_num(j, "epoch", 0));
    jp_free(j);
    cli_http_free(&r);
    return CLI_OK;
}

int cmd_sim(int argc, char **argv)
{
    char dir[4096], path[4200];
    if (argc >= 2 && (strcmp(argv[1], "--which") == 0)) {
        if (cli_self_dir(dir, sizeof(dir)) != 0)
            return cli_fail("sim", CLI_IO, "cannot find my own directory");
        printf("%s/duet-sim\n", dir);
        return CLI_OK;
    }
    if (cli_self_dir(dir, sizeof(dir)) != 0)
        return cli_fail("sim", CLI_IO, "cannot find my own directory");
    snprintf(path, sizeof(path), "%s/duet-sim", dir);
    argv[0] = path; /* pass every other argument through unchanged */
    execv(path, argv);
    return cli_fail("sim", CLI_IO, "cannot run %s: %s (build the simulator: make)", path,
                    strerror(errno));
}
