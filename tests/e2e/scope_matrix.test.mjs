// Scope: every route of src/api/api_routes.c against every role. An object outside the
// caller's scope answers exactly like an id that does not exist ("learns nothing"); reads inside
// the scope succeed where the role allows; writes by read-only roles are refused and change
// nothing; parents see their own child only; students see themselves only.
//
// Expectations per role. "="  = the answer equals the one for id 999999999 (404 not_found, same
// body); "ok" = 200; "x" = refused: 403 or 404 (read-only roles never write); "-" = the route
// names no object. Out-of-scope targets are the objects of the OTHER district (school, grade,
// class, student, teacher, enrolment, post); school1 and teacher1 also get another school of
// their own district; student1 and parent1 also get a classmate of student1.
//
// | route                          | admin | district1 | school1 | teacher1 | student1 | parent1 | analyst1 |
// |--------------------------------|-------|-----------|---------|----------|----------|---------|----------|
// | GET /healthz, /metrics, openapi| -     | -         | -       | -        | -        | -       | -        |
// | GET discovery, /oidc/jwks      | -     | -         | -       | -        | -        | -       | -        |
// | POST/DELETE /session, GET /me  | -     | -         | -       | -        | -        | -       | -        |
// | PUT /me/password               | -     | -         | -       | -        | -        | -       | -        |
// | POST /me/totp{,/confirm,/disable}| -   | -         | -       | -        | -        | -       | -        |
// | GET /orgs/{id}                 | ok    | =         | =       | =        | =        | =       | ok (city)|
// | GET /orgs/{id}/children        | ok    | =         | =       | =        | =        | =       | ok       |
// | GET /orgs/{id}/people          | ok    | =         | =       | =        | = (own class too) | = (own class too) | ok |
// | GET /orgs/{id}/children.xlsx   | ok    | =         | =       | =        | =        | =       | ok       |
// | GET /orgs/{id}/people.xlsx     | ok    | =         | =       | =        | = (own class too) | = (own class too) | ok |
// | GET/POST /school-years{,/current}| -   | -         | -       | -        | -        | -       | -        |
// | PATCH /orgs/{id}               | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /orgs                     | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | GET /people/{id}               | ok    | =         | =       | =        | = (classmate too) | = (classmate too) | ok |
// | PATCH /people/{id}             | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /people                   | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /enrolments               | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /enrolments/{id}/end      | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /posts                    | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /posts/{id}/end           | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /teaching                 | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /guardians                | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | GET /accounts                  | all   | own subtree (no admin) | own subtree (no district1) | none or self | none or self | none or self | none or self |
// | POST /accounts                 | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | GET /audit?org=                | ok    | =, own ok | =, own ok | x      | x        | x       | x        |
// | GET /orgs/{id}/stats           | ok    | =         | =       | =        | = (own class too) | = (own class too) | ok |
// | GET /accounts/{id}             | ok    | =         | =       | = / x    | = / x    | = / x   | = / x    |
// | GET /people/{id}/status        | ok    | =         | =       | =        | = (classmate too) | = (classmate too) | ok |
// | POST /people/{id}/status       | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | /transfer-lookup, /transfers{,.xlsx,/{id}{,/approve,/reject,/withdraw}} | (transfers.test.mjs: every outsider gets 404, wrong actors 403) |
// | POST /teacher-exchanges        | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | GET /teacher-exchanges/{id}    | ok    | =         | =       | =        | =        | =       | ok       |
// | POST /teacher-exchanges/{id}/{action} | ok | =    | =       | = / x    | = / x    | = / x   | x        |
// | GET /orgs/{id}/teacher-exchanges{,.xlsx,/stats} | ok | = | =  | =        | =        | =       | ok       |
// | GET /people/{id}/teacher-exchanges | ok | =         | =       | =        | =        | =       | ok       |
// | POST /orgs/{id}/recruitment    | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /orgs/{id}/roster-import  | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | PATCH /accounts/{id}           | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /accounts/{id}/password   | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /accounts/{id}/roles      | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | DELETE /accounts/{id}/roles/{g}| ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | DELETE /accounts/{id}/totp     | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /orgs/{id}/accounts       | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /orgs/{id}/activation-codes| ok   | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /accounts/{id}/activation-code| ok | =        | =       | = / x    | = / x    | = / x   | x        |
// | POST /people/{id}/binding-code | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | POST /orgs/{id}/binding-codes  | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | GET /orgs/{id}/registration    | ok    | =         | =       | =        | = (own class too) | = (own class too) | ok |
// | GET /orgs/{id}/quality{,/findings,/findings.xlsx} | ok | = | = | = (own school too) | = (own class too) | = (own class too) | ok |
// | POST /orgs/{id}/quality/run    | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | GET /orgs/{id}/school, /teaching-points{,.xlsx}, /classes{,.xlsx}, /promotion | ok | = | = | = | = | = | ok |
// | GET /orgs/{id}/teachers (a class) | ok | =       | =       | =        | =        | =       | ok       |
// | POST /orgs/{id}/close, /merge, /teaching-points; DELETE /teaching-points/{p} | ok | = | = (own: 403) | = / x | = / x | = / x | x |
// | PUT /orgs/{id}/head-teacher; POST /orgs/{id}/promotion{,/{run}/undo,/{run}/confirm} | ok | = | = | = / x | = / x | = / x | x |
// | GET /indicators/{code}, /alerts, /stream, /dashboard (?org=) | ok | = | = | =   | = (own class too) | = (own class too) | ok |
// | GET/POST /indicators           | -     | -         | -       | -        | -        | -       | -        |
// | POST /parents (public)         | -     | -         | -       | -        | -        | -       | -        |
// | /oidc/* (protocol endpoints)   | -     | -         | -       | -        | -        | -       | -        |
// | GET /apps, GET /admin/apps     | -     | -         | -       | -        | -        | -       | -        |
// | POST /apps                     | ok    | =         | =       | = / x    | = / x    | = / x   | x        |
// | GET /orgs/{id}/oneroster.zip   | ok    | =         | =       | =        | =        | =       | ok       |
// | POST /imports/oneroster, GET /imports/oneroster/{id}{,/report.xlsx} | (oneroster_import.test.mjs: other administrators and every other role get 404) |
// | PATCH/DELETE /apps/{id}        | (oidc_flows.test.mjs: another district's app answers 404) |
// | POST /observations, POST /orgs/{id}/observations/upload | ok | = | = | = / own classes (brain_teacher_report.test.mjs) | x (403) | x (403) | x (403) |
// | GET /cells (the cube's raw cells) | ok | =       | =       | =        | = (own class too) | = (own class too) | ok |
// | GET/POST /data-elements        | (definitions for everyone signed in; POST city and district admins, 403 others: brain_ingest.test.mjs) |
// | GET /geo/districts             | (geo.test.mjs: a list of the districts in scope; district1 its own, roles below none) |
//
// Account routes aim at an account of the other district (accountB, with its grant grantB);
// school1 and teacher1 also get an account of another school of their district (accountA2).
// Only administrators manage accounts: for everyone else any account id answers like a
// missing one (GET /accounts/{id} of oneself is tested in accounts.test.mjs).
//
// "= / x": outside the scope the answer equals the missing-id answer; inside it is refused (x).
// analyst1 holds its role at the city, so nothing is outside its scope; its writes are "x".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, Client, parseRoutes, expectStatus, expectError, listAll, MISSING_ID, uniq,
  assertErrorsWellFormed, MASKED_ID_RE,
} from './lib/server.mjs';
import { discoverCity, ROLE_LOGINS } from './lib/city.mjs';

let srv;
let clients;
let ids;
const tag = uniq();
let seq = 0;

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
  /* Accounts to aim the account routes at: one in district B, one at another school of A. */
  const mk = async (suffix, school) => {
    const res = expectStatus(await clients.admin.post('/api/v1/accounts', {
      login: `e2e.scope.${tag}.${suffix}`, password: 'Scope-pass-2026', display_name: `范围${suffix}`,
      roles: [{ role: 'teacher', org_id: school }],
    }), 201, `account at ${school}`);
    const doc = expectStatus(await clients.admin.get(`/api/v1/accounts/${res.json.id}`), 200).json;
    return [res.json.id, doc.roles[0].id];
  };
  [ids.accountB, ids.grantB] = await mk('b', ids.schoolB);
  [ids.accountA2, ids.grantA2] = await mk('a2', ids.schoolA2);
  /* A teacher exchange between two schools of district B, to aim the exchange routes at. */
  const schoolsB = (await listAll(clients.admin, `/api/v1/orgs/${ids.districtB}/children`, 500))
    .filter((o) => o.kind === 'school' && o.id !== ids.schoolB);
  assert.ok(schoolsB.length > 0, 'district B should have a second school');
  ids.exchangeB = expectStatus(await clients.admin.post('/api/v1/teacher-exchanges', {
    person_id: ids.teacherB, to_school_id: schoolsB[0].id, kind: 'rotation',
    start_date: '2027-03-01', end_date: '2027-07-01', reason: '范围测试',
  }), 201, 'exchange in district B').json.id;
});

after(async () => {
  if (srv) await srv.stop();
});

/*
 * One request builder per route that names an object. t holds the object ids to aim at:
 * org (any node), grade, class, school, person (a student), teacher, enrolment, post.
 */
const BUILDERS = {
  'GET /api/v1/orgs/{id}': (t) => ['GET', `/api/v1/orgs/${t.org}`],
  'GET /api/v1/orgs/{id}/children': (t) => ['GET', `/api/v1/orgs/${t.org}/children`],
  'GET /api/v1/orgs/{id}/people': (t) => ['GET', `/api/v1/orgs/${t.org}/people?role=student`],
  'GET /api/v1/orgs/{id}/children.xlsx': (t) => ['GET', `/api/v1/orgs/${t.org}/children.xlsx`],
  'GET /api/v1/orgs/{id}/people.xlsx': (t) => ['GET', `/api/v1/orgs/${t.org}/people.xlsx?role=student`],
  'PATCH /api/v1/orgs/{id}': (t) => ['PATCH', `/api/v1/orgs/${t.org}`, { name: '越权改名' }],
  'POST /api/v1/orgs': (t) => ['POST', '/api/v1/orgs', { parent_id: t.grade, kind: 'class', name: '越权新班', school_year: 2026 }],
  'GET /api/v1/people/{id}': (t) => ['GET', `/api/v1/people/${t.person}`],
  'PATCH /api/v1/people/{id}': (t) => ['PATCH', `/api/v1/people/${t.person}`, { phone: '13900000000' }],
  'POST /api/v1/people': (t) => ['POST', '/api/v1/people', { org_id: t.school, name: '越权学生', sex: 'female', birth_date: '2014-02-03' }],
  'POST /api/v1/enrolments': (t) => ['POST', '/api/v1/enrolments', { person_id: t.person, class_id: t.class, start_date: '2026-10-01' }],
  'POST /api/v1/enrolments/{id}/end': (t) => ['POST', `/api/v1/enrolments/${t.enrolment}/end`, { end_date: '2026-12-31' }],
  'POST /api/v1/posts': (t) => ['POST', '/api/v1/posts', { person_id: t.teacher, school_id: t.school, title: '专任教师', start_date: '2026-10-01' }],
  'POST /api/v1/posts/{id}/end': (t) => ['POST', `/api/v1/posts/${t.post}/end`, { end_date: '2026-12-31' }],
  'POST /api/v1/teaching': (t) => ['POST', '/api/v1/teaching', { post_id: t.post, class_id: t.class, subject: '数学', start_date: '2026-10-01' }],
  'POST /api/v1/guardians': (t) => ['POST', '/api/v1/guardians', { parent_id: t.teacher, student_id: t.person, relation: '其他监护人', start_date: '2026-10-01' }],
  'POST /api/v1/accounts': (t) => ['POST', '/api/v1/accounts', {
    login: `e2e.scope.${tag}.${++seq}`, password: 'Scope-pass-2026', display_name: '越权账号',
    roles: [{ role: 'teacher', org_id: t.school }],
  }],
  'GET /api/v1/audit': (t) => ['GET', `/api/v1/audit?org=${t.org}`],
  'GET /api/v1/orgs/{id}/stats': (t) => ['GET', `/api/v1/orgs/${t.org}/stats`],
  'GET /api/v1/accounts/{id}': (t) => ['GET', `/api/v1/accounts/${t.account}`],
  'PATCH /api/v1/accounts/{id}': (t) => ['PATCH', `/api/v1/accounts/${t.account}`, { display_name: '越权改名' }],
  'POST /api/v1/accounts/{id}/password': (t) => ['POST', `/api/v1/accounts/${t.account}/password`, { password: 'Scope-reset-2026' }],
  'POST /api/v1/accounts/{id}/roles': (t) => ['POST', `/api/v1/accounts/${t.account}/roles`, { role: 'teacher', org_id: t.school }],
  'DELETE /api/v1/accounts/{id}/roles/{grant_id}': (t) => ['DELETE', `/api/v1/accounts/${t.account}/roles/${t.grant}`],
  'DELETE /api/v1/accounts/{id}/totp': (t) => ['DELETE', `/api/v1/accounts/${t.account}/totp`],
  'POST /api/v1/orgs/{id}/accounts': (t) => ['POST', `/api/v1/orgs/${t.class}/accounts`],
  'POST /api/v1/orgs/{id}/activation-codes': (t) => ['POST', `/api/v1/orgs/${t.class}/activation-codes`],
  'POST /api/v1/accounts/{id}/activation-code': (t) => ['POST', `/api/v1/accounts/${t.account}/activation-code`],
  'POST /api/v1/people/{id}/binding-code': (t) => ['POST', `/api/v1/people/${t.person}/binding-code`],
  'POST /api/v1/orgs/{id}/binding-codes': (t) => ['POST', `/api/v1/orgs/${t.class}/binding-codes`],
  'GET /api/v1/orgs/{id}/registration': (t) => ['GET', `/api/v1/orgs/${t.org}/registration`],
  'GET /api/v1/orgs/{id}/quality': (t) => ['GET', `/api/v1/orgs/${t.org}/quality`],
  'GET /api/v1/orgs/{id}/quality/findings': (t) => ['GET', `/api/v1/orgs/${t.org}/quality/findings`],
  'GET /api/v1/orgs/{id}/quality/findings.xlsx': (t) => ['GET', `/api/v1/orgs/${t.org}/quality/findings.xlsx`],
  'POST /api/v1/orgs/{id}/quality/run': (t) => ['POST', `/api/v1/orgs/${t.class}/quality/run`],
  'GET /api/v1/people/{id}/status': (t) => ['GET', `/api/v1/people/${t.person}/status`],
  'POST /api/v1/people/{id}/status': (t) => ['POST', `/api/v1/people/${t.person}/status`, { kind: 'withdrawal', date: '2026-12-01', reason: '越权退学' }],
  'POST /api/v1/teacher-exchanges': (t) => ['POST', '/api/v1/teacher-exchanges', {
    person_id: t.teacher, to_school_id: t.school, kind: 'rotation', start_date: '2027-03-01',
    end_date: '2027-07-01', reason: '越权交流',
  }],
  'GET /api/v1/teacher-exchanges/{id}': (t) => ['GET', `/api/v1/teacher-exchanges/${t.exchange}`],
  'POST /api/v1/teacher-exchanges/{id}/{action}': (t) => ['POST', `/api/v1/teacher-exchanges/${t.exchange}/agree`, {}],
  'GET /api/v1/orgs/{id}/teacher-exchanges': (t) => ['GET', `/api/v1/orgs/${t.org}/teacher-exchanges`],
  'GET /api/v1/orgs/{id}/teacher-exchanges.xlsx': (t) => ['GET', `/api/v1/orgs/${t.org}/teacher-exchanges.xlsx`],
  'GET /api/v1/orgs/{id}/teacher-exchanges/stats': (t) => ['GET', `/api/v1/orgs/${t.org}/teacher-exchanges/stats`],
  'GET /api/v1/people/{id}/teacher-exchanges': (t) => ['GET', `/api/v1/people/${t.teacher}/teacher-exchanges`],
  /* The body is the file; the scope is checked before a byte of it is read. */
  'POST /api/v1/orgs/{id}/roster-import': (t) => ['POST', `/api/v1/orgs/${t.school}/roster-import?kind=students`, {}],
  'POST /api/v1/orgs/{id}/recruitment': (t) => ['POST', `/api/v1/orgs/${t.school}/recruitment`, {
    name: '越权招聘', start_date: '2027-02-20',
    hires: [{ school_id: t.school, title: '专任教师', name: '越权', sex: 'male', birth_date: '1999-01-01' }],
  }],
  'GET /api/v1/orgs/{id}/school': (t) => ['GET', `/api/v1/orgs/${t.school}/school`],
  'POST /api/v1/orgs/{id}/close': (t) => ['POST', `/api/v1/orgs/${t.school}/close`, { date: '2027-07-15' }],
  'POST /api/v1/orgs/{id}/merge': (t) => ['POST', `/api/v1/orgs/${t.school}/merge`, { into_id: t.school, date: '2027-07-15' }],
  'GET /api/v1/orgs/{id}/teaching-points': (t) => ['GET', `/api/v1/orgs/${t.school}/teaching-points`],
  'GET /api/v1/orgs/{id}/teaching-points.xlsx': (t) => ['GET', `/api/v1/orgs/${t.school}/teaching-points.xlsx`],
  'POST /api/v1/orgs/{id}/teaching-points': (t) => ['POST', `/api/v1/orgs/${t.school}/teaching-points`, { school_id: t.school }],
  'DELETE /api/v1/orgs/{id}/teaching-points/{point}': (t) => ['DELETE', `/api/v1/orgs/${t.school}/teaching-points/${t.school}`],
  'GET /api/v1/orgs/{id}/classes': (t) => ['GET', `/api/v1/orgs/${t.school}/classes`],
  'GET /api/v1/orgs/{id}/classes.xlsx': (t) => ['GET', `/api/v1/orgs/${t.school}/classes.xlsx`],
  'GET /api/v1/orgs/{id}/teachers': (t) => ['GET', `/api/v1/orgs/${t.class}/teachers`],
  'PUT /api/v1/orgs/{id}/head-teacher': (t) => ['PUT', `/api/v1/orgs/${t.class}/head-teacher`, { post_id: t.post, date: '2027-03-01' }],
  'GET /api/v1/orgs/{id}/promotion': (t) => ['GET', `/api/v1/orgs/${t.school}/promotion`],
  'POST /api/v1/orgs/{id}/promotion': (t) => ['POST', `/api/v1/orgs/${t.school}/promotion`, { from_year: 2026, to_year: 2027, date: '2027-09-01' }],
  'POST /api/v1/orgs/{id}/promotion/{run}/undo': (t) => ['POST', `/api/v1/orgs/${t.school}/promotion/${t.enrolment}/undo`],
  'POST /api/v1/orgs/{id}/promotion/{run}/confirm': (t) => ['POST', `/api/v1/orgs/${t.school}/promotion/${t.enrolment}/confirm`],
  'POST /api/v1/apps': (t) => ['POST', '/api/v1/apps', { name: '越权应用', redirect_uris: ['https://x.test/cb'], org_id: t.school }],
  'GET /api/v1/orgs/{id}/oneroster.zip': (t) => ['GET', `/api/v1/orgs/${t.org}/oneroster.zip`],
  'POST /api/v1/observations': (t) => ['POST', '/api/v1/observations', {
    observations: [{ element: 'attendance.present', org_id: t.class, day: '2026-11-02', value: 30 }],
  }],
  /* The body is the sheet; the scope is checked before a byte of it is read. */
  'POST /api/v1/orgs/{id}/observations/upload': (t) => ['POST', `/api/v1/orgs/${t.class}/observations/upload?element=attendance.present`, {}],
  'GET /api/v1/cells': (t) => ['GET', `/api/v1/cells?element=attendance.present&org=${t.org}&from=2026-11-01&to=2026-11-30`],
  /* The brain's aggregates: a node outside the scope answers like a missing one, and the stream
   * is never opened for it (brain_live.test.mjs streams inside the scope). */
  'GET /api/v1/indicators/{code}': (t) => ['GET', `/api/v1/indicators/attendance.rate?org=${t.org}&by=children`],
  'GET /api/v1/alerts': (t) => ['GET', `/api/v1/alerts?org=${t.org}&state=all`],
  'GET /api/v1/stream': (t) => ['GET', `/api/v1/stream?org=${t.org}`],
  'GET /api/v1/dashboard': (t) => ['GET', `/api/v1/dashboard?org=${t.org}`],
};
/* Routes that name no object; their scope is the caller itself (tested in auth/basics). */
const NO_OBJECT = new Set([
  'GET /healthz', 'GET /metrics', 'GET /api/v1/openapi.json', 'POST /api/v1/session',
  'GET /.well-known/openid-configuration', 'GET /oidc/jwks', /* public documents */
  'DELETE /api/v1/session', 'GET /api/v1/me', 'PUT /api/v1/me/password',
  'POST /api/v1/me/totp', 'POST /api/v1/me/totp/confirm', 'POST /api/v1/me/totp/disable', /* one's own (totp.test.mjs) */
  'GET /api/v1/accounts', /* a list bounded by scope: checked on its own below */
  'POST /api/v1/parents', /* public: the binding code is the permission (activation.test.mjs) */
  /* OIDC protocol endpoints: the client, the token or the session is the authority. */
  'GET /oidc/authorize', 'POST /oidc/authorize', 'POST /oidc/token', 'GET /oidc/userinfo',
  'POST /oidc/userinfo', 'POST /oidc/revoke', 'POST /oidc/introspect', 'GET /oidc/logout',
  'POST /oidc/logout',
  /* Lists bounded by scope, and apps named by client id (checked in oidc_flows.test.mjs). */
  'GET /api/v1/apps', 'GET /api/v1/admin/apps', 'PATCH /api/v1/apps/{id}',
  'DELETE /api/v1/apps/{id}',
  /* The installation's one calendar: every logged-in role reads it, only city administrators
   * write it (school_years.test.mjs checks 403 for every other role). */
  'GET /api/v1/school-years', 'POST /api/v1/school-years', 'GET /api/v1/school-years/current',
  /* Blank templates: the same workbook for everyone logged in (roster_import.test.mjs). */
  'GET /api/v1/roster-templates/{kind}',
  /* Transfers: a transfer is seen by its two schools and their bureaus only; transfers.test.mjs
   * aims every transfer route at outsiders (404, like a missing id) and at wrong actors (403). */
  'POST /api/v1/transfer-lookup', 'POST /api/v1/transfers', 'GET /api/v1/transfers',
  'GET /api/v1/transfers.xlsx', 'GET /api/v1/transfers/{id}', 'POST /api/v1/transfers/{id}/approve',
  'POST /api/v1/transfers/{id}/reject', 'POST /api/v1/transfers/{id}/withdraw',
  /* OneRoster imports go into the caller's own scope (rows outside it are outside_scope errors
   * of the report); a job is seen by the administrators of its org only, others get 404 like a
   * missing id (oneroster_import.test.mjs). */
  'POST /api/v1/imports/oneroster', 'GET /api/v1/imports/oneroster/{id}', 'GET /api/v1/imports/oneroster/{id}/report.xlsx',
  /* The map's districts: a list bounded by scope (geo.test.mjs: district1 gets its own only,
   * school, class and family roles none). */
  'GET /api/v1/geo/districts',
  /* The brain's data elements: definitions every signed-in role reads; city and district
   * administrators define more (brain_ingest.test.mjs checks 403 for the others). */
  'GET /api/v1/data-elements', 'POST /api/v1/data-elements',
  /* Indicator definitions are the same for everyone logged in; only city and district
   * administrators add theirs (brain_live.test.mjs checks 403 for the other roles). */
  'GET /api/v1/indicators', 'POST /api/v1/indicators',
]);
const WRITES = Object.keys(BUILDERS).filter((k) => !k.startsWith('GET '));
const READ_ONLY_ROLES = ['teacher1', 'student1', 'parent1', 'analyst1'];
/* Teachers report observations for the classes they head or teach (teacher1 heads class A). */
const TEACHER_REPORTS = new Set(['POST /api/v1/observations', 'POST /api/v1/orgs/{id}/observations/upload']);

/* Ids that do not exist, one per slot (a guardian link needs two different people). */
const missingTarget = () => Object.fromEntries(
  ['org', 'grade', 'class', 'school', 'person', 'teacher', 'enrolment', 'post', 'account', 'grant', 'exchange']
    .map((k, i) => [k, MISSING_ID - i]));

/** The objects outside each role's scope. */
function outsideTargets(login) {
  const b = {
    org: ids.schoolB, grade: ids.gradeB, class: ids.classB, school: ids.schoolB, person: ids.personB,
    teacher: ids.teacherB, enrolment: ids.enrolmentB, post: ids.postB, account: ids.accountB,
    grant: ids.grantB, exchange: ids.exchangeB,
  };
  const list = [['district B', b], ['district B (class node)', { ...b, org: ids.classB }]];
  if (login === 'school1' || login === 'teacher1') {
    list.push(['another school of district A', {
      ...b, org: ids.schoolA2, school: ids.schoolA2, account: ids.accountA2, grant: ids.grantA2,
    }]);
  }
  if (login === 'student1' || login === 'parent1') {
    list.push(['a classmate of student1', { ...b, person: ids.classmate }]);
  }
  return list;
}

async function send(client, [method, url, json]) {
  return client.request(method, url, json === undefined ? {} : { json });
}

test('the matrix covers every route of the route table', () => {
  const keys = parseRoutes().map((r) => `${r.method} ${r.pattern}`);
  const uncovered = keys.filter((k) => !BUILDERS[k] && !NO_OBJECT.has(k));
  assert.deepEqual(uncovered, [], `routes without a scope expectation: ${uncovered.join(', ')}`);
  const stale = [...Object.keys(BUILDERS), ...NO_OBJECT].filter((k) => !keys.includes(k));
  assert.deepEqual(stale, [], `expectations for routes that no longer exist: ${stale.join(', ')}`);
});

test('anonymous callers get 401 on every route that is not public', async () => {
  const anon = new Client(srv.base);
  for (const r of parseRoutes()) {
    if (r.flags.includes('EB_ROUTE_PUBLIC')) continue;
    const url = r.pattern.replaceAll(/\{\w+\}/g, String(ids.classA));
    const res = await anon.request(r.method, url, r.method === 'GET' || r.method === 'DELETE' ? {} : { json: {} });
    expectError(res, 401, 'unauthenticated', `${r.method} ${r.pattern}`);
  }
});

for (const login of ROLE_LOGINS) {
  test(`${login}: objects outside the scope answer exactly like missing ones, on every route`, async () => {
    const c = clients[login];
    const failures = [];
    for (const [key, build] of Object.entries(BUILDERS)) {
      const missing = await send(c, build(missingTarget()));
      const isWrite = WRITES.includes(key);
      const refusedRole = isWrite && READ_ONLY_ROLES.includes(login);
      const adminOnlyRead = (key === 'GET /api/v1/audit' || key === 'GET /api/v1/accounts/{id}') &&
        READ_ONLY_ROLES.includes(login);
      const okMissing = refusedRole || adminOnlyRead ? [403, 404] : [404];
      if (!okMissing.includes(missing.status)) {
        failures.push(`${key} with id ${MISSING_ID}: expected ${okMissing.join('/')}, got ${missing.status} ${missing.text.slice(0, 200)}`);
        continue;
      }
      expectError(missing, missing.status, missing.status === 404 ? 'not_found' : undefined, `${login} ${key} missing`);
      if (login === 'admin') continue; /* nothing is outside the city */
      if (login === 'analyst1') continue; /* its scope is the city too */
      for (const [what, target] of outsideTargets(login)) {
        const req = build(target);
        const out = await send(c, req);
        if (out.status !== missing.status || out.text !== missing.text ||
            out.headers.get('content-type') !== missing.headers.get('content-type')) {
          failures.push(`${key} on ${what} (${req[0]} ${req[1]}): expected the missing-id answer ` +
            `${missing.status} ${missing.text}, got ${out.status} ${out.text.slice(0, 200)}`);
        }
      }
    }
    assert.deepEqual(failures, [], `${login}:\n${failures.join('\n')}`);
  });
}

test('inside the scope, reads succeed where the role allows', async () => {
  const expectations = {
    admin: [[`/api/v1/orgs/${ids.schoolB}`], [`/api/v1/people/${ids.personB}`],
      [`/api/v1/audit?org=${ids.districtB}`], [`/api/v1/orgs/${ids.city}/children`]],
    district1: [[`/api/v1/orgs/${ids.districtA}`], [`/api/v1/orgs/${ids.schoolA2}`],
      [`/api/v1/orgs/${ids.districtA}/children`], [`/api/v1/orgs/${ids.classA}/people?role=student`, ids.student1],
      [`/api/v1/people/${ids.student1}`], [`/api/v1/people/${ids.teacher1}`], [`/api/v1/audit?org=${ids.districtA}`],
      [`/api/v1/audit?org=${ids.schoolA}`]],
    school1: [[`/api/v1/orgs/${ids.schoolA}`], [`/api/v1/orgs/${ids.schoolA}/children`],
      [`/api/v1/orgs/${ids.classA}/people?role=student`, ids.student1], [`/api/v1/orgs/${ids.schoolA}/people?role=teacher`, ids.teacher1],
      [`/api/v1/people/${ids.student1}`], [`/api/v1/people/${ids.parent1}`], [`/api/v1/audit?org=${ids.schoolA}`]],
    teacher1: [[`/api/v1/orgs/${ids.schoolA}`], [`/api/v1/orgs/${ids.classA}`],
      [`/api/v1/orgs/${ids.classA}/people?role=student`, ids.student1], [`/api/v1/orgs/${ids.classA}/people?role=parent`, ids.parent1],
      [`/api/v1/people/${ids.student1}`], [`/api/v1/people/${ids.classmate}`], [`/api/v1/people/${ids.teacher1}`]],
    student1: [[`/api/v1/people/${ids.student1}`], [`/api/v1/orgs/${ids.classA}`]],
    parent1: [[`/api/v1/people/${ids.student1}`], [`/api/v1/people/${ids.parent1}`], [`/api/v1/orgs/${ids.classA}`]],
    analyst1: [[`/api/v1/orgs/${ids.schoolB}`], [`/api/v1/orgs/${ids.schoolB}/people?role=student`, ids.personB],
      [`/api/v1/people/${ids.personB}`], [`/api/v1/orgs/${ids.city}/children`], [`/api/v1/orgs/${ids.city}/stats`]],
  };
  expectations.admin.push([`/api/v1/accounts/${ids.accountB}`], [`/api/v1/orgs/${ids.city}/stats`]);
  expectations.district1.push([`/api/v1/accounts/${ids.accountA2}`], [`/api/v1/orgs/${ids.districtA}/stats`]);
  expectations.school1.push([`/api/v1/accounts/${clients.teacher1.session.user.id}`], [`/api/v1/orgs/${ids.schoolA}/stats`]);
  expectations.teacher1.push([`/api/v1/orgs/${clients.teacher1.session.roles.find((r) => r.org).org.id}/stats`]);
  expectations.teacher1.push([`/api/v1/cells?element=attendance.present&org=${ids.classA}`]);
  expectations.district1.push([`/api/v1/cells?element=attendance.present&org=${ids.districtA}`]);
  const failures = [];
  for (const [login, list] of Object.entries(expectations)) {
    for (const [url, mustList] of list) {
      const res = await clients[login].get(url);
      if (res.status !== 200) {
        failures.push(`${login} GET ${url}: expected 200, got ${res.status} ${res.text.slice(0, 200)}`);
        continue;
      }
      if (mustList !== undefined) {
        const all = await listAll(clients[login], url, 500);
        if (!all.some((p) => p.id === mustList)) failures.push(`${login} GET ${url}: person ${mustList} not listed`);
      }
      if (url.startsWith('/api/v1/people/') && res.json.citizen_id !== null) {
        if (!MASKED_ID_RE.test(res.json.citizen_id)) failures.push(`${login} GET ${url}: citizen ID not masked`);
      }
    }
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});

test('student1 sees only themselves; parent1 sees their child and themselves, not a classmate', async () => {
  const s = clients.student1;
  const self = expectStatus(await s.get(`/api/v1/people/${ids.student1}`), 200).json;
  assert.equal(self.id, ids.student1);
  assert.ok(self.enrolments.some((e) => e.class.id === ids.classA), 'a student sees their own class');
  const missing = await s.get(`/api/v1/people/${MISSING_ID}`);
  for (const other of [ids.classmate, ids.parent1, ids.teacher1, ids.personB]) {
    const res = await s.get(`/api/v1/people/${other}`);
    assert.equal(res.status, 404, `student1 reads person ${other}: ${res.status}`);
    assert.equal(res.text, missing.text);
  }
  expectError(await s.get(`/api/v1/orgs/${ids.classA}/people?role=student`), 404, 'not_found', 'student lists the class');

  const p = clients.parent1;
  const child = expectStatus(await p.get(`/api/v1/people/${ids.student1}`), 200).json;
  assert.equal(child.id, ids.student1);
  expectStatus(await p.get(`/api/v1/people/${ids.parent1}`), 200);
  const pMissing = await p.get(`/api/v1/people/${MISSING_ID}`);
  for (const other of [ids.classmate, ids.teacher1, ids.personB]) {
    const res = await p.get(`/api/v1/people/${other}`);
    assert.equal(res.status, 404, `parent1 reads person ${other}: ${res.status}`);
    assert.equal(res.text, pMissing.text);
  }
  expectError(await p.get(`/api/v1/orgs/${ids.classA}/people?role=student`), 404, 'not_found', 'parent lists the class');
});

test('writes by read-only roles inside their own scope are refused (403/404) and change nothing', async () => {
  const admin = clients.admin;
  const inside = {
    org: ids.classA, grade: ids.gradeA, class: ids.classA, school: ids.schoolA, person: ids.student1,
    teacher: ids.teacher1, enrolment: ids.enrolmentA, post: null, account: null, grant: null,
  };
  const t1 = expectStatus(await admin.get(`/api/v1/people/${ids.teacher1}`), 200).json;
  inside.post = t1.posts.find((x) => x.end_date === null).id;
  /* An account inside every read-only role's scope: student1's (a student of class A). */
  const s1acct = expectStatus(await admin.get(`/api/v1/accounts/${clients.student1.session.user.id}`), 200).json;
  inside.account = s1acct.id;
  inside.grant = s1acct.roles[0].id;
  const snap = async () => ({
    classA: expectStatus(await admin.get(`/api/v1/orgs/${ids.classA}`), 200).json,
    student1: expectStatus(await admin.get(`/api/v1/people/${ids.student1}`), 200).json,
    teacher1: expectStatus(await admin.get(`/api/v1/people/${ids.teacher1}`), 200).json,
    gradeKids: (await listAll(admin, `/api/v1/orgs/${ids.gradeA}/children`, 500)).length,
    accounts: (await listAll(admin, '/api/v1/accounts', 500)).map((a) => `${a.login}:${a.display_name}:${a.disabled}:${a.must_change_password}`).sort(),
    student1Roles: expectStatus(await admin.get(`/api/v1/accounts/${clients.student1.session.user.id}`), 200).json.roles,
    students: (await listAll(admin, `/api/v1/orgs/${ids.classA}/people?role=student`, 500)).length,
    parents: (await listAll(admin, `/api/v1/orgs/${ids.classA}/people?role=parent`, 500)).length,
  });
  const before0 = await snap();
  const failures = [];
  for (const login of READ_ONLY_ROLES) {
    for (const key of WRITES) {
      if (login === 'teacher1' && TEACHER_REPORTS.has(key)) continue;
      const req = BUILDERS[key](inside);
      const res = await send(clients[login], req);
      if (![403, 404].includes(res.status)) {
        failures.push(`${login} ${req[0]} ${req[1]}: expected 403 or 404, got ${res.status} ${res.text.slice(0, 200)}`);
      } else {
        expectError(res, res.status, res.status === 403 ? 'forbidden' : 'not_found', `${login} ${key}`);
      }
    }
    /* The audit log is for administrators. */
    const a = await clients[login].get(`/api/v1/audit?org=${ids.classA}`);
    if (![403, 404].includes(a.status)) failures.push(`${login} GET /api/v1/audit?org=${ids.classA}: got ${a.status}`);
    const d = await clients[login].get('/api/v1/audit');
    if (![403, 404].includes(d.status)) failures.push(`${login} GET /api/v1/audit (own org): got ${d.status}`);
  }
  assert.deepEqual(failures, [], failures.join('\n'));
  assert.deepEqual(await snap(), before0, 'a refused write changed something');
});

test('writes by administrators inside their scope succeed (the matrix above is not vacuous)', async () => {
  for (const login of ['district1', 'school1']) {
    const c = clients[login];
    const res = await c.patch(`/api/v1/orgs/${ids.classA}`, { name: '七年级(1)班' });
    expectStatus(res, 200, `${login} renames a class in scope`);
    const p = await c.post('/api/v1/people', { org_id: ids.schoolA, name: `范围内${login}`, sex: 'male', birth_date: '2014-05-06' });
    expectStatus(p, 201, `${login} registers a person in scope`);
    const a = await c.patch(`/api/v1/accounts/${clients.teacher1.session.user.id}`, { display_name: `教师${login}` });
    expectStatus(a, 200, `${login} renames an account in scope`);
  }
});

test('account lists are bounded by scope', async () => {
  const logins = async (login) => {
    const res = await clients[login].get('/api/v1/accounts?limit=500');
    return res;
  };
  const all = (await listAll(clients.admin, '/api/v1/accounts', 500)).map((a) => a.login);
  for (const l of ROLE_LOGINS) assert.ok(all.includes(l), `admin does not see ${l}`);
  const d = expectStatus(await logins('district1'), 200).json.items.map((a) => a.login);
  assert.ok(!d.includes('admin'), 'district1 lists the city administrator');
  assert.ok(!d.includes('analyst1'), 'district1 lists the city analyst');
  assert.ok(d.includes('school1'), 'district1 should list school1');
  const s = expectStatus(await logins('school1'), 200).json.items.map((a) => a.login);
  for (const x of ['admin', 'district1', 'analyst1']) assert.ok(!s.includes(x), `school1 lists ${x}`);
  assert.ok(s.includes('teacher1'), 'school1 should list teacher1');
  for (const l of READ_ONLY_ROLES) {
    const res = await logins(l);
    assert.ok([200, 403, 404].includes(res.status), `${l} GET /accounts: ${res.status}`);
    if (res.status === 200) {
      const others = res.json.items.map((a) => a.login).filter((x) => x !== l);
      assert.deepEqual(others, [], `${l} lists other accounts`);
    }
  }
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
