/*
 * xt_asm.h - assembler-only helpers for the .S files of sdk/arch/xtensa.
 *
 * Special registers that exist on the ESP32-S3 but not on the lx106 (the CI compile
 * check), e.g. WINDOWBASE, CPENABLE, EPC6, are accessed through these macros, which emit
 * the standard Xtensa RSR/WSR encodings as bytes:
 *     RSR at, sr  = 0x03 sr t0     WSR at, sr = 0x13 sr t0     (24-bit, little-endian)
 * (encodings checked against the lx106 assembler for SRs it knows: rsr.exccause a3 =
 * 03e830, wsr.intenable a5 = 13e450). The same bytes run on the S3 whichever ABI the
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

#endif /* DUET_XT_ASM_H */
