/*
 * gen_corpus.c - writes the image fuzzer's seed corpus: valid host and ESP32-S3 images,
 * unsigned and signed (test key), with and without optional TLVs and XIP. The XIP seed
 * is unsigned: it is 64 KiB (the mapped part starts on a page), most mutations land in
 * its padding and leave the head intact, and a signed one would re-verify the ECDSA
 * signature each time (about 13x fewer runs per second).
 * Usage: gen_image_corpus KEY.pem OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>

#include "duet/image.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    uint8_t *b = malloc(1 << 16);
    *len = b ? fread(b, 1, 1 << 16, fp) : 0;
    fclose(fp);
    return b;
}

static int emit(const char *dir, const char *name, const duet_img_desc_t *d, const uint8_t *key,
                size_t klen)
{
    uint8_t *img;
    size_t len;
    duet_err_t e = duet_img_write(d, &img, &len);
    if (e == DUET_OK && key)
        e = duet_img_sign(&img, &len, key, klen);
    if (e != DUET_OK) {
        fprintf(stderr, "%s: %s\n", name, duet_err_str(e));
        return 1;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    int bad = !fp || fwrite(img, 1, len, fp) != len;
    if (fp)
        fclose(fp);
    free(img);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s KEY.pem OUTDIR\n", argv[0]);
        return 2;
    }
    size_t klen;
    uint8_t *key = slurp(argv[1], &klen);
    if (!key)
        return 1;
    static uint8_t code[64], data[16];
    static const uint8_t ro[16] = "duet xip rodata";
    for (unsigned i = 0; i < sizeof code; i++)
        code[i] = (uint8_t)i;
    static const uint8_t extra[] = {0x77, 0x00, 0x02, 0x00, 9, 9, 0, 0};
    duet_img_seg_in_t hs[] = {
        {DUET_SEG_CODE, 0x10000000u, sizeof code, code},
        {DUET_SEG_DATA, 0x20000000u, sizeof data, data},
        {DUET_SEG_BSS, 0x20000010u, 0x40, NULL},
    };
    duet_img_desc_t h = {.chip = DUET_CHIP_HOST,
                         .abi = DUET_ABI_HOST,
                         .entry = 0x10000000u,
                         .stack_top = 0x20010000u,
                         .stack_size = 0x1000,
                         .shm_version = 1,
                         .security_counter = 1,
                         .name = "seed",
                         .seg_count = 3,
                         .segs = hs};
    duet_img_seg_in_t ss[] = {
        {DUET_SEG_CODE, 0x403B9800u, sizeof code, code},
        {DUET_SEG_RODATA, 0x3FCCA000u, sizeof data, data},
        {DUET_SEG_BSS, 0x3FCCA010u, 0x40, NULL},
    };
    duet_img_desc_t s = {.chip = DUET_CHIP_ESP32S3,
                         .abi = DUET_ABI_WINDOWED,
                         .entry = 0x403B9804u,
                         .vectors = 0x403B9800u,
                         .stack_top = 0x3FCE9700u,
                         .stack_size = 0x800,
                         .shm_version = 1,
                         .build_id = {1, 2, 3},
                         .build_id_len = 3,
                         .seg_count = 3,
                         .segs = ss,
                         .build_time = 1700000000u,
                         .git = "abc123",
                         .extra_tlvs = extra,
                         .extra_tlvs_len = sizeof extra};
    /* XIP: code on the IBUS at the mapping's start, .rodata right after it on the DBUS. */
    duet_img_seg_in_t xs[] = {{DUET_SEG_XIP, 0x42010000u, sizeof code, code},
                              {DUET_SEG_XIP_RODATA, 0x3C010000u + sizeof code, sizeof ro, ro}};
    duet_img_desc_t x = {.chip = DUET_CHIP_ESP32S3,
                         .abi = DUET_ABI_WINDOWED,
                         .flags = DUET_IMG_F_XIP,
                         .map_addr = 0x42010000u,
                         .entry = 0x42010000u,
                         .stack_top = 0x3FCE9700u,
                         .stack_size = 0x800,
                         .shm_version = 1,
                         .seg_count = 2,
                         .segs = xs};
    int bad = emit(argv[2], "host-unsigned.img", &h, NULL, 0) +
              emit(argv[2], "host-signed.img", &h, key, klen) +
              emit(argv[2], "s3-signed-tlvs.img", &s, key, klen) +
              emit(argv[2], "s3-unsigned-tlvs.img", &s, NULL, 0) +
              emit(argv[2], "s3-xip-unsigned.img", &x, NULL, 0);
    free(key);
    return bad ? 1 : 0;
}
