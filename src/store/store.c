/* The store's common part: open/close, the connection pool, transactions, migrations, the
 * statement helpers, the scope rule (eb_caller_allows) and the role and org-kind names. */
#include "store/store_int.h"

#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

/* ---- names ------------------------------------------------------------------------------ */

static const char *const role_names[EB_ROLE_COUNT] = {
    [EB_ROLE_CITY_ADMIN] = "city_admin",
    [EB_ROLE_DISTRICT_ADMIN] = "district_admin",
    [EB_ROLE_SCHOOL_ADMIN] = "school_admin",
    [EB_ROLE_HEAD_TEACHER] = "head_teacher",
    [EB_ROLE_TEACHER] = "teacher",
    [EB_ROLE_STUDENT] = "student",
    [EB_ROLE_PARENT] = "parent",
    [EB_ROLE_ANALYST] = "analyst",
};

const char *eb_role_name(enum eb_role role)
{
    if ((int)role <= EB_ROLE_NONE || role >= EB_ROLE_COUNT)
        return NULL;
    return role_names[role];
}

enum eb_role eb_role_parse(const char *name)
{
    if (name == NULL)
        return EB_ROLE_NONE;
    for (int r = EB_ROLE_NONE + 1; r < EB_ROLE_COUNT; r++)
        if (strcmp(role_names[r], name) == 0)
            return (enum eb_role)r;
    return EB_ROLE_NONE;
}

static const char *const kind_names[] = {
    [EB_ORG_CITY] = "city",   [EB_ORG_DISTRICT] = "district", [EB_ORG_SCHOOL] = "school",
    [EB_ORG_GRADE] = "grade", [EB_ORG_CLASS] = "class",
};

const char *eb_org_kind_name(enum eb_org_kind kind)
{
    if ((int)kind < EB_ORG_CITY || kind > EB_ORG_CLASS)
        return NULL;
    return kind_names[kind];
}

enum eb_org_kind eb_org_kind_parse(const char *name)
{
    if (name == NULL)
        return 0;
    for (int k = EB_ORG_CITY; k <= EB_ORG_CLASS; k++)
        if (strcmp(kind_names[k], name) == 0)
            return (enum eb_org_kind)k;
    return 0;
}

/* ---- scope ------------------------------------------------------------------------------ */

int eb__path_within(const char *path, const char *prefix)
{
    if (path == NULL || prefix == NULL || prefix[0] != '/')
        return 0;
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0;
}

void eb__path_hi(const char *prefix, char hi[EB_PATH_MAX])
{
    size_t n = strnlen(prefix, EB_PATH_MAX - 1);
    memcpy(hi, prefix, n);
    hi[n] = '\0';
    /* Paths end with '/', and '0' is the next byte: every descendant sorts below it. */
    if (n > 0 && hi[n - 1] == '/')
        hi[n - 1] = '0';
}

static unsigned role_bit(enum eb_role r)
{
    return 1u << (unsigned)r;
}

#define ADMIN_ROLES                                                                                \
    (role_bit(EB_ROLE_CITY_ADMIN) | role_bit(EB_ROLE_DISTRICT_ADMIN) |                             \
     role_bit(EB_ROLE_SCHOOL_ADMIN))
#define PEOPLE_READ_ROLES                                                                          \
    (ADMIN_ROLES | role_bit(EB_ROLE_HEAD_TEACHER) | role_bit(EB_ROLE_TEACHER) |                    \
     role_bit(EB_ROLE_ANALYST))
#define ORG_READ_ROLES (PEOPLE_READ_ROLES | role_bit(EB_ROLE_STUDENT) | role_bit(EB_ROLE_PARENT))

static int grants_cover(const struct eb_caller *c, const char *path, unsigned roles)
{
    if (c == NULL || path == NULL)
        return 0;
    if (c->system)
        return 1;
    for (size_t i = 0; i < c->n_grants; i++) {
        const struct eb_grant *g = &c->grants[i];
        if ((int)g->role <= EB_ROLE_NONE || g->role >= EB_ROLE_COUNT)
            continue;
        if ((roles & role_bit(g->role)) && eb__path_within(path, g->org_path))
            return 1;
    }
    return 0;
}

int eb_caller_allows(const struct eb_caller *c, const char *org_path, enum eb_access access)
{
    switch (access) {
    case EB_ACCESS_READ:
        return grants_cover(c, org_path, ORG_READ_ROLES);
    case EB_ACCESS_WRITE:
    case EB_ACCESS_PII:
    case EB_ACCESS_AUDIT:
        return grants_cover(c, org_path, ADMIN_ROLES);
    }
    return 0;
}

int eb__caller_sees_people(const struct eb_caller *c, const char *path)
{
    return grants_cover(c, path, PEOPLE_READ_ROLES);
}

int eb__caller_has_role(const struct eb_caller *c, enum eb_role role)
{
    for (size_t i = 0; c != NULL && i < c->n_grants; i++)
        if (c->grants[i].role == role)
            return 1;
    return 0;
}

int64_t eb__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- statements ------------------------------------------------------------------------- */

/* The connection's prepared statement for sql, prepared on first use. */
static void *cached_stmt(struct eb_db *db, const char *sql, int *rc)
{
    /* Recently added statements sit at the end; the set is small and static. */
    for (int i = db->n_cache - 1; i >= 0; i--)
        if (db->cache[i].sql == sql)
            return db->cache[i].stmt;
    if (db->n_cache >= EB__STMT_CACHE) {
        eb_error("store: statement cache full; raise EB__STMT_CACHE");
        *rc = EB_EINTERNAL;
        return NULL;
    }
    void *stmt = NULL;
    *rc = db->be->prepare(db->conn, sql, &stmt);
    if (*rc != 0)
        return NULL;
    db->cache[db->n_cache].sql = sql;
    db->cache[db->n_cache].stmt = stmt;
    db->n_cache++;
    return stmt;
}

/*
 * The writer lock of one_writer backends. A thread that waits longer than the busy timeout
 * gets EB_EBUSY, as SQLite's own handler would answer; a connection that already holds the
 * lock (a write inside its transaction) only counts.
 */
static int writer_take(struct eb_db *db)
{
    if (!db->be->one_writer)
        return 0;
    if (db->writing++ > 0)
        return 0;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int ms = db->store->busy_timeout_ms;
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_mutex_timedlock(&db->store->writer, &until) != 0) {
        db->writing = 0;
        return EB_EBUSY;
    }
    return 0;
}

static void writer_give(struct eb_db *db)
{
    if (!db->be->one_writer || db->writing == 0)
        return;
    if (--db->writing == 0)
        pthread_mutex_unlock(&db->store->writer);
}

int eb__q_start(struct eb_db *db, const char *sql, struct eb__q *q)
{
    memset(q, 0, sizeof(*q));
    q->db = db;
    int rc = 0;
    q->stmt = cached_stmt(db, sql, &rc);
    if (q->stmt == NULL) {
        q->rc = rc;
        return rc;
    }
    /* A write ends the request's read transaction first: a snapshot that another connection
     * has since written past cannot be upgraded to a write. */
    if (db->be->stmt_writes && db->be->stmt_writes(q->stmt)) {
        if (db->in_read)
            eb_db_read_end(db);
        if (!db->in_tx) {
            rc = writer_take(db);
            if (rc != 0) {
                q->rc = rc;
                return rc;
            }
            q->writing = 1;
        }
    }
    return 0;
}

int eb__exec_text(struct eb_db *db, const char *sql, const char *v)
{
    struct eb__q q;
    eb__q_start(db, sql, &q);
    eb__q_text(&q, v);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static void q_bound(struct eb__q *q, int rc)
{
    if (rc != 0 && q->rc == 0)
        q->rc = rc;
}

void eb__q_int(struct eb__q *q, int64_t v)
{
    if (q->stmt == NULL)
        return;
    q_bound(q, q->db->be->bind_int(q->stmt, ++q->n_bound, v));
}

void eb__q_double(struct eb__q *q, double v)
{
    if (q->stmt == NULL)
        return;
    q_bound(q, q->db->be->bind_double(q->stmt, ++q->n_bound, v));
}

void eb__q_text(struct eb__q *q, const char *s)
{
    if (q->stmt == NULL)
        return;
    if (s == NULL)
        q_bound(q, q->db->be->bind_null(q->stmt, ++q->n_bound));
    else
        q_bound(q, q->db->be->bind_text(q->stmt, ++q->n_bound, s, strlen(s)));
}

void eb__q_blob(struct eb__q *q, const void *p, size_t len)
{
    if (q->stmt == NULL)
        return;
    if (p == NULL)
        q_bound(q, q->db->be->bind_null(q->stmt, ++q->n_bound));
    else
        q_bound(q, q->db->be->bind_blob(q->stmt, ++q->n_bound, p, len));
}

void eb__q_null(struct eb__q *q)
{
    if (q->stmt == NULL)
        return;
    q_bound(q, q->db->be->bind_null(q->stmt, ++q->n_bound));
}

int eb__q_step(struct eb__q *q)
{
    if (q->rc != 0)
        return q->rc;
    int rc = q->db->be->step(q->stmt);
    if (rc < 0)
        q->rc = rc;
    return rc;
}

int eb__q_exec(struct eb__q *q)
{
    int rc;
    do {
        rc = eb__q_step(q);
    } while (rc == EB__STORE_ROW);
    return rc;
}

int eb__q_exec_deferred(struct eb__q *q, const struct eb_caller *c)
{
    const struct eb__store_backend *be = q->db->be;
    if (q->rc != 0)
        return q->rc;
    if (be->step_deferred == NULL || !q->db->in_tx || q->writing || !eb__audit_skip(c))
        return eb__q_exec(q);
    int rc = be->step_deferred(q->stmt);
    if (rc < 0)
        q->rc = rc;
    return rc < 0 ? rc : EB__STORE_DONE;
}

int eb_store_after_bulk_load(struct eb_db *db)
{
    const char *sql = db->be->sql_after_bulk_load;
    return sql && !db->in_tx ? db->be->exec(db->conn, sql) : 0;
}

void eb__q_end(struct eb__q *q)
{
    if (q->stmt != NULL)
        q->db->be->reset(q->stmt);
    q->stmt = NULL;
    if (q->writing) {
        q->writing = 0;
        writer_give(q->db);
    }
}

int64_t eb__q_col_int(struct eb__q *q, int col)
{
    return q->db->be->col_int(q->stmt, col);
}

double eb__q_col_double(struct eb__q *q, int col)
{
    return q->db->be->col_double(q->stmt, col);
}

int eb__q_col_null(struct eb__q *q, int col)
{
    return q->db->be->col_is_null(q->stmt, col);
}

char *eb__q_col_str(struct eb__q *q, int col, struct eb_arena *a)
{
    if (q->db->be->col_is_null(q->stmt, col))
        return NULL;
    size_t len = 0;
    const char *s = q->db->be->col_text(q->stmt, col, &len);
    if (s == NULL)
        return NULL;
    return eb_arena_strndup(a, s, len);
}

const void *eb__q_col_blob(struct eb__q *q, int col, size_t *len)
{
    return q->db->be->col_blob(q->stmt, col, len);
}

int eb__db_exec(struct eb_db *db, const char *sql)
{
    return db->be->exec(db->conn, sql);
}

/* ---- transactions ----------------------------------------------------------------------- */

static int run_cached(struct eb_db *db, const char *sql);
static const char SQL_READ_END[] = "COMMIT";

int eb_db_read_begin(struct eb_db *db)
{
    if (db->in_tx || db->in_read || db->be->sql_read_begin == NULL)
        return 0;
    int rc = run_cached(db, db->be->sql_read_begin);
    if (rc == 0)
        db->in_read = 1;
    return rc;
}

void eb_db_read_end(struct eb_db *db)
{
    if (!db->in_read)
        return;
    db->in_read = 0;
    run_cached(db, SQL_READ_END);
}

int eb_db_begin(struct eb_db *db)
{
    if (db->in_tx)
        return EB_EINVAL;
    eb_db_read_end(db);
    int rc = writer_take(db);
    if (rc != 0)
        return rc;
    rc = db->be->exec(db->conn, db->be->sql_begin);
    if (rc == 0)
        db->in_tx = 1;
    else
        writer_give(db);
    return rc;
}

int eb_db_commit(struct eb_db *db)
{
    if (!db->in_tx)
        return EB_EINVAL;
    int rc = db->be->exec(db->conn, "COMMIT");
    if (rc == 0) {
        db->in_tx = 0;
        writer_give(db);
    }
    return rc;
}

int eb_db_rollback(struct eb_db *db)
{
    eb_db_read_end(db);
    memset(db->org_cache, 0, sizeof(db->org_cache));
    if (!db->in_tx)
        return 0;
    db->in_tx = 0;
    int rc = db->be->exec(db->conn, "ROLLBACK");
    writer_give(db);
    return rc;
}

static const char SQL_SAVEPOINT[] = "SAVEPOINT eb_write";
static const char SQL_RELEASE[] = "RELEASE SAVEPOINT eb_write";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO SAVEPOINT eb_write";

static int run_cached(struct eb_db *db, const char *sql)
{
    struct eb__q q;
    eb__q_start(db, sql, &q);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/*
 * A store write is atomic with its audit row. Outside a transaction it opens its own; inside
 * the caller's it uses a savepoint, so that a failed write leaves the caller's transaction as
 * it was. Bulk system loads skip the savepoint: they write one statement per call and nothing
 * else, and the savepoint would cost as much as the insert.
 */
int eb__tx_enter(struct eb_db *db, const struct eb_caller *c, int *own)
{
    *own = 0;
    if (db->in_tx) {
        if (eb__audit_skip(c))
            return 0;
        int rc = run_cached(db, SQL_SAVEPOINT);
        if (rc == 0)
            *own = 2;
        return rc;
    }
    int rc = eb_db_begin(db);
    if (rc == 0)
        *own = 1;
    return rc;
}

int eb__tx_leave(struct eb_db *db, int own, int rc)
{
    if (own == 0)
        return rc;
    if (own == 2) {
        if (rc != 0) {
            run_cached(db, SQL_ROLLBACK_TO);
            memset(db->org_cache, 0, sizeof(db->org_cache));
        }
        int r = run_cached(db, SQL_RELEASE);
        return rc != 0 ? rc : r;
    }
    if (rc == 0) {
        rc = eb_db_commit(db);
        if (rc != 0)
            eb_db_rollback(db);
        return rc;
    }
    eb_db_rollback(db);
    return rc;
}

/* ---- migrations ------------------------------------------------------------------------- */

static const char SQL_MIG_TABLE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                                    " applied_at INTEGER NOT NULL)";
static const char SQL_MIG_VERSION[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char SQL_MIG_ADD[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)";

int eb_store_schema_version(struct eb_db *db)
{
    struct eb__q q;
    int v = 0;
    eb__q_start(db, SQL_MIG_VERSION, &q);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        v = (int)eb__q_col_int(&q, 0);
    else if (rc < 0)
        v = rc;
    eb__q_end(&q);
    return v;
}

/* Each pending migration runs in its own transaction with its schema_migrations row, so a
 * failed one leaves the database at the previous version. */
static int migrate(struct eb_db *db)
{
    /* Inside a write transaction: on PostgreSQL that takes the write lock, so servers that
     * start together on an empty database do not race to create the table. */
    int rc = eb_db_begin(db);
    if (rc != 0)
        return rc;
    rc = eb__db_exec(db, SQL_MIG_TABLE);
    if (rc == 0)
        rc = eb_db_commit(db);
    if (rc != 0) {
        eb_db_rollback(db);
        return rc;
    }
    for (const struct eb__migration *m = db->be->migrations; m && m->version > 0; m++) {
        rc = eb_db_begin(db);
        if (rc != 0)
            return rc;
        int cur = eb_store_schema_version(db);
        if (cur < 0) {
            rc = cur;
            goto fail;
        }
        if (m->version <= cur) {
            eb_db_rollback(db);
            continue;
        }
        eb_info("store: applying migration %04d_%s", m->version, m->name);
        rc = eb__db_exec(db, m->sql);
        if (rc != 0)
            goto fail;
        struct eb__q q;
        eb__q_start(db, SQL_MIG_ADD, &q);
        eb__q_int(&q, m->version);
        eb__q_text(&q, m->name);
        eb__q_int(&q, eb__now_ms() / 1000);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        if (rc < 0)
            goto fail;
        rc = eb_db_commit(db);
        if (rc != 0)
            goto fail;
    }
    return 0;
fail:
    eb_error("store: migration failed: %s", eb_strerror(rc));
    eb_db_rollback(db);
    return rc;
}

/* ---- open, pool ------------------------------------------------------------------------- */

static void db_close(struct eb_db *db)
{
    if (db == NULL)
        return;
    for (int i = 0; i < db->n_cache; i++)
        db->be->finalize(db->cache[i].stmt);
    if (db->conn)
        db->be->conn_close(db->conn);
    eb_free(db);
}

/* Anything sealed with the key: identity numbers, student numbers, OIDC signing keys. */
static const char SQL_HAS_SEALED[] =
    "SELECT 1 FROM people WHERE citizen_id_enc IS NOT NULL OR student_no_enc IS NOT NULL"
    " UNION ALL SELECT 1 FROM oidc_keys LIMIT 1";

int eb__store_is_pg_dsn(const char *dsn)
{
    return dsn != NULL &&
           (strncmp(dsn, "postgres://", 11) == 0 || strncmp(dsn, "postgresql://", 13) == 0);
}

int eb_store_open(const char *dsn, const struct eb_store_options *opt, struct eb_store **out)
{
    struct eb_store_options o = {.pool_size = 4, .busy_timeout_ms = 5000, .create = 1};
    struct eb_store *st = NULL;
    char *key_path = NULL;
    int rc = 0;
    if (opt != NULL) {
        o = *opt;
        if (o.pool_size <= 0)
            o.pool_size = 4;
        if (o.busy_timeout_ms <= 0)
            o.busy_timeout_ms = 5000;
    }
    *out = NULL;
    st = eb_xcalloc(1, sizeof(*st));
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->freed, NULL);
    pthread_mutex_init(&st->writer, NULL);
    st->busy_timeout_ms = o.busy_timeout_ms;
    /* A URL names a PostgreSQL database; anything else is a SQLite file. */
    st->be = eb__store_is_pg_dsn(dsn) ? &eb__store_pg : &eb__store_sqlite;
    if (st->be == &eb__store_pg && o.key_file == NULL) {
        eb_error("store: a PostgreSQL database needs a citizen-ID key file (--key-file)");
        rc = EB_EINVAL;
        goto done;
    }
    rc = st->be->open(dsn, &o, &st->impl);
    if (rc != 0) {
        st->impl = NULL;
        goto done;
    }
    st->all = eb_xcalloc((size_t)o.pool_size, sizeof(*st->all));
    for (int i = 0; i < o.pool_size; i++) {
        struct eb_db *db = eb_xcalloc(1, sizeof(*db));
        db->store = st;
        db->be = st->be;
        rc = st->be->conn_open(st->impl, &db->conn);
        if (rc != 0) {
            eb_free(db);
            goto done;
        }
        st->all[st->n_all++] = db;
        if (i == 0) {
            /* Migrations run once, on the first connection, before any other uses the
             * schema. */
            rc = migrate(db);
            if (rc != 0)
                goto done;
        }
        db->next_free = st->free_list;
        st->free_list = db;
    }

    /* A missing key may only be created while no sealed value exists: a new key would make
     * the stored identity numbers and signing keys unreadable. Migrations ran above, so every
     * table named here exists. */
    int may_create = 1;
    {
        struct eb__q q;
        eb__q_start(st->all[0], SQL_HAS_SEALED, &q);
        int r = eb__q_step(&q);
        eb__q_end(&q);
        if (r < 0) {
            rc = r;
            goto done;
        }
        may_create = r == EB__STORE_DONE;
    }
    if (o.key_file == NULL) {
        size_t n = strlen(dsn);
        key_path = eb_xmalloc(n + 5);
        memcpy(key_path, dsn, n);
        memcpy(key_path + n, ".key", 5);
    }
    rc = eb__pii_load_key(st, o.key_file ? o.key_file : key_path, may_create);
    if (rc != 0)
        goto done;
    *out = st;
    st = NULL;
done:
    eb_free(key_path);
    if (st != NULL)
        eb_store_close(st);
    return rc;
}

void eb_store_close(struct eb_store *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < st->n_all; i++)
        db_close(st->all[i]);
    eb_free(st->all);
    if (st->impl)
        st->be->close(st->impl);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->freed);
    pthread_mutex_destroy(&st->writer);
    /* The keys must not linger in freed memory. */
    memset(st->pii_key, 0, sizeof(st->pii_key));
    memset(st->blind_key, 0, sizeof(st->blind_key));
    eb_free(st);
}

struct eb_db *eb_store_acquire(struct eb_store *st)
{
    pthread_mutex_lock(&st->lock);
    while (st->free_list == NULL)
        pthread_cond_wait(&st->freed, &st->lock);
    struct eb_db *db = st->free_list;
    st->free_list = db->next_free;
    db->next_free = NULL;
    pthread_mutex_unlock(&st->lock);
    return db;
}

void eb_store_release(struct eb_store *st, struct eb_db *db)
{
    if (db == NULL)
        return;
    /* A connection goes back clean: a forgotten transaction would block every writer. */
    if (db->in_tx) {
        eb_warn("store: connection released inside a transaction; rolling back");
        eb_db_rollback(db);
    }
    pthread_mutex_lock(&st->lock);
    db->next_free = st->free_list;
    st->free_list = db;
    pthread_cond_signal(&st->freed);
    pthread_mutex_unlock(&st->lock);
}

int eb_store_backup(struct eb_store *st, const char *path)
{
    if (path == NULL || path[0] == '\0')
        return EB_EINVAL;
    return st->be->backup(st->impl, path);
}

const char *eb_store_backend_name(const struct eb_store *st)
{
    return st->be->name;
}
