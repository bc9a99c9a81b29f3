/* Unit tests of the auth module. */
#include "unit.h"

static void placeholder(void **state)
{
    (void)state;
}

EB_TEST_GROUP(auth)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholder),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
