/* The project's own roster templates (学生名册, 教职工名册): Chinese column headers that a school
 * fills in Excel or as CSV, validated into a report by file, line and column, then written to
 * the registry in one transaction. */
#ifndef EB_ROSTER_H
#define EB_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/http.h"
#include "store/store.h"

enum eb_roster_kind { EB_ROSTER_STUDENTS, EB_ROSTER_TEACHERS };

/** "students" / "teachers" -> kind; -1 when unknown. */
int eb_roster_kind_parse(const char *name);

/** One column of a template: its header as the school sees it, and whether it is required. */
struct eb_roster_column {
    const char *header; /* 姓名 */
    const char *key;    /* name: the API's field name, and the English header */
    int required;
    const char *hint_zh; /* what to write, for the template's instructions */
};

/** The columns of a template, in template order. */
const struct eb_roster_column *eb_roster_columns(enum eb_roster_kind kind, size_t *n);

/** What an import did (or would do, on a dry run). */
struct eb_roster_result {
    size_t rows;    /* data rows read (blank rows not counted) */
    size_t created; /* people registered */
    size_t skipped; /* rows of people already registered here (a warning each) */
    size_t errors, warnings;
    int written; /* 1 when the rows were committed */
};

/**
 * Validates the file (CSV or xlsx, sniffed) as a roster of the given kind for the school
 * school_id, and, when it has no error and dry_run is 0, registers every new person in one
 * transaction: students with their enrolment in the named class, teachers with their post,
 * the classes they teach and the class they head. report_json gets the report
 * {"ok","kind","rows","created","skipped","errors","warnings","findings":[{severity,line,
 * column,code,value,message:{zh,en}}]} (at most 500 findings, counts exact). Returns 0 (look at
 * result->errors), or a store error (scope: EB_ENOTFOUND; nothing written).
 */
int eb_roster_import(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                     enum eb_roster_kind kind, const void *data, size_t len, int dry_run,
                     struct eb_roster_result *result, struct eb_buf *report_json);

/** The text form of a JSON report, for the CLI: one line per finding, then the verdict. */
void eb_roster_report_text(const char *report_json, const char *lang, struct eb_buf *out);

/* Handlers (roster_routes.c). */
int eb_roster_template_handler(struct eb_req *r); /* GET /roster-templates/{kind}.xlsx */
int eb_roster_import_handler(struct eb_req *r);   /* POST /orgs/{id}/roster-import */

#endif
