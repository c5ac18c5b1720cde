/*
 * jitter_core0.h - core 0's half of examples/idf/jitter (ESP-IDF, both builds).
 */
#ifndef JITTER_CORE0_H
#define JITTER_CORE0_H

#include <stdbool.h>
#include <stdint.h>

/** Wait for core 1's JIT_S_READY, let it go (JIT_S_GO) and wait for JIT_S_DONE. With
 *  park, core 0 first masks every interrupt but its own CCOMPARE0 timer and sleeps
 *  (waiti) for *park_cycles: on the emulated chip both cores share one instruction
 *  count, so any instruction core 0 executes would show up as a gap in core 1's CCOUNT;
 *  on silicon the cores run in parallel and no park is needed. Call from a task on core
 *  0. Logs "JIT <mode> core0 ...", then sets JIT_S_IDLE (core 1 may measure again).
 *  @return true when core 1 finished in time. */
bool jit_core0_run(const char *mode, volatile uint32_t *state, volatile uint32_t *park_cycles,
                   bool park, uint32_t timeout_ms);

#endif /* JITTER_CORE0_H */
