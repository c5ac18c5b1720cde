/*
 * duet/err.h - the one error enum of duet, shared by core 0, core 1 and the tools.
 *
 * Every fallible function returns duet_err_t (DUET_OK == 0) and passes results out
 * through pointer parameters. The list below is the single source of truth: the enum
 * and the message table are both generated from it, so they cannot drift.
 * Append new codes at the end of their group; never renumber (codes travel in
 * shared memory, HTTP replies and CLI exit codes).
 */
#ifndef DUET_ERR_H
#define DUET_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, one-line message) */
#define DUET_ERR_LIST(X)                                                       \
    X(OK, "ok")                                                                \
    X(INVAL, "invalid argument")                                               \
    X(NOMEM, "out of memory")                                                  \
    X(IO, "I/O error")                                                         \
    X(STATE, "operation not allowed in the current state")                     \
    X(TIMEOUT, "timed out")                                                    \
    X(BUSY, "busy")                                                            \
    X(NOT_FOUND, "not found")                                                  \
    X(UNSUPPORTED, "not supported")                                            \
    X(AUTH, "missing or wrong bearer token")                                   \
    /* image format (see docs/image-format.md) */                              \
    X(IMG_TRUNCATED, "image truncated")                                        \
    X(IMG_BAD_MAGIC, "image: bad magic")                                       \
    X(IMG_BAD_VERSION, "image: unsupported format version")                    \
    X(IMG_BAD_HDR_SIZE, "image: bad header size")                              \
    X(IMG_WRONG_CHIP, "image: built for another chip")                         \
    X(IMG_WRONG_ABI, "image: wrong ABI for this core")                         \
    X(IMG_BAD_FLAGS, "image: unknown flags set")                               \
    X(IMG_TOO_MANY_SEGS, "image: too many segments")                           \
    X(IMG_BAD_SEG_KIND, "image: unknown segment kind")                         \
    X(IMG_SEG_OVERFLOW, "image: segment size overflows")                       \
    X(IMG_SEG_OUTSIDE, "image: segment outside the memory window")             \
    X(IMG_SEG_OVERLAP, "image: segments overlap")                              \
    X(IMG_SEG_PERM, "image: segment in a region without the needed access")    \
    X(IMG_SEG_FILE_RANGE, "image: segment data outside the payload")           \
    X(IMG_BAD_ENTRY, "image: entry point not in executable code")              \
    X(IMG_BAD_STACK, "image: stack not in writable memory")                    \
    X(IMG_BAD_VECTORS, "image: vector table not in executable code")           \
    X(IMG_BAD_ALIGN, "image: bad alignment")                                   \
    X(IMG_BAD_TLV, "image: malformed TLV")                                     \
    X(IMG_BAD_TRAILER, "image: malformed trailer")                             \
    X(IMG_NO_HASH, "image: no SHA-256 in trailer")                             \
    X(IMG_BAD_HASH, "image: SHA-256 mismatch")                                 \
    X(IMG_NO_SIG, "image: signature required but missing")                     \
    X(IMG_BAD_SIG, "image: bad signature")                                     \
    X(IMG_UNKNOWN_KEY, "image: signed with an unknown key")                    \
    X(IMG_TOO_BIG, "image: larger than the slot")                              \
    X(IMG_SHM_VERSION, "image: shared-memory layout version mismatch")         \
    X(IMG_DOWNGRADE, "image: security counter lower than allowed")             \
    X(IMG_TRAILING_DATA, "image: data after the trailer")                      \
    X(IMG_RESERVED, "image: reserved field not zero")                          \
    X(IMG_NO_SEGS, "image: no segments")                                       \
    X(IMG_SEG_EMPTY, "image: zero-size segment")                               \
    X(IMG_PAYLOAD_LAYOUT, "image: payload not exactly covered by segment data") \
    X(IMG_TLV_CRITICAL, "image: unknown critical TLV")                         \
    X(IMG_BAD_BUILD_ID, "image: bad build-id length or padding")               \
    X(IMG_STACK_OVERLAP, "image: stack overlaps a segment")                    \
    /* rings and shared memory */                                              \
    X(RING_FULL, "ring full")                                                  \
    X(RING_EMPTY, "ring empty")                                                \
    X(RING_TOO_BIG, "message larger than the ring allows")                     \
    X(RING_CORRUPT, "ring indices corrupted")                                  \
    X(RING_STALE, "ring belongs to an old epoch")                              \
    X(SHM_BAD_MAGIC, "shared memory: bad magic")                               \
    X(SHM_BAD_VERSION, "shared memory: layout version mismatch")               \
    X(SHM_BAD_LAYOUT, "shared memory: layout out of bounds")                   \
    /* supervisor, slots, OTA */                                               \
    X(NO_IMAGE, "no bootable image")                                           \
    X(CRASH_LOOP, "crash-loop limit reached")                                  \
    X(SLOT_CORRUPT, "slot state corrupted")                                    \
    X(OTA_STATE, "no update in progress")                                      \
    X(CRYPTO, "crypto library error")                                          \
    /* fleet updates (docs/fleet.md) */                                        \
    X(MANIFEST, "manifest: malformed or missing field")                        \
    X(MANIFEST_REPLAY, "manifest: older than the one last accepted")           \
    X(FETCH, "download failed")                                                \
    /* XIP images (docs/image-format.md 3a; appended here: no code is renumbered) */ \
    X(IMG_XIP_DISABLED, "image: XIP load mode not enabled in this firmware")   \
    X(IMG_XIP_ALIGN, "image: XIP mapping not aligned to a 64 KiB MMU page")    \
    X(IMG_XIP_RANGE, "image: XIP mapping outside the firmware's XIP range")    \
    X(IMG_XIP_BUS, "image: XIP segment on the wrong bus (code IBUS, rodata DBUS)") \
    X(IMG_XIP_OVERLAP, "image: XIP mapped ranges overlap")                     \
    X(IMG_XIP_MAP, "image: XIP segment address does not match its slot offset") \
    X(IMG_XIP_SLOT, "image: XIP mapping runs past the end of its slot")        \
    X(XIP_LOCKOUT, "core 1 touched flash during a flash write")

#define DUET_ERR_ENUM_(name, msg) DUET_ERR_##name,
typedef enum { DUET_ERR_LIST(DUET_ERR_ENUM_) DUET_ERR__COUNT } duet_err_t;
#undef DUET_ERR_ENUM_
#define DUET_OK DUET_ERR_OK

/** One-line message for an error code (never NULL). */
const char *duet_err_str(duet_err_t e);
/** Short symbolic name, e.g. "IMG_BAD_HASH" (never NULL). */
const char *duet_err_name(duet_err_t e);

/* Propagate an error. Shaped like ESP_RETURN_ON_ERROR. */
#define DUET_TRY(expr)                                                         \
    do {                                                                       \
        duet_err_t duet_try_e_ = (expr);                                       \
        if (duet_try_e_ != DUET_OK)                                            \
            return duet_try_e_;                                                \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif /* DUET_ERR_H */
