/* Growable buffer used for response bodies, CSV lines and SQL building. */
#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

void eb_buf_init(struct eb_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void eb_buf_free(struct eb_buf *b)
{
    eb_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void eb_buf_reset(struct eb_buf *b)
{
    b->len = 0;
    b->overflow = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int reserve(struct eb_buf *b, size_t extra)
{
    if (b->max && (b->len + extra > b->max || b->len + extra < b->len)) {
        b->overflow = 1;
        return EB_ETOOBIG;
    }
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = eb_xrealloc(b->data, cap);
    b->cap = cap;
    return 0;
}

int eb_buf_append(struct eb_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int eb_buf_puts(struct eb_buf *b, const char *s)
{
    return eb_buf_append(b, s, strlen(s));
}

int eb_buf_printf(struct eb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return EB_EINVAL;
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *eb_buf_steal(struct eb_buf *b, size_t *len)
{
    if (!b->data)
        reserve(b, 0);
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
