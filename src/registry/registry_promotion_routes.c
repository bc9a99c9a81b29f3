/* Handlers for the year-end promotion of a school: preview, apply, undo, confirm, the runs. */
#include "registry/registry.h"
#include "registry/registry_int.h"
#include "core/err.h"
#include "json/json.h"

#include <string.h>

static void run_fields(struct eb_jw *w, const struct eb_promotion *p)
{
    eb_jw_kid(w, "id", p->run_id);
    eb_jw_kint(w, "school_id", p->school_id);
    eb_jw_kint(w, "from_year", p->from_year);
    eb_jw_kint(w, "to_year", p->to_year);
    eb_jw_kstr(w, "date", p->date);
    eb_jw_kstr(w, "state", p->state);
    eb_jw_kint(w, "n_classes", p->n_classes);
    eb_jw_kint(w, "n_promoted", p->n_promoted);
    eb_jw_kint(w, "n_graduated", p->n_graduated);
    eb_jw_kint(w, "created_at", p->created_at);
}

static void item_fields(struct eb_jw *w, const struct eb_promotion_item *it)
{
    eb_jw_kint(w, "class_id", it->class_id);
    eb_jw_kstr(w, "class_name", it->class_name);
    eb_jw_kstr(w, "grade_code", it->grade_code);
    eb_jw_kint(w, "n_students", it->n_students);
    eb_jw_kint(w, "n_teachers", it->n_teachers);
    eb_jw_kbool(w, "graduating", it->graduating);
    eb_jw_kstr(w, "new_grade_code", it->new_grade_code);
    eb_jw_kstr(w, "new_grade_name", it->new_grade_name);
    eb_jw_kstr(w, "new_class_name", it->new_class_name);
    eb_jw_kid(w, "new_class_id", it->new_class_id);
}

static int school_param(struct eb_req *r, int64_t *id)
{
    if (eb_http_param_id(r, "id", id)) {
        eb_http_error(r, 404, "not_found", NULL);
        return 1;
    }
    return 0;
}

/* Reads the runs first: it answers 404 for a school out of scope (like a missing one) before
 * anything about the body is said. *out gets the runs. */
static int runs_of(struct eb_req *r, int64_t id, size_t *n, struct eb_promotion **items)
{
    int rc = eb_store_promotion_runs(r->db, &r->caller, id, r->arena, n, items);
    if (rc == EB_EINVAL) {
        eb__registry_bad_field(r, "id", "not a school");
        return 1;
    }
    if (rc) {
        eb_http_fail(r, rc, NULL);
        return 1;
    }
    return 0;
}

int eb_promotion_list(struct eb_req *r)
{
    int64_t id;
    size_t n = 0;
    struct eb_promotion *items = NULL;
    if (school_param(r, &id) || runs_of(r, id, &n, &items))
        return 0;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_registry_page_begin(&w);
    for (size_t i = 0; i < n; i++) {
        eb_jw_obj_begin(&w);
        run_fields(&w, &items[i]);
        eb_jw_obj_end(&w);
    }
    eb_registry_page_end(&w, 0);
    return eb_http_stream_end(r, &w);
}

int eb_promotion_run(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"from_year", EB_JSON_INT, 1, 0, 0},
        {"to_year", EB_JSON_INT, 1, 0, 0},
        {"date", EB_JSON_STRING, 1, 0, 10},
    };
    int64_t id;
    size_t n = 0;
    struct eb_promotion *runs = NULL;
    if (school_param(r, &id) || runs_of(r, id, &n, &runs))
        return 0;
    const char *pv = eb_http_query(r, "preview");
    if (pv != NULL && strcmp(pv, "1") != 0 && strcmp(pv, "0") != 0)
        return eb_http_error(r, 400, "bad_request", "preview must be 1 or 0");
    int preview = pv != NULL && strcmp(pv, "1") == 0;
    const char *why = NULL;
    if (r->json == NULL || eb_json_check(r->json, f, 3, r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why ? why : "missing field 'from_year'");
    if (eb__registry_check_date(r, "date", 1))
        return 0;
    int64_t from = 0, to = 0;
    eb_json_int(r->json, "from_year", &from);
    eb_json_int(r->json, "to_year", &to);
    if (from < 2000 || from > 2099)
        return eb__registry_bad_field(r, "from_year", "must be 2000..2099");
    if (to != from + 1)
        return eb__registry_bad_field(r, "to_year", "must be from_year + 1");
    const char *date = eb_json_str(r->json, "date");
    /* The changeover day lies in the year the new school year starts in. */
    if (strncmp(date, eb_arena_printf(r->arena, "%04lld-", (long long)to), 5) != 0)
        return eb__registry_bad_field(r, "date", "must lie in the calendar year to_year");
    struct eb_promotion p;
    int rc = eb_store_promotion_run(r->db, &r->caller, id, (int)from, (int)to, date, preview,
                                    r->arena, &p, &why);
    if (rc == EB_ECONFLICT && why != NULL)
        return eb_http_error(r, 409, why, NULL);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "date", "before the start of a current enrolment");
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, preview ? 200 : 201, &w);
    eb_jw_obj_begin(&w);
    run_fields(&w, &p);
    eb_jw_key(&w, "items");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < p.n; i++) {
        eb_jw_obj_begin(&w);
        item_fields(&w, &p.items[i]);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

static int run_change(struct eb_req *r, int undo)
{
    int64_t id, run;
    size_t n = 0;
    struct eb_promotion *runs = NULL;
    if (school_param(r, &id) || runs_of(r, id, &n, &runs))
        return 0;
    if (eb_http_param_id(r, "run", &run))
        return eb_http_error(r, 404, "not_found", NULL);
    const char *why = NULL;
    int rc = undo ? eb_store_promotion_undo(r->db, &r->caller, id, run, &why)
                  : eb_store_promotion_confirm(r->db, &r->caller, id, run, &why);
    if (rc == EB_ECONFLICT && why != NULL)
        return eb_http_error(r, 409, why, NULL);
    if (rc)
        return rc;
    rc = eb_store_promotion_runs(r->db, &r->caller, id, r->arena, &n, &runs);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (runs[i].run_id != run)
            continue;
        struct eb_jw w;
        eb_http_stream(r, 200, &w);
        eb_jw_obj_begin(&w);
        run_fields(&w, &runs[i]);
        eb_jw_obj_end(&w);
        return eb_http_stream_end(r, &w);
    }
    return EB_ENOTFOUND;
}

int eb_promotion_undo(struct eb_req *r)
{
    return run_change(r, 1);
}

int eb_promotion_confirm(struct eb_req *r)
{
    return run_change(r, 0);
}
