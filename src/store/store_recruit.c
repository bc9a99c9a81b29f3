/* Recruitment intake (新教师招聘入职): a batch of new hires registered with their posts in one
 * transaction, all or none. */
#include "store/store_int.h"

#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "registry/registry_ids.h"

#define MAX_HIRES 2000

static const char SQL_BATCH_INSERT[] =
    "INSERT INTO recruitment_batches (school_id, org_id, org_path, name, start_date, n_hires,"
    " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
static const char SQL_HIRE_INSERT[] =
    "INSERT INTO recruitment_hires (batch_id, school_id, person_id, post_id) VALUES (?, ?, ?, ?)";

/* Checks one hire's placement: a school under the batch's org, in the caller's write scope. */
static int check_hire(struct eb_db *db, const struct eb_caller *c, const char *org_path,
                      const struct eb_hire *h)
{
    char path[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    if (h->title == NULL || h->title[0] == '\0' || strlen(h->title) > 100)
        return EB_EINVAL;
    int rc = eb__org_path(db, h->school_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb__path_within(path, org_path) || !eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    return kind == EB_ORG_SCHOOL ? 0 : EB_EINVAL;
}

int eb_store_recruit(struct eb_db *db, const struct eb_caller *c, int64_t org_id, const char *name,
                     const char *start_date, struct eb_hire *hires, size_t n, int64_t *batch_id,
                     long *bad)
{
    char org_path[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    struct eb__q q;
    int own = 0, rc;
    *batch_id = 0;
    *bad = -1;
    if (name == NULL || name[0] == '\0' || strlen(name) > 100 || n == 0 || n > MAX_HIRES ||
        eb_date_check(start_date, NULL) != 0)
        return EB_EINVAL;
    rc = eb__org_path(db, org_id, org_path, &kind);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, org_path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    if (kind > EB_ORG_SCHOOL)
        return EB_EINVAL;
    /* Every placement is checked before anything is written, so a refused batch costs no
     * rollback of half the people. */
    for (size_t i = 0; i < n; i++) {
        rc = check_hire(db, c, org_path, &hires[i]);
        if (rc != 0) {
            *bad = (long)i;
            return rc;
        }
    }
    int64_t unit = 0;
    rc = eb__org_unit(db, org_path, kind, &unit);
    if (rc != 0)
        return rc;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_BATCH_INSERT, &q);
    eb__q_int(&q, unit);
    eb__q_int(&q, org_id);
    eb__q_text(&q, org_path);
    eb__q_text(&q, name);
    eb__q_text(&q, start_date);
    eb__q_int(&q, (int64_t)n);
    if (c->account_id)
        eb__q_int(&q, c->account_id);
    else
        eb__q_null(&q);
    eb__q_int(&q, eb__now_ms() / 1000);
    rc = eb__q_step(&q);
    int64_t id = rc == EB__STORE_ROW ? eb__q_col_int(&q, 0) : 0;
    if (rc == EB__STORE_ROW)
        rc = eb__q_exec(&q);
    eb__q_end(&q);
    rc = rc < 0 ? rc : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct eb_hire *h = &hires[i];
        struct eb_person p = h->person;
        p.org_id = h->school_id;
        p.kind = "teacher";
        rc = eb_store_person_create(db, c, &p, &h->person_id);
        if (rc == 0) {
            struct eb_post post = {.person_id = h->person_id,
                                   .school_id = h->school_id,
                                   .title = h->title,
                                   .subjects = h->subjects,
                                   .start_date = start_date};
            rc = eb_store_post_create(db, c, &post, &h->post_id);
        }
        if (rc == 0) {
            int64_t hire_unit = 0;
            char path[EB_PATH_MAX];
            rc = eb__org_path(db, h->school_id, path, NULL);
            if (rc == 0)
                rc = eb__org_unit(db, path, EB_ORG_SCHOOL, &hire_unit);
            if (rc == 0) {
                eb__q_start(db, SQL_HIRE_INSERT, &q);
                eb__q_int(&q, id);
                eb__q_int(&q, hire_unit);
                eb__q_int(&q, h->person_id);
                eb__q_int(&q, h->post_id);
                rc = eb__q_exec(&q);
                eb__q_end(&q);
                rc = rc < 0 ? rc : 0;
            }
        }
        if (rc != 0)
            *bad = (long)i;
    }
    if (rc == 0) {
        json_t *after = json_object();
        json_object_set_new(after, "name", json_string(name));
        json_object_set_new(after, "start_date", json_string(start_date));
        json_object_set_new(after, "n_hires", json_integer((json_int_t)n));
        rc = eb__audit_write(db, c, "recruitment.create", "recruitment_batch", id, org_path, NULL,
                             after);
    }
    if (rc == 0)
        *batch_id = id;
    return eb__tx_leave(db, own, rc);
}
