// Parent binding codes for a whole class (POST /orgs/{id}/binding-codes), the printable class
// sheet's source: one code per current student with the masked student number, shown once,
// replacing earlier codes (per student and per class), usable by parents, scoped and audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, Client, expectStatus, expectError, listAll, uniq, MISSING_ID, assertErrorsWellFormed,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let clients;
let ids;
const tag = uniq();
const CODE_RE = /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/;
const PW = 'Parent-pass-2026';

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
});

after(async () => {
  if (srv) await srv.stop();
});

const sheetOf = async (client, classId) => expectStatus(await client.post(`/api/v1/orgs/${classId}/binding-codes`), 201).json;

const register = (anon, studentNo, code, login) => anon.post('/api/v1/parents', {
  student_no: studentNo, binding_code: code, login, password: PW, name: '班级家长', relation: '母亲',
});

test('a class sheet holds one fresh code per current student, with the masked student number', async () => {
  const { school1 } = clients;
  const roster = await listAll(school1, `/api/v1/orgs/${ids.classA}/people?role=student`, 500);
  assert.ok(roster.length >= 2, `class A has ${roster.length} students`);
  const res = expectStatus(await school1.post(`/api/v1/orgs/${ids.classA}/binding-codes`), 201);
  assert.match(res.headers.get('cache-control') || '', /no-store/);
  const doc = res.json;
  assert.equal(doc.class.id, ids.classA);
  assert.equal(typeof doc.class.name, 'string');
  assert.equal(doc.count, roster.length);
  assert.equal(doc.items.length, roster.length);
  assert.deepEqual(doc.items.map((i) => i.student_id).sort((a, b) => a - b),
    roster.map((p) => p.id).sort((a, b) => a - b), 'exactly the current students');
  const now = Date.now() / 1000;
  assert.ok(doc.expires_at > now + 29 * 86400 && doc.expires_at < now + 31 * 86400, 'valid 30 days');
  for (const it of doc.items) assert.match(it.code, CODE_RE);
  assert.equal(new Set(doc.items.map((i) => i.code)).size, doc.items.length, 'codes are distinct');
  /* The student number as the people API shows it to the same caller: masked, never plain. */
  const one = doc.items.find((i) => i.student_id === ids.student1);
  const person = expectStatus(await school1.get(`/api/v1/people/${ids.student1}`), 200).json;
  assert.equal(one.student_no, person.student_no);
  assert.equal(one.name, person.name);
  const plain = expectStatus(await clients.admin.get(`/api/v1/people/${ids.student1}?pii=1`), 200).json.student_no;
  assert.ok(plain && plain !== one.student_no && one.student_no.includes('*'), `masked: ${one.student_no}`);
  assert.ok(!res.text.includes(plain), 'the plain student number is not in the sheet');
});

test('a sheet code binds a parent; issuing again replaces every code of the class', async () => {
  const { school1, admin } = clients;
  const first = await sheetOf(school1, ids.classA);
  const second = await sheetOf(school1, ids.classA);
  const code1 = first.items.find((i) => i.student_id === ids.classmate).code;
  const code2 = second.items.find((i) => i.student_id === ids.classmate).code;
  assert.notEqual(code1, code2);
  const sno = expectStatus(await admin.get(`/api/v1/people/${ids.classmate}?pii=1`), 200).json.student_no;
  const anon = new Client(srv.base);
  expectError(await register(anon, sno, code1, `e2e.sheet.${tag}.old`), 401, 'bad_binding');
  const ok = expectStatus(await register(anon, sno, code2, `e2e.sheet.${tag}`), 201).json;
  const p = new Client(srv.base);
  const s = await p.mustLogin(ok.login, PW);
  assert.deepEqual(s.roles.map((r) => [r.role, r.org.id]), [['parent', ids.classA]]);
  expectStatus(await p.get(`/api/v1/people/${ids.classmate}`), 200);
  /* Single use: the same code does not bind a second parent. */
  expectError(await register(anon, sno, code2, `e2e.sheet.${tag}.again`), 401, 'bad_binding');
});

test('a class sheet replaces a code issued for one student before', async () => {
  const { school1, admin } = clients;
  const single = expectStatus(await school1.post(`/api/v1/people/${ids.student1}/binding-code`), 201).json;
  const sheet = await sheetOf(school1, ids.classA);
  const fresh = sheet.items.find((i) => i.student_id === ids.student1).code;
  const sno = expectStatus(await admin.get(`/api/v1/people/${ids.student1}?pii=1`), 200).json.student_no;
  const anon = new Client(srv.base);
  expectError(await register(anon, sno, single.code, `e2e.sheet.${tag}.s1old`), 401, 'bad_binding');
  expectStatus(await register(anon, sno, fresh, `e2e.sheet.${tag}.s1`), 201);
});

test('scope: other schools and read-only roles learn nothing; classes only; one audit row', async () => {
  const { school1, district1, teacher1, parent1 } = clients;
  const missing = expectError(await school1.post(`/api/v1/orgs/${MISSING_ID}/binding-codes`), 404, 'not_found');
  const outside = await school1.post(`/api/v1/orgs/${ids.classB}/binding-codes`);
  expectError(outside, 404, 'not_found');
  assert.equal(outside.json.error.message, missing.message);
  for (const c of [teacher1, parent1]) {
    const res = await c.post(`/api/v1/orgs/${ids.classA}/binding-codes`);
    assert.ok([403, 404].includes(res.status), `read-only role: ${res.status}`);
    expectError(res, res.status);
  }
  /* A grade or a school is not a class: 400 inside the scope, 404 outside. */
  expectError(await school1.post(`/api/v1/orgs/${ids.gradeA}/binding-codes`), 400, 'bad_request');
  expectError(await school1.post(`/api/v1/orgs/${ids.schoolA}/binding-codes`), 400, 'bad_request');
  expectError(await school1.post(`/api/v1/orgs/${ids.schoolB}/binding-codes`), 404, 'not_found');
  /* A district administrator issues for the classes of its district. */
  const d = await sheetOf(district1, ids.classA);
  assert.ok(d.count >= 2);
  /* One audit row per issued sheet, on the class, counting the students. */
  const audit = expectStatus(await school1.get(`/api/v1/audit?org=${ids.classA}`), 200).json.items;
  const rows = audit.filter((a) => a.action === 'class.binding_codes');
  assert.ok(rows.length >= 4, `audit rows: ${rows.length}`);
  assert.ok(!JSON.stringify(rows).match(/[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}/), 'no code in the audit log');
});

test('an empty class gives an empty sheet', async () => {
  const { school1, admin } = clients;
  const cls = expectStatus(await admin.post('/api/v1/orgs', {
    parent_id: ids.gradeA, kind: 'class', name: `空班${tag}`, school_year: 2026,
  }), 201).json;
  const doc = await sheetOf(school1, cls.id);
  assert.equal(doc.count, 0);
  assert.deepEqual(doc.items, []);
});

test('error answers follow the contract', () => {
  assertErrorsWellFormed();
});
