/*
 * main.c - `duet`: the command-line tool for duet images and devices.
 * Dispatches to cmd_<verb>() (one file each). Usage and exit codes: docs/cli.md.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} verbs[] = {
    {"pack", cmd_pack, "ELF -> image (segments, entry, stack, build-id, version, signature)"},
    {"inspect", cmd_inspect, "show an image: header, segments, TLVs, trailer, verification"},
    {"verify", cmd_verify, "verify an image against a chip's window and trusted keys"},
    {"keygen", cmd_keygen, "make a P-256 signing key pair (private + public PEM)"},
    {"sign", cmd_sign, "add or replace an image's signature"},
    {"pubkey", cmd_pubkey, "print a key's public point for CONFIG_DUET_PUBKEY_HEX"},
    {"publish", cmd_publish, "image + signed manifest into a folder for fleet updates (HTTPS)"},
    {"sim", cmd_sim, "run the simulator (duet-sim) with the given arguments"},
    {"flash", cmd_flash, "write an image into slot a|b of a device (parttool.py) or simulator"},
    {"push", cmd_push, "upload an image to a device/simulator over HTTP"},
    {"status", cmd_status, "show a device's status (GET /api/status)"},
    {"timing", cmd_timing, "core 1's loop-timing histogram (GET /api/timing), --watch"},
    {"crash", cmd_crash, "decode a crash record (device or file), symbolized with --elf"},
    {"start", cmd_control, "start core 1 (POST /api/start)"},
    {"stop", cmd_control, "stop core 1 (POST /api/stop)"},
    {"restart", cmd_control, "restart core 1 (POST /api/restart)"},
    {"rollback", cmd_control, "switch to the other slot and restart (POST /api/rollback)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: duet <command> [options]   (duet <command> --help for details)\n\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].help);
    fprintf(f, "\nexit codes: 0 ok, 1 usage, 2 verification failed, 3 I/O or network error,\n"
               "            4 refused by the device, 5 internal/crypto error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "duet: unknown command '%s' (try duet --help)\n", argv[1]);
    return CLI_USAGE;
}
