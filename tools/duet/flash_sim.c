/*
 * flash_sim.c - `duet flash --sim-dir/--sim-flash`: write a verified image into a slot
 * of the simulator's flash file, exactly as parttool.py does on a device (erase the
 * slot, write the image, leave the slot-state journal alone unless --erase-state), then
 * say which slot the simulator will run at its next start.
 *
 * The file is handled by the host port's own flash code (port/host/flash_file.c,
 * compiled into the CLI), so the layout (slot A, slot B, STATE; duet/host_flash.h) and
 * the NOR rules are the simulator's by construction. Geometry: an existing file gives
 * the slot size ((size - STATE) / 2, STATE = the host default 8 KiB); a missing file is
 * created blank with duet-sim's geometry (DUET_SIM_SLOT_SIZE).
 * The journal report reads the journal with core/slot.c and mirrors the selection
 * rules of core/sup_slots.c (blank journal: first slot that verifies, A before B).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "duet/host_flash.h"
#include "duet/port.h"
#include "duet/slot.h"
#include "flash.h"
#include "sim.h"

static const char *status_name(uint8_t st)
{
    switch (st) {
    case DUET_SLOT_EMPTY:
        return "EMPTY";
    case DUET_SLOT_PENDING:
        return "PENDING";
    case DUET_SLOT_CONFIRMED:
        return "CONFIRMED";
    case DUET_SLOT_BAD:
        return "BAD";
    case DUET_SLOT_WRITING:
        return "WRITING";
    default:
        return "?";
    }
}

static duet_err_t read_slot(void *ctx, uint32_t off, void *buf, size_t len)
{
    return duet_port_flash_read((duet_area_t)(intptr_t)ctx, off, buf, len);
}

/* Does the slot hold an image the simulator would boot (host window, its policy
 * without keys; min_sec from the journal)? */
static bool slot_verifies(int slot, uint32_t slot_size, uint32_t min_sec, duet_img_info_t *info)
{
    cli_window_t w;
    duet_img_policy_t pol;
    cli_window_default(DUET_CHIP_HOST, &w);
    cli_policy_from_window(&w, &pol);
    pol.max_image_size = slot_size;
    pol.min_security_counter = min_sec;
    return duet_img_verify_reader(read_slot, (void *)(intptr_t)slot, slot_size, &pol, info) ==
           DUET_OK;
}

/* What the simulator's supervisor will do at its next start (sup_slots.c rules). */
static void report_journal(int slot, uint32_t slot_size, const duet_img_info_t *mine)
{
    duet_slot_rec_t rec;
    bool fresh = false;
    char me = (char)('A' + slot), other = (char)('A' + 1 - slot);
    if (duet_slot_load(&rec, &fresh) != DUET_OK) {
        cli_warn(FLASH_VERB, "slot-state journal unreadable: the simulator will not start a slot");
        return;
    }
    if (fresh) {
        duet_img_info_t ia;
        int first = slot_verifies(0, slot_size, 0, &ia)   ? 0
                    : slot_verifies(1, slot_size, 0, &ia) ? 1
                                                          : -1;
        printf("slot journal is blank: at the next start the first slot that verifies "
               "(A before B) is adopted as CONFIRMED: slot %c\n",
               first < 0 ? '-' : 'A' + first);
        if (first >= 0 && first != slot)
            cli_warn(FLASH_VERB,
                     "slot %c holds a valid image and is adopted first, not slot %c: "
                     "flash slot %c instead, or overwrite slot %c too",
                     other, me, other == 'A' ? 'a' : 'b', other);
        return;
    }
    uint8_t st = rec.sr_status[slot];
    bool selectable = st == DUET_SLOT_CONFIRMED || st == DUET_SLOT_PENDING;
    if (rec.sr_active == slot && selectable) {
        printf("slot journal: slot %c is active (%s): the new image runs at the next start or "
               "restart\n",
               me, status_name(st));
        if (mine->hdr.ih_security_counter < rec.sr_min_security)
            cli_warn(FLASH_VERB,
                     "security counter %u is below the journal's minimum %u: the "
                     "simulator will refuse slot %c (IMG_DOWNGRADE) and fall back to slot %c",
                     (unsigned)mine->hdr.ih_security_counter, (unsigned)rec.sr_min_security, me,
                     other);
    } else if (rec.sr_active == slot) {
        printf("slot journal: slot %c is active but %s: the simulator boots slot %c if it is "
               "bootable; --erase-state starts afresh\n",
               me, status_name(st), other);
    } else {
        printf("slot journal: slot %c stays active (%s); slot %c is %s, so it %s. Use "
               "--erase-state to reset the journal, or `duet push` to install and select it\n",
               other, status_name(rec.sr_status[1 - slot]), me, status_name(st),
               selectable ? "runs only after a rollback or a fall-back" : "is not selected");
    }
}

/* Slot size of an existing flash file, or duet-sim's default for a new one. */
static int geometry(const char *path, duet_host_flash_geom_t *g)
{
    duet_host_flash_geom_t def = DUET_HOST_FLASH_GEOM_DEFAULT;
    struct stat sb;
    *g = def;
    g->slot_size = DUET_SIM_SLOT_SIZE;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return CLI_OK; /* created blank, like duet-sim does */
        return cli_fail(FLASH_VERB, CLI_IO, "%s: %s", path, strerror(errno));
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (size <= g->state_size || (size - g->state_size) % (2u * g->erase_size) != 0 ||
        (size - g->state_size) / 2u > UINT32_MAX)
        return cli_fail(FLASH_VERB, CLI_IO, "%s: %llu bytes is not a duet-sim flash file", path,
                        (unsigned long long)size);
    g->slot_size = (uint32_t)((size - g->state_size) / 2u);
    return CLI_OK;
}

static int write_slot(const flash_opts_t *o, const uint8_t *img, size_t len, uint32_t slot_size)
{
    duet_area_t area = (duet_area_t)o->slot;
    duet_err_t e = duet_port_flash_erase(area, 0, slot_size);
    if (e == DUET_OK)
        e = duet_port_flash_write(area, 0, img, len);
    if (e != DUET_OK)
        return cli_fail(FLASH_VERB, CLI_IO, "%s: writing slot %c: %s", o->sim_flash, 'A' + o->slot,
                        duet_err_str(e));
    uint8_t buf[4096];
    for (size_t off = 0; off < len; off += sizeof(buf)) {
        size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
        if (duet_port_flash_read(area, (uint32_t)off, buf, n) != DUET_OK ||
            memcmp(buf, img + off, n) != 0)
            return cli_fail(FLASH_VERB, CLI_IO, "%s: slot %c reads back different at +%zu",
                            o->sim_flash, 'A' + o->slot, off);
    }
    printf("wrote %zu bytes into slot %c of %s (read back OK)\n", len, 'A' + o->slot, o->sim_flash);
    if (o->erase_state) {
        uint32_t ssize = 0;
        e = duet_port_flash_info(DUET_AREA_STATE, &ssize, NULL);
        if (e == DUET_OK)
            e = duet_port_flash_erase(DUET_AREA_STATE, 0, ssize);
        if (e != DUET_OK)
            return cli_fail(FLASH_VERB, CLI_IO, "%s: erasing the slot-state journal: %s",
                            o->sim_flash, duet_err_str(e));
        printf("erased the slot-state journal\n");
    }
    return CLI_OK;
}

int flash_sim(const flash_opts_t *o, const uint8_t *img, size_t len)
{
    duet_host_flash_geom_t g;
    int rc = geometry(o->sim_flash, &g);
    if (rc != CLI_OK)
        return rc;
    if (len > g.slot_size)
        return cli_fail(FLASH_VERB, CLI_VERIFY,
                        "%s: %zu bytes do not fit a %u-byte slot; nothing "
                        "written",
                        o->image, len, (unsigned)g.slot_size);
    duet_err_t e = duet_host_flash_open(o->sim_flash, &g);
    if (e != DUET_OK)
        return cli_fail(FLASH_VERB, CLI_IO, "%s: cannot open: %s", o->sim_flash, duet_err_str(e));
    rc = write_slot(o, img, len, g.slot_size);
    if (rc == CLI_OK) {
        duet_img_info_t mine;
        if (!slot_verifies(o->slot, g.slot_size, 0, &mine))
            rc = cli_fail(FLASH_VERB, CLI_IO, "slot %c does not verify after writing",
                          'A' + o->slot);
        else
            report_journal(o->slot, g.slot_size, &mine);
    }
    duet_host_flash_close();
    return rc;
}
