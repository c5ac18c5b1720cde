/*
 * string.h - the only libc header a core-1 program gets on the ESP32-S3 (sdk/arch/xtensa
 * adds this folder with -isystem). Core 1 links no libc (-nostdlib): these five
 * functions are all there is, implemented in sdk/src/rt_libc.c. Using anything else
 * (strcmp, printf, malloc...) is a compile error on purpose: ESP-IDF's newlib is not
 * core-1 safe (locks, reent, console).
 */
#ifndef DUET_XT_LIBC_STRING_H
#define DUET_XT_LIBC_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif /* DUET_XT_LIBC_STRING_H */
