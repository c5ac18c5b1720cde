/*
 * dsp_soak - the dsp pipeline under the real supervisor for a given time, paced like
 * real audio (one 64-frame block every 1.333 ms), with every block checked bit for bit
 * (dsp_feed.h). Prints the running figures every 10 s and one result line; exit status
 * 0 only if no block was dropped, late or mismatched. scripts/dsp-soak.sh runs it.
 *
 *   dsp_soak [--seconds N] [--fast] [--frames N] [--out-blocks K] [--image FILE]
 *
 * --fast feeds as fast as the pipeline goes (no pacing, "late" not counted).
 * --out-blocks: depth of the output ring a block must not miss (dsp_feed.h "late");
 * default 4 (4 x 1.33 ms; ESP-IDF's I2S driver defaults to 6 descriptors of 5 ms).
 * Default image: ../images/dsp.img next to this executable's bin/ directory.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dsp_feed.h"
#include "dsp_proto.h"

static void usage(void)
{
    fprintf(
        stderr,
        "usage: dsp_soak [--seconds N] [--fast] [--frames N] [--out-blocks K] [--image FILE]\n");
    exit(2);
}

static void on_progress(void *user, const dsp_feed_stats_t *st)
{
    unsigned *tick = user;
    if (++*tick % 10 != 0)
        return;
    printf("dsp-soak: %4llu s: processed %llu, dropped %llu, late %llu, mismatched %llu, "
           "worst latency %llu us\n",
           (unsigned long long)(st->elapsed_ns / 1000000000u), (unsigned long long)st->processed,
           (unsigned long long)st->dropped, (unsigned long long)st->late,
           (unsigned long long)st->mismatched, (unsigned long long)(st->worst_latency_ns / 1000u));
    fflush(stdout);
}

/* Time the hypervisor took this machine's CPUs away (steal, all CPUs), in ms. */
static uint64_t steal_ms(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f == NULL)
        return 0;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    return n == 8 && hz > 0 ? v[7] * 1000u / (unsigned long long)hz : 0;
}

static const char *default_image(void)
{
    static char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0)
        return "images/dsp.img";
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (slash == NULL)
        return "images/dsp.img";
    strcpy(slash, "/../images/dsp.img");
    return path;
}

int main(int argc, char **argv)
{
    double seconds = 600;
    unsigned frames = DSP_BLOCK_FRAMES;
    int realtime = 1;
    unsigned out_blocks = 4;
    const char *image = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fast") == 0)
            realtime = 0;
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
            frames = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--out-blocks") == 0 && i + 1 < argc)
            out_blocks = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc)
            image = argv[++i];
        else
            usage();
    }
    if (seconds <= 0 || frames == 0 || frames > DSP_MAX_FRAMES || out_blocks < 2 || out_blocks > 64)
        usage();
    if (image == NULL)
        image = default_image();
    /* Core 0's pages stay in RAM: a compile next door evicting them would stall the
     * feeder for a disk read. Not inherited by core 1's process; fine if refused. */
    (void)mlockall(MCL_CURRENT | MCL_FUTURE);

    char flash[] = "/tmp/duet-dsp-soak-XXXXXX";
    int fd = mkstemp(flash);
    if (fd < 0) {
        perror("dsp-soak: mkstemp");
        return 1;
    }
    close(fd);
    unlink(flash); /* the flash layer creates it with the right size */
    duet_sim_config_t cfg;
    duet_sim_config_default(&cfg);
    cfg.flash_path = flash;
    duet_sim_config_channel(&cfg, DSP_CHANNEL, 16384); /* ~60 blocks of slack each way */
    duet_sim_t *sim = NULL;
    duet_err_t e = duet_sim_open(&cfg, &sim);
    if (e == DUET_OK)
        e = duet_sim_provision_file(sim, 0, image);
    if (e == DUET_OK)
        e = duet_sim_start(sim);
    for (int i = 0; e == DUET_OK && i < 500; i++) { /* up to 5 s for the first heartbeat */
        duet_sup_status_t s;
        duet_sim_status(sim, &s);
        if (s.state == DUET_SUP_RUNNING && s.heartbeat > 0)
            break;
        (void)duet_sim_step(sim, 10000); /* errors show as a state that never arrives */
    }
    if (e != DUET_OK) {
        fprintf(stderr, "dsp-soak: simulator with %s: %s\n", image, duet_err_str(e));
        duet_sim_close(sim);
        unlink(flash);
        return 1;
    }

    unsigned tick = 0;
    dsp_feed_config_t fc = {
        .frames = frames,
        .blocks = (uint64_t)(seconds * DSP_RATE_HZ / frames + 0.5),
        .realtime = realtime,
        .out_blocks = out_blocks,
        .progress = on_progress,
        .user = &tick,
    };
    printf("dsp-soak: %g s of 48 kHz stereo in %u-frame blocks (%llu blocks, %s), image %s\n",
           seconds, frames, (unsigned long long)fc.blocks,
           realtime ? "real-time pacing" : "as fast as possible", image);
    if (realtime)
        printf("dsp-soak: late = answered more than %u periods (%.2f ms) after due: the "
               "deadline of a %u-block output ring\n",
               out_blocks - 1, (out_blocks - 1) * frames * 1000.0 / DSP_RATE_HZ, out_blocks);
    fflush(stdout);
    dsp_feed_stats_t st;
    uint64_t steal0 = steal_ms();
    e = dsp_feed_run(sim, &fc, &st);
    uint64_t steal = steal_ms() - steal0;
    uint32_t cps100 =
        __atomic_load_n(&duet_sim_ctrl(sim, NULL)->sc_user[DSP_CPS_WORD], __ATOMIC_ACQUIRE);
    duet_sim_close(sim);
    unlink(flash);
    uint64_t samples = st.processed * frames * DSP_CHANNELS;
    printf("dsp-soak: RESULT %.0f s %s: blocks processed %llu, dropped %llu, late %llu, "
           "mismatched %llu; latency worst %.2f ms, mean %llu us; period %.3f ms\n",
           st.elapsed_ns / 1e9, realtime ? "real-time" : "fast", (unsigned long long)st.processed,
           (unsigned long long)st.dropped, (unsigned long long)st.late,
           (unsigned long long)st.mismatched, st.worst_latency_ns / 1e6,
           (unsigned long long)(st.processed ? st.sum_latency_ns / st.processed / 1000u : 0),
           frames * 1000.0 / DSP_RATE_HZ);
    printf("dsp-soak: latency <= 1 period %llu, 1-2 periods %llu, 2-4 periods %llu, > 4 periods "
           "%llu\n",
           (unsigned long long)st.lat_hist[0], (unsigned long long)st.lat_hist[1],
           (unsigned long long)st.lat_hist[2], (unsigned long long)st.lat_hist[3]);
    printf("dsp-soak: late blocks core 0 itself sent late %llu (worst send delay %.2f ms); "
           "hypervisor steal time during the run %llu ms; kernel on core 1 (PC) %.1f ns/sample "
           "(last block %u.%02u)\n",
           (unsigned long long)st.late_sent_late, st.worst_send_delay_ns / 1e6,
           (unsigned long long)steal, samples ? (double)st.c1_cycles / (double)samples : 0.0,
           (unsigned)(cps100 / 100u), (unsigned)(cps100 % 100u));
    if (e != DUET_OK)
        fprintf(stderr, "dsp-soak: stopped early: %s\n", duet_err_str(e));
    if (st.first_mismatch >= 0)
        fprintf(stderr, "dsp-soak: first mismatched block %lld (%llu samples differ in all)\n",
                (long long)st.first_mismatch, (unsigned long long)st.bad_samples);
    return e == DUET_OK && st.dropped == 0 && st.late == 0 && st.mismatched == 0 &&
                   st.processed == fc.blocks
               ? 0
               : 1;
}
