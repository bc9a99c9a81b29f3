/* Unit tests of src/core: arena, buffer. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/cache.h"
#include "core/err.h"
#include "core/mem.h"

static int cleanups_run;

static void count_cleanup(void *arg)
{
    (void)arg;
    cleanups_run++;
}

static void arena_allocates_zeroed_aligned_memory(void **state)
{
    (void)state;
    struct eb_arena *a = eb_arena_create(0);
    for (int i = 1; i < 5000; i += 37) {
        unsigned char *p = eb_arena_alloc(a, (size_t)i);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        for (int j = 0; j < i; j++)
            assert_int_equal(p[j], 0);
        memset(p, 0xAB, (size_t)i);
    }
    char *s = eb_arena_printf(a, "%s-%d", "class", 42);
    assert_string_equal(s, "class-42");
    eb_arena_destroy(a);
}

static void arena_cap_refuses_growth_but_runs_cleanups(void **state)
{
    (void)state;
    cleanups_run = 0;
    struct eb_arena *a = eb_arena_create(1024);
    assert_non_null(eb_arena_alloc(a, 1000));
    assert_null(eb_arena_alloc(a, 100));
    eb_arena_on_destroy(a, count_cleanup, NULL);
    eb_arena_on_destroy(a, count_cleanup, NULL);
    eb_arena_destroy(a);
    assert_int_equal(cleanups_run, 2);
}

static void buf_respects_max(void **state)
{
    (void)state;
    struct eb_buf b;
    eb_buf_init(&b, 10);
    assert_int_equal(eb_buf_puts(&b, "12345"), 0);
    assert_int_equal(eb_buf_printf(&b, "%d", 67890), 0);
    assert_int_equal(eb_buf_puts(&b, "x"), EB_ETOOBIG);
    assert_true(b.overflow);
    assert_string_equal(b.data, "1234567890");
    eb_buf_free(&b);
}

static void cache_answers_only_the_stored_version(void **state)
{
    (void)state;
    struct eb_cache *c = eb_cache_create(1 << 20, 64);
    struct eb_buf b;
    eb_buf_init(&b, 0);
    assert_int_equal(eb_cache_get(c, "k", 1, &b), 0);
    eb_cache_put(c, "k", 1, "one", 3);
    assert_int_equal(eb_cache_get(c, "k", 1, &b), 1);
    assert_string_equal(b.data, "one");
    eb_buf_reset(&b);
    /* A newer version in the database makes the entry unreachable. */
    assert_int_equal(eb_cache_get(c, "k", 2, &b), 0);
    eb_cache_put(c, "k", 2, "two", 3);
    /* A slow reader that read version 1 cannot put its older bytes back over version 2. */
    eb_cache_put(c, "k", 1, "old", 3);
    assert_int_equal(eb_cache_get(c, "k", 2, &b), 1);
    assert_string_equal(b.data, "two");
    struct eb_cache_stats st;
    eb_cache_stats(c, &st);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 2);
    eb_buf_free(&b);
    eb_cache_destroy(c);
}

static void cache_keeps_to_its_byte_budget(void **state)
{
    (void)state;
    struct eb_cache *c = eb_cache_create(1000, 64);
    char big[600];
    memset(big, 'x', sizeof(big));
    char key[16];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        eb_cache_put(c, key, 1, big, sizeof(big));
    }
    struct eb_cache_stats st;
    eb_cache_stats(c, &st);
    assert_true(st.bytes <= 1000);
    assert_true(st.stores >= 1);
    eb_cache_destroy(c);
}

EB_TEST_GROUP(core)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_allocates_zeroed_aligned_memory),
        cmocka_unit_test(arena_cap_refuses_growth_but_runs_cleanups),
        cmocka_unit_test(buf_respects_max),
        cmocka_unit_test(cache_answers_only_the_stored_version),
        cmocka_unit_test(cache_keeps_to_its_byte_budget),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
