/* edubrain import oneroster: writes a OneRoster 1.1 package into the database (and dispatches
 * import roster, cli_import_roster.c). */
#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "oneroster/or_io.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

static void usage(FILE *f)
{
    fputs("usage: edubrain import oneroster DIR_OR_ZIP --db PATH_OR_URL [--org ID] [--json]\n"
          "                                 [--lang zh|en] [--key-file PATH]\n"
          "\n"
          "Imports a OneRoster 1.1 CSV package (a directory or a .zip) in one transaction: the\n"
          "package is validated first (edubrain oneroster check); any error rejects it and\n"
          "nothing is written. Warnings are listed and the import goes on. Bulk files replace\n"
          "what the subtree holds (what they no longer list ends; history is kept), delta files\n"
          "apply their rows (tobedeleted ends or closes). A database that does not exist is\n"
          "created: the package's city becomes its root.\n"
          "  --db PATH_OR_URL   a SQLite file or a postgres:// URL (--dsn is the same)\n"
          "  --org ID           the subtree the package replaces (default: the city)\n"
          "  --json             the report as JSON (findings with both messages, counts)\n"
          "  --lang zh|en       the language of the text report (default zh)\n"
          "  --key-file PATH    the citizen-ID key (PostgreSQL; default <db>.key for SQLite)\n"
          "\n"
          "exit status: 0 imported, 1 rejected or failed (nothing written), 2 bad usage\n",
          f);
}

static void on_progress(void *arg, const char *phase, int64_t done, int64_t total)
{
    FILE *f = arg;
    if (strcmp(phase, "writing") == 0 && total > 0 && done % 100000 != 0 && done != total)
        return;
    fprintf(f, "%s %lld/%lld\n", phase, (long long)done, (long long)total);
    fflush(f);
}

static int import_oneroster(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},   {"dsn", required_argument, 0, 'd'},
        {"org", required_argument, 0, 'o'},  {"json", no_argument, 0, 'j'},
        {"lang", required_argument, 0, 'l'}, {"key-file", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0},
    };
    const char *db = NULL, *key_file = NULL, *lang = "zh";
    int json = 0, c;
    int64_t org = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'o':
            if (eb_cli_parse_org(optarg, "import", &org) != 0)
                return 2;
            break;
        case 'j':
            json = 1;
            break;
        case 'l':
            if (strcmp(optarg, "zh") != 0 && strcmp(optarg, "en") != 0)
                return fprintf(stderr, "edubrain import: --lang must be zh or en\n"), 2;
            lang = optarg;
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
    if (!db || optind != argc - 1)
        return usage(stderr), 2;
    if (sodium_init() < 0)
        return 1;
    struct eb_store *st = eb_cli_open_store(db, key_file, 1, 1);
    if (!st)
        return 1;
    /* The command line is the system: like the demo generator, a bulk load without an audit
     * row per person (the store's own checks still run). */
    struct eb_caller sys = {.system = 1, .no_audit = 1};
    struct eb_or_import_options opt = {
        .root_id = org, .progress = json ? NULL : on_progress, .progress_arg = stderr};
    struct eb_db *conn = eb_store_acquire(st);
    struct eb_or_import *imp = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = eb_or_import(conn, &sys, argv[optind], &opt, &imp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc == 0 && eb_store_after_bulk_load(conn) != 0)
        fprintf(stderr, "edubrain import: the database's statistics were not refreshed\n");
    eb_store_release(st, conn);
    struct eb_buf out;
    eb_buf_init(&out, 0);
    if (json) {
        eb_or_import_json(imp, &out);
        eb_buf_puts(&out, "\n");
    } else {
        eb_or_import_text(imp, lang, &out);
    }
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    eb_buf_free(&out);
    if (rc != 0 && rc != EB_EINVAL)
        fprintf(stderr, "edubrain import: %s\n", eb_strerror(rc));
    if (!json)
        fprintf(stderr, "%.1f s\n",
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    eb_or_import_free(imp);
    eb_store_close(st);
    return rc == 0 ? 0 : 1;
}

int eb_cli_import(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "roster") == 0)
        return eb__cli_import_roster(argc - 1, argv + 1);
    if (strcmp(argv[1], "observations") == 0)
        return eb__cli_import_observations(argc - 1, argv + 1);
    if (strcmp(argv[1], "geojson") == 0)
        return eb__cli_import_geojson(argc - 1, argv + 1);
    if (strcmp(argv[1], "oneroster") != 0) {
        fprintf(stderr, "edubrain import: unknown format '%s' (oneroster, roster)\n", argv[1]);
        return 2;
    }
    return import_oneroster(argc - 1, argv + 1);
}
