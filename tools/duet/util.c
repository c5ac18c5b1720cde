/*
 * util.c - small helpers of the duet CLI: error lines, files, number/version parsing,
 * names for header fields.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(const char *verb, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "duet: %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

void cli_warn(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "duet: %s: warning: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_read_file_max(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    size_t n = 0, cap = 0;
    if (!f)
        return -1;
    for (;;) {
        if (n == cap) {
            /* Never ask for more than max + 1 bytes: reading one byte past the limit is
             * how a longer file (or an endless device such as /dev/zero) is recognised,
             * without holding more of it in memory. */
            if (cap > max) {
                free(b);
                fclose(f);
                errno = EFBIG;
                return -1;
            }
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > max + 1 || ncap < cap)
                ncap = max + 1;
            uint8_t *nb = realloc(b, ncap + 1);
            if (!nb) {
                free(b);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            b = nb;
            cap = ncap;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(b);
        fclose(f);
        errno = e ? e : EIO;
        return -1;
    }
    fclose(f);
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

int cli_read_file(const char *path, uint8_t **buf, size_t *len)
{
    return cli_read_file_max(path, CLI_MAX_FILE_SIZE, buf, len);
}

int cli_read_image(const char *verb, const char *path, uint8_t **buf, size_t *len)
{
    if (cli_read_file_max(path, CLI_MAX_IMAGE_SIZE, buf, len) == 0)
        return CLI_OK;
    if (errno == EFBIG)
        return cli_fail(verb, CLI_VERIFY,
                        "%s: more than %u MiB, larger than any slot: not an image (read no "
                        "further)",
                        path, (unsigned)(CLI_MAX_IMAGE_SIZE >> 20));
    return cli_fail(verb, CLI_IO, "%s: %s", path, strerror(errno));
}

int cli_write_file(const char *path, const void *buf, size_t len, unsigned mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return -1;
    const uint8_t *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            errno = e;
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

bool cli_parse_u32(const char *s, uint32_t *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool cli_parse_version(const char *s, uint8_t *maj, uint8_t *min, uint16_t *patch)
{
    unsigned a, b, c;
    char tail;
    if (!s || sscanf(s, "%u.%u.%u%c", &a, &b, &c, &tail) != 3)
        return false;
    for (const char *p = s; *p; p++)
        if ((*p < '0' || *p > '9') && *p != '.')
            return false;
    if (a > 255 || b > 255 || c > 65535)
        return false;
    *maj = (uint8_t)a;
    *min = (uint8_t)b;
    *patch = (uint16_t)c;
    return true;
}

bool cli_parse_chip(const char *s, uint8_t *chip)
{
    if (strcmp(s, "esp32s3") == 0)
        *chip = DUET_CHIP_ESP32S3;
    else if (strcmp(s, "esp32") == 0)
        *chip = DUET_CHIP_ESP32;
    else if (strcmp(s, "host") == 0)
        *chip = DUET_CHIP_HOST;
    else
        return false;
    return true;
}

bool cli_parse_abi(const char *s, uint8_t *abi)
{
    if (strcmp(s, "windowed") == 0)
        *abi = DUET_ABI_WINDOWED;
    else if (strcmp(s, "call0") == 0)
        *abi = DUET_ABI_CALL0;
    else if (strcmp(s, "host") == 0)
        *abi = DUET_ABI_HOST;
    else
        return false;
    return true;
}

const char *cli_chip_name(uint8_t chip)
{
    switch (chip) {
    case DUET_CHIP_HOST: return "host";
    case DUET_CHIP_ESP32S3: return "esp32s3";
    case DUET_CHIP_ESP32: return "esp32";
    default: return "unknown";
    }
}

const char *cli_abi_name(uint8_t abi)
{
    switch (abi) {
    case DUET_ABI_HOST: return "host";
    case DUET_ABI_WINDOWED: return "windowed";
    case DUET_ABI_CALL0: return "call0";
    default: return "unknown";
    }
}

const char *cli_kind_name(uint8_t kind)
{
    switch (kind) {
    case DUET_SEG_CODE: return "CODE";
    case DUET_SEG_RODATA: return "RODATA";
    case DUET_SEG_DATA: return "DATA";
    case DUET_SEG_BSS: return "BSS";
    case DUET_SEG_XIP: return "XIP";
    case DUET_SEG_XIP_RODATA: return "XIP_RODATA";
    default: return "?";
    }
}

void cli_hex(const uint8_t *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int cli_self_dir(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}
