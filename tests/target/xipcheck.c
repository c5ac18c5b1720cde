/*
 * xipcheck.c - core-1 program of the XIP scenario of `make target-test`
 * (scripts/target-sc-xip.sh, firmware tests/target/xipfw). Built in XIP mode: its code
 * runs from the flash mapping (IBUS) and its 64 KiB table is read through the data-bus
 * alias, so every pass fetches and reads flash while core 0 writes flash.
 *
 * One pass: read the whole table, byte by byte, and compare every byte with the formula
 * it was generated from (a wrong byte read through the mapping is an error), fold it
 * into a checksum with a switch that compiles to a jump table (also read from flash),
 * and compare the checksum with the first pass's. Shared words (sc_user):
 *   [0] passes  [1] errors (must stay 0)  [2] checksum  [3] 0x58495043 "XIPC" once running
 *   [8] set by core 0: run each pass with interrupts masked (so the park doorbell cannot
 *       be taken and core 0 must fall back to the hardware stall)  [9] such passes
 */
#include <stdbool.h>
#include <stdint.h>

#include "duet/app.h"

#define B(i)       ((uint8_t)(((i)*167u + ((i) >> 8) * 13u + 0x5Au) & 0xFFu))
#define R4(i)      B(i), B((i) + 1u), B((i) + 2u), B((i) + 3u)
#define R16(i)     R4(i), R4((i) + 4u), R4((i) + 8u), R4((i) + 12u)
#define R64(i)     R16(i), R16((i) + 16u), R16((i) + 32u), R16((i) + 48u)
#define R256(i)    R64(i), R64((i) + 64u), R64((i) + 128u), R64((i) + 192u)
#define R1K(i)     R256(i), R256((i) + 256u), R256((i) + 512u), R256((i) + 768u)
#define R4K(i)     R1K(i), R1K((i) + 1024u), R1K((i) + 2048u), R1K((i) + 3072u)
#define R16K(i)    R4K(i), R4K((i) + 4096u), R4K((i) + 8192u), R4K((i) + 12288u)
#define TABLE_SIZE 65536u

static const uint8_t s_table[TABLE_SIZE] = {
    R16K(0u),
    R16K(16384u),
    R16K(32768u),
    R16K(49152u),
};

static uint32_t fold(uint32_t h, uint8_t v)
{
    switch (v & 15u) { /* a jump table in .rodata */
    case 0:
        return h * 31u + v;
    case 1:
        return (h ^ v) * 16777619u;
    case 2:
        return h + (v << 3) + 7u;
    case 3:
        return (h << 5) ^ (h >> 27) ^ v;
    case 4:
        return h * 33u ^ v;
    case 5:
        return h - v * 3u;
    case 6:
        return (h ^ 0x9E3779B9u) + v;
    case 7:
        return h * 5u + v * 9u;
    case 8:
        return (h >> 1) ^ (v * 0x01000193u);
    case 9:
        return h + 0x7F4A7C15u - v;
    case 10:
        return (h * 7u) ^ (v << 11);
    case 11:
        return h ^ (h << 13) ^ v;
    case 12:
        return h * 129u + v;
    case 13:
        return (h + v) * 3u;
    case 14:
        return h ^ (v * 0x2545F491u);
    default:
        return h * 37u - v;
    }
}

void duet_main(void)
{
    volatile duet_shm_ctrl_t *c = duet_rt_ctrl();
    uint32_t first = 0;
    duet_rt_log(DUET_LOG_INFO, "xipcheck: table at %p, code at %p", (const void *)s_table,
                (const void *)fold);
    for (unsigned i = 0; i < 10; i++) /* sc_user survives restarts: start from 0 */
        if (i != 3)
            c->sc_user[i] = 0;
    c->sc_user[3] = 0x58495043u;
    for (uint32_t pass = 0; !duet_rt_should_stop(); pass++) {
        uint32_t bad = 0, h = 2166136261u, ps = 0;
        bool masked = c->sc_user[8] != 0;
        if (masked)
            __asm__ volatile("rsil %0, 15" : "=a"(ps)::"memory");
        for (uint32_t i = 0; i < TABLE_SIZE; i++) {
            uint8_t v = s_table[i];
            bad += v != B(i);
            h = fold(h, v);
        }
        if (masked) {
            __asm__ volatile("wsr %0, ps\n\trsync" ::"a"(ps) : "memory");
            c->sc_user[9] = c->sc_user[9] + 1u;
        }
        if (pass == 0)
            first = h;
        bad += h != first;
        c->sc_user[1] = c->sc_user[1] + bad;
        c->sc_user[2] = h;
        c->sc_user[0] = pass + 1u;
        duet_rt_heartbeat();
    }
}
