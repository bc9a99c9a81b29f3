/* Policy rules (五项管理, 课后服务, attendance) evaluated from the cube, the alerts they open and
 * clear, and the running part: definitions, the alert worker and the stream hub of a server. */
#include "brain/indicator.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "json/json.h"

/* The embedded config/indicators.json (build/gen/indicators_json.c). */
extern const char eb_indicators_builtin_json[];

/* ---- the rules -------------------------------------------------------------------------- */

static const struct eb_rule_info rules[EB_RULE_COUNT] = {
    [EB_RULE_HOMEWORK_G12] = {"homework.grade12", "一、二年级布置书面家庭作业",
                              "Written homework in grades 1-2", EB_ORG_CLASS},
    [EB_RULE_HOMEWORK_TIME] = {"homework.minutes", "书面作业时长超标", "Too much written homework",
                               EB_ORG_CLASS},
    [EB_RULE_SLEEP] = {"sleep.hours", "睡眠时间不足", "Too little sleep", EB_ORG_CLASS},
    [EB_RULE_ACTIVITY] = {"activity.in_school", "校内体育活动不足一小时",
                          "Under an hour of physical activity in school", EB_ORG_CLASS},
    [EB_RULE_AFTERSCHOOL] = {"afterschool.hours", "课后服务时长或结束时间不达标",
                             "After-school service too short or ending too early", EB_ORG_SCHOOL},
    [EB_RULE_ATTENDANCE_DROP] = {"attendance.drop", "出勤率骤降", "Attendance drop", EB_ORG_SCHOOL},
};

/* Baseline of the attendance rule: the previous school days with data, looked for in the last
 * three weeks (holidays and weekends carry no rows). */
#define BASELINE_DAYS     5
#define BASELINE_MIN_DAYS 3
#define BASELINE_LOOKBACK 21

const struct eb_rule_info *eb_rule_info(int rule)
{
    return rule >= 0 && rule < EB_RULE_COUNT ? &rules[rule] : NULL;
}

int eb_rule_parse(const char *code)
{
    for (int i = 0; code && i < EB_RULE_COUNT; i++)
        if (strcmp(rules[i].code, code) == 0)
            return i;
    return -1;
}

void eb_rule_elements_resolve(struct eb_rule_elements *e, eb_element_resolve_fn resolve, void *rctx)
{
    struct {
        const char *code;
        int32_t *id;
    } map[] = {
        {"lessons.homework_written_g12", &e->homework_g12},
        {"homework.minutes", &e->homework_minutes},
        {"sleep.hours", &e->sleep_hours},
        {"activity.in_school_minutes", &e->activity_in_school},
        {"afterschool.minutes", &e->afterschool_minutes},
        {"afterschool.end_minute", &e->afterschool_end},
        {"attendance.present", &e->attendance_present},
        {"attendance.absent", &e->attendance_absent},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        enum eb_agg agg;
        if (resolve(rctx, map[i].code, map[i].id, &agg) != 0)
            *map[i].id = 0;
    }
}

void eb_rule_config_default(struct eb_rule_config *cfg)
{
    cfg->office_end_minute = 17 * 60 + 30;
    cfg->attendance_drop_pp = 5;
}

static void day_cell(const struct eb_cube *cube, int32_t element, int64_t org, eb_day day,
                     struct eb_cube_value *v)
{
    memset(v, 0, sizeof(*v));
    if (element <= 0 || eb_cube_get(cube, element, org, day, day, v) != 0)
        memset(v, 0, sizeof(*v));
}

/* The class average of an "average" element on one day (a class reports one value a day; a
 * correction replaces it, so the mean of what counts is that value). */
static int day_avg(const struct eb_cube *cube, int32_t element, int64_t org, eb_day day,
                   double *avg)
{
    struct eb_cube_value v;
    day_cell(cube, element, org, day, &v);
    if (v.count == 0)
        return 0;
    *avg = v.sum / (double)v.count;
    return 1;
}

static int is_primary(int g)
{
    return g >= 11 && g <= 16;
}
static int is_junior(int g)
{
    return g >= 21 && g <= 24;
}
static int is_senior(int g)
{
    return g >= 31 && g <= 33;
}

/* Attendance of a node on one day: present / (present + absent) in percent. */
static int attendance(const struct eb_cube *cube, const struct eb_rule_elements *el, int64_t org,
                      eb_day day, double *present, double *expected)
{
    struct eb_cube_value p, a;
    day_cell(cube, el->attendance_present, org, day, &p);
    day_cell(cube, el->attendance_absent, org, day, &a);
    *present = p.sum;
    *expected = p.sum + (double)a.count;
    return *expected > 0;
}

int eb_rule_eval(const struct eb_cube *cube, const struct eb_rule_elements *el,
                 const struct eb_rule_config *cfg, int rule, const struct eb_orgdir_node *n,
                 eb_day day, struct eb_rule_eval *out)
{
    double x;
    memset(out, 0, sizeof(*out));
    if (rule < 0 || rule >= EB_RULE_COUNT)
        return EB_EINVAL;
    if (n->kind != rules[rule].level)
        return 0;
    switch (rule) {
    case EB_RULE_HOMEWORK_G12: {
        struct eb_cube_value w;
        if (n->grade != 11 && n->grade != 12)
            return 0;
        day_cell(cube, el->homework_g12, n->id, day, &w);
        int has_minutes = day_avg(cube, el->homework_minutes, n->id, day, &x);
        out->applies = w.count > 0 || has_minutes;
        out->value = w.count > 0 && w.sum > 0 ? 1 : 0;
        out->value2 = has_minutes ? x : 0;
        out->limit = 0;
        out->breach = out->value > 0 || out->value2 > 0;
        break;
    }
    case EB_RULE_HOMEWORK_TIME:
        out->limit = n->grade >= 13 && n->grade <= 16 ? 60 : is_junior(n->grade) ? 90 : 0;
        if (out->limit == 0 || !day_avg(cube, el->homework_minutes, n->id, day, &x))
            return 0;
        out->applies = 1;
        out->value = x;
        out->breach = x > out->limit;
        break;
    case EB_RULE_SLEEP:
        out->limit = is_primary(n->grade)  ? 10
                     : is_junior(n->grade) ? 9
                     : is_senior(n->grade) ? 8
                                           : 0;
        if (out->limit == 0 || !day_avg(cube, el->sleep_hours, n->id, day, &x))
            return 0;
        out->applies = 1;
        out->value = x;
        out->breach = x < out->limit;
        break;
    case EB_RULE_ACTIVITY:
        if (!day_avg(cube, el->activity_in_school, n->id, day, &x))
            return 0;
        out->applies = 1;
        out->value = x;
        out->limit = 60;
        out->breach = x < 60;
        break;
    case EB_RULE_AFTERSCHOOL: {
        /* 课后服务 is the compulsory stages' duty; a school without stages recorded is checked. */
        double end;
        if (n->stages && !(n->stages & (EB_STAGE_PRIMARY | EB_STAGE_JUNIOR)))
            return 0;
        int has_minutes = day_avg(cube, el->afterschool_minutes, n->id, day, &x);
        int has_end = day_avg(cube, el->afterschool_end, n->id, day, &end);
        out->applies = has_minutes || has_end;
        out->value = has_minutes ? x : -1;
        out->limit = 120;
        out->value2 = has_end ? end : -1;
        out->limit2 = cfg->office_end_minute;
        out->breach = (has_minutes && x < 120) || (has_end && end < cfg->office_end_minute);
        break;
    }
    case EB_RULE_ATTENDANCE_DROP: {
        double p, e, sp = 0, se = 0;
        int days = 0;
        if (!attendance(cube, el, n->id, day, &p, &e))
            return 0;
        for (eb_day d = day - 1; d >= day - BASELINE_LOOKBACK && days < BASELINE_DAYS; d--) {
            double pd, ed;
            if (!attendance(cube, el, n->id, d, &pd, &ed))
                continue;
            sp += pd;
            se += ed;
            days++;
        }
        if (days < BASELINE_MIN_DAYS)
            return 0;
        out->applies = 1;
        out->value = p / e * 100;
        out->baseline = sp / se * 100;
        out->limit = cfg->attendance_drop_pp;
        out->breach = out->baseline - out->value >= cfg->attendance_drop_pp;
        break;
    }
    }
    return 0;
}

/* Reals for people: what a screen shows, not 17 digits of binary noise. */
static json_t *num(double v, int decimals)
{
    double f = pow(10, decimals);
    return json_real(round(v * f) / f);
}

static const char *hhmm(char out[6], double minute)
{
    int m = (int)lround(minute);
    if (m < 0)
        m = 0;
    snprintf(out, 6, "%02d:%02d", (m / 60) % 100, m % 60);
    return out;
}

json_t *eb_rule_values_json(int rule, const struct eb_rule_eval *ev)
{
    char a[6], b[6];
    switch (rule) {
    case EB_RULE_HOMEWORK_G12:
        return json_pack("{s:b,s:o}", "written", ev->value > 0, "minutes", num(ev->value2, 1));
    case EB_RULE_AFTERSCHOOL: {
        json_t *o = json_object();
        if (ev->value >= 0) {
            json_object_set_new(o, "minutes", num(ev->value, 1));
            json_object_set_new(o, "limit_minutes", json_integer(120));
        }
        if (ev->value2 >= 0)
            json_object_set_new(o, "end", json_string(hhmm(a, ev->value2)));
        json_object_set_new(o, "office_end", json_string(hhmm(b, ev->limit2)));
        return o;
    }
    case EB_RULE_ATTENDANCE_DROP:
        return json_pack("{s:o,s:o,s:o,s:o}", "rate", num(ev->value, 2), "baseline",
                         num(ev->baseline, 2), "drop_pp", num(ev->baseline - ev->value, 2),
                         "limit_pp", num(ev->limit, 2));
    default:
        return json_pack("{s:o,s:o}", "value", num(ev->value, 2), "limit", num(ev->limit, 2));
    }
}

static double val(const json_t *values, const char *key)
{
    return json_number_value(json_object_get(values, key));
}

char *eb_rule_message(struct eb_arena *a, int rule, const char *org, const char *since,
                      const json_t *values, enum eb_lang lang)
{
    int en = lang == EB_LANG_EN;
    const char *end = json_string_value(json_object_get(values, "end"));
    const char *office = json_string_value(json_object_get(values, "office_end"));
    switch (rule) {
    case EB_RULE_HOMEWORK_G12:
        return en ? eb_arena_printf(a, "%s: written homework given in grades 1-2 (since %s)", org,
                                    since)
                  : eb_arena_printf(a, "%s：一、二年级布置了书面家庭作业（%s起）", org, since);
    case EB_RULE_HOMEWORK_TIME:
        return en ? eb_arena_printf(a,
                                    "%s: %.0f minutes of written homework a day, over %.0f "
                                    "(since %s)",
                                    org, val(values, "value"), val(values, "limit"), since)
                  : eb_arena_printf(a, "%s：书面作业 %.0f 分钟，超过 %.0f 分钟（%s起）", org,
                                    val(values, "value"), val(values, "limit"), since);
    case EB_RULE_SLEEP:
        return en ? eb_arena_printf(a, "%s: %.1f hours of sleep, under %.0f (since %s)", org,
                                    val(values, "value"), val(values, "limit"), since)
                  : eb_arena_printf(a, "%s：睡眠 %.1f 小时，少于 %.0f 小时（%s起）", org,
                                    val(values, "value"), val(values, "limit"), since);
    case EB_RULE_ACTIVITY:
        return en ? eb_arena_printf(a,
                                    "%s: %.0f minutes of physical activity in school, under 60 "
                                    "(since %s)",
                                    org, val(values, "value"), since)
                  : eb_arena_printf(a, "%s：校内体育活动 %.0f 分钟，不足 60 分钟（%s起）", org,
                                    val(values, "value"), since);
    case EB_RULE_AFTERSCHOOL:
        if (json_object_get(values, "minutes") && val(values, "minutes") < 120)
            return en ? eb_arena_printf(a,
                                        "%s: %.0f minutes of after-school service, under 2 hours "
                                        "(since %s)",
                                        org, val(values, "minutes"), since)
                      : eb_arena_printf(a, "%s：课后服务 %.0f 分钟，不足 2 小时（%s起）", org,
                                        val(values, "minutes"), since);
        return en ? eb_arena_printf(a,
                                    "%s: after-school service ends at %s, before office hours end "
                                    "(%s) (since %s)",
                                    org, end ? end : "?", office ? office : "?", since)
                  : eb_arena_printf(a, "%s：课后服务 %s 结束，早于当地下班时间 %s（%s起）", org,
                                    end ? end : "?", office ? office : "?", since);
    case EB_RULE_ATTENDANCE_DROP:
        return en ? eb_arena_printf(a,
                                    "%s: attendance %.1f%%, %.1f points below the previous school "
                                    "days (%.1f%%) (since %s)",
                                    org, val(values, "rate"), val(values, "drop_pp"),
                                    val(values, "baseline"), since)
                  : eb_arena_printf(
                        a, "%s：出勤率 %.1f%%，比前几个上课日（%.1f%%）低 %.1f 个百分点（%s起）",
                        org, val(values, "rate"), val(values, "baseline"), val(values, "drop_pp"),
                        since);
    }
    return eb_arena_strdup(a, org);
}

/* ---- the running part ------------------------------------------------------------------- */

#define DEFS_MAX    512
#define QUEUE_MAX   (1u << 20) /* changes waiting for the alert worker; more are dropped */
#define WORKER_WAIT 1          /* seconds between idle wake-ups */

struct alert_state {
    int used;
    int rule;
    int64_t org;
    int open;
    eb_day since, last_day;
    int64_t id;
};

struct eb_indicators {
    struct eb_app *app;
    struct eb_orgdir *dir;
    struct eb_hub *hub;
    struct eb_rule_elements el;
    struct eb_rule_config cfg;

    pthread_mutex_t defs_mu;
    const struct eb_indicator *defs[DEFS_MAX];
    struct eb_arena *def_arenas[DEFS_MAX]; /* each definition's strings */
    size_t n_defs;

    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    struct eb_brain_change *queue;
    size_t n_queue, cap_queue;
    uint64_t dropped;
    uint64_t writes; /* alert rows opened or closed, for the sweep's transactions */

    struct alert_state *alerts; /* open addressing by (rule, org); the worker's only */
    size_t n_alerts, cap_alerts;
};

int eb_indicators_resolve(void *ctx, const char *code, int32_t *id, enum eb_agg *agg)
{
    struct eb_indicators *x = ctx;
    const struct eb_element *e =
        x->app && x->app->brain ? eb_brain_element_by_code(x->app->brain, code) : NULL;
    if (!e)
        return EB_ENOTFOUND;
    *id = e->id;
    *agg = e->agg;
    return 0;
}

static const struct eb_indicator *find_locked(struct eb_indicators *x, const char *code)
{
    for (size_t i = 0; i < x->n_defs; i++)
        if (strcmp(x->defs[i]->code, code) == 0)
            return x->defs[i];
    return NULL;
}

/* Parses and publishes a definition; the base of a non-additive one must be known already. */
static int add_def(struct eb_indicators *x, const json_t *def, int builtin, const char **field,
                   const char **why)
{
    struct eb_indicator tmp;
    struct eb_arena *a = eb_arena_create(64u << 10);
    int rc = eb_indicator_parse(def, eb_indicators_resolve, x, a, &tmp, field, why);
    if (rc) {
        eb_arena_destroy(a);
        return rc;
    }
    tmp.builtin = builtin;
    pthread_mutex_lock(&x->defs_mu);
    if (find_locked(x, tmp.code)) {
        rc = EB_EEXIST;
    } else if (tmp.kind != EB_IND_RATIO &&
               (!(tmp.base = find_locked(x, tmp.of)) || tmp.base->kind != EB_IND_RATIO)) {
        *field = "of";
        *why = "not the code of a ratio indicator";
        rc = EB_EINVAL;
    } else if (x->n_defs == DEFS_MAX) {
        rc = EB_ETOOBIG;
    } else {
        struct eb_indicator *keep = eb_arena_alloc(a, sizeof(*keep));
        *keep = tmp;
        x->def_arenas[x->n_defs] = a;
        x->defs[x->n_defs++] = keep;
        a = NULL;
    }
    pthread_mutex_unlock(&x->defs_mu);
    eb_arena_destroy(a);
    return rc;
}

int eb_indicators_add(struct eb_indicators *x, const json_t *def, const char **field,
                      const char **why)
{
    return add_def(x, def, 0, field, why);
}

static int load_city_def(void *ctx, const char *code, const char *json)
{
    struct eb_indicators *x = ctx;
    const char *field, *why;
    pthread_mutex_lock(&x->defs_mu);
    int known = find_locked(x, code) != NULL;
    pthread_mutex_unlock(&x->defs_mu);
    if (known)
        return 0;
    json_t *def = json_loads(json, 0, NULL);
    if (def && add_def(x, def, 0, &field, &why) != 0 && why)
        eb_warn("indicators: the city's %s is not usable: %s: %s", code, field, why);
    json_decref(def);
    return 0;
}

const struct eb_indicator *eb_indicators_find(struct eb_indicators *x, struct eb_db *db,
                                              const char *code)
{
    pthread_mutex_lock(&x->defs_mu);
    const struct eb_indicator *ind = find_locked(x, code);
    pthread_mutex_unlock(&x->defs_mu);
    /* Another server may have stored it: the database is the list of the city's own. */
    if (!ind && db && eb_store_indicators_scan(db, load_city_def, x) == 0) {
        pthread_mutex_lock(&x->defs_mu);
        ind = find_locked(x, code);
        pthread_mutex_unlock(&x->defs_mu);
    }
    return ind;
}

const struct eb_indicator *const *eb_indicators_all(struct eb_indicators *x, struct eb_db *db,
                                                    size_t *n)
{
    if (db)
        eb_store_indicators_scan(db, load_city_def, x);
    pthread_mutex_lock(&x->defs_mu);
    *n = x->n_defs;
    pthread_mutex_unlock(&x->defs_mu);
    return x->defs;
}

struct eb_hub *eb_indicators_hub(struct eb_indicators *x)
{
    return x->hub;
}

struct eb_orgdir *eb_indicators_dir(struct eb_indicators *x)
{
    return x->dir;
}

/* The rules an element feeds (a bit per rule). */
static unsigned rules_of(const struct eb_rule_elements *el, int32_t e)
{
    unsigned r = 0;
    if (e <= 0)
        return 0;
    if (e == el->homework_g12 || e == el->homework_minutes)
        r |= 1u << EB_RULE_HOMEWORK_G12;
    if (e == el->homework_minutes)
        r |= 1u << EB_RULE_HOMEWORK_TIME;
    if (e == el->sleep_hours)
        r |= 1u << EB_RULE_SLEEP;
    if (e == el->activity_in_school)
        r |= 1u << EB_RULE_ACTIVITY;
    if (e == el->afterschool_minutes || e == el->afterschool_end)
        r |= 1u << EB_RULE_AFTERSCHOOL;
    if (e == el->attendance_present || e == el->attendance_absent)
        r |= 1u << EB_RULE_ATTENDANCE_DROP;
    return r;
}

/* The brain's listener: the streams get every change, the worker those a rule reads. It never
 * blocks beyond two short locks, and it reads nothing. */
static void on_changes(void *ctx, const struct eb_brain_change *changes, size_t n)
{
    struct eb_indicators *x = ctx;
    eb_hub_changes(x->hub, changes, n);
    pthread_mutex_lock(&x->mu);
    for (size_t i = 0; i < n; i++) {
        if (!rules_of(&x->el, changes[i].element_id))
            continue;
        if (x->n_queue == QUEUE_MAX) {
            x->dropped++;
            continue;
        }
        if (x->n_queue == x->cap_queue) {
            x->cap_queue = x->cap_queue ? x->cap_queue * 2 : 1024;
            x->queue = eb_xrealloc(x->queue, x->cap_queue * sizeof(*x->queue));
        }
        x->queue[x->n_queue++] = changes[i];
    }
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

static struct alert_state *alert_slot(struct eb_indicators *x, int rule, int64_t org)
{
    if ((x->n_alerts + 1) * 2 > x->cap_alerts) {
        struct alert_state *old = x->alerts;
        size_t old_cap = x->cap_alerts;
        x->cap_alerts = old_cap ? old_cap * 2 : 1024;
        x->alerts = eb_xcalloc(x->cap_alerts, sizeof(*x->alerts));
        x->n_alerts = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].used)
                *alert_slot(x, old[i].rule, old[i].org) = old[i];
        eb_free(old);
    }
    uint64_t h = ((uint64_t)org * 31 + (uint64_t)rule) * 0x9E3779B97F4A7C15ull;
    for (size_t s = (size_t)(h >> 20) & (x->cap_alerts - 1);; s = (s + 1) & (x->cap_alerts - 1)) {
        struct alert_state *a = &x->alerts[s];
        if (a->used && a->rule == rule && a->org == org)
            return a;
        if (!a->used) {
            a->used = 1;
            a->rule = rule;
            a->org = org;
            x->n_alerts++;
            return a;
        }
    }
}

/* The alert object of the API and of the stream's alert events. */
static char *alert_text(struct eb_arena *a, int64_t id, int rule, const struct eb_orgdir_node *n,
                        eb_day since, const json_t *values, const char *state)
{
    char day[11];
    eb_day_format(since, day);
    json_t *o =
        json_pack("{s:I,s:s,s:{s:I,s:s,s:s},s:s,s:O,s:{s:s,s:s},s:s}", "id", (json_int_t)id, "rule",
                  rules[rule].code, "org", "id", (json_int_t)n->id, "name", n->name, "kind",
                  eb_org_kind_name(n->kind), "since", day, "values", values, "message", "zh",
                  eb_rule_message(a, rule, n->name, day, values, EB_LANG_ZH), "en",
                  eb_rule_message(a, rule, n->name, day, values, EB_LANG_EN), "state", state);
    char *text = o ? eb_json_dump(o, a, NULL) : NULL;
    json_decref(o);
    return text;
}

/* One evaluation's consequence: the state follows the newest day with data of the rule at the
 * node; a breach opens an alert (since the given day: the day itself for a live change), a day
 * without one clears it. */
static void transition(struct eb_indicators *x, struct eb_db *db, struct eb_arena *a, int rule,
                       const struct eb_orgdir_node *n, eb_day day, eb_day since,
                       const struct eb_rule_eval *ev)
{
    struct alert_state *st = alert_slot(x, rule, n->id);
    int open_now = 0, close_now = 0;
    if (!ev->applies) {
        /* The data that made the alert is gone (corrected away): it clears. */
        close_now = st->open && day == st->since;
    } else if (day >= st->last_day) {
        st->last_day = day;
        open_now = ev->breach && !st->open;
        close_now = !ev->breach && st->open;
    }
    if (!open_now && !close_now)
        return;
    json_t *values = eb_rule_values_json(rule, ev);
    char *text = NULL;
    int64_t id = 0;
    char *vtext = eb_json_dump(values, a, NULL);
    if (open_now) {
        int rc = eb_store_alert_open(db, rules[rule].code, n->id, since, vtext, &id);
        if (rc) {
            eb_warn("alerts: cannot open %s at %lld: %s", rules[rule].code, (long long)n->id,
                    eb_strerror(rc));
            goto done;
        }
        st->open = 1;
        st->since = since;
        st->id = id;
        x->writes++;
        text = alert_text(a, id, rule, n, since, values, "open");
    } else {
        int rc = eb_store_alert_close(db, rules[rule].code, n->id, day, &id);
        if (rc && rc != EB_ENOTFOUND)
            eb_warn("alerts: cannot close %s at %lld: %s", rules[rule].code, (long long)n->id,
                    eb_strerror(rc));
        text = alert_text(a, id ? id : st->id, rule, n, st->since, values, "closed");
        st->open = 0;
        x->writes++;
    }
    if (text)
        eb_hub_alert(x->hub, n->path, text);
done:
    json_decref(values);
}

/* A node the directory does not know yet (created after the start): read it once. */
static int node_of(struct eb_indicators *x, struct eb_db *db, struct eb_arena *a, int64_t id,
                   struct eb_orgdir_node *out)
{
    if (eb_orgdir_get(x->dir, id, out) == 0)
        return 0;
    struct eb_caller sys = {.system = 1};
    struct eb_org o;
    int rc = eb_store_org_head(db, &sys, id, a, &o);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->id = o.id;
    out->parent_id = o.parent_id;
    out->kind = o.kind;
    out->stages = o.stages;
    if (o.grade_code && o.grade_code[0] >= '0' && o.grade_code[0] <= '9')
        out->grade = (o.grade_code[0] - '0') * 10 + (o.grade_code[1] - '0');
    snprintf(out->path, sizeof(out->path), "%s", o.path ? o.path : "");
    snprintf(out->name, sizeof(out->name), "%s", o.name ? o.name : "");
    eb_orgdir_put(x->dir, out);
    return 0;
}

static int cmp_change(const void *pa, const void *pb)
{
    const struct eb_brain_change *a = pa, *b = pb;
    if (a->org_id != b->org_id)
        return a->org_id < b->org_id ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return (a->element_id > b->element_id) - (a->element_id < b->element_id);
}

static void process(struct eb_indicators *x, struct eb_brain_change *ch, size_t n)
{
    const struct eb_cube *cube = eb_brain_cube(x->app->brain);
    struct eb_db *db = eb_store_acquire(x->app->store);
    struct eb_arena *a = eb_arena_create(8u << 20);
    qsort(ch, n, sizeof(*ch), cmp_change);
    for (size_t i = 0; i < n; i++) {
        /* One evaluation per rule, node and day, whatever number of its elements changed. */
        unsigned todo = rules_of(&x->el, ch[i].element_id);
        while (i + 1 < n && ch[i + 1].org_id == ch[i].org_id && ch[i + 1].day == ch[i].day)
            todo |= rules_of(&x->el, ch[++i].element_id);
        struct eb_orgdir_node node;
        if (node_of(x, db, a, ch[i].org_id, &node) != 0)
            continue;
        for (int r = 0; r < EB_RULE_COUNT; r++) {
            struct eb_rule_eval ev;
            if (!(todo & (1u << r)) || rules[r].level != node.kind)
                continue;
            if (eb_rule_eval(cube, &x->el, &x->cfg, r, &node, ch[i].day, &ev) == 0)
                transition(x, db, a, r, &node, ch[i].day, ch[i].day, &ev);
        }
    }
    eb_arena_destroy(a);
    eb_store_release(x->app->store, db);
}

static int load_open_alert(void *ctx, const char *rule, int64_t org_id, int32_t since_day,
                           int32_t last_day, int64_t id)
{
    struct eb_indicators *x = ctx;
    int r = eb_rule_parse(rule);
    if (r < 0)
        return 0;
    struct alert_state *st = alert_slot(x, r, org_id);
    st->open = 1;
    st->since = since_day;
    st->last_day = last_day;
    st->id = id;
    return 0;
}

/*
 * Rules read the cube, and while it is rebuilt its cells hold part of the history: evaluated
 * then, a rule would close an open alert (or open one) on half the data, and reopen it under a
 * new id once the rest arrived. The changes wait in the queue until the cube is whole.
 */
static int wait_for_cube(struct eb_indicators *x)
{
    pthread_mutex_lock(&x->mu);
    while (!x->stopping && eb_brain_warming(x->app->brain)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000 * 1000 * 1000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000 * 1000 * 1000;
        }
        pthread_cond_timedwait(&x->cv, &x->mu, &ts);
    }
    int go = !x->stopping;
    pthread_mutex_unlock(&x->mu);
    return go;
}

static int is_stopping(struct eb_indicators *x)
{
    pthread_mutex_lock(&x->mu);
    int stop = x->stopping;
    pthread_mutex_unlock(&x->mu);
    return stop;
}

#define SWEEP_LOOKBACK 366 /* days back to look for a rule's newest day with data at a node */
#define SWEEP_COMMIT   256 /* alert rows per transaction: short holds of SQLite's write lock */

/* The newest day up to today with data of one of the rule's elements at the node, or -1. */
static eb_day newest_day(const struct eb_cube *cube, const struct eb_rule_elements *el, int rule,
                         int64_t org, eb_day today)
{
    const int32_t all[] = {el->homework_g12,       el->homework_minutes,    el->sleep_hours,
                           el->activity_in_school, el->afterschool_minutes, el->afterschool_end,
                           el->attendance_present, el->attendance_absent};
    eb_day newest = -1;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        struct eb_cube_value v;
        if (!(rules_of(el, all[i]) & (1u << rule)) ||
            eb_cube_get(cube, all[i], org, today - SWEEP_LOOKBACK, today, &v) != 0)
            continue;
        if (v.count > 0 && v.last_day > newest)
            newest = v.last_day;
    }
    return newest;
}

/* The first day of the run of breaches that ends on day: days without data of the rule do not
 * interrupt it (weekends, holidays), a day with data and no breach does. */
static eb_day breach_began(struct eb_indicators *x, int rule, const struct eb_orgdir_node *n,
                           eb_day day)
{
    const struct eb_cube *cube = eb_brain_cube(x->app->brain);
    eb_day since = day;
    for (eb_day d = day - 1; d > day - SWEEP_LOOKBACK; d--) {
        struct eb_rule_eval ev;
        if (eb_rule_eval(cube, &x->el, &x->cfg, rule, n, d, &ev) != 0)
            break;
        if (!ev.applies)
            continue;
        if (!ev.breach)
            break;
        since = d;
    }
    return since;
}

static void sweep_commit(struct eb_db *db, int reopen)
{
    int rc = eb_db_commit(db);
    if (rc) {
        eb_warn("alerts: the sweep's writes did not commit: %s", eb_strerror(rc));
        eb_db_rollback(db);
    }
    if (reopen && eb_db_begin(db) != 0)
        eb_warn("alerts: the sweep cannot open a transaction");
}

/*
 * Once the cube is whole, every rule at every node of its level is evaluated on the node's newest
 * day with data of the rule, as a change there would be: the alerts agree with the data from the
 * start. A new city's history opens its alerts on the first start; an alert whose data was
 * corrected while no server ran clears. Cube reads only, a few per node (a city: ~20,000 classes
 * and 1,250 schools in well under a second); the store is written only where a state changes.
 */
static void sweep(struct eb_indicators *x)
{
    static const enum eb_org_kind kinds[] = {EB_ORG_CLASS, EB_ORG_SCHOOL};
    const struct eb_cube *cube = eb_brain_cube(x->app->brain);
    struct eb_db *db = eb_store_acquire(x->app->store);
    eb_day today = eb_day_today();
    uint64_t writes0 = x->writes, committed = x->writes;
    size_t evaluated = 0, n_open0 = 0;
    for (size_t i = 0; i < x->cap_alerts; i++)
        n_open0 += x->alerts[i].used && x->alerts[i].open;
    if (eb_db_begin(db) != 0)
        eb_warn("alerts: the sweep cannot open a transaction");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        size_t n = eb_orgdir_of_kind(x->dir, kinds[k], NULL, 0);
        int64_t *ids = eb_xmalloc((n ? n : 1) * sizeof(*ids));
        size_t got = eb_orgdir_of_kind(x->dir, kinds[k], ids, n);
        n = got < n ? got : n;
        for (size_t i = 0; i < n && !is_stopping(x); i++) {
            struct eb_orgdir_node node;
            if (eb_orgdir_get(x->dir, ids[i], &node) != 0)
                continue;
            struct eb_arena *a = eb_arena_create(64u << 10);
            for (int r = 0; r < EB_RULE_COUNT; r++) {
                struct eb_rule_eval ev;
                if (rules[r].level != node.kind)
                    continue;
                eb_day day = newest_day(cube, &x->el, r, node.id, today);
                if (day < 0 || eb_rule_eval(cube, &x->el, &x->cfg, r, &node, day, &ev) != 0)
                    continue;
                evaluated++;
                transition(x, db, a, r, &node, day,
                           ev.breach ? breach_began(x, r, &node, day) : day, &ev);
            }
            eb_arena_destroy(a);
            if (x->writes - committed >= SWEEP_COMMIT) {
                sweep_commit(db, 1);
                committed = x->writes;
            }
        }
        eb_free(ids);
    }
    sweep_commit(db, 0);
    eb_store_release(x->app->store, db);
    size_t n_open = 0;
    for (size_t i = 0; i < x->cap_alerts; i++)
        n_open += x->alerts[i].used && x->alerts[i].open;
    eb_info("alerts: swept %zu rule evaluations: %llu alerts opened or closed, %zu open (was %zu)",
            evaluated, (unsigned long long)(x->writes - writes0), n_open, n_open0);
}

static void *worker(void *arg)
{
    struct eb_indicators *x = arg;
    struct eb_db *db = eb_store_acquire(x->app->store);
    int rc = eb_orgdir_load(x->dir, db);
    if (rc)
        eb_warn("indicators: the org directory did not load: %s", eb_strerror(rc));
    rc = eb_store_alerts_open_scan(db, load_open_alert, x);
    if (rc)
        eb_warn("alerts: the open alerts did not load: %s", eb_strerror(rc));
    eb_store_release(x->app->store, db);
    eb_info("alerts: ready (%zu open)", x->n_alerts);
    if (wait_for_cube(x))
        sweep(x);
    pthread_mutex_lock(&x->mu);
    while (!x->stopping) {
        if (x->n_queue == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += WORKER_WAIT;
            pthread_cond_timedwait(&x->cv, &x->mu, &ts);
            continue;
        }
        struct eb_brain_change *batch = x->queue;
        size_t n = x->n_queue;
        x->queue = NULL;
        x->n_queue = x->cap_queue = 0;
        if (x->dropped) {
            eb_warn("alerts: %llu changes dropped under load", (unsigned long long)x->dropped);
            x->dropped = 0;
        }
        pthread_mutex_unlock(&x->mu);
        process(x, batch, n);
        eb_free(batch);
        pthread_mutex_lock(&x->mu);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

int eb_indicators_start(struct eb_app *app, struct eb_indicators **out)
{
    struct eb_indicators *x = eb_xcalloc(1, sizeof(*x));
    json_error_t jerr;
    x->app = app;
    x->dir = eb_orgdir_new();
    x->hub = eb_hub_new(EB_STREAMS_MAX);
    eb_hub_set_brain(x->hub, app->brain);
    eb_rule_config_default(&x->cfg);
    pthread_mutex_init(&x->defs_mu, NULL);
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    *out = x;
    json_t *doc = json_loads(eb_indicators_builtin_json, 0, &jerr);
    json_t *items = json_object_get(doc, "indicators");
    /* The city's settings of the rules: its office hour ("HH:MM") and the attendance drop. */
    json_t *rcfg = json_object_get(doc, "rules");
    const char *office = json_string_value(json_object_get(rcfg, "office_end"));
    int hh, mm;
    if (office && sscanf(office, "%2d:%2d", &hh, &mm) == 2 && hh >= 0 && hh < 24 && mm >= 0 &&
        mm < 60)
        x->cfg.office_end_minute = hh * 60 + mm;
    json_t *drop = json_object_get(rcfg, "attendance_drop_pp");
    if (json_is_number(drop) && json_number_value(drop) > 0)
        x->cfg.attendance_drop_pp = json_number_value(drop);
    if (!json_is_array(items))
        eb_warn("indicators: config/indicators.json: %s",
                doc ? "no \"indicators\" array" : jerr.text);
    for (size_t i = 0; app->brain && i < json_array_size(items); i++) {
        const char *field, *why;
        if (add_def(x, json_array_get(items, i), 1, &field, &why) != 0)
            eb_warn("indicators: built-in #%zu not loaded: %s: %s", i, field ? field : "-",
                    why ? why : "-");
    }
    json_decref(doc);
    if (!app->brain)
        return 0;
    eb_rule_elements_resolve(&x->el, eb_indicators_resolve, x);
    if (pthread_create(&x->thread, NULL, worker, x) != 0) {
        eb_error("alerts: cannot start the worker");
        return EB_EINTERNAL;
    }
    x->started = 1;
    return eb_brain_subscribe(app->brain, on_changes, x);
}

void eb_indicators_stop(struct eb_indicators *x)
{
    if (!x)
        return;
    if (x->started) {
        pthread_mutex_lock(&x->mu);
        x->stopping = 1;
        pthread_cond_signal(&x->cv);
        pthread_mutex_unlock(&x->mu);
        pthread_join(x->thread, NULL);
    }
    eb_hub_free(x->hub);
    eb_orgdir_free(x->dir);
    for (size_t i = 0; i < x->n_defs; i++)
        eb_arena_destroy(x->def_arenas[i]);
    eb_free(x->queue);
    eb_free(x->alerts);
    pthread_cond_destroy(&x->cv);
    pthread_mutex_destroy(&x->mu);
    pthread_mutex_destroy(&x->defs_mu);
    eb_free(x);
}
