/* edubrain app add|list|rm: registering the apps (OIDC clients) of the portal from the shell. */
#include "cli/cli.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "oidc/oidc.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define MAX_URIS 16

static void usage(FILE *f)
{
    fputs("usage: edubrain app add --db PATH --name NAME --client-id ID --redirect-uri URI...\n"
          "                        [--secret SECRET | --public] [--first-party] [--org ORG_ID]\n"
          "                        [--launch-url URL] [--post-logout-uri URI]...\n"
          "                        [--backchannel-logout-uri URI] [--alg RS256|ES256|EdDSA]\n"
          "                        [--category C] [--description D] [--icon URL]\n"
          "                        [--roster-read]\n"
          "       edubrain app list --db PATH\n"
          "       edubrain app rm --db PATH --client-id ID\n"
          "\n"
          "Redirect URIs are matched byte for byte; repeat --redirect-uri for several.\n"
          "A confidential app without --secret gets a generated one, printed once. A secret\n"
          "of '-' is read from standard input (keeps it out of the process list). --org is the\n"
          "org the app belongs to (default 1, the city): its users see the app.\n"
          "--roster-read lets a confidential app read the rosters of that org's subtree\n"
          "(orgs, classes, people; never ID numbers) with a client_credentials token.\n",
          f);
}

struct args {
    const char *db, *key_file, *name, *client_id, *secret, *launch_url, *bc_uri, *alg;
    const char *category, *description, *icon;
    const char *uris[MAX_URIS], *pl_uris[MAX_URIS];
    int n_uris, n_pl_uris, is_public, first_party, roster_read;
    int64_t org;
};

static int parse(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},
        {"key-file", required_argument, 0, 'k'},
        {"name", required_argument, 0, 'n'},
        {"client-id", required_argument, 0, 'c'},
        {"redirect-uri", required_argument, 0, 'r'},
        {"post-logout-uri", required_argument, 0, 'p'},
        {"secret", required_argument, 0, 's'},
        {"public", no_argument, 0, 'P'},
        {"first-party", no_argument, 0, 'F'},
        {"org", required_argument, 0, 'o'},
        {"launch-url", required_argument, 0, 'l'},
        {"backchannel-logout-uri", required_argument, 0, 'b'},
        {"alg", required_argument, 0, 'a'},
        {"category", required_argument, 0, 'C'},
        {"description", required_argument, 0, 'D'},
        {"icon", required_argument, 0, 'I'},
        {"roster-read", no_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    char *end;
    a->org = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->db = optarg;
            break;
        case 'k':
            a->key_file = optarg;
            break;
        case 'n':
            a->name = optarg;
            break;
        case 'c':
            a->client_id = optarg;
            break;
        case 'r':
        case 'p': {
            int *n = c == 'r' ? &a->n_uris : &a->n_pl_uris;
            if (*n >= MAX_URIS)
                return fprintf(stderr, "edubrain app: at most %d URIs\n", MAX_URIS), 2;
            (c == 'r' ? a->uris : a->pl_uris)[(*n)++] = optarg;
            break;
        }
        case 's':
            a->secret = optarg;
            break;
        case 'P':
            a->is_public = 1;
            break;
        case 'F':
            a->first_party = 1;
            break;
        case 'R':
            a->roster_read = 1;
            break;
        case 'o': {
            long long v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v <= 0)
                return fprintf(stderr, "edubrain app: --org takes a positive id\n"), 2;
            a->org = v;
            break;
        }
        case 'l':
            a->launch_url = optarg;
            break;
        case 'b':
            a->bc_uri = optarg;
            break;
        case 'a':
            a->alg = optarg;
            break;
        case 'C':
            a->category = optarg;
            break;
        case 'D':
            a->description = optarg;
            break;
        case 'I':
            a->icon = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
    }
    return 0;
}

/* Joins n strings with newlines into a malloc'd string; NULL when one holds a line break. */
static char *join_lines(const char *const *v, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++) {
        if (strpbrk(v[i], "\r\n") || !v[i][0])
            return NULL;
        len += strlen(v[i]) + 1;
    }
    char *out = eb_xmalloc(len);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        if (i)
            out[o++] = '\n';
        memcpy(out + o, v[i], l);
        o += l;
    }
    out[o] = '\0';
    return out;
}

static int app_add(struct eb_store *st, const struct args *a)
{
    char *uris = NULL, *pl = NULL, *secret = NULL;
    char generated[64], hash[65];
    int rc = 2;
    if (!a->name || !a->client_id || a->n_uris == 0) {
        fputs("edubrain app add: --name, --client-id and --redirect-uri are required\n", stderr);
        goto done;
    }
    if (a->is_public && a->secret) {
        fputs("edubrain app add: --secret and --public exclude each other\n", stderr);
        goto done;
    }
    uris = join_lines(a->uris, a->n_uris);
    pl = join_lines(a->pl_uris, a->n_pl_uris);
    if (!uris || !pl) {
        fputs("edubrain app add: a URI may not be empty or hold a line break\n", stderr);
        goto done;
    }
    if (!a->is_public) {
        if (a->secret) {
            secret = eb_cli_read_password(a->secret);
            if (!secret || strlen(secret) < 32) {
                fputs("edubrain app add: a client secret needs at least 32 characters\n", stderr);
                goto done;
            }
        } else {
            unsigned char raw[32];
            randombytes_buf(raw, sizeof(raw));
            sodium_bin2base64(generated, sizeof(generated), raw, sizeof(raw),
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        }
        eb_oidc_secret_hash(secret ? secret : generated, hash);
    }
    struct eb_oidc_client c = {
        .client_id = a->client_id,
        .name = a->name,
        .icon = a->icon,
        .category = a->category,
        .description = a->description,
        .launch_url = a->launch_url,
        .redirect_uris = uris,
        .post_logout_uris = pl,
        .secret_hash = a->is_public ? NULL : hash,
        .is_public = a->is_public,
        .first_party = a->first_party,
        .id_token_alg = a->alg ? a->alg : "RS256",
        .backchannel_logout_uri = a->bc_uri,
        .org_id = a->org,
        .roster_read = a->roster_read,
    };
    struct eb_caller sys = {.system = 1, .client_addr = "cli"};
    struct eb_db *db = eb_store_acquire(st);
    int err = eb_store_oidc_client_create(db, &sys, &c);
    eb_store_release(st, db);
    if (err == EB_EEXIST || err == EB_ECONFLICT)
        fprintf(stderr, "edubrain app add: client id '%s' is taken\n", a->client_id);
    else if (err == EB_ENOTFOUND)
        fprintf(stderr, "edubrain app add: no org %lld\n", (long long)a->org);
    else if (err == EB_EINVAL)
        fputs("edubrain app add: invalid settings (check --alg)\n", stderr);
    else if (err)
        fprintf(stderr, "edubrain app add: %s\n", eb_strerror(err));
    else {
        printf("app %s: %s (%s%s)\n", a->client_id, a->name,
               a->is_public ? "public" : "confidential", a->first_party ? ", first party" : "");
        if (!a->is_public && !a->secret)
            printf("client_secret: %s\n", generated);
    }
    rc = err ? 1 : 0;
done:
    if (secret)
        sodium_memzero(secret, strlen(secret));
    eb_free(secret);
    sodium_memzero(generated, sizeof(generated));
    eb_free(uris);
    eb_free(pl);
    return rc;
}

static int app_list(struct eb_store *st)
{
    struct eb_caller sys = {.system = 1};
    struct eb_arena *ar = eb_arena_create(0);
    struct eb_db *db = eb_store_acquire(st);
    size_t n = 0;
    struct eb_oidc_client *items = NULL;
    int rc = eb_store_oidc_client_list(db, &sys, ar, &n, &items);
    eb_store_release(st, db);
    if (rc == 0) {
        printf("%-24s %-12s %-6s %-5s %s\n", "client_id", "type", "alg", "org", "name");
        for (size_t i = 0; i < n; i++)
            printf("%-24s %-12s %-6s %-5lld %s\n", items[i].client_id,
                   items[i].is_public ? "public" : "confidential", items[i].id_token_alg,
                   (long long)items[i].org_id, items[i].name);
    } else {
        fprintf(stderr, "edubrain app list: %s\n", eb_strerror(rc));
    }
    eb_arena_destroy(ar);
    return rc ? 1 : 0;
}

static int app_rm(struct eb_store *st, const struct args *a)
{
    if (!a->client_id) {
        fputs("edubrain app rm: --client-id is required\n", stderr);
        return 2;
    }
    struct eb_caller sys = {.system = 1, .client_addr = "cli"};
    struct eb_db *db = eb_store_acquire(st);
    int rc = eb_store_oidc_client_delete(db, &sys, a->client_id);
    eb_store_release(st, db);
    if (rc == EB_ENOTFOUND)
        fprintf(stderr, "edubrain app rm: no app '%s'\n", a->client_id);
    else if (rc)
        fprintf(stderr, "edubrain app rm: %s\n", eb_strerror(rc));
    else
        printf("app %s removed\n", a->client_id);
    return rc ? 1 : 0;
}

int eb_cli_app(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    struct args a = {0};
    int rc = parse(argc - 1, argv + 1, &a);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!a.db) {
        fputs("edubrain app: --db is required\n", stderr);
        return 2;
    }
    if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "rm")) {
        fprintf(stderr, "edubrain app: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    struct eb_store *st = eb_cli_open_store(a.db, a.key_file, 0, 1);
    if (!st)
        return 1;
    if (strcmp(sub, "add") == 0)
        rc = app_add(st, &a);
    else if (strcmp(sub, "list") == 0)
        rc = app_list(st);
    else
        rc = app_rm(st, &a);
    eb_store_close(st);
    return rc;
}
