/* The token endpoint (code, refresh, client credentials), revocation and introspection. */
#include "oidc/oidc_int.h"

#include "app.h"
#include "auth/keys.h"
#include "core/err.h"
#include "core/log.h"

#include <string.h>

#include <sodium.h>

/* The scope of machine clients: reading rosters (RFC 6749 4.4). */
#define ROSTER_SCOPE "roster:read"

/* OIDC-Core 3.1.3.6: at_hash is the left half of the hash of the access token, by the hash of
 * the signing algorithm (SHA-256 for RS256 and ES256, SHA-512 for Ed25519). */
static char *at_hash(struct eb_arena *a, const char *alg, const char *token)
{
    unsigned char h[crypto_hash_sha512_BYTES];
    size_t half;
    if (strcmp(alg, "EdDSA") == 0) {
        crypto_hash_sha512(h, (const unsigned char *)token, strlen(token));
        half = crypto_hash_sha512_BYTES / 2;
    } else {
        crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
        half = crypto_hash_sha256_BYTES / 2;
    }
    char *out = eb_arena_alloc(a, half * 2);
    if (out)
        sodium_bin2base64(out, half * 2, h, half, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

/* What every token of a grant carries from the login that made its code. */
struct login {
    int64_t auth_time;
    const char *sid, *nonce;
    const char *claims;    /* the claims parameter (compact JSON) or NULL */
    const char *amr, *acr; /* NULL reads as "pwd" and "1" */
};

/* RFC 8176 methods, space-separated, as the JSON array of the amr claim. */
static json_t *amr_array(const char *amr)
{
    json_t *a = json_array();
    const char *p = amr && *amr ? amr : "pwd";
    while (*p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len)
            json_array_append_new(a, json_stringn(p, len));
        p += len;
    }
    return a;
}

/* OIDC-Core 2: the ID token, with the claims asked for in the id_token member of the claims
 * parameter (5.5) that the user has. */
static int id_token(struct eb_req *r, const struct eb_oidc_client *cl, int64_t account_id,
                    const struct login *lg, const char *nonce, const char *access, char **out)
{
    if (!r->app->keys)
        return EB_EINTERNAL;
    const char *alg = cl->id_token_alg ? cl->id_token_alg : "RS256";
    int64_t now = eb__oidc_now();
    json_t *req = NULL, *c = NULL;
    if (lg->claims && eb__oidc_claims_parse(lg->claims, &req) != 0)
        return EB_EINTERNAL;
    json_t *asked = json_object_get(req, "id_token");
    int rc = 0;
    /* Without a claims request the ID token names the user by sub only: no lookup. */
    if (json_object_size(asked) > 0)
        rc = eb__oidc_user_claims(r, account_id, "", asked, &c);
    else
        c = json_pack("{s:s}", "sub", eb_arena_printf(r->arena, "%lld", (long long)account_id));
    json_decref(req);
    if (rc)
        return rc;
    json_t *std =
        json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:o, s:s}", "iss", eb__oidc_issuer(r), "aud",
                  cl->client_id, "exp", (json_int_t)(now + EB_OIDC_ID_TOKEN_TTL_S), "iat",
                  (json_int_t)now, "auth_time", (json_int_t)lg->auth_time, "azp", cl->client_id,
                  "amr", amr_array(lg->amr), "acr", lg->acr ? lg->acr : "1");
    if (!std) {
        json_decref(c);
        return EB_EINTERNAL;
    }
    /* The protocol claims win over any user claim of the same name. */
    json_object_update(c, std);
    json_decref(std);
    if (nonce)
        json_object_set_new(c, "nonce", json_string(nonce));
    if (lg->sid)
        json_object_set_new(c, "sid", json_string(lg->sid));
    if (access)
        json_object_set_new(c, "at_hash", json_string(at_hash(r->arena, alg, access)));
    eb_keys_refresh(r->app->keys);
    rc = eb_keys_sign(r->app->keys, alg, NULL, c, r->arena, out);
    json_decref(c);
    return rc;
}

/* Issues an access token, and a refresh token when refresh is set, of one grant (family). */
static int issue_tokens(struct eb_req *r, const struct eb_oidc_client *cl, int64_t account_id,
                        const char *scope, const struct login *lg, const char *family_id,
                        const char *code_hash, int refresh, char access[44], char refresh_tok[44])
{
    char hash[65];
    int64_t now = eb__oidc_now();
    eb__oidc_random(access);
    eb__oidc_hash(access, hash);
    struct eb_oidc_token t = {
        .token_hash = hash,
        .kind = EB_OIDC_ACCESS,
        .client_id = cl->client_id,
        .account_id = account_id,
        .scope = scope,
        .sid = lg ? lg->sid : NULL,
        .auth_time = lg ? lg->auth_time : 0,
        .family_id = family_id,
        .code_hash = code_hash,
        .expires_at = now + EB_OIDC_ACCESS_TTL_S,
        .created_at = now,
        .claims = lg ? lg->claims : NULL,
        .amr = lg ? lg->amr : NULL,
        .acr = lg ? lg->acr : NULL,
    };
    int rc = eb_store_oidc_token_create(r->db, &t);
    if (rc || !refresh)
        return rc;
    eb__oidc_random(refresh_tok);
    eb__oidc_hash(refresh_tok, hash);
    t.kind = EB_OIDC_REFRESH;
    t.nonce = lg ? lg->nonce : NULL;
    t.expires_at = now + EB_OIDC_REFRESH_TTL_S;
    return eb_store_oidc_token_create(r->db, &t);
}

static int token_response(struct eb_req *r, const char *access, const char *refresh,
                          const char *idt, const char *scope)
{
    json_t *doc = json_pack("{s:s, s:s, s:i, s:s}", "access_token", access, "token_type", "Bearer",
                            "expires_in", EB_OIDC_ACCESS_TTL_S, "scope", scope);
    if (refresh)
        json_object_set_new(doc, "refresh_token", json_string(refresh));
    if (idt)
        json_object_set_new(doc, "id_token", json_string(idt));
    return eb__oidc_json(r, 200, doc);
}

/* RFC 7636 4.6: BASE64URL(SHA256(verifier)) == challenge, the verifier 43..128 characters. */
static int verifier_matches(const char *verifier, const char *challenge)
{
    if (!verifier)
        return 0;
    size_t n = strlen(verifier);
    if (n < 43 || n > 128)
        return 0;
    unsigned char h[crypto_hash_sha256_BYTES];
    char b64[64];
    crypto_hash_sha256(h, (const unsigned char *)verifier, n);
    sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return strlen(challenge) == strlen(b64) && sodium_memcmp(b64, challenge, strlen(b64)) == 0;
}

static int grant_code(struct eb_req *r, const struct eb_oidc_client *cl)
{
    const char *code = eb__oidc_param(r, "code");
    const char *redirect_uri = eb__oidc_param(r, "redirect_uri");
    const char *verifier = eb__oidc_param(r, "code_verifier");
    if (!code || !redirect_uri)
        return eb__oidc_json_error(r, 400, "invalid_request", "code and redirect_uri required");
    char hash[65], family[44], access[44], refresh[44];
    eb__oidc_hash(code, hash);
    struct eb_oidc_code c;
    int64_t now = eb__oidc_now();
    int rc = eb_db_begin(r->db);
    if (rc)
        return rc;
    rc = eb_store_oidc_code_take(r->db, hash, r->arena, &c);
    if (rc == EB_ENOTFOUND) {
        eb_db_rollback(r->db);
        return eb__oidc_json_error(r, 400, "invalid_grant", "unknown code");
    }
    if (rc)
        goto fail;
    if (c.used > 1) {
        /* RFC 6749 4.1.2 / 10.5: a code used twice revokes what it issued. */
        rc = eb_store_oidc_revoke_code(r->db, hash);
        if (rc == 0)
            rc = eb_db_commit(r->db);
        if (rc)
            goto fail;
        eb_warn("oidc: a code of client %s was used again; its tokens are revoked", cl->client_id);
        return eb__oidc_json_error(r, 400, "invalid_grant", "code already used");
    }
    rc = eb_db_commit(r->db); /* the use is counted whatever follows */
    if (rc)
        goto fail;
    /* RFC 6749 4.1.3: bound to the client and the redirect URI of the request. */
    if (strcmp(c.client_id, cl->client_id) != 0 || strcmp(c.redirect_uri, redirect_uri) != 0 ||
        c.expires_at < now)
        return eb__oidc_json_error(r, 400, "invalid_grant", "code invalid or expired");
    int pkce_ok = c.code_challenge ? verifier_matches(verifier, c.code_challenge) : !verifier;
    if (!pkce_ok)
        return eb__oidc_json_error(r, 400, "invalid_grant", "PKCE verification failed");

    eb__oidc_random(family);
    struct login lg = {.auth_time = c.auth_time,
                       .sid = c.sid,
                       .nonce = c.nonce,
                       .claims = c.claims,
                       .amr = c.amr,
                       .acr = c.acr};
    rc = eb_db_begin(r->db);
    if (rc)
        return rc;
    rc = issue_tokens(r, cl, c.account_id, c.scope, &lg, family, hash, 1, access, refresh);
    if (rc == 0)
        rc = eb_db_commit(r->db);
    if (rc)
        goto fail;
    char *idt = NULL;
    rc = id_token(r, cl, c.account_id, &lg, c.nonce, access, &idt);
    if (rc == EB_ENOTFOUND)
        return eb__oidc_json_error(r, 400, "invalid_grant", "the account is disabled");
    if (rc)
        return rc;
    return token_response(r, access, refresh, idt, c.scope);
fail:
    eb_db_rollback(r->db);
    return rc;
}

/* RFC 6749 6 and 10.4, OAuth 2.0 Security BCP 4.14: rotation with reuse detection. */
static int grant_refresh(struct eb_req *r, const struct eb_oidc_client *cl)
{
    const char *presented = eb__oidc_param(r, "refresh_token");
    if (!presented)
        return eb__oidc_json_error(r, 400, "invalid_request", "refresh_token required");
    char hash[65], access[44], refresh[44];
    eb__oidc_hash(presented, hash);
    struct eb_oidc_token t;
    int64_t now = eb__oidc_now();
    int rc = eb_db_begin(r->db);
    if (rc)
        return rc;
    rc = eb_store_oidc_token_get(r->db, hash, r->arena, &t);
    if (rc == EB_ENOTFOUND ||
        (rc == 0 && (t.kind != EB_OIDC_REFRESH || t.revoked || t.expires_at < now ||
                     strcmp(t.client_id, cl->client_id) != 0))) {
        eb_db_rollback(r->db);
        return eb__oidc_json_error(r, 400, "invalid_grant", "refresh token invalid");
    }
    if (rc)
        goto fail;
    int won = 0;
    rc = eb_store_oidc_token_rotate(r->db, hash, now, &won);
    if (rc)
        goto fail;
    if (!won) {
        /* Used before. Within the grace period, and when it is the family's newest rotated
         * token, it is a second tab racing the first: it gets tokens of its own. Otherwise it
         * was stolen (or replayed): the whole grant is revoked. */
        int64_t later = 0;
        rc = eb_store_oidc_family_rotated_since(r->db, t.family_id, hash, t.rotated_at, &later);
        if (rc)
            goto fail;
        if (now - t.rotated_at > EB_OIDC_REFRESH_GRACE_S || later > 0) {
            rc = eb_store_oidc_revoke_family(r->db, t.family_id);
            if (rc == 0)
                rc = eb_db_commit(r->db);
            if (rc)
                goto fail;
            eb_warn("oidc: a rotated refresh token of client %s was reused; grant revoked",
                    cl->client_id);
            return eb__oidc_json_error(r, 400, "invalid_grant", "refresh token reused");
        }
    }
    /* The same login (auth_time, amr, acr) and claims request as the code's. */
    struct login lg = {.auth_time = t.auth_time,
                       .sid = t.sid,
                       .nonce = t.nonce,
                       .claims = t.claims,
                       .amr = t.amr,
                       .acr = t.acr};
    rc = issue_tokens(r, cl, t.account_id, t.scope, &lg, t.family_id, t.code_hash, 1, access,
                      refresh);
    if (rc == 0)
        rc = eb_db_commit(r->db);
    if (rc)
        goto fail;
    /* OIDC-Core 12.2: a new ID token for the same login (no nonce). */
    char *idt = NULL;
    if (eb__oidc_scope_has(t.scope, "openid")) {
        rc = id_token(r, cl, t.account_id, &lg, NULL, access, &idt);
        if (rc == EB_ENOTFOUND)
            return eb__oidc_json_error(r, 400, "invalid_grant", "the account is disabled");
        if (rc)
            return rc;
    }
    return token_response(r, access, refresh, idt, t.scope);
fail:
    eb_db_rollback(r->db);
    return rc;
}

static int grant_client_credentials(struct eb_req *r, const struct eb_oidc_client *cl)
{
    if (cl->is_public)
        return eb__oidc_json_error(r, 400, "unauthorized_client",
                                   "public clients cannot use client_credentials");
    /* The only thing a client_credentials token opens is the rosters, and an administrator
     * decides which app may read them (docs/API.md, apps). */
    if (!cl->roster_read)
        return eb__oidc_json_error(r, 400, "unauthorized_client",
                                   "this app is not allowed to read rosters");
    const char *scope = eb__oidc_param(r, "scope");
    if (scope && *scope &&
        !(eb__oidc_scope_has(scope, ROSTER_SCOPE) && strlen(scope) == strlen(ROSTER_SCOPE)))
        return eb__oidc_json_error(r, 400, "invalid_scope", "only " ROSTER_SCOPE);
    char family[44], access[44];
    eb__oidc_random(family);
    int rc = issue_tokens(r, cl, 0, ROSTER_SCOPE, NULL, family, NULL, 0, access, NULL);
    if (rc)
        return rc;
    return token_response(r, access, NULL, NULL, ROSTER_SCOPE);
}

int eb_oidc_token_handler(struct eb_req *r)
{
    if (!eb__oidc_is_form(r))
        return eb__oidc_json_error(r, 400, "invalid_request",
                                   "the body must be application/x-www-form-urlencoded");
    struct eb_oidc_client cl = {0};
    if (eb__oidc_client_auth(r, &cl) != 0)
        return 0;
    const char *grant = eb__oidc_param(r, "grant_type");
    if (!grant)
        return eb__oidc_json_error(r, 400, "invalid_request", "grant_type required");
    if (strcmp(grant, "authorization_code") == 0)
        return grant_code(r, &cl);
    if (strcmp(grant, "refresh_token") == 0)
        return grant_refresh(r, &cl);
    if (strcmp(grant, "client_credentials") == 0)
        return grant_client_credentials(r, &cl);
    return eb__oidc_json_error(r, 400, "unsupported_grant_type", NULL);
}

/* RFC 7009: revocation. Unknown tokens and other clients' tokens answer 200 as well. */
int eb_oidc_revoke_handler(struct eb_req *r)
{
    if (!eb__oidc_is_form(r))
        return eb__oidc_json_error(r, 400, "invalid_request", "form body required");
    struct eb_oidc_client cl = {0};
    if (eb__oidc_client_auth(r, &cl) != 0)
        return 0;
    const char *token = eb__oidc_param(r, "token");
    if (!token)
        return eb__oidc_json_error(r, 400, "invalid_request", "token required");
    char hash[65];
    eb__oidc_hash(token, hash);
    struct eb_oidc_token t;
    int rc = eb_store_oidc_token_get(r->db, hash, r->arena, &t);
    if (rc == 0 && strcmp(t.client_id, cl.client_id) == 0) {
        /* RFC 7009 2.1: revoking a refresh token revokes its grant's access tokens too. */
        rc = t.kind == EB_OIDC_REFRESH ? eb_store_oidc_revoke_family(r->db, t.family_id)
                                       : eb_store_oidc_token_revoke(r->db, hash);
        if (rc)
            return rc;
    } else if (rc && rc != EB_ENOTFOUND) {
        return rc;
    }
    eb_http_add_header(r, "Cache-Control", "no-store");
    r->status = 200;
    return 0;
}

/* RFC 7662: introspection by the client the token was issued to. */
int eb_oidc_introspect_handler(struct eb_req *r)
{
    if (!eb__oidc_is_form(r))
        return eb__oidc_json_error(r, 400, "invalid_request", "form body required");
    struct eb_oidc_client cl = {0};
    if (eb__oidc_client_auth(r, &cl) != 0)
        return 0;
    if (cl.is_public)
        return eb__oidc_json_error(r, 401, "invalid_client", "confidential clients only");
    const char *token = eb__oidc_param(r, "token");
    if (!token)
        return eb__oidc_json_error(r, 400, "invalid_request", "token required");
    char hash[65];
    eb__oidc_hash(token, hash);
    struct eb_oidc_token t;
    int rc = eb_store_oidc_token_get(r->db, hash, r->arena, &t);
    if (rc && rc != EB_ENOTFOUND)
        return rc;
    int64_t now = eb__oidc_now();
    if (rc == EB_ENOTFOUND || t.revoked || t.expires_at < now ||
        strcmp(t.client_id, cl.client_id) != 0 ||
        (t.kind == EB_OIDC_REFRESH && t.rotated_at && now - t.rotated_at > EB_OIDC_REFRESH_GRACE_S))
        return eb__oidc_json(r, 200, json_pack("{s:b}", "active", 0));
    json_t *doc = json_pack(
        "{s:b, s:s, s:s, s:s, s:I, s:I, s:s}", "active", 1, "scope", t.scope, "client_id",
        t.client_id, "token_type", t.kind == EB_OIDC_ACCESS ? "Bearer" : "refresh_token", "exp",
        (json_int_t)t.expires_at, "iat", (json_int_t)t.created_at, "iss", eb__oidc_issuer(r));
    if (t.account_id)
        json_object_set_new(
            doc, "sub", json_string(eb_arena_printf(r->arena, "%lld", (long long)t.account_id)));
    if (t.sid)
        json_object_set_new(doc, "sid", json_string(t.sid));
    return eb__oidc_json(r, 200, doc);
}
