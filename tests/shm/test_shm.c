/*
 * test_shm.c - unit tests for core/shm.c: layout of a fresh area, what survives a re-init,
 * lookups, every configuration error of duet_shm_init, and every layout error
 * duet_shm_check must catch in a hostile area (offsets out of bounds, overflow, overlap,
 * bad names). The area is a malloc'd buffer of exactly its size (ASan checks bounds).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "duet/shm.h"

#define AREA 16384u

typedef struct {
    uint8_t *mem;
    duet_shm_ctrl_t *c;
    duet_shm_config_t cfg;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    f->mem = aligned_alloc(64, AREA);
    memset(f->mem, 0xa5, AREA); /* garbage, as after power-up */
    f->c = (duet_shm_ctrl_t *)f->mem;
    f->cfg.log_ring_size = 2048;
    f->cfg.chan_count = 2;
    f->cfg.chans[0].name = "cmd";
    f->cfg.chans[0].ring_size = 1024;
    f->cfg.chans[1].name = "telemetry";
    f->cfg.chans[1].ring_size = 4096;
    assert_int_equal(duet_shm_init(f->mem, AREA, &f->cfg, 1), DUET_OK);
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

static void test_shm_init_lays_out_control_block_and_rings(void **state)
{
    fx_t *f = *state;
    duet_shm_ctrl_t *c = f->c;
    assert_int_equal(c->sc_magic, DUET_SHM_MAGIC);
    assert_int_equal(c->sc_layout, DUET_SHM_LAYOUT_VERSION);
    assert_int_equal(c->sc_ctrl_size, DUET_SHM_CTRL_SIZE);
    assert_int_equal(c->sc_shm_size, AREA);
    assert_int_equal(c->sc_epoch, 1);
    assert_int_equal(c->sc_c1_state, DUET_C1_OFF);
    assert_int_equal(c->sc_heartbeat, 0);
    assert_int_equal(c->sc_log_off, DUET_SHM_CTRL_SIZE);
    assert_int_equal(c->sc_log_size, DUET_RING_FOOTPRINT(2048));
    assert_int_equal(c->sc_chan_count, 2);
    assert_string_equal(c->sc_chan[0].ch_name, "cmd");
    assert_string_equal(c->sc_chan[1].ch_name, "telemetry");
    assert_int_equal(c->sc_chan[1].ch_ring_size, DUET_RING_FOOTPRINT(4096));
    /* rings start on 64-byte boundaries, in order, without overlap */
    uint32_t prev_end = c->sc_log_off + c->sc_log_size;
    for (unsigned i = 0; i < 2; i++) {
        uint32_t a = c->sc_chan[i].ch_to_c1_off, b = c->sc_chan[i].ch_to_c0_off;
        assert_int_equal(a % 64, 0);
        assert_int_equal(b % 64, 0);
        assert_true(a >= prev_end);
        assert_true(b >= a + c->sc_chan[i].ch_ring_size);
        prev_end = b + c->sc_chan[i].ch_ring_size;
    }
    assert_true(prev_end <= AREA);
    /* garbage from before init is gone: crash record and user words are zero */
    assert_int_equal(c->sc_crash.cr_magic, 0);
    assert_int_equal(c->sc_user[0], 0);
    for (unsigned i = 2; i < DUET_SHM_MAX_CHANNELS; i++)
        assert_int_equal(c->sc_chan[i].ch_name[0], 0);
    assert_int_equal(duet_shm_check(f->mem, AREA), DUET_OK);
}

static void test_shm_rings_are_usable_in_both_directions(void **state)
{
    fx_t *f = *state;
    void *r1, *r0, *lr;
    size_t fp1, fp0, lfp;
    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, "telemetry", 1, &r1, &fp1), DUET_OK);
    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, "telemetry", 0, &r0, &fp0), DUET_OK);
    assert_ptr_equal(r1, f->mem + f->c->sc_chan[1].ch_to_c1_off);
    assert_ptr_equal(r0, f->mem + f->c->sc_chan[1].ch_to_c0_off);
    assert_int_equal(fp1, DUET_RING_FOOTPRINT(4096));
    assert_int_equal(duet_shm_log_ring(f->mem, AREA, &lr, &lfp), DUET_OK);
    assert_ptr_equal(lr, f->mem + DUET_SHM_CTRL_SIZE);

    duet_ring_t p, c;
    char buf[8];
    size_t n;
    assert_int_equal(duet_ring_attach_producer(&p, r0, fp0, 1), DUET_OK);
    assert_int_equal(duet_ring_attach_consumer(&c, r0, fp0, 1), DUET_OK);
    assert_int_equal(duet_ring_send(&p, "t", 1), DUET_OK);
    assert_int_equal(duet_ring_recv(&c, buf, sizeof(buf), &n), DUET_OK);
    assert_int_equal(duet_ring_attach_consumer(&c, lr, lfp, 2), DUET_ERR_RING_STALE);

    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, "nope", 1, &r1, &fp1), DUET_ERR_NOT_FOUND);
    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, "", 1, &r1, &fp1), DUET_ERR_NOT_FOUND);
    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, "telemetryX", 1, &r1, &fp1),
                     DUET_ERR_NOT_FOUND);
    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, NULL, 1, &r1, &fp1), DUET_ERR_INVAL);
    assert_int_equal(duet_shm_log_ring(f->mem, AREA, NULL, &lfp), DUET_ERR_INVAL);
}

static void test_shm_reinit_keeps_crash_record_and_user_words(void **state)
{
    fx_t *f = *state;
    f->c->sc_crash.cr_magic = DUET_CRASH_MAGIC;
    f->c->sc_crash.cr_epoch = 1;
    f->c->sc_crash.cr_reason = DUET_CRASH_PANIC;
    strcpy(f->c->sc_crash.cr_msg, "boom");
    f->c->sc_user[3] = 1234;
    f->c->sc_heartbeat = 99;
    f->c->sc_c1_state = DUET_C1_CRASHED;
    void *r;
    size_t fp;
    duet_ring_t p;
    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, "cmd", 1, &r, &fp), DUET_OK);
    assert_int_equal(duet_ring_attach_producer(&p, r, fp, 1), DUET_OK);
    assert_int_equal(duet_ring_send(&p, "old", 3), DUET_OK);

    assert_int_equal(duet_shm_init(f->mem, AREA, &f->cfg, 2), DUET_OK);
    assert_int_equal(f->c->sc_epoch, 2);
    assert_int_equal(f->c->sc_crash.cr_magic, DUET_CRASH_MAGIC);
    assert_int_equal(f->c->sc_crash.cr_epoch, 1);
    assert_string_equal(f->c->sc_crash.cr_msg, "boom");
    assert_int_equal(f->c->sc_user[3], 1234);
    assert_int_equal(f->c->sc_heartbeat, 0);
    assert_int_equal(f->c->sc_c1_state, DUET_C1_OFF);
    /* the old epoch's handle is stale, the new ring is empty */
    assert_int_equal(duet_ring_send(&p, "x", 1), DUET_ERR_RING_STALE);
    duet_ring_t c;
    char buf[8];
    size_t n;
    assert_int_equal(duet_ring_attach_consumer(&c, r, fp, 2), DUET_OK);
    assert_int_equal(duet_ring_recv(&c, buf, sizeof(buf), &n), DUET_ERR_RING_EMPTY);

    /* an invalid crash record is not carried over */
    f->c->sc_crash.cr_magic = 0x12345678;
    assert_int_equal(duet_shm_init(f->mem, AREA, &f->cfg, 3), DUET_OK);
    assert_int_equal(f->c->sc_crash.cr_epoch, 0);
    assert_int_equal(f->c->sc_user[3], 1234);
}

static void test_shm_init_rejects_bad_config(void **state)
{
    fx_t *f = *state;
    duet_shm_config_t cfg = f->cfg;
    assert_int_equal(duet_shm_init(NULL, AREA, &cfg, 1), DUET_ERR_INVAL);
    assert_int_equal(duet_shm_init(f->mem, AREA, NULL, 1), DUET_ERR_INVAL);
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 0), DUET_ERR_INVAL); /* epoch 0 */
    assert_int_equal(duet_shm_init(f->mem + 2, AREA - 2, &cfg, 1), DUET_ERR_INVAL);
    cfg.log_ring_size = 1000;
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 1), DUET_ERR_INVAL);
    cfg.log_ring_size = 32;
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 1), DUET_ERR_INVAL);
    cfg = f->cfg;
    cfg.chans[1].ring_size = 3000;
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 1), DUET_ERR_INVAL);
    cfg = f->cfg;
    cfg.chans[1].name = "cmd"; /* duplicate */
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 1), DUET_ERR_INVAL);
    cfg.chans[1].name = "0123456789abcdef"; /* 16 chars: no room for the NUL */
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 1), DUET_ERR_INVAL);
    cfg.chans[1].name = "";
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 1), DUET_ERR_INVAL);
    cfg.chans[1].name = NULL;
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 1), DUET_ERR_INVAL);
    cfg = f->cfg;
    cfg.chan_count = DUET_SHM_MAX_CHANNELS + 1;
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 1), DUET_ERR_INVAL);
    cfg = f->cfg;
    cfg.chans[1].ring_size = 8192; /* 2 x 8 KiB does not fit in 16 KiB with the rest */
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 1), DUET_ERR_NOMEM);
    assert_int_equal(duet_shm_init(f->mem, 512, &f->cfg, 1), DUET_ERR_NOMEM);
    /* a 15-character name and the exact fit work */
    cfg = f->cfg;
    cfg.chans[1].name = "0123456789abcde";
    assert_int_equal(duet_shm_init(f->mem, AREA, &cfg, 1), DUET_OK);
    assert_int_equal(duet_shm_check(f->mem, AREA), DUET_OK);
}

/* Re-initialise, apply one corruption, expect 'want' from check. */
#define CORRUPT(f, stmt, want)                                                                     \
    do {                                                                                           \
        assert_int_equal(duet_shm_init((f)->mem, AREA, &(f)->cfg, 1), DUET_OK);                    \
        duet_shm_ctrl_t *c = (f)->c;                                                               \
        stmt;                                                                                      \
        assert_int_equal(duet_shm_check((f)->mem, AREA), (want));                                  \
    } while (0)

static void test_shm_check_rejects_hostile_layouts(void **state)
{
    fx_t *f = *state;
    assert_int_equal(duet_shm_check(NULL, AREA), DUET_ERR_INVAL);
    assert_int_equal(duet_shm_check(f->mem, 100), DUET_ERR_SHM_BAD_LAYOUT);
    /* the area as seen by the checker is smaller than what the block claims */
    assert_int_equal(duet_shm_check(f->mem, AREA - 4), DUET_ERR_SHM_BAD_LAYOUT);
    CORRUPT(f, c->sc_magic ^= 1, DUET_ERR_SHM_BAD_MAGIC);
    CORRUPT(f, c->sc_layout = 2, DUET_ERR_SHM_BAD_VERSION);
    CORRUPT(f, c->sc_ctrl_size = 512, DUET_ERR_SHM_BAD_LAYOUT);
    CORRUPT(f, c->sc_shm_size = 100, DUET_ERR_SHM_BAD_LAYOUT);
    CORRUPT(f, c->sc_log_off = 0, DUET_ERR_SHM_BAD_LAYOUT);           /* over the control block */
    CORRUPT(f, c->sc_log_off = AREA - 100, DUET_ERR_SHM_BAD_LAYOUT);  /* runs past the end */
    CORRUPT(f, c->sc_log_off = 0xfffffff0u, DUET_ERR_SHM_BAD_LAYOUT); /* 32-bit overflow */
    CORRUPT(f, c->sc_log_off += 2, DUET_ERR_SHM_BAD_LAYOUT);          /* misaligned */
    CORRUPT(f, c->sc_log_size = 0xffffffffu, DUET_ERR_SHM_BAD_LAYOUT);
    CORRUPT(f, c->sc_log_size = 100, DUET_ERR_SHM_BAD_LAYOUT); /* smaller than a ring */
    CORRUPT(f, c->sc_chan_count = 9, DUET_ERR_SHM_BAD_LAYOUT);
    CORRUPT(f, c->sc_chan_count = 3, DUET_ERR_SHM_BAD_LAYOUT); /* entry 2 is empty */
    CORRUPT(f, c->sc_chan[0].ch_to_c1_off = AREA, DUET_ERR_SHM_BAD_LAYOUT);
    CORRUPT(f, c->sc_chan[1].ch_to_c0_off = c->sc_chan[1].ch_to_c1_off, DUET_ERR_SHM_BAD_LAYOUT);
    CORRUPT(f, c->sc_chan[0].ch_to_c1_off = c->sc_log_off + 64, DUET_ERR_SHM_BAD_LAYOUT);
    CORRUPT(f, c->sc_chan[1].ch_ring_size = 0x80000000u, DUET_ERR_SHM_BAD_LAYOUT);
    CORRUPT(f, memset(c->sc_chan[0].ch_name, 'x', 16), DUET_ERR_SHM_BAD_LAYOUT); /* no NUL */
    CORRUPT(f, memcpy(c->sc_chan[1].ch_name, "cmd", 4), DUET_ERR_SHM_BAD_LAYOUT); /* dup */
    CORRUPT(f, c->sc_chan[0].ch_flags = 1, DUET_ERR_SHM_BAD_LAYOUT);
    CORRUPT(f, c->sc_heartbeat = 0xffffffffu, DUET_OK); /* core-1 counters are not layout */
}

static void test_shm_lookups_recheck_the_entry(void **state)
{
    fx_t *f = *state;
    void *r;
    size_t fp;
    f->c->sc_chan[0].ch_to_c0_off = 0xfffffff0u; /* changed after a successful check */
    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, "cmd", 0, &r, &fp), DUET_ERR_SHM_BAD_LAYOUT);
    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, "cmd", 1, &r, &fp), DUET_OK);
    f->c->sc_log_size = AREA;
    assert_int_equal(duet_shm_log_ring(f->mem, AREA, &r, &fp), DUET_ERR_SHM_BAD_LAYOUT);
    f->c->sc_chan_count = 100;
    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, "cmd", 1, &r, &fp), DUET_ERR_SHM_BAD_LAYOUT);
    f->c->sc_magic = 0;
    assert_int_equal(duet_shm_chan_ring(f->mem, AREA, "cmd", 1, &r, &fp), DUET_ERR_SHM_BAD_MAGIC);
    assert_int_equal(duet_shm_log_ring(f->mem, AREA, &r, &fp), DUET_ERR_SHM_BAD_MAGIC);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_shm_init_lays_out_control_block_and_rings),
        T(test_shm_rings_are_usable_in_both_directions),
        T(test_shm_reinit_keeps_crash_record_and_user_words),
        T(test_shm_init_rejects_bad_config),
        T(test_shm_check_rejects_hostile_layouts),
        T(test_shm_lookups_recheck_the_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
