// Browser test of the OneRoster import wizard (上传 → 校验报告 → 导入结果) as a school
// administrator: a package with an error shows every finding (file, line, column, Chinese
// message) and writes nothing; a valid one shows the upload progress, the job's progress and
// the counts, and its class appears in the API; the org page offers the OneRoster export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCityServer, DEMO_PW, baseUrl, openBrowser, shot, login, apiSession } from './lib/harness.mjs';
import { packageZip } from '../e2e/lib/oneroster.mjs';

useCityServer();

function pkg(school, { classType = 'homeroom' } = {}) {
  const sid = 'br-school';
  return {
    orgs: { mode: 'delta', rows: [{ sourcedId: sid, name: school.name, type: 'school', identifier: school.school_code }] },
    academicSessions: { mode: 'delta', rows: [
      { sourcedId: 'br-y', title: '2026-2027', type: 'schoolYear', startDate: '2026-09-01', endDate: '2027-07-15', schoolYear: '2027' },
    ] },
    courses: { mode: 'delta', rows: [{ sourcedId: 'br-k', schoolYearSourcedId: 'br-y', title: '七年级', grades: '07', orgSourcedId: sid }] },
    classes: { mode: 'delta', rows: [
      { sourcedId: 'br-c', title: '七年级(9)班', grades: '07', courseSourcedId: 'br-k', classType, schoolSourcedId: sid, termSourcedIds: 'br-y' },
    ] },
    users: { mode: 'delta', rows: [
      { sourcedId: 'br-u1', enabledUser: 'true', orgSourcedIds: sid, role: 'student', username: 'br-u1', givenName: '一鸣', familyName: '赵' },
      { sourcedId: 'br-u2', enabledUser: 'true', orgSourcedIds: sid, role: 'student', username: 'br-u2', givenName: '二丫', familyName: '钱' },
    ] },
    enrollments: { mode: 'delta', rows: [
      { sourcedId: 'br-e1', classSourcedId: 'br-c', schoolSourcedId: sid, userSourcedId: 'br-u1', role: 'student', beginDate: '2026-09-01' },
      { sourcedId: 'br-e2', classSourcedId: 'br-c', schoolSourcedId: sid, userSourcedId: 'br-u2', role: 'student', beginDate: '2026-09-01' },
    ] },
  };
}

test('school1: the wizard rejects a package with an error, then imports a valid one', async (t) => {
  const { page, errors } = await openBrowser(t);
  const api = await apiSession('school1', DEMO_PW);
  const schoolId = api.me.roles.find((r) => r.role === 'school_admin').org.id;
  const school = await api.get(`/orgs/${schoolId}`);
  const gradesBefore = (await api.get(`/orgs/${schoolId}/children?limit=500`)).items;

  await page.goto(baseUrl + '/login');
  await login(page, 'school1', DEMO_PW);
  await page.locator('[data-test=nav-oneroster]').click();
  await page.waitForURL(/\/oneroster-import$/);
  await page.getByRole('heading', { name: 'OneRoster 数据导入' }).waitFor();
  assert.equal(await page.locator('[data-test=steps] li.active').innerText(), '上传');
  assert.equal(await page.getByLabel('导入到').inputValue(), String(schoolId));

  /* Not a zip: caught before sending. */
  await page.locator('[data-test=file]').setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n') });
  assert.equal(await page.locator('[data-test=err-file]').innerText(), '请选择 .zip 文件（OneRoster 数据包）');

  /* A package with an error: every finding listed, nothing written. */
  const bad = await packageZip(pkg(school, { classType: 'Homeroom' }));
  await page.locator('[data-test=file]').setInputFiles({ name: 'bad.zip', mimeType: 'application/zip', buffer: bad });
  assert.equal(await page.locator('[data-test=err-file]').innerText(), '');
  await page.locator('[data-test=start]').click();
  await page.locator('[data-test=verdict]').waitFor();
  assert.equal(await page.locator('[data-test=job-state]').getAttribute('data-state'), 'failed');
  assert.equal(await page.locator('[data-test=verdict]').innerText(), '数据包有错误，已拒绝，未写入任何数据。请修正后重新上传。');
  const row = page.locator('[data-test=findings] tr[data-code=enum_case]');
  assert.equal(await row.count(), 1);
  const cells = await row.locator('td').allInnerTexts();
  assert.equal(cells[0], '错误');
  assert.deepEqual(cells.slice(1, 4), ['classes.csv', '2', 'classType']);
  assert.match(cells[4], /“Homeroom”大小写错误，应为“homeroom”/);
  assert.match(await page.locator('[data-test=summary]').innerText(), /^1 个错误/);
  assert.equal(await page.locator('[data-test=report-xlsx]').getAttribute('href'),
    `/api/v1/imports/oneroster/${/#(\d+)/.exec(await page.locator('[data-test=job-state]').innerText())[1]}/report.xlsx`);
  await shot(page, 'oneroster-rejected');
  assert.deepEqual((await api.get(`/orgs/${schoolId}/children?limit=500`)).items.map((g) => g.id),
    gradesBefore.map((g) => g.id), 'nothing was written');

  /* The valid package: upload progress to 100 %, the job's rows, the counts. */
  await page.locator('[data-test=again]').click();
  assert.equal(await page.locator('[data-test=steps] li.active').innerText(), '上传');
  await page.locator('[data-test=file]').setInputFiles({ name: 'good.zip', mimeType: 'application/zip', buffer: await packageZip(pkg(school)) });
  await page.locator('[data-test=start]').click();
  await page.locator('[data-test=verdict]').waitFor();
  assert.equal(await page.locator('[data-test=upload-progress]').evaluate((p) => p.value), 100);
  assert.equal(await page.locator('[data-test=job-state]').getAttribute('data-state'), 'done');
  assert.equal(await page.locator('[data-test=job-progress]').evaluate((p) => p.value), 100);
  assert.equal(await page.locator('[data-test=job-rows]').innerText(), '已处理 8 / 8 行');
  assert.equal(await page.locator('[data-test=steps] li.active').innerText(), '导入结果');
  assert.equal(await page.locator('[data-test=verdict]').innerText(), '导入完成，数据已写入。');
  assert.equal(await page.locator('[data-test=counts] tr[data-kind=students] [data-col=created]').innerText(), '2');
  assert.equal(await page.locator('[data-test=counts] tr[data-kind=classes] [data-col=created]').innerText(), '1');
  assert.equal(await page.locator('[data-test=findings]').count(), 0);
  await shot(page, 'oneroster-imported');

  /* The API sees the class with its two students. */
  const grades = (await api.get(`/orgs/${schoolId}/children?limit=500`)).items.filter((g) => g.grade_code === '21' && g.school_year === 2026);
  let found = null;
  for (const g of grades) {
    found = found || (await api.get(`/orgs/${g.id}/children?limit=500`)).items.find((c) => c.name === '七年级(9)班');
  }
  assert.ok(found, 'the class was imported');
  const roster = (await api.get(`/orgs/${found.id}/people?role=student`)).items.map((p) => p.name).sort();
  assert.deepEqual(roster, ['赵一鸣', '钱二丫'].sort());

  /* The org page offers the export of the school. */
  await page.goto(`${baseUrl}/orgs/${schoolId}`);
  const exp = page.locator('[data-test=oneroster-export]');
  await exp.waitFor();
  assert.equal(await exp.innerText(), '导出 OneRoster');
  assert.equal(await exp.getAttribute('href'), `/api/v1/orgs/${schoolId}/oneroster.zip`);
  assert.deepEqual(errors, []);
});
