/* Heap allocation that never returns NULL: the process logs and aborts when memory runs out. */
#ifndef EB_CORE_MEM_H
#define EB_CORE_MEM_H

#include <stddef.h>

void *eb_xmalloc(size_t n);
void *eb_xcalloc(size_t count, size_t size);
void *eb_xrealloc(void *p, size_t n);
char *eb_xstrdup(const char *s);
char *eb_xstrndup(const char *s, size_t n);
void eb_free(void *p);

#endif
