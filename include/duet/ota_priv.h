/*
 * duet/ota_priv.h - the definition of struct duet_ota, so an OTA session can live in a
 * static or embedded object (duet_api_t holds one). Included by duet/ota.h.
 *
 * PRIVATE: only core/ota.c touches these fields. A zero-initialised duet_ota_t is a
 * valid idle session.
 */
#ifndef DUET_OTA_PRIV_H
#define DUET_OTA_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DUET_CONFIG: bytes reserved for the streaming verifier's context
 * (duet_img_stream_ctx_size() must fit; begin() returns DUET_ERR_NOMEM otherwise). */
#define DUET_OTA_STREAM_CTX_MAX 4096u
/* Largest image head (header, table, TLV area, trailer; format 2): write() holds these
 * bytes in RAM until the verifier has authenticated them (signature included), so a
 * refusal by anything but the payload never erases anything, however the bytes are
 * chunked. */
#define DUET_OTA_HEAD_MAX DUET_IMG_HEAD_MAX

typedef enum {
    DUET_OTA_IDLE = 0,   /* no session (zero-initialised) */
    DUET_OTA_ACTIVE = 1, /* begun: owns the inactive slot */
    DUET_OTA_FAILED = 2, /* an error ended it; every call returns 'err' until abort/begin */
} duet_ota_phase_t;

struct duet_ota {
    duet_ota_phase_t phase;
    duet_err_t err;            /* first error (FAILED) */
    struct duet_sup *sup;
    int slot;                  /* slot being written */
    uint32_t slot_size;
    uint32_t erase_size;
    uint32_t total;            /* announced size, 0 = unknown */
    uint32_t received;         /* bytes accepted (fed + programmed) */
    uint32_t erased_to;        /* slot bytes [0, erased_to) are erased for this session */
    duet_img_policy_t pol;     /* the verifier keeps a pointer to it: lives as long */
    union {                    /* duet_img_stream_t storage (opaque, sized at runtime) */
        max_align_t align_;
        unsigned char bytes[DUET_OTA_STREAM_CTX_MAX];
    } stream;
    /* ---- appended ---- */
    uint8_t head[DUET_OTA_HEAD_MAX]; /* bytes [0, received) while erased_to == 0 */
};

#ifdef __cplusplus
}
#endif
#endif /* DUET_OTA_PRIV_H */
