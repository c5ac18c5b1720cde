/*
 * fake_port.h - an in-process port for API tests and the e2e test server: flash in RAM
 * (NOR semantics), core 1 = a fake that acknowledges the epoch on start and beats its
 * heartbeat on every duet_port_core1_poll(), and can be told to crash. The window is
 * the simulator's (host chip/ABI), so host images packed by `duet pack --chip host`
 * verify against it. Single core-0 thread (or callers serialise with one mutex).
 */
#ifndef DUET_TEST_FAKE_PORT_H
#define DUET_TEST_FAKE_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/image.h"

#define FAKE_SLOT_SIZE (256u * 1024u)

/* Make the running fake program crash with this reason on the next poll. */
void fake_core1_crash(uint32_t reason, uint32_t pc, uint32_t addr);
/* Stop beating (a hang). */
void fake_core1_hang(bool hang);
/* Number of duet_port_flash_write/erase calls so far (to prove nothing was written). */
uint32_t fake_flash_writes(void);
/* What duet_port_core1_owns reports (a port's peripheral claims); "" after reset. */
void fake_core1_owns(const char *text);
/* Reset flash to erased and core 1 to off. */
void fake_port_reset(void);

/* Build a host image: one CODE segment with a pattern, version, security counter,
 * chip, optional signing key (PEM). Caller frees *out. */
int fake_make_image(uint8_t chip, uint8_t maj, uint8_t min, uint16_t patch, uint32_t sec,
                    const char *name, const char *key_pem, uint8_t **out, size_t *len);

#endif
