/*
 * test_ring.c - unit tests for core/ring.c: every success and error path of the SPSC ring
 * on a RAM buffer (one thread). Corruption tests write the shared header/data directly,
 * as a hostile or crashed peer would, and check that the reader reports it and never
 * reads outside the buffer (run under ASan in build-test).
 * Built twice: test_ring uses the inline fast paths of duet_ring_send/recv (ring.h) where
 * they apply, test_ring_noinline (-DDUET_RING_NO_INLINE) only the out-of-line code; both
 * must show the same behaviour.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "duet/ring.h"

#define DATA 256u
#define FP DUET_RING_FOOTPRINT(DATA)
#define EPOCH 7u

typedef struct {
    uint32_t *mem; /* exactly FP bytes (ASan catches any overrun) */
    duet_ring_hdr_t *h;
    uint8_t *data;
    duet_ring_t p, c;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    f->mem = malloc(FP);
    f->h = (duet_ring_hdr_t *)f->mem;
    f->data = (uint8_t *)f->mem + DUET_RING_HDR_SIZE;
    assert_int_equal(duet_ring_init(f->mem, FP, EPOCH), DUET_OK);
    assert_int_equal(duet_ring_attach_producer(&f->p, f->mem, FP, EPOCH), DUET_OK);
    assert_int_equal(duet_ring_attach_consumer(&f->c, f->mem, FP, EPOCH), DUET_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    free(f->mem);
    free(f);
    return 0;
}

static uint32_t word(const fx_t *f, uint32_t off)
{
    uint32_t w;
    memcpy(&w, f->data + off, 4);
    return w;
}

static void put_word(fx_t *f, uint32_t off, uint32_t w)
{
    memcpy(f->data + off, &w, 4);
}

/* ------------------------------------------------------------------ init / attach */

static void test_ring_init_sets_header(void **state)
{
    fx_t *f = *state;
    assert_int_equal(f->h->rh_magic, DUET_RING_MAGIC);
    assert_int_equal(f->h->rh_size, DATA);
    assert_int_equal(f->h->rh_epoch, EPOCH);
    assert_int_equal(f->h->rh_max_msg, DATA / 2 - 4);
    assert_int_equal(f->h->rh_data_off, DUET_RING_HDR_SIZE);
    assert_int_equal(f->h->rh_head, 0);
    assert_int_equal(f->h->rh_tail, 0);
    for (uint32_t i = 0; i < DATA; i++)
        assert_int_equal(f->data[i], 0xff);
    assert_int_equal(duet_ring_max_msg(&f->p), DATA / 2 - 4);
}

static void test_ring_init_rejects_bad_arguments(void **state)
{
    (void)state;
    static uint32_t buf[1024];
    assert_int_equal(duet_ring_init(NULL, FP, 1), DUET_ERR_INVAL);
    assert_int_equal(duet_ring_init((uint8_t *)buf + 2, FP, 1), DUET_ERR_INVAL);
    assert_int_equal(duet_ring_init(buf, DUET_RING_HDR_SIZE + 32, 1), DUET_ERR_INVAL);
    assert_int_equal(duet_ring_init(buf, DUET_RING_HDR_SIZE + 100, 1), DUET_ERR_INVAL);
    assert_int_equal(duet_ring_init(buf, 100, 1), DUET_ERR_INVAL);
    assert_int_equal(duet_ring_init(buf, DUET_RING_HDR_SIZE + 64, 1), DUET_OK);
}

static void test_ring_attach_rejects_bad_header(void **state)
{
    fx_t *f = *state;
    duet_ring_t r;
    assert_int_equal(duet_ring_attach_consumer(NULL, f->mem, FP, EPOCH), DUET_ERR_INVAL);
    assert_int_equal(duet_ring_attach_consumer(&r, NULL, FP, EPOCH), DUET_ERR_INVAL);
    assert_int_equal(duet_ring_attach_consumer(&r, f->mem, 100, EPOCH), DUET_ERR_INVAL);
    /* the handle of a failed attach is unusable */
    size_t n;
    assert_int_equal(duet_ring_recv(&r, NULL, 0, &n), DUET_ERR_INVAL);

    assert_int_equal(duet_ring_attach_consumer(&r, f->mem, FP, EPOCH + 1), DUET_ERR_RING_STALE);
    /* footprint smaller than what the header claims */
    assert_int_equal(duet_ring_attach_consumer(&r, f->mem, FP - 4, EPOCH), DUET_ERR_RING_CORRUPT);

    f->h->rh_magic ^= 1;
    assert_int_equal(duet_ring_attach_producer(&r, f->mem, FP, EPOCH), DUET_ERR_RING_CORRUPT);
    f->h->rh_magic ^= 1;
    f->h->rh_size = 96; /* not a power of two */
    assert_int_equal(duet_ring_attach_producer(&r, f->mem, FP, EPOCH), DUET_ERR_RING_CORRUPT);
    f->h->rh_size = 512; /* bigger than the footprint */
    assert_int_equal(duet_ring_attach_producer(&r, f->mem, FP, EPOCH), DUET_ERR_RING_CORRUPT);
    f->h->rh_size = DATA;
    f->h->rh_data_off = 0;
    assert_int_equal(duet_ring_attach_producer(&r, f->mem, FP, EPOCH), DUET_ERR_RING_CORRUPT);
    f->h->rh_data_off = DUET_RING_HDR_SIZE;
    f->h->rh_max_msg = DATA; /* could never fit */
    assert_int_equal(duet_ring_attach_producer(&r, f->mem, FP, EPOCH), DUET_ERR_RING_CORRUPT);
    f->h->rh_max_msg = DATA / 2 - 4;
    f->h->rh_head = DATA + 4; /* head - tail > size */
    assert_int_equal(duet_ring_attach_consumer(&r, f->mem, FP, EPOCH), DUET_ERR_RING_CORRUPT);
    f->h->rh_head = 2; /* misaligned */
    assert_int_equal(duet_ring_attach_consumer(&r, f->mem, FP, EPOCH), DUET_ERR_RING_CORRUPT);
    f->h->rh_head = 0;
    assert_int_equal(duet_ring_attach_consumer(&r, f->mem, FP, EPOCH), DUET_OK);
}

/* ------------------------------------------------------------------ copy API */

static void test_ring_send_recv_round_trip(void **state)
{
    fx_t *f = *state;
    char buf[64];
    size_t n = 99;
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_EMPTY);
    assert_int_equal(duet_ring_send(&f->p, "hello", 5), DUET_OK);
    assert_int_equal(duet_ring_send(&f->p, "", 0), DUET_OK); /* empty message is a message */
    assert_int_equal(duet_ring_send(&f->p, "world!!!", 8), DUET_OK);
    assert_int_equal(duet_ring_used(&f->p), 12 + 4 + 12);
    assert_int_equal(duet_ring_free(&f->c), DATA - 28);
    assert_int_equal(word(f, 0), DUET_RING_REC_WORD(5, EPOCH, 0));

    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_OK);
    assert_int_equal(n, 0);
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_OK);
    assert_int_equal(n, 8);
    assert_memory_equal(buf, "world!!!", 8);
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_EMPTY);
    assert_int_equal(duet_ring_used(&f->c), 0);
    assert_int_equal(f->h->rh_tail, 28);
}

static void test_ring_send_fails_when_full_and_loses_nothing(void **state)
{
    fx_t *f = *state;
    uint8_t msg[20];
    unsigned sent = 0;
    duet_err_t e;
    for (;;) {
        memset(msg, (int)sent, sizeof(msg));
        e = duet_ring_send(&f->p, msg, sizeof(msg));
        if (e != DUET_OK)
            break;
        sent++;
    }
    assert_int_equal(e, DUET_ERR_RING_FULL);
    /* 24-byte records; a small record never straddles a 64-byte line: two per line */
    assert_int_equal(sent, DATA / 64 * 2);
    uint32_t head = f->h->rh_head;
    assert_int_equal(duet_ring_send(&f->p, msg, 13), DUET_ERR_RING_FULL); /* 20 > 16 left */
    assert_int_equal(f->h->rh_head, head); /* a failed send publishes nothing */

    for (unsigned i = 0; i < sent; i++) {
        uint8_t got[20], want[20];
        size_t n;
        memset(want, (int)i, sizeof(want));
        assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
        assert_int_equal(n, 20);
        assert_memory_equal(got, want, 20);
    }
    size_t n;
    assert_int_equal(duet_ring_recv(&f->c, msg, sizeof(msg), &n), DUET_ERR_RING_EMPTY);
    /* space came back: the producer refreshes its cached tail */
    assert_int_equal(duet_ring_send(&f->p, msg, 20), DUET_OK);
}

static void test_ring_rejects_too_big(void **state)
{
    fx_t *f = *state;
    static uint8_t big[DATA];
    void *p;
    assert_int_equal(duet_ring_send(&f->p, big, DATA / 2 - 3), DUET_ERR_RING_TOO_BIG);
    assert_int_equal(duet_ring_reserve(&f->p, DATA, &p), DUET_ERR_RING_TOO_BIG);
    assert_int_equal(duet_ring_send(&f->p, big, DATA / 2 - 4), DUET_OK); /* max fits */
    assert_int_equal(duet_ring_send(NULL, big, 1), DUET_ERR_INVAL);
    assert_int_equal(duet_ring_send(&f->p, NULL, 1), DUET_ERR_INVAL);

    /* receive buffer too small: message stays queued, length reported */
    uint8_t small[8];
    size_t n = 0;
    assert_int_equal(duet_ring_recv(&f->c, small, sizeof(small), &n), DUET_ERR_RING_TOO_BIG);
    assert_int_equal(n, DATA / 2 - 4);
    assert_int_equal(f->h->rh_tail, 0);
    assert_int_equal(duet_ring_recv(&f->c, big, sizeof(big), &n), DUET_OK);
    assert_int_equal(n, DATA / 2 - 4);
}

static void test_ring_max_message_always_fits_after_drain(void **state)
{
    fx_t *f = *state;
    static uint8_t big[DATA], got[DATA];
    size_t n;
    /* Move the indices to every aligned position; an empty ring takes max_msg there. */
    for (uint32_t step = 0; step < DATA / 4 + 2; step++) {
        for (uint32_t i = 0; i < sizeof(big); i++)
            big[i] = (uint8_t)(i + step);
        assert_int_equal(duet_ring_send(&f->p, big, DATA / 2 - 4), DUET_OK);
        assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
        assert_int_equal(n, DATA / 2 - 4);
        assert_memory_equal(got, big, n);
        assert_int_equal(duet_ring_send(&f->p, big, 0), DUET_OK); /* advance by 4 */
        assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
    }
}

static void test_ring_wraps_with_padding_record(void **state)
{
    fx_t *f = *state;
    uint8_t msg[100], got[100];
    size_t n;
    memset(msg, 0xab, sizeof(msg));
    /* two 104-byte records: head = 208, 48 bytes left before the end */
    assert_int_equal(duet_ring_send(&f->p, msg, 100), DUET_OK);
    assert_int_equal(duet_ring_send(&f->p, msg, 100), DUET_OK);
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
    /* 60 bytes (64-byte record) do not fit in 48: pad 48, record at offset 0 */
    for (int i = 0; i < 60; i++)
        msg[i] = (uint8_t)i;
    assert_int_equal(duet_ring_send(&f->p, msg, 60), DUET_OK);
    assert_int_equal(f->h->rh_head, 208 + 48 + 64);
    assert_int_equal(word(f, 208), DUET_RING_REC_WORD(44, EPOCH, DUET_RING_REC_PAD));
    assert_int_equal(word(f, 0), DUET_RING_REC_WORD(60, EPOCH, 0));
    assert_memory_equal(f->data + 4, msg, 60);
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
    assert_int_equal(n, 60);
    assert_memory_equal(got, msg, 60);
    assert_int_equal(f->h->rh_tail, 208 + 48 + 64);
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_ERR_RING_EMPTY);
}

static void test_ring_indices_wrap_past_2_pow_32(void **state)
{
    fx_t *f = *state;
    f->h->rh_head = f->h->rh_tail = 0xffffff00u;
    assert_int_equal(duet_ring_attach_producer(&f->p, f->mem, FP, EPOCH), DUET_OK);
    assert_int_equal(duet_ring_attach_consumer(&f->c, f->mem, FP, EPOCH), DUET_OK);
    for (uint32_t i = 0; i < 200; i++) {
        uint8_t msg[37], got[37];
        size_t n;
        memset(msg, (int)i, sizeof(msg));
        assert_int_equal(duet_ring_send(&f->p, msg, (i % 37) + 1), DUET_OK);
        assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
        assert_int_equal(n, (i % 37) + 1);
        assert_memory_equal(got, msg, n);
    }
    assert_true(f->h->rh_head < 0x10000u); /* crossed zero */
    size_t n;
    uint8_t b[4];
    assert_int_equal(duet_ring_recv(&f->c, b, sizeof(b), &n), DUET_ERR_RING_EMPTY);
    assert_int_equal(duet_ring_used(&f->c), 0);
}

/* ------------------------------------------------------------------ zero-copy */

static void test_ring_reserve_commit_peek_release(void **state)
{
    fx_t *f = *state;
    void *w;
    const void *rp;
    size_t n;
    assert_int_equal(duet_ring_commit(&f->p, 0), DUET_ERR_STATE);
    assert_int_equal(duet_ring_release(&f->c), DUET_ERR_STATE);
    assert_int_equal(duet_ring_reserve(&f->p, 40, &w), DUET_OK);
    assert_int_equal(((uintptr_t)w) & 3u, 0);
    assert_int_equal(duet_ring_reserve(&f->p, 4, &w), DUET_ERR_STATE); /* one at a time */
    assert_int_equal(duet_ring_send(&f->p, "x", 1), DUET_ERR_STATE);
    memcpy(w, "zero-copy!", 10);
    /* nothing visible before commit */
    assert_int_equal(duet_ring_peek(&f->c, &rp, &n), DUET_ERR_RING_EMPTY);
    assert_int_equal(duet_ring_commit(&f->p, 41), DUET_ERR_INVAL); /* > reserved (40) */
    assert_int_equal(duet_ring_commit(&f->p, 10), DUET_OK);        /* shrink */
    assert_int_equal(f->h->rh_head, 16);

    assert_int_equal(duet_ring_peek(&f->c, &rp, &n), DUET_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(rp, "zero-copy!", 10);
    assert_ptr_equal(rp, f->data + 4); /* in place */
    /* peek again: same message; tail unchanged until release */
    const void *rp2;
    assert_int_equal(duet_ring_peek(&f->c, &rp2, &n), DUET_OK);
    assert_ptr_equal(rp, rp2);
    assert_int_equal(f->h->rh_tail, 0);
    assert_int_equal(duet_ring_release(&f->c), DUET_OK);
    assert_int_equal(duet_ring_release(&f->c), DUET_ERR_STATE);
    assert_int_equal(duet_ring_peek(&f->c, &rp, &n), DUET_ERR_RING_EMPTY);
    assert_int_equal(f->h->rh_tail, 16); /* published at the latest when found empty */
    assert_int_equal(duet_ring_peek(&f->c, NULL, &n), DUET_ERR_INVAL);
    assert_int_equal(duet_ring_reserve(&f->p, 1, NULL), DUET_ERR_INVAL);
}

static void test_ring_reserve_across_wrap_pads_and_shrinks(void **state)
{
    fx_t *f = *state;
    void *w;
    const void *rp;
    size_t n;
    uint8_t msg[120];
    memset(msg, 1, sizeof(msg));
    assert_int_equal(duet_ring_send(&f->p, msg, 120), DUET_OK); /* 124 */
    assert_int_equal(duet_ring_send(&f->p, msg, 100), DUET_OK); /* 104 -> head 228 */
    assert_int_equal(duet_ring_recv(&f->c, msg, sizeof(msg), &n), DUET_OK);
    assert_int_equal(duet_ring_recv(&f->c, msg, sizeof(msg), &n), DUET_OK);
    assert_int_equal(duet_ring_reserve(&f->p, 64, &w), DUET_OK); /* 28 left: pads */
    assert_ptr_equal(w, f->data + 4);
    memcpy(w, "abc", 3);
    assert_int_equal(duet_ring_commit(&f->p, 3), DUET_OK);
    assert_int_equal(f->h->rh_head, 228 + 28 + 8);
    assert_int_equal(duet_ring_peek(&f->c, &rp, &n), DUET_OK);
    assert_int_equal(n, 3);
    assert_ptr_equal(rp, f->data + 4);
    assert_memory_equal(rp, "abc", 3);
    assert_int_equal(duet_ring_release(&f->c), DUET_OK);
    assert_int_equal(f->h->rh_tail, 228 + 28 + 8);
}

/* ------------------------------------------------------------------ epochs */

static void test_ring_reinit_makes_old_handles_stale(void **state)
{
    fx_t *f = *state;
    uint8_t buf[16];
    size_t n;
    void *w;
    const void *rp;
    assert_int_equal(duet_ring_send(&f->p, "old", 3), DUET_OK);
    assert_int_equal(duet_ring_reserve(&f->p, 4, &w), DUET_OK);
    assert_int_equal(duet_ring_init(f->mem, FP, EPOCH + 1), DUET_OK); /* core 1 restarted */
    assert_int_equal(duet_ring_commit(&f->p, 4), DUET_ERR_RING_STALE);
    assert_int_equal(duet_ring_send(&f->p, "x", 1), DUET_ERR_RING_STALE);
    assert_int_equal(duet_ring_reserve(&f->p, 1, &w), DUET_ERR_RING_STALE);
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_STALE);
    assert_int_equal(duet_ring_peek(&f->c, &rp, &n), DUET_ERR_RING_STALE);
    /* fresh handles work and see nothing from before */
    assert_int_equal(duet_ring_attach_consumer(&f->c, f->mem, FP, EPOCH + 1), DUET_OK);
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_EMPTY);
    assert_int_equal(duet_ring_attach_producer(&f->p, f->mem, FP, EPOCH + 1), DUET_OK);
    assert_int_equal(duet_ring_send(&f->p, "new", 3), DUET_OK);
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_OK);
    assert_memory_equal(buf, "new", 3);
}

static void test_ring_release_after_reinit_is_stale(void **state)
{
    fx_t *f = *state;
    const void *rp;
    size_t n;
    assert_int_equal(duet_ring_send(&f->p, "old", 3), DUET_OK);
    assert_int_equal(duet_ring_peek(&f->c, &rp, &n), DUET_OK);
    assert_int_equal(duet_ring_init(f->mem, FP, EPOCH + 1), DUET_OK);
    assert_int_equal(duet_ring_release(&f->c), DUET_ERR_RING_STALE);
    assert_int_equal(f->h->rh_tail, 0); /* the new ring's tail was not moved */
}

static void test_ring_record_from_old_epoch_is_not_delivered(void **state)
{
    fx_t *f = *state;
    uint8_t buf[16];
    size_t n;
    const void *rp;
    /* A producer from the previous epoch raced the re-init and published a record
     * stamped with its epoch into the new ring. */
    put_word(f, 0, DUET_RING_REC_WORD(3, EPOCH - 1, 0));
    memcpy(f->data + 4, "old", 3);
    f->h->rh_head = 8;
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_STALE);
    assert_int_equal(duet_ring_peek(&f->c, &rp, &n), DUET_ERR_RING_STALE);
    assert_int_equal(f->h->rh_tail, 0); /* not consumed */
    /* a padding record whose tag is old is not skipped either */
    f->h->rh_head = f->h->rh_tail = 128;
    assert_int_equal(duet_ring_attach_consumer(&f->c, f->mem, FP, EPOCH), DUET_OK);
    put_word(f, 128, DUET_RING_REC_WORD(124, EPOCH - 1, DUET_RING_REC_PAD));
    put_word(f, 0, DUET_RING_REC_WORD(4, EPOCH, 0));
    f->h->rh_head = 128 + 128 + 8;
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_STALE);
    assert_int_equal(f->h->rh_tail, 128);
}

/* ------------------------------------------------------------------ corruption */

static void test_ring_corrupt_head_is_detected(void **state)
{
    fx_t *f = *state;
    uint8_t buf[16];
    size_t n;
    f->h->rh_head = DATA + 4; /* more than the ring holds */
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    f->h->rh_head = 0xfffffff0u; /* "behind" the tail */
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    f->h->rh_head = 6; /* misaligned */
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    f->h->rh_head = 0;
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_EMPTY);
}

static void test_ring_corrupt_tail_is_detected(void **state)
{
    fx_t *f = *state;
    uint8_t msg[100] = {0};
    /* fill so the producer must look at the tail */
    assert_int_equal(duet_ring_send(&f->p, msg, 100), DUET_OK);
    assert_int_equal(duet_ring_send(&f->p, msg, 100), DUET_OK);
    f->h->rh_tail = 0x1000; /* ahead of head */
    assert_int_equal(duet_ring_send(&f->p, msg, 100), DUET_ERR_RING_CORRUPT);
    f->h->rh_tail = 2;
    assert_int_equal(duet_ring_send(&f->p, msg, 100), DUET_ERR_RING_CORRUPT);
    f->h->rh_tail = 0;
    assert_int_equal(duet_ring_send(&f->p, msg, 100), DUET_ERR_RING_FULL);
}

static void test_ring_corrupt_record_headers_are_detected(void **state)
{
    fx_t *f = *state;
    uint8_t buf[DATA];
    size_t n;
    const void *rp;
    assert_int_equal(duet_ring_send(&f->p, "abcdefgh", 8), DUET_OK); /* head = 12 */
    /* length beyond the published bytes */
    put_word(f, 0, DUET_RING_REC_WORD(9, EPOCH, 0));
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    assert_int_equal(duet_ring_peek(&f->c, &rp, &n), DUET_ERR_RING_CORRUPT);
    /* length above max_msg */
    put_word(f, 0, DUET_RING_REC_WORD(DATA / 2, EPOCH, 0));
    f->h->rh_head = DATA;
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    /* the 0xFF fill never decodes as a record */
    put_word(f, 0, 0xffffffffu);
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    /* padding that runs past the end of the data area, or is not a multiple of 4 */
    put_word(f, 0, DUET_RING_REC_WORD(DATA - 2, EPOCH, DUET_RING_REC_PAD));
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    put_word(f, 0, DUET_RING_REC_WORD(DATA, EPOCH, DUET_RING_REC_PAD));
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    put_word(f, 0, DUET_RING_REC_WORD(6, EPOCH, DUET_RING_REC_PAD));
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    /* a mid-ring padding record followed by a good record is fine */
    put_word(f, 0, DUET_RING_REC_WORD(8, EPOCH, DUET_RING_REC_PAD));
    put_word(f, 12, DUET_RING_REC_WORD(3, EPOCH, 0));
    memcpy(f->data + 16, "mid", 3);
    f->h->rh_head = 20;
    assert_int_equal(duet_ring_attach_consumer(&f->c, f->mem, FP, EPOCH), DUET_OK);
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "mid", 3);
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_EMPTY);
    f->h->rh_head = f->h->rh_tail = 0;
    assert_int_equal(duet_ring_attach_consumer(&f->c, f->mem, FP, EPOCH), DUET_OK);
    /* a record that would run past the end of the data area */
    f->h->rh_head = f->h->rh_tail = 200;
    assert_int_equal(duet_ring_attach_consumer(&f->c, f->mem, FP, EPOCH), DUET_OK);
    put_word(f, 200, DUET_RING_REC_WORD(80, EPOCH, 0));
    f->h->rh_head = 200 + 84;
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    /* a correct pad not followed by a published record */
    put_word(f, 200, DUET_RING_REC_WORD(52, EPOCH, DUET_RING_REC_PAD));
    f->h->rh_head = 256;
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    /* a pad followed by another pad */
    put_word(f, 0, DUET_RING_REC_WORD(DATA - 4, EPOCH, DUET_RING_REC_PAD));
    f->h->rh_head = 256 + 8;
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_ERR_RING_CORRUPT);
    /* made valid again: the pad is skipped and the message delivered */
    put_word(f, 0, DUET_RING_REC_WORD(2, EPOCH, 0));
    memcpy(f->data + 4, "ok", 2);
    assert_int_equal(duet_ring_recv(&f->c, buf, sizeof(buf), &n), DUET_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "ok", 2);
    assert_int_equal(f->h->rh_tail, 264);
}

static void test_ring_large_payloads_start_on_cache_lines(void **state)
{
    (void)state;
    enum { BIG = 4096 };
    size_t fp = DUET_RING_FOOTPRINT(BIG);
    uint8_t *mem = aligned_alloc(64, fp);
    uint8_t *data = mem + DUET_RING_HDR_SIZE;
    duet_ring_t p, c;
    static uint8_t msg[1024], got[1024];
    size_t n;
    void *w;
    for (unsigned i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 13u);
    assert_int_equal(duet_ring_init(mem, fp, 3), DUET_OK);
    assert_int_equal(duet_ring_attach_producer(&p, mem, fp, 3), DUET_OK);
    assert_int_equal(duet_ring_attach_consumer(&c, mem, fp, 3), DUET_OK);
    /* small messages stay packed */
    assert_int_equal(duet_ring_send(&p, msg, 255), DUET_OK); /* record 0..259 */
    /* 300 bytes at 260: payload would be at 264, padding moves it to 320 */
    assert_int_equal(duet_ring_reserve(&p, 300, &w), DUET_OK);
    assert_ptr_equal(w, data + 320);
    memcpy(w, msg, 300);
    assert_int_equal(duet_ring_commit(&p, 300), DUET_OK);
    uint32_t pw;
    memcpy(&pw, data + 260, 4);
    assert_int_equal(pw, DUET_RING_REC_WORD(316 - 260 - 4, 3, DUET_RING_REC_PAD));
    assert_int_equal(duet_ring_recv(&c, got, sizeof(got), &n), DUET_OK);
    assert_int_equal(n, 255);
    const void *rp;
    assert_int_equal(duet_ring_peek(&c, &rp, &n), DUET_OK);
    assert_ptr_equal(rp, data + 320);
    assert_int_equal(n, 300);
    assert_memory_equal(rp, msg, 300);
    assert_int_equal(duet_ring_release(&c), DUET_OK);
    /* nearly full: alignment is dropped rather than reporting FULL */
    assert_int_equal(duet_ring_recv(&c, got, sizeof(got), &n), DUET_ERR_RING_EMPTY);
    uint32_t head = mem[64] | (uint32_t)mem[65] << 8; /* rh_head (little-endian) */
    assert_int_equal(head, 620);
    /* fill: 620 + 3 * 1092 (1024 + pad) = 3896 ... then 196 bytes left at 3896? use send */
    unsigned sent = 0;
    while (duet_ring_send(&p, msg, 1024) == DUET_OK)
        sent++;
    assert_true(sent >= 2);
    /* whatever the placement, every message comes back intact */
    for (unsigned i = 0; i < sent; i++) {
        assert_int_equal(duet_ring_recv(&c, got, sizeof(got), &n), DUET_OK);
        assert_int_equal(n, 1024);
        assert_memory_equal(got, msg, 1024);
    }
    free(mem);
}

static void test_ring_release_is_published_in_batches(void **state)
{
    fx_t *f = *state;
    uint8_t b[8];
    size_t n;
    /* 8-byte records; the batch is size/8 = 32 bytes */
    for (int i = 0; i < 8; i++)
        assert_int_equal(duet_ring_send(&f->p, "abcd", 4), DUET_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(duet_ring_recv(&f->c, b, sizeof(b), &n), DUET_OK);
    assert_int_equal(f->h->rh_tail, 0); /* 24 bytes released, not yet published */
    assert_int_equal(duet_ring_recv(&f->c, b, sizeof(b), &n), DUET_OK);
    assert_int_equal(f->h->rh_tail, 32); /* a full batch */
    for (int i = 0; i < 4; i++)
        assert_int_equal(duet_ring_recv(&f->c, b, sizeof(b), &n), DUET_OK);
    assert_int_equal(f->h->rh_tail, 64);
    assert_int_equal(duet_ring_send(&f->p, "abcd", 4), DUET_OK);
    assert_int_equal(duet_ring_recv(&f->c, b, sizeof(b), &n), DUET_OK);
    assert_int_equal(f->h->rh_tail, 64);
    assert_int_equal(duet_ring_recv(&f->c, b, sizeof(b), &n), DUET_ERR_RING_EMPTY);
    assert_int_equal(f->h->rh_tail, 72); /* found empty: everything published */
}

static void test_ring_small_records_never_straddle_a_line(void **state)
{
    fx_t *f = *state;
    uint8_t msg[16], got[16];
    size_t n;
    for (unsigned i = 0; i < 3; i++) { /* 20-byte records at 0, 20, 40 */
        memset(msg, (int)i, sizeof(msg));
        assert_int_equal(duet_ring_send(&f->p, msg, sizeof(msg)), DUET_OK);
    }
    assert_int_equal(f->h->rh_head, 60); /* padding written ahead is not published */
    assert_int_equal(word(f, 60), DUET_RING_REC_WORD(0, EPOCH, DUET_RING_REC_PAD));
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
        assert_int_equal(n, 16);
        assert_int_equal(got[0], i);
    }
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_ERR_RING_EMPTY);
    /* the 4th would straddle 64: it starts at 64 behind the 4-byte padding record */
    memset(msg, 3, sizeof(msg));
    assert_int_equal(duet_ring_send(&f->p, msg, sizeof(msg)), DUET_OK);
    assert_int_equal(f->h->rh_head, 84);
    assert_int_equal(word(f, 60), DUET_RING_REC_WORD(0, EPOCH, DUET_RING_REC_PAD));
    assert_int_equal(word(f, 64), DUET_RING_REC_WORD(16, EPOCH, 0));
    /* a smaller message that fits in the rest of a line overwrites the unpublished
     * padding word written ahead: 3 more 16-byte ones end at 144, then 8 bytes fit */
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(duet_ring_send(&f->p, msg, sizeof(msg)), DUET_OK);
    assert_int_equal(f->h->rh_head, 148); /* 84, 104, pad 124..128, 128..148 */
    assert_int_equal(duet_ring_send(&f->p, "12345678", 8), DUET_OK);
    assert_int_equal(f->h->rh_head, 160);
    assert_int_equal(word(f, 148), DUET_RING_REC_WORD(8, EPOCH, 0));
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
        assert_int_equal(n, 16);
        assert_int_equal(got[0], 3);
    }
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
    assert_int_equal(n, 8);
    assert_memory_equal(got, "12345678", 8);
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_ERR_RING_EMPTY);
    assert_int_equal(f->h->rh_tail, 160);
    /* a record over half a line is not moved: 40 bytes at 160 straddle 192 */
    static const uint8_t mid[36] = {1, 2, 3};
    assert_int_equal(duet_ring_send(&f->p, mid, sizeof(mid)), DUET_OK);
    assert_int_equal(f->h->rh_head, 200);
    assert_int_equal(word(f, 160), DUET_RING_REC_WORD(36, EPOCH, 0));
    uint8_t got36[36];
    assert_int_equal(duet_ring_recv(&f->c, got36, sizeof(got36), &n), DUET_OK);
    assert_int_equal(n, 36);
    assert_memory_equal(got36, mid, 36);
}

static void test_ring_padding_checks_apply_on_every_path(void **state)
{
    fx_t *f = *state;
    uint8_t msg[16] = {0}, got[16];
    size_t n;
    for (unsigned i = 0; i < 4; i++) /* records at 0, 20, 40, pad at 60, record at 64 */
        assert_int_equal(duet_ring_send(&f->p, msg, sizeof(msg)), DUET_OK);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
    /* padding of another epoch: STALE, nothing consumed */
    put_word(f, 60, DUET_RING_REC_WORD(0, EPOCH + 1, DUET_RING_REC_PAD));
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_ERR_RING_STALE);
    /* padding whose length is not a multiple of 4 / reaches past the published bytes */
    put_word(f, 60, DUET_RING_REC_WORD(2, EPOCH, DUET_RING_REC_PAD));
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_ERR_RING_CORRUPT);
    put_word(f, 60, DUET_RING_REC_WORD(20, EPOCH, DUET_RING_REC_PAD));
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_ERR_RING_CORRUPT);
    /* the record behind the padding is checked as any other */
    put_word(f, 60, DUET_RING_REC_WORD(0, EPOCH, DUET_RING_REC_PAD));
    put_word(f, 64, DUET_RING_REC_WORD(17, EPOCH, 0));
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_ERR_RING_CORRUPT);
    put_word(f, 64, DUET_RING_REC_WORD(16, EPOCH + 1, 0));
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_ERR_RING_STALE);
    assert_int_equal(f->c.local, 60); /* nothing consumed by any of these */
    put_word(f, 64, DUET_RING_REC_WORD(16, EPOCH, 0));
    /* a buffer that is too small: TOO_BIG with the length, the message stays */
    assert_int_equal(duet_ring_recv(&f->c, got, 15, &n), DUET_ERR_RING_TOO_BIG);
    assert_int_equal(n, 16);
    /* a peek left open is dropped by recv, which delivers the same message */
    const void *rp;
    assert_int_equal(duet_ring_peek(&f->c, &rp, &n), DUET_OK);
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_OK);
    assert_int_equal(n, 16);
    assert_int_equal(duet_ring_release(&f->c), DUET_ERR_STATE);
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_ERR_RING_EMPTY);
    assert_int_equal(f->h->rh_tail, 84);
    /* a handle whose epoch is no longer the ring's: STALE on both sides */
    f->h->rh_epoch = EPOCH + 1;
    assert_int_equal(duet_ring_send(&f->p, msg, sizeof(msg)), DUET_ERR_RING_STALE);
    assert_int_equal(duet_ring_recv(&f->c, got, sizeof(got), &n), DUET_ERR_RING_STALE);
    assert_int_equal(f->h->rh_head, 84);
}

static void test_ring_record_size(void **state)
{
    (void)state;
    assert_int_equal(duet_ring_record_size(0), 4);
    assert_int_equal(duet_ring_record_size(1), 8);
    assert_int_equal(duet_ring_record_size(4), 8);
    assert_int_equal(duet_ring_record_size(5), 12);
    assert_int_equal(duet_ring_record_size(DUET_RING_REC_LEN_MASK), 4 + 0x100000);
    assert_int_equal(duet_ring_record_size((size_t)DUET_RING_REC_LEN_MASK + 1), 0);
    assert_int_equal(duet_ring_used(NULL), 0);
    assert_int_equal(duet_ring_free(NULL), 0);
    assert_int_equal(duet_ring_max_msg(NULL), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ring_init_sets_header),
        T(test_ring_init_rejects_bad_arguments),
        T(test_ring_attach_rejects_bad_header),
        T(test_ring_send_recv_round_trip),
        T(test_ring_send_fails_when_full_and_loses_nothing),
        T(test_ring_rejects_too_big),
        T(test_ring_max_message_always_fits_after_drain),
        T(test_ring_wraps_with_padding_record),
        T(test_ring_indices_wrap_past_2_pow_32),
        T(test_ring_reserve_commit_peek_release),
        T(test_ring_reserve_across_wrap_pads_and_shrinks),
        T(test_ring_reinit_makes_old_handles_stale),
        T(test_ring_release_after_reinit_is_stale),
        T(test_ring_record_from_old_epoch_is_not_delivered),
        T(test_ring_corrupt_head_is_detected),
        T(test_ring_corrupt_tail_is_detected),
        T(test_ring_corrupt_record_headers_are_detected),
        T(test_ring_large_payloads_start_on_cache_lines),
        T(test_ring_release_is_published_in_batches),
        T(test_ring_small_records_never_straddle_a_line),
        T(test_ring_padding_checks_apply_on_every_path),
        T(test_ring_record_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
