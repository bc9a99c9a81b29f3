/* Shared pieces of the OIDC endpoints: parameters, random tokens, pages, client authentication. */
#include "oidc/oidc_int.h"

#include "app.h"
#include "auth/auth.h"
#include "core/err.h"
#include "http/http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

int eb__oidc_is_form(const struct eb_req *r)
{
    const char *ct = eb_http_header(r, "Content-Type");
    static const char form[] = "application/x-www-form-urlencoded";
    return ct && strncasecmp(ct, form, sizeof(form) - 1) == 0 &&
           (ct[sizeof(form) - 1] == '\0' || ct[sizeof(form) - 1] == ';');
}

const char *eb__oidc_param(const struct eb_req *r, const char *name)
{
    /* OIDC-Core 3.1.2.1: the authorization endpoint takes GET (query) and POST (form body).
     * Secrets are read from the body only: a POST never falls back to the query. */
    if (strcmp(r->method, "POST") == 0)
        return r->body && eb__oidc_is_form(r) ? eb__http_query_get(r->arena, r->body, name) : NULL;
    return eb__http_query_get(r->arena, r->query, name);
}

const char *eb__oidc_issuer(struct eb_req *r)
{
    if (r->app && r->app->cfg && r->app->cfg->issuer)
        return r->app->cfg->issuer;
    const char *host = eb_http_header(r, "Host");
    return eb_arena_printf(r->arena, "%s://%s", r->tls ? "https" : "http",
                           host ? host : "localhost");
}

int64_t eb__oidc_now(void)
{
    int64_t now = (int64_t)time(NULL);
#ifdef EB_TESTING
    /* Read on every call: the test moves the clock while the server runs. Never compiled into
     * release builds. */
    const char *path = getenv("EDUBRAIN_TEST_CLOCK_FILE");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f) {
        char line[32] = "";
        if (fgets(line, sizeof(line), f))
            now += strtoll(line, NULL, 10);
        fclose(f);
    }
#endif
    return now;
}

void eb__oidc_random(char out[44])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, 44, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

void eb__oidc_hash(const char *s, char hex[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(hex, 65, h, sizeof(h));
}

void eb_oidc_secret_hash(const char *secret, char hex[65])
{
    eb__oidc_hash(secret, hex);
}

void eb_oidc_sid(const char *session_hash, char sid[33])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)"eb-sid:", 7);
    crypto_hash_sha256_update(&st, (const unsigned char *)session_hash, strlen(session_hash));
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(sid, 33, h, 16);
}

char *eb__oidc_urlencode(struct eb_arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(s);
    char *out = eb_arena_alloc(a, len * 3 + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

char *eb__oidc_html(struct eb_arena *a, const char *s)
{
    if (!s)
        return eb_arena_strdup(a, "");
    size_t len = strlen(s);
    char *out = eb_arena_alloc(a, len * 6 + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            break;
        }
        if (rep) {
            size_t n = strlen(rep);
            memcpy(o, rep, n);
            o += n;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

int eb__oidc_list_has(const char *list, const char *s)
{
    if (!list || !s || !*s)
        return 0;
    size_t n = strlen(s);
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, s, n) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

int eb__oidc_scope_has(const char *scope, const char *word)
{
    if (!scope)
        return 0;
    size_t n = strlen(word);
    const char *p = scope;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, word, n) == 0)
            return 1;
        if (!end)
            break;
        p = end;
    }
    return 0;
}

int eb__oidc_page(struct eb_req *r, int status, const char *title, const char *body_html)
{
    eb_buf_reset(&r->out);
    r->status = status;
    r->content_type = "text/html; charset=utf-8";
    eb_http_add_header(r, "Cache-Control", "no-store");
    eb_buf_printf(&r->out,
                  "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                  "<title>%s</title><style>body{font-family:sans-serif;max-width:32rem;"
                  "margin:3rem auto;padding:0 1rem;color:#1f2937}h1{font-size:1.3rem}"
                  "button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.6rem}"
                  "li{margin:.3rem 0}</style></head><body><h1>%s</h1>%s</body></html>\n",
                  title, title, body_html);
    return 0;
}

int eb__oidc_as_page(struct eb_req *r, int rc)
{
    if (rc != 0 || r->status != 302)
        return rc;
    const char *loc = NULL;
    int k = 0;
    for (int i = 0; i < r->n_headers; i++) {
        if (strcmp(r->headers[i].name, "Location") == 0)
            loc = r->headers[i].value;
        else
            r->headers[k++] = r->headers[i];
    }
    r->n_headers = k;
    /* Browsers apply form-action also to the redirects that follow a form submission, and the
     * application lies on another origin: a meta refresh is a navigation, not a redirect. */
    const char *url = eb__oidc_html(r->arena, loc);
    const char *head =
        eb_arena_printf(r->arena, "<meta http-equiv=\"refresh\" content=\"0;url=%s\">", url);
    const char *body = eb_arena_printf(
        r->arena, "%s<p>正在返回应用……</p><p><a href=\"%s\">继续</a></p>", head, url);
    return eb__oidc_page(r, 200, "正在返回应用", body ? body : "");
}

/* One member of a claims request: null, or an object of essential, value and values. */
static int claim_request_ok(json_t *v)
{
    if (json_is_null(v))
        return 1;
    if (!json_is_object(v))
        return 0;
    json_t *essential = json_object_get(v, "essential");
    if (essential && !json_is_boolean(essential))
        return 0;
    json_t *values = json_object_get(v, "values");
    if (values && !json_is_array(values))
        return 0;
    /* Other members are extensions (OIDC-Core 5.5.1): ignored. */
    return 1;
}

/* The userinfo or id_token member: absent, or an object of claim requests. */
static int claims_member_ok(json_t *m)
{
    if (!m)
        return 1;
    if (!json_is_object(m))
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        if (!claim_request_ok(v))
            return 0;
    }
    return 1;
}

int eb__oidc_claims_parse(const char *s, json_t **out)
{
    *out = NULL;
    if (!s)
        return 0;
    if (strlen(s) > EB_OIDC_CLAIMS_MAX)
        return EB_EINVAL;
    int rc = EB_EINVAL;
    json_t *doc = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc) || !claims_member_ok(json_object_get(doc, "userinfo")) ||
        !claims_member_ok(json_object_get(doc, "id_token")))
        goto done;
    *out = doc;
    doc = NULL;
    rc = 0;
done:
    json_decref(doc);
    return rc;
}

int eb__oidc_json(struct eb_req *r, int status, json_t *doc)
{
    /* RFC 6749 5.1: responses with tokens are never cached. */
    eb_http_add_header(r, "Cache-Control", "no-store");
    eb_http_add_header(r, "Pragma", "no-cache");
    return eb_http_json(r, status, doc);
}

int eb__oidc_json_error(struct eb_req *r, int status, const char *error, const char *description)
{
    /* RFC 6749 5.2. */
    json_t *doc = json_pack("{s:s}", "error", error);
    if (description)
        json_object_set_new(doc, "error_description", json_string(description));
    return eb__oidc_json(r, status, doc);
}

/* Splits "id:secret" of a Basic header; each part is form-urlencoded (RFC 6749 2.3.1). */
static int basic_credentials(struct eb_req *r, const char *hdr, const char **id,
                             const char **secret)
{
    while (*hdr == ' ')
        hdr++;
    size_t len = strlen(hdr);
    unsigned char *raw = eb_arena_alloc(r->arena, len + 1);
    size_t raw_len = 0;
    if (!raw || sodium_base642bin(raw, len, hdr, len, NULL, &raw_len, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) != 0)
        return EB_EAUTH;
    raw[raw_len] = '\0';
    const char *colon = memchr(raw, ':', raw_len);
    if (!colon)
        return EB_EAUTH;
    size_t id_len = (size_t)(colon - (const char *)raw);
    *id = eb__http_decode(r->arena, (const char *)raw, id_len, 1);
    *secret = eb__http_decode(r->arena, colon + 1, raw_len - id_len - 1, 1);
    return *id && *secret ? 0 : EB_EAUTH;
}

int eb__oidc_client_auth(struct eb_req *r, struct eb_oidc_client *out)
{
    const char *auth = eb_http_header(r, "Authorization");
    const char *id = NULL, *secret = NULL;
    int basic = auth && strncasecmp(auth, "Basic ", 6) == 0;
    if (basic) {
        if (basic_credentials(r, auth + 6, &id, &secret) != 0)
            goto fail;
    } else {
        id = eb__oidc_param(r, "client_id");
        secret = eb__oidc_param(r, "client_secret");
    }
    if (!id)
        goto fail;
    /* A throttled client is refused before its secret is looked at, so guessing gains nothing
     * while the delay runs. */
    int64_t now = (int64_t)time(NULL), wait_s = 0;
    if (eb_auth_client_throttle_check(r->db, id, r->client_addr, now, &wait_s) != 0)
        goto fail;
    if (wait_s > 0) {
        eb_http_add_header(r, "Retry-After", eb_arena_printf(r->arena, "%lld", (long long)wait_s));
        eb__oidc_json_error(r, 429, "temporarily_unavailable",
                            "too many failed client authentications; retry later");
        return EB_EAUTH;
    }
    if (eb_store_oidc_client_get(r->db, id, r->arena, out) != 0)
        goto fail_counted;
    /* A client id given twice must name the same client. */
    const char *body_id = basic ? eb__oidc_param(r, "client_id") : NULL;
    if (body_id && strcmp(body_id, id) != 0)
        goto fail_counted;
    if (out->is_public) {
        /* Public clients authenticate with nothing (their PKCE verifier proves the code). */
        if (secret && *secret)
            goto fail_counted;
        return 0;
    }
    if (!secret || !out->secret_hash)
        goto fail_counted;
    char hex[65];
    eb__oidc_hash(secret, hex);
    if (strlen(out->secret_hash) != 64 || sodium_memcmp(hex, out->secret_hash, 64) != 0)
        goto fail_counted;
    (void)eb_auth_client_throttle_success(r->db, id, r->client_addr);
    return 0;
fail_counted:
    /* A failed counter update must not turn a wrong secret into a server error. */
    (void)eb_auth_client_throttle_fail(r->db, id, r->client_addr, now);
fail:
    /* RFC 6749 5.2: invalid_client, 401 with a challenge when the client tried Basic. */
    if (basic)
        eb_http_add_header(r, "WWW-Authenticate", "Basic realm=\"edubrain\"");
    eb__oidc_json_error(r, 401, "invalid_client", "client authentication failed");
    return EB_EAUTH;
}

const char *eb__oidc_bearer(const struct eb_req *r)
{
    const char *auth = eb_http_header(r, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;
        while (*t == ' ')
            t++;
        return *t ? t : NULL;
    }
    /* RFC 6750 2.2: a form body may carry it; never the query string (2.3 is refused). */
    if (strcmp(r->method, "POST") == 0)
        return eb__oidc_param(r, "access_token");
    return NULL;
}
