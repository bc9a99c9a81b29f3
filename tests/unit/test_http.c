/* Unit tests of the http module. */
#include "unit.h"

static void placeholder(void **state)
{
    (void)state;
}

EB_TEST_GROUP(http)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholder),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
