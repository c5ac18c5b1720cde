/*
 * shm.c - the host port's shared area: one memfd mapped MAP_SHARED here and, by the
 * inherited fd, in every core-1 child (the area outlives child processes, like the
 * SRAM window outlives core-1 resets). Created on first use; never resized.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "duet/port.h"
#include "duet/host_port.h"

static void *s_base;
static size_t s_size = DUET_HOST_SHM_DEFAULT;
static int s_fd = -1;

duet_err_t duet_host_shm_set_size(size_t size)
{
    if (s_base != NULL)
        return DUET_ERR_STATE;
    if (size < 4096 || size > (256u << 20) || size % 4096 != 0)
        return DUET_ERR_INVAL;
    s_size = size;
    return DUET_OK;
}

static duet_err_t create(void)
{
    /* CLOEXEC: the core-1 launcher clears it in the child only, so no other program
     * the simulator might run inherits the area. */
    int fd = memfd_create("duet-shm", MFD_CLOEXEC);
    if (fd < 0)
        return DUET_ERR_IO;
    if (ftruncate(fd, (off_t)s_size) != 0) {
        close(fd);
        return DUET_ERR_IO;
    }
    void *p = mmap(NULL, s_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        close(fd);
        return DUET_ERR_NOMEM;
    }
    s_fd = fd;
    s_base = p;
    return DUET_OK;
}

void *duet_port_shm(size_t *size)
{
    if (s_base == NULL && create() != DUET_OK) {
        if (size != NULL)
            *size = 0;
        return NULL;
    }
    if (size != NULL)
        *size = s_size;
    return s_base;
}

int duet_host_shm_fd(void)
{
    if (s_base == NULL)
        (void)duet_port_shm(NULL); /* failure shows as -1 */
    return s_fd;
}
