/*
 * start.S - core-1 entry: the first instructions of a duet program on the ESP32-S3.
 *
 * The ROM enters _duet_start as a windowed call (callx8 observed on the S3 model, call4
 * on the classic ESP32), on the ROM APP-CPU stack, with VECBASE at the ROM vectors. The
 * code below depends on none of that: it masks interrupts, drops every ROM frame, takes
 * its own stack and vectors and then calls C (boot.c: .bss, .data, control block,
 * duet_main). Organisation: one function, straight-line, in the order of the start-up
 * contract (docs/core1-programs.md "Start-up"). Must not change: nothing may touch a
 * register window or the stack before WINDOWSTART/WINDOWBASE/a1 are reset; the first
 * C call is callx4 (windowed) so _WindowOverflow8/12 never read a parent frame we lack.
 */
#include "xt_asm.h"

    .section .text.duet_start, "ax"
    .global _duet_start
    .type _duet_start, @function
    .align 4
_duet_start:
    /* 1. Interrupts off: PS.INTLEVEL 15 masks every maskable level, INTENABLE = 0. */
    rsil    a2, 15
    movi    a2, 0
    wsr     a2, intenable
    /* Timer compare registers to 0 so no stale CCOMPARE interrupt stays pending. */
    XT_WSR  2, XT_SR_CCOMPARE(0)
    XT_WSR  2, XT_SR_CCOMPARE(1)
    XT_WSR  2, XT_SR_CCOMPARE(2)
    /* The stack watchpoint of a previous run must not fire during start-up. */
    wsr     a2, dbreakc0

    /* 2. Forget the ROM's register windows: WINDOWSTART = 1 (only frame 0 live),
     *    WINDOWBASE = 0. Values go into registers before WINDOWBASE moves (a2/a3 are
     *    undefined after the WSR until the RSYNC). Also done in call0 builds: the
     *    hardware still has windows and the ROM left them in use. */
    movi    a3, 1
    XT_WSR  3, XT_SR_WINDOWSTART
    XT_WSR  2, XT_SR_WINDOWBASE
    rsync

    /* 3. Own stack (16-byte aligned by the linker script), a0 = 0 ends backtraces. */
    movi    a0, 0
    movi    a1, _duet_stack_top

    /* 4. Own vector table (1 KiB aligned by the linker script). */
    movi    a2, _duet_vectors
    wsr     a2, vecbase
    isync

    /* 5. PS: user mode, no exception mode, level 0 (INTENABLE is 0, so nothing is
     *    taken until intr.c enables a line); window overflow detection only with the
     *    windowed ABI. Then the FPU (CP0) so float code cannot trap. */
#ifdef __XTENSA_WINDOWED_ABI__
    movi    a2, XT_PS_WOE | XT_PS_UM | XT_PS_INTLEVEL(0)
#else
    movi    a2, XT_PS_UM | XT_PS_INTLEVEL(0)
#endif
    wsr     a2, ps
    rsync
    movi    a2, XT_CPENABLE_FPU
    XT_WSR  2, XT_SR_CPENABLE
    rsync

    /* 6. Clear the boot-address word the ROM polled, so a later reset of core 1 waits
     *    in the ROM instead of re-entering this image (facts addendum). */
    movi    a2, 0
    movi    a3, DUET_S3_CORE_1_CONTROL_1_REG
    s32i    a2, a3, 0
    memw

    /* 7. C start-up (boot.c); it does not return, but halt anyway if it does. */
    movi    a2, duet_xt_boot
#ifdef __XTENSA_WINDOWED_ABI__
    callx4  a2
#else
    callx0  a2
#endif
    /* fall through */
    .size _duet_start, . - _duet_start

/* Halt for good: interrupts masked, wait forever. Used after EXITED, CRASHED and by a
 * fault inside the fault handler. waiti keeps core 1 quiet (no bus traffic). */
    .global duet_xt_halt
    .type duet_xt_halt, @function
    .align 4
duet_xt_halt:
    rsil    a2, 15
1:  waiti   15
    j       1b
    .size duet_xt_halt, . - duet_xt_halt
