// Browser test of 数据质量: a run started with 立即检查, the roll-up table district by district
// (clickable, with the way back up), the findings filtered by check with links to the records to
// fix, the Excel download, and who sees the page (analysts read, only administrators run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCityServer, ADMIN_PW, DEMO_PW, baseUrl, openBrowser, shot, login, apiSession } from './lib/harness.mjs';

useCityServer();

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

test('admin: 立即检查, the roll-up by district, findings by check with links, Excel', async (t) => {
  const { page, errors } = await openBrowser(t);
  const admin = await apiSession('admin', ADMIN_PW);
  const city = admin.me.roles.find((r) => r.role === 'city_admin').org.id;

  await page.goto(baseUrl + '/login');
  await login(page, 'admin', ADMIN_PW);
  await page.locator('[data-test=nav-quality]').click();
  await page.waitForURL(/\/quality$/);
  await page.getByRole('heading', { name: /^数据质量/ }).waitFor();
  await page.locator('[data-test=q-last-run]').waitFor();
  assert.equal(await page.locator('[data-test=q-last-run]').innerText(), '尚未检查');
  assert.match(await page.locator('[data-test=q-next-run]').innerText(), /^下次自动检查：\d{4}-\d\d-\d\d 02:00$/);

  await page.locator('[data-test=q-run]').click();
  await page.locator('[data-test=q-notice]').waitFor();
  const doc = await admin.get(`/orgs/${city}/quality`);
  assert.ok(doc.total.findings > 0, 'the demo city has seeded defects');
  assert.equal(await page.locator('[data-test=q-notice]').innerText(), `检查完成：共发现 ${doc.total.findings} 个问题。`);
  assert.match(await page.locator('[data-test=q-last-run]').innerText(), new RegExp(`^上次检查：.*（手动，${doc.total.findings} 个问题`));

  /* One row per district with the API's counts, and the total. */
  const rows = page.locator('[data-test=q-row]');
  assert.equal(await rows.count(), doc.children.length);
  for (const c of doc.children) {
    const row = page.locator(`[data-test=q-row][data-id="${c.id}"]`);
    assert.equal(await row.locator('td').nth(1).innerText(), String(c.findings));
  }
  assert.equal(await page.locator('[data-test=q-total] td').first().innerText(), String(doc.total.findings));
  /* Columns only for the checks that found something, named in Chinese. */
  const heads = await page.locator('[data-test=q-rollup] thead th').allInnerTexts();
  assert.ok(heads.includes('身份证号校验位错误'), heads.join('|'));
  await shot(page, 'quality-city');

  /* The findings filtered to one check; each links to the person to fix. */
  await page.locator('[data-test=q-filter]').selectOption('citizen_id_check_digit');
  const want = (await admin.get(`/orgs/${city}/quality/findings?check=citizen_id_check_digit`)).items;
  assert.ok(want.length > 0);
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=q-finding]').length === n
    && [...document.querySelectorAll('[data-test=q-finding]')].every((r) => r.dataset.check === 'citizen_id_check_digit'), want.length);
  const first = page.locator('[data-test=q-finding]').first();
  assert.match(await first.locator('td').nth(2).innerText(), /^身份证号 \d{6}\*{8}\d{3}[\dX] 的校验位错误/);
  assert.equal(await first.locator('td').nth(1).innerText(), '错误');
  const xlsx = page.locator('[data-test=q-xlsx]');
  assert.equal(await xlsx.getAttribute('href'), `/api/v1/orgs/${city}/quality/findings.xlsx?check=citizen_id_check_digit`);
  const res = await page.request.get(new URL(await xlsx.getAttribute('href'), baseUrl).href);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], XLSX);
  assert.equal((await res.body()).subarray(0, 2).toString(), 'PK');
  await first.locator('[data-test=q-record]').click();
  await page.waitForURL(new RegExp(`/people/${want[0].object_id}$`));
  await page.locator('[data-test=person-name]').waitFor();
  assert.match(await page.locator('[data-test=person-name]').innerText(), new RegExp(want[0].object_name));

  /* Down to a district and back up. */
  await page.goBack();
  await page.waitForURL(/\/quality$/);
  const district = doc.children[0];
  await page.locator(`[data-test=q-row][data-id="${district.id}"] button`).click();
  await page.waitForURL(new RegExp(`/quality/${district.id}$`));
  await page.getByRole('heading', { name: `数据质量 · ${district.name}` }).waitFor();
  const dDoc = await admin.get(`/orgs/${district.id}/quality`);
  await page.locator('[data-test=q-row]').first().waitFor();
  assert.equal(await page.locator('[data-test=q-row]').count(), dDoc.children.length);
  await shot(page, 'quality-district');
  await page.locator('[data-test=q-up]').click();
  await page.waitForURL(new RegExp(`/quality/${city}$`));
  assert.deepEqual(errors, []);
});

test('analyst reads without 立即检查; a teacher has no page', async (t) => {
  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');
  await login(page, 'analyst1', DEMO_PW);
  await page.locator('[data-test=nav-quality]').click();
  await page.locator('[data-test=q-total]').waitFor();
  assert.equal(await page.locator('[data-test=q-run]').count(), 0);

  const { page: p2 } = await openBrowser(t);
  await p2.goto(baseUrl + '/login');
  await login(p2, 'teacher1', DEMO_PW);
  assert.equal(await p2.locator('[data-test=nav-quality]').count(), 0);
  await p2.goto(baseUrl + '/quality');
  await p2.locator('.alert.error').waitFor();
  assert.equal(await p2.locator('[data-test=q-rollup]').count(), 0);
  assert.deepEqual(errors, []);
});
