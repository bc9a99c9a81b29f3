/* Unit tests of the registry_ids module: valid and invalid vectors for every code check. */
#include "unit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "registry/registry_ids.h"

static void check_char_matches_standard_vectors(void **state)
{
    (void)state;
    assert_int_equal(eb_citizen_id_check_char("11010519491231002"), 'X');
    assert_int_equal(eb_citizen_id_check_char("44052418800101001"), '4');
    /* 37070220100101001: S = 3*7+7*9+0+7*5+0+2*4+2*2+0+1*6+0+0+1*9+0+1*5+0+0+1*2 = 153, r = 10. */
    assert_int_equal(eb_citizen_id_check_char("37070220100101001"), '2');
    assert_int_equal(eb_citizen_id_check_char("1101051949123100a"), 0);
    assert_int_equal(eb_citizen_id_check_char("1101051949"), 0);
    assert_int_equal(eb_citizen_id_check_char(NULL), 0);
}

static void citizen_id_accepts_valid_numbers(void **state)
{
    (void)state;
    const char *why = "unset";
    assert_int_equal(eb_citizen_id_check("11010519491231002X", &why), 0);
    assert_string_equal(why, "unset");
    assert_int_equal(eb_citizen_id_check("440524188001010014", NULL), EB_EINVAL); /* 1880 */
    assert_int_equal(eb_citizen_id_check("370702201001010012", NULL), 0);
    /* Lowercase x is accepted as input (the store keeps the uppercase form). */
    assert_int_equal(eb_citizen_id_check("11010519491231002x", NULL), 0);
    /* A real 29 February. */
    char id[19];
    memcpy(id, "37070220000229001", 17);
    id[17] = eb_citizen_id_check_char(id);
    id[18] = 0;
    assert_int_equal(eb_citizen_id_check(id, NULL), 0);
}

static void expect_invalid(const char *id, const char *reason)
{
    const char *why = NULL;
    assert_int_equal(eb_citizen_id_check(id, &why), EB_EINVAL);
    assert_non_null(why);
    if (reason)
        assert_string_equal(why, reason);
}

/* Builds a number with the right check digit so that only the date or region is wrong. */
static void with_check(const char *first17, char out[19])
{
    memcpy(out, first17, 17);
    out[17] = eb_citizen_id_check_char(first17);
    out[18] = 0;
}

static void citizen_id_rejects_invalid_numbers(void **state)
{
    (void)state;
    char id[19];
    expect_invalid("110105194912310021", "citizen ID check digit is wrong");
    /* The standard's second vector has a right check digit but a birth year before 1900. */
    expect_invalid("440524188001010014", "birth date is before 1900");
    expect_invalid("11010519491231002", "citizen ID must be 18 characters");
    expect_invalid("11010519491231002XX", "citizen ID must be 18 characters");
    expect_invalid("", "citizen ID must be 18 characters");
    expect_invalid(NULL, "citizen ID is missing");
    expect_invalid("1101051949123100AX", "citizen ID must start with 17 digits");
    expect_invalid("11010519491231002Y", "citizen ID must end with a digit or X");
    expect_invalid(" 1010519491231002X", "citizen ID must start with 17 digits");
    with_check("37070220100230001", id); /* 30 February */
    expect_invalid(id, "birth date is not a calendar date");
    with_check("37070220230229001", id); /* 2023 is not a leap year */
    expect_invalid(id, "birth date is not a calendar date");
    with_check("37070219000229001", id); /* 1900 is not a leap year either */
    expect_invalid(id, "birth date is not a calendar date");
    with_check("37070220101301001", id);
    expect_invalid(id, "birth date is not a calendar date");
    with_check("37070220100100001", id);
    expect_invalid(id, "birth date is not a calendar date");
    with_check("37070220990101001", id);
    expect_invalid(id, "birth date is in the future");
    with_check("37070218991231001", id);
    expect_invalid(id, "birth date is before 1900");
    with_check("99070220100101001", id);
    expect_invalid(id, "citizen ID region code is unknown");
    with_check("00070220100101001", id);
    expect_invalid(id, "citizen ID region code is unknown");
    with_check("72070220100101001", id);
    expect_invalid(id, "citizen ID region code is unknown");
}

static void citizen_id_tomorrow_is_future(void **state)
{
    (void)state;
    time_t t = time(NULL) + 2 * 86400;
    struct tm tm;
    localtime_r(&t, &tm);
    char first[48]; /* Room for any int the compiler assumes; the date fills 8. */
    snprintf(first, sizeof(first), "370702%04d%02d%02d001", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday);
    char id[19];
    with_check(first, id);
    expect_invalid(id, "birth date is in the future");
}

static void citizen_id_birth_and_sex(void **state)
{
    (void)state;
    char d[11];
    assert_int_equal(eb_citizen_id_birth("11010519491231002X", d), 0);
    assert_string_equal(d, "1949-12-31");
    assert_int_equal(eb_citizen_id_sex("11010519491231002X"), EB_SEX_FEMALE); /* 002 */
    assert_int_equal(eb_citizen_id_sex("370702201001010012"), EB_SEX_MALE);   /* 001 */
    assert_int_equal(eb_citizen_id_birth("110105194912310021", d), EB_EINVAL);
    assert_string_equal(d, "");
    assert_int_equal(eb_citizen_id_sex("110105194912310021"), EB_SEX_UNKNOWN);
}

static void student_numbers(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(eb_student_no_check("G11010519491231002X", &why), 0);
    assert_int_equal(eb_student_no_check("G11010519491231002x", NULL), 0);
    assert_int_equal(eb_student_no_check("G110105194912310021", &why), EB_EINVAL);
    assert_string_equal(why, "G student number must carry a valid citizen ID");
    assert_int_equal(eb_student_no_check("J370702201001010012", NULL), 0);
    assert_int_equal(eb_student_no_check("J370702201001010013", &why), EB_EINVAL);
    assert_string_equal(why, "J student number check digit or digits are wrong");
    assert_int_equal(eb_student_no_check("L37070220100101", NULL), EB_EINVAL);
    assert_int_equal(eb_student_no_check("L370702201001014821", NULL), 0);
    assert_int_equal(eb_student_no_check("L370702201002304821", &why), EB_EINVAL);
    assert_string_equal(why, "L student number birth date is not a calendar date");
    assert_int_equal(eb_student_no_check("L99070220100101482A", NULL), EB_EINVAL);
    assert_int_equal(eb_student_no_check("L990702201001014821", &why), EB_EINVAL);
    assert_string_equal(why, "student number region code is unknown");
    assert_int_equal(eb_student_no_check("g11010519491231002X", &why), EB_EINVAL);
    assert_string_equal(why, "student number must start with G, J or L");
    assert_int_equal(eb_student_no_check("11010519491231002X", &why), EB_EINVAL);
    assert_string_equal(why, "student number must be 19 characters");
    assert_int_equal(eb_student_no_check("", NULL), EB_EINVAL);
    assert_int_equal(eb_student_no_check(NULL, NULL), EB_EINVAL);
}

static void school_codes(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(eb_school_code_check("2137000123", NULL), 0);
    assert_int_equal(eb_school_code_check("1144000001", NULL), 0);
    assert_int_equal(eb_school_code_check("5137999999", NULL), 0);
    assert_int_equal(eb_school_code_check("3637000015", NULL), 0);
    assert_int_equal(eb_school_code_check("2337000123", &why), EB_EINVAL);
    assert_string_equal(why, "school identifier category is unknown");
    assert_int_equal(eb_school_code_check("2199000123", &why), EB_EINVAL);
    assert_string_equal(why, "school identifier province code is unknown");
    assert_int_equal(eb_school_code_check("213700012", &why), EB_EINVAL);
    assert_string_equal(why, "school identifier must be 10 digits");
    assert_int_equal(eb_school_code_check("21370001234", NULL), EB_EINVAL);
    assert_int_equal(eb_school_code_check("21370O0123", NULL), EB_EINVAL);
    assert_int_equal(eb_school_code_check(NULL, NULL), EB_EINVAL);
}

static void division_codes(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(eb_division_code_check("370700", NULL), 0);
    assert_int_equal(eb_division_code_check("820000", NULL), 0);
    assert_int_equal(eb_division_code_check("370781", NULL), 0);
    assert_int_equal(eb_division_code_check("470700", &why), EB_EINVAL);
    assert_string_equal(why, "division code province is unknown");
    assert_int_equal(eb_division_code_check("37070", &why), EB_EINVAL);
    assert_string_equal(why, "division code must be 6 digits");
    assert_int_equal(eb_division_code_check("3707000", NULL), EB_EINVAL);
    assert_int_equal(eb_division_code_check("37a700", NULL), EB_EINVAL);
}

static void running_types(void **state)
{
    (void)state;
    unsigned st = 99;
    const char *why = NULL;
    assert_int_equal(eb_running_type_check("111", &st, NULL), 0);
    assert_int_equal(st, EB_STAGE_PRESCHOOL);
    assert_int_equal(eb_running_type_check("218", &st, NULL), 0);
    assert_int_equal(st, EB_STAGE_PRIMARY);
    assert_int_equal(eb_running_type_check("312", &st, NULL), 0);
    assert_int_equal(st, EB_STAGE_PRIMARY | EB_STAGE_JUNIOR);
    assert_int_equal(eb_running_type_check("341", &st, NULL), 0);
    assert_int_equal(st, EB_STAGE_JUNIOR | EB_STAGE_SENIOR);
    assert_int_equal(eb_running_type_check("345", &st, NULL), 0);
    assert_int_equal(st, EB_STAGE_PRIMARY | EB_STAGE_JUNIOR | EB_STAGE_SENIOR);
    assert_int_equal(eb_running_type_check("366", &st, NULL), 0);
    assert_int_equal(st, EB_STAGE_VOCATIONAL);
    assert_int_equal(eb_running_type_check("513", &st, NULL), 0);
    assert_int_equal(st, EB_STAGE_SPECIAL);
    assert_int_equal(eb_running_type_check("371", NULL, NULL), 0);
    assert_int_equal(eb_running_type_check("999", &st, &why), EB_EINVAL);
    assert_int_equal(st, 0);
    assert_string_equal(why, "running type code is unknown");
    assert_int_equal(eb_running_type_check("21", NULL, NULL), EB_EINVAL);
    assert_int_equal(eb_running_type_check("2111", NULL, NULL), EB_EINVAL);
    assert_int_equal(eb_running_type_check(NULL, NULL, NULL), EB_EINVAL);
    assert_string_equal(eb_running_type_name("218"), "小学教学点");
    assert_string_equal(eb_running_type_name("312"), "九年一贯制学校");
    assert_string_equal(eb_running_type_name("371"), "专门学校");
    assert_null(eb_running_type_name("000"));
}

static void urban_rural_codes(void **state)
{
    (void)state;
    const char *ok[] = {"111", "112", "121", "122", "123", "210", "220"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(eb_urban_rural_check(ok[i], NULL), 0);
    const char *why = NULL;
    assert_int_equal(eb_urban_rural_check("113", &why), EB_EINVAL);
    assert_string_equal(why, "urban/rural code is unknown");
    assert_int_equal(eb_urban_rural_check("11", NULL), EB_EINVAL);
    assert_int_equal(eb_urban_rural_check("2200", NULL), EB_EINVAL);
    assert_int_equal(eb_urban_rural_check(NULL, NULL), EB_EINVAL);
}

static void dates(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(eb_date_check("2026-09-01", NULL), 0);
    assert_int_equal(eb_date_check("2024-02-29", NULL), 0);
    assert_int_equal(eb_date_check("2000-02-29", NULL), 0);
    assert_int_equal(eb_date_check("1900-01-01", NULL), 0);
    assert_int_equal(eb_date_check("2100-12-31", NULL), 0);
    assert_int_equal(eb_date_check("2023-02-29", &why), EB_EINVAL);
    assert_string_equal(why, "date is not a calendar date");
    assert_int_equal(eb_date_check("2100-02-29", NULL), EB_EINVAL);
    assert_int_equal(eb_date_check("2026-02-30", NULL), EB_EINVAL);
    assert_int_equal(eb_date_check("2026-04-31", NULL), EB_EINVAL);
    assert_int_equal(eb_date_check("2026-13-01", NULL), EB_EINVAL);
    assert_int_equal(eb_date_check("2026-00-10", NULL), EB_EINVAL);
    assert_int_equal(eb_date_check("1899-12-31", &why), EB_EINVAL);
    assert_string_equal(why, "date is outside 1900-2100");
    assert_int_equal(eb_date_check("2101-01-01", NULL), EB_EINVAL);
    assert_int_equal(eb_date_check("2026-9-01", &why), EB_EINVAL);
    assert_string_equal(why, "date must be YYYY-MM-DD");
    assert_int_equal(eb_date_check("2026/09/01", NULL), EB_EINVAL);
    assert_int_equal(eb_date_check("2026-09-01T00", NULL), EB_EINVAL);
    assert_int_equal(eb_date_check("2026-09-0a", NULL), EB_EINVAL);
    assert_int_equal(eb_date_check("", NULL), EB_EINVAL);
    assert_int_equal(eb_date_check(NULL, NULL), EB_EINVAL);
}

static void masking(void **state)
{
    (void)state;
    char out[19];
    eb_citizen_id_mask("11010519491231002X", out);
    assert_string_equal(out, "110105********002X");
    eb_citizen_id_mask("110105491231002", out); /* old 15-digit number */
    assert_string_equal(out, "110105*****1002");
    eb_citizen_id_mask("12345", out);
    assert_string_equal(out, "*****");
    eb_citizen_id_mask(NULL, out);
    assert_string_equal(out, "");
}

EB_TEST_GROUP(registry_ids)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_char_matches_standard_vectors),
        cmocka_unit_test(citizen_id_accepts_valid_numbers),
        cmocka_unit_test(citizen_id_rejects_invalid_numbers),
        cmocka_unit_test(citizen_id_tomorrow_is_future),
        cmocka_unit_test(citizen_id_birth_and_sex),
        cmocka_unit_test(student_numbers),
        cmocka_unit_test(school_codes),
        cmocka_unit_test(division_codes),
        cmocka_unit_test(running_types),
        cmocka_unit_test(urban_rural_codes),
        cmocka_unit_test(dates),
        cmocka_unit_test(masking),
    };
    return cmocka_run_group_tests_name("registry_ids", tests, NULL, NULL);
}
