/* The demo history: daily observations of the synthetic city's classes and schools. */
#include "brain/brain.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "demo/demo.h"
#include "demo/demo_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rows handed to the store per call: large enough that a call costs nothing, small enough that
 * the buffer of the largest school stays a few megabytes. */
#define FLUSH_ROWS 16384

/*
 * Mainland public holidays that fall inside the demo's terms (the State Council's notices). The
 * make-up working Saturdays are left out: a school day fewer changes no story the dashboard
 * tells, and the calendar stays "Monday to Friday minus these".
 */
static const char *const holidays[][2] = {
    {"2025-10-01", "2025-10-08"}, /* 国庆节、中秋节 */
    {"2026-01-01", "2026-01-03"}, /* 元旦 */
    {"2026-02-15", "2026-02-23"}, /* 春节 */
    {"2026-04-04", "2026-04-06"}, /* 清明节 */
    {"2026-05-01", "2026-05-05"}, /* 劳动节 */
    {"2026-06-19", "2026-06-21"}, /* 端午节 */
    {"2026-09-25", "2026-09-27"}, /* 中秋节 */
    {"2026-10-01", "2026-10-07"}, /* 国庆节 */
    {"2027-01-01", "2027-01-03"}, /* 元旦 */
    {"2027-02-06", "2027-02-14"}, /* 春节 */
    {"2027-04-03", "2027-04-05"}, /* 清明节 */
    {"2027-05-01", "2027-05-05"}, /* 劳动节 */
    {"2027-06-09", "2027-06-11"}, /* 端午节 */
};

/* The elements the history writes, by code (docs/internals/brain.md). */
enum el {
    E_ENROLLED,
    E_PRESENT,
    E_ABSENT,
    E_SYMPTOM,
    E_HOMEWORK,
    E_SLEEP,
    E_ACT_IN,
    E_ACT_OUT,
    E_PHONES,
    E_READING,
    E_WRITTEN_G12,
    E_AS_STUDENTS,
    E_AS_TEACHERS,
    E_AS_MINUTES,
    E_AS_END,
    E_TEACHERS,
    E_REGISTERED,
    E_ACTIVATED,
    E_CLASSROOMS,
    E_MULTIMEDIA,
    E_BLACKBOARDS,
    E_RECORDING,
    E_AI_LABS,
    E_DIGITAL,
    E_LIVE,
    N_EL
};

static const char *const el_codes[N_EL] = {
    "students.enrolled",
    "attendance.present",
    "attendance.absent",
    "health.symptom",
    "homework.minutes",
    "sleep.hours",
    "activity.in_school_minutes",
    "activity.out_school_minutes",
    "phones.handed_in",
    "reading.minutes",
    "lessons.homework_written_g12",
    "afterschool.students",
    "afterschool.teachers",
    "afterschool.minutes",
    "afterschool.end_minute",
    "teachers.in_post",
    "accounts.registered",
    "accounts.activated",
    "equipment.classrooms",
    "equipment.multimedia_classrooms",
    "equipment.smart_blackboards",
    "equipment.recording_classrooms",
    "equipment.ai_labs",
    "campus.digital_level",
    "lessons.live_held",
};

/* Symptoms of the morning and noon health check, with their weights among illnesses. */
static const struct {
    const char *absent, *symptom;
    int weight;
} illnesses[] = {
    {"illness:fever", "fever", 40},       {"illness:cough", "cough", 30},
    {"illness:diarrhea", "diarrhea", 10}, {"illness:vomit", "vomit", 8},
    {"illness:rash", "rash", 5},          {"illness:other", "other", 7},
};

/* The stage of a class, from its grade code (JY/T 1001 grade codes as the registry keeps them). */
enum stage { S_KG, S_PRI_LOW, S_PRI, S_JUN, S_SEN, S_VOC };

static enum stage class_stage(const char *grade_code)
{
    switch (grade_code[0]) {
    case '0':
        return S_KG;
    case '1':
        return grade_code[1] <= '2' ? S_PRI_LOW : S_PRI;
    case '2':
        return S_JUN;
    case '3':
        return S_SEN;
    default:
        return S_VOC;
    }
}

/* The character of one school for the whole span, drawn once from its own generator. */
struct profile {
    double absence;         /* share of students absent on an ordinary day */
    int outbreak_first;     /* index into the school days of a fever outbreak week, -1 none */
    double outbreak_rate;   /* extra share absent with fever during it */
    int homework_over;      /* assigns more than the 60/90 minute limits */
    int written_g12;        /* grades 1-2 get written homework (in some classes) */
    int sleep_short;        /* its students report less sleep than the 10/9/8 hours */
    int activity_short;     /* under an hour of physical activity in school */
    double as_students;     /* after-school participation of students */
    double as_teachers;     /* and of teachers */
    int as_minutes, as_end; /* after-school length and end (minute of the day) */
    int classrooms, multimedia, blackboards, recording, ai_labs, digital;
};

struct hist {
    struct eb_db *db;
    struct eb_caller c;
    const struct eb_demo_history_options *opt;
    struct eb_demo_history_stats *stats;
    int32_t el[N_EL];
    eb_day *days;
    int n_days;
    struct eb_arena *a;
    struct eb_feed_class *classes;
    size_t n_classes;
    struct eb_feed_school *schools;
    size_t n_schools;
    /* Students of class i: persons[first[i] .. first[i] + classes[i].students). */
    int64_t *persons;
    size_t n_persons, cap_persons;
    size_t *first;
    size_t scan_class; /* the class the student scan is in */
    struct eb_obs_row *rows;
    size_t n_rows, cap_rows;
    uint8_t *mark; /* per student of a class: absent today */
    size_t cap_mark;
};

static int collect_student(void *ctx, int64_t class_id, int64_t person_id)
{
    struct hist *h = ctx;
    /* Both lists are in path order: the class of a student is at or after the previous one. */
    while (h->scan_class < h->n_classes && h->classes[h->scan_class].class_id != class_id)
        h->scan_class++;
    if (h->scan_class == h->n_classes)
        return EB_ECONFLICT;
    if (h->n_persons == h->cap_persons) {
        h->cap_persons = h->cap_persons ? h->cap_persons * 2 : 4096;
        h->persons = eb_xrealloc(h->persons, h->cap_persons * sizeof(*h->persons));
    }
    h->persons[h->n_persons++] = person_id;
    return 0;
}

/* The school days of the span: Monday to Friday inside a term, not a public holiday. */
static int plan_days(struct hist *h, eb_day until)
{
    size_t n_years = 0;
    struct eb_school_year *years = NULL;
    int rc = eb_store_year_list(h->db, &h->c, h->a, &n_years, &years);
    if (rc != 0)
        return rc;
    eb_day from = until - 364, term_from = 0, term_to = -1;
    if (h->opt->span == EB_DEMO_HISTORY_TERM) {
        /* The term holding until, else the latest one begun before it. */
        for (size_t y = 0; y < n_years; y++)
            for (int t = 0; t < years[y].n_terms; t++) {
                eb_day s, e;
                if (eb_day_parse(years[y].terms[t].start_date, &s) != 0 ||
                    eb_day_parse(years[y].terms[t].end_date, &e) != 0 || s > until)
                    continue;
                if (s > term_from || term_to < 0) {
                    term_from = s;
                    term_to = e;
                }
            }
        if (term_to < 0)
            return 0;
        from = term_from;
    }
    eb_day hol[sizeof(holidays) / sizeof(holidays[0])][2];
    for (size_t i = 0; i < sizeof(holidays) / sizeof(holidays[0]); i++)
        if (eb_day_parse(holidays[i][0], &hol[i][0]) != 0 ||
            eb_day_parse(holidays[i][1], &hol[i][1]) != 0)
            return EB_EINTERNAL;
    if (from > until)
        return 0;
    h->days = eb_xmalloc(sizeof(*h->days) * (size_t)(until - from + 1));
    for (eb_day d = from; d <= until; d++) {
        int weekday = (int)(((d % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday; 0 = Monday */
        int in_term = 0, holiday = 0;
        if (weekday > 4)
            continue;
        for (size_t y = 0; y < n_years && !in_term; y++)
            for (int t = 0; t < years[y].n_terms; t++) {
                eb_day s, e;
                if (eb_day_parse(years[y].terms[t].start_date, &s) == 0 &&
                    eb_day_parse(years[y].terms[t].end_date, &e) == 0 && d >= s && d <= e)
                    in_term = 1;
            }
        for (size_t i = 0; i < sizeof(hol) / sizeof(hol[0]); i++)
            if (d >= hol[i][0] && d <= hol[i][1])
                holiday = 1;
        if (in_term && !holiday)
            h->days[h->n_days++] = d;
    }
    return 0;
}

static struct eb_obs_row *add_row(struct hist *h, enum el e, int64_t org_id, eb_day day,
                                  double value)
{
    if (h->n_rows == h->cap_rows) {
        h->cap_rows = h->cap_rows ? h->cap_rows * 2 : FLUSH_ROWS + 64;
        h->rows = eb_xrealloc(h->rows, h->cap_rows * sizeof(*h->rows));
    }
    struct eb_obs_row *r = &h->rows[h->n_rows++];
    memset(r, 0, sizeof(*r));
    r->element_id = h->el[e];
    r->org_id = org_id;
    r->day = day;
    r->value = value;
    return r;
}

static int flush(struct hist *h)
{
    if (h->n_rows == 0)
        return 0;
    int rc = eb_store_obs_insert(h->db, &h->c, h->rows, h->n_rows, NULL);
    h->stats->rows += (int64_t)h->n_rows;
    h->n_rows = 0;
    return rc;
}

static int maybe_flush(struct hist *h)
{
    return h->n_rows >= FLUSH_ROWS ? flush(h) : 0;
}

/* A value around mean with a spread of +-spread, rounded to one decimal. */
static double around(struct eb__demo_rng *r, double mean, double spread)
{
    double v = mean + (eb__demo_unit(r) * 2.0 - 1.0) * spread;
    return round(v * 10.0) / 10.0;
}

static void draw_profile(struct eb__demo_rng *r, const struct eb_feed_school *s, int n_classes,
                         int n_days, struct profile *p)
{
    memset(p, 0, sizeof(*p));
    p->absence = 0.02 + 0.02 * eb__demo_unit(r);
    p->outbreak_first = -1;
    /* About one school in twelve has a fever outbreak week: the clusters the health-check
     * alerts are there to find. */
    if (n_days >= 5 && eb__demo_below(r, 12) == 0) {
        p->outbreak_first = (int)eb__demo_below(r, (uint32_t)(n_days - 4));
        p->outbreak_rate = 0.05 + 0.05 * eb__demo_unit(r);
    }
    p->homework_over = eb__demo_below(r, 10) == 0;
    p->written_g12 = eb__demo_below(r, 20) == 0;
    p->sleep_short = eb__demo_below(r, 10) == 0;
    p->activity_short = eb__demo_below(r, 12) == 0;
    /* The seed's figures are city-wide rates; schools spread around them, narrowly enough that
     * the ten schools of the small city already land near them. */
    p->as_students = 0.8799 + (eb__demo_unit(r) * 2.0 - 1.0) * 0.03;
    p->as_teachers = 0.9241 + (eb__demo_unit(r) * 2.0 - 1.0) * 0.025;
    if (p->as_teachers > 1.0)
        p->as_teachers = 1.0;
    p->as_minutes = eb__demo_below(r, 10) == 0 ? 90 : 120;
    p->as_end = eb__demo_below(r, 8) == 0 ? 17 * 60 : 17 * 60 + 30;
    p->classrooms = n_classes + (int)eb__demo_below(r, 4);
    /* Multimedia coverage near 99.4 %: each classroom lacks the equipment with p = 0.6 %. */
    p->multimedia = p->classrooms;
    for (int i = 0; i < p->classrooms; i++)
        if (eb__demo_unit(r) < 0.006)
            p->multimedia--;
    p->blackboards = (int)lround(p->classrooms * (0.35 + 0.4 * eb__demo_unit(r)));
    p->recording = n_classes >= 12 ? 1 + (int)eb__demo_below(r, 2) : (int)eb__demo_below(r, 2);
    p->ai_labs = (s->stages & (EB_STAGE_PRIMARY | EB_STAGE_JUNIOR | EB_STAGE_SENIOR))
                     ? (int)eb__demo_below(r, 3)
                     : 0;
    uint32_t lv = eb__demo_below(r, 100);
    p->digital = lv < 70 ? 1 : lv < 92 ? 2 : 3;
}

static const char *absence_category(struct eb__demo_rng *r, const char **symptom)
{
    uint32_t k = eb__demo_below(r, 100);
    *symptom = NULL;
    if (k >= 50)
        return k < 88 ? "personal" : "other";
    uint32_t w = eb__demo_below(r, 100);
    for (size_t i = 0; i < sizeof(illnesses) / sizeof(illnesses[0]); i++) {
        if (w < (uint32_t)illnesses[i].weight) {
            *symptom = illnesses[i].symptom;
            return illnesses[i].absent;
        }
        w -= (uint32_t)illnesses[i].weight;
    }
    *symptom = "other";
    return "illness:other";
}

/* One class over every school day: attendance and the five managements' daily reports. */
static int write_class(struct hist *h, struct eb__demo_rng *r, const struct profile *p, size_t ci)
{
    const struct eb_feed_class *cl = &h->classes[ci];
    const int64_t *persons = &h->persons[h->first[ci]];
    size_t n = (size_t)cl->students;
    enum stage st = class_stage(cl->grade_code);
    if (n > h->cap_mark) {
        h->cap_mark = n;
        h->mark = eb_xrealloc(h->mark, n);
    }
    /* What the class reports is near its own level every day. Its sleep is the mean of its
     * students' reports, which moves little from day to day: a class of a school whose
     * students sleep too little is under the 10/9/8 hours every day, the others stay clear of
     * it by a margin of their own, so that the sleep alerts name those schools and not noise. */
    double hw_mean = 0, sleep_mean = 0;
    double clear = 0.25 + 0.3 * eb__demo_unit(r);
    switch (st) {
    case S_PRI_LOW:
        hw_mean = 20;
        sleep_mean = p->sleep_short ? 9.4 : 10 + clear;
        break;
    case S_PRI:
        hw_mean = p->homework_over ? 75 : 45;
        sleep_mean = p->sleep_short ? 9.4 : 10 + clear;
        break;
    case S_JUN:
        hw_mean = p->homework_over ? 105 : 75;
        sleep_mean = p->sleep_short ? 8.4 : 9 + clear;
        break;
    case S_SEN:
        hw_mean = 120;
        sleep_mean = p->sleep_short ? 7.2 : 8 + clear;
        break;
    default:
        hw_mean = 40;
        sleep_mean = 8 + clear;
    }
    /* In a school that gives them, about half of the grade 1-2 classes get written homework. */
    int written = st == S_PRI_LOW && p->written_g12 && eb__demo_below(r, 2) == 0;
    double phones_share = st == S_PRI ? 0.05 : st == S_JUN ? 0.2 : st >= S_SEN ? 0.4 : 0.0;
    for (int di = 0; di < h->n_days; di++) {
        eb_day d = h->days[di];
        int outbreak =
            p->outbreak_first >= 0 && di >= p->outbreak_first && di < p->outbreak_first + 5;
        int absent = 0;
        memset(h->mark, 0, n);
        for (size_t i = 0; i < n; i++) {
            double u = eb__demo_unit(r);
            const char *symptom = NULL, *cat = NULL;
            if (u < p->absence)
                cat = absence_category(r, &symptom);
            else if (outbreak && u < p->absence + p->outbreak_rate) {
                cat = "illness:fever";
                symptom = "fever";
            }
            if (cat == NULL)
                continue;
            h->mark[i] = 1;
            absent++;
            struct eb_obs_row *row = add_row(h, E_ABSENT, cl->class_id, d, 1);
            row->person_id = persons[i];
            row->category = cat;
            if (symptom) {
                row = add_row(h, E_SYMPTOM, cl->class_id, d, 1);
                row->person_id = persons[i];
                row->category = symptom;
            }
        }
        /* A few present students are flagged at the check too (more during an outbreak). */
        double flagged = outbreak ? 0.02 : 0.002;
        for (size_t i = 0; i < n; i++)
            if (!h->mark[i] && eb__demo_unit(r) < flagged) {
                struct eb_obs_row *row = add_row(h, E_SYMPTOM, cl->class_id, d, 1);
                row->person_id = persons[i];
                row->category = outbreak ? "fever" : illnesses[eb__demo_below(r, 6)].symptom;
            }
        int present = (int)n - absent;
        h->stats->absences += absent;
        h->stats->enrolled_days += (int64_t)n;
        add_row(h, E_ENROLLED, cl->class_id, d, (double)n);
        add_row(h, E_PRESENT, cl->class_id, d, present);
        if (st != S_KG) {
            double hw = st == S_PRI_LOW && !written ? 0 : around(r, hw_mean, 12);
            add_row(h, E_HOMEWORK, cl->class_id, d, hw < 0 ? 0 : hw);
            add_row(h, E_SLEEP, cl->class_id, d, around(r, sleep_mean, 0.15));
            add_row(h, E_ACT_IN, cl->class_id, d, around(r, p->activity_short ? 48 : 72, 8));
            add_row(h, E_ACT_OUT, cl->class_id, d, around(r, 50, 20));
            add_row(h, E_PHONES, cl->class_id, d, lround(present * phones_share));
            add_row(h, E_READING, cl->class_id, d, around(r, 32, 12));
        }
        if (st == S_PRI_LOW)
            add_row(h, E_WRITTEN_G12, cl->class_id, d, written && eb__demo_below(r, 5) != 0);
        int rc = maybe_flush(h);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The school's own rows: after-school service, the registry's figures, equipment. */
static int write_school_days(struct hist *h, struct eb__demo_rng *r, const struct profile *p,
                             const struct eb_feed_school *s, int64_t compulsory)
{
    int afterschool = compulsory > 0 && (s->stages & (EB_STAGE_PRIMARY | EB_STAGE_JUNIOR));
    for (int di = 0; di < h->n_days; di++) {
        eb_day d = h->days[di];
        int64_t id = s->school_id;
        if (afterschool) {
            double ds = p->as_students + (eb__demo_unit(r) * 2.0 - 1.0) * 0.01;
            double dt = p->as_teachers + (eb__demo_unit(r) * 2.0 - 1.0) * 0.01;
            /* Rounded at random, up or down in proportion: plain rounding would lift the rate of
             * a school of five teachers from 92 % to 100 %. */
            add_row(h, E_AS_STUDENTS, id, d,
                    floor(compulsory * (ds > 1 ? 1 : ds) + eb__demo_unit(r)));
            add_row(h, E_AS_TEACHERS, id, d,
                    floor(s->teachers * (dt > 1 ? 1 : dt) + eb__demo_unit(r)));
            add_row(h, E_AS_MINUTES, id, d, p->as_minutes);
            add_row(h, E_AS_END, id, d, p->as_end);
        }
        add_row(h, E_TEACHERS, id, d, (double)s->teachers);
        add_row(h, E_REGISTERED, id, d, (double)s->registered);
        add_row(h, E_ACTIVATED, id, d, (double)s->activated);
        add_row(h, E_CLASSROOMS, id, d, p->classrooms);
        add_row(h, E_MULTIMEDIA, id, d, p->multimedia);
        add_row(h, E_BLACKBOARDS, id, d, p->blackboards);
        add_row(h, E_RECORDING, id, d, p->recording);
        add_row(h, E_AI_LABS, id, d, p->ai_labs);
        add_row(h, E_DIGITAL, id, d, p->digital);
        if (p->recording > 0)
            add_row(h, E_LIVE, id, d, eb__demo_below(r, (uint32_t)(2 * p->recording + 1)));
    }
    return maybe_flush(h);
}

static void progress(struct hist *h, size_t done, size_t *decile)
{
    FILE *f = h->opt->progress;
    size_t dec = h->n_schools ? done * 10 / h->n_schools : 10;
    if (!f || dec <= *decile)
        return;
    *decile = dec;
    fprintf(f, "历史 学校 %zu/%zu 观测 %lld\n", done, h->n_schools, (long long)h->stats->rows);
    fflush(f);
}

static int cmp_school(const void *a, const void *b)
{
    const struct eb_feed_school *x = a, *y = b;
    return x->school_id < y->school_id ? -1 : x->school_id > y->school_id;
}

static int write_all(struct hist *h)
{
    size_t ci = 0, decile = 0;
    /* Schools by id, to find each class's school; a school's classes follow each other in
     * path order, so one walk over the classes visits every school once. */
    qsort(h->schools, h->n_schools, sizeof(*h->schools), cmp_school);
    while (ci < h->n_classes) {
        struct eb_feed_school key = {.school_id = h->classes[ci].school_id};
        const struct eb_feed_school *s =
            bsearch(&key, h->schools, h->n_schools, sizeof(*h->schools), cmp_school);
        size_t c0 = ci;
        int64_t compulsory = 0;
        while (ci < h->n_classes && h->classes[ci].school_id == key.school_id) {
            char g = h->classes[ci].grade_code[0];
            if (g == '1' || g == '2')
                compulsory += h->classes[ci].students;
            ci++;
        }
        if (s == NULL)
            continue; /* a class left open under a closed school */
        /* A school's generator depends on the seed and its id only, so that a school's rows do
         * not change when another school is added. */
        struct eb__demo_rng r;
        eb__demo_rng_seed(&r, h->opt->seed ^ ((uint64_t)s->school_id * 0x9E3779B97F4A7C15ull));
        struct profile p;
        draw_profile(&r, s, (int)(ci - c0), h->n_days, &p);
        int rc = eb_db_begin(h->db);
        for (size_t k = c0; rc == 0 && k < ci; k++)
            rc = write_class(h, &r, &p, k);
        if (rc == 0)
            rc = write_school_days(h, &r, &p, s, compulsory);
        if (rc == 0)
            rc = flush(h);
        if (rc == 0)
            rc = eb_db_commit(h->db);
        if (rc != 0) {
            h->n_rows = 0;
            eb_db_rollback(h->db);
            return rc;
        }
        h->stats->schools++;
        h->stats->classes += (int64_t)(ci - c0);
        progress(h, (size_t)h->stats->schools, &decile);
    }
    return 0;
}

int eb_demo_history(struct eb_store *st, const struct eb_demo_history_options *opt,
                    struct eb_demo_history_stats *stats)
{
    struct hist h;
    memset(&h, 0, sizeof(h));
    memset(stats, 0, sizeof(*stats));
    if (!st || !opt)
        return EB_EINVAL;
    if (opt->span == EB_DEMO_HISTORY_NONE)
        return 0;
    h.opt = opt;
    h.stats = stats;
    h.c.system = 1;
    h.c.no_audit = 1;
    h.db = eb_store_acquire(st);
    h.a = eb_arena_create(0);
    int64_t city = 0;
    int rc = eb_store_elements_seed(h.db);
    for (int e = 0; rc == 0 && e < N_EL; e++)
        rc = eb_store_element_id(h.db, el_codes[e], &h.el[e]);
    if (rc == 0)
        rc = eb_store_or_city(h.db, &city);
    if (rc == 0 && city == 0)
        rc = EB_ENOTFOUND;
    if (rc == 0)
        rc = plan_days(&h, opt->until ? opt->until : eb_day_today());
    if (rc != 0 || h.n_days == 0)
        goto done;
    rc = eb_store_feed_classes(h.db, &h.c, city, h.a, &h.n_classes, &h.classes);
    if (rc == 0)
        rc = eb_store_feed_schools(h.db, &h.c, city, h.a, &h.n_schools, &h.schools);
    if (rc == 0)
        rc = eb_store_feed_students(h.db, &h.c, city, collect_student, &h);
    if (rc != 0)
        goto done;
    /* Where each class's students start in persons (classes and students in path order). */
    h.first = eb_xmalloc(sizeof(*h.first) * (h.n_classes + 1));
    size_t at = 0;
    for (size_t i = 0; i < h.n_classes; i++) {
        h.first[i] = at;
        at += (size_t)h.classes[i].students;
    }
    if (at != h.n_persons) {
        rc = EB_ECONFLICT;
        goto done;
    }
    stats->days = h.n_days;
    stats->first_day = h.days[0];
    stats->last_day = h.days[h.n_days - 1];
    rc = write_all(&h);
done:
    if (rc != 0)
        eb_error("demo history: %s", eb_strerror(rc));
    eb_store_release(st, h.db);
    eb_arena_destroy(h.a);
    eb_free(h.days);
    eb_free(h.persons);
    eb_free(h.first);
    eb_free(h.rows);
    eb_free(h.mark);
    return rc;
}
