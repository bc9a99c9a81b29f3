/* District boundaries: GeoJSON checks, the import of a city's boundary file, and the generated
 * partition of a city that has none (Voronoi cells of its districts' offices). */
#include "brain/geo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

/* ---- checks ------------------------------------------------------------------------------ */

static void say(struct eb_geo_msg *m, const char *en, const char *zh, ...)
    __attribute__((format(printf, 2, 4)));

/* One format pair, the same arguments: the English and the Chinese text name the same place
 * with the same numbers. The zh format is a literal too, checked by the compiler through the
 * English one's argument list (both take the same conversions in the same order). */
static void say(struct eb_geo_msg *m, const char *en, const char *zh, ...)
{
    va_list ap, ap2;
    if (m == NULL)
        return;
    va_start(ap, zh);
    va_copy(ap2, ap);
    vsnprintf(m->en, sizeof(m->en), en, ap);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(m->zh, sizeof(m->zh), zh, ap2);
#pragma GCC diagnostic pop
    va_end(ap2);
    va_end(ap);
}

/* A position: [lon, lat] or [lon, lat, alt], finite numbers in range. */
static int check_position(const json_t *p, double out[2])
{
    if (!json_is_array(p) || json_array_size(p) < 2 || json_array_size(p) > 3)
        return EB_EINVAL;
    for (size_t i = 0; i < json_array_size(p); i++)
        if (!json_is_number(json_array_get(p, i)) ||
            !isfinite(json_number_value(json_array_get(p, i))))
            return EB_EINVAL;
    out[0] = json_number_value(json_array_get(p, 0));
    out[1] = json_number_value(json_array_get(p, 1));
    if (out[0] < -180 || out[0] > 180 || out[1] < -90 || out[1] > 90)
        return EB_EINVAL;
    return 0;
}

static int check_ring(const json_t *ring, size_t poly, size_t k, struct eb_geo_msg *why)
{
    double first[2] = {0, 0}, last[2] = {0, 0};
    if (!json_is_array(ring) || json_array_size(ring) < 4) {
        say(why, "polygon %zu, ring %zu: a linear ring needs at least 4 positions",
            "第 %zu 个多边形第 %zu 个环：线性环至少需要 4 个坐标点", poly, k);
        return EB_EINVAL;
    }
    size_t n = json_array_size(ring);
    for (size_t i = 0; i < n; i++) {
        double p[2];
        if (check_position(json_array_get(ring, i), p)) {
            say(why,
                "polygon %zu, ring %zu, position %zu: must be [longitude -180..180, latitude "
                "-90..90]",
                "第 %zu 个多边形第 %zu 个环第 %zu 个坐标：必须是 [经度 -180..180, 纬度 -90..90]",
                poly, k, i);
            return EB_EINVAL;
        }
        if (i == 0)
            memcpy(first, p, sizeof(first));
        memcpy(last, p, sizeof(last));
    }
    if (first[0] != last[0] || first[1] != last[1]) {
        say(why, "polygon %zu, ring %zu: the last position must equal the first (a closed ring)",
            "第 %zu 个多边形第 %zu 个环：最后一个坐标必须与第一个相同（闭合环）", poly, k);
        return EB_EINVAL;
    }
    return 0;
}

static int check_polygon(const json_t *rings, size_t poly, struct eb_geo_msg *why)
{
    if (!json_is_array(rings) || json_array_size(rings) == 0) {
        say(why, "polygon %zu: coordinates must be a non-empty array of linear rings",
            "第 %zu 个多边形：coordinates 必须是非空的线性环数组", poly);
        return EB_EINVAL;
    }
    for (size_t k = 0; k < json_array_size(rings); k++)
        if (check_ring(json_array_get(rings, k), poly, k, why))
            return EB_EINVAL;
    return 0;
}

int eb_geo_check_geometry(const json_t *g, struct eb_geo_msg *why)
{
    const char *type = json_string_value(json_object_get(g, "type"));
    const json_t *coords = json_object_get(g, "coordinates");
    if (!json_is_object(g) || type == NULL ||
        (strcmp(type, "Polygon") != 0 && strcmp(type, "MultiPolygon") != 0)) {
        say(why, "the geometry must be a Polygon or a MultiPolygon",
            "几何类型必须是 Polygon 或 MultiPolygon");
        return EB_EINVAL;
    }
    if (strcmp(type, "Polygon") == 0)
        return check_polygon(coords, 0, why);
    if (!json_is_array(coords) || json_array_size(coords) == 0) {
        say(why, "a MultiPolygon needs at least one polygon", "MultiPolygon 至少需要一个多边形");
        return EB_EINVAL;
    }
    for (size_t i = 0; i < json_array_size(coords); i++)
        if (check_polygon(json_array_get(coords, i), i, why))
            return EB_EINVAL;
    return 0;
}

/* ---- the districts of the city ----------------------------------------------------------- */

struct district {
    int64_t id;
    char name[208];
    char code[16];
    int has_site;
    double site[2];   /* lon, lat */
    double extent[4]; /* of its schools: min_lon, min_lat, max_lon, max_lat */
    int has_extent;
    int imported; /* holds an imported boundary */
    int matched;  /* index + 1 of the feature that names it in an import */
};

struct districts {
    struct district *v;
    size_t n, cap;
};

static int collect(void *arg, const struct eb_geo_district *d)
{
    struct districts *ds = arg;
    if (ds->n == ds->cap) {
        ds->cap = ds->cap ? ds->cap * 2 : 16;
        ds->v = eb_xrealloc(ds->v, ds->cap * sizeof(*ds->v));
    }
    struct district *x = &ds->v[ds->n++];
    memset(x, 0, sizeof(*x));
    x->id = d->org_id;
    snprintf(x->name, sizeof(x->name), "%s", d->name ? d->name : "");
    snprintf(x->code, sizeof(x->code), "%s", d->division_code ? d->division_code : "");
    /* The site of a district's cell: its own coordinates (its seat) where the registry has them,
     * else the mean of its schools'. Schools spread around a seat stay in its cell; a mean
     * drawn toward one side moves the border across the other side's schools. */
    if (d->has_coords) {
        x->has_site = 1;
        x->site[0] = d->lon;
        x->site[1] = d->lat;
    } else if (d->n_schools > 0) {
        x->has_site = 1;
        x->site[0] = d->school_lon;
        x->site[1] = d->school_lat;
    }
    if (d->n_schools > 0) {
        x->has_extent = 1;
        x->extent[0] = d->min_lon;
        x->extent[1] = d->min_lat;
        x->extent[2] = d->max_lon;
        x->extent[3] = d->max_lat;
    }
    x->imported = d->source != NULL && strcmp(d->source, "imported") == 0;
    return 0;
}

/* ---- the generated partition -------------------------------------------------------------- */

/* Keeps the part of the convex polygon in (n points) where (p - mid) . dir <= 0; out has room
 * for n + 1 points. Returns the number of points kept (Sutherland-Hodgman, one edge). */
static size_t clip_half(const double (*in)[2], size_t n, const double mid[2], const double dir[2],
                        double (*out)[2])
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const double *a = in[i], *b = in[(i + 1) % n];
        double fa = (a[0] - mid[0]) * dir[0] + (a[1] - mid[1]) * dir[1];
        double fb = (b[0] - mid[0]) * dir[0] + (b[1] - mid[1]) * dir[1];
        if (fa <= 0) {
            out[m][0] = a[0];
            out[m][1] = a[1];
            m++;
        }
        if ((fa < 0 && fb > 0) || (fa > 0 && fb < 0)) {
            double t = fa / (fa - fb);
            out[m][0] = a[0] + (b[0] - a[0]) * t;
            out[m][1] = a[1] + (b[1] - a[1]) * t;
            m++;
        }
    }
    return m;
}

void eb_geo_voronoi(const double (*sites)[2], size_t n, const double box[4], double (*cells)[2],
                    size_t *n_pts)
{
    size_t cap = EB_GEO_CELL_CAP(n);
    double k = cos((box[1] + box[3]) / 2 * M_PI / 180);
    double(*a)[2] = eb_xmalloc(cap * sizeof(*a));
    double(*b)[2] = eb_xmalloc(cap * sizeof(*b));
    double x0 = box[0] * k, y0 = box[1], x1 = box[2] * k, y1 = box[3];
    double w = x1 - x0, h = y1 - y0;
    double cut = 0.15 * (w < h ? w : h);
    for (size_t i = 0; i < n; i++) {
        /* The octagon, counter-clockwise from the bottom edge: a city's outline rather than a
         * rectangle, and convex, so that every clipped cell stays convex. */
        const double oct[8][2] = {{x0 + cut, y0}, {x1 - cut, y0}, {x1, y0 + cut}, {x1, y1 - cut},
                                  {x1 - cut, y1}, {x0 + cut, y1}, {x0, y1 - cut}, {x0, y0 + cut}};
        memcpy(a, oct, sizeof(oct));
        size_t m = 8;
        double si[2] = {sites[i][0] * k, sites[i][1]};
        for (size_t j = 0; j < n && m > 0; j++) {
            double sj[2] = {sites[j][0] * k, sites[j][1]};
            double dir[2] = {sj[0] - si[0], sj[1] - si[1]};
            if (j == i)
                continue;
            if (dir[0] == 0 && dir[1] == 0) {
                if (j < i)
                    m = 0; /* the same place as an earlier site: that one has the cell */
                continue;
            }
            double mid[2] = {(si[0] + sj[0]) / 2, (si[1] + sj[1]) / 2};
            m = clip_half((const double(*)[2])a, m, mid, dir, b);
            double(*t)[2] = a;
            a = b;
            b = t;
        }
        double(*cell)[2] = cells + i * cap;
        if (m < 3) {
            n_pts[i] = 0;
            continue;
        }
        for (size_t p = 0; p < m; p++) {
            cell[p][0] = a[p][0] / k;
            cell[p][1] = a[p][1];
        }
        cell[m][0] = cell[0][0];
        cell[m][1] = cell[0][1];
        n_pts[i] = m + 1;
    }
    eb_free(a);
    eb_free(b);
}

int eb_geo_generate(struct eb_db *db, const struct eb_caller *c, size_t *n_written)
{
    struct districts ds = {0};
    double(*sites)[2] = NULL, (*cells)[2] = NULL;
    size_t *n_pts = NULL, *of = NULL, n = 0, written = 0;
    struct eb_buf g;
    int rc, in_tx = 0;
    eb_buf_init(&g, 0);
    if (n_written)
        *n_written = 0;
    rc = eb_store_geo_districts(db, c, 0, collect, &ds);
    if (rc != 0)
        goto done;
    double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    sites = eb_xcalloc(ds.n + 1, sizeof(*sites));
    of = eb_xcalloc(ds.n + 1, sizeof(*of));
    for (size_t i = 0; i < ds.n; i++) {
        const struct district *d = &ds.v[i];
        if (!d->has_site)
            continue;
        sites[n][0] = d->site[0];
        sites[n][1] = d->site[1];
        of[n++] = i;
        double e[4] = {d->site[0], d->site[1], d->site[0], d->site[1]};
        if (d->has_extent)
            memcpy(e, d->extent, sizeof(e));
        box[0] = fmin(box[0], e[0]);
        box[1] = fmin(box[1], e[1]);
        box[2] = fmax(box[2], e[2]);
        box[3] = fmax(box[3], e[3]);
    }
    if (n == 0)
        goto done;
    /* A margin around the schools: 15 % of the larger span, at least about 3 km, so that the
     * octagon's cut corners leave every school inside. */
    double span = fmax(box[2] - box[0], box[3] - box[1]);
    double margin = fmax(0.03, 0.15 * span);
    box[0] -= margin;
    box[1] -= margin;
    box[2] += margin;
    box[3] += margin;
    size_t cap = EB_GEO_CELL_CAP(n);
    cells = eb_xcalloc(n * cap, sizeof(*cells));
    n_pts = eb_xcalloc(n, sizeof(*n_pts));
    eb_geo_voronoi((const double(*)[2])sites, n, box, cells, n_pts);
    rc = eb_db_begin(db);
    if (rc != 0)
        goto done;
    in_tx = 1;
    for (size_t i = 0; i < n; i++) {
        const struct district *d = &ds.v[of[i]];
        if (d->imported || n_pts[i] == 0)
            continue;
        eb_buf_reset(&g);
        eb_buf_puts(&g, "{\"type\":\"Polygon\",\"coordinates\":[[");
        for (size_t p = 0; p < n_pts[i]; p++)
            eb_buf_printf(&g, "%s[%.6f,%.6f]", p ? "," : "", cells[i * cap + p][0],
                          cells[i * cap + p][1]);
        if (eb_buf_puts(&g, "]]}") != 0) {
            rc = EB_ETOOBIG;
            goto done;
        }
        rc = eb_store_geo_set(db, c, d->id, g.data, "generated");
        if (rc != 0)
            goto done;
        written++;
    }
    rc = eb_db_commit(db);
    in_tx = 0;
    if (rc == 0 && n_written)
        *n_written = written;
done:
    if (in_tx)
        eb_db_rollback(db);
    eb_buf_free(&g);
    eb_free(ds.v);
    eb_free(sites);
    eb_free(of);
    eb_free(cells);
    eb_free(n_pts);
    return rc;
}

/* ---- import ------------------------------------------------------------------------------ */

/* Bureau suffixes of district org names: a boundary file names the district itself. */
static const char *const BUREAU_SUFFIXES[] = {"教育和体育局", "教育体育局", "教育局", "教体局",
                                              "教育委员会"};

static int name_matches(const char *org_name, const char *feature_name)
{
    size_t lo = strlen(org_name), lf = strlen(feature_name);
    if (lf == 0)
        return 0;
    if (strcmp(org_name, feature_name) == 0)
        return 1;
    if (lo <= lf || strncmp(org_name, feature_name, lf) != 0)
        return 0;
    for (size_t i = 0; i < sizeof(BUREAU_SUFFIXES) / sizeof(BUREAU_SUFFIXES[0]); i++)
        if (strcmp(org_name + lf, BUREAU_SUFFIXES[i]) == 0)
            return 1;
    return 0;
}

/* properties.adcode as text: DataV files give a number, others a string. */
static void adcode_of(const json_t *props, char out[24])
{
    const json_t *v = json_object_get(props, "adcode");
    out[0] = '\0';
    if (json_is_integer(v))
        snprintf(out, 24, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        snprintf(out, 24, "%s", json_string_value(v));
}

static void line(struct eb_buf *report, int en, const struct eb_geo_msg *m)
{
    if (report == NULL)
        return;
    eb_buf_puts(report, en ? m->en : m->zh);
    eb_buf_puts(report, "\n");
}

int eb_geo_import(struct eb_db *db, const struct eb_caller *c, const json_t *doc, int en,
                  struct eb_buf *report, struct eb_geo_import_counts *out)
{
    struct districts ds = {0};
    struct eb_geo_msg m;
    int rc = 0, in_tx = 0, bad = 0;
    memset(out, 0, sizeof(*out));
    const json_t *features = json_object_get(doc, "features");
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (!json_is_object(doc) || type == NULL || strcmp(type, "FeatureCollection") != 0 ||
        !json_is_array(features)) {
        say(&m, "the file must be a GeoJSON FeatureCollection with a features array",
            "文件必须是带 features 数组的 GeoJSON FeatureCollection");
        line(report, en, &m);
        return EB_EINVAL;
    }
    out->n_features = json_array_size(features);
    rc = eb_store_geo_districts(db, c, 0, collect, &ds);
    if (rc != 0)
        goto done;
    /* Every feature is checked before anything is written, and every finding is reported, so
     * that one run shows all that a city's file needs fixed. */
    for (size_t i = 0; i < out->n_features; i++) {
        const json_t *f = json_array_get(features, i);
        const json_t *props = json_object_get(f, "properties");
        const char *fname = json_string_value(json_object_get(props, "name"));
        char code[24];
        const char *ft = json_string_value(json_object_get(f, "type"));
        struct eb_geo_msg why;
        if (!json_is_object(f) || ft == NULL || strcmp(ft, "Feature") != 0) {
            say(&m, "feature %zu: not a GeoJSON Feature", "要素 %zu：不是 GeoJSON Feature", i);
            line(report, en, &m);
            bad = 1;
            continue;
        }
        if (eb_geo_check_geometry(json_object_get(f, "geometry"), &why)) {
            say(&m, "feature %zu (%s): %s", "要素 %zu（%s）：%s", i, fname ? fname : "-",
                en ? why.en : why.zh);
            line(report, en, &m);
            bad = 1;
            continue;
        }
        adcode_of(props, code);
        size_t hit = ds.n;
        for (size_t k = 0; k < ds.n && code[0]; k++)
            if (strcmp(ds.v[k].code, code) == 0)
                hit = k;
        for (size_t k = 0; k < ds.n && hit == ds.n && fname; k++)
            if (name_matches(ds.v[k].name, fname))
                hit = k;
        if (hit == ds.n) {
            say(&m, "feature %zu (%s, adcode %s): no district of the city matches; skipped",
                "要素 %zu（%s，adcode %s）：没有对应的区县，已跳过", i, fname ? fname : "-",
                code[0] ? code : "-");
            line(report, en, &m);
            out->n_skipped++;
            continue;
        }
        if (ds.v[hit].matched) {
            say(&m, "feature %zu (%s): %s already has feature %zu",
                "要素 %zu（%s）：%s 已对应要素 %zu", i, fname ? fname : "-", ds.v[hit].name,
                (size_t)ds.v[hit].matched - 1);
            line(report, en, &m);
            bad = 1;
            continue;
        }
        ds.v[hit].matched = (int)i + 1;
    }
    size_t n_matched = 0;
    for (size_t k = 0; k < ds.n; k++)
        n_matched += ds.v[k].matched != 0;
    if (!bad && n_matched == 0) {
        say(&m, "no feature matches a district of the city (by adcode or name)",
            "没有任何要素对应本市的区县（按 adcode 或名称）");
        line(report, en, &m);
        bad = 1;
    }
    if (bad) {
        rc = EB_EINVAL;
        goto done;
    }
    rc = eb_db_begin(db);
    if (rc != 0)
        goto done;
    in_tx = 1;
    for (size_t k = 0; k < ds.n; k++) {
        const struct district *d = &ds.v[k];
        if (!d->matched) {
            say(&m, "%s: not in the file; keeps its boundary", "%s：文件中没有其边界，保留原有边界",
                d->name);
            line(report, en, &m);
            out->n_missing++;
            continue;
        }
        const json_t *g =
            json_object_get(json_array_get(features, (size_t)d->matched - 1), "geometry");
        /* Ten significant digits keep a longitude to about a centimetre (jansson's default of
         * 17 would print 118.1 as 118.09999999999999). */
        size_t len = json_dumpb(g, NULL, 0, JSON_COMPACT | JSON_REAL_PRECISION(10));
        char *text = eb_xmalloc(len + 1);
        json_dumpb(g, text, len, JSON_COMPACT | JSON_REAL_PRECISION(10));
        text[len] = '\0';
        rc = eb_store_geo_set(db, c, d->id, text, "imported");
        eb_free(text);
        if (rc != 0)
            goto done;
        say(&m, "%s <- feature %zu", "%s ← 要素 %zu", d->name, (size_t)d->matched - 1);
        line(report, en, &m);
        out->n_imported++;
    }
    rc = eb_db_commit(db);
    in_tx = 0;
done:
    if (in_tx)
        eb_db_rollback(db);
    eb_free(ds.v);
    return rc;
}
