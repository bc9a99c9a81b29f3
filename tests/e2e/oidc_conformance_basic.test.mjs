// The OpenID Foundation's "Basic OP" certification plan, module by module (each test is named
// after its module), run by a real relying-party library: openid-client with ID-token
// signature checks on (enableNonRepudiationChecks). After the plan: amr and acr with a second
// factor (acr_values, an essential acr, the step-up login) and the logout confirmation page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as oidc from 'openid-client';
import { startServer, loginAs, Client, expectStatus, uniq, DEMO_PW, PG_BASE } from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';
import {
  CB, BYE, form, registerApp, configFor, authorize, callback, loginPage, loginAndContinue, codeFlow,
  exchange, postForm, basic, jwtPayload, totp,
} from './lib/oidc.mjs';

/* The provider's clock is moved by writing an offset (seconds) into this file: the server reads
 * it in EB_TESTING builds only (eb__oidc_now), so oidcc-codereuse-30seconds needs no real wait. */
const clockFile = path.join(fs.mkdtempSync('/tmp/eb-oidc-clock-'), 'offset');
process.env.EDUBRAIN_TEST_CLOCK_FILE = clockFile;

const tag = uniq();
let srv;
let ids;
let admin;
let app; /* first-party, confidential (client_secret_basic / client_secret_post) */
let config;
let teacher; /* teacher1, logged in with a password */

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });
/** GET /oidc/userinfo with a bearer token: { status, headers, json }. */
async function userinfo(accessToken) {
  const res = await fetch(`${srv.base}/oidc/userinfo`, { headers: { Authorization: `Bearer ${accessToken}` } });
  return { status: res.status, headers: res.headers, json: res.status === 200 ? await res.json() : null };
}

/** Keeps the new session a password change or a TOTP confirmation started. */
function renewed(user, res) {
  user.csrf = res.json.csrf_token;
  user.session = res.json;
}

before(async () => {
  srv = await startServer();
  ({ ids } = await discoverCity(srv.base));
  admin = await loginAs(srv.base, 'admin');
  app = await registerApp(admin, ids.city, `basic-${tag}`, { first_party: true });
  config = await configFor(srv.base, app);
  teacher = await loginAs(srv.base, 'teacher1');
});

after(async () => {
  fs.rmSync(path.dirname(clockFile), { recursive: true, force: true });
  if (srv) await srv.stop();
});

/** The ID token's claims every module checks (OIDC-Core 3.1.3.7). */
function checkIdToken(tokens, user, { nonce } = {}) {
  const c = tokens.claims();
  const meta = config.serverMetadata();
  assert.equal(c.iss, meta.issuer);
  assert.equal(c.aud, app.client_id);
  assert.equal(c.sub, String(user.session.user.id));
  assert.ok(Number.isInteger(c.iat) && c.exp > c.iat, `iat ${c.iat} exp ${c.exp}`);
  assert.ok(Math.abs(c.iat - Date.now() / 1000) < 60, 'iat is now');
  assert.ok(Number.isInteger(c.auth_time) && c.auth_time <= c.iat, `auth_time ${c.auth_time}`);
  assert.ok(c.at_hash, 'at_hash');
  if (nonce !== undefined) assert.equal(c.nonce, nonce);
  return c;
}

/* ---- Basic OP ------------------------------------------------------------------------------ */

test('oidcc-server', async () => {
  const nonce = oidc.randomNonce();
  const { tokens, loc } = await codeFlow(teacher, config, { nonce });
  assert.equal(loc.searchParams.get('iss'), config.serverMetadata().issuer, 'RFC 9207 iss');
  const c = checkIdToken(tokens, teacher, { nonce });
  assert.deepEqual(c.amr, ['pwd']);
  assert.equal(c.acr, '1');
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url'));
  assert.equal(header.alg, 'RS256');
  assert.ok(header.kid);
  const info = await oidc.fetchUserInfo(config, tokens.access_token, c.sub);
  assert.equal(info.sub, c.sub);
});

test('oidcc-response-type-missing', async () => {
  const res = await teacher.get(`/oidc/authorize?${form({
    client_id: app.client_id, redirect_uri: CB, scope: 'openid', state: 'rt', nonce: 'n' })}`);
  const loc = callback(res);
  assert.equal(loc.searchParams.get('error'), 'invalid_request');
  assert.equal(loc.searchParams.get('state'), 'rt');
  assert.equal(loc.searchParams.get('code'), null);
});

test('oidcc-userinfo-get', async () => {
  const { tokens } = await codeFlow(teacher, config, { scope: 'openid profile' });
  const res = await userinfo(tokens.access_token);
  assert.equal(res.status, 200);
  assert.equal(res.json.sub, tokens.claims().sub);
  assert.equal(res.json.preferred_username, 'teacher1');
  assert.equal(res.headers.get('cache-control'), 'no-store');
});

test('oidcc-userinfo-post-header', async () => {
  const { tokens } = await codeFlow(teacher, config, { scope: 'openid profile' });
  const res = await postForm(srv.base, '/oidc/userinfo', {}, { Authorization: `Bearer ${tokens.access_token}` });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.sub, tokens.claims().sub);
  assert.equal(res.json.preferred_username, 'teacher1');
});

test('oidcc-userinfo-post-body', async () => {
  const { tokens } = await codeFlow(teacher, config, { scope: 'openid profile' });
  const res = await postForm(srv.base, '/oidc/userinfo', { access_token: tokens.access_token });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.sub, tokens.claims().sub);
  assert.equal(res.json.preferred_username, 'teacher1');
  const bad = await postForm(srv.base, '/oidc/userinfo', { access_token: 'x'.repeat(43) });
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get('www-authenticate'), /error="invalid_token"/);
});

test('oidcc-ensure-request-without-nonce-succeeds-for-code-flow', async () => {
  const { tokens } = await codeFlow(teacher, config, { nonce: null });
  const c = checkIdToken(tokens, teacher);
  assert.equal(c.nonce, undefined, 'no nonce asked, none returned');
});

/** The claims of userinfo for scope (nothing else asked). */
async function scopeClaims(scope) {
  const { tokens } = await codeFlow(teacher, config, { scope });
  assert.equal(tokens.scope, scope.split(' ').sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)).join(' '));
  return oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
}
const ORDER = ['openid', 'profile', 'email', 'phone', 'address', 'edubrain', 'offline_access'];
const PROFILE = ['name', 'preferred_username', 'locale', 'zoneinfo'];
let teacherPhone;

test('oidcc-scope-profile', async () => {
  const info = await scopeClaims('openid profile');
  for (const k of PROFILE) assert.ok(info[k], `${k} in ${JSON.stringify(info)}`);
  assert.equal(info.preferred_username, 'teacher1');
  const person = expectStatus(await admin.get(`/api/v1/people/${ids.teacher1}`), 200).json;
  assert.equal(info.name, person.name);
  assert.equal(info.phone_number, undefined, 'no phone without the phone scope');
  assert.equal(info.roles, undefined, 'no school claims without the edubrain scope');
});

test('oidcc-scope-email', async () => {
  /* No account keeps an e-mail address: the scope is accepted and returns nothing more. */
  const info = await scopeClaims('openid email');
  assert.deepEqual(Object.keys(info).sort(), ['sub']);
});

test('oidcc-scope-address', async () => {
  /* Nor a postal address. */
  const info = await scopeClaims('openid address');
  assert.deepEqual(Object.keys(info).sort(), ['sub']);
});

test('oidcc-scope-phone', async () => {
  const person = expectStatus(await admin.get(`/api/v1/people/${ids.teacher1}`), 200).json;
  assert.match(person.phone, /^1\d{10}$/, 'the demo teacher has a mobile number');
  teacherPhone = person.phone;
  const info = await scopeClaims('openid phone');
  assert.equal(info.phone_number, teacherPhone);
  assert.equal(info.phone_number_verified, false);
  assert.equal(info.name, undefined);
});

test('oidcc-scope-all', async () => {
  const info = await scopeClaims('openid profile email address phone');
  for (const k of PROFILE) assert.ok(info[k], k);
  assert.equal(info.phone_number, teacherPhone);
  assert.equal(info.roles, undefined);
});

test('oidcc-ensure-other-scope-order-succeeds', async () => {
  for (const scope of ['email openid', 'phone profile openid']) {
    const { tokens } = await codeFlow(teacher, config, { scope });
    checkIdToken(tokens, teacher);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
    if (scope.includes('profile')) assert.equal(info.preferred_username, 'teacher1');
  }
});

for (const display of ['page', 'popup']) {
  test(`oidcc-display-${display}`, async () => {
    const { tokens } = await codeFlow(teacher, config, { display });
    checkIdToken(tokens, teacher);
    /* Without a session the login page comes first and keeps the parameter for the way back. */
    const anon = new Client(srv.base);
    const res = await authorize(anon, config, { display, state: 'd' });
    const next = new URLSearchParams(loginPage(res, srv.base).searchParams.get('next').split('?')[1]);
    assert.equal(next.get('display'), display);
  });
}

test('oidcc-prompt-login', async () => {
  const user = await loginAs(srv.base, 'teacher1');
  const first = await codeFlow(user, config);
  await sleep(1100); /* so that the second login's auth_time is later */
  const verifier = oidc.randomPKCECodeVerifier();
  const params = { prompt: 'login', state: oidc.randomState(), nonce: oidc.randomNonce(),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' };
  const res = await authorize(user, config, params);
  assert.equal(loginPage(res, srv.base).searchParams.get('reauth'), '1', 'a new login is asked for');
  const back = await loginAndContinue(user, res, 'teacher1', DEMO_PW);
  const tokens = await exchange(config, callback(back.res), params, verifier);
  const c = checkIdToken(tokens, user, { nonce: params.nonce });
  assert.ok(c.auth_time > first.tokens.claims().auth_time,
    `auth_time ${c.auth_time} after the first login's ${first.tokens.claims().auth_time}`);
});

test('oidcc-prompt-none-not-logged-in', async () => {
  const anon = new Client(srv.base);
  const res = await authorize(anon, config, { prompt: 'none', state: 'pn', nonce: 'n' });
  const loc = callback(res);
  assert.equal(loc.searchParams.get('error'), 'login_required');
  assert.equal(loc.searchParams.get('state'), 'pn');
  assert.equal(loc.searchParams.get('code'), null);
});

test('oidcc-prompt-none-logged-in', async () => {
  const first = await codeFlow(teacher, config);
  const { tokens } = await codeFlow(teacher, config, { prompt: 'none' });
  const c = checkIdToken(tokens, teacher);
  assert.equal(c.auth_time, first.tokens.claims().auth_time, 'the same login');
});

test('oidcc-max-age-1', async () => {
  const user = await loginAs(srv.base, 'teacher1');
  const first = await codeFlow(user, config);
  await sleep(2100); /* the login is now more than a second old */
  const verifier = oidc.randomPKCECodeVerifier();
  const params = { max_age: '1', state: oidc.randomState(), nonce: oidc.randomNonce(),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' };
  const res = await authorize(user, config, params);
  loginPage(res, srv.base);
  const back = await loginAndContinue(user, res, 'teacher1', DEMO_PW);
  const tokens = await exchange(config, callback(back.res), params, verifier);
  const c = checkIdToken(tokens, user);
  assert.ok(c.auth_time > first.tokens.claims().auth_time, 'a new login');
  assert.ok(Date.now() / 1000 - c.auth_time < 30, 'auth_time is recent');
});

test('oidcc-max-age-10000', async () => {
  const first = await codeFlow(teacher, config);
  const { tokens } = await codeFlow(teacher, config, { max_age: '10000' });
  const c = checkIdToken(tokens, teacher);
  assert.equal(c.auth_time, first.tokens.claims().auth_time, 'no new login needed');
});

test('oidcc-ensure-request-with-unknown-parameter-succeeds', async () => {
  const { tokens } = await codeFlow(teacher, config, { extra: 'foobar', 'x-unknown': '1' });
  checkIdToken(tokens, teacher);
});

test('oidcc-id-token-hint', async () => {
  const first = await codeFlow(teacher, config);
  const { tokens } = await codeFlow(teacher, config, { id_token_hint: first.tokens.id_token, prompt: 'none' });
  assert.equal(checkIdToken(tokens, teacher).sub, first.tokens.claims().sub);
  /* A hint naming another user: no token for the wrong person. */
  const student = await loginAs(srv.base, 'student1');
  const res = await authorize(student, config, { id_token_hint: first.tokens.id_token, prompt: 'none', state: 'h' });
  assert.equal(callback(res).searchParams.get('error'), 'login_required');
});

test('oidcc-login-hint', async () => {
  const anon = new Client(srv.base);
  const res = await authorize(anon, config, { login_hint: 'teacher1', state: 'lh' });
  const page = loginPage(res, srv.base);
  assert.equal(page.searchParams.get('login'), 'teacher1', 'the login page is pre-filled');
  const back = await loginAndContinue(anon, res, 'teacher1', DEMO_PW);
  assert.ok(callback(back.res).searchParams.get('code'));
});

test('oidcc-ui-locales', async () => {
  const { tokens } = await codeFlow(teacher, config, { ui_locales: 'zh-CN en' });
  checkIdToken(tokens, teacher);
});

test('oidcc-claims-locales', async () => {
  const { tokens } = await codeFlow(teacher, config, { claims_locales: 'zh-CN en', scope: 'openid profile' });
  const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
  assert.equal(info.locale, 'zh-CN');
});

test('oidcc-ensure-request-with-acr-values-succeeds', async () => {
  const { tokens } = await codeFlow(teacher, config, { acr_values: '1 2' });
  const c = checkIdToken(tokens, teacher);
  assert.equal(c.acr, '1', 'a password login is level 1');
});

/** A code and its token request, sent by hand (the second use is the point). */
async function codeAndBody() {
  const verifier = oidc.randomPKCECodeVerifier();
  const loc = callback(await authorize(teacher, config, {
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'c' }));
  return { grant_type: 'authorization_code', code: loc.searchParams.get('code'), redirect_uri: CB, code_verifier: verifier };
}

async function expectReuseRevokes(body, first) {
  const second = await postForm(srv.base, '/oidc/token', body, basic(app));
  assert.equal(second.status, 400);
  assert.equal(second.json.error, 'invalid_grant');
  const ui = await userinfo(first.json.access_token);
  assert.equal(ui.status, 401, 'the access token of the reused code is revoked');
  const rt = await postForm(srv.base, '/oidc/token', { grant_type: 'refresh_token', refresh_token: first.json.refresh_token }, basic(app));
  assert.equal(rt.json.error, 'invalid_grant', 'and its refresh token');
}

test('oidcc-codereuse', async () => {
  const body = await codeAndBody();
  const first = await postForm(srv.base, '/oidc/token', body, basic(app));
  assert.equal(first.status, 200, first.text);
  await expectReuseRevokes(body, first);
});

test('oidcc-codereuse-30seconds', async () => {
  const body = await codeAndBody();
  const first = await postForm(srv.base, '/oidc/token', body, basic(app));
  assert.equal(first.status, 200, first.text);
  const unused = await codeAndBody();
  /* 31 seconds later on the provider's clock (see clockFile): the code is still known as used. */
  fs.writeFileSync(clockFile, '31\n');
  try {
    await expectReuseRevokes(body, first);
    /* The clock did move: 61 s on, a code never used is past its 60 s lifetime. */
    fs.writeFileSync(clockFile, '61\n');
    const late = await postForm(srv.base, '/oidc/token', unused, basic(app));
    assert.equal(late.json.error, 'invalid_grant');
    assert.equal(late.json.error_description, 'code invalid or expired');
  } finally {
    fs.rmSync(clockFile, { force: true });
  }
});

test('oidcc-ensure-registered-redirect-uri', async () => {
  const res = await teacher.get(`/oidc/authorize?${form({ client_id: app.client_id, redirect_uri: `${CB}/other`,
    response_type: 'code', scope: 'openid', state: 'r' })}`);
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null, 'never redirected to an unregistered URI');
  assert.match(res.headers.get('content-type'), /^text\/html/);
  assert.match(res.text, /redirect_uri/);
});

test('oidcc-ensure-post-request-succeeds', async () => {
  const verifier = oidc.randomPKCECodeVerifier();
  const params = { client_id: app.client_id, redirect_uri: CB, response_type: 'code', scope: 'openid',
    state: oidc.randomState(), nonce: oidc.randomNonce(),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' };
  const res = await teacher.request('POST', '/oidc/authorize', {
    body: form(params), headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, csrf: false,
  });
  const tokens = await exchange(config, callback(res), params, verifier);
  checkIdToken(tokens, teacher, { nonce: params.nonce });
});

test('oidcc-server-client-secret-post', async () => {
  const post = await configFor(srv.base, app, { auth: oidc.ClientSecretPost(app.client_secret) });
  const { tokens } = await codeFlow(teacher, post);
  checkIdToken(tokens, teacher);
  /* The secret really is read from the body: a wrong one fails. */
  const wrong = await configFor(srv.base, app, { auth: oidc.ClientSecretPost('x'.repeat(43)) });
  await assert.rejects(codeFlow(teacher, wrong), (e) => e.error === 'invalid_client');
});

test('oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported', async () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const request = `${b64({ alg: 'none' })}.${b64({ client_id: app.client_id, redirect_uri: CB,
    response_type: 'code', scope: 'openid', state: 'ro', nonce: 'n' })}.`;
  const res = await teacher.get(`/oidc/authorize?${form({ client_id: app.client_id, redirect_uri: CB,
    response_type: 'code', scope: 'openid', state: 'ro', request })}`);
  const loc = callback(res);
  assert.equal(loc.searchParams.get('error'), 'request_not_supported');
  assert.equal(loc.searchParams.get('state'), 'ro');
  assert.equal(config.serverMetadata().request_parameter_supported, false);
});

test('oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported', async () => {
  const res = await teacher.get(`/oidc/authorize?${form({ client_id: app.client_id, redirect_uri: CB,
    response_type: 'code', scope: 'openid', state: 'ru', request_uri: 'https://rp.example.test/request.jwt' })}`);
  const loc = callback(res);
  assert.equal(loc.searchParams.get('error'), 'request_uri_not_supported');
  assert.equal(loc.searchParams.get('state'), 'ru');
  assert.equal(config.serverMetadata().request_uri_parameter_supported, false);
});

test('oidcc-claims-essential', async () => {
  /* OIDC-Core 5.5: asked-for claims come back whatever the scope (here only openid). */
  const claims = JSON.stringify({ userinfo: { name: { essential: true }, phone_number: null },
    id_token: { preferred_username: { essential: true }, auth_time: { essential: true } } });
  const { tokens } = await codeFlow(teacher, config, { claims });
  const c = checkIdToken(tokens, teacher);
  assert.equal(c.preferred_username, 'teacher1', 'an id_token member goes into the ID token');
  assert.equal(c.name, undefined, 'a userinfo member does not');
  const info = await oidc.fetchUserInfo(config, tokens.access_token, c.sub);
  const person = expectStatus(await admin.get(`/api/v1/people/${ids.teacher1}`), 200).json;
  assert.equal(info.name, person.name);
  assert.equal(info.phone_number, person.phone);
  assert.equal(info.preferred_username, undefined, 'not asked for userinfo, not in the scope');
  assert.equal(info.locale, undefined);
  /* Refreshed ID tokens keep answering the request. */
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal(refreshed.claims().preferred_username, 'teacher1');
  /* Malformed claims go back to the app as invalid_request. */
  for (const bad of ['{"userinfo":', '["name"]', '{"id_token":{"acr":"2"}}']) {
    const res = await authorize(teacher, config, { claims: bad, state: 'cb' });
    const loc = callback(res);
    assert.equal(loc.searchParams.get('error'), 'invalid_request', bad);
    assert.equal(loc.searchParams.get('state'), 'cb');
  }
  /* An essential acr the account cannot reach (no second factor): access_denied (5.5.1.1). */
  const denied = await authorize(teacher, config, {
    claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['2'] } } }), state: 'ea' });
  assert.equal(callback(denied).searchParams.get('error'), 'access_denied');
  /* A sub asked with another user's value never yields a token for this one. */
  const other = await authorize(teacher, config, { prompt: 'none', state: 'sv',
    claims: JSON.stringify({ id_token: { sub: { value: String(admin.session.user.id) } } }) });
  assert.equal(callback(other).searchParams.get('error'), 'login_required');
});

test('oidcc-refresh-token', async () => {
  const { tokens } = await codeFlow(teacher, config, { scope: 'openid profile offline_access' });
  const c0 = tokens.claims();
  assert.ok(tokens.refresh_token);
  const t1 = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  const c1 = t1.claims();
  assert.notEqual(t1.refresh_token, tokens.refresh_token, 'rotated');
  assert.notEqual(t1.access_token, tokens.access_token);
  for (const k of ['iss', 'sub', 'aud', 'auth_time', 'acr', 'sid']) assert.deepEqual(c1[k], c0[k], k);
  assert.deepEqual(c1.amr, c0.amr);
  assert.equal(c1.nonce, undefined, 'no nonce in a refreshed ID token');
  assert.ok(c1.iat >= c0.iat);
  const info = await oidc.fetchUserInfo(config, t1.access_token, c1.sub);
  assert.equal(info.preferred_username, 'teacher1');
  /* Another client cannot use it. */
  const other = await registerApp(admin, ids.city, `other-${tag}`, { first_party: true });
  const bad = await postForm(srv.base, '/oidc/token', { grant_type: 'refresh_token', refresh_token: t1.refresh_token }, basic(other));
  assert.equal(bad.json.error, 'invalid_grant');
});

test('oidcc-ensure-request-with-valid-pkce-succeeds', async () => {
  const { tokens, verifier } = await codeFlow(teacher, config);
  checkIdToken(tokens, teacher);
  assert.ok(verifier.length >= 43);
  /* The same flow with a wrong verifier fails: the check is real. */
  const body = await codeAndBody();
  const bad = await postForm(srv.base, '/oidc/token', { ...body, code_verifier: oidc.randomPKCECodeVerifier() }, basic(app));
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'invalid_grant');
});

/* ---- amr and acr with a second factor ---------------------------------------------------- */

/** Runs SQL on the server's database (sqlite3 or psql): the only way to make a session that
 * predates its account's second factor, which no API can produce. */
function sql(statement) {
  const [cmd, args] = PG_BASE ? ['psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', srv.db, '-c', statement]]
    : ['sqlite3', [srv.db, statement]];
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

test('amr and acr: a login with TOTP is acr 2, carried through refresh; acr_values 2 steps a password session up', async () => {
  const login = `totp.${tag}`;
  const pw = 'Totp-pass-2026';
  expectStatus(await admin.post('/api/v1/accounts', {
    login, password: pw, display_name: '双因素教师', roles: [{ role: 'teacher', org_id: ids.schoolA }],
  }), 201);
  const user = new Client(srv.base);
  await user.mustLogin(login, pw);
  renewed(user, expectStatus(await user.put('/api/v1/me/password', { old_password: pw, new_password: `${pw}x` }), 200));
  const begin = expectStatus(await user.post('/api/v1/me/totp', {}), 200).json;
  const now = Date.now() / 1000;
  renewed(user, expectStatus(await user.post('/api/v1/me/totp/confirm', { code: totp(begin.secret, now) }), 200));
  const sub = String(user.session.user.id);

  /* The confirming browser goes on with a session made with both factors. */
  const { tokens } = await codeFlow(user, config, { acr_values: '2' });
  const c = tokens.claims();
  assert.equal(c.sub, sub);
  assert.deepEqual(c.amr, ['pwd', 'otp']);
  assert.equal(c.acr, '2');
  const t1 = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.deepEqual(t1.claims().amr, ['pwd', 'otp'], 'amr survives the refresh');
  assert.equal(t1.claims().acr, '2');
  assert.equal(t1.claims().auth_time, c.auth_time);

  /* A session of this account made with the password alone (as before the enrolment). */
  await sql(`UPDATE sessions SET amr = 'pwd' WHERE account_id = ${Number(sub)}`);
  const pwdOnly = await codeFlow(user, config);
  assert.deepEqual(pwdOnly.tokens.claims().amr, ['pwd']);
  assert.equal(pwdOnly.tokens.claims().acr, '1');
  /* prompt=none cannot step up: a voluntary acr_values is answered with acr 1, an essential
   * acr claim with login_required. */
  const quiet = await codeFlow(user, config, { acr_values: '2', prompt: 'none' });
  assert.equal(quiet.tokens.claims().acr, '1');
  const essential = JSON.stringify({ id_token: { acr: { essential: true, value: '2' } } });
  const none = await authorize(user, config, { claims: essential, prompt: 'none', state: 'e' });
  assert.equal(callback(none).searchParams.get('error'), 'login_required');
  /* Otherwise: a fresh login, in which the login page asks for the code. */
  const verifier = oidc.randomPKCECodeVerifier();
  const params = { claims: essential, state: oidc.randomState(), nonce: oidc.randomNonce(),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' };
  const res = await authorize(user, config, params);
  assert.equal(loginPage(res, srv.base).searchParams.get('reauth'), '1');
  const noCode = await user.post('/api/v1/session', { login, password: `${pw}x` }, { csrf: false });
  assert.equal(noCode.status, 401, 'the password alone does not log this account in');
  assert.equal(noCode.json.error.code, 'otp_required');
  const back = await loginAndContinue(user, res, login, `${pw}x`, totp(begin.secret, now + 30));
  const stepped = await exchange(config, callback(back.res), params, verifier);
  assert.equal(stepped.claims().acr, '2');
  assert.deepEqual(stepped.claims().amr, ['pwd', 'otp']);
  assert.ok(stepped.claims().auth_time >= c.auth_time);
});

test('acr_values 2 for an account without a second factor: answered with acr 1', async () => {
  const { tokens } = await codeFlow(teacher, config, { acr_values: '2' });
  assert.equal(tokens.claims().acr, '1');
  assert.deepEqual(tokens.claims().amr, ['pwd']);
  /* Only unknown values, essential: cannot be met. */
  const res = await authorize(teacher, config, { state: 'u',
    claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:x:gold'] } } }) });
  assert.equal(callback(res).searchParams.get('error'), 'access_denied');
});

test('claims beyond the scope need the consent of their scope at a third-party app', async () => {
  const third = await registerApp(admin, ids.city, `third-${tag}`, { first_party: false });
  const cfg = await configFor(srv.base, third);
  const parent = await loginAs(srv.base, 'parent1');
  /* A consent for openid alone ... */
  const q = { scope: 'openid', state: 'c1' };
  const page = await authorize(parent, cfg, q);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /手机号码/);
  const csrf = /name="eb_csrf" value="([^"]+)"/.exec(page.text)[1];
  const allow = await parent.request('POST', '/oidc/authorize', {
    body: form({ client_id: third.client_id, redirect_uri: CB, response_type: 'code', ...q, eb_consent: 'allow', eb_csrf: csrf }),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, csrf: false,
  });
  assert.match(allow.text, /code=/);
  assert.equal(callback(await authorize(parent, cfg, q)).searchParams.get('state'), 'c1', 'remembered');
  /* ... does not cover a phone number asked for through claims: the consent page lists it. */
  const claims = JSON.stringify({ userinfo: { phone_number: { essential: true } } });
  const again = await authorize(parent, cfg, { ...q, claims });
  assert.equal(again.status, 200, 'asked again');
  assert.match(again.text, /手机号码/);
  const none = await authorize(parent, cfg, { ...q, claims, prompt: 'none' });
  assert.equal(callback(none).searchParams.get('error'), 'consent_required');
});

/* ---- logout confirmation ------------------------------------------------------------------ */

test('the logout confirmation answers with a page that moves on, not a cross-origin 302', async () => {
  const user = await loginAs(srv.base, 'teacher1');
  const { tokens } = await codeFlow(user, config);
  const q = { client_id: app.client_id, post_logout_redirect_uri: BYE, state: 'lo' };
  const page = await user.get(`/oidc/logout?${form(q)}`);
  assert.equal(page.status, 200, 'without an id_token_hint the user is asked');
  const csrf = /name="eb_csrf" value="([^"]+)"/.exec(page.text)[1];
  const res = await user.request('POST', '/oidc/logout', {
    body: form({ ...q, eb_csrf: csrf }), headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, csrf: false,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('location'), null);
  assert.match(res.text, /http-equiv="refresh" content="0;url=https:\/\/rp\.example\.test\/bye\?state=lo"/);
  assert.match(res.headers.get('set-cookie') || '', /Max-Age=0/i, 'the session cookie is cleared');
  assert.equal((await user.get('/api/v1/me')).status, 401);
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
  assert.ok(jwtPayload(tokens.id_token).sid);
});
