// The people-list cache never serves stale data: every kind of change under a class, grade or
// school is visible in the very next list, at the class, its grade and its school; a change in
// another school does not disturb a cached class; /metrics shows hits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, loginAs, expectStatus, listAll, makeCitizenId, uniq } from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';

let srv;
let admin;
let ids;
const tag = uniq();

before(async () => {
  srv = await startServer();
  ({ ids } = await discoverCity(srv.base));
  admin = await loginAs(srv.base, 'admin');
});

after(async () => {
  if (srv) await srv.stop();
});

const roster = (org, role = 'student') => listAll(admin, `/api/v1/orgs/${org}/people?role=${role}`, 500);
const names = (list) => new Set(list.map((p) => p.name));

async function cacheHits() {
  const text = expectStatus(await admin.get('/metrics'), 200).text;
  const m = /edubrain_list_cache_lookups_total\{result="hit"\} (\d+)/.exec(text);
  assert.ok(m, 'the list cache reports its lookups in /metrics');
  return Number(m[1]);
}

test('a repeated roster read is a cache hit with the same body', async () => {
  const url = `/api/v1/orgs/${ids.classA}/people?role=student&limit=500`;
  const first = expectStatus(await admin.get(url), 200).text;
  const before = await cacheHits();
  const second = expectStatus(await admin.get(url), 200).text;
  assert.equal(second, first);
  assert.equal(await cacheHits(), before + 1, 'the second read was served from the cache');
});

test('renaming a student shows at once in the class, grade and school lists', async () => {
  for (const org of [ids.classA, ids.gradeA, ids.schoolA]) await roster(org); // fill the cache
  const newName = `改名${tag}`;
  expectStatus(await admin.patch(`/api/v1/people/${ids.classmate}`, { name: newName }), 200);
  for (const org of [ids.classA, ids.gradeA, ids.schoolA]) {
    const list = await roster(org);
    assert.ok(names(list).has(newName), `org ${org} shows the new name`);
  }
});

test('enrolling and ending an enrolment show at once', async () => {
  await roster(ids.classA);
  const birth = '2014-03-05';
  const created = expectStatus(await admin.post('/api/v1/people', {
    org_id: ids.schoolA, name: `新生${tag}`, sex: 'female', birth_date: birth, kind: 'student',
    citizen_id: makeCitizenId('370201', birth, 402),
  }), 201).json;
  let list = await roster(ids.classA);
  assert.ok(!list.some((p) => p.id === created.id), 'not in the class before enrolment');
  const en = expectStatus(await admin.post('/api/v1/enrolments', {
    person_id: created.id, class_id: ids.classA, start_date: '2026-10-08',
  }), 201).json;
  list = await roster(ids.classA);
  assert.ok(list.some((p) => p.id === created.id), 'in the class right after enrolment');
  expectStatus(await admin.post(`/api/v1/enrolments/${en.id}/end`, { end_date: '2026-11-01' }), 200);
  list = await roster(ids.classA);
  assert.ok(!list.some((p) => p.id === created.id), 'gone from the class right after the end');
});

test('a change in another school leaves a cached class of this school cached', async () => {
  const url = `/api/v1/orgs/${ids.classA}/people?role=student&limit=500`;
  expectStatus(await admin.get(url), 200);
  expectStatus(await admin.patch(`/api/v1/people/${ids.personB}`, { phone: '13800000001' }), 200);
  const before = await cacheHits();
  expectStatus(await admin.get(url), 200);
  assert.equal(await cacheHits(), before + 1, 'school B\'s change did not invalidate school A');
});

test('the cache never widens scope: an outsider still gets 404 for a cached class', async () => {
  const url = `/api/v1/orgs/${ids.classA}/people?role=student`;
  expectStatus(await admin.get(url), 200); // cached now
  const district1 = await loginAs(srv.base, 'district1');
  expectStatus(await district1.get(`/api/v1/orgs/${ids.classB}/people?role=student`), 404);
  const student = await loginAs(srv.base, 'student1');
  expectStatus(await student.get(url), 404);
});
