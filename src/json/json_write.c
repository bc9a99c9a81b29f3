/* The streaming JSON writer (see json.h): escaping and comma placement, nothing else. */
#include "json/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void eb_jw_init(struct eb_jw *w, struct eb_buf *b)
{
    memset(w, 0, sizeof(*w));
    w->b = b;
    w->first[0] = 1;
}

/* Writes the comma that separates this value from the previous member, if any. */
static void value_start(struct eb_jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (!w->first[w->depth])
        eb_buf_append(w->b, ",", 1);
    w->first[w->depth] = 0;
}

static void open(struct eb_jw *w, char c)
{
    value_start(w);
    eb_buf_append(w->b, &c, 1);
    if (w->depth + 1 < EB_JW_MAX_DEPTH)
        w->depth++;
    else
        w->b->overflow = 1;
    w->first[w->depth] = 1;
}

static void close_(struct eb_jw *w, char c)
{
    eb_buf_append(w->b, &c, 1);
    if (w->depth > 0)
        w->depth--;
}

void eb_jw_obj_begin(struct eb_jw *w)
{
    open(w, '{');
}

void eb_jw_obj_end(struct eb_jw *w)
{
    close_(w, '}');
}

void eb_jw_arr_begin(struct eb_jw *w)
{
    open(w, '[');
}

void eb_jw_arr_end(struct eb_jw *w)
{
    close_(w, ']');
}

static void escaped(struct eb_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    eb_buf_append(b, "\"", 1);
    const char *run = s;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue;
        eb_buf_append(b, run, (size_t)((const char *)p - run));
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*p) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
        }
        eb_buf_append(b, esc, n);
        run = (const char *)p + 1;
    }
    eb_buf_append(b, run, (size_t)((const char *)p - run));
    eb_buf_append(b, "\"", 1);
}

void eb_jw_key(struct eb_jw *w, const char *key)
{
    /* Keys are the program's own literals: short, and nothing in them needs escaping. */
    char tmp[64];
    size_t n = strlen(key);
    value_start(w);
    if (n + 3 <= sizeof(tmp)) {
        tmp[0] = '"';
        memcpy(tmp + 1, key, n);
        tmp[n + 1] = '"';
        tmp[n + 2] = ':';
        eb_buf_append(w->b, tmp, n + 3);
    } else {
        escaped(w->b, key);
        eb_buf_append(w->b, ":", 1);
    }
    w->after_key = 1;
}

void eb_jw_str(struct eb_jw *w, const char *s)
{
    if (!s) {
        eb_jw_null(w);
        return;
    }
    value_start(w);
    escaped(w->b, s);
}

void eb_jw_int(struct eb_jw *w, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    value_start(w);
    eb_buf_append(w->b, tmp, (size_t)n);
}

void eb_jw_id(struct eb_jw *w, int64_t v)
{
    if (v)
        eb_jw_int(w, v);
    else
        eb_jw_null(w);
}

void eb_jw_real(struct eb_jw *w, double v)
{
    char tmp[32];
    /* Ten significant digits: coordinates to ~1 cm, and no 14.199999999999999 noise. */
    int n = snprintf(tmp, sizeof(tmp), "%.10g", v);
    value_start(w);
    if (strspn(tmp, "-0123456789.eE+") != (size_t)n) /* nan or inf: not JSON */
        eb_buf_append(w->b, "null", 4);
    else
        eb_buf_append(w->b, tmp, (size_t)n);
}

void eb_jw_bool(struct eb_jw *w, int v)
{
    value_start(w);
    if (v)
        eb_buf_append(w->b, "true", 4);
    else
        eb_buf_append(w->b, "false", 5);
}

void eb_jw_null(struct eb_jw *w)
{
    value_start(w);
    eb_buf_append(w->b, "null", 4);
}

void eb_jw_raw(struct eb_jw *w, const char *json)
{
    value_start(w);
    eb_buf_puts(w->b, json);
}

void eb_jw_kstr(struct eb_jw *w, const char *key, const char *s)
{
    eb_jw_key(w, key);
    eb_jw_str(w, s);
}

void eb_jw_kint(struct eb_jw *w, const char *key, int64_t v)
{
    eb_jw_key(w, key);
    eb_jw_int(w, v);
}

void eb_jw_kid(struct eb_jw *w, const char *key, int64_t v)
{
    eb_jw_key(w, key);
    eb_jw_id(w, v);
}

void eb_jw_kbool(struct eb_jw *w, const char *key, int v)
{
    eb_jw_key(w, key);
    eb_jw_bool(w, v);
}

void eb_jw_kref(struct eb_jw *w, const char *key, int64_t id, const char *name)
{
    eb_jw_key(w, key);
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "id", id);
    eb_jw_kstr(w, "name", name);
    eb_jw_obj_end(w);
}
