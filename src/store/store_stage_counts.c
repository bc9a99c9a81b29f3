/* Current students and teachers of an org subtree per school stage (学段), for the dashboard. */
#include "store/store_int.h"

#include <string.h>

#include "core/err.h"

static const char *const stage_codes[EB_N_STAGES + 1] = {
    "preschool", "primary", "junior", "senior", "vocational", "special", "lifelong", "unknown"};

const char *eb_stage_code(int index)
{
    return index >= 0 && index <= EB_N_STAGES ? stage_codes[index] : NULL;
}

/*
 * The stage bit of a grade code (src/store/store_schools.c: 01..03 preschool, 11..16 primary,
 * 21..24 junior, 31..33 senior, 41..43 vocational), 0 when unknown. Classes carry their grade's
 * code; a class made without one takes its parent grade's. Written once as SQL so that both
 * statements below map grades alike, and the mapping runs inside the grouping instead of row by
 * row in C.
 */
#define GRADE_BIT                                                                                  \
    "(CASE substr(COALESCE(cl.grade_code, g.grade_code), 1, 1) WHEN '0' THEN 1 WHEN '1' THEN 2"    \
    " WHEN '2' THEN 4 WHEN '3' THEN 8 WHEN '4' THEN 16 ELSE 0 END)"

/*
 * Students: the current enrolments are counted per class straight from the partial index
 * enrolments_current_path (as eb_store_org_stats does), then each class (some 20,000 in a city)
 * is looked up by its path with its grade and school, and the classes are summed per stage.
 * The stage is the grade's when the school teaches that stage, else the school's lowest stage
 * (s & -s), else the grade's (a school without stages), else 0: unknown.
 */
static const char SQL_STUDENTS[] =
    "SELECT stage, SUM(n) FROM (SELECT CASE WHEN (" GRADE_BIT " & s.stages) <> 0 THEN " GRADE_BIT
    " WHEN s.stages <> 0 THEN s.stages & -s.stages ELSE " GRADE_BIT " END AS stage, pc.n AS n"
    " FROM (SELECT class_path, COUNT(*) AS n FROM enrolments WHERE end_date IS NULL"
    " AND class_path >= ? AND class_path < ? GROUP BY class_path) pc"
    " JOIN orgs cl ON cl.path = pc.class_path"
    " LEFT JOIN orgs g ON g.id = cl.parent_id"
    " LEFT JOIN orgs s ON s.id = CASE WHEN g.kind = 3 THEN g.id ELSE g.parent_id END) per_class"
    " GROUP BY stage";

/*
 * Teachers: one row per teacher (GROUP BY person), the lowest stage over their current posts.
 * A post at a school of one stage (or none: 0, unknown) takes it without looking further; only
 * posts at schools of several stages look up the grades of the classes taught under that post
 * (teaching_post index; school_id keeps the lookup inside the post's shard on Citus), keeping
 * those the school teaches, and fall back to the school's lowest stage.
 */
static const char SQL_TEACHERS[] =
    "SELECT stage, COUNT(*) FROM (SELECT p.person_id, MIN(CASE WHEN (o.stages & (o.stages - 1)) = 0"
    " THEN o.stages ELSE COALESCE((SELECT MIN(NULLIF(o.stages & " GRADE_BIT ", 0))"
    " FROM teaching t JOIN orgs cl ON cl.id = t.class_id LEFT JOIN orgs g ON g.id = cl.parent_id"
    " WHERE t.post_id = p.id AND t.school_id = p.school_id AND t.end_date IS NULL),"
    " o.stages & -o.stages) END) AS stage"
    " FROM posts p JOIN orgs o ON o.id = p.school_id"
    " WHERE p.end_date IS NULL AND p.school_path >= ? AND p.school_path < ?"
    " GROUP BY p.person_id) per_teacher GROUP BY stage";

/* The index of a single stage bit, EB_N_STAGES for 0 or anything else. */
static int stage_index(int64_t bit)
{
    for (int i = 0; i < EB_N_STAGES; i++)
        if (bit == ((int64_t)1 << i))
            return i;
    return EB_N_STAGES;
}

static int sum_by_stage(struct eb_db *db, const char *sql, const char *path, const char *hi,
                        int64_t *counts)
{
    struct eb__q q = {0};
    int rc;
    eb__q_start(db, sql, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        int64_t bit = eb__q_col_null(&q, 0) ? 0 : eb__q_col_int(&q, 0);
        counts[stage_index(bit)] += eb__q_col_int(&q, 1);
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_org_stage_counts(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                              struct eb_stage_counts *out)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    int rc;
    memset(out, 0, sizeof(*out));
    rc = eb__org_path(db, org_id, path, NULL);
    if (rc != 0)
        return rc;
    /* Counts of people are a list of people in aggregate: the same rule as the rosters. */
    if (!eb__caller_sees_people(c, path))
        return EB_ENOTFOUND;
    eb__path_hi(path, hi);
    rc = sum_by_stage(db, SQL_STUDENTS, path, hi, out->students);
    if (rc == 0)
        rc = sum_by_stage(db, SQL_TEACHERS, path, hi, out->teachers);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
