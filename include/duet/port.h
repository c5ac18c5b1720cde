/*
 * duet/port.h - the contract between the portable core-0 code (supervisor, slots, OTA,
 * loader) and the platform it runs on.
 *
 * Exactly one port is linked into a binary (link-time selection, like MCUboot's
 * flash_map_backend or the Pico SDK's PICO_PLATFORM): port/host (the simulator: flash =
 * file, core 1 = child process, shared memory = shared mapping) or port/esp32s3
 * (ESP-IDF). A missing function is a link error, never a NULL call.
 *
 * Ports keep their own state; the portable code passes no context. All functions are
 * called from one core-0 task/thread unless marked otherwise.
 */
#ifndef DUET_PORT_H
#define DUET_PORT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- flash: three areas, addressed by id, offsets from the area start ---------- */
typedef enum {
    DUET_AREA_SLOT_A = 0,
    DUET_AREA_SLOT_B = 1,
    DUET_AREA_STATE = 2, /* slot-state journal (two copies) */
    DUET_AREA__COUNT
} duet_area_t;

/** Size of an area in bytes, and its erase-block size. */
duet_err_t duet_port_flash_info(duet_area_t area, uint32_t *size, uint32_t *erase_size);
duet_err_t duet_port_flash_read(duet_area_t area, uint32_t off, void *buf, size_t len);
/** Program bytes (erased bits only go 1 -> 0, as on NOR flash). */
duet_err_t duet_port_flash_write(duet_area_t area, uint32_t off, const void *buf, size_t len);
/** Erase [off, off+len), both multiples of erase_size; erased bytes read 0xFF. */
duet_err_t duet_port_flash_erase(duet_area_t area, uint32_t off, size_t len);

/* ---- core 1 ---------------------------------------------------------------------- */
/** Memory window images are verified against (chip: the reserved SRAM window). */
duet_err_t duet_port_window(const duet_mem_region_t **regions, unsigned *count,
                            uint8_t *chip, uint8_t *abi);
/** Stop core 1 for good: reset and hold it (idempotent, safe if never started). */
duet_err_t duet_port_core1_stop(void);
/** Copy bytes into core-1 memory at a verified load address (chip: code through the
 *  IRAM alias with 32-bit stores, data through the DRAM alias). Core 1 is stopped. */
duet_err_t duet_port_core1_write(uint32_t addr, const void *src, size_t len);
/** Zero-fill core-1 memory (BSS). */
duet_err_t duet_port_core1_zero(uint32_t addr, size_t len);
/** The XIP range this firmware lets programs map (docs/image-format.md 3a), copied into
 *  the verification policy; all zero when XIP is not enabled. */
void duet_port_xip_window(duet_xip_window_t *w);
/** XIP images only, after the loader copied the RAM part and re-hashed the mapped part:
 *  map slot bytes [ih_map_offset, +ih_map_size) read-only at ih_map_addr (code through
 *  the instruction bus, the same pages through the data-bus alias) for core 1, and from
 *  now on park core 1 around every flash write/erase (docs/xip.md, "Lockout"). Core 1
 *  is stopped. Undone by duet_port_core1_stop().
 *  @return DUET_OK; DUET_ERR_BUSY (the virtual range is taken by someone else);
 *          DUET_ERR_IMG_XIP_RANGE (the port cannot map at ih_map_addr); DUET_ERR_IO. */
duet_err_t duet_port_core1_map(duet_area_t slot, const duet_img_info_t *img);
/** What core 1 owns besides its window: peripherals the firmware claimed for it
 *  (ESP32-S3: duet_esp_claim_*), as text for the status, e.g. "gpio 4; timer 1.0";
 *  "" when nothing. Always NUL-terminated (cap >= 1). */
void duet_port_core1_owns(char *buf, size_t cap);
/** Release core 1 into a loaded, verified image. */
duet_err_t duet_port_core1_start(const duet_img_info_t *img);
/** Check on core 1 for what shared memory cannot show (host: the child process died
 *  without writing a crash record; the port then writes a DUET_CRASH_KILLED record and
 *  sets sc_c1_state = CRASHED itself). @return DUET_OK if core 1 is (as far as the port
 *  knows) running, DUET_ERR_STATE if it is stopped or gone. */
duet_err_t duet_port_core1_poll(void);

/** The shared-memory area (control block at offset 0) and its size. */
void *duet_port_shm(size_t *size);

/* ---- time, doorbell, log ---------------------------------------------------------- */
/** Monotonic microseconds since an arbitrary start. */
uint64_t duet_port_now_us(void);
/** Ring core 1's doorbell. Safe from any context. */
void duet_port_doorbell_ring(void);
/** Wait until core 1 rings core 0's doorbell or timeout_us passes.
 *  @return DUET_OK if rung, DUET_ERR_TIMEOUT. */
duet_err_t duet_port_doorbell_wait(uint32_t timeout_us);

typedef enum { DUET_PLOG_ERROR = 1, DUET_PLOG_WARN, DUET_PLOG_INFO, DUET_PLOG_DEBUG } duet_plog_t;
/** Core-0 log sink ('tag' is "duet" or "core1"). */
void duet_port_log(duet_plog_t level, const char *tag, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* DUET_PORT_H */
