/*
 * dsp_proto.h - what core 0 and the dsp program exchange on channel "audio": one block
 * per message each way, a 16-byte header then the interleaved int16 frames.
 *
 *   CORE 0                                         CORE 1 (dsp.c)
 *   [hdr seq=n frames=64 flags] + 128 int16 --->   (flags & RESET: state to zero)
 *   doorbell                                       kernel over the frames
 *                               <---   [hdr seq=n frames=64 cycles] + 128 int16
 *                                                  doorbell
 *
 * Core 1 answers every block it receives, in order, with the same seq; a block core 0
 * could not send (ring full) never reaches core 1 and so never enters its state.
 */
#ifndef DUET_EXAMPLE_DSP_PROTO_H
#define DUET_EXAMPLE_DSP_PROTO_H

#include <stdint.h>

#include "dsp_chain.h"

#define DSP_CHANNEL     "audio"
#define DSP_MSG_RESET   1u /* dm_flags: start a new stream (zero all filter state) */
#define DSP_CPS_WORD    2  /* sc_user index: last block's cycles per sample x 100 */
#define DSP_BLOCKS_WORD 3  /* sc_user index: blocks processed in this run */

typedef struct {
    uint32_t dm_seq;    /* block number, echoed */
    uint32_t dm_frames; /* stereo frames that follow, 1..DSP_MAX_FRAMES */
    uint32_t dm_flags;  /* to core 1: DSP_MSG_RESET; from core 1: 0 */
    uint32_t dm_cycles; /* from core 1: cycles the kernel took (CCOUNT; PC: ns) */
} dsp_msg_hdr_t;

_Static_assert(sizeof(dsp_msg_hdr_t) == 16, "dsp message header size");

#define DSP_MSG_BYTES(frames) (sizeof(dsp_msg_hdr_t) + (frames)*DSP_CHANNELS * sizeof(int16_t))

#endif /* DUET_EXAMPLE_DSP_PROTO_H */
