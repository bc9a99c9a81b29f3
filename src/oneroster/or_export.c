/* OneRoster 1.1 export: a bulk package of an org's subtree, as a directory or a zip file. */
#include "oneroster/or_io.h"
#include "oneroster/or_map.h"

#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

/* The files this exporter writes, in the manifest's order of properties. */
enum xfile {
    XF_ORGS,
    XF_SESSIONS,
    XF_COURSES,
    XF_CLASSES,
    XF_USERS,
    XF_DEMOGRAPHICS,
    XF_ENROLLMENTS,
    XF_N
};

static const enum eb_or_file xfile_or[XF_N] = {
    EB_OR_ORGS,  EB_OR_ACADEMIC_SESSIONS, EB_OR_COURSES,    EB_OR_CLASSES,
    EB_OR_USERS, EB_OR_DEMOGRAPHICS,      EB_OR_ENROLLMENTS};

/* Extension columns, right of the normative ones (docs/internals/oneroster.md, "Export"). */
static const char *const ext_orgs[] = {
    "metadata.edubrain.division_code", "metadata.edubrain.running_type", "metadata.edubrain.stages",
    "metadata.edubrain.urban_rural",   "metadata.edubrain.address",      "metadata.edubrain.lat",
    "metadata.edubrain.lon",           "metadata.edubrain.closed_on",    NULL};
static const char *const ext_courses[] = {"metadata.edubrain.grade_code", NULL};
static const char *const ext_classes[] = {"metadata.edubrain.grade_code",
                                          "metadata.edubrain.closed_on", NULL};
static const char *const ext_users[] = {
    "metadata.edubrain.name",          "metadata.edubrain.post_title",
    "metadata.edubrain.post_subjects", "metadata.edubrain.post_start",
    "metadata.edubrain.relation",      NULL};
static const char *const ext_enrollments[] = {"metadata.edubrain.subject", NULL};
static const char *const ext_none[] = {NULL};

static const char *const *const xfile_ext[XF_N] = {ext_orgs,  ext_none, ext_courses,    ext_classes,
                                                   ext_users, ext_none, ext_enrollments};

struct class_ref {
    const char *sid, *school_sid;
};

struct year_ref {
    int start;
    const char *sid, *terms; /* terms: "t1,t2" or the year's own sid */
    int synthetic;
};

struct exporter {
    struct eb_db *db;
    const struct eb_caller *c;
    struct eb_arena *a;   /* what lives as long as the export */
    struct eb_arena *tmp; /* what lives for one row: renewed every few thousand rows */
    int64_t tmp_rows;
    char token[9];
    int64_t root_id;
    char dir[4096];
    FILE *f[XF_N];
    int64_t rows[XF_N];
    struct eb__or_idmap *orgs;    /* exported org ids ("123") */
    struct eb__or_idmap *classes; /* class id -> index into class_refs */
    struct class_ref *class_refs;
    size_t n_classes, cap_classes;
    struct year_ref *years;
    size_t n_years, cap_years;
    struct eb_buf line;
    int rc;
};

/* ---- CSV -------------------------------------------------------------------------------- */

/* One field: quoted (by libcsv) only when it holds a comma or a quote; CR and LF, which a
 * OneRoster field may not hold (§1.2), become spaces. */
static void field(struct exporter *x, const char *v, int first)
{
    if (!first)
        eb_buf_puts(&x->line, ",");
    if (v == NULL || v[0] == '\0')
        return;
    size_t len = strlen(v);
    char *clean = NULL;
    if (strpbrk(v, "\r\n")) {
        clean = eb_xstrdup(v);
        for (char *p = clean; *p; p++)
            if (*p == '\r' || *p == '\n')
                *p = ' ';
        v = clean;
    }
    if (strpbrk(v, ",\"")) {
        size_t cap = 2 * len + 3;
        char *q = eb_xmalloc(cap);
        size_t n = csv_write(q, cap, v, len);
        eb_buf_append(&x->line, q, n);
        eb_free(q);
    } else {
        eb_buf_append(&x->line, v, len);
    }
    eb_free(clean);
}

static void emit(struct exporter *x, enum xfile f, const char *const *cells, size_t n)
{
    eb_buf_reset(&x->line);
    for (size_t i = 0; i < n; i++)
        field(x, cells[i], i == 0);
    eb_buf_puts(&x->line, "\n");
    if (fwrite(x->line.data, 1, x->line.len, x->f[f]) != x->line.len && x->rc == 0)
        x->rc = EB_EIO;
    x->rows[f]++;
}

static int open_file(struct exporter *x, enum xfile f)
{
    char path[4200];
    enum eb_or_file of = xfile_or[f];
    snprintf(path, sizeof(path), "%s/%s", x->dir, eb_or_file_name(of));
    x->f[f] = fopen(path, "w");
    if (!x->f[f])
        return EB_EIO;
    size_t n = eb_or_column_count(of), m = 0;
    while (xfile_ext[f][m])
        m++;
    const char **cells = eb_arena_alloc(x->a, (n + m) * sizeof(char *));
    for (size_t i = 0; i < n; i++)
        cells[i] = eb_or_column_name(of, i);
    for (size_t i = 0; i < m; i++)
        cells[n + i] = xfile_ext[f][i];
    emit(x, f, cells, n + m);
    x->rows[f] = 0;
    return 0;
}

/* ---- sourcedIds ------------------------------------------------------------------------- */

/* A mapped sourcedId, or the one made up for a row that has none: a letter for the kind, the
 * installation's token and the local id (docs/internals/oneroster.md). */
static const char *sid_in(struct exporter *x, struct eb_arena *a, const char *mapped, char kind,
                          int64_t id)
{
    if (mapped)
        return eb_arena_strdup(a, mapped);
    return eb_arena_printf(a, "%c%s-%lld", kind, x->token, (long long)id);
}

/* The row's scratch arena, emptied every few thousand rows so that a city stays small. */
static struct eb_arena *scratch(struct exporter *x)
{
    if (x->tmp == NULL || ++x->tmp_rows % 4096 == 0) {
        eb_arena_destroy(x->tmp);
        x->tmp = eb_arena_create(0);
    }
    return x->tmp;
}

#define sid_or(x, mapped, kind, id) sid_in((x), (x)->tmp, (mapped), (kind), (id))

static int in_export(const struct exporter *x, int64_t org_id)
{
    char key[24];
    snprintf(key, sizeof(key), "%lld", (long long)org_id);
    return eb__or_idmap_get(x->orgs, key, NULL, NULL, NULL);
}

static const char *ceds(const char *code)
{
    const char *c = eb__or_grade_ceds(code);
    return c ? c : "";
}

/* ---- years ------------------------------------------------------------------------------ */

static const struct year_ref *year_of(struct exporter *x, int start)
{
    for (size_t i = 0; i < x->n_years; i++)
        if (x->years[i].start == start)
            return &x->years[i];
    /* A class of a year the calendar does not hold: a year of its own, named by its number so
     * that every installation names it alike. */
    size_t cap = x->cap_years;
    x->years = eb_arena_grow(x->a, x->years, x->n_years, &cap, sizeof(*x->years));
    x->cap_years = cap;
    struct year_ref *y = &x->years[x->n_years++];
    y->start = start;
    y->sid = eb_arena_printf(x->a, "eb-year-%04d", start % 10000);
    y->terms = y->sid;
    y->synthetic = 1;
    return y;
}

static int load_years(struct exporter *x, struct eb_school_year **ys, size_t *n)
{
    int rc = eb_store_year_list(x->db, x->c, x->a, n, ys);
    for (size_t i = 0; rc == 0 && i < *n; i++) {
        const struct eb_school_year *y = &(*ys)[i];
        const char *sid = NULL;
        rc = eb_store_or_sid(x->db, EB_ORK_YEAR, y->id, x->a, &sid);
        if (rc != 0)
            break;
        size_t cap = x->cap_years;
        x->years = eb_arena_grow(x->a, x->years, x->n_years, &cap, sizeof(*x->years));
        x->cap_years = cap;
        struct year_ref *r = &x->years[x->n_years++];
        r->start = (int)strtol(y->name, NULL, 10);
        r->sid = sid_in(x, x->a, sid, 'y', y->id);
        struct eb_buf terms;
        eb_buf_init(&terms, 0);
        for (int t = 0; t < y->n_terms; t++) {
            const char *tsid = NULL;
            rc = eb_store_or_sid(x->db, EB_ORK_TERM, y->id * 10 + y->terms[t].term, x->a, &tsid);
            if (rc != 0)
                break;
            if (!tsid)
                tsid = eb_arena_printf(x->a, "t%s-%lld-%d", x->token, (long long)y->id,
                                       y->terms[t].term);
            eb_buf_printf(&terms, "%s%s", t ? "," : "", tsid);
        }
        r->terms = eb_arena_strdup(x->a, terms.len ? terms.data : r->sid);
        eb_buf_free(&terms);
    }
    return rc;
}

static void write_sessions(struct exporter *x, const struct eb_school_year *ys, size_t n)
{
    char sy[8];
    for (size_t i = 0; i < x->n_years; i++) {
        const struct year_ref *r = &x->years[i];
        snprintf(sy, sizeof(sy), "%04d", (r->start + 1) % 10000);
        if (r->synthetic) {
            char *title =
                eb_arena_printf(x->a, "%04d-%04d", r->start % 10000, (r->start + 1) % 10000);
            char *start = eb_arena_printf(x->a, "%04d-09-01", r->start % 10000);
            char *end = eb_arena_printf(x->a, "%04d-07-15", (r->start + 1) % 10000);
            const char *cells[] = {r->sid, "", "", title, "schoolYear", start, end, "", sy};
            emit(x, XF_SESSIONS, cells, 9);
            continue;
        }
        const struct eb_school_year *y = NULL;
        for (size_t k = 0; k < n; k++)
            if ((int)strtol(ys[k].name, NULL, 10) == r->start)
                y = &ys[k];
        if (!y)
            continue;
        const char *cells[] = {r->sid,        "",          "", y->name, "schoolYear",
                               y->start_date, y->end_date, "", sy};
        emit(x, XF_SESSIONS, cells, 9);
        const char *t = r->terms;
        for (int k = 0; k < y->n_terms; k++) {
            size_t len = strcspn(t, ",");
            char *tsid = eb_arena_strndup(x->a, t, len);
            t += len + (t[len] == ',');
            char *title = eb_arena_printf(x->a, "%s %s", y->name,
                                          y->terms[k].term == 1 ? "第一学期" : "第二学期");
            const char *tc[] = {
                tsid,   "", "", title, "semester", y->terms[k].start_date, y->terms[k].end_date,
                r->sid, sy};
            emit(x, XF_SESSIONS, tc, 9);
        }
    }
}

/* ---- orgs, courses, classes ------------------------------------------------------------- */

static int org_row(void *arg, const struct eb_or_xorg *o)
{
    struct exporter *x = arg;
    scratch(x);
    const struct eb_org *g = &o->org;
    char key[24], stages[16] = "", lat[32] = "", lon[32] = "";
    snprintf(key, sizeof(key), "%lld", (long long)g->id);
    eb__or_idmap_put(x->orgs, key, g->id, 0, 0);
    const char *type = g->kind == EB_ORG_CITY       ? "local"
                       : g->kind == EB_ORG_DISTRICT ? "district"
                                                    : "school";
    const char *parent = "";
    if (g->id != x->root_id && g->parent_id)
        parent = sid_or(x, o->parent_sid, 'o', g->parent_id);
    if (g->stages)
        snprintf(stages, sizeof(stages), "%u", g->stages);
    if (g->has_coords) {
        snprintf(lat, sizeof(lat), "%.6f", g->lat);
        snprintf(lon, sizeof(lon), "%.6f", g->lon);
    }
    const char *cells[] = {sid_or(x, o->sid, 'o', g->id),
                           "",
                           "",
                           g->name,
                           type,
                           g->kind == EB_ORG_SCHOOL ? g->school_code : g->division_code,
                           parent,
                           g->division_code,
                           g->running_type,
                           stages,
                           g->urban_rural,
                           g->address,
                           lat,
                           lon,
                           g->closed_on};
    emit(x, XF_ORGS, cells, sizeof(cells) / sizeof(cells[0]));
    return x->rc;
}

static int grade_row(void *arg, const struct eb_or_xorg *o)
{
    struct exporter *x = arg;
    scratch(x);
    const struct eb_org *g = &o->org;
    const char *ysid = g->school_year ? year_of(x, g->school_year)->sid : "";
    const char *cells[] = {sid_or(x, o->course_sid, 'k', g->id),
                           "",
                           "",
                           ysid,
                           g->name,
                           "",
                           ceds(g->grade_code),
                           sid_or(x, o->school_sid, 'o', o->school_id),
                           "",
                           "",
                           g->grade_code};
    emit(x, XF_COURSES, cells, sizeof(cells) / sizeof(cells[0]));
    return x->rc;
}

static int class_row(void *arg, const struct eb_or_xorg *o)
{
    struct exporter *x = arg;
    const struct eb_org *g = &o->org;
    scratch(x);
    const char *sid = sid_in(x, x->a, o->sid, 'c', g->id);
    const char *school = sid_in(x, x->a, o->school_sid, 'o', o->school_id);
    const struct year_ref *y = year_of(x, g->school_year);
    const char *cells[] = {sid,
                           "",
                           "",
                           g->name,
                           ceds(g->grade_code),
                           sid_or(x, o->course_sid, 'k', g->parent_id),
                           "",
                           "homeroom",
                           "",
                           school,
                           y->terms,
                           "",
                           "",
                           "",
                           g->grade_code,
                           g->closed_on};
    emit(x, XF_CLASSES, cells, sizeof(cells) / sizeof(cells[0]));
    char key[24];
    snprintf(key, sizeof(key), "%lld", (long long)g->id);
    size_t cap = x->cap_classes;
    x->class_refs = eb_arena_grow(x->a, x->class_refs, x->n_classes, &cap, sizeof(*x->class_refs));
    x->cap_classes = cap;
    x->class_refs[x->n_classes] = (struct class_ref){sid, school};
    eb__or_idmap_put(x->classes, key, g->id, (uint32_t)x->n_classes++, 0);
    return x->rc;
}

/* ---- users and demographics ------------------------------------------------------------- */

static const char *const compound_surnames[] = {
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙",
    "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "澹台",
    "太史", "申屠", "万俟", "闻人", "东郭", "钟离", "濮阳", "淳于", "单于", "左丘", NULL};

/* familyName and givenName of a name, and whether the import's join gives the name back (else
 * metadata.edubrain.name carries it). */
static int split_name(struct exporter *x, const char *name, const char **family, const char **given)
{
    const char *sp = strrchr(name, ' ');
    int cjk = 0;
    for (const char *p = name; *p; p++)
        cjk |= (unsigned char)*p >= 0x80;
    if (sp && !cjk) {
        *given = eb_arena_strndup(x->tmp, name, (size_t)(sp - name));
        *family = eb_arena_strdup(x->tmp, sp + 1);
    } else {
        size_t n = 0;
        for (size_t i = 0; compound_surnames[i] && n == 0; i++) {
            size_t len = strlen(compound_surnames[i]);
            if (strncmp(name, compound_surnames[i], len) == 0 && name[len])
                n = len;
        }
        if (n == 0) {
            /* One UTF-8 character. */
            unsigned char b = (unsigned char)name[0];
            n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            if (n > strlen(name))
                n = strlen(name);
        }
        *family = eb_arena_strndup(x->tmp, name, n);
        *given = eb_arena_strdup(x->tmp, name + n);
    }
    if (!(*family)[0] || !(*given)[0]) {
        *family = name;
        *given = name;
        return 0;
    }
    int join_cjk = 0;
    for (const char *p = *family; *p; p++)
        join_cjk |= (unsigned char)*p >= 0x80;
    for (const char *p = *given; *p; p++)
        join_cjk |= (unsigned char)*p >= 0x80;
    char *joined = join_cjk ? eb_arena_printf(x->tmp, "%s%s", *family, *given)
                            : eb_arena_printf(x->tmp, "%s %s", *given, *family);
    return strcmp(joined, name) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A comma-separated list: first (may be NULL) then the others sorted, without repeats. */
static const char *join_list(struct exporter *x, const char *first, const char **items, size_t n)
{
    struct eb_buf b;
    eb_buf_init(&b, 0);
    if (first)
        eb_buf_puts(&b, first);
    if (n > 1)
        qsort(items, n, sizeof(*items), cmp_str);
    for (size_t i = 0; i < n; i++) {
        if ((first && strcmp(items[i], first) == 0) ||
            (i > 0 && strcmp(items[i], items[i - 1]) == 0))
            continue;
        eb_buf_printf(&b, "%s%s", b.len ? "," : "", items[i]);
    }
    const char *s = eb_arena_strdup(x->tmp, b.data ? b.data : "");
    eb_buf_free(&b);
    return s;
}

static int person_row(void *arg, const struct eb_or_xperson *xp)
{
    struct exporter *x = arg;
    scratch(x);
    const struct eb_person *p = &xp->p;
    const char *kind = p->kind ? p->kind : "staff";
    const char *sid = sid_or(x, xp->sid, 'u', p->id);
    /* Where the person belongs: the registering school first, then where they are now. */
    const char *first = NULL;
    const char **others = eb_arena_alloc(x->tmp, (xp->n_posts + 2) * sizeof(char *));
    size_t n_others = 0;
    if (in_export(x, xp->school_id))
        first = sid_or(x, xp->school_sid, 'o', xp->school_id);
    if (xp->class_school_id && in_export(x, xp->class_school_id))
        others[n_others++] = sid_or(x, xp->class_school_sid, 'o', xp->class_school_id);
    const struct eb_or_xpost *main_post = NULL;
    for (size_t i = 0; i < xp->n_posts; i++) {
        const struct eb_or_xpost *po = &xp->posts[i];
        if (!in_export(x, po->school_id))
            continue;
        others[n_others++] = sid_or(x, po->school_sid, 'o', po->school_id);
        if (!main_post || po->school_id == xp->school_id)
            main_post = main_post && main_post->school_id == xp->school_id ? main_post : po;
    }
    if (!first && n_others == 0)
        first = sid_or(x, NULL, 'o', x->root_id);
    if (!first) {
        qsort(others, n_others, sizeof(*others), cmp_str);
        first = others[0];
    }
    const char *orgs = join_list(x, first, others, n_others);
    const char **agents = eb_arena_alloc(x->tmp, (xp->n_agents + 1) * sizeof(char *));
    for (size_t i = 0; i < xp->n_agents; i++)
        agents[i] = sid_or(x, xp->agents[i].sid, 'u', xp->agents[i].person_id);
    const char *agent_list = join_list(x, NULL, agents, xp->n_agents);
    const char *relation =
        strcmp(kind, "parent") == 0 && xp->n_agents ? xp->agents[0].relation : NULL;
    const char *role = strcmp(kind, "student") == 0   ? "student"
                       : strcmp(kind, "teacher") == 0 ? "teacher"
                       : strcmp(kind, "parent") != 0  ? "administrator"
                       : !relation || strcmp(relation, "父亲") == 0 ||
                               strcmp(relation, "母亲") == 0 || strcmp(relation, "家长") == 0
                           ? "parent"
                           : "guardian";
    const char *family = "", *given = "";
    int plain = split_name(x, p->name, &family, &given);
    const char *ident = strcmp(kind, "student") == 0 ? p->student_no : p->staff_no;
    const char *grades = strcmp(kind, "student") == 0 && xp->grade_code ? ceds(xp->grade_code) : "";
    const char *cells[] = {sid,
                           "",
                           "",
                           "true",
                           orgs,
                           role,
                           xp->username ? xp->username : sid,
                           "",
                           given,
                           family,
                           "",
                           ident,
                           "",
                           "",
                           p->phone,
                           agent_list,
                           grades,
                           "",
                           plain ? "" : p->name,
                           main_post ? main_post->title : "",
                           main_post ? main_post->subjects : "",
                           main_post ? main_post->start_date : "",
                           relation};
    emit(x, XF_USERS, cells, sizeof(cells) / sizeof(cells[0]));
    if (p->birth_date || p->sex != EB_SEX_UNKNOWN) {
        size_t n = eb_or_column_count(EB_OR_DEMOGRAPHICS);
        const char **d = eb_arena_alloc(x->tmp, n * sizeof(char *));
        for (size_t i = 0; i < n; i++)
            d[i] = "";
        d[0] = sid;
        d[EB_OR_DEMOGRAPHICS_BIRTH_DATE] = p->birth_date;
        d[EB_OR_DEMOGRAPHICS_SEX] = p->sex == EB_SEX_MALE     ? "male"
                                    : p->sex == EB_SEX_FEMALE ? "female"
                                                              : "";
        emit(x, XF_DEMOGRAPHICS, d, n);
    }
    return x->rc;
}

/* ---- enrollments ------------------------------------------------------------------------ */

static int link_row(void *arg, const struct eb_or_xlink *l)
{
    struct exporter *x = arg;
    scratch(x);
    char key[24];
    uint32_t aux = 0;
    snprintf(key, sizeof(key), "%lld", (long long)l->class_id);
    if (!eb__or_idmap_get(x->classes, key, NULL, &aux, NULL))
        return 0;
    const struct class_ref *cr = &x->class_refs[aux];
    const char *cells[] = {sid_or(x, l->sid, l->is_teaching ? 'f' : 'e', l->id),
                           "",
                           "",
                           cr->sid,
                           cr->school_sid,
                           sid_or(x, l->person_sid, 'u', l->person_id),
                           l->is_teaching ? "teacher" : "student",
                           l->is_teaching ? (l->is_head_teacher ? "true" : "false") : "",
                           l->start_date,
                           "",
                           l->is_teaching ? l->subject : ""};
    emit(x, XF_ENROLLMENTS, cells, sizeof(cells) / sizeof(cells[0]));
    /* A city's million rows: the arena goes back to empty every few thousand. */
    return x->rc;
}

/* ---- the package ------------------------------------------------------------------------ */

static int write_manifest(struct exporter *x)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/manifest.csv", x->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return EB_EIO;
    fputs("propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n", f);
    for (int of = 0; of < EB_OR_N_FILES; of++) {
        const char *mode = "absent";
        for (int k = 0; k < XF_N; k++)
            if (xfile_or[k] == (enum eb_or_file)of && x->rows[k] > 0)
                mode = "bulk";
        const char *name = eb_or_file_name((enum eb_or_file)of);
        fprintf(f, "file.%.*s,%s\n", (int)(strlen(name) - 4), name, mode);
    }
    fputs("source.systemName,edubrain\n", f);
    return fclose(f) == 0 ? 0 : EB_EIO;
}

static void remove_file(struct exporter *x, enum xfile f)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", x->dir, eb_or_file_name(xfile_or[f]));
    unlink(path);
}

static int zip_dir(const char *dir, const char *out)
{
    char tmp[4200], path[4200];
    int err = 0;
    snprintf(tmp, sizeof(tmp), "%s.part", out);
    zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z)
        return EB_EIO;
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = d ? 0 : EB_EIO;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path)) {
            rc = EB_EIO;
            break;
        }
        zip_source_t *s = zip_source_file(z, path, 0, 0);
        if (!s || zip_file_add(z, e->d_name, s, ZIP_FL_ENC_UTF_8) < 0) {
            zip_source_free(s);
            rc = EB_EIO;
        }
    }
    if (d)
        closedir(d);
    if (rc == 0 && zip_close(z) != 0)
        rc = EB_EIO;
    else if (rc != 0)
        zip_discard(z);
    if (rc == 0 && rename(tmp, out) != 0)
        rc = EB_EIO;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

static void remove_dir(const char *dir)
{
    char path[4200];
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int eb_or_export(struct eb_db *db, const struct eb_caller *c, int64_t root_id, const char *out_path,
                 struct eb_or_export_stats *stats)
{
    struct exporter x;
    struct eb_school_year *ys = NULL;
    size_t n_ys = 0;
    int zip = ends_with(out_path, ".zip"), rc;
    memset(&x, 0, sizeof(x));
    if (stats)
        memset(stats, 0, sizeof(*stats));
    x.db = db;
    x.c = c;
    x.root_id = root_id;
    x.a = eb_arena_create(0);
    x.tmp = eb_arena_create(0);
    x.orgs = eb__or_idmap_create();
    x.classes = eb__or_idmap_create();
    eb_buf_init(&x.line, 0);
    eb_store_or_id_token(db, x.token);
    struct eb_org root;
    rc = eb_store_org_get(db, c, root_id, x.a, &root);
    if (rc == 0 && root.kind > EB_ORG_SCHOOL)
        rc = EB_EINVAL;
    if (rc != 0)
        goto done;
    if (zip) {
        snprintf(x.dir, sizeof(x.dir), "%s.dir-XXXXXX", out_path);
        if (!mkdtemp(x.dir)) {
            rc = EB_EIO;
            goto done;
        }
    } else {
        snprintf(x.dir, sizeof(x.dir), "%s", out_path);
        if (mkdir(x.dir, 0755) != 0 && errno != EEXIST) {
            rc = EB_EIO;
            goto done;
        }
    }
    for (int f = 0; rc == 0 && f < XF_N; f++)
        rc = open_file(&x, (enum xfile)f);
    /* One snapshot for the whole package. */
    eb_db_read_begin(db);
    if (rc == 0)
        rc = load_years(&x, &ys, &n_ys);
    if (rc == 0)
        rc = eb_store_or_export_orgs(db, c, root_id, 0, org_row, &x);
    if (rc == 0)
        rc = eb_store_or_export_orgs(db, c, root_id, EB_ORG_GRADE, grade_row, &x);
    if (rc == 0)
        rc = eb_store_or_export_orgs(db, c, root_id, EB_ORG_CLASS, class_row, &x);
    if (rc == 0)
        write_sessions(&x, ys, n_ys);
    if (rc == 0)
        rc = eb_store_or_export_people(db, c, root_id, person_row, &x);
    if (rc == 0)
        rc = eb_store_or_export_links(db, c, root_id, link_row, &x);
    eb_db_read_end(db);
    if (rc == 0)
        rc = x.rc;
    for (int f = 0; f < XF_N; f++) {
        if (x.f[f] && fclose(x.f[f]) != 0 && rc == 0)
            rc = EB_EIO;
        x.f[f] = NULL;
        /* §1.2: a file without data rows must not be in the package (declared absent). */
        if (x.rows[f] == 0)
            remove_file(&x, (enum xfile)f);
    }
    if (rc == 0)
        rc = write_manifest(&x);
    if (rc == 0 && zip)
        rc = zip_dir(x.dir, out_path);
    if (stats) {
        stats->orgs = x.rows[XF_ORGS];
        stats->sessions = x.rows[XF_SESSIONS];
        stats->courses = x.rows[XF_COURSES];
        stats->classes = x.rows[XF_CLASSES];
        stats->users = x.rows[XF_USERS];
        stats->demographics = x.rows[XF_DEMOGRAPHICS];
        stats->enrollments = x.rows[XF_ENROLLMENTS];
    }
done:
    for (int f = 0; f < XF_N; f++)
        if (x.f[f])
            fclose(x.f[f]);
    if (zip && x.dir[0])
        remove_dir(x.dir);
    eb_buf_free(&x.line);
    eb__or_idmap_destroy(x.orgs);
    eb__or_idmap_destroy(x.classes);
    eb_arena_destroy(x.tmp);
    eb_arena_destroy(x.a);
    return rc;
}
