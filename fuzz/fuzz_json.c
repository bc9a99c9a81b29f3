/* libFuzzer target: request-body parsing, field checks and the dump/parse round trip. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A field table like the org-creation endpoint's, so that every check path is reachable. */
static const struct eb_json_field fields[] = {
    {"parent_id", EB_JSON_INT, 1, 0, 0}, {"kind", EB_JSON_STRING, 1, 0, 16},
    {"name", EB_JSON_STRING, 1, 0, 0},   {"lat", EB_JSON_NUMBER, 0, 1, 0},
    {"active", EB_JSON_BOOL, 0, 0, 0},   {"stages", EB_JSON_ARRAY, 0, 1, 0},
    {"extra", EB_JSON_OBJECT, 0, 1, 0},  {"address", EB_JSON_STRING, 0, 1, 512},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eb_arena *a = eb_arena_create(4u << 20);
    const char *err = NULL;
    json_t *doc = eb_json_parse_body((const char *)data, size, a, &err);
    if (!doc) {
        /* Every refusal must explain itself. */
        if (!err || !*err)
            __builtin_trap();
        goto done;
    }
    if (!json_is_object(doc) || err)
        __builtin_trap();
    if (eb_json_check(doc, fields, sizeof(fields) / sizeof(fields[0]), a, &err) == 0) {
        /* What the check accepted, the accessors must agree with. */
        int64_t id;
        if (!eb_json_int(doc, "parent_id", &id) || !eb_json_str(doc, "kind"))
            __builtin_trap();
    } else if (!err) {
        __builtin_trap();
    }
    /* Whatever was accepted must serialise and parse back to an equal document. */
    size_t len = 0;
    char *text = eb_json_dump(doc, a, &len);
    if (!text || strlen(text) != len)
        __builtin_trap();
    json_t *again = eb_json_parse_body(text, len, a, &err);
    if (!again) {
        /* Ten digits can round a real near DBL_MAX past it; nothing else may fail. */
        if (!strstr(err, "overflow"))
            __builtin_trap();
        goto done;
    }
    /* Reals go through 10 significant digits, so compare only the key sets. */
    if (json_object_size(again) != json_object_size(doc))
        __builtin_trap();
    json_decref(again);
done:
    json_decref(doc);
    eb_arena_destroy(a);
    return 0;
}
