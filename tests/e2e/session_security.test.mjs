// Session fixation and the shared PC: a session id planted before login never becomes a
// logged-in session; after a logout nothing of the first user survives in the same browser —
// not the portal session, not the SSO into apps, not the apps' refresh tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, loginAs, Client, expectStatus, expectError, DEMO_PW, uniq } from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';
import { registerApp, configFor, codeFlow, authorize, loginPage, postForm, basic } from './lib/oidc.mjs';

let srv;
let ids;
let app;
let config;
const tag = uniq();

before(async () => {
  srv = await startServer();
  ({ ids } = await discoverCity(srv.base));
  const admin = await loginAs(srv.base, 'admin');
  app = await registerApp(admin, ids.city, `shared-pc-${tag}`, { first_party: true });
  config = await configFor(srv.base, app);
});

after(async () => {
  if (srv) await srv.stop();
});

test('session fixation: a planted session id is replaced at login and stays anonymous', async () => {
  const planted = 'A'.repeat(43);
  const victim = new Client(srv.base);
  victim.cookies.set('eb_session', planted);
  expectError(await victim.get('/api/v1/me'), 401, 'unauthenticated', 'a planted id is anonymous');
  await victim.mustLogin('teacher1', DEMO_PW);
  const issued = victim.cookies.get('eb_session');
  assert.ok(issued && issued !== planted, 'login must issue a new session id');
  /* The attacker, holding the planted value, is still nobody. */
  const attacker = new Client(srv.base);
  attacker.cookies.set('eb_session', planted);
  expectError(await attacker.get('/api/v1/me'), 401, 'unauthenticated', 'the planted id after the victim logged in');
  /* A second login in the same browser ends the first session: its id is dead. */
  await victim.mustLogin('teacher1', DEMO_PW);
  assert.notEqual(victim.cookies.get('eb_session'), issued);
  const old = new Client(srv.base);
  old.cookies.set('eb_session', issued);
  expectError(await old.get('/api/v1/me'), 401, 'unauthenticated', 'the previous session id');
});

test('a shared PC: after logout the next user of the browser inherits nothing', async () => {
  const pc = new Client(srv.base);
  await pc.mustLogin('teacher1', DEMO_PW);
  const first = await codeFlow(pc, config);
  const refresh = first.tokens.refresh_token;
  assert.ok(refresh, 'the app got a refresh token');
  const cookie = pc.cookies.get('eb_session');

  expectStatus(await pc.del('/api/v1/session'), 204, 'logout');
  assert.equal(pc.cookies.get('eb_session'), undefined, 'the cookie is cleared');
  /* The old cookie value is dead even if the browser kept it. */
  const kept = new Client(srv.base);
  kept.cookies.set('eb_session', cookie);
  expectError(await kept.get('/api/v1/me'), 401, 'unauthenticated', 'the logged-out session');
  /* The app's tokens of that session are gone. */
  const r = await postForm(srv.base, '/oidc/token', { grant_type: 'refresh_token', refresh_token: refresh }, basic(app));
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
  const intro = await postForm(srv.base, '/oidc/introspect', { token: first.tokens.access_token }, basic(app));
  assert.equal(intro.json.active, false, 'the access token of the logged-out session');
  /* The next user who opens the app is asked to log in, not signed in as teacher1. */
  loginPage(await authorize(pc, config, { code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }), srv.base);
  /* ... and after logging in gets their own identity. */
  await pc.mustLogin('student1', DEMO_PW);
  const second = await codeFlow(pc, config);
  const claims = second.tokens.claims();
  assert.equal(claims.sub, String(pc.session.user.id));
  assert.notEqual(claims.sub, first.tokens.claims().sub);
});
