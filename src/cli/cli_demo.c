/* edubrain demo: a new database holding a synthetic city. */
#include "auth/auth.h"
#include "brain/brain.h"
#include "cli/cli.h"
#include "core/err.h"
#include "core/mem.h"
#include "demo/demo.h"
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
    fputs("usage: edubrain demo --db PATH [--scale small|city] [--seed N]\n"
          "                     [--admin-password PW] [--demo-password PW] [--key-file PATH]\n"
          "                     [--history none|term|year] [--history-until YYYY-MM-DD]\n"
          "\n"
          "Creates a new database holding a synthetic city (deterministic for a seed).\n"
          "  --scale small      2 districts, about 10 schools, 3,000 students (tests)\n"
          "  --scale city       9 districts, about 1,250 schools, 800,000 students (default)\n"
          "  --admin-password   password of the city administrator 'admin' (else one is\n"
          "                     generated and printed once); '-' reads it from standard input\n"
          "  --demo-password    also create the demo accounts district1, school1, teacher1,\n"
          "                     student1, parent1 and analyst1 with this password\n"
          "  --history          daily observations for the brain: none; term, the current term's\n"
          "                     school days up to today (the default at city scale); year, the\n"
          "                     school days of the last 365 days. Small cities default to none\n"
          "  --history-until    the last day of the history instead of today\n",
          f);
}

int eb_cli_demo(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},
        {"scale", required_argument, 0, 's'},
        {"seed", required_argument, 0, 'S'},
        {"admin-password", required_argument, 0, 'a'},
        {"demo-password", required_argument, 0, 'p'},
        {"key-file", required_argument, 0, 'k'},
        {"history", required_argument, 0, 'H'},
        {"history-until", required_argument, 0, 'U'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *db = NULL, *key_file = NULL, *admin_arg = NULL, *demo_arg = NULL;
    struct eb_demo_options opt = {.scale = EB_DEMO_CITY, .seed = 2026};
    struct eb_demo_history_options hopt = {.span = EB_DEMO_HISTORY_TERM};
    int c, history_set = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 's':
            if (strcmp(optarg, "small") == 0)
                opt.scale = EB_DEMO_SMALL;
            else if (strcmp(optarg, "city") == 0)
                opt.scale = EB_DEMO_CITY;
            else
                return fprintf(stderr, "edubrain demo: --scale is small or city\n"), 2;
            break;
        case 'S': {
            char *end = NULL;
            opt.seed = strtoull(optarg, &end, 10);
            if (!*optarg || *end)
                return fprintf(stderr, "edubrain demo: --seed takes a number\n"), 2;
            break;
        }
        case 'a':
            admin_arg = optarg;
            break;
        case 'p':
            demo_arg = optarg;
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'H':
            history_set = 1;
            if (strcmp(optarg, "none") == 0)
                hopt.span = EB_DEMO_HISTORY_NONE;
            else if (strcmp(optarg, "term") == 0)
                hopt.span = EB_DEMO_HISTORY_TERM;
            else if (strcmp(optarg, "year") == 0)
                hopt.span = EB_DEMO_HISTORY_YEAR;
            else
                return fprintf(stderr, "edubrain demo: --history is none, term or year\n"), 2;
            break;
        case 'U':
            if (eb_day_parse(optarg, &hopt.until) != 0)
                return fprintf(stderr, "edubrain demo: --history-until takes YYYY-MM-DD\n"), 2;
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
    if (sodium_init() < 0)
        return 1;

    char generated[32];
    char *admin_pw = NULL, *demo_pw = NULL;
    if (admin_arg) {
        admin_pw = eb_cli_read_password(admin_arg);
    } else {
        unsigned char raw[12];
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2base64(generated, sizeof(generated), raw, sizeof(raw),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        admin_pw = eb_xstrdup(generated);
    }
    if (demo_arg)
        demo_pw = eb_cli_read_password(demo_arg);
    const char *why = NULL;
    if (!admin_pw || eb_auth_password_check_rules(admin_pw, &why) ||
        (demo_arg && (!demo_pw || eb_auth_password_check_rules(demo_pw, &why)))) {
        fprintf(stderr,
                "edubrain demo: password refused: %s (at least 8 characters of two "
                "kinds)\n",
                why ? why : "unreadable");
        eb_free(admin_pw);
        eb_free(demo_pw);
        return 2;
    }
    int rc = 1;
    char *admin_hash = eb_auth_password_hash(admin_pw);
    char *demo_hash = demo_pw ? eb_auth_password_hash(demo_pw) : NULL;
    struct eb_store *st = eb_cli_open_store(db, key_file, 1, 1);
    if (!st || !admin_hash || (demo_pw && !demo_hash))
        goto done;
    opt.admin_password_hash = admin_hash;
    opt.demo_password_hash = demo_hash;
    opt.progress = stderr;
    struct eb_demo_stats stats;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int err = eb_demo_generate(st, &opt, &stats);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (err == EB_EEXIST) {
        fprintf(stderr, "edubrain demo: %s already holds a city; use a new file\n", db);
        goto done;
    }
    if (err) {
        fprintf(stderr, "edubrain demo: failed: %s\n", eb_strerror(err));
        goto done;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr,
            "edubrain demo: %lld districts, %lld schools, %lld grades, %lld classes, %lld "
            "students, %lld teachers, %lld accounts (%lld seeded invalid ID numbers) in %.1f s\n",
            (long long)stats.districts, (long long)stats.schools, (long long)stats.grades,
            (long long)stats.classes, (long long)stats.students, (long long)stats.teachers,
            (long long)stats.accounts, (long long)stats.invalid_ids, secs);
    /* The tests' small cities stay small unless a test asks: their files start in a second. */
    if (!history_set && opt.scale == EB_DEMO_SMALL)
        hopt.span = EB_DEMO_HISTORY_NONE;
    if (hopt.span != EB_DEMO_HISTORY_NONE) {
        struct eb_demo_history_stats hs;
        hopt.seed = opt.seed;
        hopt.progress = stderr;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        err = eb_demo_history(st, &hopt, &hs);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (err) {
            fprintf(stderr, "edubrain demo: the history failed: %s\n", eb_strerror(err));
            goto done;
        }
        char from[11] = "-", to[11] = "-";
        if (hs.days > 0) {
            eb_day_format(hs.first_day, from);
            eb_day_format(hs.last_day, to);
        }
        secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(stderr,
                "edubrain demo: history %s: %lld school days (%s..%s), %lld classes, %lld "
                "observations (%.2f %% absent) in %.1f s\n",
                hopt.span == EB_DEMO_HISTORY_YEAR ? "year" : "term", (long long)hs.days, from, to,
                (long long)hs.classes, (long long)hs.rows,
                hs.enrolled_days ? 100.0 * (double)hs.absences / (double)hs.enrolled_days : 0.0,
                secs);
    }
    if (!admin_arg)
        printf("city administrator: login admin, password %s (shown once)\n", admin_pw);
    rc = 0;
done:
    if (st)
        eb_store_close(st);
    sodium_memzero(admin_pw, strlen(admin_pw));
    eb_free(admin_pw);
    eb_free(demo_pw);
    eb_free(admin_hash);
    eb_free(demo_hash);
    return rc;
}
