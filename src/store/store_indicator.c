/* The brain's indicator definitions and alerts (table indicators, alerts; migration 0015). */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"

static const char SQL_IND_SCAN[] = "SELECT code, definition FROM indicators ORDER BY id";
static const char SQL_IND_BY_CODE[] = "SELECT id FROM indicators WHERE code = ?";
static const char SQL_IND_INSERT[] =
    "INSERT INTO indicators (code, definition, created_at, created_by) VALUES (?, ?, ?, ?)"
    " RETURNING id";
static const char SQL_ALERT_INSERT[] =
    "INSERT INTO alerts (school_id, rule, org_id, org_path, since_day, last_day, state, detail,"
    " opened_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_ALERT_OPEN_ID[] =
    "SELECT id FROM alerts WHERE rule = ? AND org_id = ? AND state = 'open'";
static const char SQL_ALERT_CLOSE[] =
    "UPDATE alerts SET state = 'closed', closed_at = ?, cleared_day = ?"
    " WHERE rule = ? AND org_id = ? AND state = 'open' RETURNING id";
static const char SQL_ALERT_OPEN_SCAN[] =
    "SELECT rule, org_id, since_day, last_day, id FROM alerts WHERE state = 'open' ORDER BY id";
static const char SQL_ALERT_LIST[] =
    "SELECT a.id, a.rule, a.org_id, a.org_path, a.since_day, a.last_day, a.state, a.detail,"
    " a.opened_at, a.closed_at, a.cleared_day, o.name, o.kind"
    " FROM alerts a JOIN orgs o ON o.id = a.org_id"
    " WHERE a.org_path >= ? AND a.org_path < ? AND (? = 0 OR a.state = 'open')"
    " AND (? = 0 OR a.id < ?) ORDER BY a.id DESC LIMIT ?";
static const char SQL_ALERT_COUNT[] =
    "SELECT COUNT(*) FROM alerts WHERE org_path >= ? AND org_path < ? AND state = 'open'";

int eb_store_brain_org(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                       struct eb_arena *a, struct eb_org *out)
{
    int rc = eb_store_org_head(db, c, org_id, a, out);
    if (rc)
        return rc;
    /* Aggregates of a class still describe its pupils: the people-reading roles only. */
    return eb__caller_sees_people(c, out->path) ? 0 : EB_ENOTFOUND;
}

int eb_store_indicators_scan(struct eb_db *db, eb_indicator_row_fn fn, void *ctx)
{
    struct eb__q q;
    int rc;
    /* Definitions are small documents: the scan's strings live in one arena. */
    struct eb_arena *a = eb_arena_create(8u << 20);
    eb__q_start(db, SQL_IND_SCAN, &q);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char *code = eb__q_col_str(&q, 0, a), *json = eb__q_col_str(&q, 1, a);
        rc = code && json ? fn(ctx, code, json) : EB_ETOOBIG;
        if (rc)
            break;
    }
    eb__q_end(&q);
    eb_arena_destroy(a);
    return rc == EB__STORE_DONE ? 0 : rc;
}

/* The grant that makes the caller a bureau administrator: where the audit row belongs. */
static const char *bureau_path(const struct eb_caller *c)
{
    for (size_t i = 0; c != NULL && i < c->n_grants; i++)
        if (c->grants[i].role == EB_ROLE_CITY_ADMIN || c->grants[i].role == EB_ROLE_DISTRICT_ADMIN)
            return c->grants[i].org_path;
    return NULL;
}

int eb_store_indicator_create(struct eb_db *db, const struct eb_caller *c, const char *code,
                              const char *json, int64_t *id)
{
    struct eb__q q;
    int own = 0, rc;
    *id = 0;
    if (!c->system && !eb__caller_has_role(c, EB_ROLE_CITY_ADMIN) &&
        !eb__caller_has_role(c, EB_ROLE_DISTRICT_ADMIN))
        return EB_EDENIED;
    rc = eb__tx_enter(db, c, &own);
    if (rc)
        return rc;
    eb__q_start(db, SQL_IND_BY_CODE, &q);
    eb__q_text(&q, code);
    rc = eb__q_step(&q);
    eb__q_end(&q);
    if (rc == EB__STORE_ROW) {
        rc = EB_EEXIST;
        goto done;
    }
    if (rc != EB__STORE_DONE)
        goto done;
    eb__q_start(db, SQL_IND_INSERT, &q);
    eb__q_text(&q, code);
    eb__q_text(&q, json);
    eb__q_int(&q, eb__now_ms() / 1000);
    if (c->account_id)
        eb__q_int(&q, c->account_id);
    else
        eb__q_null(&q);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *id = eb__q_col_int(&q, 0);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    if (rc == 0)
        rc = eb__audit_write(db, c, "indicator.create", "indicator", *id, bureau_path(c), NULL,
                             json_loads(json, 0, NULL));
done:
    rc = eb__tx_leave(db, own, rc);
    if (rc)
        *id = 0;
    return rc;
}

static int open_id(struct eb_db *db, const char *rule, int64_t org_id, int64_t *id)
{
    struct eb__q q;
    eb__q_start(db, SQL_ALERT_OPEN_ID, &q);
    eb__q_text(&q, rule);
    eb__q_int(&q, org_id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *id = eb__q_col_int(&q, 0);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

int eb_store_alert_open(struct eb_db *db, const char *rule, int64_t org_id, int32_t since_day,
                        const char *detail, int64_t *id)
{
    struct eb__q q;
    char path[EB_PATH_MAX];
    enum eb_org_kind kind;
    int64_t unit = 0;
    *id = 0;
    int rc = eb__org_path(db, org_id, path, &kind);
    if (rc == 0)
        rc = eb__org_unit(db, path, kind, &unit);
    if (rc)
        return rc;
    eb__q_start(db, SQL_ALERT_INSERT, &q);
    eb__q_int(&q, unit);
    eb__q_text(&q, rule);
    eb__q_int(&q, org_id);
    eb__q_text(&q, path);
    eb__q_int(&q, since_day);
    eb__q_int(&q, since_day);
    eb__q_text(&q, detail);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc == 0)
        rc = open_id(db, rule, org_id, id);
    return rc;
}

int eb_store_alert_close(struct eb_db *db, const char *rule, int64_t org_id, int32_t cleared_day,
                         int64_t *id)
{
    struct eb__q q;
    int64_t closed = 0;
    eb__q_start(db, SQL_ALERT_CLOSE, &q);
    eb__q_int(&q, eb__now_ms() / 1000);
    eb__q_int(&q, cleared_day);
    eb__q_text(&q, rule);
    eb__q_int(&q, org_id);
    int rc;
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW)
        closed = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    *id = closed;
    if (rc != EB__STORE_DONE)
        return rc;
    return closed ? 0 : EB_ENOTFOUND;
}

int eb_store_alerts_open_scan(struct eb_db *db, eb_alert_open_fn fn, void *ctx)
{
    struct eb__q q;
    int rc;
    char rule[64];
    eb__q_start(db, SQL_ALERT_OPEN_SCAN, &q);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        size_t len = 0;
        const char *r = q.db->be->col_text(q.stmt, 0, &len);
        snprintf(rule, sizeof(rule), "%.*s", (int)(len < sizeof(rule) ? len : sizeof(rule) - 1),
                 r ? r : "");
        rc = fn(ctx, rule, eb__q_col_int(&q, 1), (int32_t)eb__q_col_int(&q, 2),
                (int32_t)eb__q_col_int(&q, 3), eb__q_col_int(&q, 4));
        if (rc)
            break;
    }
    eb__q_end(&q);
    return rc == EB__STORE_DONE ? 0 : rc;
}

int eb_store_alert_list(struct eb_db *db, const struct eb_caller *c, int64_t org_id, int open_only,
                        int64_t before, int limit, struct eb_arena *a, size_t *n,
                        struct eb_alert_row **items, int64_t *next)
{
    struct eb__q q;
    struct eb_org node;
    char hi[EB_PATH_MAX];
    *n = 0;
    *items = NULL;
    *next = 0;
    int rc = eb_store_brain_org(db, c, org_id, a, &node);
    if (rc)
        return rc;
    if (limit < 1 || limit > 500)
        limit = 100;
    struct eb_alert_row *rows = eb_arena_alloc(a, (size_t)(limit + 1) * sizeof(*rows));
    if (!rows)
        return EB_ETOOBIG;
    eb__path_hi(node.path, hi);
    eb__q_start(db, SQL_ALERT_LIST, &q);
    eb__q_text(&q, node.path);
    eb__q_text(&q, hi);
    eb__q_int(&q, open_only ? 1 : 0);
    eb__q_int(&q, before > 0 ? 1 : 0);
    eb__q_int(&q, before);
    eb__q_int(&q, limit + 1);
    size_t k = 0;
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct eb_alert_row *r = &rows[k++];
        r->id = eb__q_col_int(&q, 0);
        r->rule = eb__q_col_str(&q, 1, a);
        r->org_id = eb__q_col_int(&q, 2);
        r->org_path = eb__q_col_str(&q, 3, a);
        r->since_day = (int32_t)eb__q_col_int(&q, 4);
        r->last_day = (int32_t)eb__q_col_int(&q, 5);
        r->state = eb__q_col_str(&q, 6, a);
        r->detail = eb__q_col_str(&q, 7, a);
        r->opened_at = eb__q_col_int(&q, 8);
        r->closed_at = eb__q_col_null(&q, 9) ? 0 : eb__q_col_int(&q, 9);
        r->cleared_day = eb__q_col_null(&q, 10) ? 0 : (int32_t)eb__q_col_int(&q, 10);
        r->org_name = eb__q_col_str(&q, 11, a);
        r->org_kind = (enum eb_org_kind)eb__q_col_int(&q, 12);
    }
    eb__q_end(&q);
    if (rc != EB__STORE_DONE)
        return rc;
    if (k > (size_t)limit) {
        k = (size_t)limit;
        *next = rows[k - 1].id;
    }
    *n = k;
    *items = rows;
    return 0;
}

int eb_store_alert_count(struct eb_db *db, const struct eb_caller *c, int64_t org_id, int64_t *n)
{
    struct eb__q q;
    struct eb_org node;
    char hi[EB_PATH_MAX];
    struct eb_arena *a = eb_arena_create(64u << 10);
    *n = 0;
    int rc = eb_store_brain_org(db, c, org_id, a, &node);
    if (rc)
        goto done;
    eb__path_hi(node.path, hi);
    eb__q_start(db, SQL_ALERT_COUNT, &q);
    eb__q_text(&q, node.path);
    eb__q_text(&q, hi);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *n = eb__q_col_int(&q, 0);
        rc = 0;
    }
    eb__q_end(&q);
done:
    eb_arena_destroy(a);
    return rc;
}
