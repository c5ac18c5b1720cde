/*
 * clock.c - the host port's monotonic clock (CLOCK_MONOTONIC, like the core-1 side).
 */
#include <time.h>

#include "duet/port.h"

uint64_t duet_port_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
