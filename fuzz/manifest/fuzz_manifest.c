/*
 * fuzz_manifest.c - libFuzzer target for duet_manifest_parse (text from any HTTPS
 * server). Whatever it accepts must pass the field rules, write back to JSON and read
 * back to the same struct, and go through verify (signature, replay, policy) without
 * crashing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duet/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    duet_manifest_t m, back;
    if (duet_manifest_parse((const char *)data, size, &m) != DUET_OK)
        return 0;
    if (duet_manifest_check_fields(&m) != DUET_OK)
        abort();
    char json[DUET_MANIFEST_MAX];
    size_t n = 0;
    if (duet_manifest_to_json(&m, json, sizeof json, &n) != DUET_OK)
        abort();
    if (duet_manifest_parse(json, n, &back) != DUET_OK || memcmp(&m, &back, sizeof m) != 0)
        abort();
    duet_img_policy_t pol;
    memset(&pol, 0, sizeof pol);
    pol.chip = m.chip;
    pol.require_signature = true;
    pol.key_count = 1;
    pol.keys[0][0] = 0x04;                   /* not a valid point: verify must still fail cleanly */
    (void)duet_manifest_verify(&m, &pol, 5); /* any result; must not crash */
    uint32_t bucket = 0;
    if (duet_manifest_bucket(&m, "fuzz", &bucket) != DUET_OK || bucket >= DUET_MANIFEST_ROLLOUT_ALL)
        abort();
    return 0;
}
