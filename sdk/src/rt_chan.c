/*
 * rt_chan.c - channels on core 1: open by name over the channel table core 0 laid out,
 * then thin wrappers over the SPSC ring calls (copy and zero-copy).
 *
 * Core 1 is the consumer of the "to core 1" ring (rx) and the producer of the
 * "to core 0" ring (tx). Both handles are attached with this run's epoch, so a ring
 * core 0 re-initialised for a later run (or a stale one left from an earlier run)
 * yields DUET_ERR_RING_STALE instead of old data.
 */
#include <string.h>

#include "duet/app.h"
#include "rt_priv.h"

duet_err_t duet_rt_chan_open(const char *name, duet_chan_t *ch)
{
    if (name == NULL || ch == NULL)
        return DUET_ERR_INVAL;
    size_t size = 0;
    duet_shm_ctrl_t *c = duet_arch_shm(&size);
    if (c == NULL || duet_rt_priv_epoch == 0)
        return DUET_ERR_STATE;
    memset(ch, 0, sizeof *ch);
    void *rx = NULL, *tx = NULL;
    size_t rx_len = 0, tx_len = 0;
    DUET_TRY(duet_shm_chan_ring(c, size, name, 1, &rx, &rx_len));
    DUET_TRY(duet_shm_chan_ring(c, size, name, 0, &tx, &tx_len));
    DUET_TRY(duet_ring_attach_consumer(&ch->rx, rx, rx_len, duet_rt_priv_epoch));
    DUET_TRY(duet_ring_attach_producer(&ch->tx, tx, tx_len, duet_rt_priv_epoch));
    return DUET_OK;
}

duet_err_t duet_rt_chan_send(duet_chan_t *ch, const void *msg, size_t len)
{
    if (ch == NULL)
        return DUET_ERR_INVAL;
    return duet_ring_send(&ch->tx, msg, len);
}

duet_err_t duet_rt_chan_recv(duet_chan_t *ch, void *buf, size_t cap, size_t *len)
{
    if (ch == NULL)
        return DUET_ERR_INVAL;
    return duet_ring_recv(&ch->rx, buf, cap, len);
}

duet_err_t duet_rt_chan_reserve(duet_chan_t *ch, size_t len, void **ptr)
{
    if (ch == NULL)
        return DUET_ERR_INVAL;
    return duet_ring_reserve(&ch->tx, len, ptr);
}

duet_err_t duet_rt_chan_commit(duet_chan_t *ch, size_t len)
{
    if (ch == NULL)
        return DUET_ERR_INVAL;
    return duet_ring_commit(&ch->tx, len);
}

duet_err_t duet_rt_chan_peek(duet_chan_t *ch, const void **ptr, size_t *len)
{
    if (ch == NULL)
        return DUET_ERR_INVAL;
    return duet_ring_peek(&ch->rx, ptr, len);
}

duet_err_t duet_rt_chan_release(duet_chan_t *ch)
{
    if (ch == NULL)
        return DUET_ERR_INVAL;
    return duet_ring_release(&ch->rx);
}
