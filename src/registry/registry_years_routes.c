/* Handlers for the school-year calendar: list, create, and the year and term as of a date. */
#include "registry/registry.h"
#include "registry/registry_ids.h"
#include "registry/registry_int.h"
#include "core/err.h"
#include "json/json.h"

#include <string.h>
#include <time.h>

static void term_fields(struct eb_jw *w, const struct eb_term *t)
{
    eb_jw_kint(w, "term", t->term);
    eb_jw_kstr(w, "start_date", t->start_date);
    eb_jw_kstr(w, "end_date", t->end_date);
}

static void year_object(struct eb_jw *w, const struct eb_school_year *y)
{
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "id", y->id);
    eb_jw_kstr(w, "name", y->name);
    eb_jw_kstr(w, "start_date", y->start_date);
    eb_jw_kstr(w, "end_date", y->end_date);
    eb_jw_key(w, "terms");
    eb_jw_arr_begin(w);
    for (int i = 0; i < y->n_terms; i++) {
        eb_jw_obj_begin(w);
        term_fields(w, &y->terms[i]);
        eb_jw_obj_end(w);
    }
    eb_jw_arr_end(w);
    eb_jw_obj_end(w);
}

int eb_registry_years_list(struct eb_req *r)
{
    size_t n = 0;
    struct eb_school_year *items = NULL;
    int rc = eb_store_year_list(r->db, &r->caller, r->arena, &n, &items);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_key(&w, "items");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
        year_object(&w, &items[i]);
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

/* Reads terms:[{term,start_date,end_date}...]; 0, or 1 when a 400 response has been set. */
static int read_terms(struct eb_req *r, struct eb_school_year *y)
{
    static const struct eb_json_field fields[] = {
        {"term", EB_JSON_INT, 1, 0, 0},
        {"start_date", EB_JSON_STRING, 1, 0, 10},
        {"end_date", EB_JSON_STRING, 1, 0, 10},
    };
    const json_t *arr = json_object_get(r->json, "terms");
    if (json_array_size(arr) != 2)
        return eb__registry_bad_field(r, "terms", "must list term 1 and term 2"), 1;
    for (size_t i = 0; i < 2; i++) {
        const json_t *t = json_array_get(arr, i);
        const char *why = NULL;
        if (!json_is_object(t))
            return eb__registry_bad_field(r, "terms", "each term is an object"), 1;
        if (eb_json_check(t, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
            return eb__registry_bad_field(r, eb_arena_printf(r->arena, "terms[%zu]", i), why), 1;
        int64_t no = 0;
        eb_json_int(t, "term", &no);
        y->terms[i].term = no == 1 || no == 2 ? (int)no : 0;
        y->terms[i].start_date = eb_json_str(t, "start_date");
        y->terms[i].end_date = eb_json_str(t, "end_date");
    }
    y->n_terms = 2;
    return 0;
}

int eb_registry_year_create(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"name", EB_JSON_STRING, 1, 0, 9},
        {"start_date", EB_JSON_STRING, 1, 0, 10},
        {"end_date", EB_JSON_STRING, 1, 0, 10},
        {"terms", EB_JSON_ARRAY, 1, 0, 0},
    };
    const char *why = NULL, *field = NULL;
    /* The role is checked before the body so that a teacher learns nothing from validation. */
    if (!r->caller.system) {
        int admin = 0;
        for (size_t i = 0; i < r->caller.n_grants; i++)
            admin |= r->caller.grants[i].role == EB_ROLE_CITY_ADMIN;
        if (!admin)
            return eb_http_fail(r, EB_EDENIED, NULL);
    }
    if (eb_json_check(r->json, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_school_year y = {0};
    y.name = eb_json_str(r->json, "name");
    y.start_date = eb_json_str(r->json, "start_date");
    y.end_date = eb_json_str(r->json, "end_date");
    if (read_terms(r, &y))
        return 0;
    if (eb_school_year_check(&y, &field, &why))
        return eb__registry_bad_field(r, field, why);
    int64_t id = 0;
    int rc = eb_store_year_create(r->db, &r->caller, &y, &id);
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "name");
    if (rc == EB_ECONFLICT)
        return eb__registry_bad_field(r, "start_date", "overlaps another school year");
    if (rc)
        return rc;
    struct eb_school_year created;
    rc = eb_store_year_get(r->db, &r->caller, id, r->arena, &created);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 201, &w);
    year_object(&w, &created);
    return eb_http_stream_end(r, &w);
}

int eb_registry_year_current(struct eb_req *r)
{
    const char *date = eb_http_query(r, "date");
    char today[16];
    const char *why = NULL;
    if (date == NULL) {
        /* The installation's local calendar day: a school day begins at local midnight. */
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        date = today;
    } else if (eb_date_check(date, &why)) {
        return eb__registry_bad_field(r, "date", why);
    }
    struct eb_school_year y;
    int term = 0;
    int rc = eb_store_year_as_of(r->db, &r->caller, date, r->arena, &y, &term);
    if (rc && rc != EB_ENOTFOUND)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kstr(&w, "date", date);
    eb_jw_key(&w, "school_year");
    if (rc == 0)
        year_object(&w, &y);
    else
        eb_jw_null(&w);
    eb_jw_key(&w, "term");
    if (rc == 0 && term > 0) {
        eb_jw_obj_begin(&w);
        term_fields(&w, &y.terms[term - 1]);
        eb_jw_obj_end(&w);
    } else {
        eb_jw_null(&w);
    }
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}
