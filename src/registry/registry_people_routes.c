/* Handlers for people and their links: enrolments, posts, teaching duties, guardians. */
#include "registry/registry.h"
#include "registry/registry_ids.h"
#include "registry/registry_int.h"
#include "core/err.h"
#include "json/json.h"

#include <string.h>

static const struct eb_json_field person_fields[] = {
    {"org_id", EB_JSON_INT, 1, 0, 0},         {"name", EB_JSON_STRING, 1, 0, 60},
    {"sex", EB_JSON_STRING, 1, 0, 8},         {"birth_date", EB_JSON_STRING, 1, 0, 10},
    {"citizen_id", EB_JSON_STRING, 0, 1, 18}, {"student_no", EB_JSON_STRING, 0, 1, 19},
    {"staff_no", EB_JSON_STRING, 0, 1, 32},   {"phone", EB_JSON_STRING, 0, 1, 20},
    {"kind", EB_JSON_STRING, 0, 1, 10},
};

static int parse_sex(const char *s, enum eb_sex *out)
{
    if (strcmp(s, "male") == 0)
        *out = EB_SEX_MALE;
    else if (strcmp(s, "female") == 0)
        *out = EB_SEX_FEMALE;
    else
        return EB_EINVAL;
    return 0;
}

static int valid_phone(const char *p)
{
    size_t n = strlen(p);
    if (n < 5 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (i == 0 && p[i] == '+') || p[i] == '-'))
            return 0;
    return 1;
}

/* "prefix" + field for the error message: "hires[3].citizen_id" in a batch. */
static const char *pfield(struct eb_req *r, const char *prefix, const char *field)
{
    return prefix ? eb_arena_printf(r->arena, "%s%s", prefix, field) : field;
}

int eb__registry_read_person(struct eb_req *r, const json_t *obj, const char *prefix,
                             struct eb_person *p)
{
    const char *why = NULL;
    const char *sex = eb_json_str(obj, "sex");
    p->name = eb_json_str(obj, "name");
    p->birth_date = eb_json_str(obj, "birth_date");
    p->student_no = eb_json_str(obj, "student_no");
    p->staff_no = eb_json_str(obj, "staff_no");
    p->phone = eb_json_str(obj, "phone");
    p->kind = eb_json_str(obj, "kind");
    if (p->kind && strcmp(p->kind, "student") != 0 && strcmp(p->kind, "teacher") != 0 &&
        strcmp(p->kind, "parent") != 0 && strcmp(p->kind, "staff") != 0)
        return eb__registry_bad_field(r, pfield(r, prefix, "kind"),
                                      "student, teacher, parent or staff"),
               1;
    const char *cid = eb_json_str(obj, "citizen_id");
    if (sex && parse_sex(sex, &p->sex))
        return eb__registry_bad_field(r, pfield(r, prefix, "sex"), "must be male or female"), 1;
    if (p->birth_date && eb_date_check(p->birth_date, &why))
        return eb__registry_bad_field(r, pfield(r, prefix, "birth_date"), why), 1;
    if (cid) {
        /* Stored upper case: a lower-case x check character is accepted as typed. */
        char *up = eb_arena_strdup(r->arena, cid);
        if (up[0] && up[strlen(up) - 1] == 'x')
            up[strlen(up) - 1] = 'X';
        if (eb_citizen_id_check(up, &why))
            return eb__registry_bad_field(r, pfield(r, prefix, "citizen_id"), why), 1;
        char birth[11];
        if (p->birth_date && eb_citizen_id_birth(up, birth) == 0 &&
            strcmp(birth, p->birth_date) != 0)
            return eb__registry_bad_field(r, pfield(r, prefix, "birth_date"),
                                          "differs from the citizen ID"),
                   1;
        if (p->sex && eb_citizen_id_sex(up) != p->sex)
            return eb__registry_bad_field(r, pfield(r, prefix, "sex"),
                                          "differs from the citizen ID"),
                   1;
        p->citizen_id = up;
    }
    if (p->student_no && eb_student_no_check(p->student_no, &why))
        return eb__registry_bad_field(r, pfield(r, prefix, "student_no"), why), 1;
    if (p->phone && !valid_phone(p->phone))
        return eb__registry_bad_field(r, pfield(r, prefix, "phone"),
                                      "digits, '+' and '-' only, 5..20"),
               1;
    return 0;
}

static int read_person(struct eb_req *r, struct eb_person *p)
{
    return eb__registry_read_person(r, r->json, NULL, p);
}

/* A person with their enrolment and post histories. */
static int send_person_detail(struct eb_req *r, const struct eb_person *p)
{
    size_t n_en = 0, n_posts = 0;
    struct eb_enrolment *en = NULL;
    struct eb_post *posts = NULL;
    int rc = eb_store_person_enrolments(r->db, &r->caller, p->id, r->arena, &n_en, &en);
    if (rc)
        return rc;
    rc = eb_store_person_posts(r->db, &r->caller, p->id, r->arena, &n_posts, &posts);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_registry_person_fields(&w, p);
    eb_jw_key(&w, "enrolments");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n_en; i++) {
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "id", en[i].id);
        eb_jw_kref(&w, "class", en[i].class_id, en[i].class_name);
        eb_jw_kstr(&w, "start_date", en[i].start_date);
        eb_jw_kstr(&w, "end_date", en[i].end_date);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_key(&w, "posts");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n_posts; i++) {
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "id", posts[i].id);
        eb_jw_kref(&w, "school", posts[i].school_id, posts[i].school_name);
        eb_jw_kstr(&w, "title", posts[i].title);
        eb_jw_kstr(&w, "subjects", posts[i].subjects);
        eb_jw_kstr(&w, "start_date", posts[i].start_date);
        eb_jw_kstr(&w, "end_date", posts[i].end_date);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

int eb_registry_person_get(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    const char *pii = eb_http_query(r, "pii");
    int want_pii = pii && strcmp(pii, "1") == 0;
    struct eb_person p;
    int rc = eb_store_person_get(r->db, &r->caller, id, want_pii, r->arena, &p);
    if (rc)
        return rc;
    return send_person_detail(r, &p);
}

int eb_registry_person_create(struct eb_req *r)
{
    const char *why = NULL;
    if (eb_json_check(r->json, person_fields, sizeof(person_fields) / sizeof(person_fields[0]),
                      r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_person p = {0};
    eb_json_int(r->json, "org_id", &p.org_id);
    if (read_person(r, &p))
        return 0;
    int64_t id;
    int rc = eb_store_person_create(r->db, &r->caller, &p, &id);
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "student_no");
    if (rc)
        return rc;
    rc = eb_store_person_get(r->db, &r->caller, id, 0, r->arena, &p);
    if (rc)
        return rc;
    return eb_registry_send_person(r, 201, &p);
}

int eb_registry_person_update(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"name", EB_JSON_STRING, 0, 0, 60},       {"sex", EB_JSON_STRING, 0, 0, 8},
        {"birth_date", EB_JSON_STRING, 0, 0, 10}, {"citizen_id", EB_JSON_STRING, 0, 1, 18},
        {"student_no", EB_JSON_STRING, 0, 1, 19}, {"staff_no", EB_JSON_STRING, 0, 1, 32},
        {"phone", EB_JSON_STRING, 0, 1, 20},
    };
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    const char *why = NULL;
    if (eb_json_check(r->json, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_person cur;
    int rc = eb_store_person_get(r->db, &r->caller, id, 0, r->arena, &cur);
    if (rc)
        return rc;
    struct eb_person p = {0};
    if (read_person(r, &p))
        return 0;
    /* A PATCH keeps what it does not name: the store leaves NULL fields as they are (the read
     * above holds masked identity numbers, which must never be written back). */
    p.org_id = cur.org_id;
    rc = eb_store_person_update(r->db, &r->caller, id, &p);
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "student_no");
    if (rc)
        return rc;
    rc = eb_store_person_get(r->db, &r->caller, id, 0, r->arena, &p);
    if (rc)
        return rc;
    return eb_registry_send_person(r, 200, &p);
}

/*
 * The org named by field must exist in the caller's scope (else 404, like any unknown id) and
 * be of the given kind (else 400 naming the field). Returns 1 when a response was set.
 */
static int need_org(struct eb_req *r, const char *field, int64_t id, enum eb_org_kind kind)
{
    struct eb_org o;
    int rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &o);
    if (rc) {
        eb_http_fail(r, rc, field);
        return 1;
    }
    if (o.kind != kind) {
        eb__registry_bad_field(r, field,
                               eb_arena_printf(r->arena, "is a %s, not a %s",
                                               eb_org_kind_name(o.kind), eb_org_kind_name(kind)));
        return 1;
    }
    return 0;
}

/* The same for a person, whose kind must be (or, with negate, must not be) kind. */
static int need_person(struct eb_req *r, const char *field, int64_t id, const char *kind,
                       int negate)
{
    struct eb_person p;
    int rc = eb_store_person_get(r->db, &r->caller, id, 0, r->arena, &p);
    if (rc) {
        eb_http_fail(r, rc, field);
        return 1;
    }
    int same = p.kind && strcmp(p.kind, kind) == 0;
    if (same == negate) {
        eb__registry_bad_field(r, field,
                               eb_arena_printf(r->arena, "is a %s; %s %s expected",
                                               p.kind ? p.kind : "person", negate ? "no" : "a",
                                               kind));
        return 1;
    }
    return 0;
}

static int check_body(struct eb_req *r, const struct eb_json_field *f, size_t n)
{
    const char *why = NULL;
    if (eb_json_check(r->json, f, n, r->arena, &why)) {
        eb_http_fail(r, EB_EINVAL, why);
        return 1;
    }
    return 0;
}

static int created(struct eb_req *r, int rc, int64_t id)
{
    if (rc == EB_ECONFLICT)
        return eb_http_error(r, 409, "conflict", NULL);
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", NULL);
    if (rc)
        return rc;
    return eb_http_json(r, 201, json_pack("{s:I}", "id", (json_int_t)id));
}

int eb_registry_enrolment_create(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"person_id", EB_JSON_INT, 1, 0, 0},
        {"class_id", EB_JSON_INT, 1, 0, 0},
        {"start_date", EB_JSON_STRING, 1, 0, 10},
    };
    if (check_body(r, f, 3) || eb__registry_check_date(r, "start_date", 1))
        return 0;
    struct eb_enrolment e = {0};
    eb_json_int(r->json, "person_id", &e.person_id);
    eb_json_int(r->json, "class_id", &e.class_id);
    e.start_date = eb_json_str(r->json, "start_date");
    if (need_person(r, "person_id", e.person_id, "student", 0) ||
        need_org(r, "class_id", e.class_id, EB_ORG_CLASS))
        return 0;
    int64_t id = 0;
    int rc = eb_store_enrolment_create(r->db, &r->caller, &e, &id);
    /* The answer carries the class's size warnings (大班额, 超大班额): saved, but flagged. */
    return rc ? created(r, rc, id) : eb_schools_send_enrolment(r, id, e.class_id);
}

static int end_link(struct eb_req *r,
                    int (*end)(struct eb_db *, const struct eb_caller *, int64_t, const char *))
{
    static const struct eb_json_field f[] = {{"end_date", EB_JSON_STRING, 1, 0, 10}};
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    if (check_body(r, f, 1) || eb__registry_check_date(r, "end_date", 1))
        return 0;
    int rc = end(r->db, &r->caller, id, eb_json_str(r->json, "end_date"));
    if (rc == EB_ECONFLICT)
        return eb_http_error(r, 409, "conflict", "already ended or ends before it starts");
    if (rc)
        return rc;
    return eb_http_json(r, 200,
                        json_pack("{s:I, s:s}", "id", (json_int_t)id, "end_date",
                                  eb_json_str(r->json, "end_date")));
}

int eb_registry_enrolment_end(struct eb_req *r)
{
    return end_link(r, eb_store_enrolment_end);
}

int eb_registry_post_create(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"person_id", EB_JSON_INT, 1, 0, 0},      {"school_id", EB_JSON_INT, 1, 0, 0},
        {"title", EB_JSON_STRING, 1, 0, 40},      {"subjects", EB_JSON_STRING, 0, 1, 200},
        {"start_date", EB_JSON_STRING, 1, 0, 10},
    };
    if (check_body(r, f, 5) || eb__registry_check_date(r, "start_date", 1))
        return 0;
    struct eb_post p = {0};
    eb_json_int(r->json, "person_id", &p.person_id);
    eb_json_int(r->json, "school_id", &p.school_id);
    p.title = eb_json_str(r->json, "title");
    p.subjects = eb_json_str(r->json, "subjects");
    p.start_date = eb_json_str(r->json, "start_date");
    if (need_person(r, "person_id", p.person_id, "student", 1) ||
        need_org(r, "school_id", p.school_id, EB_ORG_SCHOOL))
        return 0;
    int64_t id = 0;
    int rc = eb_store_post_create(r->db, &r->caller, &p, &id);
    return created(r, rc, id);
}

int eb_registry_post_end(struct eb_req *r)
{
    return end_link(r, eb_store_post_end);
}

int eb_registry_teaching_create(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"post_id", EB_JSON_INT, 1, 0, 0},        {"class_id", EB_JSON_INT, 1, 0, 0},
        {"subject", EB_JSON_STRING, 1, 0, 40},    {"is_head_teacher", EB_JSON_BOOL, 0, 1, 0},
        {"start_date", EB_JSON_STRING, 1, 0, 10},
    };
    if (check_body(r, f, 5) || eb__registry_check_date(r, "start_date", 1))
        return 0;
    struct eb_teaching t = {0};
    eb_json_int(r->json, "post_id", &t.post_id);
    eb_json_int(r->json, "class_id", &t.class_id);
    t.subject = eb_json_str(r->json, "subject");
    t.is_head_teacher = json_is_true(json_object_get(r->json, "is_head_teacher"));
    t.start_date = eb_json_str(r->json, "start_date");
    if (need_org(r, "class_id", t.class_id, EB_ORG_CLASS))
        return 0;
    int64_t id = 0;
    int rc = eb_store_teaching_create(r->db, &r->caller, &t, &id);
    return created(r, rc, id);
}

int eb_registry_guardian_create(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"parent_id", EB_JSON_INT, 1, 0, 0},
        {"student_id", EB_JSON_INT, 1, 0, 0},
        {"relation", EB_JSON_STRING, 1, 0, 20},
        {"start_date", EB_JSON_STRING, 1, 0, 10},
    };
    if (check_body(r, f, 4) || eb__registry_check_date(r, "start_date", 1))
        return 0;
    struct eb_guardian g = {0};
    eb_json_int(r->json, "parent_id", &g.parent_id);
    eb_json_int(r->json, "student_id", &g.student_id);
    if (g.parent_id == g.student_id)
        return eb__registry_bad_field(r, "parent_id", "a person cannot be their own guardian");
    g.relation = eb_json_str(r->json, "relation");
    g.start_date = eb_json_str(r->json, "start_date");
    if (need_person(r, "student_id", g.student_id, "student", 0) ||
        need_person(r, "parent_id", g.parent_id, "student", 1))
        return 0;
    int64_t id = 0;
    int rc = eb_store_guardian_create(r->db, &r->caller, &g, &id);
    return created(r, rc, id);
}
