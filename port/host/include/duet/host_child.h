/*
 * duet/host_child.h - the hand-over between the host port (core 0 = the simulator process)
 * and the host core-1 runtime (sdk/arch/host, linked into every host program).
 *
 * duet_port_core1_start() forks and fexecve()s the program's executable (the CODE
 * segment of its image) with these environment variables; the child's main() in
 * sdk/arch/host/start.c reads them. Every value is a decimal number.
 *
 *   PARENT (port/host/core1_process.c)        CHILD (sdk/arch/host/start.c)
 *   shm initialised, epoch stamped
 *   fork; child: clear CLOEXEC
 *   fexecve(memfd, env) -------------------->  main(): map shm fd, check epoch,
 *                                              program thread on its own stack,
 *                                              signal handlers on a sigaltstack
 *   doorbell eventfd (to core 1) ----------->  duet_rt_doorbell_wait
 *                                    <-------  doorbell eventfd (to core 0)
 *   waitpid(WNOHANG) in core1_poll   <-------  _exit after crash record / EXITED
 *   life pipe write end (ours) ------------>  main thread reads it: EOF = simulator
 *                                              gone -> _exit (dies with core 0)
 *
 * Must not change without changing both sides (they are built from one tree).
 */
#ifndef DUET_HOST_CHILD_H
#define DUET_HOST_CHILD_H

#define DUET_HOST_ENV_SHM_FD "DUET_C1_SHM_FD"       /* shared area (memfd), MAP_SHARED */
#define DUET_HOST_ENV_SHM_SIZE "DUET_C1_SHM_SIZE"   /* bytes of the shared area */
#define DUET_HOST_ENV_BELL_C1 "DUET_C1_BELL_C1_FD"  /* eventfd core 0 -> core 1 */
#define DUET_HOST_ENV_BELL_C0 "DUET_C1_BELL_C0_FD"  /* eventfd core 1 -> core 0 */
#define DUET_HOST_ENV_STACK_SIZE "DUET_C1_STACK_SIZE" /* ih_stack_size of the image */
#define DUET_HOST_ENV_STACK_TOP "DUET_C1_STACK_TOP"   /* ih_stack_top (for cr_sp) */
#define DUET_HOST_ENV_LIFE_FD "DUET_C1_LIFE_FD"   /* pipe read end: EOF = simulator gone */
/* XIP programs only (docs/simulator.md "XIP"): */
#define DUET_HOST_ENV_XIP_FD "DUET_C1_XIP_FD"       /* memfd with the mapped pages */
#define DUET_HOST_ENV_XIP_ADDR "DUET_C1_XIP_ADDR"   /* ih_map_addr */
#define DUET_HOST_ENV_XIP_SIZE "DUET_C1_XIP_SIZE"   /* bytes to map (whole 64 KiB pages) */
/* Core 0 -> core 1 "park now" (the chip's FROM_CPU doorbell interrupt), XIP only. */
#define DUET_HOST_PARK_SIGNAL SIGUSR1

/* Exit codes of a child that could not boot (core 0 reports them as KILLED). */
#define DUET_HOST_EXIT_NO_ENV 90   /* started outside the simulator */
#define DUET_HOST_EXIT_BOOT 91     /* shared area bad or epoch missing */
#define DUET_HOST_EXIT_STACK 92    /* could not set up the program stack/thread */
#define DUET_HOST_EXIT_XIP 93      /* XIP program whose flash pages are not mapped */

#endif /* DUET_HOST_CHILD_H */
