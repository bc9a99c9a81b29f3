// Browser test of single sign-on: a real relying party (openid-client) launched from the portal,
// signed in without a second password, and signed out by the portal's back-channel logout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as oidc from 'openid-client';
import * as jose from 'jose';
import {
  useCityServer, ADMIN_PW, DEMO_PW, baseUrl, openBrowser, shot, login, T,
} from './lib/harness.mjs';

useCityServer();

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (body) => `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>测试应用</title></head><body>${body}</body></html>`;

/* The relying party: `/` links to `/login`, which starts a code flow with PKCE; `/cb` redeems the
 * code (ID-token signature checked) and greets the user; `/bc` takes back-channel logouts. Its
 * pending flows are kept in memory by state: one browser, one test. */
function startRp() {
  const rp = { pending: new Map(), sessions: [], logouts: [], errors: [] };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, rp.base);
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', ...headers });
      res.end(body);
    };
    try {
      if (req.method === 'GET' && url.pathname === '/') {
        send(200, page('<h1>测试应用</h1><a id="login" href="/login">登录</a>'));
      } else if (req.method === 'GET' && url.pathname === '/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        rp.pending.set(state, { verifier, nonce });
        const to = oidc.buildAuthorizationUrl(rp.config, {
          redirect_uri: rp.base + '/cb', scope: 'openid profile', state, nonce,
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
        });
        send(302, '', { Location: to.href });
      } else if (req.method === 'GET' && url.pathname === '/cb') {
        const flow = rp.pending.get(url.searchParams.get('state'));
        assert.ok(flow, 'a callback for a flow this RP started');
        rp.pending.delete(url.searchParams.get('state'));
        const tokens = await oidc.authorizationCodeGrant(rp.config, url, {
          pkceCodeVerifier: flow.verifier, expectedState: url.searchParams.get('state'), expectedNonce: flow.nonce,
        });
        const claims = tokens.claims();
        const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
        rp.sessions.push({ claims, info });
        send(200, page(`<p data-test="rp-user">已登录: ${esc(info.name || claims.name)}</p>`));
      } else if (req.method === 'POST' && url.pathname === '/bc') {
        let body = '';
        for await (const c of req) body += c;
        const token = new URLSearchParams(body).get('logout_token');
        /* Back-channel logout 1.0, 2.6: a JWT signed by the OP, for this client, with the event. */
        const { payload, protectedHeader } = await jose.jwtVerify(token, rp.jwks, {
          issuer: rp.config.serverMetadata().issuer, audience: rp.clientId, maxTokenAge: 300,
        });
        rp.logouts.push({ payload, typ: protectedHeader.typ });
        res.writeHead(200, { 'Cache-Control': 'no-store' });
        res.end();
      } else {
        send(404, page('not found'));
      }
    } catch (e) {
      rp.errors.push(String(e && e.stack ? e.stack : e));
      if (!res.headersSent) send(500, page('error'));
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      rp.base = `http://127.0.0.1:${server.address().port}`;
      rp.close = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
      resolve(rp);
    });
  });
}

async function registerApp(rp) {
  const res = await fetch(baseUrl + '/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: 'admin', password: ADMIN_PW }),
  });
  assert.equal(res.status, 200, 'admin login');
  const cookie = (res.headers.get('set-cookie') || '').split(';')[0];
  const me = await res.json();
  const clientId = `sso-rp-${Date.now().toString(36)}`;
  const reg = await fetch(baseUrl + '/api/v1/apps', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': me.csrf_token },
    body: JSON.stringify({
      client_id: clientId, name: '单点登录测试应用', org_id: me.roles[0].org.id, first_party: true,
      launch_url: rp.base + '/', redirect_uris: [rp.base + '/cb'], backchannel_logout_uri: rp.base + '/bc',
    }),
  });
  const app = await reg.json();
  assert.equal(reg.status, 201, `register the app: ${JSON.stringify(app)}`);
  return app;
}

test('SSO: teacher1 opens an app from the portal, is signed in there, and signed out by the portal', async (t) => {
  const rp = await startRp();
  t.after(() => rp.close());
  const app = await registerApp(rp);
  rp.clientId = app.client_id;
  rp.config = await oidc.discovery(new URL(baseUrl), app.client_id, {}, oidc.ClientSecretBasic(app.client_secret),
    { execute: [oidc.allowInsecureRequests] });
  oidc.enableNonRepudiationChecks(rp.config);
  rp.jwks = jose.createRemoteJWKSet(new URL(rp.config.serverMetadata().jwks_uri));

  const { page: p, errors } = await openBrowser(t);
  await p.goto(baseUrl + '/login');
  await p.getByRole('heading', { name: '用户登录' }).waitFor();
  await login(p, 'teacher1', DEMO_PW);

  /* The launcher lists the app; its link is the launch URL. */
  const link = p.locator(`[data-test="app-${app.client_id}"]`);
  await link.waitFor();
  assert.match(await link.innerText(), /单点登录测试应用/);
  await link.click();
  await p.waitForURL(rp.base + '/');
  await p.locator('#login').click();

  /* No password asked: straight back to the RP, signed in as teacher1. */
  const who = p.locator('[data-test=rp-user]');
  await who.waitFor();
  assert.deepEqual(rp.errors, []);
  assert.equal(rp.sessions.length, 1);
  const { claims, info } = rp.sessions[0];
  assert.equal(info.preferred_username, 'teacher1');
  assert.ok(info.name, 'a name in userinfo');
  assert.equal((await who.innerText()).trim(), `已登录: ${info.name}`);
  assert.ok(claims.sid, 'the ID token carries the session id');
  await shot(p, 'sso-app');

  /* Log out of the portal: the RP hears of it by back channel, for that very session. */
  await p.goto(baseUrl + '/');
  await p.getByRole('button', { name: '退出登录' }).click();
  await p.getByRole('heading', { name: '用户登录' }).waitFor();
  const deadline = Date.now() + 8000;
  while (!rp.logouts.length && !rp.errors.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(rp.errors, []);
  assert.equal(rp.logouts.length, 1, 'one back-channel logout token');
  const lt = rp.logouts[0];
  assert.equal(lt.typ, 'logout+jwt');
  assert.equal(lt.payload.sid, claims.sid);
  assert.equal(lt.payload.sub, claims.sub);
  assert.ok(lt.payload.events && lt.payload.events['http://schemas.openid.net/event/backchannel-logout']);
  assert.equal(lt.payload.nonce, undefined);

  /* A new authorization request from the RP now leads to the portal's login page. */
  await p.goto(rp.base + '/');
  await p.locator('#login').click();
  await p.waitForURL((u) => u.href.startsWith(baseUrl + '/login'), { timeout: T });
  await p.getByRole('heading', { name: '用户登录' }).waitFor();
  assert.match(decodeURIComponent(new URL(p.url()).searchParams.get('next') || ''), /^\/oidc\/authorize\?/);
  assert.equal(rp.sessions.length, 1, 'no second sign-in without a password');
  assert.deepEqual(rp.errors, []);
  assert.deepEqual(errors, []);
});
