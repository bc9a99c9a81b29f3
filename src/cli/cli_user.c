/* edubrain user add|passwd|reset-totp|list: account administration from the shell. */
#include "auth/auth.h"
#include "cli/cli.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: edubrain user add --db PATH --login L --password P --role ROLE --org ORG_ID\n"
          "                         [--name DISPLAY_NAME] [--person PERSON_ID]\n"
          "       edubrain user passwd --db PATH --login L --password P\n"
          "       edubrain user reset-totp --db PATH --login L\n"
          "       edubrain user list --db PATH\n"
          "\n"
          "A password of '-' is read from standard input (keeps it out of the process list).\n"
          "Roles: city_admin district_admin school_admin head_teacher teacher student parent\n"
          "       analyst; the role covers the org node's subtree.\n"
          "reset-totp removes an account's second factor (a lost phone) and ends its sessions;\n"
          "an administrator enrols a new one at the next login. In the UI a higher\n"
          "administrator does this; the shell is the way for the city's own administrators.\n",
          f);
}

struct args {
    const char *db, *login, *password, *role, *name, *key_file;
    int64_t org, person;
};

static int parse(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},       {"login", required_argument, 0, 'l'},
        {"password", required_argument, 0, 'p'}, {"role", required_argument, 0, 'r'},
        {"org", required_argument, 0, 'o'},      {"name", required_argument, 0, 'n'},
        {"person", required_argument, 0, 'P'},   {"key-file", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->db = optarg;
            break;
        case 'l':
            a->login = optarg;
            break;
        case 'p':
            a->password = optarg;
            break;
        case 'r':
            a->role = optarg;
            break;
        case 'n':
            a->name = optarg;
            break;
        case 'k':
            a->key_file = optarg;
            break;
        case 'o':
        case 'P': {
            long long v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v <= 0)
                return fprintf(stderr, "edubrain user: --%s takes a positive id\n",
                               c == 'o' ? "org" : "person"),
                       2;
            if (c == 'o')
                a->org = v;
            else
                a->person = v;
            break;
        }
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

static int user_add(struct eb_store *st, const struct args *a)
{
    enum eb_role role = eb_role_parse(a->role);
    if (role == EB_ROLE_NONE) {
        fprintf(stderr, "edubrain user add: unknown role '%s'\n", a->role);
        return 2;
    }
    char *pw = eb_cli_read_password(a->password);
    const char *why = NULL;
    if (!pw || eb_auth_password_check_rules(pw, &why)) {
        fprintf(stderr, "edubrain user add: password refused: %s\n", why ? why : "unreadable");
        eb_free(pw);
        return 2;
    }
    char *hash = eb_auth_password_hash(pw);
    eb_free(pw);
    if (!hash)
        return 1;
    struct eb_caller sys = {.system = 1, .client_addr = "cli"};
    struct eb_account acc = {.login = a->login,
                             .display_name = (a->name ? a->name : a->login),
                             .password_hash = hash,
                             .person_id = a->person};
    struct eb_db *db = eb_store_acquire(st);
    int64_t id = 0, gid = 0;
    int rc = eb_db_begin(db);
    if (!rc)
        rc = eb_store_account_create(db, &sys, &acc, &id);
    if (!rc)
        rc = eb_store_grant_add(db, &sys, id, role, a->org, &gid);
    if (!rc)
        rc = eb_db_commit(db);
    else
        eb_db_rollback(db);
    eb_store_release(st, db);
    eb_free(hash);
    if (rc == EB_EEXIST)
        fprintf(stderr, "edubrain user add: login '%s' is taken\n", a->login);
    else if (rc == EB_ENOTFOUND)
        fprintf(stderr, "edubrain user add: no org %lld\n", (long long)a->org);
    else if (rc == EB_EINVAL)
        fprintf(stderr, "edubrain user add: role %s does not fit org %lld\n", a->role,
                (long long)a->org);
    else if (rc)
        fprintf(stderr, "edubrain user add: %s\n", eb_strerror(rc));
    else
        printf("account %lld: %s (%s at org %lld)\n", (long long)id, a->login, a->role,
               (long long)a->org);
    return rc ? 1 : 0;
}

static int user_passwd(struct eb_store *st, const struct args *a)
{
    char *pw = eb_cli_read_password(a->password);
    const char *why = NULL;
    if (!pw || eb_auth_password_check_rules(pw, &why)) {
        fprintf(stderr, "edubrain user passwd: password refused: %s\n", why ? why : "unreadable");
        eb_free(pw);
        return 2;
    }
    char *hash = eb_auth_password_hash(pw);
    eb_free(pw);
    if (!hash)
        return 1;
    struct eb_caller sys = {.system = 1, .client_addr = "cli"};
    struct eb_arena *ar = eb_arena_create(0);
    struct eb_db *db = eb_store_acquire(st);
    struct eb_account acc;
    int rc = eb_store_account_by_login(db, a->login, ar, &acc);
    if (!rc)
        rc = eb_store_account_set_password(db, &sys, acc.id, hash, 0);
    /* A new password ends every session of the account. */
    if (!rc)
        eb_store_session_delete_account(db, acc.id);
    eb_store_release(st, db);
    eb_arena_destroy(ar);
    eb_free(hash);
    if (rc == EB_ENOTFOUND)
        fprintf(stderr, "edubrain user passwd: no login '%s'\n", a->login);
    else if (rc)
        fprintf(stderr, "edubrain user passwd: %s\n", eb_strerror(rc));
    else
        printf("password of %s changed\n", a->login);
    return rc ? 1 : 0;
}

static int user_reset_totp(struct eb_store *st, const struct args *a)
{
    struct eb_caller sys = {.system = 1, .client_addr = "cli"};
    struct eb_arena *ar = eb_arena_create(0);
    struct eb_db *db = eb_store_acquire(st);
    struct eb_account acc;
    int removed = 0;
    int rc = eb_store_account_by_login(db, a->login, ar, &acc);
    if (rc == EB_ENOTFOUND)
        fprintf(stderr, "edubrain user reset-totp: no login '%s'\n", a->login);
    if (!rc)
        rc = eb_store_totp_remove(db, &sys, acc.id, &removed);
    if (!rc) {
        rc = eb_store_session_delete_account(db, acc.id);
        rc = rc == EB_ENOTFOUND ? 0 : rc;
    }
    eb_store_release(st, db);
    eb_arena_destroy(ar);
    if (rc && rc != EB_ENOTFOUND)
        fprintf(stderr, "edubrain user reset-totp: %s\n", eb_strerror(rc));
    else if (!rc)
        printf("%s: %s; sessions ended\n", a->login,
               removed ? "second factor removed" : "had no second factor");
    return rc ? 1 : 0;
}

static int user_list(struct eb_store *st)
{
    struct eb_caller sys = {.system = 1};
    struct eb_db *db = eb_store_acquire(st);
    int64_t after = 0;
    int rc = 0;
    printf("%-8s %-24s %-20s %s\n", "id", "login", "roles", "name");
    do {
        struct eb_arena *ar = eb_arena_create(0);
        size_t n = 0;
        struct eb_account *items = NULL;
        int64_t next = 0;
        rc = eb_store_account_list(db, &sys, after, 500, ar, &n, &items, &next);
        for (size_t i = 0; !rc && i < n; i++) {
            size_t ng = 0;
            struct eb_grant *g = NULL;
            char roles[256] = "";
            if (eb_store_grants_of(db, items[i].id, ar, &ng, &g) == 0)
                for (size_t k = 0; k < ng; k++) {
                    size_t len = strlen(roles);
                    snprintf(roles + len, sizeof(roles) - len, "%s%s@%lld", k ? "," : "",
                             eb_role_name(g[k].role), (long long)g[k].org_id);
                }
            printf("%-8lld %-24s %-20s %s\n", (long long)items[i].id, items[i].login, roles,
                   items[i].display_name ? items[i].display_name : "");
        }
        eb_arena_destroy(ar);
        after = next;
    } while (!rc && after);
    eb_store_release(st, db);
    if (rc)
        fprintf(stderr, "edubrain user list: %s\n", eb_strerror(rc));
    return rc ? 1 : 0;
}

int eb_cli_user(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    struct args a = {0};
    int prc = parse(argc - 1, argv + 1, &a);
    if (prc)
        return prc == 1 ? 0 : prc;
    if (!a.db)
        return usage(stderr), 2;
    int need_add = strcmp(sub, "add") == 0, need_pw = strcmp(sub, "passwd") == 0;
    int need_totp = strcmp(sub, "reset-totp") == 0;
    if (!need_add && !need_pw && !need_totp && strcmp(sub, "list") != 0) {
        fprintf(stderr, "edubrain user: unknown subcommand '%s'\n", sub);
        return 2;
    }
    if ((need_add && (!a.login || !a.password || !a.role || !a.org)) ||
        (need_pw && (!a.login || !a.password)) || (need_totp && !a.login))
        return usage(stderr), 2;
    struct eb_store *st = eb_cli_open_store(a.db, a.key_file, 0, 1);
    if (!st)
        return 1;
    int rc = need_add    ? user_add(st, &a)
             : need_pw   ? user_passwd(st, &a)
             : need_totp ? user_reset_totp(st, &a)
                         : user_list(st);
    eb_store_close(st);
    return rc;
}
