/*
 * gen_seeds.c - writes the seed corpus of fuzz_ring (fuzz/ring/corpus/) from real ring
 * and shm images made by the library, so the fuzzer starts from valid states:
 *   fuzz_ring_seeds OUTDIR
 * Built with the tree (never run by tests); rerun it if the wire format changes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet/shm.h"

static int write_file(const char *dir, const char *name, const void *a, size_t alen,
                      const void *b, size_t blen)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int ok = fwrite(a, 1, alen, f) == alen && fwrite(b, 1, blen, f) == blen;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    /* RING seed: 256-byte ring, messages queued across the wrap (padding record). */
    static uint32_t ring[(DUET_RING_HDR_SIZE + 256) / 4];
    duet_ring_t p, c;
    uint8_t msg[100], buf[128];
    size_t n;
    memset(msg, 0x5a, sizeof(msg));
    if (duet_ring_init(ring, sizeof(ring), 9) != DUET_OK ||
        duet_ring_attach_producer(&p, ring, sizeof(ring), 9) != DUET_OK ||
        duet_ring_attach_consumer(&c, ring, sizeof(ring), 9) != DUET_OK)
        return 1;
    for (int i = 0; i < 2; i++)
        duet_ring_send(&p, msg, 100);
    for (int i = 0; i < 2; i++)
        duet_ring_recv(&c, buf, sizeof(buf), &n);
    duet_ring_send(&p, msg, 60); /* pads 48 bytes, record at 0 */
    duet_ring_send(&p, msg, 7);
    duet_ring_send(&p, msg, 0);
    const uint8_t script[] = {1, 0, 2, 0, 0, 8, 4, 5, 5, 9, 3, 10, 1, 2, 3, 4, 6, 50, 7, 1};
    uint8_t *img = malloc(2 + sizeof(ring));
    img[0] = 0;
    img[1] = 2; /* 64 << 2 = 256 */
    memcpy(img + 2, ring, sizeof(ring));
    if (write_file(argv[1], "ring-wrap", img, 2 + sizeof(ring), script, sizeof(script)) != 0)
        return 1;
    free(img);

    /* SHM seed: a whole area with a log ring and two channels, some messages queued. */
    static uint32_t area[8192 / 4];
    duet_shm_config_t cfg = {.log_ring_size = 256, .chan_count = 2};
    cfg.chans[0].name = "cmd";
    cfg.chans[0].ring_size = 512;
    cfg.chans[1].name = "data";
    cfg.chans[1].ring_size = 512;
    if (duet_shm_init(area, sizeof(area), &cfg, 5) != DUET_OK)
        return 1;
    void *r;
    size_t fp;
    if (duet_shm_chan_ring(area, sizeof(area), "data", 0, &r, &fp) != DUET_OK ||
        duet_ring_attach_producer(&p, r, fp, 5) != DUET_OK)
        return 1;
    duet_ring_send(&p, "hello", 5);
    duet_ring_send(&p, msg, 33);
    const uint8_t mode = 1;
    if (write_file(argv[1], "shm-area", &mode, 1, area, sizeof(area)) != 0)
        return 1;
    return 0;
}
