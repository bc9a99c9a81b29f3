// Browser test of the second factor under the default policy (--mfa-admins required): a school
// administrator is stopped at 账号安全 until TOTP is enrolled (QR code and key on the page, the
// first code computed here with RFC 6238), then logs in with the code step (a wrong code shown
// as an error); and the printable class sheets of parent binding codes, a page per class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  useCityServer, DEMO_PW, baseUrl, openBrowser, shot,
} from './lib/harness.mjs';

useCityServer({ mfaAdmins: 'required' });

/* ---- RFC 6238 (TOTP with HMAC-SHA1, 30 s steps, 6 digits), test code ---- */

const STEP_S = 30;
const nowStep = () => Math.floor(Date.now() / 1000 / STEP_S);

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/[\s=]/g, '').toUpperCase()) {
    const i = alphabet.indexOf(ch);
    assert.ok(i >= 0, `not base32: ${ch}`);
    value = ((value << 5) | i) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

test('RFC 6238 appendix B vector (the test\'s own TOTP)', () => {
  /* The SHA-1 seed "12345678901234567890" at T = 59 s gives 94287082 (8 digits): 287082. */
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  assert.equal(totp(secret, Math.floor(59 / 30)), '287082');
});

/* A code that matches none of the steps the server accepts around step. */
function wrongCode(secret, step) {
  const taken = new Set([-1, 0, 1, 2].map((d) => totp(secret, step + d)));
  for (let n = 123456; ; n = (n + 111111) % 1000000) {
    const c = String(n).padStart(6, '0');
    if (!taken.has(c)) return c;
  }
}

async function passwordStep(page, who) {
  await page.getByLabel('账号').fill(who);
  await page.getByLabel('密码').fill(DEMO_PW);
  await page.getByRole('button', { name: '登录' }).click();
}

test('school admin: forced enrolment, then logging in with the code step', async (t) => {
  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');
  await passwordStep(page, 'school1');
  /* No second factor yet: every page leads to 账号安全 with the reason in Chinese. */
  await page.waitForURL(/\/security/);
  const why = await page.locator('[data-test=must-enrol]').innerText();
  assert.match(why, /管理员账号须启用两步验证/);
  assert.equal((await page.locator('[data-test=totp-status]').innerText()).trim(), '未开启');
  await page.goto(baseUrl + '/orgs');
  await page.waitForURL(/\/security/);
  await page.locator('[data-test=must-enrol]').waitFor();

  await page.locator('[data-test=totp-start]').click();
  await page.locator('[data-test=totp-enrol]').waitFor();
  const qr = await page.locator('[data-test=totp-qr]').getAttribute('src');
  assert.match(qr, /^data:image\/png;base64,/);
  const shown = (await page.locator('[data-test=totp-secret]').innerText()).trim();
  assert.match(shown, /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/, `the key in groups of four: ${shown}`);
  const secret = shown.replace(/\s/g, '');
  assert.ok(base32Decode(secret).length >= 16, 'at least 128 bits');
  const input = page.locator('[data-test=totp-code]');
  assert.equal(await input.getAttribute('autocomplete'), 'one-time-code');
  assert.equal(await input.getAttribute('inputmode'), 'numeric');
  /* Validated as typed: letters vanish, five digits are not a code. */
  await input.pressSequentially('12a34');
  assert.equal(await input.inputValue(), '1234');
  await page.locator('[data-test=totp-confirm]').click();
  assert.match(await page.locator('#totp-code-err').innerText(), /6 位数字/);
  await shot(page, 'totp-enrol');

  const enrolStep = nowStep();
  await input.fill(totp(secret, enrolStep));
  await page.locator('[data-test=totp-confirm]').click();
  await page.locator('[data-test=sec-notice]').waitFor();
  assert.equal((await page.locator('[data-test=totp-status]').innerText()).trim(), '已开启');
  assert.equal(await page.locator('[data-test=must-enrol]').count(), 0);
  await page.locator('[data-test=totp-required]').waitFor(); /* an administrator cannot turn it off */
  /* On to the page asked for while enrolment was due (/orgs), then the portal home. */
  await page.locator('[data-test=sec-continue]').click();
  await page.waitForURL(/\/orgs/);
  await page.getByRole('link', { name: '门户首页' }).click();
  await page.locator('[data-test=welcome]').waitFor();
  /* The portal is usable now: an API-backed page loads. */
  await page.getByRole('link', { name: '账号管理' }).first().click();
  await page.locator('[data-test=acc-list]').waitFor();

  await page.locator('[data-test=logout]').click();
  await page.waitForURL(/\/login/);
  await passwordStep(page, 'school1');
  const otp = page.locator('[data-test=otp]');
  await otp.waitFor();
  assert.equal(await otp.getAttribute('autocomplete'), 'one-time-code');
  assert.match(await page.locator('[data-test=otp-intro]').innerText(), /school1/);
  await shot(page, 'totp-login-step');
  await otp.fill(wrongCode(secret, nowStep()));
  await page.locator('[data-test=otp-submit]').click();
  const err = await page.locator('[data-test=login-error]').innerText();
  assert.match(err, /验证码/, `the API's message: ${err}`);
  assert.equal(await otp.inputValue(), '', 'a wrong code is cleared');
  /* The enrolment took its step; the next one is accepted at once (a window of one step). */
  await otp.fill(totp(secret, Math.max(enrolStep + 1, nowStep())));
  await page.locator('[data-test=otp-submit]').click();
  await page.locator('[data-test=welcome]').waitFor();
  await page.goto(baseUrl + '/security');
  assert.match(await page.locator('[data-test=amr]').innerText(), /密码 \+ 动态验证码/);
  assert.deepEqual(errors, []);
});

/* Enrols an administrator through the API (the flow above, without a browser). */
async function enrolByApi(who) {
  const login = await fetch(baseUrl + '/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: who, password: DEMO_PW }),
  });
  assert.equal(login.status, 200, `login ${who}`);
  const doc = await login.json();
  assert.equal(doc.user.must_enrol_totp, true);
  const h = { 'Content-Type': 'application/json', Cookie: login.headers.get('set-cookie').split(';')[0], 'X-CSRF-Token': doc.csrf_token };
  const begin = await fetch(baseUrl + '/api/v1/me/totp', { method: 'POST', headers: h });
  assert.equal(begin.status, 200);
  const { secret } = await begin.json();
  const step = nowStep();
  const ok = await fetch(baseUrl + '/api/v1/me/totp/confirm', { method: 'POST', headers: h, body: JSON.stringify({ code: totp(secret, step) }) });
  assert.equal(ok.status, 200);
  const me = await ok.json();
  return { secret, step, get: async (p) => {
    const r = await fetch(baseUrl + '/api/v1' + p, { headers: { Cookie: ok.headers.get('set-cookie').split(';')[0] } });
    assert.equal(r.status, 200, 'GET ' + p);
    return r.json();
  }, me };
}

test('district admin: parent binding codes of a grade, one printable page per class', async (t) => {
  const api = await enrolByApi('district1');
  const { page, errors } = await openBrowser(t);
  await page.goto(baseUrl + '/login');
  await passwordStep(page, 'district1');
  await page.locator('[data-test=otp]').fill(totp(api.secret, Math.max(api.step + 1, nowStep())));
  await page.locator('[data-test=otp-submit]').click();
  await page.locator('[data-test=welcome]').waitFor();

  /* The portal's registration cards link to the drill-down. */
  await page.locator('[data-test=stat-reg-students]').waitFor();
  assert.match(await page.locator('[data-test=stat-reg-students]').innerText(), /学生注册率/);
  assert.match(await page.locator('[data-test=reg-details]').getAttribute('href'), /^\/registration\/\d+$/);
  await shot(page, 'portal-registration');

  await page.getByRole('link', { name: '账号开通' }).click();
  await page.locator('[data-test=bindsheet-card]').waitFor();
  await page.locator('[data-test=bind-org-level-1]').selectOption({ index: 1 });
  await page.locator('[data-test=bind-org-level-2]').selectOption({ index: 1 });
  const gradeId = Number(await page.locator('[data-test=bind-org-level-2]').inputValue());
  const classes = (await api.get(`/orgs/${gradeId}/children?limit=500`)).items.filter((o) => o.kind === 'class');
  assert.ok(classes.length >= 2, `grade ${gradeId} has ${classes.length} classes`);
  const students = {};
  for (const c of classes) students[c.id] = (await api.get(`/orgs/${c.id}/people?role=student&limit=500`)).items.length;

  page.once('dialog', (d) => d.accept());
  await page.locator('[data-test=bind-issue]').click();
  const msg = await page.locator('[data-test=bind-message]').innerText();
  const total = Object.values(students).reduce((a, b) => a + b, 0);
  assert.match(msg, new RegExp(`${classes.length} 个班级的 ${total} 名学生`));
  await page.locator('[data-test=bind-print]').click();
  await page.waitForURL(/\/binding\/sheet/);
  const sheets = page.locator('[data-test=bind-sheet]');
  await sheets.first().waitFor();
  assert.equal(await sheets.count(), classes.length, 'a page per class');
  for (let i = 0; i < classes.length; i++) {
    const s = sheets.nth(i);
    const id = Number(await s.getAttribute('data-class'));
    assert.equal(id, classes[i].id, 'classes in tree order');
    assert.ok((await s.locator('h1').innerText()).includes(`${classes[i].name} · 家长绑定码`));
    const rows = s.locator('[data-test=bind-sheet-row]');
    assert.equal(await rows.count(), students[id], `codes of class ${classes[i].name}`);
    const first = rows.first().locator('td');
    assert.match((await first.nth(2).innerText()).trim(), /\*/, 'student number masked');
    assert.match((await first.nth(3).innerText()).trim(), /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
  }
  const codes = await page.locator('[data-test=bind-sheet-row] td:nth-child(4)').allInnerTexts();
  assert.equal(new Set(codes).size, total, 'every code distinct');
  await page.locator('[data-test=bind-sheet-qr]').first().waitFor();
  await shot(page, 'binding-sheet');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.topbar').isVisible(), false);
  const brk = await sheets.first().evaluate((el) => getComputedStyle(el).breakAfter);
  assert.ok(['page', 'always'].includes(brk), `break-after: ${brk}`);
  await page.emulateMedia({ media: 'screen' });
  /* Shown once: a reload has nothing to print. */
  await page.reload();
  await page.locator('[data-test=bind-sheet-empty]').waitFor();

  /* school1 lost the phone: the district administrator resets the second factor. */
  await page.getByRole('link', { name: '账号管理' }).first().click();
  await page.locator('[data-test=acc-search]').fill('school1');
  await page.locator('[data-test=acc-search]').press('Enter');
  await page.locator('[data-test=acc-open-school1]').click();
  await page.locator('[data-test=acc-detail]').waitFor();
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.accept(); });
  await page.locator('[data-test=acc-totp-reset]').click();
  await page.locator('[data-test=acc-notice]').waitFor();
  assert.match(asked, /school1/);
  assert.match(await page.locator('[data-test=acc-notice]').innerText(), /已重置两步验证/);
  const again = await fetch(baseUrl + '/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: 'school1', password: DEMO_PW }),
  });
  assert.equal(again.status, 200, 'after the reset the password alone logs in');
  assert.equal((await again.json()).user.must_enrol_totp, true, 'and the enrolment is due again');
  assert.deepEqual(errors, []);
});
