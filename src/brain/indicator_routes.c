/* HTTP routes of indicators, alerts, the live stream and the dashboard (docs/API.md). */
#include "brain/indicator.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "core/err.h"
#include "export/xlsx.h"
#include "json/json.h"

#define SLICES_MAX 400 /* rows of a by=day|week|month answer */
#define PAGE       500

/* The parts a handler needs, or a 503 while the brain is off. */
static int running(struct eb_req *r, struct eb_indicators **x)
{
    *x = r->app ? r->app->indicators : NULL;
    if (!*x) {
        eb_http_add_header(r, "Retry-After", "5");
        eb_http_error(r, 503, "unavailable", NULL);
        return 0;
    }
    return 1;
}

static int is_bureau_admin(const struct eb_caller *c)
{
    for (size_t i = 0; i < c->n_grants; i++)
        if (c->grants[i].role == EB_ROLE_CITY_ADMIN || c->grants[i].role == EB_ROLE_DISTRICT_ADMIN)
            return 1;
    return 0;
}

/* ?org=ID in the caller's aggregate scope; 0 when answered (400 or 404). Without org, the node
 * of the caller's first grant. */
static int org_arg(struct eb_req *r, struct eb_org *node)
{
    const char *s = eb_http_query(r, "org");
    int64_t id = 0;
    if (s) {
        for (const char *p = s; *p; p++) {
            if (*p < '0' || *p > '9' || id > 900719925474099LL) {
                eb_http_error(r, 400, "invalid_field", "org: expected an org id");
                return 0;
            }
            id = id * 10 + (*p - '0');
        }
    } else if (r->caller.n_grants > 0) {
        id = r->caller.grants[0].org_id;
    }
    if (id <= 0) {
        eb_http_error(r, 400, s ? "invalid_field" : "missing_field",
                      s ? "org: expected an org id" : "org");
        return 0;
    }
    int rc = eb_store_brain_org(r->db, &r->caller, id, r->arena, node);
    if (rc) {
        eb_http_fail(r, rc, NULL);
        return 0;
    }
    return 1;
}

static int period_arg(struct eb_req *r, struct eb_period *p)
{
    int rc =
        eb_period_parse(r->db, &r->caller, eb_http_query(r, "period"), eb_day_today(), r->arena, p);
    if (rc == EB_EINVAL) {
        eb_http_error(r, 400, "invalid_field",
                      "period: expected day:YYYY-MM-DD, week:YYYY-Www, month:YYYY-MM, "
                      "term:current|YYYY-YYYY-N, year:current|YYYY-YYYY or "
                      "range:YYYY-MM-DD..YYYY-MM-DD (at most 3660 days)");
        return 0;
    }
    if (rc == EB_ENOTFOUND) {
        eb_http_error(r, 400, "invalid_field", "period: no such term or school year");
        return 0;
    }
    if (rc) {
        eb_http_fail(r, rc, NULL);
        return 0;
    }
    return 1;
}

static json_t *org_ref(int64_t id, const char *name, enum eb_org_kind kind)
{
    return json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "name", name ? name : "", "kind",
                     eb_org_kind_name(kind) ? eb_org_kind_name(kind) : "");
}

static json_t *value_or_null(const struct eb_ind_value *v)
{
    return v->has_value ? json_real(v->value) : json_null();
}

static json_t *day_json(eb_day d)
{
    char s[11];
    eb_day_format(d, s);
    return json_string(s);
}

static void put_value(json_t *o, const struct eb_indicator *ind, const struct eb_ind_value *v)
{
    json_object_set_new(o, "value", value_or_null(v));
    if (ind->kind == EB_IND_RATIO) {
        json_object_set_new(o, "numerator", json_real(v->num));
        json_object_set_new(o, "denominator", json_real(v->den));
    } else {
        json_object_set_new(o, "schools", json_integer((json_int_t)v->n_schools));
    }
}

/* The distribution of the schools' values: counts per bin, never a list of named schools in
 * order of their results. */
static json_t *distribution(const struct eb_indicator *ind, const struct eb_ind_value *v)
{
    json_t *bins = json_array();
    for (int i = 0; i < 10 && v->n_schools; i++)
        json_array_append_new(bins,
                              json_pack("{s:f,s:f,s:I}", "from", v->bin_from + v->bin_width * i,
                                        "to", v->bin_from + v->bin_width * (i + 1), "schools",
                                        (json_int_t)v->bins[i]));
    json_t *d = json_pack("{s:I,s:I,s:o}", "schools", (json_int_t)v->n_schools, "considered",
                          (json_int_t)v->den, "bins", bins);
    if (v->n_schools) {
        json_object_set_new(d, "min", json_real(v->min));
        json_object_set_new(d, "max", json_real(v->max));
        json_object_set_new(d, "median", json_real(v->median));
        json_object_set_new(d, "mean", json_real(v->mean));
        json_object_set_new(d, "cv", v->n_schools >= 2 ? json_real(v->cv) : json_null());
    }
    if (ind->threshold > 0) {
        json_object_set_new(d, "threshold", json_real(ind->threshold));
        json_object_set_new(
            d, "meets", v->n_schools >= 2 ? json_boolean(v->cv <= ind->threshold) : json_null());
    }
    return d;
}

/* One row of a table answer: label columns for the spreadsheet, the JSON item. */
struct row {
    const char *label;
    json_t *item;
    struct eb_ind_value v;
};

/* The rows of by=children|day|week|month; *n = 0 without by. 0 when answered (400). */
static int slices(struct eb_req *r, const struct eb_ind_source *src, const struct eb_indicator *ind,
                  const struct eb_org *node, const struct eb_period *p, struct row **out, size_t *n)
{
    const char *by = eb_http_query(r, "by");
    *n = 0;
    *out = NULL;
    if (!by)
        return 1;
    if (strcmp(by, "children") == 0) {
        int64_t after = 0;
        size_t cap = 0;
        do {
            struct eb_org_list kids;
            int rc =
                eb_store_org_children(r->db, &r->caller, node->id, after, PAGE, r->arena, &kids);
            if (rc) {
                eb_http_fail(r, rc, NULL);
                return 0;
            }
            if (*n + kids.n > cap) {
                cap = (*n + kids.n) * 2;
                struct row *grown = eb_arena_alloc(r->arena, cap * sizeof(*grown));
                if (!grown) {
                    eb_http_fail(r, EB_ETOOBIG, NULL);
                    return 0;
                }
                if (*n)
                    memcpy(grown, *out, *n * sizeof(*grown));
                *out = grown;
            }
            for (size_t i = 0; i < kids.n; i++) {
                struct row *w = &(*out)[(*n)++];
                const struct eb_org *k = &kids.items[i];
                eb_indicator_eval(src, ind, k->id, p->from, p->to, &w->v);
                w->label = k->name;
                w->item = json_pack("{s:o}", "org", org_ref(k->id, k->name, k->kind));
                put_value(w->item, ind, &w->v);
            }
            after = kids.next;
        } while (after != 0);
        return 1;
    }
    int kind = strcmp(by, "day") == 0     ? 1
               : strcmp(by, "week") == 0  ? 2
               : strcmp(by, "month") == 0 ? 3
                                          : 0;
    if (!kind) {
        eb_http_error(r, 400, "invalid_field", "by: expected children, day, week or month");
        return 0;
    }
    *out = eb_arena_alloc(r->arena, SLICES_MAX * sizeof(**out));
    if (!*out) {
        eb_http_fail(r, EB_ETOOBIG, NULL);
        return 0;
    }
    for (eb_day d = p->from; d <= p->to;) {
        eb_day end;
        char label[16];
        const char *key;
        if (kind == 1) {
            end = d;
            eb_day_format(d, label);
            key = "day";
        } else if (kind == 2) {
            end = eb_period_week_start(d, label) + 6;
            key = "week";
        } else {
            int y, m, dd;
            eb_period_ymd(d, &y, &m, &dd);
            end = (m == 12 ? eb_period_civil(y + 1, 1, 1) : eb_period_civil(y, m + 1, 1)) - 1;
            snprintf(label, sizeof(label), "%04d-%02d", y % 10000, m % 100);
            key = "month";
        }
        if (end > p->to)
            end = p->to;
        if (*n == SLICES_MAX) {
            eb_http_error(r, 400, "invalid_field",
                          "by: more than 400 rows; choose a shorter "
                          "period or a longer step");
            return 0;
        }
        struct row *w = &(*out)[(*n)++];
        eb_indicator_eval(src, ind, node->id, d, end, &w->v);
        w->label = eb_arena_strdup(r->arena, label);
        w->item = json_pack("{s:s,s:o,s:o}", key, label, "from", day_json(d), "to", day_json(end));
        put_value(w->item, ind, &w->v);
        d = end + 1;
    }
    return 1;
}

static void free_rows(struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(rows[i].item);
}

static const char *num_text(struct eb_arena *a, int has, double v, int decimals)
{
    return has ? eb_arena_printf(a, "%.*f", decimals, v) : "";
}

static int send_xlsx(struct eb_req *r, const struct eb_indicator *ind, const struct eb_org *node,
                     const struct eb_period *p, const struct eb_ind_value *total,
                     const struct row *rows, size_t n)
{
    static const struct eb_xlsx_col cols[] = {
        {"项目", 28}, {"数值", 14}, {"分子", 16}, {"分母", 16}, {"开始日期", 12}, {"结束日期", 12},
    };
    struct eb_xlsx *x = NULL;
    char from[11], to[11];
    eb_day_format(p->from, from);
    eb_day_format(p->to, to);
    int rc = eb_xlsx_open(ind->name_zh, cols, 6, &x);
    for (size_t i = 0; rc == 0 && i <= n; i++) {
        const struct eb_ind_value *v = i < n ? &rows[i].v : total;
        const char *cells[6] = {
            i < n ? rows[i].label : eb_arena_printf(r->arena, "%s（合计）", node->name),
            num_text(r->arena, v->has_value, v->value, ind->decimals + 2),
            ind->kind == EB_IND_RATIO ? num_text(r->arena, 1, v->num, 2) : "",
            ind->kind == EB_IND_RATIO ? num_text(r->arena, 1, v->den, 2) : "",
            from,
            to,
        };
        rc = eb_xlsx_row(x, cells);
    }
    if (rc) {
        eb_xlsx_discard(x);
        return rc;
    }
    return eb_xlsx_send(
        x, r, eb_arena_printf(r->arena, "%s_%s.xlsx", ind->name_zh, node->name),
        eb_arena_printf(r->arena, "indicator-%s-%lld.xlsx", ind->code, (long long)node->id));
}

int eb_indicator_get_handler(struct eb_req *r)
{
    struct eb_indicators *x;
    struct eb_org node;
    struct eb_period p;
    struct eb_ind_value total;
    struct row *rows = NULL;
    size_t n = 0;
    if (!running(r, &x))
        return 0;
    const char *code = eb_http_param(r, "code");
    size_t len = code ? strlen(code) : 0;
    int xlsx = len > 5 && strcmp(code + len - 5, ".xlsx") == 0;
    if (xlsx)
        code = eb_arena_strndup(r->arena, code, len - 5);
    const struct eb_indicator *ind = eb_indicators_find(x, r->db, code);
    if (!ind)
        return eb_http_error(r, 404, "not_found", NULL);
    if (!org_arg(r, &node) || !period_arg(r, &p))
        return 0;
    if (!r->app->brain) {
        eb_http_add_header(r, "Retry-After", "5");
        return eb_http_error(r, 503, "unavailable", NULL);
    }
    struct eb_ind_source src = {eb_brain_cube(r->app->brain), eb_indicators_dir(x)};
    int rc = eb_indicator_eval(&src, ind, node.id, p.from, p.to, &total);
    if (rc && rc != EB_ENOTFOUND)
        return eb_http_fail(r, rc, NULL);
    if (!slices(r, &src, ind, &node, &p, &rows, &n))
        return 0;
    if (xlsx) {
        rc = send_xlsx(r, ind, &node, &p, &total, rows, n);
        free_rows(rows, n);
        return rc;
    }
    json_t *doc =
        json_pack("{s:s,s:{s:s,s:s},s:s,s:o,s:{s:o,s:o},s:{s:o,s:o},s:b,s:i}", "indicator",
                  ind->code, "name", "zh", ind->name_zh, "en", ind->name_en, "kind",
                  ind->kind == EB_IND_RATIO ? "ratio" : "schools", "org",
                  org_ref(node.id, node.name, node.kind), "period", "from", day_json(p.from), "to",
                  day_json(p.to), "unit", "zh", eb_json_str_or_null(ind->unit_zh), "en",
                  eb_json_str_or_null(ind->unit_en), "warming", eb_brain_warming(r->app->brain),
                  "decimals", ind->decimals);
    put_value(doc, ind, &total);
    if (ind->kind != EB_IND_RATIO)
        json_object_set_new(doc, "distribution", distribution(ind, &total));
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(items, rows[i].item);
    json_object_set_new(doc, "items", items);
    free_rows(rows, n);
    return eb_http_json(r, 200, doc);
}

int eb_indicator_list_handler(struct eb_req *r)
{
    struct eb_indicators *x;
    size_t n;
    if (!running(r, &x))
        return 0;
    const struct eb_indicator *const *all = eb_indicators_all(x, r->db, &n);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, eb_indicator_json(all[i]));
    return eb_http_json(r, 200, json_pack("{s:o}", "items", items));
}

int eb_indicator_create_handler(struct eb_req *r)
{
    struct eb_indicators *x;
    struct eb_indicator tmp;
    const char *field, *why;
    int64_t id;
    if (!running(r, &x))
        return 0;
    /* Who may, before what: the body of a caller who may not is not looked at. */
    if (!is_bureau_admin(&r->caller))
        return eb_http_error(r, 403, "forbidden", NULL);
    if (json_object_get(r->json, "builtin"))
        return eb_http_error(r, 400, "unknown_field", "builtin");
    int rc = eb_indicator_parse(r->json, eb_indicators_resolve, x, r->arena, &tmp, &field, &why);
    if (rc == 0 && tmp.kind != EB_IND_RATIO) {
        const struct eb_indicator *base = eb_indicators_find(x, r->db, tmp.of);
        if (!base || base->kind != EB_IND_RATIO) {
            field = "of";
            why = "not the code of a ratio indicator";
            rc = EB_EINVAL;
        }
    }
    if (rc == 0 && eb_indicators_find(x, r->db, tmp.code))
        return eb_http_error(r, 409, "exists", "code");
    if (rc)
        return eb_http_error(
            r, 400,
            strcmp(why ? why : "", "unknown field") == 0 ? "unknown_field" : "invalid_field",
            eb_arena_printf(r->arena, "%s: %s", field ? field : "-", why ? why : "invalid"));
    const char *text = eb_json_dump(r->json, r->arena, NULL);
    rc = eb_store_indicator_create(r->db, &r->caller, tmp.code, text, &id);
    if (rc)
        return eb_http_fail(r, rc, NULL);
    rc = eb_indicators_add(x, r->json, &field, &why);
    if (rc && rc != EB_EEXIST)
        return eb_http_fail(r, rc, why);
    const struct eb_indicator *ind = eb_indicators_find(x, NULL, tmp.code);
    return eb_http_json(r, 201, ind ? eb_indicator_json(ind) : json_object());
}

int eb_alert_list_handler(struct eb_req *r)
{
    struct eb_org node;
    size_t n;
    struct eb_alert_row *items;
    int64_t next, before = 0, limit = 100;
    const char *state = eb_http_query(r, "state");
    if (state && strcmp(state, "open") != 0 && strcmp(state, "all") != 0)
        return eb_http_error(r, 400, "invalid_field", "state: expected open or all");
    const char *s = eb_http_query(r, "before");
    if (s && sscanf(s, "%lld", (long long *)&before) != 1)
        return eb_http_error(r, 400, "invalid_field", "before");
    s = eb_http_query(r, "limit");
    if (s && (sscanf(s, "%lld", (long long *)&limit) != 1 || limit < 1 || limit > 500))
        return eb_http_error(r, 400, "invalid_field", "limit: 1..500");
    if (!org_arg(r, &node))
        return 0;
    int rc = eb_store_alert_list(r->db, &r->caller, node.id, !state || strcmp(state, "open") == 0,
                                 before, (int)limit, r->arena, &n, &items, &next);
    if (rc)
        return eb_http_fail(r, rc, NULL);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct eb_alert_row *a = &items[i];
        int rule = eb_rule_parse(a->rule);
        json_t *values = a->detail ? json_loads(a->detail, 0, NULL) : NULL;
        if (!values)
            values = json_object();
        char since[11];
        eb_day_format(a->since_day, since);
        const struct eb_rule_info *info = eb_rule_info(rule);
        json_t *o = json_pack(
            "{s:I,s:s,s:{s:s,s:s},s:o,s:s,s:O,s:{s:s,s:s},s:s,s:o}", "id", (json_int_t)a->id,
            "rule", a->rule, "rule_name", "zh", info ? info->name_zh : a->rule, "en",
            info ? info->name_en : a->rule, "org", org_ref(a->org_id, a->org_name, a->org_kind),
            "since", since, "values", values, "message", "zh",
            eb_rule_message(r->arena, rule, a->org_name ? a->org_name : "", since, values,
                            EB_LANG_ZH),
            "en",
            eb_rule_message(r->arena, rule, a->org_name ? a->org_name : "", since, values,
                            EB_LANG_EN),
            "state", a->state, "cleared", a->cleared_day ? day_json(a->cleared_day) : json_null());
        json_decref(values);
        json_array_append_new(arr, o);
    }
    return eb_http_json(r, 200,
                        json_pack("{s:o,s:o}", "items", arr, "next",
                                  next ? json_integer((json_int_t)next) : json_null()));
}

int eb_stream_handler(struct eb_req *r)
{
    struct eb_indicators *x;
    struct eb_org node;
    if (!running(r, &x) || !org_arg(r, &node))
        return 0;
    /* The children, whose changes a screen of this node shows next to its own. */
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int64_t after = 0;
    do {
        struct eb_org_list kids;
        int rc = eb_store_org_children(r->db, &r->caller, node.id, after, PAGE, r->arena, &kids);
        if (rc)
            return eb_http_fail(r, rc, NULL);
        if (n + kids.n > cap) {
            cap = (n + kids.n) * 2;
            int64_t *grown = eb_arena_alloc(r->arena, cap * sizeof(*grown));
            if (!grown)
                return eb_http_fail(r, EB_ETOOBIG, NULL);
            if (n)
                memcpy(grown, ids, n * sizeof(*grown));
            ids = grown;
        }
        for (size_t i = 0; i < kids.n; i++)
            ids[n++] = kids.items[i].id;
        after = kids.next;
    } while (after != 0);
    int rc = eb_hub_open(eb_indicators_hub(x), r, node.id, node.path, ids, n);
    if (rc)
        return eb_http_fail(r, rc, "too many open streams");
    return 0;
}

/* The registry's counts of a dashboard: the subtree's totals and their split by stage. */
struct dash_counts {
    struct eb_org_stats st;
    struct eb_stage_counts by_stage;
};

#define DASH_COUNTS_TTL_S 60

/*
 * The counts of node, through the people-list cache. Below a district they are cached under
 * the node's people data version, which moves with every change under it, so a hit is never
 * stale. Above school level nothing is versioned and the counts are the dashboard's cost: 220
 * ms of index scans for the city of `edubrain demo --scale city` (791,324 students, SQLite),
 * against 1 ms for the rest of the answer. There the version is the current minute, so the big
 * screens of a city's bureau, refreshing at will, cost one count a minute per node and process, and
 * show the registry at most a minute old. Both parts come from one read, so the split always adds
 * up to the totals shown beside it.
 */
static int dash_counts(struct eb_req *r, int64_t org_id, struct dash_counts *out)
{
    int64_t version = -1;
    /* The version read is also the scope check: the same rule as the counts themselves. */
    int rc = eb_store_people_version(r->db, &r->caller, org_id, &version);
    if (rc)
        return rc;
    if (version < 0)
        version = (int64_t)(time(NULL) / DASH_COUNTS_TTL_S);
    const char *key = r->app->lists
                          ? eb_arena_printf(r->arena, "dashboard-counts:%lld", (long long)org_id)
                          : NULL;
    struct eb_buf hit;
    eb_buf_init(&hit, sizeof(*out));
    if (key && eb_cache_get(r->app->lists, key, version, &hit) && hit.len == sizeof(*out)) {
        memcpy(out, hit.data, sizeof(*out));
        eb_buf_free(&hit);
        return 0;
    }
    eb_buf_free(&hit);
    rc = eb_store_org_stats(r->db, &r->caller, org_id, &out->st);
    if (rc == 0)
        rc = eb_store_org_stage_counts(r->db, &r->caller, org_id, &out->by_stage);
    if (rc == 0 && key)
        eb_cache_put(r->app->lists, key, version, out, sizeof(*out));
    return rc;
}

/* counts.by_stage: every stage with its students and teachers; "unknown" only when some are. */
static json_t *by_stage_json(const struct eb_stage_counts *bs)
{
    json_t *o = json_object();
    for (int i = 0; i <= EB_N_STAGES; i++) {
        if (i == EB_N_STAGES && bs->students[i] == 0 && bs->teachers[i] == 0)
            continue;
        json_object_set_new(o, eb_stage_code(i),
                            json_pack("{s:I,s:I}", "students", (json_int_t)bs->students[i],
                                      "teachers", (json_int_t)bs->teachers[i]));
    }
    return o;
}

int eb_dashboard_handler(struct eb_req *r)
{
    struct eb_indicators *x;
    struct eb_org node;
    struct dash_counts dc;
    const struct eb_org_stats *st = &dc.st;
    struct eb_period term;
    int64_t open_alerts = 0;
    size_t n;
    if (!running(r, &x) || !org_arg(r, &node))
        return 0;
    eb_day today = eb_day_today();
    int rc = dash_counts(r, node.id, &dc);
    if (rc == 0)
        rc = eb_store_alert_count(r->db, &r->caller, node.id, &open_alerts);
    if (rc)
        return eb_http_fail(r, rc, NULL);
    if (eb_period_parse(r->db, &r->caller, "term:current", today, r->arena, &term) != 0) {
        term.from = today - 182;
        term.to = today;
    }
    json_t *kpis = json_array();
    const struct eb_indicator *const *all = eb_indicators_all(x, r->db, &n);
    for (size_t i = 0; r->app->brain && i < n; i++) {
        const struct eb_indicator *ind = all[i];
        struct eb_ind_value v;
        if (!ind->dashboard)
            continue;
        int daily = strcmp(ind->dashboard, "today") == 0;
        eb_day from = daily ? today : term.from,
               to = daily ? today : (term.to < today ? term.to : today);
        struct eb_ind_source src = {eb_brain_cube(r->app->brain), eb_indicators_dir(x)};
        if (eb_indicator_eval(&src, ind, node.id, from, to, &v) != 0)
            memset(&v, 0, sizeof(v));
        json_t *k = json_pack("{s:s,s:{s:s,s:s},s:{s:o,s:o},s:{s:o,s:o},s:i}", "indicator",
                              ind->code, "name", "zh", ind->name_zh, "en", ind->name_en, "unit",
                              "zh", eb_json_str_or_null(ind->unit_zh), "en",
                              eb_json_str_or_null(ind->unit_en), "period", "from", day_json(from),
                              "to", day_json(to), "decimals", ind->decimals);
        put_value(k, ind, &v);
        if (ind->threshold > 0)
            json_object_set_new(k, "threshold", json_real(ind->threshold));
        json_array_append_new(kpis, k);
    }
    json_t *doc =
        json_pack("{s:o,s:o,s:b,s:{s:I,s:I,s:I,s:I,s:I,s:o},s:{s:I},s:o}", "org",
                  org_ref(node.id, node.name, node.kind), "date", day_json(today), "warming",
                  r->app->brain ? eb_brain_warming(r->app->brain) : 1, "counts", "districts",
                  (json_int_t)st->districts, "schools", (json_int_t)st->schools, "classes",
                  (json_int_t)st->classes, "students", (json_int_t)st->students, "teachers",
                  (json_int_t)st->teachers, "by_stage", by_stage_json(&dc.by_stage), "alerts",
                  "open", (json_int_t)open_alerts, "kpis", kpis);
    return eb_http_json(r, 200, doc);
}
