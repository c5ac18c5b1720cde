/*
 * jsonp.c - recursive-descent JSON reader (see jsonp.h). Input is untrusted (it comes
 * from the network): every read is bounds-checked, depth is capped, strings are
 * decoded with \uXXXX (surrogate pairs included) into UTF-8.
 */
#include "jsonp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
    const char *p, *end;
    char *err;
    size_t err_cap;
    int depth;
} ps_t;

static void fail(ps_t *s, const char *msg)
{
    if (s->err && s->err_cap && !s->err[0])
        snprintf(s->err, s->err_cap, "%s at offset %ld", msg, (long)(s->end - s->p));
}

static void ws(ps_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static jp_node_t *node(jp_type_t t)
{
    jp_node_t *n = calloc(1, sizeof(*n));
    if (n)
        n->type = t;
    return n;
}

static int hex4(ps_t *s, unsigned *out)
{
    unsigned v = 0;
    if (s->end - s->p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = s->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    s->p += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parse a string at s->p (the opening quote). Decoded bytes never exceed the input. */
static char *string(ps_t *s, size_t *len)
{
    const char *start = ++s->p;
    const char *q = start;
    while (q < s->end && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= s->end) {
        fail(s, "unterminated string");
        return NULL;
    }
    char *out = malloc((size_t)(q - start) + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    while (s->p < s->end && *s->p != '"') {
        unsigned char c = (unsigned char)*s->p;
        if (c < 0x20) {
            fail(s, "control character in string");
            goto bad;
        }
        if (c != '\\') {
            out[n++] = (char)c;
            s->p++;
            continue;
        }
        if (++s->p >= s->end)
            goto bad;
        char e = *s->p++;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(s, &cp) != 0) {
                fail(s, "bad \\u escape");
                goto bad;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u') {
                    fail(s, "lone surrogate");
                    goto bad;
                }
                s->p += 2;
                if (hex4(s, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
                    fail(s, "bad surrogate pair");
                    goto bad;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(s, "lone surrogate");
                goto bad;
            }
            /* "\uXXXX" is 6 input bytes and at most 3 output bytes; a pair is 12 -> 4 */
            n += put_utf8(out + n, cp);
            break;
        }
        default:
            fail(s, "bad escape");
            goto bad;
        }
    }
    s->p++; /* closing quote */
    out[n] = '\0';
    *len = n;
    return out;
bad:
    free(out);
    return NULL;
}

static jp_node_t *value(ps_t *s);

static jp_node_t *container(ps_t *s, bool obj)
{
    jp_node_t *n = node(obj ? JP_OBJ : JP_ARR), **tail;
    if (!n)
        return NULL;
    tail = &n->child;
    if (++s->depth > MAX_DEPTH) {
        fail(s, "nesting too deep");
        goto bad;
    }
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
        s->p++;
        s->depth--;
        return n;
    }
    for (;;) {
        char *key = NULL;
        size_t klen;
        ws(s);
        if (obj) {
            if (s->p >= s->end || *s->p != '"') {
                fail(s, "expected member name");
                goto bad;
            }
            key = string(s, &klen);
            if (!key)
                goto bad;
            ws(s);
            if (s->p >= s->end || *s->p != ':') {
                free(key);
                fail(s, "expected ':'");
                goto bad;
            }
            s->p++;
        }
        jp_node_t *v = value(s);
        if (!v) {
            free(key);
            goto bad;
        }
        v->key = key;
        *tail = v;
        tail = &v->next;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
            s->p++;
            s->depth--;
            return n;
        }
        fail(s, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        goto bad;
    }
bad:
    jp_free(n);
    return NULL;
}

static bool lit(ps_t *s, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

static jp_node_t *number(ps_t *s)
{
    const char *st = s->p;
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        goto bad;
    if (*s->p == '0')
        s->p++;
    else
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            goto bad;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            goto bad;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    jp_node_t *n = node(JP_NUM);
    if (!n)
        return NULL;
    n->str_len = (size_t)(s->p - st);
    n->str = malloc(n->str_len + 1);
    if (!n->str) {
        free(n);
        return NULL;
    }
    memcpy(n->str, st, n->str_len);
    n->str[n->str_len] = '\0';
    n->num = strtod(n->str, NULL);
    return n;
bad:
    fail(s, "bad number");
    return NULL;
}

static jp_node_t *value(ps_t *s)
{
    jp_node_t *n;
    ws(s);
    if (s->p >= s->end) {
        fail(s, "unexpected end");
        return NULL;
    }
    switch (*s->p) {
    case '{': return container(s, true);
    case '[': return container(s, false);
    case '"':
        n = node(JP_STR);
        if (n && !(n->str = string(s, &n->str_len))) {
            free(n);
            return NULL;
        }
        return n;
    case 't':
    case 'f':
        if (lit(s, "true") || lit(s, "false")) {
            n = node(JP_BOOL);
            if (n)
                n->b = s->p[-1] == 'e' && s->p[-2] == 'u';
            return n;
        }
        break;
    case 'n':
        if (lit(s, "null"))
            return node(JP_NULL);
        break;
    default:
        return number(s);
    }
    fail(s, "unexpected token");
    return NULL;
}

jp_node_t *jp_parse(const char *text, size_t len, char *err, size_t err_cap)
{
    ps_t s = {text, text + len, err, err_cap, 0};
    if (err && err_cap)
        err[0] = '\0';
    jp_node_t *n = value(&s);
    if (!n)
        return NULL;
    ws(&s);
    if (s.p != s.end) {
        fail(&s, "trailing data");
        jp_free(n);
        return NULL;
    }
    return n;
}

void jp_free(jp_node_t *n)
{
    while (n) {
        jp_node_t *next = n->next;
        jp_free(n->child);
        free(n->key);
        free(n->str);
        free(n);
        n = next;
    }
}

const jp_node_t *jp_get(const jp_node_t *obj, const char *key)
{
    if (!obj || obj->type != JP_OBJ)
        return NULL;
    for (const jp_node_t *c = obj->child; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

const char *jp_str(const jp_node_t *obj, const char *key, const char *def)
{
    const jp_node_t *n = jp_get(obj, key);
    return (n && n->type == JP_STR) ? n->str : def;
}

double jp_num(const jp_node_t *obj, const char *key, double def)
{
    const jp_node_t *n = jp_get(obj, key);
    return (n && n->type == JP_NUM) ? n->num : def;
}

bool jp_bool(const jp_node_t *obj, const char *key, bool def)
{
    const jp_node_t *n = jp_get(obj, key);
    return (n && n->type == JP_BOOL) ? n->b : def;
}

size_t jp_len(const jp_node_t *arr)
{
    size_t n = 0;
    if (arr)
        for (const jp_node_t *c = arr->child; c; c = c->next)
            n++;
    return n;
}
