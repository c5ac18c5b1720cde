/*
 * vectors.S - the program's own Xtensa vector table (VECBASE, 1 KiB aligned) and the
 * low-level halves of the fatal path and of level-1 interrupt dispatch.
 *
 * Organisation:
 *   .duet.vectors       the table; every slot at its core-isa.h offset (.org enforces
 *                       the 64-byte slots: an overlong slot fails to assemble)
 *   .text.duet_vectors  user-exception split (interrupt or fault), fatal stubs, the
 *                       common fatal path, level-1 interrupt save/dispatch/restore
 *
 * Windowed ABI (__XTENSA_WINDOWED_ABI__, xtensa-esp32s3-elf-gcc): real window
 * overflow/underflow handlers and the alloca (MOVSP) handler in the gap after
 * WindowUnderflow4; before calling C from an exception or interrupt the
 * register windows are spilled to the stack (the rotw/a12 walk), so C runs with only its
 * own frame live and a backtrace can walk the stack. Call0 ABI (lx106 CI check, or an S3
 * program built with -mabi=call0): PS.WOE stays 0, window slots are fatal stubs, no spill.
 *
 * Fatal path: enter exception mode (PS.EXCM = 1, so reading a4..a15 cannot raise a window
 * exception), save a0..a15 and the exception registers into duet_xt_fault_frame (no
 * stack used), disable the stack watchpoint, refuse re-entry (a fault inside the fault
 * path halts at once), switch to a private fault stack and call duet_xt_fault (fault.c),
 * which writes the crash record, sets CRASHED, rings core 0 and halts. Nothing returns.
 *
 * Must not change: slot offsets (hardware); the rule that nothing before the spill uses
 * a register above a3 or the stack; the save-area layout shared with xt_frame.h.
 */
#include "xt_asm.h"

    .section .duet.vectors, "ax"
    .balign 1024
    .global _duet_vector_table
_duet_vector_table:
    .begin  no-transform

#ifdef __XTENSA_WINDOWED_ABI__
/* Window handlers: the Xtensa ISA's canonical sequences. The frame being spilled is
 * a0..a3 (+a4..a7 / a4..a11); its callee's sp is a5 / a9 / a13; call8/call12 frames
 * keep their extra registers at the end of their own frame, found through the
 * caller-of-caller's sp saved at [a1 - 12]. */
    .org    XT_VECOFS_WINDOW_OF4
_duet_WindowOverflow4:
    s32e    a0, a5, -16
    s32e    a1, a5, -12
    s32e    a2, a5, -8
    s32e    a3, a5, -4
    rfwo
    .org    XT_VECOFS_WINDOW_UF4
_duet_WindowUnderflow4:
    l32e    a0, a5, -16
    l32e    a1, a5, -12
    l32e    a2, a5, -8
    l32e    a3, a5, -4
    rfwu

/* Alloca exception (EXCCAUSE 5, from .Luser_exception): MOVSP found the caller's frame
 * spilled, so its base save area sits below the OLD sp and would be lost when the sp
 * moves. Reload the caller's registers with the underflow handler of its call size
 * (found in bits 31:30 of the MOVSP function's a0), make RFWU return to the MOVSP
 * function's window (PS.OWB) and re-execute the MOVSP, which then succeeds. GCC emits
 * MOVSP for alloca() and variable-length arrays. In: a0 scratch (original in EXCSAVE1),
 * every other register as interrupted, PS.EXCM = 1. 45 bytes: fits before 0x80; the
 * BBCI targets are within their 8-bit reach only from here. */
_duet_alloca:
    XT_RSR  0, XT_SR_WINDOWBASE     /* WB of the MOVSP function */
    rotw    -1                      /* ... now its a4; a0..a3 are scratch (spilled caller) */
    rsr     a2, ps
    extui   a3, a2, 8, 4            /* PS.OWB (corebits.h PS_OWB_SHIFT 8, 4 bits) */
    xor     a3, a3, a4
    slli    a3, a3, 8
    xor     a2, a2, a3              /* PS.OWB := that WB */
    wsr     a2, ps
    rsync
    XT_RSR  4, XT_SR_EXCSAVE1       /* the MOVSP function's a0: caller's call size */
    bbci.l  a4, 31, _duet_WindowUnderflow4  /* 01: call4 */
    rotw    -1
    bbci.l  a8, 30, _duet_WindowUnderflow8  /* 10: call8 */
    rotw    -1
    j       _duet_WindowUnderflow12         /* 11: call12 */
    .org    XT_VECOFS_WINDOW_OF8
_duet_WindowOverflow8:
    s32e    a0, a9, -16
    l32e    a0, a1, -12
    s32e    a1, a9, -12
    s32e    a2, a9, -8
    s32e    a3, a9, -4
    s32e    a4, a0, -32
    s32e    a5, a0, -28
    s32e    a6, a0, -24
    s32e    a7, a0, -20
    rfwo
    .org    XT_VECOFS_WINDOW_UF8
_duet_WindowUnderflow8:
    l32e    a0, a9, -16
    l32e    a1, a9, -12
    l32e    a2, a9, -8
    l32e    a7, a1, -12
    l32e    a3, a9, -4
    l32e    a4, a7, -32
    l32e    a5, a7, -28
    l32e    a6, a7, -24
    l32e    a7, a7, -20
    rfwu
    .org    XT_VECOFS_WINDOW_OF12
_duet_WindowOverflow12:
    s32e    a0, a13, -16
    l32e    a0, a1, -12
    s32e    a1, a13, -12
    s32e    a2, a13, -8
    s32e    a3, a13, -4
    s32e    a4, a0, -48
    s32e    a5, a0, -44
    s32e    a6, a0, -40
    s32e    a7, a0, -36
    s32e    a8, a0, -32
    s32e    a9, a0, -28
    s32e    a10, a0, -24
    s32e    a11, a0, -20
    rfwo
    .org    XT_VECOFS_WINDOW_UF12
_duet_WindowUnderflow12:
    l32e    a0, a13, -16
    l32e    a1, a13, -12
    l32e    a2, a13, -8
    l32e    a11, a1, -12
    l32e    a3, a13, -4
    l32e    a4, a11, -48
    l32e    a5, a11, -44
    l32e    a6, a11, -40
    l32e    a7, a11, -36
    l32e    a8, a11, -32
    l32e    a9, a11, -28
    l32e    a10, a11, -24
    l32e    a11, a11, -20
    rfwu
#else
/* call0: PS.WOE is 0, so these slots are unreachable; if one is ever taken it is a
 * fault, reported as such. */
    .org    XT_VECOFS_WINDOW_OF4
    XT_WSR  0, XT_SR_EXCSAVE1
    j       .Lfatal_window
    .org    XT_VECOFS_WINDOW_UF4
    XT_WSR  0, XT_SR_EXCSAVE1
    j       .Lfatal_window
    .org    XT_VECOFS_WINDOW_OF8
    XT_WSR  0, XT_SR_EXCSAVE1
    j       .Lfatal_window
    .org    XT_VECOFS_WINDOW_UF8
    XT_WSR  0, XT_SR_EXCSAVE1
    j       .Lfatal_window
    .org    XT_VECOFS_WINDOW_OF12
    XT_WSR  0, XT_SR_EXCSAVE1
    j       .Lfatal_window
    .org    XT_VECOFS_WINDOW_UF12
    XT_WSR  0, XT_SR_EXCSAVE1
    j       .Lfatal_window
#endif

/* Levels 2..5, debug (6) and NMI (7): nothing in duet routes a source to them, so any
 * entry is fatal. The debug vector is how the stack watchpoint (DBREAK) reports. */
    .org    XT_VECOFS_LEVEL2
    XT_WSR  0, XT_SR_EXCSAVE(2)
    j       .Lfatal_level2
    .org    XT_VECOFS_LEVEL3
    XT_WSR  0, XT_SR_EXCSAVE(3)
    j       .Lfatal_level3
    .org    XT_VECOFS_LEVEL4
    XT_WSR  0, XT_SR_EXCSAVE(4)
    j       .Lfatal_level4
    .org    XT_VECOFS_LEVEL5
    XT_WSR  0, XT_SR_EXCSAVE(5)
    j       .Lfatal_level5
    .org    XT_VECOFS_DEBUG
    XT_WSR  0, XT_SR_EXCSAVE(XT_DEBUG_LEVEL)
    j       .Lfatal_debug
    .org    XT_VECOFS_NMI
    XT_WSR  0, XT_SR_EXCSAVE(XT_NMI_LEVEL)
    j       .Lfatal_nmi
    .org    XT_VECOFS_KERNEL
    XT_WSR  0, XT_SR_EXCSAVE1
    j       .Lfatal_kernel
    .org    XT_VECOFS_USER
    XT_WSR  0, XT_SR_EXCSAVE1
    j       .Luser_exception
    .org    XT_VECOFS_DOUBLE
    XT_WSR  0, XT_SR_EXCSAVE1
    j       .Lfatal_double
    .org    0x400
    .end    no-transform

/* ------------------------------------------------------------------------------------ */
/* .text.duet_ram.*: RAM-resident in every layout (XIP scripts keep it in the window):
 * the level-1 path answers the flash lockout's park request while the cache is off. */
    .section .text.duet_ram.vectors, "ax"
    .align  4

/* User exception: EXCCAUSE 4 is a level-1 interrupt, 5 (windowed) an alloca, everything
 * else is fatal. */
.Luser_exception:
    rsr     a0, exccause
    beqi    a0, XT_EXCCAUSE_LEVEL1_INTERRUPT, .Llevel1
#ifdef __XTENSA_WINDOWED_ABI__
    bnei    a0, XT_EXCCAUSE_ALLOCA, .Lfatal_user
    j       _duet_alloca
#endif

/* Fatal entries. Each one: a0 = frame, save a2 (frees it), a2 = kind. Level-1 class
 * entries (user, kernel, double, call0 window slots) share the EXCSAVE1/EPC1/PS reads
 * (.Lfatal_l1); levels 2..7 read their own EXCSAVEn/EPCn/EPSn (FATAL_HI) and share the
 * rest (.Lfatal_hi). Before .Lfatal_common only a0..a3 are used. */
.macro FATAL_L1 label, kind
\label:
    movi    a0, duet_xt_fault_frame
    s32i    a2, a0, XF_A0 + 8
    movi    a2, \kind
    j       .Lfatal_l1
.endm
.macro FATAL_HI label, kind, level
\label:
    movi    a0, duet_xt_fault_frame
    s32i    a2, a0, XF_A0 + 8
    XT_RSR  2, XT_SR_EXCSAVE(\level)
    s32i    a2, a0, XF_A0
    XT_RSR  2, XT_SR_EPC(\level)
    s32i    a2, a0, XF_PC
    XT_RSR  2, XT_SR_EPS(\level)
    s32i    a2, a0, XF_PS
    movi    a2, \kind
    j       .Lfatal_hi
.endm

    FATAL_L1 .Lfatal_user,   XT_KIND_USER
    FATAL_L1 .Lfatal_kernel, XT_KIND_KERNEL
    FATAL_L1 .Lfatal_double, XT_KIND_DOUBLE
#ifndef __XTENSA_WINDOWED_ABI__
    FATAL_L1 .Lfatal_window, XT_KIND_WINDOW
#endif
    FATAL_HI .Lfatal_level2, XT_KIND_LEVEL, 2
    FATAL_HI .Lfatal_level3, XT_KIND_LEVEL, 3
    FATAL_HI .Lfatal_level4, XT_KIND_LEVEL, 4
    FATAL_HI .Lfatal_level5, XT_KIND_LEVEL, 5
    FATAL_HI .Lfatal_debug,  XT_KIND_DEBUG, XT_DEBUG_LEVEL
    FATAL_HI .Lfatal_nmi,    XT_KIND_NMI,   XT_NMI_LEVEL

.Lfatal_l1:
    s32i    a2, a0, XF_KIND
    XT_RSR  2, XT_SR_EXCSAVE1
    s32i    a2, a0, XF_A0
    rsr     a2, epc1
    s32i    a2, a0, XF_PC
    rsr     a2, ps
    s32i    a2, a0, XF_PS
    j       .Lfatal_common
.Lfatal_hi:
    s32i    a2, a0, XF_KIND
    /* fall through */

/* Common fatal path. In: a0 = &duet_xt_fault_frame, a2 saved. */
.Lfatal_common:
    s32i    a1, a0, XF_A0 + 4
    s32i    a3, a0, XF_A0 + 12
    /* Exception mode with everything maskable masked BEFORE a4..a15 are read: levels
     * 2..7 enter with PS.EXCM as interrupted (usually 0) and PS.WOE = 1, and a read of
     * a4..a15 could then raise a window overflow that spills through an unchecked (in a
     * stack overflow: out-of-window) sp. With EXCM = 1 no window exception is raised. */
    movi    a2, XT_PS_EXCM | XT_PS_INTLEVEL(15)
    wsr     a2, ps
    rsync
    s32i    a4, a0, XF_A0 + 16
    s32i    a5, a0, XF_A0 + 20
    s32i    a6, a0, XF_A0 + 24
    s32i    a7, a0, XF_A0 + 28
    s32i    a8, a0, XF_A0 + 32
    s32i    a9, a0, XF_A0 + 36
    s32i    a10, a0, XF_A0 + 40
    s32i    a11, a0, XF_A0 + 44
    s32i    a12, a0, XF_A0 + 48
    s32i    a13, a0, XF_A0 + 52
    s32i    a14, a0, XF_A0 + 56
    s32i    a15, a0, XF_A0 + 60
    rsr     a2, exccause
    s32i    a2, a0, XF_EXCCAUSE
    rsr     a2, excvaddr
    s32i    a2, a0, XF_EXCVADDR
    rsr     a2, debugcause
    s32i    a2, a0, XF_DEBUGCAUSE
    XT_RSR  2, XT_SR_WINDOWBASE
    s32i    a2, a0, XF_WINDOWBASE
    XT_RSR  2, XT_SR_WINDOWSTART
    s32i    a2, a0, XF_WINDOWSTART
    XT_RSR  2, XT_SR_DEPC
    s32i    a2, a0, XF_DEPC
    movi    a2, 0
    s32i    a2, a0, XF_SPILLED
    /* The watchpoint off: the spill and the handler may write near the stack limit. */
    wsr     a2, dbreakc0
    /* Re-entry guard: a fault while handling a fault halts at once (core 0 then sees
     * the heartbeat stop: HUNG). */
    movi    a3, duet_xt_fault_depth
    l32i    a2, a3, 0
    addi    a2, a2, 1
    s32i    a2, a3, 0
    beqi    a2, 1, 1f
    j       duet_xt_halt
1:
#ifdef __XTENSA_WINDOWED_ABI__
    /* Spill the live windows to their stack frames so fault.c can walk them, but only
     * when [a1 - 16, a1] lies inside the program stack (a spill through a wild sp would
     * write outside the window: core 0's heap), and not after a double exception (the
     * window machinery itself faulted: spilling again would re-fault). */
    l32i    a2, a0, XF_KIND
    beqi    a2, XT_KIND_DOUBLE, 2f
    movi    a3, _duet_stack_limit
    addi    a2, a1, -16
    bltu    a2, a3, 2f
    movi    a3, _duet_stack_top
    bltu    a3, a1, 2f
    /* Overflow exceptions need EXCM = 0 and WOE = 1 (xtensa_context.S, SPILL_ALL_WINDOWS). */
    movi    a2, XT_PS_WOE | XT_PS_UM | XT_PS_INTLEVEL(15)
    wsr     a2, ps
    rsync
    and     a12, a12, a12
    rotw    3
    and     a12, a12, a12
    rotw    3
    and     a12, a12, a12
    rotw    3
    and     a12, a12, a12
    rotw    3
    and     a12, a12, a12
    rotw    4
    movi    a0, duet_xt_fault_frame
    movi    a2, 1
    s32i    a2, a0, XF_SPILLED
2:
    /* Whatever is still live (no spill) is dropped: only this frame remains, so the C
     * handler's calls can never spill through a bad sp. */
    XT_RSR  2, XT_SR_WINDOWBASE
    movi    a3, 1
    ssl     a2
    sll     a3, a3
    XT_WSR  3, XT_SR_WINDOWSTART
    movi    a2, XT_PS_WOE | XT_PS_UM | XT_PS_INTLEVEL(15)
    wsr     a2, ps
    rsync
    movi    a1, duet_xt_fault_stack_top
    movi    a0, 0
    movi    a6, duet_xt_fault_frame
    movi    a2, duet_xt_fault
    callx4  a2
#else
    movi    a2, XT_PS_UM | XT_PS_INTLEVEL(15)
    wsr     a2, ps
    rsync
    movi    a1, duet_xt_fault_stack_top
    movi    a2, duet_xt_fault_frame
    movi    a3, duet_xt_fault
    callx0  a3
#endif
    j       duet_xt_halt

/* Level-1 interrupt. In: a0 scratch (original in EXCSAVE1), a1 = interrupted sp,
 * PS.EXCM = 1. Save area at [sp - XI_FRAME, sp - 16). */
.Llevel1:
    addi    a0, a1, -XI_FRAME
    s32i    a1, a0, XI_A0 + 4
    s32i    a2, a0, XI_A0 + 8
    s32i    a3, a0, XI_A0 + 12
    XT_RSR  2, XT_SR_EXCSAVE1
    s32i    a2, a0, XI_A0
    rsr     a2, epc1
    s32i    a2, a0, XI_PC
    rsr     a2, ps
    s32i    a2, a0, XI_PS
#ifdef __XTENSA_WINDOWED_ABI__
    /* Leave exception mode with level 1 masked, then spill every older frame while a1
     * still holds the interrupted sp (the spill addresses derive from it). */
    movi    a2, XT_PS_WOE | XT_PS_UM | XT_PS_INTLEVEL(1)
    wsr     a2, ps
    rsync
    and     a12, a12, a12
    rotw    3
    and     a12, a12, a12
    rotw    3
    and     a12, a12, a12
    rotw    3
    and     a12, a12, a12
    rotw    3
    and     a12, a12, a12
    rotw    4
#else
    movi    a2, XT_PS_UM | XT_PS_INTLEVEL(1)
    wsr     a2, ps
    rsync
#endif
    /* a4..a11 always; a12..a15 only windowed: callx4 hands them to the callee as its
     * a8..a11, while a call0 C function preserves a12..a15 itself (callee-saved). */
    s32i    a4, a0, XI_A0 + 16
    s32i    a5, a0, XI_A0 + 20
    s32i    a6, a0, XI_A0 + 24
    s32i    a7, a0, XI_A0 + 28
    s32i    a8, a0, XI_A0 + 32
    s32i    a9, a0, XI_A0 + 36
    s32i    a10, a0, XI_A0 + 40
    s32i    a11, a0, XI_A0 + 44
#ifdef __XTENSA_WINDOWED_ABI__
    s32i    a12, a0, XI_A0 + 48
    s32i    a13, a0, XI_A0 + 52
    s32i    a14, a0, XI_A0 + 56
    s32i    a15, a0, XI_A0 + 60
#endif
    rsr     a2, sar
    s32i    a2, a0, XI_SAR
    XT_RSR  2, XT_SR_LBEG
    s32i    a2, a0, XI_LBEG
    XT_RSR  2, XT_SR_LEND
    s32i    a2, a0, XI_LEND
    /* LCOUNT is saved AND zeroed (as xtensa_context.S does with XSR): with the
     * interrupted loop's count still live, handler code that runs through the
     * interrupted LEND address (e.g. memcpy, interrupted inside memcpy) would jump back
     * to the interrupted LBEG. */
    movi    a2, 0
    XT_XSR  2, XT_SR_LCOUNT
    s32i    a2, a0, XI_LCOUNT
    XT_RSR  2, XT_SR_SCOMPARE1
    s32i    a2, a0, XI_SCOMPARE1
    mov     a1, a0
    movi    a2, duet_xt_intr_dispatch
#ifdef __XTENSA_WINDOWED_ABI__
    callx4  a2
#else
    callx0  a2
#endif
    /* Restore. a1 = save area (kept by both ABIs). Exception mode first, so nothing
     * can interrupt the restore, then EPC1 and the rest; a1 last. */
    l32i    a2, a1, XI_PS
    wsr     a2, ps
    rsync
    l32i    a2, a1, XI_PC
    wsr     a2, epc1
    l32i    a2, a1, XI_SAR
    wsr     a2, sar
    l32i    a2, a1, XI_LBEG
    XT_WSR  2, XT_SR_LBEG
    l32i    a2, a1, XI_LEND
    XT_WSR  2, XT_SR_LEND
    l32i    a2, a1, XI_LCOUNT
    XT_WSR  2, XT_SR_LCOUNT
    l32i    a2, a1, XI_SCOMPARE1
    XT_WSR  2, XT_SR_SCOMPARE1
    l32i    a0, a1, XI_A0
    l32i    a2, a1, XI_A0 + 8
    l32i    a3, a1, XI_A0 + 12
    l32i    a4, a1, XI_A0 + 16
    l32i    a5, a1, XI_A0 + 20
    l32i    a6, a1, XI_A0 + 24
    l32i    a7, a1, XI_A0 + 28
    l32i    a8, a1, XI_A0 + 32
    l32i    a9, a1, XI_A0 + 36
    l32i    a10, a1, XI_A0 + 40
    l32i    a11, a1, XI_A0 + 44
#ifdef __XTENSA_WINDOWED_ABI__
    l32i    a12, a1, XI_A0 + 48
    l32i    a13, a1, XI_A0 + 52
    l32i    a14, a1, XI_A0 + 56
    l32i    a15, a1, XI_A0 + 60
#endif
    l32i    a1, a1, XI_A0 + 4
    rfe

/* ---- data the vectors use (never on the program stack) ------------------------------ */
    .section .bss.duet_fault, "aw", @nobits
    .align  16
    .global duet_xt_fault_frame
duet_xt_fault_frame:
    .space  XF_SIZE
    .global duet_xt_fault_depth
duet_xt_fault_depth:
    .space  4
    .align  16
duet_xt_fault_stack:
    .space  DUET_XT_FAULT_STACK
    .global duet_xt_fault_stack_top
duet_xt_fault_stack_top:
