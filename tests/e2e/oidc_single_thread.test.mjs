// A server with one worker thread still signs tokens after its keys' reload interval: the
// request that signs holds a database connection while the reload takes another (the pool
// keeps one spare for it), so this must not hang.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, loginAs, expectStatus, uniq } from './lib/server.mjs';

let srv;
const CB = 'https://rp.example.test/cb';

before(async () => {
  srv = await startServer({ extraArgs: ['--threads', '1'] });
});

after(async () => {
  if (srv) await srv.stop();
});

test('one worker thread: a code is exchanged for tokens after the keys reload interval', { timeout: 60000 }, async () => {
  const admin = await loginAs(srv.base, 'admin');
  const city = admin.session.roles[0].org.id;
  const app = expectStatus(await admin.post('/api/v1/apps', {
    client_id: `single-${uniq()}`, name: '单线程测试应用', redirect_uris: [CB], org_id: city,
    launch_url: 'https://rp.example.test/', first_party: true,
  }), 201).json;
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const q = new URLSearchParams({ client_id: app.client_id, redirect_uri: CB, response_type: 'code',
    scope: 'openid', state: 's', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256' });
  const res = await admin.get(`/oidc/authorize?${q}`);
  assert.equal(res.status, 302, res.text.slice(0, 200));
  const code = new URL(res.headers.get('location')).searchParams.get('code');
  assert.ok(code);
  /* Past the reload interval (5 s): the token request's signing reloads the keys. */
  await new Promise((r) => setTimeout(r, 6000));
  const basic = Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(app.client_secret)}`).toString('base64');
  const tok = await fetch(`${srv.base}/oidc/token`, {
    method: 'POST', signal: AbortSignal.timeout(20000),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }),
  });
  assert.equal(tok.status, 200);
  const body = await tok.json();
  assert.equal(body.id_token.split('.').length, 3);
});
