/* Unit tests of the store module. */
#include "unit.h"

static void placeholder(void **state)
{
    (void)state;
}

EB_TEST_GROUP(store)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholder),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
