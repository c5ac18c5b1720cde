/*
 * pack_host.h - pack a PC executable of a core-1 program as a chip=HOST duet image.
 *
 * The host image convention (docs/simulator.md; `duet pack --chip host` makes the same):
 *   chip DUET_CHIP_HOST, abi DUET_ABI_HOST, one CODE segment at DUET_HOST_X_BASE
 *   (0x10000000) holding the whole executable file padded with zeros to a multiple of 4,
 *   entry = 0x10000000, stack_top = 0x20000000 + 1 MiB, stack_size = 64 KiB,
 *   build-id = the executable's GNU build-id, shm_version = DUET_SHM_LAYOUT_VERSION.
 */
#ifndef DUET_PACK_HOST_H
#define DUET_PACK_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"

#define DUET_HOST_IMG_STACK_TOP (0x20000000u + (1u << 20))
#define DUET_HOST_IMG_STACK_SIZE (64u * 1024u)

typedef struct {
    uint8_t ver_major, ver_minor;
    uint16_t ver_patch;
    uint32_t security_counter;
    const char *name; /* NULL = no NAME TLV */
} duet_pack_host_opts_t;

/** Parse "1.2.3" (also "1.2", "1") into the version fields. */
duet_err_t duet_pack_host_parse_version(const char *s, duet_pack_host_opts_t *o);
/** Read the executable at 'exe' and build the image; *out is malloc'd. */
duet_err_t duet_pack_host_file(const char *exe, const duet_pack_host_opts_t *o, uint8_t **out,
                               size_t *out_len);

#endif /* DUET_PACK_HOST_H */
