/* Streams a CSV file through libcsv, record by record, with the physical line each starts on. */
#include "core/mem.h"
#include "oneroster/or_int.h"

#include <string.h>

/*
 * libcsv tokenises (RFC 4180 quoting, CRLF, quoted newlines) but does not say where a record
 * started. We feed it one physical line at a time and keep the parity of the quotes seen since
 * the last record ended: a line that begins with an even count begins a record, so a record
 * whose quoted field spans lines keeps the line of its first byte. The parity is all we need
 * because strict mode refuses a quote inside an unquoted field.
 */

static int no_space(unsigned char c)
{
    /* §1.2 rule 7: ", ," is a value made of one space, so nothing is trimmed. */
    (void)c;
    return 0;
}

static void on_field(void *s, size_t n, void *data)
{
    struct eb__or_csv *c = data;
    if (c->skip_record || c->stop)
        return;
    if (c->n_fields >= OR_MAX_FIELDS || c->len + n + 1 > OR_MAX_ROW_BYTES) {
        c->skip_record = 1;
        if (c->err == OR_CSVERR_OK) {
            c->err = OR_CSVERR_TOO_LONG;
            c->err_line = c->rec_line;
        }
        return;
    }
    if (c->n_fields == c->cap_fields) {
        c->cap_fields = c->cap_fields ? c->cap_fields * 2 : 32;
        c->offs = eb_xrealloc(c->offs, c->cap_fields * sizeof(*c->offs));
        c->lens = eb_xrealloc(c->lens, c->cap_fields * sizeof(*c->lens));
        c->ptrs = eb_xrealloc(c->ptrs, c->cap_fields * sizeof(*c->ptrs));
    }
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1)
            cap *= 2;
        c->buf = eb_xrealloc(c->buf, cap);
        c->cap = cap;
    }
    if (n)
        memcpy(c->buf + c->len, s, n);
    c->buf[c->len + n] = '\0';
    c->offs[c->n_fields] = c->len;
    c->lens[c->n_fields] = n;
    c->n_fields++;
    c->len += n + 1;
}

static void on_record(int term, void *data)
{
    struct eb__or_csv *c = data;
    (void)term;
    if (!c->skip_record && !c->stop && c->err == OR_CSVERR_OK) {
        /* The buffer may have moved while the record grew: pointers are made only now. */
        for (size_t i = 0; i < c->n_fields; i++)
            c->ptrs[i] = c->buf + c->offs[i];
        c->stop = c->fn(c->ctx, c->rec_line, c->n_fields, c->ptrs, c->lens);
    }
    c->skip_record = 0;
    c->n_fields = 0;
    c->len = 0;
}

void eb__or_csv_init(struct eb__or_csv *c, eb__or_record_fn fn, void *ctx)
{
    memset(c, 0, sizeof(*c));
    csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    csv_set_space_func(&c->p, no_space);
    csv_set_realloc_func(&c->p, eb_xrealloc);
    csv_set_free_func(&c->p, eb_free);
    c->fn = fn;
    c->ctx = ctx;
    c->line = 1;
    c->rec_line = 1;
    c->at_line_start = 1;
}

void eb__or_csv_free(struct eb__or_csv *c)
{
    csv_free(&c->p);
    eb_free(c->buf);
    eb_free(c->offs);
    eb_free(c->lens);
    eb_free(c->ptrs);
    c->buf = NULL;
    c->offs = c->lens = NULL;
    c->ptrs = NULL;
}

static void feed_lines(struct eb__or_csv *c, const char *d, size_t n)
{
    while (n > 0 && !c->stop && c->err == OR_CSVERR_OK) {
        const char *nl = memchr(d, '\n', n);
        size_t seg = nl ? (size_t)(nl - d) + 1 : n;
        if (c->at_line_start && !c->quote_odd)
            c->rec_line = c->line;
        for (const char *q = d; (size_t)(q - d) < seg;) {
            q = memchr(q, '"', seg - (size_t)(q - d));
            if (!q)
                break;
            c->quote_odd ^= 1;
            q++;
        }
        size_t used = csv_parse(&c->p, d, seg, on_field, on_record, c);
        if (used < seg && c->err == OR_CSVERR_OK) {
            c->err = csv_error(&c->p) == CSV_EPARSE ? OR_CSVERR_SYNTAX : OR_CSVERR_TOO_LONG;
            c->err_line = c->line;
        }
        /* libcsv holds the current field in its own buffer until the field ends: bound it. */
        if (c->err == OR_CSVERR_OK && csv_get_buffer_size(&c->p) > OR_MAX_ROW_BYTES) {
            c->err = OR_CSVERR_TOO_LONG;
            c->err_line = c->rec_line;
        }
        if (nl) {
            c->line++;
            c->at_line_start = 1;
        } else {
            c->at_line_start = 0;
        }
        d += seg;
        n -= seg;
    }
}

static void settle_bom(struct eb__or_csv *c)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    c->started = 1;
    if (c->n_pre == 3 && memcmp(c->pre, bom, 3) == 0)
        c->bom = 1;
    else
        feed_lines(c, (const char *)c->pre, c->n_pre);
}

int eb__or_csv_feed(struct eb__or_csv *c, const void *data, size_t len)
{
    const char *d = data;
    if (!c->started) {
        while (len > 0 && c->n_pre < 3) {
            c->pre[c->n_pre++] = (unsigned char)*d++;
            len--;
        }
        if (c->n_pre < 3)
            return c->stop;
        settle_bom(c);
    }
    feed_lines(c, d, len);
    return c->stop;
}

int eb__or_csv_finish(struct eb__or_csv *c)
{
    if (!c->started)
        settle_bom(c);
    if (c->err == OR_CSVERR_OK && !c->stop) {
        if (csv_fini(&c->p, on_field, on_record, c) != 0 && c->err == OR_CSVERR_OK) {
            /* An unterminated quoted field: it began with the current record. */
            c->err = OR_CSVERR_SYNTAX;
            c->err_line = c->rec_line;
        }
    }
    return c->stop;
}
