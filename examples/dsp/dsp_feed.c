/*
 * dsp_feed.c - see dsp_feed.h. One thread is core 0: it sends on schedule, drains
 * answers whenever core 1 rings, and steps the supervisor every 10 ms (heartbeat watch,
 * log ring) in between. The expected output of a block is computed when the block is
 * sent (the reference sees exactly the blocks core 1 sees) and kept in a queue of
 * blocks in flight until its answer arrives.
 *
 * Waits use ppoll() on core 0's doorbell eventfd with a nanosecond timeout: the port's
 * duet_port_doorbell_wait() rounds to milliseconds, coarser than the 1.33 ms period.
 */
#include "dsp_feed.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dsp_proto.h"
#include "dsp_ref.h"
#include "dsp_signal.h"
#include "duet/host_port.h"
#include "duet/ring.h"

#define INFLIGHT 512u          /* blocks sent and not yet answered (power of two) */
#define STEP_NS  10000000u     /* supervisor poll period */
#define DRAIN_NS 2000000000ull /* after the last block: how long to wait for answers */
#define SAMPLES  (DSP_MAX_FRAMES * DSP_CHANNELS)

typedef struct {
    uint32_t seq;
    uint64_t due_ns;
    int sent_late; /* core 0 itself sent it more than a period after it was due */
    int16_t want[SAMPLES];
} slot_t;

typedef struct {
    duet_ring_t tx, rx;
    int bell_fd;
    slot_t *q;
    uint64_t head, tail;      /* q[tail % INFLIGHT] .. q[head - 1]: in flight */
    int16_t pending[SAMPLES]; /* the next block, generated once even if sending waits */
    int have_pending;
    const dsp_feed_config_t *cfg;
    uint64_t period_num; /* due(n) = start + n * period_num / DSP_RATE_HZ (ns) */
    dsp_feed_stats_t *st;
} feed_t;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void wait_bell(int fd, uint64_t ns)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct timespec t = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
    if (ppoll(&p, 1, &t, NULL) > 0) {
        uint64_t v;
        (void)!read(fd, &v, sizeof v); /* clears the eventfd; EAGAIN if someone beat us */
    }
}

static duet_err_t attach(feed_t *f, duet_sim_t *sim)
{
    size_t size = 0;
    duet_shm_ctrl_t *c = duet_sim_ctrl(sim, &size);
    duet_sup_status_t s;
    duet_sim_status(sim, &s);
    void *a, *b;
    size_t fa, fb;
    DUET_TRY(duet_shm_chan_ring(c, size, DSP_CHANNEL, 1, &a, &fa));
    DUET_TRY(duet_shm_chan_ring(c, size, DSP_CHANNEL, 0, &b, &fb));
    DUET_TRY(duet_ring_attach_producer(&f->tx, a, fa, s.epoch));
    DUET_TRY(duet_ring_attach_consumer(&f->rx, b, fb, s.epoch));
    return duet_host_doorbell_fds(NULL, &f->bell_fd);
}

static void check_answer(feed_t *f, const uint8_t *buf, size_t len, uint64_t t)
{
    dsp_feed_stats_t *st = f->st;
    dsp_msg_hdr_t h;
    if (len < sizeof h) {
        st->mismatched++;
        return;
    }
    memcpy(&h, buf, sizeof h);
    /* Blocks answered out of turn: every older block in flight was lost. */
    uint64_t k = f->tail;
    while (k < f->head && f->q[k % INFLIGHT].seq != h.dm_seq)
        k++;
    if (k == f->head || h.dm_frames != f->cfg->frames || len != DSP_MSG_BYTES(h.dm_frames)) {
        st->mismatched++; /* not a block we are waiting for */
        if (st->first_mismatch < 0)
            st->first_mismatch = h.dm_seq;
        return;
    }
    st->dropped += k - f->tail;
    const slot_t *s = &f->q[k % INFLIGHT];
    f->tail = k + 1;
    st->processed++;
    st->c1_cycles += h.dm_cycles;
    uint64_t lat = t > s->due_ns ? t - s->due_ns : 0;
    st->sum_latency_ns += lat;
    if (lat > st->worst_latency_ns)
        st->worst_latency_ns = lat;
    uint64_t periods = lat * DSP_RATE_HZ; /* latency in units of P / period_num */
    st->lat_hist[periods <= f->period_num       ? 0
                 : periods <= 2 * f->period_num ? 1
                 : periods <= 4 * f->period_num ? 2
                                                : 3]++;
    unsigned ring = f->cfg->out_blocks != 0 ? f->cfg->out_blocks : 2u;
    if (f->cfg->realtime && lat * DSP_RATE_HZ > (uint64_t)(ring - 1u) * f->period_num) {
        st->late++;
        st->late_sent_late += s->sent_late != 0;
    }
    unsigned n = f->cfg->frames * DSP_CHANNELS, bad = 0;
    for (unsigned i = 0; i < n; i++) {
        int16_t got;
        memcpy(&got, buf + sizeof h + i * sizeof got, sizeof got);
        bad += got != s->want[i];
        st->nonzero += got != 0;
        st->clipped += got == INT16_MAX || got == INT16_MIN;
    }
    if (bad != 0) {
        st->mismatched++;
        st->bad_samples += bad;
        if (st->first_mismatch < 0)
            st->first_mismatch = h.dm_seq;
    }
}

static duet_err_t drain(feed_t *f)
{
    static uint8_t buf[DSP_MSG_BYTES(DSP_MAX_FRAMES) + 64];
    for (;;) {
        size_t len = 0;
        duet_err_t e = duet_ring_recv(&f->rx, buf, sizeof buf, &len);
        if (e == DUET_ERR_RING_EMPTY)
            return DUET_OK;
        if (e != DUET_OK)
            return e;
        check_answer(f, buf, len, now_ns());
    }
}

/* Generate block 'seq', compute its expected answer, send it. DUET_ERR_RING_FULL: not
 * sent (and the reference did not see it). */
static duet_err_t send_block(feed_t *f, dsp_signal_t *g, dsp_ref_t *ref, uint32_t seq, uint64_t due)
{
    static uint8_t msg[DSP_MSG_BYTES(DSP_MAX_FRAMES)];
    unsigned frames = f->cfg->frames;
    dsp_msg_hdr_t h = {
        .dm_seq = seq, .dm_frames = frames, .dm_flags = seq == 0 ? DSP_MSG_RESET : 0};
    const int16_t *in = f->pending;
    if (!f->have_pending) {
        dsp_signal_block(g, f->pending, frames);
        f->have_pending = 1;
    }
    if (f->head - f->tail >= INFLIGHT)
        return DUET_ERR_RING_FULL;
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, in, frames * DSP_CHANNELS * sizeof in[0]);
    duet_err_t e = duet_ring_send(&f->tx, msg, DSP_MSG_BYTES(frames));
    if (e != DUET_OK)
        return e;
    duet_port_doorbell_ring();
    slot_t *s = &f->q[f->head++ % INFLIGHT];
    s->seq = seq;
    s->due_ns = due;
    uint64_t t = now_ns();
    uint64_t delay = t > due ? t - due : 0;
    s->sent_late = delay * DSP_RATE_HZ > f->period_num;
    if (delay > f->st->worst_send_delay_ns)
        f->st->worst_send_delay_ns = delay;
    if (seq == 0)
        dsp_ref_reset(ref);
    dsp_ref_block(ref, in, s->want, frames);
    f->st->sent++;
    return DUET_OK;
}

static duet_err_t step(duet_sim_t *sim)
{
    (void)duet_sim_step(sim, 0); /* a poll error shows up as a state change below */
    duet_sup_status_t s;
    duet_sim_status(sim, &s);
    return s.state == DUET_SUP_RUNNING ? DUET_OK : DUET_ERR_STATE;
}

duet_err_t dsp_feed_run(duet_sim_t *sim, const dsp_feed_config_t *cfg, dsp_feed_stats_t *st)
{
    memset(st, 0, sizeof *st);
    st->first_mismatch = -1;
    if (sim == NULL || cfg == NULL || cfg->frames == 0 || cfg->frames > DSP_MAX_FRAMES ||
        cfg->blocks > UINT32_MAX)
        return DUET_ERR_INVAL;
    feed_t f = {.cfg = cfg, .st = st, .period_num = (uint64_t)cfg->frames * 1000000000u};
    duet_err_t e = attach(&f, sim);
    if (e != DUET_OK)
        return e;
    f.q = malloc(INFLIGHT * sizeof *f.q);
    if (f.q == NULL)
        return DUET_ERR_NOMEM;
    dsp_signal_t g;
    dsp_signal_init(&g, cfg->seed != 0 ? cfg->seed : DSP_SIGNAL_SEED);
    static dsp_ref_t ref; /* 2.6 KiB */
    uint64_t start = now_ns(), last_step = start, last_report = start, n = 0, end_wait = 0;
    while (e == DUET_OK) {
        uint64_t t = now_ns();
        if (t - last_step >= STEP_NS) {
            last_step = t;
            if ((e = step(sim)) != DUET_OK) /* may take core 1's doorbell: drain next */
                break;
        }
        if ((e = drain(&f)) != DUET_OK)
            break;
        if (cfg->progress != NULL && t - last_report >= 1000000000u) {
            last_report = t;
            st->elapsed_ns = t - start;
            cfg->progress(cfg->user, st);
        }
        uint64_t wake;
        if (n < cfg->blocks) {
            uint64_t due = cfg->realtime ? start + n * f.period_num / DSP_RATE_HZ : t;
            if (t >= due) {
                e = send_block(&f, &g, &ref, (uint32_t)n, cfg->realtime ? due : t);
                if (e == DUET_OK || (cfg->realtime && e == DUET_ERR_RING_FULL)) {
                    f.have_pending = 0;
                    st->dropped += e != DUET_OK; /* overrun: core 1 fell behind */
                    n++;
                    e = DUET_OK;
                    continue;
                }
                if (e != DUET_ERR_RING_FULL)
                    break;
                e = DUET_OK; /* as fast as it goes: wait for core 1 to make room */
                wake = t + 1000000u;
            } else {
                wake = due;
            }
        } else {
            if (f.tail == f.head)
                break;
            if (end_wait == 0)
                end_wait = t + DRAIN_NS;
            if (t >= end_wait)
                break;
            wake = t + 1000000u;
        }
        if (wake > last_step + STEP_NS)
            wake = last_step + STEP_NS;
        if (wake > t)
            wait_bell(f.bell_fd, wake - t);
    }
    st->dropped += f.head - f.tail; /* never answered */
    st->elapsed_ns = now_ns() - start;
    free(f.q);
    return e;
}
