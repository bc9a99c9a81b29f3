/* Transfers between schools (学籍异动 转学): the request, its approval steps, the move. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "core/err.h"
#include "registry/registry_ids.h"

static const char SQL_BY_SNO[] =
    "SELECT id, name, kind FROM people WHERE student_no_idx = ? ORDER BY id";
static const char SQL_BY_CID[] =
    "SELECT id, name, kind FROM people WHERE citizen_id_idx = ? ORDER BY id";
static const char SQL_MATCH_ROW[] =
    "SELECT p.name, p.citizen_id_mask, p.student_no_mask, e.id, e.class_id, e.class_path,"
    " e.start_date, c.name FROM people p LEFT JOIN enrolments e ON e.person_id = p.id"
    " AND e.end_date IS NULL LEFT JOIN orgs c ON c.id = e.class_id WHERE p.id = ?";
static const char SQL_ORG_NAME[] = "SELECT name, parent_id, closed_on FROM orgs WHERE id = ?";
static const char SQL_PENDING_OF[] =
    "SELECT id FROM transfers WHERE person_id = ? AND state = 'pending' LIMIT 1";
static const char SQL_INSERT[] =
    "INSERT INTO transfers (school_id, person_id, from_school_id, from_school_path,"
    " from_class_id, from_enrolment_id, from_district_id, to_school_id, to_school_path,"
    " to_class_id, to_district_id, transfer_date, reason, state, current_step, n_steps,"
    " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 2, ?, ?,"
    " ?) RETURNING id";
static const char SQL_STEP_INSERT[] =
    "INSERT INTO transfer_steps (transfer_id, school_id, step, kind, actor_role, org_id,"
    " org_path, state, opened_on, due_date, acted_at, account_id) VALUES (?, ?, ?, ?, ?, ?, ?,"
    " ?, ?, ?, ?, ?)";

/* A transfer with every name the lists show and its current step. */
#define T_COLS                                                                                     \
    "SELECT t.id, t.person_id, p.name, p.citizen_id_mask, p.student_no_mask, t.from_school_id,"    \
    " fs.name, t.from_class_id, fc.name, t.from_district_id, fd.name, t.to_school_id, ts.name,"    \
    " t.to_class_id, tc.name, t.to_district_id, td.name, t.transfer_date, t.reason, t.state,"      \
    " t.current_step, t.n_steps, s.kind, s.due_date, s.actor_role, s.org_path, t.created_by,"      \
    " ca.display_name, t.created_at, t.closed_by, xa.display_name, t.closed_at, t.close_reason,"   \
    " t.from_school_path, t.to_school_path, t.school_id, t.from_enrolment_id"                      \
    " FROM transfers t JOIN people p ON p.id = t.person_id"                                        \
    " JOIN orgs fs ON fs.id = t.from_school_id JOIN orgs fc ON fc.id = t.from_class_id"            \
    " JOIN orgs fd ON fd.id = t.from_district_id JOIN orgs ts ON ts.id = t.to_school_id"           \
    " JOIN orgs tc ON tc.id = t.to_class_id JOIN orgs td ON td.id = t.to_district_id"              \
    " LEFT JOIN transfer_steps s ON s.transfer_id = t.id AND s.school_id = t.school_id"            \
    " AND s.step = t.current_step LEFT JOIN accounts ca ON ca.id = t.created_by"                   \
    " LEFT JOIN accounts xa ON xa.id = t.closed_by"
enum { COL_FROM_PATH = 33, COL_TO_PATH, COL_UNIT, COL_FROM_ENROL };

static const char SQL_GET[] = T_COLS " WHERE t.id = ?";
static const char SQL_LIST_ALL[] =
    T_COLS " WHERE ((t.from_school_path >= ? AND t.from_school_path < ?)"
           " OR (t.to_school_path >= ? AND t.to_school_path < ?))"
           " AND (? = '' OR t.state = ?) AND t.id > ? ORDER BY t.id LIMIT ?";
static const char SQL_LIST_OUT[] =
    T_COLS " WHERE t.to_school_path >= ? AND t.to_school_path < ?"
           " AND (? = '' OR t.state = ?) AND t.id > ? ORDER BY t.id LIMIT ?";
static const char SQL_LIST_IN[] =
    T_COLS " WHERE t.state = 'pending' AND s.state = 'pending' AND s.actor_role = ?"
           " AND s.org_path >= ? AND s.org_path < ?"
           " AND (? = '' OR t.state = ?) AND t.id > ? ORDER BY t.id LIMIT ?";
static const char SQL_STEPS[] =
    "SELECT st.step, st.kind, st.actor_role, st.org_id, o.name, st.state, st.opened_on,"
    " st.due_date, st.acted_at, st.account_id, a.display_name, st.reason, st.org_path"
    " FROM transfer_steps st JOIN orgs o ON o.id = st.org_id"
    " LEFT JOIN accounts a ON a.id = st.account_id"
    " WHERE st.transfer_id = ? AND st.school_id = ? ORDER BY st.step";

static const char SQL_STEP_ACT[] =
    "UPDATE transfer_steps SET state = ?, acted_at = ?, account_id = ?, reason = ?"
    " WHERE transfer_id = ? AND school_id = ? AND step = ? AND state = 'pending'";
static const char SQL_STEP_OPEN[] =
    "UPDATE transfer_steps SET state = 'pending', opened_on = ?, due_date = ?"
    " WHERE transfer_id = ? AND school_id = ? AND step = ? AND state = 'waiting'";
static const char SQL_STEPS_CANCEL[] =
    "UPDATE transfer_steps SET state = 'cancelled' WHERE transfer_id = ? AND school_id = ?"
    " AND state IN ('waiting', 'pending')";
static const char SQL_ADVANCE[] =
    "UPDATE transfers SET current_step = ? WHERE id = ? AND school_id = ? AND state = 'pending'"
    " AND current_step = ?";
static const char SQL_CLOSE[] =
    "UPDATE transfers SET state = ?, current_step = 0, closed_at = ?, closed_by = ?,"
    " close_reason = ?, new_enrolment_id = ? WHERE id = ? AND school_id = ? AND state = 'pending'";

static const char SQL_CURRENT_ENROL[] =
    "SELECT id FROM enrolments WHERE person_id = ? AND end_date IS NULL";
static const char SQL_ENROL_END[] =
    "UPDATE enrolments SET end_date = ? WHERE id = ? AND end_date IS NULL";
static const char SQL_ENROL_INSERT[] =
    "INSERT INTO enrolments (school_id, person_id, class_id, class_path, start_date)"
    " VALUES (?, ?, ?, ?, ?) RETURNING id";
static const char SQL_PERSON_MOVE[] =
    "UPDATE people SET school_id = ?, org_id = ?, org_path = ? WHERE id = ?";
/* The student's own account follows them to the new class; a parent's role stays where it is
 * (another child may still be in that class). */
static const char SQL_GRANT_MOVE[] =
    "UPDATE grants SET org_id = ?, org_path = ? WHERE role = ? AND org_id = ?"
    " AND account_id IN (SELECT id FROM accounts WHERE person_id = ?)";
static const char SQL_EVENT_INSERT[] =
    "INSERT INTO student_status_events (school_id, person_id, school_path, kind, status,"
    " event_date, reason, class_id, enrolment_id, transfer_id, account_id, created_at)"
    " VALUES (?, ?, ?, ?, 'enrolled', ?, ?, ?, ?, ?, ?, ?)";

#define REASON_MAX 600 /* 200 Chinese characters */
#define LIST_MAX   500

/* ---- time: the day a step opens, its due date, overdue ---------------------------------- */

/*
 * The installation's calendar day (local time: a school day starts at local midnight). In
 * EB_TESTING builds the file named by EDUBRAIN_TEST_CLOCK_FILE holds an offset in seconds, as
 * for the OIDC provider's clock, so that the e2e suite can let deadlines pass. Never compiled
 * into release builds.
 */
static void today(char out[11])
{
    time_t now = time(NULL);
#ifdef EB_TESTING
    const char *path = getenv("EDUBRAIN_TEST_CLOCK_FILE");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f) {
        char line[32] = "";
        if (fgets(line, sizeof(line), f))
            now += (time_t)strtoll(line, NULL, 10);
        fclose(f);
    }
#endif
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, char out[11])
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char buf[48];
    snprintf(buf, sizeof(buf), "%04d-%02u-%02u", (int)y, m, d);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

/*
 * The due date of a step opened on day: n working days later, Saturdays and Sundays not
 * counted. Public holidays are not known to the platform (a bureau extends nothing by hand),
 * which makes a deadline around a holiday a day or two early: the safe side.
 */
static void due_after(const char *day, int n, char out[11])
{
    int64_t y = strtoll(day, NULL, 10);
    unsigned m = (unsigned)strtoul(day + 5, NULL, 10), d = (unsigned)strtoul(day + 8, NULL, 10);
    int64_t z = days_from_civil(y, m, d);
    while (n > 0) {
        z++;
        int64_t wd = (z + 4) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */
        if (wd != 0 && wd != 6)
            n--;
    }
    civil_from_days(z, out);
}

/* ---- who sees and who acts -------------------------------------------------------------- */

static int admin_role(enum eb_role r)
{
    return r == EB_ROLE_CITY_ADMIN || r == EB_ROLE_DISTRICT_ADMIN || r == EB_ROLE_SCHOOL_ADMIN;
}

/* Both schools, both bureaus and the city above them see a transfer (administrators and
 * analysts); teachers, students and parents of those schools do not. */
static int sees(const struct eb_caller *c, const char *from_path, const char *to_path)
{
    if (c->system)
        return 1;
    for (size_t i = 0; i < c->n_grants; i++) {
        const struct eb_grant *g = &c->grants[i];
        if (!admin_role(g->role) && g->role != EB_ROLE_ANALYST)
            continue;
        if (eb__path_within(from_path, g->org_path) || eb__path_within(to_path, g->org_path))
            return 1;
    }
    return 0;
}

/* A step is acted on by an administrator of exactly its level: a district's bureau does not
 * approve in the name of one of its schools, nor the city in the name of a district. */
static int acts(const struct eb_caller *c, enum eb_role role, const char *org_path)
{
    if (c->system)
        return 1;
    for (size_t i = 0; i < c->n_grants; i++)
        if (c->grants[i].role == role && eb__path_within(org_path, c->grants[i].org_path))
            return 1;
    return 0;
}

static int refuse(struct eb_refusal *why, int rc, const char *code, const char *field,
                  const char *text)
{
    if (why != NULL) {
        why->code = code;
        why->field = field;
        why->why = text;
    }
    return rc;
}

/* ---- finding the student ---------------------------------------------------------------- */

static int check_ident(const char *student_no, const char *citizen_id, const char *name,
                       struct eb_refusal *why)
{
    const char *text = NULL;
    if ((student_no == NULL) == (citizen_id == NULL))
        return refuse(why, EB_EINVAL, "invalid_field", "student_no",
                      "give either the student number or the citizen ID");
    if (name == NULL || name[0] == '\0' || strlen(name) > 100)
        return refuse(why, EB_EINVAL, "invalid_field", "name", "required");
    if (student_no != NULL && eb_student_no_check(student_no, &text))
        return refuse(why, EB_EINVAL, "invalid_field", "student_no", text);
    if (citizen_id != NULL && eb_citizen_id_check(citizen_id, &text))
        return refuse(why, EB_EINVAL, "invalid_field", "citizen_id", text);
    return 0;
}

/* The student whose identifier (through its blind index) and exact name match. */
static int find_student(struct eb_db *db, const char *student_no, const char *citizen_id,
                        const char *name, int64_t *person_id)
{
    char idx[65];
    struct eb__q q;
    int rc = 0;
    *person_id = 0;
    eb__pii_blind_index(db->store, student_no ? student_no : citizen_id, idx);
    eb__q_start(db, student_no ? SQL_BY_SNO : SQL_BY_CID, &q);
    eb__q_text(&q, idx);
    while (*person_id == 0 && (rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char *n = q.db->be->col_text(q.stmt, 1, NULL);
        const char *k = q.db->be->col_text(q.stmt, 2, NULL);
        if (n && k && strcmp(n, name) == 0 && strcmp(k, "student") == 0)
            *person_id = eb__q_col_int(&q, 0);
    }
    eb__q_end(&q);
    sodium_memzero(idx, sizeof(idx));
    if (rc < 0)
        return rc;
    return *person_id ? 0 : EB_ENOTFOUND;
}

/* What a match shows, with the current enrolment (enrol_id 0 when none). */
struct match_row {
    char *name, *cid, *sno, *class_name, *enrol_start;
    int64_t enrol_id, class_id;
    char class_path[EB_PATH_MAX];
};

static int match_row(struct eb_db *db, int64_t person_id, struct eb_arena *a, struct match_row *m)
{
    struct eb__q q;
    memset(m, 0, sizeof(*m));
    eb__q_start(db, SQL_MATCH_ROW, &q);
    eb__q_int(&q, person_id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        m->name = eb__q_col_str(&q, 0, a);
        m->cid = eb__q_col_str(&q, 1, a);
        m->sno = eb__q_col_str(&q, 2, a);
        if (!eb__q_col_null(&q, 3)) {
            size_t len = 0;
            const char *p = q.db->be->col_text(q.stmt, 5, &len);
            m->enrol_id = eb__q_col_int(&q, 3);
            m->class_id = eb__q_col_int(&q, 4);
            if (p && len < EB_PATH_MAX) {
                memcpy(m->class_path, p, len);
                m->class_path[len] = '\0';
            }
            m->enrol_start = eb__q_col_str(&q, 6, a);
            m->class_name = eb__q_col_str(&q, 7, a);
        }
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

/* An org's name, parent and whether it is closed. */
static int org_row(struct eb_db *db, int64_t id, struct eb_arena *a, char **name, int64_t *parent,
                   int *closed)
{
    struct eb__q q;
    eb__q_start(db, SQL_ORG_NAME, &q);
    eb__q_int(&q, id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        if (name)
            *name = eb__q_col_str(&q, 0, a);
        if (parent)
            *parent = eb__q_col_null(&q, 1) ? 0 : eb__q_col_int(&q, 1);
        if (closed)
            *closed = !eb__q_col_null(&q, 2);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

/* The first school administrator grant's path: where a lookup's audit row lives. */
static const char *school_admin_path(const struct eb_caller *c)
{
    for (size_t i = 0; i < c->n_grants; i++)
        if (c->grants[i].role == EB_ROLE_SCHOOL_ADMIN)
            return c->grants[i].org_path;
    return NULL;
}

int eb_store_transfer_lookup(struct eb_db *db, const struct eb_caller *c, const char *student_no,
                             const char *citizen_id, const char *name, struct eb_arena *a,
                             struct eb_student_match *out)
{
    struct match_row m;
    int64_t person_id = 0;
    memset(out, 0, sizeof(*out));
    if (!c->system && !eb__caller_has_role(c, EB_ROLE_SCHOOL_ADMIN))
        return EB_EDENIED;
    int rc = check_ident(student_no, citizen_id, name, NULL);
    if (rc != 0)
        return rc;
    rc = find_student(db, student_no, citizen_id, name, &person_id);
    if (rc == 0)
        rc = match_row(db, person_id, a, &m);
    /* Every lookup is on record, found or not: a school reading students of other schools
     * one identifier at a time shows in its own audit log. */
    json_t *j =
        json_pack("{s:s, s:b}", "by", student_no ? "student_no" : "citizen_id", "found", rc == 0);
    int arc = eb__audit_write(db, c, "transfer.lookup", "person", rc == 0 ? person_id : 0,
                              school_admin_path(c), NULL, j);
    if (rc == 0)
        rc = arc;
    if (rc != 0)
        return rc;
    out->name = m.name;
    out->citizen_id = m.cid;
    out->student_no = m.sno;
    out->class_name = m.class_name;
    out->status = m.enrol_id ? EB_STUDENT_ENROLLED : EB_STUDENT_NONE;
    if (m.enrol_id) {
        int64_t school = 0;
        rc = eb__org_unit(db, m.class_path, EB_ORG_CLASS, &school);
        if (rc == 0) {
            char *sname = NULL;
            rc = org_row(db, school, a, &sname, NULL, NULL);
            out->school_name = sname;
        }
    }
    return rc;
}

/* ---- starting a transfer ---------------------------------------------------------------- */

/* The bureau above a school: its parent org (a district, or the city for the city's own
 * schools), with the role that acts for it. */
static int bureau_of(struct eb_db *db, int64_t school, int64_t *id, char path[EB_PATH_MAX],
                     enum eb_role *role)
{
    int64_t parent = 0;
    enum eb_org_kind kind = 0;
    int rc = org_row(db, school, NULL, NULL, &parent, NULL);
    if (rc == 0 && parent == 0)
        rc = EB_EINVAL;
    if (rc == 0)
        rc = eb__org_path(db, parent, path, &kind);
    if (rc != 0)
        return rc;
    *id = parent;
    *role = kind == EB_ORG_CITY ? EB_ROLE_CITY_ADMIN : EB_ROLE_DISTRICT_ADMIN;
    return 0;
}

struct step_plan {
    const char *kind;
    enum eb_role role;
    int64_t org_id;
    const char *org_path;
};

static int insert_step(struct eb_db *db, int64_t transfer_id, int64_t unit, int step,
                       const struct step_plan *p, const char *state, const char *opened,
                       const char *due, int64_t acted_at, int64_t account_id)
{
    struct eb__q q;
    eb__q_start(db, SQL_STEP_INSERT, &q);
    eb__q_int(&q, transfer_id);
    eb__q_int(&q, unit);
    eb__q_int(&q, step);
    eb__q_text(&q, p->kind);
    eb__q_int(&q, p->role);
    eb__q_int(&q, p->org_id);
    eb__q_text(&q, p->org_path);
    eb__q_text(&q, state);
    eb__q_text(&q, opened);
    eb__q_text(&q, due);
    if (acted_at)
        eb__q_int(&q, acted_at);
    else
        eb__q_null(&q);
    if (account_id)
        eb__q_int(&q, account_id);
    else
        eb__q_null(&q);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_transfer_create(struct eb_db *db, const struct eb_caller *c,
                             const struct eb_transfer_request *in, struct eb_refusal *why,
                             int64_t *id)
{
    struct eb_arena *a = eb_arena_create(0);
    char to_class_path[EB_PATH_MAX], to_school_path[EB_PATH_MAX], to_bureau_path[EB_PATH_MAX];
    char from_school_path[EB_PATH_MAX], from_bureau_path[EB_PATH_MAX], day[11], due[11];
    enum eb_org_kind kind = 0;
    enum eb_role to_role = 0, from_role = 0;
    struct match_row m;
    struct eb__q q = {0};
    int64_t person_id = 0, to_school = 0, from_school = 0, to_bureau = 0, from_bureau = 0;
    int own = 0, rc, closed = 0;
    const char *text = NULL;
    memset(why, 0, sizeof(*why));
    *id = 0;
    if (!c->system && !eb__caller_has_role(c, EB_ROLE_SCHOOL_ADMIN)) {
        rc = refuse(why, EB_EDENIED, "forbidden", NULL, "only a school administrator");
        goto done;
    }
    rc = check_ident(in->student_no, in->citizen_id, in->name, why);
    if (rc != 0)
        goto done;
    if (in->date == NULL || eb_date_check(in->date, &text)) {
        rc = refuse(why, EB_EINVAL, "invalid_field", "date", in->date ? text : "required");
        goto done;
    }
    if (in->reason == NULL || in->reason[0] == '\0' || strlen(in->reason) > REASON_MAX) {
        rc = refuse(why, EB_EINVAL, "invalid_field", "reason", "1 to 200 characters");
        goto done;
    }
    /* The target class: one the caller administers as a school. */
    rc = eb__org_path(db, in->to_class_id, to_class_path, &kind);
    if (rc == 0 && !acts(c, EB_ROLE_SCHOOL_ADMIN, to_class_path))
        rc = EB_ENOTFOUND;
    if (rc != 0) {
        refuse(why, rc, "not_found", "to_class_id", "no such class");
        goto done;
    }
    if (kind != EB_ORG_CLASS) {
        rc = refuse(why, EB_EINVAL, "invalid_field", "to_class_id", "is not a class");
        goto done;
    }
    rc = org_row(db, in->to_class_id, a, NULL, NULL, &closed);
    if (rc == 0 && closed)
        rc = refuse(why, EB_EINVAL, "invalid_field", "to_class_id", "the class is closed");
    if (rc == 0)
        rc = eb__org_unit(db, to_class_path, EB_ORG_CLASS, &to_school);
    if (rc == 0)
        rc = eb__org_path(db, to_school, to_school_path, NULL);
    if (rc == 0)
        rc = bureau_of(db, to_school, &to_bureau, to_bureau_path, &to_role);
    if (rc != 0)
        goto done;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    rc = find_student(db, in->student_no, in->citizen_id, in->name, &person_id);
    if (rc == 0)
        rc = match_row(db, person_id, a, &m);
    if (rc != 0) {
        refuse(why, rc, "not_found", "student_no", "no student matches");
        goto done;
    }
    if (m.enrol_id == 0) {
        rc = refuse(why, EB_ECONFLICT, "not_a_student", NULL, "the student is not enrolled");
        goto done;
    }
    eb__q_start(db, SQL_PENDING_OF, &q);
    eb__q_int(&q, person_id);
    rc = eb__q_step(&q);
    eb__q_end(&q);
    if (rc == EB__STORE_ROW) {
        rc = refuse(why, EB_ECONFLICT, "transfer_pending", NULL,
                    "a transfer of the student is pending");
        goto done;
    }
    if (rc < 0)
        goto done;
    rc = eb__org_unit(db, m.class_path, EB_ORG_CLASS, &from_school);
    if (rc == 0)
        rc = eb__org_path(db, from_school, from_school_path, NULL);
    if (rc == 0)
        rc = bureau_of(db, from_school, &from_bureau, from_bureau_path, &from_role);
    if (rc != 0)
        goto done;
    if (from_school == to_school) {
        rc = refuse(why, EB_EINVAL, "invalid_field", "to_class_id",
                    "the student is already at this school (move classes instead)");
        goto done;
    }
    if (m.enrol_start && strcmp(in->date, m.enrol_start) < 0) {
        rc = refuse(why, EB_EINVAL, "invalid_field", "date",
                    "before the start of the student's current enrolment");
        goto done;
    }
    int same = from_bureau == to_bureau;
    int n_steps = same ? 3 : 4;
    int64_t now = eb__now_ms() / 1000, new_id = 0;
    eb__q_start(db, SQL_INSERT, &q);
    eb__q_int(&q, to_school);
    eb__q_int(&q, person_id);
    eb__q_int(&q, from_school);
    eb__q_text(&q, from_school_path);
    eb__q_int(&q, m.class_id);
    eb__q_int(&q, m.enrol_id);
    eb__q_int(&q, from_bureau);
    eb__q_int(&q, to_school);
    eb__q_text(&q, to_school_path);
    eb__q_int(&q, in->to_class_id);
    eb__q_int(&q, to_bureau);
    eb__q_text(&q, in->date);
    eb__q_text(&q, in->reason);
    eb__q_int(&q, n_steps);
    if (c->account_id)
        eb__q_int(&q, c->account_id);
    else
        eb__q_null(&q);
    eb__q_int(&q, now);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        new_id = eb__q_col_int(&q, 0);
        rc = eb__q_exec(&q);
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    /* 转入学校发起 → 转入地教育局 → 转出学校 → 转出地教育局; one bureau approves once, last,
     * when both schools answer to it: its check is the seal on the two schools' agreement. */
    struct step_plan plan[4] = {
        {"to_school", EB_ROLE_SCHOOL_ADMIN, to_school, to_school_path},
        {"to_district", to_role, to_bureau, to_bureau_path},
        {"from_school", EB_ROLE_SCHOOL_ADMIN, from_school, from_school_path},
        {"from_district", from_role, from_bureau, from_bureau_path},
    };
    if (same) {
        plan[1] = plan[2];
        plan[2] = (struct step_plan){"district", to_role, to_bureau, to_bureau_path};
    }
    today(day);
    due_after(day, EB_TRANSFER_DUE_DAYS, due);
    rc = insert_step(db, new_id, to_school, 1, &plan[0], "approved", day, NULL, now, c->account_id);
    if (rc == 0)
        rc = insert_step(db, new_id, to_school, 2, &plan[1], "pending", day, due, 0, 0);
    for (int i = 2; rc == 0 && i < n_steps; i++)
        rc = insert_step(db, new_id, to_school, i + 1, &plan[i], "waiting", NULL, NULL, 0, 0);
    if (rc != 0)
        goto done;
    json_t *j =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:i}", "id", (json_int_t)new_id, "person_id",
                  (json_int_t)person_id, "from_class_id", (json_int_t)m.class_id, "to_class_id",
                  (json_int_t)in->to_class_id, "from_enrolment_id", (json_int_t)m.enrol_id, "date",
                  in->date, "reason", in->reason, "n_steps", n_steps);
    rc = eb__audit_write(db, c, "transfer.create", "transfer", new_id, to_school_path, NULL, j);
    if (rc == 0)
        *id = new_id;
done:
    eb__q_end(&q);
    rc = eb__tx_leave(db, own, rc);
    if (rc != 0)
        *id = 0;
    eb_arena_destroy(a);
    return rc;
}

/* ---- reading ---------------------------------------------------------------------------- */

/* The transfer's private columns that reading keeps for the actions. */
struct t_extra {
    char *from_path, *to_path, *step_path;
    int64_t unit, from_enrol;
    enum eb_role step_role;
};

static void read_transfer(struct eb__q *q, struct eb_arena *a, const struct eb_caller *c,
                          const char *day, struct eb_transfer *t, struct t_extra *x)
{
    struct t_extra local;
    if (x == NULL)
        x = &local;
    memset(t, 0, sizeof(*t));
    t->id = eb__q_col_int(q, 0);
    t->person_id = eb__q_col_int(q, 1);
    t->person_name = eb__q_col_str(q, 2, a);
    t->citizen_id = eb__q_col_str(q, 3, a);
    t->student_no = eb__q_col_str(q, 4, a);
    t->from_school_id = eb__q_col_int(q, 5);
    t->from_school_name = eb__q_col_str(q, 6, a);
    t->from_class_id = eb__q_col_int(q, 7);
    t->from_class_name = eb__q_col_str(q, 8, a);
    t->from_district_id = eb__q_col_int(q, 9);
    t->from_district_name = eb__q_col_str(q, 10, a);
    t->to_school_id = eb__q_col_int(q, 11);
    t->to_school_name = eb__q_col_str(q, 12, a);
    t->to_class_id = eb__q_col_int(q, 13);
    t->to_class_name = eb__q_col_str(q, 14, a);
    t->to_district_id = eb__q_col_int(q, 15);
    t->to_district_name = eb__q_col_str(q, 16, a);
    t->date = eb__q_col_str(q, 17, a);
    t->reason = eb__q_col_str(q, 18, a);
    t->state = eb__q_col_str(q, 19, a);
    t->current_step = (int)eb__q_col_int(q, 20);
    t->n_steps = (int)eb__q_col_int(q, 21);
    t->current_kind = eb__q_col_str(q, 22, a);
    t->due_date = eb__q_col_str(q, 23, a);
    x->step_role = eb__q_col_null(q, 24) ? EB_ROLE_NONE : (enum eb_role)eb__q_col_int(q, 24);
    x->step_path = eb__q_col_str(q, 25, a);
    t->created_by = eb__q_col_null(q, 26) ? 0 : eb__q_col_int(q, 26);
    t->created_by_name = eb__q_col_str(q, 27, a);
    t->created_at = eb__q_col_int(q, 28);
    t->closed_by = eb__q_col_null(q, 29) ? 0 : eb__q_col_int(q, 29);
    t->closed_by_name = eb__q_col_str(q, 30, a);
    t->closed_at = eb__q_col_null(q, 31) ? 0 : eb__q_col_int(q, 31);
    t->close_reason = eb__q_col_str(q, 32, a);
    x->from_path = eb__q_col_str(q, COL_FROM_PATH, a);
    x->to_path = eb__q_col_str(q, COL_TO_PATH, a);
    x->unit = eb__q_col_int(q, COL_UNIT);
    x->from_enrol = eb__q_col_int(q, COL_FROM_ENROL);
    int pending = t->state && strcmp(t->state, "pending") == 0;
    if (!pending) {
        t->current_kind = NULL;
        t->due_date = NULL;
    }
    t->overdue = pending && t->due_date && strcmp(day, t->due_date) > 0;
    t->can_act = pending && x->step_path && acts(c, x->step_role, x->step_path);
    t->can_withdraw = pending && x->to_path && acts(c, EB_ROLE_SCHOOL_ADMIN, x->to_path);
}

static int load_steps(struct eb_db *db, int64_t id, int64_t unit, const char *day,
                      struct eb_arena *a, struct eb_transfer *t)
{
    struct eb__q q;
    size_t cap = 0;
    int rc;
    eb__q_start(db, SQL_STEPS, &q);
    eb__q_int(&q, id);
    eb__q_int(&q, unit);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        t->trail = eb_arena_grow(a, t->trail, t->n_trail, &cap, sizeof(*t->trail));
        if (t->trail == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_transfer_step *s = &t->trail[t->n_trail++];
        memset(s, 0, sizeof(*s));
        s->step = (int)eb__q_col_int(&q, 0);
        s->kind = eb__q_col_str(&q, 1, a);
        s->actor_role = (enum eb_role)eb__q_col_int(&q, 2);
        s->org_id = eb__q_col_int(&q, 3);
        s->org_name = eb__q_col_str(&q, 4, a);
        s->state = eb__q_col_str(&q, 5, a);
        s->opened_on = eb__q_col_str(&q, 6, a);
        s->due_date = eb__q_col_str(&q, 7, a);
        s->acted_at = eb__q_col_null(&q, 8) ? 0 : eb__q_col_int(&q, 8);
        s->account_id = eb__q_col_null(&q, 9) ? 0 : eb__q_col_int(&q, 9);
        s->account_name = eb__q_col_str(&q, 10, a);
        s->reason = eb__q_col_str(&q, 11, a);
        s->overdue = s->state && strcmp(s->state, "pending") == 0 && s->due_date &&
                     strcmp(day, s->due_date) > 0;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* Reads one transfer the caller sees; EB_ENOTFOUND otherwise. */
static int transfer_row(struct eb_db *db, const struct eb_caller *c, int64_t id, const char *day,
                        struct eb_arena *a, struct eb_transfer *t, struct t_extra *x)
{
    struct eb__q q;
    eb__q_start(db, SQL_GET, &q);
    eb__q_int(&q, id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        read_transfer(&q, a, c, day, t, x);
        rc = sees(c, x->from_path, x->to_path) ? 0 : EB_ENOTFOUND;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc != 0)
        memset(t, 0, sizeof(*t));
    return rc;
}

int eb_store_transfer_get(struct eb_db *db, const struct eb_caller *c, int64_t id,
                          struct eb_arena *a, struct eb_transfer *out)
{
    struct t_extra x;
    char day[11];
    today(day);
    int rc = transfer_row(db, c, id, day, a, out, &x);
    if (rc == 0)
        rc = load_steps(db, id, x.unit, day, a, out);
    return rc;
}

static int cmp_id(const void *l, const void *r)
{
    int64_t a = ((const struct eb_transfer *)l)->id, b = ((const struct eb_transfer *)r)->id;
    return a < b ? -1 : a > b;
}

/* Runs one list statement for one range and appends its rows. */
static int list_range(struct eb_db *db, const struct eb_caller *c, enum eb_transfer_box box,
                      enum eb_role role, const char *path, const char *state, int64_t after,
                      int limit, const char *day, struct eb_arena *a, struct eb_transfer **v,
                      size_t *n, size_t *cap)
{
    char hi[EB_PATH_MAX];
    struct eb__q q;
    int rc;
    eb__path_hi(path, hi);
    const char *st = state ? state : "";
    if (box == EB_TRANSFER_ALL) {
        eb__q_start(db, SQL_LIST_ALL, &q);
        eb__q_text(&q, path);
        eb__q_text(&q, hi);
        eb__q_text(&q, path);
        eb__q_text(&q, hi);
    } else if (box == EB_TRANSFER_OUTBOX) {
        eb__q_start(db, SQL_LIST_OUT, &q);
        eb__q_text(&q, path);
        eb__q_text(&q, hi);
    } else {
        eb__q_start(db, SQL_LIST_IN, &q);
        eb__q_int(&q, role);
        eb__q_text(&q, path);
        eb__q_text(&q, hi);
    }
    eb__q_text(&q, st);
    eb__q_text(&q, st);
    eb__q_int(&q, after);
    eb__q_int(&q, limit + 1);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        *v = eb_arena_grow(a, *v, *n, cap, sizeof(**v));
        if (*v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        read_transfer(&q, a, c, day, &(*v)[(*n)++], NULL);
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_transfer_list(struct eb_db *db, const struct eb_caller *c, enum eb_transfer_box box,
                           const char *state, int64_t after, int limit, struct eb_arena *a,
                           struct eb_transfer_list *out)
{
    struct eb_transfer *v = NULL;
    size_t n = 0, cap = 0;
    char day[11];
    int rc = 0;
    memset(out, 0, sizeof(*out));
    limit = limit < 1 ? 1 : limit > LIST_MAX ? LIST_MAX : limit;
    if (state && strcmp(state, "pending") != 0 && strcmp(state, "approved") != 0 &&
        strcmp(state, "rejected") != 0 && strcmp(state, "withdrawn") != 0)
        return EB_EINVAL;
    today(day);
    if (c->system) {
        /* The system acts on every step: its inbox is every pending transfer. */
        rc = list_range(db, c, box == EB_TRANSFER_INBOX ? EB_TRANSFER_ALL : box, 0, "/",
                        box == EB_TRANSFER_INBOX ? "pending" : state, after, limit, day, a, &v, &n,
                        &cap);
    }
    /* One range per grant; a caller holds a handful, and the union's first rows in id order
     * are among the first limit + 1 of each range. */
    for (size_t i = 0; rc == 0 && !c->system && i < c->n_grants; i++) {
        const struct eb_grant *g = &c->grants[i];
        if (box == EB_TRANSFER_INBOX ? !admin_role(g->role)
                                     : !admin_role(g->role) && g->role != EB_ROLE_ANALYST)
            continue;
        rc =
            list_range(db, c, box, g->role, g->org_path, state, after, limit, day, a, &v, &n, &cap);
    }
    if (rc != 0)
        return rc;
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_id);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || v[k - 1].id != v[i].id)
            v[k++] = v[i];
    if (k > (size_t)limit) {
        k = (size_t)limit;
        out->next = v[k - 1].id;
    }
    out->n = k;
    out->items = v;
    return 0;
}

/* ---- acting ----------------------------------------------------------------------------- */

static int exec_ok(struct eb__q *q)
{
    int rc = eb__q_exec(q);
    eb__q_end(q);
    return rc < 0 ? rc : 0;
}

static int add_event(struct eb_db *db, const struct eb_caller *c, int64_t unit, int64_t person,
                     const char *school_path, const char *kind, const char *date, int64_t class_id,
                     int64_t enrol_id, int64_t transfer_id, int64_t now)
{
    struct eb__q q;
    eb__q_start(db, SQL_EVENT_INSERT, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, person);
    eb__q_text(&q, school_path);
    eb__q_text(&q, kind);
    eb__q_text(&q, date);
    eb__q_null(&q);
    eb__q_int(&q, class_id);
    eb__q_int(&q, enrol_id);
    eb__q_int(&q, transfer_id);
    if (c->account_id)
        eb__q_int(&q, c->account_id);
    else
        eb__q_null(&q);
    eb__q_int(&q, now);
    return exec_ok(&q);
}

/* The last approval: the old enrolment ends and the new one starts on the transfer's date,
 * the person is now registered at the receiving school, and the student's own role moves. */
static int complete(struct eb_db *db, const struct eb_caller *c, const struct eb_transfer *t,
                    const struct t_extra *x, int64_t now, struct eb_refusal *why,
                    int64_t *new_enrol)
{
    char from_class[EB_PATH_MAX], to_class[EB_PATH_MAX];
    struct eb__q q;
    int rc, closed = 0;
    eb__q_start(db, SQL_CURRENT_ENROL, &q);
    eb__q_int(&q, t->person_id);
    rc = eb__q_step(&q);
    int64_t cur = rc == EB__STORE_ROW ? eb__q_col_int(&q, 0) : 0;
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    if (cur != x->from_enrol)
        return refuse(why, EB_ECONFLICT, "conflict", NULL,
                      "the student's enrolment changed since the request");
    rc = org_row(db, t->to_class_id, NULL, NULL, NULL, &closed);
    if (rc == 0 && closed)
        return refuse(why, EB_ECONFLICT, "conflict", "to_class_id", "the class was closed");
    if (rc == 0)
        rc = eb__org_path(db, t->from_class_id, from_class, NULL);
    if (rc == 0)
        rc = eb__org_path(db, t->to_class_id, to_class, NULL);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_ENROL_END, &q);
    eb__q_text(&q, t->date);
    eb__q_int(&q, cur);
    rc = exec_ok(&q);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_ENROL_INSERT, &q);
    eb__q_int(&q, t->to_school_id);
    eb__q_int(&q, t->person_id);
    eb__q_int(&q, t->to_class_id);
    eb__q_text(&q, to_class);
    eb__q_text(&q, t->date);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *new_enrol = eb__q_col_int(&q, 0);
        rc = eb__q_exec(&q);
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    eb__q_start(db, SQL_PERSON_MOVE, &q);
    eb__q_int(&q, t->to_school_id);
    eb__q_int(&q, t->to_school_id);
    eb__q_text(&q, x->to_path);
    eb__q_int(&q, t->person_id);
    rc = exec_ok(&q);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_GRANT_MOVE, &q);
    eb__q_int(&q, t->to_class_id);
    eb__q_text(&q, to_class);
    eb__q_int(&q, EB_ROLE_STUDENT);
    eb__q_int(&q, t->from_class_id);
    eb__q_int(&q, t->person_id);
    rc = exec_ok(&q);
    if (rc == 0)
        rc = add_event(db, c, t->from_school_id, t->person_id, x->from_path, "transfer_out",
                       t->date, t->from_class_id, cur, t->id, now);
    if (rc == 0)
        rc = add_event(db, c, t->to_school_id, t->person_id, x->to_path, "transfer_in", t->date,
                       t->to_class_id, *new_enrol, t->id, now);
    if (rc != 0)
        return rc;
    /* Both schools' audit logs hold the move, each with the half it lost or gained. */
    json_t *out_j = json_pack("{s:I, s:I, s:s}", "transfer_id", (json_int_t)t->id, "enrolment_id",
                              (json_int_t)cur, "end_date", t->date);
    json_t *in_j = json_pack("{s:I, s:I, s:I, s:s}", "transfer_id", (json_int_t)t->id,
                             "enrolment_id", (json_int_t)*new_enrol, "class_id",
                             (json_int_t)t->to_class_id, "start_date", t->date);
    rc = eb__audit_write(db, c, "transfer.move_out", "person", t->person_id, from_class, NULL,
                         out_j);
    if (rc == 0)
        rc = eb__audit_write(db, c, "transfer.move_in", "person", t->person_id, to_class, NULL,
                             in_j);
    if (rc == 0)
        rc = eb__org_changed(db, c, from_class);
    if (rc == 0)
        rc = eb__org_changed(db, c, to_class);
    return rc;
}

int eb_store_transfer_act(struct eb_db *db, const struct eb_caller *c, int64_t id,
                          enum eb_transfer_action action, const char *reason,
                          struct eb_refusal *why)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb_transfer t;
    struct t_extra x;
    struct eb__q q = {0};
    char day[11], due[11];
    int own = 0, rc;
    int64_t new_enrol = 0, now = eb__now_ms() / 1000;
    memset(why, 0, sizeof(*why));
    if (reason != NULL && (reason[0] == '\0' || strlen(reason) > REASON_MAX)) {
        rc = refuse(why, EB_EINVAL, "invalid_field", "reason", "1 to 200 characters");
        goto done;
    }
    today(day);
    rc = eb__tx_enter(db, c, &own);
    if (rc == 0)
        rc = transfer_row(db, c, id, day, a, &t, &x);
    if (rc != 0) {
        refuse(why, rc, "not_found", NULL, NULL);
        goto done;
    }
    if (strcmp(t.state, "pending") != 0) {
        rc = refuse(why, EB_ECONFLICT, "transfer_closed", NULL, "the transfer is closed");
        goto done;
    }
    if (action == EB_TRANSFER_WITHDRAW ? !t.can_withdraw : !t.can_act) {
        rc = refuse(why, EB_EDENIED, "forbidden", NULL,
                    action == EB_TRANSFER_WITHDRAW ? "only the receiving school withdraws"
                                                   : "another office acts on this step");
        goto done;
    }
    if (action == EB_TRANSFER_REJECT && reason == NULL) {
        rc = refuse(why, EB_EINVAL, "invalid_field", "reason", "required to reject");
        goto done;
    }
    const char *audit_path = x.step_path;
    const char *action_name = "transfer.approve";
    if (action == EB_TRANSFER_WITHDRAW) {
        audit_path = x.to_path;
        action_name = "transfer.withdraw";
    } else {
        eb__q_start(db, SQL_STEP_ACT, &q);
        eb__q_text(&q, action == EB_TRANSFER_APPROVE ? "approved" : "rejected");
        eb__q_int(&q, now);
        if (c->account_id)
            eb__q_int(&q, c->account_id);
        else
            eb__q_null(&q);
        eb__q_text(&q, reason);
        eb__q_int(&q, id);
        eb__q_int(&q, x.unit);
        eb__q_int(&q, t.current_step);
        rc = exec_ok(&q);
        if (rc != 0)
            goto done;
        if (action == EB_TRANSFER_REJECT)
            action_name = "transfer.reject";
    }
    const char *new_state = NULL;
    if (action == EB_TRANSFER_APPROVE && t.current_step < t.n_steps) {
        /* The next office's turn starts today, with its own deadline. */
        due_after(day, EB_TRANSFER_DUE_DAYS, due);
        eb__q_start(db, SQL_STEP_OPEN, &q);
        eb__q_text(&q, day);
        eb__q_text(&q, due);
        eb__q_int(&q, id);
        eb__q_int(&q, x.unit);
        eb__q_int(&q, t.current_step + 1);
        rc = exec_ok(&q);
        if (rc == 0) {
            eb__q_start(db, SQL_ADVANCE, &q);
            eb__q_int(&q, t.current_step + 1);
            eb__q_int(&q, id);
            eb__q_int(&q, x.unit);
            eb__q_int(&q, t.current_step);
            rc = exec_ok(&q);
        }
    } else {
        if (action == EB_TRANSFER_APPROVE) {
            new_state = "approved";
            rc = complete(db, c, &t, &x, now, why, &new_enrol);
        } else {
            new_state = action == EB_TRANSFER_REJECT ? "rejected" : "withdrawn";
            eb__q_start(db, SQL_STEPS_CANCEL, &q);
            eb__q_int(&q, id);
            eb__q_int(&q, x.unit);
            rc = exec_ok(&q);
        }
        if (rc == 0) {
            eb__q_start(db, SQL_CLOSE, &q);
            eb__q_text(&q, new_state);
            eb__q_int(&q, now);
            if (c->account_id)
                eb__q_int(&q, c->account_id);
            else
                eb__q_null(&q);
            eb__q_text(&q, action == EB_TRANSFER_APPROVE ? NULL : reason);
            if (new_enrol)
                eb__q_int(&q, new_enrol);
            else
                eb__q_null(&q);
            eb__q_int(&q, id);
            eb__q_int(&q, x.unit);
            rc = exec_ok(&q);
        }
    }
    if (rc != 0)
        goto done;
    json_t *before = json_pack("{s:s, s:i}", "state", t.state, "step", t.current_step);
    json_t *after = json_pack("{s:s, s:i, s:s?}", "state", new_state ? new_state : "pending",
                              "step", new_state ? 0 : t.current_step + 1, "reason", reason);
    rc = eb__audit_write(db, c, action_name, "transfer", id, audit_path, before, after);
done:
    eb__q_end(&q);
    rc = eb__tx_leave(db, own, rc);
    eb_arena_destroy(a);
    return rc;
}
