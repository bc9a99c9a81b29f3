/* Unit tests of src/oidc and src/store/store_oidc.c: single-use codes, refresh rotation,
 * revocation, app scope, and the exact-match helpers. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "oidc/oidc_int.h"
#include "store/store.h"

static struct {
    char dir[64], db_path[96];
    struct eb_store *st;
    struct eb_db *db;
    struct eb_arena *a;
    int64_t city, district;
} w;

static int setup(void **state)
{
    (void)state;
    memset(&w, 0, sizeof(w));
    snprintf(w.dir, sizeof(w.dir), "/tmp/eb_oidc_XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    snprintf(w.db_path, sizeof(w.db_path), "%s/t.db", w.dir);
    struct eb_store_options opt = {.pool_size = 1, .create = 1};
    assert_int_equal(eb_store_open(w.db_path, &opt, &w.st), 0);
    w.db = eb_store_acquire(w.st);
    w.a = eb_arena_create(0);
    struct eb_caller sys = {.system = 1, .no_audit = 1};
    struct eb_org city = {.kind = EB_ORG_CITY, .name = "示范市", .division_code = "370200"};
    assert_int_equal(eb_store_org_create(w.db, &sys, &city, &w.city), 0);
    struct eb_org d = {
        .kind = EB_ORG_DISTRICT, .parent_id = w.city, .name = "一区", .division_code = "370202"};
    assert_int_equal(eb_store_org_create(w.db, &sys, &d, &w.district), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[128];
    eb_store_release(w.st, w.db);
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

static void helpers_match_exactly(void **state)
{
    (void)state;
    const char *list = "https://a.test/cb\nhttps://b.test/cb?x=1";
    assert_true(eb__oidc_list_has(list, "https://a.test/cb"));
    assert_true(eb__oidc_list_has(list, "https://b.test/cb?x=1"));
    assert_false(eb__oidc_list_has(list, "https://a.test/cb/"));
    assert_false(eb__oidc_list_has(list, "https://a.test/c"));
    assert_false(eb__oidc_list_has(list, "https://A.test/cb"));
    assert_false(eb__oidc_list_has(list, ""));
    assert_true(eb__oidc_scope_has("openid  profile", "profile"));
    assert_false(eb__oidc_scope_has("openid profiles", "profile"));
    assert_false(eb__oidc_scope_has(NULL, "openid"));
    assert_string_equal(eb__oidc_urlencode(w.a, "a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    assert_string_equal(eb__oidc_html(w.a, "<a href=\"x\">'&"),
                        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
    char s1[33], s2[33];
    eb_oidc_sid("abc", s1);
    eb_oidc_sid("abd", s2);
    assert_int_equal(strlen(s1), 32);
    assert_string_not_equal(s1, s2);
}

static void codes_are_taken_once(void **state)
{
    (void)state;
    struct eb_oidc_code c = {.code_hash = "h1",
                             .client_id = "app",
                             .account_id = 5,
                             .redirect_uri = "https://a.test/cb",
                             .scope = "openid",
                             .sid = "s",
                             .auth_time = 100,
                             .expires_at = 200};
    assert_int_equal(eb_store_oidc_code_create(w.db, &c), 0);
    struct eb_oidc_code out;
    assert_int_equal(eb_store_oidc_code_take(w.db, "h1", w.a, &out), 0);
    assert_int_equal(out.used, 1);
    assert_int_equal(out.account_id, 5);
    assert_string_equal(out.redirect_uri, "https://a.test/cb");
    assert_null(out.code_challenge);
    assert_int_equal(eb_store_oidc_code_take(w.db, "h1", w.a, &out), 0);
    assert_int_equal(out.used, 2);
    assert_int_equal(eb_store_oidc_code_take(w.db, "nope", w.a, &out), EB_ENOTFOUND);
}

static void refresh_rotates_once_and_families_revoke(void **state)
{
    (void)state;
    struct eb_oidc_token t = {.token_hash = "r1",
                              .kind = EB_OIDC_REFRESH,
                              .client_id = "app",
                              .account_id = 5,
                              .scope = "openid",
                              .sid = "s1",
                              .family_id = "f",
                              .code_hash = "h1",
                              .expires_at = 9999999999,
                              .created_at = 100};
    assert_int_equal(eb_store_oidc_token_create(w.db, &t), 0);
    t.token_hash = "a1";
    t.kind = EB_OIDC_ACCESS;
    assert_int_equal(eb_store_oidc_token_create(w.db, &t), 0);
    int won = 0;
    assert_int_equal(eb_store_oidc_token_rotate(w.db, "r1", 150, &won), 0);
    assert_int_equal(won, 1);
    assert_int_equal(eb_store_oidc_token_rotate(w.db, "r1", 151, &won), 0);
    assert_int_equal(won, 0);
    /* An access token is never rotated. */
    assert_int_equal(eb_store_oidc_token_rotate(w.db, "a1", 150, &won), 0);
    assert_int_equal(won, 0);
    struct eb_oidc_token got;
    assert_int_equal(eb_store_oidc_token_get(w.db, "r1", w.a, &got), 0);
    assert_int_equal(got.rotated_at, 150);
    assert_string_equal(got.family_id, "f");
    int64_t n = -1;
    assert_int_equal(eb_store_oidc_family_rotated_since(w.db, "f", "r1", 150, &n), 0);
    assert_int_equal(n, 0);
    t.token_hash = "r2";
    t.kind = EB_OIDC_REFRESH;
    t.created_at = 150;
    assert_int_equal(eb_store_oidc_token_create(w.db, &t), 0);
    assert_int_equal(eb_store_oidc_token_rotate(w.db, "r2", 160, &won), 0);
    assert_int_equal(eb_store_oidc_family_rotated_since(w.db, "f", "r1", 150, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(eb_store_oidc_revoke_code(w.db, "h1"), 0);
    assert_int_equal(eb_store_oidc_token_get(w.db, "a1", w.a, &got), 0);
    assert_int_equal(got.revoked, 1);
    assert_int_equal(eb_store_oidc_token_get(w.db, "missing", w.a, &got), EB_ENOTFOUND);
}

static void apps_are_scoped(void **state)
{
    (void)state;
    struct eb_caller sys = {.system = 1};
    struct eb_oidc_client c = {.client_id = "dist-app",
                               .name = "区应用",
                               .redirect_uris = "https://a.test/cb",
                               .is_public = 1,
                               .org_id = w.district,
                               .roles = 1u << EB_ROLE_STUDENT};
    assert_int_equal(eb_store_oidc_client_create(w.db, &sys, &c), 0);
    assert_int_equal(eb_store_oidc_client_create(w.db, &sys, &c), EB_EEXIST);
    struct eb_oidc_client bad = c;
    bad.client_id = "bad";
    bad.secret_hash = "00"; /* a public client with a secret */
    assert_int_equal(eb_store_oidc_client_create(w.db, &sys, &bad), EB_EINVAL);

    char dpath[EB_PATH_MAX], cpath[EB_PATH_MAX];
    snprintf(dpath, sizeof(dpath), "/%lld/%lld/", (long long)w.city, (long long)w.district);
    snprintf(cpath, sizeof(cpath), "/%lld/", (long long)w.city);
    struct eb_grant student = {.role = EB_ROLE_STUDENT, .org_id = w.district};
    struct eb_grant teacher = {.role = EB_ROLE_TEACHER, .org_id = w.district};
    struct eb_grant cityadm = {.role = EB_ROLE_CITY_ADMIN, .org_id = w.city};
    memcpy(student.org_path, dpath, sizeof(dpath));
    memcpy(teacher.org_path, dpath, sizeof(dpath));
    memcpy(cityadm.org_path, cpath, sizeof(cpath));
    struct eb_caller cs = {.account_id = 1, .n_grants = 1, .grants = &student};
    struct eb_caller ct = {.account_id = 2, .n_grants = 1, .grants = &teacher};
    struct eb_caller ca = {.account_id = 3, .n_grants = 1, .grants = &cityadm};
    size_t n = 0;
    struct eb_oidc_client *items = NULL;
    assert_int_equal(eb_store_oidc_apps_for(w.db, &cs, w.a, &n, &items), 0);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].client_id, "dist-app");
    assert_int_equal(eb_store_oidc_apps_for(w.db, &ct, w.a, &n, &items), 0);
    assert_int_equal(n, 0);
    /* A teacher cannot manage it; the city administrator can. */
    assert_int_equal(eb_store_oidc_client_list(w.db, &ct, w.a, &n, &items), 0);
    assert_int_equal(n, 0);
    assert_int_equal(eb_store_oidc_client_delete(w.db, &ct, "dist-app"), EB_ENOTFOUND);
    assert_int_equal(eb_store_oidc_client_list(w.db, &ca, w.a, &n, &items), 0);
    assert_int_equal(n, 1);
    assert_int_equal(eb_store_oidc_client_delete(w.db, &ca, "dist-app"), 0);
    struct eb_oidc_client gone;
    assert_int_equal(eb_store_oidc_client_get(w.db, "dist-app", w.a, &gone), EB_ENOTFOUND);
}

static void claims_parameter_is_checked(void **state)
{
    (void)state;
    json_t *doc = NULL;
    assert_int_equal(eb__oidc_claims_parse(NULL, &doc), 0);
    assert_null(doc);
    const char *good = "{\"userinfo\":{\"name\":{\"essential\":true},\"email\":null},"
                       "\"id_token\":{\"acr\":{\"values\":[\"2\",\"1\"]},"
                       "\"auth_time\":{\"essential\":true}},\"x-ext\":1}";
    assert_int_equal(eb__oidc_claims_parse(good, &doc), 0);
    assert_non_null(doc);
    assert_true(json_is_true(
        json_object_get(json_object_get(json_object_get(doc, "userinfo"), "name"), "essential")));
    json_decref(doc);
    const char *bad[] = {
        "{",                                           /* not JSON */
        "[]",                                          /* not an object */
        "{\"userinfo\":[\"name\"]}",                   /* a member that is not an object */
        "{\"id_token\":{\"acr\":\"2\"}}",              /* a request that is not null/object */
        "{\"id_token\":{\"acr\":{\"essential\":1}}}",  /* essential not a boolean */
        "{\"id_token\":{\"acr\":{\"values\":\"2\"}}}", /* values not an array */
        "{\"userinfo\":{},\"userinfo\":{}}",           /* a duplicated member */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        doc = NULL;
        assert_int_equal(eb__oidc_claims_parse(bad[i], &doc), EB_EINVAL);
        assert_null(doc);
    }
    char big[EB_OIDC_CLAIMS_MAX + 64];
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '{';
    big[sizeof(big) - 2] = '}';
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(eb__oidc_claims_parse(big, &doc), EB_EINVAL);
    /* Which scope each claim belongs to decides what a consent must cover. */
    assert_string_equal(eb__oidc_claim_scope("name"), "profile");
    assert_string_equal(eb__oidc_claim_scope("phone_number"), "phone");
    assert_string_equal(eb__oidc_claim_scope("student_no"), "edubrain");
    assert_null(eb__oidc_claim_scope("acr"));
    assert_null(eb__oidc_claim_scope("citizen_id"));
}

static void grants_carry_claims_amr_and_acr(void **state)
{
    (void)state;
    const char *claims = "{\"id_token\":{\"name\":null}}";
    struct eb_oidc_code c = {.code_hash = "hc",
                             .client_id = "app",
                             .account_id = 7,
                             .redirect_uri = "https://a.test/cb",
                             .scope = "openid",
                             .sid = "s",
                             .auth_time = 100,
                             .expires_at = 200,
                             .claims = claims,
                             .amr = "pwd otp",
                             .acr = "2"};
    assert_int_equal(eb_store_oidc_code_create(w.db, &c), 0);
    struct eb_oidc_code out;
    assert_int_equal(eb_store_oidc_code_take(w.db, "hc", w.a, &out), 0);
    assert_string_equal(out.claims, claims);
    assert_string_equal(out.amr, "pwd otp");
    assert_string_equal(out.acr, "2");
    struct eb_oidc_token t = {.token_hash = "rc",
                              .kind = EB_OIDC_REFRESH,
                              .client_id = "app",
                              .account_id = 7,
                              .scope = "openid",
                              .family_id = "fc",
                              .expires_at = 9999999999,
                              .claims = out.claims,
                              .amr = out.amr,
                              .acr = out.acr};
    assert_int_equal(eb_store_oidc_token_create(w.db, &t), 0);
    struct eb_oidc_token got;
    assert_int_equal(eb_store_oidc_token_get(w.db, "rc", w.a, &got), 0);
    assert_string_equal(got.claims, claims);
    assert_string_equal(got.amr, "pwd otp");
    assert_string_equal(got.acr, "2");
    /* client_credentials tokens have no login: NULL stays NULL. */
    t.token_hash = "cc";
    t.claims = t.amr = t.acr = NULL;
    assert_int_equal(eb_store_oidc_token_create(w.db, &t), 0);
    assert_int_equal(eb_store_oidc_token_get(w.db, "cc", w.a, &got), 0);
    assert_null(got.claims);
    assert_null(got.amr);
    assert_null(got.acr);
}

static void the_test_clock_moves(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/clock", w.dir);
    setenv("EDUBRAIN_TEST_CLOCK_FILE", path, 1);
    int64_t base = eb__oidc_now();
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("31\n", f);
    fclose(f);
    int64_t moved = eb__oidc_now();
    assert_true(moved - base >= 31 && moved - base <= 33);
    unlink(path);
    assert_true(eb__oidc_now() - base <= 2);
    unsetenv("EDUBRAIN_TEST_CLOCK_FILE");
}

EB_TEST_GROUP(oidc)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(helpers_match_exactly),
        cmocka_unit_test(codes_are_taken_once),
        cmocka_unit_test(refresh_rotates_once_and_families_revoke),
        cmocka_unit_test(apps_are_scoped),
        cmocka_unit_test(claims_parameter_is_checked),
        cmocka_unit_test(grants_carry_claims_amr_and_acr),
        cmocka_unit_test(the_test_clock_moves),
    };
    return cmocka_run_group_tests_name("oidc", tests, setup, teardown);
}
