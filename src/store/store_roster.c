/* Lookups of the roster import: a class by its name in a school, and whether a citizen ID or a
 * student number is already registered. */
#include "store/store_int.h"

#include <string.h>

#include "core/err.h"

static const char SQL_CLASS_BY_NAME[] =
    "SELECT id FROM orgs WHERE path > ? AND path < ? AND kind = 5 AND name = ?"
    " AND closed_on IS NULL ORDER BY school_year DESC, id LIMIT 1";
static const char SQL_PEOPLE_BY_CID[] =
    "SELECT org_path FROM people WHERE citizen_id_idx = ? ORDER BY id LIMIT 4";
static const char SQL_PEOPLE_BY_SNO[] =
    "SELECT org_path FROM people WHERE student_no_idx = ? ORDER BY id LIMIT 4";

int eb_store_class_by_name(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                           const char *name, int64_t *class_id)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    struct eb__q q;
    *class_id = 0;
    int rc = eb__org_path(db, school_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_READ))
        return EB_ENOTFOUND;
    if (kind != EB_ORG_SCHOOL || name == NULL)
        return EB_EINVAL;
    eb__path_hi(path, hi);
    eb__q_start(db, SQL_CLASS_BY_NAME, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    eb__q_text(&q, name);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        *class_id = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    return rc == EB__STORE_ROW ? 0 : rc < 0 ? rc : EB_ENOTFOUND;
}

/* Where the people holding a blind index are registered: inside path, elsewhere, or nowhere. */
static int where(struct eb_db *db, const char *sql, const char *plain, const char *path,
                 enum eb_registered *out)
{
    char idx[65];
    struct eb__q q;
    int rc;
    eb__pii_blind_index(db->store, plain, idx);
    eb__q_start(db, sql, &q);
    eb__q_text(&q, idx);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        size_t len = 0;
        const char *p = db->be->col_text(q.stmt, 0, &len);
        char org[EB_PATH_MAX];
        if (p == NULL || len >= EB_PATH_MAX)
            continue;
        memcpy(org, p, len);
        org[len] = '\0';
        if (eb__path_within(org, path)) {
            *out = EB_REGISTERED_HERE;
            break;
        }
        *out = EB_REGISTERED_ELSEWHERE;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_registered(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                        const char *citizen_id, const char *student_no, enum eb_registered *out)
{
    char path[EB_PATH_MAX];
    *out = EB_REGISTERED_NO;
    int rc = eb__org_path(db, org_id, path, NULL);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    if (citizen_id && citizen_id[0])
        rc = where(db, SQL_PEOPLE_BY_CID, citizen_id, path, out);
    if (rc == 0 && *out != EB_REGISTERED_HERE && student_no && student_no[0])
        rc = where(db, SQL_PEOPLE_BY_SNO, student_no, path, out);
    return rc;
}
