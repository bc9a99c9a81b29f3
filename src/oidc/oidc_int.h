/* Inside the OIDC module: request parameters, tokens, pages and client authentication. */
#ifndef EB_OIDC_INT_H
#define EB_OIDC_INT_H

#include <stdint.h>

#include <jansson.h>

#include "oidc/oidc.h"
#include "store/store.h"

/** A request parameter: from the query (GET) or the form body (POST), decoded; NULL if absent.
 * Duplicated parameters are reported through eb__oidc_param_dup. */
const char *eb__oidc_param(const struct eb_req *r, const char *name);
/** 1 when the body is application/x-www-form-urlencoded. */
int eb__oidc_is_form(const struct eb_req *r);
/** The issuer: the configured one, else derived from the Host header. */
const char *eb__oidc_issuer(struct eb_req *r);
/** A new random token (32 bytes, base64url: 43 characters) into out[44]. */
void eb__oidc_random(char out[44]);
/** Hex SHA-256 of s. */
void eb__oidc_hash(const char *s, char hex[65]);
/** Percent-encodes s for a query string (everything but unreserved characters). */
char *eb__oidc_urlencode(struct eb_arena *a, const char *s);
/** HTML-escapes s. */
char *eb__oidc_html(struct eb_arena *a, const char *s);
/** 1 when line-separated list holds s exactly (byte for byte). */
int eb__oidc_list_has(const char *list, const char *s);
/** 1 when the space-separated scope holds word. */
int eb__oidc_scope_has(const char *scope, const char *word);
/** Sends a page (Chinese) with status. */
int eb__oidc_page(struct eb_req *r, int status, const char *title, const char *body_html);
/** A JSON error of RFC 6749 5.2 with no-store. */
int eb__oidc_json_error(struct eb_req *r, int status, const char *error, const char *description);
/** JSON with Cache-Control: no-store and Pragma: no-cache. */
int eb__oidc_json(struct eb_req *r, int status, json_t *doc);

/**
 * Client authentication (RFC 6749 2.3.1; OIDC-Core 9): client_secret_basic,
 * client_secret_post, or none for public clients. 0 with *out filled; EB_EAUTH when the
 * client is unknown or the secret wrong (the answer is then already sent: 401 invalid_client).
 */
int eb__oidc_client_auth(struct eb_req *r, struct eb_oidc_client *out);

/**
 * Back-Channel Logout 1.0: signs a logout token for every client of client_ids that has an
 * http(s) backchannel_logout_uri and POSTs them from a detached thread (2 s timeout, one
 * retry), so the caller's answer never waits for a relying party. Logs client id and status.
 */
void eb__oidc_backchannel_logout(struct eb_req *r, int64_t account_id, const char *sid,
                                 const char **client_ids, size_t n);

/**
 * The provider's clock, unix seconds. In EB_TESTING builds the file named by the environment
 * variable EDUBRAIN_TEST_CLOCK_FILE, when it exists, holds an offset in seconds added to it, so
 * that the e2e suite can let half a minute pass (a code reused after 30 s) without waiting.
 */
int64_t eb__oidc_now(void);

/**
 * After a form of ours (consent, logout confirmation) a 302 to another origin can be blocked by
 * the portal's form-action 'self': turns a redirect answer into a page that moves on by itself.
 * Anything else (rc != 0, another status) passes through. Returns rc.
 */
int eb__oidc_as_page(struct eb_req *r, int rc);

/* The most a claims parameter may hold (bytes of JSON). */
#define EB_OIDC_CLAIMS_MAX 4096

/**
 * The claims parameter (OIDC-Core 5.5): a JSON object whose userinfo and id_token members, when
 * present, are objects mapping claim names to null or to {essential: bool, value: string,
 * values: [string, ...]}. 0 with the parsed document in *out (the caller decrefs; NULL when s
 * is NULL); EB_EINVAL when it is malformed or longer than EB_OIDC_CLAIMS_MAX.
 */
int eb__oidc_claims_parse(const char *s, json_t **out);

/** The scope whose claims include claim (profile, phone, edubrain); NULL for the others. */
const char *eb__oidc_claim_scope(const char *claim);

/**
 * The claims about account_id a relying party may read: those of the scopes in scope, and the
 * members of requested (the userinfo or id_token object of a claims parameter; may be NULL)
 * that the account has, whatever the scope (OIDC-Core 5.5). *out is a new object holding at
 * least sub. EB_ENOTFOUND when the account is gone or disabled.
 */
int eb__oidc_user_claims(struct eb_req *r, int64_t account_id, const char *scope, json_t *requested,
                         json_t **out);

/** The bearer access token of a request (Authorization header, or access_token in a form
 * body); NULL when none. */
const char *eb__oidc_bearer(const struct eb_req *r);

#endif
