/*
 * test_http_server.c - the simulator's HTTP server over real loopback sockets:
 * limits (line length, header count, Content-Length, NUL bytes, folded lines), chunked
 * refusal, streaming with Expect: 100-continue, truncated bodies, clients trickling
 * their headers or an unread body (bounded in total, not per byte); then the real API behind it with a second
 * thread polling the supervisor under the shared mutex (the threading contract in
 * duet/http_server.h; this test also runs under ThreadSanitizer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "duet/http_server.h"
#include "fake_port.h"

/* ---- a raw client ------------------------------------------------------------------- */
static uint16_t port;

static int connect_srv(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void send_str(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the server may close early on purpose */
        s += w;
        n -= (size_t)w;
    }
}

/* Send raw request bytes, read the whole answer, return the status code. */
static int raw(const char *req, size_t len, char *answer, size_t cap)
{
    int fd = connect_srv();
    send_str(fd, req, len);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = recv(fd, answer + n, cap - 1 - n, 0)) > 0)
        n += (size_t)r;
    answer[n] = '\0';
    close(fd);
    int status = 0;
    sscanf(answer, "HTTP/1.1 %d", &status);
    return status;
}

/* ---- an echo handler -------------------------------------------------------------- */
static atomic_uint echo_bytes;

static duet_err_t echo(void *ctx, const duet_api_req_t *req, const duet_api_resp_t *resp)
{
    char buf[512], out[1024];
    size_t total = 0;
    int n;
    while ((n = req->recv(req->ctx, buf, sizeof(buf))) > 0)
        total += (size_t)n;
    atomic_store(&echo_bytes, (unsigned)total);
    int len = snprintf(out, sizeof(out), "%s %s auth=%s len=%u got=%zu eof=%d", req->method,
                       req->path, req->authorization ? req->authorization : "-",
                       req->content_length, total, n == 0);
    resp->start(resp->ctx, 200, "text/plain", len);
    resp->write(resp->ctx, out, (size_t)len);
    return DUET_OK;
}

static void test_requests_and_limits(void **state)
{
    duet_http_server_t *srv;
    duet_http_config_t cfg = {.handler = echo, .io_timeout_ms = 2000};
    char ans[8192];
    assert_int_equal(duet_http_start(&cfg, &srv), DUET_OK);
    port = duet_http_port(srv);
    assert_true(port != 0);

    const char *get = "GET /api/x?q=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\n\r\n";
    assert_int_equal(raw(get, strlen(get), ans, sizeof(ans)), 200);
    assert_non_null(strstr(ans, "GET /api/x auth=Bearer t len=0 got=0"));
    assert_non_null(strstr(ans, "Connection: close"));

    const char *post = "POST /p HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world";
    assert_int_equal(raw(post, strlen(post), ans, sizeof(ans)), 200);
    assert_non_null(strstr(ans, "len=11 got=11 eof=1"));
    /* bytes after the announced body are not body: the handler never sees them */
    const char *extra = "POST /p HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello worldGET / HTTP/1.1\r\n\r\n";
    assert_int_equal(raw(extra, strlen(extra), ans, sizeof(ans)), 200);
    assert_non_null(strstr(ans, "len=11 got=11 eof=1"));

    /* Expect: 100-continue is answered when the handler reads */
    const char *cont = "POST /p HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc";
    assert_int_equal(raw(cont, strlen(cont), ans, sizeof(ans)), 100);
    assert_non_null(strstr(ans, "HTTP/1.1 200 OK"));

    /* a body shorter than announced: the handler sees an error, not EOF */
    const char *trunc = "POST /p HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort";
    int fd = connect_srv();
    send_str(fd, trunc, strlen(trunc));
    shutdown(fd, SHUT_WR);
    size_t got = 0; /* status line and body may come in separate segments */
    ssize_t r;
    while (got + 1 < sizeof(ans) && (r = recv(fd, ans + got, sizeof(ans) - 1 - got, 0)) > 0)
        got += (size_t)r;
    assert_true(got > 0);
    ans[got] = '\0';
    if (!strstr(ans, "got=5 eof=0"))
        fail_msg("truncated body answer: %s", ans);
    close(fd);

    char big[DUET_HTTP_MAX_LINE + 64];
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    memcpy(big + sizeof(big) - 15, " HTTP/1.1\r\n\r\n", 13);
    assert_int_equal(raw(big, sizeof(big) - 2, ans, sizeof(ans)), 414);

    char hdrs[4096] = "GET / HTTP/1.1\r\n";
    for (unsigned i = 0; i <= DUET_HTTP_MAX_HEADERS; i++)
        snprintf(hdrs + strlen(hdrs), sizeof(hdrs) - strlen(hdrs), "X-%u: y\r\n", i);
    strcat(hdrs, "\r\n");
    assert_int_equal(raw(hdrs, strlen(hdrs), ans, sizeof(ans)), 431);

    const char *cases[][2] = {
        {"GARBAGE\r\n\r\n", "400"},
        {"GET /\r\n\r\n", "400"},
        {"GET / HTTP/2.0\r\n\r\n", "505"},
        {"GET relative HTTP/1.1\r\n\r\n", "400"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "411"},
        {"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", "413"},
        {"POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", "400"},
        {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "400"},
        {"GET / HTTP/1.1\r\nno colon here\r\n\r\n", "400"},
        {"GET / HTTP/1.1\r\nX-a: 1\r\n folded: continuation\r\n\r\n", "400"},
        {"GET / HTTP/1.1\r\n: empty name\r\n\r\n", "400"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int st = raw(cases[i][0], strlen(cases[i][0]), ans, sizeof(ans));
        if (st != atoi(cases[i][1]))
            fail_msg("case %zu: got %d want %s", i, st, cases[i][1]);
    }
    /* a NUL byte would hide the rest of a header from the C-string parser */
    static const char nul[] = "GET / HTTP/1.1\r\nAuthorization: Bearer t\0x\r\n\r\n";
    assert_int_equal(raw(nul, sizeof(nul) - 1, ans, sizeof(ans)), 400);
    static const char nul_line[] = "GET /\0/x HTTP/1.1\r\n\r\n";
    assert_int_equal(raw(nul_line, sizeof(nul_line) - 1, ans, sizeof(ans)), 400);
    /* a client that connects and says nothing must not wedge the server */
    int idle = connect_srv();
    close(idle);
    assert_int_equal(raw(get, strlen(get), ans, sizeof(ans)), 200);
    assert_true(duet_http_requests(srv) >= 5);
    duet_http_stop(srv);
}

/* ---- slow clients: one server thread, so no client may hold it by trickling ---------- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Send head, then one byte of filler every 50 ms until the server has closed the
 * connection (a send fails: it reset it) or limit_ms passes. An answer followed by a
 * half-close is not the end: the server may still be draining. Returns the elapsed
 * ms; the answer (if any) is in ans. */
static uint64_t trickle(const char *head, char filler, uint64_t limit_ms, char *ans, size_t cap)
{
    int fd = connect_srv();
    send_str(fd, head, strlen(head));
    uint64_t t0 = mono_ms();
    size_t n = 0;
    ans[0] = '\0';
    while (mono_ms() - t0 < limit_ms) {
        ssize_t r = recv(fd, ans + n, cap - 1 - n, MSG_DONTWAIT);
        if (r > 0) {
            n += (size_t)r;
            ans[n] = '\0';
            continue;
        }
        if (send(fd, &filler, 1, MSG_NOSIGNAL) != 1)
            break; /* reset by the server */
        usleep(50 * 1000);
    }
    uint64_t dt = mono_ms() - t0;
    close(fd);
    return dt;
}

static duet_err_t refuse(void *ctx, const duet_api_req_t *req, const duet_api_resp_t *resp)
{
    (void)ctx;
    (void)req; /* answers without reading the body, like a 401 for an upload */
    resp->start(resp->ctx, 401, "text/plain", 2);
    resp->write(resp->ctx, "no", 2);
    return DUET_OK;
}

static void test_slow_clients_cannot_hold_the_server(void **state)
{
    (void)state;
    char ans[4096];
    duet_http_server_t *srv;
    duet_http_config_t cfg = {.handler = echo, .io_timeout_ms = 500};
    assert_int_equal(duet_http_start(&cfg, &srv), DUET_OK);
    port = duet_http_port(srv);
    /* headers trickling in: the whole head has io_timeout_ms, not each byte; then the
     * server swallows input for at most 2 s (so the 408 is not lost to a reset) */
    uint64_t dt = trickle("GET / HTTP/1.1\r\nX-Slow: ", 'a', 8000, ans, sizeof(ans));
    if (dt > 4000)
        fail_msg("a trickled header held the server for %llu ms", (unsigned long long)dt);
    if (!strstr(ans, "408"))
        fail_msg("trickled header answer: [%s] after %llu ms", ans, (unsigned long long)dt);
    duet_http_stop(srv);

    /* a refused request whose body trickles: draining it is bounded in total */
    cfg.handler = refuse;
    assert_int_equal(duet_http_start(&cfg, &srv), DUET_OK);
    port = duet_http_port(srv);
    dt = trickle("POST /api/image HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", 'b', 8000, ans,
                 sizeof(ans));
    assert_non_null(strstr(ans, "401"));
    if (dt > 4000)
        fail_msg("a trickled body held the server for %llu ms", (unsigned long long)dt);
    /* and the server answers the next client */
    const char *get = "GET / HTTP/1.1\r\n\r\n";
    assert_int_equal(raw(get, strlen(get), ans, sizeof(ans)), 401);
    duet_http_stop(srv);
}

/* ---- the real API behind the server, with a concurrent supervisor loop ----------------- */
static duet_sup_t sup;
static duet_api_t api;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool stop_loop;

static void *sup_loop(void *arg)
{
    while (!atomic_load(&stop_loop)) {
        pthread_mutex_lock(&lock);
        duet_sup_poll(&sup);
        pthread_mutex_unlock(&lock);
        usleep(1000);
    }
    return NULL;
}

static void test_api_over_http_with_concurrent_poll(void **state)
{
    duet_sup_config_t sc;
    fake_port_reset();
    duet_sup_config_default(&sc);
    sc.require_signature = false; /* this test is about transport, not keys */
    assert_int_equal(duet_sup_init(&sup, &sc), DUET_OK);
    assert_int_equal(duet_api_init(&api, &sup, "tok", 0), DUET_OK);
    duet_api_set_lock(&api, duet_http_mutex_lock, duet_http_mutex_unlock, &lock);
    duet_http_server_t *srv;
    duet_http_config_t cfg = {.api = &api};
    assert_int_equal(duet_http_start(&cfg, &srv), DUET_OK);
    port = duet_http_port(srv);
    pthread_t th;
    atomic_store(&stop_loop, false);
    pthread_create(&th, NULL, sup_loop, NULL);

    uint8_t *img;
    size_t len;
    assert_int_equal(fake_make_image(DUET_CHIP_HOST, 3, 1, 4, 1, "over-http", NULL, &img, &len), 0);
    char *req = malloc(len + 256);
    int h = snprintf(req, 256, "POST /api/image HTTP/1.1\r\nAuthorization: Bearer tok\r\n"
                               "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n", len);
    memcpy(req + h, img, len);
    char ans[8192];
    assert_int_equal(raw(req, (size_t)h + len, ans, sizeof(ans)), 100);
    if (!strstr(ans, "HTTP/1.1 200 OK"))
        fail_msg("upload answer: %s", ans);
    assert_non_null(strstr(ans, "\"version\":\"3.1.4\""));

    /* refused before the body: no 100 Continue, straight 401 */
    h = snprintf(req, 256, "POST /api/image HTTP/1.1\r\nExpect: 100-continue\r\n"
                           "Content-Length: %zu\r\n\r\n", len);
    assert_int_equal(raw(req, (size_t)h, ans, sizeof(ans)), 401);
    free(req);
    free(img);

    for (int i = 0; i < 20; i++) {
        const char *g = "GET /api/status HTTP/1.1\r\n\r\n";
        assert_int_equal(raw(g, strlen(g), ans, sizeof(ans)), 200);
        assert_non_null(strstr(ans, "\"version\":\"3.1.4\""));
    }
    const char *head = "HEAD / HTTP/1.1\r\n\r\n";
    assert_int_equal(raw(head, strlen(head), ans, sizeof(ans)), 200);
    assert_null(strstr(ans, "<html"));

    atomic_store(&stop_loop, true);
    pthread_join(th, NULL);
    duet_http_stop(srv);
    duet_sup_stop(&sup);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_and_limits),
        cmocka_unit_test(test_slow_clients_cannot_hold_the_server),
        cmocka_unit_test(test_api_over_http_with_concurrent_poll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
