/* Teacher exchange and rotation (交流轮岗): proposal by a bureau, agreement of both schools,
 * the posts that follow, the return of a rotation, and the yearly exchange rate. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "registry/registry_ids.h"

#define EXCHANGE_COLS                                                                              \
    "SELECT x.id, x.person_id, p.name, x.kind, x.state, x.from_post_id, x.from_school_id,"         \
    " fo.name, x.from_path, x.to_school_id, tos.name, x.to_path, x.bureau_path, x.to_post_id,"     \
    " x.title, x.subjects, x.start_date, x.end_date, x.reason, x.proposed_by, x.from_ok_by,"       \
    " x.to_ok_by, x.rejected_by, x.reject_reason, x.returned_on, x.created_at, x.updated_at"       \
    " FROM teacher_exchanges x JOIN people p ON p.id = x.person_id"                                \
    " JOIN orgs fo ON fo.id = x.from_school_id JOIN orgs tos ON tos.id = x.to_school_id"

static const char SQL_EXCHANGE_GET[] = EXCHANGE_COLS " WHERE x.id = ?";
/* Exchanges touching a subtree from either side: two range scans on their own indexes. */
static const char SQL_EXCHANGE_LIST[] =
    EXCHANGE_COLS " WHERE x.id > ? AND (? = '' OR x.state = ?) AND ((x.from_path >= ? AND"
                  " x.from_path < ?) OR (x.to_path >= ? AND x.to_path < ?)) ORDER BY x.id LIMIT ?";
static const char SQL_EXCHANGE_OF_PERSON[] = EXCHANGE_COLS " WHERE x.person_id = ? ORDER BY x.id";
static const char SQL_EXCHANGE_INSERT[] =
    "INSERT INTO teacher_exchanges (school_id, person_id, kind, state, from_post_id,"
    " from_school_id, from_path, to_school_id, to_path, bureau_path, title, subjects,"
    " start_date, end_date, reason, proposed_by, created_at, updated_at)"
    " VALUES (?, ?, ?, 'proposed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
static const char SQL_EXCHANGE_OPEN[] =
    "SELECT id FROM teacher_exchanges WHERE person_id = ? AND state IN ('proposed', 'active')";
static const char SQL_EXCHANGE_SET_OK[] =
    "UPDATE teacher_exchanges SET from_ok_by = COALESCE(?, from_ok_by),"
    " to_ok_by = COALESCE(?, to_ok_by), updated_at = ? WHERE id = ? AND state = 'proposed'";
static const char SQL_EXCHANGE_SET_STATE[] =
    "UPDATE teacher_exchanges SET state = ?, to_post_id = COALESCE(?, to_post_id),"
    " rejected_by = COALESCE(?, rejected_by), reject_reason = COALESCE(?, reject_reason),"
    " returned_on = COALESCE(?, returned_on), updated_at = ? WHERE id = ? AND state = ?";
/* The teacher's current post: at the named school, or the oldest current one. */
static const char SQL_CURRENT_POST[] =
    "SELECT id, school_id, school_path, title, subjects FROM posts WHERE person_id = ?"
    " AND end_date IS NULL AND (? = 0 OR school_id = ?) ORDER BY id LIMIT 1";
static const char SQL_SCHOOL_OPEN[] = "SELECT closed_on FROM orgs WHERE id = ?";
static const char SQL_TEACHERS_IN[] = "SELECT COUNT(DISTINCT person_id) FROM posts"
                                      " WHERE school_path >= ? AND school_path < ?"
                                      " AND end_date IS NULL";
static const char SQL_EXCHANGED_IN[] =
    "SELECT kind, COUNT(*) FROM teacher_exchanges WHERE from_path >= ? AND from_path < ?"
    " AND state IN ('active', 'done') AND start_date >= ? AND start_date <= ? GROUP BY kind";

static const char *const KINDS[] = {"rotation", "transfer"};

static int valid_kind(const char *k)
{
    return k != NULL && (strcmp(k, KINDS[0]) == 0 || strcmp(k, KINDS[1]) == 0);
}

/* The deepest org path that holds both (the bureau over two schools). */
static void common_path(const char *a, const char *b, char out[EB_PATH_MAX])
{
    size_t last = 0;
    for (size_t i = 0; a[i] && a[i] == b[i] && i + 1 < EB_PATH_MAX; i++)
        if (a[i] == '/')
            last = i + 1;
    memcpy(out, a, last);
    out[last] = '\0';
}

/* A grant of role whose subtree holds path: administrators act for their own node only. */
static int has_role_over(const struct eb_caller *c, enum eb_role role, const char *path)
{
    for (size_t i = 0; i < c->n_grants; i++)
        if (c->grants[i].role == role && eb__path_within(path, c->grants[i].org_path))
            return 1;
    return 0;
}

/* A bureau: a city or district administrator whose node holds path. */
static int is_bureau_over(const struct eb_caller *c, const char *path)
{
    return c->system || has_role_over(c, EB_ROLE_CITY_ADMIN, path) ||
           has_role_over(c, EB_ROLE_DISTRICT_ADMIN, path);
}

static int is_school_admin_of(const struct eb_caller *c, const char *school_path)
{
    return c->system || has_role_over(c, EB_ROLE_SCHOOL_ADMIN, school_path);
}

static void read_row(struct eb__q *q, struct eb_arena *a, struct eb_exchange *x)
{
    memset(x, 0, sizeof(*x));
    x->id = eb__q_col_int(q, 0);
    x->person_id = eb__q_col_int(q, 1);
    x->person_name = eb__q_col_str(q, 2, a);
    x->kind = eb__q_col_str(q, 3, a);
    x->state = eb__q_col_str(q, 4, a);
    x->from_post_id = eb__q_col_int(q, 5);
    x->from_school_id = eb__q_col_int(q, 6);
    x->from_school_name = eb__q_col_str(q, 7, a);
    x->from_path = eb__q_col_str(q, 8, a);
    x->to_school_id = eb__q_col_int(q, 9);
    x->to_school_name = eb__q_col_str(q, 10, a);
    x->to_path = eb__q_col_str(q, 11, a);
    x->bureau_path = eb__q_col_str(q, 12, a);
    x->to_post_id = eb__q_col_null(q, 13) ? 0 : eb__q_col_int(q, 13);
    x->title = eb__q_col_str(q, 14, a);
    x->subjects = eb__q_col_str(q, 15, a);
    x->start_date = eb__q_col_str(q, 16, a);
    x->end_date = eb__q_col_str(q, 17, a);
    x->reason = eb__q_col_str(q, 18, a);
    x->proposed_by = eb__q_col_int(q, 19);
    x->from_ok_by = eb__q_col_null(q, 20) ? 0 : eb__q_col_int(q, 20);
    x->to_ok_by = eb__q_col_null(q, 21) ? 0 : eb__q_col_int(q, 21);
    x->rejected_by = eb__q_col_null(q, 22) ? 0 : eb__q_col_int(q, 22);
    x->reject_reason = eb__q_col_str(q, 23, a);
    x->returned_on = eb__q_col_str(q, 24, a);
    x->created_at = eb__q_col_int(q, 25);
    x->updated_at = eb__q_col_int(q, 26);
}

/* What this caller may do next with x (EB_EXCHANGE_CAN_* bits). */
static unsigned actions_of(const struct eb_caller *c, const struct eb_exchange *x)
{
    unsigned can = 0;
    if (x->from_path == NULL || x->to_path == NULL || x->state == NULL)
        return 0;
    if (strcmp(x->state, "proposed") == 0) {
        if (x->from_ok_by == 0 && is_school_admin_of(c, x->from_path))
            can |= EB_EXCHANGE_CAN_AGREE_FROM;
        if (x->to_ok_by == 0 && is_school_admin_of(c, x->to_path))
            can |= EB_EXCHANGE_CAN_AGREE_TO;
        if (is_school_admin_of(c, x->from_path) || is_school_admin_of(c, x->to_path))
            can |= EB_EXCHANGE_CAN_REJECT;
        if (is_bureau_over(c, x->bureau_path))
            can |= EB_EXCHANGE_CAN_CANCEL;
    } else if (strcmp(x->state, "active") == 0 && strcmp(x->kind, "rotation") == 0) {
        if (is_bureau_over(c, x->bureau_path) || is_school_admin_of(c, x->to_path))
            can |= EB_EXCHANGE_CAN_RETURN;
    }
    return can;
}

/* Both schools' staff readers see an exchange; nobody else learns that it exists. */
static int may_see(const struct eb_caller *c, const struct eb_exchange *x)
{
    return c->system || (x->from_path && eb__caller_sees_people(c, x->from_path)) ||
           (x->to_path && eb__caller_sees_people(c, x->to_path));
}

static json_t *exchange_json(const struct eb_exchange *x)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(x->id));
    json_object_set_new(j, "person_id", json_integer(x->person_id));
    json_object_set_new(j, "kind", json_string(x->kind ? x->kind : ""));
    json_object_set_new(j, "state", json_string(x->state ? x->state : ""));
    json_object_set_new(j, "from_school_id", json_integer(x->from_school_id));
    json_object_set_new(j, "to_school_id", json_integer(x->to_school_id));
    json_object_set_new(j, "start_date", json_string(x->start_date ? x->start_date : ""));
    if (x->end_date)
        json_object_set_new(j, "end_date", json_string(x->end_date));
    return j;
}

static int load(struct eb_db *db, int64_t id, struct eb_arena *a, struct eb_exchange *out)
{
    struct eb__q q;
    eb__q_start(db, SQL_EXCHANGE_GET, &q);
    eb__q_int(&q, id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        read_row(&q, a, out);
    eb__q_end(&q);
    return rc == EB__STORE_ROW ? 0 : rc < 0 ? rc : EB_ENOTFOUND;
}

int eb_store_exchange_get(struct eb_db *db, const struct eb_caller *c, int64_t id,
                          struct eb_arena *a, struct eb_exchange *out)
{
    int rc = load(db, id, a, out);
    if (rc != 0)
        return rc;
    if (!may_see(c, out))
        return EB_ENOTFOUND;
    out->can = actions_of(c, out);
    return 0;
}

int eb_store_exchange_propose(struct eb_db *db, const struct eb_caller *c,
                              const struct eb_exchange *in, int64_t *id)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb__q q = {0};
    char to_path[EB_PATH_MAX], bureau[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    int own = 0, rc;
    *id = 0;
    if (a == NULL)
        return EB_ETOOBIG;
    rc = EB_EINVAL;
    if (!valid_kind(in->kind) || in->reason == NULL || in->reason[0] == '\0' ||
        eb_date_check(in->start_date, NULL) != 0)
        goto done;
    /* A rotation is for a period; a transfer is for good. */
    if (strcmp(in->kind, "rotation") == 0
            ? in->end_date == NULL || eb_date_check(in->end_date, NULL) != 0 ||
                  strcmp(in->end_date, in->start_date) <= 0
            : in->end_date != NULL)
        goto done;
    if (in->title != NULL && (in->title[0] == '\0' || strlen(in->title) > 100))
        goto done;
    rc = eb__org_path(db, in->to_school_id, to_path, &kind);
    if (rc != 0)
        goto done;
    if (!eb_caller_allows(c, to_path, EB_ACCESS_READ)) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    if (kind != EB_ORG_SCHOOL) {
        rc = EB_EINVAL;
        goto done;
    }
    rc = eb__person_check(db, c, in->person_id, EB_ACCESS_READ, NULL);
    if (rc != 0)
        goto done;
    eb__q_start(db, SQL_CURRENT_POST, &q);
    eb__q_int(&q, in->person_id);
    eb__q_int(&q, in->from_school_id);
    eb__q_int(&q, in->from_school_id);
    rc = eb__q_step(&q);
    if (rc != EB__STORE_ROW) {
        /* Only a teacher with a current post can be exchanged. */
        rc = rc < 0 ? rc : EB_ECONFLICT;
        goto done;
    }
    int64_t post_id = eb__q_col_int(&q, 0), from_school = eb__q_col_int(&q, 1);
    char *from_path = eb__q_col_str(&q, 2, a);
    char *title = eb__q_col_str(&q, 3, a);
    char *subjects = eb__q_col_str(&q, 4, a);
    eb__q_end(&q);
    if (from_path == NULL) {
        rc = EB_ESTORE;
        goto done;
    }
    common_path(from_path, to_path, bureau);
    /* The bureau over both schools decides: a district for its own schools, the city between
     * districts. A school cannot send its teachers elsewhere on its own. The role comes before
     * the remaining checks, so that a teacher learns nothing from them. */
    if (!eb_caller_allows(c, from_path, EB_ACCESS_WRITE) ||
        !eb_caller_allows(c, to_path, EB_ACCESS_WRITE) || !is_bureau_over(c, bureau)) {
        rc = EB_EDENIED;
        goto done;
    }
    if (from_school == in->to_school_id) {
        rc = EB_EINVAL;
        goto done;
    }
    eb__q_start(db, SQL_SCHOOL_OPEN, &q);
    eb__q_int(&q, in->to_school_id);
    rc = eb__q_step(&q);
    int closed = rc == EB__STORE_ROW && !eb__q_col_null(&q, 0);
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    if (closed) {
        rc = EB_ECONFLICT;
        goto done;
    }
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    eb__q_start(db, SQL_EXCHANGE_OPEN, &q);
    eb__q_int(&q, in->person_id);
    rc = eb__q_step(&q);
    eb__q_end(&q);
    rc = rc == EB__STORE_ROW ? EB_EEXIST : rc < 0 ? rc : 0;
    if (rc != 0)
        goto done;
    int64_t now = eb__now_ms() / 1000;
    eb__q_start(db, SQL_EXCHANGE_INSERT, &q);
    eb__q_int(&q, from_school);
    eb__q_int(&q, in->person_id);
    eb__q_text(&q, in->kind);
    eb__q_int(&q, post_id);
    eb__q_int(&q, from_school);
    eb__q_text(&q, from_path);
    eb__q_int(&q, in->to_school_id);
    eb__q_text(&q, to_path);
    eb__q_text(&q, bureau);
    eb__q_text(&q, in->title ? in->title : title);
    eb__q_text(&q, in->subjects ? in->subjects : subjects);
    eb__q_text(&q, in->start_date);
    eb__q_text(&q, in->end_date);
    eb__q_text(&q, in->reason);
    eb__q_int(&q, c->account_id);
    eb__q_int(&q, now);
    eb__q_int(&q, now);
    rc = eb__q_step(&q);
    int64_t new_id = rc == EB__STORE_ROW ? eb__q_col_int(&q, 0) : 0;
    if (rc == EB__STORE_ROW)
        rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc == EB_EEXIST || rc < 0)
        goto done;
    struct eb_exchange x = *in;
    x.id = new_id;
    x.state = "proposed";
    x.from_school_id = from_school;
    rc = eb__audit_write(db, c, "exchange.propose", "teacher_exchange", new_id, bureau, NULL,
                         exchange_json(&x));
    if (rc == 0)
        *id = new_id;
done:
    eb__q_end(&q);
    if (own)
        rc = eb__tx_leave(db, own, rc);
    eb_arena_destroy(a);
    return rc;
}

/* The posts an agreed exchange changes, written with the workflow's authority: the receiving
 * school's administrator who agrees last cannot write posts of the sending school directly. */
static int apply_posts(struct eb_db *db, const struct eb_caller *c, const struct eb_exchange *x,
                       int64_t *to_post)
{
    struct eb_caller sys = *c;
    sys.system = 1;
    sys.no_audit = 0;
    struct eb_post p = {.person_id = x->person_id,
                        .school_id = x->to_school_id,
                        .title = x->title,
                        .subjects = x->subjects,
                        .start_date = x->start_date};
    int rc = eb_store_post_create(db, &sys, &p, to_post);
    if (rc == 0 && strcmp(x->kind, "transfer") == 0)
        rc = eb_store_post_end(db, &sys, x->from_post_id, x->start_date);
    return rc;
}

int eb_store_exchange_decide(struct eb_db *db, const struct eb_caller *c, int64_t id,
                             enum eb_exchange_action action, const char *text)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb__q q = {0};
    struct eb_exchange x;
    int own = 0, rc;
    if (a == NULL)
        return EB_ETOOBIG;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    rc = load(db, id, a, &x);
    if (rc != 0)
        goto done;
    if (!may_see(c, &x)) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    unsigned can = actions_of(c, &x);
    int64_t now = eb__now_ms() / 1000, to_post = 0;
    const char *audit_path = x.bureau_path, *verb = NULL, *to_state = NULL;
    json_t *before = exchange_json(&x);
    switch (action) {
    case EB_EXCHANGE_AGREE: {
        if (!(can & (EB_EXCHANGE_CAN_AGREE_FROM | EB_EXCHANGE_CAN_AGREE_TO))) {
            rc = strcmp(x.state, "proposed") != 0 ? EB_ECONFLICT : EB_EDENIED;
            break;
        }
        /* A caller who administers both schools agrees for both at once. */
        int from = (can & EB_EXCHANGE_CAN_AGREE_FROM) != 0,
            to = (can & EB_EXCHANGE_CAN_AGREE_TO) != 0;
        eb__q_start(db, SQL_EXCHANGE_SET_OK, &q);
        if (from)
            eb__q_int(&q, c->account_id);
        else
            eb__q_null(&q);
        if (to)
            eb__q_int(&q, c->account_id);
        else
            eb__q_null(&q);
        eb__q_int(&q, now);
        eb__q_int(&q, id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        if (rc < 0)
            break;
        rc = 0;
        verb = "exchange.agree";
        audit_path = from ? x.from_path : x.to_path;
        if ((x.from_ok_by != 0 || from) && (x.to_ok_by != 0 || to)) {
            rc = apply_posts(db, c, &x, &to_post);
            to_state = strcmp(x.kind, "rotation") == 0 ? "active" : "done";
        }
        break;
    }
    case EB_EXCHANGE_REJECT:
        if (!(can & EB_EXCHANGE_CAN_REJECT)) {
            rc = strcmp(x.state, "proposed") != 0 ? EB_ECONFLICT : EB_EDENIED;
            break;
        }
        if (text == NULL || text[0] == '\0') {
            rc = EB_EINVAL;
            break;
        }
        verb = "exchange.reject";
        to_state = "rejected";
        audit_path = is_school_admin_of(c, x.from_path) ? x.from_path : x.to_path;
        break;
    case EB_EXCHANGE_CANCEL:
        if (!(can & EB_EXCHANGE_CAN_CANCEL)) {
            rc = strcmp(x.state, "proposed") != 0 ? EB_ECONFLICT : EB_EDENIED;
            break;
        }
        verb = "exchange.cancel";
        to_state = "cancelled";
        break;
    case EB_EXCHANGE_RETURN:
        if (!(can & EB_EXCHANGE_CAN_RETURN)) {
            rc = strcmp(x.state, "active") != 0 ? EB_ECONFLICT : EB_EDENIED;
            break;
        }
        if (text == NULL || eb_date_check(text, NULL) != 0 || strcmp(text, x.start_date) < 0) {
            rc = EB_EINVAL;
            break;
        }
        {
            struct eb_caller sys = *c;
            sys.system = 1;
            sys.no_audit = 0;
            rc = eb_store_post_end(db, &sys, x.to_post_id, text);
        }
        verb = "exchange.return";
        to_state = "done";
        break;
    default:
        rc = EB_EINVAL;
    }
    if (rc == 0 && to_state != NULL) {
        eb__q_start(db, SQL_EXCHANGE_SET_STATE, &q);
        eb__q_text(&q, to_state);
        if (to_post)
            eb__q_int(&q, to_post);
        else
            eb__q_null(&q);
        if (action == EB_EXCHANGE_REJECT)
            eb__q_int(&q, c->account_id);
        else
            eb__q_null(&q);
        eb__q_text(&q, action == EB_EXCHANGE_REJECT ? text : NULL);
        eb__q_text(&q, action == EB_EXCHANGE_RETURN ? text : NULL);
        eb__q_int(&q, now);
        eb__q_int(&q, id);
        eb__q_text(&q, x.state);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0) {
        json_t *after = exchange_json(&x);
        json_object_set_new(after, "state", json_string(to_state ? to_state : x.state));
        if (text != NULL)
            json_object_set_new(after, action == EB_EXCHANGE_RETURN ? "returned_on" : "reason",
                                json_string(text));
        rc = eb__audit_write(db, c, verb, "teacher_exchange", id, audit_path, before, after);
    } else {
        json_decref(before);
    }
done:
    eb__q_end(&q);
    if (own)
        rc = eb__tx_leave(db, own, rc);
    eb_arena_destroy(a);
    return rc;
}

static int collect(struct eb__q *q, const struct eb_caller *c, struct eb_arena *a, int limit,
                   struct eb_exchange_list *out)
{
    size_t cap = 0;
    int rc;
    while ((rc = eb__q_step(q)) == EB__STORE_ROW) {
        if (limit > 0 && out->n == (size_t)limit) {
            out->next = out->items[out->n - 1].id;
            break;
        }
        out->items = eb_arena_grow(a, out->items, out->n, &cap, sizeof(*out->items));
        if (out->items == NULL)
            return EB_ETOOBIG;
        struct eb_exchange *x = &out->items[out->n];
        read_row(q, a, x);
        if (!may_see(c, x))
            continue;
        x->can = actions_of(c, x);
        out->n++;
    }
    return rc < 0 ? rc : 0;
}

int eb_store_exchange_list(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                           const char *state, int64_t after, int limit, struct eb_arena *a,
                           struct eb_exchange_list *out)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    int rc = eb__org_path(db, org_id, path, NULL);
    if (rc != 0)
        return rc;
    if (!c->system && !eb__caller_sees_people(c, path))
        return EB_ENOTFOUND;
    eb__path_hi(path, hi);
    eb__q_start(db, SQL_EXCHANGE_LIST, &q);
    eb__q_int(&q, after);
    eb__q_text(&q, state ? state : "");
    eb__q_text(&q, state ? state : "");
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    eb__q_int(&q, limit + 1);
    rc = collect(&q, c, a, limit, out);
    eb__q_end(&q);
    return rc;
}

int eb_store_exchange_of_person(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                                struct eb_arena *a, struct eb_exchange_list *out)
{
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    int rc = eb__person_check(db, c, person_id, EB_ACCESS_READ, NULL);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_EXCHANGE_OF_PERSON, &q);
    eb__q_int(&q, person_id);
    rc = collect(&q, c, a, 0, out);
    eb__q_end(&q);
    return rc;
}

int eb_store_exchange_stats(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                            const char *from, const char *to, struct eb_exchange_stats *out)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    int rc = eb__org_path(db, org_id, path, NULL);
    if (rc != 0)
        return rc;
    if (!c->system && !eb__caller_sees_people(c, path))
        return EB_ENOTFOUND;
    eb__path_hi(path, hi);
    eb__q_start(db, SQL_TEACHERS_IN, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        out->teachers = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    eb__q_start(db, SQL_EXCHANGED_IN, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    eb__q_text(&q, from);
    eb__q_text(&q, to);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        char kind[16];
        size_t len = 0;
        const char *k = q.db->be->col_text(q.stmt, 0, &len);
        snprintf(kind, sizeof(kind), "%.*s", (int)len, k ? k : "");
        if (strcmp(kind, "rotation") == 0)
            out->rotations = eb__q_col_int(&q, 1);
        else
            out->transfers = eb__q_col_int(&q, 1);
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}
