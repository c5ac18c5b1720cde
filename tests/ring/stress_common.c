/*
 * stress_common.c - deterministic message stream for the ring stress tests (see .h).
 */
#include "stress_common.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static uint32_t len_of(const stress_end_t *e, uint32_t i)
{
    uint32_t h = mix(i);
    /* mostly small messages, one in eight anywhere up to the maximum */
    uint32_t small = e->max < 63u ? e->max : 63u;
    return (h & 7u) == 0u ? (h >> 3) % (e->max + 1u) : (h >> 3) % (small + 1u);
}

static uint8_t byte_of(uint32_t i, uint32_t k)
{
    return (uint8_t)(i * 31u + k * 7u + (i >> 8) + (k >> 8));
}

static void fill(uint8_t *p, uint32_t i, uint32_t len)
{
    for (uint32_t k = 0; k < len; k++)
        p[k] = byte_of(i, k);
    if (len >= 4)
        memcpy(p, &i, 4); /* sequence number up front (pattern follows) */
}

static int check(stress_end_t *e, const uint8_t *p, uint32_t len)
{
    uint32_t i = e->next, want = len_of(e, i);
    if (len != want) {
        snprintf(e->error, sizeof(e->error), "msg %u: length %u, want %u", i, len, want);
        return -1;
    }
    uint32_t seq;
    if (len >= 4 && (memcpy(&seq, p, 4), seq != i)) {
        snprintf(e->error, sizeof(e->error), "msg %u: sequence %u", i, seq);
        return -1;
    }
    for (uint32_t k = len >= 4 ? 4 : 0; k < len; k++)
        if (p[k] != byte_of(i, k)) {
            snprintf(e->error, sizeof(e->error), "msg %u: byte %u is %u, want %u", i, k, p[k],
                     byte_of(i, k));
            return -1;
        }
    return 0;
}

uint32_t stress_count(uint32_t plain, uint32_t tsan)
{
    const char *s = getenv("DUET_STRESS_MSGS");
    if (s != NULL && *s != '\0')
        return (uint32_t)strtoul(s, NULL, 10);
    return UNDER_TSAN ? tsan : plain;
}

int stress_send_one(stress_end_t *e)
{
    uint32_t i = e->next, len = len_of(e, i);
    duet_err_t err;
    if (i % 3u == 0u) {
        /* zero-copy; every sixth reserves more than it commits */
        uint32_t extra = (i % 6u == 0u) ? mix(i + 1u) % 16u : 0u;
        uint32_t res = len + extra > e->max ? e->max : len + extra;
        void *p;
        err = duet_ring_reserve(&e->ring, res, &p);
        if (err == DUET_OK) {
            fill(p, i, len);
            err = duet_ring_commit(&e->ring, len);
        }
    } else {
        uint8_t buf[DUET_RING_MIN_SIZE * 64];
        if (len > sizeof(buf)) {
            snprintf(e->error, sizeof(e->error), "max %u too large for the test", e->max);
            return -1;
        }
        fill(buf, i, len);
        err = duet_ring_send(&e->ring, buf, len);
    }
    if (err == DUET_ERR_RING_FULL) {
        e->waits++;
        return 0;
    }
    if (err != DUET_OK) {
        snprintf(e->error, sizeof(e->error), "send %u: %s", i, duet_err_name(err));
        return -1;
    }
    e->next++;
    e->bytes += len;
    return 1;
}

int stress_recv_one(stress_end_t *e)
{
    duet_err_t err;
    size_t n = 0;
    if (e->next % 2u == 0u) {
        const void *p;
        err = duet_ring_peek(&e->ring, &p, &n);
        if (err == DUET_OK) {
            if (check(e, p, (uint32_t)n) != 0)
                return -1;
            err = duet_ring_release(&e->ring);
        }
    } else {
        uint8_t buf[DUET_RING_MIN_SIZE * 64];
        err = duet_ring_recv(&e->ring, buf, sizeof(buf), &n);
        if (err == DUET_OK && check(e, buf, (uint32_t)n) != 0)
            return -1;
    }
    if (err == DUET_ERR_RING_EMPTY) {
        e->waits++;
        return 0;
    }
    if (err != DUET_OK) {
        snprintf(e->error, sizeof(e->error), "recv %u: %s", e->next, duet_err_name(err));
        return -1;
    }
    e->next++;
    e->bytes += n;
    return 1;
}

void stress_backoff(unsigned n)
{
    /* Spin briefly, then yield: with 2 CPUs and other tests running, the peer may not
     * be scheduled at all. */
    if (n > 64u)
        sched_yield();
}
