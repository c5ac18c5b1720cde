/*
 * api_priv.h - internals shared by core/api*.c (routing, status/crash JSON, upload).
 * Not a public header: nothing outside core/api*.c includes it.
 */
#ifndef DUET_API_PRIV_H
#define DUET_API_PRIV_H

#include "duet/api.h"

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
/* The chip crash records of the running platform/program are decoded for. */
uint8_t duet_api_chip(const duet_sup_status_t *st);

#endif /* DUET_API_PRIV_H */
