/* The education brain: data elements, observations, the in-memory cube, indicators, alerts and
 * the live stream. The contract between the brain's files (docs/internals/brain.md). */
#ifndef EB_BRAIN_H
#define EB_BRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ---- days ------------------------------------------------------------------------------- */

/* A day is the number of days since 1970-01-01 (the calendar day of the city: observations are
 * about school days, never about instants). */
typedef int32_t eb_day;
/** "YYYY-MM-DD" -> day; EB_EINVAL for anything else (eb_date_check rules). */
int eb_day_parse(const char *ymd, eb_day *out);
/** day -> "YYYY-MM-DD" in out[11]. */
void eb_day_format(eb_day d, char out[11]);
/** Today in the server's local calendar (test clock in EB_TESTING builds). */
eb_day eb_day_today(void);

/* ---- data elements ---------------------------------------------------------------------- */

enum eb_agg { EB_AGG_SUM = 1, EB_AGG_AVG, EB_AGG_COUNT, EB_AGG_LAST, EB_AGG_MIN, EB_AGG_MAX };
enum eb_vtype { EB_VT_NUMBER = 1, EB_VT_INTEGER, EB_VT_BOOLEAN };

const char *eb_agg_name(enum eb_agg a);     /* "sum", "average", "count", "last", "min", "max" */
enum eb_agg eb_agg_parse(const char *s);    /* 0 when unknown */
const char *eb_vtype_name(enum eb_vtype t); /* "number", "integer", "boolean" */
enum eb_vtype eb_vtype_parse(const char *s);

struct eb_element {
    int32_t id;
    const char *code; /* stable key, e.g. "attendance.absent" ([a-z0-9_.], 1..64) */
    const char *name_zh, *name_en;
    const char *unit_zh, *unit_en; /* may be NULL */
    enum eb_vtype type;
    enum eb_agg agg;
    enum eb_org_kind level; /* the org level it is reported at: observations name such a node */
    int per_person;         /* observations also name a person (attendance of one student) */
    double min, max;        /* valid range of a value (booleans: 0..1) */
    int builtin;            /* defined by edubrain (docs/internals/brain.md), not editable */
};

/* ---- observations ----------------------------------------------------------------------- */

/* A fact: append-only. A correction is a new observation with supersedes = the id it replaces
 * (and a reason, audited); the replaced one stops counting everywhere. */
struct eb_obs {
    int64_t id; /* output */
    int32_t element_id;
    int64_t org_id;
    int64_t person_id; /* 0 = none */
    eb_day day;
    double value;
    const char *category; /* optional code, e.g. absence reason "illness" + symptom "fever" */
    int64_t supersedes;   /* 0 = none */
    const char *reason;   /* required with supersedes */
};

/* ---- the cube ----------------------------------------------------------------------------- */

/*
 * For every data element, every org node on the path of an observation (class -> grade ->
 * school -> district -> city) and every day: the aggregates below. A query for any node and
 * any day range reads that node's cells only (never the observations). Thread-safe: any number
 * of readers run while one writer applies changes; readers never wait for a rebuild.
 */
struct eb_cube;

struct eb_cube_value {
    double sum;
    int64_t count;
    double min, max; /* of the values counted (0 when count is 0) */
    double last;     /* the value of the latest day with data in the range (per node: the
                        sum of the latest values of its children for EB_AGG_LAST) */
    eb_day last_day;
};

struct eb_cube *eb_cube_new(void);
void eb_cube_free(struct eb_cube *c);
/** Declares a node of the org tree (a parent before its children; parent 0 for the city). */
int eb_cube_add_node(struct eb_cube *c, int64_t org_id, int64_t parent_id, enum eb_org_kind kind);
/** Adds (sign 1) or removes (sign -1, a superseded observation) a value of element at org_id
 * and every ancestor on day. */
int eb_cube_apply(struct eb_cube *c, int32_t element_id, enum eb_agg agg, int64_t org_id,
                  eb_day day, double value, int sign);
/** The aggregate of element at org_id over [from, to] (inclusive); EB_ENOTFOUND for an unknown
 * node (an empty range gives count 0). */
int eb_cube_get(const struct eb_cube *c, int32_t element_id, int64_t org_id, eb_day from, eb_day to,
                struct eb_cube_value *out);
/** The children of org_id known to the cube (ids in ascending order); *n in, capacity; out,
 * the number written (or needed when larger: EB_ETOOBIG). */
int eb_cube_children(const struct eb_cube *c, int64_t org_id, int64_t *ids, size_t *n);
/** Bytes held, for /metrics and the benchmarks. */
size_t eb_cube_bytes(const struct eb_cube *c);

/* ---- the brain: ingest, rebuild, changes ------------------------------------------------ */

struct eb_brain;

/* One changed cell, as listeners hear of it (one per element, node on the path, day). */
struct eb_brain_change {
    int32_t element_id;
    int64_t org_id;
    eb_day day;
};
/** Called after each commit (and for changes other servers made, through LISTEN/NOTIFY) on the
 * brain's own thread; must not block. */
typedef void (*eb_brain_listener)(void *ctx, const struct eb_brain_change *changes, size_t n);

/** Starts the brain of a server: loads the elements, builds the tree, rebuilds the cube from
 * the store in the background (progress in the log; queries answer meanwhile from what is
 * loaded, with "warming": true), starts the group-commit writer. */
int eb_brain_start(struct eb_store *st, struct eb_brain **out);
void eb_brain_stop(struct eb_brain *b);
const struct eb_cube *eb_brain_cube(const struct eb_brain *b);
int eb_brain_warming(const struct eb_brain *b);
int eb_brain_subscribe(struct eb_brain *b, eb_brain_listener fn, void *ctx);
/** The element with this id or code (NULL when unknown); the pointer stays valid. */
const struct eb_element *eb_brain_element(const struct eb_brain *b, int32_t id);
const struct eb_element *eb_brain_element_by_code(const struct eb_brain *b, const char *code);
/** Reads the elements from the store again (after POST /data-elements); known pointers stay. */
int eb_brain_elements_reload(struct eb_brain *b);

/** A finding of a batch: which row and why (English and Chinese). */
struct eb_obs_error {
    size_t row;
    const char *field;
    const char *why_en, *why_zh;
};
/**
 * Validates every row (element, value type and range, the node's level and the caller's write
 * scope, the person, the day not in the future, supersedes) and, when all are valid, queues
 * them for the group-commit writer and waits until they are committed and in the cube: rows of
 * concurrent calls share one transaction. All or nothing: EB_EINVAL with *errs (arena) when any
 * row is invalid. ids are written back into rows.
 */
int eb_brain_submit(struct eb_brain *b, const struct eb_caller *c, struct eb_obs *rows, size_t n,
                    struct eb_arena *a, struct eb_obs_error **errs, size_t *n_errs);

#endif
