// The registry over HTTP: browsing the org tree, class rosters with masked citizen IDs,
// pagination, creating orgs and people, enrolments and posts with history, PII reads and their
// audit entries, the audit log of writes, and accounts that can log in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, Client, loginAs, expectStatus, expectError, listAll, makeCitizenId, MASKED_ID_RE,
  assertErrorsWellFormed, uniq, citizenIdCheckChar,
} from './lib/server.mjs';

let srv;
let admin;
let city;
const ids = {};
const made = {};
const tag = uniq();

before(async () => {
  srv = await startServer();
  admin = await loginAs(srv.base, 'admin');
  city = admin.session.roles[0].org;
});

after(async () => {
  if (srv) await srv.stop();
});

const ORG_KEYS = ['id', 'parent_id', 'kind', 'name', 'path', 'division_code', 'grade_code', 'school_year', 'closed_on'];
const SCHOOL_KEYS = ['school_code', 'running_type', 'running_type_name', 'stages', 'urban_rural', 'address', 'lat', 'lon'];
const PERSON_KEYS = ['id', 'name', 'sex', 'birth_date', 'citizen_id', 'citizen_id_masked', 'student_no', 'staff_no', 'phone', 'org', 'kind'];

function assertOrg(o, parent) {
  for (const k of ORG_KEYS) assert.ok(k in o, `org ${o.id} lacks ${k}`);
  assert.ok(['city', 'district', 'school', 'grade', 'class'].includes(o.kind), `kind ${o.kind}`);
  assert.equal(typeof o.name, 'string');
  assert.ok(o.name.length > 0);
  if (parent) {
    assert.equal(o.parent_id, parent.id, `${o.id}: parent_id`);
    assert.equal(o.path, `${parent.path}${o.id}/`, `${o.id}: path is the parent's path plus the id`);
  }
  if (o.kind === 'school') {
    for (const k of SCHOOL_KEYS) assert.ok(k in o, `school ${o.id} lacks ${k}`);
    assert.match(o.school_code, /^\d{10}$/);
    assert.match(o.running_type, /^\d{3}$/);
    assert.equal(typeof o.running_type_name, 'string');
    assert.ok(Array.isArray(o.stages) && o.stages.length > 0, 'school stages');
  }
  if (o.kind === 'grade') assert.match(o.grade_code, /^\d{2}$/);
  if (o.kind === 'class') assert.ok(Number.isInteger(o.school_year) && o.school_year >= 2000);
}

/**
 * Fails when an answer holds 18 characters that form a valid citizen ID number anywhere (in
 * any field, e.g. a student number "G" + ID), naming the fields, without dumping the body.
 */
function assertNoFullIds(doc, where) {
  const leaks = [];
  (function walk(v, at) {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
    else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => walk(x, `${at}.${k}`));
    else if (typeof v === 'string') {
      for (const m of v.matchAll(/\d{17}[\dX]/g)) {
        if (citizenIdCheckChar(m[0].slice(0, 17)) === m[0][17]) leaks.push(`${at}=${v}`);
      }
    }
  })(doc, '');
  assert.deepEqual(leaks.slice(0, 5), [], `${where}: ${leaks.length} full citizen ID number(s) in the answer`);
}

function assertPersonBase(p) {
  for (const k of PERSON_KEYS) assert.ok(k in p, `person ${p.id} lacks ${k}`);
  assert.ok(['male', 'female'].includes(p.sex), `sex ${p.sex}`);
  assert.match(p.birth_date, /^\d{4}-\d{2}-\d{2}$/);
  if (p.citizen_id !== null) {
    assert.equal(p.citizen_id_masked, true, `person ${p.id}: citizen_id_masked`);
    assert.match(p.citizen_id, MASKED_ID_RE, `person ${p.id}: masked citizen ID ${p.citizen_id}`);
  }
}

test('browse city → districts → schools → grades → classes', async () => {
  const root = expectStatus(await admin.get(`/api/v1/orgs/${city.id}`), 200).json;
  assertOrg(root);
  assert.equal(root.kind, 'city');
  assert.equal(root.parent_id, null);
  assert.equal(root.path, `/${root.id}/`);
  assert.match(root.division_code, /^\d{4}00$/, 'a prefecture city code ends in 00');

  const districts = await listAll(admin, `/api/v1/orgs/${root.id}/children`);
  assert.equal(districts.length, 2, 'the small demo city has 2 districts');
  for (const d of districts) {
    assertOrg(d, root);
    assert.equal(d.kind, 'district');
  }
  let schools = 0;
  let classes = 0;
  for (const d of districts) {
    const ss = await listAll(admin, `/api/v1/orgs/${d.id}/children`);
    assert.ok(ss.length > 0, `district ${d.id} has no schools`);
    for (const s of ss) {
      assertOrg(s, d);
      assert.equal(s.kind, 'school');
      assert.equal(s.division_code.slice(0, 4), root.division_code.slice(0, 4), 'school in the city\'s prefecture');
    }
    schools += ss.length;
    const s = ss[0];
    const grades = await listAll(admin, `/api/v1/orgs/${s.id}/children`);
    assert.ok(grades.length > 0, `school ${s.id} has no grades`);
    for (const g of grades) {
      assertOrg(g, s);
      assert.equal(g.kind, 'grade');
      const cs = await listAll(admin, `/api/v1/orgs/${g.id}/children`);
      for (const c of cs) {
        assertOrg(c, g);
        assert.equal(c.kind, 'class');
        const leaf = expectStatus(await admin.get(`/api/v1/orgs/${c.id}/children`), 200).json;
        assert.deepEqual(leaf, { items: [], next: null }, 'a class has no children');
      }
      classes += cs.length;
      if (!ids.grade && cs.length) {
        ids.school = s.id;
        ids.grade = g.id;
        ids.class = cs[0].id;
      }
    }
  }
  assert.ok(schools >= 8 && schools <= 12, `about 10 schools expected, found ${schools}`);
  assert.ok(classes > 0);
  /* A single org GET answers what the list said. */
  const one = expectStatus(await admin.get(`/api/v1/orgs/${districts[0].id}`), 200).json;
  assert.deepEqual(one, districts[0]);
});

test('a class roster (role=student) is the whole class with masked citizen IDs', async () => {
  const student1 = await loginAs(srv.base, 'student1');
  const s1 = expectStatus(await admin.get(`/api/v1/people/${student1.session.user.person_id}`), 200).json;
  const classId = s1.enrolments.find((e) => e.end_date === null).class.id;
  ids.class1 = classId;
  const res = expectStatus(await admin.get(`/api/v1/orgs/${classId}/people?role=student`), 200);
  assert.equal(res.json.next, null, 'a class fits on one default page');
  const roster = res.json.items;
  assert.ok(roster.length >= 20 && roster.length <= 60, `a whole class expected, got ${roster.length}`);
  assert.ok(roster.some((p) => p.id === s1.id), 'student1 is in the roster');
  const seen = new Set();
  let withId = 0;
  for (const p of roster) {
    assertPersonBase(p);
    assert.equal(p.kind, 'student');
    assert.ok(!seen.has(p.id), `person ${p.id} twice in the roster`);
    seen.add(p.id);
    assert.ok(!('enrolments' in p), 'lists carry the base fields only');
    if (p.citizen_id !== null) withId++;
  }
  assert.ok(withId >= roster.length * 0.8, 'most students have a (masked) citizen ID');
  /* Unmasked digits never leak through a list, even to the city administrator. */
  assertNoFullIds(res.json, 'class roster');
  /* The grade and the school list the same students among theirs. */
  const grade = expectStatus(await admin.get(`/api/v1/orgs/${classId}`), 200).json.parent_id;
  const gradeRoster = await listAll(admin, `/api/v1/orgs/${grade}/people?role=student`, 500);
  for (const p of roster) assert.ok(gradeRoster.some((q) => q.id === p.id), `student ${p.id} missing from the grade`);
  /* Teachers of the class are not students. */
  const teachers = await listAll(admin, `/api/v1/orgs/${classId}/people?role=teacher`);
  assert.ok(teachers.length >= 1, 'a class has at least its head teacher');
  for (const t of teachers) {
    assert.ok(!seen.has(t.id), 'a teacher listed as a student');
    assert.equal(t.kind, 'teacher');
  }
});

test('pagination: limit and next walk a list without gaps or repeats', async () => {
  const school = expectStatus(await admin.get(`/api/v1/orgs/${ids.class1}`), 200).json.path.split('/')[3];
  const full = await listAll(admin, `/api/v1/orgs/${school}/people?role=student`, 500);
  assert.ok(full.length > 100, `a school has more than 100 students, got ${full.length}`);
  const first = expectStatus(await admin.get(`/api/v1/orgs/${school}/people?role=student&limit=7`), 200).json;
  assert.equal(first.items.length, 7);
  assert.equal(typeof first.next, 'string', 'next is an opaque string cursor');
  assert.deepEqual(first.items, full.slice(0, 7));
  const paged = await listAll(admin, `/api/v1/orgs/${school}/people?role=student`, 37);
  assert.equal(paged.length, full.length);
  assert.deepEqual(paged.map((p) => p.id), full.map((p) => p.id));
  assert.equal(new Set(paged.map((p) => p.id)).size, paged.length, 'repeats across pages');
  /* The default page is 100 items. */
  const dflt = expectStatus(await admin.get(`/api/v1/orgs/${school}/people?role=student`), 200).json;
  assert.equal(dflt.items.length, 100);
  assert.notEqual(dflt.next, null);
  /* The last page has next null; a cursor past the end gives an empty last page. */
  const lastId = full[full.length - 1].id;
  const past = expectStatus(await admin.get(`/api/v1/orgs/${school}/people?role=student&after=${lastId}`), 200).json;
  assert.deepEqual(past, { items: [], next: null });
  /* Children lists page the same way. */
  const d = await listAll(admin, `/api/v1/orgs/${city.id}/children`, 1);
  assert.equal(d.length, 2);
});

test('create a district, school, grade and class as the city administrator', async () => {
  const dist = expectStatus(await admin.post('/api/v1/orgs', {
    parent_id: city.id, kind: 'district', name: `测试区${tag}`, division_code: '376031',
  }), 201, 'district').json;
  assertOrg(dist, city);
  assert.equal(dist.division_code, '376031');
  const school = expectStatus(await admin.post('/api/v1/orgs', {
    parent_id: dist.id, kind: 'school', name: `测试区第一初级中学${tag}`, division_code: '376031',
    school_code: '3137319001', running_type: '311', urban_rural: '121', address: '测试区文化路 1 号',
    lat: 36.5, lon: 118.8,
  }), 201, 'school').json;
  assertOrg(school, dist);
  assert.equal(school.running_type_name, '初级中学');
  assert.deepEqual(school.stages, ['junior'], 'stages follow the running type');
  assert.equal(school.lat, 36.5);
  const grade = expectStatus(await admin.post('/api/v1/orgs', {
    parent_id: school.id, kind: 'grade', name: '七年级', grade_code: '21',
  }), 201, 'grade').json;
  assertOrg(grade, school);
  const cls = expectStatus(await admin.post('/api/v1/orgs', {
    parent_id: grade.id, kind: 'class', name: '七年级(1)班', school_year: 2026,
  }), 201, 'class').json;
  assertOrg(cls, grade);
  assert.equal(cls.school_year, 2026);
  Object.assign(made, { district: dist, school, grade, cls });

  const kids = await listAll(admin, `/api/v1/orgs/${city.id}/children`);
  assert.ok(kids.some((k) => k.id === dist.id), 'the new district is listed under the city');
  expectStatus(await admin.get(`/api/v1/orgs/${cls.id}`), 200);
  /* The same school code twice is a conflict. */
  expectError(await admin.post('/api/v1/orgs', {
    parent_id: dist.id, kind: 'school', name: '重复学校', school_code: '3137319001', running_type: '311',
  }), 409, 'exists', 'duplicate school code');
  /* A change of name is kept and shown. */
  const renamed = expectStatus(await admin.patch(`/api/v1/orgs/${school.id}`, { name: `测试区实验中学${tag}` }), 200).json;
  assert.equal(renamed.name, `测试区实验中学${tag}`);
  assert.equal(renamed.school_code, '3137319001', 'a PATCH keeps what it does not name');
  assert.equal(renamed.lat, 36.5);
  made.schoolOldName = school.name;
  made.schoolNewName = renamed.name;
});

test('a person with a valid citizen ID is enrolled; ending the enrolment keeps the history', async () => {
  const cid = makeCitizenId('376031', '2013-03-15', '123');
  const created = expectStatus(await admin.post('/api/v1/people', {
    org_id: made.school.id, name: '王测试', sex: 'male', birth_date: '2013-03-15', citizen_id: cid,
    student_no: `G${cid}`,
  }), 201, 'person').json;
  assertPersonBase(created);
  assert.equal(created.citizen_id, `${cid.slice(0, 6)}********${cid.slice(14)}`, 'masked in the answer');
  assert.equal(created.org.id, made.school.id);
  made.student = created;
  made.cid = cid;
  /* A lower-case x check character is accepted (and stored upper case). */
  let first17 = null;
  for (let seq = 100; seq < 999 && !first17; seq++) {
    const id = makeCitizenId('376031', '2012-07-01', String(seq));
    if (id.endsWith('X')) first17 = id.slice(0, 17);
  }
  const sister = expectStatus(await admin.post('/api/v1/people', {
    org_id: made.school.id, name: '王测试二', sex: Number(first17[16]) % 2 ? 'male' : 'female',
    birth_date: '2012-07-01', citizen_id: `${first17}x`,
  }), 201, 'lower-case x').json;
  assert.ok(sister.citizen_id.endsWith('X'), `stored upper case: ${sister.citizen_id}`);

  const problems = [];
  const enr = expectStatus(await admin.post('/api/v1/enrolments', {
    person_id: created.id, class_id: made.cls.id, start_date: '2026-09-01',
  }), 201, 'enrol').json;
  {
    /* The answer must carry the new row's id; if it does not, go on with the real one. */
    const real = expectStatus(await admin.get(`/api/v1/people/${created.id}`), 200).json.enrolments[0].id;
    if (enr.id !== real) problems.push(`POST /api/v1/enrolments answered id ${enr.id}, the row's id is ${real}`);
    enr.id = real;
  }
  let roster = await listAll(admin, `/api/v1/orgs/${made.cls.id}/people?role=student`);
  assert.deepEqual(roster.map((p) => p.id), [created.id]);
  /* Enrolled twice at once is refused. */
  expectError(await admin.post('/api/v1/enrolments', {
    person_id: created.id, class_id: made.cls.id, start_date: '2026-10-01',
  }), 409, ['conflict', 'exists'], 'second open enrolment');
  /* Ending before it starts is refused (400 or 409: the contract does not say which). */
  expectError(await admin.post(`/api/v1/enrolments/${enr.id}/end`, { end_date: '2026-08-01' }), [400, 409], undefined, 'end before start');

  const ended = expectStatus(await admin.post(`/api/v1/enrolments/${enr.id}/end`, { end_date: '2027-01-15' }), 200).json;
  assert.equal(ended.end_date, '2027-01-15');
  expectError(await admin.post(`/api/v1/enrolments/${enr.id}/end`, { end_date: '2027-01-16' }), 409, 'conflict', 'ended twice');
  roster = await listAll(admin, `/api/v1/orgs/${made.cls.id}/people?role=student`);
  assert.deepEqual(roster, [], 'an ended enrolment leaves the current roster');

  const p = expectStatus(await admin.get(`/api/v1/people/${created.id}`), 200).json;
  assert.equal(p.enrolments.length, 1, 'history is kept');
  assert.deepEqual(p.enrolments[0], {
    id: enr.id, class: { id: made.cls.id, name: made.cls.name }, start_date: '2026-09-01', end_date: '2027-01-15',
  });
  /* A new enrolment (a transfer back) opens a second row; the old one stays. */
  expectStatus(await admin.post('/api/v1/enrolments', {
    person_id: created.id, class_id: made.cls.id, start_date: '2027-02-20',
  }), 201);
  const p2 = expectStatus(await admin.get(`/api/v1/people/${created.id}`), 200).json;
  assert.equal(p2.enrolments.length, 2);
  assert.ok(p2.enrolments.some((e) => e.id === enr.id && e.end_date === '2027-01-15'));
  assert.ok(p2.enrolments.some((e) => e.id !== enr.id && e.start_date === '2027-02-20' && e.end_date === null));
  assert.deepEqual(problems, []);
});

test('posts and teaching: a teacher is posted, teaches a class, and the post ends with history', async () => {
  const teacher = expectStatus(await admin.post('/api/v1/people', {
    org_id: made.school.id, name: '李老师', sex: 'female', birth_date: '1990-04-02', staff_no: `T${tag}`,
    phone: '13800000000',
  }), 201, 'teacher person').json;
  made.teacher = teacher;
  const problems = [];
  const post = expectStatus(await admin.post('/api/v1/posts', {
    person_id: teacher.id, school_id: made.school.id, title: '专任教师', subjects: '数学', start_date: '2026-08-25',
  }), 201, 'post').json;
  {
    const real = expectStatus(await admin.get(`/api/v1/people/${teacher.id}`), 200).json.posts[0].id;
    if (post.id !== real) problems.push(`POST /api/v1/posts answered id ${post.id}, the row's id is ${real}`);
    post.id = real;
  }
  const teaching = expectStatus(await admin.post('/api/v1/teaching', {
    post_id: post.id, class_id: made.cls.id, subject: '数学', is_head_teacher: true, start_date: '2026-09-01',
  }), 201, 'teaching').json;
  if (!(Number.isInteger(teaching.id) && teaching.id > 0)) problems.push(`POST /api/v1/teaching answered id ${teaching.id}`);
  const staff = await listAll(admin, `/api/v1/orgs/${made.school.id}/people?role=teacher`);
  assert.deepEqual(staff.map((x) => x.id), [teacher.id]);
  const inClass = await listAll(admin, `/api/v1/orgs/${made.cls.id}/people?role=teacher`);
  assert.deepEqual(inClass.map((x) => x.id), [teacher.id]);
  /* A post at an org that is not a school is refused. */
  expectError(await admin.post('/api/v1/posts', {
    person_id: teacher.id, school_id: made.cls.id, title: '专任教师', start_date: '2026-08-25',
  }), [400, 404, 409], undefined, 'post at a class');

  expectStatus(await admin.post(`/api/v1/posts/${post.id}/end`, { end_date: '2027-07-10' }), 200);
  const p = expectStatus(await admin.get(`/api/v1/people/${teacher.id}`), 200).json;
  assert.equal(p.posts.length, 1);
  assert.equal(p.posts[0].id, post.id);
  assert.equal(p.posts[0].school.id, made.school.id);
  assert.equal(p.posts[0].title, '专任教师');
  assert.equal(p.posts[0].start_date, '2026-08-25');
  assert.equal(p.posts[0].end_date, '2027-07-10');

  /* A guardian link. */
  const parent = expectStatus(await admin.post('/api/v1/people', {
    org_id: made.school.id, name: '王家长', sex: 'male', birth_date: '1985-01-01',
  }), 201).json;
  const link = expectStatus(await admin.post('/api/v1/guardians', {
    parent_id: parent.id, student_id: made.student.id, relation: '父亲', start_date: '2026-09-01',
  }), 201, 'guardian').json;
  if (!(Number.isInteger(link.id) && link.id > 0)) problems.push(`POST /api/v1/guardians answered id ${link.id}`);
  expectError(await admin.post('/api/v1/guardians', {
    parent_id: made.student.id, student_id: made.student.id, relation: '父亲', start_date: '2026-09-01',
  }), 400, 'invalid_field', 'own guardian');
  /* The student's enrolment was ended and reopened above, so the parent is of a current student. */
  const parents = await listAll(admin, `/api/v1/orgs/${made.cls.id}/people?role=parent`);
  assert.deepEqual(parents.map((x) => x.id), [parent.id], 'the parent of a current student is listed');
  made.parent = parent;
  /* Last, as it depends on how teaching duties follow their post. */
  const after1 = await listAll(admin, `/api/v1/orgs/${made.school.id}/people?role=teacher`);
  if (after1.some((x) => x.id === teacher.id)) {
    problems.push('an ended post leaves the current staff list (its teaching duties end with it): ' +
      `teacher ${teacher.id} is still listed by GET /api/v1/orgs/${made.school.id}/people?role=teacher`);
  }
  assert.deepEqual(problems, []);
});

async function auditEntries() {
  return listAll(admin, `/api/v1/audit?org=${city.id}`, 500);
}

test('PII: the city administrator reads the full ID with ?pii=1 and the read is audited; others stay masked', async () => {
  const id = made.student.id;
  const masked = expectStatus(await admin.get(`/api/v1/people/${id}`), 200).json;
  assert.equal(masked.citizen_id_masked, true);
  assert.match(masked.citizen_id, MASKED_ID_RE);
  const readsBefore = (await auditEntries()).filter((e) => e.action === 'person.read_pii' && e.object_id === id).length;
  assert.equal(readsBefore, 0, 'a masked read is not a PII read');

  const full = expectStatus(await admin.get(`/api/v1/people/${id}?pii=1`), 200).json;
  assert.equal(full.citizen_id, made.cid);
  assert.equal(full.citizen_id_masked, false);
  const reads = (await auditEntries()).filter((e) => e.action === 'person.read_pii' && e.object_id === id);
  assert.equal(reads.length, 1, 'exactly one person.read_pii entry for one read');
  assert.equal(reads[0].login, 'admin');
  assert.equal(reads[0].client_addr, '127.0.0.1');
  assert.match(reads[0].at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.doesNotMatch(JSON.stringify(reads[0]), new RegExp(made.cid), 'the audit log must not copy the ID itself');

  /* ?pii=1 from roles without PII access still answers masked, and is not logged as a PII read. */
  const analyst = await loginAs(srv.base, 'analyst1');
  const a = expectStatus(await analyst.get(`/api/v1/people/${id}?pii=1`), 200).json;
  assert.equal(a.citizen_id_masked, true, 'analyst got an unmasked ID');
  assert.match(a.citizen_id, MASKED_ID_RE);
  const teacher = await loginAs(srv.base, 'teacher1');
  const student1 = await loginAs(srv.base, 'student1');
  const sid = student1.session.user.person_id;
  const t = expectStatus(await teacher.get(`/api/v1/people/${sid}?pii=1`), 200).json;
  assert.equal(t.citizen_id_masked, true, 'teacher got an unmasked ID');
  assert.match(t.citizen_id, MASKED_ID_RE);
  const self = expectStatus(await student1.get(`/api/v1/people/${sid}?pii=1`), 200).json;
  assert.match(self.citizen_id ?? '', MASKED_ID_RE, 'a student sees their own ID masked too');
  const after2 = (await auditEntries()).filter((e) => e.action === 'person.read_pii');
  assert.equal(after2.length, 1, 'masked answers must not be logged as PII reads');
  /* Lists never unmask, even with pii=1. */
  const roster = expectStatus(await admin.get(`/api/v1/orgs/${ids.class1}/people?role=student&pii=1`), 200).json;
  assertNoFullIds(roster, 'roster with pii=1');
  /* A masked person answer holds no full ID in any other field either. */
  assertNoFullIds(t, 'teacher reads a student with pii=1');
  assertNoFullIds(a, 'analyst reads a person with pii=1');
});

test('the audit log shows writes with who, what, before and after', async () => {
  const entries = await auditEntries();
  for (const e of entries) {
    for (const k of ['id', 'at', 'login', 'client_addr', 'action', 'object_type', 'object_id', 'before', 'after']) {
      assert.ok(k in e, `audit entry ${e.id} lacks ${k}`);
    }
  }
  const ids2 = entries.map((e) => e.id);
  assert.deepEqual(ids2, [...ids2].sort((x, y) => y - x), 'newest first');
  const about = (type, id) => entries.filter((e) => e.object_type === type && e.object_id === id);

  const upd = about('org', made.school.id).filter((e) => e.before && e.after);
  assert.equal(upd.length, 1, `one update of the school with before and after: ${JSON.stringify(about('org', made.school.id))}`);
  assert.equal(upd[0].before.name, made.schoolOldName);
  assert.equal(upd[0].after.name, made.schoolNewName);
  assert.equal(upd[0].login, 'admin');
  const createdOrg = about('org', made.district.id).find((e) => e.before === null && e.after);
  assert.ok(createdOrg, 'the district creation is audited with its after state');
  assert.equal(createdOrg.after.name, made.district.name);
  const createdPerson = about('person', made.student.id).find((e) => e.before === null && e.after);
  assert.ok(createdPerson, 'the person creation is audited');
  assert.doesNotMatch(JSON.stringify(createdPerson), new RegExp(made.cid), 'the audit log must not hold the plain citizen ID');
  assert.ok(entries.some((e) => e.object_type === 'enrolment' && e.before && e.after && e.after.end_date === '2027-01-15'),
    'ending an enrolment is audited with before and after');
  assert.ok(entries.some((e) => /post/.test(e.object_type) && e.after), 'posts are audited');
  assert.ok(entries.some((e) => /guardian/.test(e.object_type) && e.after), 'guardian links are audited');

  /* A district administrator sees the audit log of their district only. */
  const d1 = await loginAs(srv.base, 'district1');
  const dOrg = d1.session.roles[0].org.id;
  const dEntries = await listAll(d1, `/api/v1/audit?org=${dOrg}`, 500);
  assert.ok(!dEntries.some((e) => e.object_type === 'org' && e.object_id === made.district.id),
    'a district admin sees audit entries of another district');
  expectError(await d1.get(`/api/v1/audit?org=${city.id}`), 404, 'not_found', 'district admin reads the city audit');
});

test('accounts: create one with a role; it logs in with that role and is listed', async () => {
  const login = `e2e.teacher.${tag}`;
  const pw = 'E2e-teacher-2026';
  const acc = expectStatus(await admin.post('/api/v1/accounts', {
    login, password: pw, display_name: '李老师', person_id: made.teacher.id,
    roles: [{ role: 'teacher', org_id: made.school.id }, { role: 'head_teacher', org_id: made.cls.id }],
  }), 201, 'create account').json;
  assert.equal(acc.login, login);
  assert.equal(acc.person_id, made.teacher.id);
  assert.equal(acc.must_change_password, true, 'a new account must change its password');
  assert.ok(!('password' in acc) && !('password_hash' in acc), 'no password in the answer');

  const c = new Client(srv.base);
  const s = await c.mustLogin(login, pw);
  assert.equal(s.user.must_change_password, true);
  assert.deepEqual(s.roles.map((r) => [r.role, r.org.id]).sort(), [['head_teacher', made.cls.id], ['teacher', made.school.id]].sort());
  /* The new teacher sees their school and not the rest of the city. */
  expectStatus(await c.get(`/api/v1/orgs/${made.cls.id}`), 200);
  expectError(await c.get(`/api/v1/orgs/${ids.class1}`), 404, 'not_found');

  const list = await listAll(admin, '/api/v1/accounts', 500);
  assert.ok(list.some((a) => a.login === login), 'the new account is listed');
  for (const a of list) assert.ok(!('password_hash' in a), 'no hashes in lists');

  expectError(await admin.post('/api/v1/accounts', {
    login, password: pw, display_name: 'x', roles: [{ role: 'teacher', org_id: made.school.id }],
  }), 409, 'exists', 'duplicate login');
  expectError(await admin.post('/api/v1/accounts', {
    login: `e2e.bad.${tag}`, password: pw, display_name: 'x', roles: [{ role: 'emperor', org_id: made.school.id }],
  }), 400, 'invalid_field', 'unknown role');
  expectError(await admin.post('/api/v1/accounts', {
    login: `e2e.bad.${tag}`, password: pw, display_name: 'x', roles: [],
  }), 400, 'invalid_field', 'no roles');
  expectError(await admin.post('/api/v1/accounts', {
    login: `e2e.weak.${tag}`, password: 'short', display_name: 'x', roles: [{ role: 'teacher', org_id: made.school.id }],
  }), 400, undefined, 'weak password');
  expectError(await new Client(srv.base).login(`e2e.weak.${tag}`, 'short'), 401, undefined, 'refused account does not exist');
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
