/* Unit tests of the json module: strict body parsing, field checks, accessors and output. */
#include "unit.h"

#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "json/json.h"

static json_t *parse(struct eb_arena *a, const char *text, const char **err)
{
    return eb_json_parse_body(text, strlen(text), a, err);
}

static void parse_accepts_object_with_utf8(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    const char *err = "unset";
    json_t *doc = parse(a, "{\"name\":\"示范市第一中学\",\"n\":3}", &err);
    assert_non_null(doc);
    assert_null(err);
    assert_string_equal(eb_json_str(doc, "name"), "示范市第一中学");
    int64_t n = 0;
    assert_int_equal(eb_json_int(doc, "n", &n), 1);
    assert_int_equal(n, 3);
    json_decref(doc);
    eb_arena_destroy(a);
}

static void parse_rejects_with_precise_messages(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    const char *err = NULL;

    assert_null(parse(a, "{\"a\":1,\"a\":2}", &err));
    assert_non_null(strstr(err, "duplicate object key"));
    assert_non_null(strstr(err, "line 1"));

    assert_null(parse(a, "{\n  \"name\": \"x\",\n  \"kind\": tru\n}", &err));
    assert_non_null(strstr(err, "line 3, column"));

    assert_null(parse(a, "[1,2]", &err));
    assert_string_equal(err, "the body must be a JSON object");

    assert_null(parse(a, "{\"x\":1} trailing", &err));
    assert_non_null(strstr(err, "end of file expected"));

    assert_null(eb_json_parse_body("", 0, a, &err));
    assert_non_null(strstr(err, "empty body"));
    assert_null(eb_json_parse_body(NULL, 0, a, &err));
    assert_non_null(strstr(err, "empty body"));

    /* Invalid UTF-8 (a lone 0xFF) and an escaped NUL are both refused. */
    assert_null(parse(a, "{\"name\":\"\xff\"}", &err));
    assert_non_null(strstr(err, "line 1, column 9: invalid UTF-8: unable to decode byte 0xff"));
    assert_null(parse(a, "{\"name\":\"a\\u0000b\"}", &err));
    assert_non_null(strstr(err, "NUL"));

    /* A raw NUL byte inside the body (length-delimited input). */
    assert_null(eb_json_parse_body("{\"a\":\"x\0\"}", 10, a, &err));
    assert_non_null(err);
    eb_arena_destroy(a);
}

static void parse_limits_depth(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    const char *err = NULL;
    char deep[200], ok[200];
    size_t n = 0;

    /* 32 levels (the object plus 31 arrays) pass; 33 do not. */
    ok[n++] = '{';
    memcpy(ok + n, "\"a\":", 4);
    n += 4;
    for (int i = 0; i < 31; i++)
        ok[n++] = '[';
    for (int i = 0; i < 31; i++)
        ok[n++] = ']';
    ok[n++] = '}';
    ok[n] = '\0';
    json_t *doc = parse(a, ok, &err);
    assert_non_null(doc);
    json_decref(doc);

    memcpy(deep, ok, 5);
    n = 5;
    for (int i = 0; i < 32; i++)
        deep[n++] = '[';
    for (int i = 0; i < 32; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    assert_null(parse(a, deep, &err));
    assert_string_equal(err, "line 1, column 37: nesting deeper than 32 levels");

    /* Brackets inside strings do not count. */
    doc = parse(a, "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[\"}", &err);
    assert_non_null(doc);
    json_decref(doc);
    eb_arena_destroy(a);
}

static const struct eb_json_field org_fields[] = {
    {"parent_id", EB_JSON_INT, 1, 0, 0}, {"kind", EB_JSON_STRING, 1, 0, 8},
    {"name", EB_JSON_STRING, 1, 0, 0},   {"lat", EB_JSON_NUMBER, 0, 1, 0},
    {"active", EB_JSON_BOOL, 0, 0, 0},   {"stages", EB_JSON_ARRAY, 0, 1, 0},
};
#define N_ORG_FIELDS (sizeof(org_fields) / sizeof(org_fields[0]))

static const char *check(struct eb_arena *a, const char *text)
{
    const char *err = NULL;
    json_t *doc = parse(a, text, &err);
    assert_non_null(doc);
    int rc = eb_json_check(doc, org_fields, N_ORG_FIELDS, a, &err);
    json_decref(doc);
    if (rc == 0) {
        assert_null(err);
        return NULL;
    }
    assert_int_equal(rc, EB_EINVAL);
    assert_non_null(err);
    return err;
}

static void check_fields(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);

    assert_null(check(a, "{\"parent_id\":1,\"kind\":\"school\",\"name\":\"一中\"}"));
    assert_null(check(a, "{\"parent_id\":1,\"kind\":\"school\",\"name\":\"x\",\"lat\":36.1,"
                         "\"active\":false,\"stages\":[]}"));
    assert_null(check(a, "{\"parent_id\":1,\"kind\":\"class\",\"name\":\"x\",\"lat\":null}"));
    /* An integer is a number; a real is not an integer. */
    assert_null(check(a, "{\"parent_id\":1,\"kind\":\"class\",\"name\":\"x\",\"lat\":36}"));
    assert_string_equal(check(a, "{\"parent_id\":1.0,\"kind\":\"class\",\"name\":\"x\"}"),
                        "field 'parent_id': expected an integer");

    assert_string_equal(check(a, "{\"kind\":\"school\",\"name\":\"x\"}"),
                        "missing field 'parent_id'");
    assert_string_equal(check(a, "{\"parent_id\":1,\"kind\":\"school\",\"name\":\"x\",\"nme\":1}"),
                        "unknown field 'nme'");
    assert_string_equal(check(a, "{\"parent_id\":\"1\",\"kind\":\"school\",\"name\":\"x\"}"),
                        "field 'parent_id': expected an integer");
    assert_string_equal(check(a, "{\"parent_id\":1,\"kind\":\"school\",\"name\":\" \\t\"}"),
                        "field 'name': must not be empty");
    assert_string_equal(check(a, "{\"parent_id\":1,\"kind\":\"kindergarten\",\"name\":\"x\"}"),
                        "field 'kind': longer than 8 bytes");
    assert_string_equal(check(a, "{\"parent_id\":1,\"kind\":\"school\",\"name\":\"x\",\"active\":"
                                 "null}"),
                        "field 'active': expected a boolean, not null");
    assert_string_equal(check(a, "{\"parent_id\":1,\"kind\":\"school\",\"name\":\"x\",\"stages\":"
                                 "{}}"),
                        "field 'stages': expected an array");

    /* The default string limit is 256 bytes: 86 three-byte characters = 258 bytes. */
    char text[600];
    const char *head = "{\"parent_id\":1,\"kind\":\"school\",\"name\":\"";
    size_t n = strlen(head);
    memcpy(text, head, n);
    for (int i = 0; i < 86; i++, n += 3)
        memcpy(text + n, "中", 3);
    memcpy(text + n, "\"}", 3);
    assert_string_equal(check(a, text), "field 'name': longer than 256 bytes");
    eb_arena_destroy(a);
}

static void dump_is_compact_with_ten_digits(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    json_t *doc = json_pack("{s:f,s:s,s:I,s:[b,n]}", "lat", 14.2, "name", "一中", "id",
                            (json_int_t)9007199254740991LL, "x", 1);
    size_t len = 0;
    char *s = eb_json_dump(doc, a, &len);
    assert_non_null(s);
    assert_int_equal(len, strlen(s));
    assert_non_null(strstr(s, "\"lat\":14.2"));
    assert_non_null(strstr(s, "\"name\":\"一中\""));
    assert_non_null(strstr(s, "\"id\":9007199254740991"));
    assert_non_null(strstr(s, "\"x\":[true,null]"));
    assert_null(strchr(s, ' '));
    json_decref(doc);

    json_t *third = json_real(1.0 / 3.0);
    assert_string_equal(eb_json_dump(third, a, NULL), "0.3333333333");
    json_decref(third);

    json_t *n = eb_json_str_or_null(NULL);
    assert_true(json_is_null(n));
    json_decref(n);
    double d = 0;
    json_t *o = json_pack("{s:i}", "v", 7);
    assert_int_equal(eb_json_num(o, "v", &d), 1);
    assert_true(d == 7.0);
    assert_int_equal(eb_json_num(o, "w", &d), 0);
    json_decref(o);
    eb_arena_destroy(a);
}

EB_TEST_GROUP(json);
EB_TEST_GROUP(json)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_accepts_object_with_utf8),
        cmocka_unit_test(parse_rejects_with_precise_messages),
        cmocka_unit_test(parse_limits_depth),
        cmocka_unit_test(check_fields),
        cmocka_unit_test(dump_is_compact_with_ten_digits),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
