/*
 * fuzz_policy.h - the policies the image fuzzer and its seed generator share: the host
 * and ESP32-S3 windows of tests/image, trusting tests/image/keys/test_key.pem.
 */
#ifndef FUZZ_POLICY_H
#define FUZZ_POLICY_H

#include <string.h>

#include "duet/image.h"

static const duet_mem_region_t fz_host_regions[] = {
    {0x10000000u, 64u << 20, 0x10000000u, DUET_MEM_R | DUET_MEM_X},
    {0x20000000u, 16u << 20, 0x20000000u, DUET_MEM_R | DUET_MEM_W},
};
static const duet_mem_region_t fz_s3_regions[] = {
    {0x403B9710u, 0x20000u, 0x3FCC9710u, DUET_MEM_X},
    {0x3FCC9710u, 0x20000u, 0x3FCC9710u, DUET_MEM_R | DUET_MEM_W},
};
/* Public key of tests/image/keys/test_key.pem (uncompressed point). */
static const uint8_t fz_test_pub[DUET_IMG_PUBKEY_LEN] = {
    0x04, 0xc4, 0xc4, 0x27, 0x46, 0x11, 0xfe, 0x1f, 0xa5, 0x03, 0x18, 0x00, 0x9c,
    0x95, 0x18, 0x40, 0xfc, 0x5c, 0xd7, 0xa8, 0xee, 0x62, 0xe8, 0xa8, 0xce, 0x33,
    0x0c, 0x87, 0x51, 0x4b, 0x10, 0xda, 0x9f, 0xf8, 0x15, 0x99, 0x87, 0x06, 0x05,
    0xc2, 0x41, 0x52, 0xbb, 0x1c, 0x65, 0x18, 0x37, 0xb5, 0xf8, 0x8b, 0x76, 0x4d,
    0x9a, 0xee, 0x3f, 0xf9, 0x26, 0x03, 0xc2, 0xd4, 0x7c, 0xa5, 0x5a, 0x50, 0xf1};

static inline void fz_policy(duet_img_policy_t *p, int s3)
{
    memset(p, 0, sizeof *p);
    p->regions = s3 ? fz_s3_regions : fz_host_regions;
    p->region_count = 2;
    /* XIP ranges: the S3's IBUS/DBUS pair, the host's single bus (docs/image-format.md 3a) */
    p->xip = s3 ? (duet_xip_window_t){0x42000000u, 0x3C000000u, 4u << 20}
                : (duet_xip_window_t){0x30000000u, 0x30000000u, 16u << 20};
    p->chip = s3 ? DUET_CHIP_ESP32S3 : DUET_CHIP_HOST;
    p->abi = s3 ? DUET_ABI_WINDOWED : DUET_ABI_HOST;
    p->shm_version = 1;
    p->max_image_size = 1u << 20;
    p->key_count = 1;
    memcpy(p->keys[0], fz_test_pub, sizeof fz_test_pub);
}

#endif
