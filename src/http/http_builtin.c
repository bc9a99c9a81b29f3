/* GET /healthz and GET /metrics (Prometheus text exposition format 0.0.4). */
#include "http/http_builtin.h"
#include "app.h"
#include "core/err.h"

#include <inttypes.h>

int eb_http_health_handler(struct eb_req *r)
{
    return eb_http_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void counter(struct eb_buf *b, const char *name, const char *help)
{
    eb_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
}

int eb_http_metrics_handler(struct eb_req *r)
{
    const struct eb_metrics *m = &r->app->metrics;
    struct eb_buf *b = &r->out;

    eb_buf_reset(b);
    counter(b, "edubrain_http_requests_total", "HTTP requests answered.");
    eb_buf_printf(b, "edubrain_http_requests_total %" PRIu64 "\n", (uint64_t)m->requests);
    counter(b, "edubrain_http_responses_total", "HTTP responses by status class.");
    eb_buf_printf(b, "edubrain_http_responses_total{class=\"2xx\"} %" PRIu64 "\n",
                  (uint64_t)m->responses_2xx);
    eb_buf_printf(b, "edubrain_http_responses_total{class=\"4xx\"} %" PRIu64 "\n",
                  (uint64_t)m->responses_4xx);
    eb_buf_printf(b, "edubrain_http_responses_total{class=\"5xx\"} %" PRIu64 "\n",
                  (uint64_t)m->responses_5xx);
    /* A _total in seconds (not µs) is the Prometheus convention; rate() of it divided by the
     * rate of requests gives the mean latency. */
    counter(b, "edubrain_http_request_duration_seconds_total",
            "Time spent answering HTTP requests.");
    eb_buf_printf(b, "edubrain_http_request_duration_seconds_total %.6f\n",
                  (double)m->request_us_total / 1e6);
    counter(b, "edubrain_logins_total", "Login attempts by result.");
    eb_buf_printf(b, "edubrain_logins_total{result=\"ok\"} %" PRIu64 "\n", (uint64_t)m->logins_ok);
    eb_buf_printf(b, "edubrain_logins_total{result=\"failed\"} %" PRIu64 "\n",
                  (uint64_t)m->logins_failed);
    eb_buf_printf(b, "edubrain_logins_total{result=\"throttled\"} %" PRIu64 "\n",
                  (uint64_t)m->logins_throttled);
    if (r->app->lists) {
        struct eb_cache_stats cs;
        eb_cache_stats(r->app->lists, &cs);
        counter(b, "edubrain_list_cache_lookups_total", "People-list cache lookups by result.");
        eb_buf_printf(b, "edubrain_list_cache_lookups_total{result=\"hit\"} %" PRIu64 "\n",
                      cs.hits);
        eb_buf_printf(b, "edubrain_list_cache_lookups_total{result=\"miss\"} %" PRIu64 "\n",
                      cs.misses);
        eb_buf_printf(b,
                      "# HELP edubrain_list_cache_bytes Bytes held by the list cache.\n"
                      "# TYPE edubrain_list_cache_bytes gauge\n"
                      "edubrain_list_cache_bytes %" PRIu64 "\n",
                      cs.bytes);
    }
    if (b->overflow)
        return EB_ETOOBIG;
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return 0;
}
