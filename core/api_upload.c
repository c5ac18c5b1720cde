/*
 * api_upload.c - POST /api/image: stream the request body into duet_ota_*.
 *
 * Order of checks (each refusal changes nothing on flash or in the slot record):
 *   1. token (done by the router)       -> 401/403/429
 *   2. Content-Length missing/zero      -> 411, before duet_ota_begin touches flash
 *   3. Content-Length > max_upload      -> 413, likewise
 *   4. another upload running           -> 409
 *   5. body chunks -> duet_ota_write (the streaming verifier rejects a bad header, wrong
 *      chip, window violations as soon as they arrive) -> 422, aborted
 *   6. body stalled or slower than the port's minimum rate (recv() says
 *      DUET_API_RECV_TIMEOUT) -> 408 TIMEOUT, aborted
 *   7. body shorter than announced (connection lost) -> 400 IMG_TRUNCATED, aborted
 *   8. duet_ota_finish: hash, signature, security counter -> 422; only on success is the
 *      slot marked PENDING and activated.
 * The lock is held only around OTA calls and the upload counters, never while
 * receiving (see api.c). Only the upload that set api->upload_active (step 4) touches
 * api->ota, api->scratch or upload_active itself: reads and refused uploads may run
 * alongside it.
 */
#include <stdio.h>
#include <string.h>

#include "api_priv.h"
#include "duet/json.h"

/* A refusal before this request claimed the upload (411, 413, no body): counted, but
 * another upload that may be streaming keeps its state. */
static void refused_early(duet_api_t *api, duet_err_t e)
{
    api_lock(api);
    if (!api->upload_active)
        api->upload_err = e;
    api->uploads_refused++;
    api_unlock(api);
}

/* The end of the upload that claimed api->upload_active. */
static void finish_stats(duet_api_t *api, duet_err_t e)
{
    api_lock(api);
    api->upload_active = false;
    api->upload_err = e;
    if (e == DUET_OK)
        api->uploads_ok++;
    else
        api->uploads_refused++;
    api_unlock(api);
}

duet_err_t duet_api_upload(duet_api_t *api, const duet_api_req_t *req,
                           const duet_api_resp_t *resp)
{
    duet_err_t e;
    uint32_t total = req->content_length;
    char msg[128];

    if (total == 0) {
        refused_early(api, DUET_ERR_INVAL);
        return duet_api_send_error(api, resp, 411, DUET_ERR_INVAL,
                                   "Content-Length with the image size is required");
    }
    if (total > api->max_upload) {
        snprintf(msg, sizeof(msg), "image of %lu bytes exceeds the limit of %lu bytes",
                 (unsigned long)total, (unsigned long)api->max_upload);
        refused_early(api, DUET_ERR_IMG_TOO_BIG);
        return duet_api_send_error(api, resp, 413, DUET_ERR_IMG_TOO_BIG, msg);
    }
    if (!req->recv) {
        refused_early(api, DUET_ERR_INVAL);
        return duet_api_send_error(api, resp, 400, DUET_ERR_INVAL, "no request body");
    }

    api_lock(api);
    if (api->upload_active) {
        api_unlock(api);
        return duet_api_send_error(api, resp, 409, DUET_ERR_BUSY, "an upload is in progress");
    }
    e = duet_ota_begin(&api->ota, api->sup, total);
    if (e == DUET_OK) {
        api->upload_active = true;
        api->upload_total = total;
        api->upload_received = 0;
    }
    api_unlock(api);
    if (e != DUET_OK) {
        refused_early(api, e); /* not claimed: another upload may have claimed it since */
        return duet_api_send_error(api, resp, 0, e, NULL);
    }

    uint32_t got = 0;
    while (got < total) {
        size_t want = sizeof(api->scratch);
        if (want > total - got)
            want = total - got;
        int n = req->recv(req->ctx, api->scratch, want);
        if (n <= 0 || (size_t)n > want) {
            api_lock(api);
            duet_ota_abort(&api->ota);
            api_unlock(api);
            if (n == DUET_API_RECV_TIMEOUT) {
                finish_stats(api, DUET_ERR_TIMEOUT);
                snprintf(msg, sizeof(msg),
                         "upload stalled or too slow: cut after %lu of %lu bytes",
                         (unsigned long)got, (unsigned long)total);
                return duet_api_send_error(api, resp, 408, DUET_ERR_TIMEOUT, msg);
            }
            finish_stats(api, DUET_ERR_IMG_TRUNCATED);
            snprintf(msg, sizeof(msg), "upload ended after %lu of %lu bytes",
                     (unsigned long)got, (unsigned long)total);
            return duet_api_send_error(api, resp, 400, DUET_ERR_IMG_TRUNCATED, msg);
        }
        api_lock(api);
        e = duet_ota_write(&api->ota, api->scratch, (size_t)n);
        if (e == DUET_OK)
            api->upload_received = got + (uint32_t)n;
        else
            duet_ota_abort(&api->ota);
        api_unlock(api);
        if (e != DUET_OK) {
            finish_stats(api, e);
            return duet_api_send_error(api, resp, 0, e, NULL);
        }
        got += (uint32_t)n;
    }

    duet_img_info_t info;
    memset(&info, 0, sizeof(info));
    api_lock(api);
    e = duet_ota_finish(&api->ota, true, &info);
    if (e != DUET_OK)
        duet_ota_abort(&api->ota); /* harmless if finish already cleaned up */
    duet_sup_status_t st;
    duet_sup_get_status(api->sup, &st);
    api_unlock(api);
    finish_stats(api, e);
    if (e != DUET_OK)
        return duet_api_send_error(api, resp, 0, e, NULL);

    char buf[640];
    char ver[24];
    duet_json_t j;
    size_t len;
    snprintf(ver, sizeof(ver), "%u.%u.%u", (unsigned)info.hdr.ih_ver_major,
             (unsigned)info.hdr.ih_ver_minor, (unsigned)info.hdr.ih_ver_patch);
    duet_json_init(&j, buf, sizeof(buf));
    duet_json_obj_begin(&j, NULL);
    duet_json_bool(&j, "ok", true);
    duet_json_u64(&j, "bytes", total);
    duet_json_i64(&j, "slot", st.active_slot);
    duet_json_str(&j, "version", ver);
    duet_json_str(&j, "name", info.name);
    duet_json_u64(&j, "security_counter", info.hdr.ih_security_counter);
    duet_json_bool(&j, "signed", info.signed_ok);
    duet_json_hex(&j, "sha256", info.sha256, sizeof(info.sha256));
    duet_json_str(&j, "state", duet_sup_state_name(st.state));
    duet_json_obj_end(&j);
    (void)duet_json_finish(&j, &len); /* fits: fixed fields + a 31-byte name escaped */
    return duet_api_send(resp, 200, "application/json", buf, len) == 0 ? DUET_OK : DUET_ERR_IO;
}
