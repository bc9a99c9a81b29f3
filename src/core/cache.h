/*
 * A bounded, thread-safe cache of byte strings tagged with a version. A reader asks for a key
 * at the version it has just read from the database and gets the bytes only if they were
 * stored under exactly that version, so a change committed anywhere (by any process) makes the
 * old entry unreachable without any invalidation message.
 *
 * Direct-mapped: each key hashes to one slot, a newer entry replaces the older. The byte budget
 * is a hard limit: an entry that does not fit is not stored.
 */
#ifndef EB_CORE_CACHE_H
#define EB_CORE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct eb_cache;

struct eb_cache_stats {
    uint64_t hits, misses, stores, bytes;
};

/** n_slots is rounded up to a power of two. */
struct eb_cache *eb_cache_create(size_t max_bytes, size_t n_slots);
void eb_cache_destroy(struct eb_cache *c);
/** Appends the bytes stored under (key, version) to out; returns 1 on a hit, 0 on a miss. */
int eb_cache_get(struct eb_cache *c, const char *key, int64_t version, struct eb_buf *out);
/** Stores a copy of data under (key, version), replacing the slot's previous entry. */
void eb_cache_put(struct eb_cache *c, const char *key, int64_t version, const void *data,
                  size_t len);
void eb_cache_stats(struct eb_cache *c, struct eb_cache_stats *out);

#endif
