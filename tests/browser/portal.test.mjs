// Browser test of the web UI on the real server: login, portal, org tree, class, person, language, scope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  useCityServer, ADMIN_PW, DEMO_PW, baseUrl, openBrowser, shot, login, apiSession,
} from './lib/harness.mjs';

useCityServer();

test('admin: login, portal, org tree down to a class, a student, English, logout', async (t) => {
  const { page, errors } = await openBrowser(t);

  /* Not logged in: / goes to the Chinese login page. */
  await page.goto(baseUrl + '/');
  await page.waitForURL(/\/login/);
  await page.getByRole('heading', { name: '用户登录' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal(await page.title(), '示范市智慧教育平台');

  /* Validation as you type, before anything is sent. */
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByText('请输入账号').waitFor();
  await page.getByText('请输入密码').waitFor();
  await page.getByLabel('账号').fill('admin');
  await page.getByText('请输入账号').waitFor({ state: 'hidden' });

  /* A wrong password shows the API's message and stays on the login page. */
  await page.getByLabel('密码').fill('wrong-password-1');
  await page.getByRole('button', { name: '登录' }).click();
  const loginErr = page.locator('[data-test=login-error]');
  await loginErr.waitFor();
  assert.ok((await loginErr.innerText()).trim().length > 0);
  assert.match(page.url(), /\/login/);
  await shot(page, 'login-error');

  await login(page, 'admin', ADMIN_PW);
  assert.match(await page.locator('[data-test=roles]').innerText(), /市级管理员/);
  await shot(page, 'portal');

  /* city -> district -> school -> grade -> class. */
  await page.getByRole('link', { name: '机构', exact: true }).click();
  await page.waitForURL(/\/orgs\/\d+$/);
  const kinds = ['district', 'school', 'grade', 'class'];
  let trail = [await page.locator('[data-test=org-name]').innerText()];
  for (const kind of kinds) {
    const first = page.locator('[data-test=children] a').first();
    await first.waitFor();
    const name = (await first.locator('.child-name').innerText()).trim();
    await first.click();
    await page.locator('[data-test=org-name]', { hasText: name }).waitFor();
    trail.push(name);
    const crumbs = await page.locator('[data-test=breadcrumb]').innerText();
    for (const n of trail) assert.ok(crumbs.includes(n), `breadcrumb "${crumbs}" lacks "${n}" at ${kind}`);
    if (kind === 'school') {
      const profile = page.locator('[data-test=school-profile]');
      await profile.waitFor();
      const text = await profile.innerText();
      assert.match(text, /学校标识码/);
      assert.match(text, /\d{10}/, 'a 10-digit school code');
      assert.match(text, /办学类型/);
      await shot(page, 'school');
    }
  }
  const students = page.locator('[data-test=students] tbody tr');
  const teachers = page.locator('[data-test=teachers] tbody tr');
  await students.first().waitFor();
  await teachers.first().waitFor();
  assert.ok((await students.count()) >= 5, 'a class has students');
  await shot(page, 'class');
  const classUrl = page.url();

  /* A student's page: masked ID, and an admin may reveal it (a student who has a citizen ID:
   * the demo city has some without one, as real registries do). */
  const withId = students.filter({ hasText: '*' }).first();
  const studentName = (await withId.locator('a').innerText()).trim();
  await withId.locator('a').click();
  await page.locator('[data-test=person-name]', { hasText: studentName }).waitFor();
  const idBox = page.locator('[data-test=citizen-id]');
  assert.match(await idBox.innerText(), /\*/, 'citizen ID masked by default');
  await page.locator('[data-test=reveal]').click();
  await page.locator('[data-test=reveal]').waitFor({ state: 'detached' });
  assert.match(await idBox.innerText(), /^\d{17}[\dX]$/, 'full citizen ID after reveal');
  await shot(page, 'student');

  /* That full read is in the audit log the admin can browse. */
  await page.getByRole('link', { name: '审计日志', exact: true }).click();
  const auditRows = page.locator('[data-test=audit] tbody tr');
  await auditRows.first().waitFor();
  assert.match(await page.locator('[data-test=audit]').innerText(), /admin[\s\S]*read_pii/);
  await shot(page, 'audit');
  await page.goBack();
  await page.locator('[data-test=person-name]', { hasText: studentName }).waitFor();

  /* English: labels, <html lang>, and the choice persisted for the server and the next visit. */
  await page.locator('[data-test=lang]').click();
  await page.getByRole('link', { name: 'Organisations' }).waitFor();
  await page.getByText('Date of birth').waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.evaluate(() => localStorage.getItem('eb_lang')), 'en');
  assert.match(await page.evaluate(() => document.cookie), /eb_lang=en/);
  await page.goto(classUrl);
  await page.getByRole('heading', { name: 'Students' }).waitFor();
  await shot(page, 'class-en');

  /* Unknown routes get the friendly 404 view. */
  await page.goto(baseUrl + '/no/such/page');
  await page.locator('[data-test=not-found]').waitFor();

  /* Log out: back to the (English) login page; protected pages now lead there. */
  await page.goto(baseUrl + '/');
  await page.locator('[data-test=logout]').click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.goto(classUrl);
  await page.waitForURL(/\/login\?next=/);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  /* The eb_lang cookie makes the server answer in English too. */
  await page.getByLabel('Account').fill('admin');
  await page.getByLabel('Password').fill('wrong-password-2');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await loginErr.waitFor();
  const enMsg = (await loginErr.innerText()).trim();
  assert.ok(enMsg.length > 0 && !/[\u4e00-\u9fff]/.test(enMsg), `English API message: ${enMsg}`);
  await shot(page, 'logout-en');
  assert.deepEqual(errors, []);
});

test('school admin: another school\'s class is not found; the UI fits 375 px', async (t) => {
  /* Pick a class of a school that school1 does not administer, through the admin's API view. */
  const s1 = await apiSession('school1', DEMO_PW);
  const mine = s1.me.roles.map((r) => r.org.path);
  assert.ok(mine.length > 0, 'school1 has a role');
  const admin = await apiSession('admin', ADMIN_PW);
  const cityId = admin.me.roles[0].org.id;
  let target = null;
  let ownClass = null;
  const districts = (await admin.get(`/orgs/${cityId}/children`)).items;
  for (const d of districts) {
    for (const s of (await admin.get(`/orgs/${d.id}/children`)).items) {
      const grades = (await admin.get(`/orgs/${s.id}/children`)).items;
      if (!grades.length) continue;
      const classes = (await admin.get(`/orgs/${grades[0].id}/children`)).items;
      if (!classes.length) continue;
      const inMine = mine.some((p) => classes[0].path.startsWith(p));
      if (inMine && !ownClass) ownClass = classes[0];
      if (!inMine && !target) target = classes[0];
    }
  }
  assert.ok(target, 'a class outside school1');
  assert.ok(ownClass, 'a class of school1');

  const { ctx, page, errors } = await openBrowser(t, { width: 375, height: 740 });
  await page.goto(baseUrl + '/login');
  await login(page, 'school1', DEMO_PW);
  assert.match(await page.locator('[data-test=roles]').innerText(), /学校管理员/);
  await shot(page, 'portal-375');

  await page.goto(`${baseUrl}/orgs/${target.id}`);
  await page.locator('[data-test=not-found]').waitFor();
  assert.equal(await page.locator('[data-test=org-name]').count(), 0);
  assert.ok(!(await page.content()).includes(target.name), 'nothing of the other school leaks');
  await shot(page, 'other-school-404');

  /* Their own class works, and at 375 px the page does not scroll sideways (tables scroll inside). */
  await page.goto(`${baseUrl}/orgs/${ownClass.id}`);
  await page.locator('[data-test=students] tbody tr').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`);
  /* The navigation collapses behind the menu button. */
  assert.equal(await page.locator('[data-test=logout]').isVisible(), false);
  await page.getByRole('button', { name: '菜单' }).click();
  await page.locator('[data-test=logout]').waitFor();
  await shot(page, 'class-375');

  /* A session that ends under the page (401 from the API) leads back to login. */
  await ctx.clearCookies();
  await page.getByRole('button', { name: '菜单' }).click();
  await page.locator('[data-test=students] tbody tr a').first().click();
  await page.waitForURL(/\/login\?next=(\/|%2F)people(\/|%2F)\d+/);
  await page.getByRole('heading', { name: '用户登录' }).waitFor();
  assert.deepEqual(errors, []);
});

test('accounts page: a school admin creates, grants, resets, disables; stats cards on the portal and org pages', async (t) => {
  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');
  await login(page, 'school1', DEMO_PW);

  /* The portal shows the counts of the school (no school count on a school's cards). */
  const stats = page.locator('[data-test=stats]');
  await stats.waitFor();
  for (const label of ['班级数', '学生数', '教师数', '大班额班级数']) assert.match(await stats.innerText(), new RegExp(label));
  assert.equal(await page.locator('[data-test=stat-schools]').count(), 0);
  const nStudents = Number((await page.locator('[data-test=stat-students] .stat-value').innerText()).replace(/\D/g, ''));
  assert.ok(nStudents > 0, 'the school has students');

  /* The accounts page lists the accounts of the school and searches by login. */
  await page.getByRole('link', { name: '账号管理', exact: true }).first().click();
  await page.getByRole('heading', { name: '账号管理' }).waitFor();
  const list = page.locator('[data-test=acc-list] tbody');
  await list.locator('tr', { hasText: 'teacher1' }).waitFor();
  assert.ok(!(await list.innerText()).includes('district1'), 'district1 is above school1');
  await page.locator('[data-test=acc-search]').fill('TEACHER');
  await page.getByRole('button', { name: '搜索' }).click();
  await page.waitForFunction(() => !document.querySelector('[data-test=acc-list] tbody').innerText.includes('student1'));
  assert.match(await list.innerText(), /teacher1/);

  /* Create an account: validation first, then a teacher of the school. */
  await page.locator('[data-test=acc-new]').click();
  const form = page.locator('[data-test=acc-create]');
  await form.getByRole('button', { name: '创建账号' }).click();
  await form.getByText('请填写此项').first().waitFor();
  const login2 = `ui.teacher.${Date.now().toString(36)}`;
  await form.getByLabel('账号').fill(login2);
  await form.getByLabel('姓名').fill('界面新教师');
  await form.getByLabel('初始密码').fill('Ui-pass-2026');
  await form.getByLabel('角色').selectOption('teacher');
  await form.getByRole('button', { name: '创建账号' }).click();
  const detail = page.locator('[data-test=acc-detail]');
  await detail.locator('[data-test=acc-notice]', { hasText: login2 }).waitFor();
  assert.match(await detail.locator('[data-test=acc-roles]').innerText(), /教师/);

  /* Grant head teacher of a class: drill down school -> grade -> class. */
  const grant = detail.locator('[data-test=acc-grant]');
  await grant.getByLabel('角色').selectOption('head_teacher');
  await grant.locator('[data-test=grant-org-level-1]').waitFor();
  await grant.locator('[data-test=grant-org-level-1]').selectOption({ index: 1 });
  await grant.locator('[data-test=grant-org-level-2]').waitFor();
  await grant.locator('[data-test=grant-org-level-2]').selectOption({ index: 1 });
  await grant.locator('[data-test=acc-grant-btn]').click();
  await detail.locator('[data-test=acc-notice]', { hasText: '角色已添加' }).waitFor();
  assert.match(await detail.locator('[data-test=acc-roles]').innerText(), /班主任/);
  /* A head teacher's role at a school does not fit: the API's message is shown. */
  await grant.locator('[data-test=grant-org-level-1]').selectOption('');
  await grant.locator('[data-test=acc-grant-btn]').click();
  await detail.locator('[data-test=acc-error]').waitFor();
  await detail.locator('[data-test=acc-revoke-head_teacher]').click();
  await detail.locator('[data-test=acc-notice]', { hasText: '角色已移除' }).waitFor();
  assert.doesNotMatch(await detail.locator('[data-test=acc-roles]').innerText(), /班主任/);

  /* Reset the password, then disable: the account can no longer sign in. */
  await detail.locator('[data-test=acc-reset-pw]').fill('Ui-reset-2026');
  await detail.locator('[data-test=acc-reset-btn]').click();
  await detail.locator('[data-test=acc-notice]', { hasText: '密码已重置' }).waitFor();
  await detail.locator('[data-test=acc-must]').waitFor();
  await detail.locator('[data-test=acc-toggle]').click();
  await detail.locator('[data-test=acc-status]', { hasText: '已停用' }).waitFor();
  const refused = await fetch(baseUrl + '/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: login2, password: 'Ui-reset-2026' }),
  });
  await refused.arrayBuffer();
  assert.equal(refused.status, 401, 'a disabled account cannot sign in');
  await list.locator('tr', { hasText: login2 }).locator('.tag', { hasText: '已停用' }).waitFor();
  await shot(page, 'accounts');
  await detail.locator('[data-test=acc-toggle]').click();
  await detail.locator('[data-test=acc-status]', { hasText: '正常' }).waitFor();

  /* The school page carries the same cards; a district page also counts its schools. */
  const schoolId = (await apiSession('school1', DEMO_PW)).me.roles.find((r) => r.role === 'school_admin').org.id;
  await page.goto(`${baseUrl}/orgs/${schoolId}`);
  await page.locator('[data-test=school-profile]').waitFor();
  await page.locator('[data-test=stat-students]').waitFor();
  assert.equal(await page.locator('[data-test=stat-schools]').count(), 0);
  await page.locator('[data-test=logout]').click();
  await page.getByRole('heading', { name: '用户登录' }).waitFor();
  await login(page, 'district1', DEMO_PW);
  const districtId = (await apiSession('district1', DEMO_PW)).me.roles[0].org.id;
  await page.goto(`${baseUrl}/orgs/${districtId}`);
  await page.locator('[data-test=stat-schools]').waitFor();
  assert.ok(Number((await page.locator('[data-test=stat-schools] .stat-value').innerText()).replace(/\D/g, '')) >= 2);
  await shot(page, 'district-stats');

  /* A student gets no counts and no accounts link. */
  await page.locator('[data-test=logout]').click();
  await login(page, 'student1', DEMO_PW);
  await page.locator('[data-test=roles]').waitFor();
  assert.equal(await page.locator('[data-test=stats]').count(), 0);
  assert.equal(await page.getByRole('link', { name: '账号管理' }).count(), 0);
  assert.deepEqual(errors, []);
});

test('login throttling: the page says how long to wait', async (t) => {
  /* Fail logins for one unknown account until the server throttles it with a wait of a few
   * seconds, so that the browser's next attempt is certain to be refused too. */
  let retry = 0;
  for (let i = 0; i < 25 && retry < 3; i++) {
    const res = await fetch(baseUrl + '/api/v1/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login: 'ghost-user', password: 'not-the-password' }),
    });
    await res.arrayBuffer();
    if (res.status === 429) {
      retry = Number(res.headers.get('retry-after'));
      assert.ok(retry >= 1, 'Retry-After on 429');
      if (retry < 3) await new Promise((r) => setTimeout(r, retry * 1000 + 50));
    } else {
      assert.equal(res.status, 401);
    }
  }
  assert.ok(retry >= 3, 'the server throttles repeated failures');

  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');
  await page.getByLabel('账号').fill('ghost-user');
  await page.getByLabel('密码').fill('not-the-password');
  await page.getByRole('button', { name: '登录' }).click();
  const msg = page.locator('[data-test=login-error]');
  await msg.waitFor();
  assert.match(await msg.innerText(), /尝试次数过多，请在 \d+ 秒后重试/);
  assert.equal(await page.getByRole('button', { name: '登录' }).isDisabled(), true);
  await shot(page, 'login-throttled');
  assert.deepEqual(errors, []);
});
