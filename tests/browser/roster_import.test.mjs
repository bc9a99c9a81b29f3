// Browser test of 名册导入: school1 downloads the template, uploads a CSV with a mistake and sees
// the finding by line and column, then uploads the corrected file, checks and imports it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCityServer, DEMO_PW, baseUrl, openBrowser, shot, login } from './lib/harness.mjs';
import { Client, makeCitizenId } from '../e2e/lib/server.mjs';

useCityServer();

test('school1 checks a roster, sees the mistake by line, then imports the corrected file', async (t) => {
  const api = new Client(baseUrl);
  await api.mustLogin('school1', DEMO_PW);
  const school = api.session.roles.find((r) => r.role === 'school_admin').org;
  const grades = (await api.get(`/api/v1/orgs/${school.id}/children`)).json.items;
  const cls = (await api.get(`/api/v1/orgs/${grades[0].id}/children`)).json.items[0];
  const before = (await api.get(`/api/v1/orgs/${cls.id}/stats`)).json.students;

  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');
  await login(page, 'school1', DEMO_PW);
  await page.locator('[data-test=nav-roster]').click();
  await page.getByRole('heading', { name: '名册导入' }).waitFor();
  assert.equal(await page.locator('[data-test=template]').getAttribute('href'), '/api/v1/roster-templates/students.xlsx');
  /* A school administrator imports into its own school, chosen already. */
  assert.equal(await page.getByLabel('导入到学校').inputValue(), String(school.id));

  const cid = makeCitizenId('440106', '2016-03-04', '051');
  const wrong = `姓名,性别,出生日期,身份证号,班级\n浏览器甲,男,2016-03-04,${cid},${cls.name}\n浏览器乙,男女,2016-03-05,,${cls.name}\n`;
  await page.locator('[data-test=file]').setInputFiles({ name: 'roster.csv', mimeType: 'text/csv', buffer: Buffer.from(wrong) });
  await page.locator('[data-test=check]').click();
  await page.locator('[data-test=summary]').waitFor();
  assert.match(await page.locator('[data-test=summary]').innerText(), /错误 1 个/);
  const row = page.locator('[data-test=findings] tr[data-code=bad_sex]');
  assert.equal(await row.getAttribute('data-line'), '3');
  assert.match(await row.innerText(), /性别应为“男”或“女”，而不是“男女”/);
  assert.ok(await page.locator('[data-test=import]').isDisabled(), 'a file with errors cannot be imported');
  await shot(page, 'roster-errors');

  const right = wrong.replace('男女', '女');
  await page.locator('[data-test=file]').setInputFiles({ name: 'roster.csv', mimeType: 'text/csv', buffer: Buffer.from(right) });
  await page.locator('[data-test=check]').click();
  await page.locator('[data-test=summary]', { hasText: '可登记 2 人' }).waitFor();
  await page.locator('[data-test=import]').click();
  await page.locator('[data-test=summary]', { hasText: '导入完成：已登记 2 人' }).waitFor();
  const after = (await api.get(`/api/v1/orgs/${cls.id}/stats`)).json.students;
  assert.equal(after, before + 2);
  assert.deepEqual(errors, []);
});
