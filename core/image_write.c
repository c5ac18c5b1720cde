/*
 * image_write.c - image writer (host tools and tests): a description in, image bytes out.
 *
 * Layout produced (docs/image-format.md, format 2): 96-byte header, segment table,
 * protected TLVs (PAYLOAD_SHA256, NAME, BUILD_TIME, GIT, then extra_tlvs as given), a
 * trailer holding the SHA-256 of that head only (duet_img_sign adds key id and
 * signature), then the payload = the data of every non-BSS segment in table order,
 * back to back.
 * The writer encodes and does not judge: the verifier is the only gate, and tests build
 * broken images with this very code. Must not change: the order above (the golden example
 * in tests/image/ and the doc's hex dump depend on it).
 */
#include <stdlib.h>
#include <string.h>

#include "duet/crypto.h"
#include "image_priv.h"

void duet_img_put_trailer(uint8_t *out, const uint8_t sha[DUET_IMG_HASH_LEN], const uint8_t *key_id,
                          const uint8_t *sig)
{
    bool with_sig = key_id != NULL && sig != NULL;
    img_put16(out, DUET_IMG_TRAILER_MAGIC);
    img_put16(out + 2, (uint16_t)duet_img_trailer_len(with_sig));
    out += 4;
    out += duet_img_tlv_put(out, DUET_TLV_SHA256, sha, DUET_IMG_HASH_LEN);
    if (with_sig) {
        out += duet_img_tlv_put(out, DUET_TLV_KEY_ID, key_id, DUET_IMG_KEY_ID_LEN);
        duet_img_tlv_put(out, DUET_TLV_ECDSA_P256, sig, DUET_IMG_SIG_LEN);
    }
}

static size_t opt_len(const char *s)
{
    return s ? strlen(s) : 0;
}

/* Sizes of the variable parts; INVAL when they cannot be encoded. */
static duet_err_t measure(const duet_img_desc_t *d, uint32_t *tlv_size, uint32_t *payload)
{
    if (d->seg_count > DUET_IMG_MAX_SEGS || (d->seg_count && d->segs == NULL) ||
        opt_len(d->name) > UINT16_MAX || opt_len(d->git) > UINT16_MAX || d->extra_tlvs_len % 4 ||
        (d->extra_tlvs_len && d->extra_tlvs == NULL))
        return DUET_ERR_INVAL;
    uint64_t t = d->extra_tlvs_len, p = 0;
    if (!d->no_payload_sha)
        t += duet_img_tlv_size(DUET_IMG_HASH_LEN);
    if (d->name)
        t += duet_img_tlv_size((uint32_t)opt_len(d->name));
    if (d->build_time)
        t += duet_img_tlv_size(8);
    if (d->git)
        t += duet_img_tlv_size((uint32_t)opt_len(d->git));
    for (unsigned i = 0; i < d->seg_count; i++) {
        if (d->segs[i].kind == DUET_SEG_BSS)
            continue;
        if (d->segs[i].data == NULL)
            return DUET_ERR_INVAL;
        p += d->segs[i].size;
    }
    if (t > UINT32_MAX / 2 || p > UINT32_MAX / 2)
        return DUET_ERR_INVAL;
    *tlv_size = (uint32_t)t;
    *payload = (uint32_t)p;
    return DUET_OK;
}

static uint8_t *put_tlvs(uint8_t *w, const duet_img_desc_t *d, const uint8_t *payload_sha)
{
    if (!d->no_payload_sha)
        w += duet_img_tlv_put(w, DUET_TLV_PAYLOAD_SHA256, payload_sha, DUET_IMG_HASH_LEN);
    if (d->name)
        w += duet_img_tlv_put(w, DUET_TLV_NAME, d->name, (uint16_t)strlen(d->name));
    if (d->build_time) {
        uint8_t t[8];
        img_put32(t, (uint32_t)d->build_time);
        img_put32(t + 4, (uint32_t)(d->build_time >> 32));
        w += duet_img_tlv_put(w, DUET_TLV_BUILD_TIME, t, 8);
    }
    if (d->git)
        w += duet_img_tlv_put(w, DUET_TLV_GIT, d->git, (uint16_t)strlen(d->git));
    if (d->extra_tlvs_len) {
        memcpy(w, d->extra_tlvs, d->extra_tlvs_len);
        w += d->extra_tlvs_len;
    }
    return w;
}

duet_err_t duet_img_write(const duet_img_desc_t *d, uint8_t **out, size_t *out_len)
{
    if (d == NULL || out == NULL || out_len == NULL)
        return DUET_ERR_INVAL;
    uint32_t tlv_size, payload;
    DUET_TRY(measure(d, &tlv_size, &payload));

    duet_img_hdr_t h;
    memset(&h, 0, sizeof h);
    h.ih_magic = DUET_IMG_MAGIC;
    h.ih_format = DUET_IMG_FORMAT;
    h.ih_hdr_size = DUET_IMG_HDR_SIZE;
    h.ih_chip = d->chip;
    h.ih_abi = d->abi;
    h.ih_flags = d->flags;
    h.ih_entry = d->entry;
    h.ih_stack_top = d->stack_top;
    h.ih_stack_size = d->stack_size;
    h.ih_vectors = d->vectors;
    h.ih_shm_version = d->shm_version;
    h.ih_seg_count = (uint8_t)d->seg_count;
    h.ih_ver_major = d->ver_major;
    h.ih_ver_minor = d->ver_minor;
    h.ih_ver_patch = d->ver_patch;
    h.ih_security_counter = d->security_counter;
    h.ih_tlv_size = tlv_size;
    h.ih_payload_size = payload;
    memcpy(h.ih_build_id, d->build_id, DUET_IMG_BUILD_ID_LEN);
    h.ih_build_id_len = d->build_id_len;
    h.ih_shm_base = d->shm_base;
    h.ih_shm_size = d->shm_size;

    uint32_t head_end, body;
    DUET_TRY(duet_img_layout(&h, &head_end, &body));
    uint32_t tr = duet_img_trailer_len(false), pay_off = head_end + tr;
    size_t total = (size_t)body + tr;
    uint8_t *img = malloc(total);
    if (img == NULL)
        return DUET_ERR_NOMEM;

    duet_img_hdr_encode(&h, img);
    uint8_t *w = img + DUET_IMG_HDR_SIZE;
    uint32_t file_off = 0;
    for (unsigned i = 0; i < d->seg_count; i++, w += DUET_IMG_SEG_SIZE) {
        const duet_img_seg_in_t *in = &d->segs[i];
        duet_img_seg_t s = {.is_kind = in->kind, .is_addr = in->addr, .is_size = in->size};
        if (in->kind != DUET_SEG_BSS) {
            s.is_offset = file_off;
            memcpy(img + pay_off + file_off, in->data, in->size);
            file_off += in->size;
        }
        duet_img_seg_encode(&s, w);
    }
    uint8_t psha[DUET_IMG_HASH_LEN], sha[DUET_IMG_HASH_LEN];
    duet_err_t e = duet_crypto_sha256(img + pay_off, payload, psha);
    if (e == DUET_OK) {
        put_tlvs(w, d, psha);
        e = duet_crypto_sha256(img, head_end, sha);
    }
    if (e != DUET_OK) {
        free(img);
        return e;
    }
    duet_img_put_trailer(img + head_end, sha, NULL, NULL);
    *out = img;
    *out_len = total;
    return DUET_OK;
}
