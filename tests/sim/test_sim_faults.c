/*
 * test_sim_faults.c - every fault kind of the crash example, run as a real child
 * process under the real supervisor: the crash record has the right reason, comes from
 * the crashed run (epoch, build-id, PC inside the program), and the program is restarted
 * and runs healthy again. Also: a hang is caught by the heartbeat deadline, and a core-1
 * process killed from outside becomes a KILLED record.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../../examples/crash/crash_cmd.h"
#include "duet/host_port.h"
#include "sim_util.h"

/* Run 'crash' with command cmd preset; expect one fault of 'reason', then recovery. */
static void run_fault(uint32_t cmd, uint32_t reason)
{
    sim_fixture_t f;
    duet_sim_config_t cfg;
    sim_test_config(&cfg);
    assert_int_equal(sim_fixture_open(&f, &cfg, "crash"), 0);
    f.ev.clear_user_on_crash = CRASH_CMD_WORD;
    assert_int_equal(duet_sim_start(f.sim), DUET_OK);
    duet_sup_status_t st;
    duet_sim_status(f.sim, &st);
    /* After the start: the supervisor's shm init zeroes sc_user on a fresh area. The
     * program polls the word every 100 ms. */
    duet_shm_ctrl_t *c = duet_sim_ctrl(f.sim, NULL);
    __atomic_store_n(&c->sc_user[CRASH_CMD_WORD], cmd, __ATOMIC_RELEASE);
    uint32_t crashed_epoch = st.epoch;
    assert_true(sim_wait_faults(&f, 1, 5000));

    const duet_crash_t *cr = &f.ev.last_crash;
    assert_int_equal(cr->cr_magic, DUET_CRASH_MAGIC);
    assert_int_equal(cr->cr_reason, reason);
    assert_int_equal(cr->cr_epoch, crashed_epoch);
    if (reason != DUET_CRASH_HANG) {
        /* Written by the program's own fault path: it knows its build-id, and the PC is
         * an offset inside the executable (addr2line-able), not a libc address. */
        assert_int_equal(cr->cr_build_id_len, st.slot_hdr[0].ih_build_id_len);
        assert_true(cr->cr_build_id_len > 0);
        assert_memory_equal(cr->cr_build_id, st.slot_hdr[0].ih_build_id, cr->cr_build_id_len);
        assert_true(cr->cr_pc != 0xFFFFFFFFu && cr->cr_pc != 0);
        assert_true(cr->cr_bt_count >= 1);
    }
    if (reason == DUET_CRASH_LOAD_STORE)
        assert_int_equal(cr->cr_excvaddr, CRASH_BAD_ADDRESS);
    if (reason == DUET_CRASH_LOAD_STORE || reason == DUET_CRASH_STACK_OVERFLOW)
        assert_int_equal(cr->cr_exccause, SIGSEGV);
    if (reason == DUET_CRASH_DIV_ZERO)
        assert_int_equal(cr->cr_exccause, SIGFPE);
    if (reason == DUET_CRASH_ILLEGAL_INSN)
        assert_int_equal(cr->cr_exccause, SIGILL);
    if (reason == DUET_CRASH_PANIC)
        assert_string_equal(cr->cr_msg, "crash: requested panic");
    if (reason == DUET_CRASH_ASSERT)
        assert_non_null(strstr(cr->cr_msg, "crash.c:"));

    /* Recovered: a new epoch runs and heartbeats, with no further fault. */
    assert_true(sim_wait_heartbeats(&f, 3, 5000));
    duet_sim_status(f.sim, &st);
    assert_int_equal(st.state, DUET_SUP_RUNNING);
    assert_true(st.epoch > crashed_epoch);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(f.ev.crashes + f.ev.hangs, 1);
    assert_true(st.has_crash);
    assert_int_equal(st.last_crash.cr_reason, reason);
    sim_fixture_close(&f);
}

static void test_bad_pointer_is_load_store(void **state)
{
    (void)state;
    run_fault(CRASH_CMD_BAD_POINTER, DUET_CRASH_LOAD_STORE);
}

static void test_illegal_instruction(void **state)
{
    (void)state;
    run_fault(CRASH_CMD_ILLEGAL, DUET_CRASH_ILLEGAL_INSN);
}

static void test_divide_by_zero(void **state)
{
    (void)state;
    run_fault(CRASH_CMD_DIV_ZERO, DUET_CRASH_DIV_ZERO);
}

static void test_stack_overflow(void **state)
{
    (void)state;
    run_fault(CRASH_CMD_STACK_OVERFLOW, DUET_CRASH_STACK_OVERFLOW);
}

static void test_panic(void **state)
{
    (void)state;
    run_fault(CRASH_CMD_PANIC, DUET_CRASH_PANIC);
}

static void test_assert(void **state)
{
    (void)state;
    run_fault(CRASH_CMD_ASSERT, DUET_CRASH_ASSERT);
}

static void test_hang_is_caught_by_heartbeat(void **state)
{
    (void)state;
    run_fault(CRASH_CMD_HANG, DUET_CRASH_HANG);
}

static void test_external_kill_becomes_killed_record(void **state)
{
    (void)state;
    sim_fixture_t f;
    duet_sim_config_t cfg;
    sim_test_config(&cfg);
    assert_int_equal(sim_fixture_open(&f, &cfg, "crash"), 0);
    assert_int_equal(duet_sim_start(f.sim), DUET_OK);
    assert_true(sim_wait_heartbeats(&f, 2, 5000));
    assert_int_equal(duet_host_core1_signal(SIGKILL), DUET_OK);
    assert_true(sim_wait_faults(&f, 1, 5000));
    assert_int_equal(f.ev.last_crash.cr_reason, DUET_CRASH_KILLED);
    assert_int_equal(f.ev.last_crash.cr_exccause, SIGKILL);
    assert_true(sim_wait_heartbeats(&f, 2, 5000)); /* and recovered */
    sim_fixture_close(&f);
}

static void test_recovery_off_stays_crashed(void **state)
{
    (void)state;
    sim_fixture_t f;
    duet_sim_config_t cfg;
    sim_test_config(&cfg);
    cfg.sup.recovery = DUET_RECOVERY_OFF;
    assert_int_equal(sim_fixture_open(&f, &cfg, "crash"), 0);
    assert_int_equal(duet_sim_start(f.sim), DUET_OK);
    __atomic_store_n(&duet_sim_ctrl(f.sim, NULL)->sc_user[CRASH_CMD_WORD], CRASH_CMD_DIV_ZERO,
                     __ATOMIC_RELEASE);
    assert_true(sim_wait_faults(&f, 1, 5000));
    duet_sim_run_for(f.sim, 300); /* longer than the backoff: still no restart */
    duet_sup_status_t st;
    duet_sim_status(f.sim, &st);
    assert_int_equal(st.state, DUET_SUP_CRASHED);
    assert_int_equal(st.restarts, 0);
    assert_int_equal(duet_host_core1_pid(), 0); /* the dead process was reaped */
    sim_fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_pointer_is_load_store),
        cmocka_unit_test(test_illegal_instruction),
        cmocka_unit_test(test_divide_by_zero),
        cmocka_unit_test(test_stack_overflow),
        cmocka_unit_test(test_panic),
        cmocka_unit_test(test_assert),
        cmocka_unit_test(test_hang_is_caught_by_heartbeat),
        cmocka_unit_test(test_external_kill_becomes_killed_record),
        cmocka_unit_test(test_recovery_off_stays_crashed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
