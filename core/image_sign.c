/*
 * image_sign.c - duet_img_sign: replace an image's trailer with SHA-256 + key id + ECDSA
 * P-256 signature. Host builds only (needs the private-key half of duet/crypto.h).
 *
 * What is signed: the SHA-256 of the head [0, head end) (header, segment table, TLV area
 * with the payload's digest), i.e. the same 32 bytes stored in the SHA256 TLV. The
 * trailer sits between head and payload (format 2), so the payload moves when the
 * trailer's size changes; in an XIP image only the loaded data moves (the padding before
 * the mapped part absorbs the difference, so ih_map_offset and the mapping stay put).
 * Must not change: that input (verifiers on the chip check it).
 */
#include <stdlib.h>
#include <string.h>

#include "duet/crypto.h"
#include "image_priv.h"

#ifdef DUET_CRYPTO_HOST_SIGNING

duet_err_t duet_img_sign(uint8_t **img, size_t *len, const uint8_t *key, size_t key_len)
{
    if (img == NULL || *img == NULL || len == NULL || key == NULL)
        return DUET_ERR_INVAL;
    if (*len < DUET_IMG_HDR_SIZE)
        return DUET_ERR_IMG_TRUNCATED;
    DUET_TRY(duet_img_check_magic(*img));
    duet_img_hdr_t h;
    duet_img_hdr_decode(*img, &h);
    uint32_t head_end, body;
    DUET_TRY(duet_img_layout(&h, &head_end, &body));
    if (*len < (size_t)head_end + 4u)
        return DUET_ERR_IMG_TRUNCATED;
    const uint8_t *tr = *img + head_end;
    uint32_t old_tr = img_le16(tr + 2);
    if (img_le16(tr) != DUET_IMG_TRAILER_MAGIC || old_tr < 4u)
        return DUET_ERR_IMG_BAD_TRAILER;
    bool xip = (h.ih_flags & DUET_IMG_F_XIP) != 0;
    size_t pay_len = xip ? duet_img_map_start(&h) : h.ih_payload_size; /* the part that moves */
    if (h.ih_map_size > h.ih_payload_size)
        return DUET_ERR_IMG_PAYLOAD_LAYOUT;
    if (*len < (size_t)head_end + old_tr + pay_len ||
        (xip && *len < (size_t)h.ih_map_offset + h.ih_map_size))
        return DUET_ERR_IMG_TRUNCATED;

    uint8_t sha[DUET_IMG_HASH_LEN], sig[DUET_IMG_SIG_LEN], pub[DUET_IMG_PUBKEY_LEN];
    uint8_t key_id[DUET_IMG_KEY_ID_LEN];
    DUET_TRY(duet_crypto_sha256(*img, head_end, sha));
    DUET_TRY(duet_crypto_privkey_public(key, key_len, pub));
    DUET_TRY(duet_crypto_key_id(pub, key_id));
    DUET_TRY(duet_crypto_sign(key, key_len, sha, sig));

    uint32_t new_tr = duet_img_trailer_len(true);
    size_t total = (size_t)head_end + new_tr + pay_len;
    if (xip) {
        if (total > h.ih_map_offset)
            return DUET_ERR_IMG_PAYLOAD_LAYOUT; /* no room before the mapped part */
        total = (size_t)h.ih_map_offset + h.ih_map_size;
    }
    uint8_t *n = calloc(1, total); /* zero: an XIP image's padding */
    if (n == NULL)
        return DUET_ERR_NOMEM; /* *img is still valid and unchanged */
    memcpy(n, *img, head_end);
    duet_img_put_trailer(n + head_end, sha, key_id, sig);
    memcpy(n + head_end + new_tr, *img + head_end + old_tr, pay_len);
    if (xip)
        memcpy(n + h.ih_map_offset, *img + h.ih_map_offset, h.ih_map_size);
    free(*img);
    *img = n;
    *len = total;
    return DUET_OK;
}

#else

duet_err_t duet_img_sign(uint8_t **img, size_t *len, const uint8_t *key, size_t key_len)
{
    (void)img; /* no private-key support in this build (ESP-IDF) */
    (void)len;
    (void)key;
    (void)key_len;
    return DUET_ERR_UNSUPPORTED;
}

#endif
