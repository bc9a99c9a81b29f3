/* People: who may see whom, reading one person or an org's people, creating and changing. */
#include "store/store_int.h"

#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/err.h"
#include "registry/registry_ids.h"

#define PERSON_COLS                                                                                \
    "p.id, p.name, p.sex, p.birth_date, p.citizen_id_enc, p.student_no_enc, p.staff_no, p.phone,"  \
    " p.org_id, o.name, p.kind, p.org_path, p.citizen_id_mask, p.student_no_mask"

static const char SQL_PERSON_GET[] =
    "SELECT " PERSON_COLS " FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.id = ?";
static const char SQL_PERSON_PATH[] = "SELECT org_path FROM people WHERE id = ?";
static const char SQL_PERSON_PLACES[] =
    "SELECT class_path FROM enrolments WHERE person_id = ? AND end_date IS NULL"
    " UNION ALL SELECT school_path FROM posts WHERE person_id = ? AND end_date IS NULL";
static const char SQL_GUARDIAN_OF[] = "SELECT id FROM guardians WHERE parent_id = ?"
                                      " AND student_id = ? AND end_date IS NULL";

/* The hot path (a class roster): one range scan of enrolments_current_path, then a primary
 * key lookup per row; no statement per row. */
static const char SQL_PEOPLE_STUDENTS[] =
    "SELECT " PERSON_COLS " FROM enrolments e JOIN people p ON p.id = e.person_id"
    " JOIN orgs o ON o.id = p.org_id"
    " WHERE e.end_date IS NULL AND e.class_path >= ? AND e.class_path < ? AND e.person_id > ?"
    " ORDER BY e.person_id LIMIT ?";
/* The same for one class, in index order: no sort, no range over paths. */
static const char SQL_PEOPLE_CLASS_STUDENTS[] =
    "SELECT " PERSON_COLS " FROM enrolments e JOIN people p ON p.id = e.person_id"
    " JOIN orgs o ON o.id = p.org_id"
    " WHERE e.class_id = ? AND e.end_date IS NULL AND e.person_id > ?"
    " ORDER BY e.person_id LIMIT ?";
#define TEACHER_IDS                                                                                \
    "SELECT person_id FROM posts WHERE end_date IS NULL AND school_path >= ?"                      \
    " AND school_path < ? AND person_id > ?"                                                       \
    " UNION SELECT person_id FROM teaching WHERE end_date IS NULL AND class_path >= ?"             \
    " AND class_path < ? AND person_id > ?"
#define STUDENT_IDS                                                                                \
    "SELECT person_id FROM enrolments WHERE end_date IS NULL AND class_path >= ?"                  \
    " AND class_path < ? AND person_id > ?"
static const char SQL_PEOPLE_TEACHERS[] =
    "SELECT " PERSON_COLS " FROM people p JOIN orgs o ON o.id = p.org_id"
    " WHERE p.id IN (" TEACHER_IDS ") ORDER BY p.id LIMIT ?";
static const char SQL_PEOPLE_ALL[] =
    "SELECT " PERSON_COLS " FROM people p JOIN orgs o ON o.id = p.org_id"
    " WHERE p.id IN (" STUDENT_IDS " UNION " TEACHER_IDS ") ORDER BY p.id LIMIT ?";
static const char SQL_PEOPLE_PARENTS[] =
    "SELECT " PERSON_COLS " FROM people p JOIN orgs o ON o.id = p.org_id"
    " WHERE p.id IN (SELECT g.parent_id FROM guardians g JOIN enrolments e"
    " ON e.person_id = g.student_id WHERE g.end_date IS NULL AND e.end_date IS NULL"
    " AND e.class_path >= ? AND e.class_path < ? AND g.parent_id > ?) ORDER BY p.id LIMIT ?";

/* Search inside a subtree: a name containing the text, or the exact student number (by its
 * blind index) or staff number. The same range scans as the lists, with a filter per row. */
#define SEARCH_MATCH " AND (p.name LIKE ? ESCAPE '!' OR p.student_no_idx = ? OR p.staff_no = ?)"
static const char SQL_SEARCH_STUDENTS[] =
    "SELECT " PERSON_COLS " FROM enrolments e JOIN people p ON p.id = e.person_id"
    " JOIN orgs o ON o.id = p.org_id"
    " WHERE e.end_date IS NULL AND e.class_path >= ? AND e.class_path < ? AND e.person_id > "
    "?" SEARCH_MATCH " ORDER BY e.person_id LIMIT ?";
static const char SQL_SEARCH_TEACHERS[] =
    "SELECT " PERSON_COLS " FROM people p JOIN orgs o ON o.id = p.org_id"
    " WHERE p.id IN (" TEACHER_IDS ")" SEARCH_MATCH " ORDER BY p.id LIMIT ?";

static const char SQL_PERSON_INSERT[] =
    "INSERT INTO people (school_id, org_id, org_path, kind, name, sex, birth_date, citizen_id_enc,"
    " citizen_id_idx, citizen_id_mask, student_no_enc, student_no_idx, student_no_mask, staff_no,"
    " phone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
static const char SQL_PERSON_BY_IDX[] = "SELECT id FROM people WHERE citizen_id_idx = ?";
/* Student numbers are unique across schools; PostgreSQL's constraint only holds per school
 * (the rule of distributed tables), so writers check here, under the write lock. */
static const char SQL_PERSON_BY_SNO[] = "SELECT id FROM people WHERE student_no_idx = ?";
static const char SQL_PERSON_UPDATE[] =
    "UPDATE people SET school_id = ?, org_id = ?, org_path = ?, name = COALESCE(?, name),"
    " sex = COALESCE(?, sex),"
    " birth_date = COALESCE(?, birth_date), citizen_id_enc = COALESCE(?, citizen_id_enc),"
    " citizen_id_idx = COALESCE(?, citizen_id_idx), citizen_id_mask = COALESCE(?, citizen_id_mask),"
    " student_no_enc = COALESCE(?, student_no_enc), student_no_idx = COALESCE(?, student_no_idx),"
    " student_no_mask = COALESCE(?, student_no_mask),"
    " staff_no = COALESCE(?, staff_no), phone = COALESCE(?, phone) WHERE id = ?";

#define SEALED_MAX 128

/* A student number masked like the citizen ID it usually embeds: "G370201********1234". */
static void student_no_mask(const char *plain, char out[20])
{
    out[0] = plain[0];
    eb_citizen_id_mask(plain[0] ? plain + 1 : plain, out + 1);
}

static int access_ok(const struct eb_caller *c, const char *path, enum eb_access access)
{
    return access == EB_ACCESS_READ ? eb__caller_sees_people(c, path)
                                    : eb_caller_allows(c, path, access);
}

int eb__person_check(struct eb_db *db, const struct eb_caller *c, int64_t id, enum eb_access access,
                     char org_path[EB_PATH_MAX])
{
    struct eb__q q;
    char path[EB_PATH_MAX];
    int rc, ok = 0;
    eb__q_start(db, SQL_PERSON_PATH, &q);
    eb__q_int(&q, id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        size_t len = 0;
        const char *p = q.db->be->col_text(q.stmt, 0, &len);
        rc = p != NULL && len < EB_PATH_MAX ? 0 : EB_ESTORE;
        if (rc == 0) {
            memcpy(path, p, len);
            path[len] = '\0';
        }
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc != 0)
        return rc;
    if (org_path != NULL)
        memcpy(org_path, path, EB_PATH_MAX);
    if (c->system || access_ok(c, path, access))
        return 0;
    if (access == EB_ACCESS_READ && c->person_id != 0 && c->person_id == id)
        return 0;
    /* Where the person is now: a class (students) or a school (staff). */
    eb__q_start(db, SQL_PERSON_PLACES, &q);
    eb__q_int(&q, id);
    eb__q_int(&q, id);
    while (!ok && (rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char *p = q.db->be->col_text(q.stmt, 0, NULL);
        ok = p != NULL && access_ok(c, p, access);
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    if (ok)
        return 0;
    if (access == EB_ACCESS_READ && c->person_id != 0 && eb__caller_has_role(c, EB_ROLE_PARENT)) {
        eb__q_start(db, SQL_GUARDIAN_OF, &q);
        eb__q_int(&q, c->person_id);
        eb__q_int(&q, id);
        rc = eb__q_step(&q);
        eb__q_end(&q);
        if (rc < 0)
            return rc;
        if (rc == EB__STORE_ROW)
            return 0;
    }
    return EB_ENOTFOUND;
}

/* Reads a row of PERSON_COLS; the citizen ID comes out plain when pii is set, else masked. */
static void read_person(struct eb__q *q, const struct eb_store *st, int pii, struct eb_arena *a,
                        struct eb_person *p, char org_path[EB_PATH_MAX])
{
    memset(p, 0, sizeof(*p));
    p->citizen_id_masked = !pii;
    p->id = eb__q_col_int(q, 0);
    p->name = eb__q_col_str(q, 1, a);
    p->sex = (enum eb_sex)eb__q_col_int(q, 2);
    p->birth_date = eb__q_col_str(q, 3, a);
    if (pii) {
        size_t len = 0;
        const void *sealed = eb__q_col_null(q, 4) ? NULL : eb__q_col_blob(q, 4, &len);
        p->citizen_id = sealed ? eb__pii_open(st, sealed, len, a) : NULL;
        sealed = eb__q_col_null(q, 5) ? NULL : eb__q_col_blob(q, 5, &len);
        p->student_no = sealed ? eb__pii_open(st, sealed, len, a) : NULL;
    } else {
        p->citizen_id = eb__q_col_str(q, 12, a);
        p->student_no = eb__q_col_str(q, 13, a);
    }
    p->staff_no = eb__q_col_str(q, 6, a);
    p->phone = eb__q_col_str(q, 7, a);
    p->org_id = eb__q_col_int(q, 8);
    p->org_name = eb__q_col_str(q, 9, a);
    p->kind = eb__q_col_str(q, 10, a);
    if (org_path != NULL) {
        size_t len = 0;
        const char *s = q->db->be->col_text(q->stmt, 11, &len);
        if (s == NULL || len >= EB_PATH_MAX)
            len = 0;
        memcpy(org_path, s ? s : "", len);
        org_path[len] = '\0';
    }
}

/* The audit form of a person: the citizen ID is masked, never plain. */
static json_t *person_json(const struct eb_person *p)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(p->id));
    json_object_set_new(j, "org_id", json_integer(p->org_id));
    json_object_set_new(j, "sex", json_integer(p->sex));
    char cid_mask[19], sno_mask[20];
    const char *masked = p->citizen_id;
    const char *student_no = p->student_no;
    if (!p->citizen_id_masked && masked) {
        eb_citizen_id_mask(masked, cid_mask);
        masked = cid_mask;
    }
    if (!p->citizen_id_masked && student_no) {
        student_no_mask(student_no, sno_mask);
        student_no = sno_mask;
    }
    const struct {
        const char *k, *v;
    } strs[] = {{"name", p->name},          {"birth_date", p->birth_date}, {"citizen_id", masked},
                {"student_no", student_no}, {"staff_no", p->staff_no},     {"phone", p->phone},
                {"kind", p->kind}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strs[i].v != NULL)
            json_object_set_new(j, strs[i].k, json_string(strs[i].v));
    return j;
}

static int person_row(struct eb_db *db, int64_t id, int pii, struct eb_arena *a,
                      struct eb_person *out, char org_path[EB_PATH_MAX])
{
    struct eb__q q;
    eb__q_start(db, SQL_PERSON_GET, &q);
    eb__q_int(&q, id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        read_person(&q, db->store, pii, a, out, org_path);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

int eb_store_person_get(struct eb_db *db, const struct eb_caller *c, int64_t id, int want_pii,
                        struct eb_arena *a, struct eb_person *out)
{
    char path[EB_PATH_MAX];
    memset(out, 0, sizeof(*out));
    int rc = eb__person_check(db, c, id, EB_ACCESS_READ, path);
    if (rc != 0)
        return rc;
    int pii = want_pii && eb_caller_allows(c, path, EB_ACCESS_PII);
    rc = person_row(db, id, pii, a, out, NULL);
    if (rc != 0 || !pii || out->citizen_id == NULL)
        return rc;
    /* The plain ID leaves the store only once its reading is on record. */
    rc = eb__audit_write(db, c, "person.read_pii", "person", id, path, NULL, NULL);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

int eb_store_org_people(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                        enum eb_people_filter filter, int64_t after, int limit, struct eb_arena *a,
                        struct eb_person_list *out)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    struct eb__q q = {0};
    int rc;
    memset(out, 0, sizeof(*out));
    limit = limit < 1 ? 1 : limit > 500 ? 500 : limit;
    rc = eb__org_path(db, org_id, path, &kind);
    if (rc != 0)
        goto done;
    if (!eb__caller_sees_people(c, path)) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    eb__path_hi(path, hi);
    out->items = eb_arena_alloc(a, sizeof(*out->items) * (size_t)limit);
    if (out->items == NULL) {
        rc = EB_ETOOBIG;
        goto done;
    }
    if (filter == EB_PEOPLE_STUDENTS && kind == EB_ORG_CLASS) {
        eb__q_start(db, SQL_PEOPLE_CLASS_STUDENTS, &q);
        eb__q_int(&q, org_id);
        eb__q_int(&q, after);
    } else {
        const char *sql = filter == EB_PEOPLE_STUDENTS   ? SQL_PEOPLE_STUDENTS
                          : filter == EB_PEOPLE_TEACHERS ? SQL_PEOPLE_TEACHERS
                          : filter == EB_PEOPLE_PARENTS  ? SQL_PEOPLE_PARENTS
                                                         : SQL_PEOPLE_ALL;
        eb__q_start(db, sql, &q);
        /* Each id set of the statement takes the same (from, to, after) triple. */
        int n_sets = filter == EB_PEOPLE_ALL ? 3 : filter == EB_PEOPLE_TEACHERS ? 2 : 1;
        for (int i = 0; i < n_sets; i++) {
            eb__q_text(&q, path);
            eb__q_text(&q, hi);
            eb__q_int(&q, after);
        }
    }
    eb__q_int(&q, limit + 1);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        if (out->n == (size_t)limit) {
            out->next = out->items[out->n - 1].id;
            break;
        }
        read_person(&q, db->store, 0, a, &out->items[out->n++], NULL);
    }
    rc = rc < 0 ? rc : 0;
done:
    eb__q_end(&q);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

static int valid_kind(const char *k)
{
    return k != NULL && (strcmp(k, "student") == 0 || strcmp(k, "teacher") == 0 ||
                         strcmp(k, "parent") == 0 || strcmp(k, "staff") == 0);
}

static int check_person(const struct eb_caller *c, const struct eb_person *in, int creating)
{
    if (creating && (in->name == NULL || in->org_id <= 0))
        return EB_EINVAL;
    if (in->name != NULL && (in->name[0] == '\0' || strlen(in->name) > 100))
        return EB_EINVAL;
    if ((int)in->sex < 0 || in->sex > EB_SEX_FEMALE)
        return EB_EINVAL;
    if (in->kind != NULL && !valid_kind(in->kind))
        return EB_EINVAL;
    if (in->citizen_id != NULL && (in->citizen_id[0] == '\0' || strlen(in->citizen_id) > 64))
        return EB_EINVAL;
    if (c->system)
        return 0; /* bulk loads keep legacy values for the data-quality report */
    if (in->birth_date && eb_date_check(in->birth_date, NULL) != 0)
        return EB_EINVAL;
    if (in->citizen_id && eb_citizen_id_check(in->citizen_id, NULL) != 0)
        return EB_EINVAL;
    if (in->student_no && eb_student_no_check(in->student_no, NULL) != 0)
        return EB_EINVAL;
    if (in->staff_no && (in->staff_no[0] == '\0' || strlen(in->staff_no) > 32))
        return EB_EINVAL;
    if (in->phone && (in->phone[0] == '\0' || strlen(in->phone) > 32))
        return EB_EINVAL;
    return 0;
}

/* Binds a student number as its sealed form and its blind index (or two NULLs). */
static int bind_student_no(struct eb__q *q, const struct eb_store *st, const char *no)
{
    if (no == NULL) {
        eb__q_null(q);
        eb__q_null(q);
        eb__q_null(q);
        return 0;
    }
    unsigned char sealed[SEALED_MAX];
    size_t len = 0;
    char idx[65];
    int rc = eb__pii_seal_buf(st, no, sealed, sizeof(sealed), &len);
    if (rc != 0)
        return rc;
    eb__pii_blind_index(st, no, idx);
    char mask[20];
    student_no_mask(no, mask);
    eb__q_blob(q, sealed, len);
    eb__q_text(q, idx);
    eb__q_text(q, mask);
    return 0;
}

/* A citizen ID (sql: SQL_PERSON_BY_IDX) or student number (SQL_PERSON_BY_SNO) already
 * registered for another person, found through its blind index. */
static int pii_taken(struct eb_db *db, const char *sql, const char *idx, int64_t except)
{
    struct eb__q q;
    int rc, taken = 0;
    eb__q_start(db, sql, &q);
    eb__q_text(&q, idx);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW)
        if (eb__q_col_int(&q, 0) != except)
            taken = 1;
    eb__q_end(&q);
    return rc < 0 ? rc : taken ? EB_EEXIST : 0;
}

/* 0 when no other person holds the student number (EB_EEXIST otherwise); bulk loads are
 * trusted, as for citizen IDs. */
static int student_no_free(struct eb_db *db, const struct eb_caller *c, const char *no,
                           int64_t except)
{
    char idx[65];
    if (no == NULL || eb__audit_skip(c))
        return 0;
    eb__pii_blind_index(db->store, no, idx);
    int rc = pii_taken(db, SQL_PERSON_BY_SNO, idx, except);
    sodium_memzero(idx, sizeof(idx));
    return rc;
}

int eb_store_person_create(struct eb_db *db, const struct eb_caller *c, const struct eb_person *in,
                           int64_t *id)
{
    char path[EB_PATH_MAX], idx[65];
    unsigned char sealed[SEALED_MAX];
    size_t sealed_len = 0;
    struct eb__q q = {0};
    int own = 0, rc;
    *id = 0;
    enum eb_org_kind org_kind = 0;
    int64_t unit = 0;
    rc = check_person(c, in, 1);
    if (rc != 0)
        return rc;
    rc = eb__org_path(db, in->org_id, path, &org_kind);
    if (rc == 0)
        rc = eb__org_unit(db, path, org_kind, &unit);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    const char *kind = in->kind         ? in->kind
                       : in->student_no ? "student"
                       : in->staff_no   ? "teacher"
                                        : "staff";
    if (in->citizen_id != NULL) {
        rc = eb__pii_seal_buf(db->store, in->citizen_id, sealed, sizeof(sealed), &sealed_len);
        if (rc != 0)
            return rc;
        eb__pii_blind_index(db->store, in->citizen_id, idx);
    }
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    /* Bulk loads may carry duplicates on purpose (the data-quality report finds them). */
    if (in->citizen_id != NULL && !c->system) {
        rc = pii_taken(db, SQL_PERSON_BY_IDX, idx, 0);
        if (rc != 0)
            goto done;
    }
    rc = student_no_free(db, c, in->student_no, 0);
    if (rc != 0)
        goto done;
    eb__q_start(db, SQL_PERSON_INSERT, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, in->org_id);
    eb__q_text(&q, path);
    eb__q_text(&q, kind);
    eb__q_text(&q, in->name);
    eb__q_int(&q, in->sex);
    eb__q_text(&q, in->birth_date);
    if (in->citizen_id != NULL) {
        char mask[19];
        eb_citizen_id_mask(in->citizen_id, mask);
        eb__q_blob(&q, sealed, sealed_len);
        eb__q_text(&q, idx);
        eb__q_text(&q, mask);
    } else {
        eb__q_null(&q);
        eb__q_null(&q);
        eb__q_null(&q);
    }
    rc = bind_student_no(&q, db->store, in->student_no);
    if (rc != 0)
        goto done;
    eb__q_text(&q, in->staff_no);
    eb__q_text(&q, in->phone);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_step(&q);
    if (rc != EB__STORE_ROW) {
        rc = rc < 0 ? rc : EB_ESTORE;
        goto done;
    }
    int64_t new_id = eb__q_col_int(&q, 0);
    eb__q_exec(&q);
    eb__q_end(&q);
    rc = 0;
    if (!eb__audit_skip(c)) {
        struct eb_person after = *in;
        after.id = new_id;
        after.kind = kind;
        rc = eb__audit_write(db, c, "person.create", "person", new_id, path, NULL,
                             person_json(&after));
        if (rc == 0)
            rc = eb__org_changed(db, c, path);
    }
    if (rc == 0)
        *id = new_id;
done:
    eb__q_end(&q);
    sodium_memzero(idx, sizeof(idx));
    return eb__tx_leave(db, own, rc);
}

int eb_store_person_update(struct eb_db *db, const struct eb_caller *c, int64_t id,
                           const struct eb_person *in)
{
    char path[EB_PATH_MAX], new_path[EB_PATH_MAX], idx[65];
    unsigned char sealed[SEALED_MAX];
    size_t sealed_len = 0;
    struct eb_arena *a = eb_arena_create(0);
    struct eb_person before, after;
    struct eb__q q = {0};
    int own = 0, rc;
    rc = check_person(c, in, 0);
    if (rc != 0)
        goto done;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    rc = eb__person_check(db, c, id, EB_ACCESS_WRITE, path);
    if (rc != 0)
        goto done;
    rc = person_row(db, id, 0, a, &before, NULL);
    if (rc != 0)
        goto done;
    int64_t org_id = before.org_id, unit = 0;
    enum eb_org_kind new_kind = 0;
    memcpy(new_path, path, sizeof(path));
    if (in->org_id != 0 && in->org_id != before.org_id) {
        /* Moving a person needs write access on both ends. */
        rc = eb__org_path(db, in->org_id, new_path, &new_kind);
        if (rc == 0 && !eb_caller_allows(c, new_path, EB_ACCESS_WRITE))
            rc = EB_ENOTFOUND;
        if (rc != 0)
            goto done;
        org_id = in->org_id;
    }
    if (in->citizen_id != NULL) {
        rc = eb__pii_seal_buf(db->store, in->citizen_id, sealed, sizeof(sealed), &sealed_len);
        if (rc != 0)
            goto done;
        eb__pii_blind_index(db->store, in->citizen_id, idx);
        if (!c->system) {
            rc = pii_taken(db, SQL_PERSON_BY_IDX, idx, id);
            if (rc != 0)
                goto done;
        }
    }
    rc = student_no_free(db, c, in->student_no, id);
    if (rc == 0)
        rc = eb__org_unit(db, new_path, new_kind, &unit);
    if (rc != 0)
        goto done;
    eb__q_start(db, SQL_PERSON_UPDATE, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, org_id);
    eb__q_text(&q, new_path);
    eb__q_text(&q, in->name);
    if (in->sex != EB_SEX_UNKNOWN)
        eb__q_int(&q, in->sex);
    else
        eb__q_null(&q);
    eb__q_text(&q, in->birth_date);
    if (in->citizen_id != NULL) {
        char mask[19];
        eb_citizen_id_mask(in->citizen_id, mask);
        eb__q_blob(&q, sealed, sealed_len);
        eb__q_text(&q, idx);
        eb__q_text(&q, mask);
    } else {
        eb__q_null(&q);
        eb__q_null(&q);
        eb__q_null(&q);
    }
    rc = bind_student_no(&q, db->store, in->student_no);
    if (rc != 0)
        goto done;
    eb__q_text(&q, in->staff_no);
    eb__q_text(&q, in->phone);
    eb__q_int(&q, id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    rc = person_row(db, id, 0, a, &after, NULL);
    if (rc != 0)
        goto done;
    rc = eb__audit_write(db, c, "person.update", "person", id, new_path, person_json(&before),
                         person_json(&after));
    if (rc == 0)
        rc = eb__org_changed(db, c, path);
    if (rc == 0 && strcmp(path, new_path) != 0)
        rc = eb__org_changed(db, c, new_path);
done:
    eb__q_end(&q);
    rc = eb__tx_leave(db, own, rc);
    eb_arena_destroy(a);
    return rc;
}

int eb_store_people_search(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                           enum eb_people_filter filter, const char *text, int64_t after, int limit,
                           struct eb_arena *a, struct eb_person_list *out)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX], idx[65];
    struct eb__q q = {0};
    int rc;
    memset(out, 0, sizeof(*out));
    limit = limit < 1 ? 1 : limit > 500 ? 500 : limit;
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n > 64 || (filter != EB_PEOPLE_STUDENTS && filter != EB_PEOPLE_TEACHERS))
        return EB_EINVAL;
    rc = eb__org_path(db, org_id, path, NULL);
    if (rc != 0)
        return rc;
    if (!eb__caller_sees_people(c, path))
        return EB_ENOTFOUND;
    eb__path_hi(path, hi);
    /* LIKE's wildcards in the text are matched literally. */
    char *pattern = eb_arena_alloc(a, n * 2 + 3);
    out->items = eb_arena_alloc(a, sizeof(*out->items) * (size_t)limit);
    if (pattern == NULL || out->items == NULL)
        return EB_ETOOBIG;
    size_t k = 0;
    pattern[k++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '%' || text[i] == '_' || text[i] == '!')
            pattern[k++] = '!';
        pattern[k++] = text[i];
    }
    pattern[k++] = '%';
    pattern[k] = '\0';
    eb__pii_blind_index(db->store, text, idx);
    eb__q_start(db, filter == EB_PEOPLE_STUDENTS ? SQL_SEARCH_STUDENTS : SQL_SEARCH_TEACHERS, &q);
    for (int i = 0; i < (filter == EB_PEOPLE_TEACHERS ? 2 : 1); i++) {
        eb__q_text(&q, path);
        eb__q_text(&q, hi);
        eb__q_int(&q, after);
    }
    eb__q_text(&q, pattern);
    eb__q_text(&q, idx);
    eb__q_text(&q, text);
    eb__q_int(&q, limit + 1);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        if (out->n == (size_t)limit) {
            out->next = out->items[out->n - 1].id;
            break;
        }
        read_person(&q, db->store, 0, a, &out->items[out->n++], NULL);
    }
    eb__q_end(&q);
    rc = rc < 0 ? rc : 0;
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
