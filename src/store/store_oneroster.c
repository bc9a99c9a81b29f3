/* OneRoster in the store: the sourcedId map, the import transaction and jobs, export reads. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/err.h"
#include "core/mem.h"

/* Rows per page of the reads below: keyset pages, so that PostgreSQL (which materialises a
 * result) never holds a whole city, and SQLite never re-scans what it already handed over. */
#define PAGE        5000
#define BATCH       2000
#define SID_MAX_LEN 255

static const char SQL_IDS_PAGE[] =
    "SELECT m.sourced_id, m.local_id, m.org_path, m.username, o.kind FROM oneroster_ids m"
    " LEFT JOIN orgs o ON m.kind = 1 AND o.id = m.local_id"
    " WHERE m.kind = ? AND m.sourced_id > ? ORDER BY m.sourced_id LIMIT ?";
static const char SQL_ID_DROP[] = "DELETE FROM oneroster_ids WHERE kind = ? AND sourced_id = ?";
static const char SQL_ID_INSERT[] =
    "INSERT INTO oneroster_ids (kind, sourced_id, school_id, local_id, org_path, username)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_SID_OF[] =
    "SELECT MIN(sourced_id) FROM oneroster_ids WHERE kind = ? AND local_id = ?";
static const char SQL_CITY[] = "SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1";
static const char SQL_SCHOOL_BY_CODE[] =
    "SELECT id, path FROM orgs WHERE school_code = ? AND kind = 3";
static const char SQL_PERSON_BY_SNO[] = "SELECT id FROM people WHERE student_no_idx = ?";
static const char SQL_TOUCH[] =
    "UPDATE org_versions SET data_version = data_version + 1 WHERE org_id IN"
    " (SELECT id FROM orgs WHERE path >= ? AND path < ?)";
static const char SQL_DEMOG[] = "UPDATE people SET birth_date = COALESCE(?, birth_date),"
                                " sex = COALESCE(?, sex) WHERE id = ?";
static const char SQL_TEACH_GET[] =
    "SELECT class_path, start_date, end_date FROM teaching WHERE id = ?";
static const char SQL_TEACH_END[] =
    "UPDATE teaching SET end_date = ? WHERE id = ? AND end_date IS NULL";
static const char SQL_GUARD_GET[] =
    "SELECT student_id, start_date, end_date FROM guardians WHERE id = ?";
static const char SQL_GUARD_END[] =
    "UPDATE guardians SET end_date = ? WHERE id = ? AND end_date IS NULL";

/* Current links of a subtree, in the order of their partial path indexes. */
static const char SQL_CUR_ENROL[] =
    "SELECT id, person_id, class_id, 0, 0, NULL, start_date, class_path FROM enrolments"
    " WHERE end_date IS NULL AND (class_path, person_id) > (?, ?) AND class_path < ?"
    " ORDER BY class_path, person_id LIMIT ?";
static const char SQL_CUR_TEACH[] =
    "SELECT id, person_id, class_id, post_id, is_head_teacher, subject, start_date, class_path"
    " FROM teaching WHERE end_date IS NULL AND (class_path, person_id, id) > (?, ?, ?)"
    " AND class_path < ? ORDER BY class_path, person_id, id LIMIT ?";
static const char SQL_CUR_POST[] =
    "SELECT id, person_id, school_id, 0, 0, subjects, start_date, school_path FROM posts"
    " WHERE end_date IS NULL AND (school_path, person_id, id) > (?, ?, ?) AND school_path < ?"
    " ORDER BY school_path, person_id, id LIMIT ?";

#define XORG_COLS                                                                                  \
    "o.id, o.parent_id, o.kind, o.name, o.path, o.division_code, o.school_code,"                   \
    " o.running_type, o.stages, o.urban_rural, o.address, o.lat, o.lon, o.grade_code,"             \
    " o.school_year, o.closed_on"
#define SID(kind, col)                                                                             \
    "(SELECT MIN(sourced_id) FROM oneroster_ids WHERE kind = " kind " AND local_id = " col ")"
static const char SQL_X_ORGS[] = "SELECT " XORG_COLS ", " SID("1", "o.id") ", " SID(
    "1", "o.parent_id") ", 0, NULL, NULL"
                        " FROM orgs o WHERE o.path >= ? AND o.path < ? AND o.kind <= 3 AND o.id > ?"
                        " ORDER BY o.id LIMIT ?";
static const char SQL_X_GRADES[] =
    "SELECT " XORG_COLS ", NULL, NULL, o.parent_id, " SID("1", "o.parent_id") ", " SID(
        "4", "o.id") " FROM orgs o WHERE o.path >= ? AND o.path < ? AND o.kind = 4 AND o.id > ?"
                     " ORDER BY o.id LIMIT ?";
static const char SQL_X_CLASSES[] =
    "SELECT " XORG_COLS
    ", " SID("5", "o.id") ", NULL, g.parent_id, " SID("1", "g.parent_id") ", " SID(
        "4", "o.parent_id") " FROM orgs o JOIN orgs g ON g.id = o.parent_id"
                            " WHERE o.path >= ? AND o.path < ? AND o.kind = 5 AND o.id > ? ORDER "
                            "BY o.id LIMIT ?";

/* The people of a subtree: four keyset-paged id sources, merged in memory. */
static const char SQL_XP_REGISTERED[] =
    "SELECT id, org_path FROM people WHERE (org_path, id) > (?, ?) AND org_path < ?"
    " ORDER BY org_path, id LIMIT ?";
static const char SQL_XP_ENROLLED[] =
    "SELECT person_id, class_path FROM enrolments WHERE end_date IS NULL"
    " AND (class_path, person_id) > (?, ?) AND class_path < ? ORDER BY class_path, person_id"
    " LIMIT ?";
static const char SQL_XP_POSTED[] =
    "SELECT person_id, school_path, id FROM posts WHERE end_date IS NULL"
    " AND (school_path, person_id, id) > (?, ?, ?) AND school_path < ?"
    " ORDER BY school_path, person_id, id LIMIT ?";
static const char SQL_XP_PARENTS[] =
    "SELECT g.parent_id FROM guardians g JOIN enrolments e ON e.person_id = g.student_id"
    " WHERE g.end_date IS NULL AND e.end_date IS NULL AND e.class_path >= ? AND e.class_path < ?";
static const char SQL_XP_PEOPLE[] =
    "SELECT p.id, p.kind, p.name, p.sex, p.birth_date, p.phone, p.staff_no, p.student_no_mask,"
    " p.student_no_enc, p.school_id, m.sourced_id, m.username, " SID(
        "1", "p.school_id") " FROM people p LEFT JOIN oneroster_ids m ON m.kind = 6 AND m.local_id "
                            "= p.id"
                            " WHERE p.id >= ? AND p.id <= ? ORDER BY p.id";
static const char SQL_XP_CLASSES[] =
    "SELECT e.person_id, c.grade_code, g.parent_id, e.class_path, " SID(
        "1", "g.parent_id") " FROM enrolments e JOIN orgs c ON c.id = e.class_id JOIN orgs g ON "
                            "g.id = c.parent_id"
                            " WHERE e.end_date IS NULL AND e.person_id >= ? AND e.person_id <= ? "
                            "ORDER BY e.person_id";
static const char SQL_XP_POSTS[] =
    "SELECT p.person_id, p.school_id, p.school_path, p.title, p.subjects, p.start_date, " SID(
        "1", "p.school_id") " FROM posts p WHERE p.end_date IS NULL AND p.person_id >= ?"
                            " AND p.person_id <= ? ORDER BY p.person_id, p.id";
static const char SQL_XP_AS_STUDENT[] = "SELECT g.student_id, g.parent_id, g.relation, " SID(
    "6", "g.parent_id") " FROM guardians g WHERE g.end_date IS NULL AND g.student_id >= ? AND "
                        "g.student_id <= ?"
                        " ORDER BY g.student_id, g.parent_id";
static const char SQL_XP_AS_PARENT[] = "SELECT g.parent_id, g.student_id, g.relation, " SID(
    "6", "g.student_id") " FROM guardians g WHERE g.end_date IS NULL AND g.parent_id >= ? AND "
                         "g.parent_id <= ?"
                         " ORDER BY g.parent_id, g.student_id";

static const char SQL_XL_ENROL[] =
    "SELECT e.id, e.class_id, e.person_id, e.start_date, NULL, 0, " SID("7", "e.id") ", " SID(
        "6", "e.person_id") ", e.class_path FROM enrolments e WHERE e.end_date IS NULL"
                            " AND (e.class_path, e.person_id) > (?, ?) AND e.class_path < ?"
                            " ORDER BY e.class_path, e.person_id LIMIT ?";
static const char SQL_XL_TEACH[] =
    "SELECT t.id, t.class_id, t.person_id, t.start_date, t.subject, t.is_head_teacher, " SID(
        "8", "t.id") ", " SID("6", "t.person_id") ", t.class_path FROM teaching t"
                                                  " WHERE t.end_date IS NULL AND (t.class_path, "
                                                  "t.person_id, t.id) > (?, ?, ?)"
                                                  " AND t.class_path < ? ORDER BY t.class_path, "
                                                  "t.person_id, t.id LIMIT ?";

static const char SQL_JOB_INSERT[] =
    "INSERT INTO oneroster_imports (school_id, org_id, org_path, account_id, state, created_at)"
    " VALUES (?, ?, ?, ?, 'queued', ?) RETURNING id";
static const char SQL_JOB_UPDATE[] =
    "UPDATE oneroster_imports SET state = ?, phase = ?, rows_done = ?, rows_total = ?,"
    " report = COALESCE(?, report), finished_at = ? WHERE id = ?";
static const char SQL_JOB_GET[] =
    "SELECT id, org_id, org_path, account_id, state, phase, rows_done, rows_total, report,"
    " created_at, finished_at FROM oneroster_imports WHERE id = ?";

static int root_path(struct eb_db *db, const struct eb_caller *c, int64_t root_id, int write,
                     char path[EB_PATH_MAX], char hi[EB_PATH_MAX]);

/* The calendar is installation-wide: only the system and city administrators map it. */
static int may_write_path(const struct eb_caller *c, const char *path)
{
    if (c->system)
        return 1;
    if (path == NULL)
        return eb__caller_has_role(c, EB_ROLE_CITY_ADMIN);
    return eb_caller_allows(c, path, EB_ACCESS_WRITE);
}

/* Copies a text column into a fixed buffer (paths, ids) without the arena. */
static void col_copy(struct eb__q *q, int col, char *out, size_t cap)
{
    size_t len = 0;
    const char *s = q->db->be->col_text(q->stmt, col, &len);
    if (s == NULL || len >= cap)
        len = 0;
    memcpy(out, s ? s : "", len);
    out[len] = '\0';
}

/* ---- the sourcedId map ------------------------------------------------------------------ */

int eb_store_or_ids(struct eb_db *db, const struct eb_caller *c, enum eb_or_kind kind,
                    eb_or_id_fn fn, void *arg)
{
    char last[SID_MAX_LEN + 1] = "";
    int rc = 0;
    for (;;) {
        struct eb__q q;
        struct eb_arena *a = eb_arena_create(0);
        size_t n = 0;
        eb__q_start(db, SQL_IDS_PAGE, &q);
        eb__q_int(&q, kind);
        eb__q_text(&q, last);
        eb__q_int(&q, PAGE);
        while (rc == 0 && (rc = eb__q_step(&q)) == EB__STORE_ROW) {
            rc = 0;
            n++;
            col_copy(&q, 0, last, sizeof(last));
            const char *path = eb__q_col_str(&q, 2, a);
            int64_t local = eb__q_col_int(&q, 1);
            if (!may_write_path(c, path))
                local = -1;
            rc = fn(arg, last, local, (int)eb__q_col_int(&q, 4), eb__q_col_str(&q, 3, a));
        }
        eb__q_end(&q);
        eb_arena_destroy(a);
        if (rc == EB__STORE_DONE)
            rc = 0;
        if (rc != 0 || n < PAGE)
            return rc;
    }
}

int eb_store_or_id_put(struct eb_db *db, const struct eb_caller *c, enum eb_or_kind kind,
                       const char *sourced_id, int64_t local_id, const char *org_path,
                       enum eb_org_kind path_kind, const char *username, int replace)
{
    struct eb__q q;
    int64_t unit = 0;
    int rc;
    size_t len = sourced_id ? strlen(sourced_id) : 0;
    if (len == 0 || len > SID_MAX_LEN || kind < EB_ORK_ORG || kind > EB_ORK_TEACHING)
        return EB_EINVAL;
    if (!may_write_path(c, org_path))
        return EB_ENOTFOUND;
    if (org_path != NULL) {
        rc = eb__org_unit(db, org_path, path_kind, &unit);
        if (rc != 0)
            return rc;
    }
    /* Nothing is read back: a bulk load sends the map rows with the row's next statement. */
    if (replace) {
        eb__q_start(db, SQL_ID_DROP, &q);
        eb__q_int(&q, kind);
        eb__q_text(&q, sourced_id);
        rc = eb__q_exec_deferred(&q, c);
        eb__q_end(&q);
        if (rc < 0)
            return rc;
    }
    eb__q_start(db, SQL_ID_INSERT, &q);
    eb__q_int(&q, kind);
    eb__q_text(&q, sourced_id);
    eb__q_int(&q, unit);
    eb__q_int(&q, local_id);
    eb__q_text(&q, org_path);
    eb__q_text(&q, username);
    rc = eb__q_exec_deferred(&q, c);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_or_sid(struct eb_db *db, enum eb_or_kind kind, int64_t local_id, struct eb_arena *a,
                    const char **sid)
{
    struct eb__q q;
    *sid = NULL;
    eb__q_start(db, SQL_SID_OF, &q);
    eb__q_int(&q, kind);
    eb__q_int(&q, local_id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *sid = eb__q_col_str(&q, 0, a);
        rc = 0;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

void eb_store_or_id_token(struct eb_db *db, char out[9])
{
    static const char label[] = "edubrain oneroster sourcedId token";
    unsigned char h[16];
    crypto_generichash(h, sizeof(h), (const unsigned char *)label, sizeof(label) - 1,
                       db->store->blind_key, sizeof(db->store->blind_key));
    for (int i = 0; i < 4; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* ---- the import's transaction and lookups ----------------------------------------------- */

int eb_store_or_tx_begin(struct eb_db *db, const struct eb_caller *c, int *own)
{
    return eb__tx_enter(db, c, own);
}

int eb_store_or_tx_end(struct eb_db *db, int own, int rc)
{
    return eb__tx_leave(db, own, rc);
}

int eb_store_or_org_path(struct eb_db *db, const struct eb_caller *c, int64_t id,
                         char path[EB_PATH_MAX], enum eb_org_kind *kind)
{
    int rc = eb__org_path(db, id, path, kind);
    if (rc == 0 && !eb_caller_allows(c, path, EB_ACCESS_READ))
        rc = EB_ENOTFOUND;
    if (rc != 0)
        path[0] = '\0';
    return rc;
}

int eb_store_or_city(struct eb_db *db, int64_t *id)
{
    struct eb__q q;
    *id = 0;
    eb__q_start(db, SQL_CITY, &q);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *id = eb__q_col_int(&q, 0);
        rc = 0;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_or_school_by_code(struct eb_db *db, const struct eb_caller *c, const char *code,
                               int64_t *id)
{
    struct eb__q q;
    char path[EB_PATH_MAX];
    *id = 0;
    eb__q_start(db, SQL_SCHOOL_BY_CODE, &q);
    eb__q_text(&q, code);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *id = eb__q_col_int(&q, 0);
        col_copy(&q, 1, path, sizeof(path));
        /* School codes are public: an import may learn that one is taken elsewhere. */
        rc = eb_caller_allows(c, path, EB_ACCESS_READ) ? 0 : EB_EDENIED;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc != 0)
        *id = 0;
    return rc;
}

int eb_store_or_touch(struct eb_db *db, const struct eb_caller *c, int64_t root_id)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    struct eb__q q;
    int rc = root_path(db, c, root_id, 1, path, hi);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_TOUCH, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_or_person_by_student_no(struct eb_db *db, const struct eb_caller *c,
                                     const char *student_no, int64_t *id)
{
    char idx[65];
    struct eb__q q;
    int64_t found = 0;
    *id = 0;
    eb__pii_blind_index(db->store, student_no, idx);
    eb__q_start(db, SQL_PERSON_BY_SNO, &q);
    eb__q_text(&q, idx);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        found = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    sodium_memzero(idx, sizeof(idx));
    if (rc < 0)
        return rc;
    if (found == 0)
        return EB_ENOTFOUND;
    rc = eb__person_check(db, c, found, EB_ACCESS_READ, NULL);
    if (rc == 0)
        *id = found;
    return rc;
}

int eb_store_or_person_demographics(struct eb_db *db, const struct eb_caller *c, int64_t id,
                                    const char *birth_date, enum eb_sex sex)
{
    char path[EB_PATH_MAX] = "";
    struct eb__q q;
    int own = 0, rc;
    if ((int)sex < 0 || sex > EB_SEX_FEMALE || (birth_date && strlen(birth_date) != 10))
        return EB_EINVAL;
    /* Bulk system loads write the people they just created: no check, no audit. */
    if (!eb__audit_skip(c)) {
        rc = eb__person_check(db, c, id, EB_ACCESS_WRITE, path);
        if (rc != 0)
            return rc;
    }
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_DEMOG, &q);
    eb__q_text(&q, birth_date);
    if (sex != EB_SEX_UNKNOWN)
        eb__q_int(&q, sex);
    else
        eb__q_null(&q);
    eb__q_int(&q, id);
    rc = eb__q_exec_deferred(&q, c);
    eb__q_end(&q);
    rc = rc < 0 ? rc : 0;
    if (rc == 0 && !eb__audit_skip(c)) {
        json_t *after = json_object();
        if (birth_date)
            json_object_set_new(after, "birth_date", json_string(birth_date));
        if (sex != EB_SEX_UNKNOWN)
            json_object_set_new(after, "sex", json_integer(sex));
        rc = eb__audit_write(db, c, "person.update", "person", id, path, NULL, after);
        if (rc == 0)
            rc = eb__org_changed(db, c, path);
    }
    return eb__tx_leave(db, own, rc);
}

/* Ends a teaching row or a guardian link: read its place and dates, check, update, audit. */
static int end_row(struct eb_db *db, const struct eb_caller *c, int64_t id, const char *end_date,
                   int guardian)
{
    char path[EB_PATH_MAX] = "", start[16] = "";
    struct eb__q q;
    int own = 0, rc, ended = 0;
    int64_t student = 0;
    if (end_date == NULL || strlen(end_date) != 10)
        return EB_EINVAL;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    eb__q_start(db, guardian ? SQL_GUARD_GET : SQL_TEACH_GET, &q);
    eb__q_int(&q, id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        if (guardian)
            student = eb__q_col_int(&q, 0);
        else
            col_copy(&q, 0, path, sizeof(path));
        col_copy(&q, 1, start, sizeof(start));
        ended = !eb__q_col_null(&q, 2);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc == 0 && guardian)
        rc = eb__person_check(db, c, student, EB_ACCESS_WRITE, path);
    else if (rc == 0 && !eb_caller_allows(c, path, EB_ACCESS_WRITE))
        rc = EB_ENOTFOUND;
    if (rc == 0 && ended)
        rc = EB_ECONFLICT;
    if (rc == 0 && strcmp(end_date, start) < 0)
        rc = EB_EINVAL;
    if (rc != 0)
        return eb__tx_leave(db, own, rc);
    eb__q_start(db, guardian ? SQL_GUARD_END : SQL_TEACH_END, &q);
    eb__q_text(&q, end_date);
    eb__q_int(&q, id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    rc = rc < 0 ? rc : 0;
    if (rc == 0 && !eb__audit_skip(c)) {
        json_t *after = json_object();
        json_object_set_new(after, "id", json_integer(id));
        json_object_set_new(after, "start_date", json_string(start));
        json_object_set_new(after, "end_date", json_string(end_date));
        rc = eb__audit_write(db, c, guardian ? "guardian.end" : "teaching.end",
                             guardian ? "guardian" : "teaching", id, path, NULL, after);
        if (rc == 0)
            rc = eb__org_changed(db, c, path);
    }
    return eb__tx_leave(db, own, rc);
}

int eb_store_or_teaching_end(struct eb_db *db, const struct eb_caller *c, int64_t id,
                             const char *end_date)
{
    return end_row(db, c, id, end_date, 0);
}

int eb_store_or_guardian_end(struct eb_db *db, const struct eb_caller *c, int64_t id,
                             const char *end_date)
{
    return end_row(db, c, id, end_date, 1);
}

/* The path of an org the caller may access (write or people-reading), EB_ENOTFOUND otherwise. */
static int root_path(struct eb_db *db, const struct eb_caller *c, int64_t root_id, int write,
                     char path[EB_PATH_MAX], char hi[EB_PATH_MAX])
{
    int rc = eb__org_path(db, root_id, path, NULL);
    if (rc != 0)
        return rc;
    if (write ? !eb_caller_allows(c, path, EB_ACCESS_WRITE) : !eb__caller_sees_people(c, path))
        return EB_ENOTFOUND;
    eb__path_hi(path, hi);
    return 0;
}

int eb_store_or_current_links(struct eb_db *db, const struct eb_caller *c, int64_t root_id,
                              enum eb_or_kind what, eb_or_link_fn fn, void *arg)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX], k_path[EB_PATH_MAX], sub[128], start[16];
    int64_t k_person = 0, k_id = 0;
    const char *sql = what == EB_ORK_ENROLMENT  ? SQL_CUR_ENROL
                      : what == EB_ORK_TEACHING ? SQL_CUR_TEACH
                      : what == EB_ORK_POST     ? SQL_CUR_POST
                                                : NULL;
    if (sql == NULL)
        return EB_EINVAL;
    int rc = root_path(db, c, root_id, 1, path, hi);
    if (rc != 0)
        return rc;
    /* The keyset starts just below the subtree: its own path sorts first. */
    memcpy(k_path, path, sizeof(k_path));
    k_person = -1;
    k_id = -1;
    for (;;) {
        struct eb__q q;
        size_t n = 0;
        eb__q_start(db, sql, &q);
        eb__q_text(&q, k_path);
        eb__q_int(&q, k_person);
        if (what != EB_ORK_ENROLMENT)
            eb__q_int(&q, k_id);
        eb__q_text(&q, hi);
        eb__q_int(&q, PAGE);
        while (rc == 0 && (rc = eb__q_step(&q)) == EB__STORE_ROW) {
            rc = 0;
            n++;
            struct eb_or_link l = {0};
            l.id = eb__q_col_int(&q, 0);
            l.person_id = eb__q_col_int(&q, 1);
            l.org_id = eb__q_col_int(&q, 2);
            l.post_id = eb__q_col_int(&q, 3);
            l.is_head_teacher = (int)eb__q_col_int(&q, 4);
            col_copy(&q, 5, sub, sizeof(sub));
            col_copy(&q, 6, start, sizeof(start));
            l.subject = sub;
            l.start_date = start;
            col_copy(&q, 7, k_path, sizeof(k_path));
            k_person = l.person_id;
            k_id = l.id;
            rc = fn(arg, &l);
        }
        eb__q_end(&q);
        if (rc == EB__STORE_DONE)
            rc = 0;
        if (rc != 0 || n < PAGE)
            return rc;
    }
}

/* ---- export reads ----------------------------------------------------------------------- */

int eb_store_or_export_orgs(struct eb_db *db, const struct eb_caller *c, int64_t root_id,
                            enum eb_org_kind kind, eb_or_xorg_fn fn, void *arg)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    const char *sql = kind == EB_ORG_GRADE   ? SQL_X_GRADES
                      : kind == EB_ORG_CLASS ? SQL_X_CLASSES
                      : kind == 0            ? SQL_X_ORGS
                                             : NULL;
    if (sql == NULL)
        return EB_EINVAL;
    int rc = root_path(db, c, root_id, 0, path, hi);
    int64_t after = 0;
    while (rc == 0) {
        struct eb__q q;
        struct eb_arena *a = eb_arena_create(0);
        size_t n = 0;
        eb__q_start(db, sql, &q);
        eb__q_text(&q, path);
        eb__q_text(&q, hi);
        eb__q_int(&q, after);
        eb__q_int(&q, PAGE);
        while (rc == 0 && (rc = eb__q_step(&q)) == EB__STORE_ROW) {
            struct eb_or_xorg x;
            memset(&x, 0, sizeof(x));
            struct eb_org *o = &x.org;
            o->id = eb__q_col_int(&q, 0);
            o->parent_id = eb__q_col_int(&q, 1);
            o->kind = (enum eb_org_kind)eb__q_col_int(&q, 2);
            o->name = eb__q_col_str(&q, 3, a);
            o->path = eb__q_col_str(&q, 4, a);
            o->division_code = eb__q_col_str(&q, 5, a);
            o->school_code = eb__q_col_str(&q, 6, a);
            o->running_type = eb__q_col_str(&q, 7, a);
            o->stages = (unsigned)eb__q_col_int(&q, 8);
            o->urban_rural = eb__q_col_str(&q, 9, a);
            o->address = eb__q_col_str(&q, 10, a);
            o->has_coords = !eb__q_col_null(&q, 11) && !eb__q_col_null(&q, 12);
            o->lat = eb__q_col_double(&q, 11);
            o->lon = eb__q_col_double(&q, 12);
            o->grade_code = eb__q_col_str(&q, 13, a);
            o->school_year = (int)eb__q_col_int(&q, 14);
            o->closed_on = eb__q_col_str(&q, 15, a);
            x.sid = eb__q_col_str(&q, 16, a);
            x.parent_sid = eb__q_col_str(&q, 17, a);
            x.school_id = eb__q_col_int(&q, 18);
            x.school_sid = eb__q_col_str(&q, 19, a);
            x.course_sid = eb__q_col_str(&q, 20, a);
            after = o->id;
            n++;
            rc = fn(arg, &x);
        }
        eb__q_end(&q);
        eb_arena_destroy(a);
        if (rc == EB__STORE_DONE)
            rc = 0;
        if (n < PAGE)
            break;
    }
    return rc;
}

struct idvec {
    int64_t *v;
    size_t n, cap;
};

static void idvec_push(struct idvec *iv, int64_t id)
{
    if (iv->n == iv->cap) {
        iv->cap = iv->cap ? iv->cap * 2 : 4096;
        iv->v = eb_xrealloc(iv->v, iv->cap * sizeof(*iv->v));
    }
    iv->v[iv->n++] = id;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int idvec_has(const struct idvec *iv, int64_t id)
{
    return iv->n > 0 && bsearch(&id, iv->v, iv->n, sizeof(*iv->v), cmp_id) != NULL;
}

/* Collects the ids of one keyset-paged source (registered, enrolled or posted people). */
static int collect_ids(struct eb_db *db, const char *sql, int three_keys, const char *path,
                       const char *hi, struct idvec *iv)
{
    char k_path[EB_PATH_MAX];
    int64_t k_person = -1, k_id = -1;
    int rc = 0;
    memcpy(k_path, path, sizeof(k_path));
    for (;;) {
        struct eb__q q;
        size_t n = 0;
        eb__q_start(db, sql, &q);
        eb__q_text(&q, k_path);
        eb__q_int(&q, k_person);
        if (three_keys)
            eb__q_int(&q, k_id);
        eb__q_text(&q, hi);
        eb__q_int(&q, PAGE * 4);
        while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
            n++;
            k_person = eb__q_col_int(&q, 0);
            col_copy(&q, 1, k_path, sizeof(k_path));
            if (three_keys)
                k_id = eb__q_col_int(&q, 2);
            idvec_push(iv, k_person);
        }
        eb__q_end(&q);
        if (rc < 0)
            return rc;
        if (n < PAGE * 4)
            return 0;
    }
}

/* What one batch of people carries besides their own rows, walked in person order. */
struct batch_extra {
    struct eb_or_xpost *posts;
    int64_t *post_person;
    size_t n_posts, cap_posts;
    struct eb_or_xagent *agents;
    int64_t *agent_person;
    size_t n_agents, cap_agents;
    int64_t *cls_person;
    const char **cls_grade, **cls_school_sid;
    int64_t *cls_school;
    size_t n_cls, cap_cls;
};

static int load_batch_extra(struct eb_db *db, const char *root, const struct idvec *set, int64_t lo,
                            int64_t hi_id, struct eb_arena *a, struct batch_extra *x)
{
    struct eb__q q;
    int rc;
    memset(x, 0, sizeof(*x));
    eb__q_start(db, SQL_XP_CLASSES, &q);
    eb__q_int(&q, lo);
    eb__q_int(&q, hi_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char *cpath = eb__q_col_str(&q, 3, a);
        if (!eb__path_within(cpath, root))
            continue;
        size_t cap = x->cap_cls;
        x->cls_person = eb_arena_grow(a, x->cls_person, x->n_cls, &cap, sizeof(int64_t));
        cap = x->cap_cls;
        x->cls_grade = eb_arena_grow(a, x->cls_grade, x->n_cls, &cap, sizeof(char *));
        cap = x->cap_cls;
        x->cls_school_sid = eb_arena_grow(a, x->cls_school_sid, x->n_cls, &cap, sizeof(char *));
        cap = x->cap_cls;
        x->cls_school = eb_arena_grow(a, x->cls_school, x->n_cls, &cap, sizeof(int64_t));
        x->cap_cls = cap;
        if (!x->cls_person || !x->cls_grade || !x->cls_school_sid || !x->cls_school) {
            rc = EB_ETOOBIG;
            break;
        }
        x->cls_person[x->n_cls] = eb__q_col_int(&q, 0);
        x->cls_grade[x->n_cls] = eb__q_col_str(&q, 1, a);
        x->cls_school[x->n_cls] = eb__q_col_int(&q, 2);
        x->cls_school_sid[x->n_cls] = eb__q_col_str(&q, 4, a);
        x->n_cls++;
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    eb__q_start(db, SQL_XP_POSTS, &q);
    eb__q_int(&q, lo);
    eb__q_int(&q, hi_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char *spath = eb__q_col_str(&q, 2, a);
        if (!eb__path_within(spath, root))
            continue;
        size_t cap = x->cap_posts;
        x->posts = eb_arena_grow(a, x->posts, x->n_posts, &cap, sizeof(*x->posts));
        cap = x->cap_posts;
        x->post_person = eb_arena_grow(a, x->post_person, x->n_posts, &cap, sizeof(int64_t));
        x->cap_posts = cap;
        if (!x->posts || !x->post_person) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_or_xpost *p = &x->posts[x->n_posts];
        x->post_person[x->n_posts++] = eb__q_col_int(&q, 0);
        p->school_id = eb__q_col_int(&q, 1);
        p->title = eb__q_col_str(&q, 3, a);
        p->subjects = eb__q_col_str(&q, 4, a);
        p->start_date = eb__q_col_str(&q, 5, a);
        p->school_sid = eb__q_col_str(&q, 6, a);
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    /* Guardians both ways; only links whose other end is in the export are named. */
    for (int side = 0; side < 2; side++) {
        eb__q_start(db, side == 0 ? SQL_XP_AS_STUDENT : SQL_XP_AS_PARENT, &q);
        eb__q_int(&q, lo);
        eb__q_int(&q, hi_id);
        while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
            int64_t other = eb__q_col_int(&q, 1);
            if (!idvec_has(set, other))
                continue;
            size_t cap = x->cap_agents;
            x->agents = eb_arena_grow(a, x->agents, x->n_agents, &cap, sizeof(*x->agents));
            cap = x->cap_agents;
            x->agent_person = eb_arena_grow(a, x->agent_person, x->n_agents, &cap, sizeof(int64_t));
            x->cap_agents = cap;
            if (!x->agents || !x->agent_person) {
                rc = EB_ETOOBIG;
                break;
            }
            struct eb_or_xagent *g = &x->agents[x->n_agents];
            x->agent_person[x->n_agents++] = eb__q_col_int(&q, 0);
            g->person_id = other;
            g->relation = eb__q_col_str(&q, 2, a);
            g->sid = eb__q_col_str(&q, 3, a);
        }
        eb__q_end(&q);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int cmp_agent_owner(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return cmp_id(x, y);
}

/* Agents were gathered in two runs (as student, as parent): sort them by owner, stably by the
 * other person, so each person's slice is contiguous. */
static void sort_agents(struct batch_extra *x, struct eb_arena *a)
{
    size_t n = x->n_agents;
    if (n < 2)
        return;
    struct pair {
        int64_t owner, other;
        size_t i;
    } *p = eb_arena_alloc(a, n * sizeof(*p));
    struct eb_or_xagent *ag = eb_arena_alloc(a, n * sizeof(*ag));
    int64_t *own = eb_arena_alloc(a, n * sizeof(*own));
    if (!p || !ag || !own)
        return;
    for (size_t i = 0; i < n; i++)
        p[i] = (struct pair){x->agent_person[i], x->agents[i].person_id, i};
    qsort(p, n, sizeof(*p), cmp_agent_owner);
    /* Equal owners: order by the other id (insertion sort inside each run; runs are short). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && p[j - 1].owner == p[j].owner && p[j - 1].other > p[j].other;
             j--) {
            struct pair t = p[j];
            p[j] = p[j - 1];
            p[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        ag[i] = x->agents[p[i].i];
        own[i] = p[i].owner;
    }
    x->agents = ag;
    x->agent_person = own;
}

int eb_store_or_export_people(struct eb_db *db, const struct eb_caller *c, int64_t root_id,
                              eb_or_xperson_fn fn, void *arg)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    struct idvec set = {0};
    struct eb__q q;
    int rc = root_path(db, c, root_id, 0, path, hi);
    if (rc == 0)
        rc = collect_ids(db, SQL_XP_REGISTERED, 0, path, hi, &set);
    if (rc == 0)
        rc = collect_ids(db, SQL_XP_ENROLLED, 0, path, hi, &set);
    if (rc == 0)
        rc = collect_ids(db, SQL_XP_POSTED, 1, path, hi, &set);
    if (rc == 0) {
        eb__q_start(db, SQL_XP_PARENTS, &q);
        eb__q_text(&q, path);
        eb__q_text(&q, hi);
        while ((rc = eb__q_step(&q)) == EB__STORE_ROW)
            idvec_push(&set, eb__q_col_int(&q, 0));
        eb__q_end(&q);
        rc = rc < 0 ? rc : 0;
    }
    if (rc != 0)
        goto done;
    if (set.n > 1) {
        qsort(set.v, set.n, sizeof(*set.v), cmp_id);
        size_t w = 1;
        for (size_t i = 1; i < set.n; i++)
            if (set.v[i] != set.v[w - 1])
                set.v[w++] = set.v[i];
        set.n = w;
    }
    for (size_t start = 0; rc == 0 && start < set.n; start += BATCH) {
        size_t end = start + BATCH < set.n ? start + BATCH : set.n;
        int64_t lo = set.v[start], hi_id = set.v[end - 1];
        struct eb_arena *a = eb_arena_create(0);
        struct batch_extra x;
        rc = load_batch_extra(db, path, &set, lo, hi_id, a, &x);
        if (rc == 0)
            sort_agents(&x, a);
        size_t ip = 0, ia = 0, ic = 0, next = start;
        int64_t prev = 0;
        if (rc == 0) {
            eb__q_start(db, SQL_XP_PEOPLE, &q);
            eb__q_int(&q, lo);
            eb__q_int(&q, hi_id);
            while (rc == 0 && (rc = eb__q_step(&q)) == EB__STORE_ROW) {
                rc = 0;
                int64_t id = eb__q_col_int(&q, 0);
                /* A person mapped twice comes twice: the first row names them. */
                if (id == prev)
                    continue;
                prev = id;
                while (next < end && set.v[next] < id)
                    next++;
                if (next >= end || set.v[next] != id)
                    continue;
                struct eb_or_xperson xp;
                memset(&xp, 0, sizeof(xp));
                xp.p.id = id;
                xp.p.kind = eb__q_col_str(&q, 1, a);
                xp.p.name = eb__q_col_str(&q, 2, a);
                xp.p.sex = (enum eb_sex)eb__q_col_int(&q, 3);
                xp.p.birth_date = eb__q_col_str(&q, 4, a);
                xp.p.phone = eb__q_col_str(&q, 5, a);
                xp.p.staff_no = eb__q_col_str(&q, 6, a);
                const char *mask = eb__q_col_str(&q, 7, a);
                /* J and L numbers hold no citizen ID: they may leave; G numbers never do. */
                if (mask && (mask[0] == 'J' || mask[0] == 'L') && !eb__q_col_null(&q, 8)) {
                    size_t len = 0;
                    const void *sealed = eb__q_col_blob(&q, 8, &len);
                    xp.p.student_no = eb__pii_open(db->store, sealed, len, a);
                }
                xp.school_id = eb__q_col_int(&q, 9);
                xp.sid = eb__q_col_str(&q, 10, a);
                xp.username = eb__q_col_str(&q, 11, a);
                xp.school_sid = eb__q_col_str(&q, 12, a);
                while (ic < x.n_cls && x.cls_person[ic] < id)
                    ic++;
                if (ic < x.n_cls && x.cls_person[ic] == id) {
                    xp.grade_code = x.cls_grade[ic];
                    xp.class_school_id = x.cls_school[ic];
                    xp.class_school_sid = x.cls_school_sid[ic];
                }
                while (ip < x.n_posts && x.post_person[ip] < id)
                    ip++;
                size_t p0 = ip;
                while (ip < x.n_posts && x.post_person[ip] == id)
                    ip++;
                xp.posts = x.posts ? x.posts + p0 : NULL;
                xp.n_posts = ip - p0;
                while (ia < x.n_agents && x.agent_person[ia] < id)
                    ia++;
                size_t a0 = ia;
                while (ia < x.n_agents && x.agent_person[ia] == id)
                    ia++;
                xp.agents = x.agents ? x.agents + a0 : NULL;
                xp.n_agents = ia - a0;
                rc = fn(arg, &xp);
            }
            eb__q_end(&q);
            if (rc == EB__STORE_DONE)
                rc = 0;
        }
        eb_arena_destroy(a);
    }
done:
    eb_free(set.v);
    return rc;
}

int eb_store_or_export_links(struct eb_db *db, const struct eb_caller *c, int64_t root_id,
                             eb_or_xlink_fn fn, void *arg)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX], k_path[EB_PATH_MAX];
    int rc = root_path(db, c, root_id, 0, path, hi);
    for (int teaching = 0; rc == 0 && teaching < 2; teaching++) {
        int64_t k_person = -1, k_id = -1;
        memcpy(k_path, path, sizeof(k_path));
        for (;;) {
            struct eb__q q;
            struct eb_arena *a = eb_arena_create(0);
            size_t n = 0;
            eb__q_start(db, teaching ? SQL_XL_TEACH : SQL_XL_ENROL, &q);
            eb__q_text(&q, k_path);
            eb__q_int(&q, k_person);
            if (teaching)
                eb__q_int(&q, k_id);
            eb__q_text(&q, hi);
            eb__q_int(&q, PAGE);
            while (rc == 0 && (rc = eb__q_step(&q)) == EB__STORE_ROW) {
                rc = 0;
                n++;
                struct eb_or_xlink l = {0};
                l.id = eb__q_col_int(&q, 0);
                l.class_id = eb__q_col_int(&q, 1);
                l.person_id = eb__q_col_int(&q, 2);
                l.start_date = eb__q_col_str(&q, 3, a);
                l.subject = eb__q_col_str(&q, 4, a);
                l.is_head_teacher = (int)eb__q_col_int(&q, 5);
                l.sid = eb__q_col_str(&q, 6, a);
                l.person_sid = eb__q_col_str(&q, 7, a);
                l.is_teaching = teaching;
                col_copy(&q, 8, k_path, sizeof(k_path));
                k_person = l.person_id;
                k_id = l.id;
                rc = fn(arg, &l);
            }
            eb__q_end(&q);
            eb_arena_destroy(a);
            if (rc == EB__STORE_DONE)
                rc = 0;
            if (rc != 0 || n < PAGE)
                break;
        }
    }
    return rc;
}

/* ---- import jobs ------------------------------------------------------------------------ */

int eb_store_or_job_create(struct eb_db *db, const struct eb_caller *c, int64_t org_id, int64_t *id)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    int64_t unit = 0;
    struct eb__q q;
    *id = 0;
    int rc = root_path(db, c, org_id, 1, path, hi);
    if (rc == 0)
        rc = eb__org_path(db, org_id, path, &kind);
    if (rc == 0)
        rc = eb__org_unit(db, path, kind, &unit);
    if (rc != 0)
        return rc;
    int own = 0;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_JOB_INSERT, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, org_id);
    eb__q_text(&q, path);
    if (c->account_id)
        eb__q_int(&q, c->account_id);
    else
        eb__q_null(&q);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *id = eb__q_col_int(&q, 0);
        rc = eb__q_exec(&q);
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    rc = rc < 0 ? rc : 0;
    if (rc == 0)
        rc = eb__audit_write(db, c, "oneroster.import_start", "oneroster_import", *id, path, NULL,
                             NULL);
    rc = eb__tx_leave(db, own, rc);
    if (rc != 0)
        *id = 0;
    return rc;
}

int eb_store_or_job_update(struct eb_db *db, int64_t id, const char *state, const char *phase,
                           int64_t rows_done, int64_t rows_total, const char *report)
{
    struct eb__q q;
    int final = strcmp(state, "done") == 0 || strcmp(state, "failed") == 0;
    eb__q_start(db, SQL_JOB_UPDATE, &q);
    eb__q_text(&q, state);
    eb__q_text(&q, phase);
    eb__q_int(&q, rows_done);
    eb__q_int(&q, rows_total);
    eb__q_text(&q, report);
    if (final)
        eb__q_int(&q, eb__now_ms() / 1000);
    else
        eb__q_null(&q);
    eb__q_int(&q, id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_or_job_get(struct eb_db *db, const struct eb_caller *c, int64_t id, struct eb_arena *a,
                        struct eb_or_job *out)
{
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    eb__q_start(db, SQL_JOB_GET, &q);
    eb__q_int(&q, id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        out->id = eb__q_col_int(&q, 0);
        out->org_id = eb__q_col_int(&q, 1);
        out->org_path = eb__q_col_str(&q, 2, a);
        out->account_id = eb__q_col_int(&q, 3);
        out->state = eb__q_col_str(&q, 4, a);
        out->phase = eb__q_col_str(&q, 5, a);
        out->rows_done = eb__q_col_int(&q, 6);
        out->rows_total = eb__q_col_int(&q, 7);
        out->report = eb__q_col_str(&q, 8, a);
        out->created_at = eb__q_col_int(&q, 9);
        out->finished_at = eb__q_col_int(&q, 10);
        rc =
            out->org_path && eb_caller_allows(c, out->org_path, EB_ACCESS_WRITE) ? 0 : EB_ENOTFOUND;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
