/* The router's pure functions: route matching, path/query decoding, cookies, parameters. */
#include "http/http.h"
#include "http/http_int.h"
#include "core/err.h"

#include <string.h>

int eb__http_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *eb__http_decode(struct eb_arena *a, const char *src, size_t len, int plus_space)
{
    char *out = eb_arena_alloc(a, len + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (len - i < 3)
                return NULL;
            int hi = hex_value(src[i + 1]), lo = hex_value(src[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        /* A decoded NUL would silently cut the string short for every later strcmp. */
        if (c == '\0')
            return NULL;
        out[n++] = c;
    }
    out[n] = '\0';
    return eb__http_utf8_valid(out, n) ? out : NULL;
}

int eb__http_split_target(struct eb_arena *a, const char *target, const char **path,
                          const char **query)
{
    *path = NULL;
    *query = NULL;
    if (!target || target[0] != '/')
        return EB_EINVAL;
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    /* A fragment is never sent by a conforming client; drop it rather than route on it. */
    const char *hash = memchr(target, '#', plen);
    if (hash)
        plen = (size_t)(hash - target);
    char *p = eb__http_decode(a, target, plen, 0);
    if (!p)
        return EB_EINVAL;
    *path = p;
    if (q && !hash) {
        const char *qe = strchr(q + 1, '#');
        *query = qe ? eb_arena_strndup(a, q + 1, (size_t)(qe - q - 1)) : eb_arena_strdup(a, q + 1);
    }
    return 0;
}

const char *eb__http_query_get(struct eb_arena *a, const char *query, const char *name)
{
    if (!query || !name)
        return NULL;
    size_t name_len = strlen(name);
    const char *p = query;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        /* Compare raw first: almost every key is plain ASCII and needs no decoding. */
        int same = klen == name_len && memcmp(p, name, klen) == 0;
        if (!same && (memchr(p, '%', klen) || memchr(p, '+', klen))) {
            const char *k = eb__http_decode(a, p, klen, 1);
            same = k && strcmp(k, name) == 0;
        }
        if (same) {
            if (!eq)
                return "";
            return eb__http_decode(a, eq + 1, len - klen - 1, 1);
        }
        if (!end)
            break;
        p = end + 1;
    }
    return NULL;
}

const char *eb_http_query(const struct eb_req *r, const char *name)
{
    return eb__http_query_get(r->arena, r->query, name);
}

/*
 * Walks pattern and path segment by segment. A "{name}" segment takes one non-empty path
 * segment; when segs is not NULL the parameter names and values are recorded there.
 * Returns the number of parameters, or -1 when the path does not match.
 */
struct seg {
    const char *name, *val;
    size_t name_len, val_len;
};

static int match_pattern(const char *pat, const char *path, struct seg *segs)
{
    int n = 0;
    if (*pat != '/' || *path != '/')
        return -1;
    while (*pat && *path) {
        if (*pat != '/' || *path != '/')
            return -1;
        pat++;
        path++;
        const char *pe = strchr(pat, '/'), *se = strchr(path, '/');
        size_t plen = pe ? (size_t)(pe - pat) : strlen(pat);
        size_t slen = se ? (size_t)(se - path) : strlen(path);
        if (plen >= 2 && pat[0] == '{' && pat[plen - 1] == '}') {
            if (slen == 0 || n >= EB_HTTP_MAX_PARAMS)
                return -1;
            if (segs) {
                segs[n].name = pat + 1;
                segs[n].name_len = plen - 2;
                segs[n].val = path;
                segs[n].val_len = slen;
            }
            n++;
        } else if (plen != slen || memcmp(pat, path, plen) != 0) {
            return -1;
        }
        pat += plen;
        path += slen;
    }
    return *pat == '\0' && *path == '\0' ? n : -1;
}

int eb__http_pattern_matches(const char *pattern, const char *path)
{
    return match_pattern(pattern, path, NULL) >= 0;
}

const struct eb_route *eb_http_match(const struct eb_route *routes, size_t n_routes,
                                     const char *method, const char *path, struct eb_req *r,
                                     int *path_exists)
{
    struct seg segs[EB_HTTP_MAX_PARAMS];
    /* HEAD is answered by the GET handler; libmicrohttpd drops the body. */
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;

    if (path_exists)
        *path_exists = 0;
    for (size_t i = 0; i < n_routes; i++) {
        int n = match_pattern(routes[i].pattern, path, segs);
        if (n < 0)
            continue;
        if (strcmp(routes[i].method, m) != 0) {
            if (path_exists)
                *path_exists = 1;
            continue;
        }
        if (r) {
            r->n_params = 0;
            for (int k = 0; k < n; k++) {
                const char *pn = eb_arena_strndup(r->arena, segs[k].name, segs[k].name_len);
                const char *pv = eb_arena_strndup(r->arena, segs[k].val, segs[k].val_len);
                if (!pn || !pv)
                    return NULL;
                r->param_names[k] = pn;
                r->param_values[k] = pv;
                r->n_params = k + 1;
            }
        }
        return &routes[i];
    }
    return NULL;
}

const char *eb_http_param(const struct eb_req *r, const char *name)
{
    for (int i = 0; i < r->n_params; i++)
        if (strcmp(r->param_names[i], name) == 0)
            return r->param_values[i];
    return NULL;
}

/* Ids are exchanged with JavaScript clients, which lose precision above 2^53 - 1. */
#define EB_ID_MAX 9007199254740991LL

int eb_http_param_id(const struct eb_req *r, const char *name, int64_t *id)
{
    const char *s = eb_http_param(r, name);
    int64_t v = 0;
    if (!s || s[0] < '1' || s[0] > '9')
        return EB_EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return EB_EINVAL;
        if (v > (EB_ID_MAX - (*p - '0')) / 10)
            return EB_EINVAL;
        v = v * 10 + (*p - '0');
    }
    *id = v;
    return 0;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

const char *eb_http_cookie_parse(struct eb_arena *a, const char *header, const char *name)
{
    if (!header || !name)
        return NULL;
    size_t name_len = strlen(name);
    const char *p = header;
    while (*p) {
        while (is_ows(*p) || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq) {
            size_t klen = (size_t)(eq - p);
            while (klen > 0 && is_ows(p[klen - 1]))
                klen--;
            if (klen == name_len && memcmp(p, name, klen) == 0) {
                const char *v = eq + 1;
                size_t vlen = len - (size_t)(v - p);
                while (vlen > 0 && is_ows(*v)) {
                    v++;
                    vlen--;
                }
                while (vlen > 0 && is_ows(v[vlen - 1]))
                    vlen--;
                /* RFC 6265 4.1.1 allows the value in double quotes; they are not part of it. */
                if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                    v++;
                    vlen -= 2;
                }
                return eb_arena_strndup(a, v, vlen);
            }
        }
        if (!end)
            break;
        p = end + 1;
    }
    return NULL;
}

static int starts_with_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *prefix)
            return 0;
    }
    return 1;
}

enum eb_lang eb__http_lang(const char *cookie_lang, const char *accept_language)
{
    if (cookie_lang && strcmp(cookie_lang, "en") == 0)
        return EB_LANG_EN;
    if (cookie_lang && strcmp(cookie_lang, "zh") == 0)
        return EB_LANG_ZH;
    /* Only the first (most preferred) tag counts; Chinese is the default for anything else. */
    if (accept_language) {
        const char *p = accept_language;
        while (is_ows(*p))
            p++;
        if (starts_with_ci(p, "en") &&
            (p[2] == '\0' || p[2] == '-' || p[2] == ',' || p[2] == ';' || is_ows(p[2])))
            return EB_LANG_EN;
    }
    return EB_LANG_ZH;
}
