/* Days of the city's calendar and the names of aggregations and value types (the API's periods
 * are parsed by src/brain/period.c). */
#include "brain/brain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "registry/registry_ids.h"

/* ---- days --------------------------------------------------------------------------------- */

/* Days from civil dates and back (proleptic Gregorian; H. Hinnant's algorithms): exact for any
 * date the API accepts, with no time zone or mktime in the way. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

int eb_day_parse(const char *ymd, eb_day *out)
{
    const char *why = NULL;
    *out = 0;
    if (ymd == NULL || eb_date_check(ymd, &why) != 0)
        return EB_EINVAL;
    int y = (ymd[0] - '0') * 1000 + (ymd[1] - '0') * 100 + (ymd[2] - '0') * 10 + (ymd[3] - '0');
    unsigned m = (unsigned)((ymd[5] - '0') * 10 + (ymd[6] - '0'));
    unsigned d = (unsigned)((ymd[8] - '0') * 10 + (ymd[9] - '0'));
    *out = (eb_day)days_from_civil(y, m, d);
    return 0;
}

void eb_day_format(eb_day day, char out[11])
{
    int y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        memcpy(out, "0000-00-00", 11);
        return;
    }
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%04d-%02u-%02u", y, m, d);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

/*
 * The installation's calendar day (local midnight starts a school day). In EB_TESTING builds
 * the file named by EDUBRAIN_TEST_CLOCK_FILE holds an offset in seconds, as for the transfers'
 * deadlines, so that the e2e suite can move "today". Never compiled into release builds.
 */
eb_day eb_day_today(void)
{
    time_t now = time(NULL);
#ifdef EB_TESTING
    const char *path = getenv("EDUBRAIN_TEST_CLOCK_FILE");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f) {
        char line[32] = "";
        if (fgets(line, sizeof(line), f))
            now += (time_t)strtoll(line, NULL, 10);
        fclose(f);
    }
#endif
    struct tm tm;
    localtime_r(&now, &tm);
    return (eb_day)days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                                   (unsigned)tm.tm_mday);
}

/* ---- names ---------------------------------------------------------------------------------- */

static const char *const AGG_NAMES[] = {NULL, "sum", "average", "count", "last", "min", "max"};
static const char *const VTYPE_NAMES[] = {NULL, "number", "integer", "boolean"};

const char *eb_agg_name(enum eb_agg a)
{
    return a >= EB_AGG_SUM && a <= EB_AGG_MAX ? AGG_NAMES[a] : NULL;
}

enum eb_agg eb_agg_parse(const char *s)
{
    for (int i = EB_AGG_SUM; s != NULL && i <= EB_AGG_MAX; i++)
        if (strcmp(s, AGG_NAMES[i]) == 0)
            return (enum eb_agg)i;
    return 0;
}

const char *eb_vtype_name(enum eb_vtype t)
{
    return t >= EB_VT_NUMBER && t <= EB_VT_BOOLEAN ? VTYPE_NAMES[t] : NULL;
}

enum eb_vtype eb_vtype_parse(const char *s)
{
    for (int i = EB_VT_NUMBER; s != NULL && i <= EB_VT_BOOLEAN; i++)
        if (strcmp(s, VTYPE_NAMES[i]) == 0)
            return (enum eb_vtype)i;
    return 0;
}
