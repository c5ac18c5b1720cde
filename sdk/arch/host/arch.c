/*
 * arch.c - the host implementation of the simple duet/rt_arch.h hooks: shared area,
 * time (CLOCK_MONOTONIC), cycles (nanoseconds, so "cycles per sample" reads as ns), and
 * the two doorbells (eventfds inherited from the simulator, see port/host/host_child.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "duet/rt_arch.h"
#include "host_arch.h"

duet_host_arch_t duet_host = {.bell_c1_fd = -1, .bell_c0_fd = -1};

duet_shm_ctrl_t *duet_arch_shm(size_t *size)
{
    if (size != NULL)
        *size = duet_host.shm_size;
    return duet_host.shm;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t duet_arch_time_us(void)
{
    return now_ns() / 1000u;
}

uint32_t duet_arch_cycles(void)
{
    return (uint32_t)now_ns();
}

void duet_arch_doorbell_ring(void)
{
    uint64_t one = 1;
    if (duet_host.bell_c0_fd >= 0) {
        /* Async-signal-safe (the crash path uses it). A full counter cannot happen:
         * core 0 drains it; if it ever did, a lost ring only delays polling. */
        ssize_t r = write(duet_host.bell_c0_fd, &one, sizeof one);
        (void)r;
    }
}

int duet_arch_doorbell_wait(uint32_t timeout_us)
{
    if (duet_host.bell_c1_fd < 0)
        return 0;
    struct pollfd p = {.fd = duet_host.bell_c1_fd, .events = POLLIN};
    int ms = timeout_us == 0 ? 0 : (int)((timeout_us + 999u) / 1000u);
    uint64_t deadline = duet_arch_time_us() + timeout_us;
    for (;;) {
        int r = poll(&p, 1, ms);
        if (r > 0) {
            uint64_t v;
            /* Non-blocking fd: a concurrent drain just makes this read fail (EAGAIN). */
            return read(duet_host.bell_c1_fd, &v, sizeof v) == (ssize_t)sizeof v;
        }
        if (r == 0 || errno != EINTR)
            return 0;
        uint64_t now = duet_arch_time_us();
        if (now >= deadline)
            return 0;
        ms = (int)((deadline - now + 999u) / 1000u);
    }
}
