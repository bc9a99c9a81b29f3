/* Unit tests of the http module: router, decoding, cookies, responses, static files, metrics. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "app.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "http/http.h"
#include "http/http_builtin.h"
#include "http/http_int.h"

static int handler_a(struct eb_req *r)
{
    (void)r;
    return 0;
}

static int handler_b(struct eb_req *r)
{
    (void)r;
    return 0;
}

static const struct eb_route routes[] = {
    {"GET", "/healthz", handler_a, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0, "health"},
    {"POST", "/api/v1/session", handler_a, EB_ROUTE_PUBLIC, 0, "login"},
    {"DELETE", "/api/v1/session", handler_b, 0, 0, "logout"},
    {"GET", "/api/v1/orgs/{id}", handler_a, 0, 0, "org"},
    {"PATCH", "/api/v1/orgs/{id}", handler_b, 0, 0, "org update"},
    {"GET", "/api/v1/orgs/{id}/children", handler_b, 0, 0, "children"},
    {"GET", "/api/v1/orgs/{org}/people/{person}", handler_a, 0, 0, "two params"},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

static void new_req(struct eb_req *r, struct eb_arena *a)
{
    memset(r, 0, sizeof(*r));
    r->arena = a;
}

static void match_routes_and_params(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    struct eb_req r;
    int exists = -1;
    new_req(&r, a);

    const struct eb_route *rt =
        eb_http_match(routes, N_ROUTES, "GET", "/api/v1/orgs/345", &r, &exists);
    assert_ptr_equal(rt, &routes[3]);
    assert_int_equal(r.n_params, 1);
    assert_string_equal(eb_http_param(&r, "id"), "345");
    assert_null(eb_http_param(&r, "org"));

    rt = eb_http_match(routes, N_ROUTES, "PATCH", "/api/v1/orgs/7", &r, &exists);
    assert_ptr_equal(rt, &routes[4]);

    rt = eb_http_match(routes, N_ROUTES, "GET", "/api/v1/orgs/12/people/99", &r, &exists);
    assert_ptr_equal(rt, &routes[6]);
    assert_int_equal(r.n_params, 2);
    assert_string_equal(eb_http_param(&r, "org"), "12");
    assert_string_equal(eb_http_param(&r, "person"), "99");

    /* HEAD is served by the GET route. */
    rt = eb_http_match(routes, N_ROUTES, "HEAD", "/healthz", &r, &exists);
    assert_ptr_equal(rt, &routes[0]);

    /* Same path, other method: no route but the path exists (405). */
    rt = eb_http_match(routes, N_ROUTES, "PUT", "/api/v1/session", &r, &exists);
    assert_null(rt);
    assert_int_equal(exists, 1);
    rt = eb_http_match(routes, N_ROUTES, "DELETE", "/api/v1/orgs/1/children", &r, &exists);
    assert_null(rt);
    assert_int_equal(exists, 1);

    /* Unknown paths, trailing slashes and empty segments do not match (404). */
    const char *misses[] = {"/api/v1/orgs",
                            "/api/v1/orgs/",
                            "/api/v1/orgs/1/",
                            "/api/v1/orgs//children",
                            "/api/v1/session/x",
                            "/healthz/",
                            "/",
                            "/api/v1/orgs/1/children/2"};
    for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
        rt = eb_http_match(routes, N_ROUTES, "GET", misses[i], &r, &exists);
        assert_null(rt);
        assert_int_equal(exists, 0);
    }
    assert_int_equal(eb__http_pattern_matches("/api/v1/orgs/{id}", "/api/v1/orgs/x"), 1);
    assert_int_equal(eb__http_pattern_matches("/api/v1/orgs/{id}", "/api/v1/orgs/"), 0);
    eb_arena_destroy(a);
}

static int param_id_of(struct eb_arena *a, const char *value, int64_t *id)
{
    struct eb_req r;
    new_req(&r, a);
    r.n_params = 1;
    r.param_names[0] = "id";
    r.param_values[0] = value;
    return eb_http_param_id(&r, "id", id);
}

static void param_id_is_strict(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    int64_t id = 0;
    assert_int_equal(param_id_of(a, "1", &id), 0);
    assert_int_equal(id, 1);
    assert_int_equal(param_id_of(a, "345", &id), 0);
    assert_int_equal(id, 345);
    assert_int_equal(param_id_of(a, "9007199254740991", &id), 0);
    assert_int_equal(id, 9007199254740991LL);
    const char *bad[] = {"0",
                         "007",
                         "-1",
                         "+1",
                         "1.0",
                         "1e3",
                         " 1",
                         "1 ",
                         "",
                         "abc",
                         "12a",
                         "9007199254740992",
                         "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        id = 42;
        assert_int_equal(param_id_of(a, bad[i], &id), EB_EINVAL);
        assert_int_equal(id, 42); /* untouched on failure */
    }
    struct eb_req r;
    new_req(&r, a);
    assert_int_equal(eb_http_param_id(&r, "id", &id), EB_EINVAL);
    eb_arena_destroy(a);
}

static void split_target_decodes_path(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    const char *path, *query;

    assert_int_equal(eb__http_split_target(a, "/api/v1/orgs/1?x=1&y=%20", &path, &query), 0);
    assert_string_equal(path, "/api/v1/orgs/1");
    assert_string_equal(query, "x=1&y=%20");

    assert_int_equal(eb__http_split_target(a, "/%E4%B8%AD+a", &path, &query), 0);
    assert_string_equal(path, "/中+a"); /* '+' is literal in a path */
    assert_null(query);

    assert_int_equal(eb__http_split_target(a, "/a#frag?x=1", &path, &query), 0);
    assert_string_equal(path, "/a");
    assert_null(query);

    const char *bad[] = {"/a%00b", "/%ff", "/%C0%AF", "/%ED%A0%80", "/%4",
                         "/%zz",   "api",  "*",       "",           "http://host/x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(eb__http_split_target(a, bad[i], &path, &query), EB_EINVAL);
    assert_int_equal(eb__http_split_target(a, NULL, &path, &query), EB_EINVAL);

    assert_int_equal(eb__http_utf8_valid("示范", strlen("示范")), 1);
    assert_int_equal(eb__http_utf8_valid("\xF0\x9F\x98\x80", 4), 1);
    assert_int_equal(eb__http_utf8_valid("\xF4\x90\x80\x80", 4), 0); /* > U+10FFFF */
    assert_int_equal(eb__http_utf8_valid("\xE4\xB8", 2), 0);         /* truncated */
    eb_arena_destroy(a);
}

static void query_decodes_percent_and_plus(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    struct eb_req r;
    new_req(&r, a);
    r.query = "org=12&q=%E4%B8%AD+%E6%96%87&flag&empty=&a%20b=c+d&org=13&bad=%zz&nul=%00";

    assert_string_equal(eb_http_query(&r, "org"), "12"); /* the first one wins */
    assert_string_equal(eb_http_query(&r, "q"), "中 文");
    assert_string_equal(eb_http_query(&r, "flag"), "");
    assert_string_equal(eb_http_query(&r, "empty"), "");
    assert_string_equal(eb_http_query(&r, "a b"), "c d");
    assert_null(eb_http_query(&r, "bad"));
    assert_null(eb_http_query(&r, "nul"));
    assert_null(eb_http_query(&r, "missing"));
    assert_null(eb_http_query(&r, "or"));
    r.query = NULL;
    assert_null(eb_http_query(&r, "org"));
    eb_arena_destroy(a);
}

static void cookie_parse_finds_values(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    const char *h = "theme=dark; eb_session=abc123;eb_lang=en ;  quoted=\"v 1\"; x_eb_session=no";

    assert_string_equal(eb_http_cookie_parse(a, h, "eb_session"), "abc123");
    assert_string_equal(eb_http_cookie_parse(a, h, "eb_lang"), "en");
    assert_string_equal(eb_http_cookie_parse(a, h, "quoted"), "v 1");
    assert_string_equal(eb_http_cookie_parse(a, h, "x_eb_session"), "no");
    assert_null(eb_http_cookie_parse(a, h, "session"));
    assert_null(eb_http_cookie_parse(a, h, "EB_SESSION")); /* names are case-sensitive */
    assert_null(eb_http_cookie_parse(a, NULL, "eb_session"));
    assert_null(eb_http_cookie_parse(a, "", "eb_session"));
    assert_null(eb_http_cookie_parse(a, "eb_session", "eb_session"));
    assert_string_equal(eb_http_cookie_parse(a, "eb_session=", "eb_session"), "");
    assert_string_equal(eb_http_cookie_parse(a, "a=1;;; eb_session=z=y", "eb_session"), "z=y");
    eb_arena_destroy(a);
}

static void language_from_cookie_then_header(void **state)
{
    (void)state;
    assert_int_equal(eb__http_lang(NULL, NULL), EB_LANG_ZH);
    assert_int_equal(eb__http_lang(NULL, "en-US,en;q=0.9"), EB_LANG_EN);
    assert_int_equal(eb__http_lang(NULL, "EN"), EB_LANG_EN);
    assert_int_equal(eb__http_lang(NULL, "zh-CN,zh;q=0.9,en;q=0.8"), EB_LANG_ZH);
    assert_int_equal(eb__http_lang(NULL, "eng"), EB_LANG_ZH);
    assert_int_equal(eb__http_lang(NULL, "fr-FR"), EB_LANG_ZH);
    assert_int_equal(eb__http_lang("en", "zh-CN"), EB_LANG_EN);
    assert_int_equal(eb__http_lang("zh", "en-US"), EB_LANG_ZH);
    assert_int_equal(eb__http_lang("xx", "en-US"), EB_LANG_EN);
}

/* Parses r->out and returns error.code and error.message (arena copies). */
static void read_error(struct eb_req *r, const char **code, const char **msg)
{
    json_error_t je;
    json_t *doc = json_loadb(r->out.data, r->out.len, 0, &je);
    assert_non_null(doc);
    *code = eb_arena_strdup(
        r->arena, json_string_value(json_object_get(json_object_get(doc, "error"), "code")));
    *msg = eb_arena_strdup(
        r->arena, json_string_value(json_object_get(json_object_get(doc, "error"), "message")));
    json_decref(doc);
}

static void error_bodies_and_status_map(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    struct eb_req r;
    const char *code, *msg;
    new_req(&r, a);

    eb_http_error(&r, 404, "not_found", NULL);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.content_type, "application/json; charset=utf-8");
    read_error(&r, &code, &msg);
    assert_string_equal(code, "not_found");
    assert_string_equal(msg, "资源不存在");

    r.lang = EB_LANG_EN;
    eb_http_error(&r, 400, "invalid_json", "line 1, column 2: x");
    read_error(&r, &code, &msg);
    assert_string_equal(code, "invalid_json");
    assert_string_equal(msg, "The request body is not valid JSON: line 1, column 2: x");

    /* A detail that is not UTF-8 is dropped rather than breaking the body. */
    eb_http_error(&r, 400, "bad_request", "\xff");
    read_error(&r, &code, &msg);
    assert_string_equal(msg, "Bad request");
    eb_buf_free(&r.out);

    struct {
        int err;
        const char *detail;
        int status;
        const char *code;
    } cases[] = {
        {EB_EINVAL, NULL, 400, "bad_request"},
        {EB_EINVAL, "unknown field 'x'", 400, "unknown_field"},
        {EB_EINVAL, "missing field 'name'", 400, "missing_field"},
        {EB_EINVAL, "field 'name': must not be empty", 400, "invalid_field"},
        {EB_EAUTH, NULL, 401, "unauthenticated"},
        {EB_EDENIED, NULL, 403, "forbidden"},
        {EB_ENOTFOUND, NULL, 404, "not_found"},
        {EB_EEXIST, NULL, 409, "exists"},
        {EB_ECONFLICT, NULL, 409, "conflict"},
        {EB_ETOOBIG, NULL, 413, "too_large"},
        {EB_ETHROTTLED, NULL, 429, "throttled"},
        {EB_EBUSY, NULL, 503, "unavailable"},
        {EB_ESTORE, "SELECT secret FROM x", 500, "internal"},
        {EB_EINTERNAL, NULL, 500, "internal"},
        {-99, NULL, 500, "internal"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        new_req(&r, a);
        r.lang = EB_LANG_EN;
        assert_int_equal(eb_http_fail(&r, cases[i].err, cases[i].detail), 0);
        assert_int_equal(r.status, cases[i].status);
        read_error(&r, &code, &msg);
        assert_string_equal(code, cases[i].code);
        if (cases[i].status == 500)
            assert_string_equal(msg, "Internal server error"); /* no SQL leaks out */
        eb_buf_free(&r.out);
    }
    new_req(&r, a);
    eb_http_fail(&r, EB_EBUSY, NULL);
    assert_int_equal(r.n_headers, 1);
    assert_string_equal(r.headers[0].name, "Retry-After");
    eb_buf_free(&r.out);
    eb_arena_destroy(a);
}

static void json_response_and_headers(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    struct eb_req r;
    new_req(&r, a);
    eb_http_json(&r, 201, json_pack("{s:i,s:f}", "id", 7, "lat", 36.1));
    assert_int_equal(r.status, 201);
    assert_string_equal(r.out.data, "{\"id\":7,\"lat\":36.1}");
    /* NULL (a failed json_pack) becomes a 500, not a crash. */
    eb_http_json(&r, 200, NULL);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(r.out.data, "\"internal\""));

    for (int i = 0; i < EB_HTTP_MAX_HEADERS + 3; i++)
        eb_http_add_header(&r, "X-N", "v");
    assert_int_equal(r.n_headers, EB_HTTP_MAX_HEADERS);
    eb_buf_free(&r.out);

    /* Builtins: health and the Prometheus text. */
    struct eb_app app;
    memset(&app, 0, sizeof(app));
    atomic_store(&app.metrics.requests, 12);
    atomic_store(&app.metrics.responses_4xx, 3);
    atomic_store(&app.metrics.request_us_total, 2500000);
    new_req(&r, a);
    r.app = &app;
    assert_int_equal(eb_http_health_handler(&r), 0);
    assert_string_equal(r.out.data, "{\"status\":\"ok\"}");
    assert_int_equal(eb_http_metrics_handler(&r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(r.out.data, "\nedubrain_http_requests_total 12\n"));
    assert_non_null(strstr(r.out.data, "edubrain_http_responses_total{class=\"4xx\"} 3\n"));
    assert_non_null(strstr(r.out.data, "edubrain_http_request_duration_seconds_total 2.500000\n"));
    assert_non_null(strstr(r.out.data, "# TYPE edubrain_logins_total counter\n"));
    eb_buf_free(&r.out);
    eb_arena_destroy(a);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void static_files_types_caching_fallback(void **state)
{
    (void)state;
    char dir[] = "/tmp/eb_static_XXXXXX";
    char sub[600];
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/assets", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(dir, "index.html", "<!doctype html><div id=app></div>");
    write_file(dir, "assets/index-3f2a9c.js", "console.log(1)");
    write_file(dir, "assets/index-77aa.css", "body{}");
    write_file(dir, "favicon.ico", "ico");
    write_file(dir, ".env", "SECRET=1");

    struct eb_static *st = NULL;
    assert_int_equal(eb__static_load(dir, &st), 0);

    const struct eb_static_file *f = eb__static_find(st, "/", 1);
    assert_non_null(f);
    assert_string_equal(f->path, "/index.html");
    assert_string_equal(f->content_type, "text/html; charset=utf-8");
    assert_string_equal(f->cache_control, "no-cache");
    assert_int_equal(strlen(f->etag), 34);
    assert_int_equal(f->len, strlen("<!doctype html><div id=app></div>"));

    f = eb__static_find(st, "/assets/index-3f2a9c.js", 1);
    assert_non_null(f);
    assert_string_equal(f->content_type, "text/javascript; charset=utf-8");
    assert_string_equal(f->cache_control, "public, max-age=31536000, immutable");
    assert_int_equal(memcmp(f->data, "console.log(1)", f->len), 0);
    const struct eb_static_file *css = eb__static_find(st, "/assets/index-77aa.css", 1);
    assert_string_equal(css->content_type, "text/css; charset=utf-8");
    assert_string_not_equal(css->etag, f->etag);
    assert_string_equal(eb__static_find(st, "/favicon.ico", 0)->content_type, "image/x-icon");

    /* SPA routes get index.html; missing assets and dot files do not. */
    f = eb__static_find(st, "/schools/345", 1);
    assert_non_null(f);
    assert_string_equal(f->path, "/index.html");
    assert_null(eb__static_find(st, "/schools/345", 0));
    assert_null(eb__static_find(st, "/assets/missing.js", 1));
    assert_null(eb__static_find(st, "/logo.png", 1));
    assert_null(eb__static_find(st, "/.env", 1));
    assert_null(eb__static_find(NULL, "/", 1));
    eb__static_free(st);

    assert_int_equal(eb__static_load("/nonexistent/eb/dir", &st), EB_EIO);
    assert_null(st);

    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the server, end to end over a socket (routes that need neither store nor session) ---- */

static int echo_handler(struct eb_req *r)
{
    json_t *doc =
        json_pack("{s:O,s:s}", "got", r->json, "lang", r->lang == EB_LANG_EN ? "en" : "zh");
    return eb_http_json(r, 200, doc);
}

static int fail_handler(struct eb_req *r)
{
    (void)r;
    return EB_ENOTFOUND;
}

static int query_handler(struct eb_req *r)
{
    const char *q = eb_http_query(r, "q");
    return eb_http_json(r, 200, json_pack("{s:s?,s:s}", "q", q, "addr", r->client_addr));
}

static const struct eb_route live_routes[] = {
    {"GET", "/healthz", eb_http_health_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0, "health"},
    {"GET", "/metrics", eb_http_metrics_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0, "metrics"},
    {"POST", "/api/v1/echo", echo_handler,
     EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB | EB_ROUTE_NO_CSRF | EB_ROUTE_JSON, 1024, "echo"},
    {"GET", "/api/v1/fail", fail_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0, "fail"},
    {"GET", "/api/v1/query", query_handler, EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB, 0, "query"},
    {"GET", "/api/v1/private", fail_handler, EB_ROUTE_NO_DB, 0, "needs a session"},
};

struct resp {
    int status;
    char head[4096];
    char body[8192];
    size_t body_len;
};

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early (413); the answer is still readable */
        data += n;
        len -= (size_t)n;
    }
}

/* Reads one response with a Content-Length body; returns 0, or -1 when the peer closed. */
static int read_resp(int fd, struct resp *out)
{
    char buf[16384];
    size_t len = 0;
    char *end = NULL;
    memset(out, 0, sizeof(*out));
    while (!end) {
        ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end - buf) + 4;
    assert_true(head_len < sizeof(out->head));
    memcpy(out->head, buf, head_len);
    out->head[head_len] = '\0';
    out->status = (int)strtol(buf + 9, NULL, 10);
    const char *cl = strcasestr(out->head, "\r\nContent-Length: ");
    size_t want = cl ? (size_t)strtoul(cl + 18, NULL, 10) : 0;
    assert_true(want < sizeof(out->body));
    size_t have = len - head_len;
    memcpy(out->body, buf + head_len, have);
    while (have < want) {
        ssize_t n = recv(fd, out->body + have, want - have, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    out->body_len = want;
    out->body[want] = '\0';
    return 0;
}

static void roundtrip(int fd, const char *req, struct resp *out)
{
    send_all(fd, req, strlen(req));
    assert_int_equal(read_resp(fd, out), 0);
}

static void server_end_to_end(void **state)
{
    (void)state;
    char dir[] = "/tmp/eb_web_XXXXXX", sub[600];
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/assets", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(dir, "index.html", "<!doctype html>app");
    write_file(dir, "assets/app-1a2b.js", "run()");

    struct eb_app app;
    memset(&app, 0, sizeof(app));
    struct eb_http_options opt = {.listen = "127.0.0.1:0", .threads = 2, .web_dir = dir};
    struct eb_http_server *srv = NULL;
    size_t n_routes = sizeof(live_routes) / sizeof(live_routes[0]);
    assert_int_equal(eb_http_start(&app, &opt, live_routes, n_routes, &srv), 0);
    int port = eb_http_port(srv);
    assert_true(port > 0);
    struct resp *rs = eb_xcalloc(1, sizeof(*rs));
    assert_non_null(rs);

    /* Four requests on one keep-alive connection. */
    int fd = connect_to(port);
    roundtrip(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 200);
    assert_string_equal(rs->body, "{\"status\":\"ok\"}");
    assert_non_null(strcasestr(rs->head, "X-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strcasestr(rs->head, "X-Frame-Options: DENY\r\n"));
    assert_non_null(strcasestr(rs->head, "Referrer-Policy: same-origin\r\n"));
    assert_non_null(strcasestr(rs->head, "Content-Security-Policy: default-src 'self';"));
    assert_null(strcasestr(rs->head, "Connection: close"));

    roundtrip(fd, "GET /api/v1/nothing?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 404);
    assert_string_equal(rs->body,
                        "{\"error\":{\"code\":\"not_found\",\"message\":\"资源不存在\"}}");
    assert_non_null(strcasestr(rs->head, "Cache-Control: no-store\r\n"));
    assert_non_null(strcasestr(rs->head, "Content-Type: application/json; charset=utf-8\r\n"));

    roundtrip(fd, "GET /api/v1/fail HTTP/1.1\r\nHost: x\r\nAccept-Language: en-GB\r\n\r\n", rs);
    assert_int_equal(rs->status, 404);
    assert_string_equal(rs->body, "{\"error\":{\"code\":\"not_found\",\"message\":\"Not found\"}}");

    roundtrip(fd,
              "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              "Cookie: a=b; eb_lang=en\r\nContent-Length: 15\r\n\r\n{\"a\":[1,\"中\"]}",
              rs);
    assert_int_equal(rs->status, 200);
    assert_string_equal(rs->body, "{\"got\":{\"a\":[1,\"中\"]},\"lang\":\"en\"}");
    close(fd);

    fd = connect_to(port);
    roundtrip(fd, "PUT /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", rs);
    assert_int_equal(rs->status, 405);
    assert_non_null(strcasestr(rs->head, "Allow: GET\r\n"));
    assert_non_null(strstr(rs->body, "\"method_not_allowed\""));

    roundtrip(fd, "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
              rs);
    assert_int_equal(rs->status, 415);

    roundtrip(fd,
              "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; "
              "charset=utf-8\r\nContent-Length: 13\r\n\r\n{\"a\":1,\"a\":2}",
              rs);
    assert_int_equal(rs->status, 400);
    assert_non_null(strstr(rs->body, "\"invalid_json\""));
    assert_non_null(strstr(rs->body, "line 1, column"));
    assert_non_null(strstr(rs->body, "duplicate object key"));

    roundtrip(fd, "GET /api/v1/query?q=%E4%B8%AD+%E6%96%87&z HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 200);
    assert_string_equal(rs->body, "{\"q\":\"中 文\",\"addr\":\"127.0.0.1\"}");

    roundtrip(fd, "GET /api/v1/private HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 401);
    assert_non_null(strstr(rs->body, "\"unauthenticated\""));

    roundtrip(fd, "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 400);
    roundtrip(fd, "GET /%ff HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 400);

    /* A chunked body that grows past the route's 1 KiB: read, discarded, 413. */
    char big[3000];
    int n = snprintf(big, sizeof(big),
                     "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n800\r\n");
    memset(big + n, ' ', 0x800);
    n += 0x800;
    memcpy(big + n, "\r\n0\r\n\r\n", 8);
    roundtrip(fd, big, rs);
    assert_int_equal(rs->status, 413);
    assert_non_null(strstr(rs->body, "\"too_large\""));
    /* ... and the connection is still usable. */
    roundtrip(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 200);
    close(fd);

    /* A declared body over the limit is refused before it is sent. */
    fd = connect_to(port);
    roundtrip(fd,
              "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              "Content-Length: 5000000\r\n\r\n",
              rs);
    assert_int_equal(rs->status, 413);
    close(fd);

    /* Static files: the app, its assets, revalidation, SPA routes. */
    fd = connect_to(port);
    roundtrip(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 200);
    assert_string_equal(rs->body, "<!doctype html>app");
    assert_non_null(strcasestr(rs->head, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strcasestr(rs->head, "Cache-Control: no-cache\r\n"));
    const char *et = strcasestr(rs->head, "\r\nETag: ");
    assert_non_null(et);
    char etag[64] = "";
    size_t et_len = strcspn(et + 8, "\r");
    assert_true(et_len < sizeof(etag));
    memcpy(etag, et + 8, et_len);
    char req[256];
    snprintf(req, sizeof(req), "GET /index.html HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n",
             etag);
    roundtrip(fd, req, rs);
    assert_int_equal(rs->status, 304);
    roundtrip(fd, "GET /schools/345 HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 200);
    assert_string_equal(rs->body, "<!doctype html>app");
    roundtrip(fd, "GET /assets/app-1a2b.js HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 200);
    assert_non_null(strcasestr(rs->head, "Cache-Control: public, max-age=31536000, immutable\r\n"));
    roundtrip(fd, "GET /assets/gone.js HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 404);
    close(fd);

    fd = connect_to(port);
    roundtrip(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", rs);
    assert_int_equal(rs->status, 200);
    assert_non_null(strstr(rs->body, "edubrain_http_requests_total "));
    close(fd);
    eb_http_stop(srv);
    /* Every answer above was counted (the metrics request itself only after it was sent). */
    assert_int_equal(atomic_load(&app.metrics.requests), 20);
    assert_int_equal(atomic_load(&app.metrics.responses_2xx), 8);
    assert_int_equal(atomic_load(&app.metrics.responses_5xx), 0);

    eb_free(rs);
    assert_int_equal(eb_http_start(&app, &(struct eb_http_options){.listen = "nonsense"},
                                   live_routes, n_routes, &srv),
                     EB_EINVAL);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

EB_TEST_GROUP(http);
EB_TEST_GROUP(http)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(match_routes_and_params),
        cmocka_unit_test(param_id_is_strict),
        cmocka_unit_test(split_target_decodes_path),
        cmocka_unit_test(query_decodes_percent_and_plus),
        cmocka_unit_test(cookie_parse_finds_values),
        cmocka_unit_test(language_from_cookie_then_header),
        cmocka_unit_test(error_bodies_and_status_map),
        cmocka_unit_test(json_response_and_headers),
        cmocka_unit_test(static_files_types_caching_fallback),
        cmocka_unit_test(server_end_to_end),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
