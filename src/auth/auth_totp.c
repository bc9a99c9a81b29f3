/* The second factor: TOTP codes (liboath), enrolment, the login check, disabling and resets. */
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "app.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "json/json.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <liboath/oath.h>
#include <sodium.h>

/* The name authenticator apps show above the code (otpauth URI issuer and label prefix). */
#define ISSUER "edubrain"

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_ready;

static void oath_start(void)
{
    oath_ready = oath_init() == OATH_OK;
    if (!oath_ready)
        eb_error("auth: liboath did not initialise");
}

static int oath_ok(void)
{
    pthread_once(&oath_once, oath_start);
    return oath_ready;
}

int eb__totp_code(const unsigned char *key, size_t key_len, int64_t t, unsigned digits, char out[9])
{
    out[0] = '\0';
    if (!oath_ok() || key == NULL || key_len == 0 || digits < 6 || digits > 8 || t < 0)
        return EB_EINVAL;
    int rc = oath_totp_generate((const char *)key, key_len, (time_t)t, EB_TOTP_STEP_S,
                                OATH_TOTP_DEFAULT_START_TIME, digits, out);
    return rc == OATH_OK ? 0 : EB_EINVAL;
}

/* The typed code without the spaces apps show in the middle ("123 456"); NULL when it is not
 * EB_TOTP_DIGITS digits. */
static int normalise(const char *code, char out[EB_TOTP_DIGITS + 1])
{
    size_t n = 0;
    for (const char *p = code; p && *p; p++) {
        if (*p == ' ')
            continue;
        if (*p < '0' || *p > '9' || n == EB_TOTP_DIGITS)
            return 0;
        out[n++] = *p;
    }
    out[n] = '\0';
    return n == EB_TOTP_DIGITS;
}

int eb__totp_match(const unsigned char *key, size_t key_len, int64_t now, const char *code,
                   int64_t last_step, int64_t *step)
{
    char typed[EB_TOTP_DIGITS + 1];
    *step = 0;
    if (!normalise(code, typed) || now < EB_TOTP_STEP_S * EB_TOTP_WINDOW)
        return EB_EAUTH;
    /* Every step of the window is computed and compared in constant time, and the earliest new
     * one wins: liboath's validators stop at the first match, which could be a taken step whose
     * code happens to equal a new one's. */
    int64_t current = now / EB_TOTP_STEP_S;
    int replay = 0, found = 0;
    for (int64_t s = current - EB_TOTP_WINDOW; s <= current + EB_TOTP_WINDOW; s++) {
        char want[9];
        if (eb__totp_code(key, key_len, s * EB_TOTP_STEP_S, EB_TOTP_DIGITS, want) != 0)
            return EB_EAUTH;
        if (sodium_memcmp(want, typed, EB_TOTP_DIGITS) != 0)
            continue;
        if (s <= last_step)
            replay = 1;
        else if (!found) {
            found = 1;
            *step = s;
        }
    }
    sodium_memzero(typed, sizeof(typed));
    return found ? 0 : replay ? EB_ECONFLICT : EB_EAUTH;
}

/* The raw key of a base32 secret into key (EB_TOTP_KEY_LEN bytes); the caller wipes it. */
static int key_of(const char *b32, unsigned char key[EB_TOTP_KEY_LEN])
{
    char *raw = NULL;
    size_t len = 0;
    if (!oath_ok() || b32 == NULL || oath_base32_decode(b32, strlen(b32), &raw, &len) != OATH_OK ||
        raw == NULL)
        return EB_ESTORE;
    int rc = len == EB_TOTP_KEY_LEN ? 0 : EB_ESTORE;
    if (rc == 0)
        memcpy(key, raw, EB_TOTP_KEY_LEN);
    sodium_memzero(raw, len);
    eb_free(raw); /* liboath allocates with malloc */
    return rc;
}

/* Checks code against the account's TOTP t (secret opened) and, when it matches, takes the
 * step. 0, EB_ECONFLICT (replayed), EB_EAUTH (wrong) or a database error. */
static int check_and_take(struct eb_req *r, int64_t account_id, const struct eb_totp *t,
                          const char *code)
{
    unsigned char key[EB_TOTP_KEY_LEN];
    int64_t step = 0;
    int rc = key_of(t->secret_b32, key);
    if (rc == 0)
        rc = eb__totp_match(key, sizeof(key), eb__auth_now(), code, t->last_step, &step);
    sodium_memzero(key, sizeof(key));
    if (rc == 0)
        rc = eb_store_totp_take_step(r->db, account_id, step);
    return rc;
}

static int amr_has_otp(const char *amr)
{
    /* RFC 8176 values, space-separated: "pwd otp". */
    for (const char *p = amr; p && (p = strstr(p, "otp")) != NULL; p += 3)
        if ((p == amr || p[-1] == ' ') && (p[3] == '\0' || p[3] == ' '))
            return 1;
    return 0;
}

int eb__auth_totp_required(const struct eb_req *r)
{
    if (r->app == NULL || r->app->cfg == NULL || r->app->cfg->mfa_admins != EB_MFA_REQUIRED)
        return 0;
    for (size_t i = 0; i < r->caller.n_grants; i++) {
        enum eb_role role = r->caller.grants[i].role;
        if (role == EB_ROLE_CITY_ADMIN || role == EB_ROLE_DISTRICT_ADMIN ||
            role == EB_ROLE_SCHOOL_ADMIN)
            return 1;
    }
    return 0;
}

int eb_auth_must_enrol_totp(const struct eb_req *r)
{
    /* A session made with the second factor proves the enrolment: no lookup per request. An
     * administrator's session without it exists only before the enrolment (confirming ends the
     * account's other sessions, and a login with a confirmed TOTP needs the code). */
    return r->session_hash != NULL && r->account != NULL && eb__auth_totp_required(r) &&
           !amr_has_otp(r->session_amr);
}

int eb__auth_totp_describe(struct eb_req *r, json_t *user)
{
    struct eb_totp t;
    int rc = eb_store_totp_get(r->db, r->caller.account_id, 0, r->arena, &t);
    if (rc && rc != EB_ENOTFOUND)
        return rc;
    int enabled = rc == 0 && t.confirmed_at != 0;
    json_object_set_new(
        user, "totp",
        json_pack("{s:b, s:b}", "enabled", enabled, "required", eb__auth_totp_required(r)));
    json_object_set_new(user, "must_enrol_totp", json_boolean(eb_auth_must_enrol_totp(r)));
    return 0;
}

int eb__auth_totp_login(struct eb_req *r, int64_t account_id, const char *otp, const char **amr,
                        const char **why)
{
    struct eb_totp t;
    *amr = "pwd";
    *why = NULL;
    int rc = eb_store_totp_get(r->db, account_id, 1, r->arena, &t);
    if (rc == EB_ENOTFOUND || (rc == 0 && t.confirmed_at == 0))
        return 0; /* no second factor (a pending enrolment is not one yet) */
    if (rc)
        return rc;
    if (otp == NULL) {
        *why = "otp_required";
        return EB_EAUTH;
    }
    rc = check_and_take(r, account_id, &t, otp);
    if (rc == EB_ECONFLICT || rc == EB_EAUTH) {
        *why = rc == EB_ECONFLICT ? "replayed_otp" : "bad_otp";
        return EB_EAUTH;
    }
    if (rc)
        return rc;
    *amr = "pwd otp";
    return 0;
}

/* The otpauth URI's label part: the login percent-encoded except RFC 3986 unreserved
 * characters (logins may hold '@', ':' or Chinese). */
static const char *uri_escape(struct eb_arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = eb_arena_alloc(a, n * 3 + 1);
    if (out == NULL)
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

/* POST /api/v1/me/totp: a new secret, shown once; it works only after a confirmed code. */
int eb_auth_totp_begin_handler(struct eb_req *r)
{
    unsigned char key[EB_TOTP_KEY_LEN];
    char *b32 = NULL;
    size_t b32_len = 0;
    int rc;
    if (!oath_ok())
        return EB_EINTERNAL;
    randombytes_buf(key, sizeof(key));
    rc = oath_base32_encode((const char *)key, sizeof(key), &b32, &b32_len) == OATH_OK && b32
             ? 0
             : EB_EINTERNAL;
    sodium_memzero(key, sizeof(key));
    if (rc)
        goto done;
    rc = eb_store_totp_begin(r->db, &r->caller, b32, eb__auth_now());
    if (rc == EB_EEXIST) {
        rc = eb_http_error(r, 409, "totp_already_enabled", NULL);
        goto done;
    }
    if (rc)
        goto done;
    const char *label = uri_escape(r->arena, r->account->login);
    const char *uri = label
                          ? eb_arena_printf(r->arena,
                                            "otpauth://totp/" ISSUER ":%s?secret=%s&issuer=" ISSUER
                                            "&algorithm=SHA1&digits=%d&period=%d",
                                            label, b32, EB_TOTP_DIGITS, EB_TOTP_STEP_S)
                          : NULL;
    if (uri == NULL) {
        rc = EB_ETOOBIG;
        goto done;
    }
    rc = eb_http_json(r, 200, json_pack("{s:s, s:s}", "secret", b32, "otpauth_uri", uri));
done:
    if (b32) {
        sodium_memzero(b32, b32_len);
        eb_free(b32); /* liboath allocates with malloc */
    }
    return rc;
}

/* POST /api/v1/me/totp/confirm {"code"}: the first code turns the secret on. */
int eb_auth_totp_confirm_handler(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"code", EB_JSON_STRING, 1, 0, 16},
    };
    const char *why = NULL;
    if (eb_json_check(r->json, fields, 1, r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    int64_t id = r->caller.account_id;
    struct eb_totp t;
    int rc = eb_store_totp_get(r->db, id, 1, r->arena, &t);
    if (rc == 0 && t.confirmed_at != 0)
        return eb_http_error(r, 409, "totp_already_enabled", NULL);
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 400, "bad_otp", "start the enrolment first (POST /api/v1/me/totp)");
    if (rc)
        return rc;
    unsigned char key[EB_TOTP_KEY_LEN];
    int64_t step = 0;
    rc = key_of(t.secret_b32, key);
    if (rc == 0)
        rc = eb__totp_match(key, sizeof(key), eb__auth_now(), eb_json_str(r->json, "code"),
                            t.last_step, &step);
    sodium_memzero(key, sizeof(key));
    if (rc == EB_EAUTH || rc == EB_ECONFLICT)
        return eb_http_error(r, 400, "bad_otp", NULL);
    if (rc)
        return rc;
    rc = eb_store_totp_confirm(r->db, &r->caller, &t, step, eb__auth_now());
    if (rc == EB_ECONFLICT) /* restarted (or confirmed) by another tab meanwhile */
        return eb_http_error(r, 400, "bad_otp", "the enrolment was restarted; scan the new code");
    if (rc)
        return rc;
    /* The store ended every session of the account; this browser goes on with a new one that
     * was made with both factors. */
    rc = eb__auth_session_start(r, id, "pwd otp");
    if (rc)
        return rc;
    return eb__auth_send_session(r);
}

/* POST /api/v1/me/totp/disable {"password", "code"}: both factors once more, for the owner. */
int eb_auth_totp_disable_handler(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"password", EB_JSON_STRING, 1, 0, 256},
        {"code", EB_JSON_STRING, 1, 0, 16},
    };
    const char *why = NULL;
    if (eb_json_check(r->json, fields, 2, r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    if (eb__auth_totp_required(r))
        return eb_http_error(r, 403, "totp_required", NULL);
    const char *login = r->account->login;
    int64_t now = eb__auth_now();
    /* A password is checked here, so the login's throttle applies (a stolen session must not
     * become a fast password oracle). */
    int rc = eb__auth_throttle_gate(r, login, now);
    if (rc)
        return rc > 0 ? 0 : rc;
    struct eb_account acc = {0};
    rc = eb_store_account_by_login(r->db, login, r->arena, &acc);
    if (rc)
        return rc;
    struct eb_totp t;
    rc = eb_store_totp_get(r->db, acc.id, 1, r->arena, &t);
    if (rc == EB_ENOTFOUND || (rc == 0 && t.confirmed_at == 0))
        return eb_http_error(r, 409, "totp_not_enabled", NULL);
    if (rc)
        return rc;
    const char *error = NULL;
    if (eb_auth_password_verify(acc.password_hash, eb_json_str(r->json, "password")) != 0) {
        error = "bad_password";
    } else {
        rc = check_and_take(r, acc.id, &t, eb_json_str(r->json, "code"));
        if (rc == EB_EAUTH || rc == EB_ECONFLICT)
            error = "bad_otp";
        else if (rc)
            return rc;
    }
    if (error) {
        rc = eb__auth_throttle_fail(r->db, login, r->client_addr, now);
        return rc ? rc : eb_http_error(r, 400, error, NULL);
    }
    rc = eb__auth_throttle_success(r->db, login, r->client_addr);
    if (rc)
        return rc;
    rc = eb_store_totp_remove(r->db, &r->caller, acc.id, NULL);
    if (rc)
        return rc;
    r->status = 204;
    return 0;
}

/* DELETE /api/v1/accounts/{id}/totp: an administrator resets a lost second factor. */
int eb_auth_totp_reset_handler(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    /* One's own factor is removed with both factors (POST /me/totp/disable), never by a reset
     * that needs neither: answer as the password reset does for one's own account. */
    if (id == r->caller.account_id)
        return eb_http_error(r, 403, "forbidden", "use POST /api/v1/me/totp/disable");
    int rc = eb_store_totp_remove(r->db, &r->caller, id, NULL);
    if (rc)
        return rc;
    r->status = 204;
    return 0;
}
