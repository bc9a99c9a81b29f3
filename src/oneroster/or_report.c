/* Validation findings: the code catalogue (severity, zh/en messages), storage, JSON and text. */
#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "json/json.h"
#include "oneroster/or_int.h"

#include <stdio.h>
#include <string.h>

#define E EB_OR_ERROR
#define W EB_OR_WARNING

/*
 * One entry per code: its severity is decided here and nowhere else, and the table in
 * docs/internals/oneroster.md lists the same codes with the reason for each severity (a unit
 * test checks that every code is documented there). Placeholders: {c} column, {v} value,
 * {d} detail.
 */
static const struct {
    const char *code;
    enum eb_or_severity sev;
    const char *zh, *en;
} catalogue[OR_N_CODES] = {
    [OR_PACKAGE_UNREADABLE] = {"package_unreadable", E, "无法读取数据包：{d}",
                               "cannot read the package: {d}"},
    [OR_MANIFEST_MISSING] = {"manifest_missing", E, "数据包缺少 manifest.csv（清单须最先读取）",
                             "the package has no manifest.csv (it is read before any other file)"},
    [OR_MANIFEST_HEADER] = {"manifest_header", E, "manifest.csv 的表头必须是 propertyName,value",
                            "manifest.csv must have the header propertyName,value"},
    [OR_MANIFEST_DUPLICATE] = {"manifest_duplicate", E, "清单属性 {v} 重复",
                               "the manifest property {v} appears more than once"},
    [OR_MANIFEST_PROPERTY_MISSING] = {"manifest_property_missing", E, "清单缺少必需属性 {c}",
                                      "the manifest lacks the required property {c}"},
    [OR_MANIFEST_UNKNOWN_PROPERTY] = {"manifest_unknown_property", W, "未知的清单属性 {v}，已忽略",
                                      "unknown manifest property {v}, ignored"},
    [OR_MANIFEST_VALUE] = {"manifest_value", E, "清单属性 {c} 的值“{v}”无效，应为 {d}",
                           "the manifest property {c} has the invalid value '{v}': expected {d}"},
    [OR_UNSUPPORTED_VERSION] = {"unsupported_version", E,
                                "不支持 {c}=“{v}”：只接受 OneRoster 1.1 CSV（不得混用 1.2）",
                                "unsupported {c} '{v}': only OneRoster 1.1 CSV is accepted "
                                "(1.2 must not be mixed in)"},
    [OR_FILE_MISSING] = {"file_missing", E, "清单声明此文件为 {d}，但数据包中没有该文件",
                         "the manifest declares this file {d} but it is not in the package"},
    [OR_FILE_UNEXPECTED] = {"file_unexpected", E,
                            "清单声明此文件为 absent，但数据包中有该文件（未读取）",
                            "the manifest declares this file absent but it is in the package "
                            "(not read)"},
    [OR_FILE_UNREADABLE] = {"file_unreadable", E, "无法读取此文件（损坏或加密的压缩项）",
                            "cannot read this file (a damaged or encrypted zip entry)"},
    [OR_UNKNOWN_FILE] = {"unknown_file", W, "不是 OneRoster 1.1 的文件，已忽略（文件名区分大小写）",
                         "not a OneRoster 1.1 file, ignored (file names are case-sensitive)"},
    [OR_FILE_NOT_AT_ROOT] = {"file_not_at_root", W,
                             "文件不在数据包根目录，已忽略（所有 CSV 必须位于根目录）",
                             "the file is not at the package root and is ignored (all CSV files "
                             "must be at the root)"},
    [OR_BOM] = {"bom", W, "文件以 UTF-8 BOM 开头：BOM 已忽略（规范要求导入方容忍）",
                "the file starts with a UTF-8 BOM: it is ignored, as importers must tolerate it"},
    [OR_INVALID_UTF8] = {"invalid_utf8", E, "{c} 的值不是有效的 UTF-8",
                         "the value of {c} is not valid UTF-8"},
    [OR_NUL_BYTE] = {"nul_byte", E, "{c} 的值包含 NUL 字节",
                     "the value of {c} contains a NUL byte"},
    [OR_CSV_SYNTAX] = {"csv_syntax", E,
                       "CSV 语法错误（引号未闭合，或未加引号的字段中出现引号），文件其余部分未读取",
                       "CSV syntax error (an unclosed quote, or a quote inside an unquoted field); "
                       "the rest of the file was not read"},
    [OR_NEWLINE_IN_FIELD] = {"newline_in_field", E,
                             "{c} 的值包含换行符（规范禁止字段内出现 CR/LF）",
                             "the value of {c} contains a line break (CR/LF inside a field is not "
                             "allowed)"},
    [OR_EMPTY_FILE] = {"empty_file", E, "文件为空：缺少表头行",
                       "the file is empty: the header row is missing"},
    [OR_NO_DATA_ROWS] = {"no_data_rows", E, "文件只有表头，没有数据行（规范不允许）",
                         "the file has a header but no data rows (not permitted)"},
    [OR_ROW_TOO_LONG] = {"row_too_long", E,
                         "记录超过上限（1 MiB 或 1024 个字段），文件其余部分未读取",
                         "a record exceeds the limits (1 MiB or 1024 fields); the rest of the "
                         "file was not read"},
    [OR_FIELD_COUNT] = {"field_count", E, "该行有 {v} 个字段，表头有 {d} 个",
                        "the row has {v} fields, the header has {d}"},
    [OR_HEADER_DUPLICATE] = {"header_duplicate", E, "表头列 {c} 重复",
                             "the header column {c} appears twice"},
    [OR_HEADER_CASE] = {"header_case", E, "表头“{v}”大小写错误，应为 {d}（表头区分大小写）",
                        "the header '{v}' has the wrong case: expected {d} (headers are "
                        "case-sensitive)"},
    [OR_MISSING_COLUMN] = {"missing_column", E, "缺少列 {c}（表头须按顺序列出所有定义的列）",
                           "the column {c} is missing (the header must list every defined "
                           "column, in order)"},
    [OR_HEADER_ORDER] = {"header_order", E,
                         "列顺序错误（在 {c} 处）：应为 {d}，扩展列只能放在最右侧",
                         "columns out of order at {c}: expected {d}, with extension columns only "
                         "to the right"},
    [OR_UNKNOWN_COLUMN] = {"unknown_column", W, "未知列 {c}：扩展列应命名为 metadata.xxx，已忽略",
                           "unknown column {c}: extension columns should be named metadata.xxx; "
                           "ignored"},
    [OR_REQUIRED] = {"required", E, "必填字段 {c} 为空", "the required field {c} is empty"},
    [OR_DELTA_REQUIRED] = {"delta_required", E, "增量（delta）文件中 {c} 必须填写",
                           "{c} must be filled in a delta file"},
    [OR_BULK_POPULATED] = {"bulk_populated", E, "全量（bulk）文件中 {c} 必须为空，实际为“{v}”",
                           "{c} must be blank in a bulk file, found '{v}'"},
    [OR_ENUM_CASE] = {"enum_case", E, "{c} 的值“{v}”大小写错误，应为“{d}”（枚举值区分大小写）",
                      "{c} '{v}' has the wrong case: expected '{d}' (tokens are case-sensitive)"},
    [OR_ENUM_VALUE] = {"enum_value", E, "{c} 的值“{v}”无效，应为 {d}",
                       "'{v}' is not a valid {c}: expected {d}"},
    [OR_STATUS_INACTIVE] = {"status_inactive", E,
                            "status 为“inactive”：这是 v1.0 的取值，v1.1 只允许 active | "
                            "tobedeleted",
                            "status 'inactive' is a v1.0 token; v1.1 allows active | tobedeleted"},
    [OR_BOOL_CASE] = {"bool_case", W, "{c} 的布尔值“{v}”应为小写“{d}”，已按 {d} 接受",
                      "{c} boolean '{v}' should be lowercase '{d}'; accepted as {d}"},
    [OR_BAD_BOOL] = {"bad_bool", E, "{c} 的值“{v}”不是布尔值 true | false",
                     "'{v}' is not a boolean for {c}: expected true | false"},
    [OR_BAD_DATE] = {"bad_date", E, "{c} 的值“{v}”不是有效日期 YYYY-MM-DD",
                     "'{v}' is not a valid date YYYY-MM-DD for {c}"},
    [OR_BAD_DATETIME] = {"bad_datetime", E, "{c} 的值“{v}”不是 UTC 时间 YYYY-MM-DDThh:mm:ss.sssZ",
                         "'{v}' is not a UTC dateTime YYYY-MM-DDThh:mm:ss.sssZ for {c}"},
    [OR_BAD_YEAR] = {"bad_year", E, "{c} 的值“{v}”不是四位年份 YYYY",
                     "'{v}' is not a four-digit year for {c}"},
    [OR_BAD_NUMBER] = {"bad_number", E, "{c} 的值“{v}”不是数字", "'{v}' is not a number for {c}"},
    [OR_BAD_USER_IDS] = {"bad_user_ids", E, "{c} 的值“{v}”格式错误，应为 {type:identifier} 列表",
                         "'{v}' is not a list of {type:identifier} for {c}"},
    [OR_LIST_EMPTY_ITEM] = {"list_empty_item", E, "{c} 列表中有空项：“{v}”",
                            "the list in {c} has an empty item: '{v}'"},
    [OR_GRADE_VALUE] = {"grade_value", W,
                        "{c} 中的“{v}”不是 CEDS 年级代码（IT PR PK TK KG 01–13 PS UG Other）",
                        "'{v}' in {c} is not a CEDS grade level (IT PR PK TK KG 01-13 PS UG "
                        "Other)"},
    [OR_ID_CHARSET] = {"id_charset", W, "{c}“{v}”含有推荐字符集 [A-Za-z0-9._-] 以外的字符",
                       "{c} '{v}' has characters outside the recommended [A-Za-z0-9._-]"},
    [OR_ID_LENGTH] = {"id_length", W, "{c} 超过 255 个字符", "{c} is longer than 255 characters"},
    [OR_DUPLICATE_ID] = {"duplicate_id", E, "sourcedId“{v}”在本文件中重复",
                         "the sourcedId '{v}' appears more than once in this file"},
    [OR_DATE_ORDER] = {"date_order", W, "{c}“{v}”早于开始日期 {d}",
                       "{c} '{v}' is before the start date {d}"},
    [OR_MISSING_REFERENCE] = {"missing_reference", E, "{c} 引用的“{v}”在 {d} 中不存在",
                              "{c} refers to '{v}', which is not in {d}"},
    [OR_REFERENCE_TO_ABSENT_FILE] = {"reference_to_absent_file", E,
                                     "{c} 引用“{v}”，但清单声明 {d} 为 absent：包内无法解析",
                                     "{c} refers to '{v}' but the manifest declares {d} absent: "
                                     "it cannot be resolved inside the package"},
    [OR_UNRESOLVED_REFERENCE] = {"unresolved_reference", W,
                                 "{c} 引用的“{v}”不在本数据包的 {d} 中，导入时须在现有数据中找到",
                                 "{c} refers to '{v}', which is not in this package's {d}: the "
                                 "import must find it in the existing data"},
    [OR_REFERENCE_TO_DELETED] = {"reference_to_deleted", W,
                                 "{c} 引用的“{v}”在 {d} 中标记为 tobedeleted",
                                 "{c} refers to '{v}', which {d} marks tobedeleted"},
    [OR_NOT_A_SCHOOL] = {"not_a_school", W, "{c} 引用的机构“{v}”类型为 {d}，不是 school",
                         "{c} refers to the org '{v}' of type {d}, not school"},
    [OR_NOT_A_SCHOOL_YEAR] = {"not_a_school_year", W,
                              "{c} 引用的学期“{v}”类型为 {d}，不是 schoolYear",
                              "{c} refers to the session '{v}' of type {d}, not schoolYear"},
    [OR_ROLE_MISMATCH] = {"role_mismatch", W,
                          "用户“{v}”在 users.csv 中的角色是 {d}，与本行的选课角色不符",
                          "the user '{v}' has the role {d} in users.csv, which does not match "
                          "this enrollment's role"},
};

#undef E
#undef W

struct item {
    struct eb_or_finding pub;
    enum eb__or_code code;
};

struct eb_or_report {
    struct eb_arena *a;
    size_t max_per_code;
    struct item *items;
    size_t n, cap;
    size_t counts[OR_N_SLOTS][OR_N_CODES];
    size_t errors, warnings;
    enum eb_or_mode modes[EB_OR_N_FILES];
    size_t rows[EB_OR_N_FILES];
};

const char *eb__or_code_name(enum eb__or_code code)
{
    return catalogue[code].code;
}

enum eb_or_severity eb__or_code_severity(enum eb__or_code code)
{
    return catalogue[code].sev;
}

struct eb_or_report *eb_or_report_create(size_t max_per_code)
{
    struct eb_or_report *r = eb_xcalloc(1, sizeof(*r));
    r->a = eb_arena_create(0);
    r->max_per_code = max_per_code ? max_per_code : 100;
    return r;
}

void eb_or_report_destroy(struct eb_or_report *r)
{
    if (!r)
        return;
    eb_arena_destroy(r->a);
    eb_free(r->items);
    eb_free(r);
}

/* An arena copy that is valid UTF-8 (invalid bytes and NUL become U+FFFD) and at most about
 * 200 bytes (cut at a character boundary, marked with an ellipsis). */
static const char *clean(struct eb_or_report *r, const char *s, size_t n)
{
    static const char repl[] = "\xEF\xBF\xBD";
    if (!s || n == 0)
        return "";
    size_t cap = 200;
    char *out = eb_arena_alloc(r->a, cap + 8);
    if (!out)
        return "";
    size_t len = 0, i = 0;
    while (i < n) {
        size_t k = eb__or_utf8_seq((const unsigned char *)s + i, n - i);
        const char *src = s + i;
        size_t w = k;
        if (k == 0 || s[i] == '\0') {
            src = repl;
            w = 3;
            k = 1;
        }
        if (len + w > cap) {
            memcpy(out + len, "\xE2\x80\xA6", 3);
            len += 3;
            break;
        }
        memcpy(out + len, src, w);
        len += w;
        i += k;
    }
    out[len] = '\0';
    return out;
}

void eb__or_add(struct eb_or_report *r, enum eb__or_code code, int slot, const char *file,
                long line, const char *column, const char *value, size_t vlen, const char *detail)
{
    if (slot < 0 || slot >= OR_N_SLOTS)
        slot = OR_SLOT_PACKAGE;
    if (catalogue[code].sev == EB_OR_ERROR)
        r->errors++;
    else
        r->warnings++;
    if (r->counts[slot][code]++ >= r->max_per_code)
        return;
    if (!file)
        file = slot < EB_OR_N_FILES       ? eb__or_files[slot].csv
               : slot == OR_SLOT_MANIFEST ? "manifest.csv"
                                          : "";
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->items = eb_xrealloc(r->items, r->cap * sizeof(*r->items));
    }
    struct item *it = &r->items[r->n++];
    it->code = code;
    it->pub.severity = catalogue[code].sev;
    it->pub.code = catalogue[code].code;
    it->pub.file = clean(r, file, strlen(file));
    it->pub.line = line;
    it->pub.column = column ? clean(r, column, strlen(column)) : "";
    it->pub.value = clean(r, value, value ? vlen : 0);
    it->pub.detail = detail ? clean(r, detail, strlen(detail)) : "";
}

void eb__or_report_file(struct eb_or_report *r, enum eb_or_file f, enum eb_or_mode m, size_t rows)
{
    r->modes[f] = m;
    r->rows[f] = rows;
}

size_t eb_or_report_errors(const struct eb_or_report *r)
{
    return r->errors;
}

size_t eb_or_report_warnings(const struct eb_or_report *r)
{
    return r->warnings;
}

size_t eb_or_report_count(const struct eb_or_report *r)
{
    return r->n;
}

const struct eb_or_finding *eb_or_report_get(const struct eb_or_report *r, size_t i)
{
    return i < r->n ? &r->items[i].pub : NULL;
}

static const char *slot_file(int slot)
{
    return slot < EB_OR_N_FILES       ? eb__or_files[slot].csv
           : slot == OR_SLOT_MANIFEST ? "manifest.csv"
                                      : "";
}

size_t eb_or_report_count_code(const struct eb_or_report *r, const char *file, const char *code)
{
    size_t n = 0;
    for (int c = 0; c < OR_N_CODES; c++) {
        if (strcmp(catalogue[c].code, code) != 0)
            continue;
        for (int s = 0; s < OR_N_SLOTS; s++)
            if (!file || strcmp(slot_file(s), file) == 0)
                n += r->counts[s][c];
    }
    return n;
}

enum eb_or_mode eb_or_report_mode(const struct eb_or_report *r, enum eb_or_file f)
{
    return (unsigned)f < EB_OR_N_FILES ? r->modes[f] : EB_OR_ABSENT;
}

size_t eb_or_report_rows(const struct eb_or_report *r, enum eb_or_file f)
{
    return (unsigned)f < EB_OR_N_FILES ? r->rows[f] : 0;
}

static int find_code(const char *code)
{
    for (int c = 0; c < OR_N_CODES; c++)
        if (strcmp(catalogue[c].code, code) == 0)
            return c;
    return -1;
}

void eb_or_finding_message(const struct eb_or_finding *f, const char *lang, struct eb_buf *out)
{
    int c = find_code(f->code);
    if (c < 0)
        return;
    const char *t = lang && strcmp(lang, "en") == 0 ? catalogue[c].en : catalogue[c].zh;
    while (*t) {
        const char *sub = NULL;
        if (t[0] == '{' && t[1] && t[2] == '}')
            sub = t[1] == 'c' ? f->column : t[1] == 'v' ? f->value : t[1] == 'd' ? f->detail : NULL;
        if (sub) {
            eb_buf_puts(out, sub);
            t += 3;
        } else {
            eb_buf_append(out, t, 1);
            t++;
        }
    }
}

static const char *sev_name(enum eb_or_severity s)
{
    return s == EB_OR_ERROR ? "error" : "warning";
}

int eb_or_report_json(const struct eb_or_report *r, struct eb_buf *out)
{
    struct eb_jw w;
    struct eb_buf msg;
    eb_buf_init(&msg, 0);
    eb_jw_init(&w, out);
    eb_jw_obj_begin(&w);
    eb_jw_kbool(&w, "ok", r->errors == 0);
    eb_jw_kint(&w, "errors", (int64_t)r->errors);
    eb_jw_kint(&w, "warnings", (int64_t)r->warnings);
    eb_jw_kint(&w, "kept", (int64_t)r->n);
    eb_jw_key(&w, "files");
    eb_jw_arr_begin(&w);
    for (int f = 0; f < EB_OR_N_FILES; f++) {
        eb_jw_obj_begin(&w);
        eb_jw_kstr(&w, "file", eb__or_files[f].csv);
        eb_jw_kstr(&w, "mode", eb_or_mode_name(r->modes[f]));
        eb_jw_kint(&w, "rows", (int64_t)r->rows[f]);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_key(&w, "summary");
    eb_jw_arr_begin(&w);
    for (int s = 0; s < OR_N_SLOTS; s++) {
        for (int c = 0; c < OR_N_CODES; c++) {
            if (!r->counts[s][c])
                continue;
            eb_jw_obj_begin(&w);
            eb_jw_kstr(&w, "severity", sev_name(catalogue[c].sev));
            eb_jw_kstr(&w, "file", slot_file(s));
            eb_jw_kstr(&w, "code", catalogue[c].code);
            eb_jw_kint(&w, "count", (int64_t)r->counts[s][c]);
            eb_jw_obj_end(&w);
        }
    }
    eb_jw_arr_end(&w);
    eb_jw_key(&w, "findings");
    eb_jw_arr_begin(&w);
    for (size_t i = 0; i < r->n; i++) {
        const struct eb_or_finding *f = &r->items[i].pub;
        eb_jw_obj_begin(&w);
        eb_jw_kstr(&w, "severity", sev_name(f->severity));
        eb_jw_kstr(&w, "file", f->file);
        eb_jw_kint(&w, "line", f->line);
        eb_jw_kstr(&w, "column", f->column);
        eb_jw_kstr(&w, "code", f->code);
        eb_jw_kstr(&w, "value", f->value);
        eb_jw_key(&w, "message");
        eb_jw_obj_begin(&w);
        eb_buf_reset(&msg);
        eb_or_finding_message(f, "zh", &msg);
        eb_jw_kstr(&w, "zh", msg.data ? msg.data : "");
        eb_buf_reset(&msg);
        eb_or_finding_message(f, "en", &msg);
        eb_jw_kstr(&w, "en", msg.data ? msg.data : "");
        eb_jw_obj_end(&w);
        eb_jw_obj_end(&w);
    }
    eb_jw_arr_end(&w);
    eb_jw_obj_end(&w);
    eb_buf_free(&msg);
    return out->overflow ? EB_ETOOBIG : 0;
}

int eb_or_report_text(const struct eb_or_report *r, const char *lang, struct eb_buf *out)
{
    int en = lang && strcmp(lang, "en") == 0;
    for (size_t i = 0; i < r->n; i++) {
        const struct eb_or_finding *f = &r->items[i].pub;
        const char *sev =
            f->severity == EB_OR_ERROR ? (en ? "error" : "错误") : (en ? "warning" : "警告");
        if (f->line > 0)
            eb_buf_printf(out, "%s:%ld: %s [%s] ", *f->file ? f->file : "-", f->line, sev, f->code);
        else
            eb_buf_printf(out, "%s: %s [%s] ", *f->file ? f->file : "-", sev, f->code);
        eb_or_finding_message(f, en ? "en" : "zh", out);
        eb_buf_puts(out, "\n");
    }
    if (r->errors || r->warnings)
        eb_buf_puts(out, en ? "\ncounts:\n" : "\n统计：\n");
    for (int s = 0; s < OR_N_SLOTS; s++) {
        for (int c = 0; c < OR_N_CODES; c++) {
            size_t n = r->counts[s][c];
            if (!n)
                continue;
            size_t shown = n < r->max_per_code ? n : r->max_per_code;
            eb_buf_printf(out, "  %-22s %-26s %-7s %zu", *slot_file(s) ? slot_file(s) : "-",
                          catalogue[c].code, sev_name(catalogue[c].sev), n);
            if (shown < n)
                eb_buf_printf(out, en ? " (%zu listed)" : "（列出 %zu 条）", shown);
            eb_buf_puts(out, "\n");
        }
    }
    if (en)
        eb_buf_printf(out, "\n%zu error(s), %zu warning(s): %s\n", r->errors, r->warnings,
                      r->errors ? "the package is rejected, nothing would be written"
                                : "the package can be imported");
    else
        eb_buf_printf(out, "\n%zu 个错误，%zu 个警告：%s\n", r->errors, r->warnings,
                      r->errors ? "数据包被拒绝，不会写入任何数据" : "数据包可以导入");
    return out->overflow ? EB_ETOOBIG : 0;
}
