/* The route table of the whole server and the OpenAPI document that describes it. */
#ifndef EB_API_H
#define EB_API_H

#include <stddef.h>

#include "http/http.h"

extern const struct eb_route eb_api_routes[];
extern const size_t eb_api_n_routes;

/** The embedded OpenAPI 3 document (src/api/openapi.json), NUL-terminated. */
extern const char eb_api_openapi_json[];

int eb_api_openapi_handler(struct eb_req *r);

#endif
