/* Package validation (manifest, bulk/delta, references between files) and row streaming. */
#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/strset.h"
#include "oneroster/or_int.h"

#include <stdio.h>
#include <string.h>

/* The one-byte tag kept with each id: the index + 1 of the row's type or role token (0 when
 * it was not a valid token) and whether the row is marked tobedeleted. */
#define TAG_DELETED 0x80u
#define TAG_TOKEN   0x1Fu

struct fstate {
    enum eb_or_mode mode;
    int present;  /* the package has the file */
    int complete; /* read to its end with a usable header: its id set answers references */
    struct eb_strset *ids;
    size_t rows;
};

struct pending {
    const char *value;
    size_t len;
    long line;
    int col;
};

struct checker {
    struct eb_or_report *r;
    struct fstate files[EB_OR_N_FILES];
    int standalone; /* one file alone: references to other files are not checked */
    /* The file being read. */
    enum eb_or_file f;
    const struct eb__or_filespec *spec;
    struct eb__or_header h;
    int have_header;
    size_t rows;
    struct eb_arena *fa; /* per-file: pending self-references, extension column names */
    struct pending *pend;
    size_t n_pend, cap_pend;
    /* Second pass. */
    const struct eb_or_callbacks *cb;
    const char **extra_names;
    size_t n_extra;
    int conflict;
};

static void add(struct checker *k, enum eb__or_code code, long line, const char *column,
                const char *value, size_t vlen, const char *detail)
{
    eb__or_add(k->r, code, (int)k->f, NULL, line, column, value, vlen, detail);
}

/* ---- References ---- */

static int token_is(const char *const *tokens, uint8_t tag, const char *token)
{
    unsigned t = tag & TAG_TOKEN;
    return t && strcmp(tokens[t - 1], token) == 0;
}

static void check_target_row(struct checker *k, long line, const struct eb__or_col *col,
                             const char *v, size_t len, uint8_t tag, const char *const *row)
{
    unsigned t = tag & TAG_TOKEN;
    if (tag & TAG_DELETED)
        add(k, OR_REFERENCE_TO_DELETED, line, col->name, v, len, eb__or_files[col->ref].csv);
    if (!t)
        return;
    switch ((enum eb__or_refcheck)col->refcheck) {
    case OR_RC_NONE:
        break;
    case OR_RC_SCHOOL:
        /* §1.6/§1.8: schoolSourcedId must be an org of type school. A wrong type is only a
         * warning: the org exists, and the importer can still attach the class to it. */
        if (!token_is(eb__or_org_types, tag, "school"))
            add(k, OR_NOT_A_SCHOOL, line, col->name, v, len, eb__or_org_types[t - 1]);
        break;
    case OR_RC_SCHOOL_YEAR:
        if (!token_is(eb__or_session_types, tag, "schoolYear"))
            add(k, OR_NOT_A_SCHOOL_YEAR, line, col->name, v, len, eb__or_session_types[t - 1]);
        break;
    case OR_RC_ENROLL_ROLE: {
        const char *er = row[EB_OR_ENROLLMENTS_ROLE];
        int enr_student = strcmp(er, "student") == 0;
        int user_student = token_is(eb__or_user_roles, tag, "student");
        int family = token_is(eb__or_user_roles, tag, "parent") ||
                     token_is(eb__or_user_roles, tag, "guardian") ||
                     token_is(eb__or_user_roles, tag, "relative");
        if (*er && (enr_student != user_student || family))
            add(k, OR_ROLE_MISMATCH, line, col->name, v, len, eb__or_user_roles[t - 1]);
        break;
    }
    }
}

static void push_pending(struct checker *k, long line, int col, const char *v, size_t len)
{
    if (k->n_pend == k->cap_pend) {
        k->cap_pend = k->cap_pend ? k->cap_pend * 2 : 256;
        k->pend = eb_xrealloc(k->pend, k->cap_pend * sizeof(*k->pend));
    }
    struct pending *p = &k->pend[k->n_pend++];
    p->value = eb_arena_strndup(k->fa, v, len);
    p->len = len;
    p->line = line;
    p->col = col;
}

static void check_ref(struct checker *k, long line, int c, const char *v, size_t len,
                      const char *const *row)
{
    const struct eb__or_col *col = &k->spec->cols[c];
    uint8_t tag = 0;
    if (col->ref == (int)k->f) {
        /* A reference into the file being read may point forward: it is settled at the end. */
        if (eb_strset_get(k->files[k->f].ids, v, len, &tag))
            check_target_row(k, line, col, v, len, tag, row);
        else
            push_pending(k, line, c, v, len);
        return;
    }
    if (k->standalone)
        return;
    const struct fstate *t = &k->files[col->ref];
    const char *target = eb__or_files[col->ref].csv;
    if (t->mode == EB_OR_ABSENT) {
        /* §1.8: a reference into a file declared absent cannot be resolved inside the
         * package. A bulk file must stand on its own; a delta may refer to existing data. */
        add(k,
            k->files[k->f].mode == EB_OR_BULK ? OR_REFERENCE_TO_ABSENT_FILE
                                              : OR_UNRESOLVED_REFERENCE,
            line, col->name, v, len, target);
        return;
    }
    if (!t->complete)
        return; /* The target file's own findings explain it; don't repeat them per row. */
    if (!eb_strset_get(t->ids, v, len, &tag)) {
        add(k, t->mode == EB_OR_BULK ? OR_MISSING_REFERENCE : OR_UNRESOLVED_REFERENCE, line,
            col->name, v, len, target);
        return;
    }
    check_target_row(k, line, col, v, len, tag, row);
}

static void settle_pending(struct checker *k)
{
    const struct fstate *fs = &k->files[k->f];
    for (size_t i = 0; i < k->n_pend; i++) {
        const struct pending *p = &k->pend[i];
        const struct eb__or_col *col = &k->spec->cols[p->col];
        uint8_t tag;
        if (!eb_strset_get(fs->ids, p->value, p->len, &tag))
            add(k, fs->mode == EB_OR_DELTA ? OR_UNRESOLVED_REFERENCE : OR_MISSING_REFERENCE,
                p->line, col->name, p->value, p->len, k->spec->csv);
        else if (tag & TAG_DELETED)
            add(k, OR_REFERENCE_TO_DELETED, p->line, col->name, p->value, p->len, k->spec->csv);
    }
    k->n_pend = 0;
}

/* ---- Rows, first pass ---- */

static void check_row(struct checker *k, long line, const char *const *fields, const size_t *lens)
{
    const struct eb__or_filespec *s = k->spec;
    struct fstate *fs = &k->files[k->f];
    const char *v[OR_MAX_COLS];
    size_t vl[OR_MAX_COLS];
    int ok[OR_MAX_COLS];
    for (size_t c = 0; c < OR_MAX_COLS; c++) {
        int pos = c < s->n_cols ? k->h.pos[c] : -1;
        v[c] = pos >= 0 ? fields[pos] : "";
        vl[c] = pos >= 0 ? lens[pos] : 0;
        ok[c] = 0;
    }
    /* Only a delta can delete (§1.4); in a bulk file the status is an error of its own. */
    int deleted = fs->mode == EB_OR_DELTA && strcmp(v[EB_OR_COL_STATUS], "tobedeleted") == 0;
    /* §1.4: bulk rows leave status and dateLastModified blank, delta rows fill both. */
    for (int c = EB_OR_COL_STATUS; c <= EB_OR_COL_DATE_LAST_MODIFIED; c++) {
        if (k->h.pos[c] < 0)
            continue;
        if (fs->mode == EB_OR_BULK && vl[c])
            add(k, OR_BULK_POPULATED, line, s->cols[c].name, v[c], vl[c], NULL);
        else if (fs->mode == EB_OR_DELTA && !vl[c])
            add(k, OR_DELTA_REQUIRED, line, s->cols[c].name, NULL, 0, NULL);
    }
    for (size_t c = 0; c < s->n_cols; c++) {
        const struct eb__or_col *col = &s->cols[c];
        if (k->h.pos[c] < 0)
            continue;
        if (!vl[c]) {
            /* A delta deletion names the record; its other fields may be left out. */
            int relaxed = deleted && c != EB_OR_COL_SOURCED_ID;
            if (col->required && !relaxed)
                add(k, OR_REQUIRED, line, col->name, NULL, 0, NULL);
            continue;
        }
        ok[c] = eb__or_check_value(k->r, k->f, line, col, v[c], vl[c]) == 0;
    }
    uint8_t tag = deleted ? TAG_DELETED : 0;
    if (s->tag_col >= 0 && ok[s->tag_col]) {
        int ci, t = eb__or_token(s->cols[s->tag_col].tokens, v[s->tag_col], &ci);
        if (t >= 0)
            tag |= (uint8_t)(t + 1);
    }
    if (vl[EB_OR_COL_SOURCED_ID] &&
        !eb_strset_add(fs->ids, v[EB_OR_COL_SOURCED_ID], vl[EB_OR_COL_SOURCED_ID], tag, NULL))
        add(k, OR_DUPLICATE_ID, line, s->cols[0].name, v[0], vl[0], NULL);
    if (s->date_from >= 0 && ok[s->date_from] && ok[s->date_to] &&
        strcmp(v[s->date_to], v[s->date_from]) < 0)
        add(k, OR_DATE_ORDER, line, s->cols[s->date_to].name, v[s->date_to], vl[s->date_to],
            v[s->date_from]);
    for (size_t c = 0; c < s->n_cols; c++) {
        const struct eb__or_col *col = &s->cols[c];
        if (col->ref < 0 || !ok[c] || !vl[c])
            continue;
        if (col->type != OR_T_REF_LIST) {
            check_ref(k, line, (int)c, v[c], vl[c], v);
            continue;
        }
        const char *p = v[c], *end = v[c] + vl[c];
        while (p < end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *e = comma ? comma : end;
            check_ref(k, line, (int)c, p, (size_t)(e - p), v);
            p = e + 1;
        }
    }
}

static int on_record_check(void *ctx, long line, size_t n, const char *const *fields,
                           const size_t *lens)
{
    struct checker *k = ctx;
    if (!k->have_header) {
        k->have_header = 1;
        eb__or_header_check(k->f, n, fields, lens, &k->h, k->r);
        return 0;
    }
    k->rows++;
    if (!k->h.usable)
        return 0;
    if (n != k->h.n) {
        char got[32], want[32];
        int len = snprintf(got, sizeof(got), "%zu", n);
        snprintf(want, sizeof(want), "%zu", k->h.n);
        add(k, OR_FIELD_COUNT, line, NULL, got, len > 0 ? (size_t)len : 0, want);
        return 0;
    }
    check_row(k, line, fields, lens);
    return 0;
}

/* ---- Rows, second pass ---- */

static int on_record_deliver(void *ctx, long line, size_t n, const char *const *fields,
                             const size_t *lens)
{
    struct checker *k = ctx;
    if (!k->have_header) {
        k->have_header = 1;
        eb__or_header_check(k->f, n, fields, lens, &k->h, NULL);
        k->extra_names = eb_arena_alloc(k->fa, (n ? n : 1) * sizeof(*k->extra_names));
        k->n_extra = 0;
        for (size_t i = 0; i < n; i++)
            if (k->h.map[i] < 0)
                k->extra_names[k->n_extra++] = eb_arena_strndup(k->fa, fields[i], lens[i]);
        return 0;
    }
    if (n != k->h.n || !k->h.usable) {
        k->conflict = 1;
        return EB_ECONFLICT;
    }
    const char *vals[OR_MAX_COLS];
    size_t vl[OR_MAX_COLS];
    const char *extra[OR_MAX_FIELDS];
    size_t n_extra = 0;
    for (size_t c = 0; c < k->spec->n_cols; c++) {
        int pos = k->h.pos[c];
        vals[c] = pos >= 0 ? fields[pos] : "";
        vl[c] = pos >= 0 ? lens[pos] : 0;
    }
    for (size_t i = 0; i < n; i++)
        if (k->h.map[i] < 0 && n_extra < OR_MAX_FIELDS)
            extra[n_extra++] = fields[i];
    k->rows++;
    if (!k->cb->row)
        return 0;
    struct eb_or_row row = {
        .file = k->f,
        .mode = k->files[k->f].mode,
        .line = line,
        .n_fields = k->spec->n_cols,
        .fields = vals,
        .lens = vl,
        .n_extra = n_extra,
        .extra_names = k->extra_names,
        .extra_values = extra,
    };
    return k->cb->row(k->cb->ctx, &row);
}

/* ---- Files ---- */

static int feed_chunk(void *ctx, const void *data, size_t len)
{
    return eb__or_csv_feed(ctx, data, len);
}

/* Reads one file through fn (pass 1 or 2); src is the package or NULL with a buffer. */
static int run_file(struct checker *k, enum eb_or_file f, struct eb__or_pkg *pkg, const void *buf,
                    size_t buf_len, eb__or_record_fn fn)
{
    struct eb__or_csv csv;
    int rc;
    k->f = f;
    k->spec = &eb__or_files[f];
    k->have_header = 0;
    k->rows = 0;
    k->n_pend = 0;
    memset(&k->h, 0, sizeof(k->h));
    k->fa = eb_arena_create(0);
    eb__or_csv_init(&csv, fn, k);
    if (pkg)
        rc = eb__or_pkg_stream(pkg, k->spec->csv, feed_chunk, &csv);
    else
        rc = eb__or_csv_feed(&csv, buf, buf_len);
    if (rc == 0)
        rc = eb__or_csv_finish(&csv);
    if (fn == on_record_check) {
        struct fstate *fs = &k->files[f];
        if (rc == EB_EIO)
            add(k, OR_FILE_UNREADABLE, 0, NULL, NULL, 0, NULL);
        if (csv.bom)
            add(k, OR_BOM, 1, NULL, NULL, 0, NULL);
        if (csv.err == OR_CSVERR_SYNTAX)
            add(k, OR_CSV_SYNTAX, csv.err_line, NULL, NULL, 0, NULL);
        else if (csv.err == OR_CSVERR_TOO_LONG)
            add(k, OR_ROW_TOO_LONG, csv.err_line, NULL, NULL, 0, NULL);
        if (!k->have_header && rc == 0 && csv.err == OR_CSVERR_OK)
            add(k, OR_EMPTY_FILE, 0, NULL, NULL, 0, NULL);
        else if (k->have_header && k->rows == 0 && rc == 0 && csv.err == OR_CSVERR_OK)
            add(k, OR_NO_DATA_ROWS, 0, NULL, NULL, 0, NULL);
        settle_pending(k);
        fs->rows = k->rows;
        fs->complete = rc == 0 && csv.err == OR_CSVERR_OK && k->h.usable;
        eb__or_report_file(k->r, f, fs->mode, k->rows);
    } else if (rc == 0 && (csv.err != OR_CSVERR_OK || k->rows != k->files[f].rows)) {
        /* The bytes differ from what was validated a moment ago. */
        rc = EB_ECONFLICT;
    }
    eb__or_csv_free(&csv);
    eb__or_header_free(&k->h);
    eb_arena_destroy(k->fa);
    k->fa = NULL;
    return rc;
}

/* ---- Manifest ---- */

struct manifest {
    struct checker *k;
    int have_header;
    int seen_manifest_version, seen_oneroster_version;
    int seen_file[EB_OR_N_FILES];
    int seen_system_name, seen_system_code;
};

static void madd(struct checker *k, enum eb__or_code code, long line, const char *column,
                 const char *value, size_t vlen, const char *detail)
{
    eb__or_add(k->r, code, OR_SLOT_MANIFEST, NULL, line, column, value, vlen, detail);
}

static int seen_once(struct checker *k, int *seen, long line, const char *name, size_t len)
{
    if (*seen) {
        madd(k, OR_MANIFEST_DUPLICATE, line, "propertyName", name, len, NULL);
        return 0;
    }
    *seen = 1;
    return 1;
}

static int on_manifest(void *ctx, long line, size_t n, const char *const *fields,
                       const size_t *lens)
{
    struct manifest *m = ctx;
    struct checker *k = m->k;
    if (!m->have_header) {
        m->have_header = 1;
        if (n != 2 || strcmp(fields[0], "propertyName") != 0 || strcmp(fields[1], "value") != 0)
            madd(k, OR_MANIFEST_HEADER, line, NULL, fields[0], lens[0], NULL);
        return 0;
    }
    if (n != 2) {
        char got[32];
        int len = snprintf(got, sizeof(got), "%zu", n);
        madd(k, OR_FIELD_COUNT, line, NULL, got, len > 0 ? (size_t)len : 0, "2");
        return 0;
    }
    const char *name = fields[0], *val = fields[1];
    if (strcmp(name, "manifest.version") == 0) {
        if (seen_once(k, &m->seen_manifest_version, line, name, lens[0]) && strcmp(val, "1.0") != 0)
            madd(k, OR_MANIFEST_VALUE, line, name, val, lens[1], "1.0");
        return 0;
    }
    if (strcmp(name, "oneroster.version") == 0) {
        if (seen_once(k, &m->seen_oneroster_version, line, name, lens[0]) &&
            strcmp(val, "1.1") != 0)
            madd(k, OR_UNSUPPORTED_VERSION, line, name, val, lens[1], NULL);
        return 0;
    }
    if (strcmp(name, "source.systemName") == 0) {
        seen_once(k, &m->seen_system_name, line, name, lens[0]);
        return 0;
    }
    if (strcmp(name, "source.systemCode") == 0) {
        seen_once(k, &m->seen_system_code, line, name, lens[0]);
        return 0;
    }
    for (int f = 0; f < EB_OR_N_FILES; f++) {
        if (strcmp(name, eb__or_files[f].key) != 0)
            continue;
        if (!seen_once(k, &m->seen_file[f], line, name, lens[0]))
            return 0;
        static const char *const modes[] = {"absent", "bulk", "delta", NULL};
        int ci, t = eb__or_token(modes, val, &ci);
        if (t < 0) {
            madd(k, OR_MANIFEST_VALUE, line, name, val, lens[1], "absent | bulk | delta");
            /* "Bulk" is still read as bulk so that the file gets checked too. */
            t = ci >= 0 ? ci : 0;
        }
        k->files[f].mode = (enum eb_or_mode)t;
        return 0;
    }
    madd(k, OR_MANIFEST_UNKNOWN_PROPERTY, line, NULL, name, lens[0], NULL);
    return 0;
}

static int read_manifest(struct checker *k, struct eb__or_pkg *pkg)
{
    struct manifest m;
    struct eb__or_csv csv;
    memset(&m, 0, sizeof(m));
    m.k = k;
    if (!eb__or_pkg_has(pkg, "manifest.csv")) {
        madd(k, OR_MANIFEST_MISSING, 0, NULL, NULL, 0, NULL);
        return -1;
    }
    eb__or_csv_init(&csv, on_manifest, &m);
    int rc = eb__or_pkg_stream(pkg, "manifest.csv", feed_chunk, &csv);
    if (rc == 0)
        rc = eb__or_csv_finish(&csv);
    if (rc != 0)
        madd(k, OR_FILE_UNREADABLE, 0, NULL, NULL, 0, NULL);
    if (csv.bom)
        madd(k, OR_BOM, 1, NULL, NULL, 0, NULL);
    if (csv.err == OR_CSVERR_SYNTAX)
        madd(k, OR_CSV_SYNTAX, csv.err_line, NULL, NULL, 0, NULL);
    else if (csv.err == OR_CSVERR_TOO_LONG)
        madd(k, OR_ROW_TOO_LONG, csv.err_line, NULL, NULL, 0, NULL);
    eb__or_csv_free(&csv);
    if (!m.have_header) {
        madd(k, OR_EMPTY_FILE, 0, NULL, NULL, 0, NULL);
        return -1;
    }
    if (!m.seen_manifest_version)
        madd(k, OR_MANIFEST_PROPERTY_MISSING, 0, "manifest.version", NULL, 0, NULL);
    if (!m.seen_oneroster_version)
        madd(k, OR_MANIFEST_PROPERTY_MISSING, 0, "oneroster.version", NULL, 0, NULL);
    for (int f = 0; f < EB_OR_N_FILES; f++)
        if (!m.seen_file[f])
            madd(k, OR_MANIFEST_PROPERTY_MISSING, 0, eb__or_files[f].key, NULL, 0, NULL);
    return 0;
}

/* Members that are not part of a OneRoster 1.1 package (roles.csv of v1.2, "Users.csv", files
 * in a folder) are listed as warnings; they are never read. */
static void check_members(struct checker *k, struct eb__or_pkg *pkg)
{
    for (size_t i = 0; i < eb__or_pkg_count(pkg); i++) {
        const char *name = eb__or_pkg_name(pkg, i);
        size_t len = strlen(name);
        if (strcmp(name, "manifest.csv") == 0 || name[0] == '.' ||
            strncmp(name, "__MACOSX/", 9) == 0 || (len > 0 && name[len - 1] == '/'))
            continue;
        int known = 0;
        for (int f = 0; f < EB_OR_N_FILES && !known; f++)
            known = strcmp(name, eb__or_files[f].csv) == 0;
        if (known)
            continue;
        int in_folder = strchr(name, '/') != NULL;
        eb__or_add(k->r, in_folder ? OR_FILE_NOT_AT_ROOT : OR_UNKNOWN_FILE, OR_SLOT_PACKAGE, name,
                   0, NULL, NULL, 0, NULL);
    }
}

static void checker_free(struct checker *k)
{
    for (int f = 0; f < EB_OR_N_FILES; f++)
        eb_strset_destroy(k->files[f].ids);
    eb_free(k->pend);
}

static int validate(const char *path, struct checker *k)
{
    struct eb__or_pkg *pkg = NULL;
    const char *why = "";
    int rc = eb__or_pkg_open(path, &pkg, &why);
    if (rc != 0) {
        eb__or_add(k->r, OR_PACKAGE_UNREADABLE, OR_SLOT_PACKAGE, NULL, 0, NULL, path, strlen(path),
                   why);
        return rc;
    }
    check_members(k, pkg);
    if (read_manifest(k, pkg) == 0) {
        for (int f = 0; f < EB_OR_N_FILES; f++) {
            struct fstate *fs = &k->files[f];
            fs->present = eb__or_pkg_has(pkg, eb__or_files[f].csv);
            k->f = (enum eb_or_file)f;
            if (fs->mode == EB_OR_ABSENT) {
                if (fs->present)
                    add(k, OR_FILE_UNEXPECTED, 0, NULL, NULL, 0, NULL);
                continue;
            }
            if (!fs->present) {
                add(k, OR_FILE_MISSING, 0, NULL, NULL, 0, eb_or_mode_name(fs->mode));
                eb__or_report_file(k->r, (enum eb_or_file)f, fs->mode, 0);
                continue;
            }
            fs->ids = eb_strset_create(0);
            run_file(k, (enum eb_or_file)f, pkg, NULL, 0, on_record_check);
        }
    }
    eb__or_pkg_close(pkg);
    return 0;
}

int eb_or_validate(const char *path, struct eb_or_report *report)
{
    struct checker k;
    memset(&k, 0, sizeof(k));
    k.r = report;
    int rc = validate(path, &k);
    checker_free(&k);
    return rc;
}

int eb_or_read(const char *path, const struct eb_or_callbacks *cb, struct eb_or_report *report)
{
    struct checker k;
    struct eb__or_pkg *pkg = NULL;
    const char *why = "";
    memset(&k, 0, sizeof(k));
    k.r = report;
    k.cb = cb;
    int rc = validate(path, &k);
    if (rc != 0)
        goto done;
    if (eb_or_report_errors(report) > 0) {
        rc = EB_EINVAL;
        goto done;
    }
    /* The id sets are not needed any more: give their memory back before the import runs. */
    for (int f = 0; f < EB_OR_N_FILES; f++) {
        eb_strset_destroy(k.files[f].ids);
        k.files[f].ids = NULL;
    }
    rc = eb__or_pkg_open(path, &pkg, &why);
    if (rc != 0) {
        rc = EB_ECONFLICT;
        goto done;
    }
    for (int f = 0; f < EB_OR_N_FILES && rc == 0; f++) {
        if (k.files[f].mode == EB_OR_ABSENT)
            continue;
        if (cb->file_begin)
            rc = cb->file_begin(cb->ctx, (enum eb_or_file)f, k.files[f].mode);
        if (rc == 0)
            rc = run_file(&k, (enum eb_or_file)f, pkg, NULL, 0, on_record_deliver);
        if (rc == EB_EIO)
            rc = EB_ECONFLICT;
        if (rc == 0 && cb->file_end)
            rc = cb->file_end(cb->ctx, (enum eb_or_file)f, k.files[f].rows);
    }
done:
    eb__or_pkg_close(pkg);
    checker_free(&k);
    return rc;
}

void eb_or_check_buffer(enum eb_or_file f, enum eb_or_mode m, const void *data, size_t len,
                        struct eb_or_report *report)
{
    struct checker k;
    if ((unsigned)f >= EB_OR_N_FILES)
        return;
    memset(&k, 0, sizeof(k));
    k.r = report;
    k.standalone = 1;
    k.files[f].mode = m;
    k.files[f].present = 1;
    k.files[f].ids = eb_strset_create(0);
    run_file(&k, f, NULL, data, len, on_record_check);
    checker_free(&k);
}
