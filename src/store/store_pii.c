/* Citizen ID numbers at rest: the key file, secretbox sealing, the keyed blind index, masking. */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "core/log.h"

#define KEY_LEN   crypto_secretbox_KEYBYTES
#define PLAIN_MAX 64 /* longer input is refused: IDs are 18 characters */

static int read_full(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return EB_EIO;
        got += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const unsigned char *p, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t r = write(fd, p + put, n - put);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return EB_EIO;
        put += (size_t)r;
    }
    return 0;
}

/* Reads the key of an existing file into st; 0, or EB_ENOTFOUND when there is no file. */
static int read_key(struct eb_store *st, const char *key_file)
{
    int fd = open(key_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return EB_ENOTFOUND;
    if (fd < 0) {
        eb_error("store: cannot read key file %s: %s", key_file, strerror(errno));
        return EB_EIO;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0)
        eb_warn("store: key file %s is readable by others; chmod 600 it", key_file);
    int rc = read_full(fd, st->pii_key, KEY_LEN);
    if (rc != 0)
        eb_error("store: key file %s is shorter than %d bytes", key_file, KEY_LEN);
    close(fd);
    return rc;
}

/*
 * Writes a new key to key_file, whole or not at all: into a temporary file beside it, then
 * link(2)ed to the name. Two processes opening a fresh database race here; link refuses the
 * second (EEXIST), which then reads the first one's key, and nobody ever reads a key file that
 * is still being written.
 */
static int create_key(struct eb_store *st, const char *key_file)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", key_file) >= (int)sizeof(tmp))
        return EB_EINVAL;
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0) {
        eb_error("store: cannot create key file %s: %s", key_file, strerror(errno));
        return EB_EIO;
    }
    crypto_secretbox_keygen(st->pii_key);
    int rc = write_full(fd, st->pii_key, KEY_LEN);
    if (rc == 0 && fsync(fd) != 0)
        rc = EB_EIO;
    close(fd);
    if (rc == 0 && link(tmp, key_file) != 0) {
        if (errno == EEXIST) {
            rc = read_key(st, key_file);
        } else {
            eb_error("store: cannot create key file %s: %s", key_file, strerror(errno));
            rc = EB_EIO;
        }
    }
    unlink(tmp);
    return rc;
}

int eb__pii_load_key(struct eb_store *st, const char *key_file, int may_create)
{
    if (sodium_init() < 0)
        return EB_EINTERNAL;
    int rc = read_key(st, key_file);
    if (rc == EB_ENOTFOUND && may_create) {
        rc = create_key(st, key_file);
    } else if (rc == EB_ENOTFOUND) {
        eb_error("store: cannot read key file %s (the database holds sealed citizen IDs)",
                 key_file);
        rc = EB_EIO;
    }
    if (rc == 0) {
        /* The blind index uses its own subkey, so an index value says nothing about the
         * secretbox key. */
        crypto_kdf_derive_from_key(st->blind_key, sizeof(st->blind_key), 1, "ebblind_",
                                   st->pii_key);
        st->has_pii_key = 1;
    }
    return rc;
}

int eb__pii_seal_buf(const struct eb_store *st, const char *plain, unsigned char *out, size_t cap,
                     size_t *out_len)
{
    size_t n = strlen(plain);
    if (n == 0 || n > PLAIN_MAX)
        return EB_EINVAL;
    size_t need = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    if (!st->has_pii_key || cap < need)
        return EB_EINTERNAL;
    /* A random nonce per value: the same ID sealed twice gives different bytes. */
    randombytes_buf(out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n, out,
                          st->pii_key);
    *out_len = need;
    return 0;
}

int eb__pii_seal(const struct eb_store *st, const char *plain, struct eb_arena *a,
                 unsigned char **out, size_t *out_len)
{
    size_t cap = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + strlen(plain);
    unsigned char *buf = eb_arena_alloc(a, cap);
    if (buf == NULL)
        return EB_ETOOBIG;
    int rc = eb__pii_seal_buf(st, plain, buf, cap, out_len);
    if (rc == 0)
        *out = buf;
    return rc;
}

char *eb__pii_open(const struct eb_store *st, const unsigned char *sealed, size_t len,
                   struct eb_arena *a)
{
    size_t over = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    if (!st->has_pii_key || sealed == NULL || len <= over)
        return NULL;
    size_t n = len - over;
    char *plain = eb_arena_alloc(a, n + 1);
    if (plain == NULL)
        return NULL;
    if (crypto_secretbox_open_easy((unsigned char *)plain, sealed + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, sealed, st->pii_key) != 0) {
        eb_error("store: a sealed citizen ID does not open with this key");
        return NULL;
    }
    plain[n] = '\0';
    return plain;
}

void eb__pii_blind_index(const struct eb_store *st, const char *plain, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)plain, strlen(plain), st->blind_key,
                       sizeof(st->blind_key));
    sodium_bin2hex(hex, 65, h, sizeof(h));
}
