/* Unit tests of the demo module: the SMALL city through a real SQLite store. */
#include "unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "demo/demo.h"
#include "registry/registry_ids.h"
#include "store/store.h"

static const struct eb_caller sys = {.system = 1, .no_audit = 1};

/* A generated database in its own temporary directory. */
struct gen_db {
    char dir[64], path[96];
    struct eb_store *st;
    struct eb_db *db;
    struct eb_demo_stats stats;
};

static void open_db(struct gen_db *g)
{
    snprintf(g->dir, sizeof(g->dir), "/tmp/eb_demo_XXXXXX");
    assert_non_null(mkdtemp(g->dir));
    snprintf(g->path, sizeof(g->path), "%s/d.db", g->dir);
    struct eb_store_options opt = {.pool_size = 2, .create = 1};
    assert_int_equal(eb_store_open(g->path, &opt, &g->st), 0);
}

static void generate(struct gen_db *g, uint64_t seed)
{
    open_db(g);
    struct eb_demo_options opt = {.scale = EB_DEMO_SMALL,
                                  .seed = seed,
                                  .admin_password_hash = "$argon2id$v=19$m=65536,t=2,p=1$test",
                                  .demo_password_hash = "$argon2id$v=19$m=65536,t=2,p=1$demo"};
    assert_int_equal(eb_demo_generate(g->st, &opt, &g->stats), 0);
    g->db = eb_store_acquire(g->st);
}

static void close_db(struct gen_db *g)
{
    if (g->db)
        eb_store_release(g->st, g->db);
    eb_store_close(g->st);
    DIR *d = opendir(g->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char p[384];
            snprintf(p, sizeof(p), "%s/%s", g->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(g->dir);
}

static int64_t city_of(struct gen_db *g, struct eb_arena *a)
{
    struct eb_account acc;
    size_t n = 0;
    struct eb_grant *gr = NULL;
    assert_int_equal(eb_store_account_by_login(g->db, "admin", a, &acc), 0);
    assert_int_equal(eb_store_grants_of(g->db, acc.id, a, &n, &gr), 0);
    assert_int_equal(n, 1);
    assert_int_equal(gr[0].role, EB_ROLE_CITY_ADMIN);
    return gr[0].org_id;
}

static void small_city_has_the_planned_shape(void **state)
{
    (void)state;
    struct gen_db g = {0};
    generate(&g, 42);
    const struct eb_demo_stats *s = &g.stats;
    assert_int_equal(s->districts, 2);
    assert_int_equal(s->schools, 10);
    assert_int_equal(s->accounts, 7);
    assert_int_equal(s->parents, 2);
    assert_in_range(s->students, 2500, 4000);
    assert_in_range(s->teachers, 150, 260);
    assert_in_range(s->classes, 60, 100);
    /* 2 kindergartens x 3, 3 primary x 6, a 4-class teaching point, 3 junior, 6 + 3 in the
     * nine-year school, 3 + 3 in the complete middle school, 3 vocational. */
    assert_int_equal(s->grades, 2 * 3 + 3 * 6 + 4 + 3 + 9 + 6 + 3);
    int64_t n = 0;
    assert_int_equal(eb_store_org_count(g.db, EB_ORG_CITY, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(eb_store_org_count(g.db, EB_ORG_DISTRICT, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(eb_store_org_count(g.db, EB_ORG_SCHOOL, &n), 0);
    assert_int_equal(n, 10);
    assert_int_equal(eb_store_org_count(g.db, EB_ORG_CLASS, &n), 0);
    assert_int_equal(n, s->classes);

    /* Every school carries valid codes; the running types cover the required mix. */
    struct eb_arena *a = eb_arena_create(0);
    int64_t city = city_of(&g, a);
    struct eb_org_list districts, schools;
    assert_int_equal(eb_store_org_children(g.db, &sys, city, 0, 100, a, &districts), 0);
    assert_int_equal(districts.n, 2);
    int seen[1000] = {0};
    for (size_t d = 0; d < districts.n; d++) {
        assert_int_equal(eb_division_code_check(districts.items[d].division_code, NULL), 0);
        assert_int_equal(
            eb_store_org_children(g.db, &sys, districts.items[d].id, 0, 100, a, &schools), 0);
        for (size_t i = 0; i < schools.n; i++) {
            const struct eb_org *o = &schools.items[i];
            unsigned stages = 0;
            assert_int_equal(eb_school_code_check(o->school_code, NULL), 0);
            assert_int_equal(eb_running_type_check(o->running_type, &stages, NULL), 0);
            assert_int_equal(o->stages, stages);
            assert_int_equal(eb_urban_rural_check(o->urban_rural, NULL), 0);
            assert_true(o->has_coords);
            assert_true(o->lat > 35.5 && o->lat < 37.5);
            assert_non_null(strstr(o->address, "示范市"));
            const char *rt = o->running_type;
            seen[(rt[0] - '0') * 100 + (rt[1] - '0') * 10 + (rt[2] - '0')]++;
        }
    }
    assert_int_equal(seen[111], 2);
    assert_int_equal(seen[211], 3);
    assert_int_equal(seen[218], 1);
    assert_int_equal(seen[311], 1);
    assert_int_equal(seen[312], 1);
    assert_int_equal(seen[341], 1);
    assert_int_equal(seen[365], 1);

    /* A second run refuses to add another city. */
    struct eb_demo_options opt = {.scale = EB_DEMO_SMALL, .seed = 1};
    struct eb_demo_stats again;
    assert_int_equal(eb_demo_generate(g.st, &opt, &again), EB_EEXIST);
    eb_arena_destroy(a);
    close_db(&g);
}

static void student_ids_validate_except_the_seeded_few(void **state)
{
    (void)state;
    struct gen_db g = {0};
    generate(&g, 20260901);
    struct eb_arena *a = eb_arena_create(0);
    int64_t city = city_of(&g, a);
    int64_t after = 0, students = 0, invalid = 0, g_no = 0, j_no = 0, l_no = 0;
    for (;;) {
        struct eb_person_list list;
        assert_int_equal(
            eb_store_org_people(g.db, &sys, city, EB_PEOPLE_STUDENTS, after, 500, a, &list), 0);
        for (size_t i = 0; i < list.n; i++) {
            struct eb_person p;
            assert_int_equal(eb_store_person_get(g.db, &sys, list.items[i].id, 1, a, &p), 0);
            students++;
            assert_non_null(p.student_no);
            /* Birth dates fit school ages on 2026-09-01 (3 to about 20). */
            assert_int_equal(eb_date_check(p.birth_date, NULL), 0);
            assert_true(strcmp(p.birth_date, "2005-09-01") >= 0);
            assert_true(strcmp(p.birth_date, "2023-08-31") <= 0);
            if (p.citizen_id) {
                assert_false(p.citizen_id_masked);
                assert_int_equal(p.student_no[0], 'G');
                assert_string_equal(p.student_no + 1, p.citizen_id);
                if (eb_citizen_id_check(p.citizen_id, NULL) != 0) {
                    invalid++;
                    assert_int_equal(eb_student_no_check(p.student_no, NULL), EB_EINVAL);
                    continue;
                }
                char bd[11];
                assert_int_equal(eb_citizen_id_birth(p.citizen_id, bd), 0);
                assert_string_equal(bd, p.birth_date);
                assert_int_equal(eb_citizen_id_sex(p.citizen_id), p.sex);
                assert_int_equal(strncmp(p.citizen_id, "3760", 4), 0);
                g_no++;
            } else {
                assert_true(p.student_no[0] == 'J' || p.student_no[0] == 'L');
                if (p.student_no[0] == 'J')
                    j_no++;
                else
                    l_no++;
            }
            const char *why = NULL;
            if (eb_student_no_check(p.student_no, &why) != 0)
                fail_msg("student number %s: %s", p.student_no, why);
        }
        if (!list.next)
            break;
        after = list.next;
    }
    assert_int_equal(students, g.stats.students);
    assert_int_equal(invalid, g.stats.invalid_ids);
    assert_true(invalid >= 1); /* this seed plants three */
    /* About 98 % carry a G number; J and L share the rest. */
    assert_true(g_no * 100 > students * 95);
    assert_true(j_no + l_no > 0);
    eb_arena_destroy(a);
    close_db(&g);
}

/* The first n people (by id) as one comparable string: names, births and plain IDs. */
static void people_digest(struct gen_db *g, int n, char *out, size_t cap)
{
    struct eb_arena *a = eb_arena_create(0);
    size_t len = 0;
    out[0] = 0;
    for (int64_t id = 1; id <= n; id++) {
        struct eb_person p;
        assert_int_equal(eb_store_person_get(g->db, &sys, id, 1, a, &p), 0);
        int w = snprintf(out + len, cap - len, "%s|%d|%s|%s|%s;", p.name, p.sex, p.birth_date,
                         p.citizen_id ? p.citizen_id : "-", p.student_no ? p.student_no : "-");
        assert_true(w > 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
    eb_arena_destroy(a);
}

static void same_seed_same_city_other_seed_differs(void **state)
{
    (void)state;
    static char d1[16384], d2[16384], d3[16384];
    struct gen_db g1 = {0}, g2 = {0}, g3 = {0};
    generate(&g1, 7);
    generate(&g2, 7);
    generate(&g3, 8);
    people_digest(&g1, 50, d1, sizeof(d1));
    people_digest(&g2, 50, d2, sizeof(d2));
    people_digest(&g3, 50, d3, sizeof(d3));
    assert_string_equal(d1, d2);
    assert_string_not_equal(d1, d3);
    assert_memory_equal(&g1.stats, &g2.stats, sizeof(g1.stats));
    close_db(&g1);
    close_db(&g2);
    close_db(&g3);
}

static int has_grant(const struct eb_grant *gr, size_t n, enum eb_role role, enum eb_org_kind kind,
                     struct gen_db *g, struct eb_arena *a)
{
    for (size_t i = 0; i < n; i++) {
        if (gr[i].role != role)
            continue;
        struct eb_org o;
        assert_int_equal(eb_store_org_get(g->db, &sys, gr[i].org_id, a, &o), 0);
        if (o.kind == kind)
            return 1;
    }
    return 0;
}

static void demo_accounts_have_their_grants(void **state)
{
    (void)state;
    struct gen_db g = {0};
    generate(&g, 3);
    struct eb_arena *a = eb_arena_create(0);
    static const struct {
        const char *login;
        enum eb_role role;
        enum eb_org_kind kind;
        int linked;
    } want[] = {
        {"admin", EB_ROLE_CITY_ADMIN, EB_ORG_CITY, 0},
        {"district1", EB_ROLE_DISTRICT_ADMIN, EB_ORG_DISTRICT, 0},
        {"school1", EB_ROLE_SCHOOL_ADMIN, EB_ORG_SCHOOL, 0},
        {"teacher1", EB_ROLE_HEAD_TEACHER, EB_ORG_CLASS, 1},
        {"teacher1", EB_ROLE_TEACHER, EB_ORG_SCHOOL, 1},
        {"student1", EB_ROLE_STUDENT, EB_ORG_CLASS, 1},
        {"parent1", EB_ROLE_PARENT, EB_ORG_CLASS, 1},
        {"analyst1", EB_ROLE_ANALYST, EB_ORG_CITY, 0},
    };
    int64_t class_of[3] = {0};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct eb_account acc;
        size_t n = 0;
        struct eb_grant *gr = NULL;
        assert_int_equal(eb_store_account_by_login(g.db, want[i].login, a, &acc), 0);
        assert_non_null(acc.password_hash);
        assert_true(strncmp(acc.password_hash, "$argon2id$", 10) == 0);
        assert_int_equal(acc.person_id != 0, want[i].linked);
        assert_int_equal(eb_store_grants_of(g.db, acc.id, a, &n, &gr), 0);
        if (!has_grant(gr, n, want[i].role, want[i].kind, &g, a))
            fail_msg("%s lacks role %d on a kind-%d org", want[i].login, want[i].role,
                     want[i].kind);
        if (want[i].kind == EB_ORG_CLASS && want[i].role != EB_ROLE_TEACHER)
            for (size_t k = 0; k < n; k++)
                if (gr[k].role == want[i].role)
                    class_of[want[i].role == EB_ROLE_HEAD_TEACHER ? 0
                             : want[i].role == EB_ROLE_STUDENT    ? 1
                                                                  : 2] = gr[k].org_id;
    }
    /* teacher1, student1 and parent1 all belong to the same class. */
    assert_true(class_of[0] != 0);
    assert_int_equal(class_of[0], class_of[1]);
    assert_int_equal(class_of[0], class_of[2]);
    struct eb_org cls;
    assert_int_equal(eb_store_org_get(g.db, &sys, class_of[0], a, &cls), 0);
    assert_string_equal(cls.name, "七年级(1)班");
    /* student1 is enrolled there. */
    struct eb_account stu;
    assert_int_equal(eb_store_account_by_login(g.db, "student1", a, &stu), 0);
    size_t n_en = 0;
    struct eb_enrolment *en = NULL;
    assert_int_equal(eb_store_person_enrolments(g.db, &sys, stu.person_id, a, &n_en, &en), 0);
    assert_int_equal(n_en, 1);
    assert_int_equal(en[0].class_id, class_of[0]);
    assert_string_equal(en[0].start_date, "2026-09-01");
    eb_arena_destroy(a);
    close_db(&g);
}

EB_TEST_GROUP(demo)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_city_has_the_planned_shape),
        cmocka_unit_test(student_ids_validate_except_the_seeded_few),
        cmocka_unit_test(same_seed_same_city_other_seed_differs),
        cmocka_unit_test(demo_accounts_have_their_grants),
    };
    return cmocka_run_group_tests_name("demo", tests, NULL, NULL);
}
