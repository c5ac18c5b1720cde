/*
 * flash_file.c - host port: duet_port_flash_* on a file, with NOR semantics and
 * power-cut injection (see duet/host_flash.h for the file layout and fault model).
 *
 * Organisation: geometry/lookup helpers, the fault counter (fault_gate decides how
 * much of an op may happen; dropped writes are decided before it), then open/close
 * and the four port functions.
 * What must not change: the file layout (tools and tests write slots directly) and
 * "after a cut every write/erase fails" (the power-cut tests rely on it to model a
 * dead device instead of a program that keeps going).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duet/host_flash.h"
#include "duet/port.h"

static struct {
    int fd;
    duet_host_flash_geom_t geom;
    duet_host_flash_stats_t stats;
    bool cut_bytes_armed;
    uint64_t bytes_left;  /* bytes that may still be programmed before the cut */
    uint64_t fail_op_at;  /* 0 = none; else ops until the failing one (1 = next) */
    bool fail_torn;
    bool dead;
    uint64_t drop_left;   /* writes still to be dropped silently */
} g_flash = { .fd = -1 };
static duet_host_flash_guard_t g_guard; /* XIP lockout (xip_map.c), NULL = none */

void duet_host_flash_set_guard(const duet_host_flash_guard_t *guard)
{
    if (guard != NULL)
        g_guard = *guard;
    else
        memset(&g_guard, 0, sizeof g_guard);
}

static duet_err_t guard_begin(duet_area_t area, uint32_t off, size_t len)
{
    return g_guard.begin != NULL ? g_guard.begin(area, off, len) : DUET_OK;
}

static void guard_end(bool erase)
{
    if (g_guard.end != NULL)
        g_guard.end(erase);
}

static uint32_t area_base(duet_area_t area)
{
    return area == DUET_AREA_STATE ? 2u * g_flash.geom.slot_size
                                   : (uint32_t)area * g_flash.geom.slot_size;
}

static uint32_t area_size(duet_area_t area)
{
    return area == DUET_AREA_STATE ? g_flash.geom.state_size : g_flash.geom.slot_size;
}

static duet_err_t check_range(duet_area_t area, uint32_t off, size_t len)
{
    if (g_flash.fd < 0)
        return DUET_ERR_STATE;
    if ((unsigned)area >= DUET_AREA__COUNT)
        return DUET_ERR_INVAL;
    uint32_t size = area_size(area);
    if (off > size || len > (size_t)(size - off))
        return DUET_ERR_INVAL;
    return DUET_OK;
}

/* Whole-buffer pread/pwrite: retry on EINTR and short transfers; anything else is IO. */
static duet_err_t xfer_all(bool write, uint64_t pos, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write ? pwrite(g_flash.fd, p, len, (off_t)pos)
                          : pread(g_flash.fd, p, len, (off_t)pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return DUET_ERR_IO;
        p += n;
        pos += (uint64_t)n;
        len -= (size_t)n;
    }
    return DUET_OK;
}

static duet_err_t pread_all(uint64_t pos, void *buf, size_t len)
{
    return xfer_all(false, pos, buf, len);
}

static duet_err_t pwrite_all(uint64_t pos, const void *buf, size_t len)
{
    return xfer_all(true, pos, (void *)(uintptr_t)buf, len); /* not written through */
}

/* Decide how much of an op of 'len' units may happen. Returns true if the op fails
 * (then *done units were still carried out, modelling an interrupted op). 'bytes'
 * says whether the op programs bytes (counts against cut_after_bytes). */
static bool fault_gate(size_t len, bool bytes, size_t *done)
{
    *done = len;
    if (g_flash.dead) {
        *done = 0;
        return true;
    }
    if (g_flash.fail_op_at != 0 && --g_flash.fail_op_at == 0) {
        g_flash.dead = true;
        *done = g_flash.fail_torn ? len / 2 : 0;
        return true;
    }
    if (bytes && g_flash.cut_bytes_armed && len > g_flash.bytes_left) {
        g_flash.dead = true;
        *done = (size_t)g_flash.bytes_left;
        g_flash.bytes_left = 0;
        return true;
    }
    if (bytes && g_flash.cut_bytes_armed)
        g_flash.bytes_left -= len;
    return false;
}

duet_err_t duet_host_flash_open(const char *path, const duet_host_flash_geom_t *geom)
{
    duet_host_flash_close();
    if (path == NULL || geom == NULL || geom->erase_size == 0 ||
        (geom->erase_size & (geom->erase_size - 1)) != 0 || geom->slot_size == 0 ||
        geom->slot_size % geom->erase_size != 0 || geom->state_size < 2u * geom->erase_size ||
        geom->state_size % geom->erase_size != 0 ||
        (uint64_t)geom->slot_size * 2u + geom->state_size > UINT32_MAX)
        return DUET_ERR_INVAL;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return DUET_ERR_IO;
    uint64_t total = (uint64_t)geom->slot_size * 2u + geom->state_size;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return DUET_ERR_IO;
    }
    memset(&g_flash, 0, sizeof(g_flash));
    g_flash.fd = fd;
    g_flash.geom = *geom;
    if (st.st_size == 0) {
        /* New flash: erased state everywhere. */
        uint8_t ff[4096];
        memset(ff, 0xFF, sizeof(ff));
        for (uint64_t pos = 0; pos < total; pos += sizeof(ff)) {
            size_t n = total - pos < sizeof(ff) ? (size_t)(total - pos) : sizeof(ff);
            if (pwrite_all(pos, ff, n) != DUET_OK) {
                duet_host_flash_close();
                return DUET_ERR_IO;
            }
        }
    } else if ((uint64_t)st.st_size != total) {
        duet_host_flash_close();
        return DUET_ERR_INVAL;
    }
    return DUET_OK;
}

void duet_host_flash_close(void)
{
    if (g_flash.fd >= 0)
        close(g_flash.fd); /* nothing buffered: every op was a pwrite */
    memset(&g_flash, 0, sizeof(g_flash));
    g_flash.fd = -1;
}

void duet_host_flash_cut_after_bytes(uint64_t n)
{
    g_flash.cut_bytes_armed = true;
    g_flash.bytes_left = n;
}

void duet_host_flash_fail_op(uint64_t n, bool torn)
{
    g_flash.fail_op_at = n;
    g_flash.fail_torn = torn;
}

void duet_host_flash_drop_writes(uint64_t n)
{
    g_flash.drop_left = n;
}

void duet_host_flash_fault_clear(void)
{
    g_flash.cut_bytes_armed = false;
    g_flash.fail_op_at = 0;
    g_flash.drop_left = 0;
}

bool duet_host_flash_dead(void)
{
    return g_flash.dead;
}

void duet_host_flash_stats(duet_host_flash_stats_t *st)
{
    *st = g_flash.stats;
}

/* ---- port functions ------------------------------------------------------------- */

duet_err_t duet_port_flash_info(duet_area_t area, uint32_t *size, uint32_t *erase_size)
{
    DUET_TRY(check_range(area, 0, 0));
    if (size != NULL)
        *size = area_size(area);
    if (erase_size != NULL)
        *erase_size = g_flash.geom.erase_size;
    return DUET_OK;
}

duet_err_t duet_port_flash_read(duet_area_t area, uint32_t off, void *buf, size_t len)
{
    DUET_TRY(check_range(area, off, len));
    if (len == 0)
        return DUET_OK;
    if (buf == NULL)
        return DUET_ERR_INVAL;
    return pread_all((uint64_t)area_base(area) + off, buf, len);
}

static duet_err_t do_write(duet_area_t area, uint32_t off, const void *buf, size_t len)
{
    g_flash.stats.writes++;
    if (g_flash.drop_left > 0 && !g_flash.dead) {
        g_flash.drop_left--;
        return DUET_OK; /* a write that does not stick, reported as done */
    }
    size_t done;
    bool fail = fault_gate(len, true, &done);
    /* NOR: programming only clears bits, so the result is old & new. */
    const uint8_t *src = buf;
    uint64_t pos = (uint64_t)area_base(area) + off;
    uint8_t tmp[512];
    size_t i = 0;
    while (i < done) {
        size_t n = done - i < sizeof(tmp) ? done - i : sizeof(tmp);
        DUET_TRY(pread_all(pos + i, tmp, n));
        for (size_t k = 0; k < n; k++)
            tmp[k] &= src[i + k];
        DUET_TRY(pwrite_all(pos + i, tmp, n));
        i += n;
    }
    g_flash.stats.bytes_written += done;
    return fail ? DUET_ERR_IO : DUET_OK;
}

/* Every program/erase runs inside the guard: it parks a running XIP program (xip_map.c),
 * as the chip's flash driver disables the cache core 1 runs from, so no caller has to
 * remember it. */
duet_err_t duet_port_flash_write(duet_area_t area, uint32_t off, const void *buf, size_t len)
{
    DUET_TRY(check_range(area, off, len));
    if (len == 0)
        return DUET_OK;
    if (buf == NULL)
        return DUET_ERR_INVAL;
    DUET_TRY(guard_begin(area, off, len));
    duet_err_t e = do_write(area, off, buf, len);
    guard_end(false);
    return e;
}

static duet_err_t do_erase(duet_area_t area, uint32_t off, size_t len)
{
    g_flash.stats.erases++;
    size_t done;
    bool fail = fault_gate(len, false, &done);
    uint8_t ff[512];
    memset(ff, 0xFF, sizeof(ff));
    uint64_t pos = (uint64_t)area_base(area) + off;
    for (size_t i = 0; i < done;) {
        size_t n = done - i < sizeof(ff) ? done - i : sizeof(ff);
        DUET_TRY(pwrite_all(pos + i, ff, n));
        i += n;
    }
    return fail ? DUET_ERR_IO : DUET_OK;
}

duet_err_t duet_port_flash_erase(duet_area_t area, uint32_t off, size_t len)
{
    DUET_TRY(check_range(area, off, len));
    uint32_t es = g_flash.geom.erase_size;
    if (off % es != 0 || len % es != 0)
        return DUET_ERR_INVAL;
    if (len == 0)
        return DUET_OK;
    DUET_TRY(guard_begin(area, off, len));
    duet_err_t e = do_erase(area, off, len);
    guard_end(true);
    return e;
}
