/* edubrain import observations: the rows of a CSV or xlsx sheet for one data element, validated
 * like the API's and written in one transaction (a running server picks them up). */
#include "brain/brain.h"
#include "brain/brain_int.h"
#include "cli/cli.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f)
{
    fputs(
        "usage: edubrain import observations FILE --db PATH_OR_URL --element CODE [--org ID]\n"
        "                                    [--lang zh|en] [--key-file PATH]\n"
        "\n"
        "Records the observations of a CSV or xlsx sheet whose first row names the columns\n"
        "机构/org_id, 学生/person_id, 日期/day (YYYY-MM-DD), 数值/value, 类别/category. Every row\n"
        "is validated as POST /api/v1/observations does (type and range, the org's level,\n"
        "the student's class, no day in the future); any error rejects the file and nothing\n"
        "is written. A running server shows the rows within a second.\n"
        "  --db PATH_OR_URL   a SQLite file or a postgres:// URL (--dsn is the same)\n"
        "  --element CODE     the data element of every row, e.g. homework.minutes\n"
        "  --org ID           the org of rows that name none\n"
        "  --lang zh|en       the language of the report (default zh)\n"
        "  --key-file PATH    the citizen-ID key (PostgreSQL; default <db>.key for SQLite)\n"
        "\n"
        "exit status: 0 recorded, 1 rejected or failed (nothing written), 2 bad usage\n",
        f);
}

/* The whole file in memory: a sheet is read from memory (the upload's path). */
static int slurp(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (f == NULL || fstat(fileno(f), &sb) != 0 || sb.st_size < 0 ||
        sb.st_size > (off_t)256 << 20) {
        if (f)
            fclose(f);
        return EB_EIO;
    }
    *len = (size_t)sb.st_size;
    *data = eb_xmalloc(*len + 1);
    size_t got = fread(*data, 1, *len, f);
    fclose(f);
    if (got != *len) {
        eb_free(*data);
        *data = NULL;
        return EB_EIO;
    }
    (*data)[*len] = '\0';
    return 0;
}

static void print_findings(const struct eb__sheet_obs *s, const struct eb_obs_error *e, size_t n,
                           int en)
{
    for (size_t i = 0; i < n && i < 200; i++) {
        long line = s->file_line ? s->file_line : e[i].row < s->n ? s->lines[e[i].row] : 0;
        if (en)
            printf("line %ld, %s: %s\n", line, e[i].field, e[i].why_en);
        else
            printf("第 %ld 行，%s：%s\n", line, eb__brain_sheet_column(e[i].field), e[i].why_zh);
    }
    if (n > 200)
        printf(en ? "... and %zu more\n" : "……另有 %zu 处\n", n - 200);
    printf(en ? "%zu errors; nothing was written\n" : "错误 %zu 个；未写入任何数据\n", n);
}

/* Validated rows in one transaction, announced to the other servers at its commit. */
static int write_rows(struct eb_store *st, const struct eb_caller *c, const struct eb__sheet_obs *s)
{
    struct eb_obs_row *rows = eb_xmalloc(s->n * sizeof(*rows));
    int64_t *ids = eb_xmalloc(s->n * sizeof(*ids));
    for (size_t i = 0; i < s->n; i++) {
        const struct eb_obs *o = &s->rows[i];
        rows[i] = (struct eb_obs_row){o->element_id, o->org_id, o->person_id, o->day, o->value,
                                      o->category,   0,         NULL};
    }
    struct eb_db *db = eb_store_acquire(st);
    int rc = eb_db_begin(db);
    if (rc == 0)
        rc = eb_store_obs_insert(db, c, rows, s->n, ids);
    if (rc == 0)
        rc = eb_store_obs_notify(db, ids[s->n - 1]);
    if (rc == 0)
        rc = eb_db_commit(db);
    if (rc != 0)
        eb_db_rollback(db);
    eb_store_release(st, db);
    eb_free(rows);
    eb_free(ids);
    return rc;
}

int eb__cli_import_observations(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},      {"dsn", required_argument, 0, 'd'},
        {"element", required_argument, 0, 'e'}, {"org", required_argument, 0, 'o'},
        {"lang", required_argument, 0, 'l'},    {"key-file", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
    };
    const char *dsn = NULL, *code = NULL, *key_file = NULL;
    int en = 0, c;
    int64_t org = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dsn = optarg;
            break;
        case 'e':
            code = optarg;
            break;
        case 'o':
            if (eb_cli_parse_org(optarg, "import", &org) != 0)
                return 2;
            break;
        case 'l':
            if (strcmp(optarg, "zh") != 0 && strcmp(optarg, "en") != 0)
                return fprintf(stderr, "edubrain import: --lang must be zh or en\n"), 2;
            en = strcmp(optarg, "en") == 0;
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || dsn == NULL || code == NULL) {
        usage(stderr);
        return 2;
    }
    const char *file = argv[optind];
    char *data = NULL;
    size_t len = 0;
    if (slurp(file, &data, &len) != 0) {
        fprintf(stderr, "edubrain import: cannot read %s\n", file);
        return 1;
    }
    int status = 1;
    struct eb_arena *a = eb_arena_create(0);
    struct eb_brain *b = NULL;
    struct eb_store *st = eb_cli_open_store(dsn, key_file, 0, 2);
    if (st == NULL)
        goto done;
    int rc = eb__brain_open_offline(st, &b);
    if (rc != 0) {
        fprintf(stderr, "edubrain import: %s\n", eb_strerror(rc));
        goto done;
    }
    const struct eb_element *e = eb_brain_element_by_code(b, code);
    if (e == NULL) {
        fprintf(stderr, "edubrain import: no data element %s\n", code);
        status = 2;
        goto done;
    }
    struct eb__sheet_obs s;
    rc = eb__brain_sheet_read(a, data, len, e->id, org, &s);
    if (rc != 0) {
        fprintf(stderr, "edubrain import: %s\n",
                rc == EB_ETOOBIG ? "too many rows (at most 50000 per file)" : eb_strerror(rc));
        goto done;
    }
    if (s.n_errs > 0) {
        print_findings(&s, s.errs, s.n_errs, en);
        goto done;
    }
    for (size_t i = 0; i < s.n; i++)
        if (s.rows[i].org_id == 0) {
            fprintf(stderr, "edubrain import: line %ld names no org; give --org\n", s.lines[i]);
            goto done;
        }
    const struct eb_caller cli = {.system = 1, .client_addr = "cli"};
    struct eb_obs_error *errs = NULL;
    size_t n_errs = 0;
    rc = eb__brain_validate(b, &cli, s.rows, s.n, a, &errs, &n_errs);
    if (rc != 0 && n_errs > 0) {
        print_findings(&s, errs, n_errs, en);
        goto done;
    }
    if (rc == 0)
        rc = write_rows(st, &cli, &s);
    if (rc != 0) {
        fprintf(stderr, "edubrain import: %s\n", eb_strerror(rc));
        goto done;
    }
    printf(en ? "%zu observations of %s recorded\n" : "已记录 %zu 条 %s 数据\n", s.n, e->code);
    status = 0;
done:
    eb_brain_stop(b);
    if (st)
        eb_store_close(st);
    eb_arena_destroy(a);
    eb_free(data);
    return status;
}
