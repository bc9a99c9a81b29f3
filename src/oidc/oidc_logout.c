/* RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and the end of an OP session. */
#include "oidc/oidc_int.h"

#include "app.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "auth/keys.h"
#include "core/err.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

int eb_oidc_session_ended(struct eb_req *r, int64_t account_id, const char *session_hash)
{
    char sid[33];
    size_t n = 0;
    const char **clients = NULL;
    if (!session_hash)
        return 0;
    eb_oidc_sid(session_hash, sid);
    /* Back-Channel Logout 1.0 2.7: the session's refresh tokens end with it. */
    int rc = eb_store_oidc_revoke_sid(r->db, sid);
    if (rc == 0)
        rc = eb_store_oidc_session_clients(r->db, sid, 1, r->arena, &n, &clients);
    if (rc)
        return rc;
    eb__oidc_backchannel_logout(r, account_id, sid, clients, n);
    return 0;
}

/* Ends the portal session of this request and answers with the redirect or a page. */
static int finish(struct eb_req *r, const char *redirect, const char *state)
{
    if (r->session_hash) {
        int rc = eb_oidc_session_ended(r, r->caller.account_id, r->session_hash);
        if (rc == 0)
            rc = eb_store_session_delete(r->db, r->session_hash);
        if (rc && rc != EB_ENOTFOUND)
            return rc;
        struct eb_audit e = {.action = "session.logout",
                             .object_type = "account",
                             .object_id = r->caller.account_id,
                             .org_path = r->caller.n_grants ? r->caller.grants[0].org_path : NULL};
        eb_store_audit_add(r->db, &r->caller, &e);
        eb__auth_session_clear_cookie(r);
    }
    if (redirect) {
        const char *loc = state ? eb_arena_printf(r->arena, "%s%cstate=%s", redirect,
                                                  strchr(redirect, '?') ? '&' : '?',
                                                  eb__oidc_urlencode(r->arena, state))
                                : redirect;
        r->status = 302;
        eb_http_add_header(r, "Location", loc);
        eb_http_add_header(r, "Cache-Control", "no-store");
        return 0;
    }
    return eb__oidc_page(r, 200, "已退出登录",
                         "<p>您已退出统一身份认证平台。</p><p><a href=\"/login\">重新登录</a></p>");
}

int eb_oidc_logout_handler(struct eb_req *r)
{
    if (strcmp(r->method, "POST") == 0 && !eb__oidc_is_form(r))
        return eb__oidc_page(r, 400, "退出请求无效", "<p>请求格式错误。</p>");
    const char *hint = eb__oidc_param(r, "id_token_hint");
    const char *client_id = eb__oidc_param(r, "client_id");
    const char *redirect = eb__oidc_param(r, "post_logout_redirect_uri");
    const char *state = eb__oidc_param(r, "state");
    int64_t hint_sub = 0;
    if (hint) {
        json_t *claims = NULL;
        if (!r->app->keys || eb_keys_verify(r->app->keys, hint, &claims) != 0)
            return eb__oidc_page(r, 400, "退出请求无效", "<p>id_token_hint 无效。</p>");
        const char *aud = json_string_value(json_object_get(claims, "aud"));
        const char *sub = json_string_value(json_object_get(claims, "sub"));
        hint_sub = sub ? strtoll(sub, NULL, 10) : 0;
        if (aud && client_id && strcmp(aud, client_id) != 0) {
            json_decref(claims);
            return eb__oidc_page(r, 400, "退出请求无效",
                                 "<p>client_id 与 id_token_hint 不符。</p>");
        }
        if (aud)
            client_id = eb_arena_strdup(r->arena, aud);
        json_decref(claims);
    }
    /* RP-Initiated Logout 3: the redirect must be registered exactly for the client. */
    if (redirect) {
        struct eb_oidc_client cl;
        if (!client_id || eb_store_oidc_client_get(r->db, client_id, r->arena, &cl) != 0 ||
            !eb__oidc_list_has(cl.post_logout_uris, redirect))
            return eb__oidc_page(r, 400, "退出请求无效",
                                 "<p>退出后的返回地址未登记，无法返回该应用。</p>");
    }
    if (!r->session_hash)
        return finish(r, redirect, state);
    /* A logout that the logged-in user did not ask for (no hint of theirs, no confirmation)
     * would let any site log people out: ask first (RP-Initiated Logout 2). */
    int confirmed = strcmp(r->method, "POST") == 0 && eb__oidc_param(r, "eb_csrf") &&
                    r->csrf_token && strcmp(eb__oidc_param(r, "eb_csrf"), r->csrf_token) == 0;
    /* The answer to our own confirmation form moves on by a page, not a 302: the portal's
     * form-action 'self' would block a redirect to the application's origin. */
    if (confirmed)
        return eb__oidc_as_page(r, finish(r, redirect, state));
    if (hint_sub && hint_sub == r->caller.account_id)
        return finish(r, redirect, state);
    char *hidden = eb_arena_strdup(r->arena, "");
    const char *names[] = {"client_id", "post_logout_redirect_uri", "state"};
    const char *values[] = {client_id, redirect, state};
    for (int i = 0; i < 3 && hidden; i++)
        if (values[i])
            hidden = eb_arena_printf(r->arena, "%s<input type=\"hidden\" name=\"%s\" value=\"%s\">",
                                     hidden, names[i], eb__oidc_html(r->arena, values[i]));
    const char *body = eb_arena_printf(
        r->arena,
        "<p>确定要退出统一身份认证平台吗？退出后，通过本平台登录的应用也将退出。</p>"
        "<form method=\"post\" action=\"/oidc/logout\">%s"
        "<input type=\"hidden\" name=\"eb_csrf\" value=\"%s\">"
        "<button type=\"submit\" data-test=\"logout-confirm\">退出</button></form>",
        hidden ? hidden : "", eb__oidc_html(r->arena, r->csrf_token));
    return eb__oidc_page(r, 200, "退出登录", body ? body : "");
}
