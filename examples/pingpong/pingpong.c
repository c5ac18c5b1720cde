/*
 * pingpong - echo every message core 0 sends on channel "ping" back unchanged, so core 0
 * can measure the round trip (the simulator tests and benchmarks do; on the chip the
 * same program measures cross-core latency).
 *
 * Low latency and low idle cost at once: after each message it keeps polling the ring
 * for POLL_US, then sleeps on the doorbell (core 0 rings it after sending). It rings
 * core 0's doorbell after each echo, so core 0 may either poll or wait.
 * progress = messages echoed. Portable: only duet/app.h.
 */
#include "duet/app.h"

#define POLL_US 2000u
#define MAX_MSG 256u

void duet_main(void)
{
    duet_chan_t ch;
    duet_err_t e = duet_rt_chan_open("ping", &ch);
    if (e != DUET_OK) {
        DUET_LOGE("pingpong: no channel \"ping\": %s", duet_err_name(e));
        duet_rt_panic("pingpong needs channel 'ping'");
    }
    DUET_LOGI("pingpong up (epoch %u)", (unsigned)duet_rt_epoch());
    uint32_t echoed = 0;
    uint64_t idle_since = duet_rt_time_us();
    while (!duet_rt_should_stop()) {
        const void *msg = NULL;
        size_t len = 0;
        e = duet_rt_chan_peek(&ch, &msg, &len);
        if (e == DUET_OK) {
            /* Echo straight out of the receive ring (zero-copy on the receive side). */
            duet_err_t s;
            while ((s = duet_rt_chan_send(&ch, msg, len)) == DUET_ERR_RING_FULL) {
                duet_rt_heartbeat(); /* core 0 is slow to drain: wait, stay alive */
                if (duet_rt_should_stop())
                    return;
            }
            (void)duet_rt_chan_release(&ch); /* only fails on a stale ring: ends below */
            if (s != DUET_OK)
                DUET_LOGW("pingpong: send failed: %s", duet_err_name(s));
            duet_rt_doorbell_ring();
            duet_rt_progress(++echoed);
            duet_rt_heartbeat();
            idle_since = duet_rt_time_us();
            continue;
        }
        if (e != DUET_ERR_RING_EMPTY) {
            DUET_LOGE("pingpong: receive failed: %s", duet_err_name(e));
            duet_rt_panic("pingpong: channel broken");
        }
        duet_rt_heartbeat();
        if (duet_rt_time_us() - idle_since > POLL_US)
            (void)duet_rt_doorbell_wait(10000u); /* timeout = just poll again */
    }
    DUET_LOGI("pingpong: stop requested after %u messages", (unsigned)echoed);
}
