/*
 * duet/app.h - the API a core-1 program is written against.
 *
 * The same header and the same program sources build for the ESP32-S3 (bare metal,
 * sdk/arch/xtensa) and for the PC simulator (sdk/arch/host, the program runs as a child
 * process). The portable part of the runtime (channels, log, heartbeat) is in sdk/src/;
 * only time, doorbells, interrupts and the fault path differ per architecture.
 *
 * A program defines:
 *     void duet_main(void);
 * The start-up code has already set up the stack, vectors, .data/.bss and the shared
 * control block; returning from duet_main marks the program EXITED and halts core 1.
 *
 * No OS: nothing here blocks forever unless asked to, nothing allocates, nothing is
 * reentrant from interrupts unless marked "ISR-safe".
 */
#ifndef DUET_APP_H
#define DUET_APP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/ring.h"
#include "duet/shm.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The program's entry point (defined by the program). */
void duet_main(void);

/* ---- liveness --------------------------------------------------------------------- */
/** Tell the supervisor the program is alive. Call at least once per heartbeat period. */
void duet_rt_heartbeat(void);
/** Publish an application-defined progress value (shown in status). */
void duet_rt_progress(uint32_t value);
/** True once core 0 has asked the program to stop (DUET_CMD_STOP); return from duet_main. */
int duet_rt_should_stop(void);
/** The shared control block (e.g. for sc_user words). */
duet_shm_ctrl_t *duet_rt_ctrl(void);
/** This run's epoch. */
uint32_t duet_rt_epoch(void);

/* ---- channels (one ring per direction, laid out by core 0) ------------------------- */
typedef struct {
    duet_ring_t rx; /* core 0 -> core 1 */
    duet_ring_t tx; /* core 1 -> core 0 */
} duet_chan_t;

/** Open a channel core 0 declared by name. DUET_ERR_NOT_FOUND if absent. */
duet_err_t duet_rt_chan_open(const char *name, duet_chan_t *ch);
duet_err_t duet_rt_chan_send(duet_chan_t *ch, const void *msg, size_t len);
duet_err_t duet_rt_chan_recv(duet_chan_t *ch, void *buf, size_t cap, size_t *len);
/* Zero-copy variants map straight onto the ring calls. */
duet_err_t duet_rt_chan_reserve(duet_chan_t *ch, size_t len, void **ptr);
duet_err_t duet_rt_chan_commit(duet_chan_t *ch, size_t len);
duet_err_t duet_rt_chan_peek(duet_chan_t *ch, const void **ptr, size_t *len);
duet_err_t duet_rt_chan_release(duet_chan_t *ch);

/* ---- log (into the log ring; core 0 drains it to ESP_LOG / the simulator console) -- */
/** printf-style subset: %d %i %u %x %X %p %s %c %% with flags 0,-, width, l/ll/z. */
void duet_rt_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void duet_rt_vlog(int level, const char *fmt, va_list ap);
#define DUET_LOGE(...) duet_rt_log(DUET_LOG_ERROR, __VA_ARGS__)
#define DUET_LOGW(...) duet_rt_log(DUET_LOG_WARN, __VA_ARGS__)
#define DUET_LOGI(...) duet_rt_log(DUET_LOG_INFO, __VA_ARGS__)
#define DUET_LOGD(...) duet_rt_log(DUET_LOG_DEBUG, __VA_ARGS__)

/* ---- time ------------------------------------------------------------------------- */
/** Monotonic microseconds (chip: SYSTIMER counter 0 at 16 MHz; host: CLOCK_MONOTONIC). */
uint64_t duet_rt_time_us(void);
/** Free-running cycle counter (chip: CCOUNT; host: a monotonic nanosecond count). */
uint32_t duet_rt_cycles(void);
/** Busy-wait (never ets_delay_us: it is mis-scaled on core 1 in unicore builds). */
void duet_rt_delay_us(uint32_t us);

/* ---- loop timing (histogram in shared memory, duet/timing.h, docs/timing.md) ------ */
/** Mark one loop iteration: the cycles since the previous mark go into the histogram
 *  core 0 shows (/api/timing, `duet timing`, the web page). The first mark of a run
 *  (and the first after core 0 asked for a reset) only starts the clock. No allocation,
 *  no lock; core 1 only, not from interrupts. */
void duet_rt_loop_mark(void);
/** Declare the loop period: intervals longer than this count as deadline misses.
 *  0 = none. Does not reset the figures. */
void duet_rt_loop_period_cycles(uint32_t cycles);
/** The same in microseconds, converted with the cycle rate core 1 publishes
 *  (sc_c1_cpu_hz: host 1 GHz; chip: measured with the program's CPU_HZ option, else the
 *  ESP32-S3's 240 MHz is assumed). */
void duet_rt_loop_period_us(uint32_t us);

/* ---- doorbells -------------------------------------------------------------------- */
/** Ring core 0's doorbell (ISR-safe). */
void duet_rt_doorbell_ring(void);
/** Wait for core 0's doorbell. @return DUET_OK or DUET_ERR_TIMEOUT. 0 = poll once. */
duet_err_t duet_rt_doorbell_wait(uint32_t timeout_us);

/* ---- faults ----------------------------------------------------------------------- */
/** Record a crash with a message and halt; never returns. */
_Noreturn void duet_rt_panic(const char *msg);
_Noreturn void duet_rt_assert_fail(const char *file, int line, const char *expr);
#define DUET_ASSERT(x) ((x) ? (void)0 : duet_rt_assert_fail(__FILE__, __LINE__, #x))

#ifdef __cplusplus
}
#endif
#endif /* DUET_APP_H */
