/* JSON helpers over jansson: strict request-body parsing, field checks and compact output. */
#include "json/json.h"
#include "core/err.h"

#include <string.h>

/*
 * Request bodies are small, flat documents; 32 levels is far more than any endpoint needs,
 * and refusing deeper input keeps every recursive walk over r->json (and jansson's own
 * recursive parser, which allows 2048) cheap and stack-safe.
 */
#define EB_JSON_MAX_DEPTH       32
#define EB_JSON_DEFAULT_MAX_LEN 256

/*
 * Finds where nesting first goes deeper than max_depth, skipping string contents. The scan
 * runs before jansson so that a hostile body of 100k '[' costs one linear pass, and the error
 * names the exact line and column. Returns 0 when the depth is fine.
 */
static int depth_exceeded(const char *s, size_t len, int max_depth, int *line, int *col)
{
    int depth = 0, in_str = 0, esc = 0;
    int ln = 1, cl = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            ln++;
            cl = 0;
        } else if ((c & 0xC0) != 0x80) {
            cl++; /* columns count characters, not UTF-8 continuation bytes */
        }
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                *line = ln;
                *col = cl;
                return 1;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

json_t *eb_json_parse_body(const char *body, size_t len, struct eb_arena *a, const char **err)
{
    json_t *doc = NULL;
    int line = 0, col = 0;

    *err = NULL;
    if (!body || len == 0) {
        *err = "empty body: a JSON object is required";
        goto done;
    }
    if (depth_exceeded(body, len, EB_JSON_MAX_DEPTH, &line, &col)) {
        *err = eb_arena_printf(a, "line %d, column %d: nesting deeper than %d levels", line, col,
                               EB_JSON_MAX_DEPTH);
        goto done;
    }
    json_error_t je;
    /* Without JSON_DECODE_ANY jansson accepts only an array or an object at the top, rejects
     * trailing data, invalid UTF-8 and "\u0000"; duplicate keys are refused on top of that. */
    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        /* jansson reports bad UTF-8 as an undecodable byte; say what that means. */
        const char *what =
            strncmp(je.text, "unable to decode byte", 21) == 0 ? "invalid UTF-8: " : "";
        *err = eb_arena_printf(a, "line %d, column %d: %s%s", je.line, je.column, what, je.text);
        goto done;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
        *err = "the body must be a JSON object";
        goto done;
    }
done:
    if (!doc && !*err)
        *err = "invalid JSON";
    return doc;
}

static const char *type_name(enum eb_json_type t)
{
    switch (t) {
    case EB_JSON_STRING:
        return "a string";
    case EB_JSON_INT:
        return "an integer";
    case EB_JSON_NUMBER:
        return "a number";
    case EB_JSON_BOOL:
        return "a boolean";
    case EB_JSON_OBJECT:
        return "an object";
    case EB_JSON_ARRAY:
        return "an array";
    }
    return "a value";
}

static int type_ok(const json_t *v, enum eb_json_type t)
{
    switch (t) {
    case EB_JSON_STRING:
        return json_is_string(v);
    case EB_JSON_INT:
        return json_is_integer(v);
    case EB_JSON_NUMBER:
        return json_is_number(v);
    case EB_JSON_BOOL:
        return json_is_boolean(v);
    case EB_JSON_OBJECT:
        return json_is_object(v);
    case EB_JSON_ARRAY:
        return json_is_array(v);
    }
    return 0;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_space((unsigned char)s[i]))
            return 0;
    return 1;
}

/*
 * The messages start with "unknown field", "missing field" or "field '...'": eb_http_fail()
 * maps those prefixes to the API codes unknown_field, missing_field and invalid_field.
 */
int eb_json_check(const json_t *obj, const struct eb_json_field *fields, size_t n_fields,
                  struct eb_arena *a, const char **err)
{
    int rc = EB_EINVAL;
    const char *key;
    json_t *v;

    *err = NULL;
    if (!json_is_object(obj)) {
        *err = "the body must be a JSON object";
        goto done;
    }
    /* jansson's iteration order is not the document order; checking keys in field order
     * below makes the reported error deterministic for a given field table. */
    json_object_foreach((json_t *)(uintptr_t)obj, key, v)
    {
        size_t i;
        for (i = 0; i < n_fields; i++)
            if (strcmp(fields[i].name, key) == 0)
                break;
        if (i == n_fields) {
            *err = eb_arena_printf(a, "unknown field '%.64s'", key);
            goto done;
        }
    }
    for (size_t i = 0; i < n_fields; i++) {
        const struct eb_json_field *f = &fields[i];
        v = json_object_get(obj, f->name);
        if (!v || json_is_null(v)) {
            if (v && !f->nullable) {
                *err = eb_arena_printf(a, "field '%s': expected %s, not null", f->name,
                                       type_name(f->type));
                goto done;
            }
            if (f->required) {
                *err = eb_arena_printf(a, "missing field '%s'", f->name);
                goto done;
            }
            continue;
        }
        if (!type_ok(v, f->type)) {
            *err = eb_arena_printf(a, "field '%s': expected %s", f->name, type_name(f->type));
            goto done;
        }
        if (f->type == EB_JSON_STRING) {
            size_t max = f->max_len ? f->max_len : EB_JSON_DEFAULT_MAX_LEN;
            size_t len = json_string_length(v);
            if (blank(json_string_value(v), len)) {
                *err = eb_arena_printf(a, "field '%s': must not be empty", f->name);
                goto done;
            }
            if (len > max) {
                *err = eb_arena_printf(a, "field '%s': longer than %zu bytes", f->name, max);
                goto done;
            }
        }
    }
    rc = 0;
done:
    if (rc && !*err)
        *err = "invalid input";
    return rc;
}

const char *eb_json_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int eb_json_int(const json_t *obj, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return 0;
    *out = (int64_t)json_integer_value(v);
    return 1;
}

int eb_json_num(const json_t *obj, const char *key, double *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_number(v))
        return 0;
    *out = json_number_value(v);
    return 1;
}

json_t *eb_json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Ten significant digits: enough for coordinates (1 cm) and rates, and 14.2 stays "14.2". */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10) | JSON_ENCODE_ANY)

char *eb_json_dump(const json_t *doc, struct eb_arena *a, size_t *len)
{
    char *out = NULL;
    size_t n = json_dumpb(doc, NULL, 0, DUMP_FLAGS);
    if (n == 0)
        goto done;
    out = eb_arena_alloc(a, n + 1);
    if (!out)
        goto done;
    if (json_dumpb(doc, out, n, DUMP_FLAGS) != n) {
        out = NULL;
        goto done;
    }
    out[n] = '\0';
done:
    if (len)
        *len = out ? n : 0;
    return out;
}
