/*
 * rt_priv.h - internals shared by the portable core-1 runtime (sdk/src) and the
 * per-architecture start-up and fault code (sdk/arch/<arch>). Not for programs.
 *
 * Boot sequence every architecture follows (see duet/shm.h for the core-0 side):
 *
 *   arch start-up                      portable runtime (this folder)
 *   stack, vectors, .data/.bss
 *   duet_arch_shm() valid
 *   duet_rt_priv_boot(build_id) ---->  check control block, attach log ring,
 *                                      publish build-id, c1_epoch, c1_state=RUNNING
 *   duet_main()
 *   duet_rt_priv_exit()         ---->  c1_state=EXITED, doorbell to core 0
 *   halt / _exit
 *
 *   fault (signal, exception, panic):
 *   duet_rt_priv_crash_begin()  ---->  clear record, fill the portable fields
 *   arch fills pc, sp, registers, backtrace
 *   duet_rt_priv_crash_commit() ---->  cr_magic last, c1_state=CRASHED, doorbell
 *
 * Freestanding C11: no libc beyond memcpy/memset/memmove/memcmp/strlen (rt_libc.c
 * provides them on bare metal). Shared words are touched only with aligned 32-bit
 * atomic loads/stores (no read-modify-write: core 1 is the only writer of its words,
 * and the call0 lx106 cross-build has no S32C1I).
 */
#ifndef DUET_RT_PRIV_H
#define DUET_RT_PRIV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/rt_arch.h"
#include "duet/shm.h"

/** Longest log line text (bytes, without the record header); longer lines are cut. */
#define DUET_RT_LOG_MAX 120u

/* Shared-word access: aligned 32-bit, acquire/release. */
static inline uint32_t duet_rt_ld(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void duet_rt_st(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/** Check the control block core 0 prepared, attach the log ring, publish build-id,
 *  epoch and RUNNING. @return DUET_OK, or the shm/ring error (the arch code then
 *  stops: core 0 sees a boot timeout). */
duet_err_t duet_rt_priv_boot(const uint8_t *build_id, unsigned build_id_len);
/** duet_main returned: publish EXITED and ring core 0. */
void duet_rt_priv_exit(void);

/** Start a crash record: zero it, set epoch, reason, message, uptime, build-id.
 *  Async-signal-safe. Returns the record for the arch code to complete. */
duet_crash_t *duet_rt_priv_crash_begin(uint32_t reason, const char *msg);
/** XIP: the program's park hook (duet/xip.h), NULL if none; read by the arch's park
 *  handler. */
void (*duet_rt_priv_park_hook(void))(void);
/** Publish the record (magic last), set CRASHED, count and ring the doorbell. */
void duet_rt_priv_crash_commit(duet_crash_t *cr);

/** The small formatter behind duet_rt_log: the app.h subset (%d %i %u %x %X %p %s %c
 *  %%, flags '0' '-', width, precision for %s, length l/ll/z). Always NUL-terminates
 *  when cap > 0. @return characters stored (excluding the NUL), truncated to cap-1. */
size_t duet_rt_priv_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
size_t duet_rt_priv_snprintf(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** rt_log.c: attach the log ring of this epoch (called by duet_rt_priv_boot). */
duet_err_t duet_rt_priv_log_attach(duet_shm_ctrl_t *ctrl, size_t shm_size, uint32_t epoch);

/** Epoch read at boot (0 before duet_rt_priv_boot). */
extern uint32_t duet_rt_priv_epoch;

#endif /* DUET_RT_PRIV_H */
