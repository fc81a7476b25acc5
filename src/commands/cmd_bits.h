/*
 * cmd_bits.h — what the bitmap commands (t_bitmap.c, t_bitfield.c) share.
 * Private to src/commands. Threads and memory: as command.h.
 */
#ifndef FC_CMD_BITS_H
#define FC_CMD_BITS_H

#include <stdbool.h>
#include <stdint.h>

#include "commands/command.h"

/* Redis's getBitOffsetFromArgument: a bit offset at argv[i], below 2^32
 * (512 MB of bits); with bits > 0 a leading '#' multiplies it by bits
 * (BITFIELD's #N form). Replies "ERR bit offset is not an integer or out
 * of range" and returns false when it is not one. */
bool cmd_bit_offset(cmd_ctx *c, size_t i, int bits, uint64_t *out);

#endif /* FC_CMD_BITS_H */
