/*
 * Authentication and sessions: argon2id passwords (libsodium), session cookies, CSRF tokens,
 * login throttling. The router calls eb_auth_resolve() and eb_auth_check_csrf() before every
 * handler; the login and logout handlers live in auth_routes.c.
 */
#ifndef EB_AUTH_H
#define EB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

#define EB_SESSION_COOKIE "eb_session"
#define EB_CSRF_HEADER    "X-CSRF-Token"

/** Hashes a password with argon2id (parameters in docs/SECURITY.md). Returns a malloc'd
 * encoded hash string (free with eb_free) or NULL on failure. */
char *eb_auth_password_hash(const char *password);
/** 0 when password matches the encoded hash, EB_EAUTH otherwise. */
int eb_auth_password_verify(const char *hash, const char *password);
/** Password rules for chosen passwords: EB_EINVAL with a message key in *why. */
int eb_auth_password_check_rules(const char *password, const char **why);

/**
 * Reads the session cookie; when it names a live session, fills r->caller (grants included),
 * r->account, r->session_hash and r->csrf_token and slides the idle expiry. Anonymous callers
 * keep r->caller.account_id == 0. Returns 0, or an error for a database failure.
 */
int eb_auth_resolve(struct eb_req *r);
/** 0 when the X-CSRF-Token header equals the session's token (constant time), else
 * EB_EDENIED. */
int eb_auth_check_csrf(const struct eb_req *r);

struct eb_db;

/*
 * Client-authentication throttling for the OIDC token endpoints (auth_throttle.c): the
 * escalating delays of failed logins, keyed by client id and client address; never a lock.
 */
int eb_auth_client_throttle_check(struct eb_db *db, const char *client_id, const char *addr,
                                  int64_t now, int64_t *wait_s);
int eb_auth_client_throttle_fail(struct eb_db *db, const char *client_id, const char *addr,
                                 int64_t now);
int eb_auth_client_throttle_success(struct eb_db *db, const char *client_id, const char *addr);

/* Handlers (auth_routes.c). */
int eb_auth_login_handler(struct eb_req *r);    /* POST /api/v1/session */
int eb_auth_logout_handler(struct eb_req *r);   /* DELETE /api/v1/session */
int eb_auth_me_handler(struct eb_req *r);       /* GET /api/v1/me */
int eb_auth_password_handler(struct eb_req *r); /* PUT /api/v1/me/password */

/**
 * True when the request's session belongs to an administrator who must log in with a second
 * factor (serve --mfa-admins required) and whose session was made without one: such a session
 * opens only the routes flagged EB_ROUTE_MFA_ENROL (enrolment), everything else answers 403
 * must_enrol_totp, and the OIDC authorization endpoint sends it back to the login page.
 */
int eb_auth_must_enrol_totp(const struct eb_req *r);

/* TOTP handlers (auth_totp.c). */
int eb_auth_totp_begin_handler(struct eb_req *r);   /* POST /api/v1/me/totp */
int eb_auth_totp_confirm_handler(struct eb_req *r); /* POST /api/v1/me/totp/confirm */
int eb_auth_totp_disable_handler(struct eb_req *r); /* POST /api/v1/me/totp/disable */
int eb_auth_totp_reset_handler(struct eb_req *r);   /* DELETE /api/v1/accounts/{id}/totp */

#endif
