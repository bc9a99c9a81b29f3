/* The org tree: reading nodes and children, creating and changing nodes, counting. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "registry/registry_ids.h"

/* Columns of every org read; n_students counts current enrolments in the subtree with one
 * range scan of enrolments_current_path. */
#define ORG_COLS                                                                                   \
    "o.id, o.parent_id, o.kind, o.name, o.path, o.division_code, o.school_code,"                   \
    " o.running_type, o.stages, o.urban_rural, o.address, o.lat, o.lon, o.grade_code,"             \
    " o.school_year, o.closed_on"
#define ORG_N_STUDENTS                                                                             \
    " (SELECT COUNT(*) FROM enrolments e WHERE e.end_date IS NULL AND e.class_path >= o.path"      \
    " AND e.class_path < substr(o.path, 1, length(o.path) - 1) || '0')"

static const char SQL_ORG_GET[] =
    "SELECT " ORG_COLS "," ORG_N_STUDENTS " FROM orgs o WHERE o.id = ?";
/* The same row without the count of students: the count is a range scan of the subtree's
 * enrolments (tens of milliseconds for a city), which a caller that only needs the node's name,
 * kind and path (the brain's figures) must not pay on every request. */
static const char SQL_ORG_HEAD[] = "SELECT " ORG_COLS ", 0 FROM orgs o WHERE o.id = ?";
static const char SQL_ORG_CHILDREN[] =
    "SELECT " ORG_COLS "," ORG_N_STUDENTS " FROM orgs o WHERE o.parent_id = ? AND o.id > ?"
    " ORDER BY o.id LIMIT ?";
static const char SQL_ORG_ROOTS[] =
    "SELECT " ORG_COLS "," ORG_N_STUDENTS " FROM orgs o WHERE o.parent_id IS NULL AND o.id > ?"
    " ORDER BY o.id";
static const char SQL_ORG_PATH[] = "SELECT path, kind FROM orgs WHERE id = ?";
static const char SQL_ORG_INSERT[] =
    "INSERT INTO orgs (parent_id, kind, name, division_code, school_code, running_type, stages,"
    " urban_rural, address, lat, lon, grade_code, school_year, closed_on, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
static const char SQL_ORG_SET_PATH[] = "UPDATE orgs SET path = ? WHERE id = ?";
static const char SQL_ORG_UPDATE[] =
    "UPDATE orgs SET name = COALESCE(?, name), division_code = COALESCE(?, division_code),"
    " school_code = COALESCE(?, school_code), running_type = COALESCE(?, running_type),"
    " stages = COALESCE(?, stages), urban_rural = COALESCE(?, urban_rural),"
    " address = COALESCE(?, address), lat = COALESCE(?, lat), lon = COALESCE(?, lon),"
    " grade_code = COALESCE(?, grade_code), school_year = COALESCE(?, school_year),"
    " closed_on = COALESCE(?, closed_on) WHERE id = ?";
static const char SQL_ORG_COUNT[] = "SELECT COUNT(*) FROM orgs WHERE kind = ?";

static int version_row_create(struct eb_db *db, const char *path, enum eb_org_kind kind,
                              int64_t id);

static void read_org(struct eb__q *q, struct eb_arena *a, struct eb_org *o)
{
    memset(o, 0, sizeof(*o));
    o->id = eb__q_col_int(q, 0);
    o->parent_id = eb__q_col_int(q, 1);
    o->kind = (enum eb_org_kind)eb__q_col_int(q, 2);
    o->name = eb__q_col_str(q, 3, a);
    o->path = eb__q_col_str(q, 4, a);
    o->division_code = eb__q_col_str(q, 5, a);
    o->school_code = eb__q_col_str(q, 6, a);
    o->running_type = eb__q_col_str(q, 7, a);
    o->stages = (unsigned)eb__q_col_int(q, 8);
    o->urban_rural = eb__q_col_str(q, 9, a);
    o->address = eb__q_col_str(q, 10, a);
    o->has_coords = !eb__q_col_null(q, 11) && !eb__q_col_null(q, 12);
    if (o->has_coords) {
        o->lat = eb__q_col_double(q, 11);
        o->lon = eb__q_col_double(q, 12);
    }
    o->grade_code = eb__q_col_str(q, 13, a);
    o->school_year = (int)eb__q_col_int(q, 14);
    o->closed_on = eb__q_col_str(q, 15, a);
    o->n_students = eb__q_col_int(q, 16);
}

int eb__org_path(struct eb_db *db, int64_t org_id, char path[EB_PATH_MAX], enum eb_org_kind *kind)
{
    struct eb__q q;
    int rc;
    const size_t n_cache = sizeof(db->org_cache) / sizeof(db->org_cache[0]);
    for (size_t i = 0; org_id != 0 && i < n_cache; i++) {
        if (db->org_cache[i].id == org_id) {
            memcpy(path, db->org_cache[i].path, EB_PATH_MAX);
            if (kind)
                *kind = db->org_cache[i].kind;
            return 0;
        }
    }
    path[0] = '\0';
    eb__q_start(db, SQL_ORG_PATH, &q);
    eb__q_int(&q, org_id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        size_t len = 0;
        const char *p = q.db->be->col_text(q.stmt, 0, &len);
        if (p == NULL || len >= EB_PATH_MAX) {
            rc = EB_ESTORE;
        } else {
            memcpy(path, p, len);
            path[len] = '\0';
            if (kind)
                *kind = (enum eb_org_kind)eb__q_col_int(&q, 1);
            size_t slot = db->org_cache_next++ % n_cache;
            db->org_cache[slot].id = org_id;
            db->org_cache[slot].kind = (enum eb_org_kind)eb__q_col_int(&q, 1);
            memcpy(db->org_cache[slot].path, path, EB_PATH_MAX);
            rc = 0;
        }
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

/* The audit form of an org: every stored field. */
static json_t *org_json(const struct eb_org *o)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(o->id));
    if (o->parent_id)
        json_object_set_new(j, "parent_id", json_integer(o->parent_id));
    json_object_set_new(j, "kind",
                        json_string(eb_org_kind_name(o->kind) ? eb_org_kind_name(o->kind) : "?"));
    const struct {
        const char *k, *v;
    } strs[] = {{"name", o->name},
                {"path", o->path},
                {"division_code", o->division_code},
                {"school_code", o->school_code},
                {"running_type", o->running_type},
                {"urban_rural", o->urban_rural},
                {"address", o->address},
                {"grade_code", o->grade_code},
                {"closed_on", o->closed_on}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strs[i].v != NULL)
            json_object_set_new(j, strs[i].k, json_string(strs[i].v));
    if (o->stages)
        json_object_set_new(j, "stages", json_integer(o->stages));
    if (o->has_coords) {
        json_object_set_new(j, "lat", json_real(o->lat));
        json_object_set_new(j, "lon", json_real(o->lon));
    }
    if (o->school_year)
        json_object_set_new(j, "school_year", json_integer(o->school_year));
    return j;
}

static int org_read(struct eb_db *db, const char *sql, int64_t id, struct eb_arena *a,
                    struct eb_org *out)
{
    struct eb__q q;
    eb__q_start(db, sql, &q);
    eb__q_int(&q, id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        read_org(&q, a, out);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}

static int org_get_any(struct eb_db *db, int64_t id, struct eb_arena *a, struct eb_org *out)
{
    return org_read(db, SQL_ORG_GET, id, a, out);
}

int eb_store_org_head(struct eb_db *db, const struct eb_caller *c, int64_t id, struct eb_arena *a,
                      struct eb_org *out)
{
    int rc = org_read(db, SQL_ORG_HEAD, id, a, out);
    if (rc == 0 && !eb_caller_allows(c, out->path, EB_ACCESS_READ)) {
        memset(out, 0, sizeof(*out));
        rc = EB_ENOTFOUND;
    }
    return rc;
}

int eb_store_org_get(struct eb_db *db, const struct eb_caller *c, int64_t id, struct eb_arena *a,
                     struct eb_org *out)
{
    int rc = org_get_any(db, id, a, out);
    if (rc == 0 && !eb_caller_allows(c, out->path, EB_ACCESS_READ)) {
        memset(out, 0, sizeof(*out));
        rc = EB_ENOTFOUND;
    }
    return rc;
}

static int clamp_limit(int limit)
{
    return limit < 1 ? 1 : limit > 500 ? 500 : limit;
}

int eb_store_org_children(struct eb_db *db, const struct eb_caller *c, int64_t parent_id,
                          int64_t after, int limit, struct eb_arena *a, struct eb_org_list *out)
{
    struct eb__q q = {0};
    int rc;
    memset(out, 0, sizeof(*out));
    limit = clamp_limit(limit);
    if (parent_id != 0) {
        char path[EB_PATH_MAX];
        rc = eb__org_path(db, parent_id, path, NULL);
        if (rc != 0)
            goto done;
        if (!eb_caller_allows(c, path, EB_ACCESS_READ)) {
            rc = EB_ENOTFOUND;
            goto done;
        }
    }
    out->items = eb_arena_alloc(a, sizeof(*out->items) * (size_t)limit);
    if (out->items == NULL) {
        rc = EB_ETOOBIG;
        goto done;
    }
    if (parent_id != 0) {
        eb__q_start(db, SQL_ORG_CHILDREN, &q);
        eb__q_int(&q, parent_id);
        eb__q_int(&q, after);
        eb__q_int(&q, limit + 1);
    } else {
        /* The roots (normally one city): each is filtered by scope, so no SQL limit. */
        eb__q_start(db, SQL_ORG_ROOTS, &q);
        eb__q_int(&q, after);
    }
    struct eb_org o;
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        read_org(&q, a, &o);
        if (parent_id == 0 && !eb_caller_allows(c, o.path, EB_ACCESS_READ))
            continue;
        if (out->n == (size_t)limit) {
            out->next = out->items[out->n - 1].id;
            break;
        }
        out->items[out->n++] = o;
    }
    rc = rc < 0 ? rc : 0;
done:
    eb__q_end(&q);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* Codes are checked for people and tools alike only when the caller is not a system caller:
 * bulk loads of legacy data must get in to be reported by the data-quality checks. */
static int check_org_fields(const struct eb_caller *c, const struct eb_org *in, int creating)
{
    if (in->name != NULL && (in->name[0] == '\0' || strlen(in->name) > 200))
        return EB_EINVAL;
    if (creating && in->name == NULL)
        return EB_EINVAL;
    if (in->has_coords && (in->lat < -90 || in->lat > 90 || in->lon < -180 || in->lon > 180))
        return EB_EINVAL;
    if (c->system)
        return 0;
    if (in->division_code && eb_division_code_check(in->division_code, NULL) != 0)
        return EB_EINVAL;
    if (in->school_code && eb_school_code_check(in->school_code, NULL) != 0)
        return EB_EINVAL;
    if (in->running_type && eb_running_type_check(in->running_type, NULL, NULL) != 0)
        return EB_EINVAL;
    if (in->urban_rural && eb_urban_rural_check(in->urban_rural, NULL) != 0)
        return EB_EINVAL;
    if (in->closed_on && eb_date_check(in->closed_on, NULL) != 0)
        return EB_EINVAL;
    if (in->grade_code &&
        (strlen(in->grade_code) != 2 || in->grade_code[0] < '0' || in->grade_code[0] > '9' ||
         in->grade_code[1] < '0' || in->grade_code[1] > '9'))
        return EB_EINVAL;
    if (in->school_year != 0 && (in->school_year < 1900 || in->school_year > 2100))
        return EB_EINVAL;
    return 0;
}

static void bind_opt_text(struct eb__q *q, const char *s)
{
    eb__q_text(q, s);
}

int eb_store_org_create(struct eb_db *db, const struct eb_caller *c, const struct eb_org *in,
                        int64_t *id)
{
    char ppath[EB_PATH_MAX] = "/", path[EB_PATH_MAX];
    enum eb_org_kind pkind = 0;
    struct eb__q q = {0};
    int own = 0, rc;
    *id = 0;
    if (in == NULL || eb_org_kind_name(in->kind) == NULL)
        return EB_EINVAL;
    rc = check_org_fields(c, in, 1);
    if (rc != 0)
        return rc;
    if (in->kind == EB_ORG_CITY) {
        /* A city is the root: only the system (set-up, import) creates one. */
        if (in->parent_id != 0 || !c->system)
            return in->parent_id != 0 ? EB_EINVAL : EB_ENOTFOUND;
    } else {
        rc = eb__org_path(db, in->parent_id, ppath, &pkind);
        if (rc != 0)
            return rc;
        if (!eb_caller_allows(c, ppath, EB_ACCESS_WRITE))
            return EB_ENOTFOUND;
        /* Schools hang under a district or directly under the city (市直学校). */
        int ok = in->kind == EB_ORG_SCHOOL ? (pkind == EB_ORG_CITY || pkind == EB_ORG_DISTRICT)
                                           : pkind == in->kind - 1;
        if (!ok)
            return EB_EINVAL;
    }
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_ORG_INSERT, &q);
    if (in->parent_id)
        eb__q_int(&q, in->parent_id);
    else
        eb__q_null(&q);
    eb__q_int(&q, in->kind);
    eb__q_text(&q, in->name);
    bind_opt_text(&q, in->division_code);
    bind_opt_text(&q, in->school_code);
    bind_opt_text(&q, in->running_type);
    eb__q_int(&q, in->stages);
    bind_opt_text(&q, in->urban_rural);
    bind_opt_text(&q, in->address);
    if (in->has_coords) {
        eb__q_double(&q, in->lat);
        eb__q_double(&q, in->lon);
    } else {
        eb__q_null(&q);
        eb__q_null(&q);
    }
    bind_opt_text(&q, in->grade_code);
    if (in->school_year)
        eb__q_int(&q, in->school_year);
    else
        eb__q_null(&q);
    bind_opt_text(&q, in->closed_on);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_step(&q);
    if (rc != EB__STORE_ROW) {
        rc = rc < 0 ? rc : EB_ESTORE;
        goto done;
    }
    int64_t new_id = eb__q_col_int(&q, 0);
    eb__q_exec(&q);
    eb__q_end(&q);
    int n = snprintf(path, sizeof(path), "%s%lld/", ppath, (long long)new_id);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        rc = EB_ETOOBIG;
        goto done;
    }
    eb__q_start(db, SQL_ORG_SET_PATH, &q);
    eb__q_text(&q, path);
    eb__q_int(&q, new_id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    rc = version_row_create(db, path, in->kind, new_id);
    if (rc == 0 && in->kind == EB_ORG_SCHOOL)
        rc = eb__school_code_claim(db, in->school_code, new_id);
    if (rc != 0)
        goto done;
    struct eb_org after = *in;
    after.id = new_id;
    after.path = path;
    rc = eb__audit_write(db, c, "org.create", "org", new_id, path, NULL, org_json(&after));
    if (rc == 0)
        rc = eb__org_changed(db, c, path);
    if (rc == 0)
        *id = new_id;
done:
    eb__q_end(&q);
    return eb__tx_leave(db, own, rc);
}

int eb_store_org_update(struct eb_db *db, const struct eb_caller *c, int64_t id,
                        const struct eb_org *in)
{
    struct eb_arena *a = eb_arena_create(0);
    struct eb_org before, after;
    struct eb__q q = {0};
    int own = 0, rc;
    rc = check_org_fields(c, in, 0);
    if (rc != 0)
        goto done;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    rc = org_get_any(db, id, a, &before);
    if (rc != 0)
        goto done;
    if (!eb_caller_allows(c, before.path, EB_ACCESS_WRITE)) {
        rc = EB_ENOTFOUND;
        goto done;
    }
    /* A school code is given once: even a code a school gave up stays refused to others. */
    if (before.kind == EB_ORG_SCHOOL) {
        rc = eb__school_code_claim(db, in->school_code, id);
        if (rc != 0)
            goto done;
    }
    eb__q_start(db, SQL_ORG_UPDATE, &q);
    eb__q_text(&q, in->name);
    eb__q_text(&q, in->division_code);
    eb__q_text(&q, in->school_code);
    eb__q_text(&q, in->running_type);
    if (in->stages)
        eb__q_int(&q, in->stages);
    else
        eb__q_null(&q);
    eb__q_text(&q, in->urban_rural);
    eb__q_text(&q, in->address);
    if (in->has_coords) {
        eb__q_double(&q, in->lat);
        eb__q_double(&q, in->lon);
    } else {
        eb__q_null(&q);
        eb__q_null(&q);
    }
    eb__q_text(&q, in->grade_code);
    if (in->school_year)
        eb__q_int(&q, in->school_year);
    else
        eb__q_null(&q);
    eb__q_text(&q, in->closed_on);
    eb__q_int(&q, id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    rc = org_get_any(db, id, a, &after);
    if (rc != 0)
        goto done;
    rc = eb__audit_write(db, c, "org.update", "org", id, before.path, org_json(&before),
                         org_json(&after));
    if (rc == 0)
        rc = eb__org_changed(db, c, before.path);
done:
    eb__q_end(&q);
    rc = eb__tx_leave(db, own, rc);
    eb_arena_destroy(a);
    return rc;
}

int eb_store_org_count(struct eb_db *db, enum eb_org_kind kind, int64_t *n)
{
    struct eb__q q;
    *n = 0;
    eb__q_start(db, SQL_ORG_COUNT, &q);
    eb__q_int(&q, kind);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *n = eb__q_col_int(&q, 0);
        rc = 0;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static const char SQL_ORG_VERSION_INSERT[] =
    "INSERT INTO org_versions (org_id, school_id, data_version) VALUES (?, ?, 0)";
static const char SQL_ORG_BUMP[] = "UPDATE org_versions SET data_version = data_version + 1"
                                   " WHERE org_id = ? AND school_id = ?";
/* A node's lists depend on changes at it and at its versioned ancestors (a person's row
 * belongs to the school, an enrolment to the class): the sum of their versions only grows.
 * All of them are rows of one school: one shard on Citus. */
static const char SQL_ORG_VERSION[] =
    "SELECT COALESCE(SUM(data_version), 0), COUNT(*) FROM org_versions"
    " WHERE school_id = ? AND org_id IN (?, ?, ?)";

#define PATH_IDS_MAX 8

/* The ids on a materialised path, at most max of them; returns how many. */
static int path_ids(const char *path, int64_t *ids, int max)
{
    int n = 0;
    for (const char *p = path; *p && n < max;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        int64_t id = 0;
        while (*p >= '0' && *p <= '9')
            id = id * 10 + (*p++ - '0');
        ids[n++] = id;
    }
    return n;
}

/*
 * Where the school sits on a path whose last org has the given kind: a class is two levels
 * below its school, a grade one; the school is the last id. -1 above school level. The depth
 * of a school varies (under a district, or directly under the city), its distance from the
 * end of the path does not.
 */
static int school_index(int n, enum eb_org_kind kind)
{
    if (kind < EB_ORG_SCHOOL || kind > EB_ORG_CLASS)
        return -1;
    int i = n - 1 - (int)(kind - EB_ORG_SCHOOL);
    return i >= 0 ? i : -1;
}

static int unit_of(struct eb_db *db, const char *path, enum eb_org_kind kind, int64_t *ids, int *n,
                   int *school /* out: index, -1 when none */)
{
    char tmp[EB_PATH_MAX];
    *n = path_ids(path, ids, PATH_IDS_MAX);
    *school = -1;
    if (*n == 0)
        return EB_EINVAL;
    if (kind == 0) {
        int rc = eb__org_path(db, ids[*n - 1], tmp, &kind);
        if (rc != 0)
            return rc;
    }
    *school = school_index(*n, kind);
    return 0;
}

int eb__org_unit(struct eb_db *db, const char *path, enum eb_org_kind kind, int64_t *unit)
{
    int64_t ids[PATH_IDS_MAX];
    int n = 0, school = -1;
    *unit = 0;
    if (path == NULL)
        return 0;
    int rc = unit_of(db, path, kind, ids, &n, &school);
    if (rc == 0)
        *unit = school >= 0 ? ids[school] : ids[n - 1];
    return rc;
}

/* Gives a new school, grade or class its version row (inside the creating transaction). */
static int version_row_create(struct eb_db *db, const char *path, enum eb_org_kind kind, int64_t id)
{
    int64_t unit = 0;
    if (kind < EB_ORG_SCHOOL)
        return 0;
    int rc = eb__org_unit(db, path, kind, &unit);
    if (rc != 0)
        return rc;
    struct eb__q q;
    eb__q_start(db, SQL_ORG_VERSION_INSERT, &q);
    eb__q_int(&q, id);
    eb__q_int(&q, unit);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

int eb__org_changed(struct eb_db *db, const struct eb_caller *c, const char *path)
{
    if (eb__audit_skip(c) || path == NULL)
        return 0;
    /* "/1/12/345/6789/" names every ancestor; only schools and below carry a version, so a
     * busy city does not serialise its writers on the city's row. */
    int64_t ids[PATH_IDS_MAX];
    int n = 0, school = -1;
    int rc = unit_of(db, path, 0, ids, &n, &school);
    if (rc != 0 || school < 0)
        return rc;
    for (int i = school; i < n; i++) {
        struct eb__q q;
        eb__q_start(db, SQL_ORG_BUMP, &q);
        eb__q_int(&q, ids[i]);
        eb__q_int(&q, ids[school]);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int eb_store_people_version(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                            int64_t *version)
{
    char path[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    *version = -1;
    int rc = eb__org_path(db, org_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb__caller_sees_people(c, path))
        return EB_ENOTFOUND;
    int64_t ids[PATH_IDS_MAX];
    int n = 0, school = -1;
    rc = unit_of(db, path, kind, ids, &n, &school);
    /* Above school level nothing on the path is versioned: not cacheable. */
    if (rc != 0 || school < 0)
        return rc;
    /* Read fresh, never from a cache: this is what readers trust. */
    struct eb__q q;
    eb__q_start(db, SQL_ORG_VERSION, &q);
    eb__q_int(&q, ids[school]);
    for (int i = 0; i < 3; i++)
        eb__q_int(&q, school + i < n ? ids[school + i] : 0);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        if (eb__q_col_int(&q, 1) > 0)
            *version = eb__q_col_int(&q, 0);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_ENOTFOUND;
    }
    eb__q_end(&q);
    return rc;
}
