/* The brain's registry feeds: the registry's own figures written daily as observations. */
#ifndef EB_BRAIN_FEEDS_H
#define EB_BRAIN_FEEDS_H

#include <stdint.h>

#include "brain/brain.h"

/*
 * What a run writes (docs/internals/brain.md, "Demo history and registry feeds"):
 * students.enrolled of every open class (its current students), and teachers.in_post,
 * accounts.registered and accounts.activated of every open school (eb_store_registration's
 * figures). A node gets one row for the day when it has none yet, and a correction superseding
 * that row when the registry changed since; an unchanged node gets nothing.
 */
struct eb_feeds_stats {
    int64_t nodes;     /* node-element pairs looked at */
    int64_t written;   /* first rows of the day */
    int64_t corrected; /* rows superseding the day's earlier row */
};

/**
 * One run for day as the system caller. With a brain the rows go through eb_brain_submit (the
 * cube, the listeners and the other servers follow); without one (the CLI) straight to the
 * store with eb_store_obs_insert, one audit row per batch. EB_ENOTFOUND when there is no city.
 */
int eb_feeds_run(struct eb_store *st, struct eb_brain *brain, eb_day day,
                 struct eb_feeds_stats *stats /* out */);

struct eb_feeds;
/** Starts the feeds' thread of a server: a run at once, then one every interval_s seconds (the
 * first run of a new day writes that day's rows). */
int eb_feeds_start(struct eb_store *st, struct eb_brain *brain, int interval_s,
                   struct eb_feeds **out);
/** Stops and joins the thread (waits for a run in progress). NULL is fine. */
void eb_feeds_stop(struct eb_feeds *f);

#endif
