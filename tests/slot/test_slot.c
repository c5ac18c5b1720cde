/*
 * test_slot.c - the A/B slot journal (core/slot.c) on the real host flash file.
 *
 * Basics: blank area -> fresh default; store/load round trip; the newest copy wins,
 * also across the 0xFFFFFFFF -> 0 seq wrap; a corrupt copy falls back to the other.
 * Power cut: for several consecutive stores (so both copies are targets), cut power
 * after every byte count of the store and at every op (plain and torn), reopen ("reboot")
 * and load: the result must always be valid and equal to the old or the new record.
 * Also: a good-CRC record with impossible fields is refused, store reads back what it
 * wrote, and sr_min_security never goes down through store.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "duet/host_flash.h"
#include "duet/port.h"
#include "duet/crc32.h"
#include "duet/slot.h"

static char path[128];
static const duet_host_flash_geom_t geom = { 4096, 8192, 4096 };

static void reopen(void)
{
    assert_int_equal(duet_host_flash_open(path, &geom), DUET_OK);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/duet-slottest-%ld.flash", (long)getpid());
    unlink(path);
    return duet_host_flash_open(path, &geom) == DUET_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    duet_host_flash_close();
    unlink(path);
    return 0;
}

/* Record contents that matter (seq/crc are set by store). */
static void make(duet_slot_rec_t *r, unsigned i)
{
    memset(r, 0, sizeof(*r));
    r->sr_active = (uint8_t)(i & 1u);
    r->sr_status[0] = (uint8_t)(i % 4u);
    r->sr_status[1] = (uint8_t)((i + 1u) % 4u);
    r->sr_min_security = i * 7u;
    r->sr_boots[0] = i;
    r->sr_boots[1] = 1000u + i;
}

static bool same(const duet_slot_rec_t *a, const duet_slot_rec_t *b)
{
    return a->sr_active == b->sr_active && a->sr_status[0] == b->sr_status[0] &&
           a->sr_status[1] == b->sr_status[1] && a->sr_min_security == b->sr_min_security &&
           a->sr_boots[0] == b->sr_boots[0] && a->sr_boots[1] == b->sr_boots[1];
}

static void test_slot_blank_area_loads_fresh_default(void **state)
{
    (void)state;
    duet_slot_rec_t r;
    bool fresh = false;
    assert_int_equal(duet_slot_load(&r, &fresh), DUET_OK);
    assert_true(fresh);
    assert_int_equal(r.sr_active, 0);
    assert_int_equal(r.sr_status[0], DUET_SLOT_EMPTY);
    assert_int_equal(r.sr_status[1], DUET_SLOT_EMPTY);
    assert_int_equal(r.sr_min_security, 0);
}

static void test_slot_store_then_load_round_trips_and_alternates_copies(void **state)
{
    (void)state;
    for (unsigned i = 1; i <= 5; i++) {
        duet_slot_rec_t w, r;
        make(&w, i);
        assert_int_equal(duet_slot_store(&w), DUET_OK);
        assert_int_equal(w.sr_seq, i);
        bool fresh = true;
        assert_int_equal(duet_slot_load(&r, &fresh), DUET_OK);
        assert_false(fresh);
        assert_true(same(&r, &w));
        assert_int_equal(r.sr_seq, i);
        /* Store i went to copy (i-1)%2: that copy's block holds the record. */
        uint32_t magic;
        assert_int_equal(duet_port_flash_read(DUET_AREA_STATE, ((i - 1u) % 2u) * 4096u, &magic, 4), DUET_OK);
        assert_int_equal(magic, DUET_SLOT_MAGIC);
    }
}

static void test_slot_seq_wraps_safely(void **state)
{
    (void)state;
    /* Hand-craft copy 0 with seq 0xFFFFFFFF by storing from a state where the newest
     * record has seq 0xFFFFFFFE: write it through store after patching seq is not
     * possible (store picks seq from flash), so build the raw bytes. */
    uint8_t b[32];
    memset(b, 0, sizeof(b));
    uint32_t magic = DUET_SLOT_MAGIC, seq = 0xFFFFFFFFu;
    memcpy(b, &magic, 4);
    memcpy(b + 4, &seq, 4);
    b[8] = 1;
    uint32_t crc = duet_crc32(b, 28);
    memcpy(b + 28, &crc, 4);
    assert_int_equal(duet_port_flash_write(DUET_AREA_STATE, 0, b, 32), DUET_OK);
    duet_slot_rec_t r;
    assert_int_equal(duet_slot_load(&r, NULL), DUET_OK);
    assert_int_equal(r.sr_seq, 0xFFFFFFFFu);
    duet_slot_rec_t w;
    make(&w, 2);
    assert_int_equal(duet_slot_store(&w), DUET_OK);
    assert_int_equal(w.sr_seq, 0u); /* wrapped */
    assert_int_equal(duet_slot_load(&r, NULL), DUET_OK);
    assert_int_equal(r.sr_seq, 0u);
    assert_true(same(&r, &w)); /* 0 is newer than 0xFFFFFFFF */
}

static void test_slot_corrupt_newest_copy_falls_back_to_older(void **state)
{
    (void)state;
    duet_slot_rec_t a, b, r;
    make(&a, 1);
    make(&b, 2);
    assert_int_equal(duet_slot_store(&a), DUET_OK); /* copy 0 */
    assert_int_equal(duet_slot_store(&b), DUET_OK); /* copy 1 */
    uint8_t z = 0x00;
    assert_int_equal(duet_port_flash_write(DUET_AREA_STATE, 4096 + 16, &z, 1), DUET_OK);
    assert_int_equal(duet_slot_load(&r, NULL), DUET_OK);
    assert_true(same(&r, &a));
    /* The next store must overwrite the corrupt copy, not the good one. */
    duet_slot_rec_t c;
    make(&c, 3);
    assert_int_equal(duet_slot_store(&c), DUET_OK);
    assert_int_equal(c.sr_seq, 2u);
    assert_int_equal(duet_port_flash_erase(DUET_AREA_STATE, 4096, 4096), DUET_OK);
    assert_int_equal(duet_slot_load(&r, NULL), DUET_OK);
    assert_true(same(&r, &a)); /* c went to copy 1, now erased: a remains */
}

static void test_slot_rejects_out_of_range_fields(void **state)
{
    (void)state;
    duet_slot_rec_t w;
    make(&w, 1);
    w.sr_active = 2;
    assert_int_equal(duet_slot_store(&w), DUET_ERR_INVAL);
    make(&w, 1);
    w.sr_status[1] = 9;
    assert_int_equal(duet_slot_store(&w), DUET_ERR_INVAL);
}

/* A record with a good CRC but impossible contents is refused like a torn one: the
 * other copy wins (an out-of-range sr_active would index past sr_status). */
static void test_slot_rejects_impossible_record_with_good_crc(void **state)
{
    (void)state;
    duet_slot_rec_t a, r;
    make(&a, 1);
    assert_int_equal(duet_slot_store(&a), DUET_OK); /* copy 0, seq 1 */
    for (int field = 0; field < 3; field++) {
        uint8_t b[32];
        memset(b, 0, sizeof(b));
        uint32_t magic = DUET_SLOT_MAGIC, seq = 2;
        memcpy(b, &magic, 4);
        memcpy(b + 4, &seq, 4);
        b[8] = field == 0 ? 2 : 0;  /* sr_active */
        b[9] = field == 1 ? DUET_SLOT_STATUS_MAX + 1 : 0; /* sr_status[0] */
        b[10] = field == 2 ? 9 : 0; /* sr_status[1] */
        uint32_t crc = duet_crc32(b, 28);
        memcpy(b + 28, &crc, 4);
        assert_int_equal(duet_port_flash_erase(DUET_AREA_STATE, 4096, 4096), DUET_OK);
        assert_int_equal(duet_port_flash_write(DUET_AREA_STATE, 4096, b, 32), DUET_OK);
        bool fresh = true;
        assert_int_equal(duet_slot_load(&r, &fresh), DUET_OK);
        assert_false(fresh);
        assert_true(same(&r, &a));
        assert_int_equal(r.sr_seq, 1);
    }
}

/* A write that reports success but does not stick must not be reported as stored. */
static void test_slot_store_reads_back(void **state)
{
    (void)state;
    duet_slot_rec_t a, b, r;
    make(&a, 1);
    make(&b, 2);
    assert_int_equal(duet_slot_store(&a), DUET_OK);
    duet_host_flash_drop_writes(1);
    assert_int_equal(duet_slot_store(&b), DUET_ERR_IO);
    assert_int_equal(duet_slot_load(&r, NULL), DUET_OK);
    assert_true(same(&r, &a));
    assert_int_equal(duet_slot_store(&b), DUET_OK); /* the flash behaves again */
    assert_int_equal(duet_slot_load(&r, NULL), DUET_OK);
    assert_true(same(&r, &b));
}

/* The anti-rollback floor never goes down through store, whatever the caller passes. */
static void test_slot_min_security_never_decreases(void **state)
{
    (void)state;
    duet_slot_rec_t w, r;
    make(&w, 1);
    w.sr_min_security = 10;
    assert_int_equal(duet_slot_store(&w), DUET_OK);
    make(&w, 2);
    w.sr_min_security = 3; /* a stale or buggy caller */
    assert_int_equal(duet_slot_store(&w), DUET_OK);
    assert_int_equal(w.sr_min_security, 10);
    assert_int_equal(duet_slot_load(&r, NULL), DUET_OK);
    assert_int_equal(r.sr_min_security, 10);
    assert_int_equal(r.sr_boots[0], 2); /* the rest of the record is the caller's */
    w.sr_min_security = 11;
    assert_int_equal(duet_slot_store(&w), DUET_OK);
    assert_int_equal(duet_slot_load(&r, NULL), DUET_OK);
    assert_int_equal(r.sr_min_security, 11);
}

/* One store of record 'i' with a fault armed, then reboot and check. */
static void cut_and_check(unsigned stores_before, int mode, uint64_t arg)
{
    reopen();
    assert_int_equal(duet_port_flash_erase(DUET_AREA_STATE, 0, 8192), DUET_OK);
    duet_slot_rec_t old, neu;
    memset(&old, 0, sizeof(old));
    for (unsigned i = 1; i <= stores_before; i++) {
        make(&old, i);
        assert_int_equal(duet_slot_store(&old), DUET_OK);
    }
    make(&neu, stores_before + 1);
    if (mode == 0)
        duet_host_flash_cut_after_bytes(arg);
    else
        duet_host_flash_fail_op(arg, mode == 2);
    duet_err_t e = duet_slot_store(&neu);
    reopen(); /* power back */
    duet_slot_rec_t r;
    bool fresh;
    assert_int_equal(duet_slot_load(&r, &fresh), DUET_OK);
    if (fresh) {
        /* Only possible before the very first record ever. */
        assert_int_equal(stores_before, 0);
        assert_int_not_equal(e, DUET_OK);
        return;
    }
    bool is_old = stores_before > 0 && same(&r, &old) && r.sr_seq == stores_before;
    bool is_new = same(&r, &neu) && r.sr_seq == stores_before + 1u;
    if (!is_old && !is_new)
        fail_msg("store #%u, mode %d, arg %llu: loaded a record that is neither old nor new",
                 stores_before + 1, mode, (unsigned long long)arg);
    if (e == DUET_OK)
        assert_true(is_new); /* a store that reported success must be durable */
}

static void test_slot_survives_power_cut_at_every_byte_and_op(void **state)
{
    (void)state;
    unsigned runs = 0;
    for (unsigned before = 0; before < 4; before++) {
        for (uint64_t bytes = 0; bytes <= 32; bytes++, runs++)
            cut_and_check(before, 0, bytes);
        for (uint64_t op = 1; op <= 3; op++, runs += 2) {
            cut_and_check(before, 1, op); /* the op does nothing */
            cut_and_check(before, 2, op); /* the op is torn in half */
        }
    }
    assert_true(runs >= 4 * 33);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slot_blank_area_loads_fresh_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_store_then_load_round_trips_and_alternates_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_seq_wraps_safely, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_corrupt_newest_copy_falls_back_to_older, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_rejects_out_of_range_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_survives_power_cut_at_every_byte_and_op, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_rejects_impossible_record_with_good_crc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_store_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_min_security_never_decreases, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
