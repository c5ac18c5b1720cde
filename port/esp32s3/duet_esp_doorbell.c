/*
 * duet_esp_doorbell.c - cross-core doorbells between core 0 (IDF) and core 1 (duet).
 *
 * FROM_CPU_INTR0 is FreeRTOS' cross-core interrupt on core 0 in unicore builds
 * (esp_system/crosscore_int.c); 1..3 are free (INTR1: dual-core crosscore only;
 * INTR2/3: esp_ipc_isr, dual-core only) - facts §6. Kconfig picks one for each direction.
 *
 *   CORE 1                                    CORE 0
 *   write 1 to SYSTEM_CPU_INTR_FROM_CPU_<c0>  -> level interrupt (source ETS_FROM_CPU_INTR<c0>)
 *                                                doorbell_isr: write 0 (the source is
 *                                                level-type: it stays raised until cleared),
 *                                                give the semaphore the supervisor waits on
 *   core-1 ISR clears FROM_CPU_<c1>          <-  duet_port_doorbell_ring: write 1 to
 *                                                SYSTEM_CPU_INTR_FROM_CPU_<c1>
 *
 * Registers: soc/.../system_reg.h SYSTEM_CPU_INTR_FROM_CPU_n_REG = DR_REG_SYSTEM_BASE +
 * 0x30/0x34/0x38/0x3C, bit 0 (v5.3-v5.5). Sources: soc/esp32s3/include/soc/interrupts.h.
 * The ISR runs with the cache possibly disabled (ESP_INTR_FLAG_IRAM): IRAM_ATTR and
 * esp/linker.lf.in keep it and its constants in internal RAM; the FreeRTOS FromISR calls
 * are IRAM-resident in IDF's default configuration.
 */
#include <stdint.h>

#include "esp_attr.h"
#include "esp_intr_alloc.h"
#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "soc/interrupts.h"
#include "soc/soc.h"
#include "soc/system_reg.h"

#include "duet/port.h"
#include "duet_esp_priv.h"

#define FROM_CPU_REG(n)                                                                        \
    ((n) == 1 ? SYSTEM_CPU_INTR_FROM_CPU_1_REG                                                 \
              : (n) == 2 ? SYSTEM_CPU_INTR_FROM_CPU_2_REG : SYSTEM_CPU_INTR_FROM_CPU_3_REG)
#define FROM_CPU_SRC(n)                                                                        \
    ((n) == 1 ? ETS_FROM_CPU_INTR1_SOURCE : (n) == 2 ? ETS_FROM_CPU_INTR2_SOURCE : ETS_FROM_CPU_INTR3_SOURCE)

#define REG_TO_C0 FROM_CPU_REG(CONFIG_DUET_DOORBELL_TO_CORE0)
#define REG_TO_C1 FROM_CPU_REG(CONFIG_DUET_DOORBELL_TO_CORE1)

static SemaphoreHandle_t s_sem;
static intr_handle_t s_intr;
static volatile uint32_t s_rings; /* diagnostics */

static void IRAM_ATTR doorbell_isr(void *arg)
{
    (void)arg;
    REG_WRITE(REG_TO_C0, 0);
    s_rings = s_rings + 1;
    BaseType_t woken = pdFALSE;
    (void)xSemaphoreGiveFromISR(s_sem, &woken); /* already given = a pending wake: fine */
    if (woken == pdTRUE)
        portYIELD_FROM_ISR();
}

duet_err_t duet_esp_doorbell_init(void)
{
    if (s_intr != NULL)
        return DUET_OK;
    if (s_sem == NULL)
        s_sem = xSemaphoreCreateBinary();
    if (s_sem == NULL)
        return DUET_ERR_NOMEM;
    REG_WRITE(REG_TO_C0, 0);
    REG_WRITE(REG_TO_C1, 0);
    esp_err_t r = esp_intr_alloc(FROM_CPU_SRC(CONFIG_DUET_DOORBELL_TO_CORE0), ESP_INTR_FLAG_IRAM, doorbell_isr,
                                 NULL, &s_intr);
    if (r != ESP_OK) {
        ESP_LOGE(DUET_ESP_TAG, "esp_intr_alloc(FROM_CPU_INTR%d): %s", CONFIG_DUET_DOORBELL_TO_CORE0,
                 esp_err_to_name(r));
        s_intr = NULL;
        return DUET_ERR_BUSY;
    }
    return DUET_OK;
}

void IRAM_ATTR duet_port_doorbell_ring(void)
{
    REG_WRITE(REG_TO_C1, SYSTEM_CPU_INTR_FROM_CPU_1); /* bit 0, same for n = 1..3 */
}

duet_err_t duet_port_doorbell_wait(uint32_t timeout_us)
{
    if (s_sem == NULL)
        return DUET_ERR_STATE;
    uint64_t ticks = ((uint64_t)timeout_us * configTICK_RATE_HZ + 999999u) / 1000000u;
    if (ticks > portMAX_DELAY - 1)
        ticks = portMAX_DELAY - 1;
    return xSemaphoreTake(s_sem, (TickType_t)ticks) == pdTRUE ? DUET_OK : DUET_ERR_TIMEOUT;
}
