/*
 * rt_libc.c - the few libc functions the runtime and compilers need on bare metal
 * (GCC emits calls to memcpy/memset/memmove/memcmp itself, even with -ffreestanding).
 *
 * Built ONLY for core-1 targets without libc (the Xtensa build); the host build uses
 * the system libc and must not link this file (duplicate symbols).
 * memcpy and memset copy whole words when both ends are 4-byte aligned (the runtime's
 * ring and channel copies are: target-bench measured ~7 instructions per byte with the
 * old volatile byte loop); the rest are plain byte loops. The optimize attribute stops
 * GCC from recognising the loops as calls to themselves (volatile did that before, at
 * the price of a MEMW per byte on Xtensa).
 */
#include <stddef.h>
#include <stdint.h>

#define DUET_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
/* A word that may alias any object (what memcpy's callers pass). */
typedef uint32_t __attribute__((may_alias)) duet_word_t;

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

DUET_NO_LIBCALL void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0) {
        duet_word_t *dw = (duet_word_t *)(void *)d;
        const duet_word_t *sw = (const duet_word_t *)(const void *)s;
        for (; n >= 16; n -= 16, dw += 4, sw += 4) {
            dw[0] = sw[0];
            dw[1] = sw[1];
            dw[2] = sw[2];
            dw[3] = sw[3];
        }
        for (; n >= 4; n -= 4)
            *dw++ = *sw++;
        d = (uint8_t *)dw;
        s = (const uint8_t *)sw;
    }
    while (n-- > 0)
        *d++ = *s++;
    return dst;
}

DUET_NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((uintptr_t)d < (uintptr_t)s) {
        while (n-- > 0)
            *d++ = *s++;
    } else {
        while (n-- > 0)
            d[n] = s[n];
    }
    return dst;
}

DUET_NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    if (((uintptr_t)d & 3u) == 0 && n >= 4) {
        duet_word_t w = (uint8_t)c * 0x01010101u, *dw = (duet_word_t *)(void *)d;
        for (; n >= 4; n -= 4)
            *dw++ = w;
        d = (uint8_t *)dw;
    }
    while (n-- > 0)
        *d++ = (uint8_t)c;
    return dst;
}

DUET_NO_LIBCALL int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n > 0; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

DUET_NO_LIBCALL size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}
