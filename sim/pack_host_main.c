/*
 * pack_host_main.c - duet-pack-host: the build's packer for host programs until/unless
 * `duet pack --chip host` is used (same output convention, see pack_host.h).
 *   duet-pack-host EXE OUT.img VERSION SECURITY_COUNTER NAME
 */
#include <stdio.h>
#include <stdlib.h>

#include "pack_host.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s EXE OUT.img VERSION SECURITY_COUNTER NAME\n", argv[0]);
        return 2;
    }
    duet_pack_host_opts_t o = {0};
    if (duet_pack_host_parse_version(argv[3], &o) != DUET_OK) {
        fprintf(stderr, "duet-pack-host: bad version '%s' (want MAJOR.MINOR.PATCH)\n", argv[3]);
        return 2;
    }
    o.security_counter = (uint32_t)strtoul(argv[4], NULL, 10);
    o.name = argv[5];
    uint8_t *img = NULL;
    size_t len = 0;
    duet_err_t e = duet_pack_host_file(argv[1], &o, &img, &len);
    if (e != DUET_OK) {
        fprintf(stderr, "duet-pack-host: %s: %s\n", argv[1], duet_err_str(e));
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    if (f == NULL || fwrite(img, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "duet-pack-host: cannot write %s\n", argv[2]);
        free(img);
        return 1;
    }
    free(img);
    return 0;
}
