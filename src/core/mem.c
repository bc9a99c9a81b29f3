/* The only place that calls the C allocator directly (see tools/check_src). */
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "edubrain: out of memory allocating %zu bytes\n", n);
    abort();
}

void *eb_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *eb_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size);
    return p;
}

void *eb_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

char *eb_xstrdup(const char *s)
{
    return eb_xstrndup(s, strlen(s));
}

char *eb_xstrndup(const char *s, size_t n)
{
    char *p = eb_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void eb_free(void *p)
{
    free(p);
}
