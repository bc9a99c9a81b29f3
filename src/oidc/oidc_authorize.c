/* The authorization endpoint: code flow with PKCE, the portal session as the OP session, consent.
 */
#include "oidc/oidc_int.h"

#include "app.h"
#include "auth/auth.h"
#include "auth/keys.h"
#include "core/err.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parameters carried through the login page and the consent form, in this order. */
static const char *const CARRIED[] = {
    "client_id",      "redirect_uri",  "response_type",  "scope",
    "state",          "nonce",         "code_challenge", "code_challenge_method",
    "max_age",        "prompt",        "login_hint",     "ui_locales",
    "claims",         "acr_values",    "display",        "id_token_hint",
    "claims_locales", "eb_auth_after",
};
#define N_CARRIED (sizeof(CARRIED) / sizeof(CARRIED[0]))

/* Scopes this provider knows; others are dropped from what it grants. */
static const char *const KNOWN_SCOPES[] = {"openid",  "profile",  "email",         "phone",
                                           "address", "edubrain", "offline_access"};

static const char *scope_label(const char *s)
{
    if (strcmp(s, "openid") == 0)
        return "确认您的身份（账号标识）";
    if (strcmp(s, "profile") == 0)
        return "姓名、登录名等基本资料";
    if (strcmp(s, "email") == 0)
        return "电子邮箱";
    if (strcmp(s, "phone") == 0)
        return "手机号码";
    if (strcmp(s, "address") == 0)
        return "通讯地址";
    if (strcmp(s, "edubrain") == 0)
        return "角色、所属学校与机构；学生的年级、班级和学籍号（不含身份证号）";
    if (strcmp(s, "offline_access") == 0)
        return "在您离开后继续访问上述信息";
    return NULL;
}

/* The known scopes of the request, space-separated, in a fixed order. */
static char *granted_scope(struct eb_arena *a, const char *requested)
{
    char *out = eb_arena_strdup(a, "");
    for (size_t i = 0; out && i < sizeof(KNOWN_SCOPES) / sizeof(KNOWN_SCOPES[0]); i++)
        if (eb__oidc_scope_has(requested, KNOWN_SCOPES[i]))
            out = eb_arena_printf(a, "%s%s%s", out, *out ? " " : "", KNOWN_SCOPES[i]);
    return out;
}

/* Every word of want is in have. */
static int scope_covers(const char *have, const char *want)
{
    for (size_t i = 0; i < sizeof(KNOWN_SCOPES) / sizeof(KNOWN_SCOPES[0]); i++)
        if (eb__oidc_scope_has(want, KNOWN_SCOPES[i]) && !eb__oidc_scope_has(have, KNOWN_SCOPES[i]))
            return 0;
    return 1;
}

/* The query string of the carried parameters, with one replaced (NULL value: dropped). */
static char *carried_query(struct eb_req *r, const char *set_name, const char *set_value)
{
    char *q = eb_arena_strdup(r->arena, "");
    for (size_t i = 0; q && i < N_CARRIED; i++) {
        const char *v = strcmp(CARRIED[i], set_name ? set_name : "") == 0
                            ? set_value
                            : eb__oidc_param(r, CARRIED[i]);
        if (!v)
            continue;
        q = eb_arena_printf(r->arena, "%s%s%s=%s", q, *q ? "&" : "", CARRIED[i],
                            eb__oidc_urlencode(r->arena, v));
    }
    return q;
}

/* OIDC-Core 3.1.2.6 / RFC 6749 4.1.2.1: an error goes back to the (verified) redirect URI. */
static int redirect_with(struct eb_req *r, const char *redirect_uri, const char *params)
{
    const char *state = eb__oidc_param(r, "state");
    const char *loc = eb_arena_printf(
        r->arena, "%s%c%s%s%s&iss=%s", redirect_uri, strchr(redirect_uri, '?') ? '&' : '?', params,
        state ? "&state=" : "", state ? eb__oidc_urlencode(r->arena, state) : "",
        eb__oidc_urlencode(r->arena, eb__oidc_issuer(r)));
    if (!loc)
        return EB_ETOOBIG;
    r->status = 302;
    eb_http_add_header(r, "Location", loc);
    eb_http_add_header(r, "Cache-Control", "no-store");
    return 0;
}

static int redirect_error(struct eb_req *r, const char *redirect_uri, const char *error,
                          const char *description)
{
    const char *p =
        eb_arena_printf(r->arena, "error=%s%s%s", error, description ? "&error_description=" : "",
                        description ? eb__oidc_urlencode(r->arena, description) : "");
    return redirect_with(r, redirect_uri, p);
}

/* RFC 6749 3.1.2.4: a request we cannot trust the redirect URI of is never redirected. */
static int error_page(struct eb_req *r, const char *why)
{
    const char *body = eb_arena_printf(r->arena,
                                       "<p>应用的登录请求无效，无法返回该应用。</p><p>原因：%s</p>"
                                       "<p><a href=\"/\">返回门户</a></p>",
                                       eb__oidc_html(r->arena, why));
    return eb__oidc_page(r, 400, "登录请求无效", body ? body : "");
}

/* Sends the browser to the portal's login page, which comes back here after logging in. */
static int to_login(struct eb_req *r, int reauth, const char *set_name, const char *set_value)
{
    const char *next =
        eb_arena_printf(r->arena, "/oidc/authorize?%s", carried_query(r, set_name, set_value));
    const char *hint = eb__oidc_param(r, "login_hint");
    const char *loc =
        eb_arena_printf(r->arena, "/login?next=%s%s%s%s", eb__oidc_urlencode(r->arena, next),
                        reauth ? "&reauth=1" : "", hint ? "&login=" : "",
                        hint ? eb__oidc_urlencode(r->arena, hint) : "");
    if (!loc)
        return EB_ETOOBIG;
    r->status = 302;
    eb_http_add_header(r, "Location", loc);
    eb_http_add_header(r, "Cache-Control", "no-store");
    return 0;
}

static int consent_page(struct eb_req *r, const struct eb_oidc_client *cl, const char *scope)
{
    char *items = eb_arena_strdup(r->arena, "");
    for (size_t i = 0; items && i < sizeof(KNOWN_SCOPES) / sizeof(KNOWN_SCOPES[0]); i++)
        if (eb__oidc_scope_has(scope, KNOWN_SCOPES[i]))
            items = eb_arena_printf(r->arena, "%s<li>%s</li>", items, scope_label(KNOWN_SCOPES[i]));
    char *hidden = eb_arena_strdup(r->arena, "");
    for (size_t i = 0; hidden && i < N_CARRIED; i++) {
        const char *v = eb__oidc_param(r, CARRIED[i]);
        if (v)
            hidden = eb_arena_printf(r->arena, "%s<input type=\"hidden\" name=\"%s\" value=\"%s\">",
                                     hidden, CARRIED[i], eb__oidc_html(r->arena, v));
    }
    const char *body = eb_arena_printf(
        r->arena,
        "<p>应用 <strong>%s</strong> 请求使用您的平台账号登录，并读取：</p><ul>%s</ul>"
        "<form method=\"post\" action=\"/oidc/authorize\">%s"
        "<input type=\"hidden\" name=\"eb_csrf\" value=\"%s\">"
        "<button type=\"submit\" name=\"eb_consent\" value=\"allow\" data-test=\"consent-allow\">"
        "同意</button>"
        "<button type=\"submit\" name=\"eb_consent\" value=\"deny\" data-test=\"consent-deny\">"
        "拒绝</button></form>",
        eb__oidc_html(r->arena, cl->name), items ? items : "", hidden ? hidden : "",
        eb__oidc_html(r->arena, r->csrf_token));
    return eb__oidc_page(r, 200, "授权确认", body ? body : "");
}

/* RFC 7636 4.2: a S256 challenge is the base64url of a SHA-256, 43 characters. */
static int challenge_ok(const char *c)
{
    if (strlen(c) != 43)
        return 0;
    for (const char *p = c; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return 0;
    return 1;
}

/* Parses a non-negative decimal; -1 when it is not one. */
static int64_t parse_nonneg(const char *s)
{
    if (!s || !*s || strlen(s) > 12)
        return -1;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* What the code carries from the login into every token of its grant. */
struct login {
    int64_t auth_time;
    const char *claims, *amr, *acr;
};

static int issue_code(struct eb_req *r, const struct eb_oidc_client *cl, const char *redirect_uri,
                      const char *scope, const struct login *lg)
{
    char code[44], hash[65], sid[33];
    eb__oidc_random(code);
    eb__oidc_hash(code, hash);
    eb_oidc_sid(r->session_hash, sid);
    int64_t now = eb__oidc_now();
    struct eb_oidc_code c = {
        .code_hash = hash,
        .client_id = cl->client_id,
        .account_id = r->caller.account_id,
        .redirect_uri = redirect_uri,
        .scope = scope,
        .nonce = eb__oidc_param(r, "nonce"),
        .code_challenge = eb__oidc_param(r, "code_challenge"),
        .sid = sid,
        .auth_time = lg->auth_time,
        .expires_at = now + EB_OIDC_CODE_TTL_S,
        .claims = lg->claims,
        .amr = lg->amr,
        .acr = lg->acr,
    };
    int rc = eb_db_begin(r->db);
    if (rc)
        return rc;
    rc = eb_store_oidc_code_create(r->db, &c);
    if (rc == 0)
        rc = eb_store_oidc_session_client_add(r->db, r->caller.account_id, sid, cl->client_id, now);
    if (rc == 0)
        rc = eb_db_commit(r->db);
    if (rc) {
        eb_db_rollback(r->db);
        return rc;
    }
    /* RFC 6749 4.1.2; RFC 9207: iss tells the client which provider answered. */
    return redirect_with(r, redirect_uri, eb_arena_printf(r->arena, "code=%s", code));
}

static void decref(void *doc)
{
    json_decref(doc);
}

/* The scopes a consent must cover: the granted ones and those whose claims the claims
 * parameter asks for, since OIDC-Core 5.5 returns those whatever the scope. */
static const char *consent_scope(struct eb_arena *a, const char *scope, json_t *creq)
{
    static const char *const members[] = {"userinfo", "id_token"};
    char *all = eb_arena_strdup(a, scope);
    for (size_t i = 0; all && i < 2; i++) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(creq, members[i]), k, v)
        {
            const char *group = eb__oidc_claim_scope(k);
            if (group && !eb__oidc_scope_has(all, group))
                all = eb_arena_printf(a, "%s %s", all, group);
        }
    }
    return all ? granted_scope(a, all) : NULL;
}

/*
 * Which of this provider's levels ("1": one factor, "2": two) the request would accept: from an
 * acr claim of the claims parameter with value or values (OIDC-Core 5.5.1.1), else from
 * acr_values (3.1.2.1, voluntary). Returns 0 when the request names no acr.
 */
static int acr_asked(struct eb_req *r, json_t *creq, int *one, int *two, int *essential)
{
    *one = *two = *essential = 0;
    json_t *c = json_object_get(json_object_get(creq, "id_token"), "acr");
    json_t *value = json_object_get(c, "value"), *values = json_object_get(c, "values");
    if (json_is_string(value) || json_array_size(values) > 0) {
        *essential = json_is_true(json_object_get(c, "essential"));
        const char *v = json_string_value(value);
        *one = v && strcmp(v, "1") == 0;
        *two = v && strcmp(v, "2") == 0;
        size_t i;
        json_t *x;
        json_array_foreach(values, i, x)
        {
            const char *s = json_string_value(x);
            *one |= s && strcmp(s, "1") == 0;
            *two |= s && strcmp(s, "2") == 0;
        }
        return 1;
    }
    const char *list = eb__oidc_param(r, "acr_values");
    if (!list || !*list)
        return 0;
    *one = eb__oidc_scope_has(list, "1");
    *two = eb__oidc_scope_has(list, "2");
    return 1;
}

int eb_oidc_authorize_handler(struct eb_req *r)
{
    if (strcmp(r->method, "POST") == 0 && !eb__oidc_is_form(r))
        return error_page(r, "请求格式错误（需要表单提交）");
    const char *client_id = eb__oidc_param(r, "client_id");
    const char *redirect_uri = eb__oidc_param(r, "redirect_uri");
    struct eb_oidc_client cl = {0};
    if (!client_id || eb_store_oidc_client_get(r->db, client_id, r->arena, &cl) != 0)
        return error_page(r, "未登记的应用（client_id）");
    /* RFC 6749 3.1.2.3, OIDC-Core 3.1.2.1: the redirect URI is compared byte for byte with
     * a registered one; no wildcards, no normalisation. */
    if (!redirect_uri || !eb__oidc_list_has(cl.redirect_uris, redirect_uri))
        return error_page(r, "回调地址（redirect_uri）与登记的不一致");

    /* From here on errors go back to the application. OIDC-Core 6.1, 6.2: request objects are
     * not supported. */
    if (eb__oidc_param(r, "request"))
        return redirect_error(r, redirect_uri, "request_not_supported", NULL);
    if (eb__oidc_param(r, "request_uri"))
        return redirect_error(r, redirect_uri, "request_uri_not_supported", NULL);
    const char *response_type = eb__oidc_param(r, "response_type");
    if (!response_type)
        return redirect_error(r, redirect_uri, "invalid_request", "response_type is missing");
    /* Code flow only: no token ever travels in a URL. */
    if (strcmp(response_type, "code") != 0)
        return redirect_error(r, redirect_uri, "unsupported_response_type", NULL);
    const char *req_scope = eb__oidc_param(r, "scope");
    if (!eb__oidc_scope_has(req_scope, "openid"))
        return redirect_error(r, redirect_uri, "invalid_scope", "scope must contain openid");
    const char *scope = granted_scope(r->arena, req_scope);
    /* OIDC-Core 5.5: the claims parameter. It is stored as given once it parses. */
    const char *claims_s = eb__oidc_param(r, "claims");
    json_t *creq = NULL;
    if (eb__oidc_claims_parse(claims_s, &creq) != 0)
        return redirect_error(r, redirect_uri, "invalid_request", "malformed claims parameter");
    if (creq)
        eb_arena_on_destroy(r->arena, decref, creq);
    const char *c_scope = consent_scope(r->arena, scope, creq);
    if (!c_scope)
        return EB_ETOOBIG;

    /* RFC 7636 4.3, 4.4.1: S256 only; public clients must use PKCE. */
    const char *challenge = eb__oidc_param(r, "code_challenge");
    const char *method = eb__oidc_param(r, "code_challenge_method");
    if (challenge) {
        if (!method || strcmp(method, "S256") != 0)
            return redirect_error(r, redirect_uri, "invalid_request",
                                  "code_challenge_method must be S256");
        if (!challenge_ok(challenge))
            return redirect_error(r, redirect_uri, "invalid_request", "malformed code_challenge");
    } else if (method) {
        return redirect_error(r, redirect_uri, "invalid_request", "code_challenge is missing");
    } else if (cl.is_public) {
        return redirect_error(r, redirect_uri, "invalid_request",
                              "public clients must use PKCE (S256)");
    }

    /* OIDC-Core 3.1.2.1: prompt is a space-separated list; none goes alone. */
    const char *prompt = eb__oidc_param(r, "prompt");
    int p_none = eb__oidc_scope_has(prompt, "none");
    int p_login = eb__oidc_scope_has(prompt, "login");
    int p_consent = eb__oidc_scope_has(prompt, "consent");
    if (p_none && (p_login || p_consent || eb__oidc_scope_has(prompt, "select_account")))
        return redirect_error(r, redirect_uri, "invalid_request", "prompt=none with others");
    const char *max_age_s = eb__oidc_param(r, "max_age");
    int64_t max_age = max_age_s ? parse_nonneg(max_age_s) : -1;
    if (max_age_s && max_age < 0)
        return redirect_error(r, redirect_uri, "invalid_request", "malformed max_age");

    int64_t now = eb__oidc_now();
    /* OIDC-Core 3.1.2.3: the portal session is the provider's session. */
    if (r->caller.account_id == 0 || !r->session_hash) {
        if (p_none)
            return redirect_error(r, redirect_uri, "login_required", NULL);
        return to_login(r, 0, NULL, NULL);
    }
    /* An account still on its one-time code must choose a password before any app sees it,
     * and an administrator who must enrol a second factor must do that first (auth_totp.c). */
    if (r->account && (r->account->must_change_password || eb_auth_must_enrol_totp(r))) {
        if (p_none)
            return redirect_error(r, redirect_uri, "interaction_required", NULL);
        return to_login(r, 0, NULL, NULL);
    }
    struct eb_session sess;
    int rc = eb_store_session_get(r->db, r->session_hash, r->arena, &sess, NULL);
    if (rc)
        return rc;
    int64_t auth_time = sess.created_at;

    /* prompt=login: a fresh login, then back here with eb_auth_after marking it done. */
    int64_t after = parse_nonneg(eb__oidc_param(r, "eb_auth_after"));
    if (p_login && !(after > 0 && auth_time >= after))
        return to_login(r, 1, "eb_auth_after", eb_arena_printf(r->arena, "%lld", (long long)now));
    /* OIDC-Core 3.1.2.1 max_age: the login must be recent enough, else a new one. */
    if (max_age >= 0 && now - auth_time > max_age) {
        if (p_none)
            return redirect_error(r, redirect_uri, "login_required", NULL);
        return to_login(r, 1, NULL, NULL);
    }
    /* id_token_hint, and a sub claim requested with a value (OIDC-Core 3.1.2.1, 5.5.1): the
     * named user must be the logged-in one, never an ID token for another. */
    int same = 1;
    const char *hint = eb__oidc_param(r, "id_token_hint");
    if (hint && r->app->keys) {
        json_t *claims = NULL;
        if (eb_keys_verify(r->app->keys, hint, &claims) != 0)
            return redirect_error(r, redirect_uri, "invalid_request", "invalid id_token_hint");
        const char *sub = json_string_value(json_object_get(claims, "sub"));
        same = sub && strtoll(sub, NULL, 10) == r->caller.account_id;
        json_decref(claims);
    }
    const char *sub_value = json_string_value(
        json_object_get(json_object_get(json_object_get(creq, "id_token"), "sub"), "value"));
    char me[24];
    snprintf(me, sizeof(me), "%lld", (long long)r->caller.account_id);
    if (sub_value && strcmp(sub_value, me) != 0)
        same = 0;
    if (!same) {
        if (p_none)
            return redirect_error(r, redirect_uri, "login_required", NULL);
        return to_login(r, 1, NULL, NULL);
    }

    /* RFC 8176: the session's methods; acr "2" means a second factor was used. */
    struct login lg = {.auth_time = auth_time, .claims = claims_s, .amr = sess.amr};
    if (!lg.amr || !*lg.amr)
        lg.amr = "pwd";
    lg.acr = eb__oidc_scope_has(lg.amr, "otp") ? "2" : "1";
    int one, two, essential;
    if (acr_asked(r, creq, &one, &two, &essential)) {
        int met = strcmp(lg.acr, "2") == 0 ? one || two : one;
        if (!met && two) {
            /* A step-up: a fresh login, in which the login page asks for the code, when the
             * account has a second factor and this request has not had one already. */
            struct eb_totp totp;
            rc = eb_store_totp_get(r->db, r->caller.account_id, 0, r->arena, &totp);
            if (rc && rc != EB_ENOTFOUND)
                return rc;
            int mfa = rc == 0 && totp.confirmed_at != 0;
            if (mfa && !(after > 0 && auth_time >= after)) {
                if (!p_none)
                    return to_login(r, 1, "eb_auth_after",
                                    eb_arena_printf(r->arena, "%lld", (long long)now));
                if (essential)
                    return redirect_error(r, redirect_uri, "login_required", NULL);
            } else if (essential) {
                return redirect_error(r, redirect_uri, "access_denied",
                                      "the requested acr cannot be met");
            }
        } else if (!met && essential) {
            return redirect_error(r, redirect_uri, "access_denied",
                                  "the requested acr cannot be met");
        }
        /* A voluntary acr that is not met is answered with the acr the login had. */
    }

    /* Consent: first-party apps skip it; others ask once per scope set (or on prompt). */
    if (!cl.first_party || p_consent) {
        const char *choice =
            strcmp(r->method, "POST") == 0 ? eb__oidc_param(r, "eb_consent") : NULL;
        if (choice) {
            const char *csrf = eb__oidc_param(r, "eb_csrf");
            if (!csrf || !r->csrf_token || strcmp(csrf, r->csrf_token) != 0)
                return error_page(r, "表单已过期，请重新打开应用");
            if (strcmp(choice, "allow") != 0)
                return eb__oidc_as_page(r, redirect_error(r, redirect_uri, "access_denied", NULL));
            rc = eb_store_oidc_consent_set(r->db, r->caller.account_id, cl.client_id, c_scope, now);
            if (rc)
                return rc;
            return eb__oidc_as_page(r, issue_code(r, &cl, redirect_uri, scope, &lg));
        } else {
            const char *have = NULL;
            int known = eb_store_oidc_consent_get(r->db, r->caller.account_id, cl.client_id,
                                                  r->arena, &have) == 0;
            if (p_consent || !known || !scope_covers(have, c_scope)) {
                if (p_none)
                    return redirect_error(r, redirect_uri, "consent_required", NULL);
                return consent_page(r, &cl, c_scope);
            }
        }
    }
    return issue_code(r, &cl, redirect_uri, scope, &lg);
}
