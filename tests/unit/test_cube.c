/* Unit tests of the brain's cube (src/brain/cube.c): hand-computed cases, random trees and
 * observations (removals included) against a naive recomputation, and a writer racing readers. */
#include "unit.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brain/brain.h"
#include "core/err.h"

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: deterministic per seed, so a failure can be replayed. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static int rnd(uint64_t *s, int n)
{
    return (int)(rng_next(s) % (uint64_t)n);
}

/* ---- hand-computed cases ----------------------------------------------------------------- */

static void tree_small(struct eb_cube *c)
{
    /* city 1 -> district 2 -> school 3 -> grade 4 -> classes 5, 6; school 7 directly under 2. */
    assert_int_equal(eb_cube_add_node(c, 1, 0, EB_ORG_CITY), 0);
    assert_int_equal(eb_cube_add_node(c, 2, 1, EB_ORG_DISTRICT), 0);
    assert_int_equal(eb_cube_add_node(c, 3, 2, EB_ORG_SCHOOL), 0);
    assert_int_equal(eb_cube_add_node(c, 7, 2, EB_ORG_SCHOOL), 0);
    assert_int_equal(eb_cube_add_node(c, 4, 3, EB_ORG_GRADE), 0);
    assert_int_equal(eb_cube_add_node(c, 6, 4, EB_ORG_CLASS), 0);
    assert_int_equal(eb_cube_add_node(c, 5, 4, EB_ORG_CLASS), 0);
}

static void cube_sums_and_counts_up_the_path(void **state)
{
    (void)state;
    struct eb_cube *c = eb_cube_new();
    tree_small(c);
    struct eb_cube_value v;
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 5, 100, 30, 1), 0);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 6, 100, 28, 1), 0);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 6, 101, 27, 1), 0);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 7, 140, 5, 1), 0);
    assert_int_equal(eb_cube_get(c, 1, 1, 0, 1000, &v), 0);
    assert_true(v.sum == 90 && v.count == 4 && v.last_day == 140 && v.last == 5);
    assert_int_equal(eb_cube_get(c, 1, 4, 100, 100, &v), 0);
    assert_true(v.sum == 58 && v.count == 2 && v.last_day == 100 && v.last == 58);
    assert_int_equal(eb_cube_get(c, 1, 3, 101, 139, &v), 0);
    assert_true(v.sum == 27 && v.count == 1 && v.last_day == 101);
    assert_int_equal(eb_cube_get(c, 1, 7, 0, 139, &v), 0);
    assert_true(v.sum == 0 && v.count == 0 && v.last_day == 0);
    /* An empty range and an unknown element answer count 0; an unknown node is not found. */
    assert_int_equal(eb_cube_get(c, 1, 1, 101, 100, &v), 0);
    assert_int_equal(v.count, 0);
    assert_int_equal(eb_cube_get(c, 99, 1, 0, 1000, &v), 0);
    assert_int_equal(v.count, 0);
    assert_int_equal(eb_cube_get(c, 1, 42, 0, 1000, &v), EB_ENOTFOUND);
    /* A removal takes exactly its value away again. */
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 6, 100, 28, -1), 0);
    assert_int_equal(eb_cube_get(c, 1, 2, 0, 1000, &v), 0);
    assert_true(v.sum == 62 && v.count == 3);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 5, 100, 30, -1), 0);
    assert_int_equal(eb_cube_get(c, 1, 4, 100, 100, &v), 0);
    assert_true(v.sum == 0 && v.count == 0 && v.last_day == 0);
    /* The whole day range, to its ends, works. */
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 5, INT32_MIN, 1, 1), 0);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 5, INT32_MAX, 2, 1), 0);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 5, -1, 4, 1), 0);
    assert_int_equal(eb_cube_get(c, 1, 1, INT32_MIN, INT32_MAX, &v), 0);
    assert_true(v.sum == 39 && v.count == 5 && v.last_day == INT32_MAX && v.last == 2);
    assert_int_equal(eb_cube_get(c, 1, 1, INT32_MIN, -1, &v), 0);
    assert_true(v.sum == 5 && v.count == 2 && v.last_day == -1);
    /* More values on one day than a narrow cell counts, and sums no float holds. */
    for (int i = 0; i < 70000; i++)
        assert_int_equal(eb_cube_apply(c, 5, EB_AGG_COUNT, 5 + i % 2, 200, 1, 1), 0);
    assert_int_equal(eb_cube_get(c, 5, 1, 200, 200, &v), 0);
    assert_true(v.count == 70000 && v.sum == 70000);
    assert_int_equal(eb_cube_get(c, 5, 6, 190, 210, &v), 0);
    assert_true(v.count == 35000 && v.sum == 35000);
    assert_int_equal(eb_cube_apply(c, 6, EB_AGG_SUM, 5, 300, 0.1, 1), 0);
    assert_int_equal(eb_cube_apply(c, 6, EB_AGG_SUM, 5, 301, 16777217, 1), 0);
    assert_int_equal(eb_cube_get(c, 6, 3, 300, 300, &v), 0);
    assert_true(v.sum == 0.1 && v.count == 1);
    assert_int_equal(eb_cube_get(c, 6, 2, 301, 301, &v), 0);
    assert_true(v.sum == 16777217 && v.count == 1);
    eb_cube_free(c);
}

static void cube_refuses_bad_input(void **state)
{
    (void)state;
    struct eb_cube *c = eb_cube_new();
    tree_small(c);
    assert_int_equal(eb_cube_add_node(c, 5, 4, EB_ORG_CLASS), 0); /* the same again */
    assert_int_equal(eb_cube_add_node(c, 5, 3, EB_ORG_CLASS), EB_EEXIST);
    assert_int_equal(eb_cube_add_node(c, 8, 77, EB_ORG_CLASS), EB_ENOTFOUND);
    assert_int_equal(eb_cube_add_node(c, 0, 1, EB_ORG_CLASS), EB_EINVAL);
    assert_int_equal(eb_cube_add_node(c, 9, 1, (enum eb_org_kind)9), EB_EINVAL);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 42, 1, 1, 1), EB_ENOTFOUND);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 5, 1, 1, 2), EB_EINVAL);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 5, 1, NAN, 1), EB_EINVAL);
    assert_int_equal(eb_cube_apply(c, 1, (enum eb_agg)0, 5, 1, 1, 1), EB_EINVAL);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 5, 1, 1, 1), 0);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_MAX, 5, 1, 1, 1), EB_EINVAL);
    /* Removing what was never applied is refused and changes nothing. */
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 6, 1, 1, -1), EB_EINVAL);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 5, 2, 1, -1), EB_EINVAL);
    assert_int_equal(eb_cube_apply(c, 1, EB_AGG_SUM, 4, 1, 1, -1), EB_EINVAL);
    assert_int_equal(eb_cube_apply(c, 2, EB_AGG_MIN, 5, 1, 3, 1), 0);
    assert_int_equal(eb_cube_apply(c, 2, EB_AGG_MIN, 5, 1, 4, -1), EB_EINVAL);
    struct eb_cube_value v;
    assert_int_equal(eb_cube_get(c, 1, 1, 0, 10, &v), 0);
    assert_true(v.sum == 1 && v.count == 1);
    /* Children come sorted; a short buffer says how many are needed. */
    int64_t ids[4];
    size_t n = 1;
    assert_int_equal(eb_cube_children(c, 4, ids, &n), EB_ETOOBIG);
    assert_int_equal(n, 2);
    n = 4;
    assert_int_equal(eb_cube_children(c, 4, ids, &n), 0);
    assert_int_equal(n, 2);
    assert_true(ids[0] == 5 && ids[1] == 6);
    n = 4;
    assert_int_equal(eb_cube_children(c, 5, ids, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(eb_cube_children(c, 99, ids, &n), EB_ENOTFOUND);
    assert_true(eb_cube_bytes(c) > 1000);
    eb_cube_free(c);
}

static void cube_last_sums_latest_values_of_sources(void **state)
{
    (void)state;
    struct eb_cube *c = eb_cube_new();
    tree_small(c);
    struct eb_cube_value v;
    enum eb_agg L = EB_AGG_LAST;
    assert_int_equal(eb_cube_apply(c, 3, L, 5, 10, 30, 1), 0);
    assert_int_equal(eb_cube_apply(c, 3, L, 6, 12, 25, 1), 0);
    assert_int_equal(eb_cube_apply(c, 3, L, 5, 45, 31, 1), 0); /* another chunk */
    assert_int_equal(eb_cube_get(c, 3, 1, 0, 100, &v), 0);
    assert_true(v.last_day == 45 && v.last == 56 && v.count == 3 && v.sum == 86);
    assert_int_equal(eb_cube_get(c, 3, 4, 0, 12, &v), 0);
    assert_true(v.last_day == 12 && v.last == 55);
    assert_int_equal(eb_cube_get(c, 3, 4, 0, 11, &v), 0);
    assert_true(v.last_day == 10 && v.last == 30);
    assert_int_equal(eb_cube_get(c, 3, 5, 0, 44, &v), 0);
    assert_true(v.last_day == 10 && v.last == 30);
    assert_int_equal(eb_cube_get(c, 3, 4, 13, 44, &v), 0);
    assert_true(v.count == 0 && v.last == 0);
    /* A correction: the new value first, then the old one removed. */
    assert_int_equal(eb_cube_apply(c, 3, L, 6, 12, 26, 1), 0);
    assert_int_equal(eb_cube_get(c, 3, 6, 12, 12, &v), 0);
    assert_true(v.last == 25.5); /* two values on one day: their mean, until the removal */
    assert_int_equal(eb_cube_get(c, 3, 1, 12, 12, &v), 0);
    assert_true(v.last == 55.5);
    assert_int_equal(eb_cube_apply(c, 3, L, 6, 12, 25, -1), 0);
    assert_int_equal(eb_cube_get(c, 3, 1, 0, 100, &v), 0);
    assert_true(v.last_day == 45 && v.last == 57);
    assert_int_equal(eb_cube_apply(c, 3, L, 5, 45, 31, -1), 0);
    assert_int_equal(eb_cube_get(c, 3, 1, 0, 100, &v), 0);
    assert_true(v.last_day == 12 && v.last == 56 && v.count == 2);
    /* A value inserted before the others changes what later days carry. */
    assert_int_equal(eb_cube_apply(c, 3, L, 6, 2, 20, 1), 0);
    assert_int_equal(eb_cube_get(c, 3, 1, 0, 10, &v), 0);
    assert_true(v.last_day == 10 && v.last == 50);
    assert_int_equal(eb_cube_get(c, 3, 1, 0, 100, &v), 0);
    assert_true(v.last_day == 12 && v.last == 56);
    eb_cube_free(c);
}

static void cube_min_max_survive_removals(void **state)
{
    (void)state;
    struct eb_cube *c = eb_cube_new();
    tree_small(c);
    struct eb_cube_value v;
    assert_int_equal(eb_cube_apply(c, 4, EB_AGG_MIN, 5, 10, 3, 1), 0);
    assert_int_equal(eb_cube_apply(c, 4, EB_AGG_MIN, 5, 10, 1, 1), 0);
    assert_int_equal(eb_cube_apply(c, 4, EB_AGG_MIN, 6, 10, 9, 1), 0);
    assert_int_equal(eb_cube_apply(c, 4, EB_AGG_MIN, 7, 50, -2, 1), 0);
    assert_int_equal(eb_cube_get(c, 4, 1, 0, 100, &v), 0);
    assert_true(v.min == -2 && v.max == 9 && v.count == 4);
    assert_int_equal(eb_cube_apply(c, 4, EB_AGG_MIN, 7, 50, -2, -1), 0);
    assert_int_equal(eb_cube_apply(c, 4, EB_AGG_MIN, 6, 10, 9, -1), 0);
    assert_int_equal(eb_cube_get(c, 4, 1, 0, 100, &v), 0);
    assert_true(v.min == 1 && v.max == 3 && v.count == 2);
    assert_int_equal(eb_cube_apply(c, 4, EB_AGG_MIN, 5, 10, 1, -1), 0);
    assert_int_equal(eb_cube_get(c, 4, 2, 10, 10, &v), 0);
    assert_true(v.min == 3 && v.max == 3 && v.count == 1);
    eb_cube_free(c);
}

/* ---- random trees against a naive recomputation ------------------------------------------ */

#define RT_MAX_NODES 400
#define RT_MAX_OBS   4000
#define RT_ELEMS     6

struct rt_obs {
    int elem; /* 0..5: element id 11 + elem, aggregation elem + 1 */
    int node;
    eb_day day;
    double value;
    int active;
};

static struct {
    int n_nodes;
    int parent[RT_MAX_NODES]; /* index, -1 for the root */
    int kind[RT_MAX_NODES];
    int leaf_level[RT_ELEMS]; /* 0: any node, else the kind the element reports at */
    struct rt_obs obs[RT_MAX_OBS];
    int n_obs;
} rt;

static int64_t rt_id(int i)
{
    return 1000 + 7 * (int64_t)i; /* ids unrelated to the order of the indexes */
}

static int rt_under(int node, int top)
{
    for (int p = node; p >= 0; p = rt.parent[p])
        if (p == top)
            return 1;
    return 0;
}

static void rt_tree(struct eb_cube *c, uint64_t *s)
{
    rt.n_nodes = 0;
    int frontier[RT_MAX_NODES], n_front = 0;
    rt.parent[0] = -1;
    rt.kind[0] = EB_ORG_CITY;
    rt.n_nodes = 1;
    frontier[n_front++] = 0;
    for (int f = 0; f < n_front; f++) {
        int p = frontier[f];
        if (rt.kind[p] == EB_ORG_CLASS)
            continue;
        int kids = 1 + rnd(s, 4);
        for (int k = 0; k < kids && rt.n_nodes < RT_MAX_NODES; k++) {
            int i = rt.n_nodes++;
            rt.parent[i] = p;
            rt.kind[i] = rt.kind[p] + 1;
            frontier[n_front++] = i;
        }
    }
    for (int i = 0; i < rt.n_nodes; i++)
        assert_int_equal(eb_cube_add_node(c, rt_id(i), i ? rt_id(rt.parent[i]) : 0,
                                          (enum eb_org_kind)rt.kind[i]),
                         0);
}

/* A node that an element's observation may name. */
static int rt_pick_node(uint64_t *s, int elem)
{
    for (;;) {
        int i = rnd(s, rt.n_nodes);
        if (!rt.leaf_level[elem] || rt.kind[i] == rt.leaf_level[elem])
            return i;
    }
}

static void rt_naive(int elem, int top, eb_day from, eb_day to, struct eb_cube_value *out)
{
    memset(out, 0, sizeof(*out));
    int any = 0;
    for (int i = 0; i < rt.n_obs; i++) {
        const struct rt_obs *o = &rt.obs[i];
        if (!o->active || o->elem != elem || o->day < from || o->day > to ||
            !rt_under(o->node, top))
            continue;
        out->sum += o->value;
        out->count++;
        out->min = any && out->min < o->value ? out->min : o->value;
        out->max = any && out->max > o->value ? out->max : o->value;
        out->last_day = any && out->last_day > o->day ? out->last_day : o->day;
        any = 1;
    }
    if (!any)
        return;
    if (elem + 1 != EB_AGG_LAST) {
        for (int i = 0; i < rt.n_obs; i++) {
            const struct rt_obs *o = &rt.obs[i];
            if (o->active && o->elem == elem && o->day == out->last_day && rt_under(o->node, top))
                out->last += o->value;
        }
        return;
    }
    /* Every source below top carries the mean of its latest day on or before last_day. */
    for (int n = 0; n < rt.n_nodes; n++) {
        if (!rt_under(n, top))
            continue;
        eb_day best = 0;
        int found = 0;
        for (int i = 0; i < rt.n_obs; i++) {
            const struct rt_obs *o = &rt.obs[i];
            if (o->active && o->elem == elem && o->node == n && o->day <= out->last_day &&
                (!found || o->day > best)) {
                best = o->day;
                found = 1;
            }
        }
        if (!found)
            continue;
        double sum = 0;
        int cnt = 0;
        for (int i = 0; i < rt.n_obs; i++) {
            const struct rt_obs *o = &rt.obs[i];
            if (o->active && o->elem == elem && o->node == n && o->day == best) {
                sum += o->value;
                cnt++;
            }
        }
        out->last += sum / cnt;
    }
}

static int close_to(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (1 + fabs(a) + fabs(b));
}

static void rt_check(struct eb_cube *c, uint64_t *s, int n_queries, uint64_t seed)
{
    for (int q = 0; q < n_queries; q++) {
        int elem = rnd(s, RT_ELEMS), node = rnd(s, rt.n_nodes);
        eb_day from = -80 + rnd(s, 260), to = from + rnd(s, 3) * rnd(s, 120) - 2;
        if (rnd(s, 10) == 0) {
            from = INT32_MIN;
            to = INT32_MAX;
        }
        struct eb_cube_value got, want;
        assert_int_equal(eb_cube_get(c, 11 + elem, rt_id(node), from, to, &got), 0);
        rt_naive(elem, node, from, to, &want);
        int agg = elem + 1;
        int ok = got.count == want.count && close_to(got.sum, want.sum) &&
                 got.last_day == want.last_day && close_to(got.last, want.last);
        if (agg == EB_AGG_MIN || agg == EB_AGG_MAX)
            ok = ok && got.min == want.min && got.max == want.max;
        if (!ok)
            fail_msg("seed %llu: element %d node %d [%d, %d]: cube sum %g count %lld min %g "
                     "max %g last %g@%d, naive sum %g count %lld min %g max %g last %g@%d",
                     (unsigned long long)seed, elem, node, from, to, got.sum, (long long)got.count,
                     got.min, got.max, got.last, got.last_day, want.sum, (long long)want.count,
                     want.min, want.max, want.last, want.last_day);
    }
}

static void cube_equals_naive_recomputation(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        uint64_t s = seed * 0x9E3779B97F4A7C15ULL;
        struct eb_cube *c = eb_cube_new();
        rt_tree(c, &s);
        /* Most elements report at one level; some take values at any node, so that a node
         * is a source and has sources below it. */
        for (int e = 0; e < RT_ELEMS; e++)
            rt.leaf_level[e] = rnd(&s, 3) == 0 ? 0 : (rnd(&s, 2) ? EB_ORG_CLASS : EB_ORG_SCHOOL);
        rt.n_obs = 0;
        int n_ops = 1500 + rnd(&s, 1500);
        for (int op = 0; op < n_ops; op++) {
            if (rt.n_obs > 0 && rnd(&s, 4) == 0) {
                struct rt_obs *o = &rt.obs[rnd(&s, rt.n_obs)];
                if (o->active) {
                    assert_int_equal(eb_cube_apply(c, 11 + o->elem, (enum eb_agg)(o->elem + 1),
                                                   rt_id(o->node), o->day, o->value, -1),
                                     0);
                    o->active = 0;
                }
            } else if (rt.n_obs < RT_MAX_OBS) {
                struct rt_obs *o = &rt.obs[rt.n_obs++];
                o->elem = rnd(&s, RT_ELEMS);
                o->node = rt_pick_node(&s, o->elem);
                /* Days on both sides of 1970 and over several chunks; a few days repeat. */
                o->day = -70 + rnd(&s, 200);
                /* Mostly multiples of 1/4 (exact in a narrow chunk); some tenths and some
                 * values beyond 2^24 make chunks wide. */
                int r = rnd(&s, 40);
                o->value = r == 0  ? 3e7 + rnd(&s, 1000)
                           : r < 5 ? (rnd(&s, 1000) - 300) / 10.0
                                   : (rnd(&s, 400) - 100) / 4.0;
                o->active = 1;
                assert_int_equal(eb_cube_apply(c, 11 + o->elem, (enum eb_agg)(o->elem + 1),
                                               rt_id(o->node), o->day, o->value, 1),
                                 0);
            }
            if (op % 500 == 499)
                rt_check(c, &s, 200, seed);
        }
        rt_check(c, &s, 600, seed);
        /* Children as the tree has them. */
        for (int i = 0; i < rt.n_nodes; i += 7) {
            int64_t ids[RT_MAX_NODES];
            size_t n = RT_MAX_NODES, want = 0;
            assert_int_equal(eb_cube_children(c, rt_id(i), ids, &n), 0);
            for (int k = 0; k < rt.n_nodes; k++)
                if (rt.parent[k] == i)
                    assert_int_equal(ids[want++], rt_id(k)); /* ids grow with the index */
            assert_int_equal(n, want);
        }
        /* Everything removed: every cell is empty again. */
        for (int i = 0; i < rt.n_obs; i++) {
            struct rt_obs *o = &rt.obs[i];
            if (o->active)
                assert_int_equal(eb_cube_apply(c, 11 + o->elem, (enum eb_agg)(o->elem + 1),
                                               rt_id(o->node), o->day, o->value, -1),
                                 0);
            o->active = 0;
        }
        for (int e = 0; e < RT_ELEMS; e++) {
            struct eb_cube_value v;
            assert_int_equal(eb_cube_get(c, 11 + e, rt_id(0), INT32_MIN, INT32_MAX, &v), 0);
            assert_true(v.count == 0 && v.sum == 0 && v.last == 0);
        }
        eb_cube_free(c);
    }
}

/* ---- a writer racing readers ------------------------------------------------------------- */

#define CC_LEAVES 64
#define CC_BIG    33554432.0 /* 2^25: a chunk that gets one is widened under the readers */

static struct {
    struct eb_cube *c;
    atomic_int done;
    atomic_long failures, reads;
    atomic_int n_leaves;
    int64_t leaves[CC_LEAVES + 64];
    long applied; /* net count at the end (writer only) */
} cc;

static void *cc_writer(void *arg)
{
    (void)arg;
    uint64_t s = 77;
    struct {
        int64_t org;
        eb_day day;
        int big;
    } added[4096];
    int n_added = 0;
    cc.applied = 0;
    for (int i = 0; i < 60000; i++) {
        if (i % 1000 == 0 && atomic_load(&cc.n_leaves) < CC_LEAVES + 60) {
            /* New classes come while readers run. */
            int n = atomic_load(&cc.n_leaves);
            int64_t id = 10000 + n;
            if (eb_cube_add_node(cc.c, id, 3, EB_ORG_GRADE) != 0)
                atomic_fetch_add(&cc.failures, 1);
            cc.leaves[n] = id;
            atomic_store(&cc.n_leaves, n + 1);
        }
        int n_leaves = atomic_load(&cc.n_leaves);
        if (n_added > 0 && (rnd(&s, 3) == 0 || n_added == 4096)) {
            int k = rnd(&s, n_added);
            double big = added[k].big ? CC_BIG : 1;
            if (eb_cube_apply(cc.c, 4, EB_AGG_SUM, added[k].org, added[k].day, big, -1) ||
                eb_cube_apply(cc.c, 1, EB_AGG_SUM, added[k].org, added[k].day, 1, -1) ||
                eb_cube_apply(cc.c, 2, EB_AGG_MAX, added[k].org, added[k].day, 1, -1) ||
                eb_cube_apply(cc.c, 3, EB_AGG_LAST, added[k].org, added[k].day, 1, -1))
                atomic_fetch_add(&cc.failures, 1);
            added[k] = added[--n_added];
            cc.applied--;
        } else {
            int64_t org = cc.leaves[rnd(&s, n_leaves)];
            eb_day day = rnd(&s, 400);
            int big = rnd(&s, 50) == 0;
            if (eb_cube_apply(cc.c, 4, EB_AGG_SUM, org, day, big ? CC_BIG : 1, 1) ||
                eb_cube_apply(cc.c, 1, EB_AGG_SUM, org, day, 1, 1) ||
                eb_cube_apply(cc.c, 2, EB_AGG_MAX, org, day, 1, 1) ||
                eb_cube_apply(cc.c, 3, EB_AGG_LAST, org, day, 1, 1))
                atomic_fetch_add(&cc.failures, 1);
            added[n_added].big = big;
            added[n_added].org = org;
            added[n_added++].day = day;
            cc.applied++;
        }
    }
    atomic_store(&cc.done, 1);
    return NULL;
}

static void *cc_reader(void *arg)
{
    uint64_t s = (uint64_t)(uintptr_t)arg;
    while (!atomic_load(&cc.done)) {
        int n_leaves = atomic_load(&cc.n_leaves);
        int pick = rnd(&s, n_leaves + 3);
        int64_t org = pick < n_leaves ? cc.leaves[pick] : 1 + (pick - n_leaves);
        eb_day from = rnd(&s, 420) - 10, to = from + rnd(&s, 200);
        struct eb_cube_value a, b, l, g;
        if (eb_cube_get(cc.c, 1, org, from, to, &a) || eb_cube_get(cc.c, 2, org, from, to, &b) ||
            eb_cube_get(cc.c, 3, org, from, to, &l) || eb_cube_get(cc.c, 4, org, from, to, &g))
            atomic_fetch_add(&cc.failures, 1);
        /* Values 1 and 2^25: the excess over the count is a multiple of 2^25 - 1. */
        if (g.count < 0 || fmod(g.sum - (double)g.count, CC_BIG - 1) != 0)
            atomic_fetch_add(&cc.failures, 1);
        /* Unit values: a cell read whole always has sum == count. */
        if (a.sum != (double)a.count || a.count < 0 || b.sum != (double)b.count ||
            (b.count > 0 && (b.min != 1 || b.max != 1)) || l.sum != (double)l.count || l.last < 0 ||
            l.last > CC_LEAVES + 64 || l.last != floor(l.last))
            atomic_fetch_add(&cc.failures, 1);
        int64_t ids[CC_LEAVES + 64];
        size_t n = CC_LEAVES + 64;
        if (eb_cube_children(cc.c, 3, ids, &n) != 0 || n < (size_t)n_leaves)
            atomic_fetch_add(&cc.failures, 1);
        atomic_fetch_add(&cc.reads, 1);
    }
    return NULL;
}

static void cube_readers_never_see_torn_cells(void **state)
{
    (void)state;
    memset(&cc, 0, sizeof(cc));
    cc.c = eb_cube_new();
    assert_int_equal(eb_cube_add_node(cc.c, 1, 0, EB_ORG_CITY), 0);
    assert_int_equal(eb_cube_add_node(cc.c, 2, 1, EB_ORG_DISTRICT), 0);
    assert_int_equal(eb_cube_add_node(cc.c, 3, 2, EB_ORG_SCHOOL), 0);
    for (int i = 0; i < CC_LEAVES; i++) {
        cc.leaves[i] = 100 + i;
        assert_int_equal(eb_cube_add_node(cc.c, 100 + i, 3, EB_ORG_GRADE), 0);
    }
    atomic_store(&cc.n_leaves, CC_LEAVES);
    pthread_t w, r[3];
    for (uintptr_t i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&r[i], NULL, cc_reader, (void *)(i + 1)), 0);
    assert_int_equal(pthread_create(&w, NULL, cc_writer, NULL), 0);
    pthread_join(w, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(r[i], NULL);
    assert_int_equal(atomic_load(&cc.failures), 0);
    assert_true(atomic_load(&cc.reads) > 100);
    struct eb_cube_value v;
    assert_int_equal(eb_cube_get(cc.c, 1, 1, INT32_MIN, INT32_MAX, &v), 0);
    assert_int_equal(v.count, cc.applied);
    assert_true(v.sum == (double)cc.applied);
    eb_cube_free(cc.c);
}

EB_TEST_GROUP(cube)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cube_sums_and_counts_up_the_path),
        cmocka_unit_test(cube_refuses_bad_input),
        cmocka_unit_test(cube_last_sums_latest_values_of_sources),
        cmocka_unit_test(cube_min_max_survive_removals),
        cmocka_unit_test(cube_equals_naive_recomputation),
        cmocka_unit_test(cube_readers_never_see_torn_cells),
    };
    return cmocka_run_group_tests_name("cube", tests, NULL, NULL);
}
