/*
 * sup_log.c - drain core 1's log ring: every record (duet_log_rec_t + text) becomes a
 * DUET_EV_LOG event and a duet_port_log(level, "core1", ...) line.
 *
 * The ring is attached as consumer after every shm init with the new epoch, so records
 * of an earlier run are never delivered (the ring answers RING_STALE). The ring lives in
 * memory core 1 writes: a record shorter than its header, an unknown level or a
 * corrupt index is input, handled by skipping or by detaching (never by trusting).
 * At most DUET_SUP_LOG_BATCH records per poll keep duet_sup_poll() short.
 */
#include <string.h>

#include "sup_int.h"

#define LINE_MAX_LEN 256u

void sup_log_attach(duet_sup_t *s)
{
    s->log_ok = false;
    void *ring;
    size_t fp;
    if (duet_shm_log_ring(s->shm, s->shm_size, &ring, &fp) != DUET_OK)
        return;
    if (duet_ring_attach_consumer(&s->log, ring, fp, s->epoch) == DUET_OK) {
        s->log_ok = true;
        s->log_epoch = s->epoch;
    }
}

static void deliver(duet_sup_t *s, const uint8_t *msg, size_t len)
{
    duet_log_rec_t rec;
    if (len < sizeof(rec))
        return; /* not even a header: drop it */
    memcpy(&rec, msg, sizeof(rec));
    int level = rec.lr_level;
    if (level < DUET_LOG_ERROR || level > DUET_LOG_DEBUG)
        level = DUET_LOG_INFO;
    /* Copy out with a NUL: the ring slot is released before callbacks could keep it,
     * and listeners may treat the text as a C string. Trailing newlines are dropped
     * (the sinks add their own). */
    char line[LINE_MAX_LEN];
    size_t n = len - sizeof(rec);
    if (n > sizeof(line) - 1)
        n = sizeof(line) - 1;
    memcpy(line, msg + sizeof(rec), n);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    line[n] = '\0';
    duet_port_log((duet_plog_t)level, "core1", "%s", line);
    duet_sup_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = DUET_EV_LOG;
    ev.from = ev.to = s->state;
    ev.slot = s->running_slot;
    ev.level = level;
    ev.text = line;
    ev.text_len = n;
    sup_emit(s, &ev);
}

void sup_log_drain(duet_sup_t *s)
{
    if (!s->log_ok)
        return;
    for (unsigned i = 0; i < DUET_SUP_LOG_BATCH; i++) {
        const void *msg;
        size_t len;
        duet_err_t e = duet_ring_peek(&s->log, &msg, &len);
        if (e == DUET_ERR_RING_EMPTY)
            return;
        if (e != DUET_OK) {
            /* Stale (re-initialised) or corrupt ring: stop reading it until the next
             * start attaches a fresh handle. */
            s->log_ok = false;
            duet_port_log(DUET_PLOG_WARN, "duet", "log ring: %s", duet_err_str(e));
            return;
        }
        deliver(s, msg, len);
        if (duet_ring_release(&s->log) != DUET_OK) {
            s->log_ok = false;
            return;
        }
    }
}
