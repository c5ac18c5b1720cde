/*
 * img_fixture.h - shared helpers for the image tests: memory windows and policies for
 * the host and the ESP32-S3, reference image descriptions, byte patching, and
 * fx_verify_all(), which runs every verifier (buffer, stream in 1-byte chunks, stream
 * in random chunks, reader) and fails the test unless they all agree.
 */
#ifndef IMG_FIXTURE_H
#define IMG_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "duet/crypto.h"
#include "duet/image.h"
#include "duet/image_stream.h"

/* Host window (what the simulator uses): code 0x10000000 + 64 MiB, data 0x20000000 + 16 MiB. */
#define FX_HOST_X  0x10000000u
#define FX_HOST_RW 0x20000000u
#define FX_HOST_XIP 0x30000000u /* host XIP window: one bus, 16 MiB */
/* ESP32-S3 window: 128 KiB of SRAM seen through its IRAM (X) and DRAM (RW) aliases
 * (esp32s3-facts 1.1, 1.3), plus a 4 MiB XIP range seen through the IBUS and the DBUS. */
#define FX_S3_DRAM 0x3FCC9710u
#define FX_S3_IRAM 0x403B9710u
#define FX_S3_WIN  0x20000u
#define FX_S3_XIP  0x42000000u
#define FX_S3_XIP_D 0x3C000000u

void fx_policy_host(duet_img_policy_t *p); /* trusts the test key, signature optional */
void fx_policy_s3(duet_img_policy_t *p);

/* A reference image description; segment data points at static buffers. */
typedef struct {
    duet_img_desc_t d;
    duet_img_seg_in_t segs[DUET_IMG_MAX_SEGS + 1];
} fx_desc_t;
void fx_desc_host(fx_desc_t *f); /* CODE, RODATA, DATA, BSS */
void fx_desc_s3(fx_desc_t *f);   /* CODE (IRAM alias), DATA, RODATA, BSS (DRAM alias) */
/* XIP: CODE (vectors), DATA, BSS in RAM; XIP at 0x42010000 (= ih_map_addr), XIP_RODATA
 * right after it on the DBUS alias. */
void fx_desc_s3_xip(fx_desc_t *f);

/* Build (asserting success); caller frees. */
uint8_t *fx_build(const fx_desc_t *f, size_t *len);
uint8_t *fx_build_signed(const fx_desc_t *f, size_t *len, const char *keyfile);

uint8_t *fx_read_file(const char *rel, size_t *len); /* relative to tests/image */
void fx_pubkey(const char *rel, uint8_t pub[DUET_IMG_PUBKEY_LEN]);

/* Byte patching, little-endian. */
void fx_put8(uint8_t *img, size_t off, uint8_t v);
void fx_put16(uint8_t *img, size_t off, uint16_t v);
void fx_put32(uint8_t *img, size_t off, uint32_t v);
uint32_t fx_get32(const uint8_t *img, size_t off);
#define FX_SEG(i) (96u + 16u * (i)) /* offset of segment entry i (hdr_size 96) */
/* End of the head (header, table, TLVs) = where the trailer starts (format 2). */
uint32_t fx_prot_end(const uint8_t *img);
/* Replace the trailer of an image by the given bytes (reallocates; the payload moves). */
void fx_set_trailer(uint8_t **img, size_t *len, const uint8_t *tr, size_t n);
/* Recompute PAYLOAD_SHA256 and the head's SHA-256 of an unsigned image after patching. */
void fx_rehash(uint8_t *img, size_t len);

/* All verifiers must agree; returns their result. info may be NULL. */
duet_err_t fx_verify_all(const uint8_t *img, size_t len, const duet_img_policy_t *pol,
                         duet_img_info_t *info);
#define assert_err(actual, expected)                                                               \
    do {                                                                                           \
        duet_err_t a_ = (actual), x_ = (expected);                                                 \
        if (a_ != x_)                                                                              \
            fail_msg("got %s, want %s", duet_err_name(a_), duet_err_name(x_));                     \
    } while (0)

/* Deterministic PRNG for chunk sizes. */
uint32_t fx_rand(uint32_t *state);

#endif
