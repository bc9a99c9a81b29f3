/* Subcommands of the edubrain binary; each parses its own options and prints --help. */
#ifndef EB_CLI_H
#define EB_CLI_H

#include <stdint.h>

int eb_cli_serve(int argc, char **argv);
int eb_cli_demo(int argc, char **argv);
int eb_cli_user(int argc, char **argv);
int eb_cli_backup(int argc, char **argv);
int eb_cli_migrate(int argc, char **argv);
int eb_cli_app(int argc, char **argv);
int eb_cli_accounts(int argc, char **argv); /* cli_accounts.c */
int eb_cli_keys(int argc, char **argv);
int eb_cli_oneroster(int argc, char **argv);            /* cli_oneroster.c */
int eb_cli_import(int argc, char **argv);               /* cli_import.c: import oneroster */
int eb__cli_import_roster(int argc, char **argv);       /* cli_import_roster.c: import roster */
int eb__cli_import_observations(int argc, char **argv); /* cli_observations.c */
int eb__cli_import_geojson(int argc, char **argv);      /* cli_geojson.c: import geojson */
int eb_cli_export(int argc, char **argv);               /* cli_export.c: export oneroster */
int eb_cli_promote(int argc, char **argv);              /* cli_promote.c: the year-end promotion */
int eb_cli_quality(int argc, char **argv);              /* cli_quality.c */
int eb_cli_feeds(int argc, char **argv);                /* cli_feeds.c: feeds run */

/* The nightly data-quality run of `serve --quality-at` (cli_quality.c): a thread that runs the
 * checks over every root of the org tree once a day at the app's quality_at minute. */
struct eb_app;
struct eb_quality_sched;
/** Parses "HH:MM" (or "off": *minute_plus_one = 0). EB_EINVAL otherwise. */
int eb_quality_parse_at(const char *text, int *minute_plus_one /* out */);
/** Starts the thread when app->quality_at is set (else *out = NULL). */
int eb_quality_sched_start(struct eb_app *app, struct eb_quality_sched **out);
/** Stops and joins the thread (waits for a run in progress). NULL is fine. */
void eb_quality_sched_stop(struct eb_quality_sched *s);

/**
 * Opens the store for a CLI command with pool_size connections (the server: one per worker
 * thread, since a request holds one for its whole life); prints the error and returns NULL on
 * failure.
 */
struct eb_store *eb_cli_open_store(const char *db, const char *key_file, int create, int pool_size);
/** Reads a password: the value itself, or a line from standard input when it is "-". Returns a
 * malloc'd string or NULL. */
char *eb_cli_read_password(const char *arg);
/** Parses the value of --org (a positive id) into *org; on a bad value prints
 * "edubrain CMD: --org takes an org id" and returns 2, the commands' usage status. */
int eb_cli_parse_org(const char *arg, const char *cmd, int64_t *org);

#endif
