/*
 * test_ota.c - the OTA session: a good upload installs and activates; forged,
 * truncated, downgraded, wrong-chip, unsigned, corrupted and oversized uploads are
 * refused with the old program still running and the slot journal unchanged; one
 * session at a time; no overwriting the rollback target of an image on trial.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static duet_sup_t sup;
static duet_ota_t ota;
static duet_sup_config_t cfg;
static h_img_t v1;

static duet_slot_rec_t journal(void)
{
    duet_slot_rec_t r;
    assert_int_equal(duet_slot_load(&r, NULL), DUET_OK);
    return r;
}

static int setup(void **st)
{
    (void)st;
    fake_reset(false);
    h_events_clear();
    h_flash_new();
    memset(&ota, 0, sizeof(ota));
    v1 = h_image(1, 5, DUET_CHIP_HOST, H_KEY_TEST);
    h_provision(0, &v1);
    h_config(&cfg);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    h_boot(&sup);
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

/* An upload was refused: nothing changed. */
static void assert_untouched(const duet_slot_rec_t *before, unsigned starts)
{
    duet_slot_rec_t after = journal();
    assert_memory_equal(before, &after, sizeof(after));
    assert_int_equal(fake_c1.starts, starts);
    assert_true(fake_c1.running);
    assert_true(h_loaded(&v1));
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_int_equal(s.state, DUET_SUP_RUNNING);
    assert_int_equal(s.active_slot, 0);
    assert_false(s.slot_valid[1]);
    assert_int_equal(h_count(DUET_EV_UPDATED), 0);
    /* Keeps running: heartbeats are still watched. */
    h_run(&sup, 1000, 100);
    duet_sup_get_status(&sup, &s);
    assert_int_equal(s.state, DUET_SUP_RUNNING);
    /* And the session is over: a new one may begin. */
    assert_int_equal(duet_ota_begin(&ota, &sup, 0), DUET_OK);
    duet_ota_abort(&ota);
}

static void refused(h_img_t img, duet_err_t want)
{
    duet_slot_rec_t before = journal();
    unsigned starts = fake_c1.starts;
    assert_int_equal(h_ota(&sup, &ota, img.buf, img.len, 256, true), want);
    assert_untouched(&before, starts);
}

static void test_ota_good_upload_installs_and_activates(void **st)
{
    (void)st;
    h_img_t v2 = h_image(2, 5, DUET_CHIP_HOST, H_KEY_TEST);
    assert_int_equal(duet_ota_begin(&ota, &sup, (uint32_t)v2.len), DUET_OK);
    assert_int_equal(duet_ota_write(&ota, v2.buf, 100), DUET_OK);
    assert_int_equal(duet_ota_received(&ota), 100);
    assert_int_equal(duet_ota_write(&ota, v2.buf + 100, v2.len - 100), DUET_OK);
    assert_true(h_loaded(&v1)); /* nothing changes before finish */
    duet_img_info_t info;
    assert_int_equal(duet_ota_finish(&ota, true, &info), DUET_OK);
    assert_int_equal(info.hdr.ih_ver_major, 2);
    assert_string_equal(info.name, "prog-v2");
    assert_true(h_loaded(&v2));
    assert_int_equal(journal().sr_active, 1);
    h_boot(&sup);
    h_image_free(&v2);
}

static void test_ota_install_without_activate_keeps_running(void **st)
{
    (void)st;
    h_img_t v2 = h_image(2, 5, DUET_CHIP_HOST, H_KEY_TEST);
    unsigned starts = fake_c1.starts;
    assert_int_equal(h_ota(&sup, &ota, v2.buf, v2.len, 1000, false), DUET_OK);
    assert_int_equal(fake_c1.starts, starts);
    assert_true(h_loaded(&v1));
    assert_int_equal(journal().sr_status[1], DUET_SLOT_PENDING);
    assert_int_equal(duet_sup_restart(&sup), DUET_OK);
    assert_true(h_loaded(&v2));
    h_image_free(&v2);
}

static void test_ota_forged_upload_refused(void **st)
{
    (void)st;
    h_img_t f = h_image(9, 9, DUET_CHIP_HOST, H_KEY_FORGER);
    refused(f, DUET_ERR_IMG_UNKNOWN_KEY);
    h_image_free(&f);
}

static void test_ota_unsigned_upload_refused(void **st)
{
    (void)st;
    h_img_t u = h_image(9, 9, DUET_CHIP_HOST, H_KEY_NONE);
    refused(u, DUET_ERR_IMG_NO_SIG);
    h_image_free(&u);
}

static void test_ota_downgrade_refused(void **st)
{
    (void)st;
    h_img_t d = h_image(9, 4, DUET_CHIP_HOST, H_KEY_TEST); /* v1 has counter 5 */
    refused(d, DUET_ERR_IMG_DOWNGRADE);
    h_image_free(&d);
}

static void test_ota_wrong_chip_refused(void **st)
{
    (void)st;
    h_img_t w = h_image(9, 9, DUET_CHIP_ESP32S3, H_KEY_TEST);
    refused(w, DUET_ERR_IMG_WRONG_CHIP);
    h_image_free(&w);
}

static void test_ota_corrupted_payload_refused(void **st)
{
    (void)st;
    h_img_t c = h_image(9, 9, DUET_CHIP_HOST, H_KEY_TEST);
    c.buf[c.len / 2] ^= 0x01;
    refused(c, DUET_ERR_IMG_BAD_HASH);
    h_image_free(&c);
}

static void test_ota_truncated_upload_refused(void **st)
{
    (void)st;
    h_img_t t = h_image(9, 9, DUET_CHIP_HOST, H_KEY_TEST);
    duet_slot_rec_t before = journal();
    unsigned starts = fake_c1.starts;
    /* Announced size, fewer bytes: finish says truncated. */
    assert_int_equal(duet_ota_begin(&ota, &sup, (uint32_t)t.len), DUET_OK);
    assert_int_equal(duet_ota_write(&ota, t.buf, t.len - 10), DUET_OK);
    assert_int_equal(duet_ota_finish(&ota, true, NULL), DUET_ERR_IMG_TRUNCATED);
    assert_int_equal(duet_ota_finish(&ota, true, NULL), DUET_ERR_IMG_TRUNCATED); /* sticky */
    duet_ota_abort(&ota);
    assert_untouched(&before, starts);
    /* Unknown size, cut short inside the trailer: the verifier says truncated. */
    assert_int_equal(duet_ota_begin(&ota, &sup, 0), DUET_OK);
    assert_int_equal(duet_ota_write(&ota, t.buf, t.len - 10), DUET_OK);
    assert_int_equal(duet_ota_finish(&ota, true, NULL), DUET_ERR_IMG_TRUNCATED);
    duet_ota_abort(&ota);
    assert_untouched(&before, starts);
    h_image_free(&t);
}

static void test_ota_too_big_refused(void **st)
{
    (void)st;
    duet_slot_rec_t before = journal();
    unsigned starts = fake_c1.starts;
    assert_int_equal(duet_ota_begin(&ota, &sup, H_SLOT_SIZE + 1), DUET_ERR_IMG_TOO_BIG);
    /* Unknown size: the bytes stop at the slot end. Feed a valid header first so the
     * verifier accepts bytes, then more than the slot holds. */
    h_img_t big = h_image(9, 9, DUET_CHIP_HOST, H_KEY_TEST);
    assert_int_equal(duet_ota_begin(&ota, &sup, 0), DUET_OK);
    uint8_t *junk = calloc(1, H_SLOT_SIZE + 16);
    assert_non_null(junk);
    assert_int_equal(duet_ota_write(&ota, junk, H_SLOT_SIZE + 16), DUET_ERR_IMG_TOO_BIG);
    assert_int_equal(duet_ota_write(&ota, big.buf, 16), DUET_ERR_IMG_TOO_BIG); /* sticky */
    duet_ota_abort(&ota);
    /* More bytes than announced. */
    assert_int_equal(duet_ota_begin(&ota, &sup, (uint32_t)big.len), DUET_OK);
    assert_int_equal(duet_ota_write(&ota, big.buf, big.len), DUET_OK);
    assert_int_equal(duet_ota_write(&ota, junk, 4), DUET_ERR_IMG_TOO_BIG);
    duet_ota_abort(&ota);
    free(junk);
    h_image_free(&big);
    assert_untouched(&before, starts);
}

static void test_ota_one_session_at_a_time(void **st)
{
    (void)st;
    duet_ota_t other;
    memset(&other, 0, sizeof(other));
    assert_int_equal(duet_ota_begin(&ota, &sup, 0), DUET_OK);
    assert_int_equal(duet_ota_begin(&other, &sup, 0), DUET_ERR_BUSY);
    assert_int_equal(duet_ota_begin(&ota, &sup, 0), DUET_ERR_BUSY);
    assert_int_equal(duet_sup_rollback(&sup), DUET_ERR_BUSY);
    duet_ota_abort(&ota);
    assert_int_equal(duet_ota_begin(&other, &sup, 0), DUET_OK);
    duet_ota_abort(&other);
    /* Calls without a session. */
    assert_int_equal(duet_ota_write(&ota, "x", 1), DUET_ERR_OTA_STATE);
    assert_int_equal(duet_ota_finish(&ota, true, NULL), DUET_ERR_OTA_STATE);
}

static void test_ota_refuses_to_overwrite_rollback_target_during_trial(void **st)
{
    (void)st;
    h_img_t v2 = h_image(2, 5, DUET_CHIP_HOST, H_KEY_TEST);
    assert_int_equal(h_ota(&sup, &ota, v2.buf, v2.len, 700, true), DUET_OK);
    h_boot(&sup);
    /* v2 runs PENDING; A holds the CONFIRMED v1 it would revert to. */
    assert_int_equal(duet_sup_inactive_slot(&sup), 0);
    assert_int_equal(duet_ota_begin(&ota, &sup, 0), DUET_ERR_STATE);
    h_run(&sup, 1000, 100); /* confirmed */
    assert_int_equal(duet_ota_begin(&ota, &sup, 0), DUET_OK);
    duet_ota_abort(&ota);
    h_image_free(&v2);
}

static void test_ota_header_refusal_keeps_rollback_target(void **st)
{
    (void)st;
    h_img_t v2 = h_image(2, 5, DUET_CHIP_HOST, H_KEY_TEST);
    assert_int_equal(h_ota(&sup, &ota, v2.buf, v2.len, 700, true), DUET_OK);
    h_boot(&sup);
    h_run(&sup, 1000, 100); /* v2 confirmed; A (v1, same counter) is its rollback target */
    assert_int_equal(duet_sup_inactive_slot(&sup), 0);
    duet_slot_rec_t before = journal();
    h_img_t w = h_image(9, 9, DUET_CHIP_ESP32S3, H_KEY_TEST);
    assert_int_equal(h_ota(&sup, &ota, w.buf, w.len, 256, true), DUET_ERR_IMG_WRONG_CHIP);
    duet_slot_rec_t after = journal();
    assert_memory_equal(&before, &after, sizeof(after));
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_true(s.slot_valid[0]); /* nothing was erased */
    assert_true(h_loaded(&v2));
    assert_int_equal(duet_sup_rollback(&sup), DUET_OK);
    assert_true(h_loaded(&v1));
    h_image_free(&w);
    h_image_free(&v2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_ota_good_upload_installs_and_activates),
        T(test_ota_install_without_activate_keeps_running),
        T(test_ota_forged_upload_refused),
        T(test_ota_unsigned_upload_refused),
        T(test_ota_downgrade_refused),
        T(test_ota_wrong_chip_refused),
        T(test_ota_corrupted_payload_refused),
        T(test_ota_truncated_upload_refused),
        T(test_ota_too_big_refused),
        T(test_ota_one_session_at_a_time),
        T(test_ota_refuses_to_overwrite_rollback_target_during_trial),
        T(test_ota_header_refusal_keeps_rollback_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
