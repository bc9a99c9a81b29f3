/* edubrain feeds run: one run of the brain's registry feeds against a database. */
#include "brain/brain.h"
#include "brain/feeds.h"
#include "cli/cli.h"
#include "core/err.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: edubrain feeds run --db PATH [--key-file PATH] [--day YYYY-MM-DD]\n"
          "\n"
          "Writes the registry's figures as the brain's observations of the day (today by\n"
          "default): students.enrolled of every class, teachers.in_post, accounts.registered\n"
          "and accounts.activated of every school, where the day has no row yet or the\n"
          "registry changed since. A server runs the same at start-up and every hour.\n",
          f);
}

int eb_cli_feeds(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},
        {"key-file", required_argument, 0, 'k'},
        {"day", required_argument, 0, 'D'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *db = NULL, *key_file = NULL;
    eb_day day = eb_day_today();
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    argc--;
    argv++;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'D':
            if (eb_day_parse(optarg, &day) != 0)
                return fprintf(stderr, "edubrain feeds: --day takes YYYY-MM-DD\n"), 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!db || optind != argc)
        return usage(stderr), 2;
    struct eb_store *st = eb_cli_open_store(db, key_file, 0, 1);
    if (!st)
        return 1;
    struct eb_feeds_stats s;
    int rc = eb_feeds_run(st, NULL, day, &s);
    eb_store_close(st);
    if (rc != 0) {
        fprintf(stderr, "edubrain feeds: failed: %s\n", eb_strerror(rc));
        return 1;
    }
    char ymd[11];
    eb_day_format(day, ymd);
    fprintf(stderr, "edubrain feeds: %s: %lld rows written, %lld corrected, %lld unchanged\n", ymd,
            (long long)s.written, (long long)s.corrected,
            (long long)(s.nodes - s.written - s.corrected));
    return 0;
}
