// The dashboard's counts by stage (counts.by_stage): on the small demo city, every district's and
// the city's split equals a count done here from the rows themselves (sqlite3 on the file, psql on
// PostgreSQL) with the rule of docs/API.md, and adds up to the totals; on a district built here
// through the API, the exact numbers of its schools (a primary school, a 九年一贯制 school whose
// teachers count by the classes they teach, a special-education school whose 一年级 is special),
// with ended enrolments and posts left out; a school's split follows a new enrolment at once.
// Both backends (EDUBRAIN_PG).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import {
  startServer, expectStatus, expectError, listAll, assertErrorsWellFormed, PG_BASE, uniq,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

const STAGES = ['preschool', 'primary', 'junior', 'senior', 'vocational', 'special', 'lifelong'];
const PSQL = process.env.EDUBRAIN_PSQL || (fs.existsSync('/usr/lib/postgresql/15/bin/psql')
  ? '/usr/lib/postgresql/15/bin/psql' : 'psql');

let srv;
let clients;
let ids;
let admin;
const tag = uniq();
/* Ten-digit school codes unique to this run, apart from the demo's. */
const codeBase = 3137800000 + (Number.parseInt(tag.slice(-4), 36) % 9000) * 10;

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
  admin = clients.admin;
});

after(async () => {
  if (srv) await srv.stop();
});

/** Rows of a read-only query on the server's database, as arrays of strings. */
function sql(query) {
  const [file, args] = PG_BASE
    ? [PSQL, ['-X', '-q', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-d', srv.db, '-c', query]]
    : ['sqlite3', ['-readonly', '-batch', '-separator', '|', srv.db, query]];
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 256 << 20, timeout: 60000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout.split('\n').filter((l) => l !== '').map((l) => l.split('|')));
    });
  });
}

/* ---- the rule, written again from its description ------------------------------------- */

const lowest = (stages) => {
  for (let i = 0; i < STAGES.length; i++) if (stages & (1 << i)) return i;
  return -1;
};
const gradeStage = (code) => ({ 0: 0, 1: 1, 2: 2, 3: 3, 4: 4 })[String(code || '')[0]] ?? -1;

/* A student: the grade's stage when the school teaches it, else the school's lowest stage. */
function studentStage(gradeCode, schoolStages) {
  const g = gradeStage(gradeCode);
  if (g >= 0 && (schoolStages & (1 << g))) return g;
  if (schoolStages) return lowest(schoolStages);
  return g;
}

/* A post: the school's only stage; in a school of several, the lowest stage of the grades taught
 * under the post that the school teaches, else the school's lowest. */
function postStage(schoolStages, taughtGrades) {
  const single = schoolStages && !(schoolStages & (schoolStages - 1));
  if (!single && schoolStages) {
    const taught = taughtGrades.map(gradeStage).filter((g) => g >= 0 && (schoolStages & (1 << g)));
    if (taught.length) return Math.min(...taught);
  }
  return lowest(schoolStages);
}

function emptySplit() {
  const o = {};
  for (const s of STAGES) o[s] = { students: 0, teachers: 0 };
  return o;
}

/** The expected by_stage of every node on the paths of the rows: path prefix -> split. */
async function expectedByStage() {
  const students = await sql(`SELECT e.class_path, COALESCE(c.grade_code, g.grade_code), s.stages
    FROM enrolments e JOIN orgs c ON c.id = e.class_id JOIN orgs g ON g.id = c.parent_id
    JOIN orgs s ON s.id = g.parent_id WHERE e.end_date IS NULL`);
  const posts = await sql(`SELECT p.id, p.person_id, p.school_path, s.stages FROM posts p
    JOIN orgs s ON s.id = p.school_id WHERE p.end_date IS NULL`);
  const teaching = await sql(`SELECT t.post_id, COALESCE(c.grade_code, g.grade_code) FROM teaching t
    JOIN orgs c ON c.id = t.class_id JOIN orgs g ON g.id = c.parent_id WHERE t.end_date IS NULL`);
  const taught = new Map();
  for (const [post, grade] of teaching) {
    if (!taught.has(post)) taught.set(post, []);
    taught.get(post).push(grade);
  }
  const byPath = new Map();
  const at = (p) => {
    if (!byPath.has(p)) byPath.set(p, emptySplit());
    return byPath.get(p);
  };
  const prefixes = (p) => {
    const parts = p.split('/').filter(Boolean);
    return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}/`);
  };
  for (const [path, grade, stages] of students) {
    const st = studentStage(grade, Number(stages));
    assert.ok(st >= 0, `a student of ${path} has no stage`);
    for (const p of prefixes(path)) at(p)[STAGES[st]].students++;
  }
  /* A teacher counts once per node, under the lowest stage of their posts below it. */
  const perTeacher = new Map(); /* prefix -> person -> stage */
  for (const [post, person, path, stages] of posts) {
    const st = postStage(Number(stages), taught.get(post) || []);
    assert.ok(st >= 0, `a teacher of ${path} has no stage`);
    for (const p of prefixes(path)) {
      if (!perTeacher.has(p)) perTeacher.set(p, new Map());
      const m = perTeacher.get(p);
      m.set(person, Math.min(m.get(person) ?? 99, st));
    }
  }
  for (const [p, m] of perTeacher) for (const st of m.values()) at(p)[STAGES[st]].teachers++;
  return { byPath, nStudents: students.length };
}

function sums(byStage) {
  let students = 0;
  let teachers = 0;
  for (const v of Object.values(byStage)) {
    students += v.students;
    teachers += v.teachers;
  }
  return { students, teachers };
}

test('the demo city: by_stage of the city and every district equals a count from the rows', async () => {
  const { byPath, nStudents } = await expectedByStage();
  assert.ok(nStudents > 100, `the small demo has students (${nStudents})`);
  const city = expectStatus(await admin.get(`/api/v1/orgs/${ids.city}`), 200).json;
  const districts = (await listAll(admin, `/api/v1/orgs/${ids.city}/children`, 500)).filter((o) => o.kind === 'district');
  let n = 0;
  for (const node of [city, ...districts]) {
    const dash = expectStatus(await admin.get(`/api/v1/dashboard?org=${node.id}`), 200).json;
    const bs = dash.counts.by_stage;
    assert.deepEqual(Object.keys(bs), STAGES, `${node.name}: one entry per stage, in order (no unknown)`);
    assert.deepEqual(bs, byPath.get(node.path) || emptySplit(), `${node.name}: by_stage`);
    assert.deepEqual(sums(bs), { students: dash.counts.students, teachers: dash.counts.teachers },
      `${node.name}: the split adds up to the totals`);
    n++;
  }
  assert.ok(n >= 3);
  /* The demo has more than one stage: the split is not a copy of the total. */
  const cityBs = byPath.get(city.path);
  assert.ok(STAGES.filter((s) => cityBs[s].students > 0).length >= 3, JSON.stringify(cityBs));
  /* A school of district1 as district1 sees it: the same rule below the district. */
  const school = expectStatus(await clients.district1.get(`/api/v1/dashboard?org=${ids.schoolA}`), 200).json;
  const schoolPath = expectStatus(await admin.get(`/api/v1/orgs/${ids.schoolA}`), 200).json.path;
  assert.deepEqual(school.counts.by_stage, byPath.get(schoolPath));
  /* Students and parents see no counts of people (as /orgs/{id}/stats). */
  expectError(await clients.student1.get(`/api/v1/dashboard?org=${ids.schoolA}`), 404, 'not_found');
  expectError(await clients.parent1.get(`/api/v1/dashboard?org=${ids.schoolA}`), 404, 'not_found');
});

/* ---- a district built here ------------------------------------------------------------ */

let nPeople = 0;
async function person(org, kind) {
  nPeople++;
  return expectStatus(await admin.post('/api/v1/people', {
    org_id: org, name: `${kind === 'student' ? '学生' : '教师'}${nPeople}`, sex: nPeople % 2 ? 'male' : 'female',
    birth_date: kind === 'student' ? '2016-05-06' : '1985-03-04', kind,
  }), 201, `${kind} ${nPeople}`).json;
}
async function school(district, i, runningType) {
  const s = expectStatus(await admin.post('/api/v1/orgs', {
    parent_id: district, kind: 'school', name: `学段测试学校${tag}-${i}`, school_code: String(codeBase + i),
    running_type: runningType,
  }), 201, `school ${i}`).json;
  return s;
}
async function klass(schoolId, gradeCode) {
  const grade = expectStatus(await admin.post('/api/v1/orgs', {
    parent_id: schoolId, kind: 'grade', name: `年级${gradeCode}`, grade_code: gradeCode,
  }), 201).json;
  return expectStatus(await admin.post('/api/v1/orgs', {
    parent_id: grade.id, kind: 'class', name: `${gradeCode}(1)班`, school_year: 2026,
  }), 201).json;
}
async function students(schoolId, cls, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const p = await person(schoolId, 'student');
    out.push(expectStatus(await admin.post('/api/v1/enrolments', {
      person_id: p.id, class_id: cls.id, start_date: '2026-09-01',
    }), 201).json);
  }
  return out;
}
async function teacher(schoolId, taughtClasses = []) {
  const p = await person(schoolId, 'teacher');
  const post = expectStatus(await admin.post('/api/v1/posts', {
    person_id: p.id, school_id: schoolId, title: '专任教师', start_date: '2026-09-01',
  }), 201).json;
  for (const cls of taughtClasses) {
    expectStatus(await admin.post('/api/v1/teaching', {
      post_id: post.id, class_id: cls.id, subject: '语文', start_date: '2026-09-01',
    }), 201);
  }
  return { person: p, post };
}

test('a district built through the API: the exact split of its schools', async () => {
  const district = expectStatus(await admin.post('/api/v1/orgs', {
    parent_id: ids.city, kind: 'district', name: `学段测试区${tag}`, division_code: '376078',
  }), 201).json;
  /* A primary school: 3 students, 1 teacher; one more student and teacher who left. */
  const pri = await school(district.id, 1, '211');
  assert.deepEqual(pri.stages, ['primary']);
  const priClass = await klass(pri.id, '13');
  const priEnrol = await students(pri.id, priClass, 4);
  expectStatus(await admin.post(`/api/v1/enrolments/${priEnrol[3].id}/end`, { end_date: '2026-10-01' }), 200);
  await teacher(pri.id, [priClass]);
  const gone = await teacher(pri.id);
  expectStatus(await admin.post(`/api/v1/posts/${gone.post.id}/end`, { end_date: '2026-10-01' }), 200);

  /* A 九年一贯制 school: 2 primary and 4 junior students; a teacher of the junior class (junior),
   * one without classes (the school's lowest stage: primary), one teaching both (primary). */
  const nine = await school(district.id, 2, '312');
  assert.deepEqual(nine.stages, ['primary', 'junior']);
  const c11 = await klass(nine.id, '11');
  const c21 = await klass(nine.id, '21');
  await students(nine.id, c11, 2);
  await students(nine.id, c21, 4);
  await teacher(nine.id, [c21]);
  await teacher(nine.id);
  const both = await teacher(nine.id, [c21, c11]);
  /* The teacher of both also holds a post at the primary school: still one teacher. */
  expectStatus(await admin.post('/api/v1/posts', {
    person_id: both.person.id, school_id: pri.id, title: '兼职教师', start_date: '2026-09-01',
  }), 201);

  /* A special-education school (培智学校): its 一年级 students and its teacher are special. */
  const spe = await school(district.id, 3, '513');
  assert.deepEqual(spe.stages, ['special']);
  const speClass = await klass(spe.id, '11');
  await students(spe.id, speClass, 1);
  await teacher(spe.id, [speClass]);

  const want = emptySplit();
  want.primary = { students: 3 + 2, teachers: 1 + 1 + 1 };
  want.junior = { students: 4, teachers: 1 };
  want.special = { students: 1, teachers: 1 };
  const dash = expectStatus(await admin.get(`/api/v1/dashboard?org=${district.id}`), 200).json;
  assert.deepEqual(dash.counts.by_stage, want);
  assert.equal(dash.counts.students, 10);
  assert.equal(dash.counts.teachers, 5);
  assert.equal(dash.counts.schools, 3);

  /* Each school alone; the primary school counts the shared teacher under primary too. */
  const nineDash = expectStatus(await admin.get(`/api/v1/dashboard?org=${nine.id}`), 200).json;
  const wantNine = emptySplit();
  wantNine.primary = { students: 2, teachers: 2 };
  wantNine.junior = { students: 4, teachers: 1 };
  assert.deepEqual(nineDash.counts.by_stage, wantNine);
  const priDash = expectStatus(await admin.get(`/api/v1/dashboard?org=${pri.id}`), 200).json;
  const wantPri = emptySplit();
  wantPri.primary = { students: 3, teachers: 2 };
  assert.deepEqual(priDash.counts.by_stage, wantPri);

  /* A school's split is cached under its data version: a new enrolment shows at once. */
  await students(nine.id, c21, 1);
  const again = expectStatus(await admin.get(`/api/v1/dashboard?org=${nine.id}`), 200).json;
  assert.deepEqual(again.counts.by_stage.junior, { students: 5, teachers: 1 });
  assert.equal(again.counts.students, 7);
  /* And the count from the rows agrees for every node of the new district. */
  const { byPath } = await expectedByStage();
  for (const s of [pri, nine, spe]) {
    const d = expectStatus(await admin.get(`/api/v1/dashboard?org=${s.id}`), 200).json;
    assert.deepEqual(d.counts.by_stage, byPath.get(s.path), `${s.name}`);
  }
});

test('every error answer was well-formed', () => {
  assertErrorsWellFormed();
});
