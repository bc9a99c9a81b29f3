// The OpenID Connect provider seen by a real relying-party library (openid-client, with ID-token
// signature checks switched on through enableNonRepudiationChecks): code flow with PKCE,
// client authentication methods, code reuse, refresh rotation and reuse detection, userinfo,
// introspection, revocation, client_credentials, consent, RP-initiated logout, exact
// redirect-URI matching, and the apps of the portal (API and CLI).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startServer, loginAs, Client, expectStatus, expectError, uniq } from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';
import { runCli, expectExit } from './lib/cli.mjs';

let srv;
let admin;
let ids;
const tag = uniq();
const RP = 'https://rp.example.test';
const CB = `${RP}/cb`;
const apps = {};

async function registerApp(name, body) {
  const res = expectStatus(await admin.post('/api/v1/apps', {
    client_id: `${name}-${tag}`, name: `测试应用${name}`, redirect_uris: [CB],
    post_logout_redirect_uris: [`${RP}/bye`], org_id: ids.city, launch_url: `${RP}/`, ...body,
  }), 201, `register ${name}`);
  return res.json;
}

async function configFor(app, auth) {
  const config = await oidc.discovery(new URL(srv.base), app.client_id, {
    id_token_signed_response_alg: app.id_token_signed_response_alg,
  }, auth ?? oidc.ClientSecretBasic(app.client_secret), { execute: [oidc.allowInsecureRequests] });
  oidc.enableNonRepudiationChecks(config);
  return config;
}

/** Runs the authorization request in the browser of `user` and returns the redirect. */
async function authorize(user, config, params) {
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: CB, scope: 'openid', ...params });
  const res = await user.get(url.pathname + url.search);
  return res;
}

async function codeFlow(user, config, extra = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const challenge = await oidc.calculatePKCECodeChallenge(verifier);
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const res = await authorize(user, config, {
    code_challenge: challenge, code_challenge_method: 'S256', state, nonce, ...extra,
  });
  assert.equal(res.status, 302, `authorize: ${res.status} ${res.text.slice(0, 300)}`);
  const loc = new URL(res.headers.get('location'));
  assert.equal(loc.origin + loc.pathname, CB);
  const tokens = await oidc.authorizationCodeGrant(config, loc, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
  });
  return { tokens, loc, verifier };
}

function form(obj) {
  return new URLSearchParams(obj).toString();
}

async function postForm(path, obj, headers = {}) {
  const res = await fetch(srv.base + path, {
    method: 'POST', body: form(obj), redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
}

const basic = (app) => ({ Authorization: `Basic ${Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(app.client_secret)}`).toString('base64')}` });

before(async () => {
  srv = await startServer();
  ({ ids } = await discoverCity(srv.base));
  admin = await loginAs(srv.base, 'admin');
  apps.rs = await registerApp('rs', { first_party: true, roster_read: true });
  apps.es = await registerApp('es', { first_party: true, id_token_signed_response_alg: 'ES256' });
  apps.ed = await registerApp('ed', { first_party: true, id_token_signed_response_alg: 'EdDSA' });
  apps.pub = await registerApp('pub', { first_party: true, public: true });
  apps.third = await registerApp('third', { first_party: false });
});

after(async () => {
  if (srv) await srv.stop();
});

test('a registered confidential app gets its secret once; the listing never shows it', async () => {
  assert.match(apps.rs.client_secret, /^[A-Za-z0-9_-]{43}$/);
  const list = expectStatus(await admin.get('/api/v1/admin/apps'), 200).json;
  const mine = list.items.find((a) => a.client_id === apps.rs.client_id);
  assert.ok(mine, 'the new app is listed for the city admin');
  assert.equal(mine.client_secret, undefined);
  assert.deepEqual(mine.redirect_uris, [CB]);
  assert.equal(apps.pub.client_secret, undefined, 'a public client has no secret');
});

test('code flow with PKCE and client_secret_basic: signed ID token with the OIDC claims', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const config = await configFor(apps.rs);
  const { tokens, loc } = await codeFlow(teacher, config, { scope: 'openid profile edubrain' });
  assert.equal(loc.searchParams.get('iss'), config.serverMetadata().issuer);
  const c = tokens.claims();
  assert.equal(c.sub, String(teacher.session.user.id));
  assert.equal(c.aud, apps.rs.client_id);
  assert.equal(c.iss, config.serverMetadata().issuer);
  assert.deepEqual(c.amr, ['pwd']);
  assert.ok(c.sid && c.auth_time && c.at_hash && c.acr, `claims: ${JSON.stringify(c)}`);
  assert.ok(c.exp > c.iat);
  assert.ok(tokens.refresh_token, 'a refresh token is issued');
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  const info = await oidc.fetchUserInfo(config, tokens.access_token, c.sub);
  assert.equal(info.preferred_username, 'teacher1');
  assert.ok(info.name);
  assert.ok(Array.isArray(info.roles) && info.roles.some((r) => r.role === 'teacher' || r.role === 'head_teacher'));
  assert.match(info.school_code, /^\d{10}$/);
  assert.equal(JSON.stringify(info).match(/citizen/), null);
});

test('ES256 and EdDSA ID tokens verify against the JWKS', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  for (const app of [apps.es, apps.ed]) {
    const config = await configFor(app);
    const { tokens } = await codeFlow(teacher, config);
    const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url'));
    assert.equal(header.alg, app.id_token_signed_response_alg);
    assert.ok(header.kid, 'kid on every JWT');
  }
});

test('a student\'s edubrain claims: grade, class, student number, never the citizen ID', async () => {
  const student = await loginAs(srv.base, 'student1');
  const config = await configFor(apps.rs);
  const { tokens } = await codeFlow(student, config, { scope: 'openid profile edubrain' });
  const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
  assert.ok(info.student_no, `student_no in ${JSON.stringify(info)}`);
  assert.ok(info.class && info.class.id === ids.classA, 'the current class');
  assert.ok(info.grade && info.grade.id === ids.gradeA, 'the current grade');
  assert.doesNotMatch(JSON.stringify(info), /\d{17}[\dX]/, 'no 18-digit ID number');
});

test('userinfo by GET, POST with the header and POST with the body; not by query', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const { tokens } = await codeFlow(teacher, await configFor(apps.rs), { scope: 'openid profile' });
  const at = tokens.access_token;
  const g = await fetch(`${srv.base}/oidc/userinfo`, { headers: { Authorization: `Bearer ${at}` } });
  assert.equal(g.status, 200);
  const p1 = await postForm('/oidc/userinfo', {}, { Authorization: `Bearer ${at}` });
  assert.equal(p1.status, 200);
  const p2 = await postForm('/oidc/userinfo', { access_token: at });
  assert.equal(p2.status, 200);
  assert.equal(p2.json.sub, String(teacher.session.user.id));
  const q = await fetch(`${srv.base}/oidc/userinfo?access_token=${at}`);
  assert.equal(q.status, 401, 'a token in the query string is not accepted');
  assert.match(q.headers.get('www-authenticate') || '', /^Bearer/);
});

test('client_secret_post and a public client with PKCE (none)', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const post = await configFor(apps.rs, oidc.ClientSecretPost(apps.rs.client_secret));
  assert.ok((await codeFlow(teacher, post)).tokens.access_token);
  const pub = await configFor(apps.pub, oidc.None());
  assert.ok((await codeFlow(teacher, pub)).tokens.access_token);
  /* A public client must use PKCE. */
  const res = await authorize(teacher, pub, { state: 'x' });
  assert.equal(res.status, 302);
  assert.equal(new URL(res.headers.get('location')).searchParams.get('error'), 'invalid_request');
});

test('PKCE: plain is refused; a wrong verifier fails', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const config = await configFor(apps.rs);
  const res = await authorize(teacher, config, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain', state: 's' });
  const loc = new URL(res.headers.get('location'));
  assert.equal(loc.searchParams.get('error'), 'invalid_request');
  assert.equal(loc.searchParams.get('state'), 's');
  const verifier = oidc.randomPKCECodeVerifier();
  const ok = await authorize(teacher, config, { code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const code = new URL(ok.headers.get('location')).searchParams.get('code');
  const t = await postForm('/oidc/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: oidc.randomPKCECodeVerifier() }, basic(apps.rs));
  assert.equal(t.status, 400);
  assert.equal(t.json.error, 'invalid_grant');
  assert.equal(t.headers.get('cache-control'), 'no-store');
});

test('a code is single use: the second use fails and revokes what the first issued', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const config = await configFor(apps.rs);
  const verifier = oidc.randomPKCECodeVerifier();
  const res = await authorize(teacher, config, { code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const code = new URL(res.headers.get('location')).searchParams.get('code');
  const body = { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier };
  const first = await postForm('/oidc/token', body, basic(apps.rs));
  assert.equal(first.status, 200, first.text);
  const second = await postForm('/oidc/token', body, basic(apps.rs));
  assert.equal(second.status, 400);
  assert.equal(second.json.error, 'invalid_grant');
  const ui = await fetch(`${srv.base}/oidc/userinfo`, { headers: { Authorization: `Bearer ${first.json.access_token}` } });
  assert.equal(ui.status, 401, 'the access token of the reused code is revoked');
  const rt = await postForm('/oidc/token', { grant_type: 'refresh_token', refresh_token: first.json.refresh_token }, basic(apps.rs));
  assert.equal(rt.json.error, 'invalid_grant', 'and its refresh token');
});

test('refresh tokens rotate; the previous one works within the grace period; older reuse revokes the grant', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const config = await configFor(apps.rs);
  const { tokens } = await codeFlow(teacher, config);
  const r0 = tokens.refresh_token;
  const t1 = await oidc.refreshTokenGrant(config, r0);
  assert.notEqual(t1.refresh_token, r0, 'rotated');
  assert.ok(t1.claims().sub, 'a new ID token');
  /* A second tab using r0 right away is not punished. */
  const tab = await oidc.refreshTokenGrant(config, r0);
  assert.ok(tab.access_token);
  const t2 = await oidc.refreshTokenGrant(config, t1.refresh_token);
  /* r0 is now two rotations old: reuse, the whole grant ends. */
  await assert.rejects(oidc.refreshTokenGrant(config, r0), (e) => e.error === 'invalid_grant');
  await assert.rejects(oidc.refreshTokenGrant(config, t2.refresh_token), (e) => e.error === 'invalid_grant');
  const ui = await fetch(`${srv.base}/oidc/userinfo`, { headers: { Authorization: `Bearer ${t2.access_token}` } });
  assert.equal(ui.status, 401);
});

test('introspection and revocation (RFC 7662, RFC 7009)', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const { tokens } = await codeFlow(teacher, await configFor(apps.rs));
  const i1 = await postForm('/oidc/introspect', { token: tokens.access_token }, basic(apps.rs));
  assert.equal(i1.status, 200);
  assert.equal(i1.json.active, true);
  assert.equal(i1.json.client_id, apps.rs.client_id);
  assert.equal(i1.json.sub, String(teacher.session.user.id));
  const other = await postForm('/oidc/introspect', { token: tokens.access_token }, basic(apps.es));
  assert.equal(other.json.active, false, 'another client learns nothing');
  const bad = await postForm('/oidc/introspect', { token: tokens.access_token }, { Authorization: `Basic ${Buffer.from(`${apps.rs.client_id}:wrong`).toString('base64')}` });
  assert.equal(bad.status, 401);
  assert.equal(bad.json.error, 'invalid_client');
  const rv = await postForm('/oidc/revoke', { token: tokens.refresh_token }, basic(apps.rs));
  assert.equal(rv.status, 200);
  const i2 = await postForm('/oidc/introspect', { token: tokens.access_token }, basic(apps.rs));
  assert.equal(i2.json.active, false, 'revoking the refresh token ends its access tokens');
});

test('client_credentials: a roster-reading token for a confidential client only', async () => {
  const t = await postForm('/oidc/token', { grant_type: 'client_credentials', scope: 'roster:read' }, basic(apps.rs));
  assert.equal(t.status, 200, t.text);
  assert.equal(t.json.scope, 'roster:read');
  assert.equal(t.json.refresh_token, undefined);
  assert.equal(t.json.id_token, undefined);
  const pub = await postForm('/oidc/token', { grant_type: 'client_credentials', client_id: apps.pub.client_id });
  assert.equal(pub.json.error, 'unauthorized_client');
  const bad = await postForm('/oidc/token', { grant_type: 'client_credentials', scope: 'openid' }, basic(apps.rs));
  assert.equal(bad.json.error, 'invalid_scope');
  const unk = await postForm('/oidc/token', { grant_type: 'password' }, basic(apps.rs));
  assert.equal(unk.json.error, 'unsupported_grant_type');
});

test('redirect URIs match byte for byte: anything else gets an error page, never a redirect', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const variants = [`${CB}/extra`, `${CB}?x=1`, `${RP}/cb/..;/cb`, `https://rp.example.test@evil.test/cb`,
    'https://localhost/cb', `${RP.replace('https', 'http')}/cb`, `${RP}/CB`, `${RP}/*`, `${CB}#f`, `${RP}:443/cb`];
  for (const uri of variants) {
    const q = form({ client_id: apps.rs.client_id, redirect_uri: uri, response_type: 'code', scope: 'openid' });
    const res = await teacher.get(`/oidc/authorize?${q}`);
    assert.equal(res.status, 400, uri);
    assert.equal(res.headers.get('location'), null, `no redirect to ${uri}`);
    assert.match(res.headers.get('content-type'), /text\/html/);
  }
  const unknown = await teacher.get(`/oidc/authorize?${form({ client_id: 'nobody', redirect_uri: CB, response_type: 'code', scope: 'openid' })}`);
  assert.equal(unknown.status, 400);
});

test('authorization errors go back to the app: response_type, scope, request objects', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const base = { client_id: apps.rs.client_id, redirect_uri: CB, scope: 'openid', state: 'st' };
  const cases = [
    [{ ...base }, 'invalid_request'],
    [{ ...base, response_type: 'token' }, 'unsupported_response_type'],
    [{ ...base, response_type: 'id_token token' }, 'unsupported_response_type'],
    [{ ...base, response_type: 'code', scope: 'profile' }, 'invalid_scope'],
    [{ ...base, response_type: 'code', request: 'eyJ.x.y' }, 'request_not_supported'],
    [{ ...base, response_type: 'code', request_uri: 'https://x.test/r' }, 'request_uri_not_supported'],
  ];
  for (const [params, error] of cases) {
    const res = await teacher.get(`/oidc/authorize?${form(params)}`);
    assert.equal(res.status, 302, JSON.stringify(params));
    const loc = new URL(res.headers.get('location'));
    assert.equal(loc.searchParams.get('error'), error, JSON.stringify(params));
    assert.equal(loc.searchParams.get('state'), 'st');
  }
  /* Unknown parameters are ignored. */
  const ok = await teacher.get(`/oidc/authorize?${form({ ...base, response_type: 'code', foo: 'bar' })}`);
  assert.ok(new URL(ok.headers.get('location')).searchParams.get('code'));
});

test('the authorization endpoint by POST', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const res = await teacher.request('POST', '/oidc/authorize', {
    body: form({ client_id: apps.rs.client_id, redirect_uri: CB, response_type: 'code', scope: 'openid', state: 'p' }),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, csrf: false,
  });
  assert.equal(res.status, 302);
  const loc = new URL(res.headers.get('location'));
  assert.ok(loc.searchParams.get('code'));
  assert.equal(loc.searchParams.get('state'), 'p');
});

test('prompt and max_age: none without a session, login, and the login page round trip', async () => {
  const anon = new Client(srv.base);
  const q = { client_id: apps.rs.client_id, redirect_uri: CB, response_type: 'code', scope: 'openid', state: 'n' };
  const none = await anon.get(`/oidc/authorize?${form({ ...q, prompt: 'none' })}`);
  assert.equal(new URL(none.headers.get('location')).searchParams.get('error'), 'login_required');
  /* Not logged in: the portal's login page, which continues the authorization afterwards. */
  const toLogin = await anon.get(`/oidc/authorize?${form({ ...q, login_hint: 'teacher1' })}`);
  assert.equal(toLogin.status, 302);
  const login = new URL(toLogin.headers.get('location'), srv.base);
  assert.equal(login.pathname, '/login');
  assert.equal(login.searchParams.get('login'), 'teacher1');
  const next = login.searchParams.get('next');
  assert.ok(next.startsWith('/oidc/authorize?'));
  await anon.mustLogin('teacher1', 'Demo-pass-2026');
  const back = await anon.get(next);
  assert.equal(back.status, 302);
  assert.ok(new URL(back.headers.get('location')).searchParams.get('code'), 'a code after logging in');
  /* prompt=login asks for a new login even with a session. */
  const again = await anon.get(`/oidc/authorize?${form({ ...q, prompt: 'login' })}`);
  const relog = new URL(again.headers.get('location'), srv.base);
  assert.equal(relog.pathname, '/login');
  assert.equal(relog.searchParams.get('reauth'), '1');
  /* max_age=10000 is satisfied by the session; prompt=none with a session gives a code. */
  const fresh = await anon.get(`/oidc/authorize?${form({ ...q, max_age: '10000', prompt: 'none' })}`);
  assert.ok(new URL(fresh.headers.get('location')).searchParams.get('code'));
});

test('consent: a third-party app asks once (in Chinese); deny returns access_denied', async () => {
  const parent = await loginAs(srv.base, 'parent1');
  const q = { client_id: apps.third.client_id, redirect_uri: CB, response_type: 'code', scope: 'openid profile', state: 'c' };
  const none = await parent.get(`/oidc/authorize?${form({ ...q, prompt: 'none' })}`);
  assert.equal(new URL(none.headers.get('location')).searchParams.get('error'), 'consent_required');
  const page = await parent.get(`/oidc/authorize?${form(q)}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /授权确认/);
  const csrf = /name="eb_csrf" value="([^"]+)"/.exec(page.text)[1];
  const post = (choice) => parent.request('POST', '/oidc/authorize', {
    body: form({ ...q, eb_consent: choice, eb_csrf: csrf }),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, csrf: false,
  });
  const deny = await post('deny');
  assert.match(deny.text, /error=access_denied/);
  const forged = await parent.request('POST', '/oidc/authorize', {
    body: form({ ...q, eb_consent: 'allow', eb_csrf: 'forged' }),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, csrf: false,
  });
  assert.equal(forged.status, 400, 'a consent without the session token is refused');
  const allow = await post('allow');
  assert.equal(allow.status, 200);
  assert.match(allow.text, /http-equiv="refresh"/);
  assert.match(allow.text, /code=/);
  const later = await parent.get(`/oidc/authorize?${form(q)}`);
  assert.equal(later.status, 302, 'consent remembered');
});

test('RP-initiated logout ends the portal session and its refresh tokens', async () => {
  const teacher = await loginAs(srv.base, 'teacher1');
  const config = await configFor(apps.rs);
  const { tokens } = await codeFlow(teacher, config);
  const bad = await teacher.get(`/oidc/logout?${form({ id_token_hint: tokens.id_token, post_logout_redirect_uri: `${RP}/elsewhere` })}`);
  assert.equal(bad.status, 400, 'an unregistered post-logout URI');
  const url = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: `${RP}/bye`, state: 'bye' });
  const res = await teacher.get(url.pathname + url.search);
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), `${RP}/bye?state=bye`);
  expectError(await teacher.get('/api/v1/me'), 401, 'unauthenticated');
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
  /* Logging out of the portal itself does the same. */
  const t2 = await loginAs(srv.base, 'teacher1');
  const second = await codeFlow(t2, config);
  expectStatus(await t2.del('/api/v1/session'), 204);
  await assert.rejects(oidc.refreshTokenGrant(config, second.tokens.refresh_token), (e) => e.error === 'invalid_grant');
});

test('the portal lists the apps of the caller\'s roles; admins manage apps in their scope', async () => {
  const district = await loginAs(srv.base, 'district1');
  const mine = await registerAppAs(district, { client_id: `dist-${tag}`, name: '区级应用', redirect_uris: [CB], org_id: ids.districtA, roles: ['student'] });
  assert.ok(mine.client_secret);
  expectStatus(await district.post('/api/v1/apps', { client_id: `dist2-${tag}`, name: '越权', redirect_uris: [CB], org_id: ids.districtB }), 404);
  expectStatus(await district.del(`/api/v1/apps/${apps.rs.client_id}`), 404, 'a city app is out of a district admin\'s scope');
  const student = await loginAs(srv.base, 'student1');
  const seen = expectStatus(await student.get('/api/v1/apps'), 200).json.items.map((a) => a.client_id);
  assert.ok(seen.includes(mine.client_id), 'a student of district A sees the district\'s student app');
  assert.ok(seen.includes(apps.rs.client_id));
  const teacher = await loginAs(srv.base, 'teacher1');
  const tSeen = expectStatus(await teacher.get('/api/v1/apps'), 200).json.items.map((a) => a.client_id);
  assert.ok(!tSeen.includes(mine.client_id), 'not offered to teachers');
  const patched = expectStatus(await district.patch(`/api/v1/apps/${mine.client_id}`, { name: '区级应用二', roles: [] }), 200).json;
  assert.equal(patched.name, '区级应用二');
  expectStatus(await district.del(`/api/v1/apps/${mine.client_id}`), 204);
  expectStatus(await district.del(`/api/v1/apps/${mine.client_id}`), 404);
  expectError(await teacher.post('/api/v1/apps', { name: 'x', redirect_uris: [CB], org_id: ids.schoolA }), 404, 'not_found');
});

async function registerAppAs(c, body) {
  return expectStatus(await c.post('/api/v1/apps', body), 201).json;
}

test('edubrain app add | list | rm', async () => {
  if (srv.db.startsWith('postgres')) return; /* the CLI runs on the SQLite file */
  const id = `cli-${tag}`;
  const add = await runCli(['app', 'add', '--db', srv.db, '--name', '命令行应用', '--client-id', id,
    '--redirect-uri', CB, '--first-party', '--roster-read']);
  expectExit(add, 0, 'app add');
  const secret = /client_secret: (\S+)/.exec(add.stdout)[1];
  const list = await runCli(['app', 'list', '--db', srv.db]);
  expectExit(list, 0, 'app list');
  assert.match(list.stdout, new RegExp(id));
  assert.doesNotMatch(list.stdout, new RegExp(secret));
  /* The running server uses the new client at once. */
  const t = await postForm('/oidc/token', { grant_type: 'client_credentials' }, basic({ client_id: id, client_secret: secret }));
  assert.equal(t.status, 200, t.text);
  expectExit(await runCli(['app', 'add', '--db', srv.db, '--name', 'x', '--client-id', id, '--redirect-uri', CB, '--public']), 1, 'taken id');
  expectExit(await runCli(['app', 'rm', '--db', srv.db, '--client-id', id]), 0, 'app rm');
  const gone = await postForm('/oidc/token', { grant_type: 'client_credentials' }, basic({ client_id: id, client_secret: secret }));
  assert.equal(gone.status, 401);
});

test('no token, code or secret reaches the server log', async () => {
  const log = srv.log();
  assert.doesNotMatch(log, /code=|access_token|refresh_token|client_secret|Bearer/);
  for (const app of Object.values(apps)) if (app.client_secret) assert.ok(!log.includes(app.client_secret));
});

test('an account still on its one-time password gets no code until it chooses a password', async () => {
  const login = `fresh.${tag}`;
  expectStatus(await admin.post('/api/v1/accounts', {
    login, password: 'Initial-pass-2026', display_name: '新教师',
    roles: [{ role: 'teacher', org_id: ids.schoolA }],
  }), 201);
  const user = new Client(srv.base);
  const s = await user.mustLogin(login, 'Initial-pass-2026');
  assert.equal(s.user.must_change_password, true);
  const q = { client_id: apps.rs.client_id, redirect_uri: CB, response_type: 'code', scope: 'openid', state: 'm',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
  const none = await user.get(`/oidc/authorize?${form({ ...q, prompt: 'none' })}`);
  const loc = new URL(none.headers.get('location'));
  assert.equal(loc.searchParams.get('error'), 'interaction_required');
  assert.equal(loc.searchParams.get('code'), null);
  const page = await user.get(`/oidc/authorize?${form(q)}`);
  assert.equal(new URL(page.headers.get('location'), srv.base).pathname, '/login', 'sent to the portal first');
  expectStatus(await user.put('/api/v1/me/password', { old_password: 'Initial-pass-2026', new_password: 'Chosen-pass-2026' }), 200);
  const after = await user.get(`/oidc/authorize?${form(q)}`);
  assert.ok(new URL(after.headers.get('location')).searchParams.get('code'), 'a code once the password is chosen');
});
