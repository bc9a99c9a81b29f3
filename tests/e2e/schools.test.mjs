// Schools and classes management: closing a school (refused while it has students), merging one
// into another (classes, students, posts and teaching move; history stays), school codes never
// reused, teaching points under a central school, class lists with sizes and 大班额 flags, the
// size warnings of saves at 56 and 66 students, class teachers and the change of head teacher.
// Both backends (EDUBRAIN_PG).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, expectStatus, expectError, listAll, assertErrorsWellFormed, MISSING_ID, uniq,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let clients;
let ids;
let admin;
let district1;
const tag = uniq();
/* Ten-digit school codes (category 31, province 37) unique to this run, apart from the demo's. */
const base = 3137900000 + (Number.parseInt(tag.slice(-4), 36) % 9000) * 10;
const code = (i) => String(base + i);

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
  admin = clients.admin;
  district1 = clients.district1;
});

after(async () => {
  if (srv) await srv.stop();
});

async function newSchool(client, i, extra = {}) {
  return expectStatus(await client.post('/api/v1/orgs', {
    parent_id: ids.districtA, kind: 'school', name: `测试学校${tag}-${i}`, school_code: code(i),
    running_type: '211', ...extra,
  }), 201, `school ${i}`).json;
}

async function newClass(client, school, gradeCode, name, year = 2026) {
  const kids = await listAll(client, `/api/v1/orgs/${school}/children`, 500);
  let grade = kids.find((k) => k.kind === 'grade' && k.grade_code === gradeCode);
  if (!grade) {
    grade = expectStatus(await client.post('/api/v1/orgs', {
      parent_id: school, kind: 'grade', name: `年级${gradeCode}`, grade_code: gradeCode,
    }), 201).json;
  }
  const res = expectStatus(await client.post('/api/v1/orgs', {
    parent_id: grade.id, kind: 'class', name, school_year: year,
  }), 201).json;
  assert.deepEqual(res.warnings, [], 'an empty class has no size warning');
  return res;
}

let n = 0;
async function newStudent(client, school) {
  n++;
  return expectStatus(await client.post('/api/v1/people', {
    org_id: school, name: `学生${n}`, sex: n % 2 ? 'male' : 'female', birth_date: '2016-05-06', kind: 'student',
  }), 201).json;
}

test('closing: refused while the school has students, by a school administrator, and twice', async () => {
  expectError(await district1.post(`/api/v1/orgs/${ids.schoolA2}/close`, { date: '2027-07-15' }), 409, 'school_has_students');
  expectError(await clients.school1.post(`/api/v1/orgs/${ids.schoolA}/close`, { date: '2027-07-15' }), 403, 'forbidden');
  const missing = await district1.post(`/api/v1/orgs/${MISSING_ID}/close`, { date: '2027-07-15' });
  expectError(missing, 404, 'not_found');
  const out = await district1.post(`/api/v1/orgs/${ids.schoolB}/close`, { date: '2027-07-15' });
  assert.equal(out.status, 404);
  assert.equal(out.text, missing.text, 'another district\'s school answers like a missing one');
  expectError(await district1.post(`/api/v1/orgs/${ids.classA}/close`, { date: '2027-07-15' }), 400, 'invalid_field');
  expectError(await district1.post(`/api/v1/orgs/${ids.schoolA2}/close`, { date: '2027-13-01' }), 400, 'invalid_field');
});

test('a closed school keeps its row and its code forever; codes are never reused', async () => {
  const s = await newSchool(district1, 1);
  const cls = await newClass(district1, s.id, '11', '一年级(1)班');
  const info = expectStatus(await district1.post(`/api/v1/orgs/${s.id}/close`, { date: '2027-07-15' }), 200).json;
  assert.equal(info.closed_on, '2027-07-15');
  assert.equal(info.merged_into, null);
  expectError(await district1.post(`/api/v1/orgs/${s.id}/close`, { date: '2027-07-16' }), 409, 'school_closed');
  const org = expectStatus(await district1.get(`/api/v1/orgs/${s.id}`), 200).json;
  assert.equal(org.closed_on, '2027-07-15');
  assert.equal(org.school_code, code(1));
  assert.equal(expectStatus(await district1.get(`/api/v1/orgs/${cls.id}`), 200).json.closed_on, '2027-07-15',
    'its classes close with it');
  /* The closed school's code cannot be given to a new school ... */
  expectError(await district1.post('/api/v1/orgs', {
    parent_id: ids.districtA, kind: 'school', name: `新学校${tag}`, school_code: code(1), running_type: '211',
  }), 409, 'exists');
  /* ... nor taken over by another school's edit. */
  const s2 = await newSchool(district1, 2);
  expectError(await district1.patch(`/api/v1/orgs/${s2.id}`, { school_code: code(1) }), 409, 'exists');
  /* A code a school gave up (changed by an edit) stays refused to everyone else. */
  expectStatus(await district1.patch(`/api/v1/orgs/${s2.id}`, { school_code: code(3) }), 200);
  expectError(await district1.post('/api/v1/orgs', {
    parent_id: ids.districtA, kind: 'school', name: `再新学校${tag}`, school_code: code(2), running_type: '211',
  }), 409, 'exists');
  /* The school that held it may take it back. */
  expectStatus(await district1.patch(`/api/v1/orgs/${s2.id}`, { school_code: code(2) }), 200);
  const audit = expectStatus(await district1.get(`/api/v1/audit?org=${s.id}&limit=50`), 200).json.items;
  assert.ok(audit.some((e) => e.action === 'school.close' && e.object_id === s.id));
});

test('merging a school: classes, students, posts and teaching move on the date; history stays', async () => {
  const from = await newSchool(district1, 4);
  const into = await newSchool(district1, 5);
  const c1 = await newClass(district1, from.id, '13', '三年级(2)班');
  const st = [await newStudent(district1, from.id), await newStudent(district1, from.id)];
  for (const p of st) {
    expectStatus(await district1.post('/api/v1/enrolments', { person_id: p.id, class_id: c1.id, start_date: '2026-09-01' }), 201);
  }
  const t = expectStatus(await district1.post('/api/v1/people', {
    org_id: from.id, name: '合并教师', sex: 'female', birth_date: '1985-01-02', kind: 'teacher',
  }), 201).json;
  const post = expectStatus(await district1.post('/api/v1/posts', {
    person_id: t.id, school_id: from.id, title: '专任教师', subjects: '语文', start_date: '2020-09-01',
  }), 201).json;
  expectStatus(await district1.post('/api/v1/teaching', {
    post_id: post.id, class_id: c1.id, subject: '语文', is_head_teacher: true, start_date: '2026-09-01',
  }), 201);
  expectError(await district1.post(`/api/v1/orgs/${from.id}/merge`, { into_id: from.id, date: '2027-02-01' }), 400, 'invalid_field');
  expectError(await district1.post(`/api/v1/orgs/${from.id}/merge`, { into_id: ids.schoolB, date: '2027-02-01' }), 404, 'not_found');
  expectError(await clients.school1.post(`/api/v1/orgs/${ids.schoolA}/merge`, { into_id: ids.schoolA, date: '2027-02-01' }), 403, 'forbidden');

  const res = expectStatus(await district1.post(`/api/v1/orgs/${from.id}/merge`, { into_id: into.id, date: '2027-02-01' }), 200).json;
  assert.deepEqual(res.moved, { classes: 1, students: 2, posts: 1, teaching: 1 });
  assert.equal(res.closed_on, '2027-02-01');
  assert.deepEqual(res.merged_into, { id: into.id, name: into.name });
  /* The class exists again under the target, same grade code, name and year. */
  const list = expectStatus(await district1.get(`/api/v1/orgs/${into.id}/classes?year=2026`), 200).json.items;
  assert.equal(list.length, 1);
  const nc = list[0];
  assert.equal(nc.name, '三年级(2)班');
  assert.equal(nc.grade.code, '13');
  assert.equal(nc.n_students, 2);
  assert.deepEqual(nc.head_teacher, { id: t.id, name: '合并教师' });
  assert.equal(expectStatus(await district1.get(`/api/v1/orgs/${c1.id}`), 200).json.closed_on, '2027-02-01');
  /* A student's history: the old enrolment ended on the date, the new one starts on it. */
  const p = expectStatus(await district1.get(`/api/v1/people/${st[0].id}`), 200).json;
  assert.deepEqual(p.enrolments.map((e) => [e.class.id, e.start_date, e.end_date]),
    [[c1.id, '2026-09-01', '2027-02-01'], [nc.id, '2027-02-01', null]]);
  const tp = expectStatus(await district1.get(`/api/v1/people/${t.id}`), 200).json;
  assert.deepEqual(tp.posts.map((x) => [x.school.id, x.end_date]), [[from.id, '2027-02-01'], [into.id, null]]);
  /* The merged school stays readable with its merger, and cannot be merged or closed again. */
  const info = expectStatus(await district1.get(`/api/v1/orgs/${from.id}/school`), 200).json;
  assert.deepEqual(info.merged_into, { id: into.id, name: into.name });
  expectError(await district1.post(`/api/v1/orgs/${from.id}/merge`, { into_id: into.id, date: '2027-02-02' }), 409, 'school_closed');
  /* Paths never change: the old class keeps its path under the closed school. */
  const old = expectStatus(await district1.get(`/api/v1/orgs/${c1.id}`), 200).json;
  assert.ok(old.path.includes(`/${from.id}/`));
});

test('teaching points: attached to a central school, listed there, exported, detached', async () => {
  const central = await newSchool(district1, 6);
  const point = await newSchool(district1, 7, { running_type: '218', name: `测试教学点${tag}` });
  expectError(await district1.post(`/api/v1/orgs/${central.id}/teaching-points`, { school_id: central.id }), 400, 'invalid_field');
  expectError(await district1.post(`/api/v1/orgs/${central.id}/teaching-points`, { school_id: ids.schoolB }), 404, 'not_found');
  const att = expectStatus(await district1.post(`/api/v1/orgs/${central.id}/teaching-points`, { school_id: point.id }), 200).json;
  assert.deepEqual(att.central_school, { id: central.id, name: central.name });
  const list = expectStatus(await district1.get(`/api/v1/orgs/${central.id}/teaching-points`), 200).json.items;
  assert.deepEqual(list.map((o) => [o.id, o.name, o.school_code]), [[point.id, point.name, code(7)]]);
  assert.equal(expectStatus(await district1.get(`/api/v1/orgs/${central.id}/school`), 200).json.n_teaching_points, 1);
  /* A point cannot have points; the central school cannot become a point. */
  const other = await newSchool(district1, 8);
  expectError(await district1.post(`/api/v1/orgs/${point.id}/teaching-points`, { school_id: other.id }), 400, 'invalid_field');
  expectError(await district1.post(`/api/v1/orgs/${other.id}/teaching-points`, { school_id: central.id }), 400, 'invalid_field');
  const x = await district1.get(`/api/v1/orgs/${central.id}/teaching-points.xlsx`);
  expectStatus(x, 200);
  assert.match(x.headers.get('content-type'), /spreadsheetml/);
  expectStatus(await district1.del(`/api/v1/orgs/${central.id}/teaching-points/${point.id}`), 200);
  assert.deepEqual(expectStatus(await district1.get(`/api/v1/orgs/${central.id}/teaching-points`), 200).json.items, []);
  expectError(await district1.del(`/api/v1/orgs/${central.id}/teaching-points/${point.id}`), 404, 'not_found');
});

test('class size: saves warn at 56 (大班额) and 66 (超大班额); the list shows size and flag', async () => {
  const school1 = clients.school1;
  const cls = await newClass(school1, ids.schoolA, '14', `四年级(9${tag.slice(-2)})班`);
  const warnings = [];
  for (let i = 1; i <= 66; i++) {
    const p = await newStudent(school1, ids.schoolA);
    const res = expectStatus(await school1.post('/api/v1/enrolments', { person_id: p.id, class_id: cls.id, start_date: '2026-09-01' }), 201).json;
    assert.ok(Number.isInteger(res.id));
    warnings.push(res.warnings.map((w) => w.code).join(','));
    if (i === 56) {
      assert.deepEqual(res.warnings, [{ code: 'large_class', n_students: 56,
        message: { zh: '大班额：班级现有 56 名学生，超过 55 人', en: 'Large class: the class has 56 students, more than 55' } }]);
    }
    if (i === 66) {
      assert.deepEqual(res.warnings, [{ code: 'oversized_class', n_students: 66,
        message: { zh: '超大班额：班级现有 66 名学生，超过 65 人', en: 'Oversized class: the class has 66 students, more than 65' } }]);
    }
  }
  assert.deepEqual(warnings.slice(0, 55), Array(55).fill(''), 'no warning up to 55');
  assert.deepEqual(warnings.slice(55, 65), Array(10).fill('large_class'));
  /* Saving the class itself warns too. */
  const saved = expectStatus(await school1.patch(`/api/v1/orgs/${cls.id}`, { name: `${cls.name}` }), 200).json;
  assert.deepEqual(saved.warnings.map((w) => w.code), ['oversized_class']);
  const list = expectStatus(await school1.get(`/api/v1/orgs/${ids.schoolA}/classes?year=2026&grade=14`), 200).json;
  const row = list.items.find((c) => c.id === cls.id);
  assert.equal(row.n_students, 66);
  assert.equal(row.size_flag, 'oversized_class');
  for (const c of list.items) {
    assert.equal(c.grade.code, '14');
    const size = (await listAll(school1, `/api/v1/orgs/${c.id}/people?role=student`, 500)).length;
    assert.equal(c.n_students, size, `${c.name}: size`);
    assert.equal(c.size_flag, size > 65 ? 'oversized_class' : size > 55 ? 'large_class' : null);
  }
  const q = expectStatus(await school1.get(`/api/v1/orgs/${ids.schoolA}/classes?q=${encodeURIComponent(cls.name)}`), 200).json;
  assert.deepEqual(q.items.map((c) => c.id), [cls.id]);
  expectError(await school1.get(`/api/v1/orgs/${ids.schoolA}/classes?grade=99`), 400, 'invalid_field');
  expectError(await school1.get(`/api/v1/orgs/${ids.schoolA}/classes?year=26`), 400, 'invalid_field');
  const x = await school1.get(`/api/v1/orgs/${ids.schoolA}/classes.xlsx?year=2026`);
  expectStatus(x, 200);
  assert.match(x.headers.get('content-disposition'), /attachment/);
  expectError(await school1.get(`/api/v1/orgs/${ids.schoolA2}/classes`), 404, 'not_found');
});

test('class teachers and a change of head teacher (the old assignment ends)', async () => {
  const school1 = clients.school1;
  const before0 = expectStatus(await school1.get(`/api/v1/orgs/${ids.classA}/teachers`), 200).json.items;
  const head = before0.find((t) => t.is_head_teacher);
  assert.ok(head, 'the demo class has a head teacher');
  assert.equal(before0[0].is_head_teacher, true, 'the head teacher comes first');
  /* Another teacher of the school, with a current post there. */
  const teachers = await listAll(school1, `/api/v1/orgs/${ids.schoolA}/people?role=teacher`, 500);
  let post = null;
  let who = null;
  for (const t of teachers) {
    if (t.id === head.person.id) continue;
    const p = expectStatus(await school1.get(`/api/v1/people/${t.id}`), 200).json;
    const cur = p.posts.find((x) => x.end_date === null && x.school.id === ids.schoolA);
    if (cur) {
      post = cur;
      who = t;
      break;
    }
  }
  assert.ok(post, 'school A has a second teacher');
  expectError(await school1.put(`/api/v1/orgs/${ids.classA}/head-teacher`, { post_id: post.id, date: '2020-01-01' }), 400, 'invalid_field');
  expectError(await school1.put(`/api/v1/orgs/${ids.classA}/head-teacher`, { post_id: ids.postB, date: '2027-03-01' }), 404, 'not_found');
  expectError(await clients.teacher1.put(`/api/v1/orgs/${ids.classA}/head-teacher`, { post_id: post.id, date: '2027-03-01' }), 403, 'forbidden');
  const after0 = expectStatus(await school1.put(`/api/v1/orgs/${ids.classA}/head-teacher`, { post_id: post.id, date: '2027-03-01' }), 200).json.items;
  const heads = after0.filter((t) => t.is_head_teacher);
  assert.deepEqual(heads.map((t) => [t.person.id, t.start_date]), [[who.id, '2027-03-01']]);
  assert.ok(!after0.some((t) => t.id === head.id), 'the old head-teacher assignment ended');
  const list = expectStatus(await school1.get(`/api/v1/orgs/${ids.schoolA}/classes`), 200).json.items;
  assert.deepEqual(list.find((c) => c.id === ids.classA).head_teacher, { id: who.id, name: who.name });
  /* Students see their class's teachers; another school's class is missing for school1. */
  expectStatus(await clients.student1.get(`/api/v1/orgs/${ids.classA}/teachers`), 200);
  expectError(await school1.get(`/api/v1/orgs/${ids.classB}/teachers`), 404, 'not_found');
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
