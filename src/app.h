/* The server's shared context, passed to every handler through struct eb_req. */
#ifndef EB_APP_H
#define EB_APP_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/cache.h"
#include "store/store.h"

struct eb_brain;
struct eb_indicators;

struct eb_config {
    const char *db;       /* database string */
    const char *listen;   /* host:port */
    const char *web_dir;  /* built UI; NULL = API only */
    const char *key_file; /* citizen-ID key; NULL = next to the database */
    int threads;          /* HTTP worker threads */
    int session_ttl_s;    /* idle lifetime of a session */
    int session_max_s;    /* absolute lifetime of a session */
    int secure_cookies;   /* add Secure (set when served behind TLS) */
    int trust_proxy;      /* take the client address from X-Forwarded-For */
    const char *issuer;   /* OIDC issuer URL, e.g. https://sso.example.edu.cn (no trailing /) */
    int cache_mb;         /* budget of the people-list cache in MiB (0 = off) */
    int mfa_admins;       /* enum eb_mfa_policy of administrator roles (0: required) */
};

/* Whether administrator roles (city, district, school admin) must log in with a second factor
 * (serve --mfa-admins). Zero is "required", so a configuration that forgets it is the safe one. */
enum eb_mfa_policy { EB_MFA_REQUIRED = 0, EB_MFA_OPTIONAL = 1 };

struct eb_metrics {
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t responses_2xx, responses_4xx, responses_5xx;
    atomic_uint_fast64_t logins_ok, logins_failed, logins_throttled;
    atomic_uint_fast64_t request_us_total;
};

struct eb_app {
    const struct eb_config *cfg;
    struct eb_store *store;
    struct eb_metrics metrics;
    struct eb_cache *lists; /* rendered people lists by data version; NULL = off */
    struct eb_keys *keys;   /* OIDC signing keys (src/auth/keys.h) */
    int64_t started_at;
    /* The nightly data-quality run (serve --quality-at): the minute of the day plus one (0 =
     * off), and the unix time of the next run, kept by its thread (src/cli/cli_quality.c). */
    int quality_at;
    atomic_int_fast64_t quality_next_at;
    struct eb_brain *brain; /* observations, cube, listeners (src/brain/brain.h); NULL = off */
    struct eb_indicators *indicators; /* indicators, alerts, streams (src/brain/indicator.h) */
};

#endif
