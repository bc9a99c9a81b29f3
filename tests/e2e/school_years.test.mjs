// School years and terms: the demo's calendar, the year and term as of a date at every boundary,
// creation by a city administrator, validation errors naming the field, and who may write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, loginAs, expectStatus, expectError, assertErrorsWellFormed,
} from './lib/server.mjs';
import { ROLE_LOGINS } from './lib/city.mjs';

let srv;
const clients = {};

before(async () => {
  srv = await startServer();
  for (const login of ROLE_LOGINS) clients[login] = await loginAs(srv.base, login);
});

after(async () => {
  if (srv) await srv.stop();
});

/* A year far from the demo's, so that the tests never overlap them: 2031-2032 ... */
function year(first, over = {}) {
  const y2 = first + 1;
  return {
    name: `${first}-${y2}`, start_date: `${first}-09-01`, end_date: `${y2}-07-10`,
    terms: [
      { term: 1, start_date: `${first}-09-01`, end_date: `${y2}-01-18` },
      { term: 2, start_date: `${y2}-02-17`, end_date: `${y2}-07-10` },
    ],
    ...over,
  };
}

test('the demo city has the current school year 2026-2027 and the previous one, with their terms', async () => {
  const res = expectStatus(await clients.admin.get('/api/v1/school-years'), 200);
  const byName = Object.fromEntries(res.json.items.map((y) => [y.name, y]));
  assert.deepEqual(
    { ...byName['2026-2027'], id: 0 },
    {
      id: 0, name: '2026-2027', start_date: '2026-09-01', end_date: '2027-07-15',
      terms: [{ term: 1, start_date: '2026-09-01', end_date: '2027-01-20' },
        { term: 2, start_date: '2027-02-20', end_date: '2027-07-15' }],
    },
  );
  assert.equal(byName['2025-2026'].start_date, '2025-09-01');
  assert.equal(byName['2025-2026'].end_date, '2026-07-15');
  /* Newest first. */
  const names = res.json.items.map((y) => y.name);
  assert.ok(names.indexOf('2026-2027') < names.indexOf('2025-2026'), names.join(','));
  /* The classes the demo wrote belong to the current year (school_year 2026). */
  const school = clients.school1.session.roles.find((r) => r.role === 'school_admin').org.id;
  const grades = expectStatus(await clients.school1.get(`/api/v1/orgs/${school}/children`), 200).json.items;
  const classes = expectStatus(await clients.school1.get(`/api/v1/orgs/${grades[0].id}/children`), 200).json.items;
  assert.ok(classes.length > 0);
  for (const c of classes) assert.equal(c.school_year, 2026, `class ${c.id}`);
});

test('as of a date: year and term at the boundaries, holidays between terms and between years', async () => {
  const cases = [
    ['2026-09-01', '2026-2027', 1], /* first day of the year and of term 1 */
    ['2027-01-20', '2026-2027', 1], /* last day of term 1 */
    ['2027-01-21', '2026-2027', 0], /* winter holiday: in the year, in no term */
    ['2027-02-19', '2026-2027', 0],
    ['2027-02-20', '2026-2027', 2], /* first day of term 2 */
    ['2027-07-15', '2026-2027', 2], /* last day of the year */
    ['2027-07-16', null, 0], /* summer: no school year */
    ['2026-07-15', '2025-2026', 2], /* the previous year's last day */
    ['2026-07-16', null, 0],
    ['2026-08-31', null, 0],
    ['2025-09-01', '2025-2026', 1],
    ['2025-08-31', null, 0],
  ];
  for (const [date, name, term] of cases) {
    for (const login of ['admin', 'teacher1', 'student1', 'parent1']) {
      const res = expectStatus(await clients[login].get(`/api/v1/school-years/current?date=${date}`), 200, `${login} ${date}`);
      assert.equal(res.json.date, date);
      assert.equal(res.json.school_year ? res.json.school_year.name : null, name, `${login} ${date}: year`);
      assert.equal(res.json.term ? res.json.term.term : 0, term, `${login} ${date}: term`);
    }
  }
  /* Without a date: today, whatever it is, in the same shape. */
  const today = expectStatus(await clients.teacher1.get('/api/v1/school-years/current'), 200).json;
  assert.match(today.date, /^\d{4}-\d{2}-\d{2}$/);
  assert.ok('school_year' in today && 'term' in today);
  expectError(await clients.admin.get('/api/v1/school-years/current?date=2026-02-30'), 400, 'invalid_field');
  expectError(await clients.admin.get('/api/v1/school-years/current?date=today'), 400, 'invalid_field');
});

test('a city administrator creates a school year; it lists and answers as-of questions', async () => {
  const res = expectStatus(await clients.admin.post('/api/v1/school-years', year(2031)), 201);
  assert.ok(Number.isInteger(res.json.id));
  assert.equal(res.json.name, '2031-2032');
  assert.deepEqual(res.json.terms.map((t) => [t.term, t.start_date, t.end_date]),
    [[1, '2031-09-01', '2032-01-18'], [2, '2032-02-17', '2032-07-10']]);
  const list = expectStatus(await clients.analyst1.get('/api/v1/school-years'), 200).json.items;
  assert.equal(list[0].name, '2031-2032');
  const cur = expectStatus(await clients.student1.get('/api/v1/school-years/current?date=2032-02-17'), 200).json;
  assert.equal(cur.school_year.id, res.json.id);
  assert.equal(cur.term.term, 2);
  /* The same name twice: 409; an overlapping year under another name cannot exist (names are
   * the years), so overlap is tested with dates reaching into the neighbour. */
  expectError(await clients.admin.post('/api/v1/school-years', year(2031)), 409, 'exists');
  /* The audit log has the creation. */
  const city = clients.admin.session.roles.find((r) => r.role === 'city_admin').org.id;
  const audit = expectStatus(await clients.admin.get(`/api/v1/audit?org=${city}&limit=20`), 200).json.items;
  assert.ok(audit.some((e) => e.action === 'school_year.create' && e.object_id === res.json.id),
    JSON.stringify(audit.slice(0, 3)));
});

test('validation: each wrong field answers 400 invalid_field naming it, and nothing is written', async () => {
  const before_ = expectStatus(await clients.admin.get('/api/v1/school-years'), 200).json.items.length;
  const t = year(2033).terms;
  const bad = [
    [{ name: '2033-2035' }, 'name'],
    [{ name: '2033/2034' }, 'name'],
    [{ name: '20332034x' }, 'name'],
    [{ start_date: '2033-02-30' }, 'start_date'],
    [{ start_date: '2032-09-01' }, 'start_date'], /* not in the first year of the name */
    [{ end_date: '2035-07-10' }, 'end_date'],
    [{ terms: [t[0]] }, 'terms'],
    [{ terms: [t[1], t[0]] }, 'terms[0].term'],
    [{ terms: [{ ...t[0], start_date: '2033-08-20' }, t[1]] }, 'terms[0].start_date'], /* before the year */
    [{ terms: [t[0], { ...t[1], end_date: '2034-07-30' }] }, 'terms[1].end_date'], /* after the year */
    [{ terms: [t[0], { ...t[1], start_date: '2034-01-10' }] }, 'terms[1].start_date'], /* term 2 before term 1 ends */
    [{ terms: [{ ...t[0], end_date: '2033-08-01' }, t[1]] }, 'terms[0]'], /* ends before it starts (and before the year) */
    [{ terms: [{ term: 1, start_date: '2033-09-01' }, t[1]] }, 'terms[0]'],
  ];
  for (const [over, field] of bad) {
    const res = await clients.admin.post('/api/v1/school-years', year(2033, over));
    expectError(res, 400, 'invalid_field', JSON.stringify(over));
    assert.ok(res.json.error.message.includes(field), `${JSON.stringify(over)}: ${res.json.error.message} should name ${field}`);
  }
  /* Overlap with the existing 2031-2032: a 2032-2033 year starting before 2032-07-10. */
  const ov = await clients.admin.post('/api/v1/school-years', year(2032, {
    start_date: '2032-07-01', terms: [{ term: 1, start_date: '2032-07-01', end_date: '2033-01-18' }, year(2032).terms[1]],
  }));
  expectError(ov, 400, 'invalid_field', 'overlap');
  assert.match(ov.json.error.message, /start_date/);
  expectError(await clients.admin.post('/api/v1/school-years', { ...year(2033), extra: 1 }), 400, 'unknown_field');
  expectError(await clients.admin.post('/api/v1/school-years', { name: '2033-2034' }), 400);
  const after_ = expectStatus(await clients.admin.get('/api/v1/school-years'), 200).json.items.length;
  assert.equal(after_, before_, 'a refused year was written');
  /* English on request. */
  const en = await clients.admin.post('/api/v1/school-years', year(2033, { name: '2033-2036' }), { headers: { 'Accept-Language': 'en' } });
  expectError(en, 400, 'invalid_field');
  assert.match(en.json.error.message, /name: must be YYYY-YYYY/);
});

test('only city administrators write; every logged-in role reads; anonymous callers get 401', async () => {
  for (const login of ROLE_LOGINS.filter((l) => l !== 'admin')) {
    const res = await clients[login].post('/api/v1/school-years', year(2035));
    expectError(res, 403, 'forbidden', login);
    /* Even an invalid body is refused for the role first: no validation detail leaks. */
    expectError(await clients[login].post('/api/v1/school-years', { name: 'x' }), 403, 'forbidden', login);
    expectStatus(await clients[login].get('/api/v1/school-years'), 200, login);
  }
  const list = expectStatus(await clients.admin.get('/api/v1/school-years'), 200).json.items;
  assert.ok(!list.some((y) => y.name === '2035-2036'), 'a refused write was stored');
  const anon = await fetch(`${srv.base}/api/v1/school-years`);
  assert.equal(anon.status, 401);
  /* A district administrator is an administrator, but not of the city. */
  expectError(await clients.district1.post('/api/v1/school-years', year(2036)), 403, 'forbidden');
});

test('every error answer is well formed', () => {
  assertErrorsWellFormed();
});
