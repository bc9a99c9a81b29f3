// Browser test of 学年学期 (list, validation as you type, the API's field errors, creation), the
// current term in the top bar, and the org page's Excel download links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCityServer, ADMIN_PW, baseUrl, openBrowser, shot, login, apiSession } from './lib/harness.mjs';

useCityServer();

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

test('admin: school years list, inline and API field errors, create 2027-2028, term in the top bar', async (t) => {
  const { page, errors } = await openBrowser(t);
  const admin = await apiSession('admin', ADMIN_PW);
  const cur = await admin.get('/school-years/current');

  await page.goto(baseUrl + '/login');
  await login(page, 'admin', ADMIN_PW);

  /* The top bar shows today's year and term exactly when the API has one. */
  const bar = page.locator('[data-test=current-term]');
  if (cur.school_year && cur.term) {
    const term = cur.term.term === 1 ? '第一学期' : '第二学期';
    await bar.waitFor();
    assert.equal((await bar.innerText()).trim(), `${cur.school_year.name} 学年 ${term}`);
  } else {
    assert.equal(await bar.count(), 0);
  }

  await page.locator('[data-test=nav-years]').click();
  await page.waitForURL(/\/school-years$/);
  await page.getByRole('heading', { name: '学年学期' }).waitFor();
  const row = page.locator('tr[data-year="2026-2027"]');
  await row.waitFor();
  assert.equal(await row.locator('td[data-term="1"]').innerText(), '2026-09-01 – 2027-01-20');
  assert.equal(await row.locator('td[data-term="2"]').innerText(), '2027-02-20 – 2027-07-15');

  /* Validation as you type: format, then consecutive years; a good name clears the message. */
  const name = page.getByLabel('学年名称');
  const nameErr = page.locator('[data-test=err-name]');
  await name.fill('2027/28');
  assert.equal(await nameErr.innerText(), '格式应为 YYYY-YYYY');
  await name.fill('2027-2029');
  assert.equal(await nameErr.innerText(), '两个年份须相邻（如 2027-2028）');
  await name.fill('2027-2028');
  assert.equal(await nameErr.innerText(), '');

  /* A start date in the wrong year and term 2 before term 1 end are caught before sending. */
  await page.getByLabel('开始日期', { exact: true }).fill('2028-09-01');
  assert.equal(await page.locator('[data-test=err-start_date]').innerText(), '开始日期须在 2027 年内');
  await page.getByLabel('开始日期', { exact: true }).fill('2027-09-01');
  assert.equal(await page.locator('[data-test=err-start_date]').innerText(), '');
  await page.getByLabel('结束日期', { exact: true }).fill('2028-07-15');
  await page.getByLabel('第一学期 · 开始日期').fill('2027-09-01');
  await page.getByLabel('第一学期 · 结束日期').fill('2028-01-20');
  await page.getByLabel('第二学期 · 开始日期').fill('2028-01-10');
  await page.getByLabel('第二学期 · 结束日期').fill('2028-07-10');
  assert.equal(await page.locator('[data-test="err-terms[1].start_date"]').innerText(), '第二学期须在第一学期结束之后开始');
  await page.getByLabel('第二学期 · 开始日期').fill('2028-02-20');
  assert.equal(await page.locator('[data-test="err-terms[1].start_date"]').innerText(), '');

  /* Only the server knows the other years: an overlap comes back as its start_date error. */
  await page.getByLabel('开始日期', { exact: true }).fill('2027-07-01');
  assert.equal(await page.locator('[data-test=err-start_date]').innerText(), '');
  await page.getByRole('button', { name: '创建学年' }).click();
  const startErr = page.locator('[data-test=err-start_date]');
  await page.waitForFunction(() => document.querySelector('[data-test=err-start_date]').textContent.includes('overlaps'));
  assert.match(await startErr.innerText(), /start_date: overlaps another school year/);
  await shot(page, 'school-years-error');

  /* Fixed: created, listed, and the form is empty again. */
  await page.getByLabel('开始日期', { exact: true }).fill('2027-09-01');
  assert.equal(await startErr.innerText(), '');
  await page.getByRole('button', { name: '创建学年' }).click();
  await page.locator('[data-test=year-created]').waitFor();
  assert.equal(await page.locator('[data-test=year-created]').innerText(), '已创建学年 2027-2028。');
  const created = page.locator('tr[data-year="2027-2028"]');
  await created.waitFor();
  assert.equal(await created.locator('td[data-term="2"]').innerText(), '2028-02-20 – 2028-07-10');
  assert.equal(await name.inputValue(), '');
  const listed = (await admin.get('/school-years')).items.map((y) => y.name);
  assert.ok(listed.includes('2027-2028'), listed.join());
  await shot(page, 'school-years');

  /* English too. */
  await page.locator('[data-test=lang]').click();
  await page.getByRole('heading', { name: 'School years and terms' }).waitFor();
  await page.locator('[data-test=lang]').click();
  assert.deepEqual(errors, []);
});

test('org page: Excel links of the children and of the class rosters download xlsx', async (t) => {
  const { page, errors } = await openBrowser(t);
  const admin = await apiSession('admin', ADMIN_PW);
  const city = admin.me.roles.find((r) => r.role === 'city_admin').org.id;
  const district = (await admin.get(`/orgs/${city}/children?limit=1`)).items[0];
  const school = (await admin.get(`/orgs/${district.id}/children?limit=1`)).items[0];
  const grade = (await admin.get(`/orgs/${school.id}/children?limit=1`)).items[0];
  const klass = (await admin.get(`/orgs/${grade.id}/children?limit=1`)).items[0];
  assert.equal(school.kind, 'school');
  assert.equal(klass.kind, 'class');

  await page.goto(baseUrl + '/login');
  await login(page, 'admin', ADMIN_PW);

  const fetchXlsx = async (href) => {
    /* page.request shares the browser context's cookies: the same session as a click. */
    const res = await page.request.get(new URL(href, baseUrl).href);
    assert.equal(res.status(), 200, href);
    assert.equal(res.headers()['content-type'], XLSX);
    const body = await res.body();
    assert.equal(body.subarray(0, 2).toString(), 'PK'); /* a zip container */
    return res;
  };

  await page.goto(`${baseUrl}/orgs/${school.id}`);
  const link = page.locator('[data-test=children-xlsx]');
  await link.waitFor();
  assert.equal(await link.innerText(), '导出 Excel');
  assert.equal(await link.getAttribute('href'), `/api/v1/orgs/${school.id}/children.xlsx`);
  assert.notEqual(await link.getAttribute('download'), null);
  const res = await fetchXlsx(await link.getAttribute('href'));
  assert.match(res.headers()['content-disposition'], /^attachment;/);

  await page.goto(`${baseUrl}/orgs/${klass.id}`);
  for (const role of ['student', 'teacher']) {
    const a = page.locator(`[data-test=${role}-xlsx]`);
    await a.waitFor();
    assert.equal(await a.getAttribute('href'), `/api/v1/orgs/${klass.id}/people.xlsx?role=${role}`);
    await fetchXlsx(await a.getAttribute('href'));
  }
  await shot(page, 'class-xlsx-links');

  /* Without the session cookie the same link is refused: the download really uses the session. */
  const anon = await fetch(`${baseUrl}/api/v1/orgs/${school.id}/children.xlsx`);
  assert.equal(anon.status, 401);
  assert.deepEqual(errors, []);
});
