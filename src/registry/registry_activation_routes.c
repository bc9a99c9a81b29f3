/* Handlers for accounts for everyone: bulk accounts with one-time codes, re-issued codes,
 * parents' binding codes and registration, and the registration rate of a subtree. */
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "registry/registry.h"
#include "registry/registry_int.h"
#include "core/err.h"
#include "core/mem.h"
#include "json/json.h"

#include <string.h>
#include <time.h>

#include <sodium.h>

/* The accounts of a bulk run, collected for the response. */
struct collected {
    struct eb_arena *a;
    struct eb_activation_item *items;
    size_t n, cap;
    int failed;
};

static void collect(void *arg, const struct eb_activation_item *it)
{
    struct collected *c = arg;
    struct eb_activation_item *items = eb_arena_grow(c->a, c->items, c->n, &c->cap, sizeof(*it));
    if (items == NULL) {
        c->failed = 1;
        return;
    }
    c->items = items;
    /* The item's strings live only during the call (the store's per-unit scratch arena). */
    struct eb_activation_item *o = &items[c->n++];
    *o = *it;
    o->name = eb_arena_strdup(c->a, it->name);
    o->login = eb_arena_strdup(c->a, it->login);
    o->code = eb_arena_strdup(c->a, it->code);
    o->class_name = eb_arena_strdup(c->a, it->class_name);
    if (o->login == NULL || o->code == NULL)
        c->failed = 1;
}

/*
 * The codes appear in this response and nowhere else: the database keeps their SHA-256 only,
 * so "shown once" holds by construction. A lost sheet is replaced by re-issuing, which makes
 * the old codes useless.
 */
static int bulk(struct eb_req *r, enum eb_activation_mode mode)
{
    int64_t id, n = 0;
    struct eb_org org;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    int rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &org);
    if (rc)
        return rc;
    /* A district's codes would be a response of many megabytes shown to one screen: the API
     * works per school, grade or class; `edubrain accounts create` does whole trees. */
    if (org.kind < EB_ORG_SCHOOL)
        return eb_http_error(r, 400, "bad_request",
                             "per school, grade or class (use `edubrain accounts create`)");
    struct collected col = {.a = r->arena};
    rc = eb_store_accounts_bulk(r->db, &r->caller, id, mode, collect, &col, &n);
    if (rc)
        return rc;
    if (col.failed)
        return EB_ETOOBIG;
    struct eb_jw w;
    eb_http_add_header(r, "Cache-Control", "no-store");
    eb_http_stream(r, mode == EB_ACTIVATION_CREATE ? 201 : 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kref(&w, "org", org.id, org.name);
    eb_jw_kint(&w, "count", n);
    eb_jw_kint(&w, "expires_at", (int64_t)time(NULL) + EB_OTC_TTL_S);
    eb_jw_key(&w, "items");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < col.n; i++) {
        const struct eb_activation_item *it = &col.items[i];
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "account_id", it->account_id);
        eb_jw_kint(&w, "person_id", it->person_id);
        eb_jw_kstr(&w, "kind", it->kind);
        eb_jw_kstr(&w, "name", it->name);
        eb_jw_kstr(&w, "login", it->login);
        eb_jw_kstr(&w, "code", it->code);
        eb_jw_kid(&w, "class_id", it->class_id);
        eb_jw_key(&w, "class_name");
        if (it->class_name)
            eb_jw_str(&w, it->class_name);
        else
            eb_jw_null(&w);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

int eb_activation_bulk_create(struct eb_req *r)
{
    return bulk(r, EB_ACTIVATION_CREATE);
}

int eb_activation_bulk_reissue(struct eb_req *r)
{
    return bulk(r, EB_ACTIVATION_REISSUE);
}

/* An administrator's reset to a fresh one-time code: the account is back to "not activated". */
int eb_activation_account_reissue(struct eb_req *r)
{
    int64_t id;
    char text[EB_OTC_TEXT], stored[EB_OTC_STORED];
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    size_t n = 0;
    struct eb_grant *grants = NULL;
    int managed = 0;
    int rc = eb_store_account_roles(r->db, &r->caller, id, r->arena, &n, &grants, &managed);
    if (rc)
        return rc;
    if (!managed)
        return r->caller.account_id == id
                   ? eb_http_error(r, 403, "forbidden", "use PUT /api/v1/me/password")
                   : EB_ENOTFOUND;
    struct eb_account acc;
    rc = eb_store_account_get(r->db, &r->caller, id, r->arena, &acc);
    if (rc)
        return rc;
    int64_t expires = (int64_t)time(NULL) + EB_OTC_TTL_S;
    eb_otc_new(expires, text, stored);
    rc = eb_store_account_reset_password(r->db, &r->caller, id, stored, 1);
    if (rc == EB_EDENIED)
        rc = eb_http_error(r, 403, "forbidden", "use PUT /api/v1/me/password");
    else if (rc == 0)
        rc = eb_http_json(r, 200,
                          json_pack("{s:I, s:s, s:o, s:s, s:I}", "account_id", (json_int_t)id,
                                    "login", acc.login, "name",
                                    eb_json_str_or_null(acc.display_name), "code", text,
                                    "expires_at", (json_int_t)expires));
    sodium_memzero(text, sizeof(text));
    if (rc == 0)
        eb_http_add_header(r, "Cache-Control", "no-store");
    return rc;
}

int eb_activation_binding_code(struct eb_req *r)
{
    int64_t id;
    char text[EB_OTC_TEXT], stored[EB_OTC_STORED];
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    int64_t now = (int64_t)time(NULL);
    eb_otc_new(now + EB_BIND_TTL_S, text, stored);
    int rc = eb_store_binding_code_set(r->db, &r->caller, id, stored, now);
    if (rc == EB_EINVAL)
        rc = eb_http_error(r, 400, "not_a_student", "the person is not an enrolled student");
    else if (rc == 0) {
        eb_http_add_header(r, "Cache-Control", "no-store");
        rc = eb_http_json(r, 201,
                          json_pack("{s:I, s:s, s:I}", "student_id", (json_int_t)id, "code", text,
                                    "expires_at", (json_int_t)(now + EB_BIND_TTL_S)));
    }
    sodium_memzero(text, sizeof(text));
    return rc;
}

/*
 * A class's binding-code sheet: a new code for every current student, in the response and
 * nowhere else (the database keeps their hashes). Issuing again replaces every code of the
 * class, as issuing one student's code replaces that one.
 */
int eb_activation_class_binding_codes(struct eb_req *r)
{
    int64_t id;
    struct eb_org org;
    size_t n = 0;
    struct eb_binding_item *items = NULL;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    int64_t now = (int64_t)time(NULL);
    int rc = eb_store_binding_codes_class(r->db, &r->caller, id, now, r->arena, &n, &items);
    if (rc == EB_EINVAL)
        return eb_http_error(r, 400, "bad_request", "binding codes are issued per class");
    if (rc)
        return rc;
    rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &org);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_add_header(r, "Cache-Control", "no-store");
    eb_http_stream(r, 201, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kref(&w, "class", org.id, org.name);
    eb_jw_kint(&w, "count", (int64_t)n);
    eb_jw_kint(&w, "expires_at", now + EB_BIND_TTL_S);
    eb_jw_key(&w, "items");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "student_id", items[i].student_id);
        eb_jw_kstr(&w, "name", items[i].name);
        eb_jw_kstr(&w, "student_no", items[i].student_no);
        eb_jw_kstr(&w, "code", items[i].code);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
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

/*
 * A parent registers with the student number and the school's binding code. Throttled like a
 * login, keyed by the student number and by the client address, since the code is the secret
 * being guessed here.
 */
int eb_activation_parent_register(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"student_no", EB_JSON_STRING, 1, 0, 40}, {"binding_code", EB_JSON_STRING, 1, 0, 32},
        {"login", EB_JSON_STRING, 1, 0, 64},      {"password", EB_JSON_STRING, 1, 0, 256},
        {"name", EB_JSON_STRING, 1, 0, 60},       {"relation", EB_JSON_STRING, 0, 1, 20},
        {"phone", EB_JSON_STRING, 0, 1, 32},
    };
    const char *why = NULL;
    if (eb_json_check(r->json, f, sizeof(f) / sizeof(f[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_parent_registration in = {
        .student_no = eb_json_str(r->json, "student_no"),
        .code = eb_json_str(r->json, "binding_code"),
        .login = eb_json_str(r->json, "login"),
        .name = eb_json_str(r->json, "name"),
        .relation = eb_json_str(r->json, "relation"),
        .phone = eb_json_str(r->json, "phone"),
    };
    const char *password = eb_json_str(r->json, "password");
    if (!valid_login(in.login))
        return eb__registry_bad_field(r, "login", "3..64 of a-z A-Z 0-9 . _ -");
    if (in.name[0] == '\0')
        return eb__registry_bad_field(r, "name", "required");
    if (eb_auth_password_check_rules(password, &why))
        return eb_http_error(r, 400, why, NULL);
    const char *key = eb_arena_printf(r->arena, "bind:%s", in.student_no);
    int64_t now = eb__auth_now(), wait_s = 0;
    int rc = eb__auth_throttle_check(r->db, key, r->client_addr, now, &wait_s);
    if (rc)
        return rc;
    if (wait_s > 0) {
        eb_http_add_header(r, "Retry-After", eb_arena_printf(r->arena, "%lld", (long long)wait_s));
        return eb_http_error(r, 429, "throttled",
                             eb_arena_printf(r->arena, "retry after %lld s", (long long)wait_s));
    }
    char *hash = eb_auth_password_hash(password);
    if (!hash)
        return EB_EINTERNAL;
    in.password_hash = hash;
    struct eb_caller anon = {.client_addr = r->client_addr};
    int64_t account_id = 0;
    rc = eb_store_parent_register(r->db, &anon, &in, now, &account_id);
    eb_free(hash);
    if (rc == EB_EAUTH) {
        rc = eb__auth_throttle_fail(r->db, key, r->client_addr, now);
        return rc ? rc : eb_http_error(r, 401, "bad_binding", "student number or binding code");
    }
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "login");
    if (rc)
        return rc;
    rc = eb__auth_throttle_success(r->db, key, r->client_addr);
    if (rc)
        return rc;
    return eb_http_json(
        r, 201, json_pack("{s:I, s:s}", "account_id", (json_int_t)account_id, "login", in.login));
}

static void counts(struct eb_jw *w, const char *key, const struct eb_reg_counts *c)
{
    eb_jw_key(w, key);
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "people", c->people);
    eb_jw_kint(w, "registered", c->registered);
    eb_jw_kint(w, "activated", c->activated);
    /* Rates with four decimals; null where there is nobody to register. */
    eb_jw_key(w, "registered_rate");
    if (c->people > 0)
        eb_jw_real(w, (double)(c->registered * 10000 / c->people) / 10000.0);
    else
        eb_jw_null(w);
    eb_jw_key(w, "activated_rate");
    if (c->people > 0)
        eb_jw_real(w, (double)(c->activated * 10000 / c->people) / 10000.0);
    else
        eb_jw_null(w);
    eb_jw_obj_end(w);
}

static void row(struct eb_jw *w, const struct eb_reg_row *r)
{
    eb_jw_kint(w, "id", r->org_id);
    eb_jw_kstr(w, "kind", eb_org_kind_name(r->kind));
    counts(w, "teachers", &r->teachers);
    counts(w, "students", &r->students);
    counts(w, "parents", &r->parents);
}

int eb_activation_registration(struct eb_req *r)
{
    int64_t id;
    struct eb_org org;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    int rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &org);
    if (rc)
        return rc;
    struct eb_reg_row total;
    size_t n = 0;
    struct eb_reg_row *children = NULL;
    rc = eb_store_registration(r->db, &r->caller, id, r->arena, &total, &n, &children);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_key(&w, "total");
    eb_jw_obj_begin(&w);
    eb_jw_kstr(&w, "name", org.name);
    row(&w, &total);
    eb_jw_obj_end(&w);
    eb_jw_key(&w, "children");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        eb_jw_obj_begin(&w);
        eb_jw_kstr(&w, "name", children[i].name);
        row(&w, &children[i]);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}
