/* Indicator definitions and their values from the cube; the org directory the listeners use. */
#include "brain/indicator.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "json/json.h"

/* ---- the org directory ------------------------------------------------------------------ */

struct eb_orgdir {
    pthread_rwlock_t lock;
    struct eb_orgdir_node *nodes;
    size_t n, cap;
    /* Open addressing: slot -> index + 1 (0 = empty); the load stays under one half. */
    uint32_t *slots;
    size_t n_slots;
    uint32_t *schools; /* indexes of the school nodes, for the non-additive indicators */
    size_t n_schools, cap_schools;
};

static size_t slot_of(int64_t id, size_t n_slots)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (n_slots - 1);
}

struct eb_orgdir *eb_orgdir_new(void)
{
    struct eb_orgdir *d = eb_xcalloc(1, sizeof(*d));
    pthread_rwlock_init(&d->lock, NULL);
    d->n_slots = 1024;
    d->slots = eb_xcalloc(d->n_slots, sizeof(*d->slots));
    return d;
}

void eb_orgdir_free(struct eb_orgdir *d)
{
    if (!d)
        return;
    pthread_rwlock_destroy(&d->lock);
    eb_free(d->nodes);
    eb_free(d->slots);
    eb_free(d->schools);
    eb_free(d);
}

/* The index of id, or -1; under either lock. */
static long find(const struct eb_orgdir *d, int64_t id)
{
    for (size_t s = slot_of(id, d->n_slots);; s = (s + 1) & (d->n_slots - 1)) {
        uint32_t v = d->slots[s];
        if (v == 0)
            return -1;
        if (d->nodes[v - 1].id == id)
            return (long)(v - 1);
    }
}

static void rehash(struct eb_orgdir *d, size_t n_slots)
{
    eb_free(d->slots);
    d->n_slots = n_slots;
    d->slots = eb_xcalloc(n_slots, sizeof(*d->slots));
    for (size_t i = 0; i < d->n; i++) {
        size_t s = slot_of(d->nodes[i].id, n_slots);
        while (d->slots[s])
            s = (s + 1) & (n_slots - 1);
        d->slots[s] = (uint32_t)(i + 1);
    }
}

void eb_orgdir_put(struct eb_orgdir *d, const struct eb_orgdir_node *n)
{
    pthread_rwlock_wrlock(&d->lock);
    long i = find(d, n->id);
    if (i >= 0) {
        d->nodes[i] = *n;
        goto done;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->nodes = eb_xrealloc(d->nodes, d->cap * sizeof(*d->nodes));
    }
    d->nodes[d->n++] = *n;
    if (d->n * 2 > d->n_slots) {
        rehash(d, d->n_slots * 2);
    } else {
        size_t s = slot_of(n->id, d->n_slots);
        while (d->slots[s])
            s = (s + 1) & (d->n_slots - 1);
        d->slots[s] = (uint32_t)d->n;
    }
    if (n->kind == EB_ORG_SCHOOL) {
        if (d->n_schools == d->cap_schools) {
            d->cap_schools = d->cap_schools ? d->cap_schools * 2 : 256;
            d->schools = eb_xrealloc(d->schools, d->cap_schools * sizeof(*d->schools));
        }
        d->schools[d->n_schools++] = (uint32_t)(d->n - 1);
    }
done:
    pthread_rwlock_unlock(&d->lock);
}

int eb_orgdir_get(struct eb_orgdir *d, int64_t id, struct eb_orgdir_node *out)
{
    pthread_rwlock_rdlock(&d->lock);
    long i = find(d, id);
    if (i >= 0)
        *out = d->nodes[i];
    pthread_rwlock_unlock(&d->lock);
    return i >= 0 ? 0 : EB_ENOTFOUND;
}

size_t eb_orgdir_schools(struct eb_orgdir *d, const char *path, int64_t *ids, size_t cap)
{
    size_t n = 0, plen = strlen(path);
    pthread_rwlock_rdlock(&d->lock);
    for (size_t i = 0; i < d->n_schools; i++) {
        const struct eb_orgdir_node *s = &d->nodes[d->schools[i]];
        if (strncmp(s->path, path, plen) != 0)
            continue;
        if (n < cap)
            ids[n] = s->id;
        n++;
    }
    pthread_rwlock_unlock(&d->lock);
    return n;
}

size_t eb_orgdir_of_kind(struct eb_orgdir *d, enum eb_org_kind kind, int64_t *ids, size_t cap)
{
    size_t n = 0;
    pthread_rwlock_rdlock(&d->lock);
    for (size_t i = 0; i < d->n; i++) {
        if (d->nodes[i].kind != kind)
            continue;
        if (n < cap)
            ids[n] = d->nodes[i].id;
        n++;
    }
    pthread_rwlock_unlock(&d->lock);
    return n;
}

static int grade_code(const char *s)
{
    if (!s || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return 0;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static int load_one(void *arg, const struct eb_or_xorg *o)
{
    struct eb_orgdir_node n = {0};
    n.id = o->org.id;
    n.parent_id = o->org.parent_id;
    n.kind = o->org.kind;
    n.stages = o->org.stages;
    n.grade = grade_code(o->org.grade_code);
    copy_str(n.path, sizeof(n.path), o->org.path);
    copy_str(n.name, sizeof(n.name), o->org.name);
    /* A class may lack its own grade code: its grade node, loaded before it, has one. */
    if (n.kind == EB_ORG_CLASS && n.grade == 0) {
        struct eb_orgdir_node g;
        if (eb_orgdir_get(arg, n.parent_id, &g) == 0)
            n.grade = g.grade;
    }
    eb_orgdir_put(arg, &n);
    return 0;
}

int eb_orgdir_load(struct eb_orgdir *d, struct eb_db *db)
{
    struct eb_caller sys = {.system = 1};
    int64_t city = 0;
    int rc = eb_store_or_city(db, &city);
    if (rc || city == 0)
        return rc;
    rc = eb_store_or_export_orgs(db, &sys, city, 0, load_one, d);
    if (rc == 0)
        rc = eb_store_or_export_orgs(db, &sys, city, EB_ORG_GRADE, load_one, d);
    if (rc == 0)
        rc = eb_store_or_export_orgs(db, &sys, city, EB_ORG_CLASS, load_one, d);
    return rc;
}

/* ---- definitions ------------------------------------------------------------------------ */

static const char *const kind_names[] = {
    [EB_IND_RATIO] = "ratio", [EB_IND_CV] = "cv",         [EB_IND_MIN] = "min",
    [EB_IND_MAX] = "max",     [EB_IND_MEDIAN] = "median",
};
static const char *const measure_names[] = {
    [EB_MEASURE_SUM] = "sum", [EB_MEASURE_COUNT] = "count", [EB_MEASURE_LAST] = "last"};

static const struct {
    const char *name;
    unsigned bit;
} stage_names[] = {
    {"preschool", EB_STAGE_PRESCHOOL},   {"primary", EB_STAGE_PRIMARY},
    {"junior", EB_STAGE_JUNIOR},         {"senior", EB_STAGE_SENIOR},
    {"vocational", EB_STAGE_VOCATIONAL}, {"special", EB_STAGE_SPECIAL},
};

static int code_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.'))
            return 0;
    }
    return 1;
}

static const char *dup(struct eb_arena *a, const char *s)
{
    return s ? eb_arena_strdup(a, s) : NULL;
}

/* A text member: absent is NULL (fine when optional); present must be a non-empty string of at
 * most max bytes. */
static int text_member(const json_t *def, const char *key, size_t max, int required,
                       const char **out)
{
    const json_t *v = json_object_get(def, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? EB_EINVAL : 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
        return EB_EINVAL;
    *out = json_string_value(v);
    return 0;
}

static int parse_term(const json_t *t, eb_element_resolve_fn resolve, void *rctx,
                      struct eb_arena *a, struct eb_ind_term *out)
{
    const char *el = NULL, *m = NULL;
    enum eb_agg agg = 0;
    if (!json_is_object(t) || text_member(t, "element", 64, 1, &el) ||
        text_member(t, "measure", 16, 0, &m))
        return EB_EINVAL;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)(uintptr_t)t, key, v)
    {
        (void)v;
        if (strcmp(key, "element") != 0 && strcmp(key, "measure") != 0)
            return EB_EINVAL;
    }
    if (resolve(rctx, el, &out->element_id, &agg) != 0)
        return EB_ENOTFOUND;
    out->element = dup(a, el);
    out->measure = 0;
    if (m) {
        for (int i = EB_MEASURE_SUM; i <= EB_MEASURE_LAST; i++)
            if (strcmp(m, measure_names[i]) == 0)
                out->measure = (enum eb_measure)i;
        if (!out->measure)
            return EB_EINVAL;
    } else {
        /* The natural measure of the element's aggregation: a stock is read as of the period's
         * end, a count of rows by its count, everything else by its sum. */
        out->measure = agg == EB_AGG_LAST    ? EB_MEASURE_LAST
                       : agg == EB_AGG_COUNT ? EB_MEASURE_COUNT
                                             : EB_MEASURE_SUM;
    }
    return 0;
}

static int parse_terms(const json_t *def, const char *key, eb_element_resolve_fn resolve,
                       void *rctx, struct eb_arena *a, struct eb_ind_term *terms, size_t *n,
                       const char **why)
{
    const json_t *arr = json_object_get(def, key);
    *n = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > EB_IND_TERMS) {
        *why = "expected an array of 1 to 4 terms {\"element\",\"measure\"?}";
        return EB_EINVAL;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        int rc = parse_term(json_array_get(arr, i), resolve, rctx, a, &terms[i]);
        if (rc) {
            *why = rc == EB_ENOTFOUND ? "unknown data element"
                                      : "a term is {\"element\",\"measure\":\"sum|count|last\"}";
            return EB_EINVAL;
        }
    }
    *n = json_array_size(arr);
    return 0;
}

static const char *const known_keys[] = {
    "code",   "name_zh",  "name_en", "unit_zh", "unit_en", "kind",      "numerator", "denominator",
    "factor", "decimals", "of",      "stage",   "weight",  "threshold", "builtin",   "dashboard",
};

int eb_indicator_parse(const json_t *def, eb_element_resolve_fn resolve, void *rctx,
                       struct eb_arena *a, struct eb_indicator *out, const char **field,
                       const char **why)
{
    const char *s;
    const char *key;
    const json_t *v;
    memset(out, 0, sizeof(*out));
    *field = NULL;
    *why = NULL;
    if (!json_is_object(def)) {
        *field = "indicator";
        *why = "expected an object";
        return EB_EINVAL;
    }
    json_object_foreach((json_t *)(uintptr_t)def, key, v)
    {
        int known = 0;
        for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
            known |= strcmp(key, known_keys[i]) == 0;
        if (!known) {
            *field = key;
            *why = "unknown field";
            return EB_EINVAL;
        }
    }
#define FAIL(f, w)                                                                                 \
    do {                                                                                           \
        *field = (f);                                                                              \
        *why = (w);                                                                                \
        return EB_EINVAL;                                                                          \
    } while (0)
    if (text_member(def, "code", 64, 1, &s) || !code_ok(s))
        FAIL("code", "expected 1 to 64 characters of a-z, 0-9, '_' and '.'");
    out->code = dup(a, s);
    if (text_member(def, "name_zh", 100, 1, &s))
        FAIL("name_zh", "expected a name of 1 to 100 bytes");
    out->name_zh = dup(a, s);
    if (text_member(def, "name_en", 100, 1, &s))
        FAIL("name_en", "expected a name of 1 to 100 bytes");
    out->name_en = dup(a, s);
    if (text_member(def, "unit_zh", 32, 0, &s))
        FAIL("unit_zh", "expected a unit of 1 to 32 bytes");
    out->unit_zh = dup(a, s);
    if (text_member(def, "unit_en", 32, 0, &s))
        FAIL("unit_en", "expected a unit of 1 to 32 bytes");
    out->unit_en = dup(a, s);
    if (text_member(def, "kind", 16, 0, &s))
        FAIL("kind", "expected ratio, cv, min, max or median");
    out->kind = s ? 0 : EB_IND_RATIO;
    for (int k = EB_IND_RATIO; s && k <= EB_IND_MEDIAN; k++)
        if (strcmp(s, kind_names[k]) == 0)
            out->kind = (enum eb_ind_kind)k;
    if (!out->kind)
        FAIL("kind", "expected ratio, cv, min, max or median");
    v = json_object_get(def, "factor");
    out->factor = 1;
    if (v && !json_is_null(v)) {
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1e6)
            FAIL("factor", "expected a number above 0, at most 1000000");
        out->factor = json_number_value(v);
    }
    v = json_object_get(def, "decimals");
    out->decimals = 1;
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 6)
            FAIL("decimals", "expected an integer 0..6");
        out->decimals = (int)json_integer_value(v);
    }
    v = json_object_get(def, "builtin");
    out->builtin = json_is_true(v);
    if (text_member(def, "dashboard", 8, 0, &s) ||
        (s && strcmp(s, "today") != 0 && strcmp(s, "term") != 0))
        FAIL("dashboard", "expected today or term");
    out->dashboard = dup(a, s);
    if (out->kind == EB_IND_RATIO) {
        if (json_object_get(def, "of") || json_object_get(def, "stage") ||
            json_object_get(def, "weight") || json_object_get(def, "threshold"))
            FAIL("of", "only the non-additive kinds (cv, min, max, median) take of, stage, "
                       "weight and threshold");
        if (parse_terms(def, "numerator", resolve, rctx, a, out->num, &out->n_num, why)) {
            *field = "numerator";
            return EB_EINVAL;
        }
        if (parse_terms(def, "denominator", resolve, rctx, a, out->den, &out->n_den, why)) {
            *field = "denominator";
            return EB_EINVAL;
        }
        return 0;
    }
    if (json_object_get(def, "numerator") || json_object_get(def, "denominator"))
        FAIL("numerator", "a non-additive indicator takes `of` (a ratio indicator per school)");
    if (text_member(def, "of", 64, 1, &s) || !code_ok(s))
        FAIL("of", "expected the code of a ratio indicator");
    out->of = dup(a, s);
    if (text_member(def, "stage", 16, 0, &s))
        FAIL("stage", "expected primary, junior, senior, preschool, vocational or special");
    for (size_t i = 0; s && i < sizeof(stage_names) / sizeof(stage_names[0]); i++)
        if (strcmp(s, stage_names[i].name) == 0)
            out->stage = stage_names[i].bit;
    if (s && !out->stage)
        FAIL("stage", "expected primary, junior, senior, preschool, vocational or special");
    v = json_object_get(def, "threshold");
    if (v && !json_is_null(v)) {
        if (!json_is_number(v) || json_number_value(v) < 0)
            FAIL("threshold", "expected a number >= 0");
        out->threshold = json_number_value(v);
    }
    v = json_object_get(def, "weight");
    if (v && !json_is_null(v)) {
        if (parse_term(v, resolve, rctx, a, &out->weight))
            FAIL("weight", "expected {\"element\",\"measure\"?} of a known element");
    } else {
        json_t *w = json_pack("{s:s}", "element", "students.enrolled");
        int rc = parse_term(w, resolve, rctx, a, &out->weight);
        json_decref(w);
        if (rc)
            FAIL("weight", "students.enrolled is unknown: name the weight element");
    }
#undef FAIL
    return 0;
}

static json_t *terms_json(const struct eb_ind_term *t, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s}", "element", t[i].element, "measure",
                                             measure_names[t[i].measure]));
    return arr;
}

json_t *eb_indicator_json(const struct eb_indicator *ind)
{
    json_t *o =
        json_pack("{s:s,s:{s:s,s:s},s:{s:o,s:o},s:s,s:f,s:i,s:b}", "code", ind->code, "name", "zh",
                  ind->name_zh, "en", ind->name_en, "unit", "zh", eb_json_str_or_null(ind->unit_zh),
                  "en", eb_json_str_or_null(ind->unit_en), "kind", kind_names[ind->kind], "factor",
                  ind->factor, "decimals", ind->decimals, "builtin", ind->builtin);
    if (ind->kind == EB_IND_RATIO) {
        json_object_set_new(o, "numerator", terms_json(ind->num, ind->n_num));
        json_object_set_new(o, "denominator", terms_json(ind->den, ind->n_den));
    } else {
        json_object_set_new(o, "of", json_string(ind->of));
        const char *stage = NULL;
        for (size_t i = 0; i < sizeof(stage_names) / sizeof(stage_names[0]); i++)
            if (ind->stage == stage_names[i].bit)
                stage = stage_names[i].name;
        json_object_set_new(o, "stage", eb_json_str_or_null(stage));
        json_object_set_new(o, "weight",
                            json_pack("{s:s,s:s}", "element", ind->weight.element, "measure",
                                      measure_names[ind->weight.measure]));
        json_object_set_new(o, "threshold",
                            ind->threshold > 0 ? json_real(ind->threshold) : json_null());
    }
    return o;
}

/* ---- values ----------------------------------------------------------------------------- */

/* The cells of one element at a node; an unknown node or element reads as no data. */
static void cell(const struct eb_cube *cube, int32_t element, int64_t org, eb_day from, eb_day to,
                 struct eb_cube_value *v)
{
    memset(v, 0, sizeof(*v));
    if (element <= 0 || eb_cube_get(cube, element, org, from, to, v) != 0)
        memset(v, 0, sizeof(*v));
}

/* A term's amount over [from, to]. A stock is read as of `to`, whenever it was last reported:
 * equipment counted in September still counts in November. */
static double term_value(const struct eb_cube *cube, const struct eb_ind_term *t, int64_t org,
                         eb_day from, eb_day to, int64_t *count)
{
    struct eb_cube_value v;
    if (t->measure == EB_MEASURE_LAST) {
        cell(cube, t->element_id, org, 0, to, &v);
        *count = v.count;
        return v.count ? v.last : 0;
    }
    cell(cube, t->element_id, org, from, to, &v);
    *count = v.count;
    return t->measure == EB_MEASURE_COUNT ? (double)v.count : v.sum;
}

static void eval_ratio(const struct eb_cube *cube, const struct eb_indicator *ind, int64_t org,
                       eb_day from, eb_day to, struct eb_ind_value *out)
{
    int has_last = 0, has_flow = 0;
    int64_t cnt;
    for (size_t i = 0; i < ind->n_num + ind->n_den; i++) {
        const struct eb_ind_term *t = i < ind->n_num ? &ind->num[i] : &ind->den[i - ind->n_num];
        if (t->measure == EB_MEASURE_LAST)
            has_last = 1;
        else
            has_flow = 1;
    }
    out->num = out->den = 0;
    if (!(has_last && has_flow)) {
        /* Additive terms (or stocks only): one read of each term over the whole period. */
        for (size_t i = 0; i < ind->n_num; i++)
            out->num += term_value(cube, &ind->num[i], org, from, to, &cnt);
        for (size_t i = 0; i < ind->n_den; i++)
            out->den += term_value(cube, &ind->den[i], org, from, to, &cnt);
    } else {
        /*
         * A flow against a stock (participants a day / students enrolled): the stock is
         * counted once for every day on which the flow was reported, so that the period's
         * numerator and denominator are both sums over the same days before the division.
         */
        for (eb_day d = from; d <= to; d++) {
            double n = 0, dd = 0;
            int64_t flows = 0;
            for (size_t i = 0; i < ind->n_num + ind->n_den; i++) {
                const struct eb_ind_term *t =
                    i < ind->n_num ? &ind->num[i] : &ind->den[i - ind->n_num];
                if (t->measure == EB_MEASURE_LAST)
                    continue;
                double x = term_value(cube, t, org, d, d, &cnt);
                flows += cnt;
                if (i < ind->n_num)
                    n += x;
                else
                    dd += x;
            }
            if (flows == 0)
                continue;
            for (size_t i = 0; i < ind->n_num + ind->n_den; i++) {
                const struct eb_ind_term *t =
                    i < ind->n_num ? &ind->num[i] : &ind->den[i - ind->n_num];
                if (t->measure != EB_MEASURE_LAST)
                    continue;
                double x = term_value(cube, t, org, d, d, &cnt);
                if (i < ind->n_num)
                    n += x;
                else
                    dd += x;
            }
            out->num += n;
            out->den += dd;
        }
    }
    out->has_value = out->den > 0;
    out->value = out->has_value ? out->num / out->den * ind->factor : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/*
 * The schools' values of the base indicator, and their statistics. The coefficient of variation
 * is the one of the county balance audit (义务教育均衡 差异系数): CV = S / X̄ with
 * X̄ = Σ PᵢXᵢ / Σ Pᵢ and S = √(Σ Pᵢ(Xᵢ − X̄)² / Σ Pᵢ), Pᵢ the school's students.
 */
static int eval_schools(const struct eb_ind_source *src, const struct eb_indicator *ind,
                        int64_t org, eb_day from, eb_day to, struct eb_ind_value *out)
{
    struct eb_orgdir_node node;
    int rc = 0;
    int64_t *ids = NULL;
    double *xs = NULL, *ws = NULL, *sorted = NULL;
    if (!ind->base || ind->base->kind != EB_IND_RATIO)
        return EB_EINVAL;
    rc = eb_orgdir_get(src->dir, org, &node);
    if (rc)
        return rc;
    size_t cap = 256, n_ids;
    for (;;) {
        ids = eb_xrealloc(ids, cap * sizeof(*ids));
        n_ids = eb_orgdir_schools(src->dir, node.path, ids, cap);
        if (n_ids <= cap)
            break;
        cap = n_ids;
    }
    xs = eb_xmalloc((n_ids + 1) * sizeof(*xs));
    ws = eb_xmalloc((n_ids + 1) * sizeof(*ws));
    size_t n = 0, considered = 0;
    for (size_t i = 0; i < n_ids; i++) {
        struct eb_orgdir_node s;
        struct eb_ind_value v = {0};
        int64_t cnt;
        if (eb_orgdir_get(src->dir, ids[i], &s) != 0)
            continue;
        if (ind->stage && !(s.stages & ind->stage))
            continue;
        considered++;
        eval_ratio(src->cube, ind->base, ids[i], from, to, &v);
        if (!v.has_value)
            continue;
        xs[n] = v.value;
        ws[n] = term_value(src->cube, &ind->weight, ids[i], from, to, &cnt);
        n++;
    }
    out->n_schools = n;
    out->num = (double)n;
    out->den = (double)considered;
    if (n == 0)
        goto done;
    sorted = eb_xmalloc(n * sizeof(*sorted));
    memcpy(sorted, xs, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_double);
    out->min = sorted[0];
    out->max = sorted[n - 1];
    out->median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    double sw = 0, swx = 0;
    for (size_t i = 0; i < n; i++) {
        sw += ws[i];
        swx += ws[i] * xs[i];
    }
    out->mean = sw > 0 ? swx / sw : 0;
    if (sw > 0 && n >= 2 && out->mean > 0) {
        double ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += ws[i] * (xs[i] - out->mean) * (xs[i] - out->mean);
        out->cv = sqrt(ss / sw) / out->mean;
    }
    /* Ten equal bins between the lowest and the highest school; no school is named, and the
     * order of schools is never a ranking (the 2020 evaluation reform). */
    out->bin_from = out->min;
    out->bin_width = (out->max - out->min) / 10;
    for (size_t i = 0; i < n; i++) {
        size_t b = out->bin_width > 0 ? (size_t)((xs[i] - out->min) / out->bin_width) : 0;
        out->bins[b > 9 ? 9 : b]++;
    }
    switch (ind->kind) {
    case EB_IND_CV:
        out->has_value = sw > 0 && n >= 2 && out->mean > 0;
        out->value = out->cv;
        break;
    case EB_IND_MIN:
        out->has_value = 1;
        out->value = out->min;
        break;
    case EB_IND_MAX:
        out->has_value = 1;
        out->value = out->max;
        break;
    default:
        out->has_value = 1;
        out->value = out->median;
        break;
    }
done:
    eb_free(ids);
    eb_free(xs);
    eb_free(ws);
    eb_free(sorted);
    return rc;
}

int eb_indicator_eval(const struct eb_ind_source *src, const struct eb_indicator *ind,
                      int64_t org_id, eb_day from, eb_day to, struct eb_ind_value *out)
{
    memset(out, 0, sizeof(*out));
    if (to < from)
        return EB_EINVAL;
    if (ind->kind == EB_IND_RATIO) {
        eval_ratio(src->cube, ind, org_id, from, to, out);
        return 0;
    }
    return eval_schools(src, ind, org_id, from, to, out);
}
