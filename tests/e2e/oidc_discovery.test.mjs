// OpenID Connect discovery and the JWKS: the document's fields and issuer, the published keys
// (kty, crv, alg, RFC 7638 kids, public members only), and a rotation by `edubrain keys rotate`
// showing in the JWKS of running servers without a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { startServer, serveDb, PG_BASE, expectStatus } from './lib/server.mjs';
import { runCli, expectExit } from './lib/cli.mjs';

let srv;
let keyFile;

before(async () => {
  srv = await startServer();
  keyFile = PG_BASE ? path.join(srv.dir, 'city.key') : `${srv.db}.key`;
});
after(async () => { if (srv) await srv.stop(); });

async function getJson(url) {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null, text };
}

function maxAge(res) {
  const m = /max-age=(\d+)/.exec(res.headers.get('cache-control') || '');
  assert.ok(m, `no max-age in Cache-Control: ${res.headers.get('cache-control')}`);
  return Number(m[1]);
}

/* RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace. */
function thumbprint(jwk) {
  const req = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] }[jwk.kty];
  assert.ok(req, `unknown kty ${jwk.kty}`);
  const canon = `{${req.map((k) => `${JSON.stringify(k)}:${JSON.stringify(jwk[k])}`).join(',')}}`;
  return crypto.createHash('sha256').update(canon).digest('base64url');
}

function checkJwks(jwks) {
  assert.ok(Array.isArray(jwks.keys), 'keys is an array');
  const kids = new Set();
  for (const k of jwks.keys) {
    assert.equal(typeof k.kid, 'string');
    assert.ok(!kids.has(k.kid), `kid ${k.kid} twice`);
    kids.add(k.kid);
    assert.equal(k.kid, thumbprint(k), 'the kid is the RFC 7638 thumbprint');
    assert.equal(k.use, 'sig');
    for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[priv], undefined, `private member ${priv}`);
    if (k.alg === 'RS256') {
      assert.equal(k.kty, 'RSA');
      assert.equal(Buffer.from(k.n, 'base64url').length, 256, 'a 2048-bit modulus');
      assert.equal(k.e, 'AQAB');
    } else if (k.alg === 'ES256') {
      assert.equal(k.kty, 'EC');
      assert.equal(k.crv, 'P-256');
      assert.equal(Buffer.from(k.x, 'base64url').length, 32);
      assert.equal(Buffer.from(k.y, 'base64url').length, 32);
    } else if (k.alg === 'EdDSA') {
      assert.equal(k.kty, 'OKP');
      assert.equal(k.crv, 'Ed25519');
      assert.equal(Buffer.from(k.x, 'base64url').length, 32);
    } else {
      assert.fail(`unexpected alg ${k.alg}`);
    }
    /* Node accepts it as a public key of the right type. */
    const pub = crypto.createPublicKey({ key: k, format: 'jwk' });
    assert.equal(pub.type, 'public');
    assert.equal(pub.asymmetricKeyType, { RS256: 'rsa', ES256: 'ec', EdDSA: 'ed25519' }[k.alg]);
  }
  return kids;
}

test('the discovery document names the issuer, the endpoints and what the provider supports', async () => {
  const res = await getJson(`${srv.base}/.well-known/openid-configuration`);
  expectStatus(res, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.ok(maxAge(res) > 0);
  const d = res.json;
  assert.equal(d.issuer, srv.base, 'the default issuer is http://HOST:PORT of the listen address');
  const ep = {
    authorization_endpoint: '/oidc/authorize', token_endpoint: '/oidc/token', userinfo_endpoint: '/oidc/userinfo',
    jwks_uri: '/oidc/jwks', revocation_endpoint: '/oidc/revoke', introspection_endpoint: '/oidc/introspect',
    end_session_endpoint: '/oidc/logout',
  };
  for (const [k, p] of Object.entries(ep)) assert.equal(d[k], `${srv.base}${p}`, k);
  assert.deepEqual(d.response_types_supported, ['code']);
  assert.deepEqual(d.subject_types_supported, ['public']);
  assert.deepEqual([...d.grant_types_supported].sort(), ['authorization_code', 'client_credentials', 'refresh_token']);
  assert.deepEqual(d.id_token_signing_alg_values_supported, ['RS256', 'ES256', 'EdDSA']);
  assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
  assert.deepEqual([...d.token_endpoint_auth_methods_supported].sort(), ['client_secret_basic', 'client_secret_post', 'none']);
  for (const s of ['openid', 'profile', 'email', 'phone', 'address', 'edubrain', 'offline_access']) {
    assert.ok(d.scopes_supported.includes(s), `scope ${s}`);
  }
  for (const c of ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'name', 'email']) {
    assert.ok(d.claims_supported.includes(c), `claim ${c}`);
  }
  assert.equal(d.request_parameter_supported, false);
  assert.equal(d.request_uri_parameter_supported, false);
  assert.equal(d.claims_parameter_supported, true);
  assert.equal(d.backchannel_logout_supported, true);
  assert.equal(d.backchannel_logout_session_supported, true);
  assert.deepEqual(d.ui_locales_supported, ['zh-CN', 'en']);
  /* Config OP: every URL of the document lies under the issuer. */
  for (const [k, v] of Object.entries(d)) {
    if (k.endsWith('_endpoint') || k === 'jwks_uri') assert.ok(v.startsWith(`${d.issuer}/`), k);
  }
});

test('the JWKS publishes one public key per algorithm, cacheable for a short while', async () => {
  const d = (await getJson(`${srv.base}/.well-known/openid-configuration`)).json;
  const res = await getJson(d.jwks_uri);
  expectStatus(res, 200);
  const age = maxAge(res);
  assert.ok(age > 0 && age <= 600, `max-age ${age} is short`);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  checkJwks(res.json);
  assert.deepEqual(res.json.keys.map((k) => k.alg).sort(), ['ES256', 'EdDSA', 'RS256']);
});

test('a rotation by the CLI is published by running servers before its keys sign', async () => {
  const other = await serveDb(srv.db, {
    cwd: srv.dir,
    extraArgs: [...(PG_BASE ? ['--key-file', keyFile] : []), '--issuer', 'https://sso.example.edu.cn'],
  });
  try {
    const d2 = (await getJson(`${other.base}/.well-known/openid-configuration`)).json;
    assert.equal(d2.issuer, 'https://sso.example.edu.cn');
    assert.equal(d2.jwks_uri, 'https://sso.example.edu.cn/oidc/jwks');
    const before = checkJwks((await getJson(`${srv.base}/oidc/jwks`)).json);
    assert.deepEqual(checkJwks((await getJson(`${other.base}/oidc/jwks`)).json), before,
      'two servers of one database publish the same keys');

    const rot = expectExit(await runCli(['keys', 'rotate', '--db', srv.db, '--key-file', keyFile, '--publish-s', '600']),
      0, 'keys rotate');
    const rows = rot.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    assert.equal(rows.length, 6, rot.stdout);
    assert.equal(rows.filter((r) => r[2] === 'pending').length, 3, rot.stdout);
    assert.equal(rows.filter((r) => r[2] === 'signing').length, 3, rot.stdout);
    for (const kid of before) assert.ok(rows.some((r) => r[0] === kid && r[2] === 'signing'), `old ${kid} still signs`);

    /* Servers re-read the keys every few seconds. */
    for (const s of [srv, other]) {
      let kids = null;
      for (let i = 0; i < 40; i++) {
        kids = checkJwks((await getJson(`${s.base}/oidc/jwks`)).json);
        if (kids.size === 6) break;
        await new Promise((r) => { setTimeout(r, 500); });
      }
      assert.equal(kids.size, 6, `${s.base}: the new keys are published`);
      for (const kid of before) assert.ok(kids.has(kid), 'the old keys stay published');
      for (const r of rows) assert.ok(kids.has(r[0]), `${r[0]} published`);
    }

    const list = expectExit(await runCli(['keys', 'list', '--db', srv.db, '--key-file', keyFile]), 0, 'keys list');
    assert.equal(list.stdout.trim().split('\n').length, 7, list.stdout);
  } finally {
    await other.stop();
  }
});

test('bad --issuer and keys arguments are refused', async () => {
  const bad = await runCli(['serve', '--db', srv.db, '--issuer', 'https://sso.example.edu.cn/']);
  expectExit(bad, 2, 'an issuer with a trailing slash');
  expectExit(await runCli(['keys', 'rotate', '--db', srv.db, '--publish-s', '-1']), 2, 'a negative --publish-s');
  expectExit(await runCli(['keys', 'frobnicate', '--db', srv.db]), 2, 'an unknown keys command');
});
