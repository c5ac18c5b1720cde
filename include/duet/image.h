/*
 * duet/image.h - the duet program image format, version 2 (on-flash and on-wire).
 *
 * All multi-byte fields are little-endian. The structs below ARE the specification
 * (docs/image-format.md explains them in prose); sizes and offsets are enforced with
 * _Static_assert so a change that breaks the format fails to compile.
 *
 *   +--------------------------------+ 0
 *   | duet_img_hdr_t (96 B)          |  ih_hdr_size = 96 for format 2
 *   +--------------------------------+ ih_hdr_size
 *   | duet_img_seg_t[ih_seg_count]   |  16 B each
 *   +--------------------------------+
 *   | protected TLV area             |  ih_tlv_size bytes, 4-aligned TLVs; holds the
 *   |                                |  PAYLOAD_SHA256 of the segment data
 *   +--------------------------------+ head end = SHA-256 (and signature) cover [0, here)
 *   | trailer: duet_img_trailer_t    |  unprotected: SHA-256, key id, signature
 *   |          + TLVs                |
 *   +--------------------------------+ payload start = head end + tr_size
 *   | segment data                   |  ih_payload_size bytes; seg file offsets are
 *   |                                |  relative to the payload start
 *   +--------------------------------+ end of image
 *
 * XIP load mode (DUET_IMG_F_XIP): the data of the mapped segments (kinds XIP and
 * XIP_RODATA, last in the table) is not after the loaded data but at ih_map_offset, a
 * 64 KiB page of the slot, after zero padding; the MMU maps it at ih_map_addr.
 *
 * Format 2 puts the signed head (which commits to the payload by its digest) before the
 * payload, so a receiver authenticates an upload before it writes any flash: a forged
 * or unsigned upload is refused with the slot's old image intact. Format 1 (trailer
 * after the payload) is refused with DUET_ERR_IMG_BAD_VERSION (docs/image-format.md).
 *
 * Readers must treat every field as hostile input: the verifier (duet_img_verify*)
 * checks all of them against a caller-given memory window before anything is loaded.
 */
#ifndef DUET_IMAGE_H
#define DUET_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_IMG_MAGIC 0x54455544u /* "DUET" read as bytes 'D','U','E','T' */
#define DUET_IMG_FORMAT 2u
#define DUET_IMG_HDR_SIZE 96u
#define DUET_IMG_SEG_SIZE 16u
#define DUET_IMG_MAX_SEGS 16u
#define DUET_IMG_TRAILER_MAGIC 0x5254u /* "TR" */
#define DUET_IMG_BUILD_ID_LEN 20u
#define DUET_IMG_HASH_LEN 32u
#define DUET_IMG_KEY_ID_LEN 8u  /* first 8 bytes of SHA-256 of the raw public key */
#define DUET_IMG_SIG_LEN 64u    /* ECDSA P-256 r || s, 32 bytes each, big-endian */
#define DUET_IMG_PUBKEY_LEN 65u /* uncompressed SEC1 point 0x04 || X || Y */
/* Bounds the verifier enforces (docs/image-format.md, "Validation rules"). */
#define DUET_IMG_HDR_MAX 256u       /* largest ih_hdr_size accepted */
#define DUET_IMG_TRAILER_MIN 40u    /* trailer header + SHA256 TLV (4 + 4 + 32) */
#define DUET_IMG_TRAILER_MAX 1024u  /* largest tr_size accepted */
#define DUET_IMG_TLV_MAX 1024u      /* largest ih_tlv_size: bounds the head a receiver holds */
/* Largest head (header, table, TLV area, trailer): what a receiver buffers before the
 * signature is checked. */
#define DUET_IMG_HEAD_MAX                                                                    \
    (DUET_IMG_HDR_MAX + DUET_IMG_MAX_SEGS * DUET_IMG_SEG_SIZE + DUET_IMG_TLV_MAX +           \
     DUET_IMG_TRAILER_MAX)
#define DUET_IMG_NAME_MAX 31u       /* longest DUET_TLV_NAME value */
#define DUET_IMG_STACK_ALIGN 16u    /* ih_stack_top and ih_stack_size */
#define DUET_IMG_VECTORS_ALIGN 1024u/* ih_vectors (Xtensa VECBASE alignment) */
/* XIP (docs/image-format.md section 3a): the flash MMU maps 64 KiB pages (ESP32-S3:
 * mmu_ll_get_page_size() = MMU_PAGE_64KB), so the mapped part starts on a page of the
 * slot and of the virtual space. */
#define DUET_XIP_PAGE 0x10000u

/* ih_chip */
enum { DUET_CHIP_HOST = 0, DUET_CHIP_ESP32S3 = 1, DUET_CHIP_ESP32 = 2 };
/* ih_abi */
enum { DUET_ABI_HOST = 0, DUET_ABI_WINDOWED = 1, DUET_ABI_CALL0 = 2 };
/* ih_flags */
#define DUET_IMG_F_XIP 0x0001u        /* load mode XIP: has mapped segments (ih_map_*) */
#define DUET_IMG_F_SIGNED 0x0002u     /* producer intended a signature (informative) */
#define DUET_IMG_F_KNOWN 0x0003u      /* every other bit must be zero */

/* Segment kinds (is_ kind). */
enum {
    DUET_SEG_CODE = 1,   /* executable, loaded (IRAM alias on the chip) */
    DUET_SEG_RODATA = 2, /* read-only data, loaded (DRAM alias) */
    DUET_SEG_DATA = 3,   /* read-write data, loaded */
    DUET_SEG_BSS = 4,    /* read-write, zero-filled, no file data */
    DUET_SEG_XIP = 5,    /* code executed from the flash mapping (instruction bus) */
    DUET_SEG_XIP_RODATA = 6, /* read-only data read through the mapping's data-bus alias */
};

/** Image header. Protected by the SHA-256. */
typedef struct {
    uint32_t ih_magic;            /* 0  DUET_IMG_MAGIC */
    uint16_t ih_format;           /* 4  DUET_IMG_FORMAT */
    uint16_t ih_hdr_size;         /* 6  bytes of this header (>= 96, multiple of 4) */
    uint8_t ih_chip;              /* 8  DUET_CHIP_* */
    uint8_t ih_abi;               /* 9  DUET_ABI_* */
    uint16_t ih_flags;            /* 10 DUET_IMG_F_* */
    uint32_t ih_entry;            /* 12 entry address (inside a CODE/XIP segment) */
    uint32_t ih_stack_top;        /* 16 initial SP, 16-byte aligned, end of stack */
    uint32_t ih_stack_size;       /* 20 bytes below ih_stack_top reserved for stack */
    uint32_t ih_vectors;          /* 24 vector table (1 KiB aligned) or 0 = none */
    uint16_t ih_shm_version;      /* 28 DUET_SHM_LAYOUT_VERSION the program was built for */
    uint8_t ih_seg_count;         /* 30 entries in the segment table */
    uint8_t ih_reserved0;         /* 31 must be 0 */
    uint8_t ih_ver_major;         /* 32 program version */
    uint8_t ih_ver_minor;         /* 33 */
    uint16_t ih_ver_patch;        /* 34 */
    uint32_t ih_security_counter; /* 36 anti-rollback counter; never goes down */
    uint32_t ih_tlv_size;         /* 40 bytes of protected TLV area (multiple of 4) */
    uint32_t ih_payload_size;     /* 44 bytes of segment data */
    uint8_t ih_build_id[DUET_IMG_BUILD_ID_LEN]; /* 48 GNU build-id (zero-padded) */
    uint8_t ih_build_id_len;      /* 68 meaningful bytes of ih_build_id */
    uint8_t ih_reserved1[3];      /* 69 must be 0 */
    uint32_t ih_shm_base;         /* 72 address of the shared control block the
                                         program expects (0 = supervisor decides) */
    uint32_t ih_shm_size;         /* 76 bytes of shared memory it expects */
    /* XIP load mode (ih_flags & DUET_IMG_F_XIP); all three 0 in RAM mode. */
    uint32_t ih_map_offset;       /* 80 image (= slot) offset of the mapped part, 64 KiB aligned */
    uint32_t ih_map_addr;         /* 84 instruction-bus address ih_map_offset is mapped at,
                                         64 KiB aligned */
    uint32_t ih_map_size;         /* 88 bytes of the mapped part (XIP segments' data) */
    uint32_t ih_reserved2;        /* 92 must be 0 */
} duet_img_hdr_t;

/** Segment table entry. */
typedef struct {
    uint8_t is_kind;       /* 0  DUET_SEG_* */
    uint8_t is_flags;      /* 1  must be 0 */
    uint16_t is_reserved;  /* 2  must be 0 */
    uint32_t is_addr;      /* 4  load (run) address, 4-byte aligned */
    uint32_t is_size;      /* 8  bytes in memory (multiple of 4) */
    uint32_t is_offset;    /* 12 offset in the payload; file bytes = is_size, or 0 for BSS */
} duet_img_seg_t;

/** TLV header, protected area and trailer alike. Value follows, padded to 4. */
typedef struct {
    uint16_t it_type;
    uint16_t it_len; /* value bytes, without padding */
} duet_img_tlv_t;

/* Protected TLV types (0x00xx). Unknown protected types are skipped (forward compatible)
 * unless bit 0x8000 ("critical") is set, in which case the image is rejected. */
enum {
    DUET_TLV_NAME = 0x0001,      /* program name, UTF-8, no NUL */
    DUET_TLV_BUILD_TIME = 0x0002,/* u64 seconds since 1970 */
    DUET_TLV_GIT = 0x0003,       /* free-form source revision */
    DUET_TLV_PAYLOAD_SHA256 = 0x0004, /* 32 bytes over the segment data; required */
};
/* Trailer TLV types (0x01xx). */
enum {
    DUET_TLV_SHA256 = 0x0101,    /* 32 bytes over the head [0, head end) */
    DUET_TLV_KEY_ID = 0x0102,    /* DUET_IMG_KEY_ID_LEN bytes */
    DUET_TLV_ECDSA_P256 = 0x0103,/* DUET_IMG_SIG_LEN bytes, signs the SHA-256 */
};
#define DUET_TLV_CRITICAL 0x8000u

/** Trailer header, at the head end. tr_size counts itself and all its TLVs. */
typedef struct {
    uint16_t tr_magic; /* DUET_IMG_TRAILER_MAGIC */
    uint16_t tr_size;  /* bytes of trailer including this header */
} duet_img_trailer_t;

_Static_assert(sizeof(duet_img_hdr_t) == DUET_IMG_HDR_SIZE, "header size");
_Static_assert(sizeof(duet_img_seg_t) == DUET_IMG_SEG_SIZE, "segment size");
_Static_assert(sizeof(duet_img_tlv_t) == 4, "tlv size");
_Static_assert(sizeof(duet_img_trailer_t) == 4, "trailer size");
/* The struct offsets are the on-disk offsets (no implicit padding anywhere). */
_Static_assert(offsetof(duet_img_hdr_t, ih_entry) == 12, "ih_entry");
_Static_assert(offsetof(duet_img_hdr_t, ih_shm_version) == 28, "ih_shm_version");
_Static_assert(offsetof(duet_img_hdr_t, ih_security_counter) == 36, "ih_security_counter");
_Static_assert(offsetof(duet_img_hdr_t, ih_build_id) == 48, "ih_build_id");
_Static_assert(offsetof(duet_img_hdr_t, ih_build_id_len) == 68, "ih_build_id_len");
_Static_assert(offsetof(duet_img_hdr_t, ih_shm_base) == 72, "ih_shm_base");
_Static_assert(offsetof(duet_img_hdr_t, ih_map_offset) == 80, "ih_map_offset");
_Static_assert(offsetof(duet_img_hdr_t, ih_map_addr) == 84, "ih_map_addr");
_Static_assert(offsetof(duet_img_hdr_t, ih_map_size) == 88, "ih_map_size");
_Static_assert(offsetof(duet_img_hdr_t, ih_reserved2) == 92, "ih_reserved2");
_Static_assert(offsetof(duet_img_seg_t, is_offset) == 12, "is_offset");

/* ---------------------------------------------------------------------------- */
/* Memory window: where the verifier allows segments, entry, stack and vectors.    */

#define DUET_MEM_R 0x1u
#define DUET_MEM_W 0x2u
#define DUET_MEM_X 0x4u

/** One addressable range. 'phys' is a common address space used for overlap checks,
 *  so the IRAM alias (0x403x) and DRAM alias (0x3FCx) of the same SRAM compare equal. */
typedef struct {
    uint32_t base;  /* first address in the bus view the image uses */
    uint32_t size;  /* bytes */
    uint32_t phys;  /* same memory in a common view (e.g. the DRAM alias) */
    uint32_t perms; /* DUET_MEM_* */
} duet_mem_region_t;

/** The virtual range a firmware lets XIP programs map (its port's configuration). One
 *  linear range seen through two buses: ibus_base + x and dbus_base + x are the same
 *  flash byte (ESP32-S3: one MMU table for IBUS 0x42.. and DBUS 0x3C..; the host has one
 *  bus, so both bases are equal). size 0: XIP not enabled in this firmware. */
typedef struct {
    uint32_t ibus_base; /* first instruction-bus address, 64 KiB aligned */
    uint32_t dbus_base; /* data-bus address of the same linear place, 64 KiB aligned */
    uint32_t size;      /* bytes, multiple of 64 KiB */
} duet_xip_window_t;

#define DUET_POLICY_MAX_KEYS 4
#define DUET_POLICY_MAX_KNOWN 4

/** A head this caller has already authenticated: its SHA-256 and the signature that
 *  verified (duet_img_info_t.sha256 / .sig of an earlier success with the same keys). */
typedef struct {
    uint8_t head_sha256[DUET_IMG_HASH_LEN];
    uint8_t sig[DUET_IMG_SIG_LEN];
} duet_img_known_t;

/** What the caller accepts. */
typedef struct {
    const duet_mem_region_t *regions;
    unsigned region_count;
    uint8_t chip;                  /* required ih_chip */
    uint8_t abi;                   /* required ih_abi */
    uint16_t shm_version;          /* required ih_shm_version (0 = don't check) */
    uint32_t min_security_counter; /* reject images below this */
    uint32_t max_image_size;       /* whole image incl. trailer (slot size) */
    bool require_signature;        /* reject unsigned images */
    unsigned key_count;            /* trusted public keys */
    uint8_t keys[DUET_POLICY_MAX_KEYS][DUET_IMG_PUBKEY_LEN];
    /* Heads already authenticated under these keys: an image whose head hash, key id
     * and signature bytes equal one of them skips the ECDSA computation (~28 M
     * instructions on the ESP32-S3); every other rule is still checked. A restart of
     * an unchanged slot and the read-back after an upload use it. */
    unsigned known_count;
    duet_img_known_t known[DUET_POLICY_MAX_KNOWN];
    duet_xip_window_t xip; /* where mapped segments may go; zero = XIP refused */
} duet_img_policy_t;

/** Result of a successful verification (everything the loader needs). */
typedef struct {
    duet_img_hdr_t hdr;                    /* host-endian copy */
    duet_img_seg_t segs[DUET_IMG_MAX_SEGS];/* host-endian copies */
    uint32_t payload_offset;               /* image offset of the payload */
    uint32_t protected_size;               /* head bytes covered by hash and signature */
    uint32_t total_size;                   /* whole image incl. trailer */
    uint8_t sha256[DUET_IMG_HASH_LEN];     /* of the head: identifies the image */
    uint8_t payload_sha256[DUET_IMG_HASH_LEN]; /* PAYLOAD_SHA256 TLV (verified) */
    bool signed_ok;                        /* a trusted signature verified */
    uint8_t key_id[DUET_IMG_KEY_ID_LEN];
    uint8_t sig[DUET_IMG_SIG_LEN];         /* the signature (signed images) */
    char name[32];                         /* DUET_TLV_NAME, NUL-terminated, or "" */
} duet_img_info_t;

/** Offset in the (logical) payload where the mapped part starts: the loaded segments'
 *  data is [0, this), the mapped segments' data [this, ih_payload_size). */
static inline uint32_t duet_img_map_start(const duet_img_hdr_t *h)
{
    return h->ih_payload_size - h->ih_map_size;
}
/** Mapped segment kinds (not copied; the slot is mapped at ih_map_addr). */
static inline bool duet_img_seg_mapped(uint8_t kind)
{
    return kind == DUET_SEG_XIP || kind == DUET_SEG_XIP_RODATA;
}

/* ---------------------------------------------------------------------------- */
/* Verifier                                                                         */

/* Every verifier returns DUET_OK or the first rule the image breaks, as a DUET_ERR_IMG_*
 * code (docs/image-format.md lists the rules in the order they are checked, so every
 * verifier and every chunking of the input reports the same code for the same bytes).
 * DUET_ERR_INVAL: bad arguments or policy; DUET_ERR_CRYPTO: the crypto library failed;
 * DUET_ERR_IO (reader only): the read callback failed (its own code is returned). */

/** Verify a whole image held in memory. On success fills *info (may be NULL).
 *  Bytes after the trailer: DUET_ERR_IMG_TRAILING_DATA. */
duet_err_t duet_img_verify_buf(const void *img, size_t len, const duet_img_policy_t *pol,
                               duet_img_info_t *info);

/** Streaming verifier: feed the image in chunks of any size (as an OTA upload or a
 *  flash read arrives), then finish. Holds no pointer to fed data. The context is
 *  plain data (no heap), a few hundred bytes plus the hash state. */
typedef struct duet_img_stream duet_img_stream_t;
size_t duet_img_stream_ctx_size(void);
duet_err_t duet_img_stream_init(duet_img_stream_t *s, const duet_img_policy_t *pol);
/** Returns the first error found; once an error is returned, every later call returns it. */
duet_err_t duet_img_stream_feed(duet_img_stream_t *s, const void *data, size_t len);
/** Checks the end of the image, hash and signature. */
duet_err_t duet_img_stream_finish(duet_img_stream_t *s, duet_img_info_t *info);
/** Headers parsed so far (valid once header and segment table have been fed), or NULL. */
const duet_img_info_t *duet_img_stream_peek(const duet_img_stream_t *s);
/** True once the whole head (header, table, TLVs, trailer) passed every check,
 *  signature included: from here on only the payload (digest and length) can fail.
 *  A receiver writes nothing before this. */
bool duet_img_stream_authenticated(const duet_img_stream_t *s);
/** Bytes the verifier wants before it can decide more: up to the end of the current
 *  part (header, segment table, TLV area, payload, trailer). 0 once the whole image has
 *  been fed (the image size is known from then) or after an error. */
uint32_t duet_img_stream_needed(const duet_img_stream_t *s);
void duet_img_stream_free(duet_img_stream_t *s);

/** Verify an image read through a callback (file, flash partition). Reads only the
 *  image's own bytes (never past its trailer), so a partition with erased space after
 *  the image verifies; avail bounds the reads (short: DUET_ERR_IMG_TRUNCATED). */
typedef duet_err_t (*duet_read_fn)(void *ctx, uint32_t off, void *buf, size_t len);
duet_err_t duet_img_verify_reader(duet_read_fn read, void *ctx, uint32_t avail,
                                  const duet_img_policy_t *pol, duet_img_info_t *info);

/* ---------------------------------------------------------------------------- */
/* Writer (host tools and tests)                                                    */

typedef struct {
    uint8_t kind;
    uint32_t addr;
    uint32_t size;     /* memory size */
    const void *data;  /* size bytes, NULL for BSS */
} duet_img_seg_in_t;

typedef struct {
    uint8_t chip, abi;
    uint16_t flags;
    uint32_t entry, stack_top, stack_size, vectors;
    uint16_t shm_version;
    uint32_t shm_base, shm_size;
    uint8_t ver_major, ver_minor;
    uint16_t ver_patch;
    uint32_t security_counter;
    uint8_t build_id[DUET_IMG_BUILD_ID_LEN];
    uint8_t build_id_len;
    const char *name;          /* NULL = no NAME TLV */
    unsigned seg_count;
    const duet_img_seg_in_t *segs;
    /* Optional protected TLVs (added after 'segs'; zero-initialised = absent). */
    uint64_t build_time;       /* 0 = no BUILD_TIME TLV */
    const char *git;           /* NULL = no GIT TLV */
    const void *extra_tlvs;    /* raw TLV bytes appended to the area as given (tests, */
    uint32_t extra_tlvs_len;   /* future types); must be a multiple of 4 */
    bool no_payload_sha;       /* tests: leave out the (required) PAYLOAD_SHA256 TLV */
    /* XIP (flags & DUET_IMG_F_XIP): the mapped segments (XIP, XIP_RODATA) come last in
     * 'segs' among those with data; their data is placed at map_offset. */
    uint32_t map_addr;   /* ih_map_addr */
    uint32_t map_offset; /* ih_map_offset; 0 = the smallest page that leaves room for the
                            largest trailer (so signing never moves the mapped part) */
} duet_img_desc_t;

/** Build an unsigned image (header, segments, TLVs incl. PAYLOAD_SHA256, trailer with
 *  SHA-256, payload).
 *  The writer encodes what it is given and does not judge it (run a verifier for that),
 *  so tests can build broken images. Segment file offsets are assigned in table order.
 *  *out is malloc'd; caller frees.
 *  @return DUET_OK, DUET_ERR_INVAL (NULL data for a non-BSS segment, more than
 *          DUET_IMG_MAX_SEGS segments, a name/git longer than 65535, extra_tlvs_len not
 *          a multiple of 4, or sizes not representable), DUET_ERR_NOMEM, DUET_ERR_CRYPTO. */
duet_err_t duet_img_write(const duet_img_desc_t *d, uint8_t **out, size_t *out_len);

/** Replace the trailer with SHA-256 + key id + ECDSA signature made with the
 *  private key in PEM/DER form. Reallocates *img. Host builds only
 *  (DUET_CRYPTO_HOST_SIGNING); elsewhere returns DUET_ERR_UNSUPPORTED.
 *  @return DUET_OK, DUET_ERR_INVAL (bad key or arguments), DUET_ERR_IMG_BAD_MAGIC,
 *          DUET_ERR_IMG_TRUNCATED (lengths in the header exceed *len), DUET_ERR_NOMEM,
 *          DUET_ERR_CRYPTO. */
duet_err_t duet_img_sign(uint8_t **img, size_t *len, const uint8_t *key, size_t key_len);

#ifdef __cplusplus
}
#endif
#endif /* DUET_IMAGE_H */
