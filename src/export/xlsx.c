/* Excel downloads over libxlsxwriter: a temporary file per workbook, sent as the body. */
#include "export/xlsx.h"
#include "core/err.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

struct eb_xlsx {
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *bold, *text;
    int n_cols;
    int row; /* the next row to write (0 is the header) */
    char path[512];
};

static const char *tmp_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d && *d ? d : "/tmp";
}

int eb_xlsx_open(const char *sheet_name, const struct eb_xlsx_col *cols, int n_cols,
                 struct eb_xlsx **out)
{
    int rc = EB_EIO;
    *out = NULL;
    struct eb_xlsx *x = eb_xmalloc(sizeof(*x));
    memset(x, 0, sizeof(*x));
    x->n_cols = n_cols;
    /* libxlsxwriter writes to a named file: reserve a unique name, let it overwrite the file. */
    int n = snprintf(x->path, sizeof(x->path), "%s/edubrain-xlsx-XXXXXX", tmp_dir());
    if (n < 0 || (size_t)n >= sizeof(x->path))
        goto done;
    int fd = mkstemp(x->path);
    if (fd < 0) {
        x->path[0] = '\0';
        goto done;
    }
    close(fd);
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE,
                                .tmpdir = (char *)(uintptr_t)tmp_dir(),
                                .use_zip64 = LXW_FALSE};
    x->wb = workbook_new_opt(x->path, &opt);
    if (x->wb == NULL)
        goto done;
    x->bold = workbook_add_format(x->wb);
    format_set_bold(x->bold);
    x->text = workbook_add_format(x->wb);
    format_set_num_format(x->text, "@");
    if (eb_xlsx_sheet(x, sheet_name, cols, n_cols) != 0)
        goto done;
    *out = x;
    x = NULL;
    rc = 0;
done:
    eb_xlsx_discard(x);
    return rc;
}

int eb_xlsx_sheet(struct eb_xlsx *x, const char *sheet_name, const struct eb_xlsx_col *cols,
                  int n_cols)
{
    x->ws = workbook_add_worksheet(x->wb, sheet_name);
    if (x->ws == NULL)
        return EB_EIO;
    x->n_cols = n_cols;
    for (int c = 0; c < n_cols; c++)
        worksheet_set_column(x->ws, (lxw_col_t)c, (lxw_col_t)c, cols[c].width, NULL);
    worksheet_freeze_panes(x->ws, 1, 0);
    for (int c = 0; c < n_cols; c++)
        if (worksheet_write_string(x->ws, 0, (lxw_col_t)c, cols[c].header, x->bold) != LXW_NO_ERROR)
            return EB_EIO;
    x->row = 1;
    return 0;
}

int eb_xlsx_column_text(struct eb_xlsx *x, int col, double width)
{
    return worksheet_set_column(x->ws, (lxw_col_t)col, (lxw_col_t)col, width, x->text) ==
                   LXW_NO_ERROR
               ? 0
               : EB_EIO;
}

int eb_xlsx_column_list(struct eb_xlsx *x, int col, const char **values)
{
    lxw_data_validation v = {.validate = LXW_VALIDATION_TYPE_LIST,
                             .value_list = (char **)(uintptr_t)values,
                             .show_error = LXW_VALIDATION_ON,
                             .error_type = LXW_VALIDATION_ERROR_TYPE_STOP};
    return worksheet_data_validation_range(x->ws, 1, (lxw_col_t)col, LXW_ROW_MAX - 1,
                                           (lxw_col_t)col, &v) == LXW_NO_ERROR
               ? 0
               : EB_EIO;
}

int eb_xlsx_row(struct eb_xlsx *x, const char *const *cells)
{
    if (x->row >= LXW_ROW_MAX)
        return EB_ETOOBIG;
    for (int c = 0; c < x->n_cols; c++) {
        if (cells[c] == NULL || cells[c][0] == '\0')
            continue;
        if (worksheet_write_string(x->ws, (lxw_row_t)x->row, (lxw_col_t)c, cells[c], NULL) !=
            LXW_NO_ERROR)
            return EB_EIO;
    }
    x->row++;
    return 0;
}

int eb_xlsx_rows(const struct eb_xlsx *x)
{
    return x->row - 1;
}

void eb_xlsx_discard(struct eb_xlsx *x)
{
    if (x == NULL)
        return;
    if (x->wb != NULL)
        workbook_close(x->wb);
    if (x->path[0] != '\0')
        unlink(x->path);
    eb_free(x);
}

char *eb_xlsx_rfc5987(struct eb_arena *a, const char *utf8)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(utf8);
    char *out = eb_arena_alloc(a, 7 + len * 3 + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, "UTF-8''", 7);
    char *p = out + 7;
    for (const unsigned char *s = (const unsigned char *)utf8; *s; s++) {
        /* attr-char of RFC 5987: ALPHA, DIGIT and !#$&+-.^_`|~ go as they are. */
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
            (*s != 0 && strchr("!#$&+-.^_`|~", *s) != NULL)) {
            *p++ = (char)*s;
        } else {
            *p++ = '%';
            *p++ = hex[*s >> 4];
            *p++ = hex[*s & 15];
        }
    }
    *p = '\0';
    return out;
}

int eb_xlsx_send(struct eb_xlsx *x, struct eb_req *r, const char *filename,
                 const char *ascii_fallback)
{
    int rc = EB_EIO;
    FILE *f = NULL;
    lxw_error err = workbook_close(x->wb);
    x->wb = NULL;
    if (err != LXW_NO_ERROR)
        goto done;
    f = fopen(x->path, "rb");
    if (f == NULL)
        goto done;
    eb_buf_reset(&r->out);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = eb_buf_append(&r->out, chunk, n);
        if (rc != 0)
            goto done;
    }
    if (ferror(f)) {
        rc = EB_EIO;
        goto done;
    }
    const char *ext = eb_xlsx_rfc5987(r->arena, filename);
    const char *disp = ext ? eb_arena_printf(r->arena, "attachment; filename=\"%s\"; filename*=%s",
                                             ascii_fallback, ext)
                           : NULL;
    if (disp == NULL) {
        rc = EB_ETOOBIG;
        goto done;
    }
    r->status = 200;
    r->content_type = EB_XLSX_CONTENT_TYPE;
    eb_http_add_header(r, "Content-Disposition", disp);
    rc = 0;
done:
    if (f != NULL)
        fclose(f);
    if (rc != 0)
        eb_buf_reset(&r->out);
    eb_xlsx_discard(x);
    return rc;
}
