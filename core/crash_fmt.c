/*
 * crash_fmt.c - decode a duet_crash_t into text and JSON (see duet/crash_fmt.h).
 *
 * Organisation: name tables (reasons, Xtensa EXCCAUSE, Linux fault signals), a bounded
 * appender, then the text report, the one-line summary and the JSON form.
 * The EXCCAUSE numbers are the architectural values from Xtensa's corebits.h as shipped
 * in ESP-IDF (components/xtensa/include/xtensa/corebits.h): do not renumber them.
 * The signal numbers are Linux's (x86-64 and AArch64 agree for all listed here).
 */
#include "duet/crash_fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "duet/image.h"

typedef struct {
    const char *name, *text;
} name_t;

static const name_t reasons[] = {
    [DUET_CRASH_NONE] = {"NONE", "no crash"},
    [DUET_CRASH_EXCEPTION] = {"EXCEPTION", "CPU exception"},
    [DUET_CRASH_ILLEGAL_INSN] = {"ILLEGAL_INSN", "illegal instruction"},
    [DUET_CRASH_LOAD_STORE] = {"LOAD_STORE", "bad memory access"},
    [DUET_CRASH_DIV_ZERO] = {"DIV_ZERO", "integer divide by zero"},
    [DUET_CRASH_STACK_OVERFLOW] = {"STACK_OVERFLOW", "stack overflow"},
    [DUET_CRASH_PANIC] = {"PANIC", "panic"},
    [DUET_CRASH_ASSERT] = {"ASSERT", "assertion failed"},
    [DUET_CRASH_HANG] = {"HANG", "heartbeat deadline missed (hang)"},
    [DUET_CRASH_DOUBLE] = {"DOUBLE", "double exception"},
    [DUET_CRASH_KILLED] = {"KILLED", "process died without a crash record"},
};
#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

/* Xtensa general exception causes (EXCCAUSE special register). */
static const name_t exccauses[40] = {
    [0] = {"IllegalInstruction", "illegal instruction"},
    [1] = {"Syscall", "SYSCALL instruction"},
    [2] = {"InstructionFetchError", "instruction fetch error"},
    [3] = {"LoadStoreError", "load/store error"},
    [4] = {"Level1Interrupt", "level-1 interrupt"},
    [5] = {"Alloca", "MOVSP stack extension (alloca)"},
    [6] = {"IntegerDivideByZero", "integer divide by zero"},
    [7] = {"PCValue", "next PC value illegal"},
    [8] = {"Privileged", "privileged instruction"},
    [9] = {"LoadStoreAlignment", "unaligned load or store"},
    [10] = {"ExternalRegPrivilege", "external register privilege error"},
    [11] = {"Exclusive", "exclusive access error"},
    [12] = {"InstrPIFDataError", "PIF data error on instruction fetch"},
    [13] = {"LoadStorePIFDataError", "PIF data error on load or store"},
    [14] = {"InstrPIFAddrError", "PIF address error on instruction fetch"},
    [15] = {"LoadStorePIFAddrError", "PIF address error on load or store"},
    [16] = {"InstTLBMiss", "ITLB miss"},
    [17] = {"InstTLBMultiHit", "ITLB multi-hit"},
    [18] = {"InstFetchPrivilege", "ring privilege violation on instruction fetch"},
    [20] = {"InstFetchProhibited", "cache attribute does not allow instruction fetch"},
    [24] = {"LoadStoreTLBMiss", "DTLB miss"},
    [25] = {"LoadStoreTLBMultiHit", "DTLB multi-hit"},
    [26] = {"LoadStorePrivilege", "ring privilege violation on load or store"},
    [28] = {"LoadProhibited", "cache attribute does not allow load"},
    [29] = {"StoreProhibited", "cache attribute does not allow store"},
    [32] = {"Cp0Disabled", "coprocessor 0 (FPU) disabled"},
    [33] = {"Cp1Disabled", "coprocessor 1 disabled"},
    [34] = {"Cp2Disabled", "coprocessor 2 disabled"},
    [35] = {"Cp3Disabled", "coprocessor 3 disabled"},
    [36] = {"Cp4Disabled", "coprocessor 4 disabled"},
    [37] = {"Cp5Disabled", "coprocessor 5 disabled"},
    [38] = {"Cp6Disabled", "coprocessor 6 disabled"},
    [39] = {"Cp7Disabled", "coprocessor 7 disabled"},
};

/* Linux signal numbers a crashed host program can die of. */
static const struct {
    uint32_t sig;
    const char *name;
} signals_[] = {
    {4, "SIGILL"}, {5, "SIGTRAP"}, {6, "SIGABRT"}, {7, "SIGBUS"},  {8, "SIGFPE"},
    {9, "SIGKILL"}, {11, "SIGSEGV"}, {13, "SIGPIPE"}, {15, "SIGTERM"}, {31, "SIGSYS"},
};

const char *duet_crash_reason_name(uint32_t reason)
{
    return reason < NREASONS ? reasons[reason].name : "UNKNOWN";
}

const char *duet_crash_reason_text(uint32_t reason)
{
    return reason < NREASONS ? reasons[reason].text : "unknown reason";
}

const char *duet_crash_exccause_name(uint32_t cause)
{
    return cause < 40 ? exccauses[cause].name : NULL;
}

const char *duet_crash_exccause_text(uint32_t cause)
{
    return cause < 40 ? exccauses[cause].text : NULL;
}

const char *duet_crash_signal_name(uint32_t sig)
{
    for (size_t i = 0; i < sizeof(signals_) / sizeof(signals_[0]); i++)
        if (signals_[i].sig == sig)
            return signals_[i].name;
    return NULL;
}

const char *duet_crash_cause_name(const duet_crash_t *c, uint8_t chip)
{
    const char *n = chip == DUET_CHIP_HOST ? duet_crash_signal_name(c->cr_exccause)
                                           : duet_crash_exccause_name(c->cr_exccause);
    return n ? n : "?";
}

bool duet_crash_valid(const duet_crash_t *c)
{
    return c && c->cr_magic == DUET_CRASH_MAGIC;
}

/* ---- bounded appender ------------------------------------------------------------ */
typedef struct {
    char *buf;
    size_t cap, len;
    bool trunc;
} out_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void app(out_t *o, const char *fmt, ...)
{
    va_list ap;
    size_t room = o->cap - o->len;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->trunc = true;
        return;
    }
    if ((size_t)n >= room) {
        o->trunc = true;
        o->len = o->cap - 1;
    } else {
        o->len += (size_t)n;
    }
}

/* Copy the record's text into a printable, NUL-terminated string. */
static void clean_msg(const duet_crash_t *c, char out[DUET_CRASH_MSG_LEN + 1])
{
    size_t i;
    for (i = 0; i < DUET_CRASH_MSG_LEN && c->cr_msg[i]; i++) {
        unsigned char ch = (unsigned char)c->cr_msg[i];
        out[i] = (ch >= 0x20 && ch < 0x7F) ? (char)ch : '?';
    }
    out[i] = '\0';
}

static void hexstr(const uint8_t *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void addr_line(out_t *o, const duet_crash_fmt_opts_t *opt, const char *label, uint32_t a)
{
    char sym[160];
    if (a == UINT32_MAX) { /* the host runtime's mark for a frame outside the program */
        app(o, "%s0xffffffff  (outside the program: C library / thread start)\n", label);
        return;
    }
    if (opt->sym && opt->sym(opt->sym_ctx, a, sym, sizeof(sym)))
        app(o, "%s0x%08lx  %s\n", label, (unsigned long)a, sym);
    else
        app(o, "%s0x%08lx\n", label, (unsigned long)a);
}

duet_err_t duet_crash_format(const duet_crash_t *c, const duet_crash_fmt_opts_t *opt, char *buf,
                             size_t cap, size_t *len)
{
    static const duet_crash_fmt_opts_t defaults = {DUET_CHIP_ESP32S3, NULL, NULL};
    if (!c || !buf || cap == 0)
        return DUET_ERR_INVAL;
    if (!opt)
        opt = &defaults;
    out_t o = {buf, cap, 0, false};
    buf[0] = '\0';
    if (!duet_crash_valid(c)) {
        app(&o, "no crash record\n");
    } else {
        bool host = opt->chip == DUET_CHIP_HOST;
        char msg[DUET_CRASH_MSG_LEN + 1];
        app(&o, "crash: %s (%s) in epoch %lu\n", duet_crash_reason_text(c->cr_reason),
            duet_crash_reason_name(c->cr_reason), (unsigned long)c->cr_epoch);
        if (c->cr_reason != DUET_CRASH_HANG && c->cr_reason != DUET_CRASH_PANIC &&
            c->cr_reason != DUET_CRASH_ASSERT) {
            if (host) {
                const char *sn = duet_crash_signal_name(c->cr_exccause);
                app(&o, "  signal:    %lu %s (si_code %ld)\n", (unsigned long)c->cr_exccause,
                    sn ? sn : "?", (long)(int32_t)c->cr_ps);
            } else if (c->cr_exccause == DUET_CRASH_EXCCAUSE_NONE) {
                app(&o, "  exccause:  none (debug exception or interrupt, not a level-1 exception)\n");
            } else {
                const char *cn = duet_crash_exccause_name(c->cr_exccause);
                const char *ct = duet_crash_exccause_text(c->cr_exccause);
                app(&o, "  exccause:  %lu %s%s%s%s\n", (unsigned long)c->cr_exccause,
                    cn ? cn : "reserved", ct ? " (" : "", ct ? ct : "", ct ? ")" : "");
            }
        }
        addr_line(&o, opt, "  pc:        ", c->cr_pc);
        app(&o, "  %s  0x%08lx\n", host ? "fault addr:" : "excvaddr:  ",
            (unsigned long)c->cr_excvaddr);
        if (!host)
            app(&o, "  ps:        0x%08lx\n", (unsigned long)c->cr_ps);
        app(&o, "  sp:        0x%08lx\n", (unsigned long)c->cr_sp);
        bool any_reg = false;
        for (unsigned i = 0; i < DUET_CRASH_REGS; i++)
            any_reg |= c->cr_a[i] != 0;
        if (any_reg) {
            for (unsigned i = 0; i < DUET_CRASH_REGS; i += 4)
                app(&o, "  a%-2u-a%-2u:   %08lx %08lx %08lx %08lx\n", i, i + 3,
                    (unsigned long)c->cr_a[i], (unsigned long)c->cr_a[i + 1],
                    (unsigned long)c->cr_a[i + 2], (unsigned long)c->cr_a[i + 3]);
        }
        uint32_t n = c->cr_bt_count > DUET_CRASH_BT ? DUET_CRASH_BT : c->cr_bt_count;
        if (n > 0) {
            app(&o, "  backtrace%s:\n", c->cr_bt_count > DUET_CRASH_BT ? " (clamped)" : "");
            for (uint32_t i = 0; i < n; i++) {
                char label[24];
                snprintf(label, sizeof(label), "    #%-2lu ", (unsigned long)i);
                addr_line(&o, opt, label, c->cr_bt[i]);
            }
        }
        if (c->cr_build_id_len > 0) {
            char hex[2 * sizeof(c->cr_build_id) + 1];
            size_t bl = c->cr_build_id_len > sizeof(c->cr_build_id) ? sizeof(c->cr_build_id)
                                                                     : c->cr_build_id_len;
            hexstr(c->cr_build_id, bl, hex);
            app(&o, "  build-id:  %s\n", hex);
        }
        app(&o, "  uptime:    %lu us\n", (unsigned long)c->cr_uptime_us);
        clean_msg(c, msg);
        if (msg[0])
            app(&o, "  message:   %s\n", msg);
    }
    if (len)
        *len = o.len;
    return o.trunc ? DUET_ERR_NOMEM : DUET_OK;
}

duet_err_t duet_crash_summary(const duet_crash_t *c, uint8_t chip, char *buf, size_t cap)
{
    if (!c || !buf || cap == 0)
        return DUET_ERR_INVAL;
    out_t o = {buf, cap, 0, false};
    buf[0] = '\0';
    if (!duet_crash_valid(c)) {
        app(&o, "none");
    } else if (c->cr_reason == DUET_CRASH_PANIC || c->cr_reason == DUET_CRASH_ASSERT) {
        char msg[DUET_CRASH_MSG_LEN + 1];
        clean_msg(c, msg);
        app(&o, "%s at pc 0x%08lx: %s", duet_crash_reason_name(c->cr_reason),
            (unsigned long)c->cr_pc, msg);
    } else if (c->cr_reason == DUET_CRASH_HANG) {
        app(&o, "HANG (no heartbeat)");
    } else {
        app(&o, "%s at pc 0x%08lx (%s, addr 0x%08lx)", duet_crash_reason_name(c->cr_reason),
            (unsigned long)c->cr_pc, duet_crash_cause_name(c, chip),
            (unsigned long)c->cr_excvaddr);
    }
    return o.trunc ? DUET_ERR_NOMEM : DUET_OK;
}

void duet_crash_json(duet_json_t *j, const char *key, const duet_crash_t *c, uint8_t chip,
                     bool null_if_invalid)
{
    if (!duet_crash_valid(c) && null_if_invalid) {
        duet_json_null(j, key);
        return;
    }
    char msg[DUET_CRASH_MSG_LEN + 1];
    char summary[160];
    duet_json_obj_begin(j, key);
    duet_json_bool(j, "valid", duet_crash_valid(c));
    duet_json_str(j, "chip", chip == DUET_CHIP_HOST      ? "host"
                             : chip == DUET_CHIP_ESP32S3 ? "esp32s3"
                             : chip == DUET_CHIP_ESP32   ? "esp32"
                                                         : "unknown");
    duet_json_u64(j, "epoch", c->cr_epoch);
    duet_json_u64(j, "reason", c->cr_reason);
    duet_json_str(j, "reason_name", duet_crash_reason_name(c->cr_reason));
    duet_json_str(j, "reason_text", duet_crash_reason_text(c->cr_reason));
    duet_json_u64(j, "cause", c->cr_exccause);
    duet_json_str(j, "cause_name", duet_crash_cause_name(c, chip));
    duet_json_addr(j, "pc", c->cr_pc);
    duet_json_addr(j, "excvaddr", c->cr_excvaddr);
    duet_json_addr(j, "ps", c->cr_ps);
    duet_json_addr(j, "sp", c->cr_sp);
    duet_json_arr_begin(j, "a");
    for (unsigned i = 0; i < DUET_CRASH_REGS; i++)
        duet_json_addr(j, NULL, c->cr_a[i]);
    duet_json_arr_end(j);
    uint32_t n = c->cr_bt_count > DUET_CRASH_BT ? DUET_CRASH_BT : c->cr_bt_count;
    duet_json_arr_begin(j, "backtrace");
    for (uint32_t i = 0; i < n; i++)
        duet_json_addr(j, NULL, c->cr_bt[i]);
    duet_json_arr_end(j);
    size_t bl =
        c->cr_build_id_len > sizeof(c->cr_build_id) ? sizeof(c->cr_build_id) : c->cr_build_id_len;
    duet_json_hex(j, "build_id", c->cr_build_id, bl);
    duet_json_u64(j, "uptime_us", c->cr_uptime_us);
    clean_msg(c, msg);
    duet_json_str(j, "message", msg);
    duet_crash_summary(c, chip, summary, sizeof(summary)); /* truncation is fine here */
    duet_json_str(j, "summary", summary);
    duet_json_hex(j, "raw", c, sizeof(*c));
    duet_json_obj_end(j);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

duet_err_t duet_crash_from_hex(const char *hex, size_t len, duet_crash_t *out)
{
    uint8_t raw[sizeof(duet_crash_t)];
    if (!hex || !out || len != 2 * sizeof(raw))
        return DUET_ERR_INVAL;
    for (size_t i = 0; i < sizeof(raw); i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return DUET_ERR_INVAL;
        raw[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(out, raw, sizeof(raw));
    return DUET_OK;
}
