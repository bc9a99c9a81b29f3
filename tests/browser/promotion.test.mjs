// Browser test of 班级管理 and the 升级向导 on the demo school: the class list with sizes and the
// class form's validation as you type; then the wizard's preview table (checked against the
// API's class list), apply after a confirmation, and undo, which brings the classes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCityServer, DEMO_PW, baseUrl, openBrowser, shot, login, apiSession } from './lib/harness.mjs';

useCityServer();

test('school admin: classes page, then preview, apply and undo the promotion', async (t) => {
  const { page, errors } = await openBrowser(t);
  const api = await apiSession('school1', DEMO_PW);
  const school = api.me.roles.find((r) => r.role === 'school_admin').org.id;
  const before = await api.get(`/orgs/${school}/classes`);
  assert.equal(before.school_year, 2026);
  assert.ok(before.items.length > 0);

  await page.goto(baseUrl + '/login');
  await login(page, 'school1', DEMO_PW);
  await page.locator('[data-test=nav-classes]').click();
  await page.waitForURL(new RegExp(`/classes/${school}$`));
  await page.getByRole('heading', { name: /班级管理/ }).first().waitFor();
  const rows = page.locator('[data-test=classes] tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), before.items.length);
  const first = before.items[0];
  assert.equal((await page.locator(`tr[data-class="${first.id}"] [data-test=size]`).innerText()).replace(/\D+$/, ''), String(first.n_students));

  /* The class form checks as you type: empty name, too long a name, a year out of range. */
  await page.locator('[data-test=class-new]').click();
  const name = page.getByLabel('班级名称');
  await name.fill('x');
  await name.fill('');
  assert.equal(await page.locator('[data-test=err-name]').innerText(), '请填写此项');
  await name.fill('很'.repeat(61));
  assert.equal(await page.locator('[data-test=err-name]').innerText(), '班级名称不能超过 60 个字');
  await name.fill('测试班');
  assert.equal(await page.locator('[data-test=err-name]').innerText(), '');
  await page.getByLabel('学年（起始年份）').fill('1999');
  assert.equal(await page.locator('[data-test=err-school_year]').innerText(), '学年须为 2000–2100 之间的年份');
  await page.locator('[data-test=class-save]').click();
  assert.equal(await page.locator('[data-test=err-grade_id]').innerText(), '请选择年级');
  await shot(page, 'classes-form');

  /* The wizard: preview. */
  await page.locator('[data-test=to-promotion]').first().click();
  await page.waitForURL(new RegExp(`/promotion/${school}$`));
  await page.getByRole('heading', { name: /升级向导/ }).waitFor();
  await page.locator('[data-test=promo-preview]').click();
  const plan = page.locator('[data-test=promo-plan] tbody tr');
  await plan.first().waitFor();
  assert.equal(await plan.count(), before.items.length, 'one preview row per class');
  for (const c of before.items) {
    const row = page.locator(`[data-test=promo-plan] tr[data-class="${c.id}"]`);
    assert.equal(await row.locator('[data-test=n]').innerText(), String(c.n_students), `${c.name}: students`);
  }
  const summary = await page.locator('[data-test=promo-summary]').innerText();
  const total = before.items.reduce((s, c) => s + c.n_students, 0);
  const m = /(\d+) 名学生升级，(\d+) 名学生毕业/.exec(summary);
  assert.ok(m, summary);
  assert.equal(Number(m[1]) + Number(m[2]), total);
  await shot(page, 'promotion-preview');

  /* Apply, after the confirmation. */
  await page.locator('[data-test=promo-apply]').click();
  await page.locator('[data-test=promo-ask-yes]').click();
  await page.locator('[data-test=promo-run]').waitFor();
  assert.match(await page.locator('[data-test=promo-notice]').innerText(), /升级已执行/);
  const after = await api.get(`/orgs/${school}/classes`);
  assert.equal(after.school_year, 2027, 'the classes list moved to the new year');
  const promoted = after.items.reduce((s, c) => s + c.n_students, 0);
  assert.equal(promoted, Number(m[1]));
  assert.equal(await page.locator('[data-test=promo-runs] li[data-state=applied]').count(), 1);
  await shot(page, 'promotion-applied');

  /* Undo: the classes of 2026 are back as they were. */
  await page.locator('[data-test=promo-undo]').click();
  await page.locator('[data-test=promo-runs] li[data-state=undone]').waitFor();
  assert.match(await page.locator('[data-test=promo-notice]').innerText(), /已撤销/);
  const back = await api.get(`/orgs/${school}/classes`);
  assert.deepEqual(back, before, 'the undo restored the class list');
  await page.locator('[data-test=promo-form]').waitFor();
  await shot(page, 'promotion-undone');
  assert.deepEqual(errors, []);
});
