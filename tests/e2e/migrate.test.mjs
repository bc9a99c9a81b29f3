// Moving a city and backing it up: `edubrain migrate` between SQLite files and (under make e2e-pg)
// PostgreSQL databases, with the checksums it reports, the refusal of a non-empty target, --force,
// key files, and servers on each copy answering exactly like the source; `edubrain backup` of a
// PostgreSQL database with pg_dump, restored with pg_restore and served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BIN, ADMIN_PW, DEMO_PW, PG_BASE, createDemoDb, createPgDemoDb, expectStatus, listAll, loginAs, makeCitizenId,
  pgAdmin, pgDsn, serveDb,
} from './lib/server.mjs';
import { ROLE_LOGINS } from './lib/city.mjs';
import { runCli, expectExit } from './lib/cli.mjs';

const NEED_PG = PG_BASE ? false : 'needs a PostgreSQL server (EDUBRAIN_PG, set by make e2e-pg)';
const PG_RESTORE = fs.existsSync('/usr/lib/postgresql/15/bin/pg_restore')
  ? '/usr/lib/postgresql/15/bin/pg_restore' : 'pg_restore';

let tmp;
/** The source city: a SQLite file with a session, audit rows and a person added through the API. */
const src = {};
const servers = [];
const pgDatabases = [];

async function serve(db, keyFile) {
  const srv = await serveDb(db, { cwd: tmp, extraArgs: keyFile ? ['--key-file', keyFile] : [] });
  servers.push(srv);
  return srv;
}

async function newPgDatabase() {
  const name = `eb_mig_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  await pgAdmin(`CREATE DATABASE ${name}`);
  pgDatabases.push(name);
  return pgDsn(name);
}

/** The table migrate prints on stdout: {table: {src, dst, sum, ok}}. */
function parseReport(stdout) {
  const rows = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+([0-9a-f]{64})\s+(ok|MISMATCH)$/.exec(line);
    if (m) rows[m[1]] = { src: Number(m[2]), dst: Number(m[3]), sum: m[4], ok: m[5] === 'ok' };
  }
  return rows;
}

/** Runs migrate and asserts success: every table ok, counts equal, the people copied. */
async function migrateOk(args, what) {
  const res = expectExit(await runCli(['migrate', ...args]), 0, what);
  const report = parseReport(res.stdout);
  const tables = Object.keys(report);
  assert.ok(tables.length >= 8, `${what}: the report lists ${tables.length} tables:\n${res.stdout}`);
  assert.ok(!tables.includes('schema_migrations'), `${what}: schema_migrations was copied`);
  for (const [t, r] of Object.entries(report)) {
    assert.ok(r.ok, `${what}: table ${t} differs:\n${res.stdout}`);
    assert.equal(r.dst, r.src, `${what}: table ${t} row counts`);
  }
  assert.ok(report.people.src > 3000, `${what}: ${report.people.src} people copied`);
  assert.ok(report.audit.src > 0, `${what}: the audit log was not copied`);
  assert.match(res.stderr, /copy\s+people\s+\d+ \/ \d+/, `${what}: no progress on stderr:\n${res.stderr}`);
  assert.match(res.stderr, /every count and checksum matches/, `${what}: stderr:\n${res.stderr}`);
  return { res, report };
}

/** Asserts that two reports hold the same tables with the same counts and checksums. */
function sameReports(a, b, what) {
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort(), `${what}: tables`);
  for (const t of Object.keys(a)) {
    assert.equal(b[t].src, a[t].src, `${what}: ${t} rows`);
    assert.equal(b[t].sum, a[t].sum, `${what}: ${t} checksum`);
  }
}

/**
 * What a server shows of the city: every org's document (the tree walked from the root), every
 * school's students, teachers and parents, every account, and the full citizen ID of student1
 * and of the person added before the copy (?pii=1 decrypts with the server's key file).
 */
async function cityListing(base) {
  const admin = await loginAs(base, 'admin');
  const root = admin.session.roles.find((r) => r.role === 'city_admin').org.id;
  const orgs = [expectStatus(await admin.get(`/api/v1/orgs/${root}`), 200).json];
  const people = {};
  for (let i = 0; i < orgs.length; i++) {
    const o = orgs[i];
    orgs.push(...await listAll(admin, `/api/v1/orgs/${o.id}/children`, 500));
    if (o.kind === 'school' || o.kind === 'class') {
      for (const role of o.kind === 'school' ? ['student', 'teacher', 'parent'] : ['student']) {
        people[`${o.id}/${role}`] = await listAll(admin, `/api/v1/orgs/${o.id}/people?role=${role}`, 500);
      }
    }
  }
  const accounts = await listAll(admin, '/api/v1/accounts', 500);
  const student1 = (await loginAs(base, 'student1')).session.user.person_id;
  const pii = {};
  for (const id of [student1, src.addedId]) {
    pii[id] = expectStatus(await admin.get(`/api/v1/people/${id}?pii=1`), 200).json;
    assert.doesNotMatch(pii[id].citizen_id, /\*/, `person ${id}: the full ID is not shown on ${base}`);
  }
  return { orgs, people, accounts, pii };
}

/** Every demo account logs in on the server with its password. */
async function loginsWork(base) {
  for (const login of ROLE_LOGINS) await loginAs(base, login);
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-migrate-'));
  const dir = path.join(tmp, 'src');
  fs.mkdirSync(dir);
  src.db = await createDemoDb(dir);
  src.key = `${src.db}.key`;
  /* A session, audit rows (a login, a creation, a PII read) and a new person with a sealed
   * citizen ID: the copy must carry more than what the generator writes. */
  const srv = await serveDb(src.db);
  try {
    const admin = await loginAs(srv.base, 'admin');
    const root = admin.session.roles.find((r) => r.role === 'city_admin').org.id;
    const district = (await listAll(admin, `/api/v1/orgs/${root}/children`, 500)).find((o) => o.kind === 'district');
    const school = (await listAll(admin, `/api/v1/orgs/${district.id}/children`, 500)).find((o) => o.kind === 'school');
    src.addedCid = makeCitizenId('376031', '2011-05-17', '123');
    const res = expectStatus(await admin.post('/api/v1/people', {
      org_id: school.id, name: '迁移测试', sex: 'male', birth_date: '2011-05-17', citizen_id: src.addedCid,
    }), 201, 'a person before the copy');
    src.addedId = res.json.id;
    expectStatus(await admin.get(`/api/v1/people/${src.addedId}?pii=1`), 200);
  } finally {
    await srv.stop();
  }
  const s = await serve(src.db);
  src.listing = await cityListing(s.base);
  assert.equal(src.listing.pii[src.addedId].citizen_id, src.addedCid);
  await s.stop();
});

after(async () => {
  const results = await Promise.allSettled(servers.map((s) => s.stop()));
  for (const name of pgDatabases) await pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  for (const r of results) if (r.status === 'rejected') throw r.reason;
});

/* ---- usage ------------------------------------------------------------------------------ */

test('migrate --help, usage errors, a missing source, the same database twice, a PostgreSQL source without a key', async () => {
  let res = expectExit(await runCli(['migrate', '--help']), 0, 'migrate --help');
  assert.match(res.stdout, /usage: edubrain migrate --from PATH_OR_URL --to PATH_OR_URL \[--force\]/);
  assert.match(expectExit(await runCli(['--help']), 0, 'help').stdout, /migrate\s+copy a whole city/);
  expectExit(await runCli(['migrate', '--from', src.db]), 2, 'migrate without --to');
  expectExit(await runCli(['migrate', '--to', path.join(tmp, 'x.db')]), 2, 'migrate without --from');
  expectExit(await runCli(['migrate', '--from', src.db, '--to', path.join(tmp, 'x.db'), 'extra']), 2, 'extra argument');
  res = expectExit(await runCli(['migrate', '--from', src.db, '--to', src.db]), 2, 'same database');
  assert.match(res.stderr, /same database/);
  res = expectExit(await runCli(['migrate', '--from', path.join(tmp, 'nope.db'), '--to', path.join(tmp, 'x.db')]), 1,
    'missing source');
  assert.match(res.stderr, /does not exist/);
  res = expectExit(await runCli(['migrate', '--from', 'postgres://edubrain@127.0.0.1:1/none', '--to',
    path.join(tmp, 'x.db')]), 2, 'PostgreSQL source without --key-file');
  assert.match(res.stderr, /needs --key-file/);
  assert.ok(!fs.existsSync(path.join(tmp, 'x.db')), 'a refused migrate created its target');
  assert.ok(!fs.existsSync(path.join(tmp, 'x.db.key')), 'a refused migrate created a key file');
});

/* ---- SQLite to SQLite ------------------------------------------------------------------- */

test('SQLite → SQLite: identical checksums, the key beside the copy, and a server on the copy shows the same city', async () => {
  const copy = path.join(tmp, 'copy.db');
  const { report } = await migrateOk(['--from', src.db, '--to', copy], 'sqlite -> sqlite');
  const key = fs.statSync(`${copy}.key`);
  assert.equal(key.mode & 0o777, 0o600, 'the copied key file is not private');
  assert.deepEqual(fs.readFileSync(`${copy}.key`), fs.readFileSync(src.key), 'the copy got another key');
  /* The source's checksums again, read from the copy by another run. */
  const again = await migrateOk(['--from', copy, '--to', path.join(tmp, 'copy2.db')], 'copy -> copy2');
  sameReports(report, again.report, 'source vs copy');
  const srv = await serve(copy);
  assert.deepEqual(await cityListing(srv.base), src.listing, 'the copy shows another city');
  await loginsWork(srv.base);
  await srv.stop();
});

test('a non-empty target is refused and left alone; --force replaces it; a target key that differs is refused', async () => {
  /* Another city (another seed) sealed with the same key: only --force may replace it. */
  const dir = path.join(tmp, 'other');
  fs.mkdirSync(dir);
  const other = path.join(dir, 'city.db');
  fs.copyFileSync(src.key, `${other}.key`);
  fs.chmodSync(`${other}.key`, 0o600);
  expectExit(await runCli(['demo', '--db', other, '--scale', 'small', '--seed', '12', '--admin-password', ADMIN_PW,
    '--demo-password', DEMO_PW]), 0, 'demo of another city');
  const before = fs.readFileSync(other);
  let res = expectExit(await runCli(['migrate', '--from', src.db, '--to', other]), 1, 'non-empty target');
  assert.match(res.stderr, /not empty/);
  assert.match(res.stderr, /--force/);
  assert.equal(res.stdout, '', 'a refused migrate printed a report');
  assert.ok(fs.readFileSync(other).equals(before), 'the refused migrate changed the target');
  const o = await serve(other);
  const oa = await loginAs(o.base, 'admin');
  const oroot = oa.session.roles.find((r) => r.role === 'city_admin').org.id;
  const otree = await listAll(oa, `/api/v1/orgs/${oroot}/children`, 500);
  const stree = src.listing.orgs.filter((x) => x.parent_id === src.listing.orgs[0].id);
  assert.notDeepEqual(otree, stree, 'the other city should differ from the source');
  await o.stop();

  await migrateOk(['--from', src.db, '--to', other, '--force'], 'migrate --force');
  const srv = await serve(other);
  assert.deepEqual(await cityListing(srv.base), src.listing, 'after --force the target is not the source city');
  await srv.stop();

  /* A target whose key file holds another key: the sealed IDs would not open there. */
  const t = path.join(tmp, 'wrongkey.db');
  fs.writeFileSync(`${t}.key`, crypto.randomBytes(32), { mode: 0o600 });
  res = expectExit(await runCli(['migrate', '--from', src.db, '--to', t]), 1, 'target with another key');
  assert.match(res.stderr, /another key/);
  assert.ok(!fs.existsSync(t), 'a refused migrate left its new target behind');
  assert.ok(fs.existsSync(`${t}.key`), 'a refused migrate removed a key file it did not create');
});

/* ---- PostgreSQL ------------------------------------------------------------------------- */

test('SQLite → PostgreSQL → SQLite: identical checksums, the same city on all three servers, ids go on', { skip: NEED_PG }, async () => {
  const pg = await newPgDatabase();
  const there = await migrateOk(['--from', src.db, '--to', pg], 'sqlite -> pg');
  assert.match(there.res.stderr, new RegExp(`serve the target with --key-file ${src.key}`));
  const back = path.join(tmp, 'back.db');
  const home = await migrateOk(['--from', pg, '--key-file', src.key, '--to', back], 'pg -> sqlite');
  sameReports(there.report, home.report, 'SQLite source vs PostgreSQL copy');
  assert.deepEqual(fs.readFileSync(`${back}.key`), fs.readFileSync(src.key));

  /* Once filled, the PostgreSQL database refuses a second copy unless forced. */
  const res = expectExit(await runCli(['migrate', '--from', src.db, '--to', pg]), 1, 'non-empty PostgreSQL target');
  assert.match(res.stderr, /not empty/);
  const forced = await migrateOk(['--from', src.db, '--to', pg, '--force'], 'sqlite -> pg --force');
  sameReports(there.report, forced.report, 'forced copy');

  const onPg = await serve(pg, src.key);
  const onBack = await serve(back);
  const [lp, lb] = await Promise.all([cityListing(onPg.base), cityListing(onBack.base)]);
  assert.deepEqual(lp, src.listing, 'the PostgreSQL copy shows another city');
  assert.deepEqual(lb, src.listing, 'the round trip shows another city');
  await loginsWork(onPg.base);
  await loginsWork(onBack.base);
  /* New rows get new ids: the sequences continue after the copied ones. */
  for (const s of [onPg, onBack]) {
    const admin = await loginAs(s.base, 'admin');
    const school = src.listing.orgs.find((x) => x.kind === 'school');
    const r = expectStatus(await admin.post('/api/v1/people', {
      org_id: school.id, name: '复制后新增', sex: 'male', birth_date: '2012-02-02',
    }), 201, 'a person created on the copy');
    assert.ok(r.json.id > src.addedId, `new id ${r.json.id} after the copied ${src.addedId}`);
  }
  await onPg.stop();
  await onBack.stop();
});

/* ---- backups of PostgreSQL -------------------------------------------------------------- */

test('backup of PostgreSQL runs pg_dump; pg_restore into a fresh database serves the same city', { skip: NEED_PG }, async () => {
  const dir = path.join(tmp, 'pgbk');
  fs.mkdirSync(dir);
  const pg = await createPgDemoDb(dir);
  const srcSrv = await serveDb(pg.dsn, { cwd: dir, extraArgs: ['--key-file', pg.keyFile], cleanup: pg.drop });
  servers.push(srcSrv);
  const admin = await loginAs(srcSrv.base, 'admin');
  const root = admin.session.roles.find((r) => r.role === 'city_admin').org.id;
  const district = (await listAll(admin, `/api/v1/orgs/${root}/children`, 500)).find((o) => o.kind === 'district');
  const school = (await listAll(admin, `/api/v1/orgs/${district.id}/children`, 500)).find((o) => o.kind === 'school');
  const cid = makeCitizenId('376031', '2010-09-09', '321');
  const added = expectStatus(await admin.post('/api/v1/people', {
    org_id: school.id, name: '备份测试', sex: 'male', birth_date: '2010-09-09', citizen_id: cid,
  }), 201).json.id;

  const out = path.join(dir, 'city.dump');
  let res = expectExit(await runCli(['backup', '--db', pg.dsn, out]), 0, 'backup of PostgreSQL');
  assert.match(res.stderr, /pg_dump/);
  assert.match(res.stderr, /key file is not in it/);
  assert.equal(fs.readFileSync(out).subarray(0, 5).toString(), 'PGDMP', 'not a pg_dump custom-format archive');
  res = expectExit(await runCli(['backup', '--db', pg.dsn, out]), 1, 'backup onto an existing file');
  assert.match(res.stderr, /already exists/);

  /* Without pg_dump on the PATH the command says what to do and writes nothing. */
  const none = path.join(dir, 'none.dump');
  const np = await new Promise((resolve, reject) => {
    const child = spawn(BIN, ['backup', '--db', pg.dsn, none], { env: { ...process.env, PATH: '/nonexistent' } });
    let stderr = '';
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(np.code, 1, np.stderr);
  assert.match(np.stderr, /pg_dump is not on the PATH/);
  assert.ok(!fs.existsSync(none));

  const restored = await newPgDatabase();
  await new Promise((resolve, reject) => {
    const child = spawn(PG_RESTORE, ['--exit-on-error', '--dbname', restored, out]);
    let stderr = '';
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg_restore: ${code}\n${stderr}`))));
  });
  const copy = await serve(restored, pg.keyFile);
  const listing = async (base) => {
    const a = await loginAs(base, 'admin');
    const tree = await listAll(a, `/api/v1/orgs/${district.id}/children`, 500);
    const roster = await listAll(a, `/api/v1/orgs/${school.id}/people?role=student`, 500);
    const accounts = await listAll(a, '/api/v1/accounts', 500);
    const person = expectStatus(await a.get(`/api/v1/people/${added}?pii=1`), 200).json;
    return { tree, roster, accounts, person };
  };
  const [ls, lr] = await Promise.all([listing(srcSrv.base), listing(copy.base)]);
  assert.deepEqual(lr, ls, 'the restored database shows another city');
  assert.equal(lr.person.citizen_id, cid, 'the restored database does not open the ID with the same key');
  await loginsWork(copy.base);
  await copy.stop();
  await srcSrv.stop();
});
