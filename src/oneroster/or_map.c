/* The import's sourcedId -> local id map: open addressing, keyed SipHash, packed keys. */
#include "oneroster/or_map.h"

#include "core/mem.h"

#include <sodium.h>
#include <string.h>

#define BLOCK (1u << 20)

struct slot {
    const char *key; /* NULL: empty */
    int64_t local;
    uint32_t hash, aux;
    uint32_t len;
    uint8_t flag;
};

struct block {
    struct block *next;
    size_t used;
    char data[];
};

struct eb__or_idmap {
    struct slot *slots;
    size_t cap, n; /* cap: a power of two */
    struct block *blocks;
    unsigned char key[crypto_shorthash_KEYBYTES];
};

struct eb__or_idmap *eb__or_idmap_create(void)
{
    struct eb__or_idmap *m = eb_xcalloc(1, sizeof(*m));
    m->cap = 1024;
    m->slots = eb_xcalloc(m->cap, sizeof(*m->slots));
    randombytes_buf(m->key, sizeof(m->key));
    return m;
}

void eb__or_idmap_destroy(struct eb__or_idmap *m)
{
    if (!m)
        return;
    for (struct block *b = m->blocks, *next; b; b = next) {
        next = b->next;
        eb_free(b);
    }
    eb_free(m->slots);
    eb_free(m);
}

static uint32_t hash_of(const struct eb__or_idmap *m, const char *key, size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)key, len, m->key);
    uint32_t v;
    memcpy(&v, h, sizeof(v));
    return v;
}

static struct slot *find(const struct eb__or_idmap *m, const char *key, size_t len, uint32_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

static const char *keep(struct eb__or_idmap *m, const char *key, size_t len)
{
    struct block *b = m->blocks;
    if (!b || BLOCK - b->used < len + 1) {
        size_t size = len + 1 > BLOCK ? len + 1 : BLOCK;
        struct block *nb = eb_xmalloc(sizeof(*nb) + size);
        nb->next = b;
        nb->used = 0;
        m->blocks = nb;
        b = nb;
    }
    char *p = b->data + b->used;
    memcpy(p, key, len);
    p[len] = '\0';
    b->used += len + 1;
    return p;
}

static void grow(struct eb__or_idmap *m)
{
    struct slot *old = m->slots;
    size_t old_cap = m->cap;
    m->cap *= 2;
    m->slots = eb_xcalloc(m->cap, sizeof(*m->slots));
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *find(m, old[i].key, old[i].len, old[i].hash) = old[i];
    eb_free(old);
}

void eb__or_idmap_put(struct eb__or_idmap *m, const char *key, int64_t local, uint32_t aux,
                      uint8_t flag)
{
    size_t len = strlen(key);
    uint32_t h = hash_of(m, key, len);
    struct slot *s = find(m, key, len, h);
    if (!s->key) {
        if ((m->n + 1) * 10 > m->cap * 7) {
            grow(m);
            s = find(m, key, len, h);
        }
        s->key = keep(m, key, len);
        s->len = (uint32_t)len;
        s->hash = h;
        m->n++;
    }
    s->local = local;
    s->aux = aux;
    s->flag = flag;
}

int eb__or_idmap_get(const struct eb__or_idmap *m, const char *key, int64_t *local, uint32_t *aux,
                     uint8_t *flag)
{
    if (!m)
        return 0;
    size_t len = strlen(key);
    const struct slot *s = find(m, key, len, hash_of(m, key, len));
    if (!s->key)
        return 0;
    if (local)
        *local = s->local;
    if (aux)
        *aux = s->aux;
    if (flag)
        *flag = s->flag;
    return 1;
}

size_t eb__or_idmap_count(const struct eb__or_idmap *m)
{
    return m ? m->n : 0;
}
