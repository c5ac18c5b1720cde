/*
 * duet/xip.h - execute-in-place programs (docs/xip.md): what a program built with
 * duet_add_program(... MODE xip) may use.
 *
 * In XIP mode the program's code and read-only data run straight from its flash slot
 * through the MMU. Whenever core 0 writes or erases flash (an update into the other slot,
 * the slot journal, NVS), the flash cache is off: core 1 is parked in RAM-resident code
 * for the duration (its loop stops), and it must not touch flash-mapped code or data
 * then. DUET_RAM puts a function into the RAM window instead, copied there at load.
 *
 *   CORE 0 (flash write/erase)              CORE 1 (XIP program)
 *   sc_park_req = odd, doorbell/signal ---> park handler (RAM): sc_park_ack = req,
 *   wait for the ack (bounded; else stall)   calls the park hook (RAM) while parked,
 *   cache off, write, cache on               spins until sc_park_req is even again
 *   sc_park_req = even (release) ---------> returns into the interrupted flash code
 */
#ifndef DUET_XIP_H
#define DUET_XIP_H

#ifdef __cplusplus
extern "C" {
#endif

/** Place a function in the RAM window (not in the flash mapping). Everything a DUET_RAM
 *  function calls while flash is off must be DUET_RAM too, and its constants must not
 *  live in .rodata (use locals or DUET_RAM_DATA). RAM-mode programs: no effect. */
#define DUET_RAM __attribute__((section(".duet_ram.text"), noinline))
/** Read-only data kept in RAM (usable while parked). */
#define DUET_RAM_DATA __attribute__((section(".data.duet_ram")))

/** Called on core 1 while it is parked for a flash write, every time the park loop
 *  spins (e.g. to keep an audio output fed with silence). It must be DUET_RAM: a hook
 *  in flash-mapped code is fetched while the cache is off; the simulator reports that
 *  as a crash ("flash access during flash write"), the chip as a cache/illegal
 *  instruction fault. NULL removes the hook. */
typedef void (*duet_park_hook_t)(void);
void duet_set_park_hook(duet_park_hook_t hook);

#ifdef __cplusplus
}
#endif
#endif /* DUET_XIP_H */
