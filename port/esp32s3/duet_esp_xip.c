/*
 * duet_esp_xip.c - execute-in-place programs on the ESP32-S3 (issue 10 item 2): map the
 * image's mapped part at the address it was linked for, open core 1's cache buses, hash
 * the mapped view before core 1 starts; unmap and shut the buses on stop and before the
 * mapped slot is rewritten.
 *
 * Mapping: esp_mmu_map() (esp_mm/include/esp_mmu_map.h, public and the same in v5.3 and
 * v5.5: no version guard needed) takes no virtual address; it places a block first-fit in
 * the linear space after the app's IROM/DROM (esp_mm/esp_mmu_map.c). The firmware's XIP
 * window (CONFIG_DUET_XIP_VADDR/SIZE) sits far above that, so the block is placed by
 * asking for it where first-fit will put it: a probe mapping finds the first free
 * address P; if P is below the linked address A, placeholder blocks of A - P bytes in
 * all (pages of the flash chip, never read; map_at says how they are chosen) fill the
 * gap, the image is mapped (lands at A), the placeholders are unmapped again. Any other
 * outcome means the range is taken (PSRAM, another mapping, a hole too small): refused
 * with both addresses logged. esp_mm knows the block, so later esp_partition_mmap /
 * spi_flash_mmap calls never reuse it.
 *
 * One MMU table serves both buses (facts §3.1): ibus A + x and dbus A - 0x42000000 +
 * 0x3C000000 + x are the same flash byte, so one block serves code (IBUS) and .rodata
 * (DBUS). Core 1's bus gates (EXTMEM_ICACHE_CTRL1_REG / EXTMEM_DCACHE_CTRL1_REG SHUT
 * bits, reset 1) stay shut in unicore builds (facts §3.4); cache_ll_l1_enable_bus(1, ..)
 * opens them with the cache suspended, as cpu_start.c do_multicore_settings() does. The
 * gate is per bus, not per range: core 1 can then read every mapped flash page; the MMU
 * table decides what is there.
 */
#include "sdkconfig.h"

#include <stdint.h>
#include <string.h>

#include "esp_attr.h"
#include "esp_log.h"
#include "esp_partition.h"

#include "duet/crypto.h"
#include "duet/port.h"
#include "duet_esp_priv.h"

#if CONFIG_DUET_LOAD_XIP

#include "esp_flash.h"
#include "esp_mmu_map.h"
#include "esp_private/cache_utils.h"
#include "hal/cache_ll.h"
#include "hal/mmu_types.h"

#define PAGE DUET_XIP_PAGE
#define IBUS_LO                                                                                    \
    0x42000000u             /* soc/esp32s3/include/soc/ext_mem_defs.h SOC_IRAM0_CACHE_ADDRESS_LOW  \
                             */
#define DBUS_LO 0x3C000000u /* SOC_DRAM0_CACHE_ADDRESS_LOW */
#define XIP_LO  ((uint32_t)CONFIG_DUET_XIP_VADDR)
#define XIP_HI  (XIP_LO + (uint32_t)CONFIG_DUET_XIP_SIZE)
#define CAPS    (MMU_MEM_CAP_EXEC | MMU_MEM_CAP_READ | MMU_MEM_CAP_32BIT)

static void *s_map;     /* esp_mm block (IBUS address), NULL = nothing mapped */
static uint32_t s_size; /* page-rounded bytes */
static int s_slot = -1; /* area the block maps */

static uint32_t round_up(uint32_t v)
{
    return (v + PAGE - 1u) & ~(PAGE - 1u);
}

/* Runs with the cache suspended: IRAM and never inlined into its flash-resident caller
 * (GCC did inline it before noinline), and the bus helpers are always_inline.
 * Data bus: cache_ll_l1_enable_bus(1, DBUS0) clears EXTMEM_DCACHE_CTRL1 bit 0, which
 * extmem_reg.h names SHUT_CORE0_BUS (and (0, ..) clears bit 1, "CORE1"): the header and
 * cache_ll disagree, and unicore IDF only works on silicon if cache_ll is right (its
 * core 0 reads .rodata through the bit cache_ll clears). duet follows cache_ll, as
 * do_multicore_settings() does for core 1; a board confirms it (docs/esp32s3.md). */
static void IRAM_ATTR __attribute__((noinline)) set_buses(bool open, cache_bus_mask_t m)
{
    spi_flash_disable_interrupts_caches_and_other_cpu();
    if (open)
        cache_ll_l1_enable_bus(1, m);
    else
        cache_ll_l1_disable_bus(1, m);
    spi_flash_enable_interrupts_caches_and_other_cpu();
}

static void buses(bool open, uint32_t ibus, uint32_t size)
{
    uint32_t dbus = ibus - IBUS_LO + DBUS_LO;
    set_buses(open, (cache_bus_mask_t)(cache_ll_l1_get_bus(0, ibus, size) |
                                       cache_ll_l1_get_bus(0, dbus, size)));
}

/* Map [paddr, paddr + size) so that it starts at 'want'. esp_mm places first-fit, so the
 * gap between the first free address and 'want' is filled with placeholder blocks first.
 * They map real pages of the flash chip (the model faults on pages past its end), and
 * esp_mmu_map would hand back an existing block instead of mapping when the new physical
 * range lies inside one (ENABLE_PADDR_CHECK, "enclosed"): so their starts go strictly
 * down from the chip's top page (no later placeholder lies inside an earlier one, whatever
 * the lengths) and stay above the program's first page (none contains the program's
 * range). Up to MAX_FILL blocks; all unmapped again once the program's block is placed. */
#define MAX_FILL 64
static duet_err_t map_at(uint32_t paddr, uint32_t size, uint32_t want)
{
    void *probe = NULL, *fill[MAX_FILL], *got = NULL;
    unsigned nfill = 0;
    uint32_t chip = 0;
    esp_err_t r = esp_flash_get_size(NULL, &chip);
    if (r == ESP_OK)
        r = esp_mmu_map(paddr, PAGE, MMU_TARGET_FLASH0, CAPS, ESP_MMU_MMAP_FLAG_PADDR_SHARED,
                        &probe);
    if (r != ESP_OK) {
        ESP_LOGE(DUET_ESP_TAG, "XIP: no free virtual page (esp_mmu_map: %s)", esp_err_to_name(r));
        return DUET_ERR_BUSY;
    }
    uint32_t first = (uint32_t)(uintptr_t)probe;
    esp_mmu_unmap(probe);
    uint32_t left = first < want ? (want - first) / PAGE : 0; /* pages to fill */
    for (uint32_t top = chip / PAGE; left > 0 && nfill < MAX_FILL && top > paddr / PAGE + 1u;) {
        uint32_t start = top - 1u; /* next start page, strictly below the last one */
        uint32_t len = chip / PAGE - start < left ? chip / PAGE - start : left;
        void *v = NULL;
        r = esp_mmu_map(start * PAGE, len * PAGE, MMU_TARGET_FLASH0, CAPS,
                        ESP_MMU_MMAP_FLAG_PADDR_SHARED, &v);
        if (r == ESP_OK) {
            fill[nfill++] = v;
            left -= len;
        }
        top = start;
    }
    if (left == 0)
        r = esp_mmu_map(paddr, size, MMU_TARGET_FLASH0, CAPS, ESP_MMU_MMAP_FLAG_PADDR_SHARED, &got);
    while (nfill > 0)
        esp_mmu_unmap(fill[--nfill]);
    if (left == 0 && r == ESP_OK && (uint32_t)(uintptr_t)got == want) {
        s_map = got;
        return DUET_OK;
    }
    if (left == 0 && r == ESP_OK)
        esp_mmu_unmap(got);
    ESP_LOGE(DUET_ESP_TAG,
             "XIP: cannot map the program at 0x%08x (%u KiB): that range is taken (first free "
             "virtual address 0x%08x, %u placeholder pages short, esp_mmu_map %s, placed at "
             "0x%08x). Keep PSRAM and other mappings below CONFIG_DUET_XIP_VADDR",
             (unsigned)want, (unsigned)(size / 1024u), (unsigned)first, (unsigned)left,
             esp_err_to_name(r), r == ESP_OK && left == 0 ? (unsigned)(uintptr_t)got : 0u);
    return DUET_ERR_BUSY;
}

/* SHA-256 of the logical payload, its mapped part read through the DBUS view: what
 * core 1 will execute and read, not what the flash read path returned. */
static duet_err_t hash_view(const duet_img_info_t *img, const esp_partition_t *p, uint32_t dbus)
{
    const duet_img_hdr_t *h = &img->hdr;
    uint8_t buf[256], digest[DUET_CRYPTO_SHA256_LEN];
    duet_sha256_t sh;
    DUET_TRY(duet_crypto_sha256_init(&sh));
    duet_err_t e = DUET_OK;
    uint32_t pos = img->payload_offset, end = pos + duet_img_map_start(h);
    while (e == DUET_OK && pos < end) {
        uint32_t n = end - pos > sizeof(buf) ? (uint32_t)sizeof(buf) : end - pos;
        e = esp_partition_read(p, pos, buf, n) == ESP_OK ? DUET_OK : DUET_ERR_IO;
        if (e == DUET_OK)
            e = duet_crypto_sha256_update(&sh, buf, n);
        pos += n;
    }
    if (e == DUET_OK)
        e = duet_crypto_sha256_update(&sh, (const void *)(uintptr_t)dbus, h->ih_map_size);
    if (e == DUET_OK)
        e = duet_crypto_sha256_finish(&sh, digest);
    duet_crypto_sha256_free(&sh);
    DUET_TRY(e);
    if (memcmp(digest, img->payload_sha256, sizeof(digest)) != 0) {
        ESP_LOGE(DUET_ESP_TAG,
                 "XIP: the mapped view at 0x%08x does not hash to the image's payload digest",
                 (unsigned)dbus);
        return DUET_ERR_IMG_BAD_HASH;
    }
    return DUET_OK;
}

duet_err_t duet_port_core1_map(duet_area_t slot, const duet_img_info_t *img)
{
    if (img == NULL || (slot != DUET_AREA_SLOT_A && slot != DUET_AREA_SLOT_B))
        return DUET_ERR_INVAL;
    const duet_img_hdr_t *h = &img->hdr;
    if (duet_port_core1_poll() == DUET_OK)
        return DUET_ERR_STATE; /* never remap under a running program */
    duet_esp_xip_unmap();
    const esp_partition_t *p = duet_esp_flash_part((int)slot);
    if (p == NULL)
        return DUET_ERR_NOT_FOUND;
    uint32_t want = h->ih_map_addr, size = round_up(h->ih_map_size);
    /* The verifier checked these against the same window (duet_port_xip_window); the
     * port does not start what it cannot map exactly. */
    if (h->ih_map_size == 0 || want % PAGE != 0 || h->ih_map_offset % PAGE != 0 || want < XIP_LO ||
        want > XIP_HI || size > XIP_HI - want) {
        ESP_LOGE(DUET_ESP_TAG,
                 "XIP: program mapped at 0x%08x+%u; this firmware maps XIP programs in "
                 "0x%08x..0x%08x (CONFIG_DUET_XIP_VADDR/SIZE): relink it for this firmware",
                 (unsigned)want, (unsigned)h->ih_map_size, (unsigned)XIP_LO, (unsigned)XIP_HI);
        return DUET_ERR_IMG_XIP_RANGE;
    }
    if (p->address % PAGE != 0 || h->ih_map_offset > p->size || size > p->size - h->ih_map_offset) {
        ESP_LOGE(DUET_ESP_TAG,
                 "XIP: partition '%s' at 0x%08x (%u B) cannot map 0x%08x+%u in 64 KiB pages",
                 p->label, (unsigned)p->address, (unsigned)p->size, (unsigned)h->ih_map_offset,
                 (unsigned)size);
        return DUET_ERR_IMG_XIP_SLOT;
    }
    DUET_TRY(map_at(p->address + h->ih_map_offset, size, want));
    s_size = size;
    s_slot = (int)slot;
    buses(true, want, size);
    duet_err_t e = hash_view(img, p, want - IBUS_LO + DBUS_LO);
    if (e != DUET_OK) {
        duet_esp_xip_unmap();
        return e;
    }
    ESP_LOGI(DUET_ESP_TAG,
             "XIP: slot %c +0x%08x mapped at 0x%08x / 0x%08x (%u KiB), core-1 cache buses open",
             'A' + slot, (unsigned)h->ih_map_offset, (unsigned)want,
             (unsigned)(want - IBUS_LO + DBUS_LO), (unsigned)(size / 1024u));
    return DUET_OK;
}

void duet_esp_xip_unmap(void)
{
    if (s_map == NULL)
        return;
    buses(false, (uint32_t)(uintptr_t)s_map, s_size);
    esp_mmu_unmap(s_map);
    s_map = NULL;
    s_slot = -1;
}

duet_err_t duet_esp_xip_before_write(int area)
{
    if (s_map == NULL || area != s_slot)
        return DUET_OK;
    if (duet_port_core1_poll() == DUET_OK) {
        ESP_LOGE(DUET_ESP_TAG, "XIP: refused to write slot %c while the program runs from it",
                 'A' + area);
        return DUET_ERR_STATE;
    }
    duet_esp_xip_unmap();
    return DUET_OK;
}

bool duet_esp_xip_mapped(const duet_img_info_t *img)
{
    return s_map != NULL && (uint32_t)(uintptr_t)s_map == img->hdr.ih_map_addr;
}

void duet_port_xip_window(duet_xip_window_t *w)
{
    w->ibus_base = XIP_LO;
    w->dbus_base = XIP_LO - IBUS_LO + DBUS_LO;
    w->size = (uint32_t)CONFIG_DUET_XIP_SIZE;
}

#else /* !CONFIG_DUET_LOAD_XIP */

duet_err_t duet_port_core1_map(duet_area_t slot, const duet_img_info_t *img)
{
    (void)slot;
    (void)img;
    ESP_LOGE(DUET_ESP_TAG,
             "XIP image refused: this firmware is built without CONFIG_DUET_LOAD_XIP");
    return DUET_ERR_IMG_XIP_DISABLED;
}

bool duet_esp_xip_mapped(const duet_img_info_t *img)
{
    (void)img;
    return false;
}

void duet_esp_xip_unmap(void)
{
}

duet_err_t duet_esp_xip_before_write(int area)
{
    (void)area;
    return DUET_OK;
}

void duet_port_xip_window(duet_xip_window_t *w)
{
    *w = (duet_xip_window_t){0};
}

#endif
