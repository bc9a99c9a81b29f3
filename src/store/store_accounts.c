/* Accounts, role grants, sessions and login throttling counters. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"

#define ACCOUNT_COLS                                                                               \
    "id, login, display_name, person_id, must_change_password, disabled, created_at"

static const char SQL_ACCOUNT_INSERT[] =
    "INSERT INTO accounts (login, display_name, password_hash, person_id, must_change_password,"
    " disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id";
/* Login names are unique in account_logins, keyed by the name (docs/SCALING.md: on Citus that
 * table is distributed by the name, accounts by their id). */
static const char SQL_LOGIN_INSERT[] =
    "INSERT INTO account_logins (login, account_id) VALUES (?, ?)";
static const char SQL_ACCOUNT_BY_LOGIN[] =
    "SELECT " ACCOUNT_COLS ", password_hash FROM accounts"
    " WHERE id = (SELECT account_id FROM account_logins WHERE login = ?)";
static const char SQL_ACCOUNT_GET[] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?";
static const char SQL_ACCOUNT_GRANT_PATHS[] = "SELECT org_path FROM grants WHERE account_id = ?";
static const char SQL_ACCOUNT_SET_PW[] =
    "UPDATE accounts SET password_hash = ?, must_change_password = ? WHERE id = ?";
static const char SQL_ACCOUNT_LIST_ALL[] =
    "SELECT " ACCOUNT_COLS " FROM accounts WHERE id > ? ORDER BY id LIMIT ?";
static const char SQL_ACCOUNT_LIST_UNDER[] =
    "SELECT " ACCOUNT_COLS " FROM accounts WHERE id > ? AND id IN (SELECT account_id FROM grants"
    " WHERE org_path >= ? AND org_path < ?) ORDER BY id LIMIT ?";
static const char SQL_ACCOUNT_EXISTS[] = "SELECT id FROM accounts WHERE id = ?";
/* Login search: LOWER on both sides so that SQLite and PostgreSQL agree on case. */
static const char SQL_ACCOUNT_SEARCH_ALL[] =
    "SELECT " ACCOUNT_COLS " FROM accounts WHERE id > ? AND LOWER(login) LIKE LOWER(?) ESCAPE '\\'"
    " ORDER BY id LIMIT ?";
static const char SQL_ACCOUNT_SEARCH_UNDER[] =
    "SELECT " ACCOUNT_COLS " FROM accounts WHERE id > ? AND LOWER(login) LIKE LOWER(?) ESCAPE '\\'"
    " AND id IN (SELECT account_id FROM grants WHERE org_path >= ? AND org_path < ?)"
    " ORDER BY id LIMIT ?";
static const char SQL_ACCOUNT_UPDATE[] =
    "UPDATE accounts SET display_name = COALESCE(?, display_name),"
    " disabled = COALESCE(?, disabled) WHERE id = ?";
static const char SQL_GRANT_GET[] =
    "SELECT id, role, org_id, org_path FROM grants WHERE id = ? AND account_id = ?";
static const char SQL_GRANT_COUNT[] = "SELECT COUNT(*) FROM grants WHERE account_id = ?";
static const char SQL_GRANT_DELETE[] = "DELETE FROM grants WHERE id = ?";
static const char SQL_GRANT_INSERT[] =
    "INSERT INTO grants (account_id, role, org_id, org_path, created_at)"
    " VALUES (?, ?, ?, ?, ?) RETURNING id";
static const char SQL_GRANTS_OF[] =
    "SELECT g.id, g.role, g.org_id, g.org_path, o.name FROM grants g"
    " JOIN orgs o ON o.id = g.org_id WHERE g.account_id = ? ORDER BY g.id";

static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions (id_hash, account_id, csrf_token, created_at, expires_at, last_seen_at,"
    " client_addr, amr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
/* The session and its account in one statement: every authenticated request runs it. */
static const char SQL_SESSION_GET[] =
    "SELECT s.id_hash, s.account_id, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at,"
    " s.client_addr, s.amr, a.id, a.login, a.display_name, a.person_id, a.must_change_password,"
    " a.disabled, a.created_at FROM sessions s JOIN accounts a ON a.id = s.account_id"
    " WHERE s.id_hash = ?";
static const char SQL_SESSION_TOUCH[] =
    "UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?";
static const char SQL_SESSION_DELETE[] = "DELETE FROM sessions WHERE id_hash = ?";
static const char SQL_SESSION_DELETE_ACCOUNT[] = "DELETE FROM sessions WHERE account_id = ?";

static const char SQL_THROTTLE_FAIL[] =
    "INSERT INTO login_throttle (key, count, last_at) VALUES (?, 1, ?)"
    " ON CONFLICT (key) DO UPDATE SET count = login_throttle.count + 1, last_at = excluded.last_at"
    " RETURNING count, last_at";
static const char SQL_THROTTLE_GET[] = "SELECT count, last_at FROM login_throttle WHERE key = ?";
static const char SQL_THROTTLE_CLEAR[] = "DELETE FROM login_throttle WHERE key = ?";

static int clamp_limit(int limit)
{
    return limit < 1 ? 1 : limit > 500 ? 500 : limit;
}

/* Reads ACCOUNT_COLS starting at column base. */
static void read_account_at(struct eb__q *q, int base, struct eb_arena *a, struct eb_account *o)
{
    memset(o, 0, sizeof(*o));
    o->id = eb__q_col_int(q, base);
    o->login = eb__q_col_str(q, base + 1, a);
    o->display_name = eb__q_col_str(q, base + 2, a);
    o->person_id = eb__q_col_int(q, base + 3);
    o->must_change_password = (int)eb__q_col_int(q, base + 4);
    o->disabled = (int)eb__q_col_int(q, base + 5);
    o->created_at = eb__q_col_str(q, base + 6, a);
}

static void read_account(struct eb__q *q, struct eb_arena *a, struct eb_account *o)
{
    read_account_at(q, 0, a, o);
}

/* The first grant with write access: where an account-level event is filed in the audit. */
static const char *admin_path(const struct eb_caller *c)
{
    for (size_t i = 0; c != NULL && i < c->n_grants; i++)
        if (eb_caller_allows(&(struct eb_caller){.n_grants = 1, .grants = &c->grants[i]},
                             c->grants[i].org_path, EB_ACCESS_WRITE))
            return c->grants[i].org_path;
    return NULL;
}

/*
 * Whether the caller manages the account: all of its grants lie under the caller's write
 * scope (so that nobody reaches an account that is stronger elsewhere), and it has at least
 * one. *any_in_scope tells whether some grant lies in the write scope (for reading).
 */
static int account_scope(struct eb_db *db, const struct eb_caller *c, int64_t id, int *all,
                         int *any)
{
    struct eb__q q;
    int rc, n = 0, in = 0;
    eb__q_start(db, SQL_ACCOUNT_GRANT_PATHS, &q);
    eb__q_int(&q, id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char *p = q.db->be->col_text(q.stmt, 0, NULL);
        n++;
        if (p != NULL && eb_caller_allows(c, p, EB_ACCESS_WRITE))
            in++;
    }
    eb__q_end(&q);
    *all = n > 0 && in == n;
    *any = in > 0;
    return rc < 0 ? rc : 0;
}

static int valid_login(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= ' ' || ch == 0x7f)
            return 0;
    }
    return 1;
}

static void iso_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *account_json(const struct eb_account *a)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(a->id));
    json_object_set_new(j, "login", json_string(a->login));
    if (a->display_name)
        json_object_set_new(j, "display_name", json_string(a->display_name));
    if (a->person_id)
        json_object_set_new(j, "person_id", json_integer(a->person_id));
    json_object_set_new(j, "must_change_password", json_boolean(a->must_change_password));
    json_object_set_new(j, "disabled", json_boolean(a->disabled));
    return j;
}

int eb_store_account_create(struct eb_db *db, const struct eb_caller *c,
                            const struct eb_account *in, int64_t *id)
{
    char now[32];
    struct eb__q q;
    int own = 0, rc;
    *id = 0;
    if (!valid_login(in->login) || (in->display_name && strlen(in->display_name) > 100))
        return EB_EINVAL;
    const char *where = admin_path(c);
    if (!c->system && where == NULL)
        return EB_EDENIED;
    if (in->person_id != 0 && !c->system) {
        rc = eb__person_check(db, c, in->person_id, EB_ACCESS_WRITE, NULL);
        if (rc != 0)
            return rc;
    }
    iso_now(now);
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_ACCOUNT_INSERT, &q);
    eb__q_text(&q, in->login);
    eb__q_text(&q, in->display_name ? in->display_name : in->login);
    eb__q_text(&q, in->password_hash);
    if (in->person_id)
        eb__q_int(&q, in->person_id);
    else
        eb__q_null(&q);
    eb__q_int(&q, in->must_change_password ? 1 : 0);
    eb__q_int(&q, in->disabled ? 1 : 0);
    eb__q_text(&q, now);
    int64_t new_id = 0;
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        new_id = eb__q_col_int(&q, 0);
        rc = eb__q_exec(&q);
    }
    eb__q_end(&q);
    rc = rc < 0 ? rc : new_id ? 0 : EB_ESTORE;
    if (rc == 0) {
        eb__q_start(db, SQL_LOGIN_INSERT, &q);
        eb__q_text(&q, in->login);
        eb__q_int(&q, new_id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0) {
        struct eb_account after = *in;
        after.id = new_id;
        /* Never the password hash: the audit log is read by people. */
        rc = eb__audit_write(db, c, "account.create", "account", new_id, where, NULL,
                             account_json(&after));
    }
    if (rc == 0)
        *id = new_id;
    return eb__tx_leave(db, own, rc);
}

int eb_store_account_by_login(struct eb_db *db, const char *login, struct eb_arena *a,
                              struct eb_account *out)
{
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    if (login == NULL)
        return EB_ENOTFOUND;
    eb__q_start(db, SQL_ACCOUNT_BY_LOGIN, &q);
    eb__q_text(&q, login);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        read_account(&q, a, out);
        out->password_hash = eb__q_col_str(&q, 7, a);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

static int account_read(struct eb_db *db, int64_t id, struct eb_arena *a, struct eb_account *out)
{
    struct eb__q q;
    eb__q_start(db, SQL_ACCOUNT_GET, &q);
    eb__q_int(&q, id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        read_account(&q, a, out);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

int eb_store_account_get(struct eb_db *db, const struct eb_caller *c, int64_t id,
                         struct eb_arena *a, struct eb_account *out)
{
    memset(out, 0, sizeof(*out));
    if (!c->system && c->account_id != id) {
        int all = 0, any = 0;
        int rc = account_scope(db, c, id, &all, &any);
        if (rc != 0)
            return rc;
        if (!any)
            return EB_ENOTFOUND;
    }
    return account_read(db, id, a, out);
}

/* The one statement that stores a password hash (set by the owner or reset by an admin). */
static int write_password(struct eb_db *db, int64_t id, const char *hash, int must_change)
{
    struct eb__q q;
    eb__q_start(db, SQL_ACCOUNT_SET_PW, &q);
    eb__q_text(&q, hash);
    eb__q_int(&q, must_change ? 1 : 0);
    eb__q_int(&q, id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_account_set_password(struct eb_db *db, const struct eb_caller *c, int64_t id,
                                  const char *password_hash, int must_change)
{
    int own = 0, rc;
    if (password_hash == NULL || password_hash[0] == '\0')
        return EB_EINVAL;
    if (!c->system && c->account_id != id) {
        int all = 0, any = 0;
        rc = account_scope(db, c, id, &all, &any);
        if (rc != 0)
            return rc;
        if (!all)
            return EB_ENOTFOUND;
    }
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    rc = write_password(db, id, password_hash, must_change);
    if (rc != 0)
        goto done;
    rc = 0;
    if (!eb__audit_skip(c)) {
        json_t *after = json_object();
        json_object_set_new(after, "must_change_password", json_boolean(must_change));
        /* One's own change is filed under one's first role, so one's administrators see it. */
        const char *where = c->account_id != id ? admin_path(c)
                            : c->n_grants       ? c->grants[0].org_path
                                                : NULL;
        rc = eb__audit_write(db, c, "account.password_set", "account", id, where, NULL, after);
    }
done:
    return eb__tx_leave(db, own, rc);
}

static int cmp_account_id(const void *x, const void *y)
{
    const struct eb_account *a = x, *b = y;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* The LIKE pattern "%part%" with the pattern characters of part escaped; NULL for "all". */
static const char *like_pattern(const char *part, struct eb_arena *a)
{
    if (part == NULL || part[0] == '\0')
        return NULL;
    size_t len = strlen(part);
    char *p = eb_arena_alloc(a, len * 2 + 3);
    if (p == NULL)
        return NULL;
    size_t k = 0;
    p[k++] = '%';
    for (size_t i = 0; i < len; i++) {
        if (part[i] == '%' || part[i] == '_' || part[i] == '\\')
            p[k++] = '\\';
        p[k++] = part[i];
    }
    p[k++] = '%';
    p[k] = '\0';
    return p;
}

int eb_store_account_list(struct eb_db *db, const struct eb_caller *c, int64_t after, int limit,
                          struct eb_arena *a, size_t *n, struct eb_account **items, int64_t *next)
{
    return eb_store_account_search(db, c, NULL, after, limit, a, n, items, next);
}

int eb_store_account_search(struct eb_db *db, const struct eb_caller *c, const char *login_part,
                            int64_t after, int limit, struct eb_arena *a, size_t *n,
                            struct eb_account **items, int64_t *next)
{
    struct eb__q q = {0};
    int rc = 0;
    *n = 0;
    *items = NULL;
    *next = 0;
    limit = clamp_limit(limit);
    if (login_part != NULL && strlen(login_part) > 64)
        return EB_EINVAL;
    const char *pattern = like_pattern(login_part, a);
    if (login_part != NULL && login_part[0] != '\0' && pattern == NULL)
        return EB_ETOOBIG;
    size_t n_sets = c->system ? 1 : c->n_grants;
    size_t cap = n_sets * (size_t)(limit + 1);
    struct eb_account *v = cap ? eb_arena_alloc(a, cap * sizeof(*v)) : NULL;
    size_t k = 0;
    if (cap && v == NULL)
        return EB_ETOOBIG;
    /*
     * One ordered query per administered subtree, merged: each returns its limit+1 smallest
     * ids after the cursor, so the smallest limit+1 of the union are among them.
     */
    for (size_t i = 0; i < n_sets; i++) {
        char hi[EB_PATH_MAX];
        if (c->system) {
            eb__q_start(db, pattern ? SQL_ACCOUNT_SEARCH_ALL : SQL_ACCOUNT_LIST_ALL, &q);
            eb__q_int(&q, after);
            if (pattern)
                eb__q_text(&q, pattern);
        } else {
            const struct eb_grant *g = &c->grants[i];
            struct eb_caller one = {.n_grants = 1, .grants = g};
            if (!eb_caller_allows(&one, g->org_path, EB_ACCESS_WRITE))
                continue;
            eb__path_hi(g->org_path, hi);
            eb__q_start(db, pattern ? SQL_ACCOUNT_SEARCH_UNDER : SQL_ACCOUNT_LIST_UNDER, &q);
            eb__q_int(&q, after);
            if (pattern)
                eb__q_text(&q, pattern);
            eb__q_text(&q, g->org_path);
            eb__q_text(&q, hi);
        }
        eb__q_int(&q, limit + 1);
        while ((rc = eb__q_step(&q)) == EB__STORE_ROW)
            read_account(&q, a, &v[k++]);
        eb__q_end(&q);
        if (rc < 0)
            return rc;
    }
    if (k > 1)
        qsort(v, k, sizeof(*v), cmp_account_id);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || v[m - 1].id != v[i].id)
            v[m++] = v[i];
    if (m > (size_t)limit) {
        m = (size_t)limit;
        *next = v[m - 1].id;
    }
    *n = m;
    *items = m ? v : NULL;
    return 0;
}

/* Which node kinds each role may be granted at. */
static int role_fits(enum eb_role role, enum eb_org_kind kind)
{
    switch (role) {
    case EB_ROLE_CITY_ADMIN:
        return kind == EB_ORG_CITY;
    case EB_ROLE_DISTRICT_ADMIN:
        return kind == EB_ORG_DISTRICT;
    case EB_ROLE_SCHOOL_ADMIN:
        return kind == EB_ORG_SCHOOL;
    case EB_ROLE_TEACHER:
    case EB_ROLE_PARENT:
        return kind == EB_ORG_SCHOOL || kind == EB_ORG_GRADE || kind == EB_ORG_CLASS;
    case EB_ROLE_HEAD_TEACHER:
    case EB_ROLE_STUDENT:
        return kind == EB_ORG_CLASS;
    case EB_ROLE_ANALYST:
        return 1;
    default:
        return 0;
    }
}

int eb_store_grant_add(struct eb_db *db, const struct eb_caller *c, int64_t account_id,
                       enum eb_role role, int64_t org_id, int64_t *id)
{
    char path[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    struct eb__q q;
    int own = 0, rc;
    *id = 0;
    rc = eb__org_path(db, org_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    if (!role_fits(role, kind))
        return EB_EINVAL;
    eb__q_start(db, SQL_ACCOUNT_EXISTS, &q);
    eb__q_int(&q, account_id);
    rc = eb__q_step(&q);
    eb__q_end(&q);
    if (rc != EB__STORE_ROW)
        return rc < 0 ? rc : EB_ENOTFOUND;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    int64_t new_id = 0;
    eb__q_start(db, SQL_GRANT_INSERT, &q);
    eb__q_int(&q, account_id);
    eb__q_int(&q, role);
    eb__q_int(&q, org_id);
    eb__q_text(&q, path);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        new_id = eb__q_col_int(&q, 0);
        rc = eb__q_exec(&q);
    }
    eb__q_end(&q);
    rc = rc < 0 ? rc : new_id ? 0 : EB_ESTORE;
    if (rc == 0 && !eb__audit_skip(c)) {
        json_t *j = json_object();
        json_object_set_new(j, "id", json_integer(new_id));
        json_object_set_new(j, "account_id", json_integer(account_id));
        json_object_set_new(j, "role", json_string(eb_role_name(role)));
        json_object_set_new(j, "org_id", json_integer(org_id));
        rc = eb__audit_write(db, c, "grant.add", "grant", new_id, path, NULL, j);
    }
    if (rc == 0)
        *id = new_id;
    return eb__tx_leave(db, own, rc);
}

int eb_store_grants_of(struct eb_db *db, int64_t account_id, struct eb_arena *a, size_t *n,
                       struct eb_grant **items)
{
    struct eb__q q;
    size_t cap = 0;
    struct eb_grant *v = NULL;
    int rc;
    *n = 0;
    *items = NULL;
    eb__q_start(db, SQL_GRANTS_OF, &q);
    eb__q_int(&q, account_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_grant *g = &v[(*n)++];
        g->id = eb__q_col_int(&q, 0);
        g->role = (enum eb_role)eb__q_col_int(&q, 1);
        g->org_id = eb__q_col_int(&q, 2);
        size_t len = 0;
        const char *p = q.db->be->col_text(q.stmt, 3, &len);
        if (p == NULL || len >= EB_PATH_MAX)
            len = 0;
        memcpy(g->org_path, p ? p : "", len);
        g->org_path[len] = '\0';
        g->org_name = eb__q_col_str(&q, 4, a);
    }
    eb__q_end(&q);
    if (rc < 0) {
        *n = 0;
        return rc;
    }
    *items = v;
    return 0;
}

/* ---- account management by administrators ---------------------------------------------- */

/*
 * 0 when the caller manages account id (system: when it exists), else EB_ENOTFOUND, like a
 * missing account. where (may be NULL) gets the path of the account's first grant, the place
 * where changes to the account are filed in the audit log ("" when it has none).
 */
static int manages(struct eb_db *db, const struct eb_caller *c, int64_t id,
                   char where[EB_PATH_MAX] /* out */)
{
    struct eb__q q;
    int rc, n = 0, in = 0;
    if (where != NULL)
        where[0] = '\0';
    eb__q_start(db, SQL_ACCOUNT_GRANT_PATHS, &q);
    eb__q_int(&q, id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        size_t len = 0;
        const char *p = q.db->be->col_text(q.stmt, 0, &len);
        if (p != NULL && where != NULL && n == 0 && len < EB_PATH_MAX) {
            memcpy(where, p, len);
            where[len] = '\0';
        }
        n++;
        if (p != NULL && eb_caller_allows(c, p, EB_ACCESS_WRITE))
            in++;
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    if (!c->system)
        return n > 0 && in == n ? 0 : EB_ENOTFOUND;
    eb__q_start(db, SQL_ACCOUNT_EXISTS, &q);
    eb__q_int(&q, id);
    rc = eb__q_step(&q);
    eb__q_end(&q);
    return rc == EB__STORE_ROW ? 0 : rc < 0 ? rc : EB_ENOTFOUND;
}

static int end_sessions(struct eb_db *db, int64_t account_id)
{
    struct eb__q q;
    eb__q_start(db, SQL_SESSION_DELETE_ACCOUNT, &q);
    eb__q_int(&q, account_id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_account_update(struct eb_db *db, const struct eb_caller *c, int64_t id,
                            const char *display_name, int disabled)
{
    char where[EB_PATH_MAX];
    struct eb_arena *a = NULL;
    struct eb_account before, after;
    struct eb__q q = {0};
    int own = 0, rc;
    if (display_name != NULL && (display_name[0] == '\0' || strlen(display_name) > 100))
        return EB_EINVAL;
    if (disabled < -1 || disabled > 1)
        return EB_EINVAL;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    a = eb_arena_create(0);
    rc = manages(db, c, id, where);
    if (rc != 0)
        goto done;
    /* Locking oneself out needs another administrator's hand (or the CLI). */
    if (!c->system && c->account_id == id && disabled == 1) {
        rc = EB_EDENIED;
        goto done;
    }
    rc = account_read(db, id, a, &before);
    if (rc != 0)
        goto done;
    eb__q_start(db, SQL_ACCOUNT_UPDATE, &q);
    eb__q_text(&q, display_name);
    if (disabled >= 0)
        eb__q_int(&q, disabled);
    else
        eb__q_null(&q);
    eb__q_int(&q, id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    rc = 0;
    /* A disabled account is refused at every request already; ending its sessions also
     * removes them from the store. */
    if (disabled == 1) {
        rc = end_sessions(db, id);
        if (rc != 0)
            goto done;
    }
    rc = account_read(db, id, a, &after);
    if (rc != 0)
        goto done;
    rc = eb__audit_write(db, c, "account.update", "account", id, where[0] ? where : NULL,
                         account_json(&before), account_json(&after));
done:
    eb__q_end(&q);
    rc = eb__tx_leave(db, own, rc);
    eb_arena_destroy(a);
    return rc;
}

int eb_store_account_reset_password(struct eb_db *db, const struct eb_caller *c, int64_t id,
                                    const char *password_hash, int must_change)
{
    char where[EB_PATH_MAX];
    int own = 0, rc;
    if (password_hash == NULL || password_hash[0] == '\0')
        return EB_EINVAL;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    rc = manages(db, c, id, where);
    if (rc != 0)
        goto done;
    /* One's own password needs the old one (PUT /me/password), not a reset. */
    if (!c->system && c->account_id == id) {
        rc = EB_EDENIED;
        goto done;
    }
    rc = write_password(db, id, password_hash, must_change);
    if (rc != 0)
        goto done;
    rc = end_sessions(db, id);
    if (rc != 0)
        goto done;
    json_t *after = json_object();
    json_object_set_new(after, "must_change_password", json_boolean(must_change));
    json_object_set_new(after, "sessions_ended", json_true());
    rc = eb__audit_write(db, c, "account.password_reset", "account", id, where[0] ? where : NULL,
                         NULL, after);
done:
    return eb__tx_leave(db, own, rc);
}

int eb_store_account_roles(struct eb_db *db, const struct eb_caller *c, int64_t id,
                           struct eb_arena *a, size_t *n, struct eb_grant **items, int *managed)
{
    size_t all_n = 0, k = 0;
    struct eb_grant *all = NULL;
    *n = 0;
    *items = NULL;
    if (managed != NULL)
        *managed = 0;
    int rc = eb_store_grants_of(db, id, a, &all_n, &all);
    if (rc != 0)
        return rc;
    int whole = c->system || c->account_id == id;
    for (size_t i = 0; i < all_n; i++)
        if (whole || eb_caller_allows(c, all[i].org_path, EB_ACCESS_WRITE))
            all[k++] = all[i];
    if (!c->system && k == 0)
        return EB_ENOTFOUND;
    if (c->system) {
        rc = manages(db, c, id, NULL);
        if (rc != 0)
            return rc;
    }
    if (managed != NULL) {
        size_t in = 0;
        for (size_t i = 0; i < k; i++)
            in += eb_caller_allows(c, all[i].org_path, EB_ACCESS_WRITE) != 0;
        /* One's own account is changed through /me, never through the admin routes. */
        *managed = c->system || (c->account_id != id && in == all_n && all_n > 0);
    }
    *n = k;
    *items = k ? all : NULL;
    return 0;
}

int eb_store_account_grant_add(struct eb_db *db, const struct eb_caller *c, int64_t account_id,
                               enum eb_role role, int64_t org_id, int64_t *id)
{
    int own = 0;
    *id = 0;
    int rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    rc = manages(db, c, account_id, NULL);
    if (rc == 0)
        rc = eb_store_grant_add(db, c, account_id, role, org_id, id);
    return eb__tx_leave(db, own, rc);
}

int eb_store_account_grant_remove(struct eb_db *db, const struct eb_caller *c, int64_t account_id,
                                  int64_t grant_id)
{
    struct eb__q q = {0};
    struct eb_grant g = {0};
    int own = 0, rc;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    rc = manages(db, c, account_id, NULL);
    if (rc != 0)
        goto done;
    eb__q_start(db, SQL_GRANT_GET, &q);
    eb__q_int(&q, grant_id);
    eb__q_int(&q, account_id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        size_t len = 0;
        const char *p = q.db->be->col_text(q.stmt, 3, &len);
        g.id = eb__q_col_int(&q, 0);
        g.role = (enum eb_role)eb__q_col_int(&q, 1);
        g.org_id = eb__q_col_int(&q, 2);
        if (p != NULL && len < EB_PATH_MAX) {
            memcpy(g.org_path, p, len);
            g.org_path[len] = '\0';
        }
        rc = 0;
    } else {
        rc = rc < 0 ? rc : EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc != 0)
        goto done;
    if (!eb_caller_allows(c, g.org_path, EB_ACCESS_WRITE)) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    /* Removing one's own role could lock the last administrator of a subtree out. */
    if (!c->system && c->account_id == account_id) {
        rc = EB_EDENIED;
        goto done;
    }
    /* An account without grants would be managed by nobody: disable it instead. */
    eb__q_start(db, SQL_GRANT_COUNT, &q);
    eb__q_int(&q, account_id);
    rc = eb__q_step(&q);
    int64_t n_grants = rc == EB__STORE_ROW ? eb__q_col_int(&q, 0) : 0;
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    if (n_grants <= 1) {
        rc = EB_ECONFLICT;
        goto done;
    }
    eb__q_start(db, SQL_GRANT_DELETE, &q);
    eb__q_int(&q, grant_id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    json_t *before = json_object();
    json_object_set_new(before, "id", json_integer(g.id));
    json_object_set_new(before, "account_id", json_integer(account_id));
    json_object_set_new(before, "role",
                        json_string(eb_role_name(g.role) ? eb_role_name(g.role) : "?"));
    json_object_set_new(before, "org_id", json_integer(g.org_id));
    json_object_set_new(before, "org_path", json_string(g.org_path));
    rc = eb__audit_write(db, c, "grant.remove", "grant", g.id, g.org_path, before, NULL);
done:
    eb__q_end(&q);
    return eb__tx_leave(db, own, rc);
}

/* ---- sessions --------------------------------------------------------------------------- */

int eb_store_session_create(struct eb_db *db, const struct eb_session *in)
{
    struct eb__q q;
    if (in->id_hash == NULL || in->csrf_token == NULL || in->account_id <= 0)
        return EB_EINVAL;
    eb__q_start(db, SQL_SESSION_INSERT, &q);
    eb__q_text(&q, in->id_hash);
    eb__q_int(&q, in->account_id);
    eb__q_text(&q, in->csrf_token);
    eb__q_int(&q, in->created_at);
    eb__q_int(&q, in->expires_at);
    eb__q_int(&q, in->last_seen_at);
    eb__q_text(&q, in->client_addr);
    eb__q_text(&q, in->amr ? in->amr : "pwd");
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_session_get(struct eb_db *db, const char *id_hash, struct eb_arena *a,
                         struct eb_session *out, struct eb_account *account)
{
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    if (id_hash == NULL)
        return EB_ENOTFOUND;
    eb__q_start(db, SQL_SESSION_GET, &q);
    eb__q_text(&q, id_hash);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        out->id_hash = eb__q_col_str(&q, 0, a);
        out->account_id = eb__q_col_int(&q, 1);
        out->csrf_token = eb__q_col_str(&q, 2, a);
        out->created_at = eb__q_col_int(&q, 3);
        out->expires_at = eb__q_col_int(&q, 4);
        out->last_seen_at = eb__q_col_int(&q, 5);
        out->client_addr = eb__q_col_str(&q, 6, a);
        out->amr = eb__q_col_str(&q, 7, a);
        if (account != NULL)
            read_account_at(&q, 8, a, account);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

int eb_store_session_touch(struct eb_db *db, const char *id_hash, int64_t last_seen_at,
                           int64_t expires_at)
{
    struct eb__q q;
    eb__q_start(db, SQL_SESSION_TOUCH, &q);
    eb__q_int(&q, last_seen_at);
    eb__q_int(&q, expires_at);
    eb__q_text(&q, id_hash);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_session_delete(struct eb_db *db, const char *id_hash)
{
    return eb__exec_text(db, SQL_SESSION_DELETE, id_hash);
}

int eb_store_session_delete_account(struct eb_db *db, int64_t account_id)
{
    struct eb__q q;
    eb__q_start(db, SQL_SESSION_DELETE_ACCOUNT, &q);
    eb__q_int(&q, account_id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* ---- login throttling ------------------------------------------------------------------- */

/* The window itself belongs to the caller (src/auth): it clears a key whose last failure is
 * old; the store only counts atomically. */
int eb_store_throttle_fail(struct eb_db *db, const char *key, int64_t now, int64_t *count,
                           int64_t *last_at)
{
    struct eb__q q;
    *count = 0;
    *last_at = 0;
    if (key == NULL)
        return EB_EINVAL;
    eb__q_start(db, SQL_THROTTLE_FAIL, &q);
    eb__q_text(&q, key);
    eb__q_int(&q, now);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *count = eb__q_col_int(&q, 0);
        *last_at = eb__q_col_int(&q, 1);
        rc = eb__q_exec(&q);
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_throttle_get(struct eb_db *db, const char *key, int64_t *count, int64_t *last_at)
{
    struct eb__q q;
    *count = 0;
    *last_at = 0;
    eb__q_start(db, SQL_THROTTLE_GET, &q);
    eb__q_text(&q, key);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *count = eb__q_col_int(&q, 0);
        *last_at = eb__q_col_int(&q, 1);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

int eb_store_throttle_clear(struct eb_db *db, const char *key)
{
    return eb__exec_text(db, SQL_THROTTLE_CLEAR, key);
}
