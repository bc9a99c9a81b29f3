/*
 * The demo city generator: a synthetic, deterministic (per seed) prefecture city following
 * ../shared/domain/POLICY_AND_CODES.md §4.6, written through the store with a system caller.
 */
#ifndef EB_DEMO_H
#define EB_DEMO_H

#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

enum eb_demo_scale { EB_DEMO_SMALL, EB_DEMO_CITY };

struct eb_demo_options {
    enum eb_demo_scale scale;
    uint64_t seed;
    const char *admin_password_hash; /* argon2id hash for the "admin" account */
    /* Hashes for the fixed demo accounts (district/school admins, a teacher, a student, a
     * parent, an analyst), all sharing one password; NULL = do not create them. */
    const char *demo_password_hash;
    FILE *progress; /* progress lines go here when not NULL (a terminal: one updating line) */
};

struct eb_demo_stats {
    int64_t districts, schools, grades, classes, students, teachers, parents, accounts;
    int64_t invalid_ids; /* seeded invalid citizen IDs for the data-quality checks */
};

/** Fills an empty database. EB_EEXIST when it already holds a city. */
int eb_demo_generate(struct eb_store *st, const struct eb_demo_options *opt,
                     struct eb_demo_stats *stats /* out */);

/* ---- the demo history (demo_history.c; docs/internals/brain.md) ------------------------- */

/* How far back the history of daily observations goes: none; the school days of the current
 * term up to today (or of the latest term when today lies in a break); or the school days of
 * the 365 days up to today (one school year's worth, for the benchmarks). */
enum eb_demo_history { EB_DEMO_HISTORY_NONE, EB_DEMO_HISTORY_TERM, EB_DEMO_HISTORY_YEAR };

struct eb_demo_history_options {
    enum eb_demo_history span;
    uint64_t seed;
    int32_t until;  /* the last day (days since 1970-01-01); 0 = today */
    FILE *progress; /* progress lines go here when not NULL */
};

struct eb_demo_history_stats {
    int64_t days, schools, classes, rows;
    int64_t absences, enrolled_days; /* absent student-days, enrolled student-days */
    int32_t first_day, last_day;     /* 0 when no school day was written */
};

/**
 * Writes daily observations of the city's classes and schools over the school days of the span
 * (Monday to Friday inside the terms of school_years, public holidays off), deterministic for a
 * seed and a database, as the system without audit rows, one transaction per school. Seeds the
 * built-in data elements when missing. EB_ENOTFOUND when the database holds no city.
 */
int eb_demo_history(struct eb_store *st, const struct eb_demo_history_options *opt,
                    struct eb_demo_history_stats *stats /* out */);

#endif
