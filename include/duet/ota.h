/*
 * duet/ota.h - streaming update of the inactive slot.
 *
 *   begin(total)  erase the inactive slot (only it), start a streaming verifier
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

/** total_size: bytes that will follow (0 = unknown, bounded by the slot size). */
duet_err_t duet_ota_begin(duet_ota_t *o, duet_sup_t *s, uint32_t total_size);
duet_err_t duet_ota_write(duet_ota_t *o, const void *data, size_t len);
/** Verify and install; with activate, restart core 1 into the new image. */
duet_err_t duet_ota_finish(duet_ota_t *o, bool activate, duet_img_info_t *info);
void duet_ota_abort(duet_ota_t *o);
/** Bytes received so far. */
uint32_t duet_ota_received(const duet_ota_t *o);

#ifdef __cplusplus
}
#endif

#include "duet/ota_priv.h"

#endif /* DUET_OTA_H */
