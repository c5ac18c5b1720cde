/*
 * duet/rt_arch.h - what each core-1 architecture (sdk/arch/host, sdk/arch/xtensa)
 * provides to the portable runtime in sdk/src/. Not for programs.
 */
#ifndef DUET_RT_ARCH_H
#define DUET_RT_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "duet/shm.h"

/** Base and size of the shared area, set up by the start-up code before duet_main. */
duet_shm_ctrl_t *duet_arch_shm(size_t *size);
uint64_t duet_arch_time_us(void);
uint32_t duet_arch_cycles(void);
void duet_arch_doorbell_ring(void);
/** @return 1 if the doorbell rang (and clears it), 0 on timeout. */
int duet_arch_doorbell_wait(uint32_t timeout_us);
/** Fill in the architecture part of a crash record (registers, backtrace) for a
 *  software-raised fault, then stop this core forever. */
_Noreturn void duet_arch_fatal(uint32_t reason, const char *msg);

#endif /* DUET_RT_ARCH_H */
