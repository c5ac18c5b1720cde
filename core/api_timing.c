/*
 * api_timing.c - GET /api/timing (the loop-timing histogram as JSON) and
 * POST /api/timing/reset (docs/http-api.md, docs/timing.md).
 *
 * Reads the block core 1 writes (duet_shm_ctrl_t.sc_timing) straight from the shared
 * area with core/timing.c's sequence-counter copy; no supervisor state is needed
 * beyond the epoch. Field names are an interface (page, CLI, scripts): add, never
 * rename. Portable: no OS headers.
 */
#include <stdlib.h>

#include "api_priv.h"
#include "duet/json.h"
#include "duet/port.h"
#include "duet/timing.h"

#define TIMING_JSON_CAP   8192u /* 52 buckets of ~90 bytes and the summary */
#define TIMING_READ_TRIES 64u

static duet_timing_t *timing_block(uint32_t *hz, uint32_t *epoch)
{
    size_t size = 0;
    duet_shm_ctrl_t *c = duet_port_shm(&size);
    if (c == NULL || size < DUET_SHM_CTRL_SIZE ||
        __atomic_load_n(&c->sc_magic, __ATOMIC_ACQUIRE) != DUET_SHM_MAGIC)
        return NULL; /* no area, or never initialised: no program has run */
    *hz = __atomic_load_n(&c->sc_c1_cpu_hz, __ATOMIC_RELAXED);
    *epoch = __atomic_load_n(&c->sc_epoch, __ATOMIC_RELAXED);
    return &c->sc_timing;
}

/* A cycle figure and, when the rate is known, the same in microseconds (ns precision). */
static void fig(duet_json_t *j, const char *kc, const char *ku, uint64_t cycles, uint32_t hz)
{
    duet_json_u64(j, kc, cycles);
    if (hz != 0u)
        duet_json_fixed(j, ku, duet_timing_cycles_to_ns(cycles, hz), 3);
    else
        duet_json_null(j, ku);
}

static void write_json(duet_json_t *j, const duet_timing_snap_t *s, uint32_t hz, uint32_t epoch)
{
    duet_timing_stats_t st;
    duet_timing_stats(s, &st);
    duet_json_obj_begin(j, NULL);
    duet_json_bool(j, "available", true);
    duet_json_u64(j, "epoch", epoch);
    if (hz != 0u) {
        duet_json_u64(j, "cpu_hz", hz);
        duet_json_fixed(j, "cycles_per_us", hz, 6); /* hz / 10^6 */
    } else {
        duet_json_null(j, "cpu_hz");
        duet_json_null(j, "cycles_per_us");
    }
    duet_json_u64(j, "count", st.count);
    fig(j, "period_cycles", "period_us", st.period, hz);
    duet_json_u64(j, "misses", st.misses);
    fig(j, "min_cycles", "min_us", st.min, hz);
    fig(j, "mean_cycles", "mean_us", st.mean, hz);
    fig(j, "p50_cycles", "p50_us", st.p50, hz);
    fig(j, "p99_cycles", "p99_us", st.p99, hz);
    fig(j, "p999_cycles", "p999_us", st.p999, hz);
    fig(j, "max_cycles", "max_us", st.max, hz);
    duet_json_bool(j, "wrapped", st.wrapped);
    duet_json_bool(j, "reset_pending", s->reset_pending);
    duet_json_u64(j, "bucket_count", DUET_TIMING_BUCKETS);
    /* the non-empty range, zeros inside it included (a chart needs no gap filling) */
    unsigned first = DUET_TIMING_BUCKETS, last = 0;
    for (unsigned i = 0; i < DUET_TIMING_BUCKETS; i++) {
        if (s->bucket[i] != 0u) {
            if (first == DUET_TIMING_BUCKETS)
                first = i;
            last = i;
        }
    }
    duet_json_arr_begin(j, "buckets");
    for (unsigned i = first; i <= last && first < DUET_TIMING_BUCKETS; i++) {
        duet_json_obj_begin(j, NULL);
        duet_json_u64(j, "i", i);
        fig(j, "lo", "lo_us", duet_timing_bucket_lo(i), hz);
        fig(j, "hi", "hi_us", duet_timing_bucket_hi(i), hz);
        duet_json_u64(j, "count", s->bucket[i]);
        duet_json_obj_end(j);
    }
    duet_json_arr_end(j);
    duet_json_obj_end(j);
}

duet_err_t duet_api_timing_json(duet_api_t *api, char *buf, size_t cap, size_t *len)
{
    duet_json_t j;
    duet_timing_snap_t s;
    uint32_t hz = 0, epoch = 0;
    if (!api || !buf || cap == 0)
        return DUET_ERR_INVAL;
    duet_json_init(&j, buf, cap);
    duet_timing_t *t = timing_block(&hz, &epoch);
    if (t == NULL) {
        duet_json_obj_begin(&j, NULL);
        duet_json_bool(&j, "available", false);
        duet_json_obj_end(&j);
        return duet_json_finish(&j, len);
    }
    duet_err_t e = duet_timing_read(t, &s, TIMING_READ_TRIES);
    if (e != DUET_OK)
        return e;
    write_json(&j, &s, hz, epoch);
    return duet_json_finish(&j, len);
}

duet_err_t duet_api_send_timing(duet_api_t *api, const duet_api_resp_t *resp)
{
    char *buf = malloc(TIMING_JSON_CAP); /* reads run concurrently: a buffer each */
    size_t len = 0;
    if (!buf)
        return duet_api_send_error(api, resp, 507, DUET_ERR_NOMEM, "no memory for the answer");
    duet_err_t e = duet_api_timing_json(api, buf, TIMING_JSON_CAP, &len);
    if (e != DUET_OK) {
        free(buf);
        if (e == DUET_ERR_BUSY)
            return duet_api_send_error(api, resp, 503, e,
                                       "core 1 was updating the histogram on every attempt");
        return duet_api_send_error(api, resp, 500, e, "answer does not fit");
    }
    e = duet_api_send(resp, 200, "application/json", buf, len) == 0 ? DUET_OK : DUET_ERR_IO;
    free(buf);
    return e;
}

duet_err_t duet_api_timing_reset(duet_api_t *api, const duet_api_resp_t *resp)
{
    uint32_t hz, epoch;
    duet_timing_t *t = timing_block(&hz, &epoch);
    if (t == NULL)
        return duet_api_send_error(api, resp, 409, DUET_ERR_STATE, "no program has run yet");
    api_lock(api); /* one writer of tm_reset_req at a time */
    duet_timing_request_reset(t);
    api_unlock(api);
    static const char ok[] = "{\"ok\":true,\"action\":\"timing/reset\"}";
    return duet_api_send(resp, 200, "application/json", ok, sizeof(ok) - 1) == 0 ? DUET_OK
                                                                                 : DUET_ERR_IO;
}
