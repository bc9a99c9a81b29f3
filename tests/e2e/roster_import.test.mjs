// The project's own roster templates: the blank workbook (Chinese headers, text ID columns, a
// drop-down for 性别, instructions), a filled xlsx and CSV validated into a report by line and
// column, a dry run that writes nothing, an import in one transaction, a re-import that skips,
// teachers with their classes, and the scope of the route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import {
  startServer, expectStatus, expectError, assertErrorsWellFormed, listAll, makeCitizenId,
  breakCheckChar,
} from './lib/server.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { discoverCity } from './lib/city.mjs';
import { runCli, expectExit } from './lib/cli.mjs';
import { dbArgs } from './lib/oneroster.mjs';

let srv;
let c;
let ids;
let className;

before(async () => {
  srv = await startServer();
  ({ clients: c, ids } = await discoverCity(srv.base));
  className = expectStatus(await c.school1.get(`/api/v1/orgs/${ids.classA}`), 200).json.name;
});

after(async () => {
  assertErrorsWellFormed();
  if (srv) await srv.stop();
});

async function upload(client, orgId, kind, body, { dryRun = false, type = 'text/csv' } = {}) {
  const url = `${srv.base}/api/v1/orgs/${orgId}/roster-import?kind=${kind}${dryRun ? '&dry_run=1' : ''}`;
  const res = await fetch(url, {
    method: 'POST', body,
    headers: { Cookie: client.cookieHeader(), 'X-CSRF-Token': client.csrf, 'Content-Type': type },
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const rosterOf = async (cls) => (await listAll(c.school1, `/api/v1/orgs/${cls}/people?role=student`, 500)).map((p) => p.id);
const codesOf = (rep) => rep.findings.map((f) => [f.line, f.column, f.code]);

test('the blank templates: Chinese headers, required starred, ID columns as text, 性别 drop-down, instructions', async () => {
  for (const [kind, first, sheet] of [['students', '姓名*', '学生名册'], ['teachers', '姓名*', '教职工名册']]) {
    const res = await fetch(`${srv.base}/api/v1/roster-templates/${kind}.xlsx`, { headers: { Cookie: c.school1.cookieHeader() } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), XLSX);
    assert.match(res.headers.get('content-disposition'), new RegExp(`${kind}-template\\.xlsx`));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual(wb.worksheets.map((w) => w.name), [sheet, '填写说明']);
    const ws = wb.worksheets[0];
    const headers = ws.getRow(1).values.slice(1);
    assert.equal(headers[0], first);
    assert.ok(headers.includes('身份证号'), headers.join(','));
    const cid = headers.indexOf('身份证号') + 1;
    assert.equal(ws.getColumn(cid).numFmt, '@', 'the ID column is text, so Excel keeps 18 digits');
    const sex = headers.indexOf('性别*') + 1;
    const dv = ws.dataValidations.model;
    const sexRange = Object.entries(dv).find(([, v]) => v.type === 'list');
    assert.ok(sexRange, `a list validation: ${JSON.stringify(dv)}`);
    assert.match(sexRange[1].formulae[0], /男,女/);
    assert.ok(sexRange[0].startsWith(String.fromCharCode(64 + sex)), sexRange[0]);
    const notes = wb.worksheets[1];
    assert.equal(notes.getRow(1).values.slice(1).join('|'), '列名|是否必填|填写说明');
    assert.equal(notes.rowCount - 1, headers.length, 'one instruction per column');
  }
  expectError(await c.school1.get('/api/v1/roster-templates/parents.xlsx'), 404, 'not_found');
});

test('a filled xlsx: dry run writes nothing, the import registers and enrols, a re-import skips', async () => {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('学生名册');
  ws.addRow(['姓名*', '性别*', '出生日期*', '身份证号', '班级*', '入学日期', '联系电话', '备注']);
  const people = [
    ['导入甲', '男', new Date(Date.UTC(2016, 2, 4)), makeCitizenId('440106', '2016-03-04', '011')],
    ['导入乙', '女', '2016/5/6', makeCitizenId('440106', '2016-05-06', '022')],
    ['导入丙', '女', '2016.07.08', ''],
  ];
  for (const [name, sex, birth, cid] of people) ws.addRow([name, sex, birth, cid, className, '2026-09-01', '13800000000', '']);
  ws.addRow([]); /* a blank row in the middle of the sheet is ignored */
  ws.getCell('C2').numFmt = 'yyyy-mm-dd';
  const buf = Buffer.from(await wb.xlsx.writeBuffer());
  const before_ = await rosterOf(ids.classA);

  let res = await upload(c.school1, ids.schoolA, 'students', buf, { dryRun: true, type: XLSX });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.ok, true);
  assert.deepEqual([res.json.rows, res.json.created, res.json.written, res.json.errors], [3, 3, false, 0]);
  assert.deepEqual(codesOf(res.json), [[1, '备注', 'unknown_column']]);
  assert.equal(res.json.findings[0].severity, 'warning');
  assert.equal(res.json.findings[0].message.zh, '未知的列“备注”，已忽略');
  assert.deepEqual(await rosterOf(ids.classA), before_, 'a dry run writes nothing');

  res = await upload(c.school1, ids.schoolA, 'students', buf, { type: XLSX });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual([res.json.created, res.json.written], [3, true]);
  const after_ = await rosterOf(ids.classA);
  assert.equal(after_.length, before_.length + 3);
  const added = after_.filter((id) => !before_.includes(id));
  const docs = await Promise.all(added.map(async (id) => expectStatus(await c.school1.get(`/api/v1/people/${id}`), 200).json));
  const byName = Object.fromEntries(docs.map((d) => [d.name, d]));
  assert.equal(byName['导入甲'].birth_date, '2016-03-04', 'an Excel date cell becomes YYYY-MM-DD');
  assert.equal(byName['导入乙'].birth_date, '2016-05-06');
  assert.equal(byName['导入丙'].birth_date, '2016-07-08');
  assert.equal(byName['导入甲'].sex, 'male');
  assert.equal(byName['导入甲'].enrolments[0].start_date, '2026-09-01');
  assert.equal(byName['导入甲'].enrolments[0].class.id, ids.classA);

  res = await upload(c.school1, ids.schoolA, 'students', buf, { type: XLSX });
  assert.equal(res.status, 200);
  assert.deepEqual([res.json.created, res.json.skipped], [1, 2], 'the two with ID numbers are known; the third has none to match');
});

test('a CSV with mistakes: every finding by line and column, in Chinese and English; nothing written', async () => {
  const good = makeCitizenId('440106', '2015-01-02', '031');
  const rows = [
    '\ufeff姓名,性别,出生日期,身份证号,学籍号,班级',
    `错甲,男,2015-01-02,${good},,${className}`, /* line 2: fine */
    `错乙,M,2015-01-02,,,${className}`, /* 3: bad sex */
    `错丙,女,2015-02-30,,,${className}`, /* 4: bad date */
    `错丁,女,2015-01-02,${breakCheckChar(makeCitizenId('440106', '2015-01-02', '042'))},,${className}`, /* 5 */
    `错戊,男,2015-01-03,${good},,${className}`, /* 6: birth mismatch and duplicate of line 2 */
    `错己,男,2015-01-02,4.40106E+17,,${className}`, /* 7: Excel made a number of the ID */
    `错庚,女,2015-01-02,,,不存在的班`, /* 8: no such class */
    ',女,2015-01-02,,,', /* 9: name and class missing */
  ];
  const before_ = await rosterOf(ids.classA);
  const res = await upload(c.school1, ids.schoolA, 'students', rows.join('\r\n') + '\r\n');
  assert.equal(res.status, 422, res.text);
  assert.equal(res.json.ok, false);
  assert.equal(res.json.written, false);
  const got = codesOf(res.json);
  for (const want of [
    [3, '性别', 'bad_sex'], [4, '出生日期', 'bad_date'], [5, '身份证号', 'bad_citizen_id'],
    [6, '出生日期', 'birth_mismatch'], [6, '身份证号', 'duplicate_in_file'],
    [7, '身份证号', 'id_as_number'], [8, '班级', 'class_not_found'], [9, '姓名', 'required'], [9, '班级', 'required'],
  ]) assert.ok(got.some((g) => JSON.stringify(g) === JSON.stringify(want)), `${JSON.stringify(want)} in ${JSON.stringify(got)}`);
  assert.ok(!got.some((g) => g[0] === 2), 'line 2 is fine');
  const dup = res.json.findings.find((f) => f.code === 'duplicate_in_file');
  assert.equal(dup.message.zh, `“身份证号”为“${good}”的人员在第 2 行已出现`);
  assert.equal(dup.message.en, `the person with 身份证号 '${good}' already appears on line 2`);
  assert.equal(res.json.errors, res.json.findings.filter((f) => f.severity === 'error').length);
  assert.deepEqual(await rosterOf(ids.classA), before_, 'a file with errors writes nothing');

  /* The sex in the ID (odd sequence: male) must match. */
  const res2 = await upload(c.school1, ids.schoolA, 'students', `姓名,性别,出生日期,身份证号,班级\n错辛,女,2015-01-02,${good},${className}\n`);
  assert.equal(res2.status, 422);
  assert.deepEqual(codesOf(res2.json), [[2, '性别', 'sex_mismatch']]);

  const missing = await upload(c.school1, ids.schoolA, 'students', '姓名,出生日期\n某,2015-01-02\n');
  assert.deepEqual(codesOf(missing.json).map((x) => x.slice(1)), [['性别', 'missing_column'], ['班级', 'missing_column']]);
  const junk = await upload(c.school1, ids.schoolA, 'students', Buffer.from('PK\u0003\u0004not really a zip'), { type: XLSX });
  assert.equal(junk.status, 422);
  assert.equal(junk.json.findings[0].code, 'unreadable');
  assert.match(junk.json.findings[0].message.zh, /无法读取文件：不是 xlsx 工作簿/);
  const empty = await upload(c.school1, ids.schoolA, 'students', '');
  assert.deepEqual(codesOf(empty.json), [[0, '', 'empty']]);
});

test('teachers: the post, the subjects, the classes taught and the class headed', async () => {
  const csv = `姓名,性别,出生日期,教师工号,岗位,任教学科,任教班级,班主任班级,入职日期\n新老师,女,1995-04-05,T-9001,专任教师,数学、科学,${className},${className},2026-09-01\n`;
  const res = await upload(c.school1, ids.schoolA, 'teachers', csv);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.created, 1);
  const teachers = await listAll(c.school1, `/api/v1/orgs/${ids.classA}/people?role=teacher`, 500);
  const t = teachers.find((p) => p.name === '新老师');
  assert.ok(t, 'the new teacher teaches the class');
  const doc = expectStatus(await c.school1.get(`/api/v1/people/${t.id}`), 200).json;
  assert.equal(doc.staff_no, 'T-9001');
  assert.deepEqual(doc.posts.map((p) => [p.school.id, p.title, p.subjects, p.start_date]), [[ids.schoolA, '专任教师', '数学,科学', '2026-09-01']]);
  const bad = await upload(c.school1, ids.schoolA, 'teachers', `姓名,性别,出生日期,岗位,任教班级\n某,男,1990-01-01,专任教师,${className}\n`);
  assert.deepEqual(codesOf(bad.json), [[2, '任教学科', 'subject_needed']]);
});

test('scope: only the school\'s writers import, only into a school', async () => {
  const csv = `姓名,性别,出生日期,班级\n某,男,2015-01-02,${className}\n`;
  expectError(await c.school1.request('POST', `/api/v1/orgs/${ids.schoolB}/roster-import?kind=students`, { body: csv, headers: { 'Content-Type': 'text/csv' } }), 404, 'not_found');
  for (const who of ['teacher1', 'student1', 'parent1']) {
    const res = await c[who].request('POST', `/api/v1/orgs/${ids.schoolA}/roster-import?kind=students`, { body: csv, headers: { 'Content-Type': 'text/csv' } });
    assert.ok([403, 404].includes(res.status), `${who}: ${res.status}`);
  }
  expectError(await c.district1.request('POST', `/api/v1/orgs/${ids.districtA}/roster-import?kind=students`, { body: csv, headers: { 'Content-Type': 'text/csv' } }), 400, 'invalid_field');
  expectError(await c.school1.request('POST', `/api/v1/orgs/${ids.schoolA}/roster-import?kind=parents`, { body: csv, headers: { 'Content-Type': 'text/csv' } }), 400, 'invalid_field');
});

test('the command line: edubrain import roster checks, reports by line, then imports', async () => {
  const file = path.join(srv.dir, 'roster-cli.csv');
  fs.writeFileSync(file, `姓名,性别,出生日期,班级\n命令行甲,男,2016-01-02,${className}\n命令行乙,女,2016-13-01,${className}\n`);
  const base = ['import', 'roster', file, ...dbArgs(srv), '--org', String(ids.schoolA), '--kind', 'students'];
  let res = await runCli([...base, '--lang', 'en']);
  expectExit(res, 1, 'a file with an error');
  assert.match(res.stdout, /line 3: error: '出生日期' is not a valid date: '2016-13-01'/);
  assert.match(res.stdout, /1 errors, 0 warnings; 0 people would be registered/);
  fs.writeFileSync(file, `姓名,性别,出生日期,班级\n命令行甲,男,2016-01-02,${className}\n命令行乙,女,2016-12-01,${className}\n`);
  res = await runCli([...base, '--dry-run', '--json']);
  expectExit(res, 0, 'dry run');
  assert.deepEqual((({ created, written }) => ({ created, written }))(JSON.parse(res.stdout)), { created: 2, written: false });
  const before_ = await rosterOf(ids.classA);
  res = await runCli(base);
  expectExit(res, 0, 'import');
  assert.match(res.stdout, /错误 0 个，警告 0 个；已登记 2 人/);
  assert.equal((await rosterOf(ids.classA)).length, before_.length + 2);
  expectExit(await runCli([...base.slice(0, -4), '--org', String(ids.districtA), '--kind', 'students']), 2, 'a district is not a school');
  expectExit(await runCli([...base.slice(0, -2), '--kind', 'parents']), 2, 'bad kind');
});
