/* Open-addressing string set with one-byte tags (see strset.h for the trade-offs). */
#include "core/strset.h"
#include "core/mem.h"

#include <sodium.h>
#include <string.h>

#define BLOCK_SIZE (1u << 20)

/* A slot holds the key's address, its length, the low 32 bits of its hash (compared before the
 * bytes, so a probe rarely touches key memory) and the tag. 16 bytes per slot. */
struct slot {
    const char *key;
    uint32_t hash;
    uint32_t len_tag; /* length << 8 | tag; key == NULL marks an empty slot */
};

struct block {
    struct block *next;
    size_t used, cap;
    char data[];
};

struct eb_strset {
    struct slot *slots;
    size_t mask; /* n_slots - 1 */
    size_t count;
    struct block *blocks;
    size_t block_bytes;
    unsigned char hkey[crypto_shorthash_siphash24_KEYBYTES];
};

/* Longest key: the length shares a 32-bit word with the tag. */
#define MAX_LEN ((1u << 24) - 1)

static uint64_t hash_key(const struct eb_strset *s, const char *key, size_t len)
{
    unsigned char out[crypto_shorthash_siphash24_BYTES];
    uint64_t h;
    crypto_shorthash_siphash24(out, (const unsigned char *)key, len, s->hkey);
    memcpy(&h, out, sizeof(h));
    return h;
}

struct eb_strset *eb_strset_create(size_t expect)
{
    struct eb_strset *s = eb_xcalloc(1, sizeof(*s));
    size_t n = 64;
    while (n < expect + expect / 2 + 1)
        n *= 2;
    s->slots = eb_xcalloc(n, sizeof(*s->slots));
    s->mask = n - 1;
    /* sodium_init() is idempotent. If it failed, randombytes_buf still works (it falls back to
     * the default generator), so the set stays usable either way. */
    if (sodium_init() < 0)
        memset(s->hkey, 0, sizeof(s->hkey));
    randombytes_buf(s->hkey, sizeof(s->hkey));
    return s;
}

void eb_strset_destroy(struct eb_strset *s)
{
    if (!s)
        return;
    struct block *b = s->blocks;
    while (b) {
        struct block *next = b->next;
        eb_free(b);
        b = next;
    }
    eb_free(s->slots);
    eb_free(s);
}

static const char *store_key(struct eb_strset *s, const char *key, size_t len)
{
    struct block *b = s->blocks;
    if (!b || b->cap - b->used < len) {
        size_t cap = len > BLOCK_SIZE ? len : BLOCK_SIZE;
        b = eb_xmalloc(sizeof(*b) + cap);
        b->used = 0;
        b->cap = cap;
        b->next = s->blocks;
        s->blocks = b;
        s->block_bytes += sizeof(*b) + cap;
    }
    char *p = b->data + b->used;
    if (len)
        memcpy(p, key, len);
    b->used += len;
    return p;
}

/* The slot that holds key, or the empty slot where it would go. */
static struct slot *find(const struct eb_strset *s, const char *key, size_t len, uint64_t h)
{
    size_t i = (size_t)(h >> 32) & s->mask;
    uint32_t h32 = (uint32_t)h;
    for (;;) {
        struct slot *sl = &s->slots[i];
        if (!sl->key)
            return sl;
        if (sl->hash == h32 && (sl->len_tag >> 8) == len && memcmp(sl->key, key, len) == 0)
            return sl;
        i = (i + 1) & s->mask;
    }
}

static void grow(struct eb_strset *s)
{
    size_t n_old = s->mask + 1, n = n_old * 2;
    struct slot *old = s->slots;
    s->slots = eb_xcalloc(n, sizeof(*s->slots));
    s->mask = n - 1;
    for (size_t i = 0; i < n_old; i++) {
        if (!old[i].key)
            continue;
        size_t len = old[i].len_tag >> 8;
        struct slot *sl = find(s, old[i].key, len, hash_key(s, old[i].key, len));
        *sl = old[i];
    }
    eb_free(old);
}

int eb_strset_add(struct eb_strset *s, const char *key, size_t len, uint8_t tag, uint8_t *old_tag)
{
    if (len > MAX_LEN)
        len = MAX_LEN;
    uint64_t h = hash_key(s, key, len);
    struct slot *sl = find(s, key, len, h);
    if (sl->key) {
        if (old_tag)
            *old_tag = (uint8_t)(sl->len_tag & 0xff);
        return 0;
    }
    /* An empty key still needs a non-NULL address to mark the slot used. */
    const char *copy = store_key(s, key, len);
    sl->key = copy;
    sl->hash = (uint32_t)h;
    sl->len_tag = (uint32_t)len << 8 | tag;
    s->count++;
    if (s->count * 10 > (s->mask + 1) * 7)
        grow(s);
    return 1;
}

int eb_strset_get(const struct eb_strset *s, const char *key, size_t len, uint8_t *tag)
{
    if (len > MAX_LEN)
        len = MAX_LEN;
    const struct slot *sl = find(s, key, len, hash_key(s, key, len));
    if (!sl->key)
        return 0;
    if (tag)
        *tag = (uint8_t)(sl->len_tag & 0xff);
    return 1;
}

size_t eb_strset_count(const struct eb_strset *s)
{
    return s->count;
}

size_t eb_strset_bytes(const struct eb_strset *s)
{
    return (s->mask + 1) * sizeof(struct slot) + s->block_bytes;
}
