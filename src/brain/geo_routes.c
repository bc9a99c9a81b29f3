/* GET /api/v1/geo/districts: the district boundaries of the caller's scope as GeoJSON. */
#include "brain/geo.h"

#include "core/err.h"
#include "core/log.h"
#include "http/http.h"
#include "json/json.h"

static int feature(void *arg, const struct eb_geo_district *d)
{
    struct eb_jw *w = arg;
    eb_jw_obj_begin(w);
    eb_jw_kstr(w, "type", "Feature");
    eb_jw_kint(w, "id", d->org_id);
    eb_jw_key(w, "properties");
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "org_id", d->org_id);
    eb_jw_kstr(w, "name", d->name);
    eb_jw_kstr(w, "division_code", d->division_code);
    eb_jw_kstr(w, "source", d->source);
    eb_jw_kint(w, "n_schools", d->n_schools);
    /* Where the map puts the district's label: the middle of its schools, else its office. */
    eb_jw_key(w, "center");
    if (d->n_schools > 0 || d->has_coords) {
        eb_jw_arr_begin(w);
        eb_jw_real(w, d->n_schools > 0 ? d->school_lon : d->lon);
        eb_jw_real(w, d->n_schools > 0 ? d->school_lat : d->lat);
        eb_jw_arr_end(w);
    } else {
        eb_jw_null(w);
    }
    eb_jw_obj_end(w);
    eb_jw_key(w, "geometry");
    /* The stored text was checked (import) or written by the generator: it goes out as is. */
    if (d->geometry)
        eb_jw_raw(w, d->geometry);
    else
        eb_jw_null(w);
    eb_jw_obj_end(w);
    return 0;
}

int eb_geo_districts_handler(struct eb_req *r)
{
    int64_t n = 0;
    int rc = eb_store_geo_count(r->db, &n);
    if (rc != 0)
        return rc;
    /* A city without any boundary (the demo, or one that has not imported its file yet) gets
     * the generated partition on the first request, written once for every server: the map
     * works from the start and an import replaces it. */
    if (n == 0) {
        struct eb_caller sys = {.system = 1, .no_audit = 1};
        size_t written = 0;
        rc = eb_geo_generate(r->db, &sys, &written);
        if (rc != 0)
            eb_warn("geo: generating district boundaries failed: %s", eb_strerror(rc));
        else
            eb_info("geo: generated the boundaries of %zu districts", written);
    }
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kstr(&w, "type", "FeatureCollection");
    eb_jw_key(&w, "features");
    eb_jw_arr_begin(&w);
    rc = eb_store_geo_districts(r->db, &r->caller, 1, feature, &w);
    if (rc != 0)
        return rc;
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}
