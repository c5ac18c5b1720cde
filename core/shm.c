/*
 * shm.c - lay out, check and look up the shared area (control block + rings).
 *
 * Organisation: region helpers, duet_shm_init (core 0 only, core 1 stopped),
 * duet_shm_check (either side; the area is hostile input), lookups of the log ring and
 * the channel rings. The layout itself is the struct in include/duet/shm.h, described
 * with writer/reader per field in docs/shm-protocol.md; it must not change without
 * bumping DUET_SHM_LAYOUT_VERSION.
 *
 * Every value read from the area is read once (volatile) into a local and checked with
 * 64-bit arithmetic before it becomes a pointer: the peer may change the area while we
 * look at it, so a lookup re-checks the entry it returns instead of trusting an earlier
 * duet_shm_check.
 *
 * Freestanding C11 (memset/memcpy come from the core-1 SDK on the chip).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#if __STDC_HOSTED__
#include <string.h>
#else
/* Freestanding (core 1): no libc headers; the SDK provides these two (rt_libc.c). */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
#endif

#include "duet/shm.h"

#define RING_ALIGN 64u /* each ring header starts a cache line */
#define MAX_REGIONS (1u + 2u * DUET_SHM_MAX_CHANNELS)

typedef struct {
    uint32_t off, fp;
} region_t;

static uint32_t rd32(const void *base, size_t off)
{
    return *(const volatile uint32_t *)(const void *)((const uint8_t *)base + off);
}

static uint16_t rd16(const void *base, size_t off)
{
    return *(const volatile uint16_t *)(const void *)((const uint8_t *)base + off);
}

static int is_pow2(uint32_t v)
{
    return v != 0u && (v & (v - 1u)) == 0u;
}

/* A ring region is plausible: inside [CTRL_SIZE, limit), aligned, header + power-of-two
 * data of at least DUET_RING_MIN_SIZE. */
static int region_ok(uint32_t off, uint32_t fp, uint64_t limit)
{
    if (off < DUET_SHM_CTRL_SIZE || (off & 3u) != 0u)
        return 0;
    if (fp < DUET_RING_HDR_SIZE + DUET_RING_MIN_SIZE || !is_pow2(fp - DUET_RING_HDR_SIZE))
        return 0;
    return (uint64_t)off + fp <= limit;
}

static int overlap(region_t a, region_t b)
{
    return (uint64_t)a.off < (uint64_t)b.off + b.fp && (uint64_t)b.off < (uint64_t)a.off + a.fp;
}

/* Common header checks; *limit = usable bytes of the area. */
static duet_err_t check_base(const void *shm, size_t size, uint64_t *limit)
{
    if (shm == NULL || ((uintptr_t)shm & 3u) != 0u)
        return DUET_ERR_INVAL;
    if (size < DUET_SHM_CTRL_SIZE)
        return DUET_ERR_SHM_BAD_LAYOUT;
    if (rd32(shm, offsetof(duet_shm_ctrl_t, sc_magic)) != DUET_SHM_MAGIC)
        return DUET_ERR_SHM_BAD_MAGIC;
    if (rd16(shm, offsetof(duet_shm_ctrl_t, sc_layout)) != DUET_SHM_LAYOUT_VERSION)
        return DUET_ERR_SHM_BAD_VERSION;
    uint32_t shm_size = rd32(shm, offsetof(duet_shm_ctrl_t, sc_shm_size));
    if (rd16(shm, offsetof(duet_shm_ctrl_t, sc_ctrl_size)) != DUET_SHM_CTRL_SIZE ||
        shm_size < DUET_SHM_CTRL_SIZE || (uint64_t)shm_size > (uint64_t)size)
        return DUET_ERR_SHM_BAD_LAYOUT;
    *limit = shm_size;
    return DUET_OK;
}

/* ------------------------------------------------------------------ init */

static int name_eq(const char *a, const char *b);

static duet_err_t check_config(const duet_shm_config_t *cfg)
{
    if (cfg->chan_count > DUET_SHM_MAX_CHANNELS)
        return DUET_ERR_INVAL;
    if (cfg->log_ring_size < DUET_RING_MIN_SIZE || cfg->log_ring_size > DUET_RING_MAX_SIZE ||
        !is_pow2(cfg->log_ring_size))
        return DUET_ERR_INVAL;
    for (unsigned i = 0; i < cfg->chan_count; i++) {
        const char *n = cfg->chans[i].name;
        uint32_t rs = cfg->chans[i].ring_size;
        if (n == NULL || n[0] == '\0')
            return DUET_ERR_INVAL;
        size_t len = 0;
        while (len < DUET_SHM_CHAN_NAME_LEN && n[len] != '\0')
            len++;
        if (len >= DUET_SHM_CHAN_NAME_LEN) /* room for the NUL */
            return DUET_ERR_INVAL;
        if (rs < DUET_RING_MIN_SIZE || rs > DUET_RING_MAX_SIZE || !is_pow2(rs))
            return DUET_ERR_INVAL;
        for (unsigned j = 0; j < i; j++)
            if (name_eq(n, cfg->chans[j].name))
                return DUET_ERR_INVAL;
    }
    return DUET_OK;
}

/* Names compare like strncmp(a, b, DUET_SHM_CHAN_NAME_LEN) == 0 (no libc on core 1). */
static int name_eq(const char *a, const char *b)
{
    for (size_t k = 0; k < DUET_SHM_CHAN_NAME_LEN; k++) {
        if (a[k] != b[k])
            return 0;
        if (a[k] == '\0')
            return 1;
    }
    return 1;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1u) & ~(a - 1u);
}

duet_err_t duet_shm_init(void *shm, size_t size, const duet_shm_config_t *cfg, uint32_t epoch)
{
    if (shm == NULL || cfg == NULL || epoch == 0u || ((uintptr_t)shm & 3u) != 0u)
        return DUET_ERR_INVAL;
    DUET_TRY(check_config(cfg));
    uint64_t size64 = size; /* size_t may be 32 bits (core 1) */
    if (size < DUET_SHM_CTRL_SIZE || size64 > UINT32_MAX)
        return DUET_ERR_NOMEM;

    /* Plan every region before touching the area. */
    uint64_t at = DUET_SHM_CTRL_SIZE;
    uint32_t log_off = (uint32_t)at;
    uint32_t log_fp = DUET_RING_HDR_SIZE + cfg->log_ring_size;
    at = align_up(at + log_fp, RING_ALIGN);
    uint32_t chan_off[DUET_SHM_MAX_CHANNELS][2];
    for (unsigned i = 0; i < cfg->chan_count; i++) {
        uint64_t fp = (uint64_t)DUET_RING_HDR_SIZE + cfg->chans[i].ring_size;
        for (unsigned d = 0; d < 2; d++) {
            if (at + fp > size)
                return DUET_ERR_NOMEM;
            chan_off[i][d] = (uint32_t)at;
            at = align_up(at + fp, RING_ALIGN);
        }
    }
    if ((uint64_t)log_off + log_fp > size)
        return DUET_ERR_NOMEM;

    duet_shm_ctrl_t *c = shm;
    /* The crash record and the user words survive a re-init of a valid area. */
    int keep = c->sc_magic == DUET_SHM_MAGIC && c->sc_layout == DUET_SHM_LAYOUT_VERSION &&
               c->sc_ctrl_size == DUET_SHM_CTRL_SIZE;
    duet_crash_t crash;
    uint32_t user[10];
    if (keep && c->sc_crash.cr_magic == DUET_CRASH_MAGIC)
        memcpy(&crash, &c->sc_crash, sizeof(crash));
    else
        memset(&crash, 0, sizeof(crash));
    if (keep)
        memcpy(user, c->sc_user, sizeof(user));
    else
        memset(user, 0, sizeof(user));

    /* A reader that finds the magic must find a complete block: clear it first, set it
     * last with release. */
    atomic_store_explicit((_Atomic uint32_t *)&c->sc_magic, 0u, memory_order_relaxed);
    memset((uint8_t *)shm + sizeof(uint32_t), 0, DUET_SHM_CTRL_SIZE - sizeof(uint32_t));
    c->sc_layout = DUET_SHM_LAYOUT_VERSION;
    c->sc_ctrl_size = DUET_SHM_CTRL_SIZE;
    c->sc_shm_size = (uint32_t)size;
    c->sc_epoch = epoch;
    c->sc_c0_cmd = 0u;
    c->sc_c1_state = DUET_C1_OFF;
    c->sc_log_off = log_off;
    c->sc_log_size = log_fp;
    c->sc_chan_count = cfg->chan_count;
    memcpy(&c->sc_crash, &crash, sizeof(crash));
    memcpy(c->sc_user, user, sizeof(user));

    DUET_TRY(duet_ring_init((uint8_t *)shm + log_off, log_fp, epoch));
    for (unsigned i = 0; i < cfg->chan_count; i++) {
        duet_shm_chan_t *ch = &c->sc_chan[i];
        uint32_t fp = DUET_RING_HDR_SIZE + cfg->chans[i].ring_size;
        for (size_t k = 0; k < DUET_SHM_CHAN_NAME_LEN && cfg->chans[i].name[k] != '\0'; k++)
            ch->ch_name[k] = cfg->chans[i].name[k]; /* rest stays NUL from the memset */
        ch->ch_to_c1_off = chan_off[i][0];
        ch->ch_to_c0_off = chan_off[i][1];
        ch->ch_ring_size = fp;
        ch->ch_flags = 0u;
        DUET_TRY(duet_ring_init((uint8_t *)shm + chan_off[i][0], fp, epoch));
        DUET_TRY(duet_ring_init((uint8_t *)shm + chan_off[i][1], fp, epoch));
    }
    atomic_store_explicit((_Atomic uint32_t *)&c->sc_magic, DUET_SHM_MAGIC, memory_order_release);
    return DUET_OK;
}

/* ------------------------------------------------------------------ check / lookup */

/* Reads channel entry i once; returns 0 if its name is not NUL-terminated or empty. */
static int read_chan(const void *shm, unsigned i, duet_shm_chan_t *out)
{
    const volatile uint8_t *src =
        (const volatile uint8_t *)shm + offsetof(duet_shm_ctrl_t, sc_chan) + i * sizeof(*out);
    uint8_t *dst = (uint8_t *)out;
    for (size_t k = 0; k < sizeof(*out); k++)
        dst[k] = src[k];
    if (out->ch_name[0] == '\0')
        return 0;
    for (size_t k = 0; k < DUET_SHM_CHAN_NAME_LEN; k++)
        if (out->ch_name[k] == '\0')
            return 1;
    return 0;
}

duet_err_t duet_shm_check(const void *shm, size_t size)
{
    uint64_t limit;
    DUET_TRY(check_base(shm, size, &limit));
    region_t reg[MAX_REGIONS];
    unsigned n = 0;
    reg[n].off = rd32(shm, offsetof(duet_shm_ctrl_t, sc_log_off));
    reg[n].fp = rd32(shm, offsetof(duet_shm_ctrl_t, sc_log_size));
    if (!region_ok(reg[n].off, reg[n].fp, limit))
        return DUET_ERR_SHM_BAD_LAYOUT;
    n++;
    uint32_t count = rd32(shm, offsetof(duet_shm_ctrl_t, sc_chan_count));
    if (count > DUET_SHM_MAX_CHANNELS)
        return DUET_ERR_SHM_BAD_LAYOUT;
    for (unsigned i = 0; i < count; i++) {
        duet_shm_chan_t ch;
        if (!read_chan(shm, i, &ch) || ch.ch_flags != 0u)
            return DUET_ERR_SHM_BAD_LAYOUT;
        for (unsigned j = 0; j < i; j++) {
            duet_shm_chan_t other;
            (void)read_chan(shm, j, &other); /* already validated above */
            if (name_eq(ch.ch_name, other.ch_name))
                return DUET_ERR_SHM_BAD_LAYOUT;
        }
        reg[n].off = ch.ch_to_c1_off;
        reg[n].fp = ch.ch_ring_size;
        reg[n + 1].off = ch.ch_to_c0_off;
        reg[n + 1].fp = ch.ch_ring_size;
        if (!region_ok(reg[n].off, reg[n].fp, limit) ||
            !region_ok(reg[n + 1].off, reg[n + 1].fp, limit))
            return DUET_ERR_SHM_BAD_LAYOUT;
        n += 2;
    }
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i + 1; j < n; j++)
            if (overlap(reg[i], reg[j]))
                return DUET_ERR_SHM_BAD_LAYOUT;
    return DUET_OK;
}

duet_err_t duet_shm_log_ring(void *shm, size_t size, void **ring, size_t *footprint)
{
    if (ring == NULL || footprint == NULL)
        return DUET_ERR_INVAL;
    uint64_t limit;
    DUET_TRY(check_base(shm, size, &limit));
    uint32_t off = rd32(shm, offsetof(duet_shm_ctrl_t, sc_log_off));
    uint32_t fp = rd32(shm, offsetof(duet_shm_ctrl_t, sc_log_size));
    if (!region_ok(off, fp, limit))
        return DUET_ERR_SHM_BAD_LAYOUT;
    *ring = (uint8_t *)shm + off;
    *footprint = fp;
    return DUET_OK;
}

duet_err_t duet_shm_chan_ring(void *shm, size_t size, const char *name, int to_c1,
                              void **ring, size_t *footprint)
{
    if (name == NULL || ring == NULL || footprint == NULL)
        return DUET_ERR_INVAL;
    uint64_t limit;
    DUET_TRY(check_base(shm, size, &limit));
    uint32_t count = rd32(shm, offsetof(duet_shm_ctrl_t, sc_chan_count));
    if (count > DUET_SHM_MAX_CHANNELS)
        return DUET_ERR_SHM_BAD_LAYOUT;
    for (unsigned i = 0; i < count; i++) {
        duet_shm_chan_t ch;
        if (!read_chan(shm, i, &ch))
            continue;
        if (!name_eq(ch.ch_name, name))
            continue;
        uint32_t off = to_c1 ? ch.ch_to_c1_off : ch.ch_to_c0_off;
        if (!region_ok(off, ch.ch_ring_size, limit))
            return DUET_ERR_SHM_BAD_LAYOUT;
        *ring = (uint8_t *)shm + off;
        *footprint = ch.ch_ring_size;
        return DUET_OK;
    }
    return DUET_ERR_NOT_FOUND;
}
