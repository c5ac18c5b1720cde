/*
 * test_ota.c - the OTA session: a good upload installs and activates; forged,
 * truncated, downgraded, wrong-chip, unsigned, corrupted and oversized uploads are
 * refused with the old program still running and the slot journal unchanged; one
 * session at a time; no overwriting the rollback target of an image on trial; a
 * refusal by header or table touches no flash however the bytes are chunked; before
 * the first start, an update adopts the factory image and never replaces the only
 * bootable slot.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "duet/api.h"
#include "harness.h"

static duet_sup_t sup;
static duet_ota_t ota;
static duet_sup_config_t cfg;
static h_img_t v1;

static int setup(void **st)
{
    (void)st;
    memset(&ota, 0, sizeof(ota));
    v1 = h_image(1, 5, DUET_CHIP_HOST, H_KEY_TEST);
    h_start_provisioned(&sup, &cfg, &v1);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    h_image_free(&v1);
    h_done();
    return 0;
}

/* An upload was refused: nothing changed. The journal may have been rewritten (a
 * refusal after the first erase journals the slot WRITING, then EMPTY again: slot B
 * was EMPTY here), but says the same. */
static void assert_untouched(const duet_slot_rec_t *before, unsigned starts)
{
    duet_slot_rec_t after = h_journal();
    assert_int_equal(after.sr_active, before->sr_active);
    assert_memory_equal(after.sr_status, before->sr_status, sizeof(after.sr_status));
    assert_int_equal(after.sr_min_security, before->sr_min_security);
    assert_memory_equal(after.sr_boots, before->sr_boots, sizeof(after.sr_boots));
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

/* Push an image that must be refused with 'want'; the flash ops it caused. */
static duet_host_flash_stats_t push_refused(h_img_t img, duet_err_t want)
{
    duet_host_flash_stats_t f0, f1;
    duet_host_flash_stats(&f0);
    assert_int_equal(h_ota(&sup, &ota, img.buf, img.len, 256, true), want);
    duet_host_flash_stats(&f1);
    f1.writes -= f0.writes;
    f1.erases -= f0.erases;
    return f1;
}

/* Refused by its head (format 2: header, table, TLVs, signature come before the
 * payload): not one flash write or erase, the journal byte for byte the same. */
static void refused(h_img_t img, duet_err_t want)
{
    duet_slot_rec_t before = h_journal();
    unsigned starts = fake_c1.starts;
    duet_host_flash_stats_t ops = push_refused(img, want);
    assert_int_equal(ops.writes, 0);
    assert_int_equal(ops.erases, 0);
    duet_slot_rec_t after = h_journal();
    assert_memory_equal(&before, &after, sizeof(after));
    assert_untouched(&before, starts);
}

/* Refused by its payload (the signed head was genuine): the slot was erased, so the
 * journal went WRITING -> EMPTY; still nothing selectable changed. */
static void refused_after_erase(h_img_t img, duet_err_t want)
{
    duet_slot_rec_t before = h_journal();
    unsigned starts = fake_c1.starts;
    assert_true(push_refused(img, want).erases > 0);
    duet_slot_rec_t after = h_journal();
    assert_int_equal(after.sr_seq, before.sr_seq + 2); /* WRITING, then EMPTY */
    assert_int_equal(after.sr_status[1], DUET_SLOT_EMPTY);
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
    assert_int_equal(h_journal().sr_active, 1);
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
    assert_int_equal(h_journal().sr_status[1], DUET_SLOT_PENDING);
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
    c.buf[c.len - 8] ^= 0x01; /* in the payload, which ends the image */
    refused_after_erase(c, DUET_ERR_IMG_BAD_HASH);
    h_image_free(&c);
}

static void test_ota_truncated_upload_refused(void **st)
{
    (void)st;
    h_img_t t = h_image(9, 9, DUET_CHIP_HOST, H_KEY_TEST);
    duet_slot_rec_t before = h_journal();
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
    duet_slot_rec_t before = h_journal();
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
    duet_slot_rec_t before = h_journal();
    h_img_t w = h_image(9, 9, DUET_CHIP_ESP32S3, H_KEY_TEST);
    assert_int_equal(h_ota(&sup, &ota, w.buf, w.len, 256, true), DUET_ERR_IMG_WRONG_CHIP);
    duet_slot_rec_t after = h_journal();
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

/* A slow client sends the head of a refused image in small pieces (or a proxy splits
 * it): however the bytes are chunked, a refusal by header or segment table must come
 * before anything is erased, so the CONFIRMED rollback target in the inactive slot
 * survives byte for byte. */
static void test_ota_header_refusal_keeps_rollback_target_at_any_chunking(void **st)
{
    (void)st;
    h_img_t v2 = h_image(2, 5, DUET_CHIP_HOST, H_KEY_TEST);
    assert_int_equal(h_ota(&sup, &ota, v2.buf, v2.len, 700, true), DUET_OK);
    h_boot(&sup);
    h_run(&sup, 1000, 100); /* v2 confirmed; A (v1) is its rollback target */
    assert_int_equal(duet_sup_inactive_slot(&sup), 0);
    h_img_t chip = h_image(9, 9, DUET_CHIP_ESP32S3, H_KEY_TEST);
    h_img_t low = h_image(9, 4, DUET_CHIP_HOST, H_KEY_TEST); /* counter below 5 */
    h_img_t entry = h_image(9, 9, DUET_CHIP_HOST, H_KEY_TEST);
    entry.buf[12 + 3] = 0x30; /* ih_entry outside every segment: refused at table end */
    const struct {
        h_img_t *img;
        duet_err_t want;
    } bad[] = {{&chip, DUET_ERR_IMG_WRONG_CHIP},
               {&low, DUET_ERR_IMG_DOWNGRADE},
               {&entry, DUET_ERR_IMG_BAD_ENTRY}};
    static const size_t chunks[] = {1, 3, 95, 97, 150};
    duet_slot_rec_t before = h_journal();
    for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            duet_host_flash_stats_t f0, f1;
            duet_host_flash_stats(&f0);
            duet_err_t e = h_ota(&sup, &ota, bad[b].img->buf, bad[b].img->len, chunks[c], true);
            if (e != bad[b].want)
                fail_msg("image %zu chunk %zu: %s", b, chunks[c], duet_err_name(e));
            duet_host_flash_stats(&f1);
            if (f1.erases != f0.erases || f1.writes != f0.writes)
                fail_msg("image %zu chunk %zu: flash touched by a refused header", b, chunks[c]);
        }
    }
    duet_slot_rec_t after = h_journal();
    assert_memory_equal(&before, &after, sizeof(after));
    uint8_t *back = malloc(v1.len);
    assert_non_null(back);
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_A, 0, back, v1.len), DUET_OK);
    assert_memory_equal(back, v1.buf, v1.len);
    free(back);
    duet_sup_status_t s;
    duet_sup_get_status(&sup, &s);
    assert_true(s.slot_valid[0]);
    /* A session the client abandons before its table arrived: same, via abort(). */
    assert_int_equal(duet_ota_begin(&ota, &sup, (uint32_t)v1.len), DUET_OK);
    duet_sup_get_status(&sup, &s);
    assert_false(s.slot_valid[0]); /* owned by the session meanwhile */
    assert_int_equal(duet_ota_write(&ota, v1.buf, 50), DUET_OK);
    duet_ota_abort(&ota);
    duet_sup_get_status(&sup, &s);
    assert_true(s.slot_valid[0]);
    assert_int_equal(duet_sup_rollback(&sup), DUET_OK);
    assert_true(h_loaded(&v1));
    h_image_free(&chip);
    h_image_free(&low);
    h_image_free(&entry);
    h_image_free(&v2);
}

/* The held-back head is flushed to flash once the table is accepted: a good image sent
 * one byte at a time (and in pieces that straddle the table end) installs intact. */
static void test_ota_good_upload_at_any_chunking(void **st)
{
    (void)st;
    static const size_t chunks[] = {1, 143, 145, 4096};
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        h_img_t v = h_image((uint8_t)(2 + c), 5, DUET_CHIP_HOST, H_KEY_TEST);
        assert_int_equal(h_ota(&sup, &ota, v.buf, v.len, chunks[c], true), DUET_OK);
        assert_true(h_loaded(&v));
        h_boot(&sup);
        h_run(&sup, 1000, 100); /* confirm, so the next upload may replace the other slot */
        h_image_free(&v);
    }
}

/* finish() installs what is on flash only if it is exactly what was streamed and
 * verified: a slot changed behind the session's back (here: into another validly
 * signed image) or a flash that dropped writes is refused. */
static void test_ota_finish_reads_back_what_was_verified(void **st)
{
    (void)st;
    h_img_t v2 = h_image(2, 5, DUET_CHIP_HOST, H_KEY_TEST);
    h_img_t v3 = h_image(3, 5, DUET_CHIP_HOST, H_KEY_TEST);
    duet_slot_rec_t before = h_journal();
    unsigned starts = fake_c1.starts;
    assert_int_equal(duet_ota_begin(&ota, &sup, (uint32_t)v2.len), DUET_OK);
    assert_int_equal(duet_ota_write(&ota, v2.buf, v2.len), DUET_OK);
    h_provision(1, &v3); /* someone else writes the slot meanwhile */
    assert_int_equal(duet_ota_finish(&ota, true, NULL), DUET_ERR_IMG_BAD_HASH);
    duet_ota_abort(&ota);
    assert_untouched(&before, starts);
    /* Writes that report success but do not stick (slot B blank again first: the
     * first case left v3 there, which a refusal before any erase would keep). */
    assert_int_equal(duet_port_flash_erase(DUET_AREA_SLOT_B, 0, H_SLOT_SIZE), DUET_OK);
    assert_int_equal(duet_ota_begin(&ota, &sup, (uint32_t)v2.len), DUET_OK);
    duet_host_flash_drop_writes(1000);
    /* Dropped from the first write on: the WRITING journal record does not read back,
     * so the upload stops before any erase; or later, at the read-back in finish. */
    duet_err_t e = duet_ota_write(&ota, v2.buf, v2.len);
    duet_host_flash_fault_clear();
    if (e == DUET_OK)
        e = duet_ota_finish(&ota, true, NULL);
    assert_int_not_equal(e, DUET_OK);
    duet_ota_abort(&ota);
    assert_untouched(&before, starts);
    h_image_free(&v2);
    h_image_free(&v3);
}

/* Factory state, nothing started yet (blank journal): an update must adopt the factory
 * image first, so it is not replaced and its counter is the floor. */
static int setup_factory(void **st)
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
    return 0;
}

static void test_ota_before_first_start_adopts_the_factory_image(void **st)
{
    (void)st;
    h_img_t low = h_image(2, 3, DUET_CHIP_HOST, H_KEY_TEST);
    /* Refused by its header (the adopted floor is in the session's policy), not at
     * finish after the slot was erased. */
    assert_int_equal(duet_ota_begin(&ota, &sup, (uint32_t)low.len), DUET_OK);
    assert_int_equal(duet_ota_write(&ota, low.buf, low.len), DUET_ERR_IMG_DOWNGRADE);
    duet_ota_abort(&ota);
    duet_slot_rec_t r = h_journal();
    assert_int_equal(r.sr_status[0], DUET_SLOT_CONFIRMED);
    assert_int_equal(r.sr_min_security, 5);
    assert_int_equal(r.sr_status[1], DUET_SLOT_EMPTY);
    h_img_t v2 = h_image(2, 6, DUET_CHIP_HOST, H_KEY_TEST);
    assert_int_equal(h_ota(&sup, &ota, v2.buf, v2.len, 256, false), DUET_OK);
    r = h_journal();
    assert_int_equal(r.sr_active, 1);
    assert_int_equal(r.sr_status[1], DUET_SLOT_PENDING);
    assert_int_equal(r.sr_status[0], DUET_SLOT_CONFIRMED); /* still the rollback target */
    assert_int_equal(duet_sup_start(&sup), DUET_OK);
    assert_true(h_loaded(&v2));
    assert_int_equal(duet_sup_rollback(&sup), DUET_OK);
    assert_true(h_loaded(&v1));
    h_image_free(&low);
    h_image_free(&v2);
}

static void test_ota_when_nothing_runs_keeps_the_only_bootable_slot(void **st)
{
    (void)st;
    /* Journal: A active, but A's flash rotted; B holds a CONFIRMED image. */
    h_img_t v2 = h_image(2, 5, DUET_CHIP_HOST, H_KEY_TEST);
    h_provision(1, &v2);
    duet_slot_rec_t r;
    memset(&r, 0, sizeof(r));
    r.sr_active = 0;
    r.sr_status[0] = DUET_SLOT_CONFIRMED;
    r.sr_status[1] = DUET_SLOT_CONFIRMED;
    r.sr_min_security = 5;
    assert_int_equal(duet_slot_store(&r), DUET_OK);
    uint8_t z = 0;
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, 300, &z, 1), DUET_OK);
    assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK); /* core 0 reboots; no start */
    assert_int_equal(duet_sup_inactive_slot(&sup), 0);
    h_img_t w = h_image(9, 9, DUET_CHIP_HOST, H_KEY_TEST);
    w.buf[w.len / 2] ^= 1; /* refused only at the end: its slot is gone by then */
    assert_int_equal(h_ota(&sup, &ota, w.buf, w.len, 256, false), DUET_ERR_IMG_BAD_HASH);
    assert_int_equal(duet_sup_start(&sup), DUET_OK); /* B was not the one overwritten */
    assert_true(h_loaded(&v2));
    h_image_free(&w);
    h_image_free(&v2);
}

/* A push cut off after it had erased the older, CONFIRMED slot (the connection died or
 * the device was killed): flash, the supervisor's status and the API's JSON all say
 * WRITING, never CONFIRMED, before and after a reboot, and a rollback to it answers
 * NO_IMAGE (HTTP 404), not a hash error. */
static void test_ota_interrupted_push_shows_the_older_slot_writing(void **st)
{
    (void)st;
    h_img_t v2 = h_image(2, 5, DUET_CHIP_HOST, H_KEY_TEST);
    assert_int_equal(h_ota(&sup, &ota, v2.buf, v2.len, 700, true), DUET_OK);
    h_boot(&sup);
    h_run(&sup, 1000, 100); /* v2 confirmed in B; A (v1) is the older CONFIRMED slot */
    assert_int_equal(h_journal().sr_status[0], DUET_SLOT_CONFIRMED);
    h_img_t v3 = h_image(3, 5, DUET_CHIP_HOST, H_KEY_TEST);
    assert_int_equal(duet_ota_begin(&ota, &sup, (uint32_t)v3.len), DUET_OK);
    assert_int_equal(duet_ota_write(&ota, v3.buf, v3.len - 64), DUET_OK); /* then nothing */
    duet_api_t api;
    char json[4096];
    size_t n;
    for (int reboot = 0; reboot < 2; reboot++) {
        assert_int_equal(h_journal().sr_status[0], DUET_SLOT_WRITING);
        duet_sup_status_t s;
        duet_sup_get_status(&sup, &s);
        assert_int_equal(s.slots.sr_status[0], DUET_SLOT_WRITING);
        assert_false(s.slot_valid[0]);
        assert_int_equal(duet_api_init(&api, &sup, "t", H_SLOT_SIZE), DUET_OK);
        assert_int_equal(duet_api_status_json(&api, json, sizeof json, &n), DUET_OK);
        assert_non_null(strstr(json, "\"WRITING\""));
        if (reboot == 0) {
            duet_ota_abort(&ota); /* what a killed device never gets to do: */
            /* put WRITING back as the kill left it, then "reboot" */
            duet_slot_rec_t r = h_journal();
            r.sr_status[0] = DUET_SLOT_WRITING;
            assert_int_equal(duet_slot_store(&r), DUET_OK);
            h_flash_reopen();
            assert_int_equal(duet_sup_init(&sup, &cfg), DUET_OK);
            assert_int_equal(duet_sup_start(&sup), DUET_OK);
            h_boot(&sup);
            assert_true(h_loaded(&v2));
        }
    }
    assert_int_equal(duet_sup_rollback(&sup), DUET_ERR_NO_IMAGE);
    assert_int_equal(duet_api_http_status(DUET_ERR_NO_IMAGE), 404);
    assert_true(h_loaded(&v2)); /* still running, untouched */
    h_image_free(&v3);
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
        T(test_ota_header_refusal_keeps_rollback_target_at_any_chunking),
        T(test_ota_good_upload_at_any_chunking),
        T(test_ota_finish_reads_back_what_was_verified),
        T(test_ota_interrupted_push_shows_the_older_slot_writing),
        cmocka_unit_test_setup_teardown(test_ota_before_first_start_adopts_the_factory_image,
                                        setup_factory, teardown),
        cmocka_unit_test_setup_teardown(test_ota_when_nothing_runs_keeps_the_only_bootable_slot,
                                        setup_factory, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
