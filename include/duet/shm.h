/*
 * duet/shm.h - the shared-memory protocol between core 0 and core 1.
 *
 * The shared area is one contiguous block of internal SRAM (a shared file mapping in
 * the simulator). It starts with the control block below, followed by the log ring and
 * the channel rings; every location is an offset from the start of the area (no
 * pointers), so both sides and the host tools can map it anywhere.
 *
 *   0      duet_shm_ctrl_t (1024 B)  control block, crash record, channel table
 *   1024   log ring        (core 1 -> core 0)
 *   ...    channel rings   (each channel: one ring per direction)
 *
 * Little-endian, fixed-width fields, explicit padding, no bitfields. Each field names
 * its writer; the other side only reads it. Only aligned 32-bit words are accessed
 * atomically. Start-up sequence:
 *
 *   CORE 0                                     CORE 1
 *   stop core 1 (reset + stall)
 *   epoch++ ; init control block, log ring,
 *   channel rings (all stamped with epoch)
 *   c1_state = OFF ; load image
 *   release core 1  ------------------------>  start-up code
 *                                              c1_epoch = epoch ; c1_state = RUNNING
 *                                              duet_main(): heartbeat++, log, channels
 *   supervisor: heartbeat deadline, drain log
 *                                    <-------  fault: crash record, c1_state = CRASHED,
 *                                              doorbell, halt
 */
#ifndef DUET_SHM_H
#define DUET_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/ring.h"
#include "duet/timing.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_SHM_MAGIC 0x4d485344u /* "DSHM" */
#define DUET_SHM_LAYOUT_VERSION 1u
#define DUET_SHM_CTRL_SIZE 1024u
#define DUET_SHM_MAX_CHANNELS 8u
#define DUET_SHM_CHAN_NAME_LEN 16u
#define DUET_CRASH_MAGIC 0x48535243u /* "CRSH" */
#define DUET_CRASH_REGS 16u
#define DUET_CRASH_BT 16u
#define DUET_CRASH_MSG_LEN 48u

/** c1_state values (written by core 1, except OFF which core 0 writes before start). */
enum {
    DUET_C1_OFF = 0,     /* not started in this epoch */
    DUET_C1_BOOTING = 1, /* start-up code running */
    DUET_C1_RUNNING = 2, /* duet_main entered */
    DUET_C1_CRASHED = 3, /* crash record valid, core 1 halted */
    DUET_C1_EXITED = 4,  /* duet_main returned, core 1 halted */
    DUET_C1_PARKED = 5,  /* acknowledged a park request, spinning in RAM */
};

/** c0_cmd bits (written by core 0). */
#define DUET_CMD_STOP 0x1u /* ask the program to return from duet_main */
#define DUET_CMD_PARK 0x2u /* reserved; the flash lockout uses sc_park_req/sc_park_ack */

/** cr_exccause of an Xtensa fault that is not a level-1 exception (the watchpoint's
 *  debug exception, NMI, high-level interrupt): EXCCAUSE would be stale. */
#define DUET_CRASH_EXCCAUSE_NONE 0xFFFFFFFFu

/** cr_reason values. */
enum {
    DUET_CRASH_NONE = 0,
    DUET_CRASH_EXCEPTION = 1,     /* other CPU exception (cr_exccause) */
    DUET_CRASH_ILLEGAL_INSN = 2,
    DUET_CRASH_LOAD_STORE = 3,    /* bad address (cr_excvaddr) */
    DUET_CRASH_DIV_ZERO = 4,
    DUET_CRASH_STACK_OVERFLOW = 5,
    DUET_CRASH_PANIC = 6,         /* duet_rt_panic(); cr_msg */
    DUET_CRASH_ASSERT = 7,        /* DUET_ASSERT failed; cr_msg = "file:line expr" */
    DUET_CRASH_HANG = 8,          /* heartbeat deadline missed (written by core 0) */
    DUET_CRASH_DOUBLE = 9,        /* double exception */
    DUET_CRASH_KILLED = 10,       /* host only: process died without a record */
};

/** Crash record (256 B). Written by core 1's fault handler (or core 0 for HANG/KILLED)
 *  while core 1 is going down; cr_magic is written last. */
typedef struct {
    uint32_t cr_magic;     /* 0   DUET_CRASH_MAGIC when valid, written last */
    uint32_t cr_epoch;     /* 4   epoch of the run that crashed */
    uint32_t cr_reason;    /* 8   DUET_CRASH_* */
    uint32_t cr_exccause;  /* 12  EXCCAUSE (Xtensa; DUET_CRASH_EXCCAUSE_NONE after a debug
                                  exception or interrupt) or signal number (host) */
    uint32_t cr_pc;        /* 16  faulting PC: EPC1, or EPCn of a level-n fault (host:
                                  offset from load base) */
    uint32_t cr_excvaddr;  /* 20  EXCVADDR / si_addr low 32 bits */
    uint32_t cr_ps;        /* 24  PS (Xtensa) / si_code (host) */
    uint32_t cr_sp;        /* 28  stack pointer at the fault */
    uint32_t cr_a[DUET_CRASH_REGS]; /* 32 a0..a15 visible window (host: zero) */
    uint32_t cr_bt_count;  /* 96  entries used in cr_bt */
    uint32_t cr_bt[DUET_CRASH_BT];  /* 100 return addresses (host: offsets from base) */
    uint8_t cr_build_id[20];        /* 164 build-id of the crashed program */
    uint8_t cr_build_id_len;        /* 184 */
    uint8_t cr_pad0[3];             /* 185 */
    uint32_t cr_uptime_us;          /* 188 core-1 time at the fault (low 32 bits) */
    char cr_msg[DUET_CRASH_MSG_LEN];/* 192 panic/assert text, NUL-terminated */
    uint32_t cr_pad1[4];            /* 240 */
} duet_crash_t;

/** Channel table entry (32 B). Written by core 0 at init. */
typedef struct {
    char ch_name[DUET_SHM_CHAN_NAME_LEN]; /* 0  NUL-padded, "" = unused */
    uint32_t ch_to_c1_off;  /* 16 ring core 0 -> core 1: offset from shm base */
    uint32_t ch_to_c0_off;  /* 20 ring core 1 -> core 0 */
    uint32_t ch_ring_size;  /* 24 footprint of each ring (header + data) */
    uint32_t ch_flags;      /* 28 reserved, 0 */
} duet_shm_chan_t;

/** Control block at offset 0 of the shared area. */
typedef struct {
    uint32_t sc_magic;        /* 0   [c0] DUET_SHM_MAGIC */
    uint16_t sc_layout;       /* 4   [c0] DUET_SHM_LAYOUT_VERSION */
    uint16_t sc_ctrl_size;    /* 6   [c0] DUET_SHM_CTRL_SIZE */
    uint32_t sc_shm_size;     /* 8   [c0] bytes of the whole shared area */
    uint32_t sc_epoch;        /* 12  [c0] session id, new before every start, never 0 */
    uint32_t sc_c0_cmd;       /* 16  [c0] DUET_CMD_* bits */
    uint32_t sc_c1_state;     /* 20  [c1] DUET_C1_* (c0 writes OFF before start) */
    uint32_t sc_c1_epoch;     /* 24  [c1] epoch core 1 booted into (ack) */
    uint32_t sc_heartbeat;    /* 28  [c1] incremented by duet_rt_heartbeat() */
    uint32_t sc_progress;     /* 32  [c1] application-defined progress counter */
    uint32_t sc_log_off;      /* 36  [c0] offset of the log ring */
    uint32_t sc_log_size;     /* 40  [c0] footprint of the log ring */
    uint32_t sc_chan_count;   /* 44  [c0] used entries of sc_chan */
    uint32_t sc_log_dropped;  /* 48  [c1] log messages dropped because the ring was full */
    uint32_t sc_doorbells;    /* 52  [c1] doorbells core 1 has rung (diagnostics) */
    uint32_t sc_c1_cpu_hz;    /* 56  [c1] cycle-counter rate core 1 measured/assumes */
    uint32_t sc_pad0;         /* 60 */
    uint8_t sc_build_id[20];  /* 64  [c1] build-id of the running program */
    uint8_t sc_build_id_len;  /* 84  [c1] */
    uint8_t sc_pad1[3];       /* 85 */
    uint32_t sc_user[10];     /* 88  [app] free for the application (e.g. demo counter) */
    /* Flash lockout of XIP programs (core 0 disables the flash cache): core 0 makes
     * sc_park_req odd and rings; core 1, in RAM-resident code, copies it to sc_park_ack
     * and spins until sc_park_req changes (even again). A sequence, not a flag, so a
     * stale ack of the previous park is never taken for the next one. */
    uint32_t sc_park_req;     /* 128 [c0] odd: park now; even: released */
    uint32_t sc_park_ack;     /* 132 [c1] the sc_park_req value core 1 is parked for */
    uint32_t sc_park_count;   /* 136 [c1] parks served */
    uint32_t sc_park_last;    /* 140 [c1] core-1 cycles (CCOUNT) of the last park */
    uint32_t sc_park_max;     /* 144 [c1] longest park, cycles */
    uint32_t sc_park_total;   /* 148 [c1] sum of all parks, cycles (wraps) */
    uint32_t sc_park_stalls;  /* 152 [c0] parks enforced by the hardware stall (no ack) */
    uint8_t sc_pad2[256 - 156]; /* 156 */
    duet_crash_t sc_crash;    /* 256 [c1 / c0] last crash of this or an earlier epoch */
    duet_shm_chan_t sc_chan[DUET_SHM_MAX_CHANNELS]; /* 512 [c0] */
    /* 768 [c1; c0 only tm_reset_req] loop-timing histogram (duet/timing.h). Was reserved
     * (zero) in earlier builds: zero reads as "no marks", so the layout version stays. */
    duet_timing_t sc_timing;
} duet_shm_ctrl_t;

_Static_assert(sizeof(duet_crash_t) == 256, "crash record size");
_Static_assert(offsetof(duet_crash_t, cr_msg) == 192, "crash msg offset");
_Static_assert(sizeof(duet_shm_chan_t) == 32, "channel entry size");
_Static_assert(offsetof(duet_shm_ctrl_t, sc_epoch) == 12, "epoch offset");
_Static_assert(offsetof(duet_shm_ctrl_t, sc_heartbeat) == 28, "heartbeat offset");
_Static_assert(offsetof(duet_shm_ctrl_t, sc_user) == 88, "user words offset");
_Static_assert(offsetof(duet_shm_ctrl_t, sc_park_req) == 128, "park request offset");
_Static_assert(offsetof(duet_shm_ctrl_t, sc_crash) == 256, "crash record offset");
_Static_assert(offsetof(duet_shm_ctrl_t, sc_chan) == 512, "channel table offset");
_Static_assert(offsetof(duet_shm_ctrl_t, sc_timing) == 768, "timing block offset");
_Static_assert(sizeof(duet_shm_ctrl_t) == DUET_SHM_CTRL_SIZE, "control block size");

/** How core 0 lays out the shared area. */
typedef struct {
    uint32_t log_ring_size;   /* data bytes of the log ring (power of two) */
    unsigned chan_count;
    struct {
        const char *name;
        uint32_t ring_size;   /* data bytes per direction (power of two) */
    } chans[DUET_SHM_MAX_CHANNELS];
} duet_shm_config_t;

/** Core 0: lay out and initialise the whole area for a new epoch. Core 1 must be stopped.
 *  Layout: control block, log ring at DUET_SHM_CTRL_SIZE, then per channel the to-c1 and
 *  the to-c0 ring, each ring starting on a 64-byte boundary. Ring sizes are data bytes,
 *  powers of two in [DUET_RING_MIN_SIZE, DUET_RING_MAX_SIZE]; names 1..15 chars, unique.
 *  Keeps the previous crash record (it describes the last run) and sc_user (state an
 *  application may hand over across a restart) if the area held a valid control block;
 *  otherwise zeroes them. sc_magic is written last.
 *  @return DUET_OK, DUET_ERR_INVAL (NULL, misaligned, epoch 0, bad config),
 *          DUET_ERR_NOMEM (the layout does not fit in 'size'). */
duet_err_t duet_shm_init(void *shm, size_t size, const duet_shm_config_t *cfg, uint32_t epoch);

/** Either side: check magic, version and that every offset stays inside 'size' (the area
 *  is treated as hostile: every ring region inside both 'size' and sc_shm_size, 4-aligned,
 *  at least a header and DUET_RING_MIN_SIZE data bytes, no two regions overlapping,
 *  channel names NUL-terminated). Ring headers themselves are checked by attach.
 *  @return DUET_OK, DUET_ERR_INVAL, DUET_ERR_SHM_BAD_MAGIC, DUET_ERR_SHM_BAD_VERSION,
 *          DUET_ERR_SHM_BAD_LAYOUT. */
duet_err_t duet_shm_check(const void *shm, size_t size);

/** Find a channel's rings. 'to_c1' picks the direction. Returns a pointer inside shm.
 *  The entry is re-checked (bounds) on every call, it may have changed since check.
 *  @return DUET_OK, DUET_ERR_INVAL, DUET_ERR_SHM_BAD_MAGIC, DUET_ERR_SHM_BAD_VERSION,
 *          DUET_ERR_SHM_BAD_LAYOUT, DUET_ERR_NOT_FOUND. */
duet_err_t duet_shm_chan_ring(void *shm, size_t size, const char *name, int to_c1,
                              void **ring, size_t *footprint);

/** Find the log ring (core 1 -> core 0); same checks and returns as duet_shm_chan_ring
 *  (never NOT_FOUND). */
duet_err_t duet_shm_log_ring(void *shm, size_t size, void **ring, size_t *footprint);

/** Log record format inside the log ring: duet_log_rec_t then the text (no NUL). */
typedef struct {
    uint32_t lr_time_us; /* core-1 time (low 32 bits) */
    uint8_t lr_level;    /* DUET_LOG_* */
    uint8_t lr_pad[3];
} duet_log_rec_t;
_Static_assert(sizeof(duet_log_rec_t) == 8, "log record header");

enum { DUET_LOG_ERROR = 1, DUET_LOG_WARN = 2, DUET_LOG_INFO = 3, DUET_LOG_DEBUG = 4 };

#ifdef __cplusplus
}
#endif
#endif /* DUET_SHM_H */
