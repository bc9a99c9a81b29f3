/* The brain's registry feeds: class rosters, teachers in post and accounts as daily observations.
 */
#include "brain/feeds.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

/* eb_brain_submit takes at most this many rows per call (the API's batch limit). */
#define SUBMIT_MAX 10000

static const char REASON[] = "registry changed (名册变化)";

struct rows {
    struct eb_obs_row *v;
    size_t n, cap;
};

static void rows_add(struct rows *r, int32_t element_id, int64_t org_id, eb_day day, double value,
                     const struct eb_feed_latest *last)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->v = eb_xrealloc(r->v, r->cap * sizeof(*r->v));
    }
    struct eb_obs_row *o = &r->v[r->n++];
    memset(o, 0, sizeof(*o));
    o->element_id = element_id;
    o->org_id = org_id;
    o->day = day;
    o->value = value;
    if (last && last->has && last->day == day) {
        o->supersedes = last->obs_id;
        o->reason = REASON;
    }
}

/*
 * A node's row of the day: none when today's row already holds the value, a correction when it
 * holds another, a first row otherwise. Every day gets its row even when nothing changed: the
 * cube's "last" reads only the days inside the asked range, so a rate over any week needs its
 * denominator inside that week (docs/internals/brain.md).
 */
static void decide(struct rows *r, struct eb_feeds_stats *st, int32_t element_id,
                   const struct eb_feed_latest *last, eb_day day, double value)
{
    st->nodes++;
    if (last->has && last->day == day) {
        if (last->value == value)
            return;
        st->corrected++;
    } else {
        st->written++;
    }
    rows_add(r, element_id, last->org_id, day, value, last);
}

static int write_store(struct eb_db *db, const struct rows *r)
{
    /* The system without no_audit: one audit row per batch says the feed wrote it. */
    static const struct eb_caller sys = {.system = 1};
    if (r->n == 0)
        return 0;
    int rc = eb_db_begin(db);
    if (rc != 0)
        return rc;
    rc = eb_store_obs_insert(db, &sys, r->v, r->n, NULL);
    if (rc == 0)
        return eb_db_commit(db);
    eb_db_rollback(db);
    return rc;
}

static int write_brain(struct eb_brain *b, const struct rows *r)
{
    static const struct eb_caller sys = {.system = 1};
    int rc = 0;
    for (size_t i = 0; i < r->n && rc == 0; i += SUBMIT_MAX) {
        size_t m = r->n - i < SUBMIT_MAX ? r->n - i : SUBMIT_MAX;
        struct eb_arena *a = eb_arena_create(0);
        struct eb_obs *obs = eb_arena_alloc(a, m * sizeof(*obs));
        struct eb_obs_error *errs = NULL;
        size_t n_errs = 0;
        if (obs == NULL) {
            eb_arena_destroy(a);
            return EB_ETOOBIG;
        }
        for (size_t j = 0; j < m; j++) {
            const struct eb_obs_row *o = &r->v[i + j];
            obs[j] = (struct eb_obs){.element_id = o->element_id,
                                     .org_id = o->org_id,
                                     .day = o->day,
                                     .value = o->value,
                                     .supersedes = o->supersedes,
                                     .reason = o->reason};
        }
        rc = eb_brain_submit(b, &sys, obs, m, a, &errs, &n_errs);
        if (rc == EB_EINVAL && n_errs > 0)
            eb_error("feeds: row %zu refused (%s): %s", i + errs[0].row,
                     errs[0].field ? errs[0].field : "-", errs[0].why_en);
        eb_arena_destroy(a);
    }
    return rc;
}

static const char *const school_codes[3] = {"teachers.in_post", "accounts.registered",
                                            "accounts.activated"};

/* Reads what the registry says now and what the feed last wrote, in one snapshot. */
static int plan(struct eb_db *db, eb_day day, struct eb_arena *a, struct rows *r,
                struct eb_feeds_stats *st)
{
    static const struct eb_caller sys = {.system = 1};
    int64_t city = 0;
    int32_t enrolled = 0, school_el[3] = {0};
    size_t n_classes = 0, n_schools = 0, n_last = 0;
    struct eb_feed_class *classes = NULL;
    struct eb_feed_school *schools = NULL;
    struct eb_feed_latest *last = NULL;
    int rc = eb_store_element_id(db, "students.enrolled", &enrolled);
    for (int k = 0; k < 3 && rc == 0; k++)
        rc = eb_store_element_id(db, school_codes[k], &school_el[k]);
    if (rc == 0)
        rc = eb_store_or_city(db, &city);
    if (rc == 0 && city == 0)
        rc = EB_ENOTFOUND;
    if (rc != 0)
        return rc;
    eb_db_read_begin(db);
    rc = eb_store_feed_classes(db, &sys, city, a, &n_classes, &classes);
    if (rc == 0)
        rc = eb_store_feed_latest(db, &sys, enrolled, EB_ORG_CLASS, city, a, &n_last, &last);
    if (rc != 0)
        goto done;
    /* Both lists are the open classes in path order, read in one snapshot. */
    if (n_last != n_classes) {
        rc = EB_ECONFLICT;
        goto done;
    }
    for (size_t i = 0; i < n_classes; i++) {
        if (last[i].org_id != classes[i].class_id) {
            rc = EB_ECONFLICT;
            goto done;
        }
        decide(r, st, enrolled, &last[i], day, (double)classes[i].students);
    }
    rc = eb_store_feed_schools(db, &sys, city, a, &n_schools, &schools);
    for (int k = 0; k < 3 && rc == 0; k++) {
        rc = eb_store_feed_latest(db, &sys, school_el[k], EB_ORG_SCHOOL, city, a, &n_last, &last);
        if (rc == 0 && n_last != n_schools)
            rc = EB_ECONFLICT;
        for (size_t i = 0; rc == 0 && i < n_schools; i++) {
            const struct eb_feed_school *s = &schools[i];
            if (last[i].org_id != s->school_id) {
                rc = EB_ECONFLICT;
                break;
            }
            double v =
                k == 0 ? (double)s->teachers : (double)(k == 1 ? s->registered : s->activated);
            decide(r, st, school_el[k], &last[i], day, v);
        }
    }
done:
    eb_db_read_end(db);
    return rc;
}

int eb_feeds_run(struct eb_store *st, struct eb_brain *brain, eb_day day,
                 struct eb_feeds_stats *stats)
{
    struct rows r = {0};
    memset(stats, 0, sizeof(*stats));
    struct eb_arena *a = eb_arena_create(0);
    struct eb_db *db = eb_store_acquire(st);
    int rc = eb_store_elements_seed(db);
    if (rc == 0)
        rc = plan(db, day, a, &r, stats);
    /* The brain takes a connection of its own to commit: give this one back first. */
    if (rc == 0 && brain == NULL)
        rc = write_store(db, &r);
    eb_store_release(st, db);
    if (rc == 0 && brain != NULL)
        rc = write_brain(brain, &r);
    eb_arena_destroy(a);
    eb_free(r.v);
    return rc;
}

/* ---- the server's thread ------------------------------------------------------------------ */

struct eb_feeds {
    struct eb_store *st;
    struct eb_brain *brain;
    int interval_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
};

static void run_once(struct eb_feeds *f)
{
    struct eb_feeds_stats s;
    eb_day day = eb_day_today();
    int rc = eb_feeds_run(f->st, f->brain, day, &s);
    if (rc == EB_ENOTFOUND)
        return; /* no city yet: nothing to feed */
    if (rc != 0) {
        eb_error("feeds: the run failed: %s", eb_strerror(rc));
        return;
    }
    if (s.written || s.corrected) {
        char ymd[11];
        eb_day_format(day, ymd);
        eb_info("feeds: %s: %lld rows written, %lld corrected (%lld looked at)", ymd,
                (long long)s.written, (long long)s.corrected, (long long)s.nodes);
    }
}

static void *feeds_main(void *arg)
{
    struct eb_feeds *f = arg;
    pthread_mutex_lock(&f->lock);
    while (!f->stop) {
        pthread_mutex_unlock(&f->lock);
        run_once(f);
        pthread_mutex_lock(&f->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += f->interval_s;
        while (!f->stop) {
            if (pthread_cond_timedwait(&f->wake, &f->lock, &until) != 0)
                break;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

int eb_feeds_start(struct eb_store *st, struct eb_brain *brain, int interval_s,
                   struct eb_feeds **out)
{
    *out = NULL;
    if (st == NULL || interval_s < 1)
        return EB_EINVAL;
    struct eb_feeds *f = eb_xcalloc(1, sizeof(*f));
    f->st = st;
    f->brain = brain;
    f->interval_s = interval_s;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->wake, NULL);
    if (pthread_create(&f->thread, NULL, feeds_main, f) != 0) {
        pthread_cond_destroy(&f->wake);
        pthread_mutex_destroy(&f->lock);
        eb_free(f);
        return EB_EINTERNAL;
    }
    *out = f;
    return 0;
}

void eb_feeds_stop(struct eb_feeds *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->stop = 1;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    eb_free(f);
}
