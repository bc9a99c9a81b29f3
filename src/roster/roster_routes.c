/* Handlers of the roster templates: the blank workbook to fill in, and its import. */
#include "roster/roster.h"

#include <string.h>

#include "core/err.h"
#include "export/xlsx.h"

/* GET /roster-templates/{kind}.xlsx: the columns with required ones starred, text columns for
 * ID numbers, a drop-down for 性别, and a second sheet explaining each column. */
int eb_roster_template_handler(struct eb_req *r)
{
    static const char *sexes[] = {"男", "女", NULL};
    static const struct eb_xlsx_col notes_cols[] = {
        {"列名", 14}, {"是否必填", 10}, {"填写说明", 60}};
    const char *file = eb_http_param(r, "kind");
    int kind = -1;
    if (file && strcmp(file, "students.xlsx") == 0)
        kind = EB_ROSTER_STUDENTS;
    else if (file && strcmp(file, "teachers.xlsx") == 0)
        kind = EB_ROSTER_TEACHERS;
    if (kind < 0)
        return eb_http_error(r, 404, "not_found", NULL);
    size_t n = 0;
    const struct eb_roster_column *cols = eb_roster_columns((enum eb_roster_kind)kind, &n);
    struct eb_xlsx_col *heads = eb_arena_alloc(r->arena, n * sizeof(*heads));
    if (heads == NULL)
        return EB_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        heads[i].header =
            cols[i].required ? eb_arena_printf(r->arena, "%s*", cols[i].header) : cols[i].header;
        heads[i].width = strcmp(cols[i].key, "citizen_id") == 0 ? 22 : 14;
    }
    struct eb_xlsx *x = NULL;
    const char *title = kind == EB_ROSTER_STUDENTS ? "学生名册" : "教职工名册";
    int rc = eb_xlsx_open(title, heads, (int)n, &x);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *k = cols[i].key;
        if (strcmp(k, "citizen_id") == 0 || strcmp(k, "student_no") == 0 ||
            strcmp(k, "staff_no") == 0 || strcmp(k, "phone") == 0)
            rc = eb_xlsx_column_text(x, (int)i, heads[i].width);
        else if (strcmp(k, "sex") == 0)
            rc = eb_xlsx_column_list(x, (int)i, sexes);
    }
    if (rc == 0)
        rc = eb_xlsx_sheet(x, "填写说明", notes_cols, 3);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *cells[3] = {cols[i].header, cols[i].required ? "必填" : "选填",
                                cols[i].hint_zh};
        rc = eb_xlsx_row(x, cells);
    }
    if (rc) {
        eb_xlsx_discard(x);
        return rc;
    }
    return eb_xlsx_send(x, r, eb_arena_printf(r->arena, "%s模板.xlsx", title),
                        kind == EB_ROSTER_STUDENTS ? "students-template.xlsx"
                                                   : "teachers-template.xlsx");
}

/* POST /orgs/{id}/roster-import?kind=students|teachers[&dry_run=1]: the file is the body. */
int eb_roster_import_handler(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    int kind = eb_roster_kind_parse(eb_http_query(r, "kind"));
    if (kind < 0)
        return eb_http_error(r, 400, "invalid_field", "kind: students or teachers");
    const char *dry = eb_http_query(r, "dry_run");
    struct eb_roster_result res;
    struct eb_buf rep;
    eb_buf_init(&rep, 16u << 20);
    int rc = eb_roster_import(r->db, &r->caller, id, (enum eb_roster_kind)kind, r->body,
                              r->body_len, dry && strcmp(dry, "1") == 0, &res, &rep);
    if (rc == EB_EINVAL) {
        eb_buf_free(&rep);
        return eb_http_error(r, 400, "invalid_field", "id: rosters are imported into a school");
    }
    if (rc) {
        eb_buf_free(&rep);
        return rc;
    }
    /* A report with errors is still a complete answer about the file: 422 says nothing was
     * written and why, finding by finding. */
    r->status = res.errors ? 422 : 200;
    r->content_type = "application/json";
    eb_buf_reset(&r->out);
    rc = eb_buf_append(&r->out, rep.data ? rep.data : "{}", rep.data ? rep.len : 2);
    eb_buf_free(&rep);
    return rc;
}
