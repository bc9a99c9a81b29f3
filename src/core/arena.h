/* Per-request arena: many small allocations, freed together; bounded by a byte cap. */
#ifndef EB_CORE_ARENA_H
#define EB_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct eb_arena;

typedef void (*eb_cleanup_fn)(void *arg);

/** Creates an arena that refuses to grow past cap bytes (0 = unlimited). */
struct eb_arena *eb_arena_create(size_t cap);
/** Runs the cleanups (last registered first) and frees every block. NULL is allowed. */
void eb_arena_destroy(struct eb_arena *a);

/** Returns n zeroed bytes aligned for any type, or NULL when the cap would be exceeded. */
void *eb_arena_alloc(struct eb_arena *a, size_t n);
/** Copies s (NULL gives NULL); NULL when the cap would be exceeded. */
char *eb_arena_strdup(struct eb_arena *a, const char *s);
char *eb_arena_strndup(struct eb_arena *a, const char *s, size_t n);
char *eb_arena_printf(struct eb_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *eb_arena_vprintf(struct eb_arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/**
 * Room for one more element in a growing array kept in the arena: returns items itself while
 * n < *cap, else a copy of the n elements in a block twice as large (the old block stays until
 * the arena goes). NULL when the arena's cap is reached.
 */
void *eb_arena_grow(struct eb_arena *a, void *items, size_t n, size_t *cap, size_t elem_size);

/** Registers fn(arg) to run when the arena is destroyed. */
void eb_arena_on_destroy(struct eb_arena *a, eb_cleanup_fn fn, void *arg);

/** Bytes handed out so far (for tests and metrics). */
size_t eb_arena_used(const struct eb_arena *a);

#endif
