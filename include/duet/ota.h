/*
 * duet/ota.h - streaming update of the inactive slot.
 *
 *   begin(total)  claim the inactive slot (only it), start a streaming verifier;
 *                 its blocks are erased as the data reaches them, so an upload refused
 *                 by its header leaves the slot's old image intact
 *   write(chunk)* feed the verifier and program flash in the same pass
 *   finish()      hash, signature, security counter, chip, window all checked; only
 *                 then is the slot marked PENDING and (optionally) activated
 *   abort()       nothing selectable changed; the running program never stops
 *
 * An interrupted upload (connection lost, power cut) leaves the running program and the
 * bootable slot untouched: the slot record is only written after full verification.
 */
#ifndef DUET_OTA_H
#define DUET_OTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/image.h"
#include "duet/sup.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_ota duet_ota_t; /* defined in duet/ota_priv.h */

/** total_size: bytes that will follow (0 = unknown, bounded by the slot size).
 *  @return DUET_OK; DUET_ERR_BUSY (a session is open on this supervisor);
 *          DUET_ERR_IMG_TOO_BIG (total_size > slot); DUET_ERR_STATE (the running image
 *          is still PENDING and the inactive slot holds its CONFIRMED rollback target:
 *          confirm or roll back first, like esp_ota_begin with rollback enabled);
 *          DUET_ERR_NOMEM; flash errors. */
duet_err_t duet_ota_begin(duet_ota_t *o, duet_sup_t *s, uint32_t total_size);
/** @return DUET_OK; the verifier's DUET_ERR_IMG_* (first broken rule);
 *          DUET_ERR_IMG_TOO_BIG (more than announced / than the slot); flash errors;
 *          DUET_ERR_OTA_STATE without a session. Any error ends the session: later
 *          calls return the same error until abort() or a new begin(). */
duet_err_t duet_ota_write(duet_ota_t *o, const void *data, size_t len);
/** Verify (end of image, hash, signature, then a read-back of the slot from flash)
 *  and install (journal: PENDING + active); with activate, restart core 1 into it.
 *  @return DUET_OK; DUET_ERR_IMG_TRUNCATED; DUET_ERR_IMG_*; a start error if the
 *  image was installed but core 1 could not be started into it. */
duet_err_t duet_ota_finish(duet_ota_t *o, bool activate, duet_img_info_t *info);
void duet_ota_abort(duet_ota_t *o);
/** Bytes received so far. */
uint32_t duet_ota_received(const duet_ota_t *o);

#ifdef __cplusplus
}
#endif

#include "duet/ota_priv.h"

#endif /* DUET_OTA_H */
