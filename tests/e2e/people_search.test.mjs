// Finding people in a subtree: by part of a name, by exact student or staff number; wildcards
// are literal; the Excel sheet holds what the search shows; scope as the lists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import { startServer, expectStatus, expectError, assertErrorsWellFormed, listAll } from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let c;
let ids;

before(async () => {
  srv = await startServer();
  ({ clients: c, ids } = await discoverCity(srv.base));
});

after(async () => {
  assertErrorsWellFormed();
  if (srv) await srv.stop();
});

test('a part of a name finds exactly the current students whose name holds it', async () => {
  const all = await listAll(c.school1, `/api/v1/orgs/${ids.schoolA}/people?role=student`, 500);
  /* The commonest character after the surname gives a search with many hits, paged. */
  const counts = new Map();
  for (const p of all) for (const ch of [...p.name].slice(1)) counts.set(ch, (counts.get(ch) || 0) + 1);
  const [ch] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  const want = all.filter((p) => p.name.includes(ch)).map((p) => p.id).sort((a, b) => a - b);
  assert.ok(want.length > 3 && want.length < all.length, `${ch}: ${want.length} of ${all.length}`);
  const got = await listAll(c.school1, `/api/v1/orgs/${ids.schoolA}/people?role=student&q=${encodeURIComponent(ch)}`, 3);
  assert.deepEqual(got.map((p) => p.id), want);

  /* A class narrows it; another school's admin finds nothing there. */
  const inClass = await listAll(c.school1, `/api/v1/orgs/${ids.classA}/people?role=student&q=${encodeURIComponent(ch)}`);
  const classIds = new Set((await listAll(c.school1, `/api/v1/orgs/${ids.classA}/people?role=student`)).map((p) => p.id));
  assert.deepEqual(inClass.map((p) => p.id), want.filter((id) => classIds.has(id)));
  expectError(await c.school1.get(`/api/v1/orgs/${ids.schoolB}/people?role=student&q=${encodeURIComponent(ch)}`), 404, 'not_found');
  expectError(await c.student1.get(`/api/v1/orgs/${ids.classA}/people?role=student&q=${encodeURIComponent(ch)}`), 404, 'not_found');
});

test('exact numbers: a student by the full student number, a teacher by staff number; wildcards are literal', async () => {
  const s1 = expectStatus(await c.admin.get(`/api/v1/people/${ids.student1}?pii=1`), 200).json;
  assert.ok(s1.student_no, 'student1 has a student number');
  let got = await listAll(c.school1, `/api/v1/orgs/${ids.schoolA}/people?role=student&q=${s1.student_no}`);
  assert.deepEqual(got.map((p) => p.id), [ids.student1]);
  /* Part of a number finds nothing: numbers match whole, names by part. */
  got = await listAll(c.school1, `/api/v1/orgs/${ids.schoolA}/people?role=student&q=${s1.student_no.slice(0, 10)}`);
  assert.deepEqual(got, []);
  const teachers = await listAll(c.school1, `/api/v1/orgs/${ids.schoolA}/people?role=teacher`, 500);
  const withNo = teachers.find((p) => p.staff_no);
  assert.ok(withNo, 'a teacher with a staff number');
  got = await listAll(c.school1, `/api/v1/orgs/${ids.schoolA}/people?role=teacher&q=${encodeURIComponent(withNo.staff_no)}`);
  assert.ok(got.some((p) => p.id === withNo.id));
  for (const wild of ['%', '_', '!']) {
    got = await listAll(c.school1, `/api/v1/orgs/${ids.schoolA}/people?role=student&q=${encodeURIComponent(wild)}`);
    assert.deepEqual(got, [], `'${wild}' is not a wildcard`);
  }
  expectError(await c.school1.get(`/api/v1/orgs/${ids.schoolA}/people?q=张`), 400, 'bad_request');
  expectError(await c.school1.get(`/api/v1/orgs/${ids.schoolA}/people?role=student&q=${'长'.repeat(30)}`), 400, 'invalid_field');
});

test('the Excel sheet of a search holds the same people', async () => {
  const s1 = expectStatus(await c.school1.get(`/api/v1/people/${ids.student1}`), 200).json;
  const ch = [...s1.name].at(-1);
  const q = encodeURIComponent(ch);
  const json = await listAll(c.school1, `/api/v1/orgs/${ids.schoolA}/people?role=student&q=${q}`, 500);
  assert.ok(json.some((p) => p.id === ids.student1));
  const res = await fetch(`${srv.base}/api/v1/orgs/${ids.schoolA}/people.xlsx?role=student&q=${q}`, { headers: { Cookie: c.school1.cookieHeader() } });
  assert.equal(res.status, 200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(await res.arrayBuffer()));
  const ws = wb.worksheets[0];
  assert.equal(ws.rowCount - 1, json.length);
  for (let r = 2; r <= ws.rowCount; r++) assert.ok(String(ws.getRow(r).getCell(1).value).includes(ch));
});
