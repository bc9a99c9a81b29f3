// Browser test of the education brain's big screen (驾驶舱) and map (教育地图), as admin on the
// small demo city: the KPIs equal the API's, the students' split by stage too; an observation
// POSTed through the API changes the attendance figure on screen without a reload
// (Server-Sent Events); a district drills down; a
// chart's table downloads as xlsx; the screen has no scrollbars at 1920×1080 and 1280×720; the
// map draws the district polygons and the school points, and a click on a district's polygon
// opens that district's map, a click on a school its KPIs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCityServer, ADMIN_PW, baseUrl, openBrowser, shot, login, T } from './lib/harness.mjs';

useCityServer();

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/* A JSON client with the session cookie and the CSRF token, for the API side of the test. */
async function apiClient(who, pw) {
  const res = await fetch(baseUrl + '/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: who, password: pw }),
  });
  assert.equal(res.status, 200, `login ${who}`);
  const cookie = (res.headers.get('set-cookie') || '').split(';')[0];
  const me = await res.json();
  const call = async (method, p, body) => {
    const r = await fetch(baseUrl + '/api/v1' + p, {
      method,
      headers: { Cookie: cookie, 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : null, text };
  };
  return {
    me,
    get: async (p) => {
      const r = await call('GET', p);
      assert.equal(r.status, 200, `GET ${p}: ${r.text.slice(0, 300)}`);
      return r.json;
    },
    post: (p, body) => call('POST', p, body),
  };
}

const today = () => {
  const d = new Date();
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
};

async function kpi(page, key) {
  return page.locator(`[data-test=kpi-${key}]`).getAttribute('data-value');
}

async function noScrollbars(page, what) {
  const m = await page.evaluate(() => ({
    sh: document.documentElement.scrollHeight, ch: document.documentElement.clientHeight,
    sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth,
    ih: window.innerHeight, iw: window.innerWidth,
  }));
  assert.ok(m.sh <= m.ih && m.sw <= m.iw && m.cw === m.iw && m.ch === m.ih, `${what}: scrollbars ${JSON.stringify(m)}`);
}

test('admin: the big screen live, drill-down, export; the map with polygons and schools', async (t) => {
  const { page, errors } = await openBrowser(t, { width: 1920, height: 1080 });
  const admin = await apiClient('admin', ADMIN_PW);
  const city = admin.me.roles.find((r) => r.role === 'city_admin').org.id;
  const dash = await admin.get(`/dashboard?org=${city}`);

  await page.goto(baseUrl + '/login');
  await login(page, 'admin', ADMIN_PW);
  await page.locator('[data-test=nav-brain]').click();
  await page.locator('[data-test=nav-brain-dashboard]').click();
  await page.waitForURL(/\/brain$/);
  await page.locator('[data-test=dashboard]').waitFor();
  await page.getByRole('heading', { name: /教育大脑驾驶舱/ }).waitFor();
  assert.match(await page.locator('[data-test=bs-title]').innerText(), new RegExp(`^${dash.org.name} · 教育大脑驾驶舱$`));

  /* The headline counts are the API's. */
  await page.waitForFunction((n) => document.querySelector('[data-test=kpi-schools]')?.dataset.value === String(n), dash.counts.schools);
  assert.equal(await kpi(page, 'students'), String(dash.counts.students));
  assert.equal(await kpi(page, 'teachers'), String(dash.counts.teachers));
  assert.equal(await kpi(page, 'alerts'), String(dash.alerts.open));
  assert.match(await page.locator('[data-test=kpi-students] [data-test=kpi-value]').innerText(),
    new RegExp(`^${dash.counts.students.toLocaleString('zh-CN')}$`));
  /* The students tile splits them by stage as counts.by_stage does (the stages that have any). */
  const splitOf = (key) => page.locator(`[data-test=kpi-${key}] [data-test=kpi-split] span`)
    .evaluateAll((els) => els.map((e) => [e.dataset.stage, Number(e.dataset.n), e.innerText]));
  const wantSplit = Object.entries(dash.counts.by_stage).filter(([, v]) => v.students > 0).map(([k, v]) => [k, v.students]);
  assert.ok(wantSplit.length >= 3, `the demo city has several stages: ${JSON.stringify(dash.counts.by_stage)}`);
  const split = await splitOf('students');
  assert.deepEqual(split.map(([k, n]) => [k, n]), wantSplit);
  assert.match(split.find(([k]) => k === 'primary')[2], /^小学 \d/);
  await page.locator('[data-test=bs-live][data-state=live]').waitFor();
  await noScrollbars(page, '1920×1080');
  await shot(page, 'brain-dashboard-city');

  /* An observation through the API: the attendance figure changes on the open screen. */
  await page.evaluate(() => { window.ebNoReload = 1; });
  const before = await kpi(page, 'attendance');
  const district = (await admin.get(`/orgs/${city}/children?limit=500`)).items.find((o) => o.kind === 'district');
  const student1 = (await apiClient('student1', 'Demo-pass-2026')).me.user.person_id;
  const s1 = await admin.get(`/people/${student1}`);
  const cls = s1.enrolments.find((e) => e.end_date === null).class.id;
  const posted = await admin.post('/observations', {
    observations: [
      { element: 'attendance.present', org_id: cls, day: today(), value: 29 },
      { element: 'attendance.absent', org_id: cls, person_id: student1, day: today(), value: 1, category: 'personal' },
    ],
  });
  assert.equal(posted.status, 201, posted.text);
  let after = null;
  for (let i = 0; i < 50 && (after === null || String(after) === before); i++) {
    const k = (await admin.get(`/dashboard?org=${city}`)).kpis.find((x) => x.indicator === 'attendance.rate');
    after = k ? k.value : null;
    if (after === null || String(after) === before) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(after !== null && String(after) !== before, `the API's attendance rate did not move from ${before}`);
  await page.waitForFunction((v) => document.querySelector('[data-test=kpi-attendance]')?.dataset.value === String(v), after, { timeout: 5000 });
  assert.equal(await page.evaluate(() => window.ebNoReload), 1, 'the page was not reloaded');
  assert.match(await page.locator('[data-test=kpi-attendance] [data-test=kpi-value]').innerText(), /^\d+(\.\d+)?$/);

  /* Export: the trend's table as xlsx, with the chart's own parameters. */
  const link = page.locator('[data-test=export-trend]');
  const href = await link.getAttribute('href');
  assert.match(href, new RegExp(`^/api/v1/indicators/[a-z0-9_.]+\\.xlsx\\?org=${city}&period=term%3Acurrent&by=day$`));
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.match(download.suggestedFilename(), /\.xlsx$/);
  const res = await page.request.get(new URL(href, baseUrl).href);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], XLSX);
  assert.equal((await res.body()).subarray(0, 2).toString(), 'PK');

  /* Drill down into a district: its own figures. */
  await page.locator(`[data-test=drill][data-id="${district.id}"]`).click();
  await page.waitForURL(new RegExp(`/brain/${district.id}$`));
  const ddash = await admin.get(`/dashboard?org=${district.id}`);
  await page.waitForFunction((n) => document.querySelector('[data-test=kpi-schools]')?.dataset.value === String(n), ddash.counts.schools);
  assert.match(await page.locator('[data-test=bs-title]').innerText(), new RegExp(`^${district.name} · `));
  const school = (await admin.get(`/orgs/${district.id}/children?limit=500`)).items.find((o) => o.kind === 'school');
  await page.locator(`[data-test=drill][data-id="${school.id}"]`).click();
  await page.waitForURL(new RegExp(`/brain/${school.id}$`));
  const sdash = await admin.get(`/dashboard?org=${school.id}`);
  await page.waitForFunction((n) => document.querySelector('[data-test=kpi-students]')?.dataset.value === String(n), sdash.counts.students);
  await page.locator('[data-test=bs-up]').click();
  await page.waitForURL(new RegExp(`/brain/${district.id}$`));

  /* English on the big screen. */
  await page.locator('[data-test=bs-lang]').click();
  await page.waitForFunction(() => /Education Brain$/.test(document.querySelector('[data-test=bs-title]')?.innerText || ''));
  await page.locator('[data-test=bs-lang]').click();

  /* 1280×720: still no scrollbars, every KPI tile inside the window. */
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.waitForTimeout(300);
  await noScrollbars(page, '1280×720');
  for (const key of ['schools', 'students', 'attendance', 'alerts']) {
    const b = await page.locator(`[data-test=kpi-${key}]`).boundingBox();
    assert.ok(b && b.x >= 0 && b.y >= 0 && b.x + b.width <= 1280 && b.y + b.height <= 720, `kpi ${key} inside 1280×720: ${JSON.stringify(b)}`);
  }
  /* Every stage of the students' split is shown whole inside its tile. */
  const tileBox = await page.locator('[data-test=kpi-students]').boundingBox();
  for (const span of await page.locator('[data-test=kpi-students] [data-test=kpi-split] span').all()) {
    const b = await span.boundingBox();
    assert.ok(b && b.y + b.height <= tileBox.y + tileBox.height + 0.5 && b.x + b.width <= tileBox.x + tileBox.width + 0.5,
      `a stage of the split outside its tile at 1280×720: ${JSON.stringify(b)} in ${JSON.stringify(tileBox)}`);
    assert.ok(await span.evaluate((e) => e.scrollWidth <= e.clientWidth), `a stage cut short: ${await span.innerText()}`);
  }
  await shot(page, 'brain-dashboard-district-720');
  await page.setViewportSize({ width: 1920, height: 1080 });

  /* The map of the city: the district polygons and every school with coordinates. */
  await page.goto(baseUrl + '/brain');
  await page.locator('[data-test=bs-map]').click();
  await page.waitForURL(new RegExp(`/brain/map/${city}$`));
  const fc = await admin.get('/geo/districts');
  const canvas = page.locator('[data-test=map-canvas]');
  await page.waitForFunction((n) => document.querySelector('[data-test=map-canvas]')?.dataset.regions === String(n), fc.features.length);
  assert.ok(fc.features.length >= 2);
  let nSchools = 0;
  for (const f of fc.features) nSchools += f.properties.n_schools;
  await page.waitForFunction((n) => document.querySelector('[data-test=map-canvas]')?.dataset.schools === String(n), nSchools);
  assert.equal(await page.locator('[data-test=map-district]').count(), fc.features.length);
  await noScrollbars(page, 'map 1920×1080');
  await page.waitForTimeout(500); /* the map's entry animation */
  await shot(page, 'brain-map-city');

  /* A click on a district's polygon (at its centre, where the map draws it) drills down. */
  const target = fc.features.find((f) => f.properties.org_id === district.id);
  const box = await canvas.boundingBox();
  const [px, py] = await canvas.evaluate((el, c) => el.ebPixel(c), target.properties.center);
  await page.mouse.click(box.x + px, box.y + py);
  await page.waitForURL(new RegExp(`/brain/map/${district.id}$`));
  await page.waitForFunction(() => document.querySelector('[data-test=map-canvas]')?.dataset.regions === '1');
  await page.waitForFunction((n) => document.querySelector('[data-test=map-canvas]')?.dataset.schools === String(n), target.properties.n_schools);
  await page.waitForTimeout(500);

  /* A click on a school's point opens its KPIs, and from there its dashboard. */
  const schools = (await admin.get(`/orgs/${district.id}/children?limit=500`)).items.filter((o) => o.kind === 'school' && o.lat !== undefined);
  const s = schools[0];
  const [sx, sy] = await canvas.evaluate((el, c) => el.ebPixel(c), [s.lon, s.lat]);
  await page.mouse.click(box.x + sx, box.y + sy);
  const popup = page.locator('[data-test=school-popup]');
  await popup.waitFor({ timeout: T });
  const opened = Number(await popup.getAttribute('data-id'));
  assert.ok(schools.some((x) => x.id === opened), `the popup shows a school of the district (${opened})`);
  await shot(page, 'brain-map-district');
  await page.locator('[data-test=popup-open]').click();
  await page.waitForURL(new RegExp(`/brain/${opened}$`));
  await page.locator('[data-test=dashboard]').waitFor();
  assert.deepEqual(errors, []);
});

test('admin: 数据元素 and 指标管理 list the API\'s definitions and add new ones through their forms', async (t) => {
  const { page, errors } = await openBrowser(t);
  const admin = await apiClient('admin', ADMIN_PW);
  const elements = (await admin.get('/data-elements')).items;
  const indicators = (await admin.get('/indicators')).items;
  await page.goto(baseUrl + '/login');
  await login(page, 'admin', ADMIN_PW);

  await page.locator('[data-test=nav-brain]').click();
  await page.locator('[data-test=nav-brain-elements]').click();
  await page.waitForURL(/\/brain\/elements$/);
  await page.locator('[data-test=element]').first().waitFor();
  assert.equal(await page.locator('[data-test=element]').count(), elements.length);
  const absent = page.locator('[data-test=element][data-code="attendance.absent"] td');
  assert.equal(await absent.nth(1).innerText(), '缺勤');
  /* Validation as you type: a bad code, an inverted range; then a valid element. */
  await page.locator('#el-code').fill('Bad Code');
  await page.locator('#el-code').blur();
  assert.equal(await page.locator('#el-code-err').innerText(), '1–64 位小写字母、数字、_ 或 .');
  await page.locator('#el-min').fill('10');
  await page.locator('#el-max').fill('5');
  await page.locator('#el-max').blur();
  assert.equal(await page.locator('#el-max-err').innerText(), '最大值不能小于最小值');
  const code = `custom.labs_${Date.now().toString(36)}`;
  await page.locator('#el-code').fill(code);
  await page.locator('#el-zh').fill('科学实验室数');
  await page.locator('#el-en').fill('Science labs');
  await page.locator('#el-uzh').fill('间');
  await page.locator('#el-min').fill('0');
  await page.locator('#el-max').fill('50');
  await page.locator('[data-test=element-create]').click();
  await page.locator('[data-test=element-notice]').waitFor();
  assert.equal(await page.locator('[data-test=element-notice]').innerText(), `已创建数据元素 ${code}。`);
  await page.locator(`[data-test=element][data-code="${code}"]`).waitFor();
  const created = (await admin.get('/data-elements')).items.find((e) => e.code === code);
  assert.ok(created, 'the element is in the API');
  assert.equal(created.name.zh, '科学实验室数');
  assert.equal(created.max, 50);

  /* Indicators: the list, then a ratio over the new element and the classrooms. */
  await page.locator('[data-test=nav-brain]').click();
  await page.locator('[data-test=nav-brain-indicators]').click();
  await page.waitForURL(/\/brain\/indicators$/);
  await page.locator('[data-test=indicator]').first().waitFor();
  assert.equal(await page.locator('[data-test=indicator]').count(), indicators.length);
  assert.match(await page.locator('[data-test=indicator][data-code="attendance.rate"] .formula').innerText(), /^\(到校人数\) ÷ \(到校人数 \+ 缺勤（计数）\) × 100$/);
  const icode = `custom.lab_rate_${Date.now().toString(36)}`;
  await page.locator('#in-code').fill(icode);
  await page.locator('#in-zh').fill('实验室配置率');
  await page.locator('#in-en').fill('Labs per classroom');
  await page.locator('[data-test=terms-numerator] select').first().selectOption(code);
  await page.locator('[data-test=terms-numerator] select').nth(1).selectOption('last');
  await page.locator('[data-test=terms-denominator] select').first().selectOption('equipment.classrooms');
  await page.locator('[data-test=terms-denominator] select').nth(1).selectOption('last');
  await page.locator('[data-test=indicator-create]').click();
  await page.locator('[data-test=indicator-notice]').waitFor();
  await page.locator(`[data-test=indicator][data-code="${icode}"]`).waitFor();
  const def = (await admin.get('/indicators')).items.find((x) => x.code === icode);
  assert.ok(def, 'the indicator is in the API');
  assert.deepEqual(def.numerator, [{ element: code, measure: 'last' }]);
  assert.deepEqual(def.denominator, [{ element: 'equipment.classrooms', measure: 'last' }]);
  assert.equal(def.factor, 100);
  await shot(page, 'brain-indicators');
  assert.deepEqual(errors, []);
});
