// Browser test of 学籍异动: a transfer across two districts started by the receiving school in the
// UI (student lookup with validation as you type) and approved by the three other offices, each
// logging in with its own account; the inbox badge, the steps timeline, and the student's status
// panel after the move.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCityServer, ADMIN_PW, baseUrl, openBrowser, shot, login } from './lib/harness.mjs';

useCityServer();

const PW = 'Transfer-pass-2026';

/* A tiny API client with the session cookie and CSRF token, for the set-up. */
async function apiAs(who, pw) {
  const res = await fetch(baseUrl + '/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: who, password: pw }),
  });
  assert.equal(res.status, 200, `login ${who}`);
  const cookie = (res.headers.get('set-cookie') || '').split(';')[0];
  const me = await res.json();
  const call = async (method, p, body) => {
    const r = await fetch(baseUrl + '/api/v1' + p, {
      method,
      headers: { Cookie: cookie, 'X-CSRF-Token': me.csrf_token, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await r.json();
    assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  return { me, get: (p) => call('GET', p), post: (p, b) => call('POST', p, b) };
}

const kids = async (api, id, kind) => (await api.get(`/orgs/${id}/children?limit=500`)).items.filter((o) => o.kind === kind);

async function firstClass(api, school) {
  for (const g of await kids(api, school, 'grade')) {
    const c = (await kids(api, g.id, 'class'))[0];
    if (c) return c;
  }
  assert.fail(`no class in school ${school}`);
}

function citizenId(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * w[i];
  return first17 + '10X98765432'[sum % 11];
}

async function logout(page) {
  await page.locator('[data-test=logout]').click();
  await page.waitForURL(/\/login/);
}

test('a transfer across two districts, approved by four accounts through the UI', async (t) => {
  const admin = await apiAs('admin', ADMIN_PW);
  const city = admin.me.roles.find((r) => r.role === 'city_admin').org.id;
  const [dA, dB] = await kids(admin, city, 'district');
  const schoolA = (await kids(admin, dA.id, 'school'))[0];
  const schoolB = (await kids(admin, dB.id, 'school'))[0];
  const classA = await firstClass(admin, schoolA.id);
  const classB = await firstClass(admin, schoolB.id);
  const cid = citizenId('37020320130405' + String(100 + (Date.now() % 800)));
  const name = '王小明';
  const person = await admin.post('/people', {
    org_id: schoolB.id, name, sex: Number(cid[16]) % 2 ? 'male' : 'female', birth_date: '2013-04-05',
    kind: 'student', citizen_id: cid, student_no: `G${cid}`,
  });
  await admin.post('/enrolments', { person_id: person.id, class_id: classB.id, start_date: '2026-09-01' });
  const offices = [['brxa', 'school_admin', schoolA.id, '转入校管'], ['brda', 'district_admin', dA.id, '转入局'],
    ['brxb', 'school_admin', schoolB.id, '转出校管'], ['brdb', 'district_admin', dB.id, '转出局']];
  for (const [login_, role, org, display] of offices) {
    await admin.post('/accounts', { login: login_, password: PW, display_name: display, must_change_password: false, roles: [{ role, org_id: org }] });
  }

  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');

  /* 1. The receiving school asks. */
  await login(page, 'brxa', PW);
  await page.locator('[data-test=nav-transfers]').click();
  await page.waitForURL(/\/transfers/);
  await page.getByRole('heading', { name: '学籍异动' }).waitFor();
  await page.locator('[data-test=tr-new]').click();
  const ident = page.locator('[data-test=tr-ident]');
  await ident.fill('G123');
  assert.equal(await page.locator('#tr-ident-err').innerText(), '学籍号应为 G 加 18 位身份证号');
  await ident.fill(`G${cid}`);
  assert.equal(await page.locator('#tr-ident-err').innerText(), '');
  await page.locator('[data-test=tr-name]').fill('王小');
  await page.locator('[data-test=tr-lookup]').click();
  await page.locator('[data-test=tr-lookup-err]').waitFor();
  assert.equal(await page.locator('[data-test=tr-lookup-err]').innerText(), '未找到与证件号和姓名相符的学生');
  await page.locator('[data-test=tr-name]').fill(name);
  await page.locator('[data-test=tr-lookup]').click();
  const found = page.locator('[data-test=tr-found]');
  await found.waitFor();
  assert.match(await found.innerText(), new RegExp(`找到学生：${name}，${schoolB.name}`));
  assert.match(await found.innerText(), /\d{6}\*{8}\d{3}[\dX]/, 'the ID is shown masked');
  assert.ok(!(await found.innerText()).includes(cid), 'the full ID never reaches the receiving school');
  await page.locator('[data-test=tr-submit]').click();
  assert.equal(await page.locator('#tr-class-err').innerText(), '请填写此项');
  await page.locator('[data-test=tr-class]').selectOption(String(classA.id));
  await page.locator('[data-test=tr-date]').fill('2026-12-01');
  await page.locator('[data-test=tr-reason]').fill('随父母工作调动');
  await page.locator('[data-test=tr-submit]').click();
  await page.waitForURL(/\/transfers\/\d+/);
  const id = /\/transfers\/(\d+)/.exec(page.url())[1];
  await page.locator('[data-test=trd-notice]').waitFor();
  assert.equal(await page.locator('[data-test=trd-state]').innerText(), '审批中');
  assert.equal(await page.locator('[data-test=trd-step-state-1]').innerText(), '已同意');
  assert.equal(await page.locator('[data-test=trd-step-state-2]').innerText(), '待办理');
  assert.match(await page.locator('[data-test=trd-step-2]').innerText(), /转入地教育局审核/);
  assert.equal(await page.locator('[data-test=trd-approve]').count(), 0, 'the requester does not approve');
  await shot(page, 'transfer-requested');
  await logout(page);

  /* 2-4. Each office finds it in its inbox (badge in the navigation) and approves. */
  const steps = [['brda', '转入地教育局审核'], ['brxb', '转出学校审核'], ['brdb', '转出地教育局审核']];
  for (const [who, kind] of steps) {
    await login(page, who, PW);
    const badge = page.locator('[data-test=transfer-badge]');
    await badge.waitFor();
    assert.equal(await badge.innerText(), '1', `${who}: the badge counts one transfer`);
    await page.locator('[data-test=nav-transfers]').click();
    await page.locator(`[data-test=tr-row-${id}]`).waitFor();
    assert.match(await page.locator(`[data-test=tr-row-${id}]`).innerText(), new RegExp(kind));
    await page.locator(`[data-test=tr-open-${id}]`).click();
    await page.waitForURL(new RegExp(`/transfers/${id}$`));
    await page.locator('[data-test=trd-approve]').waitFor();
    if (who === 'brxb') {
      /* A rejection without a reason is stopped before it is sent. */
      await page.locator('[data-test=trd-reject]').click();
      assert.equal(await page.locator('#trd-reason-err').innerText(), '驳回时须填写原因');
    }
    await page.locator('[data-test=trd-reason]').fill(`${who} 同意`);
    await page.locator('[data-test=trd-approve]').click();
    await page.locator('[data-test=trd-notice]').waitFor();
    assert.equal(await page.locator('[data-test=trd-notice]').innerText(), '已同意。');
    await page.locator('[data-test=transfer-badge]').waitFor({ state: 'detached' });
    await logout(page);
  }

  /* The receiving school sees the closed transfer, its trail, and the student now its own. */
  await login(page, 'brxa', PW);
  await page.goto(`${baseUrl}/transfers/${id}`);
  await page.locator('[data-test=trd-state]').waitFor();
  assert.equal(await page.locator('[data-test=trd-state]').innerText(), '已办结');
  for (const s of [1, 2, 3, 4]) assert.equal(await page.locator(`[data-test=trd-step-state-${s}]`).innerText(), '已同意');
  assert.match(await page.locator('[data-test=trd-step-3]').innerText(), /转出校管/);
  assert.match(await page.locator('[data-test=trd-step-3]').innerText(), /brxb 同意/);
  await shot(page, 'transfer-approved');
  await page.goto(`${baseUrl}/people/${person.id}`);
  await page.locator('[data-test=lifecycle]').waitFor();
  assert.equal(await page.locator('[data-test=lc-status]').innerText(), '在籍');
  const events = await page.locator('[data-test=lc-events] tbody tr').allInnerTexts();
  assert.equal(events.length, 2);
  assert.match(events[0], /转出/);
  assert.match(events[1], /转入/);
  const p = await admin.get(`/people/${person.id}`);
  assert.deepEqual(p.enrolments.filter((e) => e.end_date === null).map((e) => e.class.id), [classA.id]);
  assert.deepEqual(errors, [], 'no console errors');
});
