/*
 * tests/target/xipfw - the XIP scenario of `make target-test`: starts the XIP program in
 * slot A (tests/target/xipcheck.c, or examples/bigtable) and writes flash on core 0 while
 * it runs: NVS writes, sector erases and page writes of slot B, then an "OTA push" of
 * another image into slot B (read from the tt_stage partition, installed with
 * duet_esp_install). The flash lockout parks core 1 around each operation; the program's
 * results must stay correct and it must keep running. Prints one line per check
 *   TT <name> PASS|FAIL <details>
 * with the parked time per operation kind (core-1 CCOUNT cycles: instructions on the
 * model), and "TT done" at the end; scripts/target-sc-xip.sh judges the lines.
 *
 * The programs' shared words (sc_user): xipcheck: [0] passes, [1] errors found by the
 * program itself (must stay 0). bigtable (examples/bigtable/bigtable.h): [4] seqlock,
 * [5] blocks, [6] accumulator after them; the firmware prints consistent samples
 *   TT xip-sample block=N acc=0x...
 * and the script recomputes each one on the PC (bt_run), so a wrong answer fails too.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "esp_partition.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs.h"
#include "nvs_flash.h"

#include "duet/port.h"
#include "duet_esp.h"

static const char *TAG = "TT";

#define C()  duet_esp_ctrl()
#define U(i) (C()->sc_user[i])

static bool s_bigtable; /* program protocol: bigtable's, else xipcheck's */

/* Work done so far, and the errors the program found itself. */
static uint32_t passes(void)
{
    return s_bigtable ? U(5) : U(0);
}

static uint32_t prog_errors(void)
{
    return s_bigtable ? 0 : U(1);
}

/* bigtable: one consistent (block, accumulator) pair for the script to recompute. */
static void sample(void)
{
    if (!s_bigtable)
        return;
    for (int tries = 0; tries < 100; tries++) {
        uint32_t s0 = U(4), blk = U(5), acc = U(6), s1 = U(4);
        if (s0 == s1 && (s0 & 1u) == 0 && blk > 0) {
            ESP_LOGI(TAG, "xip-sample block=%" PRIu32 " acc=0x%08" PRIx32, blk, acc);
            return;
        }
        vTaskDelay(1);
    }
}

static bool wait_running(uint32_t after_epoch, uint32_t timeout_ms, duet_sup_status_t *st)
{
    for (uint32_t t = 0; t < timeout_ms; t += 10) {
        if (duet_esp_status(st) == DUET_OK && st->state == DUET_SUP_RUNNING &&
            st->epoch > after_epoch && passes() > 1)
            return true;
        vTaskDelay(pdMS_TO_TICKS(10));
    }
    return false;
}

/* Parked time of a series of operations of one kind, as core 0 sees it: parks, hardware
 * stalls, and cycles core 1 was held (its ack to the release: the cache-off window), in
 * core-0 CCOUNT cycles (instructions on the model). */
typedef struct {
    const char *name;
    uint32_t ops, errs, parks, stalls;
    uint32_t held_total, held_max_op;
} series_t;

static void account(series_t *s, const duet_esp_park_stats_t *a, esp_err_t r)
{
    duet_esp_park_stats_t b;
    duet_esp_park_stats(&b);
    uint32_t held = b.held_total_cycles - a->held_total_cycles;
    s->ops++;
    s->errs += r != ESP_OK;
    s->parks += b.parks - a->parks;
    s->stalls += b.stalls - a->stalls;
    s->held_total += held;
    if (held > s->held_max_op)
        s->held_max_op = held;
}

#define OP(series, call)                                                                           \
    do {                                                                                           \
        duet_esp_park_stats_t a_;                                                                  \
        duet_esp_park_stats(&a_);                                                                  \
        esp_err_t r_ = (call);                                                                     \
        account((series), &a_, r_);                                                                \
    } while (0)

static bool report(const series_t *s, uint32_t err0, uint32_t pass0)
{
    uint32_t errors = prog_errors() - err0, done = passes() - pass0;
    sample();
    /* Every op parked core 1 at least once, by its ack (no stall), no error, and the
     * program kept computing right answers meanwhile. */
    bool pass = s->errs == 0 && s->parks >= s->ops && s->stalls == 0 && errors == 0 && done > 0;
    ESP_LOGI(TAG,
             "%s %s ops=%" PRIu32 " errors=%" PRIu32 " parks=%" PRIu32 " stalls=%" PRIu32
             " held_cycles_per_op=%" PRIu32 " held_cycles_max_op=%" PRIu32
             " program_passes=%" PRIu32 " program_errors=%" PRIu32,
             s->name, pass ? "PASS" : "FAIL", s->ops, s->errs, s->parks, s->stalls,
             s->ops ? s->held_total / s->ops : 0, s->held_max_op, done, errors);
    return pass;
}

static bool check_nvs(void)
{
    nvs_handle_t h;
    series_t s = {.name = "xip-nvs"};
    uint32_t e0 = prog_errors(), p0 = passes();
    if (nvs_open("tt", NVS_READWRITE, &h) != ESP_OK) {
        ESP_LOGI(TAG, "xip-nvs FAIL nvs_open");
        return false;
    }
    for (uint32_t i = 0; i < 32; i++) {
        OP(&s, nvs_set_u32(h, "n", i) == ESP_OK ? nvs_commit(h) : ESP_FAIL);
        vTaskDelay(1);
    }
    nvs_close(h);
    return report(&s, e0, p0);
}

static bool check_slot_b(void)
{
    const esp_partition_t *pb = esp_partition_find_first(0x40, 0x01, NULL);
    series_t er = {.name = "xip-erase"}, wr = {.name = "xip-write"};
    static uint8_t buf[4096];
    uint32_t e0 = prog_errors(), p0 = passes();
    if (pb == NULL) {
        ESP_LOGI(TAG, "xip-erase FAIL no duet_b partition");
        return false;
    }
    for (uint32_t i = 0; i < 16; i++) {
        OP(&er, esp_partition_erase_range(pb, i * 4096u, 4096));
        memset(buf, (int)(i * 7u + 1u), sizeof(buf));
        OP(&wr, esp_partition_write(pb, i * 4096u, buf, sizeof(buf)));
        vTaskDelay(1);
    }
    bool ok = report(&er, e0, p0);
    return report(&wr, e0, p0) && ok;
}

/* "OTA push" of another image into slot B: the bytes come from tt_stage (4-byte length,
 * then the image), the install path is the one the HTTP upload uses. */
static bool check_ota(void)
{
    const esp_partition_t *st = esp_partition_find_first(ESP_PARTITION_TYPE_DATA, 0x99, NULL);
    uint32_t len = 0;
    if (st == NULL || esp_partition_read(st, 0, &len, 4) != ESP_OK || len == 0 ||
        len > st->size - 4) {
        ESP_LOGI(TAG, "xip-ota FAIL no staged image (len %" PRIu32 ")", len);
        return false;
    }
    uint8_t *img = malloc(len);
    if (img == NULL || esp_partition_read(st, 4, img, len) != ESP_OK) {
        free(img);
        ESP_LOGI(TAG, "xip-ota FAIL cannot read %" PRIu32 " B", len);
        return false;
    }
    series_t s = {.name = "xip-ota"};
    uint32_t e0 = prog_errors(), p0 = passes();
    duet_img_info_t info;
    int64_t t0 = esp_timer_get_time();
    duet_err_t e = DUET_OK;
    OP(&s, (e = duet_esp_install(img, len, false, &info)) == DUET_OK ? ESP_OK : ESP_FAIL);
    free(img);
    int64_t ms = (esp_timer_get_time() - t0) / 1000;
    duet_sup_status_t sst;
    duet_esp_status(&sst);
    ESP_LOGI(TAG,
             "xip-ota-info installed '%s' (%" PRIu32 " B) into slot B in %" PRId64 " ms: %s, "
             "slot B valid=%d, running slot %c state %s",
             info.name, len, ms, duet_err_str(e), sst.slot_valid[1], 'A' + sst.active_slot,
             duet_sup_state_name(sst.state));
    /* One install is many flash operations: parks >= ops holds trivially, so also
     * require the program still RUNNING from slot A. */
    return report(&s, e0, p0) && sst.state == DUET_SUP_RUNNING && sst.active_slot == 0;
}

/* Stop unmaps, the next start maps and hashes the view again; the answers stay right. */
static bool check_restart(void)
{
    duet_sup_status_t st;
    duet_esp_status(&st);
    uint32_t ep = st.epoch;
    duet_err_t e = duet_esp_restart();
    bool back = e == DUET_OK && wait_running(ep, 8000, &st) && st.active_slot == 0;
    vTaskDelay(pdMS_TO_TICKS(50)); /* the program has reset its words by now */
    uint32_t p0 = passes();
    vTaskDelay(pdMS_TO_TICKS(200));
    sample();
    bool pass = back && prog_errors() == 0 && passes() > p0;
    ESP_LOGI(TAG, "xip-restart %s %s epoch %" PRIu32 " -> %" PRIu32 " slot %c errors=%" PRIu32,
             pass ? "PASS" : "FAIL", duet_err_str(e), ep, st.epoch, 'A' + st.active_slot,
             prog_errors());
    return pass;
}

/* xipcheck only: the program masks interrupts for whole passes (~20 ms on the model,
 * longer than the park timeout), so core 0 cannot get its ack and must stall core 1 in
 * hardware (esp_cpu_stall) around each flash operation; the answers must stay right. */
static bool check_stall(void)
{
    series_t s = {.name = "xip-stall"};
    U(8) = 1;
    uint32_t m0 = U(9);
    for (int t = 0; t < 200 && U(9) == m0; t++)
        vTaskDelay(pdMS_TO_TICKS(5));
    uint32_t e0 = prog_errors(), p0 = passes();
    nvs_handle_t h;
    esp_err_t r = nvs_open("tt", NVS_READWRITE, &h);
    for (uint32_t i = 0; r == ESP_OK && i < 8; i++) {
        OP(&s, nvs_set_u32(h, "s", i) == ESP_OK ? nvs_commit(h) : ESP_FAIL);
        vTaskDelay(pdMS_TO_TICKS(7));
    }
    if (r == ESP_OK)
        nvs_close(h);
    U(8) = 0;
    vTaskDelay(pdMS_TO_TICKS(100));
    uint32_t errors = prog_errors() - e0, done = passes() - p0;
    bool pass = r == ESP_OK && s.errs == 0 && s.stalls > 0 && errors == 0 && done > 0;
    ESP_LOGI(TAG,
             "xip-stall %s ops=%" PRIu32 " parks=%" PRIu32 " stalls=%" PRIu32
             " masked_passes=%" PRIu32 " program_passes=%" PRIu32 " program_errors=%" PRIu32,
             pass ? "PASS" : "FAIL", s.ops, s.parks, s.stalls, U(9) - m0, done, errors);
    return pass;
}

void app_main(void)
{
    ESP_ERROR_CHECK(nvs_flash_init());
    ESP_LOGI(TAG, "boot");
    duet_err_t e = duet_esp_start(NULL);
    duet_sup_status_t st;
    if (duet_esp_status(&st) == DUET_OK) /* which protocol to read, before waiting on it */
        s_bigtable = strcmp(st.slot_name[0], "bigtable") == 0;
    if (e != DUET_OK || !wait_running(0, 8000, &st)) {
        duet_esp_status(&st);
        ESP_LOGI(TAG, "xip-start FAIL %s state %s", duet_err_str(e), duet_sup_state_name(st.state));
        ESP_LOGI(TAG, "done");
        return;
    }
    bool xip = (st.slot_hdr[0].ih_flags & DUET_IMG_F_XIP) != 0;
    ESP_LOGI(TAG,
             "xip-start %s slot A '%s' XIP=%d mapped at 0x%08" PRIx32 " (%" PRIu32
             " B) epoch %" PRIu32,
             xip ? "PASS" : "FAIL", st.slot_name[0], xip, st.slot_hdr[0].ih_map_addr,
             st.slot_hdr[0].ih_map_size, st.epoch);

    /* Baseline: work done in 500 ms with no flash traffic, no errors. */
    uint32_t p0 = passes(), e0 = prog_errors();
    int64_t t0 = esp_timer_get_time();
    vTaskDelay(pdMS_TO_TICKS(500));
    uint32_t idle = passes() - p0;
    sample();
    ESP_LOGI(TAG, "xip-results %s passes=%" PRIu32 " in %" PRId64 " ms, errors=%" PRIu32,
             idle > 0 && prog_errors() == e0 ? "PASS" : "FAIL", idle,
             (esp_timer_get_time() - t0) / 1000, prog_errors() - e0);

    duet_esp_park_stats_t ps0, ps1;
    duet_esp_park_stats(&ps0);
    bool ok = check_nvs();
    ok = check_slot_b() && ok;
    ok = check_restart() && ok;
    ok = check_ota() && ok;
    duet_esp_park_stats(&ps1);
    duet_esp_status(&st);
    ESP_LOGI(TAG,
             "xip-lockout %s parks=%" PRIu32 " stalls=%" PRIu32 " held_max=%" PRIu32
             " ack_wait_max=%" PRIu32 " (core-0 cycles) program_errors=%" PRIu32 " state=%s",
             ok && ps1.stalls == ps0.stalls && prog_errors() == 0 && st.state == DUET_SUP_RUNNING
                 ? "PASS"
                 : "FAIL",
             ps1.parks - ps0.parks, ps1.stalls - ps0.stalls, ps1.held_max_cycles,
             ps1.ack_max_cycles, prog_errors(), duet_sup_state_name(st.state));

    if (!s_bigtable)
        check_stall(); /* after the lockout summary: its stalls are wanted */
    ESP_LOGI(TAG, "done");
}
