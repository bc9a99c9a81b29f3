/* The apps of the portal: the caller's launcher list and administrators' registration. */
#include "oidc/oidc_int.h"

#include "app.h"
#include "core/err.h"
#include "json/json.h"

#include <string.h>

static const char *const STAGES[] = {"preschool",  "primary", "junior",  "senior",
                                     "vocational", "special", "lifelong"};
#define N_STAGES (sizeof(STAGES) / sizeof(STAGES[0]))

/* A redirect URI worth registering: absolute http(s), no fragment (RFC 6749 3.1.2), no
 * whitespace (the list is stored one per line). */
static int uri_ok(const char *u)
{
    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
        return 0;
    if (strlen(u) > 1000 || strchr(u, '#'))
        return 0;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* Joins an array of URIs into a line list; NULL when one is malformed. */
static char *uri_list(struct eb_arena *a, const json_t *arr, int allow_empty)
{
    if (!json_is_array(arr) || (!allow_empty && json_array_size(arr) == 0) ||
        json_array_size(arr) > 20)
        return NULL;
    char *out = eb_arena_strdup(a, "");
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || !uri_ok(s) || !out)
            return NULL;
        out = eb_arena_printf(a, "%s%s%s", out, *out ? "\n" : "", s);
    }
    return out;
}

static json_t *lines_json(const char *list)
{
    json_t *arr = json_array();
    const char *p = list ? list : "";
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        json_array_append_new(arr, json_stringn(p, len));
        if (!end)
            break;
        p = end + 1;
    }
    return arr;
}

static json_t *bits_json(unsigned bits, int roles)
{
    json_t *arr = json_array();
    if (roles) {
        for (int i = 1; i < EB_ROLE_COUNT; i++)
            if (bits & (1u << i))
                json_array_append_new(arr, json_string(eb_role_name(i)));
    } else {
        for (size_t i = 0; i < N_STAGES; i++)
            if (bits & (1u << i))
                json_array_append_new(arr, json_string(STAGES[i]));
    }
    return arr;
}

static int parse_bits(const json_t *arr, int roles, unsigned *out)
{
    *out = 0;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return EB_EINVAL;
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (!s)
            return EB_EINVAL;
        if (roles) {
            enum eb_role role = eb_role_parse(s);
            if (role == EB_ROLE_NONE)
                return EB_EINVAL;
            *out |= 1u << role;
        } else {
            size_t k = 0;
            while (k < N_STAGES && strcmp(s, STAGES[k]) != 0)
                k++;
            if (k == N_STAGES)
                return EB_EINVAL;
            *out |= 1u << k;
        }
    }
    return 0;
}

/* The launcher's card: what a user sees. */
static json_t *card_json(const struct eb_oidc_client *c)
{
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o}", "client_id", c->client_id, "name", c->name, "icon",
        eb_json_str_or_null(c->icon), "category", eb_json_str_or_null(c->category), "description",
        eb_json_str_or_null(c->description), "launch_url", eb_json_str_or_null(c->launch_url));
}

/* The administrator's view: the card and the client settings, never the secret. */
static json_t *app_json(const struct eb_oidc_client *c)
{
    json_t *doc = card_json(c);
    json_object_set_new(doc, "roles", bits_json(c->roles, 1));
    json_object_set_new(doc, "stages", bits_json(c->stages, 0));
    json_object_set_new(doc, "redirect_uris", lines_json(c->redirect_uris));
    json_object_set_new(doc, "post_logout_redirect_uris", lines_json(c->post_logout_uris));
    json_object_set_new(doc, "public", json_boolean(c->is_public));
    json_object_set_new(doc, "first_party", json_boolean(c->first_party));
    json_object_set_new(doc, "id_token_signed_response_alg",
                        json_string(c->id_token_alg ? c->id_token_alg : "RS256"));
    json_object_set_new(doc, "backchannel_logout_uri",
                        eb_json_str_or_null(c->backchannel_logout_uri));
    json_object_set_new(doc, "org_id", json_integer(c->org_id));
    json_object_set_new(doc, "roster_read", json_boolean(c->roster_read));
    return doc;
}

static int send_list(struct eb_req *r, size_t n, const struct eb_oidc_client *items, int admin)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, admin ? app_json(&items[i]) : card_json(&items[i]));
    return eb_http_json(r, 200, json_pack("{s:o}", "items", arr));
}

int eb_oidc_apps_mine_handler(struct eb_req *r)
{
    size_t n = 0;
    struct eb_oidc_client *items = NULL;
    int rc = eb_store_oidc_apps_for(r->db, &r->caller, r->arena, &n, &items);
    if (rc)
        return rc;
    return send_list(r, n, items, 0);
}

int eb_oidc_apps_managed_handler(struct eb_req *r)
{
    size_t n = 0;
    struct eb_oidc_client *items = NULL;
    int rc = eb_store_oidc_client_list(r->db, &r->caller, r->arena, &n, &items);
    if (rc)
        return rc;
    return send_list(r, n, items, 1);
}

static const struct eb_json_field APP_FIELDS[] = {
    {"client_id", EB_JSON_STRING, 0, 0, 128},
    {"name", EB_JSON_STRING, 0, 0, 200},
    {"icon", EB_JSON_STRING, 0, 1, 1000},
    {"category", EB_JSON_STRING, 0, 1, 100},
    {"description", EB_JSON_STRING, 0, 1, 2000},
    {"roles", EB_JSON_ARRAY, 0, 1, 0},
    {"stages", EB_JSON_ARRAY, 0, 1, 0},
    {"launch_url", EB_JSON_STRING, 0, 1, 1000},
    {"redirect_uris", EB_JSON_ARRAY, 0, 0, 0},
    {"post_logout_redirect_uris", EB_JSON_ARRAY, 0, 1, 0},
    {"public", EB_JSON_BOOL, 0, 0, 0},
    {"first_party", EB_JSON_BOOL, 0, 0, 0},
    {"id_token_signed_response_alg", EB_JSON_STRING, 0, 0, 16},
    {"backchannel_logout_uri", EB_JSON_STRING, 0, 1, 1000},
    {"org_id", EB_JSON_INT, 0, 0, 0},
    {"rotate_secret", EB_JSON_BOOL, 0, 0, 0},
    {"roster_read", EB_JSON_BOOL, 0, 0, 0},
};
#define N_APP_FIELDS (sizeof(APP_FIELDS) / sizeof(APP_FIELDS[0]))

/* Applies the body's fields onto c; *new_secret gets a fresh secret when one is due. */
static int apply(struct eb_req *r, struct eb_oidc_client *c, int creating, char new_secret[44],
                 const char **why)
{
    const json_t *j = r->json;
    const char *s;
    int64_t v;
    *why = NULL;
    new_secret[0] = '\0';
    if ((s = eb_json_str(j, "name")))
        c->name = s;
    if (json_object_get(j, "icon"))
        c->icon = eb_json_str(j, "icon");
    if (json_object_get(j, "category"))
        c->category = eb_json_str(j, "category");
    if (json_object_get(j, "description"))
        c->description = eb_json_str(j, "description");
    if (json_object_get(j, "launch_url")) {
        c->launch_url = eb_json_str(j, "launch_url");
        if (c->launch_url && !uri_ok(c->launch_url))
            return *why = "launch_url must be an http(s) URL", EB_EINVAL;
    }
    if (json_object_get(j, "backchannel_logout_uri")) {
        c->backchannel_logout_uri = eb_json_str(j, "backchannel_logout_uri");
        if (c->backchannel_logout_uri && !uri_ok(c->backchannel_logout_uri))
            return *why = "backchannel_logout_uri must be an http(s) URL", EB_EINVAL;
    }
    if (json_object_get(j, "roles") && parse_bits(json_object_get(j, "roles"), 1, &c->roles) != 0)
        return *why = "roles: unknown role", EB_EINVAL;
    if (json_object_get(j, "stages") &&
        parse_bits(json_object_get(j, "stages"), 0, &c->stages) != 0)
        return *why = "stages: unknown stage", EB_EINVAL;
    if (json_object_get(j, "redirect_uris") &&
        !(c->redirect_uris = uri_list(r->arena, json_object_get(j, "redirect_uris"), 0)))
        return *why = "redirect_uris: absolute http(s) URLs without fragment", EB_EINVAL;
    const json_t *pl = json_object_get(j, "post_logout_redirect_uris");
    if (pl && !json_is_null(pl) && !(c->post_logout_uris = uri_list(r->arena, pl, 1)))
        return *why = "post_logout_redirect_uris: absolute http(s) URLs", EB_EINVAL;
    if ((s = eb_json_str(j, "id_token_signed_response_alg")))
        c->id_token_alg = s;
    if (json_object_get(j, "first_party"))
        c->first_party = json_is_true(json_object_get(j, "first_party"));
    if (json_object_get(j, "roster_read"))
        c->roster_read = json_is_true(json_object_get(j, "roster_read"));
    int was_public = c->is_public;
    if (json_object_get(j, "public"))
        c->is_public = json_is_true(json_object_get(j, "public"));
    if (creating && eb_json_int(j, "org_id", &v))
        c->org_id = v;
    int rotate = json_is_true(json_object_get(j, "rotate_secret"));
    if (c->is_public) {
        c->secret_hash = NULL;
    } else if (creating || was_public || rotate) {
        /* The secret is generated here and shown once: only its hash is kept. */
        char hash[65];
        eb__oidc_random(new_secret);
        eb__oidc_hash(new_secret, hash);
        c->secret_hash = eb_arena_strdup(r->arena, hash);
    }
    if (!c->name || !c->redirect_uris)
        return *why = "name and redirect_uris are required", EB_EINVAL;
    if (c->roster_read && c->is_public)
        return *why = "roster_read needs a confidential app (client_credentials)", EB_EINVAL;
    return 0;
}

static int answer_app(struct eb_req *r, int status, const char *client_id, const char *secret)
{
    struct eb_oidc_client c;
    int rc = eb_store_oidc_client_get(r->db, client_id, r->arena, &c);
    if (rc)
        return rc;
    json_t *doc = app_json(&c);
    if (secret && *secret)
        json_object_set_new(doc, "client_secret", json_string(secret));
    eb_http_add_header(r, "Cache-Control", "no-store");
    return eb_http_json(r, status, doc);
}

int eb_oidc_app_create_handler(struct eb_req *r)
{
    const char *why = NULL;
    if (eb_json_check(r->json, APP_FIELDS, N_APP_FIELDS, r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_oidc_client c = {0};
    c.client_id = eb_json_str(r->json, "client_id");
    char idbuf[44], secret[44];
    if (!c.client_id) {
        eb__oidc_random(idbuf);
        idbuf[22] = '\0'; /* 128 random bits are plenty for an identifier */
        c.client_id = idbuf;
    }
    if (!json_is_integer(json_object_get(r->json, "org_id")))
        return eb_http_fail(r, EB_EINVAL, "field 'org_id': required");
    int rc = apply(r, &c, 1, secret, &why);
    if (rc)
        return eb_http_fail(r, rc, why);
    rc = eb_store_oidc_client_create(r->db, &r->caller, &c);
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "client_id");
    if (rc)
        return rc;
    return answer_app(r, 201, c.client_id, secret);
}

int eb_oidc_app_update_handler(struct eb_req *r)
{
    const char *why = NULL;
    if (eb_json_check(r->json, APP_FIELDS, N_APP_FIELDS, r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    if (json_object_get(r->json, "client_id") || json_object_get(r->json, "org_id"))
        return eb_http_fail(r, EB_EINVAL, "client_id and org_id cannot change");
    const char *id = eb_http_param(r, "id");
    struct eb_oidc_client c;
    int rc = eb_store_oidc_client_get(r->db, id, r->arena, &c);
    if (rc == 0 && !eb_caller_allows(&r->caller, c.org_path, EB_ACCESS_WRITE))
        rc = EB_ENOTFOUND;
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", NULL);
    if (rc)
        return rc;
    char secret[44];
    rc = apply(r, &c, 0, secret, &why);
    if (rc)
        return eb_http_fail(r, rc, why);
    rc = eb_store_oidc_client_update(r->db, &r->caller, &c);
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", NULL);
    if (rc)
        return rc;
    return answer_app(r, 200, c.client_id, secret);
}

int eb_oidc_app_delete_handler(struct eb_req *r)
{
    int rc = eb_store_oidc_client_delete(r->db, &r->caller, eb_http_param(r, "id"));
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", NULL);
    if (rc)
        return rc;
    r->status = 204;
    return 0;
}
