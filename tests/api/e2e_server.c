/*
 * e2e_server.c - a minimal duet HTTP endpoint for the browser test (tests/e2e): the real
 * API handler, supervisor, OTA and verifier, served by the host HTTP server, with the
 * fake port (RAM flash, fake core 1). Usage: duet_e2e_server TOKEN [PORT]
 * Prints "listening on PORT" once ready; runs until stdin closes or SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duet/http_server.h"
#include "fake_port.h"

static duet_sup_t sup;
static duet_api_t api;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t quit;

static void on_sig(int s)
{
    quit = 1;
}

static void on_event(void *user, const duet_sup_event_t *ev)
{
    if (ev->type == DUET_EV_LOG) /* called under the lock, from the poll loop */
        duet_api_log_line(&api, ev->level, ev->text, ev->text_len);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: duet_e2e_server TOKEN [PORT]\n");
        return 1;
    }
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    fake_port_reset();
    duet_sup_config_t sc;
    duet_sup_config_default(&sc);
    sc.require_signature = false; /* the page test uploads unsigned images */
    sc.on_event = on_event;
    if (duet_sup_init(&sup, &sc) != DUET_OK || duet_api_init(&api, &sup, argv[1], 0) != DUET_OK)
        return 1;
    duet_api_set_lock(&api, duet_http_mutex_lock, duet_http_mutex_unlock, &lock);
    duet_http_config_t cfg = {.api = &api, .port = argc > 2 ? (uint16_t)atoi(argv[2]) : 0};
    duet_http_server_t *srv;
    if (duet_http_start(&cfg, &srv) != DUET_OK) {
        fprintf(stderr, "cannot listen\n");
        return 1;
    }
    printf("listening on %u\n", duet_http_port(srv));
    fflush(stdout);
    while (!quit) {
        pthread_mutex_lock(&lock);
        duet_sup_poll(&sup);
        pthread_mutex_unlock(&lock);
        usleep(10000);
    }
    duet_http_stop(srv);
    duet_sup_stop(&sup);
    return 0;
}
