/* edubrain backup: an online, consistent copy of the database while the server runs. */
#include "cli/cli.h"
#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: edubrain backup --db PATH OUT\n"
          "\n"
          "Copies the database into OUT (which must not exist) while the server keeps running.\n"
          "The copy is consistent: one snapshot of the whole database. Restore by stopping the\n"
          "server and putting OUT (and the key file, kept separately) in place of the database.\n"
          "\n"
          "A PostgreSQL database (--db postgres://...) is backed up by PostgreSQL's own tool:\n"
          "this runs pg_dump --format=custom --file OUT URL (pg_dump must be on the PATH).\n"
          "Restore with pg_restore into an empty database, e.g. createdb city2 &&\n"
          "pg_restore -d postgres://USER@HOST/city2 OUT, and serve it with the same key file.\n",
          f);
}

static int is_url(const char *s)
{
    return strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0;
}

/* The first executable name on the PATH, into path; 0 when there is none. */
static int on_path(const char *name, char *path, size_t cap)
{
    const char *dirs = getenv("PATH");
    while (dirs && *dirs) {
        size_t n = strcspn(dirs, ":");
        if (n > 0 && (size_t)snprintf(path, cap, "%.*s/%s", (int)n, dirs, name) < cap &&
            access(path, X_OK) == 0)
            return 1;
        dirs += n + (dirs[n] == ':');
    }
    return 0;
}

/*
 * PostgreSQL knows its whole state (sequences, triggers, functions, owners) and pg_dump copies
 * it from one snapshot while servers keep writing; edubrain does not redo that. The custom
 * format is compressed and pg_restore can restore it selectively and in parallel.
 */
static int backup_pg(const char *dsn, const char *out)
{
    char pg_dump[4096];
    fprintf(stderr, "edubrain backup: a PostgreSQL database is backed up with pg_dump\n");
    if (!on_path("pg_dump", pg_dump, sizeof(pg_dump))) {
        fprintf(stderr,
                "edubrain backup: pg_dump is not on the PATH; install the PostgreSQL client\n"
                "(Debian: apt-get install postgresql-client-15) or run it yourself:\n"
                "  pg_dump --format=custom --file %s URL\n",
                out);
        return 1;
    }
    fprintf(stderr, "edubrain backup: running %s --format=custom --file %s <the --db URL>\n",
            pg_dump, out);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "edubrain backup: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        /* The DSN goes through --dbname so that a URL is never taken for an option. */
        char fmt[] = "--format=custom", file[] = "--file", dbname[] = "--dbname";
        char *const args[] = {pg_dump, fmt, file, eb_xstrdup(out), dbname, eb_xstrdup(dsn), NULL};
        execv(pg_dump, args);
        fprintf(stderr, "edubrain backup: cannot run %s: %s\n", pg_dump, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "edubrain backup: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "edubrain backup: pg_dump failed (%s %d)\n",
                WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        unlink(out);
        return 1;
    }
    fprintf(stderr,
            "edubrain backup: wrote %s (the citizen-ID key file is not in it: keep "
            "a copy of it separately)\n",
            out);
    return 0;
}

int eb_cli_backup(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},
        {"key-file", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *db = NULL, *key_file = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'k')
            key_file = optarg;
        else if (c == 'h')
            return usage(stdout), 0;
        else
            return usage(stderr), 2;
    }
    if (!db || optind != argc - 1)
        return usage(stderr), 2;
    const char *out = argv[optind];
    if (access(out, F_OK) == 0) {
        fprintf(stderr, "edubrain backup: %s already exists\n", out);
        return 1;
    }
    if (is_url(db))
        return backup_pg(db, out);
    struct eb_store *st = eb_cli_open_store(db, key_file, 0, 1);
    if (!st)
        return 1;
    int rc = eb_store_backup(st, out);
    eb_store_close(st);
    if (rc) {
        fprintf(stderr, "edubrain backup: %s\n", eb_strerror(rc));
        return 1;
    }
    fprintf(stderr,
            "edubrain backup: wrote %s (the citizen-ID key file is not in it: keep "
            "a copy of it separately)\n",
            out);
    return 0;
}
