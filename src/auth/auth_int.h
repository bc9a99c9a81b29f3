/* Inside the auth module: helpers shared by its files. */
#ifndef EB_AUTH_INT_H
#define EB_AUTH_INT_H

#include <stdint.h>

#include "auth/auth.h"

void eb__auth_hash_token(const char *token, char hex[65]);
void eb__auth_random_token(char *out, size_t out_size);
int64_t eb__auth_now(void);
/** Loads the account and its grants into r->caller; EB_EAUTH when disabled. */
int eb__auth_load_caller(struct eb_req *r, int64_t account_id);
/** New session id (and CSRF token) for account_id; sets the cookie. */
int eb__auth_session_start(struct eb_req *r, int64_t account_id);
void eb__auth_session_clear_cookie(struct eb_req *r);

/**
 * Login throttling (auth_throttle.c). eb__auth_throttle_check tells how many seconds the
 * client must wait before another attempt for login from addr (0 = go ahead).
 */
int eb__auth_throttle_check(struct eb_db *db, const char *login, const char *addr, int64_t now,
                            int64_t *wait_s /* out */);
int eb__auth_throttle_fail(struct eb_db *db, const char *login, const char *addr, int64_t now);
int eb__auth_throttle_success(struct eb_db *db, const char *login, const char *addr);
/** The delay after n failures under a policy: pure, unit-tested. */
int64_t eb__auth_throttle_delay(int64_t failures, int64_t free_attempts, int64_t cap_s);

#endif
