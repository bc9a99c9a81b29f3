/* Excel downloads of the registry's lists, in the caller's scope exactly as their JSON lists. */
#include "export/xlsx.h"
#include "registry/registry.h"
#include "registry/registry_ids.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

/* A page of the store's lists; an export walks every page with a fresh arena each time, so
 * memory stays one page whatever the size of the school. */
#define PAGE       500
#define PAGE_ARENA (8u << 20)

static const char *kind_zh(enum eb_org_kind k)
{
    switch (k) {
    case EB_ORG_CITY:
        return "市";
    case EB_ORG_DISTRICT:
        return "区县";
    case EB_ORG_SCHOOL:
        return "学校";
    case EB_ORG_GRADE:
        return "年级";
    case EB_ORG_CLASS:
        return "班级";
    }
    return "";
}

static const char *person_kind_zh(const char *k)
{
    if (k == NULL)
        return NULL;
    return strcmp(k, "student") == 0   ? "学生"
           : strcmp(k, "teacher") == 0 ? "教师"
           : strcmp(k, "parent") == 0  ? "家长"
           : strcmp(k, "staff") == 0   ? "职工"
                                       : k;
}

static const char *sex_zh(enum eb_sex s)
{
    return s == EB_SEX_MALE ? "男" : s == EB_SEX_FEMALE ? "女" : "未知";
}

/* The school stages in words, "小学、初中". */
static const char *stages_zh(struct eb_arena *a, unsigned stages)
{
    static const char *names[] = {"学前", "小学", "初中", "高中", "中职", "特殊教育", "成人教育"};
    char buf[128];
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(stages & (1u << i)))
            continue;
        int n = snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "、" : "", names[i]);
        if (n < 0 || (size_t)n >= sizeof(buf) - len)
            break;
        len += (size_t)n;
    }
    return eb_arena_strdup(a, buf);
}

int eb_export_children_xlsx(struct eb_req *r)
{
    static const struct eb_xlsx_col cols[] = {
        {"名称", 30}, {"类型", 8},        {"学校标识码", 14},   {"办学类型", 16},
        {"学段", 18}, {"城乡类型", 10},   {"行政区划代码", 14}, {"年级代码", 10},
        {"学年", 12}, {"在校学生数", 12}, {"地址", 36},         {"撤销日期", 12},
    };
    enum { N_COLS = sizeof(cols) / sizeof(cols[0]) };
    struct eb_xlsx *x = NULL;
    struct eb_arena *page = NULL;
    int64_t id, after = 0;
    int rc;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    struct eb_org node;
    rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &node);
    if (rc)
        return rc;
    rc = eb_xlsx_open("下级单位", cols, N_COLS, &x);
    if (rc)
        goto done;
    do {
        struct eb_org_list list;
        eb_arena_destroy(page);
        page = eb_arena_create(PAGE_ARENA);
        rc = eb_store_org_children(r->db, &r->caller, id, after, PAGE, page, &list);
        if (rc)
            goto done;
        for (size_t i = 0; i < list.n; i++) {
            const struct eb_org *o = &list.items[i];
            const char *cells[N_COLS] = {
                o->name,
                kind_zh(o->kind),
                o->school_code,
                o->running_type ? eb_running_type_name(o->running_type) : NULL,
                o->kind == EB_ORG_SCHOOL ? stages_zh(page, o->stages) : NULL,
                o->urban_rural,
                o->division_code,
                o->grade_code,
                o->school_year ? eb_arena_printf(page, "%d-%d", o->school_year, o->school_year + 1)
                               : NULL,
                eb_arena_printf(page, "%lld", (long long)o->n_students),
                o->address,
                o->closed_on,
            };
            rc = eb_xlsx_row(x, cells);
            if (rc)
                goto done;
        }
        after = list.next;
    } while (after != 0);
    const char *name = eb_arena_printf(r->arena, "%s_下级单位.xlsx", node.name);
    const char *ascii = eb_arena_printf(r->arena, "org-%lld-children.xlsx", (long long)id);
    rc = eb_xlsx_send(x, r, name, ascii);
    x = NULL;
done:
    eb_arena_destroy(page);
    eb_xlsx_discard(x);
    return rc;
}

int eb_export_people_xlsx(struct eb_req *r)
{
    static const struct eb_xlsx_col cols[] = {
        {"姓名", 12},     {"性别", 6},      {"出生日期", 12}, {"学籍号", 22}, {"身份证号", 20},
        {"教师工号", 14}, {"联系电话", 14}, {"所属单位", 30}, {"类别", 8},
    };
    enum { N_COLS = sizeof(cols) / sizeof(cols[0]) };
    struct eb_xlsx *x = NULL;
    struct eb_arena *page = NULL;
    int64_t id, after = 0;
    int rc;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    const char *role = eb_http_query(r, "role");
    enum eb_people_filter filter;
    const char *what, *what_ascii;
    if (!role || strcmp(role, "student") == 0) {
        filter = EB_PEOPLE_STUDENTS;
        what = "学生名单";
        what_ascii = "students";
    } else if (strcmp(role, "teacher") == 0) {
        filter = EB_PEOPLE_TEACHERS;
        what = "教职工名单";
        what_ascii = "teachers";
    } else if (strcmp(role, "parent") == 0) {
        filter = EB_PEOPLE_PARENTS;
        what = "家长名单";
        what_ascii = "parents";
    } else {
        return eb_http_error(r, 400, "bad_request", "role must be student, teacher or parent");
    }
    const char *text = eb_http_query(r, "q");
    if (text && text[0] && filter == EB_PEOPLE_PARENTS)
        return eb_http_error(r, 400, "bad_request", "q needs role=student or role=teacher");
    struct eb_org node;
    rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &node);
    if (rc)
        return rc;
    rc = eb_xlsx_open(what, cols, N_COLS, &x);
    if (rc)
        goto done;
    do {
        struct eb_person_list list;
        eb_arena_destroy(page);
        page = eb_arena_create(PAGE_ARENA);
        /* With ?q= the sheet holds what the search page shows. */
        rc = text && text[0]
                 ? eb_store_people_search(r->db, &r->caller, id, filter, text, after, PAGE, page,
                                          &list)
                 : eb_store_org_people(r->db, &r->caller, id, filter, after, PAGE, page, &list);
        if (rc)
            goto done;
        for (size_t i = 0; i < list.n; i++) {
            const struct eb_person *p = &list.items[i];
            /* The lists never carry a plain citizen ID; mask again should one ever arrive, so
             * that no file can hold one. */
            char masked[19];
            const char *cid = p->citizen_id;
            if (cid && !p->citizen_id_masked) {
                eb_citizen_id_mask(cid, masked);
                cid = masked;
            }
            const char *cells[N_COLS] = {
                p->name,     sex_zh(p->sex), p->birth_date, p->student_no,           cid,
                p->staff_no, p->phone,       p->org_name,   person_kind_zh(p->kind),
            };
            rc = eb_xlsx_row(x, cells);
            if (rc)
                goto done;
        }
        after = list.next;
    } while (after != 0);
    const char *name = eb_arena_printf(r->arena, "%s_%s.xlsx", node.name, what);
    const char *ascii = eb_arena_printf(r->arena, "org-%lld-%s.xlsx", (long long)id, what_ascii);
    rc = eb_xlsx_send(x, r, name, ascii);
    x = NULL;
done:
    eb_arena_destroy(page);
    eb_xlsx_discard(x);
    return rc;
}
