/*
 * test_crypto.c - duet/crypto.h: SHA-256 known answers, key loading in every accepted
 * form, deterministic signing, verification and its failure modes, and the low-S rule
 * (a high-S signature is refused even though plain ECDSA accepts it; the signer only makes
 * low-S ones).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/ecdsa.h"

#include "img_fixture.h"

static const uint8_t abc_sha[32] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

static void test_sha256_known_answer_and_incremental(void **st)
{
    uint8_t out[32];
    assert_err(duet_crypto_sha256("abc", 3, out), DUET_OK);
    assert_memory_equal(out, abc_sha, 32);
    duet_sha256_t h;
    assert_err(duet_crypto_sha256_init(&h), DUET_OK);
    assert_err(duet_crypto_sha256_update(&h, "a", 1), DUET_OK);
    assert_err(duet_crypto_sha256_update(&h, NULL, 0), DUET_OK);
    assert_err(duet_crypto_sha256_update(&h, "bc", 2), DUET_OK);
    assert_err(duet_crypto_sha256_finish(&h, out), DUET_OK);
    assert_memory_equal(out, abc_sha, 32);
}

static void test_public_key_forms_agree(void **st)
{
    uint8_t from_pem[65], from_priv[65], from_der[65], from_raw[65], from_pk8[65];
    fx_pubkey("keys/test_key.pub.pem", from_pem);
    size_t n;
    uint8_t *k = fx_read_file("keys/test_key.pem", &n);
    assert_err(duet_crypto_privkey_public(k, n, from_priv), DUET_OK);
    assert_err(duet_crypto_privkey_check(k, n), DUET_OK);
    free(k);
    k = fx_read_file("keys/test_key.pk8.der", &n); /* PKCS#8 DER private key */
    assert_err(duet_crypto_privkey_public(k, n, from_pk8), DUET_OK);
    free(k);
    assert_memory_equal(from_pem, from_priv, 65);
    assert_memory_equal(from_pem, from_pk8, 65);
    assert_int_equal(from_pem[0], 0x04);
    assert_err(duet_crypto_pubkey_load(from_pem, 65, from_raw), DUET_OK);
    assert_memory_equal(from_pem, from_raw, 65);
    /* DER SubjectPublicKeyInfo: 26-byte P-256 prefix + the point. */
    static const uint8_t spki_prefix[26] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                            0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
    uint8_t der[91];
    memcpy(der, spki_prefix, 26);
    memcpy(der + 26, from_pem, 65);
    assert_err(duet_crypto_pubkey_load(der, sizeof der, from_der), DUET_OK);
    assert_memory_equal(from_pem, from_der, 65);
}

static void test_bad_keys_are_refused(void **st)
{
    uint8_t pub[65];
    fx_pubkey("keys/test_key.pub.pem", pub);
    pub[64] ^= 1; /* no longer on the curve */
    uint8_t out[65];
    assert_err(duet_crypto_pubkey_load(pub, 65, out), DUET_ERR_INVAL);
    assert_err(duet_crypto_pubkey_load((const uint8_t *)"nonsense", 8, out), DUET_ERR_INVAL);
    assert_err(duet_crypto_privkey_check((const uint8_t *)"-----BEGIN nothing", 18),
               DUET_ERR_INVAL);
    size_t n;
    uint8_t *pem = fx_read_file("keys/test_key.pub.pem", &n); /* a public key is no private key */
    assert_err(duet_crypto_privkey_check(pem, n), DUET_ERR_INVAL);
    free(pem);
    uint8_t digest[32] = {0}, sig[64] = {1};
    assert_err(duet_crypto_ecdsa_verify(pub, digest, sig), DUET_ERR_INVAL);
}

static void test_sign_is_deterministic_and_verifies(void **st)
{
    size_t n;
    uint8_t *k = fx_read_file("keys/test_key.pem", &n);
    uint8_t pub[65], d[32], s1[64], s2[64];
    fx_pubkey("keys/test_key.pub.pem", pub);
    assert_err(duet_crypto_sha256("duet", 4, d), DUET_OK);
    assert_err(duet_crypto_sign(k, n, d, s1), DUET_OK);
    assert_err(duet_crypto_sign(k, n, d, s2), DUET_OK);
    assert_memory_equal(s1, s2, 64); /* RFC 6979 */
    assert_err(duet_crypto_ecdsa_verify(pub, d, s1), DUET_OK);
    d[0] ^= 1;
    assert_err(duet_crypto_ecdsa_verify(pub, d, s1), DUET_ERR_IMG_BAD_SIG);
    d[0] ^= 1;
    s1[10] ^= 0x80;
    assert_err(duet_crypto_ecdsa_verify(pub, d, s1), DUET_ERR_IMG_BAD_SIG);
    memset(s1, 0xFF, 64); /* r, s >= n */
    assert_err(duet_crypto_ecdsa_verify(pub, d, s1), DUET_ERR_IMG_BAD_SIG);
    /* The PEM without its final newline and with a NUL both load. */
    uint8_t *nul = malloc(n + 1);
    memcpy(nul, k, n);
    nul[n] = 0;
    assert_err(duet_crypto_privkey_check(nul, n + 1), DUET_OK);
    assert_err(duet_crypto_privkey_check(k, n - 1), DUET_OK);
    free(nul);
    free(k);
}

static void test_keygen_roundtrip(void **st)
{
    char pem[512];
    assert_err(duet_crypto_keygen_pem(pem, sizeof pem), DUET_OK);
    assert_non_null(strstr(pem, "-----BEGIN EC PRIVATE KEY-----"));
    uint8_t pub[65], d[32] = {42}, sig[64], other[65];
    assert_err(duet_crypto_privkey_public((const uint8_t *)pem, strlen(pem), pub), DUET_OK);
    assert_err(duet_crypto_sign((const uint8_t *)pem, strlen(pem), d, sig), DUET_OK);
    assert_err(duet_crypto_ecdsa_verify(pub, d, sig), DUET_OK);
    fx_pubkey("keys/test_key.pub.pem", other);
    assert_err(duet_crypto_ecdsa_verify(other, d, sig), DUET_ERR_IMG_BAD_SIG);
    char small[100];
    assert_err(duet_crypto_keygen_pem(small, sizeof small), DUET_ERR_INVAL);
}

/* ---- low S ------------------------------------------------------------------------ */

/* The P-256 group order n and (n - 1) / 2, big-endian (SEC 2, secp256r1). */
static const uint8_t n_be[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
static const uint8_t half_n_be[32] = {
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};

static bool is_low_s(const uint8_t sig[64])
{
    return memcmp(sig + 32, half_n_be, 32) <= 0;
}

/* (r, s) -> (r, n - s): the other valid signature anyone can make without the key. */
static void twin(uint8_t sig[64])
{
    unsigned borrow = 0;
    for (int i = 31; i >= 0; i--) {
        unsigned d = (unsigned)n_be[i] - sig[32 + i] - borrow;
        sig[32 + i] = (uint8_t)d;
        borrow = (d >> 8) & 1u;
    }
}

/* Plain ECDSA with mbedTLS directly, no low-S rule: shows a twin is a real signature. */
static int plain_ecdsa_verify(const uint8_t pub[65], const uint8_t d[32], const uint8_t sig[64])
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc == 0)
        rc = mbedtls_ecp_point_read_binary(&grp, &q, pub, 65);
    if (rc == 0)
        rc = mbedtls_mpi_read_binary(&r, sig, 32);
    if (rc == 0)
        rc = mbedtls_mpi_read_binary(&s, sig + 32, 32);
    if (rc == 0)
        rc = mbedtls_ecdsa_verify(&grp, d, 32, &q, &r, &s);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return rc;
}

/* RFC 6979 gives a high s for about every second digest: 64 digests would all be low by
 * chance with probability 2^-64. Every one must come out low and verify. */
static void test_signer_produces_low_s_only(void **st)
{
    size_t n;
    uint8_t *k = fx_read_file("keys/test_key.pem", &n);
    uint8_t pub[65], d[32], sig[64];
    fx_pubkey("keys/test_key.pub.pem", pub);
    for (uint32_t i = 0; i < 64; i++) {
        assert_err(duet_crypto_sha256(&i, sizeof i, d), DUET_OK);
        assert_err(duet_crypto_sign(k, n, d, sig), DUET_OK);
        if (!is_low_s(sig))
            fail_msg("digest %u: the signer produced a high s", (unsigned)i);
        assert_err(duet_crypto_ecdsa_verify(pub, d, sig), DUET_OK);
        assert_int_equal(plain_ecdsa_verify(pub, d, sig), 0);
    }
    free(k);
}

/* The high twin of a good signature verifies with plain ECDSA, but not with duet: neither
 * in the crypto wrapper nor in an image (every verifier, IMG_BAD_SIG). */
static void test_high_s_twin_is_refused(void **st)
{
    size_t n;
    uint8_t *k = fx_read_file("keys/test_key.pem", &n);
    uint8_t pub[65], d[32], sig[64];
    fx_pubkey("keys/test_key.pub.pem", pub);
    assert_err(duet_crypto_sha256("duet", 4, d), DUET_OK);
    assert_err(duet_crypto_sign(k, n, d, sig), DUET_OK);
    free(k);
    assert_true(is_low_s(sig));
    twin(sig);
    assert_false(is_low_s(sig));
    assert_int_equal(plain_ecdsa_verify(pub, d, sig), 0); /* a valid ECDSA signature... */
    assert_err(duet_crypto_ecdsa_verify(pub, d, sig), DUET_ERR_IMG_BAD_SIG); /* ...refused */
    twin(sig);
    assert_err(duet_crypto_ecdsa_verify(pub, d, sig), DUET_OK);
    /* the boundary: s = (n - 1) / 2 is the largest low s (the signature itself is wrong,
     * so the answer is BAD_SIG either way; here only that no crash or other error) */
    memcpy(sig + 32, half_n_be, 32);
    assert_err(duet_crypto_ecdsa_verify(pub, d, sig), DUET_ERR_IMG_BAD_SIG);

    /* In a signed image: swap s for n - s in the ECDSA_P256 trailer TLV. */
    fx_desc_t f;
    fx_desc_s3(&f);
    size_t len;
    uint8_t *img = fx_build_signed(&f, &len, "keys/test_key.pem");
    duet_img_policy_t pol;
    fx_policy_s3(&pol);
    pol.require_signature = true;
    assert_err(fx_verify_all(img, len, &pol, NULL), DUET_OK);
    /* Find KEY_ID (this key's id) followed by ECDSA_P256 wherever the trailer is: by
     * content, so the test does not depend on where a format version puts it. */
    uint8_t want[4 + 8 + 4] = {0x02, 0x01, 0x08, 0x00};
    assert_err(duet_crypto_key_id(pub, want + 4), DUET_OK);
    memcpy(want + 12, (const uint8_t[]){0x03, 0x01, 0x40, 0x00}, 4);
    size_t off = 0;
    while (off + sizeof want + 64 <= len && memcmp(img + off, want, sizeof want) != 0)
        off++;
    assert_true(off + sizeof want + 64 <= len);
    uint8_t *rs = img + off + sizeof want; /* r || s */
    assert_true(is_low_s(rs));
    twin(rs);
    assert_err(fx_verify_all(img, len, &pol, NULL), DUET_ERR_IMG_BAD_SIG);
    free(img);
}

static void test_key_id_is_sha256_prefix(void **st)
{
    uint8_t pub[65], id[8], h[32];
    fx_pubkey("keys/test_key.pub.pem", pub);
    assert_err(duet_crypto_key_id(pub, id), DUET_OK);
    assert_err(duet_crypto_sha256(pub, 65, h), DUET_OK);
    assert_memory_equal(id, h, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_known_answer_and_incremental),
        cmocka_unit_test(test_public_key_forms_agree),
        cmocka_unit_test(test_bad_keys_are_refused),
        cmocka_unit_test(test_sign_is_deterministic_and_verifies),
        cmocka_unit_test(test_keygen_roundtrip),
        cmocka_unit_test(test_key_id_is_sha256_prefix),
        cmocka_unit_test(test_signer_produces_low_s_only),
        cmocka_unit_test(test_high_s_twin_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
