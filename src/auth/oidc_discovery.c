/* OpenID Connect Discovery 1.0 (/.well-known/openid-configuration) and the JWKS endpoint. */
#include "app.h"
#include "auth/keys.h"
#include "core/err.h"
#include "http/http.h"

#include <stdio.h>

static json_t *strings(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

#define STRINGS(...)                                                                               \
    strings((const char *const[]){__VA_ARGS__},                                                    \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void endpoint(json_t *doc, struct eb_req *r, const char *name, const char *path)
{
    char *url = eb_arena_printf(r->arena, "%s%s", r->app->cfg->issuer, path);
    json_object_set_new(doc, name, json_string(url));
}

/* Public documents that relying parties fetch and cache, also from browsers (CORS). */
static void public_headers(struct eb_req *r, const char *cache_control)
{
    eb_http_add_header(r, "Cache-Control", cache_control);
    eb_http_add_header(r, "Access-Control-Allow-Origin", "*");
}

int eb_oidc_discovery_handler(struct eb_req *r)
{
    const char *issuer = r->app->cfg ? r->app->cfg->issuer : NULL;
    if (issuer == NULL)
        return eb_http_fail(r, EB_EINTERNAL, "no issuer configured");
    json_t *doc = json_object();
    json_object_set_new(doc, "issuer", json_string(issuer));
    endpoint(doc, r, "authorization_endpoint", "/oidc/authorize");
    endpoint(doc, r, "token_endpoint", "/oidc/token");
    endpoint(doc, r, "userinfo_endpoint", "/oidc/userinfo");
    endpoint(doc, r, "jwks_uri", "/oidc/jwks");
    endpoint(doc, r, "revocation_endpoint", "/oidc/revoke");
    endpoint(doc, r, "introspection_endpoint", "/oidc/introspect");
    endpoint(doc, r, "end_session_endpoint", "/oidc/logout");
    /* Authorization code only: no implicit or hybrid flow hands out tokens in URLs. */
    json_object_set_new(doc, "response_types_supported", STRINGS("code"));
    json_object_set_new(doc, "response_modes_supported", STRINGS("query"));
    json_object_set_new(doc, "grant_types_supported",
                        STRINGS("authorization_code", "refresh_token", "client_credentials"));
    json_object_set_new(doc, "subject_types_supported", STRINGS("public"));
    json_object_set_new(doc, "id_token_signing_alg_values_supported",
                        STRINGS("RS256", "ES256", "EdDSA"));
    json_object_set_new(doc, "code_challenge_methods_supported", STRINGS("S256"));
    json_object_set_new(doc, "token_endpoint_auth_methods_supported",
                        STRINGS("client_secret_basic", "client_secret_post", "none"));
    json_object_set_new(doc, "revocation_endpoint_auth_methods_supported",
                        STRINGS("client_secret_basic", "client_secret_post", "none"));
    json_object_set_new(doc, "introspection_endpoint_auth_methods_supported",
                        STRINGS("client_secret_basic", "client_secret_post"));
    json_object_set_new(
        doc, "scopes_supported",
        STRINGS("openid", "profile", "email", "phone", "address", "edubrain", "offline_access"));
    /* Every claim an ID token or userinfo may hold (src/oidc/oidc_userinfo.c, oidc_token.c).
     * email and address are listed because their scopes are accepted, though no account keeps
     * them yet (Discovery 3: the OP "MAY be able to supply values"). */
    json_object_set_new(doc, "claims_supported",
                        STRINGS("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr",
                                "amr", "azp", "sid", "at_hash", "name", "preferred_username",
                                "locale", "zoneinfo", "email", "email_verified", "phone_number",
                                "phone_number_verified", "address", "roles", "org_path",
                                "school_code", "school", "grade", "class", "student_no"));
    /* "1": a password; "2": a password and a second factor (TOTP). */
    json_object_set_new(doc, "acr_values_supported", STRINGS("1", "2"));
    json_object_set_new(doc, "claim_types_supported", STRINGS("normal"));
    json_object_set_new(doc, "claims_parameter_supported", json_true());
    json_object_set_new(doc, "request_parameter_supported", json_false());
    json_object_set_new(doc, "request_uri_parameter_supported", json_false());
    json_object_set_new(doc, "require_request_uri_registration", json_false());
    json_object_set_new(doc, "backchannel_logout_supported", json_true());
    json_object_set_new(doc, "backchannel_logout_session_supported", json_true());
    json_object_set_new(doc, "frontchannel_logout_supported", json_false());
    json_object_set_new(doc, "ui_locales_supported", STRINGS("zh-CN", "en"));
    json_object_set_new(doc, "claims_locales_supported", STRINGS("zh-CN", "en"));
    json_object_set_new(doc, "prompt_values_supported", STRINGS("none", "login", "consent"));
    json_object_set_new(doc, "display_values_supported", STRINGS("page", "popup"));
    public_headers(r, "public, max-age=3600");
    return eb_http_json(r, 200, doc);
}

int eb_oidc_jwks_handler(struct eb_req *r)
{
    struct eb_keys *k = r->app->keys;
    if (k == NULL)
        return eb_http_fail(r, EB_EINTERNAL, "no signing keys loaded");
    /* A rotation by `edubrain keys rotate` or another server shows here within seconds. */
    eb_keys_refresh(k);
    json_t *jwks = eb_keys_jwks(k);
    if (jwks == NULL)
        return eb_http_fail(r, EB_EINTERNAL, NULL);
    char cc[64];
    snprintf(cc, sizeof(cc), "public, max-age=%d", EB_KEYS_JWKS_MAX_AGE_S);
    public_headers(r, cc);
    return eb_http_json(r, 200, jwks);
}
