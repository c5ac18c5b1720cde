/*
 * sim_util.h - helpers for the simulator tests: a simulator on a temporary flash file
 * with one image provisioned, an event recorder, and waits on supervisor conditions.
 * The images are the real example programs, built and packed by the build
 * (DUET_TEST_IMAGES, set by CMakeLists.txt).
 */
#ifndef DUET_TEST_SIM_UTIL_H
#define DUET_TEST_SIM_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

typedef struct {
    unsigned crashes, hangs, confirms, rollbacks, gave_up, logs;
    duet_crash_t last_crash;
    char last_log[160];
    duet_sup_state_t state;
    /* Word to clear in sc_user when a crash or hang is captured (so the restart that
     * follows runs clean), -1 = none. */
    int clear_user_on_crash;
} sim_events_t;

typedef struct {
    duet_sim_t *sim;
    sim_events_t ev;
    char flash[64];
} sim_fixture_t;

/** Path of a packed example image, e.g. img_path("counter"). */
const char *img_path(const char *name);
/** Default config for tests (fast heartbeat deadline, short backoff). */
void sim_test_config(duet_sim_config_t *cfg);
/** Open a simulator with cfg (on_event is taken over), provision image 'name' into
 *  slot A. Returns 0 on success. */
int sim_fixture_open(sim_fixture_t *f, duet_sim_config_t *cfg, const char *name);
void sim_fixture_close(sim_fixture_t *f);

/** Wait until the supervisor is in 'state' (up to timeout_ms). */
bool sim_wait_state(sim_fixture_t *f, duet_sup_state_t state, uint32_t timeout_ms);
/** Wait until ev.crashes + ev.hangs reaches n. */
bool sim_wait_faults(sim_fixture_t *f, unsigned n, uint32_t timeout_ms);
/** Wait until the heartbeat of the current run reaches n. */
bool sim_wait_heartbeats(sim_fixture_t *f, uint32_t n, uint32_t timeout_ms);

#endif /* DUET_TEST_SIM_UTIL_H */
