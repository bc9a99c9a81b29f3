/* Unit tests of src/auth/keys.c: JWS signing and verification, JWKs, rotation and refresh. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "auth/keys.h"
#include "core/err.h"
#include "core/mem.h"

static struct {
    char dir[64], db_path[96];
    struct eb_store *st;
    struct eb_keys *k;
    struct eb_arena *a;
} w;

static const char *const ALGS[] = {"RS256", "ES256", "EdDSA"};

static int setup(void **state)
{
    (void)state;
    memset(&w, 0, sizeof(w));
    snprintf(w.dir, sizeof(w.dir), "/tmp/eb_keys_XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    snprintf(w.db_path, sizeof(w.db_path), "%s/t.db", w.dir);
    struct eb_store_options opt = {.pool_size = 2, .create = 1};
    assert_int_equal(eb_store_open(w.db_path, &opt, &w.st), 0);
    assert_int_equal(eb_keys_load(w.st, &w.k), 0);
    eb_keys_set_refresh_interval(w.k, 0);
    w.a = eb_arena_create(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[128];
    eb_keys_free(w.k);
    eb_store_close(w.st);
    eb_arena_destroy(w.a);
    const char *files[] = {"t.db", "t.db.key", "t.db-wal", "t.db-shm"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", w.dir, files[i]);
        unlink(p);
    }
    rmdir(w.dir);
    return 0;
}

/* base64url without padding, decoded strictly; returns the length. */
static size_t unb64(const char *s, size_t len, unsigned char *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(sodium_base642bin(out, cap, s, len, NULL, &n, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    return n;
}

static char *b64(const void *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *s = eb_arena_alloc(w.a, cap);
    sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return s;
}

/* The three parts of a compact JWS (copies in the arena). */
struct parts {
    char *h, *p, *s;
};

static struct parts split(const char *jwt)
{
    struct parts x;
    const char *d1 = strchr(jwt, '.');
    assert_non_null(d1);
    const char *d2 = strchr(d1 + 1, '.');
    assert_non_null(d2);
    assert_null(strchr(d2 + 1, '.'));
    x.h = eb_arena_strndup(w.a, jwt, (size_t)(d1 - jwt));
    x.p = eb_arena_strndup(w.a, d1 + 1, (size_t)(d2 - d1 - 1));
    x.s = eb_arena_strdup(w.a, d2 + 1);
    return x;
}

static json_t *part_json(const char *b)
{
    unsigned char buf[4096];
    size_t n = unb64(b, strlen(b), buf, sizeof(buf));
    json_t *j = json_loadb((const char *)buf, n, 0, NULL);
    assert_non_null(j);
    return j;
}

static const json_t *jwk_by_kid(const json_t *jwks, const char *kid)
{
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(jwks, "keys"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "kid")), kid) == 0)
            return v;
    }
    return NULL;
}

static size_t jwk_bytes(const json_t *jwk, const char *name, unsigned char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    assert_non_null(s);
    return unb64(s, strlen(s), out, cap);
}

/*
 * Checks a signature with OpenSSL or libsodium from the published JWK alone, independently of
 * keys.c: this is what a relying party does.
 */
static int rp_verifies(const json_t *jwk, const char *alg, const char *input,
                       const unsigned char *sig, size_t sig_len)
{
    unsigned char a[512], b[64], der[128];
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *pctx =
        EVP_PKEY_CTX_new_from_name(NULL, strcmp(alg, "RS256") == 0 ? "RSA" : "EC", NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    BIGNUM *n = NULL, *e = NULL;
    int ok = 0;
    if (strcmp(alg, "EdDSA") == 0) {
        assert_int_equal(jwk_bytes(jwk, "x", a, sizeof(a)), crypto_sign_PUBLICKEYBYTES);
        ok = sig_len == crypto_sign_BYTES &&
             crypto_sign_verify_detached(sig, (const unsigned char *)input, strlen(input), a) == 0;
        goto done;
    }
    if (strcmp(alg, "RS256") == 0) {
        size_t nl = jwk_bytes(jwk, "n", a, sizeof(a));
        size_t el = jwk_bytes(jwk, "e", b, sizeof(b));
        n = BN_bin2bn(a, (int)nl, NULL);
        e = BN_bin2bn(b, (int)el, NULL);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    } else {
        /* ES256: the uncompressed point from x and y; the JWS r||s turned into DER here. */
        a[0] = 4;
        assert_int_equal(jwk_bytes(jwk, "x", a + 1, 32), 32);
        assert_int_equal(jwk_bytes(jwk, "y", a + 33, 32), 32);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, a, 65);
        if (sig_len != 64)
            goto done;
        ECDSA_SIG *es = ECDSA_SIG_new();
        ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
        unsigned char *p = der;
        int dl = i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);
        assert_true(dl > 0 && dl <= (int)sizeof(der));
        sig = der;
        sig_len = (size_t)dl;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    assert_int_equal(EVP_PKEY_fromdata_init(pctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
         EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)input, strlen(input)) == 1;
    EVP_MD_CTX_free(md);
done:
    BN_free(n);
    BN_free(e);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(pctx);
    return ok;
}

static char *sign(const char *alg, const char *typ)
{
    json_t *claims = json_pack("{s:s, s:s, s:i}", "sub", "42", "name", "王小明", "iat", 1700000000);
    char *jwt = NULL;
    assert_int_equal(eb_keys_sign(w.k, alg, typ, claims, w.a, &jwt), 0);
    json_decref(claims);
    assert_non_null(jwt);
    return jwt;
}

static const char *kid_of(const char *jwt)
{
    json_t *h = part_json(split(jwt).h);
    const char *kid = eb_arena_strdup(w.a, json_string_value(json_object_get(h, "kid")));
    json_decref(h);
    return kid;
}

static void sign_and_verify_every_alg(void **state)
{
    (void)state;
    json_t *jwks = eb_keys_jwks(w.k);
    assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 3);
    const size_t sig_lens[] = {256, 64, 64};
    const char *ktys[] = {"RSA", "EC", "OKP"};
    const char *crvs[] = {NULL, "P-256", "Ed25519"};
    for (size_t i = 0; i < 3; i++) {
        char *jwt = sign(ALGS[i], i == 2 ? "logout+jwt" : NULL);
        assert_null(strpbrk(jwt, "=+/ "));
        struct parts x = split(jwt);
        json_t *h = part_json(x.h);
        assert_string_equal(json_string_value(json_object_get(h, "alg")), ALGS[i]);
        assert_string_equal(json_string_value(json_object_get(h, "typ")),
                            i == 2 ? "logout+jwt" : "JWT");
        const char *kid = json_string_value(json_object_get(h, "kid"));
        assert_non_null(kid);
        assert_int_equal(strlen(kid), 43); /* a SHA-256 thumbprint */
        const json_t *jwk = jwk_by_kid(jwks, kid);
        assert_non_null(jwk);
        assert_string_equal(json_string_value(json_object_get(jwk, "kty")), ktys[i]);
        assert_string_equal(json_string_value(json_object_get(jwk, "alg")), ALGS[i]);
        assert_string_equal(json_string_value(json_object_get(jwk, "use")), "sig");
        if (crvs[i])
            assert_string_equal(json_string_value(json_object_get(jwk, "crv")), crvs[i]);
        /* Public members only. */
        assert_null(json_object_get(jwk, "d"));
        assert_null(json_object_get(jwk, "p"));
        unsigned char sig[512];
        size_t sl = unb64(x.s, strlen(x.s), sig, sizeof(sig));
        assert_int_equal(sl, sig_lens[i]);
        char *input = eb_arena_printf(w.a, "%s.%s", x.h, x.p);
        assert_true(rp_verifies(jwk, ALGS[i], input, sig, sl));
        /* And our own verification gives the claims back. */
        json_t *claims = NULL;
        assert_int_equal(eb_keys_verify(w.k, jwt, &claims), 0);
        assert_string_equal(json_string_value(json_object_get(claims, "sub")), "42");
        assert_string_equal(json_string_value(json_object_get(claims, "name")), "王小明");
        assert_int_equal(json_integer_value(json_object_get(claims, "iat")), 1700000000);
        json_decref(claims);
        json_decref(h);
    }
    json_decref(jwks);
    /* An unknown algorithm signs nothing. */
    char *jwt = NULL;
    json_t *c = json_object();
    assert_int_equal(eb_keys_sign(w.k, "HS256", NULL, c, w.a, &jwt), EB_EINVAL);
    assert_int_equal(eb_keys_sign(w.k, "none", NULL, c, w.a, &jwt), EB_EINVAL);
    json_decref(c);
}

static void refused(const char *jwt)
{
    json_t *claims = (json_t *)1;
    assert_int_equal(eb_keys_verify(w.k, jwt, &claims), EB_EAUTH);
    assert_null(claims);
}

static void tampered_tokens_are_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        char *jwt = sign(ALGS[i], NULL);
        struct parts x = split(jwt);
        const char *kid = kid_of(jwt);
        /* Another payload under the same signature. */
        const char *evil = "{\"sub\":\"1\",\"name\":\"王小明\",\"iat\":1700000000}";
        refused(eb_arena_printf(w.a, "%s.%s.%s", x.h, b64(evil, strlen(evil)), x.s));
        /* One signature bit flipped. */
        unsigned char sig[512];
        size_t sl = unb64(x.s, strlen(x.s), sig, sizeof(sig));
        sig[sl / 2] ^= 1;
        refused(eb_arena_printf(w.a, "%s.%s.%s", x.h, x.p, b64(sig, sl)));
        /* A changed header (typ), signature kept. */
        char *h2 = eb_arena_printf(w.a, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
                                   ALGS[i], kid);
        refused(eb_arena_printf(w.a, "%s.%s.%s", b64(h2, strlen(h2)), x.p, x.s));
        /* alg "none" with no signature, or with the original one. */
        char *hn = eb_arena_printf(w.a, "{\"alg\":\"none\",\"kid\":\"%s\"}", kid);
        refused(eb_arena_printf(w.a, "%s.%s.", b64(hn, strlen(hn)), x.p));
        refused(eb_arena_printf(w.a, "%s.%s.%s", b64(hn, strlen(hn)), x.p, x.s));
        /* The key's kid under another algorithm (algorithm confusion). */
        char *ha = eb_arena_printf(w.a, "{\"alg\":\"%s\",\"kid\":\"%s\"}", ALGS[(i + 1) % 3], kid);
        refused(eb_arena_printf(w.a, "%s.%s.%s", b64(ha, strlen(ha)), x.p, x.s));
        /* Unknown kid, padding, extra part, truncation. */
        char *hk = eb_arena_printf(w.a, "{\"alg\":\"%s\",\"kid\":\"nope\"}", ALGS[i]);
        refused(eb_arena_printf(w.a, "%s.%s.%s", b64(hk, strlen(hk)), x.p, x.s));
        refused(eb_arena_printf(w.a, "%s.%s.%s=", x.h, x.p, x.s));
        refused(eb_arena_printf(w.a, "%s.%s.%s.%s", x.h, x.p, x.s, x.s));
        refused(eb_arena_printf(w.a, "%s.%s", x.h, x.p));
        refused(eb_arena_strndup(w.a, jwt, strlen(jwt) - 2));
    }
    refused("");
    refused("...");
    refused("not a token");
}

static size_t n_jwks(void)
{
    json_t *j = eb_keys_jwks(w.k);
    size_t n = json_array_size(json_object_get(j, "keys"));
    json_decref(j);
    return n;
}

static void rotation_publishes_before_signing(void **state)
{
    (void)state;
    char *old_jwt = sign("ES256", NULL);
    const char *old_kid = kid_of(old_jwt);
    assert_int_equal(eb_keys_rotate(w.st, 3), 0);
    assert_int_equal(eb_keys_refresh(w.k), 0);
    /* Published at once ... */
    assert_int_equal(n_jwks(), 6);
    int64_t act = 0;
    struct eb_signing_key *rows = NULL;
    size_t n = 0;
    struct eb_db *db = eb_store_acquire(w.st);
    assert_int_equal(eb_store_keys_list(db, (int64_t)time(NULL), 0, w.a, &n, &rows), 0);
    eb_store_release(w.st, db);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].alg, "ES256") == 0 && strcmp(rows[i].kid, old_kid) != 0)
            act = rows[i].activates_at;
    assert_true(act > 0);
    /* ... but the old key still signs until the new one activates (under valgrind the
     * rotation itself may take longer than that). */
    if ((int64_t)time(NULL) < act - 1)
        assert_string_equal(kid_of(sign("ES256", NULL)), old_kid);
    while ((int64_t)time(NULL) < act)
        usleep(100 * 1000);
    const char *new_kid = kid_of(sign("ES256", NULL));
    assert_string_not_equal(new_kid, old_kid);
    json_t *jwks = eb_keys_jwks(w.k);
    assert_non_null(jwk_by_kid(jwks, new_kid));
    assert_non_null(jwk_by_kid(jwks, old_kid));
    json_decref(jwks);
    /* A token of the retired but still published key verifies. */
    json_t *claims = NULL;
    assert_int_equal(eb_keys_verify(w.k, old_jwt, &claims), 0);
    json_decref(claims);
}

static void refresh_sees_another_handles_rotation(void **state)
{
    (void)state;
    size_t before = n_jwks();
    struct eb_store *st2 = NULL;
    struct eb_store_options opt = {.pool_size = 1};
    assert_int_equal(eb_store_open(w.db_path, &opt, &st2), 0);
    /* Throttled: within the interval a refresh keeps what it has. */
    eb_keys_set_refresh_interval(w.k, 3600);
    assert_int_equal(eb_keys_rotate(st2, 0), 0);
    eb_store_close(st2);
    assert_int_equal(eb_keys_refresh(w.k), 0);
    assert_int_equal(n_jwks(), before);
    /* Due: the other handle's keys appear. */
    eb_keys_set_refresh_interval(w.k, 0);
    assert_int_equal(eb_keys_refresh(w.k), 0);
    assert_int_equal(n_jwks(), before + 3);
    /* A second handle loading the same database signs with the same keys. */
    struct eb_keys *k2 = NULL;
    assert_int_equal(eb_store_open(w.db_path, &opt, &st2), 0);
    assert_int_equal(eb_keys_load(st2, &k2), 0);
    sleep(1); /* the new keys activate one second after the ones before them at the latest */
    char *jwt = NULL;
    json_t *c = json_pack("{s:s}", "sub", "7");
    assert_int_equal(eb_keys_sign(k2, "EdDSA", NULL, c, w.a, &jwt), 0);
    json_decref(c);
    json_t *claims = NULL;
    assert_int_equal(eb_keys_verify(w.k, jwt, &claims), 0);
    json_decref(claims);
    assert_string_equal(kid_of(jwt), kid_of(sign("EdDSA", NULL)));
    eb_keys_free(k2);
    eb_store_close(st2);
}

EB_TEST_GROUP(keys)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_and_verify_every_alg),
        cmocka_unit_test(tampered_tokens_are_refused),
        cmocka_unit_test(rotation_publishes_before_signing),
        cmocka_unit_test(refresh_sees_another_handles_rotation),
    };
    return cmocka_run_group_tests_name("keys", tests, setup, teardown);
}
