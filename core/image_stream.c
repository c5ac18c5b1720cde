/*
 * image_stream.c - the streaming image verifier: bytes in, first broken rule out.
 *
 * The image is a sequence of parts; the verifier keeps only the part it is in and the
 * offset where that part ends:
 *
 *   FIXED   [0, 96)                    fixed header, collected in buf
 *   EXT     [96, hdr_size)             header extension, must be zero in format 2
 *   SEGS    [hdr_size, +16*seg_count)  one 16-byte entry at a time, collected in buf
 *   TLV     protected TLV area         TLV walker; end of the head (hash finished)
 *   TR_HDR  4-byte trailer header      collected in buf; gives the image size
 *   TR_TLV  trailer TLVs               TLV walker; at its end hash and signature of the
 *                                      head are checked: AUTHENTICATED
 *   PAYLOAD segment data               hashed only (no whole segment is ever buffered);
 *                                      XIP: the loaded segments' data only, then
 *   PAD     [.., ih_map_offset)        XIP: zero padding up to the mapped part (not hashed)
 *   MAP     [ih_map_offset, end)       XIP: the mapped segments' data, hashed like PAYLOAD
 *   DONE    any further byte is DUET_ERR_IMG_TRAILING_DATA
 *
 * Every check fires at a fixed byte position (the end of the field or part it needs),
 * never at a chunk boundary, so any chunking of the same bytes gives the same result.
 * Everything but the payload's digest and length is decided before the first payload
 * byte, which is what lets an OTA receiver write nothing until then.
 * The rules themselves live in image_check.c. Must not change: those properties.
 */
#include <string.h>

#include "image_priv.h"

enum { P_FIXED, P_EXT, P_SEGS, P_TLV, P_TR_HDR, P_TR_TLV, P_PAYLOAD, P_PAD, P_MAP, P_DONE };

static void free_hashes(duet_img_stream_t *s)
{
    if (s->sha_live)
        duet_crypto_sha256_free(&s->sha);
    if (s->psha_live)
        duet_crypto_sha256_free(&s->psha);
    s->sha_live = s->psha_live = false;
}

static duet_err_t fail(duet_img_stream_t *s, duet_err_t e)
{
    s->err = e;
    free_hashes(s);
    return e;
}

size_t duet_img_stream_ctx_size(void)
{
    return sizeof(duet_img_stream_t);
}

duet_err_t duet_img_stream_init(duet_img_stream_t *s, const duet_img_policy_t *pol)
{
    if (s == NULL)
        return DUET_ERR_INVAL;
    memset(s, 0, sizeof *s);
    s->pol = pol;
    s->phase = P_FIXED;
    s->part_end = DUET_IMG_HDR_SIZE;
    duet_err_t e = duet_img_check_policy(pol);
    for (unsigned k = 0; e == DUET_OK && k < pol->key_count; k++)
        e = duet_crypto_key_id(pol->keys[k], s->pol_key_ids[k]);
    if (e == DUET_OK)
        e = duet_crypto_sha256_init(&s->sha);
    if (e != DUET_OK)
        return fail(s, e);
    s->sha_live = true;
    return DUET_OK;
}

static duet_err_t payload_done(duet_img_stream_t *s)
{
    s->psha_live = false;
    DUET_TRY(duet_crypto_sha256_finish(&s->psha, s->payload_got));
    s->phase = P_DONE;
    return DUET_OK;
}

/* Leave the current part (its last byte has arrived): run the checks that need the
 * whole part, then set up the next one. */
static duet_err_t end_part(duet_img_stream_t *s)
{
    duet_img_info_t *in = &s->info;
    switch (s->phase) {
    case P_FIXED: {
        duet_img_hdr_decode(s->buf, &in->hdr);
        DUET_TRY(duet_img_check_hdr(&in->hdr, s->pol));
        uint32_t body;
        DUET_TRY(duet_img_layout(&in->hdr, &in->protected_size, &body));
        s->phase = P_EXT;
        s->part_end = in->hdr.ih_hdr_size;
        return DUET_OK;
    }
    case P_EXT:
        s->phase = P_SEGS;
        s->part_end = in->protected_size - in->hdr.ih_tlv_size;
        s->buf_len = 0;
        return DUET_OK;
    case P_SEGS:
        DUET_TRY(duet_img_check_table(in, s->pol, s->file_cursor));
        s->table_ok = true;
        s->phase = P_TLV;
        s->part_end = in->protected_size;
        duet_img_tlv_begin(&s->tlv, in->hdr.ih_tlv_size);
        return DUET_OK;
    case P_TLV:
        DUET_TRY(duet_img_check_tlv_end(s));
        s->sha_live = false;
        DUET_TRY(duet_crypto_sha256_finish(&s->sha, in->sha256));
        s->phase = P_TR_HDR;
        s->part_end = in->protected_size + 4u;
        s->buf_len = 0;
        return DUET_OK;
    case P_TR_HDR:
        DUET_TRY(duet_img_check_trailer_hdr(s, s->buf));
        s->phase = P_TR_TLV;
        s->part_end = in->payload_offset;
        duet_img_tlv_begin(&s->tlv, in->payload_offset - in->protected_size - 4u);
        return DUET_OK;
    case P_TR_TLV:
        DUET_TRY(duet_img_check_auth(s));
        DUET_TRY(duet_crypto_sha256_init(&s->psha));
        s->psha_live = true;
        s->authenticated = true;
        s->phase = P_PAYLOAD;
        s->part_end = in->total_size;
        if (in->hdr.ih_flags & DUET_IMG_F_XIP)
            s->part_end = in->payload_offset + duet_img_map_start(&in->hdr);
        return DUET_OK;
    case P_PAYLOAD:
        if (!(in->hdr.ih_flags & DUET_IMG_F_XIP))
            return payload_done(s); /* RAM image: the payload is complete */
        s->phase = P_PAD;
        s->part_end = in->hdr.ih_map_offset;
        return DUET_OK;
    case P_MAP:
        return payload_done(s);
    default: /* P_PAD */
        s->phase = P_MAP;
        s->part_end = in->total_size;
        return DUET_OK;
    }
}

/* Take n bytes (n never crosses the end of the current part); *used < n only on error. */
static duet_err_t consume(duet_img_stream_t *s, const uint8_t *p, size_t n, size_t *used)
{
    *used = n;
    switch (s->phase) {
    case P_FIXED: {
        unsigned before = s->buf_len;
        memcpy(s->buf + before, p, n);
        s->buf_len = (uint8_t)(before + n);
        if (before < 4 && s->buf_len >= 4)
            return duet_img_check_magic(s->buf); /* early: a random file says "bad magic" */
        return DUET_OK;
    }
    case P_EXT:
        for (size_t i = 0; i < n; i++)
            if (p[i] != 0)
                return DUET_ERR_IMG_RESERVED;
        return DUET_OK;
    case P_SEGS:
        for (size_t i = 0; i < n; i++) {
            s->buf[s->buf_len++] = p[i];
            if (s->buf_len < DUET_IMG_SEG_SIZE)
                continue;
            s->buf_len = 0;
            duet_img_seg_decode(s->buf, &s->info.segs[s->seg_index]);
            duet_err_t e = duet_img_check_seg(&s->info, s->seg_index++, s->pol, &s->file_cursor);
            if (e != DUET_OK) {
                *used = i + 1;
                return e;
            }
        }
        return DUET_OK;
    case P_TLV:
        return duet_img_tlv_feed(&s->tlv, p, n, used, duet_img_check_ptlv, s);
    case P_TR_HDR:
        memcpy(s->buf + s->buf_len, p, n);
        s->buf_len = (uint8_t)(s->buf_len + n);
        return DUET_OK;
    case P_TR_TLV:
        return duet_img_tlv_feed(&s->tlv, p, n, used, duet_img_check_ttlv, s);
    case P_PAD:
        /* No hidden bytes: the padding before the mapped part is zero. */
        for (size_t i = 0; i < n; i++)
            if (p[i] != 0) {
                *used = i + 1;
                return DUET_ERR_IMG_PAYLOAD_LAYOUT;
            }
        return DUET_OK;
    default: /* P_PAYLOAD, P_MAP */
        return duet_crypto_sha256_update(&s->psha, p, n);
    }
}

duet_err_t duet_img_stream_feed(duet_img_stream_t *s, const void *data, size_t len)
{
    if (s == NULL)
        return DUET_ERR_INVAL;
    if (s->err != DUET_OK)
        return s->err;
    if (data == NULL && len > 0)
        return fail(s, DUET_ERR_INVAL);
    const uint8_t *p = data;
    for (;;) {
        while (s->phase != P_DONE && s->off == s->part_end) {
            duet_err_t e = end_part(s);
            if (e != DUET_OK)
                return fail(s, e);
        }
        if (len == 0)
            return DUET_OK;
        if (s->phase == P_DONE)
            return fail(s, DUET_ERR_IMG_TRAILING_DATA);
        size_t n = s->part_end - s->off, used;
        if (n > len)
            n = len;
        duet_err_t e = consume(s, p, n, &used);
        if (s->phase <= P_TLV && e == DUET_OK)
            e = duet_crypto_sha256_update(&s->sha, p, used); /* the head */
        if (e != DUET_OK)
            return fail(s, e);
        s->off += (uint32_t)used;
        p += used;
        len -= used;
    }
}

duet_err_t duet_img_stream_finish(duet_img_stream_t *s, duet_img_info_t *info)
{
    if (s == NULL)
        return DUET_ERR_INVAL;
    if (s->err != DUET_OK)
        return s->err;
    if (s->phase != P_DONE)
        return fail(s, DUET_ERR_IMG_TRUNCATED);
    duet_err_t e = duet_img_check_final(s);
    if (e != DUET_OK)
        return fail(s, e);
    if (info)
        *info = s->info;
    return DUET_OK;
}

const duet_img_info_t *duet_img_stream_peek(const duet_img_stream_t *s)
{
    return s && s->table_ok ? &s->info : NULL;
}

bool duet_img_stream_authenticated(const duet_img_stream_t *s)
{
    return s != NULL && s->err == DUET_OK && s->authenticated;
}

uint32_t duet_img_stream_needed(const duet_img_stream_t *s)
{
    if (s == NULL || s->err != DUET_OK || s->phase == P_DONE)
        return 0;
    /* Never 0 here: feed() leaves every part whose last byte arrived (also empty ones). */
    return s->part_end - s->off;
}

void duet_img_stream_free(duet_img_stream_t *s)
{
    if (s == NULL)
        return;
    free_hashes(s);
    if (s->err == DUET_OK)
        s->err = DUET_ERR_STATE; /* freed: later calls fail instead of using stale state */
}
