/* A set of byte strings with a one-byte tag each: open addressing, keys packed in big blocks. */
#ifndef EB_CORE_STRSET_H
#define EB_CORE_STRSET_H

#include <stddef.h>
#include <stdint.h>

/*
 * Built for id sets of a million keys and more (OneRoster sourcedIds): one hash per key
 * (keyed SipHash from libsodium, so that crafted input cannot force collisions), linear
 * probing in a power-of-two slot array kept under 70 % full, and keys copied back to back into
 * 1 MiB blocks, so an insert costs no allocation of its own. Keys cannot be removed. Not
 * thread-safe.
 */
struct eb_strset;

/** Creates an empty set sized for about expect keys (0 is fine: it grows). */
struct eb_strset *eb_strset_create(size_t expect);
/** Frees the set and every key. NULL is allowed. */
void eb_strset_destroy(struct eb_strset *s);

/**
 * Adds key (len bytes, any content) with tag. Returns 1 when it was added, 0 when it was
 * already there: then its tag is left unchanged and written to *old_tag (which may be NULL).
 */
int eb_strset_add(struct eb_strset *s, const char *key, size_t len, uint8_t tag,
                  uint8_t *old_tag /* out */);
/** Returns 1 and the tag (tag may be NULL) when key is in the set, else 0. */
int eb_strset_get(const struct eb_strset *s, const char *key, size_t len, uint8_t *tag /* out */);
/** Number of keys. */
size_t eb_strset_count(const struct eb_strset *s);
/** Bytes held (slots and key blocks), for benchmarks and tests. */
size_t eb_strset_bytes(const struct eb_strset *s);

#endif
