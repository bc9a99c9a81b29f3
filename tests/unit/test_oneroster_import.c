/* Unit tests of the OneRoster import and export: the sourcedId map, the grade table, and a
 * small demo city exported, imported into an empty database and exported again. */
#include "unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "demo/demo.h"
#include "oneroster/or_io.h"
#include "oneroster/or_map.h"
#include "store/store.h"

static void idmap_keeps_every_key_through_growth(void **state)
{
    (void)state;
    struct eb__or_idmap *m = eb__or_idmap_create();
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "u-%d", i);
        eb__or_idmap_put(m, key, i * 7, (uint32_t)i, (uint8_t)(i & 1));
    }
    assert_int_equal(eb__or_idmap_count(m), 100000);
    for (int i = 0; i < 100000; i += 997) {
        int64_t local = 0;
        uint32_t aux = 0;
        uint8_t flag = 0;
        snprintf(key, sizeof(key), "u-%d", i);
        assert_int_equal(eb__or_idmap_get(m, key, &local, &aux, &flag), 1);
        assert_int_equal(local, i * 7);
        assert_int_equal(aux, i);
        assert_int_equal(flag, i & 1);
    }
    /* A put on a known key replaces its values and adds nothing. */
    eb__or_idmap_put(m, "u-5", -1, 0, 0);
    int64_t local = 0;
    assert_int_equal(eb__or_idmap_get(m, "u-5", &local, NULL, NULL), 1);
    assert_int_equal(local, -1);
    assert_int_equal(eb__or_idmap_count(m), 100000);
    assert_int_equal(eb__or_idmap_get(m, "u-100000", NULL, NULL, NULL), 0);
    assert_int_equal(eb__or_idmap_get(m, "", NULL, NULL, NULL), 0);
    eb__or_idmap_destroy(m);
}

static void grade_codes_map_to_ceds(void **state)
{
    (void)state;
    assert_string_equal(eb__or_grade_ceds("11"), "01");
    assert_string_equal(eb__or_grade_ceds("16"), "06");
    assert_string_equal(eb__or_grade_ceds("21"), "07");
    assert_string_equal(eb__or_grade_ceds("33"), "12");
    assert_string_equal(eb__or_grade_ceds("01"), "PR");
    assert_string_equal(eb__or_grade_ceds("03"), "KG");
    assert_string_equal(eb__or_grade_ceds("43"), "12");
    assert_null(eb__or_grade_ceds("99"));
    assert_null(eb__or_grade_ceds(NULL));
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a file whole into a malloc'd, NUL-terminated buffer with its lines sorted. */
static char *sorted_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = eb_xmalloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    size_t cap = 1024, nl = 0;
    char **lines = eb_xmalloc(cap * sizeof(char *));
    for (char *p = buf, *e; *p; p = e + 1) {
        e = strchr(p, '\n');
        if (!e)
            break;
        *e = '\0';
        if (nl == cap) {
            cap *= 2;
            lines = eb_xrealloc(lines, cap * sizeof(char *));
        }
        lines[nl++] = p;
    }
    qsort(lines, nl, sizeof(char *), cmp_line);
    char *out = eb_xmalloc((size_t)n + 2);
    size_t len = 0;
    for (size_t i = 0; i < nl; i++) {
        size_t l = strlen(lines[i]);
        memcpy(out + len, lines[i], l);
        len += l;
        out[len++] = '\n';
    }
    out[len] = '\0';
    eb_free(lines);
    eb_free(buf);
    return out;
}

static void rm_tree(const char *dir)
{
    char path[4200];
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            rm_tree(path);
        else
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* export -> import into an empty database -> export gives the same files, and the import counts
 * what the generator wrote. */
static void round_trip_of_the_small_city(void **state)
{
    (void)state;
    char dir[] = "/tmp/eb_or_rt_XXXXXX", src[256], dst[256], x1[256], x2[256];
    assert_non_null(mkdtemp(dir));
    snprintf(src, sizeof(src), "%s/src.db", dir);
    snprintf(dst, sizeof(dst), "%s/dst.db", dir);
    snprintf(x1, sizeof(x1), "%s/x1", dir);
    snprintf(x2, sizeof(x2), "%s/x2", dir);
    struct eb_store_options opt = {.pool_size = 1, .create = 1};
    struct eb_store *a = NULL, *b = NULL;
    assert_int_equal(eb_store_open(src, &opt, &a), 0);
    struct eb_demo_options demo = {.scale = EB_DEMO_SMALL, .seed = 7};
    struct eb_demo_stats st;
    assert_int_equal(eb_demo_generate(a, &demo, &st), 0);
    struct eb_caller sys = {.system = 1, .no_audit = 1};
    struct eb_db *da = eb_store_acquire(a);
    struct eb_or_export_stats xs;
    assert_int_equal(eb_or_export(da, &sys, 1, x1, &xs), 0);
    assert_int_equal(xs.classes, st.classes);
    assert_int_equal(xs.enrollments >= st.students, 1);
    /* A grade or class is no export root. */
    int64_t n = 0;
    assert_int_equal(eb_store_org_count(da, EB_ORG_CLASS, &n), 0);
    eb_store_release(a, da);

    assert_int_equal(eb_store_open(dst, &opt, &b), 0);
    struct eb_db *db = eb_store_acquire(b);
    struct eb_or_import *imp = NULL;
    assert_int_equal(eb_or_import(db, &sys, x1, NULL, &imp), 0);
    assert_int_equal(eb_or_import_errors(imp), 0);
    assert_int_equal(eb_or_import_written(imp), 1);
    assert_int_equal(eb_or_import_count(imp, EB_ORC_STUDENTS)->created, st.students);
    assert_int_equal(eb_or_import_count(imp, EB_ORC_CLASSES)->created, st.classes);
    assert_int_equal(eb_or_import_count(imp, EB_ORC_ENROLMENTS)->created, st.students);
    eb_or_import_free(imp);
    assert_int_equal(eb_or_export(db, &sys, 1, x2, NULL), 0);
    /* The same package again: nothing new. */
    assert_int_equal(eb_or_import(db, &sys, x1, NULL, &imp), 0);
    assert_int_equal(eb_or_import_count(imp, EB_ORC_STUDENTS)->created, 0);
    assert_int_equal(eb_or_import_count(imp, EB_ORC_STUDENTS)->unchanged, st.students);
    eb_or_import_free(imp);
    eb_store_release(b, db);

    static const char *const files[] = {
        "manifest.csv", "orgs.csv",  "academicSessions.csv", "courses.csv",
        "classes.csv",  "users.csv", "demographics.csv",     "enrollments.csv"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char p1[300], p2[300];
        snprintf(p1, sizeof(p1), "%s/%s", x1, files[i]);
        snprintf(p2, sizeof(p2), "%s/%s", x2, files[i]);
        char *s1 = sorted_lines(p1), *s2 = sorted_lines(p2);
        assert_string_equal(s1, s2);
        eb_free(s1);
        eb_free(s2);
    }
    eb_store_close(a);
    eb_store_close(b);
    rm_tree(dir);
}

/* A rejected package leaves the database as it was: not even a transaction is opened. */
static void package_with_errors_writes_nothing(void **state)
{
    (void)state;
    char dir[] = "/tmp/eb_or_bad_XXXXXX", db_path[256], pkg[256], path[300];
    assert_non_null(mkdtemp(dir));
    snprintf(db_path, sizeof(db_path), "%s/t.db", dir);
    snprintf(pkg, sizeof(pkg), "%s/pkg", dir);
    assert_int_equal(mkdir(pkg, 0755), 0);
    static const char *const files[][2] = {
        {"manifest.csv",
         "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
         "file.academicSessions,absent\nfile.categories,absent\nfile.classes,absent\n"
         "file.classResources,absent\nfile.courses,absent\nfile.courseResources,absent\n"
         "file.demographics,absent\nfile.enrollments,absent\nfile.lineItems,absent\n"
         "file.orgs,bulk\nfile.resources,absent\nfile.results,absent\nfile.users,absent\n"},
        {"orgs.csv", "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
                     "c1,,,示范市,local,376000,\ns1,,,一中,School,1137100001,c1\n"},
    };
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", pkg, files[i][0]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(files[i][1], f);
        fclose(f);
    }
    struct eb_store_options opt = {.pool_size = 1, .create = 1};
    struct eb_store *st = NULL;
    assert_int_equal(eb_store_open(db_path, &opt, &st), 0);
    struct eb_db *db = eb_store_acquire(st);
    struct eb_caller sys = {.system = 1, .no_audit = 1};
    struct eb_or_import *imp = NULL;
    assert_int_equal(eb_or_import(db, &sys, pkg, NULL, &imp), EB_EINVAL);
    assert_int_equal(eb_or_import_written(imp), 0);
    assert_int_equal(eb_or_report_count_code(eb_or_import_report(imp), "orgs.csv", "enum_case"), 1);
    eb_or_import_free(imp);
    int64_t n = -1;
    assert_int_equal(eb_store_org_count(db, EB_ORG_CITY, &n), 0);
    assert_int_equal(n, 0);
    eb_store_release(st, db);
    eb_store_close(st);
    rm_tree(dir);
}

EB_TEST_GROUP(oneroster_import)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idmap_keeps_every_key_through_growth),
        cmocka_unit_test(grade_codes_map_to_ceds),
        cmocka_unit_test(round_trip_of_the_small_city),
        cmocka_unit_test(package_with_errors_writes_nothing),
    };
    return cmocka_run_group_tests_name("oneroster_import", tests, NULL, NULL);
}
