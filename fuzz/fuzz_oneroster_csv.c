/* libFuzzer target: one OneRoster CSV file's bytes through the streaming reader and the rules. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "oneroster/oneroster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same bytes as three files: users.csv in bulk (lists, booleans, enums, forward
 * self-references), academicSessions.csv in bulk (dates, years, date order) and orgs.csv in
 * delta (status rules, relaxed deletions). */
static const struct {
    enum eb_or_file f;
    enum eb_or_mode m;
} runs[] = {
    {EB_OR_USERS, EB_OR_BULK},
    {EB_OR_ACADEMIC_SESSIONS, EB_OR_BULK},
    {EB_OR_ORGS, EB_OR_DELTA},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        struct eb_or_report *r = eb_or_report_create(4);
        eb_or_check_buffer(runs[i].f, runs[i].m, data, size, r);
        /* Every kept finding names a code and a file, and lies in the input's lines. */
        size_t n_lines = 1;
        for (size_t k = 0; k < size; k++)
            n_lines += data[k] == '\n';
        for (size_t k = 0; k < eb_or_report_count(r); k++) {
            const struct eb_or_finding *f = eb_or_report_get(r, k);
            if (!f->code || !*f->code || strcmp(f->file, eb_or_file_name(runs[i].f)) != 0 ||
                f->line < 0 || (size_t)f->line > n_lines)
                __builtin_trap();
        }
        if (eb_or_report_count(r) > eb_or_report_errors(r) + eb_or_report_warnings(r))
            __builtin_trap();
        /* The JSON report is well-formed whatever bytes the values held, and keeps the counts. */
        struct eb_buf b;
        eb_buf_init(&b, 0);
        if (eb_or_report_json(r, &b) != 0)
            __builtin_trap();
        json_error_t err;
        json_t *doc = json_loadb(b.data, b.len, 0, &err);
        if (!doc || json_integer_value(json_object_get(doc, "errors")) !=
                        (json_int_t)eb_or_report_errors(r))
            __builtin_trap();
        json_decref(doc);
        eb_buf_reset(&b);
        eb_or_report_text(r, "en", &b);
        eb_buf_free(&b);
        eb_or_report_destroy(r);
    }
    return 0;
}
