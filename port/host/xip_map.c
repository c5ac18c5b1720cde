/*
 * xip_map.c - the host port's model of XIP (docs/simulator.md "XIP", docs/xip.md):
 * the flash mapping of an XIP program and the flash-write lockout.
 *
 * Mapping: duet_port_core1_map() copies the slot's mapped pages [ih_map_offset, +whole
 * 64 KiB pages) from the flash file into a memfd, the model of the flash cache; the
 * child maps that memfd read+exec at ih_map_addr (sdk/arch/host/xip.c).
 * Lockout, around every flash program/erase (the flash guard of flash_file.c, installed
 * on the first map), like the chip's flash driver that turns the cache off:
 *   1. sc_park_req = odd, DUET_HOST_PARK_SIGNAL to the child (its RAM park handler);
 *   2. wait for sc_park_ack == req, at most s_timeout_us; no ack: SIGSTOP (the chip's
 *      hardware stall) and wait until the kernel reports it stopped;
 *   3. ftruncate(memfd, 0): "cache off". The child's pages are gone: any fetch or load
 *      from the mapping now raises SIGBUS, reported as "flash access during flash
 *      write" (fault.c), instead of silently reading flash in the middle of a write;
 *   4. the operation;
 *   5. the pages back (resize + refill from flash: the "cache" refills), SIGCONT if
 *      stopped, sc_park_req = even (release); the parked time goes into the stats.
 * Single-threaded (the core-0 thread), like every port function.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "duet/host_child.h"
#include "duet/host_flash.h"
#include "duet/host_port.h"
#include "duet/shm.h"
#include "host_xip.h"

#define PARK_TIMEOUT_US 20000u /* a scheduled child answers in microseconds */

static struct {
    int fd; /* memfd with the mapped pages, -1 = no XIP image mapped */
    duet_area_t slot;
    uint32_t off;   /* slot offset of the pages (ih_map_offset) */
    uint32_t pages; /* bytes mapped (whole 64 KiB pages) */
    uint32_t addr;  /* ih_map_addr */
    /* lockout in progress */
    bool active, stopped;
    pid_t pid;
    uint32_t req;
    uint64_t t0;
} s_x = {.fd = -1};
static uint32_t s_timeout_us = PARK_TIMEOUT_US;
static duet_host_xip_stats_t s_stats;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The simulator has no peripherals to hand to core 1. */
void duet_port_core1_owns(char *buf, size_t cap)
{
    buf[0] = '\0';
    (void)cap;
}

void duet_port_xip_window(duet_xip_window_t *w)
{
    *w = (duet_xip_window_t){DUET_HOST_XIP_BASE, DUET_HOST_XIP_BASE, DUET_HOST_XIP_SIZE};
}

void host_xip_unmap(void)
{
    if (s_x.fd >= 0)
        close(s_x.fd);
    s_x.fd = -1;
}

/* Copy the pages from flash into the memfd (sized to them first). */
static duet_err_t fill(void)
{
    if (ftruncate(s_x.fd, (off_t)s_x.pages) != 0)
        return DUET_ERR_IO;
    uint8_t buf[16384];
    for (uint32_t pos = 0; pos < s_x.pages; pos += sizeof buf) {
        DUET_TRY(duet_port_flash_read(s_x.slot, s_x.off + pos, buf, sizeof buf));
        if (pwrite(s_x.fd, buf, sizeof buf, (off_t)pos) != (ssize_t)sizeof buf)
            return DUET_ERR_IO;
    }
    return DUET_OK;
}

duet_err_t duet_port_core1_map(duet_area_t slot, const duet_img_info_t *img)
{
    if (img == NULL || slot > DUET_AREA_SLOT_B || !(img->hdr.ih_flags & DUET_IMG_F_XIP))
        return DUET_ERR_INVAL;
    if (duet_host_core1_pid() != 0)
        return DUET_ERR_STATE; /* core 1 is stopped while loading */
    const duet_img_hdr_t *h = &img->hdr;
    uint64_t pages =
        ((uint64_t)h->ih_map_size + DUET_XIP_PAGE - 1u) / DUET_XIP_PAGE * DUET_XIP_PAGE;
    if (h->ih_map_addr < DUET_HOST_XIP_BASE ||
        h->ih_map_addr + pages > (uint64_t)DUET_HOST_XIP_BASE + DUET_HOST_XIP_SIZE)
        return DUET_ERR_IMG_XIP_RANGE; /* the verifier checked it against the same range */
    host_xip_unmap();
    static const duet_host_flash_guard_t guard = {host_xip_lockout_begin, host_xip_lockout_end};
    duet_host_flash_set_guard(&guard);
    s_x.fd = memfd_create("duet-xip", MFD_CLOEXEC);
    if (s_x.fd < 0)
        return DUET_ERR_IO;
    s_x.slot = slot;
    s_x.off = h->ih_map_offset;
    s_x.pages = (uint32_t)pages;
    s_x.addr = h->ih_map_addr;
    duet_err_t e = fill();
    if (e != DUET_OK)
        host_xip_unmap();
    return e;
}

unsigned host_xip_child_env(char vars[][48], int *fd)
{
    *fd = s_x.fd;
    if (s_x.fd < 0)
        return 0;
    snprintf(vars[0], 48, "%s=%d", DUET_HOST_ENV_XIP_FD, s_x.fd);
    snprintf(vars[1], 48, "%s=%u", DUET_HOST_ENV_XIP_ADDR, (unsigned)s_x.addr);
    snprintf(vars[2], 48, "%s=%u", DUET_HOST_ENV_XIP_SIZE, (unsigned)s_x.pages);
    return 3;
}

/* Wait until the child is stopped (or gone), without reaping it. */
static void wait_stopped(pid_t pid)
{
    siginfo_t si;
    int r;
    do {
        memset(&si, 0, sizeof si);
        r = waitid(P_PID, (id_t)pid, &si, WSTOPPED | WEXITED | WNOWAIT);
    } while (r < 0 && errno == EINTR);
}

duet_err_t host_xip_lockout_begin(duet_area_t area, uint32_t off, size_t len)
{
    pid_t pid = duet_host_core1_pid();
    if (s_x.fd < 0 || pid == 0)
        return DUET_OK; /* no XIP program runs: nothing maps flash */
    if (area == s_x.slot && off < (uint64_t)s_x.off + s_x.pages && s_x.off < (uint64_t)off + len)
        return DUET_ERR_BUSY; /* the running program's own pages: stop it first */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
        return DUET_OK; /* it ended and is not reaped yet: nothing runs from flash */
    size_t size = 0;
    duet_shm_ctrl_t *c = duet_port_shm(&size);
    if (c == NULL)
        return DUET_OK;
    s_x.active = true;
    s_x.stopped = false;
    s_x.pid = pid;
    s_x.t0 = now_ns();
    s_x.req = (__atomic_load_n(&c->sc_park_req, __ATOMIC_RELAXED) | 1u) + 2u; /* odd, new */
    __atomic_store_n(&c->sc_park_req, s_x.req, __ATOMIC_RELEASE);
    (void)kill(pid, DUET_HOST_PARK_SIGNAL); /* ESRCH: it died; the wait below ends */
    const struct timespec nap = {0, 10000};
    for (;;) {
        if (__atomic_load_n(&c->sc_park_ack, __ATOMIC_ACQUIRE) == s_x.req)
            break;
        if ((now_ns() - s_x.t0) / 1000u >= s_timeout_us) {
            /* No answer in time (masked, busy in the kernel, still booting): stall it,
             * as the chip stalls core 1 in hardware. */
            if (kill(pid, SIGSTOP) == 0) {
                wait_stopped(pid);
                s_x.stopped = true;
                s_stats.stalls++;
                __atomic_store_n(&c->sc_park_stalls, c->sc_park_stalls + 1u, __ATOMIC_RELEASE);
            }
            break;
        }
        nanosleep(&nap, NULL);
    }
    if (ftruncate(s_x.fd, 0) != 0) /* cache off: the child's pages are gone */
        duet_port_log(DUET_PLOG_ERROR, "duet", "xip: cannot turn the mapping off: %s",
                      strerror(errno));
    return DUET_OK;
}

/* Did the child die while parked? Then it touched the mapping (or was killed). */
static void check_victim(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) {
        s_stats.violations++;
        duet_port_log(DUET_PLOG_ERROR, "duet", "xip: %s (core 1 ended during the write)",
                      duet_err_str(DUET_ERR_XIP_LOCKOUT));
    }
}

void host_xip_lockout_end(bool erase)
{
    if (!s_x.active)
        return;
    s_x.active = false;
    if (fill() != DUET_OK)
        duet_port_log(DUET_PLOG_ERROR, "duet", "xip: cannot refill the mapping");
    if (s_x.stopped)
        (void)kill(s_x.pid, SIGCONT);
    size_t size = 0;
    duet_shm_ctrl_t *c = duet_port_shm(&size);
    if (c != NULL)
        __atomic_store_n(&c->sc_park_req, s_x.req + 1u, __ATOMIC_RELEASE); /* even: go */
    uint64_t dt = now_ns() - s_x.t0;
    uint32_t *n = erase ? &s_stats.erases : &s_stats.writes;
    uint64_t *tot = erase ? &s_stats.erase_ns_total : &s_stats.write_ns_total;
    uint64_t *max = erase ? &s_stats.erase_ns_max : &s_stats.write_ns_max;
    (*n)++;
    *tot += dt;
    if (dt > *max)
        *max = dt;
    s_stats.last_ns = dt;
    check_victim(s_x.pid);
}

void duet_host_xip_stats(duet_host_xip_stats_t *out)
{
    *out = s_stats;
}

void duet_host_xip_reset_stats(void)
{
    memset(&s_stats, 0, sizeof s_stats);
}

void duet_host_xip_set_park_timeout(uint32_t us)
{
    s_timeout_us = us;
}
