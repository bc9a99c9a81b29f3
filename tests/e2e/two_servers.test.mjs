// Two `edubrain serve` processes on one PostgreSQL database, as behind a load balancer without
// sticky sessions: a session opened through one works on the other, a write through one is
// visible through the other in the very next request (also where the other has the list
// cached), logout through one ends the session on both, and writes through both at once all
// land with unique ids and their audit rows. Runs under `make e2e-pg` only (EDUBRAIN_PG).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PG_BASE, loginAs, expectStatus, expectError, listAll, uniq } from './lib/server.mjs';
import { startServers, sameSession } from './lib/servers.mjs';
import { discoverCity } from './lib/city.mjs';

const skip = PG_BASE ? false : 'several servers share a PostgreSQL database: set EDUBRAIN_PG (make e2e-pg)';
const tag = uniq();
let multi;
let A;
let B;
let ids;
let adminA;
let adminB;

before(async () => {
  if (skip) return;
  multi = await startServers(2);
  [A, B] = multi.servers;
  ({ ids } = await discoverCity(A.base));
  adminA = await loginAs(A.base, 'admin');
  adminB = sameSession(adminA, B.base);
});

after(async () => {
  if (multi) await multi.stop();
});

async function cacheHits(server) {
  const res = await fetch(`${server.base}/metrics`);
  assert.equal(res.status, 200);
  const m = /edubrain_list_cache_lookups_total\{result="hit"\} (\d+)/.exec(await res.text());
  assert.ok(m, 'the list cache reports its lookups in /metrics');
  return Number(m[1]);
}

const rosterUrl = (org, role = 'student') => `/api/v1/orgs/${org}/people?role=${role}&limit=500`;

test('a session opened through one server is valid on the other', { skip }, async () => {
  const me = expectStatus(await adminB.get('/api/v1/me'), 200, 'the session of server A on server B').json;
  assert.equal(me.user.login, 'admin');
  assert.equal(me.csrf_token, adminA.csrf, 'the same session, with its CSRF token');
  /* And the other way: a login through B, used on A, with an unsafe request (CSRF checked). */
  const school1B = await loginAs(B.base, 'school1');
  const onA = sameSession(school1B, A.base);
  expectStatus(await onA.get('/api/v1/me'), 200, 'the session of server B on server A');
  const made = expectStatus(await onA.post('/api/v1/people', {
    org_id: ids.schoolA, name: `跨服${tag}`, sex: 'female', birth_date: '2014-05-06',
  }), 201, 'a write through A with the session and CSRF token of B').json;
  expectStatus(await school1B.get(`/api/v1/people/${made.id}`), 200, 'and B sees it');
});

test('a person created and enrolled through A is visible through B in the next request', { skip }, async () => {
  const made = expectStatus(await adminA.post('/api/v1/people', {
    org_id: ids.schoolA, name: `新生${tag}`, sex: 'male', birth_date: '2014-02-03', kind: 'student',
  }), 201).json;
  const p = expectStatus(await adminB.get(`/api/v1/people/${made.id}`), 200, 'the new person on B').json;
  assert.equal(p.name, `新生${tag}`);
  /* B caches the class roster, then A enrols the new person in that class. */
  const url = rosterUrl(ids.classA);
  const before1 = expectStatus(await adminB.get(url), 200).json.items;
  assert.ok(!before1.some((x) => x.id === made.id), 'not in the class before the enrolment');
  const en = expectStatus(await adminA.post('/api/v1/enrolments', {
    person_id: made.id, class_id: ids.classA, start_date: '2026-09-01',
  }), 201).json;
  const after1 = expectStatus(await adminB.get(url), 200).json.items;
  assert.ok(after1.some((x) => x.id === made.id), 'B lists the student right after A enrolled them');
  const p2 = expectStatus(await adminB.get(`/api/v1/people/${made.id}`), 200).json;
  assert.ok(p2.enrolments.some((e) => e.id === en.id && e.end_date === null), 'B shows the enrolment');
  /* Ending it through B is seen at once through A, whose own cache held the roster. */
  expectStatus(await adminA.get(url), 200);
  expectStatus(await adminB.post(`/api/v1/enrolments/${en.id}/end`, { end_date: '2026-12-31' }), 200);
  const after2 = expectStatus(await adminA.get(url), 200).json.items;
  assert.ok(!after2.some((x) => x.id === made.id), 'A drops the student right after B ended the enrolment');
});

test('renaming a student through A shows at once in the roster B has cached', { skip }, async () => {
  const url = rosterUrl(ids.classA);
  const first = expectStatus(await adminB.get(url), 200).text;
  const hits = await cacheHits(B);
  assert.equal(expectStatus(await adminB.get(url), 200).text, first);
  assert.equal(await cacheHits(B), hits + 1, 'B served the roster from its cache');
  const newName = `改名${tag}`;
  expectStatus(await adminA.patch(`/api/v1/people/${ids.classmate}`, { name: newName }), 200);
  const list = expectStatus(await adminB.get(url), 200).json.items;
  const mate = list.find((x) => x.id === ids.classmate);
  assert.ok(mate, 'the classmate is still in the roster');
  assert.equal(mate.name, newName, 'B shows the new name in the very next request');
  /* The grade and the school lists too (the rename bumps every versioned node on the path). */
  for (const org of [ids.gradeA, ids.schoolA]) {
    const all = await listAll(adminB, `/api/v1/orgs/${org}/people?role=student`, 500);
    assert.ok(all.some((x) => x.id === ids.classmate && x.name === newName), `org ${org} on B`);
  }
});

test('logout through one server ends the session on both', { skip }, async () => {
  for (const [where, other] of [[A, B], [B, A]]) {
    const c = await loginAs(where.base, 'teacher1');
    const there = sameSession(c, other.base);
    expectStatus(await there.get('/api/v1/me'), 200, 'valid on the other server before logout');
    expectStatus(await c.del('/api/v1/session'), 204);
    expectError(await there.get('/api/v1/me'), 401, undefined, 'the other server after logout');
    expectError(await sameSession(there, where.base).get('/api/v1/me'), 401, undefined,
      'the logging-out server after logout');
  }
});

test('50 people created concurrently through both servers all land, with unique ids and audit rows', { skip }, async () => {
  const N = 50;
  const writes = [];
  for (let i = 0; i < N; i++) {
    const client = i % 2 === 0 ? adminA : adminB;
    const day = String((i % 28) + 1).padStart(2, '0');
    writes.push(client.post('/api/v1/people', {
      org_id: ids.schoolA2, name: `并发${tag}-${i}`, sex: i % 3 === 0 ? 'female' : 'male', birth_date: `2013-04-${day}`,
    }));
  }
  const answers = await Promise.all(writes);
  for (const r of answers) expectStatus(r, 201, 'a concurrent create');
  const created = answers.map((r) => r.json.id);
  assert.equal(new Set(created).size, N, 'every create got its own id');
  /* Each is readable through the server that did not write it. */
  for (let i = 0; i < N; i++) {
    const other = i % 2 === 0 ? adminB : adminA;
    const p = expectStatus(await other.get(`/api/v1/people/${created[i]}`), 200).json;
    assert.equal(p.name, `并发${tag}-${i}`);
  }
  const audit = await listAll(adminA, `/api/v1/audit?org=${ids.schoolA2}`, 500);
  const rows = audit.filter((e) => e.action === 'person.create' && created.includes(e.object_id));
  assert.equal(rows.length, N, 'one person.create audit row per person');
  assert.equal(new Set(rows.map((e) => e.id)).size, N, 'audit rows with unique ids');
  assert.deepEqual(new Set(rows.map((e) => e.object_id)), new Set(created));
});
