// The year-end promotion (升级) of a school: the preview says exactly what the apply does, every
// class moves up a grade with its students and teachers, graduating classes leave, a second run
// of the year is refused, an undo restores the rosters exactly, a confirmed run cannot be undone,
// and another school's administrator learns nothing. Both backends (EDUBRAIN_PG).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, loginAs, expectStatus, expectError, listAll, assertErrorsWellFormed, MISSING_ID,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let clients;
let ids;
let school1;
const BODY = { from_year: 2026, to_year: 2027, date: '2027-09-01' };

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
  school1 = clients.school1;
});

after(async () => {
  if (srv) await srv.stop();
});

/* Everything a promotion touches, read through the API: the classes of both years with their
 * rosters and teachers. */
async function snapshot(school) {
  const out = {};
  for (const year of [2026, 2027]) {
    const list = expectStatus(await school1.get(`/api/v1/orgs/${school}/classes?year=${year}`), 200).json;
    assert.ok(list.school_year === year || list.items.length === 0, `year ${year}: ${list.school_year}`);
    out[year] = [];
    for (const c of list.items) {
      const roster = (await listAll(school1, `/api/v1/orgs/${c.id}/people?role=student`, 500)).map((p) => p.id).sort((a, b) => a - b);
      const teachers = expectStatus(await school1.get(`/api/v1/orgs/${c.id}/teachers`), 200).json.items
        .map((t) => `${t.person.id}:${t.subject}:${t.is_head_teacher}`).sort();
      out[year].push({ id: c.id, name: c.name, grade: c.grade.code, n: c.n_students, roster, teachers, head: c.head_teacher });
    }
  }
  return out;
}

const strip = (items) => items.map(({ new_class_id: _n, ...rest }) => rest);

let preview;
let beforeState;
let run;
let graduate = null;

test('the preview lists every class of the year with where it goes, and writes nothing', async () => {
  beforeState = await snapshot(ids.schoolA);
  assert.ok(beforeState[2026].length > 0, 'the demo school has classes in 2026');
  assert.equal(beforeState[2027].length, 0, 'no 2027 classes before the promotion');
  const res = expectStatus(await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion?preview=1`, BODY), 200);
  preview = res.json;
  assert.equal(preview.state, 'preview');
  assert.equal(preview.id, null);
  assert.deepEqual(preview.items.map((i) => i.class_id).sort(), beforeState[2026].map((c) => c.id).sort());
  const byId = Object.fromEntries(beforeState[2026].map((c) => [c.id, c]));
  let promoted = 0;
  let graduated = 0;
  for (const it of preview.items) {
    const cls = byId[it.class_id];
    assert.equal(it.n_students, cls.roster.length, `${it.class_name}: students`);
    assert.equal(it.grade_code, cls.grade);
    const last = ['16', '24', '33', '03', '43'].includes(it.grade_code) ||
      (it.grade_code === '23' && !beforeState[2026].some((c) => c.grade === '24'));
    assert.equal(it.graduating, last, `${it.class_name} (${it.grade_code}): graduating`);
    if (it.graduating) {
      assert.equal(it.new_class_name, null);
      graduated += it.n_students;
    } else {
      assert.equal(Number(it.new_grade_code), Number(it.grade_code) + 1, `${it.class_name}: next grade`);
      assert.equal(typeof it.new_class_name, 'string');
      promoted += it.n_students;
    }
    assert.equal(it.new_class_id, null, 'a preview creates no class');
  }
  assert.equal(preview.n_promoted, promoted);
  assert.equal(preview.n_graduated, graduated);
  /* The demo's junior school names its classes 七年级(n)班: the name follows the grade. */
  const seventh = preview.items.find((i) => /^七年级/.test(i.class_name));
  if (seventh) assert.equal(seventh.new_class_name, seventh.class_name.replace('七年级', '八年级'));
  assert.deepEqual(await snapshot(ids.schoolA), beforeState, 'a preview changed something');
});

test('bad input is refused with the field named, before anything is written', async () => {
  const url = `/api/v1/orgs/${ids.schoolA}/promotion`;
  expectError(await school1.post(url, { ...BODY, to_year: 2028 }), 400, 'invalid_field');
  expectError(await school1.post(url, { ...BODY, date: '2027-02-30' }), 400, 'invalid_field');
  expectError(await school1.post(url, { ...BODY, date: '2026-09-01' }), 400, 'invalid_field');
  expectError(await school1.post(url, { from_year: 2026, to_year: 2027 }), 400, 'missing_field');
  expectError(await school1.post(url, { ...BODY, extra: 1 }), 400, 'unknown_field');
  expectError(await school1.post(`${url}?preview=yes`, BODY), 400, 'bad_request');
  expectError(await school1.post(`/api/v1/orgs/${ids.classA}/promotion`, BODY), 400, 'invalid_field');
  assert.deepEqual(expectStatus(await school1.get(url), 200).json.items, []);
});

test('scope: another school\'s administrator gets the missing-id answer; read-only roles are refused', async () => {
  const missing = await school1.post(`/api/v1/orgs/${MISSING_ID}/promotion?preview=1`, BODY);
  expectError(missing, 404, 'not_found');
  for (const other of [ids.schoolA2, ids.schoolB]) {
    const res = await school1.post(`/api/v1/orgs/${other}/promotion?preview=1`, BODY);
    assert.equal(res.status, 404, `school1 on ${other}`);
    assert.equal(res.text, missing.text, 'an out-of-scope school answers like a missing one');
    const list = await school1.get(`/api/v1/orgs/${other}/promotion`);
    assert.equal(list.status, 404);
  }
  expectError(await clients.teacher1.post(`/api/v1/orgs/${ids.schoolA}/promotion`, BODY), 403, 'forbidden');
  expectError(await clients.analyst1.post(`/api/v1/orgs/${ids.schoolA}/promotion`, BODY), 403, 'forbidden');
  expectError(await clients.district1.post(`/api/v1/orgs/${ids.schoolB}/promotion`, BODY), 404, 'not_found');
});

test('apply: the result is what the preview said; rosters and teachers move, graduates leave', async () => {
  const res = expectStatus(await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion`, BODY), 201);
  run = res.json;
  assert.equal(run.state, 'applied');
  assert.ok(Number.isInteger(run.id));
  assert.deepEqual(strip(run.items), strip(preview.items), 'the applied plan differs from the preview');
  for (const k of ['n_classes', 'n_promoted', 'n_graduated']) assert.equal(run[k], preview[k], k);
  const now = await snapshot(ids.schoolA);
  /* The old year's classes are closed: not listed any more, and their rosters are empty. */
  assert.equal(now[2026].length, 0, 'the 2026 classes are closed');
  const old = Object.fromEntries(beforeState[2026].map((c) => [c.id, c]));
  const made = Object.fromEntries(now[2027].map((c) => [c.id, c]));
  const moving = run.items.filter((i) => !i.graduating);
  assert.equal(now[2027].length, moving.length, 'one new class per promoted class');
  for (const it of moving) {
    const cls = made[it.new_class_id];
    assert.ok(cls, `new class ${it.new_class_id} of ${it.class_name} is listed in 2027`);
    assert.equal(cls.name, it.new_class_name);
    assert.equal(cls.grade, it.new_grade_code);
    assert.deepEqual(cls.roster, old[it.class_id].roster, `${it.class_name}: the same students`);
    assert.equal(cls.n, it.n_students);
    assert.deepEqual(cls.teachers, old[it.class_id].teachers, `${it.class_name}: the same teachers`);
    assert.deepEqual(cls.head, old[it.class_id].head, `${it.class_name}: the head teacher carried over`);
  }
  /* student1's enrolment history: the old class ended on the date, the new one starts on it. */
  const s1 = expectStatus(await school1.get(`/api/v1/people/${ids.student1}`), 200).json;
  const cur = s1.enrolments.filter((e) => e.end_date === null);
  assert.equal(cur.length, 1);
  const mine = run.items.find((i) => i.class_id === ids.classA);
  assert.equal(cur[0].class.id, mine.new_class_id);
  assert.equal(cur[0].start_date, '2027-09-01');
  assert.ok(s1.enrolments.some((e) => e.class.id === ids.classA && e.end_date === '2027-09-01'));
  /* A graduate has no current enrolment left. */
  const grad = run.items.find((i) => i.graduating && i.n_students > 0);
  if (grad) {
    const pid = old[grad.class_id].roster[0];
    const p = expectStatus(await school1.get(`/api/v1/people/${pid}`), 200).json;
    assert.equal(p.enrolments.filter((e) => e.end_date === null).length, 0, 'a graduate is enrolled nowhere');
    const st = expectStatus(await school1.get(`/api/v1/people/${pid}/status`), 200).json;
    assert.equal(st.status, 'graduated');
    const ev = st.events.find((e) => e.kind === 'graduation');
    assert.ok(ev, 'a graduation event');
    assert.equal(ev.date, '2027-09-01');
    graduate = pid;
  }
  const runs = expectStatus(await school1.get(`/api/v1/orgs/${ids.schoolA}/promotion`), 200).json.items;
  assert.equal(runs[0].id, run.id);
  assert.equal(runs[0].state, 'applied');
});

test('a second run for the same year is refused with 409, preview too', async () => {
  expectError(await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion`, BODY), 409, 'already_promoted');
  expectError(await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion?preview=1`, BODY), 409, 'already_promoted');
});

test('undo restores the exact rosters, teachers and classes of before', async () => {
  expectError(await clients.teacher1.post(`/api/v1/orgs/${ids.schoolA}/promotion/${run.id}/undo`), 403, 'forbidden');
  const missing = await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion/${MISSING_ID}/undo`);
  expectError(missing, 404, 'not_found');
  /* A run of this school named under another school is not found there. */
  expectError(await clients.district1.post(`/api/v1/orgs/${ids.schoolA2}/promotion/${run.id}/undo`), 404, 'not_found');
  const res = expectStatus(await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion/${run.id}/undo`), 200);
  assert.equal(res.json.state, 'undone');
  assert.deepEqual(await snapshot(ids.schoolA), beforeState, 'the undo did not restore the state before');
  const s1 = expectStatus(await school1.get(`/api/v1/people/${ids.student1}`), 200).json;
  assert.deepEqual(s1.enrolments.filter((e) => e.end_date === null).map((e) => e.class.id), [ids.classA]);
  if (graduate) {
    const st = expectStatus(await school1.get(`/api/v1/people/${graduate}/status`), 200).json;
    assert.equal(st.status, 'enrolled', 'the graduate is a student again');
    assert.ok(!st.events.some((e) => e.kind === 'graduation'), 'the graduation event is gone');
  }
  expectError(await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion/${run.id}/undo`), 409, 'promotion_changed');
  expectError(await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion/${run.id}/confirm`), 409, 'promotion_changed');
});

test('after an undo the year can run again; a confirmed run cannot be undone', async () => {
  const again = expectStatus(await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion`, BODY), 201).json;
  assert.notEqual(again.id, run.id);
  assert.deepEqual(strip(again.items), strip(preview.items));
  const conf = expectStatus(await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion/${again.id}/confirm`), 200);
  assert.equal(conf.json.state, 'confirmed');
  expectError(await school1.post(`/api/v1/orgs/${ids.schoolA}/promotion/${again.id}/undo`), 409, 'promotion_confirmed');
  const runs = expectStatus(await school1.get(`/api/v1/orgs/${ids.schoolA}/promotion`), 200).json.items;
  assert.deepEqual(runs.map((r) => [r.id, r.state]), [[again.id, 'confirmed'], [run.id, 'undone']]);
  /* The audit log has the four steps. */
  const audit = expectStatus(await school1.get(`/api/v1/audit?org=${ids.schoolA}&limit=200`), 200).json.items
    .filter((e) => e.action.startsWith('promotion.')).map((e) => `${e.action}:${e.object_id}`);
  for (const want of [`promotion.apply:${run.id}`, `promotion.undo:${run.id}`, `promotion.apply:${again.id}`,
    `promotion.confirm:${again.id}`]) assert.ok(audit.includes(want), `audit lacks ${want}: ${audit.join(' ')}`);
});

test('an undo is refused once the new classes changed (a student enrolled later)', async () => {
  const res = expectStatus(await clients.district1.post(`/api/v1/orgs/${ids.schoolA2}/promotion`, BODY), 201).json;
  const target = res.items.find((i) => !i.graduating);
  assert.ok(target, 'school A2 has a class that moves up');
  const p = expectStatus(await clients.district1.post('/api/v1/people', {
    org_id: ids.schoolA2, name: '插班生', sex: 'female', birth_date: '2015-03-04', kind: 'student',
  }), 201).json;
  expectStatus(await clients.district1.post('/api/v1/enrolments', {
    person_id: p.id, class_id: target.new_class_id, start_date: '2027-09-02',
  }), 201);
  expectError(await clients.district1.post(`/api/v1/orgs/${ids.schoolA2}/promotion/${res.id}/undo`), 409, 'promotion_changed');
  const roster = await listAll(clients.district1, `/api/v1/orgs/${target.new_class_id}/people?role=student`, 500);
  assert.equal(roster.length, target.n_students + 1, 'a refused undo changed nothing');
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
