/* The OIDC signing keys: generation, JWKs, compact JWS signing and verification (OpenSSL 3). */
#include "auth/keys.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#define B64URL    sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define SIG_MAX   512   /* RSA up to 4096 bits */
#define DER_MAX   16384 /* a sealed private key's DER */
#define JWT_MAX   65536 /* longer tokens are refused unread */
#define REFRESH_S 5
#define KID_MAX   64
#define ALG_COUNT 3

static const char *const ALGS[ALG_COUNT] = {"RS256", "ES256", "EdDSA"};

struct key {
    char kid[KID_MAX];
    char alg[8];
    EVP_PKEY *pkey; /* the private key; verification uses its public half */
    int64_t created_at, activates_at, removes_at;
};

/* One loaded generation of keys, shared by the threads using it and freed by the last one. */
struct keyset {
    int refs;
    size_t n;
    struct key *keys;
    json_t *jwks;
};

struct eb_keys {
    struct eb_store *st;
    pthread_mutex_t lock;   /* guards cur and the sets' refs */
    pthread_mutex_t reload; /* one reloading thread at a time */
    struct keyset *cur;
    int64_t checked_at;
    int interval;
};

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int alg_known(const char *alg)
{
    for (int i = 0; i < ALG_COUNT; i++)
        if (strcmp(alg, ALGS[i]) == 0)
            return 1;
    return 0;
}

/* ---- base64url and JSON into the arena or fixed buffers ------------------------------- */

static char *b64url(struct eb_arena *a, const unsigned char *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, B64URL);
    char *s = eb_arena_alloc(a, cap);
    if (s != NULL)
        sodium_bin2base64(s, cap, p, n, B64URL);
    return s;
}

/* Strict decoding: any character outside the alphabet, padding or stray bits fail. */
static int b64url_dec(const char *s, size_t len, unsigned char *out, size_t cap, size_t *n)
{
    if (len == 0)
        return EB_EAUTH;
    if (sodium_base642bin(out, cap, s, len, NULL, n, NULL, B64URL) != 0)
        return EB_EAUTH;
    return 0;
}

static char *dump(struct eb_arena *a, const json_t *j, size_t flags)
{
    size_t n = json_dumpb(j, NULL, 0, flags);
    char *s = n ? eb_arena_alloc(a, n + 1) : NULL;
    if (s == NULL)
        return NULL;
    json_dumpb(j, s, n, flags);
    s[n] = '\0';
    return s;
}

/* ---- keys and JWKs -------------------------------------------------------------------- */

static EVP_PKEY *generate(const char *alg)
{
    if (strcmp(alg, "RS256") == 0)
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (strcmp(alg, "ES256") == 0)
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (strcmp(alg, "EdDSA") == 0)
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return NULL;
}

/* The key type OpenSSL reports must be the one the algorithm needs. */
static int pkey_fits(const EVP_PKEY *pkey, const char *alg)
{
    if (strcmp(alg, "RS256") == 0)
        return EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) >= 2048;
    if (strcmp(alg, "ES256") == 0) {
        char group[32];
        size_t len = 0;
        return EVP_PKEY_is_a(pkey, "EC") &&
               EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                              sizeof(group), &len) == 1 &&
               strcmp(group, "prime256v1") == 0;
    }
    if (strcmp(alg, "EdDSA") == 0)
        return EVP_PKEY_is_a(pkey, "ED25519");
    return 0;
}

static int set_bn(json_t *jwk, const char *name, const EVP_PKEY *pkey, const char *param, int pad,
                  struct eb_arena *a)
{
    BIGNUM *bn = NULL;
    unsigned char buf[SIG_MAX];
    int rc = EB_EINTERNAL;
    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
        goto done;
    int n = pad ? pad : BN_num_bytes(bn);
    if (n <= 0 || n > (int)sizeof(buf) || BN_bn2binpad(bn, buf, n) != n)
        goto done;
    char *s = b64url(a, buf, (size_t)n);
    if (s == NULL)
        goto done;
    json_object_set_new(jwk, name, json_string(s));
    rc = 0;
done:
    BN_free(bn);
    return rc;
}

/*
 * The public JWK of pkey with its required members only, and its RFC 7638 thumbprint as the
 * kid: the members sorted, no whitespace, hashed with SHA-256. A kid thus names the key
 * material itself, and the same key always gets the same kid.
 */
static json_t *public_jwk(const EVP_PKEY *pkey, const char *alg, struct eb_arena *a,
                          char kid[KID_MAX])
{
    json_t *jwk = json_object();
    int rc = EB_EINTERNAL;
    if (strcmp(alg, "RS256") == 0) {
        json_object_set_new(jwk, "kty", json_string("RSA"));
        rc = set_bn(jwk, "n", pkey, OSSL_PKEY_PARAM_RSA_N, 0, a);
        if (rc == 0)
            rc = set_bn(jwk, "e", pkey, OSSL_PKEY_PARAM_RSA_E, 0, a);
    } else if (strcmp(alg, "ES256") == 0) {
        json_object_set_new(jwk, "kty", json_string("EC"));
        json_object_set_new(jwk, "crv", json_string("P-256"));
        rc = set_bn(jwk, "x", pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32, a);
        if (rc == 0)
            rc = set_bn(jwk, "y", pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32, a);
    } else if (strcmp(alg, "EdDSA") == 0) {
        unsigned char raw[32];
        size_t len = sizeof(raw);
        json_object_set_new(jwk, "kty", json_string("OKP"));
        json_object_set_new(jwk, "crv", json_string("Ed25519"));
        if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) == 1 && len == 32) {
            char *x = b64url(a, raw, len);
            if (x != NULL) {
                json_object_set_new(jwk, "x", json_string(x));
                rc = 0;
            }
        }
    }
    char *canon = rc == 0 ? dump(a, jwk, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (canon == NULL) {
        json_decref(jwk);
        return NULL;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)canon, strlen(canon));
    sodium_bin2base64(kid, KID_MAX, h, sizeof(h), B64URL);
    json_object_set_new(jwk, "kid", json_string(kid));
    json_object_set_new(jwk, "alg", json_string(alg));
    json_object_set_new(jwk, "use", json_string("sig"));
    return jwk;
}

/* ---- loading ---------------------------------------------------------------------------- */

static void keyset_free(struct keyset *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        EVP_PKEY_free(s->keys[i].pkey);
    eb_free(s->keys);
    json_decref(s->jwks);
    eb_free(s);
}

/* Opens one stored key: unseal, parse, check that it is what its row says. */
static int open_key(const struct eb_store *st, const struct eb_signing_key *row, struct key *out)
{
    unsigned char der[DER_MAX];
    size_t len = 0;
    int rc = eb_store_key_unseal(st, row->sealed, row->sealed_len, der, sizeof(der), &len);
    if (rc != 0) {
        eb_error("keys: the private key %s does not open with this installation's key file",
                 row->kid);
        goto done;
    }
    const unsigned char *p = der;
    out->pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
    if (out->pkey == NULL || !pkey_fits(out->pkey, row->alg) ||
        strlen(row->kid) >= sizeof(out->kid)) {
        eb_error("keys: the stored key %s is not a valid %s key", row->kid, row->alg);
        rc = EB_ESTORE;
        goto done;
    }
    snprintf(out->kid, sizeof(out->kid), "%s", row->kid);
    snprintf(out->alg, sizeof(out->alg), "%s", row->alg);
    out->created_at = row->created_at;
    out->activates_at = row->activates_at;
    out->removes_at = row->removes_at;
done:
    sodium_memzero(der, sizeof(der));
    return rc;
}

static int list_rows(struct eb_store *st, int want_sealed, struct eb_arena *a, size_t *n,
                     struct eb_signing_key **rows)
{
    struct eb_db *db = eb_store_acquire(st);
    int rc = eb_store_keys_list(db, now_s(), want_sealed, a, n, rows);
    eb_store_release(st, db);
    return rc;
}

static int load_set(struct eb_store *st, struct keyset **out)
{
    struct eb_arena *a = eb_arena_create(64 * 1024);
    struct keyset *s = eb_xcalloc(1, sizeof(*s));
    struct eb_signing_key *rows = NULL;
    size_t n = 0;
    s->refs = 1;
    s->jwks = json_object();
    json_t *arr = json_array();
    json_object_set_new(s->jwks, "keys", arr);
    int rc = list_rows(st, 1, a, &n, &rows);
    if (rc != 0)
        goto done;
    s->keys = eb_xcalloc(n ? n : 1, sizeof(*s->keys));
    for (size_t i = 0; i < n; i++) {
        if (!alg_known(rows[i].alg))
            continue;
        rc = open_key(st, &rows[i], &s->keys[s->n]);
        if (rc != 0) {
            EVP_PKEY_free(s->keys[s->n].pkey);
            goto done;
        }
        s->n++;
        json_t *jwk = json_loads(rows[i].public_jwk, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(jwk)) {
            json_decref(jwk);
            rc = EB_ESTORE;
            goto done;
        }
        json_array_append_new(arr, jwk);
    }
    *out = s;
    s = NULL;
done:
    keyset_free(s);
    eb_arena_destroy(a);
    return rc;
}

/* Creates and stores a key of alg; retire_at as eb_store_key_add. */
static int add_key(struct eb_store *st, const char *alg, int64_t created_at, int64_t activates_at,
                   int64_t retire_at, char kid_out[KID_MAX])
{
    struct eb_arena *a = eb_arena_create(16 * 1024);
    EVP_PKEY *pkey = generate(alg);
    unsigned char *der = NULL;
    json_t *jwk = NULL;
    int der_len = 0, rc = EB_EINTERNAL;
    char kid[KID_MAX];
    if (pkey == NULL)
        goto done;
    jwk = public_jwk(pkey, alg, a, kid);
    der_len = i2d_PrivateKey(pkey, &der);
    if (jwk == NULL || der_len <= 0)
        goto done;
    struct eb_signing_key k = {
        .kid = kid,
        .alg = alg,
        .public_jwk = dump(a, jwk, JSON_COMPACT | JSON_SORT_KEYS),
        .created_at = created_at,
        .activates_at = activates_at,
    };
    struct eb_caller sys = {.system = 1};
    struct eb_db *db = eb_store_acquire(st);
    rc = eb_store_key_add(db, &sys, &k, der, (size_t)der_len, retire_at);
    eb_store_release(st, db);
    if (rc == 0 && kid_out != NULL)
        snprintf(kid_out, KID_MAX, "%s", kid);
done:
    if (der != NULL)
        OPENSSL_clear_free(der, (size_t)der_len);
    EVP_PKEY_free(pkey);
    json_decref(jwk);
    eb_arena_destroy(a);
    return rc;
}

int eb_keys_load(struct eb_store *st, struct eb_keys **out)
{
    struct eb_arena *a = eb_arena_create(64 * 1024);
    struct eb_signing_key *rows = NULL;
    size_t n = 0;
    struct keyset *set = NULL;
    *out = NULL;
    int rc = list_rows(st, 0, a, &n, &rows);
    if (rc != 0)
        goto done;
    /* A first key of every algorithm, signing at once: nothing was signed before it. */
    for (int i = 0; i < ALG_COUNT; i++) {
        int have = 0;
        for (size_t j = 0; j < n; j++)
            have |= strcmp(rows[j].alg, ALGS[i]) == 0;
        if (have)
            continue;
        int64_t now = now_s();
        rc = add_key(st, ALGS[i], now, now, -1, NULL);
        if (rc == EB_EEXIST)
            rc = 0; /* another process created it first */
        if (rc != 0)
            goto done;
        eb_info("keys: created the first %s signing key", ALGS[i]);
    }
    rc = load_set(st, &set);
    if (rc != 0)
        goto done;
    struct eb_keys *k = eb_xcalloc(1, sizeof(*k));
    k->st = st;
    pthread_mutex_init(&k->lock, NULL);
    pthread_mutex_init(&k->reload, NULL);
    k->cur = set;
    k->checked_at = now_s();
    k->interval = REFRESH_S;
    *out = k;
done:
    eb_arena_destroy(a);
    return rc;
}

void eb_keys_free(struct eb_keys *k)
{
    if (k == NULL)
        return;
    keyset_free(k->cur);
    pthread_mutex_destroy(&k->lock);
    pthread_mutex_destroy(&k->reload);
    eb_free(k);
}

void eb_keys_set_refresh_interval(struct eb_keys *k, int seconds)
{
    pthread_mutex_lock(&k->lock);
    k->interval = seconds < 0 ? 0 : seconds;
    pthread_mutex_unlock(&k->lock);
}

static struct keyset *set_get(struct eb_keys *k)
{
    pthread_mutex_lock(&k->lock);
    struct keyset *s = k->cur;
    s->refs++;
    pthread_mutex_unlock(&k->lock);
    return s;
}

static void set_put(struct eb_keys *k, struct keyset *s)
{
    pthread_mutex_lock(&k->lock);
    int last = --s->refs == 0;
    pthread_mutex_unlock(&k->lock);
    if (last)
        keyset_free(s);
}

/* True when the stored rows name the same keys with the same schedule as the loaded set. */
static int same_keys(const struct keyset *s, const struct eb_signing_key *rows, size_t n)
{
    size_t known = 0;
    for (size_t i = 0; i < n; i++) {
        if (!alg_known(rows[i].alg))
            continue;
        if (known >= s->n || strcmp(s->keys[known].kid, rows[i].kid) != 0 ||
            s->keys[known].removes_at != rows[i].removes_at ||
            s->keys[known].activates_at != rows[i].activates_at)
            return 0;
        known++;
    }
    return known == s->n;
}

int eb_keys_refresh(struct eb_keys *k)
{
    int64_t now = now_s();
    pthread_mutex_lock(&k->lock);
    int due = k->interval == 0 || now - k->checked_at >= k->interval;
    pthread_mutex_unlock(&k->lock);
    /* Threads that find another one reloading go on with the keys they have. */
    if (!due || pthread_mutex_trylock(&k->reload) != 0)
        return 0;
    struct eb_arena *a = eb_arena_create(16 * 1024);
    struct eb_signing_key *rows = NULL;
    struct keyset *fresh = NULL, *cur = set_get(k);
    size_t n = 0;
    int rc = list_rows(k->st, 0, a, &n, &rows);
    if (rc == 0 && !same_keys(cur, rows, n))
        rc = load_set(k->st, &fresh);
    set_put(k, cur);
    pthread_mutex_lock(&k->lock);
    if (rc == 0)
        k->checked_at = now;
    if (fresh != NULL) {
        cur = k->cur;
        k->cur = fresh;
    } else {
        cur = NULL;
    }
    pthread_mutex_unlock(&k->lock);
    if (cur != NULL) {
        eb_info("keys: reloaded %zu signing keys", fresh->n);
        set_put(k, cur);
    }
    pthread_mutex_unlock(&k->reload);
    eb_arena_destroy(a);
    return rc;
}

int eb_keys_rotate(struct eb_store *st, int64_t publish_s)
{
    if (publish_s < 0)
        return EB_EINVAL;
    struct eb_arena *a = eb_arena_create(16 * 1024);
    struct eb_signing_key *rows = NULL;
    size_t n = 0;
    int64_t now = now_s();
    int rc = list_rows(st, 0, a, &n, &rows);
    for (int i = 0; rc == 0 && i < ALG_COUNT; i++) {
        char kid[KID_MAX];
        /* Activation times only grow, so that the latest activated key is always the newest
         * one, even for two rotations within a second. */
        int64_t act = now + publish_s;
        for (size_t j = 0; j < n; j++)
            if (strcmp(rows[j].alg, ALGS[i]) == 0 && rows[j].activates_at >= act)
                act = rows[j].activates_at + 1;
        /* The keys before it sign until it activates, then stay published for the longest
         * token lifetime. */
        rc = add_key(st, ALGS[i], now, act, act + EB_KEYS_RETAIN_S, kid);
        if (rc == 0)
            eb_info("keys: added %s key %s, signing from %lld", ALGS[i], kid, (long long)act);
    }
    eb_arena_destroy(a);
    return rc;
}

json_t *eb_keys_jwks(struct eb_keys *k)
{
    struct keyset *s = set_get(k);
    /* A copy: jansson's reference counts are not to be shared between threads. */
    json_t *copy = json_deep_copy(s->jwks);
    set_put(k, s);
    return copy;
}

/* ---- signing and verifying ------------------------------------------------------------ */

/* The key that signs alg now: the latest activated one. */
static const struct key *signing_key(const struct keyset *s, const char *alg, int64_t now)
{
    const struct key *best = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const struct key *c = &s->keys[i];
        if (strcmp(c->alg, alg) != 0 || c->activates_at > now ||
            (c->removes_at != 0 && c->removes_at <= now))
            continue;
        if (best == NULL || c->activates_at > best->activates_at ||
            (c->activates_at == best->activates_at &&
             (c->created_at > best->created_at ||
              (c->created_at == best->created_at && strcmp(c->kid, best->kid) > 0))))
            best = c;
    }
    return best;
}

/* A raw JWS signature: RSASSA-PKCS1-v1_5, ECDSA as r||s (RFC 7518 3.4), or Ed25519. */
static int sign_raw(const struct key *key, const char *msg, size_t len, unsigned char sig[SIG_MAX],
                    size_t *sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[SIG_MAX];
    size_t n = sizeof(der);
    ECDSA_SIG *es = NULL;
    int rc = EB_EINTERNAL;
    const EVP_MD *md = strcmp(key->alg, "EdDSA") == 0 ? NULL : EVP_sha256();
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, md, NULL, key->pkey) != 1 ||
        EVP_DigestSign(ctx, der, &n, (const unsigned char *)msg, len) != 1)
        goto done;
    if (strcmp(key->alg, "ES256") == 0) {
        const unsigned char *p = der;
        es = d2i_ECDSA_SIG(NULL, &p, (long)n);
        if (es == NULL || BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) != 32 ||
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) != 32)
            goto done;
        *sig_len = 64;
    } else {
        memcpy(sig, der, n);
        *sig_len = n;
    }
    rc = 0;
done:
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    return rc;
}

static int verify_raw(const struct key *key, const char *msg, size_t len, const unsigned char *sig,
                      size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    int der_len = 0, rc = EB_EAUTH;
    const EVP_MD *md = strcmp(key->alg, "EdDSA") == 0 ? NULL : EVP_sha256();
    if (ctx == NULL) {
        rc = EB_EINTERNAL;
        goto done;
    }
    if (strcmp(key->alg, "ES256") == 0) {
        /* JWS carries r||s; OpenSSL verifies the DER form. */
        if (sig_len != 64)
            goto done;
        es = ECDSA_SIG_new();
        r = BN_bin2bn(sig, 32, NULL);
        s = BN_bin2bn(sig + 32, 32, NULL);
        if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
            goto done;
        r = s = NULL; /* owned by es now */
        der_len = i2d_ECDSA_SIG(es, &der);
        if (der_len <= 0)
            goto done;
        sig = der;
        sig_len = (size_t)der_len;
    } else if (strcmp(key->alg, "EdDSA") == 0 && sig_len != 64) {
        goto done;
    } else if (strcmp(key->alg, "RS256") == 0 && sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) {
        goto done;
    }
    if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key->pkey) == 1 &&
        EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)msg, len) == 1)
        rc = 0;
done:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int eb_keys_sign(struct eb_keys *k, const char *alg, const char *typ, const json_t *claims,
                 struct eb_arena *a, char **jwt)
{
    struct keyset *s = NULL;
    json_t *hdr = NULL;
    unsigned char sig[SIG_MAX];
    size_t sig_len = 0;
    int rc = EB_EINVAL;
    *jwt = NULL;
    if (alg == NULL || !alg_known(alg) || !json_is_object(claims))
        goto done;
    eb_keys_refresh(k); /* a failed reload keeps the keys we have */
    s = set_get(k);
    const struct key *key = signing_key(s, alg, now_s());
    if (key == NULL) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    hdr = json_pack("{s:s, s:s, s:s}", "alg", alg, "kid", key->kid, "typ", typ ? typ : "JWT");
    char *h = hdr ? dump(a, hdr, JSON_COMPACT) : NULL;
    char *p = dump(a, claims, JSON_COMPACT);
    char *h64 = h ? b64url(a, (const unsigned char *)h, strlen(h)) : NULL;
    char *p64 = p ? b64url(a, (const unsigned char *)p, strlen(p)) : NULL;
    char *input = h64 && p64 ? eb_arena_printf(a, "%s.%s", h64, p64) : NULL;
    if (input == NULL) {
        rc = EB_ETOOBIG;
        goto done;
    }
    rc = sign_raw(key, input, strlen(input), sig, &sig_len);
    if (rc != 0)
        goto done;
    char *s64 = b64url(a, sig, sig_len);
    *jwt = s64 ? eb_arena_printf(a, "%s.%s", input, s64) : NULL;
    rc = *jwt ? 0 : EB_ETOOBIG;
done:
    json_decref(hdr);
    if (s != NULL)
        set_put(k, s);
    return rc;
}

/* Decodes a base64url JSON object of a JWS part; NULL when it is anything else. */
static json_t *part_json(const char *b64, size_t len)
{
    size_t cap = len, n = 0;
    unsigned char *buf = eb_xmalloc(cap + 1);
    json_t *j = NULL;
    if (b64url_dec(b64, len, buf, cap, &n) == 0)
        j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    eb_free(buf);
    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int eb_keys_verify(struct eb_keys *k, const char *jwt, json_t **claims)
{
    struct keyset *s = NULL;
    json_t *hdr = NULL, *body = NULL;
    unsigned char sig[SIG_MAX];
    size_t sig_len = 0;
    int rc = EB_EAUTH;
    *claims = NULL;
    size_t len = jwt ? strnlen(jwt, JWT_MAX + 1) : 0;
    const char *d1 = len && len <= JWT_MAX ? memchr(jwt, '.', len) : NULL;
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jwt)) : NULL;
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt)) != NULL)
        goto done;
    hdr = part_json(jwt, (size_t)(d1 - jwt));
    const char *alg = hdr ? json_string_value(json_object_get(hdr, "alg")) : NULL;
    const char *kid = hdr ? json_string_value(json_object_get(hdr, "kid")) : NULL;
    /* Only our algorithms ("none" never), a kid, and no critical extensions we would ignore. */
    if (alg == NULL || kid == NULL || !alg_known(alg) || json_object_get(hdr, "crit") != NULL)
        goto done;
    const char *sig64 = d2 + 1;
    if (b64url_dec(sig64, len - (size_t)(sig64 - jwt), sig, sizeof(sig), &sig_len) != 0)
        goto done;
    eb_keys_refresh(k);
    s = set_get(k);
    const struct key *key = NULL;
    int64_t now = now_s();
    for (size_t i = 0; i < s->n && key == NULL; i++)
        if (strcmp(s->keys[i].kid, kid) == 0)
            key = &s->keys[i];
    /* The header's alg must be the key's own: no algorithm confusion. */
    if (key == NULL || strcmp(key->alg, alg) != 0 ||
        (key->removes_at != 0 && key->removes_at <= now))
        goto done;
    rc = verify_raw(key, jwt, (size_t)(d2 - jwt), sig, sig_len);
    if (rc != 0)
        goto done;
    body = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
    if (body == NULL) {
        rc = EB_EAUTH;
        goto done;
    }
    *claims = body;
    body = NULL;
done:
    json_decref(hdr);
    json_decref(body);
    if (s != NULL)
        set_put(k, s);
    return rc;
}
