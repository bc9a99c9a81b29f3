/* Session cookies: creation at login, resolution on every request, CSRF checks. */
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "app.h"
#include "core/err.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

/* Sliding expiry is written at most once a minute so reads stay reads. */
#define TOUCH_INTERVAL_S 60

void eb__auth_hash_token(const char *token, char hex[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, 65, h, sizeof(h));
}

void eb__auth_random_token(char *out, size_t out_size)
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, out_size, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int64_t eb__auth_now(void)
{
    return (int64_t)time(NULL);
}

/* Fills r->caller from an account that the session (or the login) vouches for. */
static int set_caller(struct eb_req *r, struct eb_account *acc)
{
    if (acc->disabled)
        return EB_EAUTH;
    int64_t account_id = acc->id;
    size_t n = 0;
    struct eb_grant *grants = NULL;
    int rc = eb_store_grants_of(r->db, account_id, r->arena, &n, &grants);
    if (rc)
        return rc;
    r->account = acc;
    r->caller.system = 0;
    r->caller.account_id = account_id;
    r->caller.person_id = acc->person_id;
    r->caller.n_grants = n;
    r->caller.grants = grants;
    r->caller.client_addr = r->client_addr;
    return 0;
}

int eb__auth_load_caller(struct eb_req *r, int64_t account_id)
{
    struct eb_account *acc = eb_arena_alloc(r->arena, sizeof(*acc));
    if (!acc)
        return EB_ETOOBIG;
    /* The account is read with a system caller: the login itself is the authority here. */
    struct eb_caller sys = {.system = 1};
    int rc = eb_store_account_get(r->db, &sys, account_id, r->arena, acc);
    if (rc)
        return rc;
    return set_caller(r, acc);
}

int eb_auth_resolve(struct eb_req *r)
{
    r->caller.client_addr = r->client_addr;
    const char *cookie = eb_http_header(r, "Cookie");
    if (!cookie || !r->db)
        return 0;
    const char *token = eb_http_cookie_parse(r->arena, cookie, EB_SESSION_COOKIE);
    if (!token || strlen(token) < 20 || strlen(token) > 100)
        return 0;
    char *hash = eb_arena_alloc(r->arena, 65);
    if (!hash)
        return EB_ETOOBIG;
    eb__auth_hash_token(token, hash);
    struct eb_session s;
    struct eb_account *acc = eb_arena_alloc(r->arena, sizeof(*acc));
    if (!acc)
        return EB_ETOOBIG;
    int rc = eb_store_session_get(r->db, hash, r->arena, &s, acc);
    if (rc == EB_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    int64_t now = eb__auth_now();
    if (s.expires_at <= now || s.created_at + r->app->cfg->session_max_s <= now) {
        eb_store_session_delete(r->db, hash);
        return 0;
    }
    rc = set_caller(r, acc);
    if (rc == EB_EAUTH) {
        eb_store_session_delete(r->db, hash);
        return 0;
    }
    if (rc)
        return rc;
    r->session_hash = hash;
    r->csrf_token = s.csrf_token;
    r->session_amr = s.amr ? s.amr : "pwd";
    if (now - s.last_seen_at >= TOUCH_INTERVAL_S)
        eb_store_session_touch(r->db, hash, now, now + r->app->cfg->session_ttl_s);
    return 0;
}

int eb_auth_check_csrf(const struct eb_req *r)
{
    const char *sent = eb_http_header(r, EB_CSRF_HEADER);
    if (!sent || !r->csrf_token)
        return EB_EDENIED;
    size_t len = strlen(r->csrf_token);
    if (strlen(sent) != len || sodium_memcmp(sent, r->csrf_token, len) != 0)
        return EB_EDENIED;
    return 0;
}

int eb__auth_session_start(struct eb_req *r, int64_t account_id, const char *amr)
{
    char token[64], csrf[64], hash[65];
    eb__auth_random_token(token, sizeof(token));
    eb__auth_random_token(csrf, sizeof(csrf));
    eb__auth_hash_token(token, hash);
    int64_t now = eb__auth_now();
    struct eb_session s = {
        .id_hash = hash,
        .account_id = account_id,
        .csrf_token = csrf,
        .created_at = now,
        .last_seen_at = now,
        .expires_at = now + r->app->cfg->session_ttl_s,
        .client_addr = r->client_addr,
        .amr = amr ? amr : "pwd",
    };
    int rc = eb_store_session_create(r->db, &s);
    if (rc)
        return rc;
    r->session_hash = eb_arena_strdup(r->arena, hash);
    r->csrf_token = eb_arena_strdup(r->arena, csrf);
    r->session_amr = eb_arena_strdup(r->arena, s.amr);
    /* No Max-Age: the cookie ends with the browser; the server enforces the expiry. */
    const char *cookie =
        eb_arena_printf(r->arena, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s", EB_SESSION_COOKIE,
                        token, r->tls || r->app->cfg->secure_cookies ? "; Secure" : "");
    if (!cookie || !r->session_hash || !r->csrf_token || !r->session_amr)
        return EB_ETOOBIG;
    eb_http_add_header(r, "Set-Cookie", cookie);
    return 0;
}

void eb__auth_session_clear_cookie(struct eb_req *r)
{
    const char *cookie =
        eb_arena_printf(r->arena, "%s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0%s",
                        EB_SESSION_COOKIE, r->tls || r->app->cfg->secure_cookies ? "; Secure" : "");
    if (cookie)
        eb_http_add_header(r, "Set-Cookie", cookie);
}
