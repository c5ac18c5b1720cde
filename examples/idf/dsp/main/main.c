/*
 * examples/idf/dsp - the dsp pipeline on the chip: the dsp program (examples/dsp) runs on
 * core 1 from slot A; core 0 declares the "audio" channel, feeds DSP_TT_BLOCKS blocks of
 * the generated signal (dsp_signal.c, the same samples as on the PC), computes the
 * expected answer of each with the plain reference (dsp_ref.c) and compares every
 * answer bit for bit. Up to INFLIGHT blocks are in flight; core 0 polls the ring once per
 * FreeRTOS tick when there is nothing to do (the supervisor task owns the doorbell).
 * On silicon an I2S driver would feed the same ring; the model has no I2S, so the
 * signal is generated.
 *
 * Result (scripts/target-sc-dsp.sh reads it):
 *   I (..) TT: dsp-pipeline PASS blocks=N mismatched=0 dropped=0 c1_min_block_ticks=T
 *   I (..) TT: done
 * c1_min_block_ticks: the smallest CCOUNT difference core 1 measured around the kernel
 * for one 64-frame block (dm_cycles).
 */
#include <inttypes.h>
#include <string.h>

#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "dsp_proto.h"
#include "dsp_ref.h"
#include "dsp_signal.h"
#include "duet/port.h"
#include "duet/ring.h"
#include "duet_esp.h"

#define DSP_TT_BLOCKS 300u
#define INFLIGHT      8u
#define SAMPLES       (DSP_BLOCK_FRAMES * DSP_CHANNELS)

static const char *TAG = "TT";

static int16_t s_want[INFLIGHT][SAMPLES];
static uint32_t s_msg[(DSP_MSG_BYTES(DSP_BLOCK_FRAMES) + 3) / 4];
static dsp_ref_t s_ref;

static bool running(void)
{
    duet_sup_status_t st;
    return duet_esp_status(&st) == DUET_OK && st.state == DUET_SUP_RUNNING && st.heartbeat > 0;
}

static duet_err_t attach(duet_ring_t *tx, duet_ring_t *rx)
{
    size_t size = 0;
    void *shm = duet_port_shm(&size);
    uint32_t epoch = __atomic_load_n(&duet_esp_ctrl()->sc_epoch, __ATOMIC_ACQUIRE);
    void *r = NULL;
    size_t fp = 0;
    DUET_TRY(duet_shm_chan_ring(shm, size, DSP_CHANNEL, 1, &r, &fp));
    DUET_TRY(duet_ring_attach_producer(tx, r, fp, epoch));
    DUET_TRY(duet_shm_chan_ring(shm, size, DSP_CHANNEL, 0, &r, &fp));
    return duet_ring_attach_consumer(rx, r, fp, epoch);
}

void app_main(void)
{
    duet_esp_config_t cfg;
    duet_esp_config_default(&cfg);
    cfg.sup.shm.chan_count = 1;
    cfg.sup.shm.chans[0].name = DSP_CHANNEL;
    cfg.sup.shm.chans[0].ring_size = 4096;
    duet_err_t e = duet_esp_start(&cfg);
    for (int i = 0; e == DUET_OK && !running() && i < 500; i++)
        vTaskDelay(1);
    duet_ring_t tx, rx;
    if (e == DUET_OK)
        e = running() ? attach(&tx, &rx) : DUET_ERR_TIMEOUT;
    if (e != DUET_OK) {
        ESP_LOGI(TAG, "dsp-pipeline FAIL core 1 not running: %s", duet_err_str(e));
        ESP_LOGI(TAG, "done");
        return;
    }
    dsp_signal_t g;
    dsp_signal_init(&g, DSP_SIGNAL_SEED);
    dsp_ref_reset(&s_ref);
    uint32_t sent = 0, done = 0, mismatched = 0, dropped = 0, min_ticks = UINT32_MAX, idle = 0;
    while (done + dropped < DSP_TT_BLOCKS && idle < 300) {
        bool busy = false;
        /* send while there is room in flight */
        while (sent < DSP_TT_BLOCKS && sent - done - dropped < INFLIGHT) {
            dsp_msg_hdr_t *h = (dsp_msg_hdr_t *)s_msg;
            int16_t *in = (int16_t *)(h + 1);
            dsp_signal_block(&g, in, DSP_BLOCK_FRAMES);
            h->dm_seq = sent;
            h->dm_frames = DSP_BLOCK_FRAMES;
            h->dm_flags = sent == 0 ? DSP_MSG_RESET : 0;
            h->dm_cycles = 0;
            if (duet_ring_send(&tx, s_msg, DSP_MSG_BYTES(DSP_BLOCK_FRAMES)) != DUET_OK)
                break; /* ring full: the block is generated again next time (new samples) */
            dsp_ref_block(&s_ref, in, s_want[sent % INFLIGHT], DSP_BLOCK_FRAMES);
            duet_port_doorbell_ring();
            sent++;
            busy = true;
        }
        size_t len = 0;
        while (duet_ring_recv(&rx, s_msg, sizeof s_msg, &len) == DUET_OK) {
            const dsp_msg_hdr_t *h = (const dsp_msg_hdr_t *)s_msg;
            uint32_t next = done + dropped;
            if (len != DSP_MSG_BYTES(DSP_BLOCK_FRAMES) || h->dm_seq < next || h->dm_seq >= sent) {
                mismatched++;
                continue;
            }
            dropped += h->dm_seq - next; /* answered out of turn: the older ones were lost */
            if (memcmp(h + 1, s_want[h->dm_seq % INFLIGHT], sizeof s_want[0]) != 0)
                mismatched++;
            if (h->dm_cycles < min_ticks)
                min_ticks = h->dm_cycles;
            done++;
            busy = true;
        }
        idle = busy ? 0 : idle + 1; /* 300 idle ticks in a row: core 1 stopped answering */
        if (!busy)
            vTaskDelay(1);
    }
    bool ok = done == DSP_TT_BLOCKS && mismatched == 0 && dropped == 0;
    ESP_LOGI(TAG,
             "dsp-pipeline %s blocks=%" PRIu32 " mismatched=%" PRIu32 " dropped=%" PRIu32
             " c1_min_block_ticks=%" PRIu32 " samples_per_block=%u",
             ok ? "PASS" : "FAIL", done, mismatched, dropped, min_ticks, (unsigned)SAMPLES);
    ESP_LOGI(TAG, "done");
}
