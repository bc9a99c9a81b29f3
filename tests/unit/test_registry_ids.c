/* Unit tests of the registry_ids module. */
#include "unit.h"

static void placeholder(void **state)
{
    (void)state;
}

EB_TEST_GROUP(registry_ids)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholder),
    };
    return cmocka_run_group_tests_name("registry_ids", tests, NULL, NULL);
}
