/* The server glue over libmicrohttpd: per-request state, body collection, the request flow
 * (route, session, CSRF, JSON body, handler), static files, headers, access log and metrics. */
#include "http/http.h"
#include "http/http_int.h"
#include "app.h"
#include "auth/auth.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "json/json.h"
#include "oidc/oidc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

/*
 * Limits. The arena holds everything a handler builds for one answer (rows, strings, JSON
 * text); 8 MiB is a 500-row page many times over. Responses are capped separately, because a
 * serialised list can outgrow the arena it came from.
 */
#define REQUEST_ARENA_MAX (8u << 20)
#define RESPONSE_MAX      (64u << 20)
#define BODY_MAX_DEFAULT  (64u << 10)
#define CONN_TIMEOUT_S    30
#define CONN_MEMORY_LIMIT (32u << 10) /* per connection: request line + headers */
#define CONN_LIMIT_MAX    8192

struct eb_http_server {
    struct MHD_Daemon *daemon;
    struct eb_app *app;
    const struct eb_route *routes;
    size_t n_routes;
    size_t body_max_default;
    struct eb_static *st;
    int tls;                  /* HTTPS (MHD_USE_TLS) */
    char *tls_cert, *tls_key; /* PEM text, kept while the daemon runs; the key is wiped */
    size_t tls_key_len;
    /* Live pushes (eb_http_push_start): libmicrohttpd must not be stopped while a connection is
     * suspended, so the stop ends each of them first. */
    pthread_mutex_t push_mu;
    struct eb_http_push *pushes;
};

/* A long-lived answer: its connection is suspended while read has nothing, so a waiting
 * stream holds no worker thread. */
struct eb_http_push {
    pthread_mutex_t mu; /* orders read-and-suspend against wake-and-resume */
    struct MHD_Connection *conn;
    struct eb_http_server *srv;
    eb_http_push_read_fn read;
    eb_http_push_close_fn close;
    void *ctx;
    int suspended, stopping;
    struct eb_http_push *prev, *next;
};

/* Everything one request owns; created when the request line arrives, freed by
 * libmicrohttpd's completion callback whatever happened in between. */
struct conn_state {
    struct eb_http_server *srv;
    struct eb_req req;
    char *target; /* the raw request target as the client sent it */
    int64_t start_us;
    int started;    /* the first access-handler call (headers only) has been seen */
    int bad_target; /* the path is not NUL-free UTF-8 */
    int too_big;    /* the body went over body_max: the rest is discarded */
    int path_exists;
    const struct eb_route *route;
    size_t body_max;
    struct eb_buf body;
    const struct eb_static_file *file; /* set when a static file answers */
    struct eb_http_push *push;         /* set when the answer is a long-lived stream */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *eb_http_header(const struct eb_req *r, const char *name)
{
    if (!r->conn)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static struct conn_state *state_new(struct eb_http_server *srv, const char *uri)
{
    struct conn_state *cs = eb_xcalloc(1, sizeof(*cs));
    cs->srv = srv;
    cs->start_us = now_us();
    cs->target = eb_xstrdup(uri ? uri : "");
    cs->req.arena = eb_arena_create(REQUEST_ARENA_MAX);
    cs->req.app = srv->app;
    eb_buf_init(&cs->req.out, RESPONSE_MAX);
    return cs;
}

static void state_free(struct conn_state *cs)
{
    if (!cs)
        return;
    json_decref(cs->req.json);
    eb_buf_free(&cs->req.out);
    eb_buf_free(&cs->body);
    eb_arena_destroy(cs->req.arena);
    eb_free(cs->target);
    eb_free(cs);
}

/* MHD_OPTION_URI_LOG_CALLBACK: the one place that sees the target before libmicrohttpd
 * unescapes it in place (which would hide %00 and split on the wrong '?'). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    return state_new(cls, uri);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    state_free(*con_cls);
    *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0)
        return;
    /* libmicrohttpd ends its messages with a newline; the logger adds its own. */
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    eb_warn("libmicrohttpd: %s", line);
}

static const char *client_addr(struct eb_req *r, struct MHD_Connection *conn)
{
    const struct eb_config *cfg = r->app ? r->app->cfg : NULL;
    if (cfg && cfg->trust_proxy) {
        /* Behind our own proxy the last X-Forwarded-For entry is the one it added; earlier
         * entries come from the client and prove nothing. */
        const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
        if (xff && *xff) {
            const char *last = strrchr(xff, ',');
            last = last ? last + 1 : xff;
            while (*last == ' ' || *last == '\t')
                last++;
            size_t len = strcspn(last, " \t");
            if (len > 0 && len < INET6_ADDRSTRLEN)
                return eb_arena_strndup(r->arena, last, len);
        }
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char buf[INET6_ADDRSTRLEN] = "";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                      sizeof(buf));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                      sizeof(buf));
    }
    return eb_arena_strdup(r->arena, buf);
}

static int is_api_path(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

static int is_unsafe_method(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 ||
           strcmp(m, "DELETE") == 0;
}

static int parse_size(const char *s, size_t *out)
{
    size_t v = 0;
    if (!s || *s < '0' || *s > '9')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (SIZE_MAX - 9) / 10)
            return 0;
        v = v * 10 + (size_t)(*s - '0');
    }
    *out = v;
    return *s == '\0';
}

/* First call: the request line and headers are known, the body is not. */
static void begin(struct conn_state *cs, struct MHD_Connection *conn, const char *method)
{
    struct eb_req *r = &cs->req;
    struct eb_http_server *srv = cs->srv;

    r->conn = conn;
    r->tls = srv->tls;
    r->method = eb_arena_strdup(r->arena, method);
    r->client_addr = client_addr(r, conn);
    const char *cookies = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cookie");
    r->lang = eb__http_lang(eb_http_cookie_parse(r->arena, cookies, "eb_lang"),
                            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Language"));
    if (eb__http_split_target(r->arena, cs->target, &r->path, &r->query) != 0) {
        cs->bad_target = 1;
        r->path = "-"; /* for the access log; the request is refused */
    } else {
        cs->route =
            eb_http_match(srv->routes, srv->n_routes, r->method, r->path, r, &cs->path_exists);
    }
    cs->body_max = cs->route && cs->route->body_max ? cs->route->body_max : srv->body_max_default;
    eb_buf_init(&cs->body, cs->body_max);
    size_t declared;
    if (parse_size(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length"),
                   &declared) &&
        declared > cs->body_max)
        cs->too_big = 1;
}

static int content_type_is_json(const char *ct)
{
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static void add_allow_header(struct conn_state *cs)
{
    struct eb_req *r = &cs->req;
    char allow[128] = "";
    size_t len = 0;
    for (size_t i = 0; i < cs->srv->n_routes; i++) {
        const struct eb_route *rt = &cs->srv->routes[i];
        if (!eb__http_pattern_matches(rt->pattern, r->path))
            continue;
        int n = snprintf(allow + len, sizeof(allow) - len, "%s%s", len ? ", " : "", rt->method);
        if (n < 0 || (size_t)n >= sizeof(allow) - len)
            break;
        len += (size_t)n;
    }
    if (len)
        eb_http_add_header(r, "Allow", allow);
}

/* No route matched: static files for GET/HEAD outside /api, else 404 or 405. */
static void answer_unrouted(struct conn_state *cs)
{
    struct eb_req *r = &cs->req;
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;

    if (get && !is_api_path(r->path)) {
        int spa = strcmp(r->path, "/healthz") != 0 && strcmp(r->path, "/metrics") != 0;
        cs->file = eb__static_find(cs->srv->st, r->path, spa);
        if (cs->file) {
            const char *inm = eb_http_header(r, "If-None-Match");
            r->status = inm && strstr(inm, cs->file->etag) ? 304 : 200;
            return;
        }
    }
    if (cs->path_exists) {
        add_allow_header(cs);
        eb_http_error(r, 405, "method_not_allowed", NULL);
    } else {
        eb_http_error(r, 404, "not_found", NULL);
    }
}

/* The request flow for a matched route; the db connection never outlives this call. */
static void answer_routed(struct conn_state *cs)
{
    struct eb_req *r = &cs->req;
    const struct eb_route *rt = cs->route;
    struct eb_store *store = r->app ? r->app->store : NULL;
    const char *err = NULL;
    int rc;

    if (!(rt->flags & EB_ROUTE_NO_DB)) {
        if (!store) {
            eb_http_fail(r, EB_EBUSY, "no store");
            goto done;
        }
        r->db = eb_store_acquire(store);
        /* One snapshot for the whole request (ended by its first write, if any). */
        eb_db_read_begin(r->db);
        rc = eb_auth_resolve(r);
        if (rc == 0 && (rt->flags & EB_ROUTE_APP_READ) && r->caller.account_id == 0)
            rc = eb_oidc_bearer_resolve(r);
        if (rc < 0) {
            eb_http_fail(r, rc, "session lookup");
            goto done;
        }
    }
    if (!(rt->flags & EB_ROUTE_PUBLIC) && r->caller.account_id == 0 && !r->app_client_id) {
        eb_http_error(r, 401, "unauthenticated", NULL);
        goto done;
    }
    /* A session opened with a one-time code may only choose a password (store_activation.c);
     * the extra lookup runs only for accounts that must change their password. */
    if (!(rt->flags & (EB_ROUTE_PUBLIC | EB_ROUTE_PW_CHANGE)) && r->account != NULL &&
        r->account->must_change_password &&
        eb_store_account_activation_pending(r->db, r->caller.account_id) != 0) {
        eb_http_error(r, 403, "must_change_password", NULL);
        goto done;
    }
    /* The same shape for an administrator who has to enrol a second factor first (--mfa-admins
     * required): no lookup, the session's amr and the grants already loaded tell. */
    if (!(rt->flags & (EB_ROUTE_PUBLIC | EB_ROUTE_MFA_ENROL)) && eb_auth_must_enrol_totp(r)) {
        eb_http_error(r, 403, "must_enrol_totp", NULL);
        goto done;
    }
    if (is_unsafe_method(r->method) && !(rt->flags & EB_ROUTE_NO_CSRF) &&
        eb_auth_check_csrf(r) != 0) {
        eb_http_error(r, 403, "csrf", NULL);
        goto done;
    }
    if (rt->flags & EB_ROUTE_JSON) {
        if (!content_type_is_json(eb_http_header(r, "Content-Type"))) {
            eb_http_error(r, 415, "unsupported_media_type", NULL);
            goto done;
        }
        r->json = eb_json_parse_body(r->body, r->body_len, r->arena, &err);
        if (!r->json) {
            eb_http_error(r, 400, "invalid_json", err);
            goto done;
        }
    }
    rc = rt->handler(r);
    if (r->status == 0) {
        if (rc < 0)
            eb_http_fail(r, rc, NULL);
        else
            r->status = 204; /* the handler had nothing to say */
    }
done:
    if (r->db) {
        /* A handler that failed half-way may have left its transaction open; the next
         * request on this connection must not inherit it. No-op when none is open. */
        eb_db_rollback(r->db);
        eb_store_release(store, r->db);
        r->db = NULL;
    }
}

static void compute_answer(struct conn_state *cs)
{
    struct eb_req *r = &cs->req;

    if (cs->bad_target) {
        eb_http_error(r, 400, "bad_request", "invalid request path");
        return;
    }
    if (cs->too_big) {
        eb_http_error(r, 413, "too_large",
                      eb_arena_printf(r->arena, "the body is larger than %zu bytes", cs->body_max));
        return;
    }
    r->body = cs->body.len ? cs->body.data : NULL;
    r->body_len = cs->body.len;
    if (cs->route)
        answer_routed(cs);
    else
        answer_unrouted(cs);
}

static int has_header(const struct eb_req *r, const char *name)
{
    for (int i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return 1;
    return 0;
}

static void log_and_count(struct conn_state *cs)
{
    struct eb_req *r = &cs->req;
    struct eb_metrics *m = r->app ? &r->app->metrics : NULL;
    int64_t us = now_us() - cs->start_us;

    if (m) {
        atomic_fetch_add(&m->requests, 1);
        if (r->status >= 200 && r->status < 300)
            atomic_fetch_add(&m->responses_2xx, 1);
        else if (r->status >= 400 && r->status < 500)
            atomic_fetch_add(&m->responses_4xx, 1);
        else if (r->status >= 500)
            atomic_fetch_add(&m->responses_5xx, 1);
        atomic_fetch_add(&m->request_us_total, (uint64_t)(us > 0 ? us : 0));
    }
    /* The path came from the client: control bytes would forge log lines. The query string
     * is never logged (it may carry search terms about minors). */
    char path[256];
    size_t n = 0;
    for (const char *p = r->path ? r->path : "-"; *p && n < sizeof(path) - 1; p++)
        path[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
    path[n] = '\0';
    eb_info("%s %s %d %lldus", r->method ? r->method : "-", path, r->status, (long long)us);
}

/* ---- long-lived answers ----------------------------------------------------------------- */

struct eb_http_push *eb_http_push_start(struct eb_req *r, eb_http_push_read_fn read,
                                        eb_http_push_close_fn close, void *ctx)
{
    /* A handler's request lives inside its connection state. */
    struct conn_state *cs =
        (struct conn_state *)(void *)((char *)r - offsetof(struct conn_state, req));
    struct eb_http_push *p = eb_xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    p->conn = r->conn;
    p->srv = cs->srv;
    p->read = read;
    p->close = close;
    p->ctx = ctx;
    cs->push = p;
    if (r->status == 0)
        r->status = 200;
    return p;
}

void eb_http_push_wake(struct eb_http_push *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->suspended) {
        p->suspended = 0;
        MHD_resume_connection(p->conn);
    }
    pthread_mutex_unlock(&p->mu);
}

static ssize_t push_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct eb_http_push *p = cls;
    long n;
    (void)pos;
    pthread_mutex_lock(&p->mu);
    n = p->stopping ? -1 : p->read(p->ctx, buf, max);
    if (n == 0) {
        /* Suspending under the lock: a wake that comes later finds the flag and resumes. */
        p->suspended = 1;
        MHD_suspend_connection(p->conn);
    }
    pthread_mutex_unlock(&p->mu);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void push_free(void *cls)
{
    struct eb_http_push *p = cls;
    struct eb_http_server *srv = p->srv;
    pthread_mutex_lock(&srv->push_mu);
    if (p->prev)
        p->prev->next = p->next;
    else if (srv->pushes == p)
        srv->pushes = p->next;
    if (p->next)
        p->next->prev = p->prev;
    pthread_mutex_unlock(&srv->push_mu);
    p->close(p->ctx);
    pthread_mutex_destroy(&p->mu);
    eb_free(p);
}

static struct MHD_Response *push_response(struct conn_state *cs)
{
    struct eb_http_push *p = cs->push;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, push_reader, p, push_free);
    if (!resp) {
        p->close(p->ctx);
        pthread_mutex_destroy(&p->mu);
        eb_free(p);
        cs->push = NULL;
        return NULL;
    }
    pthread_mutex_lock(&cs->srv->push_mu);
    p->next = cs->srv->pushes;
    if (p->next)
        p->next->prev = p;
    cs->srv->pushes = p;
    pthread_mutex_unlock(&cs->srv->push_mu);
    return resp;
}

static enum MHD_Result send_answer(struct conn_state *cs, struct MHD_Connection *conn)
{
    struct eb_req *r = &cs->req;
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (cs->push) {
        resp = push_response(cs);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, "Content-Type",
                                r->content_type ? r->content_type : "text/event-stream");
        for (int i = 0; i < r->n_headers; i++)
            MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
        eb__http_security_headers(resp, !has_header(r, "Cache-Control"));
    } else if (cs->file) {
        size_t len = r->status == 304 ? 0 : cs->file->len;
        resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)cs->file->data,
                                               MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", cs->file->content_type);
        MHD_add_response_header(resp, "ETag", cs->file->etag);
        MHD_add_response_header(resp, "Cache-Control", cs->file->cache_control);
        eb__http_security_headers(resp, 0);
    } else {
        size_t len = 0;
        char *body = eb_buf_steal(&r->out, &len);
        if (r->status == 204 || r->status == 304) {
            eb_free(body);
            body = NULL;
            len = 0;
        }
        if (body)
            resp = MHD_create_response_from_buffer_with_free_callback(len, body, eb_free);
        else
            resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!resp) {
            eb_free(body);
            return MHD_NO;
        }
        if (len)
            MHD_add_response_header(resp, "Content-Type",
                                    r->content_type ? r->content_type
                                                    : "application/json; charset=utf-8");
        for (int i = 0; i < r->n_headers; i++)
            MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
        /* API answers are per caller and often personal: never stored by browsers or
         * proxies, unless a handler chose a policy itself. */
        eb__http_security_headers(resp, !has_header(r, "Cache-Control"));
    }
    ret = MHD_queue_response(conn, (unsigned int)r->status, resp);
    MHD_destroy_response(resp);
    log_and_count(cs);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct conn_state *cs = *con_cls;
    (void)version;

    if (!cs) {
        /* Not reached while the URI callback is installed; kept so a request is never
         * answered without state. */
        cs = state_new(cls, url);
        *con_cls = cs;
    }
    if (!cs->started) {
        cs->started = 1;
        begin(cs, conn, method);
        /*
         * A declared body over the limit is refused before it is read. Queueing now makes
         * libmicrohttpd close the connection after the answer, which is what we want for a
         * client about to send megabytes. Everything else is answered on a later call, so
         * keep-alive is kept.
         */
        if (cs->too_big) {
            compute_answer(cs);
            return send_answer(cs, conn);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!cs->too_big && eb_buf_append(&cs->body, upload_data, *upload_data_size) != 0) {
            /* Chunked bodies have no declared size: discard the rest and answer 413. */
            cs->too_big = 1;
            eb_buf_free(&cs->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    compute_answer(cs);
    return send_answer(cs, conn);
}

static int parse_listen(const char *listen, struct sockaddr_in *sin)
{
    char host[256];
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    size_t port = 0;
    if (!colon || (size_t)(colon - listen) >= sizeof(host) || !parse_size(colon + 1, &port) ||
        port > 65535 || colon[1] == '\0')
        return EB_EINVAL;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (host[0] == '\0' || strcmp(host, "*") == 0) {
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
        return 0;
    }
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1)
        return 0;
    /* A name such as "localhost": resolve once, IPv4 only. */
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return EB_EINVAL;
    sin->sin_addr = ((const struct sockaddr_in *)(const void *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return 0;
}

/* Reads a PEM file whole (NUL-terminated, at most 1 MiB) into *out; EB_EIO when it cannot. */
static int read_pem(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *out = NULL;
    *len = 0;
    if (!f) {
        eb_error("http: cannot open %s: %s", path, strerror(errno));
        return EB_EIO;
    }
    struct eb_buf b;
    eb_buf_init(&b, 1u << 20);
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = eb_buf_append(&b, chunk, n);
    if (rc == 0 && ferror(f))
        rc = EB_EIO;
    fclose(f);
    explicit_bzero(chunk, sizeof(chunk));
    if (rc == 0 && (b.len == 0 || memchr(b.data, '\0', b.len)))
        rc = EB_EINVAL; /* empty, or not text */
    if (rc) {
        if (b.data)
            explicit_bzero(b.data, b.len);
        eb_buf_free(&b);
        eb_error("http: %s is not a readable PEM file", path);
        return rc == EB_EINVAL ? rc : EB_EIO;
    }
    *out = eb_buf_steal(&b, len);
    return 0;
}

/* HTTPS with libmicrohttpd's GnuTLS: the certificate and key in memory (MHD_OPTION_HTTPS_MEM_*).
 * Fills opts (3 items, ending with MHD_OPTION_END); without TLS only the end. */
static int tls_setup(struct eb_http_server *srv, const struct eb_http_options *opt,
                     struct MHD_OptionItem opts[3])
{
    opts[0] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    if (!opt->tls_cert_file && !opt->tls_key_file)
        return 0;
    if (!opt->tls_cert_file || !opt->tls_key_file) {
        eb_error("http: TLS needs both a certificate and a key");
        return EB_EINVAL;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        eb_error("http: this libmicrohttpd was built without TLS");
        return EB_EINVAL;
    }
    size_t cert_len;
    int rc = read_pem(opt->tls_cert_file, &srv->tls_cert, &cert_len);
    if (rc == 0)
        rc = read_pem(opt->tls_key_file, &srv->tls_key, &srv->tls_key_len);
    if (rc)
        return rc;
    srv->tls = 1;
    opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert};
    opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key};
    opts[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return 0;
}

static unsigned int connection_limit(void)
{
    struct rlimit rl;
    rlim_t lim = CONN_LIMIT_MAX;
    /* Leave descriptors for the database, the web files at start and the listen sockets. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < lim + 64)
        lim = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : 64;
    return (unsigned int)lim;
}

int eb_http_start(struct eb_app *app, const struct eb_http_options *opt,
                  const struct eb_route *routes, size_t n_routes, struct eb_http_server **out)
{
    int rc;
    struct sockaddr_in sin;
    struct eb_http_server *srv = eb_xcalloc(1, sizeof(*srv));

    pthread_mutex_init(&srv->push_mu, NULL);
    *out = NULL;
    srv->app = app;
    srv->routes = routes;
    srv->n_routes = n_routes;
    srv->body_max_default = opt->body_max_default ? opt->body_max_default : BODY_MAX_DEFAULT;
    rc = parse_listen(opt->listen, &sin);
    if (rc) {
        eb_error("http: bad listen address '%s' (want host:port, IPv4)",
                 opt->listen ? opt->listen : "");
        goto done;
    }
    if (opt->web_dir) {
        rc = eb__static_load(opt->web_dir, &srv->st);
        if (rc)
            goto done;
    }
    struct MHD_OptionItem tls_opts[3];
    rc = tls_setup(srv, opt, tls_opts);
    if (rc)
        goto done;
    unsigned int threads = opt->threads > 0 ? (unsigned int)opt->threads : 2;
    unsigned int flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (srv->tls)
        flags |= MHD_USE_TLS;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_AUTO;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit(), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 511u, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!srv->daemon) {
        eb_error("http: cannot listen on %s: %s", opt->listen, strerror(errno));
        rc = EB_EIO;
        goto done;
    }
    char addr[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof(addr));
    eb_info("http: listening on %s:%d with %u threads%s", addr, eb_http_port(srv), threads,
            srv->tls ? " (TLS)" : "");
    rc = 0;
done:
    if (rc)
        eb_http_stop(srv);
    else
        *out = srv;
    return rc;
}

int eb_http_port(const struct eb_http_server *s)
{
    const union MHD_DaemonInfo *info =
        s && s->daemon ? MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    return info ? (int)info->port : 0;
}

void eb_http_stop(struct eb_http_server *s)
{
    if (!s)
        return;
    /* Every parked stream is resumed to its end first: libmicrohttpd refuses to stop while a
     * connection is suspended. */
    pthread_mutex_lock(&s->push_mu);
    for (struct eb_http_push *p = s->pushes; p; p = p->next) {
        pthread_mutex_lock(&p->mu);
        p->stopping = 1;
        if (p->suspended) {
            p->suspended = 0;
            MHD_resume_connection(p->conn);
        }
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&s->push_mu);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    if (s->tls_key)
        explicit_bzero(s->tls_key, s->tls_key_len);
    eb_free(s->tls_key);
    eb_free(s->tls_cert);
    eb__static_free(s->st);
    pthread_mutex_destroy(&s->push_mu);
    eb_free(s);
}
