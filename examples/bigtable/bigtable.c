/*
 * bigtable - the XIP example (docs/xip.md): a core-1 program whose code and tables
 * (bigtable_data.c, generated: 256 KiB of tables and about a thousand functions) are far
 * larger than the RAM window, so it runs in XIP mode from its flash slot.
 *
 * It computes bt_run() block by block and publishes each block's accumulator
 * (bigtable.h) so core 0 or a test can recompute and check it. Its park hook is a
 * DUET_RAM function: it runs while core 0 writes flash and may not touch the mapping.
 * BT_BAD_HOOK=1 builds the broken variant whose hook sits in flash-mapped code: the
 * simulator catches it as "flash access during flash write" (tests/xip).
 * Portable: duet/app.h and duet/xip.h only.
 */
#include "bigtable.h"
#include "duet/app.h"
#include "duet/xip.h"

#ifndef BT_BAD_HOOK
#define BT_BAD_HOOK 0
#endif

static duet_shm_ctrl_t *s_ctrl; /* .bss: RAM */

#if BT_BAD_HOOK
static void on_park(void) /* WRONG on purpose: flash-mapped code, fetched while parked */
#else
DUET_RAM static void on_park(void)
#endif
{
    /* Only this hook writes the word (no read-modify-write atomics: some cores lack them). */
    uint32_t *n = &s_ctrl->sc_user[BT_U_PARKS];
    __atomic_store_n(n, __atomic_load_n(n, __ATOMIC_RELAXED) + 1u, __ATOMIC_RELAXED);
}

static void publish(uint32_t block, uint32_t acc)
{
    uint32_t *u = s_ctrl->sc_user;
    uint32_t seq = __atomic_load_n(&u[BT_U_SEQ], __ATOMIC_RELAXED);
    __atomic_store_n(&u[BT_U_SEQ], seq + 1u, __ATOMIC_RELAXED); /* odd: writing */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&u[BT_U_BLOCK], block, __ATOMIC_RELAXED);
    __atomic_store_n(&u[BT_U_ACC], acc, __ATOMIC_RELAXED);
    __atomic_store_n(&u[BT_U_SEQ], seq + 2u, __ATOMIC_RELEASE); /* even: consistent */
}

void duet_main(void)
{
    s_ctrl = duet_rt_ctrl();
    for (unsigned i = BT_U_SEQ; i <= BT_U_PARKS; i++)
        __atomic_store_n(&s_ctrl->sc_user[i], 0u, __ATOMIC_RELAXED);
    duet_set_park_hook(on_park);
    DUET_LOGI("bigtable: %u tables, %u functions, XIP", BT_NT, BT_NF);
    uint32_t acc = BT_SEED;
    for (uint32_t block = 0; !duet_rt_should_stop(); block++) {
        for (uint32_t r = 0; r < BT_BLOCK; r++)
            acc = bt_round(acc, block * BT_BLOCK + r);
        publish(block + 1u, acc);
        duet_rt_progress(block + 1u);
        duet_rt_heartbeat();
        (void)duet_rt_doorbell_wait(200); /* leave the other CPU some room */
    }
}
