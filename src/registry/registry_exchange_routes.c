/* Handlers for teacher exchange and rotation (交流轮岗) and recruitment intake (新教师入职). */
#include "registry/registry.h"
#include "registry/registry_ids.h"
#include "registry/registry_int.h"
#include "export/xlsx.h"
#include "core/err.h"
#include "json/json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define EXPORT_PAGE 500

static void can_fields(struct eb_jw *w, unsigned can)
{
    static const struct {
        unsigned bit;
        const char *name;
    } acts[] = {
        {EB_EXCHANGE_CAN_AGREE_FROM | EB_EXCHANGE_CAN_AGREE_TO, "agree"},
        {EB_EXCHANGE_CAN_REJECT, "reject"},
        {EB_EXCHANGE_CAN_CANCEL, "cancel"},
        {EB_EXCHANGE_CAN_RETURN, "return"},
    };
    eb_jw_key(w, "can");
    eb_jw_arr_begin(w);
    for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
        if (can & acts[i].bit)
            eb_jw_str(w, acts[i].name);
    eb_jw_arr_end(w);
}

static void exchange_object(struct eb_jw *w, const struct eb_exchange *x)
{
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "id", x->id);
    eb_jw_kref(w, "person", x->person_id, x->person_name);
    eb_jw_kstr(w, "kind", x->kind);
    eb_jw_kstr(w, "state", x->state);
    eb_jw_kref(w, "from_school", x->from_school_id, x->from_school_name);
    eb_jw_kref(w, "to_school", x->to_school_id, x->to_school_name);
    eb_jw_kstr(w, "title", x->title);
    eb_jw_kstr(w, "subjects", x->subjects);
    eb_jw_kstr(w, "start_date", x->start_date);
    eb_jw_kstr(w, "end_date", x->end_date);
    eb_jw_kstr(w, "reason", x->reason);
    eb_jw_kbool(w, "from_agreed", x->from_ok_by != 0);
    eb_jw_kbool(w, "to_agreed", x->to_ok_by != 0);
    eb_jw_kstr(w, "reject_reason", x->reject_reason);
    eb_jw_kstr(w, "returned_on", x->returned_on);
    eb_jw_kid(w, "to_post_id", x->to_post_id);
    eb_jw_kint(w, "created_at", x->created_at);
    eb_jw_kint(w, "updated_at", x->updated_at);
    can_fields(w, x->can);
    eb_jw_obj_end(w);
}

static int send_exchange(struct eb_req *r, int status, int64_t id)
{
    struct eb_exchange x;
    int rc = eb_store_exchange_get(r->db, &r->caller, id, r->arena, &x);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, status, &w);
    exchange_object(&w, &x);
    return eb_http_stream_end(r, &w);
}

int eb_registry_exchange_propose(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"person_id", EB_JSON_INT, 1, 0, 0},      {"to_school_id", EB_JSON_INT, 1, 0, 0},
        {"from_school_id", EB_JSON_INT, 0, 1, 0}, {"kind", EB_JSON_STRING, 1, 0, 10},
        {"title", EB_JSON_STRING, 0, 1, 100},     {"subjects", EB_JSON_STRING, 0, 1, 200},
        {"start_date", EB_JSON_STRING, 1, 0, 10}, {"end_date", EB_JSON_STRING, 0, 1, 10},
        {"reason", EB_JSON_STRING, 1, 0, 500},
    };
    const char *why = NULL;
    if (eb_json_check(r->json, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_exchange in = {0};
    eb_json_int(r->json, "person_id", &in.person_id);
    eb_json_int(r->json, "to_school_id", &in.to_school_id);
    eb_json_int(r->json, "from_school_id", &in.from_school_id);
    in.kind = eb_json_str(r->json, "kind");
    in.title = eb_json_str(r->json, "title");
    in.subjects = eb_json_str(r->json, "subjects");
    in.start_date = eb_json_str(r->json, "start_date");
    in.end_date = eb_json_str(r->json, "end_date");
    in.reason = eb_json_str(r->json, "reason");
    if (strcmp(in.kind, "rotation") != 0 && strcmp(in.kind, "transfer") != 0)
        return eb__registry_bad_field(r, "kind", "rotation or transfer");
    if (eb__registry_check_date(r, "start_date", 1) || eb__registry_check_date(r, "end_date", 0))
        return 0;
    if (strcmp(in.kind, "rotation") == 0 && in.end_date == NULL)
        return eb_http_error(r, 400, "missing_field", "end_date");
    if (strcmp(in.kind, "transfer") == 0 && in.end_date != NULL)
        return eb__registry_bad_field(r, "end_date", "a transfer has no end date");
    if (in.end_date && strcmp(in.end_date, in.start_date) <= 0)
        return eb__registry_bad_field(r, "end_date", "must be after start_date");
    int64_t id = 0;
    int rc = eb_store_exchange_propose(r->db, &r->caller, &in, &id);
    if (rc == EB_EEXIST)
        return eb_http_error(r, 409, "exists", "the teacher already has an open exchange");
    if (rc == EB_ECONFLICT)
        return eb_http_error(r, 409, "conflict",
                             "the teacher has no current post there, or the school is closed");
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "to_school_id", "must be another school");
    if (rc)
        return rc;
    return send_exchange(r, 201, id);
}

int eb_registry_exchange_get(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    return send_exchange(r, 200, id);
}

/* agree, reject {reason}, cancel, return {date}: the action is the last path segment. */
int eb_registry_exchange_act(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"reason", EB_JSON_STRING, 0, 1, 500},
        {"date", EB_JSON_STRING, 0, 1, 10},
    };
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    const char *act = eb_http_param(r, "action");
    const char *why = NULL;
    if (eb_json_check(r->json, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    enum eb_exchange_action a;
    const char *text = NULL;
    if (act && strcmp(act, "agree") == 0) {
        a = EB_EXCHANGE_AGREE;
    } else if (act && strcmp(act, "reject") == 0) {
        a = EB_EXCHANGE_REJECT;
        text = eb_json_str(r->json, "reason");
        if (text == NULL)
            return eb_http_error(r, 400, "missing_field", "reason");
    } else if (act && strcmp(act, "cancel") == 0) {
        a = EB_EXCHANGE_CANCEL;
    } else if (act && strcmp(act, "return") == 0) {
        a = EB_EXCHANGE_RETURN;
        if (eb__registry_check_date(r, "date", 1))
            return 0;
        text = eb_json_str(r->json, "date");
    } else {
        return eb_http_error(r, 404, "not_found", NULL);
    }
    int rc = eb_store_exchange_decide(r->db, &r->caller, id, a, text);
    if (rc == EB_ECONFLICT)
        return eb_http_error(r, 409, "conflict", "not possible in the exchange's current state");
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "date", "must not be before the start date");
    if (rc)
        return rc;
    return send_exchange(r, 200, id);
}

static int send_list(struct eb_req *r, const struct eb_exchange_list *l)
{
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_registry_page_begin(&w);
    for (size_t i = 0; i < l->n; i++)
        exchange_object(&w, &l->items[i]);
    eb_registry_page_end(&w, l->next);
    return eb_http_stream_end(r, &w);
}

static int read_state(struct eb_req *r, const char **state)
{
    static const char *const states[] = {"proposed", "active", "done", "rejected", "cancelled"};
    *state = eb_http_query(r, "state");
    if (*state == NULL || (*state)[0] == '\0') {
        *state = NULL;
        return 0;
    }
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(*state, states[i]) == 0)
            return 0;
    eb__registry_bad_field(r, "state", "proposed, active, done, rejected or cancelled");
    return 1;
}

int eb_registry_exchange_list(struct eb_req *r)
{
    int64_t id, after;
    int limit;
    const char *state;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    if (eb_registry_page_args(r, &after, &limit))
        return eb_http_fail(r, EB_EINVAL, "after and limit are positive integers");
    if (read_state(r, &state))
        return 0;
    struct eb_exchange_list l;
    int rc = eb_store_exchange_list(r->db, &r->caller, id, state, after, limit, r->arena, &l);
    if (rc)
        return rc;
    return send_list(r, &l);
}

int eb_registry_exchange_of_person(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    struct eb_exchange_list l;
    int rc = eb_store_exchange_of_person(r->db, &r->caller, id, r->arena, &l);
    if (rc)
        return rc;
    return send_list(r, &l);
}

/* The share of teachers exchanged in the school year holding ?date= (default today), against
 * the policy's yearly 10 % (教育部等《关于推进县（区）域内义务教育学校校长教师交流轮岗的意见》). */
int eb_registry_exchange_stats(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    const char *date = eb_http_query(r, "date");
    const char *why = NULL;
    char today[16];
    if (date == NULL) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        date = today;
    } else if (eb_date_check(date, &why)) {
        return eb__registry_bad_field(r, "date", why);
    }
    /* The scope first: an org outside it answers like a missing one, whatever the date. */
    struct eb_exchange_stats s;
    int rc = eb_store_exchange_stats(r->db, &r->caller, id, "", "", &s);
    if (rc)
        return rc;
    struct eb_school_year y;
    int term = 0;
    rc = eb_store_year_as_of(r->db, &r->caller, date, r->arena, &y, &term);
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", "no school year holds the date");
    if (rc)
        return rc;
    rc = eb_store_exchange_stats(r->db, &r->caller, id, y.start_date, y.end_date, &s);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kstr(&w, "school_year", y.name);
    eb_jw_kint(&w, "teachers", s.teachers);
    eb_jw_kint(&w, "rotations", s.rotations);
    eb_jw_kint(&w, "transfers", s.transfers);
    /* Per mille, an integer: the UI shows 12.5 %. */
    eb_jw_kint(&w, "rate_permille",
               s.teachers ? (s.rotations + s.transfers) * 1000 / s.teachers : 0);
    eb_jw_kint(&w, "target_permille", 100);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

static const char *kind_zh(const char *k)
{
    return k && strcmp(k, "rotation") == 0 ? "轮岗" : k && strcmp(k, "transfer") == 0 ? "调动" : k;
}

static const char *state_zh(const char *s)
{
    static const char *const map[][2] = {{"proposed", "待学校确认"},
                                         {"active", "交流中"},
                                         {"done", "已完成"},
                                         {"rejected", "已退回"},
                                         {"cancelled", "已撤销"}};
    for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(s, map[i][0]) == 0)
            return map[i][1];
    return s;
}

int eb_registry_exchange_xlsx(struct eb_req *r)
{
    static const struct eb_xlsx_col cols[] = {
        {"教师", 12},     {"类型", 8},      {"状态", 12},     {"派出学校", 28},
        {"接收学校", 28}, {"岗位", 14},     {"学科", 16},     {"开始日期", 12},
        {"结束日期", 12}, {"返回日期", 12}, {"交流原因", 30}, {"退回原因", 30},
    };
    enum { N_COLS = sizeof(cols) / sizeof(cols[0]) };
    int64_t id, after = 0;
    const char *state;
    struct eb_xlsx *x = NULL;
    struct eb_arena *page = NULL;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    if (read_state(r, &state))
        return 0;
    struct eb_org node;
    int rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &node);
    if (rc)
        return rc;
    rc = eb_xlsx_open("交流轮岗", cols, N_COLS, &x);
    if (rc)
        goto done;
    do {
        struct eb_exchange_list l;
        eb_arena_destroy(page);
        page = eb_arena_create(0);
        rc = eb_store_exchange_list(r->db, &r->caller, id, state, after, EXPORT_PAGE, page, &l);
        if (rc)
            goto done;
        for (size_t i = 0; i < l.n; i++) {
            const struct eb_exchange *e = &l.items[i];
            const char *cells[N_COLS] = {
                e->person_name,    kind_zh(e->kind), state_zh(e->state), e->from_school_name,
                e->to_school_name, e->title,         e->subjects,        e->start_date,
                e->end_date,       e->returned_on,   e->reason,          e->reject_reason,
            };
            rc = eb_xlsx_row(x, cells);
            if (rc)
                goto done;
        }
        after = l.next;
    } while (after != 0);
    rc = eb_xlsx_send(x, r, eb_arena_printf(r->arena, "%s_交流轮岗.xlsx", node.name),
                      eb_arena_printf(r->arena, "org-%lld-exchanges.xlsx", (long long)id));
    x = NULL;
done:
    eb_xlsx_discard(x);
    eb_arena_destroy(page);
    return rc;
}

/* ---- recruitment --------------------------------------------------------------------------- */

int eb_registry_recruit(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"name", EB_JSON_STRING, 1, 0, 100},
        {"start_date", EB_JSON_STRING, 1, 0, 10},
        {"hires", EB_JSON_ARRAY, 1, 0, 0},
    };
    static const struct eb_json_field hire_fields[] = {
        {"school_id", EB_JSON_INT, 1, 0, 0},      {"title", EB_JSON_STRING, 1, 0, 100},
        {"subjects", EB_JSON_STRING, 0, 1, 200},  {"name", EB_JSON_STRING, 1, 0, 60},
        {"sex", EB_JSON_STRING, 1, 0, 8},         {"birth_date", EB_JSON_STRING, 1, 0, 10},
        {"citizen_id", EB_JSON_STRING, 0, 1, 18}, {"staff_no", EB_JSON_STRING, 0, 1, 32},
        {"phone", EB_JSON_STRING, 0, 1, 20},
    };
    int64_t org_id;
    const char *why = NULL;
    if (eb_http_param_id(r, "id", &org_id))
        return eb_http_error(r, 404, "not_found", NULL);
    if (eb_json_check(r->json, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    if (eb__registry_check_date(r, "start_date", 1))
        return 0;
    const json_t *arr = json_object_get(r->json, "hires");
    size_t n = json_array_size(arr);
    if (n == 0 || n > 2000)
        return eb__registry_bad_field(r, "hires", "1 to 2000 new hires");
    struct eb_hire *hires = eb_arena_alloc(r->arena, n * sizeof(*hires));
    if (hires == NULL)
        return EB_ETOOBIG;
    memset(hires, 0, n * sizeof(*hires));
    for (size_t i = 0; i < n; i++) {
        const json_t *h = json_array_get(arr, i);
        const char *prefix = eb_arena_printf(r->arena, "hires[%zu].", i);
        if (!json_is_object(h))
            return eb__registry_bad_field(r, eb_arena_printf(r->arena, "hires[%zu]", i),
                                          "each hire is an object");
        if (eb_json_check(h, hire_fields, sizeof(hire_fields) / sizeof(hire_fields[0]), r->arena,
                          &why))
            return eb__registry_bad_field(r, eb_arena_printf(r->arena, "hires[%zu]", i), why);
        if (eb__registry_read_person(r, h, prefix, &hires[i].person))
            return 0;
        eb_json_int(h, "school_id", &hires[i].school_id);
        hires[i].title = eb_json_str(h, "title");
        hires[i].subjects = eb_json_str(h, "subjects");
    }
    int64_t batch = 0;
    long bad = -1;
    int rc = eb_store_recruit(r->db, &r->caller, org_id, eb_json_str(r->json, "name"),
                              eb_json_str(r->json, "start_date"), hires, n, &batch, &bad);
    if (rc && bad >= 0) {
        /* The row that failed, so that the form can point at it; nothing was written. */
        const char *field = eb_arena_printf(r->arena, "hires[%ld]", bad);
        if (rc == EB_ENOTFOUND || rc == EB_EINVAL)
            return eb__registry_bad_field(r, eb_arena_printf(r->arena, "%s.school_id", field),
                                          "must be a school in your scope");
        if (rc == EB_EEXIST)
            return eb_http_error(r, 409, "exists", field);
    }
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 201, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kint(&w, "batch_id", batch);
    eb_jw_key(&w, "hires");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "person_id", hires[i].person_id);
        eb_jw_kint(&w, "post_id", hires[i].post_id);
        eb_jw_kstr(&w, "name", hires[i].person.name);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}
