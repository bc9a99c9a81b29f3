/*
 * The registry's spine over HTTP: orgs, people, enrolments, posts, teaching, guardians,
 * accounts and the audit log (education management center, first part).
 */
#ifndef EB_REGISTRY_H
#define EB_REGISTRY_H

#include <jansson.h>

#include "http/http.h"
#include "store/store.h"

/* JSON forms (registry_json.c): the members of an object, written into a streamed response. */
struct eb_jw;
void eb_registry_org_fields(struct eb_jw *w, const struct eb_org *o);
void eb_registry_person_fields(struct eb_jw *w, const struct eb_person *p);
const char *eb_registry_sex_name(enum eb_sex sex);
/** Sends one org or one person as the whole response. Returns 0. */
int eb_registry_send_org(struct eb_req *r, int status, const struct eb_org *o);
int eb_registry_send_person(struct eb_req *r, int status, const struct eb_person *p);

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
int eb_registry_account_get(struct eb_req *r);
int eb_registry_account_update(struct eb_req *r);
int eb_registry_account_password_reset(struct eb_req *r);
int eb_registry_account_role_add(struct eb_req *r);
int eb_registry_account_role_remove(struct eb_req *r);
int eb_registry_org_stats(struct eb_req *r);
int eb_registry_audit_list(struct eb_req *r);

/* Accounts for everyone (registry_activation_routes.c). */
int eb_activation_bulk_create(struct eb_req *r);     /* POST /orgs/{id}/accounts */
int eb_activation_bulk_reissue(struct eb_req *r);    /* POST /orgs/{id}/activation-codes */
int eb_activation_account_reissue(struct eb_req *r); /* POST /accounts/{id}/activation-code */
int eb_activation_binding_code(struct eb_req *r);    /* POST /people/{id}/binding-code */
int eb_activation_parent_register(struct eb_req *r); /* POST /parents */
int eb_activation_registration(struct eb_req *r);    /* GET /orgs/{id}/registration */
/* POST /orgs/{id}/binding-codes: a class's parent binding codes, for the printed sheet. */
int eb_activation_class_binding_codes(struct eb_req *r);

/* School years and terms (registry_years_routes.c). */
int eb_registry_years_list(struct eb_req *r);   /* GET /school-years */
int eb_registry_year_create(struct eb_req *r);  /* POST /school-years (city administrators) */
int eb_registry_year_current(struct eb_req *r); /* GET /school-years/current?date= */

/* Teacher exchange and rotation, recruitment intake (registry_exchange_routes.c). */
int eb_registry_exchange_propose(struct eb_req *r);   /* POST /teacher-exchanges */
int eb_registry_exchange_get(struct eb_req *r);       /* GET /teacher-exchanges/{id} */
int eb_registry_exchange_act(struct eb_req *r);       /* POST /teacher-exchanges/{id}/{action} */
int eb_registry_exchange_list(struct eb_req *r);      /* GET /orgs/{id}/teacher-exchanges */
int eb_registry_exchange_xlsx(struct eb_req *r);      /* GET /orgs/{id}/teacher-exchanges.xlsx */
int eb_registry_exchange_stats(struct eb_req *r);     /* GET /orgs/{id}/teacher-exchanges/stats */
int eb_registry_exchange_of_person(struct eb_req *r); /* GET /people/{id}/teacher-exchanges */
int eb_registry_recruit(struct eb_req *r);            /* POST /orgs/{id}/recruitment */

/* Schools, classes and the promotion (registry_school_routes.c, registry_promotion_routes.c). */
int eb_schools_info(struct eb_req *r);           /* GET /orgs/{id}/school */
int eb_schools_close(struct eb_req *r);          /* POST /orgs/{id}/close */
int eb_schools_merge(struct eb_req *r);          /* POST /orgs/{id}/merge */
int eb_schools_points(struct eb_req *r);         /* GET /orgs/{id}/teaching-points */
int eb_schools_points_xlsx(struct eb_req *r);    /* GET /orgs/{id}/teaching-points.xlsx */
int eb_schools_point_attach(struct eb_req *r);   /* POST /orgs/{id}/teaching-points */
int eb_schools_point_detach(struct eb_req *r);   /* DELETE /orgs/{id}/teaching-points/{point} */
int eb_schools_classes(struct eb_req *r);        /* GET /orgs/{id}/classes */
int eb_schools_classes_xlsx(struct eb_req *r);   /* GET /orgs/{id}/classes.xlsx */
int eb_schools_class_teachers(struct eb_req *r); /* GET /orgs/{id}/teachers */
int eb_schools_class_head(struct eb_req *r);     /* PUT /orgs/{id}/head-teacher */
int eb_promotion_list(struct eb_req *r);         /* GET /orgs/{id}/promotion */
int eb_promotion_run(struct eb_req *r);          /* POST /orgs/{id}/promotion[?preview=1] */
int eb_promotion_undo(struct eb_req *r);         /* POST /orgs/{id}/promotion/{run}/undo */
int eb_promotion_confirm(struct eb_req *r);      /* POST /orgs/{id}/promotion/{run}/confirm */
/** Sends an org (201/200) with "warnings" (大班额, 超大班额) when it is a class. Returns 0. */
int eb_schools_send_org(struct eb_req *r, int status, const struct eb_org *o);
/** Sends {"id":id,"warnings":[...]} (201) for an enrolment created in class_id. Returns 0. */
int eb_schools_send_enrolment(struct eb_req *r, int64_t id, int64_t class_id);

/* Data-quality checks (registry_quality_routes.c). */
int eb_quality_overview(struct eb_req *r);      /* GET /orgs/{id}/quality */
int eb_quality_findings(struct eb_req *r);      /* GET /orgs/{id}/quality/findings */
int eb_quality_findings_xlsx(struct eb_req *r); /* GET /orgs/{id}/quality/findings.xlsx */
int eb_quality_run(struct eb_req *r);           /* POST /orgs/{id}/quality/run */

/* Student lifecycle and transfers (registry_lifecycle_routes.c, registry_transfer_routes.c). */
int eb_registry_student_status_get(struct eb_req *r);  /* GET /people/{id}/status */
int eb_registry_student_status_post(struct eb_req *r); /* POST /people/{id}/status */
int eb_registry_transfer_lookup(struct eb_req *r);     /* POST /transfer-lookup */
int eb_registry_transfer_create(struct eb_req *r);     /* POST /transfers */
int eb_registry_transfer_list(struct eb_req *r);       /* GET /transfers?box=&state= */
int eb_registry_transfer_get(struct eb_req *r);        /* GET /transfers/{id} */
int eb_registry_transfer_approve(struct eb_req *r);    /* POST /transfers/{id}/approve */
int eb_registry_transfer_reject(struct eb_req *r);     /* POST /transfers/{id}/reject */
int eb_registry_transfer_withdraw(struct eb_req *r);   /* POST /transfers/{id}/withdraw */
int eb_export_transfers_xlsx(struct eb_req *r);        /* GET /transfers.xlsx?box=&state= */

/* Excel downloads of the lists above, same scope (src/export/export_routes.c). */
int eb_export_children_xlsx(struct eb_req *r); /* GET /orgs/{id}/children.xlsx */
int eb_export_people_xlsx(struct eb_req *r);   /* GET /orgs/{id}/people.xlsx?role= */

/** Reads ?after= and ?limit= (defaults 0 and 100, limit 1..500); EB_EINVAL when malformed. */
int eb_registry_page_args(const struct eb_req *r, int64_t *after, int *limit);
/** A page {"items":[...],"next":CURSOR_OR_NULL}: begin, write the items, end with the cursor. */
void eb_registry_page_begin(struct eb_jw *w);
void eb_registry_page_end(struct eb_jw *w, int64_t next);

#endif
