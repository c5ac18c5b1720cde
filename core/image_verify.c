/*
 * image_verify.c - whole-buffer and read-callback verifiers, both built on the stream
 * verifier (image_stream.c), so they apply exactly the same rules in the same order.
 * Must not change: no rule is checked here; this file only moves bytes.
 */
#include "image_priv.h"

duet_err_t duet_img_verify_buf(const void *img, size_t len, const duet_img_policy_t *pol,
                               duet_img_info_t *info)
{
    if (img == NULL && len > 0)
        return DUET_ERR_INVAL;
    duet_img_stream_t s;
    duet_err_t e = duet_img_stream_init(&s, pol);
    if (e == DUET_OK)
        e = duet_img_stream_feed(&s, img, len);
    if (e == DUET_OK)
        e = duet_img_stream_finish(&s, info);
    duet_img_stream_free(&s);
    return e;
}

/* Bytes read per callback: small, so this runs on a core-0 task stack. */
#define READ_CHUNK 256u

duet_err_t duet_img_verify_reader(duet_read_fn read, void *ctx, uint32_t avail,
                                  const duet_img_policy_t *pol, duet_img_info_t *info)
{
    if (read == NULL)
        return DUET_ERR_INVAL;
    duet_img_stream_t s;
    uint8_t buf[READ_CHUNK];
    uint32_t off = 0;
    duet_err_t e = duet_img_stream_init(&s, pol);
    /* Ask the verifier how much it wants, so nothing after the trailer is ever read
     * (a flash slot holds erased bytes there, which are not trailing data). */
    for (uint32_t want; e == DUET_OK && (want = duet_img_stream_needed(&s)) > 0;) {
        if (off == avail)
            break; /* finish() reports the truncation */
        uint32_t n = want < READ_CHUNK ? want : READ_CHUNK;
        if (n > avail - off)
            n = avail - off;
        e = read(ctx, off, buf, n);
        if (e == DUET_OK)
            e = duet_img_stream_feed(&s, buf, n);
        off += n;
    }
    if (e == DUET_OK)
        e = duet_img_stream_finish(&s, info);
    duet_img_stream_free(&s);
    return e;
}
