/* The OpenID Connect provider's rows: clients (apps), codes, tokens, session links, consents. */
#include "store/store_int.h"

#include <string.h>

#include <jansson.h>

#include "core/err.h"

#define CLIENT_COLS                                                                                \
    "client_id, name, icon, category, description, roles, stages, launch_url, redirect_uris,"      \
    " post_logout_uris, secret_hash, is_public, first_party, id_token_alg,"                        \
    " backchannel_logout_uri, org_id, org_path, created_at, roster_read"

static const char SQL_CLIENT_GET[] = "SELECT " CLIENT_COLS " FROM oidc_clients WHERE client_id = ?";
static const char SQL_CLIENT_ALL[] = "SELECT " CLIENT_COLS " FROM oidc_clients ORDER BY name";
static const char SQL_CLIENT_INSERT[] =
    "INSERT INTO oidc_clients (client_id, name, icon, category, description, roles, stages,"
    " launch_url, redirect_uris, post_logout_uris, secret_hash, is_public, first_party,"
    " id_token_alg, backchannel_logout_uri, roster_read, org_id, org_path, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_CLIENT_UPDATE[] =
    "UPDATE oidc_clients SET name = ?, icon = ?, category = ?, description = ?, roles = ?,"
    " stages = ?, launch_url = ?, redirect_uris = ?, post_logout_uris = ?,"
    " secret_hash = ?, is_public = ?, first_party = ?, id_token_alg = ?,"
    " backchannel_logout_uri = ?, roster_read = ? WHERE client_id = ?";
static const char SQL_CLIENT_DELETE[] = "DELETE FROM oidc_clients WHERE client_id = ?";
static const char SQL_CLIENT_DEL_CODES[] = "DELETE FROM oidc_codes WHERE client_id = ?";
static const char SQL_CLIENT_DEL_TOKENS[] = "DELETE FROM oidc_tokens WHERE client_id = ?";
static const char SQL_CLIENT_DEL_SESS[] = "DELETE FROM oidc_session_clients WHERE client_id = ?";
static const char SQL_CLIENT_DEL_CONSENTS[] = "DELETE FROM oidc_consents WHERE client_id = ?";
static const char SQL_SCHOOL_STAGES[] = "SELECT stages FROM orgs WHERE id = ? AND kind = 3";

static const char SQL_CODE_INSERT[] =
    "INSERT INTO oidc_codes (code_hash, client_id, account_id, redirect_uri, scope, nonce,"
    " code_challenge, sid, auth_time, expires_at, created_at, claims, amr, acr)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/* One statement counts the use and reads the row: of two concurrent takes exactly one sees
 * used = 1. */
static const char SQL_CODE_TAKE[] =
    "UPDATE oidc_codes SET used = used + 1 WHERE code_hash = ? RETURNING client_id, account_id,"
    " redirect_uri, scope, nonce, code_challenge, sid, auth_time, expires_at, used, claims, amr,"
    " acr";

#define TOKEN_COLS                                                                                 \
    "token_hash, kind, client_id, account_id, scope, sid, auth_time, family_id, code_hash,"        \
    " nonce, expires_at, revoked, rotated_at, created_at, claims, amr, acr"
static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO oidc_tokens (" TOKEN_COLS
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_TOKEN_GET[] = "SELECT " TOKEN_COLS " FROM oidc_tokens WHERE token_hash = ?";
static const char SQL_TOKEN_ROTATE[] =
    "UPDATE oidc_tokens SET rotated_at = ? WHERE token_hash = ? AND kind = 2 AND revoked = 0"
    " AND rotated_at IS NULL RETURNING token_hash";
static const char SQL_FAMILY_ROTATED[] =
    "SELECT COUNT(*) FROM oidc_tokens WHERE family_id = ? AND kind = 2 AND created_at >= ?"
    " AND rotated_at IS NOT NULL AND token_hash <> ?";
static const char SQL_TOKEN_REVOKE[] = "UPDATE oidc_tokens SET revoked = 1 WHERE token_hash = ?";
static const char SQL_REVOKE_FAMILY[] = "UPDATE oidc_tokens SET revoked = 1 WHERE family_id = ?";
static const char SQL_REVOKE_CODE[] = "UPDATE oidc_tokens SET revoked = 1 WHERE code_hash = ?";
static const char SQL_REVOKE_SID[] = "UPDATE oidc_tokens SET revoked = 1 WHERE sid = ?";

static const char SQL_SESS_ADD[] =
    "INSERT INTO oidc_session_clients (account_id, sid, client_id, created_at)"
    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_SESS_LIST[] =
    "SELECT client_id FROM oidc_session_clients WHERE sid = ? ORDER BY client_id";
static const char SQL_SESS_FORGET[] = "DELETE FROM oidc_session_clients WHERE sid = ?";

static const char SQL_CONSENT_GET[] =
    "SELECT scope FROM oidc_consents WHERE account_id = ? AND client_id = ?";
static const char SQL_CONSENT_SET[] =
    "INSERT INTO oidc_consents (account_id, client_id, scope, created_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (account_id, client_id) DO UPDATE SET scope = excluded.scope,"
    " created_at = excluded.created_at";

/* ---- clients ---------------------------------------------------------------------------- */

static void read_client(struct eb__q *q, struct eb_arena *a, struct eb_oidc_client *o)
{
    memset(o, 0, sizeof(*o));
    o->client_id = eb__q_col_str(q, 0, a);
    o->name = eb__q_col_str(q, 1, a);
    o->icon = eb__q_col_str(q, 2, a);
    o->category = eb__q_col_str(q, 3, a);
    o->description = eb__q_col_str(q, 4, a);
    o->roles = (unsigned)eb__q_col_int(q, 5);
    o->stages = (unsigned)eb__q_col_int(q, 6);
    o->launch_url = eb__q_col_str(q, 7, a);
    o->redirect_uris = eb__q_col_str(q, 8, a);
    o->post_logout_uris = eb__q_col_str(q, 9, a);
    o->secret_hash = eb__q_col_str(q, 10, a);
    o->is_public = (int)eb__q_col_int(q, 11);
    o->first_party = (int)eb__q_col_int(q, 12);
    o->id_token_alg = eb__q_col_str(q, 13, a);
    o->backchannel_logout_uri = eb__q_col_str(q, 14, a);
    o->org_id = eb__q_col_int(q, 15);
    o->org_path = eb__q_col_str(q, 16, a);
    o->created_at = eb__q_col_int(q, 17);
    o->roster_read = (int)eb__q_col_int(q, 18);
}

/* The audit's view of an app: everything but the secret's hash. */
static json_t *client_json(const struct eb_oidc_client *c)
{
    return json_pack(
        "{s:s, s:s, s:I, s:I, s:o, s:s, s:b, s:b, s:s, s:o, s:I, s:b}", "client_id", c->client_id,
        "name", c->name, "roles", (json_int_t)c->roles, "stages", (json_int_t)c->stages,
        "launch_url", c->launch_url ? json_string(c->launch_url) : json_null(), "redirect_uris",
        c->redirect_uris ? c->redirect_uris : "", "public", c->is_public, "first_party",
        c->first_party, "id_token_alg", c->id_token_alg ? c->id_token_alg : "RS256",
        "backchannel_logout_uri",
        c->backchannel_logout_uri ? json_string(c->backchannel_logout_uri) : json_null(), "org_id",
        (json_int_t)c->org_id, "roster_read", c->roster_read);
}

static int list_rows(struct eb_db *db, const char *sql, const char *arg, struct eb_arena *a,
                     size_t *n, struct eb_oidc_client **items)
{
    struct eb__q q;
    size_t cap = 0;
    int rc;
    *n = 0;
    *items = NULL;
    eb__q_start(db, sql, &q);
    if (arg)
        eb__q_text(&q, arg);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct eb_oidc_client *grown = eb_arena_grow(a, *items, *n, &cap, sizeof(**items));
        if (!grown) {
            rc = EB_ETOOBIG;
            break;
        }
        *items = grown;
        read_client(&q, a, &(*items)[(*n)++]);
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_oidc_client_get(struct eb_db *db, const char *client_id, struct eb_arena *a,
                             struct eb_oidc_client *out)
{
    struct eb__q q;
    if (client_id == NULL)
        return EB_ENOTFOUND;
    eb__q_start(db, SQL_CLIENT_GET, &q);
    eb__q_text(&q, client_id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        read_client(&q, a, out);
    eb__q_end(&q);
    if (rc == EB__STORE_DONE)
        return EB_ENOTFOUND;
    return rc < 0 ? rc : 0;
}

static int check_client(const struct eb_oidc_client *in)
{
    if (!in || !in->client_id || !in->client_id[0] || strlen(in->client_id) > 128 || !in->name ||
        !in->name[0] || !in->redirect_uris)
        return EB_EINVAL;
    if (in->is_public == (in->secret_hash != NULL))
        return EB_EINVAL; /* a public client has no secret; a confidential one has one */
    if (in->roster_read && in->is_public)
        return EB_EINVAL; /* rosters are read by servers, with client_credentials */
    const char *alg = in->id_token_alg ? in->id_token_alg : "RS256";
    if (strcmp(alg, "RS256") && strcmp(alg, "ES256") && strcmp(alg, "EdDSA"))
        return EB_EINVAL;
    return 0;
}

static void bind_client_settings(struct eb__q *q, const struct eb_oidc_client *in)
{
    eb__q_text(q, in->name);
    eb__q_text(q, in->icon);
    eb__q_text(q, in->category);
    eb__q_text(q, in->description);
    eb__q_int(q, in->roles);
    eb__q_int(q, in->stages);
    eb__q_text(q, in->launch_url);
    eb__q_text(q, in->redirect_uris);
    eb__q_text(q, in->post_logout_uris ? in->post_logout_uris : "");
    eb__q_text(q, in->secret_hash);
    eb__q_int(q, in->is_public);
    eb__q_int(q, in->first_party);
    eb__q_text(q, in->id_token_alg ? in->id_token_alg : "RS256");
    eb__q_text(q, in->backchannel_logout_uri);
    eb__q_int(q, in->roster_read);
}

int eb_store_oidc_client_create(struct eb_db *db, const struct eb_caller *c,
                                const struct eb_oidc_client *in)
{
    char path[EB_PATH_MAX];
    struct eb__q q;
    int own = 0;
    int rc = check_client(in);
    if (rc)
        return rc;
    rc = eb__org_path(db, in->org_id, path, NULL);
    if (rc)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    rc = eb__tx_enter(db, c, &own);
    if (rc)
        return rc;
    eb__q_start(db, SQL_CLIENT_INSERT, &q);
    eb__q_text(&q, in->client_id);
    bind_client_settings(&q, in);
    eb__q_int(&q, in->org_id);
    eb__q_text(&q, path);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc >= 0)
        rc = eb__audit_write(db, c, "app.create", "app", 0, path, NULL, client_json(in));
    return eb__tx_leave(db, own, rc < 0 ? rc : 0);
}

int eb_store_oidc_client_update(struct eb_db *db, const struct eb_caller *c,
                                const struct eb_oidc_client *in)
{
    struct eb_arena *a = NULL;
    struct eb_oidc_client before;
    struct eb__q q;
    int own = 0;
    int rc = check_client(in);
    if (rc)
        return rc;
    a = eb_arena_create(64 * 1024);
    if (!a)
        return EB_ETOOBIG;
    rc = eb_store_oidc_client_get(db, in->client_id, a, &before);
    if (rc)
        goto done;
    if (!eb_caller_allows(c, before.org_path, EB_ACCESS_WRITE)) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    rc = eb__tx_enter(db, c, &own);
    if (rc)
        goto done;
    eb__q_start(db, SQL_CLIENT_UPDATE, &q);
    bind_client_settings(&q, in);
    eb__q_text(&q, in->client_id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc >= 0) {
        struct eb_oidc_client after = *in;
        after.org_id = before.org_id;
        rc = eb__audit_write(db, c, "app.update", "app", 0, before.org_path, client_json(&before),
                             client_json(&after));
    }
    rc = eb__tx_leave(db, own, rc < 0 ? rc : 0);
done:
    eb_arena_destroy(a);
    return rc;
}

int eb_store_oidc_client_delete(struct eb_db *db, const struct eb_caller *c, const char *client_id)
{
    static const char *const cleanup[] = {SQL_CLIENT_DEL_CODES, SQL_CLIENT_DEL_TOKENS,
                                          SQL_CLIENT_DEL_SESS, SQL_CLIENT_DEL_CONSENTS,
                                          SQL_CLIENT_DELETE};
    struct eb_arena *a = eb_arena_create(64 * 1024);
    struct eb_oidc_client before;
    int own = 0, rc;
    if (!a)
        return EB_ETOOBIG;
    rc = eb_store_oidc_client_get(db, client_id, a, &before);
    if (rc)
        goto done;
    if (!eb_caller_allows(c, before.org_path, EB_ACCESS_WRITE)) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    rc = eb__tx_enter(db, c, &own);
    if (rc)
        goto done;
    for (size_t i = 0; i < sizeof(cleanup) / sizeof(cleanup[0]) && rc >= 0; i++) {
        struct eb__q q;
        eb__q_start(db, cleanup[i], &q);
        eb__q_text(&q, client_id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
    }
    if (rc >= 0)
        rc = eb__audit_write(db, c, "app.delete", "app", 0, before.org_path, client_json(&before),
                             NULL);
    rc = eb__tx_leave(db, own, rc < 0 ? rc : 0);
done:
    eb_arena_destroy(a);
    return rc;
}

int eb_store_oidc_client_list(struct eb_db *db, const struct eb_caller *c, struct eb_arena *a,
                              size_t *n, struct eb_oidc_client **items)
{
    int rc = list_rows(db, SQL_CLIENT_ALL, NULL, a, n, items);
    if (rc)
        return rc;
    /* A city holds a few hundred apps: filtering here is cheaper than a query per grant. */
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (eb_caller_allows(c, (*items)[i].org_path, EB_ACCESS_WRITE))
            (*items)[k++] = (*items)[i];
    *n = k;
    return 0;
}

/* The stages of the school on path, or 0 when the path lies above any school. A school is the
 * second component (directly under the city) or the third (under a district). */
static int school_stages(struct eb_db *db, const char *path, unsigned *stages)
{
    int64_t ids[3] = {0, 0, 0};
    int k = -1;
    *stages = 0;
    for (const char *p = path; *p && k < 3; p++) {
        if (*p == '/')
            k++;
        else if (k >= 0 && k < 3 && *p >= '0' && *p <= '9')
            ids[k] = ids[k] * 10 + (*p - '0');
    }
    for (int i = 1; i < 3; i++) {
        if (ids[i] == 0)
            continue;
        struct eb__q q;
        eb__q_start(db, SQL_SCHOOL_STAGES, &q);
        eb__q_int(&q, ids[i]);
        int rc = eb__q_step(&q);
        if (rc == EB__STORE_ROW)
            *stages = (unsigned)eb__q_col_int(&q, 0);
        eb__q_end(&q);
        if (rc < 0)
            return rc;
        if (*stages)
            return 0;
    }
    return 0;
}

int eb_store_oidc_apps_for(struct eb_db *db, const struct eb_caller *c, struct eb_arena *a,
                           size_t *n, struct eb_oidc_client **items)
{
    int rc = list_rows(db, SQL_CLIENT_ALL, NULL, a, n, items);
    if (rc)
        return rc;
    unsigned *stages = eb_arena_alloc(a, sizeof(unsigned) * (c->n_grants + 1));
    if (!stages)
        return EB_ETOOBIG;
    for (size_t g = 0; g < c->n_grants; g++) {
        rc = school_stages(db, c->grants[g].org_path, &stages[g]);
        if (rc)
            return rc;
    }
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        const struct eb_oidc_client *app = &(*items)[i];
        int offered = c->system;
        for (size_t g = 0; g < c->n_grants && !offered; g++) {
            const struct eb_grant *gr = &c->grants[g];
            if (!eb__path_within(gr->org_path, app->org_path))
                continue;
            if (app->roles && !(app->roles & (1u << gr->role)))
                continue;
            if (app->stages && stages[g] && !(app->stages & stages[g]))
                continue;
            offered = 1;
        }
        if (offered)
            (*items)[k++] = *app;
    }
    *n = k;
    return 0;
}

/* ---- codes ------------------------------------------------------------------------------ */

int eb_store_oidc_code_create(struct eb_db *db, const struct eb_oidc_code *in)
{
    struct eb__q q;
    eb__q_start(db, SQL_CODE_INSERT, &q);
    eb__q_text(&q, in->code_hash);
    eb__q_text(&q, in->client_id);
    eb__q_int(&q, in->account_id);
    eb__q_text(&q, in->redirect_uri);
    eb__q_text(&q, in->scope);
    eb__q_text(&q, in->nonce);
    eb__q_text(&q, in->code_challenge);
    eb__q_text(&q, in->sid);
    eb__q_int(&q, in->auth_time);
    eb__q_int(&q, in->expires_at);
    eb__q_int(&q, eb__now_ms() / 1000);
    eb__q_text(&q, in->claims);
    eb__q_text(&q, in->amr);
    eb__q_text(&q, in->acr);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_oidc_code_take(struct eb_db *db, const char *code_hash, struct eb_arena *a,
                            struct eb_oidc_code *out)
{
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    eb__q_start(db, SQL_CODE_TAKE, &q);
    eb__q_text(&q, code_hash);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        out->code_hash = eb_arena_strdup(a, code_hash);
        out->client_id = eb__q_col_str(&q, 0, a);
        out->account_id = eb__q_col_int(&q, 1);
        out->redirect_uri = eb__q_col_str(&q, 2, a);
        out->scope = eb__q_col_str(&q, 3, a);
        out->nonce = eb__q_col_str(&q, 4, a);
        out->code_challenge = eb__q_col_str(&q, 5, a);
        out->sid = eb__q_col_str(&q, 6, a);
        out->auth_time = eb__q_col_int(&q, 7);
        out->expires_at = eb__q_col_int(&q, 8);
        out->used = eb__q_col_int(&q, 9);
        out->claims = eb__q_col_str(&q, 10, a);
        out->amr = eb__q_col_str(&q, 11, a);
        out->acr = eb__q_col_str(&q, 12, a);
        /* Drain: a RETURNING statement finishes its write on the last step. */
        while (eb__q_step(&q) == EB__STORE_ROW) {
        }
    }
    eb__q_end(&q);
    if (rc == EB__STORE_DONE)
        return EB_ENOTFOUND;
    return rc < 0 ? rc : 0;
}

/* ---- tokens ----------------------------------------------------------------------------- */

int eb_store_oidc_token_create(struct eb_db *db, const struct eb_oidc_token *in)
{
    struct eb__q q;
    eb__q_start(db, SQL_TOKEN_INSERT, &q);
    eb__q_text(&q, in->token_hash);
    eb__q_int(&q, in->kind);
    eb__q_text(&q, in->client_id);
    eb__q_int(&q, in->account_id);
    eb__q_text(&q, in->scope);
    eb__q_text(&q, in->sid);
    eb__q_int(&q, in->auth_time);
    eb__q_text(&q, in->family_id);
    eb__q_text(&q, in->code_hash);
    eb__q_text(&q, in->nonce);
    eb__q_int(&q, in->expires_at);
    eb__q_int(&q, 0);
    eb__q_null(&q);
    eb__q_int(&q, in->created_at ? in->created_at : eb__now_ms() / 1000);
    eb__q_text(&q, in->claims);
    eb__q_text(&q, in->amr);
    eb__q_text(&q, in->acr);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_oidc_token_get(struct eb_db *db, const char *token_hash, struct eb_arena *a,
                            struct eb_oidc_token *out)
{
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    eb__q_start(db, SQL_TOKEN_GET, &q);
    eb__q_text(&q, token_hash);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        out->token_hash = eb__q_col_str(&q, 0, a);
        out->kind = (enum eb_oidc_token_kind)eb__q_col_int(&q, 1);
        out->client_id = eb__q_col_str(&q, 2, a);
        out->account_id = eb__q_col_int(&q, 3);
        out->scope = eb__q_col_str(&q, 4, a);
        out->sid = eb__q_col_str(&q, 5, a);
        out->auth_time = eb__q_col_int(&q, 6);
        out->family_id = eb__q_col_str(&q, 7, a);
        out->code_hash = eb__q_col_str(&q, 8, a);
        out->nonce = eb__q_col_str(&q, 9, a);
        out->expires_at = eb__q_col_int(&q, 10);
        out->revoked = (int)eb__q_col_int(&q, 11);
        out->rotated_at = eb__q_col_int(&q, 12);
        out->created_at = eb__q_col_int(&q, 13);
        out->claims = eb__q_col_str(&q, 14, a);
        out->amr = eb__q_col_str(&q, 15, a);
        out->acr = eb__q_col_str(&q, 16, a);
    }
    eb__q_end(&q);
    if (rc == EB__STORE_DONE)
        return EB_ENOTFOUND;
    return rc < 0 ? rc : 0;
}

int eb_store_oidc_token_rotate(struct eb_db *db, const char *token_hash, int64_t now, int *won)
{
    struct eb__q q;
    *won = 0;
    eb__q_start(db, SQL_TOKEN_ROTATE, &q);
    eb__q_int(&q, now);
    eb__q_text(&q, token_hash);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *won = 1;
        while (eb__q_step(&q) == EB__STORE_ROW) {
        }
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_oidc_family_rotated_since(struct eb_db *db, const char *family_id,
                                       const char *not_hash, int64_t since, int64_t *n)
{
    struct eb__q q;
    *n = 0;
    eb__q_start(db, SQL_FAMILY_ROTATED, &q);
    eb__q_text(&q, family_id);
    eb__q_int(&q, since);
    eb__q_text(&q, not_hash);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        *n = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_oidc_token_revoke(struct eb_db *db, const char *token_hash)
{
    return eb__exec_text(db, SQL_TOKEN_REVOKE, token_hash);
}

int eb_store_oidc_revoke_family(struct eb_db *db, const char *family_id)
{
    return eb__exec_text(db, SQL_REVOKE_FAMILY, family_id);
}

int eb_store_oidc_revoke_code(struct eb_db *db, const char *code_hash)
{
    return eb__exec_text(db, SQL_REVOKE_CODE, code_hash);
}

int eb_store_oidc_revoke_sid(struct eb_db *db, const char *sid)
{
    return eb__exec_text(db, SQL_REVOKE_SID, sid);
}

/* ---- sessions and consents -------------------------------------------------------------- */

int eb_store_oidc_session_client_add(struct eb_db *db, int64_t account_id, const char *sid,
                                     const char *client_id, int64_t now)
{
    struct eb__q q;
    eb__q_start(db, SQL_SESS_ADD, &q);
    eb__q_int(&q, account_id);
    eb__q_text(&q, sid);
    eb__q_text(&q, client_id);
    eb__q_int(&q, now);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_oidc_session_clients(struct eb_db *db, const char *sid, int forget, struct eb_arena *a,
                                  size_t *n, const char ***client_ids)
{
    struct eb__q q;
    size_t cap = 0;
    int rc;
    *n = 0;
    *client_ids = NULL;
    eb__q_start(db, SQL_SESS_LIST, &q);
    eb__q_text(&q, sid);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char **grown = eb_arena_grow(a, *client_ids, *n, &cap, sizeof(char *));
        if (!grown) {
            rc = EB_ETOOBIG;
            break;
        }
        *client_ids = grown;
        (*client_ids)[(*n)++] = eb__q_col_str(&q, 0, a);
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    return forget ? eb__exec_text(db, SQL_SESS_FORGET, sid) : 0;
}

int eb_store_oidc_consent_get(struct eb_db *db, int64_t account_id, const char *client_id,
                              struct eb_arena *a, const char **scope)
{
    struct eb__q q;
    *scope = NULL;
    eb__q_start(db, SQL_CONSENT_GET, &q);
    eb__q_int(&q, account_id);
    eb__q_text(&q, client_id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        *scope = eb__q_col_str(&q, 0, a);
    eb__q_end(&q);
    if (rc == EB__STORE_DONE)
        return EB_ENOTFOUND;
    return rc < 0 ? rc : 0;
}

int eb_store_oidc_consent_set(struct eb_db *db, int64_t account_id, const char *client_id,
                              const char *scope, int64_t now)
{
    struct eb__q q;
    eb__q_start(db, SQL_CONSENT_SET, &q);
    eb__q_int(&q, account_id);
    eb__q_text(&q, client_id);
    eb__q_text(&q, scope);
    eb__q_int(&q, now);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}
