/* edubrain import roster: a filled roster template (CSV or xlsx) into one school. */
#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "roster/roster.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define MAX_FILE (32u << 20) /* the same limit as the upload route */

static void usage(FILE *f)
{
    fputs(
        "usage: edubrain import roster FILE --db PATH_OR_URL --org SCHOOL_ID\n"
        "                              --kind students|teachers [--dry-run] [--json]\n"
        "                              [--lang zh|en] [--key-file PATH]\n"
        "\n"
        "Checks a filled roster template (学生名册 / 教职工名册, CSV or xlsx; blank templates at\n"
        "GET /api/v1/roster-templates/students.xlsx) and, without errors, registers its people\n"
        "at the school in one transaction. Every finding names its line and column.\n"
        "  --dry-run          check only; nothing is written\n"
        "  --json             the report as JSON (both languages)\n"
        "\n"
        "exit status: 0 imported (or clean on a dry run), 1 errors (nothing written), 2 bad "
        "usage\n",
        f);
}

static int read_file(const char *path, struct eb_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return EB_EIO;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = eb_buf_append(out, chunk, n);
    if (rc == 0 && ferror(f))
        rc = EB_EIO;
    fclose(f);
    return rc;
}

int eb__cli_import_roster(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},   {"dsn", required_argument, 0, 'd'},
        {"org", required_argument, 0, 'o'},  {"kind", required_argument, 0, 'k'},
        {"dry-run", no_argument, 0, 'n'},    {"json", no_argument, 0, 'j'},
        {"lang", required_argument, 0, 'l'}, {"key-file", required_argument, 0, 'K'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0},
    };
    const char *db = NULL, *key_file = NULL, *lang = "zh";
    int json = 0, dry = 0, kind = -1, c;
    int64_t org = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'o': {
            char *end = NULL;
            long long v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v <= 0)
                return fprintf(stderr, "edubrain import roster: --org takes a school id\n"), 2;
            org = v;
            break;
        }
        case 'k':
            kind = eb_roster_kind_parse(optarg);
            if (kind < 0)
                return fprintf(stderr, "edubrain import roster: --kind is students or teachers\n"),
                       2;
            break;
        case 'n':
            dry = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'l':
            if (strcmp(optarg, "zh") != 0 && strcmp(optarg, "en") != 0)
                return fprintf(stderr, "edubrain import roster: --lang must be zh or en\n"), 2;
            lang = optarg;
            break;
        case 'K':
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
    if (!db || !org || kind < 0 || optind != argc - 1)
        return usage(stderr), 2;
    if (sodium_init() < 0)
        return 1;
    struct eb_buf file, rep;
    eb_buf_init(&file, MAX_FILE);
    eb_buf_init(&rep, 16u << 20);
    int rc = read_file(argv[optind], &file);
    if (rc) {
        fprintf(stderr, "edubrain import roster: cannot read %s%s\n", argv[optind],
                rc == EB_ETOOBIG ? " (larger than 32 MB)" : "");
        eb_buf_free(&file);
        return 1;
    }
    struct eb_store *st = eb_cli_open_store(db, key_file, 0, 1);
    if (!st) {
        eb_buf_free(&file);
        return 1;
    }
    /* The command line acts as the system, audited: a roster is a school's own registration. */
    struct eb_caller sys = {.system = 1};
    struct eb_roster_result res;
    struct eb_db *conn = eb_store_acquire(st);
    rc = eb_roster_import(conn, &sys, org, (enum eb_roster_kind)kind, file.data ? file.data : "",
                          file.len, dry, &res, &rep);
    eb_store_release(st, conn);
    if (rc) {
        fprintf(stderr, "edubrain import roster: %s\n",
                rc == EB_EINVAL ? "--org must be a school" : eb_strerror(rc));
    } else if (json) {
        fwrite(rep.data ? rep.data : "{}", 1, rep.data ? rep.len : 2, stdout);
        fputc('\n', stdout);
    } else {
        struct eb_buf text;
        eb_buf_init(&text, 0);
        eb_roster_report_text(rep.data ? rep.data : "{}", lang, &text);
        fwrite(text.data ? text.data : "", 1, text.len, stdout);
        eb_buf_free(&text);
    }
    eb_buf_free(&file);
    eb_buf_free(&rep);
    eb_store_close(st);
    return rc ? (rc == EB_EINVAL ? 2 : 1) : res.errors ? 1 : 0;
}
