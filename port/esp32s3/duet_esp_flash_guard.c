/*
 * duet_esp_flash_guard.c - the flash-write lockout for XIP programs (issue 10 item 3).
 *
 * Every ESP-IDF operation that disables the flash cache goes through
 * spi_flash_disable_interrupts_caches_and_other_cpu() and its ..._enable_... twin
 * (spi_flash/cache_utils.c): esp_flash on the main chip (spi_flash_os_func_app.c
 * spi1_start/spi1_end: NVS, esp_partition_write/erase, OTA), the default guard table
 * (flash_ops.c g_flash_guard_default_ops), esp_mmu_map/unmap (esp_mm/esp_mmu_map.c) and the
 * MSPI timing tuning (v5.5). In unicore builds that function only suspends the scheduler,
 * masks non-IRAM interrupts and suspends the cache: it never tells core 1 (facts §4). All
 * callers are in other objects than cache_utils.c, so -Wl,--wrap (esp/component.cmake)
 * catches every one of them in v5.3-v5.5; the _no_os pair (core dump to flash, from the
 * panic handler) is wrapped the same way.
 *
 *   CORE 0 (wrapper, IRAM, interrupts masked)      CORE 1 (RAM-resident, sdk/arch/xtensa)
 *   sc_park_req = odd; ring FROM_CPU(TO_C1)  --->  doorbell ISR (vectors in RAM):
 *   spin until sc_park_ack == sc_park_req  <-----  sc_park_ack = req; spin while req same
 *     (no ack within CONFIG_DUET_XIP_PARK_TIMEOUT_US:
 *      esp_cpu_stall(1), counted in sc_park_stalls)
 *   real disable: cache off ... flash op ... real enable: cache on
 *   sc_park_req = even (release); unstall if stalled ->  leaves the loop, back to flash code
 *
 * Armed only while an XIP program runs (duet_esp_core1.c): RAM-mode programs never touch
 * flash or cache, so they are not parked (docs/esp32s3.md). Everything here runs with the
 * cache possibly disabled: IRAM_ATTR + esp/linker.lf.in (noflash also moves constants),
 * DRAM data only, no logging, bounded loops. Interrupts stay masked from the park until
 * the cache is off, so no task can run between the ack and the real disable (nested
 * callers only count).
 */
#include "sdkconfig.h"

#if CONFIG_DUET_LOAD_XIP

#include <stdint.h>

#include "esp_attr.h"
#include "esp_cpu.h"
#include "esp_rom_sys.h"
#include "soc/soc.h"
#include "soc/system_reg.h"

#include "duet/shm.h"
#include "duet_esp.h"
#include "duet_esp_priv.h"

#define REG_TO_C1                                                                                  \
    (CONFIG_DUET_DOORBELL_TO_CORE1 == 1   ? SYSTEM_CPU_INTR_FROM_CPU_1_REG                         \
     : CONFIG_DUET_DOORBELL_TO_CORE1 == 2 ? SYSTEM_CPU_INTR_FROM_CPU_2_REG                         \
                                          : SYSTEM_CPU_INTR_FROM_CPU_3_REG)

typedef volatile duet_shm_ctrl_t vctrl_t;

static volatile uint32_t s_armed; /* an XIP program runs: park it around flash ops */
static uint32_t s_depth;          /* nested disable calls (touched with interrupts masked) */
static uint32_t s_parked;         /* the current outer section parked (or stalled) core 1 */
static uint32_t s_stalled;        /* ... by the hardware stall */
static uint32_t s_held_since;     /* CCOUNT when core 1 was held (ack or stall) */
static duet_esp_park_stats_t s_stats;

void __real_spi_flash_disable_interrupts_caches_and_other_cpu(void);
void __real_spi_flash_enable_interrupts_caches_and_other_cpu(void);
void __real_spi_flash_disable_interrupts_caches_and_other_cpu_no_os(void);
void __real_spi_flash_enable_interrupts_caches_no_os(void);
void __wrap_spi_flash_disable_interrupts_caches_and_other_cpu(void);
void __wrap_spi_flash_enable_interrupts_caches_and_other_cpu(void);
void __wrap_spi_flash_disable_interrupts_caches_and_other_cpu_no_os(void);
void __wrap_spi_flash_enable_interrupts_caches_no_os(void);

static inline uint32_t IRAM_ATTR irq_mask(void)
{
    uint32_t ps;
    __asm__ __volatile__("rsil %0, 3" : "=a"(ps)::"memory"); /* XCHAL_EXCM_LEVEL */
    return ps;
}

static inline void IRAM_ATTR irq_restore(uint32_t ps)
{
    __asm__ __volatile__("wsr %0, ps\n\trsync" ::"a"(ps) : "memory");
}

static inline void IRAM_ATTR memw(void)
{
    __asm__ __volatile__("memw" ::: "memory");
}

static void IRAM_ATTR park(void)
{
    vctrl_t *c = (vctrl_t *)(uintptr_t)DUET_ESP_SHM_START;
    uint32_t req = (c->sc_park_req | 1u) + 2u; /* next odd value, never the last one */
    c->sc_park_req = req;
    memw();
    REG_WRITE(REG_TO_C1, SYSTEM_CPU_INTR_FROM_CPU_1); /* bit 0, the same for n = 1..3 */
    uint32_t limit = (uint32_t)CONFIG_DUET_XIP_PARK_TIMEOUT_US * esp_rom_get_cpu_ticks_per_us();
    uint32_t t0 = esp_cpu_get_cycle_count();
    uint32_t waited;
    for (;;) {
        waited = esp_cpu_get_cycle_count() - t0;
        if (c->sc_park_ack == req)
            break;
        if (waited > limit) {
            /* Not in RAM within the bound (interrupts masked on core 1, or it is hung):
             * freeze it where it is, before the cache goes away under it. */
            esp_cpu_stall(1);
            s_stalled = 1;
            c->sc_park_stalls = c->sc_park_stalls + 1;
            s_stats.stalls++;
            break;
        }
    }
    s_parked = 1;
    s_held_since = esp_cpu_get_cycle_count();
    s_stats.parks++;
    s_stats.ack_last_cycles = waited;
    if (waited > s_stats.ack_max_cycles)
        s_stats.ack_max_cycles = waited;
}

static void IRAM_ATTR release(void)
{
    vctrl_t *c = (vctrl_t *)(uintptr_t)DUET_ESP_SHM_START;
    c->sc_park_req = c->sc_park_req + 1u; /* even: released */
    memw();
    uint32_t held = esp_cpu_get_cycle_count() - s_held_since;
    s_stats.held_last_cycles = held;
    s_stats.held_total_cycles += held;
    if (held > s_stats.held_max_cycles)
        s_stats.held_max_cycles = held;
    if (s_stalled) {
        esp_cpu_unstall(1);
        s_stalled = 0;
    }
    s_parked = 0;
}

static void IRAM_ATTR enter(void)
{
    if (s_depth++ == 0 && s_armed)
        park();
}

static void IRAM_ATTR leave(void)
{
    if (s_depth > 0 && --s_depth == 0 && s_parked)
        release();
}

void IRAM_ATTR __wrap_spi_flash_disable_interrupts_caches_and_other_cpu(void)
{
    uint32_t ps = irq_mask();
    enter();
    __real_spi_flash_disable_interrupts_caches_and_other_cpu();
    irq_restore(ps);
}

void IRAM_ATTR __wrap_spi_flash_enable_interrupts_caches_and_other_cpu(void)
{
    uint32_t ps = irq_mask();
    __real_spi_flash_enable_interrupts_caches_and_other_cpu();
    leave();
    irq_restore(ps);
}

void IRAM_ATTR __wrap_spi_flash_disable_interrupts_caches_and_other_cpu_no_os(void)
{
    uint32_t ps = irq_mask();
    enter();
    __real_spi_flash_disable_interrupts_caches_and_other_cpu_no_os();
    irq_restore(ps);
}

void IRAM_ATTR __wrap_spi_flash_enable_interrupts_caches_no_os(void)
{
    uint32_t ps = irq_mask();
    __real_spi_flash_enable_interrupts_caches_no_os();
    leave();
    irq_restore(ps);
}

void duet_esp_flash_guard_arm(bool on)
{
    /* Called by the supervisor's task with no flash operation in progress (the scheduler
     * is suspended during each one), so s_depth is 0 here. */
    uint32_t ps = irq_mask();
    s_armed = on ? 1u : 0u;
    irq_restore(ps);
}

void duet_esp_park_stats(duet_esp_park_stats_t *out)
{
    uint32_t ps = irq_mask();
    *out = s_stats;
    irq_restore(ps);
}

#else /* !CONFIG_DUET_LOAD_XIP: no wraps linked, nothing to park */

#include "duet_esp.h"
#include "duet_esp_priv.h"

void duet_esp_flash_guard_arm(bool on)
{
    (void)on;
}

void duet_esp_park_stats(duet_esp_park_stats_t *out)
{
    *out = (duet_esp_park_stats_t){0};
}

#endif
