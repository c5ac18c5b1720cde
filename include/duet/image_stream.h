/*
 * duet/image_stream.h - the complete streaming-verifier context, so callers (OTA, the
 * supervisor, tests) can embed it in their own structs or allocate it statically.
 *
 * Separate from duet/image.h because it needs the SHA-256 context type (duet/crypto.h,
 * which includes an mbedTLS header); image.h stays includable by core-1 code that has
 * no mbedTLS. Treat every member as private: use the duet_img_stream_* functions.
 * The layout may change between versions (it is never stored or sent anywhere).
 */
#ifndef DUET_IMAGE_STREAM_H
#define DUET_IMAGE_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "duet/crypto.h"
#include "duet/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest TLV value the walker keeps (longer values are hashed and skipped). Covers
 * every TLV the verifier interprets: NAME (31), BUILD_TIME (8), SHA256 (32),
 * KEY_ID (8), ECDSA_P256 (64). */
#define DUET_IMG_TLV_KEEP 64u

/** Incremental TLV walker (core/tlv.c), shared by the protected area and the trailer. */
typedef struct {
    uint32_t left;   /* bytes of the area not consumed yet */
    uint8_t hdr[4];  /* TLV header being collected */
    uint8_t hdr_len; /* bytes of hdr[] collected; 4 = inside value/padding */
    uint16_t type;
    uint16_t len;
    uint32_t pos; /* value + padding bytes consumed of the current TLV */
    uint8_t val[DUET_IMG_TLV_KEEP];
} duet_img_tlv_walk_t;

struct duet_img_stream {
    const duet_img_policy_t *pol; /* caller keeps it alive until finish/free */
    duet_err_t err;               /* sticky: first error, returned by every later call */
    uint8_t phase;                /* part of the image being received (image_stream.c) */
    bool sha_live;                /* sha holds state that must be freed */
    bool psha_live;               /* psha holds state that must be freed */
    bool authenticated;           /* head (signature included) verified */
    bool table_ok;                /* header + segment table verified: peek is valid */
    bool have_sha, have_key_id, have_sig, have_name, have_time, have_git, have_payload_sha;
    uint32_t off;                        /* image bytes consumed */
    uint32_t part_end;                   /* image offset where the current part ends */
    uint32_t file_cursor;                /* next expected segment file offset in the payload */
    uint8_t seg_index;                   /* segment entries received */
    uint8_t buf_len;                     /* bytes collected in buf */
    uint8_t buf[DUET_IMG_HDR_SIZE];      /* fixed header, one segment entry, trailer header */
    uint8_t sha_want[DUET_IMG_HASH_LEN]; /* from the SHA256 TLV */
    uint8_t sig[DUET_IMG_SIG_LEN];       /* from the ECDSA_P256 TLV */
    uint8_t pol_key_ids[DUET_POLICY_MAX_KEYS][DUET_IMG_KEY_ID_LEN];
    duet_sha256_t sha;  /* over the head [0, head end) */
    duet_sha256_t psha; /* over the payload */
    uint8_t payload_got[DUET_IMG_HASH_LEN];
    duet_img_tlv_walk_t tlv;
    duet_img_info_t info; /* filled as the parts arrive */
};

#ifdef __cplusplus
}
#endif
#endif /* DUET_IMAGE_STREAM_H */
