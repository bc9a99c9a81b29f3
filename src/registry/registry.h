/*
 * The registry's spine over HTTP: orgs, people, enrolments, posts, teaching, guardians,
 * accounts and the audit log (education management center, first part).
 */
#ifndef EB_REGISTRY_H
#define EB_REGISTRY_H

#include <jansson.h>

#include "http/http.h"
#include "store/store.h"

/* JSON forms (registry_json.c). */
json_t *eb_registry_org_json(const struct eb_org *o);
json_t *eb_registry_person_json(const struct eb_person *p);
const char *eb_registry_sex_name(enum eb_sex sex);

/* Handlers (registry_routes.c, registry_people_routes.c, registry_account_routes.c). */
int eb_registry_org_get(struct eb_req *r);
int eb_registry_org_children(struct eb_req *r);
int eb_registry_org_people(struct eb_req *r);
int eb_registry_org_create(struct eb_req *r);
int eb_registry_org_update(struct eb_req *r);
int eb_registry_person_get(struct eb_req *r);
int eb_registry_person_create(struct eb_req *r);
int eb_registry_person_update(struct eb_req *r);
int eb_registry_enrolment_create(struct eb_req *r);
int eb_registry_enrolment_end(struct eb_req *r);
int eb_registry_post_create(struct eb_req *r);
int eb_registry_post_end(struct eb_req *r);
int eb_registry_teaching_create(struct eb_req *r);
int eb_registry_guardian_create(struct eb_req *r);
int eb_registry_account_list(struct eb_req *r);
int eb_registry_account_create(struct eb_req *r);
int eb_registry_audit_list(struct eb_req *r);

/** Reads ?after= and ?limit= (defaults 0 and 100, limit 1..500); EB_EINVAL when malformed. */
int eb_registry_page_args(const struct eb_req *r, int64_t *after, int *limit);
/** {"items":items,"next":next or null} */
json_t *eb_registry_page(json_t *items, int64_t next);

#endif
