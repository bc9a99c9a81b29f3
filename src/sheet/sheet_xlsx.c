/* The first worksheet of an .xlsx workbook (libzip + expat), streamed row by row. */
#include "sheet/sheet.h"
#include "sheet/sheet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <zip.h>

#include "core/err.h"
#include "core/mem.h"

/*
 * An xlsx file is a zip of XML parts (ECMA-376 SpreadsheetML). The first sheet is found as
 * Excel finds it: the first <sheet> of xl/workbook.xml names a relationship id, which
 * xl/_rels/workbook.xml.rels maps to the part. Cells whose type is "s" index the shared
 * strings of xl/sharedStrings.xml, read first. Every part is parsed while it is inflated, in
 * 64 KiB chunks, so a large sheet never sits in memory as XML. Names are compared without their
 * namespace prefix: generators write both <row> and <x:row>.
 */

#define CHUNK (64u * 1024)

struct strs {
    char **v;
    size_t *lens;
    size_t n, cap;
};

struct part {
    XML_Parser p;
    int failed; /* a limit or a DTD: the parse was stopped */
    const char *why, *zh_why;
};

/* The state of each part's parse; one struct, the part in use decides which fields matter. */
struct ctx {
    struct part part;
    /* workbook.xml: the first sheet's relationship id; rels: its target */
    char *sheet_rid;
    char *sheet_target;
    /* sharedStrings.xml */
    struct strs strs;
    int in_si, in_t, in_rph; /* inside <si>, <t>, and a phonetic run <rPh> (skipped) */
    struct sheet_text text;  /* the text being collected (a string item or a cell) */
    /* the worksheet */
    int in_row, in_c, in_v, in_is;
    long row_no, last_row;
    long col;       /* the cell's column, 0-based */
    long next_col;  /* the column after the last cell of this row */
    char ctype[16]; /* the cell's t attribute */
    struct sheet_rowbuf row;
    eb_sheet_row_fn fn;
    void *fn_ctx;
    int fn_rc;
    long rows;
};

static const char *local_name(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(local_name(atts[i]), name) == 0)
            return atts[i + 1];
    return NULL;
}

static void fail(struct ctx *c, const char *why, const char *zh_why)
{
    if (!c->part.failed) {
        c->part.failed = 1;
        c->part.why = why;
        c->part.zh_why = zh_why;
    }
    XML_StopParser(c->part.p, XML_FALSE);
}

/* A workbook never declares a DTD; refusing one rules out entity expansion attacks. */
static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                       int has_internal)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal;
    fail(ud, "the workbook declares a DTD", "工作簿包含 DTD 声明");
}

static void on_text(void *ud, const XML_Char *s, int len)
{
    struct ctx *c = ud;
    int collecting = (c->in_t && !c->in_rph) || c->in_v;
    if (!collecting || len <= 0)
        return;
    if (eb__sheet_text_add(&c->text, s, (size_t)len) != 0)
        fail(c, "a cell has more than 32767 characters", "单元格内容超过 32767 个字符");
}

/* ---- workbook.xml and its relationships ----------------------------------------------- */

static void wb_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct ctx *c = ud;
    if (c->sheet_rid == NULL && strcmp(local_name(name), "sheet") == 0) {
        const char *rid = attr(atts, "id");
        if (rid)
            c->sheet_rid = eb_xstrdup(rid);
    }
}

static void rels_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct ctx *c = ud;
    if (c->sheet_target == NULL && c->sheet_rid && strcmp(local_name(name), "Relationship") == 0) {
        const char *id = attr(atts, "Id"), *target = attr(atts, "Target");
        if (id && target && strcmp(id, c->sheet_rid) == 0)
            c->sheet_target = eb_xstrdup(target);
    }
}

/* ---- sharedStrings.xml -------------------------------------------------------------------- */

static void ss_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct ctx *c = ud;
    (void)atts;
    const char *n = local_name(name);
    if (strcmp(n, "si") == 0) {
        c->in_si = 1;
        c->text.len = 0;
    } else if (c->in_si && strcmp(n, "t") == 0) {
        c->in_t = 1;
    } else if (c->in_si && strcmp(n, "rPh") == 0) {
        c->in_rph = 1;
    }
}

static void ss_end(void *ud, const XML_Char *name)
{
    struct ctx *c = ud;
    const char *n = local_name(name);
    if (strcmp(n, "t") == 0) {
        c->in_t = 0;
    } else if (strcmp(n, "rPh") == 0) {
        c->in_rph = 0;
    } else if (strcmp(n, "si") == 0 && c->in_si) {
        c->in_si = 0;
        struct strs *s = &c->strs;
        if (s->n == EB_SHEET_MAX_STRINGS) {
            fail(c, "the workbook has too many distinct texts", "工作簿中的文本过多");
            return;
        }
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 256;
            s->v = eb_xrealloc(s->v, s->cap * sizeof(*s->v));
            s->lens = eb_xrealloc(s->lens, s->cap * sizeof(*s->lens));
        }
        s->v[s->n] = eb_xmalloc(c->text.len + 1);
        memcpy(s->v[s->n], c->text.buf ? c->text.buf : "", c->text.len);
        s->v[s->n][c->text.len] = '\0';
        s->lens[s->n] = c->text.len;
        s->n++;
    }
}

/* ---- the worksheet ---------------------------------------------------------------------- */

/* "BC12" -> column 54 (0-based); -1 when there are no letters. */
static long column_of(const char *ref)
{
    long col = 0;
    int any = 0;
    for (; *ref >= 'A' && *ref <= 'Z'; ref++) {
        col = col * 26 + (*ref - 'A' + 1);
        any = 1;
        if (col > 16384)
            return -1;
    }
    return any ? col - 1 : -1;
}

static void emit_row(struct ctx *c)
{
    if (c->fn_rc != 0 || c->row.n == 0)
        return;
    if (++c->rows > EB_SHEET_MAX_ROWS) {
        fail(c, "the sheet has more than 200000 rows", "工作表超过 200000 行");
        return;
    }
    c->fn_rc = eb__sheet_row_emit(&c->row, c->row_no, c->fn, c->fn_ctx);
    if (c->fn_rc != 0)
        XML_StopParser(c->part.p, XML_FALSE);
}

static void ws_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct ctx *c = ud;
    const char *n = local_name(name);
    if (strcmp(n, "row") == 0) {
        const char *r = attr(atts, "r");
        long no = r ? strtol(r, NULL, 10) : c->last_row + 1;
        if (no <= c->last_row || no > 1048576) {
            fail(c, "rows are out of order", "工作表的行顺序错误");
            return;
        }
        c->in_row = 1;
        c->row_no = no;
        c->next_col = 0;
        eb__sheet_row_reset(&c->row);
    } else if (c->in_row && strcmp(n, "c") == 0) {
        const char *r = attr(atts, "r"), *t = attr(atts, "t");
        long col = r ? column_of(r) : c->next_col;
        if (col < 0 || col < c->next_col) {
            fail(c, "cells are out of order", "单元格顺序错误");
            return;
        }
        if (col >= EB_SHEET_MAX_COLS) {
            fail(c, "the sheet has more than 256 columns", "工作表超过 256 列");
            return;
        }
        c->in_c = 1;
        c->col = col;
        c->next_col = col + 1;
        snprintf(c->ctype, sizeof(c->ctype), "%s", t ? t : "n");
        c->text.len = 0;
    } else if (c->in_c && strcmp(n, "v") == 0) {
        c->in_v = 1;
    } else if (c->in_c && strcmp(n, "is") == 0) {
        c->in_is = 1;
    } else if (c->in_is && strcmp(n, "t") == 0) {
        c->in_t = 1;
    } else if (c->in_is && strcmp(n, "rPh") == 0) {
        c->in_rph = 1;
    }
}

static void ws_end(void *ud, const XML_Char *name)
{
    struct ctx *c = ud;
    const char *n = local_name(name);
    if (strcmp(n, "v") == 0) {
        c->in_v = 0;
    } else if (strcmp(n, "t") == 0) {
        c->in_t = 0;
    } else if (strcmp(n, "rPh") == 0) {
        c->in_rph = 0;
    } else if (strcmp(n, "is") == 0) {
        c->in_is = 0;
    } else if (strcmp(n, "c") == 0 && c->in_c) {
        c->in_c = 0;
        const char *v = c->text.buf ? c->text.buf : "";
        size_t vlen = c->text.len;
        if (strcmp(c->ctype, "s") == 0) {
            char *end = NULL;
            unsigned long i = strtoul(v, &end, 10);
            if (vlen == 0 || end == NULL || *end != '\0' || i >= c->strs.n) {
                fail(c, "a cell refers to a missing shared string",
                     "单元格引用了不存在的共享字符串");
                return;
            }
            v = c->strs.v[i];
            vlen = c->strs.lens[i];
        } else if (strcmp(c->ctype, "b") == 0) {
            v = strcmp(v, "1") == 0 ? "TRUE" : "FALSE";
            vlen = strlen(v);
        }
        if (eb__sheet_row_set(&c->row, (size_t)c->col, v, vlen) != 0)
            fail(c, "a row is too large", "单行数据过大");
    } else if (strcmp(n, "row") == 0 && c->in_row) {
        c->in_row = 0;
        c->last_row = c->row_no;
        emit_row(c);
    }
}

/* ---- parts ------------------------------------------------------------------------------ */

/* Streams one member of the archive through a fresh expat parser with the given handlers.
 * Returns 0, EB_EINVAL (why set), or the row callback's return. */
static int parse_part(zip_t *z, const char *name, struct ctx *c, XML_StartElementHandler start,
                      XML_EndElementHandler end, int required)
{
    zip_file_t *f = zip_fopen(z, name, 0);
    if (f == NULL) {
        if (!required)
            return 0;
        fail(c, "the workbook lacks a part it needs", "工作簿缺少必需的部分");
        return EB_EINVAL;
    }
    XML_Parser p = XML_ParserCreate("UTF-8");
    char *buf = eb_xmalloc(CHUNK);
    size_t total = 0;
    int rc = 0;
    c->part.p = p;
    XML_SetUserData(p, c);
    XML_SetElementHandler(p, start, end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    for (;;) {
        zip_int64_t got = zip_fread(f, buf, CHUNK);
        if (got < 0) {
            fail(c, "the workbook is damaged (a zip member cannot be read)",
                 "工作簿已损坏（无法解压）");
            break;
        }
        total += (size_t)got;
        if (total > EB_SHEET_MAX_XML) {
            fail(c, "a part of the workbook is larger than 256 MB", "工作簿的某一部分超过 256 MB");
            break;
        }
        if (XML_Parse(p, buf, (int)got, got == 0) == XML_STATUS_ERROR) {
            if (!c->part.failed && c->fn_rc == 0)
                fail(c, "the workbook's XML is malformed", "工作簿的 XML 格式错误");
            break;
        }
        if (got == 0 || c->part.failed || c->fn_rc != 0)
            break;
    }
    eb_free(buf);
    XML_ParserFree(p);
    c->part.p = NULL;
    zip_fclose(f);
    if (c->fn_rc != 0)
        rc = c->fn_rc;
    else if (c->part.failed)
        rc = EB_EINVAL;
    return rc;
}

/* The worksheet's member name from the relationship target ("worksheets/sheet1.xml" is relative
 * to xl/; "/xl/worksheets/sheet1.xml" is absolute). */
static char *sheet_member(const char *target)
{
    if (target[0] == '/')
        return eb_xstrdup(target + 1);
    size_t n = strlen(target) + 4;
    char *m = eb_xmalloc(n);
    snprintf(m, n, "xl/%s", target);
    return m;
}

int eb__sheet_read_xlsx(const void *data, size_t len, eb_sheet_row_fn fn, void *fn_ctx,
                        const char **why, const char **zh_why)
{
    struct ctx c = {0};
    zip_error_t ze;
    zip_t *z = NULL;
    char *member = NULL;
    int rc = EB_EINVAL;
    c.fn = fn;
    c.fn_ctx = fn_ctx;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    if (src != NULL) {
        z = zip_open_from_source(src, ZIP_RDONLY, &ze);
        if (z == NULL)
            zip_source_free(src);
    }
    zip_error_fini(&ze);
    if (z == NULL) {
        c.part.why = "not an xlsx workbook (not a zip archive)";
        c.part.zh_why = "不是 xlsx 工作簿（不是 zip 文件）";
        goto done;
    }
    rc = parse_part(z, "xl/workbook.xml", &c, wb_start, NULL, 1);
    if (rc == 0)
        rc = parse_part(z, "xl/_rels/workbook.xml.rels", &c, rels_start, NULL, 1);
    if (rc == 0 && c.sheet_target == NULL) {
        c.part.why = "the workbook has no worksheet";
        c.part.zh_why = "工作簿中没有工作表";
        rc = EB_EINVAL;
    }
    if (rc == 0)
        rc = parse_part(z, "xl/sharedStrings.xml", &c, ss_start, ss_end, 0);
    if (rc == 0) {
        member = sheet_member(c.sheet_target);
        rc = parse_part(z, member, &c, ws_start, ws_end, 1);
    }
done:
    if (rc == EB_EINVAL) {
        *why = c.part.why ? c.part.why : "the workbook cannot be read";
        *zh_why = c.part.zh_why ? c.part.zh_why : "无法读取工作簿";
    }
    if (z)
        zip_discard(z);
    for (size_t i = 0; i < c.strs.n; i++)
        eb_free(c.strs.v[i]);
    eb_free(c.strs.v);
    eb_free(c.strs.lens);
    eb_free(c.sheet_rid);
    eb_free(c.sheet_target);
    eb_free(member);
    eb__sheet_text_free(&c.text);
    eb__sheet_row_free(&c.row);
    return rc;
}
