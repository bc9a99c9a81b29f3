/*
 * JSON helpers over jansson: strict parsing of request bodies and a declarative field check
 * (unknown fields, missing fields, wrong types are all errors with a precise message).
 */
#ifndef EB_JSON_H
#define EB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"

/**
 * Parses a request body: it must be valid UTF-8 JSON whose top level is an object, at most
 * max_depth deep, without duplicate keys. On failure returns NULL and puts a message (English,
 * with line/column) in err (arena copy).
 */
json_t *eb_json_parse_body(const char *body, size_t len, struct eb_arena *a,
                           const char **err /* out */);

enum eb_json_type {
    EB_JSON_STRING,
    EB_JSON_INT,
    EB_JSON_NUMBER, /* integer or real */
    EB_JSON_BOOL,
    EB_JSON_OBJECT,
    EB_JSON_ARRAY,
};

struct eb_json_field {
    const char *name;
    enum eb_json_type type;
    int required;
    int nullable;   /* null accepted (as "not given") */
    size_t max_len; /* strings: maximum length in bytes (0 = 256) */
};

/**
 * Checks obj against the fields: every key must be listed, required ones present, types right,
 * strings non-empty (after trimming) and within max_len. Returns 0 or EB_EINVAL with the field
 * and the reason in *err, e.g. "field 'name': expected a string".
 */
int eb_json_check(const json_t *obj, const struct eb_json_field *fields, size_t n_fields,
                  struct eb_arena *a, const char **err /* out */);

/** A string member or NULL (absent or null). */
const char *eb_json_str(const json_t *obj, const char *key);
/** An integer member; returns 1 when present. */
int eb_json_int(const json_t *obj, const char *key, int64_t *out);
/** A number member (integer or real); returns 1 when present. */
int eb_json_num(const json_t *obj, const char *key, double *out);

/** json_string() that accepts NULL (gives json null). */
json_t *eb_json_str_or_null(const char *s);

/** Serialises doc compactly (reals with 10 significant digits) into the arena. */
char *eb_json_dump(const json_t *doc, struct eb_arena *a, size_t *len /* out */);

/*
 * A streaming JSON writer into a bounded eb_buf, for responses with many rows (rosters,
 * listings), where building a jansson tree costs more than the query. Commas are managed by
 * the writer; keys and strings are escaped. Errors (the buffer's limit) are sticky in
 * b->overflow.
 */
#define EB_JW_MAX_DEPTH 16

struct eb_jw {
    struct eb_buf *b;
    int depth;
    unsigned char first[EB_JW_MAX_DEPTH]; /* no member written yet at this level */
    int after_key;
};

void eb_jw_init(struct eb_jw *w, struct eb_buf *b);
void eb_jw_obj_begin(struct eb_jw *w);
void eb_jw_obj_end(struct eb_jw *w);
void eb_jw_arr_begin(struct eb_jw *w);
void eb_jw_arr_end(struct eb_jw *w);
void eb_jw_key(struct eb_jw *w, const char *key);
/** A string (must be valid UTF-8); NULL writes null. */
void eb_jw_str(struct eb_jw *w, const char *s);
void eb_jw_int(struct eb_jw *w, int64_t v);
/** An integer, or null when v is 0 (ids and years where 0 means "none"). */
void eb_jw_id(struct eb_jw *w, int64_t v);
void eb_jw_real(struct eb_jw *w, double v);
void eb_jw_bool(struct eb_jw *w, int v);
void eb_jw_null(struct eb_jw *w);
/* A member: key and value in one call. */
void eb_jw_kstr(struct eb_jw *w, const char *key, const char *s);
void eb_jw_kint(struct eb_jw *w, const char *key, int64_t v);
void eb_jw_kid(struct eb_jw *w, const char *key, int64_t v);
void eb_jw_kbool(struct eb_jw *w, const char *key, int v);
/** A reference member key:{"id":id,"name":name}. */
void eb_jw_kref(struct eb_jw *w, const char *key, int64_t id, const char *name);
/** A value that is already JSON text (e.g. a stored document); the caller vouches for it. */
void eb_jw_raw(struct eb_jw *w, const char *json);

#endif
