/* The registry reads of the brain's feeds and of the demo history: classes, students, schools
 * and the value each element last had at a node. */
#include "core/err.h"
#include "store/store.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The school of a class is its grade's parent; a class hung straight under a school (no grade
 * node) has the school as its parent. */
static const char SQL_FEED_CLASSES[] =
    "SELECT o.id, CASE WHEN g.kind = 4 THEN g.parent_id ELSE g.id END, o.grade_code,"
    " (SELECT COUNT(*) FROM enrolments e WHERE e.class_id = o.id AND e.end_date IS NULL)"
    " FROM orgs o JOIN orgs g ON g.id = o.parent_id WHERE o.kind = 5 AND o.closed_on IS NULL"
    " AND o.path >= ? AND o.path < ? ORDER BY o.path";

/* One range scan on enrolments_current_path, in the order the history walks the classes. */
static const char SQL_FEED_STUDENTS[] =
    "SELECT e.class_id, e.person_id FROM enrolments e JOIN orgs o ON o.id = e.class_id"
    " WHERE e.end_date IS NULL AND e.class_path >= ? AND e.class_path < ?"
    " AND o.closed_on IS NULL ORDER BY e.class_path, e.person_id";

static const char SQL_FEED_SCHOOLS[] =
    "SELECT id, parent_id, stages, running_type FROM orgs WHERE kind = 3 AND closed_on IS NULL"
    " AND path >= ? AND path < ? ORDER BY path";

/* One index probe per node: observations_element_path_day read backwards from the node's newest
 * day, skipping rows that a correction replaced. */
static const char SQL_FEED_LATEST[] =
    "SELECT o.id, x.id, x.day, x.value FROM orgs o LEFT JOIN observations x ON x.id ="
    " (SELECT y.id FROM observations y WHERE y.element_id = ? AND y.org_path = o.path"
    " AND NOT EXISTS (SELECT 1 FROM observations s WHERE s.supersedes = y.id)"
    " ORDER BY y.day DESC, y.id DESC LIMIT 1)"
    " WHERE o.kind = ? AND o.closed_on IS NULL AND o.path >= ? AND o.path < ? ORDER BY o.path";

/* The subtree of org_id as a path range, when the caller may read the people in it. */
static int scope_range(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                       char path[EB_PATH_MAX], char hi[EB_PATH_MAX], enum eb_org_kind *kind)
{
    int rc = eb__org_path(db, org_id, path, kind);
    if (rc != 0)
        return rc;
    if (!eb__caller_sees_people(c, path))
        return EB_ENOTFOUND;
    eb__path_hi(path, hi);
    return 0;
}

int eb_store_feed_classes(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                          struct eb_arena *a, size_t *n, struct eb_feed_class **items)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    size_t cap = 0;
    struct eb__q q;
    *n = 0;
    *items = NULL;
    int rc = scope_range(db, c, org_id, path, hi, NULL);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_FEED_CLASSES, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct eb_feed_class *r = eb_arena_grow(a, *items, *n, &cap, sizeof(**items));
        if (r == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        *items = r;
        struct eb_feed_class *it = &r[*n];
        memset(it, 0, sizeof(*it));
        it->class_id = eb__q_col_int(&q, 0);
        it->school_id = eb__q_col_int(&q, 1);
        const char *gc = eb__q_col_null(&q, 2) ? "" : db->be->col_text(q.stmt, 2, NULL);
        snprintf(it->grade_code, sizeof(it->grade_code), "%s", gc ? gc : "");
        it->students = eb__q_col_int(&q, 3);
        (*n)++;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_feed_students(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                           eb_feed_student_fn fn, void *ctx)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    struct eb__q q;
    int rc = scope_range(db, c, org_id, path, hi, NULL);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_FEED_STUDENTS, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    int stop = 0;
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        stop = fn(ctx, eb__q_col_int(&q, 0), eb__q_col_int(&q, 1));
        if (stop != 0)
            break;
    }
    eb__q_end(&q);
    if (stop != 0)
        return stop;
    return rc < 0 ? rc : 0;
}

static int cmp_school_id(const void *a, const void *b)
{
    const struct eb_feed_school *x = *(const struct eb_feed_school *const *)a;
    const struct eb_feed_school *y = *(const struct eb_feed_school *const *)b;
    return x->school_id < y->school_id ? -1 : x->school_id > y->school_id;
}

static void reg_apply(struct eb_feed_school *s, const struct eb_reg_row *r)
{
    s->teachers = r->teachers.people;
    s->students = r->students.people;
    s->registered = r->teachers.registered + r->students.registered + r->parents.registered;
    s->activated = r->teachers.activated + r->students.activated + r->parents.activated;
}

/*
 * The counts come from eb_store_registration, so that the brain's registration figures are
 * exactly #4's. It is asked once per parent of the schools (a district), whose children rows
 * are the schools: one call gives a whole district instead of one call per school.
 */
int eb_store_feed_schools(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                          struct eb_arena *a, size_t *n, struct eb_feed_school **items)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    size_t cap = 0, pcap = 0, n_parents = 0;
    int64_t *parents = NULL;
    struct eb_feed_school **by_id = NULL;
    struct eb__q q;
    *n = 0;
    *items = NULL;
    int rc = scope_range(db, c, org_id, path, hi, &kind);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_FEED_SCHOOLS, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct eb_feed_school *r = eb_arena_grow(a, *items, *n, &cap, sizeof(**items));
        if (r == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        *items = r;
        struct eb_feed_school *it = &r[*n];
        memset(it, 0, sizeof(*it));
        it->school_id = eb__q_col_int(&q, 0);
        int64_t parent = eb__q_col_int(&q, 1);
        it->stages = (unsigned)eb__q_col_int(&q, 2);
        const char *rt = eb__q_col_null(&q, 3) ? "" : db->be->col_text(q.stmt, 3, NULL);
        snprintf(it->running_type, sizeof(it->running_type), "%s", rt ? rt : "");
        (*n)++;
        if (n_parents == 0 || parents[n_parents - 1] != parent) {
            int64_t *p = eb_arena_grow(a, parents, n_parents, &pcap, sizeof(*parents));
            if (p == NULL) {
                rc = EB_ETOOBIG;
                break;
            }
            parents = p;
            parents[n_parents++] = parent;
        }
    }
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    rc = 0;
    if (*n == 0)
        goto done;
    if (kind == EB_ORG_SCHOOL) {
        struct eb_reg_row total, *children = NULL;
        size_t n_children = 0;
        rc = eb_store_registration(db, c, org_id, a, &total, &n_children, &children);
        if (rc == 0)
            reg_apply(&(*items)[0], &total);
        goto done;
    }
    by_id = eb_arena_alloc(a, *n * sizeof(*by_id));
    if (by_id == NULL) {
        rc = EB_ETOOBIG;
        goto done;
    }
    for (size_t i = 0; i < *n; i++)
        by_id[i] = &(*items)[i];
    qsort(by_id, *n, sizeof(*by_id), cmp_school_id);
    /* Schools are listed in path order, so a district's schools come together; a parent seen
     * again after another one (not in the demo's tree) is only asked twice. */
    for (size_t p = 0; p < n_parents && rc == 0; p++) {
        struct eb_reg_row total, *children = NULL;
        size_t n_children = 0;
        rc = eb_store_registration(db, c, parents[p], a, &total, &n_children, &children);
        for (size_t i = 0; rc == 0 && i < n_children; i++) {
            struct eb_feed_school key = {.school_id = children[i].org_id}, *kp = &key;
            struct eb_feed_school **hit = bsearch(&kp, by_id, *n, sizeof(*by_id), cmp_school_id);
            if (hit != NULL)
                reg_apply(*hit, &children[i]);
        }
    }
done:
    if (rc != 0) {
        *n = 0;
        *items = NULL;
    }
    return rc;
}

int eb_store_feed_latest(struct eb_db *db, const struct eb_caller *c, int32_t element_id,
                         enum eb_org_kind kind, int64_t org_id, struct eb_arena *a, size_t *n,
                         struct eb_feed_latest **items)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    size_t cap = 0;
    struct eb__q q;
    *n = 0;
    *items = NULL;
    int rc = scope_range(db, c, org_id, path, hi, NULL);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_FEED_LATEST, &q);
    eb__q_int(&q, element_id);
    eb__q_int(&q, kind);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct eb_feed_latest *r = eb_arena_grow(a, *items, *n, &cap, sizeof(**items));
        if (r == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        *items = r;
        struct eb_feed_latest *it = &r[*n];
        memset(it, 0, sizeof(*it));
        it->org_id = eb__q_col_int(&q, 0);
        if (!eb__q_col_null(&q, 1)) {
            it->has = 1;
            it->obs_id = eb__q_col_int(&q, 1);
            it->day = (int32_t)eb__q_col_int(&q, 2);
            it->value = eb__q_col_double(&q, 3);
        }
        (*n)++;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}
