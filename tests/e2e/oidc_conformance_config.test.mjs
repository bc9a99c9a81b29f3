// The OpenID Foundation's "Config OP" checks (oidcc-discovery-endpoint-verification) against a
// server that serves HTTPS itself (serve --tls-cert/--tls-key) with a certificate this file
// makes with the openssl CLI. Clients trust that certificate and nothing else (lib/oidc.mjs
// trustingFetch): certificate and host name checks stay on, so an untrusting client fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { startServer, Client, uniq, ADMIN_PW, DEMO_PW } from './lib/server.mjs';
import { runCli, expectExit } from './lib/cli.mjs';
import { registerApp, configFor, codeFlow, makeCert, trustingFetch } from './lib/oidc.mjs';

let srv;
let certDir;
let tls; /* { cert, key, ca } */
let fetchTls;

before(async () => {
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-tls-'));
  tls = await makeCert(certDir);
  fetchTls = trustingFetch(tls.ca);
  srv = await startServer({ extraArgs: ['--tls-cert', tls.cert, '--tls-key', tls.key] });
});

after(async () => {
  if (srv) await srv.stop();
  fs.rmSync(certDir, { recursive: true, force: true });
});

async function getJson(url) {
  const res = await fetchTls(url);
  return { status: res.status, headers: res.headers, json: await res.json() };
}

test('the server answers HTTPS only, with the test certificate', async () => {
  assert.match(srv.base, /^https:\/\/127\.0\.0\.1:\d+$/, 'serve prints an https URL');
  const ok = await fetchTls(`${srv.base}/healthz`);
  assert.equal(ok.status, 200);
  /* A client that does not trust the certificate refuses the connection. */
  await assert.rejects(fetch(`${srv.base}/healthz`), /fetch failed/);
  /* Plain HTTP on the TLS port gets no HTTP answer. */
  const plain = await fetch(`${srv.base.replace('https', 'http')}/healthz`).then((r) => r.status, () => 'refused');
  assert.notEqual(plain, 200);
});

test('oidcc-discovery-endpoint-verification', async () => {
  const url = `${srv.base}/.well-known/openid-configuration`;
  const res = await getJson(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const d = res.json;
  /* Discovery 4.3: the issuer is the URL the document was fetched under, and https. */
  assert.equal(d.issuer, srv.base);
  assert.equal(`${d.issuer}/.well-known/openid-configuration`, url);
  assert.equal(new URL(d.issuer).protocol, 'https:');
  /* Discovery 3: the REQUIRED members, and the RECOMMENDED ones this provider has. */
  for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri', 'response_types_supported',
    'subject_types_supported', 'id_token_signing_alg_values_supported', 'userinfo_endpoint', 'scopes_supported',
    'claims_supported']) {
    assert.ok(d[k] !== undefined, `${k} is present`);
  }
  for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri',
    'revocation_endpoint', 'introspection_endpoint', 'end_session_endpoint']) {
    assert.equal(new URL(d[k]).protocol, 'https:', `${k} is https`);
    assert.ok(d[k].startsWith(`${d.issuer}/`), `${k} lies under the issuer`);
  }
  assert.ok(d.response_types_supported.includes('code'));
  assert.ok(d.subject_types_supported.includes('public'));
  assert.ok(d.id_token_signing_alg_values_supported.includes('RS256'));
  assert.ok(!d.id_token_signing_alg_values_supported.includes('none'));
  assert.ok(d.scopes_supported.includes('openid'));
  for (const s of ['profile', 'email', 'address', 'phone', 'offline_access']) assert.ok(d.scopes_supported.includes(s), s);
  for (const c of ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'name',
    'preferred_username', 'phone_number', 'roles', 'school_code', 'student_no']) {
    assert.ok(d.claims_supported.includes(c), `claim ${c}`);
  }
  assert.equal(d.claims_parameter_supported, true);
  assert.deepEqual(d.acr_values_supported, ['1', '2']);
  assert.deepEqual(d.display_values_supported, ['page', 'popup']);
  assert.ok(d.grant_types_supported.includes('authorization_code'));
  assert.ok(d.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  /* The JWKS over https: every key is a public key Node can use, RS256 among them. */
  const jwks = await getJson(d.jwks_uri);
  assert.equal(jwks.status, 200);
  assert.ok(jwks.json.keys.some((k) => k.alg === 'RS256' && k.kty === 'RSA'));
  for (const k of jwks.json.keys) {
    assert.ok(k.kid && k.use === 'sig', `kid and use of ${JSON.stringify(k)}`);
    assert.equal(crypto.createPublicKey({ key: k, format: 'jwk' }).type, 'public');
    assert.equal(k.d, undefined);
  }
});

test('a code flow over https: openid-client checks the ID token with the JWKS it fetched', async () => {
  const admin = new Client(srv.base, { fetchFn: fetchTls });
  const ses = await admin.mustLogin('admin', ADMIN_PW);
  const city = ses.roles.find((r) => r.role === 'city_admin').org.id;
  const app = await registerApp(admin, city, `tls-${uniq()}`, { first_party: true });
  const config = await configFor(srv.base, app, { fetchFn: fetchTls });
  const teacher = new Client(srv.base, { fetchFn: fetchTls });
  await teacher.mustLogin('teacher1', DEMO_PW);
  const { tokens } = await codeFlow(teacher, config, { scope: 'openid profile' });
  const c = tokens.claims();
  assert.equal(c.iss, srv.base);
  assert.equal(c.sub, String(teacher.session.user.id));
  const info = await oidc.fetchUserInfo(config, tokens.access_token, c.sub);
  assert.equal(info.preferred_username, 'teacher1');
  /* Over TLS the session cookie is Secure without --secure-cookies. */
  const res = await new Client(srv.base, { fetchFn: fetchTls }).login('teacher1', DEMO_PW);
  assert.match(res.headers.get('set-cookie'), /; Secure/);
});

test('serve refuses half a TLS configuration and unreadable PEM files', async () => {
  const db = srv.db.startsWith('postgres') ? null : srv.db;
  if (!db) return; /* the CLI checks below run on a SQLite file */
  expectExit(await runCli(['serve', '--db', db, '--listen', '127.0.0.1:0', '--tls-cert', tls.cert]), 2, 'a cert without a key');
  const missing = path.join(certDir, 'missing.pem');
  const bad = await runCli(['serve', '--db', db, '--listen', '127.0.0.1:0', '--tls-cert', missing, '--tls-key', tls.key]);
  expectExit(bad, 1, 'a missing certificate file');
  assert.match(bad.stderr, /cannot open/);
});
