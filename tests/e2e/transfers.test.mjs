// Transfers between schools (学籍异动 转学): the receiving school finds the student (masked) and
// asks; across districts four offices act in the national order (转入学校 → 转入地教育局 → 转出学校
// → 转出地教育局), within one district the bureau approves once; wrong actors get 403, outsiders
// 404; reject with a reason, withdraw; due dates and the overdue flag (moved test clock); the
// enrolment moves and the old school keeps only history; the Excel list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import {
  startServer, Client, expectStatus, expectError, assertErrorsWellFormed, listAll, loginAs,
  makeCitizenId, uniq, MISSING_ID, MASKED_ID_RE,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

/* The server reads this file on every deadline question (EB_TESTING builds): an offset in
 * seconds added to its clock. */
const clockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-transfer-clock-'));
const clockFile = path.join(clockDir, 'offset');
fs.writeFileSync(clockFile, '0');
process.env.EDUBRAIN_TEST_CLOCK_FILE = clockFile;

let srv;
let admin;
let ids;
let teacher1;
const acct = {};
const PW = 'Transfer-pass-2026';
const tag = uniq();
let seq = Number.parseInt(tag.slice(-3), 36) % 400;

async function account(name, role, orgId) {
  const login = `tr${name}${tag}`;
  expectStatus(await admin.post('/api/v1/accounts', {
    login, password: PW, display_name: `转学${name}`, must_change_password: false,
    roles: [{ role, org_id: orgId }],
  }), 201, login);
  const c = new Client(srv.base);
  await c.mustLogin(login, PW);
  c.login = login;
  return c;
}

async function schoolsOf(district) {
  return (await listAll(admin, `/api/v1/orgs/${district}/children`, 500)).filter((o) => o.kind === 'school');
}

/* The first open class of a school (through its grades). */
async function classOf(school) {
  for (const g of await listAll(admin, `/api/v1/orgs/${school}/children`, 500)) {
    if (g.kind !== 'grade') continue;
    const cls = (await listAll(admin, `/api/v1/orgs/${g.id}/children`, 500)).find((o) => o.kind === 'class' && !o.closed_on);
    if (cls) return cls.id;
  }
  assert.fail(`school ${school} has no class`);
}

/* A new student with a citizen ID and a G student number, enrolled in classId. */
async function student(schoolId, classId) {
  seq += 1;
  const birth = '2013-04-05';
  const cid = makeCitizenId('370203', birth, String(100 + (seq % 800)).padStart(3, '0'));
  const sex = Number(cid[16]) % 2 ? 'male' : 'female';
  const name = `转学生${tag}${seq}`;
  const p = expectStatus(await admin.post('/api/v1/people', {
    org_id: schoolId, name, sex, birth_date: birth, kind: 'student', citizen_id: cid, student_no: `G${cid}`,
  }), 201, 'student').json;
  const en = expectStatus(await admin.post('/api/v1/enrolments', {
    person_id: p.id, class_id: classId, start_date: '2026-09-01',
  }), 201, 'enrolment').json;
  return { id: p.id, name, cid, sno: `G${cid}`, enrolment: en.id };
}

/* today + n working days (Monday to Friday), as the server counts, in its local calendar. */
function localDay(offsetS = 0) {
  const d = new Date(Date.now() + offsetS * 1000);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
function addWorkingDays(day, n) {
  const d = new Date(`${day}T12:00:00Z`);
  while (n > 0) {
    d.setUTCDate(d.getUTCDate() + 1);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) n -= 1;
  }
  return d.toISOString().slice(0, 10);
}

before(async () => {
  srv = await startServer();
  ({ ids } = await discoverCity(srv.base));
  admin = await loginAs(srv.base, 'admin');
  teacher1 = await loginAs(srv.base, 'teacher1');
  ids.schoolB2 = (await schoolsOf(ids.districtB)).find((s) => s.id !== ids.schoolB).id;
  ids.classA2 = await classOf(ids.schoolA2);
  acct.toSchool = await account('rxa', 'school_admin', ids.schoolA);
  acct.toDistrict = await account('dxa', 'district_admin', ids.districtA);
  acct.fromSchool = await account('sxb', 'school_admin', ids.schoolB);
  acct.fromDistrict = await account('dxb', 'district_admin', ids.districtB);
  acct.sameSchool = await account('sxa2', 'school_admin', ids.schoolA2);
  acct.outsider = await account('oxb2', 'school_admin', ids.schoolB2);
});

after(async () => {
  if (srv) await srv.stop();
  fs.rmSync(clockDir, { recursive: true, force: true });
});

function request(s, over = {}) {
  return { student_no: s.sno, name: s.name, to_class_id: ids.classA, date: '2026-12-01', reason: '随父母工作调动', ...over };
}

const act = (c, id, action, body = {}) => c.post(`/api/v1/transfers/${id}/${action}`, body);

test('the receiving school finds a student of another district: masked, exact name, school admins only', async () => {
  const s = await student(ids.schoolB, ids.classB);
  const rx = acct.toSchool;
  const m = expectStatus(await rx.post('/api/v1/transfer-lookup', { student_no: s.sno, name: s.name }), 200).json;
  assert.equal(m.name, s.name);
  assert.match(m.citizen_id, MASKED_ID_RE);
  assert.ok(!m.student_no.includes(s.cid.slice(6, 14)), 'the student number is masked');
  const schoolB = expectStatus(await admin.get(`/api/v1/orgs/${ids.schoolB}`), 200).json;
  const classB = expectStatus(await admin.get(`/api/v1/orgs/${ids.classB}`), 200).json;
  assert.equal(m.school_name, schoolB.name);
  assert.equal(m.class_name, classB.name);
  assert.equal(m.status, 'enrolled');
  assert.deepEqual(Object.keys(m).sort(), ['citizen_id', 'class_name', 'name', 'school_name', 'status', 'student_no']);
  /* By citizen ID (a lower-case x accepted as typed is irrelevant here: digits only). */
  expectStatus(await rx.post('/api/v1/transfer-lookup', { citizen_id: s.cid, name: s.name }), 200);
  /* A wrong name answers like an unknown number. */
  const wrong = expectError(await rx.post('/api/v1/transfer-lookup', { student_no: s.sno, name: '张三' }), 404, 'not_found');
  const unknownNo = `G${makeCitizenId('370203', '2013-04-05', '999')}`;
  const unknown = expectError(await rx.post('/api/v1/transfer-lookup', { student_no: unknownNo, name: s.name }), 404, 'not_found');
  assert.deepEqual(wrong, unknown);
  expectError(await rx.post('/api/v1/transfer-lookup', { name: s.name }), 400, 'invalid_field');
  expectError(await rx.post('/api/v1/transfer-lookup', { student_no: 'G123', name: s.name }), 400, 'invalid_field');
  /* Only school administrators look students up. */
  for (const c of [teacher1, acct.toDistrict]) {
    expectError(await c.post('/api/v1/transfer-lookup', { student_no: s.sno, name: s.name }), 403, 'forbidden');
  }
  /* Every lookup is on record in the receiving school's audit log. */
  const audit = expectStatus(await admin.get(`/api/v1/audit?org=${ids.schoolA}&limit=50`), 200).json.items;
  assert.ok(audit.some((e) => e.action === 'transfer.lookup'), 'no transfer.lookup in the audit log');
});

test('across two districts: four offices in order, wrong actors refused, the enrolment moves', async () => {
  const s = await student(ids.schoolB, ids.classB);
  const { toSchool, toDistrict, fromSchool, fromDistrict, outsider } = acct;
  const today = localDay();
  const t = expectStatus(await toSchool.post('/api/v1/transfers', request(s)), 201).json;
  assert.equal(t.state, 'pending');
  assert.equal(t.n_steps, 4);
  assert.equal(t.current_step, 2);
  assert.equal(t.current_kind, 'to_district');
  assert.deepEqual(t.steps.map((x) => x.kind), ['to_school', 'to_district', 'from_school', 'from_district']);
  assert.deepEqual(t.steps.map((x) => x.state), ['approved', 'pending', 'waiting', 'waiting']);
  assert.deepEqual(t.steps.map((x) => x.org.id), [ids.schoolA, ids.districtA, ids.schoolB, ids.districtB]);
  assert.equal(t.steps[0].by.name, '转学rxa');
  assert.equal(t.steps[1].opened_on, today);
  assert.equal(t.steps[1].due_date, addWorkingDays(today, 5));
  assert.equal(t.due_date, addWorkingDays(today, 5));
  assert.equal(t.overdue, false);
  assert.equal(t.student.name, s.name);
  assert.match(t.student.citizen_id, MASKED_ID_RE);
  assert.equal(t.from.school.id, ids.schoolB);
  assert.equal(t.from.class.id, ids.classB);
  assert.equal(t.to.class.id, ids.classA);
  assert.equal(t.to.district.id, ids.districtA);
  assert.equal(t.can_withdraw, true);
  assert.equal(t.can_act, false);

  /* Both schools and both bureaus see it; nobody else (404 exactly like a missing id). */
  for (const c of [toSchool, toDistrict, fromSchool, fromDistrict, admin]) {
    expectStatus(await c.get(`/api/v1/transfers/${t.id}`), 200, c.login || 'admin');
  }
  for (const c of [outsider, teacher1]) {
    const missing = await c.get(`/api/v1/transfers/${MISSING_ID}`);
    const out = await c.get(`/api/v1/transfers/${t.id}`);
    expectError(out, 404, 'not_found');
    assert.equal(out.text, missing.text);
    for (const a of ['approve', 'reject', 'withdraw']) {
      const m2 = await act(c, MISSING_ID, a, { reason: '越权' });
      const o2 = await act(c, t.id, a, { reason: '越权' });
      expectError(o2, 404, 'not_found', `${a} by an outsider`);
      assert.equal(o2.text, m2.text);
    }
    const all = expectStatus(await c.get('/api/v1/transfers?box=all'), 200).json.items;
    assert.ok(!all.some((x) => x.id === t.id), 'an outsider lists the transfer');
  }

  /* Inboxes: only the office whose turn it is. */
  const inbox = async (c) => (await listAll(c, '/api/v1/transfers?box=inbox', 100)).map((x) => x.id);
  assert.ok((await inbox(toDistrict)).includes(t.id), 'not in the receiving bureau\'s inbox');
  for (const c of [toSchool, fromSchool, fromDistrict]) assert.ok(!(await inbox(c)).includes(t.id), `in ${c.login}'s inbox too early`);
  assert.ok((await listAll(toSchool, '/api/v1/transfers?box=outbox', 100)).some((x) => x.id === t.id), 'not in the outbox');
  assert.ok(!(await listAll(fromSchool, '/api/v1/transfers?box=outbox', 100)).some((x) => x.id === t.id), 'in the sending school\'s outbox');

  const order = [
    ['to_district', toDistrict, [toSchool, fromSchool, fromDistrict]],
    ['from_school', fromSchool, [toSchool, toDistrict, fromDistrict]],
    ['from_district', fromDistrict, [toSchool, toDistrict, fromSchool]],
  ];
  let cur = t;
  for (const [kind, actor, wrong] of order) {
    assert.equal(cur.current_kind, kind);
    for (const w of wrong) {
      expectError(await act(w, t.id, 'approve'), 403, 'forbidden', `${w.login} approves ${kind}`);
      expectError(await act(w, t.id, 'reject', { reason: '不同意' }), 403, 'forbidden', `${w.login} rejects ${kind}`);
    }
    const mine = expectStatus(await actor.get(`/api/v1/transfers/${t.id}`), 200).json;
    assert.equal(mine.can_act, true, `${kind}: can_act for its office`);
    cur = expectStatus(await act(actor, t.id, 'approve', { reason: `${kind} 同意` }), 200, kind).json;
  }
  assert.equal(cur.state, 'approved');
  assert.equal(cur.current_step, 0);
  assert.deepEqual(cur.steps.map((x) => x.state), ['approved', 'approved', 'approved', 'approved']);
  assert.deepEqual(cur.steps.map((x) => x.by && x.by.name), ['转学rxa', '转学dxa', '转学sxb', '转学dxb']);
  assert.equal(cur.steps[2].reason, 'from_school 同意');
  assert.ok(cur.steps.every((x) => Number.isInteger(x.acted_at)), 'every step has its time');
  expectError(await act(fromDistrict, t.id, 'approve'), 409, 'transfer_closed');

  /* The enrolment moved on the transfer's date; history stays. */
  const p = expectStatus(await admin.get(`/api/v1/people/${s.id}`), 200).json;
  const old = p.enrolments.find((e) => e.id === s.enrolment);
  assert.equal(old.end_date, '2026-12-01');
  const now = p.enrolments.filter((e) => e.end_date === null);
  assert.equal(now.length, 1);
  assert.equal(now[0].class.id, ids.classA);
  assert.equal(now[0].start_date, '2026-12-01');
  assert.equal(p.org.id, ids.schoolA, 'the person is registered at the receiving school');
  const rosterA = await listAll(admin, `/api/v1/orgs/${ids.classA}/people?role=student`, 500);
  assert.ok(rosterA.some((x) => x.id === s.id), 'not on the new class roster');
  const rosterB = await listAll(admin, `/api/v1/orgs/${ids.classB}/people?role=student`, 500);
  assert.ok(!rosterB.some((x) => x.id === s.id), 'still on the old class roster');

  /* The old school keeps the transfer, not the person; the new school now reads the person. */
  expectError(await fromSchool.get(`/api/v1/people/${s.id}`), 404, 'not_found');
  expectStatus(await fromSchool.get(`/api/v1/transfers/${t.id}`), 200);
  expectStatus(await toSchool.get(`/api/v1/people/${s.id}`), 200);
  const st = expectStatus(await toSchool.get(`/api/v1/people/${s.id}/status`), 200).json;
  assert.equal(st.status, 'enrolled');
  assert.deepEqual(st.events.map((e) => [e.kind, e.school.id, e.transfer_id]),
    [['transfer_out', ids.schoolB, t.id], ['transfer_in', ids.schoolA, t.id]]);

  /* Every transition is in the audit log of the office that acted. */
  const actions = async (org) => (await admin.get(`/api/v1/audit?org=${org}&limit=100`)).json.items
    .filter((e) => e.object_type === 'transfer' && e.object_id === t.id).map((e) => e.action);
  assert.ok((await actions(ids.schoolA)).includes('transfer.create'));
  assert.ok((await actions(ids.districtA)).includes('transfer.approve'));
  assert.ok((await actions(ids.schoolB)).includes('transfer.approve'));
});

test('a reject needs a reason, closes the transfer and leaves the enrolment alone', async () => {
  const s = await student(ids.schoolB, ids.classB);
  const t = expectStatus(await acct.toSchool.post('/api/v1/transfers', request(s, { citizen_id: s.cid, student_no: undefined })), 201).json;
  expectError(await act(acct.toDistrict, t.id, 'reject', {}), 400, 'invalid_field');
  const r = expectStatus(await act(acct.toDistrict, t.id, 'reject', { reason: '材料不全' }), 200).json;
  assert.equal(r.state, 'rejected');
  assert.equal(r.steps[1].state, 'rejected');
  assert.equal(r.steps[1].reason, '材料不全');
  assert.equal(r.steps[1].by.name, '转学dxa');
  assert.deepEqual(r.steps.slice(2).map((x) => x.state), ['cancelled', 'cancelled']);
  assert.equal(r.close_reason, '材料不全');
  expectError(await act(acct.fromSchool, t.id, 'approve'), 409, 'transfer_closed');
  const p = expectStatus(await admin.get(`/api/v1/people/${s.id}`), 200).json;
  assert.deepEqual(p.enrolments.filter((e) => e.end_date === null).map((e) => e.class.id), [ids.classB]);
  /* A rejected request does not block a new one. */
  expectStatus(await acct.toSchool.post('/api/v1/transfers', request(s)), 201);
});

test('the receiving school withdraws before the end; one open transfer per student; status frozen meanwhile', async () => {
  const s = await student(ids.schoolB, ids.classB);
  const t = expectStatus(await acct.toSchool.post('/api/v1/transfers', request(s)), 201).json;
  expectError(await acct.toSchool.post('/api/v1/transfers', request(s)), 409, 'transfer_pending');
  expectError(await acct.fromSchool.post(`/api/v1/people/${s.id}/status`, {
    kind: 'withdrawal', date: '2026-12-02', reason: '出国',
  }), 409, 'transfer_pending');
  expectStatus(await act(acct.toDistrict, t.id, 'approve'), 200);
  for (const c of [acct.fromSchool, acct.toDistrict, acct.fromDistrict]) {
    expectError(await act(c, t.id, 'withdraw', {}), 403, 'forbidden', `${c.login} withdraws`);
  }
  const w = expectStatus(await act(acct.toSchool, t.id, 'withdraw', { reason: '家长改变主意' }), 200).json;
  assert.equal(w.state, 'withdrawn');
  assert.equal(w.closed_by.name, '转学rxa');
  assert.equal(w.close_reason, '家长改变主意');
  assert.deepEqual(w.steps.map((x) => x.state), ['approved', 'approved', 'cancelled', 'cancelled']);
  expectError(await act(acct.fromSchool, t.id, 'approve'), 409, 'transfer_closed');
  expectError(await act(acct.toSchool, t.id, 'withdraw', {}), 409, 'transfer_closed');
  const p = expectStatus(await admin.get(`/api/v1/people/${s.id}`), 200).json;
  assert.deepEqual(p.enrolments.filter((e) => e.end_date === null).map((e) => e.class.id), [ids.classB]);
  const mine = await listAll(acct.toSchool, '/api/v1/transfers?box=outbox&state=withdrawn', 100);
  assert.ok(mine.some((x) => x.id === t.id), 'state filter');
  assert.ok(!(await listAll(acct.toSchool, '/api/v1/transfers?box=outbox&state=pending', 100)).some((x) => x.id === t.id));
});

test('within one district: three steps, the bureau approves once, last', async () => {
  const s = await student(ids.schoolA2, ids.classA2);
  const t = expectStatus(await acct.toSchool.post('/api/v1/transfers', request(s)), 201).json;
  assert.equal(t.n_steps, 3);
  assert.deepEqual(t.steps.map((x) => x.kind), ['to_school', 'from_school', 'district']);
  assert.deepEqual(t.steps.map((x) => x.org.id), [ids.schoolA, ids.schoolA2, ids.districtA]);
  expectError(await act(acct.toDistrict, t.id, 'approve'), 403, 'forbidden', 'the bureau before the sending school');
  expectStatus(await act(acct.sameSchool, t.id, 'approve'), 200);
  expectError(await act(acct.sameSchool, t.id, 'approve'), 403, 'forbidden');
  const done = expectStatus(await act(acct.toDistrict, t.id, 'approve'), 200).json;
  assert.equal(done.state, 'approved');
  const p = expectStatus(await admin.get(`/api/v1/people/${s.id}`), 200).json;
  assert.deepEqual(p.enrolments.filter((e) => e.end_date === null).map((e) => e.class.id), [ids.classA]);
  /* Another district's bureau never saw it. */
  expectError(await acct.fromDistrict.get(`/api/v1/transfers/${t.id}`), 404, 'not_found');
});

test('bad requests name the field; a class outside the caller\'s school answers 404', async () => {
  const s = await student(ids.schoolB, ids.classB);
  const rx = acct.toSchool;
  expectError(await rx.post('/api/v1/transfers', request(s, { date: '2026-02-30' })), 400, 'invalid_field');
  expectError(await rx.post('/api/v1/transfers', request(s, { date: '2026-08-01' })), 400, 'invalid_field', 'before the enrolment');
  expectError(await rx.post('/api/v1/transfers', request(s, { reason: undefined })), 400, 'missing_field');
  expectError(await rx.post('/api/v1/transfers', request(s, { to_class_id: ids.classB })), 404, 'not_found');
  expectError(await rx.post('/api/v1/transfers', request(s, { to_class_id: MISSING_ID })), 404, 'not_found');
  expectError(await rx.post('/api/v1/transfers', request(s, { to_class_id: ids.gradeA })), 400, 'invalid_field');
  expectError(await rx.post('/api/v1/transfers', request(s, { name: '李四' })), 404, 'not_found');
  expectError(await acct.toDistrict.post('/api/v1/transfers', request(s)), 403, 'forbidden');
  /* A student of one's own school moves classes, not schools. */
  const own = await student(ids.schoolA, ids.classA);
  expectError(await rx.post('/api/v1/transfers', request(own)), 400, 'invalid_field');
  expectError(await rx.get('/api/v1/transfers?box=elsewhere'), 400, 'bad_request');
  expectError(await rx.get('/api/v1/transfers?state=done'), 400, 'bad_request');
});

test('deadlines: 5 working days per step, overdue once passed (moved clock), in lists and Excel', async () => {
  const s = await student(ids.schoolB, ids.classB);
  const t = expectStatus(await acct.toSchool.post('/api/v1/transfers', request(s)), 201).json;
  const due = t.due_date;
  try {
    /* The day after the due date, at the server's local noon: overdue. */
    const dueNoon = new Date(`${due}T12:00:00`);
    const offset = Math.ceil((dueNoon.getTime() + 86400000 - Date.now()) / 1000);
    fs.writeFileSync(clockFile, String(offset));
    const late = expectStatus(await acct.toDistrict.get(`/api/v1/transfers/${t.id}`), 200).json;
    assert.equal(late.overdue, true);
    assert.equal(late.steps[1].overdue, true);
    const item = (await listAll(acct.toDistrict, '/api/v1/transfers?box=inbox', 100)).find((x) => x.id === t.id);
    assert.equal(item.overdue, true);
    /* The next step opens on the (moved) day of the approval, with a new deadline. */
    const next = expectStatus(await act(acct.toDistrict, t.id, 'approve'), 200).json;
    assert.equal(next.overdue, false);
    assert.equal(next.steps[2].opened_on, localDay(offset));
    assert.equal(next.steps[2].due_date, addWorkingDays(localDay(offset), 5));
    /* On the due date itself a step is not yet overdue. */
    const onDue = new Date(`${next.due_date}T12:00:00`);
    fs.writeFileSync(clockFile, String(Math.ceil((onDue.getTime() - Date.now()) / 1000)));
    assert.equal(expectStatus(await acct.fromSchool.get(`/api/v1/transfers/${t.id}`), 200).json.overdue, false);
    fs.writeFileSync(clockFile, String(Math.ceil((onDue.getTime() + 86400000 - Date.now()) / 1000)));

    const res = await acct.fromSchool.get('/api/v1/transfers.xlsx?box=inbox');
    expectStatus(res, 200);
    assert.match(res.headers.get('content-type'), /spreadsheetml/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await (await fetch(`${srv.base}/api/v1/transfers.xlsx?box=inbox`, {
      headers: { Cookie: acct.fromSchool.cookieHeader() },
    })).arrayBuffer()));
    const ws = wb.worksheets[0];
    const header = ws.getRow(1).values.slice(1);
    assert.deepEqual(header.slice(0, 4), ['编号', '学生姓名', '身份证号', '学籍号']);
    const rows = [];
    ws.eachRow((row, n) => { if (n > 1) rows.push(row.values.slice(1)); });
    const mine = rows.find((r) => r[0] === String(t.id));
    assert.ok(mine, 'the transfer is a row of the inbox sheet');
    assert.equal(mine[1], s.name);
    assert.match(mine[2], MASKED_ID_RE);
    assert.equal(mine[10], '审批中');
    assert.equal(mine[11], '转出学校');
    assert.equal(mine[13], '是');
    const inbox = await listAll(acct.fromSchool, '/api/v1/transfers?box=inbox', 500);
    assert.equal(rows.length, inbox.length, 'the sheet has the rows of the JSON inbox');
  } finally {
    fs.writeFileSync(clockFile, '0');
  }
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
