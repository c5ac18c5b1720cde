/*
 * start.c - start-up of a core-1 program built for the PC: the process main() that the
 * simulator's host port fexecve()s (see port/host/host_child.h for the hand-over).
 *
 * It does what the chip's start-up code does, in process terms:
 *   1. map the shared area from the inherited fd and check core 0 stamped an epoch;
 *   2. find the executable's load base and GNU build-id (crash records carry offsets
 *      from the base, so `addr2line -e <program> <offset>` works on the build output);
 *   3. install fatal-signal handlers (fault.c) that write the chip's crash record;
 *      XIP programs: map the slot's pages and install the park handler (xip.c);
 *   4. run duet_main() on a thread whose stack is the image's ih_stack_size with a
 *      PROT_NONE guard below it, so a stack overflow faults in a known range;
 *   5. duet_main returned: EXITED, doorbell, _exit.
 * The main thread only waits; the process ends with _exit from the program thread.
 */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "duet/app.h"
#include "host_arch.h"
#include "duet/host_child.h"
#include "rt_priv.h"

#define GUARD_SIZE (64u * 1024u)   /* large: a big frame must still land in it */
#define TLS_SLACK (32u * 1024u)    /* glibc puts the thread descriptor + TLS on top */
#define MIN_STACK (16u * 1024u)
#define MAX_STACK (64u * 1024u * 1024u)

static int env_num(const char *name, unsigned long long *out)
{
    const char *s = getenv(name);
    if (s == NULL || *s == '\0')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == NULL || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* dl_iterate_phdr visits the main executable first: take its base, range, build-id. */
static int find_self(struct dl_phdr_info *info, size_t sz, void *arg)
{
    (void)sz;
    (void)arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t a = (uintptr_t)info->dlpi_addr + (uintptr_t)ph->p_vaddr;
        if (ph->p_type == PT_LOAD) {
            if (a < lo)
                lo = a;
            if (a + ph->p_memsz > hi)
                hi = a + ph->p_memsz;
        } else if (ph->p_type == PT_NOTE && duet_host.build_id_len == 0) {
            const uint8_t *p = (const uint8_t *)a, *end = p + ph->p_memsz;
            while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
                ElfW(Nhdr) n;
                memcpy(&n, p, sizeof n);
                size_t name_al = (n.n_namesz + 3u) & ~(size_t)3u;
                size_t desc_al = (n.n_descsz + 3u) & ~(size_t)3u;
                const uint8_t *name = p + sizeof n, *desc = name + name_al;
                if ((size_t)(end - name) < name_al || (size_t)(end - desc) < desc_al)
                    break;
                if (n.n_type == NT_GNU_BUILD_ID && n.n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                    size_t len = n.n_descsz < sizeof duet_host.build_id ? n.n_descsz
                                                                       : sizeof duet_host.build_id;
                    memcpy(duet_host.build_id, desc, len);
                    duet_host.build_id_len = (unsigned)len;
                    break;
                }
                p = desc + desc_al;
            }
        }
    }
    duet_host.load_base = (uintptr_t)info->dlpi_addr;
    duet_host.text_lo = lo;
    duet_host.text_hi = hi;
    return 1; /* stop: only the executable itself */
}

static void *program_thread(void *arg)
{
    (void)arg;
    if (duet_host_fault_altstack() != 0)
        _exit(DUET_HOST_EXIT_STACK);
    duet_host_xip_block(0); /* park requests stop this thread, the one running the program */
    duet_main();
    duet_rt_priv_exit();
    _exit(0);
}

int main(int argc, char **argv)
{
    (void)argc;
    unsigned long long fd = 0, size = 0, c1 = 0, c0 = 0, stack = 64u * 1024u, top = 0;
    if (env_num(DUET_HOST_ENV_SHM_FD, &fd) || env_num(DUET_HOST_ENV_SHM_SIZE, &size) ||
        env_num(DUET_HOST_ENV_BELL_C1, &c1) || env_num(DUET_HOST_ENV_BELL_C0, &c0)) {
        fprintf(stderr,
                "%s: this is a duet core-1 program; run it in the simulator "
                "(duet sim / duet-sim) after packing it with duet pack\n",
                argv[0] != NULL ? argv[0] : "program");
        return DUET_HOST_EXIT_NO_ENV;
    }
    (void)env_num(DUET_HOST_ENV_STACK_SIZE, &stack); /* optional: default 64 KiB */
    (void)env_num(DUET_HOST_ENV_STACK_TOP, &top);
    if (size < DUET_SHM_CTRL_SIZE || size > (1ull << 31))
        _exit(DUET_HOST_EXIT_BOOT);
    void *shm = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
    if (shm == MAP_FAILED)
        _exit(DUET_HOST_EXIT_BOOT);
    close((int)fd);
    duet_host.shm = shm;
    duet_host.shm_size = (size_t)size;
    duet_host.bell_c1_fd = (int)c1;
    duet_host.bell_c0_fd = (int)c0;
    duet_host.img_stack_top = (uint32_t)top;
    dl_iterate_phdr(find_self, NULL);

    if (duet_host_fault_init() != 0 || duet_host_fault_altstack() != 0)
        _exit(DUET_HOST_EXIT_STACK);
    /* XIP: the flash pages go in before any program code can run; the main thread never
     * takes a park request (it only waits), the program thread unblocks them. */
    duet_host_xip_block(1);
    if (duet_host_xip_init() != 0)
        _exit(DUET_HOST_EXIT_XIP);

    /* The program's stack: [guard (PROT_NONE)][stack ... TLS/descriptor]. */
    if (stack < MIN_STACK)
        stack = MIN_STACK;
    if (stack > MAX_STACK)
        stack = MAX_STACK;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t ssz = ((size_t)stack + TLS_SLACK + page - 1) & ~(page - 1);
    uint8_t *mem = mmap(NULL, GUARD_SIZE + ssz, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mem == MAP_FAILED || mprotect(mem, GUARD_SIZE, PROT_NONE) != 0)
        _exit(DUET_HOST_EXIT_STACK);
    duet_host.guard_lo = (uintptr_t)mem;
    duet_host.stack_lo = (uintptr_t)mem + GUARD_SIZE;
    duet_host.stack_hi = duet_host.stack_lo + ssz;

    /* Like the chip's start-up: publish epoch/build-id/RUNNING just before duet_main. */
    if (duet_rt_priv_boot(duet_host.build_id, duet_host.build_id_len) != DUET_OK)
        _exit(DUET_HOST_EXIT_BOOT);
    duet_rt_st(&duet_host.shm->sc_c1_cpu_hz, 1000000000u); /* cycles are nanoseconds */

    pthread_attr_t attr;
    pthread_t th;
    if (pthread_attr_init(&attr) != 0 ||
        pthread_attr_setstack(&attr, (void *)duet_host.stack_lo, ssz) != 0 ||
        pthread_create(&th, &attr, program_thread, NULL) != 0)
        _exit(DUET_HOST_EXIT_STACK);
    /* Die with the simulator: its end of the life pipe closes when the process is gone
     * (PR_SET_PDEATHSIG would follow the thread that forked us, not the process). */
    unsigned long long life = 0;
    if (env_num(DUET_HOST_ENV_LIFE_FD, &life) == 0) {
        for (;;) {
            char b;
            ssize_t n = read((int)life, &b, 1);
            if (n == 0)
                _exit(0); /* the simulator is gone */
            if (n < 0 && errno != EINTR)
                break; /* unusable: just wait for the program */
        }
    }
    pthread_join(th, NULL); /* never returns: the program thread _exit()s */
    _exit(0);
}
