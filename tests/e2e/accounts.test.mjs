// Account management by administrators (GET/PATCH /accounts/{id}, password resets, granting and
// revoking roles) and the org statistics (GET /orgs/{id}/stats): scope (an account is managed
// only when every role of it lies in the caller's write scope), sessions ended on disable and
// reset, the audit trail with before/after and never a hash, and counts checked against the tree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, Client, loginAs, expectStatus, expectError, listAll, MISSING_ID, uniq,
  assertErrorsWellFormed,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let clients;
let ids;
const tag = uniq();
const PW = 'Acct-pass-2026';

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
  ids.acct = {};
  for (const [login, c] of Object.entries(clients)) ids.acct[login] = c.session.user.id;
});

after(async () => {
  if (srv) await srv.stop();
});

/** Creates an account through `by` with the given roles; returns its id. */
async function makeAccount(by, suffix, roles) {
  const login = `e2e.acct.${tag}.${suffix}`;
  const res = expectStatus(await by.post('/api/v1/accounts', {
    login, password: PW, display_name: `测试${suffix}`, must_change_password: false, roles,
  }), 201, `create ${login}`);
  return { id: res.json.id, login };
}

/** The newest audit entries of org (admin's view). */
async function auditOf(org, n = 50) {
  return expectStatus(await clients.admin.get(`/api/v1/audit?org=${org}&limit=${n}`), 200).json.items;
}

test('GET /accounts/{id}: roles and "managed" for the account\'s administrators; others get the missing-id answer', async () => {
  const { admin, district1, school1, teacher1 } = clients;
  const doc = expectStatus(await admin.get(`/api/v1/accounts/${ids.acct.school1}`), 200).json;
  for (const k of ['id', 'login', 'display_name', 'person_id', 'must_change_password', 'disabled', 'created_at', 'managed', 'roles']) {
    assert.ok(k in doc, `account document lacks ${k}`);
  }
  assert.equal(doc.login, 'school1');
  assert.equal(doc.managed, true);
  assert.equal(doc.roles.length, 1);
  assert.equal(doc.roles[0].role, 'school_admin');
  assert.equal(doc.roles[0].org.id, ids.schoolA);
  assert.equal(doc.roles[0].org.kind, 'school');
  assert.ok(Number.isInteger(doc.roles[0].id));
  assert.ok(!('password_hash' in doc));

  assert.equal(expectStatus(await district1.get(`/api/v1/accounts/${ids.acct.school1}`), 200).json.managed, true);
  /* One's own account: readable with every role, but not managed through these routes. */
  const self = expectStatus(await school1.get(`/api/v1/accounts/${ids.acct.school1}`), 200).json;
  assert.equal(self.managed, false);
  assert.equal(self.roles.length, 1);

  const missing = await school1.get(`/api/v1/accounts/${MISSING_ID}`);
  expectError(missing, 404, 'not_found');
  for (const other of [ids.acct.district1, ids.acct.admin, ids.acct.analyst1]) {
    const res = await school1.get(`/api/v1/accounts/${other}`);
    assert.equal(res.status, 404, `school1 reads account ${other}`);
    assert.equal(res.text, missing.text);
  }
  /* A teacher administers nobody. */
  const tMissing = await teacher1.get(`/api/v1/accounts/${MISSING_ID}`);
  expectError(await teacher1.get(`/api/v1/accounts/${ids.acct.student1}`), 404, 'not_found');
  assert.equal((await teacher1.get(`/api/v1/accounts/${ids.acct.student1}`)).text, tMissing.text);
  expectError(await admin.get('/api/v1/accounts/0'), 404, 'not_found');
  expectError(await admin.get('/api/v1/accounts/abc'), 404, 'not_found');
});

test('GET /accounts?login= searches logins (case-insensitive, LIKE characters literal), within scope', async () => {
  const { admin, school1 } = clients;
  const found = (await listAll(admin, '/api/v1/accounts?login=SCHOOL', 500)).map((a) => a.login);
  assert.ok(found.includes('school1'), `school1 not found: ${found}`);
  assert.ok(!found.includes('district1'), 'district1 matched "SCHOOL"');
  for (const q of ['%25', '_', '%5C']) {
    const res = expectStatus(await admin.get(`/api/v1/accounts?login=${q}`), 200);
    assert.deepEqual(res.json.items.map((a) => a.login).filter((l) => !/[%_\\]/.test(l)), [],
      `?login=${q} matched logins without that character`);
  }
  const own = (await listAll(school1, '/api/v1/accounts?login=1', 500)).map((a) => a.login);
  assert.ok(own.includes('teacher1'), 'school1 finds teacher1');
  for (const x of ['district1', 'admin', 'analyst1']) assert.ok(!own.includes(x), `school1 finds ${x}`);
  expectError(await admin.get(`/api/v1/accounts?login=${'x'.repeat(65)}`), 400, 'bad_request');
});

test('PATCH /accounts/{id}: rename, disable (sessions end, login refused), enable; audited with before/after', async () => {
  const { school1 } = clients;
  const acc = await makeAccount(school1, 'patch', [{ role: 'teacher', org_id: ids.schoolA }]);
  const user = await loginAs(srv.base, acc.login, PW);
  expectStatus(await user.get('/api/v1/me'), 200);

  const renamed = expectStatus(await school1.patch(`/api/v1/accounts/${acc.id}`, { display_name: '新名字' }), 200).json;
  assert.equal(renamed.display_name, '新名字');
  assert.equal(renamed.disabled, false);
  expectStatus(await user.get('/api/v1/me'), 200, 'a rename keeps the sessions');

  const off = expectStatus(await school1.patch(`/api/v1/accounts/${acc.id}`, { disabled: true }), 200).json;
  assert.equal(off.disabled, true);
  expectError(await user.get('/api/v1/me'), 401, 'unauthenticated');
  expectError(await new Client(srv.base).login(acc.login, PW), 401, 'bad_credentials');

  const on = expectStatus(await school1.patch(`/api/v1/accounts/${acc.id}`, { disabled: false }), 200).json;
  assert.equal(on.disabled, false);
  expectStatus(await new Client(srv.base).login(acc.login, PW), 200, 'enabled again');

  const entries = (await auditOf(ids.schoolA)).filter((e) => e.action === 'account.update' && e.object_id === acc.id);
  assert.equal(entries.length, 3, 'one audit entry per change');
  const rename = entries.find((e) => e.after.display_name === '新名字' && e.before.display_name !== '新名字');
  assert.ok(rename, 'the rename has before and after');
  assert.equal(rename.login, 'school1');
  assert.ok(entries.some((e) => e.before.disabled === false && e.after.disabled === true), 'the disable is audited');
  for (const e of entries) assert.doesNotMatch(JSON.stringify(e), /argon2|password_hash/);
});

test('PATCH /accounts/{id}: bad input, oneself, and accounts outside the scope', async () => {
  const { school1, district1 } = clients;
  const acc = await makeAccount(school1, 'patchbad', [{ role: 'teacher', org_id: ids.schoolA }]);
  expectError(await school1.patch(`/api/v1/accounts/${acc.id}`, {}), 400, 'missing_field');
  expectError(await school1.patch(`/api/v1/accounts/${acc.id}`, { colour: 'red' }), 400, 'unknown_field');
  expectError(await school1.patch(`/api/v1/accounts/${acc.id}`, { disabled: 'yes' }), 400, 'invalid_field');
  expectError(await school1.patch(`/api/v1/accounts/${acc.id}`, { display_name: '   ' }), 400);
  expectError(await school1.patch(`/api/v1/accounts/${acc.id}`, { display_name: '名'.repeat(61) }), 400);
  const still = expectStatus(await school1.get(`/api/v1/accounts/${acc.id}`), 200).json;
  assert.equal(still.display_name, '测试patchbad');

  /* Nobody disables themselves; renaming oneself is allowed. */
  expectError(await school1.patch(`/api/v1/accounts/${ids.acct.school1}`, { disabled: true }), 403, 'forbidden');
  expectStatus(await school1.get('/api/v1/me'), 200);
  /* Above the caller: like a missing account. */
  const missing = await district1.patch(`/api/v1/accounts/${MISSING_ID}`, { disabled: true });
  expectError(missing, 404, 'not_found');
  const res = await district1.patch(`/api/v1/accounts/${ids.acct.admin}`, { disabled: true });
  assert.equal(res.status, 404);
  assert.equal(res.text, missing.text);
  expectStatus(await clients.admin.get('/api/v1/me'), 200, 'admin still works');
});

test('an account with a role outside the caller\'s write scope is readable in part but not managed', async () => {
  const { admin, school1, district1 } = clients;
  const mixed = await makeAccount(admin, 'mixed', [
    { role: 'teacher', org_id: ids.schoolA }, { role: 'teacher', org_id: ids.schoolB }]);
  const seen = expectStatus(await school1.get(`/api/v1/accounts/${mixed.id}`), 200).json;
  assert.equal(seen.managed, false);
  assert.deepEqual(seen.roles.map((r) => r.org.id), [ids.schoolA], 'only the roles in scope are shown');
  assert.equal(expectStatus(await admin.get(`/api/v1/accounts/${mixed.id}`), 200).json.managed, true);
  for (const c of [school1, district1]) {
    const missing = await c.patch(`/api/v1/accounts/${MISSING_ID}`, { display_name: 'x' });
    const res = await c.patch(`/api/v1/accounts/${mixed.id}`, { display_name: 'x' });
    assert.equal(res.status, 404);
    assert.equal(res.text, missing.text);
    const pw = await c.post(`/api/v1/accounts/${mixed.id}/password`, { password: 'Other-pass-2026' });
    assert.equal(pw.status, 404);
    const role = await c.post(`/api/v1/accounts/${mixed.id}/roles`, { role: 'teacher', org_id: ids.classA });
    assert.equal(role.status, 404);
  }
  expectStatus(await new Client(srv.base).login(mixed.login, PW), 200, 'the password is unchanged');
});

test('POST /accounts/{id}/password: an administrator\'s reset ends the sessions and sets must_change_password', async () => {
  const { school1 } = clients;
  const acc = await makeAccount(school1, 'reset', [{ role: 'teacher', org_id: ids.schoolA }]);
  const user = await loginAs(srv.base, acc.login, PW);
  expectError(await school1.post(`/api/v1/accounts/${acc.id}/password`, { password: 'short1' }), 400, 'password_too_short');
  expectError(await school1.post(`/api/v1/accounts/${acc.id}/password`, { password: 'abcdefghijkl' }), 400, 'password_too_simple');
  expectError(await school1.post(`/api/v1/accounts/${acc.id}/password`, { password: 'Reset-pass-2026', extra: 1 }), 400, 'unknown_field');
  expectError(await school1.post(`/api/v1/accounts/${acc.id}/password`, {}), 400, 'missing_field');
  expectStatus(await user.get('/api/v1/me'), 200, 'refused resets changed nothing');

  const doc = expectStatus(await school1.post(`/api/v1/accounts/${acc.id}/password`, { password: 'Reset-pass-2026' }), 200).json;
  assert.equal(doc.must_change_password, true, 'a reset asks for a new password by default');
  expectError(await user.get('/api/v1/me'), 401, 'unauthenticated');
  expectError(await new Client(srv.base).login(acc.login, PW), 401, 'bad_credentials');
  const again = new Client(srv.base);
  const s = await again.mustLogin(acc.login, 'Reset-pass-2026');
  assert.equal(s.user.must_change_password, true);

  const doc2 = expectStatus(await school1.post(`/api/v1/accounts/${acc.id}/password`,
    { password: 'Reset-pass-2027', must_change_password: false }), 200).json;
  assert.equal(doc2.must_change_password, false);
  expectError(await again.get('/api/v1/me'), 401, 'unauthenticated');

  const entries = (await auditOf(ids.schoolA)).filter((e) => e.action === 'account.password_reset' && e.object_id === acc.id);
  assert.equal(entries.length, 2);
  for (const e of entries) assert.doesNotMatch(JSON.stringify(e), /argon2|Reset-pass|password_hash/);

  /* One's own password goes through PUT /me/password, with the old one. */
  expectError(await school1.post(`/api/v1/accounts/${ids.acct.school1}/password`, { password: 'Self-pass-2026' }), 403, 'forbidden');
  expectStatus(await school1.get('/api/v1/me'), 200);
});

test('roles: grant (fits the org, in scope, once), the session sees it at once; revoke keeps the audit; last and own roles stay', async () => {
  const { school1, district1 } = clients;
  const acc = await makeAccount(school1, 'roles', [{ role: 'teacher', org_id: ids.schoolA }]);
  const user = await loginAs(srv.base, acc.login, PW);

  const g = expectStatus(await school1.post(`/api/v1/accounts/${acc.id}/roles`, { role: 'head_teacher', org_id: ids.classA }), 201).json;
  assert.equal(g.role, 'head_teacher');
  assert.equal(g.org.id, ids.classA);
  assert.equal(g.org.kind, 'class');
  const me = expectStatus(await user.get('/api/v1/me'), 200).json;
  assert.ok(me.roles.some((r) => r.role === 'head_teacher' && r.org.id === ids.classA), 'the new role applies at once');

  expectError(await school1.post(`/api/v1/accounts/${acc.id}/roles`, { role: 'head_teacher', org_id: ids.classA }), 409, 'exists');
  expectError(await school1.post(`/api/v1/accounts/${acc.id}/roles`, { role: 'school_admin', org_id: ids.classA }), 400, 'invalid_field');
  expectError(await school1.post(`/api/v1/accounts/${acc.id}/roles`, { role: 'dean', org_id: ids.classA }), 400, 'invalid_field');
  expectError(await school1.post(`/api/v1/accounts/${acc.id}/roles`, { role: 'teacher' }), 400, 'missing_field');
  const missingOrg = await school1.post(`/api/v1/accounts/${acc.id}/roles`, { role: 'teacher', org_id: MISSING_ID });
  expectError(missingOrg, 404, 'not_found');
  const outsideOrg = await school1.post(`/api/v1/accounts/${acc.id}/roles`, { role: 'teacher', org_id: ids.schoolB });
  assert.equal(outsideOrg.status, 404);
  assert.equal(outsideOrg.text, missingOrg.text);
  /* A role above the caller cannot be given, even to an account it manages. */
  assert.equal((await school1.post(`/api/v1/accounts/${acc.id}/roles`, { role: 'district_admin', org_id: ids.districtA })).status, 404);

  /* Revoke: the row goes, the audit keeps it. */
  expectStatus(await school1.del(`/api/v1/accounts/${acc.id}/roles/${g.id}`), 204);
  const after1 = expectStatus(await school1.get(`/api/v1/accounts/${acc.id}`), 200).json;
  assert.deepEqual(after1.roles.map((r) => r.role), ['teacher']);
  const me2 = expectStatus(await user.get('/api/v1/me'), 200).json;
  assert.ok(!me2.roles.some((r) => r.role === 'head_teacher'), 'the revoked role no longer applies');
  const removed = (await auditOf(ids.schoolA)).find((e) => e.action === 'grant.remove' && e.object_id === g.id);
  assert.ok(removed, 'grant.remove is audited');
  assert.equal(removed.before.role, 'head_teacher');
  assert.equal(removed.before.org_id, ids.classA);
  assert.equal(removed.after, null);
  expectError(await school1.del(`/api/v1/accounts/${acc.id}/roles/${g.id}`), 404, 'not_found');

  /* The last role stays (disable the account instead); one's own roles stay. */
  expectError(await school1.del(`/api/v1/accounts/${acc.id}/roles/${after1.roles[0].id}`), 409, 'conflict');
  const own = expectStatus(await school1.get(`/api/v1/accounts/${ids.acct.school1}`), 200).json;
  expectError(await school1.del(`/api/v1/accounts/${ids.acct.school1}/roles/${own.roles[0].id}`), 403, 'forbidden');
  /* A grant id of another account, or of an account outside the scope, is missing. */
  const missing = await district1.del(`/api/v1/accounts/${MISSING_ID}/roles/${MISSING_ID}`);
  expectError(missing, 404, 'not_found');
  const adminDoc = expectStatus(await clients.admin.get(`/api/v1/accounts/${ids.acct.admin}`), 200).json;
  const res = await district1.del(`/api/v1/accounts/${ids.acct.admin}/roles/${adminDoc.roles[0].id}`);
  assert.equal(res.status, 404);
  assert.equal(res.text, missing.text);
  expectError(await school1.del(`/api/v1/accounts/${acc.id}/roles/${own.roles[0].id}`), 404, 'not_found');
  expectStatus(await clients.admin.get('/api/v1/me'), 200);
});

test('GET /orgs/{id}/stats: counts agree with the tree; people-reading roles only', async () => {
  const { admin, district1, student1, parent1, analyst1, teacher1 } = clients;
  const keys = ['districts', 'schools', 'grades', 'classes', 'students', 'teachers', 'oversized_classes'];
  const city = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/stats`), 200).json;
  assert.deepEqual(Object.keys(city).sort(), [...keys].sort());
  for (const k of keys) assert.ok(Number.isInteger(city[k]) && city[k] >= 0, `${k}: ${city[k]}`);
  const cityOrg = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}`), 200).json;
  assert.equal(city.students, cityOrg.n_students, 'students agree with the org\'s own count');
  const districts = (await listAll(admin, `/api/v1/orgs/${ids.city}/children`, 500)).filter((o) => o.kind === 'district');
  assert.equal(city.districts, districts.length);

  /* School A, walked by hand: grades, classes, students, oversized classes, teachers. */
  const school = expectStatus(await admin.get(`/api/v1/orgs/${ids.schoolA}/stats`), 200).json;
  const grades = await listAll(admin, `/api/v1/orgs/${ids.schoolA}/children`, 500);
  let classes = 0;
  let students = 0;
  let oversized = 0;
  for (const g of grades) {
    for (const c of await listAll(admin, `/api/v1/orgs/${g.id}/children`, 500)) {
      if (c.closed_on) continue;
      classes += 1;
      students += c.n_students;
      if (c.n_students > 55) oversized += 1;
    }
  }
  assert.equal(school.districts, 0);
  assert.equal(school.schools, 0, 'the node itself is not counted');
  assert.equal(school.grades, grades.filter((g) => !g.closed_on).length);
  assert.equal(school.classes, classes);
  assert.equal(school.students, students);
  assert.equal(school.oversized_classes, oversized);
  const teachers = await listAll(admin, `/api/v1/orgs/${ids.schoolA}/people?role=teacher`, 500);
  assert.equal(school.teachers, new Set(teachers.map((p) => p.id)).size);
  assert.ok(school.teachers > 0 && school.students > 0);

  const dA = expectStatus(await district1.get(`/api/v1/orgs/${ids.districtA}/stats`), 200).json;
  const dB = expectStatus(await admin.get(`/api/v1/orgs/${ids.districtB}/stats`), 200).json;
  assert.ok(dA.schools >= 2 && dA.students >= school.students);
  assert.ok(dA.students + dB.students <= city.students);
  expectStatus(await analyst1.get(`/api/v1/orgs/${ids.schoolB}/stats`), 200);
  const tOrg = teacher1.session.roles.find((r) => r.org).org.id;
  expectStatus(await teacher1.get(`/api/v1/orgs/${tOrg}/stats`), 200);

  /* Students and parents see no counts of people, not even of their own class. */
  for (const c of [student1, parent1]) {
    const missing = await c.get(`/api/v1/orgs/${MISSING_ID}/stats`);
    expectError(missing, 404, 'not_found');
    const res = await c.get(`/api/v1/orgs/${ids.classA}/stats`);
    assert.equal(res.status, 404);
    assert.equal(res.text, missing.text);
  }
  const missing = await district1.get(`/api/v1/orgs/${MISSING_ID}/stats`);
  const outside = await district1.get(`/api/v1/orgs/${ids.districtB}/stats`);
  assert.equal(outside.status, 404);
  assert.equal(outside.text, missing.text);
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
