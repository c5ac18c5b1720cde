/*
 * duet_esp_core1.c - start, stop and load core 1 (the APP CPU) of the ESP32-S3.
 *
 * Registers (esp-idf v5.3: soc/esp32s3/include/soc/system_reg.h; v5.4/v5.5:
 * soc/esp32s3/register/soc/system_reg.h; identical values):
 *   SYSTEM_CORE_1_CONTROL_0_REG (0x600C0000): bit 0 RUNSTALL, bit 1 CLKGATE_EN,
 *                                             bit 2 RESETING (reset value 1)
 *   SYSTEM_CORE_1_CONTROL_1_REG (0x600C0004): boot address the ROM of core 1 polls
 * ROM: ets_set_appcpu_boot_addr (esp32s3.rom.ld: 0x40000720; esp32s3/rom/ets_sys.h).
 * IDF: esp_cpu_unstall (esp_hw_support/include/esp_cpu.h; clears the RTC_CNTL software
 * stall of core 1, hal/esp32s3/include/hal/cpu_utility_ll.h).
 *
 *   CORE 0 (this file)                              CORE 1
 *   stop:  RESETING=1, RUNSTALL=1, boot addr=0      held in reset
 *   load:  32-bit stores via the IRAM alias (code),
 *          DRAM alias (data); memw
 *   start: boot addr=entry; memw; esp_cpu_unstall;
 *          CLKGATE_EN=1; RUNSTALL=0; RESETING 1->0  ROM reset path, reads boot addr,
 *                                                   calls entry (windowed call, facts §5.2)
 *
 * This is IDF's start_other_core() order (esp_system/port/cpu_start.c) with the boot
 * address written first (esp-hal/NuttX order, facts §5.1), and the stop is the reset-
 * then-stall order of esp_restart_noos() (esp_system/port/soc/esp32s3/system_internal.c:
 * reset first, in case core 1 is inside S32C1I). The clock gate is never cleared
 * (SOC_APPCPU_HAS_CLOCK_GATING_BUG, facts §5.1).
 *
 * XIP programs (duet_esp_xip.c, duet_esp_flash_guard.c): duet_port_core1_map maps the
 * slot before start; start arms the flash lockout; stop disarms it and unmaps.
 *
 * Restart/panic of core 0: IDF resets only the PRO CPU in unicore builds, so core 1 would
 * keep running over RAM the bootloader reloads (facts §7). A shutdown handler and a
 * --wrap of esp_restart_noos (esp/component.cmake) run duet_esp_core1_halt_regs() first.
 * The halt path and everything it calls live in IRAM (IRAM_ATTR + esp/linker.lf.in) and
 * take no locks: it runs from the panic handler with the cache possibly disabled.
 */
#include <stdint.h>
#include <string.h>

#include "esp_attr.h"
#include "esp_cpu.h"
#include "esp_log.h"
#include "esp_system.h"
#include "esp32s3/rom/ets_sys.h"
#include "soc/soc.h"
#include "soc/system_reg.h"
#if CONFIG_PM_ENABLE
#include "esp_pm.h"
#endif

#include "duet/crypto.h"
#include "duet/port.h"
#include "duet_esp_priv.h"

#define IRAM_LO (DUET_ESP_WIN_START + DUET_ESP_I_D_OFFSET)
#define IRAM_HI (IRAM_LO + DUET_ESP_PROG_SIZE)
#define DRAM_LO DUET_ESP_WIN_START
#define DRAM_HI (DUET_ESP_WIN_START + DUET_ESP_PROG_SIZE)

static bool s_inited;
static bool s_running;
#if CONFIG_PM_ENABLE
static esp_pm_lock_handle_t s_pm_no_ls;
static esp_pm_lock_handle_t s_pm_freq;
static bool s_pm_held;
#endif

static struct {
    const uint8_t *image;
    size_t len;
    duet_img_info_t info;
} s_linked;

void duet_esp_core1_halt_regs(void);
void __real_esp_restart_noos(void) __attribute__((noreturn));
void __wrap_esp_restart_noos(void) __attribute__((noreturn));

static inline void barrier_memw(void)
{
#if defined(__XTENSA__)
    __asm__ __volatile__("memw" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

void IRAM_ATTR duet_esp_core1_halt_regs(void)
{
    REG_SET_BIT(SYSTEM_CORE_1_CONTROL_0_REG, SYSTEM_CONTROL_CORE_1_RESETING);
    REG_SET_BIT(SYSTEM_CORE_1_CONTROL_0_REG, SYSTEM_CONTROL_CORE_1_RUNSTALL);
    /* "Clear entry point for APP CPU" as esp_restart_noos does in dual-core builds:
     * whatever releases core 1 next finds no stale entry and waits in the ROM. */
    REG_WRITE(SYSTEM_CORE_1_CONTROL_1_REG, 0);
    barrier_memw();
}

void IRAM_ATTR __wrap_esp_restart_noos(void)
{
    duet_esp_core1_halt_regs();
    __real_esp_restart_noos();
}

static void shutdown_handler(void)
{
    duet_esp_core1_halt_regs();
}

duet_err_t duet_esp_core1_init(void)
{
    if (s_inited)
        return DUET_OK;
    duet_esp_core1_halt_regs(); /* known state: IDF left it out of reset but stalled */
    esp_err_t r = esp_register_shutdown_handler(shutdown_handler);
    if (r != ESP_OK && r != ESP_ERR_INVALID_STATE) { /* INVALID_STATE: already registered */
        ESP_LOGE(DUET_ESP_TAG, "esp_register_shutdown_handler: %s", esp_err_to_name(r));
        return DUET_ERR_NOMEM;
    }
#if CONFIG_PM_ENABLE
    if (esp_pm_lock_create(ESP_PM_NO_LIGHT_SLEEP, 0, "duet_core1", &s_pm_no_ls) != ESP_OK)
        return DUET_ERR_NOMEM;
#if CONFIG_DUET_PM_CPU_FREQ_MAX
    if (esp_pm_lock_create(ESP_PM_CPU_FREQ_MAX, 0, "duet_core1_freq", &s_pm_freq) != ESP_OK)
        return DUET_ERR_NOMEM;
#endif
#endif
    s_inited = true;
    return DUET_OK;
}

static void pm_hold(bool hold)
{
#if CONFIG_PM_ENABLE
    if (hold == s_pm_held)
        return;
    /* Errors ignored on purpose: the locks were created in init, acquire/release of a
     * valid lock only fails for invalid handles. */
    if (hold) {
        (void)esp_pm_lock_acquire(s_pm_no_ls);
        if (s_pm_freq != NULL)
            (void)esp_pm_lock_acquire(s_pm_freq);
    } else {
        if (s_pm_freq != NULL)
            (void)esp_pm_lock_release(s_pm_freq);
        (void)esp_pm_lock_release(s_pm_no_ls);
    }
    s_pm_held = hold;
#else
    (void)hold;
#endif
}

duet_err_t duet_port_core1_stop(void)
{
    duet_esp_core1_halt_regs();
    s_running = false;
    duet_esp_flash_guard_arm(false); /* nothing to park any more */
    duet_esp_xip_unmap();            /* no-op for RAM programs */
    pm_hold(false);
    return DUET_OK;
}

duet_err_t duet_port_core1_poll(void)
{
    /* Core 1 state is in the control block (crash record, heartbeat); the registers say
     * nothing reliable about a running program (facts addendum). */
    return s_running ? DUET_OK : DUET_ERR_STATE;
}

/* ---- loading ------------------------------------------------------------------- */

static bool in(uint32_t lo, uint32_t hi, uint32_t addr, size_t len)
{
    return addr >= lo && addr <= hi && len <= (size_t)(hi - addr);
}

/* IRAM alias: only aligned 32-bit accesses (memory-types.rst; a byte store raises
 * LoadStoreError), so unaligned edges are read-modify-write of whole words. */
static void iram_put(uint32_t addr, const uint8_t *src, size_t len)
{
    while (len > 0) {
        uint32_t base = addr & ~3u;
        uint32_t off = addr - base;
        size_t n = 4u - off < len ? 4u - off : len;
        volatile uint32_t *w = (volatile uint32_t *)(uintptr_t)base;
        uint8_t b[4] = { 0, 0, 0, 0 };
        uint32_t v;
        if (off != 0 || n != 4) {
            v = *w; /* partial word: keep the bytes around it */
            memcpy(b, &v, 4);
        }
        if (src != NULL)
            memcpy(b + off, src, n);
        else
            memset(b + off, 0, n);
        memcpy(&v, b, 4);
        *w = v;
        addr += (uint32_t)n;
        if (src != NULL)
            src += n;
        len -= n;
    }
}

static duet_err_t put(uint32_t addr, const void *src, size_t len)
{
    if (s_running)
        return DUET_ERR_STATE; /* core 1 must be stopped while its memory changes */
    if (len == 0)
        return DUET_OK;
    if (in(IRAM_LO, IRAM_HI, addr, len)) {
        iram_put(addr, src, len);
    } else if (in(DRAM_LO, DRAM_HI, addr, len)) {
        if (src != NULL)
            memcpy((void *)(uintptr_t)addr, src, len);
        else
            memset((void *)(uintptr_t)addr, 0, len);
    } else {
        ESP_LOGE(DUET_ESP_TAG, "refused core-1 write 0x%08x+%u: outside the program window",
                 (unsigned)addr, (unsigned)len);
        return DUET_ERR_IMG_SEG_OUTSIDE;
    }
    barrier_memw();
    return DUET_OK;
}

duet_err_t duet_port_core1_write(uint32_t addr, const void *src, size_t len)
{
    if (src == NULL && len != 0)
        return DUET_ERR_INVAL;
    return put(addr, src, len);
}

duet_err_t duet_port_core1_zero(uint32_t addr, size_t len)
{
    return put(addr, NULL, len);
}

void duet_esp_core1_set_linked(const uint8_t *image, size_t len, const duet_img_info_t *info)
{
    s_linked.image = image;
    s_linked.len = image != NULL ? len : 0;
    if (image != NULL && info != NULL)
        s_linked.info = *info;
}

/* Linked mode: the portable supervisor re-enters the same entry on every (re)start
 * without loading (duet_sup_start_linked); the image lives in the firmware's flash
 * rodata, so reload every segment here to give each run fresh .data/.bss. The bytes are
 * hashed again first, like core/loader.c does for slots. */
static duet_err_t linked_reload(const duet_img_info_t *img)
{
    const duet_img_info_t *li = &s_linked.info;
    if (memcmp(img->sha256, li->sha256, sizeof(li->sha256)) != 0)
        return DUET_ERR_STATE;
    if (li->total_size > s_linked.len || li->payload_offset > li->total_size)
        return DUET_ERR_IMG_TRUNCATED;
    uint8_t digest[DUET_CRYPTO_SHA256_LEN]; /* the payload, as its signed digest says */
    DUET_TRY(duet_crypto_sha256(s_linked.image + li->payload_offset,
                                li->total_size - li->payload_offset, digest));
    if (memcmp(digest, li->payload_sha256, sizeof(digest)) != 0)
        return DUET_ERR_IMG_BAD_HASH;
    for (unsigned i = 0; i < li->hdr.ih_seg_count && i < DUET_IMG_MAX_SEGS; i++) {
        const duet_img_seg_t *g = &li->segs[i];
        switch (g->is_kind) {
        case DUET_SEG_BSS:
            DUET_TRY(duet_port_core1_zero(g->is_addr, g->is_size));
            break;
        case DUET_SEG_CODE:
        case DUET_SEG_RODATA:
        case DUET_SEG_DATA: {
            uint32_t at = li->payload_offset + g->is_offset;
            if (at < li->payload_offset || at > li->total_size || g->is_size > li->total_size - at)
                return DUET_ERR_IMG_SEG_FILE_RANGE;
            DUET_TRY(duet_port_core1_write(g->is_addr, s_linked.image + at, g->is_size));
            break;
        }
        default:
            return DUET_ERR_UNSUPPORTED; /* mapped (XIP) segments: a linked image has no slot to map */
        }
    }
    return DUET_OK;
}

/* ---- release --------------------------------------------------------------------- */

duet_err_t duet_port_core1_start(const duet_img_info_t *img)
{
    if (img == NULL)
        return DUET_ERR_INVAL;
    if (!s_inited)
        return DUET_ERR_STATE;
    bool xip = (img->hdr.ih_flags & DUET_IMG_F_XIP) != 0;
    uint32_t entry = img->hdr.ih_entry;
    bool entry_ok = in(IRAM_LO, IRAM_HI, entry, 4) ||
                    (xip && in(img->hdr.ih_map_addr, img->hdr.ih_map_addr + img->hdr.ih_map_size, entry, 4));
    if (!entry_ok || (entry & 3u) != 0) {
        ESP_LOGE(DUET_ESP_TAG, "entry 0x%08x is not in the window's IRAM alias%s", (unsigned)entry,
                 xip ? " or the mapped code" : "");
        return DUET_ERR_IMG_BAD_ENTRY;
    }
    /* The program was linked against a shared-memory address: it must be ours. */
    if ((img->hdr.ih_shm_base != 0 && img->hdr.ih_shm_base != DUET_ESP_SHM_START) ||
        img->hdr.ih_shm_size > DUET_ESP_SHM_SIZE) {
        ESP_LOGE(DUET_ESP_TAG, "image expects shared memory at 0x%08x (%u B); this firmware has it at 0x%08x (%u B): "
                 "rebuild the program for this window (CONFIG_DUET_WINDOW_*, CONFIG_DUET_SHM_SIZE)",
                 (unsigned)img->hdr.ih_shm_base, (unsigned)img->hdr.ih_shm_size, (unsigned)DUET_ESP_SHM_START,
                 (unsigned)DUET_ESP_SHM_SIZE);
        return DUET_ERR_SHM_BAD_LAYOUT;
    }
    if (s_linked.image != NULL)
        DUET_TRY(linked_reload(img));
    if (xip && !duet_esp_xip_mapped(img)) { /* duet_port_core1_map comes first */
        ESP_LOGE(DUET_ESP_TAG, "XIP image started without its mapping (duet_port_core1_map)");
        return DUET_ERR_STATE;
    }

    pm_hold(true);
    duet_esp_flash_guard_arm(xip); /* from here on every flash write parks core 1 */
    ets_set_appcpu_boot_addr(entry); /* SYSTEM_CORE_1_CONTROL_1_REG, before release */
    barrier_memw();
    esp_cpu_unstall(1);
    REG_SET_BIT(SYSTEM_CORE_1_CONTROL_0_REG, SYSTEM_CONTROL_CORE_1_CLKGATE_EN);
    REG_CLR_BIT(SYSTEM_CORE_1_CONTROL_0_REG, SYSTEM_CONTROL_CORE_1_RUNSTALL);
    REG_SET_BIT(SYSTEM_CORE_1_CONTROL_0_REG, SYSTEM_CONTROL_CORE_1_RESETING);
    REG_CLR_BIT(SYSTEM_CORE_1_CONTROL_0_REG, SYSTEM_CONTROL_CORE_1_RESETING);
    s_running = true;
    return DUET_OK;
}
