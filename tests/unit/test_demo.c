/* Unit tests of the demo module. */
#include "unit.h"

static void placeholder(void **state)
{
    (void)state;
}

EB_TEST_GROUP(demo)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholder),
    };
    return cmocka_run_group_tests_name("demo", tests, NULL, NULL);
}
