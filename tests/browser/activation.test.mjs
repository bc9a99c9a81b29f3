// Browser test of accounts for everyone: 账号开通 (bulk accounts, printable sheets with QR codes),
// the first login with a one-time code forced to choose a password, and the 注册率 drill-down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.EDUBRAIN_BIN || path.join(repo, 'build/asan/edubrain');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.join(repo, 'build/artifacts');
const ADMIN_PW = 'Admin-pass-2026';
const DEMO_PW = 'Demo-pass-2026';
/* ASan builds start slowly and the demo city is generated first: generous timeouts. */
const T = 20000;

let tmp;
let server;
let baseUrl;
let serverLog = '';

function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ['serve', '--db', path.join(tmp, 'city.db'), '--listen', '127.0.0.1:0',
      '--web', path.join(repo, 'web/dist')], { stdio: ['ignore', 'pipe', 'pipe'] });
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

before(async () => {
  assert.ok(fs.existsSync(path.join(repo, 'web/dist/index.html')), 'web/dist is not built (tools/build_web.sh)');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-browser-'));
  execFileSync(BIN, ['demo', '--db', path.join(tmp, 'city.db'), '--scale', 'small',
    '--admin-password', ADMIN_PW, '--demo-password', DEMO_PW], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120000 });
  server = await startServer();
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

/* One browser per test, each with its own fresh profile directory. */
async function openBrowser(t, viewport = { width: 1280, height: 860 }) {
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

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: true });

async function login(page, who, pw) {
  await page.getByLabel('账号').fill(who);
  await page.getByLabel('密码').fill(pw);
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('[data-test=welcome]').waitFor();
}

/* A small JSON client with its own session cookie, to pick test targets through the API. */
async function apiSession(who, pw) {
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


test('school admin: bulk accounts for a class, printable sheets with QR codes', async (t) => {
  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');
  await login(page, 'school1', DEMO_PW);
  await page.getByRole('link', { name: '账号开通' }).click();
  await page.getByRole('heading', { name: '账号开通' }).waitFor();
  await page.locator('[data-test=act-org-level-1]').selectOption({ index: 1 });
  await page.locator('[data-test=act-org-level-2]').selectOption({ index: 1 });
  await page.locator('[data-test=act-create]').click();
  await page.locator('[data-test=act-message]').waitFor();
  const rows = await page.locator('[data-test=act-table] tbody tr').count();
  assert.ok(rows > 5, `accounts listed: ${rows}`);
  await page.locator('[data-test=act-print]').click();
  await page.waitForURL(/\/activation\/sheet/);
  await page.locator('[data-test=sheet]').first().waitFor();
  const sheetRows = await page.locator('[data-test=sheet-row]').count();
  assert.equal(sheetRows, rows);
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=sheet-qr]').length === n, sheetRows);
  const src = await page.locator('[data-test=sheet-qr]').first().getAttribute('src');
  assert.match(src, /^data:image\/png;base64,/);
  /* The print stylesheet hides the frame and breaks a page after each class. */
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.topbar').isVisible(), false);
  const brk = await page.locator('[data-test=sheet]').first().evaluate((el) => getComputedStyle(el).breakAfter);
  assert.ok(['page', 'always'].includes(brk), `break-after: ${brk}`);
  await page.emulateMedia({ media: 'screen' });
  const first = page.locator('[data-test=sheet-row]').first();
  const loginName = (await first.locator('td').nth(1).innerText()).trim();
  const code = (await first.locator('td').nth(2).innerText()).trim();
  assert.match(code, /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
  await shot(page, 'activation-sheet');

  /* The QR code's link: the login page with login and code in the fragment, then the forced
   * password change, then the portal. */
  const { page: p2, errors: e2 } = await openBrowser(t);
  await p2.goto(`${baseUrl}/login#${new URLSearchParams({ login: loginName, code })}`);
  assert.equal(await p2.getByLabel('账号').inputValue(), loginName);
  assert.equal(new URL(p2.url()).hash, '', 'the code leaves the address bar');
  await p2.getByRole('button', { name: '登录' }).click();
  await p2.waitForURL(/\/password/);
  await p2.locator('[data-test=pw-first]').waitFor();
  await p2.goto(baseUrl + '/orgs');
  await p2.waitForURL(/\/password/);
  await p2.locator('#pw-old').fill(code);
  await p2.locator('#pw-new').fill('Chosen-pass-2026');
  await p2.locator('#pw-confirm').fill('Chosen-pass-2026');
  await p2.locator('form button[type=submit]').click();
  await p2.locator('[data-test=welcome]').waitFor();
  assert.deepEqual(e2, []);
  assert.deepEqual(errors, []);
});

test('school admin: registration rate with drill-down', async (t) => {
  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');
  await login(page, 'school1', DEMO_PW);
  await page.getByRole('link', { name: '注册率' }).click();
  await page.locator('[data-test=reg-table]').waitFor();
  const total = await page.locator('[data-test=reg-total]').innerText();
  assert.match(total, /合计/);
  const n = await page.locator('[data-test=reg-row]').count();
  assert.ok(n > 0, 'grades listed');
  await page.locator('[data-test=reg-row] button').first().click();
  await page.waitForURL(/\/registration\/\d+/);
  await page.locator('[data-test=reg-up]').waitFor();
  await page.locator('[data-test=reg-row]').first().waitFor();
  await shot(page, 'registration');
  assert.deepEqual(errors, []);
});
