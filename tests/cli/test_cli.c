/*
 * test_cli.c - runs the real `duet` binary: pack a real ELF (fixture, compiled at build
 * time), then inspect/verify/sign/keygen round trips, documented exit codes, one-line
 * errors, --json output that parses, crash decoding with libelf symbolization, and
 * `duet flash`: into a simulator flash file (checked byte by byte) and to a device
 * through a stand-in parttool.py that records its arguments (the exact command line
 * duet builds; no hardware needed).
 * argv[1] = duet binary, argv[2] = fixture ELF, argv[3] = scratch directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "duet/crash_fmt.h"
#include "duet/image.h"
#include "duet/shm.h"
#include "jsonp.h"

extern char **environ;
static const char *duet, *elf, *dir;
static char out[1 << 16], err[1 << 14];

static char *path(const char *name)
{
    static char p[8][1024];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
    return p[i];
}

static int slurp(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    return (int)n;
}

/* Run duet with a NULL-terminated list of arguments; returns its exit code. */
static int run(const char *first, ...)
{
    char *argv[32];
    int n = 0;
    va_list ap;
    argv[n++] = (char *)duet;
    va_start(ap, first);
    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    char fo[] = "/tmp/duet-cli-outXXXXXX", fe[] = "/tmp/duet-cli-errXXXXXX";
    int o = mkstemp(fo), e = mkstemp(fe);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, o, 1);
    posix_spawn_file_actions_adddup2(&fa, e, 2);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, duet, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int st;
    waitpid(pid, &st, 0);
    lseek(o, 0, SEEK_SET);
    lseek(e, 0, SEEK_SET);
    slurp(o, out, sizeof(out));
    slurp(e, err, sizeof(err));
    close(o);
    close(e);
    unlink(fo);
    unlink(fe);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* Errors are exactly one line "duet: <verb>: ..." */
static void one_error_line(const char *verb)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "duet: %s: ", verb);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("stderr does not start with '%s': %s", prefix, err);
    char *nl = strchr(err, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0');
}

static void test_pack_inspect_verify_host_image(void **state)
{
    assert_int_equal(run("pack", "--chip", "host", "--version", "1.2.3", "--security-counter", "7",
                         "--name", "fix", "-o", path("a.duet"), elf, NULL), 0);
    assert_int_equal(run("inspect", "--json", path("a.duet"), NULL), 0);
    jp_node_t *j = jp_parse(out, strlen(out), NULL, 0);
    assert_non_null(j);
    const jp_node_t *h = jp_get(j, "header");
    assert_string_equal(jp_str(h, "chip", ""), "host");
    assert_string_equal(jp_str(h, "version", ""), "1.2.3");
    assert_int_equal((int)jp_num(h, "security_counter", 0), 7);
    assert_string_equal(jp_str(h, "entry", ""), "0x10000000");
    assert_string_equal(jp_str(h, "stack_top", ""), "0x20100000");
    assert_int_equal((int)jp_num(h, "stack_size", 0), 0x10000);
    assert_int_equal(strlen(jp_str(h, "build_id", "")), 40); /* the fixture's GNU build-id */
    const jp_node_t *segs = jp_get(j, "segments");
    assert_int_equal(jp_len(segs), 1);
    assert_string_equal(jp_str(segs->child, "kind", ""), "CODE");
    struct stat sb;
    assert_int_equal(stat(elf, &sb), 0);
    assert_int_equal((long)jp_num(segs->child, "size", 0), (sb.st_size + 3) & ~3L);
    const jp_node_t *v = jp_get(j, "verify");
    assert_true(jp_bool(v, "ok", false));
    assert_string_equal(jp_str(v, "name", ""), "fix");
    jp_free(j);
    assert_int_equal(run("inspect", path("a.duet"), NULL), 0);
    assert_non_null(strstr(out, "CODE   0x10000000"));
    assert_int_equal(run("verify", path("a.duet"), NULL), 0);
    assert_non_null(strstr(out, "OK for host"));
}

static void test_keygen_sign_verify_round_trip(void **state)
{
    unlink(path("k.pem"));
    unlink(path("k.pub.pem"));
    unlink(path("o.pem"));
    unlink(path("o.pub.pem"));
    assert_int_equal(run("keygen", "-o", path("k.pem"), NULL), 0);
    assert_int_equal(run("keygen", "-o", path("o.pem"), NULL), 0);
    struct stat sb;
    assert_int_equal(stat(path("k.pem"), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(run("keygen", "-o", path("k.pem"), NULL), 1); /* no overwrite */
    one_error_line("keygen");

    assert_int_equal(run("pack", "--chip", "host", "--version", "2.0.0", "-o", path("b.duet"), elf,
                         NULL), 0);
    /* unsigned: refused when a signature is required */
    assert_int_equal(run("verify", "--require-signature", path("b.duet"), NULL), 2);
    one_error_line("verify");
    assert_non_null(strstr(err, "IMG_NO_SIG"));
    assert_int_equal(run("sign", "--key", path("k.pem"), path("b.duet"), NULL), 0);
    assert_int_equal(run("verify", "--key", path("k.pub.pem"), "--require-signature",
                         path("b.duet"), NULL), 0);
    assert_non_null(strstr(out, "signature OK"));
    assert_int_equal(run("verify", "--key", path("o.pub.pem"), "--require-signature",
                         path("b.duet"), NULL), 2);
    assert_non_null(strstr(err, "IMG_UNKNOWN_KEY"));
    /* re-signing replaces the signature */
    assert_int_equal(run("sign", "--key", path("o.pem"), path("b.duet"), NULL), 0);
    assert_int_equal(run("verify", "--key", path("o.pub.pem"), "--require-signature",
                         path("b.duet"), NULL), 0);
    assert_int_equal(run("verify", "--key", path("k.pub.pem"), "--require-signature",
                         path("b.duet"), NULL), 2);
    /* pack --sign; a private key is accepted by --key too */
    assert_int_equal(run("pack", "--chip", "host", "--sign", path("k.pem"), "-o", path("c.duet"),
                         elf, NULL), 0);
    assert_int_equal(run("verify", "--key", path("k.pem"), "--require-signature", path("c.duet"),
                         NULL), 0);
    assert_int_equal(run("inspect", "--json", "--key", path("k.pub.pem"), path("c.duet"), NULL), 0);
    jp_node_t *j = jp_parse(out, strlen(out), NULL, 0);
    assert_non_null(j);
    assert_true(jp_bool(jp_get(j, "verify"), "signed_ok", false));
    assert_int_equal(jp_len(jp_get(j, "trailer")), 3); /* SHA256, KEY_ID, ECDSA_P256 */
    jp_free(j);
}

/* `duet pubkey`: the same CONFIG_DUET_PUBKEY_HEX line from the private and the public key
 * file, the one keygen printed; anything else is refused. */
static void test_pubkey_prints_the_sdkconfig_line(void **state)
{
    unlink(path("p.pem"));
    unlink(path("p.pub.pem"));
    assert_int_equal(run("keygen", "-o", path("p.pem"), NULL), 0);
    const char *line = strstr(out, "CONFIG_DUET_PUBKEY_HEX=\"04");
    assert_non_null(line);
    char from_keygen[256];
    snprintf(from_keygen, sizeof(from_keygen), "%s", line);
    /* "04" + 128 hex digits between the quotes */
    assert_int_equal(strchr(from_keygen + 24, '"') - (from_keygen + 24), 130);
    assert_int_equal(run("pubkey", path("p.pem"), NULL), 0);
    assert_string_equal(out, from_keygen);
    assert_int_equal(run("pubkey", path("p.pub.pem"), NULL), 0);
    assert_string_equal(out, from_keygen);
    assert_int_equal(run("pubkey", elf, NULL), 2);
    one_error_line("pubkey");
    assert_int_equal(run("pubkey", NULL), 1);
}

static void write_bytes(const char *p, const void *b, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void test_broken_images_exit_2_with_the_reason(void **state)
{
    assert_int_equal(run("pack", "--chip", "host", "-o", path("d.duet"), elf, NULL), 0);
    FILE *f = fopen(path("d.duet"), "rb");
    static uint8_t img[1 << 22];
    size_t n = fread(img, 1, sizeof(img), f);
    fclose(f);
    img[200] ^= 1; /* payload byte */
    write_bytes(path("e.duet"), img, n);
    assert_int_equal(run("verify", path("e.duet"), NULL), 2);
    one_error_line("verify");
    assert_non_null(strstr(err, "IMG_BAD_HASH"));
    img[200] ^= 1;
    write_bytes(path("e.duet"), img, n / 2);
    assert_int_equal(run("verify", path("e.duet"), NULL), 2);
    assert_int_equal(run("inspect", "--json", path("e.duet"), NULL), 2);
    jp_node_t *j = jp_parse(out, strlen(out), NULL, 0);
    assert_non_null(j); /* still valid JSON for a broken image */
    assert_false(jp_bool(jp_get(j, "verify"), "ok", true));
    jp_free(j);
    assert_int_equal(run("verify", "--chip", "esp32s3", path("d.duet"), NULL), 2);
    assert_non_null(strstr(err, "IMG_WRONG_CHIP"));
    assert_int_equal(run("verify", "--min-security", "1", path("d.duet"), NULL), 2);
    assert_non_null(strstr(err, "IMG_DOWNGRADE"));
}

static void test_usage_and_io_exit_codes(void **state)
{
    assert_int_equal(run(NULL), 1);
    assert_int_equal(run("frobnicate", NULL), 1);
    assert_int_equal(run("--help", NULL), 0);
    assert_int_equal(run("pack", "--help", NULL), 0);
    assert_non_null(strstr(out, "0x10000000"));
    assert_int_equal(run("pack", "--chip", "z80", "-o", path("x"), elf, NULL), 1);
    one_error_line("pack");
    assert_int_equal(run("pack", "--version", "1.2", "-o", path("x"), elf, NULL), 1);
    assert_int_equal(run("pack", "--chip", "host", elf, NULL), 1); /* no -o */
    assert_int_equal(run("verify", path("does-not-exist"), NULL), 3);
    one_error_line("verify");
    assert_int_equal(run("pack", "--chip", "host", "-o", path("x"), path("does-not-exist"), NULL),
                     3);
    assert_int_equal(run("pack", "--chip", "host", "-o", path("x"), path("k.pub.pem"), NULL), 2);
    one_error_line("pack");
    /* nothing listens on port 1: a network error */
    assert_int_equal(run("status", "--url", "http://127.0.0.1:1", NULL), 3);
    one_error_line("status");
    assert_int_equal(run("push", "--url", "http://127.0.0.1:1", path("d.duet"), NULL), 3);
}

/* Crash decoding from a raw record and a JSON answer, symbolized with libelf. */
static void test_crash_decodes_and_symbolizes(void **state)
{
    /* find the fixture's function address with libelf, independently of the CLI */
    int fd = open(elf, O_RDONLY);
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    Elf_Scn *scn = NULL;
    uint64_t fn = 0;
    while ((scn = elf_nextscn(e, scn)) && !fn) {
        GElf_Shdr sh;
        gelf_getshdr(scn, &sh);
        if (sh.sh_type != SHT_SYMTAB)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym s;
            gelf_getsym(d, (int)i, &s);
            const char *nm = elf_strptr(e, sh.sh_link, s.st_name);
            if (nm && strcmp(nm, "duet_fixture_crash_here") == 0)
                fn = s.st_value;
        }
    }
    elf_end(e);
    close(fd);
    assert_true(fn != 0);

    duet_crash_t c;
    memset(&c, 0, sizeof(c));
    c.cr_magic = DUET_CRASH_MAGIC;
    c.cr_epoch = 4;
    c.cr_reason = DUET_CRASH_LOAD_STORE;
    c.cr_exccause = 11;
    c.cr_pc = (uint32_t)fn + 4;
    c.cr_bt_count = 1;
    c.cr_bt[0] = (uint32_t)fn + 8;
    write_bytes(path("crash.bin"), &c, sizeof(c));
    assert_int_equal(run("crash", "--chip", "host", "--elf", elf, path("crash.bin"), NULL), 0);
    assert_non_null(strstr(out, "LOAD_STORE"));
    assert_non_null(strstr(out, "SIGSEGV"));
    assert_non_null(strstr(out, "duet_fixture_crash_here+0x4"));
    assert_non_null(strstr(out, "duet_fixture_crash_here+0x8"));

    /* the JSON form (as GET /api/crash answers) round-trips through "raw" */
    assert_int_equal(run("crash", "--json", "--chip", "host", path("crash.bin"), NULL), 0);
    write_bytes(path("crash.json"), out, strlen(out));
    jp_node_t *j = jp_parse(out, strlen(out), NULL, 0);
    assert_non_null(j);
    assert_string_equal(jp_str(j, "chip", ""), "host");
    assert_string_equal(jp_str(j, "reason_name", ""), "LOAD_STORE");
    jp_free(j);
    assert_int_equal(run("crash", "--elf", elf, path("crash.json"), NULL), 0);
    assert_non_null(strstr(out, "duet_fixture_crash_here+0x4"));

    /* Xtensa cause names when the record comes from the chip */
    c.cr_exccause = 29;
    write_bytes(path("crash.bin"), &c, sizeof(c));
    assert_int_equal(run("crash", "--chip", "esp32s3", path("crash.bin"), NULL), 0);
    assert_non_null(strstr(out, "StoreProhibited"));
    write_bytes(path("bad.json"), "{\"raw\":\"zz\"}", 12);
    assert_int_equal(run("crash", path("bad.json"), NULL), 2);
    one_error_line("crash");
}


/* ---- duet flash ------------------------------------------------------------------ */

#define SIM_SLOT (4u << 20)     /* duet-sim's slot size (sim/sim.h DUET_SIM_SLOT_SIZE) */
#define SIM_STATE (8u << 10)    /* host flash STATE area (duet/host_flash.h default) */
#define SIM_FILE_SIZE (2u * SIM_SLOT + SIM_STATE)

static uint8_t *load(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static bool all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return false;
    return true;
}

static void test_flash_sim_writes_the_slot_and_refuses_bad_images(void **state)
{
    char simdir[1024], flash[1100];
    snprintf(simdir, sizeof(simdir), "%s", path("sim"));
    mkdir(simdir, 0755);
    snprintf(flash, sizeof(flash), "%s/duet-sim.flash", simdir);
    unlink(flash);
    assert_int_equal(run("pack", "--chip", "host", "--version", "1.4.0", "--name", "fx", "-o",
                         path("f.duet"), elf, NULL), 0);
    size_t ilen, flen;
    uint8_t *img = load(path("f.duet"), &ilen);

    /* a missing file is created blank with duet-sim's geometry; slot A holds the image */
    assert_int_equal(run("flash", "--sim-dir", simdir, "--slot", "a", path("f.duet"), NULL), 0);
    assert_non_null(strstr(out, "OK for host: fx 1.4.0"));
    assert_non_null(strstr(out, "journal is blank"));
    uint8_t *fl = load(flash, &flen);
    assert_int_equal(flen, SIM_FILE_SIZE);
    assert_memory_equal(fl, img, ilen);
    assert_true(all_ff(fl + ilen, SIM_SLOT - ilen));         /* rest of slot A erased */
    assert_true(all_ff(fl + SIM_SLOT, SIM_SLOT + SIM_STATE)); /* slot B, STATE untouched */
    free(fl);

    /* a corrupted image is refused and the file stays byte for byte the same */
    uint8_t *bad = malloc(ilen);
    memcpy(bad, img, ilen);
    bad[ilen / 2] ^= 0x40;
    write_bytes(path("bad.duet"), bad, ilen);
    free(bad);
    uint8_t *before = load(flash, &flen);
    assert_int_equal(run("flash", "--sim-flash", flash, "--slot", "a", path("bad.duet"), NULL), 2);
    one_error_line("flash");
    assert_non_null(strstr(err, "IMG_BAD_HASH"));
    assert_non_null(strstr(err, "nothing written"));
    assert_int_equal(run("flash", "--sim-flash", flash, "--slot", "b", path("bad.duet"), NULL), 2);
    assert_int_equal(run("flash", "--sim-flash", flash, "--slot", "a", "--min-security", "9",
                         path("f.duet"), NULL), 2);
    assert_non_null(strstr(err, "IMG_DOWNGRADE"));
    size_t alen;
    uint8_t *after = load(flash, &alen);
    assert_int_equal(alen, flen);
    assert_memory_equal(after, before, flen);
    free(after);

    /* slot B with a blank journal: slot A verifies too and is adopted first -> warned */
    assert_int_equal(run("flash", "--sim-dir", simdir, "--slot", "b", path("f.duet"), NULL), 0);
    assert_non_null(strstr(err, "warning: slot A holds a valid image and is adopted first"));
    fl = load(flash, &flen);
    assert_memory_equal(fl + SIM_SLOT, img, ilen);
    assert_memory_equal(fl, before, SIM_SLOT); /* slot A unchanged */
    free(fl);
    free(before);

    /* --erase-state: a journal (any bytes in STATE) is erased after the slot is written */
    FILE *f = fopen(flash, "r+b");
    assert_non_null(f);
    fseek(f, 2L * SIM_SLOT, SEEK_SET);
    fwrite("\0\0\0\0journal", 1, 11, f);
    fclose(f);
    assert_int_equal(run("flash", "--sim-dir", simdir, "--slot", "a", "--erase-state",
                         path("f.duet"), NULL), 0);
    assert_non_null(strstr(out, "erased the slot-state journal"));
    fl = load(flash, &flen);
    assert_true(all_ff(fl + 2u * SIM_SLOT, SIM_STATE));
    free(fl);

    /* a file that is not a duet-sim flash file is refused before anything is written */
    write_bytes(path("notflash"), "abc", 3);
    assert_int_equal(run("flash", "--sim-flash", path("notflash"), "--slot", "a", path("f.duet"),
                         NULL), 3);
    one_error_line("flash");
    fl = load(path("notflash"), &flen);
    assert_int_equal(flen, 3);
    free(fl);
    free(img);
}

/* An esp32s3 image inside the CLI's default esp32s3 window, for the given ABI. */
static void write_s3_image_abi(const char *p, uint8_t abi)
{
    static uint8_t code[0x200], data[0x40];
    for (unsigned i = 0; i < sizeof(code); i++)
        code[i] = (uint8_t)(i * 5 + 3);
    const duet_img_seg_in_t segs[] = {
        {DUET_SEG_CODE, 0x403CD000u, sizeof(code), code},  /* IRAM alias of 0x3FCDD000 */
        {DUET_SEG_DATA, 0x3FCE0000u, sizeof(data), data},
        {DUET_SEG_BSS, 0x3FCE0100u, 0x100, NULL},
    };
    duet_img_desc_t d;
    memset(&d, 0, sizeof(d));
    d.chip = DUET_CHIP_ESP32S3;
    d.abi = abi;
    d.entry = 0x403CD100u;
    d.vectors = 0x403CD000u;
    d.stack_top = 0x3FCDCF00u;
    d.stack_size = 0x400;
    d.shm_version = DUET_SHM_LAYOUT_VERSION;
    d.ver_major = 3;
    d.security_counter = 2;
    d.name = "s3fx";
    d.seg_count = 3;
    d.segs = segs;
    uint8_t *img;
    size_t len;
    assert_int_equal(duet_img_write(&d, &img, &len), DUET_OK);
    write_bytes(p, img, len);
    free(img);
}

/* The windowed ABI: what an ESP32-S3 device runs. */
static void write_s3_image(const char *p)
{
    write_s3_image_abi(p, DUET_ABI_WINDOWED);
}

/* verify/inspect apply the policy of a device of the chip: its ABI (a call0 image, as the
 * CI's lx106 toolchain builds, is refused unless --abi call0 asks for the CI check), and
 * an unknown chip id is the wrong chip, not a window question. */
static void test_verify_applies_the_device_policy(void **state)
{
    write_s3_image_abi(path("call0.duet"), DUET_ABI_CALL0);
    assert_int_equal(run("verify", path("call0.duet"), NULL), 2);
    one_error_line("verify");
    assert_non_null(strstr(err, "IMG_WRONG_ABI"));
    assert_int_equal(run("verify", "--chip", "esp32s3", path("call0.duet"), NULL), 2);
    assert_non_null(strstr(err, "IMG_WRONG_ABI"));
    assert_int_equal(run("inspect", "--json", path("call0.duet"), NULL), 2);
    jp_node_t *j = jp_parse(out, strlen(out), NULL, 0);
    assert_non_null(j);
    assert_string_equal(jp_str(jp_get(j, "verify"), "error", ""), "IMG_WRONG_ABI");
    assert_string_equal(jp_str(jp_get(j, "verify"), "abi", ""), "windowed");
    jp_free(j);
    /* the CI check asks for call0 explicitly, and the line says so */
    assert_int_equal(run("verify", "--abi", "call0", path("call0.duet"), NULL), 0);
    assert_non_null(strstr(out, "OK for esp32s3 (call0 ABI): s3fx 3.0.0"));
    assert_int_equal(run("inspect", "--json", "--abi", "call0", path("call0.duet"), NULL), 0);
    assert_int_equal(run("verify", "--abi", "z80", path("call0.duet"), NULL), 1);
    one_error_line("verify");
    /* a windowed image is fine by default, and not under --abi call0 */
    write_s3_image(path("win.duet"));
    assert_int_equal(run("verify", path("win.duet"), NULL), 0);
    assert_non_null(strstr(out, "OK for esp32s3: s3fx"));
    assert_int_equal(run("verify", "--abi", "call0", path("win.duet"), NULL), 2);
    assert_non_null(strstr(err, "IMG_WRONG_ABI"));

    /* chip id 7 (no such chip): IMG_WRONG_CHIP, also for inspect */
    size_t n;
    assert_int_equal(run("pack", "--chip", "host", "-o", path("c7.duet"), elf, NULL), 0);
    uint8_t *img = load(path("c7.duet"), &n);
    img[8] = 7;
    write_bytes(path("c7.duet"), img, n);
    free(img);
    assert_int_equal(run("verify", path("c7.duet"), NULL), 2);
    one_error_line("verify");
    assert_non_null(strstr(err, "IMG_WRONG_CHIP"));
    assert_int_equal(run("inspect", "--json", path("c7.duet"), NULL), 2);
    j = jp_parse(out, strlen(out), NULL, 0);
    assert_non_null(j);
    assert_string_equal(jp_str(jp_get(j, "verify"), "error", ""), "IMG_WRONG_CHIP");
    assert_string_equal(jp_str(jp_get(j, "header"), "chip", ""), "unknown");
    jp_free(j);
    assert_int_equal(run("verify", "--chip", "host", path("c7.duet"), NULL), 2);
    assert_non_null(strstr(err, "IMG_WRONG_CHIP"));
}

/* No verb reads more of an image than the largest slot holds (64 MiB): an endless device
 * or a bigger file is refused with exit 2 and one line, nothing is written or sent. */
static void test_image_input_is_bounded(void **state)
{
    char big[1024];
    snprintf(big, sizeof(big), "%s", path("big.duet")); /* path() reuses its buffers */
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (64L << 20) + 1), 0); /* sparse: one byte too many */
    close(fd);
    const char *too_big = "larger than any slot";
    const char *inputs[] = {"/dev/zero", big};
    for (int i = 0; i < 2; i++) {
        const char *in = inputs[i];
        assert_int_equal(run("verify", in, NULL), 2);
        one_error_line("verify");
        assert_non_null(strstr(err, too_big));
        assert_int_equal(run("inspect", "--json", in, NULL), 2);
        one_error_line("inspect");
        assert_non_null(strstr(err, too_big));
        assert_int_equal(run("sign", "--key", path("k.pem"), in, "-o", path("signed-big"), NULL),
                         2);
        one_error_line("sign");
        assert_non_null(strstr(err, too_big));
        assert_int_equal(access(path("signed-big"), F_OK), -1);
        assert_int_equal(run("push", "--url", "http://127.0.0.1:1", "--no-progress", in, NULL), 2);
        one_error_line("push");
        assert_non_null(strstr(err, too_big));
        unlink(path("never.flash"));
        assert_int_equal(run("flash", "--sim-flash", path("never.flash"), "--slot", "a", in, NULL),
                         2);
        one_error_line("flash");
        assert_non_null(strstr(err, too_big));
        assert_int_equal(access(path("never.flash"), F_OK), -1);
    }
    /* exactly 64 MiB is read and judged (it is no image) */
    fd = open(big, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 64L << 20), 0);
    close(fd);
    assert_int_equal(run("verify", big, NULL), 2);
    assert_null(strstr(err, too_big));
    assert_non_null(strstr(err, "IMG_BAD_MAGIC"));
    unlink(big);
    /* key files are bounded too (an I/O error, not a 2 GiB read) */
    assert_int_equal(run("verify", "--key", "/dev/zero", path("win.duet"), NULL), 3);
    one_error_line("verify");
}

/* A stand-in parttool.py: appends its arguments (one a line, then "--") to $FAKE_LOG and
 * exits with $FAKE_RC. */
static void write_fake_parttool(const char *p)
{
    const char *sh = "#!/bin/sh\n"
                     "for a in \"$@\"; do printf '%s\\n' \"$a\" >> \"$FAKE_LOG\"; done\n"
                     "echo -- >> \"$FAKE_LOG\"\n"
                     "exit ${FAKE_RC:-0}\n";
    write_bytes(p, sh, strlen(sh));
    assert_int_equal(chmod(p, 0755), 0);
}

static char *log_text(void)
{
    static char buf[4096];
    FILE *f = fopen(path("parttool.log"), "r");
    size_t n = 0;
    if (f) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    unlink(path("parttool.log"));
    return buf;
}

static void test_flash_device_runs_parttool(void **state)
{
    char bin[1024], idf[1024], tool[1200], newpath[4096], img[1024];
    snprintf(bin, sizeof(bin), "%s", path("fakebin"));
    mkdir(bin, 0755);
    snprintf(tool, sizeof(tool), "%s/parttool.py", bin);
    write_fake_parttool(tool);
    snprintf(img, sizeof(img), "%s", path("s3.duet"));
    write_s3_image(img);
    const char *old_path = getenv("PATH");
    char *saved_path = strdup(old_path ? old_path : "/usr/bin:/bin");
    snprintf(newpath, sizeof(newpath), "%s:%s", bin, saved_path);
    setenv("PATH", newpath, 1);
    unsetenv("IDF_PATH");
    setenv("FAKE_LOG", path("parttool.log"), 1);
    unsetenv("FAKE_RC");
    unlink(path("parttool.log"));
    assert_int_equal(run("verify", "--chip", "esp32s3", img, NULL), 0);

    /* slot b + --erase-state: the slot is written first, then the journal erased */
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE0", "--baud", "460800", "--slot", "b",
                         "--erase-state", img, NULL), 0);
    char expect[4096];
    snprintf(expect, sizeof(expect),
             "--port\n/dev/ttyFAKE0\n--baud\n460800\nwrite_partition\n--partition-name\nduet_b\n"
             "--input\n%s\n--\n"
             "--port\n/dev/ttyFAKE0\n--baud\n460800\nerase_partition\n--partition-name\n"
             "duet_state\n--\n", img);
    assert_string_equal(log_text(), expect);
    assert_non_null(strstr(out, "OK for esp32s3: s3fx 3.0.0"));
    assert_non_null(strstr(out, "journal blank"));

    /* slot a, a partition table file and offset; no journal erase */
    const char *csv = "# Name, Type, SubType, Offset, Size\n"
                      "duet_a, 0x40, 0x00, , 64K\nduet_b, 0x40, 0x01, , 0x100\n";
    write_bytes(path("parts.csv"), csv, strlen(csv));
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE0", "--slot", "a", "--partition-table",
                         path("parts.csv"), "--partition-table-offset", "0x9000", img, NULL), 0);
    snprintf(expect, sizeof(expect),
             "--port\n/dev/ttyFAKE0\n--partition-table-file\n%s\n--partition-table-offset\n"
             "0x9000\nwrite_partition\n--partition-name\nduet_a\n--input\n%s\n--\n",
             path("parts.csv"), img);
    assert_string_equal(log_text(), expect);
    assert_non_null(strstr(out, "journal is unchanged"));

    /* the CSV's slot B (256 bytes) is too small: refused before parttool runs (it would
     * erase the partition before noticing) */
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE0", "--slot", "b", "--partition-table",
                         path("parts.csv"), img, NULL), 2);
    one_error_line("flash");
    assert_non_null(strstr(err, "do not fit partition duet_b"));
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE0", "--slot", "a", "--slot-size", "256",
                         img, NULL), 2);
    /* images a device would refuse never reach parttool */
    assert_int_equal(run("pack", "--chip", "host", "-o", path("h.duet"), elf, NULL), 0);
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE0", "--slot", "a", path("h.duet"), NULL), 2);
    assert_non_null(strstr(err, "IMG_WRONG_CHIP"));
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE0", "--slot", "a", "--require-signature",
                         img, NULL), 2);
    assert_non_null(strstr(err, "IMG_NO_SIG"));
    assert_string_equal(log_text(), "");

    /* parttool fails: exit 3, and the journal is not erased after a failed write */
    setenv("FAKE_RC", "2", 1);
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE0", "--slot", "a", "--erase-state", img,
                         NULL), 3);
    one_error_line("flash");
    assert_non_null(strstr(err, "parttool.py exit 2"));
    assert_null(strstr(log_text(), "erase_partition"));
    unsetenv("FAKE_RC");

    /* custom partition names */
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE0", "--slot", "a", "--partition-name",
                         "core1_a", "--state-partition", "core1_st", "--erase-state", img, NULL), 0);
    char *lg = log_text();
    assert_non_null(strstr(lg, "--partition-name\ncore1_a\n"));
    assert_non_null(strstr(lg, "erase_partition\n--partition-name\ncore1_st\n"));

    /* not on PATH: found through $IDF_PATH/components/partition_table */
    setenv("PATH", "/usr/bin:/bin", 1);
    snprintf(idf, sizeof(idf), "%s", path("idf"));
    mkdir(idf, 0755);
    snprintf(tool, sizeof(tool), "%s/components", idf);
    mkdir(tool, 0755);
    snprintf(tool, sizeof(tool), "%s/components/partition_table", idf);
    mkdir(tool, 0755);
    snprintf(tool, sizeof(tool), "%s/components/partition_table/parttool.py", idf);
    write_fake_parttool(tool);
    setenv("IDF_PATH", idf, 1);
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE1", "--slot", "a", img, NULL), 0);
    assert_non_null(strstr(log_text(), "--port\n/dev/ttyFAKE1\nwrite_partition\n"));
    assert_non_null(strstr(out, tool));

    /* nowhere: one clear line saying what to install/source; --dry-run still prints */
    unsetenv("IDF_PATH");
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE1", "--slot", "a", img, NULL), 3);
    one_error_line("flash");
    assert_non_null(strstr(err, "parttool.py not found"));
    assert_non_null(strstr(err, "export.sh"));
    assert_int_equal(run("flash", "--port", "/dev/ttyFAKE1", "--slot", "b", "--erase-state",
                         "--dry-run", img, NULL), 0);
    assert_non_null(strstr(out, "write_partition --partition-name duet_b --input"));
    assert_non_null(strstr(out, "erase_partition --partition-name duet_state"));
    assert_string_equal(log_text(), "");

    setenv("PATH", saved_path, 1);
    free(saved_path);
    unsetenv("FAKE_LOG");
}

static void test_flash_usage(void **state)
{
    assert_int_equal(run("flash", "--help", NULL), 0);
    assert_non_null(strstr(out, "--erase-state"));
    assert_int_equal(run("flash", "--port", "/dev/x", path("f.duet"), NULL), 1); /* no --slot */
    one_error_line("flash");
    assert_int_equal(run("flash", "--port", "/dev/x", "--slot", "c", path("f.duet"), NULL), 1);
    assert_int_equal(run("flash", "--slot", "a", path("f.duet"), NULL), 1); /* no target */
    assert_int_equal(run("flash", "--port", "/dev/x", "--sim-dir", dir, "--slot", "a",
                         path("f.duet"), NULL), 1);
    assert_int_equal(run("flash", "--sim-dir", dir, "--slot", "a", "--dry-run", path("f.duet"),
                         NULL), 1);
    one_error_line("flash");
    assert_int_equal(run("flash", "--sim-dir", dir, "--slot", "a", path("missing.duet"), NULL), 3);
    one_error_line("flash");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_cli DUET FIXTURE_ELF SCRATCH_DIR\n");
        return 1;
    }
    duet = argv[1];
    elf = argv[2];
    dir = argv[3];
    mkdir(dir, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_inspect_verify_host_image),
        cmocka_unit_test(test_keygen_sign_verify_round_trip),
        cmocka_unit_test(test_pubkey_prints_the_sdkconfig_line),
        cmocka_unit_test(test_broken_images_exit_2_with_the_reason),
        cmocka_unit_test(test_usage_and_io_exit_codes),
        cmocka_unit_test(test_crash_decodes_and_symbolizes),
        cmocka_unit_test(test_flash_sim_writes_the_slot_and_refuses_bad_images),
        cmocka_unit_test(test_flash_device_runs_parttool),
        cmocka_unit_test(test_flash_usage),
        cmocka_unit_test(test_verify_applies_the_device_policy),
        cmocka_unit_test(test_image_input_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
