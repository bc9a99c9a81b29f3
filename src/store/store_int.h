/*
 * Inside the store: the backend interface and the statement helpers that the store's domain
 * files (store_org.c, store_people.c, ...) are written with. Nothing outside src/store/
 * includes this file.
 *
 * SQL is written once, portable between SQLite and PostgreSQL: parameters are '?', inserts
 * return their key with RETURNING id, booleans are integers. A backend may rewrite the text
 * (PostgreSQL turns '?' into $1..$n) but domain files never branch on the backend.
 */
#ifndef EB_STORE_INT_H
#define EB_STORE_INT_H

#include "store/store.h"

#include <pthread.h>

#define EB__STORE_ROW  1
#define EB__STORE_DONE 0

struct eb__stmt; /* a prepared statement owned by one connection's cache */

/** A backend: SQLite now, PostgreSQL next (same contract, tested by the same suite). */
struct eb__store_backend {
    int version;
    const char *name;
    int (*open)(const char *dsn, const struct eb_store_options *opt, void **impl /* out */);
    void (*close)(void *impl);
    int (*conn_open)(void *impl, void **conn /* out */);
    void (*conn_close)(void *conn);
    int (*exec)(void *conn, const char *sql); /* several statements, no parameters */
    int (*prepare)(void *conn, const char *sql, void **stmt /* out */);
    void (*finalize)(void *stmt);
    int (*bind_int)(void *stmt, int idx, int64_t v); /* idx from 1 */
    int (*bind_double)(void *stmt, int idx, double v);
    int (*bind_text)(void *stmt, int idx, const char *s, size_t len);
    int (*bind_blob)(void *stmt, int idx, const void *p, size_t len);
    int (*bind_null)(void *stmt, int idx);
    int (*step)(void *stmt); /* EB__STORE_ROW, EB__STORE_DONE or a negative enum eb_err */
    int (*col_is_null)(void *stmt, int col); /* col from 0 */
    int64_t (*col_int)(void *stmt, int col);
    double (*col_double)(void *stmt, int col);
    const char *(*col_text)(void *stmt, int col, size_t *len /* out, may be NULL */);
    const void *(*col_blob)(void *stmt, int col, size_t *len /* out */);
    void (*reset)(void *stmt); /* clears bindings and results */
    int (*backup)(void *impl, const char *path);
    const char *(*errmsg)(void *conn);
    /* Optional: a backend that gains from one read transaction per request names its BEGIN
     * and tells which statements write (those end the read transaction first). */
    const char *sql_read_begin;
    int (*stmt_writes)(void *stmt);
    const char *sql_begin; /* starts a write transaction */
    /* One writer at a time in the whole database (SQLite): the store's threads queue on a
     * mutex instead of SQLite's busy handler, which sleeps 1 to 100 ms between retries. */
    int one_writer;
    const struct eb__migration *migrations; /* ends with an entry of version 0 */
    /* Optional: runs a statement without rows whose answer the caller does not wait for; it
     * and its error come back with the connection's next statement (PostgreSQL's pipeline).
     * NULL: eb__q_exec_deferred runs it at once. */
    int (*step_deferred)(void *stmt);
    /* Optional: what a committed bulk load runs so that the next plans know the new rows. */
    const char *sql_after_bulk_load;
};

/** One schema migration, generated from migrations/<backend>/NNNN_name.sql. */
struct eb__migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct eb__migration eb__migrations_sqlite[]; /* build/gen (tools/embed_sql.sh) */

extern const struct eb__store_backend eb__store_sqlite;

extern const struct eb__migration eb__migrations_pg[]; /* build/gen (tools/embed_sql.sh) */
extern const struct eb__store_backend eb__store_pg;
/** True when dsn is a postgres:// or postgresql:// URL (the PostgreSQL backend). */
int eb__store_is_pg_dsn(const char *dsn);
/** The connection string of a PostgreSQL store (NULL for another backend): the brain's LISTEN
 * connection (store_brain.c) opens its own session with it. */
const char *eb__pg_conninfo(const struct eb_store *st);
/** The PostgreSQL text of a '?' statement ($1..$n outside literals and comments); eb_free it. */
char *eb__pg_rewrite_placeholders(const char *sql, int *n_params /* out */);

#define EB__STMT_CACHE 128

struct eb_db {
    struct eb_store *store;
    const struct eb__store_backend *be;
    void *conn;
    int in_tx;
    int in_read; /* a read transaction of eb_db_read_begin is open */
    int writing; /* nesting depth of what holds the store's writer lock (one_writer backends) */
    struct eb_db *next_free;
    /* Prepared statements cached per connection, keyed by the address of their SQL text. */
    struct {
        const char *sql;
        void *stmt;
    } cache[EB__STMT_CACHE];
    int n_cache;
    /* The last org paths looked up (paths never change; cleared on rollback, since a rolled
     * back id may be handed out again). Bulk loads look up the same school and class row after
     * row. */
    struct {
        int64_t id;
        enum eb_org_kind kind;
        char path[EB_PATH_MAX];
    } org_cache[4];
    unsigned org_cache_next;
};

struct eb_store {
    const struct eb__store_backend *be;
    void *impl;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    pthread_mutex_t writer; /* see eb__store_backend.one_writer */
    int busy_timeout_ms;
    struct eb_db *free_list;
    struct eb_db **all;
    int n_all;
    unsigned char pii_key[32]; /* secretbox key for citizen IDs; see store_pii.c */
    int has_pii_key;
    unsigned char blind_key[32]; /* derived from pii_key for the blind index */
};

/*
 * Statement helpers. eb__q() returns the cached statement for a static SQL string (reset and
 * ready to bind); pass the same string literal every time, its address is the cache key.
 */
struct eb__q {
    struct eb_db *db;
    void *stmt;
    int n_bound;
    int rc;      /* first error, sticky */
    int writing; /* this statement took the writer lock (an autocommit write) */
};

int eb__q_start(struct eb_db *db, const char *sql, struct eb__q *q /* out */);
void eb__q_int(struct eb__q *q, int64_t v);
void eb__q_double(struct eb__q *q, double v);
void eb__q_text(struct eb__q *q, const char *s); /* NULL binds NULL */
void eb__q_blob(struct eb__q *q, const void *p, size_t len);
void eb__q_null(struct eb__q *q);
/** EB__STORE_ROW, EB__STORE_DONE or an error (a bind error is returned here). */
int eb__q_step(struct eb__q *q);
/** Step until done; for statements without rows. */
int eb__q_exec(struct eb__q *q);
/** Resets the statement so it can go back to the cache. Always call when done. */
void eb__q_end(struct eb__q *q);
/**
 * Like eb__q_exec for a write of a bulk system load inside its transaction (no savepoint, so
 * any error fails the whole transaction): the backend may send it without waiting for its
 * answer (store_pg.c), saving a round trip per row. Its error then comes as EB_ESTORE from a
 * later statement or the COMMIT. Anything else runs at once.
 */
int eb__q_exec_deferred(struct eb__q *q, const struct eb_caller *c);

int64_t eb__q_col_int(struct eb__q *q, int col);
double eb__q_col_double(struct eb__q *q, int col);
int eb__q_col_null(struct eb__q *q, int col);
/** A copy of the column in the arena; NULL for SQL NULL. */
char *eb__q_col_str(struct eb__q *q, int col, struct eb_arena *a);
const void *eb__q_col_blob(struct eb__q *q, int col, size_t *len);

/** Runs a cached statement with one text parameter and no rows (deletes, revocations). */
int eb__exec_text(struct eb_db *db, const char *sql, const char *v);
/** Runs a whole SQL script (migrations). */
int eb__db_exec(struct eb_db *db, const char *sql);

/* Scope helpers shared by the domain files. */
int eb__org_path(struct eb_db *db, int64_t org_id, char path[EB_PATH_MAX] /* out */,
                 enum eb_org_kind *kind /* out, may be NULL */);

/** Opens a write transaction, or a savepoint inside the caller's; *own tells eb__tx_leave
 * what to end. */
int eb__tx_enter(struct eb_db *db, const struct eb_caller *c, int *own /* out */);
/** Commits (rc == 0) or rolls back what eb__tx_enter opened; returns rc or the commit error. */
int eb__tx_leave(struct eb_db *db, int own, int rc);

/** True when path lies in the subtree of prefix (both materialised paths). */
int eb__path_within(const char *path, const char *prefix);
/** The exclusive upper bound of prefix's subtree for range scans: the last '/' becomes '0'. */
void eb__path_hi(const char *prefix, char hi[EB_PATH_MAX] /* out */);
/** READ of the people under path: like EB_ACCESS_READ but student and parent grants do not
 * count (they see themselves and their children only). */
int eb__caller_sees_people(const struct eb_caller *c, const char *path);
int eb__caller_has_role(const struct eb_caller *c, enum eb_role role);
int64_t eb__now_ms(void);

/**
 * Appends an audit row for a write of the caller unless it is a bulk system load; takes over
 * the references of before and after (either may be NULL). Call inside the write's
 * transaction.
 */
struct json_t;
int eb__audit_write(struct eb_db *db, const struct eb_caller *c, const char *action,
                    const char *object_type, int64_t object_id, const char *org_path,
                    struct json_t *before, struct json_t *after);
/**
 * Records, inside the write's transaction, that data under path changed: the data_version of
 * every school, grade and class on the path (table org_versions) goes up by one (see
 * eb_store_people_version).
 * Skipped with the audit row for bulk system loads, which run before any server reads.
 */
int eb__org_changed(struct eb_db *db, const struct eb_caller *c, const char *path);
/**
 * The shard unit of the org at the end of path (docs/SCALING.md): the school on the path, or the
 * org itself when it lies above any school; every row under the org tree carries it as
 * school_id. kind is that org's kind, or 0 to look it up (through the connection's path cache).
 */
int eb__org_unit(struct eb_db *db, const char *path, enum eb_org_kind kind,
                 int64_t *unit /* out */);
/** True when the caller's writes skip the audit log (system bulk loads). */
int eb__audit_skip(const struct eb_caller *c);

/**
 * 0 when the caller may access the person: READ follows the person rule (the person's org or
 * current class/school under a people-reading grant, the caller's own person, or a child
 * through a current guardian link with a parent grant); WRITE needs write access on the
 * person's org or current class/school. EB_ENOTFOUND otherwise. org_path (may be NULL) gets the
 * path of the person's registering org.
 */
int eb__person_check(struct eb_db *db, const struct eb_caller *c, int64_t id, enum eb_access access,
                     char org_path[EB_PATH_MAX] /* out */);

/* Citizen ID encryption at rest (store_pii.c). */
/** Like eb__pii_seal into a caller buffer of cap bytes (no arena on the bulk-load path). */
int eb__pii_seal_buf(const struct eb_store *st, const char *plain, unsigned char *out, size_t cap,
                     size_t *out_len /* out */);
/** Loads or creates the key (first 6 + 8 '*' + last 4 is the masked form). */
int eb__pii_load_key(struct eb_store *st, const char *key_file, int may_create);

int eb__pii_seal(const struct eb_store *st, const char *plain, struct eb_arena *a,
                 unsigned char **out, size_t *out_len);
char *eb__pii_open(const struct eb_store *st, const unsigned char *sealed, size_t len,
                   struct eb_arena *a);
/** Keyed hash of a citizen ID for equality lookups (duplicate detection) without decrypting. */
void eb__pii_blind_index(const struct eb_store *st, const char *plain, char hex[65] /* out */);

/* Schools and promotion (store_schools.c), shared with store_org.c and store_promotion.c. */
/** Records code as given to org_id (codes are never reused): EB_EEXIST when it was ever given
 * to another school. A NULL code is fine. */
int eb__school_code_claim(struct eb_db *db, const char *code, int64_t org_id);
/** The name of a grade code ("二年级") and the prefix of its class names ("二年级", "高二";
 * NULL for vocational grades, named by entry year). NULL for an unknown code. */
const char *eb__grade_name(const char *code);
const char *eb__grade_class_prefix(const char *code);
/** The open grade node of code under school_id; creates it (audited) when missing and create
 * is set (*created = 1). EB_ENOTFOUND when missing and not create. */
int eb__school_grade(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                     const char *code, int create, int64_t *grade_id /* out */,
                     int *created /* out, may be NULL */);

#endif
