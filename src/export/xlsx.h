/* Excel (.xlsx) downloads: one sheet of text cells with Chinese headers, sent as an attachment. */
#ifndef EB_EXPORT_XLSX_H
#define EB_EXPORT_XLSX_H

#include "http/http.h"

#define EB_XLSX_CONTENT_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

struct eb_xlsx;

/** One column: its header and its width in Excel character units. */
struct eb_xlsx_col {
    const char *header;
    double width;
};

/**
 * Starts a workbook of one sheet in a temporary file (constant-memory mode: rows go to disk as
 * they are written, so a sheet of any length costs a few kilobytes of memory) and writes the
 * bold, frozen header row. Every cell is text: dates stay YYYY-MM-DD and codes keep their leading
 * zeros. EB_EIO when the file cannot be created.
 */
int eb_xlsx_open(const char *sheet_name, const struct eb_xlsx_col *cols, int n_cols,
                 struct eb_xlsx **out);
/** Starts a further sheet (its header row written as in eb_xlsx_open); later rows go there.
 * In constant-memory mode a sheet is final once the next one starts. */
int eb_xlsx_sheet(struct eb_xlsx *x, const char *sheet_name, const struct eb_xlsx_col *cols,
                  int n_cols);
/** Formats a column of the current sheet as text, so that what a user types there stays as
 * typed: an 18-digit ID number would otherwise become a number rounded to 15 digits. */
int eb_xlsx_column_text(struct eb_xlsx *x, int col, double width);
/** A drop-down list (values, NULL-terminated) on the data cells of a column. */
int eb_xlsx_column_list(struct eb_xlsx *x, int col, const char **values);
/** Appends a row of n_cols cells (NULL cells stay empty). */
int eb_xlsx_row(struct eb_xlsx *x, const char *const *cells);
/** Rows written so far, the header not counted. */
int eb_xlsx_rows(const struct eb_xlsx *x);
/**
 * Closes the workbook and makes its bytes the response body (status 200) with the xlsx content
 * type and Content-Disposition: attachment with filename (UTF-8, e.g. "学生名单.xlsx") encoded
 * per RFC 6266 / RFC 5987, and an ASCII fallback name. Always frees x and its temporary file.
 */
int eb_xlsx_send(struct eb_xlsx *x, struct eb_req *r, const char *filename,
                 const char *ascii_fallback);
/** Frees x and its temporary file without sending anything (an error path). NULL is fine. */
void eb_xlsx_discard(struct eb_xlsx *x);

/** The RFC 5987 ext-value of a UTF-8 string: "UTF-8''" and percent-encoded bytes. */
char *eb_xlsx_rfc5987(struct eb_arena *a, const char *utf8);

#endif
