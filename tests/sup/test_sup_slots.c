/*
 * test_sup_slots.c - A/B behaviour of the supervisor: a new image runs PENDING, is
 * confirmed after N heartbeats (journal stored, security floor raised), a crash loop on
 * a PENDING slot reverts to the CONFIRMED one without restarting core 0, a PENDING
 * slot's trial budget survives core-0 reboots, explicit rollback (and its downgrade
 * refusal), and fall-back when the active slot no longer verifies. Also: no revert to
 * a CONFIRMED slot whose flash rotted, install's own checks, and a slot owned by an
 * OTA session is never booted.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static duet_sup_t sup;
static duet_ota_t ota;
static duet_sup_config_t cfg;
static h_img_t v1, v2;

static duet_sup_state_t state(void)
{
    duet_sup_status_t st;
    duet_sup_get_status(&sup, &st);
    return st.state;
}

static int setup(void **st)
{
    (void)st;
    memset(&ota, 0, sizeof(ota));
    v1 = h_image(1, 1, DUET_CHIP_HOST, H_KEY_TEST);
    v2 = h_image(2, 2, DUET_CHIP_HOST, H_KEY_TEST);
    h_start_provisioned(&sup, &cfg, &v1);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    h_image_free(&v1);
    h_image_free(&v2);
    h_done();
    return 0;
}

/* Install v2 into B and activate it; core 1 acks. */
static void install_v2(void)
{
    assert_int_equal(duet_sup_inactive_slot(&sup), 1);
    assert_int_equal(h_ota(&sup, &ota, v2.buf, v2.len, 300, true), DUET_OK);
    assert_true(h_loaded(&v2));
    assert_int_equal(h_count(DUET_EV_UPDATED), 1);
    duet_slot_rec_t r = h_journal();
    assert_int_equal(r.sr_active, 1);
    assert_int_equal(r.sr_status[1], DUET_SLOT_PENDING);
    assert_int_equal(r.sr_status[0], DUET_SLOT_CONFIRMED);
    h_boot(&sup);
}

static void test_slots_pending_confirmed_after_n_heartbeats(void **st)
{
    (void)st;
    install_v2();
    for (int i = 0; i < 4; i++) {
        fake_c1_heartbeat(1);
        h_step(&sup, 10);
    }
    assert_int_equal(h_count(DUET_EV_CONFIRMED), 0);
    assert_int_equal(h_journal().sr_status[1], DUET_SLOT_PENDING);
    assert_int_equal(h_journal().sr_min_security, 1); /* not raised while on trial */
    fake_c1_heartbeat(1);
    h_step(&sup, 10);
    assert_int_equal(h_count(DUET_EV_CONFIRMED), 1);
    duet_slot_rec_t r = h_journal();
    assert_int_equal(r.sr_status[1], DUET_SLOT_CONFIRMED);
    assert_int_equal(r.sr_status[0], DUET_SLOT_CONFIRMED);
    assert_int_equal(r.sr_min_security, 2);
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_false(s.slot_valid[0]); /* v1 is below the new floor: no longer valid */
    h_run(&sup, 1000, 100);
    assert_int_equal(h_count(DUET_EV_CONFIRMED), 1); /* once */
    /* v1 (counter 1) is now below the floor: not a rollback target any more. */
    assert_int_equal(duet_sup_rollback(&sup), DUET_ERR_IMG_DOWNGRADE);
    assert_int_equal(state(), DUET_SUP_RUNNING);
    assert_true(h_loaded(&v2));
}


/* A trial program cannot confirm itself by writing a large heartbeat value once: the
 * supervisor wants N heartbeats seen on N separate polls. */
static void test_slots_heartbeat_jump_does_not_confirm(void **st)
{
    (void)st;
    install_v2();
    fake_c1_heartbeat(1000);
    for (int i = 0; i < 3; i++)
        h_step(&sup, 10); /* heartbeat unchanged on these polls */
    assert_int_equal(h_count(DUET_EV_CONFIRMED), 0);
    assert_int_equal(h_journal().sr_status[1], DUET_SLOT_PENDING);
    h_run(&sup, 50, 10); /* five more real heartbeats on five polls */
    assert_int_equal(h_count(DUET_EV_CONFIRMED), 1);
    assert_int_equal(h_journal().sr_status[1], DUET_SLOT_CONFIRMED);
}

static void test_slots_pending_crash_loop_reverts_without_core0_restart(void **st)
{
    (void)st;
    install_v2();
    for (unsigned i = 0; i < 3; i++) {
        if (i > 0) {
            h_step(&sup, 1000);
            h_boot(&sup);
            assert_true(h_loaded(&v2));
        }
        fake_c1_crash(DUET_CRASH_ILLEGAL_INSN, 0);
        h_step(&sup, 1);
    }
    assert_int_equal(h_count(DUET_EV_ROLLBACK), 1);
    assert_int_equal(h_count(DUET_EV_GAVE_UP), 0);
    for (unsigned i = 0; i < h_events.n; i++)
        if (h_events.ev[i].type == DUET_EV_ROLLBACK)
            assert_int_equal(h_events.ev[i].slot, 0);
    duet_slot_rec_t r = h_journal();
    assert_int_equal(r.sr_status[1], DUET_SLOT_BAD);
    assert_int_equal(r.sr_active, 0);
    assert_int_equal(state(), DUET_SUP_RECOVERING);
    h_step(&sup, 100);
    assert_true(h_loaded(&v1));
    h_boot(&sup);
    h_run(&sup, 2000, 100);
    assert_int_equal(state(), DUET_SUP_RUNNING);
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_int_equal(s.active_slot, 0);
    /* A reboot keeps running v1: the BAD slot is never selected again. */
    fake_reset(false);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    assert_true(h_loaded(&v1));
}

static void test_slots_pending_trial_budget_survives_reboots(void **st)
{
    (void)st;
    install_v2(); /* trial start 1 */
    for (unsigned boot = 2; boot <= 3; boot++) {
        /* Core 0 resets before v2 is confirmed (e.g. the update crashes the system). */
        fake_reset(false);
        assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
        assert_int_equal(duet_sup_start(&sup), DUET_OK);
        assert_true(h_loaded(&v2));
        assert_int_equal(h_journal().sr_boots[1], boot);
    }
    fake_reset(false);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    assert_true(h_loaded(&v1)); /* budget spent: reverted */
    duet_slot_rec_t r = h_journal();
    assert_int_equal(r.sr_status[1], DUET_SLOT_BAD);
    assert_int_equal(r.sr_active, 0);
}

static void test_slots_explicit_rollback_and_back(void **st)
{
    (void)st;
    h_img_t v3 = h_image(3, 1, DUET_CHIP_HOST, H_KEY_TEST); /* same counter as v1 */
    assert_int_equal(h_ota(&sup, &ota, v3.buf, v3.len, 512, true), DUET_OK);
    h_boot(&sup);
    /* Roll back while v3 is on trial: v3 becomes BAD. */
    assert_int_equal(duet_sup_rollback(&sup), DUET_OK);
    assert_true(h_loaded(&v1));
    assert_int_equal(h_count(DUET_EV_ROLLBACK), 1);
    duet_slot_rec_t r = h_journal();
    assert_int_equal(r.sr_active, 0);
    assert_int_equal(r.sr_status[1], DUET_SLOT_BAD);
    h_boot(&sup);
    /* Nothing selectable in B now. */
    assert_int_equal(duet_sup_rollback(&sup), DUET_ERR_NO_IMAGE);
    assert_int_equal(state(), DUET_SUP_RUNNING);
    /* Install v3 again, confirm it, then roll back: both stay CONFIRMED. */
    assert_int_equal(h_ota(&sup, &ota, v3.buf, v3.len, 512, true), DUET_OK);
    h_boot(&sup);
    h_run(&sup, 1000, 100);
    assert_int_equal(h_journal().sr_status[1], DUET_SLOT_CONFIRMED);
    assert_int_equal(duet_sup_rollback(&sup), DUET_OK);
    assert_true(h_loaded(&v1));
    r = h_journal();
    assert_int_equal(r.sr_status[1], DUET_SLOT_CONFIRMED);
    assert_int_equal(r.sr_active, 0);
    h_boot(&sup);
    assert_int_equal(duet_sup_rollback(&sup), DUET_OK);
    assert_true(h_loaded(&v3));
    h_image_free(&v3);
}

static void test_slots_corrupt_active_slot_falls_back(void **st)
{
    (void)st;
    install_v2();
    h_run(&sup, 1000, 100); /* confirmed; v1 is below the floor now... */
    /* ...so give A an image with the same counter, confirmed via OTA + heartbeats. */
    h_img_t v4 = h_image(4, 2, DUET_CHIP_HOST, H_KEY_TEST);
    assert_int_equal(h_ota(&sup, &ota, v4.buf, v4.len, 512, true), DUET_OK);
    h_boot(&sup);
    h_run(&sup, 1000, 100);
    assert_int_equal(h_journal().sr_active, 0);
    /* Flash rot in the active slot A: the next start falls back to B. */
    uint8_t z = 0;
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, 200, &z, 1), DUET_OK);
    fake_reset(false);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    assert_true(h_loaded(&v2));
    assert_int_equal(h_journal().sr_active, 1);
    h_image_free(&v4);
}

/* A crash loop of a PENDING image reverts only to a slot that verifies NOW: a
 * CONFIRMED journal entry over rotten flash is no target (give up instead). */
static void test_slots_crash_loop_does_not_revert_to_a_corrupt_slot(void **st)
{
    (void)st;
    install_v2();
    uint8_t z = 0;
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, 300, &z, 1), DUET_OK);
    for (unsigned i = 0; i < 3; i++) {
        if (i > 0) {
            h_step(&sup, 1000);
            h_boot(&sup);
        }
        fake_c1_crash(DUET_CRASH_ILLEGAL_INSN, 0);
        h_step(&sup, 1);
    }
    assert_int_equal(h_count(DUET_EV_ROLLBACK), 0);
    assert_int_equal(h_count(DUET_EV_GAVE_UP), 1);
    duet_slot_rec_t r = h_journal();
    assert_int_equal(r.sr_active, 1);
    assert_int_equal(r.sr_status[1], DUET_SLOT_PENDING);
    assert_int_equal(state(), DUET_SUP_CRASHED);
}

/* duet_sup_install is public: it re-checks what the OTA session already checked. */
static void test_slots_install_refuses_running_slot_and_downgrade(void **st)
{
    (void)st;
    install_v2();
    h_run(&sup, 1000, 100); /* v2 confirmed: floor 2 */
    duet_img_policy_t pol;
    duet_img_info_t info1, info2;
    assert_int_equal(duet_sup_policy(&sup, &pol), DUET_OK);
    pol.min_security_counter = 0;
    assert_int_equal(duet_img_verify_buf(v1.buf, v1.len, &pol, &info1), DUET_OK);
    assert_int_equal(duet_img_verify_buf(v2.buf, v2.len, &pol, &info2), DUET_OK);
    duet_slot_rec_t before = h_journal();
    unsigned starts = fake_c1.starts;
    assert_int_equal(duet_sup_install(&sup, 1, &info2, true), DUET_ERR_STATE); /* running */
    assert_int_equal(duet_sup_install(&sup, 0, &info1, true), DUET_ERR_IMG_DOWNGRADE);
    assert_int_equal(duet_sup_install(&sup, 2, &info2, true), DUET_ERR_INVAL);
    duet_slot_rec_t after = h_journal();
    assert_memory_equal(&before, &after, sizeof(after));
    assert_int_equal(fake_c1.starts, starts);
    assert_int_equal(state(), DUET_SUP_RUNNING);
}

/* While an OTA session owns the inactive slot, nothing may boot from it, even while
 * its old image is still intact (the session will overwrite it). */
static void test_slots_slot_under_update_is_never_booted(void **st)
{
    (void)st;
    install_v2();
    h_run(&sup, 1000, 100); /* B = v2 CONFIRMED, floor 2 */
    h_img_t v4 = h_image(4, 2, DUET_CHIP_HOST, H_KEY_TEST);
    assert_int_equal(h_ota(&sup, &ota, v4.buf, v4.len, 512, true), DUET_OK);
    h_boot(&sup);
    h_run(&sup, 1000, 100); /* A = v4 CONFIRMED and running; B = v2 still valid */
    assert_int_equal(duet_ota_begin(&ota, &sup, (uint32_t)v2.len), DUET_OK); /* owns B */
    uint8_t z = 0;
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, 300, &z, 1), DUET_OK); /* A rots */
    unsigned starts = fake_c1.starts;
    assert_int_equal(duet_sup_restart(&sup), DUET_ERR_NO_IMAGE);
    assert_int_equal(fake_c1.starts, starts);
    assert_false(h_loaded(&v2));
    assert_int_equal(h_journal().sr_active, 0);
    /* The session ends without touching B: B is a valid fall-back again. */
    duet_ota_abort(&ota);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    assert_true(h_loaded(&v2));
    assert_int_equal(h_journal().sr_active, 1);
    h_image_free(&v4);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_slots_pending_confirmed_after_n_heartbeats),
        T(test_slots_heartbeat_jump_does_not_confirm),
        T(test_slots_pending_crash_loop_reverts_without_core0_restart),
        T(test_slots_pending_trial_budget_survives_reboots),
        T(test_slots_explicit_rollback_and_back),
        T(test_slots_corrupt_active_slot_falls_back),
        T(test_slots_crash_loop_does_not_revert_to_a_corrupt_slot),
        T(test_slots_install_refuses_running_slot_and_downgrade),
        T(test_slots_slot_under_update_is_never_booted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
