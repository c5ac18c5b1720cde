/* test_crc32.c - CRC-32 (IEEE) against published check values. */
#include "img_fixture.h"

#include "duet/crc32.h"

static void test_crc32_check_values(void **st)
{
    assert_int_equal(duet_crc32("123456789", 9), 0xCBF43926u); /* the catalogue check value */
    assert_int_equal(duet_crc32("", 0), 0);
    assert_int_equal(duet_crc32("The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
}

static void test_crc32_update_equals_one_shot(void **st)
{
    const char *s = "123456789";
    for (size_t cut = 0; cut <= 9; cut++)
        assert_int_equal(duet_crc32_update(duet_crc32(s, cut), s + cut, 9 - cut), 0xCBF43926u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_values),
        cmocka_unit_test(test_crc32_update_equals_one_shot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
