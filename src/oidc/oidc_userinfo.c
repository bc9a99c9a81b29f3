/* The userinfo endpoint (OIDC-Core 5.3): claims by scope, school claims under "edubrain". */
#include "oidc/oidc_int.h"

#include "app.h"
#include "core/err.h"
#include "json/json.h"

#include <string.h>
#include <time.h>

/* RFC 6750 3: a bearer error with its challenge. */
static int bearer_error(struct eb_req *r, int status, const char *error)
{
    eb_http_add_header(r, "WWW-Authenticate",
                       error ? eb_arena_printf(r->arena, "Bearer error=\"%s\"", error) : "Bearer");
    return eb__oidc_json_error(r, status, error ? error : "invalid_request", NULL);
}

/* The school on a grant's path (kind 3), for its identifier (学校标识码). */
static const struct eb_org *school_of(struct eb_req *r, const char *path)
{
    static const struct eb_caller sys = {.system = 1};
    int64_t id = 0;
    int k = -1;
    for (const char *p = path; *p; p++) {
        if (*p == '/') {
            if (k >= 0 && id) {
                struct eb_org *o = eb_arena_alloc(r->arena, sizeof(*o));
                if (o && eb_store_org_get(r->db, &sys, id, r->arena, o) == 0 &&
                    o->kind == EB_ORG_SCHOOL)
                    return o;
            }
            k++;
            id = 0;
        } else {
            id = id * 10 + (*p - '0');
        }
    }
    return NULL;
}

/* A student's current class and grade, and their student number. */
static void student_claims(struct eb_req *r, json_t *doc, const struct eb_person *p)
{
    static const struct eb_caller sys = {.system = 1};
    if (p->student_no)
        json_object_set_new(doc, "student_no", json_string(p->student_no));
    size_t n = 0;
    struct eb_enrolment *en = NULL;
    if (eb_store_person_enrolments(r->db, &sys, p->id, r->arena, &n, &en) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (en[i].end_date)
            continue;
        struct eb_org cls, grade;
        if (eb_store_org_get(r->db, &sys, en[i].class_id, r->arena, &cls) != 0)
            break;
        json_object_set_new(doc, "class",
                            json_pack("{s:I, s:s}", "id", (json_int_t)cls.id, "name", cls.name));
        if (cls.parent_id && eb_store_org_get(r->db, &sys, cls.parent_id, r->arena, &grade) == 0)
            json_object_set_new(doc, "grade",
                                json_pack("{s:I, s:s, s:o}", "id", (json_int_t)grade.id, "name",
                                          grade.name, "code",
                                          eb_json_str_or_null(grade.grade_code)));
        break;
    }
}

int eb_oidc_userinfo_handler(struct eb_req *r)
{
    const char *token = eb__oidc_bearer(r);
    if (!token)
        return bearer_error(r, 401, NULL);
    char hash[65];
    eb__oidc_hash(token, hash);
    struct eb_oidc_token t;
    int rc = eb_store_oidc_token_get(r->db, hash, r->arena, &t);
    if (rc && rc != EB_ENOTFOUND)
        return rc;
    if (rc || t.kind != EB_OIDC_ACCESS || t.revoked || t.expires_at < (int64_t)time(NULL) ||
        t.account_id == 0 || !eb__oidc_scope_has(t.scope, "openid"))
        return bearer_error(r, 401, "invalid_token");

    static const struct eb_caller sys = {.system = 1};
    struct eb_account acc;
    rc = eb_store_account_get(r->db, &sys, t.account_id, r->arena, &acc);
    if (rc == EB_ENOTFOUND || (rc == 0 && acc.disabled))
        return bearer_error(r, 401, "invalid_token");
    if (rc)
        return rc;
    struct eb_person person;
    int has_person =
        acc.person_id && eb_store_person_get(r->db, &sys, acc.person_id, 0, r->arena, &person) == 0;

    json_t *doc = json_pack("{s:s}", "sub", eb_arena_printf(r->arena, "%lld", (long long)acc.id));
    if (eb__oidc_scope_has(t.scope, "profile")) {
        json_object_set_new(doc, "name",
                            json_string(has_person && person.name ? person.name
                                        : acc.display_name        ? acc.display_name
                                                                  : acc.login));
        json_object_set_new(doc, "preferred_username", json_string(acc.login));
        json_object_set_new(doc, "locale", json_string("zh-CN"));
        json_object_set_new(doc, "zoneinfo", json_string("Asia/Shanghai"));
    }
    /* No e-mail or postal address is kept: those scopes return nothing (OIDC-Core 5.4). */
    if (eb__oidc_scope_has(t.scope, "phone") && has_person && person.phone) {
        json_object_set_new(doc, "phone_number", json_string(person.phone));
        json_object_set_new(doc, "phone_number_verified", json_false());
    }
    if (eb__oidc_scope_has(t.scope, "edubrain")) {
        size_t n = 0;
        struct eb_grant *g = NULL;
        rc = eb_store_grants_of(r->db, acc.id, r->arena, &n, &g);
        if (rc) {
            json_decref(doc);
            return rc;
        }
        json_t *roles = json_array();
        const struct eb_org *school = NULL;
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(
                roles, json_pack("{s:s, s:I, s:s, s:o}", "role", eb_role_name(g[i].role), "org_id",
                                 (json_int_t)g[i].org_id, "org_path", g[i].org_path, "org_name",
                                 eb_json_str_or_null(g[i].org_name)));
            if (!school)
                school = school_of(r, g[i].org_path);
        }
        json_object_set_new(doc, "roles", roles);
        if (n)
            json_object_set_new(doc, "org_path", json_string(g[0].org_path));
        if (school && school->school_code)
            json_object_set_new(doc, "school_code", json_string(school->school_code));
        if (school)
            json_object_set_new(
                doc, "school",
                json_pack("{s:I, s:s}", "id", (json_int_t)school->id, "name", school->name));
        /* Never the citizen ID number: only what a school app needs to place a student. */
        if (has_person && person.student_no)
            student_claims(r, doc, &person);
    }
    return eb__oidc_json(r, 200, doc);
}
