/*
 * http_server.c - the simulator's HTTP/1.1 server (see duet/http_server.h for the
 * limits and the threading contract).
 *
 * Organisation: connection I/O (buffered reader with timeouts and a deadline for the
 * request head, send-all), request parsing (request line, headers), the
 * duet_api_req_t/resp_t adapters, the per-connection routine, then the server thread
 * and start/stop.
 *
 * One thread, one connection at a time: simple to reason about (the API is not
 * reentrant) and plenty for a simulator driven by one CLI or browser. Shutdown uses a
 * self-pipe so poll() wakes up at once.
 */
#include "duet/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Bytes of an unread request body drained after answering, so closing the socket does
 * not reset the connection before the client has read the answer; and the wall-clock
 * time that may take in total (a client trickling its body cannot hold the one server
 * thread). */
#define DRAIN_MAX (64u * 1024u * 1024u)
#define DRAIN_TIMEOUT_MS 2000u

typedef struct conn conn_t;

struct duet_http_server {
    duet_http_config_t cfg;
    int listen_fd;
    int wake[2]; /* self-pipe: stop() writes, the thread polls the read end */
    pthread_t thread;
    uint16_t port;
    atomic_uint requests;
    struct conn *conn; /* the one connection being served (server thread only) */
};

struct conn {
    int fd;
    char buf[4096];
    size_t pos, len;
    uint32_t io_timeout_ms;
    uint64_t deadline_ms;   /* != 0: fill() gives up at this monotonic time (head) */
    /* request */
    bool head;              /* HEAD: suppress the body */
    bool expect_continue;
    bool continue_sent;
    uint32_t body_left;     /* body bytes not yet read by the handler */
    /* response */
    bool started;
    bool failed;            /* a write failed: stop writing */
};

/* ---- connection I/O ---------------------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_rcv_timeout(int fd, uint32_t ms)
{
    if (ms == 0)
        ms = 1; /* 0 would mean "no timeout" */
    struct timeval tv = {.tv_sec = ms / 1000u, .tv_usec = (ms % 1000u) * 1000u};
    /* a failure leaves blocking sockets without timeout: tolerable for a simulator */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void set_timeout(int fd, uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000u, .tv_usec = (ms % 1000u) * 1000u};
    set_rcv_timeout(fd, ms);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int send_all(conn_t *c, const void *data, size_t len)
{
    const char *p = data;
    if (c->failed)
        return -1;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
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

/* Refill the buffer. Returns bytes read, 0 on EOF, -1 on error/timeout, -2 when the
 * connection's deadline has passed (a client trickling bytes to keep it open). */
static ssize_t fill(conn_t *c)
{
    if (c->pos == c->len)
        c->pos = c->len = 0;
    if (c->len == sizeof(c->buf))
        return -1; /* caller did not consume: treated as a too-long line */
    if (c->deadline_ms != 0) {
        uint64_t now = now_ms();
        if (now >= c->deadline_ms)
            return -2;
        uint64_t left = c->deadline_ms - now;
        set_rcv_timeout(c->fd, left < c->io_timeout_ms ? (uint32_t)left : c->io_timeout_ms);
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && c->deadline_ms != 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -2; /* the receive timeout was cut to the deadline: it has passed */
        if (n > 0)
            c->len += (size_t)n;
        return n;
    }
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
        ssize_t r;
        do
            r = recv(c->fd, buf, cap, 0);
        while (r < 0 && errno == EINTR);
        if (r <= 0)
            return -1; /* EOF before Content-Length bytes, or timeout: truncated */
        n = (size_t)r;
    }
    c->body_left -= (uint32_t)n;
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
    uint64_t deadline = now_ms() + DRAIN_TIMEOUT_MS;
    c->pos = c->len = 0; /* whatever is buffered is body: discard */
    while (left > 0) {
        uint64_t now = now_ms();
        if (now >= deadline)
            break; /* in total, not per read: a trickle cannot keep the thread here */
        set_rcv_timeout(c->fd, (uint32_t)(deadline - now));
        ssize_t n = recv(c->fd, tmp, left < sizeof(tmp) ? left : sizeof(tmp), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        left -= (uint32_t)n;
    }
}

static void serve_request(duet_http_server_t *srv, int fd)
{
    conn_t *cp = srv->conn; /* one connection at a time, on the server thread only */
    char line[DUET_HTTP_MAX_LINE];
    char method[16], target[DUET_HTTP_MAX_LINE], version[16];
    char authz[DUET_HTTP_MAX_LINE];
    bool have_authz = false, have_len = false, chunked = false, bad = false, too_big = false;
    uint32_t length = 0;
    unsigned headers = 0;

    memset(cp, 0, sizeof(*cp));
    cp->fd = fd;
    cp->io_timeout_ms = srv->cfg.io_timeout_ms;
    set_timeout(fd, srv->cfg.io_timeout_ms);
    /* The whole head (request line + headers) must arrive within one io_timeout, not
     * one io_timeout per byte: the server has one thread. */
    cp->deadline_ms = now_ms() + srv->cfg.io_timeout_ms;

    int r = read_line(cp, line, sizeof(line));
    if (r == -2) {
        simple_error(cp, 414, "request line too long");
        return;
    }
    if (r == -3) {
        simple_error(cp, 400, "NUL byte in the request line");
        return;
    }
    if (r != 0)
        return; /* closed or timed out before a request: nothing to answer */
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
    cp->deadline_ms = 0; /* the body has per-read timeouts only (uploads take a while) */
    set_rcv_timeout(fd, srv->cfg.io_timeout_ms);

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
    if (!cp->started) /* handler bug or early failure: never leave the client hanging */
        simple_error(cp, 500, duet_err_name(e));
    atomic_fetch_add(&srv->requests, 1u);
}

/* Answer one request, then close gracefully: half-close (the client sees the end of
 * the answer), then swallow what the client still sends (an unread body, the rest of
 * a refused or too slow head) until it closes, bounded in bytes and time. Closing a
 * socket with unread input makes the kernel reset the connection, and the reset can
 * destroy the answer before the client has read it. */
static void serve(duet_http_server_t *srv, int fd)
{
    serve_request(srv, fd);
    conn_t *cp = srv->conn;
    if (cp->started && !cp->failed) {
        shutdown(fd, SHUT_WR);
        drain(cp);
    }
}

/* ---- thread, start, stop ---------------------------------------------------------------- */

static void *server_main(void *arg)
{
    duet_http_server_t *srv = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = srv->listen_fd, .events = POLLIN},
                              {.fd = srv->wake[0], .events = POLLIN}};
        int n = poll(p, 2, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            int fd = accept(srv->listen_fd, NULL, NULL);
            if (fd < 0)
                continue; /* EAGAIN/ECONNABORTED: try again */
            serve(srv, fd);
            close(fd);
        }
    }
    return NULL;
}

duet_err_t duet_http_start(const duet_http_config_t *cfg, duet_http_server_t **out)
{
    if (!cfg || !out || (!cfg->handler && !cfg->api))
        return DUET_ERR_INVAL;
    duet_http_server_t *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return DUET_ERR_NOMEM;
    srv->cfg = *cfg;
    srv->conn = calloc(1, sizeof(*srv->conn));
    if (!srv->conn) {
        free(srv);
        return DUET_ERR_NOMEM;
    }
    if (srv->cfg.io_timeout_ms == 0)
        srv->cfg.io_timeout_ms = DUET_HTTP_DEFAULT_TIMEOUT_MS;
    srv->listen_fd = -1;
    srv->wake[0] = srv->wake[1] = -1;

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
    if (inet_pton(AF_INET, cfg->host ? cfg->host : "127.0.0.1", &sa.sin_addr) != 1)
        goto inval;
    srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (srv->listen_fd < 0)
        goto io;
    int one = 1;
    (void)setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* best effort */
    if (bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(srv->listen_fd, 16) != 0)
        goto io;
    socklen_t sl = sizeof(sa);
    if (getsockname(srv->listen_fd, (struct sockaddr *)&sa, &sl) != 0)
        goto io;
    srv->port = ntohs(sa.sin_port);
    if (pipe2(srv->wake, O_CLOEXEC) != 0)
        goto io;
    if (pthread_create(&srv->thread, NULL, server_main, srv) != 0)
        goto io;
    *out = srv;
    return DUET_OK;
inval:
    free(srv->conn);
    free(srv);
    return DUET_ERR_INVAL;
io:
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->wake[0] >= 0) {
        close(srv->wake[0]);
        close(srv->wake[1]);
    }
    free(srv->conn);
    free(srv);
    return DUET_ERR_IO;
}

uint16_t duet_http_port(const duet_http_server_t *srv)
{
    return srv ? srv->port : 0;
}

uint32_t duet_http_requests(const duet_http_server_t *srv)
{
    return srv ? atomic_load(&((duet_http_server_t *)srv)->requests) : 0;
}

void duet_http_stop(duet_http_server_t *srv)
{
    if (!srv)
        return;
    char b = 1;
    while (write(srv->wake[1], &b, 1) < 0 && errno == EINTR) {
    }
    pthread_join(srv->thread, NULL);
    close(srv->listen_fd);
    close(srv->wake[0]);
    close(srv->wake[1]);
    free(srv->conn);
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
