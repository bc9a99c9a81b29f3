/* The versioned byte cache of cache.h: a slot array guarded by striped mutexes. */
#include "core/cache.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define N_LOCKS 64

struct slot {
    char *key;
    int64_t version;
    char *data;
    size_t len;
};

struct eb_cache {
    struct slot *slots;
    size_t mask;
    size_t max_bytes;
    atomic_size_t bytes;
    atomic_uint_fast64_t hits, misses, stores;
    pthread_mutex_t locks[N_LOCKS];
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

struct eb_cache *eb_cache_create(size_t max_bytes, size_t n_slots)
{
    size_t n = 1;
    while (n < n_slots)
        n <<= 1;
    struct eb_cache *c = eb_xcalloc(1, sizeof(*c));
    c->slots = eb_xcalloc(n, sizeof(*c->slots));
    c->mask = n - 1;
    c->max_bytes = max_bytes;
    for (int i = 0; i < N_LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

static void slot_clear(struct eb_cache *c, struct slot *s)
{
    if (s->key)
        atomic_fetch_sub(&c->bytes, s->len + strlen(s->key));
    eb_free(s->key);
    eb_free(s->data);
    memset(s, 0, sizeof(*s));
}

void eb_cache_destroy(struct eb_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i <= c->mask; i++)
        slot_clear(c, &c->slots[i]);
    for (int i = 0; i < N_LOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    eb_free(c->slots);
    eb_free(c);
}

int eb_cache_get(struct eb_cache *c, const char *key, int64_t version, struct eb_buf *out)
{
    uint64_t h = hash(key);
    size_t i = h & c->mask;
    pthread_mutex_t *lock = &c->locks[i % N_LOCKS];
    int hit = 0;
    pthread_mutex_lock(lock);
    struct slot *s = &c->slots[i];
    if (s->key && s->version == version && strcmp(s->key, key) == 0)
        hit = eb_buf_append(out, s->data, s->len) == 0;
    pthread_mutex_unlock(lock);
    atomic_fetch_add(hit ? &c->hits : &c->misses, 1);
    return hit;
}

void eb_cache_put(struct eb_cache *c, const char *key, int64_t version, const void *data,
                  size_t len)
{
    uint64_t h = hash(key);
    size_t i = h & c->mask;
    size_t need = len + strlen(key);
    pthread_mutex_t *lock = &c->locks[i % N_LOCKS];
    pthread_mutex_lock(lock);
    struct slot *s = &c->slots[i];
    /* Newer versions win; an older reader must not put back what a newer one replaced. */
    if (s->key && strcmp(s->key, key) == 0 && s->version > version)
        goto done;
    slot_clear(c, s);
    if (atomic_load(&c->bytes) + need > c->max_bytes)
        goto done;
    s->key = eb_xstrdup(key);
    s->data = eb_xmalloc(len ? len : 1);
    memcpy(s->data, data, len);
    s->len = len;
    s->version = version;
    atomic_fetch_add(&c->bytes, need);
    atomic_fetch_add(&c->stores, 1);
done:
    pthread_mutex_unlock(lock);
}

void eb_cache_stats(struct eb_cache *c, struct eb_cache_stats *out)
{
    out->hits = atomic_load(&c->hits);
    out->misses = atomic_load(&c->misses);
    out->stores = atomic_load(&c->stores);
    out->bytes = atomic_load(&c->bytes);
}
