/* libFuzzer target: request-target split, query and cookie parsing, route matching, ids. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "http/http.h"
#include "http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dummy(struct eb_req *r)
{
    (void)r;
    return 0;
}

/* A route table shaped like the real one: literals, parameters, shared prefixes, methods. */
static const struct eb_route routes[] = {
    {"GET", "/healthz", dummy, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0, "health"},
    {"POST", "/api/v1/session", dummy, EB_ROUTE_PUBLIC | EB_ROUTE_JSON, 0, "login"},
    {"DELETE", "/api/v1/session", dummy, 0, 0, "logout"},
    {"GET", "/api/v1/me", dummy, 0, 0, "me"},
    {"GET", "/api/v1/orgs/{id}", dummy, 0, 0, "org"},
    {"PATCH", "/api/v1/orgs/{id}", dummy, EB_ROUTE_JSON, 0, "org update"},
    {"GET", "/api/v1/orgs/{id}/children", dummy, 0, 0, "children"},
    {"POST", "/api/v1/enrolments/{id}/end", dummy, EB_ROUTE_JSON, 0, "end"},
    {"GET", "/api/v1/x/{a}/{b}/{c}/{d}", dummy, 0, 0, "four params"},
    {"GET", "/api/v1/y/{a}/{b}/{c}/{d}/{e}", dummy, 0, 0, "too many params"},
};

static void check_route(struct eb_arena *a, const char *method, const char *path)
{
    struct eb_req r;
    memset(&r, 0, sizeof(r));
    r.arena = a;
    int exists = 0;
    const struct eb_route *rt =
        eb_http_match(routes, sizeof(routes) / sizeof(routes[0]), method, path, &r, &exists);
    if (!rt)
        return;
    if (!eb__http_pattern_matches(rt->pattern, path) || strcmp(rt->method, method) != 0)
        __builtin_trap();
    for (int i = 0; i < r.n_params; i++)
        if (!r.param_values[i][0] || strchr(r.param_values[i], '/'))
            __builtin_trap();
    int64_t id = 0;
    int rc = eb_http_param_id(&r, "id", &id);
    if (rc == 0 && (id < 1 || id > 9007199254740991LL))
        __builtin_trap();
    if (rc != 0 && rc != EB_EINVAL)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eb_arena *a = eb_arena_create(1u << 20);
    char *s = eb_xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';

    /* The same bytes as a Cookie header and as an Accept-Language header. */
    const char *c = eb_http_cookie_parse(a, s, "eb_session");
    if (c && strchr(c, ';'))
        __builtin_trap();
    eb__http_lang(eb_http_cookie_parse(a, s, "eb_lang"), s);

    /* ... and as a request target. */
    const char *path = NULL, *query = NULL;
    if (eb__http_split_target(a, s, &path, &query) == 0) {
        if (!path || path[0] != '/' || !eb__http_utf8_valid(path, strlen(path)))
            __builtin_trap();
        const char *v = eb__http_query_get(a, query, "org");
        if (v && !eb__http_utf8_valid(v, strlen(v)))
            __builtin_trap();
        eb__http_query_get(a, query, "after");
        eb__http_query_get(a, query, "a b");
        check_route(a, "GET", path);
        check_route(a, "POST", path);
        check_route(a, "PATCH", path);
    }
    eb_free(s);
    eb_arena_destroy(a);
    return 0;
}
