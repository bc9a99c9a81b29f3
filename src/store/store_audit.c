/* The audit log: appending entries (inside the write's transaction) and scoped reading. */
#include "store/store_int.h"

#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "core/mem.h"

static const char SQL_AUDIT_ADD[] =
    "INSERT INTO audit (school_id, at, account_id, client_addr, action, object_type, object_id,"
    " org_path, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

int eb__audit_skip(const struct eb_caller *c)
{
    return c != NULL && c->system && c->no_audit;
}

int eb_store_audit_add(struct eb_db *db, const struct eb_caller *c, const struct eb_audit *e)
{
    if (e == NULL || e->action == NULL || e->action[0] == '\0')
        return EB_EINVAL;
    /* The entry lives in the shard of the school it is about (0: about no org). */
    int64_t unit = 0;
    int rc = eb__org_unit(db, e->org_path, 0, &unit);
    if (rc == EB_ENOTFOUND || rc == EB_EINVAL)
        rc = 0; /* a path that names no org: the entry is about no school */
    if (rc != 0)
        return rc;
    struct eb__q q;
    eb__q_start(db, SQL_AUDIT_ADD, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, e->at ? e->at : eb__now_ms());
    int64_t acct = e->account_id ? e->account_id : (c ? c->account_id : 0);
    if (acct)
        eb__q_int(&q, acct);
    else
        eb__q_null(&q);
    eb__q_text(&q, e->client_addr ? e->client_addr : (c ? c->client_addr : NULL));
    eb__q_text(&q, e->action);
    eb__q_text(&q, e->object_type);
    if (e->object_id)
        eb__q_int(&q, e->object_id);
    else
        eb__q_null(&q);
    eb__q_text(&q, e->org_path);
    eb__q_text(&q, e->before_json);
    eb__q_text(&q, e->after_json);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* jansson's own dump allocates with malloc; sizing first keeps the text in our heap. */
static char *dump(json_t *j)
{
    if (j == NULL)
        return NULL;
    size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
    char *s = eb_xmalloc(n + 1);
    json_dumpb(j, s, n, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
    s[n] = '\0';
    return s;
}

int eb__audit_write(struct eb_db *db, const struct eb_caller *c, const char *action,
                    const char *object_type, int64_t object_id, const char *org_path,
                    json_t *before, json_t *after)
{
    int rc = 0;
    char *b = NULL, *a = NULL;
    if (eb__audit_skip(c))
        goto done;
    b = dump(before);
    a = dump(after);
    struct eb_audit e = {.action = (char *)(uintptr_t)action,
                         .object_type = (char *)(uintptr_t)object_type,
                         .object_id = object_id,
                         .org_path = (char *)(uintptr_t)org_path,
                         .before_json = b,
                         .after_json = a};
    rc = eb_store_audit_add(db, c, &e);
done:
    json_decref(before);
    json_decref(after);
    eb_free(b);
    eb_free(a);
    return rc;
}

static const char SQL_AUDIT_LIST[] =
    "SELECT a.id, a.at, a.account_id, ac.login, a.client_addr, a.action, a.object_type,"
    " a.object_id, a.org_path, a.before_json, a.after_json"
    " FROM audit a LEFT JOIN accounts ac ON ac.id = a.account_id"
    " WHERE a.org_path >= ? AND a.org_path < ? AND a.id < ? ORDER BY a.id DESC LIMIT ?";

int eb_store_audit_list(struct eb_db *db, const struct eb_caller *c, int64_t org_id, int64_t before,
                        int limit, struct eb_arena *a, size_t *n, struct eb_audit **items,
                        int64_t *next)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    struct eb__q q = {0};
    int rc;
    *n = 0;
    *items = NULL;
    *next = 0;
    if (limit < 1)
        limit = 1;
    if (limit > 500)
        limit = 500;
    rc = eb__org_path(db, org_id, path, NULL);
    if (rc != 0)
        goto done;
    if (!eb_caller_allows(c, path, EB_ACCESS_AUDIT)) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    eb__path_hi(path, hi);
    struct eb_audit *out = eb_arena_alloc(a, sizeof(*out) * (size_t)limit);
    if (out == NULL) {
        rc = EB_ETOOBIG;
        goto done;
    }
    eb__q_start(db, SQL_AUDIT_LIST, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    eb__q_int(&q, before > 0 ? before : INT64_MAX);
    eb__q_int(&q, limit + 1);
    size_t k = 0;
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        if (k == (size_t)limit) {
            *next = out[k - 1].id;
            continue;
        }
        struct eb_audit *e = &out[k++];
        e->id = eb__q_col_int(&q, 0);
        e->at = eb__q_col_int(&q, 1);
        e->account_id = eb__q_col_int(&q, 2);
        e->login = eb__q_col_str(&q, 3, a);
        e->client_addr = eb__q_col_str(&q, 4, a);
        e->action = eb__q_col_str(&q, 5, a);
        e->object_type = eb__q_col_str(&q, 6, a);
        e->object_id = eb__q_col_int(&q, 7);
        e->org_path = eb__q_col_str(&q, 8, a);
        e->before_json = eb__q_col_str(&q, 9, a);
        e->after_json = eb__q_col_str(&q, 10, a);
    }
    if (rc < 0)
        goto done;
    rc = 0;
    *n = k;
    *items = out;
done:
    eb__q_end(&q);
    return rc;
}
