/* The SQLite backend of the store: connections, statements, error mapping, online backup. */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

/*
 * A statement. "INSERT ... RETURNING id" is run as a plain INSERT whose row is made from
 * sqlite3_last_insert_rowid(): SQLite implements RETURNING with a temporary b-tree opened and
 * closed on every execution, which cost a quarter of a bulk load's time.
 */
struct sq_stmt {
    sqlite3_stmt *st;
    int rowid_returning;
    int state; /* rowid_returning: 0 not run, 1 the id row is current, 2 done */
    sqlite3_int64 id;
};

static const char RETURNING_ID[] = " RETURNING id";

struct sq_impl {
    char *path;
    int busy_timeout_ms;
    int create;
};

/*
 * SQLite answers extended result codes once they are switched on; the store's callers only
 * need to tell "taken" from "invalid" from "retry later" from "broken".
 */
static int map_rc(int rc)
{
    switch (rc) {
    case SQLITE_OK:
        return 0;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return EB_EEXIST;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
        return EB_EINVAL;
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return EB_EBUSY;
    default:
        return EB_ESTORE;
    }
}

static int sq_open(const char *dsn, const struct eb_store_options *opt, void **impl)
{
    if (dsn == NULL || dsn[0] == '\0' || strcmp(dsn, ":memory:") == 0)
        return EB_EINVAL; /* every pooled connection must see the same database */
    /* The allocator's statistics take a global mutex on every allocation; nothing reads
     * them. This only works before SQLite's first use in the process (else: MISUSE, ignored). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    struct sq_impl *s = eb_xcalloc(1, sizeof(*s));
    s->path = eb_xstrdup(dsn);
    s->busy_timeout_ms = opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000;
    s->create = opt->create;
    *impl = s;
    return 0;
}

static void sq_close(void *impl)
{
    struct sq_impl *s = impl;
    if (s == NULL)
        return;
    eb_free(s->path);
    eb_free(s);
}

static int sq_conn_open(void *impl, void **conn)
{
    struct sq_impl *s = impl;
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (s->create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(s->path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        eb_error("store: cannot open %s: %s", s->path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc == SQLITE_CANTOPEN ? EB_EIO : map_rc(rc);
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, s->busy_timeout_ms);
    /*
     * WAL lets readers run while one writer commits; synchronous=NORMAL in WAL mode keeps the
     * database consistent on power loss and only risks the last transactions. The page cache
     * is raised because bulk loads insert into several large indexes at random positions.
     */
    rc = sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                      " PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        eb_error("store: cannot configure %s: %s", s->path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return map_rc(rc);
    }
    *conn = db;
    return 0;
}

static void sq_conn_close(void *conn)
{
    sqlite3_close(conn);
}

static int sq_exec(void *conn, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(conn, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        eb_error("store: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return map_rc(rc);
    }
    return 0;
}

static int sq_prepare(void *conn, const char *sql, void **stmt)
{
    sqlite3_stmt *st = NULL;
    size_t n = strlen(sql), tail = sizeof(RETURNING_ID) - 1;
    int rowid = n > tail && strcmp(sql + n - tail, RETURNING_ID) == 0;
    if (n > INT_MAX)
        return EB_ETOOBIG;
    int rc = sqlite3_prepare_v3(conn, sql, rowid ? (int)(n - tail) : (int)n,
                                SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        eb_error("store: prepare failed: %s: %s", sqlite3_errmsg(conn), sql);
        return map_rc(rc);
    }
    struct sq_stmt *s = eb_xcalloc(1, sizeof(*s));
    s->st = st;
    s->rowid_returning = rowid;
    *stmt = s;
    return 0;
}

static void sq_finalize(void *stmt)
{
    struct sq_stmt *s = stmt;
    if (s == NULL)
        return;
    sqlite3_finalize(s->st);
    eb_free(s);
}

static sqlite3_stmt *st_of(void *stmt)
{
    return ((struct sq_stmt *)stmt)->st;
}

static int sq_bind_int(void *stmt, int idx, int64_t v)
{
    return map_rc(sqlite3_bind_int64(st_of(stmt), idx, v));
}

static int sq_bind_double(void *stmt, int idx, double v)
{
    return map_rc(sqlite3_bind_double(st_of(stmt), idx, v));
}

static int sq_bind_text(void *stmt, int idx, const char *s, size_t len)
{
    if (len > INT_MAX)
        return EB_ETOOBIG;
    return map_rc(sqlite3_bind_text(st_of(stmt), idx, s, (int)len, SQLITE_TRANSIENT));
}

static int sq_bind_blob(void *stmt, int idx, const void *p, size_t len)
{
    if (len > INT_MAX)
        return EB_ETOOBIG;
    return map_rc(sqlite3_bind_blob(st_of(stmt), idx, p, (int)len, SQLITE_TRANSIENT));
}

static int sq_bind_null(void *stmt, int idx)
{
    return map_rc(sqlite3_bind_null(st_of(stmt), idx));
}

static int sq_step(void *stmt)
{
    struct sq_stmt *s = stmt;
    if (s->rowid_returning && s->state > 0) {
        s->state = 2;
        return EB__STORE_DONE;
    }
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_DONE && s->rowid_returning) {
        s->id = sqlite3_last_insert_rowid(sqlite3_db_handle(s->st));
        s->state = 1;
        return EB__STORE_ROW;
    }
    if (rc == SQLITE_ROW)
        return EB__STORE_ROW;
    if (rc == SQLITE_DONE)
        return EB__STORE_DONE;
    int err = map_rc(rc);
    if (err == EB_ESTORE)
        eb_error("store: step failed: %s", sqlite3_errmsg(sqlite3_db_handle(s->st)));
    return err;
}

static int sq_col_is_null(void *stmt, int col)
{
    struct sq_stmt *s = stmt;
    if (s->rowid_returning)
        return s->state != 1;
    return sqlite3_column_type(s->st, col) == SQLITE_NULL;
}

static int64_t sq_col_int(void *stmt, int col)
{
    struct sq_stmt *s = stmt;
    if (s->rowid_returning)
        return s->state == 1 && col == 0 ? s->id : 0;
    return sqlite3_column_int64(s->st, col);
}

static double sq_col_double(void *stmt, int col)
{
    return sqlite3_column_double(st_of(stmt), col);
}

static const char *sq_col_text(void *stmt, int col, size_t *len)
{
    const char *s = (const char *)sqlite3_column_text(st_of(stmt), col);
    if (len)
        *len = (size_t)sqlite3_column_bytes(st_of(stmt), col);
    return s;
}

static const void *sq_col_blob(void *stmt, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(st_of(stmt), col);
    *len = (size_t)sqlite3_column_bytes(st_of(stmt), col);
    return p;
}

static void sq_reset(void *stmt)
{
    struct sq_stmt *s = stmt;
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    s->state = 0;
    s->id = 0;
}

/*
 * One backup step over all pages runs inside one read transaction of the source, so the copy
 * is a consistent snapshot; in WAL mode writers on other connections go on meanwhile.
 */
static int sq_backup(void *impl, const char *path)
{
    struct sq_impl *s = impl;
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *bk = NULL;
    int err = 0;
    /* O_EXCL refuses an existing file without a window between the check and the create. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = errno == EEXIST ? EB_EEXIST : EB_EIO;
        goto done;
    }
    close(fd);
    int rc = sqlite3_open_v2(s->path, &src, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        err = EB_EIO;
        goto done;
    }
    sqlite3_busy_timeout(src, s->busy_timeout_ms);
    bk = sqlite3_backup_init(dst, "main", src, "main");
    if (bk == NULL) {
        eb_error("store: backup: %s", sqlite3_errmsg(dst));
        err = EB_ESTORE;
        goto done;
    }
    rc = sqlite3_backup_step(bk, -1);
    if (rc != SQLITE_DONE) {
        eb_error("store: backup step: %s", sqlite3_errstr(rc));
        err = map_rc(rc);
    }
    rc = sqlite3_backup_finish(bk);
    bk = NULL;
    if (err == 0 && rc != SQLITE_OK)
        err = map_rc(rc);
    /* The copy keeps the source's WAL mode; checkpoint so that the file alone is complete. */
    if (err == 0 && sqlite3_exec(dst, "PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL) != 0)
        err = EB_ESTORE;
done:
    if (bk)
        sqlite3_backup_finish(bk);
    sqlite3_close(src);
    sqlite3_close(dst);
    if (err != 0 && err != EB_EEXIST && fd >= 0)
        unlink(path);
    return err;
}

static int sq_stmt_writes(void *stmt)
{
    return !sqlite3_stmt_readonly(((struct sq_stmt *)stmt)->st);
}

static const char *sq_errmsg(void *conn)
{
    return sqlite3_errmsg(conn);
}

const struct eb__store_backend eb__store_sqlite = {
    .version = 1,
    .name = "sqlite",
    /* Each statement outside a transaction takes and drops SQLite's file locks (four fcntl
     * calls); one read transaction per request takes them once. */
    .sql_read_begin = "BEGIN",
    .stmt_writes = sq_stmt_writes,
    .open = sq_open,
    .close = sq_close,
    .conn_open = sq_conn_open,
    .conn_close = sq_conn_close,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .bind_int = sq_bind_int,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_is_null = sq_col_is_null,
    .col_int = sq_col_int,
    .col_double = sq_col_double,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .reset = sq_reset,
    .backup = sq_backup,
    .errmsg = sq_errmsg,
    .sql_begin = "BEGIN IMMEDIATE",
    .one_writer = 1,
    .migrations = eb__migrations_sqlite,
};
