/* OneRoster 1.1 CSV packages (directory or .zip): validation report and row streaming. */
#ifndef EB_ONEROSTER_H
#define EB_ONEROSTER_H

#include <stddef.h>

#include "core/buf.h"

/*
 * A package is read in two passes (docs/internals/oneroster.md):
 *   1. eb_or_validate: the manifest, then every present file in dependency order, each streamed
 *      once through libcsv: headers, field formats, enumerations, bulk/delta rules, duplicate
 *      ids and references between files. Only the id sets needed for those checks are kept.
 *   2. eb_or_read: the same validation, and only when it found no error, a second pass that
 *      hands every row to the caller, file by file in dependency order, so that an importer
 *      can write them inside one transaction. A package with an error is never streamed.
 * The rules and the severity of each finding code are in or_report.c's catalogue and in the
 * table of docs/internals/oneroster.md.
 */

/* The data files, in dependency order: a file only refers to itself and to earlier files. */
enum eb_or_file {
    EB_OR_ORGS,
    EB_OR_ACADEMIC_SESSIONS,
    EB_OR_CATEGORIES,
    EB_OR_COURSES,
    EB_OR_CLASSES,
    EB_OR_USERS,
    EB_OR_DEMOGRAPHICS,
    EB_OR_ENROLLMENTS,
    EB_OR_RESOURCES,
    EB_OR_CLASS_RESOURCES,
    EB_OR_COURSE_RESOURCES,
    EB_OR_LINE_ITEMS,
    EB_OR_RESULTS,
    EB_OR_N_FILES
};

enum eb_or_mode { EB_OR_ABSENT, EB_OR_BULK, EB_OR_DELTA };

/** "orgs.csv" etc.; NULL for an out-of-range value. */
const char *eb_or_file_name(enum eb_or_file f);
/** "absent", "bulk" or "delta". */
const char *eb_or_mode_name(enum eb_or_mode m);

/*
 * Column indexes in the normative order of §1.6 (rows are handed over in this order whatever
 * the order in the file). Every file starts with the three common columns.
 */
enum { EB_OR_COL_SOURCED_ID, EB_OR_COL_STATUS, EB_OR_COL_DATE_LAST_MODIFIED };
enum {
    EB_OR_ORGS_NAME = 3,
    EB_OR_ORGS_TYPE,
    EB_OR_ORGS_IDENTIFIER,
    EB_OR_ORGS_PARENT_SOURCED_ID,
    EB_OR_ORGS_N_COLS
};
enum {
    EB_OR_SESSIONS_TITLE = 3,
    EB_OR_SESSIONS_TYPE,
    EB_OR_SESSIONS_START_DATE,
    EB_OR_SESSIONS_END_DATE,
    EB_OR_SESSIONS_PARENT_SOURCED_ID,
    EB_OR_SESSIONS_SCHOOL_YEAR,
    EB_OR_SESSIONS_N_COLS
};
enum {
    EB_OR_COURSES_SCHOOL_YEAR_SOURCED_ID = 3,
    EB_OR_COURSES_TITLE,
    EB_OR_COURSES_COURSE_CODE,
    EB_OR_COURSES_GRADES,
    EB_OR_COURSES_ORG_SOURCED_ID,
    EB_OR_COURSES_SUBJECTS,
    EB_OR_COURSES_SUBJECT_CODES,
    EB_OR_COURSES_N_COLS
};
enum {
    EB_OR_CLASSES_TITLE = 3,
    EB_OR_CLASSES_GRADES,
    EB_OR_CLASSES_COURSE_SOURCED_ID,
    EB_OR_CLASSES_CLASS_CODE,
    EB_OR_CLASSES_CLASS_TYPE,
    EB_OR_CLASSES_LOCATION,
    EB_OR_CLASSES_SCHOOL_SOURCED_ID,
    EB_OR_CLASSES_TERM_SOURCED_IDS,
    EB_OR_CLASSES_SUBJECTS,
    EB_OR_CLASSES_SUBJECT_CODES,
    EB_OR_CLASSES_PERIODS,
    EB_OR_CLASSES_N_COLS
};
enum {
    EB_OR_USERS_ENABLED_USER = 3,
    EB_OR_USERS_ORG_SOURCED_IDS,
    EB_OR_USERS_ROLE,
    EB_OR_USERS_USERNAME,
    EB_OR_USERS_USER_IDS,
    EB_OR_USERS_GIVEN_NAME,
    EB_OR_USERS_FAMILY_NAME,
    EB_OR_USERS_MIDDLE_NAME,
    EB_OR_USERS_IDENTIFIER,
    EB_OR_USERS_EMAIL,
    EB_OR_USERS_SMS,
    EB_OR_USERS_PHONE,
    EB_OR_USERS_AGENT_SOURCED_IDS,
    EB_OR_USERS_GRADES,
    EB_OR_USERS_PASSWORD,
    EB_OR_USERS_N_COLS
};
enum {
    EB_OR_ENROLLMENTS_CLASS_SOURCED_ID = 3,
    EB_OR_ENROLLMENTS_SCHOOL_SOURCED_ID,
    EB_OR_ENROLLMENTS_USER_SOURCED_ID,
    EB_OR_ENROLLMENTS_ROLE,
    EB_OR_ENROLLMENTS_PRIMARY,
    EB_OR_ENROLLMENTS_BEGIN_DATE,
    EB_OR_ENROLLMENTS_END_DATE,
    EB_OR_ENROLLMENTS_N_COLS
};
enum {
    EB_OR_DEMOGRAPHICS_BIRTH_DATE = 3,
    EB_OR_DEMOGRAPHICS_SEX,
    /* Then the US race/ethnicity booleans and birth places, see eb_or_column_index(). */
};

/** The normative index of column name in file f, or -1. */
int eb_or_column_index(enum eb_or_file f, const char *name);
/** Number of normative columns of f. */
size_t eb_or_column_count(enum eb_or_file f);
/** The name of column i of f, or NULL. */
const char *eb_or_column_name(enum eb_or_file f, size_t i);

/**
 * A boolean value as the validator accepted it: 1 for "true", 0 for "false", also in another
 * case ("TRUE" is accepted with a warning, §1.5); -1 for anything else, the empty string too.
 */
int eb_or_bool(const char *value);

/* ---- Findings ---- */

enum eb_or_severity { EB_OR_ERROR, EB_OR_WARNING };

struct eb_or_finding {
    enum eb_or_severity severity;
    const char *code;   /* stable key, e.g. "enum_case" (catalogue in or_report.c) */
    const char *file;   /* "users.csv", "manifest.csv", "" for the package itself */
    long line;          /* physical line where the record starts (1 = header), 0 = whole file */
    const char *column; /* "" when the finding is not about one column */
    const char *value;  /* the offending value (valid UTF-8, at most ~200 bytes), or "" */
    const char *detail; /* what the message names besides column and value (expected token,
                           target file...), or "" */
};

struct eb_or_report;

/**
 * An empty report. At most max_per_code findings are kept for each (file, code) pair (0 means
 * 100), so a systematic defect in 850k rows stays readable; the counts stay exact.
 */
struct eb_or_report *eb_or_report_create(size_t max_per_code);
void eb_or_report_destroy(struct eb_or_report *r);

size_t eb_or_report_errors(const struct eb_or_report *r);
size_t eb_or_report_warnings(const struct eb_or_report *r);
/** Findings kept (see max_per_code); eb_or_report_get(r, i) for i below it, in report order. */
size_t eb_or_report_count(const struct eb_or_report *r);
const struct eb_or_finding *eb_or_report_get(const struct eb_or_report *r, size_t i);
/** The exact number of findings with code in file ("users.csv"; "" = package level; NULL =
 * any file), kept or not. */
size_t eb_or_report_count_code(const struct eb_or_report *r, const char *file, const char *code);
/** The mode the manifest gave f and the data rows read from it in the last pass. */
enum eb_or_mode eb_or_report_mode(const struct eb_or_report *r, enum eb_or_file f);
size_t eb_or_report_rows(const struct eb_or_report *r, enum eb_or_file f);

/** The finding's message in lang ("zh" or "en"; anything else gives zh) appended to out. */
void eb_or_finding_message(const struct eb_or_finding *f, const char *lang, struct eb_buf *out);

/**
 * The report as JSON: {"ok","errors","warnings","kept","files":[{file,mode,rows}],
 * "summary":[{severity,file,code,count}],"findings":[{severity,file,line,column,code,value,
 * message:{zh,en}}]}. Returns 0 or EB_ETOOBIG (out's limit).
 */
int eb_or_report_json(const struct eb_or_report *r, struct eb_buf *out);
/** One line per kept finding, then counts per code and a verdict, in lang ("zh" or "en"). */
int eb_or_report_text(const struct eb_or_report *r, const char *lang, struct eb_buf *out);

/* ---- Reading ---- */

/** A data row, with fields in normative column order. */
struct eb_or_row {
    enum eb_or_file file;
    enum eb_or_mode mode;
    long line;                 /* physical line where the record starts */
    size_t n_fields;           /* eb_or_column_count(file) */
    const char *const *fields; /* NUL-terminated; "" for an empty value */
    const size_t *lens;        /* byte lengths of fields */
    size_t n_extra;            /* extension columns (metadata.*), in file order */
    const char *const *extra_names;
    const char *const *extra_values;
};

/*
 * Callbacks of eb_or_read. Any may be NULL. A non-zero return stops the read and is returned
 * by eb_or_read. The row and its strings are valid only during the call.
 */
struct eb_or_callbacks {
    void *ctx;
    /* Before the rows of each file present in the package (mode bulk or delta). */
    int (*file_begin)(void *ctx, enum eb_or_file file, enum eb_or_mode mode);
    int (*row)(void *ctx, const struct eb_or_row *row);
    int (*file_end)(void *ctx, enum eb_or_file file, size_t n_rows);
};

/**
 * Validates the package at path (a directory or a .zip file) into report. Returns 0 when the
 * package could be read (look at eb_or_report_errors for its verdict), EB_EIO when path is
 * neither a readable directory nor a zip archive (a finding "package_unreadable" says why).
 */
int eb_or_validate(const char *path, struct eb_or_report *report);

/**
 * Validates, then, if no error was found, streams every row to cb. Returns 0, EB_EIO as
 * above, EB_EINVAL when the package has errors (no callback was called), EB_ECONFLICT when the
 * package changed between the passes, or the first non-zero callback return.
 */
int eb_or_read(const char *path, const struct eb_or_callbacks *cb, struct eb_or_report *report);

/* ---- Single files (the fuzz target, tests) ---- */

/**
 * Validates one CSV file's bytes as file f of a package in mode m, alone (references to other
 * files are not checked; references to itself are). Findings go to report.
 */
void eb_or_check_buffer(enum eb_or_file f, enum eb_or_mode m, const void *data, size_t len,
                        struct eb_or_report *report);

#endif
