/* Handlers every deployment has: the health check and the Prometheus metrics. */
#ifndef EB_HTTP_BUILTIN_H
#define EB_HTTP_BUILTIN_H

#include "http/http.h"

/** GET /healthz: {"status":"ok"}. Register with EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB. */
int eb_http_health_handler(struct eb_req *r);
/** GET /metrics: the counters of struct eb_metrics in Prometheus text format 0.0.4. Register
 * with EB_ROUTE_PUBLIC | EB_ROUTE_NO_DB (scrapers do not log in; keep /metrics off the public
 * network at the proxy). */
int eb_http_metrics_handler(struct eb_req *r);

#endif
