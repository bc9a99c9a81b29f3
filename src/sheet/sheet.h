/* Spreadsheet uploads (CSV or .xlsx) read as rows of text, with the line or row number each
 * row has in the file, for importers that report findings by position. */
#ifndef EB_SHEET_H
#define EB_SHEET_H

#include <stddef.h>

/** One row: n text fields (NUL-terminated; "" for an empty cell) found at line (CSV: the
 * physical line where the record starts; xlsx: the worksheet row number). A non-zero return
 * stops the read and is returned by eb_sheet_read. */
typedef int (*eb_sheet_row_fn)(void *ctx, long line, size_t n, const char *const *fields,
                               const size_t *lens);

enum eb_sheet_format { EB_SHEET_CSV, EB_SHEET_XLSX };

/* Limits that keep a hostile upload from taking unbounded memory or time. */
#define EB_SHEET_MAX_ROWS    200000
#define EB_SHEET_MAX_COLS    256
#define EB_SHEET_MAX_CELL    32767        /* Excel's own limit of characters in a cell */
#define EB_SHEET_MAX_XML     (256u << 20) /* uncompressed bytes of one workbook part */
#define EB_SHEET_MAX_STRINGS 1000000      /* shared strings of a workbook */

/** The format of data: xlsx when it is a zip archive ("PK\3\4"), else CSV. */
enum eb_sheet_format eb_sheet_sniff(const void *data, size_t len);

/**
 * Reads the first worksheet of an xlsx file, or a CSV file (UTF-8, a BOM dropped, RFC 4180
 * quoting), from memory and hands every row to fn, in file order. xlsx cells come as their
 * text: shared and inline strings as written, numbers as stored (a date cell is its serial
 * number, see eb_sheet_serial_date), booleans as "TRUE"/"FALSE". Returns 0, fn's non-zero
 * return, or EB_EINVAL with a reason in why (English; zh_why in Chinese) for a file that is not
 * a readable CSV or workbook, or that passes a limit above.
 */
int eb_sheet_read(const void *data, size_t len, enum eb_sheet_format fmt, eb_sheet_row_fn fn,
                  void *ctx, const char **why, const char **zh_why);

/**
 * "YYYY-MM-DD" of an Excel serial day number in the 1900 date system (what a date cell holds),
 * written to out[11]; 0, or EB_EINVAL when text is not a whole serial between 1900 and 2100.
 */
int eb_sheet_serial_date(const char *text, char out[11]);

#endif
