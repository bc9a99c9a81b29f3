/* Spreadsheet uploads: format sniffing, CSV through the OneRoster module's streaming reader,
 * Excel serial dates, and the row buffers of the xlsx reader. */
#include "sheet/sheet.h"
#include "sheet/sheet_int.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "oneroster/or_int.h"

enum eb_sheet_format eb_sheet_sniff(const void *data, size_t len)
{
    return len >= 4 && memcmp(data, "PK\3\4", 4) == 0 ? EB_SHEET_XLSX : EB_SHEET_CSV;
}

/* ---- CSV -------------------------------------------------------------------------------- */

struct csv_ctx {
    eb_sheet_row_fn fn;
    void *ctx;
    long rows;
    int too_many, too_wide;
};

static int csv_record(void *ud, long line, size_t n, const char *const *fields, const size_t *lens)
{
    struct csv_ctx *c = ud;
    if (++c->rows > EB_SHEET_MAX_ROWS) {
        c->too_many = 1;
        return EB_ETOOBIG;
    }
    if (n > EB_SHEET_MAX_COLS) {
        c->too_wide = 1;
        return EB_ETOOBIG;
    }
    return c->fn(c->ctx, line, n, fields, lens);
}

static int read_csv(const void *data, size_t len, eb_sheet_row_fn fn, void *ctx, const char **why,
                    const char **zh_why)
{
    struct csv_ctx c = {.fn = fn, .ctx = ctx};
    struct eb__or_csv p;
    eb__or_csv_init(&p, csv_record, &c);
    int rc = eb__or_csv_feed(&p, data, len);
    if (rc == 0)
        rc = eb__or_csv_finish(&p);
    if (c.too_many) {
        *why = "the file has more than 200000 rows";
        *zh_why = "文件超过 200000 行";
        rc = EB_EINVAL;
    } else if (c.too_wide) {
        *why = "a row has more than 256 columns";
        *zh_why = "某行超过 256 列";
        rc = EB_EINVAL;
    } else if (rc == 0 && p.err != OR_CSVERR_OK) {
        *why = p.err == OR_CSVERR_SYNTAX ? "the CSV quoting is broken (a quote inside an unquoted "
                                           "field, or an unclosed quote)"
                                         : "a CSV record is too long";
        *zh_why = p.err == OR_CSVERR_SYNTAX
                      ? "CSV 引号格式错误（未加引号的字段中含引号，或引号未闭合）"
                      : "CSV 某条记录过长";
        rc = EB_EINVAL;
    }
    eb__or_csv_free(&p);
    return rc;
}

int eb_sheet_read(const void *data, size_t len, enum eb_sheet_format fmt, eb_sheet_row_fn fn,
                  void *ctx, const char **why, const char **zh_why)
{
    *why = *zh_why = NULL;
    if (fmt == EB_SHEET_XLSX)
        return eb__sheet_read_xlsx(data, len, fn, ctx, why, zh_why);
    return read_csv(data, len, fn, ctx, why, zh_why);
}

/* ---- dates ------------------------------------------------------------------------------ */

int eb_sheet_serial_date(const char *text, char out[11])
{
    long serial = 0;
    size_t n = strlen(text);
    /* A date cell stores a whole number (a time of day would add a fraction: refused). */
    if (n == 0 || n > 6)
        return EB_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return EB_EINVAL;
        serial = serial * 10 + (text[i] - '0');
    }
    /* Serial 1 is 1900-01-01 and Excel counts a 1900-02-29 that never was (serial 60), so
     * from serial 61 on the days since 1899-12-30 are the serial itself. Earlier dates are
     * of no use to a school roster. */
    if (serial < 61 || serial > 73050) /* 73050 = 2099-12-31 */
        return EB_EINVAL;
    /* Days since 1970-01-01 (serial 25569), then the civil date (Howard Hinnant's algorithm,
     * public domain, written out here for int arithmetic). */
    long z = serial - 25569 + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    /* The range above keeps y in 1900..2099, m in 1..12 and d in 1..31: ten characters. */
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%04ld-%02ld-%02ld", y, m, d);
    memcpy(out, tmp, 10);
    out[10] = '\0';
    return 0;
}

/* ---- buffers ---------------------------------------------------------------------------- */

int eb__sheet_text_add(struct sheet_text *t, const char *s, size_t n)
{
    /* Up to four bytes per character of Excel's limit. */
    if (t->len + n > (size_t)EB_SHEET_MAX_CELL * 4)
        return EB_ETOOBIG;
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = eb_xrealloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
    return 0;
}

void eb__sheet_text_free(struct sheet_text *t)
{
    eb_free(t->buf);
    t->buf = NULL;
    t->len = t->cap = 0;
}

void eb__sheet_row_reset(struct sheet_rowbuf *r)
{
    for (size_t i = 0; i < r->n; i++)
        r->lens[i] = 0;
    r->n = 0;
}

int eb__sheet_row_set(struct sheet_rowbuf *r, size_t col, const char *v, size_t len)
{
    if (col >= EB_SHEET_MAX_COLS)
        return EB_ETOOBIG;
    if (col >= r->cap) {
        size_t cap = col + 16;
        r->cells = eb_xrealloc(r->cells, cap * sizeof(*r->cells));
        r->lens = eb_xrealloc(r->lens, cap * sizeof(*r->lens));
        r->ptrs = eb_xrealloc(r->ptrs, cap * sizeof(*r->ptrs));
        for (size_t i = r->cap; i < cap; i++) {
            r->cells[i] = NULL;
            r->lens[i] = 0;
        }
        r->cap = cap;
    }
    for (size_t i = r->n; i < col; i++)
        r->lens[i] = 0;
    r->cells[col] = eb_xrealloc(r->cells[col], len + 1);
    memcpy(r->cells[col], v, len);
    r->cells[col][len] = '\0';
    r->lens[col] = len;
    if (col + 1 > r->n)
        r->n = col + 1;
    return 0;
}

int eb__sheet_row_emit(struct sheet_rowbuf *r, long line, eb_sheet_row_fn fn, void *ctx)
{
    for (size_t i = 0; i < r->n; i++)
        r->ptrs[i] = r->lens[i] ? r->cells[i] : "";
    return fn(ctx, line, r->n, r->ptrs, r->lens);
}

void eb__sheet_row_free(struct sheet_rowbuf *r)
{
    for (size_t i = 0; i < r->cap; i++)
        eb_free(r->cells[i]);
    eb_free(r->cells);
    eb_free(r->lens);
    eb_free(r->ptrs);
    memset(r, 0, sizeof(*r));
}
