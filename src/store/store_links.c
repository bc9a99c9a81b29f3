/* Dated links between people and orgs: enrolments, posts, teaching, guardians. Ending a link
 * sets its end_date; no row is ever deleted, so the history stays. */
#include "store/store_int.h"

#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "registry/registry_ids.h"

static const char SQL_ENROL_INSERT[] =
    "INSERT INTO enrolments (school_id, person_id, class_id, class_path, start_date)"
    " VALUES (?, ?, ?, ?, ?) RETURNING id";
/* One current enrolment per student: PostgreSQL's partial unique index only holds per school
 * (the rule of distributed tables), so writers check across schools here, under the write
 * lock, through the leading column of that index. */
static const char SQL_ENROL_CURRENT[] =
    "SELECT id FROM enrolments WHERE person_id = ? AND end_date IS NULL";
static const char SQL_ENROL_GET[] =
    "SELECT class_path, start_date, end_date, person_id, class_id FROM enrolments WHERE id = ?";
static const char SQL_ENROL_END[] =
    "UPDATE enrolments SET end_date = ? WHERE id = ? AND end_date IS NULL";
static const char SQL_ENROL_OF[] =
    "SELECT e.id, e.person_id, e.class_id, o.name, e.start_date, e.end_date"
    " FROM enrolments e JOIN orgs o ON o.id = e.class_id WHERE e.person_id = ? ORDER BY e.id";

static const char SQL_POST_INSERT[] =
    "INSERT INTO posts (person_id, school_id, school_path, title, subjects, start_date)"
    " VALUES (?, ?, ?, ?, ?, ?) RETURNING id";
static const char SQL_POST_GET[] =
    "SELECT school_path, start_date, end_date, person_id, school_id FROM posts WHERE id = ?";
static const char SQL_POST_END[] =
    "UPDATE posts SET end_date = ? WHERE id = ? AND end_date IS NULL";
static const char SQL_POST_OF[] =
    "SELECT p.id, p.person_id, p.school_id, o.name, p.title, p.subjects, p.start_date,"
    " p.end_date FROM posts p JOIN orgs o ON o.id = p.school_id WHERE p.person_id = ?"
    " ORDER BY p.id";

static const char SQL_TEACH_INSERT[] =
    "INSERT INTO teaching (school_id, post_id, person_id, class_id, class_path, subject,"
    " is_head_teacher, start_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";

static const char SQL_TEACHING_END_OF_POST[] =
    "UPDATE teaching SET end_date = ? WHERE post_id = ? AND end_date IS NULL";
static const char SQL_GUARD_CURRENT[] = "SELECT id FROM guardians WHERE parent_id = ?"
                                        " AND student_id = ? AND end_date IS NULL";
static const char SQL_GUARD_INSERT[] =
    "INSERT INTO guardians (school_id, parent_id, student_id, relation, start_date)"
    " VALUES (?, ?, ?, ?, ?) RETURNING id";
static const char SQL_PERSON_MARK_PARENT[] =
    "UPDATE people SET kind = 'parent' WHERE id = ? AND kind = 'staff'";

static int check_date(const struct eb_caller *c, const char *d)
{
    if (d == NULL || d[0] == '\0' || strlen(d) > 10)
        return EB_EINVAL;
    return c->system ? 0 : eb_date_check(d, NULL) == 0 ? 0 : EB_EINVAL;
}

/* Runs an INSERT ... RETURNING id that is already bound. */
static int insert_returning(struct eb__q *q, int64_t *id)
{
    int rc = eb__q_step(q);
    if (rc == EB__STORE_ROW) {
        *id = eb__q_col_int(q, 0);
        rc = eb__q_exec(q);
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(q);
    return rc < 0 ? rc : 0;
}

static json_t *link_json(int64_t id, const char *k1, int64_t v1, const char *k2, int64_t v2,
                         const char *start, const char *end)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(id));
    json_object_set_new(j, k1, json_integer(v1));
    json_object_set_new(j, k2, json_integer(v2));
    json_object_set_new(j, "start_date", start ? json_string(start) : json_null());
    json_object_set_new(j, "end_date", end ? json_string(end) : json_null());
    return j;
}

/* ---- enrolments ------------------------------------------------------------------------- */

int eb_store_enrolment_create(struct eb_db *db, const struct eb_caller *c,
                              const struct eb_enrolment *in, int64_t *id)
{
    char path[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    struct eb__q q;
    int own = 0, rc;
    *id = 0;
    rc = check_date(c, in->start_date);
    if (rc != 0)
        return rc;
    rc = eb__org_path(db, in->class_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    if (kind != EB_ORG_CLASS)
        return EB_EINVAL;
    if (!c->system) {
        rc = eb__person_check(db, c, in->person_id, EB_ACCESS_READ, NULL);
        if (rc != 0)
            return rc;
    }
    int64_t unit = 0;
    rc = eb__org_unit(db, path, kind, &unit);
    if (rc != 0)
        return rc;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    int64_t new_id = 0;
    if (!eb__audit_skip(c)) {
        eb__q_start(db, SQL_ENROL_CURRENT, &q);
        eb__q_int(&q, in->person_id);
        rc = eb__q_step(&q);
        eb__q_end(&q);
        rc = rc == EB__STORE_ROW ? EB_ECONFLICT : rc < 0 ? rc : 0;
        if (rc != 0)
            return eb__tx_leave(db, own, rc);
    }
    eb__q_start(db, SQL_ENROL_INSERT, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, in->person_id);
    eb__q_int(&q, in->class_id);
    eb__q_text(&q, path);
    eb__q_text(&q, in->start_date);
    rc = insert_returning(&q, &new_id);
    /* The partial unique index allows one current enrolment per student. */
    if (rc == EB_EEXIST)
        rc = EB_ECONFLICT;
    if (rc == 0 && !eb__audit_skip(c))
        rc = eb__audit_write(db, c, "enrolment.create", "enrolment", new_id, path, NULL,
                             link_json(new_id, "person_id", in->person_id, "class_id", in->class_id,
                                       in->start_date, NULL));
    if (rc == 0)
        rc = eb__org_changed(db, c, path);
    if (rc == 0)
        *id = new_id;
    return eb__tx_leave(db, own, rc);
}

/* Ends an enrolment or a post: the same shape on two tables. */
static int link_end(struct eb_db *db, const struct eb_caller *c, int64_t id, const char *end_date,
                    const char *sql_get, const char *sql_end, const char *action, const char *type,
                    const char *k2)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb__q q = {0};
    int own = 0, rc;
    rc = check_date(c, end_date);
    if (rc != 0)
        goto done;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    eb__q_start(db, sql_get, &q);
    eb__q_int(&q, id);
    rc = eb__q_step(&q);
    if (rc != EB__STORE_ROW) {
        rc = rc < 0 ? rc : EB_ENOTFOUND;
        goto done;
    }
    char *path = eb__q_col_str(&q, 0, a);
    char *start = eb__q_col_str(&q, 1, a);
    int ended = !eb__q_col_null(&q, 2);
    int64_t person_id = eb__q_col_int(&q, 3), org_id = eb__q_col_int(&q, 4);
    eb__q_end(&q);
    if (path == NULL || !eb_caller_allows(c, path, EB_ACCESS_WRITE)) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    if (ended) {
        rc = EB_ECONFLICT;
        goto done;
    }
    if (start != NULL && strcmp(end_date, start) < 0) {
        rc = EB_EINVAL;
        goto done;
    }
    eb__q_start(db, sql_end, &q);
    eb__q_text(&q, end_date);
    eb__q_int(&q, id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    rc = eb__audit_write(db, c, action, type, id, path,
                         link_json(id, "person_id", person_id, k2, org_id, start, NULL),
                         link_json(id, "person_id", person_id, k2, org_id, start, end_date));
    if (rc == 0)
        rc = eb__org_changed(db, c, path);
done:
    eb__q_end(&q);
    rc = eb__tx_leave(db, own, rc);
    eb_arena_destroy(a);
    return rc;
}

int eb_store_enrolment_end(struct eb_db *db, const struct eb_caller *c, int64_t id,
                           const char *end_date)
{
    return link_end(db, c, id, end_date, SQL_ENROL_GET, SQL_ENROL_END, "enrolment.end", "enrolment",
                    "class_id");
}

int eb_store_person_enrolments(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                               struct eb_arena *a, size_t *n, struct eb_enrolment **items)
{
    struct eb__q q = {0};
    size_t cap = 0;
    struct eb_enrolment *v = NULL;
    *n = 0;
    *items = NULL;
    int rc = eb__person_check(db, c, person_id, EB_ACCESS_READ, NULL);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_ENROL_OF, &q);
    eb__q_int(&q, person_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_enrolment *e = &v[(*n)++];
        e->id = eb__q_col_int(&q, 0);
        e->person_id = eb__q_col_int(&q, 1);
        e->class_id = eb__q_col_int(&q, 2);
        e->class_name = eb__q_col_str(&q, 3, a);
        e->start_date = eb__q_col_str(&q, 4, a);
        e->end_date = eb__q_col_str(&q, 5, a);
    }
    eb__q_end(&q);
    if (rc < 0) {
        *n = 0;
        return rc;
    }
    *items = v;
    return 0;
}

/* ---- posts and teaching ----------------------------------------------------------------- */

int eb_store_post_create(struct eb_db *db, const struct eb_caller *c, const struct eb_post *in,
                         int64_t *id)
{
    char path[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    struct eb__q q;
    int own = 0, rc;
    *id = 0;
    rc = check_date(c, in->start_date);
    if (rc != 0)
        return rc;
    if (in->title == NULL || in->title[0] == '\0' || strlen(in->title) > 100)
        return EB_EINVAL;
    rc = eb__org_path(db, in->school_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    if (kind != EB_ORG_SCHOOL)
        return EB_EINVAL;
    if (!c->system) {
        rc = eb__person_check(db, c, in->person_id, EB_ACCESS_READ, NULL);
        if (rc != 0)
            return rc;
    }
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    int64_t new_id = 0;
    eb__q_start(db, SQL_POST_INSERT, &q);
    eb__q_int(&q, in->person_id);
    eb__q_int(&q, in->school_id);
    eb__q_text(&q, path);
    eb__q_text(&q, in->title);
    eb__q_text(&q, in->subjects);
    eb__q_text(&q, in->start_date);
    rc = insert_returning(&q, &new_id);
    if (rc == 0 && !eb__audit_skip(c)) {
        json_t *j = link_json(new_id, "person_id", in->person_id, "school_id", in->school_id,
                              in->start_date, NULL);
        json_object_set_new(j, "title", json_string(in->title));
        if (in->subjects)
            json_object_set_new(j, "subjects", json_string(in->subjects));
        rc = eb__audit_write(db, c, "post.create", "post", new_id, path, NULL, j);
        if (rc == 0)
            rc = eb__org_changed(db, c, path);
    }
    if (rc == 0)
        *id = new_id;
    return eb__tx_leave(db, own, rc);
}

int eb_store_post_end(struct eb_db *db, const struct eb_caller *c, int64_t id, const char *end_date)
{
    int own = 0;
    int rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    rc = link_end(db, c, id, end_date, SQL_POST_GET, SQL_POST_END, "post.end", "post", "school_id");
    if (rc == 0) {
        /* A teacher who leaves the school stops teaching its classes on the same day. */
        struct eb__q q;
        eb__q_start(db, SQL_TEACHING_END_OF_POST, &q);
        eb__q_text(&q, end_date);
        eb__q_int(&q, id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        rc = rc < 0 ? rc : 0;
    }
    return eb__tx_leave(db, own, rc);
}

int eb_store_person_posts(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                          struct eb_arena *a, size_t *n, struct eb_post **items)
{
    struct eb__q q = {0};
    size_t cap = 0;
    struct eb_post *v = NULL;
    *n = 0;
    *items = NULL;
    int rc = eb__person_check(db, c, person_id, EB_ACCESS_READ, NULL);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_POST_OF, &q);
    eb__q_int(&q, person_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_post *p = &v[(*n)++];
        p->id = eb__q_col_int(&q, 0);
        p->person_id = eb__q_col_int(&q, 1);
        p->school_id = eb__q_col_int(&q, 2);
        p->school_name = eb__q_col_str(&q, 3, a);
        p->title = eb__q_col_str(&q, 4, a);
        p->subjects = eb__q_col_str(&q, 5, a);
        p->start_date = eb__q_col_str(&q, 6, a);
        p->end_date = eb__q_col_str(&q, 7, a);
    }
    eb__q_end(&q);
    if (rc < 0) {
        *n = 0;
        return rc;
    }
    *items = v;
    return 0;
}

int eb_store_teaching_create(struct eb_db *db, const struct eb_caller *c,
                             const struct eb_teaching *in, int64_t *id)
{
    char class_path[EB_PATH_MAX], school_path[EB_PATH_MAX] = "";
    enum eb_org_kind kind = 0;
    struct eb__q q;
    int own = 0, rc, post_open = 0;
    int64_t person_id = 0;
    *id = 0;
    rc = check_date(c, in->start_date);
    if (rc != 0)
        return rc;
    if (in->subject == NULL || in->subject[0] == '\0' || strlen(in->subject) > 100)
        return EB_EINVAL;
    rc = eb__org_path(db, in->class_id, class_path, &kind);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, class_path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    if (kind != EB_ORG_CLASS)
        return EB_EINVAL;
    eb__q_start(db, SQL_POST_GET, &q);
    eb__q_int(&q, in->post_id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        size_t len = 0;
        const char *p = q.db->be->col_text(q.stmt, 0, &len);
        if (p != NULL && len < sizeof(school_path)) {
            memcpy(school_path, p, len);
            school_path[len] = '\0';
        }
        post_open = eb__q_col_null(&q, 2);
        person_id = eb__q_col_int(&q, 3);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc != 0)
        return rc;
    if (!c->system && !eb_caller_allows(c, school_path, EB_ACCESS_READ))
        return EB_ENOTFOUND;
    /* A teacher teaches classes of the school that employs them, while employed. */
    if (!eb__path_within(class_path, school_path) || !post_open)
        return EB_EINVAL;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    int64_t new_id = 0, unit = 0;
    rc = eb__org_unit(db, class_path, kind, &unit);
    if (rc != 0)
        return eb__tx_leave(db, own, rc);
    eb__q_start(db, SQL_TEACH_INSERT, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, in->post_id);
    eb__q_int(&q, person_id);
    eb__q_int(&q, in->class_id);
    eb__q_text(&q, class_path);
    eb__q_text(&q, in->subject);
    eb__q_int(&q, in->is_head_teacher ? 1 : 0);
    eb__q_text(&q, in->start_date);
    rc = insert_returning(&q, &new_id);
    if (rc == 0 && !eb__audit_skip(c)) {
        json_t *j = link_json(new_id, "post_id", in->post_id, "class_id", in->class_id,
                              in->start_date, NULL);
        json_object_set_new(j, "subject", json_string(in->subject));
        json_object_set_new(j, "is_head_teacher", json_boolean(in->is_head_teacher));
        rc = eb__audit_write(db, c, "teaching.create", "teaching", new_id, class_path, NULL, j);
        if (rc == 0)
            rc = eb__org_changed(db, c, class_path);
    }
    if (rc == 0)
        *id = new_id;
    return eb__tx_leave(db, own, rc);
}

/* ---- guardians -------------------------------------------------------------------------- */

int eb_store_guardian_create(struct eb_db *db, const struct eb_caller *c,
                             const struct eb_guardian *in, int64_t *id)
{
    char path[EB_PATH_MAX];
    struct eb__q q;
    int own = 0, rc;
    *id = 0;
    rc = check_date(c, in->start_date);
    if (rc != 0)
        return rc;
    if (in->relation == NULL || in->relation[0] == '\0' || strlen(in->relation) > 50 ||
        in->parent_id == in->student_id)
        return EB_EINVAL;
    /* The link is written where the student is; the parent must at least be visible. */
    rc = eb__person_check(db, c, in->student_id, EB_ACCESS_WRITE, path);
    if (rc != 0)
        return rc;
    rc = eb__person_check(db, c, in->parent_id, EB_ACCESS_READ, NULL);
    if (rc != 0)
        return rc;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_GUARD_CURRENT, &q);
    eb__q_int(&q, in->parent_id);
    eb__q_int(&q, in->student_id);
    rc = eb__q_step(&q);
    eb__q_end(&q);
    if (rc != EB__STORE_DONE) {
        rc = rc < 0 ? rc : EB_EEXIST;
        goto done;
    }
    int64_t new_id = 0, unit = 0;
    rc = eb__org_unit(db, path, 0, &unit);
    if (rc != 0)
        goto done;
    eb__q_start(db, SQL_GUARD_INSERT, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, in->parent_id);
    eb__q_int(&q, in->student_id);
    eb__q_text(&q, in->relation);
    eb__q_text(&q, in->start_date);
    rc = insert_returning(&q, &new_id);
    if (rc != 0)
        goto done;
    /* A person registered without a role becomes a parent by being linked as one. */
    eb__q_start(db, SQL_PERSON_MARK_PARENT, &q);
    eb__q_int(&q, in->parent_id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    rc = 0;
    if (!eb__audit_skip(c)) {
        json_t *j = link_json(new_id, "parent_id", in->parent_id, "student_id", in->student_id,
                              in->start_date, NULL);
        json_object_set_new(j, "relation", json_string(in->relation));
        rc = eb__audit_write(db, c, "guardian.create", "guardian", new_id, path, NULL, j);
        if (rc == 0)
            rc = eb__org_changed(db, c, path);
    }
    if (rc == 0)
        *id = new_id;
done:
    return eb__tx_leave(db, own, rc);
}
