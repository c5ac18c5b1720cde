/*
 * duet/fleet.h - the device side of fleet updates, shared by every port (docs/fleet.md).
 *
 * One check, whatever the transport:
 *   GET manifest (If-None-Match: last ETag) -> 304: done (one small request)
 *   parse + verify under the supervisor's policy and the last accepted sequence
 *   already running that release -> sequence stored, done
 *   installed before and rolled back since -> not pulled again
 *   rollout bucket of the device id not selected -> done
 *   GET image -> bytes straight into duet_ota_write (the session type the HTTP push
 *   uses; supervisor lock held per chunk only), SHA-256 and size against the manifest;
 *   the transport resumes a dropped connection with "Range: bytes=N-"
 *   duet_ota_finish(activate) -> core 1 restarted into it; sequence stored
 * Any refusal aborts the session: the running program never stops.
 *
 * A port supplies the transport and persistence in duet_fleet_ops_t (the simulator:
 * libcurl and a state file; ESP-IDF: esp_http_client with the CA bundle, and NVS) and
 * runs duet_fleet_check() from its own task/thread. Nothing here blocks except inside
 * the ops.
 */
#ifndef DUET_FLEET_H
#define DUET_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/crypto.h"
#include "duet/err.h"
#include "duet/fleet_status.h"
#include "duet/json.h"
#include "duet/manifest.h"
#include "duet/ota.h"
#include "duet/sup.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup duet_fleet Fleet pull (portable part)
 *  @{ */

#define DUET_FLEET_ETAG_MAX 128u
#define DUET_FLEET_ID_MAX   64u /* device id characters, without the NUL */

/** Bytes of the image in order, exactly once each. A non-OK return ends the download. */
typedef duet_err_t (*duet_fleet_sink_fn)(void *sink_ctx, const void *data, size_t len);

typedef struct {
    /** GET the manifest with If-None-Match: etag (when etag[0]). On 200: the body
     *  (NUL-terminated, at most cap - 1 bytes, longer is DUET_ERR_MANIFEST) and its ETag
     *  ("" if none) in etag_out.
     *  @return DUET_OK with *status 200 or 304; DUET_ERR_FETCH (transport, other status). */
    duet_err_t (*get_manifest)(void *ctx, const char *etag, char *body, size_t cap, size_t *len,
                               long *status, char etag_out[DUET_FLEET_ETAG_MAX]);
    /** GET url into sink until size bytes arrived, resuming after a dropped connection.
     *  @return DUET_OK; the sink's error; DUET_ERR_IMG_TOO_BIG (server has more);
     *          DUET_ERR_IMG_TRUNCATED (less); DUET_ERR_FETCH (retries spent, stopped). */
    duet_err_t (*get_image)(void *ctx, const char *url, uint32_t size, duet_fleet_sink_fn sink,
                            void *sink_ctx, uint32_t *resumes);
    /** Persist (device id, last accepted sequence) so a restart still refuses a replay. */
    duet_err_t (*store)(void *ctx, const char *device_id, uint32_t sequence);
    /** The port's supervisor lock (taken around every supervisor/OTA call only). */
    void (*sup_lock)(void *ctx);
    void (*sup_unlock)(void *ctx);
    /** A lock for the status other tasks read; NULL when only one task uses the fleet. */
    void (*st_lock)(void *ctx);
    void (*st_unlock)(void *ctx);
    /** One line of narration ("fleet: " is not included); NULL = quiet. */
    void (*say)(void *ctx, const char *line);
} duet_fleet_ops_t;

typedef struct {
    duet_sup_t *sup;
    const duet_fleet_ops_t *ops;
    void *ctx;
    const char *manifest_url;       /* for resolving a relative image URL */
    duet_fleet_status_t st;         /* under st_lock */
    char etag[DUET_FLEET_ETAG_MAX]; /* of the last manifest fully handled (check only) */
    duet_ota_t ota;                 /* sup_lock held around every call */
    duet_sha256_t sha;              /* of the image file as it streams */
    char manifest[DUET_MANIFEST_MAX + 1];
    char url[DUET_MANIFEST_URL_MAX + 512];
} duet_fleet_t;

/** Set up (no I/O). device_id: 1..DUET_FLEET_ID_MAX characters of [0-9A-Za-z._-].
 *  @return DUET_OK, DUET_ERR_INVAL (NULL, a missing op, a bad id). */
duet_err_t duet_fleet_init(duet_fleet_t *f, duet_sup_t *sup, const duet_fleet_ops_t *ops, void *ctx,
                           const char *manifest_url, const char *device_id, uint32_t last_sequence);

/** One check (blocks in the ops). Results: duet_fleet_status(). */
void duet_fleet_check(duet_fleet_t *f);

/** A copy of the status, under st_lock. */
void duet_fleet_status(duet_fleet_t *f, duet_fleet_status_t *st);

/** The status as a JSON object member named key (e.g. "fleet") of an open object. */
void duet_fleet_status_json(const duet_fleet_status_t *st, duet_json_t *j, const char *key);

/** The retained MQTT status document of a device:
 *    {"device":ID,"online":true,"fleet":{...},"status":<api_json>}
 *  fs may be NULL (no fleet pull configured); api_json is the HTTP API's status object
 *  (duet_api_status_json) or NULL ("null"). online=false writes only
 *  {"device":ID,"online":false} (the will and the goodbye).
 *  @return DUET_OK, DUET_ERR_NOMEM (cap too small), DUET_ERR_INVAL. */
duet_err_t duet_fleet_status_doc(char *buf, size_t cap, const char *device, bool online,
                                 const duet_fleet_status_t *fs, const char *api_json, size_t *len);

/** Resolve ref (absolute "scheme://...", "/path" or a relative path) against the
 *  manifest's URL (RFC 3986 §5.2, with dot segments removed; a query or fragment of
 *  base is dropped).
 *  @return DUET_OK, DUET_ERR_INVAL (base is not scheme://host..., or out too small). */
duet_err_t duet_fleet_resolve_url(const char *base, const char *ref, char *out, size_t cap);

/** A device id from bytes (e.g. a MAC address): lower-case hex, 2 * n characters.
 *  @return DUET_OK, DUET_ERR_INVAL (cap < 2 * n + 1). */
duet_err_t duet_fleet_hex_id(const uint8_t *bytes, size_t n, char *out, size_t cap);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* DUET_FLEET_H */
