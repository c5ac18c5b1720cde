/*
 * cmd_flash.c - `duet flash`: write a packed image into program slot a or b of a
 * device (through ESP-IDF's parttool.py, flash_idf.c) or of the simulator's flash file
 * (flash_sim.c). See docs/cli.md for what the device does with the slot afterwards.
 *
 * The image is verified here first, with the same verifier and policy `duet verify
 * --chip <target>` uses (esp32s3: default window, windowed ABI; simulator: host), plus
 * the options --key/--require-signature/--min-security/--window; a refused image exits
 * 2 and nothing is written. The device checks again when it boots the slot; this check
 * only saves a flash cycle and a confusing boot.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flash.h"

typedef struct {
    flash_opts_t f;
    const char *sim_dir;
    const char *window;
    bool require_sig, size_given;
    uint32_t min_sec, slot_size;
    unsigned key_count;
    uint8_t keys[DUET_POLICY_MAX_KEYS][DUET_IMG_PUBKEY_LEN];
    char sim_path[4096];
} fopts_t;

static void usage(void)
{
    printf("usage: duet flash --slot a|b (--port DEV | --sim-dir DIR | --sim-flash FILE)\n"
           "                  [options] IMAGE\n"
           "Verifies IMAGE for the target's chip, then writes it into the slot.\n"
           "  --slot a|b              program slot (partition duet_a / duet_b)\n"
           "  --erase-state           also erase the slot-state journal (duet_state): at the\n"
           "                          next start the first slot that verifies (A before B)\n"
           "                          is adopted as CONFIRMED and runs\n"
           "device (ESP32-S3, needs ESP-IDF's parttool.py: PATH or $IDF_PATH):\n"
           "  --port DEV              serial port, e.g. /dev/ttyUSB0\n"
           "  --baud N                serial speed for esptool\n"
           "  --partition-table FILE  partition table (CSV or binary) instead of reading the\n"
           "                          device's; a CSV also gives the slot size\n"
           "  --partition-table-offset OFF  where the device's table is (default 0x8000)\n"
           "  --partition-name NAME   slot partition name (default duet_a / duet_b)\n"
           "  --state-partition NAME  state partition name (default duet_state)\n"
           "  --slot-size N           slot partition size for the local size check\n"
           "                          (default: from the CSV, else 0x10000)\n"
           "  --dry-run               print the parttool.py commands, run nothing\n"
           "simulator (stop duet-sim first; it reads the slots when it starts):\n"
           "  --sim-dir DIR           the simulator's directory (file DIR/duet-sim.flash,\n"
           "                          created blank if missing)\n"
           "  --sim-flash FILE        the flash file itself (duet-sim --flash FILE)\n"
           "verification (as duet verify):\n"
           "  --key PUB.pem           trusted public key (repeatable, up to 4)\n"
           "  --require-signature     refuse unsigned images\n"
           "  --min-security N        lowest acceptable security counter\n"
           "  --window SPEC           the device's window if not the default\n"
           "exit: 0 written, 1 usage, 2 image refused, 3 I/O, parttool.py missing or failed\n");
}

static int parse(fopts_t *o, int argc, char **argv)
{
    enum {
        O_SLOT = 256,
        O_ERASE,
        O_DRY,
        O_PORT,
        O_BAUD,
        O_TABLE,
        O_TOFF,
        O_PNAME,
        O_SNAME,
        O_SSIZE,
        O_SIMDIR,
        O_SIMFILE,
        O_KEY,
        O_REQ,
        O_MIN,
        O_WIN
    };
    static const struct option lo[] = {{"slot", 1, 0, O_SLOT},
                                       {"erase-state", 0, 0, O_ERASE},
                                       {"dry-run", 0, 0, O_DRY},
                                       {"port", 1, 0, O_PORT},
                                       {"baud", 1, 0, O_BAUD},
                                       {"partition-table", 1, 0, O_TABLE},
                                       {"partition-table-offset", 1, 0, O_TOFF},
                                       {"partition-name", 1, 0, O_PNAME},
                                       {"state-partition", 1, 0, O_SNAME},
                                       {"slot-size", 1, 0, O_SSIZE},
                                       {"sim-dir", 1, 0, O_SIMDIR},
                                       {"sim-flash", 1, 0, O_SIMFILE},
                                       {"key", 1, 0, O_KEY},
                                       {"require-signature", 0, 0, O_REQ},
                                       {"min-security", 1, 0, O_MIN},
                                       {"window", 1, 0, O_WIN},
                                       {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    int c;
    uint32_t u;
    o->f.slot = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_SLOT:
            if (strcmp(optarg, "a") == 0 || strcmp(optarg, "A") == 0)
                o->f.slot = 0;
            else if (strcmp(optarg, "b") == 0 || strcmp(optarg, "B") == 0)
                o->f.slot = 1;
            else
                return cli_fail(FLASH_VERB, CLI_USAGE, "--slot must be a or b, not '%s'", optarg);
            break;
        case O_ERASE:
            o->f.erase_state = true;
            break;
        case O_DRY:
            o->f.dry_run = true;
            break;
        case O_PORT:
            o->f.port = optarg;
            break;
        case O_BAUD:
            if (!cli_parse_u32(optarg, &u) || u == 0)
                return cli_fail(FLASH_VERB, CLI_USAGE, "bad --baud '%s'", optarg);
            o->f.baud = optarg;
            break;
        case O_TABLE:
            o->f.table = optarg;
            break;
        case O_TOFF:
            if (!cli_parse_u32(optarg, &u))
                return cli_fail(FLASH_VERB, CLI_USAGE, "bad --partition-table-offset '%s'", optarg);
            o->f.table_offset = optarg;
            break;
        case O_PNAME:
            o->f.part_name = optarg;
            break;
        case O_SNAME:
            o->f.state_name = optarg;
            break;
        case O_SSIZE:
            if (!cli_parse_u32(optarg, &o->slot_size) || o->slot_size == 0)
                return cli_fail(FLASH_VERB, CLI_USAGE, "bad --slot-size '%s'", optarg);
            o->size_given = true;
            break;
        case O_SIMDIR:
            o->sim_dir = optarg;
            break;
        case O_SIMFILE:
            o->f.sim_flash = optarg;
            break;
        case O_KEY:
            if (o->key_count >= DUET_POLICY_MAX_KEYS)
                return cli_fail(FLASH_VERB, CLI_USAGE, "at most %u keys", DUET_POLICY_MAX_KEYS);
            if ((c = cli_load_pubkey(FLASH_VERB, optarg, o->keys[o->key_count])) != CLI_OK)
                return c;
            o->key_count++;
            break;
        case O_REQ:
            o->require_sig = true;
            break;
        case O_MIN:
            if (!cli_parse_u32(optarg, &o->min_sec))
                return cli_fail(FLASH_VERB, CLI_USAGE, "bad --min-security '%s'", optarg);
            break;
        case O_WIN:
            o->window = optarg;
            break;
        case 'h':
            usage();
            return -1;
        default:
            return cli_fail(FLASH_VERB, CLI_USAGE, "bad option (see duet flash --help)");
        }
    }
    if (optind != argc - 1)
        return cli_fail(FLASH_VERB, CLI_USAGE, "need exactly one image file");
    o->f.image = argv[optind];
    if (o->f.slot < 0)
        return cli_fail(FLASH_VERB, CLI_USAGE, "--slot a|b is required");
    int targets = (o->f.port != NULL) + (o->sim_dir != NULL) + (o->f.sim_flash != NULL);
    if (targets != 1)
        return cli_fail(FLASH_VERB, CLI_USAGE,
                        "give exactly one target: --port DEV (device), --sim-dir DIR or "
                        "--sim-flash FILE (simulator)");
    bool device = o->f.port != NULL;
    if (!device && (o->f.baud || o->f.table || o->f.table_offset || o->f.part_name ||
                    o->f.state_name || o->size_given || o->f.dry_run))
        return cli_fail(FLASH_VERB, CLI_USAGE,
                        "--baud, --partition-*, --state-partition, --slot-size and --dry-run "
                        "are for a device (--port)");
    if (o->sim_dir != NULL) {
        int n = snprintf(o->sim_path, sizeof(o->sim_path), "%s/%s", o->sim_dir, FLASH_SIM_FILE);
        if (n < 0 || (size_t)n >= sizeof(o->sim_path))
            return cli_fail(FLASH_VERB, CLI_USAGE, "--sim-dir path too long");
        o->f.sim_flash = o->sim_path;
    }
    if (device) {
        if (o->f.part_name == NULL)
            o->f.part_name = o->f.slot == 0 ? FLASH_PART_A : FLASH_PART_B;
        if (o->f.state_name == NULL)
            o->f.state_name = FLASH_PART_STATE;
    }
    return CLI_OK;
}

/* The verifier with the policy `duet verify --chip <chip>` builds (the chip's ABI, not
 * the image's: a device refuses an image for another ABI). */
static duet_err_t verify(const fopts_t *o, uint8_t chip, const uint8_t *img, size_t len,
                         duet_img_info_t *info)
{
    cli_window_t w;
    duet_img_policy_t pol;
    cli_window_default(chip, &w);
    if (o->window && !cli_window_parse(o->window, chip, &w))
        return DUET_ERR_INVAL;
    cli_policy_from_window(&w, &pol);
    pol.max_image_size = 0xFFFFFFFFu; /* the slot size is checked by the caller */
    pol.require_signature = o->require_sig;
    pol.min_security_counter = o->min_sec;
    pol.key_count = o->key_count;
    memcpy(pol.keys, o->keys, sizeof(pol.keys));
    return duet_img_verify_buf(img, len, &pol, info);
}

int cmd_flash(int argc, char **argv)
{
    fopts_t *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return cli_fail(FLASH_VERB, CLI_INTERNAL, "out of memory");
    int rc = parse(o, argc, argv);
    if (rc != CLI_OK) {
        free(o);
        return rc < 0 ? CLI_OK : rc;
    }
    bool device = o->f.port != NULL;
    uint8_t chip = device ? DUET_CHIP_ESP32S3 : DUET_CHIP_HOST;
    uint8_t *img = NULL;
    size_t len = 0;
    if ((rc = cli_read_image(FLASH_VERB, o->f.image, &img, &len)) != CLI_OK) {
        free(o);
        return rc;
    }
    duet_img_info_t info;
    memset(&info, 0, sizeof(info));
    duet_err_t ve = verify(o, chip, img, len, &info);
    if (ve == DUET_ERR_INVAL && o->window) {
        rc = cli_fail(FLASH_VERB, CLI_USAGE, "bad --window '%s'", o->window);
    } else if (ve != DUET_OK) {
        rc = cli_fail(FLASH_VERB, CLI_VERIFY, "%s: refused for %s: %s (%s); nothing written",
                      o->f.image, device ? "esp32s3" : "the simulator", duet_err_str(ve),
                      duet_err_name(ve));
    } else {
        printf("%s: OK for %s: %s %u.%u.%u, security counter %u, %zu bytes%s\n", o->f.image,
               cli_chip_name(chip), info.name[0] ? info.name : "(unnamed)", info.hdr.ih_ver_major,
               info.hdr.ih_ver_minor, info.hdr.ih_ver_patch, info.hdr.ih_security_counter, len,
               info.signed_ok ? ", signature OK" : (o->key_count ? "" : ", signature not checked"));
        fflush(stdout);
        if (device) {
            uint32_t slot_size = o->slot_size;
            const char *from = "--slot-size";
            if (!o->size_given && o->f.table != NULL &&
                (slot_size = flash_csv_part_size(o->f.table, o->f.part_name)) != 0)
                from = o->f.table;
            if (slot_size == 0) {
                slot_size = FLASH_DEFAULT_SLOT_SIZE;
                from = "esp/partitions_duet.csv (use --slot-size if yours differs)";
            }
            /* parttool.py erases the partition before its own size check: a too-big
             * image would leave the slot empty, so refuse it here. */
            if (len > slot_size)
                rc = cli_fail(FLASH_VERB, CLI_VERIFY,
                              "%s: %zu bytes do not fit partition %s (%u bytes, from %s); "
                              "nothing written",
                              o->f.image, len, o->f.part_name, (unsigned)slot_size, from);
            else
                rc = flash_idf(&o->f);
        } else {
            rc = flash_sim(&o->f, img, len);
        }
    }
    free(img);
    free(o);
    return rc;
}
