/* Handlers of the data-quality checks: roll-up per child node, findings, Excel, on-demand runs. */
#include "registry/registry.h"
#include "app.h"
#include "core/err.h"
#include "export/xlsx.h"
#include "json/json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* "2026-11-30T09:00:00Z" from unix milliseconds, in the arena; NULL for 0. */
static const char *iso_ms(struct eb_arena *a, int64_t ms)
{
    if (ms <= 0)
        return NULL;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&secs, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return eb_arena_strdup(a, buf);
}

/* The same instant in the server's local time, as people read it in a spreadsheet. */
static const char *local_ms(struct eb_arena *a, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    localtime_r(&secs, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
    return eb_arena_strdup(a, buf);
}

static const char *check_name(int check, enum eb_lang lang)
{
    const struct eb_quality_check *c = &eb_quality_checks()[check];
    return lang == EB_LANG_EN ? c->name_en : c->name_zh;
}

static const char *severity_name(int check)
{
    return eb_quality_checks()[check].severity == EB_QUALITY_ERROR ? "error" : "warning";
}

static const char *dstr(const json_t *d, const char *key)
{
    const char *s = json_string_value(json_object_get(d, key));
    return s ? s : "";
}

static long long dint(const json_t *d, const char *key)
{
    return (long long)json_integer_value(json_object_get(d, key));
}

static const char *closed_what(const char *what, enum eb_lang lang)
{
    if (strcmp(what, "class") == 0)
        return lang == EB_LANG_EN ? "class" : "班级";
    if (strcmp(what, "grade") == 0)
        return lang == EB_LANG_EN ? "grade" : "年级";
    return lang == EB_LANG_EN ? "school" : "学校";
}

/*
 * The sentence of a finding in the caller's language, from its check and the values of its
 * detail: messages are composed when read, so the stored findings stay language-free.
 */
static const char *message(struct eb_arena *a, int check, const char *detail, enum eb_lang lang)
{
    json_t *d = detail ? json_loads(detail, 0, NULL) : NULL;
    int en = lang == EB_LANG_EN;
    const char *m = NULL;
    const char *cid = dstr(d, "citizen_id");
    switch ((enum eb_quality_check_id)check) {
    case EB_QC_ID_CHECK_DIGIT:
        m = en ? eb_arena_printf(a, "Citizen ID %s has a wrong check digit (GB 11643)", cid)
               : eb_arena_printf(a, "身份证号 %s 的校验位错误（GB 11643）", cid);
        break;
    case EB_QC_ID_MALFORMED:
        m = en ? eb_arena_printf(a,
                                 "Citizen ID %s is malformed (length, characters, region or"
                                 " date)",
                                 cid)
               : eb_arena_printf(a, "身份证号 %s 格式无效（位数、字符、地区码或出生日期）", cid);
        break;
    case EB_QC_BIRTH_INVALID:
        m = en ? eb_arena_printf(a, "Birth date %s is not a real past date", dstr(d, "birth_date"))
               : eb_arena_printf(a, "出生日期 %s 无效（不是真实日期或晚于今天）",
                                 dstr(d, "birth_date"));
        break;
    case EB_QC_BIRTH_MISMATCH:
        m = en ? eb_arena_printf(a, "Birth date %s differs from the one in citizen ID %s",
                                 dstr(d, "birth_date"), cid)
               : eb_arena_printf(a, "出生日期 %s 与身份证号 %s 中的出生日期不一致",
                                 dstr(d, "birth_date"), cid);
        break;
    case EB_QC_DUP_IN_SCHOOL:
        m = en ? eb_arena_printf(a, "Citizen ID %s has %lld current enrolments in this school", cid,
                                 dint(d, "records"))
               : eb_arena_printf(a, "身份证号 %s 在本校有 %lld 条在读记录", cid,
                                 dint(d, "records"));
        break;
    case EB_QC_DUP_ACROSS_SCHOOLS:
        m = en ? eb_arena_printf(a, "Citizen ID %s is currently enrolled in %lld schools", cid,
                                 dint(d, "schools"))
               : eb_arena_printf(a, "身份证号 %s 同时在 %lld 所学校在读", cid, dint(d, "schools"));
        break;
    case EB_QC_AGE_GRADE:
        m = en ? eb_arena_printf(a, "Aged %lld on 1 September %lld; grade %s is usually %lld",
                                 dint(d, "age"), dint(d, "school_year"), dstr(d, "grade_code"),
                                 dint(d, "usual_age"))
               : eb_arena_printf(a, "%lld年9月1日年满 %lld 岁，年级代码 %s 通常为 %lld 岁",
                                 dint(d, "school_year"), dint(d, "age"), dstr(d, "grade_code"),
                                 dint(d, "usual_age"));
        break;
    case EB_QC_NO_HEAD_TEACHER:
        m = en ? eb_arena_printf(a, "%lld students and no current head teacher",
                                 dint(d, "students"))
               : eb_arena_printf(a, "班级有 %lld 名学生，没有在任班主任", dint(d, "students"));
        break;
    case EB_QC_CLASS_OVERSIZED:
    case EB_QC_CLASS_SUPERSIZED:
        m = en ? eb_arena_printf(a, "%lld current students, more than %lld", dint(d, "students"),
                                 dint(d, "limit"))
               : eb_arena_printf(a, "班级现有 %lld 名学生，超过 %lld 人（%s）", dint(d, "students"),
                                 dint(d, "limit"),
                                 check == EB_QC_CLASS_SUPERSIZED ? "超大班额" : "大班额");
        break;
    case EB_QC_TEACHER_RATIO:
        m = en ? eb_arena_printf(a, "%lld students need %lld staff by the norms; %lld in post",
                                 dint(d, "students"), dint(d, "required"), dint(d, "staff"))
               : eb_arena_printf(a, "在校生 %lld 人，按编制标准需教职工 %lld 人，现有 %lld 人",
                                 dint(d, "students"), dint(d, "required"), dint(d, "staff"));
        break;
    case EB_QC_ENROLLED_IN_CLOSED:
        m = en ? eb_arena_printf(a, "Enrolled in a %s closed on %s",
                                 closed_what(dstr(d, "closed"), lang), dstr(d, "closed_on"))
               : eb_arena_printf(a, "所在%s已于 %s 撤销，仍在读",
                                 closed_what(dstr(d, "closed"), lang), dstr(d, "closed_on"));
        break;
    case EB_QC_COUNT:
        break;
    }
    json_decref(d);
    return m ? m : check_name(check, lang);
}

static void counts_object(struct eb_jw *w, const int64_t counts[EB_QC_COUNT])
{
    eb_jw_key(w, "counts");
    eb_jw_obj_begin(w);
    for (int i = 0; i < EB_QC_COUNT; i++)
        eb_jw_kint(w, eb_quality_checks()[i].code, counts[i]);
    eb_jw_obj_end(w);
}

static void run_object(struct eb_jw *w, struct eb_arena *a, const struct eb_quality_run *run,
                       int with_reads)
{
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "id", run->id);
    eb_jw_kint(w, "org_id", run->org_id);
    eb_jw_kstr(w, "origin", run->origin);
    eb_jw_kstr(w, "started_at", iso_ms(a, run->started_at));
    eb_jw_kstr(w, "finished_at", iso_ms(a, run->finished_at));
    eb_jw_key(w, "seconds");
    eb_jw_real(w,
               run->finished_at > 0 ? (double)(run->finished_at - run->started_at) / 1000.0 : 0.0);
    eb_jw_kint(w, "findings", run->n_findings);
    counts_object(w, run->counts);
    if (with_reads) {
        eb_jw_kint(w, "people", run->n_people);
        eb_jw_kint(w, "classes", run->n_classes);
        eb_jw_kint(w, "schools", run->n_schools);
    }
    eb_jw_obj_end(w);
}

static void rollup_object(struct eb_jw *w, const struct eb_quality_rollup *row)
{
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "id", row->org_id);
    eb_jw_kstr(w, "name", row->name);
    eb_jw_kstr(w, "kind", eb_org_kind_name(row->kind));
    eb_jw_kint(w, "findings", row->total);
    counts_object(w, row->counts);
    eb_jw_obj_end(w);
}

int eb_quality_overview(struct eb_req *r)
{
    int64_t id;
    struct eb_org org;
    struct eb_quality_rollup total;
    struct eb_quality_rollup *children = NULL;
    struct eb_quality_run last;
    size_t n = 0;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    int rc = eb_store_quality_rollup(r->db, &r->caller, id, r->arena, &total, &n, &children);
    if (rc)
        return rc;
    rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &org);
    if (rc)
        return rc;
    total.name = org.name;
    int has_last = eb_store_quality_last_run(r->db, &r->caller, id, r->arena, &last) == 0;

    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_jw_obj_begin(&w);
    eb_jw_key(&w, "checks");
    eb_jw_arr_begin(&w);
    for (int i = 0; i < EB_QC_COUNT; i++) {
        eb_jw_obj_begin(&w);
        eb_jw_kstr(&w, "code", eb_quality_checks()[i].code);
        eb_jw_kstr(&w, "severity", severity_name(i));
        eb_jw_kstr(&w, "name", check_name(i, r->lang));
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_key(&w, "total");
    rollup_object(&w, &total);
    eb_jw_key(&w, "children");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
        rollup_object(&w, &children[i]);
    eb_jw_arr_end(&w);
    eb_jw_key(&w, "last_run");
    if (has_last)
        run_object(&w, r->arena, &last, 0);
    else
        eb_jw_null(&w);
    /* The nightly run of this server (serve --quality-at), when it has one. */
    eb_jw_key(&w, "schedule");
    eb_jw_obj_begin(&w);
    int at = r->app ? r->app->quality_at : 0;
    if (at > 0) {
        eb_jw_kstr(&w, "at", eb_arena_printf(r->arena, "%02d:%02d", (at - 1) / 60, (at - 1) % 60));
        eb_jw_kstr(&w, "next_run", iso_ms(r->arena, (int64_t)r->app->quality_next_at * 1000));
    } else {
        eb_jw_kstr(&w, "at", NULL);
        eb_jw_kstr(&w, "next_run", NULL);
    }
    eb_jw_obj_end(&w);
    eb_jw_obj_end(&w);
    return eb_http_stream_end(r, &w);
}

/* ?check= as a check id (-1 = all); 1 when a 400 was set. */
static int check_arg(struct eb_req *r, int *check)
{
    const char *v = eb_http_query(r, "check");
    *check = -1;
    if (v == NULL || v[0] == '\0')
        return 0;
    *check = eb_quality_check_parse(v);
    if (*check < 0) {
        eb_http_error(r, 400, "invalid_field", "check: not a known check code");
        return 1;
    }
    return 0;
}

static void finding_object(struct eb_jw *w, struct eb_req *r, const struct eb_quality_finding *f)
{
    eb_jw_obj_begin(w);
    eb_jw_kint(w, "id", f->id);
    eb_jw_kint(w, "run_id", f->run_id);
    eb_jw_kstr(w, "check", eb_quality_checks()[f->check].code);
    eb_jw_kstr(w, "severity", severity_name(f->check));
    eb_jw_kstr(w, "name", check_name(f->check, r->lang));
    eb_jw_kstr(w, "message", message(r->arena, f->check, f->detail, r->lang));
    eb_jw_key(w, "detail");
    eb_jw_raw(w, f->detail ? f->detail : "{}");
    eb_jw_kstr(w, "object_type", f->object_type);
    eb_jw_kint(w, "object_id", f->object_id);
    eb_jw_kstr(w, "object_name", f->object_name);
    eb_jw_kint(w, "org_id", f->org_id);
    eb_jw_kstr(w, "org_name", f->org_name);
    eb_jw_kint(w, "school_id", f->school_id);
    eb_jw_kstr(w, "school_name", f->school_name);
    eb_jw_kstr(w, "created_at", iso_ms(r->arena, f->created_at));
    eb_jw_obj_end(w);
}

int eb_quality_findings(struct eb_req *r)
{
    int64_t id, after, next = 0;
    int limit, check;
    size_t n = 0;
    struct eb_quality_finding *items = NULL;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    if (eb_registry_page_args(r, &after, &limit))
        return eb_http_error(r, 400, "bad_request", "after/limit");
    if (check_arg(r, &check))
        return 0;
    int rc = eb_store_quality_findings(r->db, &r->caller, id, check, after, limit, r->arena, &n,
                                       &items, &next);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    eb_registry_page_begin(&w);
    for (size_t i = 0; i < n; i++)
        finding_object(&w, r, &items[i]);
    eb_registry_page_end(&w, next);
    return eb_http_stream_end(r, &w);
}

static const char *object_type_zh(const char *t)
{
    if (t == NULL)
        return NULL;
    return strcmp(t, "person") == 0 ? "人员" : strcmp(t, "class") == 0 ? "班级" : "学校";
}

/* Pages of the export: each with a fresh arena, so a city's findings cost one page of memory. */
#define PAGE       500
#define PAGE_ARENA (8u << 20)

int eb_quality_findings_xlsx(struct eb_req *r)
{
    static const struct eb_xlsx_col cols[] = {
        {"检查项", 24},   {"严重程度", 10}, {"问题说明", 56}, {"对象类型", 10}, {"对象名称", 22},
        {"对象编号", 12}, {"所在单位", 24}, {"所属学校", 30}, {"检查时间", 18},
    };
    enum { N_COLS = sizeof(cols) / sizeof(cols[0]) };
    struct eb_xlsx *x = NULL;
    struct eb_arena *page = NULL;
    int64_t id, after = 0;
    int check, rc;
    struct eb_org node;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    if (check_arg(r, &check))
        return 0;
    /* The scope first (404 like a missing node), then the node's name for the file name. */
    do {
        size_t n = 0;
        struct eb_quality_finding *items = NULL;
        int64_t next = 0;
        eb_arena_destroy(page);
        page = eb_arena_create(PAGE_ARENA);
        rc = eb_store_quality_findings(r->db, &r->caller, id, check, after, PAGE, page, &n, &items,
                                       &next);
        if (rc)
            goto done;
        if (x == NULL) {
            rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &node);
            if (rc == 0)
                rc = eb_xlsx_open("数据质量问题", cols, N_COLS, &x);
            if (rc)
                goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const struct eb_quality_finding *f = &items[i];
            const char *cells[N_COLS] = {
                check_name(f->check, EB_LANG_ZH),
                eb_quality_checks()[f->check].severity == EB_QUALITY_ERROR ? "错误" : "警告",
                message(page, f->check, f->detail, EB_LANG_ZH),
                object_type_zh(f->object_type),
                f->object_name,
                eb_arena_printf(page, "%lld", (long long)f->object_id),
                f->org_name,
                f->school_name,
                local_ms(page, f->created_at),
            };
            rc = eb_xlsx_row(x, cells);
            if (rc)
                goto done;
        }
        after = next;
    } while (after != 0);
    const char *name = eb_arena_printf(r->arena, "%s_数据质量问题.xlsx", node.name);
    const char *ascii = eb_arena_printf(r->arena, "org-%lld-quality.xlsx", (long long)id);
    rc = eb_xlsx_send(x, r, name, ascii);
    x = NULL;
done:
    eb_arena_destroy(page);
    eb_xlsx_discard(x);
    return rc;
}

int eb_quality_run(struct eb_req *r)
{
    int64_t id;
    struct eb_quality_run run;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    int rc = eb_store_quality_run(r->db, &r->caller, id, "manual", NULL, &run);
    if (rc)
        return rc;
    struct eb_jw w;
    eb_http_stream(r, 200, &w);
    run_object(&w, r->arena, &run, 1);
    return eb_http_stream_end(r, &w);
}
