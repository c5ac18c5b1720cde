/*
 * crash - fails on command, one way per fault kind the supervisor must recognise
 * (crash_cmd.h). Runs normally (heartbeats) until a command arrives; with
 * CRASH_DEFAULT_CMD / CRASH_AFTER_MS set at build time it fails on its own after that
 * long (the demo uses this: a bad program that crashes every time it starts).
 *
 * The faults are real: a load from an unmapped address, an illegal instruction, an
 * integer division by zero, a recursion that runs off the stack, a spin without
 * heartbeats. volatile keeps the compiler from proving them away or replacing them.
 * Portable: only duet/app.h.
 */
#include "crash_cmd.h"
#include "duet/app.h"

#ifndef CRASH_DEFAULT_CMD
#define CRASH_DEFAULT_CMD CRASH_CMD_NONE
#endif
#ifndef CRASH_AFTER_MS
#define CRASH_AFTER_MS 0
#endif
#ifndef DUET_PROGRAM_VERSION
#define DUET_PROGRAM_VERSION "0.0.0"
#endif

static volatile uint32_t s_sink;
static volatile uintptr_t s_bad_address = CRASH_BAD_ADDRESS;
static volatile int32_t s_zero = 0;
static volatile uint32_t s_depth_limit = 0xFFFFFFFFu; /* never reached: looks bounded */

static uint32_t recurse(uint32_t depth)
{
    /* A buffer in real use: every byte written, from the top down, so the first store
     * past the stack limit lands in the watched guard (ESP32-S3: DBREAK0). */
    volatile uint8_t frame[256];
    for (uint32_t i = sizeof frame; i-- > 0;)
        frame[i] = (uint8_t)(depth + i);
    if (depth >= s_depth_limit)
        return depth;
    /* Use the frame after the call: no tail call, so every level keeps its frame. */
    return recurse(depth + 1) + frame[0] + frame[sizeof frame - 1];
}

static void do_fault(uint32_t cmd)
{
    DUET_LOGW("crash: executing command %u", (unsigned)cmd);
    switch (cmd) {
    case CRASH_CMD_BAD_POINTER:
        s_sink = *(volatile uint32_t *)s_bad_address;
        break;
    case CRASH_CMD_ILLEGAL:
#if defined(__XTENSA__)
        /* ILL -> IllegalInstruction. Not __builtin_trap(): Xtensa GCC makes that a load
         * from address 0 (LoadProhibited), as the model showed. */
        __asm__ volatile("ill");
#else
        __builtin_trap(); /* x86: ud2 -> SIGILL */
#endif
        break;
    case CRASH_CMD_DIV_ZERO:
        /* x86: #DE -> SIGFPE/FPE_INTDIV. ESP32-S3 (has the 32-bit divider): QUOS raises
         * IntegerDivideByZero (EXCCAUSE 6). */
        s_sink = (uint32_t)(100 / s_zero);
        break;
    case CRASH_CMD_STACK_OVERFLOW:
        s_sink = recurse(0);
        break;
    case CRASH_CMD_HANG:
        for (;;)
            s_sink++; /* no heartbeat, ignores stop: only core 0's deadline ends this */
    case CRASH_CMD_PANIC:
        duet_rt_panic("crash: requested panic");
    case CRASH_CMD_ASSERT:
        DUET_ASSERT(cmd != CRASH_CMD_ASSERT);
        break;
    default:
        DUET_LOGE("crash: unknown command %u", (unsigned)cmd);
        return;
    }
    DUET_LOGE("crash: command %u did not fault", (unsigned)cmd);
}

void duet_main(void)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    duet_chan_t ch;
    int have_chan = duet_rt_chan_open("cmd", &ch) == DUET_OK;
    DUET_LOGI("crash v%s up (epoch %u), waiting for a command%s", DUET_PROGRAM_VERSION,
              (unsigned)duet_rt_epoch(), have_chan ? " on \"cmd\"" : "");
#if CRASH_DEFAULT_CMD != CRASH_CMD_NONE
    uint64_t start = duet_rt_time_us();
#endif
    while (!duet_rt_should_stop()) {
        uint32_t cmd = __atomic_load_n(&c->sc_user[CRASH_CMD_WORD], __ATOMIC_ACQUIRE);
        uint8_t msg[4];
        size_t len = 0;
        if (cmd == CRASH_CMD_NONE && have_chan &&
            duet_rt_chan_recv(&ch, msg, sizeof msg, &len) == DUET_OK && len == 4)
            cmd = (uint32_t)msg[0] | (uint32_t)msg[1] << 8 | (uint32_t)msg[2] << 16 |
                  (uint32_t)msg[3] << 24;
#if CRASH_DEFAULT_CMD != CRASH_CMD_NONE
        if (cmd == CRASH_CMD_NONE && duet_rt_time_us() - start >= (uint64_t)CRASH_AFTER_MS * 1000u)
            cmd = CRASH_DEFAULT_CMD;
#endif
        if (cmd != CRASH_CMD_NONE)
            do_fault(cmd);
        duet_rt_heartbeat();
        (void)duet_rt_doorbell_wait(100000u); /* 10 heartbeats a second */
    }
}
