/*
 * duet_esp_flash.c - duet_port_flash_* on ESP-IDF partitions.
 *
 * Three partitions of application-defined type CONFIG_DUET_PART_TYPE (default 0x40),
 * found by type and subtype (esp/partitions_duet.csv): 0x00 slot A, 0x01 slot B,
 * 0x02 slot state. All access goes through the public esp_partition_* API
 * (esp_partition/include/esp_partition.h, v5.3-v5.5), which bounds-checks every call
 * against the partition and serialises flash access with the cache-disable protocol.
 * In RAM mode core 1 never touches flash or cache, so these writes are safe while it
 * runs (facts §4); an XIP program is parked around each of them (duet_esp_flash_guard.c),
 * and the slot it is mapped from is never rewritten under it (duet_esp_xip.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "esp_log.h"
#include "esp_partition.h"

#include "duet/port.h"
#include "duet_esp_priv.h"

static const esp_partition_t *s_part[DUET_AREA__COUNT];

static const char *const s_names[DUET_AREA__COUNT] = { "slot A (subtype 0x00)", "slot B (subtype 0x01)",
                                                      "slot state (subtype 0x02)" };

duet_err_t duet_esp_flash_init(void)
{
    duet_err_t e = DUET_OK;
    for (unsigned i = 0; i < DUET_AREA__COUNT; i++) {
        if (s_part[i] != NULL)
            continue;
        s_part[i] = esp_partition_find_first((esp_partition_type_t)CONFIG_DUET_PART_TYPE,
                                             (esp_partition_subtype_t)i, NULL);
        if (s_part[i] == NULL) {
            ESP_LOGE(DUET_ESP_TAG, "no partition of type 0x%02x for %s: add the lines of "
                     "esp/partitions_duet.csv to the partition table", (unsigned)CONFIG_DUET_PART_TYPE, s_names[i]);
            e = DUET_ERR_NOT_FOUND;
        } else if (s_part[i]->readonly) {
            ESP_LOGE(DUET_ESP_TAG, "partition '%s' is read-only", s_part[i]->label);
            s_part[i] = NULL;
            e = DUET_ERR_INVAL;
        }
    }
    return e;
}

const esp_partition_t *duet_esp_flash_part(int area)
{
    return area >= 0 && area < (int)DUET_AREA__COUNT ? s_part[area] : NULL;
}

uint32_t duet_esp_flash_slot_size(void)
{
    uint32_t a = s_part[DUET_AREA_SLOT_A] ? s_part[DUET_AREA_SLOT_A]->size : 0;
    uint32_t b = s_part[DUET_AREA_SLOT_B] ? s_part[DUET_AREA_SLOT_B]->size : 0;
    return a < b ? a : b;
}

static duet_err_t part(duet_area_t area, const esp_partition_t **p)
{
    if ((unsigned)area >= DUET_AREA__COUNT)
        return DUET_ERR_INVAL;
    if (s_part[area] == NULL)
        return DUET_ERR_NOT_FOUND;
    *p = s_part[area];
    return DUET_OK;
}

static duet_err_t range_ok(const esp_partition_t *p, uint32_t off, size_t len)
{
    if (off > p->size || len > p->size - off)
        return DUET_ERR_INVAL;
    return DUET_OK;
}

static duet_err_t map_err(esp_err_t r)
{
    switch (r) {
    case ESP_OK:
        return DUET_OK;
    case ESP_ERR_INVALID_ARG:
    case ESP_ERR_INVALID_SIZE:
        return DUET_ERR_INVAL;
    default:
        return DUET_ERR_IO;
    }
}

duet_err_t duet_port_flash_info(duet_area_t area, uint32_t *size, uint32_t *erase_size)
{
    const esp_partition_t *p;
    DUET_TRY(part(area, &p));
    if (size != NULL)
        *size = p->size;
    if (erase_size != NULL)
        *erase_size = p->erase_size;
    return DUET_OK;
}

duet_err_t duet_port_flash_read(duet_area_t area, uint32_t off, void *buf, size_t len)
{
    const esp_partition_t *p;
    DUET_TRY(part(area, &p));
    DUET_TRY(range_ok(p, off, len));
    if (len == 0)
        return DUET_OK;
    return map_err(esp_partition_read(p, off, buf, len));
}

duet_err_t duet_port_flash_write(duet_area_t area, uint32_t off, const void *buf, size_t len)
{
    const esp_partition_t *p;
    DUET_TRY(part(area, &p));
    DUET_TRY(range_ok(p, off, len));
    if (len == 0)
        return DUET_OK;
    DUET_TRY(duet_esp_xip_before_write((int)area)); /* never rewrite a mapped slot */
    return map_err(esp_partition_write(p, off, buf, len));
}

duet_err_t duet_port_flash_erase(duet_area_t area, uint32_t off, size_t len)
{
    const esp_partition_t *p;
    DUET_TRY(part(area, &p));
    DUET_TRY(range_ok(p, off, len));
    if (p->erase_size == 0 || off % p->erase_size != 0 || len % p->erase_size != 0)
        return DUET_ERR_INVAL;
    if (len == 0)
        return DUET_OK;
    DUET_TRY(duet_esp_xip_before_write((int)area));
    return map_err(esp_partition_erase_range(p, off, len));
}
