/*
 * test_image_corrupt.c - hand-corrupted images: every byte of a signed image flipped (two
 * ways), the image cut at every length, and random multi-byte damage. Each case goes
 * through every verifier (fx_verify_all asserts they agree) and must be rejected; where
 * the damaged byte decides which rule fires, the exact error is asserted.
 */
#include <stdlib.h>
#include <string.h>

#include "img_fixture.h"

typedef struct {
    uint8_t *img;
    size_t len;
    uint32_t pay, pe;
    duet_img_policy_t pol;
} signed_t;

static void make(signed_t *s)
{
    fx_desc_t f;
    fx_desc_s3(&f);
    fx_policy_s3(&s->pol);
    s->pol.require_signature = true;
    s->img = fx_build_signed(&f, &s->len, "keys/test_key.pem");
    s->pe = fx_prot_end(s->img);
    /* Trailer layout written by duet_img_sign: hdr, SHA256, KEY_ID, ECDSA_P256; then
     * the payload (format 2). */
    s->pay = s->pe + 4 + 36 + 12 + 68;
    assert_int_equal(s->len, s->pay + fx_get32(s->img, 44));
    assert_err(fx_verify_all(s->img, s->len, &s->pol, NULL), DUET_OK);
}

/* The error a damaged byte at 'off' must produce, or DUET_OK for "any rejection". */
static duet_err_t expected_for(const signed_t *s, size_t off)
{
    if (off < 4)
        return DUET_ERR_IMG_BAD_MAGIC;
    if (off >= s->pay)
        return DUET_ERR_IMG_BAD_HASH; /* payload: only its signed digest can tell */
    if (off >= s->pe + 8 && off < s->pe + 40)
        return DUET_ERR_IMG_BAD_HASH; /* the stored hash itself */
    if (off >= s->pe + 44 && off < s->pe + 52)
        return DUET_ERR_IMG_UNKNOWN_KEY;
    if (off >= s->pe + 56)
        return DUET_ERR_IMG_BAD_SIG;
    return DUET_OK;
}

static void flip_all(uint8_t mask)
{
    signed_t s;
    make(&s);
    for (size_t off = 0; off < s.len; off++) {
        s.img[off] ^= mask;
        duet_err_t e = fx_verify_all(s.img, s.len, &s.pol, NULL);
        duet_err_t want = expected_for(&s, off);
        if (e == DUET_OK)
            fail_msg("flipping byte %zu (mask 0x%02x) was accepted", off, mask);
        if (want != DUET_OK && e != want)
            fail_msg("byte %zu (mask 0x%02x): got %s, want %s", off, mask, duet_err_name(e),
                     duet_err_name(want));
        s.img[off] ^= mask;
    }
    free(s.img);
}

static void test_every_byte_inverted_is_rejected(void **st)
{
    flip_all(0xFF);
}

static void test_every_low_bit_flipped_is_rejected(void **st)
{
    flip_all(0x01);
}

static void test_truncation_at_every_length(void **st)
{
    signed_t s;
    make(&s);
    for (size_t n = 0; n < s.len; n++)
        assert_err(fx_verify_all(s.img, n, &s.pol, NULL), DUET_ERR_IMG_TRUNCATED);
    free(s.img);
}

static void test_random_damage_is_rejected(void **st)
{
    signed_t s;
    make(&s);
    uint8_t *copy = malloc(s.len);
    uint32_t seed = 12345;
    for (int round = 0; round < 1500; round++) {
        memcpy(copy, s.img, s.len);
        unsigned hits = 1 + fx_rand(&seed) % 4;
        for (unsigned h = 0; h < hits; h++) {
            size_t off = fx_rand(&seed) % s.len;
            uint8_t v = (uint8_t)fx_rand(&seed);
            copy[off] = v == copy[off] ? (uint8_t)~v : v;
        }
        if (fx_verify_all(copy, s.len, &s.pol, NULL) == DUET_OK)
            fail_msg("random damage round %d accepted", round);
    }
    free(copy);
    free(s.img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_inverted_is_rejected),
        cmocka_unit_test(test_every_low_bit_flipped_is_rejected),
        cmocka_unit_test(test_truncation_at_every_length),
        cmocka_unit_test(test_random_damage_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
