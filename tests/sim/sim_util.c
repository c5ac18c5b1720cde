/*
 * sim_util.c - see sim_util.h.
 */
#include "sim_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *img_path(const char *name)
{
    static char buf[4][512];
    static unsigned k;
    char *p = buf[k++ % 4];
    snprintf(p, 512, "%s/%s.img", DUET_TEST_IMAGES, name);
    return p;
}

void sim_test_config(duet_sim_config_t *cfg)
{
    duet_sim_config_default(cfg);
    cfg->sup.heartbeat_timeout_ms = 500;
    cfg->sup.boot_timeout_ms = 2000;
    cfg->sup.backoff_initial_ms = 50;
    cfg->sup.backoff_max_ms = 200;
    cfg->sup.crash_loop_limit = 10; /* tests count restarts themselves */
}

static void on_event(void *user, const duet_sup_event_t *ev)
{
    sim_fixture_t *f = user;
    switch (ev->type) {
    case DUET_EV_STATE:
        f->ev.state = ev->to;
        break;
    case DUET_EV_CRASH:
    case DUET_EV_HANG:
        if (ev->type == DUET_EV_CRASH)
            f->ev.crashes++;
        else
            f->ev.hangs++;
        if (ev->crash != NULL)
            f->ev.last_crash = *ev->crash;
        if (f->ev.clear_user_on_crash >= 0) {
            /* Called inside the supervisor poll that captured the fault, before any
             * restart: the next run starts without the command. */
            duet_shm_ctrl_t *c = duet_sim_ctrl(f->sim, NULL);
            __atomic_store_n(&c->sc_user[f->ev.clear_user_on_crash], 0, __ATOMIC_RELEASE);
        }
        break;
    case DUET_EV_CONFIRMED:
        f->ev.confirms++;
        break;
    case DUET_EV_ROLLBACK:
        f->ev.rollbacks++;
        break;
    case DUET_EV_GAVE_UP:
        f->ev.gave_up++;
        break;
    case DUET_EV_LOG:
        f->ev.logs++;
        snprintf(f->ev.last_log, sizeof f->ev.last_log, "%.*s", (int)ev->text_len,
                 ev->text != NULL ? ev->text : "");
        break;
    default:
        break;
    }
}

int sim_fixture_open(sim_fixture_t *f, duet_sim_config_t *cfg, const char *name)
{
    memset(f, 0, sizeof *f);
    f->ev.clear_user_on_crash = -1;
    snprintf(f->flash, sizeof f->flash, "/tmp/duet-simtest-XXXXXX");
    int fd = mkstemp(f->flash);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(f->flash); /* the flash layer creates it with the right size */
    cfg->flash_path = f->flash;
    cfg->on_event = on_event;
    cfg->user = f;
    if (duet_sim_open(cfg, &f->sim) != DUET_OK)
        return -1;
    /* sc_user survives restarts and earlier tests in this process: start clean. */
    duet_shm_ctrl_t *c = duet_sim_ctrl(f->sim, NULL);
    memset(c->sc_user, 0, sizeof c->sc_user);
    if (name != NULL && duet_sim_provision_file(f->sim, 0, img_path(name)) != DUET_OK)
        return -1;
    return 0;
}

void sim_fixture_close(sim_fixture_t *f)
{
    duet_sim_close(f->sim);
    f->sim = NULL;
    unlink(f->flash);
}

static bool pred_state(duet_sim_t *sim, void *ctx)
{
    duet_sup_status_t st;
    duet_sup_get_status(duet_sim_sup(sim), &st);
    return st.state == *(duet_sup_state_t *)ctx;
}

bool sim_wait_state(sim_fixture_t *f, duet_sup_state_t state, uint32_t timeout_ms)
{
    return duet_sim_run_until(f->sim, pred_state, &state, timeout_ms);
}

typedef struct {
    sim_fixture_t *f;
    unsigned n;
} count_ctx_t;

static bool pred_faults(duet_sim_t *sim, void *ctx)
{
    (void)sim;
    count_ctx_t *c = ctx;
    return c->f->ev.crashes + c->f->ev.hangs >= c->n;
}

bool sim_wait_faults(sim_fixture_t *f, unsigned n, uint32_t timeout_ms)
{
    count_ctx_t c = {f, n};
    return duet_sim_run_until(f->sim, pred_faults, &c, timeout_ms);
}

static bool pred_hb(duet_sim_t *sim, void *ctx)
{
    duet_sup_status_t st;
    duet_sup_get_status(duet_sim_sup(sim), &st);
    return st.state == DUET_SUP_RUNNING && st.heartbeat >= *(uint32_t *)ctx;
}

bool sim_wait_heartbeats(sim_fixture_t *f, uint32_t n, uint32_t timeout_ms)
{
    return duet_sim_run_until(f->sim, pred_hb, &n, timeout_ms);
}
