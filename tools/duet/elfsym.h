/*
 * elfsym.h - symbolize addresses with a program's ELF: function symbols read with
 * libelf (always works, any architecture), plus file:line from addr2line
 * (host: addr2line; Xtensa: xtensa-esp32s3-elf-addr2line / xtensa-esp32-elf-addr2line)
 * when such a tool is on PATH.
 */
#ifndef DUET_ELFSYM_H
#define DUET_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct elfsym elfsym_t;

/* Load symbols. NULL on error (msg filled). machine gets e_machine. */
elfsym_t *elfsym_open(const char *path, unsigned *machine, char *msg, size_t cap);
/* Ask addr2line for file:line of these addresses (best effort, silently skipped). */
void elfsym_lines(elfsym_t *s, const uint32_t *addrs, size_t n);
/* "func+0x1c (file.c:42)" into out. false if no symbol covers addr. */
bool elfsym_lookup(void *s, uint32_t addr, char *out, size_t cap);
void elfsym_close(elfsym_t *s);

#endif /* DUET_ELFSYM_H */
