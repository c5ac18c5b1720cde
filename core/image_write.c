/*
 * image_write.c - image writer (host tools and tests): a description in, image bytes out.
 *
 * Layout produced (docs/image-format.md, format 2): 96-byte header, segment table,
 * protected TLVs (PAYLOAD_SHA256, NAME, BUILD_TIME, GIT, then extra_tlvs as given), a
 * trailer holding the SHA-256 of that head only (duet_img_sign adds key id and
 * signature), then the payload = the data of every non-BSS segment in table order,
 * back to back. XIP images (DUET_IMG_F_XIP): the mapped segments' data (the end of that
 * concatenation, ih_map_size bytes) sits at ih_map_offset instead, a 64 KiB page of the
 * slot, after zero padding; PAYLOAD_SHA256 still covers the concatenation only.
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

/* Logical payload layout: where logical offset 'off' lands in the image. */
typedef struct {
    uint32_t pay_off; /* image offset of logical offset 0 */
    uint32_t m0;      /* logical offset where the mapped part starts */
    uint32_t map_off; /* image offset of logical offset m0 */
} lay_t;

static void put_payload(uint8_t *img, const lay_t *l, uint32_t off, const uint8_t *src, uint32_t n)
{
    if (off < l->m0) {
        uint32_t k = l->m0 - off < n ? l->m0 - off : n;
        memcpy(img + l->pay_off + off, src, k);
        off += k;
        src += k;
        n -= k;
    }
    if (n)
        memcpy(img + l->map_off + (off - l->m0), src, n);
}

static duet_err_t hash_payload(const uint8_t *img, const lay_t *l, uint32_t payload,
                               uint8_t out[DUET_IMG_HASH_LEN])
{
    duet_sha256_t h;
    DUET_TRY(duet_crypto_sha256_init(&h));
    duet_err_t e = duet_crypto_sha256_update(&h, img + l->pay_off, l->m0);
    if (e == DUET_OK)
        e = duet_crypto_sha256_update(&h, img + l->map_off, payload - l->m0);
    if (e != DUET_OK) {
        duet_crypto_sha256_free(&h);
        return e;
    }
    return duet_crypto_sha256_finish(&h, out);
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
    if (d->flags & DUET_IMG_F_XIP) {
        for (unsigned i = 0; i < d->seg_count; i++)
            if (duet_img_seg_mapped(d->segs[i].kind))
                h.ih_map_size += d->segs[i].size; /* measure() bounded the sum */
        h.ih_map_addr = d->map_addr;
    }

    uint32_t head_end, body;
    DUET_TRY(duet_img_layout(&h, &head_end, &body));
    uint32_t tr = duet_img_trailer_len(false);
    lay_t l = {head_end + tr, payload - h.ih_map_size, 0};
    size_t total = (size_t)body + tr;
    if (d->flags & DUET_IMG_F_XIP) {
        /* Room for the largest trailer: signing never moves the mapped part. */
        uint64_t least = (uint64_t)head_end + DUET_IMG_TRAILER_MAX + l.m0;
        uint64_t off = d->map_offset ? d->map_offset
                                     : (least + DUET_XIP_PAGE - 1u) / DUET_XIP_PAGE * DUET_XIP_PAGE;
        if (off + h.ih_map_size > UINT32_MAX / 2 || off < (uint64_t)l.pay_off + l.m0)
            return DUET_ERR_INVAL;
        h.ih_map_offset = (uint32_t)off;
        total = (size_t)off + h.ih_map_size;
    }
    l.map_off = h.ih_map_offset;
    uint8_t *img = calloc(1, total); /* zero: the padding before the mapped part */
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
            put_payload(img, &l, file_off, in->data, in->size);
            file_off += in->size;
        }
        duet_img_seg_encode(&s, w);
    }
    uint8_t psha[DUET_IMG_HASH_LEN], sha[DUET_IMG_HASH_LEN];
    duet_err_t e = hash_payload(img, &l, payload, psha);
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
