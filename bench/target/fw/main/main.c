/*
 * bench/target/fw - the core-0 half of `make target-bench`: measures duet on Espressif's
 * QEMU esp32s3 model (-icount shift=3) against the core-1 program ring_echo in slot A
 * (bench/target/ring_echo.c) and prints one line per figure,
 *   BENCH <name> n=<samples> median=<m> min=<a> max=<b> unit=insn [key=value ...]
 * then "BENCH done". scripts/target-bench.sh turns the lines into the table of
 * docs/benchmarks.md.
 *
 * How the model keeps time, and what that means here (checked by the calibration that
 * runs first, and in the model's sources: target/xtensa/op_helper.c,
 * accel/tcg/tcg-accel-ops-rr.c, hw/timer/esp_systimer.c):
 *  - -icount shift=3: every instruction, of EITHER core, advances one virtual clock by
 *    8 ns. CCOUNT and SYSTIMER (esp_timer) are both derived from that clock, so a time
 *    difference is a count of instructions both cores executed meanwhile.
 *  - The two cores run one after the other on one host thread (round robin), each for
 *    a slice that ends at the next timer deadline, at WAITI or at a write of a CCOMPARE
 *    register. So every wait loop below (and on core 1) calls model_yield(): a write of
 *    CCOMPARE2, whose interrupt nobody enables (3 instructions, no effect on silicon),
 *    which makes the model switch cores at once. A cross-core figure is then the sum of
 *    the instructions both cores execute on its path, with about one poll iteration of
 *    the waiting side per hand-over; on silicon the cores overlap, so it is an upper
 *    bound at CPI 1. ring-rtt-16-noyield shows what the slices do without it.
 *  - Figures are given in instructions: CCOUNT ticks times the calibrated
 *    instructions-per-tick, or SYSTIMER microseconds times instructions-per-microsecond.
 *
 * Organisation: helpers (clock, command protocol, statistics), the --wrap stopwatches
 * for the phase breakdown, then one function per figure and the bench task.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_cpu.h"
#include "esp_freertos_hooks.h"
#include "esp_heap_caps.h"
#include "esp_log.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "duet/crypto.h"
#include "duet/port.h"
#include "duet/ring.h"
#include "duet/shm.h"
#include "duet_esp.h"

/* sc_user words and ops shared with the core-1 program bench/target/ring_echo.c */
#include "../../bench_proto.h"

#define BENCH_PRIO  10 /* above the duet supervisor task (CONFIG_DUET_TASK_PRIORITY) */
#define BENCH_STACK 12288
#define MAX_SAMPLES 1000
#define MAX_MSG     1024u

static TaskHandle_t s_bench;
static uint32_t s_seq;
static double s_ipt = 3.125; /* instructions per CCOUNT tick: set by the calibration */
static double s_ipu = 125.0; /* instructions per esp_timer microsecond: idem */
static uint32_t s_samples[MAX_SAMPLES], s_samples2[MAX_SAMPLES];
static uint32_t s_buf[MAX_MSG / 4u];
static duet_ring_t s_echo_tx, s_echo_rx, s_tput_tx, s_tput_rx;

/* ---- helpers -------------------------------------------------------------------------- */

static inline uint32_t ccount(void)
{
    return esp_cpu_get_cycle_count();
}

/* Hand the model's turn to core 1 (see the header). CCOUNT - 1: never fires. */
static inline void model_yield(void)
{
    uint32_t t;
    __asm__ volatile("rsr %0, ccount\n\taddi %0, %0, -1\n\twsr %0, ccompare2"
                     : "=&a"(t)
                     :
                     : "memory");
}

static volatile duet_shm_ctrl_t *ctrl(void)
{
    return duet_esp_ctrl();
}

static uint32_t uld(unsigned i)
{
    return __atomic_load_n(&ctrl()->sc_user[i], __ATOMIC_ACQUIRE);
}

static void ust(unsigned i, uint32_t v)
{
    __atomic_store_n(&ctrl()->sc_user[i], v, __ATOMIC_RELEASE);
}

static uint32_t insn_t(uint32_t ticks)
{
    return (uint32_t)((double)ticks * s_ipt + 0.5);
}

static uint32_t insn_us(uint32_t us)
{
    return (uint32_t)((double)us * s_ipu + 0.5);
}

/* Wait until cond() holds, handing the model to core 1 in between; false on timeout
 * (esp_timer; generous, the model is slow only in host time). */
static bool spin_until(bool (*cond)(uint32_t), uint32_t arg, uint32_t timeout_ms)
{
    int64_t end = esp_timer_get_time() + (int64_t)timeout_ms * 1000;
    while (!cond(arg)) {
        if (esp_timer_get_time() > end)
            return false;
        model_yield();
    }
    return true;
}

static bool acked(uint32_t seq)
{
    return uld(U_ACK) == seq;
}

static bool done(uint32_t seq)
{
    return uld(U_DONE) == seq;
}

static bool hb_epoch(uint32_t epoch)
{
    return uld(U_HB_EPOCH) == epoch;
}

/* Start an op on core 1 and wait until it is taken. A doorbell the ISR variant sends
 * back for the announcing ring is drained, so it cannot end a later wait early. */
static bool issue(uint32_t op, uint32_t a0, uint32_t a1)
{
    ust(U_ARG0, a0);
    ust(U_ARG1, a1);
    s_seq = (s_seq + 1u) & 0xFFFFFFu;
    ust(U_CMD, s_seq << 8 | op);
    duet_port_doorbell_ring();
    bool ok = spin_until(acked, s_seq, 3000);
    (void)duet_port_doorbell_wait(0); /* empty or drained: both fine */
    if (!ok)
        printf("BENCH abort: core 1 did not take op %" PRIu32 "\n", op);
    return ok;
}

/* Core-0 ends of both channels, for the current epoch. */
static bool attach_rings(void)
{
    size_t size = 0;
    void *shm = duet_port_shm(&size);
    uint32_t epoch = __atomic_load_n(&ctrl()->sc_epoch, __ATOMIC_ACQUIRE);
    void *r = NULL;
    size_t fp = 0;
    duet_err_t e = duet_shm_chan_ring(shm, size, "echo", 1, &r, &fp);
    if (e == DUET_OK)
        e = duet_ring_attach_producer(&s_echo_tx, r, fp, epoch);
    if (e == DUET_OK)
        e = duet_shm_chan_ring(shm, size, "echo", 0, &r, &fp);
    if (e == DUET_OK)
        e = duet_ring_attach_consumer(&s_echo_rx, r, fp, epoch);
    if (e == DUET_OK)
        e = duet_shm_chan_ring(shm, size, "tput", 1, &r, &fp);
    if (e == DUET_OK)
        e = duet_ring_attach_producer(&s_tput_tx, r, fp, epoch);
    if (e == DUET_OK)
        e = duet_shm_chan_ring(shm, size, "tput", 0, &r, &fp);
    if (e == DUET_OK)
        e = duet_ring_attach_consumer(&s_tput_rx, r, fp, epoch);
    if (e != DUET_OK)
        printf("BENCH abort: channels: %s\n", duet_err_str(e));
    return e == DUET_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    uint32_t med, min, max;
} stats_t;

/* Sorts v in place. Median of an even count: mean of the two middle values. */
static stats_t stats(uint32_t *v, int n)
{
    stats_t s = {0, 0, 0};
    if (n <= 0)
        return s;
    qsort(v, (size_t)n, sizeof v[0], cmp_u32);
    s.min = v[0];
    s.max = v[n - 1];
    s.med = n % 2 ? v[n / 2] : (uint32_t)(((uint64_t)v[n / 2 - 1] + v[n / 2] + 1) / 2);
    return s;
}


/* ---- phase breakdown: CCOUNT stopwatches around the calls of the bench task --------- */

enum { PH_READ, PH_WRITE, PH_ERASE, PH_SHA, PH_ECDSA, PH_COPY, PH__COUNT };
static const char *const s_ph_name[PH__COUNT] = {"flash_read", "flash_write", "flash_erase",
                                                 "sha256",     "ecdsa",       "copy"};
static bool s_meas;
static uint32_t s_ph[PH__COUNT], s_ph_calls[PH__COUNT];
static volatile uint32_t s_idle; /* idle-task passes on core 0 */

/* Core 0 idle inside a timed window would be virtual time without instructions when
 * core 1 sleeps too (-icount sleep=off skips to the next timer): counted and reported. */
static bool on_idle(void)
{
    s_idle = s_idle + 1u;
    return true;
}
static int64_t s_release_us;
static uint32_t s_release_cc;

static bool ph_on(void)
{
    return s_meas && xTaskGetCurrentTaskHandle() == s_bench;
}

#define PH_CALL(ph, call)                                                                          \
    do {                                                                                           \
        if (!ph_on())                                                                              \
            return call;                                                                           \
        uint32_t t0_ = ccount();                                                                   \
        __typeof__(call) r_ = call;                                                                \
        s_ph[ph] += ccount() - t0_;                                                                \
        s_ph_calls[ph]++;                                                                          \
        return r_;                                                                                 \
    } while (0)

duet_err_t __real_duet_port_flash_read(duet_area_t area, uint32_t off, void *buf, size_t len);
duet_err_t __real_duet_port_flash_write(duet_area_t area, uint32_t off, const void *buf,
                                        size_t len);
duet_err_t __real_duet_port_flash_erase(duet_area_t area, uint32_t off, size_t len);
duet_err_t __real_duet_port_core1_write(uint32_t addr, const void *src, size_t len);
duet_err_t __real_duet_port_core1_zero(uint32_t addr, size_t len);
duet_err_t __real_duet_port_core1_start(const duet_img_info_t *img);
duet_err_t __real_duet_crypto_sha256_update(duet_sha256_t *h, const void *data, size_t len);
duet_err_t __real_duet_crypto_sha256_finish(duet_sha256_t *h, uint8_t out[DUET_CRYPTO_SHA256_LEN]);
duet_err_t __real_duet_crypto_ecdsa_verify(const uint8_t pub[DUET_CRYPTO_PUBKEY_LEN],
                                           const uint8_t digest[DUET_CRYPTO_SHA256_LEN],
                                           const uint8_t sig[DUET_CRYPTO_SIG_LEN]);

duet_err_t __wrap_duet_port_flash_read(duet_area_t area, uint32_t off, void *buf, size_t len);
duet_err_t __wrap_duet_port_flash_read(duet_area_t area, uint32_t off, void *buf, size_t len)
{
    PH_CALL(PH_READ, __real_duet_port_flash_read(area, off, buf, len));
}

duet_err_t __wrap_duet_port_flash_write(duet_area_t area, uint32_t off, const void *buf,
                                        size_t len);
duet_err_t __wrap_duet_port_flash_write(duet_area_t area, uint32_t off, const void *buf, size_t len)
{
    PH_CALL(PH_WRITE, __real_duet_port_flash_write(area, off, buf, len));
}

duet_err_t __wrap_duet_port_flash_erase(duet_area_t area, uint32_t off, size_t len);
duet_err_t __wrap_duet_port_flash_erase(duet_area_t area, uint32_t off, size_t len)
{
    PH_CALL(PH_ERASE, __real_duet_port_flash_erase(area, off, len));
}

duet_err_t __wrap_duet_port_core1_write(uint32_t addr, const void *src, size_t len);
duet_err_t __wrap_duet_port_core1_write(uint32_t addr, const void *src, size_t len)
{
    PH_CALL(PH_COPY, __real_duet_port_core1_write(addr, src, len));
}

duet_err_t __wrap_duet_port_core1_zero(uint32_t addr, size_t len);
duet_err_t __wrap_duet_port_core1_zero(uint32_t addr, size_t len)
{
    PH_CALL(PH_COPY, __real_duet_port_core1_zero(addr, len));
}

duet_err_t __wrap_duet_crypto_sha256_update(duet_sha256_t *h, const void *data, size_t len);
duet_err_t __wrap_duet_crypto_sha256_update(duet_sha256_t *h, const void *data, size_t len)
{
    PH_CALL(PH_SHA, __real_duet_crypto_sha256_update(h, data, len));
}

duet_err_t __wrap_duet_crypto_sha256_finish(duet_sha256_t *h, uint8_t out[DUET_CRYPTO_SHA256_LEN]);
duet_err_t __wrap_duet_crypto_sha256_finish(duet_sha256_t *h, uint8_t out[DUET_CRYPTO_SHA256_LEN])
{
    PH_CALL(PH_SHA, __real_duet_crypto_sha256_finish(h, out));
}

duet_err_t __wrap_duet_crypto_ecdsa_verify(const uint8_t pub[DUET_CRYPTO_PUBKEY_LEN],
                                           const uint8_t digest[DUET_CRYPTO_SHA256_LEN],
                                           const uint8_t sig[DUET_CRYPTO_SIG_LEN]);
duet_err_t __wrap_duet_crypto_ecdsa_verify(const uint8_t pub[DUET_CRYPTO_PUBKEY_LEN],
                                           const uint8_t digest[DUET_CRYPTO_SHA256_LEN],
                                           const uint8_t sig[DUET_CRYPTO_SIG_LEN])
{
    PH_CALL(PH_ECDSA, __real_duet_crypto_ecdsa_verify(pub, digest, sig));
}

/* Core 1 starts the instant it is released and boots while core 0 goes on; on the model
 * core 0 would go on first (logging, returning) and core 1 would boot in between, at
 * each CCOMPARE write of its start-up code. So core 0 only polls here (handing the turn
 * back) until the new program's first heartbeat: the stamp is then release + core 1's
 * own boot, as on silicon. Bounded: a program that never stamps costs ~200k polls. */
static bool shm_hb_epoch(uint32_t epoch)
{
    volatile duet_shm_ctrl_t *c = duet_port_shm(NULL);
    return __atomic_load_n(&c->sc_user[U_HB_EPOCH], __ATOMIC_ACQUIRE) == epoch;
}

duet_err_t __wrap_duet_port_core1_start(const duet_img_info_t *img);
duet_err_t __wrap_duet_port_core1_start(const duet_img_info_t *img)
{
    volatile duet_shm_ctrl_t *c = duet_port_shm(NULL);
    uint32_t epoch = __atomic_load_n(&c->sc_epoch, __ATOMIC_ACQUIRE);
    s_release_us = esp_timer_get_time();
    s_release_cc = ccount();
    duet_err_t e = __real_duet_port_core1_start(img);
    for (uint32_t k = 0; e == DUET_OK && k < 200000u && !shm_hb_epoch(epoch); k++)
        model_yield();
    return e;
}

/* ---- figures ---------------------------------------------------------------------------- */

/* How CCOUNT and esp_timer relate to instructions: a loop of known length on core 0,
 * alone (before core 1 runs) and while core 1 spins without yielding (BURN). */
static void bench_calib_c0(const char *name, uint32_t n)
{
    int64_t u0 = esp_timer_get_time();
    uint32_t ticks = bench_calib_loop(n);
    int64_t u1 = esp_timer_get_time();
    uint32_t insn = 2u * n + 1u;
    printf("BENCH %s n=1 insn=%" PRIu32 " ccount=%" PRIu32 " esp_timer_us=%" PRId64
           " insn_per_tick=%.4f insn_per_us=%.2f\n",
           name, insn, ticks, u1 - u0, (double)insn / ticks, (double)insn / (double)(u1 - u0));
    if (strcmp(name, "calib-c0") == 0 && ticks != 0 && u1 > u0) {
        s_ipt = (double)insn / ticks;
        s_ipu = (double)insn / (double)(u1 - u0);
    }
}

/* Core 1's CCOUNT: the same loop on core 1 while core 0 sleeps (vTaskDelay). */
static void bench_calib_c1(uint32_t n, int reps)
{
    uint32_t v[8];
    for (int i = 0; i < reps; i++) {
        if (!issue(OP_CALIB, 0, n))
            return;
        for (int t = 0; t < 300 && !done(s_seq); t++)
            vTaskDelay(1);
        v[i] = uld(U_RES0);
    }
    stats_t s = stats(v, reps);
    uint32_t insn = 2u * n + 1u;
    printf("BENCH calib-c1 n=%d insn=%" PRIu32 " ccount_min=%" PRIu32 " ccount_max=%" PRIu32
           " insn_per_tick=%.4f\n",
           reps, insn, s.min, s.max, (double)insn / s.min);
}

static void report(const char *name, int n, stats_t s, const char *extra)
{
    printf("BENCH %s n=%d median=%" PRIu32 " min=%" PRIu32 " max=%" PRIu32 " unit=insn%s%s\n", name,
           n, insn_t(s.med), insn_t(s.min), insn_t(s.max), extra[0] ? " " : "", extra);
}

/* Polled round trip of a 16-byte message: core 0 sends on "echo", core 1 echoes it on
 * the other ring, core 0 polls. CCOUNT ticks from before the send to after the receive. */
static void bench_ring_rtt(const char *name, bool yield, int n, int warm)
{
    if (!issue(yield ? OP_ECHO : OP_ECHO_NOYIELD, 0, 0))
        return;
    uint32_t msg[4] = {0, 0x11111111u, 0x22222222u, 0x33333333u}, rx[16];
    size_t len = 0;
    int bad = 0;
    for (int i = -warm; i < n; i++) {
        msg[0] = (uint32_t)i;
        uint32_t t0 = ccount();
        duet_err_t e;
        while ((e = duet_ring_send(&s_echo_tx, msg, sizeof msg)) == DUET_ERR_RING_FULL)
            if (yield)
                model_yield();
        if (e == DUET_OK)
            while ((e = duet_ring_recv(&s_echo_rx, rx, sizeof rx, &len)) == DUET_ERR_RING_EMPTY)
                if (yield)
                    model_yield();
        uint32_t t1 = ccount();
        if (e != DUET_OK || len != sizeof msg || memcmp(rx, msg, sizeof msg) != 0)
            bad++;
        if (i >= 0)
            s_samples[i] = t1 - t0;
    }
    (void)issue(OP_IDLE, 0, 0);
    char extra[48];
    snprintf(extra, sizeof extra, "bad=%d core1_err=%" PRIu32, bad, uld(U_ERR));
    report(name, n, stats(s_samples, n), extra);
}

/* Doorbell round trip: core 0 rings core 1 and waits on its own doorbell (duet's IRAM
 * ISR gives the semaphore duet_port_doorbell_wait takes); core 1 rings back from its
 * doorbell ISR (op DB_ISR, sleeping in WAITI) or after polling duet_rt_doorbell_wait(0)
 * (op DB_POLL). */
static void bench_db_rtt(const char *name, uint32_t op, int n, int warm)
{
    if (!issue(op, 0, 0))
        return;
    int bad = 0;
    for (int i = -warm; i < n; i++) {
        (void)duet_port_doorbell_wait(0); /* nothing stale may end the wait */
        uint32_t t0 = ccount();
        duet_port_doorbell_ring();
        duet_err_t e = duet_port_doorbell_wait(100000);
        uint32_t t1 = ccount();
        if (e != DUET_OK)
            bad++;
        if (i >= 0)
            s_samples[i] = t1 - t0;
    }
    (void)issue(OP_IDLE, 0, 0);
    char extra[32];
    snprintf(extra, sizeof extra, "timeouts=%d", bad);
    report(name, n, stats(s_samples, n), extra);
}

/* Where a polled round trip goes: core 0's send, successful receive and empty polls
 * (CCOUNT around each call, own turn only), core 1's echo (receive + send) and empty
 * polls (ECHO_TIMED: its own CCOUNT). Medians (core 0) and means (core 1). */
static void bench_ring_parts(int n)
{
    if (!issue(OP_ECHO_TIMED, 0, 0))
        return;
    uint32_t msg[4] = {0, 1, 2, 3}, rx[16], empty_sum = 0, empty_n = 0;
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        msg[0] = (uint32_t)i;
        uint32_t t0 = ccount();
        duet_err_t e = duet_ring_send(&s_echo_tx, msg, sizeof msg);
        uint32_t t1 = ccount(), ta, tb;
        for (;;) {
            ta = ccount();
            e = duet_ring_recv(&s_echo_rx, rx, sizeof rx, &len);
            tb = ccount();
            if (e != DUET_ERR_RING_EMPTY)
                break;
            empty_sum += tb - ta;
            empty_n++;
            model_yield();
        }
        s_samples[i] = t1 - t0;
        s_samples2[i] = tb - ta;
    }
    if (!issue(OP_IDLE, 0, 0))
        return;
    uint32_t c1_echo = uld(U_RES0), c1_empty = uld(U_RES1);
    printf("BENCH ring-rtt-16-parts n=%d c0_send=%" PRIu32 " c0_recv=%" PRIu32 " c0_empty=%" PRIu32
           " c1_echo=%" PRIu32 " c1_empty=%" PRIu32 " unit=insn\n",
           n, insn_t(stats(s_samples, n).med), insn_t(stats(s_samples2, n).med),
           empty_n ? insn_t((empty_sum + empty_n / 2) / empty_n) : 0, insn_t((c1_echo + 50) / 100),
           insn_t((c1_empty + 50) / 100));
}

/* Where a doorbell round trip (ISR variant) goes: core 1's part = its interrupt entry
 * (ISR_COST: it rings itself) + callback -> back in WAITI (DB_ISR_TIMED); the rest of
 * the total is core 0's (ring, block on the semaphore, idle, WAITI; interrupt, give,
 * switch back). */
static void bench_db_parts(int n)
{
    if (!issue(OP_ISR_COST, 0, 200) || !spin_until(done, s_seq, 3000))
        return;
    uint32_t entry = uld(U_RES0), exit_ = uld(U_RES1), err = uld(U_ERR);
    if (!issue(OP_DB_ISR_TIMED, 0, 0))
        return;
    for (int i = 0; i < n; i++) {
        (void)duet_port_doorbell_wait(0);
        uint32_t t0 = ccount();
        duet_port_doorbell_ring();
        (void)duet_port_doorbell_wait(100000);
        s_samples[i] = ccount() - t0;
    }
    if (!issue(OP_IDLE, 0, 0))
        return;
    uint32_t cb_to_sleep = uld(U_RES0), m = uld(U_RES1);
    uint32_t total = insn_t(stats(s_samples, n).med);
    uint32_t c1 = insn_t((entry + cb_to_sleep + 50) / 100);
    printf("BENCH db-rtt-isr-parts n=%d total=%" PRIu32 " c1_entry=%" PRIu32 " c1_exit=%" PRIu32
           " c1_cb_to_sleep=%" PRIu32 " c1=%" PRIu32 " c0=%" PRIu32 " unit=insn wakes=%" PRIu32
           " core1_err=%" PRIu32 "\n",
           n, total, insn_t((entry + 50) / 100), insn_t((exit_ + 50) / 100),
           insn_t((cb_to_sleep + 50) / 100), c1, total > c1 ? total - c1 : 0, m, err);
}

/* Per-message cost of each side, alone: 'k' messages (fewer than the ring holds) sent by
 * one core while the other sleeps, then received by the other while the first sleeps,
 * 'reps' times; medians of ticks per batch. The core that sleeps is halted (core 1 in
 * WAITI, core 0 in its idle task), so each batch counts only its own core (on the model,
 * a streaming turn can also end on a time slice, which would mix the two). */
static void tput_sides(bool c1_to_c0, uint32_t size, uint32_t k, int reps, uint32_t *c0_msg,
                       uint32_t *c1_msg, uint32_t *bad)
{
    size_t len = 0;
    for (int r = 0; r < reps; r++) {
        uint32_t t, c0 = 0;
        if (c1_to_c0) {
            if (!issue(OP_TX, size, k) || !spin_until(done, s_seq, 3000))
                return;
            t = ccount();
            for (uint32_t n = 0; n < k; n++) {
                duet_err_t e = duet_ring_recv(&s_tput_rx, s_buf, sizeof s_buf, &len);
                *bad += e != DUET_OK || len != size || s_buf[0] != n;
            }
            c0 = ccount() - t;
        } else {
            t = ccount();
            for (uint32_t n = 0; n < k; n++) {
                s_buf[0] = n;
                *bad += duet_ring_send(&s_tput_tx, s_buf, size) != DUET_OK;
            }
            c0 = ccount() - t;
            if (!issue(OP_RX, size, k) || !spin_until(done, s_seq, 3000))
                return;
        }
        *bad += uld(U_ERR) != 0 || uld(U_RES1) != 0; /* core 1 never had to wait */
        s_samples[r] = c0;
        s_samples2[r] = uld(U_RES0);
    }
    *c0_msg = insn_t(stats(s_samples, reps).med) / k;
    *c1_msg = insn_t(stats(s_samples2, reps).med) / k;
}

/* Throughput: 'count' messages of 'size' bytes on "tput", core 1 -> core 0 (c1_to_c0)
 * or core 0 -> core 1, streamed through the 4 KiB ring. total = CCOUNT from the command
 * to the last message: both cores' instructions, one after the other on the model (each
 * hands over when the ring is full / empty). c0_msg / c1_msg: tput_sides(). */
static void bench_tput(bool c1_to_c0, uint32_t size, uint32_t count, uint32_t k)
{
    uint32_t bad = 0, t0 = ccount();
    if (!issue(c1_to_c0 ? OP_TX : OP_RX, size, count))
        return;
    for (uint32_t n = 0; n < count;) {
        duet_err_t e;
        size_t len = 0;
        if (c1_to_c0) {
            e = duet_ring_recv(&s_tput_rx, s_buf, sizeof s_buf, &len);
            if (e == DUET_OK && (len != size || s_buf[0] != n))
                bad++;
        } else {
            s_buf[0] = n;
            e = duet_ring_send(&s_tput_tx, s_buf, size);
        }
        if (e == DUET_OK) {
            n++;
            continue;
        }
        if (e != DUET_ERR_RING_EMPTY && e != DUET_ERR_RING_FULL) {
            bad++;
            break;
        }
        model_yield();
    }
    bool ok = spin_until(done, s_seq, 5000);
    uint32_t total = insn_t(ccount() - t0);
    uint32_t err = uld(U_ERR), yields = uld(U_RES1), c0_msg = 0, c1_msg = 0;
    if (ok)
        tput_sides(c1_to_c0, size, k, 20, &c0_msg, &c1_msg, &bad);
    printf("BENCH tput-%s-%" PRIu32 " n=%" PRIu32 " bytes=%" PRIu32 " total=%" PRIu32
           " c0_msg=%" PRIu32 " c1_msg=%" PRIu32 " batch=%" PRIu32 " unit=insn bad=%" PRIu32
           " core1_err=%" PRIu32 " core1_yields=%" PRIu32 "\n",
           c1_to_c0 ? "c1c0" : "c0c1", size, count, size * count, total, c0_msg, c1_msg, k, bad,
           err, yields);
}

/* Restart (duet_esp_restart) or hot swap (duet_esp_install of the RAM image, activate):
 * from the call on core 0 to core 1's first heartbeat = call -> release of core 1
 * (core 0's CCOUNT; core 0 alone, except the old program's rare timer wake-ups) +
 * release -> core 1's stamp right after its first heartbeat (SYSTIMER, the clock
 * esp_timer reads: core 1's boot, ROM + start-up + duet_main, while core 0 only polls,
 * see the core1_start wrapper). Plus the stopwatches. */
typedef struct {
    uint32_t total[MAX_SAMPLES / 50], to_release[MAX_SAMPLES / 50], boot[MAX_SAMPLES / 50];
    uint32_t idle, ecdsa_calls;
    uint32_t ph[PH__COUNT][MAX_SAMPLES / 50];
} swap_stats_t;

static swap_stats_t s_sw;

static bool confirmed(uint32_t unused)
{
    (void)unused;
    duet_sup_status_t st;
    if (duet_esp_status(&st) != DUET_OK || st.state != DUET_SUP_RUNNING || st.active_slot < 0 ||
        st.active_slot > 1)
        return false;
    return st.slots.sr_status[st.active_slot] == DUET_SLOT_CONFIRMED;
}

/* The images the hot swap installs, each one the device has not seen: duet may remember
 * what it verified (a cache keyed by the signed head and signature would turn a repeat
 * of one image into a swap without a signature check), so every swap of a run brings a
 * different version, packed and signed by scripts/target-bench.sh (signatures are
 * deterministic: only a different image gives a different one). */
#define SWAP_MAX 4
static const uint8_t *s_swap_src[SWAP_MAX], *s_swap_end[SWAP_MAX];
static int s_swap_n;
static uint8_t *s_swap_ram;

static bool one_swap(int i, bool swap)
{
    const uint8_t *img = NULL;
    size_t len = 0;
    if (swap) {
        int k = i % s_swap_n;
        len = (size_t)(s_swap_end[k] - s_swap_src[k]);
        memcpy(s_swap_ram, s_swap_src[k], len); /* "image in RAM", outside the window */
        img = s_swap_ram;
    }

    /* The supervisor drains logs and confirms the last install first: an update must not
     * replace the rollback target of a PENDING image (ota.c), and restarts of a PENDING
     * image would use up its trial boots. */
    vTaskDelay(pdMS_TO_TICKS(30));
    for (int t = 0; t < 500 && !confirmed(0); t++)
        vTaskDelay(pdMS_TO_TICKS(10));
    memset(s_ph, 0, sizeof s_ph);
    memset(s_ph_calls, 0, sizeof s_ph_calls);
    s_meas = true;
    uint32_t idle0 = s_idle;
    uint32_t c0 = ccount();
    duet_img_info_t info;
    duet_err_t e = img != NULL ? duet_esp_install(img, len, true, &info) : duet_esp_restart();
    s_meas = false;
    uint32_t epoch = __atomic_load_n(&ctrl()->sc_epoch, __ATOMIC_ACQUIRE);
    if (e != DUET_OK || !spin_until(hb_epoch, epoch, 5000)) {
        printf("BENCH abort: %s %d: %s, no first heartbeat of epoch %" PRIu32 "\n",
               img != NULL ? "hot swap" : "restart", i, duet_err_str(e), epoch);
        return false;
    }
    /* CCOUNT up to the release; SYSTIMER only for core 1's short boot: the model's
     * SYSTIMER drops the fraction of a tick at every read (hw/timer/esp_systimer.c), so
     * over a long window with many reads (the flash driver reads it per operation) it
     * falls behind CCOUNT, by ~140 ppm in a restart. */
    uint32_t hb = uld(U_HB_US);
    s_sw.idle += s_idle - idle0;
    s_sw.to_release[i] = insn_t(s_release_cc - c0);
    s_sw.boot[i] = insn_us(hb - (uint32_t)s_release_us);
    s_sw.total[i] = s_sw.to_release[i] + s_sw.boot[i];
    for (int p = 0; p < PH__COUNT; p++)
        s_sw.ph[p][i] = insn_t(s_ph[p]);
    printf("SAMPLE %d total=%" PRIu32 " to_release=%" PRIu32 " boot=%" PRIu32 " erase=%" PRIu32
           " write=%" PRIu32 " ecdsa=%" PRIu32 " idle=%" PRIu32 " calls:",
           i, s_sw.total[i], s_sw.to_release[i], s_sw.boot[i], s_sw.ph[PH_ERASE][i],
           s_sw.ph[PH_WRITE][i], s_sw.ph[PH_ECDSA][i], s_idle - idle0);
    for (int p = 0; p < PH__COUNT; p++)
        printf(" %s=%" PRIu32, s_ph_name[p], s_ph_calls[p]);
    printf("\n");
    s_sw.ecdsa_calls = s_ph_calls[PH_ECDSA];
    return true;
}

static void bench_swaps(const char *name, bool swap, int n)
{
    int done_n = 0;
    s_sw.idle = 0;
    while (done_n < n && one_swap(done_n, swap))
        done_n++;
    if (done_n == 0)
        return;
    char extra[256];
    int o = 0;
    o += snprintf(extra + o, sizeof extra - o,
                  "idle=%" PRIu32 " ecdsa_calls=%" PRIu32 " call_to_release=%" PRIu32, s_sw.idle,
                  s_sw.ecdsa_calls, stats(s_sw.to_release, done_n).med);
    o += snprintf(extra + o, sizeof extra - o, " release_to_hb=%" PRIu32,
                  stats(s_sw.boot, done_n).med);
    for (int p = 0; p < PH__COUNT; p++)
        o += snprintf(extra + o, sizeof extra - o, " %s=%" PRIu32, s_ph_name[p],
                      stats(s_sw.ph[p], done_n).med);
    stats_t s = stats(s_sw.total, done_n);
    printf("BENCH %s n=%d median=%" PRIu32 " min=%" PRIu32 " max=%" PRIu32 " unit=insn %s\n", name,
           done_n, s.med, s.min, s.max, extra);
}

#define SWAP_IMAGE(k)                                                                              \
    extern const uint8_t _binary_bench_swap_##k##_img_start[], _binary_bench_swap_##k##_img_end[]
#if BENCH_SWAP_COUNT >= 1
SWAP_IMAGE(0);
#endif
#if BENCH_SWAP_COUNT >= 2
SWAP_IMAGE(1);
#endif
#if BENCH_SWAP_COUNT >= 3
SWAP_IMAGE(2);
#endif
#if BENCH_SWAP_COUNT >= 4
SWAP_IMAGE(3);
#endif
#define SWAP_ADD(k)                                                                                \
    do {                                                                                           \
        s_swap_src[s_swap_n] = _binary_bench_swap_##k##_img_start;                                 \
        s_swap_end[s_swap_n++] = _binary_bench_swap_##k##_img_end;                                 \
    } while (0)

static void bench_hotswap(int n)
{
    s_swap_n = 0;
#if BENCH_SWAP_COUNT >= 1
    SWAP_ADD(0);
#endif
#if BENCH_SWAP_COUNT >= 2
    SWAP_ADD(1);
#endif
#if BENCH_SWAP_COUNT >= 3
    SWAP_ADD(2);
#endif
#if BENCH_SWAP_COUNT >= 4
    SWAP_ADD(3);
#endif
    if (s_swap_n == 0) {
        printf("BENCH hotswap skipped: built without BENCH_SWAP_DIR\n");
        return;
    }
    size_t len = 0;
    for (int k = 0; k < s_swap_n; k++)
        if ((size_t)(s_swap_end[k] - s_swap_src[k]) > len)
            len = (size_t)(s_swap_end[k] - s_swap_src[k]);
    s_swap_ram = heap_caps_malloc(len, MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT);
    if (s_swap_ram == NULL) {
        printf("BENCH abort: no RAM for a %u-byte image\n", (unsigned)len);
        return;
    }
    char name[32];
    snprintf(name, sizeof name, "hotswap-%u", (unsigned)(s_swap_end[0] - s_swap_src[0]));
    bench_swaps(name, true, n);
    free(s_swap_ram);
    s_swap_ram = NULL;
}

static bool wait_first_run(void)
{
    for (int t = 0; t < 500; t++) {
        duet_sup_status_t st;
        if (duet_esp_status(&st) == DUET_OK && st.state == DUET_SUP_RUNNING && hb_epoch(st.epoch))
            return true;
        vTaskDelay(pdMS_TO_TICKS(10));
    }
    return false;
}

static void bench_task(void *arg)
{
    (void)arg;
    s_bench = xTaskGetCurrentTaskHandle(); /* before anything the stopwatches check */
    printf("BENCH info idf=%s shm=%d tick_hz=%d core0_opt=O2\n", esp_get_idf_version(),
           CONFIG_DUET_SHM_SIZE, CONFIG_FREERTOS_HZ);
    if (esp_register_freertos_idle_hook_for_cpu(on_idle, 0) != ESP_OK)
        printf("BENCH abort: no idle hook\n");
    /* 1. the clocks, core 0 alone (core 1 is still parked by ESP-IDF) */
    bench_calib_c0("calib-c0", 1000000u);

    duet_esp_config_t cfg;
    duet_esp_config_default(&cfg);
    cfg.sup.shm.chan_count = 2;
    cfg.sup.shm.chans[0].name = "echo";
    cfg.sup.shm.chans[0].ring_size = 256;
    cfg.sup.shm.chans[1].name = "tput";
    cfg.sup.shm.chans[1].ring_size = 4096;
    duet_err_t e = duet_esp_start(&cfg);
    if (e != DUET_OK || !wait_first_run() || !attach_rings()) {
        printf("BENCH abort: core 1 not running: %s\n", duet_err_str(e));
        printf("BENCH done\n");
        vTaskDelete(NULL);
        return;
    }
    s_seq = uld(U_ACK);

    bench_calib_c1(50000u, 5);
    if (issue(OP_BURN, 0, 0)) {
        bench_calib_c0("calib-c0-shared", 1000000u); /* core 1 spinning: the clock is shared */
        (void)issue(OP_IDLE, 0, 0);
    }

    /* 2. ring and doorbell round trips */
    bench_ring_rtt("ring-rtt-16", true, 1000, 50);
    bench_ring_parts(1000);
    bench_ring_rtt("ring-rtt-16-noyield", false, 20, 2);
    bench_db_rtt("db-rtt-isr", OP_DB_ISR, 1000, 50);
    bench_db_parts(200);
    bench_db_rtt("db-rtt-poll", OP_DB_POLL, 1000, 50);

    /* 3. throughput, both ways */
    /* batch: messages that surely fit in the 4 KiB ring (records of 20 / 68 / 1088 B) */
    static const uint32_t sizes[3] = {16, 64, 1024}, counts[3] = {20000, 10000, 2000},
                          batch[3] = {128, 48, 3};
    for (int i = 0; i < 3; i++)
        bench_tput(true, sizes[i], counts[i], batch[i]);
    for (int i = 0; i < 3; i++)
        bench_tput(false, sizes[i], counts[i], batch[i]);

    /* 4. restart (slot B empty: one image to verify), quiet (duet's INFO lines off) */
    bench_swaps("restart", false, 10);
    esp_log_level_set("duet", ESP_LOG_WARN);
    bench_swaps("restart-quiet", false, 10);
    esp_log_level_set("duet", ESP_LOG_INFO);

    /* 5. hot swaps of ~32 KiB signed images (a new version each), then restarts with both
     * slots full */
    bench_hotswap(4);
    bench_swaps("restart-after-swap", false, 10);

    printf("BENCH done\n");
    vTaskDelete(NULL);
}

void app_main(void)
{
    if (xTaskCreate(bench_task, "bench", BENCH_STACK, NULL, BENCH_PRIO, NULL) != pdPASS)
        printf("BENCH abort: no bench task\nBENCH done\n");
}
