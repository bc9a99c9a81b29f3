// Accounts for everyone: bulk accounts with one-time codes (POST /orgs/{id}/accounts), the
// restricted first-login session and the forced password change, re-issued codes (per node and
// per account, the old code dying), parents binding to a child with the school's code (single
// use, throttled), and the registration rate (GET /orgs/{id}/registration) checked against the
// rosters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, Client, expectStatus, expectError, listAll, uniq, assertErrorsWellFormed,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let clients;
let ids;
const tag = uniq();
const CODE_RE = /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/;
const NEW_PW = 'Chosen-pass-2026';

let created; /* the items of the class's bulk creation */

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
});

after(async () => {
  if (srv) await srv.stop();
});

test('POST /orgs/{class}/accounts: one account per student and teacher without one, codes shown once', async () => {
  const { school1 } = clients;
  const roster = await listAll(school1, `/api/v1/orgs/${ids.classA}/people?role=student`, 500);
  const res = expectStatus(await school1.post(`/api/v1/orgs/${ids.classA}/accounts`), 201);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  created = res.json.items;
  assert.equal(res.json.count, created.length);
  const students = created.filter((i) => i.kind === 'student');
  /* student1 already has an account; every other student of the class gets one. */
  assert.deepEqual(students.map((i) => i.person_id).sort((a, b) => a - b),
    roster.map((p) => p.id).filter((id) => id !== ids.student1).sort((a, b) => a - b));
  for (const it of students) {
    assert.match(it.code, CODE_RE);
    assert.equal(it.login, `s${it.person_id}`);
    assert.equal(it.class_id, ids.classA);
    assert.ok(it.name && it.class_name);
  }
  assert.equal(new Set(created.map((i) => i.code)).size, created.length, 'codes are distinct');
  /* Teachers of the class get teacher at the school; teacher1 already had an account. */
  for (const t of created.filter((i) => i.kind === 'teacher')) {
    assert.notEqual(t.person_id, ids.teacher1);
    const acc = expectStatus(await school1.get(`/api/v1/accounts/${t.account_id}`), 200).json;
    assert.ok(acc.roles.some((r) => r.role === 'teacher' && r.org.id === ids.schoolA));
  }
  const acc = expectStatus(await school1.get(`/api/v1/accounts/${students[0].account_id}`), 200).json;
  assert.equal(acc.must_change_password, true);
  assert.equal(acc.person_id, students[0].person_id);
  assert.deepEqual(acc.roles.map((r) => [r.role, r.org.id]), [['student', ids.classA]]);

  /* A second run finds nobody left: the codes are never shown again. */
  const again = expectStatus(await school1.post(`/api/v1/orgs/${ids.classA}/accounts`), 201).json;
  assert.equal(again.count, 0);
  assert.deepEqual(again.items, []);
  assert.ok(!JSON.stringify(expectStatus(await school1.get(`/api/v1/accounts/${students[0].account_id}`), 200).json)
    .includes(students[0].code));
});

test('bulk creation is refused outside the write scope and above school level', async () => {
  expectError(await clients.school1.post(`/api/v1/orgs/${ids.classB}/accounts`), 404, 'not_found');
  expectError(await clients.teacher1.post(`/api/v1/orgs/${ids.classA}/accounts`), 404, 'not_found');
  expectError(await clients.district1.post(`/api/v1/orgs/${ids.districtA}/accounts`), 400, 'bad_request');
});

test('first login with the one-time code: a restricted session until a password is chosen', async () => {
  const it = created.find((i) => i.kind === 'student');
  const c = new Client(srv.base);
  /* Typed in lower case without dashes, as people do from paper. */
  const s = await c.mustLogin(it.login, it.code.replaceAll('-', '').toLowerCase());
  assert.equal(s.user.must_change_password, true);
  expectStatus(await c.get('/api/v1/me'), 200);
  expectError(await c.get(`/api/v1/people/${it.person_id}`), 403, 'must_change_password');
  expectError(await c.get(`/api/v1/orgs/${ids.classA}`), 403, 'must_change_password');
  expectError(await c.put('/api/v1/me/password', { old_password: it.code, new_password: 'short' }), 400,
    'password_too_short');
  const done = expectStatus(await c.put('/api/v1/me/password', { old_password: it.code, new_password: NEW_PW }), 200).json;
  assert.equal(done.user.must_change_password, false);
  c.csrf = done.csrf_token;
  expectStatus(await c.get(`/api/v1/people/${it.person_id}`), 200);
  /* The code is spent; the chosen password works. */
  expectError(await new Client(srv.base).login(it.login, it.code), 401, 'bad_credentials');
  await new Client(srv.base).mustLogin(it.login, NEW_PW);
});

test('re-issuing codes: per node for the accounts not yet activated, per account by an administrator', async () => {
  const { school1 } = clients;
  const students = created.filter((i) => i.kind === 'student');
  const activated = students[0];
  const waiting = students[1];
  const res = expectStatus(await school1.post(`/api/v1/orgs/${ids.classA}/activation-codes`), 200).json;
  const reissued = res.items.filter((i) => i.kind === 'student');
  assert.equal(reissued.length, students.length - 1, 'every student account but the activated one');
  assert.ok(!reissued.some((i) => i.account_id === activated.account_id));
  const fresh = reissued.find((i) => i.account_id === waiting.account_id);
  assert.equal(fresh.login, waiting.login);
  assert.notEqual(fresh.code, waiting.code);
  expectError(await new Client(srv.base).login(waiting.login, waiting.code), 401, 'bad_credentials');
  const c = new Client(srv.base);
  assert.equal((await c.mustLogin(waiting.login, fresh.code)).user.must_change_password, true);

  /* An administrator resets an activated account to a new one-time code. */
  const one = expectStatus(await school1.post(`/api/v1/accounts/${activated.account_id}/activation-code`), 200).json;
  assert.match(one.code, CODE_RE);
  assert.equal(one.login, activated.login);
  expectError(await new Client(srv.base).login(activated.login, NEW_PW), 401, 'bad_credentials');
  const again = new Client(srv.base);
  assert.equal((await again.mustLogin(activated.login, one.code)).user.must_change_password, true);
  expectError(await again.get(`/api/v1/orgs/${ids.classA}`), 403, 'must_change_password');
  expectError(await clients.school1.post(`/api/v1/accounts/${clients.school1.session.user.id}/activation-code`), 403, 'forbidden');
  expectError(await clients.school1.post(`/api/v1/accounts/${clients.admin.session.user.id}/activation-code`), 404, 'not_found');
});

test('GET /orgs/{id}/registration: people, registered and activated per child, matching the rosters', async () => {
  const { school1, admin } = clients;
  const cls = expectStatus(await school1.get(`/api/v1/orgs/${ids.classA}/registration`), 200).json;
  const roster = await listAll(school1, `/api/v1/orgs/${ids.classA}/people?role=student`, 500);
  assert.equal(cls.total.id, ids.classA);
  assert.equal(cls.total.students.people, roster.length);
  assert.equal(cls.total.students.registered, roster.length, 'every student has an account now');
  /* student1 (demo account) and the second student, once they choose a password. */
  const waiting = created.filter((i) => i.kind === 'student')[1];
  const c = new Client(srv.base);
  const reissued = expectStatus(await school1.post(`/api/v1/accounts/${waiting.account_id}/activation-code`), 200).json;
  const s = await c.mustLogin(waiting.login, reissued.code);
  c.csrf = s.csrf_token;
  expectStatus(await c.put('/api/v1/me/password', { old_password: reissued.code, new_password: NEW_PW }), 200);
  const after2 = expectStatus(await school1.get(`/api/v1/orgs/${ids.classA}/registration`), 200).json;
  assert.equal(after2.total.students.activated, 2);
  assert.equal(after2.total.students.activated_rate, Math.floor((2 * 10000) / roster.length) / 10000);
  assert.equal(after2.total.parents.registered >= 1, true, 'parent1 is registered');

  /* The school: the children are its grades, and their students add up to the total. */
  const school = expectStatus(await school1.get(`/api/v1/orgs/${ids.schoolA}/registration`), 200).json;
  const stats = expectStatus(await school1.get(`/api/v1/orgs/${ids.schoolA}/stats`), 200).json;
  assert.equal(school.total.students.people, stats.students);
  assert.equal(school.total.teachers.people, stats.teachers);
  assert.ok(school.children.length > 0 && school.children.every((g) => g.kind === 'grade'));
  const sum = (k, f) => school.children.reduce((n, ch) => n + ch[k][f], 0);
  assert.equal(sum('students', 'people'), school.total.students.people);
  assert.equal(sum('students', 'registered'), school.total.students.registered);
  assert.equal(sum('students', 'activated'), school.total.students.activated);
  assert.ok(school.total.students.registered >= roster.length);

  /* The city: one child per district, students adding up. */
  const city = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/registration`), 200).json;
  assert.ok(city.children.every((d) => d.kind === 'district'));
  assert.equal(city.children.reduce((n, d) => n + d.students.people, 0), city.total.students.people);
  assert.equal(city.total.students.registered, school.total.students.registered,
    'only school A has student accounts');

  expectError(await clients.student1.get(`/api/v1/orgs/${ids.classA}/registration`), 404, 'not_found');
  expectError(await clients.parent1.get(`/api/v1/orgs/${ids.classA}/registration`), 404, 'not_found');
  expectError(await school1.get(`/api/v1/orgs/${ids.schoolB}/registration`), 404, 'not_found');
});

test('parents bind to their child with the student number and the school\'s single-use code', async () => {
  const { school1, admin } = clients;
  const student = expectStatus(await admin.get(`/api/v1/people/${ids.classmate}?pii=1`), 200).json;
  assert.ok(student.student_no, 'the classmate has a student number');
  const issued = expectStatus(await school1.post(`/api/v1/people/${ids.classmate}/binding-code`), 201).json;
  assert.match(issued.code, CODE_RE);
  expectError(await clients.teacher1.post(`/api/v1/people/${ids.classmate}/binding-code`), 404, 'not_found');
  expectError(await school1.post(`/api/v1/people/${ids.teacher1}/binding-code`), 400, 'not_a_student');

  const anon = new Client(srv.base);
  const login = `e2e.parent.${tag}`;
  const body = {
    student_no: student.student_no, binding_code: issued.code, login, password: 'short', name: '测试家长',
    relation: '父亲',
  };
  expectError(await anon.post('/api/v1/parents', body), 400, 'password_too_short');
  body.password = NEW_PW;
  const reg = expectStatus(await anon.post('/api/v1/parents', body), 201).json;
  assert.equal(reg.login, login);
  const p = new Client(srv.base);
  const s = await p.mustLogin(login, NEW_PW);
  assert.equal(s.user.must_change_password, false);
  assert.deepEqual(s.roles.map((r) => [r.role, r.org.id]), [['parent', ids.classA]]);
  const child = expectStatus(await p.get(`/api/v1/people/${ids.classmate}`), 200).json;
  assert.equal(child.id, ids.classmate);
  expectError(await p.get(`/api/v1/people/${ids.student1}`), 404, 'not_found');
  /* The guardian link makes the new parent one of the class's parents. */
  const parents = await listAll(school1, `/api/v1/orgs/${ids.classA}/people?role=parent`, 500);
  assert.ok(parents.some((x) => x.id === s.user.person_id && x.name === '测试家长'));

  /* The code is spent; wrong codes are throttled like logins. */
  expectError(await anon.post('/api/v1/parents', { ...body, login: `${login}.2` }), 401, 'bad_binding');
  let throttled = null;
  for (let i = 0; i < 10 && !throttled; i++) {
    const res = await anon.post('/api/v1/parents', { ...body, login: `${login}.x${i}`, binding_code: 'AAAA-BBBB-CCCC' });
    if (res.status === 429) throttled = res;
    else expectError(res, 401, 'bad_binding');
  }
  assert.ok(throttled, 'wrong binding codes end in 429');
  assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
});

test('error answers follow the contract', () => {
  assertErrorsWellFormed();
});
