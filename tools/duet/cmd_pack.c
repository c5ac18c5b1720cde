/*
 * cmd_pack.c - `duet pack`: ELF -> duet image (docs/cli.md, docs/image-format.md).
 *
 * Xtensa (esp32s3/esp32): every allocated section becomes a segment (exec -> CODE,
 * read-only -> RODATA, writable PROGBITS -> DATA, NOBITS -> BSS; at the flash-mapped
 * buses: instruction bus -> XIP, data bus -> XIP_RODATA, docs/xip.md). Adjacent
 * sections of the same kind are merged (gaps up to 16 bytes are zero-filled) to stay
 * under DUET_IMG_MAX_SEGS; sizes are padded to 4.
 * With --phdrs the PT_LOAD program headers are used instead. Sections named
 * .duet_shm* or .noinit* are not loaded (shared memory / memory that survives).
 * Entry = e_entry. Stack, vectors and shared memory come from the SDK linker symbols
 *   _duet_stack_top, _duet_stack_size (or _duet_stack_bottom), _duet_vectors,
 *   _duet_shm_base, _duet_shm_size
 * or the matching flags, which win. Build-id = the NT_GNU_BUILD_ID note.
 *
 * Host (--chip host): the whole executable file is ONE CODE segment at 0x10000000,
 * entry 0x10000000, stack top 0x20100000, stack size 0x10000; the simulator runs the
 * segment's bytes as the program (port/host/core1_process.c).
 *
 * XIP (docs/xip.md): the mapped segments go last in the table, ordered by their linear
 * place in the mapping (bus address minus bus base); gaps between them (alignment) are
 * zero-filled so their file data is back to back, as the MMU maps one run of the slot.
 * ih_map_addr = the instruction-bus address of the first mapped byte. Host: the section
 * .duet_xip (sdk/ld/duet_host_xip.ld) becomes one XIP segment and its bytes are zeroed
 * in the executable stored as the CODE segment, so only the slot's copy can run.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <getopt.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "duet/host_port.h"
#include "duet/shm.h"

#define V "pack"
#define HOST_STACK_TOP 0x20100000u
#define HOST_STACK_SIZE 0x10000u
#define MERGE_GAP 16u
#define MAX_PIECES 64

typedef struct {
    uint8_t kind;
    uint32_t addr, size;
    uint8_t *data; /* malloc'd, size bytes (NULL for BSS) */
} piece_t;

typedef struct {
    bool have;
    uint32_t v;
} optval_t;

static void help(void)
{
    printf(
        "usage: duet pack [options] PROGRAM.elf -o OUT.duet\n"
        "  --chip esp32s3|esp32|host   target (default esp32s3)\n"
        "  --abi windowed|call0|host   core-1 ABI (default: windowed; host for --chip host)\n"
        "  --version X.Y.Z             program version (default 0.0.0)\n"
        "  --security-counter N        anti-rollback counter (default 0)\n"
        "  --name NAME                 program name (default: ELF file name)\n"
        "  --sign KEY.pem              sign with a P-256 private key\n"
        "  --stack-top A --stack-size N --vectors A --shm-base A --shm-size N\n"
        "                              override the _duet_* linker symbols\n"
        "  --phdrs                     use PT_LOAD program headers instead of sections\n"
        "  --window SPEC               window to self-check against (see duet verify)\n"
        "  --no-check                  do not verify the result against the chip window\n"
        "  -o, --output FILE           output image\n"
        "Host images (--chip host): the whole executable is one CODE segment at\n"
        "0x10000000, entry 0x10000000, stack top 0x20100000, stack size 0x10000.\n"
        "XIP (docs/xip.md): sections on the flash-mapped buses (esp32s3: IBUS -> XIP,\n"
        "DBUS -> XIP_RODATA) or the host section .duet_xip become mapped segments.\n");
}

/* ESP32-S3 flash-mapped buses (soc/esp32s3/include/soc/ext_mem_defs.h:
 * SOC_IRAM0_CACHE_ADDRESS_LOW/HIGH, SOC_DRAM0_CACHE_ADDRESS_LOW/HIGH); both index one
 * MMU table, so the linear place is the offset from the bus base. */
#define S3_IBUS_LO 0x42000000u
#define S3_IBUS_HI 0x44000000u
#define S3_DBUS_LO 0x3C000000u
#define S3_DBUS_HI 0x3E000000u

static bool on_ibus(uint8_t chip, uint32_t addr)
{
    return chip != DUET_CHIP_HOST && addr >= S3_IBUS_LO && addr < S3_IBUS_HI;
}
static bool on_dbus(uint8_t chip, uint32_t addr)
{
    return chip != DUET_CHIP_HOST && addr >= S3_DBUS_LO && addr < S3_DBUS_HI;
}

static uint8_t kind_for(uint8_t chip, uint32_t addr, bool exec, bool write, bool nobits)
{
    if (nobits)
        return DUET_SEG_BSS;
    if (on_ibus(chip, addr) && !write)
        return DUET_SEG_XIP;
    if (on_dbus(chip, addr) && !write)
        return DUET_SEG_XIP_RODATA;
    if (exec)
        return DUET_SEG_CODE;
    if (write)
        return DUET_SEG_DATA;
    return DUET_SEG_RODATA;
}

static int add_piece(piece_t *p, unsigned *n, uint8_t kind, uint64_t addr, uint64_t size,
                     const void *data, uint64_t data_len)
{
    if (*n >= MAX_PIECES)
        return cli_fail(V, CLI_VERIFY, "too many loadable sections/segments (> %d)", MAX_PIECES);
    if (addr > UINT32_MAX || size > UINT32_MAX || addr + size > 0x100000000ull)
        return cli_fail(V, CLI_VERIFY, "section at 0x%llx does not fit 32-bit addresses",
                        (unsigned long long)addr);
    if (addr % 4)
        return cli_fail(V, CLI_VERIFY, "section at 0x%llx is not 4-byte aligned",
                        (unsigned long long)addr);
    uint32_t padded = (uint32_t)((size + 3) & ~3ull);
    piece_t *q = &p[(*n)++];
    q->kind = kind;
    q->addr = (uint32_t)addr;
    q->size = padded;
    q->data = NULL;
    if (kind != DUET_SEG_BSS) {
        q->data = calloc(1, padded ? padded : 1);
        if (!q->data)
            return cli_fail(V, CLI_INTERNAL, "out of memory");
        if (data && data_len)
            memcpy(q->data, data, data_len < size ? data_len : size);
    }
    return CLI_OK;
}

static int cmp_piece(const void *a, const void *b)
{
    const piece_t *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Merge neighbours of the same kind separated by at most MERGE_GAP bytes. */
static int merge(piece_t *p, unsigned *n)
{
    qsort(p, *n, sizeof(*p), cmp_piece);
    unsigned out = 0;
    for (unsigned i = 0; i < *n; i++) {
        if (out > 0) {
            piece_t *l = &p[out - 1];
            uint64_t lend = (uint64_t)l->addr + l->size;
            if (p[i].addr < lend)
                return cli_fail(V, CLI_VERIFY, "sections overlap at 0x%08x", p[i].addr);
            if (l->kind == p[i].kind && p[i].addr - lend <= MERGE_GAP) {
                uint32_t nsize = p[i].addr + p[i].size - l->addr;
                if (l->kind != DUET_SEG_BSS) {
                    uint8_t *nd = realloc(l->data, nsize);
                    if (!nd)
                        return cli_fail(V, CLI_INTERNAL, "out of memory");
                    memset(nd + l->size, 0, nsize - l->size);
                    memcpy(nd + (p[i].addr - l->addr), p[i].data, p[i].size);
                    free(p[i].data);
                    l->data = nd;
                }
                l->size = nsize;
                continue;
            }
        }
        p[out++] = p[i];
    }
    *n = out;
    return CLI_OK;
}

static uint32_t lin_of(const piece_t *p)
{
    return p->kind == DUET_SEG_XIP ? p->addr - S3_IBUS_LO : p->addr - S3_DBUS_LO;
}

static int cmp_lin(const void *a, const void *b)
{
    uint32_t x = lin_of(a), y = lin_of(b);
    return x < y ? -1 : x > y;
}

/* XIP: loaded pieces first (address order), then the mapped ones in linear order with
 * the gaps between them zero-filled; sets d->map_addr. */
static int order_mapped(piece_t *p, unsigned n, duet_img_desc_t *d)
{
    piece_t tmp[MAX_PIECES];
    unsigned k = 0, m;
    for (unsigned i = 0; i < n; i++)
        if (!duet_img_seg_mapped(p[i].kind))
            tmp[k++] = p[i];
    m = k;
    for (unsigned i = 0; i < n; i++)
        if (duet_img_seg_mapped(p[i].kind))
            tmp[k++] = p[i];
    if (m == n)
        return CLI_OK;
    qsort(tmp + m, n - m, sizeof tmp[0], cmp_lin);
    for (unsigned i = m; i + 1 < n; i++) {
        uint32_t end = lin_of(&tmp[i]) + tmp[i].size, next = lin_of(&tmp[i + 1]);
        if (next < end)
            return cli_fail(V, CLI_VERIFY,
                            "XIP sections overlap in the flash mapping at "
                            "0x%08x (code and .rodata share an MMU page through the two buses)",
                            tmp[i + 1].addr);
        if (next - end > DUET_XIP_PAGE)
            return cli_fail(V, CLI_VERIFY, "gap of %u bytes between XIP sections at 0x%08x",
                            next - end, tmp[i + 1].addr);
        if (next > end) {
            uint8_t *nd = realloc(tmp[i].data, tmp[i].size + (next - end));
            if (!nd)
                return cli_fail(V, CLI_INTERNAL, "out of memory");
            memset(nd + tmp[i].size, 0, next - end);
            tmp[i].data = nd;
            tmp[i].size += next - end;
        }
    }
    memcpy(p, tmp, n * sizeof tmp[0]);
    d->map_addr = S3_IBUS_LO + lin_of(&p[m]);
    return CLI_OK;
}

static bool find_sym(Elf *e, const char *want, uint32_t *val);

/* Host XIP: .duet_xip becomes the XIP segment; its bytes are zeroed in 'exe' (a copy of
 * the file). No such section: a RAM-mode program. */
static int host_xip(Elf *e, uint8_t *exe, size_t flen, piece_t *p, unsigned *n, duet_img_desc_t *d)
{
    size_t shstrndx;
    Elf_Scn *scn = NULL;
    if (elf_getshdrstrndx(e, &shstrndx) != 0)
        return CLI_OK;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        const char *name;
        if (!gelf_getshdr(scn, &sh) || (name = elf_strptr(e, shstrndx, sh.sh_name)) == NULL ||
            strcmp(name, ".duet_xip") != 0 || sh.sh_type != SHT_PROGBITS || sh.sh_size == 0)
            continue;
        if (sh.sh_offset > flen || sh.sh_size > flen - sh.sh_offset)
            return cli_fail(V, CLI_VERIFY, ".duet_xip points outside the file");
        /* The section ends on a 64 KiB boundary (so the kernel's heap stays out of the
         * mapped pages); the program's bytes end at __duet_xip_end. */
        uint32_t end;
        uint64_t used = sh.sh_size;
        if (find_sym(e, "__duet_xip_end", &end) && end > sh.sh_addr && end - sh.sh_addr <= used)
            used = end - sh.sh_addr;
        int rc = add_piece(p, n, DUET_SEG_XIP, sh.sh_addr, used, exe + sh.sh_offset, used);
        if (rc)
            return rc;
        memset(exe + sh.sh_offset, 0, sh.sh_size);
        d->map_addr = (uint32_t)sh.sh_addr;
        return CLI_OK;
    }
    return CLI_OK;
}

static bool skip_section(const char *name)
{
    return name && (strncmp(name, ".duet_shm", 9) == 0 || strncmp(name, ".noinit", 7) == 0);
}

static int from_sections(Elf *e, uint8_t chip, piece_t *p, unsigned *n)
{
    size_t shstrndx;
    Elf_Scn *scn = NULL;
    if (elf_getshdrstrndx(e, &shstrndx) != 0)
        return cli_fail(V, CLI_VERIFY, "ELF has no section name table: %s", elf_errmsg(-1));
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        const char *name = elf_strptr(e, shstrndx, sh.sh_name);
        if (!(sh.sh_flags & SHF_ALLOC) || sh.sh_size == 0 || skip_section(name))
            continue;
        bool nobits = sh.sh_type == SHT_NOBITS;
        uint8_t k = kind_for(chip, (uint32_t)sh.sh_addr, sh.sh_flags & SHF_EXECINSTR,
                             sh.sh_flags & SHF_WRITE, nobits);
        Elf_Data *d = nobits ? NULL : elf_getdata(scn, NULL);
        int rc = add_piece(p, n, k, sh.sh_addr, sh.sh_size, d ? d->d_buf : NULL,
                           d ? d->d_size : 0);
        if (rc)
            return rc;
    }
    return CLI_OK;
}

static int from_phdrs(Elf *e, const uint8_t *file, size_t flen, uint8_t chip, piece_t *p,
                      unsigned *n)
{
    size_t np;
    if (elf_getphdrnum(e, &np) != 0 || np == 0)
        return cli_fail(V, CLI_VERIFY, "ELF has no program headers");
    for (size_t i = 0; i < np; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_offset > flen || ph.p_filesz > flen - ph.p_offset || ph.p_filesz > ph.p_memsz)
            return cli_fail(V, CLI_VERIFY, "program header %zu points outside the file", i);
        bool x = ph.p_flags & PF_X, w = ph.p_flags & PF_W;
        int rc;
        uint64_t fs = (ph.p_filesz + 3) & ~3ull;
        if (ph.p_filesz > 0) {
            rc = add_piece(p, n, kind_for(chip, (uint32_t)ph.p_paddr, x, w, false), ph.p_paddr,
                           ph.p_filesz, file + ph.p_offset, ph.p_filesz);
            if (rc)
                return rc;
        }
        if (ph.p_memsz > fs) { /* zero-filled tail: BSS */
            rc = add_piece(p, n, DUET_SEG_BSS, ph.p_paddr + fs, ph.p_memsz - fs, NULL, 0);
            if (rc)
                return rc;
        }
    }
    return CLI_OK;
}

static bool find_sym(Elf *e, const char *want, uint32_t *val)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
            sh.sh_entsize == 0)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t count = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; d && i < count; i++) {
            GElf_Sym s;
            if (!gelf_getsym(d, (int)i, &s))
                break;
            const char *nm = elf_strptr(e, sh.sh_link, s.st_name);
            if (nm && strcmp(nm, want) == 0 && s.st_value <= UINT32_MAX) {
                *val = (uint32_t)s.st_value;
                return true;
            }
        }
    }
    return false;
}

static void build_id(Elf *e, duet_img_desc_t *d)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        size_t off = 0, noff, doff;
        GElf_Nhdr nh;
        while (data && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                memcmp((const char *)data->d_buf + noff, "GNU", 4) == 0) {
                size_t n = nh.n_descsz > DUET_IMG_BUILD_ID_LEN ? DUET_IMG_BUILD_ID_LEN
                                                               : nh.n_descsz;
                memcpy(d->build_id, (const char *)data->d_buf + doff, n);
                d->build_id_len = (uint8_t)n;
                return;
            }
        }
    }
}

static void default_name(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, cap, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out && (strcmp(dot, ".elf") == 0 || strcmp(dot, ".out") == 0))
        *dot = '\0';
}

int cmd_pack(int argc, char **argv)
{
    enum { O_CHIP = 256, O_ABI, O_VER, O_SEC, O_NAME, O_SIGN, O_ST, O_SS, O_VEC, O_SHB, O_SHS,
           O_PHDRS, O_WIN, O_NOCHECK };
    static const struct option lo[] = {
        {"chip", 1, 0, O_CHIP},         {"abi", 1, 0, O_ABI},
        {"version", 1, 0, O_VER},       {"security-counter", 1, 0, O_SEC},
        {"name", 1, 0, O_NAME},         {"sign", 1, 0, O_SIGN},
        {"stack-top", 1, 0, O_ST},      {"stack-size", 1, 0, O_SS},
        {"vectors", 1, 0, O_VEC},       {"shm-base", 1, 0, O_SHB},
        {"shm-size", 1, 0, O_SHS},      {"phdrs", 0, 0, O_PHDRS},
        {"window", 1, 0, O_WIN},        {"no-check", 0, 0, O_NOCHECK},
        {"output", 1, 0, 'o'},          {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    uint8_t chip = DUET_CHIP_ESP32S3, abi = 0xFF;
    uint8_t vmaj = 0, vmin = 0;
    uint16_t vpat = 0;
    uint32_t sec = 0;
    const char *name = NULL, *key = NULL, *out = NULL, *win = NULL;
    optval_t st = {0}, ss = {0}, vec = {0}, shb = {0}, shs = {0};
    bool phdrs = false, check = true;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (c) {
        case O_CHIP:
            if (!cli_parse_chip(optarg, &chip))
                return cli_fail(V, CLI_USAGE, "unknown chip '%s' (esp32s3, esp32, host)", optarg);
            break;
        case O_ABI:
            if (!cli_parse_abi(optarg, &abi))
                return cli_fail(V, CLI_USAGE, "unknown ABI '%s' (windowed, call0, host)", optarg);
            break;
        case O_VER:
            if (!cli_parse_version(optarg, &vmaj, &vmin, &vpat))
                return cli_fail(V, CLI_USAGE, "bad version '%s' (want X.Y.Z, X,Y <= 255)", optarg);
            break;
        case O_SEC:
            if (!cli_parse_u32(optarg, &sec))
                return cli_fail(V, CLI_USAGE, "bad security counter '%s'", optarg);
            break;
        case O_NAME: name = optarg; break;
        case O_SIGN: key = optarg; break;
        case O_ST: st.have = cli_parse_u32(optarg, &st.v); if (!st.have) goto badnum; break;
        case O_SS: ss.have = cli_parse_u32(optarg, &ss.v); if (!ss.have) goto badnum; break;
        case O_VEC: vec.have = cli_parse_u32(optarg, &vec.v); if (!vec.have) goto badnum; break;
        case O_SHB: shb.have = cli_parse_u32(optarg, &shb.v); if (!shb.have) goto badnum; break;
        case O_SHS: shs.have = cli_parse_u32(optarg, &shs.v); if (!shs.have) goto badnum; break;
        case O_PHDRS: phdrs = true; break;
        case O_WIN: win = optarg; break;
        case O_NOCHECK: check = false; break;
        case 'o': out = optarg; break;
        case 'h': help(); return CLI_OK;
        default: return cli_fail(V, CLI_USAGE, "bad option (see duet pack --help)");
        }
    }
    if (optind != argc - 1 || !out)
        return cli_fail(V, CLI_USAGE, "need one ELF file and -o OUT (see duet pack --help)");
    const char *elf_path = argv[optind];
    if (abi == 0xFF)
        abi = chip == DUET_CHIP_HOST ? DUET_ABI_HOST : DUET_ABI_WINDOWED;

    uint8_t *file;
    size_t flen;
    if (cli_read_file(elf_path, &file, &flen) != 0)
        return cli_fail(V, CLI_IO, "%s: %s", elf_path, strerror(errno));
    if (elf_version(EV_CURRENT) == EV_NONE) {
        free(file);
        return cli_fail(V, CLI_INTERNAL, "libelf too old");
    }
    Elf *e = elf_memory((char *)file, flen);
    GElf_Ehdr eh;
    int rc = CLI_OK;
    piece_t pieces[MAX_PIECES];
    unsigned np = 0;
    uint8_t *img = NULL;
    size_t img_len = 0;
    char nm[64];
    duet_img_desc_t d;
    memset(&d, 0, sizeof(d));
    if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
        rc = cli_fail(V, CLI_VERIFY, "%s: not an ELF file", elf_path);
        goto done;
    }
    if (chip == DUET_CHIP_HOST) {
        /* XIP: the segment data is copied first, then the CODE copy of the file zeroed. */
        uint8_t *exe = malloc(flen ? flen : 1);
        if (!exe) {
            rc = cli_fail(V, CLI_INTERNAL, "out of memory");
            goto done;
        }
        memcpy(exe, file, flen);
        rc = add_piece(pieces, &np, DUET_SEG_CODE, DUET_HOST_X_BASE, flen, NULL, 0);
        if (rc == CLI_OK)
            rc = host_xip(e, exe, flen, pieces, &np, &d);
        if (rc == CLI_OK)
            memcpy(pieces[0].data, exe, flen);
        free(exe);
        d.entry = DUET_HOST_X_BASE;
        d.stack_top = HOST_STACK_TOP;
        d.stack_size = HOST_STACK_SIZE;
    } else {
        if (eh.e_machine != EM_XTENSA)
            cli_warn(V, "%s: e_machine %u is not Xtensa (%u)", elf_path, (unsigned)eh.e_machine,
                     (unsigned)EM_XTENSA);
        rc = phdrs ? from_phdrs(e, file, flen, chip, pieces, &np)
                   : from_sections(e, chip, pieces, &np);
        if (rc == CLI_OK)
            rc = merge(pieces, &np);
        if (rc == CLI_OK)
            rc = order_mapped(pieces, np, &d);
        if (eh.e_entry > UINT32_MAX) {
            rc = cli_fail(V, CLI_VERIFY, "entry point beyond 32 bits");
            goto done;
        }
        d.entry = (uint32_t)eh.e_entry;
        uint32_t v;
        if (find_sym(e, "_duet_stack_top", &v))
            d.stack_top = v;
        if (find_sym(e, "_duet_stack_size", &v))
            d.stack_size = v;
        else if (d.stack_top && find_sym(e, "_duet_stack_bottom", &v) && v < d.stack_top)
            d.stack_size = d.stack_top - v;
        if (find_sym(e, "_duet_vectors", &v))
            d.vectors = v;
        if (find_sym(e, "_duet_shm_base", &v))
            d.shm_base = v;
        if (find_sym(e, "_duet_shm_size", &v))
            d.shm_size = v;
    }
    if (rc)
        goto done;
    if (np > DUET_IMG_MAX_SEGS) {
        rc = cli_fail(V, CLI_VERIFY, "%u segments after merging; the format allows %u "
                      "(merge output sections in the linker script)", np, DUET_IMG_MAX_SEGS);
        goto done;
    }
    if (np == 0) {
        rc = cli_fail(V, CLI_VERIFY, "%s: no loadable sections", elf_path);
        goto done;
    }
    if (st.have)
        d.stack_top = st.v;
    if (ss.have)
        d.stack_size = ss.v;
    if (vec.have)
        d.vectors = vec.v;
    if (shb.have)
        d.shm_base = shb.v;
    if (shs.have)
        d.shm_size = shs.v;
    if (d.stack_top == 0 || d.stack_size == 0) {
        rc = cli_fail(V, CLI_USAGE, "no stack: link with the duet SDK script (_duet_stack_top/"
                      "_duet_stack_size) or pass --stack-top and --stack-size");
        goto done;
    }
    build_id(e, &d);
    default_name(elf_path, nm, sizeof(nm));
    d.name = name ? name : nm;
    d.chip = chip;
    d.abi = abi;
    d.shm_version = DUET_SHM_LAYOUT_VERSION;
    d.ver_major = vmaj;
    d.ver_minor = vmin;
    d.ver_patch = vpat;
    d.security_counter = sec;
    duet_img_seg_in_t segs[DUET_IMG_MAX_SEGS];
    bool xip = false;
    for (unsigned i = 0; i < np; i++) {
        segs[i] = (duet_img_seg_in_t){pieces[i].kind, pieces[i].addr, pieces[i].size,
                                      pieces[i].data};
        xip |= duet_img_seg_mapped(pieces[i].kind);
    }
    d.flags = (uint16_t)((xip ? DUET_IMG_F_XIP : 0) | (key ? DUET_IMG_F_SIGNED : 0));
    d.seg_count = np;
    d.segs = segs;
    duet_err_t err = duet_img_write(&d, &img, &img_len);
    if (err != DUET_OK) {
        rc = cli_fail(V, CLI_VERIFY, "cannot build image: %s (%s)", duet_err_str(err),
                      duet_err_name(err));
        goto done;
    }
    if (key) {
        uint8_t *kb;
        size_t kl;
        if (cli_read_file_max(key, CLI_MAX_KEY_SIZE, &kb, &kl) != 0) {
            rc = cli_fail(V, CLI_IO, "%s: %s", key, strerror(errno));
            goto done;
        }
        err = duet_img_sign(&img, &img_len, kb, kl);
        free(kb);
        if (err != DUET_OK) {
            rc = cli_fail(V, err == DUET_ERR_INVAL ? CLI_USAGE : CLI_INTERNAL,
                          "cannot sign with %s: %s", key, duet_err_str(err));
            goto done;
        }
    }
    if (check) {
        cli_window_t w;
        duet_img_policy_t pol;
        duet_img_info_t info;
        cli_window_default(chip, &w);
        w.abi = abi;
        if (win && !cli_window_parse(win, chip, &w)) {
            rc = cli_fail(V, CLI_USAGE, "bad --window '%s'", win);
            goto done;
        }
        if (w.count > 0) {
            cli_policy_from_window(&w, &pol);
            pol.max_image_size = 0xFFFFFFFFu;
            err = duet_img_verify_buf(img, img_len, &pol, &info);
            if (err != DUET_OK) {
                rc = cli_fail(V, CLI_VERIFY,
                              "the image would be refused by a %s device: %s (%s); "
                              "fix the link or use --window/--no-check",
                              cli_chip_name(chip), duet_err_str(err), duet_err_name(err));
                goto done;
            }
        }
    }
    if (cli_write_file(out, img, img_len, 0644) != 0) {
        rc = cli_fail(V, CLI_IO, "%s: %s", out, strerror(errno));
        goto done;
    }
    printf("packed %s -> %s: %s %u.%u.%u, %u segment%s, %zu bytes%s\n", elf_path, out,
           cli_chip_name(chip), vmaj, vmin, vpat, np, np == 1 ? "" : "s", img_len,
           key ? ", signed" : "");
done:
    for (unsigned i = 0; i < np; i++)
        free(pieces[i].data);
    free(img);
    if (e)
        elf_end(e);
    free(file);
    return rc;
badnum:
    return cli_fail(V, CLI_USAGE, "bad address or size value (decimal or 0x hex)");
}
