/* Handlers for schools and classes: close, merge, teaching points, class lists with their size
 * flags (大班额), class teachers and the head teacher, and the size warnings of class saves. */
#include "registry/registry.h"
#include "registry/registry_ids.h"
#include "registry/registry_int.h"
#include "core/err.h"
#include "export/xlsx.h"
#include "json/json.h"

#include <stdio.h>
#include <string.h>

/* ---- class size warnings ---------------------------------------------------------------- */

/* The size flag of a class: NULL under the limits (POLICY_AND_CODES.md: 大班额 > 55,
 * 超大班额 > 65). */
static const char *size_flag(int64_t n)
{
    return n > EB_CLASS_SIZE_HUGE  ? "oversized_class"
           : n > EB_CLASS_SIZE_MAX ? "large_class"
                                   : NULL;
}

/* "warnings":[{code, message:{zh, en}}]: a save that went through but breaks a policy limit. */
static void write_warnings(struct eb_jw *w, int64_t n)
{
    const char *flag = size_flag(n);
    eb_jw_key(w, "warnings");
    eb_jw_arr_begin(w);
    if (flag != NULL) {
        int huge = n > EB_CLASS_SIZE_HUGE;
        char zh[160], en[160];
        snprintf(zh, sizeof(zh), "%s：班级现有 %lld 名学生，超过 %d 人",
                 huge ? "超大班额" : "大班额", (long long)n,
                 huge ? EB_CLASS_SIZE_HUGE : EB_CLASS_SIZE_MAX);
        snprintf(en, sizeof(en), "%s: the class has %lld students, more than %d",
                 huge ? "Oversized class" : "Large class", (long long)n,
                 huge ? EB_CLASS_SIZE_HUGE : EB_CLASS_SIZE_MAX);
        eb_jw_obj_begin(w);
        eb_jw_kstr(w, "code", flag);
        eb_jw_key(w, "message");
        eb_jw_obj_begin(w);
        eb_jw_kstr(w, "zh", zh);
        eb_jw_kstr(w, "en", en);
        eb_jw_obj_end(w);
        eb_jw_kint(w, "n_students", n);
        eb_jw_obj_end(w);
    }
    eb_jw_arr_end(w);
}

int eb_schools_send_org(struct eb_req *r, int status, const struct eb_org *o)
{
    int64_t n = 0;
    if (o->kind != EB_ORG_CLASS)
        return eb_registry_send_org(r, status, o);
    int rc = eb_store_class_size(r->db, &r->caller, o->id, &n);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, status, &w);
    eb_jw_obj_begin(&w);
    eb_registry_org_fields(&w, o);
    write_warnings(&w, n);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

int eb_schools_send_enrolment(struct eb_req *r, int64_t id, int64_t class_id)
{
    int64_t n = 0;
    int rc = eb_store_class_size(r->db, &r->caller, class_id, &n);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 201, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kint(&w, "id", id);
    write_warnings(&w, n);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

/* ---- helpers ---------------------------------------------------------------------------- */

static int check_body(struct eb_req *r, const struct eb_json_field *f, size_t n)
{
    const char *why = NULL;
    if (eb_json_check(r->json, f, n, r->arena, &why)) {
        eb_http_fail(r, EB_EINVAL, why);
        return 1;
    }
    return 0;
}

/* A refused operation: the specific 409 code when the store named one. */
static int fail_why(struct eb_req *r, int rc, const char *why)
{
    if (rc == EB_ECONFLICT && why != NULL)
        return eb_http_error(r, 409, why, NULL);
    return rc;
}

/* The {id} of the route, which must name an org the caller can see: 1 when a response was
 * set (404 for a malformed or unseen id, the same answer as a missing one). */
static int org_param(struct eb_req *r, int64_t *id)
{
    if (eb_http_param_id(r, "id", id)) {
        eb_http_error(r, 404, "not_found", NULL);
        return 1;
    }
    return 0;
}

static void school_info_fields(struct eb_jw *w, const struct eb_school_info *i)
{
    eb_jw_kint(w, "id", i->id);
    eb_jw_kstr(w, "name", i->name);
    eb_jw_kstr(w, "school_code", i->school_code);
    eb_jw_kstr(w, "closed_on", i->closed_on);
    if (i->merged_into)
        eb_jw_kref(w, "merged_into", i->merged_into, i->merged_into_name);
    else
        eb_jw_kstr(w, "merged_into", NULL);
    if (i->central_school_id)
        eb_jw_kref(w, "central_school", i->central_school_id, i->central_school_name);
    else
        eb_jw_kstr(w, "central_school", NULL);
    eb_jw_kint(w, "n_teaching_points", i->n_teaching_points);
}

static int send_school_info(struct eb_req *r, int64_t id)
{
    struct eb_school_info info;
    int rc = eb_store_school_info(r->db, &r->caller, id, r->arena, &info);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    school_info_fields(&w, &info);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

/* ---- schools ---------------------------------------------------------------------------- */

int eb_schools_info(struct eb_req *r)
{
    int64_t id;
    if (org_param(r, &id))
        return 0;
    int rc = send_school_info(r, id);
    return rc == EB_EINVAL ? eb__registry_bad_field(r, "id", "not a school") : rc;
}

int eb_schools_close(struct eb_req *r)
{
    static const struct eb_json_field f[] = {{"date", EB_JSON_STRING, 1, 0, 10}};
    int64_t id;
    if (org_param(r, &id))
        return 0;
    /* The scope answers first: an unseen school is missing whatever the body says. */
    struct eb_school_info info;
    int rc = eb_store_school_info(r->db, &r->caller, id, r->arena, &info);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "id", "not a school");
    if (rc)
        return rc;
    if (check_body(r, f, 1) || eb__registry_check_date(r, "date", 1))
        return 0;
    const char *why = NULL;
    rc = eb_store_school_close(r->db, &r->caller, id, eb_json_str(r->json, "date"), &why);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "date", "before the start of a current post");
    if (rc)
        return fail_why(r, rc, why);
    return send_school_info(r, id);
}

int eb_schools_merge(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"into_id", EB_JSON_INT, 1, 0, 0},
        {"date", EB_JSON_STRING, 1, 0, 10},
    };
    int64_t id, into = 0;
    if (org_param(r, &id))
        return 0;
    struct eb_school_info info;
    int rc = eb_store_school_info(r->db, &r->caller, id, r->arena, &info);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "id", "not a school");
    if (rc)
        return rc;
    if (check_body(r, f, 2) || eb__registry_check_date(r, "date", 1))
        return 0;
    eb_json_int(r->json, "into_id", &into);
    struct eb_school_info target;
    rc = eb_store_school_info(r->db, &r->caller, into, r->arena, &target);
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", "into_id");
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "into_id", "not a school");
    if (rc)
        return rc;
    /* The store answers a merge into itself only after the bureau's permission: a school
     * administrator learns 403 first, whatever the target. */
    struct eb_merge_result m;
    const char *why = NULL;
    rc = eb_store_school_merge(r->db, &r->caller, id, into, eb_json_str(r->json, "date"), &m, &why);
    if (rc == EB_EINVAL && into == id)
        return eb__registry_bad_field(r, "into_id", "a school cannot merge into itself");
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "date", "before the start of a current enrolment or post");
    if (rc)
        return fail_why(r, rc, why);
    rc = eb_store_school_info(r->db, &r->caller, id, r->arena, &info);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    school_info_fields(&w, &info);
    eb_jw_key(&w, "moved");
    eb_jw_obj_begin(&w);
    eb_jw_kint(&w, "classes", m.n_classes);
    eb_jw_kint(&w, "students", m.n_students);
    eb_jw_kint(&w, "posts", m.n_posts);
    eb_jw_kint(&w, "teaching", m.n_teaching);
    eb_jw_obj_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

/* ---- teaching points -------------------------------------------------------------------- */

int eb_schools_points(struct eb_req *r)
{
    int64_t id;
    if (org_param(r, &id))
        return 0;
    size_t n = 0;
    struct eb_org *items = NULL;
    int rc = eb_store_teaching_points(r->db, &r->caller, id, r->arena, &n, &items);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "id", "not a school");
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_registry_page_begin(&w);
    for (size_t i = 0; i < n; i++) {
        eb_jw_obj_begin(&w);
        eb_registry_org_fields(&w, &items[i]);
        eb_jw_obj_end(&w);
    }
    eb_registry_page_end(&w, 0);
    return eb_http_stream_end(r, &w);
}

int eb_schools_points_xlsx(struct eb_req *r)
{
    static const struct eb_xlsx_col cols[] = {
        {"教学点名称", 30}, {"学校标识码", 14}, {"办学类型", 16},
        {"城乡类型", 10},   {"地址", 36},       {"撤销日期", 12},
    };
    enum { N_COLS = sizeof(cols) / sizeof(cols[0]) };
    int64_t id;
    if (org_param(r, &id))
        return 0;
    struct eb_school_info info;
    size_t n = 0;
    struct eb_org *items = NULL;
    int rc = eb_store_school_info(r->db, &r->caller, id, r->arena, &info);
    if (rc == 0)
        rc = eb_store_teaching_points(r->db, &r->caller, id, r->arena, &n, &items);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "id", "not a school");
    if (rc)
        return rc;
    struct eb_xlsx *x = NULL;
    rc = eb_xlsx_open("教学点", cols, N_COLS, &x);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct eb_org *o = &items[i];
        const char *cells[N_COLS] = {
            o->name,
            o->school_code,
            o->running_type ? eb_running_type_name(o->running_type) : NULL,
            o->urban_rural,
            o->address,
            o->closed_on,
        };
        rc = eb_xlsx_row(x, cells);
    }
    if (rc) {
        eb_xlsx_discard(x);
        return rc;
    }
    return eb_xlsx_send(x, r, eb_arena_printf(r->arena, "%s_教学点.xlsx", info.name),
                        eb_arena_printf(r->arena, "org-%lld-teaching-points.xlsx", (long long)id));
}

static int point_set(struct eb_req *r, int64_t id, int64_t point, int attach)
{
    const char *why = NULL;
    int rc = eb_store_teaching_point_set(r->db, &r->caller, id, point, attach, &why);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(
            r, "school_id",
            "a central school cannot be a teaching point, nor a point a central school");
    if (rc)
        return fail_why(r, rc, why);
    return send_school_info(r, point);
}

int eb_schools_point_attach(struct eb_req *r)
{
    static const struct eb_json_field f[] = {{"school_id", EB_JSON_INT, 1, 0, 0}};
    int64_t id, point = 0;
    if (org_param(r, &id))
        return 0;
    struct eb_school_info info;
    int rc = eb_store_school_info(r->db, &r->caller, id, r->arena, &info);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "id", "not a school");
    if (rc)
        return rc;
    if (check_body(r, f, 1))
        return 0;
    eb_json_int(r->json, "school_id", &point);
    rc = eb_store_school_info(r->db, &r->caller, point, r->arena, &info);
    if (rc == EB_ENOTFOUND)
        return eb_http_error(r, 404, "not_found", "school_id");
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "school_id", "not a school");
    if (rc)
        return rc;
    return point_set(r, id, point, 1);
}

int eb_schools_point_detach(struct eb_req *r)
{
    int64_t id, point;
    if (org_param(r, &id))
        return 0;
    if (eb_http_param_id(r, "point", &point))
        return eb_http_error(r, 404, "not_found", NULL);
    return point_set(r, id, point, 0);
}

/* ---- classes ---------------------------------------------------------------------------- */

static int valid_grade(const char *g)
{
    static const char *const codes[] = {"01", "02", "03", "11", "12", "13", "14", "15", "16", "21",
                                        "22", "23", "24", "31", "32", "33", "41", "42", "43"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(g, codes[i]) == 0)
            return 1;
    return 0;
}

/* ?year= (2000..2100), ?grade= (two digits), ?q= (at most 60 bytes), ?closed=1. 1 when a 400
 * response was set. */
static int class_args(struct eb_req *r, int *year, const char **grade, const char **q, int *closed)
{
    const char *y = eb_http_query(r, "year");
    *year = 0;
    *grade = eb_http_query(r, "grade");
    *q = eb_http_query(r, "q");
    const char *c = eb_http_query(r, "closed");
    *closed = c != NULL && strcmp(c, "1") == 0;
    if (y != NULL) {
        if (strlen(y) != 4 || y[0] < '1' || y[0] > '2' || y[1] < '0' || y[1] > '9' || y[2] < '0' ||
            y[2] > '9' || y[3] < '0' || y[3] > '9') {
            eb__registry_bad_field(r, "year", "a year such as 2026");
            return 1;
        }
        *year = (y[0] - '0') * 1000 + (y[1] - '0') * 100 + (y[2] - '0') * 10 + (y[3] - '0');
        if (*year < 2000 || *year > 2100) {
            eb__registry_bad_field(r, "year", "must be 2000..2100");
            return 1;
        }
    }
    if (*grade != NULL && !valid_grade(*grade)) {
        eb__registry_bad_field(r, "grade", "unknown grade code");
        return 1;
    }
    if (*q != NULL && (*q[0] == '\0' || strlen(*q) > 60)) {
        eb__registry_bad_field(r, "q", "1 to 60 bytes");
        return 1;
    }
    return 0;
}

static int load_classes(struct eb_req *r, int64_t id, int *year, size_t *n,
                        struct eb_class_row **items)
{
    const char *grade, *q;
    int closed;
    if (class_args(r, year, &grade, &q, &closed))
        return 1;
    int rc = eb_store_school_classes(r->db, &r->caller, id, *year, grade, q, closed, r->arena, year,
                                     n, items);
    if (rc == EB_EINVAL) {
        eb__registry_bad_field(r, "id", "not a school");
        return 1;
    }
    if (rc) {
        eb_http_fail(r, rc, NULL);
        return 1;
    }
    return 0;
}

int eb_schools_classes(struct eb_req *r)
{
    int64_t id;
    int year = 0;
    size_t n = 0;
    struct eb_class_row *items = NULL;
    if (org_param(r, &id) || load_classes(r, id, &year, &n, &items))
        return 0;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_kid(&w, "school_year", year);
    eb_jw_key(&w, "items");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const struct eb_class_row *c = &items[i];
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "id", c->id);
        eb_jw_kstr(&w, "name", c->name);
        eb_jw_key(&w, "grade");
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "id", c->grade_id);
        eb_jw_kstr(&w, "code", c->grade_code);
        eb_jw_kstr(&w, "name", c->grade_name);
        eb_jw_obj_end(&w);
        eb_jw_kid(&w, "school_year", c->school_year);
        eb_jw_kint(&w, "n_students", c->n_students);
        eb_jw_kint(&w, "n_teachers", c->n_teachers);
        eb_jw_kstr(&w, "size_flag", size_flag(c->n_students));
        if (c->head_person_id)
            eb_jw_kref(&w, "head_teacher", c->head_person_id, c->head_name);
        else
            eb_jw_kstr(&w, "head_teacher", NULL);
        eb_jw_kstr(&w, "closed_on", c->closed_on);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_key(&w, "next");
    eb_jw_null(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

int eb_schools_classes_xlsx(struct eb_req *r)
{
    static const struct eb_xlsx_col cols[] = {
        {"班级", 22},   {"年级", 12},     {"年级代码", 10}, {"学年", 12},
        {"学生数", 10}, {"班额提示", 12}, {"班主任", 12},   {"任课教师数", 12},
    };
    enum { N_COLS = sizeof(cols) / sizeof(cols[0]) };
    int64_t id;
    int year = 0;
    size_t n = 0;
    struct eb_class_row *items = NULL;
    if (org_param(r, &id) || load_classes(r, id, &year, &n, &items))
        return 0;
    struct eb_school_info info;
    int rc = eb_store_school_info(r->db, &r->caller, id, r->arena, &info);
    if (rc)
        return rc;
    struct eb_xlsx *x = NULL;
    rc = eb_xlsx_open("班级", cols, N_COLS, &x);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct eb_class_row *c = &items[i];
        const char *flag = size_flag(c->n_students);
        const char *cells[N_COLS] = {
            c->name,
            c->grade_name,
            c->grade_code,
            eb_arena_printf(r->arena, "%d-%d", c->school_year, c->school_year + 1),
            eb_arena_printf(r->arena, "%lld", (long long)c->n_students),
            flag == NULL                           ? NULL
            : strcmp(flag, "oversized_class") == 0 ? "超大班额"
                                                   : "大班额",
            c->head_name,
            eb_arena_printf(r->arena, "%lld", (long long)c->n_teachers),
        };
        rc = eb_xlsx_row(x, cells);
    }
    if (rc) {
        eb_xlsx_discard(x);
        return rc;
    }
    return eb_xlsx_send(x, r, eb_arena_printf(r->arena, "%s_%d学年班级.xlsx", info.name, year),
                        eb_arena_printf(r->arena, "org-%lld-classes-%d.xlsx", (long long)id, year));
}

int eb_schools_class_teachers(struct eb_req *r)
{
    int64_t id;
    if (org_param(r, &id))
        return 0;
    size_t n = 0;
    struct eb_class_teacher *items = NULL;
    int rc = eb_store_class_teachers(r->db, &r->caller, id, r->arena, &n, &items);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "id", "not a class");
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_registry_page_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const struct eb_class_teacher *t = &items[i];
        eb_jw_obj_begin(&w);
        eb_jw_kint(&w, "id", t->teaching_id);
        eb_jw_kint(&w, "post_id", t->post_id);
        eb_jw_kref(&w, "person", t->person_id, t->name);
        eb_jw_kstr(&w, "subject", t->subject);
        eb_jw_kbool(&w, "is_head_teacher", t->is_head_teacher);
        eb_jw_kstr(&w, "start_date", t->start_date);
        eb_jw_obj_end(&w);
    }
    eb_registry_page_end(&w, 0);
    return eb_http_stream_end(r, &w);
}

int eb_schools_class_head(struct eb_req *r)
{
    static const struct eb_json_field f[] = {
        {"post_id", EB_JSON_INT, 1, 0, 0},
        {"date", EB_JSON_STRING, 1, 0, 10},
        {"subject", EB_JSON_STRING, 0, 1, 40},
    };
    int64_t id, post = 0;
    if (org_param(r, &id))
        return 0;
    int64_t size = 0;
    int rc = eb_store_class_size(r->db, &r->caller, id, &size);
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(r, "id", "not a class");
    if (rc)
        return rc;
    if (check_body(r, f, 3) || eb__registry_check_date(r, "date", 1))
        return 0;
    eb_json_int(r->json, "post_id", &post);
    int64_t tid = 0;
    rc = eb_store_class_head_set(r->db, &r->caller, id, post, eb_json_str(r->json, "subject"),
                                 eb_json_str(r->json, "date"), &tid);
    if (rc == EB_ENOTFOUND) {
        /* The class was seen above: what is missing is the post. */
        return eb_http_error(r, 404, "not_found", "post_id");
    }
    if (rc == EB_EINVAL)
        return eb__registry_bad_field(
            r, "post_id",
            "must be a current post of the class's school, from a date not before the current head "
            "teacher's start");
    if (rc)
        return rc;
    return eb_schools_class_teachers(r);
}
