/* OneRoster 1.1 import into the store and export from it (or_import.c, or_export.c). */
#ifndef EB_ONEROSTER_IO_H
#define EB_ONEROSTER_IO_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/http.h"
#include "oneroster/oneroster.h"
#include "store/store.h"

/*
 * The mapping between OneRoster and the registry, the bulk/delta rules and the import's own
 * findings are described in docs/internals/oneroster.md ("Import" and "Export").
 */

/* What an import counts, per kind of row. */
enum eb_or_count_kind {
    EB_ORC_ORGS,
    EB_ORC_YEARS,
    EB_ORC_GRADES,
    EB_ORC_CLASSES,
    EB_ORC_STUDENTS,
    EB_ORC_TEACHERS,
    EB_ORC_PARENTS,
    EB_ORC_STAFF,
    EB_ORC_POSTS,
    EB_ORC_ENROLMENTS,
    EB_ORC_TEACHING,
    EB_ORC_GUARDIANS,
    EB_ORC_N
};

struct eb_or_counts {
    int64_t created, updated, ended, unchanged;
};

struct eb_or_import_options {
    int64_t root_id;     /* the subtree the package replaces; 0: the city (or none yet) */
    const char *today;   /* YYYY-MM-DD for start and end dates not given; NULL: today (UTC) */
    size_t max_per_code; /* findings kept per file and code (0: 100) */
    /* Called when the phase changes and every few thousand rows; may be NULL. phase is
     * "validating" or "writing". */
    void (*progress)(void *arg, const char *phase, int64_t done, int64_t total);
    void *progress_arg;
};

struct eb_or_import;

/**
 * Imports the package at path (a directory or a .zip) for caller c, in one write transaction
 * on db: the validator's errors reject the package before any write; the import's own errors
 * (rows outside the caller's scope, references found neither in the package nor in the
 * database...) roll everything back. *out (always set, free with eb_or_import_free) holds the
 * report. Returns 0 when the package was written, EB_EINVAL when it was rejected (the report
 * says why), another error for a failure of the database or the files.
 */
int eb_or_import(struct eb_db *db, const struct eb_caller *c, const char *path,
                 const struct eb_or_import_options *opt, struct eb_or_import **out);
void eb_or_import_free(struct eb_or_import *imp);
/** Errors and warnings, the validator's and the import's. */
size_t eb_or_import_errors(const struct eb_or_import *imp);
size_t eb_or_import_warnings(const struct eb_or_import *imp);
/** 1 when the package was committed. */
int eb_or_import_written(const struct eb_or_import *imp);
const struct eb_or_counts *eb_or_import_count(const struct eb_or_import *imp,
                                              enum eb_or_count_kind k);
/** "orgs", "years", ... */
const char *eb_or_count_name(enum eb_or_count_kind k);
/** The validator's report (its findings and files). */
const struct eb_or_report *eb_or_import_report(const struct eb_or_import *imp);
/**
 * The report as JSON: the validator's document (eb_or_report_json) with the import's findings
 * merged into "findings" and "summary", "errors", "warnings" and "ok" recounted, and
 * "written" and "counts": {"orgs": {"created","updated","ended","unchanged"}, ...}.
 */
int eb_or_import_json(const struct eb_or_import *imp, struct eb_buf *out);
/** The text report in lang ("zh" or "en"): findings, counts and a verdict. */
int eb_or_import_text(const struct eb_or_import *imp, const char *lang, struct eb_buf *out);

/* ---- export ---- */

struct eb_or_export_stats {
    int64_t orgs, sessions, courses, classes, users, demographics, enrollments;
};

/**
 * Writes a OneRoster 1.1 bulk package of root_id's subtree (a city, district or school) to
 * out_path: a directory (created when missing) or, when the name ends in ".zip", a zip file.
 * Citizen ID numbers and G student numbers are never written. Needs people-reading access on
 * root_id (EB_ENOTFOUND). A zip is written beside out_path and renamed into place.
 */
int eb_or_export(struct eb_db *db, const struct eb_caller *c, int64_t root_id, const char *out_path,
                 struct eb_or_export_stats *stats /* out, may be NULL */);

/* ---- HTTP (or_routes.c) ---- */

int eb_or_import_start_handler(struct eb_req *r); /* POST /api/v1/imports/oneroster */
int eb_or_import_get_handler(struct eb_req *r);   /* GET /api/v1/imports/oneroster/{id} */
int eb_or_import_xlsx_handler(
    struct eb_req *r);                      /* GET /api/v1/imports/oneroster/{id}/report.xlsx */
int eb_or_export_handler(struct eb_req *r); /* GET /api/v1/orgs/{id}/oneroster.zip */

#endif
