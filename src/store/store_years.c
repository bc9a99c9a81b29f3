/* School years and terms: validation, creation, listing and the year and term as of a date. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "registry/registry_ids.h"

static const char SQL_YEAR_INSERT[] =
    "INSERT INTO school_years (name, start_date, end_date, created_at) VALUES (?, ?, ?, ?)"
    " RETURNING id";
static const char SQL_TERM_INSERT[] =
    "INSERT INTO terms (school_year_id, term, start_date, end_date) VALUES (?, ?, ?, ?)";
static const char SQL_YEAR_BY_NAME[] = "SELECT id FROM school_years WHERE name = ?";
static const char SQL_YEAR_OVERLAP[] =
    "SELECT name FROM school_years WHERE start_date <= ? AND end_date >= ? LIMIT 1";
/* Years with their terms in one pass: a LEFT JOIN keeps a year whose terms are missing. */
#define YEAR_COLS                                                                                  \
    "SELECT y.id, y.name, y.start_date, y.end_date, t.term, t.start_date, t.end_date"              \
    " FROM school_years y LEFT JOIN terms t ON t.school_year_id = y.id"
static const char SQL_YEAR_LIST[] = YEAR_COLS " ORDER BY y.start_date DESC, y.id, t.term";
static const char SQL_YEAR_GET[] = YEAR_COLS " WHERE y.id = ? ORDER BY t.term";
static const char SQL_YEAR_AS_OF[] =
    YEAR_COLS " WHERE y.id = (SELECT id FROM school_years WHERE start_date <= ? AND end_date >= ?"
              " ORDER BY start_date DESC LIMIT 1) ORDER BY t.term";

/* Everyone logged in reads the calendar; the anonymous caller (no account) does not. */
static int may_read(const struct eb_caller *c)
{
    return c != NULL && (c->system || c->account_id != 0 || c->n_grants > 0);
}

static int may_write(const struct eb_caller *c)
{
    return c != NULL && (c->system || eb__caller_has_role(c, EB_ROLE_CITY_ADMIN));
}

/* The first city administrator grant's path: where the audit row of a calendar write lives. */
static const char *admin_path(const struct eb_caller *c)
{
    for (size_t i = 0; c != NULL && i < c->n_grants; i++)
        if (c->grants[i].role == EB_ROLE_CITY_ADMIN)
            return c->grants[i].org_path;
    return NULL;
}

static int year_of_date(const char *ymd)
{
    return (ymd[0] - '0') * 1000 + (ymd[1] - '0') * 100 + (ymd[2] - '0') * 10 + (ymd[3] - '0');
}

static int check_date(const char *v, const char *field, const char **f, const char **why)
{
    if (v == NULL) {
        *f = field;
        *why = "required";
        return EB_EINVAL;
    }
    if (eb_date_check(v, why)) {
        *f = field;
        return EB_EINVAL;
    }
    return 0;
}

int eb_school_year_check(const struct eb_school_year *y, const char **field, const char **why)
{
    static const char *term_start[] = {"terms[0].start_date", "terms[1].start_date"};
    static const char *term_end[] = {"terms[0].end_date", "terms[1].end_date"};
    static const char *term_no[] = {"terms[0].term", "terms[1].term"};
    const char *n = y->name;
    *field = "name";
    *why = "must be YYYY-YYYY of two consecutive years, e.g. 2026-2027";
    if (n == NULL || strlen(n) != 9 || n[4] != '-')
        return EB_EINVAL;
    for (int i = 0; i < 9; i++)
        if (i != 4 && (n[i] < '0' || n[i] > '9'))
            return EB_EINVAL;
    int first = year_of_date(n), second = year_of_date(n + 5);
    if (second != first + 1 || first < 1900 || second > 2100)
        return EB_EINVAL;
    if (check_date(y->start_date, "start_date", field, why) ||
        check_date(y->end_date, "end_date", field, why))
        return EB_EINVAL;
    if (year_of_date(y->start_date) != first) {
        *field = "start_date";
        *why = "must lie in the first year of the name";
        return EB_EINVAL;
    }
    if (year_of_date(y->end_date) != second) {
        *field = "end_date";
        *why = "must lie in the second year of the name";
        return EB_EINVAL;
    }
    if (y->n_terms != 2) {
        *field = "terms";
        *why = "must list term 1 and term 2";
        return EB_EINVAL;
    }
    for (int i = 0; i < 2; i++) {
        const struct eb_term *t = &y->terms[i];
        if (t->term != i + 1) {
            *field = term_no[i];
            *why = "terms must be 1 then 2";
            return EB_EINVAL;
        }
        if (check_date(t->start_date, term_start[i], field, why) ||
            check_date(t->end_date, term_end[i], field, why))
            return EB_EINVAL;
        if (strcmp(t->start_date, y->start_date) < 0) {
            *field = term_start[i];
            *why = "before the start of the school year";
            return EB_EINVAL;
        }
        if (strcmp(t->end_date, y->end_date) > 0) {
            *field = term_end[i];
            *why = "after the end of the school year";
            return EB_EINVAL;
        }
        if (strcmp(t->end_date, t->start_date) <= 0) {
            *field = term_end[i];
            *why = "must be after the term's start_date";
            return EB_EINVAL;
        }
    }
    if (strcmp(y->terms[1].start_date, y->terms[0].end_date) <= 0) {
        *field = term_start[1];
        *why = "term 2 must start after term 1 ends";
        return EB_EINVAL;
    }
    return 0;
}

static json_t *year_json(const struct eb_school_year *y)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)y->id, "name", y->name,
                          "start_date", y->start_date, "end_date", y->end_date);
    json_t *terms = json_array();
    for (int i = 0; i < y->n_terms; i++)
        json_array_append_new(terms,
                              json_pack("{s:i, s:s, s:s}", "term", y->terms[i].term, "start_date",
                                        y->terms[i].start_date, "end_date", y->terms[i].end_date));
    if (j)
        json_object_set_new(j, "terms", terms);
    else
        json_decref(terms);
    return j;
}

int eb_store_year_create(struct eb_db *db, const struct eb_caller *c,
                         const struct eb_school_year *in, int64_t *id)
{
    struct eb__q q;
    const char *field, *why;
    int own = 0, rc;
    *id = 0;
    if (!may_write(c))
        return EB_EDENIED;
    if (eb_school_year_check(in, &field, &why))
        return EB_EINVAL;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    /* A taken name is the clearer answer than the overlap it also implies. */
    eb__q_start(db, SQL_YEAR_BY_NAME, &q);
    eb__q_text(&q, in->name);
    rc = eb__q_step(&q);
    eb__q_end(&q);
    if (rc == EB__STORE_ROW) {
        rc = EB_EEXIST;
        goto done;
    }
    if (rc != EB__STORE_DONE)
        goto done;
    /* Two ranges overlap when each starts before the other ends; checked inside the write
     * transaction, so two concurrent creations cannot both pass. */
    eb__q_start(db, SQL_YEAR_OVERLAP, &q);
    eb__q_text(&q, in->end_date);
    eb__q_text(&q, in->start_date);
    rc = eb__q_step(&q);
    eb__q_end(&q);
    if (rc == EB__STORE_ROW) {
        rc = EB_ECONFLICT;
        goto done;
    }
    if (rc != EB__STORE_DONE)
        goto done;
    eb__q_start(db, SQL_YEAR_INSERT, &q);
    eb__q_text(&q, in->name);
    eb__q_text(&q, in->start_date);
    eb__q_text(&q, in->end_date);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *id = eb__q_col_int(&q, 0);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    for (int i = 0; rc == 0 && i < in->n_terms; i++) {
        eb__q_start(db, SQL_TERM_INSERT, &q);
        eb__q_int(&q, *id);
        eb__q_int(&q, in->terms[i].term);
        eb__q_text(&q, in->terms[i].start_date);
        eb__q_text(&q, in->terms[i].end_date);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
    }
    if (rc == 0) {
        struct eb_school_year after = *in;
        after.id = *id;
        rc = eb__audit_write(db, c, "school_year.create", "school_year", *id, admin_path(c), NULL,
                             year_json(&after));
    }
done:
    rc = eb__tx_leave(db, own, rc);
    if (rc != 0)
        *id = 0;
    return rc;
}

/*
 * Reads the rows of a YEAR_COLS statement into years (one row per term); *n counts the years.
 * cap bounds how many years fit in out.
 */
static int read_years(struct eb__q *q, struct eb_arena *a, struct eb_school_year *out, size_t cap,
                      size_t *n)
{
    int rc;
    *n = 0;
    while ((rc = eb__q_step(q)) == EB__STORE_ROW) {
        int64_t id = eb__q_col_int(q, 0);
        if (*n == 0 || out[*n - 1].id != id) {
            if (*n == cap)
                return EB_ETOOBIG;
            struct eb_school_year *y = &out[(*n)++];
            memset(y, 0, sizeof(*y));
            y->id = id;
            y->name = eb__q_col_str(q, 1, a);
            y->start_date = eb__q_col_str(q, 2, a);
            y->end_date = eb__q_col_str(q, 3, a);
        }
        struct eb_school_year *y = &out[*n - 1];
        if (!eb__q_col_null(q, 4) && y->n_terms < 2) {
            struct eb_term *t = &y->terms[y->n_terms++];
            t->term = (int)eb__q_col_int(q, 4);
            t->start_date = eb__q_col_str(q, 5, a);
            t->end_date = eb__q_col_str(q, 6, a);
        }
    }
    return rc == EB__STORE_DONE ? 0 : rc;
}

/* A calendar holds one row per year: a century of them is far more than will ever exist. */
#define YEARS_MAX 200

int eb_store_year_list(struct eb_db *db, const struct eb_caller *c, struct eb_arena *a, size_t *n,
                       struct eb_school_year **items)
{
    struct eb__q q;
    *n = 0;
    *items = NULL;
    if (!may_read(c))
        return EB_ENOTFOUND;
    struct eb_school_year *out = eb_arena_alloc(a, sizeof(*out) * YEARS_MAX);
    if (out == NULL)
        return EB_ETOOBIG;
    eb__q_start(db, SQL_YEAR_LIST, &q);
    int rc = read_years(&q, a, out, YEARS_MAX, n);
    eb__q_end(&q);
    if (rc == 0)
        *items = out;
    else
        *n = 0;
    return rc;
}

int eb_store_year_get(struct eb_db *db, const struct eb_caller *c, int64_t id, struct eb_arena *a,
                      struct eb_school_year *out)
{
    struct eb__q q;
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    if (!may_read(c))
        return EB_ENOTFOUND;
    eb__q_start(db, SQL_YEAR_GET, &q);
    eb__q_int(&q, id);
    int rc = read_years(&q, a, out, 1, &n);
    eb__q_end(&q);
    if (rc == 0 && n == 0)
        rc = EB_ENOTFOUND;
    return rc;
}

int eb_store_year_as_of(struct eb_db *db, const struct eb_caller *c, const char *date,
                        struct eb_arena *a, struct eb_school_year *year, int *term)
{
    struct eb__q q;
    size_t n = 0;
    const char *why = NULL;
    memset(year, 0, sizeof(*year));
    *term = 0;
    if (!may_read(c))
        return EB_ENOTFOUND;
    if (date == NULL || eb_date_check(date, &why))
        return EB_EINVAL;
    eb__q_start(db, SQL_YEAR_AS_OF, &q);
    eb__q_text(&q, date);
    eb__q_text(&q, date);
    int rc = read_years(&q, a, year, 1, &n);
    eb__q_end(&q);
    if (rc == 0 && n == 0)
        rc = EB_ENOTFOUND;
    for (int i = 0; rc == 0 && i < year->n_terms; i++)
        if (strcmp(year->terms[i].start_date, date) <= 0 &&
            strcmp(year->terms[i].end_date, date) >= 0)
            *term = year->terms[i].term;
    return rc;
}
