/* Runs every cmocka group of test_list.h; a group name as argument runs just that group. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    int failed = 0;
#define EB_TEST(name)                                                                              \
    if (argc < 2 || strcmp(argv[1], #name) == 0)                                                   \
        failed += eb_test_group_##name();
#include "test_list.h"
#undef EB_TEST
    return failed ? 1 : 0;
}
