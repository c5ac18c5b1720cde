/*
 * duet/manifest.h - the signed release manifest of fleet updates (docs/fleet.md).
 *
 * A manifest is a small JSON object served next to an image by any static HTTPS server.
 * It names one release of a core-1 program and is signed with the same ECDSA P-256 keys
 * (and key ids) as images:
 *
 *   {"format":1,"name":"counter","version":"2.0.0","sequence":7,"security_counter":2,
 *    "chip":"esp32s3","url":"counter-2.0.0.img","size":81920,"sha256":"<64 hex>",
 *    "rollout":0.5,"key_id":"<16 hex>","signature":"<128 hex>"}
 *
 * The signature is over SHA-256 of a canonical text built from the parsed fields
 * (duet_manifest_canonical), never over the JSON bytes, so spacing and member order do
 * not matter and any language can produce it:
 *
 *   "duet-manifest 1\nname=N\nversion=V\nsequence=S\nsecurity_counter=C\nchip=CHIP\n"
 *   "url=U\nsize=Z\nsha256=HEX\nrollout=PPM\n"
 *
 * Strings may not contain '"', '\\' or control characters (so the text is unambiguous
 * and the reader needs no escapes). Unknown members are refused: nothing unsigned can
 * ride along. 'sequence' grows with every manifest the publisher signs; a device keeps
 * the last one it accepted and refuses anything older (a replayed manifest).
 * 'rollout' (0..1, at most 6 decimals, default 1) selects devices by a stable hash of
 * (device id, name, version), so raising the fraction of a release only adds devices.
 *
 *   DEVICE                          HTTPS SERVER
 *   GET manifest (If-None-Match) -->
 *                                <-- 304 (nothing to do) | 200 manifest
 *   parse, verify (key, chip, sequence >= last, counter >= floor), rollout
 *   GET url (Range: bytes=N- after a cut) -->
 *                                <-- image bytes -> duet_ota_write (size, SHA-256 checked)
 *   duet_ota_finish -> sequence stored as the last accepted
 */
#ifndef DUET_MANIFEST_H
#define DUET_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup duet_manifest Fleet release manifest
 *  @{ */

#define DUET_MANIFEST_FORMAT 1u
/* DUET_CONFIG: largest manifest text accepted (bytes). */
#define DUET_MANIFEST_MAX 4096u
/* DUET_CONFIG: longest image URL (bytes, without the NUL). */
#define DUET_MANIFEST_URL_MAX 512u
/* rollout_ppm of a release for every device */
#define DUET_MANIFEST_ROLLOUT_ALL 1000000u
/* duet_manifest_canonical needs at most this many bytes (NUL included) */
#define DUET_MANIFEST_CANON_MAX (DUET_MANIFEST_URL_MAX + 320u)

typedef struct {
    char name[32];    /* program name (the image's NAME TLV) */
    char version[24]; /* "X.Y.Z" as written */
    uint8_t ver_major, ver_minor;
    uint16_t ver_patch;
    uint32_t sequence; /* publisher's counter: grows with every manifest */
    uint32_t security_counter;
    uint8_t chip;                        /* DUET_CHIP_* */
    char url[DUET_MANIFEST_URL_MAX + 1]; /* absolute, or relative to the manifest's URL */
    uint32_t size;                       /* bytes of the image file */
    uint8_t sha256[DUET_IMG_HASH_LEN];   /* of the whole image file */
    uint32_t rollout_ppm; /* devices selected, in millionths (DUET_MANIFEST_ROLLOUT_ALL) */
    bool has_sig;         /* key_id and signature present */
    uint8_t key_id[DUET_IMG_KEY_ID_LEN];
    uint8_t sig[DUET_IMG_SIG_LEN];
} duet_manifest_t;

/** Parse a manifest (untrusted text; no signature check).
 *  @return DUET_OK; DUET_ERR_MANIFEST (not one flat JSON object, a member missing,
 *          repeated, unknown or out of range, a format other than 1, more than
 *          DUET_MANIFEST_MAX bytes); DUET_ERR_INVAL (NULL arguments). */
duet_err_t duet_manifest_parse(const char *text, size_t len, duet_manifest_t *m);

/** The canonical text the signature covers (NUL-terminated, cap >= DUET_MANIFEST_CANON_MAX).
 *  @return DUET_OK, DUET_ERR_INVAL (NULL, cap too small). */
duet_err_t duet_manifest_canonical(const duet_manifest_t *m, char *buf, size_t cap, size_t *len);

/** Accept a parsed manifest under a device's policy.
 *  Checks, in order: chip (IMG_WRONG_CHIP), signature (when the policy trusts keys or
 *  requires signatures: IMG_NO_SIG, IMG_UNKNOWN_KEY, IMG_BAD_SIG), sequence against the
 *  last accepted one (MANIFEST_REPLAY if lower; equal is accepted: it is the current
 *  release), security counter against the floor (IMG_DOWNGRADE), size against
 *  max_image_size when set (IMG_TOO_BIG).
 *  @return DUET_OK or the first error above; DUET_ERR_INVAL; DUET_ERR_CRYPTO. */
duet_err_t duet_manifest_verify(const duet_manifest_t *m, const duet_img_policy_t *pol,
                                uint32_t last_sequence);

/** The device's rollout bucket for this release: first 4 bytes of
 *  SHA-256("<device_id>\n<name>\n<version>") scaled to [0, 1000000). The device takes
 *  the release iff bucket < rollout_ppm.
 *  @return DUET_OK, DUET_ERR_INVAL, DUET_ERR_CRYPTO. */
duet_err_t duet_manifest_bucket(const duet_manifest_t *m, const char *device_id, uint32_t *bucket);

/** Convenience: *selected = bucket < rollout_ppm (always true at DUET_MANIFEST_ROLLOUT_ALL).
 *  @return as duet_manifest_bucket. */
duet_err_t duet_manifest_selected(const duet_manifest_t *m, const char *device_id, bool *selected);

/** Write the manifest as JSON (one line plus '\n', NUL-terminated). Strings are
 *  written as they are: they passed duet_manifest_parse's rules or come from the
 *  publisher, who checks them with duet_manifest_check_fields.
 *  @return DUET_OK, DUET_ERR_NOMEM (cap too small), DUET_ERR_INVAL. */
duet_err_t duet_manifest_to_json(const duet_manifest_t *m, char *buf, size_t cap, size_t *len);

/** The field rules of duet_manifest_parse, for a manifest built in memory.
 *  @return DUET_OK, DUET_ERR_MANIFEST. */
duet_err_t duet_manifest_check_fields(const duet_manifest_t *m);

#ifdef DUET_CRYPTO_HOST_SIGNING
/** Sign (host builds): sets key_id, sig and has_sig with the private key (PEM/DER).
 *  @return DUET_OK, DUET_ERR_MANIFEST (fields), DUET_ERR_INVAL (bad key), DUET_ERR_CRYPTO. */
duet_err_t duet_manifest_sign(duet_manifest_t *m, const uint8_t *key, size_t key_len);
#endif

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DUET_MANIFEST_H */
