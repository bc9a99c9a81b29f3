// The OneRoster round trip, on either backend: the demo city exported with `edubrain export
// oneroster`, imported into an empty database, exported again: every CSV file is the same (rows
// sorted), and the two databases count the same students, teachers, classes and enrolments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  startServer, serveDb, loginAs, expectStatus, PG_BASE, pgAdmin, pgDsn,
} from './lib/server.mjs';
import { runCli, expectExit } from './lib/cli.mjs';
import { readPackage, parseCsv, dbArgs } from './lib/oneroster.mjs';

const execFileP = promisify(execFile);
const PSQL = process.env.EDUBRAIN_PSQL || (fs.existsSync('/usr/lib/postgresql/15/bin/psql')
  ? '/usr/lib/postgresql/15/bin/psql' : 'psql');

let srv;
let target; /* { db, args, drop } */
let served;

before(async () => {
  srv = await startServer();
  if (PG_BASE) {
    const name = `eb_e2e_rt_${process.pid}_${Date.now().toString(36)}`;
    await pgAdmin(`CREATE DATABASE ${name}`);
    const keyFile = path.join(srv.dir, 'target.key');
    target = {
      db: pgDsn(name), args: ['--db', pgDsn(name), '--key-file', keyFile], serveArgs: ['--key-file', keyFile],
      drop: () => pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  } else {
    const db = path.join(srv.dir, 'target.db');
    target = { db, args: ['--db', db], serveArgs: [], drop: async () => {} };
  }
});

after(async () => {
  if (served) await served.stop();
  if (srv) await srv.stop();
  if (target) await target.drop();
});

/* Rows of a file without dateLastModified, sorted, as text lines. */
function canonical(text) {
  const { header, rows } = parseCsv(text);
  const cols = header.filter((h) => h !== 'dateLastModified');
  return { header: cols, lines: rows.map((r) => cols.map((c) => r[c]).join('\u0001')).sort() };
}

function counts(files) {
  const users = parseCsv(files['users.csv']).rows;
  const enr = parseCsv(files['enrollments.csv']).rows;
  return {
    students: users.filter((u) => u.role === 'student').length,
    teachers: users.filter((u) => u.role === 'teacher').length,
    parents: users.filter((u) => u.role === 'parent' || u.role === 'guardian').length,
    classes: parseCsv(files['classes.csv']).rows.length,
    enrolments: enr.filter((e) => e.role === 'student').length,
    teaching: enr.filter((e) => e.role === 'teacher').length,
  };
}

test('export -> import into an empty database -> export: every file equal, the counts equal', async () => {
  const admin = await loginAs(srv.base, 'admin');
  const city = admin.session.roles.find((r) => r.role === 'city_admin').org.id;
  const one = path.join(srv.dir, 'export1.zip');
  const two = path.join(srv.dir, 'export2');
  expectExit(await runCli(['export', 'oneroster', ...dbArgs(srv), '--org', String(city), one]), 0, 'export 1');
  const check = await runCli(['oneroster', 'check', one, '--json']);
  expectExit(check, 0, 'the export is a valid package');
  assert.equal(JSON.parse(check.stdout).warnings, 0, check.stdout.slice(0, 2000));

  const imp = await runCli(['import', 'oneroster', one, ...target.args, '--json']);
  expectExit(imp, 0, 'import into the empty database');
  const report = JSON.parse(imp.stdout);
  assert.equal(report.written, true);
  assert.equal(report.errors, 0);
  assert.equal(report.warnings, 0);
  if (PG_BASE) {
    /* The planner knows the loaded tables at once (ANALYZE after the bulk load), not only when
     * autovacuum comes by. */
    const { stdout } = await execFileP(PSQL, ['-X', '-q', '-A', '-t', '-d', target.db, '-c',
      "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname IN ('people', 'enrolments', 'oneroster_ids') AND last_analyze IS NOT NULL"]);
    assert.equal(stdout.trim(), '3', 'the import analyzed people, enrolments and oneroster_ids');
  }

  /* The empty database's first org is the imported city. */
  expectExit(await runCli(['export', 'oneroster', ...target.args, '--org', '1', two]), 0, 'export 2');
  const a = await readPackage(one);
  const b = await readPackage(two);
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort(), 'the same files');
  for (const name of Object.keys(a)) {
    if (name === 'manifest.csv') {
      assert.equal(b[name], a[name]);
      continue;
    }
    const ca = canonical(a[name]);
    const cb = canonical(b[name]);
    assert.deepEqual(cb.header, ca.header, `${name}: header`);
    assert.equal(cb.lines.length, ca.lines.length, `${name}: rows`);
    const diff = ca.lines.filter((l, i) => l !== cb.lines[i]).slice(0, 3);
    assert.deepEqual(cb.lines, ca.lines, `${name}: rows differ, e.g.\n${diff.join('\n')}`);
  }
  /* No citizen ID number or G student number left the database. */
  for (const text of Object.values(a)) assert.doesNotMatch(text, /\b[G]?\d{17}[\dX]\b/);

  const c = counts(a);
  assert.deepEqual(counts(b), c);
  const stats = expectStatus(await admin.get(`/api/v1/orgs/${city}/stats`), 200).json;
  assert.equal(c.students, stats.students, 'every current student is exported');
  assert.equal(c.classes, stats.classes);
  assert.equal(c.enrolments, stats.students);
  assert.equal(c.teachers, stats.teachers);

  /* The imported database itself counts the same: an administrator made there reads it. */
  expectExit(await runCli(['user', 'add', ...target.args, '--login', 'rtadmin', '--password', 'Roundtrip-2026',
    '--role', 'city_admin', '--org', '1']), 0, 'user add on the target');
  served = await serveDb(target.db, { cwd: srv.dir, extraArgs: target.serveArgs });
  const tAdmin = await loginAs(served.base, 'rtadmin', 'Roundtrip-2026');
  const tStats = expectStatus(await tAdmin.get('/api/v1/orgs/1/stats'), 200).json;
  for (const k of ['districts', 'schools', 'grades', 'classes', 'students', 'teachers', 'oversized_classes']) {
    assert.equal(tStats[k], stats[k], `stats.${k}`);
  }
});
