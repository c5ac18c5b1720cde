/*
 * test_xip_rules.c - the XIP rules of the image verifier (docs/image-format.md 3a and
 * rules 14a-14d, 21x, 25a/25b, 36a): a valid XIP image is built with the writer, one
 * thing is broken, and every verifier (buffer, stream in 1-byte and random chunks,
 * reader: fx_verify_all) must refuse it with that rule's own error code.
 */
#include <stdlib.h>
#include <string.h>

#include "../image/img_fixture.h"

typedef struct {
    fx_desc_t f;
    duet_img_policy_t pol;
} ctx_t;

static ctx_t *xip(void)
{
    static ctx_t c;
    fx_desc_s3_xip(&c.f);
    fx_policy_s3(&c.pol);
    return &c;
}

static duet_err_t run(ctx_t *c, duet_img_info_t *info)
{
    size_t len;
    uint8_t *img = fx_build(&c->f, &len);
    duet_err_t e = fx_verify_all(img, len, &c->pol, info);
    free(img);
    return e;
}

static void test_xip_image_records_its_mapping(void **st)
{
    ctx_t *c = xip();
    duet_img_info_t in;
    assert_err(run(c, &in), DUET_OK);
    assert_int_equal(in.hdr.ih_flags & DUET_IMG_F_XIP, DUET_IMG_F_XIP);
    assert_int_equal(in.hdr.ih_map_offset, DUET_XIP_PAGE); /* the head fits below 64 KiB */
    assert_int_equal(in.hdr.ih_map_addr, FX_S3_XIP + 0x10000);
    assert_int_equal(in.hdr.ih_map_size, 0x240);
    assert_int_equal(duet_img_map_start(&in.hdr), 0x140); /* CODE 0x100 + DATA 0x40 */
    assert_int_equal(in.total_size, DUET_XIP_PAGE + 0x240);
}

static void test_signing_keeps_the_mapped_part_in_place(void **st)
{
    ctx_t *c = xip();
    size_t ulen, slen;
    uint8_t *u = fx_build(&c->f, &ulen);
    uint8_t *s = fx_build_signed(&c->f, &slen, "keys/test_key.pem");
    assert_int_equal(ulen, slen); /* the padding absorbs the longer trailer */
    assert_memory_equal(u + DUET_XIP_PAGE, s + DUET_XIP_PAGE, 0x240);
    c->pol.require_signature = true;
    duet_img_info_t in;
    assert_err(fx_verify_all(s, slen, &c->pol, &in), DUET_OK);
    assert_true(in.signed_ok);
    free(u);
    free(s);
}

static void test_host_xip_image_uses_one_bus(void **st)
{
    ctx_t *c = xip();
    fx_policy_host(&c->pol);
    fx_desc_host(&c->f);
    c->f.d.flags = DUET_IMG_F_XIP;
    c->f.d.map_addr = FX_HOST_XIP;
    c->f.d.entry = FX_HOST_XIP;
    c->f.segs[0] = (duet_img_seg_in_t){DUET_SEG_XIP, FX_HOST_XIP, 0x100, c->f.segs[0].data};
    c->f.segs[1].kind = DUET_SEG_XIP_RODATA;
    c->f.segs[1].addr = FX_HOST_XIP + 0x100;
    /* mapped data last: DATA, BSS, XIP, XIP_RODATA */
    duet_img_seg_in_t x = c->f.segs[0], r = c->f.segs[1];
    c->f.segs[0] = c->f.segs[2];
    c->f.segs[1] = c->f.segs[3];
    c->f.segs[2] = x;
    c->f.segs[3] = r;
    assert_err(run(c, NULL), DUET_OK);
}

static void test_mode_not_enabled_in_the_firmware(void **st)
{
    ctx_t *c = xip();
    memset(&c->pol.xip, 0, sizeof c->pol.xip);
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_DISABLED);
}

static void test_mapping_not_page_aligned(void **st)
{
    ctx_t *c = xip();
    c->f.d.map_addr += 0x1000; /* virtual address */
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_ALIGN);
    c = xip();
    c->f.d.map_offset = DUET_XIP_PAGE + 0x8000; /* slot offset */
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_ALIGN);
}

static void test_mapping_outside_the_allowed_range(void **st)
{
    ctx_t *c = xip();
    c->pol.xip.ibus_base += 0x20000; /* the firmware allows 0x42020000.. only */
    c->pol.xip.dbus_base += 0x20000;
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_RANGE);
    c = xip();
    c->f.segs[4].addr = 0x3E000000u; /* rodata on neither bus */
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_RANGE);
}

static void test_code_on_dbus_or_rodata_on_ibus(void **st)
{
    ctx_t *c = xip();
    c->f.segs[3].addr = FX_S3_XIP_D + 0x10000; /* code fetched through the data bus */
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_BUS);
    c = xip();
    c->f.segs[4].addr = FX_S3_XIP + 0x10200; /* byte loads from the instruction bus fault */
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_BUS);
}

static void test_overlapping_mapped_ranges(void **st)
{
    /* .rodata linked at the DBUS alias of the code's own page: one MMU entry for both. */
    ctx_t *c = xip();
    c->f.segs[4].addr = FX_S3_XIP_D + 0x10000;
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_OVERLAP);
    /* A loaded segment inside the mapped pages (a firmware whose regions alias flash). */
    static const duet_mem_region_t with_flash[] = {
        {FX_S3_IRAM, FX_S3_WIN, FX_S3_DRAM, DUET_MEM_X},
        {FX_S3_DRAM, FX_S3_WIN, FX_S3_DRAM, DUET_MEM_R | DUET_MEM_W},
        {FX_S3_XIP, 4u << 20, FX_S3_XIP, DUET_MEM_X},
    };
    c = xip();
    c->pol.regions = with_flash;
    c->pol.region_count = 3;
    c->f.segs[0].addr = FX_S3_XIP + 0x18000;
    c->f.d.vectors = 0;
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_OVERLAP);
}

static void test_segment_address_must_match_its_slot_offset(void **st)
{
    ctx_t *c = xip();
    c->f.segs[4].addr += 0x100; /* a gap the MMU cannot express: linear != file */
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_MAP);
    c = xip();
    c->f.d.map_addr += DUET_XIP_PAGE; /* header says 0x42020000, code linked at 0x42010000 */
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_MAP);
}

static void test_image_larger_than_its_slot(void **st)
{
    ctx_t *c = xip();
    c->pol.max_image_size = DUET_XIP_PAGE; /* the mapped part itself does not fit */
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_SLOT);
    c = xip();
    c->pol.max_image_size = DUET_XIP_PAGE + 0x1000; /* the bytes fit, the mapped page not */
    assert_err(run(c, NULL), DUET_ERR_IMG_XIP_SLOT);
    c = xip();
    c->pol.max_image_size = 0x200; /* not even the head and payload */
    assert_err(run(c, NULL), DUET_ERR_IMG_TOO_BIG);
}

static void test_loaded_data_after_mapped_data(void **st)
{
    ctx_t *c = xip();
    duet_img_seg_in_t t = c->f.segs[1]; /* DATA */
    c->f.segs[1] = c->f.segs[3];        /* XIP */
    c->f.segs[3] = t;
    assert_err(run(c, NULL), DUET_ERR_IMG_PAYLOAD_LAYOUT);
}

static void test_padding_before_the_mapped_part_is_zero(void **st)
{
    ctx_t *c = xip();
    size_t len;
    uint8_t *img = fx_build(&c->f, &len);
    img[DUET_XIP_PAGE - 4] = 1; /* not hashed, so it must be checked */
    assert_err(fx_verify_all(img, len, &c->pol, NULL), DUET_ERR_IMG_PAYLOAD_LAYOUT);
    free(img);
}

static void test_mapped_bytes_are_hashed(void **st)
{
    ctx_t *c = xip();
    size_t len;
    uint8_t *img = fx_build(&c->f, &len);
    img[DUET_XIP_PAGE + 8] ^= 1;
    assert_err(fx_verify_all(img, len, &c->pol, NULL), DUET_ERR_IMG_BAD_HASH);
    free(img);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_xip_image_records_its_mapping),
        cmocka_unit_test(test_signing_keeps_the_mapped_part_in_place),
        cmocka_unit_test(test_host_xip_image_uses_one_bus),
        cmocka_unit_test(test_mode_not_enabled_in_the_firmware),
        cmocka_unit_test(test_mapping_not_page_aligned),
        cmocka_unit_test(test_mapping_outside_the_allowed_range),
        cmocka_unit_test(test_code_on_dbus_or_rodata_on_ibus),
        cmocka_unit_test(test_overlapping_mapped_ranges),
        cmocka_unit_test(test_segment_address_must_match_its_slot_offset),
        cmocka_unit_test(test_image_larger_than_its_slot),
        cmocka_unit_test(test_loaded_data_after_mapped_data),
        cmocka_unit_test(test_padding_before_the_mapped_part_is_zero),
        cmocka_unit_test(test_mapped_bytes_are_hashed),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
