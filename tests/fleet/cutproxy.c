/*
 * cutproxy.c - a TCP relay for the fleet tests that drops ONE connection mid-stream:
 *
 *   cutproxy UPSTREAM_PORT CUT_AFTER PORT_FILE MARKER
 *
 * Listens on 127.0.0.1 (a free port, written to PORT_FILE), relays every connection to
 * 127.0.0.1:UPSTREAM_PORT (TLS passes through untouched), and the first connection
 * whose server-to-client bytes pass CUT_AFTER is closed right there, without a TLS
 * close_notify: to the client a connection lost in the middle of the image. MARKER is
 * created then (O_EXCL: once per run, across the forked relays). Runs until killed.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int dial(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    return s;
}

static void relay(int c, int up, long cut_after, const char *marker)
{
    struct pollfd p[2] = {{c, POLLIN, 0}, {up, POLLIN, 0}};
    long down = 0;
    char buf[4096];
    for (;;) {
        if (poll(p, 2, 30000) <= 0)
            return;
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n <= 0)
                return;
            int to = i == 0 ? up : c;
            if (i == 1 && down + n > cut_after) {
                int fd = open(marker, O_CREAT | O_EXCL | O_WRONLY, 0644);
                if (fd >= 0) { /* the one cut of this run */
                    close(fd);
                    (void)!write(to, buf, (size_t)(cut_after - down));
                    return;
                }
            }
            if (i == 1)
                down += n;
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w <= 0)
                    return;
                off += w;
            }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: cutproxy UPSTREAM_PORT CUT_AFTER PORT_FILE MARKER\n");
        return 2;
    }
    int upstream = atoi(argv[1]);
    long cut_after = atol(argv[2]);
    signal(SIGCHLD, SIG_IGN); /* relays reap themselves */
    signal(SIGPIPE, SIG_IGN);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 16) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) != 0)
        return 1;
    FILE *pf = fopen(argv[3], "w");
    if (pf == NULL)
        return 1;
    fprintf(pf, "%d\n", ntohs(a.sin_port));
    fclose(pf);
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        if (fork() == 0) {
            close(l);
            int up = dial(upstream);
            if (up >= 0)
                relay(c, up, cut_after, argv[4]);
            _exit(0); /* closing both ends is the cut */
        }
        close(c);
    }
}
