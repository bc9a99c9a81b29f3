/* Moving a city: a whole database copied between backends, discovered from the catalogs. */
#include "store/store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"

/*
 * The copy talks to each database over a connection of its own (sqlite3 or libpq) rather than
 * through the store's statement layer: it needs the catalogs, a snapshot that spans every
 * table, and PostgreSQL's COPY, none of which the domain contract offers. The stores are still
 * opened first, so that both databases are migrated and their keys checked the usual way.
 */

#define PROGRESS_EVERY 8192
#define FETCH_ROWS     20000
#define STR_(x)        #x
#define STR(x)         STR_(x)
#define COPY_FLUSH     (1u << 20)

enum cls { CLS_INT, CLS_REAL, CLS_TEXT, CLS_BLOB };

static const char *const cls_names[] = {"integer", "real", "text", "blob"};

struct col {
    char *name;
    enum cls cls;
};

struct table {
    char *name;
    struct col *cols; /* sorted by name: the canonical order of the checksum */
    size_t n_cols;
    char **pk; /* primary key columns in key order (the copy reads in this order) */
    size_t n_pk;
    char **deps; /* tables this one references (foreign keys), itself excluded */
    size_t n_deps;
    int64_t rows;
    unsigned char sum[32];
};

struct schema {
    struct table *t; /* sorted by name */
    size_t n;
};

/* One database, opened raw. */
struct side {
    int pg;
    sqlite3 *sq;
    PGconn *pq;
    char *msg; /* the report's message buffer */
};

/* One value as read; p points into the reader's row and lives until the next row. */
struct val {
    int null;
    int64_t i;
    double r;
    const unsigned char *p;
    size_t len;
};

static void say(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Keeps the first message: it names the cause, later ones its consequences. */
static void say(char *msg, const char *fmt, ...)
{
    if (msg == NULL || msg[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(((struct eb_copy_report *)0)->message), fmt, ap);
    va_end(ap);
    msg[strcspn(msg, "\n")] = '\0';
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- schema model ------------------------------------------------------------------------ */

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n_cols; i++)
        eb_free(t->cols[i].name);
    for (size_t i = 0; i < t->n_pk; i++)
        eb_free(t->pk[i]);
    for (size_t i = 0; i < t->n_deps; i++)
        eb_free(t->deps[i]);
    eb_free(t->cols);
    eb_free(t->pk);
    eb_free(t->deps);
    eb_free(t->name);
}

static void schema_free(struct schema *s)
{
    for (size_t i = 0; i < s->n; i++)
        table_free(&s->t[i]);
    eb_free(s->t);
    s->t = NULL;
    s->n = 0;
}

static struct table *schema_add(struct schema *s, const char *name)
{
    s->t = eb_xrealloc(s->t, (s->n + 1) * sizeof(*s->t));
    struct table *t = &s->t[s->n++];
    memset(t, 0, sizeof(*t));
    t->name = eb_xstrdup(name);
    return t;
}

static void col_add(struct table *t, const char *name, enum cls cls)
{
    t->cols = eb_xrealloc(t->cols, (t->n_cols + 1) * sizeof(*t->cols));
    t->cols[t->n_cols].name = eb_xstrdup(name);
    t->cols[t->n_cols].cls = cls;
    t->n_cols++;
}

static void name_add(char ***list, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], name) == 0)
            return;
    *list = eb_xrealloc(*list, (*n + 1) * sizeof(**list));
    (*list)[(*n)++] = eb_xstrdup(name);
}

static int cmp_col(const void *a, const void *b)
{
    return strcmp(((const struct col *)a)->name, ((const struct col *)b)->name);
}

static int cmp_table(const void *a, const void *b)
{
    return strcmp(((const struct table *)a)->name, ((const struct table *)b)->name);
}

static void schema_sort(struct schema *s)
{
    qsort(s->t, s->n, sizeof(*s->t), cmp_table);
    for (size_t i = 0; i < s->n; i++)
        qsort(s->t[i].cols, s->t[i].n_cols, sizeof(*s->t[i].cols), cmp_col);
}

static struct table *schema_find(const struct schema *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->t[i].name, name) == 0)
            return &s->t[i];
    return NULL;
}

/* The declared SQLite type's affinity (the rules of SQLite's "Datatypes" page, section 3.1). */
static enum cls sqlite_cls(const char *decl)
{
    char up[64];
    size_t n = 0;
    for (; decl && decl[n] && n < sizeof(up) - 1; n++)
        up[n] = (char)((decl[n] >= 'a' && decl[n] <= 'z') ? decl[n] - 32 : decl[n]);
    up[n] = '\0';
    if (strstr(up, "INT"))
        return CLS_INT;
    if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
        return CLS_TEXT;
    if (n == 0 || strstr(up, "BLOB"))
        return CLS_BLOB;
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
        return CLS_REAL;
    return CLS_TEXT;
}

/* PostgreSQL types by their format_type() name; anything else travels as its text form. */
static enum cls pg_cls(const char *type)
{
    if (strcmp(type, "bigint") == 0 || strcmp(type, "integer") == 0 ||
        strcmp(type, "smallint") == 0)
        return CLS_INT;
    if (strcmp(type, "double precision") == 0 || strcmp(type, "real") == 0)
        return CLS_REAL;
    if (strcmp(type, "bytea") == 0)
        return CLS_BLOB;
    return CLS_TEXT;
}

/* "name" with embedded quotes doubled: identifiers come from the catalog, never from users,
 * but a quote in one must not break the statement. */
static void put_ident(struct eb_buf *b, const char *name)
{
    eb_buf_append(b, "\"", 1);
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            eb_buf_append(b, "\"", 1);
        eb_buf_append(b, p, 1);
    }
    eb_buf_append(b, "\"", 1);
}

static void put_col_list(struct eb_buf *b, const struct table *t)
{
    for (size_t i = 0; i < t->n_cols; i++) {
        if (i)
            eb_buf_append(b, ", ", 2);
        put_ident(b, t->cols[i].name);
    }
}

/* ---- SQLite ------------------------------------------------------------------------------ */

static int sq_fail(struct side *s, int rc, const char *what)
{
    say(s->msg, "SQLite: %s: %s", what, sqlite3_errmsg(s->sq));
    return (rc & 0xff) == SQLITE_BUSY ? EB_EBUSY : EB_ESTORE;
}

static int sq_exec(struct side *s, const char *sql)
{
    int rc = sqlite3_exec(s->sq, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sq_fail(s, rc, sql);
}

static int sq_schema(struct side *s, struct schema *out)
{
    sqlite3_stmt *tabs = NULL, *cols = NULL, *fks = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->sq,
                           "SELECT name FROM sqlite_master WHERE type = 'table'"
                           " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                           " AND name <> 'schema_migrations' ORDER BY name",
                           -1, &tabs, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->sq, "SELECT name, type, pk FROM pragma_table_info(?)", -1, &cols,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->sq, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)", -1,
                           &fks, NULL) != SQLITE_OK) {
        rc = sq_fail(s, SQLITE_ERROR, "reading the catalog");
        goto done;
    }
    while ((rc = sqlite3_step(tabs)) == SQLITE_ROW) {
        struct table *t = schema_add(out, (const char *)sqlite3_column_text(tabs, 0));
        /* Key columns come with their position in the key (pk = 1, 2, ...). */
        char *pk[16] = {0};
        sqlite3_bind_text(cols, 1, t->name, -1, SQLITE_STATIC);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(cols, 0);
            col_add(t, name, sqlite_cls((const char *)sqlite3_column_text(cols, 1)));
            int k = sqlite3_column_int(cols, 2);
            if (k > 0 && k <= 16)
                pk[k - 1] = eb_xstrdup(name);
        }
        sqlite3_reset(cols);
        for (int k = 0; k < 16 && pk[k]; k++) {
            name_add(&t->pk, &t->n_pk, pk[k]);
            eb_free(pk[k]);
        }
        sqlite3_bind_text(fks, 1, t->name, -1, SQLITE_STATIC);
        while (sqlite3_step(fks) == SQLITE_ROW) {
            const char *ref = (const char *)sqlite3_column_text(fks, 0);
            if (ref && strcmp(ref, t->name) != 0)
                name_add(&t->deps, &t->n_deps, ref);
        }
        sqlite3_reset(fks);
    }
    rc = rc == SQLITE_DONE ? 0 : sq_fail(s, rc, "listing tables");
done:
    sqlite3_finalize(tabs);
    sqlite3_finalize(cols);
    sqlite3_finalize(fks);
    return rc;
}

/* ---- PostgreSQL -------------------------------------------------------------------------- */

static int pq_fail(struct side *s, PGresult *res, const char *what)
{
    const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(s->pq);
    say(s->msg, "PostgreSQL: %s: %s", what, m && *m ? m : PQerrorMessage(s->pq));
    PQclear(res);
    return EB_ESTORE;
}

static int pq_exec(struct side *s, const char *sql)
{
    PGresult *res = PQexec(s->pq, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return pq_fail(s, res, sql);
    PQclear(res);
    return 0;
}

/* A query with text parameters whose rows the caller reads; NULL on failure (reported). */
static PGresult *pq_query(struct side *s, const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams(s->pq, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pq_fail(s, res, "reading the catalog");
        return NULL;
    }
    return res;
}

static int pq_schema(struct side *s, struct schema *out)
{
    int rc = 0;
    PGresult *tabs = pq_query(s,
                              "SELECT c.relname FROM pg_class c"
                              " WHERE c.relnamespace = current_schema()::regnamespace"
                              " AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
                              " AND c.relname <> 'schema_migrations' ORDER BY c.relname",
                              0, NULL);
    if (tabs == NULL)
        return EB_ESTORE;
    for (int r = 0; r < PQntuples(tabs); r++) {
        struct table *t = schema_add(out, PQgetvalue(tabs, r, 0));
        const char *p[1] = {t->name};
        /* Generated columns are computed by the target itself and not copied. */
        PGresult *q = pq_query(s,
                               "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a"
                               " JOIN pg_class c ON c.oid = a.attrelid"
                               " WHERE c.relname = $1"
                               " AND c.relnamespace = current_schema()::regnamespace"
                               " AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
                               " ORDER BY a.attnum",
                               1, p);
        if (q == NULL) {
            rc = EB_ESTORE;
            goto done;
        }
        for (int i = 0; i < PQntuples(q); i++)
            col_add(t, PQgetvalue(q, i, 0), pg_cls(PQgetvalue(q, i, 1)));
        PQclear(q);
        q = pq_query(s,
                     "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                     " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
                     " WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace"
                     " AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
                     1, p);
        if (q == NULL) {
            rc = EB_ESTORE;
            goto done;
        }
        for (int i = 0; i < PQntuples(q); i++)
            name_add(&t->pk, &t->n_pk, PQgetvalue(q, i, 0));
        PQclear(q);
        q = pq_query(s,
                     "SELECT DISTINCT r.relname FROM pg_constraint k"
                     " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid"
                     " WHERE k.contype = 'f' AND c.relname = $1"
                     " AND c.relnamespace = current_schema()::regnamespace",
                     1, p);
        if (q == NULL) {
            rc = EB_ESTORE;
            goto done;
        }
        for (int i = 0; i < PQntuples(q); i++)
            if (strcmp(PQgetvalue(q, i, 0), t->name) != 0)
                name_add(&t->deps, &t->n_deps, PQgetvalue(q, i, 0));
        PQclear(q);
    }
done:
    PQclear(tabs);
    return rc;
}

/* ---- sides ------------------------------------------------------------------------------- */

static int side_open(struct side *s, const char *dsn, int write, char *msg)
{
    memset(s, 0, sizeof(*s));
    s->msg = msg;
    s->pg = eb__store_is_pg_dsn(dsn);
    if (s->pg) {
        s->pq = PQconnectdb(dsn);
        if (s->pq == NULL || PQstatus(s->pq) != CONNECTION_OK) {
            say(msg, "cannot connect to PostgreSQL: %s",
                s->pq ? PQerrorMessage(s->pq) : "out of memory");
            return EB_EIO;
        }
        /* Values travel as text: reals in their shortest exact form, bytea in hex. */
        return pq_exec(s, "SET client_encoding = 'UTF8'; SET extra_float_digits = 3;"
                          " SET bytea_output = 'hex'; SET client_min_messages = warning;"
                          " SET standard_conforming_strings = on; SET DateStyle = 'ISO'");
    }
    int rc =
        sqlite3_open_v2(dsn, &s->sq, write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        say(msg, "cannot open %s: %s", dsn, s->sq ? sqlite3_errmsg(s->sq) : "out of memory");
        return EB_EIO;
    }
    sqlite3_busy_timeout(s->sq, 10000);
    /* A large page cache: the target's indexes are filled at random positions. */
    return sq_exec(s, "PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;"
                      " PRAGMA foreign_keys = ON");
}

static void side_close(struct side *s)
{
    if (s->pq)
        PQfinish(s->pq);
    if (s->sq)
        sqlite3_close(s->sq);
    s->pq = NULL;
    s->sq = NULL;
}

static int side_exec(struct side *s, const char *sql)
{
    return s->pg ? pq_exec(s, sql) : sq_exec(s, sql);
}

static int side_schema(struct side *s, struct schema *out)
{
    int rc = s->pg ? pq_schema(s, out) : sq_schema(s, out);
    if (rc == 0)
        schema_sort(out);
    return rc;
}

/* A single integer answered by sql (count(*), EXISTS ...). */
static int side_int(struct side *s, const char *sql, int64_t *v)
{
    *v = 0;
    if (s->pg) {
        PGresult *res = PQexec(s->pq, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            return pq_fail(s, res, sql);
        if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
            *v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        return 0;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->sq, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    int err = rc == SQLITE_OK ? 0 : sq_fail(s, rc, sql);
    sqlite3_finalize(st);
    return err;
}

/* ---- reading rows ------------------------------------------------------------------------ */

struct reader {
    struct side *s;
    const struct table *t;
    sqlite3_stmt *st;
    PGresult *res;
    int row, rows, cursor, last_batch;
    struct val *v;
    unsigned char **bufs; /* per column: bytea decoded from hex */
    size_t *caps;
};

static int reader_open(struct reader *r, struct side *s, const struct table *t, int ordered)
{
    memset(r, 0, sizeof(*r));
    r->s = s;
    r->t = t;
    r->v = eb_xcalloc(t->n_cols ? t->n_cols : 1, sizeof(*r->v));
    r->bufs = eb_xcalloc(t->n_cols ? t->n_cols : 1, sizeof(*r->bufs));
    r->caps = eb_xcalloc(t->n_cols ? t->n_cols : 1, sizeof(*r->caps));
    struct eb_buf sql;
    eb_buf_init(&sql, 0);
    if (s->pg)
        eb_buf_puts(&sql, "DECLARE eb_copy_rows NO SCROLL CURSOR FOR ");
    eb_buf_puts(&sql, "SELECT ");
    put_col_list(&sql, t);
    eb_buf_puts(&sql, " FROM ");
    put_ident(&sql, t->name);
    /* Parents before children within a table too (orgs refer to orgs): key order. */
    for (size_t i = 0; ordered && i < t->n_pk; i++) {
        eb_buf_puts(&sql, i ? ", " : " ORDER BY ");
        put_ident(&sql, t->pk[i]);
    }
    int rc = 0;
    if (s->pg) {
        rc = pq_exec(s, sql.data);
        r->cursor = rc == 0;
        r->row = r->rows = 0;
    } else {
        int src = sqlite3_prepare_v2(s->sq, sql.data, -1, &r->st, NULL);
        if (src != SQLITE_OK)
            rc = sq_fail(s, src, sql.data);
    }
    eb_buf_free(&sql);
    return rc;
}

static void reader_close(struct reader *r)
{
    if (r->st)
        sqlite3_finalize(r->st);
    PQclear(r->res);
    if (r->cursor)
        PQclear(PQexec(r->s->pq, "CLOSE eb_copy_rows"));
    for (size_t i = 0; i < r->t->n_cols; i++)
        eb_free(r->bufs[i]);
    eb_free(r->bufs);
    eb_free(r->caps);
    eb_free(r->v);
    memset(r, 0, sizeof(*r));
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* bytea_output = hex: "\x" and two digits a byte. */
static int unhex(struct reader *r, size_t c, const char *s, size_t len)
{
    if (len < 2 || s[0] != '\\' || s[1] != 'x' || (len - 2) % 2)
        return EB_EINVAL;
    size_t n = (len - 2) / 2;
    if (r->caps[c] < n + 1) {
        eb_free(r->bufs[c]);
        r->caps[c] = n + 64;
        r->bufs[c] = eb_xmalloc(r->caps[c]);
    }
    for (size_t i = 0; i < n; i++) {
        int hi = hexval((unsigned char)s[2 + 2 * i]), lo = hexval((unsigned char)s[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return EB_EINVAL;
        r->bufs[c][i] = (unsigned char)(hi << 4 | lo);
    }
    r->v[c].p = r->bufs[c];
    r->v[c].len = n;
    return 0;
}

static int pq_next(struct reader *r)
{
    struct side *s = r->s;
    if (r->row >= r->rows) {
        if (r->last_batch)
            return 0;
        PQclear(r->res);
        r->res = PQexec(s->pq, "FETCH FORWARD " STR(FETCH_ROWS) " FROM eb_copy_rows");
        if (PQresultStatus(r->res) != PGRES_TUPLES_OK) {
            int rc = pq_fail(s, r->res, "FETCH");
            r->res = NULL;
            return rc;
        }
        r->rows = PQntuples(r->res);
        r->row = 0;
        r->last_batch = r->rows < FETCH_ROWS;
        if (r->rows == 0)
            return 0;
    }
    for (size_t c = 0; c < r->t->n_cols; c++) {
        struct val *v = &r->v[c];
        memset(v, 0, sizeof(*v));
        if (PQgetisnull(r->res, r->row, (int)c)) {
            v->null = 1;
            continue;
        }
        const char *text = PQgetvalue(r->res, r->row, (int)c);
        size_t len = (size_t)PQgetlength(r->res, r->row, (int)c);
        switch (r->t->cols[c].cls) {
        case CLS_INT:
            v->i = strtoll(text, NULL, 10);
            break;
        case CLS_REAL:
            v->r = strtod(text, NULL);
            break;
        case CLS_TEXT:
            v->p = (const unsigned char *)text;
            v->len = len;
            break;
        case CLS_BLOB:
            if (unhex(r, c, text, len) != 0) {
                say(s->msg, "PostgreSQL: %s.%s: unexpected bytea text", r->t->name,
                    r->t->cols[c].name);
                return EB_ESTORE;
            }
            break;
        }
    }
    r->row++;
    return 1;
}

/* SQLite keeps each value's own type: one that does not fit its column's class is reported,
 * never silently converted. */
static int sq_next(struct reader *r)
{
    int rc = sqlite3_step(r->st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return sq_fail(r->s, rc, r->t->name);
    for (size_t c = 0; c < r->t->n_cols; c++) {
        struct val *v = &r->v[c];
        int ci = (int)c, type = sqlite3_column_type(r->st, ci);
        enum cls cls = r->t->cols[c].cls;
        memset(v, 0, sizeof(*v));
        if (type == SQLITE_NULL) {
            v->null = 1;
            continue;
        }
        int ok = (cls == CLS_INT && type == SQLITE_INTEGER) ||
                 (cls == CLS_REAL && (type == SQLITE_FLOAT || type == SQLITE_INTEGER)) ||
                 (cls == CLS_TEXT && type == SQLITE_TEXT) ||
                 (cls == CLS_BLOB && type == SQLITE_BLOB);
        if (!ok) {
            say(r->s->msg, "%s.%s holds a value of SQLite type %d in a column of class %s",
                r->t->name, r->t->cols[c].name, type, cls_names[cls]);
            return EB_EINVAL;
        }
        switch (cls) {
        case CLS_INT:
            v->i = sqlite3_column_int64(r->st, ci);
            break;
        case CLS_REAL:
            v->r = sqlite3_column_double(r->st, ci);
            break;
        case CLS_TEXT:
            v->p = sqlite3_column_text(r->st, ci);
            v->len = (size_t)sqlite3_column_bytes(r->st, ci);
            break;
        case CLS_BLOB:
            v->p = sqlite3_column_blob(r->st, ci);
            v->len = (size_t)sqlite3_column_bytes(r->st, ci);
            break;
        }
    }
    return 1;
}

/** 1 with a row in r->v, 0 at the end, or an error. */
static int reader_next(struct reader *r)
{
    return r->s->pg ? pq_next(r) : sq_next(r);
}

/* ---- writing rows ------------------------------------------------------------------------ */

struct writer {
    struct side *s;
    const struct table *t;
    sqlite3_stmt *ins;
    struct eb_buf copy; /* PostgreSQL: COPY text format, flushed every COPY_FLUSH bytes */
    int copying;
};

static int writer_open(struct writer *w, struct side *s, const struct table *t)
{
    memset(w, 0, sizeof(*w));
    w->s = s;
    w->t = t;
    eb_buf_init(&w->copy, 0);
    struct eb_buf sql;
    eb_buf_init(&sql, 0);
    int rc = 0;
    if (s->pg) {
        eb_buf_puts(&sql, "COPY ");
        put_ident(&sql, t->name);
        eb_buf_puts(&sql, " (");
        put_col_list(&sql, t);
        eb_buf_puts(&sql, ") FROM STDIN");
        PGresult *res = PQexec(s->pq, sql.data);
        if (PQresultStatus(res) != PGRES_COPY_IN)
            rc = pq_fail(s, res, sql.data);
        else
            PQclear(res);
        w->copying = rc == 0;
    } else {
        eb_buf_puts(&sql, "INSERT INTO ");
        put_ident(&sql, t->name);
        eb_buf_puts(&sql, " (");
        put_col_list(&sql, t);
        eb_buf_puts(&sql, ") VALUES (");
        for (size_t i = 0; i < t->n_cols; i++)
            eb_buf_puts(&sql, i ? ", ?" : "?");
        eb_buf_puts(&sql, ")");
        int src = sqlite3_prepare_v2(s->sq, sql.data, -1, &w->ins, NULL);
        if (src != SQLITE_OK)
            rc = sq_fail(s, src, sql.data);
    }
    eb_buf_free(&sql);
    return rc;
}

static int copy_flush(struct writer *w)
{
    if (w->copy.len == 0)
        return 0;
    if (PQputCopyData(w->s->pq, w->copy.data, (int)w->copy.len) != 1)
        return pq_fail(w->s, NULL, "COPY");
    eb_buf_reset(&w->copy);
    return 0;
}

/* COPY's text format: tab between columns, \N for NULL, backslash escapes. */
static void copy_text(struct eb_buf *b, const unsigned char *p, size_t len)
{
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        const char *esc = NULL;
        switch (p[i]) {
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            continue;
        }
        eb_buf_append(b, p + from, i - from);
        eb_buf_append(b, esc, 2);
        from = i + 1;
    }
    eb_buf_append(b, p + from, len - from);
}

static int writer_put(struct writer *w, const struct val *v)
{
    const struct table *t = w->t;
    if (w->s->pg) {
        static const char hex[] = "0123456789abcdef";
        struct eb_buf *b = &w->copy;
        for (size_t c = 0; c < t->n_cols; c++) {
            if (c)
                eb_buf_append(b, "\t", 1);
            if (v[c].null) {
                eb_buf_append(b, "\\N", 2);
                continue;
            }
            switch (t->cols[c].cls) {
            case CLS_INT:
                eb_buf_printf(b, "%lld", (long long)v[c].i);
                break;
            case CLS_REAL:
                eb_buf_printf(b, "%.17g", v[c].r);
                break;
            case CLS_TEXT:
                if (memchr(v[c].p, '\0', v[c].len)) {
                    say(w->s->msg, "%s.%s: text with a NUL byte cannot go to PostgreSQL", t->name,
                        t->cols[c].name);
                    return EB_EINVAL;
                }
                copy_text(b, v[c].p, v[c].len);
                break;
            case CLS_BLOB: {
                /* "\\x" is the escaped backslash of bytea's hex form. */
                eb_buf_append(b, "\\\\x", 3);
                char pair[2];
                for (size_t i = 0; i < v[c].len; i++) {
                    pair[0] = hex[v[c].p[i] >> 4];
                    pair[1] = hex[v[c].p[i] & 15];
                    eb_buf_append(b, pair, 2);
                }
                break;
            }
            }
        }
        eb_buf_append(b, "\n", 1);
        return b->len >= COPY_FLUSH ? copy_flush(w) : 0;
    }
    sqlite3_stmt *st = w->ins;
    int rc = SQLITE_OK;
    for (size_t c = 0; c < t->n_cols && rc == SQLITE_OK; c++) {
        int idx = (int)c + 1;
        if (v[c].null) {
            rc = sqlite3_bind_null(st, idx);
            continue;
        }
        switch (t->cols[c].cls) {
        case CLS_INT:
            rc = sqlite3_bind_int64(st, idx, v[c].i);
            break;
        case CLS_REAL:
            rc = sqlite3_bind_double(st, idx, v[c].r);
            break;
        case CLS_TEXT:
            rc = sqlite3_bind_text(st, idx, (const char *)v[c].p, (int)v[c].len, SQLITE_TRANSIENT);
            break;
        case CLS_BLOB:
            rc = sqlite3_bind_blob(st, idx, v[c].p, (int)v[c].len, SQLITE_TRANSIENT);
            break;
        }
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sq_fail(w->s, rc, t->name);
    return 0;
}

/* Ends the table; ok = 0 abandons a COPY in progress. */
static int writer_close(struct writer *w, int ok)
{
    int rc = 0;
    if (w->copying) {
        if (ok)
            rc = copy_flush(w);
        if (PQputCopyEnd(w->s->pq, ok && rc == 0 ? NULL : "migrate failed") != 1 && rc == 0)
            rc = pq_fail(w->s, NULL, "COPY end");
        PGresult *res;
        while ((res = PQgetResult(w->s->pq)) != NULL) {
            if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0 && ok)
                rc = pq_fail(w->s, res, w->t->name);
            else
                PQclear(res);
        }
    }
    if (w->ins)
        sqlite3_finalize(w->ins);
    eb_buf_free(&w->copy);
    memset(w, 0, sizeof(*w));
    return rc;
}

/* ---- checksums --------------------------------------------------------------------------- */

/* The canonical bytes of one row: independent of the backend that stored it. */
static void render_row(const struct table *t, const struct val *v, struct eb_buf *b)
{
    eb_buf_reset(b);
    for (size_t c = 0; c < t->n_cols; c++) {
        if (v[c].null) {
            eb_buf_append(b, "N", 1);
            continue;
        }
        switch (t->cols[c].cls) {
        case CLS_INT:
            eb_buf_printf(b, "I%lld;", (long long)v[c].i);
            break;
        case CLS_REAL:
            eb_buf_printf(b, "R%.17g;", v[c].r);
            break;
        case CLS_TEXT:
        case CLS_BLOB:
            eb_buf_printf(b, "%c%zu:", t->cols[c].cls == CLS_TEXT ? 'T' : 'B', v[c].len);
            eb_buf_append(b, v[c].p, v[c].len);
            break;
        }
    }
}

/* sum += SHA-256(row), as 256-bit big-endian numbers modulo 2^256: the order of rows does not
 * matter, each row counts with its multiplicity. */
static void sum_row(const struct table *t, const struct val *v, struct eb_buf *scratch,
                    unsigned char sum[32])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    render_row(t, v, scratch);
    crypto_hash_sha256(h, (const unsigned char *)scratch->data, scratch->len);
    unsigned carry = 0;
    for (int i = 31; i >= 0; i--) {
        unsigned x = (unsigned)sum[i] + h[i] + carry;
        sum[i] = (unsigned char)x;
        carry = x >> 8;
    }
}

static void to_hex(const unsigned char sum[32], char out[65])
{
    sodium_bin2hex(out, 65, sum, 32);
}

/* Reads every row of t from s: count and checksum; ordered for the copy's reads. */
static int scan_table(struct side *s, const struct table *t, const char *phase,
                      const struct eb_copy_options *opt, int64_t total, struct writer *w,
                      int64_t *rows, unsigned char sum[32])
{
    struct reader r;
    struct eb_buf scratch;
    eb_buf_init(&scratch, 0);
    memset(sum, 0, 32);
    *rows = 0;
    int rc = reader_open(&r, s, t, w != NULL);
    while (rc == 0) {
        int n = reader_next(&r);
        if (n <= 0) {
            rc = n;
            break;
        }
        sum_row(t, r.v, &scratch, sum);
        if (w)
            rc = writer_put(w, r.v);
        if (++*rows % PROGRESS_EVERY == 0 && opt && opt->progress)
            opt->progress(opt->progress_arg, phase, t->name, *rows, total);
    }
    if (rc == 0 && opt && opt->progress)
        opt->progress(opt->progress_arg, phase, t->name, *rows, total);
    reader_close(&r);
    eb_buf_free(&scratch);
    return rc;
}

/* ---- the copy ---------------------------------------------------------------------------- */

/* Tables parents first (foreign keys), by name among equals; EB_EINVAL on a cycle. */
static int dependency_order(const struct schema *s, size_t *order, char *msg)
{
    char *placed = eb_xcalloc(s->n ? s->n : 1, 1);
    size_t n = 0;
    int rc = 0;
    while (n < s->n) {
        size_t before = n;
        for (size_t i = 0; i < s->n; i++) {
            if (placed[i])
                continue;
            int ready = 1;
            for (size_t d = 0; d < s->t[i].n_deps && ready; d++) {
                const struct table *dep = schema_find(s, s->t[i].deps[d]);
                if (dep && !placed[dep - s->t])
                    ready = 0;
            }
            if (ready) {
                placed[i] = 1;
                order[n++] = i;
            }
        }
        if (n == before) {
            say(msg, "the tables' foreign keys form a cycle; cannot order the copy");
            rc = EB_EINVAL;
            break;
        }
    }
    eb_free(placed);
    return rc;
}

/* Both schemas must hold the same tables with the same columns of the same classes. */
static int schemas_match(const struct schema *a, const struct schema *b, char *msg)
{
    for (size_t i = 0; i < a->n; i++) {
        const struct table *ta = &a->t[i], *tb = schema_find(b, ta->name);
        if (tb == NULL) {
            say(msg, "the target has no table %s", ta->name);
            return EB_EINVAL;
        }
        if (ta->n_cols != tb->n_cols) {
            say(msg, "table %s has %zu columns in the source, %zu in the target", ta->name,
                ta->n_cols, tb->n_cols);
            return EB_EINVAL;
        }
        for (size_t c = 0; c < ta->n_cols; c++) {
            if (strcmp(ta->cols[c].name, tb->cols[c].name) != 0 ||
                ta->cols[c].cls != tb->cols[c].cls) {
                say(msg, "table %s differs: column %s (%s) in the source, %s (%s) in the target",
                    ta->name, ta->cols[c].name, cls_names[ta->cols[c].cls], tb->cols[c].name,
                    cls_names[tb->cols[c].cls]);
                return EB_EINVAL;
            }
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        if (schema_find(a, b->t[i].name) == NULL) {
            say(msg, "the source has no table %s", b->t[i].name);
            return EB_EINVAL;
        }
    }
    return 0;
}

static int count_rows(struct side *s, const struct table *t, int exists, int64_t *n)
{
    struct eb_buf sql;
    eb_buf_init(&sql, 0);
    /* A number on both backends (PostgreSQL's EXISTS answers a boolean). */
    eb_buf_puts(&sql, exists ? "SELECT CASE WHEN EXISTS (SELECT 1 FROM " : "SELECT count(*) FROM ");
    put_ident(&sql, t->name);
    if (exists)
        eb_buf_puts(&sql, ") THEN 1 ELSE 0 END");
    int rc = side_int(s, sql.data, n);
    eb_buf_free(&sql);
    return rc;
}

/*
 * Empties every table of the target inside the copy's transaction. The audit log refuses
 * DELETE and TRUNCATE by trigger: PostgreSQL disables the user triggers for the statement (the
 * owner may), SQLite drops them and creates them again from their own text.
 */
static int empty_target(struct side *s, const struct schema *sc, const size_t *order)
{
    struct eb_buf sql;
    eb_buf_init(&sql, 0);
    int rc = 0;
    if (s->pg) {
        for (size_t i = 0; i < sc->n; i++) {
            eb_buf_puts(&sql, "ALTER TABLE ");
            put_ident(&sql, sc->t[i].name);
            eb_buf_puts(&sql, " DISABLE TRIGGER USER; ");
        }
        eb_buf_puts(&sql, "TRUNCATE ");
        for (size_t i = 0; i < sc->n; i++) {
            if (i)
                eb_buf_puts(&sql, ", ");
            put_ident(&sql, sc->t[i].name);
        }
        eb_buf_puts(&sql, "; ");
        for (size_t i = 0; i < sc->n; i++) {
            eb_buf_puts(&sql, "ALTER TABLE ");
            put_ident(&sql, sc->t[i].name);
            eb_buf_puts(&sql, " ENABLE TRIGGER USER; ");
        }
        rc = pq_exec(s, sql.data);
        eb_buf_free(&sql);
        return rc;
    }
    sqlite3_stmt *trg = NULL;
    char **names = NULL, **texts = NULL;
    size_t n = 0;
    int src = sqlite3_prepare_v2(
        s->sq, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL", -1,
        &trg, NULL);
    if (src != SQLITE_OK) {
        rc = sq_fail(s, src, "listing triggers");
        goto done;
    }
    while (sqlite3_step(trg) == SQLITE_ROW) {
        names = eb_xrealloc(names, (n + 1) * sizeof(*names));
        texts = eb_xrealloc(texts, (n + 1) * sizeof(*texts));
        names[n] = eb_xstrdup((const char *)sqlite3_column_text(trg, 0));
        texts[n] = eb_xstrdup((const char *)sqlite3_column_text(trg, 1));
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        eb_buf_puts(&sql, "DROP TRIGGER ");
        put_ident(&sql, names[i]);
        eb_buf_puts(&sql, "; ");
    }
    /* Children first, so that no foreign key sees its parent go. */
    for (size_t k = sc->n; k-- > 0;) {
        eb_buf_puts(&sql, "DELETE FROM ");
        put_ident(&sql, sc->t[order[k]].name);
        eb_buf_puts(&sql, "; ");
    }
    for (size_t i = 0; i < n; i++) {
        eb_buf_puts(&sql, texts[i]);
        eb_buf_puts(&sql, "; ");
    }
    rc = sq_exec(s, sql.data);
done:
    for (size_t i = 0; i < n; i++) {
        eb_free(names[i]);
        eb_free(texts[i]);
    }
    eb_free(names);
    eb_free(texts);
    sqlite3_finalize(trg);
    eb_buf_free(&sql);
    return rc;
}

/* PostgreSQL hands out ids from sequences, which the copied rows did not advance: each one
 * (identity or serial) restarts after the largest id copied. */
static int reset_sequences(struct side *s, const struct schema *sc)
{
    int rc = 0;
    for (size_t i = 0; i < sc->n && rc == 0; i++) {
        const struct table *t = &sc->t[i];
        for (size_t c = 0; c < t->n_cols && rc == 0; c++) {
            if (t->cols[c].cls != CLS_INT)
                continue;
            struct eb_buf q;
            eb_buf_init(&q, 0);
            put_ident(&q, t->name);
            const char *p[2] = {q.data, t->cols[c].name};
            PGresult *res = pq_query(s, "SELECT pg_get_serial_sequence($1, $2)", 2, p);
            if (res == NULL) {
                rc = EB_ESTORE;
            } else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
                struct eb_buf sql;
                eb_buf_init(&sql, 0);
                eb_buf_puts(&sql, "SELECT setval(");
                char *lit =
                    PQescapeLiteral(s->pq, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
                eb_buf_puts(&sql, lit ? lit : "NULL");
                PQfreemem(lit);
                eb_buf_puts(&sql, ", COALESCE((SELECT max(");
                put_ident(&sql, t->cols[c].name);
                eb_buf_puts(&sql, ") FROM ");
                put_ident(&sql, t->name);
                eb_buf_puts(&sql, "), 0) + 1, false)");
                rc = pq_exec(s, sql.data);
                eb_buf_free(&sql);
            }
            PQclear(res);
            eb_buf_free(&q);
        }
    }
    return rc;
}

/* The key opens a sealed citizen ID of the database (when it holds one). */
static const char SQL_ONE_SEALED[] =
    "SELECT citizen_id_enc FROM people WHERE citizen_id_enc IS NOT NULL LIMIT 1";

static int key_opens(struct eb_store *st, const char *which, char *msg)
{
    struct eb_db *db = eb_store_acquire(st);
    struct eb_arena *a = eb_arena_create(0);
    struct eb__q q;
    int rc = eb__q_start(db, SQL_ONE_SEALED, &q);
    int r = rc == 0 ? eb__q_step(&q) : rc;
    if (r == EB__STORE_ROW) {
        size_t len = 0;
        const void *p = eb__q_col_blob(&q, 0, &len);
        if (eb__pii_open(st, p, len, a) == NULL) {
            say(msg, "the key file does not open the %s's citizen IDs", which);
            rc = EB_EINVAL;
        }
    } else if (r < 0) {
        rc = r;
    }
    eb__q_end(&q);
    eb_arena_destroy(a);
    eb_store_release(st, db);
    return rc;
}

static int open_store(const char *dsn, const char *key_file, int create, const char *which,
                      struct eb_store **st, char *msg)
{
    struct eb_store_options o = {
        .pool_size = 1, .busy_timeout_ms = 10000, .create = create, .key_file = key_file};
    int rc = eb_store_open(dsn, &o, st);
    if (rc != 0)
        say(msg, "cannot open the %s database: %s", which, eb_strerror(rc));
    return rc;
}

static void report_tables(struct eb_copy_report *out, const struct schema *s, const size_t *order)
{
    out->tables = eb_xcalloc(s->n ? s->n : 1, sizeof(*out->tables));
    out->n_tables = s->n;
    for (size_t k = 0; k < s->n; k++) {
        const struct table *t = &s->t[order[k]];
        snprintf(out->tables[k].name, sizeof(out->tables[k].name), "%s", t->name);
    }
}

int eb_store_copy(const char *from, const char *to, const struct eb_copy_options *opt,
                  struct eb_copy_report *out)
{
    struct eb_store *sst = NULL, *dst_st = NULL;
    struct side src = {0}, dst = {0};
    struct schema ss = {0}, ds = {0};
    size_t *order = NULL;
    char *key_path = NULL, *dst_key_path = NULL;
    int rc = 0, dst_tx = 0;
    struct eb_copy_options o = {0};
    if (opt)
        o = *opt;
    memset(out, 0, sizeof(*out));
    char *msg = out->message;
    if (from == NULL || to == NULL || strcmp(from, to) == 0) {
        say(msg, "the source and the target must be two different databases");
        return EB_EINVAL;
    }
    /* The same key on both sides: the sealed citizen IDs are copied as they are. */
    if (o.src_key_file == NULL) {
        if (eb__store_is_pg_dsn(from)) {
            say(msg, "a PostgreSQL source needs its key file (--key-file)");
            return EB_EINVAL;
        }
        size_t n = strlen(from);
        key_path = eb_xmalloc(n + 5);
        memcpy(key_path, from, n);
        memcpy(key_path + n, ".key", 5);
        o.src_key_file = key_path;
    }
    if (o.dst_key_file == NULL) {
        if (eb__store_is_pg_dsn(to)) {
            o.dst_key_file = o.src_key_file;
        } else {
            size_t n = strlen(to);
            dst_key_path = eb_xmalloc(n + 5);
            memcpy(dst_key_path, to, n);
            memcpy(dst_key_path + n, ".key", 5);
            o.dst_key_file = dst_key_path;
        }
    }
    double t0 = now_s();
    rc = open_store(from, o.src_key_file, 0, "source", &sst, msg);
    if (rc == 0)
        rc = open_store(to, o.dst_key_file, 1, "target", &dst_st, msg);
    if (rc != 0)
        goto done;
    {
        struct eb_db *a = eb_store_acquire(sst), *b = eb_store_acquire(dst_st);
        int va = eb_store_schema_version(a), vb = eb_store_schema_version(b);
        eb_store_release(sst, a);
        eb_store_release(dst_st, b);
        if (va < 0 || vb < 0 || va != vb) {
            say(msg, "schema versions differ: source %d, target %d (upgrade edubrain)", va, vb);
            rc = EB_EINVAL;
            goto done;
        }
        out->schema_version = va;
    }
    if (sodium_memcmp(sst->pii_key, dst_st->pii_key, sizeof(sst->pii_key)) != 0) {
        say(msg, "the target's key file (%s) holds another key than the source's (%s)",
            o.dst_key_file, o.src_key_file);
        rc = EB_EINVAL;
        goto done;
    }
    rc = key_opens(sst, "source", msg);
    if (rc != 0)
        goto done;
    /* The stores' connections go before the copy's own: nothing else holds the target. */
    eb_store_close(sst);
    eb_store_close(dst_st);
    sst = dst_st = NULL;

    rc = side_open(&src, from, 0, msg);
    if (rc == 0)
        rc = side_open(&dst, to, 1, msg);
    /* One snapshot of the source for every table. */
    if (rc == 0)
        rc = side_exec(&src, src.pg ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
    if (rc == 0)
        rc = side_schema(&src, &ss);
    if (rc == 0)
        rc = side_schema(&dst, &ds);
    if (rc == 0)
        rc = schemas_match(&ss, &ds, msg);
    if (rc != 0)
        goto done;
    order = eb_xcalloc(ss.n ? ss.n : 1, sizeof(*order));
    rc = dependency_order(&ss, order, msg);
    if (rc != 0)
        goto done;
    report_tables(out, &ss, order);

    /* One transaction for the whole target: a failed copy leaves it as it was. SQLite checks
     * the foreign keys at the commit, PostgreSQL at the end of each table's COPY. */
    rc = side_exec(&dst, dst.pg ? "BEGIN" : "BEGIN IMMEDIATE; PRAGMA defer_foreign_keys = ON");
    if (rc != 0)
        goto done;
    dst_tx = 1;
    for (size_t k = 0; k < ss.n; k++) {
        struct table *t = schema_find(&ds, ss.t[order[k]].name);
        int64_t any = 0;
        rc = count_rows(&dst, t, 1, &any);
        if (rc != 0)
            goto done;
        if (any && !o.force) {
            say(msg, "the target is not empty (table %s has rows); --force empties it first",
                t->name);
            rc = EB_EEXIST;
            goto done;
        }
        if (any) {
            rc = empty_target(&dst, &ds, order);
            if (rc != 0)
                goto done;
            break;
        }
    }
    for (size_t k = 0; k < ss.n; k++) {
        struct table *t = &ss.t[order[k]];
        struct eb_copy_table *ct = &out->tables[k];
        int64_t total = 0;
        rc = count_rows(&src, t, 0, &total);
        if (rc != 0)
            goto done;
        struct writer w;
        rc = writer_open(&w, &dst, t);
        if (rc == 0)
            rc = scan_table(&src, t, "copy", &o, total, &w, &ct->rows_src, t->sum);
        int wrc = writer_close(&w, rc == 0);
        if (rc == 0)
            rc = wrc;
        if (rc != 0)
            goto done;
        to_hex(t->sum, ct->sum_src);
        out->rows += ct->rows_src;
    }
    if (dst.pg)
        rc = reset_sequences(&dst, &ds);
    if (rc == 0)
        rc = side_exec(&dst, "COMMIT");
    if (rc != 0) {
        say(msg, "the target refused the copy at its commit (foreign keys?)");
        goto done;
    }
    dst_tx = 0;
    side_exec(&src, "COMMIT");
    out->copy_s = now_s() - t0;

    /* Read back: what the target holds now, computed the same way. */
    double t1 = now_s();
    rc = side_exec(&dst, dst.pg ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
    for (size_t k = 0; k < ss.n && rc == 0; k++) {
        struct eb_copy_table *ct = &out->tables[k];
        unsigned char sum[32];
        rc = scan_table(&dst, schema_find(&ds, ct->name), "verify", &o, ct->rows_src, NULL,
                        &ct->rows_dst, sum);
        to_hex(sum, ct->sum_dst);
        if (rc == 0 && (ct->rows_dst != ct->rows_src || strcmp(ct->sum_dst, ct->sum_src) != 0))
            out->mismatches++;
    }
    side_exec(&dst, "COMMIT");
    out->verify_s = now_s() - t1;
    if (rc != 0)
        goto done;
    side_close(&dst);
    /* The target's own store opens the copied citizen IDs with its key. */
    rc = open_store(to, o.dst_key_file, 0, "target", &dst_st, msg);
    if (rc == 0)
        rc = key_opens(dst_st, "target", msg);
    if (rc == 0 && out->mismatches > 0) {
        say(msg, "%d table(s) differ between the source and the target", out->mismatches);
        rc = EB_ECONFLICT;
    }
done:
    if (dst_tx)
        side_exec(&dst, "ROLLBACK");
    side_close(&src);
    side_close(&dst);
    if (sst)
        eb_store_close(sst);
    if (dst_st)
        eb_store_close(dst_st);
    schema_free(&ss);
    schema_free(&ds);
    eb_free(order);
    eb_free(key_path);
    eb_free(dst_key_path);
    if (rc != 0)
        say(msg, "%s", eb_strerror(rc));
    return rc;
}

void eb_copy_report_free(struct eb_copy_report *r)
{
    if (r == NULL)
        return;
    eb_free(r->tables);
    r->tables = NULL;
    r->n_tables = 0;
}
