/* Back-channel logout (OIDC Back-Channel Logout 1.0): logout tokens POSTed to relying parties. */
#include "oidc/oidc_int.h"

#include "app.h"
#include "auth/keys.h"
#include "core/log.h"
#include "core/mem.h"

#include <curl/curl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define LOGOUT_TOKEN_TTL_S 120
#define POST_TIMEOUT_MS    2000L
#define BACKCHANNEL_EVENT  "http://schemas.openid.net/event/backchannel-logout"

/* One logout token for one client; the worker thread owns it and frees it. */
struct delivery {
    struct delivery *next;
    char *client_id, *uri, *body;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

/* The HTTP status of one POST; 0 when the request failed (timeout, refused, bad URL). */
static long post_once(const struct delivery *d)
{
    long status = 0;
    CURL *c = curl_easy_init();
    if (!c)
        return 0;
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    curl_easy_setopt(c, CURLOPT_URL, d->uri);
    /* Only the registered http(s) URI itself: no redirects, no other protocols. */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, POST_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static void *deliver_all(void *arg)
{
    struct delivery *d = arg;
    while (d) {
        struct delivery *next = d->next;
        long status = post_once(d);
        /* Section 2.8: the RP answers 200 (or 204); one retry covers a passing hiccup. */
        if (status < 200 || status > 299)
            status = post_once(d);
        eb_log(status >= 200 && status <= 299 ? EB_LOG_INFO : EB_LOG_WARN,
               "oidc: back-channel logout to client %s: status %ld", d->client_id, status);
        eb_free(d->client_id);
        eb_free(d->uri);
        eb_free(d->body);
        eb_free(d);
        d = next;
    }
    return NULL;
}

static void free_all(struct delivery *d)
{
    while (d) {
        struct delivery *next = d->next;
        eb_free(d->client_id);
        eb_free(d->uri);
        eb_free(d->body);
        eb_free(d);
        d = next;
    }
}

/* A logout token (section 2.4) for one client, form-encoded; NULL when signing fails. */
static char *logout_body(struct eb_req *r, const struct eb_oidc_client *cl, int64_t account_id,
                         const char *sid)
{
    char jti[44];
    eb__oidc_random(jti);
    int64_t now = (int64_t)time(NULL);
    json_t *claims = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:{s:{}}}", "iss",
                               eb__oidc_issuer(r), "aud", cl->client_id, "iat", (json_int_t)now,
                               "exp", (json_int_t)(now + LOGOUT_TOKEN_TTL_S), "jti", jti, "sid",
                               sid, "events", BACKCHANNEL_EVENT);
    if (!claims)
        return NULL;
    if (account_id > 0)
        json_object_set_new(claims, "sub",
                            json_string(eb_arena_printf(r->arena, "%lld", (long long)account_id)));
    char *jwt = NULL;
    const char *alg = cl->id_token_alg ? cl->id_token_alg : "RS256";
    int rc = eb_keys_sign(r->app->keys, alg, "logout+jwt", claims, r->arena, &jwt);
    json_decref(claims);
    if (rc)
        return NULL;
    return eb_arena_printf(r->arena, "logout_token=%s", jwt);
}

void eb__oidc_backchannel_logout(struct eb_req *r, int64_t account_id, const char *sid,
                                 const char **client_ids, size_t n)
{
    struct delivery *list = NULL;
    for (size_t i = 0; i < n; i++) {
        struct eb_oidc_client cl = {0};
        if (eb_store_oidc_client_get(r->db, client_ids[i], r->arena, &cl) != 0)
            continue;
        const char *uri = cl.backchannel_logout_uri;
        if (!uri || (strncmp(uri, "https://", 8) != 0 && strncmp(uri, "http://", 7) != 0))
            continue;
        char *body = logout_body(r, &cl, account_id, sid);
        if (!body) {
            eb_log(EB_LOG_WARN, "oidc: no logout token for client %s", cl.client_id);
            continue;
        }
        struct delivery *d = eb_xcalloc(1, sizeof(*d));
        d->client_id = eb_xstrdup(cl.client_id);
        d->uri = eb_xstrdup(uri);
        d->body = eb_xstrdup(body);
        d->next = list;
        list = d;
    }
    if (!list)
        return;
    /* A detached worker, so that a slow relying party never holds up the logout answer. */
    pthread_once(&curl_once, curl_init);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, deliver_all, list) != 0) {
        eb_log(EB_LOG_WARN, "oidc: no thread for back-channel logout");
        free_all(list);
    }
    pthread_attr_destroy(&attr);
}
