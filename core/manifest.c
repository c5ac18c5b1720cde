/*
 * manifest.c - the fleet release manifest (duet/manifest.h): reader, field rules,
 * canonical text, acceptance under a device policy, rollout bucket, writer.
 *
 * Organisation: the scanner (a strict reader for exactly one flat JSON object whose
 * values are strings without escapes or unsigned numbers: nothing else is valid in a
 * manifest, so nothing else is read), the member table and its setters, then the
 * public calls. The text is hostile: every read goes through the scanner's bounds,
 * nothing is allocated, and a rule broken anywhere refuses the whole manifest.
 * The canonical text is part of the format (docs/fleet.md): never change it without a
 * new "format".
 */
#include "duet/manifest.h"

#include <stdio.h>
#include <string.h>

#include "duet/crypto.h"

/* ---- scanner ------------------------------------------------------------------------ */

typedef struct {
    const char *p, *end;
} scan_t;

typedef enum { V_STR, V_NUM } vtype_t;

typedef struct {
    vtype_t type;
    const char *s; /* V_STR: the bytes between the quotes; V_NUM: the number's text */
    size_t len;
} val_t;

static void ws(scan_t *sc)
{
    while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
        sc->p++;
}

static bool eat(scan_t *sc, char c)
{
    ws(sc);
    if (sc->p < sc->end && *sc->p == c) {
        sc->p++;
        return true;
    }
    return false;
}

/* A string of printable ASCII without '"' or '\\' (the format allows no escapes). */
static bool str(scan_t *sc, val_t *v)
{
    if (!eat(sc, '"'))
        return false;
    const char *s = sc->p;
    while (sc->p < sc->end && *sc->p != '"') {
        unsigned char c = (unsigned char)*sc->p;
        if (c < 0x20 || c > 0x7E || c == '\\')
            return false;
        sc->p++;
    }
    if (sc->p == sc->end)
        return false;
    v->type = V_STR;
    v->s = s;
    v->len = (size_t)(sc->p - s);
    sc->p++;
    return true;
}

/* digits ['.' digits]: no sign, no exponent (a manifest needs neither). */
static bool num(scan_t *sc, val_t *v)
{
    ws(sc);
    const char *s = sc->p;
    while (sc->p < sc->end && ((*sc->p >= '0' && *sc->p <= '9') || *sc->p == '.'))
        sc->p++;
    if (sc->p == s)
        return false;
    v->type = V_NUM;
    v->s = s;
    v->len = (size_t)(sc->p - s);
    return true;
}

static bool value(scan_t *sc, val_t *v)
{
    ws(sc);
    if (sc->p < sc->end && *sc->p == '"')
        return str(sc, v);
    return num(sc, v);
}

/* ---- member setters ----------------------------------------------------------------- */

/* Unsigned decimal integer that fits in 32 bits, JSON rules (no leading zeros). */
static bool u32_of(const val_t *v, uint32_t *out)
{
    if (v->type != V_NUM || v->len == 0 || v->len > 10 || (v->len > 1 && v->s[0] == '0'))
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->s[i] < '0' || v->s[i] > '9')
            return false;
        x = x * 10u + (uint64_t)(v->s[i] - '0');
    }
    if (x > UINT32_MAX)
        return false;
    *out = (uint32_t)x;
    return true;
}

static bool hex_of(const val_t *v, uint8_t *out, size_t n)
{
    if (v->type != V_STR || v->len != 2 * n)
        return false;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = v->s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return false; /* lowercase only: one spelling per value */
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(d << 4);
        else
            out[i / 2] |= (uint8_t)d;
    }
    return true;
}

static bool text_of(const val_t *v, char *out, size_t cap)
{
    if (v->type != V_STR || v->len == 0 || v->len >= cap)
        return false;
    memcpy(out, v->s, v->len);
    out[v->len] = '\0';
    return true;
}

/* "X.Y.Z", each part a decimal without leading zeros, X, Y <= 255, Z <= 65535. */
static bool version_ok(const char *s, duet_manifest_t *m)
{
    uint32_t part[3] = {0, 0, 0};
    unsigned k = 0;
    size_t digits = 0;
    for (;; s++) {
        if (*s >= '0' && *s <= '9') {
            if (digits == 1 && part[k] == 0)
                return false; /* leading zero */
            part[k] = part[k] * 10u + (uint32_t)(*s - '0');
            if (++digits > 5)
                return false;
        } else if ((*s == '.' || *s == '\0') && digits > 0) {
            if (*s == '\0')
                break;
            if (++k == 3)
                return false;
            digits = 0;
        } else {
            return false;
        }
    }
    if (k != 2 || part[0] > 255 || part[1] > 255 || part[2] > 65535)
        return false;
    m->ver_major = (uint8_t)part[0];
    m->ver_minor = (uint8_t)part[1];
    m->ver_patch = (uint16_t)part[2];
    return true;
}

static const char *chip_name(uint8_t chip)
{
    switch (chip) {
    case DUET_CHIP_HOST:
        return "host";
    case DUET_CHIP_ESP32S3:
        return "esp32s3";
    case DUET_CHIP_ESP32:
        return "esp32";
    default:
        return NULL;
    }
}

static bool chip_of(const val_t *v, uint8_t *out)
{
    for (uint8_t c = 0; c < 3; c++) {
        const char *n = chip_name(c);
        if (v->type == V_STR && strlen(n) == v->len && memcmp(n, v->s, v->len) == 0) {
            *out = c;
            return true;
        }
    }
    return false;
}

/* "0", "1", "0.5", "1.000000": a fraction in [0, 1] with at most 6 decimals -> ppm. */
static bool rollout_of(const val_t *v, uint32_t *ppm)
{
    if (v->type != V_NUM || v->len == 0 || (v->s[0] != '0' && v->s[0] != '1'))
        return false;
    uint32_t whole = (uint32_t)(v->s[0] - '0'), frac = 0, scale = 1000000u;
    if (v->len > 1) {
        if (v->s[1] != '.' || v->len == 2 || v->len > 8)
            return false;
        for (size_t i = 2; i < v->len; i++) {
            if (v->s[i] < '0' || v->s[i] > '9')
                return false;
            scale /= 10u;
            frac += (uint32_t)(v->s[i] - '0') * scale;
        }
    }
    if (whole == 1 && frac != 0)
        return false;
    *ppm = whole * 1000000u + frac;
    return true;
}

enum {
    F_FORMAT,
    F_NAME,
    F_VERSION,
    F_SEQUENCE,
    F_COUNTER,
    F_CHIP,
    F_URL,
    F_SIZE,
    F_SHA256,
    F_ROLLOUT,
    F_KEY_ID,
    F_SIG,
    F__COUNT
};

static const char *const member_names[F__COUNT] = {
    "format", "name", "version", "sequence", "security_counter", "chip",
    "url",    "size", "sha256",  "rollout",  "key_id",           "signature",
};

static bool set_member(int f, const val_t *v, duet_manifest_t *m)
{
    uint32_t u;
    switch (f) {
    case F_FORMAT:
        return u32_of(v, &u) && u == DUET_MANIFEST_FORMAT;
    case F_NAME:
        return text_of(v, m->name, sizeof m->name);
    case F_VERSION:
        return text_of(v, m->version, sizeof m->version) && version_ok(m->version, m);
    case F_SEQUENCE:
        return u32_of(v, &m->sequence);
    case F_COUNTER:
        return u32_of(v, &m->security_counter);
    case F_CHIP:
        return chip_of(v, &m->chip);
    case F_URL:
        return text_of(v, m->url, sizeof m->url);
    case F_SIZE:
        return u32_of(v, &m->size) && m->size > 0;
    case F_SHA256:
        return hex_of(v, m->sha256, sizeof m->sha256);
    case F_ROLLOUT:
        return rollout_of(v, &m->rollout_ppm);
    case F_KEY_ID:
        return hex_of(v, m->key_id, sizeof m->key_id);
    case F_SIG:
        return hex_of(v, m->sig, sizeof m->sig);
    default:
        return false;
    }
}

static int member_of(const val_t *k)
{
    for (int f = 0; f < F__COUNT; f++)
        if (strlen(member_names[f]) == k->len && memcmp(member_names[f], k->s, k->len) == 0)
            return f;
    return -1;
}

/* ---- public calls ------------------------------------------------------------------- */

static bool printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E || *s == '"' || *s == '\\')
            return false;
    return true;
}

duet_err_t duet_manifest_check_fields(const duet_manifest_t *m)
{
    if (m == NULL)
        return DUET_ERR_INVAL;
    duet_manifest_t tmp = *m;
    bool ok =
        memchr(m->name, '\0', sizeof m->name) != NULL && m->name[0] != '\0' && printable(m->name) &&
        memchr(m->url, '\0', sizeof m->url) != NULL && m->url[0] != '\0' && printable(m->url) &&
        memchr(m->version, '\0', sizeof m->version) != NULL && printable(m->version) &&
        version_ok(m->version, &tmp) && tmp.ver_major == m->ver_major &&
        tmp.ver_minor == m->ver_minor && tmp.ver_patch == m->ver_patch &&
        chip_name(m->chip) != NULL && m->size > 0 && m->rollout_ppm <= DUET_MANIFEST_ROLLOUT_ALL;
    return ok ? DUET_OK : DUET_ERR_MANIFEST;
}

duet_err_t duet_manifest_parse(const char *text, size_t len, duet_manifest_t *m)
{
    if (text == NULL || m == NULL)
        return DUET_ERR_INVAL;
    memset(m, 0, sizeof *m);
    if (len > DUET_MANIFEST_MAX)
        return DUET_ERR_MANIFEST;
    scan_t sc = {text, text + len};
    unsigned seen = 0;
    if (!eat(&sc, '{'))
        return DUET_ERR_MANIFEST;
    do {
        val_t k, v;
        if (!str(&sc, &k) || !eat(&sc, ':') || !value(&sc, &v))
            return DUET_ERR_MANIFEST;
        int f = member_of(&k);
        if (f < 0 || (seen & (1u << f)) != 0 || !set_member(f, &v, m))
            return DUET_ERR_MANIFEST; /* unknown, repeated or out of range */
        seen |= 1u << f;
    } while (eat(&sc, ','));
    if (!eat(&sc, '}'))
        return DUET_ERR_MANIFEST;
    ws(&sc);
    if (sc.p != sc.end)
        return DUET_ERR_MANIFEST;           /* trailing bytes */
    unsigned need = (1u << F_ROLLOUT) - 1u; /* every member before 'rollout' */
    if ((seen & need) != need)
        return DUET_ERR_MANIFEST;
    if (!(seen & (1u << F_ROLLOUT)))
        m->rollout_ppm = DUET_MANIFEST_ROLLOUT_ALL;
    bool kid = (seen & (1u << F_KEY_ID)) != 0, sig = (seen & (1u << F_SIG)) != 0;
    if (kid != sig)
        return DUET_ERR_MANIFEST;
    m->has_sig = sig;
    return DUET_OK;
}

static void hex(char *out, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15u];
    }
    out[2 * n] = '\0';
}

duet_err_t duet_manifest_canonical(const duet_manifest_t *m, char *buf, size_t cap, size_t *len)
{
    if (m == NULL || buf == NULL || cap < DUET_MANIFEST_CANON_MAX)
        return DUET_ERR_INVAL;
    DUET_TRY(duet_manifest_check_fields(m));
    char sha[2 * DUET_IMG_HASH_LEN + 1];
    hex(sha, m->sha256, sizeof m->sha256);
    int n = snprintf(buf, cap,
                     "duet-manifest %u\nname=%s\nversion=%s\nsequence=%lu\nsecurity_counter=%lu\n"
                     "chip=%s\nurl=%s\nsize=%lu\nsha256=%s\nrollout=%lu\n",
                     DUET_MANIFEST_FORMAT, m->name, m->version, (unsigned long)m->sequence,
                     (unsigned long)m->security_counter, chip_name(m->chip), m->url,
                     (unsigned long)m->size, sha, (unsigned long)m->rollout_ppm);
    if (n < 0 || (size_t)n >= cap)
        return DUET_ERR_INVAL; /* unreachable: the fields are bounded */
    if (len != NULL)
        *len = (size_t)n;
    return DUET_OK;
}

static duet_err_t digest(const duet_manifest_t *m, uint8_t out[DUET_IMG_HASH_LEN])
{
    char canon[DUET_MANIFEST_CANON_MAX];
    size_t n = 0;
    DUET_TRY(duet_manifest_canonical(m, canon, sizeof canon, &n));
    return duet_crypto_sha256(canon, n, out);
}

static duet_err_t check_sig(const duet_manifest_t *m, const duet_img_policy_t *pol)
{
    if (!m->has_sig)
        return pol->require_signature ? DUET_ERR_IMG_NO_SIG : DUET_OK;
    if (pol->key_count == 0 && !pol->require_signature)
        return DUET_OK; /* no trust anchors and none needed, as for images */
    uint8_t d[DUET_IMG_HASH_LEN];
    DUET_TRY(digest(m, d));
    for (unsigned k = 0; k < pol->key_count && k < DUET_POLICY_MAX_KEYS; k++) {
        uint8_t id[DUET_IMG_KEY_ID_LEN];
        DUET_TRY(duet_crypto_key_id(pol->keys[k], id));
        if (memcmp(id, m->key_id, sizeof id) == 0)
            return duet_crypto_ecdsa_verify(pol->keys[k], d, m->sig);
    }
    return DUET_ERR_IMG_UNKNOWN_KEY;
}

duet_err_t duet_manifest_verify(const duet_manifest_t *m, const duet_img_policy_t *pol,
                                uint32_t last_sequence)
{
    if (m == NULL || pol == NULL)
        return DUET_ERR_INVAL;
    DUET_TRY(duet_manifest_check_fields(m));
    if (m->chip != pol->chip)
        return DUET_ERR_IMG_WRONG_CHIP;
    DUET_TRY(check_sig(m, pol));
    /* Only after the signature: an unsigned sequence number proves nothing. */
    if (m->sequence < last_sequence)
        return DUET_ERR_MANIFEST_REPLAY;
    if (m->security_counter < pol->min_security_counter)
        return DUET_ERR_IMG_DOWNGRADE;
    if (pol->max_image_size != 0 && m->size > pol->max_image_size)
        return DUET_ERR_IMG_TOO_BIG;
    return DUET_OK;
}

duet_err_t duet_manifest_bucket(const duet_manifest_t *m, const char *device_id, uint32_t *bucket)
{
    if (m == NULL || device_id == NULL || bucket == NULL)
        return DUET_ERR_INVAL;
    duet_sha256_t h;
    DUET_TRY(duet_crypto_sha256_init(&h));
    duet_err_t e = duet_crypto_sha256_update(&h, device_id, strlen(device_id));
    if (e == DUET_OK)
        e = duet_crypto_sha256_update(&h, "\n", 1);
    if (e == DUET_OK)
        e = duet_crypto_sha256_update(&h, m->name, strnlen(m->name, sizeof m->name));
    if (e == DUET_OK)
        e = duet_crypto_sha256_update(&h, "\n", 1);
    if (e == DUET_OK)
        e = duet_crypto_sha256_update(&h, m->version, strnlen(m->version, sizeof m->version));
    uint8_t d[DUET_IMG_HASH_LEN];
    if (e != DUET_OK) {
        duet_crypto_sha256_free(&h);
        return e;
    }
    DUET_TRY(duet_crypto_sha256_finish(&h, d));
    uint32_t x = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    *bucket = (uint32_t)(((uint64_t)x * DUET_MANIFEST_ROLLOUT_ALL) >> 32);
    return DUET_OK;
}

duet_err_t duet_manifest_selected(const duet_manifest_t *m, const char *device_id, bool *selected)
{
    uint32_t b = 0;
    DUET_TRY(duet_manifest_bucket(m, device_id, &b));
    *selected = b < m->rollout_ppm;
    return DUET_OK;
}

duet_err_t duet_manifest_to_json(const duet_manifest_t *m, char *buf, size_t cap, size_t *len)
{
    if (m == NULL || buf == NULL || cap == 0)
        return DUET_ERR_INVAL;
    DUET_TRY(duet_manifest_check_fields(m));
    char sha[2 * DUET_IMG_HASH_LEN + 1], kid[2 * DUET_IMG_KEY_ID_LEN + 1],
        sig[2 * DUET_IMG_SIG_LEN + 1], rollout[16], auth[200] = "";
    hex(sha, m->sha256, sizeof m->sha256);
    if (m->rollout_ppm == DUET_MANIFEST_ROLLOUT_ALL)
        snprintf(rollout, sizeof rollout, "1");
    else
        snprintf(rollout, sizeof rollout, "0.%06lu", (unsigned long)m->rollout_ppm);
    if (m->has_sig) {
        hex(kid, m->key_id, sizeof m->key_id);
        hex(sig, m->sig, sizeof m->sig);
        snprintf(auth, sizeof auth, ",\"key_id\":\"%s\",\"signature\":\"%s\"", kid, sig);
    }
    int n = snprintf(buf, cap,
                     "{\"format\":%u,\"name\":\"%s\",\"version\":\"%s\",\"sequence\":%lu,"
                     "\"security_counter\":%lu,\"chip\":\"%s\",\"url\":\"%s\",\"size\":%lu,"
                     "\"sha256\":\"%s\",\"rollout\":%s%s}\n",
                     DUET_MANIFEST_FORMAT, m->name, m->version, (unsigned long)m->sequence,
                     (unsigned long)m->security_counter, chip_name(m->chip), m->url,
                     (unsigned long)m->size, sha, rollout, auth);
    if (n < 0 || (size_t)n >= cap)
        return DUET_ERR_NOMEM;
    if (len != NULL)
        *len = (size_t)n;
    return DUET_OK;
}

#ifdef DUET_CRYPTO_HOST_SIGNING
duet_err_t duet_manifest_sign(duet_manifest_t *m, const uint8_t *key, size_t key_len)
{
    if (m == NULL || key == NULL)
        return DUET_ERR_INVAL;
    uint8_t d[DUET_IMG_HASH_LEN], pub[DUET_IMG_PUBKEY_LEN];
    DUET_TRY(digest(m, d));
    DUET_TRY(duet_crypto_privkey_public(key, key_len, pub));
    DUET_TRY(duet_crypto_key_id(pub, m->key_id));
    DUET_TRY(duet_crypto_sign(key, key_len, d, m->sig));
    m->has_sig = true;
    return DUET_OK;
}
#endif
