/*
 * loader.c - verify a slot image straight from flash and copy it into core-1 memory.
 *
 * TOCTOU: verification (duet_img_verify_reader: hash + signature + policy) and the copy
 * both read flash, and flash may change in between (a concurrent writer, a bad block,
 * a malicious external flash). So the copy pass reads the payload [payload_offset,
 * total_size) once more, in order, hashing every byte it reads and copying the
 * segment bytes out of that same buffer. Only if this second digest equals the
 * verified one (the PAYLOAD_SHA256 of the signed head) does the caller release core 1;
 * otherwise the load fails with
 * DUET_ERR_IMG_BAD_HASH and core 1 stays stopped. Addresses and sizes always come from
 * the verified info (never re-parsed from flash), so a changed header cannot redirect
 * a write outside the verified window either; the worst a mismatch leaves behind is
 * junk in core-1 memory that is never executed.
 *
 * XIP images: the mapped segments are not copied (the port maps the slot, port.h), but
 * their bytes [ih_map_offset, total) are read and hashed in the same pass, so the digest
 * still covers every byte that will run; the zero padding before them is skipped (it is
 * not part of the payload).
 *
 * Pieces: the pass is cut at every segment start/end and every CHUNK bytes, so each
 * piece lies wholly inside or outside each segment. With 4-aligned payload and segment
 * offsets/sizes, every duet_port_core1_write is 4-aligned in address and length (the
 * chip writes code through the IRAM alias with 32-bit stores).
 */
#include <string.h>

#include "duet/crypto.h"
#include "sup_int.h"

#define CHUNK 512u

static duet_err_t flash_reader(void *ctx, uint32_t off, void *buf, size_t len)
{
    const duet_area_t *area = ctx;
    return duet_port_flash_read(*area, off, buf, len);
}

static bool seg_loaded(const duet_img_seg_t *g)
{
    return g->is_kind == DUET_SEG_CODE || g->is_kind == DUET_SEG_RODATA ||
           g->is_kind == DUET_SEG_DATA;
}

duet_err_t loader_verify_slot(int slot, const duet_img_policy_t *pol, duet_img_info_t *info)
{
    if (slot < 0 || slot >= (int)DUET_SLOT_COUNT || pol == NULL || info == NULL)
        return DUET_ERR_INVAL;
    duet_area_t area = (duet_area_t)slot;
    uint32_t size;
    DUET_TRY(duet_port_flash_info(area, &size, NULL));
    return duet_img_verify_reader(flash_reader, &area, size, pol, info);
}

/* Defensive re-check of what the copy pass relies on (info is our own verifier's
 * output, but a wrong assumption here would mean an out-of-range core-1 write). */
static duet_err_t check_layout(const duet_img_info_t *info, uint32_t slot_size)
{
    if (info->total_size > slot_size || info->payload_offset > info->total_size ||
        info->payload_offset % 4u != 0 || info->hdr.ih_seg_count > DUET_IMG_MAX_SEGS)
        return DUET_ERR_IMG_BAD_ALIGN;
    const duet_img_hdr_t *hd = &info->hdr;
    if (hd->ih_map_size > hd->ih_payload_size ||
        ((hd->ih_flags & DUET_IMG_F_XIP) &&
         ((uint64_t)hd->ih_map_offset + hd->ih_map_size > info->total_size ||
          (uint64_t)info->payload_offset + duet_img_map_start(hd) > hd->ih_map_offset)))
        return DUET_ERR_IMG_PAYLOAD_LAYOUT;
    for (unsigned i = 0; i < info->hdr.ih_seg_count; i++) {
        const duet_img_seg_t *g = &info->segs[i];
        if (!seg_loaded(g))
            continue;
        uint64_t fe = (uint64_t)info->payload_offset + g->is_offset + g->is_size;
        if (g->is_offset % 4u != 0 || g->is_size % 4u != 0 || g->is_addr % 4u != 0)
            return DUET_ERR_IMG_BAD_ALIGN;
        if (fe > info->total_size)
            return DUET_ERR_IMG_SEG_FILE_RANGE;
    }
    return DUET_OK;
}

static duet_err_t hash_pass(duet_area_t area, uint32_t pos, uint32_t end, duet_sha256_t *h)
{
    uint8_t buf[CHUNK];
    while (pos < end) {
        uint32_t len = end - pos > CHUNK ? CHUNK : end - pos;
        DUET_TRY(duet_port_flash_read(area, pos, buf, len));
        DUET_TRY(duet_crypto_sha256_update(h, buf, len));
        pos += len;
    }
    return DUET_OK;
}

static duet_err_t copy_pass(duet_area_t area, const duet_img_info_t *info, duet_sha256_t *h)
{
    uint8_t buf[CHUNK];
    uint32_t pos = info->payload_offset;
    uint32_t end = pos + duet_img_map_start(&info->hdr); /* RAM image: = total_size */
    unsigned n = info->hdr.ih_seg_count;
    while (pos < end) {
        uint32_t next = end - pos > CHUNK ? pos + CHUNK : end;
        for (unsigned i = 0; i < n; i++) {
            const duet_img_seg_t *g = &info->segs[i];
            if (!seg_loaded(g) || g->is_size == 0)
                continue;
            uint32_t fs = info->payload_offset + g->is_offset, fe = fs + g->is_size;
            if (fs > pos && fs < next)
                next = fs;
            if (fe > pos && fe < next)
                next = fe;
        }
        uint32_t len = next - pos;
        DUET_TRY(duet_port_flash_read(area, pos, buf, len));
        DUET_TRY(duet_crypto_sha256_update(h, buf, len));
        for (unsigned i = 0; i < n; i++) {
            const duet_img_seg_t *g = &info->segs[i];
            if (!seg_loaded(g) || g->is_size == 0)
                continue;
            uint32_t fs = info->payload_offset + g->is_offset, fe = fs + g->is_size;
            if (fs <= pos && next <= fe)
                DUET_TRY(duet_port_core1_write(g->is_addr + (pos - fs), buf, len));
        }
        pos = next;
    }
    if (info->hdr.ih_flags & DUET_IMG_F_XIP)
        return hash_pass(area, info->hdr.ih_map_offset,
                         info->hdr.ih_map_offset + info->hdr.ih_map_size, h);
    return DUET_OK;
}

duet_err_t loader_copy_slot(int slot, const duet_img_info_t *info)
{
    if (slot < 0 || slot >= (int)DUET_SLOT_COUNT || info == NULL)
        return DUET_ERR_INVAL;
    duet_area_t area = (duet_area_t)slot;
    uint32_t size;
    DUET_TRY(duet_port_flash_info(area, &size, NULL));
    DUET_TRY(check_layout(info, size));
    duet_sha256_t h;
    DUET_TRY(duet_crypto_sha256_init(&h));
    duet_err_t e = copy_pass(area, info, &h);
    if (e != DUET_OK) {
        duet_crypto_sha256_free(&h);
        return e;
    }
    uint8_t digest[DUET_CRYPTO_SHA256_LEN];
    DUET_TRY(duet_crypto_sha256_finish(&h, digest));
    if (memcmp(digest, info->payload_sha256, sizeof(digest)) != 0)
        return DUET_ERR_IMG_BAD_HASH; /* flash changed since verification */
    for (unsigned i = 0; i < info->hdr.ih_seg_count; i++) {
        const duet_img_seg_t *g = &info->segs[i];
        if (g->is_kind == DUET_SEG_BSS && g->is_size > 0)
            DUET_TRY(duet_port_core1_zero(g->is_addr, g->is_size));
    }
    /* XIP: the mapped part stays in flash; the port maps it where it was linked (and from
     * now on parks core 1 around flash writes). */
    if (info->hdr.ih_flags & DUET_IMG_F_XIP)
        DUET_TRY(duet_port_core1_map(area, info));
    return DUET_OK;
}
