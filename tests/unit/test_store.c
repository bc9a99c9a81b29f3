/* Unit tests of the store module (SQLite): migrations, the org tree, scope for every role,
 * PII sealing and masking, dated links, accounts, sessions, throttling, backup, paging. */
#include "unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/arena.h"
#include "core/err.h"
#include "registry/registry_ids.h"
#include "store/store.h"

#include <time.h>

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* The world every test reads: one city, two districts, three schools, classes and people. */
static struct world {
    char dir[64], db_path[128];
    struct eb_store *st;
    struct eb_db *db;
    int64_t city, d1, d2, school_a, school_a2, school_b, grade_a, class_a1, class_a2, grade_b,
        class_b1;
    int64_t stu_a, stu_a_mate, stu_b, parent_a, teacher_a, post_a;
    int64_t acct_school_a, acct_district_1, acct_analyst, acct_student, acct_parent, acct_teacher;
} w;

static const struct eb_caller sys = {.system = 1};

static const char CID_A[] = "110105201405011234"; /* stored by a system caller, not checked */

/* A caller built from an account's grants, as src/auth does it. */
struct who {
    struct eb_arena *a;
    struct eb_caller c;
};

static void who_load(struct who *h, int64_t account_id, int64_t person_id)
{
    size_t n = 0;
    struct eb_grant *g = NULL;
    h->a = eb_arena_create(0);
    assert_int_equal(eb_store_grants_of(w.db, account_id, h->a, &n, &g), 0);
    assert_true(n > 0);
    memset(&h->c, 0, sizeof(h->c));
    h->c.account_id = account_id;
    h->c.person_id = person_id;
    h->c.n_grants = n;
    h->c.grants = g;
    h->c.client_addr = "127.0.0.1";
}

static void who_free(struct who *h)
{
    eb_arena_destroy(h->a);
}

static int64_t mk_org(int64_t parent, enum eb_org_kind kind, const char *name)
{
    struct eb_org o = {.parent_id = parent, .kind = kind, .name = (char *)(uintptr_t)name};
    int64_t id = 0;
    assert_int_equal(eb_store_org_create(w.db, &sys, &o, &id), 0);
    assert_true(id > 0);
    return id;
}

static int64_t mk_person(int64_t org, const char *name, const char *cid, const char *stuno)
{
    struct eb_person p = {.name = (char *)(uintptr_t)name,
                          .sex = EB_SEX_FEMALE,
                          .birth_date = "2014-05-01",
                          .citizen_id = (char *)(uintptr_t)cid,
                          .student_no = (char *)(uintptr_t)stuno,
                          .org_id = org};
    int64_t id = 0;
    assert_int_equal(eb_store_person_create(w.db, &sys, &p, &id), 0);
    return id;
}

static int64_t mk_enrol(int64_t person, int64_t cls, const char *start)
{
    struct eb_enrolment e = {
        .person_id = person, .class_id = cls, .start_date = (char *)(uintptr_t)start};
    int64_t id = 0;
    assert_int_equal(eb_store_enrolment_create(w.db, &sys, &e, &id), 0);
    return id;
}

static int64_t mk_account(const char *login, int64_t person, enum eb_role role, int64_t org)
{
    struct eb_account a = {.login = (char *)(uintptr_t)login,
                           .display_name = (char *)(uintptr_t)login,
                           .password_hash = "$argon2id$fake",
                           .person_id = person};
    int64_t id = 0, gid = 0;
    assert_int_equal(eb_store_account_create(w.db, &sys, &a, &id), 0);
    assert_int_equal(eb_store_grant_add(w.db, &sys, id, role, org, &gid), 0);
    return id;
}

static int64_t count_rows(const char *sql)
{
    sqlite3 *h = NULL;
    int64_t n = -1;
    assert_int_equal(sqlite3_open_v2(w.db_path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(h);
    return n;
}

static int setup(void **state)
{
    (void)state;
    memset(&w, 0, sizeof(w));
    snprintf(w.dir, sizeof(w.dir), "/tmp/eb_store_XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    snprintf(w.db_path, sizeof(w.db_path), "%s/t.db", w.dir);
    struct eb_store_options opt = {.pool_size = 2, .create = 1};
    assert_int_equal(eb_store_open(w.db_path, &opt, &w.st), 0);
    w.db = eb_store_acquire(w.st);

    w.city = mk_org(0, EB_ORG_CITY, "示范市教育局");
    w.d1 = mk_org(w.city, EB_ORG_DISTRICT, "东区");
    w.d2 = mk_org(w.city, EB_ORG_DISTRICT, "西区");
    w.school_a = mk_org(w.d1, EB_ORG_SCHOOL, "东区第一小学");
    w.school_a2 = mk_org(w.d1, EB_ORG_SCHOOL, "东区第二小学");
    w.school_b = mk_org(w.d2, EB_ORG_SCHOOL, "西区第一小学");
    w.grade_a = mk_org(w.school_a, EB_ORG_GRADE, "一年级");
    w.class_a1 = mk_org(w.grade_a, EB_ORG_CLASS, "一年级(1)班");
    w.class_a2 = mk_org(w.grade_a, EB_ORG_CLASS, "一年级(2)班");
    w.grade_b = mk_org(w.school_b, EB_ORG_GRADE, "一年级");
    w.class_b1 = mk_org(w.grade_b, EB_ORG_CLASS, "一年级(1)班");

    w.stu_a = mk_person(w.school_a, "王小明", CID_A, "G110105201405011234");
    w.stu_a_mate = mk_person(w.school_a, "李小红", "110105201406021235", NULL);
    w.stu_b = mk_person(w.school_b, "张小军", "110105201407031236", NULL);
    w.parent_a = mk_person(w.school_a, "王大明", "110105198001011237", NULL);
    w.teacher_a = mk_person(w.school_a, "赵老师", NULL, NULL);
    mk_enrol(w.stu_a, w.class_a1, "2025-09-01");
    mk_enrol(w.stu_a_mate, w.class_a1, "2025-09-01");
    mk_enrol(w.stu_b, w.class_b1, "2025-09-01");
    struct eb_guardian g = {.parent_id = w.parent_a,
                            .student_id = w.stu_a,
                            .relation = "父亲",
                            .start_date = "2025-09-01"};
    int64_t gid = 0;
    assert_int_equal(eb_store_guardian_create(w.db, &sys, &g, &gid), 0);
    struct eb_post p = {.person_id = w.teacher_a,
                        .school_id = w.school_a,
                        .title = "专任教师",
                        .subjects = "语文",
                        .start_date = "2020-09-01"};
    assert_int_equal(eb_store_post_create(w.db, &sys, &p, &w.post_a), 0);
    struct eb_teaching t = {.post_id = w.post_a,
                            .class_id = w.class_a1,
                            .subject = "语文",
                            .is_head_teacher = 1,
                            .start_date = "2025-09-01"};
    int64_t tid = 0;
    assert_int_equal(eb_store_teaching_create(w.db, &sys, &t, &tid), 0);

    w.acct_school_a = mk_account("admin_a", 0, EB_ROLE_SCHOOL_ADMIN, w.school_a);
    w.acct_district_1 = mk_account("admin_d1", 0, EB_ROLE_DISTRICT_ADMIN, w.d1);
    w.acct_analyst = mk_account("analyst", 0, EB_ROLE_ANALYST, w.city);
    w.acct_student = mk_account("stu_a", w.stu_a, EB_ROLE_STUDENT, w.class_a1);
    w.acct_parent = mk_account("parent_a", w.parent_a, EB_ROLE_PARENT, w.school_a);
    w.acct_teacher = mk_account("teacher_a", w.teacher_a, EB_ROLE_TEACHER, w.school_a);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    eb_store_release(w.st, w.db);
    eb_store_close(w.st);
    DIR *d = opendir(w.dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char p[512];
            snprintf(p, sizeof(p), "%s/%s", w.dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(w.dir);
    return 0;
}

static void migrations_applied_once_and_key_private(void **state)
{
    (void)state;
    /* Every migration once, in order: as many rows as the version reached. */
    int version = eb_store_schema_version(w.db);
    assert_true(version >= 1);
    assert_string_equal(eb_store_backend_name(w.st), "sqlite");
    assert_int_equal(count_rows("SELECT COUNT(*) FROM schema_migrations"), version);
    char key[160];
    snprintf(key, sizeof(key), "%s.key", w.db_path);
    struct stat sb;
    assert_int_equal(stat(key, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 32);
    /* A second store on the same file finds nothing to migrate and reads the same key. */
    struct eb_store *st2 = NULL;
    assert_int_equal(eb_store_open(w.db_path, NULL, &st2), 0);
    struct eb_db *db2 = eb_store_acquire(st2);
    assert_int_equal(eb_store_schema_version(db2), version);
    struct eb_arena *a = eb_arena_create(0);
    struct eb_person p;
    assert_int_equal(eb_store_person_get(db2, &sys, w.stu_a, 1, a, &p), 0);
    assert_string_equal(p.citizen_id, CID_A);
    eb_arena_destroy(a);
    eb_store_release(st2, db2);
    eb_store_close(st2);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM schema_migrations"), version);
}

static void org_tree_paths_and_children(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    struct eb_org o;
    char want[EB_PATH_MAX];
    assert_int_equal(eb_store_org_get(w.db, &sys, w.class_a1, a, &o), 0);
    snprintf(want, sizeof(want), "/%lld/%lld/%lld/%lld/%lld/", (long long)w.city, (long long)w.d1,
             (long long)w.school_a, (long long)w.grade_a, (long long)w.class_a1);
    assert_string_equal(o.path, want);
    assert_int_equal(o.kind, EB_ORG_CLASS);
    assert_int_equal(o.parent_id, w.grade_a);
    assert_string_equal(o.name, "一年级(1)班");
    assert_int_equal(o.n_students, 2);
    assert_int_equal(eb_store_org_get(w.db, &sys, w.city, a, &o), 0);
    assert_int_equal(o.n_students, 3);

    struct eb_org_list l;
    assert_int_equal(eb_store_org_children(w.db, &sys, w.d1, 0, 100, a, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.items[0].id, w.school_a);
    assert_int_equal(l.items[1].id, w.school_a2);
    assert_int_equal(l.next, 0);
    assert_int_equal(l.items[0].n_students, 2);

    /* A class under a district, a city under a city: the tree's shape is enforced. */
    struct eb_org bad = {.parent_id = w.d1, .kind = EB_ORG_CLASS, .name = "x"};
    int64_t id = 0;
    assert_int_equal(eb_store_org_create(w.db, &sys, &bad, &id), EB_EINVAL);
    bad.kind = EB_ORG_CITY;
    assert_int_equal(eb_store_org_create(w.db, &sys, &bad, &id), EB_EINVAL);
    bad.kind = EB_ORG_SCHOOL;
    bad.parent_id = 999999;
    assert_int_equal(eb_store_org_create(w.db, &sys, &bad, &id), EB_ENOTFOUND);

    int64_t n = 0;
    assert_int_equal(eb_store_org_count(w.db, EB_ORG_SCHOOL, &n), 0);
    assert_int_equal(n, 3);
    eb_arena_destroy(a);
}

static void school_admin_cannot_see_other_school(void **state)
{
    (void)state;
    struct who h;
    who_load(&h, w.acct_school_a, 0);
    struct eb_org o;
    struct eb_person p;
    struct eb_person_list l;
    assert_int_equal(eb_store_org_get(w.db, &h.c, w.school_a, h.a, &o), 0);
    assert_int_equal(eb_store_org_get(w.db, &h.c, w.school_b, h.a, &o), EB_ENOTFOUND);
    assert_int_equal(eb_store_org_get(w.db, &h.c, w.d1, h.a, &o), EB_ENOTFOUND);
    assert_int_equal(
        eb_store_org_people(w.db, &h.c, w.class_b1, EB_PEOPLE_STUDENTS, 0, 100, h.a, &l),
        EB_ENOTFOUND);
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.stu_b, 0, h.a, &p), EB_ENOTFOUND);
    assert_int_equal(eb_store_person_get(w.db, &h.c, 987654, 0, h.a, &p), EB_ENOTFOUND);
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.stu_a, 0, h.a, &p), 0);
    assert_string_equal(p.name, "王小明");

    /* Writes into school B are refused as if B did not exist. */
    struct eb_org cls = {.parent_id = w.grade_b, .kind = EB_ORG_CLASS, .name = "二班"};
    int64_t id = 0;
    assert_int_equal(eb_store_org_create(w.db, &h.c, &cls, &id), EB_ENOTFOUND);
    struct eb_enrolment e = {
        .person_id = w.stu_b, .class_id = w.class_a2, .start_date = "2026-01-01"};
    assert_int_equal(eb_store_enrolment_create(w.db, &h.c, &e, &id), EB_ENOTFOUND);
    int64_t gid = 0;
    assert_int_equal(
        eb_store_grant_add(w.db, &h.c, w.acct_teacher, EB_ROLE_TEACHER, w.school_b, &gid),
        EB_ENOTFOUND);
    /* The roster of its own class: students of the class only, in id order. */
    assert_int_equal(
        eb_store_org_people(w.db, &h.c, w.class_a1, EB_PEOPLE_STUDENTS, 0, 100, h.a, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.items[0].id, w.stu_a);
    assert_int_equal(l.items[1].id, w.stu_a_mate);
    assert_true(l.items[0].citizen_id_masked);
    assert_int_equal(
        eb_store_org_people(w.db, &h.c, w.class_a1, EB_PEOPLE_TEACHERS, 0, 100, h.a, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, w.teacher_a);
    assert_int_equal(
        eb_store_org_people(w.db, &h.c, w.school_a, EB_PEOPLE_PARENTS, 0, 100, h.a, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, w.parent_a);
    assert_string_equal(l.items[0].kind, "parent");
    assert_int_equal(eb_store_org_people(w.db, &h.c, w.school_a, EB_PEOPLE_ALL, 0, 100, h.a, &l),
                     0);
    assert_int_equal(l.n, 3);
    who_free(&h);
}

static void district_admin_sees_its_schools(void **state)
{
    (void)state;
    struct who h;
    who_load(&h, w.acct_district_1, 0);
    struct eb_org_list l;
    struct eb_org o;
    struct eb_person p;
    assert_int_equal(eb_store_org_children(w.db, &h.c, w.d1, 0, 100, h.a, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(eb_store_org_children(w.db, &h.c, w.city, 0, 100, h.a, &l), EB_ENOTFOUND);
    assert_int_equal(eb_store_org_get(w.db, &h.c, w.school_b, h.a, &o), EB_ENOTFOUND);
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.stu_a, 0, h.a, &p), 0);
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.stu_b, 0, h.a, &p), EB_ENOTFOUND);
    /* It may create schools in its district only. */
    struct eb_org s = {.parent_id = w.d1, .kind = EB_ORG_SCHOOL, .name = "东区第三小学"};
    int64_t id = 0;
    assert_int_equal(eb_store_org_create(w.db, &h.c, &s, &id), 0);
    s.parent_id = w.d2;
    assert_int_equal(eb_store_org_create(w.db, &h.c, &s, &id), EB_ENOTFOUND);
    /* Codes are checked for callers that are not the system. */
    s.parent_id = w.d1;
    s.school_code = "12345";
    assert_int_equal(eb_store_org_create(w.db, &h.c, &s, &id), EB_EINVAL);
    who_free(&h);
}

static void analyst_reads_but_cannot_write(void **state)
{
    (void)state;
    struct who h;
    who_load(&h, w.acct_analyst, 0);
    struct eb_org o;
    struct eb_person p;
    struct eb_person_list l;
    assert_int_equal(eb_store_org_get(w.db, &h.c, w.school_b, h.a, &o), 0);
    assert_int_equal(eb_store_org_people(w.db, &h.c, w.city, EB_PEOPLE_STUDENTS, 0, 100, h.a, &l),
                     0);
    assert_int_equal(l.n, 3);
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.stu_b, 1, h.a, &p), 0);
    assert_true(p.citizen_id_masked); /* no PII for analysts even when asked */
    struct eb_org s = {.parent_id = w.d1, .kind = EB_ORG_SCHOOL, .name = "x"};
    int64_t id = 0;
    assert_int_equal(eb_store_org_create(w.db, &h.c, &s, &id), EB_ENOTFOUND);
    struct eb_org upd = {.name = "改名"};
    assert_int_equal(eb_store_org_update(w.db, &h.c, w.school_a, &upd), EB_ENOTFOUND);
    struct eb_person np = {.name = "新人", .org_id = w.school_a};
    assert_int_equal(eb_store_person_create(w.db, &h.c, &np, &id), EB_ENOTFOUND);
    assert_int_equal(eb_store_enrolment_end(w.db, &h.c, 1, "2026-01-01"), EB_ENOTFOUND);
    size_t n = 0;
    struct eb_audit *items = NULL;
    int64_t next = 0;
    assert_int_equal(eb_store_audit_list(w.db, &h.c, w.city, 0, 10, h.a, &n, &items, &next),
                     EB_ENOTFOUND);
    who_free(&h);
}

static void student_sees_self_only(void **state)
{
    (void)state;
    struct who h;
    who_load(&h, w.acct_student, w.stu_a);
    struct eb_org o;
    struct eb_person p;
    struct eb_person_list l;
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.stu_a, 0, h.a, &p), 0);
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.stu_a_mate, 0, h.a, &p), EB_ENOTFOUND);
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.teacher_a, 0, h.a, &p), EB_ENOTFOUND);
    assert_int_equal(
        eb_store_org_people(w.db, &h.c, w.class_a1, EB_PEOPLE_STUDENTS, 0, 100, h.a, &l),
        EB_ENOTFOUND);
    assert_int_equal(eb_store_org_get(w.db, &h.c, w.class_a1, h.a, &o), 0);
    assert_int_equal(eb_store_org_get(w.db, &h.c, w.school_a, h.a, &o), EB_ENOTFOUND);
    size_t n = 0;
    struct eb_enrolment *en = NULL;
    assert_int_equal(eb_store_person_enrolments(w.db, &h.c, w.stu_a, h.a, &n, &en), 0);
    assert_int_equal(n, 1);
    assert_int_equal(eb_store_person_enrolments(w.db, &h.c, w.stu_a_mate, h.a, &n, &en),
                     EB_ENOTFOUND);
    who_free(&h);
}

static void parent_sees_own_child_only(void **state)
{
    (void)state;
    struct who h;
    who_load(&h, w.acct_parent, w.parent_a);
    struct eb_person p;
    struct eb_person_list l;
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.stu_a, 1, h.a, &p), 0);
    assert_true(p.citizen_id_masked);
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.parent_a, 0, h.a, &p), 0);
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.stu_a_mate, 0, h.a, &p), EB_ENOTFOUND);
    assert_int_equal(eb_store_person_get(w.db, &h.c, w.stu_b, 0, h.a, &p), EB_ENOTFOUND);
    assert_int_equal(
        eb_store_org_people(w.db, &h.c, w.class_a1, EB_PEOPLE_STUDENTS, 0, 100, h.a, &l),
        EB_ENOTFOUND);
    assert_int_equal(eb_store_org_people(w.db, &h.c, w.school_a, EB_PEOPLE_ALL, 0, 100, h.a, &l),
                     EB_ENOTFOUND);
    who_free(&h);
}

static void pii_masked_unless_granted_and_audited(void **state)
{
    (void)state;
    int64_t before = count_rows("SELECT COUNT(*) FROM audit WHERE action = 'person.read_pii'");
    struct who t, adm;
    who_load(&t, w.acct_teacher, w.teacher_a);
    who_load(&adm, w.acct_school_a, 0);
    struct eb_person p;
    assert_int_equal(eb_store_person_get(w.db, &t.c, w.stu_a, 1, t.a, &p), 0);
    assert_true(p.citizen_id_masked);
    assert_string_equal(p.citizen_id, "110105********1234");
    assert_int_equal(count_rows("SELECT COUNT(*) FROM audit WHERE action = 'person.read_pii'"),
                     before);
    assert_int_equal(eb_store_person_get(w.db, &adm.c, w.stu_a, 0, adm.a, &p), 0);
    assert_true(p.citizen_id_masked);
    assert_int_equal(eb_store_person_get(w.db, &adm.c, w.stu_a, 1, adm.a, &p), 0);
    assert_false(p.citizen_id_masked);
    assert_string_equal(p.citizen_id, CID_A);
    assert_string_equal(p.kind, "student");
    assert_string_equal(p.org_name, "东区第一小学");
    assert_int_equal(count_rows("SELECT COUNT(*) FROM audit WHERE action = 'person.read_pii'"),
                     before + 1);
    char q[160];
    snprintf(q, sizeof(q),
             "SELECT account_id FROM audit WHERE action = 'person.read_pii' AND object_id = %lld"
             " AND account_id IS NOT NULL",
             (long long)w.stu_a);
    assert_int_equal(count_rows(q), w.acct_school_a);
    /* At rest the ID exists only sealed: neither the text nor its digits appear anywhere. */
    assert_int_equal(count_rows("SELECT COUNT(*) FROM people WHERE instr(CAST(citizen_id_enc AS "
                                "TEXT), '110105201405011234') > 0 OR citizen_id_idx = "
                                "'110105201405011234'"),
                     0);
    /* The audit keeps the masked form (the student number, "G" + ID, is not secret). */
    assert_int_equal(count_rows("SELECT COUNT(*) FROM audit WHERE instr(after_json, "
                                "'\"citizen_id\":\"110105201405011234\"') > 0"),
                     0);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM audit WHERE instr(after_json, "
                                "'\"citizen_id\":\"110105********1234\"') > 0"),
                     1);
    assert_int_equal(count_rows("SELECT length(citizen_id_idx) FROM people WHERE citizen_id_idx "
                                "IS NOT NULL LIMIT 1"),
                     64);

    /* A checked, non-system create: a duplicate citizen ID is found through the blind index. */
    char cid[19];
    memcpy(cid, "11010520150101002", 17);
    cid[17] = eb_citizen_id_check_char(cid);
    cid[18] = '\0';
    struct eb_person np = {
        .name = "新生", .org_id = w.school_a, .citizen_id = cid, .birth_date = "2015-01-01"};
    int64_t id = 0, id2 = 0;
    assert_int_equal(eb_store_person_create(w.db, &adm.c, &np, &id), 0);
    assert_int_equal(eb_store_person_create(w.db, &adm.c, &np, &id2), EB_EEXIST);
    np.citizen_id = "110105201501010021"; /* wrong check character */
    assert_int_equal(eb_store_person_create(w.db, &adm.c, &np, &id2), EB_EINVAL);
    struct eb_person upd = {.phone = "13800000000"};
    assert_int_equal(eb_store_person_update(w.db, &adm.c, id, &upd), 0);
    assert_int_equal(eb_store_person_get(w.db, &adm.c, id, 0, adm.a, &p), 0);
    assert_string_equal(p.phone, "13800000000");
    assert_string_equal(p.name, "新生");
    snprintf(q, sizeof(q),
             "SELECT COUNT(*) FROM audit WHERE action = 'person.update' AND object_id = %lld"
             " AND instr(before_json, '110105********') > 0 AND instr(after_json, '138') > 0",
             (long long)id);
    assert_int_equal(count_rows(q), 1);
    who_free(&t);
    who_free(&adm);
}

static void enrolment_history_is_kept(void **state)
{
    (void)state;
    struct who h;
    who_load(&h, w.acct_school_a, 0);
    int64_t s = mk_person(w.school_a, "转班生", NULL, NULL);
    struct eb_enrolment e = {.person_id = s, .class_id = w.class_a1, .start_date = "2025-09-01"};
    int64_t e1 = 0, e2 = 0, dup = 0;
    assert_int_equal(eb_store_enrolment_create(w.db, &h.c, &e, &e1), 0);
    e.class_id = w.class_a2;
    assert_int_equal(eb_store_enrolment_create(w.db, &h.c, &e, &dup), EB_ECONFLICT);
    assert_int_equal(eb_store_enrolment_end(w.db, &h.c, e1, "2025-08-01"), EB_EINVAL);
    assert_int_equal(eb_store_enrolment_end(w.db, &h.c, e1, "2026-02-01"), 0);
    assert_int_equal(eb_store_enrolment_end(w.db, &h.c, e1, "2026-02-02"), EB_ECONFLICT);
    e.start_date = "2026-02-02";
    assert_int_equal(eb_store_enrolment_create(w.db, &h.c, &e, &e2), 0);
    size_t n = 0;
    struct eb_enrolment *en = NULL;
    assert_int_equal(eb_store_person_enrolments(w.db, &h.c, s, h.a, &n, &en), 0);
    assert_int_equal(n, 2);
    assert_int_equal(en[0].id, e1);
    assert_int_equal(en[0].class_id, w.class_a1);
    assert_string_equal(en[0].end_date, "2026-02-01");
    assert_int_equal(en[1].class_id, w.class_a2);
    assert_null(en[1].end_date);
    assert_string_equal(en[1].class_name, "一年级(2)班");
    /* The ended enrolment no longer counts in the roster of the first class. */
    struct eb_person_list l;
    assert_int_equal(
        eb_store_org_people(w.db, &h.c, w.class_a1, EB_PEOPLE_STUDENTS, 0, 100, h.a, &l), 0);
    for (size_t i = 0; i < l.n; i++)
        assert_true(l.items[i].id != s);
    char q[128];
    snprintf(q, sizeof(q),
             "SELECT COUNT(*) FROM audit WHERE action LIKE 'enrolment.%%'"
             " AND object_id IN (%lld, %lld)",
             (long long)e1, (long long)e2);
    assert_int_equal(count_rows(q), 3);
    who_free(&h);
}

static void accounts_grants_and_login(void **state)
{
    (void)state;
    struct who h;
    who_load(&h, w.acct_school_a, 0);
    struct eb_account in = {.login = "admin_a", .display_name = "x", .password_hash = "h"};
    int64_t id = 0, gid = 0;
    assert_int_equal(eb_store_account_create(w.db, &sys, &in, &id), EB_EEXIST);
    in.login = "new teacher"; /* whitespace */
    assert_int_equal(eb_store_account_create(w.db, &h.c, &in, &id), EB_EINVAL);
    in.login = "teacher_new";
    assert_int_equal(eb_store_account_create(w.db, &h.c, &in, &id), 0);
    assert_int_equal(eb_store_grant_add(w.db, &h.c, id, EB_ROLE_STUDENT, w.school_a, &gid),
                     EB_EINVAL);
    assert_int_equal(eb_store_grant_add(w.db, &h.c, id, EB_ROLE_CITY_ADMIN, w.school_a, &gid),
                     EB_EINVAL);
    assert_int_equal(eb_store_grant_add(w.db, &h.c, id, EB_ROLE_TEACHER, w.class_a1, &gid), 0);
    assert_int_equal(eb_store_grant_add(w.db, &h.c, id, EB_ROLE_TEACHER, w.class_a1, &gid),
                     EB_EEXIST);
    struct eb_account acc;
    assert_int_equal(eb_store_account_by_login(w.db, "teacher_new", h.a, &acc), 0);
    assert_int_equal(acc.id, id);
    assert_string_equal(acc.password_hash, "h");
    assert_int_equal(eb_store_account_get(w.db, &h.c, id, h.a, &acc), 0);
    assert_null(acc.password_hash);
    assert_int_equal(eb_store_account_get(w.db, &h.c, w.acct_analyst, h.a, &acc), EB_ENOTFOUND);
    assert_int_equal(eb_store_account_set_password(w.db, &h.c, w.acct_district_1, "x", 0),
                     EB_ENOTFOUND);
    assert_int_equal(eb_store_account_set_password(w.db, &h.c, id, "h2", 1), 0);
    assert_int_equal(eb_store_account_by_login(w.db, "teacher_new", h.a, &acc), 0);
    assert_string_equal(acc.password_hash, "h2");
    assert_true(acc.must_change_password);
    assert_int_equal(eb_store_account_by_login(w.db, "nobody", h.a, &acc), EB_ENOTFOUND);
    /* No audit entry carries a password hash. */
    assert_int_equal(count_rows("SELECT COUNT(*) FROM audit WHERE instr(after_json, 'argon2')"
                                " > 0 OR instr(after_json, 'h2') > 0"),
                     0);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM audit WHERE action = 'grant.add'"
                                " AND account_id IS NOT NULL"),
                     1);
    /* The school admin lists the accounts granted inside school A. */
    size_t n = 0;
    struct eb_account *items = NULL;
    int64_t next = 0;
    assert_int_equal(eb_store_account_list(w.db, &h.c, 0, 100, h.a, &n, &items, &next), 0);
    assert_int_equal(n, 5); /* admin_a, stu_a, parent_a, teacher_a, teacher_new */
    for (size_t i = 1; i < n; i++)
        assert_true(items[i - 1].id < items[i].id);
    who_free(&h);
}

static void sessions_and_throttle(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    struct eb_session s = {.id_hash = "abc123",
                           .account_id = w.acct_teacher,
                           .csrf_token = "tok",
                           .created_at = 100,
                           .expires_at = 200,
                           .last_seen_at = 100,
                           .client_addr = "10.0.0.1"};
    assert_int_equal(eb_store_session_create(w.db, &s), 0);
    assert_int_equal(eb_store_session_create(w.db, &s), EB_EEXIST);
    struct eb_session out;
    assert_int_equal(eb_store_session_get(w.db, "abc123", a, &out, NULL), 0);
    assert_int_equal(out.account_id, w.acct_teacher);
    assert_string_equal(out.csrf_token, "tok");
    assert_string_equal(out.client_addr, "10.0.0.1");
    assert_int_equal(eb_store_session_touch(w.db, "abc123", 150, 300), 0);
    assert_int_equal(eb_store_session_get(w.db, "abc123", a, &out, NULL), 0);
    assert_int_equal(out.last_seen_at, 150);
    assert_int_equal(out.expires_at, 300);
    assert_int_equal(eb_store_session_delete(w.db, "abc123"), 0);
    assert_int_equal(eb_store_session_get(w.db, "abc123", a, &out, NULL), EB_ENOTFOUND);
    s.id_hash = "s2";
    assert_int_equal(eb_store_session_create(w.db, &s), 0);
    assert_int_equal(eb_store_session_delete_account(w.db, w.acct_teacher), 0);
    assert_int_equal(eb_store_session_get(w.db, "s2", a, &out, NULL), EB_ENOTFOUND);

    int64_t count = 0, last = 0;
    assert_int_equal(eb_store_throttle_get(w.db, "acct:zhang", &count, &last), EB_ENOTFOUND);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(eb_store_throttle_fail(w.db, "acct:zhang", 1000 + i, &count, &last), 0);
        assert_int_equal(count, i);
        assert_int_equal(last, 1000 + i);
    }
    assert_int_equal(eb_store_throttle_fail(w.db, "ip:1.2.3.4", 5, &count, &last), 0);
    assert_int_equal(count, 1);
    assert_int_equal(eb_store_throttle_get(w.db, "acct:zhang", &count, &last), 0);
    assert_int_equal(count, 3);
    assert_int_equal(last, 1003);
    assert_int_equal(eb_store_throttle_clear(w.db, "acct:zhang"), 0);
    assert_int_equal(eb_store_throttle_get(w.db, "acct:zhang", &count, &last), EB_ENOTFOUND);
    eb_arena_destroy(a);
}

static void audit_rows_scoped_and_append_only(void **state)
{
    (void)state;
    struct who h, other;
    who_load(&h, w.acct_school_a, 0);
    who_load(&other, w.acct_district_1, 0);
    struct eb_org upd = {.name = "东区第一实验小学", .has_coords = 1, .lat = 36.5, .lon = 120.25};
    assert_int_equal(eb_store_org_update(w.db, &h.c, w.school_a, &upd), 0);
    struct eb_org o;
    assert_int_equal(eb_store_org_get(w.db, &h.c, w.school_a, h.a, &o), 0);
    assert_string_equal(o.name, "东区第一实验小学");
    assert_true(o.has_coords);
    size_t n = 0;
    struct eb_audit *items = NULL;
    int64_t next = 0;
    assert_int_equal(eb_store_audit_list(w.db, &h.c, w.school_a, 0, 500, h.a, &n, &items, &next),
                     0);
    assert_true(n >= 1);
    assert_string_equal(items[0].action, "org.update"); /* newest first */
    assert_string_equal(items[0].login, "admin_a");
    assert_string_equal(items[0].client_addr, "127.0.0.1");
    assert_non_null(strstr(items[0].before_json, "\"name\":\"东区第一小学\""));
    assert_non_null(strstr(items[0].after_json, "\"name\":\"东区第一实验小学\""));
    for (size_t i = 1; i < n; i++)
        assert_true(items[i - 1].id > items[i].id);
    /* The school admin cannot read the district's log; the district admin can. */
    assert_int_equal(eb_store_audit_list(w.db, &h.c, w.d1, 0, 10, h.a, &n, &items, &next),
                     EB_ENOTFOUND);
    assert_int_equal(eb_store_audit_list(w.db, &other.c, w.d1, 0, 1, other.a, &n, &items, &next),
                     0);
    assert_int_equal(n, 1);
    assert_true(next > 0);
    int64_t first = items[0].id;
    assert_int_equal(eb_store_audit_list(w.db, &other.c, w.d1, next, 1, other.a, &n, &items, &next),
                     0);
    assert_true(items[0].id < first);
    /* Bulk system writes leave no audit rows; the database refuses changes to the log. */
    int64_t rows = count_rows("SELECT COUNT(*) FROM audit");
    struct eb_caller bulk = {.system = 1, .no_audit = 1};
    struct eb_person p = {.name = "批量", .org_id = w.school_a};
    int64_t id = 0;
    assert_int_equal(eb_store_person_create(w.db, &bulk, &p, &id), 0);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM audit"), rows);
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(w.db_path, &raw), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(raw, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(raw, "UPDATE audit SET action = 'x'", NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM audit"), rows);
    who_free(&h);
    who_free(&other);
}

static void pagination_cursors(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    int64_t sch = mk_org(w.d2, EB_ORG_SCHOOL, "分页学校");
    int64_t ids[7];
    for (int i = 0; i < 7; i++) {
        char name[32];
        snprintf(name, sizeof(name), "年级%d", i);
        ids[i] = mk_org(sch, EB_ORG_GRADE, name);
    }
    struct eb_org_list l;
    int64_t after = 0;
    size_t seen = 0;
    int pages = 0;
    do {
        assert_int_equal(eb_store_org_children(w.db, &sys, sch, after, 3, a, &l), 0);
        for (size_t i = 0; i < l.n; i++)
            assert_int_equal(l.items[i].id, ids[seen + i]);
        seen += l.n;
        after = l.next;
        pages++;
    } while (after != 0);
    assert_int_equal(seen, 7);
    assert_int_equal(pages, 3);
    /* Exactly a page: no cursor after the last page. */
    assert_int_equal(eb_store_org_children(w.db, &sys, sch, ids[3], 3, a, &l), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.next, 0);
    /* Limits are clamped to 1..500. */
    assert_int_equal(eb_store_org_children(w.db, &sys, sch, 0, 0, a, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.next, ids[0]);

    /* People lists page by person id too. */
    int64_t cls_grade = ids[0];
    int64_t cls = mk_org(cls_grade, EB_ORG_CLASS, "分页班");
    int64_t ppl[5];
    for (int i = 0; i < 5; i++) {
        ppl[i] = mk_person(sch, "学生", NULL, NULL);
        mk_enrol(ppl[i], cls, "2025-09-01");
    }
    struct eb_person_list pl;
    assert_int_equal(eb_store_org_people(w.db, &sys, cls, EB_PEOPLE_STUDENTS, 0, 2, a, &pl), 0);
    assert_int_equal(pl.n, 2);
    assert_int_equal(pl.next, ppl[1]);
    assert_int_equal(eb_store_org_people(w.db, &sys, cls, EB_PEOPLE_STUDENTS, pl.next, 2, a, &pl),
                     0);
    assert_int_equal(pl.items[0].id, ppl[2]);
    assert_int_equal(eb_store_org_people(w.db, &sys, cls, EB_PEOPLE_STUDENTS, pl.next, 2, a, &pl),
                     0);
    assert_int_equal(pl.n, 1);
    assert_int_equal(pl.next, 0);
    eb_arena_destroy(a);
}

static void backup_copies_online(void **state)
{
    (void)state;
    char out[160];
    snprintf(out, sizeof(out), "%s/backup.db", w.dir);
    /* A transaction open on another connection does not block the backup. */
    struct eb_db *writer = eb_store_acquire(w.st);
    assert_int_equal(eb_db_begin(writer), 0);
    struct eb_person p = {.name = "未提交", .org_id = w.school_a};
    int64_t id = 0;
    assert_int_equal(eb_store_person_create(writer, &sys, &p, &id), 0);
    assert_int_equal(eb_store_backup(w.st, out), 0);
    assert_int_equal(eb_db_rollback(writer), 0);
    eb_store_release(w.st, writer);
    assert_int_equal(eb_store_backup(w.st, out), EB_EEXIST);

    const char *tables[] = {"orgs", "people", "enrolments", "accounts", "grants", "audit"};
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(out, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char q[96];
        snprintf(q, sizeof(q), "SELECT COUNT(*) FROM %s", tables[i]);
        sqlite3_stmt *s = NULL;
        assert_int_equal(sqlite3_prepare_v2(h, q, -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        int64_t n = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        assert_true(n > 0);
        assert_int_equal(n, count_rows(q));
    }
    sqlite3_close(h);
}

static void bulk_load_is_fast_enough(void **state)
{
    (void)state;
    /* A smoke check of the bulk path (the real figure comes from the optimised build). */
    struct eb_caller bulk = {.system = 1, .no_audit = 1};
    struct timespec t0, t1;
    int64_t cls = w.class_b1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(eb_db_begin(w.db), 0);
    for (int i = 0; i < 5000; i++) {
        char no[24];
        snprintf(no, sizeof(no), "G%018d", i);
        struct eb_person p = {.name = "学生",
                              .citizen_id = no + 1,
                              .student_no = no,
                              .org_id = w.school_b,
                              .birth_date = "2014-01-01"};
        int64_t id = 0, eid = 0;
        assert_int_equal(eb_store_person_create(w.db, &bulk, &p, &id), 0);
        struct eb_enrolment e = {.person_id = id, .class_id = cls, .start_date = "2025-09-01"};
        assert_int_equal(eb_store_enrolment_create(w.db, &bulk, &e, &eid), 0);
    }
    assert_int_equal(eb_db_commit(w.db), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("store: bulk load %.0f rows/s (sanitized build)\n", 10000 / s);
    struct eb_arena *a = eb_arena_create(0);
    struct eb_org o;
    assert_int_equal(eb_store_org_get(w.db, &sys, cls, a, &o), 0);
    assert_int_equal(o.n_students, 5001);
    eb_arena_destroy(a);
}

/* A session row for account_id, to see whether a change ends it. */
static void mk_session(const char *hash, int64_t account_id)
{
    struct eb_session s = {.id_hash = hash,
                           .account_id = account_id,
                           .csrf_token = "tok",
                           .created_at = 100,
                           .expires_at = 4000000000,
                           .last_seen_at = 100};
    assert_int_equal(eb_store_session_create(w.db, &s), 0);
}

static int session_exists(const char *hash)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb_session out;
    int rc = eb_store_session_get(w.db, hash, a, &out, NULL);
    eb_arena_destroy(a);
    assert_true(rc == 0 || rc == EB_ENOTFOUND);
    return rc == 0;
}

static void account_update_and_reset_by_admins(void **state)
{
    (void)state;
    struct who adm, dist, teacher;
    who_load(&adm, w.acct_school_a, 0);
    who_load(&dist, w.acct_district_1, 0);
    who_load(&teacher, w.acct_teacher, w.teacher_a);
    int64_t t = mk_account("mgmt_t", 0, EB_ROLE_TEACHER, w.school_a);
    struct eb_account acc;

    /* Rename, then disable: the sessions end, the audit holds before and after. */
    assert_int_equal(eb_store_account_update(w.db, &adm.c, t, "管理测试", -1), 0);
    assert_int_equal(eb_store_account_get(w.db, &adm.c, t, adm.a, &acc), 0);
    assert_string_equal(acc.display_name, "管理测试");
    assert_int_equal(acc.disabled, 0);
    mk_session("mgmt-s1", t);
    assert_int_equal(eb_store_account_update(w.db, &adm.c, t, NULL, 1), 0);
    assert_int_equal(eb_store_account_get(w.db, &adm.c, t, adm.a, &acc), 0);
    assert_int_equal(acc.disabled, 1);
    assert_string_equal(acc.display_name, "管理测试");
    assert_false(session_exists("mgmt-s1"));
    char q[256];
    snprintf(q, sizeof(q),
             "SELECT COUNT(*) FROM audit WHERE action = 'account.update' AND object_id = %lld"
             " AND account_id = %lld AND instr(before_json, '\"disabled\":false') > 0"
             " AND instr(after_json, '\"disabled\":true') > 0",
             (long long)t, (long long)w.acct_school_a);
    assert_int_equal(count_rows(q), 1);
    assert_int_equal(eb_store_account_update(w.db, &adm.c, t, NULL, 0), 0);
    assert_int_equal(eb_store_account_get(w.db, &adm.c, t, adm.a, &acc), 0);
    assert_int_equal(acc.disabled, 0);

    /* Bad values, oneself, and accounts the caller does not manage. */
    assert_int_equal(eb_store_account_update(w.db, &adm.c, t, NULL, 2), EB_EINVAL);
    assert_int_equal(eb_store_account_update(w.db, &adm.c, t, "", -1), EB_EINVAL);
    assert_int_equal(eb_store_account_update(w.db, &adm.c, w.acct_school_a, NULL, 1), EB_EDENIED);
    assert_int_equal(eb_store_account_update(w.db, &adm.c, w.acct_school_a, "管理员甲", -1), 0);
    assert_int_equal(eb_store_account_update(w.db, &adm.c, w.acct_district_1, NULL, 1),
                     EB_ENOTFOUND);
    assert_int_equal(eb_store_account_update(w.db, &adm.c, 999999, NULL, 1), EB_ENOTFOUND);
    assert_int_equal(eb_store_account_update(w.db, &teacher.c, t, "x", -1), EB_ENOTFOUND);
    assert_int_equal(eb_store_account_update(w.db, &dist.c, t, "区里改名", -1), 0);
    assert_int_equal(eb_store_account_get(w.db, &sys, w.acct_district_1, adm.a, &acc), 0);
    assert_int_equal(acc.disabled, 0);

    /* A reset sets the hash and must_change, and ends the sessions. */
    mk_session("mgmt-s2", t);
    assert_int_equal(eb_store_account_reset_password(w.db, &adm.c, t, "$argon2id$reset", 1), 0);
    assert_false(session_exists("mgmt-s2"));
    assert_int_equal(eb_store_account_by_login(w.db, "mgmt_t", adm.a, &acc), 0);
    assert_string_equal(acc.password_hash, "$argon2id$reset");
    assert_int_equal(acc.must_change_password, 1);
    assert_int_equal(eb_store_account_reset_password(w.db, &adm.c, t, "", 1), EB_EINVAL);
    assert_int_equal(eb_store_account_reset_password(w.db, &adm.c, w.acct_school_a, "h", 0),
                     EB_EDENIED);
    assert_int_equal(eb_store_account_reset_password(w.db, &teacher.c, t, "h", 0), EB_ENOTFOUND);
    assert_int_equal(eb_store_account_reset_password(w.db, &adm.c, w.acct_analyst, "h", 0),
                     EB_ENOTFOUND);
    assert_int_equal(eb_store_account_by_login(w.db, "mgmt_t", adm.a, &acc), 0);
    assert_string_equal(acc.password_hash, "$argon2id$reset");
    snprintf(q, sizeof(q),
             "SELECT COUNT(*) FROM audit WHERE action = 'account.password_reset'"
             " AND object_id = %lld",
             (long long)t);
    assert_int_equal(count_rows(q), 1);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM audit WHERE instr(before_json, 'argon2') > 0"
                                " OR instr(after_json, 'argon2') > 0"),
                     0);

    /* Search: a part of the login, case-insensitive, LIKE characters taken literally. */
    size_t n = 0;
    struct eb_account *items = NULL;
    int64_t next = 0;
    assert_int_equal(eb_store_account_search(w.db, &sys, "MGMT", 0, 100, adm.a, &n, &items, &next),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].id, t);
    assert_int_equal(eb_store_account_search(w.db, &sys, "%", 0, 100, adm.a, &n, &items, &next), 0);
    assert_int_equal(n, 0);
    assert_int_equal(eb_store_account_search(w.db, &sys, "mgmt_", 0, 100, adm.a, &n, &items, &next),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(eb_store_account_search(w.db, &adm.c, "_a", 0, 100, adm.a, &n, &items, &next),
                     0);
    assert_int_equal(n, 4); /* admin_a, stu_a, parent_a, teacher_a; not admin_d1 */
    who_free(&adm);
    who_free(&dist);
    who_free(&teacher);
}

static void account_roles_grant_and_revoke(void **state)
{
    (void)state;
    struct who adm, dist;
    who_load(&adm, w.acct_school_a, 0);
    who_load(&dist, w.acct_district_1, 0);
    int64_t mixed = mk_account("mixed_ab", 0, EB_ROLE_TEACHER, w.school_a);
    int64_t gid = 0;
    assert_int_equal(eb_store_grant_add(w.db, &sys, mixed, EB_ROLE_TEACHER, w.school_b, &gid), 0);
    size_t n = 0;
    struct eb_grant *g = NULL;
    int managed = -1;

    /* Roles in scope only, and not managed while one lies outside. */
    assert_int_equal(eb_store_account_roles(w.db, &adm.c, mixed, adm.a, &n, &g, &managed), 0);
    assert_int_equal(n, 1);
    assert_int_equal(g[0].org_id, w.school_a);
    assert_int_equal(managed, 0);
    assert_int_equal(eb_store_account_roles(w.db, &sys, mixed, adm.a, &n, &g, &managed), 0);
    assert_int_equal(n, 2);
    assert_int_equal(managed, 1);
    assert_int_equal(eb_store_account_roles(w.db, &adm.c, w.acct_analyst, adm.a, &n, &g, &managed),
                     EB_ENOTFOUND);
    assert_int_equal(eb_store_account_roles(w.db, &adm.c, w.acct_school_a, adm.a, &n, &g, &managed),
                     0);
    assert_int_equal(managed, 0); /* oneself */
    assert_int_equal(
        eb_store_account_grant_add(w.db, &adm.c, mixed, EB_ROLE_HEAD_TEACHER, w.class_a1, &gid),
        EB_ENOTFOUND);
    assert_int_equal(eb_store_account_update(w.db, &dist.c, mixed, "x", -1), EB_ENOTFOUND);

    /* Grant on a managed account: in scope and fitting only. */
    int64_t t = mk_account("roles_t", 0, EB_ROLE_TEACHER, w.school_a);
    int64_t ht = 0;
    assert_int_equal(
        eb_store_account_grant_add(w.db, &adm.c, t, EB_ROLE_HEAD_TEACHER, w.class_b1, &gid),
        EB_ENOTFOUND);
    assert_int_equal(
        eb_store_account_grant_add(w.db, &adm.c, t, EB_ROLE_SCHOOL_ADMIN, w.class_a1, &gid),
        EB_EINVAL);
    assert_int_equal(
        eb_store_account_grant_add(w.db, &adm.c, t, EB_ROLE_HEAD_TEACHER, w.class_a1, &ht), 0);
    assert_true(ht > 0);
    assert_int_equal(eb_store_grants_of(w.db, t, adm.a, &n, &g), 0);
    assert_int_equal(n, 2);

    /* Revoke: the row goes, the audit keeps it; never the last one, never one's own. */
    assert_int_equal(eb_store_account_grant_remove(w.db, &adm.c, t, gid), EB_ENOTFOUND);
    assert_int_equal(eb_store_account_grant_remove(w.db, &adm.c, t, ht), 0);
    assert_int_equal(eb_store_account_grant_remove(w.db, &adm.c, t, ht), EB_ENOTFOUND);
    assert_int_equal(eb_store_grants_of(w.db, t, adm.a, &n, &g), 0);
    assert_int_equal(n, 1);
    assert_int_equal(g[0].role, EB_ROLE_TEACHER);
    char q[256];
    snprintf(q, sizeof(q),
             "SELECT COUNT(*) FROM audit WHERE action = 'grant.remove' AND object_id = %lld"
             " AND instr(before_json, '\"role\":\"head_teacher\"') > 0 AND after_json IS NULL",
             (long long)ht);
    assert_int_equal(count_rows(q), 1);
    assert_int_equal(eb_store_account_grant_remove(w.db, &adm.c, t, g[0].id), EB_ECONFLICT);
    struct eb_grant *own = NULL;
    assert_int_equal(eb_store_grants_of(w.db, w.acct_school_a, adm.a, &n, &own), 0);
    assert_int_equal(eb_store_account_grant_remove(w.db, &adm.c, w.acct_school_a, own[0].id),
                     EB_EDENIED);
    assert_int_equal(eb_store_account_grant_remove(w.db, &adm.c, w.acct_district_1, own[0].id),
                     EB_ENOTFOUND);
    who_free(&adm);
    who_free(&dist);
}

static void org_stats_count_the_subtree(void **state)
{
    (void)state;
    /* A school of its own: two grades, three classes (one closed), 3 + 56 current students,
     * an ended enrolment, two teachers (one posted twice) and an ended post. */
    int64_t school = mk_org(w.d2, EB_ORG_SCHOOL, "西区统计小学");
    int64_t g1 = mk_org(school, EB_ORG_GRADE, "一年级");
    int64_t g2 = mk_org(school, EB_ORG_GRADE, "二年级");
    int64_t small = mk_org(g1, EB_ORG_CLASS, "一年级(1)班");
    int64_t big = mk_org(g1, EB_ORG_CLASS, "一年级(2)班");
    struct eb_org closed = {
        .parent_id = g2, .kind = EB_ORG_CLASS, .name = "二年级(9)班", .closed_on = "2024-07-01"};
    int64_t closed_id = 0;
    assert_int_equal(eb_store_org_create(w.db, &sys, &closed, &closed_id), 0);
    for (int i = 0; i < 3 + 56 + 1; i++) {
        int64_t p = mk_person(school, "统计学生", NULL, NULL);
        int64_t e = mk_enrol(p, i < 3 ? small : i < 59 ? big : closed_id, "2025-09-01");
        if (i == 59)
            assert_int_equal(eb_store_enrolment_end(w.db, &sys, e, "2025-12-31"), 0);
    }
    int64_t t1 = mk_person(school, "统计老师甲", NULL, NULL);
    int64_t t2 = mk_person(school, "统计老师乙", NULL, NULL);
    int64_t t3 = mk_person(school, "统计老师丙", NULL, NULL);
    int64_t posts[4] = {t1, t1, t2, t3}, pid = 0;
    for (int i = 0; i < 4; i++) {
        struct eb_post p = {.person_id = posts[i],
                            .school_id = school,
                            .title = i == 1 ? "教研组长" : "专任教师",
                            .start_date = "2020-09-01"};
        assert_int_equal(eb_store_post_create(w.db, &sys, &p, &pid), 0);
    }
    assert_int_equal(eb_store_post_end(w.db, &sys, pid, "2025-07-01"), 0);

    struct eb_org_stats st;
    assert_int_equal(eb_store_org_stats(w.db, &sys, school, &st), 0);
    assert_int_equal(st.districts, 0);
    assert_int_equal(st.schools, 0);
    assert_int_equal(st.grades, 2);
    assert_int_equal(st.classes, 2);
    assert_int_equal(st.students, 59);
    assert_int_equal(st.oversized_classes, 1);
    assert_int_equal(st.teachers, 2);
    assert_int_equal(eb_store_org_stats(w.db, &sys, big, &st), 0);
    assert_int_equal(st.classes, 0);
    assert_int_equal(st.students, 56);
    assert_int_equal(st.oversized_classes, 1);

    /* The district adds class B1 (grown past 55 by the bulk load) and its school. */
    struct eb_org_stats d2;
    assert_int_equal(eb_store_org_stats(w.db, &sys, w.d2, &d2), 0);
    assert_true(d2.schools >= 2); /* school B, this one, and any an earlier test made */
    assert_int_equal(d2.oversized_classes, 2);
    assert_true(d2.students >= 59 + 5001);
    struct eb_org_stats city;
    assert_int_equal(eb_store_org_stats(w.db, &sys, w.city, &city), 0);
    assert_int_equal(city.districts, 2);
    assert_true(city.schools >= 4);
    assert_true(city.students > d2.students);

    /* Scope: people-reading roles in their subtree; students and parents never. */
    struct who adm, stu, par, ana, tea;
    who_load(&adm, w.acct_school_a, 0);
    who_load(&stu, w.acct_student, w.stu_a);
    who_load(&par, w.acct_parent, w.parent_a);
    who_load(&ana, w.acct_analyst, 0);
    who_load(&tea, w.acct_teacher, w.teacher_a);
    assert_int_equal(eb_store_org_stats(w.db, &adm.c, school, &st), EB_ENOTFOUND);
    assert_int_equal(st.students, 0);
    struct eb_org_stats all;
    assert_int_equal(eb_store_org_stats(w.db, &sys, w.school_a, &all), 0);
    assert_int_equal(eb_store_org_stats(w.db, &adm.c, w.school_a, &st), 0);
    assert_memory_equal(&st, &all, sizeof(st)); /* the scope decides access, not the counts */
    assert_true(st.students >= 2);
    assert_int_equal(st.teachers, 1);
    assert_int_equal(eb_store_org_stats(w.db, &tea.c, w.class_a1, &st), 0);
    assert_int_equal(eb_store_org_stats(w.db, &ana.c, school, &st), 0);
    assert_int_equal(st.students, 59);
    assert_int_equal(eb_store_org_stats(w.db, &stu.c, w.class_a1, &st), EB_ENOTFOUND);
    assert_int_equal(eb_store_org_stats(w.db, &par.c, w.school_a, &st), EB_ENOTFOUND);
    assert_int_equal(eb_store_org_stats(w.db, &sys, 999999, &st), EB_ENOTFOUND);
    who_free(&adm);
    who_free(&stu);
    who_free(&par);
    who_free(&ana);
    who_free(&tea);
}

/* ---- accounts for everyone (store_activation.c) ------------------------------------------ */

static void otc_codes_verify_and_expire(void **state)
{
    (void)state;
    char text[EB_OTC_TEXT], stored[EB_OTC_STORED], text2[EB_OTC_TEXT], stored2[EB_OTC_STORED];
    eb_otc_new(1000, text, stored);
    eb_otc_new(1000, text2, stored2);
    assert_int_equal(strlen(text), 14);
    assert_int_equal(text[4], '-');
    assert_int_equal(text[9], '-');
    for (size_t i = 0; i < 14; i++)
        if (i != 4 && i != 9)
            assert_non_null(strchr("23456789ABCDEFGHJKLMNPQRSTUVWXYZ", text[i]));
    assert_string_not_equal(text, text2);
    assert_true(eb_otc_is_code(stored));
    assert_false(eb_otc_is_code("$argon2id$v=19$m=19456,t=2,p=1$abc"));
    assert_int_equal(strncmp(stored, "$otc$1000$", 10), 0);
    assert_int_equal(strlen(stored), 10 + 64);
    assert_null(strstr(stored, text));
    assert_int_equal(eb_otc_verify(stored, text, 999), 0);
    /* Paper habits: lower case, no dashes, spaces. */
    char typed[32];
    size_t k = 0;
    for (size_t i = 0; text[i]; i++)
        if (text[i] != '-')
            typed[k++] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] - 'A' + 'a' : text[i]);
    typed[k] = '\0';
    assert_int_equal(eb_otc_verify(stored, typed, 999), 0);
    assert_int_equal(eb_otc_verify(stored, text, 1000), EB_EAUTH); /* expired */
    assert_int_equal(eb_otc_verify(stored, text2, 999), EB_EAUTH);
    char wrong[EB_OTC_TEXT];
    memcpy(wrong, text, sizeof(wrong));
    wrong[13] = wrong[13] == '2' ? '3' : '2';
    assert_int_equal(eb_otc_verify(stored, wrong, 999), EB_EAUTH);
    wrong[13] = '\0';
    assert_int_equal(eb_otc_verify(stored, wrong, 999), EB_EAUTH);
    assert_int_equal(eb_otc_verify("$argon2id$x", text, 999), EB_EAUTH);
    /* A doctored expiry changes nothing: the hash does not match a new text either. */
    assert_int_equal(eb_otc_verify("$otc$9999999999$00", text, 999), EB_EAUTH);
}

struct got {
    int n;
    int64_t account_id[8], person_id[8];
    char login[8][64], code[8][EB_OTC_TEXT], kind[8][8];
};

static void got_item(void *arg, const struct eb_activation_item *it)
{
    struct got *g = arg;
    assert_true(g->n < 8);
    g->account_id[g->n] = it->account_id;
    g->person_id[g->n] = it->person_id;
    snprintf(g->login[g->n], sizeof(g->login[0]), "%s", it->login);
    snprintf(g->code[g->n], sizeof(g->code[0]), "%s", it->code);
    snprintf(g->kind[g->n], sizeof(g->kind[0]), "%s", it->kind);
    g->n++;
}

static void bulk_accounts_binding_and_registration(void **state)
{
    (void)state;
    /* A school of its own: one class with two students, one head teacher, its admin. */
    int64_t school = mk_org(w.d2, EB_ORG_SCHOOL, "西区开通小学");
    int64_t grade = mk_org(school, EB_ORG_GRADE, "三年级");
    int64_t cls = mk_org(grade, EB_ORG_CLASS, "三年级(1)班");
    int64_t s1 = mk_person(school, "开通甲", "110105201601011238", "G110105201601011238");
    int64_t s2 = mk_person(school, "开通乙", "110105201602021239", NULL);
    int64_t t1 = mk_person(school, "开通老师", NULL, NULL);
    mk_enrol(s1, cls, "2025-09-01");
    mk_enrol(s2, cls, "2025-09-01");
    struct eb_post p = {
        .person_id = t1, .school_id = school, .title = "专任教师", .start_date = "2020-09-01"};
    int64_t post = 0, tid = 0;
    assert_int_equal(eb_store_post_create(w.db, &sys, &p, &post), 0);
    struct eb_teaching t = {.post_id = post,
                            .class_id = cls,
                            .subject = "数学",
                            .is_head_teacher = 1,
                            .start_date = "2025-09-01"};
    assert_int_equal(eb_store_teaching_create(w.db, &sys, &t, &tid), 0);
    int64_t admin = mk_account("admin_act", 0, EB_ROLE_SCHOOL_ADMIN, school);
    struct who adm, other;
    who_load(&adm, admin, 0);
    who_load(&other, w.acct_school_a, 0);

    struct got g = {0};
    int64_t n = 0;
    assert_int_equal(
        eb_store_accounts_bulk(w.db, &other.c, school, EB_ACTIVATION_CREATE, got_item, &g, &n),
        EB_ENOTFOUND);
    assert_int_equal(g.n, 0);
    assert_int_equal(
        eb_store_accounts_bulk(w.db, &adm.c, school, EB_ACTIVATION_CREATE, got_item, &g, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(g.n, 3);
    char want[32];
    snprintf(want, sizeof(want), "s%lld", (long long)s1);
    assert_string_equal(g.login[0], want);
    assert_string_equal(g.kind[2], "teacher");
    snprintf(want, sizeof(want), "t%lld", (long long)t1);
    assert_string_equal(g.login[2], want);
    for (int i = 0; i < 3; i++)
        assert_int_equal(eb_store_account_activation_pending(w.db, g.account_id[i]), 1);
    /* The teacher is teacher at the school and head teacher of the class. */
    struct eb_arena *a = eb_arena_create(0);
    size_t ng = 0;
    struct eb_grant *gr = NULL;
    assert_int_equal(eb_store_grants_of(w.db, g.account_id[2], a, &ng, &gr), 0);
    assert_int_equal(ng, 2);
    int head = 0, teach = 0;
    for (size_t i = 0; i < ng; i++) {
        head += gr[i].role == EB_ROLE_HEAD_TEACHER && gr[i].org_id == cls;
        teach += gr[i].role == EB_ROLE_TEACHER && gr[i].org_id == school;
    }
    assert_int_equal(head + teach, 2);
    /* The account row holds the code's hash, which verifies the code. */
    struct eb_account acc;
    assert_int_equal(eb_store_account_by_login(w.db, g.login[0], a, &acc), 0);
    assert_true(acc.must_change_password);
    assert_int_equal(eb_otc_verify(acc.password_hash, g.code[0], now_s()), 0);

    /* Nobody is left on a second run. */
    struct got g2 = {0};
    assert_int_equal(
        eb_store_accounts_bulk(w.db, &adm.c, school, EB_ACTIVATION_CREATE, got_item, &g2, &n), 0);
    assert_int_equal(n, 0);

    struct eb_reg_row total, *kids = NULL;
    size_t nk = 0;
    assert_int_equal(eb_store_registration(w.db, &adm.c, school, a, &total, &nk, &kids), 0);
    assert_int_equal(total.students.people, 2);
    assert_int_equal(total.students.registered, 2);
    assert_int_equal(total.students.activated, 0);
    assert_int_equal(total.teachers.people, 1);
    assert_int_equal(total.teachers.registered, 1);
    assert_int_equal(nk, 1);
    assert_int_equal(kids[0].org_id, grade);
    assert_int_equal(kids[0].students.people, 2);
    assert_int_equal(kids[0].teachers.people, 1); /* teaching in the grade */
    assert_int_equal(eb_store_registration(w.db, &other.c, school, a, &total, &nk, &kids),
                     EB_ENOTFOUND);

    /* The first student chooses a password: activated; a re-issue skips them. */
    assert_int_equal(
        eb_store_account_set_password(w.db, &sys, g.account_id[0], "$argon2id$chosen", 0), 0);
    assert_int_equal(eb_store_account_activation_pending(w.db, g.account_id[0]), 0);
    struct got g3 = {0};
    assert_int_equal(
        eb_store_accounts_bulk(w.db, &adm.c, cls, EB_ACTIVATION_REISSUE, got_item, &g3, &n), 0);
    assert_int_equal(n, 2); /* the second student and the teacher (who teaches the class) */
    assert_int_equal(g3.account_id[0], g.account_id[1]);
    assert_string_not_equal(g3.code[0], g.code[1]);
    assert_int_equal(eb_store_account_by_login(w.db, g.login[1], a, &acc), 0);
    assert_int_equal(eb_otc_verify(acc.password_hash, g.code[1], now_s()), EB_EAUTH);
    assert_int_equal(eb_otc_verify(acc.password_hash, g3.code[0], now_s()), 0);
    assert_int_equal(eb_store_registration(w.db, &adm.c, cls, a, &total, &nk, &kids), 0);
    assert_int_equal(total.students.activated, 1);
    assert_int_equal(nk, 0);

    /* A parent binds with the student number and the school's code, once. */
    char text[EB_OTC_TEXT], stored[EB_OTC_STORED];
    int64_t now = now_s();
    eb_otc_new(now + EB_BIND_TTL_S, text, stored);
    assert_int_equal(eb_store_binding_code_set(w.db, &other.c, s1, stored, now), EB_ENOTFOUND);
    assert_int_equal(eb_store_binding_code_set(w.db, &adm.c, t1, stored, now), EB_EINVAL);
    assert_int_equal(eb_store_binding_code_set(w.db, &adm.c, s1, stored, now), 0);
    struct eb_caller anon = {.client_addr = "127.0.0.1"};
    struct eb_parent_registration in = {.student_no = "G110105201601011238",
                                        .code = "AAAA-BBBB-CCCC",
                                        .login = "parent_act",
                                        .password_hash = "$argon2id$parent",
                                        .name = "开通家长",
                                        .relation = "母亲"};
    int64_t pacc = 0;
    assert_int_equal(eb_store_parent_register(w.db, &anon, &in, now, &pacc), EB_EAUTH);
    in.code = text;
    in.student_no = "G110105201602021239"; /* right code, wrong child */
    assert_int_equal(eb_store_parent_register(w.db, &anon, &in, now, &pacc), EB_EAUTH);
    in.student_no = "G110105201601011238";
    assert_int_equal(eb_store_parent_register(w.db, &anon, &in, now, &pacc), 0);
    assert_true(pacc > 0);
    assert_int_equal(eb_store_grants_of(w.db, pacc, a, &ng, &gr), 0);
    assert_int_equal(ng, 1);
    assert_int_equal(gr[0].role, EB_ROLE_PARENT);
    assert_int_equal(gr[0].org_id, cls);
    in.login = "parent_act2";
    assert_int_equal(eb_store_parent_register(w.db, &anon, &in, now, &pacc), EB_EAUTH);
    assert_int_equal(eb_store_registration(w.db, &adm.c, school, a, &total, &nk, &kids), 0);
    assert_int_equal(total.parents.people, 1);
    assert_int_equal(total.parents.registered, 1);
    assert_int_equal(total.parents.activated, 1);
    eb_arena_destroy(a);
    who_free(&adm);
    who_free(&other);
}

EB_TEST_GROUP(store);
EB_TEST_GROUP(store)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(migrations_applied_once_and_key_private),
        cmocka_unit_test(org_tree_paths_and_children),
        cmocka_unit_test(school_admin_cannot_see_other_school),
        cmocka_unit_test(district_admin_sees_its_schools),
        cmocka_unit_test(analyst_reads_but_cannot_write),
        cmocka_unit_test(student_sees_self_only),
        cmocka_unit_test(parent_sees_own_child_only),
        cmocka_unit_test(pii_masked_unless_granted_and_audited),
        cmocka_unit_test(enrolment_history_is_kept),
        cmocka_unit_test(accounts_grants_and_login),
        cmocka_unit_test(sessions_and_throttle),
        cmocka_unit_test(audit_rows_scoped_and_append_only),
        cmocka_unit_test(pagination_cursors),
        cmocka_unit_test(backup_copies_online),
        cmocka_unit_test(bulk_load_is_fast_enough),
        cmocka_unit_test(account_update_and_reset_by_admins),
        cmocka_unit_test(account_roles_grant_and_revoke),
        cmocka_unit_test(org_stats_count_the_subtree),
        cmocka_unit_test(otc_codes_verify_and_expire),
        cmocka_unit_test(bulk_accounts_binding_and_registration),
    };
    return cmocka_run_group_tests_name("store", tests, setup, teardown);
}
