/* A growable byte buffer with an optional size limit; always NUL-terminated. */
#ifndef EB_CORE_BUF_H
#define EB_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct eb_buf {
    char *data;
    size_t len, cap;
    size_t max;   /* 0 = unlimited */
    int overflow; /* set once an append was refused because of max */
};

void eb_buf_init(struct eb_buf *b, size_t max);
void eb_buf_free(struct eb_buf *b);
void eb_buf_reset(struct eb_buf *b);
/** Appends; returns 0 or EB_ETOOBIG (and sets b->overflow) when max would be exceeded. */
int eb_buf_append(struct eb_buf *b, const void *p, size_t n);
int eb_buf_puts(struct eb_buf *b, const char *s);
int eb_buf_printf(struct eb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Takes the data out; the buffer is left empty. Free with eb_free. */
char *eb_buf_steal(struct eb_buf *b, size_t *len /* out, may be NULL */);

#endif
