/*
 * test_fleet_core.c - core/fleet*.c without a network: the image URL is resolved
 * against the manifest's URL as RFC 3986 §5.4 says (its own examples), bad bases and
 * small buffers are refused; the status document is valid JSON with the API's status
 * spliced in; device ids are checked before they become MQTT topics.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "duet/fleet.h"

static void resolves(const char *base, const char *ref, const char *want)
{
    char out[256];
    duet_err_t e = duet_fleet_resolve_url(base, ref, out, sizeof out);
    if (e != DUET_OK || strcmp(out, want) != 0)
        fail_msg("resolve(%s, %s) = %s (%s), want %s", base, ref, e == DUET_OK ? out : "-",
                 duet_err_name(e), want);
}

/* RFC 3986 §5.4.1 and §5.4.2 (fragments dropped: never sent to a server). */
static void rfc_examples(void **st)
{
    (void)st;
    const char *b = "http://a/b/c/d;p?q";
    resolves(b, "g", "http://a/b/c/g");
    resolves(b, "./g", "http://a/b/c/g");
    resolves(b, "g/", "http://a/b/c/g/");
    resolves(b, "/g", "http://a/g");
    resolves(b, "//g", "http://g/");
    resolves(b, "?y", "http://a/b/c/d;p?y");
    resolves(b, "g?y", "http://a/b/c/g?y");
    resolves(b, "g#s", "http://a/b/c/g");
    resolves(b, ";x", "http://a/b/c/;x");
    resolves(b, "", "http://a/b/c/d;p?q");
    resolves(b, ".", "http://a/b/c/");
    resolves(b, "./", "http://a/b/c/");
    resolves(b, "..", "http://a/b/");
    resolves(b, "../", "http://a/b/");
    resolves(b, "../g", "http://a/b/g");
    resolves(b, "../..", "http://a/");
    resolves(b, "../../g", "http://a/g");
    resolves(b, "../../../g", "http://a/g");
    resolves(b, "../../../../g", "http://a/g");
    resolves(b, "/./g", "http://a/g");
    resolves(b, "/../g", "http://a/g");
    resolves(b, "g.", "http://a/b/c/g.");
    resolves(b, "..g", "http://a/b/c/..g");
    resolves(b, "./../g", "http://a/b/g");
    resolves(b, "g/./h", "http://a/b/c/g/h");
    resolves(b, "g/../h", "http://a/b/c/h");
    resolves(b, "g;x=1/../y", "http://a/b/c/y");
}

/* What duet publish writes, and what operators write by hand. */
static void fleet_cases(void **st)
{
    (void)st;
    const char *m = "https://cdn.example.com:8443/fleet/counter.json";
    resolves(m, "counter-2.0.0.img", "https://cdn.example.com:8443/fleet/counter-2.0.0.img");
    resolves(m, "https://other.example/x/y.img?sig=abc", "https://other.example/x/y.img?sig=abc");
    resolves("https://h", "a.img", "https://h/a.img");
    resolves("https://h/m.json?v=3", "a.img", "https://h/a.img");
}

static void refusals(void **st)
{
    (void)st;
    char out[64];
    assert_int_equal(duet_fleet_resolve_url("counter.json", "a.img", out, sizeof out),
                     DUET_ERR_INVAL); /* no scheme://host */
    assert_int_equal(duet_fleet_resolve_url("https:///x", "a.img", out, sizeof out),
                     DUET_ERR_INVAL); /* no host */
    assert_int_equal(duet_fleet_resolve_url("https://h/", "data:text/plain,x", out, sizeof out),
                     DUET_ERR_INVAL);
    char tiny[16];
    assert_int_equal(
        duet_fleet_resolve_url("https://host/a/b.json", "image.img", tiny, sizeof tiny),
        DUET_ERR_INVAL);
}

static void status_doc(void **st)
{
    (void)st;
    duet_fleet_status_t fs;
    memset(&fs, 0, sizeof fs);
    fs.checks = 3;
    fs.updates = 1;
    fs.last_sequence = 7;
    strcpy(fs.last_action, "updated");
    strcpy(fs.last_version, "2.0.0");
    fs.selected = true;
    char buf[1024];
    size_t n = 0;
    assert_int_equal(
        duet_fleet_status_doc(buf, sizeof buf, "dev-1", true, &fs, "{\"state\":\"RUNNING\"}", &n),
        DUET_OK);
    assert_int_equal(n, strlen(buf));
    assert_non_null(strstr(buf, "{\"device\":\"dev-1\",\"online\":true,\"fleet\":{\"checks\":3,"));
    assert_non_null(strstr(buf, "\"sequence\":7,\"last_action\":\"updated\""));
    assert_non_null(strstr(buf, "\"release\":\"2.0.0\",\"selected\":true"));
    assert_string_equal(buf + n - 30, ",\"status\":{\"state\":\"RUNNING\"}}");
    assert_int_equal(duet_fleet_status_doc(buf, sizeof buf, "dev-1", false, &fs, NULL, &n),
                     DUET_OK);
    assert_string_equal(buf, "{\"device\":\"dev-1\",\"online\":false}");
    assert_int_equal(duet_fleet_status_doc(buf, sizeof buf, "d", true, NULL, NULL, &n), DUET_OK);
    assert_string_equal(buf, "{\"device\":\"d\",\"online\":true,\"status\":null}");
    /* too small for the spliced status: refused, never truncated JSON */
    assert_int_equal(duet_fleet_status_doc(buf, 40, "d", true, NULL, "{\"x\":1}", &n),
                     DUET_ERR_NOMEM);
}

static void ids(void **st)
{
    (void)st;
    const uint8_t mac[6] = {0x7c, 0xdf, 0xa1, 0x00, 0x12, 0xff};
    char id[13];
    assert_int_equal(duet_fleet_hex_id(mac, sizeof mac, id, sizeof id), DUET_OK);
    assert_string_equal(id, "7cdfa10012ff");
    assert_int_equal(duet_fleet_hex_id(mac, sizeof mac, id, 12), DUET_ERR_INVAL);
    /* ids become MQTT topic levels: wildcards and separators refused */
    static const duet_fleet_ops_t none = {0};
    duet_fleet_t f;
    const char *bad[] = {"", "a/b", "a+b", "#", "a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(
            duet_fleet_init(&f, (duet_sup_t *)&f, &none, NULL, "https://h/m.json", bad[i], 0),
            DUET_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc_examples), cmocka_unit_test(fleet_cases), cmocka_unit_test(refusals),
        cmocka_unit_test(status_doc),   cmocka_unit_test(ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
