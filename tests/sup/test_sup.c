/*
 * test_sup.c - the supervisor state machine against a scripted core 1 (fake_core1.c),
 * a fake clock, the real host flash file and real signed images.
 *
 * Covers: boot -> RUNNING (and what the loader copied), epochs, crash -> CRASHED ->
 * RECOVERING with doubling backoff, crash-loop limit, recovery off/once, hang and boot
 * timeout, stale crash records and stale acks of older epochs, a dead core 1, exit,
 * stop, log drain, linked programs, and the loader's TOCTOU re-hash. Then wrap-arounds
 * (epoch, heartbeat counter, the port clock), hostile shared memory (a future-dated
 * crash record, oversized/short log records), port calls failing halfway through a
 * start, a core 1 gone without a record, and the security floor of factory adoption.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "duet/ring.h"
#include "harness.h"
#include "sup_int.h"

static duet_sup_t sup;
static h_img_t v1;

static duet_sup_state_t state(void)
{
    duet_sup_status_t st;
    duet_sup_get_status(&sup, &st);
    return st.state;
}

static int setup(void **st)
{
    (void)st;
    fake_reset(false);
    h_events_clear();
    h_flash_new();
    v1 = h_image(1, 1, DUET_CHIP_HOST, H_KEY_TEST);
    h_provision(0, &v1);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    h_image_free(&v1);
    duet_host_flash_close();
    unlink(h_flash_path());
    return 0;
}

static void start_running(duet_sup_config_t *cfg)
{
    assert_int_equal(duet_sup_init(&sup, cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    assert_int_equal(state(), DUET_SUP_LOADING);
    h_boot(&sup);
}

static void test_sup_boot_reaches_running_with_image_loaded(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(state(), DUET_SUP_OFFLINE);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    assert_int_equal(state(), DUET_SUP_LOADING);
    assert_int_equal(fake_c1.starts, 1);
    assert_true(h_loaded(&v1)); /* code copied, BSS zeroed */
    const uint8_t *data = fake_mem(FAKE_DATA_BASE, 4);
    assert_int_equal(data[0], 0x81);
    /* Not RUNNING before core 1 acks the epoch. */
    h_step(&sup, 10);
    assert_int_equal(state(), DUET_SUP_LOADING);
    h_boot(&sup);
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_int_equal(s.active_slot, 0);
    assert_int_not_equal(s.epoch, 0);
    assert_int_equal(fake_ctrl()->sc_epoch, s.epoch);
    /* Factory image adopted as CONFIRMED in a fresh journal, and stored. */
    assert_int_equal(s.slots.sr_status[0], DUET_SLOT_CONFIRMED);
    assert_true(s.slot_valid[0]);
    assert_false(s.slot_valid[1]);
    assert_string_equal(s.slot_name[0], "prog-v1");
    duet_slot_rec_t rec;
    bool fresh;
    assert_int_equal(duet_slot_load(&rec, &fresh), DUET_OK);
    assert_false(fresh);
    assert_int_equal(rec.sr_status[0], DUET_SLOT_CONFIRMED);
    assert_int_equal(rec.sr_min_security, 1);
    /* Heartbeats keep it running well past the deadline. */
    h_run(&sup, 3000, 100);
    assert_int_equal(state(), DUET_SUP_RUNNING);
    duet_sup_get_status(&sup, &s);
    assert_int_equal(s.heartbeat, 30);
    assert_int_not_equal(s.first_heartbeat_us, 0);
    assert_true(h_count(DUET_EV_STATE) >= 2);
}

static void test_sup_new_epoch_every_start_and_across_core0_restart(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    uint32_t e1 = sup.epoch;
    assert_int_equal(duet_sup_restart(&sup), DUET_OK);
    assert_int_equal(sup.epoch, e1 + 1);
    h_boot(&sup);
    /* Core 0 restarts; shared memory survived: the epoch continues. */
    fake_reset(true);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    assert_int_equal(sup.epoch, e1 + 2);
    h_boot(&sup);
}

static void test_sup_start_without_image_fails_cleanly(void **st)
{
    (void)st;
    assert_int_equal(duet_port_flash_erase(DUET_AREA_SLOT_A, 0, H_SLOT_SIZE), DUET_OK);
    duet_sup_config_t cfg;
    h_config(&cfg);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_ERR_NO_IMAGE);
    assert_int_equal(state(), DUET_SUP_OFFLINE);
    assert_int_equal(fake_c1.starts, 0);
}

static void test_sup_unsigned_factory_image_refused_when_signature_required(void **st)
{
    (void)st;
    h_img_t u = h_image(3, 1, DUET_CHIP_HOST, H_KEY_NONE);
    h_provision(0, &u);
    h_image_free(&u);
    duet_sup_config_t cfg;
    h_config(&cfg);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_ERR_NO_IMAGE);
    assert_int_equal(fake_c1.starts, 0);
}

static void test_sup_crash_recovers_with_doubling_backoff(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    cfg.crash_loop_limit = 10;
    start_running(&cfg);
    uint32_t expect_ms = 100;
    for (unsigned round = 1; round <= 4; round++) {
        h_run(&sup, 200, 50);
        uint32_t epoch = sup.epoch;
        fake_c1_crash(DUET_CRASH_LOAD_STORE, 0);
        h_step(&sup, 1);
        assert_int_equal(state(), DUET_SUP_RECOVERING);
        assert_int_equal(h_count(DUET_EV_CRASH), round);
        duet_sup_status_t s;
        duet_sup_get_status(&sup, &s);
        assert_true(s.has_crash);
        assert_int_equal(s.last_crash.cr_reason, DUET_CRASH_LOAD_STORE);
        assert_int_equal(s.last_crash.cr_epoch, epoch);
        assert_int_equal(s.last_crash.cr_bt_count, DUET_CRASH_BT); /* clamped */
        assert_int_equal(s.last_crash.cr_msg[DUET_CRASH_MSG_LEN - 1], 0);
        assert_int_equal(s.crashes, round);
        /* Passed through CRASHED on the way. */
        bool saw_crashed = false;
        for (unsigned i = 0; i < h_events.n; i++)
            saw_crashed |= h_events.ev[i].type == DUET_EV_STATE &&
                           h_events.ev[i].to == DUET_SUP_CRASHED;
        assert_true(saw_crashed);
        h_step(&sup, expect_ms - 1); /* backoff counts from the poll that saw it */
        assert_int_equal(state(), DUET_SUP_RECOVERING);
        assert_int_equal(fake_c1.starts, round);
        h_step(&sup, 1);
        assert_int_equal(state(), DUET_SUP_LOADING);
        assert_int_equal(fake_c1.starts, round + 1);
        assert_int_equal(sup.epoch, epoch + 1);
        h_boot(&sup);
        duet_sup_get_status(&sup, &s);
        assert_int_equal(s.restarts, round);
        expect_ms *= 2;
    }
}

static void test_sup_backoff_is_capped(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    cfg.crash_loop_limit = 16;
    cfg.backoff_max_ms = 300;
    start_running(&cfg);
    for (unsigned round = 1; round <= 5; round++) {
        fake_c1_crash(DUET_CRASH_PANIC, 0);
        h_step(&sup, 1);
        assert_int_equal(state(), DUET_SUP_RECOVERING);
        uint32_t expect = round == 1 ? 100 : round == 2 ? 200 : 300;
        assert_int_equal(sup.recover_at_us - fake_now_us(), (uint64_t)expect * 1000u);
        h_step(&sup, expect);
        h_boot(&sup);
    }
}

static void test_sup_crash_loop_limit_gives_up(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    for (unsigned i = 0; i < 2; i++) {
        fake_c1_crash(DUET_CRASH_ILLEGAL_INSN, 0);
        h_step(&sup, 1);
        assert_int_equal(state(), DUET_SUP_RECOVERING);
        h_step(&sup, 1000);
        h_boot(&sup);
    }
    fake_c1_crash(DUET_CRASH_ILLEGAL_INSN, 0);
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_CRASHED);
    assert_int_equal(h_count(DUET_EV_GAVE_UP), 1);
    assert_int_equal(h_count(DUET_EV_ROLLBACK), 0);
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_int_equal(s.last_err, DUET_ERR_CRASH_LOOP);
    unsigned starts = fake_c1.starts;
    h_step(&sup, 60000);
    assert_int_equal(state(), DUET_SUP_CRASHED);
    assert_int_equal(fake_c1.starts, starts);
    /* The CONFIRMED only image is not marked BAD: an operator start works. */
    assert_int_equal(s.slots.sr_status[0], DUET_SLOT_CONFIRMED);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    h_boot(&sup);
}

static void test_sup_crashes_outside_window_are_not_a_loop(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    cfg.crash_loop_window_ms = 1000;
    start_running(&cfg);
    for (unsigned i = 0; i < 6; i++) {
        h_run(&sup, 1500, 100);
        fake_c1_crash(DUET_CRASH_DIV_ZERO, 0);
        h_step(&sup, 1);
        assert_int_equal(state(), DUET_SUP_RECOVERING);
        assert_int_equal(sup.recover_at_us - fake_now_us(), 100000u); /* no doubling either */
        h_step(&sup, 100);
        h_boot(&sup);
    }
    assert_int_equal(h_count(DUET_EV_GAVE_UP), 0);
}

static void test_sup_recovery_off_stays_crashed(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    cfg.recovery = DUET_RECOVERY_OFF;
    start_running(&cfg);
    fake_c1_crash(DUET_CRASH_STACK_OVERFLOW, 0);
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_CRASHED);
    h_step(&sup, 60000);
    assert_int_equal(state(), DUET_SUP_CRASHED);
    assert_int_equal(fake_c1.starts, 1);
    assert_int_equal(h_count(DUET_EV_CRASH), 1);
}

static void test_sup_recovery_once_restarts_once(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    cfg.recovery = DUET_RECOVERY_ONCE;
    start_running(&cfg);
    fake_c1_crash(DUET_CRASH_PANIC, 0);
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_RECOVERING);
    h_step(&sup, 100);
    h_boot(&sup);
    assert_int_equal(fake_c1.starts, 2);
    fake_c1_crash(DUET_CRASH_PANIC, 0);
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_CRASHED);
    h_step(&sup, 60000);
    assert_int_equal(state(), DUET_SUP_CRASHED);
    assert_int_equal(fake_c1.starts, 2);
}

static void test_sup_missed_heartbeat_is_hang(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    h_run(&sup, 1000, 100);
    unsigned stops = fake_c1.stops;
    h_step(&sup, 500); /* exactly the timeout: not yet */
    assert_int_equal(state(), DUET_SUP_RUNNING);
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_RECOVERING);
    assert_int_equal(h_count(DUET_EV_HANG), 1);
    assert_true(fake_c1.stops > stops); /* a hung core is stopped */
    const duet_crash_t *cr = &fake_ctrl()->sc_crash;
    assert_int_equal(cr->cr_magic, DUET_CRASH_MAGIC);
    assert_int_equal(cr->cr_reason, DUET_CRASH_HANG);
    assert_int_equal(cr->cr_epoch, sup.epoch);
    bool saw_hung = false;
    for (unsigned i = 0; i < h_events.n; i++)
        saw_hung |= h_events.ev[i].type == DUET_EV_STATE && h_events.ev[i].to == DUET_SUP_HUNG;
    assert_true(saw_hung);
    h_step(&sup, 100);
    h_boot(&sup);
    h_run(&sup, 2000, 100);
    assert_int_equal(state(), DUET_SUP_RUNNING);
}

static void test_sup_boot_timeout_and_stale_ack_are_hangs(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    cfg.recovery = DUET_RECOVERY_OFF;
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    /* Core 1 acks an older epoch: not a boot of this run. */
    fake_c1_boot_epoch(sup.epoch - 1);
    h_step(&sup, 999);
    assert_int_equal(state(), DUET_SUP_LOADING);
    h_step(&sup, 2);
    assert_int_equal(state(), DUET_SUP_HUNG);
    assert_int_equal(fake_ctrl()->sc_crash.cr_reason, DUET_CRASH_HANG);
}

static void test_sup_stale_crash_record_is_ignored(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    uint32_t old = sup.epoch;
    fake_c1_crash(DUET_CRASH_PANIC, 0);
    h_step(&sup, 1);
    h_step(&sup, 100);
    h_boot(&sup);
    /* The record of the old epoch is still in shared memory (kept on purpose). */
    assert_int_equal(fake_ctrl()->sc_crash.cr_magic, DUET_CRASH_MAGIC);
    assert_int_equal(fake_ctrl()->sc_crash.cr_epoch, old);
    h_run(&sup, 2000, 100);
    assert_int_equal(state(), DUET_SUP_RUNNING);
    /* A late record claiming an older epoch appears: still ignored. */
    fake_c1_crash(DUET_CRASH_PANIC, old);
    h_run(&sup, 2000, 100);
    assert_int_equal(state(), DUET_SUP_RUNNING);
    assert_int_equal(h_count(DUET_EV_CRASH), 1);
}

static void test_sup_dead_core1_without_record_is_crash(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    cfg.recovery = DUET_RECOVERY_OFF;
    start_running(&cfg);
    fake_c1_die();
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_CRASHED);
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_int_equal(s.last_crash.cr_reason, DUET_CRASH_KILLED);
    assert_int_equal(s.last_crash.cr_epoch, sup.epoch);
}

static void test_sup_crashed_state_without_record_is_crash(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    cfg.recovery = DUET_RECOVERY_OFF;
    start_running(&cfg);
    fake_ctrl()->sc_c1_state = DUET_C1_CRASHED;
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_CRASHED);
    assert_int_equal(fake_ctrl()->sc_crash.cr_epoch, sup.epoch);
}

static void test_sup_program_exit_stops(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    fake_c1_exit();
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_STOPPED);
    h_step(&sup, 10000);
    assert_int_equal(state(), DUET_SUP_STOPPED);
    assert_int_equal(h_count(DUET_EV_CRASH), 0);
}

static void test_sup_stop_and_start_again(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    assert_int_equal(duet_sup_start(&sup), DUET_ERR_STATE);
    assert_int_equal(duet_sup_stop(&sup), DUET_OK);
    assert_int_equal(state(), DUET_SUP_STOPPED);
    assert_false(fake_c1.running);
    h_step(&sup, 10000); /* no heartbeat deadline while stopped */
    assert_int_equal(state(), DUET_SUP_STOPPED);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    h_boot(&sup);
}

static void test_sup_drains_core1_log(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    assert_int_equal(fake_c1_log(DUET_LOG_WARN, "hello from core 1\n"), DUET_OK);
    assert_int_equal(fake_c1_log(DUET_LOG_INFO, "second"), DUET_OK);
    h_step(&sup, 1);
    assert_int_equal(h_count(DUET_EV_LOG), 2);
    assert_string_equal(h_events.last_log, "second");
    assert_int_equal(fake_c1.log_core1, 2);
    assert_string_equal(fake_c1.last_core1, "second");
    unsigned first = 0;
    for (unsigned i = 0; i < h_events.n; i++)
        if (h_events.ev[i].type == DUET_EV_LOG) {
            first = i;
            break;
        }
    assert_int_equal(h_events.ev[first].level, DUET_LOG_WARN);
    /* Logged right before a crash: still delivered. */
    assert_int_equal(fake_c1_log(DUET_LOG_ERROR, "last words"), DUET_OK);
    fake_c1_crash(DUET_CRASH_PANIC, 0);
    h_step(&sup, 1);
    assert_int_equal(h_count(DUET_EV_LOG), 3);
    assert_string_equal(h_events.last_log, "last words");
}

static void test_sup_start_linked_program(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    duet_img_info_t info;
    memset(&info, 0, sizeof(info));
    info.hdr.ih_entry = 0x1234;
    strcpy(info.name, "linked");
    assert_int_equal(duet_sup_start_linked(&sup, &info), DUET_OK);
    assert_int_equal(fake_c1.last_info.hdr.ih_entry, 0x1234);
    h_boot(&sup);
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_int_equal(s.active_slot, DUET_SUP_LINKED_SLOT);
    fake_c1_crash(DUET_CRASH_PANIC, 0);
    h_step(&sup, 1);
    h_step(&sup, 100);
    assert_int_equal(state(), DUET_SUP_LOADING);
    assert_int_equal(fake_c1.last_info.hdr.ih_entry, 0x1234);
    assert_int_equal(fake_c1.starts, 2);
}

static void test_loader_refuses_flash_changed_after_verification(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    duet_img_policy_t pol;
    assert_int_equal(duet_sup_policy(&sup, &pol), DUET_OK);
    duet_img_info_t info;
    assert_int_equal(loader_verify_slot(0, &pol, &info), DUET_OK);
    assert_int_equal(loader_copy_slot(0, &info), DUET_OK);
    assert_true(h_loaded(&v1));
    /* Between verification and copy, one payload bit changes. */
    uint8_t z = 0x00;
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, info.payload_offset + 7, &z, 1), DUET_OK);
    assert_int_equal(loader_copy_slot(0, &info), DUET_ERR_IMG_BAD_HASH);
    /* The copy pass re-checks the layout it relies on: a segment whose file range
     * leaves the image (a corrupted info) is refused before any write. */
    duet_img_info_t bad = info;
    bad.segs[0].is_size = info.total_size;
    unsigned writes = fake_c1.writes;
    assert_int_equal(loader_copy_slot(0, &bad), DUET_ERR_IMG_SEG_FILE_RANGE);
    assert_int_equal(fake_c1.writes, writes);
    /* And through the supervisor: the slot no longer verifies, nothing starts. */
    assert_int_equal(duet_sup_start(&sup), DUET_ERR_NO_IMAGE);
    assert_int_equal(fake_c1.starts, 0);
}

/* ---- review additions: wrap, hostile shared memory, failing port calls -------------- */

static void test_sup_epoch_skips_zero_when_it_wraps(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    /* The shared area survives a core-0 restart holding the last possible epoch. */
    fake_ctrl()->sc_epoch = UINT32_MAX;
    fake_reset(true);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    assert_int_equal(sup.epoch, 1); /* 0 means "no epoch" to core 1 and the rings */
    assert_int_equal(fake_ctrl()->sc_epoch, 1);
    h_boot(&sup);
    h_run(&sup, 1000, 100);
    assert_int_equal(state(), DUET_SUP_RUNNING);
}

static void test_sup_heartbeat_counter_wrap_is_not_a_hang(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    fake_ctrl()->sc_heartbeat = UINT32_MAX - 7u; /* a long-running program */
    h_step(&sup, 100);
    h_run(&sup, 2000, 100); /* 20 beats: the counter wraps through 0 */
    assert_true(fake_ctrl()->sc_heartbeat < 100u);
    assert_int_equal(state(), DUET_SUP_RUNNING);
    assert_int_equal(h_count(DUET_EV_HANG), 0);
}

static void test_sup_clock_wrap_keeps_deadlines_and_backoff(void **st)
{
    (void)st;
    /* The port's clock starts at an arbitrary value: here 50 ms before it wraps. */
    fake_clock_set_us(UINT64_MAX - 50000u);
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    h_run(&sup, 300, 50); /* across the wrap: heartbeats keep it alive */
    assert_int_equal(state(), DUET_SUP_RUNNING);
    fake_clock_set_us(UINT64_MAX - 20000u);
    fake_c1_heartbeat(1);
    h_step(&sup, 1);
    fake_c1_crash(DUET_CRASH_PANIC, 0);
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_RECOVERING);
    h_step(&sup, 10); /* before the wrap: the deadline (after it) has not come */
    assert_int_equal(state(), DUET_SUP_RECOVERING);
    h_step(&sup, 89); /* after the wrap, 1 ms before the 100 ms backoff ends */
    assert_int_equal(state(), DUET_SUP_RECOVERING);
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_LOADING);
    h_boot(&sup);
    h_step(&sup, 500); /* heartbeat deadline measured across the wrap too */
    assert_int_equal(state(), DUET_SUP_RUNNING);
    h_step(&sup, 1);
    assert_int_equal(h_count(DUET_EV_HANG), 1);
}

static void test_sup_future_dated_crash_record_does_not_fail_the_next_run(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    /* Core 1 scribbles a valid-looking record for the NEXT epoch over shared memory. */
    fake_c1_crash(DUET_CRASH_PANIC, sup.epoch + 1u);
    h_run(&sup, 500, 100);
    assert_int_equal(state(), DUET_SUP_RUNNING); /* not this run's record */
    assert_int_equal(duet_sup_restart(&sup), DUET_OK);
    h_boot(&sup); /* the new run (that epoch) must not be failed by it */
    h_run(&sup, 1000, 100);
    assert_int_equal(state(), DUET_SUP_RUNNING);
    assert_int_equal(h_count(DUET_EV_CRASH), 0);
}

static void test_sup_port_failure_midway_through_start_never_claims_running(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    duet_sup_status_t s;
    /* 1. The release of core 1 fails. */
    fake_c1.fail_start = DUET_ERR_IO;
    assert_int_equal(duet_sup_start(&sup), DUET_ERR_IO);
    duet_sup_get_status(&sup, &s);
    assert_int_equal(s.state, DUET_SUP_OFFLINE);
    assert_int_equal(s.last_err, DUET_ERR_IO);
    assert_false(fake_c1.running);
    h_step(&sup, 5000); /* no boot deadline, no hang for a run that never started */
    assert_int_equal(state(), DUET_SUP_OFFLINE);
    assert_int_equal(h_count(DUET_EV_HANG), 0);
    /* 2. Copying into core-1 memory fails halfway. */
    fake_c1.fail_start = DUET_OK;
    fake_c1.fail_write_at = fake_c1.writes + 2u;
    assert_int_equal(duet_sup_start(&sup), DUET_ERR_IO);
    assert_int_equal(state(), DUET_SUP_OFFLINE);
    assert_int_equal(fake_c1.starts, 0);
    /* 3. Both fixed: a start works, with a fresh epoch. */
    fake_c1.fail_write_at = 0;
    uint32_t epoch = sup.epoch;
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    assert_int_not_equal(sup.epoch, epoch);
    h_boot(&sup);
    /* 4. The automatic restart after a crash fails: down, not LOADING or RUNNING. */
    fake_c1_crash(DUET_CRASH_PANIC, 0);
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_RECOVERING);
    fake_c1.fail_start = DUET_ERR_IO;
    h_step(&sup, 100);
    duet_sup_get_status(&sup, &s);
    assert_int_equal(s.state, DUET_SUP_OFFLINE);
    assert_int_equal(s.last_err, DUET_ERR_IO);
    assert_false(fake_c1.running);
}

static void test_sup_core1_gone_without_any_record(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    cfg.recovery = DUET_RECOVERY_OFF;
    start_running(&cfg);
    fake_c1.vanish = true; /* the port sees it gone but writes nothing */
    h_step(&sup, 1);
    assert_int_equal(state(), DUET_SUP_CRASHED);
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_true(s.has_crash);
    assert_int_equal(s.last_crash.cr_reason, DUET_CRASH_KILLED);
    assert_int_equal(s.last_crash.cr_epoch, sup.epoch);
    assert_int_equal(fake_ctrl()->sc_crash.cr_magic, DUET_CRASH_MAGIC);
}

/* Log records are core-1 input: longer than a line, shorter than a header, odd levels. */
static void test_sup_hostile_log_records(void **st)
{
    (void)st;
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    void *ring;
    size_t fp;
    duet_ring_t r;
    assert_int_equal(duet_shm_log_ring(fake_ctrl(), FAKE_SHM_SIZE, &ring, &fp), DUET_OK);
    assert_int_equal(duet_ring_attach_producer(&r, ring, fp, fake_ctrl()->sc_epoch), DUET_OK);
    uint8_t msg[8 + 400];
    duet_log_rec_t rec = {0, 77, {0, 0, 0}}; /* unknown level */
    memcpy(msg, &rec, sizeof(rec));
    memset(msg + sizeof(rec), 'a', sizeof(msg) - sizeof(rec));
    assert_int_equal(duet_ring_send(&r, msg, 3), DUET_OK); /* not even a header */
    assert_int_equal(duet_ring_send(&r, msg, sizeof(msg)), DUET_OK);
    h_step(&sup, 1);
    assert_int_equal(h_count(DUET_EV_LOG), 1);
    const duet_sup_event_t *ev = NULL;
    for (unsigned i = 0; i < h_events.n; i++)
        if (h_events.ev[i].type == DUET_EV_LOG)
            ev = &h_events.ev[i];
    assert_non_null(ev);
    assert_int_equal(ev->level, DUET_LOG_INFO);
    assert_int_equal(ev->text_len, 255);
    assert_int_equal(strlen(h_events.last_log), 255);
    assert_int_equal(state(), DUET_SUP_RUNNING);
}

static void test_sup_adoption_keeps_lower_counter_out(void **st)
{
    (void)st;
    /* Factory state: A has counter 5, B an older image with counter 3. */
    h_img_t a5 = h_image(5, 5, DUET_CHIP_HOST, H_KEY_TEST);
    h_img_t b3 = h_image(3, 3, DUET_CHIP_HOST, H_KEY_TEST);
    h_provision(0, &a5);
    h_provision(1, &b3);
    duet_sup_config_t cfg;
    h_config(&cfg);
    start_running(&cfg);
    assert_true(h_loaded(&a5));
    duet_slot_rec_t rec;
    assert_int_equal(duet_slot_load(&rec, NULL), DUET_OK);
    assert_int_equal(rec.sr_min_security, 5);
    assert_int_equal(rec.sr_status[0], DUET_SLOT_CONFIRMED);
    assert_int_equal(rec.sr_status[1], DUET_SLOT_EMPTY); /* below the floor */
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_false(s.slot_valid[1]);
    assert_int_equal(duet_sup_rollback(&sup), DUET_ERR_NO_IMAGE);
    h_image_free(&a5);
    h_image_free(&b3);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sup_boot_reaches_running_with_image_loaded),
        T(test_sup_new_epoch_every_start_and_across_core0_restart),
        T(test_sup_start_without_image_fails_cleanly),
        T(test_sup_unsigned_factory_image_refused_when_signature_required),
        T(test_sup_crash_recovers_with_doubling_backoff),
        T(test_sup_backoff_is_capped),
        T(test_sup_crash_loop_limit_gives_up),
        T(test_sup_crashes_outside_window_are_not_a_loop),
        T(test_sup_recovery_off_stays_crashed),
        T(test_sup_recovery_once_restarts_once),
        T(test_sup_missed_heartbeat_is_hang),
        T(test_sup_boot_timeout_and_stale_ack_are_hangs),
        T(test_sup_stale_crash_record_is_ignored),
        T(test_sup_dead_core1_without_record_is_crash),
        T(test_sup_crashed_state_without_record_is_crash),
        T(test_sup_program_exit_stops),
        T(test_sup_stop_and_start_again),
        T(test_sup_drains_core1_log),
        T(test_sup_start_linked_program),
        T(test_loader_refuses_flash_changed_after_verification),
        T(test_sup_epoch_skips_zero_when_it_wraps),
        T(test_sup_heartbeat_counter_wrap_is_not_a_hang),
        T(test_sup_clock_wrap_keeps_deadlines_and_backoff),
        T(test_sup_future_dated_crash_record_does_not_fail_the_next_run),
        T(test_sup_port_failure_midway_through_start_never_claims_running),
        T(test_sup_core1_gone_without_any_record),
        T(test_sup_hostile_log_records),
        T(test_sup_adoption_keeps_lower_counter_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
