/*
 * fault.c - the C half of the core-1 fault path on the ESP32-S3: stack guard (canary +
 * DBREAK0 watchpoint), reason mapping, registers and backtrace into the shared crash
 * record, then CRASHED + doorbell (through the portable runtime) and halt.
 *
 * Entered from vectors.S on a private fault stack with the fault frame filled
 * (xt_frame.h) and, windowed, the register windows spilled when the faulting sp was
 * sane. Software faults (panic/assert) enter the same way: duet_arch_fatal stores the
 * reason and message, then executes ILL, so every crash record is made by one path.
 *
 * Must not change: nothing here may fault on a bad stack (every stack read is checked
 * against [stack limit, stack top]); code is read with aligned 32-bit loads only (the
 * IRAM alias faults on byte loads, facts §3.3).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/rt_arch.h"
#include "duet/shm.h"
#include "rt_priv.h"
#include "xt_priv.h"

static volatile uint32_t s_soft_reason; /* DUET_CRASH_* of a software fault, or 0 */
static const char *volatile s_soft_msg;

void duet_xt_stack_guard_init(void)
{
    uint32_t *g = (uint32_t *)(void *)_duet_stack_limit;
    for (unsigned i = 0; i < XT_STACK_GUARD / 4u; i++)
        g[i] = XT_STACK_CANARY;
    /* DBREAK0: any store into the 32 guard bytes raises a debug exception (level 6),
     * which vectors.S turns into a crash record with reason STACK_OVERFLOW. Mask as in
     * xt_utils_set_watchpoint (esp-idf components/xtensa/include/xt_utils.h). */
    uint32_t a = (uint32_t)(uintptr_t)_duet_stack_limit;
    uint32_t c = XT_DBREAKC_STOREBREAK | XT_DBREAKC_MASK_32B;
    __asm__ volatile("wsr %0, dbreaka0\n\twsr %1, dbreakc0\n\tdsync" ::"a"(a), "a"(c) : "memory");
}

static int canary_intact(void)
{
    const uint32_t *g = (const uint32_t *)(const void *)_duet_stack_limit;
    for (unsigned i = 0; i < XT_STACK_GUARD / 4u; i++)
        if (g[i] != XT_STACK_CANARY)
            return 0;
    return 1;
}

static int in_stack(uint32_t a, uint32_t len)
{
    uint32_t lo = (uint32_t)(uintptr_t)_duet_stack_limit;
    uint32_t hi = (uint32_t)(uintptr_t)_duet_stack_top;
    return a >= lo && a <= hi && len <= hi - a;
}

static int in_text(uint32_t a)
{
    return a >= (uint32_t)(uintptr_t)_duet_text_start && a < (uint32_t)(uintptr_t)_duet_text_end;
}

static uint32_t map_reason(const uint32_t *f, const char **msg)
{
    uint32_t kind = f[XF_KIND / 4], cause = f[XF_EXCCAUSE / 4];
    uint32_t sp = f[XF_A0 / 4 + 1];
    if (s_soft_reason != 0 && kind == XT_KIND_USER && cause == XT_EXCCAUSE_ILLEGAL) {
        *msg = s_soft_msg;
        return s_soft_reason;
    }
    /* The message says which check caught it: the watchpoint (a store into the guard),
     * a trampled canary, or sp itself below the guard at another fault. */
    if (kind == XT_KIND_DEBUG && (f[XF_DEBUGCAUSE / 4] & XT_DEBUGCAUSE_DBREAK) != 0) {
        *msg = "stack overflow: store into the guard (DBREAK0)";
        return DUET_CRASH_STACK_OVERFLOW;
    }
    if (!canary_intact()) {
        *msg = "stack overflow: guard canary overwritten";
        return DUET_CRASH_STACK_OVERFLOW;
    }
    if (sp < (uint32_t)(uintptr_t)_duet_stack_limit + XT_STACK_GUARD) {
        *msg = "stack overflow: sp below the stack limit";
        return DUET_CRASH_STACK_OVERFLOW;
    }
    switch (kind) {
    case XT_KIND_USER:
        break;
    case XT_KIND_DOUBLE:
        *msg = "double exception";
        return DUET_CRASH_DOUBLE;
    case XT_KIND_DEBUG:
        *msg = "debug exception";
        return DUET_CRASH_EXCEPTION;
    case XT_KIND_NMI:
        *msg = "NMI";
        return DUET_CRASH_EXCEPTION;
    case XT_KIND_LEVEL:
        *msg = "high-level interrupt";
        return DUET_CRASH_EXCEPTION;
    default:
        *msg = "unexpected vector";
        return DUET_CRASH_EXCEPTION;
    }
    switch (cause) {
    case XT_EXCCAUSE_ILLEGAL:
        return DUET_CRASH_ILLEGAL_INSN;
    case XT_EXCCAUSE_DIVIDE_BY_ZERO:
        return DUET_CRASH_DIV_ZERO;
    case XT_EXCCAUSE_LOAD_STORE_ERROR:
    case XT_EXCCAUSE_UNALIGNED:
    case XT_EXCCAUSE_LOAD_STORE_DATA_ERROR:
    case XT_EXCCAUSE_LOAD_STORE_ADDR_ERROR:
    case XT_EXCCAUSE_LOAD_PROHIBITED:
    case XT_EXCCAUSE_STORE_PROHIBITED:
        return DUET_CRASH_LOAD_STORE;
    default:
        return DUET_CRASH_EXCEPTION;
    }
}

#ifdef __XTENSA_WINDOWED_ABI__
/* Windowed: after the spill, frame i's caller a0/a1 sit at [sp_i - 16] / [sp_i - 12]
 * (the base save area). Return addresses carry the call increment in bits 31:30;
 * code lives at 0x40xxxxxx, and "- 3" points at the call instruction. */
static void backtrace(duet_crash_t *cr, const uint32_t *f)
{
    uint32_t ra = f[XF_A0 / 4], sp = f[XF_A0 / 4 + 1];
    int walk = f[XF_SPILLED / 4] != 0;
    while (ra != 0 && cr->cr_bt_count < DUET_CRASH_BT) {
        uint32_t pc = ((ra & 0x3FFFFFFFu) | 0x40000000u) - 3u;
        if (!in_text(pc))
            break;
        cr->cr_bt[cr->cr_bt_count++] = pc;
        if (!walk || (sp & 15u) != 0 || !in_stack(sp - 16u, 16u))
            break;
        const uint32_t *save = (const uint32_t *)(uintptr_t)(sp - 16u);
        ra = save[0];
        uint32_t next = save[1];
        if (next <= sp) /* frames only go up the stack: stop on a loop or garbage */
            break;
        sp = next;
    }
}
#else
/* One byte of code, read with an aligned word load (IRAM allows no byte loads). */
static uint32_t code_byte(uint32_t a)
{
    uint32_t w = *(const volatile uint32_t *)(uintptr_t)(a & ~3u);
    return (w >> ((a & 3u) * 8u)) & 0xFFu;
}

/* call0: no frame chain. a0 is the return address if the faulting function had not
 * reused it yet; then scan the stack for words that point just after a CALL0/CALLX0
 * in the program's code (best effort: stale return addresses can appear too). */
static int after_call(uint32_t ra)
{
    if (!in_text(ra - 3u))
        return 0;
    uint32_t b0 = code_byte(ra - 3u), b1 = code_byte(ra - 2u), b2 = code_byte(ra - 1u);
    if ((b0 & 0x3Fu) == 0x05u) /* CALL0: op0 = 5, n = 0 */
        return 1;
    return b0 == 0xC0u && (b1 & 0xF0u) == 0 && b2 == 0; /* CALLX0 as */
}

static void backtrace(duet_crash_t *cr, const uint32_t *f)
{
    uint32_t a0 = f[XF_A0 / 4], sp = f[XF_A0 / 4 + 1];
    if (after_call(a0))
        cr->cr_bt[cr->cr_bt_count++] = a0 - 3u;
    if ((sp & 3u) != 0)
        return;
    for (unsigned n = 0; n < 256u && in_stack(sp, 4u) && cr->cr_bt_count < DUET_CRASH_BT;
         n++, sp += 4u) {
        uint32_t w = *(const uint32_t *)(uintptr_t)sp;
        if (after_call(w))
            cr->cr_bt[cr->cr_bt_count++] = w - 3u;
    }
}
#endif

_Noreturn void duet_xt_fault(uint32_t *f)
{
    const char *msg = NULL;
    uint32_t reason = map_reason(f, &msg);
    duet_crash_t *cr = duet_rt_priv_crash_begin(reason, msg);
    /* EXCCAUSE belongs to level-1 exceptions; after a debug exception, NMI or
     * high-level interrupt it is a stale value, and the PC is that level's EPCn. */
    uint32_t kind = f[XF_KIND / 4];
    bool l1 = kind == XT_KIND_USER || kind == XT_KIND_KERNEL || kind == XT_KIND_DOUBLE;
#ifndef __XTENSA_WINDOWED_ABI__
    l1 = l1 || kind == XT_KIND_WINDOW;
#endif
    cr->cr_exccause = l1 ? f[XF_EXCCAUSE / 4] : DUET_CRASH_EXCCAUSE_NONE;
    cr->cr_pc = f[XF_PC / 4];
    cr->cr_excvaddr = f[XF_EXCVADDR / 4];
    cr->cr_ps = f[XF_PS / 4];
    cr->cr_sp = f[XF_A0 / 4 + 1];
    for (unsigned i = 0; i < DUET_CRASH_REGS; i++)
        cr->cr_a[i] = f[XF_A0 / 4 + i];
    cr->cr_bt_count = 0;
    if (in_text(cr->cr_pc))
        cr->cr_bt[cr->cr_bt_count++] = cr->cr_pc;
    backtrace(cr, f);
    if (cr->cr_build_id_len == 0) { /* crashed before the boot hand-shake */
        const uint8_t *id = NULL;
        unsigned n = duet_xt_build_id(&id);
        if (n > sizeof cr->cr_build_id)
            n = sizeof cr->cr_build_id;
        for (unsigned i = 0; i < n; i++)
            cr->cr_build_id[i] = id[i];
        cr->cr_build_id_len = (uint8_t)n;
    }
    duet_rt_priv_crash_commit(cr);
    duet_xt_halt();
}

_Noreturn void duet_arch_fatal(uint32_t reason, const char *msg)
{
    s_soft_msg = msg;
    s_soft_reason = reason;
    /* Take the one fault path (registers, spill, backtrace from here). */
    __asm__ volatile("ill" ::: "memory");
    duet_xt_halt();
}
