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

#endif
