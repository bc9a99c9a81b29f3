// Student lifecycle (学籍状态): admission, suspension (休学) and return (复学), withdrawal, death,
// graduation as events with history; the enrolment each one ends or starts; transitions the
// status does not allow (409 invalid_transition), dates validated, scope, audit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, Client, expectStatus, expectError, assertErrorsWellFormed, listAll, MISSING_ID,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let clients;
let ids;
let admin;
let school1;

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
  admin = clients.admin;
  school1 = clients.school1;
  /* A second class of school A, for the return after a suspension. */
  const classes = await listAll(admin, `/api/v1/orgs/${ids.gradeA}/children`, 500);
  ids.classA3 = (classes.find((c) => c.id !== ids.classA) || classes[0]).id;
});

after(async () => {
  if (srv) await srv.stop();
});

let n = 0;
/* A student registered at school A (not enrolled yet). */
async function newStudent() {
  n += 1;
  return expectStatus(await school1.post('/api/v1/people', {
    org_id: ids.schoolA, name: `学籍${n}号`, sex: 'female', birth_date: '2014-03-02', kind: 'student',
  }), 201).json.id;
}

const status = async (c, id) => expectStatus(await c.get(`/api/v1/people/${id}/status`), 200).json;
const change = (c, id, body) => c.post(`/api/v1/people/${id}/status`, body);
const current = async (id) => expectStatus(await admin.get(`/api/v1/people/${id}`), 200).json
  .enrolments.filter((e) => e.end_date === null).map((e) => e.class.id);

test('admission, suspension, return, withdrawal, death: each event, its enrolment and its history', async () => {
  const id = await newStudent();
  let st = await status(school1, id);
  assert.equal(st.status, 'none');
  assert.deepEqual(st.events, []);

  expectError(await change(school1, id, { kind: 'admission', date: '2026-09-01' }), 400, 'invalid_field', 'no class');
  expectError(await change(admin, id, { kind: 'admission', date: '2026-09-01', class_id: ids.classB }), 400, 'invalid_field', 'another school\'s class');
  expectError(await change(school1, id, { kind: 'admission', date: '2026-09-01', class_id: ids.classB }), 404, 'not_found', 'a class outside the scope');
  expectError(await change(school1, id, { kind: 'admission', date: '2026-09-31', class_id: ids.classA }), 400, 'invalid_field');
  expectError(await change(school1, id, { kind: 'promotion', date: '2026-09-01' }), 400, 'invalid_field');
  st = expectStatus(await change(school1, id, { kind: 'admission', date: '2026-09-01', class_id: ids.classA }), 201).json;
  assert.equal(st.status, 'enrolled');
  assert.equal(st.class.id, ids.classA);
  assert.deepEqual(await current(id), [ids.classA]);

  /* Transitions the status does not allow. */
  for (const body of [
    { kind: 'admission', date: '2026-09-02', class_id: ids.classA },
    { kind: 'return', date: '2026-09-02', class_id: ids.classA },
  ]) {
    expectError(await change(school1, id, body), 409, 'invalid_transition', body.kind);
  }
  const en = new Client(srv.base, { lang: 'en' });
  await en.mustLogin('school1', 'Demo-pass-2026');
  const enErr = expectError(await change(en, id, { kind: 'return', date: '2026-09-02', class_id: ids.classA }), 409, 'invalid_transition');
  assert.match(enErr.message, /status does not allow/);

  /* Suspension: reason, an expected return after the date, not before the last change. */
  const susp = { kind: 'suspension', date: '2026-10-08', reason: '病休', expected_return: '2027-02-20' };
  expectError(await change(school1, id, { ...susp, reason: undefined }), 400, 'invalid_field', 'no reason');
  expectError(await change(school1, id, { ...susp, expected_return: undefined }), 400, 'invalid_field', 'no expected return');
  expectError(await change(school1, id, { ...susp, expected_return: '2026-10-08' }), 400, 'invalid_field', 'return not after');
  expectError(await change(school1, id, { ...susp, date: '2026-08-31' }), 400, 'invalid_field', 'before the admission');
  expectError(await change(school1, id, { ...susp, class_id: ids.classA }), 400, 'invalid_field', 'class on a suspension');
  st = expectStatus(await change(school1, id, susp), 201).json;
  assert.equal(st.status, 'suspended');
  assert.equal(st.since, '2026-10-08');
  assert.equal(st.expected_return, '2027-02-20');
  assert.equal(st.class, null);
  assert.deepEqual(await current(id), []);
  const ended = expectStatus(await admin.get(`/api/v1/people/${id}`), 200).json.enrolments;
  assert.deepEqual(ended.map((e) => [e.class.id, e.start_date, e.end_date]), [[ids.classA, '2026-09-01', '2026-10-08']]);
  assert.ok(!(await listAll(admin, `/api/v1/orgs/${ids.classA}/people?role=student`, 500)).some((p) => p.id === id),
    'a suspended student is off the roster');
  expectError(await change(school1, id, { kind: 'graduation', date: '2026-11-01' }), 409, 'invalid_transition');

  /* Return into a class the school picks. */
  st = expectStatus(await change(school1, id, { kind: 'return', date: '2027-02-20', class_id: ids.classA3 }), 201).json;
  assert.equal(st.status, 'enrolled');
  assert.equal(st.class.id, ids.classA3);
  assert.equal(st.expected_return, null);
  assert.deepEqual(await current(id), [ids.classA3]);

  st = expectStatus(await change(school1, id, { kind: 'withdrawal', date: '2027-03-01', reason: '随家长出国' }), 201).json;
  assert.equal(st.status, 'withdrawn');
  assert.deepEqual(await current(id), []);
  st = expectStatus(await change(school1, id, { kind: 'death', date: '2027-05-01', reason: '意外' }), 201).json;
  assert.equal(st.status, 'deceased');
  for (const body of [
    { kind: 'admission', date: '2027-06-01', class_id: ids.classA },
    { kind: 'death', date: '2027-06-01', reason: '重复' },
    { kind: 'withdrawal', date: '2027-06-01', reason: '重复' },
  ]) {
    expectError(await change(school1, id, body), 409, 'invalid_transition', `${body.kind} after death`);
  }
  st = await status(admin, id);
  assert.deepEqual(st.events.map((e) => [e.kind, e.status, e.date]), [
    ['admission', 'enrolled', '2026-09-01'], ['suspension', 'suspended', '2026-10-08'],
    ['return', 'enrolled', '2027-02-20'], ['withdrawal', 'withdrawn', '2027-03-01'],
    ['death', 'deceased', '2027-05-01'],
  ]);
  assert.equal(st.events[1].reason, '病休');
  assert.equal(st.events[1].expected_return, '2027-02-20');
  assert.equal(st.events[2].class.id, ids.classA3);
  assert.ok(st.events.every((e) => e.by && e.by.id === clients.school1.session.user.id), 'who recorded each event');
  assert.ok(st.events.every((e) => e.school.id === ids.schoolA));

  /* Every change is in the school's audit log with before and after. */
  const audit = (await admin.get(`/api/v1/audit?org=${ids.schoolA}&limit=100`)).json.items
    .filter((e) => e.object_type === 'person' && e.object_id === id && e.action.startsWith('student.'));
  assert.deepEqual(audit.map((e) => e.action).reverse(),
    ['student.admission', 'student.suspension', 'student.return', 'student.withdrawal', 'student.death']);
  const s = audit.find((e) => e.action === 'student.suspension');
  assert.equal(s.before.status, 'enrolled');
  assert.equal(s.after.status, 'suspended');
});

test('graduation ends the enrolment; a graduate may be admitted again; a demo student counts as enrolled', async () => {
  const id = await newStudent();
  expectStatus(await change(school1, id, { kind: 'admission', date: '2026-09-01', class_id: ids.classA }), 201);
  const st = expectStatus(await change(school1, id, { kind: 'graduation', date: '2027-07-01' }), 201).json;
  assert.equal(st.status, 'graduated');
  assert.deepEqual(await current(id), []);
  expectError(await change(school1, id, { kind: 'graduation', date: '2027-07-02' }), 409, 'invalid_transition');
  expectStatus(await change(school1, id, { kind: 'admission', date: '2027-09-01', class_id: ids.classA }), 201);
  /* A student of the demo, enrolled through the plain enrolment route, without events. */
  const demo = await status(school1, ids.classmate);
  assert.equal(demo.status, 'enrolled');
  assert.equal(demo.class.id, ids.classA);
  assert.deepEqual(demo.events, []);
});

test('scope: readers in scope read, read-only roles cannot write, outsiders learn nothing', async () => {
  expectStatus(await clients.student1.get(`/api/v1/people/${ids.student1}/status`), 200);
  expectStatus(await clients.parent1.get(`/api/v1/people/${ids.student1}/status`), 200);
  expectStatus(await clients.teacher1.get(`/api/v1/people/${ids.classmate}/status`), 200);
  const body = { kind: 'withdrawal', date: '2026-12-01', reason: '测试' };
  for (const login of ['teacher1', 'student1', 'parent1', 'analyst1']) {
    const res = await change(clients[login], ids.classmate, body);
    assert.ok([403, 404].includes(res.status), `${login}: ${res.status}`);
  }
  assert.equal((await status(admin, ids.classmate)).status, 'enrolled', 'a refused write changed the status');
  for (const c of [school1, clients.district1]) {
    for (const [method, url, json] of [['GET', 'status'], ['POST', 'status', body]]) {
      const missing = await c.request(method, `/api/v1/people/${MISSING_ID}/${url}`, json ? { json } : {});
      const out = await c.request(method, `/api/v1/people/${ids.personB}/${url}`, json ? { json } : {});
      expectError(out, 404, 'not_found');
      assert.equal(out.text, missing.text);
    }
  }
  expectError(await admin.get(`/api/v1/people/${ids.teacher1}/status`), 400, 'not_a_student');
  expectError(await admin.post(`/api/v1/people/${ids.teacher1}/status`, body), 400, 'not_a_student');
  expectError(await school1.post(`/api/v1/people/${ids.classmate}/status`, { ...body, extra: 1 }), 400, 'unknown_field');
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
