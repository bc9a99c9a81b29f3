/* edubrain keys: rotate and list the OpenID Connect signing keys. */
#include "auth/keys.h"
#include "cli/cli.h"
#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f)
{
    fputs("usage: edubrain keys rotate --db PATH [--key-file PATH] [--publish-s SECONDS]\n"
          "       edubrain keys list --db PATH [--key-file PATH]\n"
          "\n"
          "  rotate             add the next key of every algorithm (RS256, ES256, EdDSA): it is\n"
          "                     published at once and signs after --publish-s seconds (default\n"
          "                     900, so every server and relying party has fetched it by then);\n"
          "                     the keys it replaces stay published for 24 hours after that\n"
          "  list               the published keys and their state\n"
          "  --db PATH          the database (a SQLite file or a postgres:// URL)\n"
          "  --key-file PATH    the installation's secret key (default: PATH.key beside the db)\n",
          f);
}

static void fmt_time(int64_t t, char out[32])
{
    if (t == 0) {
        snprintf(out, 32, "-");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int list_keys(struct eb_store *st)
{
    struct eb_arena *a = eb_arena_create(64 * 1024);
    struct eb_signing_key *rows = NULL;
    size_t n = 0;
    int64_t now = (int64_t)time(NULL);
    struct eb_db *db = eb_store_acquire(st);
    int rc = eb_store_keys_list(db, now, 0, a, &n, &rows);
    eb_store_release(st, db);
    if (rc == 0) {
        printf("%-44s %-6s %-8s %-20s %s\n", "KID", "ALG", "STATE", "SIGNS FROM", "REMOVED AT");
        for (size_t i = 0; i < n; i++) {
            /* The signing key of an alg is its latest activated one (rows are in activation
             * order); earlier activated ones are retired, later ones pending. */
            int later_active = 0;
            for (size_t j = i + 1; j < n; j++)
                later_active |=
                    strcmp(rows[j].alg, rows[i].alg) == 0 && rows[j].activates_at <= now;
            const char *state = rows[i].activates_at > now ? "pending"
                                : later_active             ? "retired"
                                                           : "signing";
            char from[32], removes[32];
            fmt_time(rows[i].activates_at, from);
            fmt_time(rows[i].removes_at, removes);
            printf("%-44s %-6s %-8s %-20s %s\n", rows[i].kid, rows[i].alg, state, from, removes);
        }
    }
    eb_arena_destroy(a);
    return rc;
}

int eb_cli_keys(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},
        {"key-file", required_argument, 0, 'k'},
        {"publish-s", required_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *db = NULL, *key_file = NULL;
    int64_t publish_s = EB_KEYS_PUBLISH_S;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    int rotate = strcmp(sub, "rotate") == 0;
    if (!rotate && strcmp(sub, "list") != 0) {
        fprintf(stderr, "edubrain keys: unknown command '%s'\n", sub);
        usage(stderr);
        return 2;
    }
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'p': {
            char *end = NULL;
            long long v = strtoll(optarg, &end, 10);
            if (!rotate || end == optarg || *end != '\0' || v < 0 || v > 30LL * 86400) {
                fprintf(stderr, "edubrain keys: --publish-s must be 0..2592000 (rotate only)\n");
                return 2;
            }
            publish_s = (int64_t)v;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!db || optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    struct eb_store *st = eb_cli_open_store(db, key_file, 0, 1);
    if (!st)
        return 1;
    int rc = 0;
    if (rotate) {
        /* A database without keys gets its first ones (signing at once) before the rotation. */
        struct eb_keys *k = NULL;
        rc = eb_keys_load(st, &k);
        eb_keys_free(k);
        if (rc == 0)
            rc = eb_keys_rotate(st, publish_s);
        if (rc == 0)
            fprintf(stderr,
                    "edubrain keys: new keys published; they sign in %" PRId64
                    " s (servers pick them up within seconds)\n",
                    publish_s);
    }
    if (rc == 0)
        rc = list_keys(st);
    eb_store_close(st);
    if (rc) {
        fprintf(stderr, "edubrain keys: %s\n", eb_strerror(rc));
        return 1;
    }
    return 0;
}
