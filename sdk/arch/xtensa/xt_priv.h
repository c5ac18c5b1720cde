/*
 * xt_priv.h - internals shared by the files of sdk/arch/xtensa (C side). Not for
 * programs. Linker-script symbols (sdk/ld/duet_esp32s3.ld.in), assembly entry points
 * (start.S, vectors.S) and the C functions the assembly calls.
 */
#ifndef DUET_XT_PRIV_H
#define DUET_XT_PRIV_H

#include <stdint.h>

#include "duet/soc_esp32s3.h"
#include "duet/xt_intr.h"
#include "xt_frame.h"

/* Memory-mapped register access. Volatile: GCC adds MEMW before each access on Xtensa
 * (-mserialize-volatile, the default), which orders them against shared-RAM traffic. */
#define XT_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* Code that must run while core 0 has the flash cache disabled (XIP flash lockout):
 * section .text.duet_ram.<name> (literals .literal.duet_ram.<name>), which the RAM
 * script takes with .text.* and every XIP script must place in the window. */
#define XT_RAM(name) __attribute__((section(".text.duet_ram." name), noinline))

/* Linker-script symbols: only their addresses mean something. */
extern char _duet_stack_limit[], _duet_stack_top[];
extern char _duet_text_start[], _duet_text_end[];
extern char _duet_bss_start[], _duet_bss_end[];
extern char _duet_data_start[], _duet_data_end[], _duet_data_load[];
extern char _duet_shm_base[], _duet_shm_size[];
extern char _duet_build_id[], _duet_build_id_note_end[];

/* Build options, 0 unless defined (sdk/cmake/xtensa sets DUET_XT_MEASURE_CPU_HZ):
 * measure the CPU clock at boot (time.c), copy .data from its load address (boot.c;
 * only layouts whose .data is not loaded in place need it, the RAM script has none). */
#ifndef DUET_XT_MEASURE_CPU_HZ
#define DUET_XT_MEASURE_CPU_HZ 0
#endif
#ifndef DUET_XT_COPY_DATA
#define DUET_XT_COPY_DATA 0
#endif

/** Bytes at the stack limit watched by DBREAK0 and filled with the canary. */
#define XT_STACK_GUARD  32u
#define XT_STACK_CANARY 0xC0FFEE11u

/* start.S */
_Noreturn void duet_xt_halt(void);
/* boot.c: called by start.S with the stack and vectors in place. */
_Noreturn void duet_xt_boot(void);
/** GNU build-id from the linked note; returns its length (0 if none). */
unsigned duet_xt_build_id(const uint8_t **id);

/* fault.c */
void duet_xt_stack_guard_init(void);
/** Called by vectors.S on the fault stack; never returns. */
_Noreturn void duet_xt_fault(uint32_t *frame);

/* doorbell.c */
/** Answer core 0's park request (sc_park_req odd): ack and spin in RAM until released.
 *  RAM-resident; called by the doorbell ISR and the doorbell poll. */
void duet_xt_park_check(void);
/** XIP programs: route the doorbell to its ISR at boot so a park request is answered
 *  even if the program never enables it (boot.c). */
void duet_xt_park_init(void);

/* intr.c */
void duet_xt_intr_init(void);
/** Called by vectors.S for a level-1 interrupt. */
void duet_xt_intr_dispatch(void);
/** Attach a handler to a core-internal level-1 interrupt (timer 0), which
 *  duet_xt_intr_attach refuses because no matrix source may be routed to it. */
void duet_xt_intr_attach_internal(unsigned inum, duet_xt_isr_t fn, void *arg);

/* time.c */
uint32_t duet_xt_ccount(void);
/** Measure CCOUNT against SYSTIMER for 500 us and store it in sc_c1_cpu_hz (only built
 *  with DUET_XT_MEASURE_CPU_HZ). */
void duet_xt_publish_cpu_hz(void);

#endif /* DUET_XT_PRIV_H */
