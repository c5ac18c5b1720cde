/*
 * api_status.c - GET /api/status and GET /api/crash bodies (see docs/http-api.md).
 *
 * Both read one duet_sup_status_t snapshot and write JSON with duet/json.h. The caller
 * holds the API lock (api.c does). Field names are an interface (the web page, the CLI
 * and scripts read them): add fields, never rename or remove one.
 */
#include <stdio.h>
#include <string.h>

#include "api_priv.h"
#include "duet/crash_fmt.h"
#include "duet/json.h"
#include "duet/port.h"

static const char *slot_status_name(uint8_t s)
{
    switch (s) {
    case DUET_SLOT_EMPTY: return "EMPTY";
    case DUET_SLOT_PENDING: return "PENDING";
    case DUET_SLOT_CONFIRMED: return "CONFIRMED";
    case DUET_SLOT_BAD: return "BAD";
    case DUET_SLOT_WRITING: return "WRITING";
    default: return "UNKNOWN";
    }
}

static const char *chip_name(uint8_t chip)
{
    switch (chip) {
    case DUET_CHIP_HOST: return "host";
    case DUET_CHIP_ESP32S3: return "esp32s3";
    case DUET_CHIP_ESP32: return "esp32";
    default: return "unknown";
    }
}

uint8_t duet_api_chip(const duet_sup_status_t *st)
{
    const duet_mem_region_t *regions;
    unsigned count;
    uint8_t chip = DUET_CHIP_ESP32S3, abi;
    if (st && st->active_slot >= 0 && st->active_slot < (int)DUET_SLOT_COUNT &&
        st->slot_valid[st->active_slot])
        return st->slot_hdr[st->active_slot].ih_chip;
    if (duet_port_window(&regions, &count, &chip, &abi) != DUET_OK)
        return DUET_CHIP_ESP32S3; /* no window: assume the real chip */
    return chip;
}

static void version_str(const duet_img_hdr_t *h, char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u", (unsigned)h->ih_ver_major, (unsigned)h->ih_ver_minor,
             (unsigned)h->ih_ver_patch);
}

static uint64_t ms_since(uint64_t now, uint64_t then)
{
    return (then == 0 || now < then) ? 0 : (now - then) / 1000u;
}

duet_err_t duet_api_status_json(duet_api_t *api, char *buf, size_t cap, size_t *len)
{
    duet_sup_status_t st;
    duet_json_t j;
    char tmp[160];
    if (!api || !buf || cap == 0)
        return DUET_ERR_INVAL;
    duet_sup_get_status(api->sup, &st);
    uint64_t now = duet_port_now_us();
    uint8_t chip = duet_api_chip(&st);

    duet_json_init(&j, buf, cap);
    duet_json_obj_begin(&j, NULL);
    duet_json_str(&j, "state", duet_sup_state_name(st.state));
    duet_json_i64(&j, "active_slot", st.active_slot);
    duet_json_str(&j, "chip", chip_name(chip));
    if (st.active_slot >= 0 && st.active_slot < (int)DUET_SLOT_COUNT &&
        st.slot_valid[st.active_slot]) {
        version_str(&st.slot_hdr[st.active_slot], tmp, sizeof(tmp));
        duet_json_str(&j, "version", tmp);
        duet_json_str(&j, "name", st.slot_name[st.active_slot]);
    } else {
        duet_json_null(&j, "version");
        duet_json_null(&j, "name");
    }
    duet_json_u64(&j, "epoch", st.epoch);
    duet_json_u64(&j, "heartbeat", st.heartbeat);
    duet_json_u64(&j, "progress", st.progress);
    duet_json_u64(&j, "restarts", st.restarts);
    duet_json_u64(&j, "crashes", st.crashes);
    duet_json_u64(&j, "uptime_ms",
                  st.state == DUET_SUP_RUNNING ? ms_since(now, st.run_start_us) : 0);
    duet_json_u64(&j, "heartbeat_age_ms", ms_since(now, st.last_heartbeat_us));
    duet_json_str(&j, "last_error", duet_err_name(st.last_err));
    duet_json_u64(&j, "min_security_counter", st.slots.sr_min_security);

    duet_json_arr_begin(&j, "slots");
    for (unsigned i = 0; i < DUET_SLOT_COUNT; i++) {
        const duet_img_hdr_t *h = &st.slot_hdr[i];
        duet_json_obj_begin(&j, NULL);
        duet_json_u64(&j, "index", i);
        duet_json_str(&j, "slot", i == 0 ? "A" : "B");
        duet_json_str(&j, "status", slot_status_name(st.slots.sr_status[i]));
        duet_json_bool(&j, "active", (int)i == st.active_slot);
        duet_json_bool(&j, "valid", st.slot_valid[i]);
        duet_json_u64(&j, "boots", st.slots.sr_boots[i]);
        if (st.slot_valid[i]) {
            version_str(h, tmp, sizeof(tmp));
            duet_json_str(&j, "version", tmp);
            duet_json_u64(&j, "security_counter", h->ih_security_counter);
            duet_json_str(&j, "name", st.slot_name[i]);
            duet_json_str(&j, "chip", chip_name(h->ih_chip));
            size_t bl = h->ih_build_id_len > DUET_IMG_BUILD_ID_LEN ? DUET_IMG_BUILD_ID_LEN
                                                                   : h->ih_build_id_len;
            duet_json_hex(&j, "build_id", h->ih_build_id, bl);
        } else {
            duet_json_null(&j, "version");
            duet_json_null(&j, "security_counter");
            duet_json_null(&j, "name");
        }
        duet_json_obj_end(&j);
    }
    duet_json_arr_end(&j);

    duet_json_obj_begin(&j, "upload");
    duet_json_bool(&j, "active", api->upload_active);
    duet_json_u64(&j, "total", api->upload_total);
    duet_json_u64(&j, "received", api->upload_received);
    duet_json_str(&j, "last_result", duet_err_name(api->upload_err));
    duet_json_u64(&j, "ok", api->uploads_ok);
    duet_json_u64(&j, "refused", api->uploads_refused);
    duet_json_u64(&j, "max_bytes", api->max_upload);
    duet_json_obj_end(&j);
    /* failed-token limiter: how long token routes still answer 429 (0 = not locked) */
    duet_json_u64(&j, "auth_locked_ms", duet_api_auth_locked_ms(api));
    char owns[96];
    duet_port_core1_owns(owns, sizeof owns);
    duet_json_str(&j, "core1_owns", owns); /* peripherals claimed for core 1 */

    if (st.has_crash && duet_crash_valid(&st.last_crash)) {
        duet_json_obj_begin(&j, "last_crash");
        duet_json_str(&j, "reason", duet_crash_reason_name(st.last_crash.cr_reason));
        duet_json_u64(&j, "epoch", st.last_crash.cr_epoch);
        duet_json_addr(&j, "pc", st.last_crash.cr_pc);
        duet_crash_summary(&st.last_crash, chip, tmp, sizeof(tmp)); /* may truncate: ok */
        duet_json_str(&j, "summary", tmp);
        duet_json_obj_end(&j);
    } else {
        duet_json_null(&j, "last_crash");
    }
    duet_json_u64(&j, "log_lines", api->log_head);
    duet_json_u64(&j, "time_ms", now / 1000u);
    duet_json_obj_end(&j);
    return duet_json_finish(&j, len);
}

duet_err_t duet_api_crash_json(duet_api_t *api, char *buf, size_t cap, size_t *len)
{
    duet_sup_status_t st;
    duet_json_t j;
    if (!api || !buf || cap == 0)
        return DUET_ERR_INVAL;
    duet_sup_get_status(api->sup, &st);
    duet_json_init(&j, buf, cap);
    if (st.has_crash && duet_crash_valid(&st.last_crash)) {
        duet_crash_json(&j, NULL, &st.last_crash, duet_api_chip(&st), false);
    } else {
        duet_json_obj_begin(&j, NULL);
        duet_json_bool(&j, "valid", false);
        duet_json_str(&j, "summary", "none");
        duet_json_obj_end(&j);
    }
    return duet_json_finish(&j, len);
}
