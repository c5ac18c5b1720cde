/*
 * fuzz_image.c - libFuzzer target for the image verifiers.
 *
 * Each input is verified against the host and the ESP32-S3 policy by the buffer verifier,
 * by the stream verifier fed in chunk sizes derived from the input, and by the reader
 * verifier. Any disagreement (error code, or the info of an accepted image) aborts, as
 * does any memory error the sanitizers see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet/image.h"
#include "duet/image_stream.h"
#include "fuzz_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static duet_err_t stream(const uint8_t *d, size_t n, const duet_img_policy_t *pol,
                         duet_img_info_t *info)
{
    static duet_img_stream_t s;
    /* Chunk sizes from the input itself (FNV-1a of the first bytes seeds a xorshift). */
    uint32_t x = 2166136261u;
    for (size_t i = 0; i < n && i < 16; i++)
        x = (x ^ d[i]) * 16777619u;
    x |= 1;
    duet_err_t e = duet_img_stream_init(&s, pol);
    for (size_t off = 0; e == DUET_OK && off < n;) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t c = (x & 3) == 0 ? 1 : 1 + (x >> 8) % 97;
        if (c > n - off)
            c = n - off;
        e = duet_img_stream_feed(&s, d + off, c);
        off += c;
    }
    if (e == DUET_OK)
        e = duet_img_stream_finish(&s, info);
    duet_img_stream_free(&s);
    return e;
}

typedef struct {
    const uint8_t *d;
    size_t n;
} mem_t;

static duet_err_t rd(void *ctx, uint32_t off, void *buf, size_t n)
{
    const mem_t *m = ctx;
    if (off > m->n || n > m->n - off)
        abort(); /* the reader must stay inside avail */
    memcpy(buf, m->d + off, n);
    return DUET_OK;
}

static void agree(const char *what, duet_err_t a, duet_err_t b, const duet_img_info_t *ia,
                  const duet_img_info_t *ib)
{
    if (a != b) {
        fprintf(stderr, "%s: buffer %s, other %s\n", what, duet_err_name(a), duet_err_name(b));
        abort();
    }
    if (a == DUET_OK &&
        (memcmp(&ia->hdr, &ib->hdr, sizeof ia->hdr) != 0 ||
         memcmp(ia->segs, ib->segs, sizeof ia->segs[0] * ia->hdr.ih_seg_count) != 0 ||
         memcmp(ia->sha256, ib->sha256, sizeof ia->sha256) != 0 ||
         ia->total_size != ib->total_size || ia->signed_ok != ib->signed_ok ||
         strcmp(ia->name, ib->name) != 0)) {
        fprintf(stderr, "%s: accepted with different info\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    for (int s3 = 0; s3 < 2; s3++) {
        duet_img_policy_t pol;
        fz_policy(&pol, s3);
        duet_img_info_t ib, is, ir;
        duet_err_t eb = duet_img_verify_buf(data, size, &pol, &ib);
        agree("stream", eb, stream(data, size, &pol, &is), &ib, &is);
        if (eb != DUET_ERR_IMG_TRAILING_DATA) {
            mem_t m = {data, size};
            agree("reader", eb, duet_img_verify_reader(rd, &m, (uint32_t)size, &pol, &ir), &ib,
                  &ir);
        }
    }
    return 0;
}
