// OneRoster import end to end, on either backend: packages built here (valid, with an error,
// with a warning) through `edubrain import oneroster` and through the upload API's job; the
// shared sample sets rejected with their findings and nothing written; scope; bulk ends; the
// export download without citizen IDs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startServer, loginAs, expectStatus, expectError, listAll, assertErrorsWellFormed, uniq,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';
import { runCli, expectExit } from './lib/cli.mjs';
import {
  writePackageDir, packageZip, readPackage, parseCsv, samplesDir, dbArgs,
} from './lib/oneroster.mjs';

const SAMPLES = samplesDir();
const tag = uniq();
const n = Number.parseInt(tag.slice(-4), 36) % 10000;
let srv;
let ids;
let admin;
let clients;
let districtA;
let city;

before(async () => {
  srv = await startServer();
  ({ ids, clients } = await discoverCity(srv.base));
  admin = clients.admin;
  districtA = expectStatus(await admin.get(`/api/v1/orgs/${ids.districtA}`), 200).json;
  city = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}`), 200).json;
});

after(async () => {
  if (srv) await srv.stop();
});

/* A delta package adding one school to district A: a class of three students, a head teacher, a
 * parent. code: the school's 10-digit identifier (unique per test). */
function schoolPackage(code, { sid = `s${code}`, classType = 'homeroom', enabled = 'true', extraClassRef } = {}) {
  const p = `t${code}`;
  return {
    orgs: { mode: 'delta', rows: [
      { sourcedId: `${p}-city`, name: city.name, type: 'local', identifier: city.division_code },
      { sourcedId: `${p}-d`, name: districtA.name, type: 'district', identifier: districtA.division_code, parentSourcedId: `${p}-city` },
      { sourcedId: sid, name: `导入测试学校${code}`, type: 'school', identifier: code, parentSourcedId: `${p}-d` },
    ] },
    academicSessions: { mode: 'delta', rows: [
      { sourcedId: `${p}-y`, title: '2026-2027', type: 'schoolYear', startDate: '2026-09-01', endDate: '2027-07-15', schoolYear: '2027' },
      { sourcedId: `${p}-y1`, title: '第一学期', type: 'semester', startDate: '2026-09-01', endDate: '2027-01-20', parentSourcedId: `${p}-y`, schoolYear: '2027' },
      { sourcedId: `${p}-y2`, title: '第二学期', type: 'semester', startDate: '2027-02-20', endDate: '2027-07-15', parentSourcedId: `${p}-y`, schoolYear: '2027' },
    ] },
    courses: { mode: 'delta', rows: [
      { sourcedId: `${p}-k7`, schoolYearSourcedId: `${p}-y`, title: '七年级', grades: '07', orgSourcedId: sid },
    ] },
    classes: { mode: 'delta', rows: [
      { sourcedId: `${p}-c1`, title: '七年级(1)班', grades: '07', courseSourcedId: `${p}-k7`, classType, schoolSourcedId: sid, termSourcedIds: `${p}-y1,${p}-y2` },
    ] },
    users: { mode: 'delta', extra: ['metadata.edubrain.relation', 'metadata.edubrain.post_title'], rows: [
      { sourcedId: `${p}-t1`, enabledUser: enabled, orgSourcedIds: sid, role: 'teacher', username: `${p}-t1`, givenName: '老师', familyName: '王', identifier: `${code}T1`, 'metadata.edubrain.post_title': '专任教师' },
      { sourcedId: `${p}-u1`, enabledUser: 'true', orgSourcedIds: sid, role: 'student', username: `${p}-u1`, givenName: '小明', familyName: '李', agentSourcedIds: `${p}-g1`, grades: '07' },
      { sourcedId: `${p}-u2`, enabledUser: 'true', orgSourcedIds: sid, role: 'student', username: `${p}-u2`, givenName: '小红', familyName: '欧阳', grades: '07' },
      { sourcedId: `${p}-u3`, enabledUser: 'true', orgSourcedIds: sid, role: 'student', username: `${p}-u3`, givenName: 'Anna', familyName: 'Lin', grades: '07' },
      { sourcedId: `${p}-g1`, enabledUser: 'true', orgSourcedIds: sid, role: 'parent', username: `${p}-g1`, givenName: '芳', familyName: '李', agentSourcedIds: `${p}-u1`, 'metadata.edubrain.relation': '母亲' },
    ] },
    demographics: { mode: 'delta', rows: [
      { sourcedId: `${p}-u1`, birthDate: '2014-03-02', sex: 'male' },
      { sourcedId: `${p}-u2`, birthDate: '2014-05-06', sex: 'female' },
    ] },
    enrollments: { mode: 'delta', rows: [
      { sourcedId: `${p}-e1`, classSourcedId: extraClassRef || `${p}-c1`, schoolSourcedId: sid, userSourcedId: `${p}-u1`, role: 'student', beginDate: '2026-09-01' },
      { sourcedId: `${p}-e2`, classSourcedId: `${p}-c1`, schoolSourcedId: sid, userSourcedId: `${p}-u2`, role: 'student', beginDate: '2026-09-01' },
      { sourcedId: `${p}-e3`, classSourcedId: `${p}-c1`, schoolSourcedId: sid, userSourcedId: `${p}-u3`, role: 'student', beginDate: '2026-09-01' },
      { sourcedId: `${p}-e4`, classSourcedId: `${p}-c1`, schoolSourcedId: sid, userSourcedId: `${p}-t1`, role: 'teacher', primary: 'true', beginDate: '2026-09-01' },
    ] },
  };
}

function schoolCode(k) {
  return `1137${String(n).padStart(5, '0')}${k}`;
}

async function findSchool(code) {
  const schools = await listAll(admin, `/api/v1/orgs/${ids.districtA}/children`, 500);
  return schools.find((s) => s.school_code === code);
}

async function importCli(dir, extra = []) {
  const res = await runCli(['import', 'oneroster', dir, ...dbArgs(srv), '--json', ...extra]);
  return { res, report: JSON.parse(res.stdout) };
}

/* What an import could have written, seen through the API. */
async function snapshot() {
  const schools = await listAll(admin, `/api/v1/orgs/${ids.districtA}/children`, 500);
  const stats = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/stats`), 200).json;
  const audit = expectStatus(await admin.get(`/api/v1/audit?org=${ids.city}&limit=1`), 200).json;
  return { schools: schools.map((s) => `${s.id}:${s.name}:${s.closed_on}`).sort(), stats, audit: audit.items.map((a) => a.id) };
}

async function waitJob(client, id) {
  for (let i = 0; i < 600; i++) {
    const job = expectStatus(await client.get(`/api/v1/imports/oneroster/${id}`), 200).json;
    assert.ok(['queued', 'validating', 'writing', 'done', 'failed'].includes(job.state), job.state);
    if (job.state === 'done' || job.state === 'failed') return job;
    await new Promise((r) => { setTimeout(r, 100); });
  }
  assert.fail(`import ${id} did not finish`);
}

async function upload(client, bytes, query = '') {
  return client.request('POST', `/api/v1/imports/oneroster${query}`, { body: bytes, headers: { 'Content-Type': 'application/zip' } });
}

test('CLI: a valid delta package writes the school, class, people, enrolments and guardian', async () => {
  const code = schoolCode('1');
  const dir = writePackageDir(path.join(srv.dir, 'valid'), schoolPackage(code));
  const { res, report } = await importCli(dir);
  expectExit(res, 0, 'import valid');
  assert.equal(report.ok, true);
  assert.equal(report.written, true);
  assert.equal(report.errors, 0);
  assert.equal(report.counts.orgs.created, 1, JSON.stringify(report.counts));
  assert.equal(report.counts.orgs.unchanged + report.counts.orgs.updated, 2, 'the city and district are matched, not created');
  assert.equal(report.counts.classes.created, 1);
  assert.equal(report.counts.students.created, 3);
  assert.equal(report.counts.teachers.created, 1);
  assert.equal(report.counts.parents.created, 1);
  assert.equal(report.counts.enrolments.created, 3);
  assert.equal(report.counts.teaching.created, 1);
  assert.equal(report.counts.guardians.created, 1);

  const school = await findSchool(code);
  assert.ok(school, 'the school is under district A');
  assert.equal(school.name, `导入测试学校${code}`);
  const grades = await listAll(admin, `/api/v1/orgs/${school.id}/children`, 500);
  assert.deepEqual(grades.map((g) => [g.kind, g.grade_code, g.school_year, g.name]), [['grade', '21', 2026, '七年级']]);
  const classes = await listAll(admin, `/api/v1/orgs/${grades[0].id}/children`, 500);
  assert.deepEqual(classes.map((c) => c.name), ['七年级(1)班']);
  const roster = await listAll(admin, `/api/v1/orgs/${classes[0].id}/people?role=student`, 500);
  assert.deepEqual(roster.map((p) => p.name).sort(), ['Anna Lin', '李小明', '欧阳小红'].sort());
  const ming = roster.find((p) => p.name === '李小明');
  const full = expectStatus(await admin.get(`/api/v1/people/${ming.id}`), 200).json;
  assert.equal(full.birth_date, '2014-03-02');
  assert.equal(full.sex, 'male');
  const teachers = await listAll(admin, `/api/v1/orgs/${school.id}/people?role=teacher`, 500);
  assert.deepEqual(teachers.map((t) => [t.name, t.staff_no]), [['王老师', `${code}T1`]]);
  const parents = await listAll(admin, `/api/v1/orgs/${school.id}/people?role=parent`, 500);
  assert.deepEqual(parents.map((p) => p.name), ['李芳']);

  /* The same package again changes nothing and duplicates nothing. */
  const again = await importCli(dir);
  expectExit(again.res, 0, 'import valid again');
  assert.equal(again.report.counts.students.created, 0);
  assert.equal(again.report.counts.students.unchanged, 3);
  assert.equal(again.report.counts.enrolments.unchanged, 3);
  assert.equal((await listAll(admin, `/api/v1/orgs/${classes[0].id}/people?role=student`, 500)).length, 3);
});

test('CLI: a package with an error is rejected and writes nothing', async () => {
  const before0 = await snapshot();
  const code = schoolCode('2');
  /* A validator error: classType in the wrong case. */
  let dir = writePackageDir(path.join(srv.dir, 'bad-enum'), schoolPackage(code, { classType: 'Homeroom' }));
  let { res, report } = await importCli(dir);
  expectExit(res, 1, 'import with enum_case');
  assert.equal(report.written, false);
  const f = report.findings.find((x) => x.code === 'enum_case');
  assert.ok(f, JSON.stringify(report.findings));
  assert.deepEqual([f.file, f.line, f.column, f.value, f.severity], ['classes.csv', 2, 'classType', 'Homeroom', 'error']);
  assert.match(f.message.zh, /大小写/);
  assert.match(f.message.en, /case/);
  /* An import error found while writing (the class is in neither the package nor the database):
   * the school, people and class written before it are rolled back. */
  dir = writePackageDir(path.join(srv.dir, 'bad-ref'), schoolPackage(code, { extraClassRef: 'no-such-class' }));
  ({ res, report } = await importCli(dir));
  expectExit(res, 1, 'import with an unknown class');
  assert.equal(report.written, false);
  const u = report.findings.find((x) => x.code === 'unknown_reference');
  assert.ok(u, JSON.stringify(report.findings));
  assert.deepEqual([u.file, u.line, u.column, u.value, u.severity], ['enrollments.csv', 2, 'classSourcedId', 'no-such-class', 'error']);
  assert.match(u.message.zh, /不存在/);
  assert.equal(report.findings.find((x) => x.code === 'unresolved_reference').severity, 'warning');
  assert.equal(await findSchool(code), undefined, 'no school was written');
  assert.deepEqual(await snapshot(), before0, 'nothing changed');
});

test('CLI: a package with a warning is imported and lists the warning', async () => {
  const code = schoolCode('3');
  const dir = writePackageDir(path.join(srv.dir, 'warn'), schoolPackage(code, { enabled: 'TRUE' }));
  const { res, report } = await importCli(dir);
  expectExit(res, 0, 'import with bool_case');
  assert.equal(report.written, true);
  assert.equal(report.errors, 0);
  const w = report.findings.find((x) => x.code === 'bool_case');
  assert.deepEqual([w.severity, w.file, w.line, w.column, w.value], ['warning', 'users.csv', 2, 'enabledUser', 'TRUE']);
  assert.ok(await findSchool(code), 'the school was written');
});

test('CLI: a bulk enrollments file ends the enrolments it no longer lists (history kept)', async () => {
  const code = schoolCode('1');
  const school = await findSchool(code);
  const pkg = schoolPackage(code);
  /* The school's own package in bulk: one student leaves the class. */
  const bulk = {};
  for (const [k, v] of Object.entries(pkg)) {
    bulk[k] = { ...v, mode: 'bulk', rows: v.rows.map((r) => ({ ...r, status: '', dateLastModified: '' })) };
  }
  bulk.orgs.rows = bulk.orgs.rows.filter((r) => r.type === 'school').map((r) => ({ ...r, parentSourcedId: '' }));
  bulk.enrollments.rows = bulk.enrollments.rows.filter((r) => r.sourcedId !== `t${code}-e3`);
  const dir = writePackageDir(path.join(srv.dir, 'bulk'), bulk);
  const { res, report } = await importCli(dir, ['--org', String(school.id)]);
  expectExit(res, 0, 'bulk import');
  assert.equal(report.counts.enrolments.ended, 1, JSON.stringify(report.counts));
  const grades = await listAll(admin, `/api/v1/orgs/${school.id}/children`, 500);
  const cls = (await listAll(admin, `/api/v1/orgs/${grades[0].id}/children`, 500))[0];
  const roster = await listAll(admin, `/api/v1/orgs/${cls.id}/people?role=student`, 500);
  assert.deepEqual(roster.map((p) => p.name).sort(), ['李小明', '欧阳小红'].sort(), JSON.stringify(report.counts));
  const people = await listAll(admin, `/api/v1/orgs/${school.id}/people?role=student`, 500);
  assert.equal(people.length, 2);
});

test('the shared samples are rejected with their findings and nothing is written', { skip: !SAMPLES }, async () => {
  const before0 = await snapshot();
  for (const [name, errors, warnings] of [['v1p1-minimal', 3, 16], ['v1p1-full', 52, 16]]) {
    const { res, report } = await importCli(path.join(SAMPLES, name));
    expectExit(res, 1, `import ${name}`);
    assert.equal(report.written, false);
    assert.equal(report.errors, errors, name);
    assert.equal(report.warnings, warnings, name);
    assert.equal(report.summary.find((s) => s.file === 'users.csv' && s.code === 'bool_case').count, 6);
    assert.ok(report.findings.some((f) => f.file === 'classes.csv' && f.line === 2 && f.code === 'enum_case'));
    const text = await runCli(['import', 'oneroster', path.join(SAMPLES, name), ...dbArgs(srv), '--lang', 'en']);
    expectExit(text, 1, `import ${name} (text)`);
    assert.match(text.stdout, /rejected, nothing written/);
  }
  assert.deepEqual(await snapshot(), before0, 'nothing changed');
});

test('API: upload, job progress and report; errors reject; scope and roles', async () => {
  const code = schoolCode('4');
  const zip = await packageZip(schoolPackage(code));
  expectError(await admin.request('POST', '/api/v1/imports/oneroster', { body: zip, headers: { 'Content-Type': 'application/json' } }),
    415, 'not_a_zip');
  expectError(await upload(admin, Buffer.from('not a zip at all')), 400, 'not_a_zip');
  expectError(await upload(clients.teacher1, zip), 404, 'not_found', 'a teacher cannot import');
  expectError(await upload(clients.student1, zip), 404, 'not_found');

  const start = expectStatus(await upload(admin, zip), 202).json;
  assert.ok(Number.isInteger(start.id));
  assert.equal(start.state, 'queued');
  const job = await waitJob(admin, start.id);
  assert.equal(job.state, 'done', JSON.stringify(job.report && job.report.findings));
  assert.equal(job.rows_total, 3 + 3 + 1 + 1 + 5 + 2 + 4);
  assert.equal(job.rows_done, job.rows_total);
  assert.equal(job.report.written, true);
  assert.equal(job.report.counts.students.created, 3);
  const school = await findSchool(code);
  assert.ok(school);
  /* Written as the administrator: the audit log names the import's rows. */
  const audit = expectStatus(await admin.get(`/api/v1/audit?org=${school.id}&limit=50`), 200).json;
  assert.ok(audit.items.some((a) => a.action === 'person.create'), 'audited person rows');
  /* Another administrator outside the job's org does not see it. */
  expectError(await clients.district1.get(`/api/v1/imports/oneroster/${start.id}`), 404, 'not_found');
  expectError(await clients.school1.get(`/api/v1/imports/oneroster/${start.id}`), 404, 'not_found');
  expectError(await admin.get('/api/v1/imports/oneroster/999999999'), 404, 'not_found');

  /* The report as Excel. */
  const xl = await admin.get(`/api/v1/imports/oneroster/${start.id}/report.xlsx`);
  expectStatus(xl, 200);
  assert.match(xl.headers.get('content-type'), /spreadsheetml/);

  /* An error: the job fails with the finding, nothing is written. */
  const bad = await packageZip(schoolPackage(schoolCode('5'), { classType: 'Scheduled' }));
  const j2 = await waitJob(admin, expectStatus(await upload(admin, bad), 202).json.id);
  assert.equal(j2.state, 'failed');
  assert.equal(j2.report.written, false);
  const f = j2.report.findings.find((x) => x.code === 'enum_case');
  assert.deepEqual([f.file, f.line, f.column], ['classes.csv', 2, 'classType']);
  assert.equal(await findSchool(schoolCode('5')), undefined);

  /* school1 imports into its own school; a package naming another school is outside its scope. */
  const other = expectStatus(await admin.get(`/api/v1/orgs/${ids.schoolB}`), 200).json;
  const outside = {
    orgs: { mode: 'bulk', rows: [{ sourcedId: 'x-b', name: other.name, type: 'school', identifier: other.school_code }] },
  };
  const j3 = await waitJob(clients.school1, expectStatus(await upload(clients.school1, await packageZip(outside)), 202).json.id);
  assert.equal(j3.state, 'failed');
  assert.ok(j3.report.findings.some((x) => x.code === 'outside_scope' && x.file === 'orgs.csv' && x.line === 2),
    JSON.stringify(j3.report.findings));
  const b = expectStatus(await admin.get(`/api/v1/orgs/${ids.schoolB}`), 200).json;
  assert.equal(b.closed_on, null, 'school B untouched');
});

test('API: the export download holds the subtree without citizen IDs or G numbers', async () => {
  const res = await clients.school1.request('GET', `/api/v1/orgs/${ids.schoolA}/oneroster.zip`);
  expectStatus(res, 200);
  assert.equal(res.headers.get('content-type'), 'application/zip');
  assert.match(res.headers.get('content-disposition'), /attachment/);
  const bytes = Buffer.from(await (await fetch(`${srv.base}/api/v1/orgs/${ids.schoolA}/oneroster.zip`, {
    headers: { Cookie: clients.school1.cookieHeader() },
  })).arrayBuffer());
  const files = await readPackage(bytes);
  assert.ok(files['manifest.csv'].includes('file.users,bulk'));
  const users = parseCsv(files['users.csv']).rows;
  const students = await listAll(admin, `/api/v1/orgs/${ids.schoolA}/people?role=student`, 500);
  assert.equal(users.filter((u) => u.role === 'student').length, students.length);
  for (const text of Object.values(files)) {
    assert.doesNotMatch(text, /\b\d{17}[\dX]\b/, 'no citizen ID number in the package');
    assert.doesNotMatch(text, /\bG\d{17}[\dX]\b/, 'no G student number in the package');
  }
  const schools = parseCsv(files['orgs.csv']).rows;
  assert.deepEqual(schools.map((o) => o.type), ['school']);
  expectError(await clients.school1.get(`/api/v1/orgs/${ids.schoolB}/oneroster.zip`), 404, 'not_found');
  expectError(await clients.student1.get(`/api/v1/orgs/${ids.schoolA}/oneroster.zip`), 404, 'not_found');
  expectError(await clients.parent1.get(`/api/v1/orgs/${ids.schoolA}/oneroster.zip`), 404, 'not_found');
});

test('every error answer used a documented code and the request language', () => {
  assertErrorsWellFormed();
});

