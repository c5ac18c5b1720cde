/*
 * tests/target/fw - on-chip checks of `make target-test`, run on core 0 against the
 * core-1 program in slot A (tests/target/selftest.c). Every check prints one line
 *   TT <name> PASS|FAIL <details>
 * and the run ends with "TT done"; scripts/target-scenarios.sh judges the lines.
 * With no startable program it prints "TT start-refused <error>" and proves core 0
 * keeps running ("TT alive n"). With the counter example in slot A instead it runs the
 * core-0 reset suite: esp_restart() and a panic of core 0 while core 1 runs.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "esp_log.h"
#include "esp_system.h"
#include "esp_partition.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs.h"
#include "nvs_flash.h"

#include "duet/port.h"
#include "duet_esp.h"

static const char *TAG = "TT";

#define U(i) (duet_esp_ctrl()->sc_user[i])

static bool wait_running(uint32_t after_epoch, uint32_t timeout_ms, duet_sup_status_t *st)
{
    for (uint32_t t = 0; t < timeout_ms; t += 10) {
        if (duet_esp_status(st) == DUET_OK && st->state == DUET_SUP_RUNNING &&
            st->epoch > after_epoch && U(0) > 0)
            return true;
        vTaskDelay(pdMS_TO_TICKS(10));
    }
    return false;
}

/* Deep recursion (window spills), doorbell and timer interrupts on core 1 at once. */
static void check_core1_irq(void)
{
    const uint32_t rings = 50;
    uint32_t d0 = U(3), t0 = U(4), ok0 = U(1);
    for (uint32_t i = 0; i < rings; i++) {
        duet_port_doorbell_ring();
        vTaskDelay(pdMS_TO_TICKS(20)); /* let each one be taken before the next */
    }
    vTaskDelay(pdMS_TO_TICKS(200));
    uint32_t dn = U(3) - d0, tn = U(4) - t0, okn = U(1) - ok0;
    bool pass = dn >= rings && tn > 0 && okn > 0 && U(2) == 0 && U(5) == 0;
    ESP_LOGI(TAG,
             "core1-irq %s recursion_ok=%" PRIu32 " recursion_bad=%" PRIu32 " doorbell=%" PRIu32
             "/%" PRIu32 " timer=%" PRIu32 " badwin=%" PRIu32 " depth=%" PRIu32,
             pass ? "PASS" : "FAIL", okn, U(2), dn, rings, tn, U(5), U(6));
}

/* Flash writes on core 0 (NVS and the inactive slot) while core 1 runs from RAM: core 1
 * must keep its pace. Pace = loop passes per ms, idle vs. while writing. */
static void check_flash_writes(void)
{
    const esp_partition_t *pb = esp_partition_find_first(0x40, 0x01, NULL); /* duet_b */
    nvs_handle_t h;
    if (pb == NULL || nvs_open("tt", NVS_READWRITE, &h) != ESP_OK) {
        ESP_LOGI(TAG, "flash-writes FAIL no duet_b partition or NVS");
        return;
    }
    int64_t t0 = esp_timer_get_time();
    uint32_t c0 = U(0);
    vTaskDelay(pdMS_TO_TICKS(500));
    double idle = (double)(U(0) - c0) / (double)((esp_timer_get_time() - t0) / 1000);

    static uint8_t buf[4096];
    uint32_t ops = 0, stalls = 0, errs = 0, hb0;
    duet_sup_status_t st;
    duet_esp_status(&st);
    hb0 = st.heartbeat;
    t0 = esp_timer_get_time();
    c0 = U(0);
    for (uint32_t i = 0; i < 16; i++) {
        uint32_t before = U(0);
        errs += nvs_set_u32(h, "n", i) != ESP_OK;
        errs += nvs_commit(h) != ESP_OK;
        memset(buf, (int)i, sizeof(buf));
        errs += esp_partition_erase_range(pb, i * 4096u, 4096) != ESP_OK;
        errs += esp_partition_write(pb, i * 4096u, buf, sizeof(buf)) != ESP_OK;
        ops += 4;
        vTaskDelay(1);
        stalls += U(0) == before; /* not one pass during 4 flash ops and a tick */
    }
    int64_t ms = (esp_timer_get_time() - t0) / 1000;
    double busy = ms > 0 ? (double)(U(0) - c0) / (double)ms : 0;
    duet_esp_status(&st);
    errs += esp_partition_erase_range(pb, 0, pb->size) != ESP_OK; /* leave slot B empty */
    nvs_close(h);
    bool pass = errs == 0 && stalls == 0 && busy >= idle * 0.5 && st.state == DUET_SUP_RUNNING &&
                st.heartbeat > hb0;
    ESP_LOGI(TAG,
             "flash-writes %s ops=%" PRIu32 " errors=%" PRIu32 " stalls=%" PRIu32
             " pace_idle=%.1f/ms pace_writing=%.1f/ms heartbeats=%" PRIu32,
             pass ? "PASS" : "FAIL", ops, errs, stalls, idle, busy, st.heartbeat - hb0);
}

/* Stop / start / restart 20 times: each start a new epoch and a running program; a
 * stopped core 1 does not move. */
static void check_restart20(void)
{
    duet_sup_status_t st;
    duet_esp_status(&st);
    uint32_t first = st.epoch, prev = st.epoch, frozen_bad = 0;
    for (int i = 1; i <= 20; i++) {
        if (i % 2 == 1) {
            if (duet_esp_stop() != DUET_OK) {
                ESP_LOGI(TAG, "restart20 FAIL stop %d refused", i);
                return;
            }
            uint32_t c = U(0);
            vTaskDelay(pdMS_TO_TICKS(50));
            frozen_bad += U(0) != c; /* stopped core 1 still counting */
        }
        duet_err_t e = duet_esp_restart();
        if (e != DUET_OK || !wait_running(prev, 3000, &st)) {
            ESP_LOGI(TAG, "restart20 FAIL cycle %d: %s, state %s epoch %" PRIu32, i,
                     duet_err_str(e), duet_sup_state_name(st.state), st.epoch);
            return;
        }
        prev = st.epoch;
    }
    bool pass = frozen_bad == 0 && prev >= first + 20;
    ESP_LOGI(TAG, "restart20 %s epochs %" PRIu32 "..%" PRIu32 " moved_while_stopped=%" PRIu32,
             pass ? "PASS" : "FAIL", first, prev, frozen_bad);
}

/* Which words of the RAM duet reserves for the ROM does the ROM really write when core 1
 * starts? (0x3FCEB710..0x3FCED710 APP-CPU stack, ..0x3FCEEE34 ROM .bss/.data that IDF
 * would give to the heap; port/esp32s3/duet_esp_priv.h.) Reserved by duet, so ours to
 * fill here. A report, not a check: the model runs the real ROM code, not real timing. */
#define ROM_APP_LO  0x3FCEB710u
#define ROM_APP_MID 0x3FCED710u
#define ROM_APP_HI  0x3FCEEE34u
#define FILL        0xA5C3E10Fu

static void rom_ram_fill(void)
{
    for (uint32_t a = ROM_APP_LO; a < ROM_APP_HI; a += 4)
        *(volatile uint32_t *)a = FILL ^ a;
}

static void rom_ram_count(uint32_t *stack, uint32_t *bss, uint32_t *lo_addr, uint32_t *hi_addr)
{
    *stack = *bss = *hi_addr = 0;
    *lo_addr = 0;
    for (uint32_t a = ROM_APP_LO; a < ROM_APP_HI; a += 4) {
        if (*(volatile uint32_t *)a == (FILL ^ a))
            continue;
        if (a < ROM_APP_MID)
            (*stack)++;
        else
            (*bss)++;
        if (*lo_addr == 0)
            *lo_addr = a;
        *hi_addr = a;
    }
}

/* ---- core 0 reset and panic while core 1 runs (slot A holds "counter") ----------------
 * Phases across core-0 resets, in NVS: 0 start core 1, then esp_restart(); 1 back,
 * check, then a store to address 0 (a real panic, CONFIG_ESP_SYSTEM_PANIC=print+reboot);
 * 2 back, check, done. Each return checks, before duet touches core 1 again, that core
 * 1 is not running (its heartbeat word in the shared area stands still: the
 * esp_restart_noos wrap stopped it; unicore ESP-IDF resets only core 0), then that the
 * confirmed program of slot A runs again in a new epoch. */
#define SHM_CTRL                                                                           \
    ((volatile duet_shm_ctrl_t *)(CONFIG_DUET_WINDOW_START + CONFIG_DUET_WINDOW_SIZE -     \
                                  CONFIG_DUET_SHM_SIZE))

static uint32_t phase_get(void)
{
    nvs_handle_t h;
    uint32_t v = 0;
    if (nvs_open("tt", NVS_READONLY, &h) == ESP_OK) {
        nvs_get_u32(h, "phase", &v);
        nvs_close(h);
    }
    return v;
}

static void phase_set(uint32_t v)
{
    nvs_handle_t h;
    ESP_ERROR_CHECK(nvs_open("tt", NVS_READWRITE, &h));
    ESP_ERROR_CHECK(nvs_set_u32(h, "phase", v));
    ESP_ERROR_CHECK(nvs_commit(h));
    nvs_close(h);
}

/* Before duet_esp_start: does anything still move core 1's heartbeat? */
static void check_core1_quiet(const char *after)
{
    uint32_t a = SHM_CTRL->sc_heartbeat;
    vTaskDelay(pdMS_TO_TICKS(500)); /* the counter beats every 100 ms */
    uint32_t b = SHM_CTRL->sc_heartbeat;
    ESP_LOGI(TAG, "core1-stopped-by-%s %s heartbeat %" PRIu32 " -> %" PRIu32 " over 500 ms", after,
             a == b ? "PASS" : "FAIL", a, b);
}

static bool wait_beating(uint32_t after_epoch, duet_sup_status_t *st)
{
    for (int t = 0; t < 500; t++) {
        if (duet_esp_status(st) == DUET_OK && st->state == DUET_SUP_RUNNING &&
            st->epoch > after_epoch && st->heartbeat >= 3)
            return true;
        vTaskDelay(pdMS_TO_TICKS(10));
    }
    return false;
}

static void reset_suite(uint32_t phase)
{
    duet_sup_status_t st;
    bool ok = wait_beating(0, &st);
    bool confirmed = ok && st.active_slot == 0 && st.slots.sr_status[0] == DUET_SLOT_CONFIRMED;
    if (phase > 0)
        ESP_LOGI(TAG, "back-after-%s %s slot %c epoch %" PRIu32 " heartbeat %" PRIu32 " %s",
                 phase == 1 ? "restart" : "panic", confirmed ? "PASS" : "FAIL",
                 'A' + st.active_slot, st.epoch, st.heartbeat, duet_sup_state_name(st.state));
    if (!ok || phase >= 2) {
        phase_set(0);
        ESP_LOGI(TAG, "done");
        return;
    }
    phase_set(phase + 1);
    if (phase == 0) {
        ESP_LOGI(TAG, "esp_restart with core 1 running (epoch %" PRIu32 ")", st.epoch);
        esp_restart();
    }
    ESP_LOGI(TAG, "panic with core 1 running (epoch %" PRIu32 ")", st.epoch);
    *(volatile uint32_t *)0 = 0; /* StoreProhibited on core 0 */
}

void app_main(void)
{
    ESP_ERROR_CHECK(nvs_flash_init());
    ESP_LOGI(TAG, "boot");
    uint32_t phase = phase_get();
    if (phase > 0)
        check_core1_quiet(phase == 1 ? "restart" : "panic");
    uint32_t st0, bss0, lo0, hi0, st1, bss1, lo1, hi1;
    rom_ram_fill();
    vTaskDelay(pdMS_TO_TICKS(100)); /* core 0 alone: the baseline */
    rom_ram_count(&st0, &bss0, &lo0, &hi0);
    (void)lo0; /* only the counts of the baseline are reported */
    (void)hi0;
    rom_ram_fill();
    duet_err_t e = duet_esp_start(NULL);
    duet_sup_status_t st;
    if (e != DUET_OK) {
        ESP_LOGI(TAG, "start-refused %s", duet_err_str(e));
        for (int n = 1; n <= 6; n++) {
            vTaskDelay(pdMS_TO_TICKS(500));
            duet_esp_status(&st);
            ESP_LOGI(TAG, "alive %d state=%s", n, duet_sup_state_name(st.state));
        }
        ESP_LOGI(TAG, "done");
        return;
    }
    duet_esp_status(&st);
    if (strcmp(st.slot_name[0], "counter") == 0) {
        reset_suite(phase);
        return;
    }
    if (!wait_running(0, 5000, &st)) {
        ESP_LOGI(TAG, "running FAIL state %s", duet_sup_state_name(st.state));
        ESP_LOGI(TAG, "done");
        return;
    }
    ESP_LOGI(TAG, "running PASS epoch=%" PRIu32, st.epoch);
    check_core1_irq();
    check_flash_writes();
    check_restart20();
    rom_ram_count(&st1, &bss1, &lo1, &hi1);
    ESP_LOGI(TAG,
             "rom-ram INFO after 21 starts of core 1: app-stack words written %" PRIu32
             ", ROM .bss words written %" PRIu32 " (0x%08" PRIx32 "..0x%08" PRIx32
             "); core 0 alone: %" PRIu32 " / %" PRIu32,
             st1, bss1, lo1, hi1, st0, bss0);
    check_core1_irq(); /* interrupts still right after 20 restarts */
    ESP_LOGI(TAG, "done");
}
