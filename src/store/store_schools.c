/* Schools and classes: closing and merging schools, teaching points, class lists and sizes,
 * class teachers and the head teacher, school codes that are never reused. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "registry/registry_ids.h"

/* ---- grades ----------------------------------------------------------------------------- */

static const struct {
    const char *code, *name, *prefix;
} grades[] = {
    {"01", "小班", "小"},       {"02", "中班", "中"},       {"03", "大班", "大"},
    {"11", "一年级", "一年级"}, {"12", "二年级", "二年级"}, {"13", "三年级", "三年级"},
    {"14", "四年级", "四年级"}, {"15", "五年级", "五年级"}, {"16", "六年级", "六年级"},
    {"21", "七年级", "七年级"}, {"22", "八年级", "八年级"}, {"23", "九年级", "九年级"},
    {"24", "初四年级", "初四"}, {"31", "高一年级", "高一"}, {"32", "高二年级", "高二"},
    {"33", "高三年级", "高三"}, {"41", "中职一年级", NULL}, {"42", "中职二年级", NULL},
    {"43", "中职三年级", NULL},
};
#define N_GRADES (sizeof(grades) / sizeof(grades[0]))

static int grade_index(const char *code)
{
    for (size_t i = 0; code != NULL && i < N_GRADES; i++)
        if (strcmp(grades[i].code, code) == 0)
            return (int)i;
    return -1;
}

const char *eb__grade_name(const char *code)
{
    int i = grade_index(code);
    return i < 0 ? NULL : grades[i].name;
}

const char *eb__grade_class_prefix(const char *code)
{
    int i = grade_index(code);
    return i < 0 ? NULL : grades[i].prefix;
}

static const char SQL_GRADE_FIND[] =
    "SELECT id FROM orgs WHERE parent_id = ? AND kind = 4 AND grade_code = ?"
    " AND closed_on IS NULL ORDER BY id LIMIT 1";

int eb__school_grade(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                     const char *code, int create, int64_t *grade_id, int *created)
{
    struct eb__q q;
    *grade_id = 0;
    if (created)
        *created = 0;
    eb__q_start(db, SQL_GRADE_FIND, &q);
    eb__q_int(&q, school_id);
    eb__q_text(&q, code);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        *grade_id = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    if (*grade_id != 0)
        return 0;
    const char *name = eb__grade_name(code);
    if (!create || name == NULL)
        return name == NULL ? EB_EINVAL : EB_ENOTFOUND;
    struct eb_org g = {
        .parent_id = school_id, .kind = EB_ORG_GRADE, .name = name, .grade_code = code};
    rc = eb_store_org_create(db, c, &g, grade_id);
    if (rc == 0 && created)
        *created = 1;
    return rc;
}

/* ---- school codes ----------------------------------------------------------------------- */

static const char SQL_CODE_GET[] = "SELECT org_id FROM school_codes WHERE code = ?";
static const char SQL_CODE_ADD[] =
    "INSERT INTO school_codes (code, org_id, created_at) VALUES (?, ?, ?)";

int eb__school_code_claim(struct eb_db *db, const char *code, int64_t org_id)
{
    struct eb__q q;
    int64_t holder = 0;
    if (code == NULL)
        return 0;
    eb__q_start(db, SQL_CODE_GET, &q);
    eb__q_text(&q, code);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        holder = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    if (holder != 0)
        return holder == org_id ? 0 : EB_EEXIST;
    eb__q_start(db, SQL_CODE_ADD, &q);
    eb__q_text(&q, code);
    eb__q_int(&q, org_id);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* ---- reading a school ------------------------------------------------------------------- */

static const char SQL_SCHOOL_ROW[] =
    "SELECT o.id, o.kind, o.name, o.path, o.school_code, o.closed_on, o.merged_into,"
    " o.central_school_id, o.parent_id, m.name, cs.name,"
    " (SELECT COUNT(*) FROM orgs t WHERE t.central_school_id = o.id AND t.closed_on IS NULL)"
    " FROM orgs o LEFT JOIN orgs m ON m.id = o.merged_into"
    " LEFT JOIN orgs cs ON cs.id = o.central_school_id WHERE o.id = ?";

struct school {
    struct eb_school_info info;
    enum eb_org_kind kind;
    int64_t parent_id;
    char parent_path[EB_PATH_MAX];
};

/* Reads any org as a school candidate (no scope check). */
static int school_row(struct eb_db *db, int64_t id, struct eb_arena *a, struct school *s)
{
    struct eb__q q;
    memset(s, 0, sizeof(*s));
    eb__q_start(db, SQL_SCHOOL_ROW, &q);
    eb__q_int(&q, id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        struct eb_school_info *i = &s->info;
        i->id = eb__q_col_int(&q, 0);
        s->kind = (enum eb_org_kind)eb__q_col_int(&q, 1);
        i->name = eb__q_col_str(&q, 2, a);
        i->path = eb__q_col_str(&q, 3, a);
        i->school_code = eb__q_col_str(&q, 4, a);
        i->closed_on = eb__q_col_str(&q, 5, a);
        i->merged_into = eb__q_col_int(&q, 6);
        i->central_school_id = eb__q_col_int(&q, 7);
        s->parent_id = eb__q_col_int(&q, 8);
        i->merged_into_name = eb__q_col_str(&q, 9, a);
        i->central_school_name = eb__q_col_str(&q, 10, a);
        i->n_teaching_points = eb__q_col_int(&q, 11);
        rc = i->path != NULL ? 0 : EB_ESTORE;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc == 0 && s->parent_id != 0)
        rc = eb__org_path(db, s->parent_id, s->parent_path, NULL);
    return rc;
}

/*
 * A school the caller may see (EB_ENOTFOUND otherwise, like a missing id), of kind school
 * (EB_EINVAL). With bureau set the caller must also be able to write the school's parent:
 * closing and merging are the bureau's decisions (EB_EDENIED inside the scope).
 */
static int school_for(struct eb_db *db, const struct eb_caller *c, int64_t id, int bureau,
                      struct eb_arena *a, struct school *s)
{
    int rc = school_row(db, id, a, s);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, s->info.path, EB_ACCESS_READ))
        return EB_ENOTFOUND;
    if (s->kind != EB_ORG_SCHOOL)
        return EB_EINVAL;
    if (bureau && !eb_caller_allows(c, s->parent_path, EB_ACCESS_WRITE))
        return EB_EDENIED;
    return 0;
}

int eb_store_school_info(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                         struct eb_arena *a, struct eb_school_info *out)
{
    struct school s;
    memset(out, 0, sizeof(*out));
    int rc = school_for(db, c, school_id, 0, a, &s);
    if (rc == 0)
        *out = s.info;
    return rc;
}

static json_t *school_json(const struct eb_school_info *i)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(i->id));
    json_object_set_new(j, "name", json_string(i->name ? i->name : ""));
    json_object_set_new(j, "closed_on", i->closed_on ? json_string(i->closed_on) : json_null());
    json_object_set_new(j, "merged_into",
                        i->merged_into ? json_integer(i->merged_into) : json_null());
    json_object_set_new(j, "central_school_id",
                        i->central_school_id ? json_integer(i->central_school_id) : json_null());
    return j;
}

/* ---- closing ---------------------------------------------------------------------------- */

static const char SQL_CURRENT_STUDENTS[] =
    "SELECT COUNT(*) FROM enrolments WHERE end_date IS NULL AND class_path >= ? AND class_path < ?";
static const char SQL_CLOSE_BELOW[] =
    "UPDATE orgs SET closed_on = ? WHERE closed_on IS NULL AND kind IN (4, 5) AND path >= ?"
    " AND path < ?";
static const char SQL_END_TEACHING_BELOW[] = "UPDATE teaching SET end_date = ? WHERE end_date IS "
                                             "NULL AND class_path >= ? AND class_path < ?";
static const char SQL_END_POSTS[] =
    "UPDATE posts SET end_date = ? WHERE school_id = ? AND end_date IS NULL";
static const char SQL_SCHOOL_CLOSE[] =
    "UPDATE orgs SET closed_on = ?, merged_into = ? WHERE id = ? AND closed_on IS NULL";
static const char SQL_POINTS_MOVE[] =
    "UPDATE orgs SET central_school_id = ? WHERE central_school_id = ?";
static const char SQL_POINTS_DETACH[] =
    "UPDATE orgs SET central_school_id = NULL WHERE central_school_id = ?";

static int exec_text_range(struct eb_db *db, const char *sql, const char *v, const char *path)
{
    char hi[EB_PATH_MAX];
    struct eb__q q;
    eb__path_hi(path, hi);
    eb__q_start(db, sql, &q);
    eb__q_text(&q, v);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static int count_range(struct eb_db *db, const char *sql, const char *path, int64_t *n)
{
    char hi[EB_PATH_MAX];
    struct eb__q q;
    *n = 0;
    eb__path_hi(path, hi);
    eb__q_start(db, sql, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        *n = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static int exec_text_int(struct eb_db *db, const char *sql, const char *t, int64_t v)
{
    struct eb__q q;
    eb__q_start(db, sql, &q);
    eb__q_text(&q, t);
    eb__q_int(&q, v);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static int exec_int_int(struct eb_db *db, const char *sql, int64_t a1, int64_t a2)
{
    struct eb__q q;
    eb__q_start(db, sql, &q);
    if (a1)
        eb__q_int(&q, a1);
    else
        eb__q_null(&q);
    eb__q_int(&q, a2);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* Closes the school row itself and everything under it; ends its posts and teaching. */
static int close_school_rows(struct eb_db *db, const struct school *s, const char *date,
                             int64_t merged_into)
{
    int rc = exec_text_range(db, SQL_CLOSE_BELOW, date, s->info.path);
    if (rc == 0)
        rc = exec_text_range(db, SQL_END_TEACHING_BELOW, date, s->info.path);
    if (rc == 0)
        rc = exec_text_int(db, SQL_END_POSTS, date, s->info.id);
    if (rc == 0) {
        struct eb__q q;
        eb__q_start(db, SQL_SCHOOL_CLOSE, &q);
        eb__q_text(&q, date);
        if (merged_into)
            eb__q_int(&q, merged_into);
        else
            eb__q_null(&q);
        eb__q_int(&q, s->info.id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        rc = rc < 0 ? rc : 0;
    }
    return rc;
}

static int check_date_arg(const struct eb_caller *c, const char *date)
{
    if (date == NULL || strlen(date) != 10)
        return EB_EINVAL;
    return c->system || eb_date_check(date, NULL) == 0 ? 0 : EB_EINVAL;
}

static void set_why(const char **why, const char *v)
{
    if (why)
        *why = v;
}

int eb_store_school_close(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                          const char *date, const char **why)
{
    struct eb_arena *a = eb_arena_create(0);
    struct school s, after;
    int own = 0, rc;
    set_why(why, NULL);
    rc = check_date_arg(c, date);
    if (rc != 0)
        goto done;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    rc = school_for(db, c, school_id, 1, a, &s);
    if (rc != 0)
        goto done;
    if (s.info.closed_on != NULL) {
        set_why(why, EB_WHY_SCHOOL_CLOSED);
        rc = EB_ECONFLICT;
        goto done;
    }
    int64_t n = 0;
    rc = count_range(db, SQL_CURRENT_STUDENTS, s.info.path, &n);
    if (rc != 0)
        goto done;
    if (n > 0) {
        set_why(why, EB_WHY_SCHOOL_HAS_STUDENTS);
        rc = EB_ECONFLICT;
        goto done;
    }
    rc = close_school_rows(db, &s, date, 0);
    /* Its teaching points stay open and become schools of their own. */
    if (rc == 0) {
        struct eb__q q;
        eb__q_start(db, SQL_POINTS_DETACH, &q);
        eb__q_int(&q, school_id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        rc = school_row(db, school_id, a, &after);
    if (rc == 0)
        rc = eb__audit_write(db, c, "school.close", "org", school_id, s.info.path,
                             school_json(&s.info), school_json(&after.info));
    if (rc == 0)
        rc = eb__org_changed(db, c, s.info.path);
done:
    rc = eb__tx_leave(db, own, rc);
    eb_arena_destroy(a);
    return rc;
}

/* ---- merging ---------------------------------------------------------------------------- */

static const char SQL_OPEN_CLASSES[] =
    "SELECT c.id, c.name, c.school_year, g.grade_code FROM orgs c JOIN orgs g ON g.id = c.parent_id"
    " WHERE c.kind = 5 AND c.closed_on IS NULL AND c.path >= ? AND c.path < ? ORDER BY c.id";
static const char SQL_CLASS_ENROLMENTS[] =
    "SELECT id, person_id FROM enrolments WHERE class_id = ? AND end_date IS NULL ORDER BY id";
static const char SQL_SCHOOL_POSTS[] =
    "SELECT id, person_id, title, subjects FROM posts WHERE school_id = ? AND end_date IS NULL"
    " ORDER BY id";
static const char SQL_SCHOOL_TEACHING[] =
    "SELECT post_id, class_id, subject, is_head_teacher FROM teaching WHERE end_date IS NULL"
    " AND class_path >= ? AND class_path < ? ORDER BY id";

struct merge_class {
    int64_t old_id, new_id;
    const char *name, *grade_code;
    int school_year;
};
struct merge_post {
    int64_t old_id, new_id, person_id;
    const char *title, *subjects;
};
struct merge_teach {
    int64_t post_id, class_id;
    const char *subject;
    int head;
};

/* Reads every row of a statement bound with the range of path into an arena array. */
static int read_classes(struct eb_db *db, const char *path, struct eb_arena *a, size_t *n,
                        struct merge_class **out)
{
    char hi[EB_PATH_MAX];
    struct eb__q q;
    size_t cap = 0;
    struct merge_class *v = NULL;
    int rc;
    *n = 0;
    eb__path_hi(path, hi);
    eb__q_start(db, SQL_OPEN_CLASSES, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct merge_class *m = &v[(*n)++];
        memset(m, 0, sizeof(*m));
        m->old_id = eb__q_col_int(&q, 0);
        m->name = eb__q_col_str(&q, 1, a);
        m->school_year = (int)eb__q_col_int(&q, 2);
        m->grade_code = eb__q_col_str(&q, 3, a);
    }
    eb__q_end(&q);
    *out = v;
    return rc < 0 ? rc : 0;
}

static int read_posts(struct eb_db *db, int64_t school_id, struct eb_arena *a, size_t *n,
                      struct merge_post **out)
{
    struct eb__q q;
    size_t cap = 0;
    struct merge_post *v = NULL;
    int rc;
    *n = 0;
    eb__q_start(db, SQL_SCHOOL_POSTS, &q);
    eb__q_int(&q, school_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct merge_post *m = &v[(*n)++];
        memset(m, 0, sizeof(*m));
        m->old_id = eb__q_col_int(&q, 0);
        m->person_id = eb__q_col_int(&q, 1);
        m->title = eb__q_col_str(&q, 2, a);
        m->subjects = eb__q_col_str(&q, 3, a);
    }
    eb__q_end(&q);
    *out = v;
    return rc < 0 ? rc : 0;
}

static int read_teaching(struct eb_db *db, const char *path, struct eb_arena *a, size_t *n,
                         struct merge_teach **out)
{
    char hi[EB_PATH_MAX];
    struct eb__q q;
    size_t cap = 0;
    struct merge_teach *v = NULL;
    int rc;
    *n = 0;
    eb__path_hi(path, hi);
    eb__q_start(db, SQL_SCHOOL_TEACHING, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct merge_teach *m = &v[(*n)++];
        m->post_id = eb__q_col_int(&q, 0);
        m->class_id = eb__q_col_int(&q, 1);
        m->subject = eb__q_col_str(&q, 2, a);
        m->head = (int)eb__q_col_int(&q, 3);
    }
    eb__q_end(&q);
    *out = v;
    return rc < 0 ? rc : 0;
}

/* Moves the current students of one class of the merged school into its new class. */
static int move_students(struct eb_db *db, const struct eb_caller *c, const struct merge_class *m,
                         const char *date, struct eb_arena *a, int64_t *moved)
{
    struct eb__q q;
    size_t n = 0, cap = 0;
    struct {
        int64_t id, person_id;
    } *v = NULL;
    int rc;
    eb__q_start(db, SQL_CLASS_ENROLMENTS, &q);
    eb__q_int(&q, m->old_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        v[n].id = eb__q_col_int(&q, 0);
        v[n].person_id = eb__q_col_int(&q, 1);
        n++;
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        rc = eb_store_enrolment_end(db, c, v[i].id, date);
        if (rc != 0)
            return rc;
        struct eb_enrolment e = {
            .person_id = v[i].person_id, .class_id = m->new_id, .start_date = date};
        int64_t id = 0;
        rc = eb_store_enrolment_create(db, c, &e, &id);
        if (rc != 0)
            return rc;
        (*moved)++;
    }
    return 0;
}

static int64_t find_new_class(const struct merge_class *v, size_t n, int64_t old_id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].old_id == old_id)
            return v[i].new_id;
    return 0;
}

static int64_t find_new_post(const struct merge_post *v, size_t n, int64_t old_id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].old_id == old_id)
            return v[i].new_id;
    return 0;
}

int eb_store_school_merge(struct eb_db *db, const struct eb_caller *c, int64_t from_id,
                          int64_t into_id, const char *date, struct eb_merge_result *out,
                          const char **why)
{
    struct eb_arena *a = eb_arena_create(0);
    struct school from, into, after;
    struct merge_class *classes = NULL;
    struct merge_post *posts = NULL;
    struct merge_teach *teach = NULL;
    size_t n_classes = 0, n_posts = 0, n_teach = 0;
    int own = 0, rc;
    memset(out, 0, sizeof(*out));
    set_why(why, NULL);
    rc = check_date_arg(c, date);
    if (rc != 0)
        goto done;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    rc = school_for(db, c, from_id, 1, a, &from);
    if (rc == 0)
        rc = school_for(db, c, into_id, 1, a, &into);
    if (rc != 0)
        goto done;
    if (from_id == into_id) {
        rc = EB_EINVAL;
        goto done;
    }
    if (from.info.closed_on != NULL || into.info.closed_on != NULL) {
        set_why(why, EB_WHY_SCHOOL_CLOSED);
        rc = EB_ECONFLICT;
        goto done;
    }
    /* Everything is read before anything moves: the moves change what the queries see. */
    rc = read_classes(db, from.info.path, a, &n_classes, &classes);
    if (rc == 0)
        rc = read_posts(db, from_id, a, &n_posts, &posts);
    if (rc == 0)
        rc = read_teaching(db, from.info.path, a, &n_teach, &teach);
    if (rc != 0)
        goto done;
    for (size_t i = 0; i < n_classes; i++) {
        struct merge_class *m = &classes[i];
        int64_t grade_id = 0;
        rc = eb__school_grade(db, c, into_id, m->grade_code, 1, &grade_id, NULL);
        if (rc != 0)
            goto done;
        struct eb_org o = {.parent_id = grade_id,
                           .kind = EB_ORG_CLASS,
                           .name = m->name,
                           .grade_code = m->grade_code,
                           .school_year = m->school_year};
        rc = eb_store_org_create(db, c, &o, &m->new_id);
        if (rc != 0)
            goto done;
        rc = move_students(db, c, m, date, a, &out->n_students);
        if (rc != 0)
            goto done;
        out->n_classes++;
    }
    for (size_t i = 0; i < n_posts; i++) {
        struct merge_post *p = &posts[i];
        /* Ending the post ends its teaching on the same day (eb_store_post_end). */
        rc = eb_store_post_end(db, c, p->old_id, date);
        if (rc != 0)
            goto done;
        struct eb_post np = {.person_id = p->person_id,
                             .school_id = into_id,
                             .title = p->title,
                             .subjects = p->subjects,
                             .start_date = date};
        rc = eb_store_post_create(db, c, &np, &p->new_id);
        if (rc != 0)
            goto done;
        out->n_posts++;
    }
    for (size_t i = 0; i < n_teach; i++) {
        struct eb_teaching t = {.post_id = find_new_post(posts, n_posts, teach[i].post_id),
                                .class_id = find_new_class(classes, n_classes, teach[i].class_id),
                                .subject = teach[i].subject,
                                .is_head_teacher = teach[i].head,
                                .start_date = date};
        /* Teaching of a class that was already closed, or of a post of another school (it
         * cannot be: a teacher teaches where posted), has no place to go. */
        if (t.post_id == 0 || t.class_id == 0)
            continue;
        int64_t id = 0;
        rc = eb_store_teaching_create(db, c, &t, &id);
        if (rc != 0)
            goto done;
        out->n_teaching++;
    }
    rc = close_school_rows(db, &from, date, into_id);
    if (rc == 0)
        rc = exec_int_int(db, SQL_POINTS_MOVE, into_id, from_id);
    if (rc == 0)
        rc = school_row(db, from_id, a, &after);
    if (rc != 0)
        goto done;
    json_t *j = school_json(&after.info);
    json_object_set_new(j, "merge",
                        json_pack("{s:s, s:I, s:I, s:I, s:I}", "date", date, "classes",
                                  (json_int_t)out->n_classes, "students",
                                  (json_int_t)out->n_students, "posts", (json_int_t)out->n_posts,
                                  "teaching", (json_int_t)out->n_teaching));
    rc = eb__audit_write(db, c, "school.merge", "org", from_id, from.info.path,
                         school_json(&from.info), j);
    if (rc == 0)
        rc = eb__org_changed(db, c, from.info.path);
    if (rc == 0)
        rc = eb__org_changed(db, c, into.info.path);
done:
    rc = eb__tx_leave(db, own, rc);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    eb_arena_destroy(a);
    return rc;
}

/* ---- teaching points -------------------------------------------------------------------- */

static const char SQL_POINT_SET[] = "UPDATE orgs SET central_school_id = ? WHERE id = ?";
static const char SQL_POINTS_OF[] =
    "SELECT id, name, path, school_code, running_type, closed_on, division_code, urban_rural,"
    " address FROM orgs WHERE central_school_id = ? ORDER BY id";

int eb_store_teaching_point_set(struct eb_db *db, const struct eb_caller *c, int64_t central_id,
                                int64_t point_id, int attach, const char **why)
{
    struct eb_arena *a = eb_arena_create(0);
    struct school central, point;
    int own = 0, rc;
    set_why(why, NULL);
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    rc = school_for(db, c, central_id, 1, a, &central);
    if (rc == 0)
        rc = school_for(db, c, point_id, 1, a, &point);
    if (rc != 0)
        goto done;
    if (attach) {
        if (central.info.closed_on != NULL || point.info.closed_on != NULL) {
            set_why(why, EB_WHY_SCHOOL_CLOSED);
            rc = EB_ECONFLICT;
            goto done;
        }
        /* One level only: a central school is no teaching point, a point has no points. */
        if (point_id == central_id || central.info.central_school_id != 0 ||
            point.info.n_teaching_points > 0) {
            rc = EB_EINVAL;
            goto done;
        }
    } else if (point.info.central_school_id != central_id) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    rc = exec_int_int(db, SQL_POINT_SET, attach ? central_id : 0, point_id);
    if (rc != 0)
        goto done;
    struct school after;
    rc = school_row(db, point_id, a, &after);
    if (rc == 0)
        rc = eb__audit_write(db, c, attach ? "school.point_attach" : "school.point_detach", "org",
                             point_id, point.info.path, school_json(&point.info),
                             school_json(&after.info));
    if (rc == 0)
        rc = eb__org_changed(db, c, point.info.path);
done:
    rc = eb__tx_leave(db, own, rc);
    eb_arena_destroy(a);
    return rc;
}

int eb_store_teaching_points(struct eb_db *db, const struct eb_caller *c, int64_t central_id,
                             struct eb_arena *a, size_t *n, struct eb_org **items)
{
    struct school s;
    struct eb__q q;
    size_t cap = 0;
    struct eb_org *v = NULL;
    *n = 0;
    *items = NULL;
    int rc = school_for(db, c, central_id, 0, a, &s);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_POINTS_OF, &q);
    eb__q_int(&q, central_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_org *o = &v[(*n)++];
        memset(o, 0, sizeof(*o));
        o->id = eb__q_col_int(&q, 0);
        o->kind = EB_ORG_SCHOOL;
        o->name = eb__q_col_str(&q, 1, a);
        o->path = eb__q_col_str(&q, 2, a);
        o->school_code = eb__q_col_str(&q, 3, a);
        o->running_type = eb__q_col_str(&q, 4, a);
        o->closed_on = eb__q_col_str(&q, 5, a);
        o->division_code = eb__q_col_str(&q, 6, a);
        o->urban_rural = eb__q_col_str(&q, 7, a);
        o->address = eb__q_col_str(&q, 8, a);
        o->parent_id = s.parent_id;
    }
    eb__q_end(&q);
    if (rc < 0) {
        *n = 0;
        return rc;
    }
    *items = v;
    return 0;
}

/* ---- classes ---------------------------------------------------------------------------- */

static const char SQL_LATEST_YEAR[] =
    "SELECT MAX(school_year) FROM orgs WHERE kind = 5 AND closed_on IS NULL AND path >= ?"
    " AND path < ?";
/* Sizes and teachers per class from the current-row indexes (enrolments by class, teaching by
 * class path): a few index probes per class, a school has at most a few hundred classes. */
static const char SQL_CLASSES[] =
    "SELECT c.id, c.name, c.school_year, c.closed_on, g.id, g.grade_code, g.name,"
    " (SELECT COUNT(*) FROM enrolments e WHERE e.class_id = c.id AND e.end_date IS NULL),"
    " (SELECT COUNT(DISTINCT t.person_id) FROM teaching t WHERE t.class_path = c.path"
    "  AND t.end_date IS NULL),"
    " (SELECT MAX(t.person_id) FROM teaching t WHERE t.class_path = c.path AND t.end_date IS NULL"
    "  AND t.is_head_teacher = 1)"
    " FROM orgs c JOIN orgs g ON g.id = c.parent_id"
    " WHERE c.kind = 5 AND c.school_year = ? AND c.path >= ? AND c.path < ?"
    " ORDER BY g.grade_code, c.name, c.id";
static const char SQL_PERSON_NAME[] = "SELECT name FROM people WHERE id = ?";

static int person_name(struct eb_db *db, int64_t id, struct eb_arena *a, const char **name)
{
    struct eb__q q;
    *name = NULL;
    eb__q_start(db, SQL_PERSON_NAME, &q);
    eb__q_int(&q, id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        *name = eb__q_col_str(&q, 0, a);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_school_classes(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                            int year, const char *grade_code, const char *q_text, int with_closed,
                            struct eb_arena *a, int *year_out, size_t *n,
                            struct eb_class_row **items)
{
    struct school s;
    struct eb__q q;
    char hi[EB_PATH_MAX];
    size_t cap = 0;
    struct eb_class_row *v = NULL;
    *n = 0;
    *items = NULL;
    *year_out = 0;
    int rc = school_for(db, c, school_id, 0, a, &s);
    if (rc != 0)
        return rc;
    eb__path_hi(s.info.path, hi);
    if (year == 0) {
        eb__q_start(db, SQL_LATEST_YEAR, &q);
        eb__q_text(&q, s.info.path);
        eb__q_text(&q, hi);
        rc = eb__q_step(&q);
        if (rc == EB__STORE_ROW && !eb__q_col_null(&q, 0))
            year = (int)eb__q_col_int(&q, 0);
        eb__q_end(&q);
        if (rc < 0)
            return rc;
    }
    *year_out = year;
    if (year == 0)
        return 0;
    eb__q_start(db, SQL_CLASSES, &q);
    eb__q_int(&q, year);
    eb__q_text(&q, s.info.path);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct eb_class_row r;
        memset(&r, 0, sizeof(r));
        r.id = eb__q_col_int(&q, 0);
        r.name = eb__q_col_str(&q, 1, a);
        r.school_year = (int)eb__q_col_int(&q, 2);
        r.closed_on = eb__q_col_str(&q, 3, a);
        r.grade_id = eb__q_col_int(&q, 4);
        r.grade_code = eb__q_col_str(&q, 5, a);
        r.grade_name = eb__q_col_str(&q, 6, a);
        r.n_students = eb__q_col_int(&q, 7);
        r.n_teachers = eb__q_col_int(&q, 8);
        r.head_person_id = eb__q_col_null(&q, 9) ? 0 : eb__q_col_int(&q, 9);
        if (r.closed_on != NULL && !with_closed)
            continue;
        if (grade_code != NULL && (r.grade_code == NULL || strcmp(r.grade_code, grade_code) != 0))
            continue;
        if (q_text != NULL && (r.name == NULL || strstr(r.name, q_text) == NULL))
            continue;
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        v[(*n)++] = r;
    }
    eb__q_end(&q);
    for (size_t i = 0; rc >= 0 && i < *n; i++)
        if (v[i].head_person_id != 0)
            rc = person_name(db, v[i].head_person_id, a, &v[i].head_name);
    if (rc < 0) {
        *n = 0;
        return rc;
    }
    *items = v;
    return 0;
}

static const char SQL_CLASS_SIZE[] =
    "SELECT COUNT(*) FROM enrolments WHERE class_id = ? AND end_date IS NULL";

/* A class the caller may access (EB_ENOTFOUND otherwise); EB_EINVAL for another kind. */
static int class_for(struct eb_db *db, const struct eb_caller *c, int64_t class_id,
                     enum eb_access access, char path[EB_PATH_MAX])
{
    enum eb_org_kind kind = 0;
    int rc = eb__org_path(db, class_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_READ))
        return EB_ENOTFOUND;
    if (kind != EB_ORG_CLASS)
        return EB_EINVAL;
    if (access == EB_ACCESS_WRITE && !eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_EDENIED;
    return 0;
}

int eb_store_class_size(struct eb_db *db, const struct eb_caller *c, int64_t class_id, int64_t *n)
{
    char path[EB_PATH_MAX];
    struct eb__q q;
    *n = 0;
    int rc = class_for(db, c, class_id, EB_ACCESS_READ, path);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_CLASS_SIZE, &q);
    eb__q_int(&q, class_id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        *n = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static const char SQL_CLASS_TEACHERS[] =
    "SELECT t.id, t.post_id, t.person_id, p.name, t.subject, t.start_date, t.is_head_teacher"
    " FROM teaching t JOIN people p ON p.id = t.person_id"
    " WHERE t.class_path = ? AND t.end_date IS NULL ORDER BY t.is_head_teacher DESC, t.id";

int eb_store_class_teachers(struct eb_db *db, const struct eb_caller *c, int64_t class_id,
                            struct eb_arena *a, size_t *n, struct eb_class_teacher **items)
{
    char path[EB_PATH_MAX];
    struct eb__q q;
    size_t cap = 0;
    struct eb_class_teacher *v = NULL;
    *n = 0;
    *items = NULL;
    int rc = class_for(db, c, class_id, EB_ACCESS_READ, path);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_CLASS_TEACHERS, &q);
    eb__q_text(&q, path);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_class_teacher *t = &v[(*n)++];
        t->teaching_id = eb__q_col_int(&q, 0);
        t->post_id = eb__q_col_int(&q, 1);
        t->person_id = eb__q_col_int(&q, 2);
        t->name = eb__q_col_str(&q, 3, a);
        t->subject = eb__q_col_str(&q, 4, a);
        t->start_date = eb__q_col_str(&q, 5, a);
        t->is_head_teacher = (int)eb__q_col_int(&q, 6);
    }
    eb__q_end(&q);
    if (rc < 0) {
        *n = 0;
        return rc;
    }
    *items = v;
    return 0;
}

static const char SQL_HEAD_ROWS[] =
    "SELECT id, start_date FROM teaching WHERE class_path = ? AND end_date IS NULL"
    " AND is_head_teacher = 1 ORDER BY id";
static const char SQL_POST_SUBJECT_IN_CLASS[] =
    "SELECT id, subject FROM teaching WHERE class_path = ? AND end_date IS NULL AND post_id = ?"
    " ORDER BY id LIMIT 1";
static const char SQL_TEACHING_END[] =
    "UPDATE teaching SET end_date = ? WHERE id = ? AND end_date IS NULL";

int eb_store_class_head_set(struct eb_db *db, const struct eb_caller *c, int64_t class_id,
                            int64_t post_id, const char *subject, const char *date,
                            int64_t *teaching_id)
{
    struct eb_arena *a = eb_arena_create(0);
    char path[EB_PATH_MAX];
    struct eb__q q = {0};
    json_t *ended = json_array();
    int own = 0, rc;
    *teaching_id = 0;
    rc = check_date_arg(c, date);
    if (rc != 0)
        goto done;
    if (subject != NULL && (subject[0] == '\0' || strlen(subject) > 100)) {
        rc = EB_EINVAL;
        goto done;
    }
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    rc = class_for(db, c, class_id, EB_ACCESS_WRITE, path);
    if (rc != 0)
        goto done;
    /* The old head teacher's duty ends; when they also hold a subject row of their own it
     * stays (it is another row). */
    eb__q_start(db, SQL_HEAD_ROWS, &q);
    eb__q_text(&q, path);
    size_t n = 0, cap = 0;
    int64_t *old = NULL;
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char *start = eb__q_col_str(&q, 1, a);
        if (start != NULL && strcmp(start, date) > 0) {
            rc = EB_EINVAL;
            break;
        }
        old = eb_arena_grow(a, old, n, &cap, sizeof(*old));
        if (old == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        old[n++] = eb__q_col_int(&q, 0);
    }
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    /* The new head teacher keeps the subject they already teach in the class, if any. */
    const char *subj = NULL;
    eb__q_start(db, SQL_POST_SUBJECT_IN_CLASS, &q);
    eb__q_text(&q, path);
    eb__q_int(&q, post_id);
    rc = eb__q_step(&q);
    int64_t same_row = 0;
    if (rc == EB__STORE_ROW) {
        same_row = eb__q_col_int(&q, 0);
        subj = eb__q_col_str(&q, 1, a);
    }
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    if (subj == NULL)
        subj = subject != NULL ? subject : "班主任";
    for (size_t i = 0; i < n; i++) {
        rc = exec_text_int(db, SQL_TEACHING_END, date, old[i]);
        if (rc != 0)
            goto done;
        json_array_append_new(ended, json_integer(old[i]));
    }
    /* The new teacher's plain subject row becomes the head-teacher row from the date. */
    if (same_row != 0) {
        int is_old_head = 0;
        for (size_t i = 0; i < n; i++)
            is_old_head |= old[i] == same_row;
        if (!is_old_head) {
            rc = exec_text_int(db, SQL_TEACHING_END, date, same_row);
            if (rc != 0)
                goto done;
            json_array_append_new(ended, json_integer(same_row));
        }
    }
    struct eb_teaching t = {.post_id = post_id,
                            .class_id = class_id,
                            .subject = subj,
                            .is_head_teacher = 1,
                            .start_date = date};
    rc = eb_store_teaching_create(db, c, &t, teaching_id);
    if (rc != 0)
        goto done;
    rc = eb__audit_write(
        db, c, "class.head_teacher", "org", class_id, path, json_pack("{s:O}", "ended", ended),
        json_pack("{s:I, s:I, s:s, s:s}", "teaching_id", (json_int_t)*teaching_id, "post_id",
                  (json_int_t)post_id, "subject", subj, "start_date", date));
    if (rc == 0)
        rc = eb__org_changed(db, c, path);
done:
    eb__q_end(&q);
    rc = eb__tx_leave(db, own, rc);
    if (rc != 0)
        *teaching_id = 0;
    json_decref(ended);
    eb_arena_destroy(a);
    return rc;
}
