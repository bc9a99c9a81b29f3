/* A bump allocator over a chain of blocks; big requests get a block of their own. */
#include "core/arena.h"
#include "core/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BLOCK_SIZE 8192
#define ALIGN      16

struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(ALIGN) unsigned char data[];
};

struct cleanup {
    struct cleanup *next;
    eb_cleanup_fn fn;
    void *arg;
};

struct eb_arena {
    struct block *head;
    struct cleanup *cleanups;
    size_t total, cap;
};

struct eb_arena *eb_arena_create(size_t cap)
{
    struct eb_arena *a = eb_xcalloc(1, sizeof(*a));
    a->cap = cap;
    return a;
}

void eb_arena_destroy(struct eb_arena *a)
{
    if (!a)
        return;
    while (a->cleanups) {
        struct cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->arg);
    }
    while (a->head) {
        struct block *b = a->head;
        a->head = b->next;
        eb_free(b);
    }
    eb_free(a);
}

static void *alloc(struct eb_arena *a, size_t n, int capped)
{
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < n)
        return NULL;
    if (capped && a->cap && (a->total + need > a->cap || a->total + need < a->total))
        return NULL;
    struct block *b = a->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > BLOCK_SIZE / 2 ? need : BLOCK_SIZE;
        struct block *nb = eb_xmalloc(sizeof(*nb) + cap);
        nb->used = 0;
        nb->cap = cap;
        if (b && need > BLOCK_SIZE / 2) {
            /* Keep the partly used block at the head so small allocations continue there. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    memset(p, 0, n);
    return p;
}

void *eb_arena_alloc(struct eb_arena *a, size_t n)
{
    return alloc(a, n, 1);
}

char *eb_arena_strndup(struct eb_arena *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = eb_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *eb_arena_strdup(struct eb_arena *a, const char *s)
{
    return s ? eb_arena_strndup(a, s, strlen(s)) : NULL;
}

char *eb_arena_vprintf(struct eb_arena *a, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return NULL;
    char *p = eb_arena_alloc(a, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *eb_arena_printf(struct eb_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = eb_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void *eb_arena_grow(struct eb_arena *a, void *items, size_t n, size_t *cap, size_t elem_size)
{
    if (n < *cap)
        return items;
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap > SIZE_MAX / elem_size)
        return NULL;
    void *p = eb_arena_alloc(a, ncap * elem_size);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, items, n * elem_size);
    *cap = ncap;
    return p;
}

void eb_arena_on_destroy(struct eb_arena *a, eb_cleanup_fn fn, void *arg)
{
    /* Cleanups are not counted against the cap: a handler must always be able to release. */
    struct cleanup *c = alloc(a, sizeof(*c), 0);
    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
}

size_t eb_arena_used(const struct eb_arena *a)
{
    return a->total;
}
