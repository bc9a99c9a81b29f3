// The demo history (`edubrain demo --history term`) and the brain's registry feeds: the school
// days written, the absence and after-school rates within their bands, the same rows for the same
// seed, and students.enrolled following a new enrolment the next time the feeds run (at server
// start and through `edubrain feeds run`). Rows are read with sqlite3 on the file (psql on
// PostgreSQL), the way an auditor would, not through the code under test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BIN, ADMIN_PW, DEMO_PW, PG_BASE, pgAdmin, pgDsn, serveDb, loginAs, expectStatus,
  makeCitizenId, assertErrorsWellFormed,
} from './lib/server.mjs';

const SANITIZER_RE = /runtime error|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer/;
const PSQL = process.env.EDUBRAIN_PSQL || (fs.existsSync('/usr/lib/postgresql/15/bin/psql')
  ? '/usr/lib/postgresql/15/bin/psql' : 'psql');
/* A fixed last day keeps the expected calendar independent of the day the test runs. */
const UNTIL = '2026-11-27';

function run(file, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 256 << 20, timeout: 240000, ...opts }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\n--- stderr ---\n${stderr}`;
        reject(err);
      } else {
        assert.doesNotMatch(stderr, SANITIZER_RE, `${args[0]} printed a sanitizer report:\n${stderr}`);
        resolve({ stdout, stderr });
      }
    });
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-history-'));
const dbs = []; /* { db, keyArgs, drop } */

/** A small demo city with a history: a SQLite file here, or a fresh PostgreSQL database. */
async function makeCity(name, extra) {
  let db;
  let keyArgs = [];
  let drop = async () => {};
  if (PG_BASE) {
    const dbName = `eb_hist_${process.pid}_${name}_${Date.now().toString(36)}`;
    await pgAdmin(`CREATE DATABASE ${dbName}`);
    db = pgDsn(dbName);
    keyArgs = ['--key-file', path.join(dir, `${name}.key`)];
    drop = () => pgAdmin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  } else {
    db = path.join(dir, `${name}.db`);
  }
  const city = { db, keyArgs, drop };
  dbs.push(city);
  const { stderr } = await run(BIN, ['demo', '--db', db, ...keyArgs, '--scale', 'small', '--admin-password', ADMIN_PW,
    '--demo-password', DEMO_PW, '--history-until', UNTIL, ...extra], { cwd: dir });
  city.demoLog = stderr;
  return city;
}

/** Rows of a query as arrays of strings (| separated). */
async function sql(city, query) {
  const res = PG_BASE
    ? await run(PSQL, ['-X', '-q', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-d', city.db, '-c', query])
    : await run('sqlite3', ['-batch', '-separator', '|', city.db, query]);
  return res.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

async function one(city, query) {
  const rows = await sql(city, query);
  assert.equal(rows.length, 1, `one row expected from ${query}`);
  return rows[0].length === 1 ? rows[0][0] : rows[0];
}

function el(code) {
  return `(SELECT id FROM data_elements WHERE code = '${code}')`;
}

/* Days since 1970-01-01 of a YYYY-MM-DD date, and back. */
const dayOf = (ymd) => Math.round(Date.parse(`${ymd}T00:00:00Z`) / 86400000);
const ymdOf = (d) => new Date(d * 86400000).toISOString().slice(0, 10);

/* The expected school days: Monday to Friday from the term's start (the demo's calendar:
 * 2026-09-01) to UNTIL, minus the public holidays of that autumn (State Council notice for 2026:
 * 中秋 25 Sept, 国庆 1-7 Oct). */
function expectedDays() {
  const off = new Set(['2026-09-25', '2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07']);
  const days = [];
  for (let d = dayOf('2026-09-01'); d <= dayOf(UNTIL); d++) {
    const wd = new Date(d * 86400000).getUTCDay();
    if (wd !== 0 && wd !== 6 && !off.has(ymdOf(d))) days.push(d);
  }
  return days;
}

let cityA;
let cityB;
let cityC;

before(async () => {
  [cityA, cityB, cityC] = await Promise.all([
    makeCity('a', ['--history', 'term', '--seed', '7']),
    makeCity('b', ['--history', 'term', '--seed', '7']),
    makeCity('c', ['--history', 'term', '--seed', '8']),
  ]);
});

after(async () => {
  for (const c of dbs) await c.drop().catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the history covers exactly the school days of the current term up to the last day', async () => {
  const want = expectedDays();
  const got = (await sql(cityA, `SELECT DISTINCT day FROM observations WHERE element_id = ${el('attendance.present')} ORDER BY day`))
    .map((r) => Number(r[0]));
  assert.deepEqual(got.map(ymdOf), want.map(ymdOf));
  assert.match(cityA.demoLog, new RegExp(`history term: ${want.length} school days \\(2026-09-01\\.\\.${UNTIL}\\)`));
  /* Every open class has one present count and one enrolled count per school day. */
  const classes = Number(await one(cityA, 'SELECT COUNT(*) FROM orgs WHERE kind = 5 AND closed_on IS NULL'));
  for (const code of ['attendance.present', 'students.enrolled']) {
    const n = Number(await one(cityA, `SELECT COUNT(*) FROM observations WHERE element_id = ${el(code)}`));
    assert.equal(n, classes * want.length, `${code}: one row per class per school day`);
  }
  /* The small demo without --history writes none (the other suites start fast). */
  const plain = await makeCity('plain', []);
  assert.equal(Number(await one(plain, 'SELECT COUNT(*) FROM observations')), 0);
});

test('absences: 2-4 % with categories, one row per absent student of the class, present + absent = enrolled', async () => {
  const [absent, enrolled] = await one(cityA, `SELECT (SELECT COUNT(*) FROM observations WHERE element_id = ${el('attendance.absent')}),
    (SELECT SUM(value) FROM observations WHERE element_id = ${el('students.enrolled')})`);
  const rate = Number(absent) / Number(enrolled);
  assert.ok(rate >= 0.02 && rate <= 0.045, `absence rate ${rate}`);
  const cats = Object.fromEntries((await sql(cityA, `SELECT category, COUNT(*) FROM observations
    WHERE element_id = ${el('attendance.absent')} GROUP BY category`)).map(([c, n]) => [c, Number(n)]));
  for (const c of ['illness:fever', 'illness:cough', 'personal', 'other']) assert.ok(cats[c] > 0, `no ${c} absences: ${JSON.stringify(cats)}`);
  for (const c of Object.keys(cats)) assert.match(c, /^(illness:(fever|cough|diarrhea|vomit|rash|other)|personal|other)$/);
  /* Each absent row names a student currently enrolled in that very class. */
  const stray = await one(cityA, `SELECT COUNT(*) FROM observations o WHERE o.element_id = ${el('attendance.absent')}
    AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.person_id = o.person_id AND e.class_id = o.org_id AND e.end_date IS NULL)`);
  assert.equal(Number(stray), 0);
  const twice = await one(cityA, `SELECT COUNT(*) FROM (SELECT person_id, day FROM observations WHERE element_id = ${el('attendance.absent')}
    GROUP BY person_id, day HAVING COUNT(*) > 1) x`);
  assert.equal(Number(twice), 0, 'a student is absent at most once a day');
  const mismatch = await one(cityA, `SELECT COUNT(*) FROM observations p JOIN observations n ON n.org_id = p.org_id AND n.day = p.day
    AND n.element_id = ${el('students.enrolled')} WHERE p.element_id = ${el('attendance.present')}
    AND p.value + (SELECT COUNT(*) FROM observations a WHERE a.element_id = ${el('attendance.absent')} AND a.org_id = p.org_id AND a.day = p.day) <> n.value`);
  assert.equal(Number(mismatch), 0, 'present + absent = enrolled for every class and day');
});

test('after-school participation near 87.99 % of students and 92.41 % of teachers; multimedia near 99.4 %', async () => {
  const [students, base] = await one(cityA, `SELECT (SELECT SUM(value) FROM observations WHERE element_id = ${el('afterschool.students')}),
    (SELECT SUM(o.value) FROM observations o JOIN orgs c ON c.id = o.org_id WHERE o.element_id = ${el('students.enrolled')}
      AND (c.grade_code LIKE '1%' OR c.grade_code LIKE '2%') AND EXISTS (SELECT 1 FROM observations a
      WHERE a.element_id = ${el('afterschool.students')} AND a.day = o.day AND a.org_id = o.school_id))`);
  const sRate = Number(students) / Number(base);
  assert.ok(sRate >= 0.85 && sRate <= 0.91, `after-school students ${sRate}`);
  const [teachers, inPost] = await one(cityA, `SELECT (SELECT SUM(value) FROM observations WHERE element_id = ${el('afterschool.teachers')}),
    (SELECT SUM(o.value) FROM observations o WHERE o.element_id = ${el('teachers.in_post')} AND EXISTS (SELECT 1 FROM observations a
      WHERE a.element_id = ${el('afterschool.teachers')} AND a.day = o.day AND a.org_id = o.org_id))`);
  const tRate = Number(teachers) / Number(inPost);
  assert.ok(tRate >= 0.89 && tRate <= 0.96, `after-school teachers ${tRate}`);
  /* teachers.in_post is the registry's: the current posts of each school. */
  const wrong = await one(cityA, `SELECT COUNT(*) FROM observations o WHERE o.element_id = ${el('teachers.in_post')}
    AND o.value <> (SELECT COUNT(DISTINCT person_id) FROM posts p WHERE p.school_id = o.org_id AND p.end_date IS NULL)`);
  assert.equal(Number(wrong), 0);
  /* Kindergartens and senior-only schools run no after-school service rows. */
  const [mm, rooms] = await one(cityA, `SELECT (SELECT SUM(value) FROM observations WHERE element_id = ${el('equipment.multimedia_classrooms')}),
    (SELECT SUM(value) FROM observations WHERE element_id = ${el('equipment.classrooms')})`);
  const cover = Number(mm) / Number(rooms);
  assert.ok(cover >= 0.975 && cover <= 1, `multimedia coverage ${cover}`);
  const over = await one(cityA, `SELECT COUNT(*) FROM observations m JOIN observations c ON c.org_id = m.org_id AND c.day = m.day
    AND c.element_id = ${el('equipment.classrooms')} WHERE m.element_id = ${el('equipment.multimedia_classrooms')} AND m.value > c.value`);
  assert.equal(Number(over), 0, 'never more multimedia classrooms than classrooms');
  const levels = await sql(cityA, `SELECT DISTINCT value FROM observations WHERE element_id = ${el('campus.digital_level')}`);
  for (const [v] of levels) assert.ok([1, 2, 3].includes(Number(v)), `digital level ${v}`);
});

test('the five managements: homework and sleep within their ranges, grades 1-2 written homework only where flagged', async () => {
  const bad = await one(cityA, `SELECT COUNT(*) FROM observations WHERE
    (element_id = ${el('homework.minutes')} AND (value < 0 OR value > 600)) OR
    (element_id = ${el('sleep.hours')} AND (value < 5 OR value > 12)) OR
    (element_id = ${el('activity.in_school_minutes')} AND (value < 0 OR value > 600))`);
  assert.equal(Number(bad), 0);
  /* A grade 1-2 class with homework minutes above zero is one that was given written homework. */
  const hidden = await one(cityA, `SELECT COUNT(*) FROM observations h JOIN orgs c ON c.id = h.org_id
    JOIN observations w ON w.org_id = h.org_id AND w.day = h.day AND w.element_id = ${el('lessons.homework_written_g12')}
    WHERE h.element_id = ${el('homework.minutes')} AND c.grade_code IN ('11', '12') AND h.value > 0 AND w.value = 0
    AND NOT EXISTS (SELECT 1 FROM observations w2 WHERE w2.org_id = h.org_id AND w2.element_id = w.element_id AND w2.value = 1)`);
  assert.equal(Number(hidden), 0);
  const kg = await one(cityA, `SELECT COUNT(*) FROM observations h JOIN orgs c ON c.id = h.org_id
    WHERE h.element_id = ${el('homework.minutes')} AND c.grade_code LIKE '0%'`);
  assert.equal(Number(kg), 0, 'kindergartens report no homework');
});

async function digest(city) {
  const rows = await sql(city, `SELECT e.code, o.org_id, COALESCE(o.person_id, 0), o.day, o.value, COALESCE(o.category, '')
    FROM observations o JOIN data_elements e ON e.id = o.element_id ORDER BY o.id`);
  const h = crypto.createHash('sha256');
  for (const r of rows) h.update(`${r.join('|')}\n`);
  return { n: rows.length, sha: h.digest('hex') };
}

test('the same seed gives the same rows; another seed other rows', async () => {
  const [a, b, c] = await Promise.all([digest(cityA), digest(cityB), digest(cityC)]);
  assert.ok(a.n > 10000, `only ${a.n} rows`);
  assert.deepEqual(b, a, 'seed 7 twice');
  assert.notEqual(c.sha, a.sha, 'seed 8 differs from seed 7');
});

test('feeds: today at server start, then a new enrolment changes students.enrolled at the next run', async () => {
  const city = cityB;
  const srv = await serveDb(city.db, { cwd: dir, extraArgs: city.keyArgs });
  let stopped = false;
  try {
    /* At start-up the feeds write today's row of every open class (UNTIL lies before today). */
    const classes = Number(await one(city, 'SELECT COUNT(*) FROM orgs WHERE kind = 5 AND closed_on IS NULL'));
    const schools = Number(await one(city, 'SELECT COUNT(*) FROM orgs WHERE kind = 3 AND closed_on IS NULL'));
    let todayDay = null;
    for (let i = 0; i < 100 && todayDay === null; i++) {
      const rows = await sql(city, `SELECT day, COUNT(*) FROM observations WHERE element_id = ${el('students.enrolled')}
        AND day > ${dayOf(UNTIL)} GROUP BY day`);
      if (rows.length === 1 && Number(rows[0][1]) === classes) todayDay = Number(rows[0][0]);
      else await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(todayDay !== null, 'the feeds wrote no row for today at start-up');
    for (const code of ['teachers.in_post', 'accounts.registered', 'accounts.activated']) {
      const n = Number(await one(city, `SELECT COUNT(*) FROM observations WHERE element_id = ${el(code)} AND day = ${todayDay}`));
      assert.equal(n, schools, `${code}: one row per school today`);
    }
    /* The registry's figures: registered accounts of school1's school include school1 itself. */
    const admin = await loginAs(srv.base, 'admin');
    const school1 = await loginAs(srv.base, 'school1');
    const schoolId = school1.session.roles.find((r) => r.role === 'school_admin').org.id;
    const reg = Number(await one(city, `SELECT value FROM observations WHERE element_id = ${el('accounts.registered')}
      AND org_id = ${schoolId} AND day = ${todayDay}`));
    assert.ok(reg >= 1, `school1's school has ${reg} registered accounts`);

    /* A new student enrolled in a class of that school. */
    const [classId, before] = (await sql(city, `SELECT o.org_id, o.value FROM observations o WHERE o.element_id = ${el('students.enrolled')}
      AND o.day = ${todayDay} AND o.school_id = ${schoolId} ORDER BY o.org_id LIMIT 1`))[0].map(Number);
    const cid = makeCitizenId('376031', '2014-05-01', '731');
    const person = expectStatus(await admin.post('/api/v1/people', {
      org_id: schoolId, kind: 'student', name: '李新生', sex: 'male', birth_date: '2014-05-01', citizen_id: cid,
    }), 201, 'person').json;
    expectStatus(await admin.post('/api/v1/enrolments', {
      person_id: person.id, class_id: classId, start_date: ymdOf(todayDay),
    }), 201, 'enrolment');

    /* The next run: one correction for that class, nothing else. */
    const res = await run(BIN, ['feeds', 'run', '--db', city.db, ...city.keyArgs, '--day', ymdOf(todayDay)], { cwd: dir });
    assert.match(res.stderr, /0 rows written, 1 corrected/);
    const latest = await sql(city, `SELECT o.id, o.value, o.supersedes, o.reason FROM observations o WHERE o.element_id = ${el('students.enrolled')}
      AND o.org_id = ${classId} AND o.day = ${todayDay} ORDER BY o.id`);
    assert.equal(latest.length, 2, JSON.stringify(latest));
    assert.equal(Number(latest[0][1]), before);
    assert.equal(Number(latest[1][1]), before + 1, 'students.enrolled follows the roster');
    assert.equal(latest[1][2], latest[0][0], 'the new row supersedes the day\'s earlier one');
    assert.ok(latest[1][3].length > 0, 'a correction carries its reason');
    const again = await run(BIN, ['feeds', 'run', '--db', city.db, ...city.keyArgs, '--day', ymdOf(todayDay)], { cwd: dir });
    assert.match(again.stderr, /0 rows written, 0 corrected/, 'an unchanged registry writes nothing');
    /* The next day every node gets its row again (the cube's "last" needs one in any range). */
    const next = await run(BIN, ['feeds', 'run', '--db', city.db, ...city.keyArgs, '--day', ymdOf(todayDay + 1)], { cwd: dir });
    assert.match(next.stderr, new RegExp(`${classes + 3 * schools} rows written, 0 corrected`));
    await srv.stop();
    stopped = true;
  } finally {
    if (!stopped) await srv.stop().catch(() => {});
  }
});

test('every error answer seen is documented and in Chinese', () => {
  assertErrorsWellFormed();
});
