/* Internals shared by the files of src/http (not for handlers): parsing helpers and static files.
 */
#ifndef EB_HTTP_INT_H
#define EB_HTTP_INT_H

#include <stddef.h>

#include "http/http.h"

/* ---- parsing (http_router.c, pure and fuzzed) ------------------------------------------- */

/**
 * Percent-decodes src[0..len) into an arena string. plus_space turns '+' into ' ' (query
 * strings). Returns NULL for a malformed escape, a decoded NUL, invalid UTF-8 or when the
 * arena is full.
 */
char *eb__http_decode(struct eb_arena *a, const char *src, size_t len, int plus_space);

/** 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
int eb__http_utf8_valid(const char *s, size_t len);

/**
 * Splits a request target ("/a/b?x=1") into its decoded path and its raw query (NULL when
 * there is none). Returns 0, or EB_EINVAL when the target is not an origin-form path or the
 * path does not decode to NUL-free UTF-8.
 */
int eb__http_split_target(struct eb_arena *a, const char *target, const char **path /* out */,
                          const char **query /* out */);

/** The decoded value of name in a raw query string, or NULL (absent or undecodable). */
const char *eb__http_query_get(struct eb_arena *a, const char *query, const char *name);

/** 1 when the route's pattern matches path (whatever the method). */
int eb__http_pattern_matches(const char *pattern, const char *path);

/** The response language from the eb_lang cookie value, else the Accept-Language header. */
enum eb_lang eb__http_lang(const char *cookie_lang, const char *accept_language);

/* ---- static files (http_static.c) ------------------------------------------------------- */

struct eb_static;

struct eb_static_file {
    const char *path; /* "/index.html" */
    const char *data;
    size_t len;
    const char *content_type;
    const char *etag;          /* quoted, e.g. "\"3f2a...\"" */
    const char *cache_control; /* immutable for hashed assets, no-cache otherwise */
};

/** Loads every regular file under dir into memory. EB_EIO when dir cannot be read,
 * EB_ETOOBIG when it holds more than the static size limits. */
int eb__static_load(const char *dir, struct eb_static **out);
void eb__static_free(struct eb_static *st);
/** The file for a GET path: an exact file, "/" → index.html, else (SPA routes) index.html when
 * spa_fallback is set and the path does not look like a file. NULL when there is none. */
const struct eb_static_file *eb__static_find(const struct eb_static *st, const char *path,
                                             int spa_fallback);

/* ---- responses (http_response.c) -------------------------------------------------------- */

/** Adds the security headers every response carries (CSP, nosniff, ...) to an MHD response. */
struct MHD_Response;
void eb__http_security_headers(struct MHD_Response *resp, int api);

#endif
