/* JSON forms of registry rows, shared by every handler that returns them. */
#include "registry/registry.h"
#include "registry/registry_int.h"
#include "registry/registry_ids.h"
#include "json/json.h"

#include <string.h>

static const char *stage_names[] = {"preschool",  "primary", "junior",  "senior",
                                    "vocational", "special", "lifelong"};

const char *eb_registry_sex_name(enum eb_sex sex)
{
    return sex == EB_SEX_MALE ? "male" : sex == EB_SEX_FEMALE ? "female" : "unknown";
}

json_t *eb_registry_org_json(const struct eb_org *o)
{
    json_t *j = json_pack("{s:I, s:o, s:s, s:s, s:s}", "id", (json_int_t)o->id, "parent_id",
                          o->parent_id ? json_integer(o->parent_id) : json_null(), "kind",
                          eb_org_kind_name(o->kind), "name", o->name ? o->name : "", "path",
                          o->path ? o->path : "");
    json_object_set_new(j, "division_code", eb_json_str_or_null(o->division_code));
    if (o->kind == EB_ORG_SCHOOL) {
        json_object_set_new(j, "school_code", eb_json_str_or_null(o->school_code));
        json_object_set_new(j, "running_type", eb_json_str_or_null(o->running_type));
        json_object_set_new(
            j, "running_type_name",
            eb_json_str_or_null(o->running_type ? eb_running_type_name(o->running_type) : NULL));
        json_t *stages = json_array();
        for (unsigned i = 0; i < sizeof(stage_names) / sizeof(stage_names[0]); i++)
            if (o->stages & (1u << i))
                json_array_append_new(stages, json_string(stage_names[i]));
        json_object_set_new(j, "stages", stages);
        json_object_set_new(j, "urban_rural", eb_json_str_or_null(o->urban_rural));
        json_object_set_new(j, "address", eb_json_str_or_null(o->address));
        json_object_set_new(j, "lat", o->has_coords ? json_real(o->lat) : json_null());
        json_object_set_new(j, "lon", o->has_coords ? json_real(o->lon) : json_null());
    }
    json_object_set_new(j, "grade_code", eb_json_str_or_null(o->grade_code));
    json_object_set_new(j, "school_year",
                        o->school_year ? json_integer(o->school_year) : json_null());
    json_object_set_new(j, "closed_on", eb_json_str_or_null(o->closed_on));
    return j;
}

json_t *eb_registry_person_json(const struct eb_person *p)
{
    json_t *j = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)p->id, "name",
                          p->name ? p->name : "", "sex", eb_registry_sex_name(p->sex));
    json_object_set_new(j, "birth_date", eb_json_str_or_null(p->birth_date));
    json_object_set_new(j, "citizen_id", eb_json_str_or_null(p->citizen_id));
    json_object_set_new(j, "citizen_id_masked", json_boolean(p->citizen_id_masked));
    json_object_set_new(j, "student_no", eb_json_str_or_null(p->student_no));
    json_object_set_new(j, "staff_no", eb_json_str_or_null(p->staff_no));
    json_object_set_new(j, "phone", eb_json_str_or_null(p->phone));
    json_object_set_new(j, "org",
                        p->org_id ? json_pack("{s:I, s:o}", "id", (json_int_t)p->org_id, "name",
                                              eb_json_str_or_null(p->org_name))
                                  : json_null());
    json_object_set_new(j, "kind", eb_json_str_or_null(p->kind));
    return j;
}

static const char *stage_key(unsigned bit)
{
    return stage_names[bit];
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
        for (; bit < sizeof(stage_names) / sizeof(stage_names[0]); bit++)
            if (s && strcmp(s, stage_key(bit)) == 0)
                break;
        if (bit == sizeof(stage_names) / sizeof(stage_names[0]))
            return -1;
        *out |= 1u << bit;
    }
    return 0;
}
