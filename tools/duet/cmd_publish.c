/*
 * cmd_publish.c - `duet publish`: put a release into a folder that any static HTTPS
 * server (or object store) can serve to a fleet (docs/fleet.md).
 *
 *   duet publish IMAGE --key KEY.pem -o DIR [--sequence N] [--rollout F]
 *                [--base-url URL] [--manifest NAME.json] [--window ...]
 *
 * Writes DIR/<name>-<version>.img (the image, unchanged) and DIR/<name>.json (the signed
 * manifest, duet/manifest.h), then prints what to upload and in which order: the image
 * first, the manifest last, so a device never sees a manifest whose image is missing.
 * The sequence defaults to one more than the manifest already in DIR (so publishing
 * again from the same folder is always newer), else 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duet/crypto.h"
#include "duet/manifest.h"

typedef struct {
    const char *image, *key, *out, *base_url, *manifest, *window;
    uint32_t sequence;
    bool have_sequence;
    uint32_t rollout_ppm;
} pub_opts_t;

static int usage(int rc)
{
    printf("usage: duet publish IMAGE --key KEY.pem -o DIR [--sequence N] [--rollout F]\n"
           "                    [--base-url URL] [--manifest NAME.json] [--window SPEC]\n"
           "  writes DIR/<name>-<version>.img and the signed manifest DIR/<name>.json;\n"
           "  --sequence: default one more than DIR's manifest (else 1); --rollout 0..1\n"
           "  (default 1): fraction of devices that take it; --base-url: the image URL\n"
           "  in the manifest is absolute (default: relative to the manifest's URL)\n");
    return rc;
}

/* "0.25" -> 250000 through the manifest reader's own rule (at most 6 decimals). */
static bool parse_rollout(const char *s, uint32_t *ppm)
{
    char json[256];
    duet_manifest_t m;
    snprintf(json, sizeof json,
             "{\"format\":1,\"name\":\"n\",\"version\":\"0.0.0\",\"sequence\":0,"
             "\"security_counter\":0,\"chip\":\"host\",\"url\":\"u\",\"size\":1,\"sha256\":"
             "\"%064d\",\"rollout\":%s}",
             0, s);
    if (strlen(s) > 10 || duet_manifest_parse(json, strlen(json), &m) != DUET_OK)
        return false;
    *ppm = m.rollout_ppm;
    return true;
}

static int parse_args(int argc, char **argv, pub_opts_t *o)
{
    static const struct option lo[] = {
        {"key", 1, 0, 'k'},     {"out", 1, 0, 'o'},      {"sequence", 1, 0, 's'},
        {"rollout", 1, 0, 'r'}, {"base-url", 1, 0, 'b'}, {"manifest", 1, 0, 'm'},
        {"window", 1, 0, 'w'},  {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->rollout_ppm = DUET_MANIFEST_ROLLOUT_ALL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'k':
            o->key = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 's':
            if (!cli_parse_u32(optarg, &o->sequence))
                return cli_fail("publish", CLI_USAGE, "--sequence: not a number: %s", optarg);
            o->have_sequence = true;
            break;
        case 'r':
            if (!parse_rollout(optarg, &o->rollout_ppm))
                return cli_fail("publish", CLI_USAGE,
                                "--rollout: a fraction 0..1 with at most 6 decimals: %s", optarg);
            break;
        case 'b':
            o->base_url = optarg;
            break;
        case 'm':
            o->manifest = optarg;
            break;
        case 'w':
            o->window = optarg;
            break;
        case 'h':
            return usage(CLI_OK) - 1; /* -1: done, exit 0 */
        default:
            return cli_fail("publish", CLI_USAGE, "bad option (see duet publish --help)");
        }
    }
    if (optind != argc - 1 || o->key == NULL || o->out == NULL)
        return cli_fail("publish", CLI_USAGE, "need IMAGE, --key KEY.pem and -o DIR");
    o->image = argv[optind];
    return CLI_OK;
}

/* Sequence of the manifest already at path, if it reads as one. */
static bool previous_sequence(const char *path, uint32_t *seq)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    duet_manifest_t m;
    if (cli_read_file_max(path, DUET_MANIFEST_MAX, &buf, &len) != 0)
        return false;
    bool ok = duet_manifest_parse((const char *)buf, len, &m) == DUET_OK;
    free(buf);
    if (ok)
        *seq = m.sequence;
    return ok;
}

/* Verify the image as a device of its chip would (with the signing key trusted). */
static int check_image(const pub_opts_t *o, const uint8_t *img, size_t len, const uint8_t *pub,
                       duet_img_info_t *info)
{
    if (len < sizeof(duet_img_hdr_t))
        return cli_fail("publish", CLI_VERIFY, "%s: %s", o->image,
                        duet_err_name(DUET_ERR_IMG_TRUNCATED));
    uint8_t chip = img[8]; /* ih_chip: the verifier below checks it against the window */
    cli_window_t w;
    cli_window_default(chip, &w);
    if (o->window != NULL && !cli_window_parse(o->window, chip, &w))
        return cli_fail("publish", CLI_USAGE, "--window: cannot parse %s", o->window);
    duet_img_policy_t pol;
    cli_policy_from_window(&w, &pol);
    pol.key_count = 1;
    memcpy(pol.keys[0], pub, DUET_IMG_PUBKEY_LEN);
    duet_err_t e = duet_img_verify_buf(img, len, &pol, info);
    if (e != DUET_OK)
        return cli_fail("publish", CLI_VERIFY, "%s: %s (%s)", o->image, duet_err_name(e),
                        duet_err_str(e));
    if (!info->signed_ok)
        cli_warn("publish",
                 "%s is not signed with this key: devices that require "
                 "signatures will refuse it (duet sign)",
                 o->image);
    if (info->name[0] == '\0')
        return cli_fail("publish", CLI_VERIFY, "%s has no NAME (duet pack --name)", o->image);
    return CLI_OK;
}

int cmd_publish(int argc, char **argv)
{
    pub_opts_t o;
    int rc = parse_args(argc, argv, &o);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    uint8_t *key = NULL, *img = NULL;
    size_t key_len = 0, len = 0;
    if (cli_read_file_max(o.key, CLI_MAX_KEY_SIZE, &key, &key_len) != 0)
        return cli_fail("publish", CLI_IO, "%s: %s", o.key, strerror(errno));
    key_len++; /* PEM parsers want the NUL cli_read_file_max appended */
    uint8_t pub[DUET_IMG_PUBKEY_LEN];
    duet_err_t e = duet_crypto_privkey_public(key, key_len, pub);
    if (e != DUET_OK) {
        free(key);
        return cli_fail("publish", CLI_USAGE, "%s: not a P-256 private key", o.key);
    }
    if ((rc = cli_read_image("publish", o.image, &img, &len)) != CLI_OK) {
        free(key);
        return rc;
    }
    duet_img_info_t info;
    duet_manifest_t m;
    memset(&m, 0, sizeof m);
    char img_name[128], img_path[4096], man_path[4096], json[DUET_MANIFEST_MAX];
    size_t json_len = 0;
    if ((rc = check_image(&o, img, len, pub, &info)) != CLI_OK)
        goto out;
    const duet_img_hdr_t *h = &info.hdr;
    snprintf(m.name, sizeof m.name, "%s", info.name);
    snprintf(m.version, sizeof m.version, "%u.%u.%u", h->ih_ver_major, h->ih_ver_minor,
             h->ih_ver_patch);
    m.ver_major = h->ih_ver_major;
    m.ver_minor = h->ih_ver_minor;
    m.ver_patch = h->ih_ver_patch;
    m.security_counter = h->ih_security_counter;
    m.chip = h->ih_chip;
    m.size = (uint32_t)len;
    m.rollout_ppm = o.rollout_ppm;
    snprintf(img_name, sizeof img_name, "%s-%s.img", m.name, m.version);
    snprintf(img_path, sizeof img_path, "%s/%s", o.out, img_name);
    if (o.manifest != NULL)
        snprintf(man_path, sizeof man_path, "%s/%s", o.out, o.manifest);
    else
        snprintf(man_path, sizeof man_path, "%s/%s.json", o.out, m.name);
    uint32_t prev = 0;
    bool have_prev = previous_sequence(man_path, &prev);
    if (o.have_sequence) {
        m.sequence = o.sequence;
        if (have_prev && o.sequence <= prev)
            cli_warn("publish",
                     "sequence %u is not above %u of the manifest in %s: devices "
                     "that took that one refuse this one",
                     (unsigned)o.sequence, (unsigned)prev, o.out);
    } else {
        if (have_prev && prev == UINT32_MAX) {
            rc = cli_fail("publish", CLI_USAGE, "the sequence in %s is at its maximum", man_path);
            goto out;
        }
        m.sequence = have_prev ? prev + 1 : 1;
    }
    int n = o.base_url != NULL
                ? snprintf(m.url, sizeof m.url, "%s%s%s", o.base_url,
                           o.base_url[0] != '\0' && o.base_url[strlen(o.base_url) - 1] == '/' ? ""
                                                                                              : "/",
                           img_name)
                : snprintf(m.url, sizeof m.url, "%s", img_name);
    if (n < 0 || (size_t)n >= sizeof m.url) {
        rc =
            cli_fail("publish", CLI_USAGE, "image URL longer than %u bytes", DUET_MANIFEST_URL_MAX);
        goto out;
    }
    if ((e = duet_crypto_sha256(img, len, m.sha256)) != DUET_OK ||
        (e = duet_manifest_sign(&m, key, key_len)) != DUET_OK ||
        (e = duet_manifest_to_json(&m, json, sizeof json, &json_len)) != DUET_OK) {
        rc = cli_fail("publish", e == DUET_ERR_MANIFEST ? CLI_USAGE : CLI_INTERNAL,
                      "manifest: %s (name, version and URL: printable ASCII without '\"' "
                      "or '\\')",
                      duet_err_str(e));
        goto out;
    }
    if (cli_write_file(img_path, img, len, 0644) != 0) {
        rc = cli_fail("publish", CLI_IO, "%s: %s", img_path, strerror(errno));
        goto out;
    }
    if (cli_write_file(man_path, json, json_len, 0644) != 0) {
        rc = cli_fail("publish", CLI_IO, "%s: %s", man_path, strerror(errno));
        goto out;
    }
    printf("published %s v%s (sequence %u, security counter %u, %s, rollout %u.%06u) in %s\n",
           m.name, m.version, (unsigned)m.sequence, (unsigned)m.security_counter,
           cli_chip_name(m.chip), (unsigned)(m.rollout_ppm / 1000000u),
           (unsigned)(m.rollout_ppm % 1000000u), o.out);
    printf("upload, in this order:\n  1. %s   (image, %zu bytes)\n  2. %s   (manifest)\n", img_path,
           len, man_path);
    printf("to the folder the devices' manifest URL points at (image URL in the manifest: %s)\n",
           m.url);
out:
    free(img);
    free(key);
    return rc;
}
