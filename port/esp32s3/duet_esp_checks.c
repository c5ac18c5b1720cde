/*
 * duet_esp_checks.c - build-time checks of the project configuration for duet.
 *
 * Each failure names the option to change. Only preprocessor and _Static_assert: this
 * file emits no code. Run-time checks (heap vs. window) are in duet_esp_mem.c, link-time
 * checks (window vs. _heap_start) in esp/duet_checks.ld.in.
 * Sources checked: esp-idf v5.3/v5.4/v5.5 components/freertos/Kconfig (FREERTOS_UNICORE),
 * components/esp_system/Kconfig (ESP_SYSTEM_MEMPROT_FEATURE), soc/esp32s3/include/soc/soc.h,
 * soc/esp32s3/include/soc/tracemem_config.h, esp_system/port/soc/esp32s3/Kconfig.tracemem.
 */
#include "sdkconfig.h"

#include "soc/ext_mem_defs.h"
#include "soc/soc.h"
#include "soc/tracemem_config.h"

#include "duet_esp_priv.h"

#if !CONFIG_IDF_TARGET_ESP32S3
#error "duet: this port is for the ESP32-S3 (idf.py set-target esp32s3)."
#endif

#if !CONFIG_FREERTOS_UNICORE
#error                                                                                             \
    "duet: core 1 runs the duet program, so FreeRTOS must run on core 0 only: set CONFIG_FREERTOS_UNICORE=y (menuconfig: Component config -> FreeRTOS -> Kernel -> Run FreeRTOS only on first core)."
#endif

/* In every load mode: XIP programs still run their vectors and DUET_RAM code from the window. */
#if CONFIG_ESP_SYSTEM_MEMPROT_FEATURE
#error                                                                                             \
    "duet: core 1 executes code from the reserved SRAM window, which memory protection (PMS, shared by both cores, locked at boot) makes non-executable: set CONFIG_ESP_SYSTEM_MEMPROT_FEATURE=n (menuconfig: Component config -> ESP System Settings -> Memory protection)."
#endif

#if CONFIG_DUET_DOORBELL_TO_CORE0 == CONFIG_DUET_DOORBELL_TO_CORE1
#error                                                                                             \
    "duet: CONFIG_DUET_DOORBELL_TO_CORE0 and CONFIG_DUET_DOORBELL_TO_CORE1 must be different FROM_CPU interrupts."
#endif

_Static_assert(DUET_ESP_I_D_OFFSET == SOC_I_D_OFFSET,
               "duet: SOC_I_D_OFFSET changed; revisit the alias arithmetic");
_Static_assert(
    DUET_ESP_ROM_APP_STACK_START == SOC_ROM_STACK_START,
    "duet: the ROM APP-CPU stack no longer starts at SOC_ROM_STACK_START; revisit facts §1.2");
_Static_assert(DUET_ESP_WIN_START >= SOC_DIRAM_DRAM_LOW,
               "duet: CONFIG_DUET_WINDOW_START is below internal DIRAM (SOC_DIRAM_DRAM_LOW)");
_Static_assert(DUET_ESP_WIN_END <= DUET_ESP_ROM_APP_STACK_START,
               "duet: window end (CONFIG_DUET_WINDOW_START + CONFIG_DUET_WINDOW_SIZE) must not "
               "pass 0x3FCEB710 (ROM APP-CPU stack)");
_Static_assert(DUET_ESP_WIN_END <= SOC_DIRAM_DRAM_HIGH, "duet: window outside internal DIRAM");
_Static_assert((DUET_ESP_WIN_START & 0xFFu) == 0,
               "duet: CONFIG_DUET_WINDOW_START must be 256-byte aligned");
_Static_assert((DUET_ESP_WIN_SIZE & 0xFu) == 0,
               "duet: CONFIG_DUET_WINDOW_SIZE must be a multiple of 16");
_Static_assert((DUET_ESP_SHM_SIZE & 0xFFu) == 0 && DUET_ESP_SHM_SIZE >= 2048u,
               "duet: CONFIG_DUET_SHM_SIZE must be a multiple of 256 and at least 2 KiB");
_Static_assert(DUET_ESP_SHM_SIZE < DUET_ESP_WIN_SIZE,
               "duet: CONFIG_DUET_SHM_SIZE leaves no room for the program");
_Static_assert((CONFIG_DUET_LOG_RING_SIZE & (CONFIG_DUET_LOG_RING_SIZE - 1)) == 0 &&
                   CONFIG_DUET_LOG_RING_SIZE >= 64,
               "duet: CONFIG_DUET_LOG_RING_SIZE must be a power of two >= 64");

#if defined(CONFIG_ESP32S3_TRACEMEM_RESERVE_DRAM) && CONFIG_ESP32S3_TRACEMEM_RESERVE_DRAM > 0
/* app_trace reserves two blocks (heap/port/esp32s3/memory_layout.c); an overlap would
 * abort at boot in memory_layout_utils.c. */
#define DUET_OVERLAPS_(a, n) (DUET_ESP_WIN_START < (a) + (n) && (a) < DUET_ESP_WIN_END)
_Static_assert(!DUET_OVERLAPS_(TRACEMEM_BLK0_ADDR, CONFIG_ESP32S3_TRACEMEM_RESERVE_DRAM / 2) &&
                   !DUET_OVERLAPS_(TRACEMEM_BLK1_ADDR, CONFIG_ESP32S3_TRACEMEM_RESERVE_DRAM / 2),
               "duet: the window overlaps the app_trace memory "
               "(CONFIG_ESP32S3_TRACEMEM_RESERVE_DRAM); disable tracing or move the window");
#endif

#if CONFIG_DUET_LOAD_XIP
/* XIP window (duet_esp_xip.c): whole 64 KiB MMU pages (mmu_ll_get_page_size) of the
 * instruction bus SOC_IRAM0_CACHE_ADDRESS_LOW..HIGH (soc/esp32s3/include/soc/ext_mem_defs.h). */
_Static_assert((CONFIG_DUET_XIP_VADDR & 0xFFFFu) == 0 && (CONFIG_DUET_XIP_SIZE & 0xFFFFu) == 0 &&
                   CONFIG_DUET_XIP_SIZE > 0,
               "duet: CONFIG_DUET_XIP_VADDR and CONFIG_DUET_XIP_SIZE must be multiples of 64 KiB");
_Static_assert(CONFIG_DUET_XIP_VADDR >= SOC_IRAM0_CACHE_ADDRESS_LOW &&
                   (uint64_t)CONFIG_DUET_XIP_VADDR + CONFIG_DUET_XIP_SIZE <=
                       SOC_IRAM0_CACHE_ADDRESS_HIGH,
               "duet: the XIP window must lie on the instruction bus 0x42000000..0x44000000");
#endif
