/*
 * cmd_verify.c - `duet verify` and `duet inspect`: show and check an image.
 *
 * Both run the real verifier (duet_img_verify_buf) with the policy a device of the chip
 * has: its default window (or --window), its ABI (windowed for the Xtensa chips: a device
 * refuses a call0 image, so does this check unless --abi asks for another), the shared-
 * memory layout version this CLI was built with, and the given trusted keys and flags.
 * The chip is --chip, else the image's own when it is one this CLI knows, else esp32s3:
 * an unknown chip id is IMG_WRONG_CHIP, as on a device.
 * The file is read up to CLI_MAX_IMAGE_SIZE, no further (cli_read_image).
 * inspect also walks the raw structures itself, bounds-checking every length, so it can
 * show a broken image.
 * Exit: 0 verified, 2 refused or too big (the line names the reason), 1 usage, 3 I/O.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duet/json.h"

typedef struct {
    const char *verb;
    bool json, require_sig, chip_given, abi_given;
    uint8_t chip, abi;
    const char *window;
    uint32_t min_sec;
    unsigned key_count;
    uint8_t keys[DUET_POLICY_MAX_KEYS][DUET_IMG_PUBKEY_LEN];
    const char *path;
} vopts_t;

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const char *tlv_name(uint16_t t)
{
    switch (t & ~DUET_TLV_CRITICAL) {
    case DUET_TLV_NAME: return "NAME";
    case DUET_TLV_BUILD_TIME: return "BUILD_TIME";
    case DUET_TLV_GIT: return "GIT";
    case DUET_TLV_PAYLOAD_SHA256: return "PAYLOAD_SHA256";
    case DUET_TLV_SHA256: return "SHA256";
    case DUET_TLV_KEY_ID: return "KEY_ID";
    case DUET_TLV_ECDSA_P256: return "ECDSA_P256";
    default: return "unknown";
    }
}

static int parse_opts(vopts_t *o, int argc, char **argv, bool inspect)
{
    enum { O_KEY = 256, O_REQ, O_CHIP, O_ABI, O_WIN, O_JSON, O_MIN };
    static const struct option lo[] = {{"key", 1, 0, O_KEY},     {"require-signature", 0, 0, O_REQ},
                                       {"chip", 1, 0, O_CHIP},   {"abi", 1, 0, O_ABI},
                                       {"window", 1, 0, O_WIN},  {"json", 0, 0, O_JSON},
                                       {"min-security", 1, 0, O_MIN},
                                       {"help", 0, 0, 'h'},      {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_KEY:
            if (o->key_count >= DUET_POLICY_MAX_KEYS)
                return cli_fail(o->verb, CLI_USAGE, "at most %u keys", DUET_POLICY_MAX_KEYS);
            if ((c = cli_load_pubkey(o->verb, optarg, o->keys[o->key_count])) != CLI_OK)
                return c;
            o->key_count++;
            break;
        case O_REQ: o->require_sig = true; break;
        case O_CHIP:
            if (!cli_parse_chip(optarg, &o->chip))
                return cli_fail(o->verb, CLI_USAGE, "unknown chip '%s'", optarg);
            o->chip_given = true;
            break;
        case O_ABI:
            if (!cli_parse_abi(optarg, &o->abi))
                return cli_fail(o->verb, CLI_USAGE, "unknown ABI '%s' (windowed, call0, host)",
                                optarg);
            o->abi_given = true;
            break;
        case O_WIN: o->window = optarg; break;
        case O_JSON: o->json = true; break;
        case O_MIN:
            if (!cli_parse_u32(optarg, &o->min_sec))
                return cli_fail(o->verb, CLI_USAGE, "bad --min-security '%s'", optarg);
            break;
        case 'h':
            printf("usage: duet %s [options] IMAGE\n"
                   "  --key PUB.pem          trusted public key (repeatable, up to 4)\n"
                   "  --require-signature    refuse unsigned images\n"
                   "  --chip esp32s3|esp32|host  window/chip to check against (default: the\n"
                   "                         image's own chip; esp32s3 if it is unknown)\n"
                   "  --abi windowed|call0|host  ABI to require (default: the chip's, as a\n"
                   "                         device: windowed for esp32s3/esp32; call0 only\n"
                   "                         for the CI lx106 images, which no device runs)\n"
                   "  --window SPEC          DRAM_BASE:SIZE (Xtensa; IRAM alias derived) or\n"
                   "                         BASE:SIZE:rwx[,BASE:SIZE:rwx...]\n"
                   "  --min-security N       lowest acceptable security counter\n"
                   "%s"
                   "Images above %u MiB (no slot is bigger) are refused unread.\n"
                   "exit: 0 verified, 2 refused, 1 usage, 3 I/O\n",
                   o->verb, inspect ? "  --json                 machine-readable output\n" : "",
                   (unsigned)(CLI_MAX_IMAGE_SIZE >> 20));
            return -1;
        default: return cli_fail(o->verb, CLI_USAGE, "bad option (see duet %s --help)", o->verb);
        }
    }
    if (optind != argc - 1)
        return cli_fail(o->verb, CLI_USAGE, "need exactly one image file");
    o->path = argv[optind];
    return CLI_OK;
}

/* The chip whose device policy applies: --chip, else the image's own if this CLI knows
 * it, else the default target. An unknown chip id must not select an empty window (that
 * answered IMG_SEG_OUTSIDE): against esp32s3 it is IMG_WRONG_CHIP, as on every device. */
static uint8_t policy_chip(const vopts_t *o, const uint8_t *img, size_t len)
{
    if (o->chip_given)
        return o->chip;
    if (len > 8 && (img[8] == DUET_CHIP_HOST || img[8] == DUET_CHIP_ESP32S3 ||
                    img[8] == DUET_CHIP_ESP32))
        return img[8];
    return DUET_CHIP_ESP32S3;
}

static duet_err_t run_verify(const vopts_t *o, const uint8_t *img, size_t len, uint8_t chip,
                             duet_img_info_t *info, cli_window_t *w)
{
    duet_img_policy_t pol;
    cli_window_default(chip, w); /* the chip's ABI: what a device requires */
    if (o->abi_given)
        w->abi = o->abi; /* e.g. --abi call0 for the CI lx106 images */
    if (o->window && !cli_window_parse(o->window, chip, w))
        return DUET_ERR_INVAL;
    cli_policy_from_window(w, &pol);
    pol.max_image_size = 0xFFFFFFFFu; /* slot sizes are per device: not checked here */
    pol.require_signature = o->require_sig;
    pol.min_security_counter = o->min_sec;
    pol.key_count = o->key_count;
    memcpy(pol.keys, o->keys, sizeof(pol.keys));
    return duet_img_verify_buf(img, len, &pol, info);
}

/* Where the trailer starts (image offset), by the image's own format number, so inspect
 * can show an image of either layout: format 1 has the trailer after the payload; later
 * formats put it right after the TLV area (the head that hash and signature cover) and
 * the payload after the trailer (docs/image-format.md). */
static uint64_t trailer_off(const uint8_t *img)
{
    uint64_t head = rd16(img + 6) + (uint64_t)img[30] * 16 + rd32(img + 40);
    return rd16(img + 4) == 1 ? head + rd32(img + 44) : head;
}

/* Walk one TLV area [p, p+n) and print or emit entries. Returns false if malformed. */
static bool walk_tlvs(const uint8_t *p, size_t n, duet_json_t *j, const char *indent)
{
    size_t off = 0;
    while (off < n) {
        if (n - off < 4)
            return false;
        uint16_t t = rd16(p + off), l = rd16(p + off + 2);
        size_t padded = ((size_t)l + 3) & ~(size_t)3;
        if (padded > n - off - 4)
            return false;
        const uint8_t *v = p + off + 4;
        char hex[2 * 64 + 1];
        size_t show = l > 64 ? 64 : l;
        cli_hex(v, show, hex);
        if (j) {
            duet_json_obj_begin(j, NULL);
            duet_json_u64(j, "type", t);
            duet_json_str(j, "name", tlv_name(t));
            duet_json_u64(j, "len", l);
            if ((t & ~DUET_TLV_CRITICAL) == DUET_TLV_NAME || (t & ~DUET_TLV_CRITICAL) == DUET_TLV_GIT)
                duet_json_strn(j, "text", (const char *)v, l);
            duet_json_hex(j, "value", v, l);
            duet_json_obj_end(j);
        } else if ((t & ~DUET_TLV_CRITICAL) == DUET_TLV_NAME ||
                   (t & ~DUET_TLV_CRITICAL) == DUET_TLV_GIT) {
            printf("%s0x%04x %-10s %3u  \"%.*s\"\n", indent, t, tlv_name(t), l, (int)l,
                   (const char *)v);
        } else {
            printf("%s0x%04x %-10s %3u  %s%s\n", indent, t, tlv_name(t), l, hex,
                   l > 64 ? "..." : "");
        }
        off += 4 + padded;
    }
    return true;
}

static int inspect_json(const vopts_t *o, const uint8_t *img, size_t len, duet_err_t ve,
                        const duet_img_info_t *info, uint8_t chip, uint8_t abi)
{
    size_t cap = 65536 + len / 2;
    char *buf = malloc(cap);
    duet_json_t j;
    if (!buf)
        return cli_fail(o->verb, CLI_INTERNAL, "out of memory");
    duet_json_init(&j, buf, cap);
    duet_json_obj_begin(&j, NULL);
    duet_json_str(&j, "file", o->path);
    duet_json_u64(&j, "size", len);
    if (len >= DUET_IMG_HDR_SIZE) {
        duet_json_obj_begin(&j, "header");
        duet_json_addr(&j, "magic", rd32(img));
        duet_json_u64(&j, "format", rd16(img + 4));
        duet_json_u64(&j, "hdr_size", rd16(img + 6));
        duet_json_str(&j, "chip", cli_chip_name(img[8]));
        duet_json_str(&j, "abi", cli_abi_name(img[9]));
        duet_json_u64(&j, "flags", rd16(img + 10));
        duet_json_addr(&j, "entry", rd32(img + 12));
        duet_json_addr(&j, "stack_top", rd32(img + 16));
        duet_json_u64(&j, "stack_size", rd32(img + 20));
        duet_json_addr(&j, "vectors", rd32(img + 24));
        duet_json_u64(&j, "shm_version", rd16(img + 28));
        duet_json_u64(&j, "seg_count", img[30]);
        char ver[24];
        snprintf(ver, sizeof(ver), "%u.%u.%u", img[32], img[33], rd16(img + 34));
        duet_json_str(&j, "version", ver);
        duet_json_u64(&j, "security_counter", rd32(img + 36));
        duet_json_u64(&j, "tlv_size", rd32(img + 40));
        duet_json_u64(&j, "payload_size", rd32(img + 44));
        uint8_t bl = img[68] > DUET_IMG_BUILD_ID_LEN ? DUET_IMG_BUILD_ID_LEN : img[68];
        duet_json_hex(&j, "build_id", img + 48, bl);
        duet_json_addr(&j, "shm_base", rd32(img + 72));
        duet_json_u64(&j, "shm_size", rd32(img + 76));
        duet_json_obj_end(&j);
        uint32_t hs = rd16(img + 6), nseg = img[30];
        duet_json_arr_begin(&j, "segments");
        for (uint32_t i = 0; i < nseg && hs + (uint64_t)(i + 1) * 16 <= len; i++) {
            const uint8_t *s = img + hs + i * 16;
            duet_json_obj_begin(&j, NULL);
            duet_json_str(&j, "kind", cli_kind_name(s[0]));
            duet_json_addr(&j, "addr", rd32(s + 4));
            duet_json_u64(&j, "size", rd32(s + 8));
            duet_json_u64(&j, "offset", rd32(s + 12));
            duet_json_obj_end(&j);
        }
        duet_json_arr_end(&j);
        uint64_t tlv_off = hs + (uint64_t)nseg * 16, tlv_n = rd32(img + 40);
        duet_json_arr_begin(&j, "tlvs");
        if (tlv_off + tlv_n <= len)
            walk_tlvs(img + tlv_off, (size_t)tlv_n, &j, "");
        duet_json_arr_end(&j);
        uint64_t prot = trailer_off(img);
        duet_json_arr_begin(&j, "trailer");
        if (prot + 4 <= len && rd16(img + prot) == DUET_IMG_TRAILER_MAGIC) {
            uint16_t ts = rd16(img + prot + 2);
            if (ts >= 4 && prot + ts <= len)
                walk_tlvs(img + prot + 4, ts - 4u, &j, "");
        }
        duet_json_arr_end(&j);
    }
    duet_json_obj_begin(&j, "verify");
    duet_json_str(&j, "chip", cli_chip_name(chip));
    duet_json_str(&j, "abi", cli_abi_name(abi));
    duet_json_bool(&j, "ok", ve == DUET_OK);
    duet_json_str(&j, "error", duet_err_name(ve));
    duet_json_str(&j, "message", duet_err_str(ve));
    if (ve == DUET_OK) {
        duet_json_hex(&j, "sha256", info->sha256, sizeof(info->sha256));
        duet_json_bool(&j, "signed_ok", info->signed_ok);
        if (info->signed_ok)
            duet_json_hex(&j, "key_id", info->key_id, sizeof(info->key_id));
        duet_json_str(&j, "name", info->name);
    }
    duet_json_obj_end(&j);
    duet_json_obj_end(&j);
    duet_err_t e = duet_json_finish(&j, NULL);
    if (e == DUET_OK)
        printf("%s\n", buf);
    free(buf);
    if (e != DUET_OK)
        return cli_fail(o->verb, CLI_INTERNAL, "JSON output does not fit");
    return ve == DUET_OK ? CLI_OK : CLI_VERIFY;
}

static void inspect_text(const uint8_t *img, size_t len)
{
    if (len < DUET_IMG_HDR_SIZE) {
        printf("file too short for a header (%zu bytes)\n", len);
        return;
    }
    char bid[2 * DUET_IMG_BUILD_ID_LEN + 1];
    uint8_t bl = img[68] > DUET_IMG_BUILD_ID_LEN ? DUET_IMG_BUILD_ID_LEN : img[68];
    cli_hex(img + 48, bl, bid);
    printf("header:\n");
    printf("  magic            0x%08x%s\n", rd32(img),
           rd32(img) == DUET_IMG_MAGIC ? " (DUET)" : " (bad)");
    printf("  format           %u, header %u bytes\n", rd16(img + 4), rd16(img + 6));
    printf("  chip / abi       %s / %s\n", cli_chip_name(img[8]), cli_abi_name(img[9]));
    printf("  flags            0x%04x\n", rd16(img + 10));
    printf("  version          %u.%u.%u\n", img[32], img[33], rd16(img + 34));
    printf("  security counter %u\n", rd32(img + 36));
    printf("  entry            0x%08x\n", rd32(img + 12));
    printf("  stack            top 0x%08x, %u bytes\n", rd32(img + 16), rd32(img + 20));
    printf("  vectors          0x%08x\n", rd32(img + 24));
    printf("  shared memory    layout v%u, base 0x%08x, %u bytes\n", rd16(img + 28),
           rd32(img + 72), rd32(img + 76));
    printf("  build-id         %s\n", bl ? bid : "(none)");
    if (rd16(img + 10) & DUET_IMG_F_XIP) /* docs/image-format.md 3a */
        printf("  xip mapping      slot offset 0x%x -> 0x%08x, %u bytes\n", rd32(img + 80),
               rd32(img + 84), rd32(img + 88));
    uint32_t hs = rd16(img + 6), nseg = img[30];
    printf("segments (%u):\n", nseg);
    for (uint32_t i = 0; i < nseg; i++) {
        if (hs + (uint64_t)(i + 1) * 16 > len) {
            printf("  (segment table truncated)\n");
            break;
        }
        const uint8_t *s = img + hs + i * 16;
        printf("  %-6s 0x%08x  %8u bytes  payload +0x%x\n", cli_kind_name(s[0]), rd32(s + 4),
               rd32(s + 8), rd32(s + 12));
    }
    uint64_t tlv_off = hs + (uint64_t)nseg * 16, tlv_n = rd32(img + 40);
    printf("protected TLVs (%llu bytes):\n", (unsigned long long)tlv_n);
    if (tlv_off + tlv_n > len || !walk_tlvs(img + tlv_off, (size_t)tlv_n, NULL, "  "))
        printf("  (malformed)\n");
    uint64_t prot = trailer_off(img);
    printf("payload            %u bytes; hashed part [0, %llu)\n", rd32(img + 44),
           (unsigned long long)prot);
    if (prot + 4 <= len && rd16(img + prot) == DUET_IMG_TRAILER_MAGIC) {
        uint16_t ts = rd16(img + prot + 2);
        printf("trailer (%u bytes):\n", ts);
        if (ts < 4 || prot + ts > len || !walk_tlvs(img + prot + 4, ts - 4u, NULL, "  "))
            printf("  (malformed)\n");
    } else {
        printf("trailer: missing\n");
    }
}

static int run(const char *verb, int argc, char **argv, bool inspect)
{
    vopts_t o;
    memset(&o, 0, sizeof(o));
    o.verb = verb;
    int rc = parse_opts(&o, argc, argv, inspect);
    if (rc < 0)
        return CLI_OK; /* --help */
    if (rc != CLI_OK)
        return rc;
    uint8_t *img;
    size_t len;
    if ((rc = cli_read_image(verb, o.path, &img, &len)) != CLI_OK)
        return rc;
    uint8_t chip = policy_chip(&o, img, len);
    duet_img_info_t info;
    cli_window_t w;
    memset(&info, 0, sizeof(info));
    duet_err_t ve = run_verify(&o, img, len, chip, &info, &w);
    if (ve == DUET_ERR_INVAL && o.window) {
        free(img);
        return cli_fail(verb, CLI_USAGE, "bad --window '%s'", o.window);
    }
    if (inspect && o.json) {
        rc = inspect_json(&o, img, len, ve, &info, chip, w.abi);
        free(img);
        return rc;
    }
    if (inspect)
        inspect_text(img, len);
    free(img);
    if (ve != DUET_OK) {
        if (inspect)
            printf("verification (%s window): REFUSED: %s (%s)\n", cli_chip_name(chip),
                   duet_err_str(ve), duet_err_name(ve));
        return cli_fail(verb, CLI_VERIFY, "%s: %s (%s)", o.path, duet_err_str(ve),
                        duet_err_name(ve));
    }
    char sha[65], kid[17];
    cli_hex(info.sha256, 32, sha);
    cli_hex(info.key_id, 8, kid);
    /* name the ABI when it is not what a device of the chip runs (--abi call0) */
    cli_window_t dflt;
    cli_window_default(chip, &dflt);
    char abi_note[32] = "";
    if (w.abi != dflt.abi)
        snprintf(abi_note, sizeof(abi_note), " (%s ABI)", cli_abi_name(w.abi));
    printf("%s%s: OK for %s%s: %s %u.%u.%u, security counter %u, sha256 %s, %s%s\n",
           inspect ? "verification " : "", o.path, cli_chip_name(chip), abi_note,
           info.name[0] ? info.name : "(unnamed)", info.hdr.ih_ver_major, info.hdr.ih_ver_minor,
           info.hdr.ih_ver_patch, info.hdr.ih_security_counter, sha,
           info.signed_ok ? "signature OK, key " : (o.key_count ? "not signed by a given key"
                                                                : "signature not checked (no --key)"),
           info.signed_ok ? kid : "");
    return CLI_OK;
}

int cmd_verify(int argc, char **argv)
{
    return run("verify", argc, argv, false);
}

int cmd_inspect(int argc, char **argv)
{
    return run("inspect", argc, argv, true);
}
