/*
 * sim_fleet_fetch.h - the HTTPS side of the simulator's fleet pull (libcurl): a
 * conditional GET of the manifest and a resumable GET of the image into a sink.
 * Internal to sim/ (sim_fleet.c is the only user).
 */
#ifndef DUET_SIM_FLEET_FETCH_H
#define DUET_SIM_FLEET_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/fleet.h"

#define FLEET_ETAG_MAX DUET_FLEET_ETAG_MAX

typedef struct {
    const char *ca_file; /* NULL = system CAs */
    uint32_t timeout_ms; /* no progress for this long ends a request */
    uint32_t retries;    /* resumes after a dropped image connection */
    atomic_int *stop;    /* non-zero: end every transfer now */
} fleet_fetch_opts_t;

/** GET url with If-None-Match: etag (when etag[0]). 200: body (NUL-terminated, at most
 *  cap - 1 bytes; longer is DUET_ERR_MANIFEST) and its ETag (or "") into etag_out.
 *  @return DUET_OK with *status 200 or 304; DUET_ERR_FETCH (transport error or any
 *          other status, in *status); DUET_ERR_MANIFEST (too long). */
duet_err_t fleet_get_manifest(const fleet_fetch_opts_t *o, const char *url, const char *etag,
                              char *body, size_t cap, size_t *len, long *status,
                              char etag_out[FLEET_ETAG_MAX]);

/** Bytes of the image, in order, exactly once each (a resumed request's overlap is
 *  skipped). A non-OK return ends the download with that error. */
typedef duet_err_t (*fleet_sink_fn)(void *ctx, const void *data, size_t len);

/** GET url into sink until size bytes arrived; after a dropped connection, again with
 *  "Range: bytes=<received>-" (206 expected; a 200 is read from the start and the bytes
 *  already taken are skipped), at most o->retries times.
 *  @return DUET_OK (size bytes delivered); the sink's error; DUET_ERR_IMG_TOO_BIG (the
 *          server has more than size); DUET_ERR_IMG_TRUNCATED (less, and it says so);
 *          DUET_ERR_FETCH (retries spent, an HTTP error, stopped). */
duet_err_t fleet_get_image(const fleet_fetch_opts_t *o, const char *url, uint32_t size,
                           fleet_sink_fn sink, void *ctx, uint32_t *resumes);

#endif /* DUET_SIM_FLEET_FETCH_H */
