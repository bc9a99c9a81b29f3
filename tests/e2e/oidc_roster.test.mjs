// Server-to-server apps reading rosters: a client_credentials token (scope roster:read) of an app
// that an administrator allowed to read rosters opens the roster reads of the app's org subtree,
// and nothing else; a user's access token never does; turning the permission off or revoking
// the token ends it at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, loginAs, expectStatus, uniq, MASKED_ID_RE } from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let ids;
let district;
const tag = uniq();
const CB = 'https://roster.example.test/cb';

before(async () => {
  srv = await startServer();
  ({ ids } = await discoverCity(srv.base));
  district = await loginAs(srv.base, 'district1');
});

after(async () => {
  if (srv) await srv.stop();
});

async function register(name, body) {
  return expectStatus(await district.post('/api/v1/apps', {
    client_id: `${name}-${tag}`, name: `花名册${name}`, redirect_uris: [CB], org_id: ids.districtA, ...body,
  }), 201, `register ${name}`).json;
}

async function token(app) {
  const auth = Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64');
  const res = await fetch(`${srv.base}/oidc/token`, {
    method: 'POST', body: 'grant_type=client_credentials&scope=roster%3Aread',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${auth}` },
  });
  return { status: res.status, json: await res.json() };
}

function bearer(tok, path, init = {}) {
  return fetch(srv.base + path, { ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${tok}` } });
}

test('an app allowed to read rosters reads its district, and only that', async () => {
  const app = await register('reader', { roster_read: true });
  assert.equal(app.roster_read, true);
  const t = await token(app);
  assert.equal(t.status, 200, JSON.stringify(t.json));
  const at = t.json.access_token;

  const d = await bearer(at, `/api/v1/orgs/${ids.districtA}`);
  assert.equal(d.status, 200);
  assert.equal((await d.json()).id, ids.districtA);
  const kids = await bearer(at, `/api/v1/orgs/${ids.districtA}/children`);
  assert.equal(kids.status, 200);
  assert.ok((await kids.json()).items.some((s) => s.id === ids.schoolA));
  const roster = await bearer(at, `/api/v1/orgs/${ids.classA}/people?role=student`);
  assert.equal(roster.status, 200);
  const people = (await roster.json()).items;
  assert.ok(people.some((p) => p.id === ids.student1), 'student1 is on the class roster');
  for (const p of people) {
    if (p.citizen_id) assert.match(p.citizen_id, MASKED_ID_RE, 'ID numbers stay masked for apps');
  }

  // Another district's class is as missing as a class that does not exist.
  assert.equal((await bearer(at, `/api/v1/orgs/${ids.classB}/people?role=student`)).status, 404);
  assert.equal((await bearer(at, `/api/v1/orgs/${ids.districtB}`)).status, 404);
  // The token opens the roster reads only: not a person's record, not the session, no writes.
  assert.equal((await bearer(at, `/api/v1/people/${ids.student1}`)).status, 401);
  assert.equal((await bearer(at, '/api/v1/me')).status, 401);
  assert.equal((await bearer(at, `/api/v1/orgs/${ids.districtA}/stats`)).status, 401);
  const w = await bearer(at, `/api/v1/orgs/${ids.classA}`, {
    method: 'PATCH', body: '{"name":"x"}', headers: { 'Content-Type': 'application/json' },
  });
  assert.equal(w.status, 401);

  // Revoked: gone at once.
  const auth = Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64');
  const rv = await fetch(`${srv.base}/oidc/revoke`, {
    method: 'POST', body: new URLSearchParams({ token: at }).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${auth}` },
  });
  assert.equal(rv.status, 200);
  assert.equal((await bearer(at, `/api/v1/orgs/${ids.districtA}`)).status, 401);
});

test('no roster_read, no roster token; turning it off ends live tokens', async () => {
  const plain = await register('plain', {});
  assert.equal(plain.roster_read, false);
  const refused = await token(plain);
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error, 'unauthorized_client');

  const app = await register('toggled', { roster_read: true });
  const at = (await token(app)).json.access_token;
  assert.equal((await bearer(at, `/api/v1/orgs/${ids.classA}/people?role=student`)).status, 200);
  expectStatus(await district.patch(`/api/v1/apps/${app.client_id}`, { roster_read: false }), 200, 'turn off');
  assert.equal((await bearer(at, `/api/v1/orgs/${ids.classA}/people?role=student`)).status, 401);

  // A public app cannot be given the permission at all.
  const pub = await district.post('/api/v1/apps', {
    client_id: `pub-${tag}`, name: '公开应用', redirect_uris: [CB], org_id: ids.districtA, public: true, roster_read: true,
  });
  assert.equal(pub.status, 400);
});

test("a user's access token never opens the registry", async () => {
  const app = await register('userflow', { roster_read: true, first_party: true });
  const teacher = await loginAs(srv.base, 'teacher1');
  const verifier = 'v'.repeat(50);
  const { createHash } = await import('node:crypto');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const q = new URLSearchParams({
    client_id: app.client_id, redirect_uri: CB, response_type: 'code', scope: 'openid',
    code_challenge: challenge, code_challenge_method: 'S256',
  });
  const a = await teacher.get(`/oidc/authorize?${q}`, { redirect: 'manual' });
  assert.equal(a.status, 302);
  const code = new URL(a.headers.get('location')).searchParams.get('code');
  assert.ok(code);
  const auth = Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64');
  const t = await fetch(`${srv.base}/oidc/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${auth}` },
  });
  const tok = await t.json();
  assert.equal(t.status, 200, JSON.stringify(tok));
  assert.equal((await bearer(tok.access_token, `/api/v1/orgs/${ids.classA}/people?role=student`)).status, 401);
});
