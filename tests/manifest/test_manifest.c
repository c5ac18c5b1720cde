/*
 * test_manifest.c - the fleet manifest (duet/manifest.h): a signed manifest round-trips
 * through JSON and verifies; every member's rules; unknown, repeated and missing
 * members, escapes, nesting and trailing bytes refused; a changed field or another key
 * breaks the signature; replay, downgrade, wrong chip and oversize refused; rollout
 * buckets are stable and select about the given fraction.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "duet/crypto.h"
#include "duet/manifest.h"

static uint8_t key[4096], other[4096];
static size_t key_len, other_len;
static duet_img_policy_t pol;

static size_t load(const char *name, uint8_t *buf, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", DUET_TEST_KEYS, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static int setup(void **st)
{
    (void)st;
    key_len = load("test_key.pem", key, sizeof key);
    other_len = load("other_key.pem", other, sizeof other);
    memset(&pol, 0, sizeof pol);
    pol.chip = DUET_CHIP_ESP32S3;
    pol.require_signature = true;
    pol.key_count = 1;
    assert_int_equal(duet_crypto_privkey_public(key, key_len, pol.keys[0]), DUET_OK);
    return 0;
}

static duet_manifest_t base(void)
{
    duet_manifest_t m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, "counter");
    strcpy(m.version, "2.1.300");
    m.ver_major = 2;
    m.ver_minor = 1;
    m.ver_patch = 300;
    m.sequence = 7;
    m.security_counter = 3;
    m.chip = DUET_CHIP_ESP32S3;
    strcpy(m.url, "counter-2.1.300.img");
    m.size = 81920;
    for (unsigned i = 0; i < sizeof m.sha256; i++)
        m.sha256[i] = (uint8_t)(i * 7 + 1);
    m.rollout_ppm = 500000;
    return m;
}

static void signed_json(duet_manifest_t *m, char *buf, size_t cap)
{
    assert_int_equal(duet_manifest_sign(m, key, key_len), DUET_OK);
    assert_int_equal(duet_manifest_to_json(m, buf, cap, NULL), DUET_OK);
}

static duet_err_t parse(const char *s, duet_manifest_t *m)
{
    return duet_manifest_parse(s, strlen(s), m);
}

static void test_manifest_round_trip_verifies(void **st)
{
    (void)st;
    duet_manifest_t m = base(), back;
    char json[2048];
    signed_json(&m, json, sizeof json);
    assert_non_null(strstr(json, "\"rollout\":0.500000"));
    assert_int_equal(parse(json, &back), DUET_OK);
    assert_memory_equal(&m, &back, sizeof m);
    assert_int_equal(duet_manifest_verify(&back, &pol, 0), DUET_OK);
    assert_int_equal(duet_manifest_verify(&back, &pol, 7), DUET_OK); /* the current one */
}

static void test_manifest_canonical_text_is_the_format(void **st)
{
    (void)st;
    duet_manifest_t m = base();
    char c[DUET_MANIFEST_CANON_MAX];
    size_t n = 0;
    assert_int_equal(duet_manifest_canonical(&m, c, sizeof c, &n), DUET_OK);
    assert_string_equal(
        c, "duet-manifest 1\nname=counter\nversion=2.1.300\nsequence=7\n"
           "security_counter=3\nchip=esp32s3\nurl=counter-2.1.300.img\n"
           "size=81920\nsha256=01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\n"
           "rollout=500000\n");
    assert_int_equal(n, strlen(c));
}

static void test_manifest_spacing_and_order_do_not_matter(void **st)
{
    (void)st;
    duet_manifest_t m = base(), back;
    m.rollout_ppm = DUET_MANIFEST_ROLLOUT_ALL;
    assert_int_equal(duet_manifest_sign(&m, key, key_len), DUET_OK);
    char kid[17], sig[129], sha[65];
    for (int i = 0; i < 8; i++)
        sprintf(kid + 2 * i, "%02x", m.key_id[i]);
    for (int i = 0; i < 64; i++)
        sprintf(sig + 2 * i, "%02x", m.sig[i]);
    for (int i = 0; i < 32; i++)
        sprintf(sha + 2 * i, "%02x", m.sha256[i]);
    char json[2048];
    snprintf(json, sizeof json,
             " {\n \"signature\" : \"%s\",\r\n\t\"key_id\":\"%s\", \"url\":\"counter-2.1.300.img\","
             "\"size\":81920,\"sha256\":\"%s\",\"chip\":\"esp32s3\",\"security_counter\":3,"
             "\"sequence\":7,\"version\":\"2.1.300\",\"name\":\"counter\",\"format\":1 }\n",
             sig, kid, sha);
    assert_int_equal(parse(json, &back), DUET_OK);
    assert_int_equal(back.rollout_ppm, DUET_MANIFEST_ROLLOUT_ALL); /* default */
    assert_int_equal(duet_manifest_verify(&back, &pol, 0), DUET_OK);
}

/* Replace the first occurrence of 'from' in a valid signed manifest by 'to'. */
static duet_err_t parse_patched(const char *from, const char *to, duet_manifest_t *out)
{
    duet_manifest_t m = base();
    char json[2048], patched[2300];
    signed_json(&m, json, sizeof json);
    char *at = strstr(json, from);
    assert_non_null(at);
    snprintf(patched, sizeof patched, "%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
    return parse(patched, out);
}

static void test_manifest_member_rules(void **st)
{
    (void)st;
    duet_manifest_t m;
    static const char *const bad[][2] = {
        {"\"format\":1", "\"format\":2"},
        {"\"format\":1", "\"format\":01"},
        {"\"format\":1", "\"format\":\"1\""},
        {"\"name\":\"counter\"", "\"name\":\"\""},
        {"\"name\":\"counter\"", "\"name\":\"0123456789012345678901234567890123\""},
        {"\"name\":\"counter\"", "\"name\":\"a\\\"b\""},
        {"\"name\":\"counter\"", "\"name\":\"a\tb\""},
        {"\"name\":\"counter\"", "\"name\":\"caf\xc3\xa9\""},
        {"\"version\":\"2.1.300\"", "\"version\":\"2.1\""},
        {"\"version\":\"2.1.300\"", "\"version\":\"2.1.3.4\""},
        {"\"version\":\"2.1.300\"", "\"version\":\"256.1.3\""},
        {"\"version\":\"2.1.300\"", "\"version\":\"2.01.3\""},
        {"\"version\":\"2.1.300\"", "\"version\":\"2..3\""},
        {"\"version\":\"2.1.300\"", "\"version\":\"2.1.65536\""},
        {"\"sequence\":7", "\"sequence\":4294967296"},
        {"\"sequence\":7", "\"sequence\":-7"},
        {"\"sequence\":7", "\"sequence\":7.0"},
        {"\"sequence\":7", "\"sequence\":7e0"},
        {"\"chip\":\"esp32s3\"", "\"chip\":\"esp32c3\""},
        {"\"size\":81920", "\"size\":0"},
        {"\"sha256\":\"01", "\"sha256\":\"0"},
        {"\"sha256\":\"01", "\"sha256\":\"0A"},
        {"\"rollout\":0.500000", "\"rollout\":1.5"},
        {"\"rollout\":0.500000", "\"rollout\":1.01"},
        {"\"rollout\":0.500000", "\"rollout\":0.1234567"},
        {"\"rollout\":0.500000", "\"rollout\":.5"},
        {"\"rollout\":0.500000", "\"rollout\":0."},
        {"\"key_id\":\"", "\"kid\":\""},                                 /* unknown member */
        {"\"name\":\"counter\"", "\"name\":\"counter\",\"name\":\"x\""}, /* repeated */
        {"\"url\":\"counter-2.1.300.img\",", ""},                        /* missing */
        {"\"url\":\"counter-2.1.300.img\"", "\"url\":{\"a\":1}"},        /* nested */
        {"\"size\":81920", "\"size\":[1]"},
        {"\"size\":81920", "\"size\":true"},
        {"\"size\":81920", "\"size\":null"},
        {"{", "["},
        {"}\n", "},\n"},
        {"}\n", "}x"},
        {"}\n", ""},
        {",\"signature\":", ",\"sig\":"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        duet_err_t e = parse_patched(bad[i][0], bad[i][1], &m);
        if (e != DUET_ERR_MANIFEST)
            fail_msg("case %zu (%s -> %s): %s", i, bad[i][0], bad[i][1], duet_err_name(e));
    }
    /* key_id without signature */
    duet_manifest_t b = base();
    char json[2048];
    signed_json(&b, json, sizeof json);
    char *sig = strstr(json, ",\"signature\"");
    strcpy(sig, "}");
    assert_int_equal(parse(json, &m), DUET_ERR_MANIFEST);
    /* good edge values */
    assert_int_equal(parse_patched("\"rollout\":0.500000", "\"rollout\":0", &m), DUET_OK);
    assert_int_equal(m.rollout_ppm, 0);
    assert_int_equal(parse_patched("\"rollout\":0.500000", "\"rollout\":1.000000", &m), DUET_OK);
    assert_int_equal(m.rollout_ppm, DUET_MANIFEST_ROLLOUT_ALL);
    assert_int_equal(parse_patched("\"rollout\":0.500000", "\"rollout\":0.000001", &m), DUET_OK);
    assert_int_equal(m.rollout_ppm, 1);
    assert_int_equal(parse_patched("\"sequence\":7", "\"sequence\":4294967295", &m), DUET_OK);
    assert_int_equal(m.sequence, UINT32_MAX);
    /* too long a text */
    char *big = malloc(DUET_MANIFEST_MAX + 2);
    memset(big, ' ', DUET_MANIFEST_MAX + 1);
    assert_int_equal(duet_manifest_parse(big, DUET_MANIFEST_MAX + 1, &m), DUET_ERR_MANIFEST);
    free(big);
    assert_int_equal(duet_manifest_parse("", 0, &m), DUET_ERR_MANIFEST);
    assert_int_equal(duet_manifest_parse(NULL, 0, &m), DUET_ERR_INVAL);
}

static void test_manifest_signature_covers_every_field(void **st)
{
    (void)st;
    static const char *const change[][2] = {
        {"\"name\":\"counter\"", "\"name\":\"counteR\""},
        {"\"version\":\"2.1.300\"", "\"version\":\"2.1.301\""},
        {"\"sequence\":7", "\"sequence\":8"},
        {"\"security_counter\":3", "\"security_counter\":4"},
        {"\"url\":\"counter", "\"url\":\"https://evil/counter"},
        {"\"size\":81920", "\"size\":81924"},
        {"\"sha256\":\"01", "\"sha256\":\"00"},
        {"\"rollout\":0.500000", "\"rollout\":1"},
    };
    for (size_t i = 0; i < sizeof change / sizeof change[0]; i++) {
        duet_manifest_t m;
        assert_int_equal(parse_patched(change[i][0], change[i][1], &m), DUET_OK);
        assert_int_equal(duet_manifest_verify(&m, &pol, 0), DUET_ERR_IMG_BAD_SIG);
    }
}

static void test_manifest_refusals_under_policy(void **st)
{
    (void)st;
    duet_manifest_t m = base();
    assert_int_equal(duet_manifest_verify(&m, &pol, 0), DUET_ERR_IMG_NO_SIG);
    /* another key */
    assert_int_equal(duet_manifest_sign(&m, other, other_len), DUET_OK);
    assert_int_equal(duet_manifest_verify(&m, &pol, 0), DUET_ERR_IMG_UNKNOWN_KEY);
    assert_int_equal(duet_manifest_sign(&m, key, key_len), DUET_OK);
    /* replay: older than the last accepted */
    assert_int_equal(duet_manifest_verify(&m, &pol, 8), DUET_ERR_MANIFEST_REPLAY);
    /* downgrade below the floor */
    duet_img_policy_t p = pol;
    p.min_security_counter = 4;
    assert_int_equal(duet_manifest_verify(&m, &p, 0), DUET_ERR_IMG_DOWNGRADE);
    p = pol;
    p.max_image_size = 81916;
    assert_int_equal(duet_manifest_verify(&m, &p, 0), DUET_ERR_IMG_TOO_BIG);
    p = pol;
    p.chip = DUET_CHIP_HOST;
    assert_int_equal(duet_manifest_verify(&m, &p, 0), DUET_ERR_IMG_WRONG_CHIP);
    /* no keys, none required: unsigned accepted (the simulator's default) */
    p = pol;
    p.key_count = 0;
    p.require_signature = false;
    duet_manifest_t u = base();
    assert_int_equal(duet_manifest_verify(&u, &p, 0), DUET_OK);
    /* a signature replayed onto another sequence does not verify */
    m.sequence = 9;
    assert_int_equal(duet_manifest_verify(&m, &pol, 8), DUET_ERR_IMG_BAD_SIG);
}

static void test_manifest_rollout_is_stable_and_about_the_fraction(void **st)
{
    (void)st;
    duet_manifest_t m = base();
    unsigned selected = 0;
    char id[32];
    for (unsigned d = 0; d < 2000; d++) {
        snprintf(id, sizeof id, "device-%u", d);
        bool a = false, b = false;
        assert_int_equal(duet_manifest_selected(&m, id, &a), DUET_OK);
        assert_int_equal(duet_manifest_selected(&m, id, &b), DUET_OK);
        assert_int_equal(a, b);
        selected += a;
        /* raising the fraction of the same release only adds devices */
        duet_manifest_t more = m;
        more.rollout_ppm = 750000;
        bool c = false;
        assert_int_equal(duet_manifest_selected(&more, id, &c), DUET_OK);
        assert_true(!a || c);
        /* the sequence is not an input: a re-signed manifest keeps the choice */
        more = m;
        more.sequence++;
        assert_int_equal(duet_manifest_selected(&more, id, &c), DUET_OK);
        assert_int_equal(a, c);
    }
    assert_in_range(selected, 900, 1100);
    m.rollout_ppm = 0;
    bool s = true;
    assert_int_equal(duet_manifest_selected(&m, "x", &s), DUET_OK);
    assert_false(s);
    m.rollout_ppm = DUET_MANIFEST_ROLLOUT_ALL;
    assert_int_equal(duet_manifest_selected(&m, "x", &s), DUET_OK);
    assert_true(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_round_trip_verifies),
        cmocka_unit_test(test_manifest_canonical_text_is_the_format),
        cmocka_unit_test(test_manifest_spacing_and_order_do_not_matter),
        cmocka_unit_test(test_manifest_member_rules),
        cmocka_unit_test(test_manifest_signature_covers_every_field),
        cmocka_unit_test(test_manifest_refusals_under_policy),
        cmocka_unit_test(test_manifest_rollout_is_stable_and_about_the_fraction),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
