/*
 * test_cli.c - runs the real `duet` binary: pack a real ELF (fixture, compiled at build
 * time), then inspect/verify/sign/keygen round trips, documented exit codes, one-line
 * errors, --json output that parses, and crash decoding with libelf symbolization.
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
        cmocka_unit_test(test_broken_images_exit_2_with_the_reason),
        cmocka_unit_test(test_usage_and_io_exit_codes),
        cmocka_unit_test(test_crash_decodes_and_symbolizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
