/*
 * test_image_write.c - writer and signer: round trip through the verifier, argument
 * checks, re-signing, and the golden example (tests/image/golden/example.hex, which is
 * also the worked example pasted in docs/image-format.md). Set DUET_REGEN_GOLDEN=1 to
 * rewrite the golden file after an intended format change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img_fixture.h"

static void test_round_trip_keeps_every_field(void **st)
{
    fx_desc_t f;
    fx_desc_s3(&f);
    f.d.shm_base = 0x3FCE0000u;
    f.d.shm_size = 0x1000;
    f.d.flags = DUET_IMG_F_SIGNED;
    size_t len;
    uint8_t *img = fx_build_signed(&f, &len, "keys/test_key.pem");
    duet_img_policy_t pol;
    fx_policy_s3(&pol);
    duet_img_info_t in;
    assert_err(fx_verify_all(img, len, &pol, &in), DUET_OK);
    const duet_img_hdr_t *h = &in.hdr;
    assert_int_equal(h->ih_magic, DUET_IMG_MAGIC);
    assert_int_equal(h->ih_chip, DUET_CHIP_ESP32S3);
    assert_int_equal(h->ih_abi, DUET_ABI_WINDOWED);
    assert_int_equal(h->ih_flags, DUET_IMG_F_SIGNED);
    assert_int_equal(h->ih_entry, f.d.entry);
    assert_int_equal(h->ih_stack_top, f.d.stack_top);
    assert_int_equal(h->ih_stack_size, f.d.stack_size);
    assert_int_equal(h->ih_vectors, f.d.vectors);
    assert_int_equal(h->ih_shm_version, 1);
    assert_int_equal(h->ih_shm_base, 0x3FCE0000u);
    assert_int_equal(h->ih_shm_size, 0x1000);
    assert_int_equal(h->ih_ver_major, 1);
    assert_int_equal(h->ih_ver_minor, 2);
    assert_int_equal(h->ih_ver_patch, 3);
    assert_int_equal(h->ih_security_counter, 5);
    assert_memory_equal(h->ih_build_id, f.d.build_id, DUET_IMG_BUILD_ID_LEN);
    assert_int_equal(h->ih_build_id_len, DUET_IMG_BUILD_ID_LEN);
    assert_string_equal(in.name, "blink");
    assert_true(in.signed_ok);
    assert_int_equal(in.total_size, len);
    for (unsigned i = 0; i < 4; i++) {
        const duet_img_seg_t *s = &in.segs[i];
        assert_int_equal(s->is_kind, f.segs[i].kind);
        assert_int_equal(s->is_addr, f.segs[i].addr);
        assert_int_equal(s->is_size, f.segs[i].size);
        if (s->is_kind != DUET_SEG_BSS)
            assert_memory_equal(img + in.payload_offset + s->is_offset, f.segs[i].data, s->is_size);
    }
    uint8_t sha[32];
    assert_err(duet_crypto_sha256(img, in.protected_size, sha), DUET_OK);
    assert_memory_equal(sha, in.sha256, 32);
    free(img);
}

static void test_writer_refuses_what_it_cannot_encode(void **st)
{
    fx_desc_t f;
    fx_desc_host(&f);
    uint8_t *img;
    size_t len;
    f.segs[0].data = NULL;
    assert_err(duet_img_write(&f.d, &img, &len), DUET_ERR_INVAL);
    fx_desc_host(&f);
    f.d.seg_count = DUET_IMG_MAX_SEGS + 1;
    assert_err(duet_img_write(&f.d, &img, &len), DUET_ERR_INVAL);
    fx_desc_host(&f);
    f.d.extra_tlvs = "abc";
    f.d.extra_tlvs_len = 3;
    assert_err(duet_img_write(&f.d, &img, &len), DUET_ERR_INVAL);
    assert_err(duet_img_write(NULL, &img, &len), DUET_ERR_INVAL);
}

static void test_resign_replaces_trailer(void **st)
{
    fx_desc_t f;
    fx_desc_host(&f);
    size_t len;
    uint8_t *img = fx_build_signed(&f, &len, "keys/other_key.pem");
    size_t klen;
    uint8_t *key = fx_read_file("keys/test_key.pem", &klen);
    size_t len0 = len;
    assert_err(duet_img_sign(&img, &len, key, klen), DUET_OK);
    assert_int_equal(len, len0);
    duet_img_policy_t pol;
    fx_policy_host(&pol);
    pol.require_signature = true;
    assert_err(fx_verify_all(img, len, &pol, NULL), DUET_OK);
    /* Bad inputs to the signer. */
    assert_err(duet_img_sign(&img, &len, (const uint8_t *)"junk", 4), DUET_ERR_INVAL);
    size_t short_len = 50;
    assert_err(duet_img_sign(&img, &short_len, key, klen), DUET_ERR_IMG_TRUNCATED);
    short_len = fx_prot_end(img) - 1;
    assert_err(duet_img_sign(&img, &short_len, key, klen), DUET_ERR_IMG_TRUNCATED);
    img[0] = 'X';
    assert_err(duet_img_sign(&img, &len, key, klen), DUET_ERR_IMG_BAD_MAGIC);
    free(key);
    free(img);
}

/* The worked example of docs/image-format.md: small enough to read byte by byte. */
static uint8_t *example(size_t *len)
{
    static const uint8_t code[16] = {0x36, 0x41, 0x00, 0x0c, 0x02, 0x1d, 0xf0, 0x00,
                                     0x06, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t data[8] = {1, 0, 0, 0, 2, 0, 0, 0};
    static const duet_img_seg_in_t segs[] = {
        {DUET_SEG_CODE, 0x403B9800u, sizeof code, code},
        {DUET_SEG_DATA, 0x3FCCA000u, sizeof data, data},
        {DUET_SEG_BSS, 0x3FCCA008u, 0x20, NULL},
    };
    duet_img_desc_t d = {
        .chip = DUET_CHIP_ESP32S3,
        .abi = DUET_ABI_WINDOWED,
        .flags = DUET_IMG_F_SIGNED, /* it is signed below */
        .entry = 0x403B9800u,
        .stack_top = 0x3FCE9700u,
        .stack_size = 0x1000,
        .vectors = 0,
        .shm_version = 1,
        .ver_major = 1,
        .ver_minor = 0,
        .ver_patch = 2,
        .security_counter = 7,
        .build_id = {0xde, 0xad, 0xbe, 0xef},
        .build_id_len = 4,
        .name = "hello",
        .seg_count = 3,
        .segs = segs,
    };
    uint8_t *img;
    assert_err(duet_img_write(&d, &img, len), DUET_OK);
    size_t klen;
    uint8_t *key = fx_read_file("keys/test_key.pem", &klen);
    assert_err(duet_img_sign(&img, len, key, klen), DUET_OK);
    free(key);
    return img;
}

static char *hexdump(const uint8_t *p, size_t n)
{
    char *out = malloc(n * 4 + 64);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 16) {
        o += (size_t)sprintf(out + o, "%08zx:", i);
        for (size_t j = i; j < i + 16 && j < n; j++)
            o += (size_t)sprintf(out + o, " %02x", p[j]);
        out[o++] = '\n';
    }
    out[o] = 0;
    return out;
}

static void test_golden_example(void **st)
{
    size_t len;
    uint8_t *img = example(&len);
    duet_img_policy_t pol;
    fx_policy_s3(&pol);
    pol.require_signature = true;
    duet_img_info_t in;
    assert_err(fx_verify_all(img, len, &pol, &in), DUET_OK);
    assert_true(in.signed_ok);
    char *dump = hexdump(img, len);
    if (getenv("DUET_REGEN_GOLDEN")) {
        FILE *fp = fopen(DUET_TEST_DIR "/golden/example.hex", "w");
        assert_non_null(fp);
        fputs(dump, fp);
        fclose(fp);
    }
    size_t n;
    uint8_t *want = fx_read_file("golden/example.hex", &n);
    want[n] = 0;
    assert_string_equal(dump, (char *)want);
    free(want);
    free(dump);
    free(img);
}

/* The fuzzer's checked-in seeds must stay valid images, or fuzzing starts from noise. */
static void test_fuzz_seeds_are_valid(void **st)
{
    static const struct {
        const char *file;
        int s3;
        bool sig;
    } seeds[] = {
        {"host-unsigned.img", 0, false}, {"host-signed.img", 0, true},
        {"s3-signed-tlvs.img", 1, true}, {"s3-unsigned-tlvs.img", 1, false},
        {"s3-xip-unsigned.img", 1, false},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "../../fuzz/image/corpus/%s", seeds[i].file);
        size_t n;
        uint8_t *img = fx_read_file(rel, &n);
        duet_img_policy_t pol;
        if (seeds[i].s3)
            fx_policy_s3(&pol);
        else
            fx_policy_host(&pol);
        pol.min_security_counter = 0;
        duet_img_info_t in;
        assert_err(fx_verify_all(img, n, &pol, &in), DUET_OK);
        assert_int_equal(in.signed_ok, seeds[i].sig);
        free(img);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_keeps_every_field),
        cmocka_unit_test(test_writer_refuses_what_it_cannot_encode),
        cmocka_unit_test(test_resign_replaces_trailer),
        cmocka_unit_test(test_golden_example),
        cmocka_unit_test(test_fuzz_seeds_are_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
