/*
 * duet_esp_mem.c - the core-1 SRAM window: reservation, run-time check, and the window
 * and shared memory as the portable core sees them (duet_port_window, duet_port_shm).
 *
 * Reservation (facts §1.4): SOC_RESERVE_MEMORY_REGION (heap/include/heap_memory_layout.h,
 * v5.3-v5.5) emits {start, end} into .reserved_memory_address; the heap trims it out of
 * the DIRAM regions, which are keyed by DRAM-alias addresses - so both entries use DRAM
 * addresses (an IRAM-alias entry would match no region and reserve nothing). Nothing
 * references these entries; they are linked because they sit in the object of
 * duet_esp_mem_check(), which every start path calls (esp/component.cmake).
 * Must not change: DRAM-alias addresses; the ROM entry (every reset of core 1 runs ROM
 * code on its APP stack 0x3FCEB710..0x3FCED710 and may touch ROM .bss up to 0x3FCEEE34,
 * all of which IDF hands to the heap in main_task; duet_esp_priv.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "esp_heap_caps.h"
#include "esp_log.h"
#include "heap_memory_layout.h"
#include "esp32s3/rom/rom_layout.h"

#include "duet/port.h"
#include "duet_esp_priv.h"

SOC_RESERVE_MEMORY_REGION(DUET_ESP_WIN_START, DUET_ESP_WIN_END, duet_core1_window);
SOC_RESERVE_MEMORY_REGION(DUET_ESP_ROM_APP_STACK_START, DUET_ESP_ROM_RESERVED_END,
                          duet_rom_app_ram);

static bool overlaps(intptr_t a0, intptr_t a1, uint32_t b0, uint32_t b1)
{
    return a0 < (intptr_t)b1 && (intptr_t)b0 < a1;
}

static bool range_hits_ours(intptr_t s, intptr_t e)
{
    /* Heaps can be described by either alias (IRAM-only heaps use 0x403x addresses). */
    return overlaps(s, e, DUET_ESP_WIN_START, DUET_ESP_WIN_END) ||
           overlaps(s, e, DUET_ESP_WIN_START + DUET_ESP_I_D_OFFSET,
                    DUET_ESP_WIN_END + DUET_ESP_I_D_OFFSET) ||
           overlaps(s, e, DUET_ESP_ROM_APP_STACK_START, DUET_ESP_ROM_RESERVED_END) ||
           overlaps(s, e, DUET_ESP_ROM_APP_STACK_START + DUET_ESP_I_D_OFFSET,
                    DUET_ESP_ROM_RESERVED_END + DUET_ESP_I_D_OFFSET);
}

typedef struct {
    bool bad;
    intptr_t start, end;
} walk_t;

static bool heap_walker(walker_heap_into_t heap, walker_block_info_t block, void *user)
{
    (void)block; /* only the heap bounds matter */
    walk_t *w = user;
    if (range_hits_ours(heap.start, heap.end)) {
        w->bad = true;
        w->start = heap.start;
        w->end = heap.end;
    }
    return false; /* one block per heap is enough: the heap bounds are what we check */
}

duet_err_t duet_esp_mem_check(void)
{
    /* 0. Our ROM reservation must reach what the ROM itself reserves (its layout table):
     *    a gap would be heap that core 1's ROM start-up may write. */
    uint32_t rom_res = (uint32_t)(uintptr_t)ets_rom_layout_p->dram0_rtos_reserved_start;
    if (rom_res > DUET_ESP_ROM_RESERVED_END) {
        ESP_LOGE(DUET_ESP_TAG,
                 "this ROM reserves DRAM from 0x%08x, duet only up to 0x%08x: core 1 will not be "
                 "started",
                 (unsigned)rom_res, (unsigned)DUET_ESP_ROM_RESERVED_END);
        return DUET_ERR_STATE;
    }
    /* 1. The reservation entries were linked: the available-region list (the input the
     *    heap was built from) must exclude the window. */
    size_t max = soc_get_available_memory_region_max_count();
    soc_memory_region_t *regs = calloc(max, sizeof(*regs));
    if (regs == NULL)
        return DUET_ERR_NOMEM;
    size_t n = soc_get_available_memory_regions(regs);
    bool linked = true;
    for (size_t i = 0; i < n; i++) {
        if (range_hits_ours(regs[i].start, regs[i].start + (intptr_t)regs[i].size)) {
            ESP_LOGE(DUET_ESP_TAG,
                     "memory region 0x%08x..0x%08x overlaps the core-1 window: the "
                     "SOC_RESERVE_MEMORY_REGION entries were not linked (they must stay in "
                     "duet_esp_mem.c)",
                     (unsigned)regs[i].start, (unsigned)(regs[i].start + (intptr_t)regs[i].size));
            linked = false;
        }
    }
    free(regs);
    /* 2. No registered heap (including ones added later with heap_caps_add_region)
     *    covers the window or the ROM APP stack. */
    walk_t w = {0};
    heap_caps_walk_all(heap_walker, &w);
    if (w.bad)
        ESP_LOGE(
            DUET_ESP_TAG,
            "heap 0x%08x..0x%08x overlaps the core-1 window 0x%08x..0x%08x or the ROM APP-CPU RAM",
            (unsigned)w.start, (unsigned)w.end, (unsigned)DUET_ESP_WIN_START,
            (unsigned)DUET_ESP_WIN_END);
    if (!linked || w.bad) {
        ESP_LOGE(DUET_ESP_TAG, "core 1 will not be started");
        return DUET_ERR_STATE;
    }
    return DUET_OK;
}

/* ---- the window as the image verifier sees it ------------------------------------ */

static const duet_mem_region_t s_regions[] = {
    /* Code: executed by core 1 and written by core 0 through the IRAM alias. */
    {DUET_ESP_WIN_START + DUET_ESP_I_D_OFFSET, DUET_ESP_PROG_SIZE, DUET_ESP_WIN_START,
     DUET_MEM_R | DUET_MEM_X},
    /* Data, bss, stack, vectors' data: the DRAM alias of the same bytes ('phys' equal,
     * so the verifier rejects code and data overlapping through different aliases). */
    {DUET_ESP_WIN_START, DUET_ESP_PROG_SIZE, DUET_ESP_WIN_START, DUET_MEM_R | DUET_MEM_W},
};

duet_err_t duet_port_window(const duet_mem_region_t **regions, unsigned *count, uint8_t *chip,
                            uint8_t *abi)
{
    if (regions == NULL || count == NULL || chip == NULL || abi == NULL)
        return DUET_ERR_INVAL;
    *regions = s_regions;
    *count = sizeof(s_regions) / sizeof(s_regions[0]);
    *chip = DUET_CHIP_ESP32S3;
    *abi = DUET_ABI_WINDOWED;
    return DUET_OK;
}

void *duet_port_shm(size_t *size)
{
    if (size != NULL)
        *size = DUET_ESP_SHM_SIZE;
    return (void *)(uintptr_t)DUET_ESP_SHM_START;
}
