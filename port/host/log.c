/*
 * log.c - the host port's log sink: stderr by default ("[tag] W: text"), or a sink the
 * simulator installs to interleave log lines with its status line.
 */
#include <stdio.h>

#include "duet/port.h"
#include "duet/host_port.h"

static duet_host_log_fn s_fn;
static void *s_user;
static duet_plog_t s_max = DUET_PLOG_INFO;

void duet_host_log_set_sink(duet_host_log_fn fn, void *user)
{
    s_fn = fn;
    s_user = user;
}

void duet_host_log_set_level(duet_plog_t max_level)
{
    s_max = max_level;
}

void duet_port_log(duet_plog_t level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s_fn != NULL) {
        s_fn(s_user, level, tag, fmt, ap);
    } else if (level <= s_max) {
        static const char k_lv[] = "?EWID";
        fprintf(stderr, "[%s] %c: ", tag != NULL ? tag : "?",
                k_lv[(unsigned)level < sizeof k_lv - 1 ? (unsigned)level : 0]);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}
