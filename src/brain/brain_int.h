/* Inside the brain core: the state shared by brain.c, brain_elements.c and brain_ingest.c. */
#ifndef EB_BRAIN_INT_H
#define EB_BRAIN_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "brain/brain.h"

/* A node of the org tree as the brain validates against it. */
struct eb__brain_node {
    int64_t id, parent_id;
    enum eb_org_kind kind;
    char *path;
};

/* A batch waiting for the group-commit writer, owned by the submitting thread. */
struct eb__brain_pending {
    const struct eb_caller *caller;
    struct eb_obs *rows;
    size_t n;
    int rc;   /* set by the writer */
    int done; /* set by the writer under queue_mu */
    struct eb__brain_pending *next;
};

struct eb__brain_listener {
    eb_brain_listener fn;
    void *ctx;
};

struct eb_brain {
    struct eb_store *store;
    int pg; /* PostgreSQL: other servers write too (LISTEN eb_obs) */

    /* Elements: by_id[id] (ids are small and dense), each allocated once and kept. */
    pthread_rwlock_t el_lock;
    struct eb_element **by_id;
    size_t n_by_id;

    /* The org tree: an open-addressing table keyed by id, grown as orgs appear. */
    pthread_rwlock_t tree_lock;
    struct eb__brain_node *nodes;
    size_t nodes_cap, n_nodes;
    int64_t max_org_id;

    /* The cube, and the one writer at a time its contract allows (rebuild, group commit and
     * catching up all take apply_mu). high: every committed observation <= high is applied or
     * is being applied by the rebuild (ids <= rebuild_upto). */
    struct eb_cube *cube;
    pthread_mutex_t apply_mu;
    int64_t high;
    int64_t rebuild_upto;
    atomic_int warming;
    atomic_llong rebuild_done;

    /* The group-commit queue. */
    pthread_mutex_t queue_mu;
    pthread_cond_t queue_cv; /* the writer waits for work */
    pthread_cond_t done_cv;  /* submitters wait for their batch */
    struct eb__brain_pending *head, *tail;
    int stopping;

    pthread_mutex_t listen_mu;
    struct eb__brain_listener *listeners;
    size_t n_listeners, cap_listeners;

    struct eb_db *writer_db; /* the group-commit writer's own connection */
    atomic_llong commits;    /* group commits so far: the follower checkpoints after them */
    pthread_t writer, rebuilder, follower;
    int have_writer, have_rebuilder, have_follower;
    atomic_int stop;
};

/* brain_elements.c */
int eb__brain_elements_load(struct eb_brain *b);
void eb__brain_elements_free(struct eb_brain *b);

/* brain.c */
/** The node (a copy of its fields, path in the caller's buffer) or EB_ENOTFOUND; looks the
 * store up for orgs created since the tree was loaded. */
int eb__brain_node(struct eb_brain *b, int64_t org_id, struct eb__brain_node *out,
                   char path[EB_PATH_MAX]);
/** Applies rows read back from the store (catching up), under apply_mu, and tells listeners. */
int eb__brain_catch_up(struct eb_brain *b, struct eb_db *db);
/** The same inside the writer's transaction, apply_mu held: the changes (eb_free each array)
 * go to the caller, which tells the listeners with its own. */
int eb__brain_catch_up_in_tx(struct eb_brain *b, struct eb_db *db, int32_t **el, int64_t **org,
                             eb_day **day, size_t *n);
/** Tells the listeners about rows just applied (element, org, day of each, up the tree). */
void eb__brain_changed(struct eb_brain *b, const int32_t *elements, const int64_t *orgs,
                       const eb_day *days, size_t n);
/** Adds (sign 1) or removes (-1) one value in the cube, up the path; under apply_mu. */
int eb__brain_apply(struct eb_brain *b, int32_t element_id, int64_t org_id, eb_day day,
                    double value, int sign);

/** The brain of a command (import observations): elements and the tree, no threads, an empty
 * cube; eb__brain_validate checks rows against it, eb_brain_stop frees it. */
int eb__brain_open_offline(struct eb_store *st, struct eb_brain **out);

/* brain_ingest.c */
/** The validation of eb_brain_submit alone. */
int eb__brain_validate(struct eb_brain *b, const struct eb_caller *c, const struct eb_obs *rows,
                       size_t n, struct eb_arena *a, struct eb_obs_error **errs, size_t *n_errs);
int eb__brain_writer_start(struct eb_brain *b);
void eb__brain_writer_stop(struct eb_brain *b);

/* brain_sheet.c: the observations of a CSV or xlsx sheet (the upload and the CLI). */
struct eb__sheet_obs {
    struct eb_obs *rows;
    long *lines; /* the file's line of each row */
    size_t n;
    struct eb_obs_error *errs; /* findings of the file itself: row = index into rows, or
                                * file_line set for the header and unreadable files */
    size_t n_errs;
    long file_line;
};
#define EB__SHEET_MAX_ROWS 50000
/** Reads a sheet with the columns 机构/org_id, 学生/person_id, 日期/day, 数值/value,
 * 类别/category for one element; org defaults to default_org. 0 (findings in out), or
 * EB_ETOOBIG past EB__SHEET_MAX_ROWS rows or the arena's cap. */
int eb__brain_sheet_read(struct eb_arena *a, const void *data, size_t len, int32_t element_id,
                         int64_t default_org, struct eb__sheet_obs *out);
/** The file's column name (Chinese) of a row field ("org_id" -> "机构"), else field. */
const char *eb__brain_sheet_column(const char *field);

#endif
