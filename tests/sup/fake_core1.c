/*
 * fake_core1.c - test double of the core-1 side of the port (see fake_core1.h).
 * Not a simulator: nothing runs by itself, the test says what core 1 does and when.
 */
#include "fake_core1.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet/ring.h"

fake_c1_t fake_c1;

static uint64_t g_now;
static uint8_t g_code[FAKE_MEM_SIZE];
static uint8_t g_data[FAKE_MEM_SIZE];
static union {
    uint64_t align_;
    uint8_t b[FAKE_SHM_SIZE];
} g_shm;
static const duet_mem_region_t g_win[] = {
    { FAKE_CODE_BASE, FAKE_MEM_SIZE, FAKE_CODE_BASE, DUET_MEM_R | DUET_MEM_X },
    { FAKE_DATA_BASE, FAKE_MEM_SIZE, FAKE_DATA_BASE, DUET_MEM_R | DUET_MEM_W },
};

void fake_reset(bool keep_shm)
{
    memset(&fake_c1, 0, sizeof(fake_c1));
    memset(g_code, 0xA5, sizeof(g_code)); /* junk: the loader must overwrite it */
    memset(g_data, 0xA5, sizeof(g_data));
    if (!keep_shm)
        memset(&g_shm, 0, sizeof(g_shm));
    g_now = 1000000u;
}

void fake_clock_advance_ms(uint32_t ms)
{
    g_now += (uint64_t)ms * 1000u;
}

void fake_clock_set_us(uint64_t us)
{
    g_now = us;
}

uint64_t fake_now_us(void)
{
    return g_now;
}

duet_shm_ctrl_t *fake_ctrl(void)
{
    return (duet_shm_ctrl_t *)(void *)g_shm.b;
}

static uint8_t *mem(uint32_t addr, size_t len)
{
    if (addr >= FAKE_CODE_BASE && len <= FAKE_MEM_SIZE && addr - FAKE_CODE_BASE <= FAKE_MEM_SIZE - len)
        return g_code + (addr - FAKE_CODE_BASE);
    if (addr >= FAKE_DATA_BASE && len <= FAKE_MEM_SIZE && addr - FAKE_DATA_BASE <= FAKE_MEM_SIZE - len)
        return g_data + (addr - FAKE_DATA_BASE);
    return NULL;
}

const uint8_t *fake_mem(uint32_t addr, size_t len)
{
    return mem(addr, len);
}

/* ---- port: core 1 ---------------------------------------------------------------- */

duet_err_t duet_port_window(const duet_mem_region_t **regions, unsigned *count, uint8_t *chip,
                            uint8_t *abi)
{
    *regions = g_win;
    *count = sizeof(g_win) / sizeof(g_win[0]);
    *chip = DUET_CHIP_HOST;
    *abi = DUET_ABI_HOST;
    return DUET_OK;
}

/* XIP (port.h): this fake port does not enable it, so no image reaches core1_map. */
void duet_port_core1_owns(char *buf, size_t cap)
{
    buf[0] = '\0';
    (void)cap;
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
    fake_c1.stops++;
    fake_c1.running = false;
    fake_c1.dead = false;
    return DUET_OK;
}

duet_err_t duet_port_core1_write(uint32_t addr, const void *src, size_t len)
{
    if (fake_c1.running)
        return DUET_ERR_STATE; /* the contract: core 1 is stopped */
    if (addr % 4 != 0 || len % 4 != 0)
        return DUET_ERR_INVAL; /* the chip writes IRAM with 32-bit stores */
    uint8_t *p = mem(addr, len);
    if (p == NULL)
        return DUET_ERR_INVAL;
    if (fake_c1.fail_write_at != 0 && fake_c1.writes + 1 == fake_c1.fail_write_at)
        return DUET_ERR_IO;
    memcpy(p, src, len);
    fake_c1.writes++;
    return DUET_OK;
}

duet_err_t duet_port_core1_zero(uint32_t addr, size_t len)
{
    if (fake_c1.running)
        return DUET_ERR_STATE;
    uint8_t *p = mem(addr, len);
    if (p == NULL)
        return DUET_ERR_INVAL;
    memset(p, 0, len);
    return DUET_OK;
}

duet_err_t duet_port_core1_start(const duet_img_info_t *img)
{
    if (fake_c1.fail_start != DUET_OK)
        return fake_c1.fail_start;
    fake_c1.starts++;
    fake_c1.running = true;
    fake_c1.dead = false;
    fake_c1.last_info = *img;
    return DUET_OK;
}

duet_err_t duet_port_core1_poll(void)
{
    if (!fake_c1.running)
        return DUET_ERR_STATE;
    if (fake_c1.vanish) {
        fake_c1.running = false; /* a port that cannot describe the death */
        return DUET_ERR_STATE;
    }
    if (fake_c1.dead) {
        /* What the host port does when the child died without a record. */
        duet_shm_ctrl_t *c = fake_ctrl();
        duet_crash_t *cr = &c->sc_crash;
        memset(cr, 0, sizeof(*cr));
        cr->cr_epoch = c->sc_epoch;
        cr->cr_reason = DUET_CRASH_KILLED;
        cr->cr_exccause = 9;
        __atomic_store_n(&cr->cr_magic, DUET_CRASH_MAGIC, __ATOMIC_RELEASE);
        __atomic_store_n(&c->sc_c1_state, DUET_C1_CRASHED, __ATOMIC_RELEASE);
        fake_c1.running = false;
        return DUET_ERR_STATE;
    }
    return DUET_OK;
}

void *duet_port_shm(size_t *size)
{
    *size = sizeof(g_shm.b);
    return g_shm.b;
}

/* ---- port: time, doorbell, log ----------------------------------------------------- */

uint64_t duet_port_now_us(void)
{
    return g_now;
}

void duet_port_doorbell_ring(void)
{
}

duet_err_t duet_port_doorbell_wait(uint32_t timeout_us)
{
    g_now += timeout_us;
    return DUET_ERR_TIMEOUT;
}

void duet_port_log(duet_plog_t level, const char *tag, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (strcmp(tag, "core1") == 0) {
        fake_c1.log_core1++;
        memcpy(fake_c1.last_core1, line, sizeof(line));
    }
    if (getenv("DUET_TEST_VERBOSE") != NULL)
        fprintf(stderr, "[%s %d] %s\n", tag, (int)level, line);
}

/* ---- scripted core 1 ---------------------------------------------------------------- */

void fake_c1_boot_epoch(uint32_t epoch)
{
    duet_shm_ctrl_t *c = fake_ctrl();
    __atomic_store_n(&c->sc_c1_epoch, epoch, __ATOMIC_RELEASE);
    __atomic_store_n(&c->sc_c1_state, DUET_C1_RUNNING, __ATOMIC_RELEASE);
}

void fake_c1_boot(void)
{
    fake_c1_boot_epoch(fake_ctrl()->sc_epoch);
}

void fake_c1_heartbeat(unsigned n)
{
    duet_shm_ctrl_t *c = fake_ctrl();
    __atomic_fetch_add(&c->sc_heartbeat, n, __ATOMIC_RELEASE);
}

void fake_c1_crash(uint32_t reason, uint32_t epoch)
{
    duet_shm_ctrl_t *c = fake_ctrl();
    duet_crash_t *cr = &c->sc_crash;
    __atomic_store_n(&cr->cr_magic, 0u, __ATOMIC_RELAXED);
    memset((uint8_t *)cr + 4, 0, sizeof(*cr) - 4);
    cr->cr_epoch = epoch != 0 ? epoch : c->sc_epoch;
    cr->cr_reason = reason;
    cr->cr_pc = 0x1234;
    cr->cr_excvaddr = 0xdead;
    cr->cr_bt_count = 1000; /* hostile: the supervisor must clamp it */
    memset(cr->cr_msg, 'x', sizeof(cr->cr_msg)); /* hostile: not NUL-terminated */
    __atomic_store_n(&cr->cr_magic, DUET_CRASH_MAGIC, __ATOMIC_RELEASE);
    if (epoch == 0 || epoch == c->sc_epoch)
        __atomic_store_n(&c->sc_c1_state, DUET_C1_CRASHED, __ATOMIC_RELEASE);
}

void fake_c1_exit(void)
{
    __atomic_store_n(&fake_ctrl()->sc_c1_state, DUET_C1_EXITED, __ATOMIC_RELEASE);
}

void fake_c1_die(void)
{
    fake_c1.dead = true;
}

duet_err_t fake_c1_log(int level, const char *text)
{
    void *ring;
    size_t fp;
    DUET_TRY(duet_shm_log_ring(g_shm.b, sizeof(g_shm.b), &ring, &fp));
    duet_ring_t r;
    DUET_TRY(duet_ring_attach_producer(&r, ring, fp, fake_ctrl()->sc_epoch));
    uint8_t msg[256];
    size_t n = strlen(text);
    if (n > sizeof(msg) - sizeof(duet_log_rec_t))
        n = sizeof(msg) - sizeof(duet_log_rec_t);
    duet_log_rec_t rec = { 0, (uint8_t)level, { 0, 0, 0 } };
    memcpy(msg, &rec, sizeof(rec));
    memcpy(msg + sizeof(rec), text, n);
    return duet_ring_send(&r, msg, sizeof(rec) + n);
}
