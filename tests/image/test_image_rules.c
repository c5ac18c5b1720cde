/*
 * test_image_rules.c - one test per verifier rule (docs/image-format.md, "Validation
 * rules"): a valid reference image is built with the writer, one thing is broken, and
 * every verifier (buffer, stream in 1-byte and random chunks, reader) must reject it
 * with that rule's own error code.
 */
#include <stdlib.h>
#include <string.h>

#include "img_fixture.h"

typedef struct {
    fx_desc_t f;
    duet_img_policy_t pol;
    uint8_t *img;
    size_t len;
} ctx_t;

static ctx_t *host(void)
{
    static ctx_t c;
    fx_desc_host(&c.f);
    fx_policy_host(&c.pol);
    return &c;
}

static ctx_t *s3(void)
{
    static ctx_t c;
    fx_desc_s3(&c.f);
    fx_policy_s3(&c.pol);
    return &c;
}

/* Build c->f, apply nothing, verify: expect 'want'. */
static void build_expect(ctx_t *c, duet_err_t want)
{
    c->img = fx_build(&c->f, &c->len);
    assert_err(fx_verify_all(c->img, c->len, &c->pol, NULL), want);
    free(c->img);
}

/* Verify an already built/patched image, then free it. */
static void expect(ctx_t *c, duet_err_t want)
{
    assert_err(fx_verify_all(c->img, c->len, &c->pol, NULL), want);
    free(c->img);
}

/* ---- accepted images ------------------------------------------------------------------- */

static void test_host_image_verifies(void **st)
{
    ctx_t *c = host();
    c->img = fx_build(&c->f, &c->len);
    duet_img_info_t info;
    assert_err(fx_verify_all(c->img, c->len, &c->pol, &info), DUET_OK);
    assert_int_equal(info.hdr.ih_entry, FX_HOST_X + 0x10);
    assert_int_equal(info.hdr.ih_seg_count, 4);
    assert_int_equal(info.total_size, c->len);
    assert_false(info.signed_ok);
    assert_string_equal(info.name, "blink");
    free(c->img);
}

static void test_s3_image_verifies(void **st)
{
    build_expect(s3(), DUET_OK);
}

static void test_signed_image_verifies_with_trusted_key(void **st)
{
    ctx_t *c = s3();
    c->img = fx_build_signed(&c->f, &c->len, "keys/test_key.pem");
    duet_img_info_t info;
    c->pol.require_signature = true;
    assert_err(fx_verify_all(c->img, c->len, &c->pol, &info), DUET_OK);
    assert_true(info.signed_ok);
    free(c->img);
}

static void test_xip_image_verifies(void **st)
{
    ctx_t *c = s3();
    fx_desc_s3_xip(&c->f);
    build_expect(c, DUET_OK);
    /* The vector table must be in RAM code, not in the flash mapping (VECBASE must
     * stay valid while flash operations disable the cache). */
    c = s3();
    fx_desc_s3_xip(&c->f);
    c->f.d.vectors = FX_S3_XIP + 0x10000;
    build_expect(c, DUET_ERR_IMG_BAD_VECTORS);
}

static void test_unknown_noncritical_tlvs_are_skipped(void **st)
{
    ctx_t *c = host();
    static const uint8_t extra[] = {0x77, 0x00, 0x03, 0x00, 1, 2, 3, 0};
    c->f.d.extra_tlvs = extra;
    c->f.d.extra_tlvs_len = sizeof extra;
    c->f.d.build_time = 1700000000;
    c->f.d.git = "v1.0-3-gabcdef";
    build_expect(c, DUET_OK);
}

static void test_header_extension_of_zeros_is_accepted(void **st)
{
    ctx_t *c = host();
    size_t n;
    uint8_t *img = fx_build(&c->f, &n);
    c->img = malloc(n + 8);
    memcpy(c->img, img, 96);
    memset(c->img + 96, 0, 8);
    memcpy(c->img + 104, img + 96, n - 96);
    c->len = n + 8;
    fx_put16(c->img, 6, 104);
    fx_rehash(c->img, c->len);
    assert_err(fx_verify_all(c->img, c->len, &c->pol, NULL), DUET_OK);
    c->img[100] = 1;
    fx_rehash(c->img, c->len);
    free(img);
    expect(c, DUET_ERR_IMG_RESERVED);
}

/* ---- fixed header ----------------------------------------------------------------------- */

static void test_empty_and_short_inputs_are_truncated(void **st)
{
    ctx_t *c = host();
    assert_err(fx_verify_all((const uint8_t *)"", 0, &c->pol, NULL), DUET_ERR_IMG_TRUNCATED);
    assert_err(fx_verify_all((const uint8_t *)"DUE", 3, &c->pol, NULL), DUET_ERR_IMG_TRUNCATED);
    assert_err(fx_verify_all((const uint8_t *)"DUET", 4, &c->pol, NULL), DUET_ERR_IMG_TRUNCATED);
}

static void test_wrong_magic(void **st)
{
    ctx_t *c = host();
    assert_err(fx_verify_all((const uint8_t *)"MZ\x90\x00", 4, &c->pol, NULL),
               DUET_ERR_IMG_BAD_MAGIC);
    c->img = fx_build(&c->f, &c->len);
    c->img[3] ^= 0x20;
    expect(c, DUET_ERR_IMG_BAD_MAGIC);
}

static void patch_hdr_expect(ctx_t *c, size_t off, unsigned size, uint32_t v, duet_err_t want)
{
    c->img = fx_build(&c->f, &c->len);
    if (size == 1)
        fx_put8(c->img, off, (uint8_t)v);
    else if (size == 2)
        fx_put16(c->img, off, (uint16_t)v);
    else
        fx_put32(c->img, off, v);
    expect(c, want);
}

static void test_wrong_format_version(void **st)
{
    patch_hdr_expect(host(), 4, 2, 1, DUET_ERR_IMG_BAD_VERSION); /* format 1: trailer last */
    patch_hdr_expect(host(), 4, 2, 3, DUET_ERR_IMG_BAD_VERSION);
}

static void test_bad_header_sizes(void **st)
{
    patch_hdr_expect(host(), 6, 2, 92, DUET_ERR_IMG_BAD_HDR_SIZE);
    patch_hdr_expect(host(), 6, 2, 98, DUET_ERR_IMG_BAD_HDR_SIZE);
    patch_hdr_expect(host(), 6, 2, DUET_IMG_HDR_MAX + 4, DUET_ERR_IMG_BAD_HDR_SIZE);
}

static void test_wrong_chip(void **st)
{
    patch_hdr_expect(host(), 8, 1, DUET_CHIP_ESP32S3, DUET_ERR_IMG_WRONG_CHIP);
    ctx_t *c = host(); /* a host image offered to the chip */
    fx_policy_s3(&c->pol);
    build_expect(c, DUET_ERR_IMG_WRONG_CHIP);
}

static void test_wrong_abi(void **st)
{
    patch_hdr_expect(s3(), 9, 1, DUET_ABI_CALL0, DUET_ERR_IMG_WRONG_ABI);
}

static void test_unknown_flags(void **st)
{
    patch_hdr_expect(host(), 10, 2, 0x0004, DUET_ERR_IMG_BAD_FLAGS);
    patch_hdr_expect(host(), 10, 2, 0x8000, DUET_ERR_IMG_BAD_FLAGS);
}

static void test_xip_flag_must_match_segments(void **st)
{
    patch_hdr_expect(host(), 10, 2, DUET_IMG_F_XIP, DUET_ERR_IMG_XIP_ALIGN); /* no mapping */
    ctx_t *c = s3();
    fx_desc_s3_xip(&c->f);
    c->f.d.flags = 0; /* mapped segments in a RAM-mode image */
    build_expect(c, DUET_ERR_IMG_BAD_FLAGS);
}

static void test_reserved_header_bytes(void **st)
{
    patch_hdr_expect(host(), 31, 1, 1, DUET_ERR_IMG_RESERVED);
    patch_hdr_expect(host(), 70, 1, 1, DUET_ERR_IMG_RESERVED);
    patch_hdr_expect(host(), 95, 1, 0x80, DUET_ERR_IMG_RESERVED);
    /* the map fields (80..91) were reserved before XIP; in RAM mode they still are */
    patch_hdr_expect(host(), 80, 4, 0x10000, DUET_ERR_IMG_RESERVED);
    patch_hdr_expect(host(), 88, 4, 4, DUET_ERR_IMG_RESERVED);
}

static void test_bad_build_id(void **st)
{
    patch_hdr_expect(host(), 68, 1, 21, DUET_ERR_IMG_BAD_BUILD_ID);
    ctx_t *c = host();
    c->f.d.build_id_len = 16; /* bytes 16..19 are still non-zero */
    build_expect(c, DUET_ERR_IMG_BAD_BUILD_ID);
    c = host();
    c->f.d.build_id_len = 0;
    memset(c->f.d.build_id, 0, sizeof c->f.d.build_id);
    build_expect(c, DUET_OK);
}

static void test_segment_count(void **st)
{
    patch_hdr_expect(host(), 30, 1, 0, DUET_ERR_IMG_NO_SEGS);
    patch_hdr_expect(host(), 30, 1, 17, DUET_ERR_IMG_TOO_MANY_SEGS);
    patch_hdr_expect(host(), 30, 1, 255, DUET_ERR_IMG_TOO_MANY_SEGS);
}

static void test_header_alignment(void **st)
{
    patch_hdr_expect(host(), 40, 4, 2, DUET_ERR_IMG_BAD_ALIGN);                    /* tlv_size */
    patch_hdr_expect(host(), 44, 4, 0x162, DUET_ERR_IMG_BAD_ALIGN);                /* payload */
    patch_hdr_expect(host(), 16, 4, FX_HOST_RW + 0x10008, DUET_ERR_IMG_BAD_ALIGN); /* stack */
    patch_hdr_expect(host(), 20, 4, 0x1004, DUET_ERR_IMG_BAD_ALIGN);               /* stack size */
    patch_hdr_expect(s3(), 24, 4, 0x403B9900, DUET_ERR_IMG_BAD_ALIGN);             /* vectors */
}

static void test_image_too_big(void **st)
{
    ctx_t *c = host();
    c->img = fx_build(&c->f, &c->len);
    c->pol.max_image_size = (uint32_t)c->len - 1;
    expect(c, DUET_ERR_IMG_TOO_BIG);
    /* Decided from the header alone, before any payload arrives. */
    patch_hdr_expect(host(), 44, 4, 0xFFFFFF00u, DUET_ERR_IMG_TOO_BIG);
    /* A signed image whose protected part fits but whose trailer does not. */
    c = host();
    c->img = fx_build_signed(&c->f, &c->len, "keys/test_key.pem");
    c->pol.max_image_size = fx_prot_end(c->img) + DUET_IMG_TRAILER_MIN + fx_get32(c->img, 44);
    expect(c, DUET_ERR_IMG_TOO_BIG);
}

static void test_shm_version_mismatch(void **st)
{
    ctx_t *c = host();
    c->f.d.shm_version = 2;
    build_expect(c, DUET_ERR_IMG_SHM_VERSION);
    c = host();
    c->f.d.shm_version = 2;
    c->pol.shm_version = 0; /* policy does not care */
    build_expect(c, DUET_OK);
}

static void test_downgrade_is_rejected(void **st)
{
    ctx_t *c = host();
    c->f.d.security_counter = 2;
    build_expect(c, DUET_ERR_IMG_DOWNGRADE);
    c = host();
    c->f.d.security_counter = 3; /* equal to the minimum: allowed */
    build_expect(c, DUET_OK);
}

/* ---- segments --------------------------------------------------------------------------- */

static void test_segment_kind(void **st)
{
    patch_hdr_expect(host(), FX_SEG(0), 1, 0, DUET_ERR_IMG_BAD_SEG_KIND);
    patch_hdr_expect(host(), FX_SEG(1), 1, 7, DUET_ERR_IMG_BAD_SEG_KIND);
}

static void test_segment_reserved_fields(void **st)
{
    patch_hdr_expect(host(), FX_SEG(0) + 1, 1, 1, DUET_ERR_IMG_RESERVED);
    patch_hdr_expect(host(), FX_SEG(2) + 2, 2, 0x100, DUET_ERR_IMG_RESERVED);
}

static void test_segment_alignment(void **st)
{
    patch_hdr_expect(host(), FX_SEG(2) + 4, 4, FX_HOST_RW + 2, DUET_ERR_IMG_BAD_ALIGN);
    ctx_t *c = host();
    c->f.segs[3].size = 0x41;
    build_expect(c, DUET_ERR_IMG_BAD_ALIGN);
}

static void test_zero_size_segment(void **st)
{
    ctx_t *c = host();
    c->f.segs[3].size = 0;
    build_expect(c, DUET_ERR_IMG_SEG_EMPTY);
}

static void test_segment_address_overflow(void **st)
{
    ctx_t *c = host();
    c->f.segs[3].addr = 0xFFFFFF00u;
    c->f.segs[3].size = 0x200;
    build_expect(c, DUET_ERR_IMG_SEG_OVERFLOW);
}

static void test_segment_grown_past_window(void **st)
{
    ctx_t *c = s3();
    c->f.segs[3].size = FX_S3_DRAM + FX_S3_WIN - 0x3FCCA200u + 4; /* BSS 4 bytes too long */
    build_expect(c, DUET_ERR_IMG_SEG_OUTSIDE);
    c = s3();
    c->f.segs[1].addr = FX_S3_DRAM - 0x40; /* starts below the window */
    build_expect(c, DUET_ERR_IMG_SEG_OUTSIDE);
    c = host();
    c->f.segs[2].addr = 0x30000000u;
    build_expect(c, DUET_ERR_IMG_SEG_OUTSIDE);
}

static void test_segment_needs_permission(void **st)
{
    ctx_t *c = s3();
    c->f.segs[1].addr = 0x403BA000u; /* DATA through the IRAM alias: not writable */
    build_expect(c, DUET_ERR_IMG_SEG_PERM);
    c = s3();
    c->f.segs[0].addr = 0x3FCC9800u; /* CODE through the DRAM alias: not executable */
    c->f.d.entry = 0x3FCC9900u;
    c->f.d.vectors = 0x3FCC9800u;
    build_expect(c, DUET_ERR_IMG_SEG_PERM);
    c = s3();
    c->f.segs[2].addr = 0x403BA100u; /* RODATA in IRAM: byte loads would fault */
    build_expect(c, DUET_ERR_IMG_SEG_PERM);
}

static void test_segment_file_range(void **st)
{
    patch_hdr_expect(host(), FX_SEG(1) + 12, 4, 0x200, DUET_ERR_IMG_SEG_FILE_RANGE);
    patch_hdr_expect(host(), FX_SEG(3) + 12, 4, 4, DUET_ERR_IMG_SEG_FILE_RANGE); /* BSS */
}

static void test_payload_must_be_covered_exactly(void **st)
{
    /* A gap before segment 1 (hidden bytes). */
    patch_hdr_expect(host(), FX_SEG(1) + 12, 4, 0x104, DUET_ERR_IMG_PAYLOAD_LAYOUT);
    /* Two segments sharing file bytes. */
    patch_hdr_expect(host(), FX_SEG(1) + 12, 4, 0xFC, DUET_ERR_IMG_PAYLOAD_LAYOUT);
    /* Extra payload bytes after the last segment's data. */
    ctx_t *c = host();
    c->img = fx_build(&c->f, &c->len);
    uint8_t *m = malloc(c->len + 4);
    memcpy(m, c->img, c->len);
    memset(m + c->len, 0x5A, 4); /* format 2: the payload ends the image */
    free(c->img);
    c->img = m;
    c->len += 4;
    fx_put32(c->img, 44, fx_get32(c->img, 44) + 4);
    fx_rehash(c->img, c->len);
    expect(c, DUET_ERR_IMG_PAYLOAD_LAYOUT);
}

static void test_overlapping_segments(void **st)
{
    ctx_t *c = host();
    c->f.segs[3].addr = FX_HOST_RW + 0x10; /* BSS over DATA */
    build_expect(c, DUET_ERR_IMG_SEG_OVERLAP);
    c = host();
    c->f.segs[1].addr = FX_HOST_X + 0xFC; /* RODATA over the last word of CODE */
    build_expect(c, DUET_ERR_IMG_SEG_OVERLAP);
}

static void test_overlap_through_iram_dram_aliases(void **st)
{
    /* CODE at IRAM 0x403B9800 is the same SRAM as DRAM 0x3FCC9800. */
    ctx_t *c = s3();
    c->f.segs[1].addr = 0x3FCC9800u + 0x100;
    build_expect(c, DUET_ERR_IMG_SEG_OVERLAP);
    c = s3(); /* just after the code: fine */
    c->f.segs[1].addr = 0x3FCC9800u + 0x200;
    build_expect(c, DUET_OK);
}

static void test_entry_must_be_in_code(void **st)
{
    ctx_t *c = host();
    c->f.d.entry = FX_HOST_RW + 4; /* in DATA */
    build_expect(c, DUET_ERR_IMG_BAD_ENTRY);
    c = host();
    c->f.d.entry = FX_HOST_X + 0x104; /* in RODATA */
    build_expect(c, DUET_ERR_IMG_BAD_ENTRY);
    c = host();
    c->f.d.entry = FX_HOST_X + 0x10000; /* executable region, no segment */
    build_expect(c, DUET_ERR_IMG_BAD_ENTRY);
}

static void test_vectors_must_be_in_code(void **st)
{
    ctx_t *c = s3();
    c->f.d.vectors = 0x3FCCA000u; /* 1 KiB aligned, but DATA */
    build_expect(c, DUET_ERR_IMG_BAD_VECTORS);
    c = s3();
    c->f.d.vectors = 0x403BA000u; /* aligned, executable region, no segment */
    build_expect(c, DUET_ERR_IMG_BAD_VECTORS);
}

static void test_stack_must_be_writable(void **st)
{
    ctx_t *c = host();
    c->f.d.stack_top = FX_HOST_X + 0x100000; /* code region */
    build_expect(c, DUET_ERR_IMG_BAD_STACK);
    c = host();
    c->f.d.stack_size = 0;
    build_expect(c, DUET_ERR_IMG_BAD_STACK);
    c = host();
    c->f.d.stack_top = 0x100;
    c->f.d.stack_size = 0x1000; /* would wrap below 0 */
    build_expect(c, DUET_ERR_IMG_BAD_STACK);
    c = s3();
    c->f.d.stack_top = FX_S3_DRAM + FX_S3_WIN + 0x100 - 0x10; /* runs past the window end */
    c->f.d.stack_top &= ~0xFu;
    build_expect(c, DUET_ERR_IMG_BAD_STACK);
}

static void test_stack_must_not_overlap_segments(void **st)
{
    ctx_t *c = host();
    c->f.d.stack_top = FX_HOST_RW + 0x40; /* over DATA and BSS */
    c->f.d.stack_size = 0x20;
    build_expect(c, DUET_ERR_IMG_STACK_OVERLAP);
    c = s3(); /* stack in DRAM over the code's SRAM, seen through the other alias */
    c->f.d.stack_top = 0x3FCC9A00u;
    c->f.d.stack_size = 0x100;
    build_expect(c, DUET_ERR_IMG_STACK_OVERLAP);
}

/* ---- protected TLVs ------------------------------------------------------------------------ */

static void test_name_rules(void **st)
{
    ctx_t *c = host();
    c->f.d.name = "0123456789012345678901234567890"; /* 31: the longest allowed */
    build_expect(c, DUET_OK);
    c = host();
    c->f.d.name = "01234567890123456789012345678901"; /* 32 */
    build_expect(c, DUET_ERR_IMG_BAD_TLV);
    c = host();
    c->f.d.name = "";
    build_expect(c, DUET_ERR_IMG_BAD_TLV);
    static const uint8_t nul[] = {0x01, 0x00, 0x03, 0x00, 'a', 0, 'b', 0};
    c = host();
    c->f.d.name = NULL;
    c->f.d.extra_tlvs = nul;
    c->f.d.extra_tlvs_len = sizeof nul;
    build_expect(c, DUET_ERR_IMG_BAD_TLV);
    static const uint8_t dup[] = {0x01, 0x00, 0x01, 0x00, 'x', 0, 0, 0};
    c = host(); /* a second NAME */
    c->f.d.extra_tlvs = dup;
    c->f.d.extra_tlvs_len = sizeof dup;
    build_expect(c, DUET_ERR_IMG_BAD_TLV);
}

static void test_bad_tlv_length(void **st)
{
    static const uint8_t short_time[] = {0x02, 0x00, 0x04, 0x00, 1, 2, 3, 4};
    ctx_t *c = host();
    c->f.d.extra_tlvs = short_time;
    c->f.d.extra_tlvs_len = sizeof short_time;
    build_expect(c, DUET_ERR_IMG_BAD_TLV);
    /* NAME "blink" claims 9 bytes: its padded value would run past the area. */
    c = host();
    c->img = fx_build(&c->f, &c->len);
    size_t tlv = 96 + 16 * 4 + 36; /* after PAYLOAD_SHA256 */
    assert_int_equal(c->img[tlv], DUET_TLV_NAME);
    fx_put16(c->img, tlv + 2, 9);
    expect(c, DUET_ERR_IMG_BAD_TLV);
    /* Length 0xFFFF. */
    c = host();
    c->img = fx_build(&c->f, &c->len);
    fx_put16(c->img, tlv + 2, 0xFFFF);
    expect(c, DUET_ERR_IMG_BAD_TLV);
}

static void test_tlv_padding_must_be_zero(void **st)
{
    ctx_t *c = host();
    c->img = fx_build(&c->f, &c->len);
    size_t tlv = 96 + 16 * 4 + 36; /* after PAYLOAD_SHA256 */
    c->img[tlv + 4 + 5] = 'X'; /* "blink" is 5 bytes, then 3 padding bytes */
    expect(c, DUET_ERR_IMG_BAD_TLV);
}

static void test_unknown_critical_tlv(void **st)
{
    static const uint8_t crit[] = {0x10, 0x80, 0x00, 0x00};
    ctx_t *c = host();
    c->f.d.extra_tlvs = crit;
    c->f.d.extra_tlvs_len = sizeof crit;
    build_expect(c, DUET_ERR_IMG_TLV_CRITICAL);
}

/* Format 2: the head must carry the payload's digest, once, 32 bytes; the TLV area is
 * bounded (a receiver holds the whole head before it writes anything). */
static void test_payload_digest_tlv(void **st)
{
    ctx_t *c = host();
    c->f.d.no_payload_sha = true;
    build_expect(c, DUET_ERR_IMG_NO_HASH);
    static const uint8_t dup[36] = {0x04, 0x00, 0x20, 0x00}; /* a second PAYLOAD_SHA256 */
    c = host();
    c->f.d.extra_tlvs = dup;
    c->f.d.extra_tlvs_len = sizeof dup;
    build_expect(c, DUET_ERR_IMG_BAD_TLV);
    static const uint8_t shortd[8] = {0x04, 0x00, 0x04, 0x00, 1, 2, 3, 4};
    c = host();
    c->f.d.no_payload_sha = true;
    c->f.d.extra_tlvs = shortd;
    c->f.d.extra_tlvs_len = sizeof shortd;
    build_expect(c, DUET_ERR_IMG_BAD_TLV);
    static uint8_t big[DUET_IMG_TLV_MAX]; /* unknown non-critical TLV: area > 1024 */
    fx_put16(big, 0, 0x0077);
    fx_put16(big, 2, DUET_IMG_TLV_MAX - 4);
    c = host();
    c->f.d.extra_tlvs = big;
    c->f.d.extra_tlvs_len = sizeof big;
    build_expect(c, DUET_ERR_IMG_BAD_TLV);
    /* A payload changed after signing: its digest no longer matches. */
    c = host();
    c->img = fx_build(&c->f, &c->len);
    c->img[c->len - 20] ^= 0x10;
    expect(c, DUET_ERR_IMG_BAD_HASH);
}

/* The stream says "authenticated" exactly when the head (signature included) passed,
 * before the first payload byte: what an OTA receiver waits for before writing. */
static void test_stream_authenticated_before_the_payload(void **st)
{
    ctx_t *c = host();
    c->pol.require_signature = true;
    c->img = fx_build_signed(&c->f, &c->len, "keys/test_key.pem");
    size_t pay = c->len - fx_get32(c->img, 44);
    static duet_img_stream_t s;
    assert_err(duet_img_stream_init(&s, &c->pol), DUET_OK);
    assert_err(duet_img_stream_feed(&s, c->img, pay - 1), DUET_OK);
    assert_false(duet_img_stream_authenticated(&s));
    assert_err(duet_img_stream_feed(&s, c->img + pay - 1, 1), DUET_OK);
    assert_true(duet_img_stream_authenticated(&s));
    assert_err(duet_img_stream_feed(&s, c->img + pay, c->len - pay), DUET_OK);
    assert_err(duet_img_stream_finish(&s, NULL), DUET_OK);
    duet_img_stream_free(&s);
    /* A broken signature: refused at the end of the head, never authenticated. */
    c->img[pay - 40] ^= 1; /* inside s */
    assert_err(duet_img_stream_init(&s, &c->pol), DUET_OK);
    assert_err(duet_img_stream_feed(&s, c->img, pay), DUET_ERR_IMG_BAD_SIG);
    assert_false(duet_img_stream_authenticated(&s));
    duet_img_stream_free(&s);
    free(c->img);
}

/* A caller's list of already authenticated heads (head hash + signature bytes) skips
 * the ECDSA computation and nothing else. Shown with a forgery the list wrongly
 * contains: signed by the other key under the trusted key's id, refused without the
 * entry, accepted with it; any other difference (head, signature bytes) is checked. */
static void test_known_heads_skip_only_the_ecdsa_math(void **st)
{
    ctx_t *c = host();
    size_t n;
    uint8_t *good = fx_build_signed(&c->f, &n, "keys/test_key.pem");
    c->img = fx_build_signed(&c->f, &c->len, "keys/other_key.pem");
    uint32_t kid = fx_prot_end(c->img) + 40 + 4;
    memcpy(c->img + kid, good + kid, 8); /* claims the trusted key */
    free(good);
    duet_img_info_t info;
    assert_err(fx_verify_all(c->img, c->len, &c->pol, &info), DUET_ERR_IMG_BAD_SIG);
    duet_img_known_t k;
    uint32_t head = fx_prot_end(c->img);
    assert_err(duet_crypto_sha256(c->img, head, k.head_sha256), DUET_OK);
    memcpy(k.sig, c->img + head + 4 + 36 + 12 + 4, DUET_IMG_SIG_LEN);
    c->pol.known[0] = k;
    c->pol.known_count = 1;
    assert_err(fx_verify_all(c->img, c->len, &c->pol, &info), DUET_OK);
    assert_true(info.signed_ok);
    assert_memory_equal(info.sha256, k.head_sha256, DUET_IMG_HASH_LEN);
    assert_memory_equal(info.sig, k.sig, DUET_IMG_SIG_LEN);
    /* Another signature for the same head: verified for real (and refused). */
    c->pol.known[0].sig[5] ^= 1;
    assert_err(fx_verify_all(c->img, c->len, &c->pol, &info), DUET_ERR_IMG_BAD_SIG);
    c->pol.known[0] = k;
    /* Policy rules still apply to a known head. */
    c->pol.min_security_counter = c->f.d.security_counter + 1;
    assert_err(fx_verify_all(c->img, c->len, &c->pol, &info), DUET_ERR_IMG_DOWNGRADE);
    c->pol.min_security_counter = 0;
    /* And so does the payload digest. */
    c->img[c->len - 1] ^= 1;
    assert_err(fx_verify_all(c->img, c->len, &c->pol, &info), DUET_ERR_IMG_BAD_HASH);
    c->pol.known_count = DUET_POLICY_MAX_KNOWN + 1;
    assert_err(fx_verify_all(c->img, c->len, &c->pol, &info), DUET_ERR_INVAL);
    free(c->img);
}

/* ---- trailer ------------------------------------------------------------------------------- */

/* Unsigned image with a hand-made trailer: header fields and TLV bytes. */
static void trailer_expect(uint16_t magic, uint16_t size, const uint8_t *tlvs, size_t n,
                           duet_err_t want)
{
    ctx_t *c = host();
    c->img = fx_build(&c->f, &c->len);
    uint8_t tr[256] = {0};
    fx_put16(tr, 0, magic);
    fx_put16(tr, 2, size);
    memcpy(tr + 4, tlvs, n);
    fx_set_trailer(&c->img, &c->len, tr, 4 + n);
    expect(c, want);
}

static void sha_tlv(uint8_t *out, ctx_t *c)
{
    c->img = fx_build(&c->f, &c->len);
    memcpy(out, c->img + fx_prot_end(c->img) + 4, 36);
    free(c->img);
}

static void test_trailer_header(void **st)
{
    uint8_t t[40];
    sha_tlv(t, host());
    trailer_expect(DUET_IMG_TRAILER_MAGIC, 40, t, 36, DUET_OK);
    trailer_expect(0x5253, 40, t, 36, DUET_ERR_IMG_BAD_TRAILER);
    trailer_expect(DUET_IMG_TRAILER_MAGIC, 36, t, 32, DUET_ERR_IMG_BAD_TRAILER);
    trailer_expect(DUET_IMG_TRAILER_MAGIC, 42, t, 36, DUET_ERR_IMG_BAD_TRAILER);
    trailer_expect(DUET_IMG_TRAILER_MAGIC, DUET_IMG_TRAILER_MAX + 4, t, 36,
                   DUET_ERR_IMG_BAD_TRAILER);
    /* Announces 44 bytes, has 40: the payload's first word is read as a trailer TLV
     * (format 2: the payload follows); the image then ends 4 bytes early. */
    ctx_t *c = host();
    c->img = fx_build(&c->f, &c->len);
    fx_put16(c->img, fx_prot_end(c->img) + 2, 44);
    c->len -= 4; /* keep the end inside the image: only the length lies */
    duet_img_info_t info;
    assert_true(fx_verify_all(c->img, c->len, &c->pol, &info) != DUET_OK);
    free(c->img);
    /* Cut anywhere in the payload: truncated. */
    c = host();
    c->img = fx_build(&c->f, &c->len);
    c->len -= 1;
    expect(c, DUET_ERR_IMG_TRUNCATED);
}

static void test_trailer_tlvs(void **st)
{
    uint8_t t[128] = {0};
    sha_tlv(t, host());
    /* Hash TLV with a bad length. */
    uint8_t bad[40];
    memcpy(bad, t, 36);
    fx_put16(bad, 2, 28);
    trailer_expect(DUET_IMG_TRAILER_MAGIC, 40, bad, 36, DUET_ERR_IMG_BAD_TLV);
    /* ... or longer than 32 (the hash followed by 4 more bytes): not a SHA-256 either. */
    uint8_t longer[40] = {0};
    memcpy(longer, t, 36);
    fx_put16(longer, 2, 36);
    trailer_expect(DUET_IMG_TRAILER_MAGIC, 44, longer, 40, DUET_ERR_IMG_BAD_TLV);
    /* Two hash TLVs. */
    memcpy(t + 36, t, 36);
    trailer_expect(DUET_IMG_TRAILER_MAGIC, 76, t, 72, DUET_ERR_IMG_BAD_TRAILER);
    /* Unknown trailer TLV: skipped; critical: rejected. */
    static const uint8_t unk[4] = {0x99, 0x01, 0x00, 0x00}, crit[4] = {0x99, 0x81, 0x00, 0x00};
    memcpy(t + 36, unk, 4);
    trailer_expect(DUET_IMG_TRAILER_MAGIC, 44, t, 40, DUET_OK);
    memcpy(t + 36, crit, 4);
    trailer_expect(DUET_IMG_TRAILER_MAGIC, 44, t, 40, DUET_ERR_IMG_TLV_CRITICAL);
    /* A key id without a signature. */
    static const uint8_t kid[12] = {0x02, 0x01, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
    memcpy(t + 36, kid, 12);
    trailer_expect(DUET_IMG_TRAILER_MAGIC, 52, t, 48, DUET_ERR_IMG_BAD_TRAILER);
}

/* The signature policy cannot be bypassed by rearranging a signed trailer: a signature
 * without its key id, a second key id or signature are malformed; the TLV order is
 * free (the verifier pairs them, not their positions). */
static void test_signed_trailer_tlv_combinations(void **st)
{
    static const struct {
        const char *parts; /* H = SHA256, K = KEY_ID, S = ECDSA_P256 */
        duet_err_t want;
    } cases[] = {
        {"HKS", DUET_OK},
        {"SKH", DUET_OK},
        {"HS", DUET_ERR_IMG_BAD_TRAILER},
        {"HK", DUET_ERR_IMG_BAD_TRAILER},
        {"HKKS", DUET_ERR_IMG_BAD_TRAILER},
        {"HKSS", DUET_ERR_IMG_BAD_TRAILER},
        {"HHKS", DUET_ERR_IMG_BAD_TRAILER},
        {"KS", DUET_ERR_IMG_NO_HASH},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ctx_t *c = host();
        c->pol.require_signature = true;
        c->img = fx_build_signed(&c->f, &c->len, "keys/test_key.pem");
        const uint8_t *t = c->img + fx_prot_end(c->img) + 4;
        const uint8_t *part[3] = {t, t + 36, t + 48}; /* H, K, S as the signer wrote them */
        const size_t plen[3] = {36, 12, 68};
        uint8_t tr[512];
        size_t n = 4;
        for (const char *p = cases[i].parts; *p; p++) {
            int k = *p == 'H' ? 0 : *p == 'K' ? 1 : 2;
            memcpy(tr + n, part[k], plen[k]);
            n += plen[k];
        }
        fx_put16(tr, 0, DUET_IMG_TRAILER_MAGIC);
        fx_put16(tr, 2, (uint16_t)n);
        fx_set_trailer(&c->img, &c->len, tr, n);
        duet_img_info_t info;
        duet_err_t e = fx_verify_all(c->img, c->len, &c->pol, &info);
        if (e != cases[i].want)
            fail_msg("%s: got %s, want %s", cases[i].parts, duet_err_name(e),
                     duet_err_name(cases[i].want));
        if (e == DUET_OK)
            assert_true(info.signed_ok);
        free(c->img);
    }
}

static void test_trailer_without_hash(void **st)
{
    uint8_t t[36] = {0x55, 0x01, 0x20, 0x00}; /* unknown 32-byte TLV instead of SHA256 */
    trailer_expect(DUET_IMG_TRAILER_MAGIC, 40, t, 36, DUET_ERR_IMG_NO_HASH);
}

static void test_hash_mismatch(void **st)
{
    ctx_t *c = host();
    c->img = fx_build(&c->f, &c->len);
    c->img[c->len - 1] ^= 1; /* last payload byte */
    expect(c, DUET_ERR_IMG_BAD_HASH);
}

static void test_signature_required(void **st)
{
    ctx_t *c = host();
    c->pol.require_signature = true;
    build_expect(c, DUET_ERR_IMG_NO_SIG);
}

static void test_unknown_key(void **st)
{
    ctx_t *c = host();
    c->img = fx_build_signed(&c->f, &c->len, "keys/other_key.pem");
    expect(c, DUET_ERR_IMG_UNKNOWN_KEY);
    /* Trusting both keys: accepted. */
    c = host();
    c->img = fx_build_signed(&c->f, &c->len, "keys/other_key.pem");
    fx_pubkey("keys/other_key.pub.pem", c->pol.keys[1]);
    c->pol.key_count = 2;
    duet_img_info_t info;
    assert_err(fx_verify_all(c->img, c->len, &c->pol, &info), DUET_OK);
    assert_true(info.signed_ok);
    free(c->img);
}

static void test_signed_image_without_trust_anchors(void **st)
{
    /* No keys and no signature required: accepted, but not reported as signed. */
    ctx_t *c = host();
    c->img = fx_build_signed(&c->f, &c->len, "keys/test_key.pem");
    c->pol.key_count = 0;
    duet_img_info_t info;
    assert_err(fx_verify_all(c->img, c->len, &c->pol, &info), DUET_OK);
    assert_false(info.signed_ok);
    c->pol.require_signature = true;
    expect(c, DUET_ERR_IMG_UNKNOWN_KEY);
}

static void test_forged_signature(void **st)
{
    /* Sign with the other key but claim the trusted key's id. */
    ctx_t *c = host();
    size_t n;
    uint8_t *good = fx_build_signed(&c->f, &n, "keys/test_key.pem");
    c->img = fx_build_signed(&c->f, &c->len, "keys/other_key.pem");
    uint32_t kid = fx_prot_end(c->img) + 40 + 4;
    memcpy(c->img + kid, good + kid, 8);
    free(good);
    expect(c, DUET_ERR_IMG_BAD_SIG);
    /* Patched payload with the hash fixed up: the signature no longer matches. */
    c = host();
    c->img = fx_build_signed(&c->f, &c->len, "keys/test_key.pem");
    c->img[c->len - 4] ^= 0x40; /* the payload's last word */
    fx_rehash(c->img, c->len);
    expect(c, DUET_ERR_IMG_BAD_SIG);
    /* r = 0, s = 0. */
    c = host();
    c->img = fx_build_signed(&c->f, &c->len, "keys/test_key.pem");
    memset(c->img + fx_prot_end(c->img) + 4 + 36 + 12 + 4, 0, 64);
    expect(c, DUET_ERR_IMG_BAD_SIG);
}

static void test_trailing_data(void **st)
{
    ctx_t *c = host();
    size_t n;
    uint8_t *img = fx_build(&c->f, &n);
    c->img = realloc(img, n + 1);
    c->img[n] = 0;
    c->len = n + 1;
    expect(c, DUET_ERR_IMG_TRAILING_DATA);
}

/* ---- API behaviour --------------------------------------------------------------------------- */

static void test_bad_arguments(void **st)
{
    ctx_t *c = host();
    c->img = fx_build(&c->f, &c->len);
    assert_err(duet_img_verify_buf(c->img, c->len, NULL, NULL), DUET_ERR_INVAL);
    assert_err(duet_img_verify_buf(NULL, 4, &c->pol, NULL), DUET_ERR_INVAL);
    c->pol.regions = NULL;
    assert_err(duet_img_verify_buf(c->img, c->len, &c->pol, NULL), DUET_ERR_INVAL);
    c->pol.key_count = DUET_POLICY_MAX_KEYS + 1;
    assert_err(duet_img_verify_buf(c->img, c->len, &c->pol, NULL), DUET_ERR_INVAL);
    assert_err(duet_img_verify_reader(NULL, NULL, 0, &c->pol, NULL), DUET_ERR_INVAL);
    free(c->img);
}

static void test_stream_errors_are_sticky_and_peek_works(void **st)
{
    ctx_t *c = s3();
    c->img = fx_build(&c->f, &c->len);
    duet_img_stream_t s;
    assert_true(duet_img_stream_ctx_size() == sizeof s);
    assert_err(duet_img_stream_init(&s, &c->pol), DUET_OK);
    assert_int_equal(duet_img_stream_needed(&s), 96);
    assert_null(duet_img_stream_peek(&s));
    uint32_t table_end = 96 + 16 * 4;
    assert_err(duet_img_stream_feed(&s, c->img, table_end), DUET_OK);
    const duet_img_info_t *pk = duet_img_stream_peek(&s);
    assert_non_null(pk);
    assert_int_equal(pk->segs[0].is_addr, 0x403B9800u);
    assert_int_equal(duet_img_stream_needed(&s), fx_get32(c->img, 40)); /* the TLV area */
    /* Then garbage: a TLV header running past the area. */
    uint8_t junk[4] = {0x01, 0x00, 0xFF, 0x7F};
    assert_err(duet_img_stream_feed(&s, junk, 4), DUET_ERR_IMG_BAD_TLV);
    assert_err(duet_img_stream_feed(&s, c->img + table_end, 4), DUET_ERR_IMG_BAD_TLV);
    assert_err(duet_img_stream_finish(&s, NULL), DUET_ERR_IMG_BAD_TLV);
    assert_int_equal(duet_img_stream_needed(&s), 0);
    duet_img_stream_free(&s);
    /* After free, the context refuses work. */
    assert_err(duet_img_stream_init(&s, &c->pol), DUET_OK);
    duet_img_stream_free(&s);
    assert_err(duet_img_stream_feed(&s, c->img, 1), DUET_ERR_STATE);
    free(c->img);
}

typedef struct {
    const uint8_t *p;
    size_t n;
    unsigned calls;
    uint32_t fail_at; /* fail the read covering this offset (UINT32_MAX = never) */
} slot_t;

static duet_err_t slot_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    slot_t *s = ctx;
    s->calls++;
    assert_true(off + n <= s->n);
    if (s->fail_at >= off && s->fail_at < off + n)
        return DUET_ERR_IO;
    memcpy(buf, s->p + off, n);
    return DUET_OK;
}

static void test_reader_on_flash_slot(void **st)
{
    ctx_t *c = s3();
    c->img = fx_build_signed(&c->f, &c->len, "keys/test_key.pem");
    size_t slot_size = 64 * 1024;
    uint8_t *slot = malloc(slot_size);
    memset(slot, 0xFF, slot_size); /* erased flash after the image */
    memcpy(slot, c->img, c->len);
    slot_t s = {slot, slot_size, 0, UINT32_MAX};
    duet_img_info_t info;
    assert_err(duet_img_verify_reader(slot_read, &s, (uint32_t)slot_size, &c->pol, &info), DUET_OK);
    assert_int_equal(info.total_size, c->len);
    assert_true(info.signed_ok);
    /* The slot is shorter than the image. */
    s.calls = 0;
    assert_err(duet_img_verify_reader(slot_read, &s, (uint32_t)c->len - 1, &c->pol, NULL),
               DUET_ERR_IMG_TRUNCATED);
    /* A read error is returned as is. */
    s.fail_at = 200;
    assert_err(duet_img_verify_reader(slot_read, &s, (uint32_t)slot_size, &c->pol, NULL),
               DUET_ERR_IO);
    free(slot);
    free(c->img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_image_verifies),
        cmocka_unit_test(test_s3_image_verifies),
        cmocka_unit_test(test_signed_image_verifies_with_trusted_key),
        cmocka_unit_test(test_xip_image_verifies),
        cmocka_unit_test(test_unknown_noncritical_tlvs_are_skipped),
        cmocka_unit_test(test_header_extension_of_zeros_is_accepted),
        cmocka_unit_test(test_empty_and_short_inputs_are_truncated),
        cmocka_unit_test(test_wrong_magic),
        cmocka_unit_test(test_wrong_format_version),
        cmocka_unit_test(test_bad_header_sizes),
        cmocka_unit_test(test_wrong_chip),
        cmocka_unit_test(test_wrong_abi),
        cmocka_unit_test(test_unknown_flags),
        cmocka_unit_test(test_xip_flag_must_match_segments),
        cmocka_unit_test(test_reserved_header_bytes),
        cmocka_unit_test(test_bad_build_id),
        cmocka_unit_test(test_segment_count),
        cmocka_unit_test(test_header_alignment),
        cmocka_unit_test(test_image_too_big),
        cmocka_unit_test(test_shm_version_mismatch),
        cmocka_unit_test(test_downgrade_is_rejected),
        cmocka_unit_test(test_segment_kind),
        cmocka_unit_test(test_segment_reserved_fields),
        cmocka_unit_test(test_segment_alignment),
        cmocka_unit_test(test_zero_size_segment),
        cmocka_unit_test(test_segment_address_overflow),
        cmocka_unit_test(test_segment_grown_past_window),
        cmocka_unit_test(test_segment_needs_permission),
        cmocka_unit_test(test_segment_file_range),
        cmocka_unit_test(test_payload_must_be_covered_exactly),
        cmocka_unit_test(test_overlapping_segments),
        cmocka_unit_test(test_overlap_through_iram_dram_aliases),
        cmocka_unit_test(test_entry_must_be_in_code),
        cmocka_unit_test(test_vectors_must_be_in_code),
        cmocka_unit_test(test_stack_must_be_writable),
        cmocka_unit_test(test_stack_must_not_overlap_segments),
        cmocka_unit_test(test_name_rules),
        cmocka_unit_test(test_bad_tlv_length),
        cmocka_unit_test(test_tlv_padding_must_be_zero),
        cmocka_unit_test(test_unknown_critical_tlv),
        cmocka_unit_test(test_payload_digest_tlv),
        cmocka_unit_test(test_stream_authenticated_before_the_payload),
        cmocka_unit_test(test_known_heads_skip_only_the_ecdsa_math),
        cmocka_unit_test(test_trailer_header),
        cmocka_unit_test(test_trailer_tlvs),
        cmocka_unit_test(test_signed_trailer_tlv_combinations),
        cmocka_unit_test(test_trailer_without_hash),
        cmocka_unit_test(test_hash_mismatch),
        cmocka_unit_test(test_signature_required),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_signed_image_without_trust_anchors),
        cmocka_unit_test(test_forged_signature),
        cmocka_unit_test(test_trailing_data),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_stream_errors_are_sticky_and_peek_works),
        cmocka_unit_test(test_reader_on_flash_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
