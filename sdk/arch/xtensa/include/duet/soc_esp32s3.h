/*
 * duet/soc_esp32s3.h - every ESP32-S3 register address, bit, special-register number,
 * interrupt number and vector offset the core-1 SDK (sdk/arch/xtensa) uses, each with
 * the ESP-IDF file it was checked against. Usable from C and from assembly (.S).
 *
 * Checked against a git snapshot of espressif/esp-idf at tags v5.0 and v5.5 (and v5.4
 * for the Xtensa/HAL files); the values are identical in every tag checked. Paths:
 *   SOC  = components/soc/esp32s3/include/soc/ (v5.0) or .../register/soc/ (v5.1+)
 *   XT   = components/xtensa/include/xtensa/   (specreg.h, corebits.h)
 *   ISA  = components/xtensa/esp32s3/include/xtensa/config/core-isa.h
 *
 * Must not change: these are hardware facts. Add a new define with its source; never
 * edit a value without re-checking it in ESP-IDF. Nothing here is read from ESP-IDF at
 * build time (the SDK must build without ESP-IDF).
 */
#ifndef DUET_SOC_ESP32S3_H
#define DUET_SOC_ESP32S3_H

/* ---- memory map ----------------------------------------------------------------------
 * SOC soc.h: SOC_I_D_OFFSET 0x6F0000 (IRAM alias = DRAM alias + offset);
 * SOC_DIRAM_DRAM_LOW 0x3FC88000, SOC_DIRAM_DRAM_HIGH 0x3FCF0000. */
#define DUET_S3_I_D_OFFSET      0x6F0000u
#define DUET_S3_DIRAM_DRAM_LOW  0x3FC88000u
#define DUET_S3_DIRAM_DRAM_HIGH 0x3FCF0000u
/* Default core-1 window (DRAM alias), esp32s3-facts §1.3: safe from IDF v5.0 to v5.5,
 * [0x3FCDC700, 0x3FCE9710): above every version's SRAM_IRAM_END (memory.ld.in) and
 * below APP_USABLE_DRAM_END (heap/port/esp32s3/memory_layout.c). */
#define DUET_S3_WINDOW_BASE 0x3FCDC700u
#define DUET_S3_WINDOW_SIZE 0x0000D010u

/* Flash/PSRAM cache buses (SOC ext_mem_defs.h SOC_IRAM0_CACHE_ADDRESS_LOW/HIGH,
 * SOC_DRAM0_CACHE_ADDRESS_LOW/HIGH): XIP code runs from IBUS, its .rodata is read through
 * the DBUS alias of the same MMU pages (esp32s3-facts §3.1, §3.3). */
#define DUET_S3_IBUS_LO 0x42000000u
#define DUET_S3_IBUS_HI 0x44000000u
#define DUET_S3_DBUS_LO 0x3C000000u
#define DUET_S3_DBUS_HI 0x3E000000u

/* ---- SYSTEM (core control, cross-core interrupts) ------------------------------------
 * SOC reg_base.h: DR_REG_SYSTEM_BASE 0x600C0000.
 * SOC system_reg.h: SYSTEM_CORE_1_CONTROL_1_REG (DR_REG_SYSTEM_BASE + 0x4): the word the
 *   ROM polls for the APP-CPU boot address (esp_system/port/soc/esp32s3/system_internal.c
 *   clears it "Clear entry point for APP CPU").
 * SOC system_reg.h: SYSTEM_CPU_INTR_FROM_CPU_n_REG = base + 0x30 + 4n, bit 0 raises the
 *   FROM_CPU_INTRn source (write 1 raise, write 0 clear). */
#define DUET_S3_SYSTEM_BASE              0x600C0000u
#define DUET_S3_CORE_1_CONTROL_1_REG     (DUET_S3_SYSTEM_BASE + 0x4u)
#define DUET_S3_CPU_INTR_FROM_CPU_REG(n) (DUET_S3_SYSTEM_BASE + 0x30u + 4u * (n))
#define DUET_S3_CPU_INTR_FROM_CPU_BIT    0x1u

/* ---- interrupt matrix, core-1 half ---------------------------------------------------
 * SOC reg_base.h: DR_REG_INTERRUPT_BASE 0x600C2000; interrupt_core1_reg.h:
 *   DR_REG_INTERRUPT_CORE1_BASE = DR_REG_INTERRUPT_BASE, and the map register of source
 *   s is at +0x800 + 4*s (INTERRUPT_CORE1_SYSTIMER_TARGET0_INT_MAP_REG +0x8E4 = source 57,
 *   INTERRUPT_CORE1_CPU_INTR_FROM_CPU_0_MAP_REG +0x93C = source 79).
 * SOC interrupts.h (v5.4/v5.5 enum): ETS_FROM_CPU_INTR0..3_SOURCE = 79..82 (cross-checked
 *   with the map-register offsets above), ETS_MAX_INTR_SOURCE = 99.
 * esp_hw_support/port/esp32s3/esp_cpu_intr.c: CPU interrupt 6 is the internal timer 0 and
 *   is what IDF routes a source to in order to "unroute" it (ETS_INVALID_INUM 6). */
#define DUET_S3_INTERRUPT_BASE          0x600C2000u
#define DUET_S3_INTR_CORE1_MAP_REG(src) (DUET_S3_INTERRUPT_BASE + 0x800u + 4u * (src))
#define DUET_S3_INTR_SRC_FROM_CPU(n)    (79u + (n))
#define DUET_S3_INTR_SRC_COUNT          99u
#define DUET_S3_INTR_INVALID_INUM       6u

/* ---- SYSTIMER (read-only use of counter 0) -------------------------------------------
 * SOC reg_base.h: DR_REG_SYSTIMER_BASE 0x60023000. systimer_reg.h:
 *   SYSTIMER_UNIT0_OP_REG +0x04: bit 30 TIMER_UNIT0_UPDATE (write 1: snapshot),
 *                                bit 29 TIMER_UNIT0_VALUE_VALID (snapshot ready);
 *   SYSTIMER_UNIT0_VALUE_HI_REG +0x40 (bits 19:0), SYSTIMER_UNIT0_VALUE_LO_REG +0x44.
 * hal/esp32s3/include/hal/systimer_ll.h: snapshot = set UPDATE, poll VALID, read HI/LO.
 * soc_caps.h / facts §6: the counter runs at a fixed 16 MHz. */
#define DUET_S3_SYSTIMER_BASE               0x60023000u
#define DUET_S3_SYSTIMER_UNIT0_OP_REG       (DUET_S3_SYSTIMER_BASE + 0x04u)
#define DUET_S3_SYSTIMER_UNIT0_UPDATE       (1u << 30)
#define DUET_S3_SYSTIMER_UNIT0_VALUE_VALID  (1u << 29)
#define DUET_S3_SYSTIMER_UNIT0_VALUE_HI_REG (DUET_S3_SYSTIMER_BASE + 0x40u)
#define DUET_S3_SYSTIMER_UNIT0_VALUE_LO_REG (DUET_S3_SYSTIMER_BASE + 0x44u)
#define DUET_S3_SYSTIMER_VALUE_HI_MASK      0x000FFFFFu
#define DUET_S3_SYSTIMER_TICKS_PER_US       16u

/* ---- Xtensa special registers (XT specreg.h) ------------------------------------------ */
#define XT_SR_LBEG        0
#define XT_SR_LEND        1
#define XT_SR_LCOUNT      2
#define XT_SR_SAR         3
#define XT_SR_SCOMPARE1   12
#define XT_SR_WINDOWBASE  72
#define XT_SR_WINDOWSTART 73
#define XT_SR_DBREAKA0    144
#define XT_SR_DBREAKC0    160
#define XT_SR_EPC1        177
#define XT_SR_EPC(n)      (176 + (n)) /* EPC_2..EPC_7 = 178..183 */
#define XT_SR_DEPC        192
#define XT_SR_EPS(n)      (192 + (n)) /* EPS_2..EPS_7 = 194..199 */
#define XT_SR_EXCSAVE1    209
#define XT_SR_EXCSAVE(n)  (208 + (n)) /* EXCSAVE_2..EXCSAVE_7 = 210..215 */
#define XT_SR_CPENABLE    224
#define XT_SR_INTERRUPT   226
#define XT_SR_INTCLEAR    227
#define XT_SR_INTENABLE   228
#define XT_SR_PS          230
#define XT_SR_VECBASE     231
#define XT_SR_EXCCAUSE    232
#define XT_SR_DEBUGCAUSE  233
#define XT_SR_CCOUNT      234
#define XT_SR_EXCVADDR    238
#define XT_SR_CCOMPARE(n) (240 + (n)) /* 3 timers on the S3 (ISA XCHAL_NUM_TIMERS 3) */

/* PS fields (XT corebits.h). */
#define XT_PS_INTLEVEL(n) ((n)&0xF)
#define XT_PS_EXCM        0x00000010
#define XT_PS_UM          0x00000020
#define XT_PS_WOE         0x00040000

/* EXCCAUSE values (XT corebits.h). */
#define XT_EXCCAUSE_ILLEGAL               0
#define XT_EXCCAUSE_SYSCALL               1
#define XT_EXCCAUSE_INSTR_ERROR           2
#define XT_EXCCAUSE_LOAD_STORE_ERROR      3
#define XT_EXCCAUSE_LEVEL1_INTERRUPT      4
#define XT_EXCCAUSE_ALLOCA                5
#define XT_EXCCAUSE_DIVIDE_BY_ZERO        6
#define XT_EXCCAUSE_PC_ERROR              7
#define XT_EXCCAUSE_PRIVILEGED            8
#define XT_EXCCAUSE_UNALIGNED             9
#define XT_EXCCAUSE_INSTR_DATA_ERROR      12
#define XT_EXCCAUSE_LOAD_STORE_DATA_ERROR 13
#define XT_EXCCAUSE_INSTR_ADDR_ERROR      14
#define XT_EXCCAUSE_LOAD_STORE_ADDR_ERROR 15
#define XT_EXCCAUSE_INSTR_PROHIBITED      20
#define XT_EXCCAUSE_LOAD_PROHIBITED       28
#define XT_EXCCAUSE_STORE_PROHIBITED      29
#define XT_EXCCAUSE_CP0_DISABLED          32

/* DEBUGCAUSE / DBREAKC bits (XT corebits.h; DBREAKC mask encoding as in
 * components/xtensa/include/xt_utils.h xt_utils_set_watchpoint: mask = 0x3F << log2(size)). */
#define XT_DEBUGCAUSE_DBREAK  0x04
#define XT_DBREAKC_STOREBREAK 0x80000000u
#define XT_DBREAKC_MASK_32B   0x20u /* (0x3F << 5) & 0x3F: match a 32-byte aligned block */

/* CPENABLE bits (ISA XCHAL_CP_MASK 0x09: CP0 = FPU, CP3 = PIE/AI). */
#define XT_CPENABLE_FPU 0x1

/* Vector offsets from VECBASE (ISA XCHAL_*_VECOFS), table 1 KiB aligned. */
#define XT_VECOFS_WINDOW_OF4  0x000
#define XT_VECOFS_WINDOW_UF4  0x040
#define XT_VECOFS_WINDOW_OF8  0x080
#define XT_VECOFS_WINDOW_UF8  0x0C0
#define XT_VECOFS_WINDOW_OF12 0x100
#define XT_VECOFS_WINDOW_UF12 0x140
#define XT_VECOFS_LEVEL2      0x180
#define XT_VECOFS_LEVEL3      0x1C0
#define XT_VECOFS_LEVEL4      0x200
#define XT_VECOFS_LEVEL5      0x240
#define XT_VECOFS_DEBUG       0x280 /* ISA XCHAL_DEBUGLEVEL 6 */
#define XT_VECOFS_NMI         0x2C0 /* ISA XCHAL_NMILEVEL 7 */
#define XT_VECOFS_KERNEL      0x300
#define XT_VECOFS_USER        0x340
#define XT_VECOFS_DOUBLE      0x3C0
#define XT_DEBUG_LEVEL        6
#define XT_NMI_LEVEL          7
#define XT_EXCM_LEVEL         3

/* CPU interrupt numbers usable for a level-1, level-triggered peripheral source
 * (esp_hw_support/port/esp32s3/esp_cpu_intr.c intr_desc_table: level 1, LEVEL type). */
#define DUET_S3_LEVEL1_INUM_MASK                                                                   \
    ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 8) |           \
     (1u << 9) | (1u << 12) | (1u << 13) | (1u << 17) | (1u << 18))

/* Core-internal timer 0: CCOMPARE0 raises CPU interrupt 6, level 1 (core-isa.h
 * XCHAL_TIMER0_INTERRUPT, XCHAL_INT6_LEVEL; esp_cpu_intr.c lists 6 as "timer 0"). No
 * matrix source can reach it, which is why IDF parks unrouted sources on it. */
#define DUET_S3_TIMER0_INUM 6u

/* ---- duet choices (not hardware facts; agreed with the core-0 port) ------------------
 * FROM_CPU_INTR0 belongs to IDF (crosscore); 1..3 are free in unicore builds (facts §6).
 * Core 1 -> core 0 uses FROM_CPU_INTR2, core 0 -> core 1 uses FROM_CPU_INTR3; core 1
 * routes its doorbell to CPU interrupt 17 (level 1, level-triggered). Defaults = the
 * Kconfig defaults (CONFIG_DUET_DOORBELL_TO_CORE0/1; tests/agreement checks). Override
 * with duet_add_program(... DOORBELL_TO_C0 n DOORBELL_TO_C1 m DOORBELL_INUM k), which
 * defines these for the SDK library and the program alike. */
#ifndef DUET_S3_DOORBELL_TO_C0
#define DUET_S3_DOORBELL_TO_C0 2u
#endif
#ifndef DUET_S3_DOORBELL_TO_C1
#define DUET_S3_DOORBELL_TO_C1 3u
#endif
#ifndef DUET_S3_DOORBELL_INUM
#define DUET_S3_DOORBELL_INUM 17u
#endif

#endif /* DUET_SOC_ESP32S3_H */
