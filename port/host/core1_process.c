/*
 * core1_process.c - the host port's core 1: a child process running the program's
 * PC executable, loaded from a simulated memory window.
 *
 * Window (what images are verified against, duet_port_window):
 *   0x10000000  64 MiB  R X   code: a host image has ONE CODE segment here holding the
 *                              whole executable file (entry = segment start)
 *   0x20000000  16 MiB  R W   data/stack: only bookkeeping on the host (the process has
 *                              its own memory), but the verifier checks stacks against it
 * The loader writes segments into a sparse buffer (duet_port_core1_write/zero); start
 * copies the CODE segment into a memfd and fexecve()s it, so the program that runs is
 * byte for byte the verified image content, never a file on disk.
 *
 * Life cycle: start forks a child (the hand-over is in host_child.h); it dies with the
 * simulator through the life pipe (below), not PR_SET_PDEATHSIG: that fires when the
 * forking THREAD ends, and a hot swap over HTTP starts core 1 from a connection thread
 * that ends right after the answer (the new program was killed at once). Stop is SIGKILL +
 * waitpid (the chip's "reset and hold"); poll reaps a dead child and, if it died without
 * writing a crash record, writes a DUET_CRASH_KILLED record for it.
 * Single-threaded use from the core-0 thread, like every port function.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "duet/port.h"
#include "duet/shm.h"
#include "duet/host_child.h"
#include "duet/host_port.h"
#include "host_xip.h"

extern char **environ;

static const duet_mem_region_t k_window[] = {
    {DUET_HOST_X_BASE, DUET_HOST_X_SIZE, DUET_HOST_X_BASE, DUET_MEM_R | DUET_MEM_X},
    {DUET_HOST_RW_BASE, DUET_HOST_RW_SIZE, DUET_HOST_RW_BASE, DUET_MEM_R | DUET_MEM_W},
};

static uint8_t *s_mem; /* X region then RW region, sparse (MAP_NORESERVE) */
static pid_t s_pid;
/* Life pipe: we hold the write end (close-on-exec, so no other program keeps it); the
 * child's main thread reads the other end and exits at EOF, i.e. when this process is
 * gone, whichever thread started it. */
static int s_life[2] = {-1, -1};
static int s_last_status = -1;

duet_err_t duet_port_window(const duet_mem_region_t **regions, unsigned *count, uint8_t *chip,
                            uint8_t *abi)
{
    if (regions != NULL)
        *regions = k_window;
    if (count != NULL)
        *count = (unsigned)(sizeof k_window / sizeof k_window[0]);
    if (chip != NULL)
        *chip = DUET_CHIP_HOST;
    if (abi != NULL)
        *abi = DUET_ABI_HOST;
    return DUET_OK;
}

/* Translate a window range to the buffer; NULL if it is not inside one region. */
static uint8_t *window_ptr(uint32_t addr, size_t len)
{
    if (s_mem == NULL) {
        void *p = mmap(NULL, (size_t)DUET_HOST_X_SIZE + DUET_HOST_RW_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        s_mem = p;
    }
    if (addr >= DUET_HOST_X_BASE && addr - DUET_HOST_X_BASE <= DUET_HOST_X_SIZE &&
        len <= DUET_HOST_X_SIZE - (addr - DUET_HOST_X_BASE))
        return s_mem + (addr - DUET_HOST_X_BASE);
    if (addr >= DUET_HOST_RW_BASE && addr - DUET_HOST_RW_BASE <= DUET_HOST_RW_SIZE &&
        len <= DUET_HOST_RW_SIZE - (addr - DUET_HOST_RW_BASE))
        return s_mem + DUET_HOST_X_SIZE + (addr - DUET_HOST_RW_BASE);
    return NULL;
}

duet_err_t duet_port_core1_write(uint32_t addr, const void *src, size_t len)
{
    if (s_pid != 0)
        return DUET_ERR_STATE; /* the contract: core 1 is stopped while loading */
    if (src == NULL && len > 0)
        return DUET_ERR_INVAL;
    uint8_t *p = window_ptr(addr, len);
    if (p == NULL)
        return DUET_ERR_INVAL;
    if (len > 0)
        memcpy(p, src, len);
    return DUET_OK;
}

duet_err_t duet_port_core1_zero(uint32_t addr, size_t len)
{
    if (s_pid != 0)
        return DUET_ERR_STATE;
    uint8_t *p = window_ptr(addr, len);
    if (p == NULL)
        return DUET_ERR_INVAL;
    memset(p, 0, len);
    return DUET_OK;
}

/* The executable = the CODE segment that holds the entry point. */
static duet_err_t find_code(const duet_img_info_t *img, const uint8_t **exe, size_t *len)
{
    for (unsigned i = 0; i < img->hdr.ih_seg_count && i < DUET_IMG_MAX_SEGS; i++) {
        const duet_img_seg_t *s = &img->segs[i];
        if (s->is_kind == DUET_SEG_CODE && img->hdr.ih_entry == s->is_addr) {
            const uint8_t *p = window_ptr(s->is_addr, s->is_size);
            if (p == NULL || s->is_size < 4 || memcmp(p, "\177ELF", 4) != 0)
                return DUET_ERR_IMG_BAD_ENTRY;
            *exe = p;
            *len = s->is_size;
            return DUET_OK;
        }
    }
    return DUET_ERR_IMG_BAD_ENTRY;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Environment for the child: ours (PATH, sanitizer options, ...) minus stale DUET_C1_*
 * entries, plus the hand-over variables. Built before fork: the child only execs. */
static char **child_env(char vars[][48], unsigned nvars)
{
    size_t n = 0;
    for (char **e = environ; e != NULL && *e != NULL; e++)
        n++;
    char **env = calloc(n + nvars + 1, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (char **e = environ; e != NULL && *e != NULL; e++)
        if (strncmp(*e, "DUET_C1_", 8) != 0)
            env[k++] = *e;
    for (unsigned i = 0; i < nvars; i++)
        env[k++] = vars[i];
    env[k] = NULL;
    return env;
}

duet_err_t duet_port_core1_start(const duet_img_info_t *img)
{
    if (img == NULL)
        return DUET_ERR_INVAL;
    if (s_pid != 0)
        return DUET_ERR_STATE;
    const uint8_t *exe = NULL;
    size_t exe_len = 0;
    DUET_TRY(find_code(img, &exe, &exe_len));
    size_t shm_size = 0;
    if (duet_port_shm(&shm_size) == NULL)
        return DUET_ERR_NOMEM;
    int shm_fd = duet_host_shm_fd(), to_c1 = -1, to_c0 = -1;
    DUET_TRY(duet_host_doorbell_fds(&to_c1, &to_c0));
    duet_host_doorbell_drain(); /* nothing from an earlier run may wake this one */

    if (s_life[0] < 0 && pipe2(s_life, O_CLOEXEC) != 0)
        return DUET_ERR_IO;
    int exe_fd = memfd_create("duet-core1", MFD_CLOEXEC);
    if (exe_fd < 0)
        return DUET_ERR_IO;
    if (write_all(exe_fd, exe, exe_len) != 0) {
        close(exe_fd);
        return DUET_ERR_IO;
    }
    char vars[10][48];
    snprintf(vars[0], sizeof vars[0], "%s=%d", DUET_HOST_ENV_SHM_FD, shm_fd);
    snprintf(vars[1], sizeof vars[1], "%s=%zu", DUET_HOST_ENV_SHM_SIZE, shm_size);
    snprintf(vars[2], sizeof vars[2], "%s=%d", DUET_HOST_ENV_BELL_C1, to_c1);
    snprintf(vars[3], sizeof vars[3], "%s=%d", DUET_HOST_ENV_BELL_C0, to_c0);
    snprintf(vars[4], sizeof vars[4], "%s=%u", DUET_HOST_ENV_STACK_SIZE,
             (unsigned)img->hdr.ih_stack_size);
    snprintf(vars[5], sizeof vars[5], "%s=%u", DUET_HOST_ENV_STACK_TOP,
             (unsigned)img->hdr.ih_stack_top);
    snprintf(vars[6], sizeof vars[6], "%s=%d", DUET_HOST_ENV_LIFE_FD, s_life[0]);
    int xip_fd = -1;
    unsigned nvars = 7 + host_xip_child_env(vars + 7, &xip_fd);
    char **env = child_env(vars, nvars);
    char name[40];
    snprintf(name, sizeof name, "%s", img->name[0] != '\0' ? img->name : "duet-core1");
    char *argv[] = {name, NULL};
    if (env == NULL) {
        close(exe_fd);
        return DUET_ERR_NOMEM;
    }
    pid_t parent = getpid();
    fflush(NULL); /* don't let the child inherit and re-flush buffered output */
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. Die with the simulator, like
         * core 1 is reset with core 0. */
        if (getppid() != parent)
            _exit(DUET_HOST_EXIT_NO_ENV);
        int keep[5] = {shm_fd, to_c1, to_c0, xip_fd, s_life[0]};
        for (int i = 0; i < 5; i++)
            if (keep[i] >= 0)
                fcntl(keep[i], F_SETFD, 0);
        /* XIP: a park request may come before the child installed its handler; blocked,
         * it waits (pending) instead of killing it (SIGUSR1's default action). */
        sigset_t mask;
        sigemptyset(&mask);
        if (xip_fd >= 0)
            sigaddset(&mask, DUET_HOST_PARK_SIGNAL);
        sigprocmask(SIG_SETMASK, &mask, NULL);
        fexecve(exe_fd, argv, env);
        _exit(127);
    }
    free(env);
    close(exe_fd);
    if (pid < 0)
        return DUET_ERR_IO;
    s_pid = pid;
    return DUET_OK;
}

static void reaped(int status)
{
    s_pid = 0;
    s_last_status = status;
}

duet_err_t duet_port_core1_stop(void)
{
    if (s_pid == 0)
        return DUET_OK;
    (void)kill(s_pid, SIGKILL); /* ESRCH: already dead, waitpid below still reaps it */
    int status = 0;
    pid_t r;
    do {
        r = waitpid(s_pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    reaped(r == s_pid ? status : -1);
    host_xip_unmap();
    return DUET_OK;
}

/* The child is gone. If it left no record of its own (crash record of this epoch, or
 * EXITED), write the KILLED record it could not write. */
static void account_death(int status)
{
    size_t size = 0;
    duet_shm_ctrl_t *c = duet_port_shm(&size);
    if (c == NULL)
        return;
    uint32_t epoch = __atomic_load_n(&c->sc_epoch, __ATOMIC_ACQUIRE);
    uint32_t st = __atomic_load_n(&c->sc_c1_state, __ATOMIC_ACQUIRE);
    duet_crash_t *cr = &c->sc_crash;
    if (st == DUET_C1_EXITED)
        return;
    if (st == DUET_C1_CRASHED && __atomic_load_n(&cr->cr_magic, __ATOMIC_ACQUIRE) == DUET_CRASH_MAGIC &&
        cr->cr_epoch == epoch)
        return;
    __atomic_store_n(&cr->cr_magic, 0, __ATOMIC_RELEASE);
    memset((uint8_t *)cr + sizeof cr->cr_magic, 0, sizeof *cr - sizeof cr->cr_magic);
    cr->cr_epoch = epoch;
    cr->cr_reason = DUET_CRASH_KILLED;
    if (WIFSIGNALED(status)) {
        cr->cr_exccause = (uint32_t)WTERMSIG(status);
        snprintf(cr->cr_msg, sizeof cr->cr_msg, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    } else if (WIFEXITED(status)) {
        cr->cr_ps = (uint32_t)WEXITSTATUS(status);
        snprintf(cr->cr_msg, sizeof cr->cr_msg, "exited with status %d, no crash record",
                 WEXITSTATUS(status));
    }
    __atomic_store_n(&cr->cr_magic, DUET_CRASH_MAGIC, __ATOMIC_RELEASE);
    __atomic_store_n(&c->sc_c1_state, DUET_C1_CRASHED, __ATOMIC_RELEASE);
}

duet_err_t duet_port_core1_poll(void)
{
    if (s_pid == 0)
        return DUET_ERR_STATE;
    int status = 0;
    pid_t r = waitpid(s_pid, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return DUET_OK;
    account_death(r == s_pid ? status : 0);
    reaped(r == s_pid ? status : -1);
    return DUET_ERR_STATE;
}

pid_t duet_host_core1_pid(void)
{
    return s_pid;
}

duet_err_t duet_host_core1_signal(int sig)
{
    if (s_pid == 0)
        return DUET_ERR_STATE;
    return kill(s_pid, sig) == 0 ? DUET_OK : DUET_ERR_IO;
}

int duet_host_core1_last_status(void)
{
    return s_last_status;
}
