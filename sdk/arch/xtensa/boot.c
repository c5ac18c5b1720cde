/*
 * boot.c - the C half of core-1 start-up (start.S calls duet_xt_boot with its own
 * stack, vectors and PS in place): .bss, .data, stack guard, interrupt matrix, then the
 * hand-shake with core 0 through the portable runtime, duet_main, and the exit path.
 *
 * Organisation: build-id and shared-area accessors first (rt_arch.h), then the boot
 * sequence. The optional CPU-clock measurement lives in time.c (DUET_XT_MEASURE_CPU_HZ).
 * Must not change: .bss is zeroed before anything reads a static; the control block is
 * only touched through duet_rt_priv_boot/exit (they own the write order).
 */
#include <stddef.h>
#include <stdint.h>

#include "duet/app.h"
#include "duet/rt_arch.h"
#include "rt_priv.h"
#include "xt_priv.h"

unsigned duet_xt_build_id(const uint8_t **id)
{
    /* The linker script points _duet_build_id past the 16-byte header of the GNU
     * build-id note and ASSERTs its size, so there is nothing to parse here. */
    *id = (const uint8_t *)_duet_build_id;
    return (unsigned)((uintptr_t)_duet_build_id_note_end - (uintptr_t)_duet_build_id);
}

duet_shm_ctrl_t *duet_arch_shm(size_t *size)
{
    if (size != NULL)
        *size = (size_t)(uintptr_t)_duet_shm_size;
    return (duet_shm_ctrl_t *)(void *)_duet_shm_base;
}

_Noreturn void duet_xt_boot(void)
{
    /* Linker symbols are distinct objects to C: walk them as integers, not pointers. */
    for (uintptr_t a = (uintptr_t)_duet_bss_start; a < (uintptr_t)_duet_bss_end; a += 4u)
        *(uint32_t *)a = 0;
#if DUET_XT_COPY_DATA
    /* A layout that keeps .data elsewhere (XIP: linked into flash) copies it here. RAM
     * mode loads .data in place (load == run address), which the linker script ASSERTs,
     * so its programs carry no copy loop. */
    uintptr_t from = (uintptr_t)_duet_data_load;
    for (uintptr_t a = (uintptr_t)_duet_data_start; a < (uintptr_t)_duet_data_end; a += 4u, from += 4u)
        *(uint32_t *)a = *(const uint32_t *)from;
#endif
    duet_xt_stack_guard_init();
    duet_xt_intr_init();
    duet_xt_park_init(); /* XIP programs: answer the flash lockout from now on */

    const uint8_t *id = NULL;
    unsigned id_len = duet_xt_build_id(&id);
    if (duet_rt_priv_boot(id, id_len) != DUET_OK)
        duet_xt_halt(); /* no valid control block: core 0 sees a boot timeout */
#if DUET_XT_MEASURE_CPU_HZ
    duet_xt_publish_cpu_hz(); /* opt-in (duet_add_program CPU_HZ): 500 us at boot */
#endif

    duet_main();
    duet_rt_priv_exit();
    duet_xt_halt();
}
