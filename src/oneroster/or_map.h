/* A map from sourcedIds to local ids for the OneRoster import (or_map.c). */
#ifndef EB_ONEROSTER_MAP_H
#define EB_ONEROSTER_MAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * The import resolves every reference of a package (a million enrolments name a class and a
 * user each) against the rows the database mapped before and the rows it just wrote, without a
 * query per reference. core/strset keeps a one-byte tag per key; this map keeps what the import
 * needs per key: the local id, an index into the import's own tables (aux) and a flag. Same
 * layout as strset: keyed SipHash (libsodium) so a crafted package cannot force collisions,
 * linear probing under 70 % load, keys packed into 1 MiB blocks. Keys are never removed.
 */
struct eb__or_idmap;

struct eb__or_idmap *eb__or_idmap_create(void);
void eb__or_idmap_destroy(struct eb__or_idmap *m); /* NULL is fine */
/** Sets key's values (adding the key when new). */
void eb__or_idmap_put(struct eb__or_idmap *m, const char *key, int64_t local, uint32_t aux,
                      uint8_t flag);
/** 1 and the values (each out may be NULL) when key is in the map, else 0. */
int eb__or_idmap_get(const struct eb__or_idmap *m, const char *key, int64_t *local, uint32_t *aux,
                     uint8_t *flag);
size_t eb__or_idmap_count(const struct eb__or_idmap *m);

/** The CEDS grade token of a registry grade code (11 -> "01"), NULL when none (or_import.c). */
const char *eb__or_grade_ceds(const char *code);

#endif
