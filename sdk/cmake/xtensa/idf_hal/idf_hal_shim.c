/*
 * idf_hal_shim.c - the two functions ESP-IDF's register-level headers may call on core 1
 * (hal/assert.h: HAL_ASSERT -> __assert_func, or abort at assertion level 1): both end
 * in duet's fault path, so a failed HAL assertion is a crash record with its text.
 * Linked into programs built with ESP-IDF's include path; unused ones are collected.
 */
#include "duet/app.h"

void __assert_func(const char *file, int line, const char *func, const char *expr);
void abort(void);

void __assert_func(const char *file, int line, const char *func, const char *expr)
{
    (void)func;
    duet_rt_assert_fail(file, line, expr);
}

void abort(void)
{
    duet_rt_panic("abort (ESP-IDF HAL)");
}
