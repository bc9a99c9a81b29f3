/* The observations of a spreadsheet (CSV or xlsx) for one data element: the columns the upload
 * page and `edubrain import observations` read, row by row with the file's line numbers. */
#include "brain/brain_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sheet/sheet.h"

enum { COL_ORG, COL_PERSON, COL_DAY, COL_VALUE, COL_CATEGORY, N_COLS };
static const char *const COL_ZH[N_COLS] = {"机构", "学生", "日期", "数值", "类别"};
static const char *const COL_EN[N_COLS] = {"org_id", "person_id", "day", "value", "category"};

struct reader {
    struct eb_arena *a;
    struct eb__sheet_obs *out;
    int32_t element_id;
    int64_t default_org;
    int col[N_COLS]; /* the column of each field, -1 when absent */
    int header_done;
    size_t cap_rows, cap_errs;
};

const char *eb__brain_sheet_column(const char *field)
{
    for (int c = 0; c < N_COLS; c++)
        if (strcmp(field, COL_EN[c]) == 0)
            return COL_ZH[c];
    return field;
}

static int finding(struct reader *rd, size_t row, const char *field, const char *en, const char *zh)
{
    struct eb__sheet_obs *o = rd->out;
    o->errs = eb_arena_grow(rd->a, o->errs, o->n_errs, &rd->cap_errs, sizeof(*o->errs));
    if (o->errs == NULL)
        return EB_ETOOBIG;
    o->errs[o->n_errs++] = (struct eb_obs_error){row, field, en, zh};
    return 0;
}

/* A header cell names a column with or without the template's '*' and spaces. */
static int header_is(const char *cell, size_t len, const char *name)
{
    while (len > 0 && (cell[len - 1] == '*' || cell[len - 1] == ' '))
        len--;
    while (len > 0 && cell[0] == ' ') {
        cell++;
        len--;
    }
    return strlen(name) == len && memcmp(cell, name, len) == 0;
}

static int positive(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || v <= 0)
        return 0;
    *out = v;
    return 1;
}

static int on_row(void *ctx, long line, size_t n, const char *const *fields, const size_t *lens)
{
    struct reader *rd = ctx;
    struct eb__sheet_obs *o = rd->out;
    if (!rd->header_done) {
        for (int c = 0; c < N_COLS; c++) {
            rd->col[c] = -1;
            for (size_t k = 0; k < n; k++)
                if (header_is(fields[k], lens[k], COL_ZH[c]) ||
                    header_is(fields[k], lens[k], COL_EN[c]))
                    rd->col[c] = (int)k;
        }
        rd->header_done = 1;
        if (rd->col[COL_DAY] < 0 || rd->col[COL_VALUE] < 0) {
            o->file_line = line;
            return finding(rd, 0, "header",
                           "the first row must name the columns 日期/day and 数值/value",
                           "首行须为列名，至少包含 日期 和 数值");
        }
        return 0;
    }
    int empty = 1;
    for (size_t k = 0; k < n; k++)
        empty &= lens[k] == 0;
    if (empty)
        return 0;
    if (o->n >= EB__SHEET_MAX_ROWS)
        return EB_ETOOBIG;
    if (o->n == rd->cap_rows) {
        size_t cap = rd->cap_rows;
        o->rows = eb_arena_grow(rd->a, o->rows, o->n, &cap, sizeof(*o->rows));
        cap = rd->cap_rows;
        o->lines = eb_arena_grow(rd->a, o->lines, o->n, &cap, sizeof(*o->lines));
        rd->cap_rows = cap;
        if (o->rows == NULL || o->lines == NULL)
            return EB_ETOOBIG;
    }
    size_t i = o->n++;
    struct eb_obs *r = &o->rows[i];
    memset(r, 0, sizeof(*r));
    o->lines[i] = line;
    r->element_id = rd->element_id;
    r->org_id = rd->default_org;
#define CELL(c) (rd->col[c] >= 0 && (size_t)rd->col[c] < n ? fields[rd->col[c]] : "")
    const char *org = CELL(COL_ORG), *person = CELL(COL_PERSON), *day = CELL(COL_DAY),
               *value = CELL(COL_VALUE), *cat = CELL(COL_CATEGORY);
#undef CELL
    int rc = 0;
    if (org[0] && !positive(org, &r->org_id))
        rc = finding(rd, i, "org_id", "must be an org id", "须为机构编号");
    if (rc == 0 && person[0] && !positive(person, &r->person_id))
        rc = finding(rd, i, "person_id", "must be a person id", "须为人员编号");
    char ymd[11];
    if (rc == 0 && eb_day_parse(day, &r->day) != 0 &&
        (eb_sheet_serial_date(day, ymd) != 0 || eb_day_parse(ymd, &r->day) != 0))
        rc = finding(rd, i, "day", "must be a date YYYY-MM-DD", "须为日期 YYYY-MM-DD");
    if (rc == 0) {
        char *end = NULL;
        r->value = strtod(value, &end);
        if (value[0] == '\0' || *end != '\0')
            rc = finding(rd, i, "value", "must be a number", "须为数值");
    }
    if (rc == 0 && cat[0]) {
        r->category = eb_arena_strdup(rd->a, cat);
        if (r->category == NULL)
            rc = EB_ETOOBIG;
    }
    return rc;
}

int eb__brain_sheet_read(struct eb_arena *a, const void *data, size_t len, int32_t element_id,
                         int64_t default_org, struct eb__sheet_obs *out)
{
    struct reader rd = {.a = a, .out = out, .element_id = element_id, .default_org = default_org};
    const char *why = NULL, *zh_why = NULL;
    memset(out, 0, sizeof(*out));
    int rc = eb_sheet_read(data, len, eb_sheet_sniff(data, len), on_row, &rd, &why, &zh_why);
    if (rc == EB_EINVAL && out->n_errs == 0) {
        out->file_line = 1;
        rc = finding(&rd, 0, "file", why ? why : "unreadable", zh_why ? zh_why : "无法读取");
    }
    if (rc != 0)
        return rc;
    if (out->n_errs == 0 && out->n == 0) {
        out->file_line = 1;
        rc = finding(&rd, 0, "file", "no rows", "文件中没有数据行");
    }
    return rc;
}
