/* Student lifecycle (学籍状态): admission, suspension and return, withdrawal, death, graduation. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "registry/registry_ids.h"

static const char SQL_PERSON_ROW[] = "SELECT kind, school_id FROM people WHERE id = ?";
static const char SQL_CURRENT_ENROL[] =
    "SELECT e.id, e.class_id, e.class_path, e.start_date, o.name FROM enrolments e"
    " JOIN orgs o ON o.id = e.class_id WHERE e.person_id = ? AND e.end_date IS NULL";
static const char SQL_LAST_EVENT[] =
    "SELECT status, event_date, expected_return FROM student_status_events WHERE person_id = ?"
    " ORDER BY id DESC LIMIT 1";
static const char SQL_PENDING_TRANSFER[] =
    "SELECT id FROM transfers WHERE person_id = ? AND state = 'pending' LIMIT 1";
static const char SQL_ENROL_END[] =
    "UPDATE enrolments SET end_date = ? WHERE id = ? AND end_date IS NULL";
static const char SQL_ENROL_INSERT[] =
    "INSERT INTO enrolments (school_id, person_id, class_id, class_path, start_date)"
    " VALUES (?, ?, ?, ?, ?) RETURNING id";
static const char SQL_CLASS_CLOSED[] = "SELECT closed_on FROM orgs WHERE id = ?";
static const char SQL_EVENT_INSERT[] =
    "INSERT INTO student_status_events (school_id, person_id, school_path, kind, status,"
    " event_date, expected_return, reason, class_id, enrolment_id, transfer_id, account_id,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?) RETURNING id";
static const char SQL_EVENTS_OF[] =
    "SELECT ev.id, ev.school_id, s.name, ev.kind, ev.status, ev.event_date, ev.expected_return,"
    " ev.reason, ev.class_id, c.name, ev.transfer_id, ev.account_id, a.display_name,"
    " ev.created_at FROM student_status_events ev JOIN orgs s ON s.id = ev.school_id"
    " LEFT JOIN orgs c ON c.id = ev.class_id LEFT JOIN accounts a ON a.id = ev.account_id"
    " WHERE ev.person_id = ? ORDER BY ev.id";

/* Reasons are a sentence or two: 200 Chinese characters take 600 bytes. */
#define REASON_MAX 600

static const char *const status_names[] = {"none",      "enrolled", "suspended",
                                           "withdrawn", "deceased", "graduated"};
static const char *const kind_names[] = {NULL,         "admission",    "suspension",
                                         "return",     "withdrawal",   "death",
                                         "graduation", "transfer_out", "transfer_in"};

const char *eb_student_status_name(enum eb_student_status s)
{
    return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : NULL;
}

const char *eb_status_kind_name(enum eb_status_kind k)
{
    return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : NULL;
}

enum eb_status_kind eb_status_kind_parse(const char *name)
{
    for (size_t i = 1; name != NULL && i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
        if (strcmp(kind_names[i], name) == 0)
            return (enum eb_status_kind)i;
    return 0;
}

static enum eb_student_status status_parse(const char *s)
{
    for (size_t i = 0; s != NULL && i < sizeof(status_names) / sizeof(status_names[0]); i++)
        if (strcmp(status_names[i], s) == 0)
            return (enum eb_student_status)i;
    return EB_STUDENT_NONE;
}

/* What the store knows of a student now, read inside the caller's transaction. */
struct student_now {
    char kind[16];
    int64_t school_id; /* the registering school (people.school_id) */
    int64_t enrol_id, class_id;
    char class_path[EB_PATH_MAX];
    char *enrol_start, *class_name;
    enum eb_student_status status;
    char *since, *expected_return, *last_date;
    int64_t pending_transfer;
};

static int load_now(struct eb_db *db, int64_t person_id, struct eb_arena *a, struct student_now *s)
{
    struct eb__q q;
    int rc;
    memset(s, 0, sizeof(*s));
    eb__q_start(db, SQL_PERSON_ROW, &q);
    eb__q_int(&q, person_id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        const char *k = q.db->be->col_text(q.stmt, 0, NULL);
        snprintf(s->kind, sizeof(s->kind), "%s", k ? k : "");
        s->school_id = eb__q_col_int(&q, 1);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_CURRENT_ENROL, &q);
    eb__q_int(&q, person_id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        size_t len = 0;
        const char *p = q.db->be->col_text(q.stmt, 2, &len);
        s->enrol_id = eb__q_col_int(&q, 0);
        s->class_id = eb__q_col_int(&q, 1);
        if (p != NULL && len < EB_PATH_MAX) {
            memcpy(s->class_path, p, len);
            s->class_path[len] = '\0';
        }
        s->enrol_start = eb__q_col_str(&q, 3, a);
        s->class_name = eb__q_col_str(&q, 4, a);
        rc = 0;
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    eb__q_start(db, SQL_LAST_EVENT, &q);
    eb__q_int(&q, person_id);
    rc = eb__q_step(&q);
    enum eb_student_status last = EB_STUDENT_NONE;
    if (rc == EB__STORE_ROW) {
        last = status_parse(q.db->be->col_text(q.stmt, 0, NULL));
        s->last_date = eb__q_col_str(&q, 1, a);
        s->expected_return = eb__q_col_str(&q, 2, a);
        rc = 0;
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    /* The enrolment is the truth of 在籍 (an enrolment written through the plain enrolment
     * routes counts); an event explains why a student is not enrolled. Death is final. */
    if (last == EB_STUDENT_DECEASED) {
        s->status = last;
        s->since = s->last_date;
    } else if (s->enrol_id != 0) {
        s->status = EB_STUDENT_ENROLLED;
        s->since = s->last_date && last == EB_STUDENT_ENROLLED ? s->last_date : s->enrol_start;
        s->expected_return = NULL;
    } else if (last == EB_STUDENT_ENROLLED || last == EB_STUDENT_NONE) {
        /* The enrolment was ended outside the lifecycle: nothing says why. */
        s->status = EB_STUDENT_NONE;
        s->since = NULL;
        s->expected_return = NULL;
    } else {
        s->status = last;
        s->since = s->last_date;
    }
    if (s->status != EB_STUDENT_SUSPENDED)
        s->expected_return = NULL;
    eb__q_start(db, SQL_PENDING_TRANSFER, &q);
    eb__q_int(&q, person_id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        s->pending_transfer = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb_store_student_status(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                            struct eb_arena *a, struct eb_student_state *out, size_t *n,
                            struct eb_status_event **events)
{
    struct student_now s;
    struct eb__q q = {0};
    struct eb_status_event *v = NULL;
    size_t cap = 0;
    memset(out, 0, sizeof(*out));
    *n = 0;
    *events = NULL;
    int rc = eb__person_check(db, c, person_id, EB_ACCESS_READ, NULL);
    if (rc == 0)
        rc = load_now(db, person_id, a, &s);
    if (rc != 0)
        return rc;
    if (strcmp(s.kind, "student") != 0)
        return EB_EINVAL;
    out->status = s.status;
    out->since = s.since;
    out->expected_return = s.expected_return;
    out->enrolment_id = s.enrol_id;
    out->class_id = s.class_id;
    out->class_name = s.class_name;
    out->school_id = s.school_id;
    out->pending_transfer_id = s.pending_transfer;
    eb__q_start(db, SQL_EVENTS_OF, &q);
    eb__q_int(&q, person_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        struct eb_status_event *e = &v[(*n)++];
        memset(e, 0, sizeof(*e));
        e->id = eb__q_col_int(&q, 0);
        e->person_id = person_id;
        e->school_id = eb__q_col_int(&q, 1);
        e->school_name = eb__q_col_str(&q, 2, a);
        e->kind = eb_status_kind_parse(q.db->be->col_text(q.stmt, 3, NULL));
        e->status = status_parse(q.db->be->col_text(q.stmt, 4, NULL));
        e->date = eb__q_col_str(&q, 5, a);
        e->expected_return = eb__q_col_str(&q, 6, a);
        e->reason = eb__q_col_str(&q, 7, a);
        e->class_id = eb__q_col_null(&q, 8) ? 0 : eb__q_col_int(&q, 8);
        e->class_name = eb__q_col_str(&q, 9, a);
        e->transfer_id = eb__q_col_null(&q, 10) ? 0 : eb__q_col_int(&q, 10);
        e->account_id = eb__q_col_null(&q, 11) ? 0 : eb__q_col_int(&q, 11);
        e->account_name = eb__q_col_str(&q, 12, a);
        e->created_at = eb__q_col_int(&q, 13);
    }
    eb__q_end(&q);
    if (rc < 0) {
        *n = 0;
        return rc;
    }
    *events = v;
    return 0;
}

static int refuse(struct eb_refusal *why, int rc, const char *code, const char *field,
                  const char *text)
{
    why->code = code;
    why->field = field;
    why->why = text;
    return rc;
}

/* The statuses each kind may start from (bits of 1 << enum eb_student_status). */
static unsigned allowed_from(enum eb_status_kind k)
{
    switch (k) {
    case EB_STATUS_ADMISSION:
        return 1u << EB_STUDENT_NONE | 1u << EB_STUDENT_WITHDRAWN | 1u << EB_STUDENT_GRADUATED;
    case EB_STATUS_SUSPENSION:
    case EB_STATUS_GRADUATION:
        return 1u << EB_STUDENT_ENROLLED;
    case EB_STATUS_RETURN:
        return 1u << EB_STUDENT_SUSPENDED;
    case EB_STATUS_WITHDRAWAL:
        return 1u << EB_STUDENT_ENROLLED | 1u << EB_STUDENT_SUSPENDED;
    case EB_STATUS_DEATH:
        return ~(1u << EB_STUDENT_DECEASED);
    default:
        return 0;
    }
}

static enum eb_student_status status_after(enum eb_status_kind k)
{
    switch (k) {
    case EB_STATUS_SUSPENSION:
        return EB_STUDENT_SUSPENDED;
    case EB_STATUS_WITHDRAWAL:
        return EB_STUDENT_WITHDRAWN;
    case EB_STATUS_DEATH:
        return EB_STUDENT_DECEASED;
    case EB_STATUS_GRADUATION:
        return EB_STUDENT_GRADUATED;
    default:
        return EB_STUDENT_ENROLLED;
    }
}

/* Input checks that need no database. */
static int check_change(const struct eb_status_change *in, struct eb_refusal *why)
{
    const char *text = NULL;
    if (in->kind < EB_STATUS_ADMISSION || in->kind > EB_STATUS_GRADUATION)
        return refuse(why, EB_EINVAL, "invalid_field", "kind",
                      "admission, suspension, return, withdrawal, death or graduation");
    if (in->date == NULL)
        return refuse(why, EB_EINVAL, "invalid_field", "date", "required");
    if (eb_date_check(in->date, &text))
        return refuse(why, EB_EINVAL, "invalid_field", "date", text);
    int needs_reason = in->kind == EB_STATUS_SUSPENSION || in->kind == EB_STATUS_WITHDRAWAL ||
                       in->kind == EB_STATUS_DEATH;
    if (in->reason != NULL && strlen(in->reason) > REASON_MAX)
        return refuse(why, EB_EINVAL, "invalid_field", "reason", "at most 200 characters");
    if (needs_reason && (in->reason == NULL || in->reason[0] == '\0'))
        return refuse(why, EB_EINVAL, "invalid_field", "reason", "required for this change");
    if (in->kind == EB_STATUS_SUSPENSION) {
        if (in->expected_return == NULL)
            return refuse(why, EB_EINVAL, "invalid_field", "expected_return",
                          "required for a suspension");
        if (eb_date_check(in->expected_return, &text))
            return refuse(why, EB_EINVAL, "invalid_field", "expected_return", text);
        if (strcmp(in->expected_return, in->date) <= 0)
            return refuse(why, EB_EINVAL, "invalid_field", "expected_return",
                          "must be after the date of the suspension");
    } else if (in->expected_return != NULL) {
        return refuse(why, EB_EINVAL, "invalid_field", "expected_return", "only for a suspension");
    }
    int needs_class = in->kind == EB_STATUS_ADMISSION || in->kind == EB_STATUS_RETURN;
    if (needs_class && in->class_id <= 0)
        return refuse(why, EB_EINVAL, "invalid_field", "class_id",
                      "required for an admission or a return");
    if (!needs_class && in->class_id != 0)
        return refuse(why, EB_EINVAL, "invalid_field", "class_id",
                      "only for an admission or a return");
    return 0;
}

/* A new enrolment in class_id, which must be an open class of the school at school_path that
 * the caller may write. */
static int enrol_in(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                    int64_t class_id, const char *school_path, const char *date,
                    struct eb_refusal *why, char class_path[EB_PATH_MAX], int64_t *enrol_id)
{
    enum eb_org_kind kind = 0;
    struct eb__q q;
    int rc = eb__org_path(db, class_id, class_path, &kind);
    if (rc == 0 && !eb_caller_allows(c, class_path, EB_ACCESS_WRITE))
        rc = EB_ENOTFOUND;
    if (rc != 0)
        return refuse(why, rc, "not_found", "class_id", "no such class");
    if (kind != EB_ORG_CLASS)
        return refuse(why, EB_EINVAL, "invalid_field", "class_id", "is not a class");
    if (!eb__path_within(class_path, school_path))
        return refuse(why, EB_EINVAL, "invalid_field", "class_id",
                      "is not a class of the student's school (use a transfer)");
    eb__q_start(db, SQL_CLASS_CLOSED, &q);
    eb__q_int(&q, class_id);
    rc = eb__q_step(&q);
    int closed = rc == EB__STORE_ROW && !eb__q_col_null(&q, 0);
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    if (closed)
        return refuse(why, EB_EINVAL, "invalid_field", "class_id", "the class is closed");
    int64_t unit = 0;
    rc = eb__org_unit(db, class_path, EB_ORG_CLASS, &unit);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_ENROL_INSERT, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, person_id);
    eb__q_int(&q, class_id);
    eb__q_text(&q, class_path);
    eb__q_text(&q, date);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *enrol_id = eb__q_col_int(&q, 0);
        rc = eb__q_exec(&q);
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    /* The partial unique index: someone enrolled the student meanwhile. */
    if (rc == EB_EEXIST)
        return refuse(why, EB_ECONFLICT, "invalid_transition", NULL, "already enrolled");
    return rc < 0 ? rc : 0;
}

static json_t *str_or_null(const char *v)
{
    return v != NULL ? json_string(v) : json_null();
}

static json_t *state_json(const struct student_now *s)
{
    json_t *j = json_object();
    json_object_set_new(j, "status", json_string(eb_student_status_name(s->status)));
    json_object_set_new(j, "enrolment_id", s->enrol_id ? json_integer(s->enrol_id) : json_null());
    json_object_set_new(j, "class_id", s->class_id ? json_integer(s->class_id) : json_null());
    return j;
}

int eb_store_student_status_change(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                                   const struct eb_status_change *in, struct eb_refusal *why,
                                   int64_t *event_id)
{
    struct eb_arena *a = eb_arena_create(0);
    char org_path[EB_PATH_MAX], school_path[EB_PATH_MAX], class_path[EB_PATH_MAX] = "";
    struct student_now s;
    struct eb__q q = {0};
    int own = 0, rc;
    int64_t new_enrol = 0;
    memset(why, 0, sizeof(*why));
    *event_id = 0;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    /* Scope first: a student outside it answers like a missing one, whatever the input. */
    rc = eb__person_check(db, c, person_id, EB_ACCESS_WRITE, org_path);
    if (rc != 0) {
        refuse(why, rc, "not_found", NULL, NULL);
        goto done;
    }
    rc = check_change(in, why);
    if (rc == 0)
        rc = load_now(db, person_id, a, &s);
    if (rc != 0)
        goto done;
    if (strcmp(s.kind, "student") != 0) {
        rc = refuse(why, EB_EINVAL, "not_a_student", NULL, "the person is not a student");
        goto done;
    }
    if (s.pending_transfer != 0) {
        rc = refuse(why, EB_ECONFLICT, "transfer_pending", NULL,
                    "a transfer of the student is pending");
        goto done;
    }
    if (!(allowed_from(in->kind) & 1u << s.status)) {
        rc = refuse(why, EB_ECONFLICT, "invalid_transition", "kind",
                    "the student's current status does not allow this change");
        goto done;
    }
    if ((s.last_date && strcmp(in->date, s.last_date) < 0) ||
        (s.enrol_id && s.enrol_start && strcmp(in->date, s.enrol_start) < 0)) {
        rc = refuse(why, EB_EINVAL, "invalid_field", "date",
                    "before the student's last change of status or enrolment");
        goto done;
    }
    rc = eb__org_path(db, s.school_id, school_path, NULL);
    if (rc != 0)
        goto done;
    enum eb_student_status after = status_after(in->kind);
    int64_t old_enrol = s.enrol_id, old_class = s.class_id;
    if (s.enrol_id != 0 && after != EB_STUDENT_ENROLLED) {
        eb__q_start(db, SQL_ENROL_END, &q);
        eb__q_text(&q, in->date);
        eb__q_int(&q, s.enrol_id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        if (rc < 0)
            goto done;
        rc = eb__org_changed(db, c, s.class_path);
        if (rc != 0)
            goto done;
    }
    if (after == EB_STUDENT_ENROLLED) {
        rc = enrol_in(db, c, person_id, in->class_id, school_path, in->date, why, class_path,
                      &new_enrol);
        if (rc == 0)
            rc = eb__org_changed(db, c, class_path);
        if (rc != 0)
            goto done;
    }
    eb__q_start(db, SQL_EVENT_INSERT, &q);
    eb__q_int(&q, s.school_id);
    eb__q_int(&q, person_id);
    eb__q_text(&q, school_path);
    eb__q_text(&q, eb_status_kind_name(in->kind));
    eb__q_text(&q, eb_student_status_name(after));
    eb__q_text(&q, in->date);
    eb__q_text(&q, in->expected_return);
    eb__q_text(&q, in->reason && in->reason[0] ? in->reason : NULL);
    int64_t ev_class = new_enrol ? in->class_id : old_class;
    if (ev_class)
        eb__q_int(&q, ev_class);
    else
        eb__q_null(&q);
    if (new_enrol || old_enrol)
        eb__q_int(&q, new_enrol ? new_enrol : old_enrol);
    else
        eb__q_null(&q);
    if (c->account_id)
        eb__q_int(&q, c->account_id);
    else
        eb__q_null(&q);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *event_id = eb__q_col_int(&q, 0);
        rc = eb__q_exec(&q);
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    rc = 0;
    if (!eb__audit_skip(c)) {
        json_t *before = state_json(&s);
        json_t *aj = json_object();
        json_object_set_new(aj, "event_id", json_integer(*event_id));
        json_object_set_new(aj, "kind", json_string(eb_status_kind_name(in->kind)));
        json_object_set_new(aj, "status", json_string(eb_student_status_name(after)));
        json_object_set_new(aj, "date", json_string(in->date));
        json_object_set_new(aj, "reason", str_or_null(in->reason));
        json_object_set_new(aj, "expected_return", str_or_null(in->expected_return));
        json_object_set_new(aj, "ended_enrolment_id",
                            old_enrol && after != EB_STUDENT_ENROLLED ? json_integer(old_enrol)
                                                                      : json_null());
        json_object_set_new(aj, "enrolment_id", new_enrol ? json_integer(new_enrol) : json_null());
        json_object_set_new(aj, "class_id", new_enrol ? json_integer(in->class_id) : json_null());
        char action[40];
        snprintf(action, sizeof(action), "student.%s", eb_status_kind_name(in->kind));
        rc = eb__audit_write(db, c, action, "person", person_id, org_path, before, aj);
    }
done:
    eb__q_end(&q);
    rc = eb__tx_leave(db, own, rc);
    if (rc != 0)
        *event_id = 0;
    eb_arena_destroy(a);
    return rc;
}

int eb_store_student_graduate(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                              const char *date)
{
    struct eb_status_change in = {.kind = EB_STATUS_GRADUATION, .date = date};
    struct eb_refusal why;
    int64_t event_id = 0;
    return eb_store_student_status_change(db, c, person_id, &in, &why, &event_id);
}
