/*
 * fuzz_ring.c - libFuzzer target: the fuzz input is a shared-memory area written by a
 * hostile or crashed peer. It must never make the ring or shm code crash or read/write
 * outside the area (every area is malloc'd at its exact size, so ASan sees any overrun).
 *
 * Input layout (byte 0 picks the mode):
 *   mode even - RING: byte 1 picks the data size (64 << (b % 7)); the next
 *               DUET_RING_FOOTPRINT(size) bytes are the ring image (header + data; zero
 *               filled if short); the remaining bytes are a script run by a consumer and a
 *               producer attached to it: recv, peek (reading every byte), release, poke a
 *               word (the peer changes the area meanwhile), send, reserve/commit, drain,
 *               re-attach. Finally the ring is drained.
 *   mode odd  - SHM: the rest is a whole shared area; if duet_shm_check accepts it, the
 *               log ring and every channel ring are attached and drained, and written to.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duet/shm.h"

static uint8_t g_sink; /* keeps the reads of peeked bytes */

static void drain(duet_ring_t *c, unsigned max)
{
    uint8_t buf[4096];
    size_t n;
    for (unsigned i = 0; i < max; i++) {
        if (duet_ring_recv(c, buf, sizeof(buf), &n) != DUET_OK)
            return;
    }
}

static void read_all(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g_sink ^= p[i];
}

static void fuzz_ring(const uint8_t *in, size_t len)
{
    if (len < 2)
        return;
    uint32_t size = 64u << (in[1] % 7u);
    size_t fp = DUET_RING_FOOTPRINT(size);
    uint8_t *mem = calloc(1, fp);
    size_t img = len - 2 < fp ? len - 2 : fp;
    memcpy(mem, in + 2, img);
    const uint8_t *op = in + 2 + img, *end = in + len;

    duet_ring_hdr_t *h = (duet_ring_hdr_t *)mem;
    uint32_t epoch;
    memcpy(&epoch, &h->rh_epoch, sizeof(epoch));
    duet_ring_t c, p;
    duet_err_t ce = duet_ring_attach_consumer(&c, mem, fp, epoch);
    duet_err_t pe = duet_ring_attach_producer(&p, mem, fp, epoch);
    uint8_t buf[4096];
    size_t n;
    const void *rp;
    void *wp;
    while (op < end) {
        uint8_t o = *op++;
        uint8_t a = op < end ? *op++ : 0;
        switch (o % 8u) {
        case 0:
            if (ce == DUET_OK)
                (void)duet_ring_recv(&c, buf, (size_t)a * 16u, &n); /* result is irrelevant */
            break;
        case 1:
            if (ce == DUET_OK && duet_ring_peek(&c, &rp, &n) == DUET_OK)
                read_all(rp, n);
            break;
        case 2:
            if (ce == DUET_OK)
                (void)duet_ring_release(&c);
            break;
        case 3: { /* the peer writes a word of the area */
            uint32_t v = 0;
            size_t take = (size_t)(end - op) < 4 ? (size_t)(end - op) : 4;
            memcpy(&v, op, take);
            op += take;
            size_t words = fp / 4;
            memcpy(mem + ((size_t)a * 7u % words) * 4u, &v, 4);
            break;
        }
        case 4:
            if (pe == DUET_OK) {
                memset(buf, a, sizeof(buf));
                (void)duet_ring_send(&p, buf, (size_t)a * 4u);
            }
            break;
        case 5:
            if (pe == DUET_OK && duet_ring_reserve(&p, (size_t)a * 4u, &wp) == DUET_OK) {
                memset(wp, a, (size_t)a * 4u);
                (void)duet_ring_commit(&p, (size_t)a * 2u);
            }
            break;
        case 6:
            if (ce == DUET_OK)
                drain(&c, a);
            break;
        default:
            if (a & 1u)
                ce = duet_ring_attach_consumer(&c, mem, fp, epoch);
            else
                pe = duet_ring_attach_producer(&p, mem, fp, epoch);
            break;
        }
        (void)duet_ring_used(&c);
        (void)duet_ring_free(&p);
    }
    if (ce == DUET_OK)
        drain(&c, 100000);
    free(mem);
}

static void use_ring(void *ring, size_t fp, uint32_t epoch)
{
    duet_ring_t c, p;
    if (duet_ring_attach_consumer(&c, ring, fp, epoch) == DUET_OK)
        drain(&c, 100000);
    if (duet_ring_attach_producer(&p, ring, fp, epoch) == DUET_OK)
        for (int i = 0; i < 8; i++)
            (void)duet_ring_send(&p, "fuzz", 4);
}

static void fuzz_shm(const uint8_t *in, size_t len)
{
    size_t size = len - 1;
    uint8_t *mem = malloc(size ? size : 1);
    memcpy(mem, in + 1, size);
    if (duet_shm_check(mem, size) == DUET_OK) {
        const duet_shm_ctrl_t *ctl = (const duet_shm_ctrl_t *)mem;
        void *r;
        size_t fp;
        if (duet_shm_log_ring(mem, size, &r, &fp) == DUET_OK)
            use_ring(r, fp, ctl->sc_epoch);
        for (unsigned i = 0; i < ctl->sc_chan_count && i < DUET_SHM_MAX_CHANNELS; i++) {
            char name[DUET_SHM_CHAN_NAME_LEN + 1];
            memcpy(name, ctl->sc_chan[i].ch_name, DUET_SHM_CHAN_NAME_LEN);
            name[DUET_SHM_CHAN_NAME_LEN] = '\0';
            for (int d = 0; d < 2; d++)
                if (duet_shm_chan_ring(mem, size, name, d, &r, &fp) == DUET_OK)
                    use_ring(r, fp, ctl->sc_epoch);
        }
    }
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1u)
        fuzz_shm(data, size);
    else
        fuzz_ring(data, size);
    return 0;
}
