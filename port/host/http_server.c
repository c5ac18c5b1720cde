/*
 * http_server.c - the simulator's HTTP/1.1 server (see duet/http_server.h for the
 * limits and the threading contract).
 *
 * Organisation: clock and waiting (every wait is a poll() on the socket and the stop
 * pipe, bounded by a deadline), connection I/O (buffered reader, send-all), request
 * parsing (request line, headers), the duet_api_req_t/resp_t adapters with the body
 * deadlines (read timeout, minimum rate), the per-connection routine, then the accept
 * thread (connection cap, 503 for the rest) and start/stop.
 *
 * One thread per connection, at most max_conns of them: a client that holds its
 * connection idle, trickles its head or its body, or reads its answer slowly only
 * holds its own thread, never another client's request; each of those waits has a
 * deadline. The API behind it takes its own lock around the supervisor (duet/api.h),
 * so requests run concurrently: reads are answered while an upload streams.
 * Must not change: the connection slots are owned by the accept thread (it starts and
 * joins their threads); a connection thread touches only its own conn_t and, under
 * srv->mu, its slot's 'done' flag. Shutdown writes one byte into a pipe that every
 * wait polls and never reads, so every thread wakes at once and stays awake.
 */
#include "duet/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bytes of an unread request body drained after answering, so closing the socket does
 * not reset the connection before the client has read the answer; and the wall-clock
 * time that may take in total (a client trickling its body cannot keep its thread). */
#define DRAIN_MAX (64u * 1024u * 1024u)
#define DRAIN_TIMEOUT_MS 2000u

/* Connections refused at the cap: the accept thread keeps each open for a moment after
 * its 503 (half-closed, swallowing what the client sends) so the answer is not lost to
 * a reset; beyond REJECT_MAX of them at once they are closed straight away. */
#define REJECT_MAX 32u
#define REJECT_LINGER_MS 500u

/* The transport's "stalled or too slow" answer to the API's recv (docs/http-api.md). */
#define RECV_TIMEOUT (-(int)DUET_ERR_TIMEOUT)

typedef struct conn conn_t;

typedef struct {
    bool used;      /* a thread was started for this slot (accept thread only) */
    bool done;      /* the thread has finished (written under mu) */
    pthread_t thread;
    conn_t *conn;
} slot_t;

struct duet_http_server {
    duet_http_config_t cfg; /* defaults resolved */
    int listen_fd;
    int wake[2]; /* stop pipe: stop() writes, every wait polls the read end */
    pthread_t thread;
    uint16_t port;
    atomic_uint requests;
    atomic_uint refused;
    atomic_uint open_conns; /* connection threads that have not finished yet */
    pthread_mutex_t mu; /* slot_t.done */
    slot_t *slots;      /* cfg.max_conns of them */
};

struct conn {
    duet_http_server_t *srv;
    int fd;
    char buf[4096];
    size_t pos, len;
    uint64_t accepted_ms;   /* when the connection was accepted */
    uint64_t head_deadline; /* the whole head must be in by then */
    bool got_bytes;         /* a byte of the request arrived (not idle) */
    /* request */
    bool head;              /* HEAD: suppress the body */
    bool expect_continue;
    bool continue_sent;
    uint32_t body_left;     /* body bytes not yet read by the handler */
    uint32_t body_read;     /* body bytes handed to the handler */
    uint64_t body_start_ms; /* first body read (0 = not yet) */
    /* response */
    bool started;
    bool failed;            /* a write failed: stop writing */
};

/* ---- clock and waiting ------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t min_deadline(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Wait until fd is ready for 'events' or the deadline (monotonic ms) passes.
 * Returns 1 ready (or an error/hangup the next call will report), 0 the deadline has
 * passed, -1 the server is stopping or poll failed. */
static int wait_fd(const conn_t *c, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            return 0;
        uint64_t left = deadline - now;
        struct pollfd p[2] = {{.fd = c->fd, .events = events},
                              {.fd = c->srv->wake[0], .events = POLLIN}};
        int n = poll(p, 2, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (p[1].revents)
            return -1;
        if (n > 0)
            return 1;
        /* timed out: the loop re-checks the deadline (poll may wake a little early) */
    }
}

/* ---- connection I/O ---------------------------------------------------------------- */

static int send_all(conn_t *c, const void *data, size_t len)
{
    const char *p = data;
    if (c->failed)
        return -1;
    while (len > 0) {
        /* each piece must go out within io_timeout_ms: a client that does not read
         * its answer holds only this connection, and not for long */
        if (wait_fd(c, POLLOUT, now_ms() + c->srv->cfg.io_timeout_ms) != 1) {
            c->failed = true;
            return -1;
        }
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n <= 0) {
            c->failed = true;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Receive into buf once the socket is readable, before 'deadline'. Returns bytes read,
 * 0 on EOF, -1 on error or stop, -2 when the deadline passed. */
static ssize_t recv_by(conn_t *c, void *buf, size_t cap, uint64_t deadline)
{
    for (;;) {
        int w = wait_fd(c, POLLIN, deadline);
        if (w == 0)
            return -2;
        if (w < 0)
            return -1;
        ssize_t n = recv(c->fd, buf, cap, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        return n < 0 ? -1 : n;
    }
}

/* Refill the head buffer. Returns bytes read, 0 on EOF, -1 on error, -2 when the head
 * deadline (or, before the first byte, the idle deadline) has passed. */
static ssize_t fill(conn_t *c)
{
    if (c->pos == c->len)
        c->pos = c->len = 0;
    if (c->len == sizeof(c->buf))
        return -1; /* caller did not consume: treated as a too-long line */
    uint64_t deadline = c->head_deadline;
    if (!c->got_bytes)
        deadline = min_deadline(deadline, c->accepted_ms + c->srv->cfg.idle_timeout_ms);
    ssize_t n = recv_by(c, c->buf + c->len, sizeof(c->buf) - c->len, deadline);
    if (n > 0) {
        c->len += (size_t)n;
        c->got_bytes = true;
    }
    return n;
}

/* Read one line (LF or CRLF terminated) into out without the terminator.
 * Returns 0 ok, -1 I/O error or EOF, -2 line too long, -3 a NUL byte in the line (the
 * parser works on C strings: a NUL would hide the rest of the line), -4 deadline. */
static int read_line(conn_t *c, char *out, size_t cap)
{
    size_t n = 0;
    bool nul = false;
    for (;;) {
        while (c->pos < c->len) {
            char ch = c->buf[c->pos++];
            if (ch == '\n') {
                if (n > 0 && out[n - 1] == '\r')
                    n--;
                out[n] = '\0';
                return nul ? -3 : 0;
            }
            if (n + 1 >= cap)
                return -2;
            nul |= ch == '\0';
            out[n++] = ch;
        }
        ssize_t r = fill(c);
        if (r == -2)
            return -4;
        if (r <= 0)
            return -1;
    }
}

/* ---- response adapters --------------------------------------------------------------- */

static int resp_start(void *ctx, int status, const char *type, long len)
{
    conn_t *c = ctx;
    char hdr[512];
    int n;
    if (c->started)
        return -1; /* a second status line would corrupt the stream */
    c->started = true;
    if (status < 100 || status > 599)
        status = 500;
    if (len >= 0)
        n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %ld\r\n"
                     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                     "Connection: close\r\n\r\n",
                     status, duet_api_reason_phrase(status), type ? type : "application/octet-stream", len);
    else
        n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                     "Connection: close\r\n\r\n",
                     status, duet_api_reason_phrase(status), type ? type : "application/octet-stream");
    if (n < 0 || (size_t)n >= sizeof(hdr))
        return -1;
    return send_all(c, hdr, (size_t)n);
}

static int resp_write(void *ctx, const void *data, size_t len)
{
    conn_t *c = ctx;
    if (!c->started)
        return -1;
    if (c->head)
        return 0;
    return send_all(c, data, len);
}

/* The body read's deadline: io_timeout_ms of silence, and the minimum average rate
 * (mod_reqtimeout's rule): after body_grace_ms, every min_body_rate bytes received buy
 * one more second. A client sending 1 byte every io_timeout - 1 ms still falls behind
 * the rate deadline and is cut. */
static uint64_t body_deadline(const conn_t *c)
{
    const duet_http_config_t *cfg = &c->srv->cfg;
    uint64_t d = now_ms() + cfg->io_timeout_ms;
    if (cfg->min_body_rate != 0)
        d = min_deadline(d, c->body_start_ms + cfg->body_grace_ms +
                                (uint64_t)c->body_read * 1000u / cfg->min_body_rate);
    return d;
}

static int req_recv(void *ctx, void *buf, size_t cap)
{
    conn_t *c = ctx;
    if (c->body_left == 0 || cap == 0)
        return 0;
    if (c->expect_continue && !c->continue_sent) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        c->continue_sent = true;
        if (send_all(c, cont, sizeof(cont) - 1) != 0)
            return -1;
    }
    if (c->body_start_ms == 0)
        c->body_start_ms = now_ms(); /* the rate counts from the handler's first read */
    if (cap > c->body_left)
        cap = c->body_left;
    if (cap > (size_t)INT32_MAX)
        cap = (size_t)INT32_MAX;
    size_t n;
    if (c->pos < c->len) { /* body bytes that arrived with the headers */
        n = c->len - c->pos;
        if (n > cap)
            n = cap;
        memcpy(buf, c->buf + c->pos, n);
        c->pos += n;
    } else {
        ssize_t r = recv_by(c, buf, cap, body_deadline(c));
        if (r == -2)
            return RECV_TIMEOUT; /* stalled, or slower than the minimum rate: 408 */
        if (r <= 0)
            return -1; /* EOF before Content-Length bytes, error or stop: truncated */
        n = (size_t)r;
    }
    c->body_left -= (uint32_t)n;
    c->body_read += (uint32_t)n;
    return (int)n;
}

/* A small JSON error ({"error":"HTTP",...}) for problems found before a handler runs. */
static void simple_error(conn_t *c, int status, const char *msg)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"error\":\"HTTP\",\"status\":%d,\"message\":\"%s\"}",
                     status, msg);
    if (resp_start(c, status, "application/json", n) == 0)
        send_all(c, body, (size_t)n);
}

/* ---- request parsing --------------------------------------------------------------- */

static bool is_token_char(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7F && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

/* Parse a decimal Content-Length. Returns 0 ok, -1 malformed, -2 too large. */
static int parse_length(const char *v, uint32_t *out)
{
    uint64_t x = 0;
    if (!*v)
        return -1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9')
            return -1;
        x = x * 10u + (uint64_t)(*v - '0');
        if (x > UINT32_MAX)
            return -2;
    }
    *out = (uint32_t)x;
    return 0;
}

static void trim(char **s)
{
    char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        p[--n] = '\0';
    *s = p;
}

static void drain(conn_t *c)
{
    char tmp[4096];
    /* the unread body, or (none announced / all read) whatever comes until EOF */
    uint32_t left = c->body_left > 0 && c->body_left < DRAIN_MAX ? c->body_left : DRAIN_MAX;
    uint64_t deadline = now_ms() + DRAIN_TIMEOUT_MS; /* in total, not per read */
    c->pos = c->len = 0; /* whatever is buffered is body: discard */
    while (left > 0) {
        ssize_t n = recv_by(c, tmp, left < sizeof(tmp) ? left : sizeof(tmp), deadline);
        if (n <= 0)
            break;
        left -= (uint32_t)n;
    }
}

static void serve_request(conn_t *cp)
{
    duet_http_server_t *srv = cp->srv;
    char line[DUET_HTTP_MAX_LINE];
    char method[16], target[DUET_HTTP_MAX_LINE], version[16];
    char authz[DUET_HTTP_MAX_LINE];
    bool have_authz = false, have_len = false, chunked = false, bad = false, too_big = false;
    uint32_t length = 0;
    unsigned headers = 0;

    int r = read_line(cp, line, sizeof(line));
    if (r == -2) {
        simple_error(cp, 414, "request line too long");
        return;
    }
    if (r == -3) {
        simple_error(cp, 400, "NUL byte in the request line");
        return;
    }
    if (r == -4 && cp->got_bytes) {
        simple_error(cp, 408, "request line too slow");
        return;
    }
    if (r != 0)
        return; /* closed, or idle until the deadline: nothing to answer */
    /* METHOD SP target SP HTTP/x.y, nothing else */
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || (size_t)(sp1 - line) >= sizeof(method) ||
        strlen(sp2 + 1) >= sizeof(version) || sp1 == line || sp2 == sp1 + 1) {
        simple_error(cp, 400, "malformed request line");
        return;
    }
    memcpy(method, line, (size_t)(sp1 - line));
    method[sp1 - line] = '\0';
    memcpy(target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    target[sp2 - sp1 - 1] = '\0';
    strcpy(version, sp2 + 1);
    for (char *m = method; *m; m++)
        if (!is_token_char((unsigned char)*m)) {
            simple_error(cp, 400, "malformed method");
            return;
        }
    if (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0) {
        simple_error(cp, 505, "only HTTP/1.0 and HTTP/1.1");
        return;
    }
    if (target[0] != '/') {
        simple_error(cp, 400, "target must be an absolute path");
        return;
    }
    char *q = strchr(target, '?');
    if (q)
        *q = '\0';

    for (;;) {
        r = read_line(cp, line, sizeof(line));
        if (r == -2) {
            simple_error(cp, 431, "header line too long");
            return;
        }
        if (r == -3) {
            bad = true; /* answered 400 below, after the remaining headers */
            continue;
        }
        if (r == -4) {
            simple_error(cp, 408, "request headers too slow");
            return;
        }
        if (r != 0)
            return;
        if (line[0] == '\0')
            break;
        if (++headers > DUET_HTTP_MAX_HEADERS) {
            simple_error(cp, 431, "too many headers");
            return;
        }
        char *colon = strchr(line, ':');
        if (!colon || colon == line || line[0] == ' ' || line[0] == '\t') {
            bad = true; /* obsolete line folding or garbage: refuse, keep reading headers */
            continue;
        }
        *colon = '\0';
        char *name = line, *value = colon + 1;
        for (char *p = name; *p; p++)
            if (!is_token_char((unsigned char)*p))
                bad = true;
        trim(&value);
        if (strcasecmp(name, "Content-Length") == 0) {
            uint32_t v = 0;
            int pr = parse_length(value, &v);
            if (pr == -2)
                too_big = true;
            else if (pr != 0 || (have_len && v != length))
                bad = true; /* conflicting duplicates are a smuggling vector */
            length = v;
            have_len = true;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            chunked = true;
        } else if (strcasecmp(name, "Authorization") == 0) {
            strcpy(authz, value); /* fits: value is shorter than the line */
            have_authz = true;
        } else if (strcasecmp(name, "Expect") == 0) {
            if (strcasecmp(value, "100-continue") == 0)
                cp->expect_continue = strcmp(version, "HTTP/1.1") == 0;
        }
    }
    if (bad) {
        simple_error(cp, 400, "malformed header");
        return;
    }
    if (chunked) {
        simple_error(cp, 411, "Transfer-Encoding is not supported; send Content-Length");
        return;
    }
    if (too_big) {
        simple_error(cp, 413, "Content-Length too large");
        return;
    }
    cp->body_left = length;
    cp->head = strcmp(method, "HEAD") == 0;

    duet_api_req_t req = {
        .method = method,
        .path = target,
        .authorization = have_authz ? authz : NULL,
        .content_length = length,
        .recv = req_recv,
        .ctx = cp,
    };
    duet_api_resp_t resp = {.start = resp_start, .write = resp_write, .ctx = cp};
    duet_err_t e;
    if (srv->cfg.handler)
        e = srv->cfg.handler(srv->cfg.handler_ctx, &req, &resp);
    else
        e = duet_api_handle(srv->cfg.api, &req, &resp);
    /* the Authorization value is a secret: do not leave it in this thread's stack */
    for (volatile char *p = authz; p < authz + sizeof(authz); p++)
        *p = 0;
    if (!cp->started) /* handler bug or early failure: never leave the client hanging */
        simple_error(cp, 500, duet_err_name(e));
    atomic_fetch_add(&srv->requests, 1u);
}

/* ---- one connection: its own thread ------------------------------------------------------- */

/* Answer one request, then close gracefully: half-close (the client sees the end of
 * the answer), then swallow what the client still sends (an unread body, the rest of
 * a refused or too slow head) until it closes, bounded in bytes and time. Closing a
 * socket with unread input makes the kernel reset the connection, and the reset can
 * destroy the answer before the client has read it. */
static void *conn_main(void *arg)
{
    slot_t *slot = arg;
    conn_t *cp = slot->conn;
    duet_http_server_t *srv = cp->srv;
    serve_request(cp);
    if (cp->started && !cp->failed) {
        shutdown(cp->fd, SHUT_WR);
        drain(cp);
    }
    close(cp->fd);
    pthread_mutex_lock(&srv->mu);
    slot->done = true; /* the accept thread joins it and frees the conn */
    atomic_fetch_sub(&srv->open_conns, 1u); /* after 'done': the slot is free to reap */
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

/* Join finished connection threads (accept thread only). all: wait for every thread
 * (at stop, after the wake-up). Returns the number of slots in use afterwards. */
static unsigned reap(duet_http_server_t *srv, bool all)
{
    unsigned used = 0;
    for (uint32_t i = 0; i < srv->cfg.max_conns; i++) {
        slot_t *s = &srv->slots[i];
        if (!s->used)
            continue;
        pthread_mutex_lock(&srv->mu);
        bool done = s->done;
        pthread_mutex_unlock(&srv->mu);
        if (!done && !all) {
            used++;
            continue;
        }
        pthread_join(s->thread, NULL);
        free(s->conn);
        s->conn = NULL;
        s->used = false;
        s->done = false; /* the thread is joined: no other writer */
    }
    return used;
}

/* Start a thread for fd in a free slot. Returns false when all slots are busy (or a
 * thread cannot be made): the caller refuses the connection. */
static bool start_conn(duet_http_server_t *srv, int fd)
{
    slot_t *slot = NULL;
    for (uint32_t i = 0; i < srv->cfg.max_conns && !slot; i++)
        if (!srv->slots[i].used)
            slot = &srv->slots[i];
    if (!slot)
        return false;
    conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        return false;
    c->srv = srv;
    c->fd = fd;
    c->accepted_ms = now_ms();
    c->head_deadline = c->accepted_ms + srv->cfg.header_timeout_ms;
    slot->conn = c;
    slot->done = false;
    atomic_fetch_add(&srv->open_conns, 1u);
    if (pthread_create(&slot->thread, NULL, conn_main, slot) != 0) {
        atomic_fetch_sub(&srv->open_conns, 1u);
        slot->conn = NULL;
        free(c);
        return false;
    }
    slot->used = true;
    return true;
}

/* ---- accept thread: connection cap ---------------------------------------------------------- */

typedef struct {
    int fd;
    uint64_t until;
} reject_t;

/* Refuse a connection over the cap: 503 at once (non-blocking: a small answer into an
 * empty send buffer), half-close, then linger briefly (see REJECT_LINGER_MS). */
static void refuse(duet_http_server_t *srv, int fd, reject_t *rej, unsigned *nrej)
{
    static const char body[] =
        "{\"error\":\"HTTP\",\"status\":503,\"message\":\"too many connections; try again\"}";
    char msg[384];
    int n = snprintf(msg, sizeof(msg),
                     "HTTP/1.1 503 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s",
                     duet_api_reason_phrase(503), sizeof(body) - 1, body);
    atomic_fetch_add(&srv->refused, 1u);
    (void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT); /* best effort: closing anyway */
    shutdown(fd, SHUT_WR);
    if (*nrej < REJECT_MAX) {
        rej[(*nrej)++] = (reject_t){fd, now_ms() + REJECT_LINGER_MS};
        return;
    }
    close(fd);
}

static void *server_main(void *arg)
{
    duet_http_server_t *srv = arg;
    reject_t rej[REJECT_MAX];
    unsigned nrej = 0;
    for (;;) {
        struct pollfd p[2 + REJECT_MAX];
        p[0] = (struct pollfd){.fd = srv->listen_fd, .events = POLLIN};
        p[1] = (struct pollfd){.fd = srv->wake[0], .events = POLLIN};
        uint64_t now = now_ms(), next = now + 1000u; /* also reap finished threads now and then */
        for (unsigned i = 0; i < nrej; i++) {
            p[2 + i] = (struct pollfd){.fd = rej[i].fd, .events = POLLIN};
            next = min_deadline(next, rej[i].until);
        }
        int n = poll(p, 2 + nrej, next > now ? (int)(next - now) : 0);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && p[1].revents)
            break;
        /* refused connections: swallow input until EOF or their moment is over */
        now = now_ms();
        for (unsigned i = nrej; i-- > 0;) {
            bool end = now >= rej[i].until;
            if (!end && n > 0 && p[2 + i].revents) {
                char tmp[1024];
                ssize_t r = recv(rej[i].fd, tmp, sizeof(tmp), MSG_DONTWAIT);
                end = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
            }
            if (end) {
                close(rej[i].fd);
                rej[i] = rej[--nrej];
            }
        }
        unsigned used = reap(srv, false);
        if (n > 0 && (p[0].revents & POLLIN)) {
            int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0)
                continue; /* EAGAIN/ECONNABORTED/EMFILE: try again */
            if (used >= srv->cfg.max_conns || !start_conn(srv, fd))
                refuse(srv, fd, rej, &nrej);
        }
    }
    for (unsigned i = 0; i < nrej; i++)
        close(rej[i].fd);
    reap(srv, true); /* the wake pipe is readable: every connection thread ends soon */
    return NULL;
}

/* ---- start, stop ------------------------------------------------------------------------ */

duet_err_t duet_http_start(const duet_http_config_t *cfg, duet_http_server_t **out)
{
    if (!cfg || !out || (!cfg->handler && !cfg->api))
        return DUET_ERR_INVAL;
    duet_http_server_t *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return DUET_ERR_NOMEM;
    srv->cfg = *cfg;
    duet_http_config_t *c = &srv->cfg;
    if (c->io_timeout_ms == 0)
        c->io_timeout_ms = DUET_HTTP_DEFAULT_TIMEOUT_MS;
    if (c->header_timeout_ms == 0)
        c->header_timeout_ms = c->io_timeout_ms;
    if (c->idle_timeout_ms == 0 || c->idle_timeout_ms > c->header_timeout_ms)
        c->idle_timeout_ms = c->header_timeout_ms;
    if (c->min_body_rate == 0)
        c->min_body_rate = DUET_HTTP_DEFAULT_MIN_RATE;
    else if (c->min_body_rate == DUET_HTTP_NO_MIN_RATE)
        c->min_body_rate = 0;
    if (c->body_grace_ms == 0)
        c->body_grace_ms = c->io_timeout_ms;
    if (c->max_conns == 0)
        c->max_conns = DUET_HTTP_DEFAULT_MAX_CONNS;
    srv->listen_fd = -1;
    srv->wake[0] = srv->wake[1] = -1;
    srv->slots = calloc(c->max_conns, sizeof(*srv->slots));
    if (!srv->slots) {
        free(srv);
        return DUET_ERR_NOMEM;
    }
    pthread_mutex_init(&srv->mu, NULL);

    duet_err_t e = DUET_ERR_IO;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
    if (inet_pton(AF_INET, cfg->host ? cfg->host : "127.0.0.1", &sa.sin_addr) != 1) {
        e = DUET_ERR_INVAL;
        goto fail;
    }
    srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (srv->listen_fd < 0)
        goto fail;
    int one = 1;
    (void)setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* best effort */
    if (bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(srv->listen_fd, 64) != 0)
        goto fail;
    socklen_t sl = sizeof(sa);
    if (getsockname(srv->listen_fd, (struct sockaddr *)&sa, &sl) != 0)
        goto fail;
    srv->port = ntohs(sa.sin_port);
    if (pipe2(srv->wake, O_CLOEXEC) != 0)
        goto fail;
    if (pthread_create(&srv->thread, NULL, server_main, srv) != 0)
        goto fail;
    *out = srv;
    return DUET_OK;
fail:
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->wake[0] >= 0) {
        close(srv->wake[0]);
        close(srv->wake[1]);
    }
    pthread_mutex_destroy(&srv->mu);
    free(srv->slots);
    free(srv);
    return e;
}

uint16_t duet_http_port(const duet_http_server_t *srv)
{
    return srv ? srv->port : 0;
}

uint32_t duet_http_requests(const duet_http_server_t *srv)
{
    return srv ? atomic_load(&((duet_http_server_t *)srv)->requests) : 0;
}

uint32_t duet_http_refused(const duet_http_server_t *srv)
{
    return srv ? atomic_load(&((duet_http_server_t *)srv)->refused) : 0;
}

uint32_t duet_http_connections(const duet_http_server_t *srv)
{
    return srv ? atomic_load(&((duet_http_server_t *)srv)->open_conns) : 0;
}

void duet_http_stop(duet_http_server_t *srv)
{
    if (!srv)
        return;
    char b = 1;
    while (write(srv->wake[1], &b, 1) < 0 && errno == EINTR) {
    }
    pthread_join(srv->thread, NULL); /* it joins every connection thread first */
    close(srv->listen_fd);
    close(srv->wake[0]);
    close(srv->wake[1]);
    pthread_mutex_destroy(&srv->mu);
    free(srv->slots);
    free(srv);
}

void duet_http_mutex_lock(void *m)
{
    pthread_mutex_lock((pthread_mutex_t *)m);
}

void duet_http_mutex_unlock(void *m)
{
    pthread_mutex_unlock((pthread_mutex_t *)m);
}
