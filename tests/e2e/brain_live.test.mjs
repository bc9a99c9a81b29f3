// The brain live (docs/internals/brain.md, "Indicators, rules and the stream"): an observation
// reaches an open Server-Sent Events stream within a second; a homework report over the limit
// opens an alert (stream and GET /alerts) and its correction clears it; indicator values equal
// a computation by hand from the rows posted here; the city's own indicators; the dashboard;
// scope (404 like a missing id). Runs on SQLite and, with EDUBRAIN_PG, on PostgreSQL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, expectStatus, expectError, listAll, MISSING_ID, uniq, assertErrorsWellFormed,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let clients;
let ids;
let today; /* the server's calendar day */
const tag = uniq().replace(/[^a-z0-9]/g, '').slice(-8);

const dayOf = (base, delta) => {
  const d = new Date(`${base}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + delta);
  return d.toISOString().slice(0, 10);
};

/** A class of grades 3-6 (codes 13..16) of a school, with its grade, and a few of its students. */
async function primaryClass(admin, schoolId, skip = new Set()) {
  const grades = (await listAll(admin, `/api/v1/orgs/${schoolId}/children`, 500))
    .filter((g) => g.kind === 'grade' && /^1[3-6]$/.test(g.grade_code || ''));
  for (const g of grades) {
    for (const c of await listAll(admin, `/api/v1/orgs/${g.id}/children`, 500)) {
      if (skip.has(c.id)) continue;
      const people = expectStatus(await admin.get(`/api/v1/orgs/${c.id}/people?role=student&limit=5`), 200).json.items;
      if (people.length >= 3) return { cls: c, grade: g, students: people };
    }
  }
  return null;
}

/** Such a class in any school of a district, with its school. */
async function primaryIn(admin, districtId, skip = new Set()) {
  for (const sc of await listAll(admin, `/api/v1/orgs/${districtId}/children`, 500)) {
    if (sc.kind !== 'school') continue;
    const pc = await primaryClass(admin, sc.id, skip);
    if (pc) return { ...pc, school: sc };
  }
  return null;
}

/** An event-stream reader over fetch: events as { event, data } in arrival order. */
function openStream(client, url) {
  const ctl = new AbortController();
  const events = [];
  const waiters = [];
  let buffer = '';
  let firstBytes;
  const connected = new Promise((resolve) => { firstBytes = resolve; });
  const done = (async () => {
    const res = await fetch(client.base + url, { headers: { Cookie: client.cookieHeader() }, signal: ctl.signal });
    const out = { status: res.status, type: res.headers.get('content-type') };
    firstBytes(out);
    if (res.status !== 200) return out;
    const dec = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        buffer += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const ev = { event: 'message', data: '', at: Date.now(), comment: false };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) ev.comment = true;
            else if (line.startsWith('event: ')) ev.event = line.slice(7);
            else if (line.startsWith('data: ')) ev.data += line.slice(6);
          }
          if (ev.comment && !ev.data) continue;
          if (ev.data) ev.json = JSON.parse(ev.data);
          events.push(ev);
          for (const w of [...waiters]) w();
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') throw e;
    }
    return out;
  })();
  /** The first event (after index from) that pred accepts, within ms. */
  const next = (pred, ms, from = 0) => new Promise((resolve, reject) => {
    const check = () => {
      const hit = events.slice(from).find(pred);
      if (hit) {
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(check), 1);
        resolve(hit);
      }
    };
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(check), 1);
      reject(new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events.slice(from).map((e) => e.data))}`));
    }, ms);
    waiters.push(check);
    check();
  });
  return { events, next, connected, close: () => { ctl.abort(); return done.catch(() => {}); } };
}

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
  today = expectStatus(await clients.admin.get(`/api/v1/dashboard?org=${ids.city}`), 200).json.date;
  assert.match(today, /^\d{4}-\d{2}-\d{2}$/);
});

after(async () => {
  if (srv) await srv.stop();
});

test('an observation reaches an open stream within a second; a homework breach opens an alert that its correction clears', async () => {
  const admin = clients.admin;
  const pc = await primaryIn(admin, ids.districtA);
  assert.ok(pc, 'district A should have a class of grades 3-6 with students');
  const school = pc.school;
  const stream = openStream(clients.district1, `/api/v1/stream?org=${school.id}`);
  const head = await stream.connected;
  assert.equal(head.status, 200);
  assert.match(head.type, /^text\/event-stream/);
  /* A second stream of the other district must hear nothing of school A. */
  const other = openStream(admin, `/api/v1/stream?org=${ids.districtB}`);
  assert.equal((await other.connected).status, 200);
  await new Promise((r) => setTimeout(r, 300));

  const posted = Date.now();
  const ok = expectStatus(await admin.post('/api/v1/observations', {
    observations: [{ element: 'homework.minutes', org_id: pc.cls.id, day: today, value: 120 }],
  }), 201).json;
  assert.equal(ok.ids.length, 1);
  const cells = await stream.next((e) => e.event === 'cells' &&
    e.json.changes.some((c) => c.element === 'homework.minutes' && c.org === school.id && c.day === today), 3000);
  assert.ok(cells.at - posted < 1000, `the change arrived ${cells.at - posted} ms after the POST`);
  /* The grade (a child of the school) is in the same event or a later one; the class is not
   * (a grandchild: its change reaches the school's screen through its grade). */
  const all = stream.events.filter((e) => e.event === 'cells').flatMap((e) => e.json.changes);
  assert.ok(all.some((c) => c.org === pc.grade.id), 'the grade\'s change');
  assert.ok(!all.some((c) => c.org === pc.cls.id), 'no grandchild changes');

  const opened = await stream.next((e) => e.event === 'alert' && e.json.org.id === pc.cls.id, 3000);
  assert.equal(opened.json.rule, 'homework.minutes');
  assert.equal(opened.json.state, 'open');
  assert.equal(opened.json.since, today);
  assert.deepEqual(opened.json.values, { value: 120, limit: 60 });
  assert.match(opened.json.message.zh, /书面作业 120 分钟，超过 60 分钟/);
  assert.match(opened.json.message.en, /120 minutes of written homework/);
  const list = expectStatus(await clients.district1.get(`/api/v1/alerts?org=${school.id}`), 200).json;
  const mine = list.items.find((a) => a.org.id === pc.cls.id && a.rule === 'homework.minutes');
  assert.ok(mine, `GET /alerts lists the alert: ${JSON.stringify(list.items)}`);
  assert.equal(mine.id, opened.json.id);
  assert.equal(mine.state, 'open');
  assert.equal(mine.cleared, null);
  /* The district and the city see it too (scopes above it); the dashboard counts it. */
  for (const [c, org] of [[clients.district1, ids.districtA], [admin, ids.city]]) {
    const l = expectStatus(await c.get(`/api/v1/alerts?org=${org}`), 200).json;
    assert.ok(l.items.some((a) => a.id === mine.id), `alert listed at ${org}`);
  }
  const dash = expectStatus(await clients.district1.get(`/api/v1/dashboard?org=${school.id}`), 200).json;
  assert.ok(dash.alerts.open >= 1);
  assert.equal(dash.org.id, school.id);
  assert.equal(dash.org.name, school.name);

  /* Within the limit at exactly 60 minutes (grades 3-6): the correction clears the alert. */
  expectStatus(await admin.post('/api/v1/observations', {
    observations: [{ element: 'homework.minutes', org_id: pc.cls.id, day: today, value: 60, supersedes: ok.ids[0], reason: '录入错误，更正' }],
  }), 201);
  /* Matched by rule and class: what must hold is that this class's homework alert clears. */
  const closed = await stream.next((e) => e.event === 'alert' && e.json.org.id === pc.cls.id &&
    e.json.rule === 'homework.minutes' && e.json.state === 'closed', 3000);
  assert.equal(closed.json.since, today);
  const after1 = expectStatus(await admin.get(`/api/v1/alerts?org=${school.id}`), 200).json;
  assert.ok(!after1.items.some((a) => a.org.id === pc.cls.id && a.rule === 'homework.minutes'),
    `no open homework alert of the class is left: ${JSON.stringify(after1.items)}`);
  const hist = expectStatus(await admin.get(`/api/v1/alerts?org=${school.id}&state=all`), 200).json;
  const h = hist.items.find((a) => a.id === closed.json.id);
  assert.equal(h.state, 'closed');
  assert.equal(h.cleared, today);

  assert.ok(!other.events.some((e) => e.event === 'alert' || (e.json?.changes || []).length),
    `district B's stream heard school A: ${JSON.stringify(other.events)}`);
  await stream.close();
  await other.close();
});

test('indicator values equal a computation by hand from the posted rows', async () => {
  const admin = clients.admin;
  const c1 = await primaryIn(admin, ids.districtA);
  assert.ok(c1, 'district A should have a class of grades 3-6');
  const c2 = await primaryClass(admin, c1.school.id, new Set([c1.cls.id]));
  assert.ok(c2, 'its school should have two such classes');
  const sid = c1.school.id;
  const d1 = dayOf(today, -12);
  const d2 = dayOf(today, -11);
  const url = (org, extra = '') => `/api/v1/indicators/attendance.rate?org=${org}&period=range:${d1}..${d2}${extra}`;
  const before0 = expectStatus(await admin.get(url(sid, '&by=day')), 200).json;
  const classUrl = `/api/v1/indicators/attendance.rate?org=${c1.cls.id}&period=day:${d1}`;
  const oneBefore = expectStatus(await admin.get(classUrl), 200).json;
  const absent = (cls, p, cat) => ({ element: 'attendance.absent', org_id: cls.cls.id, person_id: p.id, day: d1, value: 1, category: cat });
  expectStatus(await admin.post('/api/v1/observations', {
    observations: [
      { element: 'attendance.present', org_id: c1.cls.id, day: d1, value: 40 },
      absent(c1, c1.students[0], 'illness:fever'),
      absent(c1, c1.students[1], 'personal'),
      { element: 'attendance.present', org_id: c2.cls.id, day: d1, value: 18 },
      ...c2.students.slice(0, 3).map((p) => absent(c2, p, 'illness:cough')),
      { element: 'attendance.present', org_id: c2.cls.id, day: d2, value: 21 },
    ],
  }), 201);
  const got = expectStatus(await admin.get(url(sid, '&by=day')), 200).json;
  /* Sums first: (40 + 18 + 21) present of (42 + 21 + 21) expected, not the mean of the class
   * rates. */
  const num = before0.numerator + 79;
  const den = before0.denominator + 84;
  assert.equal(got.numerator, num);
  assert.equal(got.denominator, den);
  assert.ok(Math.abs(got.value - num / den * 100) < 1e-6, `value ${got.value}, by hand ${num / den * 100}`);
  assert.equal(got.indicator, 'attendance.rate');
  assert.deepEqual(got.period, { from: d1, to: d2 });
  assert.equal(got.items.length, 2);
  assert.equal(got.items[0].day, d1);
  assert.equal(got.items[0].numerator, before0.items[0].numerator + 58);
  assert.equal(got.items[0].denominator, before0.items[0].denominator + 63);
  assert.equal(got.items[1].numerator, before0.items[1].numerator + 21);
  /* By children: the grades of the school add up to the school. */
  const kids = expectStatus(await admin.get(url(sid, '&by=children')), 200).json;
  assert.equal(kids.items.reduce((s, i) => s + i.numerator, 0), got.numerator);
  assert.equal(kids.items.reduce((s, i) => s + i.denominator, 0), got.denominator);
  /* The class alone: 40 / 42. */
  const one = expectStatus(await admin.get(classUrl), 200).json;
  assert.equal(one.numerator, oneBefore.numerator + 40);
  assert.equal(one.denominator, oneBefore.denominator + 42);
  assert.ok(Math.abs(one.value - one.numerator / one.denominator * 100) < 1e-6);
  /* The same table as Excel: a zip (xlsx) with its content type. */
  const x = await fetch(srv.base + url(sid, '&by=day').replace('attendance.rate?', 'attendance.rate.xlsx?'),
    { headers: { Cookie: admin.cookieHeader() } });
  assert.equal(x.status, 200);
  assert.match(x.headers.get('content-type'), /spreadsheetml/);
  const bytes = Buffer.from(await x.arrayBuffer());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  /* Bad questions are named. */
  expectError(await admin.get(`/api/v1/indicators/attendance.rate?org=${sid}&period=month:2026-13`), 400, 'invalid_field');
  expectError(await admin.get(`/api/v1/indicators/attendance.rate?org=${sid}&by=year`), 400, 'invalid_field');
  expectError(await admin.get(`/api/v1/indicators/nope.nothing?org=${sid}`), 404, 'not_found');
});

test('a city indicator: administrators of bureaus define it, the others may not; it is computed like the built-in ones', async () => {
  const def = {
    code: `e2e.present_${tag}`, name_zh: '班均到校人数', name_en: 'Present per class report',
    numerator: [{ element: 'attendance.present', measure: 'sum' }],
    denominator: [{ element: 'attendance.present', measure: 'count' }],
  };
  for (const login of ['school1', 'teacher1', 'analyst1']) {
    expectError(await clients[login].post('/api/v1/indicators', def), 403, 'forbidden', login);
  }
  expectError(await clients.admin.post('/api/v1/indicators', { ...def, numerator: [{ element: 'no.such' }] }), 400, 'invalid_field');
  expectError(await clients.admin.post('/api/v1/indicators', { ...def, rank: true }), 400, 'unknown_field');
  const made = expectStatus(await clients.district1.post('/api/v1/indicators', def), 201).json;
  assert.equal(made.code, def.code);
  assert.equal(made.builtin, false);
  expectError(await clients.admin.post('/api/v1/indicators', def), 409, 'exists');
  const list = expectStatus(await clients.teacher1.get('/api/v1/indicators'), 200).json.items;
  assert.ok(list.some((i) => i.code === def.code));
  assert.ok(list.some((i) => i.code === 'balance.multimedia_cv.primary' && i.kind === 'cv' && i.threshold === 0.5));
  const d = dayOf(today, -20);
  const cls = await primaryIn(clients.admin, ids.districtA);
  expectStatus(await clients.admin.post('/api/v1/observations', {
    observations: [{ element: 'attendance.present', org_id: cls.cls.id, day: d, value: 33 }],
  }), 201);
  const v = expectStatus(await clients.district1.get(`/api/v1/indicators/${def.code}?org=${cls.cls.id}&period=day:${d}`), 200).json;
  assert.equal(v.value, 33);
  /* A non-additive indicator answers a distribution of schools, never a ranking. */
  const cv = expectStatus(await clients.admin.get(`/api/v1/indicators/balance.multimedia_cv.primary?org=${ids.city}&by=children`), 200).json;
  assert.equal(cv.kind, 'schools');
  assert.equal(cv.distribution.threshold, 0.5);
  assert.equal(cv.distribution.bins.length, cv.distribution.schools ? 10 : 0);
  assert.ok(!JSON.stringify(cv.distribution).includes('"org"'), 'the distribution names no school');
});

test('scope: outside nodes, students and parents answer like a missing id; the stream is never opened there', async () => {
  for (const [login, org] of [['school1', ids.schoolB], ['school1', ids.schoolA2], ['district1', ids.districtB],
    ['student1', ids.classA], ['parent1', ids.classA], ['teacher1', ids.schoolB]]) {
    const c = clients[login];
    for (const path of ['/api/v1/indicators/attendance.rate?org=', '/api/v1/alerts?org=', '/api/v1/dashboard?org=', '/api/v1/stream?org=']) {
      const missing = await c.get(`${path}${MISSING_ID}`);
      const out = await c.get(`${path}${org}`);
      assert.equal(missing.status, 404, `${login} ${path}missing`);
      assert.equal(out.status, 404, `${login} ${path}${org}: ${out.status} ${out.text.slice(0, 100)}`);
      assert.equal(out.text, missing.text);
    }
  }
  /* Inside: a teacher reads the school's figures. */
  expectStatus(await clients.teacher1.get(`/api/v1/dashboard?org=${ids.schoolA}`), 200);
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
