// The second factor (TOTP, RFC 6238) on a server with the default policy (--mfa-admins
// required): enrolment and confirmation, logins that need the code, wrong and replayed codes
// (throttled, audited, never a lock), administrators held to enrolment (403 must_enrol_totp),
// disabling, the administrators' reset inside their scope only, and amr in the session document.
// The codes are computed here with node's HMAC-SHA1 (RFC 4226), independently of the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import {
  startServer, serveDb, Client, expectStatus, expectError, assertErrorsWellFormed, ADMIN_PW,
  DEMO_PW, MISSING_ID, PG_BASE, uniq,
} from './lib/server.mjs';
import { runCli, expectExit } from './lib/cli.mjs';

const PW = 'Totp-pass-2026';
const STEP_S = 30;
const tag = uniq();

let srv;
let admin; /* the city administrator, enrolled by the first test */
let adminAuth;
const ids = {};

before(async () => {
  srv = await startServer({ mfaAdmins: null });
});

after(async () => {
  if (srv) await srv.stop();
});

/* ---- an authenticator app in a few lines: RFC 4648 base32, RFC 4226 HOTP ---------------- */

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '')) {
    const v = alphabet.indexOf(ch);
    assert.ok(v >= 0, `not base32: ${s}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function hotp(key, counter) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = crypto.createHmac('sha1', key).update(msg).digest();
  const off = mac[19] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 1e6).padStart(6, '0');
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/** The app of one secret: hands out codes of steps not used yet, as a person would wait for. */
class Authenticator {
  constructor(secret) {
    this.key = base32Decode(secret);
    this.last = -1;
  }

  codeAt(step) { return hotp(this.key, step); }

  /** A code the server must accept now: a step after the last one used, inside its ±1 window. */
  async next() {
    for (;;) {
      const t = Date.now() / 1000;
      const s = Math.floor(t / STEP_S);
      /* The server's clock is this one, read a moment later: its step is s or, near the end of
       * the step, s + 1, so s - 1 is safe only early in the step. */
      const ok = [s - 1, s, s + 1].filter((x) => x > this.last && (x !== s - 1 || t - s * STEP_S < 25));
      if (ok.length) {
        this.last = ok[0];
        return this.codeAt(ok[0]);
      }
      await sleep((s * STEP_S + STEP_S + 1 - t) * 1000);
    }
  }

  /** Six digits that are no code of the steps around now. */
  wrong() {
    const s = Math.floor(Date.now() / 1000 / STEP_S);
    const near = new Set([-3, -2, -1, 0, 1, 2, 3].map((d) => this.codeAt(s + d)));
    let n = Number(this.codeAt(s));
    let c;
    do { n = (n + 1) % 1e6; c = String(n).padStart(6, '0'); } while (near.has(c));
    return c;
  }
}

/* ---- helpers ----------------------------------------------------------------------------- */

async function login(loginName, password, otp) {
  const c = new Client(srv.base);
  const body = { login: loginName, password };
  if (otp !== undefined) body.otp = otp;
  const res = await c.post('/api/v1/session', body, { csrf: false });
  if (res.status === 200) {
    c.csrf = res.json.csrf_token;
    c.session = res.json;
  }
  return { c, res };
}

async function mustLogin(loginName, password, otp) {
  const { c, res } = await login(loginName, password, otp);
  expectStatus(res, 200, `login ${loginName}`);
  return c;
}

function sessionCookie(c) {
  return c.cookies.get('eb_session');
}

/** Enrols the client's account; returns its authenticator. The client goes on with the new
 * session that the confirmation opened. */
async function enrol(c) {
  const start = expectStatus(await c.post('/api/v1/me/totp'), 200, 'start the enrolment').json;
  const auth = new Authenticator(start.secret);
  const done = expectStatus(await c.post('/api/v1/me/totp/confirm', { code: await auth.next() }), 200,
    'confirm the enrolment').json;
  c.csrf = done.csrf_token;
  c.session = done;
  return auth;
}

async function createAccount(suffix, role, orgId) {
  const res = expectStatus(await admin.post('/api/v1/accounts', {
    login: `e2e.totp.${tag}.${suffix}`, password: PW, display_name: `两步${suffix}`,
    must_change_password: false, roles: [{ role, org_id: orgId }],
  }), 201, `create ${suffix}`);
  return { id: res.json.id, login: `e2e.totp.${tag}.${suffix}` };
}

async function auditOf(org) {
  return expectStatus(await admin.get(`/api/v1/audit?org=${org}&limit=200`), 200).json.items;
}

/* ---- tests ------------------------------------------------------------------------------- */

test('an administrator without TOTP is held to enrolment (403 must_enrol_totp) until the first code', async () => {
  const c = await mustLogin('admin', ADMIN_PW);
  const s = c.session;
  assert.deepEqual(s.amr, ['pwd']);
  assert.deepEqual(s.user.totp, { enabled: false, required: true });
  assert.equal(s.user.must_enrol_totp, true);
  ids.city = s.roles.find((r) => r.role === 'city_admin').org.id;
  const me = expectStatus(await c.get('/api/v1/me'), 200).json;
  assert.equal(me.user.must_enrol_totp, true);
  assert.deepEqual(me.amr, ['pwd']);

  expectError(await c.get(`/api/v1/orgs/${ids.city}`), 403, 'must_enrol_totp');
  expectError(await c.get('/api/v1/accounts'), 403, 'must_enrol_totp');
  expectError(await c.get('/api/v1/apps'), 403, 'must_enrol_totp');
  expectError(await c.post('/api/v1/orgs', { parent_id: ids.city, kind: 'district', name: '不该建成' }), 403,
    'must_enrol_totp');
  expectError(await c.get(`/api/v1/orgs/${ids.city}`, { headers: { 'Accept-Language': 'en' } }), 403,
    'must_enrol_totp');

  /* Start, restart: the first secret is gone. */
  const first = expectStatus(await c.post('/api/v1/me/totp'), 200).json;
  assert.match(first.secret, /^[A-Z2-7]{32}$/, 'a 160-bit secret in base32');
  assert.equal(first.otpauth_uri, `otpauth://totp/edubrain:admin?secret=${first.secret}` +
    '&issuer=edubrain&algorithm=SHA1&digits=6&period=30');
  const second = expectStatus(await c.post('/api/v1/me/totp'), 200).json;
  assert.notEqual(second.secret, first.secret);
  const old = new Authenticator(first.secret);
  adminAuth = new Authenticator(second.secret);
  expectError(await c.post('/api/v1/me/totp/confirm', { code: await old.next() }), 400, 'bad_otp');
  expectError(await c.post('/api/v1/me/totp/confirm', { code: adminAuth.wrong() }), 400, 'bad_otp');
  expectError(await c.post('/api/v1/me/totp/confirm', { code: 'abcdef' }), 400, 'bad_otp');
  expectError(await c.post('/api/v1/me/totp/confirm', {}), 400, 'missing_field');
  /* Still held: a pending enrolment is no second factor. */
  expectError(await c.get(`/api/v1/orgs/${ids.city}`), 403, 'must_enrol_totp');
  const pending = expectStatus(await c.get('/api/v1/me'), 200).json;
  assert.equal(pending.user.totp.enabled, false);

  /* Another browser of the same account, logged in with the password alone. */
  const other = await mustLogin('admin', ADMIN_PW);
  const before0 = sessionCookie(c);
  const done = expectStatus(await c.post('/api/v1/me/totp/confirm', { code: await adminAuth.next() }), 200).json;
  assert.deepEqual(done.amr, ['pwd', 'otp']);
  assert.deepEqual(done.user.totp, { enabled: true, required: true });
  assert.equal(done.user.must_enrol_totp, false);
  assert.notEqual(sessionCookie(c), before0, 'the confirmation opens a new session id');
  c.csrf = done.csrf_token;
  expectError(await other.get('/api/v1/me'), 401, 'unauthenticated', 'the other session ended');
  const stale = new Client(srv.base);
  stale.cookies.set('eb_session', before0);
  expectError(await stale.get('/api/v1/me'), 401, 'unauthenticated', 'the old session id ended');

  expectStatus(await c.get(`/api/v1/orgs/${ids.city}`), 200, 'enrolled: the whole API');
  expectError(await c.post('/api/v1/me/totp'), 409, 'totp_already_enabled');
  expectError(await c.post('/api/v1/me/totp/confirm', { code: adminAuth.wrong() }), 409, 'totp_already_enabled');
  /* Refused before anything is checked (so no code of the app is spent here). */
  expectError(await c.post('/api/v1/me/totp/disable', { password: ADMIN_PW, code: adminAuth.wrong() }), 403,
    'totp_required');
  const me2 = expectStatus(await c.get('/api/v1/me'), 200).json;
  assert.equal(me2.user.totp.enabled, true, 'disabling was refused');
  admin = c;

  /* The audit keeps the enrolment (never the secret). */
  const entries = (await auditOf(ids.city)).filter((e) => e.object_id === s.user.id && e.action.startsWith('totp.'));
  assert.ok(entries.some((e) => e.action === 'totp.enable'), JSON.stringify(entries));
  assert.ok(entries.some((e) => e.action === 'totp.enrol'));
  for (const e of entries) assert.doesNotMatch(JSON.stringify(e), new RegExp(second.secret));
});

test('the demo administrators and their schools', async () => {
  /* school1's school and a school of the other district, for the accounts below. */
  const { res } = await login('school1', DEMO_PW);
  expectStatus(res, 200);
  ids.schoolA = res.json.roles.find((r) => r.role === 'school_admin').org.id;
  ids.school1 = res.json.user.id;
  const { res: d } = await login('district1', DEMO_PW);
  const districtA = d.json.roles.find((r) => r.role === 'district_admin').org.id;
  const districts = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/children?limit=500`), 200).json.items;
  const districtB = districts.find((x) => x.id !== districtA && x.kind === 'district');
  const schoolsB = expectStatus(await admin.get(`/api/v1/orgs/${districtB.id}/children?limit=500`), 200).json.items;
  ids.schoolB = schoolsB.find((x) => x.kind === 'school').id;
  assert.ok(ids.schoolA && ids.schoolB);
});

test('a teacher may enrol (optional); then every login needs a fresh code; amr in /me', async () => {
  const t = await createAccount('t1', 'teacher', ids.schoolA);
  ids.t1 = t;
  const c = await mustLogin(t.login, PW);
  assert.deepEqual(c.session.amr, ['pwd']);
  assert.deepEqual(c.session.user.totp, { enabled: false, required: false });
  assert.equal(c.session.user.must_enrol_totp, false);
  expectStatus(await c.get(`/api/v1/orgs/${ids.schoolA}`), 200, 'a teacher is not held');
  const start = expectStatus(await c.post('/api/v1/me/totp'), 200).json;
  assert.equal(start.otpauth_uri, `otpauth://totp/edubrain:${encodeURIComponent(t.login)}?secret=${start.secret}` +
    '&issuer=edubrain&algorithm=SHA1&digits=6&period=30');
  const auth = new Authenticator(start.secret);
  /* Until confirmed, logins need no code. */
  expectStatus((await login(t.login, PW)).res, 200, 'pending enrolment: password alone');
  const done = expectStatus(await c.post('/api/v1/me/totp/confirm', { code: await auth.next() }), 200).json;
  assert.deepEqual(done.amr, ['pwd', 'otp']);
  assert.deepEqual(done.user.totp, { enabled: true, required: false });
  ids.t1.auth = auth;

  expectError((await login(t.login, PW)).res, 401, 'otp_required');
  expectError((await login(t.login, PW, null)).res, 401, 'otp_required', 'null is no code');
  expectError((await login(t.login, 'Wrong-pass-2026', await auth.next())).res, 401, 'bad_credentials',
    'a wrong password with a right code');
  /* That code was not taken (the password failed first): it still logs in once. */
  const last = auth.last;
  const code = auth.codeAt(last);
  const ok = await mustLogin(t.login, PW, code);
  assert.deepEqual(ok.session.amr, ['pwd', 'otp']);
  const me = expectStatus(await ok.get('/api/v1/me'), 200).json;
  assert.deepEqual(me.amr, ['pwd', 'otp']);
  assert.deepEqual(me.user.totp, { enabled: true, required: false });
  expectError((await login(t.login, PW, code)).res, 401, 'bad_otp', 'the same code twice');
  expectError((await login(t.login, PW, auth.wrong())).res, 401, 'bad_otp', 'a wrong code');
  expectError((await login(t.login, PW, '12345')).res, 401, 'bad_otp', 'five digits');
  expectStatus((await login(t.login, PW, (await auth.next()).replace(/^(\d{3})/, '$1 '))).res, 200,
    'the space apps show in the middle is ignored');

  const failed = (await auditOf(ids.schoolA)).filter((e) => e.action === 'session.login_failed' && e.object_id === t.id);
  const whys = failed.map((e) => e.after && e.after.why).sort();
  assert.deepEqual(whys, ['bad_otp', 'bad_otp', 'bad_password', 'replayed_otp'], JSON.stringify(failed));
});

test('asking for the code is no failure; wrong codes are throttled with escalating delays, never a lock', async () => {
  const t = await createAccount('t2', 'teacher', ids.schoolA);
  const c = await mustLogin(t.login, PW);
  const auth = await enrol(c);
  /* Eight password-only logins: counted, the sixth would be throttled. */
  for (let i = 0; i < 8; i++) expectError((await login(t.login, PW)).res, 401, 'otp_required', `attempt ${i + 1}`);
  const statuses = [];
  let throttled;
  for (let i = 0; i < 10 && !throttled; i++) {
    const { res } = await login(t.login, PW, auth.wrong());
    statuses.push(res.status);
    if (res.status === 429) throttled = res;
    else expectError(res, 401, 'bad_otp', `wrong code ${i + 1}`);
  }
  assert.ok(throttled, `no 429 after ${statuses.length} wrong codes: ${statuses.join(' ')}`);
  assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401], 'five free attempts');
  expectError(throttled, 429, 'throttled');
  const wait = Number(throttled.headers.get('retry-after'));
  assert.ok(wait >= 1 && wait <= 16, `Retry-After ${wait}`);
  /* The right code is refused while the delay runs... */
  expectError((await login(t.login, PW, await auth.next())).res, 429, 'throttled');
  /* ...and a right one works once it is over: a delay, not a lock. */
  await sleep(wait * 1000 + 1100);
  const ok = await mustLogin(t.login, PW, await auth.next());
  assert.deepEqual(ok.session.amr, ['pwd', 'otp']);
});

test('disabling needs the password and a code; the session keeps its amr across a password change', async () => {
  const t = await createAccount('t3', 'teacher', ids.schoolA);
  const c = await mustLogin(t.login, PW);
  const auth = await enrol(c);
  const changed = expectStatus(await c.put('/api/v1/me/password', { old_password: PW, new_password: 'Totp-pass-2027' }),
    200).json;
  assert.deepEqual(changed.amr, ['pwd', 'otp'], 'a password change keeps the methods of the session');
  c.csrf = changed.csrf_token;
  expectError(await c.post('/api/v1/me/totp/disable', { password: PW, code: await auth.next() }), 400, 'bad_password');
  expectError(await c.post('/api/v1/me/totp/disable', { password: 'Totp-pass-2027', code: auth.wrong() }), 400, 'bad_otp');
  expectError(await c.post('/api/v1/me/totp/disable', { password: 'Totp-pass-2027' }), 400, 'missing_field');
  expectStatus(await c.post('/api/v1/me/totp/disable', { password: 'Totp-pass-2027', code: await auth.next() }), 204);
  const me = expectStatus(await c.get('/api/v1/me'), 200).json;
  assert.deepEqual(me.user.totp, { enabled: false, required: false });
  expectError(await c.post('/api/v1/me/totp/disable', { password: 'Totp-pass-2027', code: await auth.next() }), 409,
    'totp_not_enabled');
  const again = await mustLogin(t.login, 'Totp-pass-2027');
  assert.deepEqual(again.session.amr, ['pwd'], 'no code needed any more');
  const entries = (await auditOf(ids.schoolA)).filter((e) => e.object_id === t.id && e.action === 'totp.disable');
  assert.equal(entries.length, 1);
});

test('an administrator resets a lost second factor inside the scope; outside it answers like a missing account', async () => {
  /* school1 must enrol before doing anything. */
  const s1 = await mustLogin('school1', DEMO_PW);
  expectError(await s1.del(`/api/v1/accounts/${ids.t1.id}/totp`), 403, 'must_enrol_totp');
  await enrol(s1);

  const tb = await createAccount('tb', 'teacher', ids.schoolB);
  const cb = await mustLogin(tb.login, PW);
  const authB = await enrol(cb);

  const missing = await s1.del(`/api/v1/accounts/${MISSING_ID}/totp`);
  expectError(missing, 404, 'not_found');
  const outside = await s1.del(`/api/v1/accounts/${tb.id}/totp`);
  assert.equal(outside.status, missing.status);
  assert.equal(outside.text, missing.text, 'another district\'s account answers like a missing one');
  expectError((await login(tb.login, PW)).res, 401, 'otp_required', 'the refused reset changed nothing');
  expectStatus(await cb.get('/api/v1/me'), 200, 'and ended no session');

  /* Not by a teacher, not for oneself. */
  const t1c = await mustLogin(ids.t1.login, PW, await ids.t1.auth.next());
  const byTeacher = await t1c.del(`/api/v1/accounts/${ids.school1}/totp`);
  expectError(byTeacher, [403, 404], undefined, 'a teacher resets');
  expectError(await s1.del(`/api/v1/accounts/${ids.school1}/totp`), 403, 'forbidden', 'one\'s own reset');

  /* Inside the scope: the factor is gone and so are the sessions (whoever has the phone). */
  expectStatus(await s1.del(`/api/v1/accounts/${ids.t1.id}/totp`), 204);
  expectError(await t1c.get('/api/v1/me'), 401, 'unauthenticated', 'the reset ends the sessions');
  const fresh = await mustLogin(ids.t1.login, PW);
  assert.deepEqual(fresh.session.amr, ['pwd']);
  assert.deepEqual(fresh.session.user.totp, { enabled: false, required: false });
  const entries = (await auditOf(ids.schoolA)).filter((e) => e.action === 'totp.reset' && e.object_id === ids.t1.id);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].login, 'school1');
  assert.equal(entries[0].after.sessions_ended, true);

  /* The city administrator covers the other district. */
  expectStatus(await admin.del(`/api/v1/accounts/${tb.id}/totp`), 204);
  expectError(await cb.get('/api/v1/me'), 401, 'unauthenticated');
  expectStatus((await login(tb.login, PW)).res, 200, 'reset: the password alone again');
  void authB;
});

test('a reset administrator is held to enrolment again at the next login', async () => {
  const d1 = await mustLogin('district1', DEMO_PW);
  assert.equal(d1.session.user.must_enrol_totp, true);
  const auth = await enrol(d1);
  expectStatus(await admin.del(`/api/v1/accounts/${d1.session.user.id}/totp`), 204);
  expectError(await d1.get('/api/v1/me'), 401, 'unauthenticated');
  const again = await mustLogin('district1', DEMO_PW);
  assert.equal(again.session.user.must_enrol_totp, true);
  expectError(await again.get(`/api/v1/orgs/${ids.schoolA}`), 403, 'must_enrol_totp');
  void auth;
});

test('a city administrator with nobody above: `edubrain user reset-totp` from the shell', async () => {
  if (srv.db.startsWith('postgres')) return; /* the CLI is the same code; it runs on the SQLite file here */
  const acc = await createAccount('city2', 'city_admin', admin.session.roles[0].org.id);
  const c = await mustLogin(acc.login, PW);
  assert.equal(expectStatus(await admin.get(`/api/v1/accounts/${acc.id}`), 200).json.totp_enabled, false);
  await enrol(c);
  assert.equal(expectStatus(await admin.get(`/api/v1/accounts/${acc.id}`), 200).json.totp_enabled, true);
  const listed = expectStatus(await admin.get(`/api/v1/accounts?login=${encodeURIComponent(acc.login)}`), 200).json.items;
  assert.equal(listed.find((a) => a.id === acc.id).totp_enabled, true, 'the list says it too');
  let res = await runCli(['user', 'reset-totp', '--db', srv.db, '--login', acc.login]);
  expectExit(res, 0, 'reset-totp');
  assert.match(res.stdout, /second factor removed; sessions ended/);
  expectError(await c.get('/api/v1/me'), 401, 'unauthenticated', 'the session ended');
  const again = await mustLogin(acc.login, PW);
  assert.equal(again.session.user.must_enrol_totp, true, 'held to enrol a new factor');
  assert.equal(expectStatus(await admin.get(`/api/v1/accounts/${acc.id}`), 200).json.totp_enabled, false);
  res = await runCli(['user', 'reset-totp', '--db', srv.db, '--login', acc.login]);
  expectExit(res, 0, 'reset-totp again');
  assert.match(res.stdout, /had no second factor/);
  res = await runCli(['user', 'reset-totp', '--db', srv.db, '--login', `nobody-${tag}`]);
  expectExit(res, 1, 'unknown login');
  assert.match(res.stderr, /no login/);
});

test('--mfa-admins optional: administrators are not held and may turn TOTP off', async () => {
  const keyArgs = PG_BASE ? ['--key-file', path.join(srv.dir, 'city.key')] : [];
  const opt = await serveDb(srv.db, { cwd: srv.dir, extraArgs: keyArgs, mfaAdmins: 'optional' });
  try {
    const c = new Client(opt.base);
    const s = expectStatus(await c.post('/api/v1/session', { login: 'analyst1', password: DEMO_PW }, { csrf: false }),
      200).json;
    assert.equal(s.user.totp.required, false);
    const d = new Client(opt.base);
    const ds = expectStatus(await d.post('/api/v1/session', { login: 'district1', password: DEMO_PW }, { csrf: false }),
      200).json;
    d.csrf = ds.csrf_token;
    assert.deepEqual(ds.user.totp, { enabled: false, required: false });
    assert.equal(ds.user.must_enrol_totp, false);
    expectStatus(await d.get(`/api/v1/orgs/${ids.schoolA}`), 200, 'not held under the optional policy');
    /* An enrolled administrator still needs the code, and may disable it here. */
    const a = new Client(opt.base);
    expectError(await a.post('/api/v1/session', { login: 'admin', password: ADMIN_PW }, { csrf: false }), 401,
      'otp_required');
    const as = expectStatus(await a.post('/api/v1/session', { login: 'admin', password: ADMIN_PW,
      otp: await adminAuth.next() }, { csrf: false }), 200).json;
    a.csrf = as.csrf_token;
    assert.deepEqual(as.user.totp, { enabled: true, required: false });
    expectStatus(await a.post('/api/v1/me/totp/disable', { password: ADMIN_PW, code: await adminAuth.next() }), 204);
  } finally {
    await opt.stop();
  }
  /* Back on the required server, the city administrator is held again at the next login. */
  const back = await mustLogin('admin', ADMIN_PW);
  assert.equal(back.session.user.must_enrol_totp, true);
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
