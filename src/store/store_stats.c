/* Counts of an org subtree for the portal and the org pages: nodes, students, teachers. */
#include "store/store_int.h"

#include <string.h>

#include "core/err.h"

/*
 * Three range scans over the materialised paths, each on an index whose leading column is
 * the path: the open nodes by kind (orgs.path), the current enrolments grouped by class
 * (enrolments_current_path, already in class order, so the grouping streams) and the current
 * posts (posts_current_path). The node itself is left out of the node counts.
 */
static const char SQL_STATS_ORGS[] =
    "SELECT kind, COUNT(*) FROM orgs WHERE path > ? AND path < ? AND closed_on IS NULL"
    " GROUP BY kind";
static const char SQL_STATS_STUDENTS[] =
    "SELECT COALESCE(SUM(n), 0), COALESCE(SUM(CASE WHEN n > ? THEN 1 ELSE 0 END), 0) FROM"
    " (SELECT COUNT(*) AS n FROM enrolments WHERE end_date IS NULL AND class_path >= ?"
    " AND class_path < ? GROUP BY class_path) per_class";
static const char SQL_STATS_TEACHERS[] =
    "SELECT COUNT(DISTINCT person_id) FROM posts WHERE end_date IS NULL AND school_path >= ?"
    " AND school_path < ?";

int eb_store_org_stats(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                       struct eb_org_stats *out)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    struct eb__q q = {0};
    int rc;
    memset(out, 0, sizeof(*out));
    rc = eb__org_path(db, org_id, path, NULL);
    if (rc != 0)
        return rc;
    /* Counts of people are a list of people in aggregate: the same rule as the rosters. */
    if (!eb__caller_sees_people(c, path))
        return EB_ENOTFOUND;
    eb__path_hi(path, hi);

    eb__q_start(db, SQL_STATS_ORGS, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        int64_t n = eb__q_col_int(&q, 1);
        switch ((enum eb_org_kind)eb__q_col_int(&q, 0)) {
        case EB_ORG_DISTRICT:
            out->districts = n;
            break;
        case EB_ORG_SCHOOL:
            out->schools = n;
            break;
        case EB_ORG_GRADE:
            out->grades = n;
            break;
        case EB_ORG_CLASS:
            out->classes = n;
            break;
        case EB_ORG_CITY:
            break;
        }
    }
    eb__q_end(&q);
    if (rc < 0)
        goto done;

    eb__q_start(db, SQL_STATS_STUDENTS, &q);
    eb__q_int(&q, EB_CLASS_SIZE_MAX);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        out->students = eb__q_col_int(&q, 0);
        out->oversized_classes = eb__q_col_int(&q, 1);
    }
    eb__q_end(&q);
    if (rc < 0)
        goto done;

    eb__q_start(db, SQL_STATS_TEACHERS, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        out->teachers = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    rc = rc < 0 ? rc : 0;
done:
    eb__q_end(&q);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
