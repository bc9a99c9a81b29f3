/* Data-quality checks: the catalogue, runs over a subtree with set-based reads, findings. */
#include "store/store_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "core/err.h"
#include "registry/registry_ids.h"

static const struct eb_quality_check checks[EB_QC_COUNT] = {
    [EB_QC_ID_CHECK_DIGIT] = {"citizen_id_check_digit", EB_QUALITY_ERROR, "身份证号校验位错误",
                              "Citizen ID check digit is wrong"},
    [EB_QC_ID_MALFORMED] = {"citizen_id_malformed", EB_QUALITY_ERROR, "身份证号格式无效",
                            "Citizen ID is malformed"},
    [EB_QC_BIRTH_INVALID] = {"birth_date_invalid", EB_QUALITY_ERROR, "出生日期无效",
                             "Birth date is invalid"},
    [EB_QC_BIRTH_MISMATCH] = {"birth_date_mismatch", EB_QUALITY_ERROR, "出生日期与身份证号不一致",
                              "Birth date differs from the citizen ID"},
    [EB_QC_DUP_IN_SCHOOL] = {"duplicate_in_school", EB_QUALITY_ERROR, "同一人在本校重复在读",
                             "The same person is enrolled twice in one school"},
    [EB_QC_DUP_ACROSS_SCHOOLS] = {"duplicate_across_schools", EB_QUALITY_ERROR,
                                  "同一人在多所学校在读",
                                  "The same person is enrolled in several schools"},
    [EB_QC_AGE_GRADE] = {"age_grade_outlier", EB_QUALITY_WARNING, "年龄与年级不符",
                         "Age does not fit the grade"},
    [EB_QC_NO_HEAD_TEACHER] = {"class_without_head_teacher", EB_QUALITY_WARNING, "班级无班主任",
                               "Class without a head teacher"},
    [EB_QC_CLASS_OVERSIZED] = {"class_oversized", EB_QUALITY_WARNING, "大班额（超过55人）",
                               "Large class (over 55 students)"},
    [EB_QC_CLASS_SUPERSIZED] = {"class_super_oversized", EB_QUALITY_ERROR, "超大班额（超过65人）",
                                "Oversized class (over 65 students)"},
    [EB_QC_TEACHER_RATIO] = {"teacher_ratio_below_norm", EB_QUALITY_WARNING, "教职工数低于编制标准",
                             "Staff below the staffing norm"},
    [EB_QC_ENROLLED_IN_CLOSED] = {"enrolled_in_closed_org", EB_QUALITY_ERROR,
                                  "在已撤销的班级或学校在读",
                                  "Enrolled in a closed class or school"},
};

const struct eb_quality_check *eb_quality_checks(void)
{
    return checks;
}

int eb_quality_check_parse(const char *code)
{
    for (int i = 0; code != NULL && i < EB_QC_COUNT; i++)
        if (strcmp(checks[i].code, code) == 0)
            return i;
    return -1;
}

/* Class sizes of POLICY_AND_CODES.md §4.5. */
#define CLASS_LARGE 55
#define CLASS_HUGE  65
/* How far (in years) a student's age may lie from the grade's usual age. */
#define AGE_SLACK 2

/* ---- reads of a run ---------------------------------------------------------------------- */

/*
 * Every statement of a run reads a range of materialised paths, through an index whose leading
 * column is the path, and the database does the joins: the number of statements does not depend
 * on the size of the subtree.
 */
static const char SQL_SCHOOLS[] = "SELECT id, path, name, stages, running_type, closed_on FROM orgs"
                                  " WHERE kind = 3 AND path >= ? AND path < ? ORDER BY id";
/* The current students of the subtree with their class, grade and school. */
static const char SQL_ENROLLED[] =
    "SELECT p.id, p.name, p.birth_date, p.citizen_id_enc, p.citizen_id_mask, e.class_id,"
    " e.class_path, e.school_id, c.school_year, g.grade_code, c.closed_on, g.closed_on,"
    " s.closed_on, s.stages, s.running_type"
    " FROM enrolments e JOIN people p ON p.id = e.person_id JOIN orgs c ON c.id = e.class_id"
    " LEFT JOIN orgs g ON g.id = c.parent_id AND g.kind = 4"
    " LEFT JOIN orgs s ON s.id = e.school_id AND s.kind = 3"
    " WHERE e.end_date IS NULL AND e.class_path >= ? AND e.class_path < ?";
/* Everyone registered in the subtree who is not a current student anywhere (staff, parents,
 * students who left): their records sit at the org that registered them. */
static const char SQL_NOT_ENROLLED[] =
    "SELECT p.id, p.name, p.birth_date, p.citizen_id_enc, p.citizen_id_mask, p.org_id,"
    " p.org_path, p.school_id FROM people p WHERE p.org_path >= ? AND p.org_path < ?"
    " AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.person_id = p.id"
    " AND e.end_date IS NULL)";
/* Current students of the subtree sharing their citizen ID's blind index with another current
 * student: how many such records in the same school, and in how many other schools. */
static const char SQL_DUPLICATES[] =
    "SELECT e.person_id, p.name, e.class_id, e.class_path, e.school_id, p.citizen_id_mask,"
    " SUM(CASE WHEN e2.school_id = e.school_id THEN 1 ELSE 0 END),"
    " COUNT(DISTINCT CASE WHEN e2.school_id <> e.school_id THEN e2.school_id END)"
    " FROM enrolments e JOIN people p ON p.id = e.person_id"
    " JOIN people p2 ON p2.citizen_id_idx = p.citizen_id_idx AND p2.id <> p.id"
    " JOIN enrolments e2 ON e2.person_id = p2.id AND e2.end_date IS NULL"
    " WHERE e.end_date IS NULL AND e.class_path >= ? AND e.class_path < ?"
    " AND p.citizen_id_idx IS NOT NULL"
    " GROUP BY e.person_id, p.name, e.class_id, e.class_path, e.school_id, p.citizen_id_mask";
/* Open classes with their current students and current head teachers (both counted through
 * the partial indexes of current rows). */
static const char SQL_CLASSES[] =
    "SELECT c.id, c.name, c.path,"
    " (SELECT COUNT(*) FROM enrolments e WHERE e.class_id = c.id AND e.end_date IS NULL),"
    " (SELECT COUNT(*) FROM teaching t WHERE t.class_path = c.path AND t.end_date IS NULL"
    " AND t.is_head_teacher = 1)"
    " FROM orgs c WHERE c.kind = 5 AND c.path >= ? AND c.path < ? AND c.closed_on IS NULL";
static const char SQL_STAFF[] =
    "SELECT school_id, COUNT(DISTINCT person_id) FROM posts WHERE end_date IS NULL"
    " AND school_path >= ? AND school_path < ? GROUP BY school_id";

/* ---- writes of a run --------------------------------------------------------------------- */

static const char SQL_RUN_CLAIM[] =
    "INSERT INTO quality_runs (school_id, org_id, org_path, origin, nightly_day, account_id,"
    " started_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id";
static const char SQL_RUN_DROP[] = "DELETE FROM quality_runs WHERE id = ? AND school_id = ?";
static const char SQL_FINDINGS_CLEAR[] =
    "DELETE FROM quality_findings WHERE org_path >= ? AND org_path < ?";
static const char SQL_FINDING_INSERT[] =
    "INSERT INTO quality_findings (school_id, run_id, check_code, org_id, org_path, object_type,"
    " object_id, object_name, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_RUN_FINISH[] =
    "UPDATE quality_runs SET finished_at = ?, n_findings = ?, counts = ? WHERE id = ?"
    " AND school_id = ?";
/* Keeps the newest runs of the org; a run still going (finished_at NULL) is never pruned. */
static const char SQL_RUN_PRUNE[] =
    "DELETE FROM quality_runs WHERE org_id = ? AND finished_at IS NOT NULL AND id NOT IN"
    " (SELECT id FROM quality_runs WHERE org_id = ? ORDER BY id DESC LIMIT ?)";

/* ---- reads of the results ---------------------------------------------------------------- */

#define RUN_COLS                                                                                   \
    "SELECT id, org_id, origin, account_id, started_at, finished_at, n_findings, counts"           \
    " FROM quality_runs"
static const char SQL_LAST_RUN[] =
    RUN_COLS " WHERE org_id IN (?, ?, ?, ?, ?, ?, ?, ?) AND finished_at IS NOT NULL"
             " ORDER BY finished_at DESC, id DESC LIMIT 1";
static const char SQL_ROLLUP_TOTAL[] =
    "SELECT check_code, COUNT(*) FROM quality_findings WHERE org_path >= ? AND org_path < ?"
    " GROUP BY check_code";
/* Each child's subtree is the range [path, path with its last '/' turned into '0'). */
static const char SQL_ROLLUP_CHILDREN[] =
    "SELECT o.id, o.kind, o.name, f.check_code, COUNT(f.id) FROM orgs o"
    " LEFT JOIN quality_findings f ON f.org_path >= o.path"
    " AND f.org_path < substr(o.path, 1, length(o.path) - 1) || '0'"
    " WHERE o.parent_id = ? GROUP BY o.id, o.kind, o.name, f.check_code ORDER BY o.id";
#define FINDING_COLS                                                                               \
    "SELECT f.id, f.run_id, f.check_code, f.object_type, f.object_id, f.object_name, f.org_id,"    \
    " o.name, f.school_id, s.name, f.detail, f.created_at FROM quality_findings f"                 \
    " JOIN orgs o ON o.id = f.org_id LEFT JOIN orgs s ON s.id = f.school_id"                       \
    " WHERE f.org_path >= ? AND f.org_path < ? AND f.id > ?"
static const char SQL_FINDINGS_ALL[] = FINDING_COLS " ORDER BY f.id LIMIT ?";
static const char SQL_FINDINGS_CHECK[] = FINDING_COLS " AND f.check_code = ? ORDER BY f.id LIMIT ?";

/* ---- scope ------------------------------------------------------------------------------- */

/* Administrators and analysts whose grant covers the node read its quality; teachers, students
 * and parents do not (the findings name people across the whole subtree). */
static int may_read(const struct eb_caller *c, const char *path)
{
    if (c->system)
        return 1;
    for (size_t i = 0; i < c->n_grants; i++) {
        enum eb_role r = c->grants[i].role;
        if ((r == EB_ROLE_CITY_ADMIN || r == EB_ROLE_DISTRICT_ADMIN || r == EB_ROLE_SCHOOL_ADMIN ||
             r == EB_ROLE_ANALYST) &&
            eb__path_within(path, c->grants[i].org_path))
            return 1;
    }
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------------- */

/* The id k segments from the end of a materialised path (k = 0: the node itself); 0 when the
 * path is shorter. A class is always two levels below its school (school, grade, class). */
static int64_t path_id_from_end(const char *path, int k)
{
    size_t n = strlen(path);
    if (n < 2 || path[n - 1] != '/')
        return 0;
    size_t end = n - 1; /* the '/' after the wanted segment */
    for (;;) {
        size_t start = end;
        while (start > 0 && path[start - 1] != '/')
            start--;
        if (start == 0)
            return 0;
        if (k-- == 0)
            return strtoll(path + start, NULL, 10);
        end = start - 1;
    }
}

/* The ids of the node and its ancestors, from its path (at most cap). */
static size_t path_ids(const char *path, int64_t *ids, size_t cap)
{
    size_t n = 0;
    for (const char *p = path; *p && n < cap; p++)
        if (*p == '/' && p[1] >= '0' && p[1] <= '9')
            ids[n++] = strtoll(p + 1, NULL, 10);
    return n;
}

static void today_ymd(int *y, int *m, int *d)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    *y = tm.tm_year + 1900;
    *m = tm.tm_mon + 1;
    *d = tm.tm_mday;
}

/* The usual age on 1 September of a grade (§2.5 codes); -1 for an unknown code. */
static int grade_age(const char *code)
{
    if (code == NULL || strlen(code) != 2 || code[0] < '0' || code[0] > '4' || code[1] < '1' ||
        code[1] > '9')
        return -1;
    int n = code[1] - '0';
    switch (code[0]) {
    case '0':
        return n <= 3 ? 2 + n : -1; /* 小班 3 ... 大班 5 */
    case '1':
        return n <= 6 ? 5 + n : -1; /* 一年级 6 ... 六年级 11 */
    case '2':
        return n <= 4 ? 11 + n : -1; /* 初一 12 ... (五四制 初四) 15 */
    case '3':
    case '4':
        return n <= 3 ? 14 + n : -1; /* 高一 or 中职一 15 ... 17 */
    }
    return -1;
}

/* A compact copy of doc in the arena (jansson's own buffers never reach the project's
 * allocator); NULL on failure. */
static char *dump(const json_t *doc, struct eb_arena *a)
{
    size_t n = doc ? json_dumpb(doc, NULL, 0, JSON_COMPACT) : 0;
    char *out = n ? eb_arena_alloc(a, n + 1) : NULL;
    if (out == NULL || json_dumpb(doc, out, n, JSON_COMPACT) != n)
        return NULL;
    out[n] = '\0';
    return out;
}

/* ---- a run in memory --------------------------------------------------------------------- */

struct finding {
    int check;
    const char *object_type;
    int64_t object_id;
    const char *object_name;
    int64_t org_id;
    const char *org_path;
    int64_t school_id;
    const char *detail;
};

struct school {
    int64_t id;
    const char *path, *name;
    unsigned stages;
    int closed, special;
    int64_t students[3]; /* primary, junior, senior: the stages with a staffing norm */
    int64_t staff;
};

struct run {
    struct eb_db *db;
    struct eb_arena *a; /* everything of the run; freed at its end */
    const char *path;
    char hi[EB_PATH_MAX];
    struct finding *f;
    size_t n, cap;
    struct school *schools; /* id order */
    size_t n_schools;
    int today_y, today_m, today_d;
    char today[40]; /* YYYY-MM-DD; sized for any int the compiler cannot rule out */
    struct eb_quality_run *out;
};

/* Adds a finding; detail is a jansson pack format and its values (an object). */
static int add(struct run *r, int check, const char *otype, int64_t oid, const char *oname,
               int64_t org_id, const char *org_path, int64_t school_id, const char *fmt, ...)
{
    struct finding *f = eb_arena_grow(r->a, r->f, r->n, &r->cap, sizeof(*f));
    if (f == NULL)
        return EB_ETOOBIG;
    r->f = f;
    va_list ap;
    va_start(ap, fmt);
    json_t *d = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    char *text = dump(d, r->a);
    json_decref(d);
    if (text == NULL)
        return EB_EINTERNAL;
    /* The passes read their rows into short-lived arenas: what a finding keeps is copied. */
    f[r->n] = (struct finding){.check = check,
                               .object_type = otype,
                               .object_id = oid,
                               .object_name = eb_arena_strdup(r->a, oname),
                               .org_id = org_id,
                               .org_path = eb_arena_strdup(r->a, org_path),
                               .school_id = school_id,
                               .detail = text};
    if (f[r->n].org_path == NULL)
        return EB_ETOOBIG;
    r->n++;
    r->out->counts[check]++;
    return 0;
}

static struct school *find_school(struct run *r, int64_t id)
{
    size_t lo = 0, hi = r->n_schools;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->schools[mid].id == id)
            return &r->schools[mid];
        if (r->schools[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int read_schools(struct run *r)
{
    struct eb__q q;
    size_t cap = 0;
    int rc;
    eb__q_start(r->db, SQL_SCHOOLS, &q);
    eb__q_text(&q, r->path);
    eb__q_text(&q, r->hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct school *s = eb_arena_grow(r->a, r->schools, r->n_schools, &cap, sizeof(*s));
        if (s == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        r->schools = s;
        s = &s[r->n_schools++];
        memset(s, 0, sizeof(*s));
        s->id = eb__q_col_int(&q, 0);
        s->path = eb__q_col_str(&q, 1, r->a);
        s->name = eb__q_col_str(&q, 2, r->a);
        s->stages = (unsigned)eb__q_col_int(&q, 3);
        char *rt = eb__q_col_str(&q, 4, r->a);
        s->special = (s->stages & EB_STAGE_SPECIAL) || (rt != NULL && rt[0] == '5');
        s->closed = !eb__q_col_null(&q, 5);
    }
    eb__q_end(&q);
    r->out->n_schools = (int64_t)r->n_schools;
    return rc < 0 ? rc : 0;
}

/* Where a person's findings sit: the current class, else the registering org. */
struct place {
    int64_t org_id, school_id;
    const char *path;
};

/*
 * The checks of one person's citizen ID and birth date. sealed is the stored ciphertext (NULL
 * when none); the plain ID lives in scratch only while it is checked, and is wiped after.
 */
static int check_identity(struct run *r, struct eb_arena *scratch, int64_t pid, const char *name,
                          const char *birth, const void *sealed, size_t sealed_len,
                          const char *mask, const struct place *at)
{
    int rc = 0, birth_ok = 0;
    if (birth != NULL) {
        birth_ok = eb_date_check(birth, NULL) == 0 && strcmp(birth, r->today) <= 0;
        if (!birth_ok)
            rc = add(r, EB_QC_BIRTH_INVALID, "person", pid, name, at->org_id, at->path,
                     at->school_id, "{s:s}", "birth_date", birth);
        if (rc)
            return rc;
    }
    if (sealed == NULL)
        return 0;
    char *plain = eb__pii_open(r->db->store, sealed, sealed_len, scratch);
    if (plain == NULL)
        return 0; /* logged by eb__pii_open; a key problem is not a data-quality finding */
    size_t len = strlen(plain);
    int digits = len == 18;
    for (size_t i = 0; digits && i < 17; i++)
        digits = plain[i] >= '0' && plain[i] <= '9';
    int last_ok = digits && ((plain[17] >= '0' && plain[17] <= '9') || plain[17] == 'X');
    const char *m = mask ? mask : "";
    if (!last_ok) {
        rc = add(r, EB_QC_ID_MALFORMED, "person", pid, name, at->org_id, at->path, at->school_id,
                 "{s:s}", "citizen_id", m);
    } else if (eb_citizen_id_check_char(plain) != plain[17]) {
        rc = add(r, EB_QC_ID_CHECK_DIGIT, "person", pid, name, at->org_id, at->path, at->school_id,
                 "{s:s}", "citizen_id", m);
    } else if (eb_citizen_id_check(plain, NULL) != 0) {
        rc = add(r, EB_QC_ID_MALFORMED, "person", pid, name, at->org_id, at->path, at->school_id,
                 "{s:s}", "citizen_id", m);
    }
    /* The ID's own birth date (digits 7 to 14) against the registered one, when both are real
     * dates; the finding does not repeat the ID's date, which the masked form hides. */
    if (rc == 0 && digits && birth_ok) {
        char id_birth[11];
        snprintf(id_birth, sizeof(id_birth), "%.4s-%.2s-%.2s", plain + 6, plain + 10, plain + 12);
        if (eb_date_check(id_birth, NULL) == 0 && strcmp(id_birth, birth) != 0)
            rc = add(r, EB_QC_BIRTH_MISMATCH, "person", pid, name, at->org_id, at->path,
                     at->school_id, "{s:s, s:s}", "birth_date", birth, "citizen_id", m);
        sodium_memzero(id_birth, sizeof(id_birth));
    }
    sodium_memzero(plain, len);
    return rc;
}

/* Full years on 1 September of school_year for a valid YYYY-MM-DD birth date. */
static int age_on_sept1(const char *birth, int school_year)
{
    int y = (int)strtol(birth, NULL, 10), m = (int)strtol(birth + 5, NULL, 10),
        d = (int)strtol(birth + 8, NULL, 10);
    int age = school_year - y;
    if (m > 9 || (m == 9 && d > 1))
        age--;
    return age;
}

/* Opened citizen IDs are wiped one by one; the scratch arena holding them is renewed every so
 * many rows so that a city's run does not keep 850,000 of them. */
#define SCRATCH_ROWS 4096

static int pass_enrolled(struct run *r)
{
    struct eb__q q;
    struct eb_arena *scratch = eb_arena_create(0);
    int rc, rows = 0;
    eb__q_start(r->db, SQL_ENROLLED, &q);
    eb__q_text(&q, r->path);
    eb__q_text(&q, r->hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        if (++rows % SCRATCH_ROWS == 0) {
            eb_arena_destroy(scratch);
            scratch = eb_arena_create(0);
        }
        int64_t pid = eb__q_col_int(&q, 0);
        const char *name = eb__q_col_str(&q, 1, scratch);
        const char *birth = eb__q_col_str(&q, 2, scratch);
        size_t sealed_len = 0;
        const void *sealed = eb__q_col_null(&q, 3) ? NULL : eb__q_col_blob(&q, 3, &sealed_len);
        const char *mask = eb__q_col_str(&q, 4, scratch);
        struct place at = {.org_id = eb__q_col_int(&q, 5),
                           .path = eb__q_col_str(&q, 6, scratch),
                           .school_id = eb__q_col_int(&q, 7)};
        int school_year = eb__q_col_null(&q, 8) ? 0 : (int)eb__q_col_int(&q, 8);
        const char *grade = eb__q_col_str(&q, 9, scratch);
        const char *closed_class = eb__q_col_str(&q, 10, scratch);
        const char *closed_grade = eb__q_col_str(&q, 11, scratch);
        const char *closed_school = eb__q_col_str(&q, 12, scratch);
        unsigned stages = (unsigned)eb__q_col_int(&q, 13);
        const char *rt = eb__q_col_str(&q, 14, scratch);
        r->out->n_people++;

        rc = check_identity(r, scratch, pid, name, birth, sealed, sealed_len, mask, &at);
        if (rc)
            break;
        /* The detail keeps the birth date only once it is a real one. */
        int special = (stages & EB_STAGE_SPECIAL) || (rt != NULL && rt[0] == '5');
        int usual = grade_age(grade);
        if (birth && usual >= 0 && !special && eb_date_check(birth, NULL) == 0 &&
            strcmp(birth, r->today) <= 0) {
            int year = school_year ? school_year : (r->today_m >= 9 ? r->today_y : r->today_y - 1);
            int age = age_on_sept1(birth, year);
            if (age < usual - AGE_SLACK || age > usual + AGE_SLACK)
                rc = add(r, EB_QC_AGE_GRADE, "person", pid, name, at.org_id, at.path, at.school_id,
                         "{s:i, s:i, s:s, s:s, s:i}", "age", age, "usual_age", usual, "grade_code",
                         grade, "birth_date", birth, "school_year", year);
            if (rc)
                break;
        }
        const char *closed_on = closed_class   ? closed_class
                                : closed_grade ? closed_grade
                                               : closed_school;
        const char *closed_what = closed_class ? "class" : closed_grade ? "grade" : "school";
        if (closed_on != NULL) {
            rc = add(r, EB_QC_ENROLLED_IN_CLOSED, "person", pid, name, at.org_id, at.path,
                     at.school_id, "{s:s, s:s}", "closed", closed_what, "closed_on", closed_on);
            if (rc)
                break;
        }
        /* Students per staffing-norm stage, for the school's ratio below. */
        struct school *s = find_school(r, at.school_id);
        if (s != NULL && grade != NULL && grade[0] >= '1' && grade[0] <= '3')
            s->students[grade[0] - '1']++;
    }
    eb__q_end(&q);
    eb_arena_destroy(scratch);
    return rc < 0 ? rc : 0;
}

static int pass_not_enrolled(struct run *r)
{
    struct eb__q q;
    struct eb_arena *scratch = eb_arena_create(0);
    int rc, rows = 0;
    eb__q_start(r->db, SQL_NOT_ENROLLED, &q);
    eb__q_text(&q, r->path);
    eb__q_text(&q, r->hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        if (++rows % SCRATCH_ROWS == 0) {
            eb_arena_destroy(scratch);
            scratch = eb_arena_create(0);
        }
        int64_t pid = eb__q_col_int(&q, 0);
        const char *name = eb__q_col_str(&q, 1, scratch);
        const char *birth = eb__q_col_str(&q, 2, scratch);
        size_t sealed_len = 0;
        const void *sealed = eb__q_col_null(&q, 3) ? NULL : eb__q_col_blob(&q, 3, &sealed_len);
        const char *mask = eb__q_col_str(&q, 4, scratch);
        struct place at = {.org_id = eb__q_col_int(&q, 5),
                           .path = eb__q_col_str(&q, 6, scratch),
                           .school_id = eb__q_col_int(&q, 7)};
        r->out->n_people++;
        rc = check_identity(r, scratch, pid, name, birth, sealed, sealed_len, mask, &at);
        if (rc)
            break;
    }
    eb__q_end(&q);
    eb_arena_destroy(scratch);
    return rc < 0 ? rc : 0;
}

static int pass_duplicates(struct run *r)
{
    struct eb__q q;
    int rc;
    eb__q_start(r->db, SQL_DUPLICATES, &q);
    eb__q_text(&q, r->path);
    eb__q_text(&q, r->hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        int64_t pid = eb__q_col_int(&q, 0);
        const char *name = eb__q_col_str(&q, 1, r->a);
        struct place at = {.org_id = eb__q_col_int(&q, 2),
                           .path = eb__q_col_str(&q, 3, r->a),
                           .school_id = eb__q_col_int(&q, 4)};
        const char *mask = eb__q_col_str(&q, 5, r->a);
        int64_t same = eb__q_col_int(&q, 6), others = eb__q_col_int(&q, 7);
        rc = 0;
        if (same > 0)
            rc = add(r, EB_QC_DUP_IN_SCHOOL, "person", pid, name, at.org_id, at.path, at.school_id,
                     "{s:s, s:I}", "citizen_id", mask ? mask : "", "records", (json_int_t)same + 1);
        if (rc == 0 && others > 0)
            rc = add(r, EB_QC_DUP_ACROSS_SCHOOLS, "person", pid, name, at.org_id, at.path,
                     at.school_id, "{s:s, s:I}", "citizen_id", mask ? mask : "", "schools",
                     (json_int_t)others + 1);
        if (rc)
            break;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static int pass_classes(struct run *r)
{
    struct eb__q q;
    int rc;
    eb__q_start(r->db, SQL_CLASSES, &q);
    eb__q_text(&q, r->path);
    eb__q_text(&q, r->hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        int64_t id = eb__q_col_int(&q, 0);
        const char *name = eb__q_col_str(&q, 1, r->a);
        const char *path = eb__q_col_str(&q, 2, r->a);
        int64_t students = eb__q_col_int(&q, 3), heads = eb__q_col_int(&q, 4);
        int64_t school = path ? path_id_from_end(path, 2) : 0;
        r->out->n_classes++;
        rc = 0;
        /* An empty class has nobody to look after: it is not yet (or no longer) running. */
        if (heads == 0 && students > 0)
            rc = add(r, EB_QC_NO_HEAD_TEACHER, "class", id, name, id, path, school, "{s:I}",
                     "students", (json_int_t)students);
        if (rc == 0 && students > CLASS_HUGE)
            rc = add(r, EB_QC_CLASS_SUPERSIZED, "class", id, name, id, path, school, "{s:I, s:i}",
                     "students", (json_int_t)students, "limit", CLASS_HUGE);
        else if (rc == 0 && students > CLASS_LARGE)
            rc = add(r, EB_QC_CLASS_OVERSIZED, "class", id, name, id, path, school, "{s:I, s:i}",
                     "students", (json_int_t)students, "limit", CLASS_LARGE);
        if (rc)
            break;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/*
 * Staff (people with a current post) against the norms of §4.5 (中央编办 2014): one staff
 * member per 19 primary, 13.5 junior and 12.5 senior students. A school of several stages needs
 * the sum; preschool, vocational and special classes have no norm here and are not counted.
 */
static int pass_ratio(struct run *r)
{
    static const double per_staff[3] = {19.0, 13.5, 12.5};
    struct eb__q q;
    int rc;
    eb__q_start(r->db, SQL_STAFF, &q);
    eb__q_text(&q, r->path);
    eb__q_text(&q, r->hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct school *s = find_school(r, eb__q_col_int(&q, 0));
        if (s != NULL)
            s->staff = eb__q_col_int(&q, 1);
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < r->n_schools; i++) {
        struct school *s = &r->schools[i];
        double need = 0;
        int64_t students = 0;
        for (int k = 0; k < 3; k++) {
            need += (double)s->students[k] / per_staff[k];
            students += s->students[k];
        }
        if (s->closed || students == 0 || (double)s->staff >= need)
            continue;
        rc = add(r, EB_QC_TEACHER_RATIO, "school", s->id, s->name, s->id, s->path, s->id,
                 "{s:I, s:I, s:I, s:I, s:I, s:I}", "students", (json_int_t)students, "staff",
                 (json_int_t)s->staff, "required", (json_int_t)ceil(need), "primary",
                 (json_int_t)s->students[0], "junior", (json_int_t)s->students[1], "senior",
                 (json_int_t)s->students[2]);
        if (rc)
            return rc;
    }
    return 0;
}

static int claim(struct run *r, const struct eb_caller *c, int64_t org_id, int64_t unit,
                 const char *origin, const char *nightly_day)
{
    struct eb__q q;
    eb__q_start(r->db, SQL_RUN_CLAIM, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, org_id);
    eb__q_text(&q, r->path);
    eb__q_text(&q, origin);
    eb__q_text(&q, nightly_day);
    if (c->account_id)
        eb__q_int(&q, c->account_id);
    else
        eb__q_null(&q);
    eb__q_int(&q, r->out->started_at);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        r->out->id = eb__q_col_int(&q, 0);
        eb__q_exec(&q);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    return rc;
}

static json_t *counts_json(const struct eb_quality_run *run)
{
    json_t *j = json_object();
    for (int i = 0; i < EB_QC_COUNT; i++)
        json_object_set_new(j, checks[i].code, json_integer(run->counts[i]));
    return j;
}

/* Replaces the findings of the scope with the run's, finishes the run row and prunes old ones,
 * in one transaction with the audit row. */
static int store_findings(struct run *r, const struct eb_caller *c, int64_t org_id, int64_t unit)
{
    struct eb__q q = {0};
    int own = 0;
    int rc = eb__tx_enter(r->db, c, &own);
    if (rc != 0)
        return rc;
    eb__q_start(r->db, SQL_FINDINGS_CLEAR, &q);
    eb__q_text(&q, r->path);
    eb__q_text(&q, r->hi);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    rc = 0;
    int64_t now = eb__now_ms();
    for (size_t i = 0; i < r->n; i++) {
        const struct finding *f = &r->f[i];
        eb__q_start(r->db, SQL_FINDING_INSERT, &q);
        eb__q_int(&q, f->school_id);
        eb__q_int(&q, r->out->id);
        eb__q_text(&q, checks[f->check].code);
        eb__q_int(&q, f->org_id);
        eb__q_text(&q, f->org_path);
        eb__q_text(&q, f->object_type);
        eb__q_int(&q, f->object_id);
        eb__q_text(&q, f->object_name);
        eb__q_text(&q, f->detail);
        eb__q_int(&q, now);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        if (rc < 0)
            goto done;
        rc = 0;
    }
    r->out->finished_at = eb__now_ms();
    r->out->n_findings = (int64_t)r->n;
    json_t *counts = counts_json(r->out);
    char *text = dump(counts, r->a);
    eb__q_start(r->db, SQL_RUN_FINISH, &q);
    eb__q_int(&q, r->out->finished_at);
    eb__q_int(&q, r->out->n_findings);
    eb__q_text(&q, text);
    eb__q_int(&q, r->out->id);
    eb__q_int(&q, unit);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc >= 0) {
        eb__q_start(r->db, SQL_RUN_PRUNE, &q);
        eb__q_int(&q, org_id);
        eb__q_int(&q, org_id);
        eb__q_int(&q, EB_QUALITY_KEEP_RUNS);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
    }
    if (rc >= 0) {
        json_t *after =
            json_pack("{s:I, s:s, s:I, s:o}", "run_id", (json_int_t)r->out->id, "origin",
                      r->out->origin, "findings", (json_int_t)r->out->n_findings, "counts", counts);
        counts = NULL;
        rc = eb__audit_write(r->db, c, "quality.run", "org", org_id, r->path, NULL, after);
    }
    json_decref(counts);
done:
    eb__q_end(&q);
    return eb__tx_leave(r->db, own, rc < 0 ? rc : 0);
}

int eb_store_quality_run(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                         const char *origin, const char *nightly_day, struct eb_quality_run *out)
{
    char path[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    int64_t unit = 0;
    struct run r = {.db = db, .out = out};
    memset(out, 0, sizeof(*out));
    if (origin == NULL || (strcmp(origin, "manual") != 0 && strcmp(origin, "nightly") != 0 &&
                           strcmp(origin, "cli") != 0))
        return EB_EINVAL;
    int rc = eb__org_path(db, org_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return may_read(c, path) ? EB_EDENIED : EB_ENOTFOUND;
    rc = eb__org_unit(db, path, kind, &unit);
    if (rc != 0)
        return rc;
    r.a = eb_arena_create(0);
    r.path = path;
    eb__path_hi(path, r.hi);
    today_ymd(&r.today_y, &r.today_m, &r.today_d);
    snprintf(r.today, sizeof(r.today), "%04d-%02d-%02d", r.today_y, r.today_m, r.today_d);
    out->org_id = org_id;
    out->origin = strcmp(origin, "manual") == 0    ? "manual"
                  : strcmp(origin, "nightly") == 0 ? "nightly"
                                                   : "cli";
    out->account_id = c->account_id;
    out->started_at = eb__now_ms();
    /* The run's row first, on its own: it claims a nightly day, and shows a run in progress. */
    rc = claim(&r, c, org_id, unit, out->origin, nightly_day);
    if (rc != 0)
        goto done;
    /* One snapshot for every read of the run (where the backend offers one). */
    eb_db_read_begin(db);
    rc = read_schools(&r);
    if (rc == 0)
        rc = pass_enrolled(&r);
    if (rc == 0)
        rc = pass_not_enrolled(&r);
    if (rc == 0)
        rc = pass_duplicates(&r);
    if (rc == 0)
        rc = pass_classes(&r);
    if (rc == 0)
        rc = pass_ratio(&r);
    eb_db_read_end(db);
    if (rc == 0)
        rc = store_findings(&r, c, org_id, unit);
    if (rc != 0) {
        /* A failed run leaves no half row behind: a nightly day may be tried again. */
        struct eb__q q;
        eb__q_start(db, SQL_RUN_DROP, &q);
        eb__q_int(&q, out->id);
        eb__q_int(&q, unit);
        eb__q_exec(&q);
        eb__q_end(&q);
    }
done:
    eb_arena_destroy(r.a);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

static const char SQL_ROOTS[] = "SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY id";

int eb_store_quality_nightly(struct eb_db *db, const char *day, int *n_runs, int64_t *n_findings)
{
    static const struct eb_caller sys = {.system = 1};
    int64_t roots[16];
    size_t n = 0;
    struct eb__q q;
    int rc;
    *n_runs = 0;
    *n_findings = 0;
    /* An installation serves one city, or a few side by side; the roots are read first so that
     * no statement stays open across the runs. */
    eb__q_start(db, SQL_ROOTS, &q);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW && n < sizeof(roots) / sizeof(roots[0]))
        roots[n++] = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct eb_quality_run run;
        rc = eb_store_quality_run(db, &sys, roots[i], "nightly", day, &run);
        if (rc == EB_EEXIST)
            continue; /* another server of the same database runs this day */
        if (rc != 0)
            return rc;
        (*n_runs)++;
        *n_findings += run.n_findings;
    }
    return 0;
}

/* ---- results ----------------------------------------------------------------------------- */

static void read_counts(const char *text, int64_t counts[EB_QC_COUNT])
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    for (int i = 0; i < EB_QC_COUNT; i++) {
        json_t *v = j ? json_object_get(j, checks[i].code) : NULL;
        counts[i] = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
    }
    json_decref(j);
}

int eb_store_quality_last_run(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                              struct eb_arena *a, struct eb_quality_run *out)
{
    char path[EB_PATH_MAX];
    int64_t ids[8];
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    int rc = eb__org_path(db, org_id, path, NULL);
    if (rc != 0)
        return rc;
    if (!may_read(c, path))
        return EB_ENOTFOUND;
    size_t n = path_ids(path, ids, 8);
    if (n == 0)
        return EB_ENOTFOUND;
    eb__q_start(db, SQL_LAST_RUN, &q);
    /* Deeper trees than eight levels do not exist (city to class is five); the unused slots
     * repeat the node. */
    for (size_t i = 0; i < 8; i++)
        eb__q_int(&q, ids[i < n ? i : n - 1]);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        out->id = eb__q_col_int(&q, 0);
        out->org_id = eb__q_col_int(&q, 1);
        out->origin = eb__q_col_str(&q, 2, a);
        out->account_id = eb__q_col_null(&q, 3) ? 0 : eb__q_col_int(&q, 3);
        out->started_at = eb__q_col_int(&q, 4);
        out->finished_at = eb__q_col_int(&q, 5);
        out->n_findings = eb__q_col_int(&q, 6);
        char *counts = eb__q_col_str(&q, 7, a);
        read_counts(counts, out->counts);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

int eb_store_quality_rollup(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                            struct eb_arena *a, struct eb_quality_rollup *total, size_t *n,
                            struct eb_quality_rollup **children)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    struct eb__q q;
    size_t cap = 0;
    memset(total, 0, sizeof(*total));
    *n = 0;
    *children = NULL;
    int rc = eb__org_path(db, org_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!may_read(c, path))
        return EB_ENOTFOUND;
    eb__path_hi(path, hi);
    total->org_id = org_id;
    total->kind = kind;
    eb__q_start(db, SQL_ROLLUP_TOTAL, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        int k = eb_quality_check_parse(q.db->be->col_text(q.stmt, 0, NULL));
        int64_t v = eb__q_col_int(&q, 1);
        if (k >= 0)
            total->counts[k] = v;
        total->total += v;
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    eb__q_start(db, SQL_ROLLUP_CHILDREN, &q);
    eb__q_int(&q, org_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        int64_t id = eb__q_col_int(&q, 0);
        if (*n == 0 || (*children)[*n - 1].org_id != id) {
            struct eb_quality_rollup *g = eb_arena_grow(a, *children, *n, &cap, sizeof(*g));
            if (g == NULL) {
                rc = EB_ETOOBIG;
                break;
            }
            *children = g;
            memset(&g[*n], 0, sizeof(g[*n]));
            g[*n].org_id = id;
            g[*n].kind = (enum eb_org_kind)eb__q_col_int(&q, 1);
            g[*n].name = eb__q_col_str(&q, 2, a);
            (*n)++;
        }
        struct eb_quality_rollup *row = &(*children)[*n - 1];
        if (eb__q_col_null(&q, 3))
            continue;
        int k = eb_quality_check_parse(q.db->be->col_text(q.stmt, 3, NULL));
        int64_t v = eb__q_col_int(&q, 4);
        if (k >= 0)
            row->counts[k] = v;
        row->total += v;
    }
    eb__q_end(&q);
    if (rc < 0) {
        *n = 0;
        *children = NULL;
        return rc;
    }
    return 0;
}

int eb_store_quality_findings(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                              int check, int64_t after, int limit, struct eb_arena *a, size_t *n,
                              struct eb_quality_finding **items, int64_t *next)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    struct eb__q q;
    *n = 0;
    *items = NULL;
    *next = 0;
    if (limit < 1 || limit > 500 || check >= EB_QC_COUNT)
        return EB_EINVAL;
    int rc = eb__org_path(db, org_id, path, NULL);
    if (rc != 0)
        return rc;
    if (!may_read(c, path))
        return EB_ENOTFOUND;
    eb__path_hi(path, hi);
    struct eb_quality_finding *out = eb_arena_alloc(a, sizeof(*out) * (size_t)limit);
    if (out == NULL)
        return EB_ETOOBIG;
    eb__q_start(db, check >= 0 ? SQL_FINDINGS_CHECK : SQL_FINDINGS_ALL, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    eb__q_int(&q, after);
    if (check >= 0)
        eb__q_text(&q, checks[check].code);
    /* One row more than asked tells whether a next page exists. */
    eb__q_int(&q, limit + 1);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        if (*n == (size_t)limit) {
            *next = out[*n - 1].id;
            break;
        }
        struct eb_quality_finding *f = &out[(*n)++];
        f->id = eb__q_col_int(&q, 0);
        f->run_id = eb__q_col_int(&q, 1);
        f->check = eb_quality_check_parse(q.db->be->col_text(q.stmt, 2, NULL));
        if (f->check < 0)
            f->check = 0;
        f->object_type = eb__q_col_str(&q, 3, a);
        f->object_id = eb__q_col_int(&q, 4);
        f->object_name = eb__q_col_str(&q, 5, a);
        f->org_id = eb__q_col_int(&q, 6);
        f->org_name = eb__q_col_str(&q, 7, a);
        f->school_id = eb__q_col_int(&q, 8);
        f->school_name = eb__q_col_str(&q, 9, a);
        f->detail = eb__q_col_str(&q, 10, a);
        f->created_at = eb__q_col_int(&q, 11);
    }
    eb__q_end(&q);
    if (rc < 0) {
        *n = 0;
        *next = 0;
        return rc;
    }
    *items = out;
    return 0;
}

#ifdef EB_TESTING
static const char SQL_TEST_CLOSE[] = "UPDATE orgs SET closed_on = ? WHERE id = ?";

int eb_store_quality_test_close(struct eb_db *db, int64_t org_id, const char *date)
{
    struct eb__q q;
    eb__q_start(db, SQL_TEST_CLOSE, &q);
    eb__q_text(&q, date);
    eb__q_int(&q, org_id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}
#endif
