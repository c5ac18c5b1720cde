/*
 * flash_idf.c - `duet flash --port`: write an image into a device's slot partition with
 * ESP-IDF's parttool.py, and read a slot's size from a partitions CSV.
 *
 * parttool.py (components/partition_table/parttool.py, ESP-IDF v5.0-v5.5; checked in
 * the IDF sources) takes its global options BEFORE the operation:
 *   parttool.py --port P [--baud N] [--partition-table-file F] [--partition-table-offset O]
 *               write_partition --partition-name NAME --input FILE
 *   parttool.py ... erase_partition --partition-name NAME
 * write_partition erases the whole partition, then writes the file with esptool
 * (which resets the chip afterwards). It is found on PATH (ESP-IDF's export.sh puts
 * components/partition_table there) or as $IDF_PATH/components/partition_table/
 * parttool.py, run directly (it is executable, with a python shebang that the IDF
 * environment provides).
 * Order: the slot first, then the state partition, so the device's last boot before
 * the final reset cannot leave a journal that ignores the new slot.
 */
#include <ctype.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "flash.h"

extern char **environ;

#define PARTTOOL "parttool.py"
#define MAX_ARGS 24

static bool is_exec_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && access(p, X_OK) == 0;
}

/* PATH first (what export.sh sets up), then $IDF_PATH. */
static bool find_parttool(char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (path != NULL) {
        const char *p = path;
        while (*p) {
            const char *end = strchr(p, ':');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            int w = snprintf(out, cap, "%.*s/%s", (int)n, n ? p : ".", PARTTOOL);
            if (w > 0 && (size_t)w < cap && is_exec_file(out))
                return true;
            p += n;
            if (*p == ':')
                p++;
        }
    }
    const char *idf = getenv("IDF_PATH");
    if (idf != NULL && idf[0] != '\0') {
        int w = snprintf(out, cap, "%s/components/partition_table/%s", idf, PARTTOOL);
        if (w > 0 && (size_t)w < cap && is_exec_file(out))
            return true;
    }
    return false;
}

static void print_cmd(char *const *argv)
{
    fputs("  $", stdout);
    for (int i = 0; argv[i] != NULL; i++)
        printf(" %s", argv[i]);
    fputc('\n', stdout);
    fflush(stdout);
}

/* Run argv, its output going to ours. Returns a CLI_* code (errors printed). */
static int run(char *const *argv, const char *what)
{
    print_cmd(argv);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
    if (e != 0)
        return cli_fail(FLASH_VERB, CLI_IO,
                        "cannot run %s: %s (is the ESP-IDF environment "
                        "sourced: . $IDF_PATH/export.sh ?)",
                        argv[0], strerror(e));
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return cli_fail(FLASH_VERB, CLI_IO, "waiting for %s: %s", argv[0], strerror(errno));
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return CLI_OK;
    if (WIFEXITED(st))
        return cli_fail(FLASH_VERB, CLI_IO,
                        "%s failed (parttool.py exit %d): see its output "
                        "above",
                        what, WEXITSTATUS(st));
    return cli_fail(FLASH_VERB, CLI_IO, "%s failed (parttool.py killed by signal %d)", what,
                    WTERMSIG(st));
}

/* parttool.py + global options; returns the next free index. */
static int common_args(const flash_opts_t *o, char *tool, char **argv)
{
    int n = 0;
    argv[n++] = tool;
    argv[n++] = "--port";
    argv[n++] = (char *)o->port;
    if (o->baud) {
        argv[n++] = "--baud";
        argv[n++] = (char *)o->baud;
    }
    if (o->table) {
        argv[n++] = "--partition-table-file";
        argv[n++] = (char *)o->table;
    }
    if (o->table_offset) {
        argv[n++] = "--partition-table-offset";
        argv[n++] = (char *)o->table_offset;
    }
    return n;
}

int flash_idf(const flash_opts_t *o)
{
    char tool[4096];
    if (!find_parttool(tool, sizeof(tool))) {
        if (!o->dry_run)
            return cli_fail(FLASH_VERB, CLI_IO,
                            "parttool.py not found: install ESP-IDF v5.x and run "
                            "'. $IDF_PATH/export.sh' (or set IDF_PATH)");
        snprintf(tool, sizeof(tool), "%s", PARTTOOL);
    }
    char *wr[MAX_ARGS], *er[MAX_ARGS];
    int n = common_args(o, tool, wr);
    wr[n++] = "write_partition";
    wr[n++] = "--partition-name";
    wr[n++] = (char *)o->part_name;
    wr[n++] = "--input";
    wr[n++] = (char *)o->image;
    wr[n] = NULL;
    n = common_args(o, tool, er);
    er[n++] = "erase_partition";
    er[n++] = "--partition-name";
    er[n++] = (char *)o->state_name;
    er[n] = NULL;
    if (o->dry_run) {
        printf("dry run: would run\n");
        print_cmd(wr);
        if (o->erase_state)
            print_cmd(er);
        return CLI_OK;
    }
    printf("writing slot %c (partition %s) on %s\n", 'A' + o->slot, o->part_name, o->port);
    int rc = run(wr, "writing the slot");
    if (rc != CLI_OK)
        return rc;
    if (o->erase_state) {
        printf("erasing the slot-state journal (partition %s)\n", o->state_name);
        if ((rc = run(er, "erasing the slot state")) != CLI_OK)
            return rc;
        printf("done: slot %c written, journal blank. At the next start the first slot that "
               "verifies (A before B) is adopted as CONFIRMED and runs.\n",
               'A' + o->slot);
    } else {
        printf("done: slot %c written. The device's slot journal is unchanged: the image runs "
               "at the next start only if slot %c is the active slot (CONFIRMED or PENDING); "
               "otherwise use --erase-state, or `duet push` over HTTP.\n",
               'A' + o->slot, 'A' + o->slot);
    }
    return CLI_OK;
}

/* Sizes in CSVs: decimal or 0x hex, optional K or M suffix (gen_esp32part.py's forms). */
static uint32_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (end == s)
        return 0;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end == 'K' || *end == 'k')
        v *= 1024u, end++;
    else if (*end == 'M' || *end == 'm')
        v *= 1024u * 1024u, end++;
    while (*end == ' ' || *end == '\t' || *end == '\r')
        end++;
    return *end == '\0' && v <= UINT32_MAX ? (uint32_t)v : 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

uint32_t flash_csv_part_size(const char *csv_path, const char *name)
{
    FILE *f = fopen(csv_path, "r");
    if (f == NULL)
        return 0;
    char line[512];
    uint32_t size = 0;
    while (size == 0 && fgets(line, sizeof(line), f) != NULL) {
        char *fields[6] = {0};
        int nf = 0;
        char *p = line;
        if (trim(line)[0] == '#')
            continue;
        while (nf < 6) {
            fields[nf++] = p;
            char *c = strchr(p, ',');
            if (c == NULL)
                break;
            *c = '\0';
            p = c + 1;
        }
        if (nf >= 5 && strcmp(trim(fields[0]), name) == 0)
            size = parse_size(trim(fields[4]));
    }
    fclose(f);
    return size;
}
