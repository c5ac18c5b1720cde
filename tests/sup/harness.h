/*
 * harness.h - shared set-up for the supervisor and OTA tests: a real host flash file
 * with a small geometry, real signed images (duet_img_write + duet_img_sign with the
 * test key in this folder), an event recorder and helpers that drive the fake core 1
 * and the fake clock together with duet_sup_poll().
 */
#ifndef SUP_HARNESS_H
#define SUP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/host_flash.h"
#include "duet/ota.h"
#include "duet/sup.h"
#include "fake_core1.h"

#define H_SLOT_SIZE (32u * 1024u)
#define H_STATE_SIZE (8u * 1024u)
#define H_ERASE 4096u

typedef struct {
    uint8_t *buf;
    size_t len;
    uint8_t code_fill; /* the code segment is code_fill repeated */
} h_img_t;

typedef enum { H_KEY_TEST = 0, H_KEY_FORGER = 1, H_KEY_NONE = 2 } h_key_t;

/* Build an image: version major = ver, given security counter and chip, signed with key. */
h_img_t h_image(uint8_t ver, uint32_t security, uint8_t chip, h_key_t key);
/* Same with a code segment of code_size bytes (1024..16384, multiple of 4). */
h_img_t h_image_ex(uint8_t ver, uint32_t security, uint8_t chip, h_key_t key, uint32_t code_size);
void h_image_free(h_img_t *img);
/* Does core-1 memory hold this image's code (loaded by the supervisor)? */
bool h_loaded(const h_img_t *img);

/* Flash file for this test (unique path); deleted and created fresh by h_flash_new. */
const char *h_flash_path(void);
void h_flash_new(void);
void h_flash_reopen(void); /* "reboot": reopen without faults */
void h_provision(int slot, const h_img_t *img); /* factory: write straight into a slot */

/* Config with the test key trusted, signatures required, short timeouts. */
void h_config(duet_sup_config_t *cfg);

/* Event recorder (installed by h_config). */
#define H_MAX_EVENTS 256
typedef struct {
    unsigned n;
    duet_sup_event_t ev[H_MAX_EVENTS];
    char last_log[256];
} h_events_t;
extern h_events_t h_events;
unsigned h_count(duet_sup_event_type_t type);
void h_events_clear(void);

/* Poll once after advancing the clock by ms. */
void h_step(duet_sup_t *s, uint32_t ms);
/* Ack the epoch and poll: expects RUNNING afterwards. */
void h_boot(duet_sup_t *s);

/* The usual fixture: fresh fake core 1, events and flash; 'img' provisioned into slot A;
 * supervisor initialised with h_config() and booted into it. h_done() closes the flash. */
void h_start_provisioned(duet_sup_t *s, duet_sup_config_t *cfg, const h_img_t *img);
void h_done(void);
/* The slot journal as on flash now. */
duet_slot_rec_t h_journal(void);
/* Run for ms in steps of step_ms with a heartbeat each step. */
void h_run(duet_sup_t *s, uint32_t ms, uint32_t step_ms);

/* Stream a whole image through an OTA session in chunks of 'chunk' bytes. */
duet_err_t h_ota(duet_sup_t *s, duet_ota_t *o, const uint8_t *buf, size_t len, size_t chunk,
                 bool activate);

#endif
