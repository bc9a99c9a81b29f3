/* Accounts for everyone: one-time codes, bulk accounts, parent binding, registration rates. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "core/err.h"

/* ---- one-time codes --------------------------------------------------------------------- */

/* 32 digits and capitals without the look-alikes 0/O and 1/I: 5 bits a character, so that a
 * random byte masked to 5 bits picks one without bias. */
static const char OTC_ALPHABET[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
#define OTC_PREFIX "$otc$"

static void otc_stored(const char *chars, int64_t expires_at, char stored[EB_OTC_STORED])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256(h, (const unsigned char *)chars, strlen(chars));
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(stored, EB_OTC_STORED, OTC_PREFIX "%lld$%s", (long long)expires_at, hex);
}

void eb_otc_new(int64_t expires_at, char text[EB_OTC_TEXT], char stored[EB_OTC_STORED])
{
    unsigned char rnd[EB_OTC_CHARS];
    char chars[EB_OTC_CHARS + 1];
    randombytes_buf(rnd, sizeof(rnd));
    for (int i = 0; i < EB_OTC_CHARS; i++)
        chars[i] = OTC_ALPHABET[rnd[i] & 31];
    chars[EB_OTC_CHARS] = '\0';
    size_t k = 0;
    for (int i = 0; i < EB_OTC_CHARS; i++) {
        if (i > 0 && i % 4 == 0)
            text[k++] = '-';
        text[k++] = chars[i];
    }
    text[k] = '\0';
    otc_stored(chars, expires_at, stored);
    sodium_memzero(rnd, sizeof(rnd));
    sodium_memzero(chars, sizeof(chars));
}

int eb_otc_is_code(const char *stored)
{
    return stored != NULL && strncmp(stored, OTC_PREFIX, strlen(OTC_PREFIX)) == 0;
}

int eb_otc_verify(const char *stored, const char *typed, int64_t now)
{
    char chars[EB_OTC_CHARS + 1], want[EB_OTC_STORED];
    size_t k = 0;
    if (!eb_otc_is_code(stored) || typed == NULL)
        return EB_EAUTH;
    const char *p = stored + strlen(OTC_PREFIX);
    char *end = NULL;
    long long expires = strtoll(p, &end, 10);
    if (end == p || *end != '$' || now >= expires)
        return EB_EAUTH;
    /* People copy codes from paper: dashes and spaces are layout, case is not meaning. */
    for (const char *t = typed; *t; t++) {
        char ch = *t;
        if (ch == '-' || ch == ' ')
            continue;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (k == EB_OTC_CHARS)
            return EB_EAUTH;
        chars[k++] = ch;
    }
    if (k != EB_OTC_CHARS)
        return EB_EAUTH;
    chars[k] = '\0';
    otc_stored(chars, expires, want);
    size_t n = strlen(want);
    int ok = strlen(stored) == n && sodium_memcmp(want, stored, n) == 0;
    sodium_memzero(chars, sizeof(chars));
    return ok ? 0 : EB_EAUTH;
}

/* ---- bulk accounts ---------------------------------------------------------------------- */

static const char SQL_UNITS_CLASSES[] =
    "SELECT id, name, path FROM orgs WHERE kind = 5 AND path >= ? AND path < ? ORDER BY path";
static const char SQL_UNITS_SCHOOLS[] =
    "SELECT id, name, path FROM orgs WHERE kind = 3 AND path >= ? AND path < ? ORDER BY path";
static const char SQL_NEW_STUDENTS[] =
    "SELECT e.person_id, p.name, NULL FROM enrolments e JOIN people p ON p.id = e.person_id"
    " WHERE e.class_id = ? AND e.end_date IS NULL AND NOT EXISTS (SELECT 1 FROM accounts a"
    " WHERE a.person_id = e.person_id) ORDER BY e.person_id";
static const char SQL_OTC_STUDENTS[] =
    "SELECT e.person_id, p.name, a.login, a.id FROM enrolments e JOIN people p ON p.id ="
    " e.person_id JOIN accounts a ON a.person_id = e.person_id WHERE e.class_id = ? AND"
    " e.end_date IS NULL AND a.password_hash LIKE '$otc$%' ORDER BY e.person_id";
/* Teachers of a school (posts) or, below school level, of the classes in a range (teaching). */
static const char SQL_NEW_TEACHERS_SCHOOL[] =
    "SELECT DISTINCT s.person_id, p.name, p.staff_no FROM posts s JOIN people p ON p.id ="
    " s.person_id WHERE s.school_path = ? AND s.end_date IS NULL AND NOT EXISTS (SELECT 1 FROM"
    " accounts a WHERE a.person_id = s.person_id) ORDER BY s.person_id";
static const char SQL_NEW_TEACHERS_CLASSES[] =
    "SELECT DISTINCT t.person_id, p.name, p.staff_no FROM teaching t JOIN people p ON p.id ="
    " t.person_id WHERE t.class_path >= ? AND t.class_path < ? AND t.end_date IS NULL AND NOT"
    " EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = t.person_id) ORDER BY t.person_id";
static const char SQL_OTC_TEACHERS_SCHOOL[] =
    "SELECT DISTINCT s.person_id, p.name, a.login, a.id FROM posts s JOIN people p ON p.id ="
    " s.person_id JOIN accounts a ON a.person_id = s.person_id WHERE s.school_path = ? AND"
    " s.end_date IS NULL AND a.password_hash LIKE '$otc$%' ORDER BY s.person_id";
static const char SQL_OTC_TEACHERS_CLASSES[] =
    "SELECT DISTINCT t.person_id, p.name, a.login, a.id FROM teaching t JOIN people p ON p.id ="
    " t.person_id JOIN accounts a ON a.person_id = t.person_id WHERE t.class_path >= ? AND"
    " t.class_path < ? AND t.end_date IS NULL AND a.password_hash LIKE '$otc$%'"
    " ORDER BY t.person_id";
static const char SQL_HEADS[] =
    "SELECT person_id, class_id, class_path FROM teaching WHERE class_path >= ? AND"
    " class_path < ? AND end_date IS NULL AND is_head_teacher = 1";
static const char SQL_LOGIN_TAKEN[] = "SELECT 1 FROM account_logins WHERE login = ?";
static const char SQL_ACC_INSERT[] =
    "INSERT INTO accounts (login, display_name, password_hash, person_id, must_change_password,"
    " disabled, created_at) VALUES (?, ?, ?, ?, ?, 0, ?) RETURNING id";
static const char SQL_LOGIN_ADD[] = "INSERT INTO account_logins (login, account_id) VALUES (?, ?)";
static const char SQL_GRANT_ADD[] =
    "INSERT INTO grants (account_id, role, org_id, org_path, created_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (account_id, role, org_id) DO NOTHING";
static const char SQL_ACC_REISSUE[] =
    "UPDATE accounts SET password_hash = ?, must_change_password = 1 WHERE id = ? AND"
    " password_hash LIKE '$otc$%'";
static const char SQL_SESSIONS_END[] = "DELETE FROM sessions WHERE account_id = ?";
static const char SQL_PENDING[] =
    "SELECT 1 FROM accounts WHERE id = ? AND password_hash LIKE '$otc$%'";

/* A class or a school: what one transaction of a bulk run covers. */
struct unit {
    int64_t id;
    char *name, *path;
};

/* One person of a unit, read before the unit's transaction starts. */
struct todo {
    int64_t person_id, account_id;
    char *name, *extra; /* extra: staff number (create) or current login (re-issue) */
};

struct head {
    int64_t person_id, class_id;
    char *class_path;
};

static int read_units(struct eb_db *db, const char *sql, const char *lo, const char *hi,
                      struct eb_arena *a, size_t *n, struct unit **out)
{
    struct eb__q q;
    size_t cap = 0;
    int rc;
    *n = 0;
    *out = NULL;
    eb__q_start(db, sql, &q);
    eb__q_text(&q, lo);
    eb__q_text(&q, hi);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct unit *u = eb_arena_grow(a, *out, *n, &cap, sizeof(**out));
        if (u == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        *out = u;
        u[*n].id = eb__q_col_int(&q, 0);
        u[*n].name = eb__q_col_str(&q, 1, a);
        u[*n].path = eb__q_col_str(&q, 2, a);
        (*n)++;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* Runs a people query (bound by the caller through bind) and keeps the rows. */
static int read_todo(struct eb__q *q, int with_account, struct eb_arena *a, size_t *n,
                     struct todo **out)
{
    size_t cap = 0;
    int rc;
    *n = 0;
    *out = NULL;
    while ((rc = eb__q_step(q)) == EB__STORE_ROW) {
        struct todo *t = eb_arena_grow(a, *out, *n, &cap, sizeof(**out));
        if (t == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        *out = t;
        t[*n].person_id = eb__q_col_int(q, 0);
        t[*n].name = eb__q_col_str(q, 1, a);
        t[*n].extra = eb__q_col_str(q, 2, a);
        t[*n].account_id = with_account ? eb__q_col_int(q, 3) : 0;
        (*n)++;
    }
    eb__q_end(q);
    return rc < 0 ? rc : 0;
}

static int login_usable(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 56)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static int login_taken(struct eb_db *db, const char *login)
{
    struct eb__q q;
    eb__q_start(db, SQL_LOGIN_TAKEN, &q);
    eb__q_text(&q, login);
    int rc = eb__q_step(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : rc == EB__STORE_ROW;
}

/* The first free login among base, base-2, base-3 ...: deterministic for the same tree. */
static int pick_login(struct eb_db *db, const char *base, char out[64])
{
    for (int i = 1; i < 1000; i++) {
        /* base is at most 56 characters (login_usable), so "-999" always fits. */
        if (i == 1)
            snprintf(out, 64, "%.56s", base);
        else
            snprintf(out, 64, "%.56s-%u", base, (unsigned)i % 1000u);
        int rc = login_taken(db, out);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return 0;
    }
    return EB_EEXIST;
}

static int add_grant(struct eb_db *db, int64_t account_id, enum eb_role role, int64_t org_id,
                     const char *path, int64_t now_s)
{
    struct eb__q q;
    eb__q_start(db, SQL_GRANT_ADD, &q);
    eb__q_int(&q, account_id);
    eb__q_int(&q, role);
    eb__q_int(&q, org_id);
    eb__q_text(&q, path);
    eb__q_int(&q, now_s);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static int insert_account(struct eb_db *db, const char *login, const char *name, const char *stored,
                          int64_t person_id, const char *now_iso, int64_t *id)
{
    struct eb__q q;
    *id = 0;
    eb__q_start(db, SQL_ACC_INSERT, &q);
    eb__q_text(&q, login);
    eb__q_text(&q, name);
    eb__q_text(&q, stored);
    eb__q_int(&q, person_id);
    eb__q_int(&q, 1);
    eb__q_text(&q, now_iso);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *id = eb__q_col_int(&q, 0);
        rc = eb__q_exec(&q);
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    if (*id == 0)
        return EB_ESTORE;
    eb__q_start(db, SQL_LOGIN_ADD, &q);
    eb__q_text(&q, login);
    eb__q_int(&q, *id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static int reissue_account(struct eb_db *db, int64_t account_id, const char *stored)
{
    struct eb__q q;
    eb__q_start(db, SQL_ACC_REISSUE, &q);
    eb__q_text(&q, stored);
    eb__q_int(&q, account_id);
    int rc = eb__q_exec(&q);
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    /* A session opened with the old code can only change the password; it ends too. */
    eb__q_start(db, SQL_SESSIONS_END, &q);
    eb__q_int(&q, account_id);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

/* What a bulk run shares between its units. */
struct bulk {
    struct eb_db *db;
    const struct eb_caller *c;
    enum eb_activation_mode mode;
    eb_activation_fn emit;
    void *arg;
    int64_t n, now_s, expires;
    char now_iso[32];
};

/*
 * One unit in one transaction: for each person, a login and an account with its grants
 * (create) or a new code (re-issue), then one audit row for the unit. The codes are handed to
 * emit only after the commit, so that nobody prints a code that was rolled back.
 */
static int bulk_unit(struct bulk *b, const struct unit *u, int is_class, const struct todo *todo,
                     size_t n_todo, const struct head *heads, size_t n_heads, int64_t school_id,
                     const char *school_path, struct eb_arena *a)
{
    struct eb_activation_item *items = NULL;
    int own = 0, rc;
    if (n_todo == 0)
        return 0;
    items = eb_arena_alloc(a, n_todo * sizeof(*items));
    if (items == NULL)
        return EB_ETOOBIG;
    rc = eb__tx_enter(b->db, b->c, &own);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n_todo && rc == 0; i++) {
        const struct todo *t = &todo[i];
        char text[EB_OTC_TEXT], stored[EB_OTC_STORED], login[64], base[64];
        struct eb_activation_item *it = &items[i];
        int64_t id = t->account_id;
        eb_otc_new(b->expires, text, stored);
        if (b->mode == EB_ACTIVATION_REISSUE) {
            rc = reissue_account(b->db, id, stored);
            snprintf(login, sizeof(login), "%s", t->extra ? t->extra : "");
        } else {
            if (is_class || !login_usable(t->extra))
                snprintf(base, sizeof(base), "%c%lld", is_class ? 's' : 't',
                         (long long)t->person_id);
            else
                snprintf(base, sizeof(base), "%s", t->extra);
            rc = pick_login(b->db, base, login);
            if (rc == 0)
                rc = insert_account(b->db, login, t->name, stored, t->person_id, b->now_iso, &id);
            if (rc == 0 && is_class)
                rc = add_grant(b->db, id, EB_ROLE_STUDENT, u->id, u->path, b->now_s);
            if (rc == 0 && !is_class)
                rc = add_grant(b->db, id, EB_ROLE_TEACHER, school_id, school_path, b->now_s);
            for (size_t h = 0; rc == 0 && !is_class && h < n_heads; h++)
                if (heads[h].person_id == t->person_id)
                    rc = add_grant(b->db, id, EB_ROLE_HEAD_TEACHER, heads[h].class_id,
                                   heads[h].class_path, b->now_s);
        }
        it->account_id = id;
        it->person_id = t->person_id;
        it->class_id = is_class ? u->id : 0;
        it->kind = is_class ? "student" : "teacher";
        it->name = t->name;
        it->login = eb_arena_strdup(a, login);
        it->code = eb_arena_strdup(a, text);
        it->class_name = is_class ? u->name : NULL;
        sodium_memzero(text, sizeof(text));
    }
    if (rc == 0)
        rc = eb__audit_write(b->db, b->c,
                             b->mode == EB_ACTIVATION_CREATE ? "accounts.bulk_create"
                                                             : "accounts.code_reissue",
                             "org", u->id, u->path, NULL,
                             json_pack("{s:s, s:I}", "kind", is_class ? "student" : "teacher",
                                       "accounts", (json_int_t)n_todo));
    rc = eb__tx_leave(b->db, own, rc);
    if (rc != 0)
        return rc;
    b->n += (int64_t)n_todo;
    for (size_t i = 0; b->emit != NULL && i < n_todo; i++)
        b->emit(b->arg, &items[i]);
    return 0;
}

/* The school prefix "/c/d/s/" of a path at school level or below; 0 when above. */
static int school_prefix(const char *path, char out[EB_PATH_MAX])
{
    int slashes = 0;
    size_t i = 0;
    for (; path[i] && slashes < 4; i++)
        slashes += path[i] == '/';
    if (slashes < 4 || i >= EB_PATH_MAX)
        return 0;
    memcpy(out, path, i);
    out[i] = '\0';
    return 1;
}

static int64_t last_id(const char *path)
{
    size_t n = strlen(path);
    if (n < 2)
        return 0;
    size_t i = n - 1;
    while (i > 0 && path[i - 1] != '/')
        i--;
    return strtoll(path + i, NULL, 10);
}

static int bulk_students(struct bulk *b, const char *path, const char *hi, struct eb_arena *a)
{
    size_t n_units = 0;
    struct unit *units = NULL;
    int rc = read_units(b->db, SQL_UNITS_CLASSES, path, hi, a, &n_units, &units);
    for (size_t i = 0; rc == 0 && i < n_units; i++) {
        /* A scratch arena per class keeps a city's run in constant memory. */
        struct eb_arena *ua = eb_arena_create(0);
        struct eb__q q;
        size_t n = 0;
        struct todo *todo = NULL;
        int reissue = b->mode == EB_ACTIVATION_REISSUE;
        eb__q_start(b->db, reissue ? SQL_OTC_STUDENTS : SQL_NEW_STUDENTS, &q);
        eb__q_int(&q, units[i].id);
        rc = read_todo(&q, reissue, ua, &n, &todo);
        if (rc == 0)
            rc = bulk_unit(b, &units[i], 1, todo, n, NULL, 0, 0, NULL, ua);
        eb_arena_destroy(ua);
    }
    return rc;
}

static int bulk_teachers(struct bulk *b, const char *path, const char *hi, enum eb_org_kind kind,
                         struct eb_arena *a)
{
    size_t n_units = 0;
    struct unit *units = NULL, one;
    char school[EB_PATH_MAX];
    int rc = 0;
    int below = kind == EB_ORG_GRADE || kind == EB_ORG_CLASS;
    if (below) {
        /* Teachers who teach in the grade or class; their teacher role is at the school. */
        one.id = 0;
        one.name = NULL;
        one.path = (char *)eb_arena_strdup(a, path);
        units = &one;
        n_units = 1;
    } else {
        rc = read_units(b->db, SQL_UNITS_SCHOOLS, path, hi, a, &n_units, &units);
    }
    for (size_t i = 0; rc == 0 && i < n_units; i++) {
        struct eb_arena *ua = eb_arena_create(0);
        struct eb__q q;
        size_t n = 0, n_heads = 0, cap = 0;
        struct todo *todo = NULL;
        struct head *heads = NULL;
        char uhi[EB_PATH_MAX];
        int reissue = b->mode == EB_ACTIVATION_REISSUE;
        if (!school_prefix(units[i].path, school)) {
            eb_arena_destroy(ua);
            return EB_EINVAL;
        }
        eb__path_hi(units[i].path, uhi);
        if (below) {
            eb__q_start(b->db, reissue ? SQL_OTC_TEACHERS_CLASSES : SQL_NEW_TEACHERS_CLASSES, &q);
            eb__q_text(&q, units[i].path);
            eb__q_text(&q, uhi);
        } else {
            eb__q_start(b->db, reissue ? SQL_OTC_TEACHERS_SCHOOL : SQL_NEW_TEACHERS_SCHOOL, &q);
            eb__q_text(&q, units[i].path);
        }
        rc = read_todo(&q, reissue, ua, &n, &todo);
        if (rc == 0 && n > 0 && !reissue) {
            /* The head teachers of the unit's classes, in one scan, matched in memory. */
            eb__q_start(b->db, SQL_HEADS, &q);
            eb__q_text(&q, units[i].path);
            eb__q_text(&q, uhi);
            while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
                struct head *h = eb_arena_grow(ua, heads, n_heads, &cap, sizeof(*heads));
                if (h == NULL) {
                    rc = EB_ETOOBIG;
                    break;
                }
                heads = h;
                heads[n_heads].person_id = eb__q_col_int(&q, 0);
                heads[n_heads].class_id = eb__q_col_int(&q, 1);
                heads[n_heads].class_path = eb__q_col_str(&q, 2, ua);
                n_heads++;
            }
            eb__q_end(&q);
            rc = rc < 0 ? rc : 0;
        }
        struct unit u = units[i];
        if (below)
            u.id = last_id(units[i].path);
        if (rc == 0)
            rc = bulk_unit(b, &u, 0, todo, n, heads, n_heads, last_id(school), school, ua);
        eb_arena_destroy(ua);
    }
    return rc;
}

int eb_store_accounts_bulk(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                           enum eb_activation_mode mode, eb_activation_fn emit, void *arg,
                           int64_t *n)
{
    char path[EB_PATH_MAX], hi[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    struct eb_arena *a = NULL;
    struct bulk b = {.db = db, .c = c, .mode = mode, .emit = emit, .arg = arg};
    *n = 0;
    int rc = eb__org_path(db, org_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    eb__path_hi(path, hi);
    b.now_s = eb__now_ms() / 1000;
    b.expires = b.now_s + EB_OTC_TTL_S;
    time_t t = (time_t)b.now_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(b.now_iso, sizeof(b.now_iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
    a = eb_arena_create(0);
    rc = bulk_students(&b, path, hi, a);
    if (rc == 0)
        rc = bulk_teachers(&b, path, hi, kind, a);
    eb_arena_destroy(a);
    *n = b.n;
    return rc;
}

int eb_store_account_activation_pending(struct eb_db *db, int64_t account_id)
{
    struct eb__q q;
    eb__q_start(db, SQL_PENDING, &q);
    eb__q_int(&q, account_id);
    int rc = eb__q_step(&q);
    eb__q_end(&q);
    return rc < 0 ? rc : rc == EB__STORE_ROW;
}

/* ---- parent binding --------------------------------------------------------------------- */

static const char SQL_CURRENT_CLASS[] =
    "SELECT e.class_id, e.class_path, e.school_id FROM enrolments e JOIN people p ON p.id ="
    " e.person_id WHERE e.person_id = ? AND e.end_date IS NULL AND p.kind = 'student'";
static const char SQL_BIND_SET[] =
    "INSERT INTO binding_codes (student_id, school_id, code_hash, created_at, expires_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (student_id, school_id) DO UPDATE SET"
    " code_hash = excluded.code_hash, created_at = excluded.created_at,"
    " expires_at = excluded.expires_at";
static const char SQL_BIND_GET[] =
    "SELECT code_hash FROM binding_codes WHERE student_id = ? AND school_id = ?";
static const char SQL_BIND_DELETE[] =
    "DELETE FROM binding_codes WHERE student_id = ? AND school_id = ?";
static const char SQL_STUDENT_BY_SNO[] =
    "SELECT id FROM people WHERE student_no_idx = ? AND kind = 'student'";

static int current_class(struct eb_db *db, int64_t student_id, int64_t *class_id,
                         char path[EB_PATH_MAX], int64_t *school_id)
{
    struct eb__q q;
    eb__q_start(db, SQL_CURRENT_CLASS, &q);
    eb__q_int(&q, student_id);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        *class_id = eb__q_col_int(&q, 0);
        snprintf(path, EB_PATH_MAX, "%s", q.db->be->col_text(q.stmt, 1, NULL));
        *school_id = eb__q_col_int(&q, 2);
        rc = 0;
    } else if (rc == EB__STORE_DONE) {
        rc = EB_EINVAL;
    }
    eb__q_end(&q);
    return rc;
}

int eb_store_binding_code_set(struct eb_db *db, const struct eb_caller *c, int64_t student_id,
                              const char *stored, int64_t now)
{
    char path[EB_PATH_MAX];
    int64_t class_id = 0, school_id = 0;
    struct eb__q q;
    int own = 0;
    if (!eb_otc_is_code(stored))
        return EB_EINVAL;
    int rc = eb__person_check(db, c, student_id, EB_ACCESS_WRITE, NULL);
    if (rc != 0)
        return rc;
    rc = current_class(db, student_id, &class_id, path, &school_id);
    if (rc != 0)
        return rc;
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_BIND_SET, &q);
    eb__q_int(&q, student_id);
    eb__q_int(&q, school_id);
    eb__q_text(&q, stored);
    eb__q_int(&q, now);
    eb__q_int(&q, now + EB_BIND_TTL_S);
    rc = eb__q_exec(&q);
    eb__q_end(&q);
    rc = rc < 0 ? rc : 0;
    if (rc == 0)
        rc = eb__audit_write(db, c, "person.binding_code", "person", student_id, path, NULL, NULL);
    return eb__tx_leave(db, own, rc);
}

/* The current students of a class with their masked student numbers, for a class's sheet. */
static const char SQL_CLASS_STUDENTS[] =
    "SELECT e.person_id, p.name, p.student_no_mask, e.school_id FROM enrolments e JOIN people p"
    " ON p.id = e.person_id WHERE e.class_id = ? AND e.end_date IS NULL AND p.kind = 'student'"
    " ORDER BY e.person_id";

int eb_store_binding_codes_class(struct eb_db *db, const struct eb_caller *c, int64_t class_id,
                                 int64_t now, struct eb_arena *a, size_t *n,
                                 struct eb_binding_item **items)
{
    char path[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    struct eb__q q;
    size_t cap = 0;
    int own = 0;
    int64_t *school_ids = NULL;
    size_t scap = 0;
    *n = 0;
    *items = NULL;
    int rc = eb__org_path(db, class_id, path, &kind);
    if (rc != 0)
        return rc;
    /* The scope test comes before the kind test, so that a node outside the caller's scope
     * answers like a missing one whatever its kind. */
    if (!eb_caller_allows(c, path, EB_ACCESS_WRITE))
        return EB_ENOTFOUND;
    if (kind != EB_ORG_CLASS)
        return EB_EINVAL;
    eb__q_start(db, SQL_CLASS_STUDENTS, &q);
    eb__q_int(&q, class_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct eb_binding_item *it = eb_arena_grow(a, *items, *n, &cap, sizeof(**items));
        int64_t *s = eb_arena_grow(a, school_ids, *n, &scap, sizeof(*school_ids));
        if (it == NULL || s == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        *items = it;
        school_ids = s;
        memset(&it[*n], 0, sizeof(it[*n]));
        it[*n].student_id = eb__q_col_int(&q, 0);
        it[*n].name = eb__q_col_str(&q, 1, a);
        it[*n].student_no = eb__q_col_str(&q, 2, a);
        s[*n] = eb__q_col_int(&q, 3);
        (*n)++;
    }
    eb__q_end(&q);
    if (rc < 0)
        goto done;
    rc = 0;
    if (*n == 0)
        goto done;
    /* One transaction for the class: either every student's code changes or none does, so a
     * printed sheet never mixes old and new codes. */
    rc = eb__tx_enter(db, c, &own);
    if (rc != 0)
        goto done;
    for (size_t i = 0; i < *n && rc == 0; i++) {
        char text[EB_OTC_TEXT], stored[EB_OTC_STORED];
        eb_otc_new(now + EB_BIND_TTL_S, text, stored);
        eb__q_start(db, SQL_BIND_SET, &q);
        eb__q_int(&q, (*items)[i].student_id);
        eb__q_int(&q, school_ids[i]);
        eb__q_text(&q, stored);
        eb__q_int(&q, now);
        eb__q_int(&q, now + EB_BIND_TTL_S);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        rc = rc < 0 ? rc : 0;
        (*items)[i].code = eb_arena_strdup(a, text);
        sodium_memzero(text, sizeof(text));
        if (rc == 0 && (*items)[i].code == NULL)
            rc = EB_ETOOBIG;
    }
    if (rc == 0)
        rc = eb__audit_write(db, c, "class.binding_codes", "org", class_id, path, NULL,
                             json_pack("{s:I}", "students", (json_int_t)*n));
    rc = eb__tx_leave(db, own, rc);
done:
    if (rc != 0) {
        /* Codes that were rolled back must not reach a sheet. */
        *n = 0;
        *items = NULL;
    }
    return rc;
}

int eb_store_parent_register(struct eb_db *db, const struct eb_caller *c,
                             const struct eb_parent_registration *in, int64_t now,
                             int64_t *account_id)
{
    char idx[65], path[EB_PATH_MAX], stored[EB_OTC_STORED] = "";
    int64_t student_id = 0, class_id = 0, school_id = 0;
    struct eb__q q;
    int own = 0, rc;
    *account_id = 0;
    if (in->student_no == NULL || in->code == NULL || in->login == NULL || in->name == NULL ||
        in->password_hash == NULL)
        return EB_EINVAL;
    eb__pii_blind_index(db->store, in->student_no, idx);
    eb__q_start(db, SQL_STUDENT_BY_SNO, &q);
    eb__q_text(&q, idx);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        student_id = eb__q_col_int(&q, 0);
    eb__q_end(&q);
    sodium_memzero(idx, sizeof(idx));
    if (rc < 0)
        return rc;
    if (student_id == 0)
        return EB_EAUTH;
    rc = current_class(db, student_id, &class_id, path, &school_id);
    if (rc == EB_EINVAL)
        return EB_EAUTH;
    if (rc != 0)
        return rc;
    eb__q_start(db, SQL_BIND_GET, &q);
    eb__q_int(&q, student_id);
    eb__q_int(&q, school_id);
    rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW)
        snprintf(stored, sizeof(stored), "%s", q.db->be->col_text(q.stmt, 0, NULL));
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    if (eb_otc_verify(stored, in->code, now) != 0)
        return EB_EAUTH;
    rc = login_taken(db, in->login);
    if (rc != 0)
        return rc < 0 ? rc : EB_EEXIST;

    /* The writes run as the system on behalf of the school: the binding code is the school's
     * permission, checked above. */
    struct eb_caller sys = {.system = 1, .client_addr = c->client_addr};
    int64_t person_id = 0, link_id = 0, id = 0;
    char start[11];
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(start, sizeof(start), "%Y-%m-%d", &tm);
    rc = eb__tx_enter(db, &sys, &own);
    if (rc != 0)
        return rc;
    struct eb_person p = {.name = in->name, .phone = in->phone, .org_id = school_id};
    char kind[] = "parent";
    p.kind = kind;
    rc = eb_store_person_create(db, &sys, &p, &person_id);
    if (rc == 0) {
        struct eb_guardian g = {.parent_id = person_id,
                                .student_id = student_id,
                                .relation = in->relation ? in->relation : "其他监护人",
                                .start_date = start};
        rc = eb_store_guardian_create(db, &sys, &g, &link_id);
    }
    if (rc == 0) {
        struct eb_account acc = {.login = in->login,
                                 .display_name = in->name,
                                 .password_hash = in->password_hash,
                                 .person_id = person_id};
        rc = eb_store_account_create(db, &sys, &acc, &id);
    }
    if (rc == 0) {
        int64_t gid = 0;
        rc = eb_store_grant_add(db, &sys, id, EB_ROLE_PARENT, class_id, &gid);
    }
    if (rc == 0) {
        eb__q_start(db, SQL_BIND_DELETE, &q);
        eb__q_int(&q, student_id);
        eb__q_int(&q, school_id);
        rc = eb__q_exec(&q);
        eb__q_end(&q);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        rc = eb__audit_write(
            db, &sys, "parent.register", "person", student_id, path, NULL,
            json_pack("{s:I, s:s}", "account_id", (json_int_t)id, "login", in->login));
    rc = eb__tx_leave(db, own, rc);
    if (rc == 0)
        *account_id = id;
    return rc;
}

/* ---- registration rate ------------------------------------------------------------------ */

/*
 * Each count is one range scan on a path index (enrolments_current_path, posts_current_path,
 * teaching_current_path) with index probes into accounts by person_id (accounts_person) inside
 * the same statement: the database joins, the store sends one statement per kind and node.
 * Activated: an account that is not disabled and whose password is no longer a one-time code.
 */
#define ACC_FLAGS(col)                                                                             \
    "COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = " col   \
    ") THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM accounts a WHERE"      \
    " a.person_id = " col " AND a.disabled = 0 AND a.password_hash IS NOT NULL AND"                \
    " a.password_hash NOT LIKE '$otc$%') THEN 1 ELSE 0 END), 0)"

static const char SQL_REG_STUDENTS[] =
    "SELECT " ACC_FLAGS("e.person_id") " FROM enrolments e WHERE e.end_date IS NULL AND"
                                       " e.class_path >= ? AND e.class_path < ?";
static const char SQL_REG_TEACHERS[] =
    "SELECT " ACC_FLAGS("x.person_id") " FROM (SELECT DISTINCT person_id FROM posts WHERE"
                                       " end_date IS NULL AND school_path >= ? AND school_path"
                                       " < ?) x";
static const char SQL_REG_TEACHERS_BELOW[] =
    "SELECT " ACC_FLAGS("x.person_id") " FROM (SELECT DISTINCT person_id FROM teaching WHERE"
                                       " end_date IS NULL AND class_path >= ? AND class_path"
                                       " < ?) x";
static const char SQL_REG_PARENTS[] =
    "SELECT " ACC_FLAGS("x.person_id") " FROM (SELECT DISTINCT g.parent_id AS person_id FROM"
                                       " enrolments e JOIN guardians g ON g.student_id ="
                                       " e.person_id AND g.end_date IS NULL WHERE e.end_date IS"
                                       " NULL AND e.class_path >= ? AND e.class_path < ?) x";
static const char SQL_REG_CHILDREN[] =
    "SELECT id, kind, name, path FROM orgs WHERE parent_id = ? ORDER BY id";

static int reg_count(struct eb_db *db, const char *sql, const char *path, const char *hi,
                     struct eb_reg_counts *out)
{
    struct eb__q q;
    eb__q_start(db, sql, &q);
    eb__q_text(&q, path);
    eb__q_text(&q, hi);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        out->people = eb__q_col_int(&q, 0);
        out->registered = eb__q_col_int(&q, 1);
        out->activated = eb__q_col_int(&q, 2);
        rc = 0;
    }
    eb__q_end(&q);
    return rc < 0 ? rc : 0;
}

static int reg_node(struct eb_db *db, const char *path, enum eb_org_kind kind,
                    struct eb_reg_row *row)
{
    char hi[EB_PATH_MAX];
    eb__path_hi(path, hi);
    int rc = reg_count(db, SQL_REG_STUDENTS, path, hi, &row->students);
    if (rc == 0)
        rc = reg_count(db, kind > EB_ORG_SCHOOL ? SQL_REG_TEACHERS_BELOW : SQL_REG_TEACHERS, path,
                       hi, &row->teachers);
    if (rc == 0)
        rc = reg_count(db, SQL_REG_PARENTS, path, hi, &row->parents);
    return rc;
}

int eb_store_registration(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                          struct eb_arena *a, struct eb_reg_row *total, size_t *n,
                          struct eb_reg_row **children)
{
    char path[EB_PATH_MAX];
    enum eb_org_kind kind = 0;
    struct eb__q q;
    size_t cap = 0;
    memset(total, 0, sizeof(*total));
    *n = 0;
    *children = NULL;
    int rc = eb__org_path(db, org_id, path, &kind);
    if (rc != 0)
        return rc;
    if (!eb__caller_sees_people(c, path))
        return EB_ENOTFOUND;
    total->org_id = org_id;
    total->kind = kind;
    rc = reg_node(db, path, kind, total);
    if (rc != 0)
        return rc;
    struct {
        char path[EB_PATH_MAX];
    } *paths = NULL;
    size_t pcap = 0;
    eb__q_start(db, SQL_REG_CHILDREN, &q);
    eb__q_int(&q, org_id);
    while ((rc = eb__q_step(&q)) == EB__STORE_ROW) {
        struct eb_reg_row *r = eb_arena_grow(a, *children, *n, &cap, sizeof(**children));
        void *p = eb_arena_grow(a, paths, *n, &pcap, sizeof(*paths));
        if (r == NULL || p == NULL) {
            rc = EB_ETOOBIG;
            break;
        }
        *children = r;
        paths = p;
        memset(&r[*n], 0, sizeof(r[*n]));
        r[*n].org_id = eb__q_col_int(&q, 0);
        r[*n].kind = (enum eb_org_kind)eb__q_col_int(&q, 1);
        r[*n].name = eb__q_col_str(&q, 2, a);
        snprintf(paths[*n].path, EB_PATH_MAX, "%s", q.db->be->col_text(q.stmt, 3, NULL));
        (*n)++;
    }
    eb__q_end(&q);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < *n; i++) {
        rc = reg_node(db, paths[i].path, (*children)[i].kind, &(*children)[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}
