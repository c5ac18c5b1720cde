/*
 * xip.c - the host core-1 side of XIP programs (docs/xip.md, docs/simulator.md "XIP"):
 * map the slot's pages that core 0 handed over at the address the program was linked
 * for, and answer core 0's park requests around flash writes.
 *
 * Mapping: core 0 passes a memfd holding the mapped pages (the "flash cache" of this
 * model) and the address; MAP_FIXED puts them over the executable's own .duet_xip range,
 * whose bytes `duet pack` zeroed: the code that runs is the slot's, never a copy in RAM.
 * Park: core 0 makes sc_park_req odd and sends DUET_HOST_PARK_SIGNAL (the chip's
 * FROM_CPU doorbell interrupt). The handler runs on the program thread (the only thread
 * that does not block the signal), acks, calls the park hook, and spins until the
 * request is even again, then returns into the interrupted (flash) code. Everything on
 * this path is RAM code (the executable's ordinary text) and async-signal-safe.
 * While parked, core 0 truncates the memfd ("cache off"): a touch of the mapping then
 * raises SIGBUS, which fault.c reports as "flash access during flash write".
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "duet/host_child.h"
#include "duet/xip.h"
#include "host_arch.h"
#include "rt_priv.h"

/* Defined by sdk/ld/duet_host_xip.ld in XIP programs only. */
extern const char __duet_xip_start[] __attribute__((weak));

static uintptr_t s_lo, s_hi;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_park(int sig)
{
    (void)sig;
    int saved = errno;
    duet_shm_ctrl_t *c = duet_host.shm;
    uint32_t req = duet_rt_ld(&c->sc_park_req);
    if ((req & 1u) == 0) {
        errno = saved;
        return; /* released already (we were stalled before we could answer) */
    }
    uint64_t t0 = now_ns();
    duet_rt_st(&c->sc_park_ack, req);
    const struct timespec nap = {0, 20000};
    while (duet_rt_ld(&c->sc_park_req) == req) {
        duet_park_hook_t hook = duet_rt_priv_park_hook();
        if (hook != NULL)
            hook();
        nanosleep(&nap, NULL);
    }
    uint64_t dt = now_ns() - t0; /* host cycles are nanoseconds (sc_c1_cpu_hz = 1e9) */
    uint32_t d = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
    duet_rt_st(&c->sc_park_last, d);
    if (d > duet_rt_ld(&c->sc_park_max))
        duet_rt_st(&c->sc_park_max, d);
    duet_rt_st(&c->sc_park_total, duet_rt_ld(&c->sc_park_total) + d);
    duet_rt_st(&c->sc_park_count, duet_rt_ld(&c->sc_park_count) + 1u);
    errno = saved;
}

static int env_ul(const char *name, unsigned long *out)
{
    const char *s = getenv(name);
    if (s == NULL || *s == '\0')
        return -1;
    char *end = NULL;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno != 0 || *end != '\0' ? -1 : 0;
}

int duet_host_xip_init(void)
{
    unsigned long fd, addr, size;
    if (env_ul(DUET_HOST_ENV_XIP_FD, &fd) != 0) {
        /* An XIP executable whose pages nobody mapped would run zeroes: refuse. */
        return __duet_xip_start != NULL ? -1 : 0;
    }
    if (env_ul(DUET_HOST_ENV_XIP_ADDR, &addr) != 0 || env_ul(DUET_HOST_ENV_XIP_SIZE, &size) != 0 ||
        __duet_xip_start == NULL || (uintptr_t)__duet_xip_start != addr)
        return -1;
    void *p = mmap((void *)addr, size, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, (int)fd, 0);
    close((int)fd);
    if (p != (void *)addr)
        return -1;
    s_lo = addr;
    s_hi = addr + size;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_park;
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(DUET_HOST_PARK_SIGNAL, &sa, NULL);
}

void duet_host_xip_block(int block)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, DUET_HOST_PARK_SIGNAL);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &s, NULL);
}

bool duet_host_xip_lockout_fault(uintptr_t addr)
{
    return s_hi != 0 && addr >= s_lo && addr < s_hi &&
           (duet_rt_ld(&duet_host.shm->sc_park_req) & 1u) != 0;
}
