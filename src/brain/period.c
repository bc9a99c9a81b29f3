/* Periods of the brain's API (docs/internals/brain.md): civil dates, ISO weeks and their parsing.
 */
#include "brain/indicator.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

/* The longest range a question may span: ten school years are far more than any figure needs,
 * and the bound keeps per-day evaluations finite. */
#define PERIOD_MAX_DAYS 3660
/* Without a calendar, "current" is the last half year. */
#define NO_CALENDAR_DAYS 183

/* Days from civil and back: the era-based algorithm (400-year cycles of 146097 days), exact for
 * every proleptic Gregorian date in int32 range. */
eb_day eb_period_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (eb_day)(era * 146097 + doe - 719468);
}

void eb_period_ymd(eb_day day, int *y, int *m, int *d)
{
    int z = (int)day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* 1970-01-01 was a Thursday: day 0 has ISO weekday 4. */
static int iso_weekday(eb_day day)
{
    int w = (int)((day % 7 + 7) % 7); /* 0 = Thursday */
    return (w + 3) % 7 + 1;           /* 1 = Monday .. 7 = Sunday */
}

eb_day eb_period_week_start(eb_day day, char out[9])
{
    eb_day monday = day - (iso_weekday(day) - 1);
    /* The ISO year is the year of the week's Thursday; week 1 holds that year's 4 January. */
    int y, m, d;
    eb_period_ymd(monday + 3, &y, &m, &d);
    eb_day jan4 = eb_period_civil(y, 1, 4);
    eb_day week1 = jan4 - (iso_weekday(jan4) - 1);
    int week = (int)((monday - week1) / 7) + 1;
    if (out)
        snprintf(out, 9, "%04u-W%02u", (unsigned)y % 10000u, (unsigned)week % 100u);
    return monday;
}

/* Exactly n decimal digits at s. */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* "YYYY-MM-DD" at s (exactly 10 characters, a real date). */
static int parse_ymd(const char *s, eb_day *out)
{
    int y, m, d;
    if (strlen(s) < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) ||
        s[7] != '-' || !digits(s + 8, 2, &d))
        return EB_EINVAL;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return EB_EINVAL;
    *out = eb_period_civil(y, m, d);
    return 0;
}

/* A term or year of the calendar, by "YYYY-YYYY" name (term 0: the whole year), or the one
 * holding today (name NULL), else the latest one that started before today. */
static int calendar_period(struct eb_db *db, const struct eb_caller *c, const char *name, int term,
                           eb_day today, struct eb_arena *a, struct eb_period *out)
{
    size_t n = 0;
    struct eb_school_year *years = NULL;
    int rc = eb_store_year_list(db, c, a, &n, &years);
    if (rc)
        return rc;
    if (n == 0 && name == NULL) {
        /* A city that has not entered its calendar still gets figures. */
        out->from = today - NO_CALENDAR_DAYS + 1;
        out->to = today;
        return 0;
    }
    /* Years come newest first; for "current" the first whose start is not after today wins,
     * and within it the term holding today, else the last term started. */
    for (size_t i = 0; i < n; i++) {
        const struct eb_school_year *y = &years[i];
        eb_day ys, ye;
        if (parse_ymd(y->start_date, &ys) || parse_ymd(y->end_date, &ye))
            continue;
        if (name ? strcmp(y->name, name) != 0 : ys > today)
            continue;
        if (term == 0) {
            out->from = ys;
            out->to = ye;
            return 0;
        }
        for (int k = y->n_terms - 1; k >= 0; k--) {
            eb_day ts, te;
            if (parse_ymd(y->terms[k].start_date, &ts) || parse_ymd(y->terms[k].end_date, &te))
                continue;
            if (name ? y->terms[k].term == term : ts <= today) {
                out->from = ts;
                out->to = te;
                return 0;
            }
        }
        if (name)
            return EB_ENOTFOUND;
    }
    return EB_ENOTFOUND;
}

int eb_period_parse(struct eb_db *db, const struct eb_caller *c, const char *s, eb_day today,
                    struct eb_arena *a, struct eb_period *out)
{
    int y, m, n;
    int rc = 0;
    if (s == NULL || *s == '\0')
        s = "term:current";
    if (strncmp(s, "day:", 4) == 0) {
        if (strlen(s + 4) != 10 || parse_ymd(s + 4, &out->from))
            return EB_EINVAL;
        out->to = out->from;
    } else if (strncmp(s, "week:", 5) == 0) {
        const char *w = s + 5;
        char label[9];
        if (strlen(w) != 8 || !digits(w, 4, &y) || w[4] != '-' || w[5] != 'W' ||
            !digits(w + 6, 2, &n) || n < 1 || y < 1900)
            return EB_EINVAL;
        eb_day jan4 = eb_period_civil(y, 1, 4);
        eb_day monday = eb_period_week_start(jan4, NULL) + (eb_day)(7 * (n - 1));
        eb_period_week_start(monday, label);
        /* Week 53 exists only in long years: the label of the computed week must match. */
        if (strcmp(label, w) != 0)
            return EB_EINVAL;
        out->from = monday;
        out->to = monday + 6;
    } else if (strncmp(s, "month:", 6) == 0) {
        const char *mo = s + 6;
        if (strlen(mo) != 7 || !digits(mo, 4, &y) || mo[4] != '-' || !digits(mo + 5, 2, &m) ||
            m < 1 || m > 12 || y < 1900)
            return EB_EINVAL;
        out->from = eb_period_civil(y, m, 1);
        out->to = out->from + days_in_month(y, m) - 1;
    } else if (strncmp(s, "range:", 6) == 0) {
        const char *r = s + 6;
        if (strlen(r) != 22 || r[10] != '.' || r[11] != '.' || parse_ymd(r, &out->from) ||
            parse_ymd(r + 12, &out->to) || out->to < out->from)
            return EB_EINVAL;
    } else if (strncmp(s, "term:", 5) == 0 || strncmp(s, "year:", 5) == 0) {
        int is_term = s[0] == 't';
        const char *v = s + 5;
        int y2, term = 0;
        if (db == NULL)
            return EB_EINVAL;
        if (strcmp(v, "current") == 0) {
            rc = calendar_period(db, c, NULL, is_term ? -1 : 0, today, a, out);
        } else {
            size_t len = strlen(v);
            if (len < 9 || !digits(v, 4, &y) || v[4] != '-' || !digits(v + 5, 4, &y2) ||
                y2 != y + 1)
                return EB_EINVAL;
            if (is_term ? (len != 11 || v[9] != '-' || (v[10] != '1' && v[10] != '2')) : len != 9)
                return EB_EINVAL;
            term = is_term ? v[10] - '0' : 0;
            char name[10];
            memcpy(name, v, 9);
            name[9] = '\0';
            rc = calendar_period(db, c, name, term, today, a, out);
        }
        if (rc)
            return rc;
    } else {
        return EB_EINVAL;
    }
    if (out->to - out->from + 1 > PERIOD_MAX_DAYS)
        return EB_EINVAL;
    return 0;
}
