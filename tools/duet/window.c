/*
 * window.c - the memory windows the CLI verifies images against by default, one per
 * chip, and the --window parser.
 *
 * esp32s3: the version-stable default of the ESP-IDF component (shared/esp32s3-facts
 *   §1.3): DRAM alias [0x3FCDC700, 0x3FCE9710) read/write, and the same SRAM through
 *   the IRAM alias (DRAM + 0x6F0000 = [0x403CC700, 0x403D9710)) read/execute.
 * esp32: no default window is defined by duet yet; pass --window.
 * host: the simulator's window (port/host/include/duet/host_port.h): code at
 *   0x10000000 (64 MiB, R X), data/stack at 0x20000000 (16 MiB, R W).
 * A device configured with another window (Kconfig) needs --window to match.
 * XIP range: esp32s3 the whole flash-mapped buses, IBUS [0x42000000, 0x44000000) with
 *   the DBUS alias 0x3C000000 (soc/esp32s3/include/soc/ext_mem_defs.h); a device allows
 *   a part of it (its port). host: the simulator's DUET_HOST_XIP_BASE range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duet/crypto.h"
#include "duet/host_port.h"
#include "duet/shm.h"

#define S3_DRAM_BASE 0x3FCDC700u
#define S3_DRAM_END 0x3FCE9710u
#define S3_I_D_OFFSET 0x6F0000u /* SOC_I_D_OFFSET: IRAM alias = DRAM alias + this */

static void add(cli_window_t *w, uint32_t base, uint32_t size, uint32_t phys, uint32_t perms)
{
    if (w->count < CLI_MAX_REGIONS)
        w->regions[w->count++] = (duet_mem_region_t){base, size, phys, perms};
}

static void s3_window(cli_window_t *w, uint32_t dram, uint32_t size)
{
    add(w, dram + S3_I_D_OFFSET, size, dram, DUET_MEM_R | DUET_MEM_X);
    add(w, dram, size, dram, DUET_MEM_R | DUET_MEM_W);
}

void cli_window_default(uint8_t chip, cli_window_t *w)
{
    memset(w, 0, sizeof(*w));
    w->chip = chip;
    switch (chip) {
    case DUET_CHIP_HOST:
        w->abi = DUET_ABI_HOST;
        add(w, DUET_HOST_X_BASE, DUET_HOST_X_SIZE, DUET_HOST_X_BASE, DUET_MEM_R | DUET_MEM_X);
        add(w, DUET_HOST_RW_BASE, DUET_HOST_RW_SIZE, DUET_HOST_RW_BASE, DUET_MEM_R | DUET_MEM_W);
        w->slot_size = DUET_HOST_X_SIZE;
        w->xip = (duet_xip_window_t){DUET_HOST_XIP_BASE, DUET_HOST_XIP_BASE, DUET_HOST_XIP_SIZE};
        break;
    case DUET_CHIP_ESP32S3:
        w->abi = DUET_ABI_WINDOWED;
        s3_window(w, S3_DRAM_BASE, S3_DRAM_END - S3_DRAM_BASE);
        w->slot_size = 1024u * 1024u;
        w->xip = (duet_xip_window_t){0x42000000u, 0x3C000000u, 32u << 20};
        break;
    default:
        w->abi = DUET_ABI_WINDOWED;
        w->slot_size = 1024u * 1024u;
        break;
    }
}

static bool parse_perms(const char *s, uint32_t *p)
{
    *p = 0;
    for (; *s; s++) {
        if (*s == 'r')
            *p |= DUET_MEM_R;
        else if (*s == 'w')
            *p |= DUET_MEM_W;
        else if (*s == 'x')
            *p |= DUET_MEM_X;
        else if (*s != '-')
            return false;
    }
    return *p != 0;
}

bool cli_window_parse(const char *spec, uint8_t chip, cli_window_t *w)
{
    char buf[512];
    uint8_t abi = w->abi;
    uint32_t slot = w->slot_size;
    duet_xip_window_t xip = w->xip; /* --window names RAM regions; the XIP range stays */
    if (strlen(spec) >= sizeof(buf))
        return false;
    strcpy(buf, spec);
    memset(w, 0, sizeof(*w));
    w->chip = chip;
    w->abi = abi;
    w->slot_size = slot;
    w->xip = xip;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *f[3] = {tok, NULL, NULL};
        int nf = 1;
        for (char *c = tok; *c && nf < 3; c++)
            if (*c == ':') {
                *c = '\0';
                f[nf++] = c + 1;
            }
        uint32_t base, size, perms;
        if (nf < 2 || !cli_parse_u32(f[0], &base) || !cli_parse_u32(f[1], &size) || size == 0 ||
            base + (uint64_t)size > 0x100000000ull)
            return false;
        if (nf == 2) { /* DRAM-alias shorthand for the Xtensa chips */
            if (chip == DUET_CHIP_HOST || w->count + 2 > CLI_MAX_REGIONS)
                return false;
            s3_window(w, base, size);
        } else {
            if (!parse_perms(f[2], &perms) || w->count >= CLI_MAX_REGIONS)
                return false;
            add(w, base, size, base, perms);
        }
    }
    return w->count > 0;
}

void cli_policy_from_window(const cli_window_t *w, duet_img_policy_t *pol)
{
    memset(pol, 0, sizeof(*pol));
    pol->regions = w->regions;
    pol->region_count = w->count;
    pol->chip = w->chip;
    pol->abi = w->abi;
    pol->shm_version = DUET_SHM_LAYOUT_VERSION;
    pol->max_image_size = w->slot_size;
    pol->xip = w->xip;
}

int cli_load_pubkey(const char *verb, const char *path, uint8_t pub[DUET_IMG_PUBKEY_LEN])
{
    uint8_t *buf;
    size_t len;
    if (cli_read_file_max(path, CLI_MAX_KEY_SIZE, &buf, &len) != 0)
        return cli_fail(verb, CLI_IO, "%s: cannot read key: %m", path);
    duet_err_t e = duet_crypto_pubkey_load(buf, len, pub);
    if (e != DUET_OK && duet_crypto_privkey_check(buf, len) == DUET_OK)
        e = duet_crypto_privkey_public(buf, len, pub);
    free(buf);
    if (e != DUET_OK)
        return cli_fail(verb, CLI_USAGE, "%s: not a P-256 public or private key", path);
    return CLI_OK;
}
