/*
 * test_api_timing.c - GET /api/timing and POST /api/timing/reset (core/api_timing.c)
 * over the fake port: a histogram written into the shared area as core 1 would leave
 * it comes back with the right figures, edges in cycles and microseconds, and the
 * non-empty bucket range; a block core 1 is stuck updating answers 503; the reset
 * needs the token and only raises the request word.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "duet/api.h"
#include "duet/port.h"
#include "fake_port.h"
#include "jsonp.h"
#include "mem_resp.h"

#define TOKEN "timing-token"

static duet_sup_t sup;
static duet_api_t api;
static mresp_t r;

static int call(const char *method, const char *path, const char *auth, jp_node_t **json)
{
    duet_api_req_t req = {method, path, auth, 0, NULL, NULL};
    duet_api_resp_t rs = {m_start, m_write, &r};
    memset(&r, 0, sizeof(r));
    duet_api_handle(&api, &req, &rs);
    assert_int_equal(r.starts, 1);
    *json = jp_parse(r.body, r.len, NULL, 0);
    assert_non_null(*json);
    return r.status;
}

static duet_shm_ctrl_t *ctrl(void)
{
    size_t size;
    return duet_port_shm(&size);
}

static int setup(void **state)
{
    (void)state;
    duet_sup_config_t cfg;
    fake_port_reset();
    duet_sup_config_default(&cfg);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_api_init(&api, &sup, TOKEN, 0), DUET_OK);
    size_t size;
    void *shm = duet_port_shm(&size);
    memset(shm, 0, DUET_SHM_CTRL_SIZE); /* never initialised: no program has run */
    return 0;
}

/* What core 1 leaves after 99 intervals of 20 us and one of 40 us at 240 MHz, with a
 * declared period of 20 us. */
static void fill_block(void)
{
    size_t size;
    void *shm = duet_port_shm(&size);
    duet_shm_config_t sc = {.log_ring_size = 1024};
    assert_int_equal(duet_shm_init(shm, size, &sc, 7), DUET_OK);
    duet_shm_ctrl_t *c = shm;
    c->sc_c1_cpu_hz = 240000000u;
    duet_timing_t *t = &c->sc_timing;
    t->tm_seq = 42;
    t->tm_period = 4800;
    t->tm_count_lo = 100;
    t->tm_sum_lo = 99u * 4800u + 9600u;
    t->tm_min = 4800;
    t->tm_max = 9600;
    t->tm_misses = 1;
    t->tm_bucket[duet_timing_bucket(4800)] = 99;
    t->tm_bucket[duet_timing_bucket(9600)] = 1;
}

static const char *num_text(const jp_node_t *j, const char *key)
{
    const jp_node_t *n = jp_get(j, key);
    assert_non_null(n);
    assert_int_equal(n->type, JP_NUM);
    return n->str;
}

static void test_no_program_yet(void **state)
{
    (void)state;
    jp_node_t *j;
    assert_int_equal(call("GET", "/api/timing", NULL, &j), 200);
    assert_false(jp_bool(j, "available", true));
    jp_free(j);
    assert_int_equal(call("POST", "/api/timing/reset", "Bearer " TOKEN, &j), 409);
    jp_free(j);
}

static void test_histogram_figures(void **state)
{
    (void)state;
    jp_node_t *j;
    fill_block();
    assert_int_equal(call("GET", "/api/timing", NULL, &j), 200);
    assert_string_equal(r.type, "application/json");
    assert_true(jp_bool(j, "available", false));
    assert_int_equal((int)jp_num(j, "epoch", 0), 7);
    assert_int_equal((int)jp_num(j, "count", 0), 100);
    assert_int_equal((int)jp_num(j, "misses", 0), 1);
    assert_string_equal(num_text(j, "cycles_per_us"), "240.000000");
    assert_string_equal(num_text(j, "period_cycles"), "4800");
    assert_string_equal(num_text(j, "period_us"), "20.000");
    assert_string_equal(num_text(j, "min_us"), "20.000");
    assert_string_equal(num_text(j, "mean_cycles"), "4848");
    assert_string_equal(num_text(j, "mean_us"), "20.200");
    /* p99: the 99th interval is in [4096, 6144): reported as 6143 cycles (25.596 us) */
    assert_string_equal(num_text(j, "p99_cycles"), "6143");
    assert_string_equal(num_text(j, "p99_us"), "25.596");
    /* p99.9: rank 100, the 40 us interval's bucket, clamped to the max */
    assert_string_equal(num_text(j, "p999_cycles"), "9600");
    assert_string_equal(num_text(j, "max_us"), "40.000");
    assert_false(jp_bool(j, "wrapped", true));
    assert_false(jp_bool(j, "reset_pending", true));
    assert_int_equal((int)jp_num(j, "bucket_count", 0), DUET_TIMING_BUCKETS);
    /* buckets 12..14: the empty one between the two is listed too */
    const jp_node_t *b = jp_get(j, "buckets");
    assert_int_equal(jp_len(b), 3);
    const jp_node_t *b0 = b->child, *b1 = b0->next, *b2 = b1->next;
    assert_int_equal((int)jp_num(b0, "i", 0), 12);
    assert_string_equal(num_text(b0, "lo"), "4096");
    assert_string_equal(num_text(b0, "lo_us"), "17.067");
    assert_string_equal(num_text(b0, "hi"), "6144");
    assert_string_equal(num_text(b0, "hi_us"), "25.600");
    assert_int_equal((int)jp_num(b0, "count", 0), 99);
    assert_int_equal((int)jp_num(b1, "count", -1), 0);
    assert_int_equal((int)jp_num(b2, "i", 0), 14);
    assert_int_equal((int)jp_num(b2, "count", 0), 1);
    jp_free(j);

    /* the rate unknown (chip program without CPU_HZ): cycles only, us fields null */
    ctrl()->sc_c1_cpu_hz = 0;
    assert_int_equal(call("GET", "/api/timing", NULL, &j), 200);
    assert_int_equal(jp_get(j, "p99_us")->type, JP_NULL);
    assert_int_equal(jp_get(j, "cycles_per_us")->type, JP_NULL);
    assert_string_equal(num_text(j, "p99_cycles"), "6143");
    jp_free(j);
}

static void test_stuck_update_is_503(void **state)
{
    (void)state;
    jp_node_t *j;
    fill_block();
    ctrl()->sc_timing.tm_seq = 43; /* core 1 stopped in the middle of a mark */
    assert_int_equal(call("GET", "/api/timing", NULL, &j), 503);
    assert_string_equal(jp_str(j, "error", ""), "BUSY");
    jp_free(j);
}

static void test_reset_needs_the_token(void **state)
{
    (void)state;
    jp_node_t *j;
    fill_block();
    assert_int_equal(call("POST", "/api/timing/reset", NULL, &j), 401);
    jp_free(j);
    assert_int_equal(ctrl()->sc_timing.tm_reset_req, 0);
    assert_int_equal(call("GET", "/api/timing/reset", NULL, &j), 405);
    jp_free(j);
    assert_int_equal(call("POST", "/api/timing", "Bearer " TOKEN, &j), 405);
    jp_free(j);
    assert_int_equal(call("POST", "/api/timing/reset", "Bearer " TOKEN, &j), 200);
    assert_true(jp_bool(j, "ok", false));
    jp_free(j);
    /* core 0 only raised the request; the figures stay until core 1 honours it */
    assert_int_equal(ctrl()->sc_timing.tm_reset_req, 1);
    assert_int_equal(ctrl()->sc_timing.tm_count_lo, 100);
    assert_int_equal(call("GET", "/api/timing", NULL, &j), 200);
    assert_true(jp_bool(j, "reset_pending", false));
    jp_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_program_yet, setup),
        cmocka_unit_test_setup(test_histogram_figures, setup),
        cmocka_unit_test_setup(test_stuck_update_is_503, setup),
        cmocka_unit_test_setup(test_reset_needs_the_token, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
