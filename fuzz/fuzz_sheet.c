/* libFuzzer target: uploaded spreadsheets (CSV and xlsx) through the sheet reader. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sheet/sheet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    long last_line;
    size_t rows;
};

/* Rows come in file order (two CSV records can share a physical line when a lone CR ends the
 * first) with at most EB_SHEET_MAX_COLS fields, each NUL-terminated at its length: anything
 * else is a reader bug. */
static int on_row(void *ctx, long line, size_t n, const char *const *fields, const size_t *lens)
{
    struct seen *s = ctx;
    if (line < s->last_line || n > EB_SHEET_MAX_COLS)
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (fields[i] == NULL || fields[i][lens[i]] != '\0' || strlen(fields[i]) > lens[i])
            __builtin_trap();
    s->last_line = line;
    s->rows++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Both readers on every input: the sniffer decides in production, the fuzzer tries both. */
    for (int fmt = EB_SHEET_CSV; fmt <= EB_SHEET_XLSX; fmt++) {
        struct seen s = {0, 0};
        const char *why = NULL, *zh = NULL;
        int rc = eb_sheet_read(data, size, (enum eb_sheet_format)fmt, on_row, &s, &why, &zh);
        if (rc != 0 && (why == NULL || zh == NULL))
            __builtin_trap();
        if (s.rows > EB_SHEET_MAX_ROWS)
            __builtin_trap();
    }
    char out[11];
    if (size < 16) {
        char text[17];
        memcpy(text, data, size);
        text[size] = '\0';
        if (eb_sheet_serial_date(text, out) == 0 && (strlen(out) != 10 || out[4] != '-'))
            __builtin_trap();
    }
    return 0;
}
