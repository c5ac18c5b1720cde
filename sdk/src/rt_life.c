/*
 * rt_life.c - liveness and the program's life cycle on core 1 (portable part):
 * boot/exit hand-shake with core 0, heartbeat, progress, stop request, panic/assert,
 * and the portable half of the crash record.
 *
 * Organisation: boot/exit first, then the app.h liveness calls, then faults.
 * Must not change: the order of the shared-memory writes (c1_epoch before c1_state;
 * cr_magic last), which core 0 relies on to read a consistent view.
 */
#include <string.h>

#include "duet/app.h"
#include "duet/xip.h"
#include "rt_priv.h"

uint32_t duet_rt_priv_epoch;
static duet_shm_ctrl_t *s_ctrl;
static uint64_t s_boot_us;
/* XIP park hook (duet/xip.h): set by the program thread, read by the park handler that
 * interrupts it, so a plain pointer-sized store/load is enough (atomics keep TSan and
 * the compiler honest). */
static void (*s_park_hook)(void);

void duet_set_park_hook(duet_park_hook_t hook)
{
    __atomic_store_n(&s_park_hook, hook, __ATOMIC_RELEASE);
}

/* Called from the park loop while flash is off: RAM-resident in every layout (the XIP
 * linker scripts keep .text.duet_ram.* in the window). */
#define PARK_RAM __attribute__((section(".text.duet_ram.park_hook"), noinline))
PARK_RAM void (*duet_rt_priv_park_hook(void))(void)
{
    return __atomic_load_n(&s_park_hook, __ATOMIC_ACQUIRE);
}

duet_err_t duet_rt_priv_boot(const uint8_t *build_id, unsigned build_id_len)
{
    size_t size = 0;
    duet_shm_ctrl_t *c = duet_arch_shm(&size);
    if (c == NULL)
        return DUET_ERR_INVAL;
    DUET_TRY(duet_shm_check(c, size));
    uint32_t epoch = duet_rt_ld(&c->sc_epoch);
    if (epoch == 0)
        return DUET_ERR_STATE; /* core 0 always stamps a non-zero epoch before a start */
    s_ctrl = c;
    s_boot_us = duet_arch_time_us();
    duet_rt_priv_epoch = epoch;
    duet_rt_st(&c->sc_c1_state, DUET_C1_BOOTING);
    DUET_TRY(duet_rt_priv_log_attach(c, size, epoch));

    if (build_id_len > sizeof c->sc_build_id)
        build_id_len = sizeof c->sc_build_id;
    memset(c->sc_build_id, 0, sizeof c->sc_build_id);
    if (build_id != NULL && build_id_len > 0)
        memcpy(c->sc_build_id, build_id, build_id_len);
    c->sc_build_id_len = (uint8_t)build_id_len;
    duet_rt_st(&c->sc_c1_cpu_hz, 0); /* the arch code may overwrite it after boot */
    duet_rt_st(&c->sc_heartbeat, 0);
    duet_rt_st(&c->sc_progress, 0);
    /* Ack the epoch first: core 0 treats RUNNING with a foreign c1_epoch as stale. */
    duet_rt_st(&c->sc_c1_epoch, epoch);
    duet_rt_st(&c->sc_c1_state, DUET_C1_RUNNING);
    return DUET_OK;
}

void duet_rt_priv_exit(void)
{
    if (s_ctrl == NULL)
        return;
    duet_rt_st(&s_ctrl->sc_c1_state, DUET_C1_EXITED);
    duet_rt_doorbell_ring();
}

/* ---- liveness ----------------------------------------------------------------------- */

duet_shm_ctrl_t *duet_rt_ctrl(void)
{
    return s_ctrl;
}

uint32_t duet_rt_epoch(void)
{
    return duet_rt_priv_epoch;
}

void duet_rt_heartbeat(void)
{
    if (s_ctrl == NULL)
        return;
    /* Single writer: a plain load + release store is enough (no RMW atomics on lx106). */
    uint32_t hb = __atomic_load_n(&s_ctrl->sc_heartbeat, __ATOMIC_RELAXED);
    duet_rt_st(&s_ctrl->sc_heartbeat, hb + 1u);
}

void duet_rt_progress(uint32_t value)
{
    if (s_ctrl != NULL)
        duet_rt_st(&s_ctrl->sc_progress, value);
}

int duet_rt_should_stop(void)
{
    if (s_ctrl == NULL)
        return 0;
    return (duet_rt_ld(&s_ctrl->sc_c0_cmd) & DUET_CMD_STOP) != 0;
}

/* ---- faults ------------------------------------------------------------------------- */

duet_crash_t *duet_rt_priv_crash_begin(uint32_t reason, const char *msg)
{
    static duet_crash_t s_scratch; /* before boot there is no shared record to fill */
    duet_crash_t *cr = s_ctrl != NULL ? &s_ctrl->sc_crash : &s_scratch;
    duet_rt_st(&cr->cr_magic, 0); /* invalidate first: core 0 must never see half a record */
    memset((uint8_t *)cr + sizeof cr->cr_magic, 0, sizeof *cr - sizeof cr->cr_magic);
    cr->cr_epoch = duet_rt_priv_epoch;
    cr->cr_reason = reason;
    cr->cr_uptime_us = (uint32_t)(duet_arch_time_us() - s_boot_us);
    if (s_ctrl != NULL) {
        uint8_t n = s_ctrl->sc_build_id_len;
        if (n > sizeof cr->cr_build_id)
            n = sizeof cr->cr_build_id;
        memcpy(cr->cr_build_id, s_ctrl->sc_build_id, n);
        cr->cr_build_id_len = n;
    }
    if (msg != NULL) {
        size_t i = 0;
        for (; msg[i] != '\0' && i + 1 < sizeof cr->cr_msg; i++)
            cr->cr_msg[i] = msg[i];
        cr->cr_msg[i] = '\0';
    }
    return cr;
}

void duet_rt_priv_crash_commit(duet_crash_t *cr)
{
    duet_rt_st(&cr->cr_magic, DUET_CRASH_MAGIC);
    if (s_ctrl == NULL)
        return;
    duet_rt_st(&s_ctrl->sc_c1_state, DUET_C1_CRASHED);
    duet_rt_doorbell_ring();
}

_Noreturn void duet_rt_panic(const char *msg)
{
    duet_arch_fatal(DUET_CRASH_PANIC, msg != NULL ? msg : "panic");
}

_Noreturn void duet_rt_assert_fail(const char *file, int line, const char *expr)
{
    char msg[DUET_CRASH_MSG_LEN];
    /* Keep the end of the path: the file name matters more than the directories. */
    size_t n = file != NULL ? strlen(file) : 0;
    const char *base = file;
    for (size_t i = 0; i < n; i++)
        if (file[i] == '/' || file[i] == '\\')
            base = file + i + 1;
    duet_rt_priv_snprintf(msg, sizeof msg, "%s:%d %s", base != NULL ? base : "?", line,
                          expr != NULL ? expr : "");
    duet_arch_fatal(DUET_CRASH_ASSERT, msg);
}
