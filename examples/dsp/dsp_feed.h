/*
 * dsp_feed.h - core 0 of the dsp pipeline on the PC: feeds the generated signal
 * (dsp_signal.h) block by block to the dsp program running under a simulator, checks
 * every answer bit for bit against the reference (dsp_ref.h) and counts what went wrong.
 * Used by the simulator test (tests/dsp) and the soak run (dsp_soak, scripts/dsp-soak.sh).
 *
 * Definitions (block period P = frames / 48000 s; block n is due at start + n * P):
 *   dropped     could not be sent (input ring full / too many in flight: an overrun,
 *               the block never reaches core 1), or sent and never answered
 *   late        realtime only: answered more than (K - 1) * P after it was due, K =
 *               out_blocks, the depth of the output ring (an I2S DMA ring of K
 *               one-block descriptors starts playing block n at due(n) + (K - 1) * P:
 *               later is an underrun). K = 2 is double buffering.
 *   mismatched  answered, but not equal to the reference in every sample (or not the
 *               block expected next)
 *   latency     answer seen by core 0 minus due time (realtime) or send time (as fast
 *               as possible)
 * On a shared or virtual machine the whole process can be descheduled for milliseconds
 * (steal time): late_sent_late and worst_send_delay_ns tell those stalls of core 0 from
 * a slow core 1.
 */
#ifndef DUET_EXAMPLE_DSP_FEED_H
#define DUET_EXAMPLE_DSP_FEED_H

#include <stdint.h>

#include "sim.h"

typedef struct {
    uint64_t sent, processed, dropped, late, mismatched;
    uint64_t bad_samples; /* samples that differed, over all mismatched blocks */
    uint64_t clipped;     /* output samples at full scale (saturation exercised) */
    uint64_t nonzero;     /* output samples != 0 (the check compared signal) */
    uint64_t worst_latency_ns, sum_latency_ns;
    uint64_t late_sent_late;      /* late blocks core 0 itself sent a period too late (the
                                     host stalled core 0, not a slow core 1) */
    uint64_t worst_send_delay_ns; /* worst send time - due time (realtime) */
    uint64_t lat_hist[4];         /* latency <= P, <= 2P, <= 4P, > 4P (P = block period) */
    uint64_t c1_cycles;           /* sum of the kernel cycles core 1 reported (PC: ns) */
    uint64_t elapsed_ns;
    int64_t first_mismatch; /* seq of the first mismatched block, -1 = none */
} dsp_feed_stats_t;

typedef struct {
    unsigned frames;     /* per block, 1..DSP_MAX_FRAMES (default 64) */
    uint64_t blocks;     /* blocks to feed */
    int realtime;        /* 1: one block per period; 0: as fast as it goes */
    unsigned out_blocks; /* output ring depth K for "late" (0 = 2, double buffering) */
    uint32_t seed;       /* signal seed (0 = DSP_SIGNAL_SEED) */
    /* called about once a second with the running figures (optional) */
    void (*progress)(void *user, const dsp_feed_stats_t *st);
    void *user;
} dsp_feed_config_t;

/** Run the pipeline against the dsp program already running in 'sim' (channel
 *  DSP_CHANNEL configured). The first block resets core 1's state.
 *  @return DUET_OK when every block was fed and answered or given up on (the figures
 *  say how it went); DUET_ERR_INVAL (config), DUET_ERR_NOT_FOUND (no channel), or the
 *  error that stopped it (core 1 not running any more: DUET_ERR_STATE). */
duet_err_t dsp_feed_run(duet_sim_t *sim, const dsp_feed_config_t *cfg, dsp_feed_stats_t *st);

#endif /* DUET_EXAMPLE_DSP_FEED_H */
