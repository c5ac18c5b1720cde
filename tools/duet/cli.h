/*
 * cli.h - shared declarations of the `duet` command-line tool (tools/duet/).
 *
 * One file per verb (cmd_<verb>.c, entry cmd_<verb>(argc, argv) with argv[0] = verb),
 * helpers in util.c (files, errors, numbers), window.c (default memory windows per
 * chip), elfsym.c (symbol table lookups with libelf), http.c (libcurl), jsonp.c
 * (a small JSON reader for API answers).
 *
 * Exit codes are an interface (docs/cli.md): never renumber.
 */
#ifndef DUET_CLI_H
#define DUET_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/image.h"

#define CLI_OK 0        /* success */
#define CLI_USAGE 1     /* bad command line */
#define CLI_VERIFY 2    /* image failed verification / malformed input */
#define CLI_IO 3        /* file or network I/O failed */
#define CLI_REFUSED 4   /* the device answered with an error (HTTP 4xx/5xx) */
#define CLI_INTERNAL 5  /* crypto library or other internal failure */

/* Print "duet: <verb>: <message>" to stderr and return code. */
int cli_fail(const char *verb, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void cli_warn(const char *verb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Input size limits. No CLI path reads an unbounded file into memory: an image can be no
 * bigger than the largest slot of any target, CLI_MAX_IMAGE_SIZE (the simulator's code
 * window, DUET_HOST_X_SIZE = 64 MiB, which is also above the 32 MiB of flash the ESP32-S3
 * can map; duet-sim's own slots are 4 MiB); key files are small; anything else (ELF input
 * of pack, crash records) keeps the general CLI_MAX_FILE_SIZE. */
#define CLI_MAX_IMAGE_SIZE ((size_t)64 << 20)
#define CLI_MAX_KEY_SIZE ((size_t)64 << 10)
#define CLI_MAX_FILE_SIZE ((size_t)1 << 31)

/* Whole file into a malloc'd buffer (NUL appended, not counted), at most max bytes: a
 * longer file fails with errno EFBIG after max + 1 bytes were read (so /dev/zero ends
 * too). 0 or -1 (errno set). */
int cli_read_file_max(const char *path, size_t max, uint8_t **buf, size_t *len);
/* cli_read_file_max(path, CLI_MAX_FILE_SIZE, ...). */
int cli_read_file(const char *path, uint8_t **buf, size_t *len);
/* An image file (verify, inspect, sign, flash, push): at most CLI_MAX_IMAGE_SIZE.
 * Returns CLI_OK, or prints the error line and returns CLI_VERIFY (too big: no slot can
 * hold it) or CLI_IO (unreadable). */
int cli_read_image(const char *verb, const char *path, uint8_t **buf, size_t *len);
/* Write atomically (temp file + rename) with the given mode. 0 or -1 (errno set). */
int cli_write_file(const char *path, const void *buf, size_t len, unsigned mode);
/* Parse decimal or 0x-hex into u32. */
bool cli_parse_u32(const char *s, uint32_t *out);
/* "1.2.3" -> parts (patch up to 65535). */
bool cli_parse_version(const char *s, uint8_t *maj, uint8_t *min, uint16_t *patch);
/* "esp32s3" | "esp32" | "host" -> DUET_CHIP_*. */
bool cli_parse_chip(const char *s, uint8_t *chip);
/* "windowed" | "call0" | "host" -> DUET_ABI_*. */
bool cli_parse_abi(const char *s, uint8_t *abi);
const char *cli_chip_name(uint8_t chip);
const char *cli_abi_name(uint8_t abi);
const char *cli_kind_name(uint8_t kind);
void cli_hex(const uint8_t *p, size_t n, char *out); /* out: 2n+1 bytes */
/* Directory of the running executable (for `duet sim`). */
int cli_self_dir(char *out, size_t cap);

/* Memory windows ---------------------------------------------------------------- */
#define CLI_MAX_REGIONS 4
typedef struct {
    duet_mem_region_t regions[CLI_MAX_REGIONS];
    unsigned count;
    uint8_t chip, abi;
    uint32_t slot_size; /* largest image accepted */
    duet_xip_window_t xip; /* XIP range (docs/image-format.md 3a); size 0 = none */
} cli_window_t;
/* The default window a device of this chip verifies against (docs/cli.md). */
void cli_window_default(uint8_t chip, cli_window_t *w);
/* "--window DRAM_BASE:SIZE" for esp32s3/esp32 (IRAM alias derived) or
 * "BASE:SIZE:rwx[,BASE:SIZE:rwx...]" explicit regions. */
bool cli_window_parse(const char *spec, uint8_t chip, cli_window_t *w);
/* Fill a verification policy from a window (keys added by the caller). */
void cli_policy_from_window(const cli_window_t *w, duet_img_policy_t *pol);
/* Load a public key (PEM/DER/raw, or a private key whose public half is used). */
int cli_load_pubkey(const char *verb, const char *path, uint8_t pub[DUET_IMG_PUBKEY_LEN]);

/* HTTP (libcurl) ------------------------------------------------------------------ */
typedef struct {
    long status;   /* HTTP status, 0 if no answer */
    char *body;    /* NUL-terminated answer (malloc'd) */
    size_t len;
    char err[256]; /* transport error text if status == 0 */
} cli_http_t;
/* Base URL: --url, else $DUET_URL, else http://127.0.0.1:8080 */
const char *cli_base_url(const char *opt);
/* GET or POST (body from a file or memory). progress: show a bar on stderr. */
int cli_http_get(const char *url, cli_http_t *out);
int cli_http_post(const char *url, const char *token, const uint8_t *body, size_t len,
                  bool progress, cli_http_t *out);
void cli_http_free(cli_http_t *r);
/* Map an HTTP error answer to "status NAME: message" and exit code CLI_REFUSED. */
int cli_http_fail(const char *verb, const cli_http_t *r);

/* Verbs --------------------------------------------------------------------------- */
int cmd_pack(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_crash(int argc, char **argv);
int cmd_timing(int argc, char **argv);
int cmd_control(int argc, char **argv); /* start | stop | restart | rollback */
int cmd_flash(int argc, char **argv);
int cmd_publish(int argc, char **argv);

#endif /* DUET_CLI_H */
