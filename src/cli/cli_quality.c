/* edubrain quality run, and the nightly data-quality run that `serve --quality-at` starts. */
#include "app.h"
#include "cli/cli.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/store.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the schedule ------------------------------------------------------------------------ */

int eb_quality_parse_at(const char *text, int *minute_plus_one)
{
    *minute_plus_one = 0;
    if (text == NULL)
        return EB_EINVAL;
    if (strcmp(text, "off") == 0)
        return 0;
    if (strlen(text) != 5 || text[2] != ':')
        return EB_EINVAL;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (text[i] < '0' || text[i] > '9'))
            return EB_EINVAL;
    int h = (text[0] - '0') * 10 + (text[1] - '0'), m = (text[3] - '0') * 10 + (text[4] - '0');
    if (h > 23 || m > 59)
        return EB_EINVAL;
    *minute_plus_one = h * 60 + m + 1;
    return 0;
}

/*
 * The scheduler's clock, unix seconds. In EB_TESTING builds the file named by
 * EDUBRAIN_TEST_CLOCK_FILE (as for the OpenID provider) holds an offset in seconds, read at every
 * tick, so that a test can bring 02:00 to the next few seconds. Never in release builds.
 */
static int64_t sched_now(void)
{
    int64_t now = (int64_t)time(NULL);
#ifdef EB_TESTING
    const char *path = getenv("EDUBRAIN_TEST_CLOCK_FILE");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f) {
        char line[32] = "";
        if (fgets(line, sizeof(line), f))
            now += strtoll(line, NULL, 10);
        fclose(f);
    }
#endif
    return now;
}

/* The first local time at the minute of the day strictly after now. */
static int64_t next_at(int64_t now, int minute)
{
    time_t t = (time_t)now;
    struct tm tm;
    localtime_r(&t, &tm);
    tm.tm_hour = minute / 60;
    tm.tm_min = minute % 60;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t at = mktime(&tm);
    while (at <= t) {
        /* mktime normalises the 32nd of a month, and a day across a DST change. */
        tm.tm_mday++;
        tm.tm_hour = minute / 60;
        tm.tm_min = minute % 60;
        tm.tm_isdst = -1;
        at = mktime(&tm);
    }
    return (int64_t)at;
}

struct eb_quality_sched {
    struct eb_app *app;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
};

/* One tick a second: the test clock may jump, and a stop request is answered within it. */
#define TICK_S 1

static void run_nightly(struct eb_quality_sched *s, int64_t due)
{
    char day[11];
    time_t t = (time_t)due;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    struct eb_db *db = eb_store_acquire(s->app->store);
    int n_runs = 0;
    int64_t n_findings = 0;
    int64_t t0 = (int64_t)time(NULL);
    int rc = eb_store_quality_nightly(db, day, &n_runs, &n_findings);
    eb_store_release(s->app->store, db);
    if (rc != 0)
        eb_error("quality: the nightly run of %s failed: %s", day, eb_strerror(rc));
    else if (n_runs == 0)
        eb_info("quality: the nightly run of %s was made by another server", day);
    else
        eb_info("quality: nightly run of %s: %lld findings in %lld s", day, (long long)n_findings,
                (long long)((int64_t)time(NULL) - t0));
}

static void *sched_main(void *arg)
{
    struct eb_quality_sched *s = arg;
    int minute = s->app->quality_at - 1;
    int64_t next = next_at(sched_now(), minute);
    s->app->quality_next_at = next;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += TICK_S;
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->lock);
        int64_t now = sched_now();
        if (now >= next) {
            run_nightly(s, next);
            /* Runs missed while the server was down (or the clock jumped) are not repeated. */
            next = next_at(sched_now(), minute);
            s->app->quality_next_at = next;
        }
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int eb_quality_sched_start(struct eb_app *app, struct eb_quality_sched **out)
{
    *out = NULL;
    if (app->quality_at <= 0)
        return 0;
    struct eb_quality_sched *s = eb_xcalloc(1, sizeof(*s));
    s->app = app;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        eb_free(s);
        return EB_EINTERNAL;
    }
    *out = s;
    return 0;
}

void eb_quality_sched_stop(struct eb_quality_sched *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    eb_free(s);
}

/* ---- edubrain quality -------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: edubrain quality run --db PATH_OR_URL [--key-file PATH] [--org ID] [--json]\n"
          "\n"
          "  run               run every data-quality check over the subtree of --org (default:\n"
          "                    the whole city) and replace its findings; prints the counts\n"
          "  --db PATH_OR_URL  the database (a SQLite file or a postgres:// URL)\n"
          "  --key-file PATH   the citizen-ID key (default: PATH.key beside a SQLite file)\n"
          "  --org ID          the node whose subtree is checked\n"
          "  --json            the run as JSON\n"
          "\n"
          "The server runs the same checks every night: serve --quality-at HH:MM (default\n"
          "02:00, local time) or --quality-at off.\n"
          "exit status: 0 the run finished (whatever it found), 1 it failed, 2 bad usage\n",
          f);
}

static void print_run(const struct eb_quality_run *run, int json)
{
    const struct eb_quality_check *checks = eb_quality_checks();
    double secs = (double)(run->finished_at - run->started_at) / 1000.0;
    if (json) {
        printf("{\"id\":%lld,\"org_id\":%lld,\"findings\":%lld,\"people\":%lld,\"classes\":%lld,"
               "\"schools\":%lld,\"seconds\":%.3f,\"counts\":{",
               (long long)run->id, (long long)run->org_id, (long long)run->n_findings,
               (long long)run->n_people, (long long)run->n_classes, (long long)run->n_schools,
               secs);
        for (int i = 0; i < EB_QC_COUNT; i++)
            printf("%s\"%s\":%lld", i ? "," : "", checks[i].code, (long long)run->counts[i]);
        printf("}}\n");
        return;
    }
    printf("org %lld: %lld people, %lld classes, %lld schools checked in %.3f s\n",
           (long long)run->org_id, (long long)run->n_people, (long long)run->n_classes,
           (long long)run->n_schools, secs);
    for (int i = 0; i < EB_QC_COUNT; i++)
        printf("  %-28s %8lld  %s\n", checks[i].code, (long long)run->counts[i], checks[i].name_zh);
    printf("  %-28s %8lld\n", "total", (long long)run->n_findings);
}

#ifdef EB_TESTING
/*
 * edubrain quality plant (EB_TESTING builds only): writes legacy values into a person the way a
 * bulk load may leave them (a citizen ID with a wrong check digit, another person's ID, a
 * birth date that is not a date), through the store's system caller, which skips the checks of
 * the API, or closes a class that still has students (--org ID --birth-date DATE as the
 * closing date). The end-to-end tests plant their defects with it; release builds lack it.
 */
static int plant(const char *db_arg, const char *key_file, int64_t person, const char *cid,
                 const char *birth, int64_t close_org)
{
    struct eb_store *st = eb_cli_open_store(db_arg, key_file, 0, 1);
    if (st == NULL)
        return 1;
    struct eb_db *db = eb_store_acquire(st);
    struct eb_caller sys = {.system = 1};
    struct eb_person in = {.citizen_id = cid, .birth_date = birth};
    int rc = close_org ? eb_store_quality_test_close(db, close_org, birth)
                       : eb_store_person_update(db, &sys, person, &in);
    eb_store_release(st, db);
    eb_store_close(st);
    if (rc != 0)
        fprintf(stderr, "edubrain quality plant: %s\n", eb_strerror(rc));
    return rc ? 1 : 0;
}
#endif

int eb_cli_quality(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},
        {"key-file", required_argument, 0, 'k'},
        {"org", required_argument, 0, 'o'},
        {"json", no_argument, 0, 'j'},
        {"person", required_argument, 0, 'p'},
        {"citizen-id", required_argument, 0, 'c'},
        {"birth-date", required_argument, 0, 'b'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *db_arg = NULL, *key_file = NULL, *cid = NULL, *birth = NULL;
    int64_t org = 0, person = 0;
    int json = 0, c;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'd':
            db_arg = optarg;
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'o':
        case 'p':
            if (c == 'o')
                org = strtoll(optarg, &end, 10);
            else
                person = strtoll(optarg, &end, 10);
            if (end == optarg || *end != '\0' || (c == 'o' ? org : person) <= 0) {
                fprintf(stderr, "edubrain quality: --%s takes a positive id\n",
                        c == 'o' ? "org" : "person");
                return 2;
            }
            break;
        case 'j':
            json = 1;
            break;
        case 'c':
            cid = optarg;
            break;
        case 'b':
            birth = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (db_arg == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
#ifdef EB_TESTING
    if (strcmp(sub, "plant") == 0) {
        if ((person == 0) == (org == 0) || (cid == NULL && birth == NULL)) {
            fprintf(stderr, "edubrain quality plant: --person or --org, and --citizen-id or"
                            " --birth-date\n");
            return 2;
        }
        return plant(db_arg, key_file, person, cid, birth, org);
    }
#endif
    if (strcmp(sub, "run") != 0 || person != 0 || cid != NULL || birth != NULL) {
        usage(stderr);
        return 2;
    }
    struct eb_store *st = eb_cli_open_store(db_arg, key_file, 0, 1);
    if (st == NULL)
        return 1;
    struct eb_db *db = eb_store_acquire(st);
    struct eb_caller sys = {.system = 1};
    int rc = 0;
    if (org != 0) {
        struct eb_quality_run run;
        rc = eb_store_quality_run(db, &sys, org, "cli", NULL, &run);
        if (rc == 0)
            print_run(&run, json);
    } else {
        /* The whole city: each root of the tree (normally one). */
        struct eb_arena *a = eb_arena_create(0);
        struct eb_org_list roots = {0};
        rc = eb_store_org_children(db, &sys, 0, 0, 16, a, &roots);
        if (rc == 0 && roots.n == 0)
            rc = EB_ENOTFOUND;
        for (size_t i = 0; rc == 0 && i < roots.n; i++) {
            struct eb_quality_run run;
            rc = eb_store_quality_run(db, &sys, roots.items[i].id, "cli", NULL, &run);
            if (rc == 0)
                print_run(&run, json);
        }
        eb_arena_destroy(a);
    }
    eb_store_release(st, db);
    eb_store_close(st);
    if (rc != 0) {
        fprintf(stderr, "edubrain quality run: %s\n", eb_strerror(rc));
        return 1;
    }
    return 0;
}
