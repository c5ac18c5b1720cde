/*
 * crc32.c - CRC-32 (IEEE), bitwise. See duet/crc32.h for the parameters.
 * Freestanding: no libc calls, so it links into core-1 programs and boot paths.
 * Must not change: the parameters (stored slot records depend on them).
 */
#include "duet/crc32.h"

uint32_t duet_crc32_update(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc; /* undo the final XOR of the previous call (0 -> 0xFFFFFFFF initial) */
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

uint32_t duet_crc32(const void *data, size_t len)
{
    return duet_crc32_update(0, data, len);
}
