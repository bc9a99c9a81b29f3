/* Ingest: the validation of a batch of observations and the group-commit writer that stores the
 * batches of concurrent requests in one transaction, applies them to the cube and wakes them. */
#include "brain/brain_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

static const struct eb_caller SYS = {.system = 1};

#define REASON_MAX   500
#define CATEGORY_MAX 64

/* ---- validation ----------------------------------------------------------------------------- */

struct findings {
    struct eb_arena *a;
    struct eb_obs_error *v;
    size_t n, cap;
    int not_found; /* some row names an org (or row) outside the caller's scope */
    int oom;
};

static void add(struct findings *f, size_t row, const char *field, const char *en, const char *zh)
{
    if (f->v == NULL) {
        f->cap = 8;
        f->v = eb_arena_alloc(f->a, f->cap * sizeof(*f->v));
    } else {
        f->v = eb_arena_grow(f->a, f->v, f->n, &f->cap, sizeof(*f->v));
    }
    if (f->v == NULL) {
        f->oom = 1;
        f->n = 0;
        return;
    }
    f->v[f->n++] = (struct eb_obs_error){row, field, en, zh};
}

static const char *const KIND_ZH[] = {"", "市", "区县", "学校", "年级", "班级"};

static int valid_code(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
              ch == ':' || ch == '-'))
            return 0;
    }
    return 1;
}

/* A node the caller sees but may not report for: said per row, since naming it discloses
 * nothing the caller cannot read already. */
#define NOT_YOURS_EN                                                                               \
    "not yours: you report for the orgs you administer or the classes you head or teach"
#define NOT_YOURS_ZH "无权填报：只能填报您管理的机构或您担任班主任、任课的班级"

/* One row against the element, the tree, the caller's scope and the store. */
static void check_row(struct eb_brain *b, struct eb_db *db, const struct eb_obs_scope *s,
                      const struct eb_obs *r, size_t i, eb_day today, struct findings *f)
{
    const struct eb_caller *c = s->c;
    const struct eb_element *e = eb_brain_element(b, r->element_id);
    if (e == NULL) {
        add(f, i, "element", "unknown data element", "未知的数据元素");
        return;
    }
    struct eb__brain_node node;
    char path[EB_PATH_MAX];
    int rc = eb__brain_node(b, r->org_id, &node, path);
    if (rc != 0 || !eb_caller_allows(c, path, EB_ACCESS_READ)) {
        /* Outside the read scope is the same answer as missing: 404 for the whole batch. */
        add(f, i, "org_id", "no such org", "机构不存在");
        f->not_found = 1;
        return;
    }
    if (!eb_store_obs_scope_allows(s, path)) {
        add(f, i, "org_id", NOT_YOURS_EN, NOT_YOURS_ZH);
        return;
    }
    if (node.kind != e->level) {
        const char *en = eb_arena_printf(f->a, "%s is reported for a %s, not a %s", e->code,
                                         eb_org_kind_name(e->level), eb_org_kind_name(node.kind));
        const char *zh = eb_arena_printf(f->a, "%s 按%s填报，不能填报到%s", e->code,
                                         KIND_ZH[e->level], KIND_ZH[node.kind]);
        add(f, i, "org_id", en ? en : "wrong org level", zh ? zh : "机构层级不符");
    }
    if (!isfinite(r->value)) {
        add(f, i, "value", "must be a finite number", "必须是有限数值");
    } else if (e->type == EB_VT_INTEGER && r->value != floor(r->value)) {
        add(f, i, "value", "must be a whole number", "必须是整数");
    } else if (e->type == EB_VT_BOOLEAN && r->value != 0 && r->value != 1) {
        add(f, i, "value", "must be 0 or 1", "必须是 0 或 1");
    } else if (r->value < e->min || r->value > e->max) {
        const char *en = eb_arena_printf(f->a, "must lie between %.10g and %.10g", e->min, e->max);
        const char *zh = eb_arena_printf(f->a, "必须在 %.10g 到 %.10g 之间", e->min, e->max);
        add(f, i, "value", en ? en : "out of range", zh ? zh : "超出范围");
    }
    if (r->day > today)
        add(f, i, "day", "the day is in the future", "日期不能晚于今天");
    if (e->per_person) {
        if (r->person_id <= 0) {
            add(f, i, "person_id", "required: this element is about one student",
                "必填：该数据元素按学生填报");
        } else if (node.kind == e->level) {
            int in = eb_store_obs_person_in(db, r->person_id, r->org_id, r->day);
            if (in < 0)
                add(f, i, "person_id", "could not be checked", "无法校验");
            else if (in == 0)
                add(f, i, "person_id", "not a student of this class on that day",
                    "该学生当日不在此班级");
        }
    } else if (r->person_id != 0) {
        add(f, i, "person_id", "this element takes no person", "该数据元素不按人填报");
    }
    if (r->category != NULL && !valid_code(r->category, CATEGORY_MAX))
        add(f, i, "category", "1 to 64 of a-z 0-9 _ . : -", "须为 1–64 个字符 (a-z 0-9 _ . : -)");
    if (r->supersedes != 0) {
        size_t rl = r->reason ? strlen(r->reason) : 0;
        if (rl == 0 || rl > REASON_MAX)
            add(f, i, "reason", "a correction needs a reason (1 to 500 bytes)",
                "更正必须填写原因（1–500 字节）");
        struct eb_obs_row old;
        int64_t by = 0;
        rc = eb_store_obs_get_scoped(db, s, r->supersedes, f->a, &old, &by);
        if (rc == EB_ENOTFOUND) {
            add(f, i, "supersedes", "no such observation", "被更正的记录不存在");
            f->not_found = 1;
        } else if (rc == EB_EDENIED) {
            add(f, i, "supersedes", NOT_YOURS_EN, NOT_YOURS_ZH);
        } else if (rc != 0) {
            add(f, i, "supersedes", "could not be checked", "无法校验");
        } else if (old.element_id != r->element_id || old.org_id != r->org_id ||
                   old.person_id != r->person_id) {
            add(f, i, "supersedes", "a correction keeps the element, org and person",
                "更正不能改变数据元素、机构或学生");
        } else if (by != 0) {
            add(f, i, "supersedes", "already corrected", "该记录已被更正");
        }
    } else if (r->reason != NULL) {
        add(f, i, "reason", "only with supersedes", "仅在更正时填写");
    }
}

/* ---- submit -----------------------------------------------------------------------------------
 */

int eb__brain_validate(struct eb_brain *b, const struct eb_caller *c, const struct eb_obs *rows,
                       size_t n, struct eb_arena *a, struct eb_obs_error **errs, size_t *n_errs)
{
    struct findings f = {.a = a};
    *errs = NULL;
    *n_errs = 0;
    if (b == NULL || c == NULL || rows == NULL || n == 0)
        return EB_EINVAL;
    eb_day today = eb_day_today();
    struct eb_db *db = eb_store_acquire(b->store);
    /* Where the caller may write, read once for the whole batch: per row it is a prefix test
     * against the grants and a binary search in the teacher's few classes, never a query. */
    struct eb_obs_scope scope;
    int rc = eb_store_obs_scope(db, c, today, a, &scope);
    if (rc == 0 && !scope.reporter)
        rc = EB_EDENIED;
    if (rc != 0) {
        eb_db_read_end(db);
        eb_store_release(b->store, db);
        return rc;
    }
    for (size_t i = 0; i < n && !f.oom; i++) {
        check_row(b, db, &scope, &rows[i], i, today, &f);
        /* Two corrections of one row in a batch: the second would remove it twice. */
        for (size_t j = 0; rows[i].supersedes != 0 && j < i; j++)
            if (rows[j].supersedes == rows[i].supersedes) {
                add(&f, i, "supersedes", "corrected twice in this batch", "同一批次中重复更正");
                break;
            }
    }
    eb_db_read_end(db);
    eb_store_release(b->store, db);
    if (f.oom)
        return EB_ETOOBIG;
    if (f.n > 0) {
        *errs = f.v;
        *n_errs = f.n;
        return f.not_found ? EB_ENOTFOUND : EB_EINVAL;
    }
    return 0;
}

int eb_brain_submit(struct eb_brain *b, const struct eb_caller *c, struct eb_obs *rows, size_t n,
                    struct eb_arena *a, struct eb_obs_error **errs, size_t *n_errs)
{
    int rc = eb__brain_validate(b, c, rows, n, a, errs, n_errs);
    if (rc != 0)
        return rc;
    if (!b->have_writer)
        return EB_EINVAL; /* an offline brain (the CLI) validates only */
    /* The submitter owns the batch and frees it once the writer marked it done. */
    struct eb__brain_pending *p = eb_xcalloc(1, sizeof(*p));
    p->caller = c;
    p->rows = rows;
    p->n = n;
    pthread_mutex_lock(&b->queue_mu);
    if (b->stopping) {
        pthread_mutex_unlock(&b->queue_mu);
        eb_free(p);
        return EB_EBUSY;
    }
    if (b->tail)
        b->tail->next = p;
    else
        b->head = p;
    b->tail = p;
    pthread_cond_signal(&b->queue_cv);
    while (!p->done)
        pthread_cond_wait(&b->done_cv, &b->queue_mu);
    pthread_mutex_unlock(&b->queue_mu);
    rc = p->rc;
    eb_free(p);
    return rc;
}

/* ---- the group-commit writer ---------------------------------------------------------------- */

/* What one transaction changed, for the listeners: parallel arrays. */
struct changed {
    int32_t *el;
    int64_t *org;
    eb_day *day;
    size_t n, cap;
};

static void changed_add(struct changed *ch, int32_t e, int64_t org, eb_day day)
{
    if (ch->n == ch->cap) {
        ch->cap = ch->cap ? ch->cap * 2 : 1024;
        ch->el = eb_xrealloc(ch->el, ch->cap * sizeof(*ch->el));
        ch->org = eb_xrealloc(ch->org, ch->cap * sizeof(*ch->org));
        ch->day = eb_xrealloc(ch->day, ch->cap * sizeof(*ch->day));
    }
    ch->el[ch->n] = e;
    ch->org[ch->n] = org;
    ch->day[ch->n] = day;
    ch->n++;
}

/* A row a correction removes from the cube, read inside the transaction. */
struct removal {
    int64_t target; /* the id replaced */
    int32_t element_id;
    int64_t org_id;
    eb_day day;
    double value;
};

struct group {
    struct eb__brain_pending **p;
    size_t n;
    int *failed; /* per batch: its insert failed, the transaction runs again without it */
    struct eb_obs_row *buf;
    size_t cap_buf;
    int64_t *ids;
    struct removal *rm;
    size_t n_rm, cap_rm;
};

/* One attempt: every batch not yet failed, in one transaction. 0, or the index+1 of the batch
 * whose insert failed (the caller drops it and tries again), or a negative error of the whole
 * transaction. */
static int group_try(struct eb_brain *b, struct eb_db *db, struct group *g, struct changed *ch,
                     int64_t *high_new)
{
    int rc = eb_db_begin(db);
    if (rc != 0)
        return rc;
    g->n_rm = 0;
    *high_new = 0;
    /* Rows other writers committed before this transaction took the write lock: applied first,
     * so that this server's high-water mark never skips one. */
    {
        int32_t *el = NULL;
        int64_t *org = NULL;
        eb_day *day = NULL;
        size_t n = 0;
        rc = eb__brain_catch_up_in_tx(b, db, &el, &org, &day, &n);
        for (size_t i = 0; i < n; i++)
            changed_add(ch, el[i], org[i], day[i]);
        eb_free(el);
        eb_free(org);
        eb_free(day);
        if (rc != 0)
            goto fail;
    }
    for (size_t k = 0; k < g->n; k++) {
        struct eb__brain_pending *p = g->p[k];
        if (g->failed[k])
            continue;
        if (p->n > g->cap_buf) {
            g->cap_buf = p->n;
            g->buf = eb_xrealloc(g->buf, g->cap_buf * sizeof(*g->buf));
            g->ids = eb_xrealloc(g->ids, g->cap_buf * sizeof(*g->ids));
        }
        size_t rm_mark = g->n_rm;
        int conflict = 0;
        for (size_t i = 0; i < p->n; i++) {
            const struct eb_obs *r = &p->rows[i];
            g->buf[i] = (struct eb_obs_row){r->element_id, r->org_id,   r->person_id,  r->day,
                                            r->value,      r->category, r->supersedes, r->reason};
            if (r->supersedes == 0)
                continue;
            /* Checked again under the write lock: another request may have corrected the same
             * row since this one was validated. */
            struct eb_arena *a = eb_arena_create(0);
            struct eb_obs_row old;
            int64_t by = 0;
            int grc = eb_store_obs_get(db, &SYS, r->supersedes, a, &old, &by);
            eb_arena_destroy(a);
            for (size_t j = 0; grc == 0 && by == 0 && j < rm_mark; j++)
                if (g->rm[j].target == r->supersedes)
                    by = -1; /* a batch earlier in this group replaces it already */
            if (grc != 0 || by != 0) {
                conflict = 1;
                break;
            }
            if (g->n_rm == g->cap_rm) {
                g->cap_rm = g->cap_rm ? g->cap_rm * 2 : 64;
                g->rm = eb_xrealloc(g->rm, g->cap_rm * sizeof(*g->rm));
            }
            g->rm[g->n_rm++] =
                (struct removal){r->supersedes, old.element_id, old.org_id, old.day, old.value};
        }
        if (conflict) {
            rc = (int)k + 1;
            p->rc = EB_ECONFLICT;
            goto fail;
        }
        int irc = eb_store_obs_insert(db, p->caller, g->buf, p->n, g->ids);
        if (irc != 0) {
            p->rc = irc;
            rc = (int)k + 1;
            goto fail;
        }
        for (size_t i = 0; i < p->n; i++) {
            p->rows[i].id = g->ids[i];
            if (g->ids[i] > *high_new)
                *high_new = g->ids[i];
        }
    }
    if (*high_new > 0)
        rc = eb_store_obs_notify(db, *high_new);
    if (rc == 0)
        rc = eb_db_commit(db);
    if (rc == 0)
        return 0;
fail:
    eb_db_rollback(db);
    return rc;
}

/* Stores a group of batches, applies them and reports to each. */
static void group_run(struct eb_brain *b, struct eb__brain_pending *head)
{
    struct group g = {0};
    struct changed ch = {0};
    for (struct eb__brain_pending *p = head; p; p = p->next)
        g.n++;
    g.p = eb_xmalloc(g.n * sizeof(*g.p));
    g.failed = eb_xcalloc(g.n, sizeof(*g.failed));
    size_t k = 0;
    for (struct eb__brain_pending *p = head; p; p = p->next) {
        p->rc = 0;
        g.p[k++] = p;
    }
    struct eb_db *db = b->writer_db;
    pthread_mutex_lock(&b->apply_mu);
    int64_t high_new = 0;
    int rc;
    for (;;) {
        rc = group_try(b, db, &g, &ch, &high_new);
        if (rc <= 0)
            break;
        g.failed[rc - 1] = 1; /* its own rc is set; the others go again */
        for (size_t i = 0; i < g.n; i++)
            if (!g.failed[i])
                g.p[i]->rc = 0;
    }
    size_t n_rm = 0;
    if (rc == 0) {
        for (size_t i = 0; i < g.n; i++) {
            struct eb__brain_pending *p = g.p[i];
            if (g.failed[i])
                continue;
            for (size_t j = 0; j < p->n; j++) {
                const struct eb_obs *r = &p->rows[j];
                int arc = eb__brain_apply(b, r->element_id, r->org_id, r->day, r->value, 1);
                if (arc != 0)
                    eb_warn("brain: observation %" PRId64 " not applied: %s", r->id,
                            eb_strerror(arc));
                changed_add(&ch, r->element_id, r->org_id, r->day);
            }
        }
        for (n_rm = 0; n_rm < g.n_rm; n_rm++) {
            const struct removal *m = &g.rm[n_rm];
            eb__brain_apply(b, m->element_id, m->org_id, m->day, m->value, -1);
            changed_add(&ch, m->element_id, m->org_id, m->day);
        }
        if (high_new > b->high)
            b->high = high_new;
    } else {
        eb_warn("brain: a group commit failed: %s", eb_strerror(rc));
        for (size_t i = 0; i < g.n; i++)
            if (!g.failed[i])
                g.p[i]->rc = rc;
    }
    pthread_mutex_unlock(&b->apply_mu);
    atomic_fetch_add(&b->commits, 1);
    /* The batches belong to their submitters, who free them once done: nothing of them is read
     * after this. */
    pthread_mutex_lock(&b->queue_mu);
    for (size_t i = 0; i < g.n; i++)
        g.p[i]->done = 1;
    pthread_cond_broadcast(&b->done_cv);
    pthread_mutex_unlock(&b->queue_mu);
    eb__brain_changed(b, ch.el, ch.org, ch.day, ch.n);
    eb_free(ch.el);
    eb_free(ch.org);
    eb_free(ch.day);
    eb_free(g.p);
    eb_free(g.failed);
    eb_free(g.buf);
    eb_free(g.ids);
    eb_free(g.rm);
}

static void *writer_main(void *arg)
{
    struct eb_brain *b = arg;
    pthread_mutex_lock(&b->queue_mu);
    for (;;) {
        while (b->head == NULL && !b->stopping)
            pthread_cond_wait(&b->queue_cv, &b->queue_mu);
        if (b->head == NULL)
            break; /* stopping, and nothing left to write */
        /* Everything queued while the last transaction ran goes into the next one. */
        struct eb__brain_pending *head = b->head;
        b->head = b->tail = NULL;
        pthread_mutex_unlock(&b->queue_mu);
        group_run(b, head);
        pthread_mutex_lock(&b->queue_mu);
    }
    pthread_mutex_unlock(&b->queue_mu);
    return NULL;
}

int eb__brain_writer_start(struct eb_brain *b)
{
    /* The writer keeps one connection for its life, set up for its work (eb_store_obs_writer):
     * every commit synced, checkpoints left to the follower's thread. */
    b->writer_db = eb_store_acquire(b->store);
    int rc = eb_store_obs_writer(b->writer_db);
    if (rc == 0 && pthread_create(&b->writer, NULL, writer_main, b) != 0)
        rc = EB_EINTERNAL;
    if (rc != 0) {
        eb_store_release(b->store, b->writer_db);
        b->writer_db = NULL;
        return rc;
    }
    b->have_writer = 1;
    return 0;
}

void eb__brain_writer_stop(struct eb_brain *b)
{
    pthread_mutex_lock(&b->queue_mu);
    b->stopping = 1;
    pthread_cond_broadcast(&b->queue_cv);
    pthread_mutex_unlock(&b->queue_mu);
    if (b->have_writer)
        pthread_join(b->writer, NULL);
    b->have_writer = 0;
    if (b->writer_db != NULL)
        eb_store_release(b->store, b->writer_db);
    b->writer_db = NULL;
}
