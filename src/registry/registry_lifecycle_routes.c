/* Handlers for a student's status (学籍状态): its history and the changes a school records. */
#include "registry/registry.h"
#include "registry/registry_int.h"
#include "core/err.h"
#include "json/json.h"

#include <string.h>

int eb__registry_refused(struct eb_req *r, int rc, const struct eb_refusal *why)
{
    if (rc == EB_EINVAL && why->code && strcmp(why->code, "invalid_field") == 0)
        return eb__registry_bad_field(r, why->field ? why->field : "body",
                                      why->why ? why->why : "invalid");
    if (rc == EB_EINVAL && why->code)
        return eb_http_error(r, 400, why->code, why->why);
    if (rc == EB_ECONFLICT && why->code)
        return eb_http_error(r, 409, why->code, why->why);
    if (rc == EB_EDENIED)
        return eb_http_error(r, 403, "forbidden", NULL);
    /* Not found carries no detail: an object outside the scope answers like a missing one. */
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", NULL);
    return rc;
}

static void event_object(struct eb_jw *w, const struct eb_status_event *e)
{
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "id", e->id);
    eb_jw_kstr(w, "kind", eb_status_kind_name(e->kind));
    eb_jw_kstr(w, "status", eb_student_status_name(e->status));
    eb_jw_kstr(w, "date", e->date);
    eb_jw_kstr(w, "expected_return", e->expected_return);
    eb_jw_kstr(w, "reason", e->reason);
    eb_jw_kref(w, "school", e->school_id, e->school_name);
    if (e->class_id) {
        eb_jw_kref(w, "class", e->class_id, e->class_name);
    } else {
        eb_jw_key(w, "class");
        eb_jw_null(w);
    }
    eb_jw_kid(w, "transfer_id", e->transfer_id);
    eb_jw_key(w, "by");
    if (e->account_id) {
        eb_jw_obj_begin(w);
        eb_jw_kint(w, "id", e->account_id);
        eb_jw_kstr(w, "name", e->account_name);
        eb_jw_obj_end(w);
    } else {
        eb_jw_null(w);
    }
    eb_jw_kint(w, "created_at", e->created_at);
    eb_jw_obj_end(w);
}

int eb_registry_student_status_get(struct eb_req *r)
{
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    struct eb_student_state st;
    struct eb_status_event *ev = NULL;
    size_t n = 0;
    int rc = eb_store_student_status(r->db, &r->caller, id, r->arena, &st, &n, &ev);
    if (rc == EB_EINVAL)
        return eb_http_error(r, 400, "not_a_student", "the person is not a student");
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kint(&w, "person_id", id);
    eb_jw_kstr(&w, "status", eb_student_status_name(st.status));
    eb_jw_kstr(&w, "since", st.since);
    eb_jw_kstr(&w, "expected_return", st.expected_return);
    if (st.class_id) {
        eb_jw_kref(&w, "class", st.class_id, st.class_name);
    } else {
        eb_jw_key(&w, "class");
        eb_jw_null(&w);
    }
    eb_jw_kid(&w, "enrolment_id", st.enrolment_id);
    eb_jw_kid(&w, "pending_transfer_id", st.pending_transfer_id);
    eb_jw_key(&w, "events");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
        event_object(&w, &ev[i]);
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

int eb_registry_student_status_post(struct eb_req *r)
{
    static const struct eb_json_field fields[] = {
        {"kind", EB_JSON_STRING, 1, 0, 16},    {"date", EB_JSON_STRING, 1, 0, 10},
        {"reason", EB_JSON_STRING, 0, 1, 600}, {"expected_return", EB_JSON_STRING, 0, 1, 10},
        {"class_id", EB_JSON_INT, 0, 1, 0},
    };
    int64_t id;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    /* The person comes first: outside the scope the answer is the missing-id one, whatever the
     * body holds. */
    struct eb_person p;
    int rc = eb_store_person_get(r->db, &r->caller, id, 0, r->arena, &p);
    if (rc)
        return rc;
    const char *why = NULL;
    if (eb_json_check(r->json, fields, sizeof(fields) / sizeof(fields[0]), r->arena, &why))
        return eb_http_fail(r, EB_EINVAL, why);
    struct eb_status_change in = {0};
    const char *kind = eb_json_str(r->json, "kind");
    in.kind = eb_status_kind_parse(kind);
    if (in.kind < EB_STATUS_ADMISSION || in.kind > EB_STATUS_GRADUATION)
        return eb__registry_bad_field(
            r, "kind", "admission, suspension, return, withdrawal, death or graduation");
    in.date = eb_json_str(r->json, "date");
    in.reason = eb_json_str(r->json, "reason");
    in.expected_return = eb_json_str(r->json, "expected_return");
    eb_json_int(r->json, "class_id", &in.class_id);
    struct eb_refusal refusal;
    int64_t event_id = 0;
    rc = eb_store_student_status_change(r->db, &r->caller, id, &in, &refusal, &event_id);
    if (rc)
        return eb__registry_refused(r, rc, &refusal);
    /* The answer is the status as it now stands, history included. */
    rc = eb_registry_student_status_get(r);
    if (rc == 0 && r->status == 200)
        r->status = 201;
    return rc;
}
