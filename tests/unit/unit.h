/* Unit tests: cmocka groups, one per module, listed in test_list.h. */
#ifndef EB_TESTS_UNIT_H
#define EB_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define EB_TEST_GROUP(name) int eb_test_group_##name(void)

/* Every group is declared here, so each test file's definition has its prototype. */
#define EB_TEST(name) EB_TEST_GROUP(name);
#include "test_list.h"
#undef EB_TEST

#endif
