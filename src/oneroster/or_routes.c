/* OneRoster over HTTP: import jobs (upload, progress, report) and the export download. */
#include "oneroster/or_io.h"

#include "app.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "export/xlsx.h"
#include "json/json.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * An import runs in a thread of its own with its own connection, one at a time per process
 * (SQLite has one writer anyway, and the store's pool holds one connection for it). While it
 * runs, its progress lives here, in memory; the table oneroster_imports holds its state at each
 * change of phase and the report at the end, which is what another server (PostgreSQL) or a
 * later request reads.
 */
#define MAX_LIVE 16

struct live_job {
    int64_t id;
    char org_path[EB_PATH_MAX];
    char state[16], phase[16];
    int64_t rows_done, rows_total;
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER; /* one import at a time */
static struct live_job live[MAX_LIVE];

struct job {
    struct eb_store *store;
    int64_t id;
    char path[96];
    struct eb_caller caller; /* a deep copy: the request is gone when the job runs */
    struct eb_grant *grants;
    char *client_addr;
    int64_t root_id;
};

static struct live_job *live_find(int64_t id)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i].id == id)
            return &live[i];
    return NULL;
}

static void live_set(int64_t id, const char *state, const char *phase, int64_t done, int64_t total)
{
    pthread_mutex_lock(&live_lock);
    struct live_job *j = live_find(id);
    if (j) {
        snprintf(j->state, sizeof(j->state), "%s", state);
        snprintf(j->phase, sizeof(j->phase), "%s", phase);
        j->rows_done = done;
        j->rows_total = total;
    }
    pthread_mutex_unlock(&live_lock);
}

static void on_progress(void *arg, const char *phase, int64_t done, int64_t total)
{
    const struct job *jb = arg;
    const char *state = strcmp(phase, "validating") == 0 ? "validating" : "writing";
    live_set(jb->id, state, phase, done, total);
}

static void job_free(struct job *jb)
{
    if (!jb)
        return;
    unlink(jb->path);
    eb_free(jb->grants);
    eb_free(jb->client_addr);
    eb_free(jb);
}

static void *job_main(void *arg)
{
    struct job *jb = arg;
    pthread_mutex_lock(&run_lock);
    struct eb_db *db = eb_store_acquire(jb->store);
    eb_store_or_job_update(db, jb->id, "validating", "validating", 0, 0, NULL);
    live_set(jb->id, "validating", "validating", 0, 0);
    struct eb_or_import_options opt = {
        .root_id = jb->root_id, .progress = on_progress, .progress_arg = jb};
    struct eb_or_import *imp = NULL;
    int rc = eb_or_import(db, &jb->caller, jb->path, &opt, &imp);
    struct eb_buf report;
    eb_buf_init(&report, 0);
    if (imp)
        eb_or_import_json(imp, &report);
    int64_t total = 0;
    for (int f = 0; imp && f < EB_OR_N_FILES; f++)
        total += (int64_t)eb_or_report_rows(eb_or_import_report(imp), (enum eb_or_file)f);
    const char *state = rc == 0 ? "done" : "failed";
    if (rc != 0 && rc != EB_EINVAL)
        eb_warn("oneroster: import %lld failed: %s", (long long)jb->id, eb_strerror(rc));
    int urc = eb_store_or_job_update(db, jb->id, state, rc == 0 ? "done" : "rejected",
                                     rc == 0 ? total : 0, total, report.data ? report.data : "{}");
    if (urc != 0)
        eb_warn("oneroster: recording import %lld failed: %s", (long long)jb->id, eb_strerror(urc));
    eb_buf_free(&report);
    eb_or_import_free(imp);
    eb_store_release(jb->store, db);
    /* The row holds the outcome now: readers go to the table. */
    pthread_mutex_lock(&live_lock);
    struct live_job *j = live_find(jb->id);
    if (j)
        memset(j, 0, sizeof(*j));
    pthread_mutex_unlock(&live_lock);
    pthread_mutex_unlock(&run_lock);
    job_free(jb);
    return NULL;
}

/* The org an import goes into: ?org=, else the caller's first administrator grant. */
static int import_root(struct eb_req *r, int64_t *root)
{
    const char *org = eb_http_query(r, "org");
    *root = 0;
    if (org) {
        char *end = NULL;
        long long v = strtoll(org, &end, 10);
        if (!*org || *end || v <= 0)
            return EB_EINVAL;
        *root = v;
        return 0;
    }
    for (size_t i = 0; i < r->caller.n_grants; i++) {
        enum eb_role role = r->caller.grants[i].role;
        if (role == EB_ROLE_CITY_ADMIN || role == EB_ROLE_DISTRICT_ADMIN ||
            role == EB_ROLE_SCHOOL_ADMIN) {
            *root = r->caller.grants[i].org_id;
            return 0;
        }
    }
    return EB_ENOTFOUND;
}

static int content_type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int eb_or_import_start_handler(struct eb_req *r)
{
    int64_t root = 0, id = 0;
    const char *ct = eb_http_header(r, "Content-Type");
    if (!content_type_is(ct, "application/zip") &&
        !content_type_is(ct, "application/x-zip-compressed"))
        return eb_http_error(r, 415, "not_a_zip", NULL);
    if (r->body_len < 4 || memcmp(r->body, "PK", 2) != 0)
        return eb_http_error(r, 400, "not_a_zip", NULL);
    int rc = import_root(r, &root);
    if (rc == EB_EINVAL)
        return eb_http_error(r, 400, "bad_request", "org must be an org id");
    if (rc != 0)
        return eb_http_error(r, 404, "not_found", NULL);
    /* Only administrators import (the audit and the scope are theirs). */
    int admin = 0;
    for (size_t i = 0; i < r->caller.n_grants; i++)
        admin |= r->caller.grants[i].role == EB_ROLE_CITY_ADMIN ||
                 r->caller.grants[i].role == EB_ROLE_DISTRICT_ADMIN ||
                 r->caller.grants[i].role == EB_ROLE_SCHOOL_ADMIN;
    if (!admin)
        return eb_http_error(r, 404, "not_found", NULL);
    rc = eb_store_or_job_create(r->db, &r->caller, root, &id);
    if (rc != 0)
        return rc;
    struct job *jb = eb_xcalloc(1, sizeof(*jb));
    jb->store = r->app->store;
    jb->id = id;
    jb->root_id = root;
    snprintf(jb->path, sizeof(jb->path), "/tmp/edubrain-oneroster-XXXXXX");
    int fd = mkstemp(jb->path);
    if (fd < 0) {
        jb->path[0] = '\0';
        job_free(jb);
        return EB_EIO;
    }
    size_t off = 0;
    while (off < r->body_len) {
        ssize_t n = write(fd, r->body + off, r->body_len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (close(fd) != 0 || off != r->body_len) {
        job_free(jb);
        return EB_EIO;
    }
    /* The package is read by name and a zip is recognised by its suffix. */
    char named[sizeof(jb->path) + 8];
    snprintf(named, sizeof(named), "%s.zip", jb->path);
    if (rename(jb->path, named) != 0) {
        job_free(jb);
        return EB_EIO;
    }
    if (strlen(named) >= sizeof(jb->path)) {
        unlink(named);
        job_free(jb);
        return EB_EIO;
    }
    memcpy(jb->path, named, strlen(named) + 1);
    jb->caller = r->caller;
    jb->grants = eb_xmalloc((r->caller.n_grants + 1) * sizeof(*jb->grants));
    for (size_t i = 0; i < r->caller.n_grants; i++) {
        jb->grants[i] = r->caller.grants[i];
        jb->grants[i].org_name = NULL;
    }
    jb->caller.grants = jb->grants;
    jb->client_addr = eb_xstrdup(r->client_addr ? r->client_addr : "");
    jb->caller.client_addr = jb->client_addr;
    pthread_mutex_lock(&live_lock);
    struct live_job *slot = live_find(0);
    if (slot) {
        memset(slot, 0, sizeof(*slot));
        slot->id = id;
        snprintf(slot->state, sizeof(slot->state), "queued");
        for (size_t i = 0; i < r->caller.n_grants; i++)
            if (r->caller.grants[i].org_id == root)
                snprintf(slot->org_path, sizeof(slot->org_path), "%s",
                         r->caller.grants[i].org_path);
    }
    pthread_mutex_unlock(&live_lock);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The job row is committed before the thread may read it: this request's read snapshot
     * ends with the insert (an autocommit write). */
    if (pthread_create(&t, &attr, job_main, jb) != 0) {
        pthread_attr_destroy(&attr);
        eb_store_or_job_update(r->db, id, "failed", "start", 0, 0, NULL);
        job_free(jb);
        return EB_EBUSY;
    }
    pthread_attr_destroy(&attr);
    json_t *doc = json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "queued");
    eb_http_add_header(r, "Location",
                       eb_arena_printf(r->arena, "/api/v1/imports/oneroster/%lld", (long long)id));
    return eb_http_json(r, 202, doc);
}

int eb_or_import_get_handler(struct eb_req *r)
{
    int64_t id;
    struct eb_or_job job;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    /* The row first: it says whether the caller may see the job at all. */
    int rc = eb_store_or_job_get(r->db, &r->caller, id, r->arena, &job);
    if (rc != 0)
        return rc;
    json_t *doc = json_object();
    json_object_set_new(doc, "id", json_integer((json_int_t)job.id));
    json_object_set_new(doc, "org_id", json_integer((json_int_t)job.org_id));
    const char *state = job.state, *phase = job.phase;
    int64_t done = job.rows_done, total = job.rows_total;
    struct live_job copy = {0};
    pthread_mutex_lock(&live_lock);
    struct live_job *l = live_find(id);
    if (l)
        copy = *l;
    pthread_mutex_unlock(&live_lock);
    if (copy.id && strcmp(state, "done") != 0 && strcmp(state, "failed") != 0) {
        state = copy.state;
        phase = copy.phase;
        done = copy.rows_done;
        total = copy.rows_total;
    }
    json_object_set_new(doc, "state", json_string(state));
    json_object_set_new(doc, "phase", eb_json_str_or_null(phase));
    json_object_set_new(doc, "rows_done", json_integer((json_int_t)done));
    json_object_set_new(doc, "rows_total", json_integer((json_int_t)total));
    json_object_set_new(doc, "created_at", json_integer((json_int_t)job.created_at));
    json_object_set_new(doc, "finished_at",
                        job.finished_at ? json_integer((json_int_t)job.finished_at) : json_null());
    json_t *report = job.report ? json_loads(job.report, 0, NULL) : NULL;
    json_object_set_new(doc, "report", report ? report : json_null());
    return eb_http_json(r, 200, doc);
}

int eb_or_import_xlsx_handler(struct eb_req *r)
{
    static const struct eb_xlsx_col cols[] = {
        {"级别", 8}, {"文件", 22}, {"行", 8}, {"列", 20}, {"代码", 24}, {"值", 30}, {"说明", 60},
    };
    enum { N_COLS = sizeof(cols) / sizeof(cols[0]) };
    int64_t id;
    struct eb_or_job job;
    struct eb_xlsx *x = NULL;
    json_t *report = NULL;
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    int rc = eb_store_or_job_get(r->db, &r->caller, id, r->arena, &job);
    if (rc != 0)
        return rc;
    report = job.report ? json_loads(job.report, 0, NULL) : NULL;
    rc = eb_xlsx_open("校验报告", cols, N_COLS, &x);
    if (rc != 0)
        goto done;
    const char *lang = r->lang == EB_LANG_EN ? "en" : "zh";
    json_t *findings = json_object_get(report, "findings"), *f;
    size_t i;
    json_array_foreach(findings, i, f)
    {
        const char *sev = json_string_value(json_object_get(f, "severity"));
        const char *cells[N_COLS] = {
            sev && strcmp(sev, "error") == 0 ? "错误" : "警告",
            json_string_value(json_object_get(f, "file")),
            eb_arena_printf(r->arena, "%lld",
                            (long long)json_integer_value(json_object_get(f, "line"))),
            json_string_value(json_object_get(f, "column")),
            json_string_value(json_object_get(f, "code")),
            json_string_value(json_object_get(f, "value")),
            json_string_value(json_object_get(json_object_get(f, "message"), lang)),
        };
        rc = eb_xlsx_row(x, cells);
        if (rc != 0)
            goto done;
    }
    rc = eb_xlsx_send(
        x, r, eb_arena_printf(r->arena, "OneRoster导入_%lld_校验报告.xlsx", (long long)id),
        eb_arena_printf(r->arena, "oneroster-import-%lld-report.xlsx", (long long)id));
    x = NULL;
done:
    json_decref(report);
    eb_xlsx_discard(x);
    return rc;
}

int eb_or_export_handler(struct eb_req *r)
{
    int64_t id;
    char dir[] = "/tmp/edubrain-oneroster-export-XXXXXX", path[96];
    if (eb_http_param_id(r, "id", &id))
        return eb_http_error(r, 404, "not_found", NULL);
    struct eb_org org;
    int rc = eb_store_org_get(r->db, &r->caller, id, r->arena, &org);
    if (rc != 0)
        return rc;
    if (!mkdtemp(dir))
        return EB_EIO;
    snprintf(path, sizeof(path), "%s/oneroster.zip", dir);
    rc = eb_or_export(r->db, &r->caller, id, path, NULL);
    if (rc == EB_EINVAL) {
        rc = 0;
        eb_http_error(r, 400, "bad_request", "the org must be a city, district or school");
        goto done;
    }
    if (rc != 0)
        goto done;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = EB_EIO;
        goto done;
    }
    char chunk[65536];
    size_t n;
    eb_buf_reset(&r->out);
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = eb_buf_append(&r->out, chunk, n);
    fclose(f);
    if (rc != 0)
        goto done;
    r->status = 200;
    r->content_type = "application/zip";
    eb_http_add_header(
        r, "Content-Disposition",
        eb_arena_printf(
            r->arena, "attachment; filename=\"oneroster-%lld.zip\"; filename*=%s", (long long)id,
            eb_xlsx_rfc5987(r->arena, eb_arena_printf(r->arena, "%s_OneRoster.zip", org.name))));
done:
    unlink(path);
    rmdir(dir);
    return rc;
}
