/*
 * bench_proto.h - the protocol between the benchmark firmware (bench/target/fw) and the
 * core-1 program ring_echo: which sc_user word carries what, and the operations core 0
 * asks for. One definition for both sides.
 */
#ifndef DUET_BENCH_PROTO_H
#define DUET_BENCH_PROTO_H

/* sc_user words */
enum { U_CMD, U_ACK, U_ARG0, U_ARG1, U_RES0, U_RES1, U_DONE, U_HB_US, U_HB_EPOCH, U_ERR };

/* operations (U_CMD) */
enum {
    OP_IDLE = 0,
    OP_ECHO = 1,
    OP_ECHO_NOYIELD = 2,
    OP_DB_ISR = 3,
    OP_DB_POLL = 4,
    OP_TX = 5,
    OP_RX = 6,
    OP_BURN = 7,
    OP_CALIB = 8,
    OP_ECHO_TIMED = 9,
    OP_DB_ISR_TIMED = 10,
    OP_ISR_COST = 11,
};

#if defined(__XTENSA__)
#include <stdint.h>
/* The calibration loop both cores run: exactly 2n + 1 instructions between the two
 * CCOUNT reads (addi + bnez per pass), interrupts off. Returns the CCOUNT ticks. One
 * copy, so both sides measure the same instruction stream. */
static inline uint32_t bench_calib_loop(uint32_t n)
{
    uint32_t t0, t1, k = n, ps;
    __asm__ volatile("rsil %0, 15" : "=a"(ps) : : "memory");
    __asm__ volatile("rsr %0, ccount\n"
                     "1:\n\t"
                     "addi %2, %2, -1\n\t"
                     "bnez %2, 1b\n\t"
                     "rsr %1, ccount"
                     : "=&a"(t0), "=&a"(t1), "+a"(k)
                     :
                     : "memory");
    __asm__ volatile("wsr %0, ps\n\trsync" : : "a"(ps) : "memory");
    return t1 - t0;
}
#endif

#endif /* DUET_BENCH_PROTO_H */
