/* Handlers for accounts (people who log in) and their management, org statistics and the
 * audit log. */
#include "auth/auth.h"
#include "registry/registry.h"
#include "registry/registry_int.h"
#include "core/err.h"
#include "core/mem.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The accounts given here were read in the caller's scope; whether each has a second factor is
 * one primary-key lookup (no secret is opened), so that the UI offers a reset only where one
 * exists. */
static void account_fields(struct eb_req *r, struct eb_jw *w, const struct eb_account *a)
{
    struct eb_totp t;
    int totp = eb_store_totp_get(r->db, a->id, 0, r->arena, &t) == 0 && t.confirmed_at > 0;
    eb_jw_key(w, "id");
    eb_jw_int(w, a->id);
    eb_jw_key(w, "login");
    eb_jw_str(w, a->login);
    eb_jw_key(w, "display_name");
    eb_jw_str(w, a->display_name);
    eb_jw_key(w, "person_id");
    eb_jw_id(w, a->person_id);
    eb_jw_key(w, "must_change_password");
    eb_jw_bool(w, a->must_change_password);
    eb_jw_key(w, "disabled");
    eb_jw_bool(w, a->disabled);
    eb_jw_key(w, "created_at");
    eb_jw_str(w, a->created_at);
    eb_jw_key(w, "totp_enabled");
    eb_jw_bool(w, totp);
}

int eb_registry_account_list(struct eb_req *r)
{
    int64_t after, next = 0;
    int limit;
    if (eb_registry_page_args(r, &after, &limit))
        return eb_http_error(r, 400, "bad_request", "after/limit");
    /* ?login= narrows the list to logins that contain the text (case-insensitive). */
    const char *login = eb_http_query(r, "login");
    if (login && strlen(login) > 64)
        return eb_http_error(r, 400, "bad_request", "login");
    size_t n = 0;
    struct eb_account *items = NULL;
    int rc = eb_store_account_search(r->db, &r->caller, login, after, limit, r->arena, &n, &items,
                                     &next);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_registry_page_begin(&w);
    for (size_t i = 0; i < n; i++) {
        eb_jw_obj_begin(&w);
        account_fields(r, &w, &items[i]);
        eb_jw_obj_end(&w);
    }
    eb_registry_page_end(&w, next);
    return eb_http_stream_end(r, &w);
}

static int valid_login(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int eb_registry_account_create(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"login", EB_JSON_STRING, 1, 0, 64},
        {"password", EB_JSON_STRING, 1, 0, 256},
        {"display_name", EB_JSON_STRING, 1, 0, 60},
        {"person_id", EB_JSON_INT, 0, 1, 0},
        {"must_change_password", EB_JSON_BOOL, 0, 1, 0},
        {"roles", EB_JSON_ARRAY, 1, 0, 0},
    };
    static const struct eb_json_field role_f[] = {
        {"role", EB_JSON_STRING, 1, 0, 20},
        {"org_id", EB_JSON_INT, 1, 0, 0},
    };
    const char *why = NULL;
    if (eb_json_check(r->json, f, sizeof(f) / sizeof(f[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_account a = {0};
    a.login = eb_json_str(r->json, "login");
    a.display_name = eb_json_str(r->json, "display_name");
    eb_json_int(r->json, "person_id", &a.person_id);
    const json_t *must = json_object_get(r->json, "must_change_password");
    a.must_change_password = must ? json_is_true(must) : 1;
    const char *password = eb_json_str(r->json, "password");
    if (!valid_login(a.login))
        return eb__registry_bad_field(r, "login", "3..64 of a-z A-Z 0-9 . _ -");
    if (eb_auth_password_check_rules(password, &why))
        return eb_http_error(r, 400, why, NULL);
    const json_t *roles = json_object_get(r->json, "roles");
    size_t n_roles = json_array_size(roles);
    if (n_roles == 0 || n_roles > 16)
        return eb__registry_bad_field(r, "roles", "1..16 roles");
    size_t i;
    const json_t *g;
    json_array_foreach(roles, i, g)
    {
        if (!json_is_object(g) ||
            eb_json_check(g, role_f, sizeof(role_f) / sizeof(role_f[0]), r->arena, &why))
            return eb__registry_bad_field(r, "roles", why ? why : "expected objects");
        if (eb_role_parse(eb_json_str(g, "role")) == EB_ROLE_NONE)
            return eb__registry_bad_field(r, "roles", "unknown role");
    }
    if (a.person_id) {
        struct eb_person p;
        int prc = eb_store_person_get(r->db, &r->caller, a.person_id, 0, r->arena, &p);
        if (prc == EB_ENOTFOUND)
            return eb_http_error(r, 404, "not_found", "person_id");
        if (prc)
            return prc;
    }
    char *hash = eb_auth_password_hash(password);
    if (!hash)
        return EB_EINTERNAL;
    a.password_hash = hash;
    int64_t id = 0;
    int rc = eb_db_begin(r->db);
    if (rc)
        goto done;
    rc = eb_store_account_create(r->db, &r->caller, &a, &id);
    json_array_foreach(roles, i, g)
    {
        if (rc)
            break;
        int64_t org_id = 0, gid;
        eb_json_int(g, "org_id", &org_id);
        rc = eb_store_grant_add(r->db, &r->caller, id, eb_role_parse(eb_json_str(g, "role")),
                                org_id, &gid);
    }
    if (rc) {
        eb_db_rollback(r->db);
        goto done;
    }
    rc = eb_db_commit(r->db);
done:
    eb_free(hash);
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "login");
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", "roles.org_id");
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "roles", "role does not fit the org's kind");
    if (rc)
        return rc;
    struct eb_account out;
    rc = eb_store_account_get(r->db, &r->caller, id, r->arena, &out);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 201, &w);
    eb_jw_obj_begin(&w);
    account_fields(r, &w, &out);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

/* ---- account management by administrators ---------------------------------------------- */

/* One grant: {"id","role","org":{"id","name","path","kind"}}. */
static void grant_fields(struct eb_jw *w, const struct eb_grant *g)
{
    /* The tree's levels are fixed, so a node's kind is the depth of its path "/1/12/345/". */
    int depth = -1;
    for (const char *p = g->org_path; *p; p++)
        depth += *p == '/';
    eb_jw_key(w, "id");
    eb_jw_int(w, g->id);
    eb_jw_key(w, "role");
    eb_jw_str(w, eb_role_name(g->role));
    eb_jw_key(w, "org");
    eb_jw_obj_begin(w);
    eb_jw_key(w, "id");
    eb_jw_int(w, g->org_id);
    eb_jw_key(w, "name");
    eb_jw_str(w, g->org_name);
    eb_jw_key(w, "path");
    eb_jw_str(w, g->org_path);
    eb_jw_key(w, "kind");
    eb_jw_str(w, depth >= EB_ORG_CITY && depth <= EB_ORG_CLASS ? eb_org_kind_name(depth) : NULL);
    eb_jw_obj_end(w);
}

/* The account document of GET /accounts/{id}: the account, its roles in the caller's scope and
 * whether the caller may change it. */
static int send_account(struct eb_req *r, int status, int64_t id)
{
    size_t n = 0;
    struct eb_grant *grants = NULL;
    int managed = 0;
    int rc = eb_store_account_roles(r->db, &r->caller, id, r->arena, &n, &grants, &managed);
    if (rc)
        return rc;
    struct eb_account a;
    rc = eb_store_account_get(r->db, &r->caller, id, r->arena, &a);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, status, &w);
    eb_jw_obj_begin(&w);
    account_fields(r, &w, &a);
    eb_jw_kbool(&w, "managed", managed);
    eb_jw_key(&w, "roles");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        eb_jw_obj_begin(&w);
        grant_fields(&w, &grants[i]);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

int eb_registry_account_get(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    return send_account(r, 200, id);
}

int eb_registry_account_update(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"display_name", EB_JSON_STRING, 0, 0, 60},
        {"disabled", EB_JSON_BOOL, 0, 0, 0},
    };
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    const char *why = NULL;
    if (eb_json_check(r->json, f, sizeof(f) / sizeof(f[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    const char *name = eb_json_str(r->json, "display_name");
    const json_t *dis = json_object_get(r->json, "disabled");
    if (!name && !dis)
        return eb_http_error(r, 400, "missing_field", "display_name or disabled");
    int rc = eb_store_account_update(r->db, &r->caller, id, name,
                                     dis ? (json_is_true(dis) ? 1 : 0) : -1);
    if (rc == EB_EDENIED)
        return eb_http_error(r, 403, "forbidden", "cannot disable one's own account");
    if (rc)
        return rc;
    return send_account(r, 200, id);
}

int eb_registry_account_password_reset(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"password", EB_JSON_STRING, 1, 0, 256},
        {"must_change_password", EB_JSON_BOOL, 0, 0, 0},
    };
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    const char *why = NULL;
    if (eb_json_check(r->json, f, sizeof(f) / sizeof(f[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    const char *password = eb_json_str(r->json, "password");
    const json_t *must = json_object_get(r->json, "must_change_password");
    /* Out of scope answers before the (slow) hash is computed; the store checks again. */
    size_t n = 0;
    struct eb_grant *grants = NULL;
    int managed = 0;
    int rc = eb_store_account_roles(r->db, &r->caller, id, r->arena, &n, &grants, &managed);
    if (rc)
        return rc;
    if (!managed && r->caller.account_id != id)
        return EB_ENOTFOUND;
    if (eb_auth_password_check_rules(password, &why))
        return eb_http_error(r, 400, why, NULL);
    char *hash = eb_auth_password_hash(password);
    if (!hash)
        return EB_EINTERNAL;
    rc =
        eb_store_account_reset_password(r->db, &r->caller, id, hash, must ? json_is_true(must) : 1);
    eb_free(hash);
    if (rc == EB_EDENIED)
        return eb_http_error(r, 403, "forbidden", "use PUT /api/v1/me/password for one's own");
    if (rc)
        return rc;
    return send_account(r, 200, id);
}

int eb_registry_account_role_add(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"role", EB_JSON_STRING, 1, 0, 20},
        {"org_id", EB_JSON_INT, 1, 0, 0},
    };
    int64_t id, org_id = 0, gid = 0;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    const char *why = NULL;
    if (eb_json_check(r->json, f, sizeof(f) / sizeof(f[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    enum eb_role role = eb_role_parse(eb_json_str(r->json, "role"));
    if (role == EB_ROLE_NONE)
        return eb__registry_bad_field(r, "role", "unknown role");
    eb_json_int(r->json, "org_id", &org_id);
    int rc = eb_store_account_grant_add(r->db, &r->caller, id, role, org_id, &gid);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "role", "role does not fit the org's kind");
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "role");
    if (rc)
        return rc;
    size_t n = 0;
    struct eb_grant *grants = NULL;
    rc = eb_store_account_roles(r->db, &r->caller, id, r->arena, &n, &grants, NULL);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (grants[i].id != gid)
            continue;
        struct eb_jw w;
        eb_http_stream(r, 201, &w);
        eb_jw_obj_begin(&w);
        grant_fields(&w, &grants[i]);
        eb_jw_obj_end(&w);
        return eb_http_stream_end(r, &w);
    }
    return EB_EINTERNAL;
}

int eb_registry_account_role_remove(struct eb_req *r)
{
    int64_t id, gid;
    if (eb_http_param_id(r, "id", &id) || eb_http_param_id(r, "grant_id", &gid))
        return eb_http_error(r, 404, "not_found", NULL);
    int rc = eb_store_account_grant_remove(r->db, &r->caller, id, gid);
    if (rc == EB_ECONFLICT)
        return eb_http_error(r, 409, "conflict", "the last role of an account; disable it instead");
    if (rc == EB_EDENIED)
        return eb_http_error(r, 403, "forbidden", "cannot remove one's own role");
    if (rc)
        return rc;
    r->status = 204;
    return 0;
}

/* GET /orgs/{id}/stats: what a subtree holds, for the portal's and the org pages' cards. */
int eb_registry_org_stats(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    struct eb_org_stats st;
    int rc = eb_store_org_stats(r->db, &r->caller, id, &st);
    if (rc)
        return rc;
    const struct {
        const char *k;
        int64_t v;
    } f[] = {{"districts", st.districts},
             {"schools", st.schools},
             {"grades", st.grades},
             {"classes", st.classes},
             {"students", st.students},
             {"teachers", st.teachers},
             {"oversized_classes", st.oversized_classes}};
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        eb_jw_key(&w, f[i].k);
        eb_jw_int(&w, f[i].v);
    }
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

int eb_registry_audit_list(struct eb_req *r)
{
    int64_t before = 0, org_id = 0;
    const char *org = eb_http_query(r, "org");
    const char *b = eb_http_query(r, "before");
    int limit = 100;
    const char *l = eb_http_query(r, "limit");
    if (!org && r->caller.n_grants)
        org_id = r->caller.grants[0].org_id;
    char *end = NULL;
    if (org) {
        org_id = strtoll(org, &end, 10);
        if (!*org || *end || org_id <= 0)
            return eb_http_error(r, 400, "bad_request", "org");
    }
    if (b) {
        before = strtoll(b, &end, 10);
        if (!*b || *end || before < 0)
            return eb_http_error(r, 400, "bad_request", "before");
    }
    if (l) {
        long v = strtol(l, &end, 10);
        if (!*l || *end || v < 1 || v > 500)
            return eb_http_error(r, 400, "bad_request", "limit");
        limit = (int)v;
    }
    size_t n = 0;
    int64_t next = 0;
    struct eb_audit *items = NULL;
    int rc =
        eb_store_audit_list(r->db, &r->caller, org_id, before, limit, r->arena, &n, &items, &next);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_registry_page_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const struct eb_audit *e = &items[i];
        char at[32];
        time_t secs = (time_t)(e->at / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "id", e->id);
        eb_jw_kstr(&w, "at", at);
        eb_jw_kstr(&w, "login", e->login);
        eb_jw_kstr(&w, "client_addr", e->client_addr);
        eb_jw_kstr(&w, "action", e->action ? e->action : "");
        eb_jw_kstr(&w, "object_type", e->object_type);
        eb_jw_kid(&w, "object_id", e->object_id);
        /* before/after were written by the store as JSON documents. */
        eb_jw_key(&w, "before");
        if (e->before_json)
            eb_jw_raw(&w, e->before_json);
        else
            eb_jw_null(&w);
        eb_jw_key(&w, "after");
        if (e->after_json)
            eb_jw_raw(&w, e->after_json);
        else
            eb_jw_null(&w);
        eb_jw_obj_end(&w);
    }
    eb_registry_page_end(&w, next);
    return eb_http_stream_end(r, &w);
}
