/* Subcommands of the edubrain binary; each parses its own options and prints --help. */
#ifndef EB_CLI_H
#define EB_CLI_H

int eb_cli_serve(int argc, char **argv);
int eb_cli_demo(int argc, char **argv);
int eb_cli_user(int argc, char **argv);
int eb_cli_backup(int argc, char **argv);
int eb_cli_migrate(int argc, char **argv);
int eb_cli_app(int argc, char **argv);
int eb_cli_accounts(int argc, char **argv); /* cli_accounts.c */
int eb_cli_keys(int argc, char **argv);
int eb_cli_oneroster(int argc, char **argv); /* cli_oneroster.c */

/**
 * Opens the store for a CLI command with pool_size connections (the server: one per worker
 * thread, since a request holds one for its whole life); prints the error and returns NULL on
 * failure.
 */
struct eb_store *eb_cli_open_store(const char *db, const char *key_file, int create, int pool_size);
/** Reads a password: the value itself, or a line from standard input when it is "-". Returns a
 * malloc'd string or NULL. */
char *eb_cli_read_password(const char *arg);

#endif
