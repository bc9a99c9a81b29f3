// Throttling of OIDC client authentication: wrong client secrets at the token and
// introspection endpoints escalate delays like failed logins (429, Retry-After,
// temporarily_unavailable), per client and address, so another client is never slowed down.
// And back-channel logout delivery: a relying party on 127.0.0.1 receives a logout token,
// signed with a key of /oidc/jwks, when the portal session it was used in ends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import * as oidc from 'openid-client';
import { startServer, loginAs, expectStatus, uniq } from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let admin;
let ids;
const tag = uniq();
const RP = 'https://rp.example.test';
const CB = `${RP}/cb`;

async function registerApp(name) {
  return expectStatus(await admin.post('/api/v1/apps', {
    client_id: `${name}-${tag}`, name: `限速应用${name}`, redirect_uris: [`${RP}/cb`],
    org_id: ids.city, launch_url: `${RP}/`, first_party: true, roster_read: true,
  }), 201, `register ${name}`).json;
}

async function postForm(path, obj, app, secret) {
  const auth = Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(secret)}`).toString('base64');
  const res = await fetch(srv.base + path, {
    method: 'POST', body: new URLSearchParams(obj).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${auth}` },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text.startsWith('{') ? JSON.parse(text) : undefined };
}

before(async () => {
  srv = await startServer();
  ({ ids } = await discoverCity(srv.base));
  admin = await loginAs(srv.base, 'admin');
});

after(async () => {
  if (srv) await srv.stop();
});

test('wrong client secrets are throttled with Retry-After; another client still works', async () => {
  const victim = await registerApp('guessed');
  const other = await registerApp('bystander');
  const grant = { grant_type: 'client_credentials', scope: 'roster:read' };

  // The first five failures answer a plain invalid_client.
  for (let i = 0; i < 5; i++) {
    const res = await postForm('/oidc/token', grant, victim, `wrong-${i}`);
    assert.equal(res.status, 401, `attempt ${i + 1}`);
    assert.equal(res.json.error, 'invalid_client');
  }
  // From then on the escalating delay runs: within it, a guess is refused before the secret is checked.
  let throttled;
  for (let i = 0; i < 6 && !throttled; i++) {
    const res = await postForm('/oidc/token', grant, victim, `wrong-more-${i}`);
    if (res.status === 429) throttled = res;
    else assert.equal(res.status, 401);
  }
  assert.ok(throttled, 'six or more wrong secrets end in 429');
  assert.equal(throttled.json.error, 'temporarily_unavailable');
  const retry = Number(throttled.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 1, `Retry-After: ${throttled.headers.get('retry-after')}`);
  assert.equal(throttled.headers.get('cache-control'), 'no-store');

  // Even the right secret waits while the delay runs (that is what makes guessing slow) ...
  const right = await postForm('/oidc/token', grant, victim, victim.client_secret);
  assert.equal(right.status, 429, 'the right secret is not even tested while throttled');
  // ... and introspection shares the counter.
  const intro = await postForm('/oidc/introspect', { token: 'x' }, victim, 'wrong');
  assert.equal(intro.status, 429);

  // Another client from the same address is not affected.
  const ok = await postForm('/oidc/token', grant, other, other.client_secret);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.ok(ok.json.access_token);
  const okIntro = await postForm('/oidc/introspect', { token: ok.json.access_token }, other, other.client_secret);
  assert.equal(okIntro.status, 200);
  assert.equal(okIntro.json.active, true);

  // Never a lock: once the delay has passed the right secret works again.
  await new Promise((resolve) => setTimeout(resolve, (retry + 1) * 1000));
  const later = await postForm('/oidc/token', grant, victim, victim.client_secret);
  assert.equal(later.status, 200, JSON.stringify(later.json));
});

test('back-channel logout: the app receives a signed logout token when the portal session ends', async () => {
  // A tiny relying party: it records every POST to its back-channel logout URI.
  const received = [];
  let notify;
  const arrived = new Promise((resolve) => { notify = resolve; });
  const rp = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
      res.writeHead(200, { 'Cache-Control': 'no-store' });
      res.end();
      notify();
    });
  });
  await new Promise((resolve) => rp.listen(0, '127.0.0.1', resolve));
  try {
    const bcUri = `http://127.0.0.1:${rp.address().port}/backchannel`;
    const app = expectStatus(await admin.post('/api/v1/apps', {
      client_id: `bc-${tag}`, name: '注销通知应用', redirect_uris: [CB], org_id: ids.city,
      launch_url: `${RP}/`, first_party: true, backchannel_logout_uri: bcUri,
    }), 201, 'register the app').json;

    const config = await oidc.discovery(new URL(srv.base), app.client_id, {},
      oidc.ClientSecretBasic(app.client_secret), { execute: [oidc.allowInsecureRequests] });
    const user = await loginAs(srv.base, 'teacher1');
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CB, scope: 'openid', state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const res = await user.get(url.pathname + url.search);
    assert.equal(res.status, 302, `authorize: ${res.status} ${res.text.slice(0, 300)}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(res.headers.get('location')), {
      pkceCodeVerifier: verifier, expectedState: state,
    });
    const idClaims = tokens.claims();
    assert.ok(idClaims.sid, 'the ID token carries the session id');

    expectStatus(await user.del('/api/v1/session'), 204, 'portal logout');
    await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('no logout token within 5 s')), 5000))]);

    assert.equal(received.length, 1);
    const got = received[0];
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/backchannel');
    assert.match(got.type, /^application\/x-www-form-urlencoded/);
    const jwt = new URLSearchParams(got.body).get('logout_token');
    assert.ok(jwt, 'a logout_token parameter');

    const [h, p, s] = jwt.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url'));
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    assert.equal(header.typ, 'logout+jwt');
    assert.equal(header.alg, 'RS256');
    const jwks = (await (await fetch(`${srv.base}/oidc/jwks`)).json()).keys;
    const jwk = jwks.find((k) => k.kid === header.kid);
    assert.ok(jwk, 'the signing key is published in the JWKS');
    const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    assert.ok(crypto.verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')),
      'the signature verifies against /oidc/jwks');
    const tampered = Buffer.from(JSON.stringify({ ...claims, sid: 'other' })).toString('base64url');
    assert.equal(crypto.verify('sha256', Buffer.from(`${h}.${tampered}`), key, Buffer.from(s, 'base64url')), false);

    assert.equal(claims.iss, idClaims.iss);
    assert.equal(claims.aud, app.client_id);
    assert.equal(claims.sid, idClaims.sid);
    assert.equal(claims.sub, idClaims.sub);
    assert.deepEqual(claims.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    assert.equal(claims.nonce, undefined, 'a logout token never carries a nonce');
    assert.match(claims.jti, /^[A-Za-z0-9_-]{20,}$/);
    assert.ok(claims.exp - claims.iat <= 120 && claims.exp > claims.iat);
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60);
  } finally {
    await new Promise((resolve) => rp.close(resolve));
  }
});
