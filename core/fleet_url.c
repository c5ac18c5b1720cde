/*
 * fleet_url.c - resolve a manifest's image URL against the manifest's own URL
 * (RFC 3986 §5.2), so "counter-2.0.0.img" next to the manifest works on every port
 * without an HTTP library's URL parser.
 */
#include <ctype.h>
#include <string.h>

#include "duet/fleet.h"

typedef struct {
    char *p;
    size_t n, cap;
    bool over;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->over || n >= o->cap - o->n) {
        o->over = true;
        return;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

/* Length of "scheme:" at the start of s, 0 if there is none. */
static size_t scheme_len(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' ? i + 1 : 0;
}

/* Append path (len n, absolute) to o with "." and ".." segments removed (§5.2.4). */
static void put_path(out_t *o, const char *path, size_t n)
{
    size_t start = o->n; /* the output's path begins here; ".." never climbs above it */
    size_t i = 0;
    while (i < n) {
        /* path[i] == '/' always: the segment runs to the next '/' */
        size_t j = i + 1;
        while (j < n && path[j] != '/')
            j++;
        const char *seg = path + i + 1;
        size_t len = j - i - 1;
        bool last = j >= n;
        if (len == 1 && seg[0] == '.') {
            if (last)
                put(o, "/", 1);
        } else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o->n > start && o->p[o->n - 1] != '/')
                o->n--;
            if (o->n > start)
                o->n--; /* the '/' before the segment dropped */
            o->p[o->n] = '\0';
            if (last)
                put(o, "/", 1);
        } else {
            put(o, "/", 1);
            put(o, seg, len);
        }
        i = j;
    }
    if (o->n == start)
        put(o, "/", 1);
}

/* Path part of a reference: up to '?' or '#'. The fragment is dropped (never sent). */
static size_t path_len(const char *s)
{
    return strcspn(s, "?#");
}

static size_t query_len(const char *s)
{
    return s[0] == '?' ? strcspn(s, "#") : 0;
}

duet_err_t duet_fleet_resolve_url(const char *base, const char *ref, char *out, size_t cap)
{
    if (base == NULL || ref == NULL || out == NULL || cap == 0)
        return DUET_ERR_INVAL;
    size_t sl = scheme_len(base);
    if (sl == 0 || strncmp(base + sl, "//", 2) != 0)
        return DUET_ERR_INVAL;
    const char *auth = base + sl + 2;
    size_t al = strcspn(auth, "/?#");
    if (al == 0)
        return DUET_ERR_INVAL;
    const char *bpath = auth + al;
    size_t bpl = path_len(bpath);
    out_t o = {out, 0, cap, false};
    out[0] = '\0';

    size_t rsl = scheme_len(ref);
    if (rsl != 0) { /* absolute: its own scheme and authority */
        if (strncmp(ref + rsl, "//", 2) != 0)
            return DUET_ERR_INVAL; /* "mailto:", "data:": not something to download */
        const char *rauth = ref + rsl + 2;
        size_t ral = strcspn(rauth, "/?#");
        put(&o, ref, rsl + 2 + ral);
        const char *rp = rauth + ral;
        size_t rpl = path_len(rp);
        put_path(&o, rp, rpl);
        put(&o, rp + rpl, query_len(rp + rpl));
    } else if (strncmp(ref, "//", 2) == 0) { /* network-path: base's scheme only */
        const char *rauth = ref + 2;
        size_t ral = strcspn(rauth, "/?#");
        put(&o, base, sl + 2);
        put(&o, rauth, ral);
        const char *rp = rauth + ral;
        size_t rpl = path_len(rp);
        put_path(&o, rp, rpl);
        put(&o, rp + rpl, query_len(rp + rpl));
    } else {
        put(&o, base, sl + 2 + al);
        size_t rpl = path_len(ref);
        if (rpl == 0) { /* "" or "?q": base's path */
            const char *q = ref[0] == '?' ? ref : bpath + bpl;
            put_path(&o, bpath, bpl);
            put(&o, q, query_len(q));
        } else if (ref[0] == '/') {
            put_path(&o, ref, rpl);
            put(&o, ref + rpl, query_len(ref + rpl));
        } else {
            /* merge (§5.2.3): base's directory + ref, then remove dot segments */
            char merged[DUET_MANIFEST_URL_MAX * 2 + 2];
            size_t dir = bpl;
            while (dir > 0 && bpath[dir - 1] != '/')
                dir--;
            if (dir == 0) {
                merged[0] = '/';
                dir = 1;
            } else {
                if (dir >= sizeof merged)
                    return DUET_ERR_INVAL;
                memcpy(merged, bpath, dir);
            }
            if (rpl >= sizeof merged - dir)
                return DUET_ERR_INVAL;
            memcpy(merged + dir, ref, rpl);
            put_path(&o, merged, dir + rpl);
            put(&o, ref + rpl, query_len(ref + rpl));
        }
    }
    return o.over ? DUET_ERR_INVAL : DUET_OK;
}
