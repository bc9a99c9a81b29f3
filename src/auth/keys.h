/*
 * Signing keys of the OpenID Connect provider. This is the only module that touches private
 * keys: everything else signs and verifies through it (kore's keymgr idea, room for privilege
 * separation later).
 *
 * Keys live in the store (private halves sealed with the installation's secret key), so every
 * server process of a city signs with the same keys and publishes the same JWKS. Each key has
 * a kid, an algorithm (RS256, ES256 or EdDSA) and a life: published before it signs
 * (activates_at), signing until the next key activates, kept in the JWKS after it retires for
 * the longest token lifetime so that tokens it signed still verify.
 */
#ifndef EB_AUTH_KEYS_H
#define EB_AUTH_KEYS_H

#include <stdint.h>

#include <jansson.h>

#include "core/arena.h"
#include "store/store.h"

struct eb_keys;

/** Loads the keys (creating a first key per algorithm when there are none). */
int eb_keys_load(struct eb_store *st, struct eb_keys **out);
void eb_keys_free(struct eb_keys *k);
/** Re-reads the keys when they may have changed (a rotation by another process). Cheap to call
 * often: it reloads at most every few seconds. */
int eb_keys_refresh(struct eb_keys *k);

/**
 * Signs claims as a compact JWS with the current key of alg ("RS256", "ES256", "EdDSA"),
 * setting the header's kid and typ (typ may be NULL for "JWT", e.g. "logout+jwt").
 * *jwt is allocated in the arena.
 */
int eb_keys_sign(struct eb_keys *k, const char *alg, const char *typ, const json_t *claims,
                 struct eb_arena *a, char **jwt /* out */);
/** Verifies a JWS signed by one of our keys (any state but removed); *claims is a new
 * reference. EB_EAUTH when the signature or the format is wrong. Does not check exp/aud. */
int eb_keys_verify(struct eb_keys *k, const char *jwt, json_t **claims /* out */);
/** The public JWK set ({"keys":[...]}), a new reference. */
json_t *eb_keys_jwks(struct eb_keys *k);
/** Rotation: adds the next key of every algorithm, published now and signing after
 * publish_s seconds; retires keys older than the longest token lifetime. */
int eb_keys_rotate(struct eb_store *st, int64_t publish_s);

/* Added for issue #4 (engineer A). */

/** How long a superseded key stays in the JWKS after its successor starts signing: the longest
 * lifetime of any JWT we sign (ID tokens, logout tokens). Token lifetimes must not exceed it. */
#define EB_KEYS_RETAIN_S (24 * 3600)
/** The default of publish_s: a new key is in every JWKS (servers refresh every few seconds,
 * relying parties cache for EB_KEYS_JWKS_MAX_AGE_S) well before it signs. */
#define EB_KEYS_PUBLISH_S      900
#define EB_KEYS_JWKS_MAX_AGE_S 300
/** Sets how often eb_keys_refresh may reload (default 5 s; 0 = every call, for tests). */
void eb_keys_set_refresh_interval(struct eb_keys *k, int seconds);

/* HTTP handlers (oidc_discovery.c): public, no database. */
struct eb_req;
int eb_oidc_discovery_handler(struct eb_req *r); /* GET /.well-known/openid-configuration */
int eb_oidc_jwks_handler(struct eb_req *r);      /* GET /oidc/jwks */

#endif
