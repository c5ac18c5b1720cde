/*
 * ring.c - lock-free single-producer/single-consumer message rings in shared memory.
 *
 * Organisation: index helpers (atomics, cache hooks), init/attach, producer
 * (reserve/commit/send), consumer (peek/release/recv), status helpers.
 * The wire format (record header word, padding record, 0xFF fill) is defined in
 * include/duet/ring.h and docs/shm-protocol.md; it is shared with core-1 programs built
 * separately, so it must not change without bumping DUET_SHM_LAYOUT_VERSION.
 *
 * Ordering: the producer writes payload and record header with plain (or relaxed) stores
 * and publishes them with a RELEASE store of rh_head; the consumer ACQUIRE-loads rh_head
 * before reading them. The consumer RELEASE-stores rh_tail after it has finished reading;
 * the producer ACQUIRE-loads rh_tail before overwriting that space (no write-after-read
 * hazard). Each side reads the other side's index only when its cached copy says
 * "full"/"empty", so the two index lines do not bounce between cores on every message.
 *
 * Everything read from shared memory is input: indices are checked against the size the
 * handle captured at attach, record headers against the published bytes, and no offset
 * derived from shared memory is used before it is masked or bounds-checked.
 *
 * Freestanding C11: only <stdatomic.h>, <stdint.h>, <stddef.h> and memcpy/memset from
 * <string.h> (the core-1 SDK provides them). Only aligned 32-bit atomics.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#if __STDC_HOSTED__
#include <string.h>
#else
/* Freestanding (core 1): no libc headers; the SDK provides these two (rt_libc.c). */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
#endif

#include "duet/ring.h"

/*
 * Cache maintenance hooks. Internal SRAM on the ESP32-S3 has no data cache
 * (XCHAL_DCACHE_SIZE 0), and the host is coherent, so they are no-ops. A port that puts
 * rings in cached memory (e.g. PSRAM with a non-coherent observer) defines them to
 * duet_port_cache_wb/inv: write back before a release store publishes data, invalidate
 * after an acquire load and before reading the other side's data.
 */
#ifndef DUET_RING_CACHE_WB
#define DUET_RING_CACHE_WB(ptr, len) ((void)0)
#endif
#ifndef DUET_RING_CACHE_INV
#define DUET_RING_CACHE_INV(ptr, len) ((void)0)
#endif

typedef _Atomic uint32_t atomic_u32;
_Static_assert(sizeof(atomic_u32) == sizeof(uint32_t), "atomic u32 has the plain layout");
_Static_assert(_Alignof(atomic_u32) == _Alignof(uint32_t), "atomic u32 alignment");

static inline uint32_t load_acq(uint32_t *p)
{
    return atomic_load_explicit((atomic_u32 *)p, memory_order_acquire);
}

static inline uint32_t load_rlx(uint32_t *p)
{
    return atomic_load_explicit((atomic_u32 *)p, memory_order_relaxed);
}

static inline void store_rel(uint32_t *p, uint32_t v)
{
    atomic_store_explicit((atomic_u32 *)p, v, memory_order_release);
}

static inline void store_rlx(uint32_t *p, uint32_t v)
{
    atomic_store_explicit((atomic_u32 *)p, v, memory_order_relaxed);
}

static inline uint32_t round4(uint32_t n)
{
    return (n + 3u) & ~3u;
}

static inline uint32_t rec_size(uint32_t len)
{
    return DUET_RING_REC_HDR + round4(len);
}

static inline uint32_t *word_at(const duet_ring_t *r, uint32_t off)
{
    /* off is always 4-aligned and < size here; data is 64-byte aligned from the header */
    return (uint32_t *)(void *)(r->data + off);
}

static inline uint32_t max_msg_for(uint32_t size)
{
    uint32_t m = size / 2u - DUET_RING_REC_HDR;
    return m < DUET_RING_REC_LEN_MASK ? m : DUET_RING_REC_LEN_MASK;
}

static inline int is_pow2(uint32_t v)
{
    return v != 0u && (v & (v - 1u)) == 0u;
}

/* The handle's epoch must still be the ring's. Relaxed is enough: this is an early
 * "re-attach" signal; the per-record epoch tag is what keeps old data out. */
static inline int stale(const duet_ring_t *r)
{
    return load_rlx(&r->hdr->rh_epoch) != r->epoch;
}

/* ------------------------------------------------------------------ init / attach */

duet_err_t duet_ring_init(void *mem, size_t footprint, uint32_t epoch)
{
    if (mem == NULL || ((uintptr_t)mem & 3u) != 0u || footprint < DUET_RING_HDR_SIZE)
        return DUET_ERR_INVAL;
    size_t data = footprint - DUET_RING_HDR_SIZE;
    if (data < DUET_RING_MIN_SIZE || data > DUET_RING_MAX_SIZE || !is_pow2((uint32_t)data))
        return DUET_ERR_INVAL;

    duet_ring_hdr_t *h = mem;
    uint32_t size = (uint32_t)data;
    /* The peer is stopped (protocol), so plain writes are fine; magic goes last with
     * release so an observer that sees the magic sees a complete header. */
    store_rlx(&h->rh_magic, 0u);
    memset((uint8_t *)mem + sizeof(uint32_t), 0, DUET_RING_HDR_SIZE - sizeof(uint32_t));
    memset((uint8_t *)mem + DUET_RING_HDR_SIZE, 0xff, size); /* never a valid record */
    h->rh_size = size;
    h->rh_epoch = epoch;
    h->rh_max_msg = max_msg_for(size);
    h->rh_data_off = DUET_RING_HDR_SIZE;
    store_rlx(&h->rh_head, 0u);
    store_rlx(&h->rh_tail, 0u);
    DUET_RING_CACHE_WB(mem, footprint);
    store_rel(&h->rh_magic, DUET_RING_MAGIC);
    return DUET_OK;
}

static duet_err_t attach(duet_ring_t *r, void *mem, size_t footprint, uint32_t expected_epoch,
                         int producer)
{
    if (r == NULL)
        return DUET_ERR_INVAL;
    memset(r, 0, sizeof(*r)); /* a failed attach leaves an unusable (zeroed) handle */
    if (mem == NULL || ((uintptr_t)mem & 3u) != 0u ||
        footprint < DUET_RING_HDR_SIZE + DUET_RING_MIN_SIZE)
        return DUET_ERR_INVAL;
    duet_ring_hdr_t *h = mem;
    DUET_RING_CACHE_INV(mem, DUET_RING_HDR_SIZE);
    if (load_acq(&h->rh_magic) != DUET_RING_MAGIC)
        return DUET_ERR_RING_CORRUPT;
    /* Read each field once into a local: the header may change under us. */
    uint32_t size = load_rlx(&h->rh_size);
    uint32_t data_off = load_rlx(&h->rh_data_off);
    uint32_t max_msg = load_rlx(&h->rh_max_msg);
    uint32_t epoch = load_rlx(&h->rh_epoch);
    if (size < DUET_RING_MIN_SIZE || size > DUET_RING_MAX_SIZE || !is_pow2(size) ||
        size > footprint - DUET_RING_HDR_SIZE || data_off != DUET_RING_HDR_SIZE ||
        max_msg > max_msg_for(size))
        return DUET_ERR_RING_CORRUPT;
    if (epoch != expected_epoch)
        return DUET_ERR_RING_STALE;
    uint32_t head = load_acq(&h->rh_head);
    uint32_t tail = load_acq(&h->rh_tail);
    if (((head | tail) & 3u) != 0u || head - tail > size)
        return DUET_ERR_RING_CORRUPT;

    r->hdr = h;
    r->data = (uint8_t *)mem + DUET_RING_HDR_SIZE;
    r->size = size;
    r->mask = size - 1u;
    r->epoch = epoch;
    r->max_msg = max_msg;
    r->cached_head = head;
    r->cached_tail = tail;
    r->pending = 0u;
    r->local = producer ? head : tail;
    return DUET_OK;
}

duet_err_t duet_ring_attach_producer(duet_ring_t *r, void *mem, size_t footprint,
                                     uint32_t expected_epoch)
{
    return attach(r, mem, footprint, expected_epoch, 1);
}

duet_err_t duet_ring_attach_consumer(duet_ring_t *r, void *mem, size_t footprint,
                                     uint32_t expected_epoch)
{
    return attach(r, mem, footprint, expected_epoch, 0);
}

/* ------------------------------------------------------------------ producer */

/*
 * Producer handle fields: local = our head (bytes committed), cached_tail = last rh_tail
 * seen, pending = bytes reserved (padding + record) but not committed, cached_head =
 * padding bytes in front of the reserved record (the producer never needs rh_head).
 *
 * Placement of a record of 'rec' bytes at ring offset 'off' (contig bytes to the end):
 *  1. a message of >= DUET_RING_ALIGN_MIN bytes gets a padding record in front so that
 *     its payload starts on a DUET_RING_PAYLOAD_ALIGN boundary (copies of large payloads
 *     then never split loads/stores across cache lines; measured +45% at 1 KiB on x86,
 *     docs/benchmarks.md) - if that fits before the end and in the free space;
 *     a small record (<= DUET_RING_PAYLOAD_ALIGN / 2 bytes) that would straddle a
 *     PAYLOAD_ALIGN (cache-line) boundary gets a padding record that moves it to the
 *     next boundary (then each small message costs the peer one line transfer, not
 *     two; docs/benchmarks.md) - under the same conditions. The padding is shorter
 *     than the record, so at most 25% of a line is lost (24-byte records);
 *  2. otherwise the record goes at 'off' if it fits before the end;
 *  3. otherwise a padding record fills the end and the record goes at offset 0.
 * Falling back from 1 to 2 keeps the guarantee that max_msg fits once the ring drains.
 * The inline fast path of duet_ring_send (ring.h) makes the same choices for the cases
 * it handles (small records, no wrap, enough known free space).
 */
static duet_err_t reserve(duet_ring_t *r, size_t len, void **ptr)
{
    if (r->pending != 0u)
        return DUET_ERR_STATE;
    if (len > r->max_msg)
        return DUET_ERR_RING_TOO_BIG;

    uint32_t rec = rec_size((uint32_t)len);
    uint32_t off = r->local & r->mask;
    uint32_t contig = r->size - off; /* >= 4: off and size are multiples of 4 */
    uint32_t gap = 0u;               /* padding bytes before the record */
    uint32_t a = DUET_RING_PAYLOAD_ALIGN - 1u;
    if (len >= DUET_RING_ALIGN_MIN)
        gap = ((off + DUET_RING_REC_HDR + a) & ~a) - DUET_RING_REC_HDR - off;
    else if (rec <= DUET_RING_PAYLOAD_ALIGN / 2u && (off & a) + rec > DUET_RING_PAYLOAD_ALIGN)
        gap = DUET_RING_PAYLOAD_ALIGN - (off & a); /* keep a small record in one line */
    if (gap + rec > contig)
        gap = 0u;
    if (gap == 0u && rec > contig)
        gap = contig; /* wrap */

    uint32_t free_bytes = r->size - (r->local - r->cached_tail);
    if (gap + rec > free_bytes) {
        /* Looks full with our old view of the tail: fetch the consumer's progress. */
        uint32_t tail = load_acq(&r->hdr->rh_tail);
        if ((tail & 3u) != 0u || r->local - tail > r->size)
            return DUET_ERR_RING_CORRUPT;
        r->cached_tail = tail;
        free_bytes = r->size - (r->local - tail);
        if (gap + rec > free_bytes && gap != contig && rec <= free_bytes)
            gap = 0u; /* alignment is a luxury: place it unaligned rather than wait */
        if (gap + rec > free_bytes)
            return DUET_ERR_RING_FULL;
    }

    if (gap != 0u) {
        /* Padding record; it becomes visible together with the message at commit. The
         * inline send may have written it ahead (ring.h): then do not touch the line. */
        uint32_t pw = DUET_RING_REC_WORD(gap - DUET_RING_REC_HDR, r->epoch, DUET_RING_REC_PAD);
        if (load_rlx(word_at(r, off)) != pw)
            store_rlx(word_at(r, off), pw);
        off = (off + gap) & r->mask;
    }
    r->pending = gap + rec;
    r->cached_head = gap;
    *ptr = r->data + off + DUET_RING_REC_HDR;
    return DUET_OK;
}

duet_err_t duet_ring_reserve(duet_ring_t *r, size_t len, void **ptr)
{
    if (r == NULL || r->hdr == NULL || ptr == NULL)
        return DUET_ERR_INVAL;
    if (stale(r))
        return DUET_ERR_RING_STALE;
    return reserve(r, len, ptr);
}

/*
 * Padding written ahead (the inline send in ring.h does the same): when a small record
 * ends so close to a line end that the next record of its size will need a padding
 * record there, write that padding word now, into free unpublished space, while this
 * line is being written anyway. The next message then finds it in place (reserve() does
 * not rewrite an equal word) and the consumer gets the line once, not twice. If the next
 * message is placed differently it simply overwrites the word.
 */
static void write_pad_ahead(duet_ring_t *r, uint32_t rec)
{
    uint32_t end = r->local & (DUET_RING_PAYLOAD_ALIGN - 1u); /* 0 at the ring's end */
    if (end != 0u && end + rec > DUET_RING_PAYLOAD_ALIGN && rec <= DUET_RING_PAYLOAD_ALIGN / 2u &&
        r->size - (r->local - r->cached_tail) >= DUET_RING_PAYLOAD_ALIGN - end)
        store_rlx(word_at(r, r->local & r->mask),
                  DUET_RING_REC_WORD(DUET_RING_PAYLOAD_ALIGN - end - DUET_RING_REC_HDR, r->epoch,
                                     DUET_RING_REC_PAD));
}

/* Publishes the reservation (r->pending != 0) with final length len. */
static void commit(duet_ring_t *r, uint32_t off, uint32_t skip, size_t len)
{
    uint32_t rec = rec_size((uint32_t)len);
    store_rlx(word_at(r, off), DUET_RING_REC_WORD(len, r->epoch, 0u));
    DUET_RING_CACHE_WB(r->data + off, rec);
    if (skip != 0u) /* the padding header (possibly written ahead earlier, or at the end) */
        DUET_RING_CACHE_WB(r->data + ((off - skip) & r->mask), DUET_RING_REC_HDR);
    r->local += skip + rec;
    r->pending = 0u;
    write_pad_ahead(r, rec);
    store_rel(&r->hdr->rh_head, r->local); /* publishes padding, header and payload */
    DUET_RING_CACHE_WB(&r->hdr->rh_head, sizeof(uint32_t));
}

duet_err_t duet_ring_commit(duet_ring_t *r, size_t len)
{
    if (r == NULL || r->hdr == NULL)
        return DUET_ERR_INVAL;
    if (r->pending == 0u)
        return DUET_ERR_STATE;
    uint32_t skip = r->cached_head; /* padding bytes before the record */
    uint32_t off = (r->local + skip) & r->mask;
    uint32_t reserved = r->pending - skip; /* record bytes reserved */
    if (len > reserved - DUET_RING_REC_HDR)
        return DUET_ERR_INVAL;
    if (stale(r)) {
        r->pending = 0u; /* the reservation belonged to the old epoch */
        return DUET_ERR_RING_STALE;
    }
    commit(r, off, skip, len);
    return DUET_OK;
}

duet_err_t duet_ring_send_slow(duet_ring_t *r, const void *msg, size_t len)
{
    if (r == NULL || r->hdr == NULL || (msg == NULL && len != 0u))
        return DUET_ERR_INVAL;
    /* One epoch check for the whole call: a re-init racing the copy is caught by the
     * consumer through the record's epoch tag. */
    if (stale(r))
        return DUET_ERR_RING_STALE;
    void *p;
    duet_err_t e = reserve(r, len, &p);
    if (e != DUET_OK)
        return e;
    if (len != 0u)
        memcpy(p, msg, len);
    commit(r, (r->local + r->cached_head) & r->mask, r->cached_head, len);
    return DUET_OK;
}

/* ------------------------------------------------------------------ consumer */

/*
 * Consumer handle fields: local = our tail (bytes released), cached_head = last rh_head
 * seen, cached_tail = last value stored to rh_tail, pending = bytes the peeked message
 * occupies (padding + record), 0 if none.
 *
 * Batched release: released bytes are published to rh_tail once an eighth of the ring
 * has accumulated, or as soon as the consumer finds the ring empty. The tail line then
 * moves to the producer's core once per batch instead of once per message (and the store
 * leaves the latency path of a ping-pong). Publishing late only delays reuse of space, it
 * never exposes unread data; a consumer that drains until EMPTY (the normal loop) leaves
 * nothing unpublished.
 */
static inline void publish_tail(duet_ring_t *r)
{
    if (r->cached_tail != r->local) {
        r->cached_tail = r->local;
        store_rel(&r->hdr->rh_tail, r->local); /* our reads of those records are done */
        DUET_RING_CACHE_WB(&r->hdr->rh_tail, sizeof(uint32_t));
    }
}

static inline void consume(duet_ring_t *r)
{
    r->local += r->pending;
    r->pending = 0u;
    if (r->local - r->cached_tail >= r->size / 8u)
        publish_tail(r);
}

/* Decodes the next record without consuming it. */
static duet_err_t next(duet_ring_t *r, uint32_t *payload_off, uint32_t *len)
{
    uint32_t avail = r->cached_head - r->local;
    if (avail == 0u) {
        publish_tail(r); /* about to wait: give the producer all the space */
        uint32_t head = load_acq(&r->hdr->rh_head);
        if ((head & 3u) != 0u || head - r->local > r->size)
            return DUET_ERR_RING_CORRUPT;
        r->cached_head = head;
        avail = head - r->local;
        if (avail == 0u)
            return DUET_ERR_RING_EMPTY;
    }
    uint32_t off = r->local & r->mask;
    uint32_t skip = 0u;
    DUET_RING_CACHE_INV(r->data + off, avail < r->size - off ? avail : r->size - off);
    uint32_t w = load_rlx(word_at(r, off)); /* one read: the word may change under us */
    if ((w & DUET_RING_REC_PAD) != 0u) {
        /* Padding: a multiple of 4 bytes, not past the end of the data area, followed
         * by a published record that is not padding. */
        uint32_t plen = w & DUET_RING_REC_LEN_MASK;
        if ((plen & 3u) != 0u || plen > r->size - off - DUET_RING_REC_HDR)
            return DUET_ERR_RING_CORRUPT;
        skip = DUET_RING_REC_HDR + plen;
        if (avail < skip + DUET_RING_REC_HDR)
            return DUET_ERR_RING_CORRUPT;
        if (((w >> DUET_RING_REC_TAG_SHIFT) & DUET_RING_REC_TAG_MASK) !=
            (r->epoch & DUET_RING_REC_TAG_MASK))
            return DUET_ERR_RING_STALE;
        off = (off + skip) & r->mask;
        DUET_RING_CACHE_INV(r->data + off, DUET_RING_REC_HDR);
        w = load_rlx(word_at(r, off));
        if ((w & DUET_RING_REC_PAD) != 0u)
            return DUET_ERR_RING_CORRUPT;
    }
    uint32_t n = w & DUET_RING_REC_LEN_MASK;
    /* n <= max_msg < size/2 keeps rec_size() from overflowing. */
    if (n > r->max_msg || rec_size(n) > avail - skip || off + rec_size(n) > r->size)
        return DUET_ERR_RING_CORRUPT;
    if (((w >> DUET_RING_REC_TAG_SHIFT) & DUET_RING_REC_TAG_MASK) !=
        (r->epoch & DUET_RING_REC_TAG_MASK))
        return DUET_ERR_RING_STALE;
    r->pending = skip + rec_size(n);
    *payload_off = off + DUET_RING_REC_HDR;
    *len = n;
    return DUET_OK;
}

duet_err_t duet_ring_peek(duet_ring_t *r, const void **ptr, size_t *len)
{
    if (r == NULL || r->hdr == NULL || ptr == NULL || len == NULL)
        return DUET_ERR_INVAL;
    if (stale(r))
        return DUET_ERR_RING_STALE;
    uint32_t off, n;
    r->pending = 0u;
    duet_err_t e = next(r, &off, &n);
    if (e != DUET_OK)
        return e;
    *ptr = r->data + off;
    *len = n;
    return DUET_OK;
}

duet_err_t duet_ring_release(duet_ring_t *r)
{
    if (r == NULL || r->hdr == NULL)
        return DUET_ERR_INVAL;
    if (r->pending == 0u)
        return DUET_ERR_STATE;
    if (stale(r)) {
        /* Do not move the tail of a ring that now belongs to another epoch. */
        r->pending = 0u;
        return DUET_ERR_RING_STALE;
    }
    consume(r);
    return DUET_OK;
}

duet_err_t duet_ring_recv_slow(duet_ring_t *r, void *buf, size_t cap, size_t *len)
{
    if (r == NULL || r->hdr == NULL || len == NULL || (buf == NULL && cap != 0u))
        return DUET_ERR_INVAL;
    if (stale(r))
        return DUET_ERR_RING_STALE;
    uint32_t off, n;
    r->pending = 0u;
    duet_err_t e = next(r, &off, &n);
    if (e != DUET_OK)
        return e;
    *len = n;
    if (n > cap) {
        r->pending = 0u; /* leave it queued */
        return DUET_ERR_RING_TOO_BIG;
    }
    if (n != 0u)
        memcpy(buf, r->data + off, n);
    consume(r);
    return DUET_OK;
}

/* ------------------------------------------------------------------ status */

size_t duet_ring_record_size(size_t len)
{
    if (len > DUET_RING_REC_LEN_MASK)
        return 0u;
    return rec_size((uint32_t)len);
}

uint32_t duet_ring_max_msg(const duet_ring_t *r)
{
    return (r == NULL || r->hdr == NULL) ? 0u : r->max_msg;
}

uint32_t duet_ring_used(const duet_ring_t *r)
{
    if (r == NULL || r->hdr == NULL)
        return 0u;
    uint32_t tail = load_acq(&r->hdr->rh_tail);
    uint32_t head = load_acq(&r->hdr->rh_head);
    uint32_t used = head - tail;
    return used > r->size ? r->size : used;
}

uint32_t duet_ring_free(const duet_ring_t *r)
{
    if (r == NULL || r->hdr == NULL)
        return 0u;
    return r->size - duet_ring_used(r);
}
