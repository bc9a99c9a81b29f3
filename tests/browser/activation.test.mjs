// Browser test of accounts for everyone: 账号开通 (bulk accounts, printable sheets with QR codes),
// the first login with a one-time code forced to choose a password, and the 注册率 drill-down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useCityServer, DEMO_PW, baseUrl, openBrowser, shot, login,
} from './lib/harness.mjs';

useCityServer();

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
