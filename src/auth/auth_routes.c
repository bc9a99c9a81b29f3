/* Handlers for logging in and out, the caller's own session, and changing one's password. */
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "app.h"
#include "core/err.h"
#include "core/mem.h"
#include "json/json.h"
#include "oidc/oidc.h"

#include <stdatomic.h>
#include <string.h>

#include <sodium.h>

/* Verified when the login does not exist, so that a miss costs as much time as a hit. */
static const char *dummy_hash(void)
{
    static char *hash;
    static atomic_int ready;
    if (!atomic_load(&ready)) {
        char *h = eb_auth_password_hash("edubrain-timing-equaliser");
        if (h) {
            hash = h;
            atomic_store(&ready, 1);
        }
    }
    return hash;
}

static json_t *org_ref(const struct eb_grant *g)
{
    /* The tree's levels are fixed, so a node's kind is the depth of its path "/1/12/345/". */
    int depth = -1;
    for (const char *p = g->org_path; *p; p++)
        depth += *p == '/';
    const char *kind =
        depth >= EB_ORG_CITY && depth <= EB_ORG_CLASS ? eb_org_kind_name(depth) : NULL;
    return json_pack("{s:I, s:o, s:s, s:o}", "id", (json_int_t)g->org_id, "name",
                     eb_json_str_or_null(g->org_name), "path", g->org_path, "kind",
                     eb_json_str_or_null(kind));
}

/* The session document shared by login, GET /me and the changes that renew the session. */
int eb__auth_send_session(struct eb_req *r)
{
    const struct eb_account *a = r->account;
    json_t *user = json_pack("{s:I, s:s, s:o, s:o, s:b}", "id", (json_int_t)a->id, "login",
                             a->login, "display_name", eb_json_str_or_null(a->display_name),
                             "person_id", a->person_id ? json_integer(a->person_id) : json_null(),
                             "must_change_password", a->must_change_password);
    int rc = eb__auth_totp_describe(r, user);
    if (rc) {
        json_decref(user);
        return rc;
    }
    json_t *roles = json_array();
    for (size_t i = 0; i < r->caller.n_grants; i++) {
        const struct eb_grant *g = &r->caller.grants[i];
        json_array_append_new(
            roles, json_pack("{s:s, s:o}", "role", eb_role_name(g->role), "org", org_ref(g)));
    }
    /* RFC 8176 method names as an array, like the amr claim of the ID tokens. */
    json_t *amr = json_array();
    const char *m = r->session_amr ? r->session_amr : "pwd";
    while (*m) {
        size_t n = strcspn(m, " ");
        if (n)
            json_array_append_new(amr, json_stringn(m, n));
        m += n + (m[n] == ' ');
    }
    return eb_http_json(r, 200,
                        json_pack("{s:o, s:o, s:s, s:o}", "user", user, "roles", roles,
                                  "csrf_token", r->csrf_token ? r->csrf_token : "", "amr", amr));
}

static const char *first_grant_path(const struct eb_req *r)
{
    return r->caller.n_grants ? r->caller.grants[0].org_path : NULL;
}

/* A failed login: counted by the throttle, audited with why when the account exists. */
static int login_failed(struct eb_req *r, const struct eb_account *acc, const char *login,
                        int64_t now, const char *why)
{
    atomic_fetch_add(&r->app->metrics.logins_failed, 1);
    int rc = eb__auth_throttle_fail(r->db, login, r->client_addr, now);
    if (rc)
        return rc;
    if (acc->id && acc->password_hash) {
        /* Filed under the account's first role, so that its administrators see the attempts. */
        size_t n = 0;
        struct eb_grant *grants = NULL;
        eb_store_grants_of(r->db, acc->id, r->arena, &n, &grants);
        struct eb_caller who = {.account_id = acc->id, .client_addr = r->client_addr};
        struct eb_audit e = {.action = "session.login_failed",
                             .object_type = "account",
                             .object_id = acc->id,
                             .org_path = n ? grants[0].org_path : NULL,
                             .after_json = eb_arena_printf(r->arena, "{\"why\":\"%s\"}", why)};
        eb_store_audit_add(r->db, &who, &e);
    }
    return 0;
}

int eb_auth_login_handler(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"login", EB_JSON_STRING, 1, 0, 64},
        {"password", EB_JSON_STRING, 1, 0, 256},
        {"otp", EB_JSON_STRING, 0, 1, 16},
    };
    const char *why = NULL;
    if (eb_json_check(r->json, fields, 3, r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    const char *login = eb_json_str(r->json, "login");
    const char *password = eb_json_str(r->json, "password");
    const char *otp = eb_json_str(r->json, "otp");
    int64_t now = eb__auth_now();

    int rc = eb__auth_throttle_gate(r, login, now);
    if (rc)
        return rc > 0 ? 0 : rc;

    struct eb_account acc = {0};
    rc = eb_store_account_by_login(r->db, login, r->arena, &acc);
    if (rc && rc != EB_ENOTFOUND)
        return rc;
    int ok;
    if (rc == EB_ENOTFOUND) {
        eb_auth_password_verify(dummy_hash(), password);
        ok = 0;
    } else {
        ok = eb_auth_password_verify(acc.password_hash, password) == 0 && !acc.disabled;
    }
    if (!ok) {
        rc = login_failed(r, &acc, login, now, "bad_password");
        return rc ? rc : eb_http_error(r, 401, "bad_credentials", NULL);
    }
    /* The second factor. Asking for it is not a failure (the login form asks in two steps), but
     * it clears no counter either: only a complete login does, so that a known password cannot
     * reset the throttle of someone guessing codes. */
    const char *amr = NULL;
    rc = eb__auth_totp_login(r, acc.id, otp, &amr, &why);
    if (rc == EB_EAUTH && strcmp(why, "otp_required") == 0)
        return eb_http_error(r, 401, "otp_required", NULL);
    if (rc == EB_EAUTH) {
        rc = login_failed(r, &acc, login, now, why);
        return rc ? rc : eb_http_error(r, 401, "bad_otp", NULL);
    }
    if (rc)
        return rc;
    rc = eb__auth_throttle_success(r->db, login, r->client_addr);
    if (rc)
        return rc;
    /* A session that was already open in this browser ends: a new id at every login. */
    if (r->session_hash)
        eb_store_session_delete(r->db, r->session_hash);
    rc = eb__auth_session_start(r, acc.id, amr);
    if (rc)
        return rc;
    rc = eb__auth_load_caller(r, acc.id);
    if (rc)
        return rc;
    struct eb_audit e = {.action = "session.login",
                         .object_type = "account",
                         .object_id = acc.id,
                         .org_path = first_grant_path(r)};
    eb_store_audit_add(r->db, &r->caller, &e);
    atomic_fetch_add(&r->app->metrics.logins_ok, 1);
    return eb__auth_send_session(r);
}

int eb_auth_logout_handler(struct eb_req *r)
{
    /* The apps this session logged into lose its tokens (src/oidc). */
    int rc = eb_oidc_session_ended(r, r->caller.account_id, r->session_hash);
    if (rc)
        return rc;
    rc = eb_store_session_delete(r->db, r->session_hash);
    if (rc && rc != EB_ENOTFOUND)
        return rc;
    struct eb_audit e = {.action = "session.logout",
                         .object_type = "account",
                         .object_id = r->caller.account_id,
                         .org_path = first_grant_path(r)};
    eb_store_audit_add(r->db, &r->caller, &e);
    eb__auth_session_clear_cookie(r);
    r->status = 204;
    return 0;
}

int eb_auth_me_handler(struct eb_req *r)
{
    return eb__auth_send_session(r);
}

/* PUT /api/v1/me/password: the owner changes their password (old one required). */
int eb_auth_password_handler(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"old_password", EB_JSON_STRING, 1, 0, 256},
        {"new_password", EB_JSON_STRING, 1, 0, 256},
    };
    const char *why = NULL;
    if (eb_json_check(r->json, fields, 2, r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    const char *old_pw = eb_json_str(r->json, "old_password");
    const char *new_pw = eb_json_str(r->json, "new_password");
    const char *login = r->account->login;
    int64_t now = eb__auth_now();
    /* The old password is checked here: throttled like the login, so that a session left open
     * on a shared PC is no fast way to guess it. */
    int rc = eb__auth_throttle_gate(r, login, now);
    if (rc)
        return rc > 0 ? 0 : rc;
    struct eb_account acc = {0};
    rc = eb_store_account_by_login(r->db, login, r->arena, &acc);
    if (rc)
        return rc;
    if (eb_auth_password_verify(acc.password_hash, old_pw) != 0) {
        rc = eb__auth_throttle_fail(r->db, login, r->client_addr, now);
        return rc ? rc : eb_http_error(r, 400, "bad_old_password", NULL);
    }
    rc = eb__auth_throttle_success(r->db, login, r->client_addr);
    if (rc)
        return rc;
    if (eb_auth_password_check_rules(new_pw, &why))
        return eb_http_error(r, 400, why, NULL);
    if (strcmp(old_pw, new_pw) == 0)
        return eb_http_error(r, 400, "password_unchanged", NULL);
    char *hash = eb_auth_password_hash(new_pw);
    if (!hash)
        return EB_EINTERNAL;
    rc = eb_store_account_set_password(r->db, &r->caller, acc.id, hash, 0);
    eb_free(hash);
    if (rc)
        return rc;
    r->account->must_change_password = 0; /* the answer shows the account as it is now */
    /* Other sessions of this account end; this one stays with a fresh id. */
    rc = eb_store_session_delete_account(r->db, acc.id);
    if (rc && rc != EB_ENOTFOUND)
        return rc;
    /* The new session keeps the methods this one was made with. */
    rc = eb__auth_session_start(r, acc.id, r->session_amr);
    if (rc)
        return rc;
    return eb__auth_send_session(r);
}
