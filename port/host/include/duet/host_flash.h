/*
 * duet/host_flash.h - the simulator's flash: one file holding the three duet areas,
 * with NOR semantics and power-cut injection.
 *
 * File layout (raw bytes, no header; a fresh file reads 0xFF everywhere):
 *
 *   0                       slot A    (slot_size bytes)
 *   slot_size               slot B    (slot_size bytes)
 *   2 * slot_size           STATE     (state_size bytes, the slot-state journal)
 *
 * It implements the duet_port_flash_* functions of duet/port.h. NOR rules hold: a
 * write can only clear bits (the file gets old & new), an erase sets whole erase
 * blocks to 0xFF, offsets and lengths are range-checked (DUET_ERR_INVAL).
 *
 * Power-cut injection (the MCUboot simulator's "fail flash op N" idea):
 *   - cut_after_bytes(n): the next n programmed bytes succeed; the write that crosses
 *     the limit programs only its first bytes up to it and fails.
 *   - fail_op(n, torn): the n-th write/erase op from now fails; with torn it does half
 *     of its work first (half the bytes programmed / the first half of the range
 *     erased), modelling an operation interrupted in the middle.
 * After a cut the "device is dead": every later write/erase fails with DUET_ERR_IO
 * (reads keep working so a test can look). duet_host_flash_open() again = reboot.
 * Lying flash (not a power cut): drop_writes(n): the next n writes report success but
 * program nothing, so tests can check that callers read back what they rely on.
 *
 * Single-threaded, process-global state (like every port): one open flash at a time.
 */
#ifndef DUET_HOST_FLASH_H
#define DUET_HOST_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/port.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t slot_size;  /* bytes per slot (multiple of erase_size) */
    uint32_t state_size; /* bytes of the STATE area (>= 2 * erase_size, multiple of it) */
    uint32_t erase_size; /* erase-block size, a power of two (4096 like SPI NOR) */
} duet_host_flash_geom_t;

/** Default geometry: 256 KiB slots, 8 KiB STATE, 4 KiB blocks. */
#define DUET_HOST_FLASH_GEOM_DEFAULT { 256u * 1024u, 8u * 1024u, 4096u }

typedef struct {
    uint64_t writes;        /* write ops attempted since open */
    uint64_t erases;        /* erase ops attempted since open */
    uint64_t bytes_written; /* bytes programmed since open */
} duet_host_flash_stats_t;

/** Open (creating and filling with 0xFF if missing) the flash file. An existing file
 *  must have exactly the size the geometry implies (DUET_ERR_INVAL otherwise).
 *  Closes a previously open flash first and clears every injected fault.
 *  @return DUET_OK, DUET_ERR_INVAL (bad geometry / size mismatch), DUET_ERR_IO. */
duet_err_t duet_host_flash_open(const char *path, const duet_host_flash_geom_t *geom);
/** Close the file (idempotent). Later port calls fail with DUET_ERR_STATE. */
void duet_host_flash_close(void);

/** Power dies after n more programmed bytes (see above). */
void duet_host_flash_cut_after_bytes(uint64_t n);
/** The n-th (1-based) write/erase op from now fails; torn = it does half its work. */
void duet_host_flash_fail_op(uint64_t n, bool torn);
/** The next n write ops return DUET_OK without programming anything. */
void duet_host_flash_drop_writes(uint64_t n);
/** Remove pending fault injection (a dead device stays dead until reopened). */
void duet_host_flash_fault_clear(void);
/** True once an injected cut has happened. */
bool duet_host_flash_dead(void);
void duet_host_flash_stats(duet_host_flash_stats_t *st);

/** Called around every program (erase = false) and erase, after the arguments were
 *  checked: the host port's XIP lockout (xip_map.c installs it when it maps an XIP
 *  program), the model of the chip's flash driver disabling the cache. begin's error
 *  is returned without doing the operation (end is not called then). */
typedef struct {
    duet_err_t (*begin)(duet_area_t area, uint32_t off, size_t len);
    void (*end)(bool erase);
} duet_host_flash_guard_t;
/** Install (copied) or remove (NULL) the guard. */
void duet_host_flash_set_guard(const duet_host_flash_guard_t *guard);

#ifdef __cplusplus
}
#endif
#endif /* DUET_HOST_FLASH_H */
