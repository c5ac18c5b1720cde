/*
 * elfsym.c - address -> symbol with libelf, file:line with addr2line (see elfsym.h).
 * Symbols are sorted by address; a lookup finds the last function/object symbol at or
 * below the address and accepts it if the address lies inside its size (or, for
 * size-0 symbols, before the next symbol).
 */
#include "elfsym.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct {
    uint64_t addr, size;
    char *name;
} sym_t;

typedef struct {
    uint32_t addr;
    char *where; /* "file.c:42" */
} line_t;

struct elfsym {
    char *path;
    unsigned machine;
    sym_t *syms;
    size_t n;
    line_t *lines;
    size_t nlines;
};

static int cmp_sym(const void *a, const void *b)
{
    const sym_t *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

elfsym_t *elfsym_open(const char *path, unsigned *machine, char *msg, size_t cap)
{
    elfsym_t *s = calloc(1, sizeof(*s));
    int fd = -1;
    Elf *e = NULL;
    if (!s)
        goto fail;
    s->path = strdup(path);
    if (elf_version(EV_CURRENT) == EV_NONE)
        goto fail;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(msg, cap, "%s: %s", path, strerror(errno));
        goto fail2;
    }
    e = elf_begin(fd, ELF_C_READ, NULL);
    GElf_Ehdr eh;
    if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
        snprintf(msg, cap, "%s: not an ELF file", path);
        goto fail2;
    }
    s->machine = eh.e_machine;
    if (machine)
        *machine = eh.e_machine;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t count = sh.sh_size / sh.sh_entsize;
        sym_t *ns = realloc(s->syms, (s->n + count) * sizeof(sym_t));
        if (!ns)
            goto fail;
        s->syms = ns;
        for (size_t i = 0; d && i < count; i++) {
            GElf_Sym sy;
            if (!gelf_getsym(d, (int)i, &sy))
                break;
            int t = GELF_ST_TYPE(sy.st_info);
            if ((t != STT_FUNC && t != STT_OBJECT) || sy.st_shndx == SHN_UNDEF)
                continue;
            const char *nm = elf_strptr(e, sh.sh_link, sy.st_name);
            if (!nm || !*nm)
                continue;
            s->syms[s->n].addr = sy.st_value;
            s->syms[s->n].size = sy.st_size;
            s->syms[s->n].name = strdup(nm);
            if (s->syms[s->n].name)
                s->n++;
        }
    }
    qsort(s->syms, s->n, sizeof(sym_t), cmp_sym);
    elf_end(e);
    close(fd);
    if (s->n == 0) {
        snprintf(msg, cap, "%s: no symbol table (stripped?)", path);
        elfsym_close(s);
        return NULL;
    }
    return s;
fail:
    snprintf(msg, cap, "%s: cannot read symbols", path);
fail2:
    if (e)
        elf_end(e);
    if (fd >= 0)
        close(fd);
    elfsym_close(s);
    return NULL;
}

/* Run tool with argv, collect stdout (bounded). Returns malloc'd text or NULL. */
static char *run_capture(char *const argv[])
{
    int p[2];
    if (pipe(p) != 0)
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    ssize_t r;
    while (buf && (r = read(p[0], buf + n, cap - n)) > 0)
        n += (size_t)r;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void elfsym_lines(elfsym_t *s, const uint32_t *addrs, size_t n)
{
    static const char *xt[] = {"xtensa-esp32s3-elf-addr2line", "xtensa-esp32-elf-addr2line",
                               "xtensa-esp-elf-addr2line", NULL};
    static const char *host[] = {"addr2line", NULL};
    const char **tools = s->machine == 94 /* EM_XTENSA */ ? xt : host;
    if (n == 0 || n > 64)
        return;
    char hex[64][16];
    char *argv[64 + 5];
    for (const char **t = tools; *t; t++) {
        size_t a = 0;
        argv[a++] = (char *)*t;
        argv[a++] = "-e";
        argv[a++] = s->path;
        for (size_t i = 0; i < n; i++) {
            snprintf(hex[i], sizeof(hex[i]), "0x%x", addrs[i]);
            argv[a++] = hex[i];
        }
        argv[a] = NULL;
        char *out = run_capture(argv);
        if (!out)
            continue;
        s->lines = calloc(n, sizeof(line_t));
        char *save = NULL, *line = strtok_r(out, "\n", &save);
        for (size_t i = 0; i < n && line && s->lines; i++, line = strtok_r(NULL, "\n", &save)) {
            if (strncmp(line, "??", 2) != 0) {
                char *disc = strstr(line, " (discriminator");
                if (disc)
                    *disc = '\0';
                const char *base = strrchr(line, '/');
                s->lines[s->nlines].addr = addrs[i];
                s->lines[s->nlines].where = strdup(base ? base + 1 : line);
                s->nlines++;
            }
        }
        free(out);
        return;
    }
}

bool elfsym_lookup(void *ctx, uint32_t addr, char *out, size_t cap)
{
    elfsym_t *s = ctx;
    size_t lo = 0, hi = s->n;
    while (lo < hi) { /* first symbol with addr > target */
        size_t mid = (lo + hi) / 2;
        if (s->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    const char *where = NULL;
    for (size_t i = 0; i < s->nlines; i++)
        if (s->lines[i].addr == addr && s->lines[i].where)
            where = s->lines[i].where;
    /* prefer a sized symbol that covers addr; walk back over same-address aliases */
    for (size_t i = lo; i-- > 0;) {
        const sym_t *y = &s->syms[i];
        bool inside = y->size ? addr < y->addr + y->size
                              : (i + 1 >= s->n || addr < s->syms[i + 1].addr);
        if (inside) {
            if (where)
                snprintf(out, cap, "%s+0x%llx (%s)", y->name,
                         (unsigned long long)(addr - y->addr), where);
            else
                snprintf(out, cap, "%s+0x%llx", y->name, (unsigned long long)(addr - y->addr));
            return true;
        }
        if (y->addr + y->size <= addr && y->size)
            break;
    }
    if (where) {
        snprintf(out, cap, "(%s)", where);
        return true;
    }
    return false;
}

void elfsym_close(elfsym_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->syms[i].name);
    for (size_t i = 0; i < s->nlines; i++)
        free(s->lines[i].where);
    free(s->lines);
    free(s->syms);
    free(s->path);
    free(s);
}
