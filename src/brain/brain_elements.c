/* The brain's cache of data elements: read from the store at start and after a new element, by
 * id (an array: ids are small) and by code; an element once loaded is never moved or freed. */
#include "brain/brain_int.h"

#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

static char *dup_or_null(const char *s)
{
    return s ? eb_xstrdup(s) : NULL;
}

static struct eb_element *element_new(const struct eb_element_row *r)
{
    struct eb_element *e = eb_xcalloc(1, sizeof(*e));
    e->id = r->id;
    e->code = eb_xstrdup(r->code);
    e->name_zh = eb_xstrdup(r->name_zh);
    e->name_en = eb_xstrdup(r->name_en);
    e->unit_zh = dup_or_null(r->unit_zh);
    e->unit_en = dup_or_null(r->unit_en);
    e->type = eb_vtype_parse(r->value_type);
    e->agg = eb_agg_parse(r->aggregation);
    e->level = r->level;
    e->per_person = r->per_person;
    e->min = r->min;
    e->max = r->max;
    e->builtin = r->builtin;
    return e;
}

/* The strings were eb_xstrdup'd by element_new; the struct's const only keeps readers honest. */
static void free_str(const char *s)
{
    union {
        const char *c;
        char *m;
    } u = {.c = s};
    eb_free(u.m);
}

static void element_free(struct eb_element *e)
{
    if (e == NULL)
        return;
    free_str(e->code);
    free_str(e->name_zh);
    free_str(e->name_en);
    free_str(e->unit_zh);
    free_str(e->unit_en);
    eb_free(e);
}

int eb__brain_elements_load(struct eb_brain *b)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb_db *db = eb_store_acquire(b->store);
    size_t n = 0;
    struct eb_element_row *rows = NULL;
    int rc = eb_store_elements_seed(db);
    if (rc == 0)
        rc = eb_store_elements_list(db, a, &n, &rows);
    eb_store_release(b->store, db);
    if (rc != 0)
        goto done;
    pthread_rwlock_wrlock(&b->el_lock);
    for (size_t i = 0; i < n; i++) {
        const struct eb_element_row *r = &rows[i];
        if (r->id <= 0 || eb_vtype_parse(r->value_type) == 0 || eb_agg_parse(r->aggregation) == 0)
            continue;
        size_t id = (size_t)r->id;
        if (id >= b->n_by_id) {
            size_t cap = b->n_by_id ? b->n_by_id : 64;
            while (cap <= id)
                cap *= 2;
            b->by_id = eb_xrealloc(b->by_id, cap * sizeof(*b->by_id));
            memset(b->by_id + b->n_by_id, 0, (cap - b->n_by_id) * sizeof(*b->by_id));
            b->n_by_id = cap;
        }
        if (b->by_id[id] == NULL)
            b->by_id[id] = element_new(r);
    }
    pthread_rwlock_unlock(&b->el_lock);
done:
    eb_arena_destroy(a);
    return rc;
}

void eb__brain_elements_free(struct eb_brain *b)
{
    for (size_t i = 0; i < b->n_by_id; i++)
        element_free(b->by_id[i]);
    eb_free(b->by_id);
    b->by_id = NULL;
    b->n_by_id = 0;
}

int eb_brain_elements_reload(struct eb_brain *b)
{
    return b ? eb__brain_elements_load(b) : EB_EINVAL;
}

/* Lookups take the read lock: a reload may grow the array under a reader. The elements
 * themselves never move, so the pointer returned outlives the lock. */
const struct eb_element *eb_brain_element(const struct eb_brain *b, int32_t id)
{
    if (b == NULL || id <= 0)
        return NULL;
    struct eb_brain *m = (struct eb_brain *)(uintptr_t)b;
    const struct eb_element *e = NULL;
    pthread_rwlock_rdlock(&m->el_lock);
    if ((size_t)id < m->n_by_id)
        e = m->by_id[id];
    pthread_rwlock_unlock(&m->el_lock);
    return e;
}

const struct eb_element *eb_brain_element_by_code(const struct eb_brain *b, const char *code)
{
    if (b == NULL || code == NULL)
        return NULL;
    struct eb_brain *m = (struct eb_brain *)(uintptr_t)b;
    const struct eb_element *e = NULL;
    pthread_rwlock_rdlock(&m->el_lock);
    for (size_t i = 0; i < m->n_by_id && e == NULL; i++)
        if (m->by_id[i] != NULL && strcmp(m->by_id[i]->code, code) == 0)
            e = m->by_id[i];
    pthread_rwlock_unlock(&m->el_lock);
    return e;
}
