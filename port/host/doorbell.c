/*
 * doorbell.c - the host port's doorbells: two non-blocking eventfds, one per direction.
 *
 * Why eventfds and not futex words in shared memory: the control block has no spare
 * word the chip would also use, and poll() on an fd gives a timed wait (and lets the
 * simulator's main loop wait on the doorbell and its HTTP socket together) with no
 * lost-wakeup races. An eventfd is a counter: several rings before a wait coalesce into
 * one wake-up, which is exactly the chip's level-type FROM_CPU interrupt semantics.
 * The child inherits both fds (see host_child.h); they live as long as the simulator.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "duet/port.h"
#include "duet/host_port.h"

static int s_to_c1 = -1, s_to_c0 = -1;

duet_err_t duet_host_doorbell_fds(int *to_c1, int *to_c0)
{
    if (s_to_c1 < 0) {
        int a = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        int b = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (a < 0 || b < 0) {
            if (a >= 0)
                close(a);
            if (b >= 0)
                close(b);
            return DUET_ERR_IO;
        }
        s_to_c1 = a;
        s_to_c0 = b;
    }
    if (to_c1 != NULL)
        *to_c1 = s_to_c1;
    if (to_c0 != NULL)
        *to_c0 = s_to_c0;
    return DUET_OK;
}

void duet_host_doorbell_drain(void)
{
    uint64_t v;
    if (duet_host_doorbell_fds(NULL, NULL) != DUET_OK)
        return;
    /* Non-blocking: each read returns the whole count or EAGAIN. */
    while (read(s_to_c1, &v, sizeof v) == (ssize_t)sizeof v) {
    }
    while (read(s_to_c0, &v, sizeof v) == (ssize_t)sizeof v) {
    }
}

void duet_port_doorbell_ring(void)
{
    uint64_t one = 1;
    if (duet_host_doorbell_fds(NULL, NULL) != DUET_OK)
        return;
    ssize_t r = write(s_to_c1, &one, sizeof one);
    (void)r; /* only fails if the counter is saturated: the wake-up is pending anyway */
}

duet_err_t duet_port_doorbell_wait(uint32_t timeout_us)
{
    if (duet_host_doorbell_fds(NULL, NULL) != DUET_OK)
        return DUET_ERR_IO;
    uint64_t deadline = duet_port_now_us() + timeout_us;
    for (;;) {
        uint64_t now = duet_port_now_us();
        uint64_t left = deadline > now ? deadline - now : 0;
        struct pollfd p = {.fd = s_to_c0, .events = POLLIN};
        int r = poll(&p, 1, (int)((left + 999u) / 1000u));
        if (r > 0) {
            uint64_t v;
            if (read(s_to_c0, &v, sizeof v) == (ssize_t)sizeof v)
                return DUET_OK;
        } else if (r < 0 && errno != EINTR) {
            return DUET_ERR_IO;
        }
        if (duet_port_now_us() >= deadline)
            return DUET_ERR_TIMEOUT;
    }
}
