/*
 * duet_esp_priv.h - internals shared by the esp32s3 port files (the .c files in port/esp32s3).
 * Not installed, not for applications.
 *
 * Files, by purpose:
 *   duet_esp_checks.c    build-time checks (#error / _Static_assert) on sdkconfig
 *   duet_esp_mem.c       window + ROM APP-stack reservation, run-time heap check,
 *                        duet_port_window / duet_port_shm
 *   duet_esp_flash.c     duet_port_flash_* on esp_partition (slots A/B + state)
 *   duet_esp_core1.c     core-1 reset/stall/release, core1_write/zero, shutdown handler,
 *                        esp_restart_noos wrap, PM lock, linked-image reload (IRAM parts)
 *   duet_esp_doorbell.c  FROM_CPU doorbells both ways (IRAM ISR)
 *   duet_esp_flash_guard.c  XIP flash lockout: --wrap of IDF's cache-disable guard
 *   duet_esp_xip.c       XIP mapping (esp_mmu_map), core-1 cache buses, mapped-view hash
 *   duet_esp_sys.c       time and log
 *   duet_esp.c           public API (duet_esp.h): init, supervisor task, events
 *   duet_esp_http.c      esp_http_server glue for duet_api_handle
 *
 * Window layout (DRAM-alias addresses, from Kconfig):
 *   DUET_ESP_WIN_START                  DUET_ESP_SHM_START          DUET_ESP_WIN_END
 *   | program: code (via IRAM alias),   | shared memory (control    |
 *   | data, bss, stack, vectors         | block, log ring, channels)|
 */
#ifndef DUET_ESP_PRIV_H
#define DUET_ESP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdkconfig.h"
#ifdef ESP_PLATFORM /* tests/agreement reads this header on the host */
#include "esp_partition.h"
#endif

#include "duet/err.h"
#include "duet/image.h"

#define DUET_ESP_TAG    "duet"
#define DUET_ESP_TAG_C1 "core1"

/* I/D alias offset of the ESP32-S3 internal SRAM (soc/esp32s3/include/soc/soc.h
 * SOC_I_D_OFFSET = SOC_DIRAM_IRAM_LOW - SOC_DIRAM_DRAM_LOW = 0x40378000 - 0x3FC88000);
 * duet_esp_checks.c asserts it equals SOC_I_D_OFFSET. */
#define DUET_ESP_I_D_OFFSET 0x6F0000u

#define DUET_ESP_WIN_START ((uint32_t)CONFIG_DUET_WINDOW_START)
#define DUET_ESP_WIN_SIZE  ((uint32_t)CONFIG_DUET_WINDOW_SIZE)
#define DUET_ESP_WIN_END   (DUET_ESP_WIN_START + DUET_ESP_WIN_SIZE)
#define DUET_ESP_SHM_SIZE  ((uint32_t)CONFIG_DUET_SHM_SIZE)
#define DUET_ESP_SHM_START (DUET_ESP_WIN_END - DUET_ESP_SHM_SIZE)
#define DUET_ESP_PROG_SIZE (DUET_ESP_WIN_SIZE - DUET_ESP_SHM_SIZE)

/* RAM the ROM uses when core 1 comes out of reset, reserved so IDF never hands it to the
 * heap: the ROM APP-CPU stack 0x3FCEB710..0x3FCED710 and the ROM .bss/.data above it up
 * to the ROM's own reservation (bootloader/subproject/main/ld/esp32s3/bootloader.ld header,
 * v5.3-v5.5). IDF reserves only from ets_rom_layout_p->dram0_rtos_reserved_start
 * (0x3FCEEE34 in the S3 ROM) up and frees 0x3FCE9710..0x3FCEEE34 to the heap in main_task
 * (heap/port/esp32s3/memory_layout.c, "startup" region); every start of core 1 runs ROM
 * code on the APP stack and may touch ROM .bss, so duet keeps all of it. duet_esp_mem.c
 * checks the ROM's value at run time. */
#define DUET_ESP_ROM_APP_STACK_START 0x3FCEB710u
#define DUET_ESP_ROM_RESERVED_END    0x3FCEEE34u

/* ---- duet_esp_mem.c ---- */
/** Check that no heap covers the window or the ROM APP stack and that the reservation
 *  entries were linked. DUET_ERR_STATE (logged) if not: core 1 must not start. */
duet_err_t duet_esp_mem_check(void);

/* ---- duet_esp_flash.c ---- */
/** Find the three partitions. DUET_ERR_NOT_FOUND (logged) if one is missing. */
duet_err_t duet_esp_flash_init(void);
#ifdef ESP_PLATFORM
/** The partition of an area (NULL if not found). */
const esp_partition_t *duet_esp_flash_part(int area);
#endif
/** Size of a slot partition (0 if not found). */
uint32_t duet_esp_flash_slot_size(void);

/* ---- duet_esp_core1.c ---- */
/** Register the shutdown handler, create the PM locks. Idempotent. */
duet_err_t duet_esp_core1_init(void);
/** Linked mode: reload this image (in flash rodata, already verified) at every start.
 *  NULL = slot mode (the portable loader copies images before duet_port_core1_start). */
void duet_esp_core1_set_linked(const uint8_t *image, size_t len, const duet_img_info_t *info);
/** Stop sequence for panic/restart paths: register writes only, IRAM, no locks. */
void duet_esp_core1_halt_regs(void);

/* ---- duet_esp_flash_guard.c ---- */
/** Park core 1 around every cache-disabling flash operation (true while an XIP program
 *  runs). Call from a task, never inside a flash operation. */
void duet_esp_flash_guard_arm(bool on);

/* ---- duet_esp_xip.c ---- */
/* duet_port_core1_map / duet_port_xip_window (duet/port.h) live here too. */
/** True if img's mapped part is mapped (duet_port_core1_map succeeded for it). */
bool duet_esp_xip_mapped(const duet_img_info_t *img);
/** Unmap (if mapped) and shut core 1's cache buses again. Core 1 stopped. */
void duet_esp_xip_unmap(void);
/** Before core 0 writes or erases 'area': unmap it if it is the mapped slot.
 *  DUET_ERR_STATE if an XIP program is running from it. */
duet_err_t duet_esp_xip_before_write(int area);

/* ---- duet_esp_doorbell.c ---- */
duet_err_t duet_esp_doorbell_init(void);

/* ---- duet_esp.c ---- */
/** duet_esp_http.c registers its API object so core-1 log lines reach GET /api/log. */
void duet_esp_set_api(void *api);
/* The HTTP API's object (NULL while no HTTP API runs). */
void *duet_esp_api(void);
/** True once duet_esp_start/_start_linked initialised the supervisor. */
bool duet_esp_ready(void);

#endif /* DUET_ESP_PRIV_H */
