/*
 * ring_echo - the core-1 program of `make target-bench` (scripts/target-bench.sh). Core 0
 * (bench/target/fw) drives it through the sc_user words and two channels, "echo" (16-byte
 * round trips) and "tput" (throughput), and measures; this side only echoes, streams,
 * answers doorbells and reports its own cycle counts.
 *
 * Commands (sc_user; core 0 writes CMD/ARG*, core 1 everything else):
 *   U_CMD       (seq << 8) | op; a new seq starts op. Core 0 rings the doorbell after
 *               writing it, which wakes this program when it sleeps.
 *   U_ACK       seq of the last command taken
 *   U_ARG0/1    message bytes / count (or loop iterations)
 *   U_RES0/1    results of a finite op (CCOUNT ticks of own work, yields); U_ERR its error
 *   U_DONE      seq of the last finite op finished (written after the results)
 *   U_HB_US     SYSTIMER microseconds (low 32 bits) just after the first heartbeat of
 *               this run; U_HB_EPOCH the epoch it belongs to (written last)
 * Ops that last until the next command: IDLE (sleep in WAITI; the core-1 timer wakes it
 * for heartbeats), ECHO / ECHO_NOYIELD (poll "echo", send every message back), DB_ISR
 * (sleep; the doorbell ISR rings core 0 back), DB_POLL (poll duet_rt_doorbell_wait(0),
 * ring back), BURN (spin, never yield); ECHO_TIMED and DB_ISR_TIMED are ECHO and DB_ISR
 * with CCOUNT stamps, whose means (hundredths of a tick) land in U_RES0/1 when the op
 * ends. Finite ops: TX / RX (stream ARG1 messages of ARG0 bytes on "tput"), CALIB (a
 * loop of exactly 2 * ARG1 + 1 instructions, interrupts off), ISR_COST (ARG1 doorbell
 * interrupts core 1 raises itself: mean entry and exit). A restart drops any command:
 * the program starts in IDLE and acknowledges whatever U_CMD holds. At boot U_RES0 is
 * not touched, so a result survives until core 0 has read it.
 *
 * Why the waits look odd: Espressif's QEMU with -icount runs the two cores one after the
 * other on one host thread, each for a time slice of up to milliseconds, and a core that
 * spins keeps its slice. Every wait loop here therefore either sleeps (WAITI: the model
 * switches to the other core at once) or calls model_yield(), a write of CCOMPARE2. Its
 * interrupt is never enabled, so on silicon it does nothing but cost three instructions;
 * the model ends the core's turn on it (target/xtensa: update_ccompare sets
 * yield_needed). ECHO_NOYIELD and BURN leave it out on purpose, to show the slices.
 *
 * The PC build (simulator) and the call0 CI build have no WAITI/CCOMPARE2 code: they poll.
 */
#include <stddef.h>
#include <stdint.h>

#include "duet/app.h"

#if defined(__XTENSA__) && defined(__XTENSA_WINDOWED_ABI__)
#define BENCH_S3 1 /* the real ESP32-S3 build (xtensa-esp32s3-elf, windowed ABI) */
#include "duet/soc_esp32s3.h"
#include "duet/xt_intr.h"
#else
#define BENCH_S3 0
#endif

#include "bench_proto.h"

#define MAX_MSG     1024u
#define TICK_CYCLES 240000u /* heartbeat wake-up: 1 ms at 240 MHz (6 ms of CCOUNT on the model) */

static duet_shm_ctrl_t *s_c;
static uint32_t s_ack;
static volatile uint32_t s_op = OP_IDLE;
static uint32_t s_buf[MAX_MSG / 4u];
static volatile uint32_t s_t_cb;  /* CCOUNT at the doorbell callback (0 = none yet) */
static uint32_t s_db_sum, s_db_n; /* DB_ISR_TIMED: callback -> back to sleep */

#ifdef RING_ECHO_BALLAST
/* Makes ring_echo_big a ~32 KiB image (the hot-swap benchmark). Read once at run time
 * with an index the compiler cannot know, so the linker keeps all of it. */
static const uint8_t s_ballast[RING_ECHO_BALLAST] = {1};
#endif

static uint32_t ld(unsigned i)
{
    return __atomic_load_n(&s_c->sc_user[i], __ATOMIC_ACQUIRE);
}

static void st(unsigned i, uint32_t v)
{
    __atomic_store_n(&s_c->sc_user[i], v, __ATOMIC_RELEASE);
}

static int cmd_pending(void)
{
    return (ld(U_CMD) >> 8) != s_ack;
}

/* Mean in hundredths (core 0 converts ticks to instructions). */
static uint32_t mean100(uint32_t sum, uint32_t n)
{
    return n != 0 ? (uint32_t)(((uint64_t)sum * 100u + n / 2u) / n) : 0;
}

/* ---- model / chip specifics ------------------------------------------------------ */

/* CCOUNT inline: a call would be part of every short interval measured with it. */
static inline uint32_t cyc(void)
{
#if BENCH_S3
    uint32_t v;
    __asm__ volatile("rsr %0, ccount" : "=a"(v) : : "memory");
    return v;
#else
    return duet_rt_cycles();
#endif
}

static void model_yield(void)
{
#if BENCH_S3
    uint32_t t;
    /* CCOUNT - 1: the comparator is as far away as it can be, so it never fires. */
    __asm__ volatile("rsr %0, ccount\n\taddi %0, %0, -1\n\twsr %0, ccompare2"
                     : "=&a"(t)
                     :
                     : "memory");
#endif
}

#if BENCH_S3
static uint32_t irq_mask(void)
{
    uint32_t ps;
    __asm__ volatile("rsil %0, 1" : "=a"(ps) : : "memory");
    return ps;
}

static void irq_restore(uint32_t ps)
{
    __asm__ volatile("wsr %0, ps\n\trsync" : : "a"(ps) : "memory");
}

/* WAITI 0 lowers the interrupt level and waits in one step: called with level-1
 * interrupts masked after the last check, no doorbell or timer can slip in between. */
static void wait_irq_masked(void)
{
    __asm__ volatile("waiti 0" : : : "memory");
}

static void on_doorbell(void *arg)
{
    (void)arg;
    s_t_cb = cyc();
    if (s_op == OP_DB_ISR || s_op == OP_DB_ISR_TIMED)
        duet_rt_doorbell_ring(); /* the answer, straight from the ISR */
}

static void on_tick(void *arg)
{
    (void)arg; /* the wake-up is the point; the main loop beats */
}

/* The doorbell interrupt only where the program sleeps; polling ops read the register
 * (duet_rt_doorbell_wait(0)) or the command word instead. */
static void doorbell_irq(int on)
{
    if (on)
        (void)duet_xt_intr_enable(DUET_S3_DOORBELL_INUM); /* inum is valid: cannot fail */
    else
        (void)duet_xt_intr_disable(DUET_S3_DOORBELL_INUM);
}
#endif

/* Sleep until an interrupt, unless a command is already waiting. */
static void sleep_until_irq(void)
{
#if BENCH_S3
    uint32_t ps = irq_mask();
    if (!cmd_pending()) {
        if (s_op == OP_DB_ISR_TIMED && s_t_cb != 0) {
            s_db_sum += cyc() - s_t_cb;
            s_db_n++;
            s_t_cb = 0;
        }
        wait_irq_masked();
    }
    irq_restore(ps);
#else
    (void)duet_rt_doorbell_wait(1000u);
#endif
}

/* Exactly 2n + 1 instructions between the two CCOUNT reads (addi + bnez per pass).
 * Returns the CCOUNT ticks they took. */
static uint32_t calib_loop(uint32_t n)
{
#if BENCH_S3
    return bench_calib_loop(n);
#else
    uint32_t t0 = duet_rt_cycles();
    for (volatile uint32_t k = n; k != 0; k = k - 1u) {
    }
    return duet_rt_cycles() - t0;
#endif
}

/* ---- ops --------------------------------------------------------------------------- */

static void fail(duet_err_t e)
{
    if (ld(U_ERR) == 0)
        st(U_ERR, (uint32_t)e);
}

/* Echo every message on "echo" until a command arrives. Checks the command word and
 * beats every 64 empty polls, so the poll itself stays short. ECHO_TIMED also stamps
 * each receive: echo = receive + send of one message, empty = a receive that found none. */
static void op_echo(duet_chan_t *ch, uint32_t op)
{
    const int yield = op != OP_ECHO_NOYIELD, timed = op == OP_ECHO_TIMED;
    uint32_t msg[16], echo_sum = 0, echo_n = 0, empty_sum = 0, empty_n = 0;
    size_t len = 0;
    for (uint32_t idle = 0;;) {
        uint32_t t = timed ? cyc() : 0;
        duet_err_t e = duet_rt_chan_recv(ch, msg, sizeof msg, &len);
        if (e == DUET_OK) {
            while ((e = duet_rt_chan_send(ch, msg, len)) == DUET_ERR_RING_FULL)
                if (yield)
                    model_yield();
            if (timed) {
                echo_sum += cyc() - t;
                echo_n++;
            }
            if (e != DUET_OK)
                fail(e);
            continue;
        }
        if (timed) {
            empty_sum += cyc() - t;
            empty_n++;
        }
        if (e != DUET_ERR_RING_EMPTY) {
            fail(e);
            break;
        }
        if (yield)
            model_yield();
        if ((++idle & 63u) == 0) {
            duet_rt_heartbeat();
            if (cmd_pending() || duet_rt_should_stop())
                break;
        }
    }
    if (timed) {
        st(U_RES0, mean100(echo_sum, echo_n));
        st(U_RES1, mean100(empty_sum, empty_n));
    }
}

/* The ring is full (tx) or empty (rx): book the cycles worked since t, beat now and
 * then, hand the model to core 0; returns the new start of work. */
static uint32_t hand_over(uint32_t *work, uint32_t *yields, uint32_t t)
{
    *work += duet_rt_cycles() - t;
    if ((++*yields & 255u) == 0)
        duet_rt_heartbeat();
    model_yield();
    return duet_rt_cycles();
}

/* Stream 'count' messages of 'size' bytes (word 0 = sequence number) to core 0.
 * Own work = CCOUNT ticks outside model_yield(), i.e. this core's instructions only. */
static void op_tx(duet_chan_t *ch, uint32_t size, uint32_t count)
{
    uint32_t work = 0, yields = 0;
    uint32_t t = duet_rt_cycles();
    for (uint32_t i = 0; i < count;) {
        s_buf[0] = i;
        duet_err_t e = duet_rt_chan_send(ch, s_buf, size);
        if (e == DUET_OK) {
            i++;
            continue;
        }
        if (e != DUET_ERR_RING_FULL) {
            fail(e);
            break;
        }
        t = hand_over(&work, &yields, t);
    }
    work += duet_rt_cycles() - t;
    st(U_RES0, work);
    st(U_RES1, yields);
}

/* Receive 'count' messages from core 0 and check length and sequence. */
static void op_rx(duet_chan_t *ch, uint32_t size, uint32_t count)
{
    uint32_t work = 0, yields = 0;
    size_t len = 0;
    uint32_t t = duet_rt_cycles();
    for (uint32_t n = 0; n < count;) {
        duet_err_t e = duet_rt_chan_recv(ch, s_buf, sizeof s_buf, &len);
        if (e == DUET_OK) {
            if (len != size || s_buf[0] != n)
                fail(DUET_ERR_RING_CORRUPT); /* wrong message: reported, not hidden */
            n++;
            continue;
        }
        if (e != DUET_ERR_RING_EMPTY) {
            fail(e);
            break;
        }
        t = hand_over(&work, &yields, t);
    }
    work += duet_rt_cycles() - t;
    st(U_RES0, work);
    st(U_RES1, yields);
}

/* Answer each doorbell by polling for it (the ISR variant answers in on_doorbell). */
static void op_db_poll(void)
{
    for (uint32_t idle = 0;;) {
        if (duet_rt_doorbell_wait(0) == DUET_OK) {
            duet_rt_doorbell_ring();
            continue;
        }
        model_yield();
        if ((++idle & 63u) == 0) {
            duet_rt_heartbeat();
            if (cmd_pending() || duet_rt_should_stop())
                return;
        }
    }
}

#if BENCH_S3
/* Interrupt entry and exit on core 1: raise the own doorbell (FROM_CPU, core 0 -> core 1
 * source) with interrupts on; entry = write -> callback, exit = callback -> back here. */
static void op_isr_cost(uint32_t count)
{
    uint32_t in = 0, out = 0, n = 0;
    for (uint32_t k = 0; k < count; k++) {
        s_t_cb = 0;
        uint32_t t0 = cyc();
        *(volatile uint32_t *)DUET_S3_CPU_INTR_FROM_CPU_REG(DUET_S3_DOORBELL_TO_C1) =
            DUET_S3_CPU_INTR_FROM_CPU_BIT;
        for (unsigned spin = 0; spin < 1000u && s_t_cb == 0; spin++) {
        }
        uint32_t t1 = cyc(), cb = s_t_cb;
        if (cb == 0)
            continue; /* not taken: counted as missing (n < count) */
        in += cb - t0;
        out += t1 - cb;
        n++;
    }
    st(U_RES0, mean100(in, n));
    st(U_RES1, mean100(out, n));
    if (n != count)
        fail(DUET_ERR_TIMEOUT);
}
#endif

static void op_burn(void)
{
    for (uint32_t n = 0;; n++) {
        if ((n & 1023u) == 0) {
            duet_rt_heartbeat();
            if (cmd_pending() || duet_rt_should_stop())
                return;
        }
    }
}

/* Take a new command: acknowledge it, run a finite op to the end, or return the op to
 * stay in. */
static uint32_t take(uint32_t cmd, duet_chan_t *tput)
{
    uint32_t op = cmd & 0xFFu;
    if (s_op == OP_DB_ISR_TIMED) {
        st(U_RES0, mean100(s_db_sum, s_db_n));
        st(U_RES1, s_db_n);
    }
    s_db_sum = s_db_n = 0;
    s_t_cb = 0;
    s_ack = cmd >> 8;
    st(U_ERR, 0);
    st(U_ACK, s_ack);
    (void)duet_rt_doorbell_wait(0); /* the ring that announced the command */
    s_op = op;
#if BENCH_S3
    doorbell_irq(op == OP_IDLE || op == OP_DB_ISR || op == OP_DB_ISR_TIMED || op == OP_ISR_COST);
#endif
    uint32_t a0 = ld(U_ARG0), a1 = ld(U_ARG1);
    switch (op) {
    case OP_TX:
        op_tx(tput, a0, a1);
        break;
    case OP_RX:
        op_rx(tput, a0, a1);
        break;
    case OP_CALIB:
        st(U_RES0, calib_loop(a1));
        st(U_RES1, 0);
        break;
#if BENCH_S3
    case OP_ISR_COST:
        op_isr_cost(a1);
        break;
#endif
    default:
        return op; /* a mode: stays until the next command */
    }
    st(U_DONE, s_ack);
    s_op = OP_IDLE;
#if BENCH_S3
    doorbell_irq(1);
#endif
    return OP_IDLE;
}

static void open_or_panic(const char *name, duet_chan_t *ch)
{
    duet_err_t e = duet_rt_chan_open(name, ch);
    if (e != DUET_OK) {
        DUET_LOGE("ring_echo: no channel \"%s\": %s", name, duet_err_name(e));
        duet_rt_panic("ring_echo needs channels echo and tput");
    }
}

void duet_main(void)
{
    /* First thing: the heartbeat core 0 times restarts and hot swaps to. */
    duet_rt_heartbeat();
    s_c = duet_rt_ctrl();
    st(U_HB_US, (uint32_t)duet_rt_time_us());
    st(U_HB_EPOCH, duet_rt_epoch());
    s_ack = ld(U_CMD) >> 8; /* a restart drops any command */
    st(U_ACK, s_ack);

    duet_chan_t echo, tput;
    open_or_panic("echo", &echo);
    open_or_panic("tput", &tput);
#if BENCH_S3
    if (duet_xt_doorbell_irq_enable(on_doorbell, NULL) != DUET_OK ||
        duet_xt_timer_start(TICK_CYCLES, on_tick, NULL) != DUET_OK)
        duet_rt_panic("ring_echo: doorbell or timer interrupt refused");
#endif
#ifdef RING_ECHO_BALLAST
    DUET_LOGI("ring_echo up (epoch %u, %u B ballast, byte %u)", (unsigned)duet_rt_epoch(),
              (unsigned)sizeof s_ballast, (unsigned)s_ballast[duet_rt_epoch() % sizeof s_ballast]);
#else
    DUET_LOGI("ring_echo up (epoch %u)", (unsigned)duet_rt_epoch());
#endif

    uint32_t op = OP_IDLE;
    while (!duet_rt_should_stop()) {
        duet_rt_heartbeat();
        uint32_t cmd = ld(U_CMD);
        if ((cmd >> 8) != s_ack)
            op = take(cmd, &tput);
        switch (op) {
        case OP_ECHO:
        case OP_ECHO_NOYIELD:
        case OP_ECHO_TIMED:
            op_echo(&echo, op);
            break;
        case OP_DB_POLL:
            op_db_poll();
            break;
        case OP_BURN:
            op_burn();
            break;
        default: /* IDLE, DB_ISR(_TIMED): sleep; the ISR answers doorbells */
            sleep_until_irq();
            break;
        }
    }
#if BENCH_S3
    duet_xt_timer_stop();
#endif
    DUET_LOGI("ring_echo: stop requested");
}
