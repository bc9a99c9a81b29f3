// OpenID Connect helpers of the e2e tests: apps registered through the API, openid-client
// configurations with ID-token signature checks on, the code flow driven through a user's
// cookie jar (lib/server.mjs Client), form posts, the portal's login round trip, a TOTP code,
// and HTTPS with a certificate made for the test by the openssl CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import * as oidc from 'openid-client';
import { expectStatus } from './server.mjs';

/** The relying party of the tests: its origin, callback and post-logout page (never contacted). */
export const RP = 'https://rp.example.test';
export const CB = `${RP}/cb`;
export const BYE = `${RP}/bye`;

export function form(obj) {
  return new URLSearchParams(obj).toString();
}

/**
 * Registers an app as admin (a logged-in Client) under orgId. body adds or overrides fields
 * (first_party, public, id_token_signed_response_alg ...). Returns the created app, with its
 * client_secret when it is confidential.
 */
export async function registerApp(admin, orgId, clientId, body = {}) {
  const res = expectStatus(await admin.post('/api/v1/apps', {
    client_id: clientId, name: `测试应用${clientId}`, redirect_uris: [CB],
    post_logout_redirect_uris: [BYE], org_id: orgId, launch_url: `${RP}/`, ...body,
  }), 201, `register ${clientId}`);
  return res.json;
}

/**
 * An openid-client configuration for app from the provider at base, with ID-token signature
 * checks (enableNonRepudiationChecks). auth defaults to client_secret_basic (none for public
 * apps). With fetchFn (an HTTPS fetch that trusts the test's certificate) every request of the
 * client goes through it; without, plain http is allowed for the local server.
 */
export async function configFor(base, app, { auth, fetchFn } = {}) {
  const method = auth ?? (app.client_secret ? oidc.ClientSecretBasic(app.client_secret) : oidc.None());
  const options = fetchFn ? { [oidc.customFetch]: fetchFn } : { execute: [oidc.allowInsecureRequests] };
  const config = await oidc.discovery(new URL(base), app.client_id, {
    id_token_signed_response_alg: app.id_token_signed_response_alg,
  }, method, options);
  oidc.enableNonRepudiationChecks(config);
  return config;
}

/** Sends the authorization request of params (redirect_uri CB, scope openid by default) in the
 * browser of user (a Client) and returns the answer (not followed). */
export async function authorize(user, config, params = {}) {
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: CB, scope: 'openid', ...params });
  return user.get(url.pathname + url.search);
}

/** The callback URL of a redirect answer; asserts that it goes to CB. */
export function callback(res) {
  assert.equal(res.status, 302, `expected a redirect to the app: ${res.status} ${res.text.slice(0, 300)}`);
  const loc = new URL(res.headers.get('location'));
  assert.equal(loc.origin + loc.pathname, CB, `redirected to ${loc}`);
  return loc;
}

/** The login page the provider sent the browser to: its URL, asserting the path. */
export function loginPage(res, base) {
  assert.equal(res.status, 302, `expected the login page: ${res.status} ${res.text.slice(0, 300)}`);
  const url = new URL(res.headers.get('location'), base);
  assert.equal(url.pathname, '/login', `redirected to ${url}`);
  return url;
}

/**
 * The portal's login round trip: res is the provider's redirect to /login; logs user in again
 * (a new session; otp when given) and follows the page's next URL back to the provider.
 * Returns { login: the login page URL, res: the provider's answer after the login }.
 */
export async function loginAndContinue(user, res, login, password, otp) {
  const page = loginPage(res, user.base);
  const body = otp ? { login, password, otp } : { login, password };
  const ok = await user.post('/api/v1/session', body, { csrf: false });
  expectStatus(ok, 200, `login ${login}`);
  user.csrf = ok.json.csrf_token;
  user.session = ok.json;
  const next = page.searchParams.get('next');
  assert.ok(next && next.startsWith('/oidc/authorize?'), `next: ${next}`);
  return { login: page, res: await user.get(next) };
}

/**
 * The code flow with PKCE (S256), state and nonce through user's browser, then the token
 * request by openid-client. extra adds or overrides authorization parameters (a null value
 * drops one, e.g. nonce: null). Returns { tokens, loc, verifier }.
 */
export async function codeFlow(user, config, extra = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const params = {
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    state: oidc.randomState(), nonce: oidc.randomNonce(), ...extra,
  };
  for (const k of Object.keys(params)) if (params[k] === null) delete params[k];
  const loc = callback(await authorize(user, config, params));
  const tokens = await exchange(config, loc, params, verifier);
  return { tokens, loc, verifier };
}

/** The token request for the callback loc of an authorization request with params. */
export function exchange(config, loc, params, verifier) {
  return oidc.authorizationCodeGrant(config, loc, {
    pkceCodeVerifier: params.code_challenge ? verifier : undefined,
    expectedState: params.state ?? oidc.skipStateCheck,
    expectedNonce: params.nonce,
    idTokenExpected: true,
  });
}

/** POSTs a form to base + path; answers { status, headers, text, json }. */
export async function postForm(base, path_, obj, headers = {}) {
  const res = await fetch(base + path_, {
    method: 'POST', body: form(obj), redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
}

/** The Basic Authorization header of a confidential app (RFC 6749 2.3.1). */
export function basic(app) {
  const id = encodeURIComponent(app.client_id);
  const secret = encodeURIComponent(app.client_secret);
  return { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` };
}

/** The decoded payload of a JWT (no verification: openid-client did that). */
export function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** The RFC 6238 code (HMAC-SHA1, 6 digits, 30 s steps) of a base32 secret at unix time t. */
export function totp(secretB32, t = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretB32.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    assert.ok(v >= 0, `not base32: ${ch}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const h = crypto.createHmac('sha1', key).update(counter).digest();
  const off = h[h.length - 1] & 15;
  return String((h.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

/* ---- HTTPS with a certificate of the test ------------------------------------------------ */

/**
 * A self-signed certificate for 127.0.0.1 (an IP subjectAltName, as TLS clients check), made
 * with the openssl CLI in dir. Returns { cert, key } (file paths) and ca (the PEM text).
 */
export function makeCert(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  return new Promise((resolve, reject) => {
    execFile('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
      '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { timeout: 60000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`openssl: ${err.message}\n${stderr}`));
      else resolve({ cert, key, ca: fs.readFileSync(cert, 'utf8') });
    });
  });
}

/**
 * A fetch (the subset openid-client and Client use) over node:https that trusts ca and nothing
 * else: certificate and host name checks stay on. Redirects are never followed.
 */
export function trustingFetch(ca) {
  const agent = new https.Agent({ ca, keepAlive: false });
  return (url, options = {}) => new Promise((resolve, reject) => {
    const headers = {};
    new Headers(options.headers).forEach((v, k) => { headers[k] = v; });
    let { body } = options;
    if (body instanceof URLSearchParams) {
      body = body.toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    }
    const req = https.request(new URL(url), { method: options.method || 'GET', headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const x of [].concat(v)) h.append(k, x);
        const empty = [204, 304].includes(res.statusCode);
        resolve(new Response(empty ? null : Buffer.concat(chunks), { status: res.statusCode, headers: h }));
      });
    });
    req.on('error', reject);
    if (options.signal) options.signal.addEventListener('abort', () => req.destroy(new Error('aborted')));
    if (body !== undefined && body !== null) req.write(body);
    req.end();
  });
}
