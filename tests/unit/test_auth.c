/* Unit tests of src/auth: password hashing and rules, throttling delays, CSRF comparison, TOTP. */
#include "unit.h"

#include <string.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "core/err.h"
#include "core/mem.h"

static void password_hash_verifies_only_the_right_password(void **state)
{
    (void)state;
    char *h = eb_auth_password_hash("Correct-horse-9");
    assert_non_null(h);
    assert_true(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    assert_int_equal(eb_auth_password_verify(h, "Correct-horse-9"), 0);
    assert_int_equal(eb_auth_password_verify(h, "correct-horse-9"), EB_EAUTH);
    assert_int_equal(eb_auth_password_verify(h, ""), EB_EAUTH);
    assert_int_equal(eb_auth_password_verify(NULL, "Correct-horse-9"), EB_EAUTH);
    assert_int_equal(eb_auth_password_verify("not-a-hash", "Correct-horse-9"), EB_EAUTH);
    /* The same password hashes differently each time (random salt). */
    char *h2 = eb_auth_password_hash("Correct-horse-9");
    assert_string_not_equal(h, h2);
    eb_free(h);
    eb_free(h2);
}

static void password_rules(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(eb_auth_password_check_rules("short1A", &why), EB_EINVAL);
    assert_string_equal(why, "password_too_short");
    assert_int_equal(eb_auth_password_check_rules("alllowercase", &why), EB_EINVAL);
    assert_string_equal(why, "password_too_simple");
    assert_int_equal(eb_auth_password_check_rules("12345678", &why), EB_EINVAL);
    assert_int_equal(eb_auth_password_check_rules("lower-and-dash", &why), 0);
    assert_int_equal(eb_auth_password_check_rules("教育平台密码2026", &why), 0);
    char longpw[300];
    memset(longpw, 'a', sizeof(longpw) - 2);
    longpw[sizeof(longpw) - 2] = '1';
    longpw[sizeof(longpw) - 1] = '\0';
    assert_int_equal(eb_auth_password_check_rules(longpw, &why), EB_EINVAL);
    assert_string_equal(why, "password_too_long");
}

static void throttle_delays_escalate_and_are_capped(void **state)
{
    (void)state;
    /* Five free attempts, then 1, 2, 4 ... seconds, never more than the cap. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(eb__auth_throttle_delay(i, 5, 900), 0);
    assert_int_equal(eb__auth_throttle_delay(5, 5, 900), 1);
    assert_int_equal(eb__auth_throttle_delay(6, 5, 900), 2);
    assert_int_equal(eb__auth_throttle_delay(9, 5, 900), 16);
    assert_int_equal(eb__auth_throttle_delay(15, 5, 900), 900);
    assert_int_equal(eb__auth_throttle_delay(1000000, 5, 900), 900);
    assert_int_equal(eb__auth_throttle_delay(1000000, 50, 60), 60);
}

static void tokens_are_random_and_hashes_stable(void **state)
{
    (void)state;
    char a[64], b[64], ha[65], ha2[65];
    eb__auth_random_token(a, sizeof(a));
    eb__auth_random_token(b, sizeof(b));
    assert_int_equal(strlen(a), 43); /* 32 bytes in unpadded base64url */
    assert_string_not_equal(a, b);
    eb__auth_hash_token(a, ha);
    eb__auth_hash_token(a, ha2);
    assert_string_equal(ha, ha2);
    assert_int_equal(strlen(ha), 64);
    eb__auth_hash_token("abc", ha);
    assert_string_equal(ha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void csrf_needs_the_exact_token(void **state)
{
    (void)state;
    struct eb_req r;
    memset(&r, 0, sizeof(r));
    r.arena = eb_arena_create(0);
    /* Without a session token nothing passes, whatever the header says. */
    assert_int_equal(eb_auth_check_csrf(&r), EB_EDENIED);
    r.csrf_token = "token-123";
    assert_int_equal(eb_auth_check_csrf(&r), EB_EDENIED);
    eb_arena_destroy(r.arena);
}

/* RFC 6238 Appendix B, the SHA1 rows: the seed is the ASCII "12345678901234567890". */
static void totp_rfc6238_sha1_vectors(void **state)
{
    (void)state;
    static const struct {
        int64_t t;
        const char *code;
    } vectors[] = {
        {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
        {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
    };
    const unsigned char *key = (const unsigned char *)"12345678901234567890";
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char out[9];
        assert_int_equal(eb__totp_code(key, 20, vectors[i].t, 8, out), 0);
        assert_string_equal(out, vectors[i].code);
        /* Six digits are the last six of the same truncation (RFC 4226 5.3). */
        assert_int_equal(eb__totp_code(key, 20, vectors[i].t, 6, out), 0);
        assert_string_equal(out, vectors[i].code + 2);
    }
    char out[9];
    assert_int_equal(eb__totp_code(key, 20, 59, 5, out), EB_EINVAL);
    assert_int_equal(eb__totp_code(key, 0, 59, 6, out), EB_EINVAL);
}

static void totp_accepts_one_step_either_side(void **state)
{
    (void)state;
    const unsigned char *key = (const unsigned char *)"12345678901234567890";
    const int64_t now = 1111111111; /* step 37037037, 1 s into it */
    const int64_t cur = now / EB_TOTP_STEP_S;
    char code[9];
    int64_t step = -1;
    for (int64_t d = -1; d <= 1; d++) {
        assert_int_equal(eb__totp_code(key, 20, (cur + d) * EB_TOTP_STEP_S, 6, code), 0);
        assert_int_equal(eb__totp_match(key, 20, now, code, 0, &step), 0);
        assert_int_equal(step, cur + d);
    }
    /* Two steps away is too far, both ways. */
    for (int64_t d = -2; d <= 2; d += 4) {
        assert_int_equal(eb__totp_code(key, 20, (cur + d) * EB_TOTP_STEP_S, 6, code), 0);
        assert_int_equal(eb__totp_match(key, 20, now, code, 0, &step), EB_EAUTH);
    }
    /* The spaces apps show are ignored; anything else that is not six digits is wrong. */
    assert_int_equal(eb__totp_code(key, 20, now, 6, code), 0);
    char spaced[12] = {code[0], code[1], code[2], ' ', code[3], code[4], code[5], '\0'};
    assert_int_equal(eb__totp_match(key, 20, now, spaced, 0, &step), 0);
    assert_int_equal(step, cur);
    char longer[12] = {code[0], code[1], code[2], code[3], code[4], code[5], '0', '\0'};
    assert_int_equal(eb__totp_match(key, 20, now, longer, 0, &step), EB_EAUTH);
    assert_int_equal(eb__totp_match(key, 20, now, "", 0, &step), EB_EAUTH);
    assert_int_equal(eb__totp_match(key, 20, now, NULL, 0, &step), EB_EAUTH);
    assert_int_equal(eb__totp_match(key, 20, now, "12a456", 0, &step), EB_EAUTH);
    /* Another key's code does not match. */
    const unsigned char *other = (const unsigned char *)"09876543210987654321";
    assert_int_equal(eb__totp_code(other, 20, now, 6, code), 0);
    char mine[9];
    assert_int_equal(eb__totp_code(key, 20, now, 6, mine), 0);
    if (strcmp(code, mine) != 0)
        assert_int_equal(eb__totp_match(key, 20, now, code, 0, &step), EB_EAUTH);
}

static void totp_refuses_replayed_steps(void **state)
{
    (void)state;
    const unsigned char *key = (const unsigned char *)"12345678901234567890";
    const int64_t now = 1234567890;
    const int64_t cur = now / EB_TOTP_STEP_S;
    char code[9];
    int64_t step = -1;
    assert_int_equal(eb__totp_code(key, 20, now, 6, code), 0);
    /* Taken once (last_step = cur), the same code is a replay, not merely wrong. */
    assert_int_equal(eb__totp_match(key, 20, now, code, cur - 1, &step), 0);
    assert_int_equal(step, cur);
    assert_int_equal(eb__totp_match(key, 20, now, code, cur, &step), EB_ECONFLICT);
    /* A later step's code was taken: every earlier one is refused too (RFC 6238 5.2). */
    assert_int_equal(eb__totp_match(key, 20, now, code, cur + 1, &step), EB_ECONFLICT);
    /* The next step's code still works after the current one was taken. */
    assert_int_equal(eb__totp_code(key, 20, now + EB_TOTP_STEP_S, 6, code), 0);
    assert_int_equal(eb__totp_match(key, 20, now, code, cur, &step), 0);
    assert_int_equal(step, cur + 1);
    /* Half a minute later the window has moved on: the old step's code is plain wrong. */
    assert_int_equal(eb__totp_code(key, 20, now - EB_TOTP_STEP_S, 6, code), 0);
    assert_int_equal(eb__totp_match(key, 20, now + 2 * EB_TOTP_STEP_S, code, 0, &step), EB_EAUTH);
}

EB_TEST_GROUP(auth)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(password_hash_verifies_only_the_right_password),
        cmocka_unit_test(password_rules),
        cmocka_unit_test(throttle_delays_escalate_and_are_capped),
        cmocka_unit_test(tokens_are_random_and_hashes_stable),
        cmocka_unit_test(csrf_needs_the_exact_token),
        cmocka_unit_test(totp_rfc6238_sha1_vectors),
        cmocka_unit_test(totp_accepts_one_step_either_side),
        cmocka_unit_test(totp_refuses_replayed_steps),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
