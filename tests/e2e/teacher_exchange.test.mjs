// Teacher exchange and rotation (交流轮岗) and recruitment intake: a bureau proposes, both
// schools agree (each only for itself), the posts follow; rejections need a reason; the yearly
// rate; the Excel list; a recruitment batch is all or none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import {
  startServer, Client, expectStatus, expectError, assertErrorsWellFormed, listAll,
  makeCitizenId, breakCheckChar, uniq,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let c;
let ids;
const admins = {};
const PW = 'Exchange-pass-2026';

/* A school administrator account for a school the demo has no administrator login for. */
async function schoolAdmin(orgId, tag) {
  const login = `xadm${tag}${uniq()}`;
  expectStatus(await c.admin.post('/api/v1/accounts', {
    login, password: PW, display_name: `校管${tag}`, must_change_password: false,
    roles: [{ role: 'school_admin', org_id: orgId }],
  }), 201, login);
  const cl = new Client(srv.base);
  await cl.mustLogin(login, PW);
  return cl;
}

/* A teacher of the school with a current post there (and no open exchange yet). */
async function teacherOf(schoolId, skip = new Set()) {
  for (const t of await listAll(c.admin, `/api/v1/orgs/${schoolId}/people?role=teacher`, 500)) {
    if (skip.has(t.id)) continue;
    const p = expectStatus(await c.admin.get(`/api/v1/people/${t.id}`), 200).json;
    const post = p.posts.find((x) => x.end_date === null && x.school.id === schoolId);
    if (post) return { id: t.id, post };
  }
  assert.fail(`no teacher with a post in school ${schoolId}`);
}

function currentPosts(person) {
  return person.posts.filter((p) => p.end_date === null).map((p) => p.school.id).sort();
}

before(async () => {
  srv = await startServer();
  ({ clients: c, ids } = await discoverCity(srv.base));
  admins.a2 = await schoolAdmin(ids.schoolA2, 'a2');
  admins.b = await schoolAdmin(ids.schoolB, 'b');
});

after(async () => {
  assertErrorsWellFormed();
  if (srv) await srv.stop();
});

test('a rotation inside a district: proposed by the district, agreed by both schools, then the return', async () => {
  const t = await teacherOf(ids.schoolA);
  const body = {
    person_id: t.id, to_school_id: ids.schoolA2, kind: 'rotation', start_date: '2026-12-01',
    end_date: '2027-07-15', reason: '城乡学校对口支援',
  };
  /* A school cannot send its own teachers away: the other school lies outside its scope. */
  expectError(await c.school1.post('/api/v1/teacher-exchanges', body), 404, 'not_found', 'school admin proposes');
  expectError(await c.teacher1.post('/api/v1/teacher-exchanges', body), 404, 'not_found', 'a teacher proposes');
  const x = expectStatus(await c.district1.post('/api/v1/teacher-exchanges', body), 201, 'propose').json;
  assert.equal(x.state, 'proposed');
  assert.equal(x.kind, 'rotation');
  assert.deepEqual([x.from_school.id, x.to_school.id], [ids.schoolA, ids.schoolA2]);
  assert.equal(x.title, t.post.title, 'the home post\'s title by default');
  assert.deepEqual([x.from_agreed, x.to_agreed], [false, false]);
  assert.deepEqual(x.can, ['cancel'], 'the district may only cancel');
  /* One open exchange per teacher. */
  expectError(await c.district1.post('/api/v1/teacher-exchanges', body), 409, 'exists');

  /* The district cannot agree for a school; each school agrees for itself once. */
  expectError(await c.district1.post(`/api/v1/teacher-exchanges/${x.id}/agree`, {}), 403, 'forbidden');
  const seenByA = expectStatus(await c.school1.get(`/api/v1/teacher-exchanges/${x.id}`), 200).json;
  assert.deepEqual(seenByA.can, ['agree', 'reject']);
  const one = expectStatus(await c.school1.post(`/api/v1/teacher-exchanges/${x.id}/agree`, {}), 200).json;
  assert.equal(one.state, 'proposed', 'one school is not enough');
  assert.deepEqual([one.from_agreed, one.to_agreed], [true, false]);
  expectError(await c.school1.post(`/api/v1/teacher-exchanges/${x.id}/agree`, {}), 403, 'forbidden', 'agreeing twice');
  let person = expectStatus(await c.admin.get(`/api/v1/people/${t.id}`), 200).json;
  assert.deepEqual(currentPosts(person), [ids.schoolA], 'no post moves before both agree');

  const done = expectStatus(await admins.a2.post(`/api/v1/teacher-exchanges/${x.id}/agree`, {}), 200).json;
  assert.equal(done.state, 'active');
  assert.ok(done.to_post_id > 0);
  person = expectStatus(await c.admin.get(`/api/v1/people/${t.id}`), 200).json;
  assert.deepEqual(currentPosts(person), [ids.schoolA, ids.schoolA2].sort(), 'a rotation keeps the home post');
  const served = person.posts.find((p) => p.id === done.to_post_id);
  assert.equal(served.start_date, '2026-12-01');
  assert.equal(served.title, t.post.title);

  /* The rate of the school year holding the start date: one rotation out of the district's teachers. */
  const stats = expectStatus(await c.district1.get(`/api/v1/orgs/${ids.districtA}/teacher-exchanges/stats?date=2027-03-01`), 200).json;
  assert.equal(stats.school_year, '2026-2027');
  assert.equal(stats.rotations, 1);
  assert.equal(stats.transfers, 0);
  assert.ok(stats.teachers > 10, `teachers ${stats.teachers}`);
  assert.equal(stats.rate_permille, Math.floor(1000 / stats.teachers));
  assert.equal(stats.target_permille, 100);
  const otherYear = expectStatus(await c.district1.get(`/api/v1/orgs/${ids.districtA}/teacher-exchanges/stats?date=2026-03-01`), 200).json;
  assert.equal(otherYear.rotations, 0, 'the previous school year had none');

  /* The return: not before the start, then the served post ends and the exchange is done. */
  expectError(await admins.a2.post(`/api/v1/teacher-exchanges/${x.id}/return`, { date: '2026-11-01' }), 400, 'invalid_field');
  expectError(await c.school1.post(`/api/v1/teacher-exchanges/${x.id}/return`, { date: '2027-07-15' }), 403, 'forbidden', 'the home school does not end it');
  const back = expectStatus(await admins.a2.post(`/api/v1/teacher-exchanges/${x.id}/return`, { date: '2027-07-15' }), 200).json;
  assert.equal(back.state, 'done');
  assert.equal(back.returned_on, '2027-07-15');
  person = expectStatus(await c.admin.get(`/api/v1/people/${t.id}`), 200).json;
  assert.deepEqual(currentPosts(person), [ids.schoolA]);
  assert.equal(person.posts.find((p) => p.id === done.to_post_id).end_date, '2027-07-15');
  expectError(await admins.a2.post(`/api/v1/teacher-exchanges/${x.id}/return`, { date: '2027-07-16' }), 409, 'conflict');

  /* The history of the teacher, and the audit trail of each step. */
  const hist = expectStatus(await c.school1.get(`/api/v1/people/${t.id}/teacher-exchanges`), 200).json.items;
  assert.deepEqual(hist.map((h) => [h.id, h.state]), [[x.id, 'done']]);
  const audit = await listAll(c.admin, `/api/v1/audit?org_id=${ids.city}`, 200);
  const steps = audit.filter((e) => e.object_type === 'teacher_exchange' && e.object_id === x.id).map((e) => e.action).sort();
  assert.deepEqual(steps, ['exchange.agree', 'exchange.agree', 'exchange.propose', 'exchange.return']);
});

test('a transfer between districts: only the city proposes; a rejection needs a reason; agreed, the home post ends', async () => {
  const t = await teacherOf(ids.schoolB);
  const body = {
    person_id: t.id, to_school_id: ids.schoolA, kind: 'transfer', start_date: '2027-02-20',
    reason: '夫妻团聚调动', title: '专任教师', subjects: '数学',
  };
  /* district1 does not see the teacher of the other district at all. */
  expectError(await c.district1.post('/api/v1/teacher-exchanges', body), 404, 'not_found');
  const x = expectStatus(await c.admin.post('/api/v1/teacher-exchanges', body), 201).json;
  /* Visible to both schools and both districts; the other school of district A sees nothing. */
  for (const who of [c.school1, admins.b, c.district1, c.admin]) {
    expectStatus(await who.get(`/api/v1/teacher-exchanges/${x.id}`), 200);
  }
  expectError(await admins.a2.get(`/api/v1/teacher-exchanges/${x.id}`), 404, 'not_found');
  expectError(await c.student1.get(`/api/v1/teacher-exchanges/${x.id}`), 404, 'not_found');

  expectError(await admins.b.post(`/api/v1/teacher-exchanges/${x.id}/reject`, {}), 400, 'missing_field');
  const rej = expectStatus(await admins.b.post(`/api/v1/teacher-exchanges/${x.id}/reject`, { reason: '学科教师紧缺' }), 200).json;
  assert.equal(rej.state, 'rejected');
  assert.equal(rej.reject_reason, '学科教师紧缺');
  expectError(await c.school1.post(`/api/v1/teacher-exchanges/${x.id}/agree`, {}), 409, 'conflict');
  let person = expectStatus(await c.admin.get(`/api/v1/people/${t.id}`), 200).json;
  assert.deepEqual(currentPosts(person), [ids.schoolB], 'a rejected transfer changes nothing');

  /* A new proposal after the rejection, agreed by both. */
  const y = expectStatus(await c.admin.post('/api/v1/teacher-exchanges', body), 201).json;
  expectStatus(await c.school1.post(`/api/v1/teacher-exchanges/${y.id}/agree`, {}), 200);
  const done = expectStatus(await admins.b.post(`/api/v1/teacher-exchanges/${y.id}/agree`, {}), 200).json;
  assert.equal(done.state, 'done');
  person = expectStatus(await c.admin.get(`/api/v1/people/${t.id}`), 200).json;
  assert.deepEqual(currentPosts(person), [ids.schoolA]);
  assert.equal(person.posts.find((p) => p.id === t.post.id).end_date, '2027-02-20');
  const moved = person.posts.find((p) => p.id === done.to_post_id);
  assert.deepEqual([moved.title, moved.subjects, moved.start_date], ['专任教师', '数学', '2027-02-20']);

  /* The city's list holds both, the district's list of A holds both (they arrive there). */
  const cityList = await listAll(c.admin, `/api/v1/orgs/${ids.city}/teacher-exchanges?state=rejected`, 100);
  assert.ok(cityList.some((e) => e.id === x.id));
  assert.ok(!cityList.some((e) => e.id === y.id), 'the state filter holds');
  const aList = await listAll(c.district1, `/api/v1/orgs/${ids.districtA}/teacher-exchanges`, 1);
  assert.ok(aList.some((e) => e.id === y.id) && aList.some((e) => e.id === x.id), 'paged by one');
});

test('cancel by the bureau, bad input named by field', async () => {
  const t = await teacherOf(ids.schoolA2);
  const base = { person_id: t.id, to_school_id: ids.schoolA, kind: 'rotation', start_date: '2027-03-01', end_date: '2028-03-01', reason: '支教' };
  expectError(await c.district1.post('/api/v1/teacher-exchanges', { ...base, end_date: undefined }), 400, 'missing_field');
  expectError(await c.district1.post('/api/v1/teacher-exchanges', { ...base, kind: 'swap' }), 400, 'invalid_field');
  expectError(await c.district1.post('/api/v1/teacher-exchanges', { ...base, end_date: '2027-02-01' }), 400, 'invalid_field');
  expectError(await c.district1.post('/api/v1/teacher-exchanges', { ...base, start_date: '2027-02-30' }), 400, 'invalid_field');
  expectError(await c.district1.post('/api/v1/teacher-exchanges', { ...base, kind: 'transfer' }), 400, 'invalid_field');
  expectError(await c.district1.post('/api/v1/teacher-exchanges', { ...base, to_school_id: ids.schoolA2 }), 400, 'invalid_field', 'to its own school');
  expectError(await c.district1.post('/api/v1/teacher-exchanges', { ...base, reason: '' }), 400, 'invalid_field');
  expectError(await c.district1.post('/api/v1/teacher-exchanges', { ...base, to_school_id: ids.classA }), 400, 'invalid_field', 'to a class');
  const x = expectStatus(await c.district1.post('/api/v1/teacher-exchanges', base), 201).json;
  expectError(await c.school1.post(`/api/v1/teacher-exchanges/${x.id}/cancel`, {}), 403, 'forbidden');
  expectError(await c.district1.post(`/api/v1/teacher-exchanges/${x.id}/swap`, {}), 404, 'not_found');
  const gone = expectStatus(await c.district1.post(`/api/v1/teacher-exchanges/${x.id}/cancel`, {}), 200).json;
  assert.equal(gone.state, 'cancelled');
  assert.deepEqual(gone.can, []);
});

test('the exchange list as Excel, in the caller\'s scope', async () => {
  const res = await fetch(`${srv.base}/api/v1/orgs/${ids.districtA}/teacher-exchanges.xlsx`, { headers: { Cookie: c.district1.cookieHeader() } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-disposition'), /attachment/);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(await res.arrayBuffer()));
  const ws = wb.worksheets[0];
  assert.equal(ws.getRow(1).getCell(1).value, '教师');
  assert.equal(ws.getRow(1).getCell(3).value, '状态');
  const json = await listAll(c.district1, `/api/v1/orgs/${ids.districtA}/teacher-exchanges`, 100);
  assert.equal(ws.rowCount - 1, json.length, 'one row per exchange');
  const states = [];
  for (let r = 2; r <= ws.rowCount; r++) states.push(ws.getRow(r).getCell(3).value);
  assert.ok(states.includes('已完成') && states.includes('已撤销'), states.join(','));
  const denied = await fetch(`${srv.base}/api/v1/orgs/${ids.districtB}/teacher-exchanges.xlsx`, { headers: { Cookie: c.district1.cookieHeader() } });
  assert.equal(denied.status, 404);
});

test('a recruitment batch: all hires or none, each error names its row', async () => {
  const before_ = await listAll(c.district1, `/api/v1/orgs/${ids.schoolA}/people?role=teacher`, 500);
  const cid = makeCitizenId('440106', '1999-05-04', '123');
  const hires = [
    { school_id: ids.schoolA, title: '专任教师', subjects: '语文', name: '林晓', sex: 'male', birth_date: '1999-05-04', citizen_id: cid, phone: '13800000001' },
    { school_id: ids.schoolA2, title: '专任教师', subjects: '数学', name: '陈静', sex: 'female', birth_date: '2000-01-02', staff_no: 'T2027001' },
  ];
  const body = { name: '2027年春季新教师', start_date: '2027-02-20', hires };
  let err = expectError(await c.district1.post(`/api/v1/orgs/${ids.districtA}/recruitment`, {
    ...body, hires: [hires[0], { ...hires[1], citizen_id: breakCheckChar(makeCitizenId('440106', '2000-01-02', '124')) }],
  }), 400, 'invalid_field');
  assert.match(JSON.stringify(err), /hires\[1\]\.citizen_id/);
  err = expectError(await c.district1.post(`/api/v1/orgs/${ids.districtA}/recruitment`, {
    ...body, hires: [hires[0], { ...hires[1], school_id: ids.schoolB }],
  }), 400, 'invalid_field');
  assert.match(JSON.stringify(err), /hires\[1\]\.school_id/);
  expectError(await c.district1.post(`/api/v1/orgs/${ids.districtA}/recruitment`, { ...body, hires: [] }), 400, 'invalid_field');
  expectError(await c.teacher1.post(`/api/v1/orgs/${ids.schoolA}/recruitment`, body), 404, 'not_found');
  const mid = await listAll(c.district1, `/api/v1/orgs/${ids.schoolA}/people?role=teacher`, 500);
  assert.equal(mid.length, before_.length, 'a refused batch writes nobody');

  const made = expectStatus(await c.district1.post(`/api/v1/orgs/${ids.districtA}/recruitment`, body), 201).json;
  assert.ok(made.batch_id > 0);
  assert.equal(made.hires.length, 2);
  const after_ = await listAll(c.district1, `/api/v1/orgs/${ids.schoolA}/people?role=teacher`, 500);
  assert.equal(after_.length, before_.length + 1);
  const lin = expectStatus(await c.district1.get(`/api/v1/people/${made.hires[0].person_id}`), 200).json;
  assert.equal(lin.name, '林晓');
  assert.equal(lin.kind, 'teacher');
  assert.deepEqual(lin.posts.map((p) => [p.school.id, p.title, p.subjects, p.start_date, p.end_date]),
    [[ids.schoolA, '专任教师', '语文', '2027-02-20', null]]);
  const chen = expectStatus(await admins.a2.get(`/api/v1/people/${made.hires[1].person_id}`), 200).json;
  assert.equal(chen.staff_no, 'T2027001');
});
