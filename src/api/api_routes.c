/* Every route of the server, in one table: method, pattern, handler, requirements. */
#include "api/api.h"
#include "auth/auth.h"
#include "auth/keys.h"
#include "http/http_builtin.h"
#include "oidc/oidc.h"
#include "registry/registry.h"

#include <string.h>

#define KB 1024

const struct eb_route eb_api_routes[] = {
    {"GET", "/healthz", eb_http_health_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0, "Liveness"},
    {"GET", "/metrics", eb_http_metrics_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0,
     "Prometheus metrics"},
    {"GET", "/api/v1/openapi.json", eb_api_openapi_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0,
     "This API's OpenAPI document"},

    {"GET", "/.well-known/openid-configuration", eb_oidc_discovery_handler,
     EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0, "OpenID Connect discovery document"},
    {"GET", "/oidc/jwks", eb_oidc_jwks_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0,
     "The OpenID provider's public signing keys (JWK set)"},
    {"GET", "/oidc/authorize", eb_oidc_authorize_handler, EB_ROUTE_PUBLIC, 0,
     "OIDC authorization endpoint (code flow with PKCE)"},
    {"POST", "/oidc/authorize", eb_oidc_authorize_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_CSRF,
     16 * KB, "OIDC authorization endpoint by form post, and the consent form"},
    {"POST", "/oidc/token", eb_oidc_token_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_CSRF, 16 * KB,
     "OAuth 2 token endpoint (authorization_code, refresh_token, client_credentials)"},
    {"GET", "/oidc/userinfo", eb_oidc_userinfo_handler, EB_ROUTE_PUBLIC, 0,
     "OIDC userinfo (bearer token)"},
    {"POST", "/oidc/userinfo", eb_oidc_userinfo_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_CSRF, 4 * KB,
     "OIDC userinfo by POST (bearer token in the header or the form body)"},
    {"POST", "/oidc/revoke", eb_oidc_revoke_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_CSRF, 4 * KB,
     "OAuth 2 token revocation (RFC 7009)"},
    {"POST", "/oidc/introspect", eb_oidc_introspect_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_CSRF,
     4 * KB, "OAuth 2 token introspection (RFC 7662)"},
    {"GET", "/oidc/logout", eb_oidc_logout_handler, EB_ROUTE_PUBLIC, 0, "OIDC RP-initiated logout"},
    {"POST", "/oidc/logout", eb_oidc_logout_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_CSRF, 8 * KB,
     "OIDC RP-initiated logout by form post, and its confirmation"},

    {"POST", "/api/v1/session", eb_auth_login_handler,
     EB_ROUTE_PUBLIC | EB_ROUTE_JSON | EB_ROUTE_NO_CSRF, 4 * KB, "Log in"},
    {"DELETE", "/api/v1/session", eb_auth_logout_handler, EB_ROUTE_PW_CHANGE | EB_ROUTE_MFA_ENROL,
     0, "Log out"},
    {"GET", "/api/v1/me", eb_auth_me_handler, EB_ROUTE_PW_CHANGE | EB_ROUTE_MFA_ENROL, 0,
     "The caller's session"},
    {"PUT", "/api/v1/me/password", eb_auth_password_handler,
     EB_ROUTE_JSON | EB_ROUTE_PW_CHANGE | EB_ROUTE_MFA_ENROL, 4 * KB, "Change one's password"},
    {"POST", "/api/v1/me/totp", eb_auth_totp_begin_handler, EB_ROUTE_MFA_ENROL, 1 * KB,
     "Start (or restart) enrolling a TOTP second factor"},
    {"POST", "/api/v1/me/totp/confirm", eb_auth_totp_confirm_handler,
     EB_ROUTE_JSON | EB_ROUTE_MFA_ENROL, 1 * KB, "Confirm the TOTP enrolment with a first code"},
    {"POST", "/api/v1/me/totp/disable", eb_auth_totp_disable_handler,
     EB_ROUTE_JSON | EB_ROUTE_MFA_ENROL, 4 * KB, "Turn one's TOTP second factor off"},

    {"GET", "/api/v1/orgs/{id}", eb_registry_org_get, EB_ROUTE_APP_READ, 0, "An org node"},
    {"GET", "/api/v1/orgs/{id}/children", eb_registry_org_children, EB_ROUTE_APP_READ, 0,
     "Children of a node"},
    {"GET", "/api/v1/orgs/{id}/people", eb_registry_org_people, EB_ROUTE_APP_READ, 0,
     "Current students or staff of a subtree"},
    {"GET", "/api/v1/orgs/{id}/children.xlsx", eb_export_children_xlsx, 0, 0,
     "Children of a node as an Excel file"},
    {"GET", "/api/v1/orgs/{id}/people.xlsx", eb_export_people_xlsx, 0, 0,
     "Current students or staff of a subtree as an Excel file (ID numbers masked)"},
    {"GET", "/api/v1/orgs/{id}/stats", eb_registry_org_stats, 0, 0,
     "Counts of a subtree (schools, classes, students, teachers, oversized classes)"},
    {"POST", "/api/v1/orgs", eb_registry_org_create, EB_ROUTE_JSON, 16 * KB, "Create an org"},
    {"PATCH", "/api/v1/orgs/{id}", eb_registry_org_update, EB_ROUTE_JSON, 16 * KB, "Change an org"},

    {"GET", "/api/v1/school-years", eb_registry_years_list, 0, 0, "School years and their terms"},
    {"POST", "/api/v1/school-years", eb_registry_year_create, EB_ROUTE_JSON, 8 * KB,
     "Create a school year with its two terms"},
    {"GET", "/api/v1/school-years/current", eb_registry_year_current, 0, 0,
     "The school year and term as of a date"},

    {"GET", "/api/v1/people/{id}", eb_registry_person_get, 0, 0, "A person"},
    {"POST", "/api/v1/people", eb_registry_person_create, EB_ROUTE_JSON, 16 * KB,
     "Register a person"},
    {"PATCH", "/api/v1/people/{id}", eb_registry_person_update, EB_ROUTE_JSON, 16 * KB,
     "Change a person"},
    {"POST", "/api/v1/enrolments", eb_registry_enrolment_create, EB_ROUTE_JSON, 4 * KB,
     "Enrol a student in a class"},
    {"POST", "/api/v1/enrolments/{id}/end", eb_registry_enrolment_end, EB_ROUTE_JSON, 4 * KB,
     "End an enrolment"},
    {"POST", "/api/v1/posts", eb_registry_post_create, EB_ROUTE_JSON, 4 * KB,
     "Post a staff member at a school"},
    {"POST", "/api/v1/posts/{id}/end", eb_registry_post_end, EB_ROUTE_JSON, 4 * KB, "End a post"},
    {"POST", "/api/v1/teaching", eb_registry_teaching_create, EB_ROUTE_JSON, 4 * KB,
     "Assign a class to a teacher"},
    {"POST", "/api/v1/guardians", eb_registry_guardian_create, EB_ROUTE_JSON, 4 * KB,
     "Link a guardian to a student"},

    {"GET", "/api/v1/accounts", eb_registry_account_list, 0, 0, "Accounts in scope"},
    {"POST", "/api/v1/accounts", eb_registry_account_create, EB_ROUTE_JSON, 8 * KB,
     "Create an account with roles"},
    {"GET", "/api/v1/accounts/{id}", eb_registry_account_get, 0, 0, "An account and its roles"},
    {"PATCH", "/api/v1/accounts/{id}", eb_registry_account_update, EB_ROUTE_JSON, 4 * KB,
     "Rename, disable or enable an account"},
    {"POST", "/api/v1/accounts/{id}/password", eb_registry_account_password_reset, EB_ROUTE_JSON,
     4 * KB, "Reset an account's password"},
    {"POST", "/api/v1/accounts/{id}/roles", eb_registry_account_role_add, EB_ROUTE_JSON, 4 * KB,
     "Grant a role to an account"},
    {"DELETE", "/api/v1/accounts/{id}/roles/{grant_id}", eb_registry_account_role_remove, 0, 0,
     "Revoke a role of an account"},
    {"DELETE", "/api/v1/accounts/{id}/totp", eb_auth_totp_reset_handler, 0, 0,
     "Reset an account's TOTP second factor (a lost phone)"},
    {"GET", "/api/v1/audit", eb_registry_audit_list, 0, 0, "The audit log of a subtree"},

    {"GET", "/api/v1/apps", eb_oidc_apps_mine_handler, 0, 0, "The apps offered to the caller"},
    {"GET", "/api/v1/admin/apps", eb_oidc_apps_managed_handler, 0, 0,
     "The apps the caller administers"},
    {"POST", "/api/v1/apps", eb_oidc_app_create_handler, EB_ROUTE_JSON, 16 * KB,
     "Register an app (OIDC client)"},
    {"PATCH", "/api/v1/apps/{id}", eb_oidc_app_update_handler, EB_ROUTE_JSON, 16 * KB,
     "Change an app"},
    {"DELETE", "/api/v1/apps/{id}", eb_oidc_app_delete_handler, 0, 0, "Remove an app"},

    {"POST", "/api/v1/orgs/{id}/accounts", eb_activation_bulk_create, 0, 4 * KB,
     "Create accounts with one-time codes for a node's students and teachers"},
    {"POST", "/api/v1/orgs/{id}/activation-codes", eb_activation_bulk_reissue, 0, 4 * KB,
     "Re-issue the one-time codes of a node's accounts not yet activated"},
    {"POST", "/api/v1/accounts/{id}/activation-code", eb_activation_account_reissue, 0, 4 * KB,
     "Re-issue an account's one-time code"},
    {"POST", "/api/v1/people/{id}/binding-code", eb_activation_binding_code, 0, 4 * KB,
     "Issue a student's parent binding code"},
    {"POST", "/api/v1/orgs/{id}/binding-codes", eb_activation_class_binding_codes, 0, 4 * KB,
     "Issue parent binding codes for every student of a class"},
    {"POST", "/api/v1/parents", eb_activation_parent_register,
     EB_ROUTE_PUBLIC | EB_ROUTE_JSON | EB_ROUTE_NO_CSRF, 4 * KB,
     "Register a parent account bound to a student"},
    {"GET", "/api/v1/orgs/{id}/registration", eb_activation_registration, 0, 0,
     "Registration rate of a subtree and its children"},
};

const size_t eb_api_n_routes = sizeof(eb_api_routes) / sizeof(eb_api_routes[0]);

int eb_api_openapi_handler(struct eb_req *r)
{
    r->status = 200;
    r->content_type = "application/json";
    return eb_buf_append(&r->out, eb_api_openapi_json, strlen(eb_api_openapi_json));
}
