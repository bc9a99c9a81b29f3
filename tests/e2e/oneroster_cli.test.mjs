// `edubrain oneroster check` end to end: the shared OneRoster 1.1 sample packages (read in
// place, never copied) give their SOURCE.txt findings in JSON and exit 1; a clean package
// made here exits 0; the text report in both languages; usage errors exit 2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './lib/server.mjs';
import { runCli, expectExit } from './lib/cli.mjs';

function samplesDir() {
  const candidates = [];
  if (process.env.EDUBRAIN_SHARED) candidates.push(path.join(process.env.EDUBRAIN_SHARED, 'oneroster-samples'));
  candidates.push(path.join(REPO, '..', 'shared', 'oneroster-samples'), '/work/shared/oneroster-samples');
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) console.log(`skipped: samples not found at ${candidates.join(', ')}`);
  return found;
}
const SAMPLES = samplesDir();

let tmp;
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-oneroster-')); });
after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

async function checkJson(dir) {
  const res = await runCli(['oneroster', 'check', dir, '--json']);
  const report = JSON.parse(res.stdout);
  return { res, report };
}

/** Findings of the report with this file, code and (optionally) line. */
function findings(report, file, code, line) {
  return report.findings.filter((f) => f.file === file && f.code === code && (line === undefined || f.line === line));
}

function count(report, file, code) {
  const s = report.summary.find((x) => x.file === file && x.code === code);
  return s ? s.count : 0;
}

test('v1p1-minimal: the SOURCE.txt findings, exit 1', { skip: !SAMPLES }, async () => {
  const { res, report } = await checkJson(path.join(SAMPLES, 'v1p1-minimal'));
  expectExit(res, 1, 'check v1p1-minimal');
  assert.equal(report.ok, false);
  assert.equal(report.errors, 3);
  assert.equal(report.warnings, 16);
  assert.equal(count(report, 'users.csv', 'bool_case'), 6);
  const sched = findings(report, 'classes.csv', 'enum_case', 2);
  assert.equal(sched.length, 1);
  assert.equal(sched[0].severity, 'error');
  assert.equal(sched[0].column, 'classType');
  assert.equal(sched[0].value, 'Scheduled');
  assert.match(sched[0].message.en, /expected 'scheduled'/);
  assert.match(sched[0].message.zh, /大小写/);
  assert.deepEqual(findings(report, 'classes.csv', 'reference_to_absent_file').map((f) => f.line), [2, 3]);
  assert.equal(count(report, 'classes.csv', 'not_a_school') + count(report, 'enrollments.csv', 'not_a_school'), 8);
  assert.deepEqual(findings(report, 'enrollments.csv', 'role_mismatch').map((f) => f.line), [3, 6]);
  const modes = Object.fromEntries(report.files.map((f) => [f.file, f.mode]));
  assert.equal(modes['users.csv'], 'bulk');
  assert.equal(modes['courses.csv'], 'absent');
  assert.equal(report.files.find((f) => f.file === 'users.csv').rows, 6);
});

test('v1p1-full: the SOURCE.txt findings and the further ones, exit 1', { skip: !SAMPLES }, async () => {
  const { res, report } = await checkJson(path.join(SAMPLES, 'v1p1-full'));
  expectExit(res, 1, 'check v1p1-full');
  assert.equal(report.errors, 52);
  assert.equal(report.warnings, 16);
  for (const [file, n] of [['orgs.csv', 2], ['academicSessions.csv', 10], ['classes.csv', 4], ['users.csv', 10],
    ['enrollments.csv', 12]]) {
    assert.equal(count(report, file, 'bulk_populated'), n, `${file} bulk_populated`);
  }
  assert.equal(findings(report, 'academicSessions.csv', 'status_inactive', 4).length, 1);
  const dangling = findings(report, 'academicSessions.csv', 'missing_reference');
  assert.deepEqual(dangling.map((f) => [f.line, f.value]), [[3, 'as-syr-222-2023'], [6, 'as-syr-222-2023']]);
  assert.equal(findings(report, 'orgs.csv', 'missing_reference', 2)[0].value, 'org-sch-222-3456');
  assert.equal(count(report, 'users.csv', 'bad_datetime'), 5);
});

test('a clean package exits 0; the text report speaks zh by default and en on request', async () => {
  const dir = path.join(tmp, 'clean');
  fs.mkdirSync(dir);
  const keys = ['academicSessions', 'categories', 'classes', 'classResources', 'courses', 'courseResources',
    'demographics', 'enrollments', 'lineItems', 'orgs', 'resources', 'results', 'users'];
  const present = new Set(['orgs', 'users']);
  fs.writeFileSync(path.join(dir, 'manifest.csv'),
    ['propertyName,value', 'manifest.version,1.0', 'oneroster.version,1.1',
      ...keys.map((k) => `file.${k},${present.has(k) ? 'bulk' : 'absent'}`)].join('\r\n') + '\r\n');
  fs.writeFileSync(path.join(dir, 'orgs.csv'), '\ufeffsourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n'
    + 'org-1,,,"第一中学, 东校区",school,4401000001,\n');
  fs.writeFileSync(path.join(dir, 'users.csv'), 'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,'
    + 'username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n'
    + 'u-1,,,true,org-1,student,s1,,雷,李,,,,,,,07,\n');
  const { res, report } = await checkJson(dir);
  expectExit(res, 0, 'check clean');
  assert.equal(report.ok, true);
  assert.equal(report.errors, 0);
  /* The BOM is tolerated and reported. */
  assert.deepEqual(report.findings.map((f) => [f.file, f.code, f.severity]), [['orgs.csv', 'bom', 'warning']]);

  const zh = expectExit(await runCli(['oneroster', 'check', dir]), 0, 'text zh');
  assert.match(zh.stdout, /orgs\.csv:1: 警告 \[bom\]/);
  assert.match(zh.stdout, /0 个错误，1 个警告：数据包可以导入/);
  const en = expectExit(await runCli(['oneroster', 'check', dir, '--lang', 'en']), 0, 'text en');
  assert.match(en.stdout, /0 error\(s\), 1 warning\(s\): the package can be imported/);

  fs.writeFileSync(path.join(dir, 'users.csv'), 'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,'
    + 'username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n'
    + 'u-1,,,true,org-9,Student,s1,,雷,李,,,,,,,07,\n');
  const bad = expectExit(await runCli(['oneroster', 'check', dir, '--lang', 'en']), 1, 'text en, errors');
  assert.match(bad.stdout, /users\.csv:2: error \[enum_case\] role 'Student' has the wrong case/);
  assert.match(bad.stdout, /users\.csv:2: error \[missing_reference\] orgSourcedIds refers to 'org-9'/);
  assert.match(bad.stdout, /the package is rejected/);
});

test('an unreadable package exits 1 with a finding; bad usage exits 2', async () => {
  const { res, report } = await checkJson(path.join(tmp, 'no-such-package.zip'));
  expectExit(res, 1, 'missing package');
  assert.equal(report.findings[0].code, 'package_unreadable');

  const help = expectExit(await runCli(['oneroster', '--help']), 0, 'help');
  assert.match(help.stdout, /usage: edubrain oneroster check DIR_OR_ZIP/);
  for (const args of [['oneroster'], ['oneroster', 'import', tmp], ['oneroster', 'check'],
    ['oneroster', 'check', tmp, '--lang', 'fr'], ['oneroster', 'check', tmp, 'extra'],
    ['oneroster', 'check', tmp, '--max-per-code', '0']]) {
    const r = expectExit(await runCli(args), 2, args.join(' '));
    assert.match(r.stderr, /usage: edubrain oneroster|--lang|--max-per-code/, args.join(' '));
  }
});
