/*
 * test_api_auth.c - bearer-token hygiene of the HTTP API handler (core/api.c), with
 * in-memory requests against the real supervisor over the fake port (issue 13,
 * point 6):
 *   - the token check accepts exactly the configured token (prefixes, extensions, case,
 *     other lengths refused) and the answers never echo a token, given or configured;
 *   - failed attempts are rate limited: after max_failures within the window every token
 *     route answers 429 for the lockout, the right token included, while reads carry on
 *     and report the lockout; the lockout ends; failures spread over windows never lock;
 *   - the default limit tolerates DUET_API_AUTH_MAX_FAILURES - 1 failures in a row.
 * Every wait is bounded (the lockouts here are a few hundred ms).
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

#include "api_priv.h"
#include "duet/api.h"
#include "fake_port.h"
#include "mem_resp.h"
#include "jsonp.h"

#define TOKEN "Zq7-secret-token-4711"

static duet_sup_t sup;
static duet_api_t api;

typedef struct {
    const uint8_t *data;
    size_t len, pos;
} body_t;

static int m_recv(void *ctx, void *buf, size_t cap)
{
    body_t *b = ctx;
    if (!b || b->pos >= b->len)
        return 0;
    size_t n = b->len - b->pos < cap ? b->len - b->pos : cap;
    memcpy(buf, b->data + b->pos, n);
    b->pos += n;
    return (int)n;
}

static int call(const char *method, const char *path, const char *auth, mresp_t *r)
{
    duet_api_req_t req = {method, path, auth, 0, m_recv, NULL};
    duet_api_resp_t rs = {m_start, m_write, r};
    memset(r, 0, sizeof(*r));
    duet_api_handle(&api, &req, &rs);
    return r->status;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

static int setup(void **state)
{
    (void)state;
    duet_sup_config_t cfg;
    fake_port_reset();
    duet_sup_config_default(&cfg);
    cfg.require_signature = false;
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_api_init(&api, &sup, TOKEN, 0), DUET_OK);
    /* a program to start, stop and restart: v1 uploaded the normal way */
    uint8_t *img;
    size_t len;
    assert_int_equal(fake_make_image(DUET_CHIP_HOST, 1, 0, 0, 1, "app", NULL, &img, &len), 0);
    body_t b = {img, len, 0};
    mresp_t r;
    duet_api_req_t req = {"POST", "/api/image", "Bearer " TOKEN, (uint32_t)len, m_recv, &b};
    duet_api_resp_t rs = {m_start, m_write, &r};
    memset(&r, 0, sizeof(r));
    duet_api_handle(&api, &req, &rs);
    free(img);
    if (r.status != 200)
        fail_msg("installing v1: %s", r.body);
    for (int i = 0; i < 20; i++)
        duet_sup_poll(&sup);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    duet_api_auth_limit_set(&api, NULL); /* back to the defaults for the next test */
    duet_sup_stop(&sup);
    return 0;
}

/* An answer must not contain the configured token, nor the given one. */
static void assert_no_token_in(const mresp_t *r, const char *given)
{
    if (strstr(r->body, TOKEN))
        fail_msg("the configured token leaked into an answer: %s", r->body);
    if (given && strlen(given) >= 4 && strstr(r->body, given))
        fail_msg("the given token was echoed: %s", r->body);
}

static void test_only_the_exact_token_is_accepted_and_never_echoed(void **state)
{
    (void)state;
    mresp_t r;
    duet_api_auth_limit_t none = {0, 0, 0}; /* this test counts no failures */
    duet_api_auth_limit_set(&api, &none);
    static const char *const bad[] = {
        "Bearer Zq7-secret-token-471",    /* prefix */
        "Bearer Zq7-secret-token-47111",  /* extension */
        "Bearer zq7-secret-token-4711",   /* case */
        "Bearer Zq7-secret-token-4712",   /* last byte */
        "Bearer Xq7-secret-token-4711",   /* first byte */
        ("Bearer " TOKEN TOKEN),          /* twice as long (parenthesised: clang -Wstring-concatenation) */
        "Bearer ",                        /* empty */
        ("Token " TOKEN),                 /* wrong scheme */
        TOKEN,                            /* no scheme */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (call("POST", "/api/restart", bad[i], &r) != 401)
            fail_msg("case %zu (%s): %d %s", i, bad[i], r.status, r.body);
        assert_no_token_in(&r, bad[i] + (strncmp(bad[i], "Bearer ", 7) == 0 ? 7 : 0));
    }
    assert_int_equal(call("POST", "/api/stop", "Bearer " TOKEN, &r), 200);
    assert_no_token_in(&r, NULL);
    assert_int_equal(call("POST", "/api/start", "bearer\t" TOKEN "  ", &r), 200);
    /* status and crash answers carry no token either */
    assert_int_equal(call("GET", "/api/status", NULL, &r), 200);
    assert_no_token_in(&r, NULL);
    assert_int_equal(call("GET", "/api/crash", NULL, &r), 200);
    assert_no_token_in(&r, NULL);
}

static void test_failed_tokens_lock_the_token_routes_for_a_while(void **state)
{
    (void)state;
    mresp_t r;
    duet_api_auth_limit_t lim = {5, 10000, 600};
    duet_api_auth_limit_set(&api, &lim);
    for (int i = 0; i < 5; i++) /* the 5th failure still gets its 401, then the lock */
        assert_int_equal(call("POST", "/api/restart", "Bearer guess", &r), 401);

    /* locked: the right token is refused too (the lock must not answer guesses) */
    assert_int_equal(call("POST", "/api/restart", "Bearer " TOKEN, &r), 429);
    jp_node_t *j = jp_parse(r.body, r.len, NULL, 0);
    assert_non_null(j);
    assert_string_equal(jp_str(j, "error", ""), "AUTH");
    assert_int_equal((int)jp_num(j, "status", 0), 429);
    assert_non_null(strstr(jp_str(j, "message", ""), "locked"));
    assert_non_null(strstr(jp_str(j, "message", ""), "auth_locked_ms"));
    jp_free(j);
    assert_no_token_in(&r, NULL);
    assert_int_equal(call("POST", "/api/image", "Bearer guess", &r), 429);

    /* reads carry on and say how long the lock lasts */
    assert_int_equal(call("GET", "/api/status", NULL, &r), 200);
    j = jp_parse(r.body, r.len, NULL, 0);
    assert_non_null(j);
    double left = jp_num(j, "auth_locked_ms", -1);
    jp_free(j);
    assert_true(left > 0 && left <= 600);

    sleep_ms(700);
    assert_int_equal(call("GET", "/api/status", NULL, &r), 200);
    j = jp_parse(r.body, r.len, NULL, 0);
    assert_int_equal((int)jp_num(j, "auth_locked_ms", -1), 0);
    jp_free(j);
    assert_int_equal(call("POST", "/api/restart", "Bearer " TOKEN, &r), 200);
    /* and counting starts afresh: one failure does not lock again */
    assert_int_equal(call("POST", "/api/restart", "Bearer guess", &r), 401);
    assert_int_equal(call("POST", "/api/restart", "Bearer " TOKEN, &r), 200);
}

static void test_failures_spread_over_windows_never_lock(void **state)
{
    (void)state;
    mresp_t r;
    duet_api_auth_limit_t lim = {4, 250, 5000};
    duet_api_auth_limit_set(&api, &lim);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3; i++)
            assert_int_equal(call("POST", "/api/stop", "Bearer nope", &r), 401);
        sleep_ms(300); /* the window is over: its failures no longer count */
    }
    assert_int_equal(call("POST", "/api/restart", "Bearer " TOKEN, &r), 200);
}

static void test_default_limit_allows_a_burst_then_locks(void **state)
{
    (void)state;
    mresp_t r;
    for (unsigned i = 0; i + 1 < DUET_API_AUTH_MAX_FAILURES; i++)
        assert_int_equal(call("POST", "/api/stop", "Bearer nope", &r), 401);
    assert_int_equal(call("POST", "/api/restart", "Bearer " TOKEN, &r), 200);
    assert_int_equal(call("POST", "/api/stop", "Bearer nope", &r), 401); /* the last one */
    assert_int_equal(call("POST", "/api/restart", "Bearer " TOKEN, &r), 429);
}

/* Writes disabled (no token configured) answer 403 and are not counted as guesses. */
static void test_disabled_writes_are_not_counted(void **state)
{
    (void)state;
    mresp_t r;
    duet_api_auth_limit_t lim = {2, 10000, 10000};
    duet_api_auth_limit_set(&api, &lim);
    const char *saved = api.token;
    api.token = "";
    for (int i = 0; i < 5; i++)
        assert_int_equal(call("POST", "/api/stop", "Bearer x", &r), 403);
    api.token = saved;
    assert_int_equal(call("POST", "/api/restart", "Bearer " TOKEN, &r), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_only_the_exact_token_is_accepted_and_never_echoed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_tokens_lock_the_token_routes_for_a_while,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_spread_over_windows_never_lock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_default_limit_allows_a_burst_then_locks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_disabled_writes_are_not_counted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
