// Data-quality checks: defects planted in a school of their own make each check fire exactly
// where expected (and a clean school gives none), the roll-up per child node, the paged
// findings and their Excel file, scope (admins and analysts only; 404 elsewhere), and the
// nightly run of `serve --quality-at` brought forward by the test clock.
//
// Most defects go in through the API. Those the API refuses (a wrong check digit, another
// person's citizen ID, a date that is no date, a closed class that still has students) are
// written as a legacy bulk load leaves them, with `edubrain quality plant` (EB_TESTING builds
// only: the store's system caller, which skips the API's checks).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import {
  PG_BASE, startServer, expectStatus, expectError, listAll, makeCitizenId, breakCheckChar,
  assertErrorsWellFormed, uniq,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';
import { runCli, expectExit } from './lib/cli.mjs';

const tag = uniq();
const clockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-quality-clock-'));
const clockFile = path.join(clockDir, 'offset');
/* The nightly run is set 12 hours ahead, so that it never fires by itself during the run; the
 * last test moves the server's clock (EB_TESTING builds) to a few seconds before it. */
const atDate = new Date(Date.now() + 12 * 3600 * 1000);
atDate.setSeconds(0, 0);
const pad = (n) => String(n).padStart(2, '0');
const AT = `${pad(atDate.getHours())}:${pad(atDate.getMinutes())}`;

let srv;
let clients;
let ids;
let admin;
const made = {}; /* ids of what the tests create */

/* Citizen IDs: a region of province 37 and a sequence base of this run. */
let seqNo = 100 + (Number.parseInt(tag.slice(-3), 36) % 400);
function nextCid(birth, male = true) {
  seqNo += 1;
  let seq = seqNo;
  if ((seq % 2 === 1) !== male) seq += 1;
  seqNo = seq;
  return makeCitizenId('370203', birth, String(seq % 1000).padStart(3, '0'));
}

async function mkOrg(body) {
  return expectStatus(await admin.post('/api/v1/orgs', body), 201, `create ${body.kind} ${body.name}`).json;
}

async function mkStudent(school, cls, name, birth, { cid = null, male = true } = {}) {
  const body = { org_id: school, name, sex: male ? 'male' : 'female', birth_date: birth, kind: 'student' };
  if (cid) body.citizen_id = cid;
  const p = expectStatus(await admin.post('/api/v1/people', body), 201, `student ${name}`).json;
  expectStatus(await admin.post('/api/v1/enrolments', {
    person_id: p.id, class_id: cls, start_date: '2026-09-01',
  }), 201, `enrol ${name}`);
  return p.id;
}

async function mkTeacher(school, name, headOf) {
  const birth = '1985-04-02';
  const p = expectStatus(await admin.post('/api/v1/people', {
    org_id: school, name, sex: 'male', birth_date: birth, kind: 'teacher', citizen_id: nextCid(birth, true),
    staff_no: `T${tag}${name.length}${Math.floor(Math.random() * 1e6)}`,
  }), 201, `teacher ${name}`).json;
  const post = expectStatus(await admin.post('/api/v1/posts', {
    person_id: p.id, school_id: school, title: '专任教师', subjects: '语文', start_date: '2026-09-01',
  }), 201, 'post').json;
  for (const cls of headOf) {
    expectStatus(await admin.post('/api/v1/teaching', {
      post_id: post.id, class_id: cls, subject: '语文', is_head_teacher: true, start_date: '2026-09-01',
    }), 201, 'head teacher');
  }
  return p.id;
}

/* A primary school with one first grade under district A. */
async function mkSchool(name, code) {
  const school = await mkOrg({
    parent_id: ids.districtA, kind: 'school', name, school_code: code, running_type: '211',
    division_code: '370203', urban_rural: '111',
  });
  const grade = await mkOrg({ parent_id: school.id, kind: 'grade', name: '一年级', grade_code: '11' });
  return { school: school.id, grade: grade.id };
}

async function plant(args) {
  const key = PG_BASE ? ['--key-file', path.join(srv.dir, 'city.key')] : [];
  expectExit(await runCli(['quality', 'plant', '--db', srv.db, ...key, ...args]), 0, `plant ${args.join(' ')}`);
}

const key = (f) => `${f.check}:${f.object_type}:${f.object_id}`;

before(async () => {
  process.env.EDUBRAIN_TEST_CLOCK_FILE = clockFile;
  srv = await startServer({ extraArgs: ['--quality-at', AT] });
  ({ clients, ids } = await discoverCity(srv.base));
  admin = clients.admin;

  /* The clean school: a class with its head teacher and two students whose records agree. */
  const codeBase = 2137000000 + (Number.parseInt(tag.slice(-4), 36) % 90000) * 10;
  const clean = await mkSchool(`质量清洁小学${tag}`, String(codeBase + 1));
  const k1 = (await mkOrg({ parent_id: clean.grade, kind: 'class', name: '一年级(1)班', school_year: 2026 })).id;
  await mkTeacher(clean.school, '洁老师', [k1]);
  for (const [i, birth] of [['一', '2020-03-15'], ['二', '2019-11-02']]) {
    await mkStudent(clean.school, k1, `洁学生${i}`, birth, { cid: nextCid(birth) });
  }
  made.clean = clean.school;

  /* The school with the defects. */
  const d = await mkSchool(`质量问题小学${tag}`, String(codeBase + 2));
  made.school = d.school;
  const cls = async (n) => (await mkOrg({ parent_id: d.grade, kind: 'class', name: `一年级(${n})班`, school_year: 2026 })).id;
  made.c1 = await cls(1);
  made.c2 = await cls(2); /* no head teacher, 56 students: 大班额 */
  made.c3 = await cls(3); /* 66 students: 超大班额 */
  made.c4 = await cls(4); /* closed with a student left in it */
  made.teacher = await mkTeacher(d.school, '问老师', [made.c1, made.c3, made.c4]);
  const b = '2020-03-15';
  made.ok = await mkStudent(d.school, made.c1, '正常生', b, { cid: nextCid(b) });
  const cidCheck = nextCid(b);
  made.checkDigit = await mkStudent(d.school, made.c1, '校验位', b, { cid: cidCheck });
  made.malformed = await mkStudent(d.school, made.c1, '格式错', b, { cid: nextCid(b) });
  made.badBirth = await mkStudent(d.school, made.c1, '日期错', b);
  made.mismatch = await mkStudent(d.school, made.c1, '日期不符', b, { cid: nextCid(b) });
  made.age = await mkStudent(d.school, made.c1, '超龄生', '2015-05-01');
  const cidDup = nextCid(b);
  made.dupA = await mkStudent(d.school, made.c1, '重复甲', b, { cid: cidDup });
  made.dupB = await mkStudent(d.school, made.c2, '重复乙', b, { cid: nextCid(b) });
  const cidAcross = nextCid(b);
  made.dupD = await mkStudent(d.school, made.c1, '跨校丁', b, { cid: cidAcross });
  made.dupC = await mkStudent(ids.schoolB, ids.classB, `跨校丙${tag}`, b, { cid: nextCid(b) });
  for (let i = 1; i < 56; i++) await mkStudent(d.school, made.c2, `二班${i}`, b);
  for (let i = 1; i <= 66; i++) await mkStudent(d.school, made.c3, `三班${i}`, b);
  made.closed = await mkStudent(d.school, made.c4, '撤班生', b);

  /* The API itself keeps the date consistent with the ID, except when only the date changes. */
  expectStatus(await admin.patch(`/api/v1/people/${made.mismatch}`, { birth_date: '2020-03-16' }), 200);
  /* What only a legacy load can leave. */
  await plant(['--person', String(made.checkDigit), '--citizen-id', breakCheckChar(cidCheck)]);
  await plant(['--person', String(made.malformed), '--citizen-id', '37020320200315AB12']);
  await plant(['--person', String(made.badBirth), '--birth-date', '2020-02-30']);
  await plant(['--person', String(made.dupB), '--citizen-id', cidDup]);
  await plant(['--person', String(made.dupC), '--citizen-id', cidAcross]);
  await plant(['--org', String(made.c4), '--birth-date', '2026-10-01']);
});

after(async () => {
  if (srv) await srv.stop();
  fs.rmSync(clockDir, { recursive: true, force: true });
});

function expectedInSchool() {
  return [
    `citizen_id_check_digit:person:${made.checkDigit}`,
    `citizen_id_malformed:person:${made.malformed}`,
    `birth_date_invalid:person:${made.badBirth}`,
    `birth_date_mismatch:person:${made.mismatch}`,
    `age_grade_outlier:person:${made.age}`,
    `duplicate_in_school:person:${made.dupA}`,
    `duplicate_in_school:person:${made.dupB}`,
    `duplicate_across_schools:person:${made.dupD}`,
    `class_without_head_teacher:class:${made.c2}`,
    `class_oversized:class:${made.c2}`,
    `class_super_oversized:class:${made.c3}`,
    `teacher_ratio_below_norm:school:${made.school}`,
    `enrolled_in_closed_org:person:${made.closed}`,
  ].sort();
}

test('a clean school runs to zero findings', async () => {
  const run = expectStatus(await admin.post(`/api/v1/orgs/${made.clean}/quality/run`), 200).json;
  assert.equal(run.findings, 0, `findings in the clean school: ${JSON.stringify(run.counts)}`);
  assert.equal(run.origin, 'manual');
  assert.equal(run.people, 3, 'two students and a teacher read');
  assert.equal(run.classes, 1);
  assert.equal(run.schools, 1);
  assert.ok(Object.values(run.counts).every((n) => n === 0));
  const over = expectStatus(await admin.get(`/api/v1/orgs/${made.clean}/quality`), 200).json;
  assert.equal(over.total.findings, 0);
  assert.equal(over.last_run.id, run.id);
  assert.deepEqual(expectStatus(await admin.get(`/api/v1/orgs/${made.clean}/quality/findings`), 200).json,
    { items: [], next: null });
});

test('each planted defect is found exactly where it was planted', async () => {
  const run = expectStatus(await clients.district1.post(`/api/v1/orgs/${made.school}/quality/run`), 200).json;
  const found = await listAll(admin, `/api/v1/orgs/${made.school}/quality/findings`, 5);
  assert.deepEqual(found.map(key).sort(), expectedInSchool(), 'findings of the school');
  assert.equal(run.findings, expectedInSchool().length);
  assert.equal(run.schools, 1);
  assert.equal(run.classes, 3, 'the closed class is not counted among the classes');
  assert.equal(run.people, 8 + 56 + 66 + 1 + 1, 'students of the four classes and the teacher');
  const by = Object.fromEntries(found.map((f) => [key(f), f]));
  /* Links to the record to fix: the person's class, the class, the school. */
  const cd = by[`citizen_id_check_digit:person:${made.checkDigit}`];
  assert.equal(cd.org_id, made.c1);
  assert.equal(cd.school_id, made.school);
  assert.equal(cd.object_name, '校验位');
  assert.equal(cd.severity, 'error');
  assert.match(cd.detail.citizen_id, /^370203\*{8}\d{3}[\dX]$/, 'only the masked ID');
  assert.ok(!JSON.stringify(found).match(/370203\d{8}/), 'no finding carries a plain citizen ID');
  assert.match(cd.message, /校验位错误/);
  assert.equal(by[`class_oversized:class:${made.c2}`].detail.students, 56);
  assert.equal(by[`class_super_oversized:class:${made.c3}`].detail.students, 66);
  assert.equal(by[`class_without_head_teacher:class:${made.c2}`].org_id, made.c2);
  const ratio = by[`teacher_ratio_below_norm:school:${made.school}`];
  assert.deepEqual([ratio.detail.students, ratio.detail.staff, ratio.detail.required], [131, 1, 7]);
  const age = by[`age_grade_outlier:person:${made.age}`];
  assert.deepEqual([age.detail.age, age.detail.usual_age, age.detail.school_year], [11, 6, 2026]);
  assert.equal(by[`duplicate_in_school:person:${made.dupB}`].detail.records, 2);
  assert.equal(by[`duplicate_across_schools:person:${made.dupD}`].detail.schools, 2);
  assert.deepEqual(by[`enrolled_in_closed_org:person:${made.closed}`].detail,
    { closed: 'class', closed_on: '2026-10-01' });
  /* English on request. */
  const en = expectStatus(await admin.get(`/api/v1/orgs/${made.school}/quality/findings?check=class_oversized`,
    { headers: { 'Accept-Language': 'en' } }), 200).json;
  assert.equal(en.items.length, 1);
  assert.equal(en.items[0].message, '56 current students, more than 55');
  /* The filter by check. */
  const dups = await listAll(admin, `/api/v1/orgs/${made.school}/quality/findings?check=duplicate_in_school`);
  assert.deepEqual(dups.map((f) => f.object_id).sort(), [made.dupA, made.dupB].sort());
  expectError(await admin.get(`/api/v1/orgs/${made.school}/quality/findings?check=nope`), 400, 'invalid_field');
  /* The clean school, run before, still has none. */
  assert.equal(expectStatus(await admin.get(`/api/v1/orgs/${made.clean}/quality`), 200).json.total.findings, 0);
});

test('a run replaces the findings of its scope only; the city roll-up counts per child', async () => {
  const city = expectStatus(await admin.post(`/api/v1/orgs/${ids.city}/quality/run`), 200).json;
  const over = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/quality`), 200).json;
  assert.equal(over.total.findings, city.findings);
  assert.equal(over.last_run.id, city.id);
  assert.equal(over.checks.length, 12);
  const sum = over.children.reduce((s, c) => s + c.findings, 0);
  assert.equal(sum, over.total.findings, 'the districts add up to the city');
  for (const code of Object.keys(over.total.counts)) {
    assert.equal(over.children.reduce((s, c) => s + c.counts[code], 0), over.total.counts[code], code);
  }
  /* The other half of the pair across schools is found from the city (it is in district B). */
  const across = await listAll(admin, `/api/v1/orgs/${ids.city}/quality/findings?check=duplicate_across_schools`, 500);
  assert.deepEqual(across.map((f) => f.object_id).sort(), [made.dupC, made.dupD].sort());
  /* The demo city's own seeded wrong check digits are found too. */
  assert.ok(over.total.counts.citizen_id_check_digit >= 1);
  /* District A's roll-up lists its schools, the planted one with its 13 findings. */
  const dA = expectStatus(await admin.get(`/api/v1/orgs/${ids.districtA}/quality`), 200).json;
  const row = dA.children.find((c) => c.id === made.school);
  assert.equal(row.findings, expectedInSchool().length);
  assert.equal(row.counts.class_oversized, 1);
  assert.equal(dA.children.find((c) => c.id === made.clean).findings, 0);
  /* Fixing a record and running the school again: that school's findings change, the rest stay. */
  const beforeB = expectStatus(await admin.get(`/api/v1/orgs/${ids.districtB}/quality`), 200).json.total.findings;
  expectStatus(await admin.patch(`/api/v1/people/${made.age}`, { birth_date: '2020-01-20' }), 200);
  expectStatus(await admin.post(`/api/v1/orgs/${made.school}/quality/run`), 200);
  const after1 = await listAll(admin, `/api/v1/orgs/${made.school}/quality/findings`, 500);
  assert.deepEqual(after1.map(key).sort(), expectedInSchool().filter((k) => !k.startsWith('age_grade_outlier')));
  assert.equal(expectStatus(await admin.get(`/api/v1/orgs/${ids.districtB}/quality`), 200).json.total.findings, beforeB);
  const city2 = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/quality`), 200).json;
  assert.equal(city2.total.findings, city.findings - 1);
  /* The city's last run is still the city's; the school's is the school's. */
  assert.equal(city2.last_run.id, city.id);
  /* The run is in the audit log. */
  const audit = expectStatus(await admin.get(`/api/v1/audit?org=${made.school}`), 200).json.items;
  assert.ok(audit.some((e) => e.action === 'quality.run' && e.object_id === made.school), 'quality.run audited');
});

test('the findings as an Excel file with Chinese headers, the same rows as the list', async () => {
  const res = await admin.get(`/api/v1/orgs/${made.school}/quality/findings.xlsx`);
  expectStatus(res, 200);
  assert.match(res.headers.get('content-type'), /spreadsheetml/);
  assert.match(res.headers.get('content-disposition'), /attachment; filename="org-\d+-quality\.xlsx"; filename\*=UTF-8''/);
  const raw = await fetch(`${srv.base}/api/v1/orgs/${made.school}/quality/findings.xlsx`, {
    headers: { Cookie: admin.cookieHeader() },
  });
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(await raw.arrayBuffer()));
  const ws = wb.worksheets[0];
  const header = ws.getRow(1).values.slice(1);
  assert.deepEqual(header, ['检查项', '严重程度', '问题说明', '对象类型', '对象名称', '对象编号', '所在单位', '所属学校', '检查时间']);
  const list = await listAll(admin, `/api/v1/orgs/${made.school}/quality/findings`, 500);
  assert.equal(ws.rowCount - 1, list.length);
  const rows = [];
  ws.eachRow((r, n) => { if (n > 1) rows.push(r.values.slice(1)); });
  const zh = await listAll(admin, `/api/v1/orgs/${made.school}/quality/findings`, 500);
  assert.deepEqual(rows.map((r) => `${r[2]}|${r[5]}`).sort(), zh.map((f) => `${f.message}|${f.object_id}`).sort());
  assert.ok(rows.every((r) => ['错误', '警告'].includes(r[1])));
  const one = await fetch(`${srv.base}/api/v1/orgs/${made.school}/quality/findings.xlsx?check=class_super_oversized`, {
    headers: { Cookie: admin.cookieHeader() },
  });
  const wb2 = new ExcelJS.Workbook();
  await wb2.xlsx.load(Buffer.from(await one.arrayBuffer()));
  assert.equal(wb2.worksheets[0].rowCount, 2, 'the header and the one class');
});

test('scope: admins and analysts of the node; 404 for everyone else; analysts do not run', async () => {
  const missing = await clients.school1.get('/api/v1/orgs/999999999/quality');
  expectError(missing, 404, 'not_found');
  for (const url of [`/api/v1/orgs/${ids.schoolB}/quality`, `/api/v1/orgs/${ids.schoolB}/quality/findings`,
    `/api/v1/orgs/${ids.schoolB}/quality/findings.xlsx`]) {
    for (const login of ['district1', 'school1']) {
      const res = await clients[login].get(url);
      assert.equal(res.status, 404, `${login} ${url}`);
      assert.equal(res.text, missing.text, `${login} ${url}: like a missing node`);
    }
  }
  /* Teachers, students and parents see none of it, even of their own school. */
  for (const login of ['teacher1', 'student1', 'parent1']) {
    expectError(await clients[login].get(`/api/v1/orgs/${ids.schoolA}/quality`), 404, 'not_found', login);
    expectError(await clients[login].get(`/api/v1/orgs/${ids.classA}/quality/findings`), 404, 'not_found', login);
    expectError(await clients[login].post(`/api/v1/orgs/${ids.schoolA}/quality/run`), 404, 'not_found', login);
  }
  /* school1 reads its own school, not the planted one (another school of its district). */
  expectStatus(await clients.school1.get(`/api/v1/orgs/${ids.schoolA}/quality`), 200);
  expectError(await clients.school1.get(`/api/v1/orgs/${made.school}/quality/findings`), 404, 'not_found');
  expectError(await clients.school1.post(`/api/v1/orgs/${made.school}/quality/run`), 404, 'not_found');
  /* The analyst reads the whole city and runs nothing. */
  const a = expectStatus(await clients.analyst1.get(`/api/v1/orgs/${ids.city}/quality`), 200).json;
  assert.ok(a.total.findings > 0);
  expectError(await clients.analyst1.post(`/api/v1/orgs/${made.school}/quality/run`), 403, 'forbidden');
  /* CSRF holds for the run. */
  expectError(await admin.post(`/api/v1/orgs/${made.school}/quality/run`, undefined, { csrf: false }), 403, 'csrf');
});

test('edubrain quality run on the command line (the same checks, exit 0)', async () => {
  const key = PG_BASE ? ['--key-file', path.join(srv.dir, 'city.key')] : [];
  const res = expectExit(await runCli(['quality', 'run', '--db', srv.db, ...key, '--org', String(made.clean), '--json']), 0, 'quality run');
  const doc = JSON.parse(res.stdout);
  assert.equal(doc.findings, 0);
  assert.equal(doc.people, 3);
  expectExit(await runCli(['quality', 'run', '--db', srv.db, ...key, '--org', '999999999']), 1, 'missing org');
  expectExit(await runCli(['quality', 'frobnicate', '--db', srv.db]), 2, 'bad subcommand');
  const over = expectStatus(await admin.get(`/api/v1/orgs/${made.clean}/quality`), 200).json;
  assert.equal(over.last_run.origin, 'cli');
});

test('the nightly run happens at --quality-at (clock brought forward)', async () => {
  const before0 = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/quality`), 200).json;
  assert.equal(before0.schedule.at, AT);
  assert.equal(Date.parse(before0.schedule.next_run), atDate.getTime(), 'the next run is the one set');
  assert.notEqual(before0.last_run.origin, 'nightly');
  /* Three seconds before the run, in the server's clock. */
  const offset = Math.floor(atDate.getTime() / 1000) - 3 - Math.floor(Date.now() / 1000);
  fs.writeFileSync(clockFile, `${offset}\n`);
  let over = before0;
  for (let i = 0; i < 120 && over.last_run.origin !== 'nightly'; i++) {
    await new Promise((r) => { setTimeout(r, 500); });
    over = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/quality`), 200).json;
  }
  assert.equal(over.last_run.origin, 'nightly', 'no nightly run within a minute');
  assert.equal(over.last_run.org_id, ids.city, 'the whole city');
  assert.ok(over.last_run.findings > 0);
  assert.equal(Date.parse(over.schedule.next_run), atDate.getTime() + 24 * 3600 * 1000, 'the next night');
  /* Once a day: later ticks do not run it again. */
  await new Promise((r) => { setTimeout(r, 2500); });
  const again = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/quality`), 200).json;
  assert.equal(again.last_run.id, over.last_run.id);
  fs.rmSync(clockFile, { force: true });
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
