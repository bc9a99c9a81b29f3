// Browser test of 数据上报: school1 uploads a sheet of homework minutes for one class, sees a
// value out of range reported by line, then uploads the corrected sheet; the cube answers it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCityServer, DEMO_PW, baseUrl, openBrowser, shot, login } from './lib/harness.mjs';
import { Client } from '../e2e/lib/server.mjs';

useCityServer();

test('school1 uploads homework minutes of a class from a sheet', async (t) => {
  const api = new Client(baseUrl);
  await api.mustLogin('school1', DEMO_PW);
  const school = api.session.roles.find((r) => r.role === 'school_admin').org;
  const grade = (await api.get(`/api/v1/orgs/${school.id}/children`)).json.items[0];
  const cls = (await api.get(`/api/v1/orgs/${grade.id}/children`)).json.items[0];
  const day = '2026-11-27';

  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');
  await login(page, 'school1', DEMO_PW);
  await page.locator('[data-test=nav-brain]').click();
  await page.locator('[data-test=nav-brain-upload]').click();
  await page.getByRole('heading', { name: '数据上报（表格导入）' }).waitFor();
  await page.locator('[data-test=obs-element]').selectOption('homework.minutes');
  await page.getByText('上报层级：班级').waitFor();
  /* The school is the caller's only root: chosen already; then the grade and the class. */
  await page.locator('[data-test=obs-org-level-1]').selectOption(String(grade.id));
  await page.locator('[data-test=obs-org-level-2]').selectOption(String(cls.id));

  await page.locator('[data-test=obs-file]').setInputFiles({ name: 'hw.csv', mimeType: 'text/csv', buffer: Buffer.from(`日期,数值\n${day},45\n${day},700\n`) });
  await page.locator('[data-test=obs-upload]').click();
  await page.locator('[data-test=obs-summary]').waitFor();
  assert.match(await page.locator('[data-test=obs-summary]').innerText(), /错误 1 个/);
  assert.equal(await page.locator('[data-test=obs-report] tr[data-line="3"]').count(), 1, 'the bad value is on line 3');
  let cell = (await api.get(`/api/v1/cells?element=homework.minutes&org=${cls.id}&from=${day}&to=${day}`)).json;
  assert.equal(cell.count, 0, 'a sheet with an error writes nothing');
  await shot(page, 'obs-upload-error');

  await page.locator('[data-test=obs-file]').setInputFiles({ name: 'hw.csv', mimeType: 'text/csv', buffer: Buffer.from(`日期,数值\n${day},45\n`) });
  await page.locator('[data-test=obs-upload]').click();
  await page.locator('[data-test=obs-summary]', { hasText: '已写入 1 条数据' }).waitFor();
  cell = (await api.get(`/api/v1/cells?element=homework.minutes&org=${cls.id}&from=${day}&to=${day}`)).json;
  assert.deepEqual([cell.count, cell.sum], [1, 45]);
  assert.deepEqual(errors, []);
});
