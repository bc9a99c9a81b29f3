// Browser test of 交流轮岗: district1 proposes a rotation (validated as typed), each school's
// administrator agrees in its own browser, the row turns 交流中; a recruitment row checks the
// citizen ID as typed and the API's row error lands on the row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCityServer, ADMIN_PW, DEMO_PW, baseUrl, openBrowser, shot, login } from './lib/harness.mjs';
import { Client, makeCitizenId, breakCheckChar } from '../e2e/lib/server.mjs';

useCityServer();

const PW = 'Browser-exch-2026';

test('a rotation proposed by the district and agreed by both schools, through the UI', async (t) => {
  const admin = new Client(baseUrl);
  await admin.mustLogin('admin', ADMIN_PW);
  const school1 = new Client(baseUrl);
  await school1.mustLogin('school1', DEMO_PW);
  const district1 = new Client(baseUrl);
  await district1.mustLogin('district1', DEMO_PW);
  const schoolA = school1.session.roles.find((r) => r.role === 'school_admin').org;
  const districtA = district1.session.roles.find((r) => r.role === 'district_admin').org;
  const kids = (await district1.get(`/api/v1/orgs/${districtA.id}/children?limit=500`)).json.items;
  const a2 = kids.find((k) => k.kind === 'school' && k.id !== schoolA.id);
  assert.ok(a2, 'district A has a second school');
  const login2 = `bxa2${Date.now().toString(36)}`;
  const made = await admin.post('/api/v1/accounts', {
    login: login2, password: PW, display_name: '二校校管', must_change_password: false,
    roles: [{ role: 'school_admin', org_id: a2.id }],
  });
  assert.equal(made.status, 201);

  /* district1 proposes. */
  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');
  await login(page, 'district1', DEMO_PW);
  await page.locator('[data-test=nav-exchanges]').click();
  await page.getByRole('heading', { name: '发起交流' }).waitFor();
  await page.getByLabel('派出学校').selectOption({ label: schoolA.name });
  const teacherSel = page.getByLabel('教师', { exact: true });
  await teacherSel.locator('option:nth-child(2)').waitFor({ state: 'attached' });
  const teacherName = (await teacherSel.locator('option:nth-child(2)').innerText()).trim();
  await teacherSel.selectOption({ index: 1 });
  await page.getByLabel('接收学校').selectOption({ label: schoolA.name });
  assert.equal(await page.locator('[data-test=err-to_school_id]').innerText(), '接收学校不能是派出学校');
  await page.getByLabel('接收学校').selectOption({ label: a2.name });
  assert.equal(await page.locator('[data-test=err-to_school_id]').innerText(), '');
  await page.getByLabel('开始日期').fill('2027-03-01');
  await page.getByLabel('结束日期（轮岗）').fill('2027-02-01');
  assert.equal(await page.locator('[data-test=err-end_date]').innerText(), '须晚于开始日期');
  await page.getByLabel('结束日期（轮岗）').fill('2027-07-10');
  assert.equal(await page.locator('[data-test=err-end_date]').innerText(), '');
  await page.getByLabel('交流原因').fill('城乡对口支援');
  await page.locator('[data-test=xpropose-btn]').click();
  await page.getByText('已发起交流，等待两校确认。').waitFor();
  const row = page.locator('[data-test=exchanges] tbody tr', { hasText: teacherName });
  await row.waitFor();
  assert.equal(await row.locator('[data-test=xstate]').innerText(), '待学校确认');
  await shot(page, 'exchange-proposed');

  /* Each school agrees in its own browser, from its 待我处理 tab. */
  for (const [who, pw, state] of [['school1', DEMO_PW, '待学校确认'], [login2, PW, '交流中']]) {
    const b = await openBrowser(t);
    await b.page.goto(baseUrl + '/login');
    await login(b.page, who, pw);
    await b.page.locator('[data-test=nav-exchanges]').click();
    const mine = b.page.locator('[data-test=exchanges] tbody tr', { hasText: teacherName });
    await mine.waitFor();
    await mine.locator('[data-test=xact-agree]').click();
    /* After agreeing, the row leaves 待我处理; 全部 shows its new state. */
    await b.page.locator('[data-test=xfilter-all]').click();
    await b.page.locator('[data-test=exchanges] tbody tr', { hasText: teacherName }).locator('[data-test=xstate]', { hasText: state }).waitFor();
    assert.deepEqual(b.errors, []);
  }
  await page.reload();
  await page.locator('[data-test=xfilter-all]').click();
  await row.locator('[data-test=xstate]', { hasText: '交流中' }).waitFor();
  await shot(page, 'exchange-active');

  /* Recruitment: the citizen ID is checked as typed. */
  const good = makeCitizenId('440106', '1999-05-04', '123');
  await page.locator('[data-test=hire-0-citizen_id]').fill(breakCheckChar(good));
  assert.equal(await page.locator('[data-test=hire-0-citizen_id-err]').innerText(), '身份证号校验位不正确');
  await page.locator('[data-test=hire-0-citizen_id]').fill(good);
  assert.equal(await page.locator('[data-test=hire-0-citizen_id-err]').innerText(), '');
  await page.locator('[data-test=hire-0-birth_date]').fill('1999-05-05');
  assert.equal(await page.locator('[data-test=hire-0-birth_date-err]').innerText(), '与身份证号中的出生日期不一致');
  assert.deepEqual(errors, []);
});
