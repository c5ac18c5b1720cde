/*
 * tlv.c - incremental walker and writer for duet image TLVs (protected area and trailer).
 *
 * A TLV is: u16 type, u16 len (little-endian), len value bytes, then zero bytes up to
 * the next multiple of 4. The walker takes the area in pieces of any size (down to one
 * byte) and treats every length as hostile: a header that does not fit in the area, a
 * value + padding running past the area end, or non-zero padding is DUET_ERR_IMG_BAD_TLV.
 * What a TLV means is not decided here: the caller's function judges each complete TLV.
 * Must not change: the encoding above (it is the on-disk format).
 */
#include <string.h>

#include "image_priv.h"

void duet_img_tlv_begin(duet_img_tlv_walk_t *w, uint32_t area_size)
{
    memset(w, 0, sizeof *w);
    w->left = area_size;
}

duet_err_t duet_img_tlv_feed(duet_img_tlv_walk_t *w, const uint8_t *p, size_t n, size_t *used,
                             duet_img_tlv_fn fn, void *ctx)
{
    size_t i = 0;
    *used = 0;
    while (i < n && w->left > 0) {
        if (w->hdr_len < 4) {
            /* A header needs 4 bytes in the area; the area size is a multiple of 4 and
             * every TLV a multiple of 4, so this only fails on a corrupt area size. */
            if (w->hdr_len == 0 && w->left < 4)
                return DUET_ERR_IMG_BAD_TLV;
            w->hdr[w->hdr_len++] = p[i++];
            w->left--;
            if (w->hdr_len < 4)
                continue;
            w->type = img_le16(w->hdr);
            w->len = img_le16(w->hdr + 2);
            w->pos = 0;
            if (duet_img_tlv_size(w->len) - 4u > w->left)
                return DUET_ERR_IMG_BAD_TLV;
        } else {
            uint8_t b = p[i++];
            w->left--;
            if (w->pos < w->len) {
                if (w->pos < DUET_IMG_TLV_KEEP)
                    w->val[w->pos] = b;
            } else if (b != 0) {
                return DUET_ERR_IMG_BAD_TLV; /* padding must be zero: no hidden bytes */
            }
            w->pos++;
        }
        if (w->pos == duet_img_tlv_size(w->len) - 4u) {
            w->hdr_len = 0; /* next TLV */
            duet_err_t e = fn(ctx, w->type, w->len, w->val);
            if (e != DUET_OK) {
                *used = i;
                return e;
            }
        }
    }
    *used = i;
    return DUET_OK;
}

size_t duet_img_tlv_put(uint8_t *out, uint16_t type, const void *val, uint16_t len)
{
    size_t total = duet_img_tlv_size(len);
    img_put16(out, type);
    img_put16(out + 2, len);
    if (len)
        memcpy(out + 4, val, len);
    memset(out + 4 + len, 0, total - 4 - len);
    return total;
}
