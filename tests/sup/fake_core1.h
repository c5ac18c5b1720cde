/*
 * fake_core1.h - a scripted core 1 and a fake clock: the port functions of duet/port.h
 * except flash (tests link the real port/host/flash_file.c for that).
 *
 * The test drives "core 1" by hand: fake_c1_boot() acks the epoch, fake_c1_heartbeat()
 * bumps the counter, fake_c1_crash() writes a crash record the way the fault handler
 * does (magic last), fake_c1_die() makes the port report a dead core (like the host's
 * child process exiting), silence is simply not calling anything. Core-1 memory is two
 * arrays (code, data) behind a small host-style window, so tests can check what the
 * loader copied. Time only moves with fake_clock_advance_ms().
 */
#ifndef FAKE_CORE1_H
#define FAKE_CORE1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/port.h"
#include "duet/shm.h"

#define FAKE_CODE_BASE 0x10000000u
#define FAKE_DATA_BASE 0x20000000u
#define FAKE_MEM_SIZE 0x8000u
#define FAKE_SHM_SIZE 0x4000u

typedef struct {
    unsigned starts;          /* duet_port_core1_start calls */
    unsigned stops;           /* duet_port_core1_stop calls */
    bool running;             /* started and not stopped since */
    bool dead;                /* fake_c1_die(): poll reports it gone */
    duet_img_info_t last_info;/* image of the last start */
    unsigned log_core1;       /* duet_port_log lines with tag "core1" */
    char last_core1[256];
    unsigned writes;          /* core1_write calls */
    /* failure injection (zeroed by fake_reset) */
    duet_err_t fail_start;    /* returned by the next core1_start calls if != DUET_OK */
    unsigned fail_write_at;   /* core1_write call number that fails (1-based, 0 = never) */
    bool vanish;              /* poll reports core 1 gone WITHOUT writing a record */
} fake_c1_t;

extern fake_c1_t fake_c1;

/* Reset the fake (memory, shm, counters); the clock starts at 1 s. Keeps the shm
 * contents if keep_shm (a core-0 restart with a surviving shared area). */
void fake_reset(bool keep_shm);
void fake_clock_advance_ms(uint32_t ms);
void fake_clock_set_us(uint64_t us); /* e.g. just below 2^64: time-wrap tests */
uint64_t fake_now_us(void);
duet_shm_ctrl_t *fake_ctrl(void);
/* Core-1 memory at addr (len bytes) or NULL if outside the fake window. */
const uint8_t *fake_mem(uint32_t addr, size_t len);

/* Scripted core 1. */
void fake_c1_boot(void);                          /* ack: c1_epoch = epoch, RUNNING */
void fake_c1_boot_epoch(uint32_t epoch);          /* ack with a chosen (e.g. stale) epoch */
void fake_c1_heartbeat(unsigned n);
void fake_c1_crash(uint32_t reason, uint32_t epoch); /* epoch 0 = the current one */
void fake_c1_exit(void);
void fake_c1_die(void);
duet_err_t fake_c1_log(int level, const char *text);

#endif
