/*
 * fault.c - the host core-1 fault path: fatal signals and duet_arch_fatal() write the
 * SAME crash record the chip's vector code writes (duet/shm.h), then the process ends.
 *
 *   signal / si_code                 cr_reason
 *   SIGSEGV, SIGBUS in stack guard   DUET_CRASH_STACK_OVERFLOW
 *   SIGSEGV, SIGBUS elsewhere        DUET_CRASH_LOAD_STORE (cr_excvaddr = si_addr)
 *   SIGBUS in the XIP mapping while  ILLEGAL_INSN (fetch) / LOAD_STORE (data), message
 *     core 0 writes flash            "flash access during flash write" (xip.c)
 *   SIGILL                           DUET_CRASH_ILLEGAL_INSN
 *   SIGFPE FPE_INTDIV                DUET_CRASH_DIV_ZERO
 *   SIGFPE other, SIGTRAP            DUET_CRASH_EXCEPTION
 *   SIGABRT                          DUET_CRASH_PANIC ("abort()")
 *
 * Host meaning of the arch fields: cr_exccause = signal number, cr_ps = si_code,
 * cr_pc and cr_bt[] = offsets from the executable's load base (`addr2line -e prog`
 * takes them as they are; 0xFFFFFFFF = outside the program, e.g. in libc),
 * cr_sp = the stack pointer translated into the image's view (ih_stack_top minus
 * depth), cr_a[] = 0. The backtrace walks frame pointers (host programs are built
 * with -fno-omit-frame-pointer) and only reads inside the program thread's stack.
 *
 * Everything on the signal path is async-signal-safe: stores into the shared mapping,
 * write() to an eventfd, _exit(). Handlers run on a per-thread alternate stack, so a
 * stack overflow can still be reported. A fault inside the handler falls back to the
 * default action (SA_RESETHAND); core 0 then reports the death as KILLED.
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "duet/app.h"
#include "host_arch.h"
#include "rt_priv.h"

#define ALTSTACK_SIZE (64u * 1024u)
#define OUTSIDE 0xFFFFFFFFu

static const int k_fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};

static uint32_t offset_of(uintptr_t a)
{
    if (a < duet_host.text_lo || a >= duet_host.text_hi)
        return OUTSIDE;
    return (uint32_t)(a - duet_host.load_base);
}

static uint32_t image_sp(uintptr_t sp)
{
    if (sp < duet_host.guard_lo || sp > duet_host.stack_hi)
        return (uint32_t)sp; /* not on the program stack (e.g. the main thread) */
    return duet_host.img_stack_top - (uint32_t)(duet_host.stack_hi - sp);
}

/* Walk the frame-pointer chain: [fp] = caller's fp, [fp + 1 word] = return address.
 * Same record shape on x86-64 (rbp) and AArch64 (x29). Reads only inside the stack. */
static unsigned walk(uintptr_t fp, uint32_t *bt, unsigned i)
{
    const uintptr_t w = sizeof(uintptr_t);
    while (i < DUET_CRASH_BT) {
        if (fp < duet_host.stack_lo || fp % w != 0 || fp > duet_host.stack_hi - 2 * w)
            break;
        uintptr_t next, ret;
        memcpy(&next, (const void *)fp, w);
        memcpy(&ret, (const void *)(fp + w), w);
        if (ret == 0)
            break;
        bt[i++] = offset_of(ret);
        if (next <= fp)
            break; /* frames must move up the stack: stops loops on a corrupt chain */
        fp = next;
    }
    return i;
}

static void context_regs(const void *ucv, uintptr_t *pc, uintptr_t *sp, uintptr_t *fp)
{
    const ucontext_t *uc = ucv;
    *pc = *sp = *fp = 0;
#if defined(__x86_64__)
    *pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    *sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    *fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
#elif defined(__aarch64__)
    *pc = (uintptr_t)uc->uc_mcontext.pc;
    *sp = (uintptr_t)uc->uc_mcontext.sp;
    *fp = (uintptr_t)uc->uc_mcontext.regs[29];
#else
    (void)uc; /* other hosts: no PC or backtrace, the reason is still right */
#endif
}

static void on_fatal(int sig, siginfo_t *si, void *ucv)
{
    uintptr_t pc, sp, fp;
    context_regs(ucv, &pc, &sp, &fp);
    uintptr_t addr = (uintptr_t)si->si_addr;
    uint32_t reason = DUET_CRASH_EXCEPTION;
    const char *msg = NULL;
    switch (sig) {
    case SIGSEGV:
    case SIGBUS:
        /* The guard sits right below the stack: a fault address (or SP) in it means the
         * program ran off its stack, however large the last frame was (up to the guard). */
        if ((addr >= duet_host.guard_lo && addr < duet_host.stack_lo) ||
            (sp >= duet_host.guard_lo && sp < duet_host.stack_lo))
            reason = DUET_CRASH_STACK_OVERFLOW;
        else
            reason = DUET_CRASH_LOAD_STORE;
        /* XIP: the flash mapping was off for a flash write (xip.c). The chip raises an
         * illegal instruction for a fetch and reads garbage for data; report both. */
        if (duet_host_xip_lockout_fault(addr)) {
            reason = addr == pc ? DUET_CRASH_ILLEGAL_INSN : DUET_CRASH_LOAD_STORE;
            msg = "flash access during flash write";
        }
        break;
    case SIGILL:
        reason = DUET_CRASH_ILLEGAL_INSN;
        break;
    case SIGFPE:
        reason = si->si_code == FPE_INTDIV ? DUET_CRASH_DIV_ZERO : DUET_CRASH_EXCEPTION;
        break;
    case SIGABRT:
        reason = DUET_CRASH_PANIC;
        msg = "abort()";
        break;
    default:
        break;
    }
    duet_crash_t *cr = duet_rt_priv_crash_begin(reason, msg);
    cr->cr_exccause = (uint32_t)sig;
    cr->cr_ps = (uint32_t)si->si_code;
    cr->cr_excvaddr = (uint32_t)addr;
    cr->cr_pc = offset_of(pc);
    cr->cr_sp = image_sp(sp);
    cr->cr_bt[0] = cr->cr_pc;
    cr->cr_bt_count = pc != 0 ? walk(fp, cr->cr_bt, 1) : 0;
    duet_rt_priv_crash_commit(cr);
    _exit(128 + sig);
}

_Noreturn void duet_arch_fatal(uint32_t reason, const char *msg)
{
    duet_crash_t *cr = duet_rt_priv_crash_begin(reason, msg);
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    cr->cr_bt_count = walk(fp, cr->cr_bt, 0);
    cr->cr_pc = cr->cr_bt_count > 0 ? cr->cr_bt[0] : offset_of((uintptr_t)__builtin_return_address(0));
    cr->cr_sp = image_sp(fp);
    duet_rt_priv_crash_commit(cr);
    _exit(128 + SIGABRT);
}

int duet_host_fault_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigfillset(&sa.sa_mask); /* one fault at a time; the record is written once */
    for (size_t i = 0; i < sizeof k_fatal / sizeof k_fatal[0]; i++)
        if (sigaction(k_fatal[i], &sa, NULL) != 0)
            return -1;
    return 0;
}

int duet_host_fault_altstack(void)
{
    void *mem = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return -1;
    stack_t ss = {.ss_sp = mem, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
    return sigaltstack(&ss, NULL);
}
