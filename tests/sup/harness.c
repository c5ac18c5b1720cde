/*
 * harness.c - see harness.h.
 */
#include "harness.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "duet/crypto.h"

h_events_t h_events;

static uint8_t *read_file(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", DUET_SUP_TEST_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    uint8_t *out = malloc(n + 1);
    assert_non_null(out);
    memcpy(out, buf, n + 1);
    *len = n + 1; /* PEM with its NUL, as mbedTLS wants it */
    return out;
}

h_img_t h_image(uint8_t ver, uint32_t security, uint8_t chip, h_key_t key)
{
    return h_image_ex(ver, security, chip, key, 1024);
}

h_img_t h_image_ex(uint8_t ver, uint32_t security, uint8_t chip, h_key_t key, uint32_t code_size)
{
    static uint32_t code[4096];
    assert_true(code_size >= 1024 && code_size <= sizeof(code) && code_size % 4 == 0);
    static uint32_t data[64];
    h_img_t img;
    img.code_fill = (uint8_t)(0x10u + ver);
    memset(code, img.code_fill, sizeof(code));
    memset(data, (uint8_t)(0x80u + ver), sizeof(data));
    duet_img_seg_in_t segs[3] = {
        { DUET_SEG_CODE, FAKE_CODE_BASE, code_size, code },
        { DUET_SEG_DATA, FAKE_DATA_BASE, sizeof(data), data },
        { DUET_SEG_BSS, FAKE_DATA_BASE + 0x1000u, 0x200u, NULL },
    };
    char name[16];
    snprintf(name, sizeof(name), "prog-v%u", ver);
    duet_img_desc_t d;
    memset(&d, 0, sizeof(d));
    d.chip = chip;
    d.abi = DUET_ABI_HOST;
    d.entry = FAKE_CODE_BASE + 16u;
    d.stack_top = FAKE_DATA_BASE + FAKE_MEM_SIZE;
    d.stack_size = 0x1000u;
    d.shm_version = DUET_SHM_LAYOUT_VERSION;
    d.ver_major = ver;
    d.security_counter = security;
    d.build_id_len = 4;
    d.build_id[0] = ver;
    d.name = name;
    d.seg_count = 3;
    d.segs = segs;
    assert_int_equal(duet_img_write(&d, &img.buf, &img.len), DUET_OK);
    if (key != H_KEY_NONE) {
        size_t klen;
        uint8_t *k = read_file(key == H_KEY_TEST ? "test_key.pem" : "forger_key.pem", &klen);
        assert_int_equal(duet_img_sign(&img.buf, &img.len, k, klen), DUET_OK);
        free(k);
    }
    return img;
}

void h_image_free(h_img_t *img)
{
    free(img->buf);
    img->buf = NULL;
}

bool h_loaded(const h_img_t *img)
{
    const uint8_t *p = fake_mem(FAKE_CODE_BASE, 1024);
    for (unsigned i = 0; i < 1024; i++)
        if (p[i] != img->code_fill)
            return false;
    const uint8_t *bss = fake_mem(FAKE_DATA_BASE + 0x1000u, 0x200u);
    for (unsigned i = 0; i < 0x200u; i++)
        if (bss[i] != 0)
            return false;
    return true;
}

const char *h_flash_path(void)
{
    static char path[256];
    if (path[0] == 0)
        snprintf(path, sizeof(path), "/tmp/duet-suptest-%ld.flash", (long)getpid());
    return path;
}

static const duet_host_flash_geom_t geom = { H_SLOT_SIZE, H_STATE_SIZE, H_ERASE };

void h_flash_new(void)
{
    unlink(h_flash_path());
    assert_int_equal(duet_host_flash_open(h_flash_path(), &geom), DUET_OK);
}

void h_flash_reopen(void)
{
    assert_int_equal(duet_host_flash_open(h_flash_path(), &geom), DUET_OK);
}

void h_provision(int slot, const h_img_t *img)
{
    uint32_t len = (uint32_t)((img->len + H_ERASE - 1) / H_ERASE * H_ERASE);
    assert_int_equal(duet_port_flash_erase((duet_area_t)slot, 0, len), DUET_OK);
    assert_int_equal(duet_port_flash_write((duet_area_t)slot, 0, img->buf, img->len), DUET_OK);
}

static void on_event(void *user, const duet_sup_event_t *ev)
{
    (void)user;
    if (ev->type == DUET_EV_LOG) {
        size_t n = ev->text_len < sizeof(h_events.last_log) - 1 ? ev->text_len
                                                                : sizeof(h_events.last_log) - 1;
        memcpy(h_events.last_log, ev->text, n);
        h_events.last_log[n] = 0;
    }
    if (h_events.n < H_MAX_EVENTS)
        h_events.ev[h_events.n++] = *ev;
}

unsigned h_count(duet_sup_event_type_t type)
{
    unsigned n = 0;
    for (unsigned i = 0; i < h_events.n; i++)
        n += h_events.ev[i].type == type;
    return n;
}

void h_events_clear(void)
{
    memset(&h_events, 0, sizeof(h_events));
}

void h_config(duet_sup_config_t *cfg)
{
    duet_sup_config_default(cfg);
    cfg->heartbeat_timeout_ms = 500;
    cfg->boot_timeout_ms = 1000;
    cfg->backoff_initial_ms = 100;
    cfg->backoff_max_ms = 1000;
    cfg->crash_loop_limit = 3;
    cfg->crash_loop_window_ms = 10000;
    cfg->confirm_heartbeats = 5;
    cfg->shm.log_ring_size = 1024;
    cfg->require_signature = true;
    cfg->key_count = 1;
    size_t klen;
    uint8_t *k = read_file("test_key.pem", &klen);
    assert_int_equal(duet_crypto_privkey_public(k, klen, cfg->keys[0]), DUET_OK);
    free(k);
    cfg->on_event = on_event;
    cfg->user = NULL;
}

void h_step(duet_sup_t *s, uint32_t ms)
{
    fake_clock_advance_ms(ms);
    assert_int_equal(duet_sup_poll(s), DUET_OK);
}

void h_boot(duet_sup_t *s)
{
    fake_c1_boot();
    h_step(s, 1);
    assert_int_equal(s->state, DUET_SUP_RUNNING);
}

void h_run(duet_sup_t *s, uint32_t ms, uint32_t step_ms)
{
    for (uint32_t t = 0; t < ms; t += step_ms) {
        fake_c1_heartbeat(1);
        h_step(s, step_ms);
    }
}

duet_err_t h_ota(duet_sup_t *s, duet_ota_t *o, const uint8_t *buf, size_t len, size_t chunk,
                 bool activate)
{
    DUET_TRY(duet_ota_begin(o, s, (uint32_t)len));
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        duet_err_t e = duet_ota_write(o, buf + off, n);
        if (e != DUET_OK) {
            duet_ota_abort(o);
            return e;
        }
    }
    duet_img_info_t info;
    duet_err_t e = duet_ota_finish(o, activate, &info);
    if (e != DUET_OK)
        duet_ota_abort(o);
    return e;
}

void h_start_provisioned(duet_sup_t *s, duet_sup_config_t *cfg, const h_img_t *img)
{
    fake_reset(false);
    h_events_clear();
    h_flash_new();
    h_provision(0, img);
    h_config(cfg);
    assert_int_equal(duet_sup_init(s, cfg), DUET_OK);
    assert_int_equal(duet_sup_start(s), DUET_OK);
    h_boot(s);
}

void h_done(void)
{
    duet_host_flash_close();
    unlink(h_flash_path());
}

duet_slot_rec_t h_journal(void)
{
    duet_slot_rec_t r;
    assert_int_equal(duet_slot_load(&r, NULL), DUET_OK);
    return r;
}
