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

#endif
