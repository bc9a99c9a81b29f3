/* Unit tests of src/oneroster (and src/core/strset): the sample packages, each rule, zip. */
#include "unit.h"

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/strset.h"
#include "oneroster/oneroster.h"

/* ---- Helpers ---- */

/* The shared samples, found as the brief says: $EDUBRAIN_SHARED, ../shared, /work/shared. */
static const char *samples_dir(void)
{
    static char path[4096];
    const char *env = getenv("EDUBRAIN_SHARED");
    struct stat sb;
    if (env && *env) {
        snprintf(path, sizeof(path), "%s/oneroster-samples", env);
        if (stat(path, &sb) == 0)
            return path;
    }
    snprintf(path, sizeof(path), "../shared/oneroster-samples");
    if (stat(path, &sb) == 0)
        return path;
    snprintf(path, sizeof(path), "/work/shared/oneroster-samples");
    if (stat(path, &sb) == 0)
        return path;
    return NULL;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static char *make_tmp(void)
{
    char *d = eb_xstrdup("/tmp/eb-oneroster-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void rm_tmp(char *d)
{
    nftw(d, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    eb_free(d);
}

static int crlf; /* write files with CRLF line ends */

static void put(const char *dir, const char *name, const char *content)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (const char *p = content; *p; p++) {
        if (*p == '\n' && crlf)
            fputc('\r', f);
        fputc(*p, f);
    }
    fclose(f);
}

static void del(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(unlink(path), 0);
}

static const char *const file_keys[] = {"academicSessions",
                                        "categories",
                                        "classes",
                                        "classResources",
                                        "courses",
                                        "courseResources",
                                        "demographics",
                                        "enrollments",
                                        "lineItems",
                                        "orgs",
                                        "resources",
                                        "results",
                                        "users",
                                        NULL};

/* A manifest declaring the files named in bulk (a space-separated list; "name:delta" for
 * delta), every other file absent. */
static void put_manifest(const char *dir, const char *present)
{
    char buf[4096];
    size_t len = 0;
    len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                            "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n");
    for (int i = 0; file_keys[i]; i++) {
        char want[64], want_delta[64];
        const char *mode = "absent";
        snprintf(want, sizeof(want), " %s ", file_keys[i]);
        snprintf(want_delta, sizeof(want_delta), " %s:delta ", file_keys[i]);
        char padded[1024];
        snprintf(padded, sizeof(padded), " %s ", present);
        if (strstr(padded, want))
            mode = "bulk";
        else if (strstr(padded, want_delta))
            mode = "delta";
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "file.%s,%s\n", file_keys[i], mode);
    }
    snprintf(buf + len, sizeof(buf) - len, "source.systemName,edubrain tests\n");
    put(dir, "manifest.csv", buf);
}

#define ALL_SIX "orgs academicSessions courses classes users enrollments"

static const char ORGS[] =
    "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
    "org-city,,,City Bureau,district,,\n"
    "org-sch1,,,\"No. 1 School, East\",school,4401000001,org-city\n";
static const char SESSIONS[] =
    "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\n"
    "as-2025,,,2025-2026,schoolYear,2025-09-01,2026-07-15,,2026\n"
    "as-2025-t1,,,Term 1,term,2025-09-01,2026-01-20,as-2025,2026\n";
static const char COURSES[] = "sourcedId,status,dateLastModified,schoolYearSourcedId,title,"
                              "courseCode,grades,orgSourcedId,subjects,subjectCodes\n"
                              "crs-math7,,,as-2025,Math 7,M7,07,org-sch1,Math,\n";
static const char CLASSES[] =
    "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n"
    "cls-7-1,,,Class 7-1,07,crs-math7,7-1,homeroom,Room 101,org-sch1,as-2025-t1,,,\"1,2\"\n";
static const char USERS_HEADER[] =
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
    "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n";
/* u-s1 names its parent u-p1 before u-p1's row: a forward reference inside the file. */
static const char USERS_ROWS[] =
    "u-t1,,,true,org-sch1,teacher,t.wang,{LDAP:t1},Fang,Wang,,T001,,,,,,\n"
    "u-s1,,,true,org-sch1,student,s.li,,Lei,\"Li, Jr.\",,G4401,,,,u-p1,07,\n"
    "u-p1,,,false,org-sch1,parent,p.li,,Ming,李,,,,,,u-s1,,\n";
static const char ENROLLMENTS[] =
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
    "beginDate,endDate\n"
    "e-1,,,cls-7-1,org-sch1,u-t1,teacher,true,2025-09-01,2026-01-20\n"
    "e-2,,,cls-7-1,org-sch1,u-s1,student,,,\n";

static void put_users(const char *dir, const char *rows)
{
    struct eb_buf b;
    eb_buf_init(&b, 0);
    eb_buf_puts(&b, USERS_HEADER);
    eb_buf_puts(&b, rows);
    put(dir, "users.csv", b.data);
    eb_buf_free(&b);
}

static char *valid_package(void)
{
    char *d = make_tmp();
    put_manifest(d, ALL_SIX);
    put(d, "orgs.csv", ORGS);
    put(d, "academicSessions.csv", SESSIONS);
    put(d, "courses.csv", COURSES);
    put(d, "classes.csv", CLASSES);
    put_users(d, USERS_ROWS);
    put(d, "enrollments.csv", ENROLLMENTS);
    return d;
}

/* Findings kept with this file, line (0 = any) and code. */
static size_t kept(const struct eb_or_report *r, const char *file, long line, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < eb_or_report_count(r); i++) {
        const struct eb_or_finding *f = eb_or_report_get(r, i);
        if (strcmp(f->file, file) == 0 && (line == 0 || f->line == line) &&
            strcmp(f->code, code) == 0)
            n++;
    }
    return n;
}

static const struct eb_or_finding *first(const struct eb_or_report *r, const char *code)
{
    for (size_t i = 0; i < eb_or_report_count(r); i++)
        if (strcmp(eb_or_report_get(r, i)->code, code) == 0)
            return eb_or_report_get(r, i);
    return NULL;
}

static void dump(const struct eb_or_report *r)
{
    struct eb_buf b;
    eb_buf_init(&b, 0);
    eb_or_report_text(r, "en", &b);
    fprintf(stderr, "%s", b.data ? b.data : "");
    eb_buf_free(&b);
}

static struct eb_or_report *check_dir(const char *dir)
{
    struct eb_or_report *r = eb_or_report_create(0);
    assert_int_equal(eb_or_validate(dir, r), 0);
    return r;
}

/* A package that is valid except for the findings expected: exactly n_err errors and n_warn
 * warnings, so a finding nobody expected fails the test. */
static void assert_totals(const struct eb_or_report *r, size_t n_err, size_t n_warn)
{
    if (eb_or_report_errors(r) != n_err || eb_or_report_warnings(r) != n_warn)
        dump(r);
    assert_int_equal(eb_or_report_errors(r), n_err);
    assert_int_equal(eb_or_report_warnings(r), n_warn);
}

/* ---- The shared samples (SOURCE.txt) ---- */

static void sample_minimal_gives_its_findings(void **state)
{
    (void)state;
    const char *s = samples_dir();
    if (!s) {
        printf("skipped: samples not found at $EDUBRAIN_SHARED/oneroster-samples, "
               "../shared/oneroster-samples or /work/shared/oneroster-samples\n");
        skip();
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/v1p1-minimal", s);
    struct eb_or_report *r = check_dir(path);
    /* enabledUser = "TRUE" x6: accepted with a warning (§1.5). */
    for (long line = 2; line <= 7; line++)
        assert_int_equal(kept(r, "users.csv", line, "bool_case"), 1);
    assert_int_equal(eb_or_report_count_code(r, "users.csv", "bool_case"), 6);
    /* classType = "Scheduled" x1: an error (enumerations are case-sensitive). */
    assert_int_equal(kept(r, "classes.csv", 2, "enum_case"), 1);
    assert_string_equal(first(r, "enum_case")->value, "Scheduled");
    assert_string_equal(first(r, "enum_case")->column, "classType");
    /* courseSourcedId into courses.csv declared absent x2. */
    assert_int_equal(kept(r, "classes.csv", 2, "reference_to_absent_file"), 1);
    assert_int_equal(kept(r, "classes.csv", 3, "reference_to_absent_file"), 1);
    /* The department org used as a school: at each use, 2 classes and 6 enrolments. */
    assert_int_equal(eb_or_report_count_code(r, "classes.csv", "not_a_school"), 2);
    assert_int_equal(eb_or_report_count_code(r, "enrollments.csv", "not_a_school"), 6);
    /* Found beyond SOURCE.txt (which lists it for v1p1-full only): the teacher usr-222-987654
     * is enrolled as a student on lines 3 and 6 of this set too. */
    assert_int_equal(kept(r, "enrollments.csv", 3, "role_mismatch"), 1);
    assert_int_equal(kept(r, "enrollments.csv", 6, "role_mismatch"), 1);
    assert_totals(r, 3, 16);
    eb_or_report_destroy(r);
}

static void sample_full_gives_its_findings(void **state)
{
    (void)state;
    const char *s = samples_dir();
    if (!s) {
        printf("skipped: samples not found at $EDUBRAIN_SHARED/oneroster-samples, "
               "../shared/oneroster-samples or /work/shared/oneroster-samples\n");
        skip();
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/v1p1-full", s);
    struct eb_or_report *r = check_dir(path);
    /* All of the minimal set's findings. */
    assert_int_equal(eb_or_report_count_code(r, "users.csv", "bool_case"), 6);
    assert_int_equal(kept(r, "classes.csv", 2, "enum_case"), 1);
    assert_int_equal(eb_or_report_count_code(r, "classes.csv", "reference_to_absent_file"), 2);
    assert_int_equal(eb_or_report_count_code(r, "classes.csv", "not_a_school"), 2);
    assert_int_equal(eb_or_report_count_code(r, "enrollments.csv", "not_a_school"), 6);
    /* status and dateLastModified filled in bulk files: one finding per filled field. */
    assert_int_equal(eb_or_report_count_code(r, "orgs.csv", "bulk_populated"), 2);
    assert_int_equal(eb_or_report_count_code(r, "academicSessions.csv", "bulk_populated"), 10);
    assert_int_equal(eb_or_report_count_code(r, "classes.csv", "bulk_populated"), 4);
    assert_int_equal(eb_or_report_count_code(r, "users.csv", "bulk_populated"), 10);
    assert_int_equal(kept(r, "users.csv", 3, "bulk_populated"), 0); /* mary.jones: blank */
    assert_int_equal(eb_or_report_count_code(r, "enrollments.csv", "bulk_populated"), 12);
    /* "inactive" is a v1.0 status. */
    assert_int_equal(kept(r, "academicSessions.csv", 4, "status_inactive"), 1);
    /* parentSourcedId "as-syr-222-2023" does not exist x2. */
    assert_int_equal(kept(r, "academicSessions.csv", 3, "missing_reference"), 1);
    assert_int_equal(kept(r, "academicSessions.csv", 6, "missing_reference"), 1);
    /* The teacher enrolled as a student. */
    assert_int_equal(kept(r, "enrollments.csv", 3, "role_mismatch"), 1);
    assert_int_equal(kept(r, "enrollments.csv", 6, "role_mismatch"), 1);
    /* Found beyond SOURCE.txt: dateLastModified given as a date, not a dateTime (users x5,
     * academicSessions lines 4-5), and orgs.csv's parentSourcedId "org-sch-222-3456" dangles. */
    assert_int_equal(eb_or_report_count_code(r, "users.csv", "bad_datetime"), 5);
    assert_int_equal(kept(r, "academicSessions.csv", 4, "bad_datetime"), 1);
    assert_int_equal(kept(r, "academicSessions.csv", 5, "bad_datetime"), 1);
    assert_int_equal(kept(r, "orgs.csv", 2, "missing_reference"), 1);
    assert_totals(r, 2 + 1 + 10 + 1 + 2 + 2 + 4 + 1 + 2 + 10 + 5 + 12, 2 + 6 + 6 + 2);
    eb_or_report_destroy(r);
}

/* ---- Hand-made packages, one rule each ---- */

struct collected {
    int order[32];
    int n_files;
    size_t rows[EB_OR_N_FILES];
    enum eb_or_mode modes[EB_OR_N_FILES];
    char family_s1[64];
    char org_name[64];
    char status_e2[32];
    long line_last_user;
};

static int c_begin(void *ctx, enum eb_or_file f, enum eb_or_mode m)
{
    struct collected *c = ctx;
    c->order[c->n_files++] = (int)f;
    c->modes[f] = m;
    return 0;
}

static int c_row(void *ctx, const struct eb_or_row *row)
{
    struct collected *c = ctx;
    c->rows[row->file]++;
    assert_int_equal(row->n_fields, eb_or_column_count(row->file));
    if (row->file == EB_OR_USERS) {
        c->line_last_user = row->line;
        if (strcmp(row->fields[EB_OR_COL_SOURCED_ID], "u-s1") == 0)
            snprintf(c->family_s1, sizeof(c->family_s1), "%s",
                     row->fields[EB_OR_USERS_FAMILY_NAME]);
    }
    if (row->file == EB_OR_ORGS && strcmp(row->fields[0], "org-sch1") == 0)
        snprintf(c->org_name, sizeof(c->org_name), "%s", row->fields[EB_OR_ORGS_NAME]);
    if (row->file == EB_OR_ENROLLMENTS && strcmp(row->fields[0], "e-2") == 0)
        snprintf(c->status_e2, sizeof(c->status_e2), "%s", row->fields[EB_OR_COL_STATUS]);
    return 0;
}

static void read_collect(const char *path, struct collected *c, int expect_rc)
{
    struct eb_or_callbacks cb = {.ctx = c, .file_begin = c_begin, .row = c_row};
    struct eb_or_report *r = eb_or_report_create(0);
    memset(c, 0, sizeof(*c));
    int rc = eb_or_read(path, &cb, r);
    if (rc != expect_rc)
        dump(r);
    assert_int_equal(rc, expect_rc);
    eb_or_report_destroy(r);
}

static void valid_package_streams_in_dependency_order(void **state)
{
    (void)state;
    char *d = valid_package();
    struct eb_or_report *r = check_dir(d);
    assert_totals(r, 0, 0);
    assert_int_equal(eb_or_report_rows(r, EB_OR_USERS), 3);
    assert_int_equal(eb_or_report_mode(r, EB_OR_COURSES), EB_OR_BULK);
    assert_int_equal(eb_or_report_mode(r, EB_OR_DEMOGRAPHICS), EB_OR_ABSENT);
    eb_or_report_destroy(r);

    struct collected c;
    read_collect(d, &c, 0);
    static const int want[] = {EB_OR_ORGS,  EB_OR_ACADEMIC_SESSIONS, EB_OR_COURSES, EB_OR_CLASSES,
                               EB_OR_USERS, EB_OR_ENROLLMENTS};
    assert_int_equal(c.n_files, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(c.order[i], want[i]);
    assert_int_equal(c.rows[EB_OR_ORGS], 2);
    assert_int_equal(c.rows[EB_OR_USERS], 3);
    assert_int_equal(c.rows[EB_OR_ENROLLMENTS], 2);
    /* Quoted fields with a comma keep it, and lose their quotes. */
    assert_string_equal(c.family_s1, "Li, Jr.");
    assert_string_equal(c.org_name, "No. 1 School, East");
    assert_int_equal(c.line_last_user, 4);
    rm_tmp(d);
}

static void crlf_package_is_valid(void **state)
{
    (void)state;
    crlf = 1;
    char *d = valid_package();
    crlf = 0;
    struct eb_or_report *r = check_dir(d);
    assert_totals(r, 0, 0);
    eb_or_report_destroy(r);
    struct collected c;
    read_collect(d, &c, 0);
    assert_string_equal(c.family_s1, "Li, Jr.");
    rm_tmp(d);
}

static void bom_is_a_warning_and_ignored(void **state)
{
    (void)state;
    char *d = valid_package();
    struct eb_buf b;
    eb_buf_init(&b, 0);
    eb_buf_puts(&b, "\xEF\xBB\xBF");
    eb_buf_puts(&b, USERS_HEADER);
    eb_buf_puts(&b, USERS_ROWS);
    put(d, "users.csv", b.data);
    eb_buf_free(&b);
    struct eb_or_report *r = check_dir(d);
    assert_int_equal(kept(r, "users.csv", 1, "bom"), 1);
    assert_totals(r, 0, 1);
    eb_or_report_destroy(r);
    /* Warnings do not stop the import: the header was recognised past the BOM. */
    struct collected c;
    read_collect(d, &c, 0);
    assert_int_equal(c.rows[EB_OR_USERS], 3);
    rm_tmp(d);
}

static void wrong_header_order_is_an_error(void **state)
{
    (void)state;
    char *d = valid_package();
    put(d, "orgs.csv",
        "sourcedId,status,dateLastModified,type,name,identifier,parentSourcedId\n"
        "org-city,,,district,City Bureau,,\n"
        "org-sch1,,,school,School,,org-city\n");
    struct eb_or_report *r = check_dir(d);
    assert_int_equal(kept(r, "orgs.csv", 1, "header_order"), 1);
    assert_string_equal(first(r, "header_order")->column, "name");
    /* The values are still read by name: nothing else is wrong. */
    assert_totals(r, 1, 0);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void extension_columns_go_right(void **state)
{
    (void)state;
    char *d = valid_package();
    put(d, "orgs.csv",
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId,metadata.code,"
        "Note\n"
        "org-city,,,City Bureau,district,,,x,\n"
        "org-sch1,,,School,school,,org-city,y,n\n");
    struct eb_or_report *r = check_dir(d);
    assert_int_equal(kept(r, "orgs.csv", 1, "unknown_column"), 1);
    assert_totals(r, 0, 1);
    eb_or_report_destroy(r);
    put(d, "orgs.csv",
        "sourcedId,status,dateLastModified,metadata.code,name,type,identifier,parentSourcedId\n"
        "org-city,,,x,City Bureau,district,,\n"
        "org-sch1,,,y,School,school,,org-city\n");
    r = check_dir(d);
    assert_int_equal(kept(r, "orgs.csv", 1, "header_order"), 1);
    assert_totals(r, 1, 0);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void missing_required_column_and_header_case(void **state)
{
    (void)state;
    char *d = valid_package();
    put(d, "classes.csv",
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,location,"
        "SchoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n"
        "cls-7-1,,,Class 7-1,07,crs-math7,7-1,Room 101,org-sch1,as-2025-t1,,,\n");
    struct eb_or_report *r = check_dir(d);
    assert_int_equal(kept(r, "classes.csv", 1, "missing_column"), 1);
    assert_string_equal(first(r, "missing_column")->column, "classType");
    assert_int_equal(kept(r, "classes.csv", 1, "header_case"), 1);
    assert_string_equal(first(r, "header_case")->value, "SchoolSourcedId");
    assert_totals(r, 2, 0);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void bad_dates_and_formats(void **state)
{
    (void)state;
    char *d = valid_package();
    put(d, "academicSessions.csv",
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,"
        "schoolYear\n"
        "as-2025,,,2025-2026,schoolYear,2025-09-01,2026-07-15,,2026\n"
        "as-2025-t1,,,Term 1,term,2025-02-30,2026/01/20,as-2025,26\n"
        "as-x,,,Term 2,term,2026-03-01,2026-02-01,as-2025,2026\n");
    struct eb_or_report *r = check_dir(d);
    assert_int_equal(kept(r, "academicSessions.csv", 3, "bad_date"), 2);
    assert_int_equal(kept(r, "academicSessions.csv", 3, "bad_year"), 1);
    assert_int_equal(kept(r, "academicSessions.csv", 4, "date_order"), 1);
    assert_totals(r, 3, 1);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void enum_case_and_unknown_values(void **state)
{
    (void)state;
    char *d = valid_package();
    put(d, "orgs.csv",
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "org-city,,,City Bureau,District,,\n"
        "org-sch1,,,School,school,,org-city\n");
    put_users(d, "u-t1,,,true,org-sch1,Teacher,t.wang,,Fang,Wang,,,,,,,,\n"
                 "u-s1,,,true,org-sch1,student,s.li,,Lei,Li,,,,,,,07,\n"
                 "u-p1,,,yes,org-sch1,mother,p.li,,Ming,Li,,,,,,,K1,\n");
    struct eb_or_report *r = check_dir(d);
    assert_int_equal(kept(r, "orgs.csv", 2, "enum_case"), 1);
    assert_string_equal(first(r, "enum_case")->detail, "district");
    assert_int_equal(kept(r, "users.csv", 2, "enum_case"), 1);
    assert_int_equal(kept(r, "users.csv", 4, "enum_value"), 1);
    assert_int_equal(kept(r, "users.csv", 4, "bad_bool"), 1);
    assert_int_equal(kept(r, "users.csv", 4, "grade_value"), 1);
    /* e-1 enrols u-t1, whose role is unusable (wrong case): no role_mismatch is guessed. */
    assert_totals(r, 4, 1);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void dangling_reference_and_duplicate_id(void **state)
{
    (void)state;
    char *d = valid_package();
    put(d, "enrollments.csv",
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate\n"
        "e-1,,,cls-7-1,org-sch1,u-t1,teacher,true,,\n"
        "e-2,,,cls-7-1,org-sch1,nobody,student,,,\n"
        "e-1,,,cls-7-1,org-sch1,u-s1,student,,,\n"
        "e-3,,,cls-7-1,org-city,u-s1,student,,,\n");
    put_users(d, "u-t1,,,true,org-sch1,teacher,t.wang,,Fang,Wang,,,,,,,,\n"
                 "u-s1,,,true,\"org-sch1,org-gone\",student,s.li,,Lei,Li,,,,,,u-p9,07,\n"
                 "u-p1,,,false,org-sch1,parent,p.li,,Ming,Li,,,,,,u-s1,,\n");
    struct eb_or_report *r = check_dir(d);
    assert_int_equal(kept(r, "enrollments.csv", 3, "missing_reference"), 1);
    assert_string_equal(first(r, "missing_reference")->value, "org-gone");
    assert_int_equal(kept(r, "enrollments.csv", 4, "duplicate_id"), 1);
    assert_int_equal(kept(r, "enrollments.csv", 5, "not_a_school"), 1);
    /* A list item and a self-reference (settled at the end of the file). */
    assert_int_equal(kept(r, "users.csv", 3, "missing_reference"), 2);
    assert_totals(r, 4, 1);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void quoted_newline_is_an_error_and_lines_stay_right(void **state)
{
    (void)state;
    char *d = valid_package();
    put_users(d, "u-t1,,,true,org-sch1,teacher,t.wang,,\"Fang\nFang\",Wang,,,,,,,,\n"
                 "u-s1,,,true,org-sch1,student,s.li,,Lei,\"Li, \"\"Jr\"\"\",,,,,,,07,\n"
                 "u-p1,,,TRUE,org-sch1,parent,p.li,,Ming,Li,,,,,,u-s1,,\n");
    struct eb_or_report *r = check_dir(d);
    /* The record starts on line 2 and spans line 3; the next ones are on 4 and 5. */
    assert_int_equal(kept(r, "users.csv", 2, "newline_in_field"), 1);
    assert_string_equal(first(r, "newline_in_field")->column, "givenName");
    assert_int_equal(kept(r, "users.csv", 5, "bool_case"), 1);
    assert_totals(r, 1, 1);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void csv_syntax_errors(void **state)
{
    (void)state;
    char *d = valid_package();
    put_users(d, "u-t1,,,true,org-sch1,teacher,t.wang,,Fang,Wang,,,,,,,,\n"
                 "u-s1,,,true,org-sch1,student,s.li,,Lei,Li\"x\",,,,,,,07,\n");
    struct eb_or_report *r = check_dir(d);
    assert_int_equal(kept(r, "users.csv", 3, "csv_syntax"), 1);
    eb_or_report_destroy(r);
    put_users(d, "u-t1,,,true,org-sch1,teacher,t.wang,,Fang,Wang,,,,,,,,\n"
                 "u-s1,,,true,org-sch1,student,s.li,,Lei,\"Li,,,,,,,07,\n");
    r = check_dir(d);
    assert_int_equal(kept(r, "users.csv", 3, "csv_syntax"), 1);
    eb_or_report_destroy(r);
    put_users(d, "u-t1,,,true,org-sch1,teacher\n");
    r = check_dir(d);
    assert_int_equal(kept(r, "users.csv", 2, "field_count"), 1);
    assert_string_equal(first(r, "field_count")->value, "6");
    eb_or_report_destroy(r);
    put_users(d, "");
    r = check_dir(d);
    assert_int_equal(kept(r, "users.csv", 0, "no_data_rows"), 1);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void delta_files_and_status(void **state)
{
    (void)state;
    char *d = valid_package();
    put_manifest(d, "orgs academicSessions courses classes users enrollments:delta");
    put(d, "enrollments.csv",
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate\n"
        "e-1,active,2025-09-01T08:00:00.000Z,cls-7-1,org-sch1,u-t1,teacher,true,,\n"
        "e-2,tobedeleted,2025-10-01T08:00:00Z,,,,,,,\n");
    struct eb_or_report *r = check_dir(d);
    assert_totals(r, 0, 0);
    assert_int_equal(eb_or_report_mode(r, EB_OR_ENROLLMENTS), EB_OR_DELTA);
    eb_or_report_destroy(r);
    struct collected c;
    read_collect(d, &c, 0);
    assert_int_equal(c.modes[EB_OR_ENROLLMENTS], EB_OR_DELTA);
    assert_string_equal(c.status_e2, "tobedeleted");
    /* A delta row without status or date; a v1.0 status with a date for a dateTime. */
    put(d, "enrollments.csv",
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate\n"
        "e-1,,,cls-7-1,org-sch1,u-t1,teacher,true,,\n"
        "e-2,inactive,2025-10-01,cls-7-1,org-sch1,u-s1,student,,,\n");
    r = check_dir(d);
    assert_int_equal(kept(r, "enrollments.csv", 2, "delta_required"), 2);
    assert_int_equal(kept(r, "enrollments.csv", 3, "status_inactive"), 1);
    assert_int_equal(kept(r, "enrollments.csv", 3, "bad_datetime"), 1);
    assert_totals(r, 4, 0);
    eb_or_report_destroy(r);
    /* Users in delta: a reference to a user not in the package is left to the import. */
    put_manifest(d, "orgs academicSessions courses classes users:delta enrollments");
    put_users(d, "u-t1,active,2025-09-01T00:00:00.000Z,true,org-sch1,teacher,t.wang,,Fang,Wang,"
                 ",,,,,,,\n");
    put(d, "enrollments.csv", ENROLLMENTS);
    r = check_dir(d);
    assert_int_equal(kept(r, "enrollments.csv", 3, "unresolved_reference"), 1);
    assert_totals(r, 0, 1);
    eb_or_report_destroy(r);
    /* A bulk file with a status. */
    put_manifest(d, ALL_SIX);
    put_users(d, "u-t1,active,,true,org-sch1,teacher,t.wang,,Fang,Wang,,,,,,,,\n"
                 "u-s1,,,true,org-sch1,student,s.li,,Lei,Li,,,,,,,07,\n");
    r = check_dir(d);
    assert_int_equal(kept(r, "users.csv", 2, "bulk_populated"), 1);
    assert_totals(r, 1, 0);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void manifest_rules(void **state)
{
    (void)state;
    char *d = valid_package();
    /* Declared bulk, not in the package. */
    del(d, "courses.csv");
    struct eb_or_report *r = check_dir(d);
    assert_int_equal(kept(r, "courses.csv", 0, "file_missing"), 1);
    /* classes.courseSourcedId cannot be checked against a missing file: no cascade. */
    assert_totals(r, 1, 0);
    eb_or_report_destroy(r);
    /* Declared absent, present anyway; and a v1.2 file. */
    put(d, "courses.csv", COURSES);
    put(d, "demographics.csv", "sourcedId\nx\n");
    put(d, "roles.csv", "sourcedId\nx\n");
    put_manifest(d, "orgs academicSessions courses classes users enrollments");
    r = check_dir(d);
    assert_int_equal(kept(r, "demographics.csv", 0, "file_unexpected"), 1);
    assert_int_equal(kept(r, "roles.csv", 0, "unknown_file"), 1);
    assert_totals(r, 1, 1);
    eb_or_report_destroy(r);
    del(d, "demographics.csv");
    del(d, "roles.csv");
    /* Version 1.2, a bad mode, a missing property, an unknown one. */
    put(d, "manifest.csv",
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n"
        "file.academicSessions,bulk\nfile.categories,absent\n"
        "file.classes,bulk\nfile.classResources,absent\nfile.courses,Bulk\n"
        "file.courseResources,absent\nfile.demographics,absent\n"
        "file.enrollments,bulk\nfile.lineItems,absent\nfile.orgs,bulk\n"
        "file.resources,absent\nfile.results,absent\nfile.roles,bulk\n");
    r = check_dir(d);
    assert_int_equal(kept(r, "manifest.csv", 3, "unsupported_version"), 1);
    assert_int_equal(kept(r, "manifest.csv", 8, "manifest_value"), 1);
    assert_int_equal(kept(r, "manifest.csv", 0, "manifest_property_missing"), 1);
    assert_string_equal(first(r, "manifest_property_missing")->column, "file.users");
    assert_int_equal(kept(r, "manifest.csv", 16, "manifest_unknown_property"), 1);
    /* users.csv is present but undeclared (so absent). */
    assert_int_equal(kept(r, "users.csv", 0, "file_unexpected"), 1);
    eb_or_report_destroy(r);
    del(d, "manifest.csv");
    r = check_dir(d);
    assert_int_equal(kept(r, "manifest.csv", 0, "manifest_missing"), 1);
    assert_totals(r, 1, 0);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void package_with_errors_is_never_streamed(void **state)
{
    (void)state;
    char *d = valid_package();
    put(d, "classes.csv",
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
        "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n"
        "cls-7-1,,,Class 7-1,07,crs-math7,7-1,Homeroom,Room 101,org-sch1,as-2025-t1,,,\n");
    struct collected c;
    read_collect(d, &c, EB_EINVAL);
    assert_int_equal(c.n_files, 0);
    rm_tmp(d);
    struct eb_or_report *r = eb_or_report_create(0);
    assert_int_equal(eb_or_validate("/nonexistent/package.zip", r), EB_EIO);
    assert_int_equal(kept(r, "", 0, "package_unreadable"), 1);
    eb_or_report_destroy(r);
}

static void put_zip(zip_t *z, const char *name, const char *content)
{
    zip_source_t *src = zip_source_buffer(z, content, strlen(content), 0);
    assert_non_null(src);
    assert_true(zip_file_add(z, name, src, ZIP_FL_OVERWRITE) >= 0);
}

static void zip_package(void **state)
{
    (void)state;
    char *d = make_tmp();
    /* The manifest comes from a directory package written the usual way. */
    put_manifest(d, ALL_SIX);
    static char manifest[4096];
    char mpath[4200];
    snprintf(mpath, sizeof(mpath), "%s/manifest.csv", d);
    FILE *f = fopen(mpath, "rb");
    assert_non_null(f);
    size_t mlen = fread(manifest, 1, sizeof(manifest) - 1, f);
    manifest[mlen] = '\0';
    fclose(f);
    static char users[2048];
    snprintf(users, sizeof(users), "%s%s", USERS_HEADER, USERS_ROWS);

    char zpath[4200];
    snprintf(zpath, sizeof(zpath), "%s/package.zip", d);
    int zerr = 0;
    zip_t *z = zip_open(zpath, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    put_zip(z, "manifest.csv", manifest);
    put_zip(z, "orgs.csv", ORGS);
    put_zip(z, "academicSessions.csv", SESSIONS);
    put_zip(z, "courses.csv", COURSES);
    put_zip(z, "classes.csv", CLASSES);
    put_zip(z, "users.csv", users);
    put_zip(z, "enrollments.csv", ENROLLMENTS);
    assert_int_equal(zip_close(z), 0);

    struct eb_or_report *r = eb_or_report_create(0);
    assert_int_equal(eb_or_validate(zpath, r), 0);
    assert_totals(r, 0, 0);
    eb_or_report_destroy(r);
    struct collected c;
    read_collect(zpath, &c, 0);
    assert_int_equal(c.rows[EB_OR_USERS], 3);
    assert_string_equal(c.family_s1, "Li, Jr.");

    /* The same files inside a folder: nothing at the root. */
    z = zip_open(zpath, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    put_zip(z, "pkg/manifest.csv", manifest);
    put_zip(z, "pkg/users.csv", users);
    assert_int_equal(zip_close(z), 0);
    r = eb_or_report_create(0);
    assert_int_equal(eb_or_validate(zpath, r), 0);
    assert_int_equal(kept(r, "manifest.csv", 0, "manifest_missing"), 1);
    assert_int_equal(eb_or_report_count_code(r, NULL, "file_not_at_root"), 2);
    assert_int_equal(kept(r, "pkg/users.csv", 0, "file_not_at_root"), 1);
    eb_or_report_destroy(r);

    /* Not a zip at all. */
    put(d, "not.zip", "hello");
    snprintf(zpath, sizeof(zpath), "%s/not.zip", d);
    r = eb_or_report_create(0);
    assert_int_equal(eb_or_validate(zpath, r), EB_EIO);
    assert_int_equal(eb_or_report_errors(r), 1);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

/* ---- Report ---- */

static void report_caps_lists_but_counts_all_and_renders(void **state)
{
    (void)state;
    char *d = valid_package();
    put_users(d, "u-t1,,,TRUE,org-sch1,teacher,t.wang,,Fang,Wang,,,,,,,,\n"
                 "u-s1,,,TRUE,org-sch1,student,s.li,,Lei,Li,,,,,,,07,\n"
                 "u-p1,,,FALSE,org-sch1,parent,p.li,,Ming,\"\xE6\x9D\x8E\",,,,,,u-s1,,\n");
    struct eb_or_report *r = eb_or_report_create(2);
    assert_int_equal(eb_or_validate(d, r), 0);
    assert_int_equal(eb_or_report_count_code(r, "users.csv", "bool_case"), 3);
    assert_int_equal(kept(r, "users.csv", 0, "bool_case"), 2);
    assert_int_equal(eb_or_report_warnings(r), 3);

    struct eb_buf b;
    eb_buf_init(&b, 0);
    assert_int_equal(eb_or_report_json(r, &b), 0);
    json_error_t err;
    json_t *doc = json_loads(b.data, 0, &err);
    assert_non_null(doc);
    assert_true(json_is_true(json_object_get(doc, "ok")));
    assert_int_equal(json_integer_value(json_object_get(doc, "warnings")), 3);
    json_t *fs = json_object_get(doc, "findings");
    assert_int_equal(json_array_size(fs), 2);
    json_t *f0 = json_array_get(fs, 0);
    assert_string_equal(json_string_value(json_object_get(f0, "code")), "bool_case");
    assert_int_equal(json_integer_value(json_object_get(f0, "line")), 2);
    assert_string_equal(json_string_value(json_object_get(f0, "value")), "TRUE");
    json_t *msg = json_object_get(f0, "message");
    assert_non_null(strstr(json_string_value(json_object_get(msg, "en")), "lowercase 'true'"));
    assert_non_null(strstr(json_string_value(json_object_get(msg, "zh")), "小写"));
    json_t *sum = json_array_get(json_object_get(doc, "summary"), 0);
    assert_int_equal(json_integer_value(json_object_get(sum, "count")), 3);
    json_decref(doc);

    eb_buf_reset(&b);
    eb_or_report_text(r, "zh", &b);
    assert_non_null(strstr(b.data, "users.csv:2: 警告 [bool_case]"));
    assert_non_null(strstr(b.data, "数据包可以导入"));
    eb_buf_free(&b);
    eb_or_report_destroy(r);
    rm_tmp(d);
}

static void every_code_is_documented(void **state)
{
    (void)state;
    FILE *f = fopen("docs/internals/oneroster.md", "rb");
    if (!f) {
        printf("skipped: docs/internals/oneroster.md not found (run from the repository root)\n");
        skip();
    }
    static char doc[65536];
    size_t n = fread(doc, 1, sizeof(doc) - 1, f);
    doc[n] = '\0';
    fclose(f);
    /* Force every finding through the report once, by code name. */
    static const char *const codes[] = {"package_unreadable",
                                        "manifest_missing",
                                        "manifest_header",
                                        "manifest_duplicate",
                                        "manifest_property_missing",
                                        "manifest_unknown_property",
                                        "manifest_value",
                                        "unsupported_version",
                                        "file_missing",
                                        "file_unexpected",
                                        "file_unreadable",
                                        "unknown_file",
                                        "file_not_at_root",
                                        "bom",
                                        "invalid_utf8",
                                        "nul_byte",
                                        "csv_syntax",
                                        "newline_in_field",
                                        "empty_file",
                                        "no_data_rows",
                                        "row_too_long",
                                        "field_count",
                                        "header_duplicate",
                                        "header_case",
                                        "missing_column",
                                        "header_order",
                                        "unknown_column",
                                        "required",
                                        "delta_required",
                                        "bulk_populated",
                                        "enum_case",
                                        "enum_value",
                                        "status_inactive",
                                        "bool_case",
                                        "bad_bool",
                                        "bad_date",
                                        "bad_datetime",
                                        "bad_year",
                                        "bad_number",
                                        "bad_user_ids",
                                        "list_empty_item",
                                        "grade_value",
                                        "id_charset",
                                        "id_length",
                                        "duplicate_id",
                                        "date_order",
                                        "missing_reference",
                                        "reference_to_absent_file",
                                        "unresolved_reference",
                                        "reference_to_deleted",
                                        "not_a_school",
                                        "not_a_school_year",
                                        "role_mismatch"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char key[80];
        snprintf(key, sizeof(key), "| `%s` |", codes[i]);
        if (!strstr(doc, key))
            fprintf(stderr, "undocumented code %s\n", codes[i]);
        assert_non_null(strstr(doc, key));
    }
}

/* ---- Single-file checks (the fuzz target's entry) ---- */

static void single_file_checks(void **state)
{
    (void)state;
    static const char users[] =
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
        "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
        "password\n"
        "u 1,,,true,o1,student,a,{LDAP},A,B,,,,,,u-9,07,\n"
        "u\xC3\x28,,,true,o1,student,b,,A,B\x01,,,,,,,07,\n"
        "u3,,,true,\"o1,,o2\",student,c,,A,\"\",,,,,,,07,\n";
    struct eb_or_report *r = eb_or_report_create(0);
    eb_or_check_buffer(EB_OR_USERS, EB_OR_BULK, users, sizeof(users) - 1, r);
    assert_int_equal(kept(r, "users.csv", 2, "id_charset"), 1);
    assert_int_equal(kept(r, "users.csv", 2, "bad_user_ids"), 1);
    assert_int_equal(kept(r, "users.csv", 2, "missing_reference"), 1); /* self: u-9 */
    assert_int_equal(kept(r, "users.csv", 3, "invalid_utf8"), 1);
    assert_int_equal(kept(r, "users.csv", 4, "list_empty_item"), 1);
    assert_int_equal(kept(r, "users.csv", 4, "required"), 1); /* familyName "" */
    /* orgSourcedIds are not resolved in a single file. */
    assert_totals(r, 5, 1);
    eb_or_report_destroy(r);
}

static void strset_adds_finds_and_grows(void **state)
{
    (void)state;
    struct eb_strset *s = eb_strset_create(0);
    char key[32];
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(key, sizeof(key), "usr-%d", i);
        assert_int_equal(eb_strset_add(s, key, (size_t)n, (uint8_t)(i & 0x7f), NULL), 1);
    }
    assert_int_equal(eb_strset_count(s), 50000);
    for (int i = 0; i < 50000; i += 7) {
        int n = snprintf(key, sizeof(key), "usr-%d", i);
        uint8_t tag = 0xff, old = 0xff;
        assert_int_equal(eb_strset_get(s, key, (size_t)n, &tag), 1);
        assert_int_equal(tag, i & 0x7f);
        assert_int_equal(eb_strset_add(s, key, (size_t)n, 0x55, &old), 0);
        assert_int_equal(old, i & 0x7f);
    }
    assert_int_equal(eb_strset_get(s, "usr-50000", 9, NULL), 0);
    assert_int_equal(eb_strset_get(s, "usr-1", 4, NULL), 0); /* a prefix is another key */
    assert_int_equal(eb_strset_add(s, "", 0, 3, NULL), 1);
    assert_int_equal(eb_strset_get(s, "", 0, NULL), 1);
    assert_true(eb_strset_bytes(s) < 4u << 20);
    eb_strset_destroy(s);
}

EB_TEST_GROUP(oneroster)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_minimal_gives_its_findings),
        cmocka_unit_test(sample_full_gives_its_findings),
        cmocka_unit_test(valid_package_streams_in_dependency_order),
        cmocka_unit_test(crlf_package_is_valid),
        cmocka_unit_test(bom_is_a_warning_and_ignored),
        cmocka_unit_test(wrong_header_order_is_an_error),
        cmocka_unit_test(extension_columns_go_right),
        cmocka_unit_test(missing_required_column_and_header_case),
        cmocka_unit_test(bad_dates_and_formats),
        cmocka_unit_test(enum_case_and_unknown_values),
        cmocka_unit_test(dangling_reference_and_duplicate_id),
        cmocka_unit_test(quoted_newline_is_an_error_and_lines_stay_right),
        cmocka_unit_test(csv_syntax_errors),
        cmocka_unit_test(delta_files_and_status),
        cmocka_unit_test(manifest_rules),
        cmocka_unit_test(package_with_errors_is_never_streamed),
        cmocka_unit_test(zip_package),
        cmocka_unit_test(report_caps_lists_but_counts_all_and_renders),
        cmocka_unit_test(every_code_is_documented),
        cmocka_unit_test(single_file_checks),
        cmocka_unit_test(strset_adds_finds_and_grows),
    };
    return cmocka_run_group_tests_name("oneroster", tests, NULL, NULL);
}
