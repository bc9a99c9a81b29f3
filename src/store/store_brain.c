/* The brain's rows: data elements, observations (batched appends, scans, the SQL reference
 * aggregate) and the eb_obs notifications between servers sharing one PostgreSQL database. */
#include "store/store_int.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

/* ---- built-in elements (docs/internals/brain.md, "Built-in data elements") ---------------- */

#define INT_MAX_VALUE 1e9 /* "integer >= 0": a bound the schema needs, above any real count */

struct builtin {
    const char *code, *name_zh, *name_en, *unit_zh, *unit_en, *type, *agg;
    int level, per_person;
    double min, max;
};

static const struct builtin BUILTINS[] = {
    {"students.enrolled", "在籍学生数", "Students enrolled", "人", "students", "integer", "last",
     EB_ORG_CLASS, 0, 0, INT_MAX_VALUE},
    {"attendance.present", "到校人数", "Students present", "人", "students", "integer", "sum",
     EB_ORG_CLASS, 0, 0, INT_MAX_VALUE},
    {"attendance.absent", "缺勤", "Absences", "人次", "absences", "boolean", "count", EB_ORG_CLASS,
     1, 1, 1},
    {"health.symptom", "晨午检异常", "Health check findings", "人次", "findings", "boolean",
     "count", EB_ORG_CLASS, 1, 1, 1},
    {"homework.minutes", "书面作业时长", "Written homework time", "分钟", "minutes", "number",
     "average", EB_ORG_CLASS, 0, 0, 600},
    {"sleep.hours", "睡眠时长", "Sleep time", "小时", "hours", "number", "average", EB_ORG_CLASS, 0,
     0, 24},
    {"activity.in_school_minutes", "校内体育活动时长", "Physical activity in school", "分钟",
     "minutes", "number", "average", EB_ORG_CLASS, 0, 0, 600},
    {"activity.out_school_minutes", "校外体育活动时长", "Physical activity out of school", "分钟",
     "minutes", "number", "average", EB_ORG_CLASS, 0, 0, 600},
    {"phones.handed_in", "手机入校统一保管人数", "Phones handed in", "人", "students", "integer",
     "sum", EB_ORG_CLASS, 0, 0, INT_MAX_VALUE},
    {"reading.minutes", "课外阅读时长", "Reading time", "分钟", "minutes", "number", "average",
     EB_ORG_CLASS, 0, 0, 600},
    {"afterschool.students", "参加课后服务学生数", "Students in after-school services", "人",
     "students", "integer", "sum", EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"afterschool.teachers", "参与课后服务教师数", "Teachers in after-school services", "人",
     "teachers", "integer", "sum", EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"afterschool.minutes", "课后服务时长", "After-school service time", "分钟", "minutes",
     "number", "average", EB_ORG_SCHOOL, 0, 0, 300},
    {"afterschool.end_minute", "课后服务结束时间", "After-school service end time", "分钟",
     "minute of the day", "number", "average", EB_ORG_SCHOOL, 0, 0, 1440},
    {"teachers.in_post", "在岗教师数", "Teachers in post", "人", "teachers", "integer", "last",
     EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"accounts.registered", "已注册账号数", "Accounts registered", "个", "accounts", "integer",
     "last", EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"accounts.activated", "已激活账号数", "Accounts activated", "个", "accounts", "integer",
     "last", EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"equipment.classrooms", "教室数", "Classrooms", "间", "rooms", "integer", "last",
     EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"equipment.multimedia_classrooms", "多媒体教室数", "Multimedia classrooms", "间", "rooms",
     "integer", "last", EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"equipment.smart_blackboards", "智慧黑板数", "Smart blackboards", "块", "boards", "integer",
     "last", EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"equipment.recording_classrooms", "录播/直播教室数", "Recording and live classrooms", "间",
     "rooms", "integer", "last", EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"equipment.ai_labs", "人工智能与创客实验室数", "AI and maker labs", "间", "rooms", "integer",
     "last", EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"campus.digital_level", "数字校园等级", "Digital campus level", "级", "level", "integer",
     "last", EB_ORG_SCHOOL, 0, 1, 3},
    {"lessons.live_held", "三个课堂开课节数", "Live lessons held", "节", "lessons", "integer",
     "sum", EB_ORG_SCHOOL, 0, 0, INT_MAX_VALUE},
    {"lessons.homework_written_g12", "一二年级书面作业布置", "Written homework in grades 1-2",
     "班次", "class-days", "integer", "sum", EB_ORG_CLASS, 0, 0, 1},
};

static const char SQL_ELEMENT_ID[] = "SELECT id FROM data_elements WHERE code = ?";
static const char SQL_ELEMENT_INSERT[] =
    "INSERT INTO data_elements (code, name_zh, name_en, unit_zh, unit_en, value_type, aggregation,"
    " org_level, per_person, min_value, max_value, builtin, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
static const char SQL_ELEMENT_LIST[] =
    "SELECT id, code, name_zh, name_en, unit_zh, unit_en, value_type, aggregation, org_level,"
    " per_person, min_value, max_value, builtin FROM data_elements ORDER BY id";

int eb_store_element_id(struct eb_db *db, const char *code, int32_t *id)
{
    struct eb__q q;
    *id = 0;
    if (code == NULL)
        return EB_EINVAL;
    eb__q_start(db, SQL_ELEMENT_ID, &q);
    eb__q_text(&q, code);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *id = (int32_t)eb__q_col_int(&q, 0);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

/* Inserts one element row; the caller holds the transaction. */
static int element_insert(struct eb_db *db, const struct eb_element_row *e, int32_t *id)
{
    struct eb__q q;
    eb__q_start(db, SQL_ELEMENT_INSERT, &q);
    eb__q_text(&q, e->code);
    eb__q_text(&q, e->name_zh);
    eb__q_text(&q, e->name_en);
    eb__q_text(&q, e->unit_zh);
    eb__q_text(&q, e->unit_en);
    eb__q_text(&q, e->value_type);
    eb__q_text(&q, e->aggregation);
    eb__q_int(&q, e->level);
    eb__q_int(&q, e->per_person ? 1 : 0);
    eb__q_double(&q, e->min);
    eb__q_double(&q, e->max);
    eb__q_int(&q, e->builtin ? 1 : 0);
    eb__q_int(&q, eb__now_ms() / 1000);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *id = (int32_t)eb__q_col_int(&q, 0);
        eb__q_exec(&q);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    return rc;
}

int eb_store_elements_seed(struct eb_db *db)
{
    static const struct eb_caller sys = {.system = 1, .no_audit = 1};
    int own = 0, rc = eb__tx_enter(db, &sys, &own);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < sizeof(BUILTINS) / sizeof(BUILTINS[0]) && rc == 0; i++) {
        const struct builtin *b = &BUILTINS[i];
        int32_t id = 0;
        rc = eb_store_element_id(db, b->code, &id);
        if (rc != EB_ENOTFOUND)
            continue;
        struct eb_element_row e = {.code = b->code,
                                   .name_zh = b->name_zh,
                                   .name_en = b->name_en,
                                   .unit_zh = b->unit_zh,
                                   .unit_en = b->unit_en,
                                   .value_type = b->type,
                                   .aggregation = b->agg,
                                   .level = (enum eb_org_kind)b->level,
                                   .per_person = b->per_person,
                                   .min = b->min,
                                   .max = b->max,
                                   .builtin = 1};
        rc = element_insert(db, &e, &id);
    }
    return eb__tx_leave(db, own, rc);
}

int eb_store_elements_list(struct eb_db *db, struct eb_arena *a, size_t *n,
                           struct eb_element_row **items)
{
    struct eb__q q;
    size_t cap = 32;
    struct eb_element_row *v = eb_arena_alloc(a, cap * sizeof(*v));
    int rc;
    *n = 0;
    *items = NULL;
    if (v == NULL)
        return EB_ETOOBIG;
    eb__q_start(db, SQL_ELEMENT_LIST, &q);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        v = eb_arena_grow(a, v, *n, &cap, sizeof(*v));
        if (v == NULL) {
            rc = EB_ETOOBIG;
            goto done;
        }
        struct eb_element_row *e = &v[*n];
        e->id = (int32_t)eb__q_col_int(&q, 0);
        e->code = eb__q_col_str(&q, 1, a);
        e->name_zh = eb__q_col_str(&q, 2, a);
        e->name_en = eb__q_col_str(&q, 3, a);
        e->unit_zh = eb__q_col_str(&q, 4, a);
        e->unit_en = eb__q_col_str(&q, 5, a);
        e->value_type = eb__q_col_str(&q, 6, a);
        e->aggregation = eb__q_col_str(&q, 7, a);
        e->level = (enum eb_org_kind)eb__q_col_int(&q, 8);
        e->per_person = (int)eb__q_col_int(&q, 9);
        e->min = eb__q_col_double(&q, 10);
        e->max = eb__q_col_double(&q, 11);
        e->builtin = (int)eb__q_col_int(&q, 12);
        if (e->code == NULL || e->name_zh == NULL || e->value_type == NULL) {
            rc = EB_ETOOBIG;
            goto done;
        }
        (*n)++;
    }
    if (rc == EB__STORE_DONE)
        rc = 0;
done:
    eb__q_end(&q);
    *items = rc == 0 ? v : NULL;
    if (rc != 0)
        *n = 0;
    return rc;
}

/* The grant of a city or district administrator: where the audit row of an element lives. */
static const struct eb_grant *element_admin(const struct eb_caller *c)
{
    for (size_t i = 0; c != NULL && i < c->n_grants; i++)
        if (c->grants[i].role == EB_ROLE_CITY_ADMIN || c->grants[i].role == EB_ROLE_DISTRICT_ADMIN)
            return &c->grants[i];
    return NULL;
}

int eb_store_element_create(struct eb_db *db, const struct eb_caller *c,
                            const struct eb_element_row *in, int32_t *id)
{
    *id = 0;
    if (c == NULL || in == NULL)
        return EB_EINVAL;
    const struct eb_grant *g = element_admin(c);
    if (!c->system && g == NULL)
        return EB_EDENIED;
    int32_t existing = 0;
    int rc = eb_store_element_id(db, in->code, &existing);
    if (rc == 0)
        return EB_EEXIST;
    if (rc != EB_ENOTFOUND)
        return rc;
    int own = 0;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    struct eb_element_row row = *in;
    row.builtin = 0;
    rc = element_insert(db, &row, id);
    if (rc == 0) {
        json_t *after =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:f, s:f}", "code", in->code, "name_zh",
                      in->name_zh, "name_en", in->name_en, "type", in->value_type, "aggregation",
                      in->aggregation, "level", (int)in->level, "per_person",
                      in->per_person ? 1 : 0, "min", in->min, "max", in->max);
        rc = eb__audit_write(db, c, "data_element.create", "data_element", *id,
                             g ? g->org_path : NULL, NULL, after);
    }
    rc = eb__tx_leave(db, own, rc);
    if (rc != 0)
        *id = 0;
    return rc;
}

/* ---- observations: batched appends ------------------------------------------------------ */

#define OBS_COLS                                                                                   \
    "INSERT INTO observations (school_id, element_id, org_id, org_path, person_id, day, value,"    \
    " category, supersedes, reason, created_at, created_by) VALUES "
#define OBS_PARAMS 12
#define OBS_TUPLE  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

/*
 * Multi-row INSERTs of a few fixed sizes: one statement (one round trip on PostgreSQL, one
 * VDBE program on SQLite) carries up to 256 rows. The texts are built once; each size is a
 * separate cached statement because the cache is keyed by the text's address. They end in
 * "RETURNING id AS obs_id", not "RETURNING id": the SQLite backend answers a trailing
 * " RETURNING id" with the last rowid alone, and every row's id is wanted here.
 */
#define OBS_RETURNING " RETURNING id AS obs_id"
static const int CHUNKS[] = {256, 32, 4, 1};
#define N_CHUNKS 4
static char *chunk_sql[N_CHUNKS];
static pthread_once_t chunk_once = PTHREAD_ONCE_INIT;

static void chunk_build(void)
{
    for (int k = 0; k < N_CHUNKS; k++) {
        size_t head = strlen(OBS_COLS), tuple = strlen(OBS_TUPLE), tail = strlen(OBS_RETURNING);
        size_t len = head + (size_t)CHUNKS[k] * (tuple + 2) + tail + 1;
        char *s = eb_xmalloc(len), *p = s;
        memcpy(p, OBS_COLS, head);
        p += head;
        for (int i = 0; i < CHUNKS[k]; i++) {
            if (i > 0) {
                memcpy(p, ", ", 2);
                p += 2;
            }
            memcpy(p, OBS_TUPLE, tuple);
            p += tuple;
        }
        memcpy(p, OBS_RETURNING, tail + 1);
        chunk_sql[k] = s; /* kept for the process's life: cached statements point at it */
    }
}

/* The org facts of a batch, found once per distinct org: a direct-mapped cache, where a
 * collision only costs another lookup. */
#define ORG_SLOTS 1024
struct org_slot {
    int64_t id, unit;
    char path[EB_PATH_MAX];
};

/* The caller's write scope during one insert. The teachers' classes are read only when a row
 * lies outside every administrator grant, so an administrator's batch costs no query here. */
struct ins_scope {
    const struct eb_caller *c;
    struct eb_arena *a; /* NULL until the classes were read */
    struct eb_obs_scope s;
};

/* Today in the server's calendar, as days since 1970-01-01 (the day eb_day_today gives outside
 * the tests' moved clock). */
static int32_t local_today(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = 0;
    return (int32_t)(timegm(&tm) / 86400);
}

static int ins_allows(struct eb_db *db, struct ins_scope *is, const char *path)
{
    if (is->c->system || eb_caller_allows(is->c, path, EB_ACCESS_WRITE))
        return 0;
    if (is->a == NULL) {
        is->a = eb_arena_create(0);
        int rc = eb_store_obs_scope(db, is->c, local_today(), is->a, &is->s);
        if (rc != 0)
            return rc;
    }
    return eb_store_obs_scope_allows(&is->s, path) ? 0 : EB_ENOTFOUND;
}

static int org_facts(struct eb_db *db, struct org_slot *slots, struct ins_scope *is, int64_t org_id,
                     const struct org_slot **out)
{
    struct org_slot *s = &slots[(uint64_t)org_id % ORG_SLOTS];
    if (s->id == org_id) {
        *out = s;
        return 0;
    }
    enum eb_org_kind kind = 0;
    int rc = eb__org_path(db, org_id, s->path, &kind);
    if (rc == 0)
        rc = eb__org_unit(db, s->path, kind, &s->unit);
    if (rc != 0) {
        s->id = 0;
        return rc == EB_ENOTFOUND ? EB_EINVAL : rc;
    }
    /* Only orgs the caller may write enter the cache: the check runs once per distinct org. */
    rc = ins_allows(db, is, s->path);
    if (rc != 0) {
        s->id = 0;
        return rc;
    }
    s->id = org_id;
    *out = s;
    return 0;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* The longest common prefix of two paths that ends at a '/': the audit row of a batch sits at
 * the smallest node covering every row. */
static void common_path(char *acc, const char *path)
{
    size_t i = 0, last = 0;
    while (acc[i] != '\0' && acc[i] == path[i]) {
        if (acc[i] == '/')
            last = i;
        i++;
    }
    if (acc[i] == '\0' && path[i] == '\0')
        return;
    acc[last + 1] = '\0';
}

static const char SQL_OBS_VALUE[] =
    "SELECT element_id, org_id, day, value, category FROM observations WHERE id = ?";

/* The audit row of one correction: what it replaced, what replaces it and why. */
static int audit_correction(struct eb_db *db, const struct eb_caller *c, const struct eb_obs_row *r,
                            int64_t new_id, const char *path)
{
    struct eb__q q;
    json_t *before = NULL;
    eb__q_start(db, SQL_OBS_VALUE, &q);
    eb__q_int(&q, r->supersedes);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        before = json_pack("{s:I, s:f, s:s?}", "id", (json_int_t)r->supersedes, "value",
                           eb__q_col_double(&q, 3), "category",
                           eb__q_col_null(&q, 4) ? NULL : q.db->be->col_text(q.stmt, 4, NULL));
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_EINVAL;
    }
    eb__q_end(&q);
    if (rc != 0)
        return rc;
    json_t *after = json_pack("{s:I, s:i, s:I, s:f, s:s?, s:s}", "id", (json_int_t)new_id, "day",
                              (int)r->day, "element_id", (json_int_t)r->element_id, "value",
                              r->value, "category", r->category, "reason", r->reason);
    return eb__audit_write(db, c, "observation.correct", "observation", new_id, path, before,
                           after);
}

/* A row with its org's facts, in the order it is inserted. */
struct placed {
    const struct eb_obs_row *r;
    size_t idx; /* the row's place in the caller's array */
    int64_t unit;
    char path[EB_PATH_MAX];
};

/* The order of the observations_element_path_day index: inserting in it turns random index
 * insertions into a walk from left to right (each leaf page is visited once per batch, while it
 * is hot), which makes a batch spread over a city's classes and days several times faster. */
static int cmp_placed(const void *x, const void *y)
{
    const struct placed *a = x, *b = y;
    if (a->r->element_id != b->r->element_id)
        return a->r->element_id < b->r->element_id ? -1 : 1;
    int c = strcmp(a->path, b->path);
    if (c != 0)
        return c;
    if (a->r->day != b->r->day)
        return a->r->day < b->r->day ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

int eb_store_obs_insert(struct eb_db *db, const struct eb_caller *c, const struct eb_obs_row *rows,
                        size_t n, int64_t *ids)
{
    struct org_slot *slots = NULL;
    struct placed *pl = NULL;
    int64_t *got = NULL;
    struct ins_scope is = {.c = c};
    char audit_path[EB_PATH_MAX] = "";
    int own = 0, rc = 0;
    if (c == NULL || (n > 0 && rows == NULL))
        return EB_EINVAL;
    if (n == 0)
        return 0;
    pthread_once(&chunk_once, chunk_build);
    slots = eb_xcalloc(ORG_SLOTS, sizeof(*slots));
    pl = eb_xmalloc(n * sizeof(*pl));
    got = eb_xmalloc(CHUNKS[0] * sizeof(*got));
    int64_t now = eb__now_ms() / 1000;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const struct org_slot *o = NULL;
        rc = org_facts(db, slots, &is, rows[i].org_id, &o);
        if (rc != 0)
            goto done;
        pl[i].r = &rows[i];
        pl[i].idx = i;
        pl[i].unit = o->unit;
        memcpy(pl[i].path, o->path, EB_PATH_MAX);
        if (audit_path[0] == '\0')
            memcpy(audit_path, o->path, EB_PATH_MAX);
        else
            common_path(audit_path, o->path);
    }
    if (n > 1)
        qsort(pl, n, sizeof(*pl), cmp_placed);
    size_t i = 0;
    while (i < n) {
        int k = 0;
        while ((size_t)CHUNKS[k] > n - i)
            k++;
        size_t m = (size_t)CHUNKS[k];
        struct eb__q q;
        eb__q_start(db, chunk_sql[k], &q);
        for (size_t j = 0; j < m; j++) {
            const struct placed *p = &pl[i + j];
            const struct eb_obs_row *r = p->r;
            eb__q_int(&q, p->unit);
            eb__q_int(&q, r->element_id);
            eb__q_int(&q, r->org_id);
            eb__q_text(&q, p->path);
            if (r->person_id)
                eb__q_int(&q, r->person_id);
            else
                eb__q_null(&q);
            eb__q_int(&q, r->day);
            eb__q_double(&q, r->value);
            eb__q_text(&q, r->category);
            if (r->supersedes)
                eb__q_int(&q, r->supersedes);
            else
                eb__q_null(&q);
            eb__q_text(&q, r->reason);
            eb__q_int(&q, now);
            if (c->account_id)
                eb__q_int(&q, c->account_id);
            else
                eb__q_null(&q);
        }
        size_t n_got = 0;
        for (;;) {
            int st = eb__q_step(&q);
            if (st == EB__STORE_DONE)
                break;
            if (st < 0) {
                rc = st;
                break;
            }
            if (n_got < m)
                got[n_got++] = eb__q_col_int(&q, 0);
        }
        eb__q_end(&q);
        if (rc != 0)
            goto done;
        if (n_got != m) {
            rc = EB_ESTORE;
            goto done;
        }
        /* Ids grow in the order the rows were inserted, whatever order RETURNING uses. */
        qsort(got, m, sizeof(*got), cmp_i64);
        for (size_t j = 0; j < m; j++) {
            const struct placed *p = &pl[i + j];
            if (ids)
                ids[p->idx] = got[j];
            if (p->r->supersedes && !eb__audit_skip(c)) {
                rc = audit_correction(db, c, p->r, got[j], p->path);
                if (rc != 0)
                    goto done;
            }
        }
        i += m;
    }
    if (!eb__audit_skip(c)) {
        json_t *after = json_pack("{s:I}", "rows", (json_int_t)n);
        rc = eb__audit_write(db, c, "observations.insert", "observation", 0,
                             audit_path[0] ? audit_path : NULL, NULL, after);
    }
done:
    rc = eb__tx_leave(db, own, rc);
    if (is.a != NULL)
        eb_arena_destroy(is.a);
    eb_free(slots);
    eb_free(pl);
    eb_free(got);
    return rc;
}

/* ---- observations: reads ---------------------------------------------------------------- */

static const char SQL_OBS_GET[] =
    "SELECT element_id, org_id, org_path, person_id, day, value, category, supersedes, reason,"
    " (SELECT MIN(s.id) FROM observations s WHERE s.supersedes = o.id)"
    " FROM observations o WHERE o.id = ?";

/* One observation for a correction: with a scope, EB_EDENIED tells a row the caller reads but
 * may not write from a row it may not see; without one, only administrators' writes count. */
static int obs_get(struct eb_db *db, const struct eb_caller *c, const struct eb_obs_scope *s,
                   int64_t id, struct eb_arena *a, struct eb_obs_row *out, int64_t *superseded_by)
{
    struct eb__q q;
    memset(out, 0, sizeof(*out));
    *superseded_by = 0;
    if (c == NULL || id <= 0)
        return EB_ENOTFOUND;
    eb__q_start(db, SQL_OBS_GET, &q);
    eb__q_int(&q, id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        char *path = eb__q_col_str(&q, 2, a);
        if (path == NULL)
            rc = EB_ETOOBIG;
        else if (s == NULL && !eb_caller_allows(c, path, EB_ACCESS_WRITE))
            rc = EB_ENOTFOUND;
        else if (s != NULL && !eb_caller_allows(c, path, EB_ACCESS_READ))
            rc = EB_ENOTFOUND;
        else if (s != NULL && !eb_store_obs_scope_allows(s, path))
            rc = EB_EDENIED;
        else {
            out->element_id = (int32_t)eb__q_col_int(&q, 0);
            out->org_id = eb__q_col_int(&q, 1);
            out->person_id = eb__q_col_null(&q, 3) ? 0 : eb__q_col_int(&q, 3);
            out->day = (int32_t)eb__q_col_int(&q, 4);
            out->value = eb__q_col_double(&q, 5);
            out->category = eb__q_col_str(&q, 6, a);
            out->supersedes = eb__q_col_null(&q, 7) ? 0 : eb__q_col_int(&q, 7);
            out->reason = eb__q_col_str(&q, 8, a);
            *superseded_by = eb__q_col_null(&q, 9) ? 0 : eb__q_col_int(&q, 9);
            rc = 0;
        }
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

int eb_store_obs_get(struct eb_db *db, const struct eb_caller *c, int64_t id, struct eb_arena *a,
                     struct eb_obs_row *out, int64_t *superseded_by)
{
    return obs_get(db, c, NULL, id, a, out, superseded_by);
}

int eb_store_obs_get_scoped(struct eb_db *db, const struct eb_obs_scope *s, int64_t id,
                            struct eb_arena *a, struct eb_obs_row *out, int64_t *superseded_by)
{
    if (s == NULL || s->c == NULL) {
        memset(out, 0, sizeof(*out));
        *superseded_by = 0;
        return EB_ENOTFOUND;
    }
    return obs_get(db, s->c, s, id, a, out, superseded_by);
}

/* Day numbers to the enrolments' YYYY-MM-DD text (proleptic Gregorian, H. Hinnant's civil
 * algorithm), so that the comparison runs on the stored text and its index. */
static void day_text(int32_t day, char out[40])
{
    int64_t z = (int64_t)day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    snprintf(out, 40, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

static const char SQL_PERSON_IN[] =
    "SELECT 1 FROM enrolments WHERE person_id = ? AND class_path >= ? AND class_path < ?"
    " AND start_date <= ? AND (end_date IS NULL OR end_date >= ?) LIMIT 1";

int eb_store_obs_person_in(struct eb_db *db, int64_t person_id, int64_t org_id, int32_t day)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX], ymd[40];
    int rc = eb__org_path(db, org_id, path, NULL);
    if (rc == EB_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    eb__path_hi(path, hi);
    day_text(day, ymd);
    struct eb__q q;
    eb__q_start(db, SQL_PERSON_IN, &q);
    eb__q_int(&q, person_id);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    eb__q_text(&q, ymd);
    eb__q_text(&q, ymd);
    rc = eb__q_step(&q);
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    return rc == EB__STORE_ROW ? 1 : 0;
}

/* ---- who reports observations ---------------------------------------------------------- */

int eb_store_obs_reporter(const struct eb_caller *c)
{
    if (c == NULL)
        return 0;
    if (c->system)
        return 1;
    for (size_t i = 0; i < c->n_grants; i++) {
        switch (c->grants[i].role) {
        case EB_ROLE_CITY_ADMIN:
        case EB_ROLE_DISTRICT_ADMIN:
        case EB_ROLE_SCHOOL_ADMIN:
        case EB_ROLE_HEAD_TEACHER:
        case EB_ROLE_TEACHER:
            return 1;
        default:
            break;
        }
    }
    return 0;
}

/* A grant held at a class: the class is the holder's, whatever the registry says of teaching
 * (an administrator granted it on purpose). */
static const char SQL_GRANT_CLASS[] = "SELECT path, name FROM orgs WHERE id = ? AND kind = 5";
/* The classes the person teaches on a day inside one grant's subtree: the index of migration
 * 0018, (person_id, class_path), makes it a short range of the person's own rows. A row ended
 * on a day still counts that day, as for enrolments. */
static const char SQL_TEACHES[] =
    "SELECT t.class_id, t.class_path, o.name FROM teaching t JOIN orgs o ON o.id = t.class_id"
    " WHERE t.person_id = ? AND t.class_path >= ? AND t.class_path < ?"
    " AND t.start_date <= ? AND (t.end_date IS NULL OR t.end_date >= ?)";

static int class_add(struct eb_arena *a, struct eb_obs_scope *s, size_t *cap, int64_t id,
                     const char *path, const char *name)
{
    if (path == NULL || strlen(path) >= EB_PATH_MAX)
        return EB_ESTORE;
    s->classes = eb_arena_grow(a, s->classes, s->n_classes, cap, sizeof(*s->classes));
    if (s->classes == NULL)
        return EB_ETOOBIG;
    struct eb_obs_class *k = &s->classes[s->n_classes++];
    k->id = id;
    snprintf(k->path, sizeof(k->path), "%s", path);
    k->name = name;
    return 0;
}

static int grant_classes(struct eb_db *db, const struct eb_caller *c, const struct eb_grant *g,
                         const char *ymd, struct eb_arena *a, struct eb_obs_scope *s, size_t *cap)
{
    struct eb__q q;
    eb__q_start(db, SQL_GRANT_CLASS, &q);
    eb__q_int(&q, g->org_id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        rc = class_add(a, s, cap, g->org_id, eb__q_col_str(&q, 0, a), eb__q_col_str(&q, 1, a));
    else if (rc == EB__STORE_DONE)
        rc = 0;
    eb__q_end(&q);
    if (rc != 0 || c->person_id <= 0)
        return rc;
    char hi[EB_PATH_MAX];
    eb__path_hi(g->org_path, hi);
    eb__q_start(db, SQL_TEACHES, &q);
    eb__q_int(&q, c->person_id);
    eb__q_text(&q, g->org_path);
    eb__q_text(&q, hi);
    eb__q_text(&q, ymd);
    eb__q_text(&q, ymd);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        rc = class_add(a, s, cap, eb__q_col_int(&q, 0), eb__q_col_str(&q, 1, a),
                       eb__q_col_str(&q, 2, a));
        if (rc != 0)
            break;
    }
    eb__q_end(&q);
    return rc == EB__STORE_DONE ? 0 : rc;
}

static int cmp_class(const void *x, const void *y)
{
    return strcmp(((const struct eb_obs_class *)x)->path, ((const struct eb_obs_class *)y)->path);
}

int eb_store_obs_scope(struct eb_db *db, const struct eb_caller *c, int32_t today,
                       struct eb_arena *a, struct eb_obs_scope *out)
{
    memset(out, 0, sizeof(*out));
    out->c = c;
    if (c == NULL)
        return EB_EINVAL;
    out->reporter = eb_store_obs_reporter(c);
    if (c->system || !out->reporter)
        return 0;
    char ymd[40];
    day_text(today, ymd);
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; i < c->n_grants && rc == 0; i++) {
        const struct eb_grant *g = &c->grants[i];
        if (g->role != EB_ROLE_HEAD_TEACHER && g->role != EB_ROLE_TEACHER)
            continue;
        /* Inside an administrator's subtree a teacher grant adds nothing. */
        if (eb_caller_allows(c, g->org_path, EB_ACCESS_WRITE))
            continue;
        rc = grant_classes(db, c, g, ymd, a, out, &cap);
    }
    if (rc != 0) {
        out->n_classes = 0;
        out->classes = NULL;
        return rc;
    }
    if (out->n_classes > 1) {
        qsort(out->classes, out->n_classes, sizeof(*out->classes), cmp_class);
        size_t m = 1;
        for (size_t i = 1; i < out->n_classes; i++)
            if (strcmp(out->classes[i].path, out->classes[m - 1].path) != 0)
                out->classes[m++] = out->classes[i];
        out->n_classes = m;
    }
    return 0;
}

int eb_store_obs_scope_allows(const struct eb_obs_scope *s, const char *path)
{
    if (s == NULL || s->c == NULL || path == NULL)
        return 0;
    if (s->c->system || eb_caller_allows(s->c, path, EB_ACCESS_WRITE))
        return 1;
    /* A class is a leaf: the teachers' nodes match exactly, never by prefix. */
    size_t lo = 0, hi = s->n_classes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(s->classes[mid].path, path);
        if (cmp == 0)
            return 1;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Kinds in order put every parent before its children: a child's kind is always larger. */
static const char SQL_ORG_NODES[] =
    "SELECT id, parent_id, kind, path FROM orgs WHERE id > ? ORDER BY kind, id";

int eb_store_org_nodes(struct eb_db *db, int64_t after, eb_org_node_fn fn, void *ctx)
{
    struct eb__q q;
    int rc;
    eb__q_start(db, SQL_ORG_NODES, &q);
    eb__q_int(&q, after);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        const char *path = eb__q_col_null(&q, 3) ? "" : q.db->be->col_text(q.stmt, 3, NULL);
        rc = fn(ctx, eb__q_col_int(&q, 0), eb__q_col_null(&q, 1) ? 0 : eb__q_col_int(&q, 1),
                (enum eb_org_kind)eb__q_col_int(&q, 2), path ? path : "");
        if (rc != 0)
            break;
    }
    eb__q_end(&q);
    return rc == EB__STORE_DONE ? 0 : rc;
}

/* ---- observations: the scan of the rebuild and of catching up --------------------------- */

static const char SQL_SUPERSEDED[] =
    "SELECT supersedes FROM observations WHERE supersedes IS NOT NULL"
    " AND supersedes > ? AND id <= ?";
/* Pages of the scan: a PostgreSQL result is read whole into memory, so one statement over a
 * city-year would hold it all; pages keep the client's memory flat on both backends. */
#define SCAN_PAGE 65536
static const char SQL_SCAN_PAGE[] =
    "SELECT id, element_id, org_id, day, value, supersedes FROM observations WHERE id > ?"
    " ORDER BY id LIMIT 65536";
static const char SQL_PG_SNAPSHOT[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

int eb_store_obs_scan(struct eb_db *db, int64_t after, eb_obs_scan_fn fn, void *ctx)
{
    return eb_store_obs_scan_upto(db, after, INT64_MAX, fn, ctx);
}

int eb_store_obs_scan_upto(struct eb_db *db, int64_t after, int64_t upto, eb_obs_scan_fn fn,
                           void *ctx)
{
    int64_t *sup = NULL;
    size_t n_sup = 0, cap_sup = 0;
    struct eb__q q;
    int rc, pg = db->be == &eb__store_pg, snap = 0;
    memset(&q, 0, sizeof(q));
    if (fn == NULL)
        return EB_EINVAL;
    if (db->in_tx) {
        snap = 0; /* the caller's transaction is the snapshot */
    } else if (pg) {
        rc = eb__db_exec(db, SQL_PG_SNAPSHOT);
        if (rc != 0)
            return rc;
        snap = 2;
    } else {
        rc = eb_db_read_begin(db);
        if (rc != 0)
            return rc;
        snap = 1;
    }
    /*
     * Every page reads the same snapshot, so a row is skipped exactly when its replacement is
     * in the scan; corrections are rare, so their targets fit in memory as a sorted array.
     */
    eb__q_start(db, SQL_SUPERSEDED, &q);
    eb__q_int(&q, after);
    eb__q_int(&q, upto);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        if (n_sup == cap_sup) {
            cap_sup = cap_sup ? cap_sup * 2 : 256;
            sup = eb_xrealloc(sup, cap_sup * sizeof(*sup));
        }
        sup[n_sup++] = eb__q_col_int(&q, 0);
    }
    eb__q_end(&q);
    if (rc != EB__STORE_DONE)
        goto done;
    rc = 0;
    if (n_sup > 1)
        qsort(sup, n_sup, sizeof(*sup), cmp_i64);
    int64_t pos = after;
    for (;;) {
        size_t n_page = 0;
        eb__q_start(db, SQL_SCAN_PAGE, &q);
        eb__q_int(&q, pos);
        int s;
        while ((s = eb__q_step(&q)) == EB__STORE_ROW) {
            n_page++;
            int64_t id = eb__q_col_int(&q, 0);
            pos = id;
            if (id > upto) {
                n_page = 0; /* past the bound: the scan is over */
                break;
            }
            if (n_sup > 0 && bsearch(&id, sup, n_sup, sizeof(*sup), cmp_i64) != NULL)
                continue;
            int64_t replaces = eb__q_col_null(&q, 5) ? 0 : eb__q_col_int(&q, 5);
            /* A replaced row after `after` was skipped above (its replacement is in the same
             * snapshot); only rows the caller applied before need removing. */
            if (replaces > after)
                replaces = 0;
            rc = fn(ctx, id, (int32_t)eb__q_col_int(&q, 1), eb__q_col_int(&q, 2),
                    (int32_t)eb__q_col_int(&q, 3), eb__q_col_double(&q, 4), replaces);
            if (rc != 0)
                break;
        }
        eb__q_end(&q);
        if (rc != 0)
            goto done;
        if (s < 0) {
            rc = s;
            goto done;
        }
        if (n_page < SCAN_PAGE)
            break;
    }
done:
    if (snap == 1)
        eb_db_read_end(db);
    else if (snap == 2)
        eb__db_exec(db, "COMMIT");
    eb_free(sup);
    return rc;
}

static const char SQL_OBS_HIGH[] = "SELECT COALESCE(MAX(id), 0) FROM observations";

int eb_store_obs_high(struct eb_db *db, int64_t *high)
{
    struct eb__q q;
    *high = 0;
    eb__q_start(db, SQL_OBS_HIGH, &q);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *high = eb__q_col_int(&q, 0);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    return rc;
}

static const char SQL_OBS_AGG[] =
    "SELECT COALESCE(SUM(value), 0), COUNT(*), COALESCE(MIN(value), 0), COALESCE(MAX(value), 0),"
    " COALESCE(MAX(day), 0) FROM observations o WHERE element_id = ? AND org_path >= ?"
    " AND org_path < ? AND day >= ? AND day <= ?"
    " AND NOT EXISTS (SELECT 1 FROM observations s WHERE s.supersedes = o.id)";

int eb_store_obs_aggregate(struct eb_db *db, int32_t element_id, int64_t org_id, int32_t from,
                           int32_t to, struct eb_obs_agg *out)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    memset(out, 0, sizeof(*out));
    int rc = eb__org_path(db, org_id, path, NULL);
    if (rc != 0)
        return rc;
    eb__path_hi(path, hi);
    struct eb__q q;
    eb__q_start(db, SQL_OBS_AGG, &q);
    eb__q_int(&q, element_id);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    eb__q_int(&q, from);
    eb__q_int(&q, to);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        out->sum = eb__q_col_double(&q, 0);
        out->count = eb__q_col_int(&q, 1);
        out->min = eb__q_col_double(&q, 2);
        out->max = eb__q_col_double(&q, 3);
        out->last_day = (int32_t)eb__q_col_int(&q, 4);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ESTORE;
    }
    eb__q_end(&q);
    return rc;
}

int eb_store_obs_writer(struct eb_db *db)
{
    if (db->be != &eb__store_sqlite)
        return 0;
    return eb__db_exec(db, "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;");
}

int eb_store_checkpoint(struct eb_db *db)
{
    if (db->be != &eb__store_sqlite)
        return 0;
    return eb__db_exec(db, "PRAGMA wal_checkpoint(PASSIVE);");
}

/* ---- notifications between servers (PostgreSQL LISTEN/NOTIFY) ---------------------------- */

static const char SQL_NOTIFY[] = "SELECT pg_notify('eb_obs', ?)";

int eb_store_obs_notify(struct eb_db *db, int64_t high)
{
    if (db->be != &eb__store_pg)
        return 0;
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)high);
    struct eb__q q;
    eb__q_start(db, SQL_NOTIFY, &q);
    eb__q_text(&q, text);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* A session of its own: a pooled connection runs transactions, while this one only waits. */
struct eb_obs_listener {
    char *conninfo;
    PGconn *conn;
};

static int listener_connect(struct eb_obs_listener *l)
{
    if (l->conn != NULL && PQstatus(l->conn) == CONNECTION_OK)
        return 0;
    if (l->conn != NULL)
        PQfinish(l->conn);
    l->conn = PQconnectdb(l->conninfo);
    if (PQstatus(l->conn) != CONNECTION_OK) {
        eb_warn("brain: LISTEN connection failed: %.*s",
                (int)strcspn(PQerrorMessage(l->conn), "\n"), PQerrorMessage(l->conn));
        PQfinish(l->conn);
        l->conn = NULL;
        return EB_EIO;
    }
    PGresult *res = PQexec(l->conn, "LISTEN eb_obs");
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        PQfinish(l->conn);
        l->conn = NULL;
        return EB_EIO;
    }
    return 0;
}

int eb_store_obs_listen(struct eb_store *st, struct eb_obs_listener **out)
{
    *out = NULL;
    const char *ci = eb__pg_conninfo(st);
    if (ci == NULL)
        return EB_EINVAL;
    struct eb_obs_listener *l = eb_xcalloc(1, sizeof(*l));
    l->conninfo = eb_xstrdup(ci);
    int rc = listener_connect(l);
    if (rc != 0) {
        eb_store_obs_listen_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

int eb_store_obs_listen_wait(struct eb_obs_listener *l, int timeout_ms, int64_t *high)
{
    *high = 0;
    if (listener_connect(l) != 0) {
        struct pollfd none = {.fd = -1};
        poll(&none, 0, timeout_ms); /* wait before retrying a lost server */
        return EB_EIO;
    }
    int got = 0;
    for (int round = 0; round < 2; round++) {
        if (!PQconsumeInput(l->conn)) {
            PQfinish(l->conn);
            l->conn = NULL;
            return EB_EIO;
        }
        PGnotify *nf;
        while ((nf = PQnotifies(l->conn)) != NULL) {
            long long v = strtoll(nf->extra, NULL, 10);
            if (v > *high)
                *high = v;
            got = 1;
            PQfreemem(nf);
        }
        if (got || round == 1)
            break;
        struct pollfd p = {.fd = PQsocket(l->conn), .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r <= 0)
            break;
    }
    return got;
}

void eb_store_obs_listen_close(struct eb_obs_listener *l)
{
    if (l == NULL)
        return;
    if (l->conn != NULL)
        PQfinish(l->conn);
    eb_free(l->conninfo);
    eb_free(l);
}
