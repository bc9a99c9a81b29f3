/* Inside the sheet reader: growable text and row buffers shared by the CSV and xlsx readers. */
#ifndef EB_SHEET_INT_H
#define EB_SHEET_INT_H

#include "sheet/sheet.h"

/* Text collected from XML character data; bounded by EB_SHEET_MAX_CELL characters. */
struct sheet_text {
    char *buf;
    size_t len, cap;
};
/** Appends; EB_ETOOBIG past the cell limit. */
int eb__sheet_text_add(struct sheet_text *t, const char *s, size_t n);
void eb__sheet_text_free(struct sheet_text *t);

/* A row being assembled by column; cells never set are empty. */
struct sheet_rowbuf {
    char **cells;
    size_t *lens;
    size_t n, cap; /* n = one past the highest column set */
    const char **ptrs;
};
void eb__sheet_row_reset(struct sheet_rowbuf *r);
int eb__sheet_row_set(struct sheet_rowbuf *r, size_t col, const char *v, size_t len);
/** Hands the row to fn (empty cells as ""); returns fn's return. */
int eb__sheet_row_emit(struct sheet_rowbuf *r, long line, eb_sheet_row_fn fn, void *ctx);
void eb__sheet_row_free(struct sheet_rowbuf *r);

int eb__sheet_read_xlsx(const void *data, size_t len, eb_sheet_row_fn fn, void *ctx,
                        const char **why, const char **zh_why);

#endif
