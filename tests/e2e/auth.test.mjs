// Logging in and out: the session cookie, the session document, error language, session ids,
// CSRF on unsafe methods, login throttling and changing one's password.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, Client, expectStatus, expectError, ADMIN_PW, DEMO_PW, assertErrorsWellFormed,
} from './lib/server.mjs';

let srv;

before(async () => {
  srv = await startServer();
});

after(async () => {
  if (srv) await srv.stop();
});

const CJK = /[\u4e00-\u9fff]/;

function sessionCookie(res) {
  return res.headers.getSetCookie().find((c) => c.startsWith('eb_session='));
}

function assertSessionShape(s, login) {
  assert.deepEqual(Object.keys(s).sort(), ['amr', 'csrf_token', 'roles', 'user']);
  assert.deepEqual(s.amr, ['pwd'], 'a password login without TOTP (totp.test.mjs has the rest)');
  assert.equal(s.user.login, login);
  assert.equal(typeof s.user.id, 'number');
  assert.ok(Number.isInteger(s.user.id) && s.user.id > 0);
  assert.equal(typeof s.user.display_name, 'string');
  assert.ok('person_id' in s.user, 'user.person_id');
  assert.equal(typeof s.user.must_change_password, 'boolean');
  assert.ok(!('password_hash' in s.user), 'the password hash must never be sent');
  assert.ok(Array.isArray(s.roles) && s.roles.length > 0, 'roles');
  for (const r of s.roles) {
    assert.equal(typeof r.role, 'string');
    assert.equal(typeof r.org, 'object');
    assert.ok(Number.isInteger(r.org.id) && r.org.id > 0, 'role org id');
    assert.equal(typeof r.org.name, 'string');
    assert.match(r.org.path, /^\/(\d+\/)+$/, 'role org path');
    assert.ok(r.org.path.endsWith(`/${r.org.id}/`), 'the path ends with the org id');
  }
  assert.equal(typeof s.csrf_token, 'string');
  assert.ok(s.csrf_token.length >= 20, 'csrf token too short');
}

test('login sets an HttpOnly SameSite=Lax session cookie and answers the session document', async () => {
  const c = new Client(srv.base);
  const res = expectStatus(await c.login('admin', ADMIN_PW), 200);
  const cookie = sessionCookie(res);
  assert.ok(cookie, 'no eb_session cookie');
  const attrs = cookie.split(';').map((a) => a.trim().toLowerCase());
  assert.ok(attrs.includes('httponly'), `not HttpOnly: ${cookie}`);
  assert.ok(attrs.includes('samesite=lax'), `not SameSite=Lax: ${cookie}`);
  assert.ok(attrs.includes('path=/'), `cookie path: ${cookie}`);
  assert.ok(!attrs.includes('secure'), 'Secure over plain HTTP would drop the cookie');
  const value = cookie.split(';')[0].slice('eb_session='.length);
  assert.ok(value.length >= 32, 'session id too short to be unguessable');
  assert.match(res.headers.get('cache-control') || '', /no-store/);

  assertSessionShape(res.json, 'admin');
  assert.equal(res.json.user.person_id, null);
  assert.deepEqual(res.json.roles.map((r) => r.role), ['city_admin']);
  assert.equal(res.json.roles[0].org.kind ?? 'city', 'city');
  assert.match(res.json.roles[0].org.path, /^\/\d+\/$/, 'the city is the root');

  const me = expectStatus(await c.get('/api/v1/me'), 200);
  assertSessionShape(me.json, 'admin');
  assert.equal(me.json.csrf_token, res.json.csrf_token, '/me gives the session\'s CSRF token');
  assert.deepEqual(me.json.user, res.json.user);
  assert.deepEqual(me.json.roles, res.json.roles);
});

test('each demo account logs in with its role scoped to an org', async () => {
  const expected = {
    district1: 'district_admin', school1: 'school_admin', teacher1: 'teacher',
    student1: 'student', parent1: 'parent', analyst1: 'analyst',
  };
  for (const [login, role] of Object.entries(expected)) {
    const c = new Client(srv.base);
    const s = await c.mustLogin(login, DEMO_PW);
    assertSessionShape(s, login);
    assert.ok(s.roles.some((r) => r.role === role), `${login} should hold ${role}: ${JSON.stringify(s.roles)}`);
    if (['student1', 'parent1', 'teacher1'].includes(login)) {
      assert.ok(Number.isInteger(s.user.person_id), `${login} is linked to a person`);
    }
  }
});

test('a wrong password answers 401 with the error code, in Chinese by default and English on request', async () => {
  const zh = new Client(srv.base);
  let res = await zh.login('school1', 'Wrong-pass-2026');
  const e1 = expectError(res, 401, 'bad_credentials');
  assert.match(e1.message, CJK, `default message should be Chinese: ${e1.message}`);
  assert.equal(sessionCookie(res), undefined, 'no session cookie on a failed login');

  const en = new Client(srv.base, { lang: 'en' });
  res = await en.login('school1', 'Wrong-pass-2026');
  const e2 = expectError(res, 401, 'bad_credentials');
  assert.doesNotMatch(e2.message, CJK, `English message expected: ${e2.message}`);
  assert.match(e2.message, /[A-Za-z]{3,}/);
  assert.equal(e2.code, e1.code, 'the code does not depend on the language');

  /* The eb_lang cookie wins over Accept-Language. */
  res = await zh.request('POST', '/api/v1/session', {
    json: { login: 'school1', password: 'Wrong-pass-2026' },
    headers: { Cookie: 'eb_lang=en', 'Accept-Language': 'zh-CN' },
  });
  assert.doesNotMatch(expectError(res, 401, 'bad_credentials').message, CJK);

  /* An unknown login answers exactly like a wrong password: no account enumeration. */
  res = await en.login('no-such-user', 'Wrong-pass-2026');
  assert.deepEqual(expectError(res, 401), e2);

  /* The right password still works afterwards (two failures are far below the throttle). */
  await new Client(srv.base).mustLogin('school1', DEMO_PW);
});

test('each login gets a new session id; both sessions are distinct', async () => {
  const c = new Client(srv.base);
  const r1 = expectStatus(await c.login('analyst1', DEMO_PW), 200);
  const v1 = sessionCookie(r1).split(';')[0];
  const csrf1 = r1.json.csrf_token;
  const r2 = expectStatus(await c.login('analyst1', DEMO_PW), 200);
  const v2 = sessionCookie(r2).split(';')[0];
  assert.notEqual(v1, v2, 'the session id must change at every login');
  assert.notEqual(csrf1, r2.json.csrf_token, 'a new session has a new CSRF token');
  /* The session this browser held before logging in again is ended. */
  const old = new Client(srv.base);
  old.cookies.set('eb_session', v1.slice('eb_session='.length));
  expectError(await old.get('/api/v1/me'), 401, 'unauthenticated');
  expectStatus(await c.get('/api/v1/me'), 200);

  /* A login in another browser leaves the first browser's session alone. */
  const other = new Client(srv.base);
  const r3 = expectStatus(await other.login('analyst1', DEMO_PW), 200);
  assert.notEqual(sessionCookie(r3).split(';')[0], v2);
  expectStatus(await c.get('/api/v1/me'), 200);
  expectStatus(await other.get('/api/v1/me'), 200);
});

test('logout answers 204, clears the cookie, and the old cookie no longer works', async () => {
  const c = new Client(srv.base);
  await c.mustLogin('district1', DEMO_PW);
  const token = c.cookies.get('eb_session');
  expectStatus(await c.get('/api/v1/me'), 200);
  const res = expectStatus(await c.del('/api/v1/session'), 204);
  assert.equal(res.text, '');
  const cleared = sessionCookie(res);
  assert.ok(cleared, 'logout should clear the cookie');
  assert.match(cleared, /^eb_session=;|max-age=0/i);
  assert.equal(c.cookies.has('eb_session'), false);

  const replay = new Client(srv.base);
  replay.cookies.set('eb_session', token);
  expectError(await replay.get('/api/v1/me'), 401, 'unauthenticated');
  expectError(await replay.get('/api/v1/orgs/1'), 401, 'unauthenticated');
  /* Logging out twice with the dead cookie is a 401, not a crash. */
  expectError(await replay.del('/api/v1/session', { csrf: 'x'.repeat(43) }), 401);
});

test('garbage or forged session cookies are anonymous', async () => {
  for (const v of ['x', 'A'.repeat(43), 'A'.repeat(500), '"quoted"', '%00%ff']) {
    const c = new Client(srv.base);
    c.cookies.set('eb_session', v);
    expectError(await c.get('/api/v1/me'), 401, 'unauthenticated', `cookie ${v.slice(0, 20)}`);
  }
});

test('unsafe methods need the session\'s CSRF token: missing or wrong answers 403 csrf', async () => {
  const c = new Client(srv.base);
  await c.mustLogin('admin', ADMIN_PW);
  const cityId = c.session.roles[0].org.id;
  const before = expectStatus(await c.get(`/api/v1/orgs/${cityId}/children?limit=500`), 200).json.items.length;
  const body = { parent_id: cityId, kind: 'district', name: 'CSRF区', division_code: '376077' };

  expectError(await c.post('/api/v1/orgs', body, { csrf: false }), 403, 'csrf', 'no token');
  expectError(await c.post('/api/v1/orgs', body, { csrf: 'wrong-token' }), 403, 'csrf', 'wrong token');
  expectError(await c.post('/api/v1/orgs', body, { csrf: `${c.csrf.slice(0, -1)}A` === c.csrf
    ? `${c.csrf.slice(0, -1)}B` : `${c.csrf.slice(0, -1)}A` }), 403, 'csrf', 'one character off');
  expectError(await c.post('/api/v1/orgs', body, { csrf: '' }), 403, 'csrf', 'empty token');
  /* Another session's token is not this session's token. */
  const other = new Client(srv.base);
  await other.mustLogin('admin', ADMIN_PW);
  expectError(await c.post('/api/v1/orgs', body, { csrf: other.csrf }), 403, 'csrf', 'another session\'s token');
  expectError(await c.del('/api/v1/session', { csrf: false }), 403, 'csrf', 'logout without token');
  expectError(await c.put('/api/v1/me/password', { old_password: ADMIN_PW, new_password: 'Never-set-2026' },
    { csrf: false }), 403, 'csrf', 'password change without token');

  const after = expectStatus(await c.get(`/api/v1/orgs/${cityId}/children?limit=500`), 200).json.items.length;
  assert.equal(after, before, 'a refused request must not write');
  /* The session survived the refused logout, and the real token works. */
  expectStatus(await c.get('/api/v1/me'), 200);
  expectStatus(await new Client(srv.base).login('admin', ADMIN_PW), 200, 'the password did not change');
  expectStatus(await c.del('/api/v1/session'), 204);
});

test('throttling: repeated wrong passwords for one login get 429 with Retry-After; other accounts still log in', async () => {
  const target = 'teacher1';
  let throttled = null;
  let failures = 0;
  /* 5 free attempts, then escalating delays: within a dozen quick tries one must be refused. */
  for (let i = 0; i < 12 && !throttled; i++) {
    const res = await new Client(srv.base).login(target, `Wrong-pass-${i}`);
    if (res.status === 429) throttled = res;
    else {
      expectError(res, 401, undefined, `attempt ${i + 1}`);
      failures++;
    }
  }
  assert.ok(throttled, 'no 429 after 12 wrong passwords');
  assert.ok(failures >= 5, `throttled after only ${failures} failures: the first attempts should be free`);
  expectError(throttled, 429, 'throttled');
  const retry = throttled.headers.get('retry-after');
  assert.match(retry || '', /^\d+$/, `Retry-After must be a number of seconds, got ${retry}`);
  assert.ok(Number(retry) >= 1 && Number(retry) <= 15 * 60, `Retry-After ${retry}`);

  /* While throttled, even the right password is refused: the answer reveals nothing. */
  const right = await new Client(srv.base).login(target, DEMO_PW);
  expectError(right, 429, 'throttled', 'right password while throttled');
  assert.equal(sessionCookie(right), undefined);

  /* No global lock: another account from the same address logs in at once. */
  await new Client(srv.base).mustLogin('parent1', DEMO_PW);
  await new Client(srv.base).mustLogin('admin', ADMIN_PW);

  /* After the delay the right password works again. */
  await new Promise((r) => setTimeout(r, (Number(retry) + 0.2) * 1000));
  await new Client(srv.base).mustLogin(target, DEMO_PW);
});

test('changing one\'s password: the old one stops working, the new one works', async () => {
  const login = 'student1';
  const newPw = 'Student-new-2026';
  const c = new Client(srv.base);
  await c.mustLogin(login, DEMO_PW);
  const other = new Client(srv.base);
  await other.mustLogin(login, DEMO_PW);

  /* A wrong old password and a too-weak new one are refused and change nothing. */
  let res = await c.put('/api/v1/me/password', { old_password: 'Not-my-pass-1', new_password: newPw });
  assert.ok(res.status >= 400 && res.status < 500, `wrong old password: ${res.status}`);
  expectError(res, res.status);
  res = await c.put('/api/v1/me/password', { old_password: DEMO_PW, new_password: 'short' });
  expectError(res, 400, undefined, 'too short');
  res = await c.put('/api/v1/me/password', { old_password: DEMO_PW, new_password: 'abcdefghijkl' });
  expectError(res, 400, undefined, 'one character class');
  res = await c.put('/api/v1/me/password', { old_password: DEMO_PW });
  expectError(res, 400, undefined, 'missing new_password');
  expectStatus(await new Client(srv.base).login(login, DEMO_PW), 200, 'nothing changed yet');

  /* docs/API.md says 204; a 200 with the renewed session document is accepted as well. */
  res = await c.put('/api/v1/me/password', { old_password: DEMO_PW, new_password: newPw });
  expectStatus(res, [200, 204], 'change password');
  if (res.status === 200) {
    assert.equal(typeof res.json.csrf_token, 'string');
    c.csrf = res.json.csrf_token;
  }
  /* The changing session goes on (with a fresh id if the cookie was renewed). */
  const me = expectStatus(await c.get('/api/v1/me'), 200);
  c.csrf = me.json.csrf_token;
  /* Other sessions of the account end. */
  expectError(await other.get('/api/v1/me'), 401, 'unauthenticated', 'other session after a password change');

  expectError(await new Client(srv.base).login(login, DEMO_PW), 401, undefined, 'old password');
  await new Client(srv.base).mustLogin(login, newPw);
  /* The audit log of the city shows the change (admin view). */
  const admin = new Client(srv.base);
  await admin.mustLogin('admin', ADMIN_PW);
  const audit = expectStatus(await admin.get(`/api/v1/audit?org=${admin.session.roles[0].org.id}&limit=500`), 200);
  const uid = c.session.user.id;
  assert.ok(audit.json.items.some((e) => /password/.test(e.action) && e.object_id === uid),
    `no password-change entry for account ${uid} in the audit log`);
  for (const e of audit.json.items) {
    assert.doesNotMatch(JSON.stringify(e), /argon2|Student-new-2026|Demo-pass-2026/,
      'the audit log must never hold passwords or hashes');
  }
});

test('changing one\'s password is throttled like the login: wrong old passwords get 429', async () => {
  const login = 'analyst1';
  const c = new Client(srv.base);
  await c.mustLogin(login, DEMO_PW);
  let throttled = null;
  let failures = 0;
  for (let i = 0; i < 12 && !throttled; i++) {
    const res = await c.put('/api/v1/me/password', { old_password: `Wrong-old-${i}`, new_password: 'Analyst-new-2026' });
    if (res.status === 429) throttled = res;
    else {
      expectError(res, 400, 'bad_old_password', `attempt ${i + 1}`);
      failures++;
    }
  }
  assert.ok(throttled, 'no 429 after 12 wrong old passwords');
  assert.ok(failures >= 5, `throttled after only ${failures} failures`);
  assert.match(throttled.headers.get('retry-after') || '', /^\d+$/);
  /* The same counter guards the login form: the guesser gains nothing by switching paths. */
  expectError(await new Client(srv.base).login(login, DEMO_PW), 429, 'throttled', 'login while throttled');
  /* Nothing changed: after the delay the old password still logs in. */
  await new Promise((r) => setTimeout(r, (Number(throttled.headers.get('retry-after')) + 0.2) * 1000));
  await new Client(srv.base).mustLogin(login, DEMO_PW);
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
