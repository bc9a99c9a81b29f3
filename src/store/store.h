/*
 * The store: every read and write of persistent data goes through this interface.
 *
 * Domain code never sees SQL or a database API. Every function that returns or changes rows
 * takes the caller (struct eb_caller) and bounds the rows by the caller's scope here, in the
 * store layer: a row outside the scope answers EB_ENOTFOUND, exactly like a missing row.
 *
 * Threads: a struct eb_store is shared by the process; a struct eb_db (one connection) is used
 * by one thread at a time (eb_store_acquire / eb_store_release).
 *
 * Memory: results are allocated in the arena passed in and live as long as it does.
 */
#ifndef EB_STORE_H
#define EB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

struct eb_store;
struct eb_db;

/* ---- opening ---------------------------------------------------------------------------- */

struct eb_store_options {
    int pool_size;        /* connections kept open (>= number of worker threads) */
    int busy_timeout_ms;  /* how long a writer waits for a lock */
    int create;           /* create the database if missing */
    const char *key_file; /* secretbox key for citizen IDs; NULL = "<dsn>.key" for SQLite.
                           * Created with mode 0600 when missing. */
};

/** Opens the database named by dsn (a file path for SQLite) and applies pending migrations. */
int eb_store_open(const char *dsn, const struct eb_store_options *opt, struct eb_store **out);
void eb_store_close(struct eb_store *st);
/** A connection for the calling thread; never NULL (blocks while all are in use). */
struct eb_db *eb_store_acquire(struct eb_store *st);
void eb_store_release(struct eb_store *st, struct eb_db *db);
/** Schema version after migrations. */
int eb_store_schema_version(struct eb_db *db);
/** An online, consistent copy of the whole database into path (which must not exist). */
int eb_store_backup(struct eb_store *st, const char *path);
/** Name of the backend ("sqlite"). */
const char *eb_store_backend_name(const struct eb_store *st);

/**
 * Reads until eb_db_read_end (or the first write, or eb_db_begin) see one snapshot and take
 * the database locks once. Optional: a no-op where the backend gains nothing from it.
 */
int eb_db_read_begin(struct eb_db *db);
void eb_db_read_end(struct eb_db *db);
int eb_db_begin(struct eb_db *db); /* a write transaction */
int eb_db_commit(struct eb_db *db);
int eb_db_rollback(struct eb_db *db); /* safe to call when no transaction is open */
/** After a bulk load committed (a command line's import): lets the next queries plan with its
 * rows (PostgreSQL: ANALYZE; SQLite: nothing, its plans rest on covering indexes). */
int eb_store_after_bulk_load(struct eb_db *db);

/* ---- callers and scope ------------------------------------------------------------------ */

enum eb_role {
    EB_ROLE_NONE = 0,
    EB_ROLE_CITY_ADMIN,
    EB_ROLE_DISTRICT_ADMIN,
    EB_ROLE_SCHOOL_ADMIN,
    EB_ROLE_HEAD_TEACHER,
    EB_ROLE_TEACHER,
    EB_ROLE_STUDENT,
    EB_ROLE_PARENT,
    EB_ROLE_ANALYST,
    EB_ROLE_COUNT
};

/** "city_admin" ... ; NULL for an unknown value. */
const char *eb_role_name(enum eb_role role);
/** EB_ROLE_NONE for an unknown name. */
enum eb_role eb_role_parse(const char *name);

#define EB_PATH_MAX 96

/** One role held at one org node; it covers the node's subtree. */
struct eb_grant {
    int64_t id;
    enum eb_role role;
    int64_t org_id;
    char org_path[EB_PATH_MAX]; /* materialised path of org_id, e.g. "/1/12/345/" */
    const char *org_name;       /* may be NULL */
};

/** Who is asking. system callers (the CLI, the demo generator) are not bounded. */
struct eb_caller {
    int system;
    int64_t account_id;
    int64_t person_id; /* 0 when the account is not linked to a person */
    size_t n_grants;
    const struct eb_grant *grants;
    const char *client_addr; /* for the audit log; may be NULL */
    int no_audit;            /* with system: bulk loads (the demo generator) skip the audit rows */
};

/** What the caller wants to do with a row. */
enum eb_access {
    EB_ACCESS_READ,  /* see the row (people: names, classes; ID numbers masked) */
    EB_ACCESS_WRITE, /* create or change rows under the node */
    EB_ACCESS_PII,   /* see unmasked citizen ID numbers */
    EB_ACCESS_AUDIT, /* read the audit log */
};

/** True when some grant of the caller allows access to the node with this path. */
int eb_caller_allows(const struct eb_caller *c, const char *org_path, enum eb_access access);

/* ---- org tree --------------------------------------------------------------------------- */

enum eb_org_kind {
    EB_ORG_CITY = 1,
    EB_ORG_DISTRICT = 2,
    EB_ORG_SCHOOL = 3,
    EB_ORG_GRADE = 4,
    EB_ORG_CLASS = 5,
};

const char *eb_org_kind_name(enum eb_org_kind kind);  /* "city" ... */
enum eb_org_kind eb_org_kind_parse(const char *name); /* 0 when unknown */

/* School stages, a bit set. */
enum eb_stage {
    EB_STAGE_PRESCHOOL = 1 << 0,
    EB_STAGE_PRIMARY = 1 << 1,
    EB_STAGE_JUNIOR = 1 << 2,
    EB_STAGE_SENIOR = 1 << 3,
    EB_STAGE_VOCATIONAL = 1 << 4,
    EB_STAGE_SPECIAL = 1 << 5,
    EB_STAGE_LIFELONG = 1 << 6,
};

struct eb_org {
    int64_t id;
    int64_t parent_id; /* 0 for the city */
    enum eb_org_kind kind;
    const char *name;
    const char *path;
    const char *division_code; /* GB/T 2260, 6 digits (city, district, school) */
    /* schools */
    const char *school_code;  /* 学校标识码, 10 digits */
    const char *running_type; /* 办学类型, 3 digits, JY/T 1001 */
    unsigned stages;          /* enum eb_stage bits */
    const char *urban_rural;  /* 城乡类型, 3 digits (111, 112, 121, 122, 123, 210, 220) */
    const char *address;
    double lat, lon; /* 0,0 when unknown */
    int has_coords;
    /* grades and classes */
    const char *grade_code; /* 11..16, 21..24, 31..33, 01..03 (preschool), 41..43 (vocational) */
    int school_year;        /* classes: the year the school year starts, e.g. 2026 for 2026-2027 */
    int64_t n_students; /* computed on read: current enrolments in the subtree (0 if not asked) */
    const char *closed_on; /* YYYY-MM-DD or NULL */
};

struct eb_org_list {
    size_t n;
    struct eb_org *items;
    int64_t next; /* cursor for the next page, 0 when this is the last */
};

int eb_store_org_get(struct eb_db *db, const struct eb_caller *c, int64_t id, struct eb_arena *a,
                     struct eb_org *out);
/** As eb_store_org_get without n_students (0): one primary-key read, for hot paths that need
 * the node's name, kind and path only. */
int eb_store_org_head(struct eb_db *db, const struct eb_caller *c, int64_t id, struct eb_arena *a,
                      struct eb_org *out);
/** Children of parent_id with id > after, at most limit. */
int eb_store_org_children(struct eb_db *db, const struct eb_caller *c, int64_t parent_id,
                          int64_t after, int limit, struct eb_arena *a, struct eb_org_list *out);
/** Creates in->kind under in->parent_id (which must allow write); computes the path. */
int eb_store_org_create(struct eb_db *db, const struct eb_caller *c, const struct eb_org *in,
                        int64_t *id /* out */);
/** Changes the descriptive fields (name, codes, address, coordinates) of an org. */
int eb_store_org_update(struct eb_db *db, const struct eb_caller *c, int64_t id,
                        const struct eb_org *in);
/** Counts of nodes per kind and people in the caller's scope (for the portal). */
int eb_store_org_count(struct eb_db *db, enum eb_org_kind kind, int64_t *n /* out */);

/** What a subtree holds (the node itself not counted among the orgs). */
struct eb_org_stats {
    int64_t districts, schools, grades, classes; /* open nodes (closed_on NULL) */
    int64_t students;                            /* current enrolments */
    int64_t teachers;                            /* people with a current post */
    int64_t oversized_classes; /* classes with more than EB_CLASS_SIZE_MAX current students */
};
#define EB_CLASS_SIZE_MAX 55 /* 大班额: more than 55 students in a class */

/** Counts of the subtree of org_id; needs people-reading access there (students and parents
 * get EB_ENOTFOUND, as for lists of people). A few range scans, no per-row queries. */
int eb_store_org_stats(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                       struct eb_org_stats *out);

/* ---- students and teachers by stage (store_stage_counts.c) ------------------------------ */

#define EB_N_STAGES 7 /* the bits of enum eb_stage */

/**
 * Current students and teachers of a subtree per stage. Index i is the stage 1 << i of enum
 * eb_stage; index EB_N_STAGES counts those whose stage is unknown (a class without a grade code
 * in a school without stages). Every current enrolment and every teacher is counted exactly
 * once, so each array sums to eb_org_stats' students and teachers.
 */
struct eb_stage_counts {
    int64_t students[EB_N_STAGES + 1];
    int64_t teachers[EB_N_STAGES + 1];
};
/** "preschool", "primary", "junior", "senior", "vocational", "special", "lifelong" for the bit
 * index 0..6, "unknown" for EB_N_STAGES, NULL beyond. */
const char *eb_stage_code(int index);
/**
 * The split by stage of org_id's subtree; scope as eb_store_org_stats (EB_ENOTFOUND for callers
 * who may not list the node's people). A student's stage is their class's grade's (grade code
 * 0x preschool, 1x primary, 2x junior, 3x senior, 4x vocational) when the school teaches it,
 * else the school's lowest stage (a special-education school's 一年级 is special). A teacher's is
 * the school's stage; in a school of several stages (九年一贯制, 完全中学), the lowest stage among
 * the grades of the classes they currently teach there, else the school's lowest; a teacher
 * posted in several schools counts once, under the lowest of those stages. Two range scans on
 * the current enrolment and post indexes, grouped in SQL; no per-row queries.
 */
int eb_store_org_stage_counts(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                              struct eb_stage_counts *out);

/* ---- people ----------------------------------------------------------------------------- */

enum eb_sex { EB_SEX_UNKNOWN = 0, EB_SEX_MALE = 1, EB_SEX_FEMALE = 2 };

struct eb_person {
    int64_t id;
    const char *name;
    enum eb_sex sex;
    const char *birth_date; /* YYYY-MM-DD */
    const char *citizen_id; /* input: plain; output: masked unless PII was granted (then plain) */
    int citizen_id_masked;
    const char *student_no; /* G/J/L + 18, or NULL */
    const char *staff_no;   /* 教师工号, or NULL */
    const char *phone;
    int64_t org_id;       /* the school (or class) that registered the person */
    const char *org_name; /* output only */
    const char *kind;     /* output: "student", "teacher", "parent", "staff" */
};

struct eb_person_list {
    size_t n;
    struct eb_person *items;
    int64_t next;
};

/** The role filter of eb_store_org_people. */
enum eb_people_filter { EB_PEOPLE_ALL, EB_PEOPLE_STUDENTS, EB_PEOPLE_TEACHERS, EB_PEOPLE_PARENTS };

/**
 * A person. want_pii asks for the unmasked citizen ID; it is granted only with EB_ACCESS_PII on
 * the person's org, and every granted unmasked read is written to the audit log.
 */
int eb_store_person_get(struct eb_db *db, const struct eb_caller *c, int64_t id, int want_pii,
                        struct eb_arena *a, struct eb_person *out);
/** People currently enrolled (students) or posted (teachers) in org_id's subtree. */
int eb_store_org_people(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                        enum eb_people_filter filter, int64_t after, int limit, struct eb_arena *a,
                        struct eb_person_list *out);
/**
 * The data version of org_id's people lists, for readers that cache them: it changes in the
 * same transaction as any change of the people, enrolments, posts or orgs under a school, grade
 * or class. *version is -1 above school level (not versioned: do not cache). Scope as
 * eb_store_org_people: EB_ENOTFOUND when the caller may not list the node's people.
 */
int eb_store_people_version(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                            int64_t *version /* out */);
/** Current students or teachers of org_id's subtree whose name contains text, or whose student
 * number (exact, through its blind index) or staff number is text; scope as eb_store_org_people;
 * EB_EINVAL for an empty text, one over 64 bytes, or another filter. */
int eb_store_people_search(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                           enum eb_people_filter filter, const char *text, int64_t after, int limit,
                           struct eb_arena *a, struct eb_person_list *out);
/** Registers a person at in->org_id (write access needed). Validates codes; see registry_ids.h. */
int eb_store_person_create(struct eb_db *db, const struct eb_caller *c, const struct eb_person *in,
                           int64_t *id /* out */);
int eb_store_person_update(struct eb_db *db, const struct eb_caller *c, int64_t id,
                           const struct eb_person *in);

/* ---- enrolments, posts, guardians (date ranges; history is never overwritten) ---------- */

struct eb_enrolment {
    int64_t id, person_id, class_id;
    const char *class_name;            /* output */
    const char *start_date, *end_date; /* end_date NULL = current */
};

struct eb_post {
    int64_t id, person_id, school_id;
    const char *school_name; /* output */
    const char *title;       /* e.g. "专任教师", "校长" */
    const char *subjects;    /* comma-separated subject names */
    const char *start_date, *end_date;
};

struct eb_teaching {
    int64_t id, post_id, class_id;
    const char *subject;
    int is_head_teacher;
    const char *start_date, *end_date;
};

struct eb_guardian {
    int64_t id, parent_id, student_id;
    const char *relation; /* 父亲, 母亲, 其他监护人 ... */
    const char *start_date, *end_date;
};

/** Enrols a student in a class from start_date; fails with EB_ECONFLICT if already enrolled. */
int eb_store_enrolment_create(struct eb_db *db, const struct eb_caller *c,
                              const struct eb_enrolment *in, int64_t *id /* out */);
/** Closes an open enrolment on end_date (the row stays: history). */
int eb_store_enrolment_end(struct eb_db *db, const struct eb_caller *c, int64_t id,
                           const char *end_date);
int eb_store_person_enrolments(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                               struct eb_arena *a, size_t *n, struct eb_enrolment **items);

int eb_store_post_create(struct eb_db *db, const struct eb_caller *c, const struct eb_post *in,
                         int64_t *id /* out */);
int eb_store_post_end(struct eb_db *db, const struct eb_caller *c, int64_t id,
                      const char *end_date);
int eb_store_person_posts(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                          struct eb_arena *a, size_t *n, struct eb_post **items);
int eb_store_teaching_create(struct eb_db *db, const struct eb_caller *c,
                             const struct eb_teaching *in, int64_t *id /* out */);

int eb_store_guardian_create(struct eb_db *db, const struct eb_caller *c,
                             const struct eb_guardian *in, int64_t *id /* out */);

/* ---- accounts, roles, sessions, throttling ---------------------------------------------- */

struct eb_account {
    int64_t id;
    const char *login;
    const char *display_name;
    const char *password_hash; /* only filled by eb_store_account_by_login */
    int64_t person_id;
    int must_change_password;
    int disabled;
    const char *created_at;
};

/** Creates an account; the caller needs write access on every grant's org (checked later). */
int eb_store_account_create(struct eb_db *db, const struct eb_caller *c,
                            const struct eb_account *in, int64_t *id /* out */);
/** For login only: no scope check, fills password_hash. */
int eb_store_account_by_login(struct eb_db *db, const char *login, struct eb_arena *a,
                              struct eb_account *out);
int eb_store_account_get(struct eb_db *db, const struct eb_caller *c, int64_t id,
                         struct eb_arena *a, struct eb_account *out);
int eb_store_account_set_password(struct eb_db *db, const struct eb_caller *c, int64_t id,
                                  const char *password_hash, int must_change);
/** Accounts with a grant in the caller's scope (system: all). */
int eb_store_account_list(struct eb_db *db, const struct eb_caller *c, int64_t after, int limit,
                          struct eb_arena *a, size_t *n, struct eb_account **items,
                          int64_t *next /* out */);
/** Grants role at org_id to account_id; the caller needs write access on org_id. */
int eb_store_grant_add(struct eb_db *db, const struct eb_caller *c, int64_t account_id,
                       enum eb_role role, int64_t org_id, int64_t *id /* out */);
/** The current grants of an account (with org paths and names). No scope check. */
int eb_store_grants_of(struct eb_db *db, int64_t account_id, struct eb_arena *a, size_t *n,
                       struct eb_grant **items);

/*
 * Account management by administrators. The caller manages an account when every grant of
 * the account lies in the caller's write scope (and it has one); any other account, like a
 * missing one, answers EB_ENOTFOUND. Every change is audited in its own transaction (or a
 * savepoint of the caller's), with before and after, never a password hash.
 */

/** Accounts in scope like eb_store_account_list, whose login contains login_part (NULL or ""
 * = all). */
int eb_store_account_search(struct eb_db *db, const struct eb_caller *c, const char *login_part,
                            int64_t after, int limit, struct eb_arena *a, size_t *n,
                            struct eb_account **items, int64_t *next /* out */);
/**
 * Changes the display name (NULL = keep) and the disabled flag (-1 = keep, 0, 1). Disabling
 * ends the account's sessions. A caller cannot disable themselves (EB_EDENIED).
 */
int eb_store_account_update(struct eb_db *db, const struct eb_caller *c, int64_t id,
                            const char *display_name, int disabled);
/** An administrator's reset: sets the hash and must_change, ends the account's sessions.
 * One's own password is changed with eb_store_account_set_password (EB_EDENIED here). */
int eb_store_account_reset_password(struct eb_db *db, const struct eb_caller *c, int64_t id,
                                    const char *password_hash, int must_change);
/**
 * The grants of an account that the caller may see: all of them for the system and for the
 * account itself, else those in the caller's write scope (EB_ENOTFOUND when none). *managed
 * (may be NULL) tells whether the caller manages the account.
 */
int eb_store_account_roles(struct eb_db *db, const struct eb_caller *c, int64_t id,
                           struct eb_arena *a, size_t *n, struct eb_grant **items,
                           int *managed /* out */);
/** Grants a role to an account the caller manages (then as eb_store_grant_add). */
int eb_store_account_grant_add(struct eb_db *db, const struct eb_caller *c, int64_t account_id,
                               enum eb_role role, int64_t org_id, int64_t *id /* out */);
/**
 * Revokes grant_id of account_id: the caller manages the account and has write access on the
 * grant's org. The grants table keeps no end date, so the row is deleted and the audit keeps
 * it (before). EB_ECONFLICT for the account's last grant (disable the account instead);
 * EB_EDENIED for one's own grants.
 */
int eb_store_account_grant_remove(struct eb_db *db, const struct eb_caller *c, int64_t account_id,
                                  int64_t grant_id);

struct eb_session {
    const char *id_hash; /* hex SHA-256 of the cookie value; the value itself is never stored */
    int64_t account_id;
    const char *csrf_token;
    int64_t created_at, expires_at, last_seen_at; /* unix seconds */
    const char *client_addr;
    /* RFC 8176 methods that made the session, space-separated: "pwd" or "pwd otp" (NULL on
     * create means "pwd"). */
    const char *amr;
};

int eb_store_session_create(struct eb_db *db, const struct eb_session *in);
/** A session and, when account is not NULL, its account (without the password hash). */
int eb_store_session_get(struct eb_db *db, const char *id_hash, struct eb_arena *a,
                         struct eb_session *out, struct eb_account *account /* out */);
int eb_store_session_touch(struct eb_db *db, const char *id_hash, int64_t last_seen_at,
                           int64_t expires_at);
int eb_store_session_delete(struct eb_db *db, const char *id_hash);
int eb_store_session_delete_account(struct eb_db *db, int64_t account_id);

/* ---- second factor: TOTP secrets (store_totp.c) ----------------------------------------- */

/*
 * One TOTP secret (RFC 6238) per account, sealed with the installation key like the citizen IDs.
 * The account's own session (or, at login, the password just checked) is the authority for
 * reading and using it, as the session is for eb_store_session_get; only the reset by an
 * administrator is scoped like the other account routes.
 */
struct eb_totp {
    const char *secret_b32;      /* the secret in base32, opened (only when asked for) */
    const unsigned char *sealed; /* identifies this secret for eb_store_totp_confirm */
    size_t sealed_len;
    int64_t created_at, confirmed_at; /* unix s; confirmed_at 0 while the enrolment waits */
    int64_t last_step;                /* the last 30-second step accepted (RFC 6238 5.2) */
};

/** The TOTP of an account, its secret opened when want_secret. EB_ENOTFOUND when none. */
int eb_store_totp_get(struct eb_db *db, int64_t account_id, int want_secret, struct eb_arena *a,
                      struct eb_totp *out);
/** Starts (or restarts) the caller's own enrolment with a new secret (base32, sealed here).
 * EB_EEXIST when the caller already has a confirmed TOTP. Audited. */
int eb_store_totp_begin(struct eb_db *db, const struct eb_caller *c, const char *secret_b32,
                        int64_t now);
/**
 * Confirms the caller's pending enrolment of the secret t names (read with eb_store_totp_get),
 * whose code for step matched: confirmed_at = now, last_step = step, and every session of the
 * account ends. EB_ECONFLICT when that secret is no longer the pending one (confirmed, or
 * replaced by a restart meanwhile). Audited.
 */
int eb_store_totp_confirm(struct eb_db *db, const struct eb_caller *c, const struct eb_totp *t,
                          int64_t step, int64_t now);
/** Takes step for a code that matched: atomic, so a code is used once. EB_ECONFLICT when step
 * is not after last_step (a replay) or the account has no confirmed TOTP. */
int eb_store_totp_take_step(struct eb_db *db, int64_t account_id, int64_t step);
/**
 * Removes the TOTP of account_id: the caller's own (audited "totp.disable"), or an administrator's
 * reset of an account the caller manages (audited "totp.reset"; the account's sessions end).
 * EB_ENOTFOUND outside the caller's scope, like a missing account. *removed (may be NULL) tells
 * whether there was one.
 */
int eb_store_totp_remove(struct eb_db *db, const struct eb_caller *c, int64_t account_id,
                         int *removed /* out */);

/**
 * Login throttling: records a failure for key (e.g. "acct:zhang" or "ip:1.2.3.4") and returns
 * the failure count in the current window; eb_store_throttle_get reads it without changing it.
 */
int eb_store_throttle_fail(struct eb_db *db, const char *key, int64_t now, int64_t *count,
                           int64_t *last_at);
int eb_store_throttle_get(struct eb_db *db, const char *key, int64_t *count, int64_t *last_at);
int eb_store_throttle_clear(struct eb_db *db, const char *key);

/* ---- audit ------------------------------------------------------------------------------ */

struct eb_audit {
    int64_t id;
    int64_t at; /* unix ms */
    int64_t account_id;
    const char *login; /* output */
    const char *client_addr;
    const char *action;      /* "org.create", "person.read_pii", "session.login" ... */
    const char *object_type; /* "org", "person", "account", ... */
    int64_t object_id;
    const char *org_path;    /* where the object lives, for scoped reading */
    const char *before_json; /* NULL or a JSON document */
    const char *after_json;
};

/** Appends an entry; at, account_id and client_addr default from the caller when 0/NULL. */
int eb_store_audit_add(struct eb_db *db, const struct eb_caller *c, const struct eb_audit *e);
/** Entries under org_id (which needs EB_ACCESS_AUDIT), newest first, id < before (0 = newest). */
int eb_store_audit_list(struct eb_db *db, const struct eb_caller *c, int64_t org_id, int64_t before,
                        int limit, struct eb_arena *a, size_t *n, struct eb_audit **items,
                        int64_t *next /* out */);

/* ---- OIDC signing keys (store_keys.c; only src/auth/keys.c calls these) ----------------- */

/**
 * One signing key. The private half is stored sealed with a subkey of the store's secret key;
 * eb_store_key_unseal opens it into the caller's buffer (which the caller wipes).
 */
struct eb_signing_key {
    const char *kid;
    const char *alg;             /* "RS256", "ES256", "EdDSA" */
    const char *public_jwk;      /* JSON text of the public JWK */
    int64_t created_at;          /* unix s: published from then */
    int64_t activates_at;        /* signs from then until a newer key of its alg activates */
    int64_t removes_at;          /* leaves the JWKS then; 0 = not scheduled */
    const unsigned char *sealed; /* the sealed private key (only when asked for) */
    size_t sealed_len;
};

/** Every key not yet removed at now (unix s), oldest first; the sealed halves with
 * want_sealed. Installation-wide rows: no scope. */
int eb_store_keys_list(struct eb_db *db, int64_t now, int want_sealed, struct eb_arena *a,
                       size_t *n, struct eb_signing_key **items);
/**
 * Adds a key (kid, alg, public_jwk, created_at, activates_at of k), sealing the private key
 * (DER bytes) in the store. With retire_at > 0, the other keys of its alg that have no removal
 * scheduled get removes_at = retire_at; keys whose removal time has passed are deleted. With
 * retire_at == -1 the key is added only when its alg has no key yet (EB_EEXIST otherwise: a
 * first key, which two starting servers may race to create). One transaction, audited. The
 * caller must be the system (EB_EDENIED otherwise).
 */
int eb_store_key_add(struct eb_db *db, const struct eb_caller *c, const struct eb_signing_key *k,
                     const unsigned char *private_der, size_t der_len, int64_t retire_at);
/** Opens a sealed private key into out (cap bytes); EB_EAUTH when it does not open with this
 * store's key. The caller wipes out after use. */
int eb_store_key_unseal(const struct eb_store *st, const unsigned char *sealed, size_t len,
                        unsigned char *out, size_t cap, size_t *out_len /* out */);

/* ---- OIDC clients (apps), codes, tokens, sessions, consents (store_oidc.c) ------------- */

/*
 * The protocol lookups (a client by id, a code or a token by its hash) carry no caller: the
 * client or token itself is the authority there, as the session is for eb_store_session_get.
 * Managing apps is scoped like every other write: the caller needs write access on the app's
 * org, and every change is audited (never the secret's hash).
 */

/** An app: its portal card and its OIDC client settings. */
struct eb_oidc_client {
    const char *client_id;
    const char *name, *icon, *category, *description;
    unsigned roles;  /* bit set of (1u << enum eb_role); 0 = every role */
    unsigned stages; /* enum eb_stage bits; 0 = every stage */
    const char *launch_url;
    const char *redirect_uris;    /* exact strings, one per line */
    const char *post_logout_uris; /* exact strings, one per line; may be "" */
    const char *secret_hash;      /* hex SHA-256 of the secret; NULL for public clients */
    int is_public, first_party;
    const char *id_token_alg; /* "RS256" (default), "ES256", "EdDSA" */
    const char *backchannel_logout_uri;
    int64_t org_id;       /* the org the app belongs to */
    const char *org_path; /* output */
    int64_t created_at;
    /* A server-to-server app that may read the rosters (orgs, classes, people without ID
     * numbers) of its org's subtree with a client_credentials token of scope "roster". */
    int roster_read;
};

/** A client for the protocol endpoints (no scope check). EB_ENOTFOUND when unknown. */
int eb_store_oidc_client_get(struct eb_db *db, const char *client_id, struct eb_arena *a,
                             struct eb_oidc_client *out);
/** Registers an app under in->org_id (write access needed). EB_EEXIST for a taken client_id. */
int eb_store_oidc_client_create(struct eb_db *db, const struct eb_caller *c,
                                const struct eb_oidc_client *in);
/** Replaces the settings of an app the caller may write (client_id and org stay). */
int eb_store_oidc_client_update(struct eb_db *db, const struct eb_caller *c,
                                const struct eb_oidc_client *in);
/** Removes an app the caller may write, with its codes, tokens, sessions and consents. */
int eb_store_oidc_client_delete(struct eb_db *db, const struct eb_caller *c, const char *client_id);
/** Apps whose org lies in the caller's write scope (system: all), by name. */
int eb_store_oidc_client_list(struct eb_db *db, const struct eb_caller *c, struct eb_arena *a,
                              size_t *n, struct eb_oidc_client **items);
/**
 * The apps offered to the caller: an app of an org on the path of one of the caller's grants
 * (the org itself or above it), whose roles include that grant's role and whose stages meet
 * the stages of the grant's school (grants above school level meet every stage).
 */
int eb_store_oidc_apps_for(struct eb_db *db, const struct eb_caller *c, struct eb_arena *a,
                           size_t *n, struct eb_oidc_client **items);

struct eb_oidc_code {
    const char *code_hash, *client_id;
    int64_t account_id;
    const char *redirect_uri, *scope, *nonce, *code_challenge, *sid;
    int64_t auth_time, expires_at;
    int64_t used; /* output: how many times it was taken, this take included */
    /* The claims parameter (compact JSON, NULL when none) and the login's amr ("pwd", "pwd
     * otp") and acr ("1", "2"); NULL amr/acr read as "pwd" and "1". */
    const char *claims, *amr, *acr;
};

int eb_store_oidc_code_create(struct eb_db *db, const struct eb_oidc_code *in);
/** Takes a code: counts the use atomically and returns the row (out->used == 1 for the first
 * take). EB_ENOTFOUND for an unknown code. */
int eb_store_oidc_code_take(struct eb_db *db, const char *code_hash, struct eb_arena *a,
                            struct eb_oidc_code *out);

enum eb_oidc_token_kind { EB_OIDC_ACCESS = 1, EB_OIDC_REFRESH = 2 };

struct eb_oidc_token {
    const char *token_hash;
    enum eb_oidc_token_kind kind;
    const char *client_id;
    int64_t account_id; /* 0 for client_credentials */
    const char *scope, *sid;
    int64_t auth_time;
    const char *family_id, *code_hash, *nonce;
    int64_t expires_at;
    int revoked;
    int64_t rotated_at; /* refresh tokens: 0 while current */
    int64_t created_at;
    const char *claims, *amr, *acr; /* carried from the code, as in struct eb_oidc_code */
};

int eb_store_oidc_token_create(struct eb_db *db, const struct eb_oidc_token *in);
int eb_store_oidc_token_get(struct eb_db *db, const char *token_hash, struct eb_arena *a,
                            struct eb_oidc_token *out);
/** Marks a current refresh token rotated at now; *won is 1 when this call did (atomic: of two
 * concurrent uses exactly one wins). */
int eb_store_oidc_token_rotate(struct eb_db *db, const char *token_hash, int64_t now,
                               int *won /* out */);
/** How many refresh tokens of the family but not_hash, created at or after since, were
 * rotated. */
int eb_store_oidc_family_rotated_since(struct eb_db *db, const char *family_id,
                                       const char *not_hash, int64_t since, int64_t *n /* out */);
int eb_store_oidc_token_revoke(struct eb_db *db, const char *token_hash);
/** Revokes every token of a grant: by family, by the code that issued them, or by session. */
int eb_store_oidc_revoke_family(struct eb_db *db, const char *family_id);
int eb_store_oidc_revoke_code(struct eb_db *db, const char *code_hash);
int eb_store_oidc_revoke_sid(struct eb_db *db, const char *sid);

/** Records that the portal session sid logged into client_id (idempotent). */
int eb_store_oidc_session_client_add(struct eb_db *db, int64_t account_id, const char *sid,
                                     const char *client_id, int64_t now);
/** The clients session sid logged into; removes the rows with forget. */
int eb_store_oidc_session_clients(struct eb_db *db, const char *sid, int forget, struct eb_arena *a,
                                  size_t *n, const char ***client_ids);

/** The scopes (space-separated) the account allowed the client; EB_ENOTFOUND when none. */
int eb_store_oidc_consent_get(struct eb_db *db, int64_t account_id, const char *client_id,
                              struct eb_arena *a, const char **scope /* out */);
int eb_store_oidc_consent_set(struct eb_db *db, int64_t account_id, const char *client_id,
                              const char *scope, int64_t now);

/* ---- accounts for everyone: one-time codes, parent binding, registration (store_activation.c) */

/*
 * One-time codes (activation and parent binding): 12 characters of a 32-letter alphabet without
 * look-alikes (60 bits), printed as XXXX-XXXX-XXXX. Stored only as "$otc$<expires>$<sha256 hex>":
 * a fast hash is enough for a random value of that size (docs/SECURITY.md). An account whose
 * password_hash holds such a value is not activated: the code logs in once, to choose a password.
 */
#define EB_OTC_CHARS  12
#define EB_OTC_TEXT   15           /* "XXXX-XXXX-XXXX" and NUL */
#define EB_OTC_STORED 96           /* room for the stored form */
#define EB_OTC_TTL_S  (90 * 86400) /* activation codes */
#define EB_BIND_TTL_S (30 * 86400) /* parent binding codes */

/** A new random code (text) and its stored form, valid until expires_at (unix seconds). */
void eb_otc_new(int64_t expires_at, char text[EB_OTC_TEXT] /* out */,
                char stored[EB_OTC_STORED] /* out */);
/** True when stored is a one-time code's stored form (not a password hash). */
int eb_otc_is_code(const char *stored);
/** 0 when typed (dashes, spaces and case ignored) matches stored and now < its expiry;
 * EB_EAUTH otherwise. Constant time in the compared hash. */
int eb_otc_verify(const char *stored, const char *typed, int64_t now);

/** One account of a bulk creation or re-issue: code is the plain one-time code, given out once. */
struct eb_activation_item {
    int64_t account_id, person_id;
    int64_t class_id; /* students; 0 for teachers */
    const char *kind; /* "student" or "teacher" */
    const char *name, *login, *code, *class_name;
};
/* Called once per account after its unit committed; the item's strings live only during the
 * call. */
typedef void (*eb_activation_fn)(void *arg, const struct eb_activation_item *item);

enum eb_activation_mode {
    EB_ACTIVATION_CREATE,  /* accounts for the people under the node who have none */
    EB_ACTIVATION_REISSUE, /* new codes for the not yet activated accounts under the node */
};

/**
 * Accounts for every current student (role student at the class) and teacher (teacher at the
 * school, head_teacher at each class they head) under org_id, which needs write access. Logins
 * are derived from the person: "s" + the person id for students (a student number may embed the
 * citizen ID, and logins are shown to everyone in scope), the staff number for teachers ("t" +
 * the person id when it is missing, unusable or taken); a taken login gets "-2", "-3" ... Every
 * account must change its password; its password is the one-time code, expiring at
 * now + EB_OTC_TTL_S. One transaction (and one audit row) per class or school, students by class
 * then teachers by school; emit (may be NULL) sees each account with its code as it is
 * committed. In REISSUE mode the codes of the accounts not yet activated are replaced (old ones
 * stop working). *n counts the accounts created or re-issued.
 */
int eb_store_accounts_bulk(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                           enum eb_activation_mode mode, eb_activation_fn emit, void *arg,
                           int64_t *n /* out */);
/** True when the account is not activated (its password is still a one-time code). */
int eb_store_account_activation_pending(struct eb_db *db, int64_t account_id);

/** Sets a student's parent binding code (the stored form; a new one replaces the old). Needs
 * write access on the student; EB_EINVAL when the person is not a currently enrolled student. */
int eb_store_binding_code_set(struct eb_db *db, const struct eb_caller *c, int64_t student_id,
                              const char *stored, int64_t now);

/** A student of a class's binding-code sheet: code is the plain code, given out once. */
struct eb_binding_item {
    int64_t student_id;
    const char *name;
    const char *student_no; /* masked as the people API shows it; may be NULL */
    const char *code;
};
/**
 * New parent binding codes (replacing the old ones) for every current student of class_id, in
 * one transaction with one audit row; needs write access on the class (as
 * eb_store_binding_code_set on each student). *items (in the arena a, person id order) carry the
 * plain codes, valid until now + EB_BIND_TTL_S. EB_ENOTFOUND outside the scope, EB_EINVAL when
 * the node is not a class.
 */
int eb_store_binding_codes_class(struct eb_db *db, const struct eb_caller *c, int64_t class_id,
                                 int64_t now, struct eb_arena *a, size_t *n /* out */,
                                 struct eb_binding_item **items /* out */);

struct eb_parent_registration {
    const char *student_no, *code; /* the binding: student number and the school's code */
    const char *login, *password_hash, *name, *relation, *phone;
};
/**
 * A parent registers: when student_no names a currently enrolled student whose binding code
 * matches (EB_EAUTH otherwise, whatever was wrong), creates the parent person (at the school),
 * the guardian link, the account (activated) and the parent role at the class, and uses up the
 * code, in one transaction. EB_EEXIST when the login is taken. c is the anonymous caller (for the
 * audit: client address).
 */
int eb_store_parent_register(struct eb_db *db, const struct eb_caller *c,
                             const struct eb_parent_registration *in, int64_t now,
                             int64_t *account_id /* out */);

/** People, accounts linked to them and activated accounts (not disabled, password chosen). */
struct eb_reg_counts {
    int64_t people, registered, activated;
};
struct eb_reg_row {
    int64_t org_id;
    enum eb_org_kind kind;
    const char *name;
    struct eb_reg_counts teachers, students, parents;
};
/**
 * The registration rate of org_id's subtree (*total) and of each child node (*children, in id
 * order): students currently enrolled, teachers with a current post (below school level: with a
 * current teaching assignment there), parents with a current guardian link to such a student.
 * A few range scans per node on the path indexes, no per-row queries. Needs people-reading
 * access (as eb_store_org_stats).
 */
int eb_store_registration(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                          struct eb_arena *a, struct eb_reg_row *total /* out */, size_t *n,
                          struct eb_reg_row **children /* out */);

/* ---- school years and terms (store_years.c) --------------------------------------------- */

/*
 * 学年 and their two 学期, one calendar for the whole installation: every logged-in caller reads
 * them, only city administrators (and system callers) create them. Dates are YYYY-MM-DD.
 */
struct eb_term {
    int term; /* 1 or 2 */
    const char *start_date, *end_date;
};

struct eb_school_year {
    int64_t id;
    const char *name; /* "2026-2027" */
    const char *start_date, *end_date;
    int n_terms;
    struct eb_term terms[2]; /* in term order */
};

/**
 * Checks a school year without the database: the name is YYYY-YYYY of consecutive years, the
 * dates are real, the year starts in its first calendar year and ends in its second, both terms
 * (1 then 2) lie inside it and term 1 ends before term 2 starts. 0, or EB_EINVAL with *field
 * (e.g. "terms[1].start_date") and *why (static English text).
 */
int eb_school_year_check(const struct eb_school_year *y, const char **field, const char **why);
/** Creates a year with its terms, audited. EB_EDENIED unless a city administrator (or system);
 * EB_EINVAL as eb_school_year_check; EB_EEXIST for a taken name; EB_ECONFLICT when the dates
 * overlap another year. */
int eb_store_year_create(struct eb_db *db, const struct eb_caller *c,
                         const struct eb_school_year *in, int64_t *id /* out */);
/** Every school year with its terms, newest first. */
int eb_store_year_list(struct eb_db *db, const struct eb_caller *c, struct eb_arena *a,
                       size_t *n /* out */, struct eb_school_year **items /* out */);
int eb_store_year_get(struct eb_db *db, const struct eb_caller *c, int64_t id, struct eb_arena *a,
                      struct eb_school_year *out);
/** The school year containing date (EB_ENOTFOUND when none: a summer break) and the term
 * containing it (*term 0 between the terms). */
int eb_store_year_as_of(struct eb_db *db, const struct eb_caller *c, const char *date,
                        struct eb_arena *a, struct eb_school_year *year /* out */,
                        int *term /* out */);

/* ---- the brain's rows (store_brain.c; docs/internals/brain.md) -------------------------- */

/** Inserts the built-in data elements that are missing (idempotent; by code). */
int eb_store_elements_seed(struct eb_db *db);
/** The id of the element with this code; EB_ENOTFOUND. */
int eb_store_element_id(struct eb_db *db, const char *code, int32_t *id /* out */);

/** An observation as stored (eb_obs of src/brain/brain.h without the brain's types). */
struct eb_obs_row {
    int32_t element_id;
    int64_t org_id;
    int64_t person_id; /* 0 = none */
    int32_t day;       /* days since 1970-01-01 */
    double value;
    const char *category; /* may be NULL */
    int64_t supersedes;   /* 0 = none */
    const char *reason;   /* required with supersedes */
};
/**
 * Appends rows inside the caller's transaction (or its own), with their org path and shard
 * unit; ids (may be NULL) get the new ids. No validation beyond the schema's and the caller's
 * write scope (eb_store_obs_scope: EB_ENOTFOUND for a row outside it, nothing written): the
 * brain validates (eb_brain_submit) and the demo generator writes what it made. A system caller
 * with no_audit writes no audit row (bulk loads); others get one audit row per batch.
 */
int eb_store_obs_insert(struct eb_db *db, const struct eb_caller *c, const struct eb_obs_row *rows,
                        size_t n, int64_t *ids);
/** Every observation with id > after in id order, for the cube's rebuild and for catching up
 * after a NOTIFY: rows that a row already stored supersedes are skipped; supersedes is the id
 * the row itself replaces (0 = none; its values were applied earlier, the caller removes them).
 * A non-zero return of fn stops the scan and is returned. */
typedef int (*eb_obs_scan_fn)(void *ctx, int64_t id, int32_t element_id, int64_t org_id,
                              int32_t day, double value, int64_t supersedes);
int eb_store_obs_scan(struct eb_db *db, int64_t after, eb_obs_scan_fn fn, void *ctx);

/* The brain core's further rows (store_brain.c; part C of docs/internals/brain.md). */

/** A data element as stored (struct eb_element of src/brain/brain.h in the store's words). */
struct eb_element_row {
    int32_t id;
    const char *code, *name_zh, *name_en;
    const char *unit_zh, *unit_en; /* may be NULL */
    const char *value_type;        /* "number", "integer", "boolean" */
    const char *aggregation;       /* "sum", "average", "count", "last", "min", "max" */
    enum eb_org_kind level;
    int per_person;
    double min, max;
    int builtin;
};
/** Every data element in id order (no scope: element definitions are public to the city). */
int eb_store_elements_list(struct eb_db *db, struct eb_arena *a, size_t *n /* out */,
                           struct eb_element_row **items /* out */);
/** Creates an element (builtin 0): city or district administrators or the system, else
 * EB_EDENIED; EB_EEXIST for a taken code; EB_EINVAL for a value the schema refuses. Audited
 * (data_element.create). */
int eb_store_element_create(struct eb_db *db, const struct eb_caller *c,
                            const struct eb_element_row *in, int32_t *id /* out */);
/** One observation, for a correction: EB_ENOTFOUND when missing or when the caller may not
 * write at its org. *superseded_by is the id of the row that replaced it (0 = current). */
int eb_store_obs_get(struct eb_db *db, const struct eb_caller *c, int64_t id, struct eb_arena *a,
                     struct eb_obs_row *out /* out */, int64_t *superseded_by /* out */);
/** Whether person_id was enrolled on day in a class of org_id's subtree (per-person elements):
 * 1 yes, 0 no. No scope: the brain checked the caller's write access on org_id. */
int eb_store_obs_person_in(struct eb_db *db, int64_t person_id, int64_t org_id, int32_t day);
/** Every org node (id, parent, kind) with parents before children, for the cube's tree. */
typedef int (*eb_org_node_fn)(void *ctx, int64_t id, int64_t parent_id, enum eb_org_kind kind,
                              const char *path);
int eb_store_org_nodes(struct eb_db *db, int64_t after, eb_org_node_fn fn, void *ctx);
/** Inside the write's transaction: tells the other servers on the same PostgreSQL database that
 * observations up to high (the largest id) are committed (NOTIFY eb_obs, sent at commit). A
 * no-op on SQLite (one server per file). */
int eb_store_obs_notify(struct eb_db *db, int64_t high);
/** The naive aggregate of current (not superseded) observations of element in org_id's
 * subtree over days [from, to]: the SQL reference of the tests and benchmarks. */
struct eb_obs_agg {
    double sum, min, max;
    int64_t count;
    int32_t last_day; /* the latest day with data; 0 with count 0 */
};
int eb_store_obs_aggregate(struct eb_db *db, int32_t element_id, int64_t org_id, int32_t from,
                           int32_t to, struct eb_obs_agg *out /* out */);
/** eb_store_obs_scan bounded above: rows with id <= upto only, and a row is skipped only when
 * its replacement is <= upto too (the cube's rebuild reads up to the high-water mark at start;
 * the group-commit writer and eb_store_obs_scan from that mark handle the rest). */
int eb_store_obs_scan_upto(struct eb_db *db, int64_t after, int64_t upto, eb_obs_scan_fn fn,
                           void *ctx);
/** Sets up the connection that the brain's group-commit writer keeps: on SQLite every commit
 * is synced (synchronous=FULL: an acknowledged observation survives a power cut) and the WAL
 * checkpoints are left to eb_store_checkpoint, off the writer's path. A no-op on PostgreSQL. */
int eb_store_obs_writer(struct eb_db *db);
/** A passive WAL checkpoint (SQLite; a no-op on PostgreSQL): copies what no reader needs. */
int eb_store_checkpoint(struct eb_db *db);
/** The largest observation id (0 when none). */
int eb_store_obs_high(struct eb_db *db, int64_t *high /* out */);

/** A session that hears the eb_obs notifications of other servers (PostgreSQL only). */
struct eb_obs_listener;
/** EB_EINVAL on a backend without notifications (SQLite). */
int eb_store_obs_listen(struct eb_store *st, struct eb_obs_listener **out);
/** Waits up to timeout_ms: 1 when a notification came (*high: the largest id announced), 0 on
 * timeout, EB_EIO when the session was lost (the listener reconnects on the next call). */
int eb_store_obs_listen_wait(struct eb_obs_listener *l, int timeout_ms, int64_t *high /* out */);
void eb_store_obs_listen_close(struct eb_obs_listener *l);

/* ---- who reports observations (store_brain.c; docs/internals/brain.md, "Who reports") ---- */

/** 1 when the caller holds a role that reports observations (an administrator, a head teacher
 * or a teacher, or the system); students, parents and analysts never do (0). No query. */
int eb_store_obs_reporter(const struct eb_caller *c);
/** A class a teacher reports for. */
struct eb_obs_class {
    int64_t id;
    char path[EB_PATH_MAX];
    const char *name;
};
/**
 * Where a caller may write observations, read once per batch. Administrators (city, district,
 * school) write at any node of their grants' subtrees, with no query. Head teachers and teachers
 * write at their classes only: a class with a teaching row of the caller's person (head teacher
 * or any subject) current on day `today` (days since 1970-01-01) inside the subtree of one of
 * the caller's teacher or head_teacher grants, or a class at which the caller holds such a grant
 * itself; two indexed queries per teacher grant not already inside an administrator grant.
 * reporter: eb_store_obs_reporter. The scope points at c (which must outlive it); the classes
 * live in a, sorted by path without duplicates.
 */
struct eb_obs_scope {
    const struct eb_caller *c;
    int reporter;
    size_t n_classes;
    struct eb_obs_class *classes;
};
int eb_store_obs_scope(struct eb_db *db, const struct eb_caller *c, int32_t today,
                       struct eb_arena *a, struct eb_obs_scope *out /* out */);
/** 1 when the scope writes observations at the node with this path, else 0. No query. */
int eb_store_obs_scope_allows(const struct eb_obs_scope *s, const char *path);
/** eb_store_obs_get for a correction by the scope's caller: EB_ENOTFOUND when missing or
 * outside the caller's read scope, EB_EDENIED when the caller reads the row's org but may not
 * write there (eb_store_obs_scope_allows). */
int eb_store_obs_get_scoped(struct eb_db *db, const struct eb_obs_scope *s, int64_t id,
                            struct eb_arena *a, struct eb_obs_row *out /* out */,
                            int64_t *superseded_by /* out */);

/* ---- district boundaries of the education map (store_geo.c; docs/internals/brain.md) ----- */

/** A district of the map (valid during the callback of eb_store_geo_districts). */
struct eb_geo_district {
    int64_t org_id;
    const char *name, *path, *division_code; /* division_code may be NULL */
    double lat, lon;                         /* the org's own coordinates, when has_coords */
    int has_coords;
    int64_t n_schools;                         /* its open schools with coordinates */
    double school_lat, school_lon;             /* their mean position (when n_schools > 0) */
    double min_lat, max_lat, min_lon, max_lon; /* their extent (when n_schools > 0) */
    const char *geometry;                      /* GeoJSON geometry text; NULL when none is stored */
    const char *source; /* "generated", "imported"; NULL when none is stored */
};
typedef int (*eb_geo_district_fn)(void *arg, const struct eb_geo_district *d);
/** The open districts the caller may read (system: every one) in id order, with their stored
 * boundaries when with_geometry (the text can be large: it is never copied into an arena). A
 * non-zero return of fn stops the scan and is returned. */
int eb_store_geo_districts(struct eb_db *db, const struct eb_caller *c, int with_geometry,
                           eb_geo_district_fn fn, void *arg);
/** Stores (or replaces) the boundary of district org_id; write access on it (EB_ENOTFOUND
 * otherwise, or when org_id is not an open district). source: "generated" or "imported".
 * Audited as geo.boundary (source and size, not the shape) unless a bulk system load. */
int eb_store_geo_set(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                     const char *geometry, const char *source);
/** How many boundaries are stored (no scope: it tells only whether the map has any). */
int eb_store_geo_count(struct eb_db *db, int64_t *n /* out */);

/* ---- indicators and alerts (store_indicator.c; docs/internals/brain.md) ---------------- */

/** The node of an aggregate read (indicators, alerts, the stream, the dashboard): it needs a
 * people-reading grant over the node (students and parents read no aggregates); EB_ENOTFOUND
 * otherwise, exactly as for a missing node. */
int eb_store_brain_org(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                       struct eb_arena *a, struct eb_org *out);
/** The city's own indicator definitions (JSON text) in id order; definitions are public to
 * every logged-in caller, so there is no scope. A non-zero return of fn stops the scan. */
typedef int (*eb_indicator_row_fn)(void *ctx, const char *code, const char *json);
int eb_store_indicators_scan(struct eb_db *db, eb_indicator_row_fn fn, void *ctx);
/** Stores a definition: city and district administrators only (EB_EDENIED); EB_EEXIST for a
 * taken code; audited indicator.create. */
int eb_store_indicator_create(struct eb_db *db, const struct eb_caller *c, const char *code,
                              const char *json, int64_t *id /* out */);

/** An alert as stored. Days are days since 1970-01-01; cleared_day 0 while open. */
struct eb_alert_row {
    int64_t id, org_id;
    const char *rule, *org_path, *org_name, *state;
    enum eb_org_kind org_kind;
    int32_t since_day, last_day, cleared_day;
    const char *detail;           /* the rule's values, JSON object text */
    int64_t opened_at, closed_at; /* unix seconds */
};
/** Opens the alert of (rule, org) since since_day unless one is open: idempotent, so that every
 * server following the same changes may call it; *id is the open one. Written by the alert
 * worker (derived from the data, not audited). */
int eb_store_alert_open(struct eb_db *db, const char *rule, int64_t org_id, int32_t since_day,
                        const char *detail, int64_t *id /* out */);
/** Closes the open alert of (rule, org) on cleared_day; EB_ENOTFOUND when none is open. */
int eb_store_alert_close(struct eb_db *db, const char *rule, int64_t org_id, int32_t cleared_day,
                         int64_t *id /* out */);
typedef int (*eb_alert_open_fn)(void *ctx, const char *rule, int64_t org_id, int32_t since_day,
                                int32_t last_day, int64_t id);
/** Every open alert, for the worker's start. */
int eb_store_alerts_open_scan(struct eb_db *db, eb_alert_open_fn fn, void *ctx);
/** A page of the alerts of org_id's subtree, newest first (id < before when before > 0),
 * open ones only or all; scope as eb_store_brain_org. *next is the before of the next page. */
int eb_store_alert_list(struct eb_db *db, const struct eb_caller *c, int64_t org_id, int open_only,
                        int64_t before, int limit, struct eb_arena *a, size_t *n /* out */,
                        struct eb_alert_row **items /* out */, int64_t *next /* out */);
/** The open alerts of org_id's subtree; scope as eb_store_brain_org. */
int eb_store_alert_count(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                         int64_t *n /* out */);

/* ---- roster import lookups (store_roster.c) -------------------------------------------- */

/** The open class named name in the school (the newest school year first); EB_ENOTFOUND. */
int eb_store_class_by_name(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                           const char *name, int64_t *class_id /* out */);

enum eb_registered { EB_REGISTERED_NO, EB_REGISTERED_HERE, EB_REGISTERED_ELSEWHERE };

/**
 * Whether a person with this citizen ID or student number is registered, under org_id or
 * elsewhere in the city (by blind index: nothing is decrypted). Needs write access on org_id:
 * it serves an administrator registering people there, and tells nothing but the answer.
 */
int eb_store_registered(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                        const char *citizen_id, const char *student_no, enum eb_registered *out);

/* ---- teacher exchange and rotation, recruitment intake (store_exchange.c, store_recruit.c) */

/** What the caller may do with an exchange now (eb_exchange.can). */
enum {
    EB_EXCHANGE_CAN_AGREE_FROM = 1 << 0, /* agree as the sending school */
    EB_EXCHANGE_CAN_AGREE_TO = 1 << 1,   /* agree as the receiving school */
    EB_EXCHANGE_CAN_REJECT = 1 << 2,     /* either school, while proposed */
    EB_EXCHANGE_CAN_CANCEL = 1 << 3,     /* the bureau that proposed it, while proposed */
    EB_EXCHANGE_CAN_RETURN = 1 << 4,     /* end an active rotation */
};

enum eb_exchange_action {
    EB_EXCHANGE_AGREE,
    EB_EXCHANGE_REJECT,
    EB_EXCHANGE_CANCEL,
    EB_EXCHANGE_RETURN
};

/**
 * An exchange (交流轮岗) of a teacher from the school of a current post to another school.
 * kind "rotation" (轮岗: serves at the other school from start_date to end_date and keeps the
 * home post) or "transfer" (调动: the home post ends on start_date). state: proposed -> active
 * (rotation) or done (transfer) once both schools agreed; active -> done on return; or
 * rejected / cancelled.
 */
struct eb_exchange {
    int64_t id, person_id;
    const char *person_name; /* output */
    const char *kind, *state;
    int64_t from_post_id;   /* output: the home post */
    int64_t from_school_id; /* input: optional, picks the post when the teacher has several */
    int64_t to_school_id;
    const char *from_school_name, *to_school_name, *from_path, *to_path, *bureau_path; /* output */
    int64_t to_post_id; /* output: the post at the receiving school once agreed */
    const char *title;  /* input: NULL = the home post's title */
    const char *subjects;
    const char *start_date, *end_date; /* end_date: rotations only (planned return) */
    const char *reason;
    int64_t proposed_by, from_ok_by, to_ok_by, rejected_by; /* output: account ids, 0 = not yet */
    const char *reject_reason, *returned_on;                /* output */
    int64_t created_at, updated_at;                         /* output, unix seconds */
    unsigned can;                                           /* output: EB_EXCHANGE_CAN_* */
};

struct eb_exchange_list {
    size_t n;
    struct eb_exchange *items;
    int64_t next;
};

/** Proposed by a city or district administrator over both schools (EB_EDENIED otherwise);
 * EB_ECONFLICT when the teacher has no current post or the target is closed, EB_EEXIST when the
 * teacher already has an open exchange, EB_EINVAL for bad fields. */
int eb_store_exchange_propose(struct eb_db *db, const struct eb_caller *c,
                              const struct eb_exchange *in, int64_t *id /* out */);
/** Agree / reject (text = reason, required) as a school administrator of either side, cancel as
 * the bureau, return (text = date) an active rotation. The last agreement writes the posts in
 * the same transaction. EB_ECONFLICT in the wrong state, EB_EDENIED for the wrong actor. */
int eb_store_exchange_decide(struct eb_db *db, const struct eb_caller *c, int64_t id,
                             enum eb_exchange_action action, const char *text);
int eb_store_exchange_get(struct eb_db *db, const struct eb_caller *c, int64_t id,
                          struct eb_arena *a, struct eb_exchange *out);
/** Exchanges from or to the subtree of org_id (state NULL = any), by id. */
int eb_store_exchange_list(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                           const char *state, int64_t after, int limit, struct eb_arena *a,
                           struct eb_exchange_list *out);
int eb_store_exchange_of_person(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                                struct eb_arena *a, struct eb_exchange_list *out);

/** The exchange rate of a subtree: teachers with a current post there, and the exchanges that
 * left it (active or done) starting between from and to (a school year). */
struct eb_exchange_stats {
    int64_t teachers, rotations, transfers;
};
int eb_store_exchange_stats(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                            const char *from, const char *to, struct eb_exchange_stats *out);

/** One new hire of a recruitment batch: a person registered at school_id with a post there. */
struct eb_hire {
    struct eb_person person; /* org_id is ignored: the person is registered at school_id */
    int64_t school_id;
    const char *title, *subjects;
    int64_t person_id, post_id; /* output */
};

/**
 * A recruitment intake (新教师招聘入职) run by the administrator of org_id: every hire's school
 * must lie under org_id. All hires or none: on an error, *bad is the index of the first hire
 * that failed (-1 when the batch itself was refused) and nothing is written.
 */
int eb_store_recruit(struct eb_db *db, const struct eb_caller *c, int64_t org_id, const char *name,
                     const char *start_date, struct eb_hire *hires, size_t n, int64_t *batch_id,
                     long *bad);

/* ---- Student lifecycle and transfers (store_lifecycle.c, store_transfers.c) -------------- */

/*
 * 学籍异动. A student's status changes are events (student_status_events), never overwritten;
 * the current enrolment stays the truth of 在籍: the current status is "enrolled" while a
 * current enrolment exists, else the status the newest event left (suspended, withdrawn,
 * deceased, graduated), else "none". Every change is audited in the caller's transaction (or a
 * savepoint of it), and refused while a transfer of the student is pending.
 */
enum eb_student_status {
    EB_STUDENT_NONE = 0,  /* not enrolled, no event says why (registered only) */
    EB_STUDENT_ENROLLED,  /* 在籍 */
    EB_STUDENT_SUSPENDED, /* 休学 */
    EB_STUDENT_WITHDRAWN, /* 退学 */
    EB_STUDENT_DECEASED,  /* 死亡 */
    EB_STUDENT_GRADUATED, /* 毕业 */
};

enum eb_status_kind {
    EB_STATUS_ADMISSION = 1, /* 入学: none, withdrawn or graduated -> enrolled (a new enrolment) */
    EB_STATUS_SUSPENSION,    /* 休学: enrolled -> suspended (the enrolment ends) */
    EB_STATUS_RETURN,        /* 复学: suspended -> enrolled (a new enrolment) */
    EB_STATUS_WITHDRAWAL,    /* 退学: enrolled or suspended -> withdrawn */
    EB_STATUS_DEATH,         /* 死亡: any but deceased -> deceased */
    EB_STATUS_GRADUATION,    /* 毕业: enrolled -> graduated */
    EB_STATUS_TRANSFER_OUT,  /* written by a completed transfer only */
    EB_STATUS_TRANSFER_IN,
};

const char *eb_student_status_name(enum eb_student_status s); /* "enrolled" ... */
const char *eb_status_kind_name(enum eb_status_kind k);       /* "admission" ... */
enum eb_status_kind eb_status_kind_parse(const char *name);   /* 0 when unknown */

/** Why a lifecycle or transfer write was refused: code is the API error code ("invalid_field",
 * "invalid_transition", "transfer_pending", "transfer_closed", "not_a_student"), field names
 * the input at fault (may be NULL), why is static English text. */
struct eb_refusal {
    const char *code, *field, *why;
};

struct eb_status_event {
    int64_t id, person_id, school_id;
    const char *school_name;
    enum eb_status_kind kind;
    enum eb_student_status status; /* after the event */
    const char *date, *expected_return, *reason;
    int64_t class_id; /* admission, return, transfer_in: the new class; others: the old one */
    const char *class_name;
    int64_t transfer_id;
    int64_t account_id;
    const char *account_name; /* who recorded it (display name) */
    int64_t created_at;       /* unix s */
};

struct eb_student_state {
    enum eb_student_status status;
    const char *since;              /* the date the status began (NULL when unknown) */
    const char *expected_return;    /* suspended: the expected return date */
    int64_t enrolment_id, class_id; /* the current enrolment, 0 when none */
    const char *class_name;
    int64_t school_id;           /* the school the person is registered at */
    int64_t pending_transfer_id; /* 0 when none */
};

/** The current status and every event, oldest first. Needs READ on the person (as
 * eb_store_person_get); EB_EINVAL when the person is not a student. */
int eb_store_student_status(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                            struct eb_arena *a, struct eb_student_state *out, size_t *n,
                            struct eb_status_event **events /* out */);

struct eb_status_change {
    enum eb_status_kind kind;    /* EB_STATUS_ADMISSION .. EB_STATUS_GRADUATION */
    const char *date;            /* YYYY-MM-DD, not before the newest event or enrolment start */
    const char *reason;          /* required for suspension, withdrawal and death; <= 200 chars */
    const char *expected_return; /* suspension: required, after date */
    int64_t class_id;            /* admission and return: a class of the person's school */
};

/**
 * Records a status change: ends or starts the enrolment it implies and appends the event, in
 * one transaction (or a savepoint of the caller's). Needs WRITE on the person (EB_ENOTFOUND
 * otherwise) and on the class. EB_EINVAL (bad input) and EB_ECONFLICT (a transition the status
 * does not allow, or a pending transfer) fill *why.
 */
int eb_store_student_status_change(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                                   const struct eb_status_change *in,
                                   struct eb_refusal *why /* out */, int64_t *event_id /* out */);

/**
 * Graduation for the year-end promotion: ends the student's current enrolment on date and
 * records the graduation event, inside the caller's transaction when one is open. Same rules
 * as eb_store_student_status_change with EB_STATUS_GRADUATION (EB_ECONFLICT when the student
 * is not enrolled or has a pending transfer).
 */
int eb_store_student_graduate(struct eb_db *db, const struct eb_caller *c, int64_t person_id,
                              const char *date);

/*
 * Transfers between schools, in the national 学籍 order: the receiving school asks (step 1),
 * then the receiving district's bureau, the sending school and the sending district's bureau
 * approve (steps 2-4). Within one district its bureau approves once, last (3 steps). A step is
 * acted on by an administrator of exactly its level (school_admin of the school, district_admin
 * of the district; the city's own schools answer to a city_admin) and is due
 * EB_TRANSFER_DUE_DAYS working days after it opened. Both schools and both bureaus (and the
 * city above them) see the transfer; everyone else gets EB_ENOTFOUND. On the last approval the
 * student's enrolment moves to the chosen class on the transfer's date and the person's
 * registering org becomes the receiving school: the sending school keeps the transfer, its
 * audit rows and the ended enrolment as history, and loses the person from its rosters and
 * reads.
 */
#define EB_TRANSFER_DUE_DAYS 5

struct eb_transfer_step {
    int step;
    const char *kind; /* "to_school", "to_district", "from_school", "from_district", "district" */
    enum eb_role actor_role;
    int64_t org_id;
    const char *org_name;
    const char *state; /* "waiting", "pending", "approved", "rejected", "cancelled" */
    const char *opened_on, *due_date;
    int overdue; /* pending and due before today */
    int64_t acted_at, account_id;
    const char *account_name, *reason;
};

struct eb_transfer {
    int64_t id, person_id;
    const char *person_name, *citizen_id, *student_no; /* masked */
    int64_t from_school_id, from_class_id, from_district_id;
    int64_t to_school_id, to_class_id, to_district_id;
    const char *from_school_name, *from_class_name, *from_district_name;
    const char *to_school_name, *to_class_name, *to_district_name;
    const char *date, *reason;
    const char *state;                   /* "pending", "approved", "rejected", "withdrawn" */
    int current_step, n_steps;           /* current_step 0 once closed */
    const char *current_kind, *due_date; /* of the current step (NULL once closed) */
    int overdue;
    int64_t created_by, created_at, closed_by, closed_at;
    const char *created_by_name, *closed_by_name, *close_reason;
    int can_act, can_withdraw; /* for the caller who read it */
    size_t n_trail;
    struct eb_transfer_step *trail; /* eb_store_transfer_get only: every step in order */
};

struct eb_transfer_list {
    size_t n;
    struct eb_transfer *items;
    int64_t next;
};

/** What a receiving school may learn of a student outside its scope. */
struct eb_student_match {
    const char *name, *citizen_id, *student_no; /* masked */
    const char *school_name, *class_name;
    enum eb_student_status status;
};

/**
 * Finds a student for a transfer by G student number or citizen ID (through the blind index)
 * and the exact name; the caller must be a school administrator. EB_ENOTFOUND when nothing
 * matches both (whatever was wrong). Audited ("transfer.lookup", never the identifiers).
 */
int eb_store_transfer_lookup(struct eb_db *db, const struct eb_caller *c, const char *student_no,
                             const char *citizen_id, const char *name, struct eb_arena *a,
                             struct eb_student_match *out);

struct eb_transfer_request {
    const char *student_no, *citizen_id, *name; /* as eb_store_transfer_lookup */
    int64_t to_class_id;                        /* a class the caller (school admin) may write */
    const char *date;                           /* the day the student moves */
    const char *reason;                         /* 1..200 characters */
};

/** Starts a transfer (step 1 approved, step 2 pending). EB_ENOTFOUND for no student or a class
 * outside the caller's school; EB_EINVAL / EB_ECONFLICT with *why. Audited. */
int eb_store_transfer_create(struct eb_db *db, const struct eb_caller *c,
                             const struct eb_transfer_request *in, struct eb_refusal *why,
                             int64_t *id /* out */);

enum eb_transfer_box {
    EB_TRANSFER_INBOX,  /* pending, and the caller acts on the current step */
    EB_TRANSFER_OUTBOX, /* started by a school in the caller's scope */
    EB_TRANSFER_ALL,    /* every transfer the caller sees */
};

/** Transfers of a box in id order, id > after, at most limit; state NULL = any. */
int eb_store_transfer_list(struct eb_db *db, const struct eb_caller *c, enum eb_transfer_box box,
                           const char *state, int64_t after, int limit, struct eb_arena *a,
                           struct eb_transfer_list *out);
int eb_store_transfer_get(struct eb_db *db, const struct eb_caller *c, int64_t id,
                          struct eb_arena *a, struct eb_transfer *out);

enum eb_transfer_action { EB_TRANSFER_APPROVE = 1, EB_TRANSFER_REJECT, EB_TRANSFER_WITHDRAW };

/**
 * Approves or rejects the current step (its actor only: EB_EDENIED for anyone else who sees
 * the transfer), or withdraws the transfer (an administrator of the receiving school). A reject
 * needs a reason. EB_ECONFLICT with *why when the transfer is closed or the student's enrolment
 * changed meanwhile. The last approval moves the student. Audited.
 */
int eb_store_transfer_act(struct eb_db *db, const struct eb_caller *c, int64_t id,
                          enum eb_transfer_action action, const char *reason,
                          struct eb_refusal *why /* out */);

/* ---- schools, classes, promotion (store_schools.c, store_promotion.c) -------------------- */

/*
 * Closing, merging and teaching points are bureau decisions: they need write access on the
 * school's parent (its district, or the city for 市直学校); a school administrator gets
 * EB_EDENIED for their own school. Classes and the promotion are the school's own work: write
 * access on the school. Everything is audited; nothing is deleted (closed rows keep history).
 */
#define EB_CLASS_SIZE_HUGE 65 /* 超大班额: more than 65 students in a class */

/** Why a school operation was refused with EB_ECONFLICT (static strings, API error codes). */
#define EB_WHY_SCHOOL_CLOSED       "school_closed"
#define EB_WHY_SCHOOL_HAS_STUDENTS "school_has_students"
#define EB_WHY_ALREADY_PROMOTED    "already_promoted"
#define EB_WHY_PROMOTION_CONFIRMED "promotion_confirmed"
#define EB_WHY_PROMOTION_CHANGED   "promotion_changed"

/** A school's place in the management pages: closure, merger, central school, teaching
 * points. */
struct eb_school_info {
    int64_t id;
    const char *name, *school_code, *path, *closed_on;
    int64_t merged_into; /* 0 when not merged */
    const char *merged_into_name;
    int64_t central_school_id; /* a teaching point's central school; 0 otherwise */
    const char *central_school_name;
    int64_t n_teaching_points; /* open teaching points under this school */
};

/** EB_EINVAL when the node is not a school. Needs read access on the school. */
int eb_store_school_info(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                         struct eb_arena *a, struct eb_school_info *out);
/**
 * Closes a school on date: its open grades and classes close, its current posts and teaching
 * end on the date, its teaching points lose their central school. EB_ECONFLICT with *why when
 * it is closed already or still has current students (merge it instead).
 */
int eb_store_school_close(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                          const char *date, const char **why /* out, may be NULL */);

struct eb_merge_result {
    int64_t n_classes, n_students, n_posts, n_teaching;
};
/**
 * Merges school from_id into into_id on date, in one transaction: every open class of from_id
 * is created again under into_id's grade of the same code (the grade is created when missing)
 * with the same name and year; current enrolments, posts and teaching at from_id end on the
 * date and start at into_id on it; from_id's grades and classes close, and from_id closes with
 * merged_into = into_id; its teaching points move to into_id. Paths never change (no row moves
 * in the tree). Needs write access on both schools' parents. EB_ECONFLICT (*why) when either is
 * closed; EB_EINVAL when they are the same or not schools.
 */
int eb_store_school_merge(struct eb_db *db, const struct eb_caller *c, int64_t from_id,
                          int64_t into_id, const char *date, struct eb_merge_result *out,
                          const char **why /* out, may be NULL */);
/** Makes point_id a teaching point (教学点) of central_id (attach), or no longer (detach).
 * Both must be open schools; a central school cannot itself be a teaching point. */
int eb_store_teaching_point_set(struct eb_db *db, const struct eb_caller *c, int64_t central_id,
                                int64_t point_id, int attach, const char **why /* out */);
/** The teaching points of central_id (open or closed), by id; read access on the central
 * school. */
int eb_store_teaching_points(struct eb_db *db, const struct eb_caller *c, int64_t central_id,
                             struct eb_arena *a, size_t *n /* out */,
                             struct eb_org **items /* out */);

/** One class of a school's class list. */
struct eb_class_row {
    int64_t id, grade_id;
    const char *name, *grade_code, *grade_name, *closed_on;
    int school_year;
    int64_t n_students, n_teachers;
    int64_t head_person_id; /* 0 when the class has no head teacher */
    const char *head_name;
};

/**
 * The classes of a school for a school year (year 0: the latest year with an open class), open
 * ones only unless with_closed; grade_code and q (a substring of the name) filter when not NULL.
 * Ordered by grade code, then name. Read access on the school.
 */
int eb_store_school_classes(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                            int year, const char *grade_code, const char *q, int with_closed,
                            struct eb_arena *a, int *year_out /* out */, size_t *n /* out */,
                            struct eb_class_row **items /* out */);
/** Current students of a class (the 大班额 check); read access on the class. */
int eb_store_class_size(struct eb_db *db, const struct eb_caller *c, int64_t class_id,
                        int64_t *n /* out */);

/** A current teaching assignment of a class. */
struct eb_class_teacher {
    int64_t teaching_id, post_id, person_id;
    const char *name, *subject, *start_date;
    int is_head_teacher;
};
/** The class's current teaching assignments, head teacher first; read access on the class. */
int eb_store_class_teachers(struct eb_db *db, const struct eb_caller *c, int64_t class_id,
                            struct eb_arena *a, size_t *n /* out */,
                            struct eb_class_teacher **items /* out */);
/**
 * Makes the holder of post_id the head teacher of class_id from date: the current head-teacher
 * assignment ends on the date (EB_EINVAL when it started after it), and the new head teacher's
 * assignment starts (subject: the one they already teach in the class, else subject, else
 * "班主任"). Write access on the class; the post must be a current post of its school.
 */
int eb_store_class_head_set(struct eb_db *db, const struct eb_caller *c, int64_t class_id,
                            int64_t post_id, const char *subject, const char *date,
                            int64_t *teaching_id /* out */);

/** One class of a promotion: where it goes (graduating classes go nowhere). */
struct eb_promotion_item {
    int64_t class_id;
    const char *class_name, *grade_code;
    int64_t n_students, n_teachers;
    int graduating;
    const char *new_grade_code, *new_grade_name, *new_class_name; /* NULL when graduating */
    int64_t new_grade_id; /* 0: the grade node is created by the run */
    int64_t new_class_id; /* applied runs only */
};

struct eb_promotion {
    int64_t run_id, school_id; /* run_id 0 for a preview */
    int from_year, to_year;
    const char *date, *state; /* state: "preview", "applied", "confirmed", "undone" */
    int64_t n_classes, n_promoted, n_graduated, created_at;
    size_t n;
    struct eb_promotion_item *items; /* previews and applied runs; NULL in run lists */
};

/**
 * The promotion of one school from from_year into from_year + 1 on date (the first day of the
 * new year; old enrolments and teaching end on it, new ones start on it). preview: computes
 * what would happen and writes nothing. Otherwise, in one transaction: the new classes are
 * created under the next grade (created when missing), students and their head and subject
 * teachers move, graduating classes' enrolments end (students graduate), the old classes close,
 * and the run records every step for an undo. Write access on the school. EB_ECONFLICT
 * (*why = EB_WHY_ALREADY_PROMOTED) when the year was promoted already; EB_EINVAL for a bad
 * year or date.
 */
int eb_store_promotion_run(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                           int from_year, int to_year, const char *date, int preview,
                           struct eb_arena *a, struct eb_promotion *out,
                           const char **why /* out, may be NULL */);
/** Undoes an applied run exactly (EB_ECONFLICT with *why once confirmed, undone, or when rows
 * it created changed since). */
int eb_store_promotion_undo(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                            int64_t run_id, const char **why /* out, may be NULL */);
/** Confirms an applied run: no undo afterwards. */
int eb_store_promotion_confirm(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                               int64_t run_id, const char **why /* out, may be NULL */);
/** The runs of a school, newest first (items NULL); read access on the school. */
int eb_store_promotion_runs(struct eb_db *db, const struct eb_caller *c, int64_t school_id,
                            struct eb_arena *a, size_t *n /* out */,
                            struct eb_promotion **items /* out */);

/* ---- the brain's registry feeds and demo history (store_feeds.c) ------------------------ */

/* What the feeds (src/brain/feeds.c) and the demo history (src/demo/demo_history.c) read from the
 * registry: plain reads, each bounded by the caller's people-reading scope of org_id (a node
 * outside it is EB_ENOTFOUND); system callers see everything. */

/** An open class and the number of its current students (enrolments without an end date). */
struct eb_feed_class {
    int64_t class_id, school_id;
    char grade_code[4]; /* "11" ... ("" when the class has none) */
    int64_t students;
};
/** The open classes under org_id in path order (a school's classes together, grade by grade). */
int eb_store_feed_classes(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                          struct eb_arena *a, size_t *n /* out */,
                          struct eb_feed_class **items /* out */);

/** The current students of the open classes under org_id, class by class (path order, then
 * person id): fn(ctx, class_id, person_id); a non-zero return of fn stops and is returned. */
typedef int (*eb_feed_student_fn)(void *ctx, int64_t class_id, int64_t person_id);
int eb_store_feed_students(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                           eb_feed_student_fn fn, void *ctx);

/** An open school under org_id with what its indicators are about. */
struct eb_feed_school {
    int64_t school_id;
    unsigned stages;      /* enum eb_stage bits */
    char running_type[4]; /* JY/T 1001 code, "" when unknown */
    int64_t teachers, students, registered, activated;
};
/** The open schools under org_id in path order with their current teachers (current posts) and
 * students, and the accounts registered and activated of their teachers, students and parents
 * (the figures of eb_store_registration). */
int eb_store_feed_schools(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                          struct eb_arena *a, size_t *n /* out */,
                          struct eb_feed_school **items /* out */);

/** The value an element last had at a node: its latest observation (by day, then id) that no
 * other row supersedes; has = 0 when the node has none. */
struct eb_feed_latest {
    int64_t org_id;
    int has;
    int64_t obs_id;
    int32_t day;
    double value;
};
/** eb_feed_latest of element_id at every open node of kind under org_id, in path order. */
int eb_store_feed_latest(struct eb_db *db, const struct eb_caller *c, int32_t element_id,
                         enum eb_org_kind kind, int64_t org_id, struct eb_arena *a,
                         size_t *n /* out */, struct eb_feed_latest **items /* out */);

/* ---- OneRoster: sourcedIds, import jobs, export reads (store_oneroster.c) ---------------- */

/*
 * The sourcedId map (table oneroster_ids, docs/internals/oneroster.md): which local row a
 * OneRoster sourcedId became, per kind. Terms have no id of their own: their local id is
 * school_years.id * 10 + term. A course is the grade node it became.
 */
enum eb_or_kind {
    EB_ORK_ORG = 1,
    EB_ORK_YEAR = 2,
    EB_ORK_TERM = 3,
    EB_ORK_COURSE = 4,
    EB_ORK_CLASS = 5,
    EB_ORK_USER = 6,
    EB_ORK_ENROLMENT = 7, /* a student's enrolment */
    EB_ORK_TEACHING = 8,  /* a teacher's enrollment: a teaching row */
    EB_ORK_POST = 9,      /* not mapped: eb_store_or_current_links lists current posts with it */
};

/* One mapped sourcedId. local_id is -1 when the row lies outside the caller's write scope (it
 * exists, the caller may not change it); org_kind is the org's kind for EB_ORK_ORG rows. */
typedef int (*eb_or_id_fn)(void *arg, const char *sourced_id, int64_t local_id, int org_kind,
                           const char *username);
/** Every mapped sourcedId of kind; a non-zero return of fn stops and is returned. */
int eb_store_or_ids(struct eb_db *db, const struct eb_caller *c, enum eb_or_kind kind,
                    eb_or_id_fn fn, void *arg);
/**
 * Maps sourced_id (1..255 bytes) of kind to local_id, the row at org_path (NULL for school
 * years and terms: installation-wide, city administrators only); replace drops an earlier
 * mapping of the sourcedId first. username: users only, NULL when it is the sourcedId. Needs
 * write access on org_path (EB_ENOTFOUND otherwise). Not audited: the rows it names are.
 */
int eb_store_or_id_put(struct eb_db *db, const struct eb_caller *c, enum eb_or_kind kind,
                       const char *sourced_id, int64_t local_id, const char *org_path,
                       enum eb_org_kind path_kind, const char *username, int replace);
/** The smallest sourcedId mapped to local_id (years and terms: few rows); *sid NULL when none. */
int eb_store_or_sid(struct eb_db *db, enum eb_or_kind kind, int64_t local_id, struct eb_arena *a,
                    const char **sid /* out */);

/** The token (8 hex digits, derived from the installation's key) in the sourcedIds an export
 * makes up for rows that have none, so that they never collide with another installation's. */
void eb_store_or_id_token(struct eb_db *db, char out[9]);
/** Opens the one write transaction of an import (or a savepoint inside the caller's); end it
 * with eb_store_or_tx_end, which commits when rc is 0 and rolls everything back otherwise. */
int eb_store_or_tx_begin(struct eb_db *db, const struct eb_caller *c, int *own /* out */);
int eb_store_or_tx_end(struct eb_db *db, int own, int rc);
/** The materialised path and kind (may be NULL) of an org the caller may read, through the
 * connection's path cache (bulk loads name the same school row after row); EB_ENOTFOUND. */
int eb_store_or_org_path(struct eb_db *db, const struct eb_caller *c, int64_t id,
                         char path[EB_PATH_MAX] /* out */, enum eb_org_kind *kind /* out */);
/** The single root of the org tree (the city), 0 when the database has none. */
int eb_store_or_city(struct eb_db *db, int64_t *id /* out */);
/** The school with the 学校标识码 code: EB_ENOTFOUND when none, EB_EDENIED when the caller
 * may not read it (codes are public: an import reports a package naming another's school). */
int eb_store_or_school_by_code(struct eb_db *db, const struct eb_caller *c, const char *code,
                               int64_t *id /* out */);
/** Moves the data version of every school, grade and class under root_id on (people lists
 * cached by version are read afresh): the end of a bulk load, which skipped the per-row bumps.
 * Write access on root_id. */
int eb_store_or_touch(struct eb_db *db, const struct eb_caller *c, int64_t root_id);
/** The person holding a national student number (through its blind index), visible to the
 * caller; EB_ENOTFOUND otherwise. */
int eb_store_or_person_by_student_no(struct eb_db *db, const struct eb_caller *c,
                                     const char *student_no, int64_t *id /* out */);
/** A person's birth date and sex (demographics.csv), each NULL/unknown to keep; write access
 * on the person. Audited as person.update unless a bulk system load. */
int eb_store_or_person_demographics(struct eb_db *db, const struct eb_caller *c, int64_t id,
                                    const char *birth_date, enum eb_sex sex);
/** Ends a current teaching row or guardian link on end_date (history stays); write access. */
int eb_store_or_teaching_end(struct eb_db *db, const struct eb_caller *c, int64_t id,
                             const char *end_date);
int eb_store_or_guardian_end(struct eb_db *db, const struct eb_caller *c, int64_t id,
                             const char *end_date);

/** One current link under a root (eb_store_or_current_links). */
struct eb_or_link {
    int64_t id, person_id, org_id; /* org: the class (enrolment, teaching) or school (post) */
    int64_t post_id;               /* teaching */
    int is_head_teacher;
    const char *subject, *start_date; /* valid during the callback */
};
typedef int (*eb_or_link_fn)(void *arg, const struct eb_or_link *l);
/** The current enrolments (EB_ORK_ENROLMENT), teaching rows (EB_ORK_TEACHING) or posts
 * (EB_ORK_POST) of root_id's subtree in id order; needs write access on root_id. */
int eb_store_or_current_links(struct eb_db *db, const struct eb_caller *c, int64_t root_id,
                              enum eb_or_kind what, eb_or_link_fn fn, void *arg);

/* Export reads. Every callback's strings are valid during the call only. */

/** An org of an export with the sourcedIds already mapped (NULL where none is). */
struct eb_or_xorg {
    struct eb_org org;
    const char *sid, *parent_sid;
    int64_t school_id;      /* grades and classes: their school */
    const char *school_sid; /* grades and classes */
    const char *course_sid; /* grades: the smallest course mapped to it; classes: their grade's */
};
typedef int (*eb_or_xorg_fn)(void *arg, const struct eb_or_xorg *o);
/** The orgs of root_id's subtree (root included) of one kind, EB_ORG_GRADE or EB_ORG_CLASS, or
 * 0 for city, district and school nodes, in id order. Needs people-reading access on root_id
 * (as the people lists). */
int eb_store_or_export_orgs(struct eb_db *db, const struct eb_caller *c, int64_t root_id,
                            enum eb_org_kind kind, eb_or_xorg_fn fn, void *arg);

struct eb_or_xpost {
    int64_t school_id;
    const char *school_sid, *title, *subjects, *start_date;
};
struct eb_or_xagent {
    int64_t person_id;
    const char *sid, *relation;
};
/** A person of an export. p.citizen_id is never set, p.student_no only for J and L numbers
 * (a G number holds the citizen ID). */
struct eb_or_xperson {
    struct eb_person p;
    const char *sid, *username;
    int64_t school_id; /* people.school_id: the school (unit) that registered the person */
    const char *school_sid;
    int64_t class_school_id; /* students: the school and grade of the current enrolment, or 0 */
    const char *class_school_sid, *grade_code;
    size_t n_posts; /* current posts in the subtree */
    const struct eb_or_xpost *posts;
    size_t n_agents; /* students: their current guardians; parents: their students */
    const struct eb_or_xagent *agents;
};
typedef int (*eb_or_xperson_fn)(void *arg, const struct eb_or_xperson *p);
/** The people of root_id's subtree: registered there, enrolled or posted there now, and the
 * guardians of its students; in id order, in batches of a few thousand. People-reading access
 * on root_id. */
int eb_store_or_export_people(struct eb_db *db, const struct eb_caller *c, int64_t root_id,
                              eb_or_xperson_fn fn, void *arg);

/** A current enrolment (is_teaching 0) or teaching row (1) of an export; the class and its
 * school are the exporter's to name (it wrote them). */
struct eb_or_xlink {
    int64_t id;
    int is_teaching;
    const char *sid, *person_sid;
    int64_t class_id, person_id;
    const char *start_date, *subject;
    int is_head_teacher;
};
typedef int (*eb_or_xlink_fn)(void *arg, const struct eb_or_xlink *l);
/** The current enrolments, then the current teaching rows of root_id's subtree, in id order. */
int eb_store_or_export_links(struct eb_db *db, const struct eb_caller *c, int64_t root_id,
                             eb_or_xlink_fn fn, void *arg);

/** An import job (table oneroster_imports). */
struct eb_or_job {
    int64_t id, org_id, account_id;
    const char *org_path, *state, *phase, *report; /* report: JSON text or NULL */
    int64_t rows_done, rows_total, created_at, finished_at;
};
/** A queued job importing into org_id, which needs write access (EB_ENOTFOUND). */
int eb_store_or_job_create(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                           int64_t *id /* out */);
/** The job's state (report may be NULL: kept). Called by the job itself, no caller. */
int eb_store_or_job_update(struct eb_db *db, int64_t id, const char *state, const char *phase,
                           int64_t rows_done, int64_t rows_total, const char *report);
/** A job, for callers with write access on its org (the administrators who may import there);
 * EB_ENOTFOUND otherwise. */
int eb_store_or_job_get(struct eb_db *db, const struct eb_caller *c, int64_t id, struct eb_arena *a,
                        struct eb_or_job *out);

/* ---- moving a city between databases (store_copy.c) ------------------------------------- */

/*
 * A whole database copied to another one, of either backend: every table but
 * schema_migrations, found in the catalogs (nothing is listed by hand), parents before children,
 * ids and sealed citizen IDs byte for byte. The target is migrated to the same schema version
 * first and must be empty (or emptied with force, inside the copy's transaction). Afterwards
 * every table is read back from the target and its row count and checksum compared with the
 * source's: the checksum is the sum modulo 2^256 of the SHA-256 of each row rendered
 * canonically (columns by name; integers in decimal, reals as %.17g, text and blobs as their
 * bytes with their length, NULL as a marker), so it does not depend on the row order, which
 * differs where the backends' primary keys do.
 */

/** One table of a copy. */
struct eb_copy_table {
    char name[64];
    int64_t rows_src, rows_dst;
    char sum_src[65], sum_dst[65]; /* hex */
};

struct eb_copy_options {
    const char *src_key_file; /* the source's citizen-ID key; NULL = "<from>.key" (SQLite only) */
    const char *dst_key_file; /* the target's; NULL = the source's for PostgreSQL, "<to>.key" for
                               * SQLite. It must hold the same key (the blobs are not re-sealed). */
    int force;                /* empty a non-empty target first, in the copy's transaction */
    /* Called every few thousand rows and at the end of each table; phase is "copy" or
     * "verify". May be NULL. */
    void (*progress)(void *arg, const char *phase, const char *table, int64_t done, int64_t total);
    void *progress_arg;
};

struct eb_copy_report {
    size_t n_tables;
    struct eb_copy_table *tables; /* in copy order; eb_copy_report_free */
    int schema_version;
    int64_t rows;            /* copied, all tables */
    double copy_s, verify_s; /* wall-clock seconds */
    int mismatches;          /* tables whose count or checksum differ */
    char message[256];       /* why a copy failed or was refused, for the user */
};

/**
 * Copies the database from into to (paths or postgres:// URLs). 0 when the copy committed and
 * verified; EB_EEXIST when the target holds rows (without force); EB_EINVAL for different
 * schemas, versions or keys; EB_ECONFLICT when the verification found a mismatch (the copy is
 * committed: out says which tables). out->message explains any failure.
 */
int eb_store_copy(const char *from, const char *to, const struct eb_copy_options *opt,
                  struct eb_copy_report *out);
void eb_copy_report_free(struct eb_copy_report *r);

/* ---- data quality (store_quality.c) ----------------------------------------------------- */

/*
 * Data-quality checks over a subtree of the org tree (docs/internals/quality.md): each check has
 * a stable code, a severity and a place in eb_quality_checks(). A run reads the subtree with a
 * few set-based statements per check (no statement per row), opens the citizen IDs in-process
 * with the store's key (the findings carry only the masked form), and replaces the findings of
 * its scope in one transaction. Reading needs an administrator or analyst grant covering the
 * node; running needs an administrator's (EB_EDENIED for an analyst in scope); everyone else
 * gets EB_ENOTFOUND, as for a missing node.
 */
enum eb_quality_check_id {
    EB_QC_ID_CHECK_DIGIT,     /* citizen ID: wrong ISO 7064 MOD 11-2 check character */
    EB_QC_ID_MALFORMED,       /* citizen ID: length, characters, region or its birth date */
    EB_QC_BIRTH_INVALID,      /* birth date not a real date, before 1900 or in the future */
    EB_QC_BIRTH_MISMATCH,     /* birth date differs from the citizen ID's */
    EB_QC_DUP_IN_SCHOOL,      /* the same person (blind index) current twice in one school */
    EB_QC_DUP_ACROSS_SCHOOLS, /* ... current in two or more schools */
    EB_QC_AGE_GRADE,          /* age on 1 September off the grade's usual age by more than 2 */
    EB_QC_NO_HEAD_TEACHER,    /* a class with students and no current head teacher */
    EB_QC_CLASS_OVERSIZED,    /* 大班额: more than 55 current students */
    EB_QC_CLASS_SUPERSIZED,   /* 超大班额: more than 65 */
    EB_QC_TEACHER_RATIO,      /* fewer staff than the norms of the school's stages require */
    EB_QC_ENROLLED_IN_CLOSED, /* a current enrolment in a closed class, grade or school */
    EB_QC_COUNT
};

enum eb_quality_severity { EB_QUALITY_WARNING = 1, EB_QUALITY_ERROR = 2 };

struct eb_quality_check {
    const char *code; /* stable: "citizen_id_check_digit", ... */
    enum eb_quality_severity severity;
    const char *name_zh, *name_en;
};

/** The catalogue, indexed by enum eb_quality_check_id (EB_QC_COUNT entries). */
const struct eb_quality_check *eb_quality_checks(void);
/** The id of a check code, or -1. */
int eb_quality_check_parse(const char *code);

#define EB_QUALITY_KEEP_RUNS 20 /* runs kept per org; older rows are pruned by the next run */

struct eb_quality_run {
    int64_t id, org_id;
    const char *origin;              /* "manual", "nightly", "cli" */
    int64_t account_id;              /* 0 for system runs */
    int64_t started_at, finished_at; /* unix milliseconds; finished_at 0 while running */
    int64_t n_findings;
    int64_t counts[EB_QC_COUNT];
    /* Filled by eb_store_quality_run only: what the run read. */
    int64_t n_people, n_classes, n_schools;
};

/**
 * Runs every check over org_id's subtree and replaces its findings. origin is "manual", "cli"
 * or "nightly"; a nightly run claims nightly_day (YYYY-MM-DD, else NULL) for the org first and
 * answers EB_EEXIST when another server already did. Audited (quality.run) with the counts.
 */
int eb_store_quality_run(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                         const char *origin, const char *nightly_day, struct eb_quality_run *out);
/**
 * The nightly run: the checks over every root of the org tree (the city) as the system caller,
 * each claiming day (YYYY-MM-DD) first. *n_runs counts the runs made: 0 when another server on
 * the same database had claimed the day. *n_findings sums their findings.
 */
int eb_store_quality_nightly(struct eb_db *db, const char *day, int *n_runs /* out */,
                             int64_t *n_findings /* out */);
/** The latest finished run whose scope covers org_id (the node or an ancestor); EB_ENOTFOUND
 * when none ran yet. */
int eb_store_quality_last_run(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                              struct eb_arena *a, struct eb_quality_run *out);

/** Findings per check of a node's subtree. */
struct eb_quality_rollup {
    int64_t org_id;
    enum eb_org_kind kind;
    const char *name;
    int64_t total;
    int64_t counts[EB_QC_COUNT];
};
/** The counts of org_id's subtree (*total) and of each child's subtree (*children, id order). */
int eb_store_quality_rollup(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                            struct eb_arena *a, struct eb_quality_rollup *total /* out */,
                            size_t *n /* out */, struct eb_quality_rollup **children /* out */);

struct eb_quality_finding {
    int64_t id, run_id;
    int check;               /* enum eb_quality_check_id */
    const char *object_type; /* "person", "class", "school" */
    int64_t object_id;
    const char *object_name;
    int64_t org_id; /* where the record sits: the person's class (or org), the class, the school */
    const char *org_name;
    int64_t school_id; /* the shard unit: the school (or the org above school level) */
    const char *school_name;
    const char *detail; /* JSON object text */
    int64_t created_at; /* unix milliseconds */
};
/** A page of the findings of org_id's subtree in id order, id > after; check -1 = every check. */
int eb_store_quality_findings(struct eb_db *db, const struct eb_caller *c, int64_t org_id,
                              int check, int64_t after, int limit, struct eb_arena *a,
                              size_t *n /* out */, struct eb_quality_finding **items /* out */,
                              int64_t *next /* out */);
#ifdef EB_TESTING
/** Test builds only: marks an org closed on date with none of a closure's checks, as a legacy
 * load may leave it (the tests plant a student in a closed class with it). */
int eb_store_quality_test_close(struct eb_db *db, int64_t org_id, const char *date);
#endif

#endif
