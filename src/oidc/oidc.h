/*
 * The OpenID Connect provider's endpoints (authorization, token, userinfo, introspection,
 * revocation, logout) and the apps of the portal. Signing goes through src/auth/keys.h; the
 * rows live in the store (store.h, "OIDC clients"). Design notes: docs/internals/oidc.md.
 */
#ifndef EB_OIDC_H
#define EB_OIDC_H

#include "http/http.h"

/* Lifetimes, in seconds. */
#define EB_OIDC_CODE_TTL_S     60
#define EB_OIDC_ACCESS_TTL_S   3600
#define EB_OIDC_REFRESH_TTL_S  (30 * 24 * 3600)
#define EB_OIDC_ID_TOKEN_TTL_S 3600
/* A refresh token just rotated still works this long (two tabs refreshing at once). */
#define EB_OIDC_REFRESH_GRACE_S 30

int eb_oidc_authorize_handler(struct eb_req *r);  /* GET and POST /oidc/authorize */
int eb_oidc_token_handler(struct eb_req *r);      /* POST /oidc/token */
int eb_oidc_userinfo_handler(struct eb_req *r);   /* GET and POST /oidc/userinfo */
int eb_oidc_revoke_handler(struct eb_req *r);     /* POST /oidc/revoke */
int eb_oidc_introspect_handler(struct eb_req *r); /* POST /oidc/introspect */
int eb_oidc_logout_handler(struct eb_req *r);     /* GET and POST /oidc/logout */

/* The apps of the portal (oidc_clients.c). */
int eb_oidc_apps_mine_handler(struct eb_req *r);    /* GET /api/v1/apps */
int eb_oidc_apps_managed_handler(struct eb_req *r); /* GET /api/v1/admin/apps */
int eb_oidc_app_create_handler(struct eb_req *r);   /* POST /api/v1/apps */
int eb_oidc_app_update_handler(struct eb_req *r);   /* PATCH /api/v1/apps/{id} */
int eb_oidc_app_delete_handler(struct eb_req *r);   /* DELETE /api/v1/apps/{id} */

/**
 * Ends what the portal session session_hash opened at the provider: revokes its tokens and
 * sends a back-channel logout token to every app it logged into. Called on every logout.
 */
int eb_oidc_session_ended(struct eb_req *r, int64_t account_id, const char *session_hash);

/**
 * On an EB_ROUTE_APP_READ route: when the request carries "Authorization: Bearer" with a live
 * client_credentials token of scope roster:read whose app may still read rosters, the caller
 * becomes that app, bounded to its org's subtree with read-only roster rights, and
 * r->app_client_id is set. Anything else leaves the request anonymous. 0, or a store error.
 */
int eb_oidc_bearer_resolve(struct eb_req *r);

/** The stored form of a client secret: hex SHA-256 (secrets are 256-bit random values, or
 * chosen by the administrator with at least 32 characters). */
void eb_oidc_secret_hash(const char *secret, char hex[65] /* out */);

/** The sid of a portal session: a one-way function of its hash, so that apps never learn it. */
void eb_oidc_sid(const char *session_hash, char sid[33] /* out */);

#endif
