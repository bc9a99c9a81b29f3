/* Every route of the server, in one table: method, pattern, handler, requirements. */
#include "api/api.h"
#include "auth/auth.h"
#include "http/http_builtin.h"
#include "registry/registry.h"

#include <string.h>

#define KB 1024

const struct eb_route eb_api_routes[] = {
    {"GET", "/healthz", eb_http_health_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0, "Liveness"},
    {"GET", "/metrics", eb_http_metrics_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0,
     "Prometheus metrics"},
    {"GET", "/api/v1/openapi.json", eb_api_openapi_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0,
     "This API's OpenAPI document"},

    {"POST", "/api/v1/session", eb_auth_login_handler,
     EB_ROUTE_PUBLIC | EB_ROUTE_JSON | EB_ROUTE_NO_CSRF, 4 * KB, "Log in"},
    {"DELETE", "/api/v1/session", eb_auth_logout_handler, 0, 0, "Log out"},
    {"GET", "/api/v1/me", eb_auth_me_handler, 0, 0, "The caller's session"},
    {"PUT", "/api/v1/me/password", eb_auth_password_handler, EB_ROUTE_JSON, 4 * KB,
     "Change one's password"},

    {"GET", "/api/v1/orgs/{id}", eb_registry_org_get, 0, 0, "An org node"},
    {"GET", "/api/v1/orgs/{id}/children", eb_registry_org_children, 0, 0, "Children of a node"},
    {"GET", "/api/v1/orgs/{id}/people", eb_registry_org_people, 0, 0,
     "Current students or staff of a subtree"},
    {"GET", "/api/v1/orgs/{id}/stats", eb_registry_org_stats, 0, 0,
     "Counts of a subtree (schools, classes, students, teachers, oversized classes)"},
    {"POST", "/api/v1/orgs", eb_registry_org_create, EB_ROUTE_JSON, 16 * KB, "Create an org"},
    {"PATCH", "/api/v1/orgs/{id}", eb_registry_org_update, EB_ROUTE_JSON, 16 * KB, "Change an org"},

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
    {"GET", "/api/v1/audit", eb_registry_audit_list, 0, 0, "The audit log of a subtree"},
};

const size_t eb_api_n_routes = sizeof(eb_api_routes) / sizeof(eb_api_routes[0]);

int eb_api_openapi_handler(struct eb_req *r)
{
    r->status = 200;
    r->content_type = "application/json";
    return eb_buf_append(&r->out, eb_api_openapi_json, strlen(eb_api_openapi_json));
}
