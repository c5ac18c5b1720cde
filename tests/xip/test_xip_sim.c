/*
 * test_xip_sim.c - XIP in the simulator (docs/xip.md, docs/simulator.md "XIP"): the
 * bigtable example (code and tables far larger than the RAM window) runs from its
 * mapped flash slot as a real child process, and keeps computing correct results while
 * an update is written into the other slot (every write and erase parks it; the parked
 * time is recorded), also when it has to be stalled because it does not answer; a
 * program that touches flash-mapped code while parked is caught and reported.
 * Expected results are recomputed here natively from the same generated code and tables.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bigtable.h"
#include "duet/host_port.h"
#include "sim_util.h"

/* A consistent (block, acc) pair from the program's seqlock. */
static void read_result(duet_shm_ctrl_t *c, uint32_t *block, uint32_t *acc)
{
    for (;;) {
        uint32_t s1 = __atomic_load_n(&c->sc_user[BT_U_SEQ], __ATOMIC_ACQUIRE);
        uint32_t b = __atomic_load_n(&c->sc_user[BT_U_BLOCK], __ATOMIC_RELAXED);
        uint32_t a = __atomic_load_n(&c->sc_user[BT_U_ACC], __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if ((s1 & 1u) == 0 && __atomic_load_n(&c->sc_user[BT_U_SEQ], __ATOMIC_RELAXED) == s1) {
            *block = b;
            *acc = a;
            return;
        }
    }
}

/* Expected accumulators, extended on demand (bt_run is incremental per block). */
static uint32_t s_exp_acc = BT_SEED, s_exp_blocks;

static uint32_t expected(uint32_t blocks)
{
    if (blocks < s_exp_blocks) {
        s_exp_acc = BT_SEED;
        s_exp_blocks = 0;
    }
    for (; s_exp_blocks < blocks; s_exp_blocks++)
        for (uint32_t r = 0; r < BT_BLOCK; r++)
            s_exp_acc = bt_round(s_exp_acc, s_exp_blocks * BT_BLOCK + r);
    return s_exp_acc;
}

/* Step the simulator until the program published at least 'n' blocks; check the result. */
static uint32_t wait_blocks_checked(sim_fixture_t *f, uint32_t n, uint32_t timeout_ms)
{
    duet_shm_ctrl_t *c = duet_sim_ctrl(f->sim, NULL);
    uint64_t end = duet_port_now_us() + (uint64_t)timeout_ms * 1000u;
    uint32_t b = 0, a = 0;
    while (duet_port_now_us() < end) {
        (void)duet_sim_step(f->sim, 10000);
        read_result(c, &b, &a);
        if (b >= n)
            break;
    }
    assert_true(b >= n);
    assert_int_equal(a, expected(b));
    return b;
}

static void open_started(sim_fixture_t *f, const char *name)
{
    duet_sim_config_t cfg;
    sim_test_config(&cfg);
    cfg.sup.heartbeat_timeout_ms = 3000; /* parks are short, but this is a loaded CI box */
    assert_int_equal(sim_fixture_open(f, &cfg, name), 0);
    duet_host_xip_reset_stats();
    assert_int_equal(duet_sim_start(f->sim), DUET_OK);
}

/* The program's code really runs from the memfd holding the slot's pages. */
static void assert_mapped_from_slot(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    bool found = false;
    while (fgets(line, sizeof line, fp) != NULL)
        if (strncmp(line, "30000000-", 9) == 0 && strstr(line, " r-xs ") != NULL &&
            strstr(line, "duet-xip") != NULL)
            found = true;
    fclose(fp);
    assert_true(found);
}

static void test_bigtable_runs_from_the_flash_mapping(void **st)
{
    (void)st;
    sim_fixture_t f;
    open_started(&f, "bigtable");
    wait_blocks_checked(&f, 3, 20000);
    assert_mapped_from_slot(duet_host_core1_pid());
    wait_blocks_checked(&f, 12, 20000);
    duet_sup_status_t s;
    duet_sim_status(f.sim, &s);
    assert_int_equal(s.state, DUET_SUP_RUNNING);
    assert_int_equal(f.ev.crashes, 0);
    sim_fixture_close(&f);
}

/* Write an update into the other slot while it runs; results stay right throughout. */
static void update_while_running(sim_fixture_t *f, duet_host_xip_stats_t *xs)
{
    duet_shm_ctrl_t *c = duet_sim_ctrl(f->sim, NULL);
    uint32_t b0 = wait_blocks_checked(f, 4, 20000);
    uint32_t epoch = c->sc_c1_epoch;
    duet_img_info_t info;
    assert_int_equal(duet_sim_install_file(f->sim, img_path("bigtable_v2"), false, &info), DUET_OK);
    duet_host_xip_stats(xs);
    wait_blocks_checked(f, b0 + 8, 20000);
    assert_int_equal(c->sc_c1_epoch, epoch); /* the same run: parked, never restarted */
    assert_int_equal(f->ev.crashes + f->ev.hangs, 0);
    assert_true(xs->writes > 0);
    assert_true(xs->erases > 0);
    assert_int_equal(xs->violations, 0);
    printf("xip lockout: %u writes (mean %.1f us, max %.1f us), %u erases (mean %.1f us, "
           "max %.1f us), %u stalls; core 1 counted %u parks, longest %.1f us\n",
           xs->writes, xs->write_ns_total / 1e3 / xs->writes, xs->write_ns_max / 1e3, xs->erases,
           xs->erase_ns_total / 1e3 / xs->erases, xs->erase_ns_max / 1e3, xs->stalls,
           (unsigned)c->sc_park_count, c->sc_park_max / 1e3);
}

static void test_update_into_other_slot_parks_and_resumes(void **st)
{
    (void)st;
    sim_fixture_t f;
    open_started(&f, "bigtable");
    duet_host_xip_stats_t xs;
    update_while_running(&f, &xs);
    duet_shm_ctrl_t *c = duet_sim_ctrl(f.sim, NULL);
    assert_int_equal(xs.stalls, 0);                         /* it answered every request itself */
    assert_true(c->sc_park_count >= xs.writes + xs.erases); /* core 1 saw every park */
    assert_true(c->sc_park_max > 0);
    assert_true(c->sc_user[BT_U_PARKS] > 0); /* its DUET_RAM hook ran while parked */
    sim_fixture_close(&f);
}

static void test_program_that_does_not_answer_is_stalled(void **st)
{
    (void)st;
    sim_fixture_t f;
    open_started(&f, "bigtable");
    duet_host_xip_set_park_timeout(0); /* no time to answer: the hardware-stall path */
    duet_host_xip_stats_t xs;
    update_while_running(&f, &xs);
    duet_host_xip_set_park_timeout(20000);
    assert_true(xs.stalls > 0);
    assert_int_equal(duet_sim_ctrl(f.sim, NULL)->sc_park_stalls, xs.stalls);
    sim_fixture_close(&f);
}

static void test_flash_access_during_write_is_caught(void **st)
{
    (void)st;
    sim_fixture_t f;
    open_started(&f, "bigtable_badhook");
    wait_blocks_checked(&f, 2, 20000);
    duet_img_info_t info;
    /* The write goes through; the program's hook is fetched from the switched-off mapping. */
    assert_int_equal(duet_sim_install_file(f.sim, img_path("bigtable_v2"), false, &info), DUET_OK);
    assert_true(sim_wait_faults(&f, 1, 10000));
    assert_non_null(strstr(f.ev.last_crash.cr_msg, "flash access during flash write"));
    assert_int_equal(f.ev.last_crash.cr_reason, DUET_CRASH_ILLEGAL_INSN); /* a fetch */
    assert_true(f.ev.last_crash.cr_excvaddr >= DUET_HOST_XIP_BASE &&
                f.ev.last_crash.cr_excvaddr < DUET_HOST_XIP_BASE + DUET_HOST_XIP_SIZE);
    duet_host_xip_stats_t xs;
    duet_host_xip_stats(&xs);
    assert_true(xs.violations >= 1);
    sim_fixture_close(&f);
}

static void test_own_slot_is_not_written_while_mapped(void **st)
{
    (void)st;
    sim_fixture_t f;
    open_started(&f, "bigtable");
    wait_blocks_checked(&f, 2, 20000);
    duet_sup_status_t s;
    duet_sim_status(f.sim, &s);
    uint8_t hdr[DUET_IMG_HDR_SIZE], zero[16] = {0};
    duet_sim_lock(f.sim);
    duet_err_t e = duet_port_flash_read((duet_area_t)s.active_slot, 0, hdr, sizeof hdr);
    uint32_t map_off = (uint32_t)hdr[80] | (uint32_t)hdr[81] << 8 | (uint32_t)hdr[82] << 16 |
                       (uint32_t)hdr[83] << 24; /* ih_map_offset, little-endian */
    if (e == DUET_OK)
        e = duet_port_flash_write((duet_area_t)s.active_slot, map_off + 64u, zero, 16);
    duet_sim_unlock(f.sim);
    assert_int_equal(e, DUET_ERR_BUSY);
    wait_blocks_checked(&f, 4, 20000);
    sim_fixture_close(&f);
}

/* A hot swap activated from a thread that ends right after (an HTTP connection thread):
 * the new program must outlive it (it used to die with the thread that forked it). */
static sim_fixture_t *s_f;
static duet_err_t s_thread_err;

static void *install_thread(void *arg)
{
    (void)arg;
    duet_img_info_t info;
    s_thread_err = duet_sim_install_file(s_f->sim, img_path("bigtable_v2"), true, &info);
    usleep(100000); /* like a connection thread sending its answer, then ending */
    return NULL;
}

static void test_swap_from_a_short_lived_thread_keeps_the_program(void **st)
{
    (void)st;
    sim_fixture_t f;
    open_started(&f, "bigtable");
    wait_blocks_checked(&f, 2, 20000);
    s_f = &f;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, install_thread, NULL), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    if (s_thread_err != DUET_OK)
        fail_msg("install from a thread: %s", duet_err_name(s_thread_err));
    duet_shm_ctrl_t *c = duet_sim_ctrl(f.sim, NULL);
    uint32_t epoch = c->sc_epoch;      /* stamped by core 0 before the new program starts */
    wait_blocks_checked(&f, 6, 20000); /* the new run computes from block 0 again */
    duet_sim_run_for(f.sim, 300);
    assert_int_equal(c->sc_epoch, epoch); /* a crash would have restarted it */
    assert_int_equal(c->sc_c1_epoch, epoch);
    assert_int_equal(f.ev.crashes + f.ev.hangs, 0);
    sim_fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_bigtable_runs_from_the_flash_mapping),
        cmocka_unit_test(test_update_into_other_slot_parks_and_resumes),
        cmocka_unit_test(test_program_that_does_not_answer_is_stalled),
        cmocka_unit_test(test_flash_access_during_write_is_caught),
        cmocka_unit_test(test_own_slot_is_not_written_while_mapped),
        cmocka_unit_test(test_swap_from_a_short_lived_thread_keeps_the_program),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
