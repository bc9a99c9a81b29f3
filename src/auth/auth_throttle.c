/*
 * Failed-login throttling with escalating delays, never a lock-out.
 *
 * Three counters, each with its own free attempts and delay cap:
 *   login+address  5 free, then 1 s, 2 s, 4 s ... up to 15 min (a guesser at one machine);
 *   address       30 free, then up to 5 min (one machine trying many accounts; a school's
 *                 NAT shares an address, so the free allowance is generous);
 *   login         50 free, then up to 60 s (a distributed guess at one account).
 * The per-login cap is short on purpose: a student who mistypes a teacher's login on purpose
 * can delay that teacher by at most a minute from another machine, never lock them out.
 * Failures are forgotten 15 minutes after the last one. Counters live in the store so that all
 * server processes share them.
 */
#include "auth/auth_int.h"
#include "app.h"
#include "core/err.h"

#include <stdatomic.h>
#include <stdio.h>

#define WINDOW_S (15 * 60)

struct policy {
    const char *prefix;
    int64_t free_attempts, cap_s;
    int uses_login, uses_addr;
};

static const struct policy login_policies[] = {
    {"la:", 5, 15 * 60, 1, 1},
    {"a:", 30, 5 * 60, 0, 1},
    {"l:", 50, 60, 1, 0},
};

/* A wrong client secret at the OIDC token endpoints counts like a failed login, keyed by the
 * client id and the client address, so that guessing one client's secret never slows another
 * client (or the same client's server at another address) down. */
static const struct policy client_policies[] = {
    {"ca:", 5, 15 * 60, 1, 1},
};

int64_t eb__auth_throttle_delay(int64_t failures, int64_t free_attempts, int64_t cap_s)
{
    if (failures < free_attempts)
        return 0;
    int64_t over = failures - free_attempts;
    if (over >= 30)
        return cap_s;
    int64_t d = (int64_t)1 << over;
    return d < cap_s ? d : cap_s;
}

static void make_key(char *key, size_t size, const struct policy *p, const char *login,
                     const char *addr)
{
    snprintf(key, size, "%s%s%s%s", p->prefix, p->uses_login ? login : "",
             p->uses_login && p->uses_addr ? "|" : "", p->uses_addr ? addr : "");
}

static int throttle_check(struct eb_db *db, const struct policy *pol, size_t n, const char *login,
                          const char *addr, int64_t now, int64_t *wait_s)
{
    *wait_s = 0;
    for (size_t i = 0; i < n; i++) {
        char key[512];
        make_key(key, sizeof(key), &pol[i], login, addr);
        int64_t count = 0, last = 0;
        int rc = eb_store_throttle_get(db, key, &count, &last);
        if (rc == EB_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        if (now - last > WINDOW_S)
            continue;
        int64_t delay = eb__auth_throttle_delay(count, pol[i].free_attempts, pol[i].cap_s);
        int64_t wait = last + delay - now;
        if (wait > *wait_s)
            *wait_s = wait;
    }
    return 0;
}

static int throttle_fail(struct eb_db *db, const struct policy *pol, size_t n, const char *login,
                         const char *addr, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        char key[512];
        make_key(key, sizeof(key), &pol[i], login, addr);
        int64_t count = 0, last = 0;
        int rc = eb_store_throttle_get(db, key, &count, &last);
        if (rc == 0 && now - last > WINDOW_S)
            eb_store_throttle_clear(db, key);
        rc = eb_store_throttle_fail(db, key, now, &count, &last);
        if (rc)
            return rc;
    }
    return 0;
}

static int throttle_success(struct eb_db *db, const struct policy *pol, size_t n, const char *login,
                            const char *addr)
{
    /* Success clears this login's counters; the address counter keeps counting other logins. */
    for (size_t i = 0; i < n; i++) {
        if (!pol[i].uses_login)
            continue;
        char key[512];
        make_key(key, sizeof(key), &pol[i], login, addr);
        int rc = eb_store_throttle_clear(db, key);
        if (rc && rc != EB_ENOTFOUND)
            return rc;
    }
    return 0;
}

#define NPOL(a) (sizeof(a) / sizeof((a)[0]))

int eb__auth_throttle_check(struct eb_db *db, const char *login, const char *addr, int64_t now,
                            int64_t *wait_s)
{
    return throttle_check(db, login_policies, NPOL(login_policies), login, addr, now, wait_s);
}

int eb__auth_throttle_fail(struct eb_db *db, const char *login, const char *addr, int64_t now)
{
    return throttle_fail(db, login_policies, NPOL(login_policies), login, addr, now);
}

int eb__auth_throttle_success(struct eb_db *db, const char *login, const char *addr)
{
    return throttle_success(db, login_policies, NPOL(login_policies), login, addr);
}

int eb_auth_client_throttle_check(struct eb_db *db, const char *client_id, const char *addr,
                                  int64_t now, int64_t *wait_s)
{
    return throttle_check(db, client_policies, NPOL(client_policies), client_id, addr, now, wait_s);
}

int eb_auth_client_throttle_fail(struct eb_db *db, const char *client_id, const char *addr,
                                 int64_t now)
{
    return throttle_fail(db, client_policies, NPOL(client_policies), client_id, addr, now);
}

int eb_auth_client_throttle_success(struct eb_db *db, const char *client_id, const char *addr)
{
    return throttle_success(db, client_policies, NPOL(client_policies), client_id, addr);
}

int eb__auth_throttle_gate(struct eb_req *r, const char *key, int64_t now)
{
    int64_t wait_s = 0;
    int rc = eb__auth_throttle_check(r->db, key, r->client_addr, now, &wait_s);
    if (rc)
        return rc;
    if (wait_s <= 0)
        return 0;
    if (r->app)
        atomic_fetch_add(&r->app->metrics.logins_throttled, 1);
    eb_http_add_header(r, "Retry-After", eb_arena_printf(r->arena, "%lld", (long long)wait_s));
    eb_http_error(r, 429, "throttled",
                  eb_arena_printf(r->arena, "retry after %lld s", (long long)wait_s));
    return 1;
}
