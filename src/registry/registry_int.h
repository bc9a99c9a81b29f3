/* Inside the registry module: input helpers shared by its handler files. */
#ifndef EB_REGISTRY_INT_H
#define EB_REGISTRY_INT_H

#include "registry/registry.h"

/** Parses ["junior","senior"] into enum eb_stage bits; -1 on an unknown name. */
int eb__registry_parse_stages(const json_t *arr, unsigned *out);
/** 400 invalid_field "<field>: <why>". Returns 0 (the response is set). */
int eb__registry_bad_field(struct eb_req *r, const char *field, const char *why);
/** Checks an optional date member; 0 when absent or valid, else the response is set (1). */
int eb__registry_check_date(struct eb_req *r, const char *field, int required);

/**
 * Validates the person members of obj (name, sex, birth_date, citizen_id, student_no, staff_no,
 * phone, kind) into p, strings pointing into obj. prefix (may be NULL) goes before the field
 * name in the 400 message ("hires[3]."). Returns 1 when a 400 was set.
 */
int eb__registry_read_person(struct eb_req *r, const json_t *obj, const char *prefix,
                             struct eb_person *p);

/** Answers a refused lifecycle or transfer write from the store's refusal: 400 invalid_field
 * naming the field, 409 with the refusal's code, 403, or 404 without detail. Other errors are
 * returned for the router to map. */
struct eb_refusal;
int eb__registry_refused(struct eb_req *r, int rc, const struct eb_refusal *why);

#endif
