/* Responses: JSON bodies, the error catalogue (zh-CN/en) and the one map from enum eb_err to
 * HTTP statuses. */
#include "http/http.h"
#include "http/http_int.h"
#include "core/err.h"
#include "core/log.h"
#include "json/json.h"

#include <string.h>

#include <microhttpd.h>

struct message {
    const char *code, *zh, *en;
};

/* The API's error codes (docs/API.md) with the text shown to people. */
static const struct message catalogue[] = {
    {"bad_request", "请求无效", "Bad request"},
    {"invalid_json", "请求体不是有效的 JSON", "The request body is not valid JSON"},
    {"invalid_field", "字段值无效", "A field has an invalid value"},
    {"invalid_observations", "批次中有无效数据，未写入任何记录",
     "The batch has invalid rows; nothing was written"},
    {"unknown_field", "包含未知字段", "The request has an unknown field"},
    {"missing_field", "缺少必填字段", "A required field is missing"},
    {"unauthenticated", "未登录或身份验证失败", "Not signed in, or authentication failed"},
    {"csrf", "缺少或错误的 CSRF 令牌，请刷新页面后重试",
     "Missing or wrong CSRF token; reload the page and retry"},
    {"forbidden", "没有权限执行此操作", "You are not allowed to do this"},
    {"not_found", "资源不存在", "Not found"},
    {"method_not_allowed", "不支持该请求方法", "Method not allowed"},
    {"conflict", "数据已被他人修改，请刷新后重试", "The data changed meanwhile; reload and retry"},
    {"exists", "记录已存在", "Already exists"},
    {"too_large", "请求内容过大", "The request is too large"},
    {"not_a_zip", "请上传 OneRoster 数据包（.zip 文件，application/zip）",
     "Upload a OneRoster package (a .zip file, application/zip)"},
    {"unsupported_media_type", "请求体必须是 application/json",
     "The request body must be application/json"},
    {"throttled", "尝试次数过多，请稍后再试", "Too many attempts; try again later"},
    {"unavailable", "服务繁忙，请稍后再试", "The service is busy; try again later"},
    {"internal", "服务器内部错误", "Internal server error"},
    {"bad_credentials", "账号或密码错误", "Wrong login or password"},
    {"bad_old_password", "原密码不正确", "The current password is wrong"},
    {"password_too_short", "密码至少需要 8 个字符", "The password needs at least 8 characters"},
    {"password_too_long", "密码不能超过 256 个字符",
     "The password may have at most 256 characters"},
    {"password_too_simple", "密码需包含字母、数字、符号中的至少两类",
     "The password needs at least two of: letters, digits, other characters"},
    {"password_unchanged", "新密码不能与原密码相同",
     "The new password must differ from the old one"},
    {"must_change_password", "请先设置新密码（首次登录）",
     "Choose a new password first (first login)"},
    {"not_a_student", "该人员不是在读学生", "The person is not an enrolled student"},
    {"invalid_transition", "学生当前的学籍状态不允许此项变更",
     "The student's current status does not allow this change"},
    {"transfer_pending", "该学生有正在办理的转学申请，请先办结或撤回",
     "A transfer of this student is pending; finish or withdraw it first"},
    {"transfer_closed", "该转学申请已办结、驳回或撤回", "The transfer is already closed"},
    {"bad_binding", "学籍号或绑定码不正确", "Wrong student number or binding code"},
    {"otp_required", "请输入身份验证器应用中的 6 位动态验证码",
     "Enter the 6-digit code from your authenticator app"},
    {"bad_otp", "动态验证码错误或已使用过", "The code is wrong or was already used"},
    {"bad_password", "密码不正确", "The password is wrong"},
    {"must_enrol_totp", "管理员账号须先绑定身份验证器（两步验证）",
     "Administrator accounts must set up an authenticator app (two-step verification) first"},
    {"totp_already_enabled", "已开启两步验证", "Two-step verification is already on"},
    {"totp_not_enabled", "尚未开启两步验证", "Two-step verification is not on"},
    {"totp_required", "管理员账号必须保持两步验证",
     "Administrator accounts must keep two-step verification"},
    {"school_closed", "学校已撤销或已合并", "The school is closed or merged"},
    {"school_has_students", "学校仍有在读学生，不能撤销；请先合并到其他学校",
     "The school still has current students; merge it into another school instead"},
    {"already_promoted", "该学年已执行过升级", "This school year was promoted already"},
    {"promotion_confirmed", "升级已确认，不能撤销",
     "The promotion was confirmed and cannot be undone"},
    {"promotion_changed", "升级后数据已有变动或已撤销，不能撤销",
     "The data changed since the promotion, or it was undone already; it cannot be undone"},
};

static const char *catalogue_text(const char *code, enum eb_lang lang)
{
    for (size_t i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]); i++)
        if (strcmp(catalogue[i].code, code) == 0)
            return lang == EB_LANG_EN ? catalogue[i].en : catalogue[i].zh;
    return code;
}

static int dump_to_buf(const char *buffer, size_t size, void *data)
{
    return eb_buf_append(data, buffer, size) == 0 ? 0 : -1;
}

int eb_http_json(struct eb_req *r, int status, json_t *doc)
{
    eb_buf_reset(&r->out);
    r->content_type = "application/json; charset=utf-8";
    r->status = status;
    if (!doc || json_dump_callback(doc, dump_to_buf, &r->out,
                                   JSON_COMPACT | JSON_REAL_PRECISION(10) | JSON_ENCODE_ANY) != 0) {
        /* Too big for the response limit, or the handler built no document. */
        eb_error("http: %s %s: cannot serialise the response", r->method ? r->method : "-",
                 r->path ? r->path : "-");
        eb_buf_reset(&r->out);
        r->status = 500;
        eb_buf_puts(&r->out, "{\"error\":{\"code\":\"internal\",\"message\":\"");
        eb_buf_puts(&r->out, catalogue_text("internal", r->lang));
        eb_buf_puts(&r->out, "\"}}");
    }
    json_decref(doc);
    return 0;
}

void eb_http_stream(struct eb_req *r, int status, struct eb_jw *w)
{
    eb_buf_reset(&r->out);
    r->content_type = "application/json; charset=utf-8";
    r->status = status;
    eb_jw_init(w, &r->out);
}

int eb_http_stream_end(struct eb_req *r, struct eb_jw *w)
{
    if (w->b->overflow || w->depth != 0) {
        eb_error("http: %s %s: streamed response too large or unbalanced",
                 r->method ? r->method : "-", r->path ? r->path : "-");
        return eb_http_error(r, 500, "internal", NULL);
    }
    return 0;
}

int eb_http_error(struct eb_req *r, int status, const char *code, const char *detail)
{
    const char *text = catalogue_text(code, r->lang);
    const char *msg = text;
    if (detail && *detail) {
        msg = r->arena ? eb_arena_printf(r->arena, "%s: %s", text, detail) : NULL;
        if (!msg)
            msg = text;
    }
    json_t *doc = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    if (!doc) /* the detail was not UTF-8: send the catalogue text alone */
        doc = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", text);
    return eb_http_json(r, status, doc);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int eb_http_fail(struct eb_req *r, int err, const char *detail)
{
    switch (err) {
    case EB_EINVAL: {
        /* eb_json_check's messages carry which of the three field errors it found. */
        const char *code = "bad_request";
        if (detail && starts_with(detail, "unknown field"))
            code = "unknown_field";
        else if (detail && starts_with(detail, "missing field"))
            code = "missing_field";
        else if (detail && starts_with(detail, "field '"))
            code = "invalid_field";
        return eb_http_error(r, 400, code, detail);
    }
    case EB_EAUTH:
        return eb_http_error(r, 401, "unauthenticated", detail);
    case EB_EDENIED:
        return eb_http_error(r, 403, "forbidden", detail);
    case EB_ENOTFOUND:
        return eb_http_error(r, 404, "not_found", detail);
    case EB_EEXIST:
        return eb_http_error(r, 409, "exists", detail);
    case EB_ECONFLICT:
        return eb_http_error(r, 409, "conflict", detail);
    case EB_ETOOBIG:
        return eb_http_error(r, 413, "too_large", detail);
    case EB_ETHROTTLED:
        return eb_http_error(r, 429, "throttled", detail);
    case EB_EBUSY:
        eb_warn("http: %s %s: busy: %s", r->method ? r->method : "-", r->path ? r->path : "-",
                detail ? detail : "-");
        eb_http_add_header(r, "Retry-After", "1");
        return eb_http_error(r, 503, "unavailable", NULL);
    default:
        /* Server-side failures are logged in full but never described to the client: the
         * detail may hold SQL or file names. */
        eb_error("http: %s %s: %s%s%s", r->method ? r->method : "-", r->path ? r->path : "-",
                 eb_strerror(err), detail ? ": " : "", detail ? detail : "");
        return eb_http_error(r, 500, "internal", NULL);
    }
}

void eb_http_add_header(struct eb_req *r, const char *name, const char *value)
{
    if (r->n_headers >= EB_HTTP_MAX_HEADERS) {
        eb_warn("http: header %s dropped: more than %d headers", name, EB_HTTP_MAX_HEADERS);
        return;
    }
    const char *n = r->arena ? eb_arena_strdup(r->arena, name) : name;
    const char *v = r->arena ? eb_arena_strdup(r->arena, value) : value;
    if (!n || !v)
        return;
    r->headers[r->n_headers].name = n;
    r->headers[r->n_headers].value = v;
    r->n_headers++;
}

/*
 * The built SPA loads only its own scripts and styles; Vue's scoped styles and ECharts set
 * inline style attributes, hence 'unsafe-inline' for styles only. Map tiles and charts use
 * data: images.
 */
#define EB_CSP                                                                                     \
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "                 \
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

void eb__http_security_headers(struct MHD_Response *resp, int api)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Content-Security-Policy", EB_CSP);
    if (api)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
}
