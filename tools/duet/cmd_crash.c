/*
 * cmd_crash.c - `duet crash`: fetch (GET /api/crash) or read (a saved JSON answer or a
 * raw 256-byte duet_crash_t) a crash record, and print it decoded by core/crash_fmt.c,
 * with PCs symbolized from --elf. The JSON form carries "raw" (the record bytes) so the
 * CLI decodes exactly what the device captured.
 * Exit: 0 ok (also when there is no crash), 1 usage, 2 malformed record, 3 I/O, 4 refused.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duet/crash_fmt.h"
#include "elfsym.h"
#include "jsonp.h"

#define V "crash"

static int from_json(const char *text, size_t len, duet_crash_t *c, uint8_t *chip, bool *chip_set,
                     bool *none)
{
    char err[128];
    jp_node_t *j = jp_parse(text, len, err, sizeof(err));
    if (!j)
        return cli_fail(V, CLI_VERIFY, "not a crash record (JSON: %s)", err);
    const jp_node_t *raw = jp_get(j, "raw");
    int rc = CLI_OK;
    if (jp_get(j, "valid") && !jp_bool(j, "valid", true)) {
        *none = true;
    } else if (!raw || raw->type != JP_STR ||
               duet_crash_from_hex(raw->str, raw->str_len, c) != DUET_OK) {
        rc = cli_fail(V, CLI_VERIFY, "JSON has no valid \"raw\" crash record");
    }
    const char *ch = jp_str(j, "chip", NULL);
    if (ch && cli_parse_chip(ch, chip))
        *chip_set = true;
    jp_free(j);
    return rc;
}

int cmd_crash(int argc, char **argv)
{
    enum { O_URL = 256, O_ELF, O_CHIP, O_JSON };
    static const struct option lo[] = {{"url", 1, 0, O_URL},   {"elf", 1, 0, O_ELF},
                                       {"chip", 1, 0, O_CHIP}, {"json", 0, 0, O_JSON},
                                       {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
    const char *url = NULL, *elf = NULL, *file = NULL;
    uint8_t chip = DUET_CHIP_ESP32S3;
    bool chip_set = false, json = false, none = false;
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_URL: url = optarg; break;
        case O_ELF: elf = optarg; break;
        case O_CHIP:
            if (!cli_parse_chip(optarg, &chip))
                return cli_fail(V, CLI_USAGE, "unknown chip '%s'", optarg);
            chip_set = true;
            break;
        case O_JSON: json = true; break;
        case 'h':
            printf("usage: duet crash [--url URL | FILE] [--elf PROGRAM.elf] [--chip C] [--json]\n"
                   "  FILE: a saved GET /api/crash answer (JSON) or a raw 256-byte record.\n"
                   "  Without FILE the record is fetched from --url ($DUET_URL).\n"
                   "  --elf symbolizes the PC and backtrace (libelf symbols; file:line via\n"
                   "  addr2line / xtensa-esp32s3-elf-addr2line when installed).\n");
            return CLI_OK;
        default: return cli_fail(V, CLI_USAGE, "bad option (see duet crash --help)");
        }
    }
    if (optind == argc - 1)
        file = argv[optind];
    else if (optind != argc)
        return cli_fail(V, CLI_USAGE, "at most one FILE");
    if (file && url)
        return cli_fail(V, CLI_USAGE, "give either FILE or --url");
    bool chip_forced = chip_set;
    duet_crash_t cr;
    memset(&cr, 0, sizeof(cr));
    if (file) {
        uint8_t *buf;
        size_t len;
        if (cli_read_file(file, &buf, &len) != 0)
            return cli_fail(V, CLI_IO, "%s: %s", file, strerror(errno));
        if (len == sizeof(duet_crash_t) && buf[0] != '{') {
            memcpy(&cr, buf, sizeof(cr));
            rc = CLI_OK;
        } else {
            uint8_t ch = chip;
            rc = from_json((const char *)buf, len, &cr, &ch, &chip_set, &none);
            if (!chip_forced)
                chip = ch;
        }
        free(buf);
        if (rc)
            return rc;
    } else {
        char full[2048];
        const char *base = cli_base_url(url);
        size_t n = strlen(base);
        while (n > 0 && base[n - 1] == '/')
            n--;
        snprintf(full, sizeof(full), "%.*s/api/crash", (int)n, base);
        cli_http_t r;
        if (cli_http_get(full, &r) != 0) {
            rc = cli_fail(V, CLI_IO, "%s: %s", base, r.err);
            cli_http_free(&r);
            return rc;
        }
        if (r.status != 200) {
            rc = cli_http_fail(V, &r);
            cli_http_free(&r);
            return rc;
        }
        uint8_t ch = chip;
        rc = from_json(r.body, r.len, &cr, &ch, &chip_set, &none);
        if (!chip_forced)
            chip = ch;
        cli_http_free(&r);
        if (rc)
            return rc;
    }
    if (none || !duet_crash_valid(&cr)) {
        if (json)
            printf("{\"valid\":false,\"summary\":\"none\"}\n");
        else
            printf("no crash recorded\n");
        return CLI_OK;
    }

    elfsym_t *sym = NULL;
    if (elf) {
        char msg[256] = "";
        unsigned machine = 0;
        sym = elfsym_open(elf, &machine, msg, sizeof(msg));
        if (!sym)
            return cli_fail(V, CLI_IO, "%s", msg);
        if (!chip_set && !chip_forced)
            chip = machine == 94 ? DUET_CHIP_ESP32S3 : DUET_CHIP_HOST;
        uint32_t addrs[1 + DUET_CRASH_BT];
        size_t n = 0;
        addrs[n++] = cr.cr_pc;
        for (uint32_t i = 0; i < cr.cr_bt_count && i < DUET_CRASH_BT; i++)
            addrs[n++] = cr.cr_bt[i];
        elfsym_lines(sym, addrs, n);
    }
    if (json) {
        char buf[4096];
        duet_json_t j;
        duet_json_init(&j, buf, sizeof(buf));
        duet_crash_json(&j, NULL, &cr, chip, false);
        rc = duet_json_finish(&j, NULL) == DUET_OK ? CLI_OK : CLI_INTERNAL;
        if (rc == CLI_OK)
            printf("%s\n", buf);
    } else {
        char buf[8192];
        duet_crash_fmt_opts_t o = {chip, sym ? elfsym_lookup : NULL, sym};
        duet_crash_format(&cr, &o, buf, sizeof(buf), NULL); /* 8 KiB holds any record */
        fputs(buf, stdout);
        rc = CLI_OK;
    }
    elfsym_close(sym);
    return rc;
}
