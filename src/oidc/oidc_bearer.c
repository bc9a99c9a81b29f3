/* Bearer tokens of server-to-server apps on the roster routes (client_credentials, roster:read). */
#include "oidc/oidc_int.h"

#include "core/err.h"

#include <string.h>
#include <strings.h>
#include <time.h>

/* The token of "Authorization: Bearer <token>" (RFC 6750 2.1), or NULL. */
static const char *bearer_token(struct eb_req *r)
{
    const char *h = eb_http_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    return n >= 20 && n <= 200 ? h : NULL;
}

int eb_oidc_bearer_resolve(struct eb_req *r)
{
    const char *token = bearer_token(r);
    if (!token || !r->db)
        return 0;
    char hash[65];
    eb__oidc_hash(token, hash);
    struct eb_oidc_token t;
    int rc = eb_store_oidc_token_get(r->db, hash, r->arena, &t);
    if (rc == EB_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    /* Only an app's own token opens the rosters: a user's access token stands for the user in
     * the apps, never for the app in the registry. */
    if (t.kind != EB_OIDC_ACCESS || t.revoked || t.account_id != 0 ||
        t.expires_at <= (int64_t)time(NULL) || !eb__oidc_scope_has(t.scope, "roster:read"))
        return 0;
    /* The app is read again at every request: turning roster_read off or deleting the app
     * ends its tokens' power at once. */
    struct eb_oidc_client cl;
    rc = eb_store_oidc_client_get(r->db, t.client_id, r->arena, &cl);
    if (rc == EB_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (!cl.roster_read || cl.is_public || !cl.org_path)
        return 0;
    struct eb_grant *g = eb_arena_alloc(r->arena, sizeof(*g));
    if (!g)
        return EB_ETOOBIG;
    memset(g, 0, sizeof(*g));
    /* An analyst's grant is the store's read-only role that sees people without their ID
     * numbers; the route flag keeps the app to the roster routes. */
    g->role = EB_ROLE_ANALYST;
    g->org_id = cl.org_id;
    if (strlen(cl.org_path) >= sizeof(g->org_path))
        return 0;
    memcpy(g->org_path, cl.org_path, strlen(cl.org_path) + 1);
    g->org_name = cl.name;
    r->caller.system = 0;
    r->caller.account_id = 0;
    r->caller.person_id = 0;
    r->caller.n_grants = 1;
    r->caller.grants = g;
    r->app_client_id = cl.client_id;
    return 0;
}
