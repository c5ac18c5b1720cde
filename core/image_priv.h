/*
 * image_priv.h - internals shared by the core/image_*.c files and core/tlv.c.
 *
 * Organisation: little-endian byte access; header/segment codec; the TLV walker; the
 * validation rules (image_check.c). Each rule of docs/image-format.md is implemented
 * exactly once, in image_check.c; the stream verifier (image_stream.c) only routes
 * bytes to them, and the buffer/reader verifiers (image_verify.c) are built on the
 * stream, so every verifier reports the same first error for the same bytes.
 */
#ifndef DUET_IMAGE_PRIV_H
#define DUET_IMAGE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/image.h"
#include "duet/image_stream.h"

#ifndef DUET_INTERNAL
#if defined(__GNUC__) && !defined(_WIN32)
#define DUET_INTERNAL __attribute__((visibility("hidden")))
#else
#define DUET_INTERNAL
#endif
#endif

/* ---- little-endian access: byte loads/stores only (any host, no unaligned access) -- */
static inline uint16_t img_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t img_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void img_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void img_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- codec (image_check.c): on-disk bytes <-> host-endian structs ------------------- */
DUET_INTERNAL void duet_img_hdr_decode(const uint8_t raw[DUET_IMG_HDR_SIZE], duet_img_hdr_t *h);
DUET_INTERNAL void duet_img_hdr_encode(const duet_img_hdr_t *h, uint8_t raw[DUET_IMG_HDR_SIZE]);
DUET_INTERNAL void duet_img_seg_decode(const uint8_t raw[DUET_IMG_SEG_SIZE], duet_img_seg_t *s);
DUET_INTERNAL void duet_img_seg_encode(const duet_img_seg_t *s, uint8_t raw[DUET_IMG_SEG_SIZE]);
/** From a decoded header: where the head (header, table, TLV area: what the hash and
 *  signature cover) ends, and head + payload (the image without its trailer). Fails
 *  (DUET_ERR_IMG_TOO_BIG) when they do not fit in 32 bits. */
DUET_INTERNAL duet_err_t duet_img_layout(const duet_img_hdr_t *h, uint32_t *head_end,
                                         uint32_t *body_size);

/* ---- TLV walker (tlv.c) ---------------------------------------------------------------- */
/** Called once per complete TLV; val holds min(len, DUET_IMG_TLV_KEEP) bytes. */
typedef duet_err_t (*duet_img_tlv_fn)(void *ctx, uint16_t type, uint16_t len, const uint8_t *val);
DUET_INTERNAL void duet_img_tlv_begin(duet_img_tlv_walk_t *w, uint32_t area_size);
/** Consume at most min(n, w->left) bytes, calling fn for each TLV completed; *used
 *  says how many. Structural errors: DUET_ERR_IMG_BAD_TLV. */
DUET_INTERNAL duet_err_t duet_img_tlv_feed(duet_img_tlv_walk_t *w, const uint8_t *p, size_t n,
                                           size_t *used, duet_img_tlv_fn fn, void *ctx);
/** Append one TLV (header, value, zero padding) at out; returns bytes written. */
DUET_INTERNAL size_t duet_img_tlv_put(uint8_t *out, uint16_t type, const void *val, uint16_t len);
/** Bytes one TLV with a value of len bytes occupies (header + padded value). */
static inline uint32_t duet_img_tlv_size(uint32_t len)
{
    return 4u + ((len + 3u) & ~3u);
}

/* ---- trailer writer (image_write.c), shared with the signer ------------------------- */
/** Bytes of a trailer with SHA256 only, or with SHA256 + KEY_ID + ECDSA_P256. */
static inline uint32_t duet_img_trailer_len(bool with_sig)
{
    return 4u + duet_img_tlv_size(DUET_IMG_HASH_LEN) +
           (with_sig ? duet_img_tlv_size(DUET_IMG_KEY_ID_LEN) + duet_img_tlv_size(DUET_IMG_SIG_LEN)
                     : 0u);
}
/** Write the trailer at out; key_id and sig both NULL for an unsigned image. */
DUET_INTERNAL void duet_img_put_trailer(uint8_t *out, const uint8_t sha[DUET_IMG_HASH_LEN],
                                        const uint8_t *key_id, const uint8_t *sig);

/* ---- validation rules (image_check.c), in the order the stream applies them -------- */
DUET_INTERNAL duet_err_t duet_img_check_policy(const duet_img_policy_t *pol);
DUET_INTERNAL duet_err_t duet_img_check_magic(const uint8_t raw[4]);
DUET_INTERNAL duet_err_t duet_img_check_hdr(const duet_img_hdr_t *h, const duet_img_policy_t *pol);
/** Segment entry i (info->segs[i] already decoded); *file_cursor tracks the payload. */
DUET_INTERNAL duet_err_t duet_img_check_seg(const duet_img_info_t *info, unsigned i,
                                            const duet_img_policy_t *pol, uint32_t *file_cursor);
/** Rules spanning the whole table (overlap, payload coverage, entry, vectors, stack). */
DUET_INTERNAL duet_err_t duet_img_check_table(const duet_img_info_t *info,
                                              const duet_img_policy_t *pol, uint32_t file_cursor);
/** A complete protected TLV; s->have_* and s->info.name are updated. */
DUET_INTERNAL duet_err_t duet_img_check_ptlv(void *stream, uint16_t type, uint16_t len,
                                             const uint8_t *val);
/** End of the protected TLV area: the required TLVs are there. */
DUET_INTERNAL duet_err_t duet_img_check_tlv_end(duet_img_stream_t *s);
/** Trailer header (magic, size); sets s->info.payload_offset and total_size. */
DUET_INTERNAL duet_err_t duet_img_check_trailer_hdr(duet_img_stream_t *s, const uint8_t raw[4]);
/** A complete trailer TLV. */
DUET_INTERNAL duet_err_t duet_img_check_ttlv(void *stream, uint16_t type, uint16_t len,
                                             const uint8_t *val);
/** After the trailer, before any payload byte: key id/signature pairing, head hash,
 *  signature. */
DUET_INTERNAL duet_err_t duet_img_check_auth(duet_img_stream_t *s);
/** After the whole image: the payload's digest. */
DUET_INTERNAL duet_err_t duet_img_check_final(duet_img_stream_t *s);

#endif /* DUET_IMAGE_PRIV_H */
