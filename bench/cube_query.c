/* Benchmark of the brain's cube: a synthetic city-year applied in-process, then random queries
 * (alone and beside a writer), memory, and a scan of the same values as the reference. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brain/brain.h"
#include "core/err.h"
#include "core/mem.h"

/*
 *   build/bench/cube_query [SCALE [QUERIES]]     (bench/cube_query.sh builds and runs it)
 *
 * SCALE 1 is the city of issue #6: 1 city, 9 districts, 1250 schools of 6 grades, 20,000
 * classes; 200 school days from 2025-09-01 (weekdays, a 4-week winter break); 10 elements
 * reported per class per day (one of them "last", like students.enrolled) and absences, one
 * observation per absent student (about 2 % of 40). SCALE 0.25 takes a quarter of the schools.
 */

#define N_DISTRICTS 9
#define GRADES      6
#define N_DENSE     10
#define EL_ABSENT   11
#define FIRST_DAY   20332 /* 2025-09-01, a Monday */
#define SCHOOL_DAYS 200
#define CLASS_SIZE  40

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t rnd64(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static int rnd(int n)
{
    return (int)(rnd64() % (uint64_t)n);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static const enum eb_agg aggs[N_DENSE + 1] = {EB_AGG_LAST, EB_AGG_SUM, EB_AGG_AVG,  EB_AGG_AVG,
                                              EB_AGG_AVG,  EB_AGG_AVG, EB_AGG_SUM,  EB_AGG_AVG,
                                              EB_AGG_SUM,  EB_AGG_AVG, EB_AGG_COUNT};

struct city {
    int64_t *ids[6]; /* per org kind (1..5): the node ids */
    size_t n[6];
    eb_day days[SCHOOL_DAYS];
};

static void add(struct eb_cube *c, struct city *t, int64_t id, int64_t parent, int kind)
{
    if (eb_cube_add_node(c, id, parent, (enum eb_org_kind)kind) != 0) {
        fprintf(stderr, "add_node %lld failed\n", (long long)id);
        exit(1);
    }
    t->ids[kind][t->n[kind]++] = id;
}

static void build_tree(struct eb_cube *c, struct city *t, int n_schools)
{
    size_t n_classes_max = (size_t)n_schools * GRADES * 3;
    t->ids[1] = eb_xmalloc(sizeof(int64_t));
    t->ids[2] = eb_xmalloc(N_DISTRICTS * sizeof(int64_t));
    t->ids[3] = eb_xmalloc((size_t)n_schools * sizeof(int64_t));
    t->ids[4] = eb_xmalloc((size_t)n_schools * GRADES * sizeof(int64_t));
    t->ids[5] = eb_xmalloc(n_classes_max * sizeof(int64_t));
    int64_t next = 1;
    add(c, t, next++, 0, EB_ORG_CITY);
    for (int d = 0; d < N_DISTRICTS; d++)
        add(c, t, next++, 1, EB_ORG_DISTRICT);
    for (int s = 0; s < n_schools; s++) {
        int64_t school = next++;
        add(c, t, school, t->ids[2][s % N_DISTRICTS], EB_ORG_SCHOOL);
        for (int g = 0; g < GRADES; g++) {
            int64_t grade = next++;
            add(c, t, grade, school, EB_ORG_GRADE);
            /* 3, 3, 2 classes in turn: 20,000 classes for 7,500 grades. */
            int n_classes = (s * GRADES + g) % 3 == 2 ? 2 : 3;
            for (int k = 0; k < n_classes; k++) {
                add(c, t, next++, grade, EB_ORG_CLASS);
            }
        }
    }
    int n = 0;
    for (eb_day d = FIRST_DAY; n < SCHOOL_DAYS; d++) {
        int dow = (d + 3) % 7; /* 0 = Monday */
        int winter = d >= FIRST_DAY + 140 && d < FIRST_DAY + 168;
        if (dow < 5 && !winter)
            t->days[n++] = d;
    }
}

static void apply(struct eb_cube *c, int32_t el, int64_t org, eb_day day, double v, int sign)
{
    if (eb_cube_apply(c, el, aggs[el - 1], org, day, v, sign) != 0) {
        fprintf(stderr, "apply failed\n");
        exit(1);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct query {
    int32_t el;
    int64_t org;
    eb_day from, to;
};

/* A random element, a level chosen uniformly then a node of it, and a period like the API's. */
static struct query random_query(const struct city *t)
{
    struct query q;
    q.el = 1 + rnd(N_DENSE + 1);
    int kind = 1 + rnd(5);
    q.org = t->ids[kind][rnd((int)t->n[kind])];
    eb_day first = t->days[0], last = t->days[SCHOOL_DAYS - 1];
    eb_day d = t->days[rnd(SCHOOL_DAYS)];
    switch (rnd(6)) {
    case 0: /* day */
        q.from = q.to = d;
        break;
    case 1: /* ISO week */
        q.from = d - (d + 3) % 7;
        q.to = q.from + 6;
        break;
    case 2: /* a month, about */
        q.from = first + 30 * ((d - first) / 30);
        q.to = q.from + 29;
        break;
    case 3: /* a term */
        q.from = d < first + 140 ? first : first + 168;
        q.to = d < first + 140 ? first + 139 : last;
        break;
    case 4: /* the school year */
        q.from = first;
        q.to = last;
        break;
    default: /* any range */
        q.from = first + rnd(last - first);
        q.to = q.from + rnd(last - q.from + 1);
    }
    return q;
}

static void run_queries(const struct eb_cube *c, const struct city *t, size_t n, double *lat,
                        const char *label)
{
    struct eb_cube_value v;
    double checksum = 0, t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        struct query q = random_query(t);
        double a = now_s();
        if (eb_cube_get(c, q.el, q.org, q.from, q.to, &v) != 0) {
            fprintf(stderr, "get failed\n");
            exit(1);
        }
        lat[i] = now_s() - a;
        checksum += v.sum;
    }
    double total = now_s() - t0;
    qsort(lat, n, sizeof(*lat), cmp_double);
    printf("cube query %s: %zu random (element, node, period): p50 %.2f us, p99 %.2f us, "
           "p99.9 %.2f us, max %.1f us; %.0f k queries/s on one thread (checksum %.0f)\n",
           label, n, lat[n / 2] * 1e6, lat[n * 99 / 100] * 1e6, lat[n * 999 / 1000] * 1e6,
           lat[n - 1] * 1e6, (double)n / total / 1e3, checksum);
}

struct writer_ctx {
    struct eb_cube *c;
    const struct city *t;
    atomic_int stop;
    long applies;
};

/* Adds and removes values at random classes, as corrections would, until told to stop. */
static void *writer(void *arg)
{
    struct writer_ctx *w = arg;
    uint64_t s = 99;
    while (!atomic_load(&w->stop)) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t org = w->t->ids[5][(s >> 33) % w->t->n[5]];
        eb_day day = w->t->days[(s >> 17) % SCHOOL_DAYS];
        apply(w->c, 2, org, day, 7, 1);
        apply(w->c, 2, org, day, 7, -1);
        w->applies += 2;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    size_t n_queries = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 1000000;
    int n_schools = (int)(1250 * scale);
    if (n_schools < N_DISTRICTS || n_queries < 1000) {
        fprintf(stderr, "usage: cube_query [SCALE >= 0.01 [QUERIES >= 1000]]\n");
        return 2;
    }
    long rss0 = rss_kb();
    struct eb_cube *c = eb_cube_new();
    struct city t;
    memset(&t, 0, sizeof(t));
    build_tree(c, &t, n_schools);
    size_t n_nodes = 0;
    for (int k = 1; k <= 5; k++)
        n_nodes += t.n[k];
    printf("cube city: 1 city, %zu districts, %zu schools, %zu grades, %zu classes (%zu nodes); "
           "%d school days; %d elements per class and day + absences per student\n",
           t.n[2], t.n[3], t.n[4], t.n[5], n_nodes, SCHOOL_DAYS, N_DENSE);

    /* The reference: attendance.present (element 2) of every class and day, kept flat. */
    size_t n_classes = t.n[5];
    float *present = eb_xmalloc(n_classes * SCHOOL_DAYS * sizeof(float));
    long rss1 = rss_kb();
    long applies = 0;
    double t0 = now_s();
    for (int di = 0; di < SCHOOL_DAYS; di++) {
        eb_day day = t.days[di];
        for (size_t k = 0; k < n_classes; k++) {
            int64_t org = t.ids[5][k];
            int enrolled = 36 + (int)(k % 9) + (di > 100 && k % 50 == 0);
            int absent = 0;
            for (int s = 0; s < CLASS_SIZE; s++)
                if (rnd(50) == 0)
                    absent++;
            for (int a = 0; a < absent; a++)
                apply(c, EL_ABSENT, org, day, 1, 1);
            present[k * SCHOOL_DAYS + (size_t)di] = (float)(enrolled - absent);
            apply(c, 1, org, day, enrolled, 1);
            apply(c, 2, org, day, enrolled - absent, 1);
            apply(c, 3, org, day, 30 + rnd(70), 1);       /* homework minutes */
            apply(c, 4, org, day, 7.5 + rnd(6) / 2.0, 1); /* sleep hours */
            apply(c, 5, org, day, 40 + rnd(50), 1);       /* activity in school */
            apply(c, 6, org, day, rnd(90), 1);            /* activity out of school */
            apply(c, 7, org, day, enrolled - rnd(3), 1);  /* phones handed in */
            apply(c, 8, org, day, rnd(60), 1);            /* reading minutes */
            apply(c, 9, org, day, rnd(10) == 0, 1);       /* written homework, grades 1-2 */
            apply(c, 10, org, day, 60 + rnd(90), 1);      /* after-school minutes */
            applies += N_DENSE + absent;
        }
    }
    double apply_s = now_s() - t0;
    long rss2 = rss_kb();
    size_t bytes = eb_cube_bytes(c);
    printf("cube apply: %.1f M observations in %.1f s: %.2f M/s, %.0f ns each (5 cells each)\n",
           (double)applies / 1e6, apply_s, (double)applies / apply_s / 1e6,
           apply_s / (double)applies * 1e9);
    printf("cube memory: eb_cube_bytes %.0f MB, RSS +%.0f MB (process %.0f MB); %.2f GB per "
           "100 M observations\n",
           (double)bytes / 1048576, (double)(rss2 - rss1) / 1024, (double)rss2 / 1024,
           (double)bytes / (double)applies * 1e8 / 1073741824.0);

    double *lat = eb_xmalloc(n_queries * sizeof(double));
    run_queries(c, &t, n_queries, lat, "alone");

    struct writer_ctx w = {.c = c, .t = &t};
    pthread_t th;
    if (pthread_create(&th, NULL, writer, &w) != 0)
        return 1;
    size_t n_busy = n_queries / 2;
    double wt0 = now_s();
    run_queries(c, &t, n_busy, lat, "beside a writer");
    atomic_store(&w.stop, 1);
    pthread_join(th, NULL);
    printf("cube writer meanwhile: %.2f M applies/s\n", (double)w.applies / (now_s() - wt0) / 1e6);

    /* The same city-year sum by a scan of the flat values, against the cube's answer. */
    struct eb_cube_value v;
    double scan_best = 1e9, cube_best = 1e9, sum = 0;
    for (int r = 0; r < 5; r++) {
        double a = now_s();
        sum = 0;
        for (size_t i = 0; i < n_classes * SCHOOL_DAYS; i++)
            sum += present[i];
        double b = now_s();
        if (eb_cube_get(c, 2, 1, t.days[0], t.days[SCHOOL_DAYS - 1], &v) != 0)
            return 1;
        double e = now_s();
        scan_best = b - a < scan_best ? b - a : scan_best;
        cube_best = e - b < cube_best ? e - b : cube_best;
    }
    printf("cube vs scan: city-year sum of one element over %.1f M class-days: scan %.2f ms, "
           "cube %.2f us (%.0fx); values %s (%.0f)\n",
           (double)(n_classes * SCHOOL_DAYS) / 1e6, scan_best * 1e3, cube_best * 1e6,
           scan_best / cube_best, sum == v.sum ? "equal" : "DIFFER", v.sum);
    printf("cube process RSS at the end: %.0f MB (before the cube %.0f MB)\n",
           (double)rss_kb() / 1024, (double)rss0 / 1024);
    eb_free(lat);
    eb_free(present);
    for (int k = 1; k <= 5; k++)
        eb_free(t.ids[k]);
    eb_cube_free(c);
    return sum == v.sum ? 0 : 1;
}
