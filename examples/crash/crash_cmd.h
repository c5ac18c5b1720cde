/*
 * crash_cmd.h - the commands of the crash example (shared with the tests that drive it).
 *
 * A command arrives as a 32-bit word in sc_user[CRASH_CMD_WORD] (core 0 writes it; it
 * survives restarts, so it can be set before a start) or as a 4-byte little-endian
 * message on channel "cmd" when core 0 configured that channel.
 */
#ifndef DUET_EXAMPLE_CRASH_CMD_H
#define DUET_EXAMPLE_CRASH_CMD_H

#define CRASH_CMD_WORD 1 /* index into sc_user */

enum {
    CRASH_CMD_NONE = 0,
    CRASH_CMD_BAD_POINTER = 1,    /* load from an unmapped address -> LOAD_STORE */
    CRASH_CMD_ILLEGAL = 2,        /* illegal instruction -> ILLEGAL_INSN */
    CRASH_CMD_DIV_ZERO = 3,       /* integer divide by zero -> DIV_ZERO */
    CRASH_CMD_STACK_OVERFLOW = 4, /* unbounded recursion -> STACK_OVERFLOW */
    CRASH_CMD_HANG = 5,           /* spin without heartbeats -> HANG (core 0's deadline) */
    CRASH_CMD_PANIC = 6,          /* duet_rt_panic -> PANIC */
    CRASH_CMD_ASSERT = 7,         /* DUET_ASSERT fails -> ASSERT */
    CRASH_CMD__COUNT
};

/* Address the bad-pointer fault loads from (unmapped on the PC; on the ESP32-S3 it is
 * in the low reserved area, which raises LoadProhibited). */
#define CRASH_BAD_ADDRESS 0x00000010u

#endif /* DUET_EXAMPLE_CRASH_CMD_H */
