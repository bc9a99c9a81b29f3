/* Handlers for transfers between schools (转学): lookup, request, inbox, steps, Excel. */
#include "registry/registry.h"
#include "registry/registry_ids.h"
#include "registry/registry_int.h"
#include "export/xlsx.h"
#include "core/err.h"
#include "json/json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define PAGE       500
#define PAGE_ARENA (8u << 20)

static void place(struct eb_jw *w, const char *key, int64_t school, const char *school_name,
                  int64_t cls, const char *class_name, int64_t district, const char *district_name)
{
    eb_jw_key(w, key);
    eb_jw_obj_begin(w);
    eb_jw_kref(w, "school", school, school_name);
    eb_jw_kref(w, "class", cls, class_name);
    eb_jw_kref(w, "district", district, district_name);
    eb_jw_obj_end(w);
}

static void account_ref(struct eb_jw *w, const char *key, int64_t id, const char *name)
{
    if (id) {
        eb_jw_kref(w, key, id, name);
    } else {
        eb_jw_key(w, key);
        eb_jw_null(w);
    }
}

static void transfer_fields(struct eb_jw *w, const struct eb_transfer *t)
{
    eb_jw_kint(w, "id", t->id);
    eb_jw_kstr(w, "state", t->state);
    eb_jw_kint(w, "current_step", t->current_step);
    eb_jw_kint(w, "n_steps", t->n_steps);
    eb_jw_kstr(w, "current_kind", t->current_kind);
    eb_jw_kstr(w, "due_date", t->due_date);
    eb_jw_kbool(w, "overdue", t->overdue);
    eb_jw_kbool(w, "can_act", t->can_act);
    eb_jw_kbool(w, "can_withdraw", t->can_withdraw);
    eb_jw_key(w, "student");
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "id", t->person_id);
    eb_jw_kstr(w, "name", t->person_name);
    eb_jw_kstr(w, "citizen_id", t->citizen_id);
    eb_jw_kstr(w, "student_no", t->student_no);
    eb_jw_obj_end(w);
    place(w, "from", t->from_school_id, t->from_school_name, t->from_class_id, t->from_class_name,
          t->from_district_id, t->from_district_name);
    place(w, "to", t->to_school_id, t->to_school_name, t->to_class_id, t->to_class_name,
          t->to_district_id, t->to_district_name);
    eb_jw_kstr(w, "date", t->date);
    eb_jw_kstr(w, "reason", t->reason);
    account_ref(w, "created_by", t->created_by, t->created_by_name);
    eb_jw_kint(w, "created_at", t->created_at);
    account_ref(w, "closed_by", t->closed_by, t->closed_by_name);
    eb_jw_key(w, "closed_at");
    if (t->closed_at)
        eb_jw_int(w, t->closed_at);
    else
        eb_jw_null(w);
    eb_jw_kstr(w, "close_reason", t->close_reason);
}

static void step_object(struct eb_jw *w, const struct eb_transfer_step *s)
{
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "step", s->step);
    eb_jw_kstr(w, "kind", s->kind);
    eb_jw_kstr(w, "actor_role", eb_role_name(s->actor_role));
    eb_jw_kref(w, "org", s->org_id, s->org_name);
    eb_jw_kstr(w, "state", s->state);
    eb_jw_kstr(w, "opened_on", s->opened_on);
    eb_jw_kstr(w, "due_date", s->due_date);
    eb_jw_kbool(w, "overdue", s->overdue);
    eb_jw_key(w, "acted_at");
    if (s->acted_at)
        eb_jw_int(w, s->acted_at);
    else
        eb_jw_null(w);
    account_ref(w, "by", s->account_id, s->account_name);
    eb_jw_kstr(w, "reason", s->reason);
    eb_jw_obj_end(w);
}

static int send_transfer(struct eb_req *r, int status, int64_t id)
{
    struct eb_transfer t;
    int rc = eb_store_transfer_get(r->db, &r->caller, id, r->arena, &t);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, status, &w);
    eb_jw_obj_begin(&w);
    transfer_fields(&w, &t);
    eb_jw_key(&w, "steps");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < t.n_trail; i++)
        step_object(&w, &t.trail[i]);
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

/* Upper-cases a trailing x of a citizen ID as typed (stored upper case). */
static const char *cid_upper(struct eb_req *r, const char *cid)
{
    if (cid == NULL)
        return NULL;
    char *up = eb_arena_strdup(r->arena, cid);
    size_t n = up ? strlen(up) : 0;
    if (n && up[n - 1] == 'x')
        up[n - 1] = 'X';
    return up;
}

/* Checks the identification members; 1 when a 400 was set. */
static int read_ident(struct eb_req *r, const char **sno, const char **cid, const char **name)
{
    const char *why = NULL;
    *sno = eb_json_str(r->json, "student_no");
    *cid = cid_upper(r, eb_json_str(r->json, "citizen_id"));
    *name = eb_json_str(r->json, "name");
    if ((*sno == NULL) == (*cid == NULL))
        return eb__registry_bad_field(r, "student_no",
                                      "give either the student number or the citizen ID"),
               1;
    if (*sno && eb_student_no_check(*sno, &why))
        return eb__registry_bad_field(r, "student_no", why), 1;
    if (*cid && eb_citizen_id_check(*cid, &why))
        return eb__registry_bad_field(r, "citizen_id", why), 1;
    return 0;
}

/* Only school administrators look students up and start transfers; the role is checked before
 * the body so that other callers learn nothing from validation. */
static int school_admin(const struct eb_req *r)
{
    if (r->caller.system)
        return 1;
    for (size_t i = 0; i < r->caller.n_grants; i++)
        if (r->caller.grants[i].role == EB_ROLE_SCHOOL_ADMIN)
            return 1;
    return 0;
}

int eb_registry_transfer_lookup(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"student_no", EB_JSON_STRING, 0, 1, 19},
        {"citizen_id", EB_JSON_STRING, 0, 1, 18},
        {"name", EB_JSON_STRING, 1, 0, 60},
    };
    const char *why = NULL, *sno, *cid, *name;
    if (!school_admin(r))
        return eb_http_fail(r, EB_EDENIED, NULL);
    if (eb_json_check(r->json, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    if (read_ident(r, &sno, &cid, &name))
        return 0;
    struct eb_student_match m;
    int rc = eb_store_transfer_lookup(r->db, &r->caller, sno, cid, name, r->arena, &m);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kstr(&w, "name", m.name);
    eb_jw_kstr(&w, "citizen_id", m.citizen_id);
    eb_jw_kstr(&w, "student_no", m.student_no);
    eb_jw_kstr(&w, "school_name", m.school_name);
    eb_jw_kstr(&w, "class_name", m.class_name);
    eb_jw_kstr(&w, "status", eb_student_status_name(m.status));
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

int eb_registry_transfer_create(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"student_no", EB_JSON_STRING, 0, 1, 19}, {"citizen_id", EB_JSON_STRING, 0, 1, 18},
        {"name", EB_JSON_STRING, 1, 0, 60},       {"to_class_id", EB_JSON_INT, 1, 0, 0},
        {"date", EB_JSON_STRING, 1, 0, 10},       {"reason", EB_JSON_STRING, 1, 0, 600},
    };
    const char *why = NULL;
    if (!school_admin(r))
        return eb_http_fail(r, EB_EDENIED, NULL);
    if (eb_json_check(r->json, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_transfer_request in = {0};
    if (read_ident(r, &in.student_no, &in.citizen_id, &in.name))
        return 0;
    if (eb__registry_check_date(r, "date", 1))
        return 0;
    eb_json_int(r->json, "to_class_id", &in.to_class_id);
    in.date = eb_json_str(r->json, "date");
    in.reason = eb_json_str(r->json, "reason");
    struct eb_refusal refusal;
    int64_t id = 0;
    int rc = eb_store_transfer_create(r->db, &r->caller, &in, &refusal, &id);
    if (rc)
        return eb__registry_refused(r, rc, &refusal);
    return send_transfer(r, 201, id);
}

/* Reads ?box= and ?state=; 1 when a 400 was set. */
static int list_args(struct eb_req *r, enum eb_transfer_box *box, const char **state)
{
    const char *b = eb_http_query(r, "box");
    *state = eb_http_query(r, "state");
    if (*state && (*state)[0] == '\0')
        *state = NULL;
    if (b == NULL || strcmp(b, "all") == 0)
        *box = EB_TRANSFER_ALL;
    else if (strcmp(b, "inbox") == 0)
        *box = EB_TRANSFER_INBOX;
    else if (strcmp(b, "outbox") == 0)
        *box = EB_TRANSFER_OUTBOX;
    else
        return eb_http_error(r, 400, "bad_request", "box must be inbox, outbox or all"), 1;
    if (*state && strcmp(*state, "pending") != 0 && strcmp(*state, "approved") != 0 &&
        strcmp(*state, "rejected") != 0 && strcmp(*state, "withdrawn") != 0)
        return eb_http_error(r, 400, "bad_request",
                             "state must be pending, approved, rejected or withdrawn"),
               1;
    return 0;
}

int eb_registry_transfer_list(struct eb_req *r)
{
    enum eb_transfer_box box;
    const char *state;
    int64_t after;
    int limit;
    if (list_args(r, &box, &state))
        return 0;
    if (eb_registry_page_args(r, &after, &limit))
        return eb_http_error(r, 400, "bad_request", "after/limit");
    struct eb_transfer_list list;
    int rc = eb_store_transfer_list(r->db, &r->caller, box, state, after, limit, r->arena, &list);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_registry_page_begin(&w);
    for (size_t i = 0; i < list.n; i++) {
        eb_jw_obj_begin(&w);
        transfer_fields(&w, &list.items[i]);
        eb_jw_obj_end(&w);
    }
    eb_registry_page_end(&w, list.next);
    return eb_http_stream_end(r, &w);
}

int eb_registry_transfer_get(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    return send_transfer(r, 200, id);
}

static int act(struct eb_req *r, enum eb_transfer_action action)
{
    static const struct eb_json_field fields[] = {{"reason", EB_JSON_STRING, 0, 1, 600}};
    int64_t id;
    const char *why = NULL;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    /* An empty body is an approval or withdrawal without a comment. */
    if (r->json && eb_json_check(r->json, fields, 1, r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    const char *reason = r->json ? eb_json_str(r->json, "reason") : NULL;
    struct eb_refusal refusal;
    int rc = eb_store_transfer_act(r->db, &r->caller, id, action, reason, &refusal);
    if (rc)
        return eb__registry_refused(r, rc, &refusal);
    return send_transfer(r, 200, id);
}

int eb_registry_transfer_approve(struct eb_req *r)
{
    return act(r, EB_TRANSFER_APPROVE);
}

int eb_registry_transfer_reject(struct eb_req *r)
{
    return act(r, EB_TRANSFER_REJECT);
}

int eb_registry_transfer_withdraw(struct eb_req *r)
{
    return act(r, EB_TRANSFER_WITHDRAW);
}

/* ---- Excel ------------------------------------------------------------------------------ */

static const char *state_zh(const char *s)
{
    if (s == NULL)
        return NULL;
    return strcmp(s, "pending") == 0     ? "审批中"
           : strcmp(s, "approved") == 0  ? "已办结"
           : strcmp(s, "rejected") == 0  ? "已驳回"
           : strcmp(s, "withdrawn") == 0 ? "已撤回"
                                         : s;
}

static const char *step_zh(const char *k)
{
    if (k == NULL)
        return NULL;
    return strcmp(k, "to_school") == 0       ? "转入学校"
           : strcmp(k, "to_district") == 0   ? "转入地教育局"
           : strcmp(k, "from_school") == 0   ? "转出学校"
           : strcmp(k, "from_district") == 0 ? "转出地教育局"
           : strcmp(k, "district") == 0      ? "教育局"
                                             : k;
}

/* A unix time as the local calendar day. */
static const char *day_of(struct eb_arena *a, int64_t t)
{
    if (t == 0)
        return NULL;
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[16];
    localtime_r(&tt, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
    return eb_arena_strdup(a, buf);
}

int eb_export_transfers_xlsx(struct eb_req *r)
{
    static const struct eb_xlsx_col cols[] = {
        {"编号", 8},           {"学生姓名", 12}, {"身份证号", 20}, {"学籍号", 22},
        {"转出学校", 28},      {"转出班级", 16}, {"转入学校", 28}, {"转入班级", 16},
        {"转学日期", 12},      {"转学原因", 30}, {"状态", 10},     {"当前环节", 14},
        {"办理期限", 12},      {"是否逾期", 10}, {"申请日期", 12}, {"办结日期", 12},
        {"驳回/撤回原因", 30},
    };
    enum { N_COLS = sizeof(cols) / sizeof(cols[0]) };
    struct eb_xlsx *x = NULL;
    struct eb_arena *page = NULL;
    enum eb_transfer_box box;
    const char *state;
    int64_t after = 0;
    int rc;
    if (list_args(r, &box, &state))
        return 0;
    rc = eb_xlsx_open("学籍异动", cols, N_COLS, &x);
    if (rc)
        goto done;
    do {
        struct eb_transfer_list list;
        eb_arena_destroy(page);
        page = eb_arena_create(PAGE_ARENA);
        rc = eb_store_transfer_list(r->db, &r->caller, box, state, after, PAGE, page, &list);
        if (rc)
            goto done;
        for (size_t i = 0; i < list.n; i++) {
            const struct eb_transfer *t = &list.items[i];
            const char *cells[N_COLS] = {
                eb_arena_printf(page, "%lld", (long long)t->id),
                t->person_name,
                t->citizen_id,
                t->student_no,
                t->from_school_name,
                t->from_class_name,
                t->to_school_name,
                t->to_class_name,
                t->date,
                t->reason,
                state_zh(t->state),
                step_zh(t->current_kind),
                t->due_date,
                t->due_date ? (t->overdue ? "是" : "否") : NULL,
                day_of(page, t->created_at),
                day_of(page, t->closed_at),
                t->close_reason,
            };
            rc = eb_xlsx_row(x, cells);
            if (rc)
                goto done;
        }
        after = list.next;
    } while (after != 0);
    rc = eb_xlsx_send(x, r, "学籍异动.xlsx", "transfers.xlsx");
    x = NULL;
done:
    eb_arena_destroy(page);
    eb_xlsx_discard(x);
    return rc;
}
