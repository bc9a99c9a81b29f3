// Excel downloads: the file is a real xlsx (read back with exceljs) whose rows equal the JSON list
// of the same org in the same scope, with Chinese headers, a frozen header row, text dates,
// masked ID numbers only, an RFC 6266/5987 file name; outside the scope it answers like a
// missing id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import {
  startServer, expectStatus, expectError, listAll, MISSING_ID, MASKED_ID_RE, assertErrorsWellFormed,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PEOPLE_HEADERS = ['姓名', '性别', '出生日期', '学籍号', '身份证号', '教师工号', '联系电话', '所属单位', '类别'];
const CHILD_HEADERS = ['名称', '类型', '学校标识码', '办学类型', '学段', '城乡类型', '行政区划代码', '年级代码',
  '学年', '在校学生数', '地址', '撤销日期'];
const SEX = { male: '男', female: '女', unknown: '未知' };
const KIND = { student: '学生', teacher: '教师', parent: '家长', staff: '职工' };

let srv;
let clients;
let ids;

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
});

after(async () => {
  if (srv) await srv.stop();
});

/** GETs url with the client's session; the body as bytes. */
async function download(client, url) {
  const res = await fetch(srv.base + url, { headers: { Cookie: client.cookieHeader() } });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, text: body.toString('utf8') };
}

/** The one sheet of an xlsx as an array of rows of strings ('' for empty cells). */
async function readSheet(buf, nCols) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf);
  assert.equal(wb.worksheets.length, 1);
  const ws = wb.worksheets[0];
  const rows = [];
  for (let r = 1; r <= ws.rowCount; r++) {
    const row = ws.getRow(r);
    const cells = [];
    for (let c = 1; c <= nCols; c++) {
      const v = row.getCell(c).value;
      assert.ok(v === null || typeof v === 'string', `row ${r} col ${c}: every cell is text, got ${typeof v} ${v}`);
      cells.push(v === null ? '' : v);
    }
    rows.push(cells);
  }
  return { ws, rows };
}

function checkHeaders(res, expectedName, asciiName) {
  assert.equal(res.headers.get('content-type'), XLSX_TYPE);
  const cd = res.headers.get('content-disposition');
  const m = /^attachment; filename="([^"]+)"; filename\*=UTF-8''([A-Za-z0-9%!#$&+\-.^_`|~]+)$/.exec(cd || '');
  assert.ok(m, `Content-Disposition: ${cd}`);
  assert.equal(m[1], asciiName);
  assert.equal(decodeURIComponent(m[2]), expectedName);
  assert.equal(res.body.subarray(0, 2).toString('latin1'), 'PK', 'a zip file');
}

function personRow(p) {
  return [p.name, SEX[p.sex], p.birth_date || '', p.student_no || '', p.citizen_id || '', p.staff_no || '',
    p.phone || '', p.org ? p.org.name : '', KIND[p.kind] || p.kind || ''];
}

test('school1 downloads its students: rows equal the JSON list, masked IDs only, frozen header', async () => {
  const school = expectStatus(await clients.school1.get(`/api/v1/orgs/${ids.schoolA}`), 200).json;
  const json = await listAll(clients.school1, `/api/v1/orgs/${ids.schoolA}/people?role=student`, 500);
  assert.ok(json.length > 100, `the school has ${json.length} students`);
  const t0 = process.hrtime.bigint();
  const res = await download(clients.school1, `/api/v1/orgs/${ids.schoolA}/people.xlsx?role=student`);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(res.status, 200, res.text.slice(0, 200));
  checkHeaders(res, `${school.name}_学生名单.xlsx`, `org-${ids.schoolA}-students.xlsx`);
  const { ws, rows } = await readSheet(res.body, PEOPLE_HEADERS.length);
  assert.deepEqual(rows[0], PEOPLE_HEADERS);
  assert.equal(ws.views[0].state, 'frozen');
  assert.equal(ws.views[0].ySplit, 1);
  assert.ok(ws.getColumn(1).width >= 10 && ws.getColumn(8).width >= 20, 'column widths set');
  assert.deepEqual(rows.slice(1), json.map(personRow));
  let masked = 0;
  for (const r of rows.slice(1)) {
    assert.match(r[2], /^\d{4}-\d{2}-\d{2}$/, 'birth date as text');
    if (r[4]) {
      assert.match(r[4], MASKED_ID_RE);
      masked++;
    }
  }
  assert.ok(masked > 0, 'some students carry a (masked) ID number');
  /* No cell anywhere holds an unmasked citizen ID (17 digits and a check character). */
  assert.ok(!/\d{17}[\dX]/.test(rows.flat().join('\n')), 'an unmasked ID number in the file');
  assert.ok(ms < 5000, `export took ${ms} ms`);
});

test('teachers of a school and students of a class; a district administrator exports its district', async () => {
  const teachers = await listAll(clients.school1, `/api/v1/orgs/${ids.schoolA}/people?role=teacher`, 500);
  const tres = await download(clients.school1, `/api/v1/orgs/${ids.schoolA}/people.xlsx?role=teacher`);
  assert.equal(tres.status, 200);
  assert.match(decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec(tres.headers.get('content-disposition'))[1]), /_教职工名单\.xlsx$/);
  const t = await readSheet(tres.body, PEOPLE_HEADERS.length);
  assert.deepEqual(t.rows.slice(1), teachers.map(personRow));
  assert.ok(teachers.length > 0);

  const cls = await listAll(clients.teacher1, `/api/v1/orgs/${ids.classA}/people?role=student`, 500);
  const cres = await download(clients.teacher1, `/api/v1/orgs/${ids.classA}/people.xlsx?role=student`);
  assert.equal(cres.status, 200);
  assert.deepEqual((await readSheet(cres.body, PEOPLE_HEADERS.length)).rows.slice(1), cls.map(personRow));
  assert.ok(cls.some((p) => p.id === ids.student1));

  const dist = await listAll(clients.district1, `/api/v1/orgs/${ids.districtA}/people?role=student`, 500);
  const dres = await download(clients.district1, `/api/v1/orgs/${ids.districtA}/people.xlsx?role=student`);
  assert.equal(dres.status, 200);
  const d = await readSheet(dres.body, PEOPLE_HEADERS.length);
  assert.equal(d.rows.length - 1, dist.length);
  assert.deepEqual(d.rows.slice(1), dist.map(personRow));
  expectError(await clients.school1.get(`/api/v1/orgs/${ids.schoolA}/people.xlsx?role=pupil`), 400, 'bad_request');
});

test('children of the city, a district and a school equal their JSON lists', async () => {
  const cases = [['admin', ids.city], ['district1', ids.districtA], ['school1', ids.schoolA], ['analyst1', ids.districtB]];
  for (const [login, org] of cases) {
    const node = expectStatus(await clients[login].get(`/api/v1/orgs/${org}`), 200).json;
    const json = await listAll(clients[login], `/api/v1/orgs/${org}/children`, 500);
    const res = await download(clients[login], `/api/v1/orgs/${org}/children.xlsx`);
    assert.equal(res.status, 200, `${login} ${org}: ${res.text.slice(0, 200)}`);
    checkHeaders(res, `${node.name}_下级单位.xlsx`, `org-${org}-children.xlsx`);
    const { rows } = await readSheet(res.body, CHILD_HEADERS.length);
    assert.deepEqual(rows[0], CHILD_HEADERS);
    assert.equal(rows.length - 1, json.length, `${login} ${org}`);
    for (let i = 0; i < json.length; i++) {
      const o = json[i];
      const r = rows[i + 1];
      assert.equal(r[0], o.name);
      assert.equal(r[1], { district: '区县', school: '学校', grade: '年级', class: '班级' }[o.kind]);
      assert.equal(r[2], o.school_code || '');
      assert.equal(r[3], o.running_type_name || '');
      assert.equal(r[6], o.division_code || '');
      assert.equal(r[7], o.grade_code || '');
      assert.equal(r[8], o.school_year ? `${o.school_year}-${o.school_year + 1}` : '');
      assert.equal(r[9], String(o.n_students || 0));
      if (o.kind === 'school') {
        assert.match(r[2], /^\d{10}$/, 'school code kept as text with its digits');
        assert.ok(r[4].length > 0, 'stages');
      }
    }
  }
});

test('outside the scope and for missing ids the downloads answer 404 exactly like the JSON lists', async () => {
  const cases = [
    ['school1', ids.schoolB], ['school1', ids.schoolA2], ['district1', ids.schoolB], ['teacher1', ids.classB],
    ['student1', ids.classA], ['parent1', ids.classA],
  ];
  for (const [login, org] of cases) {
    const c = clients[login];
    for (const suffix of ['people.xlsx?role=student', 'children.xlsx']) {
      const missing = await download(c, `/api/v1/orgs/${MISSING_ID}/${suffix}`);
      const out = await download(c, `/api/v1/orgs/${org}/${suffix}`);
      assert.equal(missing.status, 404, `${login} missing ${suffix}`);
      if (suffix.startsWith('children') && (login === 'student1' || login === 'parent1')) {
        /* Students and parents read their own class node; its children (none) are theirs too. */
        continue;
      }
      assert.equal(out.status, 404, `${login} ${org} ${suffix}: ${out.status}`);
      assert.equal(out.text, missing.text);
      assert.equal(out.headers.get('content-type'), missing.headers.get('content-type'));
      assert.equal(out.headers.get('content-disposition'), null);
      const json = await c.get(`/api/v1/orgs/${org}/${suffix.replace('.xlsx', '')}`);
      assert.equal(json.status, 404);
    }
  }
  const anon = await fetch(`${srv.base}/api/v1/orgs/${ids.schoolA}/people.xlsx`);
  assert.equal(anon.status, 401);
});

test('every error answer is well formed', () => {
  assertErrorsWellFormed();
});
