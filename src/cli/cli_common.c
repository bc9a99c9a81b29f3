/* Helpers shared by the subcommands. */
#include "cli/cli.h"
#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct eb_store *eb_cli_open_store(const char *db, const char *key_file, int create, int pool_size)
{
    struct eb_store_options opt = {
        .pool_size = pool_size, .busy_timeout_ms = 10000, .create = create, .key_file = key_file};
    struct eb_store *st = NULL;
    int rc = eb_store_open(db, &opt, &st);
    if (rc) {
        fprintf(stderr, "edubrain: cannot open database %s: %s\n", db, eb_strerror(rc));
        return NULL;
    }
    return st;
}

char *eb_cli_read_password(const char *arg)
{
    if (strcmp(arg, "-") != 0)
        return eb_xstrdup(arg);
    char line[512];
    if (!fgets(line, sizeof(line), stdin))
        return NULL;
    line[strcspn(line, "\r\n")] = '\0';
    return eb_xstrdup(line);
}

int eb_cli_parse_org(const char *arg, const char *cmd, int64_t *org)
{
    char *end = NULL;
    long long v = strtoll(arg, &end, 10);
    if (!*arg || *end || v <= 0) {
        fprintf(stderr, "edubrain %s: --org takes an org id\n", cmd);
        return 2;
    }
    *org = v;
    return 0;
}
