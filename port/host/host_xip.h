/*
 * host_xip.h - internals of the host port's XIP model (xip_map.c), shared with the
 * flash (flash_file.c: the lockout around every program/erase) and the core-1 process
 * (core1_process.c: the hand-over to the child, unmap on stop). Not a public header.
 */
#ifndef DUET_HOST_XIP_H
#define DUET_HOST_XIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/port.h"

/** Before a flash program/erase: if an XIP program runs, park it (request + signal,
 *  bounded wait for the ack, else SIGSTOP) and turn its flash mapping off.
 *  @return DUET_OK; DUET_ERR_BUSY if the operation would change the mapped pages of
 *          the running program's own slot (nothing was done). */
duet_err_t host_xip_lockout_begin(duet_area_t area, uint32_t off, size_t len);
/** After it: mapping back (refilled from flash), release, record the parked time. */
void host_xip_lockout_end(bool erase);
/** The child's hand-over variables (fd, address, size) if an XIP image is mapped:
 *  writes up to 3 "NAME=value" strings, returns how many; *fd = the memfd to keep open
 *  across exec (-1 if none). */
unsigned host_xip_child_env(char vars[][48], int *fd);
/** Core 1 stopped: drop the mapping. */
void host_xip_unmap(void);

#endif /* DUET_HOST_XIP_H */
