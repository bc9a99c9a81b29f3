/* Validation of citizen IDs, student numbers, school identifiers and the registry's code sets. */
#include "registry/registry_ids.h"

#include "core/err.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

/* ISO 7064 MOD 11-2 weights, W_i = 2^(18-i) mod 11 (GB 11643-1999). */
static const int id_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char id_check_chars[] = "10X98765432";

static int fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return EB_EINVAL;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* GB/T 2260 province-level codes: 11..15, 21..23, 31..37, 41..46, 50..54, 61..65, 71, 81, 82. */
static int province_ok(int p)
{
    return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
           (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
           p == 81 || p == 82;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return days[m - 1];
}

static int ymd_real(int y, int m, int d)
{
    return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/* Today's date as YYYYMMDD in local time; a birth date after it is in the future. */
static int today_ymd(void)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        return 99991231;
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* Checks an 8-digit YYYYMMDD birth date: real, from 1900 on, not after today. */
static int birth_ok(const char *s, const char **why)
{
    int y = num(s, 4), m = num(s + 4, 2), d = num(s + 6, 2);
    if (!ymd_real(y, m, d))
        return fail(why, "birth date is not a calendar date");
    if (y < 1900)
        return fail(why, "birth date is before 1900");
    if (y * 10000 + m * 100 + d > today_ymd())
        return fail(why, "birth date is in the future");
    return 0;
}

char eb_citizen_id_check_char(const char *first17)
{
    if (!first17)
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (first17[i] < '0' || first17[i] > '9')
            return 0;
        sum += (first17[i] - '0') * id_weights[i];
    }
    return id_check_chars[sum % 11];
}

/* The MOD 11-2 part shared by citizen IDs and J student numbers: 17 digits and the right check
 * character. A lowercase 'x' is accepted because hand-typed numbers often carry one. */
static int mod11_2_ok(const char *s, const char **why)
{
    if (strnlen(s, 19) != 18)
        return fail(why, "citizen ID must be 18 characters");
    if (!all_digits(s, 17))
        return fail(why, "citizen ID must start with 17 digits");
    char last = s[17] == 'x' ? 'X' : s[17];
    if (!((last >= '0' && last <= '9') || last == 'X'))
        return fail(why, "citizen ID must end with a digit or X");
    if (eb_citizen_id_check_char(s) != last)
        return fail(why, "citizen ID check digit is wrong");
    return 0;
}

int eb_citizen_id_check(const char *id, const char **why)
{
    if (!id)
        return fail(why, "citizen ID is missing");
    int rc = mod11_2_ok(id, why);
    if (rc)
        return rc;
    if (!province_ok(num(id, 2)))
        return fail(why, "citizen ID region code is unknown");
    return birth_ok(id + 6, why);
}

int eb_citizen_id_birth(const char *id, char out[11])
{
    out[0] = 0;
    if (eb_citizen_id_check(id, NULL))
        return EB_EINVAL;
    memcpy(out, id + 6, 4);
    out[4] = '-';
    memcpy(out + 5, id + 10, 2);
    out[7] = '-';
    memcpy(out + 8, id + 12, 2);
    out[10] = 0;
    return 0;
}

enum eb_sex eb_citizen_id_sex(const char *id)
{
    if (eb_citizen_id_check(id, NULL))
        return EB_SEX_UNKNOWN;
    return (id[16] - '0') % 2 ? EB_SEX_MALE : EB_SEX_FEMALE;
}

int eb_student_no_check(const char *no, const char **why)
{
    if (!no || !no[0])
        return fail(why, "student number is missing");
    if (strnlen(no, 21) != 19)
        return fail(why, "student number must be 19 characters");
    const char *rest = no + 1;
    int rc;
    switch (no[0]) {
    case 'G':
        rc = eb_citizen_id_check(rest, why);
        return rc ? fail(why, "G student number must carry a valid citizen ID") : 0;
    case 'J':
        /* Built like a citizen ID from the school's region code, so the same check applies to
         * the digits and the region; the birth date is not checked (the header's contract). */
        rc = mod11_2_ok(rest, why);
        if (rc)
            return fail(why, "J student number check digit or digits are wrong");
        if (!province_ok(num(rest, 2)))
            return fail(why, "student number region code is unknown");
        return 0;
    case 'L':
        if (!all_digits(rest, 18))
            return fail(why, "L student number must be 18 digits after L");
        if (!province_ok(num(rest, 2)))
            return fail(why, "student number region code is unknown");
        if (!ymd_real(num(rest + 6, 4), num(rest + 10, 2), num(rest + 12, 2)) ||
            num(rest + 6, 4) < 1900)
            return fail(why, "L student number birth date is not a calendar date");
        return 0;
    default:
        return fail(why, "student number must start with G, J or L");
    }
}

static int school_category_ok(int aa)
{
    return aa == 11 || aa == 21 || aa == 22 || (aa >= 31 && aa <= 37) || aa == 41 || aa == 42 ||
           aa == 51 || (aa >= 91 && aa <= 93);
}

int eb_school_code_check(const char *code, const char **why)
{
    if (!code || strnlen(code, 11) != 10 || !all_digits(code, 10))
        return fail(why, "school identifier must be 10 digits");
    if (!school_category_ok(num(code, 2)))
        return fail(why, "school identifier category is unknown");
    if (!province_ok(num(code + 2, 2)))
        return fail(why, "school identifier province code is unknown");
    return 0;
}

int eb_division_code_check(const char *code, const char **why)
{
    if (!code || strnlen(code, 7) != 6 || !all_digits(code, 6))
        return fail(why, "division code must be 6 digits");
    if (!province_ok(num(code, 2)))
        return fail(why, "division code province is unknown");
    return 0;
}

/* 办学类型 (JY/T 1001, GB/T 33782-2017 表4) with the stages each type serves. Adult schools count
 * as lifelong learning; higher-education types carry no K-12 stage (0). */
#define PRE EB_STAGE_PRESCHOOL
#define PRI EB_STAGE_PRIMARY
#define JUN EB_STAGE_JUNIOR
#define SEN EB_STAGE_SENIOR
#define VOC EB_STAGE_VOCATIONAL
#define SPE EB_STAGE_SPECIAL
#define LIF EB_STAGE_LIFELONG

static const struct running_type {
    char code[4];
    unsigned stages;
    const char *name;
} running_types[] = {
    {"111", PRE, "幼儿园"},
    {"119", PRE, "附设幼儿班"},
    {"211", PRI, "小学"},
    {"218", PRI, "小学教学点"},
    {"219", PRI, "附设小学班"},
    {"221", LIF, "职工小学"},
    {"222", LIF, "农民小学"},
    {"228", LIF, "小学班"},
    {"229", LIF, "扫盲班"},
    {"311", JUN, "初级中学"},
    {"312", PRI | JUN, "九年一贯制学校"},
    {"319", JUN, "附设普通初中班"},
    {"321", JUN, "职业初中"},
    {"329", JUN, "附设职业初中班"},
    {"331", LIF, "成人职工初中"},
    {"332", LIF, "成人农民初中"},
    {"341", JUN | SEN, "完全中学"},
    {"342", SEN, "高级中学"},
    {"343", JUN | SEN, "独立设置的少数民族完全中学"},
    {"344", SEN, "独立设置的少数民族高级中学"},
    {"345", PRI | JUN | SEN, "十二年一贯制学校"},
    {"349", SEN, "附设普通高中班"},
    {"351", LIF, "成人职工高中"},
    {"352", LIF, "成人农民高中"},
    {"361", VOC, "调整后中等职业学校"},
    {"362", VOC, "中等技术学校"},
    {"363", VOC, "中等师范学校"},
    {"364", VOC, "成人中等专业学校"},
    {"365", VOC, "职业高中学校"},
    {"366", VOC, "技工学校"},
    {"368", VOC, "附设中职班"},
    {"369", VOC, "其他中职机构"},
    {"371", JUN, "专门学校"},
    {"411", 0, "大学"},
    {"412", 0, "学院"},
    {"413", 0, "独立学院"},
    {"414", 0, "高等专科学校"},
    {"415", 0, "高等职业学校"},
    {"419", 0, "分校、大专班"},
    {"421", LIF, "职工高校"},
    {"422", LIF, "农民高校"},
    {"423", LIF, "管理干部学院"},
    {"424", LIF, "教育学院"},
    {"425", LIF, "独立函授学院"},
    {"426", LIF, "广播电视大学"},
    {"429", LIF, "其他成人高等教育机构"},
    {"511", SPE, "盲人学校"},
    {"512", SPE, "聋人学校"},
    {"513", SPE, "培智学校"},
    {"514", SPE, "其他特殊教育学校"},
    {"519", SPE, "附设特教班"},
    {"911", 0, "培养研究生的科研机构"},
    {"921", 0, "民办的其他高等教育机构"},
    {"931", LIF, "职工技术培训学校"},
    {"932", LIF, "农村成人文化技术培训学校"},
    {"933", LIF, "其他培训机构"},
};

static const struct running_type *running_type_find(const char *code)
{
    if (!code || strnlen(code, 4) != 3)
        return NULL;
    for (size_t i = 0; i < sizeof(running_types) / sizeof(running_types[0]); i++)
        if (memcmp(running_types[i].code, code, 3) == 0)
            return &running_types[i];
    return NULL;
}

int eb_running_type_check(const char *code, unsigned *stages, const char **why)
{
    const struct running_type *t = running_type_find(code);
    if (stages)
        *stages = t ? t->stages : 0;
    if (!t)
        return fail(why, "running type code is unknown");
    return 0;
}

const char *eb_running_type_name(const char *code)
{
    const struct running_type *t = running_type_find(code);
    return t ? t->name : NULL;
}

int eb_urban_rural_check(const char *code, const char **why)
{
    static const char *const codes[] = {"111", "112", "121", "122", "123", "210", "220"};
    if (code)
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
            if (strcmp(code, codes[i]) == 0)
                return 0;
    return fail(why, "urban/rural code is unknown");
}

int eb_date_check(const char *ymd, const char **why)
{
    if (!ymd || strnlen(ymd, 11) != 10 || !all_digits(ymd, 4) || ymd[4] != '-' ||
        !all_digits(ymd + 5, 2) || ymd[7] != '-' || !all_digits(ymd + 8, 2))
        return fail(why, "date must be YYYY-MM-DD");
    int y = num(ymd, 4), m = num(ymd + 5, 2), d = num(ymd + 8, 2);
    if (!ymd_real(y, m, d))
        return fail(why, "date is not a calendar date");
    if (y < 1900 || y > 2100)
        return fail(why, "date is outside 1900-2100");
    return 0;
}

void eb_citizen_id_mask(const char *id, char out[19])
{
    size_t n = id ? strnlen(id, 18) : 0;
    if (n < 10) {
        /* Too short to keep anything without revealing most of it. */
        memset(out, '*', n);
        out[n] = 0;
        return;
    }
    memcpy(out, id, n);
    memset(out + 6, '*', n - 10);
    out[n] = 0;
}
