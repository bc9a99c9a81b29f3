/* OneRoster 1.1 CSV columns per file (§1.6), enumerations (§1.7), value formats (§1.5). */
#include "core/mem.h"
#include "oneroster/or_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* §1.7. The index of a token in these lists is the tag the id sets keep for orgs, sessions and
 * users (or_check.c), so their order matters only there. */
const char *const eb__or_org_types[] = {"department", "school",   "district", "local",
                                        "state",      "national", NULL};
const char *const eb__or_session_types[] = {"gradingPeriod", "semester", "schoolYear", "term",
                                            NULL};
const char *const eb__or_user_roles[] = {"administrator", "aide",    "guardian",
                                         "parent",        "proctor", "relative",
                                         "student",       "teacher", NULL};
const char *const eb__or_enroll_roles[] = {"administrator", "proctor", "student", "teacher", NULL};
static const char *const status_tokens[] = {"active", "tobedeleted", NULL};
static const char *const class_types[] = {"homeroom", "scheduled", NULL};
static const char *const sexes[] = {"male", "female", NULL};
static const char *const score_statuses[] = {"exempt",           "fully graded", "not submitted",
                                             "partially graded", "submitted",    NULL};
static const char *const importances[] = {"primary", "secondary", NULL};
/* §1.5: CEDS v5 Entry Grade Level. */
static const char *const grades[] = {"IT", "PR", "PK", "TK", "KG",    "01", "02", "03",
                                     "04", "05", "06", "07", "08",    "09", "10", "11",
                                     "12", "13", "PS", "UG", "Other", NULL};

#define R     1
#define O     0
#define NOREF -1
#define COMMON                                                                                     \
    {"sourcedId", R, OR_T_ID, NOREF, OR_RC_NONE, NULL},                                            \
        {"status", O, OR_T_STATUS, NOREF, OR_RC_NONE, status_tokens},                              \
    {                                                                                              \
        "dateLastModified", O, OR_T_DATETIME, NOREF, OR_RC_NONE, NULL                              \
    }
#define COL(name, req, type)                                                                       \
    {                                                                                              \
        name, req, type, NOREF, OR_RC_NONE, NULL                                                   \
    }
#define ENUM(name, req, tokens)                                                                    \
    {                                                                                              \
        name, req, OR_T_ENUM, NOREF, OR_RC_NONE, tokens                                            \
    }
#define REF(name, req, type, target, check)                                                        \
    {                                                                                              \
        name, req, type, target, check, NULL                                                       \
    }

static const struct eb__or_col orgs_cols[] = {
    COMMON,
    COL("name", R, OR_T_STRING),
    ENUM("type", R, eb__or_org_types),
    COL("identifier", O, OR_T_STRING),
    REF("parentSourcedId", O, OR_T_REF, EB_OR_ORGS, OR_RC_NONE),
};
static const struct eb__or_col sessions_cols[] = {
    COMMON,
    COL("title", R, OR_T_STRING),
    ENUM("type", R, eb__or_session_types),
    COL("startDate", R, OR_T_DATE),
    COL("endDate", R, OR_T_DATE),
    REF("parentSourcedId", O, OR_T_REF, EB_OR_ACADEMIC_SESSIONS, OR_RC_NONE),
    COL("schoolYear", R, OR_T_YEAR),
};
static const struct eb__or_col categories_cols[] = {
    COMMON,
    COL("title", R, OR_T_STRING),
};
static const struct eb__or_col courses_cols[] = {
    COMMON,
    REF("schoolYearSourcedId", O, OR_T_REF, EB_OR_ACADEMIC_SESSIONS, OR_RC_SCHOOL_YEAR),
    COL("title", R, OR_T_STRING),
    COL("courseCode", O, OR_T_STRING),
    COL("grades", O, OR_T_GRADES),
    REF("orgSourcedId", R, OR_T_REF, EB_OR_ORGS, OR_RC_NONE),
    COL("subjects", O, OR_T_STR_LIST),
    COL("subjectCodes", O, OR_T_STR_LIST),
};
static const struct eb__or_col classes_cols[] = {
    COMMON,
    COL("title", R, OR_T_STRING),
    COL("grades", O, OR_T_GRADES),
    REF("courseSourcedId", R, OR_T_REF, EB_OR_COURSES, OR_RC_NONE),
    COL("classCode", O, OR_T_STRING),
    ENUM("classType", R, class_types),
    COL("location", O, OR_T_STRING),
    REF("schoolSourcedId", R, OR_T_REF, EB_OR_ORGS, OR_RC_SCHOOL),
    REF("termSourcedIds", R, OR_T_REF_LIST, EB_OR_ACADEMIC_SESSIONS, OR_RC_NONE),
    COL("subjects", O, OR_T_STR_LIST),
    COL("subjectCodes", O, OR_T_STR_LIST),
    COL("periods", O, OR_T_STR_LIST),
};
static const struct eb__or_col users_cols[] = {
    COMMON,
    COL("enabledUser", R, OR_T_BOOL),
    REF("orgSourcedIds", R, OR_T_REF_LIST, EB_OR_ORGS, OR_RC_NONE),
    ENUM("role", R, eb__or_user_roles),
    COL("username", R, OR_T_STRING),
    COL("userIds", O, OR_T_USER_IDS),
    COL("givenName", R, OR_T_STRING),
    COL("familyName", R, OR_T_STRING),
    COL("middleName", O, OR_T_STRING),
    COL("identifier", O, OR_T_STRING),
    COL("email", O, OR_T_STRING),
    COL("sms", O, OR_T_STRING),
    COL("phone", O, OR_T_STRING),
    REF("agentSourcedIds", O, OR_T_REF_LIST, EB_OR_USERS, OR_RC_NONE),
    COL("grades", O, OR_T_GRADES),
    COL("password", O, OR_T_STRING),
};
static const struct eb__or_col demographics_cols[] = {
    /* The sourcedId is the user's (§1.8 demographics.sourcedId -> users). */
    REF("sourcedId", R, OR_T_ID, EB_OR_USERS, OR_RC_NONE),
    {"status", O, OR_T_STATUS, NOREF, OR_RC_NONE, status_tokens},
    COL("dateLastModified", O, OR_T_DATETIME),
    COL("birthDate", O, OR_T_DATE),
    ENUM("sex", O, sexes),
    COL("americanIndianOrAlaskaNative", O, OR_T_BOOL),
    COL("asian", O, OR_T_BOOL),
    COL("blackOrAfricanAmerican", O, OR_T_BOOL),
    COL("nativeHawaiianOrOtherPacificIslander", O, OR_T_BOOL),
    COL("white", O, OR_T_BOOL),
    COL("demographicRaceTwoOrMoreRaces", O, OR_T_BOOL),
    COL("hispanicOrLatinoEthnicity", O, OR_T_BOOL),
    COL("countryOfBirthCode", O, OR_T_STRING),
    COL("stateOfBirthAbbreviation", O, OR_T_STRING),
    COL("cityOfBirth", O, OR_T_STRING),
    COL("publicSchoolResidenceStatus", O, OR_T_STRING),
};
static const struct eb__or_col enrollments_cols[] = {
    COMMON,
    REF("classSourcedId", R, OR_T_REF, EB_OR_CLASSES, OR_RC_NONE),
    REF("schoolSourcedId", R, OR_T_REF, EB_OR_ORGS, OR_RC_SCHOOL),
    REF("userSourcedId", R, OR_T_REF, EB_OR_USERS, OR_RC_ENROLL_ROLE),
    ENUM("role", R, eb__or_enroll_roles),
    COL("primary", O, OR_T_BOOL),
    COL("beginDate", O, OR_T_DATE),
    COL("endDate", O, OR_T_DATE),
};
/* The gradebook and resource files are [M] in §1.6 (column lists from memory of the spec). */
static const struct eb__or_col resources_cols[] = {
    COMMON,
    COL("vendorResourceId", R, OR_T_STRING),
    COL("title", O, OR_T_STRING),
    {"roles", O, OR_T_ENUM_LIST, NOREF, OR_RC_NONE, eb__or_user_roles},
    ENUM("importance", O, importances),
    COL("vendorId", O, OR_T_STRING),
    COL("applicationId", O, OR_T_STRING),
};
static const struct eb__or_col class_resources_cols[] = {
    COMMON,
    COL("title", O, OR_T_STRING),
    REF("classSourcedId", R, OR_T_REF, EB_OR_CLASSES, OR_RC_NONE),
    REF("resourceSourcedId", R, OR_T_REF, EB_OR_RESOURCES, OR_RC_NONE),
};
static const struct eb__or_col course_resources_cols[] = {
    COMMON,
    COL("title", O, OR_T_STRING),
    REF("courseSourcedId", R, OR_T_REF, EB_OR_COURSES, OR_RC_NONE),
    REF("resourceSourcedId", R, OR_T_REF, EB_OR_RESOURCES, OR_RC_NONE),
};
static const struct eb__or_col line_items_cols[] = {
    COMMON,
    COL("title", R, OR_T_STRING),
    COL("description", O, OR_T_STRING),
    COL("assignDate", R, OR_T_DATE),
    COL("dueDate", R, OR_T_DATE),
    REF("classSourcedId", R, OR_T_REF, EB_OR_CLASSES, OR_RC_NONE),
    REF("categorySourcedId", R, OR_T_REF, EB_OR_CATEGORIES, OR_RC_NONE),
    REF("gradingPeriodSourcedId", R, OR_T_REF, EB_OR_ACADEMIC_SESSIONS, OR_RC_NONE),
    COL("resultValueMin", R, OR_T_NUMBER),
    COL("resultValueMax", R, OR_T_NUMBER),
};
static const struct eb__or_col results_cols[] = {
    COMMON,
    REF("lineItemSourcedId", R, OR_T_REF, EB_OR_LINE_ITEMS, OR_RC_NONE),
    REF("studentSourcedId", R, OR_T_REF, EB_OR_USERS, OR_RC_NONE),
    ENUM("scoreStatus", R, score_statuses),
    COL("score", R, OR_T_NUMBER),
    COL("scoreDate", R, OR_T_DATE),
    COL("comment", O, OR_T_STRING),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
const struct eb__or_filespec eb__or_files[EB_OR_N_FILES] = {
    [EB_OR_ORGS] = {"orgs.csv", "file.orgs", orgs_cols, N(orgs_cols), EB_OR_ORGS_TYPE, -1, -1},
    [EB_OR_ACADEMIC_SESSIONS] = {"academicSessions.csv", "file.academicSessions", sessions_cols,
                                 N(sessions_cols), EB_OR_SESSIONS_TYPE, EB_OR_SESSIONS_START_DATE,
                                 EB_OR_SESSIONS_END_DATE},
    [EB_OR_CATEGORIES] = {"categories.csv", "file.categories", categories_cols, N(categories_cols),
                          -1, -1, -1},
    [EB_OR_COURSES] = {"courses.csv", "file.courses", courses_cols, N(courses_cols), -1, -1, -1},
    [EB_OR_CLASSES] = {"classes.csv", "file.classes", classes_cols, N(classes_cols), -1, -1, -1},
    [EB_OR_USERS] = {"users.csv", "file.users", users_cols, N(users_cols), EB_OR_USERS_ROLE, -1,
                     -1},
    [EB_OR_DEMOGRAPHICS] = {"demographics.csv", "file.demographics", demographics_cols,
                            N(demographics_cols), -1, -1, -1},
    [EB_OR_ENROLLMENTS] = {"enrollments.csv", "file.enrollments", enrollments_cols,
                           N(enrollments_cols), -1, EB_OR_ENROLLMENTS_BEGIN_DATE,
                           EB_OR_ENROLLMENTS_END_DATE},
    [EB_OR_RESOURCES] = {"resources.csv", "file.resources", resources_cols, N(resources_cols), -1,
                         -1, -1},
    [EB_OR_CLASS_RESOURCES] = {"classResources.csv", "file.classResources", class_resources_cols,
                               N(class_resources_cols), -1, -1, -1},
    [EB_OR_COURSE_RESOURCES] = {"courseResources.csv", "file.courseResources",
                                course_resources_cols, N(course_resources_cols), -1, -1, -1},
    [EB_OR_LINE_ITEMS] = {"lineItems.csv", "file.lineItems", line_items_cols, N(line_items_cols),
                          -1, 5, 6},
    [EB_OR_RESULTS] = {"results.csv", "file.results", results_cols, N(results_cols), -1, -1, -1},
};

const char *eb_or_file_name(enum eb_or_file f)
{
    return (unsigned)f < EB_OR_N_FILES ? eb__or_files[f].csv : NULL;
}

const char *eb_or_mode_name(enum eb_or_mode m)
{
    return m == EB_OR_BULK ? "bulk" : m == EB_OR_DELTA ? "delta" : "absent";
}

int eb_or_column_index(enum eb_or_file f, const char *name)
{
    if ((unsigned)f >= EB_OR_N_FILES || !name)
        return -1;
    const struct eb__or_filespec *s = &eb__or_files[f];
    for (size_t i = 0; i < s->n_cols; i++)
        if (strcmp(s->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

size_t eb_or_column_count(enum eb_or_file f)
{
    return (unsigned)f < EB_OR_N_FILES ? eb__or_files[f].n_cols : 0;
}

const char *eb_or_column_name(enum eb_or_file f, size_t i)
{
    if ((unsigned)f >= EB_OR_N_FILES || i >= eb__or_files[f].n_cols)
        return NULL;
    return eb__or_files[f].cols[i].name;
}

int eb_or_bool(const char *value)
{
    if (!value)
        return -1;
    if (strcasecmp(value, "true") == 0)
        return 1;
    if (strcasecmp(value, "false") == 0)
        return 0;
    return -1;
}

int eb__or_token(const char *const *tokens, const char *value, int *ci)
{
    *ci = -1;
    for (int i = 0; tokens[i]; i++) {
        if (strcmp(tokens[i], value) == 0)
            return i;
        if (*ci < 0 && strcasecmp(tokens[i], value) == 0)
            *ci = i;
    }
    return -1;
}

/* "a | b | c" for a message; truncated silently past the buffer. */
static const char *token_list(const char *const *tokens, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; tokens[i] && len < cap; i++) {
        int n = snprintf(out + len, cap - len, "%s%s", i ? " | " : "", tokens[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return out;
}

/* ---- Header ---- */

void eb__or_header_free(struct eb__or_header *h)
{
    eb_free(h->map);
    h->map = NULL;
}

static void add(struct eb_or_report *r, enum eb__or_code code, enum eb_or_file f, long line,
                const char *column, const char *value, size_t vlen, const char *detail)
{
    if (r)
        eb__or_add(r, code, (int)f, NULL, line, column, value, vlen, detail);
}

void eb__or_header_check(enum eb_or_file f, size_t n, const char *const *fields, const size_t *lens,
                         struct eb__or_header *h, struct eb_or_report *r)
{
    const struct eb__or_filespec *s = &eb__or_files[f];
    h->map = eb_xmalloc((n ? n : 1) * sizeof(*h->map));
    h->n = n;
    for (size_t c = 0; c < OR_MAX_COLS; c++)
        h->pos[c] = -1;
    for (size_t i = 0; i < n; i++) {
        h->map[i] = -1;
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = lens[j] == lens[i] && memcmp(fields[j], fields[i], lens[i]) == 0;
        if (dup) {
            /* §1.2 rule 4: header names are unique within a file. */
            add(r, OR_HEADER_DUPLICATE, f, 1, fields[i], fields[i], lens[i], NULL);
            continue;
        }
        int exact = -1, folded = -1;
        for (size_t c = 0; c < s->n_cols; c++) {
            if (strcmp(s->cols[c].name, fields[i]) == 0)
                exact = (int)c;
            else if (folded < 0 && strcasecmp(s->cols[c].name, fields[i]) == 0)
                folded = (int)c;
        }
        if (exact >= 0 && h->pos[exact] < 0) {
            h->pos[exact] = (int)i;
            h->map[i] = exact;
        } else if (exact < 0 && folded >= 0 && h->pos[folded] < 0) {
            /* Headers are case-sensitive (§1.2 rule 4); the column is still read so that its
             * values get checked too. */
            add(r, OR_HEADER_CASE, f, 1, s->cols[folded].name, fields[i], lens[i],
                s->cols[folded].name);
            h->pos[folded] = (int)i;
            h->map[i] = folded;
        } else if (strncmp(fields[i], "metadata.", 9) != 0) {
            add(r, OR_UNKNOWN_COLUMN, f, 1, fields[i], fields[i], lens[i], NULL);
        }
    }
    for (size_t c = 0; c < s->n_cols; c++)
        if (h->pos[c] < 0)
            add(r, OR_MISSING_COLUMN, f, 1, s->cols[c].name, NULL, 0,
                s->cols[c].required ? "R" : "O");
    /* §1.2 rule 5: the defined columns in the table's order, extensions only to their right. */
    int last = -1, seen_ext = 0;
    for (size_t i = 0; i < n; i++) {
        if (h->map[i] < 0) {
            seen_ext = 1;
            continue;
        }
        if (h->map[i] < last || seen_ext) {
            char order[1024];
            size_t len = 0;
            order[0] = '\0';
            for (size_t c = 0; c < s->n_cols && len < sizeof(order); c++) {
                int k = snprintf(order + len, sizeof(order) - len, "%s%s", c ? "," : "",
                                 s->cols[c].name);
                if (k < 0)
                    break;
                len += (size_t)k;
            }
            add(r, OR_HEADER_ORDER, f, 1, fields[i], fields[i], lens[i], order);
            break;
        }
        last = h->map[i];
    }
    h->usable = h->pos[0] >= 0;
}

/* ---- Values ---- */

static int digits(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return 0;
    return 1;
}

static int num(const char *v, size_t n)
{
    int x = 0;
    for (size_t i = 0; i < n; i++)
        x = x * 10 + (v[i] - '0');
    return x;
}

int eb__or_is_date(const char *v, size_t len)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (len != 10 || v[4] != '-' || v[7] != '-' || !digits(v, 4) || !digits(v + 5, 2) ||
        !digits(v + 8, 2))
        return 0;
    int y = num(v, 4), m = num(v + 5, 2), d = num(v + 8, 2);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* §1.5: YYYY-MM-DDThh:mm:ss[.s{1,9}]Z (UTC). The spec's example has milliseconds; fewer or
 * more fraction digits and none at all are still ISO 8601 UTC, so they are accepted. */
static int is_datetime(const char *v, size_t len)
{
    if (len < 20 || !eb__or_is_date(v, 10) || v[10] != 'T' || v[13] != ':' || v[16] != ':' ||
        !digits(v + 11, 2) || !digits(v + 14, 2) || !digits(v + 17, 2) || v[len - 1] != 'Z')
        return 0;
    if (num(v + 11, 2) > 23 || num(v + 14, 2) > 59 || num(v + 17, 2) > 60)
        return 0;
    if (len == 20)
        return 1;
    size_t frac = len - 21; /* digits between '.' and 'Z' */
    return v[19] == '.' && frac >= 1 && frac <= 9 && digits(v + 20, frac);
}

static int is_number(const char *v)
{
    char *end = NULL;
    if (v[0] == ' ' || v[0] == '\t')
        return 0;
    double d = strtod(v, &end);
    return end != v && *end == '\0' && isfinite(d);
}

/* §1.5 userIds: {type:identifier} items separated by commas. */
static int is_user_ids(const char *v, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (v[i++] != '{')
            return 0;
        size_t t = i;
        while (i < len && v[i] != ':' && v[i] != '}' && v[i] != '{' && v[i] != ',')
            i++;
        if (i == t || i >= len || v[i] != ':')
            return 0;
        size_t id = ++i;
        while (i < len && v[i] != '}' && v[i] != '{')
            i++;
        if (i == id || i >= len || v[i] != '}')
            return 0;
        i++;
        if (i < len && v[i++] != ',')
            return 0;
        if (i == len && v[len - 1] == ',')
            return 0;
    }
    return 1;
}

size_t eb__or_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t k;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 2;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 3;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (k >= n)
        return 0;
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[j] & 0x3F);
    }
    /* Overlong forms, surrogates and code points past U+10FFFF are invalid (RFC 3629). */
    if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return k + 1;
}

/* 0 for valid UTF-8 without NUL or line breaks, else the finding's code. */
static int text_problem(const unsigned char *s, size_t n)
{
    int nl = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == 0)
                return OR_NUL_BYTE;
            if (c == '\n' || c == '\r')
                nl = 1;
            i++;
            continue;
        }
        size_t k = eb__or_utf8_seq(s + i, n - i);
        if (k == 0)
            return OR_INVALID_UTF8;
        i += k;
    }
    return nl ? OR_NEWLINE_IN_FIELD : 0;
}

static int id_charset_ok(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static void check_token(struct eb_or_report *r, enum eb_or_file f, long line,
                        const struct eb__or_col *col, const char *v, size_t len)
{
    int ci;
    if (eb__or_token(col->tokens, v, &ci) >= 0)
        return;
    if (ci >= 0) {
        add(r, OR_ENUM_CASE, f, line, col->name, v, len, col->tokens[ci]);
    } else {
        char list[512];
        add(r, OR_ENUM_VALUE, f, line, col->name, v, len,
            token_list(col->tokens, list, sizeof(list)));
    }
}

/* Checks every comma-separated item of a grades or enumeration list (§1.5 "List of strings"). */
static void each_item(struct eb_or_report *r, enum eb_or_file f, long line,
                      const struct eb__or_col *col, const char *v, size_t len)
{
    char item[512];
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && v[i] != ',')
            continue;
        size_t n = i - start;
        const char *p = v + start;
        start = i + 1;
        if (n == 0) {
            add(r, OR_LIST_EMPTY_ITEM, f, line, col->name, v, len, NULL);
            continue;
        }
        if (n >= sizeof(item))
            n = sizeof(item) - 1;
        memcpy(item, p, n);
        item[n] = '\0';
        int ci;
        if (col->type == OR_T_GRADES) {
            if (eb__or_token(grades, item, &ci) < 0)
                add(r, OR_GRADE_VALUE, f, line, col->name, item, n, NULL);
        } else if (col->type == OR_T_ENUM_LIST) {
            check_token(r, f, line, col, item, n);
        }
    }
}

int eb__or_check_value(struct eb_or_report *r, enum eb_or_file f, long line,
                       const struct eb__or_col *col, const char *v, size_t len)
{
    int problem = text_problem((const unsigned char *)v, len);
    if (problem) {
        add(r, (enum eb__or_code)problem, f, line, col->name, v, len, NULL);
        return -1;
    }
    int ci;
    switch ((enum eb__or_type)col->type) {
    case OR_T_STRING:
    case OR_T_REF:
    case OR_T_STR_LIST:
        break;
    case OR_T_ID:
        /* §1.5: vendors cap ids at 255 characters and recommend [A-Za-z0-9._-]. */
        if (len > 255)
            add(r, OR_ID_LENGTH, f, line, col->name, v, len, NULL);
        if (!id_charset_ok(v, len))
            add(r, OR_ID_CHARSET, f, line, col->name, v, len, NULL);
        break;
    case OR_T_REF_LIST:
        if (v[0] == ',' || v[len - 1] == ',' || memmem(v, len, ",,", 2)) {
            add(r, OR_LIST_EMPTY_ITEM, f, line, col->name, v, len, NULL);
            return -1;
        }
        break;
    case OR_T_STATUS:
        if (eb__or_token(col->tokens, v, &ci) >= 0)
            break;
        if (strcmp(v, "inactive") == 0)
            add(r, OR_STATUS_INACTIVE, f, line, col->name, v, len, NULL);
        else
            check_token(r, f, line, col, v, len);
        return -1;
    case OR_T_DATETIME:
        if (!is_datetime(v, len)) {
            add(r, OR_BAD_DATETIME, f, line, col->name, v, len, NULL);
            return -1;
        }
        break;
    case OR_T_DATE:
        if (!eb__or_is_date(v, len)) {
            add(r, OR_BAD_DATE, f, line, col->name, v, len, NULL);
            return -1;
        }
        break;
    case OR_T_YEAR:
        if (len != 4 || !digits(v, 4)) {
            add(r, OR_BAD_YEAR, f, line, col->name, v, len, NULL);
            return -1;
        }
        break;
    case OR_T_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
            break;
        if (eb_or_bool(v) >= 0) {
            /* §1.5: Excel writes TRUE; accepted with a warning. */
            add(r, OR_BOOL_CASE, f, line, col->name, v, len, eb_or_bool(v) ? "true" : "false");
            break;
        }
        add(r, OR_BAD_BOOL, f, line, col->name, v, len, NULL);
        return -1;
    case OR_T_ENUM:
        if (eb__or_token(col->tokens, v, &ci) >= 0)
            break;
        check_token(r, f, line, col, v, len);
        return -1;
    case OR_T_ENUM_LIST:
    case OR_T_GRADES:
        each_item(r, f, line, col, v, len);
        break;
    case OR_T_USER_IDS:
        if (!is_user_ids(v, len)) {
            add(r, OR_BAD_USER_IDS, f, line, col->name, v, len, NULL);
            return -1;
        }
        break;
    case OR_T_NUMBER:
        if (!is_number(v)) {
            add(r, OR_BAD_NUMBER, f, line, col->name, v, len, NULL);
            return -1;
        }
        break;
    }
    return 0;
}
