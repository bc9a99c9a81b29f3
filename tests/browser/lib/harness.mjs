// The browser tests' shared harness: a demo city served by the real binary, and a headless
// Debian Chromium per test (playwright-core; never a downloaded browser).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = process.env.EDUBRAIN_BIN || path.join(repo, 'build/asan/edubrain');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.join(repo, 'build/artifacts');
export const ADMIN_PW = 'Admin-pass-2026';
export const DEMO_PW = 'Demo-pass-2026';
/* ASan builds start slowly and the demo city is generated first: generous timeouts. */
export const T = 20000;

let tmp;
let server;
export let baseUrl; /* a live binding: set once the server listens */
export let serverLog = '';

function startServer(mfaAdmins) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ['serve', '--db', path.join(tmp, 'city.db'), '--listen', '127.0.0.1:0',
      '--web', path.join(repo, 'web/dist'), '--mfa-admins', mfaAdmins], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + serverLog)), 30000);
    const onData = (chunk) => {
      serverLog += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(serverLog);
      if (m && !baseUrl) {
        baseUrl = m[1];
        clearTimeout(timer);
        resolve(p);
      }
    };
    p.stderr.on('data', onData);
    p.stdout.on('data', (c) => { serverLog += c.toString(); });
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (!baseUrl) reject(new Error(`server exited with ${code}:\n${serverLog}`));
    });
  });
}

/**
 * Registers the file's before/after hooks: a small demo city and its server. mfaAdmins is the
 * server's --mfa-admins policy: 'optional' by default, so that administrators log in with a
 * password alone; 'required' (the server's own default) for the tests of the second factor.
 * scale is the demo's --scale: 'small' by default; 'city' (about 1,300 schools, for the map's
 * clustering) without the daily history, which would add minutes and is not needed there.
 */
export function useCityServer({ mfaAdmins = 'optional', scale = 'small' } = {}) {
  before(async () => {
  assert.ok(fs.existsSync(path.join(repo, 'web/dist/index.html')), 'web/dist is not built (tools/build_web.sh)');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-browser-'));
  execFileSync(BIN, ['demo', '--db', path.join(tmp, 'city.db'), '--scale', scale,
    ...(scale === 'small' ? [] : ['--history', 'none']),
    '--admin-password', ADMIN_PW, '--demo-password', DEMO_PW], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 180000 });
  server = await startServer(mfaAdmins);
});

after(async () => {
  if (server && server.exitCode === null) {
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});
}

/* One browser per test, each with its own fresh profile directory. */
export async function openBrowser(t, viewport = { width: 1280, height: 860 }) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  ctx.setDefaultTimeout(T);
  t.after(async () => {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { ctx, page, errors };
}

export const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: true });

export async function login(page, who, pw) {
  await page.getByLabel('账号').fill(who);
  await page.getByLabel('密码').fill(pw);
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('[data-test=welcome]').waitFor();
}

/* A small JSON client with its own session cookie, to pick test targets through the API. */
export async function apiSession(who, pw) {
  const res = await fetch(baseUrl + '/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: who, password: pw }),
  });
  assert.equal(res.status, 200, `login ${who}`);
  const cookie = (res.headers.get('set-cookie') || '').split(';')[0];
  const me = await res.json();
  const get = async (p) => {
    const r = await fetch(baseUrl + '/api/v1' + p, { headers: { Cookie: cookie } });
    assert.equal(r.status, 200, 'GET ' + p);
    return r.json();
  };
  return { me, get };
}
