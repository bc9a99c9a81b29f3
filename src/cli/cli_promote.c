/* edubrain promote: the year-end promotion of every school of a subtree (the whole city by
 * default), one transaction per school, with timings for the benchmark. */
#include "cli/cli.h"
#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f)
{
    fputs("usage: edubrain promote --db PATH_OR_URL --year YEAR [--org ID] [--date YYYY-MM-DD]\n"
          "                        [--preview] [--confirm] [--key-file PATH]\n"
          "\n"
          "  --year YEAR   the school year to leave (2026: 2026-2027 into 2027-2028)\n"
          "  --org ID      promote the schools under this org only (default: every school)\n"
          "  --date DATE   the first day of the new year (default: YEAR+1-09-01)\n"
          "  --preview     count what would happen, change nothing\n"
          "  --confirm     confirm each run at once (no undo afterwards)\n"
          "\n"
          "Each school is one transaction; a school promoted for YEAR already is skipped.\n"
          "exit status: 0 done, 1 a school failed, 2 bad usage\n",
          f);
}

struct totals {
    int64_t schools, skipped, failed, classes, promoted, graduated;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int promote_school(struct eb_db *db, const struct eb_caller *c, const struct eb_org *s,
                          int year, const char *date, int preview, int confirm, struct totals *t)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb_promotion p;
    const char *why = NULL;
    int rc = eb_store_promotion_run(db, c, s->id, year, year + 1, date, preview, a, &p, &why);
    if (rc == EB_ECONFLICT && why != NULL && strcmp(why, EB_WHY_ALREADY_PROMOTED) == 0) {
        t->skipped++;
        rc = 0;
    } else if (rc != 0) {
        fprintf(stderr, "edubrain promote: school %lld (%s): %s\n", (long long)s->id,
                s->name ? s->name : "", eb_strerror(rc));
        t->failed++;
    } else {
        t->schools++;
        t->classes += p.n_classes;
        t->promoted += p.n_promoted;
        t->graduated += p.n_graduated;
        if (confirm && !preview)
            rc = eb_store_promotion_confirm(db, c, s->id, p.run_id, NULL);
    }
    eb_arena_destroy(a);
    return rc;
}

/* Walks the tree below id (0: the roots) and promotes every open school in it. */
static int walk(struct eb_db *db, const struct eb_caller *c, int64_t id, int year, const char *date,
                int preview, int confirm, struct totals *t)
{
    int64_t after = 0;
    int rc = 0;
    do {
        struct eb_arena *a = eb_arena_create(0);
        struct eb_org_list list;
        rc = eb_store_org_children(db, c, id, after, 500, a, &list);
        for (size_t i = 0; rc == 0 && i < list.n; i++) {
            const struct eb_org *o = &list.items[i];
            if (o->closed_on != NULL)
                continue;
            if (o->kind == EB_ORG_SCHOOL)
                promote_school(db, c, o, year, date, preview, confirm, t);
            else if (o->kind < EB_ORG_SCHOOL)
                rc = walk(db, c, o->id, year, date, preview, confirm, t);
        }
        after = rc == 0 ? list.next : 0;
        eb_arena_destroy(a);
    } while (after != 0);
    return rc;
}

int eb_cli_promote(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},
        {"key-file", required_argument, 0, 'k'},
        {"year", required_argument, 0, 'y'},
        {"org", required_argument, 0, 'o'},
        {"date", required_argument, 0, 't'},
        {"preview", no_argument, 0, 'p'},
        {"confirm", no_argument, 0, 'c'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *dbs = NULL, *key_file = NULL, *date = NULL;
    long year = 0, org = 0;
    int preview = 0, confirm = 0, ch;
    char *end = NULL;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dbs = optarg;
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'y':
            year = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || year < 2000 || year > 2099) {
                fprintf(stderr, "edubrain promote: --year must be 2000..2099\n");
                return 2;
            }
            break;
        case 'o':
            org = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || org < 1) {
                fprintf(stderr, "edubrain promote: --org must be an org id\n");
                return 2;
            }
            break;
        case 't':
            date = optarg;
            break;
        case 'p':
            preview = 1;
            break;
        case 'c':
            confirm = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (dbs == NULL || year == 0 || optind != argc) {
        usage(stderr);
        return 2;
    }
    char def_date[32]; /* "YYYY-09-01"; room for any long the compiler cannot rule out */
    if (date == NULL) {
        snprintf(def_date, sizeof(def_date), "%04ld-09-01", year + 1);
        date = def_date;
    }
    struct eb_store *st = eb_cli_open_store(dbs, key_file, 0, 1);
    if (st == NULL)
        return 1;
    struct eb_db *db = eb_store_acquire(st);
    struct eb_caller c = {.system = 1, .client_addr = "cli"};
    struct totals t = {0};
    double t0 = now_s();
    int rc = 0;
    if (org != 0) {
        struct eb_arena *a = eb_arena_create(0);
        struct eb_org o;
        rc = eb_store_org_get(db, &c, org, a, &o);
        if (rc == 0 && o.kind == EB_ORG_SCHOOL)
            promote_school(db, &c, &o, (int)year, date, preview, confirm, &t);
        else if (rc == 0)
            rc = walk(db, &c, org, (int)year, date, preview, confirm, &t);
        eb_arena_destroy(a);
    } else {
        rc = walk(db, &c, 0, (int)year, date, preview, confirm, &t);
    }
    double secs = now_s() - t0;
    eb_store_release(st, db);
    eb_store_close(st);
    if (rc != 0) {
        fprintf(stderr, "edubrain promote: %s\n", eb_strerror(rc));
        return 1;
    }
    printf("%s %ld-%ld on %s: %lld schools, %lld classes, %lld students promoted, %lld "
           "graduated; %lld skipped (promoted already), %lld failed; %.2f s\n",
           preview ? "preview" : "promoted", year, year + 1, date, (long long)t.schools,
           (long long)t.classes, (long long)t.promoted, (long long)t.graduated,
           (long long)t.skipped, (long long)t.failed, secs);
    return t.failed > 0 ? 1 : 0;
}
