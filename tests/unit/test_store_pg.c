/* Unit tests of the store's PostgreSQL backend: placeholder rewriting always; with EDUBRAIN_PG
 * (a server DSN, as make e2e-pg sets it) migrations, collation, errors, savepoints, the write
 * lock, BYTEA round trips, deferred (pipelined) writes and the append-only audit log on a fresh
 * database. */
#include "unit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"
#include "store/store_int.h"

static const struct eb_caller sys = {.system = 1};
static const struct eb_caller bulk = {.system = 1, .no_audit = 1};

static struct {
    char dsn[512];     /* the fresh database */
    char key_file[64]; /* its citizen-ID key */
    char name[64];
    int have_pg;
} t;

/* The DSN of database name on the server of base (the path of the URL replaced). */
static void dsn_for(const char *base, const char *name, char *out, size_t cap)
{
    const char *host = strstr(base, "://");
    host = host ? host + 3 : base;
    size_t cut = strcspn(host, "/?");
    const char *query = strchr(host, '?');
    snprintf(out, cap, "%.*s/%s%s", (int)(host - base + (ptrdiff_t)cut), base, name,
             query ? query : "");
}

/* Runs one SQL command on conninfo; the result status, or -1 when the connection failed. */
static int sql_on(const char *conninfo, const char *sql, char *value, size_t cap)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        print_message("store_pg: cannot connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PGresult *r = PQexec(c, sql);
    int st = (int)PQresultStatus(r);
    if (value != NULL && cap > 0) {
        value[0] = '\0';
        if (st == PGRES_TUPLES_OK && PQntuples(r) > 0)
            snprintf(value, cap, "%s", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    PQfinish(c);
    return st;
}

static int setup(void **state)
{
    (void)state;
    memset(&t, 0, sizeof(t));
    const char *base = getenv("EDUBRAIN_PG");
    if (base == NULL || base[0] == '\0')
        return 0;
    snprintf(t.name, sizeof(t.name), "eb_unit_%ld_%ld", (long)getpid(), (long)time(NULL));
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", t.name);
    if (sql_on(base, sql, NULL, 0) != PGRES_COMMAND_OK)
        return -1;
    dsn_for(base, t.name, t.dsn, sizeof(t.dsn));
    snprintf(t.key_file, sizeof(t.key_file), "/tmp/eb-unit-pg-%ld.key", (long)getpid());
    unlink(t.key_file);
    t.have_pg = 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!t.have_pg)
        return 0;
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", t.name);
    sql_on(getenv("EDUBRAIN_PG"), sql, NULL, 0);
    unlink(t.key_file);
    return 0;
}

#define NEED_PG()                                                                                  \
    do {                                                                                           \
        if (!t.have_pg)                                                                            \
            skip();                                                                                \
    } while (0)

static struct eb_store *open_store(int pool, int busy_ms)
{
    struct eb_store_options o = {
        .pool_size = pool, .busy_timeout_ms = busy_ms, .create = 1, .key_file = t.key_file};
    struct eb_store *st = NULL;
    assert_int_equal(eb_store_open(t.dsn, &o, &st), 0);
    assert_non_null(st);
    return st;
}

/* ---- without a server ----------------------------------------------------------------- */

static void placeholders_numbered_outside_literals(void **state)
{
    (void)state;
    int n = -1;
    char *s = eb__pg_rewrite_placeholders(
        "SELECT a FROM t WHERE b = ? AND c = '?''?' AND \"d?\" > ? -- e = ?\n LIMIT ?", &n);
    assert_string_equal(s, "SELECT a FROM t WHERE b = $1 AND c = '?''?' AND \"d?\" > $2 -- e = ?\n"
                           " LIMIT $3");
    assert_int_equal(n, 3);
    eb_free(s);
    s = eb__pg_rewrite_placeholders("VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &n);
    assert_string_equal(s, "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
    assert_int_equal(n, 11);
    eb_free(s);
    s = eb__pg_rewrite_placeholders("SELECT 1", &n);
    assert_string_equal(s, "SELECT 1");
    assert_int_equal(n, 0);
    eb_free(s);
}

static void pg_dsn_needs_key_file_and_selects_backend(void **state)
{
    (void)state;
    struct eb_store_options o = {.pool_size = 1, .create = 1};
    struct eb_store *st = (struct eb_store *)&o; /* must be reset to NULL */
    assert_int_equal(eb_store_open("postgres://nobody@127.0.0.1:1/x", &o, &st), EB_EINVAL);
    assert_null(st);
    assert_true(eb__store_is_pg_dsn("postgresql://h/db"));
    assert_true(eb__store_is_pg_dsn("postgres://h/db"));
    assert_false(eb__store_is_pg_dsn("city.db"));
    assert_false(eb__store_is_pg_dsn("postgres.db"));
    /* A server that is not there answers an I/O error, not a crash or a SQLite file. */
    o.key_file = "/nonexistent/dir/k";
    assert_int_equal(eb_store_open("postgres://nobody@127.0.0.1:1/x?connect_timeout=2", &o, &st),
                     EB_EIO);
}

/* ---- on a server ---------------------------------------------------------------------- */

struct opener {
    struct eb_store *st;
    int rc;
};

static void *open_thread(void *arg)
{
    struct opener *op = arg;
    struct eb_store_options o = {
        .pool_size = 2, .busy_timeout_ms = 20000, .create = 1, .key_file = t.key_file};
    op->rc = eb_store_open(t.dsn, &o, &op->st);
    return NULL;
}

static void two_servers_migrate_an_empty_database_together(void **state)
{
    (void)state;
    NEED_PG();
    struct opener ops[3];
    pthread_t th[3];
    memset(ops, 0, sizeof(ops));
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, open_thread, &ops[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    /* All three reach the same version, with each migration applied once. */
    int version = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ops[i].rc, 0);
        assert_string_equal(eb_store_backend_name(ops[i].st), "postgresql");
        struct eb_db *db = eb_store_acquire(ops[i].st);
        if (i == 0)
            version = eb_store_schema_version(db);
        assert_true(version >= 1);
        assert_int_equal(eb_store_schema_version(db), version);
        eb_store_release(ops[i].st, db);
        eb_store_close(ops[i].st);
    }
    char v[32];
    assert_int_equal(sql_on(t.dsn, "SELECT count(*) FROM schema_migrations", v, sizeof(v)),
                     PGRES_TUPLES_OK);
    char want[16];
    snprintf(want, sizeof(want), "%d", version);
    assert_string_equal(v, want);
}

static void path_columns_compare_bytewise(void **state)
{
    (void)state;
    NEED_PG();
    char v[32];
    /* Every materialised path column is COLLATE "C", whatever the database's locale. */
    assert_int_equal(sql_on(t.dsn,
                            "SELECT count(*) FROM information_schema.columns WHERE table_schema ="
                            " 'public' AND column_name LIKE '%path' AND collation_name IS"
                            " DISTINCT FROM 'C'",
                            v, sizeof(v)),
                     PGRES_TUPLES_OK);
    assert_string_equal(v, "0");
    assert_int_equal(sql_on(t.dsn,
                            "SELECT count(*) FROM information_schema.columns WHERE table_schema ="
                            " 'public' AND column_name LIKE '%path'",
                            v, sizeof(v)),
                     PGRES_TUPLES_OK);
    /* The check above saw the columns: 7 of 0001, oidc_clients.org_path of 0003, and those of
     * every later table that lists by subtree (transfers, exchanges, findings ...). */
    assert_true(atoi(v) >= 8);
}

static void writes_errors_blobs_and_subtrees(void **state)
{
    (void)state;
    NEED_PG();
    struct eb_store *st = open_store(2, 2000);
    struct eb_db *db = eb_store_acquire(st);
    struct eb_arena *a = eb_arena_create(0);
    int64_t city = 0, d = 0, school = 0, grade = 0, cls = 0, pid = 0, eid = 0, e2 = 0;
    struct eb_org o = {.kind = EB_ORG_CITY, .name = "市", .lat = 36.5, .has_coords = 1};
    assert_int_equal(eb_store_org_create(db, &sys, &o, &city), 0);
    struct eb_org od = {.parent_id = city, .kind = EB_ORG_DISTRICT, .name = "区"};
    assert_int_equal(eb_store_org_create(db, &sys, &od, &d), 0);
    struct eb_org os = {
        .parent_id = d, .kind = EB_ORG_SCHOOL, .name = "校", .school_code = "3703000001"};
    assert_int_equal(eb_store_org_create(db, &sys, &os, &school), 0);
    struct eb_org og = {.parent_id = school, .kind = EB_ORG_GRADE, .name = "一年级"};
    assert_int_equal(eb_store_org_create(db, &sys, &og, &grade), 0);
    struct eb_org oc = {
        .parent_id = grade, .kind = EB_ORG_CLASS, .name = "1班", .school_year = 2026};
    assert_int_equal(eb_store_org_create(db, &sys, &oc, &cls), 0);
    /* The same school code again: a unique violation is EB_EEXIST, and nothing else changed. */
    int64_t dup = 0;
    assert_int_equal(eb_store_org_create(db, &sys, &os, &dup), EB_EEXIST);

    struct eb_org got;
    assert_int_equal(eb_store_org_get(db, &sys, city, a, &got), 0);
    assert_string_equal(got.name, "市");
    assert_true(got.lat > 36.49 && got.lat < 36.51);

    /* The sealed citizen ID (BYTEA) comes back whole to a PII read. */
    struct eb_person p = {.name = "学生甲",
                          .sex = EB_SEX_FEMALE,
                          .birth_date = "2014-05-01",
                          .citizen_id = "110105201405011234",
                          .org_id = school};
    assert_int_equal(eb_store_person_create(db, &sys, &p, &pid), 0);
    struct eb_person gp;
    assert_int_equal(eb_store_person_get(db, &sys, pid, 1, a, &gp), 0);
    assert_string_equal(gp.citizen_id, "110105201405011234");
    assert_int_equal(gp.citizen_id_masked, 0);
    assert_int_equal(eb_store_person_get(db, &sys, pid, 0, a, &gp), 0);
    assert_string_equal(gp.citizen_id, "110105********1234");

    /* A current enrolment twice: the partial unique index answers, mapped to a conflict. */
    struct eb_enrolment e = {.person_id = pid, .class_id = cls, .start_date = "2026-09-01"};
    assert_int_equal(eb_store_enrolment_create(db, &sys, &e, &eid), 0);
    assert_int_equal(eb_store_enrolment_create(db, &sys, &e, &e2), EB_ECONFLICT);

    /* The subtree range scans (path >= ? AND path < ?) find the student three levels down. */
    struct eb_person_list pl;
    assert_int_equal(eb_store_org_people(db, &sys, d, EB_PEOPLE_STUDENTS, 0, 10, a, &pl), 0);
    assert_int_equal(pl.n, 1);
    assert_int_equal(pl.items[0].id, pid);
    assert_int_equal(eb_store_org_get(db, &sys, d, a, &got), 0);
    assert_int_equal(got.n_students, 1);
    assert_int_equal(eb_store_org_get(db, &sys, city, a, &got), 0);
    assert_int_equal(got.n_students, 1);

    eb_arena_destroy(a);
    eb_store_release(st, db);
    eb_store_close(st);
}

static void savepoints_keep_the_callers_transaction(void **state)
{
    (void)state;
    NEED_PG();
    struct eb_store *st = open_store(1, 2000);
    struct eb_db *db = eb_store_acquire(st);
    int64_t id = 0, id2 = 0;
    struct eb_account acc = {
        .login = "pg_sp_one", .display_name = "一", .created_at = "2026-01-01"};
    assert_int_equal(eb_db_begin(db), 0);
    assert_int_equal(eb_store_account_create(db, &sys, &acc, &id), 0);
    /* An audited write that fails rolls back to its savepoint only. */
    assert_int_equal(eb_store_account_create(db, &sys, &acc, &id2), EB_EEXIST);
    struct eb_account acc2 = {
        .login = "pg_sp_two", .display_name = "二", .created_at = "2026-01-01"};
    assert_int_equal(eb_store_account_create(db, &sys, &acc2, &id2), 0);
    assert_int_equal(eb_db_commit(db), 0);
    struct eb_arena *a = eb_arena_create(0);
    struct eb_account got;
    assert_int_equal(eb_store_account_by_login(db, "pg_sp_two", a, &got), 0);
    assert_int_equal(got.id, id2);

    /* A bulk write has no savepoint: its failure aborts the transaction, and COMMIT says so
     * instead of answering success for a transaction PostgreSQL rolled back. */
    struct eb_account acc3 = {
        .login = "pg_sp_three", .display_name = "三", .created_at = "2026-01-01"};
    assert_int_equal(eb_db_begin(db), 0);
    assert_int_equal(eb_store_account_create(db, &bulk, &acc3, &id), 0);
    assert_int_equal(eb_store_account_create(db, &bulk, &acc, &id), EB_EEXIST);
    assert_int_not_equal(eb_db_commit(db), 0);
    eb_db_rollback(db);
    assert_int_equal(eb_store_account_by_login(db, "pg_sp_three", a, &got), EB_ENOTFOUND);
    eb_arena_destroy(a);
    eb_store_release(st, db);
    eb_store_close(st);
}

/* The users in oneroster_ids (kind 6, EB_ORK_USER), read by a statement that waits for its answer.
 */
static int64_t map_rows(struct eb_db *db, int *rc_out)
{
    struct eb__q q;
    int64_t n = -1;
    eb__q_start(db, "SELECT COUNT(*) FROM oneroster_ids WHERE kind = 6", &q);
    int rc = eb__q_step(&q);
    if (rc == EB__STORE_ROW) {
        n = eb__q_col_int(&q, 0);
        rc = 0;
    }
    eb__q_end(&q);
    *rc_out = rc;
    return n;
}

/* A bulk load's writes that need no answer go out in libpq's pipeline mode: thousands of them
 * commit whole; one that fails fails the next statement that waits (or the COMMIT) and the whole
 * transaction, and the connection serves the next one. */
static void deferred_writes_commit_whole_or_fail_the_transaction(void **state)
{
    (void)state;
    NEED_PG();
    struct eb_store *st = open_store(1, 2000);
    struct eb_db *db = eb_store_acquire(st);
    char sid[32];
    int rc;
    assert_int_equal(eb_db_begin(db), 0);
    for (int i = 0; i < 2500; i++) {
        snprintf(sid, sizeof(sid), "u%d", i);
        assert_int_equal(eb_store_or_id_put(db, &bulk, EB_ORK_USER, sid, i + 1, NULL, 0, NULL, 0),
                         0);
    }
    assert_int_equal(eb_db_commit(db), 0);
    assert_int_equal(map_rows(db, &rc), 2500);
    assert_int_equal(rc, 0);

    /* A duplicate key among deferred writes: answered 0 when sent, its error comes with the
     * next statement that waits, and nothing of the transaction stays. */
    assert_int_equal(eb_db_begin(db), 0);
    assert_int_equal(eb_store_or_id_put(db, &bulk, EB_ORK_USER, "new-1", 9001, NULL, 0, NULL, 0),
                     0);
    assert_int_equal(eb_store_or_id_put(db, &bulk, EB_ORK_USER, "u5", 9002, NULL, 0, NULL, 0), 0);
    map_rows(db, &rc);
    assert_int_equal(rc, EB_ESTORE);
    eb_db_rollback(db);
    assert_int_equal(map_rows(db, &rc), 2500);

    /* The same with nothing after the failing write but the COMMIT. */
    assert_int_equal(eb_db_begin(db), 0);
    assert_int_equal(eb_store_or_id_put(db, &bulk, EB_ORK_USER, "u7", 9003, NULL, 0, NULL, 0), 0);
    assert_int_not_equal(eb_db_commit(db), 0);
    eb_db_rollback(db);
    assert_int_equal(map_rows(db, &rc), 2500);

    /* The connection goes on. */
    assert_int_equal(eb_db_begin(db), 0);
    assert_int_equal(eb_store_or_id_put(db, &bulk, EB_ORK_USER, "new-2", 9004, NULL, 0, NULL, 0),
                     0);
    assert_int_equal(eb_db_commit(db), 0);
    assert_int_equal(map_rows(db, &rc), 2501);
    eb_store_release(st, db);
    eb_store_close(st);
}

static void one_writer_at_a_time(void **state)
{
    (void)state;
    NEED_PG();
    struct eb_store *st = open_store(2, 300);
    struct eb_db *d1 = eb_store_acquire(st);
    struct eb_db *d2 = eb_store_acquire(st);
    assert_int_equal(eb_db_begin(d1), 0);
    /* The second writer waits for the write lock as long as busy_timeout_ms, then is told to
     * retry; readers do not wait. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(eb_db_begin(d2), EB_EBUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms >= 250);
    assert_true(eb_store_schema_version(d2) >= 1);
    assert_int_equal(eb_db_commit(d1), 0);
    assert_int_equal(eb_db_begin(d2), 0);
    assert_int_equal(eb_db_rollback(d2), 0);
    eb_store_release(st, d2);
    eb_store_release(st, d1);
    eb_store_close(st);
}

static void audit_is_append_only_and_backup_points_to_pg_dump(void **state)
{
    (void)state;
    NEED_PG();
    struct eb_store *st = open_store(1, 2000);
    struct eb_db *db = eb_store_acquire(st);
    struct eb_audit e = {.action = "test.event", .object_type = "org", .org_path = "/1/"};
    assert_int_equal(eb_store_audit_add(db, &sys, &e), 0);
    eb_store_release(st, db);
    char v[32];
    assert_int_equal(sql_on(t.dsn, "SELECT count(*) FROM audit", v, sizeof(v)), PGRES_TUPLES_OK);
    assert_true(atoi(v) >= 1);
    assert_int_equal(sql_on(t.dsn, "UPDATE audit SET action = 'x'", NULL, 0), PGRES_FATAL_ERROR);
    assert_int_equal(sql_on(t.dsn, "DELETE FROM audit", NULL, 0), PGRES_FATAL_ERROR);
    assert_int_equal(sql_on(t.dsn, "TRUNCATE audit", NULL, 0), PGRES_FATAL_ERROR);
    assert_int_equal(sql_on(t.dsn, "SELECT count(*) FROM audit WHERE action = 'x'", v, sizeof(v)),
                     PGRES_TUPLES_OK);
    assert_string_equal(v, "0");
    assert_int_equal(eb_store_backup(st, "/tmp/eb-unit-pg-never.db"), EB_EINVAL);
    assert_int_equal(access("/tmp/eb-unit-pg-never.db", F_OK), -1);
    eb_store_close(st);
}

EB_TEST_GROUP(store_pg);
EB_TEST_GROUP(store_pg)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholders_numbered_outside_literals),
        cmocka_unit_test(pg_dsn_needs_key_file_and_selects_backend),
        cmocka_unit_test(two_servers_migrate_an_empty_database_together),
        cmocka_unit_test(path_columns_compare_bytewise),
        cmocka_unit_test(writes_errors_blobs_and_subtrees),
        cmocka_unit_test(savepoints_keep_the_callers_transaction),
        cmocka_unit_test(deferred_writes_commit_whole_or_fail_the_transaction),
        cmocka_unit_test(one_writer_at_a_time),
        cmocka_unit_test(audit_is_append_only_and_backup_points_to_pg_dump),
    };
    return cmocka_run_group_tests_name("store_pg", tests, setup, teardown);
}
