/*
 * mem_resp.h - an in-memory HTTP answer for the API tests: duet_api_resp_t callbacks
 * that record status, content type and body (NUL-terminated), and count the starts.
 */
#ifndef DUET_TEST_MEM_RESP_H
#define DUET_TEST_MEM_RESP_H

#include <stdio.h>
#include <string.h>

typedef struct {
    int status;
    char type[64];
    char body[131072]; /* above the embedded page's 96 KiB limit (web/embed.cmake) */
    size_t len;
    int starts;
} mresp_t;

static inline int m_start(void *ctx, int status, const char *type, long len)
{
    (void)len;
    mresp_t *r = ctx;
    r->status = status;
    r->starts++;
    snprintf(r->type, sizeof(r->type), "%s", type);
    return 0;
}

static inline int m_write(void *ctx, const void *data, size_t len)
{
    mresp_t *r = ctx;
    if (r->len + len >= sizeof(r->body))
        return -1;
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    return 0;
}

#endif /* DUET_TEST_MEM_RESP_H */
