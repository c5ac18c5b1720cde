/*
 * duet/crash_fmt.h - turn a crash record (duet/shm.h duet_crash_t) into text or JSON.
 *
 * Shared by the CLI (`duet crash`), the HTTP API (GET /api/crash, the status summary)
 * and the ESP-IDF console. Portable: snprintf only, no heap, no OS.
 *
 * The record is input from the other core: every count and length is clamped, text
 * fields are read only up to their array size and non-printable bytes are shown as '?'.
 * How cr_exccause is read depends on the chip the crashed program was built for:
 * Xtensa EXCCAUSE values (names from ESP-IDF components/xtensa/include/xtensa/corebits.h)
 * for esp32s3/esp32, Linux signal numbers for host programs.
 */
#ifndef DUET_CRASH_FMT_H
#define DUET_CRASH_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/err.h"
#include "duet/json.h"
#include "duet/shm.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Short symbolic name of cr_reason, e.g. "LOAD_STORE" ("UNKNOWN" if out of range). */
const char *duet_crash_reason_name(uint32_t reason);
/** Human description of cr_reason, e.g. "bad memory access". */
const char *duet_crash_reason_text(uint32_t reason);
/** Xtensa EXCCAUSE name, e.g. "LoadProhibited"; NULL if reserved/unknown. */
const char *duet_crash_exccause_name(uint32_t cause);
/** Xtensa EXCCAUSE description; NULL if reserved/unknown. */
const char *duet_crash_exccause_text(uint32_t cause);
/** Linux signal name for host crashes, e.g. "SIGSEGV"; NULL if not a fault signal. */
const char *duet_crash_signal_name(uint32_t sig);
/** Name of cr_exccause for this chip (EXCCAUSE or signal name), never NULL ("?"). */
const char *duet_crash_cause_name(const duet_crash_t *c, uint8_t chip);

/** Does the record carry the valid-record magic? */
bool duet_crash_valid(const duet_crash_t *c);

/** Optional symbolizer: write "func+0x1c (file.c:42)" for addr into out.
 *  @return true if it found something. */
typedef bool (*duet_crash_sym_fn)(void *ctx, uint32_t addr, char *out, size_t cap);

typedef struct {
    uint8_t chip;          /* DUET_CHIP_* of the program that crashed */
    duet_crash_sym_fn sym; /* NULL = addresses only */
    void *sym_ctx;
} duet_crash_fmt_opts_t;

/** Multi-line report (reason, cause, pc, excvaddr, registers, backtrace, build-id,
 *  message). Always NUL-terminates.
 *  @return DUET_OK, DUET_ERR_NOMEM if truncated, DUET_ERR_INVAL (NULL args). */
duet_err_t duet_crash_format(const duet_crash_t *c, const duet_crash_fmt_opts_t *o, char *buf,
                             size_t cap, size_t *len);

/** One line, e.g. "LOAD_STORE at pc 0x40378abc (LoadProhibited, addr 0x00000000)". */
duet_err_t duet_crash_summary(const duet_crash_t *c, uint8_t chip, char *buf, size_t cap);

/** The record as a JSON object under key (NULL in arrays/top level): decoded fields plus
 *  "raw", the 256 record bytes in hex (little-endian, as in shared memory), from which
 *  tools can rebuild the exact record. Writes null for an invalid record when
 *  null_if_invalid is set. */
void duet_crash_json(duet_json_t *j, const char *key, const duet_crash_t *c, uint8_t chip,
                     bool null_if_invalid);

/** Parse the "raw" hex form back (exactly 512 hex digits). @return DUET_OK, DUET_ERR_INVAL. */
duet_err_t duet_crash_from_hex(const char *hex, size_t len, duet_crash_t *out);

#ifdef __cplusplus
}
#endif
#endif /* DUET_CRASH_FMT_H */
