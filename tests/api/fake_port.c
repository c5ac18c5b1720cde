/*
 * fake_port.c - see fake_port.h. Implements every duet_port_* function of duet/port.h.
 */
#include "fake_port.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duet/port.h"
#include "duet/shm.h"

#define ERASE      4096u
#define STATE_SIZE (2u * ERASE)
#define SHM_SIZE   (64u * 1024u)

static uint8_t flash_a[FAKE_SLOT_SIZE], flash_b[FAKE_SLOT_SIZE], flash_state[STATE_SIZE];
static _Alignas(64) uint8_t shm[SHM_SIZE];
static bool running, hang;
static uint32_t crash_reason, crash_pc, crash_addr;
static uint32_t writes;

static const duet_mem_region_t window[] = {
    {0x10000000u, 64u << 20, 0x10000000u, DUET_MEM_R | DUET_MEM_X},
    {0x20000000u, 16u << 20, 0x20000000u, DUET_MEM_R | DUET_MEM_W},
};

static uint8_t *area(duet_area_t a, uint32_t *size)
{
    switch (a) {
    case DUET_AREA_SLOT_A:
        *size = FAKE_SLOT_SIZE;
        return flash_a;
    case DUET_AREA_SLOT_B:
        *size = FAKE_SLOT_SIZE;
        return flash_b;
    case DUET_AREA_STATE:
        *size = STATE_SIZE;
        return flash_state;
    default:
        return NULL;
    }
}

void fake_port_reset(void)
{
    fake_core1_owns("");
    memset(flash_a, 0xFF, sizeof(flash_a));
    memset(flash_b, 0xFF, sizeof(flash_b));
    memset(flash_state, 0xFF, sizeof(flash_state));
    memset(shm, 0, sizeof(shm));
    running = hang = false;
    crash_reason = 0;
    writes = 0;
}

void fake_core1_crash(uint32_t reason, uint32_t pc, uint32_t addr)
{
    crash_reason = reason;
    crash_pc = pc;
    crash_addr = addr;
}

void fake_core1_hang(bool h)
{
    hang = h;
}

uint32_t fake_flash_writes(void)
{
    return writes;
}

duet_err_t duet_port_flash_info(duet_area_t a, uint32_t *size, uint32_t *erase_size)
{
    uint32_t s;
    if (!area(a, &s))
        return DUET_ERR_INVAL;
    if (size)
        *size = s;
    if (erase_size)
        *erase_size = ERASE;
    return DUET_OK;
}

duet_err_t duet_port_flash_read(duet_area_t a, uint32_t off, void *buf, size_t len)
{
    uint32_t s;
    uint8_t *p = area(a, &s);
    if (!p || off > s || len > s - off)
        return DUET_ERR_INVAL;
    memcpy(buf, p + off, len);
    return DUET_OK;
}

duet_err_t duet_port_flash_write(duet_area_t a, uint32_t off, const void *buf, size_t len)
{
    uint32_t s;
    uint8_t *p = area(a, &s);
    const uint8_t *b = buf;
    if (!p || off > s || len > s - off)
        return DUET_ERR_INVAL;
    for (size_t i = 0; i < len; i++)
        p[off + i] &= b[i]; /* NOR: bits only go 1 -> 0 */
    writes++;
    return DUET_OK;
}

duet_err_t duet_port_flash_erase(duet_area_t a, uint32_t off, size_t len)
{
    uint32_t s;
    uint8_t *p = area(a, &s);
    if (!p || off % ERASE || len % ERASE || off > s || len > s - off)
        return DUET_ERR_INVAL;
    memset(p + off, 0xFF, len);
    writes++;
    return DUET_OK;
}

duet_err_t duet_port_window(const duet_mem_region_t **regions, unsigned *count, uint8_t *chip,
                            uint8_t *abi)
{
    if (regions)
        *regions = window;
    if (count)
        *count = 2;
    if (chip)
        *chip = DUET_CHIP_HOST;
    if (abi)
        *abi = DUET_ABI_HOST;
    return DUET_OK;
}

/* XIP (port.h): this fake port does not enable it, so no image reaches core1_map. */
static char g_owns[64];

void fake_core1_owns(const char *text)
{
    snprintf(g_owns, sizeof g_owns, "%s", text);
}

void duet_port_core1_owns(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", g_owns);
}

void duet_port_xip_window(duet_xip_window_t *w)
{
    memset(w, 0, sizeof *w);
}

duet_err_t duet_port_core1_map(duet_area_t slot, const duet_img_info_t *img)
{
    (void)slot;
    (void)img;
    return DUET_ERR_UNSUPPORTED;
}

duet_err_t duet_port_core1_stop(void)
{
    running = false;
    return DUET_OK;
}

duet_err_t duet_port_core1_write(uint32_t addr, const void *src, size_t len)
{
    return DUET_OK;
}

duet_err_t duet_port_core1_zero(uint32_t addr, size_t len)
{
    return DUET_OK;
}

duet_err_t duet_port_core1_start(const duet_img_info_t *img)
{
    duet_shm_ctrl_t *c = (duet_shm_ctrl_t *)shm;
    c->sc_c1_epoch = c->sc_epoch;
    c->sc_c1_state = DUET_C1_RUNNING;
    c->sc_heartbeat++;
    running = true;
    crash_reason = 0;
    hang = false;
    return DUET_OK;
}

duet_err_t duet_port_core1_poll(void)
{
    duet_shm_ctrl_t *c = (duet_shm_ctrl_t *)shm;
    if (!running)
        return DUET_ERR_STATE;
    if (crash_reason) {
        duet_crash_t *r = &c->sc_crash;
        memset(r, 0, sizeof(*r));
        r->cr_epoch = c->sc_epoch;
        r->cr_reason = crash_reason;
        r->cr_exccause = 11; /* SIGSEGV */
        r->cr_pc = crash_pc;
        r->cr_excvaddr = crash_addr;
        r->cr_bt_count = 2;
        r->cr_bt[0] = crash_pc + 4;
        r->cr_bt[1] = crash_pc + 8;
        snprintf(r->cr_msg, sizeof(r->cr_msg), "fake crash");
        r->cr_magic = DUET_CRASH_MAGIC;
        c->sc_c1_state = DUET_C1_CRASHED;
        crash_reason = 0;
        running = false;
        return DUET_OK; /* the record tells the story */
    }
    if (!hang)
        c->sc_heartbeat++;
    return DUET_OK;
}

void *duet_port_shm(size_t *size)
{
    if (size)
        *size = SHM_SIZE;
    return shm;
}

uint64_t duet_port_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void duet_port_doorbell_ring(void)
{
}

duet_err_t duet_port_doorbell_wait(uint32_t timeout_us)
{
    return DUET_ERR_TIMEOUT;
}

void duet_port_log(duet_plog_t level, const char *tag, const char *fmt, ...)
{
    if (!getenv("DUET_FAKE_LOG"))
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%s] ", tag);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int fake_make_image(uint8_t chip, uint8_t maj, uint8_t min, uint16_t patch, uint32_t sec,
                    const char *name, const char *key_pem, uint8_t **out, size_t *len)
{
    static uint8_t code[4096];
    for (size_t i = 0; i < sizeof(code); i++)
        code[i] = (uint8_t)(i * 7 + maj + min + patch);
    duet_img_seg_in_t seg = {DUET_SEG_CODE, 0x10000000u, sizeof(code), code};
    duet_img_desc_t d;
    memset(&d, 0, sizeof(d));
    d.chip = chip;
    d.abi = chip == DUET_CHIP_HOST ? DUET_ABI_HOST : DUET_ABI_WINDOWED;
    d.entry = 0x10000000u;
    d.stack_top = 0x20100000u;
    d.stack_size = 0x10000u;
    d.shm_version = DUET_SHM_LAYOUT_VERSION;
    d.ver_major = maj;
    d.ver_minor = min;
    d.ver_patch = patch;
    d.security_counter = sec;
    d.name = name;
    d.seg_count = 1;
    d.segs = &seg;
    if (duet_img_write(&d, out, len) != DUET_OK)
        return -1;
    if (key_pem &&
        duet_img_sign(out, len, (const uint8_t *)key_pem, strlen(key_pem) + 1) != DUET_OK)
        return -1;
    return 0;
}
