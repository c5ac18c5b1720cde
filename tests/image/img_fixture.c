/*
 * img_fixture.c - see img_fixture.h. Everything here either builds inputs or compares
 * verifier results; no expected result is computed by re-implementing a rule.
 */
#include "img_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const duet_mem_region_t host_regions[] = {
    {FX_HOST_X, 64u << 20, FX_HOST_X, DUET_MEM_R | DUET_MEM_X},
    {FX_HOST_RW, 16u << 20, FX_HOST_RW, DUET_MEM_R | DUET_MEM_W},
};
static const duet_mem_region_t s3_regions[] = {
    {FX_S3_IRAM, FX_S3_WIN, FX_S3_DRAM, DUET_MEM_X},              /* IRAM alias: fetch only */
    {FX_S3_DRAM, FX_S3_WIN, FX_S3_DRAM, DUET_MEM_R | DUET_MEM_W}, /* DRAM alias of the same SRAM */
};

static void policy_common(duet_img_policy_t *p)
{
    p->min_security_counter = 3;
    p->max_image_size = 1u << 20;
    p->shm_version = 1;
    p->key_count = 1;
    fx_pubkey("keys/test_key.pub.pem", p->keys[0]);
}

void fx_policy_host(duet_img_policy_t *p)
{
    memset(p, 0, sizeof *p);
    p->regions = host_regions;
    p->region_count = 2;
    p->chip = DUET_CHIP_HOST;
    p->abi = DUET_ABI_HOST;
    p->xip = (duet_xip_window_t){FX_HOST_XIP, FX_HOST_XIP, 16u << 20};
    policy_common(p);
}

void fx_policy_s3(duet_img_policy_t *p)
{
    memset(p, 0, sizeof *p);
    p->regions = s3_regions;
    p->region_count = 2;
    p->xip = (duet_xip_window_t){FX_S3_XIP, FX_S3_XIP_D, 4u << 20};
    p->chip = DUET_CHIP_ESP32S3;
    p->abi = DUET_ABI_WINDOWED;
    policy_common(p);
}

static uint8_t code[0x200], rodata[0x40], data[0x40];

static void fill(void)
{
    for (unsigned i = 0; i < sizeof code; i++)
        code[i] = (uint8_t)(i * 7 + 1);
    for (unsigned i = 0; i < sizeof rodata; i++)
        rodata[i] = (uint8_t)('a' + i % 26);
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(0xA0 + i);
}

static void desc_common(fx_desc_t *f)
{
    fill();
    memset(f, 0, sizeof *f);
    duet_img_desc_t *d = &f->d;
    d->shm_version = 1;
    d->ver_major = 1;
    d->ver_minor = 2;
    d->ver_patch = 3;
    d->security_counter = 5;
    for (unsigned i = 0; i < DUET_IMG_BUILD_ID_LEN; i++)
        d->build_id[i] = (uint8_t)(0xB0 + i);
    d->build_id_len = DUET_IMG_BUILD_ID_LEN;
    d->name = "blink";
    d->segs = f->segs;
    d->seg_count = 4;
}

void fx_desc_host(fx_desc_t *f)
{
    desc_common(f);
    duet_img_desc_t *d = &f->d;
    d->chip = DUET_CHIP_HOST;
    d->abi = DUET_ABI_HOST;
    d->entry = FX_HOST_X + 0x10;
    d->stack_top = FX_HOST_RW + 0x10000;
    d->stack_size = 0x1000;
    f->segs[0] = (duet_img_seg_in_t){DUET_SEG_CODE, FX_HOST_X, 0x100, code};
    f->segs[1] = (duet_img_seg_in_t){DUET_SEG_RODATA, FX_HOST_X + 0x100, 0x40, rodata};
    f->segs[2] = (duet_img_seg_in_t){DUET_SEG_DATA, FX_HOST_RW, 0x20, data};
    f->segs[3] = (duet_img_seg_in_t){DUET_SEG_BSS, FX_HOST_RW + 0x20, 0x40, NULL};
}

void fx_desc_s3(fx_desc_t *f)
{
    desc_common(f);
    duet_img_desc_t *d = &f->d;
    d->chip = DUET_CHIP_ESP32S3;
    d->abi = DUET_ABI_WINDOWED;
    d->entry = 0x403B9900u;
    d->vectors = 0x403B9800u;
    d->stack_top = 0x3FCE9700u;
    d->stack_size = 0x1000;
    f->segs[0] = (duet_img_seg_in_t){DUET_SEG_CODE, 0x403B9800u, 0x200, code};
    f->segs[1] = (duet_img_seg_in_t){DUET_SEG_DATA, 0x3FCCA000u, 0x40, data};
    f->segs[2] = (duet_img_seg_in_t){DUET_SEG_RODATA, 0x3FCCA100u, 0x40, rodata};
    f->segs[3] = (duet_img_seg_in_t){DUET_SEG_BSS, 0x3FCCA200u, 0x100, NULL};
}

void fx_desc_s3_xip(fx_desc_t *f)
{
    fx_desc_s3(f);
    duet_img_desc_t *d = &f->d;
    d->flags = DUET_IMG_F_XIP;
    d->map_addr = FX_S3_XIP + 0x10000u;
    d->entry = FX_S3_XIP + 0x10010u;
    /* RAM part: vectors (CODE), DATA, BSS; then the mapped part: code on the IBUS,
     * .rodata right after it on the DBUS alias. */
    f->segs[0] = (duet_img_seg_in_t){DUET_SEG_CODE, 0x403B9800u, 0x100, code};
    f->segs[1] = (duet_img_seg_in_t){DUET_SEG_DATA, 0x3FCCA000u, 0x40, data};
    f->segs[2] = (duet_img_seg_in_t){DUET_SEG_BSS, 0x3FCCA200u, 0x100, NULL};
    f->segs[3] = (duet_img_seg_in_t){DUET_SEG_XIP, FX_S3_XIP + 0x10000u, 0x200, code};
    f->segs[4] = (duet_img_seg_in_t){DUET_SEG_XIP_RODATA, FX_S3_XIP_D + 0x10200u, 0x40, rodata};
    d->seg_count = 5;
}

uint8_t *fx_build(const fx_desc_t *f, size_t *len)
{
    uint8_t *img = NULL;
    assert_int_equal(duet_img_write(&f->d, &img, len), DUET_OK);
    return img;
}

uint8_t *fx_build_signed(const fx_desc_t *f, size_t *len, const char *keyfile)
{
    uint8_t *img = fx_build(f, len);
    size_t klen;
    uint8_t *key = fx_read_file(keyfile, &klen);
    assert_int_equal(duet_img_sign(&img, len, key, klen), DUET_OK);
    free(key);
    return img;
}

uint8_t *fx_read_file(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", DUET_TEST_DIR, rel);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        fail_msg("cannot open %s", path);
    uint8_t *buf = malloc(1 << 20); /* XIP images: the mapped part starts at 64 KiB or later */
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, fp);
    fclose(fp);
    return buf;
}

void fx_pubkey(const char *rel, uint8_t pub[DUET_IMG_PUBKEY_LEN])
{
    size_t n;
    uint8_t *pem = fx_read_file(rel, &n);
    assert_int_equal(duet_crypto_pubkey_load(pem, n, pub), DUET_OK);
    free(pem);
}

void fx_put8(uint8_t *img, size_t off, uint8_t v)
{
    img[off] = v;
}
void fx_put16(uint8_t *img, size_t off, uint16_t v)
{
    img[off] = (uint8_t)v;
    img[off + 1] = (uint8_t)(v >> 8);
}
void fx_put32(uint8_t *img, size_t off, uint32_t v)
{
    fx_put16(img, off, (uint16_t)v);
    fx_put16(img, off + 2, (uint16_t)(v >> 16));
}
uint32_t fx_get32(const uint8_t *img, size_t off)
{
    return img[off] | (uint32_t)img[off + 1] << 8 | (uint32_t)img[off + 2] << 16 |
           (uint32_t)img[off + 3] << 24;
}

uint32_t fx_prot_end(const uint8_t *img)
{
    uint32_t hdr = img[6] | (uint32_t)img[7] << 8;
    return hdr + 16u * img[30] + fx_get32(img, 40);
}

/* Format 2: the payload is the image's last ih_payload_size bytes. */
static size_t payload_off(const uint8_t *img, size_t len)
{
    uint32_t pay = fx_get32(img, 44);
    assert_true(pay <= len);
    return len - pay;
}

void fx_set_trailer(uint8_t **img, size_t *len, const uint8_t *tr, size_t n)
{
    uint32_t pe = fx_prot_end(*img);
    size_t po = payload_off(*img, *len), pay = *len - po;
    uint8_t *m = malloc(pe + n + pay);
    assert_non_null(m);
    memcpy(m, *img, pe);
    memcpy(m + pe, tr, n);
    memcpy(m + pe + n, *img + po, pay);
    free(*img);
    *img = m;
    *len = pe + n + pay;
}

void fx_rehash(uint8_t *img, size_t len)
{
    uint32_t pe = fx_prot_end(img);
    /* PAYLOAD_SHA256 in the protected TLV area (walked), then the head's SHA256. */
    uint32_t hdr = img[6] | (uint32_t)img[7] << 8;
    for (uint32_t t = hdr + 16u * img[30]; t + 4 <= pe;) {
        uint16_t type = (uint16_t)(img[t] | img[t + 1] << 8), l = (uint16_t)(img[t + 2] | img[t + 3] << 8);
        if (type == DUET_TLV_PAYLOAD_SHA256 && l == 32) {
            size_t po = payload_off(img, len);
            assert_int_equal(duet_crypto_sha256(img + po, len - po, img + t + 4), DUET_OK);
            break;
        }
        t += 4u + ((l + 3u) & ~3u);
    }
    assert_true(pe + 8 + 32 <= len);
    assert_int_equal(fx_get32(img, pe + 4) & 0xFFFF, DUET_TLV_SHA256);
    assert_int_equal(duet_crypto_sha256(img, pe, img + pe + 8), DUET_OK);
}

uint32_t fx_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* mode 0: 1-byte chunks; mode 1: random chunk sizes 1..300 (seeded by the image). */
static duet_err_t stream_verify(const uint8_t *img, size_t len, const duet_img_policy_t *pol,
                                duet_img_info_t *info, int mode)
{
    static duet_img_stream_t s; /* static: also shows the context needs no heap */
    uint32_t seed = (uint32_t)len * 2654435761u + 1;
    duet_err_t e = duet_img_stream_init(&s, pol);
    for (size_t off = 0; e == DUET_OK && off < len;) {
        size_t n = mode == 0 ? 1 : 1 + fx_rand(&seed) % 300;
        if (n > len - off)
            n = len - off;
        e = duet_img_stream_feed(&s, img + off, n);
        off += n;
    }
    if (e == DUET_OK)
        e = duet_img_stream_finish(&s, info);
    else /* sticky: a later call must report the same error */
        assert_int_equal(duet_img_stream_finish(&s, info), e);
    duet_img_stream_free(&s);
    return e;
}

typedef struct {
    const uint8_t *img;
    size_t len;
} mem_t;

static duet_err_t mem_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    const mem_t *m = ctx;
    if (off > m->len || n > m->len - off)
        fail_msg("reader read past avail: off %u n %zu", off, n);
    memcpy(buf, m->img + off, n);
    return DUET_OK;
}

static void same_info(const duet_img_info_t *a, const duet_img_info_t *b)
{
    assert_memory_equal(&a->hdr, &b->hdr, sizeof a->hdr);
    assert_memory_equal(a->segs, b->segs, sizeof a->segs[0] * a->hdr.ih_seg_count);
    assert_int_equal(a->payload_offset, b->payload_offset);
    assert_int_equal(a->protected_size, b->protected_size);
    assert_int_equal(a->total_size, b->total_size);
    assert_memory_equal(a->sha256, b->sha256, sizeof a->sha256);
    assert_int_equal(a->signed_ok, b->signed_ok);
    if (a->signed_ok)
        assert_memory_equal(a->key_id, b->key_id, sizeof a->key_id);
    assert_string_equal(a->name, b->name);
}

duet_err_t fx_verify_all(const uint8_t *img, size_t len, const duet_img_policy_t *pol,
                         duet_img_info_t *info)
{
    duet_img_info_t ib, i1, ir, id;
    duet_err_t eb = duet_img_verify_buf(img, len, pol, &ib);
    duet_err_t e1 = stream_verify(img, len, pol, &i1, 0);
    duet_err_t er = stream_verify(img, len, pol, &ir, 1);
    if (eb != e1 || eb != er)
        fail_msg("verifiers disagree: buf %s, stream/1 %s, stream/random %s", duet_err_name(eb),
                 duet_err_name(e1), duet_err_name(er));
    /* The reader never reads past the trailer, so it cannot see trailing data. */
    if (eb != DUET_ERR_IMG_TRAILING_DATA) {
        mem_t m = {img, len};
        duet_err_t ed = duet_img_verify_reader(mem_read, &m, (uint32_t)len, pol, &id);
        if (ed != eb)
            fail_msg("reader %s, buf %s", duet_err_name(ed), duet_err_name(eb));
    }
    if (eb == DUET_OK) {
        same_info(&ib, &i1);
        same_info(&ib, &ir);
        same_info(&ib, &id);
        if (info)
            *info = ib;
    }
    return eb;
}
