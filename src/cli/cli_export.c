/* edubrain export oneroster: writes a OneRoster 1.1 package of a subtree. */
#include "cli/cli.h"
#include "core/err.h"
#include "oneroster/or_io.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

static void usage(FILE *f)
{
    fputs("usage: edubrain export oneroster --db PATH_OR_URL --org ID OUT_DIR_OR_ZIP\n"
          "                                 [--key-file PATH]\n"
          "\n"
          "Writes a OneRoster 1.1 bulk package of the org's subtree (a city, district or\n"
          "school): orgs, school years and terms, a course per grade, classes, users (students,\n"
          "teachers, staff, parents), demographics and the current enrolments. Citizen ID\n"
          "numbers and G student numbers are never written. OUT ending in .zip gives a zip\n"
          "file, anything else a directory.\n"
          "\n"
          "exit status: 0 written, 1 failed, 2 bad usage\n",
          f);
}

static int export_oneroster(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},  {"dsn", required_argument, 0, 'd'},
        {"org", required_argument, 0, 'o'}, {"key-file", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},      {0, 0, 0, 0},
    };
    const char *db = NULL, *key_file = NULL;
    int64_t org = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'o':
            if (eb_cli_parse_org(optarg, "export", &org) != 0)
                return 2;
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
    if (!db || !org || optind != argc - 1)
        return usage(stderr), 2;
    if (sodium_init() < 0)
        return 1;
    struct eb_store *st = eb_cli_open_store(db, key_file, 0, 1);
    if (!st)
        return 1;
    struct eb_caller sys = {.system = 1};
    struct eb_db *conn = eb_store_acquire(st);
    struct eb_or_export_stats s;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = eb_or_export(conn, &sys, org, argv[optind], &s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    eb_store_release(st, conn);
    eb_store_close(st);
    if (rc != 0) {
        fprintf(stderr, "edubrain export: %s\n",
                rc == EB_ENOTFOUND ? "no such org"
                : rc == EB_EINVAL  ? "the org must be a city, district or school"
                                   : eb_strerror(rc));
        return 1;
    }
    printf("orgs %lld, sessions %lld, courses %lld, classes %lld, users %lld, demographics %lld, "
           "enrollments %lld\n",
           (long long)s.orgs, (long long)s.sessions, (long long)s.courses, (long long)s.classes,
           (long long)s.users, (long long)s.demographics, (long long)s.enrollments);
    fprintf(stderr, "%.1f s\n",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}

int eb_cli_export(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "oneroster") != 0) {
        fprintf(stderr, "edubrain export: unknown format '%s' (oneroster)\n", argv[1]);
        return 2;
    }
    return export_oneroster(argc - 1, argv + 1);
}
