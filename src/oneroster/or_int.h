/* Internals shared by the OneRoster reader's files: codes, CSV streaming, package, rules. */
#ifndef EB_ONEROSTER_INT_H
#define EB_ONEROSTER_INT_H

#include <csv.h>
#include <stddef.h>
#include <stdint.h>

#include "oneroster/oneroster.h"

/* ---- Finding codes: the catalogue (severity, messages) is in or_report.c ---- */

enum eb__or_code {
    /* package and manifest */
    OR_PACKAGE_UNREADABLE,
    OR_MANIFEST_MISSING,
    OR_MANIFEST_HEADER,
    OR_MANIFEST_DUPLICATE,
    OR_MANIFEST_PROPERTY_MISSING,
    OR_MANIFEST_UNKNOWN_PROPERTY,
    OR_MANIFEST_VALUE,
    OR_UNSUPPORTED_VERSION,
    OR_FILE_MISSING,
    OR_FILE_UNEXPECTED,
    OR_FILE_UNREADABLE,
    OR_UNKNOWN_FILE,
    OR_FILE_NOT_AT_ROOT,
    /* file format */
    OR_BOM,
    OR_INVALID_UTF8,
    OR_NUL_BYTE,
    OR_CSV_SYNTAX,
    OR_NEWLINE_IN_FIELD,
    OR_EMPTY_FILE,
    OR_NO_DATA_ROWS,
    OR_ROW_TOO_LONG,
    OR_FIELD_COUNT,
    /* header */
    OR_HEADER_DUPLICATE,
    OR_HEADER_CASE,
    OR_MISSING_COLUMN,
    OR_HEADER_ORDER,
    OR_UNKNOWN_COLUMN,
    /* values */
    OR_REQUIRED,
    OR_DELTA_REQUIRED,
    OR_BULK_POPULATED,
    OR_ENUM_CASE,
    OR_ENUM_VALUE,
    OR_STATUS_INACTIVE,
    OR_BOOL_CASE,
    OR_BAD_BOOL,
    OR_BAD_DATE,
    OR_BAD_DATETIME,
    OR_BAD_YEAR,
    OR_BAD_NUMBER,
    OR_BAD_USER_IDS,
    OR_LIST_EMPTY_ITEM,
    OR_GRADE_VALUE,
    OR_ID_CHARSET,
    OR_ID_LENGTH,
    OR_DUPLICATE_ID,
    OR_DATE_ORDER,
    /* references */
    OR_MISSING_REFERENCE,
    OR_REFERENCE_TO_ABSENT_FILE,
    OR_UNRESOLVED_REFERENCE,
    OR_REFERENCE_TO_DELETED,
    OR_NOT_A_SCHOOL,
    OR_NOT_A_SCHOOL_YEAR,
    OR_ROLE_MISMATCH,
    OR_N_CODES
};

/* Report slots for counting: the data files, then the manifest, then the package itself. */
#define OR_SLOT_MANIFEST EB_OR_N_FILES
#define OR_SLOT_PACKAGE  (EB_OR_N_FILES + 1)
#define OR_N_SLOTS       (EB_OR_N_FILES + 2)

/**
 * Adds a finding. file may be NULL (the slot's own name). column, value (vlen bytes, any
 * content: it is made valid UTF-8 and shortened) and detail may be NULL.
 */
void eb__or_add(struct eb_or_report *r, enum eb__or_code code, int slot, const char *file,
                long line, const char *column, const char *value, size_t vlen, const char *detail);
/** Records the mode of f and its data-row count in the report. */
void eb__or_report_file(struct eb_or_report *r, enum eb_or_file f, enum eb_or_mode m, size_t rows);
const char *eb__or_code_name(enum eb__or_code code);
enum eb_or_severity eb__or_code_severity(enum eb__or_code code);

/* ---- CSV streaming (or_csv.c) ---- */

/* Limits that keep a hostile file from taking unbounded memory for one row. */
#define OR_MAX_ROW_BYTES (1u << 20)
#define OR_MAX_FIELDS    1024

/** One record: n fields (NUL-terminated copies, lens without the NUL), starting at line. */
typedef int (*eb__or_record_fn)(void *ctx, long line, size_t n, const char *const *fields,
                                const size_t *lens);

enum eb__or_csv_err {
    OR_CSVERR_OK,
    OR_CSVERR_SYNTAX,   /* libcsv refused the quoting; the rest of the file is not read */
    OR_CSVERR_TOO_LONG, /* a record over OR_MAX_ROW_BYTES or OR_MAX_FIELDS */
};

struct eb__or_csv {
    struct csv_parser p;
    eb__or_record_fn fn;
    void *ctx;
    long line;     /* physical line of the next byte (1-based) */
    long rec_line; /* physical line where the current record starts */
    int quote_odd; /* an odd number of quotes since the record began: inside a quoted field */
    int at_line_start;
    unsigned char pre[3]; /* the first bytes, held until a BOM can be recognised */
    size_t n_pre;
    int started; /* the BOM question is settled */
    int bom;     /* the file started with a UTF-8 BOM (dropped) */
    /* The record being assembled: field bytes back to back, each NUL-terminated. */
    char *buf;
    size_t len, cap;
    size_t *offs, *lens;
    const char **ptrs;
    size_t n_fields, cap_fields;
    int skip_record; /* the record went over a limit: drop its fields until its end */
    int stop;        /* a non-zero callback return: nothing more is delivered */
    enum eb__or_csv_err err;
    long err_line;
};

void eb__or_csv_init(struct eb__or_csv *c, eb__or_record_fn fn, void *ctx);
/** Feeds bytes; returns 0, or the callback's non-zero return (then stop feeding). A syntax
 * error is reported in c->err and returns 0 (later bytes are ignored). */
int eb__or_csv_feed(struct eb__or_csv *c, const void *data, size_t len);
/** Flushes the last record. Returns as eb__or_csv_feed. */
int eb__or_csv_finish(struct eb__or_csv *c);
void eb__or_csv_free(struct eb__or_csv *c);

/* ---- Package access (or_package.c) ---- */

struct eb__or_pkg;
typedef int (*eb__or_chunk_fn)(void *ctx, const void *data, size_t len);

/** Opens a directory or a zip file; on failure returns EB_EIO and a reason in *why. */
int eb__or_pkg_open(const char *path, struct eb__or_pkg **out, const char **why /* out */);
void eb__or_pkg_close(struct eb__or_pkg *p);
/** 1 when the package has a member of exactly this name at its root. */
int eb__or_pkg_has(struct eb__or_pkg *p, const char *name);
/** Every member name (root files of a directory; every entry of a zip). */
size_t eb__or_pkg_count(const struct eb__or_pkg *p);
const char *eb__or_pkg_name(const struct eb__or_pkg *p, size_t i);
/** Streams member name in chunks to fn: 0, EB_EIO, or fn's non-zero return. */
int eb__or_pkg_stream(struct eb__or_pkg *p, const char *name, eb__or_chunk_fn fn, void *ctx);

/* ---- Rules (or_rules.c) ---- */

enum eb__or_type {
    OR_T_STRING,
    OR_T_ID,       /* the row's own sourcedId */
    OR_T_REF,      /* one GUID reference */
    OR_T_REF_LIST, /* comma-separated GUID references */
    OR_T_STATUS,   /* active | tobedeleted */
    OR_T_DATETIME, /* dateLastModified */
    OR_T_DATE,
    OR_T_YEAR,
    OR_T_BOOL,
    OR_T_ENUM,
    OR_T_ENUM_LIST, /* comma-separated tokens of an enumeration */
    OR_T_GRADES,    /* comma-separated CEDS grade levels */
    OR_T_STR_LIST,  /* comma-separated free strings */
    OR_T_USER_IDS,  /* {type:identifier},... */
    OR_T_NUMBER,
};

/* Extra checks on the row a reference points at (tags kept in the id sets). */
enum eb__or_refcheck { OR_RC_NONE, OR_RC_SCHOOL, OR_RC_SCHOOL_YEAR, OR_RC_ENROLL_ROLE };

struct eb__or_col {
    const char *name;
    unsigned char required;
    unsigned char type;        /* enum eb__or_type */
    signed char ref;           /* target file of a reference, -1 for none */
    unsigned char refcheck;    /* enum eb__or_refcheck */
    const char *const *tokens; /* enumerations: NULL-terminated */
};

struct eb__or_filespec {
    const char *csv; /* "orgs.csv" */
    const char *key; /* manifest property: "file.orgs" */
    const struct eb__or_col *cols;
    size_t n_cols;
    int tag_col;            /* enum column whose token index tags the row's id, or -1 */
    int date_from, date_to; /* a pair of dates that must be in order, or -1 */
};

extern const struct eb__or_filespec eb__or_files[EB_OR_N_FILES];
/* Token lists that or_check.c compares against. */
extern const char *const eb__or_org_types[];
extern const char *const eb__or_session_types[];
extern const char *const eb__or_user_roles[];
extern const char *const eb__or_enroll_roles[];

/** The index of value in tokens (exact), or -1; *ci gets the index of a match that differs
 * only in case, or -1. */
int eb__or_token(const char *const *tokens, const char *value, int *ci /* out */);

#define OR_MAX_COLS 32 /* normative columns of the widest file (users: 18) */

/* Header mapping: map[i] is the normative index of header field i, or -1 for an extension
 * column; pos[c] is the header position of normative column c, or -1 when it is missing. */
struct eb__or_header {
    int *map;
    size_t n;
    int pos[OR_MAX_COLS];
    int usable; /* sourcedId is present: rows can be checked and read */
};

/**
 * Checks a file's header and fills h (map allocated with eb_xmalloc; free with
 * eb__or_header_free). Findings go to r when r is not NULL.
 */
void eb__or_header_check(enum eb_or_file f, size_t n, const char *const *fields, const size_t *lens,
                         struct eb__or_header *h, struct eb_or_report *r);
void eb__or_header_free(struct eb__or_header *h);

/**
 * Format checks of one non-empty value of column col (UTF-8, NUL, newlines, then by type;
 * references are not resolved here). Returns 0 when the value is usable for reference checks.
 */
int eb__or_check_value(struct eb_or_report *r, enum eb_or_file f, long line,
                       const struct eb__or_col *col, const char *v, size_t len);
/** The length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0 when it is invalid. */
size_t eb__or_utf8_seq(const unsigned char *s, size_t n);
/** 1 when v is a valid YYYY-MM-DD date. */
int eb__or_is_date(const char *v, size_t len);

#endif
