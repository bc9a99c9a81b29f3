/* TOTP secrets at rest (table totp_secrets): enrolment, confirmation, used steps, removal. */
#include "store/store_int.h"

#include <string.h>

#include <jansson.h>

#include "core/err.h"

static const char SQL_TOTP_GET[] = "SELECT secret_sealed, created_at, confirmed_at, last_step"
                                   " FROM totp_secrets WHERE account_id = ?";
/* A restart replaces a pending secret but never a confirmed one: the WHERE of the upsert leaves
 * a confirmed row alone, and then no row comes back. */
static const char SQL_TOTP_BEGIN[] =
    "INSERT INTO totp_secrets (account_id, secret_sealed, created_at, confirmed_at, last_step)"
    " VALUES (?, ?, ?, NULL, 0) ON CONFLICT (account_id) DO UPDATE SET"
    " secret_sealed = excluded.secret_sealed, created_at = excluded.created_at, last_step = 0"
    " WHERE totp_secrets.confirmed_at IS NULL RETURNING account_id";
/* The sealed bytes (a random nonce each) name the secret the code was checked against, so that
 * a restart between the check and this update cannot confirm a secret the code never matched. */
static const char SQL_TOTP_CONFIRM[] =
    "UPDATE totp_secrets SET confirmed_at = ?, last_step = ? WHERE account_id = ?"
    " AND confirmed_at IS NULL AND secret_sealed = ? RETURNING account_id";
/* One statement decides whether a step is new: of two logins racing with one code, one wins. */
static const char SQL_TOTP_STEP[] =
    "UPDATE totp_secrets SET last_step = ? WHERE account_id = ? AND confirmed_at IS NOT NULL"
    " AND last_step < ? RETURNING account_id";
static const char SQL_TOTP_DELETE[] =
    "DELETE FROM totp_secrets WHERE account_id = ? RETURNING confirmed_at";

/* Where the caller's own TOTP events are filed in the audit: their first role, so that their
 * administrators see them (as for one's own password change). */
static const char *own_path(const struct eb_caller *c)
{
    return c->n_grants ? c->grants[0].org_path : NULL;
}

/* Runs a statement that returns at most one row; 1 when it returned one. */
static int one_row(struct eb__q *q, int64_t *col0)
{
    int rc = eb__q_step(q);
    if (rc == EB__STORE_ROW) {
        if (col0 != NULL)
            *col0 = eb__q_col_null(q, 0) ? 0 : eb__q_col_int(q, 0);
        rc = eb__q_exec(q);
        return rc < 0 ? rc : 1;
    }
    return rc < 0 ? rc : 0;
}

int eb_store_totp_get(struct eb_db *db, int64_t account_id, int want_secret, struct eb_arena *a,
                      struct eb_totp *out)
{
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    eb__q_start(db, SQL_TOTP_GET, &q);
    eb__q_int(&q, account_id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        size_t len = 0;
        const void *p = eb__q_col_blob(&q, 0, &len);
        unsigned char *copy = len ? eb_arena_alloc(a, len) : NULL;
        if (copy == NULL) {
            rc = len ? EB_ETOOBIG : EB_ESTORE;
        } else {
            memcpy(copy, p, len);
            out->sealed = copy;
            out->sealed_len = len;
            out->created_at = eb__q_col_int(&q, 1);
            out->confirmed_at = eb__q_col_null(&q, 2) ? 0 : eb__q_col_int(&q, 2);
            out->last_step = eb__q_col_int(&q, 3);
            rc = 0;
        }
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc == 0 && want_secret) {
        out->secret_b32 = eb__pii_open(db->store, out->sealed, out->sealed_len, a);
        if (out->secret_b32 == NULL)
            rc = EB_ESTORE;
    }
    return rc;
}

int eb_store_totp_begin(struct eb_db *db, const struct eb_caller *c, const char *secret_b32,
                        int64_t now)
{
    struct eb_arena *a = NULL;
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    struct eb__q q;
    int own = 0, rc;
    if (c->system || c->account_id <= 0)
        return EB_EDENIED;
    a = eb_arena_create(0);
    rc = eb__pii_seal(db->store, secret_b32, a, &sealed, &sealed_len);
    if (rc != 0)
        goto done;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    eb__q_start(db, SQL_TOTP_BEGIN, &q);
    eb__q_int(&q, c->account_id);
    eb__q_blob(&q, sealed, sealed_len);
    eb__q_int(&q, now);
    rc = one_row(&q, NULL);
    eb__q_end(&q);
    rc = rc < 0 ? rc : rc == 1 ? 0 : EB_EEXIST;
    if (rc == 0) /* never the secret: the audit log is read by people */
        rc = eb__audit_write(db, c, "totp.enrol", "account", c->account_id, own_path(c), NULL,
                             json_pack("{s:b}", "confirmed", 0));
    rc = eb__tx_leave(db, own, rc);
done:
    eb_arena_destroy(a);
    return rc;
}

int eb_store_totp_confirm(struct eb_db *db, const struct eb_caller *c, const struct eb_totp *t,
                          int64_t step, int64_t now)
{
    int own = 0, rc;
    if (c->system || c->account_id <= 0)
        return EB_EDENIED;
    if (t->sealed == NULL || t->sealed_len == 0)
        return EB_EINVAL;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    struct eb__q q;
    eb__q_start(db, SQL_TOTP_CONFIRM, &q);
    eb__q_int(&q, now);
    eb__q_int(&q, step);
    eb__q_int(&q, c->account_id);
    eb__q_blob(&q, t->sealed, t->sealed_len);
    rc = one_row(&q, NULL);
    eb__q_end(&q);
    rc = rc < 0 ? rc : rc == 1 ? 0 : EB_ECONFLICT;
    /* Sessions opened with the password alone end: from now on this account needs both. */
    if (rc == 0)
        rc = eb_store_session_delete_account(db, c->account_id);
    if (rc == 0)
        rc = eb__audit_write(db, c, "totp.enable", "account", c->account_id, own_path(c), NULL,
                             json_pack("{s:b, s:b}", "confirmed", 1, "sessions_ended", 1));
    return eb__tx_leave(db, own, rc);
}

int eb_store_totp_take_step(struct eb_db *db, int64_t account_id, int64_t step)
{
    struct eb__q q;
    eb__q_start(db, SQL_TOTP_STEP, &q);
    eb__q_int(&q, step);
    eb__q_int(&q, account_id);
    eb__q_int(&q, step);
    int rc = one_row(&q, NULL);
    eb__q_end(&q);
    return rc < 0 ? rc : rc == 1 ? 0 : EB_ECONFLICT;
}

int eb_store_totp_remove(struct eb_db *db, const struct eb_caller *c, int64_t account_id,
                         int *removed)
{
    struct eb_arena *a = NULL;
    struct eb__q q;
    const char *where = NULL;
    int64_t confirmed_at = 0;
    int own = 0, had = 0, rc, self = !c->system && c->account_id == account_id;
    if (removed != NULL)
        *removed = 0;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    if (self) {
        where = own_path(c);
    } else {
        /* The account rules of the administrators' routes: the caller manages the account when
         * every grant of it lies in the caller's write scope; else it answers like a missing one.
         */
        size_t n = 0;
        struct eb_grant *grants = NULL;
        int managed = 0;
        a = eb_arena_create(0);
        rc = eb_store_account_roles(db, c, account_id, a, &n, &grants, &managed);
        if (rc == 0 && !managed)
            rc = EB_ENOTFOUND;
        if (rc != 0)
            goto done;
        where = n ? grants[0].org_path : NULL;
    }
    eb__q_start(db, SQL_TOTP_DELETE, &q);
    eb__q_int(&q, account_id);
    rc = one_row(&q, &confirmed_at);
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    had = rc == 1;
    rc = 0;
    if (removed != NULL)
        *removed = had;
    /* A reset is for a lost phone: whoever holds the account's sessions may hold the phone. */
    if (!self)
        rc = eb_store_session_delete_account(db, account_id);
    if (rc == 0 && (had || !self))
        rc = eb__audit_write(db, c, self ? "totp.disable" : "totp.reset", "account", account_id,
                             where, json_pack("{s:b}", "enabled", had && confirmed_at != 0),
                             json_pack("{s:b, s:b}", "enabled", 0, "sessions_ended", !self));
done:
    eb_arena_destroy(a);
    return eb__tx_leave(db, own, rc);
}
