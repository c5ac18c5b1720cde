/*
 * xt_asm.h - assembler-only helpers for the .S files of sdk/arch/xtensa.
 *
 * Special registers that exist on the ESP32-S3 but not on the lx106 (the CI compile
 * check), e.g. WINDOWBASE, CPENABLE, EPC6, are accessed through these macros, which emit
 * the standard Xtensa RSR/WSR encodings as bytes:
 *     RSR at, sr  = 0x03 sr t0     WSR at, sr = 0x13 sr t0     XSR at, sr = 0x61 sr t0
 * (RST0 format: op0 = 0, op1 = 3 (RSR/WSR) or 6 (XSR), op2 = 0 (RSR) or 1 (WSR/XSR);
 * 24-bit, little-endian). Checked against the lx106 assembler for SRs it knows:
 * rsr.exccause a3 = 03e830, wsr.intenable a5 = 13e450, rsr.depc a2 = 03c020,
 * wsr.ccompare0 a2 = 13f020, xsr.sar a2 = 610320, xsr.excsave1 a3 = 61d130. (Its objdump
 * prints SRs it does not know, e.g. WINDOWBASE, as "excw": the table lacks them, the
 * bytes are still the S3's.) The same bytes run on the S3 whichever ABI the
 * program uses, so the call0 build assembled in CI is the call0 build that runs.
 * Register arguments are numbers: XT_RSR 2, XT_SR_EPC1 means "rsr a2, epc1".
 */
#ifndef DUET_XT_ASM_H
#define DUET_XT_ASM_H

#include "duet/soc_esp32s3.h"
#include "xt_frame.h"

.macro XT_RSR t, sr
    .byte ((\t) << 4), (\sr), 0x03
.endm
.macro XT_WSR t, sr
    .byte ((\t) << 4), (\sr), 0x13
.endm
.macro XT_XSR t, sr
    .byte ((\t) << 4), (\sr), 0x61
.endm

#endif /* DUET_XT_ASM_H */
