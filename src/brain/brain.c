/* The brain of a server: start and stop, the org tree, the cube's rebuild in the background,
 * following other writers (PostgreSQL LISTEN eb_obs, or polling SQLite) and the listeners. */
#include "brain/brain_int.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

static const struct eb_caller SYS = {.system = 1};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the org tree --------------------------------------------------------------------------- */

static size_t slot_of(int64_t id, size_t cap)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (cap - 1);
}

/* Inserts or finds; the caller holds tree_lock for writing. */
static void tree_put(struct eb_brain *b, int64_t id, int64_t parent_id, enum eb_org_kind kind,
                     const char *path)
{
    if ((b->n_nodes + 1) * 2 > b->nodes_cap) {
        size_t cap = b->nodes_cap ? b->nodes_cap * 2 : 1024;
        struct eb__brain_node *nodes = eb_xcalloc(cap, sizeof(*nodes));
        for (size_t i = 0; i < b->nodes_cap; i++) {
            if (b->nodes[i].id == 0)
                continue;
            size_t s = slot_of(b->nodes[i].id, cap);
            while (nodes[s].id != 0)
                s = (s + 1) & (cap - 1);
            nodes[s] = b->nodes[i];
        }
        eb_free(b->nodes);
        b->nodes = nodes;
        b->nodes_cap = cap;
    }
    size_t s = slot_of(id, b->nodes_cap);
    while (b->nodes[s].id != 0 && b->nodes[s].id != id)
        s = (s + 1) & (b->nodes_cap - 1);
    if (b->nodes[s].id == id)
        return;
    b->nodes[s].id = id;
    b->nodes[s].parent_id = parent_id;
    b->nodes[s].kind = kind;
    b->nodes[s].path = eb_xstrdup(path);
    b->n_nodes++;
    if (id > b->max_org_id)
        b->max_org_id = id;
}

/* The caller holds tree_lock. */
static const struct eb__brain_node *tree_get(const struct eb_brain *b, int64_t id)
{
    if (b->nodes_cap == 0 || id <= 0)
        return NULL;
    size_t s = slot_of(id, b->nodes_cap);
    while (b->nodes[s].id != 0) {
        if (b->nodes[s].id == id)
            return &b->nodes[s];
        s = (s + 1) & (b->nodes_cap - 1);
    }
    return NULL;
}

struct new_nodes {
    struct eb__brain_node *v;
    size_t n, cap;
};

static int collect_node(void *ctx, int64_t id, int64_t parent_id, enum eb_org_kind kind,
                        const char *path)
{
    struct new_nodes *nn = ctx;
    if (nn->n == nn->cap) {
        nn->cap = nn->cap ? nn->cap * 2 : 256;
        nn->v = eb_xrealloc(nn->v, nn->cap * sizeof(*nn->v));
    }
    nn->v[nn->n++] = (struct eb__brain_node){id, parent_id, kind, eb_xstrdup(path)};
    return 0;
}

/*
 * Reads the orgs created since the last load (ids only grow) into the tree and the cube. The
 * store is read with no lock of the tree held; the cube is updated under apply_mu (taken here
 * unless the caller, a writer of the cube, holds it), then the tree under tree_lock: the order
 * is always apply_mu before tree_lock.
 */
static int tree_refresh(struct eb_brain *b, struct eb_db *db, int apply_held)
{
    struct new_nodes nn = {0};
    pthread_rwlock_rdlock(&b->tree_lock);
    int64_t after = b->max_org_id;
    pthread_rwlock_unlock(&b->tree_lock);
    int rc = eb_store_org_nodes(db, after, collect_node, &nn);
    if (rc == 0 && nn.n > 0) {
        if (!apply_held)
            pthread_mutex_lock(&b->apply_mu);
        for (size_t i = 0; i < nn.n && rc == 0; i++) {
            rc = eb_cube_add_node(b->cube, nn.v[i].id, nn.v[i].parent_id, nn.v[i].kind);
            if (rc == EB_EEXIST)
                rc = 0;
        }
        if (!apply_held)
            pthread_mutex_unlock(&b->apply_mu);
        pthread_rwlock_wrlock(&b->tree_lock);
        for (size_t i = 0; i < nn.n; i++)
            tree_put(b, nn.v[i].id, nn.v[i].parent_id, nn.v[i].kind, nn.v[i].path);
        pthread_rwlock_unlock(&b->tree_lock);
    }
    for (size_t i = 0; i < nn.n; i++)
        eb_free(nn.v[i].path);
    eb_free(nn.v);
    return rc;
}

int eb__brain_node(struct eb_brain *b, int64_t org_id, struct eb__brain_node *out,
                   char path[EB_PATH_MAX])
{
    for (int attempt = 0; attempt < 2; attempt++) {
        pthread_rwlock_rdlock(&b->tree_lock);
        const struct eb__brain_node *n = tree_get(b, org_id);
        int64_t max = b->max_org_id;
        if (n != NULL) {
            *out = *n;
            size_t len = strlen(n->path);
            if (len >= EB_PATH_MAX)
                len = EB_PATH_MAX - 1;
            memcpy(path, n->path, len);
            path[len] = '\0';
            out->path = path;
        }
        pthread_rwlock_unlock(&b->tree_lock);
        if (n != NULL)
            return 0;
        if (attempt == 1 || org_id <= max)
            break; /* an id below the newest known one is no org (ids only grow) */
        struct eb_db *db = eb_store_acquire(b->store);
        int rc = tree_refresh(b, db, 0);
        eb_store_release(b->store, db);
        if (rc != 0)
            return rc;
    }
    return EB_ENOTFOUND;
}

/* ---- the cube ----------------------------------------------------------------------------- */

int eb__brain_apply(struct eb_brain *b, int32_t element_id, int64_t org_id, eb_day day,
                    double value, int sign)
{
    const struct eb_element *e = eb_brain_element(b, element_id);
    if (e == NULL) {
        /* An element another server created since this one loaded them. */
        eb__brain_elements_load(b);
        e = eb_brain_element(b, element_id);
        if (e == NULL)
            return EB_ENOTFOUND;
    }
    int rc = eb_cube_apply(b->cube, element_id, e->agg, org_id, day, value, sign);
    if (rc == EB_ENOTFOUND) {
        /* An org created since the tree was loaded, by another server (this one's own ingest
         * met it in validation): read the new orgs, with apply_mu still held by the caller. */
        struct eb_db *db = eb_store_acquire(b->store);
        rc = tree_refresh(b, db, 1);
        eb_store_release(b->store, db);
        if (rc == 0)
            rc = eb_cube_apply(b->cube, element_id, e->agg, org_id, day, value, sign);
    }
    return rc;
}

const struct eb_cube *eb_brain_cube(const struct eb_brain *b)
{
    return b ? b->cube : NULL;
}

int eb_brain_warming(const struct eb_brain *b)
{
    return b ? atomic_load(&b->warming) : 0;
}

/* ---- listeners ------------------------------------------------------------------------------ */

int eb_brain_subscribe(struct eb_brain *b, eb_brain_listener fn, void *ctx)
{
    if (b == NULL || fn == NULL)
        return EB_EINVAL;
    pthread_mutex_lock(&b->listen_mu);
    if (b->n_listeners == b->cap_listeners) {
        b->cap_listeners = b->cap_listeners ? b->cap_listeners * 2 : 8;
        b->listeners = eb_xrealloc(b->listeners, b->cap_listeners * sizeof(*b->listeners));
    }
    b->listeners[b->n_listeners++] = (struct eb__brain_listener){fn, ctx};
    pthread_mutex_unlock(&b->listen_mu);
    return 0;
}

/* A set of changed cells: open addressing over (element, org, day), grown as it fills. A
 * commit of many rows touches few cells (rows repeat classes and days), so it starts small. */
struct change_set {
    struct eb_brain_change *v;
    unsigned char *used;
    size_t cap, n;
};

static size_t change_slot(const struct change_set *s, int32_t e, int64_t org, eb_day day)
{
    uint64_t h = ((uint64_t)(uint32_t)e * 0x9E3779B97F4A7C15ull) ^
                 ((uint64_t)org * 0xC2B2AE3D27D4EB4Full) ^ ((uint64_t)(uint32_t)day << 17);
    h ^= h >> 29;
    size_t i = (size_t)h & (s->cap - 1);
    while (s->used[i] && !(s->v[i].element_id == e && s->v[i].org_id == org && s->v[i].day == day))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static void change_init(struct change_set *s, size_t cap)
{
    s->cap = cap;
    s->n = 0;
    s->v = eb_xmalloc(cap * sizeof(*s->v));
    s->used = eb_xcalloc(cap, 1);
}

static void change_add(struct change_set *s, int32_t e, int64_t org, eb_day day)
{
    if ((s->n + 1) * 2 > s->cap) {
        struct change_set big;
        change_init(&big, s->cap * 4);
        for (size_t i = 0; i < s->cap; i++)
            if (s->used[i]) {
                size_t j = change_slot(&big, s->v[i].element_id, s->v[i].org_id, s->v[i].day);
                big.used[j] = 1;
                big.v[j] = s->v[i];
                big.n++;
            }
        eb_free(s->v);
        eb_free(s->used);
        *s = big;
    }
    size_t i = change_slot(s, e, org, day);
    if (s->used[i])
        return;
    s->used[i] = 1;
    s->v[i] = (struct eb_brain_change){e, org, day};
    s->n++;
}

void eb__brain_changed(struct eb_brain *b, const int32_t *elements, const int64_t *orgs,
                       const eb_day *days, size_t n)
{
    pthread_mutex_lock(&b->listen_mu);
    size_t n_listeners = b->n_listeners;
    pthread_mutex_unlock(&b->listen_mu);
    if (n_listeners == 0 || n == 0)
        return;
    struct change_set s;
    change_init(&s, 1024);
    pthread_rwlock_rdlock(&b->tree_lock);
    for (size_t i = 0; i < n; i++) {
        /* Rows of one batch often repeat the previous row's cell: skip the walk up then. */
        if (i > 0 && elements[i] == elements[i - 1] && orgs[i] == orgs[i - 1] &&
            days[i] == days[i - 1])
            continue;
        int64_t org = orgs[i];
        for (int depth = 0; org != 0 && depth < 8; depth++) {
            change_add(&s, elements[i], org, days[i]);
            const struct eb__brain_node *node = tree_get(b, org);
            org = node ? node->parent_id : 0;
        }
    }
    pthread_rwlock_unlock(&b->tree_lock);
    /* Compact the table into a plain array, in table order (listeners coalesce anyway). */
    size_t k = 0;
    for (size_t i = 0; i < s.cap; i++)
        if (s.used[i])
            s.v[k++] = s.v[i];
    pthread_mutex_lock(&b->listen_mu);
    for (size_t i = 0; i < b->n_listeners; i++)
        b->listeners[i].fn(b->listeners[i].ctx, s.v, k);
    pthread_mutex_unlock(&b->listen_mu);
    eb_free(s.v);
    eb_free(s.used);
}

/* ---- catching up with rows other writers committed ------------------------------------------ */

struct catch_up {
    struct eb_brain *b;
    struct eb_db *db;
    int32_t *el;
    int64_t *org;
    eb_day *day;
    size_t n, cap;
    int64_t high;
};

static void remember(struct catch_up *cu, int32_t e, int64_t org, eb_day day)
{
    if (cu->n == cu->cap) {
        cu->cap = cu->cap ? cu->cap * 2 : 256;
        cu->el = eb_xrealloc(cu->el, cu->cap * sizeof(*cu->el));
        cu->org = eb_xrealloc(cu->org, cu->cap * sizeof(*cu->org));
        cu->day = eb_xrealloc(cu->day, cu->cap * sizeof(*cu->day));
    }
    cu->el[cu->n] = e;
    cu->org[cu->n] = org;
    cu->day[cu->n] = day;
    cu->n++;
}

static int catch_up_row(void *ctx, int64_t id, int32_t element_id, int64_t org_id, int32_t day,
                        double value, int64_t supersedes)
{
    struct catch_up *cu = ctx;
    if (supersedes != 0) {
        struct eb_arena *a = eb_arena_create(0);
        struct eb_obs_row old;
        int64_t by = 0;
        int rc = eb_store_obs_get(cu->db, &SYS, supersedes, a, &old, &by);
        if (rc == 0) {
            rc = eb__brain_apply(cu->b, old.element_id, old.org_id, old.day, old.value, -1);
            remember(cu, old.element_id, old.org_id, old.day);
        }
        eb_arena_destroy(a);
        if (rc != 0)
            eb_warn("brain: correction %" PRId64 " of %" PRId64 ": %s", id, supersedes,
                    eb_strerror(rc));
    }
    int rc = eb__brain_apply(cu->b, element_id, org_id, day, value, 1);
    if (rc != 0)
        eb_warn("brain: observation %" PRId64 " not applied: %s", id, eb_strerror(rc));
    remember(cu, element_id, org_id, day);
    if (id > cu->high)
        cu->high = id;
    return 0;
}

/* With apply_mu held: applies every row after b->high and moves it on. */
static int catch_up_locked(struct eb_brain *b, struct eb_db *db, struct catch_up *cu)
{
    cu->b = b;
    cu->db = db;
    cu->high = b->high;
    int rc = eb_store_obs_scan(db, b->high, catch_up_row, cu);
    if (cu->high > b->high)
        b->high = cu->high;
    return rc;
}

int eb__brain_catch_up(struct eb_brain *b, struct eb_db *db)
{
    struct catch_up cu = {0};
    pthread_mutex_lock(&b->apply_mu);
    int rc = catch_up_locked(b, db, &cu);
    pthread_mutex_unlock(&b->apply_mu);
    if (cu.n > 0) {
        eb_debug("brain: caught up with %zu observations of other writers", cu.n);
        eb__brain_changed(b, cu.el, cu.org, cu.day, cu.n);
    }
    eb_free(cu.el);
    eb_free(cu.org);
    eb_free(cu.day);
    return rc;
}

int eb__brain_catch_up_in_tx(struct eb_brain *b, struct eb_db *db, int32_t **el, int64_t **org,
                             eb_day **day, size_t *n)
{
    struct catch_up cu = {0};
    int rc = catch_up_locked(b, db, &cu);
    *el = cu.el;
    *org = cu.org;
    *day = cu.day;
    *n = cu.n;
    return rc;
}

/* ---- the rebuild ------------------------------------------------------------------------------
 */

#define REBUILD_BATCH 8192

struct rebuild {
    struct eb_brain *b;
    struct {
        int32_t element_id;
        int32_t day;
        int64_t org_id;
        double value;
    } buf[REBUILD_BATCH];
    size_t n;
    int64_t rows, last_id;
    double started, logged;
};

/* Applies the buffered rows in one hold of apply_mu: the writer waits for at most a batch. */
static void rebuild_flush(struct rebuild *r)
{
    struct eb_brain *b = r->b;
    pthread_mutex_lock(&b->apply_mu);
    for (size_t i = 0; i < r->n; i++)
        eb__brain_apply(b, r->buf[i].element_id, r->buf[i].org_id, r->buf[i].day, r->buf[i].value,
                        1);
    pthread_mutex_unlock(&b->apply_mu);
    r->rows += (int64_t)r->n;
    r->n = 0;
    atomic_store(&b->rebuild_done, r->rows);
    double t = now_s();
    if (t - r->logged >= 5.0) {
        r->logged = t;
        eb_info("brain: rebuilding the cube: %" PRId64 " observations (id %" PRId64 " of %" PRId64
                ", %.0f%%), %.0f/s",
                r->rows, r->last_id, b->rebuild_upto,
                b->rebuild_upto ? 100.0 * (double)r->last_id / (double)b->rebuild_upto : 100.0,
                (double)r->rows / (t - r->started));
    }
}

static int rebuild_row(void *ctx, int64_t id, int32_t element_id, int64_t org_id, int32_t day,
                       double value, int64_t supersedes)
{
    struct rebuild *r = ctx;
    (void)supersedes; /* 0 in a scan from the start */
    if (atomic_load(&r->b->stop))
        return EB_EBUSY;
    r->buf[r->n].element_id = element_id;
    r->buf[r->n].org_id = org_id;
    r->buf[r->n].day = day;
    r->buf[r->n].value = value;
    r->n++;
    r->last_id = id;
    if (r->n == REBUILD_BATCH)
        rebuild_flush(r);
    return 0;
}

static void *rebuild_main(void *arg)
{
    struct eb_brain *b = arg;
    struct rebuild *r = eb_xcalloc(1, sizeof(*r));
    r->b = b;
    r->started = r->logged = now_s();
    eb_info("brain: rebuilding the cube from the observations up to id %" PRId64, b->rebuild_upto);
    struct eb_db *db = eb_store_acquire(b->store);
    int rc = eb_store_obs_scan_upto(db, 0, b->rebuild_upto, rebuild_row, r);
    eb_store_release(b->store, db);
    if (rc == 0 && r->n > 0)
        rebuild_flush(r);
    double took = now_s() - r->started;
    if (rc == 0)
        eb_info("brain: the cube is ready: %" PRId64 " observations in %.2f s (%.0f/s), %zu MiB",
                r->rows, took, took > 0 ? (double)r->rows / took : 0.0,
                eb_cube_bytes(b->cube) >> 20);
    else if (!atomic_load(&b->stop))
        eb_error("brain: the cube's rebuild failed: %s", eb_strerror(rc));
    atomic_store(&b->warming, 0);
    eb_free(r);
    return NULL;
}

/* ---- following other writers ------------------------------------------------------------------
 */

/*
 * PostgreSQL: other servers NOTIFY eb_obs after each commit; this thread LISTENs and catches up
 * (and also every few seconds, in case a notification was lost with a connection). SQLite: no
 * other server, but the CLI (import observations, demo --history) may write to the file while
 * the server runs, so it polls once a second; each poll is two index lookups.
 */
static void *follow_main(void *arg)
{
    struct eb_brain *b = arg;
    struct eb_obs_listener *l = NULL;
    if (b->pg && eb_store_obs_listen(b->store, &l) != 0)
        eb_warn("brain: LISTEN eb_obs failed; following other servers by polling");
    double last_poll = now_s();
    long long checkpointed = 0;
    while (!atomic_load(&b->stop)) {
        /* The writer's commits leave their checkpoint to this thread (eb_store_obs_writer). */
        long long commits = atomic_load(&b->commits);
        if (commits != checkpointed) {
            checkpointed = commits;
            struct eb_db *cdb = eb_store_acquire(b->store);
            eb_store_checkpoint(cdb);
            eb_store_release(b->store, cdb);
        }
        int64_t high = 0;
        int heard = 0;
        if (l != NULL) {
            heard = eb_store_obs_listen_wait(l, 250, &high) == 1;
        } else {
            struct timespec ts = {0, 250 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (atomic_load(&b->stop))
            break;
        double t = now_s();
        int poll_due = t - last_poll >= (l != NULL ? 5.0 : 1.0);
        if (!heard && !poll_due)
            continue;
        pthread_mutex_lock(&b->apply_mu);
        int behind = !heard || high > b->high;
        pthread_mutex_unlock(&b->apply_mu);
        if (!behind)
            continue;
        last_poll = t;
        struct eb_db *db = eb_store_acquire(b->store);
        int rc = eb__brain_catch_up(b, db);
        eb_store_release(b->store, db);
        if (rc != 0)
            eb_warn("brain: catching up failed: %s", eb_strerror(rc));
    }
    eb_store_obs_listen_close(l);
    return NULL;
}

/* ---- start and stop
 * ------------------------------------------------------------------------------ */

static int load_node(void *ctx, int64_t id, int64_t parent_id, enum eb_org_kind kind,
                     const char *path)
{
    struct eb_brain *b = ctx;
    tree_put(b, id, parent_id, kind, path);
    int rc = eb_cube_add_node(b->cube, id, parent_id, kind);
    return rc == EB_EEXIST ? 0 : rc;
}

/* The part of a start every brain needs: locks, elements, the tree, the high-water mark. */
static int brain_open(struct eb_store *st, struct eb_brain **out)
{
    struct eb_brain *b = eb_xcalloc(1, sizeof(*b));
    *out = b;
    b->store = st;
    b->pg = strcmp(eb_store_backend_name(st), "postgresql") == 0;
    pthread_rwlock_init(&b->el_lock, NULL);
    pthread_rwlock_init(&b->tree_lock, NULL);
    pthread_mutex_init(&b->apply_mu, NULL);
    pthread_mutex_init(&b->queue_mu, NULL);
    pthread_cond_init(&b->queue_cv, NULL);
    pthread_cond_init(&b->done_cv, NULL);
    pthread_mutex_init(&b->listen_mu, NULL);
    atomic_store(&b->warming, 1);
    b->cube = eb_cube_new();
    int rc = eb__brain_elements_load(b);
    struct eb_db *db = NULL;
    if (rc != 0)
        goto done;
    /* The tree is small (a city has some 40,000 nodes) and every ingest needs it: loaded here.
     * The observations are many: their rebuild runs in its own thread. */
    db = eb_store_acquire(st);
    pthread_rwlock_wrlock(&b->tree_lock);
    rc = eb_store_org_nodes(db, 0, load_node, b);
    pthread_rwlock_unlock(&b->tree_lock);
    if (rc == 0)
        rc = eb_store_obs_high(db, &b->rebuild_upto);
    eb_store_release(st, db);
    if (rc != 0)
        goto done;
    b->high = b->rebuild_upto;
done:
    return rc;
}

int eb__brain_open_offline(struct eb_store *st, struct eb_brain **out)
{
    *out = NULL;
    if (st == NULL)
        return EB_EINVAL;
    struct eb_brain *b = NULL;
    int rc = brain_open(st, &b);
    atomic_store(&b->warming, 0);
    if (rc != 0) {
        eb_brain_stop(b);
        return rc;
    }
    *out = b;
    return 0;
}

int eb_brain_start(struct eb_store *st, struct eb_brain **out)
{
    *out = NULL;
    if (st == NULL)
        return EB_EINVAL;
    double t0 = now_s();
    struct eb_brain *b = NULL;
    int rc = brain_open(st, &b);
    if (rc != 0)
        goto done;
    rc = eb__brain_writer_start(b);
    if (rc != 0)
        goto done;
    if (pthread_create(&b->rebuilder, NULL, rebuild_main, b) != 0) {
        rc = EB_EINTERNAL;
        goto done;
    }
    b->have_rebuilder = 1;
    if (pthread_create(&b->follower, NULL, follow_main, b) != 0) {
        rc = EB_EINTERNAL;
        goto done;
    }
    b->have_follower = 1;
    eb_info("brain: %zu org nodes, elements loaded in %.0f ms; the cube warms in the background",
            b->n_nodes, (now_s() - t0) * 1000.0);
done:
    if (rc != 0) {
        eb_error("brain: cannot start: %s", eb_strerror(rc));
        eb_brain_stop(b);
        return rc;
    }
    *out = b;
    return 0;
}

void eb_brain_stop(struct eb_brain *b)
{
    if (b == NULL)
        return;
    atomic_store(&b->stop, 1);
    eb__brain_writer_stop(b);
    if (b->have_rebuilder)
        pthread_join(b->rebuilder, NULL);
    if (b->have_follower)
        pthread_join(b->follower, NULL);
    eb_cube_free(b->cube);
    for (size_t i = 0; i < b->nodes_cap; i++)
        eb_free(b->nodes[i].path);
    eb_free(b->nodes);
    eb__brain_elements_free(b);
    eb_free(b->listeners);
    pthread_rwlock_destroy(&b->el_lock);
    pthread_rwlock_destroy(&b->tree_lock);
    pthread_mutex_destroy(&b->apply_mu);
    pthread_mutex_destroy(&b->queue_mu);
    pthread_cond_destroy(&b->queue_cv);
    pthread_cond_destroy(&b->done_cv);
    pthread_mutex_destroy(&b->listen_mu);
    eb_free(b);
}
