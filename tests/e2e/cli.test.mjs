// The command line end to end: --help and usage errors of every subcommand, the demo city's
// determinism for a seed, accounts made and changed from the shell (and what that does to a
// running server), an online backup taken while the server is being written to, and the mode
// of the citizen-ID key file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ADMIN_PW, DEMO_PW, Client, createDemoDb, expectStatus, listAll, loginAs, makeCitizenId, serveDb, uniq,
} from './lib/server.mjs';
import { runCli, expectExit } from './lib/cli.mjs';

let tmp;
/* Two cities from seed 11 (A1, A2) and one from seed 12 (B); A1's server also takes the
 * accounts made by `user add`. */
const SEED_A = '11';
const SEED_B = '12';
const cities = {};
const servers = [];

async function makeCity(name, seed, { adminPassword } = {}) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const db = path.join(dir, 'city.db');
  const args = ['demo', '--db', db, '--scale', 'small', '--seed', seed, '--demo-password', DEMO_PW];
  if (adminPassword) args.push('--admin-password', adminPassword);
  const res = expectExit(await runCli(args, { cwd: dir }), 0, `demo ${name}`);
  return { dir, db, res };
}

/** The admin password `demo` printed, asserting it appears exactly once in all its output. */
function printedAdminPassword(res) {
  const m = /password (\S+) \(shown once\)/.exec(res.stdout);
  assert.ok(m, `demo without --admin-password printed no password:\n${res.stdout}\n${res.stderr}`);
  const all = res.stdout + res.stderr;
  assert.equal(all.split(m[1]).length - 1, 1, 'the generated password must be printed exactly once');
  return m[1];
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-cli-'));
  const [a1, a2, b] = await Promise.all([
    makeCity('a1', SEED_A), makeCity('a2', SEED_A), makeCity('b', SEED_B, { adminPassword: ADMIN_PW })]);
  a1.adminPw = printedAdminPassword(a1.res);
  a2.adminPw = printedAdminPassword(a2.res);
  b.adminPw = ADMIN_PW;
  Object.assign(cities, { a1, a2, b });
  for (const c of [a1, a2, b]) {
    c.srv = await serveDb(c.db);
    servers.push(c.srv);
  }
});

after(async () => {
  /* Stop every server even when one of them fails its clean-exit check. */
  const results = await Promise.allSettled(servers.map((s) => s.stop()));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  for (const r of results) if (r.status === 'rejected') throw r.reason;
});

/* ---- usage ------------------------------------------------------------------------------ */

test('every command and subcommand answers --help with its usage on stdout and exit 0', async () => {
  const cases = [
    [['--help'], /usage: edubrain COMMAND/],
    [['serve', '--help'], /usage: edubrain serve --db PATH/],
    [['demo', '--help'], /usage: edubrain demo --db PATH/],
    [['backup', '--help'], /usage: edubrain backup --db PATH OUT/],
    [['user', '--help'], /edubrain user add[\s\S]*edubrain user passwd[\s\S]*edubrain user list/],
    [['user', 'add', '--help'], /usage: edubrain user add --db PATH --login L --password P --role ROLE --org ORG_ID/],
    [['user', 'passwd', '--help'], /edubrain user passwd --db PATH --login L --password P/],
    [['user', 'list', '--help'], /edubrain user list --db PATH/],
    [['user', 'reset-totp', '--help'], /edubrain user reset-totp --db PATH --login L/],
    [['migrate', '--help'], /usage: edubrain migrate --from PATH_OR_URL --to PATH_OR_URL/],
  ];
  for (const [args, usage] of cases) {
    const res = expectExit(await runCli(args), 0, args.join(' '));
    assert.match(res.stdout, usage, `${args.join(' ')}: usage on stdout`);
    assert.equal(res.stderr, '', `${args.join(' ')}: nothing on stderr`);
  }
});

test('an unknown command, a missing command and a missing --db exit 2 with the usage on stderr', async () => {
  let res = expectExit(await runCli(['frobnicate']), 2, 'unknown command');
  assert.match(res.stderr, /unknown command 'frobnicate'/);
  assert.match(res.stderr, /usage: edubrain COMMAND/);
  assert.equal(res.stdout, '');
  res = expectExit(await runCli([]), 2, 'no command');
  assert.match(res.stderr, /usage: edubrain COMMAND/);
  res = expectExit(await runCli(['user', 'frob', '--db', cities.a1.db]), 2, 'unknown user subcommand');
  assert.match(res.stderr, /unknown subcommand 'frob'/);
  const noDb = [
    ['serve', '--listen', '127.0.0.1:0'],
    ['demo', '--scale', 'small'],
    ['backup', path.join(tmp, 'never.db')],
    ['user', 'add', '--login', 'x', '--password', 'Abcdefg-12', '--role', 'teacher', '--org', '1'],
    ['user', 'passwd', '--login', 'x', '--password', 'Abcdefg-12'],
    ['user', 'list'],
  ];
  for (const args of noDb) {
    res = expectExit(await runCli(args, { cwd: tmp }), 2, `${args.join(' ')} without --db`);
    assert.match(res.stderr, /usage: edubrain/, `${args.join(' ')}: usage on stderr`);
    assert.equal(res.stdout, '', `${args.join(' ')}: nothing on stdout`);
  }
  assert.ok(!fs.existsSync(path.join(tmp, 'never.db')), 'backup without --db wrote its output');
  /* A missing OUT, an unknown option and a bad --scale are usage errors too. */
  expectExit(await runCli(['backup', '--db', cities.a1.db]), 2, 'backup without OUT');
  expectExit(await runCli(['demo', '--db', path.join(tmp, 'x.db'), '--no-such-option']), 2, 'unknown option');
  res = expectExit(await runCli(['demo', '--db', path.join(tmp, 'x.db'), '--scale', 'huge']), 2, 'bad scale');
  assert.match(res.stderr, /--scale/);
  assert.ok(!fs.existsSync(path.join(tmp, 'x.db')), 'a refused demo created its database');
});

/* ---- demo ------------------------------------------------------------------------------- */

/** The whole org tree (every org's document) and every school's people, through the API. */
async function cityListing(base, adminPw) {
  const admin = await loginAs(base, 'admin', adminPw);
  const root = admin.session.roles.find((r) => r.role === 'city_admin').org.id;
  const orgs = [expectStatus(await admin.get(`/api/v1/orgs/${root}`), 200).json];
  const people = {};
  for (let i = 0; i < orgs.length; i++) {
    const o = orgs[i];
    orgs.push(...await listAll(admin, `/api/v1/orgs/${o.id}/children`, 500));
    if (o.kind === 'school') {
      for (const role of ['student', 'teacher', 'parent']) {
        people[`${o.id}/${role}`] = await listAll(admin, `/api/v1/orgs/${o.id}/people?role=${role}`, 500);
      }
    }
  }
  return { orgs, people };
}

test('demo --seed is deterministic: the same seed gives the same city, another seed another', async () => {
  const [l1, l2, lb] = await Promise.all([
    cityListing(cities.a1.srv.base, cities.a1.adminPw),
    cityListing(cities.a2.srv.base, cities.a2.adminPw),
    cityListing(cities.b.srv.base, cities.b.adminPw)]);
  const schools = l1.orgs.filter((o) => o.kind === 'school');
  assert.ok(schools.length >= 5, `the small city has ${schools.length} schools`);
  const students = Object.entries(l1.people).filter(([k]) => k.endsWith('/student')).flatMap(([, v]) => v);
  assert.ok(students.length >= 1000, `the small city lists ${students.length} students`);
  assert.deepEqual(l2.orgs, l1.orgs, 'seed 11 twice: the org trees differ');
  assert.deepEqual(l2.people, l1.people, 'seed 11 twice: the people differ');
  /* Another seed: other people, not just other ids (school names come from a fixed list). */
  const names = (l) => Object.values(l.people).flat().map((p) => `${p.name}/${p.birth_date}`).sort();
  assert.notDeepEqual(names(lb), names(l1), 'seeds 11 and 12 made the same people');
  /* The account tables match too (the generated admin passwords differ, the rows do not). */
  const [u1, u2] = await Promise.all([
    runCli(['user', 'list', '--db', cities.a1.db]), runCli(['user', 'list', '--db', cities.a2.db])]);
  expectExit(u1, 0, 'user list a1');
  expectExit(u2, 0, 'user list a2');
  assert.equal(u2.stdout, u1.stdout, 'seed 11 twice: user list differs');
});

test('demo without --admin-password prints a generated password once, and it logs in', async () => {
  const { a1, a2 } = cities;
  assert.match(a1.adminPw, /^\S{12,}$/, 'a generated password of at least 12 characters');
  assert.notEqual(a1.adminPw, a2.adminPw, 'two runs generated the same admin password');
  const c = new Client(a1.srv.base);
  const s = await c.mustLogin('admin', a1.adminPw);
  assert.ok(s.roles.some((r) => r.role === 'city_admin'), `admin roles: ${JSON.stringify(s.roles)}`);
  /* The other city's password does not open this one. */
  const wrong = await new Client(a1.srv.base).login('admin', a2.adminPw);
  assert.equal(wrong.status, 401, `a2's admin password on a1: ${wrong.status}`);
  /* With --admin-password nothing is printed on stdout. */
  assert.doesNotMatch(cities.b.res.stdout, /shown once/, 'demo printed a password it was given');
  assert.equal(cities.b.res.stdout.includes(ADMIN_PW), false, 'demo echoed the given admin password');
});

test('demo into a database that already holds a city refuses and changes nothing', async () => {
  const before0 = expectExit(await runCli(['user', 'list', '--db', cities.b.db]), 0, 'user list').stdout;
  const size0 = fs.statSync(cities.b.db).size;
  const res = await runCli(['demo', '--db', cities.b.db, '--scale', 'small', '--seed', '99',
    '--admin-password', 'Other-pass-99']);
  assert.notEqual(res.code, 0, 'demo over an existing city exited 0');
  assert.match(res.stderr, /already holds a city/, `message: ${res.stderr}`);
  assert.doesNotMatch(res.stdout, /shown once/);
  const after0 = expectExit(await runCli(['user', 'list', '--db', cities.b.db]), 0, 'user list').stdout;
  assert.equal(after0, before0, 'the accounts changed');
  assert.ok(fs.statSync(cities.b.db).size >= size0);
  await loginAs(cities.b.srv.base, 'admin', ADMIN_PW);
  const other = await new Client(cities.b.srv.base).login('admin', 'Other-pass-99');
  assert.equal(other.status, 401, 'the refused demo changed the admin password');
});

test('the citizen-ID key file is created with mode 0600, even under umask 000', async () => {
  for (const c of Object.values(cities)) {
    const st = fs.statSync(`${c.db}.key`);
    assert.equal(st.mode & 0o777, 0o600, `${c.db}.key mode ${(st.mode & 0o777).toString(8)}`);
  }
  const dir = path.join(tmp, 'umask');
  fs.mkdirSync(dir);
  const db = path.join(dir, 'u.db');
  const keyFile = path.join(dir, 'elsewhere.key');
  expectExit(await runCli(['demo', '--db', db, '--scale', 'small', '--key-file', keyFile,
    '--admin-password', ADMIN_PW], { umask: '000', cwd: dir }), 0, 'demo under umask 000');
  const mode = fs.statSync(keyFile).mode & 0o777;
  assert.equal(mode, 0o600, `--key-file under umask 000: mode ${mode.toString(8)}`);
  assert.ok(!fs.existsSync(`${db}.key`), 'a default key file was made although --key-file was given');
});

/* ---- accounts --------------------------------------------------------------------------- */

let schoolId;
let districtId;
let otherDistrictId;

async function findOrgs() {
  if (schoolId) return;
  const admin = await loginAs(cities.a1.srv.base, 'admin', cities.a1.adminPw);
  const root = admin.session.roles.find((r) => r.role === 'city_admin').org.id;
  const districts = (await listAll(admin, `/api/v1/orgs/${root}/children`, 500)).filter((o) => o.kind === 'district');
  assert.ok(districts.length >= 2);
  districtId = districts[0].id;
  otherDistrictId = districts[1].id;
  const schools = (await listAll(admin, `/api/v1/orgs/${districtId}/children`, 500)).filter((o) => o.kind === 'school');
  schoolId = schools[0].id;
}

const tag = uniq();
const SA_LOGIN = `cli_sa_${tag}`;
const AN_LOGIN = `cli_an_${tag}`;
const SA_PW = 'School-admin-7';
const AN_PW = 'Analyst-pass-8';

test('user add (password given and read from stdin) makes accounts that log in with their role', async () => {
  await findOrgs();
  const db = cities.a1.db;
  let res = expectExit(await runCli(['user', 'add', '--db', db, '--login', SA_LOGIN, '--password', SA_PW,
    '--role', 'school_admin', '--org', String(schoolId), '--name', '校管理员']), 0, 'user add');
  assert.match(res.stdout, new RegExp(`${SA_LOGIN} \\(school_admin at org ${schoolId}\\)`));
  res = expectExit(await runCli(['user', 'add', '--db', db, '--login', AN_LOGIN, '--password', '-',
    '--role', 'analyst', '--org', String(districtId)], { input: `${AN_PW}\n` }), 0, 'user add, password on stdin');
  assert.doesNotMatch(res.stdout + res.stderr, new RegExp(AN_PW), 'the password was echoed');

  /* The running server sees both accounts at once. */
  const base = cities.a1.srv.base;
  const sa = await loginAs(base, SA_LOGIN, SA_PW);
  assert.equal(sa.session.user.login, SA_LOGIN);
  assert.equal(sa.session.user.display_name, '校管理员');
  assert.deepEqual(sa.session.roles.map((r) => [r.role, r.org.id]), [['school_admin', schoolId]]);
  expectStatus(await sa.get(`/api/v1/orgs/${schoolId}`), 200, 'school_admin reads its school');
  expectStatus(await sa.get(`/api/v1/orgs/${otherDistrictId}`), 404, 'school_admin outside its school');
  const an = await loginAs(base, AN_LOGIN, AN_PW);
  assert.deepEqual(an.session.roles.map((r) => [r.role, r.org.id]), [['analyst', districtId]]);
  expectStatus(await an.get(`/api/v1/orgs/${schoolId}`), 200, 'analyst reads in its district');
  /* The analyst is read-only. */
  const w = await an.post('/api/v1/people', { org_id: schoolId, name: '只读', sex: 'male', birth_date: '2012-01-01' });
  assert.ok([403, 404].includes(w.status), `analyst wrote a person: ${w.status} ${w.text}`);
  /* A password with a trailing newline from stdin is not part of the password. */
  assert.equal((await new Client(base).login(AN_LOGIN, `${AN_PW}\n`)).status, 401);
});

test('user add refuses a wrong role, an unknown org, a role that does not fit, a taken login and a weak password', async () => {
  await findOrgs();
  const db = cities.a1.db;
  const add = (login, role, org, pw = 'Good-pass-123') => runCli(['user', 'add', '--db', db, '--login', login,
    '--password', pw, '--role', role, '--org', String(org)]);
  const listBefore = expectExit(await runCli(['user', 'list', '--db', db]), 0, 'list').stdout;
  const cases = [
    [await add(`bad1_${tag}`, 'wizard', schoolId), 2, /unknown role 'wizard'/],
    [await add(`bad2_${tag}`, 'teacher', 987654321), 1, /no org 987654321/],
    [await add(`bad3_${tag}`, 'teacher', districtId), 1, /role teacher does not fit org/],
    [await add(SA_LOGIN, 'teacher', schoolId), 1, new RegExp(`login '${SA_LOGIN}' is taken`)],
    [await add(`bad4_${tag}`, 'teacher', schoolId, 'short'), 2, /password refused/],
    [await add(`bad5_${tag}`, 'teacher', 'abc'), 2, /--org takes a positive id/],
  ];
  for (const [res, code, msg] of cases) {
    expectExit(res, code, `refused add (${msg})`);
    assert.match(res.stderr, msg, `message: ${res.stderr}`);
    assert.equal(res.stdout, '', `a refused add printed on stdout: ${res.stdout}`);
  }
  const listAfter = expectExit(await runCli(['user', 'list', '--db', db]), 0, 'list').stdout;
  assert.equal(listAfter, listBefore, 'a refused user add left an account behind');
  /* The taken login still has its own password and role. */
  const sa = await loginAs(cities.a1.srv.base, SA_LOGIN, SA_PW);
  assert.deepEqual(sa.session.roles.map((r) => r.role), ['school_admin']);
});

test('user passwd changes the password and ends the live sessions of that account only', async () => {
  const base = cities.a1.srv.base;
  const db = cities.a1.db;
  const victim = await loginAs(base, SA_LOGIN, SA_PW);
  const bystander = await loginAs(base, AN_LOGIN, AN_PW);
  expectStatus(await victim.get('/api/v1/me'), 200, 'session before passwd');
  const NEW_PW = 'Changed-pass-42';
  const res = expectExit(await runCli(['user', 'passwd', '--db', db, '--login', SA_LOGIN, '--password', '-'],
    { input: `${NEW_PW}\n` }), 0, 'user passwd');
  assert.match(res.stdout, new RegExp(`password of ${SA_LOGIN} changed`));
  const me = await victim.get('/api/v1/me');
  assert.equal(me.status, 401, `a session opened before user passwd answered ${me.status} ${me.text}`);
  expectStatus(await bystander.get('/api/v1/me'), 200, 'another account\'s session survives');
  assert.equal((await new Client(base).login(SA_LOGIN, SA_PW)).status, 401, 'the old password still logs in');
  await loginAs(base, SA_LOGIN, NEW_PW);
  /* An unknown login and a weak password are refused. */
  let bad = expectExit(await runCli(['user', 'passwd', '--db', db, '--login', `nobody_${tag}`,
    '--password', 'Good-pass-123']), 1, 'passwd unknown login');
  assert.match(bad.stderr, /no login/);
  bad = expectExit(await runCli(['user', 'passwd', '--db', db, '--login', SA_LOGIN, '--password', 'abc']), 2,
    'passwd weak');
  assert.match(bad.stderr, /password refused/);
  await loginAs(base, SA_LOGIN, NEW_PW);
});

test('user list lists every login with its roles', async () => {
  await findOrgs();
  const res = expectExit(await runCli(['user', 'list', '--db', cities.a1.db]), 0, 'user list');
  const lines = res.stdout.trim().split('\n');
  assert.match(lines[0], /^id\s+login\s+roles\s+name/);
  const rows = Object.fromEntries(lines.slice(1).map((l) => {
    const f = l.trim().split(/\s+/);
    return [f[1], f[2]];
  }));
  for (const login of ['admin', 'district1', 'school1', 'teacher1', 'student1', 'parent1', 'analyst1']) {
    assert.ok(rows[login], `user list lacks ${login}:\n${res.stdout}`);
  }
  assert.match(rows.admin, /^city_admin@\d+$/);
  assert.match(rows.district1, /^district_admin@\d+$/);
  assert.equal(rows[SA_LOGIN], `school_admin@${schoolId}`);
  assert.equal(rows[AN_LOGIN], `analyst@${districtId}`);
  /* The listing agrees with the API's account list. */
  const admin = await loginAs(cities.a1.srv.base, 'admin', cities.a1.adminPw);
  const api = await listAll(admin, '/api/v1/accounts', 500);
  assert.deepEqual(Object.keys(rows).sort(), api.map((a) => a.login).sort(), 'user list vs GET /api/v1/accounts');
});

/* ---- backup ----------------------------------------------------------------------------- */

test('backup while the server is being written to gives a consistent copy that serves', async () => {
  const dir = path.join(tmp, 'bk');
  fs.mkdirSync(dir);
  const db = await createDemoDb(dir);
  const src = await serveDb(db);
  servers.push(src);
  const admin = await loginAs(src.base, 'admin');
  const root = admin.session.roles.find((r) => r.role === 'city_admin').org.id;
  const district = (await listAll(admin, `/api/v1/orgs/${root}/children`, 500)).find((o) => o.kind === 'district');
  const school = (await listAll(admin, `/api/v1/orgs/${district.id}/children`, 500)).find((o) => o.kind === 'school');

  /* Two writers, each strictly sequential: writer w's i-th person is committed before its
   * (i+1)-th is sent, so a consistent snapshot holds a prefix of each writer's list. */
  const created = [[], []];
  let stop = false;
  let n = 0;
  async function writer(w) {
    const c = await loginAs(src.base, 'admin');
    while (!stop) {
      const i = n++;
      const seq = String(101 + 2 * (i % 400)).padStart(3, '0');
      const day = String(1 + Math.floor(i / 400)).padStart(2, '0');
      const cid = makeCitizenId('376031', `2011-03-${day}`, seq);
      const res = expectStatus(await c.post('/api/v1/people', {
        org_id: school.id, name: `备份${w}-${i}`, sex: 'male', birth_date: `2011-03-${day}`, citizen_id: cid,
      }), 201, 'person during backup');
      created[w].push(res.json.id);
    }
  }
  const writers = [writer(0), writer(1)];
  const total = () => created[0].length + created[1].length;
  while (total() < 10) await new Promise((r) => setTimeout(r, 5));
  const out = path.join(tmp, 'backup.db');
  const lenBefore = created.map((l) => l.length);
  const bk = await runCli(['backup', '--db', db, out]);
  const lenAfter = created.map((l) => l.length);
  const target = total() + 10;
  while (total() < target) await new Promise((r) => setTimeout(r, 5));
  stop = true;
  await Promise.all(writers);
  expectExit(bk, 0, 'backup');
  assert.match(bk.stderr, /key file is not in it/, 'backup reminds that the key is separate');
  assert.ok(fs.statSync(out).size > 100000, 'the backup is not empty');

  /* The copy serves with the same key file. */
  const copy = await serveDb(out, { cwd: dir, extraArgs: ['--key-file', `${db}.key`] });
  servers.push(copy);
  const cadmin = await loginAs(copy.base, 'admin');
  const visible = [];
  for (let w = 0; w < 2; w++) {
    const seen = [];
    for (const id of created[w]) seen.push((await cadmin.get(`/api/v1/people/${id}`)).status);
    assert.ok(seen.every((s) => s === 200 || s === 404), `statuses in the copy: ${seen}`);
    const k = seen.indexOf(404) === -1 ? seen.length : seen.indexOf(404);
    assert.ok(seen.slice(k).every((s) => s === 404),
      `writer ${w}: the copy holds a person created after one it lacks: ${seen.join(',')}`);
    assert.ok(k >= lenBefore[w] && k <= lenAfter[w],
      `writer ${w}: the copy holds ${k} of its people; ${lenBefore[w]} existed when the backup started, ${
        lenAfter[w]} when it ended`);
    visible.push(...created[w].slice(0, k));
  }
  /* What the copy holds equals the source, key included (full IDs decrypt). */
  const sample = visible.length ? [visible[0], visible[visible.length - 1]] : [];
  for (const id of sample) {
    const a = expectStatus(await admin.get(`/api/v1/people/${id}?pii=1`), 200).json;
    const b = expectStatus(await cadmin.get(`/api/v1/people/${id}?pii=1`), 200).json;
    assert.deepEqual(b, a, `person ${id} differs in the copy`);
    assert.match(b.citizen_id, /^376031\d{11}[\dX]$/, 'the copy decrypts the ID with the same key');
  }
  const [srcTree, copyTree] = await Promise.all([
    listAll(admin, `/api/v1/orgs/${district.id}/children`, 500),
    listAll(cadmin, `/api/v1/orgs/${district.id}/children`, 500)]);
  assert.deepEqual(copyTree, srcTree, 'the org tree differs in the copy');
  const [srcStudents, copyStudents] = await Promise.all([
    listAll(admin, `/api/v1/orgs/${school.id}/people?role=student`, 500),
    listAll(cadmin, `/api/v1/orgs/${school.id}/people?role=student`, 500)]);
  assert.deepEqual(copyStudents, srcStudents, 'the roster differs in the copy');
  /* The audit log of the copy ends with the creations the copy holds, no more. */
  const audit = expectStatus(await cadmin.get(`/api/v1/audit?org=${root}&limit=100`), 200).json.items
    .filter((e) => e.action === 'person.create');
  const inCopy = new Set(visible);
  const ours = audit.filter((e) => created[0].includes(e.object_id) || created[1].includes(e.object_id));
  assert.ok(ours.every((e) => inCopy.has(e.object_id)), 'the copy audits a creation it does not hold');
  if (visible.length) assert.ok(ours.length > 0, 'the copy holds people but not their audit entries');

  /* A backup onto an existing path refuses and leaves the file alone: the copy itself, and a
   * file that is not a database. */
  const again = await runCli(['backup', '--db', db, out]);
  expectExit(again, 1, 'backup onto the existing copy');
  assert.match(again.stderr, /already exists/);
  const other = path.join(tmp, 'precious.txt');
  fs.writeFileSync(other, 'keep me\n');
  const onto = await runCli(['backup', '--db', db, other]);
  expectExit(onto, 1, 'backup onto an existing file');
  assert.match(onto.stderr, /already exists/);
  assert.equal(fs.readFileSync(other, 'utf8'), 'keep me\n', 'the refused backup changed the existing file');
  await copy.stop();
  await src.stop();
});
