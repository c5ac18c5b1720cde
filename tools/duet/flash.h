/*
 * flash.h - private interface of `duet flash` (tools/duet/cmd_flash.c and the two
 * back ends): the parsed command line and the two writers.
 *
 *   cmd_flash.c   options, local verification of the image (the checks `duet verify`
 *                 runs for the target's chip), size check, dispatch
 *   flash_sim.c   simulator: write the slot inside duet-sim's flash file (host port
 *                 layout, duet/host_flash.h) with the host port's own flash code
 *   flash_idf.c   device: run ESP-IDF's parttool.py (write_partition, erase_partition)
 *
 * Order of effects, both back ends: nothing is written unless the image verified; the
 * slot is erased and written first, the slot-state partition (--erase-state) last.
 */
#ifndef DUET_CLI_FLASH_H
#define DUET_CLI_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLASH_VERB "flash"

typedef struct {
    int slot;          /* 0 = a, 1 = b */
    const char *image; /* path of the image file */
    bool erase_state;  /* also erase the slot-state journal */
    bool dry_run;      /* device: print the parttool commands, run nothing */
    /* device */
    const char *port;         /* serial port (parttool --port) */
    const char *baud;         /* parttool --baud */
    const char *table;        /* parttool --partition-table-file (CSV or binary) */
    const char *table_offset; /* parttool --partition-table-offset */
    const char *part_name;    /* slot partition (default duet_a / duet_b) */
    const char *state_name;   /* state partition (default duet_state) */
    /* simulator */
    const char *sim_flash; /* flash file path (--sim-dir DIR -> DIR/duet-sim.flash) */
} flash_opts_t;

/* Partition names of esp/partitions_duet.csv (the device finds its partitions by
 * type 0x40 and subtypes 0x00/0x01/0x02; these are the names that CSV gives them). */
#define FLASH_PART_A     "duet_a"
#define FLASH_PART_B     "duet_b"
#define FLASH_PART_STATE "duet_state"
/* Slot partition size in esp/partitions_duet.csv: the local size check's default. */
#define FLASH_DEFAULT_SLOT_SIZE 0x10000u

/* The simulator's flash file name inside --sim-dir (duet-sim's --flash default). */
#define FLASH_SIM_FILE "duet-sim.flash"

/* Write the verified image 'img' (len bytes) into the simulator's flash file.
 * Returns a CLI_* exit code (errors already printed). */
int flash_sim(const flash_opts_t *o, const uint8_t *img, size_t len);
/* Write the image file into the device's slot partition with parttool.py. */
int flash_idf(const flash_opts_t *o);
/* Size of partition 'name' in a partitions CSV, 0 if not found or not a CSV. */
uint32_t flash_csv_part_size(const char *csv_path, const char *name);

#endif /* DUET_CLI_FLASH_H */
