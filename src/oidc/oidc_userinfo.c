/* The userinfo endpoint (OIDC-Core 5.3): claims by scope, school claims under "edubrain". */
#include "oidc/oidc_int.h"

#include "app.h"
#include "core/err.h"
#include "json/json.h"

#include <string.h>

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

/* The claims of each scope this provider can fill (OIDC-Core 5.4; "edubrain" is ours). No
 * e-mail or postal address is kept, so those scopes return nothing. */
static const struct {
    const char *scope, *claim;
} CLAIM_SCOPES[] = {
    {"profile", "name"},     {"profile", "preferred_username"}, {"profile", "locale"},
    {"profile", "zoneinfo"}, {"phone", "phone_number"},         {"phone", "phone_number_verified"},
    {"edubrain", "roles"},   {"edubrain", "org_path"},          {"edubrain", "school_code"},
    {"edubrain", "school"},  {"edubrain", "student_no"},        {"edubrain", "class"},
    {"edubrain", "grade"},
};
#define N_CLAIM_SCOPES (sizeof(CLAIM_SCOPES) / sizeof(CLAIM_SCOPES[0]))

const char *eb__oidc_claim_scope(const char *claim)
{
    for (size_t i = 0; i < N_CLAIM_SCOPES; i++)
        if (strcmp(CLAIM_SCOPES[i].claim, claim) == 0)
            return CLAIM_SCOPES[i].scope;
    return NULL;
}

/* A scope's claims are looked up when it was granted or when one of its claims was asked for. */
static int wanted(const char *scope, json_t *requested, const char *group)
{
    if (eb__oidc_scope_has(scope, group))
        return 1;
    for (size_t i = 0; i < N_CLAIM_SCOPES; i++)
        if (strcmp(CLAIM_SCOPES[i].scope, group) == 0 &&
            json_object_get(requested, CLAIM_SCOPES[i].claim))
            return 1;
    return 0;
}

static int edubrain_claims(struct eb_req *r, json_t *all, const struct eb_account *acc,
                           const struct eb_person *person)
{
    size_t n = 0;
    struct eb_grant *g = NULL;
    int rc = eb_store_grants_of(r->db, acc->id, r->arena, &n, &g);
    if (rc)
        return rc;
    json_t *roles = json_array();
    const struct eb_org *school = NULL;
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(roles, json_pack("{s:s, s:I, s:s, s:o}", "role",
                                               eb_role_name(g[i].role), "org_id",
                                               (json_int_t)g[i].org_id, "org_path", g[i].org_path,
                                               "org_name", eb_json_str_or_null(g[i].org_name)));
        if (!school)
            school = school_of(r, g[i].org_path);
    }
    json_object_set_new(all, "roles", roles);
    if (n)
        json_object_set_new(all, "org_path", json_string(g[0].org_path));
    if (school && school->school_code)
        json_object_set_new(all, "school_code", json_string(school->school_code));
    if (school)
        json_object_set_new(
            all, "school",
            json_pack("{s:I, s:s}", "id", (json_int_t)school->id, "name", school->name));
    /* Never the citizen ID number: only what a school app needs to place a student. */
    if (person && person->student_no)
        student_claims(r, all, person);
    return 0;
}

int eb__oidc_user_claims(struct eb_req *r, int64_t account_id, const char *scope, json_t *requested,
                         json_t **out)
{
    static const struct eb_caller sys = {.system = 1};
    struct eb_account acc;
    struct eb_person person;
    json_t *all = NULL;
    *out = NULL;
    int rc = eb_store_account_get(r->db, &sys, account_id, r->arena, &acc);
    if (rc == 0 && acc.disabled)
        rc = EB_ENOTFOUND;
    if (rc)
        return rc;
    int has_person =
        acc.person_id && eb_store_person_get(r->db, &sys, acc.person_id, 0, r->arena, &person) == 0;

    /* Every claim of the scopes in play, then only those granted or asked for. */
    all = json_object();
    if (wanted(scope, requested, "profile")) {
        json_object_set_new(all, "name",
                            json_string(has_person && person.name ? person.name
                                        : acc.display_name        ? acc.display_name
                                                                  : acc.login));
        json_object_set_new(all, "preferred_username", json_string(acc.login));
        json_object_set_new(all, "locale", json_string("zh-CN"));
        json_object_set_new(all, "zoneinfo", json_string("Asia/Shanghai"));
    }
    if (wanted(scope, requested, "phone") && has_person && person.phone) {
        json_object_set_new(all, "phone_number", json_string(person.phone));
        json_object_set_new(all, "phone_number_verified", json_false());
    }
    if (wanted(scope, requested, "edubrain")) {
        rc = edubrain_claims(r, all, &acc, has_person ? &person : NULL);
        if (rc)
            goto done;
    }
    *out = json_pack("{s:s}", "sub", eb_arena_printf(r->arena, "%lld", (long long)acc.id));
    const char *k;
    json_t *v;
    json_object_foreach(all, k, v)
    {
        const char *group = eb__oidc_claim_scope(k);
        if ((group && eb__oidc_scope_has(scope, group)) || json_object_get(requested, k))
            json_object_set(*out, k, v);
    }
done:
    json_decref(all);
    return rc;
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
    if (rc || t.kind != EB_OIDC_ACCESS || t.revoked || t.expires_at < eb__oidc_now() ||
        t.account_id == 0 || !eb__oidc_scope_has(t.scope, "openid"))
        return bearer_error(r, 401, "invalid_token");
    /* OIDC-Core 5.5: the userinfo member of the claims parameter, stored with the grant. */
    json_t *claims_req = NULL;
    if (t.claims && eb__oidc_claims_parse(t.claims, &claims_req) != 0)
        return EB_EINTERNAL;
    json_t *doc = NULL;
    rc = eb__oidc_user_claims(r, t.account_id, t.scope, json_object_get(claims_req, "userinfo"),
                              &doc);
    json_decref(claims_req);
    if (rc == EB_ENOTFOUND)
        return bearer_error(r, 401, "invalid_token");
    if (rc)
        return rc;
    return eb__oidc_json(r, 200, doc);
}
