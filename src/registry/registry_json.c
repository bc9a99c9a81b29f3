/* JSON forms of registry rows, shared by every handler that returns them. */
#include "registry/registry.h"
#include "registry/registry_ids.h"
#include "registry/registry_int.h"
#include "json/json.h"

#include <stdio.h>
#include <string.h>

static const char *stage_names[] = {"preschool",  "primary", "junior",  "senior",
                                    "vocational", "special", "lifelong"};
#define N_STAGES (sizeof(stage_names) / sizeof(stage_names[0]))

const char *eb_registry_sex_name(enum eb_sex sex)
{
    return sex == EB_SEX_MALE ? "male" : sex == EB_SEX_FEMALE ? "female" : "unknown";
}

void eb_registry_org_fields(struct eb_jw *w, const struct eb_org *o)
{
    eb_jw_kint(w, "id", o->id);
    eb_jw_kid(w, "parent_id", o->parent_id);
    eb_jw_kstr(w, "kind", eb_org_kind_name(o->kind));
    eb_jw_kstr(w, "name", o->name ? o->name : "");
    eb_jw_kstr(w, "path", o->path ? o->path : "");
    eb_jw_kstr(w, "division_code", o->division_code);
    if (o->kind == EB_ORG_SCHOOL) {
        eb_jw_kstr(w, "school_code", o->school_code);
        eb_jw_kstr(w, "running_type", o->running_type);
        eb_jw_kstr(w, "running_type_name",
                   o->running_type ? eb_running_type_name(o->running_type) : NULL);
        eb_jw_key(w, "stages");
        eb_jw_arr_begin(w);
        for (unsigned i = 0; i < N_STAGES; i++)
            if (o->stages & (1u << i))
                eb_jw_str(w, stage_names[i]);
        eb_jw_arr_end(w);
        eb_jw_kstr(w, "urban_rural", o->urban_rural);
        eb_jw_kstr(w, "address", o->address);
        eb_jw_key(w, "lat");
        if (o->has_coords)
            eb_jw_real(w, o->lat);
        else
            eb_jw_null(w);
        eb_jw_key(w, "lon");
        if (o->has_coords)
            eb_jw_real(w, o->lon);
        else
            eb_jw_null(w);
    }
    eb_jw_kstr(w, "grade_code", o->grade_code);
    eb_jw_kid(w, "school_year", o->school_year);
    if (o->n_students) {
        eb_jw_kint(w, "n_students", o->n_students);
    }
    eb_jw_kstr(w, "closed_on", o->closed_on);
}

void eb_registry_person_fields(struct eb_jw *w, const struct eb_person *p)
{
    eb_jw_kint(w, "id", p->id);
    eb_jw_kstr(w, "name", p->name ? p->name : "");
    eb_jw_kstr(w, "sex", eb_registry_sex_name(p->sex));
    eb_jw_kstr(w, "birth_date", p->birth_date);
    eb_jw_kstr(w, "citizen_id", p->citizen_id);
    eb_jw_kbool(w, "citizen_id_masked", p->citizen_id_masked);
    eb_jw_kstr(w, "student_no", p->student_no);
    eb_jw_kstr(w, "staff_no", p->staff_no);
    eb_jw_kstr(w, "phone", p->phone);
    eb_jw_key(w, "org");
    if (p->org_id) {
        eb_jw_obj_begin(w);
        eb_jw_kint(w, "id", p->org_id);
        eb_jw_kstr(w, "name", p->org_name);
        eb_jw_obj_end(w);
    } else {
        eb_jw_null(w);
    }
    eb_jw_kstr(w, "kind", p->kind);
}

int eb_registry_send_org(struct eb_req *r, int status, const struct eb_org *o)
{
    struct eb_jw w;
    eb_http_stream(r, status, &w);
    eb_jw_obj_begin(&w);
    eb_registry_org_fields(&w, o);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

int eb_registry_send_person(struct eb_req *r, int status, const struct eb_person *p)
{
    struct eb_jw w;
    eb_http_stream(r, status, &w);
    eb_jw_obj_begin(&w);
    eb_registry_person_fields(&w, p);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

void eb_registry_page_begin(struct eb_jw *w)
{
    eb_jw_obj_begin(w);
    eb_jw_key(w, "items");
    eb_jw_arr_begin(w);
}

void eb_registry_page_end(struct eb_jw *w, int64_t next)
{
    eb_jw_arr_end(w);
    eb_jw_key(w, "next");
    if (next) {
        char cursor[24];
        snprintf(cursor, sizeof(cursor), "%lld", (long long)next);
        eb_jw_str(w, cursor);
    } else {
        eb_jw_null(w);
    }
    eb_jw_obj_end(w);
}

int eb__registry_parse_stages(const json_t *arr, unsigned *out)
{
    *out = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        unsigned bit = 0;
        while (bit < N_STAGES && !(s && strcmp(s, stage_names[bit]) == 0))
            bit++;
        if (bit == N_STAGES)
            return -1;
        *out |= 1u << bit;
    }
    return 0;
}
