/* Indicators, policy rules and alerts, the live stream and the dashboard (issue #6, part I). */
#ifndef EB_BRAIN_INDICATOR_H
#define EB_BRAIN_INDICATOR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "brain/brain.h"
#include "http/http.h"

struct eb_app;

/* ---- periods (period.c) ----------------------------------------------------------------- */

/* An inclusive range of days. */
struct eb_period {
    eb_day from, to;
};

/** The day of a civil date (proleptic Gregorian); no range check. */
eb_day eb_period_civil(int y, int m, int d);
/** The civil date of a day. */
void eb_period_ymd(eb_day day, int *y, int *m, int *d);
/** The Monday of the ISO week holding day, and the week's label "YYYY-Www" in out[9]. */
eb_day eb_period_week_start(eb_day day, char out[9]);
/**
 * Parses a period of docs/internals/brain.md: day:, week:, month:, term:, year:, range:. today
 * is the day "current" means; term and year read the calendar through db (NULL: EB_EINVAL for
 * them). EB_EINVAL for anything malformed, EB_ENOTFOUND for a term or year that is not in the
 * calendar.
 */
int eb_period_parse(struct eb_db *db, const struct eb_caller *c, const char *s, eb_day today,
                    struct eb_arena *a, struct eb_period *out);

/* ---- the org directory (indicator.c) ---------------------------------------------------- */

/*
 * What the listeners need to know about the org tree without asking the database: the kind,
 * parent, path, name, stages and grade of every node. Loaded at start, completed on demand; any
 * number of readers, one writer at a time.
 */
struct eb_orgdir;

struct eb_orgdir_node {
    int64_t id, parent_id;
    enum eb_org_kind kind;
    unsigned stages; /* schools: enum eb_stage bits */
    int grade;       /* grades and classes: the grade code (11..16, 21..24, 31..33), else 0 */
    char path[EB_PATH_MAX];
    char name[96];
};

struct eb_orgdir *eb_orgdir_new(void);
void eb_orgdir_free(struct eb_orgdir *d);
/** Adds or replaces a node. */
void eb_orgdir_put(struct eb_orgdir *d, const struct eb_orgdir_node *n);
/** A copy of the node into out; EB_ENOTFOUND when unknown. */
int eb_orgdir_get(struct eb_orgdir *d, int64_t id, struct eb_orgdir_node *out);
/** The schools inside path (ids into ids, at most cap); returns how many there are. */
size_t eb_orgdir_schools(struct eb_orgdir *d, const char *path, int64_t *ids, size_t cap);
/** The nodes of one kind (ids into ids, at most cap); returns how many there are. */
size_t eb_orgdir_of_kind(struct eb_orgdir *d, enum eb_org_kind kind, int64_t *ids, size_t cap);
/** Loads every node of the database's tree (a system read). */
int eb_orgdir_load(struct eb_orgdir *d, struct eb_db *db);

/* ---- indicator definitions and values (indicator.c) ------------------------------------- */

/* ratio: sum(numerator terms) / sum(denominator terms) * factor, both summed over the whole
 * period and subtree first. The others are non-additive, over the schools of the subtree: each
 * school's value of the ratio indicator named by `of`. */
enum eb_ind_kind { EB_IND_RATIO = 1, EB_IND_CV, EB_IND_MIN, EB_IND_MAX, EB_IND_MEDIAN };
/* What a term takes of its element's cells: the sum or the count of the values in the period,
 * or the stock as of the period's last day (EB_AGG_LAST elements: enrolled students, rooms). */
enum eb_measure { EB_MEASURE_SUM = 1, EB_MEASURE_COUNT, EB_MEASURE_LAST };

#define EB_IND_TERMS 4

struct eb_ind_term {
    const char *element;
    int32_t element_id; /* resolved when the definition is parsed */
    enum eb_measure measure;
};

struct eb_indicator {
    const char *code, *name_zh, *name_en, *unit_zh, *unit_en;
    enum eb_ind_kind kind;
    size_t n_num, n_den;
    struct eb_ind_term num[EB_IND_TERMS], den[EB_IND_TERMS];
    double factor;
    int decimals;
    /* non-additive kinds */
    const char *of;            /* the ratio indicator taken per school */
    unsigned stage;            /* only schools with this stage (enum eb_stage), 0 = all */
    struct eb_ind_term weight; /* the students of a school (CV), default students.enrolled */
    double threshold;          /* CV: the policy's ceiling (0.50 primary, 0.45 junior), 0 none */
    const struct eb_indicator *base; /* resolved `of` */
    const char *dashboard;           /* "today" or "term": a headline of GET /dashboard */
    int builtin;
};

/** Resolves an element code to its id and aggregation; EB_ENOTFOUND when unknown. */
typedef int (*eb_element_resolve_fn)(void *ctx, const char *code, int32_t *id, enum eb_agg *agg);

/**
 * Parses one definition (the JSON of config/indicators.json and POST /indicators) into out,
 * strings allocated in a. EB_EINVAL with *field and
 * *why (English) for anything wrong, an unknown element included.
 */
int eb_indicator_parse(const json_t *def, eb_element_resolve_fn resolve, void *rctx,
                       struct eb_arena *a, struct eb_indicator *out, const char **field,
                       const char **why);
/** The JSON of a definition (as GET /indicators lists it). */
json_t *eb_indicator_json(const struct eb_indicator *ind);

/* The value of an indicator at one node over one period. */
struct eb_ind_value {
    int has_value; /* a denominator above zero (ratio), at least two schools (CV), one (others) */
    double value;
    double num, den; /* ratio: the sums; non-additive: the schools counted and with data */
    /* non-additive kinds: the distribution of the schools' values */
    size_t n_schools;
    double min, max, median, mean, cv;
    size_t bins[10];
    double bin_from, bin_width;
};

/** Where values come from: the cube, and the directory for the schools of a subtree. */
struct eb_ind_source {
    const struct eb_cube *cube;
    struct eb_orgdir *dir;
};

/** The value of ind at org_id over [from, to]. EB_ENOTFOUND for a node the cube and the
 * directory do not know. */
int eb_indicator_eval(const struct eb_ind_source *src, const struct eb_indicator *ind,
                      int64_t org_id, eb_day from, eb_day to, struct eb_ind_value *out);

/* ---- policy rules and alerts (rules.c) -------------------------------------------------- */

enum eb_rule_id {
    EB_RULE_HOMEWORK_G12,    /* written homework given in grades 1-2 */
    EB_RULE_HOMEWORK_TIME,   /* over 60 min (grades 3-6) or 90 min (junior) a day */
    EB_RULE_SLEEP,           /* under 10 / 9 / 8 hours by stage */
    EB_RULE_ACTIVITY,        /* under 60 min of physical activity in school */
    EB_RULE_AFTERSCHOOL,     /* after-school service under 2 h, or ending before office hours */
    EB_RULE_ATTENDANCE_DROP, /* attendance below the previous five school days' */
    EB_RULE_COUNT
};

struct eb_rule_info {
    const char *code; /* stable, e.g. "homework.minutes" */
    const char *name_zh, *name_en;
    enum eb_org_kind level; /* the nodes it is evaluated at */
};
const struct eb_rule_info *eb_rule_info(int rule);
/** The rule of a code, or -1. */
int eb_rule_parse(const char *code);

/* The elements the rules read, resolved once. */
struct eb_rule_elements {
    int32_t homework_g12, homework_minutes, sleep_hours, activity_in_school, afterschool_minutes,
        afterschool_end, attendance_present, attendance_absent;
};
/** Resolves them (0 for an element the database lacks: its rule never applies). */
void eb_rule_elements_resolve(struct eb_rule_elements *e, eb_element_resolve_fn resolve,
                              void *rctx);

struct eb_rule_config {
    int office_end_minute;     /* the local office hour: after-school ends no earlier (17:30) */
    double attendance_drop_pp; /* percentage points below the baseline that open an alert */
};
void eb_rule_config_default(struct eb_rule_config *cfg);

/* One rule at one node on one day. */
struct eb_rule_eval {
    int applies; /* the node is of the rule's kind and stage and has data that day */
    int breach;
    double value, limit;   /* e.g. 75 minutes against 60 */
    double value2, limit2; /* after-school: the end minute and the office hour */
    double baseline;       /* attendance: the mean rate of the previous school days */
};

/** Evaluates rule at node n on day from the cube alone. */
int eb_rule_eval(const struct eb_cube *cube, const struct eb_rule_elements *el,
                 const struct eb_rule_config *cfg, int rule, const struct eb_orgdir_node *n,
                 eb_day day, struct eb_rule_eval *out);
/** The values of an evaluation as the alert's JSON object. */
json_t *eb_rule_values_json(int rule, const struct eb_rule_eval *ev);
/** The alert's message in Chinese or English from its rule, node name, day and values. */
char *eb_rule_message(struct eb_arena *a, int rule, const char *org_name, const char *since,
                      const json_t *values, enum eb_lang lang);

/* ---- the live stream (stream.c) --------------------------------------------------------- */

struct eb_hub;

#define EB_STREAMS_MAX 256 /* open streams per server; more answer 503 */

struct eb_hub *eb_hub_new(int max_streams);
/** The brain whose element codes name the changes (NULL: their ids). */
void eb_hub_set_brain(struct eb_hub *h, const struct eb_brain *b);
/** Ends the timer; every stream must have been closed (the HTTP server stopped) before. */
void eb_hub_free(struct eb_hub *h);
/** The brain's listener: queues the changes for the streams whose scope holds them. */
void eb_hub_changes(void *hub, const struct eb_brain_change *changes, size_t n);
/** Queues an alert event (JSON text) for the streams above org_path. */
void eb_hub_alert(struct eb_hub *h, const char *org_path, const char *json);
/**
 * Makes r an event stream of the changes at org_id and its children (children: sorted ids)
 * and of the alerts inside org_path. EB_EBUSY when the hub is full.
 */
int eb_hub_open(struct eb_hub *h, struct eb_req *r, int64_t org_id, const char *org_path,
                const int64_t *children, size_t n_children);
/** Streams open now. */
size_t eb_hub_count(struct eb_hub *h);

/* ---- the running part (rules.c) --------------------------------------------------------- */

struct eb_indicators;

/**
 * Starts indicators, alerts and streams for a server: the built-in definitions (the embedded
 * config/indicators.json) and the city's own (table indicators), the org directory and the
 * alert worker (loaded in the background), the stream hub, subscribed to app->brain (which must
 * have been started; NULL: definitions only). Stop it after the HTTP server and the brain.
 */
int eb_indicators_start(struct eb_app *app, struct eb_indicators **out);
void eb_indicators_stop(struct eb_indicators *x);
/** The definition of code (built-in, else the database's through db); NULL when unknown. */
const struct eb_indicator *eb_indicators_find(struct eb_indicators *x, struct eb_db *db,
                                              const char *code);
/** Every definition (built-in first); *n out. The array lives as long as x. */
const struct eb_indicator *const *eb_indicators_all(struct eb_indicators *x, struct eb_db *db,
                                                    size_t *n);
/** Adds a city's definition (already stored). */
int eb_indicators_add(struct eb_indicators *x, const json_t *def, const char **field,
                      const char **why);
struct eb_hub *eb_indicators_hub(struct eb_indicators *x);
struct eb_orgdir *eb_indicators_dir(struct eb_indicators *x);
/** Resolves an element for eb_indicator_parse from the running brain. */
int eb_indicators_resolve(void *x, const char *code, int32_t *id, enum eb_agg *agg);

/* ---- routes (indicator_routes.c) -------------------------------------------------------- */

int eb_indicator_list_handler(struct eb_req *r);
int eb_indicator_create_handler(struct eb_req *r);
int eb_indicator_get_handler(struct eb_req *r); /* also {code}.xlsx */
int eb_alert_list_handler(struct eb_req *r);
int eb_stream_handler(struct eb_req *r);
int eb_dashboard_handler(struct eb_req *r);

#endif
