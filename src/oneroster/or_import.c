/* OneRoster 1.1 import: a validated package streamed into the registry in one transaction. */
#include "oneroster/or_io.h"
#include "oneroster/or_map.h"

#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "json/json.h"
#include "registry/registry_ids.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the import's own findings ---------------------------------------------------------- */

enum imp_code {
    IC_OUTSIDE_SCOPE,
    IC_UNKNOWN_REFERENCE,
    IC_ORG_UNPLACEABLE,
    IC_GRADE_UNKNOWN,
    IC_CLASS_UNPLACEABLE,
    IC_ID_TOO_LONG,
    IC_WRITE_FAILED,
    IC_KIND_CONFLICT,
    IC_INVALID_VALUE,
    IC_ORG_TYPE_SKIPPED,
    IC_SESSION_SKIPPED,
    IC_IDENTIFIER_IGNORED,
    IC_ENROLLMENT_SKIPPED,
    IC_PARENT_CHANGE_IGNORED,
    IC_N
};

/* Severity and messages of each import finding ({c} column, {v} value, {d} detail), listed
 * with their reasons in docs/internals/oneroster.md ("Import findings"). */
static const struct {
    const char *code;
    enum eb_or_severity sev;
    const char *zh, *en;
} imp_catalogue[IC_N] = {
    [IC_OUTSIDE_SCOPE] = {"outside_scope", EB_OR_ERROR, "“{v}”指向您管理范围以外的记录（{d}）",
                          "'{v}' names a record outside your scope ({d})"},
    [IC_UNKNOWN_REFERENCE] = {"unknown_reference", EB_OR_ERROR,
                              "{c} 引用的“{v}”在数据包和数据库中都不存在",
                              "{c} refers to '{v}', which is neither in the package nor in the "
                              "database"},
    [IC_ORG_UNPLACEABLE] = {"org_unplaceable", EB_OR_ERROR,
                            "机构“{v}”无法放入机构树（学校须在区县或市之下，区县须在市之下，"
                            "上级须在数据包或数据库中，数据库只有一个市）",
                            "the org '{v}' cannot be placed in the org tree (a school belongs "
                            "under a district or the city, a district under the city, the parent "
                            "must be in the package or the database, which holds one city)"},
    [IC_GRADE_UNKNOWN] = {"grade_unknown", EB_OR_ERROR,
                          "{c}“{v}”无法对应到年级代码（应为 PR PK TK KG 01–12，或 "
                          "metadata.edubrain.grade_code）",
                          "{c} '{v}' does not map to a grade code (PR PK TK KG 01-12, or "
                          "metadata.edubrain.grade_code)"},
    [IC_CLASS_UNPLACEABLE] = {"class_unplaceable", EB_OR_ERROR,
                              "“{v}”无法放入年级（{c} 须指向同一学校的课程或一所学校）",
                              "'{v}' cannot be placed in a grade ({c} must name a course of the "
                              "same school, or a school)"},
    [IC_ID_TOO_LONG] = {"id_too_long", EB_OR_ERROR, "sourcedId 超过 255 个字符，无法保存",
                        "the sourcedId is longer than 255 characters and cannot be kept"},
    [IC_WRITE_FAILED] = {"write_failed", EB_OR_ERROR, "写入“{v}”失败：{d}",
                         "writing '{v}' failed: {d}"},
    [IC_KIND_CONFLICT] = {"kind_conflict", EB_OR_ERROR, "“{v}”已作为{d}导入过，不能改变角色",
                          "'{v}' was imported before as a {d} and cannot change its role"},
    [IC_INVALID_VALUE] = {"invalid_value", EB_OR_ERROR, "{c}“{v}”无效：{d}",
                          "{c} '{v}' is invalid: {d}"},
    [IC_ORG_TYPE_SKIPPED] = {"org_type_skipped", EB_OR_WARNING,
                             "类型为“{d}”的机构“{v}”不导入（只导入市、区县和学校）",
                             "the org '{v}' of type '{d}' is not imported (only cities, "
                             "districts and schools are)"},
    [IC_SESSION_SKIPPED] = {"session_skipped", EB_OR_WARNING, "学期“{v}”未导入：{d}",
                            "the session '{v}' was not imported: {d}"},
    [IC_IDENTIFIER_IGNORED] = {"identifier_ignored", EB_OR_WARNING, "{c}“{v}”不是有效的{d}，已忽略",
                               "{c} '{v}' is not a valid {d} and was ignored"},
    [IC_ENROLLMENT_SKIPPED] = {"enrollment_skipped", EB_OR_WARNING, "选课“{v}”未导入：{d}",
                               "the enrollment '{v}' was not imported: {d}"},
    [IC_PARENT_CHANGE_IGNORED] = {"parent_change_ignored", EB_OR_WARNING,
                                  "机构“{v}”的上级变化未导入（移动学校请用学校管理）",
                                  "the new parent of the org '{v}' was not imported (schools are "
                                  "moved in school management)"},
};

struct imp_finding {
    enum imp_code code;
    enum eb_or_file file;
    long line;
    const char *column, *value, *detail; /* arena copies */
};

/* ---- per-kind details kept for the rows of this package --------------------------------- */

struct user_info {
    int64_t id, school_id;
    uint8_t kind; /* enum ukind */
    uint8_t fresh;
    const char *relation; /* parents: metadata.edubrain.relation */
};

enum ukind { UK_STUDENT = 1, UK_TEACHER, UK_PARENT, UK_STAFF };

struct class_info {
    int64_t id, school_id;
};

struct course_info {
    int64_t school_id, grade_id;
    char grade[3];
    int year;
    const char *title, *sid;
};

struct buffered {
    long line;
    int tobedeleted;
    char **f;     /* normative fields (arena copies) */
    char **extra; /* values of the known extension columns, by enum ext */
};

enum ext {
    X_DIVISION,
    X_RUNNING,
    X_STAGES,
    X_URBAN,
    X_ADDRESS,
    X_LAT,
    X_LON,
    X_CLOSED,
    X_GRADE,
    X_NAME,
    X_POST_TITLE,
    X_POST_SUBJECTS,
    X_POST_START,
    X_RELATION,
    X_SUBJECT,
    X_N
};

static const char *const ext_names[X_N] = {
    "metadata.edubrain.division_code", "metadata.edubrain.running_type",
    "metadata.edubrain.stages",        "metadata.edubrain.urban_rural",
    "metadata.edubrain.address",       "metadata.edubrain.lat",
    "metadata.edubrain.lon",           "metadata.edubrain.closed_on",
    "metadata.edubrain.grade_code",    "metadata.edubrain.name",
    "metadata.edubrain.post_title",    "metadata.edubrain.post_subjects",
    "metadata.edubrain.post_start",    "metadata.edubrain.relation",
    "metadata.edubrain.subject",
};

struct agent_ref {
    size_t of; /* index into users */
    const char *sid;
    long line;
};

struct year_info {
    int64_t id;
    int start; /* the calendar year it starts in */
};

struct eb_or_import {
    struct eb_db *db;
    const struct eb_caller *c;
    struct eb_or_import_options opt;
    struct eb_or_report *report;
    struct eb_arena *a; /* everything kept until the import is freed */
    char today[11];
    int loaded, written, fatal;
    int own, in_tx; /* the write transaction, opened at the first row of a valid package */
    int64_t root_id;
    char root_path[EB_PATH_MAX];
    enum eb_or_mode modes[EB_OR_N_FILES];
    struct eb__or_idmap *maps[EB_ORK_TEACHING + 1];
    struct eb__or_idmap *grades;        /* "school:code:year" -> grade id */
    struct eb__or_idmap *grade_schools; /* schools whose grades are loaded */
    struct eb__or_idmap *posts;         /* "person:school" -> current post id */
    struct eb_or_counts counts[EB_ORC_N];
    struct imp_finding *findings;
    size_t n_findings, cap_findings;
    size_t n_errors, n_warnings, per_code[IC_N];
    struct user_info *users;
    size_t n_users, cap_users;
    struct class_info *classes;
    size_t n_classes, cap_classes;
    struct course_info *courses;
    size_t n_courses, cap_courses;
    struct buffered *rows; /* orgs and sessions, handled at the end of their file */
    size_t n_rows, cap_rows;
    struct year_info *years;
    size_t n_years;
    /* agentSourcedIds pairs (user index, agent sourcedId), settled at the end of users.csv */
    struct agent_ref *agents;
    size_t n_agents, cap_agents;
    /* local ids seen in bulk files, for the implicit ends */
    int64_t *seen;
    size_t n_seen, cap_seen;
    int64_t rows_total, rows_done;
    int64_t city_id;
};

/* ---- helpers ---------------------------------------------------------------------------- */

static void add_finding(struct eb_or_import *imp, enum imp_code code, enum eb_or_file file,
                        long line, const char *column, const char *value, const char *detail)
{
    if (imp_catalogue[code].sev == EB_OR_ERROR)
        imp->n_errors++;
    else
        imp->n_warnings++;
    size_t max = imp->opt.max_per_code ? imp->opt.max_per_code : 100;
    if (imp->per_code[code]++ >= max)
        return;
    size_t cap = imp->cap_findings;
    imp->findings =
        eb_arena_grow(imp->a, imp->findings, imp->n_findings, &cap, sizeof(*imp->findings));
    imp->cap_findings = cap;
    struct imp_finding *f = &imp->findings[imp->n_findings++];
    f->code = code;
    f->file = file;
    f->line = line;
    f->column = eb_arena_strdup(imp->a, column ? column : "");
    /* Values come from the package: keep them short, as the validator does. */
    char v[201];
    snprintf(v, sizeof(v), "%s", value ? value : "");
    size_t n = strlen(v);
    while (n > 0 && ((unsigned char)v[n - 1] & 0xC0) == 0x80)
        n--;
    if (n > 0 && (unsigned char)v[n - 1] >= 0xC0 && strlen(value ? value : "") > 200)
        n--;
    v[n] = '\0';
    f->value = eb_arena_strdup(imp->a, v);
    f->detail = eb_arena_strdup(imp->a, detail ? detail : "");
}

/* A write failed: the database said no. Row-level refusals (scope, validation) are findings;
 * anything else ends the import. */
static int write_error(struct eb_or_import *imp, int rc, const struct eb_or_row *row,
                       const char *what)
{
    if (rc == EB_ENOTFOUND) {
        add_finding(imp, IC_OUTSIDE_SCOPE, row->file, row->line, NULL, what, "write");
        return 0;
    }
    add_finding(imp, IC_WRITE_FAILED, row->file, row->line, NULL, what, eb_strerror(rc));
    if (rc == EB_EINVAL || rc == EB_EEXIST || rc == EB_ECONFLICT)
        return 0;
    imp->fatal = rc;
    return rc;
}

static const char *fld(const struct eb_or_row *row, int col)
{
    return (size_t)col < row->n_fields ? row->fields[col] : "";
}

static const char *ext_value(const struct eb_or_row *row, enum ext x)
{
    for (size_t i = 0; i < row->n_extra; i++)
        if (strcmp(row->extra_names[i], ext_names[x]) == 0)
            return row->extra_values[i][0] ? row->extra_values[i] : NULL;
    return NULL;
}

static int tobedeleted(const struct eb_or_row *row)
{
    return strcmp(fld(row, EB_OR_COL_STATUS), "tobedeleted") == 0;
}

static char *dup_or_null(struct eb_or_import *imp, const char *s)
{
    return s && s[0] ? eb_arena_strdup(imp->a, s) : NULL;
}

static void seen_add(struct eb_or_import *imp, int64_t id)
{
    if (imp->n_seen == imp->cap_seen) {
        imp->cap_seen = imp->cap_seen ? imp->cap_seen * 2 : 4096;
        imp->seen = eb_xrealloc(imp->seen, imp->cap_seen * sizeof(*imp->seen));
    }
    imp->seen[imp->n_seen++] = id;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void seen_sort(struct eb_or_import *imp)
{
    if (imp->n_seen > 1)
        qsort(imp->seen, imp->n_seen, sizeof(*imp->seen), cmp_i64);
}

static int seen_has(const struct eb_or_import *imp, int64_t id)
{
    return imp->n_seen > 0 &&
           bsearch(&id, imp->seen, imp->n_seen, sizeof(*imp->seen), cmp_i64) != NULL;
}

static void progress(struct eb_or_import *imp, int force)
{
    if (imp->opt.progress && (force || imp->rows_done % 5000 == 0))
        imp->opt.progress(imp->opt.progress_arg, "writing", imp->rows_done, imp->rows_total);
}

/* The first item of a comma-separated list, copied into out. */
static void first_item(const char *list, char *out, size_t cap)
{
    size_t n = strcspn(list, ",");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, list, n);
    out[n] = '\0';
}

/* ---- grades ----------------------------------------------------------------------------- */

static const struct {
    const char code[3], ceds[3], *name;
} grade_table[] = {
    {"01", "PR", "小班"},       {"02", "PK", "中班"},       {"03", "KG", "大班"},
    {"11", "01", "一年级"},     {"12", "02", "二年级"},     {"13", "03", "三年级"},
    {"14", "04", "四年级"},     {"15", "05", "五年级"},     {"16", "06", "六年级"},
    {"21", "07", "七年级"},     {"22", "08", "八年级"},     {"23", "09", "九年级"},
    {"24", "09", "初四年级"},   {"31", "10", "高一年级"},   {"32", "11", "高二年级"},
    {"33", "12", "高三年级"},   {"41", "10", "中职一年级"}, {"42", "11", "中职二年级"},
    {"43", "12", "中职三年级"},
};
#define N_GRADES (sizeof(grade_table) / sizeof(grade_table[0]))

const char *eb__or_grade_ceds(const char *code)
{
    for (size_t i = 0; code && i < N_GRADES; i++)
        if (strcmp(grade_table[i].code, code) == 0)
            return grade_table[i].ceds;
    return NULL;
}

/* The registry's grade code of a CEDS token: the first of the table (六三制, 高中; TK reads as
 * 大班), so the exact code must travel in metadata.edubrain.grade_code for 五四制 and 中职. */
static const char *grade_from_ceds(const char *ceds)
{
    if (strcmp(ceds, "TK") == 0)
        return "03";
    for (size_t i = 0; i < N_GRADES; i++)
        if (strcmp(grade_table[i].ceds, ceds) == 0)
            return grade_table[i].code;
    return NULL;
}

static const char *grade_name(const char *code)
{
    for (size_t i = 0; i < N_GRADES; i++)
        if (strcmp(grade_table[i].code, code) == 0)
            return grade_table[i].name;
    return "年级";
}

static int valid_grade_code(const char *s)
{
    return s && strlen(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9';
}

/* ---- names ------------------------------------------------------------------------------ */

/* A person's name from familyName and givenName: Chinese names are family + given without a
 * space, Latin ones given + space + family; metadata.edubrain.name wins when present (the
 * export writes it when the split would not give the name back). */
static char *join_name(struct eb_or_import *imp, const struct eb_or_row *row)
{
    const char *full = ext_value(row, X_NAME);
    if (full)
        return eb_arena_strdup(imp->a, full);
    const char *given = fld(row, EB_OR_USERS_GIVEN_NAME),
               *family = fld(row, EB_OR_USERS_FAMILY_NAME);
    int cjk = 0;
    for (const char *p = family; *p; p++)
        cjk |= (unsigned char)*p >= 0x80;
    for (const char *p = given; *p; p++)
        cjk |= (unsigned char)*p >= 0x80;
    return cjk ? eb_arena_printf(imp->a, "%s%s", family, given)
               : eb_arena_printf(imp->a, "%s%s%s", given, given[0] && family[0] ? " " : "", family);
}

/* ---- loading what the database already maps -------------------------------------------- */

static int load_id(void *arg, const char *sid, int64_t local, int org_kind, const char *username)
{
    struct eb__or_idmap *m = arg;
    (void)username;
    eb__or_idmap_put(m, sid, local, (uint32_t)org_kind, 0);
    return 0;
}

static int load_state(struct eb_or_import *imp)
{
    int rc = 0;
    for (int k = EB_ORK_ORG; rc == 0 && k <= EB_ORK_TEACHING; k++) {
        imp->maps[k] = eb__or_idmap_create();
        rc = eb_store_or_ids(imp->db, imp->c, (enum eb_or_kind)k, load_id, imp->maps[k]);
    }
    imp->grades = eb__or_idmap_create();
    imp->grade_schools = eb__or_idmap_create();
    imp->posts = eb__or_idmap_create();
    if (rc == 0)
        rc = eb_store_or_city(imp->db, &imp->city_id);
    if (rc != 0)
        return rc;
    imp->root_id = imp->opt.root_id ? imp->opt.root_id : imp->city_id;
    if (imp->root_id) {
        struct eb_org o;
        rc = eb_store_org_get(imp->db, imp->c, imp->root_id, imp->a, &o);
        if (rc != 0)
            return rc;
        snprintf(imp->root_path, sizeof(imp->root_path), "%s", o.path);
    }
    struct eb_school_year *ys = NULL;
    size_t n = 0;
    rc = eb_store_year_list(imp->db, imp->c, imp->a, &n, &ys);
    if (rc == EB_ENOTFOUND)
        rc = 0;
    if (rc != 0)
        return rc;
    imp->years = eb_arena_alloc(imp->a, (n + 1) * sizeof(*imp->years));
    for (size_t i = 0; i < n; i++) {
        imp->years[i].id = ys[i].id;
        imp->years[i].start = (int)strtol(ys[i].name, NULL, 10);
    }
    imp->n_years = n;
    return 0;
}

static int year_start_of_local(const struct eb_or_import *imp, int64_t year_id)
{
    for (size_t i = 0; i < imp->n_years; i++)
        if (imp->years[i].id == year_id)
            return imp->years[i].start;
    return 0;
}

/* The start year of a session sourcedId (a school year or a term), 0 when unknown. Sessions of
 * this package carry it in their aux; mapped ones are looked up in the calendar. */
static int session_year(const struct eb_or_import *imp, const char *sid)
{
    int64_t local = 0;
    uint32_t aux = 0;
    for (int k = EB_ORK_YEAR; k <= EB_ORK_TERM; k++) {
        if (!eb__or_idmap_get(imp->maps[k], sid, &local, &aux, NULL))
            continue;
        if (aux >= 1900)
            return (int)aux;
        if (local > 0)
            return year_start_of_local(imp, k == EB_ORK_TERM ? local / 10 : local);
    }
    return 0;
}

/* ---- orgs.csv --------------------------------------------------------------------------- */

static struct buffered *buffer_row(struct eb_or_import *imp, const struct eb_or_row *row)
{
    size_t cap = imp->cap_rows;
    imp->rows = eb_arena_grow(imp->a, imp->rows, imp->n_rows, &cap, sizeof(*imp->rows));
    imp->cap_rows = cap;
    struct buffered *b = &imp->rows[imp->n_rows++];
    b->line = row->line;
    b->tobedeleted = tobedeleted(row);
    b->f = eb_arena_alloc(imp->a, row->n_fields * sizeof(char *));
    b->extra = eb_arena_alloc(imp->a, X_N * sizeof(char *));
    for (size_t i = 0; i < row->n_fields; i++)
        b->f[i] = eb_arena_strdup(imp->a, row->fields[i]);
    for (int x = 0; x < X_N; x++)
        b->extra[x] = dup_or_null(imp, ext_value(row, (enum ext)x));
    return b;
}

static int is_admin_type(const char *type)
{
    return strcmp(type, "district") == 0 || strcmp(type, "local") == 0 ||
           strcmp(type, "state") == 0 || strcmp(type, "national") == 0;
}

/* The buffered org row with this sourcedId, or -1. Org files hold a few thousand rows. */
static long org_row_of(const struct eb_or_import *imp, const char *sid)
{
    for (size_t i = 0; sid[0] && i < imp->n_rows; i++)
        if (strcmp(imp->rows[i].f[EB_OR_COL_SOURCED_ID], sid) == 0)
            return (long)i;
    return -1;
}

/*
 * The registry's kind of an org row, from the tree's shape rather than the type alone, since
 * packages differ on which type a city is (ours: local over district; §1.11 of the domain notes:
 * district over local): a school is a school; an administrative org (district, local, state,
 * national) without a parent is the city when it is of a higher type or other administrative
 * orgs hang under it, else a district (a district's own package); one under the city is a
 * district; deeper ones have no place (0, like a department).
 */
static enum eb_org_kind org_kind_of(const struct eb_or_import *imp, size_t i, int depth)
{
    const struct buffered *b = &imp->rows[i];
    const char *type = b->f[EB_OR_ORGS_TYPE];
    if (strcmp(type, "school") == 0)
        return EB_ORG_SCHOOL;
    if (!is_admin_type(type) || depth > 4)
        return 0;
    const char *psid = b->f[EB_OR_ORGS_PARENT_SOURCED_ID];
    if (psid[0]) {
        long p = org_row_of(imp, psid);
        uint32_t mapped_kind = 0;
        enum eb_org_kind pk =
            p >= 0 ? org_kind_of(imp, (size_t)p, depth + 1)
            : eb__or_idmap_get(imp->maps[EB_ORK_ORG], psid, NULL, &mapped_kind, NULL)
                ? (enum eb_org_kind)mapped_kind
                : 0;
        return pk == EB_ORG_CITY ? EB_ORG_DISTRICT : 0;
    }
    if (strcmp(type, "district") != 0)
        return EB_ORG_CITY;
    const char *sid = b->f[EB_OR_COL_SOURCED_ID];
    for (size_t k = 0; k < imp->n_rows; k++)
        if (k != i && is_admin_type(imp->rows[k].f[EB_OR_ORGS_TYPE]) &&
            strcmp(imp->rows[k].f[EB_OR_ORGS_PARENT_SOURCED_ID], sid) == 0)
            return EB_ORG_CITY;
    return EB_ORG_DISTRICT;
}

/* The org fields a row of orgs.csv gives (strings point into the buffered row). */
static void org_fields(const struct buffered *b, enum eb_org_kind kind, struct eb_org *o)
{
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    o->name = b->f[EB_OR_ORGS_NAME];
    const char *ident = b->f[EB_OR_ORGS_IDENTIFIER][0] ? b->f[EB_OR_ORGS_IDENTIFIER] : NULL;
    if (kind == EB_ORG_SCHOOL)
        o->school_code = ident;
    o->division_code = b->extra[X_DIVISION]    ? b->extra[X_DIVISION]
                       : kind != EB_ORG_SCHOOL ? ident
                                               : NULL;
    o->running_type = b->extra[X_RUNNING];
    o->stages = b->extra[X_STAGES] ? (unsigned)strtoul(b->extra[X_STAGES], NULL, 10) : 0;
    o->urban_rural = b->extra[X_URBAN];
    o->address = b->extra[X_ADDRESS];
    if (b->extra[X_LAT] && b->extra[X_LON]) {
        o->has_coords = 1;
        o->lat = strtod(b->extra[X_LAT], NULL);
        o->lon = strtod(b->extra[X_LON], NULL);
    }
    o->closed_on = b->extra[X_CLOSED];
}

static int streq(const char *a, const char *b)
{
    return (a ? a : "")[0] == (b ? b : "")[0] && strcmp(a ? a : "", b ? b : "") == 0;
}

/* Writes the changes of an existing org; counts updated or unchanged. */
static int org_update(struct eb_or_import *imp, int64_t id, const struct eb_org *in,
                      const struct buffered *b)
{
    struct eb_org cur;
    int rc = eb_store_org_get(imp->db, imp->c, id, imp->a, &cur);
    if (rc != 0)
        return rc;
    int same = streq(cur.name, in->name) &&
               (!in->school_code || streq(cur.school_code, in->school_code)) &&
               (!in->division_code || streq(cur.division_code, in->division_code)) &&
               (!in->running_type || streq(cur.running_type, in->running_type)) &&
               (!in->stages || cur.stages == in->stages) &&
               (!in->urban_rural || streq(cur.urban_rural, in->urban_rural)) &&
               (!in->address || streq(cur.address, in->address)) &&
               (!in->closed_on || streq(cur.closed_on, in->closed_on)) &&
               (!in->has_coords || (cur.has_coords && cur.lat == in->lat && cur.lon == in->lon));
    if (same) {
        imp->counts[EB_ORC_ORGS].unchanged++;
        return 0;
    }
    (void)b;
    rc = eb_store_org_update(imp->db, imp->c, id, in);
    if (rc == 0)
        imp->counts[EB_ORC_ORGS].updated++;
    return rc;
}

/* True when the org at path is above the caller's scope: context of the package (the city and
 * district a school's package names), read but never written. */
static int is_context(const struct eb_or_import *imp, const char *path)
{
    if (imp->c->system)
        return 0;
    for (size_t i = 0; i < imp->c->n_grants; i++)
        if (strncmp(imp->c->grants[i].org_path, path, strlen(path)) == 0)
            return 1;
    return 0;
}

static int orgs_settle(struct eb_or_import *imp)
{
    /* Parents before children whatever the file's order: city, then districts, then schools. */
    static const enum eb_org_kind order[] = {EB_ORG_CITY, EB_ORG_DISTRICT, EB_ORG_SCHOOL};
    struct eb_or_row fake = {.file = EB_OR_ORGS};
    int rc = 0;
    for (size_t pass = 0; rc == 0 && pass < 3; pass++) {
        for (size_t i = 0; rc == 0 && i < imp->n_rows; i++) {
            struct buffered *b = &imp->rows[i];
            const char *sid = b->f[EB_OR_COL_SOURCED_ID];
            const char *type = b->f[EB_OR_ORGS_TYPE];
            enum eb_org_kind kind = org_kind_of(imp, i, 0);
            fake.line = b->line;
            if (pass == 0 && kind == 0 && !b->tobedeleted)
                add_finding(imp, IC_ORG_TYPE_SKIPPED, EB_OR_ORGS, b->line, "type", sid, type);
            if (kind != order[pass] && !(pass == 2 && kind == 0 && b->tobedeleted))
                continue;
            if (strlen(sid) > 255) {
                add_finding(imp, IC_ID_TOO_LONG, EB_OR_ORGS, b->line, "sourcedId", sid, NULL);
                continue;
            }
            int64_t local = 0;
            uint32_t aux = 0;
            int mapped = eb__or_idmap_get(imp->maps[EB_ORK_ORG], sid, &local, &aux, NULL);
            if (mapped && local < 0) {
                add_finding(imp, IC_OUTSIDE_SCOPE, EB_OR_ORGS, b->line, "sourcedId", sid, "orgs");
                continue;
            }
            if (b->tobedeleted) {
                if (!mapped)
                    continue; /* nothing to delete: already gone or never here */
                struct eb_org close = {.closed_on = imp->today};
                rc = eb_store_org_update(imp->db, imp->c, local, &close);
                if (rc == 0)
                    imp->counts[EB_ORC_ORGS].ended++;
                else
                    rc = write_error(imp, rc, &fake, sid);
                continue;
            }
            struct eb_org in;
            org_fields(b, kind, &in);
            /* Match an unmapped org: the city is the one root, districts by division code
             * under it, schools by their 学校标识码. */
            if (!mapped && kind == EB_ORG_CITY && imp->city_id)
                local = imp->city_id, mapped = 2;
            if (!mapped && kind == EB_ORG_SCHOOL && in.school_code) {
                int64_t id = 0;
                rc = eb_store_or_school_by_code(imp->db, imp->c, in.school_code, &id);
                if (rc == EB_EDENIED) {
                    rc = 0;
                    add_finding(imp, IC_OUTSIDE_SCOPE, EB_OR_ORGS, b->line, "identifier",
                                in.school_code, "orgs");
                    continue;
                }
                if (rc == 0)
                    local = id, mapped = 2;
                rc = 0;
            }
            if (!mapped && kind == EB_ORG_DISTRICT && imp->root_id &&
                imp->root_id != imp->city_id) {
                struct eb_org r;
                if (eb_store_org_get(imp->db, imp->c, imp->root_id, imp->a, &r) == 0 &&
                    r.kind == EB_ORG_DISTRICT &&
                    (!in.division_code || streq(r.division_code, in.division_code)))
                    local = r.id, mapped = 2;
            }
            if (!mapped && kind == EB_ORG_DISTRICT && in.division_code && imp->city_id) {
                struct eb_org_list kids;
                if (eb_store_org_children(imp->db, imp->c, imp->city_id, 0, 500, imp->a, &kids) ==
                    0)
                    for (size_t k = 0; k < kids.n; k++)
                        if (kids.items[k].kind == EB_ORG_DISTRICT &&
                            streq(kids.items[k].division_code, in.division_code))
                            local = kids.items[k].id, mapped = 2;
            }
            if (mapped) {
                struct eb_org cur;
                rc = eb_store_org_get(imp->db, imp->c, local, imp->a, &cur);
                if (rc == EB_ENOTFOUND) {
                    rc = 0;
                    add_finding(imp, IC_OUTSIDE_SCOPE, EB_OR_ORGS, b->line, "sourcedId", sid,
                                "orgs");
                    continue;
                }
                if (rc != 0)
                    break;
                if (mapped == 2) {
                    rc = eb_store_or_id_put(imp->db, imp->c, EB_ORK_ORG, sid, local, cur.path,
                                            cur.kind, NULL, 0);
                    if (rc == EB_ENOTFOUND && is_context(imp, cur.path))
                        rc = 0;
                    eb__or_idmap_put(imp->maps[EB_ORK_ORG], sid, local, cur.kind, 0);
                }
                if (rc == 0 && is_context(imp, cur.path) &&
                    !eb_caller_allows(imp->c, cur.path, EB_ACCESS_WRITE)) {
                    imp->counts[EB_ORC_ORGS].unchanged++;
                } else if (rc == 0) {
                    const char *psid = b->f[EB_OR_ORGS_PARENT_SOURCED_ID];
                    int64_t plocal = 0;
                    if (psid[0] &&
                        eb__or_idmap_get(imp->maps[EB_ORK_ORG], psid, &plocal, NULL, NULL) &&
                        plocal > 0 && plocal != cur.parent_id)
                        add_finding(imp, IC_PARENT_CHANGE_IGNORED, EB_OR_ORGS, b->line,
                                    "parentSourcedId", sid, NULL);
                    rc = org_update(imp, local, &in, b);
                }
                if (rc != 0)
                    rc = write_error(imp, rc, &fake, sid);
                seen_add(imp, local);
                continue;
            }
            /* A new org: under its parent, else a district under the city and a school under
             * the import's root. */
            const char *psid = b->f[EB_OR_ORGS_PARENT_SOURCED_ID];
            int64_t parent = 0;
            if (psid[0]) {
                if (!eb__or_idmap_get(imp->maps[EB_ORK_ORG], psid, &parent, NULL, NULL) ||
                    parent == 0) {
                    add_finding(imp, IC_ORG_UNPLACEABLE, EB_OR_ORGS, b->line, "parentSourcedId",
                                sid, "the parent was not imported");
                    continue;
                }
                if (parent < 0) {
                    add_finding(imp, IC_OUTSIDE_SCOPE, EB_OR_ORGS, b->line, "parentSourcedId", psid,
                                "orgs");
                    continue;
                }
            } else if (kind == EB_ORG_DISTRICT) {
                parent = imp->city_id;
            } else if (kind == EB_ORG_SCHOOL) {
                parent = imp->root_id;
            }
            if (kind != EB_ORG_CITY && parent == 0) {
                add_finding(imp, IC_ORG_UNPLACEABLE, EB_OR_ORGS, b->line, "parentSourcedId", sid,
                            "no parent");
                continue;
            }
            if (kind == EB_ORG_CITY && imp->city_id) {
                add_finding(imp, IC_ORG_UNPLACEABLE, EB_OR_ORGS, b->line, "type", sid,
                            "the database already has its city");
                continue;
            }
            in.parent_id = parent;
            int64_t id = 0;
            rc = eb_store_org_create(imp->db, imp->c, &in, &id);
            const char *why = NULL;
            if (rc == EB_EINVAL && in.school_code && eb_school_code_check(in.school_code, &why)) {
                rc = 0;
                add_finding(imp, IC_INVALID_VALUE, EB_OR_ORGS, b->line, "identifier",
                            in.school_code, why);
                continue;
            }
            if (rc == EB_EINVAL && in.division_code &&
                eb_division_code_check(in.division_code, &why)) {
                rc = 0;
                add_finding(imp, IC_INVALID_VALUE, EB_OR_ORGS, b->line,
                            kind == EB_ORG_SCHOOL ? "metadata.edubrain.division_code"
                                                  : "identifier",
                            in.division_code, why);
                continue;
            }
            if (rc == EB_EINVAL) {
                rc = 0;
                add_finding(imp, IC_ORG_UNPLACEABLE, EB_OR_ORGS, b->line, "parentSourcedId", sid,
                            "a school belongs under a district or the city, a district under "
                            "the city");
                continue;
            }
            if (rc == 0) {
                char path[EB_PATH_MAX];
                struct eb_org cur;
                rc = eb_store_org_get(imp->db, imp->c, id, imp->a, &cur);
                if (rc == 0) {
                    snprintf(path, sizeof(path), "%s", cur.path);
                    rc = eb_store_or_id_put(imp->db, imp->c, EB_ORK_ORG, sid, id, path, kind, NULL,
                                            0);
                }
            }
            if (rc != 0) {
                rc = write_error(imp, rc, &fake, sid);
                continue;
            }
            if (kind == EB_ORG_CITY) {
                imp->city_id = id;
                if (imp->root_id == 0) {
                    imp->root_id = id;
                    snprintf(imp->root_path, sizeof(imp->root_path), "/%lld/", (long long)id);
                }
            }
            eb__or_idmap_put(imp->maps[EB_ORK_ORG], sid, id, kind, 0);
            imp->counts[EB_ORC_ORGS].created++;
            seen_add(imp, id);
        }
    }
    return rc;
}

/* ---- academicSessions.csv --------------------------------------------------------------- */

static int sessions_settle(struct eb_or_import *imp)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < imp->n_rows; i++) {
        struct buffered *b = &imp->rows[i];
        const char *sid = b->f[EB_OR_COL_SOURCED_ID];
        if (b->tobedeleted || strcmp(b->f[EB_OR_SESSIONS_TYPE], "schoolYear") != 0)
            continue;
        int end_year = (int)strtol(b->f[EB_OR_SESSIONS_SCHOOL_YEAR], NULL, 10);
        int start = end_year - 1;
        int64_t local = 0;
        if (eb__or_idmap_get(imp->maps[EB_ORK_YEAR], sid, &local, NULL, NULL) && local > 0) {
            eb__or_idmap_put(imp->maps[EB_ORK_YEAR], sid, local, (uint32_t)start, 0);
            imp->counts[EB_ORC_YEARS].unchanged++;
            continue;
        }
        /* The year and its two terms; an existing year of the same name is taken as is. */
        struct eb_school_year y = {0};
        char name[16];
        snprintf(name, sizeof(name), "%04d-%04d", start % 10000, end_year % 10000);
        y.name = name;
        y.start_date = b->f[EB_OR_SESSIONS_START_DATE];
        y.end_date = b->f[EB_OR_SESSIONS_END_DATE];
        const char *term_sid[2] = {NULL, NULL};
        size_t n_terms = 0;
        for (size_t j = 0; j < imp->n_rows; j++) {
            struct buffered *t = &imp->rows[j];
            const char *type = t->f[EB_OR_SESSIONS_TYPE];
            if (t->tobedeleted || strcmp(t->f[EB_OR_SESSIONS_PARENT_SOURCED_ID], sid) != 0 ||
                (strcmp(type, "semester") != 0 && strcmp(type, "term") != 0))
                continue;
            if (n_terms < 2) {
                y.terms[n_terms].start_date = t->f[EB_OR_SESSIONS_START_DATE];
                y.terms[n_terms].end_date = t->f[EB_OR_SESSIONS_END_DATE];
                term_sid[n_terms] = t->f[EB_OR_COL_SOURCED_ID];
            }
            n_terms++;
        }
        if (n_terms == 2 && strcmp(y.terms[0].start_date, y.terms[1].start_date) > 0) {
            struct eb_term tmp = y.terms[0];
            y.terms[0] = y.terms[1];
            y.terms[1] = tmp;
            const char *ts = term_sid[0];
            term_sid[0] = term_sid[1];
            term_sid[1] = ts;
        }
        y.terms[0].term = 1;
        y.terms[1].term = 2;
        y.n_terms = n_terms == 2 ? 2 : 0;
        int64_t id = 0;
        for (size_t k = 0; k < imp->n_years; k++)
            if (imp->years[k].start == start)
                id = imp->years[k].id;
        if (id == 0) {
            const char *field = NULL, *why = NULL;
            if (n_terms != 2) {
                add_finding(imp, IC_SESSION_SKIPPED, EB_OR_ACADEMIC_SESSIONS, b->line, NULL, sid,
                            "a school year is kept with exactly two terms");
            } else if (eb_school_year_check(&y, &field, &why) != 0) {
                add_finding(imp, IC_SESSION_SKIPPED, EB_OR_ACADEMIC_SESSIONS, b->line, field, sid,
                            why);
            } else {
                rc = eb_store_year_create(imp->db, imp->c, &y, &id);
                if (rc == EB_EDENIED || rc == EB_ECONFLICT || rc == EB_EEXIST) {
                    add_finding(imp, IC_SESSION_SKIPPED, EB_OR_ACADEMIC_SESSIONS, b->line, NULL,
                                sid, eb_strerror(rc));
                    rc = 0;
                    id = 0;
                } else if (rc == 0) {
                    imp->counts[EB_ORC_YEARS].created++;
                }
            }
        } else {
            imp->counts[EB_ORC_YEARS].unchanged++;
        }
        if (rc != 0)
            break;
        /* Remember the start year of the year and its terms even when the calendar kept none:
         * classes only need the year's number. */
        eb__or_idmap_put(imp->maps[EB_ORK_YEAR], sid, id, (uint32_t)start, 0);
        if (id > 0)
            rc = eb_store_or_id_put(imp->db, imp->c, EB_ORK_YEAR, sid, id, NULL, 0, NULL, 0);
        for (int t = 0; rc == 0 && t < 2; t++) {
            if (!term_sid[t])
                continue;
            eb__or_idmap_put(imp->maps[EB_ORK_TERM], term_sid[t], id ? id * 10 + t + 1 : 0,
                             (uint32_t)start, 0);
            if (id > 0)
                rc = eb_store_or_id_put(imp->db, imp->c, EB_ORK_TERM, term_sid[t], id * 10 + t + 1,
                                        NULL, 0, NULL, 0);
        }
        if (rc == EB_ENOTFOUND || rc == EB_EINVAL)
            rc = 0; /* the calendar is the city's: a school's import names years, maps none */
    }
    /* Other sessions (grading periods, terms of unknown years) still give classes a year. */
    for (size_t i = 0; i < imp->n_rows; i++) {
        struct buffered *b = &imp->rows[i];
        const char *sid = b->f[EB_OR_COL_SOURCED_ID];
        int end_year = (int)strtol(b->f[EB_OR_SESSIONS_SCHOOL_YEAR], NULL, 10);
        if (!eb__or_idmap_get(imp->maps[EB_ORK_YEAR], sid, NULL, NULL, NULL) &&
            !eb__or_idmap_get(imp->maps[EB_ORK_TERM], sid, NULL, NULL, NULL))
            eb__or_idmap_put(imp->maps[EB_ORK_TERM], sid, 0, (uint32_t)(end_year - 1), 0);
    }
    return rc;
}

/* ---- courses.csv: grade nodes ----------------------------------------------------------- */

/* Loads the grade nodes of a school once: "school:code:year" -> grade id. */
static int load_grades(struct eb_or_import *imp, int64_t school_id)
{
    char key[64];
    snprintf(key, sizeof(key), "%lld", (long long)school_id);
    if (eb__or_idmap_get(imp->grade_schools, key, NULL, NULL, NULL))
        return 0;
    eb__or_idmap_put(imp->grade_schools, key, school_id, 0, 0);
    int64_t after = 0;
    do {
        struct eb_org_list kids;
        struct eb_arena *a = eb_arena_create(0);
        int rc = eb_store_org_children(imp->db, imp->c, school_id, after, 500, a, &kids);
        if (rc == EB_ENOTFOUND)
            rc = 0, kids.n = 0, kids.next = 0;
        for (size_t i = 0; rc == 0 && i < kids.n; i++) {
            const struct eb_org *g = &kids.items[i];
            if (g->kind != EB_ORG_GRADE || !g->grade_code)
                continue;
            snprintf(key, sizeof(key), "%lld:%s:%d", (long long)school_id, g->grade_code,
                     g->school_year);
            if (!eb__or_idmap_get(imp->grades, key, NULL, NULL, NULL))
                eb__or_idmap_put(imp->grades, key, g->id, 0, 0);
        }
        after = kids.next;
        eb_arena_destroy(a);
        if (rc != 0)
            return rc;
    } while (after != 0);
    return 0;
}

/* An open class of the grade with this name (an unmapped class matches it), 0 when none. */
static int class_by_name(struct eb_or_import *imp, int64_t grade_id, const char *name, int64_t *id)
{
    char key[300];
    *id = 0;
    snprintf(key, sizeof(key), "g%lld", (long long)grade_id);
    if (!eb__or_idmap_get(imp->grade_schools, key, NULL, NULL, NULL)) {
        eb__or_idmap_put(imp->grade_schools, key, grade_id, 0, 0);
        int64_t after = 0;
        do {
            struct eb_org_list kids;
            struct eb_arena *a = eb_arena_create(0);
            int rc = eb_store_org_children(imp->db, imp->c, grade_id, after, 500, a, &kids);
            for (size_t i = 0; rc == 0 && i < kids.n; i++) {
                if (kids.items[i].closed_on)
                    continue;
                snprintf(key, sizeof(key), "c%lld:%s", (long long)grade_id, kids.items[i].name);
                eb__or_idmap_put(imp->grades, key, kids.items[i].id, 0, 0);
            }
            after = rc == 0 ? kids.next : 0;
            eb_arena_destroy(a);
            if (rc != 0 && rc != EB_ENOTFOUND)
                return rc;
        } while (after != 0);
    }
    snprintf(key, sizeof(key), "c%lld:%s", (long long)grade_id, name);
    eb__or_idmap_get(imp->grades, key, id, NULL, NULL);
    return 0;
}

/* The grade node of (school, code, year), created when missing. */
static int grade_node(struct eb_or_import *imp, int64_t school_id, const char *code, int year,
                      const char *title, int64_t *id)
{
    char key[64];
    *id = 0;
    int rc = load_grades(imp, school_id);
    if (rc != 0)
        return rc;
    snprintf(key, sizeof(key), "%lld:%s:%d", (long long)school_id, code, year);
    if (eb__or_idmap_get(imp->grades, key, id, NULL, NULL))
        return 0;
    char name[200], gc[3];
    snprintf(name, sizeof(name), "%s", title && title[0] ? title : grade_name(code));
    memcpy(gc, code, 3);
    struct eb_org in = {.parent_id = school_id,
                        .kind = EB_ORG_GRADE,
                        .name = name,
                        .grade_code = gc,
                        .school_year = year};
    rc = eb_store_org_create(imp->db, imp->c, &in, id);
    if (rc != 0)
        return rc;
    eb__or_idmap_put(imp->grades, key, *id, 0, 0);
    imp->counts[EB_ORC_GRADES].created++;
    return 0;
}

static int this_school_year(const struct eb_or_import *imp)
{
    int y = (int)strtol(imp->today, NULL, 10);
    int m = (imp->today[5] - '0') * 10 + (imp->today[6] - '0');
    return m >= 8 ? y : y - 1;
}

static int org_of(struct eb_or_import *imp, const char *sid, enum eb_org_kind want, int64_t *id,
                  enum eb_or_file file, long line, const char *column)
{
    uint32_t kind = 0;
    *id = 0;
    if (!eb__or_idmap_get(imp->maps[EB_ORK_ORG], sid, id, &kind, NULL) || *id == 0) {
        add_finding(imp, IC_UNKNOWN_REFERENCE, file, line, column, sid, NULL);
        return EB_ENOTFOUND;
    }
    if (*id < 0) {
        add_finding(imp, IC_OUTSIDE_SCOPE, file, line, column, sid, "orgs");
        return EB_ENOTFOUND;
    }
    if (want && kind != (uint32_t)want) {
        add_finding(imp, IC_CLASS_UNPLACEABLE, file, line, column, sid, "not a school");
        return EB_ENOTFOUND;
    }
    return 0;
}

static int course_row(struct eb_or_import *imp, const struct eb_or_row *row)
{
    const char *sid = fld(row, EB_OR_COL_SOURCED_ID);
    if (tobedeleted(row))
        return 0; /* a grade node stays: its classes say whether it is used */
    int64_t school = 0;
    if (org_of(imp, fld(row, EB_OR_COURSES_ORG_SOURCED_ID), EB_ORG_SCHOOL, &school, row->file,
               row->line, "orgSourcedId") != 0)
        return 0;
    const char *code = ext_value(row, X_GRADE);
    char ceds[16];
    first_item(fld(row, EB_OR_COURSES_GRADES), ceds, sizeof(ceds));
    if (!valid_grade_code(code))
        code = ceds[0] ? grade_from_ceds(ceds) : NULL;
    if (!code) {
        add_finding(imp, IC_GRADE_UNKNOWN, row->file, row->line, "grades", ceds, NULL);
        return 0;
    }
    size_t cap = imp->cap_courses;
    imp->courses = eb_arena_grow(imp->a, imp->courses, imp->n_courses, &cap, sizeof(*imp->courses));
    imp->cap_courses = cap;
    struct course_info *ci = &imp->courses[imp->n_courses];
    memset(ci, 0, sizeof(*ci));
    ci->school_id = school;
    memcpy(ci->grade, code, 3);
    ci->title = eb_arena_strdup(imp->a, fld(row, EB_OR_COURSES_TITLE));
    ci->sid = eb_arena_strdup(imp->a, sid);
    const char *ysid = fld(row, EB_OR_COURSES_SCHOOL_YEAR_SOURCED_ID);
    ci->year = ysid[0] ? session_year(imp, ysid) : 0;
    /* A course with its year names its grade node now (a grade without classes survives a
     * round trip); without one, its first class decides. */
    if (ci->year) {
        int rc = grade_node(imp, school, code, ci->year, ci->title, &ci->grade_id);
        if (rc != 0)
            return write_error(imp, rc, row, sid);
    }
    int64_t local = 0;
    int mapped = eb__or_idmap_get(imp->maps[EB_ORK_COURSE], sid, &local, NULL, NULL);
    if (ci->grade_id && (!mapped || local != ci->grade_id)) {
        struct eb_org g;
        int rc = eb_store_org_get(imp->db, imp->c, ci->grade_id, imp->a, &g);
        if (rc == 0)
            rc = eb_store_or_id_put(imp->db, imp->c, EB_ORK_COURSE, sid, ci->grade_id, g.path,
                                    EB_ORG_GRADE, NULL, mapped);
        if (rc != 0)
            return write_error(imp, rc, row, sid);
    } else if (mapped && local > 0) {
        imp->counts[EB_ORC_GRADES].unchanged++;
    }
    eb__or_idmap_put(imp->maps[EB_ORK_COURSE], sid, ci->grade_id ? ci->grade_id : local,
                     (uint32_t)imp->n_courses, 1);
    imp->n_courses++;
    return 0;
}

/* ---- classes.csv ------------------------------------------------------------------------ */

static int class_row(struct eb_or_import *imp, const struct eb_or_row *row)
{
    const char *sid = fld(row, EB_OR_COL_SOURCED_ID);
    int64_t local = 0;
    int mapped = eb__or_idmap_get(imp->maps[EB_ORK_CLASS], sid, &local, NULL, NULL);
    if (mapped && local < 0) {
        add_finding(imp, IC_OUTSIDE_SCOPE, row->file, row->line, "sourcedId", sid, "classes");
        return 0;
    }
    if (tobedeleted(row)) {
        if (mapped && local > 0) {
            struct eb_org close = {.closed_on = imp->today};
            int rc = eb_store_org_update(imp->db, imp->c, local, &close);
            if (rc != 0)
                return write_error(imp, rc, row, sid);
            imp->counts[EB_ORC_CLASSES].ended++;
        }
        return 0;
    }
    if (strlen(sid) > 255) {
        add_finding(imp, IC_ID_TOO_LONG, row->file, row->line, "sourcedId", sid, NULL);
        return 0;
    }
    int64_t school = 0;
    if (org_of(imp, fld(row, EB_OR_CLASSES_SCHOOL_SOURCED_ID), EB_ORG_SCHOOL, &school, row->file,
               row->line, "schoolSourcedId") != 0)
        return 0;
    /* The year: the first term that names one, else the course's, else the current year. */
    int year = 0;
    const char *terms = fld(row, EB_OR_CLASSES_TERM_SOURCED_IDS);
    while (*terms && !year) {
        char t[256];
        first_item(terms, t, sizeof(t));
        year = session_year(imp, t);
        terms += strcspn(terms, ",");
        if (*terms == ',')
            terms++;
    }
    const char *csid = fld(row, EB_OR_CLASSES_COURSE_SOURCED_ID);
    int64_t grade = 0;
    uint32_t aux = 0;
    uint8_t from_pkg = 0;
    char code_buf[3] = "";
    const char *code = NULL;
    if (!eb__or_idmap_get(imp->maps[EB_ORK_COURSE], csid, &grade, &aux, &from_pkg)) {
        add_finding(imp, IC_UNKNOWN_REFERENCE, row->file, row->line, "courseSourcedId", csid, NULL);
        return 0;
    }
    struct course_info *ci = from_pkg ? &imp->courses[aux] : NULL;
    if (ci && ci->school_id != school) {
        add_finding(imp, IC_CLASS_UNPLACEABLE, row->file, row->line, "courseSourcedId", sid,
                    "the course belongs to another school");
        return 0;
    }
    if (!year)
        year = ci && ci->year ? ci->year : 0;
    const char *xcode = ext_value(row, X_GRADE);
    if (ci) {
        code = valid_grade_code(xcode) ? xcode : ci->grade;
        if (!year)
            year = this_school_year(imp);
        int rc = grade_node(imp, school, code, year,
                            strcmp(code, ci->grade) == 0 ? ci->title : NULL, &grade);
        if (rc != 0)
            return write_error(imp, rc, row, sid);
        if (!ci->grade_id) {
            ci->grade_id = grade;
            struct eb_org g;
            rc = eb_store_org_get(imp->db, imp->c, grade, imp->a, &g);
            if (rc == 0)
                rc = eb_store_or_id_put(imp->db, imp->c, EB_ORK_COURSE, ci->sid, grade, g.path,
                                        EB_ORG_GRADE, NULL, 1);
            if (rc != 0)
                return write_error(imp, rc, row, sid);
        }
    } else {
        struct eb_org g;
        int rc = grade > 0 ? eb_store_org_get(imp->db, imp->c, grade, imp->a, &g) : EB_ENOTFOUND;
        if (rc != 0 || g.parent_id != school) {
            add_finding(imp, rc == 0 ? IC_CLASS_UNPLACEABLE : IC_OUTSIDE_SCOPE, row->file,
                        row->line, "courseSourcedId", csid, "courses");
            return 0;
        }
        memcpy(code_buf, g.grade_code ? g.grade_code : "", 2);
        code_buf[2] = '\0';
        code = code_buf;
        if (!year)
            year = g.school_year;
    }
    char name[201], gc[3];
    snprintf(name, sizeof(name), "%s", fld(row, EB_OR_CLASSES_TITLE));
    snprintf(gc, sizeof(gc), "%s", code ? code : "");
    const char *closed = ext_value(row, X_CLOSED);
    struct eb_org in = {.parent_id = grade,
                        .kind = EB_ORG_CLASS,
                        .name = name,
                        .grade_code = gc,
                        .school_year = year,
                        .closed_on = closed};
    int rc = 0;
    if (!mapped) {
        rc = class_by_name(imp, grade, name, &local);
        if (rc != 0)
            return write_error(imp, rc, row, sid);
        if (local > 0) {
            struct eb_org cur;
            rc = eb_store_org_get(imp->db, imp->c, local, imp->a, &cur);
            if (rc == 0)
                rc = eb_store_or_id_put(imp->db, imp->c, EB_ORK_CLASS, sid, local, cur.path,
                                        EB_ORG_CLASS, NULL, 0);
            if (rc != 0)
                return write_error(imp, rc, row, sid);
            mapped = 1;
        }
    }
    if (mapped) {
        struct eb_org cur;
        rc = eb_store_org_get(imp->db, imp->c, local, imp->a, &cur);
        if (rc == 0 && (strcmp(cur.name, name) != 0 || (closed && !streq(cur.closed_on, closed)))) {
            struct eb_org ch = {.name = name, .closed_on = closed};
            rc = eb_store_org_update(imp->db, imp->c, local, &ch);
            imp->counts[EB_ORC_CLASSES].updated += rc == 0;
        } else if (rc == 0) {
            imp->counts[EB_ORC_CLASSES].unchanged++;
        }
        if (rc == 0 && cur.parent_id != grade)
            add_finding(imp, IC_PARENT_CHANGE_IGNORED, row->file, row->line, "courseSourcedId", sid,
                        NULL);
    } else {
        rc = eb_store_org_create(imp->db, imp->c, &in, &local);
        if (rc == 0) {
            struct eb_org cur;
            rc = eb_store_org_get(imp->db, imp->c, local, imp->a, &cur);
            if (rc == 0)
                rc = eb_store_or_id_put(imp->db, imp->c, EB_ORK_CLASS, sid, local, cur.path,
                                        EB_ORG_CLASS, NULL, 0);
        }
        imp->counts[EB_ORC_CLASSES].created += rc == 0;
    }
    if (rc != 0)
        return write_error(imp, rc, row, sid);
    size_t cap = imp->cap_classes;
    imp->classes = eb_arena_grow(imp->a, imp->classes, imp->n_classes, &cap, sizeof(*imp->classes));
    imp->cap_classes = cap;
    imp->classes[imp->n_classes] = (struct class_info){local, school};
    eb__or_idmap_put(imp->maps[EB_ORK_CLASS], sid, local, (uint32_t)imp->n_classes, 1);
    imp->n_classes++;
    if (imp->modes[EB_OR_CLASSES] == EB_OR_BULK)
        seen_add(imp, local);
    return 0;
}

/* ---- users.csv -------------------------------------------------------------------------- */

static enum ukind ukind_of_role(const char *role)
{
    if (strcmp(role, "student") == 0)
        return UK_STUDENT;
    if (strcmp(role, "teacher") == 0)
        return UK_TEACHER;
    if (strcmp(role, "parent") == 0 || strcmp(role, "guardian") == 0 ||
        strcmp(role, "relative") == 0)
        return UK_PARENT;
    return UK_STAFF;
}

static const char *ukind_name(enum ukind k)
{
    return k == UK_STUDENT   ? "student"
           : k == UK_TEACHER ? "teacher"
           : k == UK_PARENT  ? "parent"
                             : "staff";
}

static enum eb_or_count_kind ukind_count(enum ukind k)
{
    return k == UK_STUDENT   ? EB_ORC_STUDENTS
           : k == UK_TEACHER ? EB_ORC_TEACHERS
           : k == UK_PARENT  ? EB_ORC_PARENTS
                             : EB_ORC_STAFF;
}

/* The current post of person at school: from this import's cache, else the database. */
static int post_at(struct eb_or_import *imp, int64_t person, int fresh, int64_t school,
                   int64_t *post)
{
    char key[48];
    snprintf(key, sizeof(key), "%lld:%lld", (long long)person, (long long)school);
    *post = 0;
    if (eb__or_idmap_get(imp->posts, key, post, NULL, NULL) || fresh)
        return 0;
    size_t n = 0;
    struct eb_post *ps = NULL;
    struct eb_arena *a = eb_arena_create(0);
    int rc = eb_store_person_posts(imp->db, imp->c, person, a, &n, &ps);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (ps[i].school_id == school && ps[i].end_date == NULL)
            *post = ps[i].id;
    eb_arena_destroy(a);
    if (rc == 0 && *post)
        eb__or_idmap_put(imp->posts, key, *post, 0, 0);
    return rc;
}

static int post_ensure(struct eb_or_import *imp, int64_t person, int fresh, int64_t school,
                       const char *title, const char *subjects, const char *start, int64_t *post)
{
    int rc = post_at(imp, person, fresh, school, post);
    if (rc != 0 || *post)
        return rc;
    char t[101], s[201], d[11];
    snprintf(t, sizeof(t), "%s", title && title[0] ? title : "专任教师");
    snprintf(s, sizeof(s), "%s", subjects ? subjects : "");
    snprintf(d, sizeof(d), "%s", start && start[0] ? start : imp->today);
    struct eb_post in = {.person_id = person,
                         .school_id = school,
                         .title = t,
                         .subjects = s[0] ? s : NULL,
                         .start_date = d};
    rc = eb_store_post_create(imp->db, imp->c, &in, post);
    if (rc != 0)
        return rc;
    char key[48];
    snprintf(key, sizeof(key), "%lld:%lld", (long long)person, (long long)school);
    eb__or_idmap_put(imp->posts, key, *post, 0, 0);
    imp->counts[EB_ORC_POSTS].created++;
    return 0;
}

/* Ends what makes a person current in the import's subtree: enrolments and posts. */
static int person_end(struct eb_or_import *imp, int64_t person)
{
    struct eb_arena *a = eb_arena_create(0);
    size_t n = 0;
    struct eb_enrolment *es = NULL;
    struct eb_post *ps = NULL;
    int rc = eb_store_person_enrolments(imp->db, imp->c, person, a, &n, &es);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (es[i].end_date == NULL && strcmp(es[i].start_date, imp->today) <= 0) {
            rc = eb_store_enrolment_end(imp->db, imp->c, es[i].id, imp->today);
            imp->counts[EB_ORC_ENROLMENTS].ended += rc == 0;
        }
    if (rc == 0)
        rc = eb_store_person_posts(imp->db, imp->c, person, a, &n, &ps);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (ps[i].end_date == NULL && strcmp(ps[i].start_date, imp->today) <= 0) {
            rc = eb_store_post_end(imp->db, imp->c, ps[i].id, imp->today);
            imp->counts[EB_ORC_POSTS].ended += rc == 0;
        }
    eb_arena_destroy(a);
    return rc == EB_ENOTFOUND ? 0 : rc;
}

static int user_row(struct eb_or_import *imp, const struct eb_or_row *row)
{
    const char *sid = fld(row, EB_OR_COL_SOURCED_ID);
    int64_t local = 0;
    uint32_t aux = 0;
    int mapped = eb__or_idmap_get(imp->maps[EB_ORK_USER], sid, &local, &aux, NULL);
    if (mapped && local < 0) {
        add_finding(imp, IC_OUTSIDE_SCOPE, row->file, row->line, "sourcedId", sid, "users");
        return 0;
    }
    enum ukind kind = ukind_of_role(fld(row, EB_OR_USERS_ROLE));
    if (tobedeleted(row)) {
        if (!mapped || local == 0)
            return 0;
        int rc = person_end(imp, local);
        if (rc != 0)
            return write_error(imp, rc, row, sid);
        return 0;
    }
    if (strlen(sid) > 255) {
        add_finding(imp, IC_ID_TOO_LONG, row->file, row->line, "sourcedId", sid, NULL);
        return 0;
    }
    /* The registering org: the first of orgSourcedIds. */
    char org_sid[256];
    first_item(fld(row, EB_OR_USERS_ORG_SOURCED_IDS), org_sid, sizeof(org_sid));
    int64_t org = 0;
    if (org_of(imp, org_sid, 0, &org, row->file, row->line, "orgSourcedIds") != 0)
        return 0;
    struct eb_person in = {0};
    char *name = join_name(imp, row);
    if (strlen(name) > 100)
        name[100] = '\0';
    in.name = name;
    in.org_id = org;
    in.kind = ukind_name(kind);
    const char *ident = fld(row, EB_OR_USERS_IDENTIFIER);
    if (ident[0] && kind == UK_STUDENT) {
        if (eb_student_no_check(ident, NULL) == 0)
            in.student_no = ident;
        else
            add_finding(imp, IC_IDENTIFIER_IGNORED, row->file, row->line, "identifier", ident,
                        "学籍号 / student number");
    } else if (ident[0]) {
        if (strlen(ident) <= 32)
            in.staff_no = ident;
        else
            add_finding(imp, IC_IDENTIFIER_IGNORED, row->file, row->line, "identifier", ident,
                        "工号 / staff number");
    }
    const char *phone = fld(row, EB_OR_USERS_PHONE);
    if (!phone[0])
        phone = fld(row, EB_OR_USERS_SMS);
    if (phone[0] && strlen(phone) <= 32)
        in.phone = phone;
    const char *username = fld(row, EB_OR_USERS_USERNAME);
    if (strcmp(username, sid) == 0)
        username = NULL;
    int rc = 0, fresh = 0;
    enum eb_or_count_kind ck = ukind_count(kind);
    /* An unmapped student whose national student number is registered already is that
     * student (the number is unique and for life): the import updates instead of adding. */
    if (!mapped && in.student_no) {
        int64_t id = 0;
        rc = eb_store_or_person_by_student_no(imp->db, imp->c, in.student_no, &id);
        if (rc == 0 && id > 0) {
            mapped = 2;
            local = id;
        } else if (rc == EB_ENOTFOUND) {
            rc = 0;
        }
        if (rc != 0)
            return write_error(imp, rc, row, sid);
    }
    if (mapped && local > 0) {
        struct eb_person cur;
        struct eb_arena *a = eb_arena_create(0);
        rc = eb_store_person_get(imp->db, imp->c, local, 0, a, &cur);
        if (rc == 0 && cur.kind && strcmp(cur.kind, in.kind) != 0 &&
            !(strcmp(cur.kind, "staff") == 0 || strcmp(in.kind, "staff") == 0)) {
            add_finding(imp, IC_KIND_CONFLICT, row->file, row->line, "role", sid, cur.kind);
            eb_arena_destroy(a);
            return 0;
        }
        /* Lists show student numbers masked: compare the masks. */
        char sno_mask[20] = "";
        if (in.student_no) {
            sno_mask[0] = in.student_no[0];
            eb_citizen_id_mask(in.student_no + 1, sno_mask + 1);
        }
        if (rc == 0 && (!streq(cur.name, in.name) || (in.phone && !streq(cur.phone, in.phone)) ||
                        (in.staff_no && !streq(cur.staff_no, in.staff_no)) ||
                        (in.student_no && !streq(cur.student_no, sno_mask)))) {
            struct eb_person ch = {.name = in.name,
                                   .phone = in.phone,
                                   .staff_no = in.staff_no,
                                   .student_no = in.student_no};
            rc = eb_store_person_update(imp->db, imp->c, local, &ch);
            imp->counts[ck].updated += rc == 0;
        } else if (rc == 0) {
            imp->counts[ck].unchanged++;
        }
        eb_arena_destroy(a);
        if (rc == 0 && mapped == 2) {
            char path[EB_PATH_MAX];
            enum eb_org_kind okind = 0;
            rc = eb_store_or_org_path(imp->db, imp->c, org, path, &okind);
            if (rc == 0)
                rc = eb_store_or_id_put(imp->db, imp->c, EB_ORK_USER, sid, local, path, okind,
                                        username, 0);
        }
    } else {
        rc = eb_store_person_create(imp->db, imp->c, &in, &local);
        if (rc == 0) {
            /* The school's path comes from the store's path cache: no query per person. */
            char path[EB_PATH_MAX];
            enum eb_org_kind okind = 0;
            rc = eb_store_or_org_path(imp->db, imp->c, org, path, &okind);
            if (rc == 0)
                rc = eb_store_or_id_put(imp->db, imp->c, EB_ORK_USER, sid, local, path, okind,
                                        username, 0);
        }
        fresh = 1;
        imp->counts[ck].created += rc == 0;
    }
    if (rc != 0)
        return write_error(imp, rc, row, sid);
    size_t cap = imp->cap_users;
    imp->users = eb_arena_grow(imp->a, imp->users, imp->n_users, &cap, sizeof(*imp->users));
    imp->cap_users = cap;
    struct user_info *u = &imp->users[imp->n_users];
    u->id = local;
    u->school_id = org;
    u->kind = (uint8_t)kind;
    u->fresh = (uint8_t)fresh;
    u->relation = kind == UK_PARENT ? dup_or_null(imp, ext_value(row, X_RELATION)) : NULL;
    if (kind == UK_PARENT && !u->relation) {
        const char *role = fld(row, EB_OR_USERS_ROLE);
        u->relation = strcmp(role, "parent") == 0     ? "家长"
                      : strcmp(role, "guardian") == 0 ? "其他监护人"
                                                      : "其他亲属";
    }
    eb__or_idmap_put(imp->maps[EB_ORK_USER], sid, local, (uint32_t)imp->n_users, 1);
    size_t me = imp->n_users++;
    if (imp->modes[EB_OR_USERS] == EB_OR_BULK)
        seen_add(imp, local);
    /* Teachers hold a post at every school they belong to; the first gets the metadata. */
    if (kind == UK_TEACHER || kind == UK_STAFF) {
        const char *orgs = fld(row, EB_OR_USERS_ORG_SOURCED_IDS);
        int first = 1;
        while (*orgs && rc == 0) {
            char o_sid[256];
            int64_t school = 0;
            uint32_t okind = 0;
            first_item(orgs, o_sid, sizeof(o_sid));
            orgs += strcspn(orgs, ",");
            if (*orgs == ',')
                orgs++;
            if (eb__or_idmap_get(imp->maps[EB_ORK_ORG], o_sid, &school, &okind, NULL) &&
                school > 0 && okind == EB_ORG_SCHOOL) {
                int64_t post = 0;
                rc = post_ensure(imp, local, fresh, school,
                                 first ? ext_value(row, X_POST_TITLE) : NULL,
                                 first ? ext_value(row, X_POST_SUBJECTS) : NULL,
                                 first ? ext_value(row, X_POST_START) : NULL, &post);
            }
            first = 0;
        }
        if (rc != 0)
            return write_error(imp, rc, row, sid);
    }
    /* Guardians: settled once every user of the file is known. */
    const char *agents = fld(row, EB_OR_USERS_AGENT_SOURCED_IDS);
    while (*agents) {
        char g_sid[256];
        first_item(agents, g_sid, sizeof(g_sid));
        agents += strcspn(agents, ",");
        if (*agents == ',')
            agents++;
        size_t acap = imp->cap_agents;
        imp->agents =
            eb_arena_grow(imp->a, imp->agents, imp->n_agents, &acap, sizeof(*imp->agents));
        imp->cap_agents = acap;
        imp->agents[imp->n_agents++] =
            (struct agent_ref){me, eb_arena_strdup(imp->a, g_sid), row->line};
    }
    return 0;
}

struct gpair {
    int64_t parent, student;
    const char *relation;
    long line;
};

static int cmp_gpair(const void *a, const void *b)
{
    const struct gpair *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    return x->student < y->student ? -1 : x->student > y->student;
}

static int guardians_settle(struct eb_or_import *imp)
{
    struct gpair *pairs = imp->n_agents ? eb_xcalloc(imp->n_agents, sizeof(*pairs)) : NULL;
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < imp->n_agents; i++) {
        const struct user_info *me = &imp->users[imp->agents[i].of];
        int64_t other = 0;
        uint32_t aux = 0;
        uint8_t in_pkg = 0;
        if (!eb__or_idmap_get(imp->maps[EB_ORK_USER], imp->agents[i].sid, &other, &aux, &in_pkg) ||
            other <= 0 || !in_pkg)
            continue; /* a delta may name agents imported before: they keep their links */
        const struct user_info *them = &imp->users[aux];
        const struct user_info *parent = me->kind == UK_PARENT     ? me
                                         : them->kind == UK_PARENT ? them
                                                                   : NULL;
        const struct user_info *student = me->kind == UK_STUDENT     ? me
                                          : them->kind == UK_STUDENT ? them
                                                                     : NULL;
        if (!parent || !student)
            continue;
        pairs[n++] = (struct gpair){parent->id, student->id, parent->relation, imp->agents[i].line};
    }
    if (n > 1)
        qsort(pairs, n, sizeof(*pairs), cmp_gpair);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i > 0 && pairs[i].parent == pairs[i - 1].parent &&
            pairs[i].student == pairs[i - 1].student)
            continue;
        char rel[64];
        snprintf(rel, sizeof(rel), "%s", pairs[i].relation ? pairs[i].relation : "家长");
        struct eb_guardian g = {.parent_id = pairs[i].parent,
                                .student_id = pairs[i].student,
                                .relation = rel,
                                .start_date = imp->today};
        int64_t id = 0;
        rc = eb_store_guardian_create(imp->db, imp->c, &g, &id);
        if (rc == EB_EEXIST) {
            rc = 0;
            imp->counts[EB_ORC_GUARDIANS].unchanged++;
        } else if (rc == 0) {
            imp->counts[EB_ORC_GUARDIANS].created++;
        } else {
            struct eb_or_row fake = {.file = EB_OR_USERS, .line = pairs[i].line};
            rc = write_error(imp, rc, &fake, "agentSourcedIds");
        }
    }
    eb_free(pairs);
    return rc;
}

/* ---- demographics.csv ------------------------------------------------------------------- */

static int demographics_row(struct eb_or_import *imp, const struct eb_or_row *row)
{
    const char *sid = fld(row, EB_OR_COL_SOURCED_ID);
    int64_t local = 0;
    if (tobedeleted(row))
        return 0;
    if (!eb__or_idmap_get(imp->maps[EB_ORK_USER], sid, &local, NULL, NULL) || local == 0) {
        add_finding(imp, IC_UNKNOWN_REFERENCE, row->file, row->line, "sourcedId", sid, NULL);
        return 0;
    }
    if (local < 0) {
        add_finding(imp, IC_OUTSIDE_SCOPE, row->file, row->line, "sourcedId", sid, "users");
        return 0;
    }
    const char *birth = fld(row, EB_OR_DEMOGRAPHICS_BIRTH_DATE);
    const char *sx = fld(row, EB_OR_DEMOGRAPHICS_SEX);
    enum eb_sex sex = strcmp(sx, "male") == 0     ? EB_SEX_MALE
                      : strcmp(sx, "female") == 0 ? EB_SEX_FEMALE
                                                  : EB_SEX_UNKNOWN;
    if (!birth[0] && sex == EB_SEX_UNKNOWN)
        return 0;
    int rc = eb_store_or_person_demographics(imp->db, imp->c, local, birth[0] ? birth : NULL, sex);
    return rc != 0 ? write_error(imp, rc, row, sid) : 0;
}

/* ---- enrollments.csv -------------------------------------------------------------------- */

static int class_school(struct eb_or_import *imp, const char *csid, int64_t class_id,
                        int64_t *school)
{
    int64_t local = 0;
    uint32_t aux = 0;
    uint8_t in_pkg = 0;
    *school = 0;
    if (eb__or_idmap_get(imp->maps[EB_ORK_CLASS], csid, &local, &aux, &in_pkg) && in_pkg) {
        *school = imp->classes[aux].school_id;
        return 0;
    }
    struct eb_org o;
    int rc = eb_store_org_get(imp->db, imp->c, class_id, imp->a, &o);
    if (rc != 0)
        return rc;
    /* "/city/district/school/grade/class/": the school is two levels above the class. */
    int64_t ids[8];
    int n = 0;
    for (const char *p = o.path; *p && n < 8;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        ids[n++] = strtoll(p, NULL, 10);
        p += strcspn(p, "/");
    }
    *school = n >= 3 ? ids[n - 3] : 0;
    eb__or_idmap_put(imp->maps[EB_ORK_CLASS], csid, class_id, (uint32_t)imp->n_classes, 1);
    size_t cap = imp->cap_classes;
    imp->classes = eb_arena_grow(imp->a, imp->classes, imp->n_classes, &cap, sizeof(*imp->classes));
    imp->cap_classes = cap;
    imp->classes[imp->n_classes++] = (struct class_info){class_id, *school};
    return 0;
}

static int enrollment_row(struct eb_or_import *imp, const struct eb_or_row *row)
{
    const char *sid = fld(row, EB_OR_COL_SOURCED_ID);
    const char *role = fld(row, EB_OR_ENROLLMENTS_ROLE);
    int teaching = strcmp(role, "teacher") == 0;
    enum eb_or_kind mk = teaching ? EB_ORK_TEACHING : EB_ORK_ENROLMENT;
    int64_t local = 0;
    int mapped = eb__or_idmap_get(imp->maps[mk], sid, &local, NULL, NULL);
    int rc = 0;
    if (mapped && local < 0) {
        add_finding(imp, IC_OUTSIDE_SCOPE, row->file, row->line, "sourcedId", sid, "enrollments");
        return 0;
    }
    if (tobedeleted(row)) {
        if (mapped && local > 0) {
            rc = teaching ? eb_store_or_teaching_end(imp->db, imp->c, local, imp->today)
                          : eb_store_enrolment_end(imp->db, imp->c, local, imp->today);
            if (rc == EB_ECONFLICT)
                return 0; /* already ended */
            if (rc != 0)
                return write_error(imp, rc, row, sid);
            imp->counts[teaching ? EB_ORC_TEACHING : EB_ORC_ENROLMENTS].ended++;
        }
        return 0;
    }
    if (!teaching && strcmp(role, "student") != 0) {
        add_finding(imp, IC_ENROLLMENT_SKIPPED, row->file, row->line, "role", sid, role);
        return 0;
    }
    const char *end = fld(row, EB_OR_ENROLLMENTS_END_DATE);
    if (end[0] && strcmp(end, imp->today) < 0) {
        add_finding(imp, IC_ENROLLMENT_SKIPPED, row->file, row->line, "endDate", sid, end);
        return 0;
    }
    if (strlen(sid) > 255) {
        add_finding(imp, IC_ID_TOO_LONG, row->file, row->line, "sourcedId", sid, NULL);
        return 0;
    }
    const char *csid = fld(row, EB_OR_ENROLLMENTS_CLASS_SOURCED_ID);
    const char *usid = fld(row, EB_OR_ENROLLMENTS_USER_SOURCED_ID);
    int64_t class_id = 0, person = 0;
    uint32_t uaux = 0;
    uint8_t u_in_pkg = 0;
    if (!eb__or_idmap_get(imp->maps[EB_ORK_CLASS], csid, &class_id, NULL, NULL) || class_id == 0) {
        add_finding(imp, IC_UNKNOWN_REFERENCE, row->file, row->line, "classSourcedId", csid, NULL);
        return 0;
    }
    if (!eb__or_idmap_get(imp->maps[EB_ORK_USER], usid, &person, &uaux, &u_in_pkg) || person == 0) {
        add_finding(imp, IC_UNKNOWN_REFERENCE, row->file, row->line, "userSourcedId", usid, NULL);
        return 0;
    }
    if (class_id < 0 || person < 0) {
        add_finding(imp, IC_OUTSIDE_SCOPE, row->file, row->line,
                    class_id < 0 ? "classSourcedId" : "userSourcedId", class_id < 0 ? csid : usid,
                    "enrollments");
        return 0;
    }
    int fresh = u_in_pkg && imp->users[uaux].fresh;
    char begin[11];
    snprintf(begin, sizeof(begin), "%s",
             fld(row, EB_OR_ENROLLMENTS_BEGIN_DATE)[0] ? fld(row, EB_OR_ENROLLMENTS_BEGIN_DATE)
                                                       : imp->today);
    enum eb_or_count_kind ck = teaching ? EB_ORC_TEACHING : EB_ORC_ENROLMENTS;
    struct eb_arena *a = NULL;
    int64_t id = 0;
    if (!teaching) {
        /* A student is in one class at a time: a new class ends the current enrolment. */
        if (!fresh) {
            a = eb_arena_create(0);
            size_t n = 0;
            struct eb_enrolment *es = NULL;
            rc = eb_store_person_enrolments(imp->db, imp->c, person, a, &n, &es);
            for (size_t i = 0; rc == 0 && i < n; i++) {
                if (es[i].end_date != NULL)
                    continue;
                if (es[i].class_id == class_id) {
                    id = es[i].id;
                } else {
                    const char *when =
                        strcmp(begin, es[i].start_date) >= 0 ? begin : es[i].start_date;
                    rc = eb_store_enrolment_end(imp->db, imp->c, es[i].id, when);
                    imp->counts[ck].ended += rc == 0;
                }
            }
            eb_arena_destroy(a);
        }
        if (rc == 0 && id == 0) {
            struct eb_enrolment in = {
                .person_id = person, .class_id = class_id, .start_date = begin};
            rc = eb_store_enrolment_create(imp->db, imp->c, &in, &id);
            imp->counts[ck].created += rc == 0;
        } else if (rc == 0) {
            imp->counts[ck].unchanged++;
        }
    } else {
        int64_t school = 0, post = 0;
        rc = class_school(imp, csid, class_id, &school);
        if (rc == 0)
            rc = post_ensure(imp, person, fresh, school, NULL, NULL, begin, &post);
        const char *subject = ext_value(row, X_SUBJECT);
        char subj[101];
        snprintf(subj, sizeof(subj), "%s", subject ? subject : "未指定");
        int head = eb_or_bool(fld(row, EB_OR_ENROLLMENTS_PRIMARY)) == 1;
        if (rc == 0 && mapped && local > 0) {
            /* The same teaching row when class and subject still match; otherwise a new one. */
            id = local;
            imp->counts[ck].unchanged++;
        } else if (rc == 0) {
            struct eb_teaching in = {.post_id = post,
                                     .class_id = class_id,
                                     .subject = subj,
                                     .is_head_teacher = head,
                                     .start_date = begin};
            rc = eb_store_teaching_create(imp->db, imp->c, &in, &id);
            imp->counts[ck].created += rc == 0;
        }
    }
    if (rc == 0 && (!mapped || local != id)) {
        char path[EB_PATH_MAX];
        rc = eb_store_or_org_path(imp->db, imp->c, class_id, path, NULL);
        if (rc == 0)
            rc = eb_store_or_id_put(imp->db, imp->c, mk, sid, id, path, EB_ORG_CLASS, NULL, mapped);
        eb__or_idmap_put(imp->maps[mk], sid, id, 0, 0);
    }
    if (rc != 0)
        return write_error(imp, rc, row, sid);
    if (imp->modes[EB_OR_ENROLLMENTS] == EB_OR_BULK)
        seen_add(imp, teaching ? -id : id);
    return 0;
}

/* ---- bulk files: what the file no longer lists ends ------------------------------------ */

static int end_unseen_link(void *arg, const struct eb_or_link *l)
{
    void **ctx = arg;
    struct eb_or_import *imp = ctx[0];
    enum eb_or_kind what = *(enum eb_or_kind *)ctx[1];
    int64_t key = what == EB_ORK_TEACHING ? -l->id : what == EB_ORK_POST ? l->person_id : l->id;
    if (seen_has(imp, key) || strcmp(l->start_date, imp->today) > 0)
        return 0;
    /* Collected first, ended after the read: a write must not run inside the paged read. */
    size_t *n = ctx[3], *cap = ctx[4];
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        ctx[2] = eb_xrealloc(ctx[2], *cap * sizeof(int64_t));
    }
    ((int64_t *)ctx[2])[(*n)++] = l->id;
    return 0;
}

static int end_unseen(struct eb_or_import *imp, enum eb_or_kind what)
{
    size_t n = 0, cap = 0;
    void *ctx[5] = {imp, &what, NULL, &n, &cap};
    if (!imp->root_id)
        return 0;
    seen_sort(imp);
    int rc = eb_store_or_current_links(imp->db, imp->c, imp->root_id, what, end_unseen_link, ctx);
    int64_t *ids = ctx[2];
    enum eb_or_count_kind ck = what == EB_ORK_ENROLMENT  ? EB_ORC_ENROLMENTS
                               : what == EB_ORK_TEACHING ? EB_ORC_TEACHING
                                                         : EB_ORC_POSTS;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = what == EB_ORK_ENROLMENT ? eb_store_enrolment_end(imp->db, imp->c, ids[i], imp->today)
             : what == EB_ORK_TEACHING
                 ? eb_store_or_teaching_end(imp->db, imp->c, ids[i], imp->today)
                 : eb_store_post_end(imp->db, imp->c, ids[i], imp->today);
        if (rc == EB_ECONFLICT)
            rc = 0;
        else
            imp->counts[ck].ended += rc == 0;
    }
    eb_free(ids);
    if (rc == EB_ENOTFOUND)
        rc = 0; /* a caller without write access on the root: nothing of theirs to end */
    return rc;
}

static int close_unseen_class(void *arg, const struct eb_or_xorg *o)
{
    void **ctx = arg;
    struct eb_or_import *imp = ctx[0];
    if (o->org.closed_on || seen_has(imp, o->org.id))
        return 0;
    size_t *n = ctx[2], *cap = ctx[3];
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        ctx[1] = eb_xrealloc(ctx[1], *cap * sizeof(int64_t));
    }
    ((int64_t *)ctx[1])[(*n)++] = o->org.id;
    return 0;
}

static int close_unseen(struct eb_or_import *imp, enum eb_org_kind kind)
{
    size_t n = 0, cap = 0;
    void *ctx[4] = {imp, NULL, &n, &cap};
    if (!imp->root_id)
        return 0;
    seen_sort(imp);
    int rc = eb_store_or_export_orgs(imp->db, imp->c, imp->root_id, kind, close_unseen_class, ctx);
    int64_t *ids = ctx[1];
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* Only schools and classes close: a district or the city is not the package's to end. */
        struct eb_org cur;
        rc = eb_store_org_get(imp->db, imp->c, ids[i], imp->a, &cur);
        if (rc != 0 || (cur.kind != EB_ORG_SCHOOL && cur.kind != EB_ORG_CLASS) ||
            !eb_caller_allows(imp->c, cur.path, EB_ACCESS_WRITE))
            continue;
        struct eb_org close = {.closed_on = imp->today};
        rc = eb_store_org_update(imp->db, imp->c, ids[i], &close);
        imp->counts[kind == EB_ORG_CLASS ? EB_ORC_CLASSES : EB_ORC_ORGS].ended += rc == 0;
    }
    eb_free(ids);
    return rc == EB_ENOTFOUND ? 0 : rc;
}

/* ---- the stream ------------------------------------------------------------------------- */

static int on_file_begin(void *ctx, enum eb_or_file file, enum eb_or_mode mode)
{
    struct eb_or_import *imp = ctx;
    int rc = 0;
    if (!imp->loaded) {
        imp->loaded = 1;
        for (int f = 0; f < EB_OR_N_FILES; f++)
            imp->rows_total += (int64_t)eb_or_report_rows(imp->report, (enum eb_or_file)f);
        if (imp->opt.progress)
            imp->opt.progress(imp->opt.progress_arg, "writing", 0, imp->rows_total);
        /* The package passed validation: only now does the import take the writer. */
        rc = eb_store_or_tx_begin(imp->db, imp->c, &imp->own);
        imp->in_tx = rc == 0;
        if (rc == 0)
            rc = load_state(imp);
    }
    imp->modes[file] = mode;
    imp->n_rows = 0;
    imp->n_seen = 0;
    return rc;
}

static int on_row(void *ctx, const struct eb_or_row *row)
{
    struct eb_or_import *imp = ctx;
    int rc = 0;
    imp->rows_done++;
    progress(imp, 0);
    switch (row->file) {
    case EB_OR_ORGS:
    case EB_OR_ACADEMIC_SESSIONS:
        buffer_row(imp, row);
        break;
    case EB_OR_COURSES:
        rc = course_row(imp, row);
        break;
    case EB_OR_CLASSES:
        rc = class_row(imp, row);
        break;
    case EB_OR_USERS:
        rc = user_row(imp, row);
        break;
    case EB_OR_DEMOGRAPHICS:
        rc = demographics_row(imp, row);
        break;
    case EB_OR_ENROLLMENTS:
        rc = enrollment_row(imp, row);
        break;
    default:
        break; /* gradebook and resources: not kept by the registry */
    }
    return rc != 0 ? rc : imp->fatal;
}

static int on_file_end(void *ctx, enum eb_or_file file, size_t n_rows)
{
    struct eb_or_import *imp = ctx;
    int rc = 0;
    (void)n_rows;
    int bulk = imp->modes[file] == EB_OR_BULK;
    switch (file) {
    case EB_OR_ORGS:
        rc = orgs_settle(imp);
        if (rc == 0 && bulk)
            rc = close_unseen(imp, 0);
        break;
    case EB_OR_ACADEMIC_SESSIONS:
        rc = sessions_settle(imp);
        break;
    case EB_OR_CLASSES:
        if (bulk)
            rc = close_unseen(imp, EB_ORG_CLASS);
        break;
    case EB_OR_USERS:
        rc = guardians_settle(imp);
        if (rc == 0 && bulk) {
            /* People no longer listed stop being current here: their posts end (their
             * enrolments end with enrollments.csv, or here when that file is absent). */
            rc = end_unseen(imp, EB_ORK_POST);
            if (rc == 0 && imp->modes[EB_OR_ENROLLMENTS] == EB_OR_ABSENT)
                rc = 0;
        }
        break;
    case EB_OR_ENROLLMENTS:
        if (bulk) {
            rc = end_unseen(imp, EB_ORK_ENROLMENT);
            if (rc == 0)
                rc = end_unseen(imp, EB_ORK_TEACHING);
        }
        break;
    default:
        break;
    }
    imp->n_rows = 0;
    progress(imp, 1);
    return rc != 0 ? rc : imp->fatal;
}

int eb_or_import(struct eb_db *db, const struct eb_caller *c, const char *path,
                 const struct eb_or_import_options *opt, struct eb_or_import **out)
{
    struct eb_or_import *imp = eb_xcalloc(1, sizeof(*imp));
    int rc;
    *out = imp;
    imp->db = db;
    imp->c = c;
    if (opt)
        imp->opt = *opt;
    imp->a = eb_arena_create(0);
    imp->report = eb_or_report_create(imp->opt.max_per_code);
    if (imp->opt.today && strlen(imp->opt.today) == 10) {
        memcpy(imp->today, imp->opt.today, 11);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(imp->today, sizeof(imp->today), "%Y-%m-%d", &tm);
    }
    if (imp->opt.progress)
        imp->opt.progress(imp->opt.progress_arg, "validating", 0, 0);
    struct eb_or_callbacks cb = {
        .ctx = imp, .file_begin = on_file_begin, .row = on_row, .file_end = on_file_end};
    rc = eb_or_read(path, &cb, imp->report);
    if (rc == 0 && imp->n_errors > 0)
        rc = EB_EINVAL;
    /* Readers cache lists by data version; a bulk load skips the per-row bumps, so the whole
     * subtree moves on once, in the same transaction. */
    if (rc == 0 && imp->in_tx && imp->root_id)
        rc = eb_store_or_touch(db, c, imp->root_id);
    if (imp->in_tx)
        rc = eb_store_or_tx_end(db, imp->own, rc);
    imp->in_tx = 0;
    imp->written = rc == 0 && imp->loaded;
    if (rc == 0 && imp->opt.progress)
        imp->opt.progress(imp->opt.progress_arg, "done", imp->rows_done, imp->rows_total);
    return rc;
}

void eb_or_import_free(struct eb_or_import *imp)
{
    if (!imp)
        return;
    for (int k = 0; k <= EB_ORK_TEACHING; k++)
        eb__or_idmap_destroy(imp->maps[k]);
    eb__or_idmap_destroy(imp->grades);
    eb__or_idmap_destroy(imp->grade_schools);
    eb__or_idmap_destroy(imp->posts);
    eb_free(imp->seen);
    eb_or_report_destroy(imp->report);
    eb_arena_destroy(imp->a);
    eb_free(imp);
}

size_t eb_or_import_errors(const struct eb_or_import *imp)
{
    return eb_or_report_errors(imp->report) + imp->n_errors;
}

size_t eb_or_import_warnings(const struct eb_or_import *imp)
{
    return eb_or_report_warnings(imp->report) + imp->n_warnings;
}

int eb_or_import_written(const struct eb_or_import *imp)
{
    return imp->written;
}

const struct eb_or_counts *eb_or_import_count(const struct eb_or_import *imp,
                                              enum eb_or_count_kind k)
{
    return &imp->counts[k];
}

const char *eb_or_count_name(enum eb_or_count_kind k)
{
    static const char *const names[EB_ORC_N] = {"orgs",     "years",      "grades",   "classes",
                                                "students", "teachers",   "parents",  "staff",
                                                "posts",    "enrolments", "teaching", "guardians"};
    return (unsigned)k < EB_ORC_N ? names[k] : "";
}

const struct eb_or_report *eb_or_import_report(const struct eb_or_import *imp)
{
    return imp->report;
}

/* ---- the report ------------------------------------------------------------------------- */

static void imp_message(const struct imp_finding *f, const char *lang, struct eb_buf *out)
{
    const char *tpl =
        strcmp(lang, "en") == 0 ? imp_catalogue[f->code].en : imp_catalogue[f->code].zh;
    for (const char *p = tpl; *p; p++) {
        if (p[0] == '{' && p[1] && p[2] == '}') {
            const char *v = p[1] == 'c' ? f->column : p[1] == 'v' ? f->value : f->detail;
            eb_buf_puts(out, v);
            p += 2;
        } else {
            eb_buf_append(out, p, 1);
        }
    }
}

static const char *file_name(enum eb_or_file f)
{
    const char *n = eb_or_file_name(f);
    return n ? n : "";
}

int eb_or_import_json(const struct eb_or_import *imp, struct eb_buf *out)
{
    struct eb_buf v;
    eb_buf_init(&v, 0);
    int rc = eb_or_report_json(imp->report, &v);
    json_t *doc = rc == 0 ? json_loadb(v.data, v.len, 0, NULL) : NULL;
    eb_buf_free(&v);
    if (!doc)
        return rc ? rc : EB_EINTERNAL;
    json_t *findings = json_object_get(doc, "findings");
    json_t *summary = json_object_get(doc, "summary");
    for (size_t i = 0; i < imp->n_findings; i++) {
        const struct imp_finding *f = &imp->findings[i];
        struct eb_buf zh, en;
        eb_buf_init(&zh, 0);
        eb_buf_init(&en, 0);
        imp_message(f, "zh", &zh);
        imp_message(f, "en", &en);
        json_t *j =
            json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:{s:s, s:s}}", "severity",
                      imp_catalogue[f->code].sev == EB_OR_ERROR ? "error" : "warning", "file",
                      file_name(f->file), "line", (json_int_t)f->line, "column", f->column, "code",
                      imp_catalogue[f->code].code, "value", f->value, "message", "zh",
                      zh.data ? zh.data : "", "en", en.data ? en.data : "");
        eb_buf_free(&zh);
        eb_buf_free(&en);
        if (j && json_is_array(findings))
            json_array_append_new(findings, j);
        else
            json_decref(j);
    }
    for (int code = 0; code < IC_N; code++) {
        if (!imp->per_code[code] || !json_is_array(summary))
            continue;
        /* Counted per code over the whole package (the import's findings name no one file). */
        json_array_append_new(
            summary,
            json_pack("{s:s, s:s, s:s, s:I}", "severity",
                      imp_catalogue[code].sev == EB_OR_ERROR ? "error" : "warning", "file", "",
                      "code", imp_catalogue[code].code, "count", (json_int_t)imp->per_code[code]));
    }
    size_t errors = eb_or_import_errors(imp), warnings = eb_or_import_warnings(imp);
    json_object_set_new(doc, "errors", json_integer((json_int_t)errors));
    json_object_set_new(doc, "warnings", json_integer((json_int_t)warnings));
    json_object_set_new(doc, "ok", json_boolean(errors == 0));
    json_object_set_new(doc, "kept", json_integer((json_int_t)json_array_size(findings)));
    json_object_set_new(doc, "written", json_boolean(imp->written));
    json_t *counts = json_object();
    for (int k = 0; k < EB_ORC_N; k++) {
        const struct eb_or_counts *ct = &imp->counts[k];
        json_object_set_new(counts, eb_or_count_name((enum eb_or_count_kind)k),
                            json_pack("{s:I, s:I, s:I, s:I}", "created", (json_int_t)ct->created,
                                      "updated", (json_int_t)ct->updated, "ended",
                                      (json_int_t)ct->ended, "unchanged",
                                      (json_int_t)ct->unchanged));
    }
    json_object_set_new(doc, "counts", counts);
    struct eb_arena *a = eb_arena_create(0);
    size_t len = 0;
    char *s = eb_json_dump(doc, a, &len);
    json_decref(doc);
    rc = s ? eb_buf_append(out, s, len) : EB_EINTERNAL;
    eb_arena_destroy(a);
    return rc;
}

int eb_or_import_text(const struct eb_or_import *imp, const char *lang, struct eb_buf *out)
{
    static const char *const zh_names[EB_ORC_N] = {"机构", "学年", "年级", "班级", "学生", "教师",
                                                   "家长", "职工", "任职", "在籍", "任课", "监护"};
    int en = strcmp(lang, "en") == 0;
    struct eb_buf v;
    eb_buf_init(&v, 0);
    eb_or_report_text(imp->report, lang, &v);
    /* The validator's verdict line is replaced by the import's own below. */
    if (v.len > 0) {
        char *last = v.data + v.len - 1;
        while (last > v.data && last[-1] != '\n')
            last--;
        v.len = (size_t)(last - v.data);
    }
    eb_buf_append(out, v.data ? v.data : "", v.len);
    eb_buf_free(&v);
    for (size_t i = 0; i < imp->n_findings; i++) {
        const struct imp_finding *f = &imp->findings[i];
        int err = imp_catalogue[f->code].sev == EB_OR_ERROR;
        eb_buf_printf(out, "%s %s:%ld [%s] ",
                      en ? (err ? "error" : "warning") : (err ? "错误" : "警告"),
                      file_name(f->file), f->line, imp_catalogue[f->code].code);
        imp_message(f, lang, out);
        eb_buf_puts(out, "\n");
    }
    if (imp->written) {
        eb_buf_puts(out, en ? "written:\n" : "已写入：\n");
        for (int k = 0; k < EB_ORC_N; k++) {
            const struct eb_or_counts *ct = &imp->counts[k];
            if (!ct->created && !ct->updated && !ct->ended && !ct->unchanged)
                continue;
            eb_buf_printf(out,
                          en ? "  %-10s created %lld, updated %lld, ended %lld, unchanged %lld\n"
                             : "  %s 新建 %lld，更新 %lld，结束 %lld，未变 %lld\n",
                          en ? eb_or_count_name((enum eb_or_count_kind)k) : zh_names[k],
                          (long long)ct->created, (long long)ct->updated, (long long)ct->ended,
                          (long long)ct->unchanged);
        }
    }
    size_t errors = eb_or_import_errors(imp), warnings = eb_or_import_warnings(imp);
    if (en)
        eb_buf_printf(out, "%s: %zu errors, %zu warnings\n",
                      imp->written ? "imported" : "rejected, nothing written", errors, warnings);
    else
        eb_buf_printf(out, "%s：%zu 个错误，%zu 个警告\n",
                      imp->written ? "已导入" : "已拒绝，未写入任何数据", errors, warnings);
    return out->overflow ? EB_ETOOBIG : 0;
}
