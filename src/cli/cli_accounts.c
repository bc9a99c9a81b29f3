/* edubrain accounts create|reissue: accounts with one-time codes for a whole tree, from the shell.
 */
#include "cli/cli.h"
#include "core/err.h"
#include "store/store.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs(
        "usage: edubrain accounts create --db PATH --org ORG_ID [--out FILE.csv] [--key-file F]\n"
        "       edubrain accounts reissue --db PATH --org ORG_ID [--out FILE.csv] [--key-file F]\n"
        "\n"
        "create: an account for every current student and teacher under ORG_ID who has none\n"
        "(students: student at the class; teachers: teacher at the school, head_teacher at the\n"
        "classes they head), each with a one-time code as its first password.\n"
        "reissue: new codes for the accounts under ORG_ID not yet activated (old codes stop\n"
        "working).\n"
        "The codes are written once, to --out (created with mode 0600, must not exist) as CSV:\n"
        "kind,class_id,class_name,person_id,name,login,code. Without --out only counts are\n"
        "printed and the codes are lost (re-issue them later).\n",
        f);
}

struct out {
    FILE *f;
};

/* CSV fields never hold a comma or quote except in names, which are quoted. */
static void put_field(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void emit(void *arg, const struct eb_activation_item *it)
{
    struct out *o = arg;
    if (o->f == NULL)
        return;
    fprintf(o->f, "%s,%lld,", it->kind, (long long)it->class_id);
    put_field(o->f, it->class_name);
    fprintf(o->f, ",%lld,", (long long)it->person_id);
    put_field(o->f, it->name);
    fprintf(o->f, ",%s,%s\n", it->login, it->code);
}

int eb_cli_accounts(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},  {"org", required_argument, 0, 'o'},
        {"out", required_argument, 0, 'O'}, {"key-file", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},      {0, 0, 0, 0},
    };
    const char *db_path = NULL, *out_path = NULL, *key_file = NULL;
    int64_t org = 0;
    int c, rc;
    char *end;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    enum eb_activation_mode mode;
    if (strcmp(sub, "create") == 0)
        mode = EB_ACTIVATION_CREATE;
    else if (strcmp(sub, "reissue") == 0)
        mode = EB_ACTIVATION_REISSUE;
    else {
        fprintf(stderr, "edubrain accounts: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return 2;
    }
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db_path = optarg;
            break;
        case 'O':
            out_path = optarg;
            break;
        case 'k':
            key_file = optarg;
            break;
        case 'o': {
            long long v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v <= 0) {
                fprintf(stderr, "edubrain accounts: --org takes a positive id\n");
                return 2;
            }
            org = v;
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
    if (db_path == NULL || org == 0) {
        usage(stderr);
        return 2;
    }
    struct out o = {0};
    if (out_path != NULL) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 || (o.f = fdopen(fd, "w")) == NULL) {
            perror(out_path);
            if (fd >= 0)
                close(fd);
            return 1;
        }
        fputs("kind,class_id,class_name,person_id,name,login,code\n", o.f);
    }
    struct eb_store *st = eb_cli_open_store(db_path, key_file, 0, 1);
    if (st == NULL) {
        if (o.f)
            fclose(o.f);
        return 1;
    }
    struct eb_caller sys = {.system = 1, .client_addr = "cli"};
    struct eb_db *db = eb_store_acquire(st);
    struct timespec t0, t1;
    int64_t n = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = eb_store_accounts_bulk(db, &sys, org, mode, emit, &o, &n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    eb_store_release(st, db);
    eb_store_close(st);
    if (o.f && fclose(o.f) != 0 && rc == 0)
        rc = EB_EIO;
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%s %lld accounts in %.1f s\n", mode == EB_ACTIVATION_CREATE ? "created" : "re-issued",
           (long long)n, s);
    if (rc != 0) {
        fprintf(stderr, "edubrain accounts: %s (the accounts counted above were committed)\n",
                eb_strerror(rc));
        return 1;
    }
    return 0;
}
