/* Handlers of the brain core's routes (src/brain/brain_routes.c), listed in src/api/api_routes.c.
 */
#ifndef EB_BRAIN_ROUTES_H
#define EB_BRAIN_ROUTES_H

#include "http/http.h"

int eb_brain_elements_list_handler(struct eb_req *r);
int eb_brain_element_create_handler(struct eb_req *r);
int eb_brain_observations_handler(struct eb_req *r);
int eb_brain_upload_handler(struct eb_req *r);
int eb_brain_cells_handler(struct eb_req *r);

#endif
