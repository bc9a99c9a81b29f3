/* Unit tests of the student lifecycle and transfers in the store (SQLite): graduation inside a
 * caller's transaction, refused transitions, a transfer's offices and the move it makes. */
#include "unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "registry/registry_ids.h"
#include "store/store.h"

static struct world {
    char dir[64], db_path[128];
    struct eb_store *st;
    struct eb_db *db;
    int64_t city, d1, d2, school_a, school_a2, school_b, class_a, class_a2, class_b;
    int64_t stu_b, stu_a2, enrol_b;
    char sno_b[20];
} w;

static const struct eb_caller sys = {.system = 1};

static int64_t mk_org(int64_t parent, enum eb_org_kind kind, const char *name)
{
    struct eb_org o = {.parent_id = parent, .kind = kind, .name = (char *)(uintptr_t)name};
    int64_t id = 0;
    assert_int_equal(eb_store_org_create(w.db, &sys, &o, &id), 0);
    return id;
}

static int64_t mk_student(int64_t school, int64_t cls, const char *name, const char *sno,
                          int64_t *enrol)
{
    struct eb_person p = {.name = (char *)(uintptr_t)name,
                          .sex = EB_SEX_MALE,
                          .birth_date = "2013-04-05",
                          .student_no = (char *)(uintptr_t)sno,
                          .kind = "student",
                          .org_id = school};
    int64_t id = 0, e = 0;
    assert_int_equal(eb_store_person_create(w.db, &sys, &p, &id), 0);
    struct eb_enrolment en = {.person_id = id, .class_id = cls, .start_date = "2026-09-01"};
    assert_int_equal(eb_store_enrolment_create(w.db, &sys, &en, &e), 0);
    if (enrol)
        *enrol = e;
    return id;
}

/* A caller holding one role at one org, as src/auth builds it from the grants. */
struct who {
    struct eb_grant g;
    struct eb_caller c;
};

static void who_at(struct who *h, enum eb_role role, int64_t org)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb_org o;
    assert_int_equal(eb_store_org_get(w.db, &sys, org, a, &o), 0);
    memset(h, 0, sizeof(*h));
    h->g.role = role;
    h->g.org_id = org;
    snprintf(h->g.org_path, sizeof(h->g.org_path), "%s", o.path);
    h->c.account_id = 0;
    h->c.n_grants = 1;
    h->c.grants = &h->g;
    eb_arena_destroy(a);
}

static int setup(void **state)
{
    (void)state;
    memset(&w, 0, sizeof(w));
    snprintf(w.dir, sizeof(w.dir), "/tmp/eb_transfers_XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    snprintf(w.db_path, sizeof(w.db_path), "%s/t.db", w.dir);
    struct eb_store_options opt = {.pool_size = 1, .create = 1};
    assert_int_equal(eb_store_open(w.db_path, &opt, &w.st), 0);
    w.db = eb_store_acquire(w.st);
    w.city = mk_org(0, EB_ORG_CITY, "示范市");
    w.d1 = mk_org(w.city, EB_ORG_DISTRICT, "东区");
    w.d2 = mk_org(w.city, EB_ORG_DISTRICT, "西区");
    w.school_a = mk_org(w.d1, EB_ORG_SCHOOL, "东区一小");
    w.school_a2 = mk_org(w.d1, EB_ORG_SCHOOL, "东区二小");
    w.school_b = mk_org(w.d2, EB_ORG_SCHOOL, "西区一小");
    w.class_a = mk_org(mk_org(w.school_a, EB_ORG_GRADE, "一年级"), EB_ORG_CLASS, "一(1)班");
    w.class_a2 = mk_org(mk_org(w.school_a2, EB_ORG_GRADE, "一年级"), EB_ORG_CLASS, "一(1)班");
    w.class_b = mk_org(mk_org(w.school_b, EB_ORG_GRADE, "一年级"), EB_ORG_CLASS, "一(1)班");
    const char *first17 = "37020320130405123";
    snprintf(w.sno_b, sizeof(w.sno_b), "G%s%c", first17, eb_citizen_id_check_char(first17));
    w.stu_b = mk_student(w.school_b, w.class_b, "王小明", w.sno_b, &w.enrol_b);
    w.stu_a2 = mk_student(w.school_a2, w.class_a2, "李小红", NULL, NULL);
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

static enum eb_student_status status_of(int64_t person)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb_student_state st;
    struct eb_status_event *ev = NULL;
    size_t n = 0;
    assert_int_equal(eb_store_student_status(w.db, &sys, person, a, &st, &n, &ev), 0);
    eb_arena_destroy(a);
    return st.status;
}

/* The promotion graduates students inside its own transaction: a rollback undoes it all. */
static void graduate_joins_the_callers_transaction(void **state)
{
    (void)state;
    assert_int_equal(status_of(w.stu_a2), EB_STUDENT_ENROLLED);
    assert_int_equal(eb_db_begin(w.db), 0);
    assert_int_equal(eb_store_student_graduate(w.db, &sys, w.stu_a2, "2027-07-01"), 0);
    assert_int_equal(status_of(w.stu_a2), EB_STUDENT_GRADUATED);
    assert_int_equal(eb_db_rollback(w.db), 0);
    assert_int_equal(status_of(w.stu_a2), EB_STUDENT_ENROLLED);

    assert_int_equal(eb_db_begin(w.db), 0);
    assert_int_equal(eb_store_student_graduate(w.db, &sys, w.stu_a2, "2027-07-01"), 0);
    /* A second graduation inside the same transaction is a refused transition, and the
     * savepoint keeps the first. */
    assert_int_equal(eb_store_student_graduate(w.db, &sys, w.stu_a2, "2027-07-02"), EB_ECONFLICT);
    assert_int_equal(eb_db_commit(w.db), 0);
    assert_int_equal(status_of(w.stu_a2), EB_STUDENT_GRADUATED);
    /* A date before the last change is bad input, not a conflict. */
    struct eb_status_change in = {
        .kind = EB_STATUS_ADMISSION, .date = "2027-06-01", .class_id = w.class_a2};
    struct eb_refusal why;
    int64_t ev = 0;
    assert_int_equal(eb_store_student_status_change(w.db, &sys, w.stu_a2, &in, &why, &ev),
                     EB_EINVAL);
    assert_string_equal(why.field, "date");
    in.date = "2027-09-01";
    in.class_id = w.class_b; /* another school's class: a transfer, not an admission */
    assert_int_equal(eb_store_student_status_change(w.db, &sys, w.stu_a2, &in, &why, &ev),
                     EB_EINVAL);
    assert_string_equal(why.field, "class_id");
    in.class_id = w.class_a2;
    assert_int_equal(eb_store_student_status_change(w.db, &sys, w.stu_a2, &in, &why, &ev), 0);
    assert_int_equal(status_of(w.stu_a2), EB_STUDENT_ENROLLED);
}

/* Four offices in order; each other office is refused, an outsider does not see it. */
static void transfer_offices_and_the_move(void **state)
{
    (void)state;
    struct who rx, da, sb, db, outsider, city;
    who_at(&rx, EB_ROLE_SCHOOL_ADMIN, w.school_a);
    who_at(&da, EB_ROLE_DISTRICT_ADMIN, w.d1);
    who_at(&sb, EB_ROLE_SCHOOL_ADMIN, w.school_b);
    who_at(&db, EB_ROLE_DISTRICT_ADMIN, w.d2);
    who_at(&outsider, EB_ROLE_SCHOOL_ADMIN, w.school_a2);
    who_at(&city, EB_ROLE_CITY_ADMIN, w.city);
    struct eb_transfer_request in = {.student_no = w.sno_b,
                                     .name = "王小明",
                                     .to_class_id = w.class_a,
                                     .date = "2026-12-01",
                                     .reason = "随父母工作调动"};
    struct eb_refusal why;
    int64_t id = 0;
    assert_int_equal(eb_store_transfer_create(w.db, &da.c, &in, &why, &id), EB_EDENIED);
    in.name = "王小";
    assert_int_equal(eb_store_transfer_create(w.db, &rx.c, &in, &why, &id), EB_ENOTFOUND);
    in.name = "王小明";
    assert_int_equal(eb_store_transfer_create(w.db, &rx.c, &in, &why, &id), 0);
    assert_true(id > 0);
    /* Frozen while pending. */
    struct eb_status_change ch = {
        .kind = EB_STATUS_WITHDRAWAL, .date = "2026-12-02", .reason = "x"};
    int64_t ev = 0;
    assert_int_equal(eb_store_student_status_change(w.db, &sys, w.stu_b, &ch, &why, &ev),
                     EB_ECONFLICT);
    assert_string_equal(why.code, "transfer_pending");

    struct who *order[] = {&da, &sb, &db};
    struct who *all[] = {&rx, &da, &sb, &db, &city};
    for (int step = 0; step < 3; step++) {
        for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
            if (all[k] != order[step])
                assert_int_equal(
                    eb_store_transfer_act(w.db, &all[k]->c, id, EB_TRANSFER_APPROVE, NULL, &why),
                    EB_EDENIED);
        assert_int_equal(
            eb_store_transfer_act(w.db, &outsider.c, id, EB_TRANSFER_APPROVE, NULL, &why),
            EB_ENOTFOUND);
        assert_int_equal(
            eb_store_transfer_act(w.db, &order[step]->c, id, EB_TRANSFER_APPROVE, NULL, &why), 0);
    }
    assert_int_equal(eb_store_transfer_act(w.db, &db.c, id, EB_TRANSFER_APPROVE, NULL, &why),
                     EB_ECONFLICT);
    assert_string_equal(why.code, "transfer_closed");

    struct eb_arena *a = eb_arena_create(0);
    struct eb_transfer t;
    assert_int_equal(eb_store_transfer_get(w.db, &sb.c, id, a, &t), 0);
    assert_string_equal(t.state, "approved");
    assert_int_equal(t.n_trail, 4);
    assert_string_equal(t.trail[3].kind, "from_district");
    /* The sending school keeps the record but no longer reads the person. */
    struct eb_person p;
    assert_int_equal(eb_store_person_get(w.db, &sb.c, w.stu_b, 0, a, &p), EB_ENOTFOUND);
    assert_int_equal(eb_store_person_get(w.db, &rx.c, w.stu_b, 0, a, &p), 0);
    assert_int_equal(p.org_id, w.school_a);
    size_t n = 0;
    struct eb_enrolment *en = NULL;
    assert_int_equal(eb_store_person_enrolments(w.db, &sys, w.stu_b, a, &n, &en), 0);
    assert_int_equal(n, 2);
    assert_int_equal(en[0].id, w.enrol_b);
    assert_string_equal(en[0].end_date, "2026-12-01");
    assert_int_equal(en[1].class_id, w.class_a);
    assert_null(en[1].end_date);
    eb_arena_destroy(a);
}

EB_TEST_GROUP(transfers);
EB_TEST_GROUP(transfers)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(graduate_joins_the_callers_transaction),
        cmocka_unit_test(transfer_offices_and_the_move),
    };
    return cmocka_run_group_tests_name("transfers", tests, setup, teardown);
}
