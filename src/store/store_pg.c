/* The PostgreSQL backend of the store (libpq): connections, prepared statements, errors. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

/*
 * Write transactions run one at a time, like SQLite's BEGIN IMMEDIATE: each takes this
 * transaction-scoped advisory lock first, so the domain code's "read, check, write" sequences
 * see no other writer commit in between, on one server or several. Reads never wait for it.
 * The same lock serialises migrations between servers that start together.
 */
#define PG_WRITE_LOCK "7301650201"

struct pg_impl {
    char *conninfo;
    int busy_timeout_ms;
};

/*
 * Deferred statements (pg_step_deferred) are sent in libpq's pipeline mode and their results
 * read together with the next statement that waits for its own: one round trip for a row's
 * INSERT RETURNING and the writes after it that need no answer. At most this many wait for
 * their results, which bounds the memory both ends buffer for them.
 */
#define PG_PIPELINE_MAX 1000

struct pg_conn {
    PGconn *conn;
    int next_stmt; /* names the next prepared statement "s<N>" */
    int pending;   /* deferred statements sent and not yet answered (pipeline mode is on) */
    char errmsg[256];
};

/* One parameter: text format (NUL-terminated) or binary (blobs). */
struct pg_param {
    char *buf;
    size_t cap;
    int len;
    int is_null;
    int binary;
};

struct pg_stmt {
    struct pg_conn *c;
    char name[24];
    int n_params;
    struct pg_param *params;
    const char **values; /* the arrays PQexecPrepared takes, rebuilt from params on each run */
    int *lengths;
    int *formats;
    PGresult *res;
    int row;  /* the current row, -1 before the first */
    int rows; /* rows in res */
    int ran;
    /* BYTEA columns unescaped for the current row; freed when the row changes. */
    unsigned char **blobs;
    int n_blobs, cap_blobs;
};

/*
 * SQLSTATE classes the store's callers tell apart: "taken", "invalid", "retry later";
 * anything else is broken and gets logged.
 */
static int map_state(const char *state)
{
    if (state == NULL)
        return EB_ESTORE;
    if (strcmp(state, "23505") == 0)
        return EB_EEXIST;
    if (strcmp(state, "23503") == 0 || strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0)
        return EB_EINVAL;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return EB_EBUSY;
    return EB_ESTORE;
}

/* Maps a failed result (or a lost connection when res is NULL) and logs the unexpected ones. */
static int result_error(struct pg_conn *c, const PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->conn);
    snprintf(c->errmsg, sizeof(c->errmsg), "%s", msg ? msg : "");
    c->errmsg[strcspn(c->errmsg, "\n")] = '\0';
    int err = map_state(state);
    if (err == EB_ESTORE)
        eb_error("store: %s failed: %s [%s]", what, c->errmsg, state ? state : "no SQLSTATE");
    return err;
}

/*
 * Ends the pipeline: a sync, then the answers of the deferred statements in order, then (when
 * own is set) the answer of the statement sent last, which the caller takes over. Returns the
 * first error; once a statement failed, the server skips the rest up to the sync, and the
 * transaction is aborted, so the error stands for all of them.
 */
static int pipeline_finish(struct pg_conn *c, PGresult **own)
{
    int expect = c->pending + (own != NULL), got = 0, nulls = 0, rc = 0;
    if (own)
        *own = NULL;
    c->pending = 0;
    if (!PQpipelineSync(c->conn))
        rc = result_error(c, NULL, "pipeline sync");
    for (;;) {
        PGresult *res = PQgetResult(c->conn);
        if (res == NULL) {
            /* One NULL ends each statement's answer; two in a row mean the connection is gone. */
            if (++nulls >= 2 || PQstatus(c->conn) == CONNECTION_BAD) {
                if (rc == 0)
                    rc = result_error(c, NULL, "pipeline");
                break;
            }
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        int is_own = own != NULL && ++got == expect;
        if (st == PGRES_FATAL_ERROR && rc == 0) {
            rc = result_error(c, res, is_own ? "statement" : "deferred statement");
            /* A deferred statement's error reaches a caller that did not run it: "taken" or
             * "invalid" would read as that caller's own refusal, so it is a store error, and
             * the log names the statement that failed. */
            if (!is_own && rc != EB_ESTORE) {
                eb_error("store: deferred statement failed: %s", c->errmsg);
                rc = EB_ESTORE;
            }
        } else if (st == PGRES_PIPELINE_ABORTED && rc == 0) {
            rc = EB_ESTORE;
        }
        if (is_own && rc == 0)
            *own = res;
        else
            PQclear(res);
    }
    if (own && *own == NULL && rc == 0)
        rc = EB_ESTORE;
    if (!PQexitPipelineMode(c->conn) && rc == 0)
        rc = result_error(c, NULL, "pipeline exit");
    return rc;
}

/* The server's notices ("relation already exists, skipping") are not errors. */
static void pg_notice(void *arg, const char *message)
{
    (void)arg;
    eb_debug("store: postgres: %.*s", (int)strcspn(message, "\n"), message);
}

static int pg_open(const char *dsn, const struct eb_store_options *opt, void **impl)
{
    if (dsn == NULL || (strncmp(dsn, "postgres://", 11) != 0 && strncmp(dsn, "postgresql://", 13)))
        return EB_EINVAL;
    struct pg_impl *p = eb_xcalloc(1, sizeof(*p));
    p->conninfo = eb_xstrdup(dsn);
    p->busy_timeout_ms = opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000;
    *impl = p;
    return 0;
}

static void pg_close(void *impl)
{
    struct pg_impl *p = impl;
    if (p == NULL)
        return;
    eb_free(p->conninfo);
    eb_free(p);
}

/* Runs statements without parameters and discards their rows. */
static int conn_exec(struct pg_conn *c, const char *sql, const char *what)
{
    /* A deferred statement that failed fails the COMMIT after it; a ROLLBACK goes on. */
    if (PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF) {
        int rc = pipeline_finish(c, NULL);
        if (rc != 0 && strcmp(sql, "ROLLBACK") != 0)
            return rc;
    }
    PGresult *res = PQexec(c->conn, sql);
    ExecStatusType s = PQresultStatus(res);
    int rc = 0;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        rc = result_error(c, res, what);
    else if (strcmp(sql, "COMMIT") == 0 && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        /* A transaction in which a statement failed answers COMMIT with a rollback. */
        snprintf(c->errmsg, sizeof(c->errmsg), "the transaction was aborted and rolled back");
        eb_error("store: COMMIT of an aborted transaction rolled it back");
        rc = EB_ESTORE;
    }
    PQclear(res);
    return rc;
}

static int pg_conn_open(void *impl, void **conn)
{
    struct pg_impl *p = impl;
    struct pg_conn *c = eb_xcalloc(1, sizeof(*c));
    int rc = 0;
    c->conn = PQconnectdb(p->conninfo);
    if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
        eb_error("store: cannot connect to PostgreSQL: %s",
                 c->conn ? PQerrorMessage(c->conn) : "out of memory");
        rc = EB_EIO;
        goto done;
    }
    PQsetNoticeProcessor(c->conn, pg_notice, NULL);
    /*
     * lock_timeout plays SQLite's busy_timeout: a writer waits that long for the write lock or
     * a row lock, then gets EB_EBUSY. Times are compared as bytes in the schema (COLLATE "C");
     * dates are text too, so the session's DateStyle and TimeZone do not matter.
     */
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SET lock_timeout = %d; SET client_min_messages = warning;"
             " SET standard_conforming_strings = on",
             p->busy_timeout_ms);
    rc = conn_exec(c, sql, "session setup");
done:
    if (rc != 0) {
        PQfinish(c->conn);
        eb_free(c);
        return rc;
    }
    *conn = c;
    return 0;
}

static void pg_conn_close(void *conn)
{
    struct pg_conn *c = conn;
    if (c == NULL)
        return;
    PQfinish(c->conn);
    eb_free(c);
}

/*
 * A script that fails leaves no transaction behind that it opened itself: when the write
 * transaction's BEGIN went through but its lock timed out, the store has no transaction
 * open and must not be left in an aborted one.
 */
static int pg_exec(void *conn, const char *sql)
{
    struct pg_conn *c = conn;
    int was_idle = PQtransactionStatus(c->conn) == PQTRANS_IDLE;
    int rc = conn_exec(c, sql, "exec");
    if (rc != 0 && was_idle && PQtransactionStatus(c->conn) != PQTRANS_IDLE)
        PQclear(PQexec(c->conn, "ROLLBACK"));
    return rc;
}

/*
 * The store writes '?' placeholders; PostgreSQL numbers them. '?' inside string literals,
 * quoted identifiers and comments is left alone. Returns the text (eb_free it) and the count.
 */
char *eb__pg_rewrite_placeholders(const char *sql, int *n_params)
{
    size_t n = strlen(sql), cap = n + 1, k = 0;
    for (size_t i = 0; i < n; i++)
        if (sql[i] == '?')
            cap += 6; /* "$65535" at most */
    char *out = eb_xmalloc(cap);
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = sql[i];
        if (ch == '\'' || ch == '"') {
            /* A doubled quote inside a literal is an escaped quote: the scan goes on. */
            out[k++] = sql[i++];
            while (i < n) {
                out[k++] = sql[i];
                if (sql[i] == ch) {
                    if (i + 1 < n && sql[i + 1] == ch) {
                        out[k++] = sql[++i];
                    } else {
                        break;
                    }
                }
                i++;
            }
            continue;
        }
        if (ch == '-' && i + 1 < n && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n')
                out[k++] = sql[i++];
            if (i < n)
                out[k++] = sql[i];
            continue;
        }
        if (ch == '?') {
            k += (size_t)snprintf(out + k, cap - k, "$%d", ++count);
            continue;
        }
        out[k++] = ch;
    }
    out[k] = '\0';
    *n_params = count;
    return out;
}

static int pg_prepare(void *conn, const char *sql, void **stmt)
{
    struct pg_conn *c = conn;
    int n_params = 0;
    if (PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF) {
        int rc = pipeline_finish(c, NULL);
        if (rc != 0)
            return rc;
    }
    char *text = eb__pg_rewrite_placeholders(sql, &n_params);
    struct pg_stmt *s = eb_xcalloc(1, sizeof(*s));
    int rc = 0;
    s->c = c;
    s->row = -1;
    snprintf(s->name, sizeof(s->name), "s%d", c->next_stmt++);
    s->n_params = n_params;
    if (n_params > 0) {
        s->params = eb_xcalloc((size_t)n_params, sizeof(*s->params));
        s->values = eb_xcalloc((size_t)n_params, sizeof(*s->values));
        s->lengths = eb_xcalloc((size_t)n_params, sizeof(*s->lengths));
        s->formats = eb_xcalloc((size_t)n_params, sizeof(*s->formats));
        for (int i = 0; i < n_params; i++)
            s->params[i].is_null = 1;
    }
    /* Parameter types are left to the server, which infers them from where they are used. */
    PGresult *res = PQprepare(c->conn, s->name, text, n_params, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = result_error(c, res, "prepare");
        if (rc != EB_ESTORE)
            eb_error("store: prepare failed: %s", c->errmsg);
        eb_error("store: the statement was: %s", text);
    }
    PQclear(res);
    eb_free(text);
    if (rc != 0) {
        eb_free(s->params);
        eb_free(s->values);
        eb_free(s->lengths);
        eb_free(s->formats);
        eb_free(s);
        return rc;
    }
    *stmt = s;
    return 0;
}

static void free_blobs(struct pg_stmt *s)
{
    for (int i = 0; i < s->n_blobs; i++)
        PQfreemem(s->blobs[i]);
    s->n_blobs = 0;
}

static void pg_reset(void *stmt)
{
    struct pg_stmt *s = stmt;
    free_blobs(s);
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    s->rows = 0;
    s->ran = 0;
    for (int i = 0; i < s->n_params; i++) {
        s->params[i].is_null = 1;
        s->params[i].binary = 0;
    }
}

static void pg_finalize(void *stmt)
{
    struct pg_stmt *s = stmt;
    if (s == NULL)
        return;
    pg_reset(s);
    for (int i = 0; i < s->n_params; i++)
        eb_free(s->params[i].buf);
    eb_free(s->params);
    eb_free(s->values);
    eb_free(s->lengths);
    eb_free(s->formats);
    eb_free(s->blobs);
    /* The server forgets the statement with its connection; the pool closes both together. */
    eb_free(s);
}

/* Copies len bytes (and a NUL for text) into the parameter's buffer. */
static int set_param(struct pg_stmt *s, int idx, const void *p, size_t len, int binary)
{
    if (idx < 1 || idx > s->n_params)
        return EB_EINVAL;
    if (len > (size_t)1 << 30)
        return EB_ETOOBIG;
    struct pg_param *pp = &s->params[idx - 1];
    if (pp->cap < len + 1) {
        size_t cap = len + 1 < 32 ? 32 : len + 1;
        eb_free(pp->buf);
        pp->buf = eb_xmalloc(cap);
        pp->cap = cap;
    }
    if (len > 0)
        memcpy(pp->buf, p, len);
    pp->buf[len] = '\0';
    pp->len = (int)len;
    pp->is_null = 0;
    pp->binary = binary;
    return 0;
}

static int pg_bind_int(void *stmt, int idx, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
    return set_param(stmt, idx, tmp, (size_t)n, 0);
}

static int pg_bind_double(void *stmt, int idx, double v)
{
    char tmp[40];
    int n = snprintf(tmp, sizeof(tmp), "%.17g", v);
    return set_param(stmt, idx, tmp, (size_t)n, 0);
}

static int pg_bind_text(void *stmt, int idx, const char *p, size_t len)
{
    /* Text parameters end at their NUL; PostgreSQL text cannot hold one anyway. */
    if (memchr(p, '\0', len) != NULL)
        return EB_EINVAL;
    return set_param(stmt, idx, p, len, 0);
}

static int pg_bind_blob(void *stmt, int idx, const void *p, size_t len)
{
    return set_param(stmt, idx, p, len, 1);
}

static int pg_bind_null(void *stmt, int idx)
{
    struct pg_stmt *s = stmt;
    if (idx < 1 || idx > s->n_params)
        return EB_EINVAL;
    s->params[idx - 1].is_null = 1;
    return 0;
}

static void build_params(struct pg_stmt *s)
{
    for (int i = 0; i < s->n_params; i++) {
        const struct pg_param *pp = &s->params[i];
        s->values[i] = pp->is_null ? NULL : pp->buf;
        s->lengths[i] = pp->is_null ? 0 : pp->len;
        s->formats[i] = pp->binary;
    }
}

/* Sends a statement into the pipeline (libpq copies the parameters at once). */
static int send_prepared(struct pg_stmt *s)
{
    build_params(s);
    if (!PQsendQueryPrepared(s->c->conn, s->name, s->n_params, s->values, s->lengths, s->formats,
                             0))
        return result_error(s->c, NULL, "statement");
    return 0;
}

/*
 * Runs a statement whose answer nobody waits for: it goes out with the next statement that
 * waits (or the COMMIT), and so does its error. Only for writes inside a transaction that
 * fails as a whole on any error (see eb__q_exec_deferred).
 */
static int pg_step_deferred(void *stmt)
{
    struct pg_stmt *s = stmt;
    struct pg_conn *c = s->c;
    if (PQpipelineStatus(c->conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(c->conn))
        return result_error(c, NULL, "pipeline");
    int rc = send_prepared(s);
    if (rc == 0)
        c->pending++;
    if (rc == 0 && c->pending >= PG_PIPELINE_MAX)
        rc = pipeline_finish(c, NULL);
    return rc;
}

/* The first step runs the statement and fetches every row; the next ones walk the rows. */
static int pg_step(void *stmt)
{
    struct pg_stmt *s = stmt;
    if (!s->ran) {
        if (PQpipelineStatus(s->c->conn) != PQ_PIPELINE_OFF) {
            /* The deferred statements before it are answered in the same round trip. */
            int rc = send_prepared(s);
            int prc = pipeline_finish(s->c, rc == 0 ? &s->res : NULL);
            if (rc == 0)
                rc = prc;
            if (rc != 0) {
                PQclear(s->res);
                s->res = NULL;
                return rc;
            }
        } else {
            build_params(s);
            s->res = PQexecPrepared(s->c->conn, s->name, s->n_params, s->values, s->lengths,
                                    s->formats, 0);
        }
        ExecStatusType st = PQresultStatus(s->res);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            int err = result_error(s->c, s->res, "statement");
            PQclear(s->res);
            s->res = NULL;
            return err;
        }
        s->ran = 1;
        s->rows = st == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
        s->row = -1;
    }
    free_blobs(s);
    if (s->row + 1 < s->rows) {
        s->row++;
        return EB__STORE_ROW;
    }
    s->row = s->rows;
    return EB__STORE_DONE;
}

static int valid_cell(const struct pg_stmt *s, int col)
{
    return s->res != NULL && s->row >= 0 && s->row < s->rows && col >= 0 && col < PQnfields(s->res);
}

static int pg_col_is_null(void *stmt, int col)
{
    struct pg_stmt *s = stmt;
    if (!valid_cell(s, col))
        return 1;
    return PQgetisnull(s->res, s->row, col);
}

static int64_t pg_col_int(void *stmt, int col)
{
    struct pg_stmt *s = stmt;
    if (!valid_cell(s, col) || PQgetisnull(s->res, s->row, col))
        return 0;
    return strtoll(PQgetvalue(s->res, s->row, col), NULL, 10);
}

static double pg_col_double(void *stmt, int col)
{
    struct pg_stmt *s = stmt;
    if (!valid_cell(s, col) || PQgetisnull(s->res, s->row, col))
        return 0;
    return strtod(PQgetvalue(s->res, s->row, col), NULL);
}

static const char *pg_col_text(void *stmt, int col, size_t *len)
{
    struct pg_stmt *s = stmt;
    if (!valid_cell(s, col) || PQgetisnull(s->res, s->row, col)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = (size_t)PQgetlength(s->res, s->row, col);
    return PQgetvalue(s->res, s->row, col);
}

/* Text results carry BYTEA escaped ("\x..."); the unescaped bytes live until the next step. */
static const void *pg_col_blob(void *stmt, int col, size_t *len)
{
    struct pg_stmt *s = stmt;
    *len = 0;
    if (!valid_cell(s, col) || PQgetisnull(s->res, s->row, col))
        return NULL;
    size_t n = 0;
    unsigned char *p = PQunescapeBytea((const unsigned char *)PQgetvalue(s->res, s->row, col), &n);
    if (p == NULL)
        return NULL;
    if (s->n_blobs == s->cap_blobs) {
        int cap = s->cap_blobs ? s->cap_blobs * 2 : 4;
        unsigned char **nb = eb_xcalloc((size_t)cap, sizeof(*nb));
        if (s->n_blobs > 0)
            memcpy(nb, s->blobs, (size_t)s->n_blobs * sizeof(*nb));
        eb_free(s->blobs);
        s->blobs = nb;
        s->cap_blobs = cap;
    }
    s->blobs[s->n_blobs++] = p;
    *len = n;
    return p;
}

/* A PostgreSQL database is copied with the server's own tools, which know its whole state. */
static int pg_backup(void *impl, const char *path)
{
    (void)impl;
    (void)path;
    eb_error("store: backup of a PostgreSQL database: use pg_dump (e.g. pg_dump -Fc -f FILE "
             "DSN) and keep the citizen-ID key file separately");
    return EB_EINVAL;
}

static const char *pg_errmsg(void *conn)
{
    struct pg_conn *c = conn;
    return c->errmsg[0] ? c->errmsg : PQerrorMessage(c->conn);
}

const struct eb__store_backend eb__store_pg = {
    .version = 1,
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .conn_open = pg_conn_open,
    .conn_close = pg_conn_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_int = pg_bind_int,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_is_null = pg_col_is_null,
    .col_int = pg_col_int,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .reset = pg_reset,
    .backup = pg_backup,
    .errmsg = pg_errmsg,
    .step_deferred = pg_step_deferred,
    /* As after a restore: until autovacuum comes by, the planner takes the new tables for empty
     * (an export right after the city's import took 70 s instead of 9). A sample per table:
     * seconds, whatever the size. */
    .sql_after_bulk_load = "ANALYZE",
    .sql_begin =
        "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")",
    .migrations = eb__migrations_pg,
};

const char *eb__pg_conninfo(const struct eb_store *st)
{
    if (st == NULL || st->be != &eb__store_pg)
        return NULL;
    return ((const struct pg_impl *)st->impl)->conninfo;
}
