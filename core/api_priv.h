/*
 * api_priv.h - internals shared by core/api*.c (routing, status/crash JSON, upload,
 * the failed-token limiter). Not a public header: only core/api*.c and the API tests
 * include it.
 */
#ifndef DUET_API_PRIV_H
#define DUET_API_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "duet/api.h"

/* What a transport's recv() returns when the client stalled or sent its body too slowly
 * (the port's read deadline or minimum-rate deadline passed): the upload is answered
 * 408 TIMEOUT. Any other negative value means the connection was lost: 400
 * IMG_TRUNCATED. Ports cannot include this header: they spell it -(int)DUET_ERR_TIMEOUT
 * (docs/http-api.md, "Threading (for ports)"). */
#define DUET_API_RECV_TIMEOUT (-(int)DUET_ERR_TIMEOUT)

/* Size of the buffer each status/crash answer is built in. */
#define DUET_API_JSON_CAP 4096u

static inline void api_lock(duet_api_t *api)
{
    if (api->lock)
        api->lock(api->lock_ctx);
}

static inline void api_unlock(duet_api_t *api)
{
    if (api->unlock)
        api->unlock(api->lock_ctx);
}

/* Send a complete answer with a known length. Returns 0 on success. */
int duet_api_send(const duet_api_resp_t *resp, int status, const char *type, const void *body,
                  size_t len);
/* Send {"error":NAME,"code":N,"message":...} with the status for e (or 'status' if != 0). */
duet_err_t duet_api_send_error(duet_api_t *api, const duet_api_resp_t *resp, int status,
                               duet_err_t e, const char *message);
/* POST /api/image (auth already checked). */
duet_err_t duet_api_upload(duet_api_t *api, const duet_api_req_t *req,
                           const duet_api_resp_t *resp);
/* GET /api/timing: the loop-timing histogram (api_timing.c). DUET_ERR_BUSY if core 1
 * was mid-update on every copy attempt. */
duet_err_t duet_api_timing_json(duet_api_t *api, char *buf, size_t cap, size_t *len);
duet_err_t duet_api_send_timing(duet_api_t *api, const duet_api_resp_t *resp);
/* POST /api/timing/reset (auth already checked): ask core 1 to clear the histogram. */
duet_err_t duet_api_timing_reset(duet_api_t *api, const duet_api_resp_t *resp);
/* The chip crash records of the running platform/program are decoded for. */
uint8_t duet_api_chip(const duet_sup_status_t *st);

/* ---- failed-token limiter (api.c) ----------------------------------------------------
 * After max_failures wrong or missing tokens within window_ms, every request that needs
 * the token is answered 429 for lockout_ms, the right token included (otherwise the
 * lockout would still answer guesses). Reads are never limited. One limiter per API
 * object (its auth_* fields); duet_api_init() sets the defaults and clears it. */
typedef struct {
    uint32_t max_failures; /* 0 = no limit */
    uint32_t window_ms;
    uint32_t lockout_ms;
} duet_api_auth_limit_t;

/* DUET_CONFIG: DUET_API_AUTH_MAX_FAILURES / _WINDOW_MS / _LOCKOUT_MS - the defaults. */
#ifndef DUET_API_AUTH_MAX_FAILURES
#define DUET_API_AUTH_MAX_FAILURES 64u
#endif
#ifndef DUET_API_AUTH_WINDOW_MS
#define DUET_API_AUTH_WINDOW_MS 60000u
#endif
#ifndef DUET_API_AUTH_LOCKOUT_MS
#define DUET_API_AUTH_LOCKOUT_MS 60000u
#endif

/* Replace the limits (NULL = the defaults above) and clear the counters. Call before
 * serving requests (tests use it for short windows). */
void duet_api_auth_limit_set(duet_api_t *api, const duet_api_auth_limit_t *limit);
/* Milliseconds the lockout still lasts (0 = none). Call with the lock held. */
uint32_t duet_api_auth_locked_ms(const duet_api_t *api);

#endif /* DUET_API_PRIV_H */
