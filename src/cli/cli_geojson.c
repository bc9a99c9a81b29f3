/* edubrain import geojson: a city's district boundaries (a GeoJSON FeatureCollection, e.g. a
 * DataV district file) for the education map. */
#include "brain/geo.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

/* A DataV file of a large county is a few megabytes; a whole province's is about 100 MB. */
#define GEOJSON_MAX_BYTES (256u << 20)

static void usage(FILE *f)
{
    fputs("usage: edubrain import geojson FILE --db PATH_OR_URL [--lang zh|en] [--key-file PATH]\n"
          "\n"
          "Imports the boundaries of the city's districts for the education map from a GeoJSON\n"
          "FeatureCollection (e.g. a DataV district file). Each feature's geometry must be a\n"
          "Polygon or MultiPolygon of [longitude, latitude] positions; a feature belongs to the\n"
          "district whose division code is properties.adcode, or whose name is properties.name\n"
          "(with or without 教育局). Features of other places are skipped; an invalid geometry\n"
          "or two features for one district refuse the file and nothing is written. Imported\n"
          "boundaries replace generated ones; districts missing from the file keep theirs.\n"
          "  --db PATH_OR_URL   a SQLite file or a postgres:// URL (--dsn is the same)\n"
          "  --lang zh|en       the language of the report (default zh)\n"
          "  --key-file PATH    the citizen-ID key (PostgreSQL; default <db>.key for SQLite)\n"
          "\n"
          "exit status: 0 imported, 1 refused or failed (nothing written), 2 bad usage\n",
          f);
}

int eb__cli_import_geojson(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},   {"dsn", required_argument, 0, 'd'},
        {"lang", required_argument, 0, 'l'}, {"key-file", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0},
    };
    const char *db = NULL, *key_file = NULL;
    int en = 0, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
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
    if (!db || optind != argc - 1)
        return usage(stderr), 2;
    json_error_t jerr;
    FILE *f = fopen(argv[optind], "rb");
    if (!f) {
        fprintf(stderr, en ? "edubrain import: cannot open %s\n" : "edubrain import: 无法打开 %s\n",
                argv[optind]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    if (size < 0 || (unsigned long)size > GEOJSON_MAX_BYTES) {
        fclose(f);
        fprintf(stderr,
                en ? "edubrain import: %s is larger than 256 MB\n"
                   : "edubrain import: %s 超过 256 MB\n",
                argv[optind]);
        return 1;
    }
    /* Strict UTF-8 and no duplicate keys: a boundary file is outside input like any body. */
    json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!doc) {
        fprintf(stderr,
                en ? "edubrain import: %s is not valid JSON (line %d, column %d): %s\n"
                   : "edubrain import: %s 不是有效的 JSON（第 %d 行第 %d 列）：%s\n",
                argv[optind], jerr.line, jerr.column, jerr.text);
        return 1;
    }
    if (sodium_init() < 0) {
        json_decref(doc);
        return 1;
    }
    struct eb_store *st = eb_cli_open_store(db, key_file, 0, 1);
    if (!st) {
        json_decref(doc);
        return 1;
    }
    /* The command line is the system; the import is audited (a handful of rows). */
    struct eb_caller sys = {.system = 1};
    struct eb_geo_import_counts counts;
    struct eb_buf report;
    eb_buf_init(&report, 0);
    struct eb_db *conn = eb_store_acquire(st);
    int rc = eb_geo_import(conn, &sys, doc, en, &report, &counts);
    eb_store_release(st, conn);
    fwrite(report.data ? report.data : "", 1, report.len, stdout);
    if (rc == 0)
        printf(en ? "imported %zu of %zu features; %zu skipped; %zu districts not in the file\n"
                  : "已导入 %zu/%zu 个要素；跳过 %zu 个；%zu 个区县不在文件中\n",
               counts.n_imported, counts.n_features, counts.n_skipped, counts.n_missing);
    else if (rc == EB_EINVAL)
        printf(en ? "refused: nothing was written\n" : "已拒绝：未写入任何数据\n");
    else
        fprintf(stderr, "edubrain import: %s\n", eb_strerror(rc));
    eb_buf_free(&report);
    json_decref(doc);
    eb_store_close(st);
    return rc == 0 ? 0 : 1;
}
