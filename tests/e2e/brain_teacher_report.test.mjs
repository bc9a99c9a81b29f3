// Who reports observations (docs/internals/brain.md, "Who reports"): a head teacher and a subject
// teacher report class-level and per-student elements for their own classes (visible in /cells);
// a row for another class of the same school is a per-row "not yours" in the report and the whole
// batch is refused; a teaching assignment that starts later does not count yet; school-level
// elements stay with administrators; a school administrator reports for any class of the school
// and another school answers like a missing org; students, parents and analysts get 403; GET
// /data-elements says what and where the caller reports. Runs on SQLite and, with EDUBRAIN_PG,
// PostgreSQL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, expectStatus, expectError, assertErrorsWellFormed, MISSING_ID, uniq, loginAs, listAll,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let clients;
let ids;
const tag = uniq().replace(/[^a-z0-9]/gi, '').toLowerCase();
const PW = 'Report-pass-2026';

/* Days as the server counts them: the local calendar. */
function ymd(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
function daysAgo(n) {
  const d = new Date();
  d.setDate(d.getDate() - n);
  return ymd(d);
}

async function cell(element, org, day) {
  const res = expectStatus(await clients.admin.get(`/api/v1/cells?element=${element}&org=${org}&from=${day}&to=${day}`),
    200, `cells of ${element} at ${org}`);
  return { count: res.json.count, sum: res.json.sum };
}

/* A 400 invalid_observations answer: "row:field" of each finding, messages checked. */
function rowErrors(res) {
  assert.equal(res.status, 400, `expected 400, got ${res.status} ${res.text.slice(0, 300)}`);
  assert.equal(res.json.error.code, 'invalid_observations');
  for (const r of res.json.rows) {
    assert.ok(/[\u4e00-\u9fff]/.test(r.message.zh), `row ${r.row}: Chinese message`);
    assert.ok(r.message.en && !/[\u4e00-\u9fff]/.test(r.message.en), `row ${r.row}: English message`);
  }
  return res.json.rows.map((r) => `${r.row}:${r.field}`);
}

const obs = (element, org, day, value, extra = {}) => ({ element, org_id: org, day, value, ...extra });
const post = (c, rows) => c.post('/api/v1/observations', { observations: rows });
const upload = (c, org, element, csv) => c.request('POST', `/api/v1/orgs/${org}/observations/upload?element=${element}`,
  { body: csv, headers: { 'Content-Type': 'text/csv' } });

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
  clients.analyst1 = clients.analyst1 || await loginAs(srv.base, 'analyst1');
  /* The classes of school A that teacher1 heads or teaches (the registry's teaching rows), and
   * another class that teacher1 neither heads nor teaches. */
  const teaches = async (cls, person) => (await listAll(clients.admin, `/api/v1/orgs/${cls}/teachers`, 500))
    .some((t) => t.person.id === person);
  ids.teacher1Classes = [];
  for (const grade of await listAll(clients.admin, `/api/v1/orgs/${ids.schoolA}/children`, 500)) {
    for (const cls of await listAll(clients.admin, `/api/v1/orgs/${grade.id}/children`, 500)) {
      if (cls.kind !== 'class') continue;
      if (await teaches(cls.id, ids.teacher1)) ids.teacher1Classes.push(cls.id);
      else if (!ids.classA2) ids.classA2 = cls.id;
    }
  }
  ids.teacher1Classes.sort((x, y) => x - y);
  assert.ok(ids.classA2, 'school A should have a second class');
  assert.ok(await teaches(ids.classA, ids.teacher1), 'teacher1 should teach class A');

  /* A subject teacher of class A, registered through the API: a person, a post, a teaching row
   * from 30 days ago in class A and one in class A2 that starts in 10 days, an account. */
  const s1 = clients.school1;
  const person = expectStatus(await s1.post('/api/v1/people', {
    org_id: ids.schoolA, name: '任课教师甲', sex: 'female', birth_date: '1991-04-05', kind: 'teacher',
  }), 201, 'subject teacher').json.id;
  const postId = expectStatus(await s1.post('/api/v1/posts', {
    person_id: person, school_id: ids.schoolA, title: '专任教师', subjects: '数学', start_date: daysAgo(30),
  }), 201, 'post').json.id;
  expectStatus(await s1.post('/api/v1/teaching', {
    post_id: postId, class_id: ids.classA, subject: '数学', start_date: daysAgo(30),
  }), 201, 'teaching in class A');
  expectStatus(await s1.post('/api/v1/teaching', {
    post_id: postId, class_id: ids.classA2, subject: '数学', start_date: daysAgo(-10),
  }), 201, 'teaching in class A2 from a later day');
  const login = `e2e.subject.${tag}`;
  expectStatus(await clients.admin.post('/api/v1/accounts', {
    login, password: PW, display_name: '任课教师甲', person_id: person,
    roles: [{ role: 'teacher', org_id: ids.schoolA }],
  }), 201, 'subject teacher account');
  clients.subject = await loginAs(srv.base, login, PW);
});

after(async () => {
  if (srv) await srv.stop();
});

test('a head teacher reports homework minutes and attendance for their class', async () => {
  const day = daysAgo(1);
  const before0 = {
    hw: await cell('homework.minutes', ids.classA, day),
    present: await cell('attendance.present', ids.classA, day),
    absent: await cell('attendance.absent', ids.classA, day),
  };
  const res = expectStatus(await post(clients.teacher1, [
    obs('homework.minutes', ids.classA, day, 45),
    obs('attendance.present', ids.classA, day, 31),
    obs('attendance.absent', ids.classA, day, 1, { person_id: ids.student1, category: 'illness:fever' }),
  ]), 201, 'teacher1 reports class A');
  assert.equal(res.json.ids.length, 3);
  assert.deepEqual(await cell('homework.minutes', ids.classA, day), { count: before0.hw.count + 1, sum: before0.hw.sum + 45 });
  assert.deepEqual(await cell('attendance.present', ids.classA, day),
    { count: before0.present.count + 1, sum: before0.present.sum + 31 });
  assert.deepEqual(await cell('attendance.absent', ids.classA, day),
    { count: before0.absent.count + 1, sum: before0.absent.sum + 1 });

  /* A class teacher1 teaches a subject in (the demo registry's), if any: theirs too. */
  const taught = ids.teacher1Classes.find((c) => c !== ids.classA);
  if (taught) {
    const t0 = await cell('homework.minutes', taught, day);
    expectStatus(await post(clients.teacher1, [obs('homework.minutes', taught, day, 20)]), 201, 'a class teacher1 teaches');
    assert.deepEqual(await cell('homework.minutes', taught, day), { count: t0.count + 1, sum: t0.sum + 20 });
  }

  /* The sheet of the upload page, at the class. */
  const rd = await cell('reading.minutes', ids.classA, day);
  const up = await upload(clients.teacher1, ids.classA, 'reading.minutes', `日期,数值\n${day},25\n`);
  assert.equal(up.status, 201, up.text);
  assert.equal(up.json.created, 1);
  assert.deepEqual(await cell('reading.minutes', ids.classA, day), { count: rd.count + 1, sum: rd.sum + 25 });

  /* Their own row corrected, with a reason. */
  const fixed = expectStatus(await post(clients.teacher1, [
    obs('homework.minutes', ids.classA, day, 40, { supersedes: res.json.ids[0], reason: '录入有误' }),
  ]), 201, 'teacher1 corrects its own row');
  assert.equal(fixed.json.ids.length, 1);
  assert.deepEqual(await cell('homework.minutes', ids.classA, day), { count: before0.hw.count + 1, sum: before0.hw.sum + 40 });
});

test('the same teacher for another class of the school: "not yours" per row, nothing stored', async () => {
  const day = daysAgo(2);
  const a0 = await cell('homework.minutes', ids.classA, day);
  const b0 = await cell('homework.minutes', ids.classA2, day);
  const res = await post(clients.teacher1, [
    obs('homework.minutes', ids.classA, day, 30),
    obs('homework.minutes', ids.classA2, day, 50),
    obs('attendance.present', ids.classA, day, 30),
    obs('afterschool.students', ids.schoolA, day, 300),
  ]);
  assert.deepEqual(rowErrors(res), ['1:org_id', '3:org_id'], 'the other class and the school-level element');
  for (const r of res.json.rows) {
    assert.match(r.message.en, /^not yours/);
    assert.match(r.message.zh, /^无权填报/);
  }
  assert.deepEqual(await cell('homework.minutes', ids.classA, day), a0, 'all or nothing: class A unchanged');
  assert.deepEqual(await cell('homework.minutes', ids.classA2, day), b0, 'class A2 unchanged');

  /* In English too. */
  const en = await clients.teacher1.post('/api/v1/observations', { observations: [obs('homework.minutes', ids.classA2, day, 50)] },
    { headers: { 'Accept-Language': 'en' } });
  assert.equal(en.status, 400);
  assert.doesNotMatch(en.json.error.message, /[\u4e00-\u9fff]/);

  /* A correction of another class's row names that class: refused the same way. */
  const theirs = expectStatus(await post(clients.school1, [obs('homework.minutes', ids.classA2, day, 50)]), 201).json.ids[0];
  const fix = await post(clients.teacher1, [obs('homework.minutes', ids.classA2, day, 5, { supersedes: theirs, reason: '改' })]);
  assert.deepEqual(rowErrors(fix), ['0:org_id']);
  assert.deepEqual(await cell('homework.minutes', ids.classA2, day), { count: b0.count + 1, sum: b0.sum + 50 });

  /* The upload page at a class that is not theirs: 403 before the file is read. */
  expectError(await upload(clients.teacher1, ids.classA2, 'homework.minutes', `日期,数值\n${day},50\n`), 403, 'forbidden');
  /* At their school (readable, theirs only through class A): rows for class A2 are refused. */
  const sheet = await upload(clients.teacher1, ids.schoolA, 'homework.minutes',
    `机构,日期,数值\n${ids.classA},${day},30\n${ids.classA2},${day},50\n`);
  assert.equal(sheet.status, 422, sheet.text);
  assert.deepEqual(sheet.json.findings.map((f) => `${f.line}:${f.column}`), ['3:机构']);
  assert.deepEqual(await cell('homework.minutes', ids.classA, day), a0, 'nothing written by the sheet');
  /* Outside the read scope it is still the missing-org answer. */
  const miss = await post(clients.teacher1, [obs('homework.minutes', MISSING_ID, day, 30)]);
  expectError(miss, 404, 'not_found');
  const out = await post(clients.teacher1, [obs('homework.minutes', ids.classB, day, 30)]);
  assert.equal(out.text, miss.text, 'another district\'s class answers like a missing one');
});

test('a subject teacher of the class reports for it, not yet for a class they start teaching later', async () => {
  const day = daysAgo(3);
  const a0 = await cell('sleep.hours', ids.classA, day);
  const b0 = await cell('sleep.hours', ids.classA2, day);
  expectStatus(await post(clients.subject, [
    obs('sleep.hours', ids.classA, day, 9.5),
    obs('health.symptom', ids.classA, day, 1, { person_id: ids.student1, category: 'cough' }),
  ]), 201, 'the subject teacher reports class A');
  assert.deepEqual(await cell('sleep.hours', ids.classA, day), { count: a0.count + 1, sum: a0.sum + 9.5 });
  const later = await post(clients.subject, [obs('sleep.hours', ids.classA2, day, 9)]);
  assert.deepEqual(rowErrors(later), ['0:org_id'], 'the teaching of class A2 starts in 10 days');
  assert.deepEqual(await cell('sleep.hours', ids.classA2, day), b0);
});

test('students, parents and analysts never report (403), and nothing is stored', async () => {
  const day = daysAgo(4);
  const a0 = await cell('homework.minutes', ids.classA, day);
  for (const login of ['student1', 'parent1', 'analyst1']) {
    expectError(await post(clients[login], [obs('homework.minutes', ids.classA, day, 30)]), 403, 'forbidden', login);
    expectError(await post(clients[login], [obs('homework.minutes', MISSING_ID, day, 30)]), 403, 'forbidden', login);
    expectError(await upload(clients[login], ids.classA, 'homework.minutes', `日期,数值\n${day},30\n`), 403, 'forbidden', login);
  }
  assert.deepEqual(await cell('homework.minutes', ids.classA, day), a0);
});

test('a school administrator reports for any class of the school, never for another school', async () => {
  const day = daysAgo(5);
  const a0 = await cell('attendance.present', ids.classA2, day);
  expectStatus(await post(clients.school1, [obs('attendance.present', ids.classA2, day, 28),
    obs('afterschool.students', ids.schoolA, day, 300)]), 201, 'school1 reports class A2 and its school');
  assert.deepEqual(await cell('attendance.present', ids.classA2, day), { count: a0.count + 1, sum: a0.sum + 28 });
  const miss = await post(clients.school1, [obs('attendance.present', ids.classA2, day, 1), obs('attendance.present', MISSING_ID, day, 1)]);
  expectError(miss, 404, 'not_found');
  const other = await post(clients.school1, [obs('attendance.present', ids.classA2, day, 1), obs('attendance.present', ids.classB, day, 1)]);
  assert.equal(other.status, 404);
  assert.equal(other.text, miss.text, 'another school answers like a missing org');
  assert.deepEqual(await cell('attendance.present', ids.classA2, day), { count: a0.count + 1, sum: a0.sum + 28 }, 'nothing of the refused batches');
});

test('GET /data-elements says which elements the caller reports, and where', async () => {
  const get = async (c) => expectStatus(await c.get('/api/v1/data-elements'), 200).json;
  const writable = (doc) => Object.fromEntries(doc.items.map((e) => [e.code, e.writable]));
  const t1 = await get(clients.teacher1);
  assert.ok(ids.teacher1Classes.includes(ids.classA));
  assert.deepEqual(t1.report_orgs.map((o) => o.id).sort((x, y) => x - y), ids.teacher1Classes,
    'the classes teacher1 heads or teaches');
  assert.ok(t1.report_orgs.every((o) => o.kind === 'class' && o.name));
  assert.equal(writable(t1)['homework.minutes'], true);
  assert.equal(writable(t1)['attendance.absent'], true);
  assert.equal(writable(t1)['afterschool.students'], false, 'school-level elements are the administrators\'');
  for (const e of t1.items) assert.equal(e.writable, e.level === 'class', e.code);
  const sub = await get(clients.subject);
  assert.deepEqual(sub.report_orgs.map((o) => o.id), [ids.classA], 'class A2 is not theirs yet');
  const s1 = await get(clients.school1);
  assert.deepEqual(s1.report_orgs.map((o) => [o.id, o.kind]), [[ids.schoolA, 'school']]);
  for (const e of s1.items) assert.equal(e.writable, ['school', 'grade', 'class'].includes(e.level), e.code);
  const d1 = await get(clients.district1);
  assert.deepEqual(d1.report_orgs.map((o) => [o.id, o.kind]), [[ids.districtA, 'district']]);
  for (const login of ['student1', 'parent1', 'analyst1']) {
    const doc = await get(clients[login]);
    assert.deepEqual(doc.report_orgs, [], login);
    assert.ok(doc.items.length > 20 && doc.items.every((e) => e.writable === false), login);
  }
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
