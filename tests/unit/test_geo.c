/* Unit tests of the map's geography (src/brain/geo.c): GeoJSON geometry checks at their
 * boundaries, and the generated partition checked against a naive nearest-site search. */
#include "unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "brain/geo.h"
#include "core/err.h"
#include "core/mem.h"

static int check(const char *text, struct eb_geo_msg *why)
{
    json_error_t e;
    json_t *g = json_loads(text, 0, &e);
    assert_non_null(g);
    memset(why, 0, sizeof(*why));
    int rc = eb_geo_check_geometry(g, why);
    json_decref(g);
    return rc;
}

static void geometry_checks(void **state)
{
    (void)state;
    struct eb_geo_msg why;
    assert_int_equal(
        check("{\"type\":\"Polygon\",\"coordinates\":[[[118,36],[119,36],[119,37],[118,36]]]}",
              &why),
        0);
    /* An altitude may follow; the extremes of the ranges are valid. */
    assert_int_equal(
        check("{\"type\":\"Polygon\",\"coordinates\":[[[-180,-90,5],[180,-90,5],[180,90,5],"
              "[-180,-90,5]]]}",
              &why),
        0);
    assert_int_equal(
        check("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[118,36],[119,36],[119,37],"
              "[118,36]]],[[[120,36],[121,36],[121,37],[120,36]],[[120.2,36.2],"
              "[120.5,36.2],[120.5,36.5],[120.2,36.2]]]]}",
              &why),
        0);

    assert_int_equal(check("{\"type\":\"Point\",\"coordinates\":[118,36]}", &why), EB_EINVAL);
    assert_string_equal(why.en, "the geometry must be a Polygon or a MultiPolygon");
    assert_string_equal(why.zh, "几何类型必须是 Polygon 或 MultiPolygon");
    /* Three positions: not a ring yet. */
    assert_int_equal(
        check("{\"type\":\"Polygon\",\"coordinates\":[[[118,36],[119,36],[118,36]]]}", &why),
        EB_EINVAL);
    assert_string_equal(why.en, "polygon 0, ring 0: a linear ring needs at least 4 positions");
    /* Latitude just outside, longitude just outside, a string, a fourth ordinate. */
    assert_int_equal(
        check("{\"type\":\"Polygon\",\"coordinates\":[[[118,36],[119,90.0001],[119,37],"
              "[118,36]]]}",
              &why),
        EB_EINVAL);
    assert_string_equal(
        why.en, "polygon 0, ring 0, position 1: must be [longitude -180..180, latitude -90..90]");
    assert_int_equal(check("{\"type\":\"Polygon\",\"coordinates\":[[[118,36],[119,36],[180.5,37],"
                           "[118,36]]]}",
                           &why),
                     EB_EINVAL);
    assert_string_equal(
        why.en, "polygon 0, ring 0, position 2: must be [longitude -180..180, latitude -90..90]");
    assert_int_equal(check("{\"type\":\"Polygon\",\"coordinates\":[[[118,36],[\"119\",36],[119,37],"
                           "[118,36]]]}",
                           &why),
                     EB_EINVAL);
    assert_int_equal(check("{\"type\":\"Polygon\",\"coordinates\":[[[118,36,0,0],[119,36],[119,37],"
                           "[118,36]]]}",
                           &why),
                     EB_EINVAL);
    /* Not closed: the last position differs from the first. */
    assert_int_equal(check("{\"type\":\"Polygon\",\"coordinates\":[[[118,36],[119,36],[119,37],"
                           "[118,36.5]]]}",
                           &why),
                     EB_EINVAL);
    assert_string_equal(why.zh, "第 0 个多边形第 0 个环：最后一个坐标必须与第一个相同（闭合环）");
    /* The second polygon of a MultiPolygon is named. */
    assert_int_equal(
        check("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[118,36],[119,36],[119,37],"
              "[118,36]]],[]]}",
              &why),
        EB_EINVAL);
    assert_string_equal(why.en, "polygon 1: coordinates must be a non-empty array of linear rings");
    assert_int_equal(check("{\"type\":\"MultiPolygon\",\"coordinates\":[]}", &why), EB_EINVAL);
    assert_int_equal(check("{\"type\":\"Polygon\"}", &why), EB_EINVAL);
}

/* Ray casting over a closed ring. */
static int in_ring(const double (*ring)[2], size_t n, double x, double y)
{
    int hit = 0;
    for (size_t i = 0, j = n - 1; i < n; j = i++)
        if ((ring[i][1] > y) != (ring[j][1] > y) &&
            x < (ring[j][0] - ring[i][0]) * (y - ring[i][1]) / (ring[j][1] - ring[i][1]) +
                    ring[i][0])
            hit = !hit;
    return hit;
}

static double ring_area(const double (*ring)[2], size_t n, double k)
{
    double a = 0;
    for (size_t i = 0; i + 1 < n; i++)
        a += ring[i][0] * k * ring[i + 1][1] - ring[i + 1][0] * k * ring[i][1];
    return a / 2;
}

static void voronoi_is_nearest_site(void **state)
{
    (void)state;
    enum { N = 9, SAMPLES = 4000 };
    /* The demo city's nine district centres. */
    static const double sites[N][2] = {{118.931, 36.462}, {118.992, 36.431}, {119.018, 36.503},
                                       {118.702, 36.205}, {118.748, 36.701}, {119.301, 36.302},
                                       {119.047, 36.052}, {119.254, 36.753}, {118.403, 36.148}};
    const double box[4] = {118.2, 35.9, 119.5, 36.9};
    size_t cap = EB_GEO_CELL_CAP(N), n_pts[N];
    double(*cells)[2] = eb_xcalloc(N * cap, sizeof(*cells));
    eb_geo_voronoi(sites, N, box, cells, n_pts);
    double k = cos((box[1] + box[3]) / 2 * M_PI / 180), total = 0;
    for (size_t i = 0; i < N; i++) {
        assert_true(n_pts[i] >= 4 && n_pts[i] <= cap);
        const double(*c)[2] = cells + i * cap;
        assert_true(c[0][0] == c[n_pts[i] - 1][0] && c[0][1] == c[n_pts[i] - 1][1]);
        double a = ring_area(c, n_pts[i], k);
        assert_true(a > 0); /* counter-clockwise */
        total += a;
        assert_true(in_ring(c, n_pts[i], sites[i][0], sites[i][1]));
    }
    /* The cells tile the octagon: their areas add up to its area (the box less four corners). */
    double w = (box[2] - box[0]) * k, h = box[3] - box[1], cut = 0.15 * (w < h ? w : h);
    assert_true(fabs(total - (w * h - 2 * cut * cut)) < 1e-9);
    /* Every sample point inside the octagon lies in the cell of its nearest site, and only in
     * that one (the naive recomputation: a scan over every site). */
    srand(7);
    size_t checked = 0;
    for (int s = 0; s < SAMPLES; s++) {
        double x = box[0] + (box[2] - box[0]) * rand() / (double)RAND_MAX;
        double y = box[1] + (box[3] - box[1]) * rand() / (double)RAND_MAX;
        size_t best = 0;
        double bd = INFINITY, second = INFINITY;
        for (size_t i = 0; i < N; i++) {
            double dx = (x - sites[i][0]) * k, dy = y - sites[i][1], d = sqrt(dx * dx + dy * dy);
            if (d < bd) {
                second = bd;
                bd = d;
                best = i;
            } else if (d < second) {
                second = d;
            }
        }
        if (second - bd < 1e-9)
            continue; /* on a bisector */
        int holders = 0;
        for (size_t i = 0; i < N; i++)
            if (in_ring(cells + i * cap, n_pts[i], x, y)) {
                holders++;
                assert_int_equal(i, best);
            }
        assert_true(holders <= 1);
        checked += holders;
    }
    assert_true(checked > SAMPLES / 2);
    eb_free(cells);
}

static void voronoi_edge_cases(void **state)
{
    (void)state;
    const double box[4] = {118, 36, 119, 37};
    size_t n_pts[3];
    double(*cells)[2] = eb_xcalloc(3 * EB_GEO_CELL_CAP(3), sizeof(*cells));
    /* One site: the whole octagon (8 corners and the closing point). */
    const double one[1][2] = {{118.5, 36.5}};
    eb_geo_voronoi(one, 1, box, cells, n_pts);
    assert_int_equal(n_pts[0], 9);
    /* Two sites at one place: the first has the cell, the second none. */
    const double same[3][2] = {{118.3, 36.3}, {118.3, 36.3}, {118.8, 36.8}};
    eb_geo_voronoi(same, 3, box, cells, n_pts);
    assert_true(n_pts[0] >= 4);
    assert_int_equal(n_pts[1], 0);
    assert_true(n_pts[2] >= 4);
    eb_free(cells);
}

EB_TEST_GROUP(geo)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(geometry_checks),
        cmocka_unit_test(voronoi_is_nearest_site),
        cmocka_unit_test(voronoi_edge_cases),
    };
    return cmocka_run_group_tests_name("geo", tests, NULL, NULL);
}
