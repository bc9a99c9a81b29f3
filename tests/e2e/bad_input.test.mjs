// Bad input gets a precise 4xx and writes nothing: malformed JSON, invalid UTF-8, bodies over
// the route's limit, unknown/missing/mistyped fields, invalid codes and dates, bad ids in
// paths, wrong content types.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, loginAs, expectStatus, expectError, parseRoutes, rawRequest, makeCitizenId,
  breakCheckChar, listAll, assertErrorsWellFormed,
} from './lib/server.mjs';

let srv;
let admin;
const ids = {};

before(async () => {
  srv = await startServer();
  admin = await loginAs(srv.base, 'admin');
  ids.city = admin.session.roles[0].org.id;
  const school1 = await loginAs(srv.base, 'school1');
  ids.schoolA = school1.session.roles.find((r) => r.role === 'school_admin').org.id;
  const student1 = await loginAs(srv.base, 'student1');
  ids.student1 = student1.session.user.person_id;
  const s = expectStatus(await admin.get(`/api/v1/people/${ids.student1}`), 200).json;
  ids.classA = s.enrolments.find((e) => e.end_date === null).class.id;
  ids.districtA = expectStatus(await admin.get(`/api/v1/orgs/${ids.schoolA}`), 200).json.parent_id;
  const teacher1 = await loginAs(srv.base, 'teacher1');
  ids.teacher1 = teacher1.session.user.person_id;
  const mates = expectStatus(await admin.get(`/api/v1/orgs/${ids.classA}/people?role=student`), 200).json.items;
  ids.classmate = mates.find((p) => p.id !== ids.student1).id;
});

after(async () => {
  if (srv) await srv.stop();
});

/** What a write would change: the newest audit entry and the children of three nodes. */
async function snapshot() {
  const audit = expectStatus(await admin.get(`/api/v1/audit?org=${ids.city}&limit=500`), 200).json.items;
  const maxAudit = audit.reduce((m, e) => Math.max(m, e.id), 0);
  const counts = {};
  for (const k of ['city', 'districtA', 'schoolA']) {
    counts[k] = (await listAll(admin, `/api/v1/orgs/${ids[k]}/children`, 500)).length;
  }
  counts.classStudents = (await listAll(admin, `/api/v1/orgs/${ids.classA}/people?role=student`, 500)).length;
  const person = expectStatus(await admin.get(`/api/v1/people/${ids.student1}`), 200).json;
  return { maxAudit, counts, person };
}

async function assertNothingWritten(before, what) {
  const now = await snapshot();
  assert.equal(now.maxAudit, before.maxAudit, `${what}: a new audit entry appeared (something was written)`);
  assert.deepEqual(now.counts, before.counts, `${what}: the org tree or a roster changed`);
  assert.deepEqual(now.person, before.person, `${what}: student1 changed`);
}

const district = () => ({ parent_id: ids.city, kind: 'district', name: '测试新区', division_code: '376088' });
const school = () => ({
  parent_id: ids.districtA, kind: 'school', name: '测试第九中学', school_code: '3137009001',
  running_type: '311', urban_rural: '111', address: '文化路 9 号', lat: 36.45, lon: 118.95,
});
const person = () => ({
  org_id: ids.schoolA, name: '测试学生', sex: 'male', birth_date: '2013-03-15',
  citizen_id: makeCitizenId('376001', '2013-03-15', '123'),
});

test('reading the audit log and the tree writes nothing (the probe itself is clean)', async () => {
  const a = await snapshot();
  await assertNothingWritten(a, 'two snapshots in a row');
});

test('malformed JSON answers 400 invalid_json and writes nothing', async () => {
  const before0 = await snapshot();
  const bodies = [
    '{"parent_id": 1, "kind": "district",',
    '{parent_id: 1}',
    "{'kind': 'district'}",
    '{"kind": "district"} trailing',
    '',
    '{"a": 1,}',
    '{"name": "x" "kind": "y"}',
  ];
  for (const body of bodies) {
    const res = await admin.request('POST', '/api/v1/orgs', { body, headers: { 'Content-Type': 'application/json' } });
    const e = expectError(res, 400, 'invalid_json', `body ${JSON.stringify(body)}`);
    assert.ok(e.message.length > 10, 'the message should say what is wrong');
  }
  /* A JSON document that is not an object, nested too deep, or with a duplicate key. */
  const notObjects = ['[]', '"district"', '42', 'null', '[{"kind":"district"}]'];
  for (const body of notObjects) {
    const res = await admin.request('POST', '/api/v1/orgs', { body, headers: { 'Content-Type': 'application/json' } });
    expectError(res, 400, ['invalid_json', 'bad_request'], `body ${body}`);
  }
  const deep = `${'{"a":'.repeat(200)}1${'}'.repeat(200)}`;
  let res = await admin.request('POST', '/api/v1/orgs', { body: deep, headers: { 'Content-Type': 'application/json' } });
  expectError(res, 400, ['invalid_json', 'bad_request'], 'nesting 200 deep');
  const dup = '{"parent_id":1,"kind":"district","name":"甲","name":"乙","division_code":"376088"}'
    .replace('"parent_id":1', `"parent_id":${ids.city}`);
  res = await admin.request('POST', '/api/v1/orgs', { body: dup, headers: { 'Content-Type': 'application/json' } });
  expectError(res, 400, ['invalid_json', 'bad_request'], 'duplicate key');
  /* Malformed JSON on the login route too. */
  res = await admin.request('POST', '/api/v1/session', { body: '{"login":', headers: { 'Content-Type': 'application/json' }, csrf: false });
  expectError(res, 400, 'invalid_json', 'login');
  await assertNothingWritten(before0, 'malformed JSON');
});

test('invalid UTF-8 in a JSON body answers 400 and writes nothing', async () => {
  const before0 = await snapshot();
  const d = district();
  const bad = [
    Buffer.from([0xff, 0xfe]),            /* never valid */
    Buffer.from([0xc0, 0xaf]),            /* overlong '/' */
    Buffer.from([0xe6, 0xb5]),            /* truncated 3-byte sequence */
    Buffer.from([0xed, 0xa0, 0x80]),      /* an encoded surrogate */
    Buffer.from([0xf4, 0x90, 0x80, 0x80]), /* above U+10FFFF */
  ];
  for (const bytes of bad) {
    const body = Buffer.concat([
      Buffer.from(`{"parent_id":${d.parent_id},"kind":"district","name":"测试`),
      bytes,
      Buffer.from(`区","division_code":"${d.division_code}"}`),
    ]);
    const res = await admin.request('POST', '/api/v1/orgs', { body, headers: { 'Content-Type': 'application/json' } });
    expectError(res, 400, ['invalid_json', 'invalid_field', 'bad_request'], `bytes ${bytes.toString('hex')}`);
  }
  /* A lone surrogate written as a JSON escape is not a character either. */
  const esc = `{"parent_id":${d.parent_id},"kind":"district","name":"\\ud800","division_code":"376088"}`;
  const res = await admin.request('POST', '/api/v1/orgs', { body: esc, headers: { 'Content-Type': 'application/json' } });
  expectError(res, 400, ['invalid_json', 'invalid_field', 'bad_request'], 'escaped lone surrogate');
  /* A NUL inside a string would cut it short in C. */
  const nul = `{"parent_id":${d.parent_id},"kind":"district","name":"测试\\u0000区","division_code":"376088"}`;
  const res2 = await admin.request('POST', '/api/v1/orgs', { body: nul, headers: { 'Content-Type': 'application/json' } });
  expectError(res2, 400, ['invalid_json', 'invalid_field', 'bad_request'], 'escaped NUL');
  await assertNothingWritten(before0, 'invalid UTF-8');
});

/* declaredOnly: declare the whole body's length but send only its first KiB. The server refuses
 * an oversized declared length before reading the body; sending megabytes it will not read only
 * races its close (the client's write then fails with EPIPE before the answer is read). */
function rawPost(url, body, { chunked = false, contentType = 'application/json', method = 'POST', declaredOnly = false } = {}) {
  const head = [
    `${method} ${url} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Cookie: ${admin.cookieHeader()}`,
    `X-CSRF-Token: ${admin.csrf}`,
    `Content-Type: ${contentType}`,
    chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`,
    'Connection: close',
    '', '',
  ].join('\r\n');
  let payload = declaredOnly ? body.subarray(0, 1024) : body;
  if (chunked) {
    const parts = [];
    for (let i = 0; i < body.length; i += 1000) {
      const c = body.subarray(i, i + 1000);
      parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('0\r\n\r\n'));
    payload = Buffer.concat(parts);
  }
  return rawRequest(srv.port, Buffer.concat([Buffer.from(head), payload]));
}

/** A JSON object body of exactly n bytes: {"name":"xxxx..."}. */
function jsonOfSize(n, key = 'name') {
  const pad = n - `{"${key}":""}`.length;
  return Buffer.from(`{"${key}":"${'x'.repeat(pad)}"}`);
}

test('a body over the route\'s limit answers 413 too_large, declared or chunked, on every JSON route', async () => {
  const before0 = await snapshot();
  const routes = parseRoutes().filter((r) => r.flags.includes('EB_ROUTE_JSON'));
  assert.ok(routes.length >= 8);
  for (const r of routes) {
    const url = r.pattern.replaceAll(/\{\w+\}/g, String(ids.classA));
    const body = jsonOfSize(r.bodyMax + 1);
    const res = await rawPost(url, body, { method: r.method, declaredOnly: body.length > 64 * 1024 });
    assert.equal(res.status, 413, `${r.method} ${r.pattern} with ${body.length} bytes (limit ${r.bodyMax}): got ${res.status} ${res.body}`);
    assert.equal(JSON.parse(res.body.toString()).error.code, 'too_large');
  }
  /* Without a declared length (chunked), the limit still holds. */
  let res = await rawPost('/api/v1/orgs', jsonOfSize(20 * 1024), { chunked: true });
  assert.equal(res.status, 413, `chunked 20 KiB to POST /api/v1/orgs: ${res.status} ${res.body}`);
  res = await rawPost('/api/v1/session', jsonOfSize(5000, 'login'), { chunked: true });
  assert.equal(res.status, 413, `chunked 5000 bytes to POST /api/v1/session: ${res.status}`);
  /* A body of exactly the limit is read and judged on its content, not its size. */
  res = await rawPost('/api/v1/session', jsonOfSize(4096, 'login'));
  assert.equal(res.status, 400, `4096 bytes to POST /api/v1/session: ${res.status} ${res.body}`);
  /* A huge declared length is refused before it is sent. */
  const head = `POST /api/v1/orgs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{`;
  res = await rawRequest(srv.port, head);
  assert.equal(res.status, 413, `declared 10 GB: ${res.status}`);
  expectStatus(await admin.get('/healthz'), 200);
  await assertNothingWritten(before0, 'too large');
});

test('unknown, missing and mistyped fields answer 400 with the field named, and write nothing', async () => {
  const before0 = await snapshot();
  const cases = [
    ['unknown field', { ...district(), colour: 'red' }, 'unknown_field', /colour/],
    ['unknown nested-looking field', { ...district(), 'school.code': '1' }, 'unknown_field', /school\.code/],
    ['missing name', (({ name, ...x }) => x)(district()), 'missing_field', /name/],
    ['missing kind', (({ kind, ...x }) => x)(district()), 'missing_field', /kind/],
    ['missing parent_id', (({ parent_id, ...x }) => x)(district()), 'missing_field', /parent_id/],
    ['missing division_code of a district', (({ division_code, ...x }) => x)(district()), 'missing_field', /division_code/],
    ['parent_id as a string', { ...district(), parent_id: String(ids.city) }, 'invalid_field', /parent_id/],
    ['parent_id as a fraction', { ...district(), parent_id: ids.city + 0.5 }, 'invalid_field', /parent_id/],
    ['name as a number', { ...district(), name: 42 }, 'invalid_field', /name/],
    ['name null', { ...district(), name: null }, 'invalid_field', /name/],
    ['name blank', { ...district(), name: '   ' }, 'invalid_field', /name/],
    ['name too long', { ...district(), name: '区'.repeat(200) }, 'invalid_field', /name/],
    ['lat as a string', { ...school(), lat: '36.4' }, 'invalid_field', /lat/],
    ['stages not an array', { ...school(), stages: 'junior' }, 'invalid_field', /stages/],
    ['unknown kind', { ...district(), kind: 'province' }, 'invalid_field', /kind/],
    ['a school directly under the city', { ...school(), parent_id: ids.city }, 'invalid_field', /kind/],
  ];
  for (const [what, body, code, mention] of cases) {
    const e = expectError(await admin.post('/api/v1/orgs', body), 400, code, what);
    assert.match(e.message, mention, `${what}: the message should name the field: ${e.message}`);
  }
  /* The same rules hold for people. */
  const pc = [
    ['unknown field', { ...person(), nickname: 'x' }, 'unknown_field', /nickname/],
    ['missing birth_date', (({ birth_date, ...x }) => x)(person()), 'missing_field', /birth_date/],
    ['org_id as a string', { ...person(), org_id: 'abc' }, 'invalid_field', /org_id/],
    ['sex not male or female', { ...person(), sex: 'm' }, 'invalid_field', /sex/],
  ];
  for (const [what, body, code, mention] of pc) {
    const e = expectError(await admin.post('/api/v1/people', body), 400, code, `person ${what}`);
    assert.match(e.message, mention, `person ${what}: ${e.message}`);
  }
  /* And for login. */
  expectError(await admin.request('POST', '/api/v1/session', { json: { login: 'admin' }, csrf: false }), 400, 'missing_field', 'login without password');
  expectError(await admin.request('POST', '/api/v1/session', { json: { login: 'admin', password: 1 }, csrf: false }), 400, 'invalid_field', 'numeric password');
  await assertNothingWritten(before0, 'field errors');
});

test('invalid codes and dates answer 400 invalid_field naming the field, and write nothing', async () => {
  const before0 = await snapshot();
  const good = person();
  const cases = [
    ['/api/v1/people', { ...good, citizen_id: breakCheckChar(good.citizen_id) }, /citizen_id/, 'wrong check digit'],
    ['/api/v1/people', { ...good, citizen_id: good.citizen_id.slice(0, 17) }, /citizen_id/, '17 characters'],
    ['/api/v1/people', { ...good, citizen_id: makeCitizenId('376001', '2013-02-30', '123'), birth_date: '2013-03-15' }, /citizen_id/, 'Feb 30 inside the ID'],
    ['/api/v1/people', { ...good, citizen_id: makeCitizenId('006001', '2013-03-15', '123') }, /citizen_id/, 'region 00'],
    ['/api/v1/people', { ...good, birth_date: '2013-02-30', citizen_id: undefined }, /birth_date/, 'Feb 30'],
    ['/api/v1/people', { ...good, birth_date: '2013-13-01', citizen_id: undefined }, /birth_date/, 'month 13'],
    ['/api/v1/people', { ...good, birth_date: '2013-3-5', citizen_id: undefined }, /birth_date/, 'no leading zeros'],
    ['/api/v1/people', { ...good, birth_date: '2100-02-29', citizen_id: undefined }, /birth_date/, '2100 is not a leap year'],
    ['/api/v1/people', { ...good, birth_date: '2012-03-15' }, /birth_date/, 'birth date differs from the ID'],
    ['/api/v1/people', { ...good, sex: 'female' }, /sex/, 'sex differs from the ID'],
    ['/api/v1/people', { ...good, student_no: 'G110105194912310021' }, /student_no/, 'G number with a bad ID'],
    ['/api/v1/people', { ...good, phone: 'call me' }, /phone/, 'phone'],
    ['/api/v1/orgs', { ...school(), school_code: '9937000001' }, /school_code/, 'unknown school category'],
    ['/api/v1/orgs', { ...school(), school_code: '313700900' }, /school_code/, '9-digit school code'],
    ['/api/v1/orgs', { ...school(), school_code: '31370090AB' }, /school_code/, 'letters in the school code'],
    ['/api/v1/orgs', { ...school(), running_type: '999' }, /running_type/, 'unknown running type'],
    ['/api/v1/orgs', { ...school(), running_type: '31' }, /running_type/, 'short running type'],
    ['/api/v1/orgs', { ...school(), urban_rural: '999' }, /urban_rural/, 'unknown urban/rural code'],
    ['/api/v1/orgs', { ...school(), lat: 91, lon: 118 }, /lat/, 'latitude out of range'],
    ['/api/v1/orgs', { ...school(), stages: ['kindergarten'] }, /stages/, 'unknown stage'],
    ['/api/v1/orgs', { ...district(), division_code: '996001' }, /division_code/, 'unknown province'],
    ['/api/v1/orgs', { ...district(), division_code: '37600' }, /division_code/, '5-digit division code'],
    ['/api/v1/enrolments', { person_id: ids.student1, class_id: ids.classA, start_date: '2026-02-30' }, /start_date/, 'Feb 30 start'],
    ['/api/v1/enrolments', { person_id: ids.student1, class_id: ids.classA, start_date: '2026/09/01' }, /start_date/, 'slashes'],
    /* Ids of the wrong kind: the field is named and the kinds are said. */
    ['/api/v1/enrolments', { person_id: ids.student1, class_id: ids.schoolA, start_date: '2026-09-01' }, /class_id.*school.*class/, 'enrol into a school'],
    ['/api/v1/enrolments', { person_id: ids.teacher1, class_id: ids.classA, start_date: '2026-09-01' }, /person_id.*teacher.*student/, 'enrol a teacher'],
    ['/api/v1/posts', { person_id: ids.student1, school_id: ids.schoolA, title: '专任教师', start_date: '2026-09-01' }, /person_id.*student/, 'post a student'],
    ['/api/v1/posts', { person_id: ids.teacher1, school_id: ids.classA, title: '专任教师', start_date: '2026-09-01' }, /school_id.*class.*school/, 'post at a class'],
    ['/api/v1/guardians', { parent_id: ids.classmate, student_id: ids.student1, relation: '父亲', start_date: '2026-09-01' }, /parent_id.*student/, 'a student as guardian'],
    ['/api/v1/people', { ...good, kind: 'alien' }, /kind/, 'unknown person kind'],
  ];
  for (const [url, body, mention, what] of cases) {
    const b = JSON.parse(JSON.stringify(body)); /* drops undefined members */
    const e = expectError(await admin.post(url, b), 400, 'invalid_field', what);
    assert.match(e.message, mention, `${what}: the message should name the field: ${e.message}`);
  }
  const e = expectError(await admin.patch(`/api/v1/people/${ids.student1}`, { birth_date: '2013-02-30' }), 400, 'invalid_field', 'PATCH Feb 30');
  assert.match(e.message, /birth_date/);
  expectError(await admin.patch(`/api/v1/orgs/${ids.schoolA}`, { running_type: '999' }), 400, 'invalid_field', 'PATCH running type');
  expectError(await admin.patch(`/api/v1/orgs/${ids.schoolA}`, { colour: 'red' }), 400, 'unknown_field', 'PATCH unknown field');
  await assertNothingWritten(before0, 'invalid codes');
});

test('ids in paths: non-numeric, zero, negative, huge or padded ids answer 404 (or 400), never 500', async () => {
  const bad = ['abc', '0', '-1', '1.5', '1e3', '0x10', '+1', ' 1', '01', '9007199254740992',
    '99999999999999999999', '18446744073709551617', '1;DROP'];
  const templates = ['/api/v1/orgs/ID', '/api/v1/orgs/ID/children', '/api/v1/orgs/ID/people', '/api/v1/people/ID'];
  for (const t of templates) {
    for (const id of bad) {
      const url = t.replace('ID', encodeURIComponent(id));
      const res = await admin.get(url);
      expectError(res, [404, 400], undefined, `GET ${url}`);
    }
  }
  const before0 = await snapshot();
  for (const id of ['abc', '0', '99999999999999999999']) {
    expectError(await admin.patch(`/api/v1/orgs/${id}`, { name: '改名' }), [404, 400], undefined, `PATCH orgs/${id}`);
    expectError(await admin.patch(`/api/v1/people/${id}`, { name: '改名' }), [404, 400], undefined, `PATCH people/${id}`);
    expectError(await admin.post(`/api/v1/enrolments/${id}/end`, { end_date: '2027-01-01' }), [404, 400], undefined, `end enrolment ${id}`);
    expectError(await admin.post(`/api/v1/posts/${id}/end`, { end_date: '2027-01-01' }), [404, 400], undefined, `end post ${id}`);
  }
  /* Ids in bodies: zero, negative and unknown ones refer to nothing. */
  for (const pid of [0, -5, 999999999, 2 ** 53]) {
    const res = await admin.post('/api/v1/orgs', { ...district(), parent_id: pid });
    expectError(res, [400, 404], undefined, `parent_id ${pid}`);
  }
  await assertNothingWritten(before0, 'bad ids');
});

test('list arguments out of range answer 400 bad_request', async () => {
  for (const q of ['limit=0', 'limit=501', 'limit=abc', 'limit=-1', 'after=-1', 'after=x', 'limit=1e2']) {
    expectError(await admin.get(`/api/v1/orgs/${ids.city}/children?${q}`), 400, 'bad_request', q);
  }
  expectError(await admin.get(`/api/v1/orgs/${ids.classA}/people?role=admin`), 400, 'bad_request', 'role=admin');
  expectError(await admin.get('/api/v1/audit?org=abc'), 400, 'bad_request', 'audit org=abc');
  expectError(await admin.get('/api/v1/accounts?limit=0'), 400, 'bad_request', 'accounts limit=0');
  /* The limits themselves are fine. */
  expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/children?limit=500`), 200);
  expectStatus(await admin.get(`/api/v1/orgs/${ids.city}/children?limit=1`), 200);
});

test('a body that is not application/json answers 415 and writes nothing', async () => {
  const before0 = await snapshot();
  const body = JSON.stringify(district());
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'multipart/form-data; boundary=x', 'application/xml']) {
    const res = await admin.request('POST', '/api/v1/orgs', { body, headers: { 'Content-Type': ct } });
    expectError(res, 415, undefined, `Content-Type ${ct}`);
  }
  /* No Content-Type at all (fetch would add text/plain to a string body, so send raw). */
  const raw = await rawRequest(srv.port, [
    'POST /api/v1/orgs HTTP/1.1', 'Host: 127.0.0.1', `Cookie: ${admin.cookieHeader()}`,
    `X-CSRF-Token: ${admin.csrf}`, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', body,
  ].join('\r\n'));
  assert.equal(raw.status, 415, `no Content-Type: ${raw.status} ${raw.body}`);
  /* A login form post is refused too: only JSON logs in. */
  const form = await admin.request('POST', '/api/v1/session', {
    body: 'login=admin&password=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, csrf: false,
  });
  expectError(form, 415, undefined, 'form login');
  await assertNothingWritten(before0, 'content types');
});

test('control: a valid write does change the snapshot (so the checks above can fail)', async () => {
  const before0 = await snapshot();
  const res = await admin.request('POST', '/api/v1/orgs', {
    body: JSON.stringify(district()), headers: { 'Content-Type': 'application/json; charset=utf-8' },
  });
  expectStatus(res, 201, 'valid district with a charset parameter');
  const now = await snapshot();
  assert.equal(now.counts.city, before0.counts.city + 1);
  assert.ok(now.maxAudit > before0.maxAudit, 'the write should be in the audit log');
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
