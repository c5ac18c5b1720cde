/*
 * fake_rt.h - what sdk/src/rt_timing.c needs from the core-1 runtime, faked for the
 * tests: one control block and a cycle counter the test sets. Include once, before
 * including rt_timing.c itself (its statics are then visible to the test).
 */
#ifndef TIMING_FAKE_RT_H
#define TIMING_FAKE_RT_H

#include <stdint.h>

#include "duet/app.h"

static duet_shm_ctrl_t g_ctrl __attribute__((aligned(64)));
static uint32_t g_cycles; /* what the next duet_arch_cycles() returns */

duet_shm_ctrl_t *duet_rt_ctrl(void)
{
    return &g_ctrl;
}

uint32_t duet_arch_cycles(void)
{
    return g_cycles;
}

#include "../../sdk/src/rt_timing.c"

#endif
