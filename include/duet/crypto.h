/*
 * duet/crypto.h - the one thin wrapper over mbedTLS used by duet (SHA-256, ECDSA P-256).
 *
 * Why a wrapper: the host builds against Debian's mbedTLS 2.28 and the chip against
 * ESP-IDF v5's mbedTLS 3.x. Their APIs differ (the SHA-256 "_ret" names, private struct
 * members in 3.x, the extra RNG arguments of pk_parse_key). All version gates live in
 * core/crypto_mbedtls.c; nothing else in duet includes an mbedTLS header except this one,
 * which only needs the SHA-256 context type so it can be a struct member.
 *
 * Conventions (they are part of the image format, see docs/image-format.md):
 *  - public key: 65-byte uncompressed SEC1 point 0x04 || X || Y (P-256);
 *  - signature: 64 bytes r || s, each 32 bytes big-endian, over a 32-byte SHA-256 digest,
 *    with "low S": s <= (n - 1) / 2 (n = the P-256 group order). (r, n - s) verifies as
 *    well as (r, s) in plain ECDSA; duet refuses the high twin so that a signature
 *    cannot be altered without the key (malleability), and its signer never makes one;
 *  - key id: the first 8 bytes of SHA-256 of the 65-byte public key.
 *
 * Host-only functions (key generation, signing, key loading) are compiled only when
 * DUET_CRYPTO_HOST_SIGNING is defined (the host CMake build defines it; ESP-IDF does not).
 */
#ifndef DUET_CRYPTO_H
#define DUET_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/sha256.h"

#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_CRYPTO_SHA256_LEN 32u
#define DUET_CRYPTO_PUBKEY_LEN 65u
#define DUET_CRYPTO_SIG_LEN    64u
#define DUET_CRYPTO_KEY_ID_LEN 8u

/** Incremental SHA-256. Plain data: can be embedded in a struct (no heap). */
typedef struct {
    mbedtls_sha256_context ctx;
} duet_sha256_t;

/** Start a hash. @return DUET_OK or DUET_ERR_CRYPTO (hardware back-ends can fail). */
duet_err_t duet_crypto_sha256_init(duet_sha256_t *h);
/** Add bytes. @return DUET_OK or DUET_ERR_CRYPTO. */
duet_err_t duet_crypto_sha256_update(duet_sha256_t *h, const void *data, size_t len);
/** Write the digest and release the context (init again to reuse).
 *  @return DUET_OK or DUET_ERR_CRYPTO. */
duet_err_t duet_crypto_sha256_finish(duet_sha256_t *h, uint8_t out[DUET_CRYPTO_SHA256_LEN]);
/** Release a context without producing a digest (abandoned hash). */
void duet_crypto_sha256_free(duet_sha256_t *h);
/** One-shot SHA-256. @return DUET_OK or DUET_ERR_CRYPTO. */
duet_err_t duet_crypto_sha256(const void *data, size_t len, uint8_t out[DUET_CRYPTO_SHA256_LEN]);

/** Key id of a public key: first 8 bytes of SHA-256(pub).
 *  @return DUET_OK or DUET_ERR_CRYPTO. */
duet_err_t duet_crypto_key_id(const uint8_t pub[DUET_CRYPTO_PUBKEY_LEN],
                              uint8_t id[DUET_CRYPTO_KEY_ID_LEN]);

/** Verify an ECDSA P-256 signature (raw r||s) over a SHA-256 digest.
 *  @return DUET_OK; DUET_ERR_IMG_BAD_SIG if the signature does not verify (including
 *          r or s out of range, and a high s > (n - 1) / 2 even where plain ECDSA would
 *          accept it); DUET_ERR_INVAL if pub is not a valid P-256 point;
 *          DUET_ERR_CRYPTO on a library failure (e.g. out of memory). */
duet_err_t duet_crypto_ecdsa_verify(const uint8_t pub[DUET_CRYPTO_PUBKEY_LEN],
                                    const uint8_t digest[DUET_CRYPTO_SHA256_LEN],
                                    const uint8_t sig[DUET_CRYPTO_SIG_LEN]);

#ifdef DUET_CRYPTO_HOST_SIGNING
/** Generate a new P-256 private key (system entropy) as a NUL-terminated PEM string
 *  ("-----BEGIN EC PRIVATE KEY-----"). cap >= 256 is enough.
 *  @return DUET_OK, DUET_ERR_INVAL (cap too small), DUET_ERR_CRYPTO. */
duet_err_t duet_crypto_keygen_pem(char *pem, size_t cap);

/** Check that key/key_len is a P-256 private key in PEM (SEC1 or PKCS#8, with or
 *  without the trailing NUL) or DER form.
 *  @return DUET_OK, DUET_ERR_INVAL (not a key, or not a P-256 EC key). */
duet_err_t duet_crypto_privkey_check(const uint8_t *key, size_t key_len);

/** Export the 65-byte public key of a private key (PEM/DER as above).
 *  @return DUET_OK, DUET_ERR_INVAL, DUET_ERR_CRYPTO. */
duet_err_t duet_crypto_privkey_public(const uint8_t *key, size_t key_len,
                                      uint8_t pub[DUET_CRYPTO_PUBKEY_LEN]);

/** Sign a SHA-256 digest; deterministic (RFC 6979), so the same key and digest always
 *  give the same r||s; s is always low (n - s replaces a high s). @return DUET_OK, DUET_ERR_INVAL (bad key), DUET_ERR_CRYPTO. */
duet_err_t duet_crypto_sign(const uint8_t *key, size_t key_len,
                            const uint8_t digest[DUET_CRYPTO_SHA256_LEN],
                            uint8_t sig[DUET_CRYPTO_SIG_LEN]);

/** Load a public key: raw 65-byte point, PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or its
 *  DER. The point is validated. @return DUET_OK, DUET_ERR_INVAL. */
duet_err_t duet_crypto_pubkey_load(const uint8_t *data, size_t len,
                                   uint8_t pub[DUET_CRYPTO_PUBKEY_LEN]);
#endif /* DUET_CRYPTO_HOST_SIGNING */

#ifdef __cplusplus
}
#endif
#endif /* DUET_CRYPTO_H */
