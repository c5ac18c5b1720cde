/*
 * test_flash_file.c - the host flash file: NOR semantics, range checks, and the two
 * power-cut injections (byte budget, failing op with and without a torn half), and
 * dropped writes (a lying flash).
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

static char path[128];
static const duet_host_flash_geom_t geom = { 8192, 8192, 4096 };

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/duet-flashtest-%ld.flash", (long)getpid());
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

static void test_flash_new_file_reads_erased(void **state)
{
    (void)state;
    uint8_t b[64];
    for (int a = 0; a < DUET_AREA__COUNT; a++) {
        assert_int_equal(duet_port_flash_read((duet_area_t)a, 100, b, sizeof(b)), DUET_OK);
        for (size_t i = 0; i < sizeof(b); i++)
            assert_int_equal(b[i], 0xFF);
    }
    uint32_t size, es;
    assert_int_equal(duet_port_flash_info(DUET_AREA_STATE, &size, &es), DUET_OK);
    assert_int_equal(size, 8192);
    assert_int_equal(es, 4096);
}

static void test_flash_write_only_clears_bits_and_erase_sets_them(void **state)
{
    (void)state;
    uint8_t v = 0xF0, r;
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_B, 10, &v, 1), DUET_OK);
    v = 0x3C;
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_B, 10, &v, 1), DUET_OK);
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_B, 10, &r, 1), DUET_OK);
    assert_int_equal(r, 0x30); /* 0xF0 & 0x3C */
    /* Areas are separate: slot A at the same offset is untouched. */
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_A, 10, &r, 1), DUET_OK);
    assert_int_equal(r, 0xFF);
    assert_int_equal(duet_port_flash_erase(DUET_AREA_SLOT_B, 0, 4096), DUET_OK);
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_B, 10, &r, 1), DUET_OK);
    assert_int_equal(r, 0xFF);
}

static void test_flash_rejects_bad_ranges(void **state)
{
    (void)state;
    uint8_t b[8] = { 0 };
    assert_int_equal(duet_port_flash_write(DUET_AREA_STATE, 8190, b, 4), DUET_ERR_INVAL);
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_A, 8192, b, 1), DUET_ERR_INVAL);
    assert_int_equal(duet_port_flash_erase(DUET_AREA_SLOT_A, 100, 4096), DUET_ERR_INVAL);
    assert_int_equal(duet_port_flash_erase(DUET_AREA_SLOT_A, 0, 100), DUET_ERR_INVAL);
    assert_int_equal(duet_port_flash_erase(DUET_AREA_SLOT_A, 4096, 8192), DUET_ERR_INVAL);
    assert_int_equal(duet_port_flash_read(DUET_AREA__COUNT, 0, b, 1), DUET_ERR_INVAL);
}

static void test_flash_persists_across_reopen_and_checks_size(void **state)
{
    (void)state;
    uint8_t v = 0x12, r;
    assert_int_equal(duet_port_flash_write(DUET_AREA_STATE, 5, &v, 1), DUET_OK);
    assert_int_equal(duet_host_flash_open(path, &geom), DUET_OK);
    assert_int_equal(duet_port_flash_read(DUET_AREA_STATE, 5, &r, 1), DUET_OK);
    assert_int_equal(r, 0x12);
    duet_host_flash_geom_t other = { 4096, 8192, 4096 };
    assert_int_equal(duet_host_flash_open(path, &other), DUET_ERR_INVAL);
    assert_int_equal(duet_port_flash_read(DUET_AREA_STATE, 5, &r, 1), DUET_ERR_STATE);
}

static void test_flash_cut_after_bytes_programs_prefix_then_dies(void **state)
{
    (void)state;
    uint8_t data[10], r[10];
    memset(data, 0x00, sizeof(data));
    duet_host_flash_cut_after_bytes(13);
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, 0, data, 10), DUET_OK);
    assert_false(duet_host_flash_dead());
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, 100, data, 10), DUET_ERR_IO);
    assert_true(duet_host_flash_dead());
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_A, 100, r, 10), DUET_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(r[i], i < 3 ? 0x00 : 0xFF);
    /* Dead: nothing works any more, not even an erase. */
    assert_int_equal(duet_port_flash_erase(DUET_AREA_SLOT_A, 0, 4096), DUET_ERR_IO);
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_A, 0, r, 1), DUET_OK);
    assert_int_equal(r[0], 0x00);
    /* Reboot. */
    assert_int_equal(duet_host_flash_open(path, &geom), DUET_OK);
    assert_false(duet_host_flash_dead());
    assert_int_equal(duet_port_flash_erase(DUET_AREA_SLOT_A, 0, 4096), DUET_OK);
}

static void test_flash_fail_op_counts_writes_and_erases(void **state)
{
    (void)state;
    uint8_t z[8] = { 0 }, r[8];
    duet_host_flash_fail_op(3, false);
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_B, 0, z, 8), DUET_OK);
    assert_int_equal(duet_port_flash_erase(DUET_AREA_SLOT_B, 0, 4096), DUET_OK);
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_B, 0, z, 8), DUET_ERR_IO);
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_B, 0, r, 8), DUET_OK);
    for (int i = 0; i < 8; i++)
        assert_int_equal(r[i], 0xFF); /* non-torn: nothing happened */
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_B, 0, z, 8), DUET_ERR_IO);
    duet_host_flash_stats_t st;
    duet_host_flash_stats(&st);
    assert_int_equal(st.erases, 1);
    assert_int_equal(st.writes, 3);
}

static void test_flash_torn_ops_do_half_their_work(void **state)
{
    (void)state;
    uint8_t z[8] = { 0 }, r[8];
    duet_host_flash_fail_op(1, true);
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_B, 0, z, 8), DUET_ERR_IO);
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_B, 0, r, 8), DUET_OK);
    for (int i = 0; i < 8; i++)
        assert_int_equal(r[i], i < 4 ? 0x00 : 0xFF);
    assert_int_equal(duet_host_flash_open(path, &geom), DUET_OK);
    memset(z, 0, sizeof(z));
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_B, 4092, z, 8), DUET_OK);
    duet_host_flash_fail_op(1, true);
    assert_int_equal(duet_port_flash_erase(DUET_AREA_SLOT_B, 0, 8192), DUET_ERR_IO);
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_B, 4092, r, 8), DUET_OK);
    for (int i = 0; i < 8; i++)
        assert_int_equal(r[i], i < 4 ? 0xFF : 0x00); /* first half erased only */
}

static void test_flash_dropped_writes_report_ok_and_program_nothing(void **state)
{
    (void)state;
    uint8_t z[8] = { 0 }, r[8];
    duet_host_flash_drop_writes(2);
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, 0, z, 8), DUET_OK);
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, 8, z, 8), DUET_OK);
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_A, 0, r, 8), DUET_OK);
    for (int i = 0; i < 8; i++)
        assert_int_equal(r[i], 0xFF);
    assert_false(duet_host_flash_dead());
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, 0, z, 8), DUET_OK); /* sticks */
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_A, 0, r, 8), DUET_OK);
    assert_int_equal(r[0], 0x00);
    duet_host_flash_drop_writes(5);
    duet_host_flash_fault_clear();
    assert_int_equal(duet_port_flash_write(DUET_AREA_SLOT_A, 8, z, 8), DUET_OK);
    assert_int_equal(duet_port_flash_read(DUET_AREA_SLOT_A, 8, r, 8), DUET_OK);
    assert_int_equal(r[0], 0x00);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flash_new_file_reads_erased, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_write_only_clears_bits_and_erase_sets_them, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_rejects_bad_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_persists_across_reopen_and_checks_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_cut_after_bytes_programs_prefix_then_dies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_fail_op_counts_writes_and_erases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_torn_ops_do_half_their_work, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_dropped_writes_report_ok_and_program_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
