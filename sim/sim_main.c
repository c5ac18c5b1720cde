/*
 * sim_main.c - duet-sim, the interactive simulator (`duet sim ARGS` execs it).
 *
 *   duet-sim [--flash FILE] [--port N] [--host ADDR] [--token TOKEN] [--provision IMG]
 *            [--install IMG]...
 *            [--no-start] [--heartbeat-ms N] [--recovery on|off|once]
 *            [--channel NAME[:SIZE]]... [--duration SEC] [--port-file FILE]
 *            [--status-ms N] [--quiet] [--key PUB.pem]...
 *
 * --key (repeatable) trusts a public key and then REQUIRES every image to carry a valid
 * signature from one of the trusted keys, as a device configured with keys does.
 *
 * Runs the real supervisor on the host port: core 1 is a child process started from
 * the flash file's active slot; the HTTP API (and web page) is served on
 * 127.0.0.1:PORT with a bearer token (a given token is never printed; one generated for
 * want of --token/$DUET_TOKEN is printed once). Prints state changes, crashes and core-1 log
 * lines as they happen, and a status line (live on a terminal, every --status-ms
 * otherwise) with state, slot, version, epoch, heartbeat and the demo counter
 * (sc_user[0]). Ctrl-C stops core 1 and exits.
 * Exit codes: 0 ok, 1 runtime error, 2 usage.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "duet/crash_fmt.h"
#include "duet/crypto.h"
#include "duet/host_port.h"
#include "duet/port.h"
#include "sim.h"
#include "sim_ext.h"

static volatile sig_atomic_t s_quit;
static int s_tty;
static int s_line_open; /* a live status line is on screen (tty) */
static uint64_t s_t0;

static void on_signal(int sig)
{
    (void)sig;
    s_quit = 1;
}

static void stamp(void)
{
    if (s_line_open) {
        fputs("\r\033[K", stdout);
        s_line_open = 0;
    }
    uint64_t t = duet_port_now_us() - s_t0;
    printf("[%4u.%03u] ", (unsigned)(t / 1000000u), (unsigned)(t / 1000u % 1000u));
}

static void on_event(void *user, const duet_sup_event_t *ev)
{
    (void)user;
    switch (ev->type) {
    case DUET_EV_STATE:
        stamp();
        printf("state %s -> %s\n", duet_sup_state_name(ev->from), duet_sup_state_name(ev->to));
        break;
    case DUET_EV_CRASH:
        if (ev->crash != NULL) {
            char buf[256];
            duet_crash_summary(ev->crash, DUET_CHIP_HOST, buf, sizeof buf);
            stamp();
            printf("CRASH captured: %s\n", buf);
        }
        break;
    case DUET_EV_HANG:
        stamp();
        printf("HANG: heartbeat deadline missed\n");
        break;
    case DUET_EV_CONFIRMED:
        stamp();
        printf("slot %c confirmed (healthy heartbeats)\n", 'A' + ev->slot);
        break;
    case DUET_EV_ROLLBACK:
        stamp();
        printf("ROLLBACK: now running slot %c\n", 'A' + ev->slot);
        break;
    case DUET_EV_UPDATED:
        stamp();
        printf("update installed into slot %c\n", 'A' + ev->slot);
        break;
    case DUET_EV_LOG:
        stamp();
        printf("core1| %.*s\n", (int)ev->text_len, ev->text != NULL ? ev->text : "");
        break;
    case DUET_EV_GAVE_UP:
        stamp();
        printf("GAVE UP: crash loop and nothing to roll back to\n");
        break;
    }
    fflush(stdout);
}

/* Port log lines (the supervisor's own narration) go to stderr in quiet form. */
static int s_verbose_port;
static void port_log(void *user, duet_plog_t level, const char *tag, const char *fmt, va_list ap)
{
    (void)user;
    if (!s_verbose_port && level > DUET_PLOG_WARN)
        return;
    if (tag != NULL && strcmp(tag, "core1") == 0)
        return; /* already printed from the LOG event */
    stamp();
    printf("%s: ", tag != NULL ? tag : "?");
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
}

static void status_line(duet_sim_t *sim)
{
    duet_sup_status_t st;
    duet_sim_status(sim, &st);
    duet_shm_ctrl_t *c = duet_sim_ctrl(sim, NULL);
    uint32_t counter = c != NULL ? __atomic_load_n(&c->sc_user[0], __ATOMIC_ACQUIRE) : 0;
    char ver[48] = "-";
    if (st.active_slot >= 0 && st.active_slot < (int)DUET_SLOT_COUNT && st.slot_valid[st.active_slot]) {
        const duet_img_hdr_t *h = &st.slot_hdr[st.active_slot];
        snprintf(ver, sizeof ver, "%s v%u.%u.%u", st.slot_name[st.active_slot], h->ih_ver_major,
                 h->ih_ver_minor, h->ih_ver_patch);
    }
    char line[200];
    snprintf(line, sizeof line,
             "status: %-10s slot %c  %-22s epoch %-3u hb %-5u counter %-6u restarts %u crashes %u",
             duet_sup_state_name(st.state), st.active_slot >= 0 ? 'A' + st.active_slot : '-', ver,
             (unsigned)st.epoch, (unsigned)st.heartbeat, (unsigned)counter, (unsigned)st.restarts,
             (unsigned)st.crashes);
    if (s_tty) {
        printf("\r\033[K%s", line);
        s_line_open = 1;
    } else {
        stamp();
        printf("%s\n", line);
    }
    fflush(stdout);
}

/* Trust a public key (PEM, DER or raw point); any trusted key makes signatures required. */
static int load_key(duet_sim_config_t *cfg, const char *path)
{
    uint8_t buf[4096];
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "duet-sim: --key %s: cannot open\n", path);
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (cfg->sup.key_count == DUET_POLICY_MAX_KEYS) {
        fprintf(stderr, "duet-sim: at most %d keys\n", DUET_POLICY_MAX_KEYS);
        return -1;
    }
    duet_err_t e = duet_crypto_pubkey_load(buf, n, cfg->sup.keys[cfg->sup.key_count]);
    if (e != DUET_OK) {
        fprintf(stderr, "duet-sim: --key %s: %s\n", path, duet_err_str(e));
        return -1;
    }
    cfg->sup.key_count++;
    cfg->sup.require_signature = true;
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: duet-sim [--flash FILE] [--port N] [--host ADDR] [--token TOKEN]\n"
          "                [--provision IMG]\n"
          "                [--install IMG]... [--no-start] [--heartbeat-ms N]\n"
          "                [--recovery on|off|once] [--channel NAME[:SIZE]]...\n"
          "                [--duration SEC] [--port-file FILE] [--status-ms N] [--quiet]\n"
          "                [--verbose] [--key PUB.pem]...\n",
          f);
    fputs(sim_ext_usage(), f); /* fleet: --fleet-manifest, --mqtt, ... (sim_ext.h) */
}

/* XIP programs: how long the flash-write lockout parked them (docs/xip.md). */
static void print_xip_stats(void)
{
    duet_host_xip_stats_t x;
    duet_host_xip_stats(&x);
    if (x.writes + x.erases == 0)
        return;
    printf("duet-sim: xip lockout: %u writes (mean %.0f us, max %.0f us), %u erases (mean "
           "%.0f us, max %.0f us), %u stalled, %u touched flash while parked\n",
           x.writes, x.writes ? (double)x.write_ns_total / 1e3 / x.writes : 0.0,
           (double)x.write_ns_max / 1e3, x.erases,
           x.erases ? (double)x.erase_ns_total / 1e3 / x.erases : 0.0, (double)x.erase_ns_max / 1e3,
           x.stalls, x.violations);
}

int main(int argc, char **argv)
{
    duet_sim_config_t cfg;
    duet_sim_config_default(&cfg);
    cfg.flash_path = "duet-sim.flash";
    cfg.http = true;
    cfg.http_port = 8080;
    cfg.token = getenv("DUET_TOKEN");
    const char *installs[8];
    unsigned n_install = 0;
    int no_start = 0, quiet = 0;
    unsigned duration = 0, status_ms = 1000;
    const char *port_file = NULL, *provision = NULL;
    for (int i = 1, ext; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_ARG()                                                                                 \
    do {                                                                                           \
        if (v == NULL) {                                                                           \
            fprintf(stderr, "duet-sim: %s needs a value\n", a);                                    \
            return 2;                                                                              \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
        if (strcmp(a, "--flash") == 0) {
            NEED_ARG();
            cfg.flash_path = v;
        } else if (strcmp(a, "--port") == 0) {
            NEED_ARG();
            cfg.http_port = (uint16_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--host") == 0) {
            NEED_ARG();
            cfg.http_host = v;
        } else if (strcmp(a, "--token") == 0) {
            NEED_ARG();
            cfg.token = v;
        } else if (strcmp(a, "--no-http") == 0) {
            cfg.http = false;
        } else if (strcmp(a, "--provision") == 0) {
            NEED_ARG();
            provision = v;
        } else if (strcmp(a, "--install") == 0) {
            NEED_ARG();
            if (n_install == sizeof installs / sizeof installs[0]) {
                fprintf(stderr, "duet-sim: too many --install\n");
                return 2;
            }
            installs[n_install++] = v;
        } else if (strcmp(a, "--no-start") == 0) {
            no_start = 1;
        } else if (strcmp(a, "--heartbeat-ms") == 0) {
            NEED_ARG();
            cfg.sup.heartbeat_timeout_ms = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--recovery") == 0) {
            NEED_ARG();
            if (strcmp(v, "on") == 0)
                cfg.sup.recovery = DUET_RECOVERY_ON;
            else if (strcmp(v, "off") == 0)
                cfg.sup.recovery = DUET_RECOVERY_OFF;
            else if (strcmp(v, "once") == 0)
                cfg.sup.recovery = DUET_RECOVERY_ONCE;
            else {
                fprintf(stderr, "duet-sim: --recovery on|off|once\n");
                return 2;
            }
        } else if (strcmp(a, "--channel") == 0) {
            NEED_ARG();
            char *name = strdup(v), *colon = strchr(name, ':');
            uint32_t size = 4096;
            if (colon != NULL) {
                *colon = '\0';
                size = (uint32_t)strtoul(colon + 1, NULL, 10);
            }
            if (duet_sim_config_channel(&cfg, name, size) != DUET_OK) {
                fprintf(stderr, "duet-sim: too many channels\n");
                return 2;
            }
        } else if (strcmp(a, "--duration") == 0) {
            NEED_ARG();
            duration = (unsigned)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--port-file") == 0) {
            NEED_ARG();
            port_file = v;
        } else if (strcmp(a, "--status-ms") == 0) {
            NEED_ARG();
            status_ms = (unsigned)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--key") == 0) {
            NEED_ARG();
            if (load_key(&cfg, v) != 0)
                return 2;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--verbose") == 0) {
            s_verbose_port = 1;
        } else if ((ext = sim_ext_option(a, v)) != 0) {
            if (ext < 0)
                return 2;
            i += ext - 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "duet-sim: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    s_tty = isatty(STDOUT_FILENO) && !quiet;
    s_t0 = duet_port_now_us();
    if (!quiet) {
        cfg.on_event = on_event;
        duet_host_log_set_sink(port_log, NULL);
    }
    char token[40];
    int generated = 0;
    if (cfg.http && (cfg.token == NULL || cfg.token[0] == '\0')) {
        /* No token given: make one, so writes are never open by accident. */
        FILE *r = fopen("/dev/urandom", "rb");
        unsigned char b[16] = {0};
        if (r == NULL || fread(b, 1, sizeof b, r) != sizeof b) {
            fprintf(stderr, "duet-sim: cannot read /dev/urandom for a token\n");
            return 1;
        }
        fclose(r);
        for (unsigned k = 0; k < sizeof b; k++)
            snprintf(token + 2 * k, 3, "%02x", b[k]);
        cfg.token = token;
        generated = 1;
    }

    duet_sim_t *sim = NULL;
    duet_err_t e = duet_sim_open(&cfg, &sim);
    if (e != DUET_OK) {
        fprintf(stderr, "duet-sim: cannot start: %s (flash %s, port %u)\n", duet_err_str(e),
                cfg.flash_path, (unsigned)cfg.http_port);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cfg.http) {
        uint16_t port = duet_sim_http_port(sim);
        /* A token the user gave is never echoed (logs and terminals get copied around);
         * a generated one is shown once, as there is no other way to learn it. */
        printf("duet-sim: HTTP API on http://%s:%u/  token %s\n",
               cfg.http_host != NULL ? cfg.http_host : "127.0.0.1", (unsigned)port,
               generated ? cfg.token : "(as given, not shown)");
        if (port_file != NULL) {
            FILE *pf = fopen(port_file, "w");
            if (pf == NULL || fprintf(pf, "%u\n", (unsigned)port) < 0 || fclose(pf) != 0) {
                fprintf(stderr, "duet-sim: cannot write %s\n", port_file);
                duet_sim_close(sim);
                return 1;
            }
        }
    }
    printf("duet-sim: flash %s\n", cfg.flash_path);
    fflush(stdout);
    int rc = 0;
    if (provision != NULL) {
        e = duet_sim_provision_file(sim, 0, provision);
        if (e != DUET_OK) {
            fprintf(stderr, "duet-sim: provision %s: %s\n", provision, duet_err_str(e));
            rc = 1;
            goto out;
        }
        stamp();
        printf("provisioned %s into slot A (confirmed)\n", provision);
    }
    for (unsigned k = 0; k < n_install; k++) {
        duet_img_info_t info;
        e = duet_sim_install_file(sim, installs[k], false, &info);
        if (e != DUET_OK) {
            fprintf(stderr, "duet-sim: install %s: %s\n", installs[k], duet_err_str(e));
            rc = 1;
            goto out;
        }
        stamp();
        printf("installed %s: \"%s\" v%u.%u.%u\n", installs[k], info.name, info.hdr.ih_ver_major,
               info.hdr.ih_ver_minor, info.hdr.ih_ver_patch);
    }
    if (!no_start) {
        e = duet_sim_start(sim);
        if (e != DUET_OK) {
            stamp();
            printf("start: %s (upload an image, then POST /api/start)\n", duet_err_str(e));
        }
    }
    if (sim_ext_start(sim, cfg.flash_path, !quiet) != 0) {
        rc = 1;
        goto out;
    }
    uint64_t end = duration != 0 ? duet_port_now_us() + (uint64_t)duration * 1000000u : 0;
    uint64_t next_status = duet_port_now_us();
    while (!s_quit && (end == 0 || duet_port_now_us() < end)) {
        (void)duet_sim_step(sim, 10000);
        uint64_t now = duet_port_now_us();
        if (!quiet && status_ms != 0 && now >= next_status) {
            status_line(sim);
            next_status = now + (s_tty ? 200000u : (uint64_t)status_ms * 1000u);
        }
    }
out:
    if (s_line_open)
        putchar('\n');
    sim_ext_stop();
    duet_sim_close(sim);
    print_xip_stats();
    printf("duet-sim: stopped\n");
    return rc;
}
