/* The OIDC signing keys at rest: the oidc_keys table, private halves sealed with a store subkey. */
#include "store/store_int.h"

#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/err.h"
#include "core/mem.h"

/* The private keys are sealed with their own subkey of the store's secret key, so that a sealed
 * key and a sealed citizen ID never share a key (and nonce space). */
#define KDF_ID  2
#define KDF_CTX "ebkeys__"

static const char SQL_KEYS_LIST[] = "SELECT kid, alg, public_jwk, created_at, activates_at,"
                                    " removes_at, private_sealed FROM oidc_keys"
                                    " WHERE removes_at IS NULL OR removes_at > ?"
                                    " ORDER BY activates_at, created_at, kid";
static const char SQL_KEYS_ANY[] = "SELECT kid FROM oidc_keys WHERE alg = ? LIMIT 1";
static const char SQL_KEY_INSERT[] =
    "INSERT INTO oidc_keys (kid, alg, public_jwk, private_sealed, created_at, activates_at)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_KEYS_RETIRE[] =
    "UPDATE oidc_keys SET removes_at = ? WHERE alg = ? AND kid <> ? AND removes_at IS NULL";
static const char SQL_KEYS_PURGE[] = "DELETE FROM oidc_keys WHERE removes_at IS NOT NULL"
                                     " AND removes_at <= ?";

static void subkey(const struct eb_store *st, unsigned char key[crypto_secretbox_KEYBYTES])
{
    crypto_kdf_derive_from_key(key, crypto_secretbox_KEYBYTES, KDF_ID, KDF_CTX, st->pii_key);
}

int eb_store_keys_list(struct eb_db *db, int64_t now, int want_sealed, struct eb_arena *a,
                       size_t *n, struct eb_signing_key **items)
{
    struct eb__q q;
    size_t cap = 0, count = 0;
    struct eb_signing_key *arr = NULL;
    int rc;
    eb__q_start(db, SQL_KEYS_LIST, &q);
    eb__q_int(&q, now);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        arr = eb_arena_grow(a, arr, count, &cap, sizeof(*arr));
        if (arr == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_signing_key *k = &arr[count++];
        memset(k, 0, sizeof(*k));
        k->kid = eb__q_col_str(&q, 0, a);
        k->alg = eb__q_col_str(&q, 1, a);
        k->public_jwk = eb__q_col_str(&q, 2, a);
        k->created_at = eb__q_col_int(&q, 3);
        k->activates_at = eb__q_col_int(&q, 4);
        k->removes_at = eb__q_col_null(&q, 5) ? 0 : eb__q_col_int(&q, 5);
        if (want_sealed) {
            size_t len = 0;
            const void *p = eb__q_col_blob(&q, 6, &len);
            unsigned char *copy = len ? eb_arena_alloc(a, len) : NULL;
            if (copy == NULL) {
                rc = EB_ESTORE;
                break;
            }
            memcpy(copy, p, len);
            k->sealed = copy;
            k->sealed_len = len;
        }
        if (k->kid == NULL || k->alg == NULL || k->public_jwk == NULL) {
            rc = EB_ESTORE;
            break;
        }
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    *n = count;
    *items = arr;
    return 0;
}

int eb_store_key_add(struct eb_db *db, const struct eb_caller *c, const struct eb_signing_key *k,
                     const unsigned char *private_der, size_t der_len, int64_t retire_at)
{
    const struct eb_store *st = db->store;
    struct eb__q q;
    unsigned char key[crypto_secretbox_KEYBYTES];
    unsigned char *sealed = NULL;
    size_t sealed_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + der_len;
    int own = 0, rc = 0;
    if (c == NULL || !c->system)
        return EB_EDENIED;
    if (k == NULL || k->kid == NULL || k->alg == NULL || k->public_jwk == NULL ||
        private_der == NULL || der_len == 0 || der_len > 16384)
        return EB_EINVAL;
    if (!st->has_pii_key)
        return EB_EINTERNAL;
    sealed = eb_xmalloc(sealed_len);
    subkey(st, key);
    randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, private_der, der_len, sealed, key);
    sodium_memzero(key, sizeof(key));

    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    if (retire_at == -1) {
        eb__q_start(db, SQL_KEYS_ANY, &q);
        eb__q_text(&q, k->alg);
        rc = eb__q_step(&q);
        eb__q_end(&q);
        if (rc == EB__STORE_ROW)
            rc = EB_EEXIST;
    }
    if (rc >= 0) {
        eb__q_start(db, SQL_KEY_INSERT, &q);
        eb__q_text(&q, k->kid);
        eb__q_text(&q, k->alg);
        eb__q_text(&q, k->public_jwk);
        eb__q_blob(&q, sealed, sealed_len);
        eb__q_int(&q, k->created_at);
        eb__q_int(&q, k->activates_at);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
    }
    if (rc >= 0 && retire_at > 0) {
        eb__q_start(db, SQL_KEYS_RETIRE, &q);
        eb__q_int(&q, retire_at);
        eb__q_text(&q, k->alg);
        eb__q_text(&q, k->kid);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
    }
    if (rc >= 0) {
        eb__q_start(db, SQL_KEYS_PURGE, &q);
        eb__q_int(&q, k->created_at);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
    }
    rc = rc < 0 ? rc : 0;
    if (rc == 0) {
        /* The audit names the key, never any of its material. */
        json_t *after =
            json_pack("{s:s, s:s, s:I, s:I}", "kid", k->kid, "alg", k->alg, "activates_at",
                      (json_int_t)k->activates_at, "retire_others_at", (json_int_t)retire_at);
        rc = eb__audit_write(db, c, "oidc_key.add", "oidc_key", 0, NULL, NULL, after);
    }
    rc = eb__tx_leave(db, own, rc);
done:
    eb_free(sealed);
    return rc;
}

int eb_store_key_unseal(const struct eb_store *st, const unsigned char *sealed, size_t len,
                        unsigned char *out, size_t cap, size_t *out_len)
{
    size_t over = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    unsigned char key[crypto_secretbox_KEYBYTES];
    if (!st->has_pii_key || sealed == NULL || len <= over)
        return EB_EINVAL;
    if (cap < len - over)
        return EB_ETOOBIG;
    subkey(st, key);
    int r = crypto_secretbox_open_easy(out, sealed + crypto_secretbox_NONCEBYTES,
                                       len - crypto_secretbox_NONCEBYTES, sealed, key);
    sodium_memzero(key, sizeof(key));
    if (r != 0)
        return EB_EAUTH;
    *out_len = len - over;
    return 0;
}
