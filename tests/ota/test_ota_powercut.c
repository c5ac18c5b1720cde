/*
 * test_ota_powercut.c - power cut during an update (MCUboot's run_perm_with_fails):
 *
 *   base   slot A = v1 (factory, adopted CONFIRMED), running
 *   update OTA of v2 (3 erase blocks) into B in 256-byte chunks, activate, core 1
 *          acks, N heartbeats confirm it: every flash write/erase of that sequence is
 *          counted in a reference run
 *   cut    for every op k: fail op k (nothing done), and again with op k torn in half;
 *          then at random byte offsets of everything programmed
 *   reboot reopen the flash (no faults), a NEW supervisor, start(): it must boot a
 *          verified program, v1 or v2, never garbage, and core 1 must be running it.
 * Also: while the update fails before install, the old program keeps running, and an
 * install that returned OK is durable (v2 after the reboot).
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
static h_img_t v1, v2;
static uint8_t sha_v1[32], sha_v2[32];
static uint8_t *snap;
static size_t snap_len;

static void file_io(bool save)
{
    FILE *f = fopen(h_flash_path(), save ? "rb" : "r+b");
    assert_non_null(f);
    if (save) {
        fseek(f, 0, SEEK_END);
        snap_len = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        snap = malloc(snap_len);
        assert_non_null(snap);
        assert_int_equal(fread(snap, 1, snap_len, f), snap_len);
    } else {
        assert_int_equal(fwrite(snap, 1, snap_len, f), snap_len);
    }
    fclose(f);
}

/* Back to the base state: flash as saved, core 1 running v1 under a new supervisor. */
static void restore_base(void)
{
    duet_host_flash_close();
    file_io(false);
    h_flash_reopen();
    fake_reset(false);
    h_events_clear();
    memset(&ota, 0, sizeof(ota));
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    h_boot(&sup);
    assert_true(h_loaded(&v1));
}

/* The update as a user would run it; errors are expected once the power is cut. */
static void run_update(void)
{
    if (h_ota(&sup, &ota, v2.buf, v2.len, 256, true) != DUET_OK)
        return;
    if (sup.state == DUET_SUP_LOADING) {
        fake_c1_boot();
        h_step(&sup, 1);
    }
    for (unsigned i = 0; i < cfg.confirm_heartbeats + 1; i++) {
        fake_c1_heartbeat(1);
        h_step(&sup, 50);
    }
}

static void reboot_and_check(const char *what, unsigned long long arg)
{
    bool installed = h_count(DUET_EV_UPDATED) > 0;
    if (!installed) {
        /* Failed before the journal write: the old program never stopped. */
        if (!(fake_c1.running && h_loaded(&v1) && fake_c1.starts == 1))
            fail_msg("%s %llu: old program disturbed by a failed update", what, arg);
    }
    h_flash_reopen();
    fake_reset(false);
    h_events_clear();
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    duet_err_t e = duet_sup_start(&sup);
    if (e != DUET_OK)
        fail_msg("%s %llu: start after reboot failed: %s", what, arg, duet_err_name(e));
    bool is1 = memcmp(fake_c1.last_info.sha256, sha_v1, 32) == 0 && h_loaded(&v1);
    bool is2 = memcmp(fake_c1.last_info.sha256, sha_v2, 32) == 0 && h_loaded(&v2);
    if (!is1 && !is2)
        fail_msg("%s %llu: booted neither v1 nor v2", what, arg);
    if (installed && !is2)
        fail_msg("%s %llu: a completed install was lost", what, arg);
    h_boot(&sup);
}

static int setup(void **st)
{
    (void)st;
    fake_reset(false);
    h_flash_new();
    v1 = h_image(1, 1, DUET_CHIP_HOST, H_KEY_TEST);
    v2 = h_image_ex(2, 2, DUET_CHIP_HOST, H_KEY_TEST, 9000);
    assert_true(v2.len > 2 * H_ERASE);
    h_provision(0, &v1);
    h_config(&cfg);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
    assert_int_equal(duet_sup_start(&sup), DUET_OK); /* adopts v1: journal written */
    h_boot(&sup);
    memcpy(sha_v1, fake_c1.last_info.sha256, 32);
    duet_img_policy_t pol;
    duet_img_info_t info;
    assert_int_equal(duet_sup_policy(&sup, &pol), DUET_OK);
    assert_int_equal(duet_img_verify_buf(v2.buf, v2.len, &pol, &info), DUET_OK);
    memcpy(sha_v2, info.sha256, 32);
    file_io(true);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    free(snap);
    h_image_free(&v1);
    h_image_free(&v2);
    duet_host_flash_close();
    unlink(h_flash_path());
    return 0;
}

static void reference(uint64_t *ops, uint64_t *bytes)
{
    restore_base();
    duet_host_flash_stats_t a, b;
    duet_host_flash_stats(&a);
    run_update();
    duet_host_flash_stats(&b);
    assert_int_equal(h_count(DUET_EV_CONFIRMED), 1);
    assert_true(h_loaded(&v2));
    *ops = (b.writes + b.erases) - (a.writes + a.erases);
    *bytes = b.bytes_written - a.bytes_written;
}

static void test_powercut_at_every_flash_op_of_an_update(void **st)
{
    (void)st;
    uint64_t ops, bytes;
    reference(&ops, &bytes);
    assert_true(ops > 40); /* 3 erases, ~40 writes, journal: install, trial, confirm */
    for (uint64_t k = 1; k <= ops + 1; k++) {
        for (int torn = 0; torn <= 1; torn++) {
            restore_base();
            duet_host_flash_fail_op(k, torn != 0);
            run_update();
            reboot_and_check(torn ? "torn op" : "failed op", (unsigned long long)k);
        }
    }
}

static void test_powercut_at_random_byte_offsets_of_an_update(void **st)
{
    (void)st;
    uint64_t ops, bytes;
    reference(&ops, &bytes);
    assert_true(bytes > v2.len);
    uint32_t seed = 12345;
    for (unsigned i = 0; i < 60; i++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t cut = (seed >> 8) % bytes;
        restore_base();
        duet_host_flash_cut_after_bytes(cut);
        run_update();
        reboot_and_check("byte cut", (unsigned long long)cut);
    }
    /* The edges: nothing, and everything but the last byte. */
    uint64_t edges[2] = { 0, bytes - 1 };
    for (unsigned i = 0; i < 2; i++) {
        restore_base();
        duet_host_flash_cut_after_bytes(edges[i]);
        run_update();
        reboot_and_check("byte cut", (unsigned long long)edges[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_powercut_at_every_flash_op_of_an_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_powercut_at_random_byte_offsets_of_an_update, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
