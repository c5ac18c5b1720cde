/*
 * bench_hotswap.c - hot-swap time in the simulator: from "upload done" (the last byte of
 * a new image handed to the OTA session) to the new program's first heartbeat, as the
 * supervisor records it (status.first_heartbeat_us). Includes verification of the
 * uploaded slot (SHA-256 read-back), the slot-record write, stopping the old process,
 * loading + second hash, starting the new process and its boot.
 *
 *   bench_hotswap [RUNS]   (default 25)  prints one line per run, then
 *   hotswap_median_us=N hotswap_min_us=N hotswap_p90_us=N hotswap_max_us=N runs=N
 * Alternates counter v1 and v2 (each swap goes into the other slot, as a real update),
 * waiting for each new program to be confirmed (5 heartbeats, ~0.5 s) before the next.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duet/ota.h"
#include "duet/port.h"
#include "sim.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
    if (b == NULL || fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static bool first_hb(duet_sim_t *sim, void *ctx)
{
    duet_sup_status_t st;
    duet_sup_get_status(duet_sim_sup(sim), &st);
    *(uint64_t *)ctx = st.first_heartbeat_us;
    return st.state == DUET_SUP_RUNNING && st.first_heartbeat_us != 0;
}

/* A PENDING program must be confirmed before the next update may replace the other
 * (confirmed) slot; the supervisor refuses otherwise. */
static bool confirmed(duet_sim_t *sim, void *ctx)
{
    (void)ctx;
    duet_sup_status_t st;
    duet_sup_get_status(duet_sim_sup(sim), &st);
    return st.active_slot >= 0 && st.slots.sr_status[st.active_slot] == DUET_SLOT_CONFIRMED;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    unsigned runs = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 25;
    if (runs < 1 || runs > 1000)
        runs = 25;
    size_t len[2];
    uint8_t *img[2] = {slurp(DUET_BENCH_IMAGES "/counter.img", &len[0]),
                       slurp(DUET_BENCH_IMAGES "/counter_v2.img", &len[1])};
    if (img[0] == NULL || img[1] == NULL) {
        fprintf(stderr, "bench_hotswap: images missing in %s\n", DUET_BENCH_IMAGES);
        return 1;
    }
    char flash[] = "/tmp/duet-bench-XXXXXX";
    int fd = mkstemp(flash);
    if (fd < 0)
        return 1;
    close(fd);
    unlink(flash);
    duet_sim_config_t cfg;
    duet_sim_config_default(&cfg);
    cfg.flash_path = flash;
    cfg.log_level = DUET_PLOG_ERROR;
    duet_sim_t *sim = NULL;
    if (duet_sim_open(&cfg, &sim) != DUET_OK || duet_sim_provision_buf(sim, 0, img[0], len[0]) != DUET_OK ||
        duet_sim_start(sim) != DUET_OK) {
        fprintf(stderr, "bench_hotswap: simulator setup failed\n");
        return 1;
    }
    uint64_t dummy;
    duet_sim_run_until(sim, first_hb, &dummy, 5000);
    uint64_t *t = calloc(runs, sizeof *t);
    static duet_ota_t ota;
    for (unsigned r = 0; r < runs; r++) {
        const uint8_t *p = img[(r + 1) % 2];
        size_t n = len[(r + 1) % 2];
        duet_sim_lock(sim);
        duet_err_t e = duet_ota_begin(&ota, duet_sim_sup(sim), (uint32_t)n);
        for (size_t off = 0; e == DUET_OK && off < n; off += 4096)
            e = duet_ota_write(&ota, p + off, n - off < 4096 ? n - off : 4096);
        uint64_t t0 = duet_port_now_us(); /* upload done */
        if (e == DUET_OK)
            e = duet_ota_finish(&ota, true, NULL);
        duet_sim_unlock(sim);
        uint64_t hb = 0;
        if (e != DUET_OK || !duet_sim_run_until(sim, first_hb, &hb, 5000)) {
            fprintf(stderr, "bench_hotswap: run %u failed: %s\n", r, duet_err_str(e));
            return 1;
        }
        t[r] = hb - t0;
        printf("run %2u: %llu us\n", r, (unsigned long long)t[r]);
        if (!duet_sim_run_until(sim, confirmed, NULL, 5000)) {
            fprintf(stderr, "bench_hotswap: run %u: new program not confirmed\n", r);
            return 1;
        }
    }
    qsort(t, runs, sizeof *t, cmp);
    printf("hotswap_median_us=%llu hotswap_min_us=%llu hotswap_p90_us=%llu hotswap_max_us=%llu "
           "runs=%u\n",
           (unsigned long long)t[runs / 2], (unsigned long long)t[0],
           (unsigned long long)t[runs * 9 / 10], (unsigned long long)t[runs - 1], runs);
    duet_sim_close(sim);
    unlink(flash);
    free(t);
    free(img[0]);
    free(img[1]);
    return 0;
}
