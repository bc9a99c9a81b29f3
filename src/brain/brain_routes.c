/* Handlers of the brain core: data elements, observations (a JSON batch or a CSV/xlsx upload)
 * and the cube's raw cells (for debugging and the tests). */
#include "brain/brain_routes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "brain/brain.h"
#include "brain/brain_int.h"
#include "core/err.h"
#include "json/json.h"

#define OBS_MAX_ROWS 10000 /* per request (docs/internals/brain.md) */

static int no_brain(struct eb_req *r)
{
    return eb_http_error(r, 503, "unavailable", NULL);
}

/* ---- data elements ------------------------------------------------------------------------- */

static void element_json(struct eb_jw *w, const struct eb_element_row *e, int writable)
{
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "id", e->id);
    eb_jw_kstr(w, "code", e->code);
    eb_jw_key(w, "name");
    eb_jw_obj_begin(w);
    eb_jw_kstr(w, "zh", e->name_zh);
    eb_jw_kstr(w, "en", e->name_en);
    eb_jw_obj_end(w);
    eb_jw_key(w, "unit");
    eb_jw_obj_begin(w);
    eb_jw_kstr(w, "zh", e->unit_zh);
    eb_jw_kstr(w, "en", e->unit_en);
    eb_jw_obj_end(w);
    eb_jw_kstr(w, "type", e->value_type);
    eb_jw_kstr(w, "aggregation", e->aggregation);
    eb_jw_kstr(w, "level", eb_org_kind_name(e->level));
    eb_jw_kbool(w, "per_person", e->per_person);
    eb_jw_key(w, "min");
    eb_jw_real(w, e->min);
    eb_jw_key(w, "max");
    eb_jw_real(w, e->max);
    eb_jw_kbool(w, "builtin", e->builtin);
    if (writable >= 0)
        eb_jw_kbool(w, "writable", writable);
    eb_jw_obj_end(w);
}

/* A node the caller reports at (and, for an administrator's grant, below). */
struct report_org {
    int64_t id;
    const char *name;
    enum eb_org_kind kind;
};

/*
 * Where the caller reports, for the upload page: the nodes of its administrator grants (the
 * subtrees below them too) and the classes it heads or teaches, with the highest level an
 * administrator grant reaches (*top_kind, 0 when none): an element of level L is the caller's
 * when some grant sits at L or above, or L is the class and the caller has classes.
 */
static int report_orgs(struct eb_req *r, const struct eb_obs_scope *s, struct report_org **out,
                       size_t *n, int *top_kind)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    *top_kind = 0;
    for (size_t i = 0; i < r->caller.n_grants; i++) {
        const struct eb_grant *g = &r->caller.grants[i];
        if (g->role != EB_ROLE_CITY_ADMIN && g->role != EB_ROLE_DISTRICT_ADMIN &&
            g->role != EB_ROLE_SCHOOL_ADMIN)
            continue;
        int dup = 0;
        for (size_t j = 0; j < *n; j++)
            dup |= (*out)[j].id == g->org_id;
        struct eb_org org;
        if (dup || eb_store_org_head(r->db, &r->caller, g->org_id, r->arena, &org) != 0)
            continue;
        *out = eb_arena_grow(r->arena, *out, *n, &cap, sizeof(**out));
        if (*out == NULL)
            return EB_ETOOBIG;
        (*out)[(*n)++] = (struct report_org){org.id, org.name, org.kind};
        if (*top_kind == 0 || (int)org.kind < *top_kind)
            *top_kind = (int)org.kind;
    }
    for (size_t i = 0; i < s->n_classes; i++) {
        *out = eb_arena_grow(r->arena, *out, *n, &cap, sizeof(**out));
        if (*out == NULL)
            return EB_ETOOBIG;
        (*out)[(*n)++] = (struct report_org){s->classes[i].id, s->classes[i].name, EB_ORG_CLASS};
    }
    return 0;
}

/* Everyone signed in reads the definitions: they name what the city measures, not who. Each
 * says whether the caller may report it, and report_orgs where (the upload page's choices). */
int eb_brain_elements_list_handler(struct eb_req *r)
{
    if (r->caller.account_id == 0 && !r->caller.system && r->caller.n_grants == 0)
        return eb_http_fail(r, EB_EAUTH, NULL);
    size_t n = 0;
    struct eb_element_row *items = NULL;
    int rc = eb_store_elements_list(r->db, r->arena, &n, &items);
    if (rc)
        return rc;
    struct eb_obs_scope scope;
    rc = eb_store_obs_scope(r->db, &r->caller, eb_day_today(), r->arena, &scope);
    if (rc)
        return rc;
    struct report_org *orgs = NULL;
    size_t n_orgs = 0;
    int top = 0;
    rc = report_orgs(r, &scope, &orgs, &n_orgs, &top);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_key(&w, "items");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        int lv = (int)items[i].level;
        int writable = r->caller.system || (top != 0 && top <= lv) ||
                       (lv == EB_ORG_CLASS && scope.n_classes > 0);
        element_json(&w, &items[i], writable);
    }
    eb_jw_arr_end(&w);
    eb_jw_key(&w, "report_orgs");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n_orgs; i++) {
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "id", orgs[i].id);
        eb_jw_kstr(&w, "name", orgs[i].name);
        eb_jw_kstr(&w, "kind", eb_org_kind_name(orgs[i].kind));
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

static int code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '.'))
            return 0;
    return 1;
}

static int bad(struct eb_req *r, const char *field, const char *why)
{
    return eb_http_error(r, 400, "invalid_field",
                         eb_arena_printf(r->arena, "field '%s': %s", field, why));
}

int eb_brain_element_create_handler(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"code", EB_JSON_STRING, 1, 0, 64},        {"name_zh", EB_JSON_STRING, 1, 0, 100},
        {"name_en", EB_JSON_STRING, 1, 0, 100},    {"unit_zh", EB_JSON_STRING, 0, 1, 32},
        {"unit_en", EB_JSON_STRING, 0, 1, 32},     {"type", EB_JSON_STRING, 1, 0, 16},
        {"aggregation", EB_JSON_STRING, 1, 0, 16}, {"level", EB_JSON_STRING, 1, 0, 16},
        {"per_person", EB_JSON_BOOL, 0, 1, 0},     {"min", EB_JSON_NUMBER, 1, 0, 0},
        {"max", EB_JSON_NUMBER, 1, 0, 0},
    };
    const char *why = NULL;
    /* The role first: a teacher learns nothing from the validation of a body. */
    int admin = r->caller.system;
    for (size_t i = 0; i < r->caller.n_grants; i++)
        admin |= r->caller.grants[i].role == EB_ROLE_CITY_ADMIN ||
                 r->caller.grants[i].role == EB_ROLE_DISTRICT_ADMIN;
    if (!admin)
        return eb_http_fail(r, EB_EDENIED, NULL);
    if (eb_json_check(r->json, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_element_row e = {0};
    e.code = eb_json_str(r->json, "code");
    e.name_zh = eb_json_str(r->json, "name_zh");
    e.name_en = eb_json_str(r->json, "name_en");
    e.unit_zh = eb_json_str(r->json, "unit_zh");
    e.unit_en = eb_json_str(r->json, "unit_en");
    e.value_type = eb_json_str(r->json, "type");
    e.aggregation = eb_json_str(r->json, "aggregation");
    e.level = eb_org_kind_parse(eb_json_str(r->json, "level"));
    e.per_person = json_is_true(json_object_get(r->json, "per_person"));
    eb_json_num(r->json, "min", &e.min);
    eb_json_num(r->json, "max", &e.max);
    if (!code_ok(e.code))
        return bad(r, "code", "1 to 64 of a-z 0-9 _ .");
    enum eb_vtype t = eb_vtype_parse(e.value_type);
    if (t == 0)
        return bad(r, "type", "number, integer or boolean");
    if (eb_agg_parse(e.aggregation) == 0)
        return bad(r, "aggregation", "sum, average, count, last, min or max");
    if (e.level == 0)
        return bad(r, "level", "city, district, school, grade or class");
    if (!isfinite(e.min) || !isfinite(e.max) || e.max < e.min)
        return bad(r, "max", "must not be below min");
    if (t == EB_VT_BOOLEAN && (e.min < 0 || e.max > 1))
        return bad(r, "max", "a boolean lies in 0..1");
    int32_t id = 0;
    int rc = eb_store_element_create(r->db, &r->caller, &e, &id);
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "code");
    if (rc)
        return rc;
    if (r->app->brain)
        eb_brain_elements_reload(r->app->brain);
    e.id = id;
    struct eb_jw w;
    eb_http_stream(r, 201, &w);
    element_json(&w, &e, -1);
    return eb_http_stream_end(r, &w);
}

/* ---- observations: a JSON batch ------------------------------------------------------------ */

/* A row-level finding before the brain sees the batch (format, unknown element). */
struct report {
    struct eb_obs_error *v;
    size_t n, cap;
};

static int report_add(struct eb_req *r, struct report *rep, size_t row, const char *field,
                      const char *en, const char *zh)
{
    if (rep->v == NULL) {
        rep->cap = 16;
        rep->v = eb_arena_alloc(r->arena, rep->cap * sizeof(*rep->v));
    } else {
        rep->v = eb_arena_grow(r->arena, rep->v, rep->n, &rep->cap, sizeof(*rep->v));
    }
    if (rep->v == NULL)
        return EB_ETOOBIG;
    rep->v[rep->n++] = (struct eb_obs_error){row, field, en, zh};
    return 0;
}

/* The 400 answer: nothing was written, and why, row by row (rows count from 0). */
static int rows_answer(struct eb_req *r, const struct eb_obs_error *e, size_t n)
{
    int en = r->lang == EB_LANG_EN;
    const char *code = "invalid_observations";
    const char *msg =
        en ? "The batch has invalid rows; nothing was written" : "批次中有无效数据，未写入任何记录";
    struct eb_jw w;
    eb_http_stream(r, 400, &w);
    eb_jw_obj_begin(&w);
    eb_jw_key(&w, "error");
    eb_jw_obj_begin(&w);
    eb_jw_kstr(&w, "code", code);
    eb_jw_kstr(&w, "message", msg);
    eb_jw_obj_end(&w);
    eb_jw_key(&w, "rows");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n && i < 1000; i++) {
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "row", (int64_t)e[i].row);
        eb_jw_kstr(&w, "field", e[i].field);
        eb_jw_key(&w, "message");
        eb_jw_obj_begin(&w);
        eb_jw_kstr(&w, "zh", e[i].why_zh);
        eb_jw_kstr(&w, "en", e[i].why_en);
        eb_jw_obj_end(&w);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_kint(&w, "errors", (int64_t)n);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

static const char *const ROW_KEYS[] = {"element", "org_id",   "person_id",  "day",
                                       "value",   "category", "supersedes", "reason"};

/* One JSON row into o; findings go to rep. *last caches the element of the previous row: a
 * batch names few elements, usually one. */
static int parse_row(struct eb_req *r, const json_t *j, size_t i, struct eb_obs *o,
                     struct report *rep, const struct eb_element **last)
{
    const struct eb_brain *b = r->app->brain;
    int rc = 0;
    if (!json_is_object(j))
        return report_add(r, rep, i, "", "must be an object", "必须是对象");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)(uintptr_t)j, key, v)
    {
        int known = 0;
        for (size_t k = 0; k < sizeof(ROW_KEYS) / sizeof(ROW_KEYS[0]); k++)
            known |= strcmp(key, ROW_KEYS[k]) == 0;
        if (!known && rc == 0) {
            const char *f = eb_arena_strdup(r->arena, key);
            rc = report_add(r, rep, i, f ? f : "", "unknown field", "未知字段");
        }
    }
    const json_t *el = json_object_get(j, "element");
    const struct eb_element *e = NULL;
    if (json_is_string(el) && *last && strcmp((*last)->code, json_string_value(el)) == 0)
        e = *last;
    else if (json_is_string(el))
        e = eb_brain_element_by_code(b, json_string_value(el));
    if (e)
        *last = e;
    if (!json_is_string(el))
        rc = rc ? rc
                : report_add(r, rep, i, "element", "required: a data element code",
                             "必填：数据元素代码");
    else if (e == NULL)
        rc = rc ? rc : report_add(r, rep, i, "element", "unknown data element", "未知的数据元素");
    else
        o->element_id = e->id;
    const json_t *org = json_object_get(j, "org_id");
    if (!json_is_integer(org) || json_integer_value(org) <= 0)
        rc = rc ? rc : report_add(r, rep, i, "org_id", "required: an org id", "必填：机构编号");
    else
        o->org_id = json_integer_value(org);
    const json_t *person = json_object_get(j, "person_id");
    if (person != NULL && !json_is_null(person)) {
        if (!json_is_integer(person) || json_integer_value(person) <= 0)
            rc = rc ? rc
                    : report_add(r, rep, i, "person_id", "must be a person id", "必须是人员编号");
        else
            o->person_id = json_integer_value(person);
    }
    const json_t *day = json_object_get(j, "day");
    if (!json_is_string(day) || eb_day_parse(json_string_value(day), &o->day) != 0)
        rc = rc ? rc
                : report_add(r, rep, i, "day", "required: a date YYYY-MM-DD",
                             "必填：日期 YYYY-MM-DD");
    const json_t *val = json_object_get(j, "value");
    if (json_is_true(val) || json_is_false(val))
        o->value = json_is_true(val) ? 1 : 0;
    else if (json_is_number(val))
        o->value = json_number_value(val);
    else
        rc = rc ? rc : report_add(r, rep, i, "value", "required: a number", "必填：数值");
    const json_t *cat = json_object_get(j, "category");
    if (cat != NULL && !json_is_null(cat)) {
        if (!json_is_string(cat))
            rc = rc ? rc : report_add(r, rep, i, "category", "must be a string", "必须是字符串");
        else
            o->category = json_string_value(cat);
    }
    const json_t *sup = json_object_get(j, "supersedes");
    if (sup != NULL && !json_is_null(sup)) {
        if (!json_is_integer(sup) || json_integer_value(sup) <= 0)
            rc = rc ? rc
                    : report_add(r, rep, i, "supersedes", "must be an observation id",
                                 "必须是记录编号");
        else
            o->supersedes = json_integer_value(sup);
    }
    const json_t *why = json_object_get(j, "reason");
    if (why != NULL && !json_is_null(why)) {
        if (!json_is_string(why))
            rc = rc ? rc : report_add(r, rep, i, "reason", "must be a string", "必须是字符串");
        else
            o->reason = json_string_value(why);
    }
    return rc;
}

/* Submits parsed rows; answers 201 with the ids, or the report. */
static int submit_rows(struct eb_req *r, struct eb_obs *rows, size_t n)
{
    struct eb_obs_error *errs = NULL;
    size_t n_errs = 0;
    int rc = eb_brain_submit(r->app->brain, &r->caller, rows, n, r->arena, &errs, &n_errs);
    /* A row naming an org (or a row to correct) outside the scope: the plain missing-id
     * answer, which says nothing about which one, exactly as for an id that does not exist. */
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", NULL);
    if (rc == EB_EINVAL && n_errs > 0)
        return rows_answer(r, errs, n_errs);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 201, &w);
    eb_jw_obj_begin(&w);
    eb_jw_key(&w, "ids");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
        eb_jw_int(&w, rows[i].id);
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

static int by_row(const void *x, const void *y)
{
    const struct eb_obs_error *a = x, *b = y;
    return (a->row > b->row) - (a->row < b->row);
}

/* Some rows were malformed: the well-formed ones are validated too (nothing is written), so
 * that one answer lists every finding of the batch. */
static int report_all(struct eb_req *r, const struct eb_obs *rows, size_t n, struct report *rep)
{
    unsigned char *bad = eb_arena_alloc(r->arena, n);
    struct eb_obs *good = eb_arena_alloc(r->arena, n * sizeof(*good));
    size_t *map = eb_arena_alloc(r->arena, n * sizeof(*map));
    if (bad == NULL || good == NULL || map == NULL)
        return EB_ETOOBIG;
    for (size_t i = 0; i < rep->n; i++)
        bad[rep->v[i].row] = 1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!bad[i]) {
            good[m] = rows[i];
            map[m++] = i;
        }
    struct eb_obs_error *errs = NULL;
    size_t n_errs = 0;
    int rc =
        m ? eb__brain_validate(r->app->brain, &r->caller, good, m, r->arena, &errs, &n_errs) : 0;
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", NULL);
    for (size_t i = 0; rc == EB_EINVAL && i < n_errs; i++) {
        int arc =
            report_add(r, rep, map[errs[i].row], errs[i].field, errs[i].why_en, errs[i].why_zh);
        if (arc)
            return arc;
    }
    qsort(rep->v, rep->n, sizeof(*rep->v), by_row);
    return rows_answer(r, rep->v, rep->n);
}

int eb_brain_observations_handler(struct eb_req *r)
{
    /* The role first: students, parents and analysts never report, whatever the rows say. */
    if (!eb_store_obs_reporter(&r->caller))
        return eb_http_fail(r, EB_EDENIED, NULL);
    if (r->app->brain == NULL)
        return no_brain(r);
    const json_t *arr = json_object_get(r->json, "observations");
    if (json_object_size(r->json) != 1 || !json_is_array(arr))
        return eb_http_fail(r, EB_EINVAL, "field 'observations': expected an array of rows");
    size_t n = json_array_size(arr);
    if (n == 0)
        return eb_http_fail(r, EB_EINVAL, "field 'observations': no rows");
    if (n > OBS_MAX_ROWS)
        return eb_http_error(r, 413, "too_large", "at most 10000 observations per request");
    struct eb_obs *rows = eb_arena_alloc(r->arena, n * sizeof(*rows));
    if (rows == NULL)
        return EB_ETOOBIG;
    struct report rep = {0};
    const struct eb_element *last = NULL;
    for (size_t i = 0; i < n; i++) {
        int rc = parse_row(r, json_array_get(arr, i), i, &rows[i], &rep, &last);
        if (rc)
            return rc;
    }
    if (rep.n > 0)
        return report_all(r, rows, n, &rep);
    return submit_rows(r, rows, n);
}

/* ---- observations: a sheet ------------------------------------------------------------------ */

/* The roster templates' report: findings with the file's line, the column and both languages. */
static int upload_answer(struct eb_req *r, const struct eb__sheet_obs *u,
                         const struct eb_obs_error *e, size_t n_e, int written)
{
    struct eb_jw w;
    eb_http_stream(r, written ? 201 : 422, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kbool(&w, "ok", n_e == 0);
    eb_jw_kint(&w, "rows", (int64_t)u->n);
    eb_jw_kint(&w, "created", written ? (int64_t)u->n : 0);
    eb_jw_kbool(&w, "written", written);
    eb_jw_kint(&w, "errors", (int64_t)n_e);
    eb_jw_kint(&w, "warnings", 0);
    eb_jw_key(&w, "findings");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n_e && i < 1000; i++) {
        long line = u->file_line ? u->file_line : e[i].row < u->n ? u->lines[e[i].row] : 0;
        eb_jw_obj_begin(&w);
        eb_jw_kstr(&w, "severity", "error");
        eb_jw_kint(&w, "line", line);
        eb_jw_kstr(&w, "column", eb__brain_sheet_column(e[i].field));
        eb_jw_kstr(&w, "code", e[i].field);
        eb_jw_key(&w, "message");
        eb_jw_obj_begin(&w);
        eb_jw_kstr(&w, "zh", e[i].why_zh);
        eb_jw_kstr(&w, "en", e[i].why_en);
        eb_jw_obj_end(&w);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

/* POST /orgs/{id}/observations/upload?element=CODE: the file is the body; rows without an org
 * are the node's, rows with one must lie under it. */
int eb_brain_upload_handler(struct eb_req *r)
{
    if (!eb_store_obs_reporter(&r->caller))
        return eb_http_fail(r, EB_EDENIED, NULL);
    if (r->app->brain == NULL)
        return no_brain(r);
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    struct eb_org org;
    /* Before anything of the file is read: 404 outside the read scope, like a missing node;
     * 403 for a node the caller sees but reports nothing at (neither the node nor one of the
     * caller's classes below it). The rows are checked one by one later. */
    int rc = eb_store_org_head(r->db, &r->caller, id, r->arena, &org);
    if (rc)
        return rc;
    struct eb_obs_scope scope;
    rc = eb_store_obs_scope(r->db, &r->caller, eb_day_today(), r->arena, &scope);
    if (rc)
        return rc;
    int mine = eb_store_obs_scope_allows(&scope, org.path);
    for (size_t i = 0; !mine && i < scope.n_classes; i++)
        mine = strncmp(scope.classes[i].path, org.path, strlen(org.path)) == 0;
    if (!mine)
        return eb_http_fail(r, EB_EDENIED, NULL);
    const struct eb_element *e =
        eb_brain_element_by_code(r->app->brain, eb_http_query(r, "element"));
    if (e == NULL)
        return eb_http_error(r, 400, "invalid_field", "element: a data element code");
    if (r->body == NULL || r->body_len == 0)
        return eb_http_error(r, 400, "bad_request", "an empty file");
    struct eb__sheet_obs u;
    rc = eb__brain_sheet_read(r->arena, r->body, r->body_len, e->id, id, &u);
    if (rc == EB_ETOOBIG)
        return eb_http_error(r, 413, "too_large", "at most 50000 rows");
    if (rc)
        return rc;
    if (u.n_errs > 0)
        return upload_answer(r, &u, u.errs, u.n_errs, 0);
    struct eb_obs_error *errs = NULL;
    size_t n_errs = 0;
    size_t cap = 0;
    for (size_t i = 0; i < u.n; i++) {
        struct eb_org o;
        if (u.rows[i].org_id == id)
            continue;
        if (eb_store_org_head(r->db, &r->caller, u.rows[i].org_id, r->arena, &o) != 0 ||
            strncmp(o.path, org.path, strlen(org.path)) != 0) {
            errs = eb_arena_grow(r->arena, errs, n_errs, &cap, sizeof(*errs));
            if (errs == NULL)
                return EB_ETOOBIG;
            errs[n_errs++] = (struct eb_obs_error){i, "org_id", "not under the org uploaded to",
                                                   "不属于上传的机构"};
        }
    }
    if (n_errs > 0)
        return upload_answer(r, &u, errs, n_errs, 0);
    rc = eb_brain_submit(r->app->brain, &r->caller, u.rows, u.n, r->arena, &errs, &n_errs);
    if (rc == EB_ENOTFOUND) /* rows were checked to lie under the node: a node since closed */
        return eb_http_error(r, 404, "not_found", NULL);
    if (rc == EB_EINVAL && n_errs > 0)
        return upload_answer(r, &u, errs, n_errs, 0);
    if (rc)
        return rc;
    return upload_answer(r, &u, NULL, 0, 1);
}

/* ---- the cube's cells --------------------------------------------------------------------------
 */

int eb_brain_cells_handler(struct eb_req *r)
{
    if (r->app->brain == NULL)
        return no_brain(r);
    const struct eb_element *e =
        eb_brain_element_by_code(r->app->brain, eb_http_query(r, "element"));
    if (e == NULL)
        return eb_http_error(r, 400, "invalid_field", "element: a data element code");
    const char *org_s = eb_http_query(r, "org");
    char *end = NULL;
    long long org_id = org_s ? strtoll(org_s, &end, 10) : 0;
    if (org_s == NULL || *end != '\0' || org_id <= 0)
        return eb_http_error(r, 400, "invalid_field", "org: an org id");
    struct eb_org org;
    int rc = eb_store_org_head(r->db, &r->caller, org_id, r->arena, &org);
    if (rc)
        return rc;
    /* Students and parents read their class node, not its figures (absences, health checks):
     * for them the cells are missing, like a node outside the scope. */
    int staff = r->caller.system;
    for (size_t i = 0; i < r->caller.n_grants; i++) {
        enum eb_role role = r->caller.grants[i].role;
        if (role != EB_ROLE_STUDENT && role != EB_ROLE_PARENT &&
            strncmp(org.path, r->caller.grants[i].org_path, strlen(r->caller.grants[i].org_path)) ==
                0)
            staff = 1;
    }
    if (!staff)
        return eb_http_error(r, 404, "not_found", NULL);
    eb_day today = eb_day_today(), from = today, to = today;
    const char *f = eb_http_query(r, "from"), *t = eb_http_query(r, "to");
    if (f && eb_day_parse(f, &from) != 0)
        return eb_http_error(r, 400, "invalid_field", "from: YYYY-MM-DD");
    if (t && eb_day_parse(t, &to) != 0)
        return eb_http_error(r, 400, "invalid_field", "to: YYYY-MM-DD");
    if (f && !t)
        to = from > today ? from : today;
    if (to < from)
        return eb_http_error(r, 400, "invalid_field", "to: not before from");
    struct eb_cube_value v;
    memset(&v, 0, sizeof(v));
    rc = eb_cube_get(eb_brain_cube(r->app->brain), e->id, org_id, from, to, &v);
    if (rc == EB_ENOTFOUND)
        memset(&v, 0, sizeof(v)); /* a node the cube has not met yet holds nothing */
    else if (rc)
        return rc;
    char fs[11], ts[11], ls[11];
    eb_day_format(from, fs);
    eb_day_format(to, ts);
    eb_day_format(v.last_day, ls);
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kstr(&w, "element", e->code);
    eb_jw_kref(&w, "org", org.id, org.name);
    eb_jw_kstr(&w, "from", fs);
    eb_jw_kstr(&w, "to", ts);
    eb_jw_kbool(&w, "warming", eb_brain_warming(r->app->brain));
    eb_jw_key(&w, "sum");
    eb_jw_real(&w, v.sum);
    eb_jw_kint(&w, "count", v.count);
    eb_jw_key(&w, "min");
    eb_jw_real(&w, v.min);
    eb_jw_key(&w, "max");
    eb_jw_real(&w, v.max);
    eb_jw_key(&w, "average");
    if (v.count > 0)
        eb_jw_real(&w, v.sum / (double)v.count);
    else
        eb_jw_null(&w);
    eb_jw_key(&w, "last");
    eb_jw_real(&w, v.last);
    eb_jw_kstr(&w, "last_day", v.count > 0 ? ls : NULL);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}
