/* Unit tests of the data-quality checks (store_quality.c) on a SQLite file: each check on a
 * small world loaded by the system caller, replacement by scope, the roll-up, paging and who may
 * read or run. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "registry/registry_ids.h"
#include "store/store.h"

static struct {
    char dir[64], db_path[128];
    struct eb_store *st;
    struct eb_db *db;
    int64_t city, district, school, school2, grade, grade2, class_a, class_b, class_c;
    int64_t ok, bad_digit, dup1, dup2, old, closed_kid;
} w;

static const struct eb_caller sys = {.system = 1};

static int64_t org(int64_t parent, enum eb_org_kind kind, const char *name, const char *grade)
{
    struct eb_org o = {.parent_id = parent, .kind = kind, .name = name, .grade_code = grade};
    if (kind == EB_ORG_SCHOOL) {
        o.running_type = "211";
        o.stages = EB_STAGE_PRIMARY;
    }
    if (kind == EB_ORG_CLASS)
        o.school_year = 2026;
    int64_t id = 0;
    assert_int_equal(eb_store_org_create(w.db, &sys, &o, &id), 0);
    return id;
}

/* A valid citizen ID born on birth ("YYYYMMDD") with sequence seq. */
static void cid(const char *birth, int seq, char out[19])
{
    char first[18];
    snprintf(first, sizeof(first), "370203%.8s%03d", birth, seq);
    memcpy(out, first, 17);
    out[17] = eb_citizen_id_check_char(first);
    out[18] = '\0';
}

static int64_t student(int64_t school, int64_t cls, const char *name, const char *birth,
                       const char *id)
{
    struct eb_person p = {
        .name = name, .sex = EB_SEX_MALE, .birth_date = birth, .citizen_id = id, .org_id = school};
    int64_t pid = 0, eid = 0;
    assert_int_equal(eb_store_person_create(w.db, &sys, &p, &pid), 0);
    struct eb_enrolment e = {.person_id = pid, .class_id = cls, .start_date = "2026-09-01"};
    assert_int_equal(eb_store_enrolment_create(w.db, &sys, &e, &eid), 0);
    return pid;
}

static void head_teacher(int64_t school, int64_t cls)
{
    struct eb_person p = {.name = "老师",
                          .sex = EB_SEX_FEMALE,
                          .birth_date = "1980-01-01",
                          .org_id = school,
                          .kind = "teacher"};
    int64_t pid = 0, post = 0, tid = 0;
    assert_int_equal(eb_store_person_create(w.db, &sys, &p, &pid), 0);
    struct eb_post ps = {
        .person_id = pid, .school_id = school, .title = "专任教师", .start_date = "2026-09-01"};
    assert_int_equal(eb_store_post_create(w.db, &sys, &ps, &post), 0);
    struct eb_teaching t = {.post_id = post,
                            .class_id = cls,
                            .subject = "语文",
                            .is_head_teacher = 1,
                            .start_date = "2026-09-01"};
    assert_int_equal(eb_store_teaching_create(w.db, &sys, &t, &tid), 0);
}

static int setup(void **state)
{
    (void)state;
    memset(&w, 0, sizeof(w));
    snprintf(w.dir, sizeof(w.dir), "/tmp/eb-quality-XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    snprintf(w.db_path, sizeof(w.db_path), "%s/q.db", w.dir);
    struct eb_store_options opt = {.pool_size = 1, .busy_timeout_ms = 1000, .create = 1};
    assert_int_equal(eb_store_open(w.db_path, &opt, &w.st), 0);
    w.db = eb_store_acquire(w.st);
    w.city = org(0, EB_ORG_CITY, "市", NULL);
    w.district = org(w.city, EB_ORG_DISTRICT, "区", NULL);
    w.school = org(w.district, EB_ORG_SCHOOL, "一小", NULL);
    w.school2 = org(w.district, EB_ORG_SCHOOL, "二小", NULL);
    w.grade = org(w.school, EB_ORG_GRADE, "一年级", "11");
    w.grade2 = org(w.school2, EB_ORG_GRADE, "一年级", "11");
    w.class_a = org(w.grade, EB_ORG_CLASS, "一年级(1)班", NULL);
    w.class_b = org(w.grade, EB_ORG_CLASS, "一年级(2)班", NULL);
    w.class_c = org(w.grade2, EB_ORG_CLASS, "一年级(1)班", NULL);
    head_teacher(w.school, w.class_a);
    head_teacher(w.school2, w.class_c);
    char id[19];
    cid("20200315", 11, id);
    w.ok = student(w.school, w.class_a, "甲", "2020-03-15", id);
    cid("20200315", 13, id);
    id[17] = id[17] == '0' ? '1' : '0';
    w.bad_digit = student(w.school, w.class_a, "乙", "2020-03-15", id);
    cid("20200315", 15, id);
    /* The system caller (a bulk load) may register the same ID twice: the check finds it. */
    w.dup1 = student(w.school, w.class_a, "丙", "2020-03-15", id);
    w.dup2 = student(w.school2, w.class_c, "丙", "2020-03-15", id);
    w.old = student(w.school, w.class_a, "丁", "2016-03-15", NULL);
    w.closed_kid = student(w.school, w.class_b, "戊", "2020-03-15", NULL);
    head_teacher(w.school, w.class_b);
    assert_int_equal(eb_store_quality_test_close(w.db, w.class_b, "2026-10-01"), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    eb_store_release(w.st, w.db);
    eb_store_close(w.st);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", w.dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* The findings of a node's subtree as "check:object_id" strings joined by spaces, sorted. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *findings_of(struct eb_arena *a, int64_t org_id)
{
    size_t n = 0;
    struct eb_quality_finding *items = NULL;
    int64_t next = 0;
    assert_int_equal(
        eb_store_quality_findings(w.db, &sys, org_id, -1, 0, 500, a, &n, &items, &next), 0);
    assert_int_equal(next, 0);
    const char **keys = eb_arena_alloc(a, sizeof(*keys) * (n + 1));
    for (size_t i = 0; i < n; i++)
        keys[i] = eb_arena_printf(a, "%s:%lld", eb_quality_checks()[items[i].check].code,
                                  (long long)items[i].object_id);
    qsort(keys, n, sizeof(*keys), cmp_str);
    char *out = eb_arena_strdup(a, "");
    for (size_t i = 0; i < n; i++)
        out = eb_arena_printf(a, "%s%s%s", out, i ? " " : "", keys[i]);
    return out;
}

static void each_check_fires_where_planted(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    struct eb_quality_run run;
    assert_int_equal(eb_store_quality_run(w.db, &sys, w.school, "cli", NULL, &run), 0);
    char *want = eb_arena_printf(
        a,
        "age_grade_outlier:%lld citizen_id_check_digit:%lld duplicate_across_schools:%lld"
        " enrolled_in_closed_org:%lld",
        (long long)w.old, (long long)w.bad_digit, (long long)w.dup1, (long long)w.closed_kid);
    assert_string_equal(findings_of(a, w.school), want);
    assert_int_equal(run.n_findings, 4);
    assert_int_equal(run.counts[EB_QC_AGE_GRADE], 1);
    assert_int_equal(run.n_schools, 1);
    assert_int_equal(run.n_classes, 1); /* the closed class is not a class to check */
    /* The other school has not been run: nothing there yet. */
    assert_string_equal(findings_of(a, w.school2), "");
    /* The district's run finds the other half of the duplicate, and keeps the school's. */
    assert_int_equal(eb_store_quality_run(w.db, &sys, w.district, "manual", NULL, &run), 0);
    assert_int_equal(run.counts[EB_QC_DUP_ACROSS_SCHOOLS], 2);
    struct eb_quality_rollup total, *children = NULL;
    size_t n = 0;
    assert_int_equal(eb_store_quality_rollup(w.db, &sys, w.district, a, &total, &n, &children), 0);
    assert_int_equal(total.total, 5);
    assert_int_equal(n, 2);
    assert_int_equal(children[0].org_id, w.school);
    assert_int_equal(children[0].total, 4);
    assert_int_equal(children[1].total, 1);
    assert_int_equal(children[1].counts[EB_QC_DUP_ACROSS_SCHOOLS], 1);
    /* The last run covering a school is the district's. */
    struct eb_quality_run last;
    assert_int_equal(eb_store_quality_last_run(w.db, &sys, w.school, a, &last), 0);
    assert_int_equal(last.id, run.id);
    assert_string_equal(last.origin, "manual");
    assert_int_equal(last.counts[EB_QC_DUP_ACROSS_SCHOOLS], 2);
    eb_arena_destroy(a);
}

static void pages_and_filter(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    size_t n = 0;
    struct eb_quality_finding *items = NULL;
    int64_t next = 0, seen = 0, after = 0;
    do {
        assert_int_equal(
            eb_store_quality_findings(w.db, &sys, w.district, -1, after, 2, a, &n, &items, &next),
            0);
        assert_true(n <= 2);
        for (size_t i = 0; i < n; i++)
            assert_true(items[i].id > after);
        seen += (int64_t)n;
        after = next;
    } while (next != 0);
    assert_int_equal(seen, 5);
    assert_int_equal(eb_store_quality_findings(w.db, &sys, w.district, EB_QC_ID_CHECK_DIGIT, 0, 10,
                                               a, &n, &items, &next),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].object_id, w.bad_digit);
    assert_int_equal(items[0].org_id, w.class_a);
    assert_int_equal(items[0].school_id, w.school);
    /* Only the masked ID, never the plain one. */
    assert_non_null(strstr(items[0].detail, "370203********"));
    assert_int_equal(eb_quality_check_parse("class_oversized"), EB_QC_CLASS_OVERSIZED);
    assert_int_equal(eb_quality_check_parse("nope"), -1);
    eb_arena_destroy(a);
}

static void scope_reads_and_runs(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    struct eb_org s2;
    assert_int_equal(eb_store_org_get(w.db, &sys, w.school2, a, &s2), 0);
    struct eb_grant analyst = {.id = 1, .role = EB_ROLE_ANALYST, .org_id = w.school2};
    struct eb_grant teacher = {.id = 2, .role = EB_ROLE_TEACHER, .org_id = w.school2};
    struct eb_grant admin2 = {.id = 3, .role = EB_ROLE_SCHOOL_ADMIN, .org_id = w.school2};
    snprintf(analyst.org_path, EB_PATH_MAX, "%s", s2.path);
    snprintf(teacher.org_path, EB_PATH_MAX, "%s", s2.path);
    snprintf(admin2.org_path, EB_PATH_MAX, "%s", s2.path);
    struct eb_caller ca = {.account_id = 9, .n_grants = 1, .grants = &analyst};
    struct eb_caller ct = {.account_id = 9, .n_grants = 1, .grants = &teacher};
    struct eb_caller cs = {.account_id = 9, .n_grants = 1, .grants = &admin2};
    struct eb_quality_rollup total, *children = NULL;
    struct eb_quality_run run;
    size_t n = 0;
    assert_int_equal(eb_store_quality_rollup(w.db, &ca, w.school2, a, &total, &n, &children), 0);
    assert_int_equal(eb_store_quality_rollup(w.db, &ct, w.school2, a, &total, &n, &children),
                     EB_ENOTFOUND);
    assert_int_equal(eb_store_quality_rollup(w.db, &cs, w.school, a, &total, &n, &children),
                     EB_ENOTFOUND);
    assert_int_equal(eb_store_quality_run(w.db, &ca, w.school2, "manual", NULL, &run), EB_EDENIED);
    assert_int_equal(eb_store_quality_run(w.db, &ct, w.school2, "manual", NULL, &run),
                     EB_ENOTFOUND);
    assert_int_equal(eb_store_quality_run(w.db, &cs, w.school, "manual", NULL, &run), EB_ENOTFOUND);
    assert_int_equal(eb_store_quality_run(w.db, &cs, w.school2, "manual", NULL, &run), 0);
    assert_int_equal(run.account_id, 9);
    assert_int_equal(eb_store_quality_run(w.db, &cs, w.school2, "bogus", NULL, &run), EB_EINVAL);
    eb_arena_destroy(a);
}

static void nightly_claims_its_day_once(void **state)
{
    (void)state;
    int n_runs = 0;
    int64_t n_findings = 0;
    assert_int_equal(eb_store_quality_nightly(w.db, "2026-12-01", &n_runs, &n_findings), 0);
    assert_int_equal(n_runs, 1);
    assert_int_equal(n_findings, 5);
    /* A second server (or a second tick) on the same day does nothing. */
    assert_int_equal(eb_store_quality_nightly(w.db, "2026-12-01", &n_runs, &n_findings), 0);
    assert_int_equal(n_runs, 0);
    assert_int_equal(eb_store_quality_nightly(w.db, "2026-12-02", &n_runs, &n_findings), 0);
    assert_int_equal(n_runs, 1);
}

EB_TEST_GROUP(quality)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_check_fires_where_planted),
        cmocka_unit_test(pages_and_filter),
        cmocka_unit_test(scope_reads_and_runs),
        cmocka_unit_test(nightly_claims_its_day_once),
    };
    return cmocka_run_group_tests_name("quality", tests, setup, teardown);
}
