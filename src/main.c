/* edubrain: one binary, many subcommands. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("edubrain: the city smart-education platform\n"
          "\n"
          "usage: edubrain COMMAND [OPTIONS]   (edubrain COMMAND --help for its options)\n"
          "\n"
          "commands:\n"
          "  serve    serve the platform over HTTP\n"
          "  demo     create a database holding a synthetic city\n"
          "  user     add accounts, set passwords, list accounts\n"
          "  backup   an online, consistent copy of the database\n"
          "  migrate  copy a whole city to another database (SQLite, PostgreSQL)\n"
          "  accounts accounts with one-time codes for every student and teacher of a tree\n"
          "  keys     rotate and list the OpenID Connect signing keys\n"
          "  app      register the portal's apps (OpenID Connect clients)\n"
          "  oneroster check a OneRoster 1.1 CSV package (directory or .zip)\n"
          "  import   import oneroster: write a OneRoster 1.1 package into the database;\n"
          "           import roster: a filled roster template (CSV or xlsx) into a school\n"
          "  export   export oneroster: a OneRoster 1.1 package of a city, district or school\n"
          "  promote  the year-end promotion of every school (or of one subtree)\n"
          "  quality  run the data-quality checks over a subtree\n"
          "  feeds    run the brain's registry feeds (class sizes, teachers, accounts) once\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return eb_cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return eb_cli_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0)
        return eb_cli_user(argc - 1, argv + 1);
    if (strcmp(cmd, "backup") == 0)
        return eb_cli_backup(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0)
        return eb_cli_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "app") == 0)
        return eb_cli_app(argc - 1, argv + 1);
    if (strcmp(cmd, "accounts") == 0)
        return eb_cli_accounts(argc - 1, argv + 1);
    if (strcmp(cmd, "keys") == 0)
        return eb_cli_keys(argc - 1, argv + 1);
    if (strcmp(cmd, "oneroster") == 0)
        return eb_cli_oneroster(argc - 1, argv + 1);
    if (strcmp(cmd, "import") == 0)
        return eb_cli_import(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return eb_cli_export(argc - 1, argv + 1);
    if (strcmp(cmd, "feeds") == 0)
        return eb_cli_feeds(argc - 1, argv + 1);
    if (strcmp(cmd, "promote") == 0)
        return eb_cli_promote(argc - 1, argv + 1);
    if (strcmp(cmd, "quality") == 0)
        return eb_cli_quality(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "edubrain: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
