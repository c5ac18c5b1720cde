/*
 * duet/host_port.h - knobs and diagnostics of the host port beyond duet/port.h, for the
 * simulator, the tests and the benchmarks (never used by portable code).
 * Flash has its own header (host_flash.h).
 */
#ifndef DUET_HOST_PORT_H
#define DUET_HOST_PORT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "duet/err.h"
#include "duet/port.h"

/* Simulated core-1 memory window (what images are verified against). */
#define DUET_HOST_X_BASE 0x10000000u  /* code: the program's executable file */
#define DUET_HOST_X_SIZE (64u << 20)
#define DUET_HOST_RW_BASE 0x20000000u /* data/stack (bookkeeping only on the host) */
#define DUET_HOST_RW_SIZE (16u << 20)

/* XIP range (docs/simulator.md "XIP"): one bus, so the data-bus alias is the same
 * address; sdk/ld/duet_host_xip.ld links XIP programs at its base. */
#define DUET_HOST_XIP_BASE 0x30000000u
#define DUET_HOST_XIP_SIZE (16u << 20)

/* Default shared-area size (control block + log ring + channel rings). */
#define DUET_HOST_SHM_DEFAULT (1u << 20)

/** Choose the shared-area size before first use of duet_port_shm(). */
duet_err_t duet_host_shm_set_size(size_t size);
/** The shared area's memfd (inherited by the child). -1 before first use. */
int duet_host_shm_fd(void);

/** Doorbell eventfds: [0] core 0 -> core 1, [1] core 1 -> core 0. Created on demand. */
duet_err_t duet_host_doorbell_fds(int *to_c1, int *to_c0);
/** Throw away pending doorbells (before a start: nothing from the old run may wake
 *  the new one). */
void duet_host_doorbell_drain(void);

/** pid of the running core-1 process, 0 if none. */
pid_t duet_host_core1_pid(void);
/** Send a signal to the core-1 process (tests: simulate an external kill). */
duet_err_t duet_host_core1_signal(int sig);
/** Exit status of the last core-1 process reaped (as from waitpid), -1 if none. */
int duet_host_core1_last_status(void);

/** Flash-write lockout of XIP programs (xip_map.c): how long the running program was
 *  parked, per flash program and per erase, measured on core 0 from the park request
 *  to the release (ack wait + mapping off + operation + refill). */
typedef struct {
    uint32_t writes, erases;        /* operations that parked a program */
    uint64_t write_ns_total, write_ns_max;
    uint64_t erase_ns_total, erase_ns_max;
    uint64_t last_ns;
    uint32_t stalls;     /* no ack in time: stopped with SIGSTOP (the hardware stall) */
    uint32_t violations; /* the program ended while parked (touched the mapping) */
} duet_host_xip_stats_t;
void duet_host_xip_stats(duet_host_xip_stats_t *out);
void duet_host_xip_reset_stats(void);
/** How long to wait for the park ack before the stall (default 20 ms; tests: 0 forces
 *  the stall path). */
void duet_host_xip_set_park_timeout(uint32_t us);

/** Log sink of duet_port_log (NULL = stderr with "[tag] " prefix). */
typedef void (*duet_host_log_fn)(void *user, duet_plog_t level, const char *tag,
                                 const char *fmt, va_list ap);
void duet_host_log_set_sink(duet_host_log_fn fn, void *user);
/** Lines above this level are dropped by the default sink (default DUET_PLOG_INFO). */
void duet_host_log_set_level(duet_plog_t max_level);

#endif /* DUET_HOST_PORT_H */
