/*
 * cmd_keys.c - `duet keygen` (P-256 key pair as PEM files) and `duet sign` (add or
 * replace an image's signature). Crypto goes through duet/crypto.h only.
 *
 * The public key is written as a SubjectPublicKeyInfo PEM ("PUBLIC KEY"): the fixed
 * DER prefix for id-ecPublicKey + prime256v1 followed by the 65-byte point.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "duet/crypto.h"

/* SEQUENCE { SEQUENCE { OID ecPublicKey, OID prime256v1 }, BIT STRING (66 bytes) } */
static const uint8_t spki_prefix[26] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                        0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

static size_t b64(const uint8_t *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, col = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
        if ((col += 4) == 64) {
            out[o++] = '\n';
            col = 0;
        }
    }
    if (col)
        out[o++] = '\n';
    out[o] = '\0';
    return o;
}

static int write_pub_pem(const char *path, const uint8_t pub[DUET_CRYPTO_PUBKEY_LEN])
{
    uint8_t der[sizeof(spki_prefix) + DUET_CRYPTO_PUBKEY_LEN];
    char pem[512], body[256];
    memcpy(der, spki_prefix, sizeof(spki_prefix));
    memcpy(der + sizeof(spki_prefix), pub, DUET_CRYPTO_PUBKEY_LEN);
    b64(der, sizeof(der), body);
    int n = snprintf(pem, sizeof(pem), "-----BEGIN PUBLIC KEY-----\n%s-----END PUBLIC KEY-----\n",
                     body);
    return cli_write_file(path, pem, (size_t)n, 0644);
}

static void print_pubkey_hex(const uint8_t point[DUET_CRYPTO_PUBKEY_LEN])
{
    char hex[2 * DUET_CRYPTO_PUBKEY_LEN + 1];
    cli_hex(point, DUET_CRYPTO_PUBKEY_LEN, hex);
    printf("CONFIG_DUET_PUBKEY_HEX=\"%s\"\n", hex);
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option lo[] = {{"out", 1, 0, 'o'},   {"pub", 1, 0, 'p'},
                                       {"force", 0, 0, 'f'}, {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *out = NULL, *pub = NULL;
    bool force = false;
    char pubpath[4096];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:p:fh", lo, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'p': pub = optarg; break;
        case 'f': force = true; break;
        case 'h':
            printf("usage: duet keygen -o KEY.pem [--pub KEY.pub.pem] [--force]\n"
                   "  writes a new P-256 private key (mode 0600) and its public key\n"
                   "  (default: KEY.pub.pem next to it). Refuses to overwrite without --force.\n");
            return CLI_OK;
        default: return cli_fail("keygen", CLI_USAGE, "bad option (see duet keygen --help)");
        }
    }
    if (!out && optind == argc - 1)
        out = argv[optind++];
    if (!out || optind != argc)
        return cli_fail("keygen", CLI_USAGE, "need -o KEY.pem");
    if (!pub) {
        size_t n = strlen(out);
        if (n > 4 && strcmp(out + n - 4, ".pem") == 0)
            snprintf(pubpath, sizeof(pubpath), "%.*s.pub.pem", (int)(n - 4), out);
        else
            snprintf(pubpath, sizeof(pubpath), "%s.pub.pem", out);
        pub = pubpath;
    }
    if (!force && (access(out, F_OK) == 0 || access(pub, F_OK) == 0))
        return cli_fail("keygen", CLI_USAGE, "%s or %s exists (use --force to replace)", out, pub);
    char pem[1024];
    uint8_t point[DUET_CRYPTO_PUBKEY_LEN], kid[DUET_CRYPTO_KEY_ID_LEN];
    char kidhex[2 * DUET_CRYPTO_KEY_ID_LEN + 1];
    duet_err_t e = duet_crypto_keygen_pem(pem, sizeof(pem));
    if (e == DUET_OK)
        e = duet_crypto_privkey_public((const uint8_t *)pem, strlen(pem) + 1, point);
    if (e == DUET_OK)
        e = duet_crypto_key_id(point, kid);
    if (e != DUET_OK)
        return cli_fail("keygen", CLI_INTERNAL, "key generation failed: %s", duet_err_str(e));
    if (cli_write_file(out, pem, strlen(pem), 0600) != 0)
        return cli_fail("keygen", CLI_IO, "%s: %s", out, strerror(errno));
    if (write_pub_pem(pub, point) != 0)
        return cli_fail("keygen", CLI_IO, "%s: %s", pub, strerror(errno));
    cli_hex(kid, sizeof(kid), kidhex);
    printf("private key %s, public key %s, key id %s\n", out, pub, kidhex);
    print_pubkey_hex(point);
    return CLI_OK;
}

/* `duet pubkey KEY`: the public point of a private or public key file as the line an
 * sdkconfig needs (CONFIG_DUET_PUBKEY_HEX). */
int cmd_pubkey(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        printf("usage: duet pubkey KEY.pem|KEY.pub.pem\n"
               "  prints CONFIG_DUET_PUBKEY_HEX=\"04...\" for the firmware's sdkconfig\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? CLI_OK : CLI_USAGE;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cli_read_file_max(argv[1], CLI_MAX_KEY_SIZE, &buf, &len) != 0)
        return cli_fail("pubkey", CLI_IO, "%s: %s", argv[1], strerror(errno));
    uint8_t point[DUET_CRYPTO_PUBKEY_LEN];
    /* the private-key parser wants the terminating NUL of a PEM text */
    uint8_t *z = realloc(buf, len + 1);
    if (z == NULL) {
        free(buf);
        return cli_fail("pubkey", CLI_INTERNAL, "out of memory");
    }
    z[len] = 0;
    duet_err_t e = duet_crypto_privkey_public(z, len + 1, point);
    if (e != DUET_OK)
        e = duet_crypto_pubkey_load(z, len, point);
    free(z);
    if (e != DUET_OK)
        return cli_fail("pubkey", CLI_VERIFY, "%s: not a P-256 private or public key", argv[1]);
    print_pubkey_hex(point);
    return CLI_OK;
}

int cmd_sign(int argc, char **argv)
{
    static const struct option lo[] = {{"key", 1, 0, 'k'}, {"output", 1, 0, 'o'},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *key = NULL, *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'k': key = optarg; break;
        case 'o': out = optarg; break;
        case 'h':
            printf("usage: duet sign --key KEY.pem IMAGE [-o OUT]\n"
                   "  adds (or replaces) the ECDSA P-256 signature; in place without -o.\n"
                   "  The image must be well formed (its SHA-256 is checked first).\n");
            return CLI_OK;
        default: return cli_fail("sign", CLI_USAGE, "bad option (see duet sign --help)");
        }
    }
    if (!key || optind != argc - 1)
        return cli_fail("sign", CLI_USAGE, "need --key KEY.pem and one image");
    const char *in = argv[optind];
    if (!out)
        out = in;
    uint8_t *img, *kb;
    size_t len, kl;
    int rc = cli_read_image("sign", in, &img, &len);
    if (rc != CLI_OK)
        return rc;
    if (cli_read_file_max(key, CLI_MAX_KEY_SIZE, &kb, &kl) != 0) {
        free(img);
        return cli_fail("sign", CLI_IO, "%s: %s", key, strerror(errno));
    }
    duet_err_t e = duet_img_sign(&img, &len, kb, kl);
    free(kb);
    if (e != DUET_OK) {
        free(img);
        bool bad_key = e == DUET_ERR_INVAL;
        return cli_fail("sign", bad_key ? CLI_USAGE : (e == DUET_ERR_CRYPTO ? CLI_INTERNAL
                                                                            : CLI_VERIFY),
                        "%s: %s (%s)", bad_key ? key : in, duet_err_str(e), duet_err_name(e));
    }
    if (cli_write_file(out, img, len, 0644) != 0)
        rc = cli_fail("sign", CLI_IO, "%s: %s", out, strerror(errno));
    else
        printf("signed %s (%zu bytes)\n", out, len);
    free(img);
    return rc;
}
