/*
 * test_agreement.c - the core-1 SDK (linker script, CMake defaults, soc_esp32s3.h), the
 * ESP-IDF port (Kconfig, port/esp32s3/duet_esp_priv.h) and the CLI's default window
 * must agree on the ESP32-S3 layout: otherwise the port refuses every SDK-built image
 * (ih_shm_base differs) or, worse, both sides use different doorbells.
 *
 * The values come from the files themselves (tests/agreement/CMakeLists.txt extracts them
 * into gen/agreement_gen.h and a gen/<variant>/sdkconfig.h); the port's formulas are its
 * own macros, compiled here against that sdkconfig.h. Built twice: with the Kconfig
 * defaults, and (AG_ALT) with a non-default window, where only the formulas are compared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agreement_gen.h"
#include "duet/soc_esp32s3.h"
#include "duet_esp_priv.h"

static void test_sources_parsed(void **state)
{
    (void)state;
#ifdef AG_PARSE_ERROR
    fail_msg("could not read a value: %s", AG_PARSE_ERROR);
#endif
}

/* The linker script's shared-memory address is the port's, for this sdkconfig. */
static void test_shm_formula(void **state)
{
    (void)state;
    uint32_t end = AG_LD_WINDOW_END(DUET_ESP_WIN_START, DUET_ESP_WIN_SIZE);
    uint32_t shm = AG_LD_SHM_BASE(DUET_ESP_WIN_START, DUET_ESP_WIN_SIZE, DUET_ESP_SHM_SIZE);
    assert_int_equal(end, DUET_ESP_WIN_END);
    assert_int_equal(shm, DUET_ESP_SHM_START);
    /* shm.c needs 4-byte alignment; the port's program part ends where shm starts. */
    assert_int_equal(shm % 4u, 0);
    assert_int_equal(DUET_ESP_WIN_START + DUET_ESP_PROG_SIZE, shm);
}

static void test_i_d_offset(void **state)
{
    (void)state;
    assert_int_equal(DUET_ESP_I_D_OFFSET, DUET_S3_I_D_OFFSET);
    assert_int_equal(AG_LD_I_D_OFFSET, DUET_S3_I_D_OFFSET);
    assert_int_equal(AG_CLI_S3_I_D_OFFSET, DUET_S3_I_D_OFFSET);
}

static void test_doorbells(void **state)
{
    (void)state;
    /* Core 1 raises TO_C0 and waits on TO_C1; core 0 does the opposite. */
    assert_int_equal(CONFIG_DUET_DOORBELL_TO_CORE0, DUET_S3_DOORBELL_TO_C0);
    assert_int_equal(CONFIG_DUET_DOORBELL_TO_CORE1, DUET_S3_DOORBELL_TO_C1);
    assert_int_not_equal(DUET_S3_DOORBELL_TO_C0, DUET_S3_DOORBELL_TO_C1);
    /* FROM_CPU_INTR0 is FreeRTOS' (facts §6): only 1..3. */
    assert_in_range(DUET_S3_DOORBELL_TO_C0, 1, 3);
    assert_in_range(DUET_S3_DOORBELL_TO_C1, 1, 3);
    /* The core-1 CPU interrupt must be one duet_xt_intr_route() accepts. */
    assert_true(DUET_S3_DOORBELL_INUM < 32u);
    assert_true(((DUET_S3_LEVEL1_INUM_MASK >> DUET_S3_DOORBELL_INUM) & 1u) != 0);
}

#ifndef AG_ALT
/* Defaults: every place that names the default window says the same thing. */
static void test_default_window(void **state)
{
    (void)state;
    uint32_t k_start = (uint32_t)AG_KCONFIG_DUET_WINDOW_START;
    uint32_t k_size = (uint32_t)AG_KCONFIG_DUET_WINDOW_SIZE;
    assert_int_equal(k_start, DUET_ESP_WIN_START); /* generated sdkconfig.h sanity */
    assert_int_equal(AG_PROG_WINDOW_BASE, k_start);
    assert_int_equal(AG_PROG_WINDOW_SIZE, k_size);
    assert_int_equal(AG_XBUILD_WINDOW_BASE, k_start);
    assert_int_equal(AG_XBUILD_WINDOW_SIZE, k_size);
    assert_int_equal(DUET_S3_WINDOW_BASE, k_start);
    assert_int_equal(DUET_S3_WINDOW_SIZE, k_size);
    assert_int_equal(AG_CLI_S3_DRAM_BASE, k_start);
    assert_int_equal(AG_CLI_S3_DRAM_END - AG_CLI_S3_DRAM_BASE, k_size);
}

static void test_default_shm(void **state)
{
    (void)state;
    uint32_t k_shm = (uint32_t)AG_KCONFIG_DUET_SHM_SIZE;
    assert_int_equal(AG_PROG_SHM_SIZE, k_shm);
    assert_int_equal(AG_XBUILD_SHM_SIZE, k_shm);
    /* The image the SDK links with its defaults carries this shm base; the port's
     * duet_port_core1_start compares ih_shm_base with DUET_ESP_SHM_START. */
    assert_int_equal(AG_LD_SHM_BASE(AG_PROG_WINDOW_BASE, AG_PROG_WINDOW_SIZE, AG_PROG_SHM_SIZE),
                     DUET_ESP_SHM_START);
}

/* The default window satisfies both sides' constraints: the linker script's ASSERTs
 * (16-byte alignment, SHM_SIZE multiple of 256, DRAM alias of internal SRAM) and the
 * port's (Kconfig: 256-byte aligned start, end below the ROM APP-CPU stack). */
static void test_default_constraints(void **state)
{
    (void)state;
    assert_int_equal(DUET_ESP_WIN_START % 256u, 0);
    assert_int_equal(DUET_ESP_WIN_SIZE % 16u, 0);
    assert_int_equal(DUET_ESP_SHM_SIZE % 256u, 0);
    assert_true(DUET_ESP_SHM_SIZE >= 2048u);
    assert_true(DUET_ESP_WIN_START >= DUET_S3_DIRAM_DRAM_LOW);
    assert_true(DUET_ESP_WIN_END <= DUET_ESP_ROM_APP_STACK_START);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources_parsed),
        cmocka_unit_test(test_shm_formula),
        cmocka_unit_test(test_i_d_offset),
        cmocka_unit_test(test_doorbells),
#ifndef AG_ALT
        cmocka_unit_test(test_default_window),
        cmocka_unit_test(test_default_shm),
        cmocka_unit_test(test_default_constraints),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
