/* Password hashing with argon2id (libsodium) and the rules for chosen passwords. */
#include "auth/auth.h"
#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"

#include <string.h>
#include <time.h>

#include <sodium.h>

/*
 * argon2id with t=2 passes over 19 MiB (OWASP's recommended minimum, RFC 9106's "second
 * choice" family). Measured here: ~35 ms per hash on one core, so two cores verify ~50 logins
 * per second during the 8 a.m. rush while an offline attacker still pays 19 MiB per guess.
 * Stronger settings (libsodium MODERATE: 256 MiB, 700 ms) would cap a whole city's morning at
 * ~3 logins/s. The parameters live in the encoded hash, so they can be raised later and old
 * hashes still verify; docs/SECURITY.md keeps the reasoning.
 */
#define EB_PWHASH_OPSLIMIT 2
#define EB_PWHASH_MEMLIMIT (19u * 1024u * 1024u)
#define EB_PASSWORD_MAX    256

char *eb_auth_password_hash(const char *password)
{
    if (sodium_init() < 0)
        return NULL;
    size_t len = strlen(password);
    if (len > EB_PASSWORD_MAX)
        return NULL;
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password, len, EB_PWHASH_OPSLIMIT, EB_PWHASH_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return NULL;
    return eb_xstrdup(out);
}

int eb_auth_password_verify(const char *hash, const char *password)
{
    if (!hash || !password || sodium_init() < 0)
        return EB_EAUTH;
    /* An account not yet activated holds its one-time code's SHA-256 (store_activation.c). */
    if (eb_otc_is_code(hash))
        return eb_otc_verify(hash, password, (int64_t)time(NULL));
    size_t len = strlen(password);
    if (len > EB_PASSWORD_MAX)
        return EB_EAUTH;
    return crypto_pwhash_str_verify(hash, password, len) == 0 ? 0 : EB_EAUTH;
}

/* Rules for a password a person chooses: long enough and not trivially guessable. */
int eb_auth_password_check_rules(const char *password, const char **why)
{
    size_t len = strlen(password);
    int classes = 0, lower = 0, upper = 0, digit = 0, other = 0;
    for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
        if (*p >= 'a' && *p <= 'z')
            lower = 1;
        else if (*p >= 'A' && *p <= 'Z')
            upper = 1;
        else if (*p >= '0' && *p <= '9')
            digit = 1;
        else
            other = 1;
    }
    classes = lower + upper + digit + other;
    if (len < 8) {
        *why = "password_too_short";
        return EB_EINVAL;
    }
    if (len > EB_PASSWORD_MAX) {
        *why = "password_too_long";
        return EB_EINVAL;
    }
    if (classes < 2) {
        *why = "password_too_simple";
        return EB_EINVAL;
    }
    return 0;
}
