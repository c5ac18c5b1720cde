/*
 * image_check.c - the validation rules of image format v1, each implemented once.
 *
 * Organisation: (1) codec between on-disk bytes and host-endian structs, (2) memory-window
 * lookups, (3) header rules, (4) segment rules, (5) whole-table rules, (6) TLV rules,
 * (7) trailer and final rules (hash, signature).
 * The order of the checks inside each function is part of the contract: it decides which
 * error a multiply-broken image reports, and docs/image-format.md lists it.
 * Everything here is pure: no I/O, no allocation; images are hostile input.
 */
#include <string.h>

#include "duet/crypto.h"
#include "image_priv.h"

/* ---- (1) codec ------------------------------------------------------------------------ */

/* The struct offsets equal the on-disk offsets (asserted in image.h), so a struct is the
 * raw bytes with every multi-byte scalar byte-swapped to host order. These tables list
 * those scalars; byte fields and arrays need no conversion. */
typedef struct {
    uint8_t off, size;
} field_t;

static const field_t hdr_fields[] = {
    {offsetof(duet_img_hdr_t, ih_magic), 4},
    {offsetof(duet_img_hdr_t, ih_format), 2},
    {offsetof(duet_img_hdr_t, ih_hdr_size), 2},
    {offsetof(duet_img_hdr_t, ih_flags), 2},
    {offsetof(duet_img_hdr_t, ih_entry), 4},
    {offsetof(duet_img_hdr_t, ih_stack_top), 4},
    {offsetof(duet_img_hdr_t, ih_stack_size), 4},
    {offsetof(duet_img_hdr_t, ih_vectors), 4},
    {offsetof(duet_img_hdr_t, ih_shm_version), 2},
    {offsetof(duet_img_hdr_t, ih_ver_patch), 2},
    {offsetof(duet_img_hdr_t, ih_security_counter), 4},
    {offsetof(duet_img_hdr_t, ih_tlv_size), 4},
    {offsetof(duet_img_hdr_t, ih_payload_size), 4},
    {offsetof(duet_img_hdr_t, ih_shm_base), 4},
    {offsetof(duet_img_hdr_t, ih_shm_size), 4},
    {offsetof(duet_img_hdr_t, ih_map_offset), 4},
    {offsetof(duet_img_hdr_t, ih_map_addr), 4},
    {offsetof(duet_img_hdr_t, ih_map_size), 4},
    {offsetof(duet_img_hdr_t, ih_reserved2), 4},
};
static const field_t seg_fields[] = {
    {offsetof(duet_img_seg_t, is_reserved), 2},
    {offsetof(duet_img_seg_t, is_addr), 4},
    {offsetof(duet_img_seg_t, is_size), 4},
    {offsetof(duet_img_seg_t, is_offset), 4},
};

static void decode(const uint8_t *raw, void *out, size_t size, const field_t *f, size_t nf)
{
    uint8_t *o = out;
    memcpy(o, raw, size);
    for (size_t i = 0; i < nf; i++) {
        if (f[i].size == 2) {
            uint16_t v = img_le16(raw + f[i].off);
            memcpy(o + f[i].off, &v, 2);
        } else {
            uint32_t v = img_le32(raw + f[i].off);
            memcpy(o + f[i].off, &v, 4);
        }
    }
}

static void encode(const void *in, uint8_t *raw, size_t size, const field_t *f, size_t nf)
{
    const uint8_t *s = in;
    memcpy(raw, s, size);
    for (size_t i = 0; i < nf; i++) {
        if (f[i].size == 2) {
            uint16_t v;
            memcpy(&v, s + f[i].off, 2);
            img_put16(raw + f[i].off, v);
        } else {
            uint32_t v;
            memcpy(&v, s + f[i].off, 4);
            img_put32(raw + f[i].off, v);
        }
    }
}

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

void duet_img_hdr_decode(const uint8_t raw[DUET_IMG_HDR_SIZE], duet_img_hdr_t *h)
{
    decode(raw, h, sizeof *h, hdr_fields, NFIELDS(hdr_fields));
}
void duet_img_hdr_encode(const duet_img_hdr_t *h, uint8_t raw[DUET_IMG_HDR_SIZE])
{
    encode(h, raw, sizeof *h, hdr_fields, NFIELDS(hdr_fields));
}
void duet_img_seg_decode(const uint8_t raw[DUET_IMG_SEG_SIZE], duet_img_seg_t *s)
{
    decode(raw, s, sizeof *s, seg_fields, NFIELDS(seg_fields));
}
void duet_img_seg_encode(const duet_img_seg_t *s, uint8_t raw[DUET_IMG_SEG_SIZE])
{
    encode(s, raw, sizeof *s, seg_fields, NFIELDS(seg_fields));
}

duet_err_t duet_img_layout(const duet_img_hdr_t *h, uint32_t *head_end, uint32_t *body_size)
{
    uint64_t head =
        (uint64_t)h->ih_hdr_size + (uint64_t)h->ih_seg_count * DUET_IMG_SEG_SIZE + h->ih_tlv_size;
    uint64_t body = head + h->ih_payload_size;
    if (body > UINT32_MAX)
        return DUET_ERR_IMG_TOO_BIG;
    *head_end = (uint32_t)head;
    *body_size = (uint32_t)body;
    return DUET_OK;
}

/* ---- (2) memory window -------------------------------------------------------------- */

typedef enum { WIN_OK, WIN_NO_PERM, WIN_OUTSIDE } win_t;

/* Find a region holding all of [addr, addr+size) with at least the 'need' permissions.
 * Regions may overlap (aliases), so keep looking after a match without permission.
 * *phys receives the start in the common (physical) view. */
static win_t window_find(const duet_img_policy_t *pol, uint32_t addr, uint32_t size, uint32_t need,
                         uint32_t *phys)
{
    win_t best = WIN_OUTSIDE;
    for (unsigned i = 0; i < pol->region_count; i++) {
        const duet_mem_region_t *r = &pol->regions[i];
        if (addr < r->base || (uint64_t)addr + size > (uint64_t)r->base + r->size)
            continue;
        if ((r->perms & need) != need) {
            best = WIN_NO_PERM;
            continue;
        }
        *phys = r->phys + (addr - r->base);
        return WIN_OK;
    }
    return best;
}

static uint32_t kind_perms(uint8_t kind)
{
    switch (kind) {
    case DUET_SEG_CODE:
    case DUET_SEG_XIP:
        return DUET_MEM_X;
    case DUET_SEG_RODATA:
    case DUET_SEG_XIP_RODATA:
        return DUET_MEM_R;
    case DUET_SEG_DATA:
    case DUET_SEG_BSS:
        return DUET_MEM_W;
    default:
        return 0; /* unknown kind: rejected before any window lookup */
    }
}

/* Physical start of a loaded segment already accepted by duet_img_check_seg (mapped
 * segments are not in the regions; their rules are in section (4a)). */
static uint64_t seg_phys(const duet_img_policy_t *pol, const duet_img_seg_t *s)
{
    uint32_t phys = 0;
    win_t w = window_find(pol, s->is_addr, s->is_size, kind_perms(s->is_kind), &phys);
    (void)w; /* WIN_OK: the segment passed this very lookup in duet_img_check_seg */
    return phys;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* ---- (3) header ---------------------------------------------------------------------- */

duet_err_t duet_img_check_policy(const duet_img_policy_t *pol)
{
    if (pol != NULL && pol->known_count > DUET_POLICY_MAX_KNOWN)
        return DUET_ERR_INVAL;
    if (pol != NULL && pol->xip.size &&
        (pol->xip.ibus_base % DUET_XIP_PAGE || pol->xip.dbus_base % DUET_XIP_PAGE ||
         pol->xip.size % DUET_XIP_PAGE ||
         (uint64_t)pol->xip.ibus_base + pol->xip.size > (uint64_t)UINT32_MAX + 1 ||
         (uint64_t)pol->xip.dbus_base + pol->xip.size > (uint64_t)UINT32_MAX + 1))
        return DUET_ERR_INVAL;
    if (pol == NULL || (pol->region_count > 0 && pol->regions == NULL) ||
        pol->key_count > DUET_POLICY_MAX_KEYS)
        return DUET_ERR_INVAL;
    return DUET_OK;
}

duet_err_t duet_img_check_magic(const uint8_t raw[4])
{
    return img_le32(raw) == DUET_IMG_MAGIC ? DUET_OK : DUET_ERR_IMG_BAD_MAGIC;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static uint64_t page_up(uint64_t n)
{
    return (n + DUET_XIP_PAGE - 1u) / DUET_XIP_PAGE * DUET_XIP_PAGE;
}

/* XIP load mode: the mapping the header asks for, against the firmware's XIP range and
 * the slot (rules 14a-14d). The MMU maps whole pages, so the pages the mapped part
 * touches must lie in the range and in the slot. */
static duet_err_t check_map_hdr(const duet_img_hdr_t *h, const duet_img_policy_t *pol)
{
    const duet_xip_window_t *w = &pol->xip;
    if (w->size == 0)
        return DUET_ERR_IMG_XIP_DISABLED;
    if (h->ih_map_offset == 0 || h->ih_map_offset % DUET_XIP_PAGE ||
        h->ih_map_addr % DUET_XIP_PAGE || h->ih_map_size % 4u)
        return DUET_ERR_IMG_XIP_ALIGN;
    uint64_t pages = page_up(h->ih_map_size);
    if (h->ih_map_addr < w->ibus_base ||
        (uint64_t)h->ih_map_addr + pages > (uint64_t)w->ibus_base + w->size)
        return DUET_ERR_IMG_XIP_RANGE;
    uint64_t end = (uint64_t)h->ih_map_offset + pages;
    if (end > UINT32_MAX || (pol->max_image_size && end > pol->max_image_size))
        return DUET_ERR_IMG_XIP_SLOT;
    if (h->ih_map_size > h->ih_payload_size)
        return DUET_ERR_IMG_PAYLOAD_LAYOUT;
    return DUET_OK;
}

duet_err_t duet_img_check_hdr(const duet_img_hdr_t *h, const duet_img_policy_t *pol)
{
    /* ih_magic: checked by duet_img_check_magic as soon as its 4 bytes arrive. */
    if (h->ih_format != DUET_IMG_FORMAT)
        return DUET_ERR_IMG_BAD_VERSION;
    if (h->ih_hdr_size < DUET_IMG_HDR_SIZE || h->ih_hdr_size % 4 ||
        h->ih_hdr_size > DUET_IMG_HDR_MAX)
        return DUET_ERR_IMG_BAD_HDR_SIZE;
    if (h->ih_chip != pol->chip)
        return DUET_ERR_IMG_WRONG_CHIP;
    if (h->ih_abi != pol->abi)
        return DUET_ERR_IMG_WRONG_ABI;
    if (h->ih_flags & ~DUET_IMG_F_KNOWN)
        return DUET_ERR_IMG_BAD_FLAGS;
    /* The map fields were reserved before XIP: in RAM mode they still must be zero, so a
     * RAM image is byte for byte what it was and an older verifier refuses XIP images
     * (IMG_RESERVED) instead of misreading them. */
    bool xip = (h->ih_flags & DUET_IMG_F_XIP) != 0;
    if (h->ih_reserved0 || !all_zero(h->ih_reserved1, sizeof h->ih_reserved1) || h->ih_reserved2 ||
        (!xip && (h->ih_map_offset || h->ih_map_addr || h->ih_map_size)))
        return DUET_ERR_IMG_RESERVED;
    if (h->ih_build_id_len > DUET_IMG_BUILD_ID_LEN ||
        !all_zero(h->ih_build_id + h->ih_build_id_len, DUET_IMG_BUILD_ID_LEN - h->ih_build_id_len))
        return DUET_ERR_IMG_BAD_BUILD_ID;
    if (h->ih_seg_count == 0)
        return DUET_ERR_IMG_NO_SEGS;
    if (h->ih_seg_count > DUET_IMG_MAX_SEGS)
        return DUET_ERR_IMG_TOO_MANY_SEGS;
    if (h->ih_tlv_size % 4 || h->ih_payload_size % 4 || h->ih_stack_top % DUET_IMG_STACK_ALIGN ||
        h->ih_stack_size % DUET_IMG_STACK_ALIGN || h->ih_vectors % DUET_IMG_VECTORS_ALIGN)
        return DUET_ERR_IMG_BAD_ALIGN;
    if (h->ih_tlv_size > DUET_IMG_TLV_MAX)
        return DUET_ERR_IMG_BAD_TLV; /* the head a receiver must hold stays bounded */
    uint32_t head, body;
    DUET_TRY(duet_img_layout(h, &head, &body));
    uint64_t least = (uint64_t)body + DUET_IMG_TRAILER_MIN; /* smallest possible image */
    if (least > UINT32_MAX || (pol->max_image_size && least > pol->max_image_size))
        return DUET_ERR_IMG_TOO_BIG;
    if (pol->shm_version && h->ih_shm_version != pol->shm_version)
        return DUET_ERR_IMG_SHM_VERSION;
    if (h->ih_security_counter < pol->min_security_counter)
        return DUET_ERR_IMG_DOWNGRADE;
    return xip ? check_map_hdr(h, pol) : DUET_OK;
}

/* ---- (4a) mapped (XIP) segments ------------------------------------------------------- */

static bool in_range(uint32_t addr, uint32_t size, uint32_t base, uint32_t len)
{
    return addr >= base && (uint64_t)addr + size <= (uint64_t)base + len;
}

/* Code is fetched through the instruction bus, .rodata read through the data bus (byte
 * loads from the instruction bus fault on the ESP32-S3). */
static duet_err_t check_bus(const duet_img_policy_t *pol, const duet_img_seg_t *s)
{
    const duet_xip_window_t *w = &pol->xip;
    bool ib = in_range(s->is_addr, s->is_size, w->ibus_base, w->size);
    bool db = in_range(s->is_addr, s->is_size, w->dbus_base, w->size);
    bool want = s->is_kind == DUET_SEG_XIP ? ib : db;
    if (want)
        return DUET_OK;
    return ib || db ? DUET_ERR_IMG_XIP_BUS : DUET_ERR_IMG_XIP_RANGE;
}

/* Linear place (offset from the window's start) of a mapped segment that passed
 * check_bus: both buses index the same MMU table. */
static uint32_t seg_lin(const duet_img_policy_t *pol, const duet_img_seg_t *s)
{
    return s->is_addr - (s->is_kind == DUET_SEG_XIP ? pol->xip.ibus_base : pol->xip.dbus_base);
}

/* Rules 25a/25b: mapped segments do not overlap each other in the linear view (code at
 * IBUS+L and rodata at DBUS+L would be one page), nothing else (loaded segments, the
 * stack) lies in the mapped pages through either bus, and each mapped segment sits at
 * the place its slot offset is mapped to. */
static duet_err_t check_map_table(const duet_img_info_t *info, const duet_img_policy_t *pol)
{
    const duet_img_hdr_t *h = &info->hdr;
    const duet_xip_window_t *w = &pol->xip;
    uint32_t lin0 = h->ih_map_addr - w->ibus_base;
    uint64_t pages = page_up(h->ih_map_size);
    for (unsigned i = 0; i < h->ih_seg_count; i++) {
        const duet_img_seg_t *a = &info->segs[i];
        if (!duet_img_seg_mapped(a->is_kind)) {
            if (ranges_overlap(a->is_addr, a->is_size, (uint64_t)w->ibus_base + lin0, pages) ||
                ranges_overlap(a->is_addr, a->is_size, (uint64_t)w->dbus_base + lin0, pages))
                return DUET_ERR_IMG_XIP_OVERLAP;
            continue;
        }
        for (unsigned j = 0; j < i; j++) {
            const duet_img_seg_t *b = &info->segs[j];
            if (duet_img_seg_mapped(b->is_kind) &&
                ranges_overlap(seg_lin(pol, a), a->is_size, seg_lin(pol, b), b->is_size))
                return DUET_ERR_IMG_XIP_OVERLAP;
        }
    }
    uint32_t lo = h->ih_stack_top - h->ih_stack_size;
    if (h->ih_stack_size <= h->ih_stack_top &&
        (ranges_overlap(lo, h->ih_stack_size, (uint64_t)w->ibus_base + lin0, pages) ||
         ranges_overlap(lo, h->ih_stack_size, (uint64_t)w->dbus_base + lin0, pages)))
        return DUET_ERR_IMG_XIP_OVERLAP;
    uint32_t m0 = duet_img_map_start(h);
    for (unsigned i = 0; i < h->ih_seg_count; i++) {
        const duet_img_seg_t *a = &info->segs[i];
        if (duet_img_seg_mapped(a->is_kind) &&
            (uint64_t)seg_lin(pol, a) - lin0 != (uint64_t)a->is_offset - m0)
            return DUET_ERR_IMG_XIP_MAP;
    }
    return DUET_OK;
}

/* ---- (4) one segment entry ---------------------------------------------------------- */

duet_err_t duet_img_check_seg(const duet_img_info_t *info, unsigned i, const duet_img_policy_t *pol,
                              uint32_t *file_cursor)
{
    const duet_img_seg_t *s = &info->segs[i];
    if (kind_perms(s->is_kind) == 0)
        return DUET_ERR_IMG_BAD_SEG_KIND;
    if (s->is_flags || s->is_reserved)
        return DUET_ERR_IMG_RESERVED;
    if (s->is_addr % 4 || s->is_size % 4)
        return DUET_ERR_IMG_BAD_ALIGN;
    if (s->is_size == 0)
        return DUET_ERR_IMG_SEG_EMPTY;
    if ((uint64_t)s->is_addr + s->is_size > UINT32_MAX)
        return DUET_ERR_IMG_SEG_OVERFLOW;
    bool mapped = duet_img_seg_mapped(s->is_kind);
    uint32_t phys;
    if (mapped) {
        if (!(info->hdr.ih_flags & DUET_IMG_F_XIP))
            return DUET_ERR_IMG_BAD_FLAGS;
        DUET_TRY(check_bus(pol, s));
    } else {
        switch (window_find(pol, s->is_addr, s->is_size, kind_perms(s->is_kind), &phys)) {
        case WIN_OUTSIDE:
            return DUET_ERR_IMG_SEG_OUTSIDE;
        case WIN_NO_PERM:
            return DUET_ERR_IMG_SEG_PERM;
        case WIN_OK:
            break;
        }
    }
    if (s->is_kind == DUET_SEG_BSS)
        return s->is_offset == 0 ? DUET_OK : DUET_ERR_IMG_SEG_FILE_RANGE;
    if ((uint64_t)s->is_offset + s->is_size > info->hdr.ih_payload_size)
        return DUET_ERR_IMG_SEG_FILE_RANGE;
    /* File ranges follow the table order back to back: no gaps, no shared bytes. */
    if (s->is_offset != *file_cursor)
        return DUET_ERR_IMG_PAYLOAD_LAYOUT;
    /* Loaded data first, mapped data last (the mapped part is its own page run). */
    uint32_t m0 = duet_img_map_start(&info->hdr);
    if (mapped ? s->is_offset < m0 : (uint64_t)s->is_offset + s->is_size > m0)
        return DUET_ERR_IMG_PAYLOAD_LAYOUT;
    *file_cursor += s->is_size;
    return DUET_OK;
}

/* ---- (5) the whole table -------------------------------------------------------------- */

static bool inside_kind(const duet_img_info_t *info, uint32_t addr, uint32_t len, uint8_t k1,
                        uint8_t k2)
{
    for (unsigned i = 0; i < info->hdr.ih_seg_count; i++) {
        const duet_img_seg_t *s = &info->segs[i];
        if ((s->is_kind == k1 || s->is_kind == k2) && addr >= s->is_addr &&
            (uint64_t)addr + len <= (uint64_t)s->is_addr + s->is_size)
            return true;
    }
    return false;
}

static duet_err_t check_stack(const duet_img_info_t *info, const duet_img_policy_t *pol)
{
    const duet_img_hdr_t *h = &info->hdr;
    if (h->ih_stack_size == 0 || h->ih_stack_size > h->ih_stack_top)
        return DUET_ERR_IMG_BAD_STACK;
    uint32_t lo = h->ih_stack_top - h->ih_stack_size, phys;
    if (window_find(pol, lo, h->ih_stack_size, DUET_MEM_W, &phys) != WIN_OK)
        return DUET_ERR_IMG_BAD_STACK;
    for (unsigned i = 0; i < h->ih_seg_count; i++) {
        const duet_img_seg_t *s = &info->segs[i];
        if (!duet_img_seg_mapped(s->is_kind) &&
            ranges_overlap(phys, h->ih_stack_size, seg_phys(pol, s), s->is_size))
            return DUET_ERR_IMG_STACK_OVERLAP;
    }
    return DUET_OK;
}

duet_err_t duet_img_check_table(const duet_img_info_t *info, const duet_img_policy_t *pol,
                                uint32_t file_cursor)
{
    const duet_img_hdr_t *h = &info->hdr;
    bool xip = false;
    for (unsigned i = 0; i < h->ih_seg_count; i++) {
        const duet_img_seg_t *a = &info->segs[i];
        xip |= duet_img_seg_mapped(a->is_kind);
        for (unsigned j = 0; j < i && !duet_img_seg_mapped(a->is_kind); j++) {
            const duet_img_seg_t *b = &info->segs[j];
            if (duet_img_seg_mapped(b->is_kind))
                continue;
            /* Compare physical ranges: an IRAM-alias code segment and a DRAM-alias data
             * segment over the same SRAM must not overlap either. */
            if (ranges_overlap(seg_phys(pol, a), a->is_size, seg_phys(pol, b), b->is_size))
                return DUET_ERR_IMG_SEG_OVERLAP;
        }
    }
    if (xip)
        DUET_TRY(check_map_table(info, pol)); /* flag set: per-segment rule 21 */
    if (file_cursor != h->ih_payload_size)
        return DUET_ERR_IMG_PAYLOAD_LAYOUT; /* payload bytes no segment claims */
    if (xip != ((h->ih_flags & DUET_IMG_F_XIP) != 0))
        return DUET_ERR_IMG_BAD_FLAGS;
    if (!inside_kind(info, h->ih_entry, 1, DUET_SEG_CODE, DUET_SEG_XIP))
        return DUET_ERR_IMG_BAD_ENTRY;
    if (h->ih_vectors && !inside_kind(info, h->ih_vectors, 1, DUET_SEG_CODE, DUET_SEG_CODE))
        return DUET_ERR_IMG_BAD_VECTORS;
    return check_stack(info, pol);
}

/* ---- (6) protected TLVs ----------------------------------------------------------------- */

duet_err_t duet_img_check_ptlv(void *stream, uint16_t type, uint16_t len, const uint8_t *val)
{
    duet_img_stream_t *s = stream;
    switch (type) {
    case DUET_TLV_NAME:
        if (s->have_name || len == 0 || len > DUET_IMG_NAME_MAX || memchr(val, 0, len))
            return DUET_ERR_IMG_BAD_TLV;
        memcpy(s->info.name, val, len);
        s->info.name[len] = '\0';
        s->have_name = true;
        return DUET_OK;
    case DUET_TLV_BUILD_TIME:
        if (s->have_time || len != 8)
            return DUET_ERR_IMG_BAD_TLV;
        s->have_time = true;
        return DUET_OK;
    case DUET_TLV_GIT:
        if (s->have_git)
            return DUET_ERR_IMG_BAD_TLV;
        s->have_git = true;
        return DUET_OK;
    case DUET_TLV_PAYLOAD_SHA256:
        if (s->have_payload_sha || len != DUET_IMG_HASH_LEN)
            return DUET_ERR_IMG_BAD_TLV;
        memcpy(s->info.payload_sha256, val, DUET_IMG_HASH_LEN);
        s->have_payload_sha = true;
        return DUET_OK;
    default:
        /* Forward compatibility: skip unknown types unless the producer marked them as
         * needed to run the image correctly. */
        return (type & DUET_TLV_CRITICAL) ? DUET_ERR_IMG_TLV_CRITICAL : DUET_OK;
    }
}

/* ---- (7) trailer and final -------------------------------------------------------------- */

duet_err_t duet_img_check_tlv_end(duet_img_stream_t *s)
{
    return s->have_payload_sha ? DUET_OK : DUET_ERR_IMG_NO_HASH;
}

duet_err_t duet_img_check_trailer_hdr(duet_img_stream_t *s, const uint8_t raw[4])
{
    uint16_t magic = img_le16(raw), size = img_le16(raw + 2);
    if (magic != DUET_IMG_TRAILER_MAGIC || size < DUET_IMG_TRAILER_MIN || size % 4 ||
        size > DUET_IMG_TRAILER_MAX)
        return DUET_ERR_IMG_BAD_TRAILER;
    const duet_img_hdr_t *h = &s->info.hdr;
    uint64_t pay = (uint64_t)s->info.protected_size + size;
    uint64_t total = pay + h->ih_payload_size;
    if (h->ih_flags & DUET_IMG_F_XIP) {
        /* The loaded data must end before the mapped part starts (zero padding between). */
        if (pay + duet_img_map_start(h) > h->ih_map_offset)
            return DUET_ERR_IMG_PAYLOAD_LAYOUT;
        total = (uint64_t)h->ih_map_offset + h->ih_map_size;
    }
    if (total > UINT32_MAX || (s->pol->max_image_size && total > s->pol->max_image_size))
        return DUET_ERR_IMG_TOO_BIG;
    s->info.payload_offset = (uint32_t)pay;
    s->info.total_size = (uint32_t)total;
    return DUET_OK;
}

/* A trailer TLV of a type the verifier uses: exact length, at most once. */
static duet_err_t take(bool *have, uint8_t *dst, size_t want, uint16_t len, const uint8_t *val)
{
    if (len != want)
        return DUET_ERR_IMG_BAD_TLV;
    if (*have)
        return DUET_ERR_IMG_BAD_TRAILER;
    memcpy(dst, val, want);
    *have = true;
    return DUET_OK;
}

duet_err_t duet_img_check_ttlv(void *stream, uint16_t type, uint16_t len, const uint8_t *val)
{
    duet_img_stream_t *s = stream;
    switch (type) {
    case DUET_TLV_SHA256:
        return take(&s->have_sha, s->sha_want, DUET_IMG_HASH_LEN, len, val);
    case DUET_TLV_KEY_ID:
        return take(&s->have_key_id, s->info.key_id, DUET_IMG_KEY_ID_LEN, len, val);
    case DUET_TLV_ECDSA_P256:
        return take(&s->have_sig, s->sig, DUET_IMG_SIG_LEN, len, val);
    default:
        return (type & DUET_TLV_CRITICAL) ? DUET_ERR_IMG_TLV_CRITICAL : DUET_OK;
    }
}

/* Constant-time compare: the hash is public, but there is no reason to leak timing. */
static bool same(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

duet_err_t duet_img_check_auth(duet_img_stream_t *s)
{
    const duet_img_policy_t *pol = s->pol;
    if (s->have_key_id != s->have_sig)
        return DUET_ERR_IMG_BAD_TRAILER; /* a key id without signature or the reverse */
    if (!s->have_sha)
        return DUET_ERR_IMG_NO_HASH;
    if (!same(s->sha_want, s->info.sha256, DUET_IMG_HASH_LEN))
        return DUET_ERR_IMG_BAD_HASH;
    s->info.signed_ok = false;
    if (!s->have_sig)
        return pol->require_signature ? DUET_ERR_IMG_NO_SIG : DUET_OK;
    if (pol->key_count == 0 && !pol->require_signature)
        return DUET_OK; /* no trust anchors and none needed: accepted as unsigned */
    for (unsigned k = 0; k < pol->key_count; k++) {
        if (!same(s->pol_key_ids[k], s->info.key_id, DUET_IMG_KEY_ID_LEN))
            continue;
        memcpy(s->info.sig, s->sig, DUET_IMG_SIG_LEN);
        for (unsigned i = 0; i < pol->known_count && i < DUET_POLICY_MAX_KNOWN; i++) {
            if (same(pol->known[i].head_sha256, s->info.sha256, DUET_IMG_HASH_LEN) &&
                same(pol->known[i].sig, s->sig, DUET_IMG_SIG_LEN)) {
                s->info.signed_ok = true; /* this exact head + signature verified before */
                return DUET_OK;
            }
        }
        DUET_TRY(duet_crypto_ecdsa_verify(pol->keys[k], s->info.sha256, s->sig));
        s->info.signed_ok = true;
        return DUET_OK;
    }
    return DUET_ERR_IMG_UNKNOWN_KEY;
}

duet_err_t duet_img_check_final(duet_img_stream_t *s)
{
    return same(s->payload_got, s->info.payload_sha256, DUET_IMG_HASH_LEN) ? DUET_OK
                                                                          : DUET_ERR_IMG_BAD_HASH;
}
