/*
 * xt_frame.h - layouts shared between the assembly (vectors.S) and C (fault.c, intr.c):
 * the fault frame the fatal vectors fill, and the level-1 interrupt save area.
 * Offsets are bytes; C mirrors them with _Static_assert in fault.c.
 * Must not change without changing both sides.
 */
#ifndef DUET_XT_FRAME_H
#define DUET_XT_FRAME_H

/* Fault frame (static, in .bss): filled by the fatal vectors before any C runs. */
#define XF_A0 0       /* a0..a15 at +0..+60 */
#define XF_KIND 64    /* XT_KIND_* */
#define XF_PC 68      /* EPC of the level that faulted (EPC1 for exceptions) */
#define XF_PS 72      /* PS (level 1/double) or EPS_n (levels 2..7) */
#define XF_EXCCAUSE 76
#define XF_EXCVADDR 80
#define XF_DEBUGCAUSE 84
#define XF_WINDOWBASE 88
#define XF_WINDOWSTART 92
#define XF_DEPC 96
#define XF_SPILLED 100 /* 1 if the register windows were spilled to the stack */
#define XF_SIZE 104

/* What entered the fatal path. */
#define XT_KIND_USER 1    /* user exception (not an interrupt) */
#define XT_KIND_KERNEL 2
#define XT_KIND_DOUBLE 3
#define XT_KIND_DEBUG 4   /* includes the stack watchpoint */
#define XT_KIND_NMI 5
#define XT_KIND_LEVEL 6   /* levels 2..5: +level-2 in XF_KIND high byte is not used */
#define XT_KIND_WINDOW 7  /* window vector in a call0 build: cannot happen (PS.WOE=0) */

/* Level-1 interrupt save area, on the interrupted stack at sp-ISR_FRAME (windowed: the 16
 * bytes just below the interrupted sp stay untouched, they are the caller's spill area). */
#define XI_A0 0 /* a0..a15 */
#define XI_PC 64
#define XI_PS 68
#define XI_SAR 72
#define XI_LBEG 76
#define XI_LEND 80
#define XI_LCOUNT 84
#define XI_SCOMPARE1 88
#define XI_SIZE 96
#define XI_FRAME 112 /* XI_SIZE + 16, multiple of 16 */

/* Private stack of the fault handler (bytes, multiple of 16). */
#define DUET_XT_FAULT_STACK 768

#endif /* DUET_XT_FRAME_H */
