/*
 * crypto_mbedtls.c - duet/crypto.h on top of mbedTLS 2.28 (Debian) and 3.x (ESP-IDF v5).
 *
 * Organisation: (1) version shims, (2) SHA-256, (3) ECDSA verify and key id (these two
 * run on the chip), (4) host-only key handling and signing (DUET_CRYPTO_HOST_SIGNING).
 *
 * Must not change: only functions present with the same signature in 2.28 and 3.x are
 * called outside the shims in (1). In 3.x struct members are private: nothing here reads
 * a member of an mbedTLS struct except mbedtls_ecp_group.id, which 3.x keeps public, and
 * (2.28 only) the keypair members inside keypair_copy().
 * Checked against the Mbed-TLS/mbedtls tags v2.28.3, v3.2.1, v3.4.1 and v3.6.4.
 */
#include "duet/crypto.h"

#include <stdbool.h>
#include <string.h>

#include "mbedtls/bignum.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/version.h" /* MBEDTLS_VERSION_NUMBER (build_info.h in 3.x) */

#ifdef DUET_CRYPTO_HOST_SIGNING
#include <stdlib.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#endif

/* ---- (1) version shims ---------------------------------------------------------- */

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SHA256_STARTS  mbedtls_sha256_starts
#define SHA256_UPDATE  mbedtls_sha256_update
#define SHA256_FINISH  mbedtls_sha256_finish
#define SHA256_ONESHOT mbedtls_sha256
#else
/* 2.x: the int-returning variants carry a _ret suffix (the plain names are void). */
#define SHA256_STARTS  mbedtls_sha256_starts_ret
#define SHA256_UPDATE  mbedtls_sha256_update_ret
#define SHA256_FINISH  mbedtls_sha256_finish_ret
#define SHA256_ONESHOT mbedtls_sha256_ret
#endif

/* ---- (2) SHA-256 ----------------------------------------------------------------- */

duet_err_t duet_crypto_sha256_init(duet_sha256_t *h)
{
    mbedtls_sha256_init(&h->ctx);
    if (SHA256_STARTS(&h->ctx, 0) != 0) {
        mbedtls_sha256_free(&h->ctx);
        return DUET_ERR_CRYPTO;
    }
    return DUET_OK;
}

duet_err_t duet_crypto_sha256_update(duet_sha256_t *h, const void *data, size_t len)
{
    if (len == 0)
        return DUET_OK; /* data may be NULL then */
    return SHA256_UPDATE(&h->ctx, data, len) == 0 ? DUET_OK : DUET_ERR_CRYPTO;
}

duet_err_t duet_crypto_sha256_finish(duet_sha256_t *h, uint8_t out[DUET_CRYPTO_SHA256_LEN])
{
    int rc = SHA256_FINISH(&h->ctx, out);
    mbedtls_sha256_free(&h->ctx);
    return rc == 0 ? DUET_OK : DUET_ERR_CRYPTO;
}

void duet_crypto_sha256_free(duet_sha256_t *h)
{
    mbedtls_sha256_free(&h->ctx);
}

duet_err_t duet_crypto_sha256(const void *data, size_t len, uint8_t out[DUET_CRYPTO_SHA256_LEN])
{
    static const uint8_t empty[1] = {0};
    return SHA256_ONESHOT(len ? data : empty, len, out, 0) == 0 ? DUET_OK : DUET_ERR_CRYPTO;
}

/* ---- (3) key id, ECDSA verify ------------------------------------------------------ */

/* Low-S rule. For every valid (r, s), (r, n - s) is a valid signature of the same digest
 * by the same key: anyone can turn one into the other without the key (malleability).
 * duet accepts only the low half, s <= (n - 1) / 2, and its signer always produces it,
 * so an image has exactly one acceptable signature per key. Both are plain byte
 * constants (32-byte big-endian, compared and subtracted as bytes), so this rule needs
 * nothing from mbedTLS and is the same on 2.28 and 3.x. */
#ifdef DUET_CRYPTO_HOST_SIGNING /* n itself only for the signer's s := n - s (the chip
                                  * build has no signer, and -Werror refuses an unused one) */
static const uint8_t p256_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
#endif
static const uint8_t p256_half_n[32] = { /* (n - 1) / 2 */
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};

static bool s_is_high(const uint8_t s[32])
{
    return memcmp(s, p256_half_n, 32) > 0; /* same-length big-endian: byte order = value order */
}

duet_err_t duet_crypto_key_id(const uint8_t pub[DUET_CRYPTO_PUBKEY_LEN],
                              uint8_t id[DUET_CRYPTO_KEY_ID_LEN])
{
    uint8_t h[DUET_CRYPTO_SHA256_LEN];
    DUET_TRY(duet_crypto_sha256(pub, DUET_CRYPTO_PUBKEY_LEN, h));
    memcpy(id, h, DUET_CRYPTO_KEY_ID_LEN);
    return DUET_OK;
}

/* Read a 65-byte uncompressed point and check it lies on the curve. */
static duet_err_t load_point(const mbedtls_ecp_group *grp, mbedtls_ecp_point *q,
                             const uint8_t pub[DUET_CRYPTO_PUBKEY_LEN])
{
    if (pub[0] != 0x04)
        return DUET_ERR_INVAL;
    if (mbedtls_ecp_point_read_binary(grp, q, pub, DUET_CRYPTO_PUBKEY_LEN) != 0)
        return DUET_ERR_INVAL;
    if (mbedtls_ecp_check_pubkey(grp, q) != 0)
        return DUET_ERR_INVAL;
    return DUET_OK;
}

duet_err_t duet_crypto_ecdsa_verify(const uint8_t pub[DUET_CRYPTO_PUBKEY_LEN],
                                    const uint8_t digest[DUET_CRYPTO_SHA256_LEN],
                                    const uint8_t sig[DUET_CRYPTO_SIG_LEN])
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    duet_err_t e = DUET_OK;

    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) != 0) {
        e = DUET_ERR_CRYPTO;
        goto out;
    }
    e = load_point(&grp, &q, pub);
    if (e != DUET_OK)
        goto out;
    if (s_is_high(sig + 32)) {
        e = DUET_ERR_IMG_BAD_SIG; /* the malleable twin of a low-S signature (see above) */
        goto out;
    }
    if (mbedtls_mpi_read_binary(&r, sig, 32) != 0 ||
        mbedtls_mpi_read_binary(&s, sig + 32, 32) != 0) {
        e = DUET_ERR_CRYPTO;
        goto out;
    }
    int rc = mbedtls_ecdsa_verify(&grp, digest, DUET_CRYPTO_SHA256_LEN, &q, &r, &s);
    if (rc == MBEDTLS_ERR_MPI_ALLOC_FAILED || rc == MBEDTLS_ERR_ECP_ALLOC_FAILED)
        e = DUET_ERR_CRYPTO;
    else if (rc != 0)
        e = DUET_ERR_IMG_BAD_SIG; /* includes r, s out of [1, n-1]: still a bad signature */
out:
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return e;
}

/* ---- (4) host-only: keys and signing ---------------------------------------------- */
#ifdef DUET_CRYPTO_HOST_SIGNING

#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && MBEDTLS_VERSION_NUMBER < 0x03020000
#error "duet host signing needs mbedTLS 2.28 or >= 3.2 (mbedtls_ecp_export)"
#endif

typedef struct {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} rng_t;

static duet_err_t rng_init(rng_t *g)
{
    static const unsigned char pers[] = "duet-crypto";
    mbedtls_entropy_init(&g->entropy);
    mbedtls_ctr_drbg_init(&g->drbg);
    if (mbedtls_ctr_drbg_seed(&g->drbg, mbedtls_entropy_func, &g->entropy, pers, sizeof pers - 1) !=
        0) {
        mbedtls_ctr_drbg_free(&g->drbg);
        mbedtls_entropy_free(&g->entropy);
        return DUET_ERR_CRYPTO;
    }
    return DUET_OK;
}

static void rng_free(rng_t *g)
{
    mbedtls_ctr_drbg_free(&g->drbg);
    mbedtls_entropy_free(&g->entropy);
}

/* Own copies of a keypair's group, secret and point, so the rest of this file never
 * touches keypair members (private in 3.x). */
typedef struct {
    mbedtls_ecp_group grp;
    mbedtls_mpi d;
    mbedtls_ecp_point q;
} parts_t;

static void parts_init(parts_t *p)
{
    mbedtls_ecp_group_init(&p->grp);
    mbedtls_mpi_init(&p->d);
    mbedtls_ecp_point_init(&p->q);
}

static void parts_free(parts_t *p)
{
    mbedtls_ecp_point_free(&p->q);
    mbedtls_mpi_free(&p->d);
    mbedtls_ecp_group_free(&p->grp);
}

static duet_err_t keypair_copy(const mbedtls_ecp_keypair *kp, parts_t *p)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    if (mbedtls_ecp_export(kp, &p->grp, &p->d, &p->q) != 0)
        return DUET_ERR_CRYPTO;
#else
    if (mbedtls_ecp_group_copy(&p->grp, &kp->grp) != 0 || mbedtls_mpi_copy(&p->d, &kp->d) != 0 ||
        mbedtls_ecp_copy(&p->q, &kp->Q) != 0)
        return DUET_ERR_CRYPTO;
#endif
    /* grp.id is a public member in 2.28 and 3.x alike. */
    return p->grp.id == MBEDTLS_ECP_DP_SECP256R1 ? DUET_OK : DUET_ERR_INVAL;
}

/* mbedTLS wants PEM input NUL-terminated with the NUL counted; accept it either way. */
static bool is_pem(const uint8_t *b, size_t n)
{
    static const char tag[] = "-----BEGIN";
    return n >= sizeof tag - 1 && memcmp(b, tag, sizeof tag - 1) == 0;
}

static duet_err_t pem_terminated(const uint8_t *b, size_t n, uint8_t **copy, size_t *copy_len)
{
    *copy = NULL;
    *copy_len = n;
    if (!is_pem(b, n) || b[n - 1] == '\0')
        return DUET_OK;
    *copy = malloc(n + 1);
    if (*copy == NULL)
        return DUET_ERR_NOMEM;
    memcpy(*copy, b, n);
    (*copy)[n] = '\0';
    *copy_len = n + 1;
    return DUET_OK;
}

/* Parse a private key into parts (P-256 only). */
static duet_err_t load_private(const uint8_t *key, size_t key_len, parts_t *p)
{
    if (key == NULL || key_len == 0)
        return DUET_ERR_INVAL;
    uint8_t *copy;
    size_t n;
    DUET_TRY(pem_terminated(key, key_len, &copy, &n));
    const uint8_t *in = copy ? copy : key;

    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    duet_err_t e = DUET_OK;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    /* 3.x takes an RNG (used to blind the consistency check of the private key). */
    rng_t g;
    e = rng_init(&g);
    if (e == DUET_OK) {
        if (mbedtls_pk_parse_key(&pk, in, n, NULL, 0, mbedtls_ctr_drbg_random, &g.drbg) != 0)
            e = DUET_ERR_INVAL;
        rng_free(&g);
    }
#else
    if (mbedtls_pk_parse_key(&pk, in, n, NULL, 0) != 0)
        e = DUET_ERR_INVAL;
#endif
    if (e == DUET_OK && !mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECDSA))
        e = DUET_ERR_INVAL;
    if (e == DUET_OK)
        e = keypair_copy(mbedtls_pk_ec(pk), p);
    mbedtls_pk_free(&pk);
    free(copy);
    return e;
}

duet_err_t duet_crypto_keygen_pem(char *pem, size_t cap)
{
    if (pem == NULL || cap < 256)
        return DUET_ERR_INVAL;
    rng_t g;
    DUET_TRY(rng_init(&g));
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    duet_err_t e = DUET_ERR_CRYPTO;
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0 &&
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), mbedtls_ctr_drbg_random,
                            &g.drbg) == 0 &&
        mbedtls_pk_write_key_pem(&pk, (unsigned char *)pem, cap) == 0)
        e = DUET_OK;
    mbedtls_pk_free(&pk);
    rng_free(&g);
    return e;
}

duet_err_t duet_crypto_privkey_check(const uint8_t *key, size_t key_len)
{
    parts_t p;
    parts_init(&p);
    duet_err_t e = load_private(key, key_len, &p);
    parts_free(&p);
    return e;
}

static duet_err_t write_point(const parts_t *p, uint8_t pub[DUET_CRYPTO_PUBKEY_LEN])
{
    size_t olen = 0;
    if (mbedtls_ecp_point_write_binary(&p->grp, &p->q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pub,
                                       DUET_CRYPTO_PUBKEY_LEN) != 0 ||
        olen != DUET_CRYPTO_PUBKEY_LEN)
        return DUET_ERR_CRYPTO;
    return DUET_OK;
}

duet_err_t duet_crypto_privkey_public(const uint8_t *key, size_t key_len,
                                      uint8_t pub[DUET_CRYPTO_PUBKEY_LEN])
{
    parts_t p;
    parts_init(&p);
    duet_err_t e = load_private(key, key_len, &p);
    if (e == DUET_OK)
        e = write_point(&p, pub);
    parts_free(&p);
    return e;
}

/* s := n - s, 32-byte big-endian (0 < s < n, so no borrow out of the top byte). */
static void to_low_s(uint8_t s[32])
{
    unsigned borrow = 0;
    for (int i = 31; i >= 0; i--) {
        unsigned d = (unsigned)p256_n[i] - s[i] - borrow;
        s[i] = (uint8_t)d;
        borrow = (d >> 8) & 1u;
    }
}

duet_err_t duet_crypto_sign(const uint8_t *key, size_t key_len,
                            const uint8_t digest[DUET_CRYPTO_SHA256_LEN],
                            uint8_t sig[DUET_CRYPTO_SIG_LEN])
{
    parts_t p;
    parts_init(&p);
    duet_err_t e = load_private(key, key_len, &p);
    if (e != DUET_OK) {
        parts_free(&p);
        return e;
    }
    rng_t g;
    e = rng_init(&g);
    if (e != DUET_OK) {
        parts_free(&p);
        return e;
    }
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    /* RFC 6979: k derives from key and digest; the RNG only blinds the computation. */
    if (mbedtls_ecdsa_sign_det_ext(&p.grp, &r, &s, &p.d, digest, DUET_CRYPTO_SHA256_LEN,
                                   MBEDTLS_MD_SHA256, mbedtls_ctr_drbg_random, &g.drbg) != 0 ||
        mbedtls_mpi_write_binary(&r, sig, 32) != 0 ||
        mbedtls_mpi_write_binary(&s, sig + 32, 32) != 0)
        e = DUET_ERR_CRYPTO;
    else if (s_is_high(sig + 32))
        to_low_s(sig + 32); /* about every second signature: verifiers refuse high S */
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    rng_free(&g);
    parts_free(&p);
    return e;
}

duet_err_t duet_crypto_pubkey_load(const uint8_t *data, size_t len,
                                   uint8_t pub[DUET_CRYPTO_PUBKEY_LEN])
{
    if (data == NULL)
        return DUET_ERR_INVAL;
    parts_t p;
    parts_init(&p);
    duet_err_t e;
    if (len == DUET_CRYPTO_PUBKEY_LEN && data[0] == 0x04) {
        e = mbedtls_ecp_group_load(&p.grp, MBEDTLS_ECP_DP_SECP256R1) == 0 ? DUET_OK
                                                                          : DUET_ERR_CRYPTO;
        if (e == DUET_OK)
            e = load_point(&p.grp, &p.q, data);
        if (e == DUET_OK)
            memcpy(pub, data, DUET_CRYPTO_PUBKEY_LEN);
        parts_free(&p);
        return e;
    }
    uint8_t *copy;
    size_t n;
    e = len ? pem_terminated(data, len, &copy, &n) : DUET_ERR_INVAL;
    if (e != DUET_OK) {
        parts_free(&p);
        return e;
    }
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    if (mbedtls_pk_parse_public_key(&pk, copy ? copy : data, n) != 0 ||
        !mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECDSA))
        e = DUET_ERR_INVAL;
    if (e == DUET_OK)
        e = keypair_copy(mbedtls_pk_ec(pk), &p);
    if (e == DUET_OK)
        e = write_point(&p, pub);
    mbedtls_pk_free(&pk);
    free(copy);
    parts_free(&p);
    return e;
}

#endif /* DUET_CRYPTO_HOST_SIGNING */
