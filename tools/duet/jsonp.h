/*
 * jsonp.h - a small JSON reader for the CLI (API answers, saved crash records) and the
 * tests. Parses into a tree of malloc'd nodes; strict RFC 8259 (no comments, no
 * trailing commas), depth-limited. Host-only (tools/ and tests/).
 */
#ifndef DUET_JSONP_H
#define DUET_JSONP_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { JP_NULL, JP_BOOL, JP_NUM, JP_STR, JP_ARR, JP_OBJ } jp_type_t;

typedef struct jp_node {
    jp_type_t type;
    char *key;            /* member name when inside an object */
    char *str;            /* JP_STR: decoded UTF-8; JP_NUM: the number's text */
    size_t str_len;
    double num;
    bool b;
    struct jp_node *child; /* first element/member */
    struct jp_node *next;  /* next sibling */
} jp_node_t;

/* Parse text (len bytes). NULL on error (err gets a message if non-NULL). */
jp_node_t *jp_parse(const char *text, size_t len, char *err, size_t err_cap);
void jp_free(jp_node_t *n);
/* Member of an object, or NULL. */
const jp_node_t *jp_get(const jp_node_t *obj, const char *key);
/* Convenience: string member or def; number member or def. */
const char *jp_str(const jp_node_t *obj, const char *key, const char *def);
double jp_num(const jp_node_t *obj, const char *key, double def);
bool jp_bool(const jp_node_t *obj, const char *key, bool def);
size_t jp_len(const jp_node_t *arr);

#endif /* DUET_JSONP_H */
