/* The SQL reference of bench/brain_city.sh: random (org x period) queries and their aggregation
 * as SQL over the stored observations, timed, on SQLite or PostgreSQL through the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "brain/brain.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"
#include "store/store_int.h"

/*
 *   build/bench/brain_sql queries DSN KEY N SEED FROM TO CHOICES   > queries.tsv
 *   build/bench/brain_sql run DSN KEY QUERIES [MAX [BUDGET_S]]    > sql.tsv
 *   build/bench/brain_sql orgs DSN KEY KIND                       > ids.txt
 *   build/bench/brain_sql span DSN KEY ELEMENT                    > "FROM TO"
 *   build/bench/brain_sql cube DSN KEY QUERIES [MAX]              > cube.tsv
 *
 * CHOICES is a comma-separated list of element codes, one drawn per query; "a+b" asks for both
 * elements of one query (an indicator's terms). A query line is
 *   org_id  kind  org_path  from  to  codes
 * and a result line is
 *   index  micros  sum  count  [sum  count ...]     (one pair per code of the query)
 * `run` stops after MAX queries or BUDGET_S seconds, whichever comes first: a city-level query
 * over a year reads millions of rows, and the script must end within the lead's patience.
 *
 * `cube` rebuilds the brain's cube from the same database as a server does at start-up (the
 * brain's own code, eb_brain_start) and answers the same query lines in-process with
 * eb_cube_get, timed the same way: the in-process side of the SQL comparison, query for query.
 *
 * The statement is the store's own reference aggregation (eb_store_obs_aggregate) without its
 * org path lookup: the path is a parameter, as a dashboard's SQL would hold it.
 */

static const char SQL_AGG[] =
    "SELECT COALESCE(SUM(value), 0), COUNT(*) FROM observations o WHERE element_id = ?"
    " AND org_path >= ? AND org_path < ? AND day >= ? AND day <= ?"
    " AND NOT EXISTS (SELECT 1 FROM observations s WHERE s.supersedes = o.id)";
static const char SQL_ORGS[] =
    "SELECT id, kind, path FROM orgs WHERE closed_on IS NULL AND path IS NOT NULL ORDER BY id";
static const char SQL_SPAN[] = "SELECT MIN(day), MAX(day) FROM observations WHERE element_id = ?";
static const char SQL_ELEMENT[] = "SELECT id, org_level FROM data_elements WHERE code = ?";

#define MAX_TERMS 4
#define LINE_MAX  512

struct org {
    int64_t id;
    int kind;
    char path[EB_PATH_MAX];
};

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd64(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static int rnd(int n)
{
    return n > 0 ? (int)(rnd64() % (uint64_t)n) : 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fputs("usage: brain_sql queries DSN KEY N SEED FROM TO CHOICES\n"
          "       brain_sql run DSN KEY QUERIES [MAX [BUDGET_S]]\n"
          "       brain_sql orgs DSN KEY KIND\n"
          "       brain_sql span DSN KEY ELEMENT\n"
          "       brain_sql cube DSN KEY QUERIES [MAX]\n",
          stderr);
    return 2;
}

/* A strict decimal; the bench's arguments come from a script, but a typo should say so. */
static int parse_long(const char *s, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0')
        return EB_EINVAL;
    *out = v;
    return 0;
}

static int element_lookup(struct eb_db *db, const char *code, int32_t *id, int *level)
{
    struct eb__q q;
    eb__q_start(db, SQL_ELEMENT, &q);
    eb__q_text(&q, code);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *id = (int32_t)eb__q_col_int(&q, 0);
        *level = (int)eb__q_col_int(&q, 1);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc)
        fprintf(stderr, "brain_sql: element %s: %s\n", code, eb_strerror(rc));
    return rc;
}

/* Every open node with its path; *n_out nodes in a heap array the caller frees. */
static int load_orgs(struct eb_db *db, struct org **out, size_t *n_out)
{
    struct eb_arena *a = eb_arena_create(1 << 20);
    struct org *v = NULL;
    size_t n = 0, cap = 0;
    struct eb__q q;
    int rc;
    eb__q_start(db, SQL_ORGS, &q);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            v = eb_xrealloc(v, cap * sizeof(*v));
        }
        v[n].id = eb__q_col_int(&q, 0);
        v[n].kind = (int)eb__q_col_int(&q, 1);
        const char *p = eb__q_col_str(&q, 2, a);
        snprintf(v[n].path, sizeof(v[n].path), "%s", p ? p : "");
        n++;
    }
    eb__q_end(&q);
    eb_arena_destroy(a);
    if (rc < 0) {
        eb_free(v);
        return rc;
    }
    *out = v;
    *n_out = n;
    return 0;
}

/*
 * Random periods as a dashboard asks for them: a day, an ISO week, a calendar month, a term's
 * length (~20 weeks), the whole span, or any range, all clipped to [lo, hi].
 */
static void random_period(eb_day lo, eb_day hi, eb_day *from, eb_day *to)
{
    int span = hi - lo + 1;
    eb_day d = lo + rnd(span);
    switch (rnd(6)) {
    case 0:
        *from = *to = d;
        break;
    case 1: {
        /* Day 0 (1970-01-01) was a Thursday: Monday is day 4 modulo 7. */
        int dow = (int)(((d - 4) % 7 + 7) % 7);
        *from = d - dow;
        *to = *from + 6;
        break;
    }
    case 2: {
        char s[11];
        eb_day_format(d, s);
        memcpy(s + 8, "01", 2);
        eb_day_parse(s, from);
        *to = *from + 30;
        /* Back to the month's last day: the 31st of a shorter month is next month's. */
        char t[11];
        eb_day_format(*to, t);
        while (memcmp(t, s, 7) != 0) {
            (*to)--;
            eb_day_format(*to, t);
        }
        break;
    }
    case 3:
        *from = d;
        *to = d + 140;
        break;
    case 4:
        *from = lo;
        *to = hi;
        break;
    default:
        *from = d;
        *to = d + rnd(span);
        break;
    }
    if (*from < lo)
        *from = lo;
    if (*to > hi)
        *to = hi;
}

static int cmd_queries(struct eb_db *db, int argc, char **argv)
{
    long n = 0, seed = 0;
    eb_day lo, hi;
    struct org *orgs = NULL;
    size_t n_orgs = 0;
    char *choices = NULL;
    struct {
        char codes[128];
        int level;
    } ch[32] = {0};
    size_t n_ch = 0;
    int rc = 0;
    if (argc != 5 || parse_long(argv[0], &n) || parse_long(argv[1], &seed) ||
        eb_day_parse(argv[2], &lo) || eb_day_parse(argv[3], &hi) || hi < lo)
        return usage();
    rng ^= (uint64_t)seed * 0x100000001B3ULL;
    choices = eb_xstrdup(argv[4]);
    /* Each choice's deepest node level is the shallowest reporting level of its elements:
     * below it the element has no rows, and such queries would flatter neither side. */
    for (char *save = NULL, *c = strtok_r(choices, ",", &save); c && n_ch < 32;
         c = strtok_r(NULL, ",", &save)) {
        snprintf(ch[n_ch].codes, sizeof(ch[n_ch].codes), "%s", c);
        ch[n_ch].level = EB_ORG_CLASS;
        char tmp[128];
        snprintf(tmp, sizeof(tmp), "%s", c);
        for (char *s2 = NULL, *e = strtok_r(tmp, "+", &s2); e; e = strtok_r(NULL, "+", &s2)) {
            int32_t id;
            int level;
            rc = element_lookup(db, e, &id, &level);
            if (rc)
                goto done;
            if (level < ch[n_ch].level)
                ch[n_ch].level = level;
        }
        n_ch++;
    }
    rc = load_orgs(db, &orgs, &n_orgs);
    if (rc)
        goto done;
    /* Nodes by kind, so that each level is drawn equally often however many nodes it has. */
    size_t *by_kind[EB_ORG_CLASS + 1] = {0}, n_kind[EB_ORG_CLASS + 1] = {0};
    for (int k = EB_ORG_CITY; k <= EB_ORG_CLASS; k++) {
        by_kind[k] = eb_xmalloc((n_orgs + 1) * sizeof(size_t));
        for (size_t i = 0; i < n_orgs; i++)
            if (orgs[i].kind == k)
                by_kind[k][n_kind[k]++] = i;
    }
    for (long i = 0; i < n && n_ch > 0; i++) {
        size_t c = (size_t)rnd((int)n_ch);
        int kind = EB_ORG_CITY + rnd(ch[c].level);
        if (n_kind[kind] == 0) {
            i--;
            continue;
        }
        const struct org *o = &orgs[by_kind[kind][rnd((int)n_kind[kind])]];
        eb_day from, to;
        random_period(lo, hi, &from, &to);
        char fs[11], ts[11];
        eb_day_format(from, fs);
        eb_day_format(to, ts);
        printf("%lld\t%d\t%s\t%s\t%s\t%s\n", (long long)o->id, o->kind, o->path, fs, ts,
               ch[c].codes);
    }
    for (int k = EB_ORG_CITY; k <= EB_ORG_CLASS; k++)
        eb_free(by_kind[k]);
done:
    eb_free(orgs);
    eb_free(choices);
    return rc ? 1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Splits a query line into its six fields (in place); 0 or EB_EINVAL. */
static int query_fields(char *line, char *fld[6], eb_day *from, eb_day *to)
{
    line[strcspn(line, "\n")] = '\0';
    char *save = NULL;
    int k = 0;
    for (char *t = strtok_r(line, "\t", &save); t && k < 6; t = strtok_r(NULL, "\t", &save))
        fld[k++] = t;
    return k == 6 && !eb_day_parse(fld[3], from) && !eb_day_parse(fld[4], to) ? 0 : EB_EINVAL;
}

static void print_summary(const char *what, double *lat, size_t n, double started, double unit,
                          const char *unit_name)
{
    if (n == 0)
        return;
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += lat[i];
    qsort(lat, n, sizeof(*lat), cmp_double);
    fprintf(stderr,
            "brain_sql: %s: %zu queries in %.1f s: p50 %.3f %s, p99 %.3f %s, max %.3f %s, "
            "mean %.3f %s\n",
            what, n, now_s() - started, lat[n / 2] / unit, unit_name,
            lat[(size_t)((double)n * 0.99)] / unit, unit_name, lat[n - 1] / unit, unit_name,
            total / (double)n / unit, unit_name);
}

static int cmd_run(struct eb_db *db, int argc, char **argv)
{
    long max = -1, budget = -1;
    if (argc < 1 || argc > 3 || (argc > 1 && parse_long(argv[1], &max)) ||
        (argc > 2 && parse_long(argv[2], &budget)))
        return usage();
    FILE *f = fopen(argv[0], "r");
    if (f == NULL) {
        perror(argv[0]);
        return 1;
    }
    double *lat = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    char line[LINE_MAX];
    /* One untimed run prepares (SQLite) or PQprepares (PostgreSQL) the cached statement, so
     * the first timed query does not carry the parse. */
    struct eb__q q0;
    eb__q_start(db, SQL_AGG, &q0);
    eb__q_int(&q0, 0);
    eb__q_text(&q0, "/");
    eb__q_text(&q0, "0");
    eb__q_int(&q0, 0);
    eb__q_int(&q0, 0);
    rc = eb__q_step(&q0);
    eb__q_end(&q0);
    if (rc < 0)
        goto done;
    rc = 0;
    double started = now_s();
    while ((max < 0 || (long)n < max) && fgets(line, sizeof(line), f)) {
        if (budget >= 0 && now_s() - started > (double)budget)
            break;
        char *fld[6];
        eb_day from, to;
        if (query_fields(line, fld, &from, &to) != 0) {
            fprintf(stderr, "brain_sql: malformed query line %zu\n", n + 1);
            rc = EB_EINVAL;
            goto done;
        }
        char hi[EB_PATH_MAX];
        eb__path_hi(fld[2], hi);
        int32_t ids[MAX_TERMS];
        int n_ids = 0;
        for (char *s2 = NULL, *e = strtok_r(fld[5], "+", &s2); e && n_ids < MAX_TERMS;
             e = strtok_r(NULL, "+", &s2)) {
            int level;
            rc = element_lookup(db, e, &ids[n_ids++], &level);
            if (rc)
                goto done;
        }
        double sums[MAX_TERMS];
        int64_t counts[MAX_TERMS];
        /* Only the aggregations are timed: the element lookups above are the parser's work. */
        double t0 = now_s();
        for (int j = 0; j < n_ids; j++) {
            struct eb__q q;
            eb__q_start(db, SQL_AGG, &q);
            eb__q_int(&q, ids[j]);
            eb__q_text(&q, fld[2]);
            eb__q_text(&q, hi);
            eb__q_int(&q, from);
            eb__q_int(&q, to);
            rc = eb__q_step(&q);
            if (rc == EB__STORE_ROW) {
                sums[j] = eb__q_col_double(&q, 0);
                counts[j] = eb__q_col_int(&q, 1);
                rc = 0;
            } else if (rc == EB__STORE_DONE) {
                rc = EB_ESTORE;
            }
            eb__q_end(&q);
            if (rc)
                goto done;
        }
        double us = (now_s() - t0) * 1e6;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            lat = eb_xrealloc(lat, cap * sizeof(*lat));
        }
        lat[n] = us;
        printf("%zu\t%.1f", n, us);
        for (int j = 0; j < n_ids; j++)
            printf("\t%.17g\t%lld", sums[j], (long long)counts[j]);
        putchar('\n');
        fflush(stdout);
        n++;
    }
    print_summary("SQL", lat, n, started, 1e3, "ms");
done:
    if (rc)
        fprintf(stderr, "brain_sql: %s\n", eb_strerror(rc));
    fclose(f);
    eb_free(lat);
    return rc ? 1 : 0;
}

static int cmd_cube(struct eb_store *st, int argc, char **argv)
{
    long max = -1;
    if (argc < 1 || argc > 2 || (argc > 1 && parse_long(argv[1], &max)))
        return usage();
    FILE *f = fopen(argv[0], "r");
    if (f == NULL) {
        perror(argv[0]);
        return 1;
    }
    struct eb_brain *b = NULL;
    double *lat = NULL;
    size_t n = 0, cap = 0;
    char line[LINE_MAX];
    double t0 = now_s();
    int rc = eb_brain_start(st, &b);
    if (rc)
        goto done;
    while (eb_brain_warming(b))
        usleep(10000);
    const struct eb_cube *cube = eb_brain_cube(b);
    fprintf(stderr, "brain_sql: cube rebuilt in %.1f s, %zu MiB\n", now_s() - t0,
            eb_cube_bytes(cube) >> 20);
    double started = now_s();
    while ((max < 0 || (long)n < max) && fgets(line, sizeof(line), f)) {
        char *fld[6];
        eb_day from, to;
        if (query_fields(line, fld, &from, &to) != 0) {
            fprintf(stderr, "brain_sql: malformed query line %zu\n", n + 1);
            rc = EB_EINVAL;
            goto done;
        }
        int64_t org = strtoll(fld[0], NULL, 10);
        int32_t ids[MAX_TERMS];
        int n_ids = 0;
        for (char *s2 = NULL, *e = strtok_r(fld[5], "+", &s2); e && n_ids < MAX_TERMS;
             e = strtok_r(NULL, "+", &s2)) {
            const struct eb_element *el = eb_brain_element_by_code(b, e);
            if (!el) {
                fprintf(stderr, "brain_sql: no element %s\n", e);
                rc = EB_ENOTFOUND;
                goto done;
            }
            ids[n_ids++] = el->id;
        }
        struct eb_cube_value v[MAX_TERMS];
        /* Timed as the SQL side is: the aggregations only, each query once and cold. */
        double q0 = now_s();
        for (int j = 0; j < n_ids; j++) {
            rc = eb_cube_get(cube, ids[j], org, from, to, &v[j]);
            if (rc)
                goto done;
        }
        double us = (now_s() - q0) * 1e6;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            lat = eb_xrealloc(lat, cap * sizeof(*lat));
        }
        lat[n] = us;
        printf("%zu\t%.3f", n, us);
        for (int j = 0; j < n_ids; j++)
            printf("\t%.17g\t%lld", v[j].sum, (long long)v[j].count);
        putchar('\n');
        n++;
    }
    print_summary("in-process cube", lat, n, started, 1.0, "us");
done:
    if (rc)
        fprintf(stderr, "brain_sql: %s\n", eb_strerror(rc));
    eb_brain_stop(b);
    fclose(f);
    eb_free(lat);
    return rc ? 1 : 0;
}

static int cmd_orgs(struct eb_db *db, int argc, char **argv)
{
    long kind = 0;
    if (argc != 1 || parse_long(argv[0], &kind))
        return usage();
    struct org *orgs = NULL;
    size_t n = 0;
    int rc = load_orgs(db, &orgs, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (orgs[i].kind == kind)
            printf("%lld\n", (long long)orgs[i].id);
    eb_free(orgs);
    return rc ? 1 : 0;
}

/* The first and last day with rows of one element: the history's span, whoever made it. */
static int cmd_span(struct eb_db *db, int argc, char **argv)
{
    int32_t id;
    int level;
    if (argc != 1)
        return usage();
    int rc = element_lookup(db, argv[0], &id, &level);
    if (rc)
        return 1;
    struct eb__q q;
    eb__q_start(db, SQL_SPAN, &q);
    eb__q_int(&q, id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW && !eb__q_col_null(&q, 0)) {
        char from[11], to[11];
        eb_day_format((eb_day)eb__q_col_int(&q, 0), from);
        eb_day_format((eb_day)eb__q_col_int(&q, 1), to);
        printf("%s %s\n", from, to);
        rc = 0;
    } else if (rc >= 0) {
        fprintf(stderr, "brain_sql: no observations of %s\n", argv[0]);
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    /* The brain of `cube` takes connections of its own (its writer, its rebuild). */
    struct eb_store_options opt = {.pool_size = strcmp(argv[1], "cube") == 0 ? 4 : 1,
                                   .key_file = argv[3]};
    struct eb_store *st = NULL;
    int rc = eb_store_open(argv[2], &opt, &st);
    if (rc) {
        fprintf(stderr, "brain_sql: cannot open %s: %s\n", argv[2], eb_strerror(rc));
        return 1;
    }
    if (strcmp(argv[1], "cube") == 0) {
        int status = cmd_cube(st, argc - 4, argv + 4);
        eb_store_close(st);
        return status;
    }
    struct eb_db *db = eb_store_acquire(st);
    int status;
    if (strcmp(argv[1], "queries") == 0)
        status = cmd_queries(db, argc - 4, argv + 4);
    else if (strcmp(argv[1], "run") == 0)
        status = cmd_run(db, argc - 4, argv + 4);
    else if (strcmp(argv[1], "orgs") == 0)
        status = cmd_orgs(db, argc - 4, argv + 4);
    else if (strcmp(argv[1], "span") == 0)
        status = cmd_span(db, argc - 4, argv + 4);
    else
        status = usage();
    eb_store_release(st, db);
    eb_store_close(st);
    return status;
}
