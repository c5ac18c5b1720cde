/*
 * bigtable.h - the XIP example's computation (docs/xip.md), shared by the program
 * (bigtable.c), its generated code and tables (gen_bigtable.c -> bigtable_data.c), and
 * the tests that recompute the expected results natively (tests/xip).
 *
 * The generated part is far larger than the RAM window on purpose: BT_NT tables of
 * BT_TLEN halfwords (256 KiB of .rodata) and BT_NF distinct functions (several tens of
 * KiB of code), all running from the flash mapping. A round calls one function chosen by
 * the accumulator, which mixes in a table entry chosen by it too, so every round touches
 * code and data all over the mapped pages.
 *
 * Results in the shared control block (sc_user), published as a seqlock so core 0 never
 * reads a torn pair:
 *   sc_user[BT_U_SEQ]    odd while the program updates the next two words
 *   sc_user[BT_U_BLOCK]  blocks of BT_BLOCK rounds completed
 *   sc_user[BT_U_ACC]    accumulator after that many blocks (bt_run(BT_SEED, blocks))
 *   sc_user[BT_U_PARKS]  times the park hook ran (a DUET_RAM function)
 */
#ifndef BIGTABLE_H
#define BIGTABLE_H

#include <stdint.h>

#define BT_NT    32u   /* tables */
#define BT_TLEN  4096u /* halfwords per table (power of two) */
#define BT_NF    1024u /* generated functions */
#define BT_BLOCK 4096u /* rounds per published block */
#define BT_SEED  0x2545F491u

enum { BT_U_SEQ = 4, BT_U_BLOCK = 5, BT_U_ACC = 6, BT_U_PARKS = 7 };

typedef uint32_t (*bt_fn_t)(uint32_t);
extern const uint16_t bt_tab[BT_NT][BT_TLEN];
extern const bt_fn_t bt_fns[BT_NF];

/** One round. */
static inline uint32_t bt_round(uint32_t acc, uint32_t round)
{
    return bt_fns[(acc ^ round) % BT_NF](acc + round);
}

/** Accumulator after 'blocks' blocks from 'acc'. */
static inline uint32_t bt_run(uint32_t acc, uint32_t blocks)
{
    for (uint32_t b = 0; b < blocks; b++)
        for (uint32_t r = 0; r < BT_BLOCK; r++)
            acc = bt_round(acc, b * BT_BLOCK + r);
    return acc;
}

#endif /* BIGTABLE_H */
