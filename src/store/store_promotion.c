/* The year-end promotion (升级) of one school: preview, apply as one transaction, undo until
 * confirmed. docs/internals/promotion.md describes the steps and why they are recorded. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "registry/registry_ids.h"

/* ---- the plan --------------------------------------------------------------------------- */

/* The classes of the year, with the grade node they hang under; sizes from the current-row
 * indexes. */
static const char SQL_PLAN_CLASSES[] =
    "SELECT c.id, c.name, c.path, g.grade_code,"
    " (SELECT COUNT(*) FROM enrolments e WHERE e.class_id = c.id AND e.end_date IS NULL),"
    " (SELECT COUNT(*) FROM teaching t WHERE t.class_path = c.path AND t.end_date IS NULL)"
    " FROM orgs c JOIN orgs g ON g.id = c.parent_id"
    " WHERE c.kind = 5 AND c.closed_on IS NULL AND c.school_year = ? AND c.path >= ?"
    " AND c.path < ? ORDER BY g.grade_code, c.name, c.id";
static const char SQL_SCHOOL_GRADES[] =
    "SELECT id, grade_code FROM orgs WHERE parent_id = ? AND kind = 4 AND closed_on IS NULL"
    " ORDER BY id";

struct plan_class {
    struct eb_promotion_item item;
    const char *path;
};

struct plan {
    size_t n;
    struct plan_class *v;
    /* The school's open grade nodes by code (the first of each code). */
    size_t n_grades;
    struct {
        int64_t id;
        const char *code;
    } * grades;
};

static int64_t plan_grade(const struct plan *p, const char *code)
{
    for (size_t i = 0; i < p->n_grades; i++)
        if (p->grades[i].code != NULL && strcmp(p->grades[i].code, code) == 0)
            return p->grades[i].id;
    return 0;
}

/*
 * The grade a class moves into, or NULL when it graduates. The last grade of a stage is
 * 16, 24, 33, 03 and 43; a school that has no grade 16 (or 24) runs the five-year primary (or
 * the three-year junior) stage of its 学制, and its 15 (or 23) graduates instead (五四制 and
 * 六三制, POLICY_AND_CODES.md §2.5).
 */
static const char *next_grade(const struct plan *p, const char *code)
{
    static const char *const pairs[][2] = {
        {"01", "02"}, {"02", "03"}, {"11", "12"}, {"12", "13"}, {"13", "14"},
        {"14", "15"}, {"15", "16"}, {"21", "22"}, {"22", "23"}, {"23", "24"},
        {"31", "32"}, {"32", "33"}, {"41", "42"}, {"42", "43"},
    };
    if (code == NULL)
        return NULL;
    if ((strcmp(code, "15") == 0 && plan_grade(p, "16") == 0) ||
        (strcmp(code, "23") == 0 && plan_grade(p, "24") == 0))
        return NULL;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        if (strcmp(pairs[i][0], code) == 0)
            return pairs[i][1];
    return NULL;
}

/* "一年级(1)班" becomes "二年级(1)班"; names that do not start with the grade's prefix, and
 * vocational classes (named by their entry year), keep their name. */
static const char *next_name(struct eb_arena *a, const char *name, const char *from, const char *to)
{
    const char *pf = eb__grade_class_prefix(from), *pt = eb__grade_class_prefix(to);
    if (name == NULL || pf == NULL || pt == NULL || strncmp(name, pf, strlen(pf)) != 0)
        return name;
    return eb_arena_printf(a, "%s%s", pt, name + strlen(pf));
}

static int plan_build(struct eb_db *db, int64_t school_id, const char *school_path, int from_year,
                      struct eb_arena *a, struct plan *p)
{
    char hi[EB_PATH_MAX];
    struct eb__q q;
    size_t cap = 0;
    int rc;
    memset(p, 0, sizeof(*p));
    eb__q_start(db, SQL_SCHOOL_GRADES, &q);
    eb__q_int(&q, school_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char *code = eb__q_col_str(&q, 1, a);
        if (code == NULL || plan_grade(p, code) != 0)
            continue;
        p->grades = eb_arena_grow(a, p->grades, p->n_grades, &cap, sizeof(*p->grades));
        if (p->grades == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        p->grades[p->n_grades].id = eb__q_col_int(&q, 0);
        p->grades[p->n_grades].code = code;
        p->n_grades++;
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    cap = 0;
    eb__path_hi(school_path, hi);
    eb__q_start(db, SQL_PLAN_CLASSES, &q);
    eb__q_int(&q, from_year);
    eb__q_text(&q, school_path);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        p->v = eb_arena_grow(a, p->v, p->n, &cap, sizeof(*p->v));
        if (p->v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct plan_class *pc = &p->v[p->n++];
        struct eb_promotion_item *it = &pc->item;
        memset(pc, 0, sizeof(*pc));
        it->class_id = eb__q_col_int(&q, 0);
        it->class_name = eb__q_col_str(&q, 1, a);
        pc->path = eb__q_col_str(&q, 2, a);
        it->grade_code = eb__q_col_str(&q, 3, a);
        it->n_students = eb__q_col_int(&q, 4);
        it->n_teachers = eb__q_col_int(&q, 5);
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < p->n; i++) {
        struct eb_promotion_item *it = &p->v[i].item;
        const char *to = next_grade(p, it->grade_code);
        it->graduating = to == NULL;
        if (to == NULL)
            continue;
        it->new_grade_code = to;
        it->new_grade_name = eb__grade_name(to);
        it->new_grade_id = plan_grade(p, to);
        it->new_class_name = next_name(a, it->class_name, it->grade_code, to);
    }
    return 0;
}

/* ---- applying --------------------------------------------------------------------------- */

static const char SQL_RUN_LIVE[] =
    "SELECT id FROM promotion_runs WHERE school_id = ? AND from_year = ? AND state <> 'undone'";
static const char SQL_RUN_INSERT[] =
    "INSERT INTO promotion_runs (school_id, school_path, from_year, to_year, run_date, state,"
    " account_id, created_at) VALUES (?, ?, ?, ?, ?, 'applied', ?, ?) RETURNING id";
static const char SQL_RUN_COUNTS[] =
    "UPDATE promotion_runs SET n_classes = ?, n_promoted = ?, n_graduated = ? WHERE id = ?"
    " AND school_id = ?";
static const char SQL_STEP_ADD[] =
    "INSERT INTO promotion_steps (run_id, school_id, action, object_id) VALUES (?, ?, ?, ?)";
/* Set-based moves of one class: a statement per class and kind of row, never one per student,
 * so that the whole city's promotion stays a matter of minutes. */
static const char SQL_STEPS_ENROL_END[] =
    "INSERT INTO promotion_steps (run_id, school_id, action, object_id)"
    " SELECT ?, ?, 'enrolment_ended', id FROM enrolments WHERE class_id = ? AND end_date IS NULL";
static const char SQL_ENROL_END_CLASS[] =
    "UPDATE enrolments SET end_date = ? WHERE class_id = ? AND end_date IS NULL";
static const char SQL_ENROL_COPY[] =
    "INSERT INTO enrolments (school_id, person_id, class_id, class_path, start_date)"
    " SELECT e.school_id, e.person_id, ?, ?, ? FROM promotion_steps s"
    " JOIN enrolments e ON e.id = s.object_id"
    " WHERE s.run_id = ? AND s.school_id = ? AND s.action = 'enrolment_ended' AND e.class_id = ?";
static const char SQL_STEPS_ENROL_NEW[] =
    "INSERT INTO promotion_steps (run_id, school_id, action, object_id)"
    " SELECT ?, ?, 'enrolment_created', id FROM enrolments WHERE class_id = ? AND end_date IS NULL";
static const char SQL_STEPS_TEACH_END[] =
    "INSERT INTO promotion_steps (run_id, school_id, action, object_id)"
    " SELECT ?, ?, 'teaching_ended', id FROM teaching WHERE class_path = ? AND end_date IS NULL";
static const char SQL_TEACH_END_CLASS[] =
    "UPDATE teaching SET end_date = ? WHERE class_path = ? AND end_date IS NULL";
static const char SQL_TEACH_COPY[] =
    "INSERT INTO teaching (school_id, post_id, person_id, class_id, class_path, subject,"
    " is_head_teacher, start_date)"
    " SELECT t.school_id, t.post_id, t.person_id, ?, ?, t.subject, t.is_head_teacher, ?"
    " FROM promotion_steps s JOIN teaching t ON t.id = s.object_id"
    " WHERE s.run_id = ? AND s.school_id = ? AND s.action = 'teaching_ended' AND t.class_path = ?"
    " ORDER BY t.id";
static const char SQL_STEPS_TEACH_NEW[] =
    "INSERT INTO promotion_steps (run_id, school_id, action, object_id)"
    " SELECT ?, ?, 'teaching_created', id FROM teaching WHERE class_path = ? AND end_date IS NULL";
static const char SQL_CLASS_CLOSE[] =
    "UPDATE orgs SET closed_on = ? WHERE id = ? AND closed_on IS NULL";

struct run_ctx {
    struct eb_db *db;
    int64_t run_id, school_id;
    const char *date;
};

static int step_add(const struct run_ctx *x, const char *action, int64_t object_id)
{
    struct eb__q q;
    eb__q_start(x->db, SQL_STEP_ADD, &q);
    eb__q_int(&q, x->run_id);
    eb__q_int(&q, x->school_id);
    eb__q_text(&q, action);
    eb__q_int(&q, object_id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* run, school, then one text or int argument: the shape of the step-recording statements. */
static int steps_by(const struct run_ctx *x, const char *sql, const char *text, int64_t id)
{
    struct eb__q q;
    eb__q_start(x->db, sql, &q);
    eb__q_int(&q, x->run_id);
    eb__q_int(&q, x->school_id);
    if (text != NULL)
        eb__q_text(&q, text);
    else
        eb__q_int(&q, id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static int end_rows(const struct run_ctx *x, const char *sql, const char *text, int64_t id)
{
    struct eb__q q;
    eb__q_start(x->db, sql, &q);
    eb__q_text(&q, x->date);
    if (text != NULL)
        eb__q_text(&q, text);
    else
        eb__q_int(&q, id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* Copies the rows one class ended in this run into the new class (enrolments: selector is the
 * old class id; teaching: the old class path). */
static int copy_rows(const struct run_ctx *x, const char *sql, int64_t new_id, const char *new_path,
                     const char *old_path, int64_t old_id)
{
    struct eb__q q;
    eb__q_start(x->db, sql, &q);
    eb__q_int(&q, new_id);
    eb__q_text(&q, new_path);
    eb__q_text(&q, x->date);
    eb__q_int(&q, x->run_id);
    eb__q_int(&q, x->school_id);
    if (old_path != NULL)
        eb__q_text(&q, old_path);
    else
        eb__q_int(&q, old_id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static const char SQL_CLASS_PEOPLE[] =
    "SELECT person_id FROM enrolments WHERE class_id = ? AND end_date IS NULL ORDER BY person_id";

/* Every current student of a graduating class graduates on the run's date; each graduation
 * event is a step, removed again by an undo. */
static int graduate_class(const struct eb_caller *c, const struct run_ctx *x, int64_t class_id)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb__q q;
    size_t n = 0, cap = 0;
    int64_t *people = NULL;
    int rc;
    eb__q_start(x->db, SQL_CLASS_PEOPLE, &q);
    eb__q_int(&q, class_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        people = eb_arena_grow(a, people, n, &cap, sizeof(*people));
        if (people == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        people[n++] = eb__q_col_int(&q, 0);
    }
    eb__q_end(&q);
    rc = rc < 0 ? rc : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct eb_status_change in = {.kind = EB_STATUS_GRADUATION, .date = x->date};
        struct eb_refusal why;
        int64_t event_id = 0;
        rc = eb_store_student_status_change(x->db, c, people[i], &in, &why, &event_id);
        if (rc == 0)
            rc = step_add(x, "status_event", event_id);
    }
    eb_arena_destroy(a);
    return rc;
}

static int move_class(const struct eb_caller *c, const struct run_ctx *x, struct plan_class *pc,
                      int to_year)
{
    struct eb_promotion_item *it = &pc->item;
    char new_path[EB_PATH_MAX] = "";
    int rc = 0;
    if (!it->graduating) {
        struct eb_org o = {.parent_id = it->new_grade_id,
                           .kind = EB_ORG_CLASS,
                           .name = it->new_class_name,
                           .grade_code = it->new_grade_code,
                           .school_year = to_year};
        rc = eb_store_org_create(x->db, c, &o, &it->new_class_id);
        if (rc == 0)
            rc = step_add(x, "org_created", it->new_class_id);
        if (rc == 0)
            rc = eb__org_path(x->db, it->new_class_id, new_path, NULL);
        if (rc != 0)
            return rc;
    }
    rc = steps_by(x, SQL_STEPS_ENROL_END, NULL, it->class_id);
    /* Graduates go through the student lifecycle (the enrolment ends and the graduation event
     * is written, with its checks: a pending transfer refuses the whole run); the others'
     * enrolments end in one statement. */
    if (rc == 0)
        rc = it->graduating ? graduate_class(c, x, it->class_id)
                            : end_rows(x, SQL_ENROL_END_CLASS, NULL, it->class_id);
    if (rc == 0)
        rc = steps_by(x, SQL_STEPS_TEACH_END, pc->path, 0);
    if (rc == 0)
        rc = end_rows(x, SQL_TEACH_END_CLASS, pc->path, 0);
    if (rc == 0 && !it->graduating) {
        /* Graduates only leave: their enrolment ends on the date (graduation). */
        rc = copy_rows(x, SQL_ENROL_COPY, it->new_class_id, new_path, NULL, it->class_id);
        if (rc == 0)
            rc = steps_by(x, SQL_STEPS_ENROL_NEW, NULL, it->new_class_id);
        if (rc == 0)
            rc = copy_rows(x, SQL_TEACH_COPY, it->new_class_id, new_path, pc->path, 0);
        if (rc == 0)
            rc = steps_by(x, SQL_STEPS_TEACH_NEW, new_path, 0);
    }
    if (rc == 0) {
        struct eb__q q;
        eb__q_start(x->db, SQL_CLASS_CLOSE, &q);
        eb__q_text(&q, x->date);
        eb__q_int(&q, it->class_id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        rc = step_add(x, "class_closed", it->class_id);
    return rc;
}

static json_t *items_json(const struct eb_promotion *p)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const struct eb_promotion_item *it = &p->items[i];
        json_array_append_new(
            arr, json_pack("{s:I, s:s?, s:s?, s:I, s:b, s:I, s:s?}", "class_id",
                           (json_int_t)it->class_id, "class_name", it->class_name, "grade_code",
                           it->grade_code, "n_students", (json_int_t)it->n_students, "graduating",
                           it->graduating, "new_class_id", (json_int_t)it->new_class_id,
                           "new_class_name", it->new_class_name));
    }
    return arr;
}

static void set_why(const char **why, const char *v)
{
    if (why)
        *why = v;
}

/* Scope of the promotion routes: read access to see the school (EB_ENOTFOUND otherwise), write
 * access to change it (EB_EDENIED), and a school. */
static int school_path_for(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                           int write, char path[EB_PATH_MAX])
{
    enum eb_org_kind kind = 0;
    int rc = eb__org_path(db, school_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_READ))
        return EB_ENOTFOUND;
    if (kind != EB_ORG_SCHOOL)
        return EB_EINVAL;
    if (write && !eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_EDENIED;
    return 0;
}

int eb_store_promotion_run(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                           int from_year, int to_year, const char *date, int preview,
                           struct eb_arena *a, struct eb_promotion *out, const char **why)
{
    char path[EB_PATH_MAX];
    struct plan p;
    struct eb__q q = {0};
    int own = 0, rc;
    memset(out, 0, sizeof(*out));
    set_why(why, NULL);
    if (from_year < 1900 || from_year > 2100 || to_year != from_year + 1 || date == NULL ||
        strlen(date) != 10 || (!c->system && eb_date_check(date, NULL) != 0))
        return EB_EINVAL;
    rc = school_path_for(db, c, school_id, 1, path);
    if (rc != 0)
        return rc;
    if (!preview) {
        rc = eb__tx_enter(db, c, &own);
        if (rc != 0)
            return rc;
    }
    /* A year is promoted once: checked first, so that a preview tells it too. */
    eb__q_start(db, SQL_RUN_LIVE, &q);
    eb__q_int(&q, school_id);
    eb__q_int(&q, from_year);
    rc = eb__q_step(&q);
    eb__q_end(&q);
    if (rc == EB__STORE_ROW) {
        set_why(why, EB_WHY_ALREADY_PROMOTED);
        rc = EB_ECONFLICT;
        goto done;
    }
    if (rc < 0)
        goto done;
    rc = plan_build(db, school_id, path, from_year, a, &p);
    if (rc != 0)
        goto done;
    out->school_id = school_id;
    out->from_year = from_year;
    out->to_year = to_year;
    out->date = eb_arena_strdup(a, date);
    out->state = preview ? "preview" : "applied";
    out->created_at = eb__now_ms() / 1000;
    out->n = p.n;
    out->items = eb_arena_alloc(a, sizeof(*out->items) * (p.n ? p.n : 1));
    if (out->items == NULL) {
        rc = EB_ETOOBIG;
        goto done;
    }
    for (size_t i = 0; i < p.n; i++) {
        out->n_classes++;
        if (p.v[i].item.graduating)
            out->n_graduated += p.v[i].item.n_students;
        else
            out->n_promoted += p.v[i].item.n_students;
    }
    if (!preview) {
        eb__q_start(db, SQL_RUN_INSERT, &q);
        eb__q_int(&q, school_id);
        eb__q_text(&q, path);
        eb__q_int(&q, from_year);
        eb__q_int(&q, to_year);
        eb__q_text(&q, date);
        if (c->account_id)
            eb__q_int(&q, c->account_id);
        else
            eb__q_null(&q);
        eb__q_int(&q, out->created_at);
        rc = eb__q_step(&q);
        if (rc == EB__STORE_ROW) {
            out->run_id = eb__q_col_int(&q, 0);
            rc = eb__q_exec(&q);
        } else if (rc == EB__STORE_DONE) {
            rc = EB_ESTORE;
        }
        eb__q_end(&q);
        if (rc == EB_EEXIST) {
            set_why(why, EB_WHY_ALREADY_PROMOTED);
            rc = EB_ECONFLICT;
        }
        if (rc < 0)
            goto done;
        struct run_ctx x = {.db = db, .run_id = out->run_id, .school_id = school_id, .date = date};
        for (size_t i = 0; i < p.n && rc >= 0; i++) {
            struct eb_promotion_item *it = &p.v[i].item;
            /* A grade node missing in the school (a young school's next grade) is created
             * once, then found by the classes after it. */
            if (!it->graduating && it->new_grade_id == 0) {
                int created = 0;
                rc = eb__school_grade(db, c, school_id, it->new_grade_code, 1, &it->new_grade_id,
                                      &created);
                if (rc == 0 && created)
                    rc = step_add(&x, "org_created", it->new_grade_id);
                if (rc != 0)
                    break;
            }
            rc = move_class(c, &x, &p.v[i], to_year);
        }
        if (rc < 0)
            goto done;
        eb__q_start(db, SQL_RUN_COUNTS, &q);
        eb__q_int(&q, out->n_classes);
        eb__q_int(&q, out->n_promoted);
        eb__q_int(&q, out->n_graduated);
        eb__q_int(&q, out->run_id);
        eb__q_int(&q, school_id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        if (rc < 0)
            goto done;
    }
    for (size_t i = 0; i < p.n; i++)
        out->items[i] = p.v[i].item;
    rc = 0;
    if (!preview) {
        json_t *after = json_pack(
            "{s:I, s:i, s:i, s:s, s:I, s:I, s:I}", "run_id", (json_int_t)out->run_id, "from_year",
            from_year, "to_year", to_year, "date", date, "classes", (json_int_t)out->n_classes,
            "promoted", (json_int_t)out->n_promoted, "graduated", (json_int_t)out->n_graduated);
        json_object_set_new(after, "items", items_json(out));
        rc = eb__audit_write(db, c, "promotion.apply", "promotion_run", out->run_id, path, NULL,
                             after);
        if (rc == 0)
            rc = eb__org_changed(db, c, path);
    }
done:
    eb__q_end(&q);
    if (!preview)
        rc = eb__tx_leave(db, own, rc);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- undo and confirm ------------------------------------------------------------------- */

static const char SQL_RUN_GET[] =
    "SELECT state, from_year, to_year, run_date FROM promotion_runs WHERE id = ?"
    " AND school_id = ?";
static const char SQL_RUN_STATE[] =
    "UPDATE promotion_runs SET state = ?, closed_at = ? WHERE id = ? AND school_id = ?"
    " AND state = 'applied'";
/* What changed since the run: a row it created that ended, or a row in a class it created
 * that it did not create (a student enrolled or a teacher assigned later). */
static const char SQL_UNDO_CHANGED[] =
    "SELECT (SELECT COUNT(*) FROM promotion_steps s JOIN enrolments e ON e.id = s.object_id"
    "  WHERE s.run_id = ? AND s.school_id = ? AND s.action = 'enrolment_created'"
    "  AND e.end_date IS NOT NULL)"
    " + (SELECT COUNT(*) FROM promotion_steps s JOIN teaching t ON t.id = s.object_id"
    "  WHERE s.run_id = ? AND s.school_id = ? AND s.action = 'teaching_created'"
    "  AND t.end_date IS NOT NULL)"
    " + (SELECT COUNT(*) FROM enrolments e JOIN promotion_steps s ON s.object_id = e.class_id"
    "  WHERE s.run_id = ? AND s.school_id = ? AND s.action = 'org_created' AND NOT EXISTS"
    "  (SELECT 1 FROM promotion_steps x WHERE x.run_id = s.run_id AND x.school_id = s.school_id"
    "  AND x.action = 'enrolment_created' AND x.object_id = e.id))"
    " + (SELECT COUNT(*) FROM teaching t JOIN promotion_steps s ON s.object_id = t.class_id"
    "  WHERE s.run_id = ? AND s.school_id = ? AND s.action = 'org_created' AND NOT EXISTS"
    "  (SELECT 1 FROM promotion_steps x WHERE x.run_id = s.run_id AND x.school_id = s.school_id"
    "  AND x.action = 'teaching_created' AND x.object_id = t.id))"
    " + (SELECT COUNT(*) FROM orgs o JOIN promotion_steps s ON s.object_id = o.parent_id"
    "  WHERE s.run_id = ? AND s.school_id = ? AND s.action = 'org_created' AND NOT EXISTS"
    "  (SELECT 1 FROM promotion_steps x WHERE x.run_id = s.run_id AND x.school_id = s.school_id"
    "  AND x.action = 'org_created' AND x.object_id = o.id))";
/* The undo, in the reverse order of the apply. Rows the run created are deleted (enrolments,
 * teaching); orgs it created are closed instead: their ids may sit in the path caches of
 * other connections and processes, and a deleted id could be handed out again. */
static const char SQL_UNDO_EVENTS_DEL[] =
    "DELETE FROM student_status_events WHERE id IN (SELECT object_id FROM promotion_steps"
    " WHERE run_id = ? AND school_id = ? AND action = 'status_event')";
static const char SQL_UNDO_ENROL_DEL[] =
    "DELETE FROM enrolments WHERE id IN (SELECT object_id FROM promotion_steps WHERE run_id = ?"
    " AND school_id = ? AND action = 'enrolment_created')";
static const char SQL_UNDO_TEACH_DEL[] =
    "DELETE FROM teaching WHERE id IN (SELECT object_id FROM promotion_steps WHERE run_id = ?"
    " AND school_id = ? AND action = 'teaching_created')";
static const char SQL_UNDO_ENROL_OPEN[] =
    "UPDATE enrolments SET end_date = NULL WHERE id IN (SELECT object_id FROM promotion_steps"
    " WHERE run_id = ? AND school_id = ? AND action = 'enrolment_ended')";
static const char SQL_UNDO_TEACH_OPEN[] =
    "UPDATE teaching SET end_date = NULL WHERE id IN (SELECT object_id FROM promotion_steps"
    " WHERE run_id = ? AND school_id = ? AND action = 'teaching_ended')";
static const char SQL_UNDO_CLASS_OPEN[] =
    "UPDATE orgs SET closed_on = NULL WHERE id IN (SELECT object_id FROM promotion_steps"
    " WHERE run_id = ? AND school_id = ? AND action = 'class_closed')";
static const char SQL_UNDO_ORG_CLOSE[] =
    "UPDATE orgs SET closed_on = ? WHERE closed_on IS NULL AND id IN (SELECT object_id FROM"
    " promotion_steps WHERE run_id = ? AND school_id = ? AND action = 'org_created')";

static int run_exec(struct eb_db *db, const char *sql, int64_t run_id, int64_t school_id)
{
    struct eb__q q;
    eb__q_start(db, sql, &q);
    eb__q_int(&q, run_id);
    eb__q_int(&q, school_id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* Reads a run of the school for a state change; EB_ECONFLICT (*why) unless it is applied. */
static int run_for_change(struct eb_db *db, int64_t school_id, int64_t run_id, struct eb_arena *a,
                          json_t **before, const char **why)
{
    struct eb__q q;
    *before = NULL;
    eb__q_start(db, SQL_RUN_GET, &q);
    eb__q_int(&q, run_id);
    eb__q_int(&q, school_id);
    int rc = eb__q_step(&q);
    const char *state = NULL;
    if (rc == EB__STORE_ROW) {
        state = eb__q_col_str(&q, 0, a);
        *before = json_pack("{s:I, s:s?, s:I, s:I, s:s?}", "run_id", (json_int_t)run_id, "state",
                            state, "from_year", (json_int_t)eb__q_col_int(&q, 1), "to_year",
                            (json_int_t)eb__q_col_int(&q, 2), "date", eb__q_col_str(&q, 3, a));
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc == 0 && (state == NULL || strcmp(state, "applied") != 0)) {
        set_why(why, state != NULL && strcmp(state, "confirmed") == 0 ? EB_WHY_PROMOTION_CONFIRMED
                                                                      : EB_WHY_PROMOTION_CHANGED);
        rc = EB_ECONFLICT;
    }
    return rc;
}

static int run_set_state(struct eb_db *db, int64_t school_id, int64_t run_id, const char *state)
{
    struct eb__q q;
    eb__q_start(db, SQL_RUN_STATE, &q);
    eb__q_text(&q, state);
    eb__q_int(&q, eb__now_ms() / 1000);
    eb__q_int(&q, run_id);
    eb__q_int(&q, school_id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_promotion_undo(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                            int64_t run_id, const char **why)
{
    struct eb_arena *a = eb_arena_create(0);
    char path[EB_PATH_MAX];
    json_t *before = NULL;
    struct eb__q q = {0};
    int own = 0, rc;
    set_why(why, NULL);
    rc = school_path_for(db, c, school_id, 1, path);
    if (rc != 0)
        goto done;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    rc = run_for_change(db, school_id, run_id, a, &before, why);
    if (rc != 0)
        goto done;
    eb__q_start(db, SQL_UNDO_CHANGED, &q);
    for (int i = 0; i < 5; i++) {
        eb__q_int(&q, run_id);
        eb__q_int(&q, school_id);
    }
    rc = eb__q_step(&q);
    int64_t changed = rc == EB__STORE_ROW ? eb__q_col_int(&q, 0) : 0;
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    if (changed > 0) {
        set_why(why, EB_WHY_PROMOTION_CHANGED);
        rc = EB_ECONFLICT;
        goto done;
    }
    rc = 0;
    static const char *const order[] = {SQL_UNDO_EVENTS_DEL, SQL_UNDO_ENROL_DEL,
                                        SQL_UNDO_TEACH_DEL,  SQL_UNDO_ENROL_OPEN,
                                        SQL_UNDO_TEACH_OPEN, SQL_UNDO_CLASS_OPEN};
    for (size_t i = 0; rc == 0 && i < sizeof(order) / sizeof(order[0]); i++)
        rc = run_exec(db, order[i], run_id, school_id);
    if (rc == 0) {
        const char *today = NULL;
        eb__q_start(db, SQL_RUN_GET, &q);
        eb__q_int(&q, run_id);
        eb__q_int(&q, school_id);
        if (eb__q_step(&q) == EB__STORE_ROW)
            today = eb__q_col_str(&q, 3, a);
        eb__q_end(&q);
        eb__q_start(db, SQL_UNDO_ORG_CLOSE, &q);
        eb__q_text(&q, today ? today : "1970-01-01");
        eb__q_int(&q, run_id);
        eb__q_int(&q, school_id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        rc = rc < 0 ? rc : 0;
    }
    /* A student enrolled elsewhere since graduating cannot be enrolled here again, nor can a
     * row be removed that something now points at: the run changed meanwhile. */
    if (rc == EB_EEXIST || rc == EB_EINVAL) {
        set_why(why, EB_WHY_PROMOTION_CHANGED);
        rc = EB_ECONFLICT;
    }
    if (rc == 0)
        rc = run_set_state(db, school_id, run_id, "undone");
    if (rc == 0) {
        rc = eb__audit_write(
            db, c, "promotion.undo", "promotion_run", run_id, path, before,
            json_pack("{s:I, s:s}", "run_id", (json_int_t)run_id, "state", "undone"));
        before = NULL;
    }
    if (rc == 0)
        rc = eb__org_changed(db, c, path);
done:
    eb__q_end(&q);
    rc = eb__tx_leave(db, own, rc);
    json_decref(before);
    eb_arena_destroy(a);
    return rc;
}

int eb_store_promotion_confirm(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                               int64_t run_id, const char **why)
{
    struct eb_arena *a = eb_arena_create(0);
    char path[EB_PATH_MAX];
    json_t *before = NULL;
    int own = 0, rc;
    set_why(why, NULL);
    rc = school_path_for(db, c, school_id, 1, path);
    if (rc != 0)
        goto done;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    rc = run_for_change(db, school_id, run_id, a, &before, why);
    if (rc == 0)
        rc = run_set_state(db, school_id, run_id, "confirmed");
    if (rc == 0) {
        rc = eb__audit_write(
            db, c, "promotion.confirm", "promotion_run", run_id, path, before,
            json_pack("{s:I, s:s}", "run_id", (json_int_t)run_id, "state", "confirmed"));
        before = NULL;
    }
done:
    rc = eb__tx_leave(db, own, rc);
    json_decref(before);
    eb_arena_destroy(a);
    return rc;
}

static const char SQL_RUNS[] =
    "SELECT id, from_year, to_year, run_date, state, n_classes, n_promoted, n_graduated,"
    " created_at FROM promotion_runs WHERE school_id = ? ORDER BY id DESC";

int eb_store_promotion_runs(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                            struct eb_arena *a, size_t *n, struct eb_promotion **items)
{
    char path[EB_PATH_MAX];
    struct eb__q q;
    size_t cap = 0;
    struct eb_promotion *v = NULL;
    *n = 0;
    *items = NULL;
    int rc = school_path_for(db, c, school_id, 0, path);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_RUNS, &q);
    eb__q_int(&q, school_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_promotion *p = &v[(*n)++];
        memset(p, 0, sizeof(*p));
        p->run_id = eb__q_col_int(&q, 0);
        p->school_id = school_id;
        p->from_year = (int)eb__q_col_int(&q, 1);
        p->to_year = (int)eb__q_col_int(&q, 2);
        p->date = eb__q_col_str(&q, 3, a);
        p->state = eb__q_col_str(&q, 4, a);
        p->n_classes = eb__q_col_int(&q, 5);
        p->n_promoted = eb__q_col_int(&q, 6);
        p->n_graduated = eb__q_col_int(&q, 7);
        p->created_at = eb__q_col_int(&q, 8);
    }
    eb__q_end(&q);
    if (rc < 0) {
        *n = 0;
        return rc;
    }
    *items = v;
    return 0;
}
