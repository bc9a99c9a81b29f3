/* Roster templates: columns, row validation into a report, and the one-transaction write. */
#include "roster/roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/err.h"
#include "json/json.h"
#include "registry/registry_ids.h"
#include "sheet/sheet.h"

#define MAX_KEPT 500

/* ---- templates -------------------------------------------------------------------------- */

enum {
    C_NAME,
    C_SEX,
    C_BIRTH,
    C_CID,
    C_SNO,
    C_CLASS,
    C_START,
    C_PHONE,
    C_STAFF_NO,
    C_TITLE,
    C_SUBJECTS,
    C_CLASSES,
    C_HEAD,
    C_N
};

static const struct eb_roster_column student_cols[] = {
    {"姓名", "name", 1, "学生姓名"},
    {"性别", "sex", 1, "男 或 女"},
    {"出生日期", "birth_date", 1, "如 2015-09-01"},
    {"身份证号", "citizen_id", 0, "18 位，末位可为 X；请将此列设为文本"},
    {"学籍号", "student_no", 0, "G + 身份证号，或 J/L 开头的临时学籍号"},
    {"班级", "class", 1, "与系统中的班级名称一致，如 三年级(1)班"},
    {"入学日期", "start_date", 0, "编入该班的日期，留空为导入当天"},
    {"联系电话", "phone", 0, "数字、+ 和 -"},
};
static const int student_map[] = {C_NAME, C_SEX, C_BIRTH, C_CID, C_SNO, C_CLASS, C_START, C_PHONE};

static const struct eb_roster_column teacher_cols[] = {
    {"姓名", "name", 1, "教职工姓名"},
    {"性别", "sex", 1, "男 或 女"},
    {"出生日期", "birth_date", 1, "如 1990-05-04"},
    {"身份证号", "citizen_id", 0, "18 位，末位可为 X；请将此列设为文本"},
    {"教师工号", "staff_no", 0, "本校工号"},
    {"岗位", "title", 1, "如 专任教师、校长、教务主任"},
    {"任教学科", "subjects", 0, "多个学科用顿号分隔，如 语文、道德与法治"},
    {"任教班级", "classes", 0, "多个班级用顿号分隔，如 三年级(1)班、三年级(2)班"},
    {"班主任班级", "head_class", 0, "担任班主任的班级，一个"},
    {"入职日期", "start_date", 0, "到本校任职的日期，留空为导入当天"},
    {"联系电话", "phone", 0, "数字、+ 和 -"},
};
static const int teacher_map[] = {C_NAME,     C_SEX,     C_BIRTH, C_CID,   C_STAFF_NO, C_TITLE,
                                  C_SUBJECTS, C_CLASSES, C_HEAD,  C_START, C_PHONE};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

int eb_roster_kind_parse(const char *name)
{
    if (name && strcmp(name, "students") == 0)
        return EB_ROSTER_STUDENTS;
    if (name && strcmp(name, "teachers") == 0)
        return EB_ROSTER_TEACHERS;
    return -1;
}

const struct eb_roster_column *eb_roster_columns(enum eb_roster_kind kind, size_t *n)
{
    *n = kind == EB_ROSTER_STUDENTS ? N_OF(student_cols) : N_OF(teacher_cols);
    return kind == EB_ROSTER_STUDENTS ? student_cols : teacher_cols;
}

/* ---- findings ----------------------------------------------------------------------------- */

enum sev { ERR, WARN };

/* The catalogue: one severity and message per code. {c} column, {v} value, {d} detail. */
static const struct {
    const char *code;
    enum sev sev;
    const char *zh, *en;
} codes[] = {
#define F_UNREADABLE 0
    {"unreadable", ERR, "无法读取文件：{d}", "cannot read the file: {d}"},
#define F_EMPTY 1
    {"empty", ERR, "文件没有表头行", "the file has no header row"},
#define F_MISSING_COLUMN 2
    {"missing_column", ERR, "缺少必填列“{c}”", "the required column '{c}' is missing"},
#define F_DUPLICATE_COLUMN 3
    {"duplicate_column", ERR, "列“{c}”出现了两次", "the column '{c}' appears twice"},
#define F_UNKNOWN_COLUMN 4
    {"unknown_column", WARN, "未知的列“{c}”，已忽略", "unknown column '{c}', ignored"},
#define F_REQUIRED 5
    {"required", ERR, "“{c}”不能为空", "'{c}' must not be empty"},
#define F_BAD_SEX 6
    {"bad_sex", ERR, "性别应为“男”或“女”，而不是“{v}”", "sex must be 男 or 女, not '{v}'"},
#define F_BAD_DATE 7
    {"bad_date", ERR, "“{c}”不是有效日期：“{v}”（应为 YYYY-MM-DD）",
     "'{c}' is not a valid date: '{v}' (expected YYYY-MM-DD)"},
#define F_BAD_CITIZEN_ID 8
    {"bad_citizen_id", ERR, "身份证号“{v}”无效：{d}", "the citizen ID '{v}' is invalid: {d}"},
#define F_ID_AS_NUMBER 9
    {"id_as_number", ERR, "身份证号被 Excel 转成了数字“{v}”，请把该列设为文本后重新填写",
     "Excel turned the citizen ID into the number '{v}': format the column as text and type it "
     "again"},
#define F_BIRTH_MISMATCH 10
    {"birth_mismatch", ERR, "出生日期与身份证号中的出生日期（{d}）不一致",
     "the date of birth differs from the one in the citizen ID ({d})"},
#define F_SEX_MISMATCH 11
    {"sex_mismatch", ERR, "性别与身份证号不一致", "the sex differs from the citizen ID"},
#define F_BAD_STUDENT_NO 12
    {"bad_student_no", ERR, "学籍号“{v}”无效：{d}", "the student number '{v}' is invalid: {d}"},
#define F_BAD_PHONE 13
    {"bad_phone", ERR, "联系电话“{v}”只能包含数字、+ 和 -（5 到 20 位）",
     "the phone '{v}' may hold digits, + and - only (5 to 20)"},
#define F_TOO_LONG 14
    {"too_long", ERR, "“{c}”过长（最多 {d} 个字节）", "'{c}' is too long (at most {d} bytes)"},
#define F_DUPLICATE_IN_FILE 15
    {"duplicate_in_file", ERR, "“{c}”为“{v}”的人员在第 {d} 行已出现",
     "the person with {c} '{v}' already appears on line {d}"},
#define F_CLASS_NOT_FOUND 16
    {"class_not_found", ERR, "本校没有名为“{v}”的在用班级",
     "the school has no open class named '{v}'"},
#define F_ALREADY_HERE 17
    {"already_here", WARN, "该人员已在本校登记，跳过",
     "already registered at this school: skipped"},
#define F_ELSEWHERE 18
    {"registered_elsewhere", ERR, "该人员已在本市其他学校登记，请走学籍异动（转学）流程",
     "registered at another school of the city: use a transfer instead"},
#define F_SUBJECT_NEEDED 19
    {"subject_needed", ERR, "填写了任教班级时，任教学科不能为空",
     "the subjects must be given when classes taught are"},
#define F_WRITE_FAILED 20
    {"write_failed", ERR, "写入失败：{d}，整份名册未导入",
     "writing failed: {d}; nothing was imported"},
#define F_NO_ROWS 21
    {"no_rows", ERR, "表头之后没有数据行", "there are no data rows after the header"},
};

struct finding {
    int code;
    long line;
    const char *column, *value, *detail;
    const char *detail_zh; /* NULL: the same detail in both languages */
};

/* One data row, trimmed, in template column order (C_*). */
struct row {
    long line;
    const char *v[C_N];
    int bad; /* the row has an error */
    enum eb_registered reg;
    int64_t class_id, head_class_id;
    int64_t *teach_class_ids;
    size_t n_teach;
    const char *first_subject;
};

struct imp {
    struct eb_arena *a;
    enum eb_roster_kind kind;
    const struct eb_roster_column *cols;
    const int *map;
    size_t n_cols;
    int header_done;
    int col_of[EB_SHEET_MAX_COLS]; /* file column -> C_* or -1 */
    long header_line;
    struct row *rows;
    size_t n_rows, cap_rows;
    struct finding *f;
    size_t n_f, cap_f;
    size_t errors, warnings;
};

static void add(struct imp *m, int code, long line, const char *column, const char *value,
                const char *detail)
{
    if (codes[code].sev == ERR)
        m->errors++;
    else
        m->warnings++;
    if (m->n_f == MAX_KEPT)
        return;
    m->f = eb_arena_grow(m->a, m->f, m->n_f, &m->cap_f, sizeof(*m->f));
    if (m->f == NULL)
        return;
    m->f[m->n_f++] = (struct finding){
        code, line, column ? column : "", value ? value : "", detail ? detail : "", NULL};
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Trims ASCII blanks and the ideographic space U+3000 (E3 80 80) that Chinese input adds. */
static const char *trim(struct eb_arena *a, const char *s, size_t len)
{
    size_t b = 0, e = len;
    for (;;) {
        if (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n'))
            b++;
        else if (e - b >= 3 && memcmp(s + b, "\xE3\x80\x80", 3) == 0)
            b += 3;
        else
            break;
    }
    for (;;) {
        if (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n'))
            e--;
        else if (e - b >= 3 && memcmp(s + e - 3, "\xE3\x80\x80", 3) == 0)
            e -= 3;
        else
            break;
    }
    return eb_arena_strndup(a, s + b, e - b);
}

static const char *header_name(struct imp *m, int c)
{
    for (size_t i = 0; i < m->n_cols; i++)
        if (m->map[i] == c)
            return m->cols[i].header;
    return "";
}

static void read_header(struct imp *m, long line, size_t n, const char *const *fields,
                        const size_t *lens)
{
    int present[C_N] = {0};
    m->header_done = 1;
    m->header_line = line;
    for (size_t i = 0; i < EB_SHEET_MAX_COLS; i++)
        m->col_of[i] = -1;
    for (size_t i = 0; i < n && i < EB_SHEET_MAX_COLS; i++) {
        const char *h = trim(m->a, fields[i], lens[i]);
        size_t hl = strlen(h);
        /* Templates mark required columns with a trailing asterisk. */
        while (hl > 0 && h[hl - 1] == '*')
            hl--;
        if (hl >= 3 && memcmp(h + hl - 3, "\xEF\xBC\x8A", 3) == 0) /* full-width ＊ */
            hl -= 3;
        if (hl == 0)
            continue;
        int found = -1;
        for (size_t k = 0; k < m->n_cols; k++) {
            const char *zh = m->cols[k].header, *en = m->cols[k].key;
            if ((strlen(zh) == hl && memcmp(h, zh, hl) == 0) ||
                (strlen(en) == hl && memcmp(h, en, hl) == 0))
                found = m->map[k];
        }
        if (found < 0) {
            add(m, F_UNKNOWN_COLUMN, line, eb_arena_strndup(m->a, h, hl), NULL, NULL);
            continue;
        }
        if (present[found]++) {
            add(m, F_DUPLICATE_COLUMN, line, header_name(m, found), NULL, NULL);
            continue;
        }
        m->col_of[i] = found;
    }
    for (size_t k = 0; k < m->n_cols; k++)
        if (m->cols[k].required && !present[m->map[k]])
            add(m, F_MISSING_COLUMN, line, m->cols[k].header, NULL, NULL);
}

static int on_row(void *ud, long line, size_t n, const char *const *fields, const size_t *lens)
{
    struct imp *m = ud;
    int blank = 1;
    for (size_t i = 0; i < n && blank; i++)
        for (size_t k = 0; k < lens[i] && blank; k++)
            blank = fields[i][k] == ' ' || fields[i][k] == '\t';
    if (blank)
        return 0; /* blank rows between entries are common in Excel */
    if (!m->header_done) {
        read_header(m, line, n, fields, lens);
        return 0;
    }
    m->rows = eb_arena_grow(m->a, m->rows, m->n_rows, &m->cap_rows, sizeof(*m->rows));
    if (m->rows == NULL)
        return EB_ETOOBIG;
    struct row *r = &m->rows[m->n_rows++];
    memset(r, 0, sizeof(*r));
    r->line = line;
    for (size_t i = 0; i < n && i < EB_SHEET_MAX_COLS; i++)
        if (m->col_of[i] >= 0)
            r->v[m->col_of[i]] = trim(m->a, fields[i], lens[i]);
    for (int k = 0; k < C_N; k++)
        if (r->v[k] && r->v[k][0] == '\0')
            r->v[k] = NULL;
    return 0;
}

/* ---- checking a row ----------------------------------------------------------------------- */

/* YYYY-MM-DD from what a school types or Excel stores: 2015-09-01, 2015/9/1, 2015.9.1,
 * 20150901, or a date cell's serial number. NULL when it is none of those. */
static const char *norm_date(struct eb_arena *a, const char *v)
{
    char out[11];
    int y = 0, mo = 0, d = 0, used = 0;
    size_t n = strlen(v);
    if (n == 8 && strspn(v, "0123456789") == 8 && sscanf(v, "%4d%2d%2d", &y, &mo, &d) == 3) {
        /* 20150901 */
    } else if (sscanf(v, "%4d%*1[-/.]%2d%*1[-/.]%2d%n", &y, &mo, &d, &used) == 3 &&
               (size_t)used == n) {
        /* 2015-9-1 and the like */
    } else if (eb_sheet_serial_date(v, out) == 0) {
        return eb_arena_strdup(a, out);
    } else {
        return NULL;
    }
    snprintf(out, sizeof(out), "%04d-%02d-%02d", y, mo, d);
    return eb_date_check(out, NULL) == 0 ? eb_arena_strdup(a, out) : NULL;
}

static int valid_phone(const char *p)
{
    size_t n = strlen(p);
    if (n < 5 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (i == 0 && p[i] == '+') || p[i] == '-'))
            return 0;
    return 1;
}

/* Scientific notation or a long plain number: what Excel makes of an 18-digit number typed
 * into a general cell (it keeps 15 significant digits). */
static int looks_numeric_id(const char *v)
{
    return strchr(v, 'E') != NULL && strchr(v, '+') != NULL &&
           strspn(v, "0123456789.E+") == strlen(v);
}

static void check_len(struct imp *m, struct row *r, int c, size_t max)
{
    if (r->v[c] && strlen(r->v[c]) > max) {
        add(m, F_TOO_LONG, r->line, header_name(m, c), NULL, eb_arena_printf(m->a, "%zu", max));
        r->bad = 1;
    }
}

static void check_row(struct imp *m, struct row *r)
{
    const char *why = NULL;
    for (size_t k = 0; k < m->n_cols; k++) {
        if (m->cols[k].required && r->v[m->map[k]] == NULL) {
            add(m, F_REQUIRED, r->line, m->cols[k].header, NULL, NULL);
            r->bad = 1;
        }
    }
    check_len(m, r, C_NAME, 60);
    check_len(m, r, C_TITLE, 100);
    check_len(m, r, C_SUBJECTS, 200);
    check_len(m, r, C_STAFF_NO, 32);
    enum eb_sex sex = EB_SEX_UNKNOWN;
    if (r->v[C_SEX]) {
        const char *s = r->v[C_SEX];
        if (strcmp(s, "男") == 0 || strcmp(s, "male") == 0)
            sex = EB_SEX_MALE;
        else if (strcmp(s, "女") == 0 || strcmp(s, "female") == 0)
            sex = EB_SEX_FEMALE;
        else {
            add(m, F_BAD_SEX, r->line, header_name(m, C_SEX), s, NULL);
            r->bad = 1;
        }
        r->v[C_SEX] = sex == EB_SEX_MALE ? "male" : sex == EB_SEX_FEMALE ? "female" : NULL;
    }
    static const int date_cols[] = {C_BIRTH, C_START};
    for (size_t k = 0; k < N_OF(date_cols); k++) {
        int c = date_cols[k];
        if (!r->v[c])
            continue;
        const char *d = norm_date(m->a, r->v[c]);
        if (d == NULL) {
            add(m, F_BAD_DATE, r->line, header_name(m, c), r->v[c], NULL);
            r->bad = 1;
        }
        r->v[c] = d;
    }
    if (r->v[C_CID]) {
        char *id = eb_arena_strdup(m->a, r->v[C_CID]);
        size_t n = strlen(id);
        if (n && id[n - 1] == 'x')
            id[n - 1] = 'X';
        if (looks_numeric_id(id)) {
            add(m, F_ID_AS_NUMBER, r->line, header_name(m, C_CID), id, NULL);
            r->bad = 1;
            id = NULL;
        } else if (eb_citizen_id_check(id, &why)) {
            add(m, F_BAD_CITIZEN_ID, r->line, header_name(m, C_CID), id, why);
            r->bad = 1;
            id = NULL;
        } else {
            char birth[11];
            if (r->v[C_BIRTH] && eb_citizen_id_birth(id, birth) == 0 &&
                strcmp(birth, r->v[C_BIRTH]) != 0) {
                add(m, F_BIRTH_MISMATCH, r->line, header_name(m, C_BIRTH), r->v[C_BIRTH],
                    eb_arena_strdup(m->a, birth));
                r->bad = 1;
            }
            if (sex != EB_SEX_UNKNOWN && eb_citizen_id_sex(id) != sex) {
                add(m, F_SEX_MISMATCH, r->line, header_name(m, C_SEX), NULL, NULL);
                r->bad = 1;
            }
        }
        r->v[C_CID] = id;
    }
    if (r->v[C_SNO]) {
        if (eb_student_no_check(r->v[C_SNO], &why)) {
            add(m, F_BAD_STUDENT_NO, r->line, header_name(m, C_SNO), r->v[C_SNO], why);
            r->bad = 1;
            r->v[C_SNO] = NULL;
        }
    }
    if (r->v[C_PHONE] && !valid_phone(r->v[C_PHONE])) {
        add(m, F_BAD_PHONE, r->line, header_name(m, C_PHONE), r->v[C_PHONE], NULL);
        r->bad = 1;
    }
    if (r->v[C_CLASSES] && !r->v[C_SUBJECTS]) {
        add(m, F_SUBJECT_NEEDED, r->line, header_name(m, C_SUBJECTS), NULL, NULL);
        r->bad = 1;
    }
}

/* The same citizen ID or student number on two rows: the later rows are errors naming the
 * first. Sorted pairs, so that a file of 200,000 rows costs n log n, not n squared. */
struct keyed {
    const char *key;
    struct row *row;
};

static int cmp_keyed(const void *x, const void *y)
{
    const struct keyed *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->row->line > b->row->line) - (a->row->line < b->row->line);
}

static void check_duplicates(struct imp *m, int col)
{
    struct keyed *k = eb_arena_alloc(m->a, (m->n_rows + 1) * sizeof(*k));
    size_t n = 0;
    if (k == NULL)
        return;
    for (size_t i = 0; i < m->n_rows; i++)
        if (m->rows[i].v[col])
            k[n++] = (struct keyed){m->rows[i].v[col], &m->rows[i]};
    qsort(k, n, sizeof(*k), cmp_keyed);
    for (size_t i = 1; i < n; i++) {
        size_t first = i - 1;
        while (first > 0 && strcmp(k[first - 1].key, k[i].key) == 0)
            first--;
        if (strcmp(k[first].key, k[i].key) != 0)
            continue;
        add(m, F_DUPLICATE_IN_FILE, k[i].row->line, header_name(m, col), k[i].key,
            eb_arena_printf(m->a, "%ld", k[first].row->line));
        k[i].row->bad = 1;
    }
}

/* Splits "a、b，c" on the separators a school types between items. */
static size_t split_list(struct eb_arena *a, const char *v, const char ***out)
{
    static const char *const seps[] = {
        "\xE3\x80\x81", "\xEF\xBC\x8C", "\xEF\xBC\x9B", ",", ";", "/"}; /* 、 ， ； */
    size_t cap = 0, n = 0;
    const char **items = NULL;
    const char *p = v;
    while (*p) {
        const char *next = NULL;
        size_t seplen = 0;
        for (size_t i = 0; i < N_OF(seps); i++) {
            const char *q = strstr(p, seps[i]);
            if (q && (next == NULL || q < next)) {
                next = q;
                seplen = strlen(seps[i]);
            }
        }
        size_t len = next ? (size_t)(next - p) : strlen(p);
        const char *item = trim(a, p, len);
        if (item[0]) {
            items = eb_arena_grow(a, items, n, &cap, sizeof(*items));
            if (items == NULL)
                return 0;
            items[n++] = item;
        }
        if (!next)
            break;
        p = next + seplen;
    }
    *out = items;
    return n;
}

/* A class named by a school, tolerant of full-width parentheses: 三年级（1）班. */
static int find_class(struct eb_db *db, const struct eb_caller *c, struct imp *m, int64_t school_id,
                      const char *name, int64_t *id)
{
    int rc = eb_store_class_by_name(db, c, school_id, name, id);
    if (rc != EB_ENOTFOUND)
        return rc;
    char *alt = eb_arena_strdup(m->a, name);
    size_t w = 0;
    for (size_t i = 0; alt[i];) {
        if (memcmp(alt + i, "\xEF\xBC\x88", 3) == 0 || memcmp(alt + i, "\xEF\xBC\x89", 3) == 0) {
            alt[w++] = alt[i + 2] == '\x88' ? '(' : ')';
            i += 3;
        } else {
            alt[w++] = alt[i++];
        }
    }
    alt[w] = '\0';
    return strcmp(alt, name) == 0 ? EB_ENOTFOUND
                                  : eb_store_class_by_name(db, c, school_id, alt, id);
}

/* Classes and registrations: what only the database can tell. Returns a store error, or 0. */
static int resolve(struct eb_db *db, const struct eb_caller *c, struct imp *m, int64_t school_id)
{
    for (size_t i = 0; i < m->n_rows; i++) {
        struct row *r = &m->rows[i];
        if (r->bad)
            continue;
        int rc = eb_store_registered(db, c, school_id, r->v[C_CID], r->v[C_SNO], &r->reg);
        if (rc)
            return rc;
        if (r->reg == EB_REGISTERED_HERE) {
            add(m, F_ALREADY_HERE, r->line, "", NULL, NULL);
            continue;
        }
        if (r->reg == EB_REGISTERED_ELSEWHERE && m->kind == EB_ROSTER_STUDENTS) {
            add(m, F_ELSEWHERE, r->line, header_name(m, r->v[C_CID] ? C_CID : C_SNO),
                r->v[C_CID] ? NULL : r->v[C_SNO], NULL);
            r->bad = 1;
            continue;
        }
        const int cols[] = {C_CLASS, C_HEAD};
        for (size_t k = 0; k < N_OF(cols); k++) {
            const char *name = r->v[cols[k]];
            int64_t *id = cols[k] == C_CLASS ? &r->class_id : &r->head_class_id;
            if (!name)
                continue;
            rc = find_class(db, c, m, school_id, name, id);
            if (rc == EB_ENOTFOUND) {
                add(m, F_CLASS_NOT_FOUND, r->line, header_name(m, cols[k]), name, NULL);
                r->bad = 1;
            } else if (rc) {
                return rc;
            }
        }
        if (r->v[C_CLASSES]) {
            const char **names = NULL;
            size_t n = split_list(m->a, r->v[C_CLASSES], &names);
            r->teach_class_ids = eb_arena_alloc(m->a, (n + 1) * sizeof(int64_t));
            for (size_t k = 0; r->teach_class_ids && k < n; k++) {
                rc = find_class(db, c, m, school_id, names[k], &r->teach_class_ids[r->n_teach]);
                if (rc == EB_ENOTFOUND) {
                    add(m, F_CLASS_NOT_FOUND, r->line, header_name(m, C_CLASSES), names[k], NULL);
                    r->bad = 1;
                } else if (rc) {
                    return rc;
                } else {
                    r->n_teach++;
                }
            }
        }
        if (r->v[C_SUBJECTS]) {
            const char **subjects = NULL;
            size_t n = split_list(m->a, r->v[C_SUBJECTS], &subjects);
            /* Stored comma-separated, as posts keep them. */
            struct eb_buf b;
            eb_buf_init(&b, 4096);
            for (size_t k = 0; k < n; k++)
                eb_buf_printf(&b, "%s%s", k ? "," : "", subjects[k]);
            r->v[C_SUBJECTS] = n ? eb_arena_strndup(m->a, b.data, b.len) : NULL;
            r->first_subject = n ? subjects[0] : NULL;
            eb_buf_free(&b);
        }
    }
    return 0;
}

/* ---- writing ---------------------------------------------------------------------------- */

static void today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static const char *err_text(int rc)
{
    return rc == EB_EEXIST      ? "a student number is already taken"
           : rc == EB_ECONFLICT ? "a student is already enrolled in a class"
           : rc == EB_EINVAL    ? "a value was refused"
                                : "database error";
}

static int write_row(struct eb_db *db, const struct eb_caller *c, struct imp *m, int64_t school_id,
                     struct row *r, const char *start)
{
    struct eb_person p = {.name = r->v[C_NAME],
                          .sex = r->v[C_SEX] && strcmp(r->v[C_SEX], "male") == 0 ? EB_SEX_MALE
                                                                                 : EB_SEX_FEMALE,
                          .birth_date = r->v[C_BIRTH],
                          .citizen_id = r->v[C_CID],
                          .student_no = r->v[C_SNO],
                          .staff_no = r->v[C_STAFF_NO],
                          .phone = r->v[C_PHONE],
                          .org_id = school_id,
                          .kind = m->kind == EB_ROSTER_STUDENTS ? "student" : "teacher"};
    int64_t person = 0, id = 0;
    int rc = eb_store_person_create(db, c, &p, &person);
    if (rc)
        return rc;
    if (m->kind == EB_ROSTER_STUDENTS) {
        struct eb_enrolment e = {.person_id = person, .class_id = r->class_id, .start_date = start};
        return eb_store_enrolment_create(db, c, &e, &id);
    }
    struct eb_post post = {.person_id = person,
                           .school_id = school_id,
                           .title = r->v[C_TITLE],
                           .subjects = r->v[C_SUBJECTS],
                           .start_date = start};
    int64_t post_id = 0;
    rc = eb_store_post_create(db, c, &post, &post_id);
    int head_done = 0;
    for (size_t k = 0; rc == 0 && k < r->n_teach; k++) {
        int head = r->teach_class_ids[k] == r->head_class_id;
        struct eb_teaching t = {.post_id = post_id,
                                .class_id = r->teach_class_ids[k],
                                .subject = r->first_subject,
                                .is_head_teacher = head,
                                .start_date = start};
        head_done |= head;
        rc = eb_store_teaching_create(db, c, &t, &id);
    }
    if (rc == 0 && r->head_class_id && !head_done) {
        struct eb_teaching t = {.post_id = post_id,
                                .class_id = r->head_class_id,
                                .subject = r->first_subject ? r->first_subject : "班主任",
                                .is_head_teacher = 1,
                                .start_date = start};
        rc = eb_store_teaching_create(db, c, &t, &id);
    }
    return rc;
}

static int write_all(struct eb_db *db, const struct eb_caller *c, struct imp *m, int64_t school_id,
                     struct eb_roster_result *res)
{
    char now[11];
    today(now);
    int rc = eb_db_begin(db);
    if (rc)
        return rc;
    for (size_t i = 0; i < m->n_rows; i++) {
        struct row *r = &m->rows[i];
        if (r->reg == EB_REGISTERED_HERE)
            continue;
        rc = write_row(db, c, m, school_id, r, r->v[C_START] ? r->v[C_START] : now);
        if (rc) {
            add(m, F_WRITE_FAILED, r->line, "", NULL, err_text(rc));
            eb_db_rollback(db);
            res->created = 0;
            return 0;
        }
        res->created++;
    }
    rc = eb_db_commit(db);
    if (rc) {
        eb_db_rollback(db);
        res->created = 0;
        return rc;
    }
    res->written = 1;
    return 0;
}

/* ---- the report ------------------------------------------------------------------------- */

static void message(const struct finding *f, int en, struct eb_buf *out)
{
    const char *t = en ? codes[f->code].en : codes[f->code].zh;
    for (const char *p = t; *p; p++) {
        if (p[0] == '{' && p[1] && p[2] == '}') {
            const char *v = p[1] == 'c'                   ? f->column
                            : p[1] == 'v'                 ? f->value
                            : !en && f->detail_zh != NULL ? f->detail_zh
                                                          : f->detail;
            eb_buf_puts(out, v);
            p += 2;
        } else {
            eb_buf_append(out, p, 1);
        }
    }
}

static void report(struct imp *m, const struct eb_roster_result *res, struct eb_buf *out)
{
    json_t *doc = json_object(), *arr = json_array();
    struct eb_buf msg;
    eb_buf_init(&msg, 1 << 16);
    json_object_set_new(doc, "ok", json_boolean(m->errors == 0));
    json_object_set_new(doc, "kind",
                        json_string(m->kind == EB_ROSTER_STUDENTS ? "students" : "teachers"));
    json_object_set_new(doc, "rows", json_integer((json_int_t)res->rows));
    json_object_set_new(doc, "created", json_integer((json_int_t)res->created));
    json_object_set_new(doc, "skipped", json_integer((json_int_t)res->skipped));
    json_object_set_new(doc, "written", json_boolean(res->written));
    json_object_set_new(doc, "errors", json_integer((json_int_t)m->errors));
    json_object_set_new(doc, "warnings", json_integer((json_int_t)m->warnings));
    for (size_t i = 0; i < m->n_f; i++) {
        const struct finding *f = &m->f[i];
        json_t *msgs = json_object();
        for (int en = 0; en < 2; en++) {
            eb_buf_reset(&msg);
            message(f, en, &msg);
            json_object_set_new(msgs, en ? "en" : "zh",
                                json_stringn(msg.data ? msg.data : "", msg.len));
        }
        json_array_append_new(arr,
                              json_pack("{s:s,s:I,s:s,s:s,s:s,s:o}", "severity",
                                        codes[f->code].sev == ERR ? "error" : "warning", "line",
                                        (json_int_t)f->line, "column", f->column, "code",
                                        codes[f->code].code, "value", f->value, "message", msgs));
    }
    json_object_set_new(doc, "findings", arr);
    size_t len = 0;
    char *s = eb_json_dump(doc, m->a, &len);
    if (s)
        eb_buf_append(out, s, len);
    json_decref(doc);
    eb_buf_free(&msg);
}

void eb_roster_report_text(const char *report_json, const char *lang, struct eb_buf *out)
{
    int en = lang && strcmp(lang, "en") == 0;
    json_t *doc = json_loads(report_json, 0, NULL);
    if (doc == NULL)
        return;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "findings"), i, f)
    {
        const char *sev = json_string_value(json_object_get(f, "severity"));
        int err = sev && strcmp(sev, "error") == 0;
        long long line = (long long)json_integer_value(json_object_get(f, "line"));
        const char *text =
            json_string_value(json_object_get(json_object_get(f, "message"), en ? "en" : "zh"));
        if (en)
            eb_buf_printf(out, "line %lld: %s: %s\n", line, err ? "error" : "warning", text);
        else
            eb_buf_printf(out, "第 %lld 行：%s：%s\n", line, err ? "错误" : "警告", text);
    }
    long long errors = json_integer_value(json_object_get(doc, "errors"));
    long long warnings = json_integer_value(json_object_get(doc, "warnings"));
    long long created = json_integer_value(json_object_get(doc, "created"));
    if (en)
        eb_buf_printf(
            out, "%lld errors, %lld warnings; %lld people %s\n", errors, warnings, created,
            json_is_true(json_object_get(doc, "written")) ? "registered" : "would be registered");
    else
        eb_buf_printf(out, "错误 %lld 个，警告 %lld 个；%s %lld 人\n", errors, warnings,
                      json_is_true(json_object_get(doc, "written")) ? "已登记" : "可登记", created);
    json_decref(doc);
}

int eb_roster_import(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                     enum eb_roster_kind kind, const void *data, size_t len, int dry_run,
                     struct eb_roster_result *res, struct eb_buf *report_json)
{
    struct imp m = {0};
    int64_t probe = 0;
    const char *why = NULL, *zh_why = NULL;
    memset(res, 0, sizeof(*res));
    /* Scope first (write access: 404 outside it, before any parsing), then the kind of node:
     * rosters are a school's (EB_EINVAL for another node). */
    enum eb_registered reg;
    int rc = eb_store_registered(db, c, school_id, NULL, NULL, &reg);
    if (rc)
        return rc;
    rc = eb_store_class_by_name(db, c, school_id, "", &probe);
    if (rc != 0 && rc != EB_ENOTFOUND)
        return rc;
    m.a = eb_arena_create(0);
    m.kind = kind;
    m.cols = eb_roster_columns(kind, &m.n_cols);
    m.map = kind == EB_ROSTER_STUDENTS ? student_map : teacher_map;
    rc = eb_sheet_read(data, len, eb_sheet_sniff(data, len), on_row, &m, &why, &zh_why);
    if (rc == EB_EINVAL) {
        add(&m, F_UNREADABLE, 0, "", NULL, why);
        m.f[m.n_f - 1].detail_zh = zh_why;
        rc = 0;
    } else if (rc) {
        goto done;
    } else if (!m.header_done) {
        add(&m, F_EMPTY, 0, "", NULL, NULL);
    } else if (m.n_rows == 0) {
        add(&m, F_NO_ROWS, m.header_line, "", NULL, NULL);
    }
    res->rows = m.n_rows;
    if (m.errors == 0) {
        for (size_t i = 0; i < m.n_rows; i++)
            check_row(&m, &m.rows[i]);
        check_duplicates(&m, C_CID);
        check_duplicates(&m, C_SNO);
        rc = resolve(db, c, &m, school_id);
        if (rc)
            goto done;
    }
    for (size_t i = 0; i < m.n_rows; i++)
        res->skipped += m.rows[i].reg == EB_REGISTERED_HERE && !m.rows[i].bad;
    if (m.errors == 0) {
        if (dry_run)
            res->created = m.n_rows - res->skipped;
        else
            rc = write_all(db, c, &m, school_id, res);
    }
    res->errors = m.errors;
    res->warnings = m.warnings;
    report(&m, res, report_json);
done:
    eb_arena_destroy(m.a);
    return rc;
}
