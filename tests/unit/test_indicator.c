/* Indicators, periods and policy rules over a real cube filled by eb_cube_apply: formulas that
 * sum before they divide, the balance audit's coefficient of variation against a hand
 * computation, and every rule at its policy boundary. */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "brain/indicator.h"
#include "core/err.h"

/* ---- elements of the tests (ids and aggregations as the brain would give them) ---------- */

static const struct {
    const char *code;
    int32_t id;
    enum eb_agg agg;
} elements[] = {
    {"students.enrolled", 1, EB_AGG_LAST},
    {"attendance.present", 2, EB_AGG_SUM},
    {"attendance.absent", 3, EB_AGG_COUNT},
    {"homework.minutes", 4, EB_AGG_AVG},
    {"sleep.hours", 5, EB_AGG_AVG},
    {"activity.in_school_minutes", 6, EB_AGG_AVG},
    {"afterschool.students", 7, EB_AGG_SUM},
    {"afterschool.minutes", 8, EB_AGG_AVG},
    {"afterschool.end_minute", 9, EB_AGG_AVG},
    {"equipment.multimedia_classrooms", 10, EB_AGG_LAST},
    {"lessons.homework_written_g12", 11, EB_AGG_SUM},
};

enum {
    E_ENROLLED = 1,
    E_PRESENT,
    E_ABSENT,
    E_HOMEWORK,
    E_SLEEP,
    E_ACTIVITY,
    E_AS_STUDENTS,
    E_AS_MINUTES,
    E_AS_END,
    E_MULTIMEDIA,
    E_G12
};

static int resolve(void *ctx, const char *code, int32_t *id, enum eb_agg *agg)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof(elements) / sizeof(elements[0]); i++)
        if (strcmp(elements[i].code, code) == 0) {
            *id = elements[i].id;
            *agg = elements[i].agg;
            return 0;
        }
    return EB_ENOTFOUND;
}

static enum eb_agg agg_of(int32_t id)
{
    return elements[id - 1].agg;
}

static void put(struct eb_cube *c, int32_t el, int64_t org, eb_day day, double v)
{
    assert_int_equal(eb_cube_apply(c, el, agg_of(el), org, day, v, 1), 0);
}

static struct eb_indicator parse(const char *json, struct eb_arena *a)
{
    struct eb_indicator ind;
    const char *field, *why;
    json_t *def = json_loads(json, 0, NULL);
    assert_non_null(def);
    int rc = eb_indicator_parse(def, resolve, NULL, a, &ind, &field, &why);
    if (rc)
        fail_msg("%s: %s", field ? field : "-", why ? why : "-");
    json_decref(def);
    return ind;
}

/* ---- periods ---------------------------------------------------------------------------- */

static void periods_parse_at_their_boundaries(void **state)
{
    (void)state;
    struct eb_period p;
    eb_day today = eb_period_civil(2026, 3, 4);
    char label[9];
    static const struct {
        const char *s;
        int ok;
        int fy, fm, fd, ty, tm, td;
    } cases[] = {
        {"day:2026-03-02", 1, 2026, 3, 2, 2026, 3, 2},
        {"week:2026-W01", 1, 2025, 12, 29, 2026, 1, 4},
        {"week:2020-W53", 1, 2020, 12, 28, 2021, 1, 3},
        {"week:2021-W53", 0, 0, 0, 0, 0, 0, 0},
        {"week:2026-W00", 0, 0, 0, 0, 0, 0, 0},
        {"month:2024-02", 1, 2024, 2, 1, 2024, 2, 29},
        {"month:2026-13", 0, 0, 0, 0, 0, 0, 0},
        {"range:2026-03-01..2026-03-31", 1, 2026, 3, 1, 2026, 3, 31},
        {"range:2026-03-31..2026-03-01", 0, 0, 0, 0, 0, 0, 0},
        {"range:2000-01-01..2026-03-01", 0, 0, 0, 0, 0, 0, 0}, /* over ten years */
        {"day:2026-02-30", 0, 0, 0, 0, 0, 0, 0},
        {"days:2026-03-02", 0, 0, 0, 0, 0, 0, 0},
        {"day:2026-3-2", 0, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = eb_period_parse(NULL, NULL, cases[i].s, today, NULL, &p);
        if (!cases[i].ok) {
            if (rc != EB_EINVAL)
                fail_msg("%s: expected EB_EINVAL, got %d", cases[i].s, rc);
            continue;
        }
        if (rc != 0)
            fail_msg("%s: %d", cases[i].s, rc);
        assert_int_equal(p.from, eb_period_civil(cases[i].fy, cases[i].fm, cases[i].fd));
        assert_int_equal(p.to, eb_period_civil(cases[i].ty, cases[i].tm, cases[i].td));
    }
    /* Civil round trips and ISO week labels across a year end. */
    for (eb_day d = eb_period_civil(1999, 12, 1); d < eb_period_civil(2031, 1, 1); d += 13) {
        int y, m, dd;
        eb_period_ymd(d, &y, &m, &dd);
        assert_int_equal(eb_period_civil(y, m, dd), d);
    }
    assert_int_equal(eb_period_week_start(eb_period_civil(2027, 1, 1), label),
                     eb_period_civil(2026, 12, 28));
    assert_string_equal(label, "2026-W53");
    assert_int_equal(eb_period_civil(1970, 1, 1), 0);
}

/* ---- a small city in a cube ------------------------------------------------------------- */

/* city 1 > district 2 > schools 10 (primary), 20 (primary), 30 (primary), 40 (junior);
 * school 10 > grade 11 > classes 111 and 112. */
static struct eb_cube *city(struct eb_orgdir *dir)
{
    struct eb_cube *c = eb_cube_new();
    static const struct {
        int64_t id, parent;
        enum eb_org_kind kind;
        unsigned stages;
        int grade;
        const char *path;
    } nodes[] = {
        {1, 0, EB_ORG_CITY, 0, 0, "/1/"},
        {2, 1, EB_ORG_DISTRICT, 0, 0, "/1/2/"},
        {10, 2, EB_ORG_SCHOOL, EB_STAGE_PRIMARY, 0, "/1/2/10/"},
        {20, 2, EB_ORG_SCHOOL, EB_STAGE_PRIMARY, 0, "/1/2/20/"},
        {30, 2, EB_ORG_SCHOOL, EB_STAGE_PRIMARY, 0, "/1/2/30/"},
        {40, 2, EB_ORG_SCHOOL, EB_STAGE_JUNIOR, 0, "/1/2/40/"},
        {11, 10, EB_ORG_GRADE, 0, 13, "/1/2/10/11/"},
        {111, 11, EB_ORG_CLASS, 0, 13, "/1/2/10/11/111/"},
        {112, 11, EB_ORG_CLASS, 0, 13, "/1/2/10/11/112/"},
    };
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        assert_int_equal(eb_cube_add_node(c, nodes[i].id, nodes[i].parent, nodes[i].kind), 0);
        struct eb_orgdir_node n = {.id = nodes[i].id,
                                   .parent_id = nodes[i].parent,
                                   .kind = nodes[i].kind,
                                   .stages = nodes[i].stages,
                                   .grade = nodes[i].grade};
        snprintf(n.path, sizeof(n.path), "%s", nodes[i].path);
        snprintf(n.name, sizeof(n.name), "node %lld", (long long)nodes[i].id);
        eb_orgdir_put(dir, &n);
    }
    return c;
}

static void ratio_sums_numerator_and_denominator_before_dividing(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(1 << 20);
    struct eb_orgdir *dir = eb_orgdir_new();
    struct eb_cube *c = city(dir);
    struct eb_ind_source src = {c, dir};
    struct eb_ind_value v;
    eb_day d = eb_period_civil(2026, 3, 2);
    /* Class 111: 40 present, 2 absent; class 112: 18 present, 12 absent (a small class with an
     * outbreak). The mean of the class rates would be (95.238 + 60) / 2 = 77.6; the school's
     * rate is 58 / 72. */
    put(c, E_PRESENT, 111, d, 40);
    put(c, E_ABSENT, 111, d, 1);
    put(c, E_ABSENT, 111, d, 1);
    put(c, E_PRESENT, 112, d, 18);
    for (int i = 0; i < 12; i++)
        put(c, E_ABSENT, 112, d, 1);
    struct eb_indicator att =
        parse("{\"code\":\"attendance.rate\",\"name_zh\":\"出勤率\",\"name_en\":\"Attendance\","
              "\"numerator\":[{\"element\":\"attendance.present\"}],"
              "\"denominator\":[{\"element\":\"attendance.present\"},{\"element\":\"attendance."
              "absent\"}],"
              "\"factor\":100}",
              a);
    assert_int_equal(att.den[1].measure, EB_MEASURE_COUNT); /* from the element's aggregation */
    assert_int_equal(eb_indicator_eval(&src, &att, 10, d, d, &v), 0);
    assert_true(v.has_value);
    assert_true(fabs(v.num - 58) < 1e-9);
    assert_true(fabs(v.den - 72) < 1e-9);
    assert_true(fabs(v.value - 5800.0 / 72) < 1e-9);
    /* Up the tree and over a longer period the same sums hold; a day without rows is no value. */
    assert_int_equal(eb_indicator_eval(&src, &att, 1, d - 6, d, &v), 0);
    assert_true(fabs(v.value - 5800.0 / 72) < 1e-9);
    assert_int_equal(eb_indicator_eval(&src, &att, 10, d + 1, d + 1, &v), 0);
    assert_false(v.has_value);

    /* A flow against a stock: after-school participants on two days against the enrolment
     * reported once before (42 + 42): (50 + 60) / (84 + 84). */
    put(c, E_ENROLLED, 111, d - 10, 42);
    put(c, E_ENROLLED, 112, d - 10, 42);
    put(c, E_AS_STUDENTS, 10, d, 50);
    put(c, E_AS_STUDENTS, 10, d + 1, 60);
    struct eb_indicator as =
        parse("{\"code\":\"afterschool.student_rate\",\"name_zh\":\"课后服务\",\"name_en\":\"AS\","
              "\"numerator\":[{\"element\":\"afterschool.students\",\"measure\":\"sum\"}],"
              "\"denominator\":[{\"element\":\"students.enrolled\",\"measure\":\"last\"}],"
              "\"factor\":100}",
              a);
    assert_int_equal(eb_indicator_eval(&src, &as, 10, d - 20, d + 5, &v), 0);
    assert_true(fabs(v.num - 110) < 1e-9);
    assert_true(fabs(v.den - 168) < 1e-9);
    assert_true(fabs(v.value - 11000.0 / 168) < 1e-9);

    /* An average element: the mean of the reported values (sum / count), 30 and 90 -> 60. */
    put(c, E_HOMEWORK, 111, d, 30);
    put(c, E_HOMEWORK, 112, d, 90);
    struct eb_indicator hw =
        parse("{\"code\":\"hw\",\"name_zh\":\"作业\",\"name_en\":\"HW\","
              "\"numerator\":[{\"element\":\"homework.minutes\",\"measure\":\"sum\"}],"
              "\"denominator\":[{\"element\":\"homework.minutes\",\"measure\":\"count\"}]}",
              a);
    assert_int_equal(eb_indicator_eval(&src, &hw, 11, d, d, &v), 0);
    assert_true(fabs(v.value - 60) < 1e-9);
    eb_cube_free(c);
    eb_orgdir_free(dir);
    eb_arena_destroy(a);
}

static void definitions_are_refused_with_the_field_named(void **state)
{
    (void)state;
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"code\":\"A\",\"name_zh\":\"x\",\"name_en\":\"x\",\"numerator\":[{\"element\":"
         "\"sleep.hours\"}],\"denominator\":[{\"element\":\"sleep.hours\"}]}",
         "code"},
        {"{\"code\":\"a\",\"name_zh\":\"x\",\"name_en\":\"x\",\"numerator\":[{\"element\":"
         "\"nope\"}],\"denominator\":[{\"element\":\"sleep.hours\"}]}",
         "numerator"},
        {"{\"code\":\"a\",\"name_zh\":\"x\",\"name_en\":\"x\",\"numerator\":[],"
         "\"denominator\":[{\"element\":\"sleep.hours\"}]}",
         "numerator"},
        {"{\"code\":\"a\",\"name_zh\":\"x\",\"name_en\":\"x\",\"numerator\":[{\"element\":"
         "\"sleep.hours\",\"measure\":\"avg\"}],\"denominator\":[{\"element\":\"sleep.hours\"}]}",
         "numerator"},
        {"{\"code\":\"a\",\"name_zh\":\"x\",\"name_en\":\"x\",\"kind\":\"rank\",\"of\":\"b\"}",
         "kind"},
        {"{\"code\":\"a\",\"name_zh\":\"x\",\"name_en\":\"x\",\"kind\":\"cv\"}", "of"},
        {"{\"code\":\"a\",\"name_zh\":\"x\",\"name_en\":\"x\",\"kind\":\"cv\",\"of\":\"b\","
         "\"stage\":\"college\"}",
         "stage"},
        {"{\"code\":\"a\",\"name_zh\":\"x\",\"name_en\":\"x\",\"order\":\"desc\"}", "order"},
        {"{\"code\":\"a\",\"name_zh\":\"x\",\"name_en\":\"x\",\"factor\":0,\"numerator\":[{"
         "\"element\":\"sleep.hours\"}],\"denominator\":[{\"element\":\"sleep.hours\"}]}",
         "factor"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct eb_indicator ind;
        const char *field = NULL, *why = NULL;
        json_t *def = json_loads(bad[i].json, 0, NULL);
        assert_non_null(def);
        struct eb_arena *a = eb_arena_create(1 << 16);
        assert_int_equal(eb_indicator_parse(def, resolve, NULL, a, &ind, &field, &why), EB_EINVAL);
        eb_arena_destroy(a);
        if (!field || strcmp(field, bad[i].field) != 0)
            fail_msg("case %zu: expected field %s, got %s", i, bad[i].field, field ? field : "-");
        json_decref(def);
    }
}

static void cv_between_schools_matches_a_hand_computation(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(1 << 20);
    struct eb_orgdir *dir = eb_orgdir_new();
    struct eb_cube *c = city(dir);
    struct eb_ind_source src = {c, dir};
    struct eb_ind_value v;
    eb_day d = eb_period_civil(2026, 3, 2);
    /* Students 100, 200, 300 and multimedia rooms 2, 3, 9: 2, 1.5 and 3 rooms per hundred.
     * X̄ = (100·2 + 200·1.5 + 300·3) / 600 = 7/3; S² = (100·(1/3)² + 200·(5/6)² + 300·(2/3)²)
     * / 600 = 17/36; CV = √(17/36) / (7/3) = √17 / 14 = 0.294508... The junior school (40) is
     * outside the primary stage and must not count. */
    put(c, E_ENROLLED, 111, d, 60);
    put(c, E_ENROLLED, 112, d, 40);
    put(c, E_ENROLLED, 20, d, 200);
    put(c, E_ENROLLED, 30, d, 300);
    put(c, E_ENROLLED, 40, d, 500);
    put(c, E_MULTIMEDIA, 10, d, 2);
    put(c, E_MULTIMEDIA, 20, d, 3);
    put(c, E_MULTIMEDIA, 30, d, 9);
    put(c, E_MULTIMEDIA, 40, d, 50);
    struct eb_indicator per100 =
        parse("{\"code\":\"mm.per100\",\"name_zh\":\"每百名\",\"name_en\":\"per 100\","
              "\"numerator\":[{\"element\":\"equipment.multimedia_classrooms\"}],"
              "\"denominator\":[{\"element\":\"students.enrolled\"}],\"factor\":100}",
              a);
    struct eb_indicator cv =
        parse("{\"code\":\"mm.cv\",\"name_zh\":\"差异系数\",\"name_en\":\"CV\",\"kind\":\"cv\","
              "\"of\":\"mm.per100\",\"stage\":\"primary\",\"threshold\":0.5}",
              a);
    cv.base = &per100;
    assert_int_equal(eb_indicator_eval(&src, &cv, 2, d, d + 30, &v), 0);
    assert_true(v.has_value);
    assert_int_equal(v.n_schools, 3);
    if (fabs(v.value - sqrt(17.0) / 14) > 1e-9)
        fail_msg("CV %.12f, expected %.12f", v.value, sqrt(17.0) / 14);
    assert_true(fabs(v.mean - 7.0 / 3) < 1e-9);
    assert_true(fabs(v.min - 1.5) < 1e-9 && fabs(v.max - 3) < 1e-9 && fabs(v.median - 2) < 1e-9);
    assert_int_equal(v.bins[0] + v.bins[3] + v.bins[9], 3); /* 1.5, 2 and 3 in a 0.15 grid */
    /* The other non-additive kinds over the same schools; one school has no CV. */
    struct eb_indicator mn = cv, md = cv;
    mn.kind = EB_IND_MIN;
    md.kind = EB_IND_MEDIAN;
    assert_int_equal(eb_indicator_eval(&src, &mn, 2, d, d, &v), 0);
    assert_true(fabs(v.value - 1.5) < 1e-9);
    assert_int_equal(eb_indicator_eval(&src, &md, 2, d, d, &v), 0);
    assert_true(fabs(v.value - 2) < 1e-9);
    assert_int_equal(eb_indicator_eval(&src, &cv, 20, d, d, &v), 0);
    assert_false(v.has_value);
    /* Without the stage filter the junior school joins: 10 rooms per hundred at 500 pupils. */
    cv.stage = 0;
    assert_int_equal(eb_indicator_eval(&src, &cv, 2, d, d, &v), 0);
    assert_int_equal(v.n_schools, 4);
    assert_true(v.value > 0.5);
    eb_cube_free(c);
    eb_orgdir_free(dir);
    eb_arena_destroy(a);
}

/* ---- rules at their policy boundaries --------------------------------------------------- */

static void rules_fire_exactly_past_the_policy_limits(void **state)
{
    (void)state;
    struct eb_rule_elements el;
    struct eb_rule_config cfg;
    eb_rule_elements_resolve(&el, resolve, NULL);
    eb_rule_config_default(&cfg);
    assert_int_equal(cfg.office_end_minute, 17 * 60 + 30);
    eb_day d = eb_period_civil(2026, 3, 9);
    static const struct {
        int rule;
        int grade;
        int32_t element;
        double value;
        int breach;
    } cases[] = {
        {EB_RULE_HOMEWORK_G12, 11, E_G12, 0, 0},
        {EB_RULE_HOMEWORK_G12, 12, E_G12, 1, 1},
        {EB_RULE_HOMEWORK_G12, 11, E_HOMEWORK, 15, 1},
        {EB_RULE_HOMEWORK_G12, 13, E_G12, 1, -1}, /* grade 3: not this rule */
        {EB_RULE_HOMEWORK_TIME, 13, E_HOMEWORK, 60, 0},
        {EB_RULE_HOMEWORK_TIME, 16, E_HOMEWORK, 61, 1},
        {EB_RULE_HOMEWORK_TIME, 21, E_HOMEWORK, 90, 0},
        {EB_RULE_HOMEWORK_TIME, 23, E_HOMEWORK, 91, 1},
        {EB_RULE_HOMEWORK_TIME, 31, E_HOMEWORK, 200, -1}, /* senior: no national limit */
        {EB_RULE_SLEEP, 14, E_SLEEP, 10, 0},
        {EB_RULE_SLEEP, 14, E_SLEEP, 9.9, 1},
        {EB_RULE_SLEEP, 22, E_SLEEP, 9, 0},
        {EB_RULE_SLEEP, 22, E_SLEEP, 8.9, 1},
        {EB_RULE_SLEEP, 32, E_SLEEP, 8, 0},
        {EB_RULE_SLEEP, 32, E_SLEEP, 7.9, 1},
        {EB_RULE_ACTIVITY, 15, E_ACTIVITY, 60, 0},
        {EB_RULE_ACTIVITY, 15, E_ACTIVITY, 59, 1},
        {EB_RULE_AFTERSCHOOL, 0, E_AS_MINUTES, 120, 0},
        {EB_RULE_AFTERSCHOOL, 0, E_AS_MINUTES, 119, 1},
        {EB_RULE_AFTERSCHOOL, 0, E_AS_END, 17 * 60 + 30, 0},
        {EB_RULE_AFTERSCHOOL, 0, E_AS_END, 17 * 60 + 29, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct eb_cube *c = eb_cube_new();
        int school_rule = eb_rule_info(cases[i].rule)->level == EB_ORG_SCHOOL;
        struct eb_orgdir_node n = {.id = school_rule ? 3 : 5,
                                   .kind = school_rule ? EB_ORG_SCHOOL : EB_ORG_CLASS,
                                   .stages = school_rule ? EB_STAGE_PRIMARY : 0,
                                   .grade = cases[i].grade};
        eb_cube_add_node(c, 1, 0, EB_ORG_CITY);
        eb_cube_add_node(c, 3, 1, EB_ORG_SCHOOL);
        eb_cube_add_node(c, 4, 3, EB_ORG_GRADE);
        eb_cube_add_node(c, 5, 4, EB_ORG_CLASS);
        put(c, cases[i].element, n.id, d, cases[i].value);
        struct eb_rule_eval ev;
        assert_int_equal(eb_rule_eval(c, &el, &cfg, cases[i].rule, &n, d, &ev), 0);
        if (cases[i].breach < 0 ? ev.applies : (!ev.applies || ev.breach != cases[i].breach))
            fail_msg("case %zu (%s, grade %d, %g): applies %d breach %d", i,
                     eb_rule_info(cases[i].rule)->code, cases[i].grade, cases[i].value, ev.applies,
                     ev.breach);
        /* The day before has no data: the rule does not apply there. */
        assert_int_equal(eb_rule_eval(c, &el, &cfg, cases[i].rule, &n, d - 1, &ev), 0);
        assert_false(ev.applies);
        eb_cube_free(c);
    }
}

static void attendance_drop_compares_with_the_previous_school_days(void **state)
{
    (void)state;
    struct eb_rule_elements el;
    struct eb_rule_config cfg;
    eb_rule_elements_resolve(&el, resolve, NULL);
    eb_rule_config_default(&cfg);
    /* Five school days at 100 % (a weekend in between carries no rows), then 95 % (a drop of
     * exactly 5 points: an alert) or 96 % (4 points: none). Two earlier days only: no baseline. */
    static const struct {
        double present_today;
        int history_days;
        int applies, breach;
    } cases[] = {{95, 5, 1, 1}, {96, 5, 1, 0}, {50, 2, 0, 0}, {100, 5, 1, 0}};
    eb_day monday = eb_period_civil(2026, 3, 9);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct eb_cube *c = eb_cube_new();
        struct eb_orgdir_node n = {.id = 3, .kind = EB_ORG_SCHOOL};
        eb_cube_add_node(c, 1, 0, EB_ORG_CITY);
        eb_cube_add_node(c, 3, 1, EB_ORG_SCHOOL);
        eb_day days[] = {monday - 7, monday - 6, monday - 5, monday - 4, monday - 3};
        for (int k = 5 - cases[i].history_days; k < 5; k++)
            put(c, E_PRESENT, 3, days[k], 100);
        put(c, E_PRESENT, 3, monday, cases[i].present_today);
        for (int k = 0; k < 100 - (int)cases[i].present_today; k++)
            put(c, E_ABSENT, 3, monday, 1);
        struct eb_rule_eval ev;
        assert_int_equal(eb_rule_eval(c, &el, &cfg, EB_RULE_ATTENDANCE_DROP, &n, monday, &ev), 0);
        if (ev.applies != cases[i].applies || ev.breach != cases[i].breach)
            fail_msg("case %zu: applies %d breach %d (rate %.2f baseline %.2f)", i, ev.applies,
                     ev.breach, ev.value, ev.baseline);
        if (ev.applies) {
            assert_true(fabs(ev.baseline - 100) < 1e-9);
            json_t *v = eb_rule_values_json(EB_RULE_ATTENDANCE_DROP, &ev);
            assert_true(fabs(json_number_value(json_object_get(v, "rate")) -
                             cases[i].present_today) < 1e-9);
            json_decref(v);
        }
        eb_cube_free(c);
    }
}

static void a_corrected_value_clears_the_breach(void **state)
{
    (void)state;
    struct eb_rule_elements el;
    struct eb_rule_config cfg;
    eb_rule_elements_resolve(&el, resolve, NULL);
    eb_rule_config_default(&cfg);
    struct eb_cube *c = eb_cube_new();
    struct eb_orgdir_node n = {.id = 5, .kind = EB_ORG_CLASS, .grade = 14};
    struct eb_rule_eval ev;
    eb_day d = eb_period_civil(2026, 3, 10);
    eb_cube_add_node(c, 1, 0, EB_ORG_CITY);
    eb_cube_add_node(c, 5, 1, EB_ORG_CLASS);
    put(c, E_HOMEWORK, 5, d, 120);
    assert_int_equal(eb_rule_eval(c, &el, &cfg, EB_RULE_HOMEWORK_TIME, &n, d, &ev), 0);
    assert_true(ev.applies && ev.breach);
    /* The correction: the superseded value leaves the cube, the new one enters. */
    assert_int_equal(eb_cube_apply(c, E_HOMEWORK, EB_AGG_AVG, 5, d, 120, -1), 0);
    put(c, E_HOMEWORK, 5, d, 45);
    assert_int_equal(eb_rule_eval(c, &el, &cfg, EB_RULE_HOMEWORK_TIME, &n, d, &ev), 0);
    assert_true(ev.applies);
    assert_false(ev.breach);
    struct eb_arena *a = eb_arena_create(1 << 16);
    json_t *v = json_pack("{s:f,s:f}", "value", 120.0, "limit", 60.0);
    assert_string_equal(
        eb_rule_message(a, EB_RULE_HOMEWORK_TIME, "三年级1班", "2026-03-10", v, EB_LANG_ZH),
        "三年级1班：书面作业 120 分钟，超过 60 分钟（2026-03-10起）");
    json_decref(v);
    eb_arena_destroy(a);
    eb_cube_free(c);
}

EB_TEST_GROUP(indicator)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(periods_parse_at_their_boundaries),
        cmocka_unit_test(ratio_sums_numerator_and_denominator_before_dividing),
        cmocka_unit_test(definitions_are_refused_with_the_field_named),
        cmocka_unit_test(cv_between_schools_matches_a_hand_computation),
        cmocka_unit_test(rules_fire_exactly_past_the_policy_limits),
        cmocka_unit_test(attendance_drop_compares_with_the_previous_school_days),
        cmocka_unit_test(a_corrected_value_clears_the_breach),
    };
    return cmocka_run_group_tests_name("indicator", tests, NULL, NULL);
}
