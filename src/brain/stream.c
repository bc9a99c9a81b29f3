/* The live stream (GET /api/v1/stream): Server-Sent Events of the cube's changes and of alerts,
 * coalesced per connection, over connections that hold no worker thread while they wait. */
#include "brain/indicator.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#define COALESCE_US 200000     /* at most one event per 200 ms per connection */
#define PING_US     15000000   /* a comment line every 15 s keeps proxies and clients awake */
#define TICK_NS     50000000L  /* the timer's period: the added latency is at most this */
#define PENDING_MAX 1000       /* distinct changes in one event; beyond, "truncated": true */
#define SET_SLOTS   2048       /* the dedupe set of pending changes (a power of two > 2x max) */
#define OUT_MAX     (4u << 20) /* bytes a slow client may owe before the stream ends */

struct stream {
    struct eb_hub *hub;
    struct eb_http_push *push;
    pthread_mutex_t mu;
    int64_t org;
    char path[EB_PATH_MAX];
    int64_t *children; /* sorted */
    size_t n_children;
    struct eb_brain_change pending[PENDING_MAX];
    size_t n_pending;
    int truncated;
    uint32_t set[SET_SLOTS]; /* index + 1 into pending */
    struct eb_buf alerts;    /* formatted alert events waiting for the window */
    struct eb_buf out;       /* bytes the client has still to read, from out_pos */
    size_t out_pos;
    int64_t last_event_us, last_write_us;
    int broken; /* the client fell too far behind */
    struct stream *prev, *next;
};

struct eb_hub {
    pthread_mutex_t mu;
    struct stream *head;
    size_t n;
    int max;
    const struct eb_brain *brain; /* element codes for the events; may be NULL */
    pthread_t timer;
    int stopping;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int due(const struct stream *s, int64_t now)
{
    if ((s->n_pending || s->alerts.len) && now - s->last_event_us >= COALESCE_US)
        return 1;
    return now - s->last_write_us >= PING_US;
}

static void *timer_main(void *arg)
{
    struct eb_hub *h = arg;
    struct timespec tick = {0, TICK_NS};
    for (;;) {
        nanosleep(&tick, NULL);
        pthread_mutex_lock(&h->mu);
        if (h->stopping) {
            pthread_mutex_unlock(&h->mu);
            break;
        }
        int64_t now = now_us();
        for (struct stream *s = h->head; s; s = s->next) {
            pthread_mutex_lock(&s->mu);
            int wake = due(s, now);
            pthread_mutex_unlock(&s->mu);
            /* The hub's lock keeps s (and its push) alive across the wake. */
            if (wake && s->push)
                eb_http_push_wake(s->push);
        }
        pthread_mutex_unlock(&h->mu);
    }
    return NULL;
}

struct eb_hub *eb_hub_new(int max_streams)
{
    struct eb_hub *h = eb_xcalloc(1, sizeof(*h));
    pthread_mutex_init(&h->mu, NULL);
    h->max = max_streams > 0 ? max_streams : EB_STREAMS_MAX;
    if (pthread_create(&h->timer, NULL, timer_main, h) != 0) {
        eb_error("stream: cannot start the timer");
        h->stopping = -1;
    }
    return h;
}

void eb_hub_set_brain(struct eb_hub *h, const struct eb_brain *b)
{
    h->brain = b;
}

static void stream_free(struct stream *s)
{
    pthread_mutex_destroy(&s->mu);
    eb_buf_free(&s->alerts);
    eb_buf_free(&s->out);
    eb_free(s->children);
    eb_free(s);
}

void eb_hub_free(struct eb_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    int running = h->stopping == 0;
    h->stopping = 1;
    pthread_mutex_unlock(&h->mu);
    if (running)
        pthread_join(h->timer, NULL);
    /* The HTTP server closed every stream before; whatever is left has no connection. */
    while (h->head) {
        struct stream *s = h->head;
        h->head = s->next;
        stream_free(s);
    }
    pthread_mutex_destroy(&h->mu);
    eb_free(h);
}

size_t eb_hub_count(struct eb_hub *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->n;
    pthread_mutex_unlock(&h->mu);
    return n;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The node itself and its children: the figures a screen of that node shows. Deeper changes
 * reach it as the changes of the child on their path (the brain reports every node of it). */
static int wants(const struct stream *s, int64_t org)
{
    return org == s->org ||
           (s->n_children && bsearch(&org, s->children, s->n_children, sizeof(org), cmp_id));
}

static void add_pending(struct stream *s, const struct eb_brain_change *c)
{
    uint64_t h = ((uint64_t)c->org_id * 1000003u + (uint64_t)(uint32_t)c->element_id) * 31u +
                 (uint64_t)(uint32_t)c->day;
    h *= 0x9E3779B97F4A7C15ull;
    for (size_t k = (size_t)(h >> 40) & (SET_SLOTS - 1);; k = (k + 1) & (SET_SLOTS - 1)) {
        uint32_t v = s->set[k];
        if (v == 0)
            break;
        const struct eb_brain_change *p = &s->pending[v - 1];
        if (p->org_id == c->org_id && p->element_id == c->element_id && p->day == c->day)
            return;
    }
    if (s->n_pending == PENDING_MAX) {
        s->truncated = 1;
        return;
    }
    s->pending[s->n_pending++] = *c;
    for (size_t k = (size_t)(h >> 40) & (SET_SLOTS - 1);; k = (k + 1) & (SET_SLOTS - 1)) {
        if (s->set[k] == 0) {
            s->set[k] = (uint32_t)s->n_pending;
            break;
        }
    }
}

void eb_hub_changes(void *hub, const struct eb_brain_change *changes, size_t n)
{
    struct eb_hub *h = hub;
    pthread_mutex_lock(&h->mu);
    for (struct stream *s = h->head; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < n; i++)
            if (wants(s, changes[i].org_id))
                add_pending(s, &changes[i]);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&h->mu);
}

void eb_hub_alert(struct eb_hub *h, const char *org_path, const char *json)
{
    pthread_mutex_lock(&h->mu);
    for (struct stream *s = h->head; s; s = s->next) {
        /* An alert is for every scope above its node. */
        if (strncmp(org_path, s->path, strlen(s->path)) != 0)
            continue;
        pthread_mutex_lock(&s->mu);
        if (eb_buf_printf(&s->alerts, "event: alert\ndata: %s\n\n", json) != 0)
            s->broken = 1;
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&h->mu);
}

/* The pending changes and alerts become one cells event and the alert events; under s->mu. */
static void flush(struct stream *s)
{
    if (s->n_pending) {
        eb_buf_puts(&s->out, "event: cells\ndata: {\"changes\":[");
        for (size_t i = 0; i < s->n_pending; i++) {
            const struct eb_brain_change *c = &s->pending[i];
            const struct eb_element *e =
                s->hub->brain ? eb_brain_element(s->hub->brain, c->element_id) : NULL;
            char day[11];
            eb_day_format(c->day, day);
            if (e)
                eb_buf_printf(&s->out, "%s{\"element\":\"%s\",\"org\":%lld,\"day\":\"%s\"}",
                              i ? "," : "", e->code, (long long)c->org_id, day);
            else
                eb_buf_printf(&s->out, "%s{\"element\":%d,\"org\":%lld,\"day\":\"%s\"}",
                              i ? "," : "", (int)c->element_id, (long long)c->org_id, day);
        }
        eb_buf_printf(&s->out, "]%s}\n\n", s->truncated ? ",\"truncated\":true" : "");
        s->n_pending = 0;
        s->truncated = 0;
        memset(s->set, 0, sizeof(s->set));
    }
    if (s->alerts.len) {
        eb_buf_append(&s->out, s->alerts.data, s->alerts.len);
        eb_buf_reset(&s->alerts);
    }
    if (s->out.overflow)
        s->broken = 1;
}

/* Runs under the push's lock on a worker thread (eb_http_push_read_fn). */
static long stream_read(void *ctx, char *buf, size_t max)
{
    struct stream *s = ctx;
    int64_t now = now_us();
    long n = 0;
    pthread_mutex_lock(&s->mu);
    if (s->broken) {
        n = -1;
        goto done;
    }
    if (s->out_pos == s->out.len) {
        eb_buf_reset(&s->out);
        s->out_pos = 0;
        if ((s->n_pending || s->alerts.len) && now - s->last_event_us >= COALESCE_US) {
            flush(s);
            s->last_event_us = now;
        } else if (now - s->last_write_us >= PING_US) {
            eb_buf_puts(&s->out, ": ping\n\n");
        }
    }
    size_t left = s->out.len - s->out_pos;
    if (left) {
        size_t k = left < max ? left : max;
        memcpy(buf, s->out.data + s->out_pos, k);
        s->out_pos += k;
        s->last_write_us = now;
        n = (long)k;
    }
done:
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void stream_close(void *ctx)
{
    struct stream *s = ctx;
    struct eb_hub *h = s->hub;
    pthread_mutex_lock(&h->mu);
    if (s->prev)
        s->prev->next = s->next;
    else if (h->head == s)
        h->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    h->n--;
    pthread_mutex_unlock(&h->mu);
    stream_free(s);
}

int eb_hub_open(struct eb_hub *h, struct eb_req *r, int64_t org_id, const char *org_path,
                const int64_t *children, size_t n_children)
{
    pthread_mutex_lock(&h->mu);
    int full = h->n >= (size_t)h->max || h->stopping;
    if (!full)
        h->n++; /* the place is taken now; linked below once the stream is whole */
    pthread_mutex_unlock(&h->mu);
    if (full)
        return EB_EBUSY;
    struct stream *s = eb_xcalloc(1, sizeof(*s));
    s->hub = h;
    pthread_mutex_init(&s->mu, NULL);
    s->org = org_id;
    snprintf(s->path, sizeof(s->path), "%s", org_path);
    if (n_children) {
        s->children = eb_xmalloc(n_children * sizeof(*s->children));
        memcpy(s->children, children, n_children * sizeof(*s->children));
        qsort(s->children, n_children, sizeof(*s->children), cmp_id);
        s->n_children = n_children;
    }
    eb_buf_init(&s->alerts, OUT_MAX);
    eb_buf_init(&s->out, OUT_MAX);
    /* The first bytes go out at once: the client knows the stream is live before any change. */
    eb_buf_puts(&s->out, "retry: 3000\n: connected\n\n");
    s->last_event_us = s->last_write_us = now_us();
    r->content_type = "text/event-stream; charset=utf-8";
    eb_http_add_header(r, "Cache-Control", "no-cache, no-store");
    eb_http_add_header(r, "X-Accel-Buffering", "no");
    s->push = eb_http_push_start(r, stream_read, stream_close, s);
    pthread_mutex_lock(&h->mu);
    s->next = h->head;
    if (s->next)
        s->next->prev = s;
    h->head = s;
    pthread_mutex_unlock(&h->mu);
    return 0;
}
