/*
 * rt_log.c - core-1 logging into the log ring, and the small printf behind it.
 *
 * A log call formats into a stack buffer (at most DUET_RT_LOG_MAX bytes of text), then
 * writes one ring message: duet_log_rec_t followed by the text (no NUL). It never
 * blocks: when the ring is full the line is dropped and sc_log_dropped counts it, so a
 * program that logs in a tight loop slows nothing down on core 0's side.
 *
 * The formatter is our own because core 1 has no libc. It supports exactly the subset
 * app.h promises; anything else is copied through literally so a bad format string is
 * visible in the log instead of reading random varargs.
 *
 * Not reentrant: one producer (the program's main flow). Don't log from interrupts.
 */
#include <string.h>

#include "duet/app.h"
#include "rt_priv.h"

static duet_ring_t s_log;
static int s_log_ok;

duet_err_t duet_rt_priv_log_attach(duet_shm_ctrl_t *ctrl, size_t shm_size, uint32_t epoch)
{
    s_log_ok = 0;
    if (ctrl->sc_log_size == 0)
        return DUET_OK; /* core 0 configured no log ring: every line counts as dropped */
    void *ring = NULL;
    size_t fp = 0;
    DUET_TRY(duet_shm_log_ring(ctrl, shm_size, &ring, &fp));
    DUET_TRY(duet_ring_attach_producer(&s_log, ring, fp, epoch));
    s_log_ok = 1;
    return DUET_OK;
}

/* ---- formatter ------------------------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t cap, len; /* len counts stored chars; stores stop at cap-1 */
} out_t;

static void put(out_t *o, char c)
{
    if (o->len + 1 < o->cap)
        o->buf[o->len++] = c;
}

static void pad(out_t *o, char c, int n)
{
    for (; n > 0; n--)
        put(o, c);
}

/* Emit a converted field honouring width and the '-' and '0' flags. 'sign' is the
 * sign or prefix text that must stay left of zero padding ("-", "0x"). */
static void field(out_t *o, const char *sign, const char *body, size_t body_len, int width,
                  int left, int zero)
{
    size_t sl = sign != NULL ? strlen(sign) : 0;
    int fill = width - (int)(sl + body_len);
    if (!left && !zero)
        pad(o, ' ', fill);
    for (size_t i = 0; i < sl; i++)
        put(o, sign[i]);
    if (!left && zero)
        pad(o, '0', fill);
    for (size_t i = 0; i < body_len; i++)
        put(o, body[i]);
    if (left)
        pad(o, ' ', fill);
}

/* Digits of v in base 10 or 16 into the END of tmp; returns the first digit. */
static char *utoa(unsigned long long v, unsigned base, int upper, char *end)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        *--p = digits[v % base];
        v /= base;
    } while (v != 0);
    return p;
}

size_t duet_rt_priv_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
    out_t o = {buf, cap, 0};
    char tmp[24];
    if (fmt == NULL)
        fmt = "(null fmt)";
    for (const char *f = fmt; *f != '\0'; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        const char *start = f++;
        int left = 0, zero = 0, width = 0, prec = -1, lng = 0, size_t_len = 0;
        for (;; f++) {
            if (*f == '-')
                left = 1;
            else if (*f == '0')
                zero = 1;
            else
                break;
        }
        if (*f == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = 1;
                width = -width;
            }
            f++;
        }
        for (; *f >= '0' && *f <= '9'; f++)
            width = width < 1000 ? width * 10 + (*f - '0') : width;
        if (*f == '.') {
            f++;
            prec = 0;
            if (*f == '*') {
                prec = va_arg(ap, int);
                f++;
            }
            for (; *f >= '0' && *f <= '9'; f++)
                prec = prec < 100000 ? prec * 10 + (*f - '0') : prec;
        }
        if (*f == 'l') {
            lng = 1;
            if (*++f == 'l') {
                lng = 2;
                f++;
            }
        } else if (*f == 'z') {
            size_t_len = 1;
            f++;
        }
        char *end = tmp + sizeof tmp;
        switch (*f) {
        case 'd':
        case 'i': {
            long long v = lng == 2 ? va_arg(ap, long long)
                          : lng == 1 ? (long long)va_arg(ap, long)
                          : size_t_len ? (long long)va_arg(ap, ptrdiff_t)
                                       : (long long)va_arg(ap, int);
            /* Negate in unsigned arithmetic: -LLONG_MIN would overflow. */
            unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            char *p = utoa(u, 10, 0, end);
            field(&o, v < 0 ? "-" : NULL, p, (size_t)(end - p), width, left, zero);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v = lng == 2 ? va_arg(ap, unsigned long long)
                                   : lng == 1 ? (unsigned long long)va_arg(ap, unsigned long)
                                   : size_t_len ? (unsigned long long)va_arg(ap, size_t)
                                                : (unsigned long long)va_arg(ap, unsigned);
            char *p = utoa(v, *f == 'u' ? 10u : 16u, *f == 'X', end);
            field(&o, NULL, p, (size_t)(end - p), width, left, zero);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            char *p = utoa((unsigned long long)v, 16, 0, end);
            field(&o, "0x", p, (size_t)(end - p), width, left, zero);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL)
                s = "(null)";
            size_t n = 0;
            while (s[n] != '\0' && (prec < 0 || n < (size_t)prec))
                n++;
            field(&o, NULL, s, n, width, left, 0);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            field(&o, NULL, &c, 1, width, left, 0);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        default:
            /* Unsupported conversion: show it verbatim, consume no argument. */
            for (const char *q = start; q <= f && *q != '\0'; q++)
                put(&o, *q);
            if (*f == '\0')
                f--; /* let the loop see the terminator */
            break;
        }
    }
    if (cap > 0)
        buf[o.len] = '\0';
    return o.len;
}

size_t duet_rt_priv_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = duet_rt_priv_vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* ---- the log ring ----------------------------------------------------------------------- */

static void dropped(void)
{
    duet_shm_ctrl_t *c = duet_rt_ctrl();
    if (c == NULL)
        return;
    uint32_t n = __atomic_load_n(&c->sc_log_dropped, __ATOMIC_RELAXED);
    duet_rt_st(&c->sc_log_dropped, n + 1u);
}

void duet_rt_vlog(int level, const char *fmt, va_list ap)
{
    char text[DUET_RT_LOG_MAX + 1];
    size_t n = duet_rt_priv_vsnprintf(text, sizeof text, fmt, ap);
    if (!s_log_ok) {
        dropped();
        return;
    }
    duet_log_rec_t rec = {0};
    rec.lr_time_us = (uint32_t)duet_arch_time_us();
    rec.lr_level = (uint8_t)(level < DUET_LOG_ERROR ? DUET_LOG_ERROR
                             : level > DUET_LOG_DEBUG ? DUET_LOG_DEBUG
                                                      : level);
    void *p = NULL;
    if (duet_ring_reserve(&s_log, sizeof rec + n, &p) != DUET_OK) {
        dropped(); /* full, stale or too big: never wait for core 0 */
        return;
    }
    memcpy(p, &rec, sizeof rec);
    memcpy((uint8_t *)p + sizeof rec, text, n);
    if (duet_ring_commit(&s_log, sizeof rec + n) != DUET_OK)
        dropped();
}

void duet_rt_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    duet_rt_vlog(level, fmt, ap);
    va_end(ap);
}
