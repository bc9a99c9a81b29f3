// The schema rules of docs/SCALING.md (Citus-ready keys): uniqueness that spans schools is kept
// by the store on both backends (a student number, a current enrolment), and on PostgreSQL the
// catalog itself follows the rules: every primary key and unique index of a distributed table
// holds its distribution column, foreign keys go to the reference table orgs or to a table of
// the same group with the column, and every table is classified.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { PG_BASE, startServer, loginAs, expectStatus, expectError, makeCitizenId, uniq } from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let admin;
let ids;
const tag = uniq();

before(async () => {
  srv = await startServer();
  ({ ids } = await discoverCity(srv.base));
  admin = await loginAs(srv.base, 'admin');
});

after(async () => {
  if (srv) await srv.stop();
});

/* A region code and sequence per run, so that reruns on a kept database do not collide. */
const seq = String(100 + (Number.parseInt(tag.slice(-3), 36) % 800)).padStart(3, '0');

test('a student number registered in one school is refused in another (both backends)', async () => {
  const birth = '2013-06-01';
  const cid = makeCitizenId('370202', birth, seq);
  const sex = Number(seq[2]) % 2 ? 'male' : 'female';
  const first = expectStatus(await admin.post('/api/v1/people', {
    org_id: ids.schoolA, name: `学号一${tag}`, sex, birth_date: birth, kind: 'student', student_no: `G${cid}`,
  }), 201).json;
  expectError(await admin.post('/api/v1/people', {
    org_id: ids.schoolB, name: `学号二${tag}`, sex, birth_date: birth, kind: 'student', student_no: `G${cid}`,
  }), 409, 'exists', 'the same student number in another school');
  const other = expectStatus(await admin.post('/api/v1/people', {
    org_id: ids.schoolB, name: `学号三${tag}`, sex: 'female', birth_date: '2013-07-02', kind: 'student',
  }), 201).json;
  expectError(await admin.patch(`/api/v1/people/${other.id}`, { student_no: `G${cid}` }), 409, 'exists',
    'taking another school\'s student number by an update');
  /* The holder itself may be written with its own number. */
  expectStatus(await admin.patch(`/api/v1/people/${first.id}`, { student_no: `G${cid}` }), 200);
});

test('a student enrolled in one school cannot be enrolled in a class of another at the same time', async () => {
  const p = expectStatus(await admin.post('/api/v1/people', {
    org_id: ids.schoolA, name: `转学${tag}`, sex: 'male', birth_date: '2014-01-09', kind: 'student',
  }), 201).json;
  const en = expectStatus(await admin.post('/api/v1/enrolments', {
    person_id: p.id, class_id: ids.classA, start_date: '2026-09-01',
  }), 201).json;
  expectError(await admin.post('/api/v1/enrolments', {
    person_id: p.id, class_id: ids.classB, start_date: '2026-09-02',
  }), 409, ['conflict', 'exists'], 'a second current enrolment in another school');
  /* A transfer: end the first, then the other school may enrol them. */
  expectStatus(await admin.post(`/api/v1/enrolments/${en.id}/end`, { end_date: '2026-12-31' }), 200);
  expectStatus(await admin.post('/api/v1/enrolments', {
    person_id: p.id, class_id: ids.classB, start_date: '2027-01-01',
  }), 201, 'enrolled in the other school after the transfer');
  const roster = expectStatus(await admin.get(`/api/v1/orgs/${ids.classB}/people?role=student&limit=500`), 200).json;
  assert.ok(roster.items.some((x) => x.id === p.id), 'the transferred student is on the new class roster');
});

const PSQL = fs.existsSync('/usr/lib/postgresql/15/bin/psql') ? '/usr/lib/postgresql/15/bin/psql' : 'psql';

function psql(dsn, sql) {
  return new Promise((resolve, reject) => {
    execFile(PSQL, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', dsn, '-c', sql], { timeout: 30000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/* Each table's Citus kind (docs/SCALING.md, "Tables"): distribution column and co-location group. */
const DISTRIBUTED = [
  ['org_versions', 'school_id', 'school'], ['people', 'school_id', 'school'], ['enrolments', 'school_id', 'school'],
  ['posts', 'school_id', 'school'], ['teaching', 'school_id', 'school'], ['guardians', 'school_id', 'school'],
  ['audit', 'school_id', 'school'], ['accounts', 'id', 'account'], ['grants', 'account_id', 'account'],
  ['sessions', 'account_id', 'account'], ['account_logins', 'login', 'logins'], ['login_throttle', 'key', 'throttle'],
  ['totp_secrets', 'account_id', 'account'],
  ['binding_codes', 'school_id', 'school'],
  ['oneroster_ids', 'school_id', 'school'], ['oneroster_imports', 'school_id', 'school'],
  ['promotion_runs', 'school_id', 'school'], ['promotion_steps', 'school_id', 'school'],
  ['quality_runs', 'school_id', 'school'], ['quality_findings', 'school_id', 'school'],
  ['student_status_events', 'school_id', 'school'], ['transfers', 'school_id', 'school'],
  ['transfer_steps', 'school_id', 'school'],
  ['teacher_exchanges', 'school_id', 'school'], ['recruitment_batches', 'school_id', 'school'],
  ['recruitment_hires', 'school_id', 'school'],
  ['observations', 'school_id', 'school'], ['alerts', 'school_id', 'school'],
  ['oidc_codes', 'code_hash', 'oidc_codes'], ['oidc_tokens', 'token_hash', 'oidc_tokens'],
  ['oidc_session_clients', 'account_id', 'account'], ['oidc_consents', 'account_id', 'account'],
];
const REFERENCE = ['orgs', 'school_codes', 'data_elements', 'indicators', 'district_boundaries', 'oidc_keys', 'oidc_clients', 'school_years', 'terms'];
const LOCAL = ['schema_migrations'];

test('PostgreSQL: keys, unique indexes and foreign keys follow the Citus rules', { skip: PG_BASE ? false : 'needs EDUBRAIN_PG' }, async () => {
  const dist = DISTRIBUTED.map(([t, c, g]) => `('${t}', '${c}', '${g}')`).join(', ');
  const refs = REFERENCE.map((t) => `'${t}'`).join(', ');
  const known = [...DISTRIBUTED.map(([t]) => t), ...REFERENCE, ...LOCAL].map((t) => `'${t}'`).join(', ');
  const sql = `
WITH dist(tbl, col, grp) AS (VALUES ${dist}),
no_col AS (
  SELECT 'no distribution column: ' || d.tbl || '.' || d.col AS v FROM dist d
  WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = d.tbl::regclass
                    AND a.attname = d.col AND a.attnotnull)),
bad_unique AS (
  SELECT 'unique without the distribution column: ' || i.indexrelid::regclass::text AS v
  FROM dist d JOIN pg_index i ON i.indrelid = d.tbl::regclass AND i.indisunique
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = d.col
  WHERE NOT (a.attnum = ANY (i.indkey::int2[]))),
bad_fk AS (
  SELECT 'foreign key across groups or without the column: ' || d.tbl || '.' || c.conname AS v
  FROM dist d JOIN pg_constraint c ON c.conrelid = d.tbl::regclass AND c.contype = 'f'
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = d.col
  LEFT JOIN dist d2 ON d2.tbl = c.confrelid::regclass::text
  WHERE c.confrelid::regclass::text NOT IN (${refs})
    AND NOT (d2.grp = d.grp AND a.attnum = ANY (c.conkey))),
ref_to_dist AS (
  SELECT 'reference table pointing at a distributed one: ' || c.conname AS v
  FROM pg_constraint c JOIN dist d ON d.tbl = c.confrelid::regclass::text
  WHERE c.contype = 'f' AND c.conrelid::regclass::text IN (${refs})),
unclassified AS (
  SELECT 'table not classified in docs/SCALING.md: ' || tablename AS v FROM pg_tables
  WHERE schemaname = 'public' AND tablename NOT IN (${known}))
SELECT v FROM no_col UNION ALL SELECT v FROM bad_unique UNION ALL SELECT v FROM bad_fk
UNION ALL SELECT v FROM ref_to_dist UNION ALL SELECT v FROM unclassified ORDER BY 1`;
  const out = (await psql(srv.db, sql)).trim();
  assert.equal(out, '', `the schema breaks the rules of docs/SCALING.md:\n${out}`);
  /* The check itself must see the tables: a sanity count of what it inspected. */
  const n = Number((await psql(srv.db, `SELECT COUNT(*) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
    WHERE i.indisunique AND t.relname IN (${DISTRIBUTED.map(([t]) => `'${t}'`).join(', ')})`)).trim());
  assert.ok(n >= DISTRIBUTED.length, `only ${n} unique indexes inspected`);
});
