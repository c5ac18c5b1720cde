/*
 * stress_common.h - message generator/checker shared by the ring stress tests.
 *
 * Message i has a length and content that are pure functions of i, so the receiver
 * checks every byte and notices a lost, duplicated, reordered or torn message without
 * any side channel. The sender mixes the copy API with reserve/commit (sometimes
 * reserving more and shrinking); the receiver mixes recv with peek/release.
 */
#ifndef DUET_TEST_STRESS_COMMON_H
#define DUET_TEST_STRESS_COMMON_H

#include <stdint.h>

#include "duet/ring.h"

typedef struct {
    duet_ring_t ring;
    uint32_t next;  /* index of the next message to send / expect */
    uint32_t total; /* messages to send / expect */
    uint32_t max;   /* largest message length */
    uint64_t bytes; /* payload bytes moved */
    uint64_t waits; /* FULL / EMPTY results seen */
    char error[160];
} stress_end_t;

/* Number of messages: env DUET_STRESS_MSGS, else 'plain' (or 'tsan' under TSan). */
uint32_t stress_count(uint32_t plain, uint32_t tsan);
/* Try to send the next message. 1 = sent, 0 = ring full, -1 = error (see e->error). */
int stress_send_one(stress_end_t *e);
/* Try to receive and check the next message. 1 = ok, 0 = empty, -1 = error. */
int stress_recv_one(stress_end_t *e);
/* Back off politely after 'n' consecutive unsuccessful tries. */
void stress_backoff(unsigned n);

#endif
