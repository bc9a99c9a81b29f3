/* Handlers for the org tree: read a node, its children and its people; create and change. */
#include "registry/registry.h"
#include "registry/registry_ids.h"
#include "registry/registry_int.h"
#include "app.h"
#include "core/cache.h"
#include "core/err.h"
#include "json/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int eb__registry_bad_field(struct eb_req *r, const char *field, const char *why)
{
    return eb_http_error(r, 400, "invalid_field", eb_arena_printf(r->arena, "%s: %s", field, why));
}

int eb__registry_check_date(struct eb_req *r, const char *field, int required)
{
    const char *v = eb_json_str(r->json, field);
    const char *why = NULL;
    if (!v) {
        if (!required)
            return 0;
        eb_http_error(r, 400, "missing_field", field);
        return 1;
    }
    if (eb_date_check(v, &why)) {
        eb__registry_bad_field(r, field, why);
        return 1;
    }
    return 0;
}

static int parse_int_arg(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s || strlen(s) > 18)
        return EB_EINVAL;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return EB_EINVAL;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno || v < min || v > max)
        return EB_EINVAL;
    *out = v;
    return 0;
}

int eb_registry_page_args(const struct eb_req *r, int64_t *after, int *limit)
{
    *after = 0;
    *limit = 100;
    const char *a = eb_http_query(r, "after");
    const char *l = eb_http_query(r, "limit");
    int64_t v;
    if (a) {
        if (parse_int_arg(a, 0, (int64_t)1 << 53, &v))
            return EB_EINVAL;
        *after = v;
    }
    if (l) {
        if (parse_int_arg(l, 1, 500, &v))
            return EB_EINVAL;
        *limit = (int)v;
    }
    return 0;
}

int eb_registry_org_get(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    struct eb_org o;
    int rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &o);
    if (rc)
        return rc;
    return eb_registry_send_org(r, 200, &o);
}

int eb_registry_org_children(struct eb_req *r)
{
    int64_t id, after;
    int limit;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    if (eb_registry_page_args(r, &after, &limit))
        return eb_http_error(r, 400, "bad_request", "after/limit");
    struct eb_org_list list;
    int rc = eb_store_org_children(r->db, &r->caller, id, after, limit, r->arena, &list);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_registry_page_begin(&w);
    for (size_t i = 0; i < list.n; i++) {
        eb_jw_obj_begin(&w);
        eb_registry_org_fields(&w, &list.items[i]);
        eb_jw_obj_end(&w);
    }
    eb_registry_page_end(&w, list.next);
    return eb_http_stream_end(r, &w);
}

int eb_registry_org_people(struct eb_req *r)
{
    int64_t id, after;
    int limit;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    if (eb_registry_page_args(r, &after, &limit))
        return eb_http_error(r, 400, "bad_request", "after/limit");
    const char *role = eb_http_query(r, "role");
    enum eb_people_filter filter;
    if (!role)
        filter = EB_PEOPLE_ALL;
    else if (strcmp(role, "student") == 0)
        filter = EB_PEOPLE_STUDENTS;
    else if (strcmp(role, "teacher") == 0)
        filter = EB_PEOPLE_TEACHERS;
    else if (strcmp(role, "parent") == 0)
        filter = EB_PEOPLE_PARENTS;
    else
        return eb_http_error(r, 400, "bad_request", "role must be student, teacher or parent");
    const char *text = eb_http_query(r, "q");
    if (text && text[0]) {
        /* A search is not cached: its answers are as many as the texts typed. */
        if (filter != EB_PEOPLE_STUDENTS && filter != EB_PEOPLE_TEACHERS)
            return eb_http_error(r, 400, "bad_request", "q needs role=student or role=teacher");
        if (strlen(text) > 64)
            return eb_http_error(r, 400, "invalid_field", "q: at most 64 bytes");
        struct eb_person_list found;
        int rc = eb_store_people_search(r->db, &r->caller, id, filter, text, after, limit, r->arena,
                                        &found);
        if (rc)
            return rc;
        struct eb_jw w;
        eb_http_stream(r, 200, &w);
        eb_registry_page_begin(&w);
        for (size_t i = 0; i < found.n; i++) {
            eb_jw_obj_begin(&w);
            eb_registry_person_fields(&w, &found.items[i]);
            eb_jw_obj_end(&w);
        }
        eb_registry_page_end(&w, found.next);
        return eb_http_stream_end(r, &w);
    }
    /*
     * People lists of schools, grades and classes are cached by the data version the store
     * reads (and scope-checks) first: a hit costs one indexed read instead of the roster query
     * and its rendering. The version moves in the same transaction as any change under the
     * node, in this process or another, so a hit is never stale.
     */
    int64_t version = -1;
    int rc = eb_store_people_version(r->db, &r->caller, id, &version);
    if (rc)
        return rc;
    const char *key = NULL;
    if (r->app->lists && version >= 0) {
        key = eb_arena_printf(r->arena, "people:%lld:%d:%lld:%d", (long long)id, (int)filter,
                              (long long)after, limit);
        if (key && eb_cache_get(r->app->lists, key, version, &r->out)) {
            r->status = 200;
            r->content_type = "application/json; charset=utf-8";
            return 0;
        }
    }
    struct eb_person_list list;
    rc = eb_store_org_people(r->db, &r->caller, id, filter, after, limit, r->arena, &list);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_registry_page_begin(&w);
    for (size_t i = 0; i < list.n; i++) {
        eb_jw_obj_begin(&w);
        eb_registry_person_fields(&w, &list.items[i]);
        eb_jw_obj_end(&w);
    }
    eb_registry_page_end(&w, list.next);
    rc = eb_http_stream_end(r, &w);
    if (rc == 0 && key && r->status == 200)
        eb_cache_put(r->app->lists, key, version, r->out.data, r->out.len);
    return rc;
}

static const struct eb_json_field org_fields[] = {
    {"parent_id", EB_JSON_INT, 1, 0, 0},       {"kind", EB_JSON_STRING, 1, 0, 16},
    {"name", EB_JSON_STRING, 1, 0, 120},       {"division_code", EB_JSON_STRING, 0, 1, 6},
    {"school_code", EB_JSON_STRING, 0, 1, 10}, {"running_type", EB_JSON_STRING, 0, 1, 3},
    {"stages", EB_JSON_ARRAY, 0, 1, 0},        {"urban_rural", EB_JSON_STRING, 0, 1, 3},
    {"address", EB_JSON_STRING, 0, 1, 200},    {"lat", EB_JSON_NUMBER, 0, 1, 0},
    {"lon", EB_JSON_NUMBER, 0, 1, 0},          {"grade_code", EB_JSON_STRING, 0, 1, 2},
    {"school_year", EB_JSON_INT, 0, 1, 0},
};

static int valid_grade_code(const char *g)
{
    static const char *codes[] = {"01", "02", "03", "11", "12", "13", "14", "15", "16", "21",
                                  "22", "23", "24", "31", "32", "33", "41", "42", "43"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(g, codes[i]) == 0)
            return 1;
    return 0;
}

/*
 * Reads and validates the descriptive fields of an org for its kind. Returns 0, or 1 when a
 * 400 response has been set.
 */
static int read_org_fields(struct eb_req *r, enum eb_org_kind kind, int creating, struct eb_org *o)
{
    const char *why = NULL;
    o->name = eb_json_str(r->json, "name");
    o->division_code = eb_json_str(r->json, "division_code");
    o->school_code = eb_json_str(r->json, "school_code");
    o->running_type = eb_json_str(r->json, "running_type");
    o->urban_rural = eb_json_str(r->json, "urban_rural");
    o->address = eb_json_str(r->json, "address");
    o->grade_code = eb_json_str(r->json, "grade_code");
    if (o->division_code && eb_division_code_check(o->division_code, &why))
        return eb__registry_bad_field(r, "division_code", why), 1;
    if (kind != EB_ORG_SCHOOL &&
        (o->school_code || o->running_type || o->urban_rural ||
         json_object_get(r->json, "stages") || json_object_get(r->json, "lat")))
        return eb__registry_bad_field(r, "kind", "school fields are only for schools"), 1;
    if (kind == EB_ORG_DISTRICT && creating && !o->division_code)
        return eb_http_error(r, 400, "missing_field", "division_code"), 1;
    if (kind == EB_ORG_SCHOOL) {
        if (creating && !o->school_code)
            return eb_http_error(r, 400, "missing_field", "school_code"), 1;
        if (creating && !o->running_type)
            return eb_http_error(r, 400, "missing_field", "running_type"), 1;
        if (o->school_code && eb_school_code_check(o->school_code, &why))
            return eb__registry_bad_field(r, "school_code", why), 1;
        unsigned stages = 0;
        if (o->running_type && eb_running_type_check(o->running_type, &stages, &why))
            return eb__registry_bad_field(r, "running_type", why), 1;
        o->stages = stages;
        const json_t *st = json_object_get(r->json, "stages");
        if (st && json_is_array(st) && eb__registry_parse_stages(st, &o->stages))
            return eb__registry_bad_field(r, "stages", "unknown stage"), 1;
        if (o->urban_rural && eb_urban_rural_check(o->urban_rural, &why))
            return eb__registry_bad_field(r, "urban_rural", why), 1;
        int has_lat = eb_json_num(r->json, "lat", &o->lat);
        int has_lon = eb_json_num(r->json, "lon", &o->lon);
        if (has_lat != has_lon)
            return eb__registry_bad_field(r, "lat", "lat and lon go together"), 1;
        if (has_lat && (o->lat < -90 || o->lat > 90 || o->lon < -180 || o->lon > 180))
            return eb__registry_bad_field(r, "lat", "coordinates out of range"), 1;
        o->has_coords = has_lat;
    }
    if (kind == EB_ORG_GRADE) {
        if (creating && !o->grade_code)
            return eb_http_error(r, 400, "missing_field", "grade_code"), 1;
        if (o->grade_code && !valid_grade_code(o->grade_code))
            return eb__registry_bad_field(r, "grade_code", "unknown grade code"), 1;
    } else if (o->grade_code) {
        return eb__registry_bad_field(r, "grade_code", "only grades have a grade code"), 1;
    }
    int64_t year = 0;
    if (eb_json_int(r->json, "school_year", &year)) {
        if (kind != EB_ORG_CLASS)
            return eb__registry_bad_field(r, "school_year", "only classes have a school year"), 1;
        if (year < 2000 || year > 2100)
            return eb__registry_bad_field(r, "school_year", "must be 2000..2100"), 1;
        o->school_year = (int)year;
    } else if (kind == EB_ORG_CLASS && creating) {
        return eb_http_error(r, 400, "missing_field", "school_year"), 1;
    }
    return 0;
}

int eb_registry_org_create(struct eb_req *r)
{
    const char *why = NULL;
    if (eb_json_check(r->json, org_fields, sizeof(org_fields) / sizeof(org_fields[0]), r->arena,
                      &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_org o = {0};
    eb_json_int(r->json, "parent_id", &o.parent_id);
    o.kind = eb_org_kind_parse(eb_json_str(r->json, "kind"));
    if (!o.kind || o.kind == EB_ORG_CITY)
        return eb__registry_bad_field(r, "kind", "must be district, school, grade or class");
    struct eb_org parent;
    int rc = eb_store_org_get(r->db, &r->caller, o.parent_id, r->arena, &parent);
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", "parent_id");
    if (rc)
        return rc;
    if ((int)parent.kind + 1 != (int)o.kind)
        return eb__registry_bad_field(r, "kind", "does not fit under the parent's kind");
    if (read_org_fields(r, o.kind, 1, &o))
        return 0;
    int64_t id;
    rc = eb_store_org_create(r->db, &r->caller, &o, &id);
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "school_code");
    if (rc)
        return rc;
    struct eb_org created;
    rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &created);
    if (rc)
        return rc;
    /* A class answers with its size warnings (大班额), like every save of a class. */
    return eb_schools_send_org(r, 201, &created);
}

int eb_registry_org_update(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"name", EB_JSON_STRING, 0, 0, 120},       {"division_code", EB_JSON_STRING, 0, 1, 6},
        {"school_code", EB_JSON_STRING, 0, 1, 10}, {"running_type", EB_JSON_STRING, 0, 1, 3},
        {"stages", EB_JSON_ARRAY, 0, 1, 0},        {"urban_rural", EB_JSON_STRING, 0, 1, 3},
        {"address", EB_JSON_STRING, 0, 1, 200},    {"lat", EB_JSON_NUMBER, 0, 1, 0},
        {"lon", EB_JSON_NUMBER, 0, 1, 0},          {"grade_code", EB_JSON_STRING, 0, 1, 2},
        {"school_year", EB_JSON_INT, 0, 1, 0},
    };
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    const char *why = NULL;
    if (eb_json_check(r->json, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_org cur;
    int rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &cur);
    if (rc)
        return rc;
    struct eb_org o = {0};
    if (read_org_fields(r, cur.kind, 0, &o))
        return 0;
    /* A PATCH keeps every field it does not name. */
    o.kind = cur.kind;
    o.parent_id = cur.parent_id;
    if (!o.name)
        o.name = cur.name;
    if (!o.division_code)
        o.division_code = cur.division_code;
    if (!o.school_code)
        o.school_code = cur.school_code;
    if (!o.running_type) {
        o.running_type = cur.running_type;
        if (!json_object_get(r->json, "stages"))
            o.stages = cur.stages;
    }
    if (!o.urban_rural)
        o.urban_rural = cur.urban_rural;
    if (!o.address)
        o.address = cur.address;
    if (!o.has_coords) {
        o.has_coords = cur.has_coords;
        o.lat = cur.lat;
        o.lon = cur.lon;
    }
    if (!o.grade_code)
        o.grade_code = cur.grade_code;
    if (!o.school_year)
        o.school_year = cur.school_year;
    rc = eb_store_org_update(r->db, &r->caller, id, &o);
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "school_code");
    if (rc)
        return rc;
    rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &cur);
    if (rc)
        return rc;
    return eb_schools_send_org(r, 200, &cur);
}
