/* Inside the auth module: helpers shared by its files. */
#ifndef EB_AUTH_INT_H
#define EB_AUTH_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/auth.h"

void eb__auth_hash_token(const char *token, char hex[65]);
void eb__auth_random_token(char *out, size_t out_size);
int64_t eb__auth_now(void);
/** Loads the account and its grants into r->caller; EB_EAUTH when disabled. */
int eb__auth_load_caller(struct eb_req *r, int64_t account_id);
/** New session id (and CSRF token) for account_id, made with the RFC 8176 methods amr ("pwd"
 * or "pwd otp"; NULL = "pwd"); sets the cookie. */
int eb__auth_session_start(struct eb_req *r, int64_t account_id, const char *amr);
void eb__auth_session_clear_cookie(struct eb_req *r);

/**
 * Login throttling (auth_throttle.c). eb__auth_throttle_check tells how many seconds the
 * client must wait before another attempt for login from addr (0 = go ahead).
 */
int eb__auth_throttle_check(struct eb_db *db, const char *login, const char *addr, int64_t now,
                            int64_t *wait_s /* out */);
/**
 * The gate before every check of a password or code: 0 to go ahead; 1 when the caller must
 * wait (the 429 answer with Retry-After is already made: return 0 from the handler); or a
 * store error. key is the login (or another throttle key such as "bind:<student no>").
 */
int eb__auth_throttle_gate(struct eb_req *r, const char *key, int64_t now);
int eb__auth_throttle_fail(struct eb_db *db, const char *login, const char *addr, int64_t now);
int eb__auth_throttle_success(struct eb_db *db, const char *login, const char *addr);
/** The delay after n failures under a policy: pure, unit-tested. */
int64_t eb__auth_throttle_delay(int64_t failures, int64_t free_attempts, int64_t cap_s);

/*
 * TOTP (auth_totp.c): RFC 6238 with HMAC-SHA1, 6 digits, 30-second steps (what authenticator
 * apps implement), codes from liboath. A code is accepted for the current step and one step on
 * either side, and only for a step after the last one taken.
 */
#define EB_TOTP_DIGITS  6
#define EB_TOTP_STEP_S  30
#define EB_TOTP_WINDOW  1
#define EB_TOTP_KEY_LEN 20 /* 160 bits, the length RFC 4226 section 4 recommends */

/** The code of key at unix time t with digits (6..8) digits into out. 0 or EB_EINVAL. */
int eb__totp_code(const unsigned char *key, size_t key_len, int64_t t, unsigned digits,
                  char out[9]);
/**
 * Checks a typed code (spaces ignored; EB_TOTP_DIGITS digits) against key at now: 0 with *step
 * the matching step when it is after last_step; EB_ECONFLICT when it matches only steps already
 * taken (a replay); EB_EAUTH otherwise. Pure: the caller takes the step in the store.
 */
int eb__totp_match(const unsigned char *key, size_t key_len, int64_t now, const char *code,
                   int64_t last_step, int64_t *step /* out */);
/**
 * The second factor of a login whose password was right: 0 with *amr "pwd" (no confirmed TOTP)
 * or "pwd otp" (otp matched and its step was taken); EB_EAUTH with *why "otp_required" (otp is
 * NULL), "bad_otp" or "replayed_otp"; another error for a database failure.
 */
int eb__auth_totp_login(struct eb_req *r, int64_t account_id, const char *otp,
                        const char **amr /* out */, const char **why /* out */);
/** Whether the caller's roles require a second factor under the server's policy. */
int eb__auth_totp_required(const struct eb_req *r);
/** Adds "totp" and "must_enrol_totp" to the session document's user object. */
int eb__auth_totp_describe(struct eb_req *r, json_t *user);
/** Answers 200 with the session document (login, GET /me, password change, TOTP confirm). */
int eb__auth_send_session(struct eb_req *r);

#endif
