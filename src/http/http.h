/*
 * HTTP: the server glue over libmicrohttpd, the router and the response helpers.
 *
 * Routes are data (struct eb_route). The router resolves the caller's session, checks the
 * route's requirements (authentication, CSRF on unsafe methods, body size, JSON body) before
 * the handler runs, and maps errors to statuses and JSON bodies in one place
 * (http_response.c).
 */
#ifndef EB_HTTP_H
#define EB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"
#include "store/store.h"

struct eb_app; /* the server's context: config, store, caches (src/app.h) */

enum eb_lang { EB_LANG_ZH = 0, EB_LANG_EN = 1 };

#define EB_HTTP_MAX_PARAMS  4
#define EB_HTTP_MAX_HEADERS 12

struct eb_header {
    const char *name, *value;
};

/** One request, owned by its arena; handlers fill the response part. */
struct eb_req {
    struct eb_arena *arena;
    struct eb_app *app;
    struct eb_db *db; /* acquired for the request by the router when the route needs it */
    void *conn;       /* the libmicrohttpd connection (opaque) */

    const char *method; /* "GET", ... */
    const char *path;   /* decoded path without the query */
    const char *query;  /* raw query string after '?' (undecoded); NULL when none */
    const char *body;   /* NUL-terminated copy of the body; NULL when empty */
    size_t body_len;
    json_t *json; /* the parsed body when the route takes JSON (owned by the request) */
    const char *client_addr;
    int tls;
    enum eb_lang lang;

    /* Path parameters of the matched pattern, e.g. {id} in /api/v1/orgs/{id}. */
    int n_params;
    const char *param_names[EB_HTTP_MAX_PARAMS];
    const char *param_values[EB_HTTP_MAX_PARAMS];

    /* The caller: set by the router from the session cookie (anonymous: account_id 0). */
    struct eb_caller caller;
    const char *session_hash;  /* NULL when anonymous */
    const char *csrf_token;    /* of the session */
    const char *session_amr;   /* RFC 8176 methods of the session: "pwd" or "pwd otp" */
    const char *app_client_id; /* set instead of a session: the app of a bearer token */
    struct eb_account *account;

    /* Response. */
    int status;
    struct eb_buf out;
    const char *content_type;
    int n_headers;
    struct eb_header headers[EB_HTTP_MAX_HEADERS];
};

typedef int (*eb_handler_fn)(struct eb_req *r);

enum eb_route_flags {
    EB_ROUTE_PUBLIC = 1 << 0,    /* no session needed */
    EB_ROUTE_NO_DB = 1 << 1,     /* the handler does not use r->db */
    EB_ROUTE_JSON = 1 << 2,      /* the body must be a JSON object (parsed into r->json) */
    EB_ROUTE_NO_CSRF = 1 << 3,   /* unsafe method without CSRF check (login itself) */
    EB_ROUTE_PW_CHANGE = 1 << 4, /* open to a session of a not yet activated account (which
                                  * logged in with its one-time code and may only do these) */
    EB_ROUTE_MFA_ENROL = 1 << 5, /* open to an administrator's session that still has to enrol a
                                  * second factor (eb_auth_must_enrol_totp) */
    EB_ROUTE_APP_READ =
        1 << 7, /* a roster read open to a server-to-server app's bearer token
                 * (client_credentials, scope roster:read; src/oidc/oidc_bearer.c) */
};

struct eb_route {
    const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern; /* "/api/v1/orgs/{id}/children"; {name} matches one segment */
    eb_handler_fn handler;
    unsigned flags;
    size_t body_max;     /* 0 = default (64 KiB) */
    const char *summary; /* one line, used by the OpenAPI test to match the document */
};

/* ---- server ----------------------------------------------------------------------------- */

struct eb_http_server;

struct eb_http_options {
    const char *listen; /* "127.0.0.1:8080" */
    int threads;
    size_t body_max_default;
    const char *web_dir; /* built UI (index.html ...) or NULL */
    /* HTTPS: PEM files of the certificate (chain) and its private key; both or neither. */
    const char *tls_cert_file, *tls_key_file;
};

/** Starts serving the given routes; returns once listening. */
int eb_http_start(struct eb_app *app, const struct eb_http_options *opt,
                  const struct eb_route *routes, size_t n_routes, struct eb_http_server **out);
/** The port actually bound (useful with port 0). */
int eb_http_port(const struct eb_http_server *s);
void eb_http_stop(struct eb_http_server *s);

/* ---- router (pure functions, fuzzed) ---------------------------------------------------- */

/** Finds the route for method and path; fills r->params. NULL when none; *method_ok tells if
 * the path exists with another method (405 instead of 404). */
const struct eb_route *eb_http_match(const struct eb_route *routes, size_t n_routes,
                                     const char *method, const char *path, struct eb_req *r,
                                     int *path_exists /* out */);

/** A path parameter by name, or NULL. */
const char *eb_http_param(const struct eb_req *r, const char *name);
/** A path parameter as a positive id; EB_EINVAL when it is not a decimal in 1..2^53. */
int eb_http_param_id(const struct eb_req *r, const char *name, int64_t *id /* out */);
/** A query-string argument (decoded), or NULL. */
const char *eb_http_query(const struct eb_req *r, const char *name);
/** A request header, or NULL. */
const char *eb_http_header(const struct eb_req *r, const char *name);
/** The value of one cookie from a Cookie header value; NULL when absent. Arena copy. */
const char *eb_http_cookie_parse(struct eb_arena *a, const char *header, const char *name);

/* ---- responses (http_response.c: the one place that maps errors to statuses) ----------- */

/** Sends a JSON document (takes the reference) with the status. Returns 0. */
int eb_http_json(struct eb_req *r, int status, json_t *doc);
/**
 * Sends {"error":{"code":code,"message":...}} where the message is the catalogue text of code
 * in the request's language, followed by ": detail" when detail is not NULL. Returns 0.
 */
int eb_http_error(struct eb_req *r, int status, const char *code, const char *detail);
/**
 * Starts a streamed JSON response: resets the body, sets the status and the JSON content type
 * and points w at the body. Finish with eb_http_stream_end().
 */
struct eb_jw;
void eb_http_stream(struct eb_req *r, int status, struct eb_jw *w);
/** Ends a streamed response; a body that outgrew the response limit becomes a 500. */
int eb_http_stream_end(struct eb_req *r, struct eb_jw *w);
/** Maps an enum eb_err to the right status and error code. Returns 0. */
int eb_http_fail(struct eb_req *r, int err, const char *detail);
void eb_http_add_header(struct eb_req *r, const char *name, const char *value);

/* ---- long-lived answers (Server-Sent Events, src/brain/stream.c) ------------------------ */

/** Copies the next bytes of a pushed answer into buf (at most max): the number written; 0 when
 * nothing is ready (the connection is then parked, holding no worker thread, until
 * eb_http_push_wake); -1 to end the answer. Runs on a worker thread under the push's lock: it
 * must not call eb_http_push_wake. */
typedef long (*eb_http_push_read_fn)(void *ctx, char *buf, size_t max);
/** Called once when the connection is gone, whatever ended it; the push is freed after it. */
typedef void (*eb_http_push_close_fn)(void *ctx);
struct eb_http_push;
/**
 * Makes r's answer a stream without a length (status r->status or 200, r->content_type and
 * r->headers) whose body comes from read. The server ends every push before it stops. Returns
 * the handle for eb_http_push_wake, valid until close has been called.
 */
struct eb_http_push *eb_http_push_start(struct eb_req *r, eb_http_push_read_fn read,
                                        eb_http_push_close_fn close, void *ctx);
/** Calls read again soon on a parked push (from any thread, until close was called). */
void eb_http_push_wake(struct eb_http_push *p);

#endif
