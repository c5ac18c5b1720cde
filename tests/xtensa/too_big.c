/* too_big.c - a core-1 program whose data cannot fit a 12 KiB window (tests/xtensa). */
#include <stdint.h>

#include "duet/app.h"

static uint32_t s_table[1024] = {1u}; /* 4 KiB of initialised data */

void duet_main(void)
{
    duet_rt_progress(s_table[duet_rt_epoch() & 1023u]);
}
