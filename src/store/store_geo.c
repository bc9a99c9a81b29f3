/* District boundaries of the education map: the districts with their schools' extent, and the
 * GeoJSON geometry stored for each (table district_boundaries, migration 0016_geo). */
#include "store/store_int.h"

#include <string.h>

#include <jansson.h>

#include "core/err.h"

/* The schools of a district are found by path prefix (substr is the portable spelling of a
 * prefix test on both backends); a city has a few dozen districts and at most a few thousand
 * schools, so one grouped pass is cheap. */
#define GEO_COLS                                                                                   \
    "SELECT d.id, d.name, d.path, d.division_code, d.lat, d.lon, COUNT(s.id), AVG(s.lat),"         \
    " AVG(s.lon), MIN(s.lat), MAX(s.lat), MIN(s.lon), MAX(s.lon), b.source"
#define GEO_FROM                                                                                   \
    " FROM orgs d LEFT JOIN orgs s ON s.kind = 3 AND s.closed_on IS NULL AND s.lat IS NOT NULL"    \
    " AND s.lon IS NOT NULL AND substr(s.path, 1, length(d.path)) = d.path"                        \
    " LEFT JOIN district_boundaries b ON b.org_id = d.id"                                          \
    " WHERE d.kind = 2 AND d.closed_on IS NULL"
static const char SQL_GEO_LIST[] =
    GEO_COLS GEO_FROM " GROUP BY d.id, d.name, d.path, d.division_code, d.lat, d.lon,"
                      " b.source ORDER BY d.id";
/* The geometry is read by a second statement per district rather than grouped: a GROUP BY
 * over a multi-megabyte text column would make both backends sort or hash it. */
static const char SQL_GEO_SHAPE[] = "SELECT geometry FROM district_boundaries WHERE org_id = ?";
static const char SQL_GEO_DISTRICT[] =
    "SELECT path FROM orgs WHERE id = ? AND kind = 2 AND closed_on IS NULL";
static const char SQL_GEO_UPSERT[] =
    "INSERT INTO district_boundaries (org_id, geometry, source, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (org_id) DO UPDATE SET geometry = excluded.geometry,"
    " source = excluded.source, updated_at = excluded.updated_at";
static const char SQL_GEO_COUNT[] = "SELECT COUNT(*) FROM district_boundaries";

int eb_store_geo_districts(struct eb_db *db, const struct eb_caller *c, int with_geometry,
                           eb_geo_district_fn fn, void *arg)
{
    struct eb_arena *a = eb_arena_create(0);
    /* The rows are copied out before any callback runs: reading each geometry uses the
     * connection, which the pending list statement would hold. */
    struct eb_geo_district *rows = NULL;
    size_t n = 0, cap = 0;
    struct eb__q q;
    int rc;
    if (c == NULL || fn == NULL) {
        rc = EB_EINVAL;
        goto done;
    }
    eb__q_start(db, SQL_GEO_LIST, &q);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char *path = eb__q_col_str(&q, 2, a);
        if (!eb_caller_allows(c, path, EB_ACCESS_READ))
            continue;
        rows = eb_arena_grow(a, rows, n, &cap, sizeof(*rows));
        if (rows == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_geo_district *d = &rows[n++];
        memset(d, 0, sizeof(*d));
        d->org_id = eb__q_col_int(&q, 0);
        d->name = eb__q_col_str(&q, 1, a);
        d->path = path;
        d->division_code = eb__q_col_str(&q, 3, a);
        d->has_coords = !eb__q_col_null(&q, 4) && !eb__q_col_null(&q, 5);
        if (d->has_coords) {
            d->lat = eb__q_col_double(&q, 4);
            d->lon = eb__q_col_double(&q, 5);
        }
        d->n_schools = eb__q_col_int(&q, 6);
        if (d->n_schools > 0) {
            d->school_lat = eb__q_col_double(&q, 7);
            d->school_lon = eb__q_col_double(&q, 8);
            d->min_lat = eb__q_col_double(&q, 9);
            d->max_lat = eb__q_col_double(&q, 10);
            d->min_lon = eb__q_col_double(&q, 11);
            d->max_lon = eb__q_col_double(&q, 12);
        }
        d->source = eb__q_col_str(&q, 13, a);
    }
    eb__q_end(&q);
    if (rc != EB__STORE_DONE)
        goto done;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct eb_geo_district *d = &rows[i];
        if (!with_geometry || d->source == NULL) {
            rc = fn(arg, d);
            continue;
        }
        eb__q_start(db, SQL_GEO_SHAPE, &q);
        eb__q_int(&q, d->org_id);
        rc = eb__q_step(&q);
        if (rc == EB__STORE_ROW) {
            /* The column text stays valid until the statement is reset: no copy. */
            d->geometry = db->be->col_text(q.stmt, 0, NULL);
            rc = fn(arg, d);
            d->geometry = NULL;
        } else if (rc == EB__STORE_DONE) {
            rc = fn(arg, d);
        }
        eb__q_end(&q);
    }
done:
    eb_arena_destroy(a);
    return rc;
}

int eb_store_geo_set(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                     const char *geometry, const char *source)
{
    char path[EB_PATH_MAX];
    struct eb__q q;
    int own = 0, rc;
    if (c == NULL || geometry == NULL || source == NULL ||
        (strcmp(source, "generated") != 0 && strcmp(source, "imported") != 0))
        return EB_EINVAL;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_GEO_DISTRICT, &q);
    eb__q_int(&q, org_id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        size_t len = 0;
        const char *p = db->be->col_text(q.stmt, 0, &len);
        if (p == NULL || len >= sizeof(path)) {
            rc = EB_ESTORE;
        } else {
            memcpy(path, p, len);
            path[len] = '\0';
            rc = 0;
        }
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc != 0)
        goto done;
    if (!eb_caller_allows(c, path, EB_ACCESS_WRITE)) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    eb__q_start(db, SQL_GEO_UPSERT, &q);
    eb__q_int(&q, org_id);
    eb__q_text(&q, geometry);
    eb__q_text(&q, source);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc != 0)
        goto done;
    /* The audit row names the change, not the shape: a district's outline can be megabytes. */
    rc = eb__audit_write(
        db, c, "geo.boundary", "org", org_id, path, NULL,
        json_pack("{s:s, s:I}", "source", source, "bytes", (json_int_t)strlen(geometry)));
done:
    return eb__tx_leave(db, own, rc);
}

int eb_store_geo_count(struct eb_db *db, int64_t *n)
{
    struct eb__q q;
    *n = 0;
    eb__q_start(db, SQL_GEO_COUNT, &q);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *n = eb__q_col_int(&q, 0);
        rc = 0;
    }
    eb__q_end(&q);
    return rc;
}
