/*
 * test_api.c - the HTTP API handler (core/api*.c) driven with in-memory requests
 * against the real supervisor, slot journal, OTA session and verifier, over the fake
 * port (RAM flash, fake core 1). Covers the acceptance list: writes need the
 * token; forged, truncated, downgraded, wrong-chip, oversized and unannounced uploads
 * are refused with the old program still running and the slot unchanged; status and
 * crash JSON carry their fields. Also unit tests of the JSON writer and crash decoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duet/api.h"
#include "duet/crash_fmt.h"
#include "duet/crypto.h"
#include "duet/json.h"
#include "fake_port.h"
#include "mem_resp.h"
#include "jsonp.h"

#define TOKEN "s3cret-token"

static duet_sup_t sup;
static duet_api_t api;
static char key_good[1024], key_bad[1024];

typedef struct {
    const uint8_t *body;
    size_t len, pos, cut;
} mreq_t;


static int m_recv(void *ctx, void *buf, size_t cap)
{
    mreq_t *r = ctx;
    size_t end = r->cut < r->len ? r->cut : r->len;
    if (r->pos >= end)
        return r->cut < r->len ? -1 : 0; /* connection lost before the announced length */
    size_t n = end - r->pos;
    if (n > cap)
        n = cap;
    if (n > 1000)
        n = 1000; /* arrive in odd-sized pieces, like a network */
    memcpy(buf, r->body + r->pos, n);
    r->pos += n;
    return (int)n;
}

/* One request; returns the parsed JSON answer (or NULL for non-JSON) in *json. */
static int call(const char *method, const char *path, const char *auth, const uint8_t *body,
                size_t len, uint32_t content_length, size_t cut, mresp_t *resp, jp_node_t **json)
{
    mreq_t rq = {body, len, 0, cut};
    duet_api_req_t req = {method, path, auth, content_length, m_recv, &rq};
    duet_api_resp_t rs = {m_start, m_write, resp};
    memset(resp, 0, sizeof(*resp));
    duet_api_handle(&api, &req, &rs);
    assert_int_equal(resp->starts, 1);
    if (json) {
        *json = strstr(resp->type, "json") ? jp_parse(resp->body, resp->len, NULL, 0) : NULL;
        if (strstr(resp->type, "json"))
            assert_non_null(*json);
    }
    return resp->status;
}

static void poll_n(int n)
{
    for (int i = 0; i < n; i++) {
        duet_sup_poll(&sup);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

static jp_node_t *status(void)
{
    static mresp_t r;
    jp_node_t *j;
    assert_int_equal(call("GET", "/api/status", NULL, NULL, 0, 0, SIZE_MAX, &r, &j), 200);
    return j;
}

static const jp_node_t *active_slot(const jp_node_t *st)
{
    int a = (int)jp_num(st, "active_slot", -1);
    const jp_node_t *s = jp_get(st, "slots")->child;
    for (int i = 0; s && i < a; i++)
        s = s->next;
    return s;
}

static int upload(const uint8_t *img, size_t len, const char *auth, jp_node_t **j)
{
    static mresp_t r;
    return call("POST", "/api/image", auth, img, len, (uint32_t)len, SIZE_MAX, &r, j);
}

/* Bring up: v1.0.0 (security counter 2) installed over HTTP and confirmed. */
static int setup(void **state)
{
    duet_sup_config_t cfg;
    uint8_t pub[DUET_CRYPTO_PUBKEY_LEN];
    fake_port_reset();
    duet_sup_config_default(&cfg);
    cfg.confirm_heartbeats = 3;
    cfg.require_signature = true;
    cfg.key_count = 1;
    assert_int_equal(duet_crypto_privkey_public((uint8_t *)key_good, strlen(key_good) + 1, pub),
                     DUET_OK);
    memcpy(cfg.keys[0], pub, sizeof(pub));
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    (void)duet_sup_start(&sup); /* empty flash: nothing to start yet */
    assert_int_equal(duet_api_init(&api, &sup, TOKEN, 0), DUET_OK);

    uint8_t *img;
    size_t len;
    jp_node_t *j;
    assert_int_equal(fake_make_image(DUET_CHIP_HOST, 1, 0, 0, 2, "app", key_good, &img, &len), 0);
    assert_int_equal(upload(img, len, "Bearer " TOKEN, &j), 200);
    assert_true(jp_bool(j, "ok", false));
    jp_free(j);
    free(img);
    for (int i = 0; i < 200; i++) {
        poll_n(1);
        jp_node_t *st = status();
        bool done = strcmp(jp_str(active_slot(st), "status", ""), "CONFIRMED") == 0;
        jp_free(st);
        if (done)
            break;
    }
    return 0;
}

static int teardown(void **state)
{
    duet_sup_stop(&sup);
    return 0;
}

static void test_status_reports_the_running_program(void **state)
{
    jp_node_t *st = status();
    assert_string_equal(jp_str(st, "state", ""), "RUNNING");
    assert_string_equal(jp_str(st, "version", ""), "1.0.0");
    assert_string_equal(jp_str(st, "name", ""), "app");
    assert_string_equal(jp_str(st, "chip", ""), "host");
    assert_true(jp_num(st, "epoch", 0) >= 1);
    const char *fields[] = {"heartbeat", "progress", "restarts", "crashes", "uptime_ms",
                            "min_security_counter", "log_lines"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        assert_non_null(jp_get(st, fields[i]));
    assert_true(jp_num(st, "heartbeat", 0) > 0);
    assert_int_equal(jp_len(jp_get(st, "slots")), 2);
    const jp_node_t *a = active_slot(st);
    assert_string_equal(jp_str(a, "status", ""), "CONFIRMED");
    assert_true(jp_bool(a, "valid", false));
    assert_int_equal((int)jp_num(a, "security_counter", -1), 2);
    assert_int_equal((int)jp_num(st, "min_security_counter", -1), 2);
    assert_int_equal(jp_get(st, "last_crash")->type, JP_NULL);
    assert_string_equal(jp_str(st, "core1_owns", "?"), ""); /* only its window */
    jp_free(st);
    fake_core1_owns("gpio 4; timer 1.0"); /* what the chip port's claims report */
    st = status();
    assert_string_equal(jp_str(st, "core1_owns", ""), "gpio 4; timer 1.0");
    jp_free(st);
}

static void test_writes_without_the_token_are_refused(void **state)
{
    mresp_t r;
    jp_node_t *j;
    const char *bad[] = {NULL, "Bearer wrong", "Bearer " TOKEN "x", "Basic " TOKEN, "Bearer",
                         "Bearer s3cret-toke", "Bearer" TOKEN, "Bearer " TOKEN " x",
                         "Bearer S3CRET-TOKEN", "", "Bearer \t"};
    const char *routes[] = {"/api/stop", "/api/start", "/api/restart", "/api/rollback",
                            "/api/image"};
    jp_node_t *before = status();
    uint32_t writes = fake_flash_writes();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (size_t k = 0; k < sizeof(routes) / sizeof(routes[0]); k++) {
            assert_int_equal(call("POST", routes[k], bad[i], (const uint8_t *)"x", 1, 1, SIZE_MAX,
                                  &r, &j), 401);
            assert_string_equal(jp_str(j, "error", ""), "AUTH");
            jp_free(j);
        }
    }
    jp_node_t *after = status();
    assert_string_equal(jp_str(after, "state", ""), "RUNNING");
    assert_true(jp_num(after, "epoch", 0) == jp_num(before, "epoch", -1));
    assert_int_equal(fake_flash_writes(), writes);
    jp_free(before);
    jp_free(after);
    /* the scheme is case-insensitive; the token is not */
    assert_int_equal(call("POST", "/api/restart", "bearer " TOKEN, NULL, 0, 0, SIZE_MAX, &r, &j),
                     200);
    jp_free(j);
    poll_n(5);
}

static void test_no_configured_token_refuses_every_write(void **state)
{
    mresp_t r;
    jp_node_t *j;
    const char *saved = api.token;
    api.token = "";
    assert_int_equal(call("POST", "/api/stop", "Bearer ", NULL, 0, 0, SIZE_MAX, &r, &j), 403);
    jp_free(j);
    api.token = saved;
}

typedef enum { FORGED, UNTRUSTED, UNSIGNED, TRUNC_IMAGE, TRUNC_XFER, DOWNGRADE, WRONG_CHIP,
               OVERSIZED, NO_LENGTH, GARBAGE } bad_t;

static void test_bad_uploads_are_refused_and_change_nothing(void **state)
{
    static const struct {
        bad_t kind;
        int status;
        const char *error; /* NULL: any IMG_* error */
        bool touches_flash;
    } cases[] = {
        {FORGED, 422, "IMG_BAD_HASH", true},       {UNTRUSTED, 422, "IMG_UNKNOWN_KEY", true},
        {UNSIGNED, 422, "IMG_NO_SIG", true},       {TRUNC_IMAGE, 422, NULL, true},
        {TRUNC_XFER, 400, "IMG_TRUNCATED", true},  {DOWNGRADE, 422, "IMG_DOWNGRADE", true},
        {WRONG_CHIP, 422, "IMG_WRONG_CHIP", true}, {OVERSIZED, 413, "IMG_TOO_BIG", false},
        {NO_LENGTH, 411, "INVAL", false},          {GARBAGE, 422, "IMG_BAD_MAGIC", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *img = NULL;
        size_t len = 0, cut = SIZE_MAX;
        uint32_t clen;
        const char *key = key_good;
        uint8_t chip = DUET_CHIP_HOST;
        uint32_t sec = 5;
        if (cases[i].kind == UNTRUSTED)
            key = key_bad;
        if (cases[i].kind == UNSIGNED)
            key = NULL;
        if (cases[i].kind == DOWNGRADE)
            sec = 1;
        if (cases[i].kind == WRONG_CHIP)
            chip = DUET_CHIP_ESP32S3;
        assert_int_equal(fake_make_image(chip, 9, 9, 9, sec, "evil", key, &img, &len), 0);
        clen = (uint32_t)len;
        if (cases[i].kind == FORGED)
            img[len / 2] ^= 0x40; /* inside the payload, after signing */
        if (cases[i].kind == TRUNC_IMAGE)
            clen = (uint32_t)(len = len - 40);
        if (cases[i].kind == TRUNC_XFER)
            cut = len / 2;
        if (cases[i].kind == OVERSIZED)
            clen = FAKE_SLOT_SIZE + 1;
        if (cases[i].kind == NO_LENGTH)
            clen = 0;
        if (cases[i].kind == GARBAGE)
            memset(img, 0xA5, len);

        jp_node_t *before = status();
        uint32_t writes = fake_flash_writes();
        mresp_t r;
        jp_node_t *j;
        int st = call("POST", "/api/image", "Bearer " TOKEN, img, len, clen, cut, &r, &j);
        if (st != cases[i].status)
            fail_msg("case %zu: status %d (%s), want %d", i, st, r.body, cases[i].status);
        if (cases[i].error)
            assert_string_equal(jp_str(j, "error", ""), cases[i].error);
        else
            assert_memory_equal(jp_str(j, "error", ""), "IMG_", 4);
        jp_free(j);
        if (!cases[i].touches_flash)
            assert_int_equal(fake_flash_writes(), writes);
        poll_n(3);
        jp_node_t *after = status();
        /* the old program still runs, in the same slot, same epoch, same journal state */
        assert_string_equal(jp_str(after, "state", ""), "RUNNING");
        assert_string_equal(jp_str(after, "version", ""), "1.0.0");
        assert_true(jp_num(after, "active_slot", -1) == jp_num(before, "active_slot", -2));
        assert_true(jp_num(after, "epoch", -1) == jp_num(before, "epoch", -2));
        assert_string_equal(jp_str(active_slot(after), "status", ""), "CONFIRMED");
        assert_int_equal((int)jp_num(after, "min_security_counter", -1), 2);
        const jp_node_t *up = jp_get(after, "upload");
        assert_false(jp_bool(up, "active", true));
        jp_free(before);
        jp_free(after);
        free(img);
    }
}

/* A transport whose recv claims more bytes than it was asked for is refused (the
 * handler must never trust the count past its own buffer); nothing is installed. */
static int rogue_recv(void *ctx, void *buf, size_t cap)
{
    (void)ctx;
    memset(buf, 0, cap);
    return (int)cap + 1;
}

static void test_upload_refuses_a_transport_that_overreports(void **state)
{
    mresp_t r;
    jp_node_t *before = status();
    duet_api_req_t req = {"POST", "/api/image", "Bearer " TOKEN, 5000, rogue_recv, NULL};
    duet_api_resp_t rs = {m_start, m_write, &r};
    memset(&r, 0, sizeof(r));
    assert_int_not_equal(duet_api_handle(&api, &req, &rs), DUET_OK);
    assert_int_equal(r.status, 400);
    poll_n(3);
    jp_node_t *after = status();
    assert_string_equal(jp_str(after, "version", ""), "1.0.0");
    assert_true(jp_num(after, "epoch", -1) == jp_num(before, "epoch", -2));
    assert_false(jp_bool(jp_get(after, "upload"), "active", true));
    jp_free(before);
    jp_free(after);
}

/* The configured upload limit is its own gate (below the slot size): refused before
 * anything touches flash. */
static void test_upload_above_the_configured_limit_is_refused(void **state)
{
    uint8_t *img;
    size_t len;
    jp_node_t *j;
    assert_int_equal(fake_make_image(DUET_CHIP_HOST, 1, 1, 0, 3, "app", key_good, &img, &len), 0);
    uint32_t saved = api.max_upload;
    api.max_upload = (uint32_t)len - 1;
    uint32_t writes = fake_flash_writes();
    assert_int_equal(upload(img, len, "Bearer " TOKEN, &j), 413);
    assert_string_equal(jp_str(j, "error", ""), "IMG_TOO_BIG");
    assert_non_null(strstr(jp_str(j, "message", ""), "limit"));
    jp_free(j);
    assert_int_equal(fake_flash_writes(), writes);
    api.max_upload = saved;
    free(img);
}

/* The handler is not reentrant: a request arriving while one is handled gets 503. */
static mresp_t inner_resp;
static int inner_status;

static int reentrant_recv(void *ctx, void *buf, size_t cap)
{
    (void)ctx;
    (void)buf;
    (void)cap;
    jp_node_t *j;
    inner_status = call("GET", "/api/status", NULL, NULL, 0, 0, SIZE_MAX, &inner_resp, &j);
    jp_free(j);
    return -1; /* then the outer upload's connection drops */
}

static void test_a_second_request_during_one_is_refused(void **state)
{
    mresp_t r;
    duet_api_req_t req = {"POST", "/api/image", "Bearer " TOKEN, 5000, reentrant_recv, NULL};
    duet_api_resp_t rs = {m_start, m_write, &r};
    memset(&r, 0, sizeof(r));
    duet_api_handle(&api, &req, &rs);
    assert_int_equal(inner_status, 503);
    assert_int_equal(r.status, 400); /* the outer upload ended early: truncated */
    jp_node_t *st = status();
    assert_false(jp_bool(jp_get(st, "upload"), "active", true));
    assert_string_equal(jp_str(st, "version", ""), "1.0.0");
    jp_free(st);
}

static void test_good_upload_swaps_to_the_new_program(void **state)
{
    uint8_t *img;
    size_t len;
    jp_node_t *j;
    jp_node_t *before = status();
    assert_int_equal(fake_make_image(DUET_CHIP_HOST, 1, 1, 0, 3, "app", key_good, &img, &len), 0);
    assert_int_equal(upload(img, len, "Bearer " TOKEN, &j), 200);
    assert_string_equal(jp_str(j, "version", ""), "1.1.0");
    assert_true(jp_bool(j, "signed", false));
    jp_free(j);
    free(img);
    poll_n(5);
    jp_node_t *after = status();
    assert_string_equal(jp_str(after, "version", ""), "1.1.0");
    assert_string_equal(jp_str(after, "state", ""), "RUNNING");
    assert_true(jp_num(after, "epoch", 0) > jp_num(before, "epoch", 0));
    assert_true(jp_num(after, "active_slot", -1) != jp_num(before, "active_slot", -1));
    jp_free(before);
    jp_free(after);
}

static void test_control_routes_drive_the_supervisor(void **state)
{
    mresp_t r;
    jp_node_t *j, *st;
    assert_int_equal(call("POST", "/api/stop", "Bearer " TOKEN, NULL, 0, 0, SIZE_MAX, &r, &j), 200);
    assert_string_equal(jp_str(j, "state", ""), "STOPPED");
    jp_free(j);
    assert_int_equal(call("POST", "/api/start", "Bearer " TOKEN, NULL, 0, 0, SIZE_MAX, &r, &j), 200);
    jp_free(j);
    poll_n(3);
    st = status();
    assert_string_equal(jp_str(st, "state", ""), "RUNNING");
    double epoch = jp_num(st, "epoch", 0);
    jp_free(st);
    assert_int_equal(call("POST", "/api/restart", "Bearer " TOKEN, NULL, 0, 0, SIZE_MAX, &r, &j),
                     200);
    assert_true(jp_num(j, "epoch", 0) > epoch);
    jp_free(j);
    /* rollback needs a valid other slot: install 1.2.0, then roll back to 1.0.0 */
    uint8_t *img;
    size_t len;
    assert_int_equal(fake_make_image(DUET_CHIP_HOST, 1, 2, 0, 2, "app", key_good, &img, &len), 0);
    assert_int_equal(upload(img, len, "Bearer " TOKEN, &j), 200);
    jp_free(j);
    free(img);
    poll_n(3);
    assert_int_equal(call("POST", "/api/rollback", "Bearer " TOKEN, NULL, 0, 0, SIZE_MAX, &r, &j),
                     200);
    jp_free(j);
    poll_n(3);
    st = status();
    assert_string_equal(jp_str(st, "version", ""), "1.0.0");
    jp_free(st);
}

static void test_crash_is_reported_decoded(void **state)
{
    mresp_t r;
    jp_node_t *j;
    assert_int_equal(call("GET", "/api/crash", NULL, NULL, 0, 0, SIZE_MAX, &r, &j), 200);
    assert_false(jp_bool(j, "valid", true));
    jp_free(j);
    fake_core1_crash(DUET_CRASH_LOAD_STORE, 0x1234, 0x10);
    poll_n(3);
    assert_int_equal(call("GET", "/api/crash", NULL, NULL, 0, 0, SIZE_MAX, &r, &j), 200);
    assert_true(jp_bool(j, "valid", false));
    assert_string_equal(jp_str(j, "reason_name", ""), "LOAD_STORE");
    assert_string_equal(jp_str(j, "cause_name", ""), "SIGSEGV");
    assert_string_equal(jp_str(j, "pc", ""), "0x00001234");
    assert_string_equal(jp_str(j, "message", ""), "fake crash");
    assert_int_equal(jp_len(jp_get(j, "backtrace")), 2);
    duet_crash_t c;
    const jp_node_t *raw = jp_get(j, "raw");
    assert_int_equal(duet_crash_from_hex(raw->str, raw->str_len, &c), DUET_OK);
    assert_int_equal(c.cr_pc, 0x1234);
    jp_free(j);
    jp_node_t *st = status();
    assert_true(jp_num(st, "crashes", 0) >= 1);
    assert_non_null(strstr(jp_str(jp_get(st, "last_crash"), "summary", ""), "LOAD_STORE"));
    jp_free(st);
}

static void test_log_and_page_and_errors(void **state)
{
    mresp_t r;
    jp_node_t *j;
    duet_api_log_line(&api, DUET_LOG_INFO, "hello \x01world\n", 13);
    assert_int_equal(call("GET", "/api/log", NULL, NULL, 0, 0, SIZE_MAX, &r, NULL), 200);
    assert_non_null(strstr(r.body, "I hello  world\n"));
    for (int i = 0; i < 200; i++)
        duet_api_log_line(&api, DUET_LOG_WARN, "spam", 4);
    assert_int_equal(call("GET", "/api/log", NULL, NULL, 0, 0, SIZE_MAX, &r, NULL), 200);
    assert_null(strstr(r.body, "hello"));
    assert_non_null(strstr(r.body, "W spam"));
    assert_int_equal(call("GET", "/", NULL, NULL, 0, 0, SIZE_MAX, &r, NULL), 200);
    assert_non_null(strstr(r.body, "<html"));
    assert_int_equal(r.len, duet_web_index_html_len);
    assert_int_equal(call("GET", "/nope", NULL, NULL, 0, 0, SIZE_MAX, &r, &j), 404);
    jp_free(j);
    assert_int_equal(call("GET", "/api/image", NULL, NULL, 0, 0, SIZE_MAX, &r, &j), 405);
    jp_free(j);
    assert_int_equal(call("POST", "/api/status", NULL, NULL, 0, 0, SIZE_MAX, &r, &j), 405);
    jp_free(j);
}

static void test_json_writer_escapes_and_bounds(void **state)
{
    char buf[256];
    duet_json_t j;
    size_t len;
    duet_json_init(&j, buf, sizeof(buf));
    duet_json_obj_begin(&j, NULL);
    duet_json_str(&j, "a\"b", "q\"\\\n\x01\x7f");
    duet_json_strn(&j, "bad", "x\xff\xc3\xa9", 4); /* invalid byte, then valid U+00E9 */
    duet_json_arr_begin(&j, "n");
    duet_json_u64(&j, NULL, 18446744073709551615ull);
    duet_json_i64(&j, NULL, -5);
    duet_json_bool(&j, NULL, false);
    duet_json_null(&j, NULL);
    duet_json_arr_end(&j);
    duet_json_obj_end(&j);
    assert_int_equal(duet_json_finish(&j, &len), DUET_OK);
    assert_string_equal(buf, "{\"a\\\"b\":\"q\\\"\\\\\\n\\u0001\\u007f\",\"bad\":\"x\xef\xbf\xbd\xc3\xa9\","
                             "\"n\":[18446744073709551615,-5,false,null]}");
    jp_node_t *p = jp_parse(buf, len, NULL, 0);
    assert_non_null(p);
    assert_string_equal(jp_str(p, "a\"b", ""), "q\"\\\n\x01\x7f");
    jp_free(p);
    /* surrogate halves and overlong forms are not UTF-8: each byte becomes U+FFFD */
    duet_json_init(&j, buf, sizeof(buf));
    duet_json_strn(&j, NULL, "\xed\xa0\x80|\xc0\xaf", 6);
    assert_int_equal(duet_json_finish(&j, &len), DUET_OK);
    assert_string_equal(buf, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\"");
    /* nesting deeper than DUET_JSON_MAX_DEPTH does not fit */
    duet_json_init(&j, buf, sizeof(buf));
    for (int i = 0; i <= DUET_JSON_MAX_DEPTH; i++)
        duet_json_arr_begin(&j, NULL);
    for (int i = 0; i <= DUET_JSON_MAX_DEPTH; i++)
        duet_json_arr_end(&j);
    assert_int_equal(duet_json_finish(&j, &len), DUET_ERR_NOMEM);
    assert_true(strlen(buf) < sizeof(buf));
    char small[8];
    duet_json_init(&j, small, sizeof(small));
    duet_json_str(&j, NULL, "too long for eight");
    assert_int_equal(duet_json_finish(&j, &len), DUET_ERR_NOMEM);
    assert_true(strlen(small) < sizeof(small));
    duet_json_init(&j, buf, sizeof(buf));
    duet_json_obj_begin(&j, NULL);
    assert_int_equal(duet_json_finish(&j, &len), DUET_ERR_STATE);
}

static void test_crash_names_match_xtensa_and_linux(void **state)
{
    assert_string_equal(duet_crash_exccause_name(0), "IllegalInstruction");
    assert_string_equal(duet_crash_exccause_name(6), "IntegerDivideByZero");
    assert_string_equal(duet_crash_exccause_name(9), "LoadStoreAlignment");
    assert_string_equal(duet_crash_exccause_name(28), "LoadProhibited");
    assert_string_equal(duet_crash_exccause_name(29), "StoreProhibited");
    assert_null(duet_crash_exccause_name(19)); /* reserved */
    assert_null(duet_crash_exccause_name(63));
    assert_string_equal(duet_crash_signal_name(11), "SIGSEGV");
    assert_string_equal(duet_crash_signal_name(8), "SIGFPE");
    assert_string_equal(duet_crash_reason_name(DUET_CRASH_STACK_OVERFLOW), "STACK_OVERFLOW");
    assert_string_equal(duet_crash_reason_name(999), "UNKNOWN");

    duet_crash_t c;
    memset(&c, 0xFF, sizeof(c)); /* hostile: huge counts, no NUL in the message */
    c.cr_magic = DUET_CRASH_MAGIC;
    c.cr_exccause = 28;
    char out[4096];
    duet_crash_fmt_opts_t o = {DUET_CHIP_ESP32S3, NULL, NULL};
    assert_int_equal(duet_crash_format(&c, &o, out, sizeof(out), NULL), DUET_OK);
    assert_non_null(strstr(out, "LoadProhibited"));
    assert_non_null(strstr(out, "backtrace (clamped)"));
    char small[64];
    assert_int_equal(duet_crash_format(&c, &o, small, sizeof(small), NULL), DUET_ERR_NOMEM);
    assert_true(strlen(small) < sizeof(small));
    /* the JSON form clamps the same way and stays parseable */
    duet_json_t j;
    size_t len;
    duet_json_init(&j, out, sizeof(out));
    duet_crash_json(&j, NULL, &c, DUET_CHIP_ESP32S3, false);
    assert_int_equal(duet_json_finish(&j, &len), DUET_OK);
    jp_node_t *p = jp_parse(out, len, NULL, 0);
    assert_non_null(p);
    assert_int_equal(jp_len(jp_get(p, "backtrace")), DUET_CRASH_BT);
    assert_int_equal(strlen(jp_str(p, "message", "")), DUET_CRASH_MSG_LEN);
    const jp_node_t *raw = jp_get(p, "raw");
    duet_crash_t back;
    assert_int_equal(duet_crash_from_hex(raw->str, raw->str_len, &back), DUET_OK);
    assert_memory_equal(&back, &c, sizeof(c));
    assert_int_equal(duet_crash_from_hex(raw->str, raw->str_len + 1, &back), DUET_ERR_INVAL);
    assert_int_equal(duet_crash_from_hex(raw->str, raw->str_len - 2, &back), DUET_ERR_INVAL);
    jp_free(p);
}

/* Every image refusal is the client's image, never a server fault: 422 (413 too big). */
static void test_every_image_error_is_422(void **state)
{
    (void)state;
    int n = 0;
    for (int e = 1; e < (int)DUET_ERR__COUNT; e++) {
        if (strncmp(duet_err_name((duet_err_t)e), "IMG_", 4) != 0)
            continue;
        n++;
        int want = e == DUET_ERR_IMG_TOO_BIG ? 413 : 422;
        if (duet_api_http_status((duet_err_t)e) != want)
            fail_msg("%s -> %d, want %d", duet_err_name((duet_err_t)e),
                     duet_api_http_status((duet_err_t)e), want);
    }
    assert_true(n >= 40); /* the list was walked */
}

int main(void)
{
    if (duet_crypto_keygen_pem(key_good, sizeof(key_good)) != DUET_OK ||
        duet_crypto_keygen_pem(key_bad, sizeof(key_bad)) != DUET_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status_reports_the_running_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_without_the_token_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_configured_token_refuses_every_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_uploads_are_refused_and_change_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_good_upload_swaps_to_the_new_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_refuses_a_transport_that_overreports, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_upload_above_the_configured_limit_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_second_request_during_one_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_control_routes_drive_the_supervisor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_is_reported_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_and_page_and_errors, setup, teardown),
        cmocka_unit_test(test_json_writer_escapes_and_bounds),
        cmocka_unit_test(test_every_image_error_is_422),
        cmocka_unit_test(test_crash_names_match_xtensa_and_linux),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
