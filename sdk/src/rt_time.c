/*
 * rt_time.c - time, busy-wait delays and doorbells on core 1: the portable wrappers
 * over the per-architecture hooks (duet/rt_arch.h).
 */
#include "duet/app.h"
#include "rt_priv.h"

uint64_t duet_rt_time_us(void)
{
    return duet_arch_time_us();
}

uint32_t duet_rt_cycles(void)
{
    return duet_arch_cycles();
}

void duet_rt_delay_us(uint32_t us)
{
    uint64_t until = duet_arch_time_us() + us;
    while (duet_arch_time_us() < until) {
    }
}

void duet_rt_doorbell_ring(void)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    if (c != NULL) {
        /* Diagnostics counter; single writer, so no RMW atomic is needed. */
        uint32_t n = __atomic_load_n(&c->sc_doorbells, __ATOMIC_RELAXED);
        duet_rt_st(&c->sc_doorbells, n + 1u);
    }
    duet_arch_doorbell_ring();
}

duet_err_t duet_rt_doorbell_wait(uint32_t timeout_us)
{
    return duet_arch_doorbell_wait(timeout_us) ? DUET_OK : DUET_ERR_TIMEOUT;
}
