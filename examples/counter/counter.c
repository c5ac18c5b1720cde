/*
 * counter - the original duet demo: core 1 counts in a shared word core 0 can watch.
 *
 * Increments sc_user[0] (COUNTER_STEP per tick, 10 ticks a second), heartbeats every
 * tick, publishes the count as progress and logs it once a second with its version,
 * so a hot swap to another build is visible in the log and in the counting speed. The
 * count continues across restarts and swaps: core 0 keeps sc_user when it
 * re-initialises the shared area. Marks every tick for the loop-timing histogram
 * (docs/timing.md). Returns when core 0 asks it to stop.
 * Portable: only duet/app.h (builds for the PC simulator and bare-metal Xtensa).
 */
#include "duet/app.h"

#ifndef DUET_PROGRAM_VERSION
#define DUET_PROGRAM_VERSION "0.0.0"
#endif
#ifndef COUNTER_STEP
#define COUNTER_STEP 1
#endif
#define TICK_US 100000u

void duet_main(void)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    uint32_t count = __atomic_load_n(&c->sc_user[0], __ATOMIC_RELAXED);
    DUET_LOGI("counter v%s up (epoch %u, step %d, starting at %u)", DUET_PROGRAM_VERSION,
              (unsigned)duet_rt_epoch(), COUNTER_STEP, (unsigned)count);
    uint64_t next_log = duet_rt_time_us() + 1000000u;
    duet_rt_loop_period_us(TICK_US + TICK_US / 10u); /* a tick 10 % late is a miss */
    while (!duet_rt_should_stop()) {
        duet_rt_loop_mark(); /* tick-to-tick time: /api/timing, `duet timing` */
        count += COUNTER_STEP;
        __atomic_store_n(&c->sc_user[0], count, __ATOMIC_RELEASE);
        duet_rt_progress(count);
        duet_rt_heartbeat();
        uint64_t now = duet_rt_time_us();
        if (now >= next_log) {
            DUET_LOGI("counter v%s: %u", DUET_PROGRAM_VERSION, (unsigned)count);
            next_log += 1000000u;
            if (next_log < now)
                next_log = now + 1000000u; /* we were descheduled: don't log in a burst */
        }
        /* Sleep until the next tick; a doorbell from core 0 (e.g. stop) ends it early. */
        (void)duet_rt_doorbell_wait(TICK_US);
    }
    DUET_LOGI("counter v%s: stop requested at %u", DUET_PROGRAM_VERSION, (unsigned)count);
}
