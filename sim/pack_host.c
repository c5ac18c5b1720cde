/*
 * pack_host.c - build a chip=HOST image from a PC executable (see pack_host.h for the
 * convention). Reads the GNU build-id from the ELF program headers (PT_NOTE) so the
 * image header, the running program's sc_build_id and its crash records agree.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet/image.h"
#include "duet/shm.h"
#include "duet/host_port.h"
#include "pack_host.h"

duet_err_t duet_pack_host_parse_version(const char *s, duet_pack_host_opts_t *o)
{
    unsigned v[3] = {0, 0, 0};
    int n = 0;
    const char *p = s;
    if (s == NULL || o == NULL)
        return DUET_ERR_INVAL;
    while (n < 3) {
        if (*p < '0' || *p > '9')
            return DUET_ERR_INVAL;
        unsigned long x = 0;
        while (*p >= '0' && *p <= '9' && x <= 65535)
            x = x * 10 + (unsigned)(*p++ - '0');
        v[n++] = (unsigned)x;
        if (*p == '\0')
            break;
        if (*p++ != '.')
            return DUET_ERR_INVAL;
    }
    if (*p != '\0' || v[0] > 255 || v[1] > 255 || v[2] > 65535)
        return DUET_ERR_INVAL;
    o->ver_major = (uint8_t)v[0];
    o->ver_minor = (uint8_t)v[1];
    o->ver_patch = (uint16_t)v[2];
    return DUET_OK;
}

/* ELF64 little-endian only (the hosts we build on); anything else: no build-id. */
static unsigned build_id(const uint8_t *f, size_t len, uint8_t out[DUET_IMG_BUILD_ID_LEN])
{
    Elf64_Ehdr eh;
    if (len < sizeof eh || memcmp(f, ELFMAG, SELFMAG) != 0 || f[EI_CLASS] != ELFCLASS64)
        return 0;
    memcpy(&eh, f, sizeof eh);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
        (size_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
        return 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, f + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_NOTE || ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
            continue;
        size_t off = (size_t)ph.p_offset, end = off + (size_t)ph.p_filesz;
        while (end - off >= sizeof(Elf64_Nhdr)) {
            Elf64_Nhdr n;
            memcpy(&n, f + off, sizeof n);
            size_t name_al = ((size_t)n.n_namesz + 3u) & ~(size_t)3u;
            size_t desc_al = ((size_t)n.n_descsz + 3u) & ~(size_t)3u;
            size_t name = off + sizeof n, desc = name + name_al;
            if (name_al > end - name || desc_al > end - desc)
                break;
            if (n.n_type == NT_GNU_BUILD_ID && n.n_namesz == 4 && memcmp(f + name, "GNU", 4) == 0) {
                unsigned k = n.n_descsz < DUET_IMG_BUILD_ID_LEN ? n.n_descsz : DUET_IMG_BUILD_ID_LEN;
                memcpy(out, f + desc, k);
                return k;
            }
            off = desc + desc_al;
        }
    }
    return 0;
}

duet_err_t duet_pack_host_file(const char *exe, const duet_pack_host_opts_t *o, uint8_t **out,
                               size_t *out_len)
{
    if (exe == NULL || o == NULL || out == NULL || out_len == NULL)
        return DUET_ERR_INVAL;
    FILE *fp = fopen(exe, "rb");
    if (fp == NULL)
        return DUET_ERR_IO;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            uint8_t *nb = realloc(buf, cap + (1u << 20));
            if (nb == NULL) {
                free(buf);
                fclose(fp);
                return DUET_ERR_NOMEM;
            }
            buf = nb;
            cap += 1u << 20;
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad || len == 0 || len > DUET_HOST_X_SIZE - 4) {
        free(buf);
        return bad ? DUET_ERR_IO : DUET_ERR_INVAL;
    }
    size_t padded = (len + 3u) & ~(size_t)3u;
    memset(buf + len, 0, padded - len); /* cap - len >= 65536 >= 3 */

    duet_img_seg_in_t seg = {DUET_SEG_CODE, DUET_HOST_X_BASE, (uint32_t)padded, buf};
    duet_img_desc_t d;
    memset(&d, 0, sizeof d);
    d.chip = DUET_CHIP_HOST;
    d.abi = DUET_ABI_HOST;
    d.entry = DUET_HOST_X_BASE;
    d.stack_top = DUET_HOST_IMG_STACK_TOP;
    d.stack_size = DUET_HOST_IMG_STACK_SIZE;
    d.shm_version = DUET_SHM_LAYOUT_VERSION;
    d.ver_major = o->ver_major;
    d.ver_minor = o->ver_minor;
    d.ver_patch = o->ver_patch;
    d.security_counter = o->security_counter;
    d.build_id_len = (uint8_t)build_id(buf, len, d.build_id);
    d.name = o->name;
    d.seg_count = 1;
    d.segs = &seg;
    duet_err_t e = duet_img_write(&d, out, out_len);
    free(buf);
    return e;
}
