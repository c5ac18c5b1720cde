/*
 * json.c - the tiny JSON writer behind duet/json.h.
 *
 * Organisation: raw output helpers (put*), then the string escaper (shared by
 * duet_json_escape and the writer), then the value calls. Every output goes through
 * put(), which is the only place that checks the capacity: keep it that way so an
 * overflow can never write past the buffer.
 */
#include "duet/json.h"

#include <stdio.h>
#include <string.h>

static void put(duet_json_t *j, const char *s, size_t n)
{
    if (j->overflow)
        return;
    if (n >= j->cap - j->len) { /* keep one byte for the NUL */
        j->overflow = true;
        return;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void putc_(duet_json_t *j, char c)
{
    put(j, &c, 1);
}

/* Length of a valid UTF-8 sequence starting at s (n bytes available), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    /* reject overlong forms, surrogates and values above U+10FFFF */
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

/* Escape into a sink. 'emit' is either the writer or the bounded buffer below. */
typedef void (*emit_fn)(void *ctx, const char *s, size_t n);

static void escape(emit_fn emit, void *ctx, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        char esc[6];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            emit(ctx, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (named) {
                emit(ctx, named, 2);
            } else {
                esc[0] = '\\';
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                emit(ctx, esc, 6);
            }
            i++;
        } else if (c < 0x80) {
            size_t run = i;
            while (run < len && p[run] >= 0x20 && p[run] < 0x7F && p[run] != '"' && p[run] != '\\')
                run++;
            emit(ctx, s + i, run - i);
            i = run;
        } else {
            size_t n = utf8_len(p + i, len - i);
            if (n == 0) {
                emit(ctx, "\xEF\xBF\xBD", 3); /* U+FFFD for each invalid byte */
                i++;
            } else {
                emit(ctx, s + i, n);
                i += n;
            }
        }
    }
}

static void emit_json(void *ctx, const char *s, size_t n)
{
    put((duet_json_t *)ctx, s, n);
}

typedef struct {
    char *out;
    size_t cap, len;
} bounded_t;

static void emit_bounded(void *ctx, const char *s, size_t n)
{
    bounded_t *b = ctx;
    for (size_t i = 0; i < n; i++) {
        if (b->len + 1 < b->cap)
            b->out[b->len] = s[i];
        b->len++;
    }
}

size_t duet_json_escape(char *out, size_t cap, const char *s, size_t len)
{
    bounded_t b = {out, cap, 0};
    escape(emit_bounded, &b, s, len);
    if (cap > 0)
        out[b.len < cap ? b.len : cap - 1] = '\0';
    return b.len;
}

void duet_json_init(duet_json_t *j, char *buf, size_t cap)
{
    memset(j, 0, sizeof(*j));
    j->buf = buf;
    j->cap = cap;
    if (cap == 0)
        j->overflow = true;
    else
        buf[0] = '\0';
}

/* Comma and key before a value. */
static void prefix(duet_json_t *j, const char *key)
{
    if (j->need_comma[j->depth])
        putc_(j, ',');
    j->need_comma[j->depth] = true;
    if (key) {
        putc_(j, '"');
        escape(emit_json, j, key, strlen(key));
        put(j, "\":", 2);
    }
}

static void open_(duet_json_t *j, const char *key, char c)
{
    prefix(j, key);
    putc_(j, c);
    if (j->depth >= DUET_JSON_MAX_DEPTH) {
        j->overflow = true; /* too deep: report as "does not fit" */
        return;
    }
    j->depth++;
    j->need_comma[j->depth] = false;
}

static void close_(duet_json_t *j, char c)
{
    if (j->depth == 0) {
        j->overflow = true;
        return;
    }
    j->depth--;
    putc_(j, c);
}

void duet_json_obj_begin(duet_json_t *j, const char *key)
{
    open_(j, key, '{');
}

void duet_json_obj_end(duet_json_t *j)
{
    close_(j, '}');
}

void duet_json_arr_begin(duet_json_t *j, const char *key)
{
    open_(j, key, '[');
}

void duet_json_arr_end(duet_json_t *j)
{
    close_(j, ']');
}

void duet_json_strn(duet_json_t *j, const char *key, const char *s, size_t len)
{
    prefix(j, key);
    putc_(j, '"');
    escape(emit_json, j, s, len);
    putc_(j, '"');
}

void duet_json_str(duet_json_t *j, const char *key, const char *s)
{
    if (!s) {
        duet_json_null(j, key);
        return;
    }
    duet_json_strn(j, key, s, strlen(s));
}

void duet_json_u64(duet_json_t *j, const char *key, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    prefix(j, key);
    put(j, tmp, (size_t)n);
}

void duet_json_fixed(duet_json_t *j, const char *key, uint64_t v, unsigned decimals)
{
    char tmp[48];
    uint64_t scale = 1;
    if (decimals > 9u)
        decimals = 9u;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10u;
    int n;
    if (decimals == 0u)
        n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    else
        n = snprintf(tmp, sizeof(tmp), "%llu.%0*llu", (unsigned long long)(v / scale),
                     (int)decimals, (unsigned long long)(v % scale));
    prefix(j, key);
    put(j, tmp, (size_t)n);
}

void duet_json_i64(duet_json_t *j, const char *key, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
    prefix(j, key);
    put(j, tmp, (size_t)n);
}

void duet_json_bool(duet_json_t *j, const char *key, bool v)
{
    prefix(j, key);
    if (v)
        put(j, "true", 4);
    else
        put(j, "false", 5);
}

void duet_json_null(duet_json_t *j, const char *key)
{
    prefix(j, key);
    put(j, "null", 4);
}

void duet_json_hex(duet_json_t *j, const char *key, const void *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    prefix(j, key);
    putc_(j, '"');
    for (size_t i = 0; i < len; i++) {
        char two[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
        put(j, two, 2);
    }
    putc_(j, '"');
}

void duet_json_addr(duet_json_t *j, const char *key, uint32_t v)
{
    char tmp[16];
    int n = snprintf(tmp, sizeof(tmp), "\"0x%08lx\"", (unsigned long)v);
    prefix(j, key);
    put(j, tmp, (size_t)n);
}

duet_err_t duet_json_finish(duet_json_t *j, size_t *len)
{
    if (len)
        *len = j->len;
    if (j->overflow)
        return DUET_ERR_NOMEM;
    if (j->depth != 0)
        return DUET_ERR_STATE;
    return DUET_OK;
}
