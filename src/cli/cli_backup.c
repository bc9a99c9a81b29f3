/* edubrain backup: an online, consistent copy of the database while the server runs. */
#include "cli/cli.h"
#include "core/err.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: edubrain backup --db PATH OUT\n"
          "\n"
          "Copies the database into OUT (which must not exist) while the server keeps running.\n"
          "The copy is consistent: one snapshot of the whole database. Restore by stopping the\n"
          "server and putting OUT (and the key file, kept separately) in place of the database.\n",
          f);
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
    struct eb_store *st = eb_cli_open_store(db, key_file, 0);
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
