/*
 * duet/crc32.h - CRC-32 (IEEE 802.3, the zlib/PNG one): reflected polynomial 0xEDB88320,
 * initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF. crc32("123456789") == 0xCBF43926.
 *
 * Freestanding (no libc), used by the A/B slot journal (duet/slot.h) on the chip and
 * on the host. Bitwise, no table: the records it protects are a few dozen bytes.
 */
#ifndef DUET_CRC32_H
#define DUET_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** CRC-32 of len bytes. */
uint32_t duet_crc32(const void *data, size_t len);

/** Continue a CRC over more bytes: duet_crc32_update(duet_crc32(a), b) equals the CRC
 *  of a followed by b. Start a fresh CRC with crc = 0. */
uint32_t duet_crc32_update(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* DUET_CRC32_H */
