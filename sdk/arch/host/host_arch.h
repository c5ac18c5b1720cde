/*
 * host_arch.h - state shared by the files of the host core-1 architecture
 * (start.c: boot; fault.c: signals and crash records; arch.c: time and doorbells).
 * Everything is set once in main() before the program thread starts.
 */
#ifndef DUET_HOST_ARCH_H
#define DUET_HOST_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/shm.h"

typedef struct {
    duet_shm_ctrl_t *shm;
    size_t shm_size;
    int bell_c1_fd;          /* eventfd we wait on (core 0 rings it) */
    int bell_c0_fd;          /* eventfd we write (core 0 waits on it) */
    uintptr_t load_base;     /* executable's load bias (PIE); offsets are from here */
    uintptr_t text_lo, text_hi; /* executable's mapped range: PCs inside get offsets */
    uintptr_t stack_lo, stack_hi; /* program thread's stack (usable part) */
    uintptr_t guard_lo;      /* guard area below stack_lo: faults here = overflow */
    uint32_t img_stack_top;  /* ih_stack_top: cr_sp is reported in the image's view */
    uint8_t build_id[20];
    unsigned build_id_len;
} duet_host_arch_t;

extern duet_host_arch_t duet_host;

/** fault.c: install the fatal-signal handlers (process-wide) and this thread's
 *  alternate signal stack. @return 0 or -1. */
int duet_host_fault_init(void);
int duet_host_fault_altstack(void);

/** xip.c: map the XIP pages core 0 handed over and install the park handler (no-op
 *  for a RAM-mode program). @return 0 or -1. */
int duet_host_xip_init(void);
/** Block (main thread) or unblock (program thread) the park signal. */
void duet_host_xip_block(int block);
/** A fault at addr is a touch of the flash mapping while core 0 has it off. */
bool duet_host_xip_lockout_fault(uintptr_t addr);

#endif /* DUET_HOST_ARCH_H */
