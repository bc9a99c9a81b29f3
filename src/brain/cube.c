/* The brain's in-memory cube: per data element, org node and day the sum, count, min, max and
 * last value, kept in 32-day chunks that readers copy under a per-chunk sequence lock. */
#include "brain/brain.h"

#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

/*
 * Layout (docs/internals/brain.md, "The cube"):
 *
 *   org_id --idmap--> node index --blocks[]--> struct node --sdir[element index]--> series
 *   series --cdir (sorted by chunk index)--> chunk: 32 days of {sum, cnt} and their totals
 *                                            (+ ld[] for "last", + mn[]/mx[] for min and max)
 *
 * One writer at a time mutates; readers take no lock. Chunks never move once published: a
 * growing directory (idmap, children, sdir, cdir) is copied into a larger one that is published,
 * and the old one is kept until eb_cube_free, because a reader may still be walking it. Growth
 * is geometric, so what is kept is less than what is live; while no reader has ever looked at
 * the cube (a rebuild into a fresh cube), the old directory is freed at once (see retire).
 */

#define CHUNK_DAYS      32
#define NODE_BLOCK_BITS 10
#define NODE_BLOCK      (1 << NODE_BLOCK_BITS)
#define NODE_BLOCKS     4096 /* 4 M nodes */
#define MAX_ELEMS       4096
#define MAX_DEPTH       32
#define CDIR_MIN        4 /* chunk entries of a new series */

#define RLX memory_order_relaxed
#define ACQ memory_order_acquire
#define REL memory_order_release

#define LD(x)    atomic_load_explicit(&(x), RLX)
#define ST(x, v) atomic_store_explicit(&(x), (v), RLX)

/* ---- the id maps: org id or element id -> dense index (open addressing) ------------------ */

struct idslot {
    _Atomic int64_t key; /* 0 = empty; ids are positive */
    _Atomic int32_t val;
};

struct idmap {
    uint32_t mask;
    uint32_t n; /* used slots (writer only) */
    struct idslot s[];
};

/* ---- nodes, series, chunks --------------------------------------------------------------- */

/* The children of a node: appended by the writer, n published after the slot is written. */
struct kids {
    _Atomic uint32_t n;
    uint32_t cap;
    int32_t idx[];
};

struct series;

/* The series of a node, indexed by element index. */
struct sdir {
    uint32_t cap;
    _Atomic(struct series *) s[];
};

/* The chunks of a series in ascending chunk index, only where data came: a stray day decades
 * away costs one entry, not a directory spanning the decades. Entries below n never change;
 * the writer appends past n and then publishes n. */
struct cdir {
    _Atomic uint32_t n;
    uint32_t cap;
    struct centry {
        int64_t ci;
        _Atomic(struct chunk *) k; /* replaced when the chunk is widened */
    } e[];
};

struct series {
    int agg;
    _Atomic(struct cdir *) cdir;
};

struct node {
    int64_t org_id;
    int32_t parent; /* node index, -1 for a root */
    int32_t kind;
    _Atomic(struct kids *) kids;
    _Atomic(struct sdir *) sdir;
};

/* Values applied at one node itself on one day (min/max elements only): what a removal needs
 * to find the next smallest or largest value. Touched by the writer only. */
struct vals {
    uint32_t n, cap;
    double v[];
};

/* Extra arrays of a chunk of an EB_AGG_LAST series. ld[d] is the change on day d of the
 * "carried sum": the sum over the sources below the node of each source's latest value (see
 * last_value); the carried sum on day x is the prefix sum of ld up to x. */
struct chunk_last {
    _Atomic double tld;
    _Atomic double ld[CHUNK_DAYS];
};

/* Extra arrays of a chunk of a min or max series. */
struct chunk_mm {
    _Atomic double tmn, tmx;
    _Atomic double mn[CHUNK_DAYS], mx[CHUNK_DAYS];
    struct vals *own[CHUNK_DAYS];
};

/*
 * 32 days of one series. The cells come in two widths: narrow (float sums, uint16 counts: 192
 * bytes) while every cell's sum is exactly a float and every count fits, else wide (double,
 * uint32: 384 bytes). A class reports small integers or halves, and even the city's daily sums
 * stay below 2^24, so nearly every chunk stays narrow and the cube holds half the bytes; the
 * first value that does not fit replaces the chunk with a wide copy (widen). Either way a cell
 * holds exactly the double the writer computed.
 */
struct chunk {
    _Atomic uint32_t seq; /* odd while the writer changes the chunk */
    eb_day day0;
    int wide;
    _Atomic int64_t tcnt;
    _Atomic double tsum;
    struct chunk_last *lx;             /* EB_AGG_LAST only, in the same allocation */
    struct chunk_mm *mm;               /* EB_AGG_MIN and EB_AGG_MAX only, in the same allocation */
    _Alignas(8) unsigned char cells[]; /* sums[32] then counts[32], narrow or wide */
};

#define NARROW_CELLS (CHUNK_DAYS * (sizeof(float) + sizeof(uint16_t)))
#define WIDE_CELLS   (CHUNK_DAYS * (sizeof(double) + sizeof(uint32_t)))

struct elem {
    int32_t id;
    int agg;
};

struct eb_cube {
    _Atomic(struct idmap *) nodes_map, elems_map;
    _Atomic(struct node *) blocks[NODE_BLOCKS];
    int32_t n_nodes;
    int32_t n_elems;
    struct elem elems[MAX_ELEMS]; /* written before the element's id is published */
    void **retired;
    size_t n_retired, cap_retired;
    _Atomic int *readers; /* set once a reader has looked (a pointer: readers see a const cube) */
    _Atomic size_t bytes;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static void *cube_alloc(struct eb_cube *c, size_t n)
{
    atomic_fetch_add_explicit(&c->bytes, n, RLX);
    return eb_xcalloc(1, n);
}

/*
 * Keeps p, a directory just replaced with a seq_cst store, until the cube is freed, because a
 * reader may hold it. While no reader has looked at the cube, p is freed at once: a reader sets
 * the flag (seq_cst) and issues a seq_cst fence before it loads any directory, so when the flag
 * reads 0 here, every later reader loads the replacement (the store pair of Dekker's algorithm).
 */
static void retire(struct eb_cube *c, void *p, size_t bytes)
{
    if (!p)
        return;
    if (!atomic_load(c->readers)) {
        atomic_fetch_sub_explicit(&c->bytes, bytes, RLX);
        eb_free(p);
        return;
    }
    if (c->n_retired == c->cap_retired) {
        c->cap_retired = c->cap_retired ? 2 * c->cap_retired : 64;
        c->retired = eb_xrealloc(c->retired, c->cap_retired * sizeof(*c->retired));
    }
    c->retired[c->n_retired++] = p;
}

static int64_t chunk_index(eb_day d)
{
    /* Floor division, so that days before 1970 fall into their own chunks too. */
    return d >= 0 ? d / CHUNK_DAYS : -((-(int64_t)d + CHUNK_DAYS - 1) / CHUNK_DAYS);
}

static uint32_t hash64(int64_t key)
{
    uint64_t x = (uint64_t)key;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

static int32_t idmap_get(const struct idmap *m, int64_t key)
{
    if (!m)
        return -1;
    for (uint32_t i = hash64(key) & m->mask;; i = (i + 1) & m->mask) {
        int64_t k = atomic_load_explicit(&m->s[i].key, ACQ);
        if (k == key)
            return LD(m->s[i].val);
        if (k == 0)
            return -1;
    }
}

static void idmap_insert(struct idmap *m, int64_t key, int32_t val)
{
    uint32_t i = hash64(key) & m->mask;
    while (LD(m->s[i].key) != 0)
        i = (i + 1) & m->mask;
    ST(m->s[i].val, val);
    atomic_store_explicit(&m->s[i].key, key, REL);
    m->n++;
}

/* Adds key (not yet present) to *slot, growing the table at half load. */
static void idmap_put(struct eb_cube *c, _Atomic(struct idmap *) *slot, int64_t key, int32_t val)
{
    struct idmap *m = atomic_load_explicit(slot, RLX);
    if (!m || 2 * (m->n + 1) > m->mask + 1) {
        uint32_t cap = m ? 2 * (m->mask + 1) : 64;
        struct idmap *g = cube_alloc(c, sizeof(*g) + cap * sizeof(struct idslot));
        g->mask = cap - 1;
        for (uint32_t i = 0; m && i <= m->mask; i++) {
            int64_t k = LD(m->s[i].key);
            if (k)
                idmap_insert(g, k, LD(m->s[i].val));
        }
        atomic_store(slot, g);
        retire(c, m, m ? sizeof(*m) + (m->mask + 1) * sizeof(struct idslot) : 0);
        m = g;
    }
    idmap_insert(m, key, val);
}

static struct node *node_at(const struct eb_cube *c, int32_t idx)
{
    struct node *b = atomic_load_explicit(&c->blocks[idx >> NODE_BLOCK_BITS], ACQ);
    return &b[idx & (NODE_BLOCK - 1)];
}

static int32_t node_find(const struct eb_cube *c, int64_t org_id)
{
    return idmap_get(atomic_load_explicit(&c->nodes_map, ACQ), org_id);
}

static int32_t elem_find(const struct eb_cube *c, int32_t element_id)
{
    return idmap_get(atomic_load_explicit(&c->elems_map, ACQ), element_id);
}

static struct series *series_of(const struct node *nd, int32_t ei)
{
    struct sdir *sd = atomic_load_explicit(&nd->sdir, ACQ);
    if (!sd || (uint32_t)ei >= sd->cap)
        return NULL;
    return atomic_load_explicit(&sd->s[ei], ACQ);
}

/* The first entry of cd[0..n) whose chunk index is >= ci (n when none). */
static uint32_t cdir_lower(const struct cdir *cd, uint32_t n, int64_t ci)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cd->e[mid].ci < ci)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const struct cdir *cdir_of(const struct series *s, uint32_t *n)
{
    const struct cdir *cd = atomic_load_explicit(&s->cdir, ACQ);
    *n = cd ? atomic_load_explicit(&cd->n, ACQ) : 0;
    return cd;
}

static struct chunk *chunk_at(const struct series *s, int64_t ci)
{
    uint32_t n;
    const struct cdir *cd = cdir_of(s, &n);
    uint32_t i = cd ? cdir_lower(cd, n, ci) : 0;
    return i < n && cd->e[i].ci == ci ? atomic_load_explicit(&cd->e[i].k, ACQ) : NULL;
}

/* ---- cells ------------------------------------------------------------------------------- */

static double csum(const struct chunk *k, int d)
{
    if (k->wide)
        return LD(((const _Atomic double *)(const void *)k->cells)[d]);
    return LD(((const _Atomic float *)(const void *)k->cells)[d]);
}

static uint32_t ccnt(const struct chunk *k, int d)
{
    if (k->wide)
        return LD(
            ((const _Atomic uint32_t *)(const void *)(k->cells + CHUNK_DAYS * sizeof(double)))[d]);
    return LD(((const _Atomic uint16_t *)(const void *)(k->cells + CHUNK_DAYS * sizeof(float)))[d]);
}

/* Whether sum and cnt are held exactly by k's cells. */
static int cfits(const struct chunk *k, double sum, uint32_t cnt)
{
    /* The range test comes first: converting a double beyond float's range is undefined. */
    return k->wide || (fabs(sum) <= 16777216.0 && (double)(float)sum == sum && cnt <= UINT16_MAX);
}

static void cset(struct chunk *k, int d, double sum, uint32_t cnt)
{
    if (k->wide) {
        ST(((_Atomic double *)(void *)k->cells)[d], sum);
        ST(((_Atomic uint32_t *)(void *)(k->cells + CHUNK_DAYS * sizeof(double)))[d], cnt);
    } else {
        ST(((_Atomic float *)(void *)k->cells)[d], (float)sum);
        ST(((_Atomic uint16_t *)(void *)(k->cells + CHUNK_DAYS * sizeof(float)))[d], (uint16_t)cnt);
    }
}

/* ---- the writer's side of the sequence lock ---------------------------------------------- */

static void wbegin(struct chunk *k)
{
    ST(k->seq, LD(k->seq) + 1);
    atomic_thread_fence(REL);
}

static void wend(struct chunk *k)
{
    atomic_store_explicit(&k->seq, LD(k->seq) + 1, REL);
}

/* ---- the cube's life --------------------------------------------------------------------- */

struct eb_cube *eb_cube_new(void)
{
    struct eb_cube *c = eb_xcalloc(1, sizeof(*c));
    c->readers = eb_xcalloc(1, sizeof(*c->readers));
    atomic_store_explicit(&c->bytes, sizeof(*c), RLX);
    return c;
}

/* Called by every reader before it loads a directory (see retire). */
static void reader_enter(const struct eb_cube *c)
{
    if (!atomic_load_explicit(c->readers, RLX)) {
        atomic_store(c->readers, 1);
        atomic_thread_fence(memory_order_seq_cst);
    }
}

static void free_series(struct series *s)
{
    struct cdir *cd = LD(s->cdir);
    uint32_t n = cd ? LD(cd->n) : 0;
    for (uint32_t i = 0; i < n; i++) {
        struct chunk *k = LD(cd->e[i].k);
        if (k->mm)
            for (int d = 0; d < CHUNK_DAYS; d++)
                eb_free(k->mm->own[d]);
        eb_free(k);
    }
    eb_free(cd);
    eb_free(s);
}

void eb_cube_free(struct eb_cube *c)
{
    if (!c)
        return;
    for (int32_t i = 0; i < c->n_nodes; i++) {
        struct node *nd = node_at(c, i);
        struct sdir *sd = LD(nd->sdir);
        for (uint32_t e = 0; sd && e < sd->cap; e++) {
            struct series *s = LD(sd->s[e]);
            if (s)
                free_series(s);
        }
        eb_free(sd);
        eb_free(LD(nd->kids));
    }
    for (int b = 0; b < NODE_BLOCKS; b++)
        eb_free(LD(c->blocks[b]));
    for (size_t i = 0; i < c->n_retired; i++)
        eb_free(c->retired[i]);
    eb_free(c->retired);
    eb_free(LD(c->nodes_map));
    eb_free(LD(c->elems_map));
    eb_free(c->readers);
    eb_free(c);
}

size_t eb_cube_bytes(const struct eb_cube *c)
{
    return c ? atomic_load_explicit(&c->bytes, RLX) : 0;
}

/* ---- the tree ---------------------------------------------------------------------------- */

static void kids_append(struct eb_cube *c, struct node *parent, int32_t idx)
{
    struct kids *k = LD(parent->kids);
    uint32_t n = k ? LD(k->n) : 0;
    if (!k || n == k->cap) {
        uint32_t cap = k ? 2 * k->cap : 4;
        struct kids *g = cube_alloc(c, sizeof(*g) + cap * sizeof(int32_t));
        g->cap = cap;
        if (k)
            memcpy(g->idx, k->idx, n * sizeof(int32_t));
        ST(g->n, n);
        atomic_store(&parent->kids, g);
        retire(c, k, k ? sizeof(*k) + k->cap * sizeof(int32_t) : 0);
        k = g;
    }
    k->idx[n] = idx;
    atomic_store_explicit(&k->n, n + 1, REL);
}

int eb_cube_add_node(struct eb_cube *c, int64_t org_id, int64_t parent_id, enum eb_org_kind kind)
{
    if (!c || org_id <= 0 || parent_id < 0 || parent_id == org_id || kind < EB_ORG_CITY ||
        kind > EB_ORG_CLASS)
        return EB_EINVAL;
    int32_t pidx = -1;
    if (parent_id) {
        pidx = node_find(c, parent_id);
        if (pidx < 0)
            return EB_ENOTFOUND;
    }
    int32_t have = node_find(c, org_id);
    if (have >= 0)
        return node_at(c, have)->parent == pidx ? 0 : EB_EEXIST;
    int depth = 0;
    for (int32_t p = pidx; p >= 0; p = node_at(c, p)->parent)
        depth++;
    if (depth >= MAX_DEPTH - 1)
        return EB_EINVAL;
    int32_t idx = c->n_nodes;
    if (idx >= NODE_BLOCKS * NODE_BLOCK)
        return EB_ETOOBIG;
    int b = idx >> NODE_BLOCK_BITS;
    if (!LD(c->blocks[b]))
        atomic_store_explicit(&c->blocks[b], cube_alloc(c, NODE_BLOCK * sizeof(struct node)), REL);
    struct node *nd = node_at(c, idx);
    nd->org_id = org_id;
    nd->parent = pidx;
    nd->kind = (int32_t)kind;
    c->n_nodes++;
    if (pidx >= 0)
        kids_append(c, node_at(c, pidx), idx);
    /* Published last: a reader that finds the id finds a complete node. */
    idmap_put(c, &c->nodes_map, org_id, idx);
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int eb_cube_children(const struct eb_cube *c, int64_t org_id, int64_t *ids, size_t *n)
{
    if (!c || !n || (*n && !ids))
        return EB_EINVAL;
    reader_enter(c);
    int32_t idx = node_find(c, org_id);
    if (idx < 0)
        return EB_ENOTFOUND;
    const struct kids *k = atomic_load_explicit(&node_at(c, idx)->kids, ACQ);
    size_t cnt = k ? atomic_load_explicit(&k->n, ACQ) : 0;
    if (cnt > *n) {
        *n = cnt;
        return EB_ETOOBIG;
    }
    for (size_t i = 0; i < cnt; i++)
        ids[i] = node_at(c, k->idx[i])->org_id;
    /* Children are kept in the order they came; sorting the copy keeps the writer's append a
     * single store that readers can follow. */
    if (cnt > 1)
        qsort(ids, cnt, sizeof(*ids), cmp_i64);
    *n = cnt;
    return 0;
}

/* ---- the writer: series and chunks ------------------------------------------------------- */

static struct series *series_make(struct eb_cube *c, struct node *nd, int32_t ei, int agg)
{
    struct series *s = series_of(nd, ei);
    if (s)
        return s;
    struct sdir *sd = LD(nd->sdir);
    if (!sd || (uint32_t)ei >= sd->cap) {
        uint32_t cap = sd ? 2 * sd->cap : 8;
        while (cap <= (uint32_t)ei)
            cap *= 2;
        struct sdir *g = cube_alloc(c, sizeof(*g) + cap * sizeof(g->s[0]));
        g->cap = cap;
        for (uint32_t i = 0; sd && i < sd->cap; i++)
            ST(g->s[i], LD(sd->s[i]));
        atomic_store(&nd->sdir, g);
        retire(c, sd, sd ? sizeof(*sd) + sd->cap * sizeof(sd->s[0]) : 0);
        sd = g;
    }
    s = cube_alloc(c, sizeof(*s));
    s->agg = agg;
    atomic_store_explicit(&sd->s[ei], s, REL);
    return s;
}

static size_t chunk_size(int agg, int wide)
{
    size_t size = sizeof(struct chunk) + (wide ? WIDE_CELLS : NARROW_CELLS);
    if (agg == EB_AGG_LAST)
        size += sizeof(struct chunk_last);
    if (agg == EB_AGG_MIN || agg == EB_AGG_MAX)
        size += sizeof(struct chunk_mm);
    return size;
}

static struct chunk *chunk_alloc(struct eb_cube *c, int agg, eb_day day0, int wide)
{
    struct chunk *k = cube_alloc(c, chunk_size(agg, wide));
    k->day0 = day0;
    k->wide = wide;
    void *ext = k->cells + (wide ? WIDE_CELLS : NARROW_CELLS);
    if (agg == EB_AGG_LAST)
        k->lx = ext;
    if (agg == EB_AGG_MIN || agg == EB_AGG_MAX)
        k->mm = ext;
    return k;
}

/* Replaces narrow chunk k of s with a wide copy (k stays readable for readers that hold it). */
static struct chunk *widen(struct eb_cube *c, struct series *s, struct chunk *k)
{
    struct chunk *g = chunk_alloc(c, s->agg, k->day0, 1);
    for (int d = 0; d < CHUNK_DAYS; d++)
        cset(g, d, csum(k, d), ccnt(k, d));
    ST(g->tcnt, LD(k->tcnt));
    ST(g->tsum, LD(k->tsum));
    if (k->lx)
        memcpy(g->lx, k->lx, sizeof(*g->lx));
    if (k->mm)
        memcpy(g->mm, k->mm, sizeof(*g->mm)); /* the own-value lists move with it */
    struct cdir *cd = LD(s->cdir);
    uint32_t i = cdir_lower(cd, LD(cd->n), (int64_t)chunk_index(k->day0));
    atomic_store(&cd->e[i].k, g);
    retire(c, k, chunk_size(s->agg, 0));
    return g;
}

static struct chunk *chunk_make(struct eb_cube *c, struct series *s, int64_t ci)
{
    struct cdir *cd = LD(s->cdir);
    uint32_t n = cd ? LD(cd->n) : 0;
    uint32_t pos = cd ? cdir_lower(cd, n, ci) : 0;
    if (pos < n && cd->e[pos].ci == ci)
        return LD(cd->e[pos].k);
    struct chunk *k = chunk_alloc(c, s->agg, (eb_day)(ci * CHUNK_DAYS), 0);
    if (cd && pos == n && n < cd->cap) {
        /* Days mostly come in order: the new chunk goes at the end, published by n. */
        cd->e[n].ci = ci;
        ST(cd->e[n].k, k);
        atomic_store_explicit(&cd->n, n + 1, REL);
        return k;
    }
    uint32_t cap = !cd ? CDIR_MIN : n < cd->cap ? cd->cap : 2 * cd->cap;
    struct cdir *g = cube_alloc(c, sizeof(*g) + cap * sizeof(g->e[0]));
    g->cap = cap;
    if (pos)
        memcpy(g->e, cd->e, pos * sizeof(g->e[0]));
    g->e[pos].ci = ci;
    ST(g->e[pos].k, k);
    if (n > pos)
        memcpy(g->e + pos + 1, cd->e + pos, (n - pos) * sizeof(g->e[0]));
    ST(g->n, n + 1);
    atomic_store(&s->cdir, g);
    retire(c, cd, cd ? sizeof(*cd) + cd->cap * sizeof(cd->e[0]) : 0);
    return k;
}

/* ---- the writer: values at a node itself -------------------------------------------------- */

struct wctx {
    struct eb_cube *c;
    int32_t ei;
};

/* The sum and count of the values applied at nd itself on day: the node's cell minus its
 * children's cells (a leaf, the usual source, has none to subtract). */
static void own_values(const struct wctx *w, const struct node *nd, const struct series *s,
                       eb_day day, double *osum, int64_t *ocnt)
{
    int64_t ci = chunk_index(day);
    const struct chunk *k = chunk_at(s, ci);
    *osum = 0;
    *ocnt = 0;
    if (!k)
        return;
    *osum = csum(k, day - k->day0);
    *ocnt = ccnt(k, day - k->day0);
    const struct kids *kd = LD(nd->kids);
    uint32_t n = kd ? LD(kd->n) : 0;
    for (uint32_t i = 0; i<n && * ocnt> 0; i++) {
        const struct series *ks = series_of(node_at(w->c, kd->idx[i]), w->ei);
        const struct chunk *kk = ks ? chunk_at(ks, ci) : NULL;
        if (!kk)
            continue;
        *osum -= csum(kk, day - kk->day0);
        *ocnt -= ccnt(kk, day - kk->day0);
    }
    if (*ocnt == 0)
        *osum = 0;
}

/* The value a source carries on day: the mean of its own values on its latest day <= day with
 * own values (0 when none). */
static double carried(const struct wctx *w, const struct node *nd, const struct series *s,
                      eb_day day)
{
    uint32_t n;
    const struct cdir *cd = cdir_of(s, &n);
    int64_t cday = chunk_index(day);
    for (uint32_t i = cd ? cdir_lower(cd, n, cday + 1) : 0; i-- > 0;) {
        const struct chunk *k = LD(cd->e[i].k);
        if (LD(k->tcnt) == 0)
            continue;
        int hi = cd->e[i].ci == cday ? day - k->day0 : CHUNK_DAYS - 1;
        for (int d = hi; d >= 0; d--) {
            if (ccnt(k, d) == 0)
                continue;
            double osum;
            int64_t ocnt;
            own_values(w, nd, s, k->day0 + d, &osum, &ocnt);
            if (ocnt > 0)
                return osum / (double)ocnt;
        }
    }
    return 0;
}

/* The first day after day with own values at the source (1 when found). */
static int next_own_day(const struct wctx *w, const struct node *nd, const struct series *s,
                        eb_day day, eb_day *out)
{
    uint32_t n;
    const struct cdir *cd = cdir_of(s, &n);
    if (!cd || day == INT32_MAX)
        return 0;
    int64_t first = chunk_index(day + 1);
    for (uint32_t i = cdir_lower(cd, n, first); i < n; i++) {
        const struct chunk *k = LD(cd->e[i].k);
        if (LD(k->tcnt) == 0)
            continue;
        int lo = cd->e[i].ci == first ? day + 1 - k->day0 : 0;
        for (int d = lo; d < CHUNK_DAYS; d++) {
            if (ccnt(k, d) == 0)
                continue;
            double osum;
            int64_t ocnt;
            own_values(w, nd, s, k->day0 + d, &osum, &ocnt);
            if (ocnt > 0) {
                *out = k->day0 + d;
                return 1;
            }
        }
    }
    return 0;
}

static void ld_add(struct chunk *k, eb_day day, double delta)
{
    int d = day - k->day0;
    wbegin(k);
    ST(k->lx->ld[d], LD(k->lx->ld[d]) + delta);
    double t = 0;
    for (int i = 0; i < CHUNK_DAYS; i++)
        t += LD(k->lx->ld[i]);
    ST(k->lx->tld, t);
    wend(k);
}

static int vals_remove(struct vals *v, double x)
{
    for (uint32_t i = 0; v && i < v->n; i++)
        if (v->v[i] == x) {
            v->v[i] = v->v[--v->n];
            return 1;
        }
    return 0;
}

static void vals_add(struct eb_cube *c, struct vals **pv, double x)
{
    struct vals *v = *pv;
    if (!v || v->n == v->cap) {
        uint32_t cap = v ? 2 * v->cap : 2;
        atomic_fetch_add_explicit(
            &c->bytes, (cap - (v ? v->cap : 0)) * sizeof(double) + (v ? 0 : sizeof(*v)), RLX);
        v = eb_xrealloc(v, sizeof(*v) + cap * sizeof(double));
        if (!*pv)
            v->n = 0;
        v->cap = cap;
        *pv = v;
    }
    v->v[v->n++] = x;
}

/* The min and max of a node's cell on day from its own values and its children's cells (after
 * a removal took away what may have been the smallest or largest value). */
static void mm_recompute(const struct wctx *w, const struct node *nd, const struct chunk *k, int d,
                         double *mn, double *mx)
{
    int any = 0;
    const struct vals *v = k->mm->own[d];
    for (uint32_t i = 0; v && i < v->n; i++) {
        *mn = any && *mn < v->v[i] ? *mn : v->v[i];
        *mx = any && *mx > v->v[i] ? *mx : v->v[i];
        any = 1;
    }
    const struct kids *kd = LD(nd->kids);
    uint32_t n = kd ? LD(kd->n) : 0;
    int64_t ci = chunk_index(k->day0);
    for (uint32_t i = 0; i < n; i++) {
        const struct series *ks = series_of(node_at(w->c, kd->idx[i]), w->ei);
        const struct chunk *kk = ks ? chunk_at(ks, ci) : NULL;
        if (!kk || ccnt(kk, d) == 0)
            continue;
        double a = LD(kk->mm->mn[d]), b = LD(kk->mm->mx[d]);
        *mn = any && *mn < a ? *mn : a;
        *mx = any && *mx > b ? *mx : b;
        any = 1;
    }
    if (!any)
        *mn = *mx = 0;
}

/* Applies one value to one node's cell (the path is walked from the source up, so children
 * are already up to date when a removal recomputes a min or max). */
static void cell_apply(const struct wctx *w, const struct node *nd, struct series *s,
                       struct chunk *k, eb_day day, double value, int sign, int is_source)
{
    int d = day - k->day0;
    uint32_t cnt = ccnt(k, d);
    uint32_t ncnt = sign > 0 ? cnt + 1 : cnt - 1;
    double nsum = ncnt ? csum(k, d) + (sign > 0 ? value : -value) : 0;
    if (!cfits(k, nsum, ncnt))
        k = widen(w->c, s, k);
    int64_t ntcnt = LD(k->tcnt) + sign;
    double mn = 0, mx = 0;
    if (k->mm) {
        if (is_source && sign > 0)
            vals_add(w->c, &k->mm->own[d], value);
        else if (is_source)
            vals_remove(k->mm->own[d], value);
        mn = LD(k->mm->mn[d]);
        mx = LD(k->mm->mx[d]);
        if (sign > 0) {
            mn = cnt && mn < value ? mn : value;
            mx = cnt && mx > value ? mx : value;
        } else if (ncnt == 0) {
            mn = mx = 0;
        } else if (value <= mn || value >= mx) {
            mm_recompute(w, nd, k, d, &mn, &mx);
        }
    }
    wbegin(k);
    cset(k, d, nsum, ncnt);
    ST(k->tcnt, ntcnt);
    if (sign > 0 && ntcnt > 1) {
        ST(k->tsum, LD(k->tsum) + value);
    } else {
        /* After a removal the total is summed again from the cells, so that it stays what
         * the cells say (and exactly 0 once the chunk is empty). */
        double t = 0;
        for (int i = 0; i < CHUNK_DAYS; i++)
            t += csum(k, i);
        ST(k->tsum, t);
    }
    if (k->mm) {
        ST(k->mm->mn[d], mn);
        ST(k->mm->mx[d], mx);
        if (sign > 0 && ntcnt > 1) {
            ST(k->mm->tmn, LD(k->mm->tmn) < value ? LD(k->mm->tmn) : value);
            ST(k->mm->tmx, LD(k->mm->tmx) > value ? LD(k->mm->tmx) : value);
        } else {
            double a = 0, b = 0;
            int any = 0;
            for (int i = 0; i < CHUNK_DAYS; i++) {
                if (ccnt(k, i) == 0)
                    continue;
                double x = LD(k->mm->mn[i]), y = LD(k->mm->mx[i]);
                a = any && a < x ? a : x;
                b = any && b > y ? b : y;
                any = 1;
            }
            ST(k->mm->tmn, a);
            ST(k->mm->tmx, b);
        }
    }
    wend(k);
}

int eb_cube_apply(struct eb_cube *c, int32_t element_id, enum eb_agg agg, int64_t org_id,
                  eb_day day, double value, int sign)
{
    if (!c || element_id <= 0 || agg < EB_AGG_SUM || agg > EB_AGG_MAX ||
        (sign != 1 && sign != -1) || !isfinite(value))
        return EB_EINVAL;
    int32_t ni = node_find(c, org_id);
    if (ni < 0)
        return EB_ENOTFOUND;
    int32_t ei = elem_find(c, element_id);
    if (ei >= 0 && c->elems[ei].agg != (int)agg)
        return EB_EINVAL;
    if (ei < 0) {
        if (sign < 0)
            return EB_EINVAL;
        if (c->n_elems >= MAX_ELEMS)
            return EB_ETOOBIG;
        ei = c->n_elems++;
        c->elems[ei].id = element_id;
        c->elems[ei].agg = (int)agg;
        idmap_put(c, &c->elems_map, element_id, ei);
    }
    struct wctx w = {c, ei};
    struct node *src = node_at(c, ni);
    struct series *ss = series_of(src, ei);
    int64_t ci = chunk_index(day);
    if (sign < 0) {
        /* A removal names a value that was applied: refuse anything else before changing a
         * cell, so that a caller's mistake cannot leave negative counts behind. */
        double osum;
        int64_t ocnt = 0;
        if (ss)
            own_values(&w, src, ss, day, &osum, &ocnt);
        if (ocnt <= 0)
            return EB_EINVAL;
        if (agg == EB_AGG_MIN || agg == EB_AGG_MAX) {
            const struct chunk *k = chunk_at(ss, ci);
            const struct vals *v = k->mm->own[day - k->day0];
            uint32_t i = 0;
            while (v && i < v->n && v->v[i] != value)
                i++;
            if (!v || i == v->n)
                return EB_EINVAL;
        }
    }
    struct node *path[MAX_DEPTH];
    int n_path = 0;
    for (struct node *p = src;; p = node_at(c, p->parent)) {
        path[n_path++] = p;
        if (p->parent < 0)
            break;
    }
    ss = series_make(c, src, ei, (int)agg);
    double before = agg == EB_AGG_LAST ? carried(&w, src, ss, day) : 0;
    for (int i = 0; i < n_path; i++) {
        struct series *s = series_make(c, path[i], ei, (int)agg);
        struct chunk *k = chunk_make(c, s, ci);
        cell_apply(&w, path[i], s, k, day, value, sign, i == 0);
    }
    if (agg == EB_AGG_LAST) {
        /* The source's carried value changes from day until its next own day: one entry at
         * each end, on every node of the path (both days have data there, so the chunks
         * exist). */
        double delta = carried(&w, src, ss, day) - before;
        eb_day next = 0;
        int has_next = delta != 0 && next_own_day(&w, src, ss, day, &next);
        for (int i = 0; delta != 0 && i < n_path; i++) {
            const struct series *s = series_of(path[i], ei);
            if (has_next)
                ld_add(chunk_at(s, chunk_index(next)), next, -delta);
            ld_add(chunk_at(s, ci), day, delta);
        }
    }
    return 0;
}

/* ---- readers ----------------------------------------------------------------------------- */

struct part {
    double sum, mn, mx, last_sum;
    int64_t cnt;
    int last_d; /* -1 when no day of the range has data */
};

static void spin(unsigned *n)
{
    if (++*n > 64)
        sched_yield();
}

/* A consistent copy of what days lo..hi of k hold (retried while the writer is inside). */
static struct part read_chunk(const struct chunk *k, int lo, int hi, int want_last)
{
    struct part p;
    unsigned spins = 0;
    for (;;) {
        uint32_t s1 = atomic_load_explicit(&k->seq, ACQ);
        if (s1 & 1) {
            spin(&spins);
            continue;
        }
        memset(&p, 0, sizeof(p));
        p.last_d = -1;
        if (lo == 0 && hi == CHUNK_DAYS - 1) {
            p.sum = LD(k->tsum);
            p.cnt = LD(k->tcnt);
            if (k->mm && p.cnt) {
                p.mn = LD(k->mm->tmn);
                p.mx = LD(k->mm->tmx);
            }
        } else {
            int any = 0;
            for (int d = lo; d <= hi; d++) {
                uint32_t n = ccnt(k, d);
                if (!n)
                    continue;
                p.sum += csum(k, d);
                p.cnt += n;
                if (k->mm) {
                    double a = LD(k->mm->mn[d]), b = LD(k->mm->mx[d]);
                    p.mn = any && p.mn < a ? p.mn : a;
                    p.mx = any && p.mx > b ? p.mx : b;
                }
                any = 1;
            }
        }
        for (int d = hi; want_last && p.cnt && d >= lo; d--)
            if (ccnt(k, d)) {
                p.last_d = d;
                p.last_sum = csum(k, d);
                break;
            }
        atomic_thread_fence(ACQ);
        if (atomic_load_explicit(&k->seq, RLX) == s1)
            return p;
        spin(&spins);
    }
}

/* The sum of ld[0..upto] of a "last" chunk, consistently. */
static double read_ld(const struct chunk *k, int upto)
{
    unsigned spins = 0;
    for (;;) {
        uint32_t s1 = atomic_load_explicit(&k->seq, ACQ);
        if (s1 & 1) {
            spin(&spins);
            continue;
        }
        double t = 0;
        if (upto == CHUNK_DAYS - 1)
            t = LD(k->lx->tld);
        else
            for (int d = 0; d <= upto; d++)
                t += LD(k->lx->ld[d]);
        atomic_thread_fence(ACQ);
        if (atomic_load_explicit(&k->seq, RLX) == s1)
            return t;
        spin(&spins);
    }
}

/* The carried sum of a "last" series on day: the prefix sum of ld (see struct chunk_last). */
static double last_value(const struct series *s, eb_day day)
{
    uint32_t n;
    const struct cdir *cd = cdir_of(s, &n);
    int64_t cday = chunk_index(day);
    double t = 0;
    for (uint32_t i = 0; i < n && cd->e[i].ci <= cday; i++) {
        const struct chunk *k = atomic_load_explicit(&cd->e[i].k, ACQ);
        t += read_ld(k, cd->e[i].ci == cday ? day - k->day0 : CHUNK_DAYS - 1);
    }
    return t;
}

int eb_cube_get(const struct eb_cube *c, int32_t element_id, int64_t org_id, eb_day from, eb_day to,
                struct eb_cube_value *out)
{
    if (!c || !out)
        return EB_EINVAL;
    memset(out, 0, sizeof(*out));
    reader_enter(c);
    int32_t ni = node_find(c, org_id);
    if (ni < 0)
        return EB_ENOTFOUND;
    int32_t ei = elem_find(c, element_id);
    if (ei < 0 || from > to)
        return 0;
    const struct series *s = series_of(node_at(c, ni), ei);
    uint32_t n = 0;
    const struct cdir *cd = s ? cdir_of(s, &n) : NULL;
    if (!cd)
        return 0;
    int64_t lo = chunk_index(from);
    int found = 0, any = 0;
    /* Newest chunk first, so that the latest day with data is met first. */
    for (uint32_t i = cdir_lower(cd, n, chunk_index(to) + 1); i-- > 0 && cd->e[i].ci >= lo;) {
        const struct chunk *k = atomic_load_explicit(&cd->e[i].k, ACQ);
        int dlo = from > k->day0 ? from - k->day0 : 0;
        int dhi = to < k->day0 + CHUNK_DAYS - 1 ? to - k->day0 : CHUNK_DAYS - 1;
        struct part p = read_chunk(k, dlo, dhi, !found);
        if (!p.cnt)
            continue;
        out->sum += p.sum;
        out->count += p.cnt;
        if (k->mm) {
            out->min = any && out->min < p.mn ? out->min : p.mn;
            out->max = any && out->max > p.mx ? out->max : p.mx;
        }
        any = 1;
        if (!found && p.last_d >= 0) {
            found = 1;
            out->last_day = k->day0 + p.last_d;
            out->last = p.last_sum;
        }
    }
    if (found && s->agg == EB_AGG_LAST)
        out->last = last_value(s, out->last_day);
    return 0;
}
