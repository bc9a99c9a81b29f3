/* The education map's geography: district boundaries checked, imported from GeoJSON, generated
 * for a city that has none, and served as a FeatureCollection (docs/internals/brain.md). */
#ifndef EB_BRAIN_GEO_H
#define EB_BRAIN_GEO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "store/store.h"

struct eb_req;

/** A finding about a GeoJSON document, in both languages. */
struct eb_geo_msg {
    char en[256], zh[256];
};

/**
 * Checks a GeoJSON geometry object (RFC 7946 3.1.6, 3.1.7): a Polygon or MultiPolygon whose
 * linear rings have at least 4 positions and end where they start, each position [lon, lat]
 * (an altitude may follow) of numbers with longitude in -180..180 and latitude in -90..90.
 * 0, or EB_EINVAL with why.
 */
int eb_geo_check_geometry(const json_t *g, struct eb_geo_msg *why);

/** What an import did. */
struct eb_geo_import_counts {
    size_t n_features; /* in the file */
    size_t n_imported; /* features written as a district's boundary */
    size_t n_skipped;  /* features that match no district of the city (e.g. a neighbour) */
    size_t n_missing;  /* open districts the file has no feature for (they keep theirs) */
};

/**
 * Imports a FeatureCollection of district boundaries (e.g. a DataV district file): every
 * feature's geometry is checked first, and any invalid one refuses the whole file. A feature
 * belongs to the open district whose division_code equals properties.adcode (a number or a
 * string) or, failing that, whose name is properties.name (with or without a bureau suffix such
 * as 教育局). Two features for one district, or none matched at all, refuse the file too.
 * Otherwise the matched boundaries replace the stored ones in one transaction. The report
 * gets one line per finding in English (en) or Chinese. 0, EB_EINVAL (refused: nothing
 * written), or a store error.
 */
int eb_geo_import(struct eb_db *db, const struct eb_caller *c, const json_t *doc, int en,
                  struct eb_buf *report, struct eb_geo_import_counts *out);

/** Room for one cell of eb_geo_voronoi with n sites: the octagon's 8 corners, one more corner
 * per other site's bisector, and the closing point. */
#define EB_GEO_CELL_CAP(n) ((n) + 10)

/**
 * The Voronoi cells of n sites (sites[i] = {lon, lat}) clipped to the octagon inscribed in box
 * {min_lon, min_lat, max_lon, max_lat}, measured in an equirectangular projection around the
 * box's middle latitude (so that a bisector is one on the ground). Cell i is written to
 * cells + i * EB_GEO_CELL_CAP(n) as a closed counter-clockwise ring; n_pts[i] is its length, 0
 * when the site's cell is empty (a site outside the box). Sites at the same place share one
 * cell: the first of them gets it, the others are empty.
 */
void eb_geo_voronoi(const double (*sites)[2], size_t n, const double box[4], double (*cells)[2],
                    size_t *n_pts);

/**
 * Writes a generated boundary for every open district that has no imported one: the Voronoi
 * cell of the district's own coordinates (or of the mean position of its schools) inside the
 * octagon around all the schools, with a margin. Districts without any position get none.
 * *n_written (may be NULL) counts them.
 */
int eb_geo_generate(struct eb_db *db, const struct eb_caller *c, size_t *n_written);

/** GET /api/v1/geo/districts: the FeatureCollection of the caller's districts
 * (properties.org_id, name, division_code, source, n_schools, center); generates the boundaries
 * first when the database has none. */
int eb_geo_districts_handler(struct eb_req *r);

#endif
