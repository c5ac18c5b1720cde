/*
 * boot.c - the C half of core-1 start-up (start.S calls duet_xt_boot with its own
 * stack, vectors and PS in place): .bss, .data, stack guard, interrupt matrix, then the
 * hand-shake with core 0 through the portable runtime, duet_main, and the exit path.
 *
 * Organisation: build-id and shared-area accessors first (rt_arch.h), then the boot
 * sequence. Must not change: .bss is zeroed before anything reads a static; the control
 * block is only touched through duet_rt_priv_boot/exit (they own the write order).
 */
#include <stddef.h>
#include <stdint.h>

#include "duet/app.h"
#include "duet/rt_arch.h"
#include "rt_priv.h"
#include "xt_priv.h"

#define NT_GNU_BUILD_ID_TYPE 3u

unsigned duet_xt_build_id(const uint8_t **id)
{
    /* ELF note: namesz, descsz, type, name (padded to 4), desc. */
    const uint8_t *n = (const uint8_t *)_duet_build_id_note;
    size_t avail = (size_t)(_duet_build_id_note_end - _duet_build_id_note);
    *id = NULL;
    if (avail < 16u)
        return 0;
    const uint32_t *w = (const uint32_t *)(const void *)n;
    uint32_t namesz = w[0], descsz = w[1], type = w[2];
    size_t off = 12u + ((namesz + 3u) & ~3u);
    if (type != NT_GNU_BUILD_ID_TYPE || namesz != 4u || descsz == 0 || off + descsz > avail)
        return 0;
    *id = n + off;
    return descsz > 255u ? 255u : (unsigned)descsz;
}

duet_shm_ctrl_t *duet_arch_shm(size_t *size)
{
    if (size != NULL)
        *size = (size_t)(uintptr_t)_duet_shm_size;
    return (duet_shm_ctrl_t *)(void *)_duet_shm_base;
}

/* CCOUNT rate over 500 us of SYSTIMER: the CPU clock core 0 left us (DFS may change it
 * later; facts §6), published for core 0 and for cycle-to-time conversions. */
static uint32_t measure_cpu_hz(void)
{
    uint64_t t0 = duet_arch_time_us();
    uint32_t c0 = duet_xt_ccount();
    while (duet_arch_time_us() - t0 < 500u) {
    }
    return (duet_xt_ccount() - c0) * 2000u;
}

_Noreturn void duet_xt_boot(void)
{
    /* Linker symbols are distinct objects to C: walk them as integers, not pointers. */
    for (uintptr_t a = (uintptr_t)_duet_bss_start; a < (uintptr_t)_duet_bss_end; a += 4u)
        *(uint32_t *)a = 0;
    /* RAM mode loads .data in place (load == run address); a layout that keeps .data
     * elsewhere (XIP, linked into flash) copies it here. */
    uintptr_t from = (uintptr_t)_duet_data_load;
    if (from != (uintptr_t)_duet_data_start) {
        for (uintptr_t a = (uintptr_t)_duet_data_start; a < (uintptr_t)_duet_data_end; a += 4u, from += 4u)
            *(uint32_t *)a = *(const uint32_t *)from;
    }
    duet_xt_stack_guard_init();
    duet_xt_intr_init();

    const uint8_t *id = NULL;
    unsigned id_len = duet_xt_build_id(&id);
    if (duet_rt_priv_boot(id, id_len) != DUET_OK)
        duet_xt_halt(); /* no valid control block: core 0 sees a boot timeout */
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    if (c != NULL)
        __atomic_store_n(&c->sc_c1_cpu_hz, measure_cpu_hz(), __ATOMIC_RELEASE);

    duet_main();
    duet_rt_priv_exit();
    duet_xt_halt();
}
