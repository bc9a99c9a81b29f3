/* edubrain migrate: a whole city copied from one database to another (SQLite, PostgreSQL). */
#include "cli/cli.h"
#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: edubrain migrate --from PATH_OR_URL --to PATH_OR_URL [--force]\n"
          "                        [--key-file PATH]\n"
          "\n"
          "Copies a whole city from one database to another, in either direction between\n"
          "SQLite files and PostgreSQL URLs (postgres://USER@HOST:PORT/DB), then reads the\n"
          "target back and compares every table's row count and checksum with the source's.\n"
          "Stop the servers of the target first; the source may stay in use (the copy reads\n"
          "one snapshot of it).\n"
          "  --from       the source database\n"
          "  --to         the target database: a new or empty SQLite file, or an existing\n"
          "               PostgreSQL database (createdb) that is empty; its schema is created\n"
          "  --force      empty a target that holds rows first (every table, the audit log\n"
          "               included), in the same transaction as the copy\n"
          "  --key-file   the citizen-ID key of the source (default: FROM.key for a SQLite\n"
          "               file; required for PostgreSQL). The citizen IDs are copied sealed,\n"
          "               so the target uses the same key: a SQLite target gets a copy of it\n"
          "               as TO.key, a PostgreSQL target is served with this --key-file.\n"
          "Exit status: 0 copied and verified, 1 refused or failed or a table differs.\n",
          f);
}

static int is_url(const char *s)
{
    return strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0;
}

/* A URL may carry a password: only its scheme and host part are worth showing. */
static void describe(const char *dsn, char *out, size_t cap)
{
    if (!is_url(dsn)) {
        snprintf(out, cap, "SQLite %s", dsn);
        return;
    }
    const char *host = strchr(dsn, '@');
    host = host ? host + 1 : strstr(dsn, "//") + 2;
    snprintf(out, cap, "PostgreSQL %.*s", (int)strcspn(host, "?"), host);
}

static int read_key(const char *path, unsigned char key[32])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return EB_EIO;
    ssize_t n = read(fd, key, 32);
    close(fd);
    return n == 32 ? 0 : EB_EIO;
}

/*
 * A SQLite target gets the source's key beside it as TO.key (mode 0600) when it has none: the
 * citizen IDs are copied sealed with that key. An existing one is left alone; the store then
 * refuses a key that differs.
 */
static int place_target_key(const char *key_file, const char *to, int *created)
{
    unsigned char key[32];
    char path[4096];
    *created = 0;
    if (snprintf(path, sizeof(path), "%s.key", to) >= (int)sizeof(path))
        return EB_EINVAL;
    if (access(path, F_OK) == 0)
        return 0;
    if (read_key(key_file, key) != 0) {
        fprintf(stderr, "edubrain migrate: cannot read the key file %s\n", key_file);
        return EB_EIO;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = 0;
    if (fd < 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) != 0) {
        fprintf(stderr, "edubrain migrate: cannot write %s: %s\n", path, strerror(errno));
        rc = EB_EIO;
        if (fd >= 0)
            unlink(path);
    } else {
        *created = 1;
    }
    if (fd >= 0)
        close(fd);
    memset(key, 0, sizeof(key));
    return rc;
}

struct progress {
    int tty;
    char table[64];
    const char *phase;
};

static void on_progress(void *arg, const char *phase, const char *table, int64_t done,
                        int64_t total)
{
    struct progress *p = arg;
    int end = done >= total;
    /* A terminal gets one line per table, rewritten in place; a log gets the finished ones. */
    if (p->tty) {
        fprintf(stderr, "\r  %-6s %-20s %12lld / %-12lld%s", phase, table, (long long)done,
                (long long)total, end ? "\n" : "");
    } else if (end) {
        fprintf(stderr, "  %-6s %-20s %12lld / %lld\n", phase, table, (long long)done,
                (long long)total);
    }
    fflush(stderr);
    snprintf(p->table, sizeof(p->table), "%s", table);
    p->phase = phase;
}

static void print_report(const struct eb_copy_report *r)
{
    printf("%-20s %12s %12s  %-64s  %s\n", "table", "source rows", "target rows",
           "checksum (sha256 sum of rows)", "");
    for (size_t i = 0; i < r->n_tables; i++) {
        const struct eb_copy_table *t = &r->tables[i];
        int same = t->rows_src == t->rows_dst && strcmp(t->sum_src, t->sum_dst) == 0;
        printf("%-20s %12lld %12lld  %-64s  %s\n", t->name, (long long)t->rows_src,
               (long long)t->rows_dst, t->sum_src, same ? "ok" : "MISMATCH");
        if (!same)
            printf("%-20s %12s %12s  %-64s  (target)\n", "", "", "", t->sum_dst);
    }
}

int eb_cli_migrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, 0, 'f'}, {"to", required_argument, 0, 't'},
        {"force", no_argument, 0, 'F'},      {"key-file", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0},
    };
    const char *from = NULL, *to = NULL, *key_file = NULL;
    int force = 0, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'F':
            force = 1;
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
    if (!from || !to || optind != argc)
        return usage(stderr), 2;
    if (strcmp(from, to) == 0) {
        fprintf(stderr, "edubrain migrate: --from and --to name the same database\n");
        return 2;
    }
    char src_key[4096];
    if (!key_file) {
        if (is_url(from)) {
            fprintf(stderr, "edubrain migrate: a PostgreSQL source needs --key-file (its "
                            "citizen-ID key)\n");
            return 2;
        }
        snprintf(src_key, sizeof(src_key), "%s.key", from);
        key_file = src_key;
    }
    if (!is_url(from) && access(from, F_OK) != 0) {
        fprintf(stderr, "edubrain migrate: %s does not exist\n", from);
        return 1;
    }
    if (access(key_file, R_OK) != 0) {
        fprintf(stderr, "edubrain migrate: cannot read the key file %s\n", key_file);
        return 1;
    }
    int target_new = !is_url(to) && access(to, F_OK) != 0, key_created = 0;
    if (!is_url(to) && place_target_key(key_file, to, &key_created) != 0)
        return 1;

    char a[256], b[256];
    describe(from, a, sizeof(a));
    describe(to, b, sizeof(b));
    fprintf(stderr, "edubrain migrate: %s -> %s%s\n", a, b, force ? " (--force)" : "");
    struct progress prog = {.tty = isatty(STDERR_FILENO)};
    struct eb_copy_options o = {
        .src_key_file = key_file,
        .dst_key_file = is_url(to) ? key_file : NULL,
        .force = force,
        .progress = on_progress,
        .progress_arg = &prog,
    };
    struct eb_copy_report r;
    int rc = eb_store_copy(from, to, &o, &r);
    if (prog.tty && prog.phase)
        fputc('\n', stderr);
    if (r.n_tables > 0 && (rc == 0 || rc == EB_ECONFLICT))
        print_report(&r);
    if (rc == 0) {
        fprintf(stderr,
                "edubrain migrate: %lld rows in %zu tables (schema version %d) copied in "
                "%.1f s, verified in %.1f s: every count and checksum matches\n",
                (long long)r.rows, r.n_tables, r.schema_version, r.copy_s, r.verify_s);
        if (is_url(to))
            fprintf(stderr, "edubrain migrate: serve the target with --key-file %s\n", key_file);
    } else {
        fprintf(stderr, "edubrain migrate: %s\n", r.message[0] ? r.message : eb_strerror(rc));
        /* A target this command created and could not fill goes away again. */
        if (target_new && rc != EB_ECONFLICT) {
            const char *sfx[] = {"", "-wal", "-shm", "-journal"};
            for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
                char p[4096];
                snprintf(p, sizeof(p), "%s%s", to, sfx[i]);
                unlink(p);
            }
        }
        if (key_created && rc != EB_ECONFLICT) {
            char p[4096];
            snprintf(p, sizeof(p), "%s.key", to);
            unlink(p);
        }
    }
    eb_copy_report_free(&r);
    return rc == 0 ? 0 : 1;
}
