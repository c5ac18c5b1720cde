/*
 * duet/json.h - a tiny streaming JSON writer into a caller-owned buffer.
 *
 * Used by the HTTP API (status, crash, errors), the CLI (--json output) and the crash
 * decoder. No heap, no locale, no floating point: it must build for ESP-IDF and for
 * core 0 of any port. Strings are escaped per RFC 8259 (quote, backslash, control
 * characters as \u00XX); bytes >= 0x80 are copied unchanged, invalid UTF-8 is replaced
 * by U+FFFD so the output is always valid JSON text.
 *
 * Usage: every value call takes a key; pass NULL inside arrays and at the top level.
 * Overflow is sticky: once the buffer is full, further calls do nothing and
 * duet_json_finish() reports DUET_ERR_NOMEM. The buffer is always NUL-terminated.
 */
#ifndef DUET_JSON_H
#define DUET_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_JSON_MAX_DEPTH 16

typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;
    unsigned depth;
    bool need_comma[DUET_JSON_MAX_DEPTH + 1];
} duet_json_t;

/** Start writing into buf (cap >= 1). */
void duet_json_init(duet_json_t *j, char *buf, size_t cap);
void duet_json_obj_begin(duet_json_t *j, const char *key);
void duet_json_obj_end(duet_json_t *j);
void duet_json_arr_begin(duet_json_t *j, const char *key);
void duet_json_arr_end(duet_json_t *j);
/** String value; s == NULL writes null. */
void duet_json_str(duet_json_t *j, const char *key, const char *s);
/** String of exactly len bytes (may contain NUL, escaped as \u0000). */
void duet_json_strn(duet_json_t *j, const char *key, const char *s, size_t len);
void duet_json_u64(duet_json_t *j, const char *key, uint64_t v);
void duet_json_i64(duet_json_t *j, const char *key, int64_t v);
/** v / 10^decimals as a decimal number (decimals <= 9), e.g. (12345, 3) -> 12.345:
 *  fractions without floating point (the timing API's microseconds). */
void duet_json_fixed(duet_json_t *j, const char *key, uint64_t v, unsigned decimals);
void duet_json_bool(duet_json_t *j, const char *key, bool v);
void duet_json_null(duet_json_t *j, const char *key);
/** Bytes as a lowercase hex string. */
void duet_json_hex(duet_json_t *j, const char *key, const void *data, size_t len);
/** A 32-bit address as a string "0x%08x" (JSON numbers are awkward for addresses). */
void duet_json_addr(duet_json_t *j, const char *key, uint32_t v);
/** Check that every container was closed and nothing overflowed.
 *  @return DUET_OK, DUET_ERR_NOMEM (buffer too small), DUET_ERR_STATE (unbalanced). */
duet_err_t duet_json_finish(duet_json_t *j, size_t *len);

/** Escape s (len bytes) into out as the inside of a JSON string (no quotes).
 *  @return bytes needed excluding the NUL; output is truncated (NUL-terminated) if cap
 *  is too small. */
size_t duet_json_escape(char *out, size_t cap, const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* DUET_JSON_H */
