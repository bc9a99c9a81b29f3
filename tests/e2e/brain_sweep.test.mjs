// The alerts agree with the data from the start (docs/internals/brain.md, "Rules and alerts"):
// on a demo city with a term of history, the first start opens alerts from the history, and
// exactly the sleep alerts that the cube's class averages call for, each since the first day of
// its run of short nights; data written while no server runs (`edubrain import observations`)
// opens an alert at the next start and clears it at the one after, and the alerts nothing
// touched keep their ids. Runs on SQLite and, with EDUBRAIN_PG, on PostgreSQL.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PG_BASE, createDemoDb, createPgDemoDb, serveDb, loginAs, listAll, expectStatus,
} from './lib/server.mjs';
import { runCli, expectExit } from './lib/cli.mjs';

const pad = (x) => String(x).padStart(2, '0');
/* The server's calendar is local time. */
const localDay = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const today = localDay(new Date());
const yesterday = localDay(new Date(Date.now() - 86400000));
const twoDaysAgo = localDay(new Date(Date.now() - 2 * 86400000));
const dayBefore = (day) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
};

/* The national sleep limits (POLICY_AND_CODES.md §3.2) by grade code: 10 h in primary school,
 * 9 in junior middle school, 8 in senior. */
function sleepLimit(gradeCode) {
  const g = Number(gradeCode);
  if (g >= 11 && g <= 16) return 10;
  if (g >= 21 && g <= 24) return 9;
  if (g >= 31 && g <= 33) return 8;
  return null;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-sweep-'));
let dropPg = null;
after(async () => {
  if (dropPg) await dropPg();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function serve(db, keyArgs) {
  const srv = await serveDb(db, { cwd: dir, extraArgs: keyArgs });
  try {
    /* The sweep runs once the cube is whole; its log line says it is done. */
    const t0 = Date.now();
    while (!/alerts: swept \d+ rule evaluations/.test(srv.log())) {
      assert.ok(Date.now() - t0 < 30000, `no sweep within 30 s:\n${srv.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await srv.stop();
    throw e;
  }
  return srv;
}

async function alerts(admin, org, state) {
  const res = expectStatus(await admin.get(`/api/v1/alerts?org=${org}&state=${state}&limit=500`), 200);
  assert.equal(res.json.next, null, 'more than one page of alerts in the small city');
  return res.json.items;
}

/* Every class with a national sleep limit: { cls, limit }. */
async function classesWithLimits(admin, city) {
  const out = [];
  for (const d of await listAll(admin, `/api/v1/orgs/${city}/children`, 500)) {
    for (const s of await listAll(admin, `/api/v1/orgs/${d.id}/children`, 500)) {
      if (s.kind !== 'school') continue;
      for (const g of await listAll(admin, `/api/v1/orgs/${s.id}/children`, 500)) {
        const limit = g.kind === 'grade' ? sleepLimit(g.grade_code) : null;
        if (limit === null) continue;
        for (const c of await listAll(admin, `/api/v1/orgs/${g.id}/children`, 500)) {
          if (c.kind === 'class') out.push({ cls: c, limit });
        }
      }
    }
  }
  return out;
}

async function cell(admin, org, from, to) {
  return expectStatus(await admin.get(`/api/v1/cells?element=sleep.hours&org=${org}&from=${from}&to=${to}`), 200).json;
}

/* What the rule says of a class from its cells alone: the newest day with a report, whether
 * that day's average is under the limit, and the first day of the run of such days (days
 * without a report do not interrupt it). */
async function expectedSleep(admin, cls, limit, from) {
  const span = await cell(admin, cls.id, from, today);
  if (!span.count) return null;
  const newest = span.last_day;
  const avg = async (day) => {
    const c = await cell(admin, cls.id, day, day);
    return c.count ? c.sum / c.count : null;
  };
  const v = await avg(newest);
  if (!(v < limit)) return { newest, breach: false };
  let since = newest;
  for (let d = dayBefore(newest); d >= from; d = dayBefore(d)) {
    const a = await avg(d);
    if (a === null) continue;
    if (!(a < limit)) break;
    since = d;
  }
  return { newest, breach: true, since, value: v };
}

test('the first start opens the alerts the history calls for; a restart follows offline data', async () => {
  let db;
  let keyArgs = [];
  const demoArgs = ['--history', 'term', '--history-until', twoDaysAgo];
  if (PG_BASE) {
    const pg = await createPgDemoDb(dir, demoArgs);
    db = pg.dsn;
    dropPg = pg.drop;
    keyArgs = ['--key-file', pg.keyFile];
  } else {
    db = await createDemoDb(dir, demoArgs);
  }

  let srv = await serve(db, keyArgs);
  let admin = await loginAs(srv.base, 'admin');
  const city = admin.session.roles.find((r) => r.role === 'city_admin').org.id;
  const years = expectStatus(await admin.get('/api/v1/school-years'), 200).json.items;
  const firstDay = years.flatMap((y) => y.terms || []).map((t) => t.start_date).filter((d) => d <= twoDaysAgo).sort().pop();
  assert.ok(firstDay, 'the demo city has a term begun two days ago');

  const open1 = await alerts(admin, city, 'open');
  const sleep1 = new Map(open1.filter((a) => a.rule === 'sleep.hours').map((a) => [a.org.id, a]));
  const classes = await classesWithLimits(admin, city);
  assert.ok(classes.length >= 20, `classes with a sleep limit: ${classes.length}`);
  let breaches = 0;
  let calm = null;
  for (const { cls, limit } of classes) {
    const want = await expectedSleep(admin, cls, limit, firstDay);
    const got = sleep1.get(cls.id);
    if (want && want.breach) {
      breaches++;
      assert.ok(got, `class ${cls.id}: average ${want.value} h under ${limit} on ${want.newest}, no alert`);
      assert.equal(got.since, want.since, `class ${cls.id}: the alert's first day`);
      assert.equal(got.values.limit, limit);
      assert.ok(Math.abs(got.values.value - want.value) < 0.051, `class ${cls.id}: ${got.values.value} vs ${want.value}`);
    } else {
      assert.equal(got, undefined, `class ${cls.id}: an alert without a breach on its newest day`);
      if (want && !calm && limit === 10) calm = cls;
    }
  }
  assert.ok(open1.length > 0, 'the history opens alerts at the first start');
  assert.equal(sleep1.size, breaches, 'one sleep alert per breaching class, no other');
  assert.ok(calm, 'a primary class without a sleep alert');

  /* With no server running: a short night for the calm class yesterday... */
  const dbArgs = PG_BASE ? ['--db', db, ...keyArgs] : ['--db', db];
  const night = async (day, hours) => {
    const csv = path.join(dir, `sleep-${day}.csv`);
    fs.writeFileSync(csv, `org_id,day,value\n${calm.id},${day},${hours}\n`);
    expectExit(await runCli(['import', 'observations', csv, '--element', 'sleep.hours', ...dbArgs, '--lang', 'en']),
      0, 'import observations');
  };
  const ids = (list) => new Map(list.filter((a) => a.org.id !== calm.id).map((a) => [`${a.rule} ${a.org.id}`, a.id]));
  await srv.stop();
  await night(yesterday, 7.5);

  /* ... opens its alert at the next start; every other alert is the same row as before. */
  srv = await serve(db, keyArgs);
  let opened;
  try {
    admin = await loginAs(srv.base, 'admin');
    const open2 = await alerts(admin, city, 'open');
    opened = open2.find((a) => a.rule === 'sleep.hours' && a.org.id === calm.id);
    assert.ok(opened, 'a short night written offline opens an alert at the next start');
    assert.equal(opened.since, yesterday);
    assert.equal(opened.values.value, 7.5);
    assert.deepEqual(ids(open2), ids(open1), 'the other alerts keep their ids');
  } finally {
    await srv.stop();
  }

  /* A good night today clears it at the start after. */
  await night(today, 10.5);
  srv = await serve(db, keyArgs);
  try {
    admin = await loginAs(srv.base, 'admin');
    const open3 = await alerts(admin, city, 'open');
    assert.equal(open3.some((a) => a.org.id === calm.id && a.rule === 'sleep.hours'), false, 'a good night clears the alert');
    const hist = await alerts(admin, calm.id, 'all');
    const closed = hist.find((a) => a.id === opened.id);
    assert.ok(closed, 'the cleared alert is kept in the history under its id');
    assert.equal(closed.state, 'closed');
    assert.equal(closed.cleared, today);
    assert.deepEqual(ids(open3), ids(open1), 'the other alerts keep their ids');
  } finally {
    await srv.stop();
  }
});
